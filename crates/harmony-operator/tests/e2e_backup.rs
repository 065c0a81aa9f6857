//! The operator and Velero on a real control plane (Velero's CRDs only: a Schedule needs no
//! running Velero): a Tenant's plan says backups are off until the cluster serves `velero.io`
//! (and, while the operator's Role in Velero's namespace is unbound, why it writes no Schedule);
//! installing the CRDs is noticed without a restart and the Tenant's Schedule is written in
//! Velero's namespace; a deleted Schedule is restored from its watch event; the operator may write
//! Schedules in Velero's namespace and nothing else of Velero's; a deleted Tenant's Schedule goes.

mod common;

use common::{Running, eventually, install, put, tenant};
use harmony_operator::install::BACKUPS_ROLE;
use harmony_operator::{READY, Tenant};
use harmony_tenant::backup::{VELERO_NAMESPACE, schedule_name};
use harmony_testkit::{ControlPlane, velero};
use kube::Api;
use kube::api::{DeleteParams, DynamicObject};
use kube::core::{ApiResource, GroupVersionKind};

/// Velero's Schedules in its namespace.
fn schedules(client: &kube::Client) -> Api<DynamicObject> {
    let resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("velero.io", "v1", "Schedule"),
        "schedules",
    );
    Api::namespaced_with(client.clone(), VELERO_NAMESPACE, &resource)
}

/// The Tenant's `Ready` message once `Ready` holds for its current generation and `wanted` says
/// it is the one.
async fn ready_message(client: &kube::Client, name: &str, wanted: impl Fn(&str) -> bool) -> String {
    let tenants: Api<Tenant> = Api::all(client.clone());
    eventually(&format!("Tenant {name} Ready as wanted"), async || {
        let t = tenants.get(name).await.map_err(|e| e.to_string())?;
        match t.condition(READY) {
            Some(c)
                if c.status == "True"
                    && c.observed_generation == t.metadata.generation
                    && wanted(&c.message) =>
            {
                Ok(c.message.clone())
            }
            other => Err(format!("{other:?}")),
        }
    })
    .await
}

/// Whether the operator's ServiceAccount may `verb` `resource` (in `namespace`, or everywhere).
fn operator_can(plane: &ControlPlane, verb: &str, resource: &str, namespace: Option<&str>) -> bool {
    let mut command = plane.kubectl();
    command.args([
        "auth",
        "can-i",
        verb,
        resource,
        "--as=system:serviceaccount:harmony-system:harmony-operator",
    ]);
    match namespace {
        Some(namespace) => command.args(["-n", namespace]),
        None => command.arg("--all-namespaces"),
    };
    let out = command.output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "yes"
}

#[tokio::test]
async fn the_operator_writes_repairs_and_deletes_a_tenant_s_schedule_once_velero_is_served() {
    let plane = ControlPlane::shared();
    let _guard = plane.failure_guard();
    install(plane);
    let _operator = Running::start(plane);
    let client = plane.client().await;
    let name = ControlPlane::unique_name("op-backup");

    // No Velero yet: the plan says backups are off, and why.
    put(&client, &tenant(&name, "2")).await;
    let message = ready_message(&client, &name, |m| m.contains("backups off")).await;
    assert!(
        message.contains("backups off: the cluster does not serve velero.io/v1 (install Velero or OADP; the operator notices within 10 s)"),
        "{message}"
    );

    // Velero's CRDs appear while the operator's Role there is unbound: the plan says why it holds
    // no Schedule, and other Tenants' reconciles do not wait.
    let binding = plane
        .kubectl_run(&[
            "get",
            "rolebinding",
            BACKUPS_ROLE,
            "-n",
            VELERO_NAMESPACE,
            "-o",
            "json",
        ])
        .unwrap();
    plane
        .kubectl_run(&[
            "delete",
            "rolebinding",
            BACKUPS_ROLE,
            "-n",
            VELERO_NAMESPACE,
        ])
        .unwrap();
    velero::install_crds(plane).unwrap();
    let message = ready_message(&client, &name, |m| m.contains("cannot watch")).await;
    assert!(
        message.contains(
            "backups off: the operator cannot watch Schedules in Velero's namespace velero ("
        ),
        "{message}"
    );

    // Bound again: the watch's retry fills, the Schedule is written.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("binding.json");
    let mut binding: serde_json::Value = serde_json::from_str(&binding).unwrap();
    for field in [
        "resourceVersion",
        "uid",
        "creationTimestamp",
        "managedFields",
    ] {
        binding["metadata"].as_object_mut().unwrap().remove(field);
    }
    std::fs::write(&path, binding.to_string()).unwrap();
    plane
        .kubectl_run(&["apply", "--server-side", "-f", path.to_str().unwrap()])
        .unwrap();
    let schedules = schedules(&client);
    let schedule = schedule_name(&name);
    let written = eventually("the Tenant's Schedule", async || {
        schedules
            .get_opt(&schedule)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "not yet".to_string())
    })
    .await;
    let labels = written.metadata.labels.clone().unwrap_or_default();
    assert_eq!(labels["harmony.nationtech.io/tenant"], name);
    assert_eq!(labels["app.kubernetes.io/managed-by"], "harmony");
    assert_eq!(
        written.data["spec"]["template"]["includedNamespaces"],
        serde_json::json!([name])
    );
    let message = ready_message(&client, &name, |m| !m.contains("backups off")).await;
    assert!(message.contains("objects as planned"), "{message}");

    // Drift: a deleted Schedule is restored from its watch event.
    let uid = written.metadata.uid.clone();
    schedules
        .delete(&schedule, &DeleteParams::default())
        .await
        .unwrap();
    eventually("the deleted Schedule restored", async || {
        match schedules
            .get_opt(&schedule)
            .await
            .map_err(|e| e.to_string())?
        {
            Some(s) if s.metadata.uid != uid => Ok(()),
            other => Err(format!("{:?}", other.map(|s| s.metadata.uid))),
        }
    })
    .await;

    // The operator's rights on Velero: Schedules in Velero's namespace, nothing more.
    for verb in ["get", "list", "watch", "create", "patch", "delete"] {
        assert!(
            operator_can(plane, verb, "schedules.velero.io", Some(VELERO_NAMESPACE)),
            "{verb} schedules in velero"
        );
    }
    assert!(!operator_can(plane, "list", "schedules.velero.io", None));
    assert!(!operator_can(
        plane,
        "create",
        "schedules.velero.io",
        Some("default")
    ));
    for resource in [
        "backups.velero.io",
        "restores.velero.io",
        "backupstoragelocations.velero.io",
    ] {
        assert!(
            !operator_can(plane, "get", resource, Some(VELERO_NAMESPACE)),
            "{resource}"
        );
    }

    // Deleting the Tenant deletes its Schedule.
    let tenants: Api<Tenant> = Api::all(client.clone());
    tenants
        .delete(&name, &DeleteParams::default())
        .await
        .unwrap();
    eventually("the Tenant gone", async || {
        match tenants.get_opt(&name).await.map_err(|e| e.to_string())? {
            None => Ok(()),
            Some(t) => Err(format!("{:?}", t.status)),
        }
    })
    .await;
    assert!(schedules.get_opt(&schedule).await.unwrap().is_none());
}
