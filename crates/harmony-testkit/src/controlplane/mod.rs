//! A real Kubernetes control plane for tests: etcd, kube-apiserver and kube-controller-manager
//! built from their Go modules by `tools/controlplane/build`, started on free loopback ports.
//!
//! - The API server runs `--authorization-mode=Node,RBAC` with the default admission plugins
//!   (NamespaceLifecycle, PodSecurity, ValidatingAdmissionPolicy, ResourceQuota, ...), a generated
//!   CA, serving certificate, an admin client certificate (`system:masters`) and service-account
//!   signing keys, so TokenRequest works. An AuthenticationConfiguration file can be passed.
//! - The controller manager runs the controllers the product relies on: namespace finalization,
//!   resource quota status, service accounts, cluster-role aggregation, the garbage collector,
//!   PVC protection, admission-policy status and CSR signing (by the test CA, which the API
//!   server trusts for client certificates).
//! - The AdminNetworkPolicy/BaselineAdminNetworkPolicy CRDs are installed, and for
//!   [`Flavor::Okd`] OpenShift's `config.openshift.io` Network CRD with a `cluster` object holding
//!   the pod and service networks, the `route.openshift.io` Route CRD (as MicroShift serves
//!   Routes) and the `quota.openshift.io` ClusterResourceQuota CRD (stored, not enforced: no
//!   OpenShift quota controller runs).
//!
//! Every process is killed by PID when the [`ControlPlane`] is dropped, and by a watchdog when
//! the test process dies; [`ControlPlane::shared`] keeps one per test binary. Logs are kept when
//! a test fails (see [`ControlPlane::failure_guard`]).

mod binaries;
pub(crate) mod pki;
pub(crate) mod process;

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use harmony_kube::kinds::{
    ADMIN_NETWORK_POLICY, BASELINE_ADMIN_NETWORK_POLICY, OKD_NETWORK, OKD_ROUTE,
};

use crate::Flavor;

/// The CRD file of OpenShift's ClusterResourceQuota (from `github.com/openshift/api` quota/v1).
const OKD_CLUSTER_RESOURCE_QUOTA_CRD: &str = "clusterresourcequotas.quota.openshift.io.yaml";
pub use binaries::Binaries;
pub use pki::Identity;
use pki::Pki;
use process::Process;

/// The prometheus-operator CRDs `tools/controlplane/build` gathers, by plural.
const MONITORING_CRDS: [&str; 6] = [
    "prometheusrules",
    "alertmanagerconfigs",
    "servicemonitors",
    "podmonitors",
    "prometheuses",
    "alertmanagers",
];

/// How long the control plane may take to become ready.
const READY_TIMEOUT: Duration = Duration::from_secs(90);

/// What to start.
#[derive(Debug, Clone, Default)]
pub struct ControlPlaneOptions {
    /// Vanilla Kubernetes, or OKD-flavoured (the `config.openshift.io` Network CRD and object).
    pub flavor: Flavor,
    /// A structured `AuthenticationConfiguration` (YAML), given to `--authentication-config`.
    pub authentication_config: Option<String>,
    /// More kube-apiserver flags, such as `--audit-policy-file=PATH`.
    pub apiserver_args: Vec<String>,
}

impl ControlPlaneOptions {
    /// A vanilla control plane whose API server writes its audit log to `log` under `policy`,
    /// each event before the request is answered (`--audit-log-mode=blocking`).
    pub fn audited(policy: &Path, log: &Path) -> Self {
        Self {
            apiserver_args: vec![
                format!("--audit-policy-file={}", policy.display()),
                format!("--audit-log-path={}", log.display()),
                "--audit-log-mode=blocking".into(),
            ],
            ..Self::default()
        }
    }
}

