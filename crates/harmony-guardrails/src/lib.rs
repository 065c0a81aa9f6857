//! Cluster guardrails: what tenants cannot override.
//!
//! A [`ClusterGuardrailsScore`] compiles (purely, see [`compile_guardrails`]) to a
//! [`GuardrailsPlan`]: ValidatingAdmissionPolicies evaluated by the API server itself (no webhook
//! that can lock the cluster when it is down), AdminNetworkPolicies on OVN-Kubernetes, and OKD
//! hardening, plus findings to report to people.

mod score;

pub use score::{
    ClusterGuardrailsScore, DEFAULT_FIRST_PRIORITY, DEFAULT_HARMONY_IDENTITY, GUARDRAILS_KIND, OVN_MAX_PRIORITY,
    Toggle,
};
