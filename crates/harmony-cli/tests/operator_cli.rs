//! `harmony tenant export` and `harmony operator install | run` as processes: the export matches
//! the tenant files, bad files are refused by field, the install folder is deterministic, and on
//! a real control plane the installed CRD takes the exported Tenants, which the running operator
//! makes Ready, until SIGTERM stops it.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use harmony_testkit::ControlPlane;
use predicates::prelude::*;
use serde_json::Value;

fn harmony() -> Command {
    let mut cmd = Command::cargo_bin("harmony").unwrap();
    cmd.env_remove("KUBECONFIG");
    cmd
}

fn examples() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/tenants"
    ))
}

#[test]
fn export_prints_each_tenant_file_as_a_tenant_resource() {
    let out = harmony()
        .args(["tenant", "export", "-f"])
        .arg(examples())
        .args(["-o", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list["kind"], "List");
    let items = list["items"].as_array().unwrap();
    let names: Vec<&str> = items
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap())
        .collect();
    assert!(names.starts_with(&["acme", "globex"]), "{names:?}");
    for item in items {
        assert_eq!(item["apiVersion"], "harmony.nationtech.io/v1alpha1");
        assert_eq!(item["kind"], "Tenant");
        // Held from its creation: the operator need not write the Tenant again to add it.
        assert_eq!(
            item["metadata"]["finalizers"],
            serde_json::json!(["harmony.nationtech.io/tenant"])
        );
    }
    assert_eq!(items[0]["spec"]["displayName"], "ACME Corp");

    let yaml = harmony()
        .args(["tenant", "export", "-f"])
        .arg(examples().join("acme.yaml"))
        .output()
        .unwrap();
    let text = String::from_utf8(yaml.stdout).unwrap();
    assert!(text.starts_with("---\napiVersion: harmony.nationtech.io/v1alpha1\nkind: Tenant\n"));
}

#[test]
fn export_refuses_a_bad_tenant_file_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.yaml");
    std::fs::write(
        &file,
        "apiVersion: harmony.nationtech.io/v1alpha1\nkind: Tenant\nmetadata: {name: acme}\nspec:\n  deletion: {deleteData: maybe}\n",
    )
    .unwrap();
    harmony()
        .args(["tenant", "export", "-f"])
        .arg(&file)
        .assert()
        .code(1)
        .stdout("")
        .stderr(
            predicate::str::contains("bad.yaml:5:")
                .and(predicate::str::contains("spec.deletion.deleteData")),
        );
}

#[test]
fn install_writes_the_same_folder_every_time() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("operator");
    let install = || {
        harmony()
            .args(["operator", "install", "--out"])
            .arg(&out)
            .args([
                "--image",
                "registry.example.com/harmony:1.0",
                "--pod-network",
                "10.244.0.0/16",
            ])
            .assert()
            .success()
    };
    install().stdout(predicate::str::contains("13 of 13 files written"));
    let first: Vec<(String, String)> = files(&out);
    install().stdout(predicate::str::contains("unchanged"));
    assert_eq!(files(&out), first);
    let names: Vec<&str> = first.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "00-customresourcedefinition-namespacerequests.harmony.nationtech.io.yaml",
            "00-customresourcedefinition-tenants.harmony.nationtech.io.yaml",
            "10-namespace-harmony-system.yaml",
            "20-serviceaccount-harmony-operator.yaml",
            "30-clusterrole-harmony-operator.yaml",
            "35-role-harmony-operator.yaml",
            "36-role-harmony-operator-backups.yaml",
            "40-clusterrolebinding-harmony-operator.yaml",
            "45-rolebinding-harmony-operator.yaml",
            "46-rolebinding-harmony-operator-backups.yaml",
            "50-deployment-harmony-operator.yaml",
            "60-poddisruptionbudget-harmony-operator.yaml",
            "kustomization.yaml",
        ]
    );
    assert!(
        first[10].1.contains("- --pod-network=10.244.0.0/16"),
        "{}",
        first[10].1
    );

    harmony()
        .args(["operator", "install", "--out"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--image <IMAGE>"));
}

fn files(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&path).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// Stops the operator process when the test ends, however it ends.
#[test]
fn the_installed_operator_makes_exported_tenants_ready_until_sigterm() {
    let plane = ControlPlane::shared();
    let _guard = plane.failure_guard();
    let kubeconfig = plane.kubeconfig();
    let pod = plane.pod_network().to_string();
    let service = plane.service_network().to_string();
    let run = |cmd: &mut Command| {
        cmd.args(["operator", "run", "--kubeconfig"])
            .arg(&kubeconfig)
            .args(["--pod-network", &pod, "--service-network", &service]);
    };

    // Without the CRD, run refuses and says how to install it.
    let mut early = harmony();
    run(&mut early);
    early.assert().code(1).stderr(predicate::str::contains(
        "harmony operator install --out DIR",
    ));

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("operator");
    harmony()
        .args(["operator", "install", "--out"])
        .arg(&out)
        .args(["--image", "registry.example.com/harmony:1.0"])
        .assert()
        .success();
    let mut operator = common::run_installed_operator(plane, &out, &[]);

    let exported = dir.path().join("tenants.yaml");
    let out = harmony()
        .args(["tenant", "export", "-f"])
        .arg(examples())
        .output()
        .unwrap();
    std::fs::write(&exported, out.stdout).unwrap();
    plane
        .kubectl_run(&["apply", "--server-side", "-f", exported.to_str().unwrap()])
        .unwrap();

    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let ready = plane
            .kubectl_run(&[
                "get",
                "tenants",
                "-o",
                "jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type==\"Ready\")].status}/{.status.conditions[?(@.type==\"Isolated\")].status} {end}",
            ])
            .unwrap();
        let states: Vec<&str> = ready.split_whitespace().collect();
        if states.len() >= 2 && states.iter().all(|s| s.ends_with("=True/True")) {
            break;
        }
        assert!(Instant::now() < deadline, "not Ready and Isolated: {ready}");
        std::thread::sleep(Duration::from_millis(250));
    }

    let term = std::process::Command::new("kill")
        .args(["-TERM", &operator.0.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let status = operator.0.wait().unwrap();
    assert!(status.success(), "{status:?}");
}
