//! The one kind table: where the API serves each kind Harmony reads or writes.
//!
//! A kind with a k8s-openapi type is [`Kind::of`] that type: its group, version, kind, plural and
//! scope are k8s-openapi's [`Resource`] constants, never strings written here. So are the admin
//! network policies and prometheus-operator's Prometheus and Alertmanager (CRDs), whose models
//! (`harmony_guardrails::crd`, `harmony_guardrails::monitoring::crd`) implement [`Resource`]. The
//! kinds without a Rust model are the constants below, each written once: OKD's own kinds.

use harmony_guardrails::crd::{AdminNetworkPolicy, BaselineAdminNetworkPolicy};
use harmony_guardrails::monitoring::{Alertmanager, Prometheus};
use k8s_openapi::{ClusterResourceScope, NamespaceResourceScope, Resource};
use kube::core::{ApiResource, GroupVersionKind};

/// A kind of object and where the API serves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Kind {
    group: &'static str,
    version: &'static str,
    name: &'static str,
    plural: &'static str,
    namespaced: bool,
}

/// Whether objects of a k8s-openapi scope live in a namespace.
pub trait Scope {
    /// `true` for namespaced kinds, `false` for cluster-scoped ones.
    const NAMESPACED: bool;
}

impl Scope for NamespaceResourceScope {
    const NAMESPACED: bool = true;
}

impl Scope for ClusterResourceScope {
    const NAMESPACED: bool = false;
}

impl Kind {
    /// The kind of the k8s-openapi type `K`, such as `Kind::of::<NetworkPolicy>()`.
    pub const fn of<K>() -> Self
    where
        K: Resource,
        K::Scope: Scope,
    {
        Self {
            group: K::GROUP,
            version: K::VERSION,
            name: K::KIND,
            plural: K::URL_PATH_SEGMENT,
            namespaced: <K::Scope as Scope>::NAMESPACED,
        }
    }

    /// The API group, empty for the core group.
    pub const fn group(self) -> &'static str {
        self.group
    }

    /// The API version, such as `v1`.
    pub const fn version(self) -> &'static str {
        self.version
    }

    /// The Kubernetes kind, such as `NetworkPolicy`.
    pub const fn name(self) -> &'static str {
        self.name
    }

    /// The plural resource name, such as `networkpolicies`.
    pub const fn plural(self) -> &'static str {
        self.plural
    }

    /// Whether objects of this kind live in a namespace.
    pub const fn namespaced(self) -> bool {
        self.namespaced
    }

    /// `rbac.authorization.k8s.io/v1`, or `v1` for the core group, as in an object's `apiVersion`.
    pub fn api_version(self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The resource as the API server names it in messages and RBAC rules:
    /// `rolebindings.rbac.authorization.k8s.io`.
    pub fn resource(self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// Where the API serves this kind, for kube's dynamic API.
    pub fn api_resource(self) -> ApiResource {
        ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk(self.group, self.version, self.name),
            self.plural,
        )
    }
}

/// `policy.networking.k8s.io/v1alpha1` AdminNetworkPolicy (cluster-scoped, a CRD); a cluster
/// that serves its group supports network tiers.
pub const ADMIN_NETWORK_POLICY: Kind = Kind::of::<AdminNetworkPolicy>();

/// `policy.networking.k8s.io/v1alpha1` BaselineAdminNetworkPolicy (cluster-scoped, a CRD).
pub const BASELINE_ADMIN_NETWORK_POLICY: Kind = Kind::of::<BaselineAdminNetworkPolicy>();

/// prometheus-operator's `monitoring.coreos.com/v1` Prometheus (namespaced, a CRD).
pub const PROMETHEUS: Kind = Kind::of::<Prometheus>();

/// prometheus-operator's `monitoring.coreos.com/v1` Alertmanager (namespaced, a CRD).
pub const ALERTMANAGER: Kind = Kind::of::<Alertmanager>();

/// OKD's `config.openshift.io/v1` Network: the cluster's pod and service networks. Only OKD
/// serves its group.
pub const OKD_NETWORK: Kind = Kind {
    group: "config.openshift.io",
    version: "v1",
    name: "Network",
    plural: "networks",
    namespaced: false,
};

/// OKD's `route.openshift.io/v1` Route.
pub const OKD_ROUTE: Kind = Kind {
    group: "route.openshift.io",
    version: "v1",
    name: "Route",
    plural: "routes",
    namespaced: true,
};

/// OKD's `project.openshift.io/v1` Project.
pub const OKD_PROJECT: Kind = Kind {
    group: "project.openshift.io",
    version: "v1",
    name: "Project",
    plural: "projects",
    namespaced: false,
};

/// OKD's `security.openshift.io/v1` SecurityContextConstraints.
pub const OKD_SECURITY_CONTEXT_CONSTRAINTS: Kind = Kind {
    group: "security.openshift.io",
    version: "v1",
    name: "SecurityContextConstraints",
    plural: "securitycontextconstraints",
    namespaced: false,
};

/// Harmony's own `harmony.nationtech.io/v1alpha1` Tenant (cluster-scoped, a CRD; its model is
/// `harmony_operator::Tenant`, which this crate cannot name).
pub const TENANT: Kind = Kind {
    group: "harmony.nationtech.io",
    version: "v1alpha1",
    name: "Tenant",
    plural: "tenants",
    namespaced: false,
};

/// Where one object lives: kind, namespace (empty for cluster scope) and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectRef {
    /// The kind.
    pub kind: Kind,
    /// The namespace, empty for cluster-scoped kinds.
    pub namespace: String,
    /// The name.
    pub name: String,
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{} {}", self.kind.name(), self.name)
        } else {
            write!(f, "{} {}/{}", self.kind.name(), self.namespace, self.name)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Namespace, Secret};
    use k8s_openapi::api::rbac::v1::RoleBinding;

    #[test]
    fn kinds_come_from_k8s_openapi() {
        let binding = Kind::of::<RoleBinding>();
        assert_eq!(binding.name(), "RoleBinding");
        assert_eq!(binding.api_version(), "rbac.authorization.k8s.io/v1");
        assert_eq!(binding.resource(), "rolebindings.rbac.authorization.k8s.io");
        assert!(binding.namespaced());
        assert_eq!(Kind::of::<Secret>().resource(), "secrets");
        assert_eq!(Kind::of::<Namespace>().api_version(), "v1");
        assert!(!Kind::of::<Namespace>().namespaced());
    }

    #[test]
    fn api_resources_carry_the_plural() {
        let anp = ADMIN_NETWORK_POLICY.api_resource();
        assert_eq!(anp.api_version, "policy.networking.k8s.io/v1alpha1");
        assert_eq!(anp.plural, "adminnetworkpolicies");
        assert_eq!(
            BASELINE_ADMIN_NETWORK_POLICY.resource(),
            "baselineadminnetworkpolicies.policy.networking.k8s.io"
        );
    }
}