/// Why the control plane could not start or answer.
#[derive(Debug, thiserror::Error)]
pub enum ControlPlaneError {
    /// The binaries could not be found or built.
    #[error("control plane binaries: {0}")]
    Binaries(String),
    /// A file or process operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or program.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Certificates or keys could not be made.
    #[error("certificates: {0}")]
    Pki(#[from] rcgen::Error),
    /// A server process ended.
    #[error("{process} exited ({status}); {log}")]
    Exited {
        /// Which process.
        process: &'static str,
        /// Its exit status.
        status: String,
        /// The tail of its log.
        log: String,
    },
    /// Something did not become ready in time.
    #[error("timed out after {:?} waiting for {what}; {log}", READY_TIMEOUT)]
    Timeout {
        /// What was awaited.
        what: String,
        /// The tail of the API server's log.
        log: String,
    },
    /// A kubectl call failed.
    #[error("kubectl {args}: {stderr}")]
    Kubectl {
        /// Its arguments.
        args: String,
        /// What it printed on stderr.
        stderr: String,
    },
}

impl ControlPlaneError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// A running control plane; every process stops when it is dropped.
pub struct ControlPlane {
    dir: PathBuf,
    url: String,
    flavor: Flavor,
    ca: Identity,
    binaries: Binaries,
    processes: Vec<Process>,
    watchdog: Child,
}

impl std::fmt::Debug for ControlPlane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControlPlane")
            .field("url", &self.url)
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

static SEQUENCE: AtomicUsize = AtomicUsize::new(0);

impl ControlPlane {
    /// Starts a vanilla control plane.
    pub fn start() -> Result<Self, ControlPlaneError> {
        Self::start_with(ControlPlaneOptions::default())
    }

    /// The vanilla control plane shared by the tests of this test binary, started on first use.
    /// Give each test its own namespace or tenant name ([`ControlPlane::unique_name`]).
    pub fn shared() -> &'static ControlPlane {
        static SHARED: OnceLock<ControlPlane> = OnceLock::new();
        SHARED.get_or_init(|| Self::start().unwrap_or_else(|e| panic!("control plane: {e}")))
    }

    /// A name unique within this test process, e.g. `unique_name("e2e")` → `e2e-3`.
    pub fn unique_name(prefix: &str) -> String {
        format!("{prefix}-{}", SEQUENCE.fetch_add(1, Ordering::Relaxed))
    }

    /// Starts a control plane as `options` say and waits until it is ready. A server that exits
    /// while starting (another process took a port between our probe and its bind) is retried on
    /// new ports, up to three times in all.
    pub fn start_with(options: ControlPlaneOptions) -> Result<Self, ControlPlaneError> {
        let mut attempt = 1;
        loop {
            match Self::start_once(&options) {
                Err(ControlPlaneError::Exited { .. }) if attempt < 3 => attempt += 1,
                started => return started,
            }
        }
    }

