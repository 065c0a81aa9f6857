//! The vanilla Alertmanager base configuration, as rendered into its Secret, through the real
//! `amtool check-config` (Debian's prometheus-alertmanager); a broken copy is refused by it, which
//! shows the checker runs. Then a real Alertmanager runs it on loopback: a critical alert inhibits
//! the warning of its own namespace, never another namespace's.

use harmony_tenant::PlanObject;
use std::path::Path;
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

use harmony_guardrails::monitoring::vanilla::{
    ALERTMANAGER_CONFIG_KEY, ALERTMANAGER_CONFIG_SECRET,
};
use harmony_guardrails::monitoring::{ClusterMonitoring, MonitoringObject, compile_monitoring};
use harmony_tenant::ClusterFlavor;

fn check_config(path: &Path) -> Output {
    Command::new("amtool")
        .arg("check-config")
        .arg(path)
        .output()
        .expect("amtool is installed (.ci/install: prometheus-alertmanager)")
}

/// The base configuration as the rendered Secret carries it.
fn rendered_base() -> String {
    let plan = compile_monitoring(&ClusterMonitoring::default(), ClusterFlavor::Kubernetes);
    let secret = plan
        .objects()
        .iter()
        .find_map(|o| match o {
            MonitoringObject::Secret(s) if o.name() == ALERTMANAGER_CONFIG_SECRET => Some(s),
            _ => None,
        })
        .expect("the Alertmanager configuration Secret");
    let bytes = &secret.data.as_ref().unwrap()[ALERTMANAGER_CONFIG_KEY].0;
    String::from_utf8(bytes.clone()).unwrap()
}

#[test]
fn the_rendered_alertmanager_base_passes_amtool_check_config() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("alertmanager.yaml");
    std::fs::write(&good, rendered_base()).unwrap();
    let out = check_config(&good);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("SUCCESS"), "{stdout}");
    assert!(stdout.contains(" - 1 inhibit rules"), "{stdout}");
    assert!(stdout.contains(" - 1 receivers"), "{stdout}");

    // The same document routing to a receiver it does not define: amtool refuses it.
    let broken = dir.path().join("broken.yaml");
    std::fs::write(
        &broken,
        rendered_base().replace("receiver: 'null'", "receiver: 'missing'"),
    )
    .unwrap();
    let out = check_config(&broken);
    assert!(!out.status.success());
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains("undefined receiver \"missing\""), "{all}");
}

/// A running Alertmanager, killed when dropped.
struct Alertmanager {
    child: Child,
    url: String,
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Alertmanager {
    /// Alertmanager with `config` on a free loopback port, without clustering.
    fn start(dir: &Path, config: &Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("prometheus-alertmanager")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.path={}", dir.join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("prometheus-alertmanager is installed (.ci/install)");
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    fn amtool(&self, args: &[&str]) -> Output {
        Command::new("amtool")
            .args(args)
            .arg(format!("--alertmanager.url={}", self.url))
            .output()
            .unwrap()
    }

    /// Every alert, inhibited ones included.
    fn alerts(&self) -> Vec<serde_json::Value> {
        let out = self.amtool(&[
            "alert",
            "query",
            "--active",
            "--inhibited",
            "--unprocessed",
            "-o",
            "json",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

/// Whether the alert of `namespace` with `severity` is inhibited.
fn inhibited(alerts: &[serde_json::Value], namespace: &str, severity: &str) -> bool {
    let alert = alerts
        .iter()
        .find(|a| a["labels"]["namespace"] == namespace && a["labels"]["severity"] == severity)
        .unwrap_or_else(|| panic!("{namespace} {severity} in {alerts:?}"));
    alert["status"]["inhibitedBy"]
        .as_array()
        .is_some_and(|by| !by.is_empty())
}

#[test]
fn a_real_alertmanager_inhibits_only_within_a_namespace() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("alertmanager.yaml");
    std::fs::write(&config, rendered_base()).unwrap();
    let alertmanager = Alertmanager::start(dir.path(), &config);
    let started = Instant::now();
    while !alertmanager.amtool(&["config", "show"]).status.success() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "Alertmanager did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    for (namespace, severity) in [
        ("acme", "critical"),
        ("acme", "warning"),
        ("globex", "warning"),
    ] {
        let out = alertmanager.amtool(&[
            "alert",
            "add",
            "alertname=TargetDown",
            &format!("severity={severity}"),
            &format!("namespace={namespace}"),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let started = Instant::now();
    let alerts = loop {
        let alerts = alertmanager.alerts();
        if alerts.len() == 3 && inhibited(&alerts, "acme", "warning") {
            break alerts;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "acme's warning is inhibited by acme's critical alert: {alerts:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(!inhibited(&alerts, "globex", "warning"), "{alerts:?}");
    assert!(!inhibited(&alerts, "acme", "critical"), "{alerts:?}");
}
