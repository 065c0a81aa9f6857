//! The credential log: one JSON line per issue and revocation (who, member, identity, expiry),
//! append-only, mode 0600. It never holds a token, a key or a kubeconfig.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::{CredentialError, CredentialKind};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogAction {
    /// A credential was issued.
    Issue,
    /// A member's credentials were revoked.
    Revoke,
}

/// One log line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// When.
    pub time: Timestamp,
    /// Who ran the command.
    pub by: String,
    /// Issue or revoke.
    pub action: LogAction,
    /// The tenant id.
    pub tenant: String,
    /// The member id.
    pub member: String,
    /// Token or certificate.
    pub kind: CredentialKind,
    /// The identity: `system:serviceaccount:NS:NAME uid=UID`, or the certificate user name.
    pub identity: String,
    /// The certificate serial (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// The CertificateSigningRequest name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    /// When the issued credential expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<Timestamp>,
}

/// The append-only log file.
#[derive(Debug, Clone)]
pub struct CredentialLog {
    path: PathBuf,
}

impl CredentialLog {
    /// The log at `path` (created on first append, with its folders, 0700).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The log file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `entry` as one line and syncs it to disk.
    pub fn append(&self, entry: &LogEntry) -> Result<(), CredentialError> {
        if let Some(dir) = self.path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(CredentialError::io(dir))?;
        }
        let mut line = serde_json::to_string(entry)
            .map_err(|e| CredentialError::Cluster(format!("encoding a log entry failed: {e}")))?;
        line.push('\n');
        let mut file = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(&self.path)
            .map_err(CredentialError::io(&self.path))?;
        file.write_all(line.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(CredentialError::io(&self.path))
    }

    /// Every entry, oldest first; a missing log has none.
    pub fn entries(&self) -> Result<Vec<LogEntry>, CredentialError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(CredentialError::io(&self.path)(e)),
        };
        text.lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(i, line)| {
                serde_json::from_str(line).map_err(|e| {
                    CredentialError::invalid(
                        format!("{}:{}", self.path.display(), i + 1),
                        format!("not a credential log entry ({e}); the log is append-only: restore it from a backup"),
                    )
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn appends_lines_0600_and_reads_them_back() {
        let dir = tempfile::tempdir().unwrap();
        let log = CredentialLog::new(dir.path().join("state/log.jsonl"));
        assert!(log.entries().unwrap().is_empty());
        let entry = LogEntry {
            time: "2026-01-01T00:00:00Z".parse().unwrap(),
            by: "ops".into(),
            action: LogAction::Issue,
            tenant: "acme".into(),
            member: "ci".into(),
            kind: CredentialKind::Token,
            identity: "system:serviceaccount:acme:ci uid=1".into(),
            serial: None,
            request: None,
            expires: Some("2026-01-01T08:00:00Z".parse().unwrap()),
        };
        log.append(&entry).unwrap();
        log.append(&entry).unwrap();
        assert_eq!(log.entries().unwrap(), vec![entry.clone(), entry]);
        let mode = std::fs::metadata(log.path()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        std::fs::write(log.path(), "{oops\n").unwrap();
        let e = log.entries().unwrap_err().to_string();
        assert!(e.contains("log.jsonl:1: not a credential log entry"), "{e}");
    }
}