    fn start_once(options: &ControlPlaneOptions) -> Result<Self, ControlPlaneError> {
        let binaries = Binaries::locate()?;
        let dir = std::env::temp_dir().join(format!(
            "harmony-controlplane-{}-{}",
            std::process::id(),
            SEQUENCE.fetch_add(1, Ordering::Relaxed)
        ));
        for sub in ["logs", "pki", "etcd"] {
            std::fs::create_dir_all(dir.join(sub)).map_err(|e| ControlPlaneError::io(&dir, e))?;
        }
        let watchdog = process::start_watchdog(&dir)?;
        let (pods, services, service_ip) = networks(options.flavor);
        let pki = Pki::generate(service_ip)?;
        let files = write_pki(&dir, &pki)?;
        let [etcd_client, etcd_peer, api_port] = free_ports()?;
        let url = format!("https://127.0.0.1:{api_port}");
        let mut plane = Self {
            dir,
            url,
            flavor: options.flavor,
            ca: pki.ca.clone(),
            binaries,
            processes: Vec::new(),
            watchdog,
        };
        write_private(
            &plane.kubeconfig(),
            &kubeconfig(&plane.url, &pki.ca, &pki.admin),
        )?;
        write_private(
            &plane.dir.join("kcm.kubeconfig"),
            &kubeconfig(&plane.url, &pki.ca, &pki.controller_manager),
        )?;

        let etcd_url = |port: u16| format!("http://127.0.0.1:{port}");
        let etcd_args = [
            format!("--data-dir={}", plane.dir.join("etcd").display()),
            format!("--listen-client-urls={}", etcd_url(etcd_client)),
            format!("--advertise-client-urls={}", etcd_url(etcd_client)),
            format!("--listen-peer-urls={}", etcd_url(etcd_peer)),
            format!("--initial-advertise-peer-urls={}", etcd_url(etcd_peer)),
            format!("--initial-cluster=default={}", etcd_url(etcd_peer)),
            "--unsafe-no-fsync".into(),
            "--log-level=warn".into(),
        ];
        plane.spawn("etcd", &etcd_args)?;

        let mut apiserver_args = vec![
            format!("--etcd-servers={}", etcd_url(etcd_client)),
            "--bind-address=127.0.0.1".into(),
            "--advertise-address=127.0.0.1".into(),
            format!("--secure-port={api_port}"),
            format!("--tls-cert-file={}", files.serving_cert.display()),
            format!("--tls-private-key-file={}", files.serving_key.display()),
            format!("--client-ca-file={}", files.ca_cert.display()),
            format!("--service-cluster-ip-range={services}"),
            "--allow-privileged=true".into(),
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local".into(),
            format!("--service-account-key-file={}", files.sa_pub.display()),
            format!(
                "--service-account-signing-key-file={}",
                files.sa_key.display()
            ),
            "--authorization-mode=Node,RBAC".into(),
            "--profiling=false".into(),
        ];
        if let Some(config) = &options.authentication_config {
            let path = plane.dir.join("authentication.yaml");
            write_private(&path, config)?;
            apiserver_args.push(format!("--authentication-config={}", path.display()));
        }
        apiserver_args.extend(options.apiserver_args.iter().cloned());
        plane.spawn("kube-apiserver", &apiserver_args)?;
        plane.wait_for("the API server's /readyz", |p| {
            Ok(p.kubectl_output(&["get", "--raw", "/readyz"])?
                .status
                .success())
        })?;

        let kcm_kubeconfig = plane.dir.join("kcm.kubeconfig");
        let kcm_args = [
            format!("--kubeconfig={}", kcm_kubeconfig.display()),
            "--leader-elect=false".into(),
            "--secure-port=0".into(),
            "--use-service-account-credentials=true".into(),
            format!(
                "--service-account-private-key-file={}",
                files.sa_key.display()
            ),
            format!("--root-ca-file={}", files.ca_cert.display()),
            format!("--cluster-signing-cert-file={}", files.ca_cert.display()),
            format!("--cluster-signing-key-file={}", files.ca_key.display()),
            "--cluster-signing-duration=24h".into(),
            format!("--cluster-cidr={pods}"),
            format!("--service-cluster-ip-range={services}"),
            "--concurrent-namespace-syncs=10".into(),
            "--controllers=namespace-controller,garbage-collector-controller,\
             resourcequota-controller,serviceaccount-controller,serviceaccount-token-controller,\
             clusterrole-aggregation-controller,root-ca-certificate-publisher-controller,\
             certificatesigningrequest-signing-controller,\
             certificatesigningrequest-approving-controller,\
             certificatesigningrequest-cleaner-controller,\
             persistentvolumeclaim-protection-controller,persistentvolume-protection-controller,\
             validatingadmissionpolicy-status-controller"
                .into(),
        ];
        plane.spawn("kube-controller-manager", &kcm_args)?;
        plane.install_crds()?;
        plane.wait_for(
            "cluster-role aggregation (clusterrole/admin has rules)",
            |p| {
                let out = p.kubectl_output(&["get", "clusterrole", "admin", "-o", "json"])?;
                let role: serde_json::Value =
                    serde_json::from_slice(&out.stdout).unwrap_or_default();
                Ok(role["rules"].as_array().is_some_and(|r| !r.is_empty()))
            },
        )?;
        plane.wait_for("the default ServiceAccount", |p| {
            Ok(
                p.kubectl_output(&["get", "serviceaccount", "default", "-n", "default"])?
                    .status
                    .success(),
            )
        })?;
        Ok(plane)
    }

