//! A tenant's Velero backups on a live cluster: taking one now (and the final one of an
//! offboarding), listing them, the schedule's status, and restore drills. Velero's objects live
//! in Velero's namespace, found from the tenant's Schedule (labelled with the tenant).
//!
//! Every wait polls with a timeout and reports progress; a failure says what to fix. The pure
//! parts (names, what a drill compares) are in [`harmony_tenant::backup::drill`].

use std::time::{Duration, Instant};

use harmony_kube::{ApiFailure, Cluster, FailureKind, Kind, ObjectRef};
use harmony_tenant::backup::crd::{Backup, BackupStorageLocation, Restore, RestoreSpec, Schedule};
use harmony_tenant::backup::drill::{Comparison, Inventory, PURPOSE_LABEL, Purpose, object_name};
use harmony_tenant::backup::schedule_name;
use harmony_tenant::{
    MANAGED_BY_LABEL, MANAGED_BY_VALUE, PlanObject, TENANT_LABEL, TenantObject, TenantPlan,
    owned_labels,
};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{
    ConfigMap, Event, Namespace, PersistentVolumeClaim, Secret, Service, ServiceAccount,
};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use serde::Serialize;
use serde_json::{Value, json};

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

/// The phases in which Velero is done with a Backup or Restore; every other one (New, Queued,
/// ReadyToStart, InProgress, WaitingForPluginOperations..., Finalizing...) still moves on.
const ENDED: [&str; 5] = [
    "Completed",
    "PartiallyFailed",
    "Failed",
    "FailedValidation",
    "Deleting",
];

/// Velero's label naming the Schedule a Backup belongs to.
const SCHEDULE_NAME_LABEL: &str = "velero.io/schedule-name";

/// Why a backup, a drill or a final backup could not be done.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The cluster does not serve `velero.io`.
    #[error(
        "the cluster runs no Velero (velero.io/v1 is not served), so tenant `{tenant}` has no \
         backups: install Velero (or OADP on OKD)"
    )]
    NoVelero {
        /// The tenant.
        tenant: String,
    },
    /// The tenant has no Schedule.
    #[error(
        "tenant `{tenant}` has no backup Schedule (`{schedule}` with its labels in Velero's \
         namespace): apply the tenant file with `spec.backup.enabled: true` (the default) first"
    )]
    NoSchedule {
        /// The tenant.
        tenant: String,
        /// The Schedule looked for.
        schedule: String,
    },
    /// The BackupStorageLocation the backups go to does not exist.
    #[error(
        "backup location `{location}` does not exist in namespace `{namespace}`: create it \
         (`velero backup-location create {location} --provider aws --bucket BUCKET ...`) or set \
         spec.backup.storageLocation to one that `velero backup-location get` lists"
    )]
    NoLocation {
        /// Its name.
        location: String,
        /// Velero's namespace.
        namespace: String,
    },
    /// The BackupStorageLocation is not available.
    #[error(
        "backup location `{location}` in `{namespace}` is {phase}{message}: Velero cannot reach \
         its object store; fix the location (`velero backup-location get {location} -n \
         {namespace}`) and run again"
    )]
    LocationUnavailable {
        /// Its name.
        location: String,
        /// Velero's namespace.
        namespace: String,
        /// Its phase, such as `Unavailable`.
        phase: String,
        /// Velero's message, `: ...`, if any.
        message: String,
    },
    /// The tenant has no completed backup to restore.
    #[error(
        "tenant `{tenant}` has no completed backup to restore: take one with `harmony tenant \
         backup now {tenant}`"
    )]
    NoBackup {
        /// The tenant.
        tenant: String,
    },
    /// Velero finished the backup or restore without completing it.
    #[error(
        "{kind} `{name}` ended {phase}{reason}: see `velero {verb} describe {name} --details -n {namespace}`"
    )]
    Failed {
        /// `Backup` or `Restore`.
        kind: &'static str,
        /// `backup` or `restore` (Velero's CLI verb).
        verb: &'static str,
        /// Its name.
        name: String,
        /// Velero's namespace.
        namespace: String,
        /// Its last phase.
        phase: String,
        /// `: reason`, errors and warnings.
        reason: String,
    },
    /// Velero did not finish in time.
    #[error(
        "{kind} `{name}` did not complete within {}s (still {phase}): is the Velero server running \
         and its location reachable? (`velero {verb} describe {name} -n {namespace}`)",
        waited.as_secs()
    )]
    Timeout {
        /// `Backup` or `Restore`.
        kind: &'static str,
        /// `backup` or `restore`.
        verb: &'static str,
        /// Its name.
        name: String,
        /// Velero's namespace.
        namespace: String,
        /// Its last phase (`New` when Velero never picked it up).
        phase: String,
        /// How long it was waited for.
        waited: Duration,
    },
    /// A request failed.
    #[error(transparent)]
    Api(#[from] ApiFailure),
}

