//! A real Keycloak for tests: the `keycloak-quarkus-dist` that `tools/keycloak/install` caches
//! (built once there, so it starts `--optimized`), run in production mode on loopback with HTTPS
//! from a CA and server certificate made fresh for every start, its own H2 database file and a
//! bootstrap admin given through the environment. Readiness is polled on the management port's
//! `/health/ready`.
//!
//! The process group (the `kc.sh` launcher and its JVM) is killed when the [`Keycloak`] is
//! dropped, and by the control plane's watchdog when the test process dies;
//! [`Keycloak::shared`] keeps one per test binary.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use harmony_keycloak::oidc::{Tokens, password_grant};
use harmony_keycloak::{Body, Http, Method};
use rcgen::{CertificateParams, ExtendedKeyUsagePurpose, Issuer};
use serde_json::json;

use crate::controlplane::pki::{leaf, name, new_ca};
use crate::controlplane::process::{self, Process};
use crate::controlplane::{free_ports, write_private};
use crate::{ControlPlaneError, Identity};

/// The environment variable naming a Keycloak folder (with `bin/kc.sh`), as the install prints it.
pub const ENV: &str = "HARMONY_KEYCLOAK";
/// The script that installs Keycloak, relative to the repository.
pub const INSTALL: &str = "tools/keycloak/install";
/// The JDK Keycloak runs on unless `JAVA_HOME` says otherwise.
const JAVA_HOME: &str = "/usr/lib/jvm/temurin-25-jdk-amd64";
/// How long Keycloak may take to become ready (its first boot creates the schema: about a
/// minute on two busy cores).
const READY_TIMEOUT: Duration = Duration::from_secs(300);
/// The client the tests get tokens from by password grant; never the real `kubectl` client.
pub const TEST_CLIENT: &str = "kubectl-test";

/// Why Keycloak could not start or answer.
#[derive(Debug, thiserror::Error)]
pub enum KeycloakHarnessError {
    /// Keycloak is not installed.
    #[error("Keycloak: {0}")]
    Install(String),
    /// A file, certificate or process operation failed.
    #[error(transparent)]
    Harness(#[from] ControlPlaneError),
    /// It did not become ready in time.
    #[error(
        "timed out after {:?} waiting for Keycloak's /health/ready; {log}",
        READY_TIMEOUT
    )]
    Timeout {
        /// The tail of its log.
        log: String,
    },
    /// A call to it failed.
    #[error(transparent)]
    Keycloak(#[from] harmony_keycloak::KeycloakError),
}

/// A running Keycloak; its processes stop when it is dropped.
pub struct Keycloak {
    dir: PathBuf,
    url: String,
    ca: Identity,
    admin: (String, String),
    http: Http,
    process: Mutex<Process>,
    watchdog: Child,
}

impl std::fmt::Debug for Keycloak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keycloak")
            .field("url", &self.url)
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

static SEQUENCE: AtomicUsize = AtomicUsize::new(0);

