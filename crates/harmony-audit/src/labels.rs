//! Label selectors with Kubernetes semantics (matchLabels AND matchExpressions).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

/// Labels of an object.
pub type Labels = BTreeMap<String, String>;

/// Whether `selector` selects an object with `labels`. The empty selector selects everything;
/// `NotIn` and `DoesNotExist` select objects without the key; an unknown operator selects nothing.
pub fn selects(selector: &LabelSelector, labels: &Labels) -> bool {
    let match_labels = selector
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v));
    match_labels
        && selector.match_expressions.iter().flatten().all(|e| {
            let values = e.values.as_deref().unwrap_or_default();
            let value = labels.get(&e.key);
            match e.operator.as_str() {
                "In" => value.is_some_and(|v| values.contains(v)),
                "NotIn" => value.is_none_or(|v| !values.contains(v)),
                "Exists" => value.is_some(),
                "DoesNotExist" => value.is_none(),
                _ => false,
            }
        })
}

/// The label keys `selector` looks at.
pub fn selector_keys(selector: &LabelSelector) -> impl Iterator<Item = &str> {
    let labels = selector
        .match_labels
        .iter()
        .flatten()
        .map(|(k, _)| k.as_str());
    let exprs = selector
        .match_expressions
        .iter()
        .flatten()
        .map(|e| e.key.as_str());
    labels.chain(exprs)
}

/// Whether a platform selector of `ClusterFacts` (matchLabels where an empty value means "label
/// present") matches `labels`.
pub fn matches_platform_labels(selector: &Labels, labels: Option<&Labels>) -> bool {
    selector.iter().all(|(k, v)| {
        labels
            .and_then(|l| l.get(k))
            .is_some_and(|actual| v.is_empty() || actual == v)
    })
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn expr(key: &str, op: &str, values: &[&str]) -> LabelSelectorRequirement {
        LabelSelectorRequirement {
            key: key.into(),
            operator: op.into(),
            values: Some(values.iter().map(|v| v.to_string()).collect()),
        }
    }

    #[test]
    fn empty_selector_selects_everything() {
        assert!(selects(&LabelSelector::default(), &labels(&[])));
    }

    #[test]
    fn match_labels_and_expressions_are_anded() {
        // From the Kubernetes docs: `environment in (production, qa)` and `tier notin (frontend)`.
        let selector = LabelSelector {
            match_labels: Some(labels(&[("app", "web")])),
            match_expressions: Some(vec![
                expr("environment", "In", &["production", "qa"]),
                expr("tier", "NotIn", &["frontend"]),
            ]),
        };
        assert!(selects(
            &selector,
            &labels(&[("app", "web"), ("environment", "qa")])
        ));
        assert!(!selects(
            &selector,
            &labels(&[("app", "web"), ("environment", "qa"), ("tier", "frontend")])
        ));
        assert!(!selects(&selector, &labels(&[("app", "web")])));
        assert!(!selects(&selector, &labels(&[("environment", "qa")])));
    }

    #[test]
    fn exists_and_does_not_exist() {
        let exists = LabelSelector {
            match_expressions: Some(vec![expr("partition", "Exists", &[])]),
            ..Default::default()
        };
        let absent = LabelSelector {
            match_expressions: Some(vec![expr("partition", "DoesNotExist", &[])]),
            ..Default::default()
        };
        let with = labels(&[("partition", "")]);
        assert!(selects(&exists, &with) && !selects(&absent, &with));
        assert!(!selects(&exists, &labels(&[])) && selects(&absent, &labels(&[])));
    }

    #[test]
    fn platform_selector_empty_value_means_present() {
        let sel = labels(&[("policy-group.network.openshift.io/ingress", "")]);
        assert!(matches_platform_labels(&sel, Some(&sel)));
        assert!(!matches_platform_labels(&sel, Some(&labels(&[]))));
        assert!(!matches_platform_labels(&sel, None));
    }
}
