//! The operator on a real control plane that serves the prometheus-operator API (its CRDs
//! installed, and the four monitoring ClusterRoles as `harmony cluster monitoring` renders them):
//! running as its own
//! ServiceAccount, it gives a Tenant its monitoring RoleBindings, PrometheusRule and
//! AlertmanagerConfig, leaves them alone once in place, restores a deleted PrometheusRule from
//! its watch event, and prunes them when the Tenant turns monitoring off.

mod common;

use std::time::Duration;

use common::{Running, eventually, install, put, ready_and_isolated, tenant};
use harmony_guardrails::monitoring::roles::tenant_roles;
use harmony_tenant::monitoring::crd::{AlertmanagerConfig, PrometheusRule};
use harmony_testkit::ControlPlane;
use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::Api;
use kube::api::DeleteParams;
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn a_tenant_gets_its_monitoring_objects_kept_and_pruned() {
    let plane = ControlPlane::shared();
    let _guard = plane.failure_guard();
    plane.install_monitoring_crds().unwrap();
    plane.apply(&tenant_roles()).unwrap();
    install(plane);
    // Started after the CRDs: the operator discovers the monitoring API once, when it starts.
    let operator = tokio::task::spawn_blocking(move || Running::start(plane))
        .await
        .unwrap();
    let client = plane.client().await;
    let name = ControlPlane::unique_name("op-mon");
    let mut spec = tenant(&name, "2");
    spec["spec"]["monitoring"] = json!({"receivers": [
        {"name": "chat", "webhook": {"urlSecret": {"name": "chat-hook", "key": "url"}}},
    ]});
    put(&client, &spec).await;
    ready_and_isolated(&client, &name).await;

    let rules: Api<PrometheusRule> = Api::namespaced(client.clone(), &name);
    let routing: Api<AlertmanagerConfig> = Api::namespaced(client.clone(), &name);
    let bindings: Api<RoleBinding> = Api::namespaced(client.clone(), &name);
    let rule = eventually("PrometheusRule tenant-alerts", async || {
        rules.get("tenant-alerts").await.map_err(|e| e.to_string())
    })
    .await;
    assert_eq!(rule.spec.groups[0].rules.len(), 3);
    let config = routing.get("tenant-receivers").await.unwrap();
    assert_eq!(config.spec.route.unwrap().receiver, "chat");
    // alice (admin) and ci (developer): no viewer, so no monitoring-rules-view.
    for role in ["monitoring-edit", "alert-routing-edit"] {
        let binding = bindings.get(role).await.unwrap();
        assert_eq!(binding.role_ref.kind, "ClusterRole");
    }
    assert!(
        bindings
            .get_opt("monitoring-rules-view")
            .await
            .unwrap()
            .is_none()
    );

    // In place: left alone (no write on every reconcile).
    let version = rule.metadata.resource_version.clone();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let again = rules.get("tenant-alerts").await.unwrap();
    assert_eq!(again.metadata.resource_version, version);

    // Deleted: restored from its watch event.
    rules
        .delete("tenant-alerts", &DeleteParams::default())
        .await
        .unwrap();
    eventually("tenant-alerts restored", async || {
        let restored = rules
            .get("tenant-alerts")
            .await
            .map_err(|e| e.to_string())?;
        match restored.metadata.resource_version != version {
            true => Ok(()),
            false => Err("not yet recreated".into()),
        }
    })
    .await;

    // Monitoring off: pruned.
    spec["spec"]["monitoring"] = json!({"enabled": false});
    put(&client, &spec).await;
    ready_and_isolated(&client, &name).await;
    eventually("monitoring objects pruned", async || {
        let left = (
            rules
                .get_opt("tenant-alerts")
                .await
                .map_err(|e| e.to_string())?,
            routing
                .get_opt("tenant-receivers")
                .await
                .map_err(|e| e.to_string())?,
            bindings
                .get_opt("monitoring-edit")
                .await
                .map_err(|e| e.to_string())?,
        );
        match left {
            (None, None, None) => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    tokio::task::spawn_blocking(move || operator.stop())
        .await
        .unwrap();
}
