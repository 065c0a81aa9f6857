//! The token cache: one 0600 JSON file per issuer and client, under the user's cache folder
//! (`$XDG_CACHE_HOME/harmony/oidc`, else `~/.cache/harmony/oidc`), replaced atomically.

use std::path::{Path, PathBuf};

use harmony::private_file::{FileError, replace_private};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::ExecCredential;

/// The tokens of one login. They are secrets: `Debug` never shows them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CachedTokens {
    /// The ID token (a JWT).
    pub id_token: String,
    /// The refresh token, when the provider gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// The ID token's `exp`.
    pub expiry: Timestamp,
}

impl CachedTokens {
    /// The exec credential of the ID token.
    pub fn exec_credential(&self) -> ExecCredential {
        ExecCredential::new(&self.id_token, self.expiry)
    }
}

impl std::fmt::Debug for CachedTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CachedTokens(<redacted>, expires {})", self.expiry)
    }
}

/// The cache file of one issuer and client.
#[derive(Debug, Clone)]
pub struct TokenCache {
    path: PathBuf,
}

/// The user's cache folder for tokens: `$XDG_CACHE_HOME/harmony/oidc`, else
/// `$HOME/.cache/harmony/oidc`.
pub fn default_cache_dir() -> Option<PathBuf> {
    let non_empty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    non_empty("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| non_empty("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .map(|cache| cache.join("harmony").join("oidc"))
}

impl TokenCache {
    /// The cache of `client_id` at `issuer`, in `dir`: named by a SHA-256 of both, so another
    /// issuer or client never reads these tokens.
    pub fn new(dir: &Path, issuer: &str, client_id: &str) -> Self {
        let key = format!("{}\n{client_id}", issuer.trim_end_matches('/'));
        let digest = ring::digest::digest(&ring::digest::SHA256, key.as_bytes());
        let hex: String = digest.as_ref()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Self {
            path: dir.join(format!("{hex}.json")),
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The cached tokens; `None` when there are none or the file is not a cache (it is then
    /// replaced at the next login).
    pub fn load(&self) -> Result<Option<CachedTokens>, FileError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => Ok(serde_json::from_slice(&bytes).ok()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(FileError::at(&self.path)(e)),
        }
    }

    /// Replaces the cached tokens (mode 0600; the folder is created 0700).
    pub fn store(&self, tokens: &CachedTokens) -> Result<(), FileError> {
        if let Some(dir) = self.path.parent() {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(FileError::at(dir))?;
        }
        let json = serde_json::to_vec(tokens).expect("tokens serialize");
        replace_private(&self.path, &json, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::exec::jwt;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn stores_0600_per_issuer_and_client_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let cache = TokenCache::new(dir.path(), "https://sso/realms/t/", "kubectl");
        assert_eq!(cache.load().unwrap(), None);
        let tokens = CachedTokens {
            id_token: jwt(1_900_000_000),
            refresh_token: Some("r".into()),
            expiry: Timestamp::from_second(1_900_000_000).unwrap(),
        };
        cache.store(&tokens).unwrap();
        let mode = std::fs::metadata(cache.path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(cache.load().unwrap(), Some(tokens.clone()));
        assert_eq!(
            TokenCache::new(dir.path(), "https://sso/realms/t", "kubectl").path(),
            cache.path()
        );
        for (issuer, client) in [
            ("https://sso/realms/u", "kubectl"),
            ("https://sso/realms/t", "k"),
        ] {
            let other = TokenCache::new(dir.path(), issuer, client);
            assert_ne!(other.path(), cache.path());
            assert_eq!(other.load().unwrap(), None);
        }
        assert!(!format!("{tokens:?}").contains(&tokens.id_token));
        std::fs::write(cache.path(), "not json").unwrap();
        assert_eq!(cache.load().unwrap(), None);
    }
}
