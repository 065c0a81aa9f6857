//! `harmony audit --kubeconfig` against the fake API server: tenants applied with `harmony tenant
//! apply` pass; a cross-tenant NetworkPolicy and a cluster-wide Secret grant fail with evidence;
//! the audit only reads and never touches Secrets; refusals say what to do.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use harmony_testkit::{FakeApiServer, FakeOptions, Flavor};
use predicates::prelude::*;
use serde_json::{Value, json};

const NETWORKS: [&str; 4] = [
    "--pod-network",
    "10.244.0.0/16",
    "--service-network",
    "10.96.0.0/12",
];

struct Fixture {
    server: FakeApiServer,
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        Self::of(Flavor::default())
    }

    fn of(flavor: Flavor) -> Self {
        let server = FakeApiServer::start(FakeOptions {
            flavor,
            ..FakeOptions::default()
        })
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        server
            .write_kubeconfig(&dir.path().join("kubeconfig"))
            .unwrap();
        Self { server, dir }
    }

    fn tenant_file(&self, name: &str) -> PathBuf {
        let text = format!(
            "apiVersion: harmony.nationtech.io/v1alpha1\nkind: Tenant\nmetadata:\n  name: {name}\nspec:\n  rbac:\n    members:\n      - {{ name: alice, role: admin, user: alice@{name}.com }}\n"
        );
        let path = self.dir.path().join(format!("{name}.yaml"));
        std::fs::write(&path, text).unwrap();
        path
    }

    fn kubeconfig(&self) -> String {
        self.dir.path().join("kubeconfig").display().to_string()
    }

    /// `harmony ARGS --kubeconfig K` with the vanilla networks.
    fn harmony(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("harmony").unwrap();
        cmd.env_remove("KUBECONFIG")
            .args(args)
            .args(["--kubeconfig", &self.kubeconfig()])
            .args(NETWORKS);
        cmd
    }

    fn insert(&self, object: Value) {
        self.server.insert(object).expect("a served kind");
    }

    /// Opens globex to every namespace and acme's egress to every namespace (a path needs both
    /// ends open): `allow-everyone` and `egress-everywhere`.
    fn open_globex_to_acme(&self) {
        self.insert(
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "allow-everyone", "namespace": "globex"},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"namespaceSelector": {}}]}]}}),
        );
        self.insert(
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "egress-everywhere", "namespace": "acme"},
            "spec": {"podSelector": {}, "policyTypes": ["Egress"],
                "egress": [{"to": [{"namespaceSelector": {}}]}]}}),
        );
    }

    fn pod(&self, namespace: &str, name: &str, port: u16) {
        self.insert(json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
            "spec": {"containers": [{"name": "main", "image": "nginx",
                "ports": [{"containerPort": port, "protocol": "TCP"}]}]}}));
    }
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_live_cluster_passes_then_fails_naming_the_opening_policy_and_the_secret_grant() {
    let fx = Fixture::new();
    let (acme, globex) = (fx.tenant_file("acme"), fx.tenant_file("globex"));
    fx.harmony(&["tenant", "apply", "-f", path(&acme), path(&globex)])
        .assert()
        .success();
    fx.pod("acme", "web", 8080);
    fx.pod("globex", "api", 8080);

    fx.server.clear_requests();

    // Without the cluster guardrails, the checks that rely on them warn and name what is missing.
    fx.harmony(&["audit", "--tenants", path(&acme), path(&globex)])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "2 tenants, 42 checks passed, 16 warned, 0 failed",
        ))
        .stdout(predicate::str::contains("missing"));
    fx.harmony(&["audit", "explain", "default", "globex/api", "8080/TCP"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("BLOCKED"))
        .stdout(predicate::str::contains("globex/default-deny"));

    let requests = fx.server.requests();
    assert!(!requests.is_empty());
    for request in &requests {
        assert!(
            matches!(request.verb.as_str(), "list" | "get" | "discovery"),
            "the audit must only read: {request:?}"
        );
        assert_ne!(request.resource, "secrets", "read a Secret: {request:?}");
    }

    // Someone opens globex to every namespace, opens acme's egress to every namespace (a path
    // needs both ends open), and lets acme's admin read Secrets everywhere.
    fx.open_globex_to_acme();
    fx.insert(
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "secret-reader"},
        "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}]}),
    );
    fx.insert(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": "alice-reads-secrets"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "secret-reader"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice@acme.com"}]}));

    fx.harmony(&["audit", "--tenants", path(&acme), path(&globex)])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("FAIL HMT-NET-002"))
        .stdout(predicate::str::contains("allow-everyone"))
        .stdout(predicate::str::contains("FAIL HMT-RBAC-001"))
        .stdout(predicate::str::contains(
            "User alice@acme.com: ClusterRoleBinding alice-reads-secrets → ClusterRole secret-reader",
        ));
    fx.harmony(&["audit", "explain", "acme/web", "globex/api", "8080/TCP"])
        .assert()
        .success()
        .stdout(predicate::str::contains("acme/egress-everywhere"))
        .stdout(predicate::str::contains("globex/allow-everyone"));

    let report = fx
        .harmony(&["audit", "--tenant", "acme", "-o", "json"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let report: Value = serde_json::from_slice(&report).unwrap();
    let tenants = report["tenants"].as_array().unwrap();
    assert_eq!(tenants.len(), 1);
    assert_eq!(tenants[0]["tenant"], "acme");
}

#[test]
fn on_okd_the_facts_are_discovered_and_the_platform_namespaces_are_the_clusters() {
    let fx = Fixture::of(Flavor::Okd);
    let acme = fx.tenant_file("acme");
    let okd = |args: &[&str]| {
        let mut cmd = Command::cargo_bin("harmony").unwrap();
        cmd.env_remove("KUBECONFIG")
            .args(args)
            .args(["--kubeconfig", &fx.kubeconfig()]);
        cmd
    };
    okd(&["tenant", "apply", "-f", path(&acme)])
        .assert()
        .success();
    fx.pod("acme", "web", 8080);
    // As on OKD, the ingress and monitoring namespaces carry the policy-group labels.
    for (name, key, value) in [
        (
            "openshift-ingress",
            "policy-group.network.openshift.io/ingress",
            "",
        ),
        (
            "openshift-monitoring",
            "network.openshift.io/policy-group",
            "monitoring",
        ),
    ] {
        fx.insert(json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {key: value}}}));
    }
    okd(&["cluster", "guardrails", "apply", "-f", path(&acme)])
        .assert()
        .success();
    let out = okd(&["audit", "--tenants", path(&acme)])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "1 tenants, 29 checks passed, 0 warned, 0 failed",
        ))
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    // OKD's own DNS, ingress and monitoring namespaces exist: none is synthesized.
    assert!(!text.contains("synthesized platform namespace"), "{text}");
    assert!(text.contains("openshift-dns/dns-placeholder"), "{text}");
}

