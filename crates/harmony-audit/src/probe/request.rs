//! What a probe sends: a resource, a scope, a verb (every write a dry run), and what each role
//! must get.

use harmony_tenant::TenantRole;
use serde_json::Value;

use super::Expect;

/// A resource the API serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceKind {
    /// API group (empty for the core group).
    pub group: &'static str,
    /// API version.
    pub version: &'static str,
    /// Kind.
    pub kind: &'static str,
    /// Plural resource name.
    pub plural: &'static str,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
}

impl ResourceKind {
    /// `pods` or `rolebindings.rbac.authorization.k8s.io`.
    pub fn display(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// `v1` or `rbac.authorization.k8s.io/v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

pub(super) const fn core(
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
) -> ResourceKind {
    ResourceKind {
        group: "",
        version: "v1",
        kind,
        plural,
        namespaced,
    }
}

pub(super) const fn grouped(
    group: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
) -> ResourceKind {
    ResourceKind {
        group,
        version: "v1",
        kind,
        plural,
        namespaced,
    }
}

pub(super) const RBAC: &str = "rbac.authorization.k8s.io";
pub(super) const POD: ResourceKind = core("Pod", "pods", true);
pub(super) const CONFIG_MAP: ResourceKind = core("ConfigMap", "configmaps", true);
pub(super) const NETWORK_POLICY: ResourceKind = grouped(
    "networking.k8s.io",
    "NetworkPolicy",
    "networkpolicies",
    true,
);
pub(super) const ROLE_BINDING: ResourceKind = grouped(RBAC, "RoleBinding", "rolebindings", true);

/// Where a probe's request goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Cluster scope.
    Cluster,
    /// The tenant's own namespace.
    Own,
    /// Another tenant's namespace.
    Other,
}

/// Which object a request names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Name {
    /// This name.
    Fixed(&'static str),
    /// The tenant's namespace itself.
    OwnNamespace,
    /// The first object (by name) of the resource that Harmony manages in the namespace.
    Managed,
}

/// The request of a probe; every write is a server-side dry run.
#[derive(Debug, Clone, PartialEq)]
pub enum ProbeVerb {
    /// Get one object.
    Get(Name),
    /// List the collection.
    List,
    /// Create this object (its namespace is set by the runner).
    Create(Value),
    /// JSON merge patch of one object.
    Patch(Name, Value),
    /// Delete one object.
    Delete(Name),
}

impl ProbeVerb {
    /// The Kubernetes verb.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Get(_) => "get",
            Self::List => "list",
            Self::Create(_) => "create",
            Self::Patch(..) => "patch",
            Self::Delete(_) => "delete",
        }
    }
}

/// One probe.
#[derive(Debug, Clone)]
pub struct Probe {
    /// Stable id, such as `HMT-PROBE-001`.
    pub id: &'static str,
    /// What is tried.
    pub title: &'static str,
    /// The Multi-Tenancy Benchmark check it follows.
    pub mtb: &'static str,
    /// The resource.
    pub resource: ResourceKind,
    /// Where.
    pub scope: Scope,
    /// The request.
    pub verb: ProbeVerb,
    pub(super) expectation: fn(TenantRole) -> Expect,
    /// Whether only the `restricted` pod security level refuses it (`baseline` allows it).
    pub(super) restricted_only: bool,
}

impl Probe {
    /// This probe, refused by the `restricted` pod security level only.
    pub(super) fn restricted_only(mut self) -> Self {
        self.restricted_only = true;
        self
    }

    /// What an identity of `role` must get.
    pub fn expect(&self, role: TenantRole) -> Expect {
        (self.expectation)(role)
    }

    /// The object a create sends, if any; a claim names `storage_class` (one the tenant may
    /// use), so that only what the probe is about can refuse it.
    pub fn body(&self, storage_class: Option<&str>) -> Option<Value> {
        let ProbeVerb::Create(body) = &self.verb else {
            return None;
        };
        let mut body = body.clone();
        if let (Some(class), "PersistentVolumeClaim") = (storage_class, self.resource.kind) {
            body["spec"]["storageClassName"] = Value::from(class);
        }
        Some(body)
    }

    /// The request for people: `create pods in acme (dry run)`.
    pub fn describe(&self, namespace: &str, other: &str, target: Option<&str>) -> String {
        let mut out = format!("{} {}", self.verb.as_str(), self.resource.display());
        if let Some(name) = target {
            out.push(' ');
            out.push_str(name);
        }
        match self.scope {
            Scope::Cluster => {}
            Scope::Own => out.push_str(&format!(" in {namespace}")),
            Scope::Other => out.push_str(&format!(" in {other}")),
        }
        if !matches!(self.verb, ProbeVerb::Get(_) | ProbeVerb::List) {
            out.push_str(" (dry run)");
        }
        out
    }
}

pub(super) fn block(_: TenantRole) -> Expect {
    Expect::MustBlock
}

pub(super) fn allow(_: TenantRole) -> Expect {
    Expect::MustAllow
}

/// Writers (admin, developer) must be allowed; viewers, who only read, must be blocked.
pub(super) fn allow_writers(role: TenantRole) -> Expect {
    match role {
        TenantRole::Admin | TenantRole::Developer => Expect::MustAllow,
        TenantRole::Viewer => Expect::MustBlock,
    }
}
