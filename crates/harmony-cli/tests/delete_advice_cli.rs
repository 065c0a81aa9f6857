//! `harmony tenant delete` when the namespace will not go: the library's typed hint is worded as
//! this command's flags, and the VPN peers revoked before the wait are still reported, with the
//! gateway sync command.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use harmony_testkit::{FakeApiServer, FakeOptions, NamespaceDeletion};

fn gateway() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/vpn-gateway.yaml")
}

/// `harmony ARGS --kubeconfig K`.
fn harmony(args: &[&str], kubeconfig: &Path) -> Command {
    let mut cmd = Command::cargo_bin("harmony").unwrap();
    cmd.env_remove("KUBECONFIG")
        .env("USER", "operator")
        .args(args)
        .arg("--kubeconfig")
        .arg(kubeconfig);
    cmd
}

#[test]
fn a_stuck_namespace_reports_the_revoked_peers_and_advises_the_timeout_flag() {
    let server = FakeApiServer::start(FakeOptions {
        namespace_deletion: NamespaceDeletion::Stuck,
        ..FakeOptions::default()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    server.write_kubeconfig(&kubeconfig).unwrap();
    let tenant = dir.path().join("acme.yaml");
    fs::write(
        &tenant,
        "apiVersion: harmony.nationtech.io/v1alpha1\nkind: Tenant\nmetadata:\n  name: acme\nspec:\n  rbac:\n    members:\n      - { name: alice, role: admin, user: alice@example.com }\n",
    )
    .unwrap();
    let state = dir.path().join("vpn");
    let file = tenant.to_str().unwrap();
    harmony(
        &[
            "tenant",
            "apply",
            "-f",
            file,
            "--pod-network",
            "10.244.0.0/16",
            "--service-network",
            "10.96.0.0/12",
        ],
        &kubeconfig,
    )
    .assert()
    .success();
    let gateway_file = gateway();
    let (gateway, state) = (gateway_file.to_str().unwrap(), state.to_str().unwrap());
    let client = dir.path().join("alice.conf");
    harmony(
        &[
            "vpn",
            "--gateway",
            gateway,
            "--state",
            state,
            "--registry",
            "cluster",
            "peer",
            "add",
            "-f",
            file,
            "--tenant",
            "acme",
            "--member",
            "alice",
            "--out",
            client.to_str().unwrap(),
        ],
        &kubeconfig,
    )
    .assert()
    .success();

    let out = harmony(
        &[
            "tenant",
            "delete",
            "acme",
            "--timeout",
            "1s",
            "--vpn-gateway",
            gateway,
            "--vpn-state",
            state,
            "--vpn-registry",
            "cluster",
        ],
        &kubeconfig,
    )
    .output()
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stdout}{stderr}");
    assert!(stderr.contains("VPN peer revoked: acme/alice"), "{stderr}");
    assert!(stderr.contains("server-config --peer-set"), "{stderr}");
    assert!(
        stdout.contains("revoked RoleBinding acme/member-alice"),
        "{stdout}"
    );
    assert!(stderr.contains("still terminating after 1s"), "{stderr}");
    assert!(
        stderr.contains("run the delete again to keep waiting (or raise --timeout)"),
        "{stderr}"
    );
    assert!(!stderr.contains("DeleteOptions"), "{stderr}");
}
