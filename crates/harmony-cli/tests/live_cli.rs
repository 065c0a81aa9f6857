//! `harmony tenant apply | plan | status | delete` against the fake API server.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use harmony_testkit::{FakeApiServer, FakeOptions, Gvr};
use predicates::prelude::*;
use serde_json::json;

struct Fixture {
    server: FakeApiServer,
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let server = FakeApiServer::start(FakeOptions::default()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        server
            .write_kubeconfig(&dir.path().join("kubeconfig"))
            .unwrap();
        Self { server, dir }
    }

    fn tenant_file(&self, name: &str, with_ci: bool) -> PathBuf {
        let ci = if with_ci {
            "\n      - { name: ci, role: developer, serviceAccount: true }"
        } else {
            ""
        };
        let text = format!(
            "apiVersion: harmony.nationtech.io/v1alpha1\nkind: Tenant\nmetadata:\n  name: {name}\nspec:\n  rbac:\n    members:\n      - {{ name: alice, role: admin, user: alice@{name}.example.com }}{ci}\n"
        );
        let path = self.dir.path().join(format!("{name}.yaml"));
        std::fs::write(&path, text).unwrap();
        path
    }

    fn harmony(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("harmony").unwrap();
        cmd.env_remove("KUBECONFIG")
            .args(args)
            .args(["--kubeconfig", self.kubeconfig().to_str().unwrap()]);
        cmd
    }

    fn with_networks(&self, args: &[&str]) -> Command {
        let mut cmd = self.harmony(args);
        cmd.args([
            "--pod-network",
            "10.244.0.0/16",
            "--service-network",
            "10.96.0.0/12",
        ]);
        cmd
    }

    fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }
}

fn file(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn plan_apply_reapply_status_shrink_delete() {
    let fx = Fixture::new();
    let acme = fx.tenant_file("acme", true);
    let beta = fx.tenant_file("beta", false);

    fx.with_networks(&["tenant", "plan", "-f", file(&acme), file(&beta)])
        .assert()
        .code(2)
        .stdout(predicate::str::contains("tenant acme:"))
        .stdout(predicate::str::contains("+ Namespace acme (create)"))
        .stdout(predicate::str::contains(
            "+ metadata.labels.app.kubernetes.io/managed-by: \"harmony\"",
        ));
    assert!(
        fx.server.requests().iter().all(|r| !r.is_write()),
        "plan writes nothing"
    );

    fx.with_networks(&[
        "tenant",
        "apply",
        "-f",
        file(&acme),
        file(&beta),
        "--concurrency",
        "2",
    ])
    .assert()
    .success()
    .stdout(
        predicate::str::is_match(r"TENANT\s+CREATED\s+CHANGED\s+UNCHANGED\s+PRUNED\s+RESULT")
            .unwrap(),
    )
    .stdout(predicate::str::is_match(r"acme\s+\d+\s+0\s+0\s+0\s+ok").unwrap());

    fx.server.clear_requests();
    fx.with_networks(&[
        "tenant",
        "apply",
        "-f",
        file(&acme),
        file(&beta),
        "-o",
        "json",
    ])
    .assert()
    .success()
    .stdout(predicate::str::contains("\"created\": 0"));
    assert!(
        fx.server.requests().iter().all(|r| !r.is_write()),
        "re-apply writes nothing"
    );
    fx.with_networks(&["tenant", "plan", "-f", file(&acme)])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "Plan: 0 to create, 0 to change, 0 to prune; 1 tenant unchanged",
        ));

    fx.with_networks(&["tenant", "status", "acme", "-f", file(&acme), "-o", "yaml"])
        .assert()
        .success()
        .stdout(predicate::str::contains("tenant: acme"))
        .stdout(predicate::str::contains("User alice@acme.example.com"))
        .stdout(predicate::str::contains("drift: []"));

    let shrunk = fx.tenant_file("acme", false);
    fx.with_networks(&[
        "tenant",
        "apply",
        "--dry-run",
        "server",
        "-f",
        file(&shrunk),
    ])
    .assert()
    .code(2)
    .stdout(predicate::str::contains(
        "- RoleBinding acme/member-ci (prune)",
    ));
    assert!(
        fx.server
            .object(&Gvr::core("serviceaccounts"), Some("acme"), "ci")
            .is_some()
    );
    fx.with_networks(&["tenant", "apply", "-f", file(&shrunk)])
        .assert()
        .success()
        .stdout(predicate::str::is_match(r"acme\s+0\s+0\s+\d+\s+2\s+ok").unwrap());

    fx.harmony(&["tenant", "delete", "acme"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "revoked RoleBinding acme/member-alice",
        ))
        .stdout(predicate::str::contains("tenant acme deleted"));
    assert!(
        fx.server
            .object(&Gvr::core("namespaces"), None, "acme")
            .is_none()
    );
}

