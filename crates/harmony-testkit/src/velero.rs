//! Velero for tests, against a [`ControlPlane`]: its CRDs, `velero server` as a plain process
//! with the AWS object-store plugin, and moto's S3 server on loopback as the store, with the
//! BackupStorageLocation `default` pointing at it. Built by `tools/velero/build` (or found at
//! `HARMONY_VELERO`); a missing tool is an error naming that script, never a skipped test.
//!
//! No node agent runs and no volume is snapshotted: Velero backs up and restores API objects.
//! Every process is killed when the [`Velero`] is dropped (and by a watchdog if the test process
//! dies).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::controlplane::free_ports;
use crate::controlplane::process::{self, Process};
use crate::{ControlPlane, ControlPlaneError};

/// The environment variable naming the folder `tools/velero/build` prints.
pub const ENV: &str = "HARMONY_VELERO";
/// Velero's namespace.
pub const NAMESPACE: &str = "velero";
/// The bucket backups go to.
pub const BUCKET: &str = "velero";
/// The BackupStorageLocation the harness creates.
pub const LOCATION: &str = "default";
/// The Secret with the (test-only) S3 credentials moto accepts.
const CREDENTIALS: &str = "cloud-credentials";
/// How long Velero and moto may take to become ready.
const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// Velero and its object store, running.
pub struct Velero {
    dir: PathBuf,
    tools: PathBuf,
    kubeconfig: PathBuf,
    s3_port: u16,
    moto: Option<Process>,
    server: Option<Process>,
    watchdog: Child,
}

/// The folder `tools/velero/build` prints (it builds on first use), or `HARMONY_VELERO`.
fn tools() -> Result<PathBuf, ControlPlaneError> {
    static ROOT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let root = ROOT.get_or_init(|| {
        if let Some(root) = std::env::var_os(ENV) {
            return Ok(PathBuf::from(root));
        }
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/velero/build");
        let out = Command::new("bash")
            .arg(&script)
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
        if !out.status.success() {
            return Err(format!("{} failed ({})", script.display(), out.status));
        }
        Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
    });
    let root = root.clone().map_err(ControlPlaneError::Binaries)?;
    for needed in [
        "bin/velero",
        "plugins/velero-plugin-for-aws",
        "moto/bin/moto_server",
    ] {
        if !root.join(needed).is_file() {
            return Err(ControlPlaneError::Binaries(format!(
                "{} is missing: run tools/velero/build (.ci/install does) and set {ENV} to the \
                 folder it prints",
                root.join(needed).display()
            )));
        }
    }
    Ok(root)
}

/// One HTTP/1.1 request without a body to `127.0.0.1:port`; the status code.
fn http(port: u16, method: &str, path: &str) -> std::io::Result<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head)?;
    let status = String::from_utf8_lossy(&head[9..12]).parse().unwrap_or(0);
    Ok(status)
}

/// Installs Velero's CRDs (of the version `tools/velero/build` built) on `plane` and waits until
/// they are served: enough to write Schedules, with no Velero server running.
pub fn install_crds(plane: &ControlPlane) -> Result<(), ControlPlaneError> {
    let crds = tools()?.join("crds");
    plane.kubectl_run(&["apply", "--server-side", "-f", &crds.to_string_lossy()])?;
    plane.wait_crds(&[
        "schedules.velero.io",
        "backups.velero.io",
        "restores.velero.io",
        "backupstoragelocations.velero.io",
    ])?;
    Ok(())
}

