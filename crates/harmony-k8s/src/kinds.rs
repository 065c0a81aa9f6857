//! The kinds Harmony manages in a tenant, and where the API serves them.

use harmony_tenant::TenantObject;
use kube::core::{ApiResource, GroupVersionKind};

/// A kind of object a tenant plan holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `v1` Namespace (cluster-scoped).
    Namespace,
    /// `v1` ResourceQuota.
    ResourceQuota,
    /// `v1` LimitRange.
    LimitRange,
    /// `v1` ConfigMap (the guardrail parameters).
    ConfigMap,
    /// `networking.k8s.io/v1` NetworkPolicy.
    NetworkPolicy,
    /// `rbac.authorization.k8s.io/v1` Role.
    Role,
    /// `v1` ServiceAccount.
    ServiceAccount,
    /// `rbac.authorization.k8s.io/v1` RoleBinding.
    RoleBinding,
}

impl Kind {
    /// Every managed kind, in apply order.
    pub const ALL: [Kind; 8] = [
        Self::Namespace,
        Self::ResourceQuota,
        Self::LimitRange,
        Self::ConfigMap,
        Self::NetworkPolicy,
        Self::Role,
        Self::ServiceAccount,
        Self::RoleBinding,
    ];

    /// The kind of a plan object.
    pub fn of(object: &TenantObject) -> Self {
        match object {
            TenantObject::Namespace(_) => Self::Namespace,
            TenantObject::ResourceQuota(_) => Self::ResourceQuota,
            TenantObject::LimitRange(_) => Self::LimitRange,
            TenantObject::ConfigMap(_) => Self::ConfigMap,
            TenantObject::NetworkPolicy(_) => Self::NetworkPolicy,
            TenantObject::Role(_) => Self::Role,
            TenantObject::ServiceAccount(_) => Self::ServiceAccount,
            TenantObject::RoleBinding(_) => Self::RoleBinding,
        }
    }

    /// `(group, version, kind, plural)`.
    fn gvkp(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            Self::Namespace => ("", "v1", "Namespace", "namespaces"),
            Self::ResourceQuota => ("", "v1", "ResourceQuota", "resourcequotas"),
            Self::LimitRange => ("", "v1", "LimitRange", "limitranges"),
            Self::ConfigMap => ("", "v1", "ConfigMap", "configmaps"),
            Self::NetworkPolicy => (
                "networking.k8s.io",
                "v1",
                "NetworkPolicy",
                "networkpolicies",
            ),
            Self::Role => ("rbac.authorization.k8s.io", "v1", "Role", "roles"),
            Self::ServiceAccount => ("", "v1", "ServiceAccount", "serviceaccounts"),
            Self::RoleBinding => (
                "rbac.authorization.k8s.io",
                "v1",
                "RoleBinding",
                "rolebindings",
            ),
        }
    }

    /// The Kubernetes kind, such as `NetworkPolicy`.
    pub fn name(self) -> &'static str {
        self.gvkp().2
    }

    /// The resource as the API server names it in messages: `rolebindings.rbac.authorization.k8s.io`.
    pub fn resource(self) -> String {
        let (group, _, _, plural) = self.gvkp();
        if group.is_empty() {
            plural.to_string()
        } else {
            format!("{plural}.{group}")
        }
    }

    /// Where the API serves this kind.
    pub fn api_resource(self) -> ApiResource {
        let (group, version, kind, plural) = self.gvkp();
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural)
    }

    /// Whether objects of this kind live in a namespace.
    pub fn namespaced(self) -> bool {
        self != Self::Namespace
    }
}

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

impl ObjectRef {
    /// The reference of a plan object.
    pub fn of(object: &TenantObject) -> Self {
        Self {
            kind: Kind::of(object),
            namespace: object.namespace().unwrap_or_default().to_string(),
            name: object.name().to_string(),
        }
    }
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
