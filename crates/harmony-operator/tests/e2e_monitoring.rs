//! The operator on a real control plane that serves the prometheus-operator API (its CRDs
//! installed, and the four monitoring ClusterRoles as `harmony cluster monitoring` renders them):
//! running as its own ServiceAccount, it gives a Tenant its monitoring RoleBindings,
//! PrometheusRule and AlertmanagerConfig, leaves them alone once in place, restores a deleted
//! PrometheusRule from its watch event, and prunes them when the Tenant turns monitoring off.
//! On a plane that gets the API only after the operator started, the Tenant's status says why it
//! has no monitoring, then it gets its objects without a restart, and loses them again when the
//! API goes.

mod common;

use std::time::Duration;

use std::sync::OnceLock;

use common::{Running, event_note, eventually, install, put, ready_and_isolated, tenant};
use harmony_guardrails::monitoring::roles::tenant_roles;
use harmony_operator::{READY, Tenant};
use harmony_tenant::monitoring::crd::{AlertmanagerConfig, PrometheusRule};
use harmony_testkit::ControlPlane;
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::Api;
use kube::api::{DeleteParams, ListParams};
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn a_tenant_gets_its_monitoring_objects_kept_and_pruned() {
    let plane = ControlPlane::shared();
    let _guard = plane.failure_guard();
    plane.install_monitoring_crds().unwrap();
    plane.apply(&tenant_roles()).unwrap();
    install(plane);
    // Started after the CRDs: its discovery at start finds the monitoring API.
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

/// A plane of its own for [`monitoring_installed_after_the_operator_started_needs_no_restart`]:
/// it starts without the monitoring CRDs, which the shared plane of this binary has.
fn plane_without_monitoring() -> &'static ControlPlane {
    static PLANE: OnceLock<ControlPlane> = OnceLock::new();
    PLANE.get_or_init(|| ControlPlane::start().unwrap())
}

/// The message of the Tenant's `Ready` condition once it holds for the current generation and
/// `wanted` accepts it.
async fn ready_message(client: &kube::Client, name: &str, wanted: impl Fn(&str) -> bool) -> String {
    let api: Api<Tenant> = Api::all(client.clone());
    eventually(&format!("Tenant {name}'s Ready message"), async || {
        let tenant = api.get(name).await.map_err(|e| e.to_string())?;
        match tenant.condition(READY) {
            Some(c)
                if c.status == "True"
                    && c.observed_generation == tenant.metadata.generation
                    && wanted(&c.message) =>
            {
                Ok(c.message.clone())
            }
            other => Err(format!("{other:?}")),
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn monitoring_installed_after_the_operator_started_needs_no_restart() {
    let plane = plane_without_monitoring();
    let _guard = plane.failure_guard();
    install(plane);
    let operator = tokio::task::spawn_blocking(move || Running::start(plane))
        .await
        .unwrap();
    let client = plane.client().await;
    let name = ControlPlane::unique_name("op-mon-late");
    let mut spec = tenant(&name, "2");
    spec["spec"]["monitoring"] = json!({"receivers": [
        {"name": "chat", "webhook": {"urlSecret": {"name": "chat-hook", "key": "url"}}},
    ]});
    put(&client, &spec).await;
    ready_and_isolated(&client, &name).await;

    // Not served: no monitoring objects, and the status and an Event say why.
    let off = |message: &str| message.contains("monitoring off: the cluster does not serve");
    let message = ready_message(&client, &name, off).await;
    assert!(
        message.contains("monitoring.coreos.com/v1 and /v1beta1"),
        "{message}"
    );
    // The first apply's Event says it with the objects it wrote: no Event of its own.
    let note = event_note(&client, &name, "Applied").await;
    assert!(off(&note) && note.contains(" created, "), "{note}");
    let bindings: Api<RoleBinding> = Api::namespaced(client.clone(), &name);
    assert!(bindings.get_opt("monitoring-edit").await.unwrap().is_none());

    // An edit writes the status again, with the same note: it is not said again (the recorder
    // would count a repeat in the Event's series).
    let mut edited = tenant(&name, "3");
    edited["spec"]["monitoring"] = spec["spec"]["monitoring"].clone();
    put(&client, &edited).await;
    ready_and_isolated(&client, &name).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let events: Api<Event> = Api::namespaced(client.clone(), "default");
    let said: Vec<Event> = events
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|e| {
            e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name.as_str())
                && e.note.as_deref().is_some_and(off)
        })
        .collect();
    assert!(
        said.len() == 1 && said[0].series.is_none() && said[0].reason.as_deref() == Some("Applied"),
        "monitoring off said once, in the Applied Event: {said:?}"
    );

    // The API appears: the same operator watches it and gives the Tenant its objects.
    plane.install_monitoring_crds().unwrap();
    plane.apply(&tenant_roles()).unwrap();
    let rules: Api<PrometheusRule> = Api::namespaced(client.clone(), &name);
    let routing: Api<AlertmanagerConfig> = Api::namespaced(client.clone(), &name);
    let rule = eventually("PrometheusRule tenant-alerts", async || {
        rules.get("tenant-alerts").await.map_err(|e| e.to_string())
    })
    .await;
    assert_eq!(rule.spec.groups[0].rules.len(), 3);
    let config = eventually("AlertmanagerConfig tenant-receivers", async || {
        routing
            .get("tenant-receivers")
            .await
            .map_err(|e| e.to_string())
    })
    .await;
    assert_eq!(config.spec.route.unwrap().receiver, "chat");
    for role in ["monitoring-edit", "alert-routing-edit"] {
        eventually(&format!("RoleBinding {role}"), async || {
            bindings.get(role).await.map_err(|e| e.to_string())
        })
        .await;
    }
    let message = ready_message(&client, &name, |m| !m.contains("monitoring")).await;
    assert!(message.contains("objects as planned"), "{message}");
    // Watched: a deleted PrometheusRule comes back from its watch event.
    rules
        .delete("tenant-alerts", &DeleteParams::default())
        .await
        .unwrap();
    eventually("tenant-alerts restored", async || {
        let restored = rules
            .get("tenant-alerts")
            .await
            .map_err(|e| e.to_string())?;
        match restored.metadata.uid != rule.metadata.uid {
            true => Ok(()),
            false => Err("not yet recreated".into()),
        }
    })
    .await;

    // The API goes: the monitoring bindings are pruned and the status says why again.
    let crds: Vec<String> = ["prometheusrules", "alertmanagerconfigs"]
        .iter()
        .map(|plural| format!("crd/{plural}.monitoring.coreos.com"))
        .collect();
    let mut delete = vec!["delete", "--wait=true"];
    delete.extend(crds.iter().map(String::as_str));
    plane.kubectl_run(&delete).unwrap();
    ready_message(&client, &name, off).await;
    eventually("monitoring bindings pruned", async || {
        let left = (
            bindings
                .get_opt("monitoring-edit")
                .await
                .map_err(|e| e.to_string())?,
            bindings
                .get_opt("alert-routing-edit")
                .await
                .map_err(|e| e.to_string())?,
        );
        match left {
            (None, None) => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    tokio::task::spawn_blocking(move || operator.stop())
        .await
        .unwrap();
}
