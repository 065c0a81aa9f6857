//! The registry on disk: `registry.json` (0600, replaced atomically, previous version kept as
//! `registry.json.bak`), `audit.log` (JSON lines, append-only) and `registry.lock` (an advisory
//! lock held by the one writer at a time).

use std::fs::{DirBuilder, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use harmony::private_file::{FileError, PRIVATE_MODE, replace_private, sibling};
use jiff::Timestamp;

use crate::VpnError;
use crate::pool::AddressPool;
use crate::registry::{AuditEvent, Registry, audit_lines};

/// The registry file in a state dir.
pub const REGISTRY_FILE: &str = "registry.json";
/// The audit log in a state dir.
pub const AUDIT_FILE: &str = "audit.log";
const LOCK_FILE: &str = "registry.lock";

/// A state dir holding a registry.
#[derive(Debug, Clone)]
pub struct RegistryStore {
    dir: PathBuf,
}

impl RegistryStore {
    /// The registry in `dir` (created on first write, mode 0700).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The state dir.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The registry file.
    pub fn registry_path(&self) -> PathBuf {
        self.dir.join(REGISTRY_FILE)
    }

    /// The audit log.
    pub fn audit_path(&self) -> PathBuf {
        self.dir.join(AUDIT_FILE)
    }

    /// Reads the registry (empty when there is none yet); refuses a corrupted file.
    pub fn load(&self, pool: AddressPool) -> Result<Registry, VpnError> {
        let path = self.registry_path();
        let text = match std::fs::read(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Registry::empty(pool));
            }
            Err(e) => return Err(FileError::at(&path)(e).into()),
        };
        Registry::parse(&text, pool).map_err(|detail| VpnError::Corrupted { path, detail })
    }

    /// Runs `change` on the registry under the writer lock (waiting for another writer to finish).
    /// When it returns audit events, the registry is saved atomically and the events appended to
    /// the audit log; when it fails, nothing is written.
    pub fn update<R>(
        &self,
        pool: AddressPool,
        mut change: impl FnMut(&mut Registry, Timestamp) -> Result<(R, Vec<AuditEvent>), VpnError>,
    ) -> Result<R, VpnError> {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .map_err(FileError::at(&self.dir))?;
        let lock_path = self.dir.join(LOCK_FILE);
        let lock_file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(PRIVATE_MODE)
            .open(&lock_path)
            .map_err(FileError::at(&lock_path))?;
        let mut lock = fd_lock::RwLock::new(lock_file);
        let _guard = lock.write().map_err(FileError::at(&lock_path))?;
        let mut registry = self.load(pool)?;
        let (result, events) = change(&mut registry, Timestamp::now())?;
        if !events.is_empty() {
            self.save(&registry)?;
            self.append_audit(&events)?;
        }
        Ok(result)
    }

    fn save(&self, registry: &Registry) -> Result<(), VpnError> {
        let path = self.registry_path();
        Ok(replace_private(
            &path,
            &registry.to_json(),
            Some(&sibling(&path, ".bak")),
        )?)
    }

    fn append_audit(&self, events: &[AuditEvent]) -> Result<(), VpnError> {
        let path = self.audit_path();
        let mut file = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(PRIVATE_MODE)
            .open(&path)
            .map_err(FileError::at(&path))?;
        file.write_all(&audit_lines(events))
            .map_err(FileError::at(&path))?;
        Ok(file.sync_data().map_err(FileError::at(&path))?)
    }
}
