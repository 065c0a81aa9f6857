//! Reconciling one Tenant: validate, revoke removed members' access held outside the cluster,
//! compile, apply isolate-before-grant through the library (the same plan and apply as `harmony
//! tenant apply`), write the status, and on deletion revoke access first and hold while data would
//! be lost.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use harmony_k8s::{ApplyOptions, K8sTopology, Snapshot, TenantReport, apply::apply_plan};
use harmony_kube::{ApiFailure, Cluster};
use harmony_tenant::{
    BackupStatus, ClusterFacts, DeleteError, DeleteOptions, ExternalAccess, Hint, MonitoringStatus,
    RevokeError, RevokeMode, RevokedAccess, TenantRemover, TenantScore, compile,
    cross_tenant_conflicts,
};
use kube::api::{Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::runtime::finalizer::{self, finalizer};
use kube::runtime::reflector::Store;
use kube::{Api, Resource, ResourceExt};
use serde_json::json;
use tokio::sync::{Notify, watch};

use crate::connections::matched;
use crate::controller::REDISCOVERY;
use crate::echoes::Echoes;
use crate::events::{Events, Said};
use crate::owned::{Monitoring, Owned};
use crate::repeats::Stored;
use crate::resource::{Condition, DELETING, FINALIZER, ISOLATED, READY, Tenant, TenantStatus};
use crate::schedules::Velero;
use crate::self_service::Requests;
use crate::validated::{Validated, digest};
use crate::written::Written;

/// The field manager of the status the reconciler writes.
pub const STATUS_MANAGER: &str = "harmony-operator";

/// How long a deletion waits for the namespace to finish terminating before trying again later.
const NAMESPACE_TIMEOUT: Duration = Duration::from_secs(60);

/// The least time between two status writes of a Tenant when only its quota use changed: the
/// quota controller fills a new namespace's use after the first status write, and those writes
/// would compete with the applies of a bulk creation (at 10 s, 500 Tenants created at once took
/// 0.3 to 0.4 more status writes each before all were Ready). The last change is written once
/// this time has passed: a use figure at most 30 s old, like a metrics scrape.
pub(crate) const QUOTA_REFRESH: Duration = Duration::from_secs(30);

/// Why a reconcile failed; each keeps its source.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The API refused or failed a write of the plan.
    #[error("tenant `{tenant}`: {source}")]
    Apply {
        /// The tenant id.
        tenant: String,
        /// The failed request.
        #[source]
        source: ApiFailure,
    },
    /// Revoking removed members' access held outside the cluster failed; nothing was applied.
    #[error("tenant `{tenant}`: revoking removed members' access: {source}")]
    Revoke {
        /// The tenant id.
        tenant: String,
        /// What the access held outside the cluster said.
        #[source]
        source: RevokeError,
    },
    /// Deleting the tenant failed or was refused.
    #[error("deleting tenant `{tenant}`: {}", .source.explain(spec_advice))]
    Delete {
        /// The tenant id.
        tenant: String,
        /// What the library said.
        #[source]
        source: DeleteError,
    },
    /// Writing the Tenant's status or finalizer failed.
    #[error("writing Tenant `{tenant}`: {source}")]
    Write {
        /// The tenant id.
        tenant: String,
        /// The failed request.
        #[source]
        source: kube::Error,
    },
    /// Releasing a self-service namespace whose request is gone failed.
    #[error("tenant `{tenant}`: releasing namespace {namespace}: {source}")]
    Release {
        /// The tenant id.
        tenant: String,
        /// The namespace.
        namespace: String,
        /// What the library said.
        #[source]
        source: DeleteError,
    },
    /// The caches of owned objects stopped before they were filled.
    #[error("the watch caches of owned objects stopped before they were filled")]
    Caches,
    /// Adding or removing the finalizer failed, or the reconcile inside it did.
    #[error(transparent)]
    Finalizer(#[from] Box<finalizer::Error<Error>>),
}

impl Error {
    /// Whether the error is a deletion held because PersistentVolumeClaims hold data.
    fn data_held(&self) -> bool {
        match self {
            Self::Delete { source, .. } => source.hint() == Some(Hint::DeleteData),
            Self::Finalizer(inner) => {
                matches!(&**inner, finalizer::Error::CleanupFailed(e) if e.data_held())
            }
            _ => false,
        }
    }
}

/// What every reconcile shares.
pub struct Context {
    /// The cluster, as the library's apply takes it.
    pub(crate) cluster: Cluster,
    /// The same cluster as the tenant removal capability.
    pub(crate) topology: K8sTopology,
    /// Access to tenants held outside the cluster (VPN peers), revoked first on deletion and, for
    /// members removed from a spec, before their RoleBindings are pruned.
    pub(crate) outside: Option<Arc<dyn ExternalAccess>>,
    /// The Tenant API.
    pub(crate) tenants: Api<Tenant>,
    /// The Tenants as last seen.
    pub(crate) store: Store<Tenant>,
    /// The owned objects as last seen.
    pub(crate) owned: Owned,
    /// The requests for self-service namespaces as last seen.
    pub(crate) requests: Requests,
    /// The facts tenants are compiled against.
    pub(crate) facts: ClusterFacts,
    /// Publishes Kubernetes Events on Tenants.
    pub(crate) events: Events,
    /// Asks the auditor for a fresh verdict.
    pub(crate) audit: Arc<Notify>,
    /// Turns `true` once every cache of owned objects holds its first full list.
    pub(crate) synced: watch::Receiver<bool>,
    /// Each Tenant's score, validated once per generation.
    pub(crate) valid: Validated,
    /// When each Tenant's status was last written, to space out quota-only refreshes.
    pub(crate) status_written: Mutex<HashMap<String, Instant>>,
    /// Each Tenant as this process last wrote it, for a reconcile handed an older copy.
    pub(crate) written: Arc<Written>,
    /// What each tenant's applies stored, so a write repeated from a stale snapshot is no news.
    pub(crate) stored: Stored,
    /// The apply's writes until their watch events come back, which then trigger nothing.
    pub(crate) echoes: Arc<Echoes>,
}

/// What a status write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StatusWrite {
    /// The status already said it all.
    Unchanged,
    /// It was written.
    Written,
    /// Only the quota use changed, and it was written.
    QuotaWritten,
    /// Only the quota use changed, and the last write is recent: write it after this long.
    Deferred(Duration),
}