/// A Backup of the tenant, as Velero reports it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupInfo {
    /// Its name.
    pub name: String,
    /// Velero's namespace.
    pub namespace: String,
    /// `scheduled`, `manual`, `final` or `drill`.
    pub purpose: String,
    /// Velero's phase: New, InProgress, Completed, PartiallyFailed, Failed, ...
    pub phase: String,
    /// When it started (RFC 3339).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub started: String,
    /// When it completed.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub completed: String,
    /// When Velero deletes it.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub expires: String,
    /// Items backed up.
    pub items: u64,
    /// Errors Velero counted.
    pub errors: u64,
    /// Warnings Velero counted.
    pub warnings: u64,
}

impl BackupInfo {
    fn of(backup: &Value) -> Self {
        let meta = &backup["metadata"];
        let status = &backup["status"];
        let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
        let purpose = match meta["labels"][PURPOSE_LABEL].as_str() {
            Some(p) => p.to_string(),
            None => "scheduled".into(),
        };
        Self {
            name: text(&meta["name"]),
            namespace: text(&meta["namespace"]),
            purpose,
            phase: status["phase"].as_str().unwrap_or("New").to_string(),
            started: text(&status["startTimestamp"]),
            completed: text(&status["completionTimestamp"]),
            expires: text(&status["expiration"]),
            items: status["progress"]["itemsBackedUp"].as_u64().unwrap_or(0),
            errors: status["errors"].as_u64().unwrap_or(0),
            warnings: status["warnings"].as_u64().unwrap_or(0),
        }
    }
}

/// The tenant's Schedule and its backups.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupStatusReport {
    /// The tenant.
    pub tenant: String,
    /// The Schedule's name.
    pub schedule: String,
    /// Velero's namespace.
    pub namespace: String,
    /// The cron expression.
    pub cron: String,
    /// Velero's phase of the Schedule: Enabled, FailedValidation, ...
    pub phase: String,
    /// Velero's validation errors of the Schedule.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub validation_errors: Vec<String>,
    /// When the Schedule last created a backup.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub last_backup: String,
    /// The tenant's latest backup.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest: Option<BackupInfo>,
    /// The tenant's latest completed backup.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_completed: Option<BackupInfo>,
}

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
}

/// Backups, drills and final backups of tenants on one cluster.
pub struct Backups<'a> {
    cluster: &'a Cluster,
    progress: &'a (dyn Fn(&str) + Sync),
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

fn tenant_selector(tenant: &str) -> String {
    format!("{MANAGED_BY_LABEL}={MANAGED_BY_VALUE},{TENANT_LABEL}={tenant}")
}

/// Now as `yyyyMMddHHmmss` (UTC), the suffix of the names Harmony gives.
fn stamp() -> String {
    jiff::Timestamp::now().strftime("%Y%m%d%H%M%S").to_string()
}

impl<'a> Backups<'a> {
    /// Backups on `cluster`, saying what they wait for through `progress` (one line at a time).
    pub fn new(cluster: &'a Cluster, progress: &'a (dyn Fn(&str) + Sync)) -> Self {
        Self { cluster, progress }
    }

