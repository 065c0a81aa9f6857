//! The cluster side of monitoring on a live cluster: the [`MonitoringManager`] capability of
//! [`K8sTopology`].
//!
//! Every write is decided first (a live object that already holds the plan is not written),
//! then applied in plan order with server-side apply (field manager `harmony`). OKD's
//! monitoring ConfigMaps belong to the cluster admin: when one exists, its `config.yaml` is
//! merged ([`merge_config`]), Harmony's keys over the admin's, and applied with force since
//! another manager set that key; a `config.yaml` that is not a YAML mapping is refused before
//! anything is written, and so is a vanilla plan on a cluster without prometheus-operator's
//! API group. Nothing is pruned.

use harmony::{InterpretError, Outcome};
use harmony_guardrails::monitoring::okd::{CONFIG_KEY, is_okd_config, merge_config};
use harmony_guardrails::monitoring::{MonitoringManager, MonitoringObject, MonitoringPlan};
use harmony_kube::kinds::{ALERTMANAGER, PROMETHEUS};
use harmony_kube::{Cluster, FIELD_MANAGER, Kind, ObjectRef};
use harmony_tenant::{ClusterFlavor, TenantManager};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use serde_json::Value;

use crate::apply::{Action, Mode, ObjectChange};
use crate::cluster_report::Report;
use crate::compare::{creation, differences};
use crate::topology::K8sTopology;

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

/// `body` with the live `config.yaml` of an OKD monitoring ConfigMap merged in.
fn merged(key: &ObjectRef, mut body: Value, live: &Value) -> Result<Value, InterpretError> {
    let ours = body["data"][CONFIG_KEY].as_str().unwrap_or_default();
    let theirs = live["data"][CONFIG_KEY].as_str().unwrap_or_default();
    let text =
        merge_config(theirs, ours).map_err(|e| InterpretError::Invalid(format!("{key}: {e}")))?;
    body["data"][CONFIG_KEY] = Value::String(text);
    Ok(body)
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
        if let Some(live) = &live
            && is_okd_config(&key.namespace, &key.name)
        {
            body = merged(&key, body, live)?;
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

/// Decides, then applies in plan order.
async fn ensure(
    cluster: &Cluster,
    plan: &MonitoringPlan,
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
        if needs_operator
            && !self
                .cluster()
                .api_groups()
                .await?
                .iter()
                .any(|g| g == PROMETHEUS.group())
        {
            return Err(InterpretError::Invalid(format!(
                "the cluster does not serve {} (Prometheus, Alertmanager): install prometheus-operator and its CRDs first; nothing was written",
                PROMETHEUS.group()
            )));
        }
        let options = self.options;
        let report = ensure(self.cluster(), plan, options.mode, options.force).await?;
        Ok(report.outcome(options.mode))
    }
}
