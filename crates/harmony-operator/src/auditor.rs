//! The `Isolated` condition: the audit's checks, run on the live state as `harmony audit` runs
//! them, for every Tenant whose plan is applied.
//!
//! A tenant's checks look at the whole cluster (no path from any other tenant), so one audit
//! judges every tenant at once. It runs when a reconcile asks for it, once requests have stopped
//! arriving for [`QUIET`] (at most [`MAX_WAIT`] after the first): tenants created or changed in
//! bulk are judged together instead of each re-reading the cluster while the others are applied.
//! Requests that arrive while it runs are served by one more run. Nothing runs while nothing
//! changes.

use crate::self_service::Requests;
use std::sync::Arc;
use std::time::Duration;

use harmony_audit::{AuditConfig, Expectation, LoadError, Status, audit};
use harmony_k8s::InventoryReader;
use harmony_kube::ApiFailure;
use harmony_tenant::connections::matched_connections;
use harmony_tenant::{ClusterFacts, TenantScore};
use kube::api::{Patch, PatchParams};
use kube::runtime::reflector::Store;
use kube::{Api, Resource, ResourceExt};
use serde_json::json;
use tokio::sync::Notify;
use tokio::time::{Instant, sleep_until};

use crate::metrics::Metrics;
use crate::resource::{Condition, ISOLATED, READY, Tenant};

/// The field manager of the `Isolated` condition.
pub const AUDIT_MANAGER: &str = "harmony-operator-audit";

/// How long requests must have stopped arriving before an audit runs.
const QUIET: Duration = Duration::from_secs(1);
/// The longest a requested audit waits for requests to stop (a few hundred tenants created at
/// once are applied within it, so their audit does not compete with their apply).
const MAX_WAIT: Duration = Duration::from_secs(60);

/// Why an audit could not judge the tenants.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// Listing what the audit needs failed (a missing permission is named).
    #[error("reading the cluster for the audit: {0}")]
    Read(#[from] ApiFailure),
    /// An object read could not be loaded.
    #[error("loading the cluster's objects for the audit: {0}")]
    Load(#[from] LoadError),
    /// Writing a Tenant's `Isolated` condition failed.
    #[error("writing the Isolated condition of Tenant `{tenant}`: {source}")]
    Write {
        /// The tenant id.
        tenant: String,
        /// The failed request.
        #[source]
        source: kube::Error,
    },
}

/// Runs the audit on request and writes each judged Tenant's `Isolated` condition.
pub(crate) struct Auditor {
    pub reader: InventoryReader,
    pub facts: ClusterFacts,
    pub tenants: Api<Tenant>,
    pub store: Store<Tenant>,
    pub wanted: Arc<Notify>,
    pub metrics: Arc<Metrics>,
    /// Each tenant's self-service namespaces, as last applied.
    pub(crate) requests: Requests,
}

/// Whether the tenant's current generation is applied, so its live state can be judged.
fn applied(tenant: &Tenant) -> bool {
    tenant.metadata.deletion_timestamp.is_none()
        && tenant.condition(READY).is_some_and(|c| {
            c.status == "True" && c.observed_generation == tenant.metadata.generation
        })
}

impl Auditor {
    /// Audits whenever asked, until the task is dropped.
    pub async fn run(self) {
        loop {
            self.wanted.notified().await;
            self.settle().await;
            if let Err(error) = self.audit_once().await {
                tracing::warn!("{error}");
            }
            crate::memory::release_freed_memory();
            self.metrics.audited();
        }
    }

    /// Waits until no request has arrived for [`QUIET`], or [`MAX_WAIT`] has passed.
    async fn settle(&self) {
        let deadline = Instant::now() + MAX_WAIT;
        loop {
            let quiet = (Instant::now() + QUIET).min(deadline);
            tokio::select! {
                biased;
                () = sleep_until(quiet) => return,
                () = self.wanted.notified() => {}
            }
        }
    }

    /// One audit of every applied tenant.
    #[tracing::instrument(name = "audit", skip_all, fields(tenants))]
    async fn audit_once(&self) -> Result<(), AuditError> {
        let judged: Vec<Arc<Tenant>> = self
            .store
            .state()
            .into_iter()
            .filter(|t| applied(t))
            .collect();
        tracing::Span::current().record("tenants", judged.len());
        if judged.is_empty() {
            return Ok(());
        }
        let inventory = self.reader.read().await?;
        let server = self.reader.cluster().server().to_string();
        let mut snapshot = inventory.into_snapshot(&server)?;
        snapshot.add_platform(&self.facts);
        snapshot.add_placeholder_pods();
        // Each tenant with its self-service namespaces, as last applied.
        let scores: Vec<TenantScore> = judged.iter().map(|t| self.requests.effective(t)).collect();
        let mut config = AuditConfig::new(self.facts.clone());
        // A path both applied sides declare is a declared connection, as the reconciler renders it.
        config.facts.connections = matched_connections(&scores);
        config.expectations.extend(scores.iter().map(|score| {
            (
                score.name().to_string(),
                Expectation::of(score, self.facts.oidc.as_ref()),
            )
        }));
        let report = audit(&snapshot, &config);
        for tenant in &judged {
            let generation = tenant.metadata.generation;
            let rows: Vec<_> = report
                .tenants
                .iter()
                .filter(|r| r.tenant == tenant.name_any())
                .collect();
            let several = rows.len() > 1;
            let failed: Vec<String> = rows
                .iter()
                .flat_map(|row| {
                    row.checks
                        .iter()
                        .filter(|c| c.status == Status::Fail)
                        .map(move |c| match several {
                            true => format!("{} ({}) in {}", c.id, c.title, row.namespace),
                            false => format!("{} ({})", c.id, c.title),
                        })
                })
                .collect();
            let checks: usize = rows.iter().map(|row| row.checks.len()).sum();
            let (status, reason, message) = if rows.is_empty() {
                (
                    "Unknown",
                    "NotFound",
                    "the audit found no namespace labelled for this tenant".to_string(),
                )
            } else if failed.is_empty() {
                (
                    "True",
                    "ChecksPassed",
                    format!("all {checks} checks hold on the live state"),
                )
            } else {
                (
                    "False",
                    "ChecksFailed",
                    format!("failing: {}", failed.join(", ")),
                )
            };
            let condition = Condition {
                type_: ISOLATED.into(),
                status: status.into(),
                reason: reason.into(),
                message,
                observed_generation: generation,
                last_transition_time: String::new(),
            };
            self.write(tenant, condition).await?;
        }
        Ok(())
    }

    /// Writes the `Isolated` condition when it says something new.
    async fn write(&self, tenant: &Tenant, mut condition: Condition) -> Result<(), AuditError> {
        let old = tenant.condition(ISOLATED);
        if old.is_some_and(|old| old.same_as(&condition)) {
            return Ok(());
        }
        condition.last_transition_time = match old {
            Some(old) if old.status == condition.status => old.last_transition_time.clone(),
            _ => jiff::Timestamp::now()
                .round(jiff::Unit::Second)
                .unwrap_or_default()
                .to_string(),
        };
        let name = tenant.name_any();
        let body = json!({
            "apiVersion": Tenant::api_version(&()),
            "kind": Tenant::kind(&()),
            "metadata": {"name": name},
            "status": {"conditions": [condition]},
        });
        self.tenants
            .patch_status(
                &name,
                &PatchParams::apply(AUDIT_MANAGER).force(),
                &Patch::Apply(&body),
            )
            .await
            .map_err(|source| AuditError::Write {
                tenant: name,
                source,
            })?;
        Ok(())
    }
}