#[test]
fn refusals_say_what_to_do() {
    let fx = Fixture::new();
    let acme = fx.tenant_file("acme");

    // A vanilla cluster cannot tell its networks.
    Command::cargo_bin("harmony")
        .unwrap()
        .env_remove("KUBECONFIG")
        .args(["audit", "--kubeconfig", &fx.kubeconfig()])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "--pod-network CIDR and --service-network CIDR",
        ));

    // A tenant file whose tenant is not in the cluster.
    fx.harmony(&["audit", "--tenants", path(&acme)])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "--tenants: not in the cluster at http://127.0.0.1:",
        ))
        .stderr(predicate::str::contains("acme (namespace acme)"))
        .stderr(predicate::str::contains("harmony tenant apply"));

    // Rendered manifests and a live cluster do not mix.
    fx.harmony(&["audit", "-f", path(&acme)])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "rendered manifests cannot be mixed with a live cluster",
        ));

    // Network flags without a live cluster.
    Command::cargo_bin("harmony")
        .unwrap()
        .args(["audit", "--tenants", path(&acme)])
        .args(NETWORKS)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "describe a live cluster: give --kubeconfig FILE",
        ));

    // A live cluster tells its own flavor.
    fx.harmony(&["audit", "--flavor", "okd"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot be used with"));

    // An unreachable API server.
    let dead = fx.dir.path().join("dead");
    std::fs::write(
        &dead,
        std::fs::read_to_string(fx.kubeconfig())
            .unwrap()
            .replace(&fx.server.url(), "http://127.0.0.1:9"),
    )
    .unwrap();
    Command::cargo_bin("harmony")
        .unwrap()
        .env_remove("KUBECONFIG")
        .args(["audit", "--kubeconfig", path(&dead)])
        .args(NETWORKS)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "cannot reach the API server at http://127.0.0.1:9",
        ));

    // A context the kubeconfig does not have.
    fx.harmony(&["audit", "--context", "prod"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("context `prod`"));
    assert!(fx.server.requests().iter().all(|r| !r.is_write()));
}