impl StatusWrite {
    fn written(self) -> bool {
        matches!(self, Self::Written | Self::QuotaWritten)
    }
}

/// Reconciles one Tenant (with its finalizer): idempotent, safe to run again at any time.
#[tracing::instrument(
    name = "reconcile",
    skip_all,
    fields(tenant = %tenant.name_any(), version = tenant.resource_version().unwrap_or_default())
)]
pub async fn reconcile(tenant: Arc<Tenant>, ctx: Arc<Context>) -> Result<Action, Error> {
    ctx.synced
        .clone()
        .wait_for(|synced| *synced)
        .await
        .map_err(|_| Error::Caches)?;
    if ctx.owned.monitoring() == Monitoring::Starting || ctx.owned.velero() == Velero::Starting {
        // Every Tenant is reconciled once the monitoring and Schedule caches are filled; until
        // then a plan would not see the objects that exist. This retry covers a watch that fails.
        tracing::debug!("waiting for the monitoring or Schedule watches to fill");
        return Ok(Action::requeue(Duration::from_secs(5)));
    }
    let api = ctx.tenants.clone();
    let tenant = ctx.with_finalizer(ctx.written.latest(tenant)).await?;
    finalizer(&api, FINALIZER, tenant, |event| async {
        match event {
            finalizer::Event::Apply(tenant) => ctx.apply(&tenant).await,
            finalizer::Event::Cleanup(tenant) => ctx.cleanup(&tenant).await,
        }
    })
    .await
    .map_err(|e| Error::Finalizer(Box::new(e)))
}

