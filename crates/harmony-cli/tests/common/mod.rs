//! Fixtures shared by the CLI's tests and benches.
#![allow(dead_code)] // each test binary uses part of it

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use harmony_testkit::ControlPlane;

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `harmony ARGS` without the caller's `KUBECONFIG`.
pub fn harmony(args: &[&str]) -> Output {
    Command::cargo_bin("harmony")
        .unwrap()
        .env_remove("KUBECONFIG")
        .args(args)
        .output()
        .unwrap()
}

/// `harmony ARGS` against the real control plane `plane`, with its pod and service networks.
pub fn on_plane(plane: &ControlPlane, args: &[&str]) -> Command {
    let mut cmd = Command::cargo_bin("harmony").unwrap();
    cmd.env_remove("KUBECONFIG")
        .args(args)
        .arg("--kubeconfig")
        .arg(plane.kubeconfig())
        .args(["--pod-network", &plane.pod_network().to_string()])
        .args(["--service-network", &plane.service_network().to_string()]);
    cmd
}

/// Runs `harmony ARGS` against the real control plane `plane` (see [`on_plane`]).
pub fn harmony_on(plane: &ControlPlane, args: &[&str]) -> Output {
    on_plane(plane, args).output().unwrap()
}

/// The standard output of a command that must have succeeded (else both outputs in the panic).
pub fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `harmony vpn --gateway examples/vpn-gateway.yaml --state STATE ...`
pub fn vpn(state: &Path) -> Command {
    let mut cmd = Command::cargo_bin("harmony").unwrap();
    cmd.arg("vpn")
        .arg("--gateway")
        .arg(root().join("examples/vpn-gateway.yaml"))
        .arg("--state")
        .arg(state)
        .env("USER", "operator");
    cmd
}

/// Writes a VpnGateway file `gateway.yaml` into `dir`: WireGuard on `interface`, clients
/// connecting to `endpoint`, tunnel addresses from `pool` (IPv4), members reaching only
/// `reachable` (YAML list items under `reachable:`).
pub fn gateway_file(
    dir: &Path,
    endpoint: &str,
    interface: &str,
    pool: &str,
    reachable: &str,
) -> PathBuf {
    let path = dir.join("gateway.yaml");
    let yaml = format!(
        "apiVersion: harmony.nationtech.io/v1alpha1\nkind: VpnGateway\nmetadata:\n  name: lab\n\
         spec:\n  endpoint: {endpoint}\n  interfaceName: {interface}\n  addressPool:\n    \
         ipv4: {pool}\n  reachable:\n{reachable}"
    );
    std::fs::write(&path, yaml).unwrap();
    path
}

/// `harmony operator run` as a process, killed on drop.
pub struct Operator(pub std::process::Child);

impl Drop for Operator {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Applies the folder `harmony operator install --out` wrote (after Velero's namespace, where its
/// Schedule Role lives, exists, as once Velero is installed), waits for the Tenant CRD, and starts
/// `harmony operator run` on `plane` (its kubeconfig and networks) with `args`.
pub fn run_installed_operator(
    plane: &ControlPlane,
    out: &Path,
    args: &[&std::ffi::OsStr],
) -> Operator {
    plane
        .kubectl_run(&["create", "namespace", "velero"])
        .unwrap();
    plane
        .kubectl_run(&["apply", "--server-side", "-k", out.to_str().unwrap()])
        .unwrap();
    plane.wait_crds(&["tenants.harmony.nationtech.io"]).unwrap();
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("harmony"));
    cmd.env_remove("KUBECONFIG")
        .env("RUST_LOG", "info")
        .args(["operator", "run", "--kubeconfig"])
        .arg(plane.kubeconfig())
        .args(["--pod-network", &plane.pod_network().to_string()])
        .args(["--service-network", &plane.service_network().to_string()])
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    Operator(cmd.spawn().unwrap())
}
