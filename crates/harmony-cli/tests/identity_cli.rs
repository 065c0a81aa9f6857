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
