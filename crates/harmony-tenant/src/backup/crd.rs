//! The Velero kinds Harmony writes (`velero.io/v1`, in Velero's namespace), as serde types with
//! only the fields Harmony sets; the API server's schema (Velero's CRDs) has them all.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

/// Backs up the template's namespaces on a cron schedule.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Schedule {
    /// Name, Velero's namespace and labels.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// When and what.
    pub spec: ScheduleSpec,
}

/// The spec of a [`Schedule`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleSpec {
    /// Cron expression (UTC) or descriptor, such as `0 2 * * *`.
    pub schedule: String,
    /// Whether Backups are owned by the Schedule (deleted with it): never, so they outlive it.
    pub use_owner_references_in_backup: bool,
    /// What each Backup holds.
    pub template: BackupSpec,
}

/// One backup, taken now.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Backup {
    /// Name, Velero's namespace and labels.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// What it holds.
    pub spec: BackupSpec,
}

/// What a backup holds and how long it is kept (Velero's `BackupSpec`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupSpec {
    /// The namespaces backed up: the tenant's only.
    pub included_namespaces: Vec<String>,
    /// Always false: Harmony re-renders the tenant's cluster-scoped objects.
    pub include_cluster_resources: bool,
    /// Copy volume data with the node agent (file-system backup).
    pub default_volumes_to_fs_backup: bool,
    /// Take volume snapshots (CSI).
    pub snapshot_volumes: bool,
    /// The BackupStorageLocation.
    pub storage_location: String,
    /// How long Velero keeps the backup, a Go duration such as `720h0m0s`.
    pub ttl: String,
    /// Labels of the Backups a Schedule creates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BackupMetadata>,
}

/// Metadata of the Backups a Schedule creates.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BackupMetadata {
    /// Their labels.
    pub labels: BTreeMap<String, String>,
}

/// Restores a backup.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Restore {
    /// Name, Velero's namespace and labels.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// What and where.
    pub spec: RestoreSpec,
}

/// The spec of a [`Restore`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreSpec {
    /// The Backup restored.
    pub backup_name: String,
    /// The namespaces of the backup restored.
    pub included_namespaces: Vec<String>,
    /// Source namespace to target namespace.
    pub namespace_mapping: BTreeMap<String, String>,
    /// Whether volumes are restored too.
    #[serde(rename = "restorePVs")]
    pub restore_pvs: bool,
    /// What to do with objects that exist already: `none` (leave them, warn).
    pub existing_resource_policy: String,
}

crate::api_resources!(NamespaceResourceScope, "velero.io" / "v1":
    Schedule "schedules", Backup "backups", Restore "restores");

/// Where Velero stores backups (read by Harmony to say whether backups can be taken; the
/// platform team creates it).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct BackupStorageLocation {
    /// Name and Velero's namespace.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// The object store.
    pub spec: BackupStorageLocationSpec,
}

/// The spec of a [`BackupStorageLocation`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupStorageLocationSpec {
    /// The object store plugin, such as `aws`.
    pub provider: String,
    /// The bucket.
    pub object_storage: ObjectStorage,
    /// Provider settings, such as `region`, `s3Url`, `s3ForcePathStyle`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub config: BTreeMap<String, String>,
    /// The Secret key holding the store's credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<k8s_openapi::api::core::v1::SecretKeySelector>,
    /// Whether this is the default location.
    #[serde(default)]
    pub default: bool,
}

/// A bucket of an object store.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ObjectStorage {
    /// The bucket's name.
    pub bucket: String,
}

crate::api_resources!(NamespaceResourceScope, "velero.io" / "v1":
    BackupStorageLocation "backupstoragelocations");
