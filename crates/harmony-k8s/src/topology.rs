//! `K8sTopology`: the live-cluster adapter of the `TenantManager` and `TenantRemover`
//! capabilities.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use harmony::{InterpretError, Outcome, Topology};
use harmony_tenant::connections::MatchedConnection;
use harmony_tenant::{
    ClusterFacts, DeleteError, DeleteOptions, DeleteReport, ExternalAccess, TenantManager,
    TenantPlan, TenantRemover,
};
use tokio::sync::OnceCell;
use tracing::Instrument;

use crate::apply::{ApplyOptions, Mode, TenantReport, apply_plan};
use crate::delete::{delete_tenant, release_namespace};
use crate::facts::{FactsSource, discover};
use crate::snapshot::Snapshot;
use crate::status::{TenantStatus, tenant_status};
use harmony_kube::Cluster;

/// A live Kubernetes or OKD cluster, written with server-side apply (field manager `harmony`).
///
/// Each run (each [`Topology::ensure_ready`]) reads what Harmony manages afresh, one list per kind
/// for all tenants; tenants of a run may be ensured concurrently.
pub struct K8sTopology {
    cluster: Cluster,
    source: FactsSource,
    pub(crate) options: ApplyOptions,
    facts: OnceCell<ClusterFacts>,
    connections: Vec<MatchedConnection>,
    snapshot: Mutex<Arc<Snapshot>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl K8sTopology {
    /// A topology for `cluster`, whose facts are discovered and completed by `source`.
    pub fn new(cluster: Cluster, source: FactsSource, options: ApplyOptions) -> Self {
        Self {
            cluster,
            source,
            options,
            facts: OnceCell::new(),
            connections: Vec::new(),
            snapshot: Mutex::new(Arc::new(Snapshot::new())),
        }
    }

    /// Sets the two-sided connections of the tenants of this run, which the discovered facts
    /// cannot know ([`harmony_tenant::connections::matched_connections`]).
    pub fn set_connections(&mut self, connections: Vec<MatchedConnection>) {
        self.connections = connections;
    }

    /// The connected cluster.
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    /// The status of tenants (see [`tenant_status`]).
    pub async fn status(
        &self,
        tenants: &[String],
        plans: &[TenantPlan],
    ) -> Result<Vec<TenantStatus>, InterpretError> {
        tenant_status(&self.cluster, tenants, plans).await
    }

    /// Releases the self-service namespace `namespace` of `tenant` whose request is gone: refused
    /// ([`DeleteError::DataHeld`]) while PersistentVolumeClaims hold data there; otherwise its
    /// RoleBindings and ServiceAccounts go first, then the namespace, waited for up to `timeout`.
    /// Returns the access revoked.
    pub async fn release_namespace(
        &self,
        tenant: &str,
        namespace: &str,
        timeout: std::time::Duration,
    ) -> Result<Vec<String>, DeleteError> {
        release_namespace(&self.cluster, tenant, namespace, timeout)
            .instrument(tracing::info_span!("tenant", name = tenant))
            .await
    }
}

#[async_trait::async_trait]
impl Topology for K8sTopology {
    fn name(&self) -> String {
        format!("cluster ({})", self.cluster.server())
    }

    /// Checks the API answers with these credentials, discovers the facts (once) and starts a
    /// fresh snapshot of what Harmony manages.
    async fn ensure_ready(&self) -> Result<(), InterpretError> {
        self.cluster.version().await?;
        self.cluster_facts().await?;
        *lock(&self.snapshot) = Arc::new(Snapshot::new());
        Ok(())
    }
}

#[async_trait::async_trait]
impl TenantManager for K8sTopology {
    async fn cluster_facts(&self) -> Result<ClusterFacts, InterpretError> {
        let mut facts = self
            .facts
            .get_or_try_init(|| discover(&self.cluster, &self.source))
            .await?
            .clone();
        facts.connections.clone_from(&self.connections);
        Ok(facts)
    }

    /// Applies the plan (in a `tenant` tracing span); the outcome carries the [`TenantReport`],
    /// also when the tenant stopped partway ([`InterpretError::Stopped`]).
    async fn ensure_tenant(&self, plan: &TenantPlan) -> Result<Outcome, InterpretError> {
        let snapshot = Arc::clone(&lock(&self.snapshot));
        let mut report = TenantReport::default();
        let result = apply_plan(&self.cluster, &snapshot, plan, self.options, &mut report)
            .instrument(tracing::info_span!("tenant", name = %plan.tenant))
            .await;
        if let Err(failure) = &result {
            report.error = Some(failure.message.clone());
        }
        let outcome = outcome(report, self.options.mode);
        match result {
            Ok(()) => Ok(outcome),
            Err(failure) => Err(InterpretError::Stopped {
                error: Box::new(failure.into()),
                done: Box::new(outcome),
            }),
        }
    }
}

#[async_trait::async_trait]
impl TenantRemover for K8sTopology {
    /// Deletes the tenant (in a `tenant` tracing span).
    async fn delete_tenant(
        &self,
        tenant: &str,
        options: DeleteOptions,
        outside: Option<&dyn ExternalAccess>,
    ) -> Result<DeleteReport, DeleteError> {
        delete_tenant(&self.cluster, tenant, options, outside)
            .instrument(tracing::info_span!("tenant", name = tenant))
            .await
    }
}

/// What `report` says for people (counts, each adoption, one detail per write), with the report
/// attached.
fn outcome(report: TenantReport, mode: Mode) -> Outcome {
    let adopt = if mode == Mode::Apply {
        "adopted"
    } else {
        "would adopt"
    };
    let details: Vec<String> = report
        .adopted
        .iter()
        .map(|a| format!("{adopt} {a}"))
        .chain(report.changes.iter().map(|c| {
            format!(
                "{} {}",
                serde_json::to_value(c.action)
                    .unwrap_or_default()
                    .as_str()
                    .unwrap_or_default(),
                c.object
            )
        }))
        .collect();
    let counts = format!(
        "{} created, {} changed, {} unchanged, {} pruned",
        report.created, report.changed, report.unchanged, report.pruned
    );
    let verb = if mode == Mode::Apply { "" } else { "would be " };
    if report.wrote() {
        Outcome::changed(format!("{verb}{counts}"), details)
    } else {
        Outcome::unchanged(counts, details)
    }
    .with_report(report)
}
