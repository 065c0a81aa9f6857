//! The ClusterRoles tenant plans bind per namespace, with the rules OKD's
//! cluster-monitoring-operator ships under the same names (its
//! `assets/cluster-monitoring-operator/*-cluster-role.yaml`): on OKD they exist; on vanilla
//! Kubernetes Harmony creates them. None grants anything outside the namespace it is bound in.

use k8s_openapi::api::rbac::v1::{ClusterRole, PolicyRule};

use super::plan::harmony_meta;

pub use harmony_tenant::monitoring::{
    ALERT_ROUTING_EDIT, MONITORING_EDIT, MONITORING_RULES_EDIT, MONITORING_RULES_VIEW,
};

/// The names tenant plans bind, in the order [`tenant_roles`] renders them.
pub const TENANT_ROLES: [&str; 4] = [
    MONITORING_EDIT,
    MONITORING_RULES_EDIT,
    MONITORING_RULES_VIEW,
    ALERT_ROUTING_EDIT,
];

/// A rule on `monitoring.coreos.com` resources.
fn monitoring_rule(resources: &[&str], verbs: &[&str]) -> PolicyRule {
    PolicyRule {
        api_groups: Some(vec!["monitoring.coreos.com".into()]),
        resources: Some(resources.iter().map(|r| r.to_string()).collect()),
        verbs: verbs.iter().map(|v| v.to_string()).collect(),
        ..PolicyRule::default()
    }
}

/// The four tenant monitoring ClusterRoles.
pub fn tenant_roles() -> Vec<ClusterRole> {
    let rules: [&[&str]; 4] = [
        &["servicemonitors", "podmonitors", "prometheusrules"],
        &["prometheusrules"],
        &["prometheusrules"],
        &["alertmanagerconfigs"],
    ];
    TENANT_ROLES
        .iter()
        .zip(rules)
        .map(|(name, resources)| {
            let verbs: &[&str] = if *name == MONITORING_RULES_VIEW {
                &["get", "list", "watch"]
            } else {
                &["*"]
            };
            ClusterRole {
                metadata: harmony_meta(name, None),
                rules: Some(vec![monitoring_rule(resources, verbs)]),
                ..ClusterRole::default()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The rules of cluster-monitoring-operator's assets (release 4.21 line), field by field.
    #[test]
    fn rules_are_okds() {
        let rules: Vec<(String, serde_json::Value)> = tenant_roles()
            .into_iter()
            .map(|r| {
                (
                    r.metadata.name.unwrap(),
                    serde_json::to_value(r.rules).unwrap(),
                )
            })
            .collect();
        let group = "monitoring.coreos.com";
        assert_eq!(
            rules,
            [
                (
                    "monitoring-edit".to_string(),
                    json!([{"apiGroups": [group], "resources": ["servicemonitors", "podmonitors", "prometheusrules"], "verbs": ["*"]}])
                ),
                (
                    "monitoring-rules-edit".to_string(),
                    json!([{"apiGroups": [group], "resources": ["prometheusrules"], "verbs": ["*"]}])
                ),
                (
                    "monitoring-rules-view".to_string(),
                    json!([{"apiGroups": [group], "resources": ["prometheusrules"], "verbs": ["get", "list", "watch"]}])
                ),
                (
                    "alert-routing-edit".to_string(),
                    json!([{"apiGroups": [group], "resources": ["alertmanagerconfigs"], "verbs": ["*"]}])
                ),
            ]
        );
    }
}
