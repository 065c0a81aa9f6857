//! The audit log of identity changes: one JSON object a line, appended, in a file created 0600;
//! who (the identity provider admin and the local user), what, when, never a secret.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::Serialize;

/// Why the audit log cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum AuditLogError {
    /// The file cannot be opened or written.
    #[error("audit log {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is readable by others.
    #[error("audit log {path} is readable by others (mode {mode:o}): run `chmod 600 {path}`", path = path.display())]
    Exposed {
        /// The file.
        path: PathBuf,
        /// Its mode.
        mode: u32,
    },
}

/// One change, as logged.
#[derive(Debug, Clone, Serialize)]
pub struct Entry<'a> {
    /// When it was made (UTC, RFC 3339).
    pub time: String,
    /// The identity provider administrator that made it.
    pub admin: &'a str,
    /// The local user that ran harmony (`$USER`).
    pub operator: &'a str,
    /// The issuer (which identity provider).
    pub issuer: &'a str,
    /// `create-realm`, `create-client`, `update-client`, `create-group`, `join`, ...
    pub action: &'a str,
    /// The object: a realm, client, group or user name; `user -> group` for memberships.
    pub target: String,
}

/// An append-only JSON lines file.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    file: File,
}

impl AuditLog {
    /// Opens `path` for appending, creating it 0600; refuses a file others may read.
    pub fn open(path: &Path) -> Result<Self, AuditLogError> {
        let io = |source| AuditLogError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(path)
            .map_err(io)?;
        let mode = file.metadata().map_err(io)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(AuditLogError::Exposed {
                path: path.to_path_buf(),
                mode,
            });
        }
        Ok(Self {
            path: path.to_path_buf(),
            file,
        })
    }

    /// Appends `entry` as one line, at once.
    pub fn append(&mut self, entry: &Entry<'_>) -> Result<(), AuditLogError> {
        let mut line = serde_json::to_vec(entry).expect("entries serialize");
        line.push(b'\n');
        self.file
            .write_all(&line)
            .map_err(|source| AuditLogError::Io {
                path: self.path.clone(),
                source,
            })
    }
}

/// The current time for [`Entry::time`].
pub fn now() -> String {
    Timestamp::now().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_appended_one_a_line_to_a_private_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("identity-audit.jsonl");
        for action in ["create-group", "join"] {
            let mut log = AuditLog::open(&path).unwrap();
            log.append(&Entry {
                time: now(),
                admin: "admin",
                operator: "ops",
                issuer: "https://sso.example.com/realms/tenants",
                action,
                target: "tenant-acme-admins".into(),
            })
            .unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let actions: Vec<String> = text
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["action"].to_string())
            .collect();
        assert_eq!(actions, ["\"create-group\"", "\"join\""]);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let error = AuditLog::open(&path).unwrap_err().to_string();
        assert!(error.contains("chmod 600"), "{error}");
    }
}
