//! The admission rules: one ValidatingAdmissionPolicy and one binding (same name) per rule,
//! evaluated by the API server itself, so `failurePolicy: Fail` cannot lock the cluster the way
//! an unreachable webhook does.

pub(crate) mod cel;
mod managed_objects;
mod namespace_labels;
mod pods;
mod services;
mod storage;

#[cfg(test)]
pub(crate) mod simulator;

use std::collections::BTreeMap;

use harmony_tenant::{ClusterFacts, MANAGED_BY_LABEL, MANAGED_BY_VALUE, TENANT_LABEL};
use k8s_openapi::api::admissionregistration::v1::{
    MatchCondition, MatchResources, NamedRuleWithOperations, ParamKind, ParamRef,
    ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding,
    ValidatingAdmissionPolicyBindingSpec, ValidatingAdmissionPolicySpec, Validation,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector, LabelSelectorRequirement, ObjectMeta,
};

use crate::guardrail::GuardrailId;
use crate::params::PARAMS_NAME;
use crate::score::ClusterGuardrailsScore;

/// A policy and the binding that puts it in force.
#[derive(Debug, Clone)]
pub(crate) struct AdmissionRule {
    pub policy: ValidatingAdmissionPolicy,
    pub binding: ValidatingAdmissionPolicyBinding,
}

/// Every admission rule, in [`GuardrailId::ADMISSION`] order.
pub(crate) fn rules(score: &ClusterGuardrailsScore, facts: &ClusterFacts) -> Vec<AdmissionRule> {
    vec![
        services::rule(),
        pods::rule(),
        storage::rule(score),
        namespace_labels::rule(score, facts),
        managed_objects::rule(score),
    ]
}

/// What differs between rules.
struct Draft {
    id: GuardrailId,
    resources: Vec<NamedRuleWithOperations>,
    /// Only namespaces carrying the tenant label (never for rules about those labels).
    tenant_namespaces_only: bool,
    /// Reads the tenant's parameter ConfigMap, found in the namespace of the request.
    per_tenant_params: bool,
    match_conditions: Vec<MatchCondition>,
    validations: Vec<Validation>,
}

/// Labels of the cluster-scoped objects Harmony manages.
pub(crate) fn managed_labels() -> BTreeMap<String, String> {
    BTreeMap::from([(MANAGED_BY_LABEL.to_string(), MANAGED_BY_VALUE.to_string())])
}

fn meta(name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        labels: Some(managed_labels()),
        ..ObjectMeta::default()
    }
}

/// Namespaces carrying the tenant label.
pub(crate) fn tenant_namespaces() -> LabelSelector {
    LabelSelector {
        match_expressions: Some(vec![LabelSelectorRequirement {
            key: TENANT_LABEL.into(),
            operator: "Exists".into(),
            values: None,
        }]),
        match_labels: None,
    }
}

fn build(draft: Draft) -> AdmissionRule {
    let name = draft.id.object_name();
    let policy = ValidatingAdmissionPolicy {
        metadata: meta(name),
        spec: Some(ValidatingAdmissionPolicySpec {
            failure_policy: Some("Fail".into()),
            match_constraints: Some(MatchResources {
                namespace_selector: draft.tenant_namespaces_only.then(tenant_namespaces),
                resource_rules: Some(draft.resources),
                ..MatchResources::default()
            }),
            match_conditions: (!draft.match_conditions.is_empty())
                .then_some(draft.match_conditions),
            param_kind: draft.per_tenant_params.then(|| ParamKind {
                api_version: Some("v1".into()),
                kind: Some("ConfigMap".into()),
            }),
            validations: Some(draft.validations),
            ..ValidatingAdmissionPolicySpec::default()
        }),
        status: None,
    };
    let binding = ValidatingAdmissionPolicyBinding {
        metadata: meta(name),
        spec: Some(ValidatingAdmissionPolicyBindingSpec {
            policy_name: Some(name.into()),
            validation_actions: Some(vec!["Deny".into()]),
            // No namespace: the parameter is looked up in the namespace of the request.
            param_ref: draft.per_tenant_params.then(|| ParamRef {
                name: Some(PARAMS_NAME.into()),
                namespace: None,
                parameter_not_found_action: Some("Deny".into()),
                selector: None,
            }),
            match_resources: None,
        }),
    };
    AdmissionRule { policy, binding }
}

/// Operations on `resources` of API group `group` (`""` for the core group), version `v1`.
///
/// The version is named, not `*`: kube-apiserver type-checks expressions only against the
/// schemas of named versions (it skips a rule with a wildcard), and with the default
/// `matchPolicy: Equivalent` a request through another version is still matched.
fn resources(group: &str, resources: &[&str], operations: &[&str]) -> NamedRuleWithOperations {
    let strings = |items: &[&str]| Some(items.iter().map(|s| s.to_string()).collect());
    NamedRuleWithOperations {
        api_groups: strings(&[group]),
        api_versions: strings(&["v1"]),
        operations: strings(operations),
        resources: strings(resources),
        ..NamedRuleWithOperations::default()
    }
}

fn validation(expression: String, message: impl Into<String>) -> Validation {
    Validation {
        expression,
        message: Some(message.into()),
        reason: Some("Forbidden".into()),
        message_expression: None,
    }
}

/// The match condition that lets Harmony (and the configured administrators) through.
fn unless_trusted(score: &ClusterGuardrailsScore) -> MatchCondition {
    MatchCondition {
        name: "requester-is-not-harmony".into(),
        expression: format!(
            "!{}",
            cel::requester_in(&score.trusted_users(), &score.admin_groups)
        ),
    }
}
