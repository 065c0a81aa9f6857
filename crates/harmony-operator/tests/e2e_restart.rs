//! The operator killed in the middle of its work (its runtime dropped with every reconcile in
//! flight) and started again converges: every Tenant Ready and Isolated, every object in place.
//! Its own test binary, so its control plane sees no other operator.

mod common;

use common::{Running, admin_tenant, eventually, install, put, ready_and_isolated};
use harmony_testkit::ControlPlane;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::Api;
use kube::api::ListParams;

#[tokio::test]
async fn an_operator_killed_mid_reconcile_converges_after_restart() {
    let plane = ControlPlane::shared();
    let _guard = plane.failure_guard();
    install(plane);
    let client = plane.client().await;
    let names: Vec<String> = (0..8)
        .map(|_| ControlPlane::unique_name("op-restart"))
        .collect();
    let first = Running::start(plane);
    for name in &names {
        put(&client, &admin_tenant(name)).await;
    }
    // Wait until the first operator is at work, then kill it where it stands.
    let namespaces: Api<Namespace> = Api::all(client.clone());
    eventually("a first namespace", async || {
        let list = namespaces
            .list(&ListParams::default().labels("harmony.nationtech.io/tenant"))
            .await
            .map_err(|e| e.to_string())?;
        (!list.items.is_empty())
            .then_some(())
            .ok_or("none yet".to_string())
    })
    .await;
    first.kill();

    let second = Running::start(plane);
    for name in &names {
        ready_and_isolated(&client, name).await;
        let policies: Api<NetworkPolicy> = Api::namespaced(client.clone(), name);
        let policies = policies.list(&ListParams::default()).await.unwrap().items;
        assert!(policies.len() >= 5, "{name}: {} policies", policies.len());
        let bindings: Api<RoleBinding> = Api::namespaced(client.clone(), name);
        assert!(
            bindings.get_opt("member-alice").await.unwrap().is_some(),
            "{name}"
        );
    }
    second.stop();
}
