//! `harmony operator install --idp FILE` and `harmony operator run --idp FILE`: the
//! IdentityProvider file as a ConfigMap the Deployment mounts and runs with; an invalid or
//! unreadable file is refused at its line and field, with nothing written and before the
//! operator connects anywhere; on a real control plane, the `harmony operator run --idp`
//! process applies the exported identity example (`oidc` members) with the provider's names.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use harmony_testkit::ControlPlane;

fn harmony() -> Command {
    let mut cmd = Command::cargo_bin("harmony").unwrap();
    cmd.env_remove("KUBECONFIG");
    cmd
}

fn idp() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/identity/idp.yaml")
}

/// `harmony operator install --out out --idp idp`.
fn install(out: &Path, idp: &Path) -> assert_cmd::assert::Assert {
    harmony()
        .args(["operator", "install", "--out"])
        .arg(out)
        .args(["--image", "registry.example.com/harmony:1.0", "--idp"])
        .arg(idp)
        .assert()
}

/// A copy of the example file with `from` replaced by `to`, in `dir`.
fn edited(dir: &Path, from: &str, to: &str) -> PathBuf {
    let text = fs::read_to_string(idp()).unwrap();
    assert!(text.contains(from));
    let path = dir.join("idp.yaml");
    fs::write(&path, text.replace(from, to)).unwrap();
    path
}

#[test]
fn the_identity_provider_file_is_mounted_as_a_configmap_and_given_to_operator_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("operator");
    install(&out, &idp())
        .success()
        .stdout(format!("{}: 14 of 14 files written\n", out.display()));
    let config_map =
        fs::read_to_string(out.join("25-configmap-harmony-identity-provider.yaml")).unwrap();
    let config_map: serde_json::Value = serde_saphyr::from_str(&config_map).unwrap();
    assert_eq!(config_map["metadata"]["namespace"], "harmony-system");
    assert_eq!(
        config_map["data"]["idp.yaml"],
        fs::read_to_string(idp()).unwrap()
    );
    let deployment = fs::read_to_string(out.join("50-deployment-harmony-operator.yaml")).unwrap();
    assert!(
        deployment.contains("- --idp=/etc/harmony/idp/idp.yaml"),
        "{deployment}"
    );
    let kustomization = fs::read_to_string(out.join("kustomization.yaml")).unwrap();
    assert!(
        kustomization.contains("25-configmap-harmony-identity-provider.yaml"),
        "{kustomization}"
    );
}

#[test]
fn a_bad_identity_provider_file_is_refused_with_nothing_written() {
    let dir = tempfile::tempdir().unwrap();
    let bad = edited(
        dir.path(),
        "issuer: https://sso.example.com",
        "issuer: http://sso.example.com",
    );
    let out = dir.path().join("operator");
    let refused = install(&out, &bad).failure().code(1);
    let stderr = String::from_utf8(refused.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains(&format!(
            "{}:9:11: spec.issuer: `http://sso.example.com/realms/tenants` is not an https URL",
            bad.display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert!(!out.exists());

    let missing = dir.path().join("missing.yaml");
    let refused = install(&out, &missing).failure().code(1);
    let stderr = String::from_utf8(refused.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains(&format!("--idp {}: cannot read it", missing.display())),
        "{stderr}"
    );
    assert!(!out.exists());

    // `operator run` refuses it before it reads a kubeconfig or connects.
    let refused = harmony()
        .args(["operator", "run", "--kubeconfig"])
        .arg(dir.path().join("no-kubeconfig"))
        .arg("--idp")
        .arg(&bad)
        .assert()
        .failure()
        .code(1);
    let stderr = String::from_utf8(refused.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains(&format!("{}:9:11: spec.issuer:", bad.display())),
        "{stderr}"
    );
}

/// Stops the operator process when the test ends, however it ends.
#[test]
fn operator_run_with_idp_binds_the_exported_oidc_members_by_the_providers_names() {
    let plane = ControlPlane::shared();
    let _guard = plane.failure_guard();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("operator");
    install(&out, &idp()).success();
    let idp_file = idp();
    let _operator =
        common::run_installed_operator(plane, &out, &["--idp".as_ref(), idp_file.as_os_str()]);

    let tenants = idp().parent().unwrap().join("tenants");
    let exported = harmony()
        .args(["tenant", "export", "-f"])
        .arg(&tenants)
        .arg("--idp")
        .arg(idp())
        .output()
        .unwrap();
    assert!(exported.status.success(), "{exported:?}");
    let file = dir.path().join("tenants.yaml");
    fs::write(&file, exported.stdout).unwrap();
    plane
        .kubectl_run(&["apply", "--server-side", "-f", file.to_str().unwrap()])
        .unwrap();

    let deadline = Instant::now() + Duration::from_secs(90);
    let bound = |member: &str| {
        plane.kubectl_run(&[
            "get",
            "rolebinding",
            &format!("member-{member}"),
            "-n",
            "acme",
            "-o",
            "jsonpath={.subjects[*].kind}/{.subjects[*].name}",
        ])
    };
    loop {
        let ready = plane
            .kubectl_run(&[
                "get",
                "tenant",
                "acme",
                "-o",
                "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}",
            ])
            .unwrap();
        if ready == "True" {
            break;
        }
        assert!(Instant::now() < deadline, "acme not Ready: {ready}");
        std::thread::sleep(Duration::from_millis(250));
    }
    assert_eq!(bound("alice").unwrap(), "Group/oidc:tenant-acme-admins");
    assert_eq!(bound("bob").unwrap(), "Group/oidc:tenant-acme-developers");
    assert_eq!(bound("sre").unwrap(), "Group/oidc:acme-sre");
}
