//! The prometheus-operator kinds a tenant plan holds, as serde types (k8s-openapi does not ship
//! them): `monitoring.coreos.com/v1` PrometheusRule and `monitoring.coreos.com/v1beta1`
//! AlertmanagerConfig. Only the fields Harmony writes are modelled; the API server's schema (the
//! CRDs OKD's cluster-monitoring-operator and the upstream operator install) has them all.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::SecretKeySelector;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

/// Alerting (and recording) rules Prometheus or Thanos Ruler evaluates for its namespace.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct PrometheusRule {
    /// Name, namespace and labels.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// The rule groups.
    pub spec: PrometheusRuleSpec,
}

/// The spec of a [`PrometheusRule`]: a Prometheus rules file's content.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PrometheusRuleSpec {
    /// Rule groups, each evaluated as a unit.
    #[serde(default)]
    pub groups: Vec<RuleGroup>,
}

/// One group of rules.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RuleGroup {
    /// Unique in the rule.
    pub name: String,
    /// The rules, in order.
    #[serde(default)]
    pub rules: Vec<AlertRule>,
}

/// One alerting rule.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AlertRule {
    /// The alert's name.
    #[serde(default)]
    pub alert: String,
    /// The PromQL expression; every result is a firing (or pending) alert.
    pub expr: String,
    /// How long the expression must hold before the alert fires, such as `15m`.
    #[serde(default, rename = "for", skip_serializing_if = "Option::is_none")]
    pub for_: Option<String>,
    /// Labels added to the alert, such as `severity`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Annotations (`summary`, `description`), Go templates.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// Where Alertmanager sends the alerts of its namespace (the operator adds a `namespace`
/// matcher to the route).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct AlertmanagerConfig {
    /// Name, namespace and labels.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// The route and receivers.
    pub spec: AlertmanagerConfigSpec,
}

/// The spec of an [`AlertmanagerConfig`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AlertmanagerConfigSpec {
    /// The route alerts take.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<AlertRoute>,
    /// The receivers the route names.
    #[serde(default)]
    pub receivers: Vec<AlertReceiverConfig>,
}

/// A route: its receiver gets the alerts no child route takes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertRoute {
    /// The receiver's name.
    pub receiver: String,
    /// Labels that group alerts into one notification.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group_by: Vec<String>,
    /// Whether later sibling routes are tried after this one matched.
    #[serde(
        default,
        rename = "continue",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub continue_: bool,
    /// Child routes, tried in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<AlertRoute>,
}

/// A named receiver and where it notifies.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertReceiverConfig {
    /// Unique in the AlertmanagerConfig.
    pub name: String,
    /// E-mail notifications.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub email_configs: Vec<EmailConfig>,
    /// Webhook notifications.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub webhook_configs: Vec<WebhookConfig>,
}

/// An e-mail notification.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmailConfig {
    /// Whether resolved alerts are notified too.
    #[serde(default)]
    pub send_resolved: bool,
    /// The recipient.
    pub to: String,
    /// The sender; the Alertmanager's global one when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The SMTP server `host:port`; the Alertmanager's global one when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smarthost: Option<String>,
    /// The SMTP user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_username: Option<String>,
    /// The SMTP password: a key of a Secret in the same namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_password: Option<SecretKeySelector>,
}

/// A webhook notification: exactly one of `url` and `url_secret`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookConfig {
    /// Whether resolved alerts are notified too.
    #[serde(default)]
    pub send_resolved: bool,
    /// The URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The URL, from a key of a Secret in the same namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_secret: Option<SecretKeySelector>,
}

crate::api_resources!(NamespaceResourceScope, "monitoring.coreos.com" / "v1":
    PrometheusRule "prometheusrules");
crate::api_resources!(NamespaceResourceScope, "monitoring.coreos.com" / "v1beta1":
    AlertmanagerConfig "alertmanagerconfigs");

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::Resource;

    #[test]
    fn objects_carry_their_api_version_and_kind_both_ways() {
        let rule = PrometheusRule {
            metadata: ObjectMeta {
                name: Some("tenant-alerts".into()),
                namespace: Some("acme".into()),
                ..ObjectMeta::default()
            },
            spec: PrometheusRuleSpec {
                groups: vec![RuleGroup {
                    name: "g".into(),
                    rules: vec![AlertRule {
                        alert: "A".into(),
                        expr: "up == 0".into(),
                        for_: Some("5m".into()),
                        ..AlertRule::default()
                    }],
                }],
            },
        };
        let json = serde_json::to_value(&rule).unwrap();
        assert_eq!(json["apiVersion"], "monitoring.coreos.com/v1");
        assert_eq!(json["kind"], "PrometheusRule");
        assert_eq!(
            json["spec"]["groups"][0]["rules"][0],
            serde_json::json!({"alert": "A", "expr": "up == 0", "for": "5m"})
        );
        assert_eq!(
            serde_json::from_value::<PrometheusRule>(json).unwrap(),
            rule
        );
        assert_eq!(
            AlertmanagerConfig::API_VERSION,
            "monitoring.coreos.com/v1beta1"
        );
        assert_eq!(AlertmanagerConfig::URL_PATH_SEGMENT, "alertmanagerconfigs");
    }
}