#[test]
fn refusals_say_what_to_do() {
    let fx = Fixture::new();
    let acme = fx.tenant_file("acme", false);
    fx.harmony(&["tenant", "apply", "-f", file(&acme)])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "--pod-network CIDR and --service-network CIDR",
        ));

    fx.with_networks(&["tenant", "apply", "-f", file(&acme)])
        .assert()
        .success();
    // The status of applied tenants needs no cluster facts; compiling tenant files does.
    fx.harmony(&["tenant", "status", "acme", "-o", "yaml"])
        .assert()
        .success()
        .stdout(predicate::str::contains("tenant: acme"))
        .stdout(predicate::str::contains("User alice@acme.example.com"));
    fx.harmony(&["tenant", "status", "acme", "-f", file(&acme)])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "--pod-network CIDR and --service-network CIDR",
        ));
    fx.server
        .insert(json!({ "apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": { "name": "db", "namespace": "acme" } }))
        .unwrap();
    fx.harmony(&["tenant", "delete", "acme"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("PersistentVolumeClaims db"))
        .stderr(predicate::str::contains("--delete-data"));
    assert!(
        fx.server
            .object(&Gvr::core("namespaces"), None, "acme")
            .is_some()
    );
    // Deleting data takes a final backup first; without Velero none can be taken, so nothing
    // is deleted unless --skip-final-backup says to go on without one.
    fx.harmony(&["tenant", "delete", "acme", "--delete-data"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("the cluster runs no Velero"))
        .stderr(predicate::str::contains(
            "nothing of tenant acme was deleted; to delete it without a final backup, run again \
             with --skip-final-backup",
        ));
    assert!(
        fx.server
            .object(&Gvr::core("namespaces"), None, "acme")
            .is_some()
    );
    fx.harmony(&[
        "tenant",
        "delete",
        "acme",
        "--delete-data",
        "--skip-final-backup",
        "--timeout",
        "30s",
    ])
    .assert()
    .success()
    .stderr(predicate::str::contains(
        "no final backup (--skip-final-backup): the PersistentVolumeClaims of tenant acme",
    ))
    .stdout(predicate::str::contains(
        "deleted PersistentVolumeClaim acme/db",
    ));

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let text = std::fs::read_to_string(fx.kubeconfig())
        .unwrap()
        .replace(&fx.server.url(), &format!("http://127.0.0.1:{port}"));
    let dead = fx.dir.path().join("dead-kubeconfig");
    std::fs::write(&dead, text).unwrap();
    Command::cargo_bin("harmony")
        .unwrap()
        .args(["tenant", "status", "--kubeconfig", file(&dead)])
        .assert()
        .failure()
        .stderr(predicate::str::contains("is the VPN up?"));
}

/// A namespace made by someone else: `tenant apply` refuses it (exit 1, the fix named, nothing
/// written); with `spec.adoptNamespaces`, `plan` says it would adopt it and `apply` says what
/// access it kept, in text and in JSON.
#[test]
fn an_existing_namespace_is_adopted_only_when_named_and_the_apply_says_what_stays() {
    let fx = Fixture::new();
    fx.server
        .insert(json!({ "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": "acme" } }))
        .unwrap();
    fx.server
        .insert(json!({ "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": { "name": "old-admins", "namespace": "acme" },
            "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin" },
            "subjects": [{ "apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "ops" }] }))
        .unwrap();
    let acme = fx.tenant_file("acme", false);
    fx.with_networks(&["tenant", "apply", "-f", file(&acme)])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "acme: Namespace acme exists and Harmony does not manage it",
        ))
        .stdout(predicate::str::contains("list it in spec.adoptNamespaces"));
    assert!(
        fx.server
            .object(
                &Gvr::of(harmony_kube::Kind::of::<
                    k8s_openapi::api::networking::v1::NetworkPolicy,
                >()),
                Some("acme"),
                "default-deny"
            )
            .is_none()
    );

    let text = std::fs::read_to_string(&acme).unwrap() + "  adoptNamespaces: [acme]\n";
    std::fs::write(&acme, text).unwrap();
    let said = "Namespace acme: 1 RoleBinding Harmony did not make keeps its grants: old-admins \
                (ClusterRole admin to Group ops)";
    fx.with_networks(&["tenant", "plan", "-f", file(&acme)])
        .assert()
        .code(2)
        .stdout(predicate::str::contains(format!("  ! adopt {said}\n")));
    let out = fx
        .with_networks(&["tenant", "apply", "-f", file(&acme), "-o", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let rows: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(rows[0]["adopted"], json!([said]), "{rows}");
    fx.with_networks(&["tenant", "apply", "-f", file(&acme)])
        .assert()
        .success()
        .stdout(predicate::str::contains("adopted").not());
}
