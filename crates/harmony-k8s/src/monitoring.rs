//! The cluster side of monitoring on a live cluster: the [`MonitoringManager`] capability of
//! [`K8sTopology`].
//!
//! Every write is decided first (a live object that already holds the plan is not written),
//! then applied in plan order with server-side apply (field manager `harmony`). OKD's
//! monitoring ConfigMaps belong to the cluster admin: when one exists, its `config.yaml` is
//! merged ([`merge_config`]), Harmony's keys over the admin's, and applied with force since
//! another manager set that key; a `config.yaml` that is not a YAML mapping is refused before
//! anything is written, and so is a vanilla plan on a cluster without prometheus-operator's
//! API group. A key Harmony set there and no longer sets is removed from `config.yaml` (see
//! [`merge_config`]); the ConfigMaps themselves are never deleted.
//!
//! Pruned after every write succeeded, in reverse apply order: the objects labelled
//! `app.kubernetes.io/managed-by: harmony` and `app.kubernetes.io/part-of: harmony-monitoring`
//! that the plan no longer holds (say, those of the old namespace after `spec.namespace`
//! changed). An object without those labels is never touched. Never pruned: OKD's monitoring
//! ConfigMaps (the admin's), and a Namespace (deleting it would delete everything in it, Harmony's
//! or not): the output names it so the admin deletes it once it holds nothing of theirs.

use harmony_tenant::PlanObject;
use std::collections::BTreeSet;

use harmony::{InterpretError, Outcome};
use harmony_guardrails::monitoring::okd::{
    CONFIG_KEY, HARMONY_CONFIG_ANNOTATION, is_okd_config, merge_config,
};
use harmony_guardrails::monitoring::{
    MonitoringManager, MonitoringObject, MonitoringPlan, PART_OF, PART_OF_LABEL,
};
use harmony_kube::kinds::{ALERTMANAGER, PROMETHEUS};
use harmony_kube::{Cluster, FIELD_MANAGER, Kind, ObjectRef};
use harmony_tenant::{ClusterFlavor, MANAGED_BY_LABEL, MANAGED_BY_VALUE, TenantManager};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use serde_json::Value;

use crate::apply::{Action, Mode, ObjectChange};
use crate::cluster_report::{Report, text};
use crate::compare::{creation, differences};
use crate::topology::K8sTopology;

/// Every kind of a monitoring plan, in apply order (pruned in reverse).
const KINDS: [Kind; 11] = [
    Kind::of::<Namespace>(),
    Kind::of::<ServiceAccount>(),
    Kind::of::<ClusterRole>(),
    Kind::of::<ClusterRoleBinding>(),
    Kind::of::<NetworkPolicy>(),
    Kind::of::<ConfigMap>(),
    Kind::of::<Secret>(),
    PROMETHEUS,
    ALERTMANAGER,
    Kind::of::<Deployment>(),
    Kind::of::<Service>(),
];

/// Where the API serves `object`.
fn kind_of(object: &MonitoringObject) -> Kind {
    match object {
        MonitoringObject::Namespace(_) => Kind::of::<Namespace>(),
        MonitoringObject::ServiceAccount(_) => Kind::of::<ServiceAccount>(),
        MonitoringObject::ClusterRole(_) => Kind::of::<ClusterRole>(),
        MonitoringObject::ClusterRoleBinding(_) => Kind::of::<ClusterRoleBinding>(),
        MonitoringObject::NetworkPolicy(_) => Kind::of::<NetworkPolicy>(),
        MonitoringObject::ConfigMap(_) => Kind::of::<ConfigMap>(),
        MonitoringObject::Secret(_) => Kind::of::<Secret>(),
        MonitoringObject::Prometheus(_) => PROMETHEUS,
        MonitoringObject::Alertmanager(_) => ALERTMANAGER,
        MonitoringObject::Deployment(_) => Kind::of::<Deployment>(),
        MonitoringObject::Service(_) => Kind::of::<Service>(),
    }
}

/// One decided write.
struct Write {
    key: ObjectRef,
    body: Value,
    force: bool,
    action: Action,
    diff: Vec<crate::FieldDiff>,
}