    /// The tenant's Schedule, found by its labels in any namespace.
    async fn schedule(&self, tenant: &str) -> Result<Value, BackupError> {
        let found = self
            .cluster
            .list(Kind::of::<Schedule>(), "", &tenant_selector(tenant))
            .await
            .map_err(|failure| match failure.kind {
                FailureKind::NotFound => BackupError::NoVelero {
                    tenant: tenant.into(),
                },
                _ => failure.into(),
            })?;
        let name = schedule_name(tenant);
        found
            .into_iter()
            .find(|s| s["metadata"]["name"] == name.as_str())
            .ok_or(BackupError::NoSchedule {
                tenant: tenant.into(),
                schedule: name,
            })
    }

    /// Fails unless the storage location exists and Velero last found it available.
    async fn check_location(&self, namespace: &str, location: &str) -> Result<(), BackupError> {
        let Some(live) = self
            .cluster
            .get(Kind::of::<BackupStorageLocation>(), namespace, location)
            .await?
        else {
            return Err(BackupError::NoLocation {
                location: location.into(),
                namespace: namespace.into(),
            });
        };
        let phase = live["status"]["phase"]
            .as_str()
            .unwrap_or("not yet validated");
        if phase == "Available" {
            return Ok(());
        }
        let message = live["status"]["message"]
            .as_str()
            .map(|m| format!(": {m}"))
            .unwrap_or_default();
        Err(BackupError::LocationUnavailable {
            location: location.into(),
            namespace: namespace.into(),
            phase: phase.into(),
            message,
        })
    }

    /// Takes a backup of `tenant` now, as its Schedule's template says (its namespace, volumes,
    /// location and retention), and waits up to `timeout` for Velero to complete it.
    pub async fn backup_now(
        &self,
        tenant: &str,
        purpose: Purpose,
        timeout: Duration,
    ) -> Result<BackupInfo, BackupError> {
        let schedule = self.schedule(tenant).await?;
        let namespace = text(&schedule["metadata"]["namespace"]);
        let template = &schedule["spec"]["template"];
        self.check_location(
            &namespace,
            template["storageLocation"].as_str().unwrap_or("default"),
        )
        .await?;
        let name = object_name(tenant, purpose, &stamp());
        let mut labels = owned_labels(tenant);
        labels.insert(PURPOSE_LABEL.into(), purpose.as_str().into());
        labels.insert(SCHEDULE_NAME_LABEL.into(), schedule_name(tenant));
        let body = json!({
            "apiVersion": <Backup as k8s_openapi::Resource>::API_VERSION,
            "kind": "Backup",
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": template,
        });
        let target = ObjectRef {
            kind: Kind::of::<Backup>(),
            namespace: namespace.clone(),
            name: name.clone(),
        };
        self.cluster.apply(&target, &body, false, false).await?;
        (self.progress)(&format!(
            "backup {namespace}/{name} created; waiting for Velero"
        ));
        let done = self.wait(&target, "Backup", timeout).await?;
        let info = BackupInfo::of(&done);
        if info.phase != "Completed" {
            return Err(failed(&done, "Backup"));
        }
        Ok(info)
    }

    /// Polls `target` until Velero ends it (see [`ENDED`]) or `timeout` passes.
    async fn wait(
        &self,
        target: &ObjectRef,
        kind: &'static str,
        timeout: Duration,
    ) -> Result<Value, BackupError> {
        let started = Instant::now();
        let mut pause = Duration::from_millis(200);
        let mut last = String::new();
        loop {
            let live = self
                .cluster
                .get(target.kind, &target.namespace, &target.name)
                .await?
                .unwrap_or(Value::Null);
            let status = &live["status"];
            let phase = status["phase"].as_str().unwrap_or("New").to_string();
            if ENDED.contains(&phase.as_str()) {
                return Ok(live);
            }
            let progress = &status["progress"];
            let line = match (progress["totalItems"].as_u64(), kind) {
                (Some(total), "Backup") => format!(
                    "{phase}: {} of {total} items",
                    progress["itemsBackedUp"].as_u64().unwrap_or(0)
                ),
                (Some(total), _) => format!(
                    "{phase}: {} of {total} items",
                    progress["itemsRestored"].as_u64().unwrap_or(0)
                ),
                (None, _) => phase.clone(),
            };
            if line != last {
                (self.progress)(&format!("{} {}: {line}", kind.to_lowercase(), target.name));
                last = line;
            }
            if started.elapsed() >= timeout {
                return Err(BackupError::Timeout {
                    kind,
                    verb: if kind == "Backup" {
                        "backup"
                    } else {
                        "restore"
                    },
                    name: target.name.clone(),
                    namespace: target.namespace.clone(),
                    phase,
                    waited: timeout,
                });
            }
            tokio::time::sleep(pause.min(timeout.saturating_sub(started.elapsed()))).await;
            pause = (pause * 2).min(Duration::from_secs(2));
        }
    }