/// When to try again after `error`: a held deletion every minute (the PVCs may be gone), anything
/// else after a few seconds.
pub fn error_policy(tenant: Arc<Tenant>, error: &Error, _: Arc<Context>) -> Action {
    if error.data_held() {
        tracing::info!(tenant = %tenant.name_any(), "{error}");
        Action::requeue(Duration::from_secs(60))
    } else {
        tracing::warn!(tenant = %tenant.name_any(), "{error}");
        Action::requeue(Duration::from_secs(5))
    }
}

/// The problems of `tenant` alone and against the other Tenants: those created before it, and,
/// once it has been edited, the newer ones already accepted (an edit of an older Tenant does not
/// take what a newer one holds; a newer Tenant was checked against its first generation). A
/// connection to a Tenant not (yet) in the cluster is none: it is not rendered, and `Ready` says
/// so.
fn problems(tenant: &Tenant, score: &TenantScore, ctx: &Context) -> Vec<String> {
    if ctx.valid.score(tenant, &ctx.facts).is_none() {
        return score
            .validate(&ctx.facts)
            .iter()
            .map(|p| format!("{}: {}", p.path, p.message))
            .collect();
    }
    let _one = ctx.valid.one_at_a_time();
    let state = ctx.store.state();
    let others = state
        .iter()
        .filter(|t| t.metadata.name != tenant.metadata.name);
    // A newer Tenant accepted after this generation was checked against it: once clean against
    // the older ones, this generation stays clean until one of them changes.
    let against = digest(others.clone().filter(|t| older(t, tenant)));
    if ctx.valid.clean(tenant, against) {
        return Vec::new();
    }
    let edited = tenant.metadata.generation.is_some_and(|g| g > 1);
    let mut compared: Vec<&Arc<Tenant>> = others
        .filter(|t| older(t, tenant) || (edited && ctx.valid.accepted(t)))
        .collect();
    compared.sort_by(|a, b| order_key(a).cmp(&order_key(b)));
    let mut scores: Vec<Arc<TenantScore>> = compared
        .iter()
        .filter_map(|t| ctx.valid.score(t, &ctx.facts))
        .collect();
    scores.push(Arc::new(score.clone()));
    let refs: Vec<&TenantScore> = scores.iter().map(|s| &**s).collect();
    let last = refs.len() - 1;
    let shown: Vec<String> = cross_tenant_conflicts(&refs)
        .into_iter()
        .filter(|p| p.tenant == last)
        .map(|p| {
            let other = p
                .other
                .map(|(i, path)| format!(" (Tenant `{}` has it at {path})", scores[i].name()))
                .unwrap_or_default();
            format!("{}: {}{other}", p.problem.path, p.problem.message)
        })
        .collect();
    if shown.is_empty() {
        ctx.valid.mark_clean(tenant, against);
    }
    shown
}

/// The `Ready` reason of a Tenant with identity provider members while the operator has no
/// IdentityProvider file (`--idp`).
const NO_IDENTITY_PROVIDER: &str = "NoIdentityProvider";

/// Why an invalid Tenant is refused: [`NO_IDENTITY_PROVIDER`] when it has `oidc` members and the
/// operator no `--idp` (whatever else is wrong), `Invalid` otherwise.
fn invalid_reason(score: &TenantScore, facts: &ClusterFacts) -> &'static str {
    let oidc = score.rbac_config.members.iter().any(|m| m.oidc.is_some());
    if oidc && facts.oidc.is_none() {
        NO_IDENTITY_PROVIDER
    } else {
        "Invalid"
    }
}

fn order_key(tenant: &Tenant) -> (Option<k8s_openapi::jiff::Timestamp>, &str) {
    (
        tenant.metadata.creation_timestamp.as_ref().map(|t| t.0),
        tenant.metadata.name.as_deref().unwrap_or_default(),
    )
}

/// Whether `a` came before `b`: created earlier, or at the same second with a smaller name.
fn older(a: &Tenant, b: &Tenant) -> bool {
    order_key(a) < order_key(b)
}

