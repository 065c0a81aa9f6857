//! The pure guardrails compiler: `ClusterGuardrailsScore + ClusterFacts + tenants ->
//! GuardrailsPlan`.

mod network;
mod okd;

#[cfg(test)]
mod tests;

use harmony_tenant::{ClusterFacts, ClusterFlavor, TenantScore};

use crate::admission;
use crate::plan::{Finding, GuardrailObject, GuardrailsPlan, Severity};
use crate::score::ClusterGuardrailsScore;

pub use okd::AUTOUPDATE_ANNOTATION;

/// Compiles validated guardrails for the cluster described by `facts` and its (validated)
/// `tenants`.
///
/// Pure and deterministic. The plan holds, in apply order: the ValidatingAdmissionPolicies and
/// their bindings (two for the storage, placement and images rules, which read each tenant's
/// parameter ConfigMap, carried by its tenant plan); with network tiers on (OKD by default), the
/// BaselineAdminNetworkPolicy `default` and one AdminNetworkPolicy per tenant
/// within OVN-Kubernetes' priorities; with OKD hardening on, the `self-provisioners`
/// ClusterRoleBinding. Findings say what is left open or reported only.
pub fn compile_guardrails(
    score: &ClusterGuardrailsScore,
    facts: &ClusterFacts,
    tenants: &[TenantScore],
) -> GuardrailsPlan {
    let mut objects = Vec::new();
    for rule in admission::rules(score, facts) {
        objects.push(GuardrailObject::ValidatingAdmissionPolicy(rule.policy));
        objects.extend(
            rule.bindings
                .into_iter()
                .map(GuardrailObject::ValidatingAdmissionPolicyBinding),
        );
    }
    let mut findings = Vec::new();
    if score.network_tiers.resolve(facts.flavor) {
        let (tiers, gaps) = network::tiers(score, tenants);
        objects.extend(tiers);
        findings.extend(gaps);
    } else {
        findings.push(Finding {
            id: "network-tiers-off",
            severity: Severity::Info,
            message: "network tiers are off (no AdminNetworkPolicy API expected on this cluster): isolation between tenants rests on each tenant's NetworkPolicies; \
                      Harmony's own are protected from tenant changes, but a tenant admin can add a NetworkPolicy that lets other tenants in. \
                      Turn networkTiers on for OVN-Kubernetes clusters (OKD 4.16 and later)."
                .into(),
        });
    }
    if facts.flavor == ClusterFlavor::Okd {
        if score.okd_hardening.resolve(facts.flavor) {
            objects.push(GuardrailObject::ClusterRoleBinding(okd::self_provisioners(
                score,
            )));
        }
        findings.push(okd::basic_user_finding());
    }
    GuardrailsPlan::new(&score.name, objects, findings)
}
