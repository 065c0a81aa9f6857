//! The labels that make a namespace a tenant namespace (tenant, managed-by, pod security) change
//! only through Harmony.
//!
//! This rule has no namespace selector on purpose: for a Namespace the selector is matched
//! against the object's own labels, so a tenant removing its tenant label would fall out of the
//! rule that forbids removing it. Instead, a match condition looks at both the old and the new
//! object. Nobody but Harmony may add the tenant label either (on CREATE or UPDATE), so no
//! namespace can pose as part of a tenant and get its network pass-through.

use harmony_tenant::{ClusterFacts, ClusterFlavor, MANAGED_BY_LABEL, TENANT_LABEL};
use k8s_openapi::api::admissionregistration::v1::MatchCondition;

use super::{AdmissionRule, Draft, build, cel, resources, unless_trusted, validation};
use crate::guardrail::GuardrailId;
use crate::score::ClusterGuardrailsScore;

/// The labels of a tenant Namespace only Harmony may change, for a cluster of `facts`.
pub(crate) fn protected_labels(facts: &ClusterFacts) -> Vec<String> {
    let mut labels = vec![TENANT_LABEL.to_string(), MANAGED_BY_LABEL.to_string()];
    for mode in ["enforce", "audit", "warn"] {
        labels.push(format!("pod-security.kubernetes.io/{mode}"));
        labels.push(format!("pod-security.kubernetes.io/{mode}-version"));
    }
    if facts.flavor == ClusterFlavor::Okd {
        labels.push("security.openshift.io/scc.podSecurityLabelSync".into());
    }
    labels
}

