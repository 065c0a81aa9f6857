//! On a real control plane (`harmony_testkit::ControlPlane`): two tenants with room for more
//! namespaces applied with `harmony tenant apply`, and the NamespaceRequest CRD from `harmony
//! operator install`. The API server's authorizer (`kubectl auth can-i --as`, and requests made
//! as the members through impersonation) lets the tenant admin create and delete
//! NamespaceRequests in its own namespace only, never patch their status, and lets a viewer
//! list but not create them; the live audit passes the tenant, and fails HMT-RBAC-012 once its
//! admin Role is widened.

mod common;

use std::path::Path;

use common::{harmony, harmony_on, ok};
use harmony_testkit::ControlPlane;
use serde_json::Value;

const CRD: &str = "namespacerequests.harmony.nationtech.io";

/// A tenant file for `name` with room for two more namespaces, an admin and a viewer.
fn tenant_file(dir: &Path, name: &str) -> String {
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(
        &path,
        format!(
            "apiVersion: harmony.nationtech.io/v1alpha1\nkind: Tenant\nmetadata:\n  name: {name}\n\
             spec:\n  maxNamespaces: 3\n  rbac:\n    members:\n\
             \x20     - {{ name: boss, role: admin, user: admin@{name}.test }}\n\
             \x20     - {{ name: watcher, role: viewer, user: viewer@{name}.test }}\n"
        ),
    )
    .unwrap();
    path.display().to_string()
}

/// Installs the NamespaceRequest CRD as `harmony operator install` renders it, and waits until
/// it is served.
fn install_crd(plane: &ControlPlane, dir: &Path) {
    let out = dir.join("operator");
    ok(&harmony(&[
        "operator",
        "install",
        "--out",
        out.to_str().unwrap(),
        "--image",
        "registry.example.com/harmony:1.0",
    ]));
    let crd = out.join(format!("00-customresourcedefinition-{CRD}.yaml"));
    plane
        .kubectl_run(&["apply", "--server-side", "-f", crd.to_str().unwrap()])
        .unwrap();
    plane.wait_crds(&[CRD]).unwrap();
}

