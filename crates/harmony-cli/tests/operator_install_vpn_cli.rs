//! `harmony operator install --vpn-gateway FILE`: the gateway file as a ConfigMap the Deployment
//! mounts and runs with, and a Role on the VPN registry Secret that `harmony audit` passes
//! (HMT-OPERATOR-001 naming the Secret) and fails once it reaches other Secrets; an invalid or
//! unreadable gateway file is refused with nothing written.

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
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

fn gateway() -> PathBuf {
    examples().join("vpn-gateway.yaml")
}

/// `harmony operator install --out out` with `extra` flags.
fn install(out: &Path, extra: &[&Path]) -> assert_cmd::assert::Assert {
    harmony()
        .args(["operator", "install", "--out"])
        .arg(out)
        .args(["--image", "registry.example.com/harmony:1.0"])
        .args(extra.iter().flat_map(|p| [Path::new("--vpn-gateway"), p]))
        .assert()
}

/// The install folder (with the example gateway) and the rendered example tenants, under `dir`.
fn render(dir: &Path) -> (PathBuf, PathBuf) {
    let (operator, tenants) = (dir.join("operator"), dir.join("tenants"));
    install(&operator, &[&gateway()]).success();
    harmony()
        .args(["tenant", "render", "-f"])
        .arg(examples().join("tenants"))
        .arg("--out")
        .arg(&tenants)
        .assert()
        .success();
    (operator, tenants)
}

/// `harmony audit -o json -f operator tenants --tenants examples`: exit code and the operator's
/// check.
fn audit(operator: &Path, tenants: &Path) -> (Option<i32>, Value) {
    let out = harmony()
        .args(["audit", "-o", "json", "-f"])
        .arg(operator)
        .arg(tenants)
        .arg("--tenants")
        .arg(examples().join("tenants"))
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let check = report["platform"][0].clone();
    assert_eq!(check["id"], "HMT-OPERATOR-001");
    (out.status.code(), check)
}

fn evidence(check: &Value) -> Vec<&str> {
    check["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect()
}

/// The folder's files and their content.
fn files(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, fs::read_to_string(&p).unwrap())
        })
        .collect();
    files.sort();
    files
}

#[test]
fn the_gateway_is_mounted_and_the_registry_role_passes_the_audit_naming_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let (operator, tenants) = render(dir.path());
    let config_map =
        fs::read_to_string(operator.join("25-configmap-harmony-vpn-gateway.yaml")).unwrap();
    let first_line = fs::read_to_string(gateway())
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert!(config_map.contains(&first_line), "{config_map}");
    let deployment =
        fs::read_to_string(operator.join("50-deployment-harmony-operator.yaml")).unwrap();
    for expected in [
        "--vpn-gateway=/etc/harmony/vpn/vpn-gateway.yaml",
        "--vpn-registry=cluster",
        "mountPath: /etc/harmony/vpn",
        "name: harmony-vpn-gateway",
    ] {
        assert!(deployment.contains(expected), "{expected}: {deployment}");
    }
    let kustomization = fs::read_to_string(operator.join("kustomization.yaml")).unwrap();
    for file in [
        "36-role-harmony-operator-vpn.yaml",
        "46-rolebinding-harmony-operator-vpn.yaml",
    ] {
        assert!(kustomization.contains(file), "{file}: {kustomization}");
    }

    let (code, check) = audit(&operator, &tenants);
    assert_eq!(code, Some(0), "{check:#}");
    assert_eq!(check["status"], "pass");
    let evidence = evidence(&check);
    assert_eq!(
        evidence[1],
        "ServiceAccount harmony-system/harmony-operator reads one Secret, the VPN peer registry \
         harmony-system/harmony-vpn-registry, to revoke deleted tenants' peers: RoleBinding \
         harmony-system/harmony-operator-vpn → Role harmony-system/harmony-operator-vpn rule #0: \
         get,update secrets (apiGroups \"\") named harmony-vpn-registry",
        "{evidence:#?}"
    );
}

#[test]
fn the_registry_role_reaching_other_secrets_fails_the_audit_naming_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    let (operator, tenants) = render(dir.path());
    let role = operator.join("36-role-harmony-operator-vpn.yaml");
    let yaml = fs::read_to_string(&role).unwrap();
    let named = "  resourceNames:\n  - harmony-vpn-registry\n";
    assert!(yaml.contains(named), "{yaml}");
    fs::write(&role, yaml.replace(named, "")).unwrap();

    let (code, check) = audit(&operator, &tenants);
    assert_eq!(code, Some(1), "{check:#}");
    assert_eq!(check["status"], "fail");
    assert_eq!(
        evidence(&check)[0],
        "ServiceAccount harmony-system/harmony-operator reads Secrets: RoleBinding \
         harmony-system/harmony-operator-vpn → Role harmony-system/harmony-operator-vpn rule #0: \
         get,update secrets (apiGroups \"\")"
    );
}

#[test]
fn without_the_flag_the_other_files_are_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (plain, with_vpn) = (dir.path().join("plain"), dir.path().join("vpn"));
    install(&plain, &[]).success();
    install(&with_vpn, &[&gateway()]).success();
    let plain = files(&plain);
    let with_vpn: Vec<(String, String)> = files(&with_vpn)
        .into_iter()
        .filter(|(name, _)| !name.contains("vpn"))
        .collect();
    assert_eq!(plain.len(), with_vpn.len());
    for (p, v) in plain.iter().zip(&with_vpn) {
        assert_eq!(p.0, v.0);
        if !["50-deployment-harmony-operator.yaml", "kustomization.yaml"].contains(&p.0.as_str()) {
            assert_eq!(p, v);
        }
    }
}

#[test]
fn an_invalid_or_unreadable_gateway_file_is_refused_with_nothing_written() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad-gateway.yaml");
    let text = fs::read_to_string(gateway()).unwrap().replace(
        "endpoint: vpn.example.com:51820",
        "endpoint: vpn.example.com",
    );
    fs::write(&bad, text).unwrap();
    let missing = dir.path().join("missing.yaml");

    // A fresh folder is not created.
    let out = dir.path().join("fresh");
    let refused = install(&out, &[&bad]).failure();
    let stderr = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
    for expected in [
        "bad-gateway.yaml",
        "spec.endpoint",
        "`vpn.example.com`",
        "nothing was written",
    ] {
        assert!(stderr.contains(expected), "{expected}: {stderr}");
    }
    assert!(!out.exists());

    // A folder rendered before keeps its files.
    install(&out, &[]).success();
    let before = files(&out);
    install(&out, &[&bad]).failure();
    let refused = install(&out, &[&missing]).failure();
    let stderr = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
    for expected in [
        "--vpn-gateway",
        "missing.yaml",
        "cannot read it",
        "nothing was written",
    ] {
        assert!(stderr.contains(expected), "{expected}: {stderr}");
    }
    assert_eq!(files(&out), before);
}
