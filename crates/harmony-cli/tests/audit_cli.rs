//! `harmony audit` as an operator runs it: pass on Harmony's tenants, fail with evidence on a
//! weakened render, machine-readable reports, and `explain`.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use assert_cmd::assert::OutputAssertExt;
use predicates::prelude::*;

fn harmony() -> Command {
    Command::cargo_bin("harmony").unwrap()
}

fn tenants() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/tenants")
}

fn render(out: &Path) {
    harmony()
        .args(["tenant", "render", "-f"])
        .arg(tenants())
        .arg("--out")
        .arg(out)
        .assert()
        .success();
}

#[test]
fn harmony_tenants_pass_from_files_and_a_rendered_folder_holds_them_to_restricted() {
    harmony()
        .args(["audit", "--tenants"])
        .arg(tenants())
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "3 tenants, 87 checks passed, 0 warned, 0 failed",
        ));
    let tmp = tempfile::tempdir().unwrap();
    render(tmp.path());
    // Without the tenant files the audit cannot know initech chose `baseline`: it expects
    // `restricted` and says so; every other check passes.
    harmony()
        .args(["audit", "-f"])
        .arg(tmp.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "namespace initech-prod has pod-security.kubernetes.io/enforce=baseline, below `restricted`",
        ))
        .stdout(predicate::str::contains("3 tenants, 86 checks passed, 0 warned, 1 failed"));
}

#[test]
fn a_policy_opening_a_tenant_to_every_namespace_fails_with_evidence() {
    let tmp = tempfile::tempdir().unwrap();
    render(tmp.path());
    fs::write(
        tmp.path().join("acme/30-networkpolicy-allow-all.yaml"),
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: { name: allow-all, namespace: acme }\n\
         spec:\n  podSelector: {}\n  policyTypes: [Ingress]\n  ingress: [{ from: [{ namespaceSelector: {} }] }]\n",
    )
    .unwrap();
    // globex's own egress is closed, so only a tenant whose egress is open could use the hole:
    // give globex an egress rule to every namespace too.
    fs::write(
        tmp.path().join("globex/30-networkpolicy-egress-all.yaml"),
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: { name: egress-all, namespace: globex }\n\
         spec:\n  podSelector: {}\n  policyTypes: [Egress]\n  egress: [{ to: [{ namespaceSelector: {} }] }]\n",
    )
    .unwrap();
    let out = harmony()
        .args(["audit", "-o", "json", "-f"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(text.contains("HMT-NET-002"), "{text}");
    assert!(
        text.contains("allow-all"),
        "the evidence names the policy: {text}"
    );
    assert!(report.is_object() || report.is_array());
}

#[test]
fn junit_output_and_tenant_narrowing() {
    harmony()
        .args(["audit", "-o", "junit", "--tenant", "acme", "--tenants"])
        .arg(tenants())
        .assert()
        .success()
        .stdout(predicate::str::starts_with("<?xml"))
        .stdout(predicate::str::contains("<testsuite name=\"acme\""))
        .stdout(predicate::str::contains("globex").not());
}

#[test]
fn explain_names_the_policies_on_a_path() {
    harmony()
        .args(["audit", "explain", "acme", "globex", "80/TCP", "--tenants"])
        .arg(tenants())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("BLOCKED"))
        .stdout(predicate::str::contains("acme/default-deny"));
    harmony()
        .args([
            "audit",
            "explain",
            "acme",
            "internet",
            "443/TCP",
            "--tenants",
        ])
        .arg(tenants())
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "allowed by NetworkPolicy acme/allow-internet-egress",
        ));
    harmony()
        .args([
            "audit",
            "explain",
            "initech-prod",
            "internet",
            "443/TCP",
            "--tenants",
        ])
        .arg(tenants())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("BLOCKED"));
}

/// Two web pods alike, a db pod, and policies letting web reach db on 5432 only.
const SHOP: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../harmony-audit/tests/fixtures/shop.yaml"
);

/// `harmony audit explain ARGS -f` [`SHOP`].
fn explain_shop(args: &[&str]) -> std::process::Output {
    harmony()
        .args(["audit", "explain"])
        .args(args)
        .args(["-f", SHOP])
        .output()
        .unwrap()
}

