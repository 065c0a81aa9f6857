//! Where the peer registry lives: a state dir ([`RegistryStore`]) or a Secret of a live cluster
//! ([`SecretStore`]). Both keep the same document and audit events; only the crash safety and
//! the writer exclusion differ (atomic rename under a file lock, or one PUT guarded by
//! `resourceVersion`).

use jiff::Timestamp;

use crate::VpnError;
use crate::cluster::SecretStore;
use crate::pool::AddressPool;
use crate::registry::{AuditEvent, Registry};
use crate::store::RegistryStore;

/// The peer registry's storage.
#[derive(Debug, Clone)]
pub enum RegistryBackend {
    /// `registry.json` and `audit.log` in a state dir.
    File(RegistryStore),
    /// The `harmony-vpn-registry` Secret in `harmony-system`.
    Cluster(Box<SecretStore>),
}

impl RegistryBackend {
    /// Reads the registry (empty when there is none yet); refuses a corrupted one.
    pub fn load(&self, pool: AddressPool) -> Result<Registry, VpnError> {
        match self {
            Self::File(store) => store.load(pool),
            Self::Cluster(store) => store.load(pool),
        }
    }

    /// Runs `change` on the registry with writers excluded (`change` may run again when another
    /// writer was first); saves the registry and appends the audit events it returns, or writes
    /// nothing when it fails or returns none.
    pub fn update<R: Send>(
        &self,
        pool: AddressPool,
        change: impl FnMut(&mut Registry, Timestamp) -> Result<(R, Vec<AuditEvent>), VpnError> + Send,
    ) -> Result<R, VpnError> {
        match self {
            Self::File(store) => store.update(pool, change),
            Self::Cluster(store) => store.update(pool, change),
        }
    }

    /// Where the registry is, for messages: a path or `Secret ns/name on server`.
    pub fn describe(&self) -> String {
        match self {
            Self::File(store) => store.registry_path().display().to_string(),
            Self::Cluster(store) => store.describe(),
        }
    }
}