pub(crate) fn condition(
    kind: &str,
    status: bool,
    reason: &str,
    message: String,
    generation: i64,
) -> Condition {
    Condition {
        type_: kind.into(),
        status: if status { "True" } else { "False" }.into(),
        reason: reason.into(),
        message,
        observed_generation: Some(generation),
        last_transition_time: String::new(),
    }
}

/// What the `Ready` condition adds when the plan holds no monitoring objects: why.
fn monitoring_note(status: MonitoringStatus) -> Option<String> {
    match status {
        MonitoringStatus::On => None,
        MonitoringStatus::Disabled => Some(format!("monitoring {}", status.describe())),
        MonitoringStatus::NotServed => Some(format!(
            "monitoring off: the cluster does not serve monitoring.coreos.com/v1 and /v1beta1 \
             (install prometheus-operator or OKD monitoring; the operator notices within {} s)",
            REDISCOVERY.as_secs()
        )),
    }
}

/// What the `Ready` condition adds when the plan holds no backup Schedule: why.
fn backup_note(status: BackupStatus, velero: &Velero) -> Option<String> {
    match (status, velero) {
        (BackupStatus::On, _) => None,
        (BackupStatus::Disabled, _) => Some(format!("backups {}", status.describe())),
        (BackupStatus::NotServed, Velero::Denied { namespace, reason }) => Some(format!(
            "backups off: the operator cannot watch Schedules in Velero's namespace \
             {namespace} ({reason}); apply `harmony operator install --velero-namespace \
             {namespace}`'s Role and RoleBinding there"
        )),
        (BackupStatus::NotServed, _) => Some(format!(
            "backups off: the cluster does not serve velero.io/v1 (install Velero or OADP; the \
             operator notices within {} s)",
            REDISCOVERY.as_secs()
        )),
    }
}

/// A grant revoked outside the cluster, as Events list it: `VPN peer tenant/member`.
fn described(access: &RevokedAccess) -> String {
    format!("{} {}/{}", access.kind, access.tenant, access.member)
}

/// A delete error's hint, worded as what to do on a Tenant resource.
fn spec_advice(hint: Hint) -> &'static str {
    match hint {
        Hint::DeleteData => "set spec.deletion.deleteData: true to delete them with the tenant",
        Hint::LongerTimeout => "wait: the operator tries again every few seconds",
    }
}

/// The adoptions and changes of a report, in one line short enough for an Event note (1 kB).
/// The `Applied` Event's note: the counts, the objects as far as 1,000 characters allow, then
/// `tail` (a note said once, such as why monitoring is off) whole.
fn summary(report: &TenantReport, tail: Option<&str>) -> String {
    let tail = tail.map(|t| format!(" {t}")).unwrap_or_default();
    let mut line = format!(
        "{} created, {} changed, {} pruned:",
        report.created, report.changed, report.pruned
    );
    let adoptions = report.adopted.iter().map(|a| format!(" adopted {a};"));
    let changes = report.changes.iter().map(|change| {
        let action = serde_json::to_value(change.action).unwrap_or_default();
        format!(
            " {} {};",
            action.as_str().unwrap_or_default(),
            change.object
        )
    });
    for item in adoptions.chain(changes) {
        if line.len() + item.len() + tail.len() > 1000 {
            line.push_str(" ...");
            break;
        }
        line.push_str(&item);
    }
    line + &tail
}

impl Context {
    /// The Tenant with the finalizer added (unless it is being deleted), as stored: the reconcile
    /// that adds it goes on to apply, where the finalizer helper alone would stop and wait for
    /// the change to come back through the watch.
    async fn with_finalizer(&self, tenant: Arc<Tenant>) -> Result<Arc<Tenant>, Error> {
        if tenant.metadata.deletion_timestamp.is_some()
            || tenant.finalizers().iter().any(|f| f == FINALIZER)
        {
            return Ok(tenant);
        }
        let name = tenant.name_any();
        let mut finalizers = tenant.finalizers().to_vec();
        finalizers.push(FINALIZER.into());
        // The resourceVersion makes the write fail rather than drop a finalizer added meanwhile.
        let patch = json!({"metadata": {
            "finalizers": finalizers,
            "resourceVersion": tenant.resource_version(),
        }});
        let stored = self
            .tenants
            .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map_err(|source| Error::Write {
                tenant: name,
                source,
            })?;
        self.written.wrote(&tenant, stored.clone());
        Ok(Arc::new(stored))
    }