/// Whether a field manager other than Harmony owns fields of `live`.
fn others_own(live: &Value) -> bool {
    live["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|e| e["manager"].as_str() != Some(FIELD_MANAGER))
}

/// `body` with the live `config.yaml` of an OKD monitoring ConfigMap merged in, and the keys
/// Harmony stopped setting that it removed.
fn merged(
    key: &ObjectRef,
    mut body: Value,
    live: &Value,
) -> Result<(Value, Vec<String>), InterpretError> {
    let ours = body["data"][CONFIG_KEY].as_str().unwrap_or_default();
    let theirs = live["data"][CONFIG_KEY].as_str().unwrap_or_default();
    let previous = live["metadata"]["annotations"][HARMONY_CONFIG_ANNOTATION].as_str();
    let merged = merge_config(theirs, ours, previous)
        .map_err(|e| InterpretError::Invalid(format!("{key}: {e}")))?;
    body["data"][CONFIG_KEY] = Value::String(merged.config);
    Ok((body, merged.removed))
}

/// A Secret's values never reach the output: its `data` differences say only which keys.
fn hide_values(diff: &mut [crate::FieldDiff]) {
    let hidden = || Some(Value::String("(hidden)".into()));
    for d in diff.iter_mut().filter(|d| d.path.starts_with("data.")) {
        d.live = d.live.as_ref().and(hidden());
        d.desired = d.desired.as_ref().and(hidden());
    }
}

/// Decides every write of `plan`, before any is sent.
async fn decide(
    cluster: &Cluster,
    plan: &MonitoringPlan,
    force: bool,
    report: &mut Report,
) -> Result<Vec<Write>, InterpretError> {
    let mut writes = Vec::new();
    for object in plan.objects() {
        let key = ObjectRef {
            kind: kind_of(object),
            namespace: object.namespace().unwrap_or_default().into(),
            name: object.name().into(),
        };
        let live = cluster.get(key.kind, &key.namespace, &key.name).await?;
        let mut body = object.to_json();
        let mut take_over = false;
        let mut removed = Vec::new();
        if let Some(live) = &live
            && is_okd_config(&key.namespace, &key.name)
        {
            (body, removed) = merged(&key, body, live)?;
            take_over = others_own(live);
        }
        let (action, mut diff) = match &live {
            None => (Action::Created, creation(&body)),
            Some(live) => match differences(&body, live) {
                diff if diff.is_empty() => {
                    report.unchanged += 1;
                    continue;
                }
                diff => (Action::Changed, diff),
            },
        };
        if key.kind == Kind::of::<Secret>() {
            hide_values(&mut diff);
        }
        if take_over {
            report.notes.push(format!(
                "merged {key}: {CONFIG_KEY} keeps every key Harmony does not set (taken over with force from the admin's field manager)"
            ));
        }
        if !removed.is_empty() {
            report.notes.push(format!(
                "removed from {key} {CONFIG_KEY}: {} (Harmony set them and no longer does)",
                removed.join(", ")
            ));
        }
        writes.push(Write {
            key,
            body,
            force: force || take_over,
            action,
            diff,
        });
    }
    Ok(writes)
}

/// What a prune decides for one live object Harmony labelled and the plan no longer holds.
#[derive(Debug, PartialEq)]
enum Orphan {
    /// Deleted.
    Prune,
    /// Kept, with the reason for the output.
    Keep(String),
}

/// Whether the orphan `key` is pruned: never an OKD monitoring ConfigMap nor a Namespace.
fn orphan(key: &ObjectRef) -> Orphan {
    if key.kind == Kind::of::<ConfigMap>() && is_okd_config(&key.namespace, &key.name) {
        Orphan::Keep(format!(
            "kept {key}: it belongs to the cluster admin; Harmony never deletes it"
        ))
    } else if key.kind == Kind::of::<Namespace>() {
        Orphan::Keep(format!(
            "kept {key}: Harmony no longer uses it and pruned its objects there; delete it (kubectl delete namespace {}) once it holds nothing of yours",
            key.name
        ))
    } else {
        Orphan::Prune
    }
}

/// The live objects of `kinds` labelled as Harmony's monitoring objects.
async fn labelled(cluster: &Cluster, kinds: &[Kind]) -> Result<Vec<ObjectRef>, InterpretError> {
    let selector = format!("{MANAGED_BY_LABEL}={MANAGED_BY_VALUE},{PART_OF_LABEL}={PART_OF}");
    let mut found = Vec::new();
    for kind in kinds {
        for item in cluster.list(*kind, "", &selector).await? {
            let meta = &item["metadata"];
            found.push(ObjectRef {
                kind: *kind,
                namespace: text(&meta["namespace"]),
                name: text(&meta["name"]),
            });
        }
    }
    Ok(found)
}

/// Deletes, in reverse apply order, the labelled objects the plan no longer holds (of the kinds
/// the cluster serves), except those [`orphan`] keeps.
async fn prune(
    cluster: &Cluster,
    plan: &MonitoringPlan,
    served: &[String],
    mode: Mode,
    report: &mut Report,
) -> Result<(), InterpretError> {
    let planned: BTreeSet<ObjectRef> = plan
        .objects()
        .iter()
        .map(|o| ObjectRef {
            kind: kind_of(o),
            namespace: o.namespace().unwrap_or_default().into(),
            name: o.name().into(),
        })
        .collect();
    let kinds: Vec<Kind> = KINDS
        .into_iter()
        .rev()
        .filter(|k| k.group().is_empty() || served.iter().any(|g| g == k.group()))
        .collect();
    for key in labelled(cluster, &kinds).await? {
        if planned.contains(&key) {
            continue;
        }
        match orphan(&key) {
            Orphan::Keep(note) => report.notes.push(format!("warning: {note}")),
            Orphan::Prune => {
                if mode != Mode::Plan {
                    cluster
                        .delete(key.kind, &key.namespace, &key.name, mode == Mode::DryRun)
                        .await?;
                }
                report.changes.push(ObjectChange {
                    action: Action::Pruned,
                    object: key.to_string(),
                    diff: Vec::new(),
                });
            }
        }
    }
    Ok(())
}

/// Decides, applies in plan order, then prunes.
async fn ensure(
    cluster: &Cluster,
    plan: &MonitoringPlan,
    served: &[String],
    mode: Mode,
    force: bool,
) -> Result<Report, InterpretError> {
    let mut report = Report::default();
    let writes = decide(cluster, plan, force, &mut report).await?;
    // In a dry run, objects of a namespace still to be created cannot be validated: the server
    // refuses them as in a missing namespace.
    let new_namespaces: Vec<String> = writes
        .iter()
        .filter(|w| w.action == Action::Created && w.key.kind == Kind::of::<Namespace>())
        .map(|w| w.key.name.clone())
        .collect();
    let mut skipped = 0;
    for write in writes {
        if mode == Mode::DryRun && new_namespaces.contains(&write.key.namespace) {
            skipped += 1;
        } else if mode != Mode::Plan {
            cluster
                .apply(&write.key, &write.body, write.force, mode == Mode::DryRun)
                .await?;
        }
        report.changes.push(ObjectChange {
            action: write.action,
            object: write.key.to_string(),
            diff: write.diff,
        });
    }
    if skipped > 0 {
        report.notes.push(format!(
            "not validated by the server: {skipped} objects in namespace {} that does not exist yet",
            new_namespaces.join(", ")
        ));
    }
    prune(cluster, plan, served, mode, &mut report).await?;
    Ok(report)
}

#[async_trait::async_trait]
impl MonitoringManager for K8sTopology {
    /// The discovered flavor: OKD when the cluster serves `config.openshift.io`.
    async fn monitoring_flavor(&self) -> Result<ClusterFlavor, InterpretError> {
        Ok(self.cluster_facts().await?.flavor)
    }

    /// Refused before any write when the plan holds prometheus-operator objects and the cluster
    /// does not serve their API group.
    async fn ensure_monitoring(&self, plan: &MonitoringPlan) -> Result<Outcome, InterpretError> {
        let needs_operator = plan.objects().iter().any(|o| {
            matches!(
                o,
                MonitoringObject::Prometheus(_) | MonitoringObject::Alertmanager(_)
            )
        });
        let served = self.cluster().api_groups().await?;
        if needs_operator && !served.iter().any(|g| g == PROMETHEUS.group()) {
            return Err(InterpretError::Invalid(format!(
                "the cluster does not serve {} (Prometheus, Alertmanager): install prometheus-operator and its CRDs first; nothing was written",
                PROMETHEUS.group()
            )));
        }
        let options = self.options;
        let report = ensure(self.cluster(), plan, &served, options.mode, options.force).await?;
        Ok(report.outcome(options.mode))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kind: Kind, namespace: &str, name: &str) -> ObjectRef {
        ObjectRef {
            kind,
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    #[test]
    fn the_admins_config_maps_and_namespaces_are_never_pruned() {
        for (namespace, name) in [
            ("openshift-monitoring", "cluster-monitoring-config"),
            (
                "openshift-user-workload-monitoring",
                "user-workload-monitoring-config",
            ),
        ] {
            let kept = orphan(&key(Kind::of::<ConfigMap>(), namespace, name));
            assert!(matches!(kept, Orphan::Keep(note) if note.contains("cluster admin")));
        }
        let kept = orphan(&key(Kind::of::<Namespace>(), "", "old-monitoring"));
        assert!(
            matches!(&kept, Orphan::Keep(note) if note.contains("kubectl delete namespace old-monitoring")),
            "{kept:?}"
        );
        for pruned in [
            key(Kind::of::<ConfigMap>(), "old-monitoring", "harmony-query"),
            key(Kind::of::<ConfigMap>(), "openshift-monitoring", "other"),
            key(PROMETHEUS, "old-monitoring", "harmony"),
            key(
                Kind::of::<ClusterRole>(),
                "",
                "old-monitoring-metrics-reader",
            ),
        ] {
            assert_eq!(orphan(&pruned), Orphan::Prune, "{pruned}");
        }
    }
}
