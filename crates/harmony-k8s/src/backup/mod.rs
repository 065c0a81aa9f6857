//! A tenant's Velero backups on a live cluster: taking one now (and the final one of an
//! offboarding), listing them, the schedule's status, and restore drills ([`drill`]). Velero's
//! objects live in Velero's namespace, found from the tenant's Schedule (labelled with the
//! tenant).
//!
//! Every wait polls with a timeout and reports progress; a failure says what to fix. The pure
//! parts (names, what a drill compares) are in [`harmony_tenant::backup::drill`].

mod drill;
mod error;

use std::time::{Duration, Instant};

use harmony_kube::{Cluster, FailureKind, Kind, ObjectRef};
use harmony_tenant::backup::crd::{Backup, BackupStorageLocation, Schedule};
use harmony_tenant::backup::drill::{PURPOSE_LABEL, Purpose, object_name};
use harmony_tenant::backup::schedule_name;
use harmony_tenant::{MANAGED_BY_LABEL, MANAGED_BY_VALUE, TENANT_LABEL, owned_labels};
use serde::Serialize;
use serde_json::{Value, json};

pub use drill::{DrillReport, record_drill_status};
pub use error::BackupError;

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
