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

use harmony_tenant::connections::{MatchedConnection, matched_connections};
use harmony_tenant::{TENANT_LABEL, TenantScore, owned_labels};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use crate::admission::{managed_labels, tenant_namespaces};
use crate::crd::{
    AdminNetworkPolicy, AdminNetworkPolicySpec, AdminPeer, AdminRule, AdminSubject, BASELINE_NAME,
    BaselineAdminNetworkPolicy, BaselineAdminNetworkPolicySpec, RuleAction,
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
    let connections = matched_connections(tenants);
    for (tenant, priority) in sorted.iter().zip(priorities) {
        objects.push(GuardrailObject::AdminNetworkPolicy(tenant_policy(
            tenant,
            priority,
            &connections,
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

/// Every pod of the namespaces `namespaces` selects.
fn subject(namespaces: LabelSelector) -> AdminSubject {
    AdminSubject {
        namespaces: Some(namespaces),
        pods: None,
    }
}

/// A rule for traffic from the namespaces `namespaces` selects.
fn ingress(name: &str, action: RuleAction, namespaces: LabelSelector) -> AdminRule {
    AdminRule {
        name: name.into(),
        action,
        from: Some(peer(namespaces)),
        to: None,
        ports: None,
    }
}

/// A rule for traffic to the namespaces `namespaces` selects.
fn egress(name: &str, action: RuleAction, namespaces: LabelSelector) -> AdminRule {
    AdminRule {
        name: name.into(),
        action,
        from: None,
        to: Some(peer(namespaces)),
        ports: None,
    }
}

fn peer(namespaces: LabelSelector) -> Vec<AdminPeer> {
    vec![AdminPeer {
        namespaces: Some(namespaces),
        ..AdminPeer::default()
    }]
}

/// The AdminNetworkPolicy of `tenant`: same tenant passed to NetworkPolicies, other tenants
/// denied both ways (rules are evaluated in order, so the passes come first).
///
/// Each two-sided connection of `tenant` (`connections`) passes the other tenant's namespaces
/// too, in its direction only, before the deny: the connection's paired NetworkPolicies then
/// decide, letting in exactly its pods and ports (an `Allow` would skip them and open every pod
/// and port).
pub(crate) fn tenant_policy(
    tenant: &TenantScore,
    priority: i32,
    connections: &[MatchedConnection],
) -> AdminNetworkPolicy {
    let name = tenant.name();
    let mut ingress_rules = vec![ingress(
        "pass-same-tenant",
        RuleAction::Pass,
        tenant_selector(name),
    )];
    let mut egress_rules = vec![egress(
        "pass-same-tenant",
        RuleAction::Pass,
        tenant_selector(name),
    )];
    for connection in connections {
        if connection.caller == name {
            egress_rules.push(egress(
                &format!("pass-connection-to-{}", connection.callee),
                RuleAction::Pass,
                tenant_selector(&connection.callee),
            ));
        }
        if connection.callee == name {
            ingress_rules.push(ingress(
                &format!("pass-connection-from-{}", connection.caller),
                RuleAction::Pass,
                tenant_selector(&connection.caller),
            ));
        }
    }
    ingress_rules.push(ingress(
        "deny-other-tenants",
        RuleAction::Deny,
        tenant_namespaces(),
    ));
    egress_rules.push(egress(
        "deny-other-tenants",
        RuleAction::Deny,
        tenant_namespaces(),
    ));
    AdminNetworkPolicy {
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
            subject: subject(tenant_selector(name)),
            ingress: ingress_rules,
            egress: egress_rules,
        },
    }
}

/// The BaselineAdminNetworkPolicy `default`: tenants reach no tenant unless a NetworkPolicy says
/// so (Harmony's same-namespace policies do, for each tenant's own pods).
fn baseline() -> BaselineAdminNetworkPolicy {
    BaselineAdminNetworkPolicy {
        metadata: ObjectMeta {
            name: Some(BASELINE_NAME.into()),
            labels: Some(managed_labels()),
            ..ObjectMeta::default()
        },
        spec: BaselineAdminNetworkPolicySpec {
            subject: subject(tenant_namespaces()),
            ingress: vec![ingress(
                "deny-from-tenants",
                RuleAction::Deny,
                tenant_namespaces(),
            )],
            egress: vec![egress(
                "deny-to-tenants",
                RuleAction::Deny,
                tenant_namespaces(),
            )],
        },
    }
}
