//! `harmony vpn` as an operator runs it: peers issued, listed, revoked, pruned; refusals change
//! nothing; private keys only ever in the 0600 client config.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

mod common;

use assert_cmd::Command;
use common::{root, vpn};
use predicates::prelude::*;

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

/// A fake cluster, its kubeconfig, a tenant file and VPN state for the cluster registry.
struct Live {
    server: harmony_testkit::FakeApiServer,
    dir: tempfile::TempDir,
}

impl Live {
    fn new() -> Self {
        let server =
            harmony_testkit::FakeApiServer::start(harmony_testkit::FakeOptions::default()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        server
            .write_kubeconfig(&dir.path().join("kubeconfig"))
            .unwrap();
        let live = Self { server, dir };
        live.tenant_file(true);
        live
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `acme` with members alice and (optionally) ci.
    fn tenant_file(&self, with_ci: bool) {
        let ci = if with_ci {
            "\n      - { name: ci, role: developer, serviceAccount: true }"
        } else {
            ""
        };
        let text = format!(
            "apiVersion: harmony.nationtech.io/v1alpha1\nkind: Tenant\nmetadata:\n  name: acme\nspec:\n  rbac:\n    members:\n      - {{ name: alice, role: admin, user: alice@example.com }}{ci}\n"
        );
        fs::write(self.path("acme.yaml"), text).unwrap();
    }

    /// `harmony vpn ... --registry cluster --kubeconfig K`.
    fn vpn(&self) -> Command {
        let mut cmd = vpn(&self.path("vpn"));
        cmd.env_remove("KUBECONFIG")
            .args(["--registry", "cluster", "--kubeconfig"])
            .arg(self.path("kubeconfig"));
        cmd
    }

    /// `harmony tenant VERB ... --kubeconfig K` (the tenant file and networks given for apply
    /// and plan).
    fn tenant(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("harmony").unwrap();
        cmd.env_remove("KUBECONFIG")
            .env("USER", "operator")
            .arg("tenant")
            .args(args)
            .arg("--kubeconfig")
            .arg(self.path("kubeconfig"));
        if args[0] == "apply" || args[0] == "plan" {
            cmd.args(["-f", self.path("acme.yaml").to_str().unwrap()])
                .args([
                    "--pod-network",
                    "10.244.0.0/16",
                    "--service-network",
                    "10.96.0.0/12",
                ]);
        }
        cmd
    }

    fn vpn_flags(&self) -> Vec<String> {
        vec![
            "--vpn-gateway".into(),
            root()
                .join("examples/vpn-gateway.yaml")
                .display()
                .to_string(),
            "--vpn-state".into(),
            self.path("vpn").display().to_string(),
            "--vpn-registry".into(),
            "cluster".into(),
        ]
    }

    fn add_peer(&self, member: &str) -> String {
        let out = self.path(&format!("{member}.conf"));
        self.vpn()
            .args(["peer", "add", "-f"])
            .arg(self.path("acme.yaml"))
            .args(["--tenant", "acme", "--member", member, "--out"])
            .arg(&out)
            .assert()
            .success();
        private_key_of(&fs::read_to_string(out).unwrap())
    }

    fn peers(&self) -> serde_json::Value {
        let out = self
            .vpn()
            .args(["peer", "list", "--all", "-o", "json"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// `(member, revocation reason or "active")` of every peer.
    fn states(&self) -> Vec<(String, String)> {
        self.peers()
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let state = p["revoked"]["reason"].as_str().unwrap_or("active");
                (p["member"].as_str().unwrap().into(), state.into())
            })
            .collect()
    }

    /// Sequence numbers of the successful registry Secret writes and of the RoleBinding deletes.
    fn secret_writes_and_binding_deletes(&self) -> (Vec<u64>, Vec<u64>) {
        let log = self.server.requests();
        let seqs = |resource: &str, verbs: &[&str]| -> Vec<u64> {
            log.iter()
                .filter(|r| r.resource == resource && verbs.contains(&r.verb.as_str()))
                .filter(|r| r.status.is_some_and(|s| s < 300))
                .map(|r| r.seq)
                .collect()
        };
        (
            seqs("secrets", &["create", "update"]),
            seqs("rolebindings", &["delete"]),
        )
    }
}

#[test]
fn cluster_registry_round_trip_keeps_no_private_key_outside_the_client_config() {
    let live = Live::new();
    let key = live.add_peer("alice");
    assert_eq!(live.states(), [("alice".to_string(), "active".to_string())]);
    let out = live
        .vpn()
        .args(["peer", "revoke", "--tenant", "acme", "--member", "alice"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--registry cluster --kubeconfig") && stderr.contains("wg syncconf"),
        "{stderr}"
    );
    assert_eq!(
        live.states(),
        [("alice".to_string(), "revoked".to_string())]
    );
    // The registry is in the cluster: the state dir holds only the server key.
    let files: Vec<String> = snapshot(&live.path("vpn"))
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(files, ["server.key"]);
    let secret = live
        .server
        .object(
            &harmony_testkit::Gvr::core("secrets"),
            Some("harmony-system"),
            "harmony-vpn-registry",
        )
        .unwrap();
    assert!(!secret.to_string().contains(&key));
    let server_key = fs::read_to_string(live.path("vpn/server.key")).unwrap();
    assert!(!secret.to_string().contains(server_key.trim()));
}

#[test]
fn a_bad_gateway_file_is_refused_with_every_problem_located_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let gateway = tmp.path().join("gw.yaml");
    let text = fs::read_to_string(root().join("examples/vpn-gateway.yaml"))
        .unwrap()
        .replace(
            "endpoint: vpn.example.com:51820",
            "endpoint: vpn.example.com",
        )
        .replace("  mtu: 1420", "  mtu: 1420\n  colour: red");
    fs::write(&gateway, text).unwrap();
    let state = tmp.path().join("state");
    Command::cargo_bin("harmony")
        .unwrap()
        .arg("vpn")
        .arg("--gateway")
        .arg(&gateway)
        .arg("--state")
        .arg(&state)
        .args(["peer", "list"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!(
            "{}:9:13: spec.endpoint: `vpn.example.com` has no port; write host:port",
            gateway.display()
        )))
        .stderr(predicate::str::contains(format!(
            "{}:30:3: spec.colour: unknown field `colour`",
            gateway.display()
        )))
        .stderr(predicate::str::contains(
            "2 problems found; nothing was written",
        ));
    assert!(!state.exists());
}

#[test]
fn kubeconfig_without_the_cluster_registry_is_refused_and_changes_nothing() {
    let live = Live::new();
    vpn(&live.path("vpn"))
        .arg("--kubeconfig")
        .arg(live.path("kubeconfig"))
        .args(["peer", "list"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "only used with --registry cluster",
        ));
    assert!(!live.path("vpn").exists());
    assert!(live.server.requests().iter().all(|r| !r.is_write()));
}

#[test]
fn tenant_delete_revokes_vpn_peers_before_the_first_rolebinding_delete() {
    let live = Live::new();
    live.tenant(&["apply"]).assert().success();
    live.add_peer("alice");
    live.add_peer("ci");
    live.server.clear_requests();
    let flags = live.vpn_flags();
    let out = live
        .tenant(&["delete", "acme"])
        .args(&flags)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("VPN peer revoked: acme/alice"), "{stderr}");
    assert!(stderr.contains("VPN peer revoked: acme/ci"), "{stderr}");
    assert!(stderr.contains("server-config --peer-set"), "{stderr}");
    let (secret_writes, binding_deletes) = live.secret_writes_and_binding_deletes();
    assert_eq!(secret_writes.len(), 1, "one registry write revokes both");
    assert!(!binding_deletes.is_empty());
    assert!(
        secret_writes[0] < binding_deletes[0],
        "peers revoked at #{} before the first RoleBinding delete at #{}",
        secret_writes[0],
        binding_deletes[0]
    );
    let tenant_removed = "tenant removed".to_string();
    assert_eq!(
        live.states(),
        [
            ("alice".into(), tenant_removed.clone()),
            ("ci".into(), tenant_removed)
        ]
    );
}

#[test]
fn a_tenant_delete_refused_for_its_data_keeps_the_vpn_peers() {
    let live = Live::new();
    live.tenant(&["apply"]).assert().success();
    live.add_peer("alice");
    live.server
        .insert(serde_json::json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": "db", "namespace": "acme"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}))
        .unwrap();
    live.server.clear_requests();
    let flags = live.vpn_flags();
    live.tenant(&["delete", "acme"])
        .args(&flags)
        .assert()
        .failure()
        .stderr(predicate::str::contains("holds PersistentVolumeClaims db"));
    assert!(
        live.server.requests().iter().all(|r| !r.is_write()),
        "nothing written"
    );
    assert_eq!(live.states(), [("alice".to_string(), "active".to_string())]);
}

#[test]
fn tenant_apply_revokes_a_removed_members_peer_before_pruning_its_rolebinding() {
    let live = Live::new();
    live.tenant(&["apply"]).assert().success();
    live.add_peer("alice");
    live.add_peer("ci");
    live.tenant_file(false);
    // A plan says what would be revoked and writes nothing.
    live.server.clear_requests();
    let flags = live.vpn_flags();
    let out = live.tenant(&["plan"]).args(&flags).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("VPN peer would revoke: acme/ci"));
    assert!(live.server.requests().iter().all(|r| !r.is_write()));
    live.tenant(&["apply"])
        .args(&flags)
        .assert()
        .success()
        .stderr(
            predicate::str::contains("VPN peer revoked: acme/ci")
                .and(predicate::str::contains("acme/alice").not()),
        );
    let (secret_writes, binding_deletes) = live.secret_writes_and_binding_deletes();
    let ci_binding = live
        .server
        .requests()
        .into_iter()
        .find(|r| r.resource == "rolebindings" && r.verb == "delete")
        .expect("member-ci's RoleBinding is pruned");
    assert_eq!(ci_binding.name.as_deref(), Some("member-ci"));
    assert_eq!(binding_deletes.len(), 1);
    assert_eq!(secret_writes.len(), 1);
    assert!(secret_writes[0] < binding_deletes[0]);
    assert_eq!(
        live.states(),
        [
            ("alice".into(), "active".into()),
            ("ci".into(), "member removed".into())
        ]
    );
}

#[test]
fn tenant_commands_without_vpn_flags_leave_peers_alone_and_say_so() {
    let live = Live::new();
    live.tenant(&["apply"]).assert().success();
    live.add_peer("alice");
    live.tenant(&["delete", "acme"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "VPN peers: unchanged (no --vpn-gateway)",
        ));
    assert_eq!(live.states(), [("alice".to_string(), "active".to_string())]);
}

#[test]
fn incomplete_vpn_flags_are_refused_before_anything_is_written() {
    let live = Live::new();
    live.tenant(&["apply"]).assert().success();
    live.server.clear_requests();
    let gateway = root().join("examples/vpn-gateway.yaml");
    live.tenant(&["delete", "acme", "--vpn-gateway", gateway.to_str().unwrap()])
        .assert()
        .failure()
        .stderr(predicate::str::contains("also give --vpn-state DIR"));
    live.tenant(&["delete", "acme", "--vpn-registry", "cluster"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("need --vpn-gateway FILE"));
    assert!(live.server.requests().iter().all(|r| !r.is_write()));
    assert!(!live.path("vpn").exists());
}
