//! The `harmony cluster guardrails` commands as a user runs them: render to files and streams,
//! apply to the fake API server.

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
    ] {
        assert!(stdout.contains(needle), "{needle} missing");
    }
    // The tenant parameters the rules read are in the tenant plans, not here.
    assert!(
        !stdout.contains("storage-class.standard: allowed\n"),
        "{stdout}"
    );
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
            "g.yaml:2:7: kind: `Tenant` is not a ClusterGuardrails file: expected `kind: ClusterGuardrails`",
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

/// A fake cluster and a kubeconfig for it; vanilla networks must be given as flags.
struct Live {
    server: harmony_testkit::FakeApiServer,
    dir: tempfile::TempDir,
}

impl Live {
    fn new() -> Self {
        let server = harmony_testkit::FakeApiServer::start(Default::default()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        server
            .write_kubeconfig(&dir.path().join("kubeconfig"))
            .unwrap();
        Self { server, dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_string()
    }

    fn apply(&self, args: &[&str]) -> assert_cmd::assert::Assert {
        harmony()
            .args(["cluster", "guardrails", "apply", "--kubeconfig"])
            .arg(self.path("kubeconfig"))
            .args(["--pod-network", "10.244.0.0/16"])
            .args(["--service-network", "10.96.0.0/12"])
            .args(args)
            .assert()
    }

    fn writes(&self) -> usize {
        self.server
            .requests()
            .iter()
            .filter(|r| r.is_write())
            .count()
    }
}

#[test]
fn applies_then_reports_unchanged_with_dry_run_and_json() {
    let live = Live::new();
    let tenants = examples().join("tenants");
    let tenants = tenants.to_str().unwrap();
    live.apply(&["-f", tenants, "--dry-run", "server"])
        .success()
        .stdout(predicate::str::contains("guardrails cluster: would be "));
    let vaps = harmony_testkit::Gvr::new(
        "admissionregistration.k8s.io",
        "v1",
        "validatingadmissionpolicies",
    );
    assert!(live.server.objects(&vaps, None).is_empty());
    live.apply(&["-f", tenants])
        .success()
        .stdout(predicate::str::contains(
            "created ValidatingAdmissionPolicy harmony-tenant-pods",
        ))
        .stdout(predicate::str::contains("ConfigMap acme/harmony-guardrails").not());
    assert_eq!(live.server.objects(&vaps, None).len(), 11);
    live.server.clear_requests();
    let output = live.apply(&["-f", tenants, "-o", "json"]).success();
    let outcome: serde_json::Value = serde_json::from_slice(&output.get_output().stdout).unwrap();
    assert_eq!(outcome["status"], "unchanged", "{outcome}");
    assert_eq!(live.writes(), 0);
}

#[test]
fn apply_refusals_change_nothing() {
    let live = Live::new();
    let tenants = examples().join("tenants");
    let tenants = tenants.to_str().unwrap();
    let bad = live.path("guardrails.yaml");
    fs::write(
        &bad,
        "apiVersion: harmony.nationtech.io/v1alpha1\nkind: ClusterGuardrails\nmetadata:\n  name: prod\nspec:\n  firstPriority: 120\n",
    )
    .unwrap();
    live.apply(&["-f", tenants, "--guardrails", &bad])
        .failure()
        .stderr(predicate::str::contains(
            "spec.firstPriority: 120 is outside 0–99",
        ));
    assert_eq!(live.writes(), 0);
    harmony()
        .args(["cluster", "guardrails", "apply", "-f", tenants])
        .args([
            "--kubeconfig",
            &live.path("kubeconfig"),
            "--context",
            "nowhere",
        ])
        .assert()
        .failure()
        .stderr(predicate::str::contains("nowhere"));
    let dead = live.path("dead-kubeconfig");
    let text = fs::read_to_string(live.path("kubeconfig")).unwrap();
    let port = live.server.config().cluster_url.port_u16().unwrap();
    fs::write(&dead, text.replace(&port.to_string(), "9")).unwrap();
    harmony()
        .args([
            "cluster",
            "guardrails",
            "apply",
            "-f",
            tenants,
            "--kubeconfig",
            &dead,
        ])
        .assert()
        .failure()
        .stderr(predicate::str::contains("127.0.0.1:9"));
    assert_eq!(live.writes(), 0);
}
