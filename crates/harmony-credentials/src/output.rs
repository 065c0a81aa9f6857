//! Where a member kubeconfig goes: a file created 0600 (atomically, via a temp file and a rename)
//! or standard output.

use std::io::Write;
use std::path::{Path, PathBuf};

use harmony::private_file::replace_private;

use crate::{CredentialError, Kubeconfig};

/// The destination of a kubeconfig.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Output {
    /// A file, mode 0600; an existing file is replaced only when `force` is set.
    File {
        /// The file.
        path: PathBuf,
        /// Replace an existing file.
        force: bool,
    },
    /// Standard output (`--out -`).
    Stdout,
}

impl Output {
    /// `--out` as given: `-` is standard output.
    pub fn from_flag(path: &Path, force: bool) -> Self {
        if path == Path::new("-") {
            Self::Stdout
        } else {
            Self::File {
                path: path.to_path_buf(),
                force,
            }
        }
    }

    /// Checks the destination can be written, before anything is issued.
    pub fn check(&self) -> Result<(), CredentialError> {
        let Self::File { path, force } = self else {
            return Ok(());
        };
        if path.exists() && !force {
            return Err(CredentialError::invalid(
                "--out",
                format!(
                    "{} exists: choose another file, or pass --force to replace it",
                    path.display()
                ),
            ));
        }
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if !parent.is_dir() {
            return Err(CredentialError::invalid(
                "--out",
                format!(
                    "folder {} does not exist: create it first",
                    parent.display()
                ),
            ));
        }
        Ok(())
    }

    /// Writes `config`; a file is 0600 from its creation.
    pub fn write(&self, config: &Kubeconfig) -> Result<(), CredentialError> {
        match self {
            Self::File { path, .. } => Ok(replace_private(path, config.expose().as_bytes(), None)?),
            Self::Stdout => {
                let mut stdout = std::io::stdout().lock();
                stdout
                    .write_all(config.expose().as_bytes())
                    .and_then(|()| stdout.flush())
                    .map_err(CredentialError::io(Path::new("-")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_existing_files_and_missing_folders() {
        let dir = tempfile::tempdir().unwrap();
        let existing = dir.path().join("k");
        std::fs::write(&existing, "x").unwrap();
        let e = Output::from_flag(&existing, false)
            .check()
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("--out: ") && e.contains("--force"), "{e}");
        assert!(Output::from_flag(&existing, true).check().is_ok());
        let e = Output::from_flag(&dir.path().join("no/k"), false)
            .check()
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not exist"), "{e}");
        assert_eq!(Output::from_flag(Path::new("-"), false), Output::Stdout);
    }
}
