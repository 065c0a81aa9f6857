//! Restore drills: the tenant's latest completed backup restored into a scratch namespace
//! isolated like the tenant's, compared with what was backed up, recorded as an Event (and in
//! the Tenant resource's status when the cluster has one), and the scratch namespace deleted.

use std::time::{Duration, Instant};

use harmony_kube::kinds::TENANT;
use harmony_kube::{Cluster, Kind, ObjectRef};
use harmony_tenant::backup::crd::{Restore, RestoreSpec};
use harmony_tenant::backup::drill::{
    Comparison, DRILL_STATUS_MANAGER, DrillRecord, Inventory, PURPOSE_LABEL, Purpose,
    drill_summary, object_name,
};
use harmony_tenant::{PlanObject, TenantObject, TenantPlan, owned_labels};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{
    ConfigMap, Event, Namespace, PersistentVolumeClaim, Secret, Service, ServiceAccount,
};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use serde::Serialize;
use serde_json::json;

use super::{BackupError, BackupInfo, Backups, failed, stamp, text};

/// The kinds a restore drill compares: what tenants keep in their namespace.
const DRILL_KINDS: [Kind; 13] = [
    Kind::of::<ConfigMap>(),
    Kind::of::<Secret>(),
    Kind::of::<PersistentVolumeClaim>(),
    Kind::of::<ServiceAccount>(),
    Kind::of::<Service>(),
    Kind::of::<Deployment>(),
    Kind::of::<StatefulSet>(),
    Kind::of::<DaemonSet>(),
    Kind::of::<Job>(),
    Kind::of::<CronJob>(),
    Kind::of::<Ingress>(),
    Kind::of::<Role>(),
    Kind::of::<RoleBinding>(),
];

/// What a restore drill found.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DrillReport {
    /// The tenant.
    pub tenant: String,
    /// The backup restored.
    pub backup: String,
    /// The Restore.
    pub restore: String,
    /// The scratch namespace the backup was restored into (deleted afterwards).
    pub scratch_namespace: String,
    /// Velero's phase of the Restore.
    pub phase: String,
    /// Velero's warnings count.
    pub warnings: u64,
    /// What came back, kind by kind.
    pub comparison: Option<Comparison>,
    /// Whether every object backed up came back, at its size.
    pub passed: bool,
    /// Why not, one line each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    /// Whether the scratch namespace is gone.
    pub cleaned_up: bool,
    /// Whether the result was written into the Tenant resource's `status.restoreDrill` (the
    /// cluster serves the Tenant CRD and the Tenant exists).
    pub status_recorded: bool,
}

impl DrillReport {
    /// How many objects came back.
    fn restored(&self) -> usize {
        self.comparison
            .as_ref()
            .map_or(0, |c| c.kinds.iter().map(|k| k.restored).sum())
    }

    /// The drill as the Tenant's status records it, ended at `time`.
    pub fn record(&self, time: &str) -> DrillRecord {
        DrillRecord {
            time: time.into(),
            backup: self.backup.clone(),
            passed: self.passed,
            summary: drill_summary(&self.phase, self.restored(), &self.problems),
        }
    }
}

/// Writes `record` into `status.restoreDrill` of Tenant `tenant` (server-side apply on the status
/// subresource, field manager [`DRILL_STATUS_MANAGER`]); `false`, writing nothing, when the
/// cluster does not serve the Tenant CRD or has no such Tenant.
pub async fn record_drill_status(
    cluster: &Cluster,
    tenant: &str,
    record: &DrillRecord,
) -> Result<bool, BackupError> {
    if cluster.get(TENANT, "", tenant).await?.is_none() {
        return Ok(false);
    }
    let target = ObjectRef {
        kind: TENANT,
        namespace: String::new(),
        name: tenant.into(),
    };
    let body = json!({
        "apiVersion": TENANT.api_version(),
        "kind": TENANT.name(),
        "metadata": {"name": tenant},
        "status": {"restoreDrill": record},
    });
    cluster
        .apply_status(&target, &body, DRILL_STATUS_MANAGER)
        .await?;
    Ok(true)
}

