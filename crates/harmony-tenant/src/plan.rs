//! `TenantPlan`: the Kubernetes objects a tenant compiles to, in isolate-before-grant phases.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ConfigMap, LimitRange, Namespace, ResourceQuota, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

use crate::backup::crd::Schedule;
use crate::cluster_quota::ClusterResourceQuota;
use crate::monitoring::crd::{AlertmanagerConfig, PrometheusRule};

/// Label every object Harmony manages carries, with value [`MANAGED_BY_VALUE`].
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// Value of [`MANAGED_BY_LABEL`].
pub const MANAGED_BY_VALUE: &str = "harmony";
/// Label naming the tenant an object belongs to.
pub const TENANT_LABEL: &str = "harmony.nationtech.io/tenant";
/// Label of a namespace a tenant admin asked for (value `"true"`): a plan that does not hold it
/// (`harmony tenant apply` of the tenant file) leaves it and its objects alone.
pub const SELF_SERVICE_LABEL: &str = "harmony.nationtech.io/self-service";
/// Annotation of a self-service namespace naming its `NamespaceRequest` (`namespace/name`).
pub const REQUEST_ANNOTATION: &str = "harmony.nationtech.io/namespace-request";

/// Apply order. Access is granted only after isolation is in place; removal runs in reverse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// The namespace, with its pod-security labels.
    Namespace,
    /// NetworkPolicies.
    NetworkPolicies,
    /// The tenant's alerting rules and alert routing (they grant nothing).
    Monitoring,
    /// The backup Schedule, in Velero's namespace (it grants nothing).
    Backup,
    /// Namespaced Roles (they grant nothing until bound).
    Roles,
    /// ServiceAccounts of `serviceAccount: true` members.
    ServiceAccounts,
    /// ResourceQuotas, LimitRanges, the guardrail parameters ConfigMap and, on OKD for a tenant
    /// listing its namespaces, the ClusterResourceQuota of the tenant's total: last before the
    /// grants. The quota admission charges each object the quota counts (Roles, ServiceAccounts,
    /// ConfigMaps) created once the quota controller has filled the quota's status, with a write
    /// of that status each; those created before it are counted by the controller at once.
    Quotas,
    /// RoleBindings: the first phase that grants access.
    RoleBindings,
}

impl Phase {
    /// Two-digit prefix of manifest file names, so that a sorted folder is in apply order.
    pub fn ordinal(self) -> u8 {
        match self {
            Self::Namespace => 10,
            Self::NetworkPolicies => 30,
            Self::Monitoring => 35,
            Self::Backup => 38,
            Self::Roles => 40,
            Self::ServiceAccounts => 50,
            Self::Quotas => 55,
            Self::RoleBindings => 60,
        }
    }

    /// Whether objects of this phase grant access to someone.
    pub fn grants_access(self) -> bool {
        matches!(self, Self::RoleBindings)
    }
}

/// One object of a tenant plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
#[allow(missing_docs)] // each variant is the Kubernetes kind of the same name
pub enum TenantObject {
    Namespace(Namespace),
    ResourceQuota(ResourceQuota),
    LimitRange(LimitRange),
    ConfigMap(ConfigMap),
    NetworkPolicy(NetworkPolicy),
    Role(Role),
    ServiceAccount(ServiceAccount),
    RoleBinding(RoleBinding),
    PrometheusRule(PrometheusRule),
    AlertmanagerConfig(AlertmanagerConfig),
    ClusterResourceQuota(ClusterResourceQuota),
    Schedule(Schedule),
}

/// An object of a plan (a tenant's, the cluster guardrails', the cluster monitoring's): its
/// metadata, and what is read from it.
pub trait PlanObject: Serialize {
    /// The object's metadata.
    fn metadata(&self) -> &ObjectMeta;

    /// The object's name.
    fn name(&self) -> &str {
        self.metadata().name.as_deref().unwrap_or_default()
    }

    /// The object's namespace (`None` for cluster-scoped objects).
    fn namespace(&self) -> Option<&str> {
        self.metadata().namespace.as_deref()
    }

    /// The object as JSON, with `apiVersion` and `kind`.
    fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("Kubernetes objects always serialize")
    }
}

impl PlanObject for TenantObject {
    fn metadata(&self) -> &ObjectMeta {
        match self {
            Self::Namespace(o) => &o.metadata,
            Self::ResourceQuota(o) => &o.metadata,
            Self::LimitRange(o) => &o.metadata,
            Self::ConfigMap(o) => &o.metadata,
            Self::NetworkPolicy(o) => &o.metadata,
            Self::Role(o) => &o.metadata,
            Self::ServiceAccount(o) => &o.metadata,
            Self::RoleBinding(o) => &o.metadata,
            Self::PrometheusRule(o) => &o.metadata,
            Self::AlertmanagerConfig(o) => &o.metadata,
            Self::ClusterResourceQuota(o) => &o.metadata,
            Self::Schedule(o) => &o.metadata,
        }
    }
}

