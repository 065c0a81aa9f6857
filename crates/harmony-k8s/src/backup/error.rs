//! Why a backup, a restore drill or a final backup could not be done, each with its fix.

use std::time::Duration;

use harmony_kube::ApiFailure;

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
