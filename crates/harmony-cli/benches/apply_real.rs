//! Tenants onto a real control plane, end to end as an operator runs the commands: `harmony
//! tenant apply` (first apply, then a no-op re-apply) against `kubectl apply --server-side` of the
//! same rendered manifests, each on a fresh control plane, measured in one run.
//!
//! `cargo bench -p harmony-cli --bench apply_real` (`BENCH_TENANTS`, default 500). Requests are
//! counted from the API server's own audit log (every request of the admin identity both tools
//! use), so the count includes discovery and OpenAPI downloads.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use harmony_testkit::{ControlPlane, ControlPlaneOptions};

const AUDIT_POLICY: &str = "apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  users: [harmony-test-admin]
- level: None
";

/// A control plane whose API server logs every request of the admin identity.
struct Audited {
    plane: ControlPlane,
    log: PathBuf,
}

impl Audited {
    fn start(dir: &Path, name: &str) -> Self {
        let policy = dir.join("audit-policy.yaml");
        std::fs::write(&policy, AUDIT_POLICY).expect("audit policy");
        let log = dir.join(format!("{name}-audit.log"));
        let plane = ControlPlane::start_with(ControlPlaneOptions::audited(&policy, &log))
            .expect("control plane");
        Self { plane, log }
    }

    /// Runs `command`, returning its wall time and the requests it made (`verb resource` counts).
    fn measure(&self, command: &mut Command) -> (Duration, usize, BTreeMap<String, usize>) {
        let before = std::fs::metadata(&self.log).map_or(0, |m| m.len() as usize);
        let started = Instant::now();
        let output = command.output().expect("command runs");
        let elapsed = started.elapsed();
        assert!(
            output.status.success(),
            "{:?} failed: {}{}",
            command,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let text = std::fs::read_to_string(&self.log).expect("audit log");
        let mut by_kind = BTreeMap::new();
        let mut total = 0;
        for line in text[before..].lines() {
            let event: serde_json::Value = serde_json::from_str(line).expect("an audit event");
            let resource = event["objectRef"]["resource"]
                .as_str()
                .unwrap_or("(discovery)");
            let verb = event["verb"].as_str().unwrap_or_default();
            *by_kind.entry(format!("{verb} {resource}")).or_insert(0) += 1;
            total += 1;
        }
        (elapsed, total, by_kind)
    }
}

fn tenant_files(dir: &Path, count: usize) {
    std::fs::create_dir_all(dir).expect("tenant folder");
    for i in 0..count {
        let file = format!(
            "apiVersion: harmony.nationtech.io/v1alpha1
kind: Tenant
metadata:
  name: t{i:03}
spec:
  rbac:
    members:
      - {{ name: owner, role: admin, user: owner@t{i}.example }}
      - {{ name: ci, role: developer, serviceAccount: true }}
"
        );
        std::fs::write(dir.join(format!("t{i:03}.yaml")), file).expect("tenant file");
    }
}

fn show(label: &str, (elapsed, total, by_kind): &(Duration, usize, BTreeMap<String, usize>)) {
    let busiest: Vec<String> = {
        let mut kinds: Vec<_> = by_kind.iter().collect();
        kinds.sort_by(|a, b| b.1.cmp(a.1));
        kinds
            .iter()
            .take(4)
            .map(|(k, n)| format!("{k}: {n}"))
            .collect()
    };
    println!(
        "{label:26} {:>8.2} s {total:>7} requests  ({})",
        elapsed.as_secs_f64(),
        busiest.join(", ")
    );
}

fn main() {
    let tenants: usize = std::env::var("BENCH_TENANTS")
        .ok()
        .map(|n| n.parse().expect("BENCH_TENANTS is a number"))
        .unwrap_or(500);
    let dir = tempfile::tempdir().expect("temp dir");
    let files = dir.path().join("tenants");
    tenant_files(&files, tenants);
    let harmony = env!("CARGO_BIN_EXE_harmony");

    let ours = Audited::start(dir.path(), "harmony");
    let apply = || {
        let mut command = Command::new(harmony);
        command
            .args(["tenant", "apply", "-f"])
            .arg(&files)
            .arg("--kubeconfig")
            .arg(ours.plane.kubeconfig())
            .arg("--pod-network")
            .arg(ours.plane.pod_network().to_string())
            .arg("--service-network")
            .arg(ours.plane.service_network().to_string());
        command
    };
    let first = ours.measure(&mut apply());
    let again = ours.measure(&mut apply());

    let rendered = dir.path().join("rendered.yaml");
    let render = Command::new(harmony)
        .args(["tenant", "render", "-o", "yaml", "-f"])
        .arg(&files)
        .output()
        .expect("render");
    assert!(render.status.success(), "render failed");
    std::fs::write(&rendered, &render.stdout).expect("rendered manifests");
    let objects = String::from_utf8_lossy(&render.stdout)
        .lines()
        .filter(|l| l.starts_with("kind: "))
        .count();

    let theirs = Audited::start(dir.path(), "kubectl");
    let cache = dir.path().join("kubectl-cache");
    let kubectl = || {
        let mut command = theirs.plane.kubectl();
        command
            .args(["apply", "--server-side", "--field-manager=harmony", "-f"])
            .arg(&rendered)
            .arg("--cache-dir")
            .arg(&cache);
        command
    };
    let kubectl_first = theirs.measure(&mut kubectl());
    let kubectl_again = theirs.measure(&mut kubectl());

    println!("{tenants} tenants, {objects} objects, each tool on a fresh control plane");
    show("harmony first apply", &first);
    show("harmony no-op re-apply", &again);
    show("kubectl first apply", &kubectl_first);
    show("kubectl no-op re-apply", &kubectl_again);
    println!(
        "harmony/kubectl wall: first apply {:.2}x, re-apply {:.2}x; re-apply requests: harmony {}, kubectl {} ({:.0}x fewer)",
        first.0.as_secs_f64() / kubectl_first.0.as_secs_f64(),
        again.0.as_secs_f64() / kubectl_again.0.as_secs_f64(),
        again.1,
        kubectl_again.1,
        kubectl_again.1 as f64 / again.1 as f64,
    );
}
