//! The pure tenant compiler: `TenantScore + ClusterFacts -> TenantPlan`.

mod backup;
mod monitoring;
mod namespace;
mod network;
mod params;
mod quota;
mod rbac;

#[cfg(test)]
mod tests;

pub use backup::backup_spec;
pub(crate) use monitoring::role_binding_count;
pub use monitoring::{ALERTS_NAME, RECEIVERS_NAME};
pub use network::{DEFAULT_DENY_POLICY, SAME_TENANT};
pub use params::{PARAMS_NAME, STORAGE_CLASS_KEY_PREFIX, tenant_parameters};
pub use quota::{STORAGE_CLASS_QUOTA_SUFFIX, cluster_quota_name};
pub use rbac::{NAMESPACE_REQUESTS, namespace_request_verbs};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::facts::ClusterFacts;
use crate::plan::{TenantObject, TenantPlan, owned_labels};
use crate::score::TenantScore;

/// Compiles a validated tenant into the Kubernetes objects that isolate it and grant its members
/// access, for the cluster described by `facts`.
///
/// Pure and deterministic: no I/O, and the same inputs give identical objects. The plan holds the
/// Namespace, the `tenant-quota` ResourceQuota, `tenant-limits` LimitRange and the guardrail
/// parameters ConfigMap `harmony-guardrails` ([`tenant_parameters`]), the NetworkPolicies
/// (deny by default, then same-namespace, DNS, internet, extra CIDRs and platform sources), the
/// `tenant-admin|developer|viewer` Roles, the ServiceAccounts and one `member-<name>` RoleBinding
/// per member. On a cluster that serves the prometheus-operator API, an enabled tenant also gets
/// the monitoring RoleBindings ([`crate::monitoring::MONITORING_ROLES`]), the PrometheusRule
/// [`ALERTS_NAME`] and, with receivers, the AlertmanagerConfig [`RECEIVERS_NAME`]; the plan says
/// when monitoring is off and why. On a cluster that runs Velero, an enabled tenant gets its
/// backup Schedule in Velero's namespace ([`crate::backup`]); the plan says when backups are off. Every object carries [`owned_labels`].
///
/// # Panics
///
/// If the score was not validated: a storage cap that is not a quantity, an `allowEgressTo`
/// entry that is not a CIDR, or a member without exactly one identity.
///
/// A tenant with several namespaces (`spec.namespaces`) gets these objects in each of them, from
/// its [`TenantScore::namespace_scores`], plus the `allow-same-tenant` NetworkPolicy in each when
/// there are several and, on OKD, the ClusterResourceQuota of its total.
///
/// When the tenant may ask for more namespaces ([`TenantScore::allows_self_service_namespaces`]),
/// its roles in each namespace also reach its NamespaceRequests ([`namespace_request_verbs`]).
///
/// Each connection of `facts.connections` the tenant is part of adds its NetworkPolicy in each
/// namespace ([`crate::connections`]); the plan names its declarations that are not rendered.
pub fn compile(score: &TenantScore, facts: &ClusterFacts) -> TenantPlan {
    let views = score.namespace_scores();
    let asks_namespaces = score.allows_self_service_namespaces();
    let mut objects = Vec::new();
    let mut monitoring = None;
    for view in &views {
        let request = score.request_of(view.namespace());
        objects.extend(namespace_objects(view, facts, request, asks_namespaces));
        if views.len() > 1 {
            objects.push(network::same_tenant(view));
        }
        objects.extend(network::connections(view, facts));
        let (status, monitoring_objects) = monitoring::objects(view, facts);
        monitoring.get_or_insert(status);
        objects.extend(monitoring_objects);
    }
    if score.lists_namespaces() {
        objects.extend(quota::cluster_quota(score, facts));
    }
    let (backup, backup_objects) = backup::objects(score, facts);
    objects.extend(backup_objects);
    let mut plan = TenantPlan::new(
        score.name().into(),
        score.namespaces().into_iter().map(String::from).collect(),
        (
            monitoring.expect("a tenant has at least one namespace"),
            backup,
        ),
        objects,
    );
    plan.unmatched_connections = crate::connections::unmatched(score, &facts.connections);
    plan.adopt_namespaces
        .clone_from(&score.tenant_config.adopt_namespaces);
    plan
}

/// The isolation and access objects of a one-namespace tenant (all but monitoring); `request`
/// names the `NamespaceRequest` of a self-service namespace; its roles read (admins also create
/// and delete) NamespaceRequests when `asks_namespaces`.
fn namespace_objects(
    score: &TenantScore,
    facts: &ClusterFacts,
    request: Option<&str>,
    asks_namespaces: bool,
) -> Vec<TenantObject> {
    let mut objects = vec![namespace::namespace(score, facts, request)];
    objects.extend(quota::objects(score, facts));
    objects.push(TenantObject::ConfigMap(tenant_parameters(score)));
    objects.extend(network::policies(score, facts));
    objects.extend(rbac::objects(score, facts, asks_namespaces));
    objects
}

/// Metadata of the tenant's namespaced object `name`.
fn namespaced(score: &TenantScore, name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: Some(score.namespace().into()),
        labels: Some(owned_labels(score.name())),
        ..ObjectMeta::default()
    }
}