impl Keycloak {
    /// The Keycloak shared by the tests of this test binary, started on first use. Give each test
    /// its own realm or names.
    pub fn shared() -> &'static Keycloak {
        static SHARED: OnceLock<Keycloak> = OnceLock::new();
        SHARED.get_or_init(|| Self::start().unwrap_or_else(|e| panic!("{e}")))
    }

    /// Starts a Keycloak on free loopback ports and waits until it is ready.
    pub fn start() -> Result<Self, KeycloakHarnessError> {
        let home = locate()?;
        let dir = std::env::temp_dir().join(format!(
            "harmony-keycloak-{}-{}",
            std::process::id(),
            SEQUENCE.fetch_add(1, Ordering::Relaxed)
        ));
        for sub in ["logs", "data"] {
            std::fs::create_dir_all(dir.join(sub)).map_err(|e| ControlPlaneError::io(&dir, e))?;
        }
        let watchdog = process::start_watchdog(&dir)?;
        let (ca_params, ca_key, ca) = new_ca("harmony-test-keycloak-ca")?;
        let serving = leaf(
            &Issuer::new(ca_params, &ca_key),
            CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
                .map_err(ControlPlaneError::from)?,
            name("keycloak", None),
            ExtendedKeyUsagePurpose::ServerAuth,
        )?;
        write_private(&dir.join("ca.crt"), &ca.cert_pem)?;
        write_private(&dir.join("tls.crt"), &serving.cert_pem)?;
        write_private(&dir.join("tls.key"), &serving.key_pem)?;
        let [port, management] = free_ports()?;
        let url = format!("https://127.0.0.1:{port}");
        let admin = ("admin".to_string(), random_secret());

        let data = dir.join("data");
        let mut command = Command::new(home.join("bin/kc.sh"));
        command
            .current_dir(&data)
            .env(
                "JAVA_HOME",
                std::env::var_os("JAVA_HOME").unwrap_or(JAVA_HOME.into()),
            )
            .env(
                "JAVA_OPTS_APPEND",
                format!(
                    "-Dquarkus.transaction-manager.object-store.directory={}",
                    data.join("transaction-logs").display()
                ),
            )
            .env("KC_BOOTSTRAP_ADMIN_USERNAME", &admin.0)
            .env("KC_BOOTSTRAP_ADMIN_PASSWORD", &admin.1)
            .args(["start", "--optimized", "--http-enabled=false"])
            .arg(format!(
                "--db-url=jdbc:h2:file:{}/keycloakdb;NON_KEYWORDS=VALUE",
                data.display()
            ))
            .args(["--http-host=127.0.0.1", "--http-management-host=127.0.0.1"])
            .arg(format!("--https-port={port}"))
            .arg(format!("--http-management-port={management}"))
            .arg(format!("--hostname={url}"))
            .arg(format!(
                "--https-certificate-file={}",
                dir.join("tls.crt").display()
            ))
            .arg(format!(
                "--https-certificate-key-file={}",
                dir.join("tls.key").display()
            ));
        let process = Process::spawn_command(&dir, "keycloak", command, true)?;
        let http = Http::new(&url, Some(ca.cert_pem.as_bytes()), Duration::from_secs(30))?;
        let keycloak = Self {
            dir,
            url,
            ca,
            admin,
            http,
            process: Mutex::new(process),
            watchdog,
        };
        keycloak.wait_ready(management)?;
        Ok(keycloak)
    }

    /// `https://127.0.0.1:<port>`, the base of every realm's issuer URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The issuer URL of `realm`, as Keycloak writes it in the tokens' `iss`.
    pub fn issuer(&self, realm: &str) -> String {
        format!("{}/realms/{realm}", self.url)
    }

    /// The CA that signed Keycloak's serving certificate.
    pub fn ca(&self) -> &Identity {
        &self.ca
    }

    /// The CA certificate's PEM file (0600).
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.crt")
    }

    /// The bootstrap admin's user name and password (of the `master` realm).
    pub fn admin_credentials(&self) -> (&str, &str) {
        (&self.admin.0, &self.admin.1)
    }

    /// An HTTP client of this Keycloak that trusts its CA.
    pub fn http(&self) -> &Http {
        &self.http
    }

    /// A fresh admin access token (the `master` realm's `admin-cli`, valid 60 s).
    pub fn admin_token(&self) -> Result<String, KeycloakHarnessError> {
        let tokens = password_grant(
            &self.http,
            "master",
            "admin-cli",
            &self.admin.0,
            &self.admin.1,
        )?;
        Ok(tokens.access_token)
    }

    /// Creates (once) the test-only client [`TEST_CLIENT`] in `realm`: public, direct access
    /// grants on, a `groups` claim (flat names) and `audience` added to the ID token, so its
    /// tokens look like those of the real client named `audience`.
    pub fn create_test_client(
        &self,
        realm: &str,
        audience: &str,
    ) -> Result<(), KeycloakHarnessError> {
        let mapper = |name: &str, kind: &str, config: serde_json::Value| json!({"name": name, "protocol": "openid-connect", "protocolMapper": kind, "config": config});
        let client = json!({
            "clientId": TEST_CLIENT,
            "protocol": "openid-connect",
            "publicClient": true,
            "standardFlowEnabled": false,
            "directAccessGrantsEnabled": true,
            "protocolMappers": [
                mapper("groups", "oidc-group-membership-mapper", json!({
                    "claim.name": "groups", "full.path": "false", "id.token.claim": "true",
                    "access.token.claim": "true", "userinfo.token.claim": "true"})),
                mapper("audience", "oidc-audience-mapper", json!({
                    "included.client.audience": audience, "id.token.claim": "true",
                    "access.token.claim": "true"})),
            ],
        });
        let path = format!("/admin/realms/{realm}/clients");
        self.admin_call(Method::Post, &path, Body::Json(&client), &[201, 409])
            .map(drop)
    }

    /// Completes `username`'s profile in `realm` (first and last name, a verified e-mail: Keycloak
    /// refuses logins of users without them) and sets its password (not temporary), as the
    /// person would at first login.
    pub fn set_password(
        &self,
        realm: &str,
        username: &str,
        password: &str,
    ) -> Result<(), KeycloakHarnessError> {
        let path = format!("/admin/realms/{realm}/users?username={username}&exact=true");
        let users = self.admin_call(Method::Get, &path, Body::Empty, &[200])?;
        let id = users[0]["id"].as_str().ok_or_else(|| {
            KeycloakHarnessError::Install(format!("no user `{username}` in realm `{realm}`"))
        })?;
        let profile = json!({"firstName": username, "lastName": "Test",
                             "email": format!("{username}@example.test"), "emailVerified": true});
        let path = format!("/admin/realms/{realm}/users/{id}");
        self.admin_call(Method::Put, &path, Body::Json(&profile), &[204])?;
        let credential = json!({"type": "password", "value": password, "temporary": false});
        let path = format!("/admin/realms/{realm}/users/{id}/reset-password");
        self.admin_call(Method::Put, &path, Body::Json(&credential), &[204])
            .map(drop)
    }

    /// Tokens of `username` by password grant through [`TEST_CLIENT`] in `realm`.
    pub fn password_tokens(
        &self,
        realm: &str,
        username: &str,
        password: &str,
    ) -> Result<Tokens, KeycloakHarnessError> {
        Ok(password_grant(
            &self.http,
            realm,
            TEST_CLIENT,
            username,
            password,
        )?)
    }

    /// Calls the admin API as the bootstrap admin; the answer's JSON when its status is one of
    /// `expected`.
    pub fn admin_call(
        &self,
        method: Method,
        path: &str,
        body: Body<'_>,
        expected: &[u16],
    ) -> Result<serde_json::Value, KeycloakHarnessError> {
        let token = self.admin_token()?;
        let response = self.http.send(method, path, Some(&token), body)?;
        if expected.contains(&response.status) {
            Ok(response.json())
        } else {
            Err(self.http.unexpected(method, path, &response).into())
        }
    }

    /// The folder with `logs/keycloak.log`.
    pub fn logs(&self) -> PathBuf {
        self.dir.join("logs")
    }

    /// Polls `/health/ready` on the management port, failing early when Keycloak has exited.
    fn wait_ready(&self, management: u16) -> Result<(), KeycloakHarnessError> {
        let health = Http::new(
            &format!("https://127.0.0.1:{management}"),
            Some(self.ca.cert_pem.as_bytes()),
            Duration::from_secs(5),
        )?;
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            self.process.lock().expect("process").check_running()?;
            if health
                .send(Method::Get, "/health/ready", None, Body::Empty)
                .is_ok_and(|r| r.status == 200)
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(KeycloakHarnessError::Timeout {
                    log: process::tail(&self.logs().join("keycloak.log")),
                });
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

impl Drop for Keycloak {
    fn drop(&mut self) {
        self.process.lock().expect("process").stop();
        let _ = self.watchdog.kill();
        let _ = self.watchdog.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `HARMONY_KEYCLOAK`, or what `tools/keycloak/install` prints (run once per process).
fn locate() -> Result<PathBuf, KeycloakHarnessError> {
    static HOME: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let home = HOME
        .get_or_init(|| match std::env::var_os(ENV) {
            Some(home) => Ok(PathBuf::from(home)),
            None => install(),
        })
        .clone()
        .map_err(KeycloakHarnessError::Install)?;
    if !home.join("bin/kc.sh").is_file() {
        return Err(KeycloakHarnessError::Install(format!(
            "{} is missing: run {INSTALL} (.ci/install runs it) and set {ENV} to the folder it prints",
            home.join("bin/kc.sh").display()
        )));
    }
    Ok(home)
}

/// Runs the install script; its stdout is the folder, its progress goes to our stderr.
fn install() -> Result<PathBuf, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(INSTALL);
    let out = Command::new("bash")
        .arg(&script)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} failed ({}); run it by hand to see why",
            script.display(),
            out.status
        ));
    }
    Ok(PathBuf::from(
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
    ))
}

/// The claims of a JWT (its middle part), unverified: for assertions on tokens.
pub fn jwt_claims(jwt: &str) -> serde_json::Value {
    use base64::Engine;
    let payload = jwt.split('.').nth(1).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// 24 random alphanumeric characters.
fn random_secret() -> String {
    use rand::RngExt;
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::rng();
    (0..24)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect()
}
