//! The operator with VPN peers configured, on a real control plane: deleting a Tenant revokes its
//! members' peers in the cluster registry (the Secret harmony-system/harmony-vpn-registry) before
//! its RoleBindings go, and removing a member from a Tenant revokes that member's peer before its
//! RoleBinding is pruned, with no server key and only the rights `harmony operator install
//! --vpn-gateway` renders (archiving the audit log included).

mod common;

use std::path::Path;
use std::sync::Arc;

use common::{
    Running, admin_tenant, apply_install, event_note, eventually, install, put, ready_and_isolated,
    settings,
};
use futures::StreamExt;
use harmony::Documents;
use harmony_operator::Tenant;
use harmony_operator::install::{InstallOptions, VpnGatewayFile, manifests_with_vpn};
use harmony_tenant::ExternalAccess;
use harmony_tenant::backup::VELERO_NAMESPACE;
use harmony_testkit::ControlPlane;
use harmony_vpn::{
    KnownMembers, MEMBER_REMOVED, PeerRecord, PeerRequest, PeerRevoker, RegistryBackend,
    SecretStore, TENANT_REMOVED, VpnGateway, WireGuardGateway, load_gateway,
};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::Api;
use kube::api::{DeleteParams, ListParams, WatchEvent, WatchParams};
use serde_json::json;
use tokio::sync::Mutex;

/// Who the operator revokes as.
const OPERATOR: &str = "harmony-operator";

/// The tests share the registry Secret, whose size limit a concurrent test's peers would break: one
/// at a time.
static SERIAL: Mutex<()> = Mutex::const_new(());

const GATEWAY_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/vpn-gateway.yaml"
);

fn gateway() -> harmony_vpn::Gateway {
    load_gateway(&Documents::read(&[Path::new(GATEWAY_FILE)]).unwrap()).unwrap()
}

/// Applies what `harmony operator install --vpn-gateway` adds to the install (server-side, so again
/// for each test): the gateway's ConfigMap, and the Role and binding that let the operator's
/// ServiceAccount revoke peers in the registry Secret (the operator reads no Secret unless VPN
/// revocation is configured).
fn install_the_vpn_role(plane: &ControlPlane) {
    let options = InstallOptions {
        image: "registry.example.com/harmony:test".into(),
        pod_networks: vec![plane.pod_network()],
        service_networks: vec![plane.service_network()],
        node_networks: Vec::new(),
        velero_namespace: VELERO_NAMESPACE.into(),
    };
    let text = std::fs::read_to_string(GATEWAY_FILE).unwrap();
    let file = VpnGatewayFile::parse(GATEWAY_FILE, &text).unwrap();
    let vpn: Vec<_> = manifests_with_vpn(&options, &file)
        .into_iter()
        .filter(|object| object.file_name.contains("vpn"))
        .collect();
    for object in &vpn {
        let kind = object.object["kind"].as_str().unwrap();
        assert!(
            ["ConfigMap", "Role", "RoleBinding"].contains(&kind),
            "the VPN install renders no {kind}"
        );
    }
    apply_install(plane, vpn);
}

/// The size of the registry document in the registry Secret, in bytes.
async fn registry_size(client: &kube::Client) -> usize {
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "harmony-system");
    let secret = secrets.get("harmony-vpn-registry").await.unwrap();
    secret.data.unwrap()["registry.json"].0.len()
}

/// The peers of `tenant` in the registry, read as the cluster admin.
async fn peers_of(admin: &kube::Config, tenant: &str) -> Vec<PeerRecord> {
    let store = SecretStore::new(admin.clone());
    let pool = gateway().pool;
    let peers = tokio::task::spawn_blocking(move || store.load(pool))
        .await
        .unwrap()
        .unwrap();
    peers
        .peers()
        .iter()
        .filter(|p| p.tenant == tenant)
        .cloned()
        .collect()
}

/// The operator installed with the VPN Role, a peer issued by an admin into the cluster registry
/// for each of `members` of tenant `name`, and the operator running as its ServiceAccount,
/// revoking with the registry alone (no state dir) with a size limit its first revocation
/// outgrows: the audit log moves to an archive Secret it creates. Gives the admin's client and
/// config.
async fn operator_revoking_peers_of(
    plane: &'static ControlPlane,
    name: &str,
    members: &[&str],
) -> (kube::Client, kube::Config, Running) {
    install(plane);
    let client = plane.client().await;
    let admin = plane.config().await;
    install_the_vpn_role(plane);

    let state = tempfile::tempdir().unwrap();
    let issuer = WireGuardGateway::with_backend(
        gateway(),
        RegistryBackend::Cluster(Box::new(SecretStore::new(admin.clone()))),
        state.path(),
    )
    .unwrap();
    let known = KnownMembers::from_pairs(members.iter().map(|m| (name, *m)));
    let requests = members
        .iter()
        .map(|member| PeerRequest {
            tenant: name.into(),
            member: (*member).into(),
            public_key: None,
            preshared_key: Default::default(),
            by: "admin".into(),
        })
        .collect();
    tokio::task::spawn_blocking(move || issuer.issue_peers(&known, requests).map(|_| ()))
        .await
        .unwrap()
        .unwrap();

    let registry = registry_size(&client).await;
    let operator = common::operator_config(plane).await;
    let store = SecretStore::new(operator).with_size_limit(registry + 200);
    let revoker = PeerRevoker::new(
        gateway(),
        RegistryBackend::Cluster(Box::new(store)),
        OPERATOR,
    )
    .unwrap();
    let running = Running::start_with(
        plane,
        harmony_operator::Settings {
            outside: Some(Arc::new(revoker) as Arc<dyn ExternalAccess>),
            ..settings(plane)
        },
    );
    (client, admin, running)
}

