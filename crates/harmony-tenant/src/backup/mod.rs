//! `spec.backup`: the tenant's Velero backups (a per-tenant Schedule in Velero's namespace), their
//! validation, and the pure parts of backups taken on demand, restore drills and the final
//! backup of an offboarding: naming, and comparing what came back with what was backed up.
//!
//! On a cluster that runs Velero (or OADP, which runs Velero in `openshift-adp`), a tenant gets
//! the Schedule `tenant-<name>` in Velero's namespace, backing up its namespace only (no cluster
//! objects: Harmony re-renders those); tenants can neither read nor create it.

pub mod crd;
mod cron;
pub mod drill;
mod retention;

use harmony::Problem;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::score::TenantScore;

pub use cron::schedule_problem;
pub use retention::{retention_minutes, velero_ttl};

/// Default schedule: every night at 02:00 UTC.
pub const DEFAULT_SCHEDULE: &str = "0 2 * * *";
/// Default retention: 30 days.
pub const DEFAULT_RETENTION: &str = "30d";
/// Default BackupStorageLocation: the one `velero install` and OADP create.
pub const DEFAULT_STORAGE_LOCATION: &str = "default";
/// Velero's namespace on Kubernetes.
pub const VELERO_NAMESPACE: &str = "velero";
/// Velero's namespace under OADP (OKD / OpenShift).
pub const OADP_NAMESPACE: &str = "openshift-adp";

/// The tenant's backups: on by default where the cluster runs Velero or OADP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BackupConfig {
    /// Whether the tenant gets its backup Schedule.
    #[serde(default = "enabled")]
    pub enabled: bool,
    /// When backups run: 5-field cron (UTC) or a descriptor, such as `0 2 * * *` or `@every 6h`.
    #[serde(default = "default_schedule")]
    pub schedule: String,
    /// How long each backup is kept (the final one of an offboarding too): `30d`, `720h`, `1d12h`.
    #[serde(default = "default_retention")]
    pub retention: String,
    /// How volume data is backed up.
    #[serde(default)]
    pub volumes: VolumeBackup,
    /// The BackupStorageLocation the backups go to.
    #[serde(default = "default_storage_location")]
    pub storage_location: String,
}

fn enabled() -> bool {
    true
}
fn default_schedule() -> String {
    DEFAULT_SCHEDULE.into()
}
fn default_retention() -> String {
    DEFAULT_RETENTION.into()
}
fn default_storage_location() -> String {
    DEFAULT_STORAGE_LOCATION.into()
}

impl Default for BackupConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            schedule: default_schedule(),
            retention: default_retention(),
            volumes: VolumeBackup::default(),
            storage_location: default_storage_location(),
        }
    }
}

impl BackupConfig {
    pub(crate) fn is_default(&self) -> bool {
        self == &Self::default()
    }

    /// The retention as Velero's ttl (a valid config's; the default's otherwise).
    pub fn ttl(&self) -> String {
        let minutes = retention_minutes(&self.retention)
            .or_else(|_| retention_minutes(DEFAULT_RETENTION))
            .expect("the default retention parses");
        velero_ttl(minutes)
    }
}

/// How the data of the tenant's volumes is backed up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum VolumeBackup {
    /// Velero's node agent copies the files of every pod volume (bare metal, no CSI snapshots).
    #[default]
    FileSystem,
    /// CSI volume snapshots.
    Snapshot,
    /// API objects only (PVC objects, not their data).
    None,
}

/// Problems with `score.backup`.
pub(crate) fn validate(score: &TenantScore, problems: &mut Vec<Problem>) {
    let backup = &score.backup;
    if let Some(why) = schedule_problem(&backup.schedule) {
        problems.push(Problem::new(
            "spec.backup.schedule",
            format!(
                "`{}` is not a schedule Velero accepts: {why}; write 5 fields (minute hour \
                 day-of-month month day-of-week, UTC), such as `0 2 * * *`, or `@every 6h`",
                backup.schedule
            ),
        ));
    }
    if let Err(why) = retention_minutes(&backup.retention) {
        problems.push(Problem::new("spec.backup.retention", why));
    }
    if !crate::names::is_dns_subdomain(&backup.storage_location) {
        problems.push(Problem::new(
            "spec.backup.storageLocation",
            format!(
                "`{}` is not a BackupStorageLocation name: use lowercase letters, digits, `-` \
                 and `.`, such as `default` (`velero backup-location get` lists them)",
                backup.storage_location
            ),
        ));
    }
}

/// Name of the tenant's Schedule (and label value of its Backups' `velero.io/schedule-name`).
pub fn schedule_name(tenant: &str) -> String {
    format!("tenant-{tenant}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::ClusterFacts;

    fn problems(backup: BackupConfig) -> Vec<(String, String)> {
        let mut score = TenantScore::new("acme");
        score.backup = backup;
        score
            .validate(&ClusterFacts::kubernetes())
            .into_iter()
            .map(|p| (p.path, p.message))
            .collect()
    }

    #[test]
    fn the_default_is_valid_nightly_for_30_days() {
        assert!(problems(BackupConfig::default()).is_empty());
        assert_eq!(BackupConfig::default().ttl(), "720h0m0s");
    }

    #[test]
    fn a_bad_schedule_retention_or_location_is_refused_naming_field_value_and_fix() {
        let found = problems(BackupConfig {
            schedule: "0 2 * *".into(),
            retention: "30 days".into(),
            storage_location: "Not A Name".into(),
            ..BackupConfig::default()
        });
        let paths: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "spec.backup.schedule",
                "spec.backup.retention",
                "spec.backup.storageLocation"
            ]
        );
        assert!(found[0].1.contains("`0 2 * *`") && found[0].1.contains("such as `0 2 * * *`"));
        assert!(found[1].1.contains("`30 days`") && found[1].1.contains("`30d`"));
        assert!(found[2].1.contains("`Not A Name`"));
    }
}
