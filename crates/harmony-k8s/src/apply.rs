//! Applying one tenant plan: phase by phase in isolate-before-grant order, writing only what
//! differs, then pruning what the tenant owns and no longer wants.

use harmony_tenant::PlanObject;
use std::collections::{BTreeMap, BTreeSet};

use harmony_tenant::{Phase, TENANT_LABEL, TenantPlan};
use serde::Serialize;
use serde_json::Value;

use harmony_kube::{ApiFailure, Cluster, FailureKind, Kind, ObjectRef};
use k8s_openapi::api::core::v1::Namespace;

use crate::adopt::{Adoption, unlisted_namespace};
use crate::compare::{FieldDiff, creation, differences};
use crate::snapshot::Snapshot;
use crate::tenant_kinds::{ISOLATING_KINDS, TENANT_KINDS, object_ref};

/// Whether writes are sent, sent as server-side dry runs, or only planned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Write for real.
    #[default]
    Apply,
    /// Send every write with `dryRun=All`: the server validates (admission included), stores nothing.
    DryRun,
    /// Compare only: no write is sent.
    Plan,
}

/// How to apply.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApplyOptions {
    /// Apply, dry run or plan.
    pub mode: Mode,
    /// Take over fields owned by other field managers (`force=true`).
    pub force: bool,
}

/// What happened (or would happen) to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Created.
    Created,
    /// Changed to match the plan.
    Changed,
    /// Deleted: the tenant owned it and no longer wants it.
    Pruned,
}

/// One object that was (or would be) written, with its field differences.
#[derive(Debug, Clone, Serialize)]
pub struct ObjectChange {
    /// What was done.
    pub action: Action,
    /// `Kind namespace/name`.
    pub object: String,
    /// The fields that differ (empty for pruned objects).
    pub diff: Vec<FieldDiff>,
}

/// What applying one tenant did, object by object.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TenantReport {
    /// The tenant id.
    pub tenant: String,
    /// Objects created.
    pub created: usize,
    /// Objects changed.
    pub changed: usize,
    /// Objects already as planned.
    pub unchanged: usize,
    /// Objects pruned.
    pub pruned: usize,
    /// The writes, in the order they were decided.
    pub changes: Vec<ObjectChange>,
    /// The namespaces taken over (`spec.adoptNamespaces`), with what access they kept.
    pub adopted: Vec<Adoption>,
    /// Why the tenant failed, if it did.
    pub error: Option<String>,
    /// The resourceVersion the server answered for each object written (by `Kind
    /// namespace/name`): a later apply answered the same version changed nothing.
    #[serde(skip)]
    pub versions: BTreeMap<String, String>,
}

impl TenantReport {
    fn record(&mut self, action: Action, object: &ObjectRef, diff: Vec<FieldDiff>) {
        match action {
            Action::Created => self.created += 1,
            Action::Changed => self.changed += 1,
            Action::Pruned => self.pruned += 1,
        }
        self.changes.push(ObjectChange {
            action,
            object: object.to_string(),
            diff,
        });
    }

    /// Takes out the writes the server answered with the version it answered for the same
    /// object in an earlier apply (`earlier`, its [`Self::versions`]): nothing changed the
    /// object since, and this write did not either (its first write was taken for missing by a
    /// snapshot taken before it showed). They count as unchanged.
    pub fn drop_repeats(&mut self, earlier: &BTreeMap<String, String>) {
        let versions = &self.versions;
        let (mut created, mut changed) = (0, 0);
        self.changes.retain(|change| {
            let repeat = versions
                .get(&change.object)
                .is_some_and(|v| earlier.get(&change.object) == Some(v));
            match change.action {
                Action::Created if repeat => created += 1,
                Action::Changed if repeat => changed += 1,
                _ => return true,
            }
            false
        });
        self.created -= created;
        self.changed -= changed;
        self.unchanged += created + changed;
    }

    /// Whether anything was (or would be) written.
    pub fn wrote(&self) -> bool {
        !self.changes.is_empty()
    }
}

/// One decided write.
struct Write {
    target: ObjectRef,
    body: Value,
    action: Action,
    diff: Vec<FieldDiff>,
}

