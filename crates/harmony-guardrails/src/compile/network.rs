//! Network tiers (OVN-Kubernetes AdminNetworkPolicy API): each tenant gets an
//! AdminNetworkPolicy that passes same-tenant traffic to NetworkPolicies and denies every other
//! tenant, whatever NetworkPolicies say; the BaselineAdminNetworkPolicy `default` denies
//! tenant-to-tenant traffic wherever no NetworkPolicy decides (a safety net should a namespace
//! lose Harmony's default-deny policy).
//!
//! Platform traffic (routers, monitoring, DNS) matches no rule, so NetworkPolicies decide it, as
//! if passed. OVN-Kubernetes supports priorities 0–99 only: tenants get one priority each, in
//! name order, from `firstPriority`; the tenants beyond 99 get no AdminNetworkPolicy, and a
//! warning says which and what that leaves.

use harmony_tenant::{TENANT_LABEL, TenantScore, owned_labels};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use crate::admission::{managed_labels, tenant_namespaces};
use crate::crd::{
    Action, AdminNetworkPolicy, AdminNetworkPolicySpec, BASELINE_NAME, BaselineAction,
    BaselineAdminNetworkPolicy, BaselineAdminNetworkPolicySpec, EgressRule, IngressRule,
    NETWORK_POLICY_API_VERSION, Peer, Subject,
};
use crate::guardrail::GuardrailId;
use crate::plan::{Finding, GuardrailObject, Severity};
use crate::score::{ClusterGuardrailsScore, OVN_MAX_PRIORITY};

/// The BANP, one ANP per tenant within OVN-Kubernetes' priorities, and a warning for the rest.
pub(super) fn tiers(
    score: &ClusterGuardrailsScore,
    tenants: &[TenantScore],
) -> (Vec<GuardrailObject>, Vec<Finding>) {
    let mut objects = vec![GuardrailObject::BaselineAdminNetworkPolicy(baseline())];
    let mut sorted: Vec<&TenantScore> = tenants.iter().collect();
    sorted.sort_by_key(|t| t.name());
    let priorities = score.first_priority..=OVN_MAX_PRIORITY;
    let capacity = priorities.clone().count();
    for (tenant, priority) in sorted.iter().zip(priorities) {
        objects.push(GuardrailObject::AdminNetworkPolicy(tenant_policy(
            tenant, priority,
        )));
    }
    let mut findings = Vec::new();
    let overflow: Vec<&str> = sorted.iter().skip(capacity).map(|t| t.name()).collect();
    if !overflow.is_empty() {
        findings.push(Finding {
            id: "anp-capacity",
            severity: Severity::Warning,
            message: format!(
                "{} tenant(s) get no AdminNetworkPolicy: {}. OVN-Kubernetes supports priorities 0–99 and firstPriority {} leaves {capacity}. \
                 Traffic between two of these tenants is decided by their NetworkPolicies only: Harmony's default-deny policies stay (the {} rule protects them), \
                 but a tenant admin who adds a NetworkPolicy can let another of these tenants in; traffic to or from a tenant with an AdminNetworkPolicy is still denied. \
                 Lower firstPriority, or split tenants across clusters.",
                overflow.len(),
                overflow.join(", "),
                score.first_priority,
                GuardrailId::ManagedObjects.object_name(),
            ),
        });
    }
    (objects, findings)
}

/// Every namespace of `tenant`.
fn tenant_selector(tenant: &str) -> LabelSelector {
    LabelSelector {
        match_labels: Some([(TENANT_LABEL.to_string(), tenant.to_string())].into()),
        match_expressions: None,
    }
}

fn peer(namespaces: LabelSelector) -> Vec<Peer> {
    vec![Peer { namespaces }]
}

/// The AdminNetworkPolicy of `tenant`: same tenant passed to NetworkPolicies, other tenants
/// denied both ways (rules are evaluated in order, so the pass comes first).
pub(crate) fn tenant_policy(tenant: &TenantScore, priority: i32) -> AdminNetworkPolicy {
    let name = tenant.name();
    AdminNetworkPolicy {
        api_version: NETWORK_POLICY_API_VERSION.into(),
        kind: "AdminNetworkPolicy".into(),
        metadata: ObjectMeta {
            name: Some(format!(
                "{}{name}",
                GuardrailId::TenantNetworkTier.object_name()
            )),
            labels: Some(owned_labels(name)),
            ..ObjectMeta::default()
        },
        spec: AdminNetworkPolicySpec {
            priority,
            subject: Subject {
                namespaces: tenant_selector(name),
            },
            ingress: vec![
                IngressRule {
                    name: "pass-same-tenant".into(),
                    action: Action::Pass,
                    from: peer(tenant_selector(name)),
                },
                IngressRule {
                    name: "deny-other-tenants".into(),
                    action: Action::Deny,
                    from: peer(tenant_namespaces()),
                },
            ],
            egress: vec![
                EgressRule {
                    name: "pass-same-tenant".into(),
                    action: Action::Pass,
                    to: peer(tenant_selector(name)),
                },
                EgressRule {
                    name: "deny-other-tenants".into(),
                    action: Action::Deny,
                    to: peer(tenant_namespaces()),
                },
            ],
        },
    }
}

/// The BaselineAdminNetworkPolicy `default`: tenants reach no tenant unless a NetworkPolicy says
/// so (Harmony's same-namespace policies do, for each tenant's own pods).
fn baseline() -> BaselineAdminNetworkPolicy {
    BaselineAdminNetworkPolicy {
        api_version: NETWORK_POLICY_API_VERSION.into(),
        kind: "BaselineAdminNetworkPolicy".into(),
        metadata: ObjectMeta {
            name: Some(BASELINE_NAME.into()),
            labels: Some(managed_labels()),
            ..ObjectMeta::default()
        },
        spec: BaselineAdminNetworkPolicySpec {
            subject: Subject {
                namespaces: tenant_namespaces(),
            },
            ingress: vec![IngressRule {
                name: "deny-from-tenants".into(),
                action: BaselineAction::Deny,
                from: peer(tenant_namespaces()),
            }],
            egress: vec![EgressRule {
                name: "deny-to-tenants".into(),
                action: BaselineAction::Deny,
                to: peer(tenant_namespaces()),
            }],
        },
    }
}