    /// Validates, revokes removed members' access held outside the cluster (once per generation),
    /// applies through the library, and writes `Ready`, the quota and the members.
    async fn apply(&self, tenant: &Tenant) -> Result<Action, Error> {
        let name = tenant.name_any();
        let generation = tenant.metadata.generation.unwrap_or_default();
        let score = tenant.score();
        let problems = problems(tenant, &score, self);
        if !problems.is_empty() {
            let mut message = format!("nothing applied: {}", problems.join("; "));
            let reason = invalid_reason(&score, &self.facts);
            if reason == NO_IDENTITY_PROVIDER {
                message.push_str(
                    "; the operator runs without --idp: give it the IdentityProvider file \
                     (`harmony operator install --idp FILE` renders it mounted)",
                );
            }
            let ready = condition(READY, false, reason, message.clone(), generation);
            if self
                .write_status(tenant, vec![ready], None, true)
                .await?
                .written()
            {
                self.event(tenant, EventType::Warning, reason, "Validate", message)
                    .await;
            }
            return Ok(Action::await_change());
        }
        self.revoke_removed_members(tenant, &score).await?;
        let facts = ClusterFacts {
            monitoring_api: self.owned.monitoring() == Monitoring::Watched,
            velero_namespace: self.owned.velero().namespace().map(str::to_string),
            connections: matched(&score, &self.store, &self.valid, &self.facts),
            ..self.facts.clone()
        };
        let decided = self.self_service(tenant, &score, &facts).await?;
        let score = &decided.granted.tenant;
        let plan = compile(score, &facts);
        let echoes = Arc::clone(&self.echoes);
        let snapshot = Snapshot::of(self.owned.objects_of(&name, &plan.namespaces))
            .telling(Arc::new(move |target, stored| echoes.wrote(target, stored)));
        let mut report = TenantReport::default();
        // The Tenant is the source of truth: fields another manager took (a `kubectl edit`, say)
        // are taken back.
        let options = ApplyOptions {
            force: true,
            ..ApplyOptions::default()
        };
        let applied = apply_plan(&self.cluster, &snapshot, &plan, options, &mut report).await;
        self.stored.news_only(&mut report);
        let monitoring = monitoring_note(plan.monitoring);
        // Why monitoring is off is said once, when `Ready` starts saying it: in the Event of the
        // writes when there is one, else in its own Event below.
        let unsaid = monitoring.as_ref().filter(|note| {
            plan.monitoring == MonitoringStatus::NotServed
                && applied.is_ok()
                && !tenant
                    .condition(READY)
                    .is_some_and(|old| old.message.contains(note.as_str()))
        });
        // The Event of the writes is published while the status is written.
        let note = report
            .wrote()
            .then(|| summary(&report, unsaid.map(String::as_str)));
        let told = note.is_some();
        let announce = async {
            if let Some(note) = note {
                self.event(tenant, EventType::Normal, "Applied", "Apply", note)
                    .await;
            }
        };
        if let Err(failure) = applied {
            self.write_requests(&decided, false).await;
            let ready = condition(
                READY,
                false,
                "ApplyFailed",
                failure.message.clone(),
                generation,
            );
            let ((), wrote) =
                tokio::join!(announce, self.write_status(tenant, vec![ready], None, true));
            if wrote?.written() {
                self.event(
                    tenant,
                    EventType::Warning,
                    "ApplyFailed",
                    "Apply",
                    failure.message.clone(),
                )
                .await;
            }
            return Err(Error::Apply {
                tenant: name,
                source: failure,
            });
        }
        self.requests.applied(score);
        self.write_requests(&decided, true).await;
        let objects = plan.objects().len();
        let namespaces = score.namespaces();
        let mut message = match namespaces.as_slice() {
            [one] => format!("{objects} objects as planned in namespace {one}"),
            all => format!(
                "{objects} objects as planned in namespaces {}",
                all.join(", ")
            ),
        };
        let backups = backup_note(plan.backup, &self.owned.velero());
        let held = decided.held.iter().map(|(namespace, claims)| {
            format!(
                "namespace {namespace} held: its NamespaceRequest is gone but \
                 PersistentVolumeClaims hold data ({}); delete them to release it",
                claims.join(", ")
            )
        });
        let notes: Vec<String> = monitoring
            .iter()
            .chain(&backups)
            .chain(&plan.unmatched_connections)
            .cloned()
            .chain(held)
            .collect();
        for note in &notes {
            message.push_str("; ");
            message.push_str(note);
        }
        let ready = condition(READY, true, "Applied", message, generation);
        let ((), wrote) = tokio::join!(
            announce,
            self.write_status(tenant, vec![ready], Some(score), true)
        );
        let wrote = wrote?;
        if let (true, false, Some(note)) = (wrote.written(), told, unsaid) {
            self.event(
                tenant,
                EventType::Normal,
                "MonitoringOff",
                "Apply",
                note.clone(),
            )
            .await;
        }
        // The audit judges the live state: ask for it when that state or the tenant changed (a
        // new quota use changes neither).
        let judged = tenant
            .condition(ISOLATED)
            .is_some_and(|c| c.observed_generation == tenant.metadata.generation);
        if report.wrote() || wrote == StatusWrite::Written || !judged {
            self.audit.notify_one();
        }
        Ok(match wrote {
            StatusWrite::Deferred(after) => Action::requeue(after),
            _ => Action::await_change(),
        })
    }

