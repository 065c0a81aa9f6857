//! Test-only admission: evaluates a rendered policy and binding against a request as the API
//! server does (resource rules, namespace selector, parameters, match conditions, then every
//! validation), executing the CEL with the `cel-interpreter` crate.
//!
//! Differences from the API server, which the expressions are written around (see `cel.rs`):
//! no type checking before evaluation, a missing map key reads as `null` instead of failing, and
//! `authorizer` is not available (no rule uses it).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use cel_interpreter::objects::{Key, Map};
use cel_interpreter::{Context, Program, Value as Cel};
use harmony_tenant::TENANT_LABEL;
use k8s_openapi::api::admissionregistration::v1::{
    NamedRuleWithOperations, ValidatingAdmissionPolicyBinding,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde_json::{Value, json};

use super::AdmissionRule;

/// What the API server would do with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The policy does not apply to the request.
    NotMatched,
    /// The policy applies and every validation passed.
    Allowed,
    /// Refused, with the message of every failed validation (or the evaluation error).
    Denied(Vec<String>),
}

impl Verdict {
    /// Whether the request was refused with a message containing `text`.
    pub fn refused_with(&self, text: &str) -> bool {
        matches!(self, Self::Denied(messages) if messages.iter().any(|m| m.contains(text)))
    }
}

/// An admission request.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    operation: &'static str,
    group: String,
    resource: String,
    object: Value,
    old_object: Value,
    namespace: Option<String>,
    namespace_object: Value,
    username: String,
    groups: Vec<String>,
    params: Option<Value>,
}

impl Request {
    fn new(operation: &'static str, group: &str, resource: &str) -> Self {
        Self {
            operation,
            group: group.into(),
            resource: resource.into(),
            object: Value::Null,
            old_object: Value::Null,
            namespace: None,
            namespace_object: Value::Null,
            username: "system:anonymous".into(),
            groups: vec![],
            params: None,
        }
    }

    /// Creating `object`.
    pub fn create(group: &str, resource: &str, object: Value) -> Self {
        Self {
            object,
            ..Self::new("CREATE", group, resource)
        }
    }

    /// Replacing `old` by `new`.
    pub fn update(group: &str, resource: &str, old: Value, new: Value) -> Self {
        Self {
            object: new,
            old_object: old,
            ..Self::new("UPDATE", group, resource)
        }
    }

    /// Deleting `old`.
    pub fn delete(group: &str, resource: &str, old: Value) -> Self {
        Self {
            old_object: old,
            ..Self::new("DELETE", group, resource)
        }
    }

    /// In namespace `name` with `labels`.
    pub fn in_namespace(mut self, name: &str, labels: Value) -> Self {
        self.namespace = Some(name.into());
        self.namespace_object = json!({"apiVersion": "v1", "kind": "Namespace",
                                       "metadata": {"name": name, "labels": labels}});
        self
    }

    /// In the namespace of tenant `tenant` (named after it).
    pub fn in_tenant_namespace(self, tenant: &str) -> Self {
        self.in_namespace(tenant, json!({ TENANT_LABEL: tenant }))
    }

    /// While the namespace is being deleted.
    pub fn namespace_terminating(mut self) -> Self {
        self.namespace_object["metadata"]["deletionTimestamp"] = json!("2025-06-01T00:00:00Z");
        self
    }

    /// Sent by `username`.
    pub fn by(mut self, username: &str) -> Self {
        self.username = username.into();
        self
    }

    /// Sent by a member of `groups`.
    pub fn in_groups(mut self, groups: &[&str]) -> Self {
        self.groups = groups.iter().map(|g| g.to_string()).collect();
        self
    }

    /// With `params` as the parameter object the binding finds.
    pub fn with_params(mut self, params: Value) -> Self {
        self.params = Some(params);
        self
    }

    /// What the API server would do with this request under `rule`: refused when a binding
    /// refuses it, allowed when a binding matches it, else not matched.
    pub fn admit(&self, rule: &AdmissionRule) -> Verdict {
        let verdicts: Vec<Verdict> = rule.bindings.iter().map(|b| self.bound(rule, b)).collect();
        verdicts
            .iter()
            .find(|v| matches!(v, Verdict::Denied(_)))
            .or_else(|| verdicts.iter().find(|v| **v == Verdict::Allowed))
            .cloned()
            .unwrap_or(Verdict::NotMatched)
    }