    /// The tenant's backups (scheduled and Harmony's), oldest first.
    pub async fn list(&self, tenant: &str) -> Result<Vec<BackupInfo>, BackupError> {
        let schedule = self.schedule(tenant).await?;
        let namespace = text(&schedule["metadata"]["namespace"]);
        let mut backups: Vec<Value> = self
            .cluster
            .list(Kind::of::<Backup>(), &namespace, &tenant_selector(tenant))
            .await?;
        backups.sort_by_key(|b| {
            (
                text(&b["metadata"]["creationTimestamp"]),
                text(&b["metadata"]["name"]),
            )
        });
        Ok(backups.iter().map(BackupInfo::of).collect())
    }

    /// The Schedule of `tenant` and its latest backups.
    pub async fn status(&self, tenant: &str) -> Result<BackupStatusReport, BackupError> {
        let schedule = self.schedule(tenant).await?;
        let backups = self.list(tenant).await?;
        let status = &schedule["status"];
        Ok(BackupStatusReport {
            tenant: tenant.into(),
            schedule: text(&schedule["metadata"]["name"]),
            namespace: text(&schedule["metadata"]["namespace"]),
            cron: text(&schedule["spec"]["schedule"]),
            phase: status["phase"].as_str().unwrap_or("New").into(),
            validation_errors: status["validationErrors"]
                .as_array()
                .into_iter()
                .flatten()
                .map(text)
                .collect(),
            last_backup: text(&status["lastBackup"]),
            latest_completed: backups
                .iter()
                .rev()
                .find(|b| b.phase == "Completed")
                .cloned(),
            latest: backups.last().cloned(),
        })
    }

    /// Restores the tenant's latest completed backup into a scratch namespace, isolated like the
    /// tenant's (its labels, quota, limits and default-deny policy, from `plan`), waits, compares
    /// what came back with what was backed up, records the result as an Event in the tenant's
    /// namespace, and deletes the scratch namespace.
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
        let restored: usize = report
            .comparison
            .as_ref()
            .map_or(0, |c| c.kinds.iter().map(|k| k.restored).sum());
        let mut message = format!(
            "restore drill of backup {}: Velero {}, {restored} objects back",
            report.backup, report.phase
        );
        if !report.problems.is_empty() {
            message.push_str(&format!("; {}", report.problems.join("; ")));
        }
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

/// A Backup or Restore Velero ended without completing, with its reason, errors and warnings.
fn failed(object: &Value, kind: &'static str) -> BackupError {
    let status = &object["status"];
    let mut reason = String::new();
    if let Some(why) = status["failureReason"].as_str().filter(|r| !r.is_empty()) {
        reason.push_str(&format!(": {why}"));
    }
    let errors: Vec<String> = status["validationErrors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(text)
        .collect();
    if !errors.is_empty() {
        reason.push_str(&format!(": {}", errors.join("; ")));
    }
    for (field, what) in [("errors", "errors"), ("warnings", "warnings")] {
        if let Some(n) = status[field].as_u64().filter(|n| *n > 0) {
            reason.push_str(&format!(", {n} {what}"));
        }
    }
    BackupError::Failed {
        kind,
        verb: if kind == "Backup" {
            "backup"
        } else {
            "restore"
        },
        name: text(&object["metadata"]["name"]),
        namespace: text(&object["metadata"]["namespace"]),
        phase: status["phase"].as_str().unwrap_or("New").into(),
        reason,
    }
}
