//! Tenant PodDisruptionBudgets cannot forbid every eviction, which would make node drains (and
//! cluster upgrades) wait forever: no `maxUnavailable` of 0 or 0%, no `minAvailable` of 100%,
//! and no integer `minAvailable` above 0.
//!
//! An integer `minAvailable` forbids every eviction as soon as the workload has that many
//! replicas or fewer (the common `minAvailable: 1` on one replica), and admission cannot see the
//! replica count, so it is refused; `maxUnavailable` says the same thing safely. A percentage
//! below 100% is admitted, although it is rounded up: on very few replicas it may still forbid
//! evictions.

use super::{AdmissionRule, Draft, build, resources, validation};
use crate::guardrail::GuardrailId;

/// What to write instead.
const FIX: &str = "use maxUnavailable: 1 (or more, or a percentage above 0%)";

pub(super) fn rule() -> AdmissionRule {
    let max = "string(object.spec.maxUnavailable)";
    let min = "string(object.spec.minAvailable)";
    build(Draft {
        id: GuardrailId::TenantDisruptionBudgets,
        resources: vec![resources(
            "policy",
            &["poddisruptionbudgets"],
            &["CREATE", "UPDATE"],
        )],
        tenant_namespaces_only: true,
        per_tenant_params: None,
        match_conditions: vec![],
        validations: vec![
            validation(
                format!("!has(object.spec.maxUnavailable) || !{max}.matches('^0+%?$')"),
                format!(
                    "spec.maxUnavailable: 0 forbids every eviction, so draining a node would wait forever: {FIX}"
                ),
            ),
            validation(
                format!("!has(object.spec.minAvailable) || !{min}.matches('^0*100%$')"),
                format!(
                    "spec.minAvailable: 100% forbids every eviction, so draining a node would wait forever: {FIX}"
                ),
            ),
            validation(
                format!(
                    "!has(object.spec.minAvailable) || {min}.endsWith('%') || {min}.matches('^0+$')"
                ),
                format!(
                    "spec.minAvailable: an integer forbids every eviction once the workload has that many replicas or fewer, and admission cannot see the replica count: {FIX}"
                ),
            ),
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::simulator::{Request, Verdict};
    use serde_json::{Value, json};

    fn budget(spec: Value) -> Value {
        let mut spec = spec;
        spec["selector"] = json!({"matchLabels": {"app": "web"}});
        json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
               "metadata": {"name": "web", "namespace": "acme"}, "spec": spec})
    }

    fn create(spec: Value) -> Verdict {
        Request::create("policy", "poddisruptionbudgets", budget(spec))
            .in_tenant_namespace("acme")
            .by("alice@acme.com")
            .admit(&rule())
    }

    #[test]
    fn admits_budgets_that_let_evictions_through() {
        for spec in [
            json!({"maxUnavailable": 1}),
            json!({"maxUnavailable": "10%"}),
            json!({"maxUnavailable": "100%"}),
            json!({"minAvailable": "50%"}),
            json!({"minAvailable": "99%"}),
            json!({"minAvailable": 0}),
            json!({"minAvailable": "0%"}),
        ] {
            assert_eq!(create(spec.clone()), Verdict::Allowed, "{spec}");
        }
    }

    #[test]
    fn refuses_budgets_that_forbid_every_eviction() {
        for (spec, field) in [
            (json!({"maxUnavailable": 0}), "spec.maxUnavailable: 0"),
            (json!({"maxUnavailable": "0%"}), "spec.maxUnavailable: 0"),
            (json!({"maxUnavailable": "00%"}), "spec.maxUnavailable: 0"),
            (json!({"minAvailable": "100%"}), "spec.minAvailable: 100%"),
            (json!({"minAvailable": 1}), "spec.minAvailable: an integer"),
            (json!({"minAvailable": 3}), "spec.minAvailable: an integer"),
        ] {
            let verdict = create(spec.clone());
            assert!(verdict.refused_with(field), "{spec}: {verdict:?}");
            assert!(
                verdict.refused_with("use maxUnavailable: 1"),
                "{spec}: {verdict:?}"
            );
        }
    }

    #[test]
    fn updates_are_judged_and_other_namespaces_are_not() {
        let update = Request::update(
            "policy",
            "poddisruptionbudgets",
            budget(json!({"maxUnavailable": 1})),
            budget(json!({"maxUnavailable": 0})),
        )
        .in_tenant_namespace("acme")
        .admit(&rule());
        assert!(update.refused_with("spec.maxUnavailable"), "{update:?}");
        let platform = Request::create(
            "policy",
            "poddisruptionbudgets",
            budget(json!({"maxUnavailable": 0})),
        )
        .in_namespace("openshift-etcd", json!({}))
        .admit(&rule());
        assert_eq!(platform, Verdict::NotMatched);
    }
}