pub(super) fn rule(score: &ClusterGuardrailsScore, facts: &ClusterFacts) -> AdmissionRule {
    let protected = protected_labels(facts);
    let tenant_before = cel::has_label("oldObject", TENANT_LABEL);
    let unchanged = format!(
        "request.operation != 'UPDATE' || {}.all(k, (has(oldObject.metadata.labels) && k in oldObject.metadata.labels) ? (has(object.metadata.labels) && k in object.metadata.labels && object.metadata.labels[k] == oldObject.metadata.labels[k]) : !(has(object.metadata.labels) && k in object.metadata.labels))",
        cel::list(protected.iter().map(String::as_str))
    );
    build(Draft {
        id: GuardrailId::NamespaceLabels,
        resources: vec![resources("", &["namespaces"], &["CREATE", "UPDATE"])],
        tenant_namespaces_only: false,
        per_tenant_params: None,
        match_conditions: vec![
            unless_trusted(score),
            MatchCondition {
                name: "tenant-namespace-before-or-after".into(),
                expression: format!(
                    "{} || (request.operation == 'UPDATE' && {tenant_before})",
                    cel::has_label("object", TENANT_LABEL)
                ),
            },
        ],
        validations: vec![
            validation(
                format!("request.operation == 'UPDATE' && {tenant_before}"),
                format!(
                    "metadata.labels.{TENANT_LABEL}: only Harmony makes a namespace a tenant namespace: remove the label (tenants are created from tenant files)"
                ),
            ),
            validation(
                unchanged,
                format!(
                    "metadata.labels: the labels {} of a tenant namespace are managed by Harmony and cannot be added, changed or removed: change the tenant file and let Harmony apply it",
                    protected.join(", ")
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

    fn namespace(labels: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Namespace",
               "metadata": {"name": "acme", "labels": labels}})
    }

    fn tenant_labels() -> Value {
        json!({
            TENANT_LABEL: "acme", MANAGED_BY_LABEL: "harmony",
            "kubernetes.io/metadata.name": "acme",
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": "latest",
            "security.openshift.io/scc.podSecurityLabelSync": "false",
        })
    }

    fn update(old: Value, new: Value, user: &str, groups: &[&str]) -> Verdict {
        Request::update("", "namespaces", namespace(old), namespace(new))
            .by(user)
            .in_groups(groups)
            .admit(&rule(
                &ClusterGuardrailsScore::default(),
                &ClusterFacts::okd(),
            ))
    }

    fn by_tenant_admin(old: Value, new: Value) -> Verdict {
        update(old, new, "alice@acme.com", &["system:authenticated"])
    }

    #[test]
    fn is_not_scoped_by_a_namespace_selector() {
        let rule = rule(&ClusterGuardrailsScore::default(), &ClusterFacts::okd());
        let constraints = rule.policy.spec.unwrap().match_constraints.unwrap();
        assert_eq!(constraints.namespace_selector, None);
        assert_eq!(constraints.object_selector, None);
        let [binding] = rule.bindings.as_slice() else {
            panic!("one binding: {:?}", rule.bindings);
        };
        assert_eq!(binding.spec.as_ref().unwrap().match_resources, None);
    }

    #[test]
    fn tenants_cannot_remove_their_tenant_or_managed_by_label() {
        for key in [TENANT_LABEL, MANAGED_BY_LABEL] {
            let mut escaped = tenant_labels();
            escaped.as_object_mut().unwrap().remove(key);
            let verdict = by_tenant_admin(tenant_labels(), escaped);
            assert!(
                verdict.refused_with("managed by Harmony"),
                "{key}: {verdict:?}"
            );
        }
        let mut renamed = tenant_labels();
        renamed[TENANT_LABEL] = json!("globex");
        assert!(by_tenant_admin(tenant_labels(), renamed).refused_with("managed by Harmony"));
    }

    #[test]
    fn tenants_cannot_loosen_or_add_pod_security_labels() {
        let mut privileged = tenant_labels();
        privileged["pod-security.kubernetes.io/enforce"] = json!("privileged");
        assert!(by_tenant_admin(tenant_labels(), privileged).refused_with("pod-security"));
        let mut warn = tenant_labels();
        warn["pod-security.kubernetes.io/warn"] = json!("privileged");
        assert!(by_tenant_admin(tenant_labels(), warn).refused_with("pod-security"));
        let mut sync = tenant_labels();
        sync["security.openshift.io/scc.podSecurityLabelSync"] = json!("true");
        assert!(by_tenant_admin(tenant_labels(), sync).refused_with("podSecurityLabelSync"));
    }

    #[test]
    fn other_labels_stay_free() {
        let mut team = tenant_labels();
        team["team"] = json!("payments");
        assert_eq!(by_tenant_admin(tenant_labels(), team), Verdict::Allowed);
    }

    #[test]
    fn harmony_and_cluster_admins_may_change_them() {
        let relabelled =
            json!({TENANT_LABEL: "acme", "pod-security.kubernetes.io/enforce": "baseline"});
        let harmony = update(
            tenant_labels(),
            relabelled.clone(),
            crate::score::DEFAULT_HARMONY_IDENTITY,
            &[],
        );
        assert_eq!(harmony, Verdict::NotMatched);
        let admin = update(
            tenant_labels(),
            relabelled,
            "system:admin",
            &["system:masters"],
        );
        assert_eq!(admin, Verdict::NotMatched);
    }

    #[test]
    fn nobody_else_makes_a_tenant_namespace() {
        let forged = json!({TENANT_LABEL: "acme"});
        let created = Request::create("", "namespaces", namespace(forged.clone()))
            .by("platform-dev@example.com")
            .admit(&rule(
                &ClusterGuardrailsScore::default(),
                &ClusterFacts::kubernetes(),
            ));
        assert!(created.refused_with("only Harmony makes"), "{created:?}");
        let labelled = by_tenant_admin(json!({"team": "x"}), forged);
        assert!(labelled.refused_with("only Harmony makes"), "{labelled:?}");
    }

    #[test]
    fn other_namespaces_are_not_concerned() {
        let plain = Request::create("", "namespaces", namespace(json!({"team": "x"})))
            .by("platform-dev@example.com")
            .admit(&rule(
                &ClusterGuardrailsScore::default(),
                &ClusterFacts::kubernetes(),
            ));
        assert_eq!(plain, Verdict::NotMatched);
        let psa = by_tenant_admin(
            json!({"pod-security.kubernetes.io/enforce": "restricted"}),
            json!({"pod-security.kubernetes.io/enforce": "privileged"}),
        );
        assert_eq!(psa, Verdict::NotMatched);
    }

    #[test]
    fn the_okd_sync_label_is_protected_only_on_okd() {
        let sync = "security.openshift.io/scc.podSecurityLabelSync".to_string();
        assert!(protected_labels(&ClusterFacts::okd()).contains(&sync));
        assert!(!protected_labels(&ClusterFacts::kubernetes()).contains(&sync));
    }
}
