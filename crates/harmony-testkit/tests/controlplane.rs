//! The control plane harness: the real API server answers as 1.34.4, the controllers the product
//! relies on do their work, and every process dies with the test process (the watchdog).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use harmony_testkit::ControlPlane;

/// Polls `check` for up to 60 s.
fn eventually(what: &str, check: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn the_controllers_the_product_relies_on_run() {
    let plane = ControlPlane::shared();
    let _logs = plane.failure_guard();
    let version = plane.kubectl_run(&["version", "-o", "json"]).unwrap();
    let version: serde_json::Value = serde_json::from_str(&version).unwrap();
    assert_eq!(version["serverVersion"]["gitVersion"], "v1.34.4");
    assert_eq!(version["clientVersion"]["gitVersion"], "v1.34.4");

    let ns = ControlPlane::unique_name("harness");
    plane.kubectl_run(&["create", "namespace", &ns]).unwrap();
    eventually("the serviceaccount controller's default account", || {
        plane
            .kubectl_run(&["get", "serviceaccount", "default", "-n", &ns])
            .is_ok()
    });
    let token = plane
        .kubectl_run(&["create", "token", "default", "-n", &ns])
        .unwrap();
    assert_eq!(
        token.trim().split('.').count(),
        3,
        "TokenRequest gives a JWT"
    );

    plane
        .kubectl_run(&["create", "quota", "q", "--hard=pods=2", "-n", &ns])
        .unwrap();
    eventually("the resourcequota controller's status", || {
        plane
            .kubectl_run(&[
                "get",
                "quota",
                "q",
                "-n",
                &ns,
                "-o",
                "jsonpath={.status.hard.pods}",
            ])
            .is_ok_and(|hard| hard == "2")
    });

    plane
        .kubectl_run(&["delete", "namespace", &ns, "--wait=false"])
        .unwrap();
    eventually("the namespace controller to finalize the namespace", || {
        plane.kubectl_run(&["get", "namespace", &ns]).is_err()
    });
}

/// `true` while `pid` runs (a zombie has finished).
fn running(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z')
    })
}

#[test]
fn the_watchdog_stops_every_process_when_the_test_process_is_killed() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_harmony-controlplane"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let kubeconfig = Path::new(line.trim());
    let dir = kubeconfig.parent().unwrap().to_path_buf();
    let pids: Vec<String> = std::fs::read_to_string(dir.join("pids"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(
        pids.len(),
        3,
        "etcd, kube-apiserver, kube-controller-manager"
    );
    assert!(pids.iter().all(|p| running(p)));

    child.kill().unwrap(); // SIGKILL: no destructor runs
    child.wait().unwrap();
    eventually(
        "the watchdog to kill etcd, kube-apiserver and kube-controller-manager",
        || pids.iter().all(|p| !running(p)),
    );
    eventually("the watchdog to remove the control plane's folder", || {
        !dir.exists()
    });
}

#[test]
fn the_monitoring_crds_are_served_and_validate_objects() {
    let plane = ControlPlane::shared();
    let _logs = plane.failure_guard();
    plane.install_monitoring_crds().unwrap();
    plane.install_monitoring_crds().unwrap(); // idempotent
    let ns = ControlPlane::unique_name("monitoring");
    plane.kubectl_run(&["create", "namespace", &ns]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rule = |expr: &str| {
        format!(
            r#"{{"apiVersion":"monitoring.coreos.com/v1","kind":"PrometheusRule",
            "metadata":{{"name":"r","namespace":"{ns}"}},
            "spec":{{"groups":[{{"name":"g","rules":[{{"alert":"A","expr":{expr}}}]}}]}}}}"#
        )
    };
    let apply = |body: String| {
        let path = dir.path().join("rule.json");
        std::fs::write(&path, body).unwrap();
        plane.kubectl_run(&["apply", "--server-side", "-f", &path.to_string_lossy()])
    };
    apply(rule(r#""up == 0""#)).unwrap();
    let refused = apply(rule("[1]")).unwrap_err().to_string();
    assert!(
        refused.contains("spec.groups[0].rules[0].expr"),
        "{refused}"
    );
}