    /// `https://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The flavor this control plane was started as.
    pub fn flavor(&self) -> Flavor {
        self.flavor
    }

    /// The admin kubeconfig (`system:masters`), written 0600.
    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.join("admin.kubeconfig")
    }

    /// The cluster CA, which signs the serving certificate and CSRs.
    pub fn ca(&self) -> &Identity {
        &self.ca
    }

    /// The pod network tenants are compiled against (nothing routes it: no nodes run here).
    pub fn pod_network(&self) -> ipnet::IpNet {
        networks(self.flavor).0.parse().expect("a CIDR")
    }

    /// The service network (`--service-cluster-ip-range`).
    pub fn service_network(&self) -> ipnet::IpNet {
        networks(self.flavor).1.parse().expect("a CIDR")
    }

    /// The binaries and CRDs this control plane runs.
    pub fn binaries(&self) -> &Binaries {
        &self.binaries
    }

    /// A kube-rs configuration as the admin.
    pub async fn config(&self) -> kube::Config {
        let file = kube::config::Kubeconfig::read_from(self.kubeconfig())
            .expect("the admin kubeconfig we wrote parses");
        kube::Config::from_custom_kubeconfig(file, &kube::config::KubeConfigOptions::default())
            .await
            .expect("the admin kubeconfig we wrote is usable")
    }

    /// A kube-rs configuration that impersonates `user` with `groups` (as `kubectl --as`).
    pub async fn config_as(&self, user: &str, groups: &[&str]) -> kube::Config {
        let mut config = self.config().await;
        config.auth_info.impersonate = Some(user.to_string());
        config.auth_info.impersonate_groups =
            (!groups.is_empty()).then(|| groups.iter().map(|g| g.to_string()).collect());
        config
    }

    /// An admin kube-rs client (call inside a tokio runtime).
    pub async fn client(&self) -> kube::Client {
        kube::Client::try_from(self.config().await).expect("a client from our own config")
    }

    /// `kubectl --kubeconfig ADMIN`, ready for more arguments.
    pub fn kubectl(&self) -> Command {
        let mut command = Command::new(self.binaries.kubectl());
        command.arg("--kubeconfig").arg(self.kubeconfig());
        command
    }

    /// Runs kubectl as the admin; its stdout, or an error with its stderr.
    pub fn kubectl_run(&self, args: &[&str]) -> Result<String, ControlPlaneError> {
        let out = self.kubectl_output(args)?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(ControlPlaneError::Kubectl {
                args: args.join(" "),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            })
        }
    }

    /// Installs the prometheus-operator CRDs (`monitoring.coreos.com`: PrometheusRule,
    /// AlertmanagerConfig, ServiceMonitor, PodMonitor, Prometheus, Alertmanager) and waits until
    /// they are served. No operator runs: the objects are stored and validated, not acted on.
    pub fn install_monitoring_crds(&self) -> Result<(), ControlPlaneError> {
        let names = MONITORING_CRDS.map(|plural| format!("{plural}.monitoring.coreos.com"));
        for name in &names {
            let file = self.binaries.crd(&format!("{name}.yaml"));
            self.kubectl_run(&["apply", "--server-side", "-f", &file.to_string_lossy()])?;
        }
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        self.wait_crds(&names)
    }

    /// Waits (up to a minute) until the API server serves the CRDs `names` (such as
    /// `tenants.harmony.nationtech.io`).
    pub fn wait_crds(&self, names: &[&str]) -> Result<(), ControlPlaneError> {
        let mut wait = vec!["wait", "--for=condition=Established", "--timeout=60s"];
        let crds: Vec<String> = names.iter().map(|name| format!("crd/{name}")).collect();
        wait.extend(crds.iter().map(String::as_str));
        self.kubectl_run(&wait)?;
        Ok(())
    }

    /// Applies `objects` (each with its `apiVersion` and `kind`, such as a serialized k8s-openapi
    /// object) as the admin, with server-side apply.
    pub fn apply<T: serde::Serialize>(&self, objects: &[T]) -> Result<(), ControlPlaneError> {
        let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": objects});
        let path = self
            .dir
            .join(format!("{}.json", Self::unique_name("apply")));
        std::fs::write(&path, list.to_string()).map_err(|e| ControlPlaneError::io(&path, e))?;
        self.kubectl_run(&["apply", "--server-side", "-f", &path.to_string_lossy()])?;
        Ok(())
    }

    /// Keeps this control plane's logs if the current test panics: hold the guard for the test's
    /// length; on a panic it marks the folder to keep and prints where the logs are.
    pub fn failure_guard(&self) -> FailureGuard<'_> {
        FailureGuard(self)
    }

    /// The folder with `logs/etcd.log`, `logs/kube-apiserver.log`, ...
    pub fn logs(&self) -> PathBuf {
        self.dir.join("logs")
    }

    fn kubectl_output(&self, args: &[&str]) -> Result<Output, ControlPlaneError> {
        self.kubectl()
            .args(args)
            .output()
            .map_err(|e| ControlPlaneError::io(&self.binaries.kubectl(), e))
    }

    fn spawn(&mut self, name: &'static str, args: &[String]) -> Result<(), ControlPlaneError> {
        let program = self.binaries.bin(name);
        let process = Process::spawn(&self.dir, name, &program, args)?;
        self.processes.push(process);
        Ok(())
    }

    /// Polls `ready` until it says yes, failing early when a process has exited.
    fn wait_for(
        &mut self,
        what: &str,
        ready: impl Fn(&Self) -> Result<bool, ControlPlaneError>,
    ) -> Result<(), ControlPlaneError> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            for process in &mut self.processes {
                process.check_running()?;
            }
            if ready(self)? {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(ControlPlaneError::Timeout {
                    what: what.to_string(),
                    log: process::tail(&self.logs().join("kube-apiserver.log")),
                });
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn install_crds(&mut self) -> Result<(), ControlPlaneError> {
        let mut crds = vec![
            self.binaries.crd("adminnetworkpolicies.yaml"),
            self.binaries.crd("baselineadminnetworkpolicies.yaml"),
        ];
        if self.flavor == Flavor::Okd {
            crds.push(self.binaries.crd("networks.config.openshift.io.yaml"));
            crds.push(self.binaries.crd("routes.route.openshift.io.yaml"));
            crds.push(self.binaries.crd(OKD_CLUSTER_RESOURCE_QUOTA_CRD));
        }
        for crd in &crds {
            self.kubectl_run(&["apply", "--server-side", "-f", &crd.to_string_lossy()])?;
        }
        self.wait_crds(&[
            &ADMIN_NETWORK_POLICY.resource(),
            &BASELINE_ADMIN_NETWORK_POLICY.resource(),
        ])?;
        if self.flavor == Flavor::Okd {
            self.wait_crds(&[
                &OKD_NETWORK.resource(),
                &OKD_ROUTE.resource(),
                "clusterresourcequotas.quota.openshift.io",
            ])?;
            let (pods, services, _) = networks(Flavor::Okd);
            let network = format!(
                r#"{{"apiVersion":"config.openshift.io/v1","kind":"Network","metadata":{{"name":"cluster"}},
                "spec":{{"clusterNetwork":[{{"cidr":"{pods}","hostPrefix":23}}],"serviceNetwork":["{services}"],
                "networkType":"OVNKubernetes"}}}}"#
            );
            let path = self.dir.join("network-cluster.json");
            std::fs::write(&path, network).map_err(|e| ControlPlaneError::io(&path, e))?;
            self.wait_for("the config.openshift.io Network kind to be served", |p| {
                Ok(p.kubectl_output(&["get", &OKD_NETWORK.resource()])?
                    .status
                    .success())
            })?;
            self.kubectl_run(&["apply", "--server-side", "-f", &path.to_string_lossy()])?;
        }
        Ok(())
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        for process in self.processes.iter_mut().rev() {
            process.stop();
        }
        let _ = self.watchdog.kill();
        let _ = self.watchdog.wait();
        let kept = self.dir.join("keep").exists();
        let _ = std::fs::remove_dir_all(if kept {
            self.dir.join("etcd")
        } else {
            self.dir.clone()
        });
    }
}