impl Backups<'_> {
    /// Restores the tenant's latest completed backup into a scratch namespace, isolated like the
    /// tenant's (its labels, quota, limits and default-deny policy, from `plan`), waits, compares
    /// what came back with what was backed up, records the result as an Event in the tenant's
    /// namespace and, when the cluster has the tenant's Tenant resource, in its
    /// `status.restoreDrill`, and deletes the scratch namespace.
    ///
    /// An `Err` means the drill could not run; a drill that ran and failed is a report with
    /// `passed: false`.
    pub async fn restore_drill(
        &self,
        plan: &TenantPlan,
        timeout: Duration,
    ) -> Result<DrillReport, BackupError> {
        let tenant = plan.tenant.as_str();
        let schedule = self.schedule(tenant).await?;
        let velero = text(&schedule["metadata"]["namespace"]);
        let location = schedule["spec"]["template"]["storageLocation"]
            .as_str()
            .unwrap_or("default")
            .to_string();
        self.check_location(&velero, &location).await?;
        let latest = self
            .list(tenant)
            .await?
            .into_iter()
            .rev()
            .find(|b| b.phase == "Completed")
            .ok_or(BackupError::NoBackup {
                tenant: tenant.into(),
            })?;
        let source = plan.namespace.as_str();
        let backed_up = self.inventory(source, Some(&latest.started)).await?;
        let scratch = object_name(tenant, Purpose::Drill, &stamp());
        (self.progress)(&format!(
            "restoring backup {} into scratch namespace {scratch}",
            latest.name
        ));
        self.isolate_scratch(plan, &scratch).await?;
        let outcome = self
            .restore_and_compare(
                tenant, &velero, &latest, source, &scratch, &backed_up, timeout,
            )
            .await;
        let cleaned_up = self.remove_scratch(&scratch, timeout).await;
        let mut report = outcome?;
        report.cleaned_up = cleaned_up;
        self.record(plan, &report).await?;
        let ended = jiff::Timestamp::now()
            .round(jiff::Unit::Second)
            .unwrap_or_default()
            .to_string();
        report.status_recorded =
            record_drill_status(self.cluster, tenant, &report.record(&ended)).await?;
        Ok(report)
    }

    #[allow(clippy::too_many_arguments)]
    async fn restore_and_compare(
        &self,
        tenant: &str,
        velero: &str,
        backup: &BackupInfo,
        source: &str,
        scratch: &str,
        backed_up: &Inventory,
        timeout: Duration,
    ) -> Result<DrillReport, BackupError> {
        let mut labels = owned_labels(tenant);
        labels.insert(PURPOSE_LABEL.into(), Purpose::Drill.as_str().into());
        let spec = RestoreSpec {
            backup_name: backup.name.clone(),
            included_namespaces: vec![source.into()],
            namespace_mapping: [(source.to_string(), scratch.to_string())].into(),
            restore_pvs: true,
            existing_resource_policy: "none".into(),
        };
        let target = ObjectRef {
            kind: Kind::of::<Restore>(),
            namespace: velero.into(),
            name: scratch.into(),
        };
        let body = json!({
            "apiVersion": <Restore as k8s_openapi::Resource>::API_VERSION,
            "kind": "Restore",
            "metadata": {"name": scratch, "namespace": velero, "labels": labels},
            "spec": spec,
        });
        self.cluster.apply(&target, &body, false, false).await?;
        let done = self.wait(&target, "Restore", timeout).await?;
        let status = &done["status"];
        let phase = status["phase"].as_str().unwrap_or("New").to_string();
        let mut report = DrillReport {
            tenant: tenant.into(),
            backup: backup.name.clone(),
            restore: scratch.into(),
            scratch_namespace: scratch.into(),
            phase: phase.clone(),
            warnings: status["warnings"].as_u64().unwrap_or(0),
            comparison: None,
            passed: false,
            problems: Vec::new(),
            cleaned_up: false,
            status_recorded: false,
        };
        if phase != "Completed" {
            report.problems.push(failed(&done, "Restore").to_string());
            return Ok(report);
        }
        let restored = self.inventory(scratch, None).await?;
        let comparison = Comparison::of(backed_up, &restored);
        report.passed = comparison.passed();
        report.problems = comparison.problems();
        report.comparison = Some(comparison);
        Ok(report)
    }

    /// The tenant's own objects in `namespace` (created by `created_by`, if given).
    async fn inventory(
        &self,
        namespace: &str,
        created_by: Option<&str>,
    ) -> Result<Inventory, BackupError> {
        let mut inventory = Inventory::default();
        let created_by = created_by.filter(|c| !c.is_empty());
        for kind in DRILL_KINDS {
            let items = self.cluster.list(kind, namespace, "").await?;
            inventory.add(kind.name(), &items, created_by);
        }
        Ok(inventory)
    }

    /// Creates the scratch namespace with the tenant namespace's labels (and a drill label), its
    /// quota, limits and default-deny policy.
    async fn isolate_scratch(&self, plan: &TenantPlan, scratch: &str) -> Result<(), BackupError> {
        for object in plan.objects() {
            let keep = match object {
                TenantObject::Namespace(_)
                | TenantObject::ResourceQuota(_)
                | TenantObject::LimitRange(_) => true,
                TenantObject::NetworkPolicy(p) => {
                    p.metadata.name.as_deref() == Some(harmony_tenant::DEFAULT_DENY_POLICY)
                }
                _ => false,
            };
            if !keep {
                continue;
            }
            let mut body = object.to_json();
            let target = if matches!(object, TenantObject::Namespace(_)) {
                body["metadata"]["name"] = json!(scratch);
                body["metadata"]["labels"][PURPOSE_LABEL] = json!(Purpose::Drill.as_str());
                body["metadata"]["labels"]["kubernetes.io/metadata.name"] = json!(scratch);
                ObjectRef {
                    kind: Kind::of::<Namespace>(),
                    namespace: String::new(),
                    name: scratch.into(),
                }
            } else {
                body["metadata"]["namespace"] = json!(scratch);
                let reference = crate::tenant_kinds::object_ref(object);
                ObjectRef {
                    namespace: scratch.into(),
                    ..reference
                }
            };
            self.cluster.apply(&target, &body, false, false).await?;
        }
        Ok(())
    }

    /// Deletes the scratch namespace and waits for it to go; whether it went.
    async fn remove_scratch(&self, scratch: &str, timeout: Duration) -> bool {
        let namespace = Kind::of::<Namespace>();
        if self
            .cluster
            .delete(namespace, "", scratch, false)
            .await
            .is_err()
        {
            return false;
        }
        let started = Instant::now();
        while started.elapsed() < timeout {
            match self.cluster.get(namespace, "", scratch).await {
                Ok(None) => return true,
                Ok(Some(_)) => tokio::time::sleep(Duration::from_millis(500)).await,
                Err(_) => return false,
            }
        }
        false
    }

    /// An Event on the tenant namespace saying how the drill went.
    async fn record(&self, plan: &TenantPlan, report: &DrillReport) -> Result<(), BackupError> {
        let (reason, kind) = if report.passed {
            ("RestoreDrillPassed", "Normal")
        } else {
            ("RestoreDrillFailed", "Warning")
        };
        let message = format!(
            "restore drill of backup {}: {}",
            report.backup,
            drill_summary(&report.phase, report.restored(), &report.problems)
        );
        let now = jiff::Timestamp::now().to_string();
        let name = format!("{}.drill", report.restore);
        let body = json!({
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": plan.namespace, "labels": owned_labels(&plan.tenant)},
            "involvedObject": {
                "apiVersion": "v1", "kind": "Namespace", "name": plan.namespace, "namespace": plan.namespace,
            },
            "reason": reason,
            "message": message,
            "type": kind,
            "source": {"component": "harmony"},
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        });
        let target = ObjectRef {
            kind: Kind::of::<Event>(),
            namespace: plan.namespace.clone(),
            name,
        };
        self.cluster.apply(&target, &body, false, false).await?;
        Ok(())
    }
}