#[test]
fn with_guardrails_every_check_passes_and_isolation_holds_against_opened_tenant_policies() {
    let fx = Fixture::new();
    let (acme, globex) = (fx.tenant_file("acme"), fx.tenant_file("globex"));
    fx.harmony(&["tenant", "apply", "-f", path(&acme), path(&globex)])
        .assert()
        .success();
    fx.harmony(&[
        "cluster",
        "guardrails",
        "apply",
        "-f",
        path(&acme),
        path(&globex),
    ])
    .assert()
    .success();
    fx.pod("acme", "web", 8080);
    fx.pod("globex", "api", 8080);
    fx.harmony(&["audit", "--tenants", path(&acme), path(&globex)])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "2 tenants, 58 checks passed, 0 warned, 0 failed",
        ));

    // Both tenants open their NetworkPolicies to every namespace: the AdminNetworkPolicy tier
    // still denies tenant-to-tenant traffic, and the audit says which policy blocks it; the
    // platform's namespaces are now reachable beyond DNS, and the audit names the policy.
    fx.open_globex_to_acme();
    fx.harmony(&["audit", "--tenants", path(&acme), path(&globex)])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("PASS HMT-NET-002"))
        .stdout(predicate::str::contains("FAIL HMT-NET-008"))
        .stdout(predicate::str::contains(
            "acme/web → ingress-nginx/ingress-placeholder: all connections beyond DNS (egress of \
             acme/web allowed by NetworkPolicy acme/egress-everywhere rule #0",
        ));
    fx.harmony(&["audit", "explain", "acme/web", "globex/api", "8080/TCP"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("BLOCKED"))
        .stdout(predicate::str::contains("AdminNetworkPolicy"));
}

#[test]
fn questions_and_the_matrix_read_a_live_cluster_with_its_pods() {
    let fx = Fixture::new();
    let (acme, globex) = (fx.tenant_file("acme"), fx.tenant_file("globex"));
    fx.harmony(&["tenant", "apply", "-f", path(&acme), path(&globex)])
        .assert()
        .success();
    fx.pod("acme", "web", 8080);
    fx.pod("globex", "api", 8080);
    fx.server.clear_requests();

    // Pod rows: the cluster's pods, not the audit's placeholders; tenants stay apart.
    let out = fx
        .harmony(&["audit", "matrix", "--pods", "-o", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let m: Value = serde_json::from_slice(&out).unwrap();
    let pods = m["pods"].as_array().unwrap();
    assert_eq!(pods.len(), 2, "{pods:?}");
    assert_eq!(
        pods[0],
        json!({"source": "acme/web", "destination": "globex/api", "connection": "none"})
    );
    let acme_row = m["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tenant"] == "acme")
        .unwrap();
    assert_eq!(acme_row["dns"]["status"], "allowed");
    fx.harmony(&["audit", "matrix"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Per tenant:"));

    fx.harmony(&[
        "audit",
        "can",
        "delete",
        "pods",
        "-n",
        "acme",
        "--as",
        "alice@acme.com",
    ])
    .assert()
    .success()
    .stdout(predicate::str::contains("RoleBinding acme/member-alice"));
    fx.harmony(&[
        "audit",
        "can",
        "get",
        "secrets",
        "-n",
        "globex",
        "--as",
        "alice@acme.com",
    ])
    .assert()
    .code(1);

    // Someone lets alice read Secrets everywhere: every question shows the binding.
    fx.insert(
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "secret-reader"},
        "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}]}),
    );
    fx.insert(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": "alice-reads-secrets"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "secret-reader"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice@acme.com"}]}));
    let grant = "ClusterRoleBinding alice-reads-secrets → ClusterRole secret-reader rule #0: get,list secrets";
    fx.harmony(&[
        "audit",
        "can",
        "get",
        "secrets",
        "-n",
        "globex",
        "--as",
        "alice@acme.com",
    ])
    .assert()
    .success()
    .stdout(predicate::str::contains(grant));
    fx.harmony(&["audit", "who-can", "list", "secrets", "-n", "globex"])
        .assert()
        .success()
        .stdout(predicate::str::contains("  User alice@acme.com\n"))
        .stdout(predicate::str::contains(grant));
    fx.harmony(&["audit", "what-can", "User:alice@acme.com"])
        .assert()
        .success()
        .stdout(predicate::str::contains("  cluster-wide:\n"))
        .stdout(predicate::str::contains("  in namespace acme:\n"));
    // A question that cannot be answered exits 2 (1 means "no").
    fx.harmony(&["audit", "what-can", "User:alice@acme.com", "-n", "nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("-n nope: no such namespace"));

    for request in fx.server.requests() {
        assert!(
            matches!(request.verb.as_str(), "list" | "get" | "discovery"),
            "the questions must only read: {request:?}"
        );
        assert_ne!(request.resource, "secrets", "read a Secret: {request:?}");
    }
}
