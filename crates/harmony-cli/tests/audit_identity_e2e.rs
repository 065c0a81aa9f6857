//! On a real control plane (`harmony_testkit::ControlPlane`): a tenant admin who binds the
//! tenant's viewer role to `system:authenticated` in its own namespace (self-service allows the
//! bind) is caught by the live audit (HMT-RBAC-005, in text, json and junit), while a tenant as
//! harmony applied it passes.

mod common;

use common::harmony_on as harmony;
use harmony_testkit::ControlPlane;
use serde_json::Value;

/// The live audit of `tenant` as JSON: the check `id`'s status and evidence.
fn check(plane: &ControlPlane, tenant: &str, id: &str) -> (String, Vec<String>) {
    let out = harmony(plane, &["audit", "--tenant", tenant, "-o", "json"]);
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let check = report["tenants"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {report}"))
        .clone();
    let evidence = check["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap().to_string())
        .collect();
    (check["status"].as_str().unwrap().to_string(), evidence)
}

#[test]
fn a_binding_to_every_authenticated_user_fails_the_live_audit() {
    let plane = ControlPlane::shared();
    let _logs = plane.failure_guard();
    let dir = tempfile::tempdir().unwrap();
    let (home, other) = (
        ControlPlane::unique_name("rbac005-open"),
        ControlPlane::unique_name("rbac005-closed"),
    );
    let admin = format!("admin@{home}.test");
    let mut files = Vec::new();
    for (name, self_service) in [(&home, true), (&other, false)] {
        let path = dir.path().join(format!("{name}.yaml"));
        std::fs::write(
            &path,
            format!(
                "apiVersion: harmony.nationtech.io/v1alpha1\nkind: Tenant\nmetadata:\n  name: {name}\nspec:\n  rbac:\n    members:\n      - {{ name: admin, role: admin, user: admin@{name}.test }}\n    selfService: {{ roleBindings: {self_service} }}\n"
            ),
        )
        .unwrap();
        files.push(path.display().to_string());
    }
    let apply = harmony(plane, &["tenant", "apply", "-f", &files[0], &files[1]]);
    assert!(
        apply.status.success(),
        "{}",
        String::from_utf8_lossy(&apply.stderr)
    );
    assert_eq!(check(plane, &home, "HMT-RBAC-005").0, "pass");

    // The tenant admin (impersonated) opens its namespace to everyone, as self-service lets it.
    plane
        .kubectl_run(&[
            "create",
            "rolebinding",
            "open",
            "-n",
            &home,
            "--role=tenant-viewer",
            "--group=system:authenticated",
            "--as",
            &admin,
        ])
        .expect("self-service lets the admin bind the tenant roles");

    let (status, evidence) = check(plane, &home, "HMT-RBAC-005");
    assert_eq!(status, "fail");
    assert_eq!(
        evidence,
        [format!(
            "RoleBinding {home}/open binds Group system:authenticated (every authenticated user, \
             other tenants included) to Role tenant-viewer"
        )]
    );
    let text = harmony(plane, &["audit", "--tenant", &home]);
    assert_eq!(text.status.code(), Some(1), "a failed check fails the run");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("FAIL HMT-RBAC-005"), "{text}");
    let junit = harmony(plane, &["audit", "--tenant", &home, "-o", "junit"]);
    let junit = String::from_utf8_lossy(&junit.stdout);
    assert!(
        junit.contains("HMT-RBAC-005") && junit.contains(&format!("RoleBinding {home}/open")),
        "{junit}"
    );

    let (status, evidence) = check(plane, &other, "HMT-RBAC-005");
    assert_eq!(status, "pass", "{evidence:?}");
}

/// The shipped example tenants and guardrails, applied by harmony to a fresh real control plane,
/// pass every check of the live audit with no warning: what a real cluster adds on its own
/// (bootstrap roles and bindings, controller-made objects) is not mistaken for a leak.
#[test]
fn the_examples_pass_the_whole_live_audit_on_a_real_cluster() {
    let plane = ControlPlane::start().unwrap();
    let _logs = plane.failure_guard();
    let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples");
    let tenants = format!("{examples}/tenants");
    let guardrails = format!("{examples}/guardrails.yaml");
    for args in [
        vec!["tenant", "apply", "-f", &tenants],
        vec![
            "cluster",
            "guardrails",
            "apply",
            "-f",
            &tenants,
            "--guardrails",
            &guardrails,
        ],
    ] {
        let out = harmony(&plane, &args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = harmony(&plane, &["audit", "--tenants", &tenants]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("3 tenants, 87 checks passed, 0 warned, 0 failed"),
        "{text}"
    );
}
