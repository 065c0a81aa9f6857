//! The rights of self-service namespaces as a platform engineer checks them: a rendered tenant
//! with room for more namespaces (`spec.maxNamespaces`) passes `harmony audit`, its roles reaching
//! NamespaceRequests, and a widened role fails HMT-RBAC-012 naming the role and the rule; the
//! operator's install reads NamespaceRequests and patches their status, and a wider right fails
//! HMT-OPERATOR-001.

mod common;

use std::fs;
use std::path::Path;

use common::{harmony, ok};
use serde_json::Value;

/// acme's tenant file: room for two more namespaces, or none.
fn tenant_file(dir: &Path, max_namespaces: Option<u32>) -> String {
    let path = dir.join("acme.yaml");
    let max = max_namespaces.map_or(String::new(), |n| format!("  maxNamespaces: {n}\n"));
    fs::write(
        &path,
        format!(
            "apiVersion: harmony.nationtech.io/v1alpha1\nkind: Tenant\nmetadata:\n  name: acme\n\
             spec:\n{max}  rbac:\n    members:\n\
             \x20     - {{ name: alice, role: admin, user: alice@acme.com }}\n\
             \x20     - {{ name: vic, role: viewer, user: vic@acme.com }}\n"
        ),
    )
    .unwrap();
    path.to_string_lossy().into_owned()
}

/// `harmony audit -o json ARGS`: the exit code and the report.
fn audit(args: &[&str]) -> (Option<i32>, Value) {
    let out = harmony(&[&["audit", "-o", "json"], args].concat());
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"));
    (out.status.code(), report)
}

