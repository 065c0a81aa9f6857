//! `harmony audit probe` against a real control plane (`harmony_testkit::ControlPlane`): tenants
//! and guardrails applied with the `harmony` binary pass every probe (exit 0, in text, JSON and
//! JUnit); a tenant whose developer is bound to cluster-admin and whose quota is deleted fails
//! exactly those probes with the server's answer as evidence (exit 1) while the other tenant
//! passes; bad input and missing rights are refused (exit 2), saying what to do.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use harmony_guardrails::DEFAULT_HARMONY_IDENTITY;
use harmony_testkit::ControlPlane;
use predicates::prelude::*;
use serde_json::Value;

fn tenant_file(dir: &Path, name: &str) -> PathBuf {
    let text = format!(
        "apiVersion: harmony.nationtech.io/v1alpha1\nkind: Tenant\nmetadata:\n  name: {name}\nspec:\n  rbac:\n    members:\n      - {{ name: alice, role: admin, user: alice@{name}.com }}\n      - {{ name: dev, role: developer, user: dev@{name}.com }}\n      - {{ name: view, role: viewer, group: {name}-viewers }}\n"
    );
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// Network tiers off: probes send API requests, not traffic (and the tiers'
/// BaselineAdminNetworkPolicy is not yet accepted by the CRDs this control plane serves).
fn guardrails_file(dir: &Path) -> PathBuf {
    let path = dir.join("guardrails.yaml");
    std::fs::write(
        &path,
        "apiVersion: harmony.nationtech.io/v1alpha1\nkind: ClusterGuardrails\nmetadata:\n  name: cluster\nspec:\n  networkTiers: disabled\n",
    )
    .unwrap();
    path
}

fn harmony(plane: &ControlPlane, args: &[&str]) -> Command {
    let mut cmd = Command::cargo_bin("harmony").unwrap();
    cmd.env_remove("KUBECONFIG")
        .args(args)
        .arg("--kubeconfig")
        .arg(plane.kubeconfig());
    cmd
}

/// `harmony audit probe -o json` until `settled` holds of its report (the API server applies new
/// admission policies and RBAC bindings from its caches, a moment after they are written), at
/// most 30 times a second apart; the last exit code and report either way.
fn probe_until(plane: &ControlPlane, settled: impl Fn(&Value) -> bool) -> (i32, Value) {
    let mut attempts = 0;
    loop {
        let out = harmony(plane, &["audit", "probe", "-o", "json"])
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "no JSON report ({e}): {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        attempts += 1;
        if settled(&report) || attempts == 30 {
            return (out.status.code().unwrap(), report);
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}

fn tenant<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tenant"] == name)
        .unwrap()
}

/// `(role, probe id)` of every result of `tenant` whose verdict is not `pass`.
fn not_passed(tenant: &Value) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for identity in tenant["identities"].as_array().unwrap() {
        for result in identity["results"].as_array().unwrap() {
            if result["verdict"] != "pass" {
                found.push((
                    identity["identity"]["role"].as_str().unwrap().to_string(),
                    result["id"].as_str().unwrap().to_string(),
                ));
            }
        }
    }
    found
}

fn result<'a>(tenant: &'a Value, role: &str, id: &str) -> &'a Value {
    let identity = tenant["identities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["identity"]["role"] == role)
        .unwrap();
    identity["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap()
}

#[test]
fn guarded_tenants_pass_and_a_weakened_one_fails_with_evidence() {
    let plane = ControlPlane::shared();
    let _logs = plane.failure_guard();
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (
        ControlPlane::unique_name("cli-probe-a"),
        ControlPlane::unique_name("cli-probe-b"),
    );
    let files = [tenant_file(dir.path(), &a), tenant_file(dir.path(), &b)];
    let files: Vec<&str> = files.iter().map(|f| f.to_str().unwrap()).collect();
    let (pods, services) = (
        plane.pod_network().to_string(),
        plane.service_network().to_string(),
    );
    let networks = ["--pod-network", &pods, "--service-network", &services];
    let mut apply = vec!["tenant", "apply", "-f"];
    apply.extend(&files);
    apply.extend(networks);
    harmony(plane, &apply).assert().success();
    let guardrails = guardrails_file(dir.path());
    let mut guard = vec!["cluster", "guardrails", "apply", "-f"];
    guard.extend(&files);
    guard.extend(["--guardrails", guardrails.to_str().unwrap()]);
    guard.extend(networks);
    harmony(plane, &guard).assert().success();
    let (code, report) = probe_until(plane, |r| {
        [&a, &b].iter().all(|t| not_passed(tenant(r, t)).is_empty())
    });
    assert_eq!(code, 0, "{report:#}");

    harmony(plane, &["audit", "probe"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "PASS HMT-PROBE-001 create a Namespace: blocked by RBAC",
        ))
        .stdout(predicate::str::contains(
            "PASS HMT-PROBE-019 share the node's network (hostNetwork): blocked by Pod Security admission",
        ))
        .stdout(predicate::str::contains(
            "PASS HMT-PROBE-032 run a compliant pod (sanity): allowed",
        ))
        .stdout(predicate::str::contains(
            "2 tenants, 204 probes passed, 0 failed, 0 errors",
        ));
    let junit = harmony(plane, &["audit", "probe", "-o", "junit"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let junit = String::from_utf8(junit).unwrap();
    assert!(
        junit.contains(&format!(
            "<testsuite name=\"{a}\" tests=\"102\" failures=\"0\" errors=\"0\">"
        )),
        "{junit}"
    );
    let only_a = harmony(plane, &["audit", "probe", "--tenant", &a, "-o", "json"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let only_a: Value = serde_json::from_slice(&only_a).unwrap();
    assert_eq!(only_a["tenants"].as_array().unwrap().len(), 1);
    assert_eq!(only_a["tenants"][0]["other_namespace"], b.as_str());

    // Weaken tenant a: its developer becomes a cluster admin, its quota goes.
    let developer = format!("dev@{a}.com");
    plane
        .kubectl_run(&[
            "create",
            "clusterrolebinding",
            &format!("{a}-weakened"),
            "--clusterrole=cluster-admin",
            &format!("--user={developer}"),
        ])
        .unwrap();
    plane
        .kubectl_run(&[
            "delete",
            "resourcequota",
            "tenant-quota",
            "-n",
            &a,
            &format!("--as={DEFAULT_HARMONY_IDENTITY}"),
            "--as-group=system:masters",
        ])
        .unwrap();

    let mut expected: Vec<(String, String)> = [
        "001", "002", "003", "004", "005", "006", "007", "008", "009", "010", "011", "015", "030",
        "031",
    ]
    .iter()
    .map(|n| ("developer".to_string(), format!("HMT-PROBE-{n}")))
    .collect();
    for role in ["admin", "viewer"] {
        for id in ["HMT-PROBE-010", "HMT-PROBE-011"] {
            expected.push((role.to_string(), id.to_string()));
        }
    }
    expected.sort();
    let failed = |r: &Value| {
        let mut found = not_passed(tenant(r, &a));
        found.sort();
        found
    };
    // The new ClusterRoleBinding and the quota's deletion reach the API server's caches within
    // seconds: wait until the report settles on the expected failures (30 tries at most).
    let (code, report) = probe_until(plane, |r| failed(r) == expected);
    assert_eq!(code, 1);
    assert!(not_passed(tenant(&report, &b)).is_empty());
    let weak = tenant(&report, &a);
    assert_eq!(failed(&report), expected);

    let namespace = result(weak, "developer", "HMT-PROBE-001");
    assert_eq!(namespace["outcome"], "allowed");
    assert_eq!(namespace["verdict"], "fail");
    assert_eq!(namespace["answer"]["code"], 201);
    let quota = result(weak, "admin", "HMT-PROBE-010");
    assert_eq!(quota["verdict"], "error");
    assert_eq!(quota["answer"]["code"], 0);
    assert!(
        quota["answer"]["message"]
            .as_str()
            .unwrap()
            .contains("no ResourceQuota managed by Harmony"),
        "{quota}"
    );
    let limits = result(weak, "developer", "HMT-PROBE-012");
    assert_eq!(limits["by"]["name"], "harmony-managed-objects", "{limits}");

    harmony(plane, &["audit", "probe", "--tenant", &a])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(format!(
            "tenant {a} (namespace {a}; other tenant's namespace {b}): FAIL"
        )))
        .stdout(predicate::str::contains(
            "FAIL HMT-PROBE-003 create a ClusterRoleBinding to cluster-admin: allowed, must be blocked\n        create clusterrolebindings.rbac.authorization.k8s.io (dry run)\n        server: 201 Created",
        ))
        .stdout(predicate::str::contains(format!(
            "server: not sent: no ResourceQuota managed by Harmony in {a} to probe (deleted?)"
        )));
}

#[test]
fn refusals_say_what_to_do_and_exit_2() {
    let plane = ControlPlane::shared();
    let _logs = plane.failure_guard();
    Command::cargo_bin("harmony")
        .unwrap()
        .env_remove("KUBECONFIG")
        .args(["audit", "probe"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "`harmony audit probe` probes a live cluster: give --kubeconfig FILE",
        ));

    let absent = ControlPlane::unique_name("absent");
    harmony(plane, &["audit", "probe", "--tenant", &absent])
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains(format!(
            "tenant {absent}: no namespace at {} carries the label harmony.nationtech.io/tenant={absent}",
            plane.url()
        )));

    let dir = tempfile::tempdir().unwrap();
    let file = tenant_file(dir.path(), "filed");
    harmony(
        plane,
        &[
            "audit",
            "probe",
            "--tenants",
            file.to_str().unwrap(),
            "--tenant",
            "other",
        ],
    )
    .assert()
    .code(2)
    .stderr(predicate::str::contains(
        "--tenant other: not among the tenants of the --tenants files",
    ));
    harmony(
        plane,
        &["audit", "probe", "--tenants", file.to_str().unwrap()],
    )
    .assert()
    .code(2)
    .stderr(predicate::str::contains("tenant filed: no namespace at"));

    // The admin's kubeconfig, acting as a user with no rights at all.
    let admin = std::fs::read_to_string(plane.kubeconfig()).unwrap();
    let nobody = admin.replacen("  user:\n", "  user:\n    as: probe-nobody\n", 1);
    assert_ne!(nobody, admin);
    let kubeconfig = dir.path().join("nobody.kubeconfig");
    std::fs::write(&kubeconfig, nobody).unwrap();
    Command::cargo_bin("harmony")
        .unwrap()
        .env_remove("KUBECONFIG")
        .args([
            "audit",
            "probe",
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "may not impersonate users, groups, serviceaccounts",
        ));
}
