//! On a real control plane (`harmony_testkit::ControlPlane`): `harmony tenant plan | apply |
//! status --idp` of a tenant with identity provider members binds the names the API server will
//! see, converges, and the live audit with `--idp` expects them; without `--idp` the file is
//! refused, naming the flag, and nothing is written.

mod common;

use common::harmony_on as harmony;
use harmony_testkit::ControlPlane;

fn code(out: &std::process::Output) -> Option<i32> {
    out.status.code()
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn identity_provider_members_are_applied_with_the_api_servers_names_and_audited() {
    let plane = ControlPlane::shared();
    let _logs = plane.failure_guard();
    let dir = tempfile::tempdir().unwrap();
    let name = ControlPlane::unique_name("oidc");
    let tenant = dir.path().join("tenant.yaml");
    std::fs::write(
        &tenant,
        format!(
            "apiVersion: harmony.nationtech.io/v1alpha1\nkind: Tenant\nmetadata:\n  name: {name}\nspec:\n  rbac:\n    members:\n      - {{ name: alice, role: admin, oidc: {{ user: alice }} }}\n      - {{ name: sre, role: viewer, oidc: {{ group: {name}-sre }} }}\n"
        ),
    )
    .unwrap();
    let idp =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/identity/idp.yaml");
    let (tenant, idp) = (tenant.to_str().unwrap(), idp.to_str().unwrap());

    let refused = harmony(plane, &["tenant", "apply", "-f", tenant]);
    assert_eq!(code(&refused), Some(1), "{}", text(&refused));
    assert!(
        text(&refused).contains("pass --idp FILE"),
        "{}",
        text(&refused)
    );
    let absent = plane.kubectl_run(&["get", "namespace", &name, "--ignore-not-found"]);
    assert_eq!(absent.unwrap().trim(), "", "a refused apply wrote nothing");

    let plan = harmony(plane, &["tenant", "plan", "-f", tenant, "--idp", idp]);
    assert_eq!(code(&plan), Some(2), "{}", text(&plan));
    let apply = harmony(plane, &["tenant", "apply", "-f", tenant, "--idp", idp]);
    assert_eq!(code(&apply), Some(0), "{}", text(&apply));
    let subjects = |binding: &str| {
        plane
            .kubectl_run(&[
                "get",
                "rolebinding",
                binding,
                "-n",
                &name,
                "-o",
                "jsonpath={.subjects[*].kind}/{.subjects[*].name}",
            ])
            .unwrap()
    };
    assert_eq!(
        subjects("member-alice"),
        format!("Group/oidc:tenant-{name}-admins")
    );
    assert_eq!(subjects("member-sre"), format!("Group/oidc:{name}-sre"));
    let again = harmony(plane, &["tenant", "plan", "-f", tenant, "--idp", idp]);
    assert_eq!(code(&again), Some(0), "{}", text(&again));
    let status = harmony(
        plane,
        &["tenant", "status", &name, "-f", tenant, "--idp", idp],
    );
    assert_eq!(code(&status), Some(0), "{}", text(&status));

    let audit = harmony(
        plane,
        &[
            "audit",
            "--tenant",
            &name,
            "--tenants",
            tenant,
            "--idp",
            idp,
        ],
    );
    assert_eq!(code(&audit), Some(0), "{}", text(&audit));
    assert!(
        String::from_utf8_lossy(&audit.stdout).contains("PASS HMT-RBAC-008"),
        "{}",
        text(&audit)
    );
}
