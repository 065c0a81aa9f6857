//! Keycloak's admin API as one administrator: credentials from the environment or a 0600 file
//! (never from a document, never logged), a token renewed before Keycloak's 60 s lifespan ends.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::oidc::password_grant;
use crate::{Body, Http, KeycloakError, Method, Response};

/// The environment variable with the admin's user name.
pub const ADMIN_USER_ENV: &str = "HARMONY_IDP_ADMIN_USER";
/// The environment variable with the admin's password.
pub const ADMIN_PASSWORD_ENV: &str = "HARMONY_IDP_ADMIN_PASSWORD";

/// How long an admin token is used: well inside Keycloak's default 60 s.
const TOKEN_REUSE: Duration = Duration::from_secs(30);

/// An administrator of the `master` realm. `Debug` hides the password.
#[derive(Clone)]
pub struct AdminCredentials {
    /// The user name.
    pub username: String,
    password: String,
}

impl std::fmt::Debug for AdminCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminCredentials")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// Why the admin's credentials could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// Neither the environment nor a file gave them.
    #[error(
        "no identity provider admin credentials: set {ADMIN_USER_ENV} and {ADMIN_PASSWORD_ENV}, or pass --admin-credentials FILE (0600; the user name on the first line, the password on the second)"
    )]
    Missing,
    /// The file cannot be read.
    #[error("{path}: {source}")]
    Unreadable {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is readable by others.
    #[error(
        "{path} is readable by others (mode {mode:o}): it holds a password; run `chmod 600 {path}`"
    )]
    Exposed {
        /// The file.
        path: String,
        /// Its mode.
        mode: u32,
    },
    /// The file does not hold two lines.
    #[error(
        "{path} holds no user name and password: write the user name on the first line and the password on the second"
    )]
    Malformed {
        /// The file.
        path: String,
    },
}

impl AdminCredentials {
    /// Credentials from values (tests, harnesses).
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            username: username.into(),
            password: password.into(),
        }
    }

    /// From `file` when given (mode 0600 or stricter; user name, then password, one a line),
    /// else from [`ADMIN_USER_ENV`] and [`ADMIN_PASSWORD_ENV`].
    pub fn load(file: Option<&Path>) -> Result<Self, CredentialsError> {
        let Some(file) = file else {
            return match (
                std::env::var(ADMIN_USER_ENV),
                std::env::var(ADMIN_PASSWORD_ENV),
            ) {
                (Ok(user), Ok(password)) if !user.is_empty() && !password.is_empty() => {
                    Ok(Self::new(user, password))
                }
                _ => Err(CredentialsError::Missing),
            };
        };
        let path = file.display().to_string();
        let unreadable = |source| CredentialsError::Unreadable {
            path: path.clone(),
            source,
        };
        let mode = std::fs::metadata(file)
            .map_err(unreadable)?
            .permissions()
            .mode()
            & 0o777;
        if mode & 0o077 != 0 {
            return Err(CredentialsError::Exposed { path, mode });
        }
        let text = std::fs::read_to_string(file).map_err(unreadable)?;
        let mut lines = text.lines();
        match (lines.next(), lines.next()) {
            (Some(user), Some(password)) if !user.is_empty() && !password.is_empty() => {
                Ok(Self::new(user, password))
            }
            _ => Err(CredentialsError::Malformed { path }),
        }
    }
}

/// The admin API of one Keycloak, as one administrator.
#[derive(Debug)]
pub struct Admin {
    http: Http,
    credentials: AdminCredentials,
    token: Mutex<Option<(String, Instant)>>,
}

impl Admin {
    /// Logs `credentials` in (a first token proves them) on `http`'s Keycloak.
    pub fn connect(http: Http, credentials: AdminCredentials) -> Result<Self, KeycloakError> {
        let admin = Self {
            http,
            credentials,
            token: Mutex::new(None),
        };
        admin.token()?;
        Ok(admin)
    }

    /// The HTTP client (and its request counts).
    pub fn http(&self) -> &Http {
        &self.http
    }

    /// The administrator's user name, for the audit log.
    pub fn username(&self) -> &str {
        &self.credentials.username
    }

    /// Calls `method path` with `body`; the answer when its status is one of `expected`.
    pub fn call(
        &self,
        method: Method,
        path: &str,
        body: Body<'_>,
        expected: &[u16],
    ) -> Result<Response, KeycloakError> {
        let token = self.token()?;
        let response = self.http.send(method, path, Some(&token), body)?;
        if expected.contains(&response.status) {
            Ok(response)
        } else {
            Err(self.http.unexpected(method, path, &response))
        }
    }

    /// A token younger than [`TOKEN_REUSE`], fetched when needed.
    fn token(&self) -> Result<String, KeycloakError> {
        let mut cached = self.token.lock().expect("token");
        if let Some((token, at)) = cached.as_ref()
            && at.elapsed() < TOKEN_REUSE
        {
            return Ok(token.clone());
        }
        let tokens = password_grant(
            &self.http,
            "master",
            "admin-cli",
            &self.credentials.username,
            &self.credentials.password,
        )?;
        *cached = Some((tokens.access_token.clone(), Instant::now()));
        Ok(tokens.access_token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::OpenOptionsExt;

    #[test]
    fn a_credentials_file_must_be_private_and_hold_two_lines() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, mode: u32, text: &str| {
            let path = dir.path().join(name);
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(mode)
                .open(&path)
                .unwrap();
            std::io::Write::write_all(&mut file, text.as_bytes()).unwrap();
            path
        };
        let good = write("good", 0o600, "admin\ns3cret\n");
        let loaded = AdminCredentials::load(Some(&good)).unwrap();
        assert_eq!(loaded.username, "admin");
        assert!(!format!("{loaded:?}").contains("s3cret"));

        let open = write("open", 0o644, "admin\ns3cret\n");
        let error = AdminCredentials::load(Some(&open)).unwrap_err().to_string();
        assert!(error.contains("chmod 600"), "{error}");
        let short = write("short", 0o600, "admin\n");
        let error = AdminCredentials::load(Some(&short))
            .unwrap_err()
            .to_string();
        assert!(error.contains("the password on the second"), "{error}");
        let missing = dir.path().join("missing");
        assert!(matches!(
            AdminCredentials::load(Some(&missing)),
            Err(CredentialsError::Unreadable { .. })
        ));
    }
}
