//! `harmony vpn` as an operator runs it: peers issued, listed, revoked, pruned; refusals change
//! nothing; private keys only ever in the 0600 client config.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `harmony vpn --gateway examples/vpn-gateway.yaml --state STATE ...`
fn vpn(state: &Path) -> Command {
    let mut cmd = Command::cargo_bin("harmony").unwrap();
    cmd.arg("vpn")
        .arg("--gateway")
        .arg(root().join("examples/vpn-gateway.yaml"))
        .arg("--state")
        .arg(state)
        .env("USER", "operator");
    cmd
}

fn tenants() -> PathBuf {
    root().join("examples/tenants")
}

/// Every file of the state folder, for before/after comparisons.
fn snapshot(state: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = fs::read_dir(state)
        .map(|entries| {
            entries
                .map(|e| {
                    let path = e.unwrap().path();
                    (
                        path.file_name().unwrap().to_string_lossy().into_owned(),
                        fs::read(&path).unwrap(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

fn private_key_of(config: &str) -> String {
    config
        .lines()
        .find_map(|l| l.strip_prefix("PrivateKey = "))
        .expect("client config has a private key")
        .to_string()
}

#[test]
fn issue_list_revoke_and_prune() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let conf = tmp.path().join("alice.conf");

    let out = vpn(&state)
        .args(["peer", "add", "--tenant", "acme", "--member", "alice", "-f"])
        .arg(tenants())
        .arg("--out")
        .arg(&conf)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        fs::metadata(&conf).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let config = fs::read_to_string(&conf).unwrap();
    let key = private_key_of(&config);
    assert!(
        config.contains("AllowedIPs = 192.0.2.10/32, 192.0.2.20/32, 192.0.2.53/32"),
        "{config}"
    );
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!printed.contains(&key), "the private key was printed");
    for (name, content) in snapshot(&state) {
        assert!(
            !String::from_utf8_lossy(&content).contains(&key),
            "private key stored in {name}"
        );
    }

    let list = vpn(&state)
        .args(["peer", "list", "-o", "json"])
        .output()
        .unwrap();
    let peers: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let peers = peers.as_array().expect("a JSON array of peers");
    assert_eq!(peers.len(), 1, "{peers:?}");
    assert_eq!(peers[0]["member"], "alice");

    vpn(&state)
        .args(["server-config", "--out", "-"])
        .assert()
        .success()
        .stdout(predicate::str::contains("AllowedIPs = 10.99.0.2/32"));

    vpn(&state)
        .args(["peer", "revoke", "--tenant", "acme", "--member", "alice"])
        .assert()
        .success();
    vpn(&state)
        .args(["server-config", "--out", "-"])
        .assert()
        .success()
        .stdout(predicate::str::contains("10.99.0.2/32").not());

    // A member removed from the tenant files loses its peer on prune.
    vpn(&state)
        .args([
            "peer", "add", "--tenant", "acme", "--member", "devs", "--out", "-", "-f",
        ])
        .arg(tenants())
        .assert()
        .success();
    let only_globex = write_tenants(tmp.path());
    vpn(&state)
        .args(["peer", "prune", "-f"])
        .arg(&only_globex)
        .assert()
        .success();
    let list = vpn(&state)
        .args(["peer", "list", "-o", "json"])
        .output()
        .unwrap();
    let active: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(active.as_array().unwrap().len(), 0, "{active}");
}

fn write_tenants(dir: &Path) -> PathBuf {
    let path = dir.join("tenants.yaml");
    fs::write(
        &path,
        "apiVersion: harmony.nationtech.io/v1alpha1\nkind: Tenant\nmetadata: { name: globex }\n",
    )
    .unwrap();
    path
}

#[test]
fn refusals_change_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    vpn(&state)
        .args([
            "peer", "add", "--tenant", "acme", "--member", "alice", "--out", "-", "-f",
        ])
        .arg(tenants())
        .assert()
        .success();
    let before = snapshot(&state);
    let refusals: [(&[&str], &str); 4] = [
        (
            &["--tenant", "acme", "--member", "nobody", "--out", "-"],
            "nobody",
        ),
        (
            &["--tenant", "nowhere", "--member", "alice", "--out", "-"],
            "nowhere",
        ),
        (
            &["--tenant", "acme", "--member", "alice", "--out", "-"],
            "alice",
        ),
        // The bad key is not echoed: it might be a private key pasted by mistake.
        (
            &[
                "--tenant",
                "acme",
                "--member",
                "ci",
                "--public-key",
                "not-a-key",
            ],
            "--public-key: the key is not standard base64",
        ),
    ];
    for (args, needle) in refusals {
        vpn(&state)
            .args(["peer", "add", "-f"])
            .arg(tenants())
            .args(args)
            .assert()
            .failure()
            .stderr(predicate::str::contains(needle));
        assert_eq!(
            snapshot(&state),
            before,
            "refusal of {args:?} changed the state"
        );
    }
}