/// Applies `plan`: each phase's differing objects are applied (concurrently within the phase) and
/// must all be accepted before the next phase starts; the first failure stops the tenant, so
/// access is never granted when isolation failed. Then the tenant's objects that are no longer
/// planned are deleted, access first, except in self-service namespaces the plan does not hold.
/// Namespaces are never pruned (that is `delete`'s job).
pub async fn apply_plan(
    cluster: &Cluster,
    snapshot: &Snapshot,
    plan: &TenantPlan,
    options: ApplyOptions,
    report: &mut TenantReport,
) -> Result<(), ApiFailure> {
    report.tenant.clone_from(&plan.tenant);
    let mut namespace_missing = false;
    for (phase, objects) in plan.phases() {
        let mut writes = Vec::new();
        for object in objects {
            let target = object_ref(object);
            let body = object.to_json();
            let live = match snapshot.get(cluster, &target).await? {
                None if phase == Phase::Namespace => {
                    let (live, adoption) = unlisted_namespace(cluster, &target, plan)
                        .await
                        .map_err(|failure| stopped_at(failure, phase, &plan.tenant))?;
                    report.adopted.extend(adoption);
                    live
                }
                live => live,
            };
            if let Some(other) = live.as_ref().and_then(|l| another_tenant(l, &plan.tenant)) {
                return Err(stopped_at(taken(&target, other), phase, &plan.tenant));
            }
            let (action, diff) = match live {
                None => (Action::Created, creation(&body)),
                Some(live) => match differences(&body, &live) {
                    diff if diff.is_empty() => {
                        report.unchanged += 1;
                        continue;
                    }
                    diff => (Action::Changed, diff),
                },
            };
            if phase == Phase::Namespace && action == Action::Created {
                namespace_missing = true;
            }
            writes.push(Write {
                target,
                body,
                action,
                diff,
            });
        }
        let skip_requests = options.mode == Mode::Plan
            || (options.mode == Mode::DryRun && namespace_missing && phase != Phase::Namespace);
        if skip_requests {
            for w in writes {
                report.record(w.action, &w.target, w.diff);
            }
            continue;
        }
        write_phase(cluster, snapshot, writes, options, report)
            .await
            .map_err(|failure| stopped_at(failure, phase, &plan.tenant))?;
    }
    prune(cluster, snapshot, plan, options, report).await
}

async fn write_phase(
    cluster: &Cluster,
    snapshot: &Snapshot,
    writes: Vec<Write>,
    options: ApplyOptions,
    report: &mut TenantReport,
) -> Result<(), ApiFailure> {
    let dry_run = options.mode == Mode::DryRun;
    // Each write is recorded in the snapshot as its response comes, not once the phase is done.
    let results = futures::future::join_all(writes.iter().map(|w| async move {
        let stored = cluster
            .apply(&w.target, &w.body, options.force, dry_run)
            .await?;
        let version = stored["metadata"]["resourceVersion"]
            .as_str()
            .map(str::to_string);
        if !dry_run {
            snapshot.stored(&w.target, stored);
        }
        Ok::<_, ApiFailure>(version)
    }))
    .await;
    let mut first_failure = None;
    for (write, result) in writes.into_iter().zip(results) {
        match result {
            Ok(version) => {
                if let (false, Some(version)) = (dry_run, version) {
                    report.versions.insert(write.target.to_string(), version);
                }
                report.record(write.action, &write.target, write.diff);
            }
            Err(failure) => {
                first_failure.get_or_insert(failure);
            }
        }
    }
    first_failure.map_or(Ok(()), Err)
}

/// The tenant other than `tenant` that the live object `live` is labelled for, if any.
fn another_tenant<'a>(live: &'a Value, tenant: &str) -> Option<&'a str> {
    live["metadata"]["labels"][TENANT_LABEL]
        .as_str()
        .filter(|owner| *owner != tenant)
}

/// The refusal to write `target`, which Harmony manages for tenant `other`: another tenant's
/// object is never taken over (a namespace may still hold that tenant's workloads and data, say
/// after that tenant moved to another namespace).
fn taken(target: &ObjectRef, other: &str) -> ApiFailure {
    ApiFailure {
        kind: FailureKind::Conflict,
        message: format!(
            "{target} belongs to tenant `{other}` (label {TENANT_LABEL}: {other}) and may still \
             hold its workloads and data: choose another name, or delete it first if tenant \
             `{other}` no longer needs it"
        ),
    }
}

