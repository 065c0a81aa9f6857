//! Tenant files with identity provider members, through the CLI without a cluster: `--idp` binds
//! the names the API server will see (Kubernetes: with the claim prefixes; OKD: without), and
//! without `--idp` such members are refused, naming the fix.

mod common;

use common::{harmony, ok, root};

/// `harmony tenant render -o json` of the example tenants, with the example IdentityProvider
/// when `idp`, plus `extra` arguments.
fn render(idp: bool, extra: &[&str]) -> std::process::Output {
    let tenants = root().join("examples/identity/tenants");
    let provider = root().join("examples/identity/idp.yaml");
    let mut args = vec![
        "tenant",
        "render",
        "-o",
        "json",
        "-f",
        tenants.to_str().unwrap(),
    ];
    if idp {
        args.extend(["--idp", provider.to_str().unwrap()]);
    }
    args.extend_from_slice(extra);
    harmony(&args)
}

/// The subjects of RoleBinding `name` in a rendered JSON List.
fn subjects(list: &str, name: &str) -> Vec<(String, String)> {
    let list: serde_json::Value = serde_json::from_str(list).unwrap();
    let binding = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "RoleBinding" && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no RoleBinding {name}"));
    binding["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["kind"].as_str().unwrap().to_string(),
                s["name"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn identity_provider_members_are_bound_by_the_names_the_api_server_sees() {
    let group = |name: &str| vec![("Group".to_string(), name.to_string())];
    let kubernetes = ok(&render(true, &[]));
    assert_eq!(
        subjects(&kubernetes, "member-alice"),
        group("oidc:tenant-acme-admins")
    );
    assert_eq!(
        subjects(&kubernetes, "member-bob"),
        group("oidc:tenant-acme-developers")
    );
    assert_eq!(subjects(&kubernetes, "member-sre"), group("oidc:acme-sre"));
    let okd = ok(&render(true, &["--flavor", "okd"]));
    assert_eq!(subjects(&okd, "member-alice"), group("tenant-acme-admins"));
    assert_eq!(subjects(&okd, "member-sre"), group("acme-sre"));
}

#[test]
fn identity_provider_members_without_the_provider_file_are_refused() {
    let out = render(false, &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("acme.yaml:8:")
            && stderr.contains("spec.rbac.members[0].oidc: is an identity provider member"),
        "{stderr}"
    );
    assert!(stderr.contains("pass --idp FILE"), "{stderr}");
    assert!(
        stderr.contains("3 problems found; nothing was written"),
        "{stderr}"
    );
}

/// `harmony audit` of the example tenant rendered with `--idp` into a folder, plus `extra`
/// manifests, with the tenant files and `--idp` saying what to expect.
fn audit_rendered(extra: &str) -> std::process::Output {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("rendered");
    let tenants = root().join("examples/identity/tenants");
    let provider = root().join("examples/identity/idp.yaml");
    let (tenants, provider, dir_arg) = (
        tenants.to_str().unwrap(),
        provider.to_str().unwrap(),
        dir.to_str().unwrap(),
    );
    ok(&harmony(&[
        "tenant", "render", "-f", tenants, "--idp", provider, "--out", dir_arg,
    ]));
    std::fs::write(dir.join("acme/extra.yaml"), extra).unwrap();
    harmony(&[
        "audit",
        "-f",
        dir_arg,
        "--tenants",
        tenants,
        "--idp",
        provider,
    ])
}

#[test]
fn the_audit_expects_identity_provider_members_by_their_groups_and_holds_them_to_their_role() {
    let clean = audit_rendered("");
    assert_eq!(clean.status.code(), Some(0), "{}", ok(&clean));
    // sre is the viewer group `acme-sre`: viewers read no Secrets, which only the role contract
    // of a member known from the tenant file (HMT-RBAC-008) catches.
    let breach = audit_rendered(concat!(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\n",
        "metadata: {name: read-secrets, namespace: acme}\n",
        "rules: [{apiGroups: [''], resources: [secrets], verbs: [get]}]\n---\n",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\n",
        "metadata: {name: sre-secrets, namespace: acme}\n",
        "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: read-secrets}\n",
        "subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: 'oidc:acme-sre'}]\n",
    ));
    let stdout = String::from_utf8_lossy(&breach.stdout);
    assert_eq!(breach.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAIL HMT-RBAC-008")
            && stdout.contains("Group oidc:acme-sre (member viewer) can read Secrets"),
        "{stdout}"
    );
}

#[test]
fn the_audit_of_identity_provider_members_without_the_provider_file_is_refused() {
    let tenants = root().join("examples/identity/tenants");
    let out = harmony(&["audit", "--tenants", tenants.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("pass --idp FILE"), "{stderr}");
}
