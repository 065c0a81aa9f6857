//! The `harmony cluster guardrails` commands as a user runs them. Move this file to
//! `crates/harmony-cli/tests/` once `cluster.rs` is wired into `main.rs` (it fails before).

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

fn harmony() -> Command {
    Command::cargo_bin("harmony").unwrap()
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

fn render(args: &[&str]) -> assert_cmd::assert::Assert {
    harmony()
        .args(["cluster", "guardrails", "render"])
        .args(args)
        .assert()
}

#[test]
fn renders_okd_guardrails_for_the_example_tenants() {
    let tenants = examples().join("tenants");
    let guardrails = examples().join("guardrails.yaml");
    let output = render(&[
        "--flavor",
        "okd",
        "-f",
        tenants.to_str().unwrap(),
        "--guardrails",
        guardrails.to_str().unwrap(),
        "-o",
        "yaml",
    ])
    .success()
    .stderr(predicate::str::contains("note: okd-basic-user:"));
    let stdout = String::from_utf8(output.get_output().stdout.clone()).unwrap();
    for needle in [
        "kind: ValidatingAdmissionPolicy\n",
        "name: harmony-namespace-labels\n",
        "kind: BaselineAdminNetworkPolicy\n",
        "name: harmony-tenant-initech\n",
        "name: self-provisioners\n",
        "storage-class.standard: allowed\n",
    ] {
        assert!(stdout.contains(needle), "{needle} missing");
    }
}

#[test]
fn writes_a_folder_and_reports_unchanged_the_second_time() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("guardrails");
    let args = ["--out", out.to_str().unwrap()];
    render(&args)
        .success()
        .stdout(predicate::str::contains("Changed"));
    assert!(out.join("kustomization.yaml").exists());
    assert!(
        out.join("20-validatingadmissionpolicy-harmony-tenant-pods.yaml")
            .exists()
    );
    render(&args)
        .success()
        .stdout(predicate::str::contains("Unchanged"));
}

#[test]
fn refuses_bad_guardrails_files_with_locations_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("g.yaml");
    fs::write(
        &file,
        "apiVersion: harmony.nationtech.io/v1alpha1\nkind: ClusterGuardrails\nmetadata: {name: x}\nspec:\n  firstPriority: 120\n  okdHardening: enabled\n",
    )
    .unwrap();
    let out = tmp.path().join("out");
    render(&[
        "--guardrails",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ])
    .failure()
    .stderr(predicate::str::contains(
        "g.yaml:5:18: spec.firstPriority: 120 is outside 0–99",
    ))
    .stderr(predicate::str::contains(
        "g.yaml:6:17: spec.okdHardening: `enabled` needs an OKD cluster",
    ));
    assert!(!out.exists());
    fs::write(
        &file,
        "apiVersion: harmony.nationtech.io/v1alpha1\nkind: Tenant\nmetadata: {name: x}\n",
    )
    .unwrap();
    render(&["--guardrails", file.to_str().unwrap(), "-o", "yaml"])
        .failure()
        .stderr(predicate::str::contains(
            "kind: `Tenant` is not supported: use `kind: ClusterGuardrails`",
        ));
}

#[test]
fn refuses_to_render_nowhere_or_over_foreign_files() {
    render(&[])
        .failure()
        .stderr(predicate::str::contains("say where to render"));
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("notes.txt"), "mine").unwrap();
    render(&["--out", tmp.path().to_str().unwrap()])
        .failure()
        .stderr(predicate::str::contains(
            "notes.txt was not written by harmony",
        ));
}
