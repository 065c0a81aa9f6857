//! Identity provider (`oidc`) members in operator mode on a real control plane: an operator
//! without `--idp` refuses a Tenant with such members (`Ready` False, reason
//! `NoIdentityProvider`, naming the flag) and applies nothing; restarted with the
//! IdentityProvider file, it applies the Tenant as `harmony tenant apply --idp` does (each
//! `oidc.user` member's RoleBinding binds its role's group, an `oidc.group` member its group, all
//! with the provider's prefix), and the auditor, knowing the prefixes, finds the Tenant Isolated,
//! until a hand-made binding lets the viewer `oidc.group` write (HMT-RBAC-008 fails).

mod common;

use std::path::Path;

use common::{Running, eventually, install, put, ready_and_isolated, settings};
use harmony::Documents;
use harmony_identity::load_identity_provider;
use harmony_operator::{ISOLATED, READY, Tenant};
use harmony_testkit::ControlPlane;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::rbac::v1::{RoleBinding, Subject};
use kube::Api;
use serde_json::json;

/// The group subject `name`, as a RoleBinding lists it.
fn group(name: &str) -> Subject {
    Subject {
        kind: "Group".into(),
        api_group: Some("rbac.authorization.k8s.io".into()),
        name: name.into(),
        namespace: None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn oidc_members_are_refused_without_idp_and_bound_with_its_prefixes() {
    let plane = ControlPlane::shared();
    let _guard = plane.failure_guard();
    install(plane);
    let client = plane.client().await;
    let name = ControlPlane::unique_name("op-oidc");
    let tenant = json!({
        "apiVersion": "harmony.nationtech.io/v1alpha1",
        "kind": "Tenant",
        "metadata": {"name": name},
        "spec": {"rbac": {"members": [
            {"name": "alice", "role": "admin", "oidc": {"user": "alice"}},
            {"name": "sre", "role": "viewer", "oidc": {"group": "acme-sre"}},
        ]}},
    });

    // Without --idp: refused by reason, nothing applied.
    let without = tokio::task::spawn_blocking(move || Running::start(plane))
        .await
        .unwrap();
    put(&client, &tenant).await;
    let tenants: Api<Tenant> = Api::all(client.clone());
    let refused = eventually("Ready False for want of --idp", async || {
        let t = tenants.get(&name).await.map_err(|e| e.to_string())?;
        match t.condition(READY) {
            Some(c) if c.status == "False" => Ok(c.clone()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    assert_eq!(refused.reason, "NoIdentityProvider", "{refused:?}");
    for expected in [
        "nothing applied: spec.rbac.members[0].oidc: is an identity provider member, but harmony \
         was not given the IdentityProvider file that says how the API server names it: pass \
         --idp FILE",
        "spec.rbac.members[1].oidc:",
        "the operator runs without --idp: give it the IdentityProvider file (`harmony operator \
         install --idp FILE` renders it mounted)",
    ] {
        assert!(refused.message.contains(expected), "{}", refused.message);
    }
    let namespaces: Api<Namespace> = Api::all(client.clone());
    assert!(namespaces.get_opt(&name).await.unwrap().is_none());
    tokio::task::spawn_blocking(move || without.stop())
        .await
        .unwrap();

    // Restarted with the IdentityProvider file: applied, each member bound with the prefix.
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/identity/idp.yaml");
    let provider = load_identity_provider(&Documents::read(&[file]).unwrap()).unwrap();
    let mut with_idp = settings(plane);
    with_idp.facts.identity_provider = Some(provider);
    let _operator = tokio::task::spawn_blocking(move || Running::start_with(plane, with_idp))
        .await
        .unwrap();
    let ready = ready_and_isolated(&client, &name).await;
    assert_eq!(ready.status.unwrap().members, Some(2));
    let bindings: Api<RoleBinding> = Api::namespaced(client.clone(), &name);
    let alice = bindings.get("member-alice").await.unwrap();
    assert_eq!(
        alice.subjects,
        Some(vec![group(&format!("oidc:tenant-{name}-admins"))])
    );
    let sre = bindings.get("member-sre").await.unwrap();
    assert_eq!(sre.subjects, Some(vec![group("oidc:acme-sre")]));

    // The auditor knows the provider's names too: a hand-made binding letting the viewer group
    // write breaks the viewer's contract, judged at the Tenant's next generation.
    let rogue = serde_json::from_value(json!({
        "metadata": {"name": "sre-writes", "namespace": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "tenant-developer"},
        "subjects": [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "oidc:acme-sre"}],
    }))
    .unwrap();
    bindings.create(&Default::default(), &rogue).await.unwrap();
    let mut edited = tenant.clone();
    edited["spec"]["resourceQuotas"] = json!({"requests": {"cpu": "2"}});
    put(&client, &edited).await;
    let isolated = eventually("Isolated False at generation 2", async || {
        let t = tenants.get(&name).await.map_err(|e| e.to_string())?;
        match t.condition(ISOLATED) {
            Some(c) if c.status == "False" && c.observed_generation == Some(2) => Ok(c.clone()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    assert_eq!(
        isolated.message,
        "failing: HMT-RBAC-008 (Viewers only read (no Secrets), developers do not change RBAC)"
    );
}
