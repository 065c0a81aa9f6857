//! `GuardrailsPlan`: the objects the guardrails compile to, in apply order, and the findings to
//! report to people.

use k8s_openapi::Resource;
use k8s_openapi::api::admissionregistration::v1::{
    ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding,
};
use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

use harmony_tenant::PlanObject;

use crate::crd::{AdminNetworkPolicy, BaselineAdminNetworkPolicy};

/// One object of a guardrails plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
#[allow(missing_docs)] // each variant is the Kubernetes kind of the same name
pub enum GuardrailObject {
    ValidatingAdmissionPolicy(ValidatingAdmissionPolicy),
    ValidatingAdmissionPolicyBinding(ValidatingAdmissionPolicyBinding),
    BaselineAdminNetworkPolicy(BaselineAdminNetworkPolicy),
    AdminNetworkPolicy(AdminNetworkPolicy),
    ClusterRoleBinding(ClusterRoleBinding),
}

impl PlanObject for GuardrailObject {
    fn metadata(&self) -> &ObjectMeta {
        match self {
            Self::ValidatingAdmissionPolicy(o) => &o.metadata,
            Self::ValidatingAdmissionPolicyBinding(o) => &o.metadata,
            Self::BaselineAdminNetworkPolicy(o) => &o.metadata,
            Self::AdminNetworkPolicy(o) => &o.metadata,
            Self::ClusterRoleBinding(o) => &o.metadata,
        }
    }
}

impl GuardrailObject {
    /// The Kubernetes kind, such as `ValidatingAdmissionPolicy`.
    pub fn kind(&self) -> &'static str {
        fn of<K: Resource>(_: &K) -> &'static str {
            K::KIND
        }
        match self {
            Self::ValidatingAdmissionPolicy(o) => of(o),
            Self::ValidatingAdmissionPolicyBinding(o) => of(o),
            Self::BaselineAdminNetworkPolicy(o) => of(o),
            Self::AdminNetworkPolicy(o) => of(o),
            Self::ClusterRoleBinding(o) => of(o),
        }
    }

    /// Two-digit apply rank, also the prefix of manifest file names.
    ///
    /// Policies before their bindings (a binding to a missing policy is ignored), then network
    /// tiers and OKD hardening. The parameters the bindings read come with each tenant's plan.
    pub fn ordinal(&self) -> u8 {
        match self {
            Self::ValidatingAdmissionPolicy(_) => 20,
            Self::ValidatingAdmissionPolicyBinding(_) => 30,
            Self::BaselineAdminNetworkPolicy(_) => 40,
            Self::AdminNetworkPolicy(_) => 41,
            Self::ClusterRoleBinding(_) => 50,
        }
    }

    fn sort_key(&self) -> (u8, &str, &str) {
        (
            self.ordinal(),
            self.namespace().unwrap_or_default(),
            self.name(),
        )
    }
}

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; nothing to do.
    Info,
    /// A gap the guardrails leave open: read what it says and decide.
    Warning,
}

/// Something the compiler reports rather than changes, such as a permission OKD grants to every
/// user, or tenants left without an AdminNetworkPolicy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// A stable identifier, such as `okd-basic-user`.
    pub id: &'static str,
    /// How much it matters.
    pub severity: Severity,
    /// What it is, why it matters and what to do.
    pub message: String,
}

/// `note: <id>: <message>` or `warning: <id>: <message>`.
impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let severity = match self.severity {
            Severity::Info => "note",
            Severity::Warning => "warning",
        };
        write!(f, "{severity}: {}: {}", self.id, self.message)
    }
}

/// Every object the guardrails compile to, sorted in apply order, and the findings.
#[derive(Debug, Clone, PartialEq)]
pub struct GuardrailsPlan {
    /// The guardrails it was compiled from (their `metadata.name`), named in rendered files.
    pub name: String,
    objects: Vec<GuardrailObject>,
    /// What to tell people: gaps and permissions left as they are.
    pub findings: Vec<Finding>,
}

impl GuardrailsPlan {
    /// The plan of guardrails `name`: `objects` (sorted into apply order) and `findings`.
    pub fn new(
        name: impl Into<String>,
        mut objects: Vec<GuardrailObject>,
        findings: Vec<Finding>,
    ) -> Self {
        objects.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        Self {
            name: name.into(),
            objects,
            findings,
        }
    }

    /// All objects in apply order.
    pub fn objects(&self) -> &[GuardrailObject] {
        &self.objects
    }
}