/// See [`ControlPlane::failure_guard`].
pub struct FailureGuard<'a>(&'a ControlPlane);

impl Drop for FailureGuard<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let _ = std::fs::write(self.0.dir.join("keep"), "");
            eprintln!(
                "control plane logs kept in {} (kubeconfig {})",
                self.0.logs().display(),
                self.0.kubeconfig().display()
            );
        }
    }
}

/// Pod network, service network and the `kubernetes` Service address of a flavor.
fn networks(flavor: Flavor) -> (&'static str, &'static str, &'static str) {
    match flavor {
        Flavor::Vanilla => ("10.244.0.0/16", "10.96.0.0/12", "10.96.0.1"),
        Flavor::Okd => ("10.128.0.0/14", "172.30.0.0/16", "172.30.0.1"),
    }
}

/// `N` free loopback ports (bound together, then released).
pub(crate) fn free_ports<const N: usize>() -> Result<[u16; N], ControlPlaneError> {
    let error = |e| ControlPlaneError::io(Path::new("127.0.0.1:0"), e);
    let mut listeners = Vec::with_capacity(N);
    let mut ports = [0; N];
    for port in &mut ports {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(error)?;
        *port = listener.local_addr().map_err(error)?.port();
        listeners.push(listener);
    }
    Ok(ports)
}