    /// Revokes the access held outside the cluster of members no longer in the spec, before the
    /// apply prunes their RoleBindings. A member removal bumps the generation, so this runs only
    /// while the current one is unobserved; a failure leaves it unobserved, to be retried.
    async fn revoke_removed_members(
        &self,
        tenant: &Tenant,
        score: &TenantScore,
    ) -> Result<(), Error> {
        let Some(outside) = &self.outside else {
            return Ok(());
        };
        let observed = tenant.status.as_ref().and_then(|s| s.observed_generation);
        if observed == tenant.metadata.generation {
            return Ok(());
        }
        match outside
            .revoke_removed_members(std::slice::from_ref(score), RevokeMode::Revoke)
            .await
        {
            Ok(revoked) if revoked.is_empty() => Ok(()),
            Ok(revoked) => {
                let list: Vec<String> = revoked.iter().map(described).collect();
                let note = format!("revoked {}", list.join(", "));
                self.event(tenant, EventType::Normal, "Revoked", "Revoke", note)
                    .await;
                Ok(())
            }
            Err(source) => {
                let message = source.to_string();
                let generation = tenant.metadata.generation.unwrap_or_default();
                let ready = condition(READY, false, "RevokeFailed", message.clone(), generation);
                if self
                    .write_status(tenant, vec![ready], None, false)
                    .await?
                    .written()
                {
                    self.event(
                        tenant,
                        EventType::Warning,
                        "RevokeFailed",
                        "Revoke",
                        message,
                    )
                    .await;
                }
                Err(Error::Revoke {
                    tenant: tenant.name_any(),
                    source,
                })
            }
        }
    }

