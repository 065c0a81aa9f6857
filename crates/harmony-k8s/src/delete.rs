//! Removing a tenant: access first (held outside the cluster, RoleBindings, then ServiceAccounts),
//! then its backup Schedule and its namespace, never destroying data without an explicit override.

use std::time::{Duration, Instant};

use harmony::InterpretError;
use harmony_tenant::{
    DeleteError, DeleteOptions, DeleteReport, ExternalAccess, MANAGED_BY_LABEL, MANAGED_BY_VALUE,
    TENANT_LABEL,
};
use serde_json::Value;

use harmony_kube::{Cluster, FailureKind, Kind};
use harmony_tenant::backup::crd::Schedule;
use harmony_tenant::cluster_quota::ClusterResourceQuota;

use crate::facts::velero_namespace;
use k8s_openapi::api::core::v1::{Namespace, PersistentVolumeClaim, ServiceAccount};
use k8s_openapi::api::rbac::v1::RoleBinding;

fn selector(tenant: &str) -> String {
    format!("{MANAGED_BY_LABEL}={MANAGED_BY_VALUE},{TENANT_LABEL}={tenant}")
}

fn names(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .filter_map(|i| i["metadata"]["name"].as_str().map(String::from))
        .collect()
}

/// Deletes tenant `tenant` (see [`TenantRemover::delete_tenant`](harmony_tenant::TenantRemover)):
/// the data check, then access held `outside`, RoleBindings, ServiceAccounts, the data check
/// again, the namespaces.
pub(crate) async fn delete_tenant(
    cluster: &Cluster,
    tenant: &str,
    options: DeleteOptions,
    outside: Option<&dyn ExternalAccess>,
) -> Result<DeleteReport, DeleteError> {
    let mut report = DeleteReport {
        tenant: tenant.into(),
        ..DeleteReport::default()
    };
    let selector = selector(tenant);
    let namespaces = names(&list(cluster, Kind::of::<Namespace>(), "", &selector).await?);
    if !options.delete_data {
        for namespace in &namespaces {
            unclaimed(cluster, tenant, namespace).await?;
        }
    }
    if let Some(outside) = outside {
        report.revoked_elsewhere = outside.revoke_tenant(tenant).await?;
    }
    let removed = async {
        revoke(cluster, &selector, "", &mut report).await?;
        // Claims are read again once access is gone: one made meanwhile holds the tenant too.
        for namespace in &namespaces {
            let claims = claims_in(cluster, namespace).await?;
            if !claims.is_empty() && !options.delete_data {
                return Err(DeleteError::DataHeld {
                    tenant: tenant.into(),
                    namespace: namespace.clone(),
                    claims,
                });
            }
            report
                .data_deleted
                .extend(claims.into_iter().map(|c| format!("{namespace}/{c}")));
        }
        remove(cluster, &selector, &namespaces, options.timeout).await
    };
    match removed.await {
        Ok(()) => {
            report.namespace = namespaces.first().cloned();
            report.namespaces = namespaces;
            Ok(report)
        }
        Err(error) if report.revoked_elsewhere.is_empty() && report.revoked.is_empty() => {
            Err(error)
        }
        Err(error) => Err(DeleteError::Stopped {
            error: Box::new(error),
            done: Box::new(report),
        }),
    }
}

/// Releases the self-service namespace `namespace` of `tenant`, whose request is gone: refused
/// while PersistentVolumeClaims hold data there; otherwise its access goes first (RoleBindings,
/// then ServiceAccounts), then the namespace, waited for up to `timeout`. Returns the access
/// revoked.
pub(crate) async fn release_namespace(
    cluster: &Cluster,
    tenant: &str,
    namespace: &str,
    timeout: Duration,
) -> Result<Vec<String>, DeleteError> {
    unclaimed(cluster, tenant, namespace).await?;
    let mut report = DeleteReport::default();
    revoke(cluster, &selector(tenant), namespace, &mut report).await?;
    // A claim made while its access was still there (by a member, or from a StatefulSet's
    // template) holds it too.
    unclaimed(cluster, tenant, namespace).await?;
    cluster
        .delete(Kind::of::<Namespace>(), "", namespace, false)
        .await
        .map_err(InterpretError::from)?;
    wait_until_gone(cluster, namespace, timeout).await?;
    Ok(report.revoked)
}

/// Refuses ([`DeleteError::DataHeld`]) while PersistentVolumeClaims hold data in `namespace`.
async fn unclaimed(cluster: &Cluster, tenant: &str, namespace: &str) -> Result<(), DeleteError> {
    let claims = claims_in(cluster, namespace).await?;
    if claims.is_empty() {
        return Ok(());
    }
    Err(DeleteError::DataHeld {
        tenant: tenant.into(),
        namespace: namespace.into(),
        claims,
    })
}