fn stopped_at(failure: ApiFailure, phase: Phase, tenant: &str) -> ApiFailure {
    let later = if phase.grants_access() {
        String::new()
    } else {
        "; the phases after it were not applied, so no access was granted".into()
    };
    ApiFailure {
        kind: failure.kind,
        message: format!(
            "{} (tenant `{tenant}` stopped at phase {}{later}; run again once fixed)",
            failure.message,
            serde_json::to_value(phase)
                .unwrap_or_default()
                .as_str()
                .unwrap_or_default()
        ),
    }
}

/// Deletes, access first, the objects labelled for this tenant that the plan no longer holds,
/// except the isolation ([`ISOLATING_KINDS`]) of a namespace the tenant left: that namespace
/// stays, with the workloads and data that ran there, so it stays isolated until it is deleted.
async fn prune(
    cluster: &Cluster,
    snapshot: &Snapshot,
    plan: &TenantPlan,
    options: ApplyOptions,
    report: &mut TenantReport,
) -> Result<(), ApiFailure> {
    let planned: BTreeSet<ObjectRef> = plan.objects().iter().map(object_ref).collect();
    // A self-service namespace the plan does not hold (the tenant file's plan never does) is the
    // operator's to keep or release: its objects stay.
    let unplanned_self_service: BTreeSet<String> = snapshot
        .self_service_namespaces(cluster, &plan.tenant)
        .await?
        .into_iter()
        .filter(|ns| !plan.namespaces.contains(ns))
        .collect();
    let namespace = Kind::of::<Namespace>();
    for kind in TENANT_KINDS.iter().rev().filter(|k| **k != namespace) {
        for target in snapshot.owned_by(cluster, *kind, &plan.tenant).await? {
            let left = !target.namespace.is_empty() && !plan.namespaces.contains(&target.namespace);
            if planned.contains(&target)
                || unplanned_self_service.contains(&target.namespace)
                || (left && ISOLATING_KINDS.contains(kind))
            {
                continue;
            }
            if options.mode != Mode::Plan {
                let dry_run = options.mode == Mode::DryRun;
                cluster
                    .delete(target.kind, &target.namespace, &target.name, dry_run)
                    .await?;
                if !dry_run {
                    snapshot.removed(&target);
                }
            }
            report.record(Action::Pruned, &target, Vec::new());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(action: Action, object: &str) -> ObjectChange {
        ObjectChange {
            action,
            object: object.into(),
            diff: Vec::new(),
        }
    }

    #[test]
    fn a_write_answered_with_the_version_of_an_earlier_one_is_no_news() {
        let mut report = TenantReport {
            created: 2,
            changed: 1,
            pruned: 1,
            unchanged: 5,
            changes: vec![
                change(Action::Created, "RoleBinding acme/member-alice"),
                change(Action::Created, "RoleBinding acme/member-ci"),
                change(Action::Changed, "ResourceQuota acme/quota"),
                change(Action::Pruned, "RoleBinding acme/member-bob"),
            ],
            versions: [
                ("RoleBinding acme/member-alice", "17"),
                ("RoleBinding acme/member-ci", "19"),
                ("ResourceQuota acme/quota", "21"),
            ]
            .map(|(o, v)| (o.to_string(), v.to_string()))
            .into(),
            ..TenantReport::default()
        };
        // alice's binding was stored at 17 by the earlier apply; ci's was recreated since (18
        // then); the quota was not written then; bob's was.
        let earlier = [
            ("RoleBinding acme/member-alice", "17"),
            ("RoleBinding acme/member-ci", "18"),
            ("RoleBinding acme/member-bob", "12"),
        ]
        .map(|(o, v)| (o.to_string(), v.to_string()))
        .into();
        report.drop_repeats(&earlier);
        let left: Vec<&str> = report.changes.iter().map(|c| c.object.as_str()).collect();
        assert_eq!(
            left,
            [
                "RoleBinding acme/member-ci",
                "ResourceQuota acme/quota",
                "RoleBinding acme/member-bob"
            ]
        );
        assert_eq!(
            (
                report.created,
                report.changed,
                report.pruned,
                report.unchanged
            ),
            (1, 1, 1, 6)
        );
        // Nothing earlier: everything is news.
        let before = report.changes.len();
        report.drop_repeats(&BTreeMap::new());
        assert_eq!(report.changes.len(), before);
    }
}