    /// Revokes access first (held outside the cluster, then RoleBindings), then removes the rest;
    /// holds while PersistentVolumeClaims hold data and `spec.deletion.deleteData` is not set.
    async fn cleanup(&self, tenant: &Tenant) -> Result<Action, Error> {
        let name = tenant.name_any();
        let generation = tenant.metadata.generation.unwrap_or_default();
        let options = DeleteOptions {
            delete_data: tenant.spec.deletion.delete_data,
            timeout: NAMESPACE_TIMEOUT,
        };
        match self
            .topology
            .delete_tenant(&name, options, self.outside.as_deref())
            .await
        {
            Ok(report) => {
                self.valid.forget(&name);
                self.requests.forget(&name);
                self.written.forget(&name);
                self.stored.forget(&name);
                self.status_written
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .remove(&name);
                let revoked: Vec<String> = report
                    .revoked_elsewhere
                    .iter()
                    .map(described)
                    .chain(report.revoked.iter().cloned())
                    .collect();
                let mut note = format!("revoked {}", revoked.join(", "));
                if !report.data_deleted.is_empty() {
                    note.push_str(&format!(
                        "; data deleted: {}",
                        report.data_deleted.join(", ")
                    ));
                }
                if let Some(namespace) = &report.namespace {
                    note.push_str(&format!("; namespace {namespace} deleted"));
                }
                self.event(tenant, EventType::Normal, "Deleted", "Delete", note)
                    .await;
                Ok(Action::await_change())
            }
            Err(source) => {
                let reason = match source.hint() {
                    Some(Hint::DeleteData) => "DataHeld",
                    _ => "DeleteFailed",
                };
                let message = source.explain(spec_advice);
                let deleting = condition(DELETING, true, reason, message.clone(), generation);
                let ready = condition(
                    READY,
                    false,
                    "Deleting",
                    "the tenant is being deleted".into(),
                    generation,
                );
                if self
                    .write_status(tenant, vec![ready, deleting], None, true)
                    .await?
                    .written()
                {
                    self.event(tenant, EventType::Warning, reason, "Delete", message)
                        .await;
                }
                Err(Error::Delete {
                    tenant: name,
                    source,
                })
            }
        }
    }

