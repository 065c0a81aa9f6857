//! Cluster guardrails: what tenants cannot override.
//!
//! A [`ClusterGuardrailsScore`] compiles (purely, see [`compile_guardrails`]) to a
//! [`GuardrailsPlan`]:
//! - ValidatingAdmissionPolicies and their bindings, evaluated by the API server itself (no
//!   webhook whose outage locks the cluster), scoped to tenant namespaces except the rule that
//!   protects the tenant labels themselves; they read each tenant's parameters from the ConfigMap
//!   its tenant plan carries ([`harmony_tenant::tenant_parameters`]);
//! - network tiers on OVN-Kubernetes: the BaselineAdminNetworkPolicy `default` and one
//!   AdminNetworkPolicy per tenant;
//! - OKD hardening (no project self-provisioning), and findings reported, not changed.
//!
//! [`audit_policy::audit_policy`] renders the API server's audit policy that records tenant
//! activity (a Policy file on Kubernetes, the APIServer's `spec.audit` on OKD).
//!
//! [`monitoring`] compiles the cluster side of per-tenant monitoring: OKD's user-workload
//! monitoring turned on, or on vanilla prometheus-operator a shared namespace-enforcing
//! Prometheus, Alertmanager, the tenant read path and the tenant monitoring ClusterRoles.
//!
//! [`identity`] renders how the API server trusts the identity provider's tokens (OIDC single
//! sign-on): Kubernetes' structured AuthenticationConfiguration, OKD's OAuth OpenID provider.
//!
//! [`GuardrailsScore`] ensures them on any topology with the [`GuardrailsManager`] capability;
//! [`guardrails_present`] tells the isolation audit which guardrails a set of objects holds.

mod admission;
pub mod audit_policy;
mod compile;
pub mod crd;
mod guardrail;
pub mod identity;
mod manager;
pub mod monitoring;
mod plan;
mod presence;
mod score;

pub use compile::{AUTOUPDATE_ANNOTATION, compile_guardrails};
pub use guardrail::GuardrailId;
pub use manager::{GuardrailsFacts, GuardrailsManager, GuardrailsScore, network_tiers_on};
pub use plan::{Finding, GuardrailObject, GuardrailsPlan, Severity};
pub use presence::{guardrails_present, tenant_network_tier_present};
pub use score::{
    ClusterGuardrailsScore, DEFAULT_FIRST_PRIORITY, DEFAULT_HARMONY_IDENTITY, GUARDRAILS_KIND,
    OVN_MAX_PRIORITY, Toggle,
};
