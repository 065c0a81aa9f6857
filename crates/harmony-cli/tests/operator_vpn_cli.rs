//! `harmony operator run` with VPN flags: incomplete flags are refused before the operator
//! contacts the cluster.

use std::path::Path;

use assert_cmd::Command;
use harmony_testkit::{FakeApiServer, FakeOptions};
use predicates::prelude::*;

fn gateway() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/vpn-gateway.yaml"
    ))
}

/// `harmony operator run --kubeconfig K ARGS` against a fake API server; it must refuse at once.
fn refused(args: &[&str], says: &str) {
    let server = FakeApiServer::start(FakeOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    server.write_kubeconfig(&kubeconfig).unwrap();
    Command::cargo_bin("harmony")
        .unwrap()
        .env_remove("KUBECONFIG")
        .args(["operator", "run", "--kubeconfig"])
        .arg(&kubeconfig)
        .args(args)
        .timeout(std::time::Duration::from_secs(30))
        .assert()
        .failure()
        .stderr(predicate::str::contains(says));
    assert!(server.requests().is_empty(), "{:?}", server.requests());
}

#[test]
fn a_vpn_registry_without_a_gateway_file_is_refused() {
    refused(
        &["--vpn-registry", "cluster"],
        "--vpn-state/--vpn-registry: need --vpn-gateway FILE",
    );
}

#[test]
fn the_file_registry_without_a_state_dir_is_refused() {
    refused(
        &["--vpn-gateway", gateway().to_str().unwrap()],
        "--vpn-gateway: also give --vpn-state DIR (the VPN state dir holding the registry), or \
         --vpn-registry cluster",
    );
}
