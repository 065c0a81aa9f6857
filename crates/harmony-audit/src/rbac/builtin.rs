//! The built-in ClusterRoles `cluster-admin`, `admin`, `edit` and `view`, for sources that bind
//! them without holding them (a rendered folder). A compact approximation of the upstream
//! bootstrap policy (`plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go`): namespaced
//! kinds only, without the `extensions` group and status subresources. `view` reads all but
//! Secrets; `edit` adds Secrets, writes on workloads, services and config, pod exec, attach,
//! port-forward and proxy, service proxy, ServiceAccount tokens and impersonation; `admin` adds
//! the namespace's Roles and RoleBindings; `cluster-admin` may do everything.
//!
//! Also the monitoring ClusterRoles OKD's cluster-monitoring-operator ships: the tenant-facing
//! `monitoring-edit`, `monitoring-rules-edit`, `monitoring-rules-view` and `alert-routing-edit`
//! with the rules Harmony's cluster monitoring renders for prometheus-operator
//! ([`tenant_roles`]; [`harmony_tenant::monitoring::MONITORING_ROLES`] binds three of them), and
//! the cluster-wide
//! `cluster-monitoring-view` (every namespace's metrics, through thanos-querier's port 9091).

use std::sync::LazyLock;

use harmony_guardrails::monitoring::roles::tenant_roles;
use k8s_openapi::api::rbac::v1::PolicyRule;

/// The ClusterRoles this module knows.
pub const BUILT_IN_ROLES: [&str; 9] = [
    "cluster-admin",
    "admin",
    "edit",
    "view",
    "monitoring-edit",
    "monitoring-rules-edit",
    "monitoring-rules-view",
    "alert-routing-edit",
    "cluster-monitoring-view",
];

const READ: &[&str] = &["get", "list", "watch"];
const WRITE: &[&str] = &["create", "delete", "deletecollection", "patch", "update"];
const READ_WRITE: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// API groups, resources, verbs.
type Rule = (
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
);

const VIEW: &[Rule] = &[
    (
        &[""],
        &[
            "bindings",
            "configmaps",
            "endpoints",
            "events",
            "limitranges",
            "namespaces",
            "persistentvolumeclaims",
            "pods",
            "pods/log",
            "replicationcontrollers",
            "replicationcontrollers/scale",
            "resourcequotas",
            "serviceaccounts",
            "services",
        ],
        READ,
    ),
    (
        &["apps"],
        &[
            "controllerrevisions",
            "daemonsets",
            "deployments",
            "deployments/scale",
            "replicasets",
            "replicasets/scale",
            "statefulsets",
            "statefulsets/scale",
        ],
        READ,
    ),
    (&["autoscaling"], &["horizontalpodautoscalers"], READ),
    (&["batch"], &["cronjobs", "jobs"], READ),
    (&["discovery.k8s.io"], &["endpointslices"], READ),
    (
        &["networking.k8s.io"],
        &["ingresses", "networkpolicies"],
        READ,
    ),
    (&["policy"], &["poddisruptionbudgets"], READ),
];

const EDIT: &[Rule] = &[
    (
        &[""],
        &[
            "pods/attach",
            "pods/exec",
            "pods/portforward",
            "pods/proxy",
            "secrets",
            "services/proxy",
        ],
        READ,
    ),
    (&[""], &["serviceaccounts"], &["impersonate"]),
    (
        &[""],
        &[
            "configmaps",
            "events",
            "persistentvolumeclaims",
            "pods",
            "pods/attach",
            "pods/exec",
            "pods/portforward",
            "pods/proxy",
            "replicationcontrollers",
            "replicationcontrollers/scale",
            "secrets",
            "serviceaccounts",
            "services",
            "services/proxy",
        ],
        WRITE,
    ),
    (
        &[""],
        &["pods/eviction", "serviceaccounts/token"],
        &["create"],
    ),
    (
        &["apps"],
        &[
            "daemonsets",
            "deployments",
            "deployments/rollback",
            "deployments/scale",
            "replicasets",
            "replicasets/scale",
            "statefulsets",
            "statefulsets/scale",
        ],
        WRITE,
    ),
    (&["autoscaling"], &["horizontalpodautoscalers"], WRITE),
    (&["batch"], &["cronjobs", "jobs"], WRITE),
    (&["coordination.k8s.io"], &["leases"], READ_WRITE),
    (
        &["networking.k8s.io"],
        &["ingresses", "networkpolicies"],
        WRITE,
    ),
    (&["policy"], &["poddisruptionbudgets"], WRITE),
];

const ADMIN: &[Rule] = &[
    (
        &["authorization.k8s.io"],
        &["localsubjectaccessreviews"],
        &["create"],
    ),
    (
        &["rbac.authorization.k8s.io"],
        &["rolebindings", "roles"],
        READ_WRITE,
    ),
];

const EVERYTHING: &[Rule] = &[(&["*"], &["*"], &["*"])];

const MONITORING: &[&str] = &["monitoring.coreos.com"];

const CLUSTER_MONITORING_VIEW: &[Rule] = &[
    (&[""], &["namespaces"], &["get"]),
    (
        MONITORING,
        &["alertmanagers/api", "prometheuses/api"],
        &["create", "get", "update"],
    ),
];

fn rule((groups, resources, verbs): &Rule) -> PolicyRule {
    let strings = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    PolicyRule {
        api_groups: Some(strings(groups)),
        resources: Some(strings(resources)),
        verbs: strings(verbs),
        ..PolicyRule::default()
    }
}

/// The rules of built-in ClusterRole `name`, if it is one of [`BUILT_IN_ROLES`] (built once).
pub(super) fn built_in_rules(name: &str) -> Option<&'static [PolicyRule]> {
    static RULES: LazyLock<[Vec<PolicyRule>; 9]> = LazyLock::new(|| BUILT_IN_ROLES.map(rules_of));
    let i = BUILT_IN_ROLES.iter().position(|r| *r == name)?;
    Some(&RULES[i])
}

fn rules_of(name: &str) -> Vec<PolicyRule> {
    if let Some(role) = tenant_roles()
        .into_iter()
        .find(|role| role.metadata.name.as_deref() == Some(name))
    {
        return role.rules.unwrap_or_default();
    }
    let parts: &[&[Rule]] = match name {
        "cluster-admin" => &[EVERYTHING],
        "admin" => &[ADMIN, EDIT, VIEW],
        "edit" => &[EDIT, VIEW],
        "cluster-monitoring-view" => &[CLUSTER_MONITORING_VIEW],
        _ => &[VIEW],
    };
    let mut rules: Vec<PolicyRule> = parts.iter().flat_map(|p| p.iter().map(rule)).collect();
    if name == "cluster-admin" {
        rules.push(PolicyRule {
            non_resource_urls: Some(vec!["*".into()]),
            verbs: vec!["*".into()],
            ..PolicyRule::default()
        });
    }
    rules
}