/// `kubectl auth can-i VERB namespacerequests [--subresource=SUB] -n NS --as USER`: the API
/// server's answer (`yes` exits 0, `no` exits 1).
fn can_i(
    plane: &ControlPlane,
    user: &str,
    verb: &str,
    subresource: Option<&str>,
    ns: &str,
) -> bool {
    let mut cmd = plane.kubectl();
    cmd.args(["auth", "can-i", verb, CRD, "-n", ns, "--as", user]);
    if let Some(sub) = subresource {
        cmd.arg(format!("--subresource={sub}"));
    }
    let out = cmd.output().unwrap();
    let answer = String::from_utf8_lossy(&out.stdout).trim().to_string();
    match (out.status.code(), answer.as_str()) {
        (Some(0), "yes") => true,
        (Some(1), "no") => false,
        other => panic!(
            "can-i {verb} {ns} {user}: {other:?} {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// Runs kubectl ARGS as `user` (impersonated): `Ok(stdout)` or `Err(stderr)`.
fn kubectl_as(plane: &ControlPlane, user: &str, args: &[&str]) -> Result<String, String> {
    let out = plane
        .kubectl()
        .args(args)
        .args(["--as", user])
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    if out.status.success() {
        Ok(text(&out.stdout))
    } else {
        Err(text(&out.stderr))
    }
}

/// A NamespaceRequest `name` in `ns` asking for namespace `wanted`, written under `dir`.
fn request_file(dir: &Path, ns: &str, name: &str, wanted: &str) -> String {
    let path = dir.join(format!("{ns}-{name}.yaml"));
    std::fs::write(
        &path,
        format!(
            "apiVersion: harmony.nationtech.io/v1alpha1\nkind: NamespaceRequest\n\
             metadata: {{ name: {name}, namespace: {ns} }}\nspec: {{ name: {wanted} }}\n"
        ),
    )
    .unwrap();
    path.display().to_string()
}

/// The live audit of `tenant` as JSON: exit code, and the status of every check by id.
fn live_audit(plane: &ControlPlane, tenant: &str) -> (Option<i32>, Vec<(String, String)>, Value) {
    let out = harmony_on(plane, &["audit", "--tenant", tenant, "-o", "json"]);
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let statuses = report["tenants"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    (out.status.code(), statuses, report)
}

#[test]
fn tenant_admins_ask_for_namespaces_in_their_own_namespace_only_and_viewers_read() {
    let plane = ControlPlane::shared();
    let _logs = plane.failure_guard();
    let dir = tempfile::tempdir().unwrap();
    let (home, other) = (
        ControlPlane::unique_name("ssrbac-home"),
        ControlPlane::unique_name("ssrbac-other"),
    );
    let files = [
        tenant_file(dir.path(), &home),
        tenant_file(dir.path(), &other),
    ];
    ok(&harmony_on(
        plane,
        &["tenant", "apply", "-f", &files[0], &files[1]],
    ));
    install_crd(plane, dir.path());
    let (admin, viewer) = (format!("admin@{home}.test"), format!("viewer@{home}.test"));

    // What the API server's RBAC authorizer answers.
    for verb in ["create", "delete", "get", "list", "watch"] {
        assert!(can_i(plane, &admin, verb, None, &home), "admin {verb}");
    }
    for verb in ["update", "patch", "deletecollection"] {
        assert!(!can_i(plane, &admin, verb, None, &home), "admin {verb}");
    }
    for verb in ["get", "patch", "update"] {
        assert!(
            !can_i(plane, &admin, verb, Some("status"), &home),
            "admin {verb} status"
        );
    }
    for ns in [other.as_str(), "default"] {
        for verb in ["create", "delete", "list"] {
            assert!(
                !can_i(plane, &admin, verb, None, ns),
                "admin {verb} in {ns}"
            );
        }
    }
    for verb in ["get", "list", "watch"] {
        assert!(can_i(plane, &viewer, verb, None, &home), "viewer {verb}");
    }
    for verb in ["create", "delete", "patch"] {
        assert!(!can_i(plane, &viewer, verb, None, &home), "viewer {verb}");
    }

    // The same, as requests made by the members.
    let mine = request_file(dir.path(), &home, "more", &format!("{home}-dev"));
    kubectl_as(plane, &admin, &["create", "-f", &mine]).expect("the admin asks in its namespace");
    let listed = kubectl_as(plane, &viewer, &["get", "nsreq", "-n", &home, "-o", "name"])
        .expect("the viewer lists the asks");
    assert_eq!(listed.trim(), "namespacerequest.harmony.nationtech.io/more");
    let forbidden = |result: Result<String, String>, what: &str| {
        let err = result.expect_err(what);
        assert!(
            err.contains("Forbidden") || err.contains("forbidden"),
            "{what}: {err}"
        );
    };
    forbidden(
        kubectl_as(
            plane,
            &admin,
            &[
                "patch",
                "nsreq",
                "more",
                "-n",
                &home,
                "--subresource=status",
                "--type=merge",
                "-p",
                r#"{"status":{"namespace":"stolen"}}"#,
            ],
        ),
        "the admin patches the status",
    );
    forbidden(
        kubectl_as(
            plane,
            &admin,
            &[
                "patch",
                "nsreq",
                "more",
                "-n",
                &home,
                "--type=merge",
                "-p",
                r#"{"spec":{"name":"x"}}"#,
            ],
        ),
        "the admin changes its ask",
    );
    forbidden(
        kubectl_as(
            plane,
            &viewer,
            &[
                "create",
                "-f",
                &request_file(dir.path(), &home, "sneak", "sneak"),
            ],
        ),
        "the viewer asks",
    );
    for ns in [other.as_str(), "default"] {
        let theirs = request_file(dir.path(), ns, "more", &format!("{home}-x"));
        forbidden(kubectl_as(plane, &admin, &["create", "-f", &theirs]), ns);
    }

    // The live audit passes the tenant, HMT-RBAC-012 included.
    let (code, statuses, report) = live_audit(plane, &home);
    assert_eq!(code, Some(0), "{report:#}");
    assert!(statuses.iter().all(|(_, s)| s != "fail"), "{statuses:?}");
    assert!(
        statuses.contains(&("HMT-RBAC-012".into(), "pass".into())),
        "{statuses:?}"
    );

    kubectl_as(plane, &admin, &["delete", "nsreq", "more", "-n", &home])
        .expect("the admin withdraws its ask");

    // A Role widened on the cluster (the admin may now patch its asks) fails the live audit.
    plane
        .kubectl_run(&[
            "patch", "role", "tenant-admin", "-n", &home, "--type=json", "-p",
            r#"[{"op":"add","path":"/rules/-","value":{"apiGroups":["harmony.nationtech.io"],"resources":["namespacerequests"],"verbs":["patch"]}}]"#,
        ])
        .unwrap();
    let (code, statuses, report) = live_audit(plane, &home);
    assert_eq!(code, Some(1), "{report:#}");
    assert!(
        statuses.contains(&("HMT-RBAC-012".into(), "fail".into())),
        "{statuses:?}"
    );
    let evidence = report.to_string();
    assert!(
        evidence.contains(&format!(
            "(bound by RoleBinding {home}/member-boss) lets its members patch namespacerequests: \
             patch namespacerequests (apiGroups \\\"harmony.nationtech.io\\\")"
        )),
        "{evidence}"
    );
}
