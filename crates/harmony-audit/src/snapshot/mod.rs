//! `ClusterSnapshot`: the typed objects an audit reads, from whatever source.
//!
//! Every field is a plain list of k8s-openapi objects, but for pods, cut down to what the audit
//! reads ([`Pod`]): `harmony_k8s::InventoryReader` fills it from a live cluster with `list`
//! calls, the loaders from manifests and tenant plans.

mod by_namespace;
mod platform;
mod pod;
pub(crate) mod trim;

use std::collections::BTreeMap;

use k8s_openapi::api::admissionregistration::v1::{
    ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding,
};
use k8s_openapi::api::core::v1::{LimitRange, Namespace, ResourceQuota, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};

pub use by_namespace::{ByNamespace, Namespaced};
pub use platform::{SYNTHESIZED_ANNOTATION, is_synthesized};
pub use pod::{NamedPort, Pod, PodSpec};

/// The admin network policy tiers, as the guardrails render them.
pub use harmony_guardrails::crd::{
    AdminNetworkPolicy, AdminNetworkPolicySpec, AdminPeer, AdminPort, AdminRule, AdminSubject,
    BaselineAdminNetworkPolicy, BaselineAdminNetworkPolicySpec, PodPeer, PortNumber, PortRange,
    RuleAction,
};

/// The label the API server sets on every namespace to its name.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// The objects an audit reads. Missing kinds are empty lists. Loaded objects keep only the
/// metadata the audit reads (names, namespaces, and the labels of Namespaces, Pods and
/// ClusterRoles), pods only what [`Pod`] holds.
#[derive(Debug, Clone, Default)]
#[allow(missing_docs)] // each field holds the Kubernetes kind of the same name
pub struct ClusterSnapshot {
    pub namespaces: Vec<Namespace>,
    pub pods: Vec<Pod>,
    pub service_accounts: Vec<ServiceAccount>,
    pub roles: Vec<Role>,
    pub cluster_roles: Vec<ClusterRole>,
    pub role_bindings: Vec<RoleBinding>,
    pub cluster_role_bindings: Vec<ClusterRoleBinding>,
    pub network_policies: Vec<NetworkPolicy>,
    pub resource_quotas: Vec<ResourceQuota>,
    pub limit_ranges: Vec<LimitRange>,
    pub services: Vec<Service>,
    pub ingresses: Vec<Ingress>,
    pub admin_network_policies: Vec<AdminNetworkPolicy>,
    pub baseline_admin_network_policies: Vec<BaselineAdminNetworkPolicy>,
    /// The cluster's admission policies, for the guardrail checks; `None` when the source did
    /// not read them (tenant plans only), and the checks then leave guardrails out.
    pub admission_policies: Option<AdmissionPolicies>,
    /// What the loader skipped or synthesized, for the report.
    pub notes: Vec<String>,
}

/// ValidatingAdmissionPolicies and their bindings.
#[derive(Debug, Clone, Default)]
pub struct AdmissionPolicies {
    /// The policies.
    pub policies: Vec<ValidatingAdmissionPolicy>,
    /// The bindings that put them in force.
    pub bindings: Vec<ValidatingAdmissionPolicyBinding>,
}

impl ClusterSnapshot {
    /// Sets `kubernetes.io/metadata.name` on namespaces that lack it, as the API server does.
    pub fn label_namespace_names(&mut self) {
        for ns in &mut self.namespaces {
            let name = ns.metadata.name.clone().unwrap_or_default();
            ns.metadata
                .labels
                .get_or_insert_with(BTreeMap::new)
                .entry(NAMESPACE_NAME_LABEL.to_string())
                .or_insert(name);
        }
    }

    /// The labels of namespace `name`, if it exists.
    pub fn namespace_labels(&self, name: &str) -> Option<&BTreeMap<String, String>> {
        static EMPTY: BTreeMap<String, String> = BTreeMap::new();
        self.namespaces
            .iter()
            .find(|ns| ns.metadata.name.as_deref() == Some(name))
            .map(|ns| ns.metadata.labels.as_ref().unwrap_or(&EMPTY))
    }
}