impl TenantObject {
    /// The Kubernetes kind, such as `NetworkPolicy`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Namespace(_) => "Namespace",
            Self::ResourceQuota(_) => "ResourceQuota",
            Self::LimitRange(_) => "LimitRange",
            Self::ConfigMap(_) => "ConfigMap",
            Self::NetworkPolicy(_) => "NetworkPolicy",
            Self::Role(_) => "Role",
            Self::ServiceAccount(_) => "ServiceAccount",
            Self::RoleBinding(_) => "RoleBinding",
            Self::PrometheusRule(_) => "PrometheusRule",
            Self::AlertmanagerConfig(_) => "AlertmanagerConfig",
            Self::ClusterResourceQuota(_) => "ClusterResourceQuota",
            Self::Schedule(_) => "Schedule",
        }
    }

    /// The phase the object is applied in.
    pub fn phase(&self) -> Phase {
        match self {
            Self::Namespace(_) => Phase::Namespace,
            Self::ResourceQuota(_)
            | Self::LimitRange(_)
            | Self::ConfigMap(_)
            | Self::ClusterResourceQuota(_) => Phase::Quotas,
            Self::NetworkPolicy(_) => Phase::NetworkPolicies,
            Self::Role(_) => Phase::Roles,
            Self::ServiceAccount(_) => Phase::ServiceAccounts,
            Self::RoleBinding(_) => Phase::RoleBindings,
            Self::PrometheusRule(_) | Self::AlertmanagerConfig(_) => Phase::Monitoring,
            Self::Schedule(_) => Phase::Backup,
        }
    }

    /// Sort key: phase, kind, namespace, name.
    fn sort_key(&self) -> (Phase, &'static str, Option<&str>, &str) {
        (self.phase(), self.kind(), self.namespace(), self.name())
    }
}

/// Every object one tenant compiles to, sorted by phase, kind and name.
#[derive(Debug, Clone, PartialEq)]
pub struct TenantPlan {
    /// The tenant id.
    pub tenant: String,
    /// The tenant's default namespace (the first of `namespaces`).
    pub namespace: String,
    /// Every namespace of the tenant, the default one first.
    pub namespaces: Vec<String>,
    /// Whether the monitoring objects are in the plan, and if not, why.
    pub monitoring: MonitoringStatus,
    /// Whether the backup Schedule is in the plan, and if not, why.
    pub backup: BackupStatus,
    /// Why each of the tenant's one-sided connection declarations is not rendered.
    pub unmatched_connections: Vec<String>,
    /// The namespaces the tenant may take over when they exist without Harmony's labels
    /// (`spec.adoptNamespaces`).
    pub adopt_namespaces: Vec<String>,
    objects: Vec<TenantObject>,
}

/// Whether a plan holds the tenant's monitoring objects, and if not, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MonitoringStatus {
    /// The plan holds them.
    On,
    /// The tenant file sets `spec.monitoring.enabled: false`.
    Disabled,
    /// The cluster does not serve `monitoring.coreos.com` (the prometheus-operator API).
    NotServed,
}

impl MonitoringStatus {
    /// One line for people: on, or off and why.
    pub fn describe(self) -> &'static str {
        match self {
            Self::On => "on",
            Self::Disabled => "off: the tenant file sets spec.monitoring.enabled: false",
            Self::NotServed => {
                "off: the cluster does not serve monitoring.coreos.com (no prometheus-operator \
                 or OKD monitoring; in a cluster profile, set spec.monitoringApi: true)"
            }
        }
    }
}

/// Whether a plan holds the tenant's backup Schedule, and if not, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BackupStatus {
    /// The plan holds it.
    On,
    /// The tenant file sets `spec.backup.enabled: false`.
    Disabled,
    /// The cluster does not serve `velero.io` (no Velero, no OADP).
    NotServed,
}

impl BackupStatus {
    /// One line for people: on, or off and why.
    pub fn describe(self) -> &'static str {
        match self {
            Self::On => "on",
            Self::Disabled => "off: the tenant file sets spec.backup.enabled: false",
            Self::NotServed => {
                "off: Velero/OADP not found (the cluster does not serve velero.io; in a cluster \
                 profile, set spec.veleroNamespace: velero)"
            }
        }
    }
}

impl TenantPlan {
    /// A plan of tenant `tenant` in `namespaces` (the default one first; at least one) of
    /// `objects`, sorted into apply order.
    pub fn new(
        tenant: String,
        namespaces: Vec<String>,
        (monitoring, backup): (MonitoringStatus, BackupStatus),
        mut objects: Vec<TenantObject>,
    ) -> Self {
        objects.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        Self {
            tenant,
            namespace: namespaces[0].clone(),
            namespaces,
            monitoring,
            backup,
            unmatched_connections: Vec::new(),
            adopt_namespaces: Vec::new(),
            objects,
        }
    }

    /// All objects in apply order.
    pub fn objects(&self) -> &[TenantObject] {
        &self.objects
    }

    /// Objects grouped by phase, in apply order; phases without objects are left out.
    pub fn phases(&self) -> BTreeMap<Phase, Vec<&TenantObject>> {
        let mut phases: BTreeMap<Phase, Vec<&TenantObject>> = BTreeMap::new();
        for object in &self.objects {
            phases.entry(object.phase()).or_default().push(object);
        }
        phases
    }
}

/// The labels every object of `tenant` carries.
pub fn owned_labels(tenant: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (MANAGED_BY_LABEL.to_string(), MANAGED_BY_VALUE.to_string()),
        (TENANT_LABEL.to_string(), tenant.to_string()),
    ])
}