/// Watches the RoleBindings of namespace `name` from now on (after checking `member-{member}` is
/// there) and runs `change`; at the first deletion, gives its name and the tenant's peers.
async fn peers_at_first_rolebinding_deletion(
    client: &kube::Client,
    admin: &kube::Config,
    name: &str,
    member: &str,
    change: impl AsyncFnOnce(),
) -> (String, Vec<PeerRecord>) {
    let bindings: Api<RoleBinding> = Api::namespaced(client.clone(), name);
    let listed = bindings.list(&ListParams::default()).await.unwrap();
    let binding = format!("member-{member}");
    assert!(
        listed
            .items
            .iter()
            .any(|b| b.metadata.name.as_deref() == Some(binding.as_str()))
    );
    let version = listed.metadata.resource_version.unwrap();
    let mut events = bindings
        .watch(&WatchParams::default().timeout(290), &version)
        .await
        .unwrap()
        .boxed();
    change().await;
    loop {
        match events.next().await {
            Some(Ok(WatchEvent::Deleted(deleted))) => {
                let peers = peers_of(admin, name).await;
                break (deleted.metadata.name.unwrap_or_default(), peers);
            }
            Some(Ok(_)) => {}
            other => panic!("the watch of RoleBindings ended before a deletion: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_deleted_tenants_vpn_peers_are_revoked_before_its_rolebindings() {
    let _serial = SERIAL.lock().await;
    let plane = ControlPlane::shared();
    let _guard = plane.failure_guard();
    let name = ControlPlane::unique_name("op-vpn");
    let (client, admin, running) = operator_revoking_peers_of(plane, &name, &["alice"]).await;
    put(&client, &admin_tenant(&name)).await;
    ready_and_isolated(&client, &name).await;

    let tenants: Api<Tenant> = Api::all(client.clone());
    let (_, at_first_delete) =
        peers_at_first_rolebinding_deletion(&client, &admin, &name, "alice", async || {
            tenants
                .delete(&name, &DeleteParams::default())
                .await
                .unwrap();
        })
        .await;
    assert_eq!(at_first_delete.len(), 1, "{at_first_delete:?}");
    let revocation = at_first_delete[0]
        .revoked
        .as_ref()
        .expect("alice's peer was revoked before the first RoleBinding went");
    assert_eq!(revocation.reason, TENANT_REMOVED);
    assert_eq!(revocation.by, OPERATOR);
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "harmony-system");
    let archive = secrets
        .get(&SecretStore::archive_name(1))
        .await
        .expect("the operator archived the audit log");
    let archived = String::from_utf8(archive.data.unwrap()["audit.log"].0.clone()).unwrap();
    assert!(archived.contains("\"action\":\"issue\""), "{archived}");

    eventually("the Tenant gone", async || {
        match tenants.get_opt(&name).await.map_err(|e| e.to_string())? {
            None => Ok(()),
            Some(t) => Err(format!("{:?}", t.status)),
        }
    })
    .await;
    running.stop();
}

#[tokio::test]
async fn a_removed_members_vpn_peer_is_revoked_before_its_rolebinding() {
    let _serial = SERIAL.lock().await;
    let plane = ControlPlane::shared();
    let _guard = plane.failure_guard();
    let name = ControlPlane::unique_name("op-vpn-member");
    let (client, admin, running) =
        operator_revoking_peers_of(plane, &name, &["alice", "bob"]).await;
    let bob =
        json!({"name": "bob", "role": "developer", "user": format!("bob@{name}.example.com")});
    let mut both = admin_tenant(&name);
    both["spec"]["rbac"]["members"]
        .as_array_mut()
        .unwrap()
        .push(bob);
    put(&client, &both).await;
    ready_and_isolated(&client, &name).await;

    let (deleted, at_first_delete) =
        peers_at_first_rolebinding_deletion(&client, &admin, &name, "bob", async || {
            put(&client, &admin_tenant(&name)).await;
        })
        .await;
    assert_eq!(deleted, "member-bob");
    let peer = |member: &str| {
        at_first_delete
            .iter()
            .find(|p| p.member == member)
            .unwrap_or_else(|| panic!("no peer of {member}: {at_first_delete:?}"))
    };
    let revocation = peer("bob")
        .revoked
        .as_ref()
        .expect("bob's peer was revoked before his RoleBinding went");
    assert_eq!(revocation.reason, MEMBER_REMOVED);
    assert_eq!(revocation.by, OPERATOR);
    assert!(peer("alice").revoked.is_none(), "alice is still a member");

    // An Event names what was revoked, and the Tenant is Ready for its new generation.
    let note = event_note(&client, &name, "Revoked").await;
    assert_eq!(note, format!("revoked VPN peer {name}/bob"));
    let edited = ready_and_isolated(&client, &name).await;
    assert_eq!(edited.metadata.generation, Some(2));
    running.stop();
}