struct PkiFiles {
    ca_cert: PathBuf,
    ca_key: PathBuf,
    serving_cert: PathBuf,
    serving_key: PathBuf,
    sa_key: PathBuf,
    sa_pub: PathBuf,
}

fn write_pki(dir: &Path, pki: &Pki) -> Result<PkiFiles, ControlPlaneError> {
    let at = |name: &str| dir.join("pki").join(name);
    let files = PkiFiles {
        ca_cert: at("ca.crt"),
        ca_key: at("ca.key"),
        serving_cert: at("apiserver.crt"),
        serving_key: at("apiserver.key"),
        sa_key: at("sa.key"),
        sa_pub: at("sa.pub"),
    };
    write_private(&files.ca_cert, &pki.ca.cert_pem)?;
    write_private(&files.ca_key, &pki.ca.key_pem)?;
    write_private(&files.serving_cert, &pki.serving.cert_pem)?;
    write_private(&files.serving_key, &pki.serving.key_pem)?;
    write_private(&files.sa_key, &pki.service_account_key)?;
    write_private(&files.sa_pub, &pki.service_account_pub)?;
    Ok(files)
}

/// Writes `contents` to a new file readable by its owner only.
pub(crate) fn write_private(path: &Path, contents: &str) -> Result<(), ControlPlaneError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| ControlPlaneError::io(path, e))?;
    file.write_all(contents.as_bytes())
        .map_err(|e| ControlPlaneError::io(path, e))
}

/// A kubeconfig with one cluster, one user (a client certificate) and one context.
fn kubeconfig(url: &str, ca: &Identity, user: &Identity) -> String {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: harmony-test
  cluster:
    server: {url}
    certificate-authority-data: {}
users:
- name: admin
  user:
    client-certificate-data: {}
    client-key-data: {}
contexts:
- name: harmony-test
  context: {{cluster: harmony-test, user: admin, namespace: default}}
current-context: harmony-test
",
        b64(&ca.cert_pem),
        b64(&user.cert_pem),
        b64(&user.key_pem)
    )
}