/// The status and evidence of tenant check `id` of the report's only tenant.
fn tenant_check(report: &Value, id: &str) -> (String, Vec<String>) {
    let check = report["tenants"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("{id} in {report:#}"));
    let evidence = check["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap().to_string())
        .collect();
    (check["status"].as_str().unwrap().to_string(), evidence)
}

const ADMIN_RULE: &str = "- apiGroups:\n  - harmony.nationtech.io\n  resources:\n  - namespacerequests\n  \
     verbs:\n  - get\n  - list\n  - watch\n  - create\n  - delete\n";
const READ_RULE: &str = "- apiGroups:\n  - harmony.nationtech.io\n  resources:\n  - namespacerequests\n  \
     verbs:\n  - get\n  - list\n  - watch\n";

#[test]
fn a_rendered_self_service_tenant_passes_and_a_widened_role_fails_hmt_rbac_012() {
    let dir = tempfile::tempdir().unwrap();
    let file = tenant_file(dir.path(), Some(3));
    let out = dir.path().join("out");
    let out_s = out.to_str().unwrap();
    ok(&harmony(&["tenant", "render", "-f", &file, "--out", out_s]));
    let role = |name: &str| out.join(format!("acme/40-role-tenant-{name}.yaml"));
    let admin = fs::read_to_string(role("admin")).unwrap();
    assert!(admin.contains(ADMIN_RULE), "{admin}");
    for name in ["developer", "viewer"] {
        let yaml = fs::read_to_string(role(name)).unwrap();
        assert!(yaml.contains(READ_RULE), "{name}: {yaml}");
    }

    let (code, report) = audit(&["-f", out_s, "--tenants", &file]);
    assert_eq!(code, Some(0), "{report:#}");
    let (status, evidence) = tenant_check(&report, "HMT-RBAC-012");
    assert_eq!(status, "pass");
    assert_eq!(
        evidence,
        [
            "of harmony.nationtech.io, tenant-admin holds at most get,list,watch,create,delete \
          namespacerequests, tenant-developer and tenant-viewer get,list,watch, and 3 subjects \
          nothing else"
        ]
    );

    // The admin may also patch its requests, and the viewer patch their status: both fail.
    let patched = ADMIN_RULE.replace("  - delete\n", "  - delete\n  - patch\n");
    fs::write(role("admin"), admin.replace(ADMIN_RULE, &patched)).unwrap();
    let viewer = fs::read_to_string(role("viewer")).unwrap();
    let status_rule = READ_RULE.replace("namespacerequests", "namespacerequests/status");
    fs::write(
        role("viewer"),
        viewer.replace(READ_RULE, &format!("{READ_RULE}{status_rule}")),
    )
    .unwrap();
    let (code, report) = audit(&["-f", out_s, "--tenants", &file]);
    assert_eq!(code, Some(1), "{report:#}");
    let (status, evidence) = tenant_check(&report, "HMT-RBAC-012");
    assert_eq!(status, "fail");
    let admin_line = evidence
        .iter()
        .find(|e| e.starts_with("Role acme/tenant-admin rule #"))
        .unwrap_or_else(|| panic!("{evidence:#?}"));
    assert!(
        admin_line.ends_with(
            " (bound by RoleBinding acme/member-alice) lets its members patch namespacerequests: \
             get,list,watch,create,delete,patch namespacerequests (apiGroups \
             \"harmony.nationtech.io\")"
        ),
        "{admin_line}"
    );
    assert!(
        evidence.iter().any(|e| e.starts_with("Role acme/tenant-viewer rule #")
            && e.contains("(bound by RoleBinding acme/member-vic) lets its members get namespacerequests/status: ")),
        "{evidence:#?}"
    );
    assert_eq!(evidence.len(), 4, "{evidence:#?}");
}

#[test]
fn without_room_for_more_namespaces_no_role_reaches_namespace_requests() {
    let dir = tempfile::tempdir().unwrap();
    for max in [None, Some(1)] {
        let file = tenant_file(dir.path(), max);
        let out = dir.path().join(format!("out-{max:?}"));
        let out_s = out.to_str().unwrap();
        ok(&harmony(&["tenant", "render", "-f", &file, "--out", out_s]));
        for name in ["admin", "developer", "viewer"] {
            let yaml =
                fs::read_to_string(out.join(format!("acme/40-role-tenant-{name}.yaml"))).unwrap();
            assert!(
                !yaml.contains("harmony.nationtech.io\n"),
                "{max:?} {name}: {yaml}"
            );
        }
        let (code, report) = audit(&["-f", out_s, "--tenants", &file]);
        assert_eq!(code, Some(0), "{report:#}");
    }
}

#[test]
fn the_operator_install_passes_hmt_operator_001_and_a_wider_namespace_request_right_fails() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("operator");
    let out_s = out.to_str().unwrap();
    let install = [
        "operator",
        "install",
        "--out",
        out_s,
        "--image",
        "registry.example.com/harmony:1.0",
    ];
    ok(&harmony(&install));
    let crd = fs::read_to_string(
        out.join("00-customresourcedefinition-namespacerequests.harmony.nationtech.io.yaml"),
    )
    .unwrap();
    assert!(crd.contains("kind: NamespaceRequest\n"), "{crd}");
    let kustomization = fs::read_to_string(out.join("kustomization.yaml")).unwrap();
    assert!(
        kustomization.contains("00-customresourcedefinition-namespacerequests"),
        "{kustomization}"
    );
    let role_file = out.join("30-clusterrole-harmony-operator.yaml");
    let role = fs::read_to_string(&role_file).unwrap();
    let reads = "- apiGroups:\n  - harmony.nationtech.io\n  resources:\n  - namespacerequests\n  \
                 verbs:\n  - get\n  - list\n  - watch\n";
    let status = "- apiGroups:\n  - harmony.nationtech.io\n  resources:\n  - \
                  namespacerequests/status\n  verbs:\n  - get\n  - patch\n";
    assert!(role.contains(reads) && role.contains(status), "{role}");

    let (code, report) = audit(&["-f", out_s]);
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(report["platform"][0]["id"], "HMT-OPERATOR-001");
    assert_eq!(report["platform"][0]["status"], "pass");

    for (from, to) in [
        (
            reads,
            reads.replace("  - watch\n", "  - watch\n  - create\n"),
        ),
        (
            reads,
            reads.replace("  - watch\n", "  - watch\n  - delete\n"),
        ),
        (
            status,
            status.replace("  - patch\n", "  - patch\n  - update\n"),
        ),
    ] {
        fs::write(&role_file, role.replace(from, &to)).unwrap();
        let (code, report) = audit(&["-f", out_s]);
        assert_eq!(code, Some(1), "{to}: {report:#}");
        let check = &report["platform"][0];
        assert_eq!(check["status"], "fail");
        let evidence = check["evidence"][0].as_str().unwrap();
        assert!(
            evidence.starts_with(
                "ServiceAccount harmony-system/harmony-operator writes NamespaceRequests beyond \
                 patching their status: ClusterRoleBinding harmony-operator → ClusterRole \
                 harmony-operator rule #"
            ),
            "{to}: {evidence}"
        );
    }
}
