//! The admission rules: one ValidatingAdmissionPolicy and a binding of the same name per rule
//! (the storage, placement and images rules add one for updates), evaluated by the API
//! server itself, so `failurePolicy: Fail` cannot lock the cluster the way
//! an unreachable webhook does.

pub(crate) mod cel;
mod disruption;
mod images;
mod ingress;
mod managed_objects;
mod namespace_labels;
mod placement;
mod pods;
mod routes;
mod secrets;
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
use crate::score::ClusterGuardrailsScore;
use harmony_tenant::PARAMS_NAME;

/// A policy and the bindings that put it in force.
#[derive(Debug, Clone)]
pub(crate) struct AdmissionRule {
    pub policy: ValidatingAdmissionPolicy,
    pub bindings: Vec<ValidatingAdmissionPolicyBinding>,
}

/// Every admission rule, in [`GuardrailId::ADMISSION`] order.
pub(crate) fn rules(score: &ClusterGuardrailsScore, facts: &ClusterFacts) -> Vec<AdmissionRule> {
    vec![
        services::rule(),
        pods::rule(),
        storage::rule(score),
        namespace_labels::rule(score, facts),
        managed_objects::rule(score),
        secrets::rule(score),
        ingress::rule(score, facts),
        routes::rule(),
        placement::rule(),
        images::rule(),
        disruption::rule(),
    ]
}

/// What differs between rules.
struct Draft {
    id: GuardrailId,
    resources: Vec<NamedRuleWithOperations>,
    /// Only namespaces carrying the tenant label (never for rules about those labels).
    tenant_namespaces_only: bool,
    /// Reads the tenant's parameter ConfigMap, found in the namespace of the request, on CREATE;
    /// the other operations go through the binding of this name, without parameters.
    per_tenant_params: Option<&'static str>,
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
                resource_rules: Some(draft.resources.clone()),
                ..MatchResources::default()
            }),
            match_conditions: (!draft.match_conditions.is_empty())
                .then_some(draft.match_conditions),
            param_kind: draft.per_tenant_params.map(|_| ParamKind {
                api_version: Some("v1".into()),
                kind: Some("ConfigMap".into()),
            }),
            validations: Some(draft.validations),
            ..ValidatingAdmissionPolicySpec::default()
        }),
        status: None,
    };
    let bindings = if let Some(without_params) = draft.per_tenant_params {
        // A binding whose parameters are missing denies every request it matches, and a
        // terminating namespace loses its parameter ConfigMap before the PVC protection
        // controller updates its claims: only CREATE, which needs them, goes through the binding
        // that reads them; the other operations through one without (`params` is then null).
        let params = tenant_params();
        let creates = |op: &str| op == "CREATE";
        vec![
            binding(
                name,
                name,
                Some(params),
                Some(narrowed(&draft.resources, creates)),
            ),
            binding(
                without_params,
                name,
                None,
                Some(narrowed(&draft.resources, |op| !creates(op))),
            ),
        ]
    } else {
        vec![binding(name, name, None, None)]
    };
    AdmissionRule { policy, bindings }
}

/// The tenant's parameter ConfigMap, in the namespace of the request; missing, it denies.
fn tenant_params() -> ParamRef {
    ParamRef {
        name: Some(PARAMS_NAME.into()),
        // No namespace: the parameter is looked up in the namespace of the request.
        namespace: None,
        parameter_not_found_action: Some("Deny".into()),
        selector: None,
    }
}

/// `rule` reading the tenant's parameters on every operation it matches, through one binding.
fn with_params_always(mut rule: AdmissionRule) -> AdmissionRule {
    let name = rule.policy.metadata.name.clone().unwrap_or_default();
    if let Some(spec) = rule.policy.spec.as_mut() {
        spec.param_kind = Some(ParamKind {
            api_version: Some("v1".into()),
            kind: Some("ConfigMap".into()),
        });
    }
    rule.bindings = vec![binding(&name, &name, Some(tenant_params()), None)];
    rule
}

/// A `Deny` binding `name` of policy `policy`.
fn binding(
    name: &str,
    policy: &str,
    param_ref: Option<ParamRef>,
    match_resources: Option<MatchResources>,
) -> ValidatingAdmissionPolicyBinding {
    ValidatingAdmissionPolicyBinding {
        metadata: meta(name),
        spec: Some(ValidatingAdmissionPolicyBindingSpec {
            policy_name: Some(policy.into()),
            validation_actions: Some(vec!["Deny".into()]),
            param_ref,
            match_resources,
        }),
    }
}

/// `rules` with only the operations `keep` keeps (a rule left with none is dropped).
fn narrowed(rules: &[NamedRuleWithOperations], keep: impl Fn(&str) -> bool) -> MatchResources {
    let rules = rules
        .iter()
        .map(|rule| NamedRuleWithOperations {
            operations: rule
                .operations
                .as_ref()
                .map(|ops| ops.iter().filter(|op| keep(op)).cloned().collect()),
            ..rule.clone()
        })
        .filter(|rule| rule.operations.as_ref().is_some_and(|ops| !ops.is_empty()))
        .collect();
    MatchResources {
        resource_rules: Some(rules),
        ..MatchResources::default()
    }
}

/// Operations on `resources` of API group `group` (`""` for the core group), version `v1`.
///
/// The version is named, not `*`: kube-apiserver type-checks expressions only against the
/// schemas of named versions (it skips a rule with a wildcard), and with the default
/// `matchPolicy: Equivalent` a request through another version is still matched.
fn resources(group: &str, resources: &[&str], operations: &[&str]) -> NamedRuleWithOperations {
    versioned(group, &["v1"], resources, operations)
}

/// [`resources`] of a group served in `versions`.
fn versioned(
    group: &str,
    versions: &[&str],
    resources: &[&str],
    operations: &[&str],
) -> NamedRuleWithOperations {
    let strings = |items: &[&str]| Some(items.iter().map(|s| s.to_string()).collect());
    NamedRuleWithOperations {
        api_groups: strings(&[group]),
        api_versions: strings(versions),
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