#[test]
fn explain_answers_two_pods_alike_a_pod_and_itself_and_a_namespace_and_itself() {
    // Two pods of one equivalence class: judged by the policies, blocked here.
    explain_shop(&["shop/web-1", "shop/web-2", "80"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "shop/web-1 → shop/web-2: no connection — TCP 80: BLOCKED",
        ))
        .stdout(predicate::str::contains("NetworkPolicy shop/default-deny"));
    // A pod and itself: always allowed.
    explain_shop(&["shop/db", "shop/db", "80"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "shop/db → shop/db: all connections — TCP 80: ALLOWED",
        ))
        .stdout(predicate::str::contains(
            "a pod cannot block access to itself",
        ));
    // A namespace and itself: every pair of its classes.
    explain_shop(&["shop", "shop", "5432"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "shop/web-1 (+1 alike) → shop/db: TCP 5432 — TCP 5432: ALLOWED",
        ))
        .stdout(predicate::str::contains(
            "shop/web-1 → shop/web-2: no connection — TCP 5432: BLOCKED",
        ));
    // A pod-less tenant namespace and itself: its placeholder stands for any two of its pods.
    harmony()
        .args(["audit", "explain", "acme", "acme", "80", "--tenants"])
        .arg(tenants())
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "acme/placeholder → another pod of acme: all connections — TCP 80: ALLOWED",
        ))
        .stdout(predicate::str::contains(
            "NetworkPolicy acme/allow-same-namespace rule #0",
        ));
}

#[test]
fn explain_prints_json_with_the_deciding_rules() {
    let out = explain_shop(&["shop/web-1", "shop/db", "5432/tcp", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["src"], "shop/web-1");
    assert_eq!(json["dst"], "shop/db");
    assert_eq!(
        json["port"],
        serde_json::json!({"protocol": "TCP", "number": 5432})
    );
    assert_eq!(json["allowed"], true);
    let pair = &json["pairs"][0];
    assert_eq!(pair["src"], "shop/web-1");
    assert_eq!(pair["dst"], "shop/db");
    assert_eq!(pair["allowed"], true);
    assert_eq!(pair["samePod"], false);
    assert_eq!(pair["connections"], "TCP 5432");
    let allow = pair["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["effect"] == "allow")
        .unwrap();
    assert_eq!(
        allow,
        &serde_json::json!({
            "direction": "ingress",
            "pod": "shop/db",
            "effect": "allow",
            "policies": ["NetworkPolicy shop/web-to-db"],
            "rule": 0,
            "connections": "TCP 5432",
        })
    );
    // Blocked: exit 1, the isolating policies named, no rule index.
    let out = explain_shop(&["shop/web-1", "shop/web-2", "-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["port"], serde_json::Value::Null);
    assert_eq!(json["allowed"], false);
    let block = &json["pairs"][0]["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["effect"] == "block")
        .unwrap()
        .clone();
    assert_eq!(
        block["policies"],
        serde_json::json!(["NetworkPolicy shop/default-deny"])
    );
    assert!(block.get("rule").is_none(), "{block}");
}

#[test]
fn explain_lets_an_ip_block_select_the_pod_whose_ip_it_covers() {
    let tmp = tempfile::tempdir().unwrap();
    let pod = |name: &str, ip: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: shop, labels: {{app: {name}}}}}\n\
             spec: {{containers: [{{name: c, image: i}}]}}\nstatus: {{podIP: \"{ip}\"}}\n---\n"
        )
    };
    fs::write(
        tmp.path().join("shop.yaml"),
        format!(
            "apiVersion: v1\nkind: Namespace\nmetadata: {{name: shop}}\n---\n{}{}{}\
             apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n\
             metadata: {{name: client-egress, namespace: shop}}\n\
             spec: {{podSelector: {{matchLabels: {{app: client}}}}, policyTypes: [Egress], \
             egress: [{{to: [{{ipBlock: {{cidr: 10.0.0.1/32}}}}]}}]}}\n",
            pod("client", "10.0.0.9"),
            pod("db", "10.0.0.1"),
            pod("cache", "10.0.0.2"),
        ),
    )
    .unwrap();
    let explain = |dst: &str| {
        let mut cmd = harmony();
        cmd.args(["audit", "explain", "shop/client", dst, "5432", "-f"])
            .arg(tmp.path());
        cmd
    };
    explain("shop/db")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "egress of shop/client allowed by NetworkPolicy shop/client-egress rule #0",
        ));
    explain("shop/cache")
        .assert()
        .code(1)
        .stdout(predicate::str::contains("TCP 5432: BLOCKED"));
}

#[test]
fn rendered_tenants_and_guardrails_pass_and_the_missing_tiers_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    for (flavor, expected, warning) in [
        (
            "okd",
            "3 tenants, 87 checks passed, 0 warned, 0 failed",
            None,
        ),
        // Vanilla clusters get no AdminNetworkPolicy tiers by default: cross-tenant isolation
        // then rests on NetworkPolicies alone, and the audit says so.
        (
            "kubernetes",
            "3 tenants, 84 checks passed, 3 warned, 0 failed",
            Some("WARN HMT-NET-002"),
        ),
    ] {
        let out = tmp.path().join(flavor);
        harmony()
            .args(["tenant", "render", "--flavor", flavor, "-f"])
            .arg(tenants())
            .arg("--out")
            .arg(out.join("tenants"))
            .assert()
            .success();
        harmony()
            .args(["cluster", "guardrails", "render", "--flavor", flavor, "-f"])
            .arg(tenants())
            .arg("--out")
            .arg(out.join("guardrails"))
            .assert()
            .success();
        let assert = harmony()
            .args(["audit", "--flavor", flavor, "-f"])
            .arg(&out)
            .arg("--tenants")
            .arg(tenants())
            .assert()
            .success()
            .stdout(predicate::str::contains(expected));
        if let Some(warning) = warning {
            assert.stdout(predicate::str::contains(warning));
        }
    }
}

