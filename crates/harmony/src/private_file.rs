//! Files that may hold secrets: mode 0600 from their creation, and replaced atomically.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Mode of every private file: owner read/write only.
pub const PRIVATE_MODE: u32 = 0o600;

/// Reading or writing a file failed.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct FileError {
    /// The file or folder.
    pub path: PathBuf,
    /// The underlying error.
    pub source: std::io::Error,
}

impl FileError {
    /// A closure mapping an I/O error on `path`.
    pub fn at(path: &Path) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.to_path_buf();
        move |source| Self { path, source }
    }
}

/// Creates `path` with mode 0600, refusing to overwrite an existing file.
pub fn create_private(path: &Path) -> Result<File, FileError> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(PRIVATE_MODE)
        .open(path)
        .map_err(FileError::at(path))
}

/// Writes `bytes` to `path` (mode 0600) unless it exists, whole or not at all: the content goes
/// to a temp file of its own first and is linked into place, so a concurrent reader never sees it
/// half written. Returns whether this call created `path`.
pub fn publish_private(path: &Path, bytes: &[u8]) -> Result<bool, FileError> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let unique = format!(
        ".{}.{}.tmp",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let temp = sibling(path, &unique);
    let mut file = create_private(&temp)?;
    let linked = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(FileError::at(&temp))
        .and_then(|()| match std::fs::hard_link(&temp, path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(FileError::at(path)(e)),
        });
    let _ = std::fs::remove_file(&temp);
    linked
}

/// Replaces `path` with `bytes` atomically (temp file, fsync, rename, fsync of the folder), mode
/// 0600. A crash at any point leaves either the old or the new content at `path`. When `backup`
/// is given, the old content is kept there (a hard link) before the rename.
pub fn replace_private(path: &Path, bytes: &[u8], backup: Option<&Path>) -> Result<(), FileError> {
    let temp = sibling(path, ".tmp");
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(PRIVATE_MODE)
        .open(&temp)
        .map_err(FileError::at(&temp))?;
    file.write_all(bytes).map_err(FileError::at(&temp))?;
    file.sync_all().map_err(FileError::at(&temp))?;
    drop(file);
    if let Some(backup) = backup.filter(|_| path.exists()) {
        match std::fs::remove_file(backup) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(FileError::at(backup)(e));
            }
            _ => {}
        }
        std::fs::hard_link(path, backup).map_err(FileError::at(backup))?;
    }
    std::fs::rename(&temp, path).map_err(FileError::at(path))?;
    let dir = parent(path);
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(FileError::at(dir))
}

/// `path` with `suffix` appended to its file name.
pub fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn replaced_files_are_0600_and_keep_a_backup() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let backup = dir.path().join("f.bak");
        replace_private(&path, b"one", Some(&backup)).unwrap();
        assert!(!backup.exists());
        replace_private(&path, b"two", Some(&backup)).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::read(&backup).unwrap(), b"one");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(!sibling(&path, ".tmp").exists());
    }

    #[test]
    fn create_private_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("client.conf");
        create_private(&path).unwrap();
        let error = create_private(&path).unwrap_err().to_string();
        assert!(error.contains("client.conf"), "{error}");
    }

    #[test]
    fn published_files_are_written_once_and_leave_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.key");
        assert!(publish_private(&path, b"first").unwrap());
        assert!(!publish_private(&path, b"second").unwrap());
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