    /// Writes the reconciler's part of the status (server-side apply, its own field manager, so
    /// the auditor's `Isolated` stays), with the current generation `observed` or the last one
    /// kept; a change of the quota use alone waits until [`QUOTA_REFRESH`] after the last write.
    async fn write_status(
        &self,
        tenant: &Tenant,
        mut conditions: Vec<Condition>,
        applied: Option<&TenantScore>,
        observed: bool,
    ) -> Result<StatusWrite, Error> {
        let name = tenant.name_any();
        let current = tenant.status.clone().unwrap_or_default();
        let ready = conditions
            .iter()
            .any(|c| c.type_ == READY && c.status == "True");
        let status = TenantStatus {
            observed_generation: if observed {
                tenant.metadata.generation
            } else {
                current.observed_generation
            },
            namespace: applied.map(|score| score.namespace().to_string()),
            namespaces: applied
                .filter(|score| {
                    score.namespaces().len() > 1 || score.allows_self_service_namespaces()
                })
                .map(|score| score.namespaces().into_iter().map(String::from).collect())
                .unwrap_or_default(),
            namespace_limit: applied
                .filter(|score| score.allows_self_service_namespaces())
                .map(|score| i64::try_from(score.namespace_limit()).unwrap_or(i64::MAX)),
            // One RoleBinding per member, as applied.
            members: applied
                .filter(|_| ready)
                .map(|score| i64::try_from(score.rbac_config.members.len()).unwrap_or(i64::MAX)),
            quota: if ready {
                self.owned.quota_of(&name)
            } else {
                Vec::new()
            },
            conditions: Vec::new(),
            // The restore drill's record is its own manager's: left out, it stays as written.
            restore_drill: None,
        };
        let now = jiff::Timestamp::now()
            .round(jiff::Unit::Second)
            .unwrap_or_default();
        for c in &mut conditions {
            c.last_transition_time = match tenant.condition(&c.type_) {
                Some(old) if old.status == c.status => old.last_transition_time.clone(),
                _ => now.to_string(),
            };
        }
        let same_but_quota = status.observed_generation == current.observed_generation
            && status.namespace == current.namespace
            && status.namespaces == current.namespaces
            && status.namespace_limit == current.namespace_limit
            && status.members == current.members
            && conditions
                .iter()
                .all(|c| tenant.condition(&c.type_).is_some_and(|old| old.same_as(c)))
            && current
                .conditions
                .iter()
                .filter(|c| c.type_ == READY || c.type_ == DELETING)
                .all(|old| conditions.iter().any(|c| c.type_ == old.type_));
        if same_but_quota {
            if status.quota == current.quota {
                return Ok(StatusWrite::Unchanged);
            }
            if let Some(last) = self.last_status_write(&name) {
                let since = last.elapsed();
                if since < QUOTA_REFRESH {
                    return Ok(StatusWrite::Deferred(QUOTA_REFRESH - since));
                }
            }
        }
        let status = TenantStatus {
            conditions,
            ..status
        };
        let body = json!({
            "apiVersion": Tenant::api_version(&()),
            "kind": Tenant::kind(&()),
            "metadata": {"name": name},
            "status": status,
        });
        let stored = self
            .tenants
            .patch_status(
                &name,
                &PatchParams::apply(STATUS_MANAGER).force(),
                &Patch::Apply(&body),
            )
            .await
            .map_err(|source| Error::Write {
                tenant: name.clone(),
                source,
            })?;
        self.written.wrote(tenant, stored);
        self.status_written
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name, Instant::now());
        Ok(if same_but_quota {
            StatusWrite::QuotaWritten
        } else {
            StatusWrite::Written
        })
    }

    /// When the status of Tenant `name` was last written by this process.
    fn last_status_write(&self, name: &str) -> Option<Instant> {
        self.status_written
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
            .copied()
    }

    /// Publishes an Event on the Tenant; a failure to publish is logged, never fatal.
    pub(crate) async fn event(
        &self,
        tenant: &Tenant,
        type_: EventType,
        reason: &str,
        action: &str,
        note: String,
    ) {
        let said = Said {
            type_,
            reason,
            action,
            note,
        };
        if let Err(e) = self.events.publish(said, &tenant.object_ref(&())).await {
            tracing::warn!(tenant = %tenant.name_any(), "could not publish an Event: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use harmony_k8s::{Action, ObjectChange};

    #[test]
    fn the_applied_event_keeps_a_note_said_once_whole_after_a_long_list_of_writes() {
        let changes: Vec<ObjectChange> = (0..40)
            .map(|i| ObjectChange {
                action: Action::Created,
                object: format!("NetworkPolicy acme/allow-{i}"),
                diff: Vec::new(),
            })
            .collect();
        let report = TenantReport {
            created: changes.len(),
            changes,
            ..TenantReport::default()
        };
        let off = monitoring_note(MonitoringStatus::NotServed).unwrap();
        let note = summary(&report, Some(&off));
        // The API refuses an Event whose note passes 1,024 bytes.
        assert!(note.len() <= 1024, "{}", note.len());
        assert!(
            note.starts_with(
                "40 created, 0 changed, 0 pruned: created NetworkPolicy acme/allow-0;"
            ) && note.ends_with(&format!(" ... {off}")),
            "{note}"
        );
        let alone = summary(&report, None);
        let listed = |note: &str| note.matches("created NetworkPolicy").count();
        assert!(
            listed(&alone) > listed(&note) && alone.ends_with(" ..."),
            "{alone}"
        );
    }

    #[test]
    fn the_ready_message_says_why_backups_are_off() {
        assert_eq!(
            backup_note(BackupStatus::On, &Velero::Watched("velero".into())),
            None
        );
        let off = backup_note(BackupStatus::NotServed, &Velero::NotServed).unwrap();
        assert!(
            off.starts_with("backups off: the cluster does not serve velero.io/v1"),
            "{off}"
        );
        let denied = Velero::Denied {
            namespace: "velero".into(),
            reason: "forbidden".into(),
        };
        let off = backup_note(BackupStatus::NotServed, &denied).unwrap();
        assert!(
            off.contains("cannot watch Schedules in Velero's namespace velero (forbidden)")
                && off.contains("--velero-namespace velero"),
            "{off}"
        );
        let off = backup_note(BackupStatus::Disabled, &denied).unwrap();
        assert_eq!(
            off,
            "backups off: the tenant file sets spec.backup.enabled: false"
        );
    }
}
