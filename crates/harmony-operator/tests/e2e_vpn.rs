//! The operator's finalizer with VPN peers configured, on a real control plane: deleting a Tenant
//! revokes its members' peers in the cluster registry (the Secret
//! harmony-system/harmony-vpn-registry) before its RoleBindings go, with no server key and only the
//! rights `harmony operator install --vpn-gateway` renders (archiving the audit log included).

mod common;

use std::path::Path;
use std::sync::Arc;

use common::{Running, admin_tenant, eventually, install, put, ready_and_isolated, settings};
use futures::StreamExt;
use harmony::Documents;
use harmony_operator::Tenant;
use harmony_operator::install::{InstallOptions, VpnGatewayFile, manifests_with_vpn};
use harmony_tenant::ExternalAccess;
use harmony_testkit::ControlPlane;
use harmony_vpn::{
    KnownMembers, PeerRecord, PeerRequest, PeerRevoker, RegistryBackend, SecretStore,
    TENANT_REMOVED, VpnGateway, WireGuardGateway, load_gateway,
};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::Api;
use kube::api::{DeleteParams, ListParams, PostParams, WatchEvent, WatchParams};

/// Who the operator revokes as.
const OPERATOR: &str = "harmony-operator";

const GATEWAY_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/vpn-gateway.yaml"
);

fn gateway() -> harmony_vpn::Gateway {
    load_gateway(&Documents::read(&[Path::new(GATEWAY_FILE)]).unwrap()).unwrap()
}

/// Creates what `harmony operator install --vpn-gateway` adds to the install: the gateway's
/// ConfigMap, and the Role and binding that let the operator's ServiceAccount revoke peers in the
/// registry Secret (the operator reads no Secret unless VPN revocation is configured).
async fn install_the_vpn_role(plane: &ControlPlane, client: &kube::Client) {
    let options = InstallOptions {
        image: "registry.example.com/harmony:test".into(),
        pod_networks: vec![plane.pod_network()],
        service_networks: vec![plane.service_network()],
        node_networks: Vec::new(),
    };
    let text = std::fs::read_to_string(GATEWAY_FILE).unwrap();
    let file = VpnGatewayFile::parse(GATEWAY_FILE, &text).unwrap();
    let params = PostParams::default();
    for object in manifests_with_vpn(&options, &file) {
        if !object.file_name.contains("vpn") {
            continue;
        }
        let value = object.object;
        match value["kind"].as_str().unwrap() {
            "ConfigMap" => {
                let api: Api<ConfigMap> = Api::namespaced(client.clone(), "harmony-system");
                api.create(&params, &serde_json::from_value(value).unwrap())
                    .await
                    .unwrap();
            }
            "Role" => {
                let api: Api<Role> = Api::namespaced(client.clone(), "harmony-system");
                api.create(&params, &serde_json::from_value(value).unwrap())
                    .await
                    .unwrap();
            }
            "RoleBinding" => {
                let api: Api<RoleBinding> = Api::namespaced(client.clone(), "harmony-system");
                api.create(&params, &serde_json::from_value(value).unwrap())
                    .await
                    .unwrap();
            }
            other => panic!("the VPN install renders no {other}"),
        }
    }
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

#[tokio::test]
async fn a_deleted_tenants_vpn_peers_are_revoked_before_its_rolebindings() {
    let plane = ControlPlane::shared();
    let _guard = plane.failure_guard();
    install(plane);
    let client = plane.client().await;
    let admin = plane.config().await;
    install_the_vpn_role(plane, &client).await;

    // A peer for alice, issued by an admin into the cluster registry.
    let name = ControlPlane::unique_name("op-vpn");
    let state = tempfile::tempdir().unwrap();
    let issuer = WireGuardGateway::with_backend(
        gateway(),
        RegistryBackend::Cluster(Box::new(SecretStore::new(admin.clone()))),
        state.path(),
    )
    .unwrap();
    let request = PeerRequest {
        tenant: name.clone(),
        member: "alice".into(),
        public_key: None,
        preshared_key: Default::default(),
        by: "admin".into(),
    };
    let members = KnownMembers::from_pairs([(name.as_str(), "alice")]);
    tokio::task::spawn_blocking(move || issuer.issue_peer(&members, request).map(|_| ()))
        .await
        .unwrap()
        .unwrap();

    // The operator, as its ServiceAccount, revoking with the registry alone (no state dir), with a
    // size limit the revocation outgrows: the audit log moves to an archive Secret it creates.
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
    put(&client, &admin_tenant(&name)).await;
    ready_and_isolated(&client, &name).await;

    // Watch the tenant's RoleBindings from now on; at the first deletion, read the registry.
    let bindings: Api<RoleBinding> = Api::namespaced(client.clone(), &name);
    let listed = bindings.list(&ListParams::default()).await.unwrap();
    assert!(
        listed
            .items
            .iter()
            .any(|b| b.metadata.name.as_deref() == Some("member-alice"))
    );
    let version = listed.metadata.resource_version.unwrap();
    let mut events = bindings
        .watch(&WatchParams::default().timeout(290), &version)
        .await
        .unwrap()
        .boxed();
    let tenants: Api<Tenant> = Api::all(client.clone());
    tenants
        .delete(&name, &DeleteParams::default())
        .await
        .unwrap();
    let at_first_delete = loop {
        match events.next().await {
            Some(Ok(WatchEvent::Deleted(_))) => break peers_of(&admin, &name).await,
            Some(Ok(_)) => {}
            other => panic!("the watch of RoleBindings ended before a deletion: {other:?}"),
        }
    };
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
