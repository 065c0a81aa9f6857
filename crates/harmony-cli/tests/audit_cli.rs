//! `harmony audit` as an operator runs it: pass on Harmony's tenants, fail with evidence on a
//! weakened render, machine-readable reports, and `explain`.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
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
            "3 tenants, 51 checks passed, 0 warned, 0 failed",
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
        .stdout(predicate::str::contains("3 tenants, 50 checks passed, 0 warned, 1 failed"));
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

#[test]
fn rendered_tenants_and_guardrails_pass_and_the_missing_tiers_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    for (flavor, expected, warning) in [
        (
            "okd",
            "3 tenants, 51 checks passed, 0 warned, 0 failed",
            None,
        ),
        // Vanilla clusters get no AdminNetworkPolicy tiers by default: cross-tenant isolation
        // then rests on NetworkPolicies alone, and the audit says so.
        (
            "kubernetes",
            "3 tenants, 48 checks passed, 3 warned, 0 failed",
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