/// The PersistentVolumeClaims in `namespace`.
async fn claims_in(cluster: &Cluster, namespace: &str) -> Result<Vec<String>, DeleteError> {
    Ok(names(
        &list(cluster, Kind::of::<PersistentVolumeClaim>(), namespace, "").await?,
    ))
}

/// Deletes the RoleBindings, then the ServiceAccounts, `selector` selects in `scope` (a
/// namespace; every namespace when empty).
async fn revoke(
    cluster: &Cluster,
    selector: &str,
    scope: &str,
    report: &mut DeleteReport,
) -> Result<(), DeleteError> {
    for kind in [Kind::of::<RoleBinding>(), Kind::of::<ServiceAccount>()] {
        for object in list(cluster, kind, scope, selector).await? {
            let namespace = object["metadata"]["namespace"].as_str().unwrap_or_default();
            let name = object["metadata"]["name"].as_str().unwrap_or_default();
            cluster
                .delete(kind, namespace, name, false)
                .await
                .map_err(InterpretError::from)?;
            report
                .revoked
                .push(format!("{} {namespace}/{name}", kind.name()));
        }
    }
    Ok(())
}

/// Deletes the tenant's backup Schedules and namespaces, waits for them to go, then deletes the
/// tenant's ClusterResourceQuota (OKD). Access is revoked before.
async fn remove(
    cluster: &Cluster,
    selector: &str,
    namespaces: &[String],
    timeout: Duration,
) -> Result<(), DeleteError> {
    remove_schedules(cluster, selector).await?;
    for namespace in namespaces {
        cluster
            .delete(Kind::of::<Namespace>(), "", namespace, false)
            .await
            .map_err(InterpretError::from)?;
        wait_until_gone(cluster, namespace, timeout).await?;
    }
    let quota = Kind::of::<ClusterResourceQuota>();
    let quotas = match cluster.list(quota, "", selector).await {
        Err(failure) if failure.kind == FailureKind::NotFound => Vec::new(),
        listed => listed.map_err(InterpretError::from)?,
    };
    for name in names(&quotas) {
        cluster
            .delete(quota, "", &name, false)
            .await
            .map_err(InterpretError::from)?;
    }
    Ok(())
}

/// Deletes the tenant's backup Schedule (in Velero's namespace), where Velero runs; its Backups
/// stay until their retention ends. Schedules are listed in every namespace or, without that
/// right (the operator's is a Role in Velero's namespace), in the one discovery names.
async fn remove_schedules(cluster: &Cluster, selector: &str) -> Result<(), DeleteError> {
    let served = cluster
        .api_group_versions()
        .await
        .map_err(InterpretError::from)?;
    let Some(velero) = velero_namespace(&served) else {
        return Ok(());
    };
    let schedule = Kind::of::<Schedule>();
    let schedules = match cluster.list(schedule, "", selector).await {
        Ok(schedules) => schedules,
        Err(failure) if failure.kind == FailureKind::Forbidden => {
            match cluster.list(schedule, &velero, selector).await {
                Ok(schedules) => schedules,
                Err(failure) if failure.kind == FailureKind::Forbidden => {
                    tracing::warn!("not deleting backup Schedules: {failure}");
                    return Ok(());
                }
                Err(failure) => return Err(InterpretError::from(failure).into()),
            }
        }
        Err(failure) => return Err(InterpretError::from(failure).into()),
    };
    for object in schedules {
        let namespace = object["metadata"]["namespace"].as_str().unwrap_or_default();
        let name = object["metadata"]["name"].as_str().unwrap_or_default();
        cluster
            .delete(schedule, namespace, name, false)
            .await
            .map_err(InterpretError::from)?;
    }
    Ok(())
}

async fn list(
    cluster: &Cluster,
    kind: Kind,
    namespace: &str,
    selector: &str,
) -> Result<Vec<Value>, DeleteError> {
    Ok(cluster
        .list(kind, namespace, selector)
        .await
        .map_err(InterpretError::from)?)
}

/// Polls the namespace until it is gone; on timeout, says what holds it.
async fn wait_until_gone(
    cluster: &Cluster,
    namespace: &str,
    timeout: Duration,
) -> Result<(), DeleteError> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(50);
    loop {
        let Some(live) = cluster
            .get(Kind::of::<Namespace>(), "", namespace)
            .await
            .map_err(InterpretError::from)?
        else {
            return Ok(());
        };
        if started.elapsed() >= timeout {
            return Err(stuck(namespace, &live, timeout));
        }
        tokio::time::sleep(pause.min(timeout.saturating_sub(started.elapsed()))).await;
        pause = (pause * 2).min(Duration::from_secs(2));
    }
}

fn stuck(namespace: &str, live: &Value, waited: Duration) -> DeleteError {
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
    DeleteError::StillTerminating {
        namespace: namespace.into(),
        waited,
        finalizers,
        conditions,
    }
}