#[test]
fn tenant_files_must_match_the_rendered_manifests_they_describe() {
    let tmp = tempfile::tempdir().unwrap();
    harmony()
        .args(["cluster", "guardrails", "render", "-f"])
        .arg(tenants())
        .arg("--out")
        .arg(tmp.path())
        .assert()
        .success();
    harmony()
        .args(["audit", "-f"])
        .arg(tmp.path())
        .arg("--tenants")
        .arg(tenants())
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "--tenants: not in the manifests given with -f: acme, globex, initech",
        ));
}

/// `harmony audit ARGS --tenants examples/tenants`.
fn on_tenants(args: &[&str]) -> Command {
    let mut cmd = harmony();
    cmd.arg("audit").args(args).arg("--tenants").arg(tenants());
    cmd
}

fn json_of(cmd: &mut Command, code: i32) -> serde_json::Value {
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(code), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn matrix_shows_namespace_pairs_and_the_platform_paths_of_each_tenant() {
    on_tenants(&["matrix"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Namespace reachability: source (row) → destination (column)",
        ))
        .stdout(predicate::str::contains(
            "  1 acme           -  .  .  .  P  .",
        ))
        .stdout(predicate::str::contains("Legend: A all connections"))
        .stdout(predicate::str::contains(
            "  acme → kube-system: TCP 53; UDP 53",
        ))
        // initech denies internet egress and lets only the ingress controller in.
        .stdout(
            predicate::str::is_match(r"initech +initech-prod +blocked +allowed +allowed +blocked")
                .unwrap(),
        );

    let m = json_of(&mut on_tenants(&["matrix", "-o", "json"]), 0);
    let pairs = m["pairs"].as_array().unwrap();
    let n = m["namespaces"].as_array().unwrap().len();
    assert_eq!(pairs.len(), n * (n - 1), "one entry per ordered pair");
    let connection = |src: &str, dst: &str| {
        pairs
            .iter()
            .find(|p| p["source"] == src && p["destination"] == dst)
            .map(|p| p["connection"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(connection("acme", "globex"), "none");
    assert_eq!(connection("ingress-nginx", "acme"), "all");
    assert_eq!(connection("globex", "kube-system"), "TCP 53; UDP 53");
    let initech = &m["tenants"].as_array().unwrap()[2];
    assert_eq!(initech["tenant"], "initech");
    assert_eq!(initech["internetEgress"]["status"], "blocked");
    assert_eq!(initech["monitoring"]["status"], "blocked");
    assert_eq!(initech["ingressController"]["status"], "allowed");
    assert!(m.get("pods").is_none(), "no pod rows unless asked");

    // --tenant narrows the tenant rows; tenant files hold no pods, and --pods says so.
    let m = json_of(
        &mut on_tenants(&["matrix", "--pods", "--tenant", "acme", "-o", "json"]),
        0,
    );
    assert_eq!(m["tenants"].as_array().unwrap().len(), 1);
    assert_eq!(m["pods"], serde_json::json!([]));
    assert!(m["notes"].to_string().contains("no pod rows"), "{m}");
}

#[test]
fn matrix_pod_rows_come_from_pod_manifests() {
    let tmp = tempfile::tempdir().unwrap();
    render(tmp.path());
    fs::write(
        tmp.path().join("pods.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: { name: web, namespace: acme }\nspec: { containers: [{ name: main, image: nginx }] }\n---\n\
         apiVersion: v1\nkind: Pod\nmetadata: { name: api, namespace: globex }\nspec: { containers: [{ name: main, image: nginx }] }\n",
    )
    .unwrap();
    let out = harmony()
        .args(["audit", "matrix", "--pods", "-f"])
        .arg(tmp.path())
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(
        text.contains("Pod reachability: 0 of 2 pod pairs have a connection"),
        "{text}"
    );
    let mut cmd = harmony();
    cmd.args(["audit", "matrix", "--pods", "-o", "json", "-f"])
        .arg(tmp.path());
    let m = json_of(&mut cmd, 0);
    assert_eq!(
        m["pods"],
        serde_json::json!([
            {"source": "acme/web", "destination": "globex/api", "connection": "none"},
            {"source": "globex/api", "destination": "acme/web", "connection": "none"},
        ])
    );
}

#[test]
fn can_answers_yes_or_no_with_the_granting_rule() {
    on_tenants(&["can", "create", "pods/exec", "-n", "acme", "--as", "alice@acme.com"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "yes: alice@acme.com (groups system:authenticated) can create pods/exec in acme",
        ))
        .stdout(predicate::str::contains(
            "RoleBinding acme/member-alice → Role acme/tenant-admin rule #2: get,create pods/attach,pods/exec,pods/portforward",
        ));
    // Group membership comes only from --as-group.
    on_tenants(&["can", "delete", "deployments", "-n", "acme", "--as", "bob"])
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with("no: bob"));
    on_tenants(&[
        "can",
        "delete",
        "deployments",
        "-n",
        "acme",
        "--as",
        "bob",
        "--as-group",
        "acme-devs",
    ])
    .assert()
    .success()
    .stdout(predicate::str::contains("RoleBinding acme/member-devs"));
    // A ServiceAccount is in its own groups and bound in its namespace only.
    let answer = json_of(
        &mut on_tenants(&[
            "can",
            "list",
            "secrets",
            "-n",
            "globex",
            "--as",
            "system:serviceaccount:acme:ci",
            "-o",
            "json",
        ]),
        1,
    );
    assert_eq!(answer["allowed"], false);
    assert_eq!(answer["request"], "list secrets in globex");
    assert!(
        answer["groups"]
            .to_string()
            .contains("system:serviceaccounts:acme")
    );
    let answer = json_of(
        &mut on_tenants(&[
            "can",
            "get",
            "deployments.apps/scale",
            "web",
            "-n",
            "acme",
            "--as",
            "system:serviceaccount:acme:ci",
            "-o",
            "json",
        ]),
        0,
    );
    assert_eq!(
        answer["evidence"][0]["binding"],
        "RoleBinding acme/member-ci"
    );
    assert_eq!(
        answer["evidence"][0]["rule"]["resources"][0],
        "deployments/scale"
    );
}

#[test]
fn who_can_and_what_can_list_subjects_and_grants_with_evidence() {
    on_tenants(&["who-can", "create", "pods/exec", "-n", "acme"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "3 subjects can create pods/exec in acme:",
        ))
        .stdout(predicate::str::contains(
            "  User alice@acme.com\n    RoleBinding acme/member-alice",
        ))
        .stdout(predicate::str::contains("  Group acme-devs\n"))
        .stdout(predicate::str::contains("  ServiceAccount acme/ci\n"));
    // Tenant roles are namespaced: nobody holds them cluster-wide.
    on_tenants(&["who-can", "create", "pods/exec"])
        .assert()
        .code(1)
        .stdout("nobody can create pods/exec (cluster-wide): no binding grants it\n");
    let who = json_of(
        &mut on_tenants(&["who-can", "get", "pods", "-n", "initech-prod", "-o", "json"]),
        0,
    );
    assert_eq!(who["subjects"][0]["subject"]["kind"], "User");
    assert_eq!(who["subjects"][0]["subject"]["name"], "peter@initech.com");

    on_tenants(&["what-can", "ServiceAccount:acme/ci"])
        .assert()
        .success()
        .stdout(predicate::str::contains("  in namespace acme:\n"))
        .stdout(predicate::str::contains(
            "RoleBinding acme/member-ci → Role acme/tenant-developer rule #2",
        ));
    for subject in ["system:serviceaccount:acme:ci", "ServiceAccount:acme/ci"] {
        let what = json_of(&mut on_tenants(&["what-can", subject, "-o", "json"]), 0);
        assert_eq!(what["scopes"][0]["scope"]["namespace"], "acme");
        assert!(!what["scopes"][0]["grants"].as_array().unwrap().is_empty());
    }
    on_tenants(&["what-can", "User:alice@acme.com", "-n", "globex"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "holds no grant in namespace globex (cluster-wide grants included)",
        ));
}

#[test]
fn can_and_who_can_take_resources_as_kubectl_names_them() {
    for name in [
        "pods/exec",
        "Pods/exec",
        "pod/exec",
        "Pod/exec",
        "po/exec",
        "POD/EXEC",
    ] {
        on_tenants(&[
            "can",
            "create",
            name,
            "-n",
            "acme",
            "--as",
            "alice@acme.com",
        ])
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "yes: alice@acme.com (groups system:authenticated) can create pods/exec in acme",
        ));
        on_tenants(&["who-can", "create", name, "-n", "acme"])
            .assert()
            .success()
            .stdout(predicate::str::starts_with(
                "3 subjects can create pods/exec in acme:",
            ));
    }
    on_tenants(&[
        "can",
        "list",
        "Deployment.apps",
        "-n",
        "acme",
        "--as",
        "alice@acme.com",
    ])
    .assert()
    .success()
    .stdout(predicate::str::contains(
        "can list deployments.apps in acme",
    ));
    // An unknown resource with its group is a question like any other: "no" here.
    on_tenants(&[
        "can",
        "list",
        "widgets.example.com",
        "-n",
        "acme",
        "--as",
        "bob",
    ])
    .assert()
    .code(1)
    .stdout(predicate::str::starts_with(
        "no: bob (groups system:authenticated) cannot list widgets.example.com in acme",
    ));
    on_tenants(&["who-can", "delete", "widgets.example.com", "-n", "acme"])
        .assert()
        .code(1)
        .stdout("nobody can delete widgets.example.com in acme: no binding grants it\n");
}

#[test]
fn a_namespace_without_objects_is_answered_from_cluster_wide_bindings() {
    let tmp = tempfile::tempdir().unwrap();
    render(tmp.path());
    fs::write(
        tmp.path().join("cluster-reader.yaml"),
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\n\
         metadata: {name: auditors-view}\n\
         subjects: [{kind: Group, name: auditors, apiGroup: rbac.authorization.k8s.io}]\n\
         roleRef: {kind: ClusterRole, name: view, apiGroup: rbac.authorization.k8s.io}\n",
    )
    .unwrap();
    let note = "note: namespace later holds no objects in the audited source: only cluster-wide \
                bindings (ClusterRoleBindings) answer for it";
    let mut can = harmony();
    can.args(["audit", "can", "list", "pods", "-n", "later", "--as", "eve"])
        .args(["--as-group", "auditors", "-f"])
        .arg(tmp.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("ClusterRoleBinding auditors-view"))
        .stdout(predicate::str::contains(note));
    let mut no = harmony();
    no.args([
        "audit",
        "can",
        "list",
        "pods",
        "-n",
        "later",
        "--as",
        "alice@acme.com",
        "-f",
    ])
    .arg(tmp.path())
    .assert()
    .code(1)
    .stdout(predicate::str::starts_with("no: alice@acme.com"))
    .stdout(predicate::str::contains(note));
    let mut who = harmony();
    who.args([
        "audit", "who-can", "list", "pods", "-n", "later", "-o", "json", "-f",
    ])
    .arg(tmp.path());
    let answer = json_of(&mut who, 0);
    let subjects: Vec<String> = answer["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["subject"]["name"].as_str().unwrap().to_string())
        .collect();
    assert!(subjects.contains(&"auditors".to_string()), "{subjects:?}");
    assert!(!subjects.iter().any(|s| s.contains("acme")), "{subjects:?}");
    assert!(answer["note"].as_str().unwrap().contains("namespace later"));
}

#[test]
fn questions_refuse_what_they_cannot_answer() {
    for (args, says) in [
        (
            vec!["what-can", "alice"],
            "SUBJECT: subject `alice` names no kind: write User:NAME, Group:NAME",
        ),
        (
            vec!["what-can", "ServiceAccount:ci"],
            "ServiceAccount:NAMESPACE/NAME",
        ),
        (
            vec!["can", "get", "pods", "--as", "system:serviceaccount:acme"],
            "--as `system:serviceaccount:acme` is not a ServiceAccount user name",
        ),
        (
            vec!["matrix", "-o", "junit"],
            "-o junit: JUnit XML reports the checks only; `harmony audit matrix` prints -o text or -o json",
        ),
        (
            vec!["can", "get", "pods", "--as", "a", "-o", "junit"],
            "`harmony audit can` prints",
        ),
        (
            vec!["who-can", "get", "pods", "-o", "junit"],
            "`harmony audit who-can` prints",
        ),
        (
            vec!["what-can", "Group:g", "-o", "junit"],
            "`harmony audit what-can` prints",
        ),
        (
            vec!["explain", "acme", "globex", "-o", "junit"],
            "`harmony audit explain` prints",
        ),
        (
            vec!["what-can", "Group:g", "-n", "acne"],
            "-n acne: no such namespace",
        ),
        (
            vec!["who-can", "get", "widgets"],
            "RESOURCE `widgets` is not a built-in resource: name its API group as RESOURCE.GROUP",
        ),
        (
            vec!["who-can", "get", "/metrics", "-n", "acme"],
            "the non-resource URL `/metrics` has no name or namespace",
        ),
        (
            vec!["who-can", "get", "pods", "--tenant", "acme"],
            "--tenant acme: `harmony audit who-can` does not narrow by tenant",
        ),
        (
            vec!["matrix", "--tenant", "nope"],
            "--tenant nope: no namespace carries the label",
        ),
        (
            vec!["can", "get", "widget", "--as", "a"],
            "RESOURCE `widget` is not a built-in resource",
        ),
        (
            vec!["can", "get", "pods.", "--as", "a"],
            "RESOURCE `pods.`: write RESOURCE[.GROUP][/SUBRESOURCE]",
        ),
        (vec!["can", "", "pods", "--as", "a"], "VERB: give a verb"),
    ] {
        // The questions exit 2 when they cannot answer (1 means "no"); matrix, like the
        // checks, exits 1 on an error.
        let code = if args[0] == "matrix" { 1 } else { 2 };
        on_tenants(&args)
            .assert()
            .code(code)
            .stdout("")
            .stderr(predicate::str::contains(says));
    }
    // Without anything to audit a question cannot be answered either.
    harmony()
        .args(["audit", "can", "get", "pods", "--as", "a"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nothing to audit"));
    // --as is required: clap names it.
    on_tenants(&["can", "get", "pods", "-n", "acme"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--as <USER>"));
}