    /// What `binding` of `rule` does with this request.
    fn bound(&self, rule: &AdmissionRule, binding: &ValidatingAdmissionPolicyBinding) -> Verdict {
        let spec = rule.policy.spec.as_ref().expect("policies have a spec");
        let binding = binding.spec.as_ref().expect("bindings have a spec");
        assert_eq!(
            binding.policy_name, rule.policy.metadata.name,
            "binding names its policy"
        );
        assert_eq!(
            binding.validation_actions.as_deref(),
            Some(&["Deny".into()][..])
        );
        assert_eq!(spec.failure_policy.as_deref(), Some("Fail"));
        let constraints = spec
            .match_constraints
            .as_ref()
            .expect("constraints are set");
        let narrowing = binding.match_resources.as_ref();
        let matches_resource = |rules: Option<&Vec<NamedRuleWithOperations>>| {
            rules.into_iter().flatten().any(|r| {
                let has = |list: &Option<Vec<String>>, item: &str| {
                    list.iter().flatten().any(|s| s == item || s == "*")
                };
                has(&r.api_groups, &self.group)
                    && has(&r.resources, &self.resource)
                    && has(&r.operations, self.operation)
            })
        };
        let narrowed_out = narrowing
            .and_then(|m| m.resource_rules.as_ref())
            .is_some_and(|rules| !matches_resource(Some(rules)));
        if !matches_resource(constraints.resource_rules.as_ref()) || narrowed_out {
            return Verdict::NotMatched;
        }
        for selector in [
            constraints.namespace_selector.as_ref(),
            narrowing.and_then(|m| m.namespace_selector.as_ref()),
        ]
        .into_iter()
        .flatten()
        {
            if !selects(selector, &self.selector_labels()) {
                return Verdict::NotMatched;
            }
        }
        // A binding without `paramRef` validates with null parameters.
        let params = match (&spec.param_kind, &binding.param_ref, &self.params) {
            (None, ..) | (Some(_), None, _) => Value::Null,
            (Some(_), Some(_), Some(params)) => params.clone(),
            (Some(_), Some(param_ref), None) => {
                return match param_ref.parameter_not_found_action.as_deref() {
                    Some("Deny") => {
                        Verdict::Denied(vec!["no params found for policy binding".into()])
                    }
                    Some("Allow") => Verdict::Allowed,
                    other => panic!("parameterNotFoundAction must be set, not {other:?}"),
                };
            }
        };
        let context = self.context(params);
        for condition in spec.match_conditions.iter().flatten() {
            match evaluate(&condition.expression, &context) {
                Ok(true) => {}
                Ok(false) => return Verdict::NotMatched,
                Err(error) => return Verdict::Denied(vec![error]),
            }
        }
        let mut messages = Vec::new();
        for validation in spec.validations.iter().flatten() {
            match evaluate(&validation.expression, &context) {
                Ok(true) => {}
                Ok(false) => messages.push(validation.message.clone().unwrap_or_default()),
                Err(error) => messages.push(error),
            }
        }
        if messages.is_empty() {
            Verdict::Allowed
        } else {
            Verdict::Denied(messages)
        }
    }

    /// The labels a namespace selector is matched against: the namespace's, or for a Namespace
    /// the object's own.
    fn selector_labels(&self) -> BTreeMap<String, String> {
        let source = if self.resource == "namespaces" {
            if self.object.is_null() {
                &self.old_object
            } else {
                &self.object
            }
        } else {
            &self.namespace_object
        };
        serde_json::from_value(source["metadata"]["labels"].clone()).unwrap_or_default()
    }

    fn context(&self, params: Value) -> Context<'static> {
        let request = json!({
            "operation": self.operation,
            "namespace": self.namespace,
            "userInfo": {"username": self.username, "groups": self.groups},
        });
        let mut context = Context::default();
        for (name, value) in [
            ("object", &self.object),
            ("oldObject", &self.old_object),
            ("namespaceObject", &self.namespace_object),
            ("request", &request),
            ("params", &params),
        ] {
            context.add_variable_from_value(name, cel(value));
        }
        context
    }
}

/// Evaluates a boolean expression; compile errors, runtime errors and non-booleans are errors.
pub(crate) fn evaluate(expression: &str, context: &Context) -> Result<bool, String> {
    let program = Program::compile(expression)
        .map_err(|e| format!("`{expression}` does not compile: {e}"))?;
    match program.execute(context) {
        Ok(Cel::Bool(b)) => Ok(b),
        Ok(other) => Err(format!("`{expression}` gave {other:?}, not a bool")),
        Err(e) => Err(format!("`{expression}` failed: {e}")),
    }
}

/// JSON as CEL: integers are `int`, as Kubernetes integer fields are.
pub(crate) fn cel(value: &Value) -> Cel {
    match value {
        Value::Null => Cel::Null,
        Value::Bool(b) => Cel::Bool(*b),
        Value::Number(n) => n
            .as_i64()
            .map_or_else(|| Cel::Float(n.as_f64().unwrap_or_default()), Cel::Int),
        Value::String(s) => Cel::String(Arc::new(s.clone())),
        Value::Array(items) => Cel::List(Arc::new(items.iter().map(cel).collect())),
        Value::Object(entries) => Cel::Map(Map {
            map: Arc::new(
                entries
                    .iter()
                    .map(|(k, v)| (Key::String(Arc::new(k.clone())), cel(v)))
                    .collect::<HashMap<_, _>>(),
            ),
        }),
    }
}

/// Whether `selector` selects an object with `labels`.
fn selects(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    let by_labels = selector
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v));
    let by_expressions = selector.match_expressions.iter().flatten().all(|e| {
        let values = e.values.clone().unwrap_or_default();
        match e.operator.as_str() {
            "Exists" => labels.contains_key(&e.key),
            "DoesNotExist" => !labels.contains_key(&e.key),
            "In" => labels.get(&e.key).is_some_and(|v| values.contains(v)),
            "NotIn" => labels.get(&e.key).is_none_or(|v| !values.contains(v)),
            other => panic!("unknown selector operator {other}"),
        }
    });
    by_labels && by_expressions
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::cel;

    #[test]
    fn string_literals_survive_quotes_and_backslashes() {
        let context = Context::default();
        for s in ["plain", "it's", r"back\slash", r"\'"] {
            let expression = format!("{} == {}", cel::string(s), cel::string(s));
            assert_eq!(evaluate(&expression, &context), Ok(true), "{expression}");
            let size = format!("size({}) == {}", cel::string(s), s.chars().count());
            assert_eq!(evaluate(&size, &context), Ok(true), "{size}");
        }
    }

    #[test]
    fn evaluation_errors_are_reported_not_passed() {
        let context = Context::default();
        assert!(evaluate("object.spec", &context).is_err());
        assert!(evaluate("has(", &context).is_err());
        assert!(evaluate("'text'", &context).is_err());
    }
}
