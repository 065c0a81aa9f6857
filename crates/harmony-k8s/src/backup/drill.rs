//! Restore drills: the tenant's latest completed backup restored into scratch namespaces (one per
//! namespace of the tenant) isolated like the tenant's, compared with what was backed up, recorded
//! as an Event (and in the Tenant resource's status when the cluster has one), and the scratch
//! namespaces deleted.

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
    /// The scratch namespace the tenant's (first) namespace was restored into (deleted
    /// afterwards).
    pub scratch_namespace: String,
    /// Every namespace of the tenant with the scratch namespace it was restored into.
    pub scratch_namespaces: Vec<ScratchNamespace>,
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

/// One namespace of the tenant and where the drill restored it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScratchNamespace {
    /// The tenant's namespace.
    pub source: String,
    /// The scratch namespace.
    pub scratch: String,
}

/// Each of `namespaces` with its scratch namespace: `base` for a single one, `base-1`, `base-2`
/// ... (shortened to a namespace name's 63 characters) for several.
fn scratch_namespaces(namespaces: &[String], base: &str) -> Vec<ScratchNamespace> {
    match namespaces {
        [one] => vec![ScratchNamespace {
            source: one.clone(),
            scratch: base.into(),
        }],
        all => all
            .iter()
            .enumerate()
            .map(|(i, source)| {
                let suffix = format!("-{}", i + 1);
                let keep = base.len().min(63 - suffix.len());
                ScratchNamespace {
                    source: source.clone(),
                    scratch: format!("{}{suffix}", &base[..keep]),
                }
            })
            .collect(),
    }
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
        let restore = object_name(tenant, Purpose::Drill, &stamp());
        let scratch = scratch_namespaces(&plan.namespaces, &restore);
        let backed_up = self
            .inventory(&scratch, |ns| &ns.source, Some(&latest.started))
            .await?;
        let names: Vec<&str> = scratch.iter().map(|ns| ns.scratch.as_str()).collect();
        (self.progress)(&format!(
            "restoring backup {} into scratch namespace{} {}",
            latest.name,
            if names.len() == 1 { "" } else { "s" },
            names.join(", ")
        ));
        for ns in &scratch {
            self.isolate_scratch(plan, ns).await?;
        }
        let outcome = self
            .restore_and_compare(
                tenant, &velero, &latest, &restore, &scratch, &backed_up, timeout,
            )
            .await;
        let mut cleaned_up = true;
        for ns in &scratch {
            cleaned_up &= self.remove_scratch(&ns.scratch, timeout).await;
        }
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
        restore: &str,
        scratch: &[ScratchNamespace],
        backed_up: &Inventory,
        timeout: Duration,
    ) -> Result<DrillReport, BackupError> {
        let mut labels = owned_labels(tenant);
        labels.insert(PURPOSE_LABEL.into(), Purpose::Drill.as_str().into());
        let spec = RestoreSpec {
            backup_name: backup.name.clone(),
            included_namespaces: scratch.iter().map(|ns| ns.source.clone()).collect(),
            namespace_mapping: scratch
                .iter()
                .map(|ns| (ns.source.clone(), ns.scratch.clone()))
                .collect(),
            restore_pvs: true,
            existing_resource_policy: "none".into(),
        };
        let target = ObjectRef {
            kind: Kind::of::<Restore>(),
            namespace: velero.into(),
            name: restore.into(),
        };
        let body = json!({
            "apiVersion": <Restore as k8s_openapi::Resource>::API_VERSION,
            "kind": "Restore",
            "metadata": {"name": restore, "namespace": velero, "labels": labels},
            "spec": spec,
        });
        self.cluster.apply(&target, &body, false, false).await?;
        let done = self.wait(&target, "Restore", timeout).await?;
        let status = &done["status"];
        let phase = status["phase"].as_str().unwrap_or("New").to_string();
        let mut report = DrillReport {
            tenant: tenant.into(),
            backup: backup.name.clone(),
            restore: restore.into(),
            scratch_namespace: scratch[0].scratch.clone(),
            scratch_namespaces: scratch.to_vec(),
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
        let restored = self.inventory(scratch, |ns| &ns.scratch, None).await?;
        let comparison = Comparison::of(backed_up, &restored);
        report.passed = comparison.passed();
        report.problems = comparison.problems();
        report.comparison = Some(comparison);
        Ok(report)
    }

    /// The tenant's own objects in the namespaces `read` picks of `scratch` (created by
    /// `created_by`, if given). With several namespaces, each object is named
    /// `<tenant namespace>/<name>`, so the two sides of a drill compare by the tenant's
    /// namespaces.
    async fn inventory(
        &self,
        scratch: &[ScratchNamespace],
        read: impl Fn(&ScratchNamespace) -> &String,
        created_by: Option<&str>,
    ) -> Result<Inventory, BackupError> {
        let mut inventory = Inventory::default();
        let created_by = created_by.filter(|c| !c.is_empty());
        for ns in scratch {
            for kind in DRILL_KINDS {
                let items = self.cluster.list(kind, read(ns), "").await?;
                let named = (scratch.len() > 1).then_some(ns.source.as_str());
                inventory.add(kind.name(), &items, created_by, named);
            }
        }
        Ok(inventory)
    }

    /// Creates the scratch namespace of `ns` with the labels of the tenant namespace it stands
    /// for (and a drill label), its quota, limits and default-deny policy.
    async fn isolate_scratch(
        &self,
        plan: &TenantPlan,
        ns: &ScratchNamespace,
    ) -> Result<(), BackupError> {
        let scratch = ns.scratch.as_str();
        for object in plan.objects() {
            let mut body = object.to_json();
            let of_source = match object {
                TenantObject::Namespace(_) => body["metadata"]["name"] == ns.source.as_str(),
                _ => body["metadata"]["namespace"] == ns.source.as_str(),
            };
            if !of_source {
                continue;
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_namespace_is_restored_into_the_drill_name_several_into_numbered_ones() {
        let one = scratch_namespaces(&["acme".into()], "acme-drill-20261203211500");
        assert_eq!(one[0].scratch, "acme-drill-20261203211500");
        let tenant = "a".repeat(40);
        let base = object_name(&tenant, Purpose::Drill, "20261203211500");
        assert_eq!(base.len(), 61);
        let several = scratch_namespaces(&["dev".into(), "prod".into()], &base);
        let names: Vec<(&str, usize)> = several
            .iter()
            .map(|n| (n.source.as_str(), n.scratch.len()))
            .collect();
        assert_eq!(names, [("dev", 63), ("prod", 63)]);
        assert!(several[0].scratch.ends_with("-1") && several[1].scratch.ends_with("-2"));
        assert_ne!(several[0].scratch, several[1].scratch);
    }
}