impl Velero {
    /// Installs Velero's CRDs on `plane`, starts moto (S3) with the bucket, creates the
    /// credentials Secret and the location `default`, starts `velero server` (fast sync and
    /// store validation), and waits until the location is `Available`.
    pub fn start(plane: &ControlPlane) -> Result<Self, ControlPlaneError> {
        let tools = tools()?;
        let dir = std::env::temp_dir().join(format!(
            "harmony-velero-{}-{}",
            std::process::id(),
            ControlPlane::unique_name("v")
        ));
        let logs = dir.join("logs");
        std::fs::create_dir_all(&logs).map_err(|e| ControlPlaneError::io(&logs, e))?;
        let watchdog = process::start_watchdog(&dir)?;
        let mut velero = Self {
            dir,
            tools,
            kubeconfig: plane.kubeconfig(),
            s3_port: free_ports::<1>()?[0],
            moto: None,
            server: None,
            watchdog,
        };
        install_crds(plane)?;
        velero.start_moto()?;
        // Applied, not created: an operator install may have created it for its Schedule Role.
        plane.apply(&[serde_json::json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": NAMESPACE},
        })])?;
        let credentials = velero.dir.join("cloud");
        // moto takes any key; these are no one's credentials.
        std::fs::write(
            &credentials,
            "[default]\naws_access_key_id=harmony-test\naws_secret_access_key=harmony-test\n",
        )
        .map_err(|e| ControlPlaneError::io(&credentials, e))?;
        plane.kubectl_run(&[
            "-n",
            NAMESPACE,
            "create",
            "secret",
            "generic",
            CREDENTIALS,
            &format!("--from-file=cloud={}", credentials.display()),
        ])?;
        velero.point_location_at(plane, velero.s3_port)?;
        // Velero's restore actions read their helper image from the Deployment `velero` an
        // install creates; here it is only an object (no pod runs: no scheduler, no kubelet).
        let deployment = serde_json::json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "velero", "namespace": NAMESPACE},
            "spec": {
                "replicas": 0,
                "selector": {"matchLabels": {"component": "velero"}},
                "template": {
                    "metadata": {"labels": {"component": "velero"}},
                    "spec": {"containers": [{"name": "velero", "image": "velero/velero:v1.18.3"}]},
                },
            },
        });
        plane.apply(&[deployment])?;
        velero.start_server()?;
        velero.wait_location(plane, "Available")?;
        Ok(velero)
    }

    fn start_moto(&mut self) -> Result<(), ControlPlaneError> {
        let args = ["-H", "127.0.0.1", "-p"].map(String::from);
        let mut args = args.to_vec();
        args.push(self.s3_port.to_string());
        let moto = self.tools.join("moto/bin/moto_server");
        let mut process = Process::spawn(&self.dir, "moto", &moto, &args)?;
        let port = self.s3_port;
        let deadline = Instant::now() + READY_TIMEOUT;
        // Ready when it answers; then the bucket is created (200).
        loop {
            process.check_running()?;
            if http(port, "PUT", &format!("/{BUCKET}")).is_ok_and(|s| s == 200) {
                break;
            }
            if Instant::now() > deadline {
                return Err(ControlPlaneError::Timeout {
                    what: "moto's S3 server and its bucket".into(),
                    log: process::tail(&process.log),
                });
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        self.moto = Some(process);
        Ok(())
    }

    /// Starts (or restarts) `velero server`.
    pub fn start_server(&mut self) -> Result<(), ControlPlaneError> {
        let [metrics, profiler] = free_ports()?;
        let args = [
            "server".to_string(),
            format!("--kubeconfig={}", self.kubeconfig.display()),
            format!("--namespace={NAMESPACE}"),
            format!("--plugin-dir={}", self.tools.join("plugins").display()),
            format!("--metrics-address=127.0.0.1:{metrics}"),
            format!("--profiler-address=127.0.0.1:{profiler}"),
            "--backup-sync-period=5s".into(),
            "--store-validation-frequency=3s".into(),
            "--item-operation-sync-frequency=2s".into(),
            "--log-level=info".into(),
        ];
        let velero = self.tools.join("bin/velero");
        self.server = Some(Process::spawn(&self.dir, "velero", &velero, &args)?);
        Ok(())
    }

    /// Stops `velero server`: Backups and Restores created meanwhile stay `New`.
    pub fn stop_server(&mut self) {
        if let Some(mut server) = self.server.take() {
            server.stop();
        }
    }

    /// Points the location `default` at `127.0.0.1:port` (another port than moto's breaks it).
    pub fn point_location_at(
        &self,
        plane: &ControlPlane,
        port: u16,
    ) -> Result<(), ControlPlaneError> {
        let location = serde_json::json!({
            "apiVersion": "velero.io/v1",
            "kind": "BackupStorageLocation",
            "metadata": {"name": LOCATION, "namespace": NAMESPACE},
            "spec": {
                "provider": "aws",
                "default": true,
                "objectStorage": {"bucket": BUCKET},
                "credential": {"name": CREDENTIALS, "key": "cloud"},
                "config": {
                    "region": "us-east-1",
                    "s3ForcePathStyle": "true",
                    "s3Url": format!("http://127.0.0.1:{port}"),
                    "checksumAlgorithm": "",
                },
            },
        });
        plane.apply(&[location])
    }

    /// Points the location back at moto.
    pub fn repair_location(&self, plane: &ControlPlane) -> Result<(), ControlPlaneError> {
        self.point_location_at(plane, self.s3_port)
    }

    /// Waits until Velero has validated the location `default` into `phase`.
    pub fn wait_location(
        &mut self,
        plane: &ControlPlane,
        phase: &str,
    ) -> Result<(), ControlPlaneError> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(server) = &mut self.server {
                server.check_running()?;
            }
            let now = plane.kubectl_run(&[
                "-n",
                NAMESPACE,
                "get",
                "backupstoragelocation",
                LOCATION,
                "-o",
                "jsonpath={.status.phase}",
            ])?;
            if now.trim() == phase {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(ControlPlaneError::Timeout {
                    what: format!(
                        "backup location `{LOCATION}` to be {phase} (it is `{}`)",
                        now.trim()
                    ),
                    log: process::tail(&self.dir.join("logs/velero.log")),
                });
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// The folder with `logs/velero.log` and `logs/moto.log`.
    pub fn logs(&self) -> PathBuf {
        self.dir.join("logs")
    }
}

impl Drop for Velero {
    fn drop(&mut self) {
        self.stop_server();
        if let Some(mut moto) = self.moto.take() {
            moto.stop();
        }
        let _ = self.watchdog.kill();
        let _ = self.watchdog.wait();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
