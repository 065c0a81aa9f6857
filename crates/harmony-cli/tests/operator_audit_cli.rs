//! `harmony audit` over `harmony operator install`'s folder and rendered tenants: the operator's
//! own account is a named platform check, in text and JSON, that passes as rendered and fails,
//! naming the rule, once its ClusterRole is widened.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn harmony() -> Command {
    let mut cmd = Command::cargo_bin("harmony").unwrap();
    cmd.env_remove("KUBECONFIG");
    cmd
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/tenants")
}

/// The install folder and the rendered example tenants, under `dir`.
fn render(dir: &Path) -> (PathBuf, PathBuf) {
    let (install, tenants) = (dir.join("operator"), dir.join("tenants"));
    harmony()
        .args(["operator", "install", "--out"])
        .arg(&install)
        .args(["--image", "registry.example.com/harmony:1.0"])
        .assert()
        .success();
    harmony()
        .args(["tenant", "render", "-f"])
        .arg(examples())
        .arg("--out")
        .arg(&tenants)
        .assert()
        .success();
    (install, tenants)
}

/// `harmony audit -f install tenants --tenants examples` in `format`: exit code and stdout.
fn audit(install: &Path, tenants: &Path, format: &str) -> (Option<i32>, String) {
    let out = harmony()
        .args(["audit", "-o", format, "-f"])
        .arg(install)
        .arg(tenants)
        .arg("--tenants")
        .arg(examples())
        .output()
        .unwrap();
    (out.status.code(), String::from_utf8(out.stdout).unwrap())
}

const CHECK: &str = "HMT-OPERATOR-001 The operator's account holds no wildcard, reads no Secret, \
                     impersonates no one, and binds only tenant roles";

#[test]
fn the_rendered_operator_role_passes_the_audit() {
    let dir = tempfile::tempdir().unwrap();
    let (install, tenants) = render(dir.path());
    let (code, text) = audit(&install, &tenants, "text");
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains(&format!("platform: PASS\n  PASS {CHECK}\n")),
        "{text}"
    );
    let (code, json) = audit(&install, &tenants, "json");
    assert_eq!(code, Some(0));
    let report: Value = serde_json::from_str(&json).unwrap();
    let check = &report["platform"][0];
    assert_eq!(check["id"], "HMT-OPERATOR-001");
    assert_eq!(check["status"], "pass");
    let evidence: Vec<&str> = check["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(
        evidence.iter().any(|e| e.ends_with(
            "bind,escalate roles (apiGroups \"rbac.authorization.k8s.io\") named \
             tenant-admin,tenant-developer,tenant-viewer"
        )),
        "{evidence:#?}"
    );
}

#[test]
fn a_widened_operator_role_fails_the_audit_naming_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    let (install, tenants) = render(dir.path());
    let role = install.join("30-clusterrole-harmony-operator.yaml");
    let mut yaml = fs::read_to_string(&role).unwrap();
    assert!(
        yaml.ends_with("  - patch\n"),
        "rules are the file's last key"
    );
    yaml.push_str("- apiGroups: [\"*\"]\n  resources: [\"*\"]\n  verbs: [\"*\"]\n");
    fs::write(&role, yaml).unwrap();

    let (code, text) = audit(&install, &tenants, "text");
    assert_eq!(code, Some(1), "{text}");
    let rule = "ClusterRoleBinding harmony-operator → ClusterRole harmony-operator rule #19: * * \
                (apiGroups \"*\")";
    for why in [
        "holds a wildcard",
        "reads Secrets",
        "impersonates",
        "binds or escalates roles other than the tenant roles",
    ] {
        let line = format!("      ServiceAccount harmony-system/harmony-operator {why}: {rule}\n");
        assert!(text.contains(&line), "{line}\n{text}");
    }
    assert!(text.contains(&format!("platform: FAIL\n  FAIL {CHECK}\n")));

    let (code, json) = audit(&install, &tenants, "json");
    assert_eq!(code, Some(1));
    let report: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["platform"][0]["status"], "fail");
    assert_eq!(
        report["platform"][0]["evidence"][0],
        format!("ServiceAccount harmony-system/harmony-operator holds a wildcard: {rule}")
    );
    // The page for people says so too.
    let page = dir.path().join("audit.html");
    harmony()
        .args(["audit", "report", "--out"])
        .arg(&page)
        .arg("-f")
        .arg(&install)
        .arg(&tenants)
        .arg("--tenants")
        .arg(examples())
        .assert()
        .code(1);
    let html = fs::read_to_string(&page).unwrap();
    let section = &html[html
        .find("<section id=\"platform\">")
        .expect("a platform section")..];
    assert!(
        section.contains("<span class=\"b fail\">FAIL</span></td><td><b>HMT-OPERATOR-001</b>"),
        "{section}"
    );
    assert!(
        html.contains("<strong>1</strong>failed</div>"),
        "the summary counts it"
    );

    // The tenants' own checks are untouched.
    for tenant in report["tenants"].as_array().unwrap() {
        for check in tenant["checks"].as_array().unwrap() {
            assert_eq!(check["status"], "pass", "{check}");
        }
    }
}
