//! Removing a tenant: access first (RoleBindings, then ServiceAccounts), then its namespace, never
//! destroying data without an explicit override.

use std::time::{Duration, Instant};

use harmony::InterpretError;
use harmony_tenant::{MANAGED_BY_LABEL, MANAGED_BY_VALUE, TENANT_LABEL};
use serde::Serialize;
use serde_json::Value;

use harmony_kube::{Cluster, Kind};
use k8s_openapi::api::core::v1::{Namespace, PersistentVolumeClaim, ServiceAccount};
use k8s_openapi::api::rbac::v1::RoleBinding;

/// How to delete.
#[derive(Debug, Clone, Copy)]
pub struct DeleteOptions {
    /// Also delete PersistentVolumeClaims (and so, possibly, their volumes and data).
    pub delete_data: bool,
    /// How long to wait for the namespace to finish terminating.
    pub timeout: Duration,
}

/// What deleting a tenant did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DeleteReport {
    /// The tenant id.
    pub tenant: String,
    /// The tenant's namespace, if it still existed.
    pub namespace: Option<String>,
    /// Access revoked: RoleBindings, then ServiceAccounts.
    pub revoked: Vec<String>,
    /// PersistentVolumeClaims deleted with the namespace (only with `delete_data`).
    pub data_deleted: Vec<String>,
}

fn selector(tenant: &str) -> String {
    format!("{MANAGED_BY_LABEL}={MANAGED_BY_VALUE},{TENANT_LABEL}={tenant}")
}

fn names(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .filter_map(|i| i["metadata"]["name"].as_str().map(String::from))
        .collect()
}

/// Deletes tenant `tenant`. Refuses, deleting nothing, when its namespace holds
/// PersistentVolumeClaims and `delete_data` is not set. Deleting a tenant that is already gone
/// succeeds and does nothing.
pub async fn delete_tenant(
    cluster: &Cluster,
    tenant: &str,
    options: DeleteOptions,
) -> Result<DeleteReport, InterpretError> {
    delete_tenant_revoking(cluster, tenant, options, || Ok(())).await
}

/// Like [`delete_tenant`], running `revoke_elsewhere` (access held outside the cluster, such as
/// VPN peers) once the data check has passed and before any RoleBinding is deleted: a refused
/// delete changes nothing anywhere, and access goes first.
pub async fn delete_tenant_revoking(
    cluster: &Cluster,
    tenant: &str,
    options: DeleteOptions,
    revoke_elsewhere: impl FnOnce() -> Result<(), InterpretError>,
) -> Result<DeleteReport, InterpretError> {
    let mut report = DeleteReport {
        tenant: tenant.into(),
        ..DeleteReport::default()
    };
    let selector = selector(tenant);
    let namespaces = names(&cluster.list(Kind::of::<Namespace>(), "", &selector).await?);
    for namespace in &namespaces {
        let claims = names(
            &cluster
                .list(Kind::of::<PersistentVolumeClaim>(), namespace, "")
                .await?,
        );
        if !claims.is_empty() && !options.delete_data {
            return Err(InterpretError::Refused(format!(
                "tenant `{tenant}`: namespace `{namespace}` holds PersistentVolumeClaims {}; \
                 deleting the namespace would delete them and possibly their volumes' data. \
                 Nothing was deleted. Back the data up, then run again with --delete-data",
                claims.join(", ")
            )));
        }
        report
            .data_deleted
            .extend(claims.into_iter().map(|c| format!("{namespace}/{c}")));
    }
    revoke_elsewhere()?;
    for kind in [Kind::of::<RoleBinding>(), Kind::of::<ServiceAccount>()] {
        for object in cluster.list(kind, "", &selector).await? {
            let namespace = object["metadata"]["namespace"].as_str().unwrap_or_default();
            let name = object["metadata"]["name"].as_str().unwrap_or_default();
            cluster.delete(kind, namespace, name, false).await?;
            report
                .revoked
                .push(format!("{} {namespace}/{name}", kind.name()));
        }
    }
    for namespace in &namespaces {
        cluster
            .delete(Kind::of::<Namespace>(), "", namespace, false)
            .await?;
        wait_until_gone(cluster, namespace, options.timeout).await?;
    }
    report.namespace = namespaces.into_iter().next();
    Ok(report)
}

/// Polls the namespace until it is gone; on timeout, says what holds it.
async fn wait_until_gone(
    cluster: &Cluster,
    namespace: &str,
    timeout: Duration,
) -> Result<(), InterpretError> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(50);
    loop {
        let Some(live) = cluster.get(Kind::of::<Namespace>(), "", namespace).await? else {
            return Ok(());
        };
        if started.elapsed() >= timeout {
            return Err(InterpretError::Topology(stuck(namespace, &live, timeout)));
        }
        tokio::time::sleep(pause.min(timeout.saturating_sub(started.elapsed()))).await;
        pause = (pause * 2).min(Duration::from_secs(2));
    }
}

fn stuck(namespace: &str, live: &Value, timeout: Duration) -> String {
    let finalizers: Vec<String> = live["spec"]["finalizers"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(
            live["metadata"]["finalizers"]
                .as_array()
                .into_iter()
                .flatten(),
        )
        .filter_map(|f| f.as_str().map(String::from))
        .collect();
    let conditions: Vec<String> = live["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["status"] == "True")
        .map(|c| {
            format!(
                "{}: {}",
                c["type"].as_str().unwrap_or_default(),
                c["message"].as_str().unwrap_or_default()
            )
        })
        .collect();
    format!(
        "namespace `{namespace}` is still terminating after {}s; its access is already revoked. \
         Blocking finalizers: {}{}. They are removed by the controllers that set them; check those \
         controllers, then run the delete again to keep waiting (or raise --timeout)",
        timeout.as_secs(),
        if finalizers.is_empty() {
            "none listed".to_string()
        } else {
            finalizers.join(", ")
        },
        if conditions.is_empty() {
            String::new()
        } else {
            format!("; conditions: {}", conditions.join("; "))
        }
    )
}
