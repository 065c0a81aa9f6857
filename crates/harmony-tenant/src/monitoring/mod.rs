//! `spec.monitoring`: what a tenant gets from the cluster's monitoring stack (prometheus-operator
//! or OKD user-workload monitoring), where its alerts go, and their validation.
//!
//! On a cluster that serves `monitoring.coreos.com`, an enabled tenant (the default) gets
//! RoleBindings of the monitoring ClusterRoles the cluster ships, the PrometheusRule
//! `tenant-alerts` and, when it names receivers, the AlertmanagerConfig `tenant-receivers` (see
//! [`crate::compile`]). Credentials are only ever Secret references in the tenant namespace:
//! Harmony never writes a secret into what it renders.

pub mod crd;

use harmony::Problem;
use schemars::JsonSchema;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::names::{is_dns_label, is_dns_subdomain};
use crate::score::{TenantRole, TenantScore};

/// ClusterRole: ServiceMonitors, PodMonitors and PrometheusRules, every verb.
pub const MONITORING_EDIT: &str = "monitoring-edit";
/// ClusterRole: PrometheusRules, every verb.
pub const MONITORING_RULES_EDIT: &str = "monitoring-rules-edit";
/// ClusterRole: PrometheusRules, read.
pub const MONITORING_RULES_VIEW: &str = "monitoring-rules-view";
/// ClusterRole: AlertmanagerConfigs, every verb.
pub const ALERT_ROUTING_EDIT: &str = "alert-routing-edit";

/// The monitoring ClusterRoles a tenant's members are bound to in its namespace (a RoleBinding
/// named as the role), with the tenant roles that get each: those OKD's cluster-monitoring-operator
/// ships, and that Harmony's cluster monitoring renders for prometheus-operator. Developers
/// write ServiceMonitors, PodMonitors and rules beside their workloads; only admins route alerts;
/// viewers read rules. Never a cluster-wide monitoring role.
pub const MONITORING_ROLES: [(&str, &[TenantRole]); 3] = [
    (ALERT_ROUTING_EDIT, &[TenantRole::Admin]),
    (MONITORING_EDIT, &[TenantRole::Admin, TenantRole::Developer]),
    (MONITORING_RULES_VIEW, &[TenantRole::Viewer]),
];

/// Default of [`AlertThresholds::quota_used_percent`].
pub const DEFAULT_QUOTA_USED_PERCENT: u8 = 80;
/// Default of [`AlertThresholds::volume_used_percent`].
pub const DEFAULT_VOLUME_USED_PERCENT: u8 = 90;

/// The tenant's monitoring: on by default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MonitoringConfig {
    /// Whether the tenant gets its monitoring roles, standard alerts and alert routing.
    #[serde(default = "enabled")]
    pub enabled: bool,
    /// Where the tenant's alerts are sent; none: they stay visible in the alerting UI only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub receivers: Vec<AlertReceiver>,
    /// When the standard alerts fire.
    #[serde(default, skip_serializing_if = "AlertThresholds::is_default")]
    pub thresholds: AlertThresholds,
}

fn enabled() -> bool {
    true
}

impl Default for MonitoringConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            receivers: Vec::new(),
            thresholds: AlertThresholds::default(),
        }
    }
}

impl MonitoringConfig {
    pub(crate) fn is_default(&self) -> bool {
        self == &Self::default()
    }
}

/// A named alert receiver: exactly one of `email` and `webhook`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AlertReceiver {
    /// Receiver id: a DNS-1123 label, unique in the tenant.
    pub name: String,
    /// Alerts by e-mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailReceiver>,
    /// Alerts posted to a webhook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<WebhookReceiver>,
}

/// An e-mail receiver; unset SMTP settings are the Alertmanager's global ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EmailReceiver {
    /// The recipient, such as `ops@acme.example`.
    pub to: String,
    /// The sender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The SMTP server, `host:port`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smarthost: Option<String>,
    /// The SMTP user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_username: Option<String>,
    /// The SMTP password, from a Secret in the tenant namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_password: Option<SecretRef>,
}

/// A webhook receiver: exactly one of `url` and `urlSecret` (for URLs that carry a token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookReceiver {
    /// The URL, `https://` or `http://`, without credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The URL, from a Secret in the tenant namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_secret: Option<SecretRef>,
}

/// A key of a Secret in the tenant namespace. An inline value is refused when the file is read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretRef {
    /// The Secret's name.
    pub name: String,
    /// The key in the Secret's data.
    pub key: String,
}

/// Why an inline value is refused where a [`SecretRef`] is expected, and the fix.
const INLINE_SECRET: &str = "is an inline secret, and Harmony never writes secrets into what it \
    renders: store the value in a Secret in the tenant namespace (`kubectl -n NAMESPACE create \
    secret generic NAME --from-literal=KEY=VALUE`) and write `{name: NAME, key: KEY}` here";

impl<'de> Deserialize<'de> for SecretRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Fields {
            name: String,
            key: String,
        }

        struct Reference;

        impl<'de> Visitor<'de> for Reference {
            type Value = SecretRef;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a Secret reference `{name: NAME, key: KEY}`")
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<SecretRef, E> {
                Err(E::custom(INLINE_SECRET))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<SecretRef, A::Error> {
                let Fields { name, key } =
                    Fields::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(SecretRef { name, key })
            }
        }

        deserializer.deserialize_any(Reference)
    }
}

/// When the standard alerts fire, in percent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AlertThresholds {
    /// `TenantQuotaNearlyFull` fires when a resource's use is above this share of its quota.
    #[serde(default = "quota_used_percent")]
    pub quota_used_percent: u8,
    /// `TenantVolumeNearlyFull` fires when a volume is fuller than this.
    #[serde(default = "volume_used_percent")]
    pub volume_used_percent: u8,
}

fn quota_used_percent() -> u8 {
    DEFAULT_QUOTA_USED_PERCENT
}

fn volume_used_percent() -> u8 {
    DEFAULT_VOLUME_USED_PERCENT
}

impl Default for AlertThresholds {
    fn default() -> Self {
        Self {
            quota_used_percent: DEFAULT_QUOTA_USED_PERCENT,
            volume_used_percent: DEFAULT_VOLUME_USED_PERCENT,
        }
    }
}

impl AlertThresholds {
    fn is_default(&self) -> bool {
        self == &Self::default()
    }
}

/// Problems with `score.monitoring`.
pub(crate) fn validate(score: &TenantScore, problems: &mut Vec<Problem>) {
    let monitoring = &score.monitoring;
    let mut problem = |path: String, message: String| problems.push(Problem::new(path, message));
    if !monitoring.enabled && !monitoring.receivers.is_empty() {
        problem(
            "spec.monitoring.receivers".into(),
            "are not used while monitoring is disabled: remove them, or set `enabled: true`".into(),
        );
    }
    for (field, value) in [
        ("quotaUsedPercent", monitoring.thresholds.quota_used_percent),
        (
            "volumeUsedPercent",
            monitoring.thresholds.volume_used_percent,
        ),
    ] {
        if !(1..=99).contains(&value) {
            problem(
                format!("spec.monitoring.thresholds.{field}"),
                format!("{value} is not a percentage from 1 to 99, such as 80"),
            );
        }
    }
    for (i, receiver) in monitoring.receivers.iter().enumerate() {
        let path = format!("spec.monitoring.receivers[{i}]");
        if !is_dns_label(&receiver.name, 63) {
            problem(
                format!("{path}.name"),
                format!(
                    "`{}` is not a receiver name: use lowercase letters, digits and `-`, such as `oncall`",
                    receiver.name
                ),
            );
        } else if monitoring.receivers[..i]
            .iter()
            .any(|r| r.name == receiver.name)
        {
            problem(
                format!("{path}.name"),
                format!("`{}` is used twice: name each receiver once", receiver.name),
            );
        }
        match (&receiver.email, &receiver.webhook) {
            (Some(email), None) => email_problems(&format!("{path}.email"), email, &mut problem),
            (None, Some(webhook)) => {
                webhook_problems(&format!("{path}.webhook"), webhook, &mut problem)
            }
            _ => problem(
                path,
                "needs exactly one of `email: {to: ADDRESS}` and `webhook: {url: URL}`".into(),
            ),
        }
    }
}

fn email_problems(path: &str, email: &EmailReceiver, problem: &mut impl FnMut(String, String)) {
    for (field, address) in [("to", Some(&email.to)), ("from", email.from.as_ref())] {
        let Some(address) = address else { continue };
        let valid = address
            .split_once('@')
            .is_some_and(|(user, host)| !user.is_empty() && is_dns_subdomain(host))
            && !address.contains(char::is_whitespace);
        if !valid {
            problem(
                format!("{path}.{field}"),
                format!("`{address}` is not an e-mail address, such as `ops@acme.example`"),
            );
        }
    }
    if let Some(smarthost) = &email.smarthost {
        let valid = smarthost
            .rsplit_once(':')
            .is_some_and(|(host, port)| is_dns_subdomain(host) && port.parse::<u16>().is_ok());
        if !valid {
            problem(
                format!("{path}.smarthost"),
                format!("`{smarthost}` is not `host:port`, such as `smtp.acme.example:587`"),
            );
        }
    }
    if let Some(secret) = &email.auth_password {
        secret_problems(&format!("{path}.authPassword"), secret, problem);
    }
}

fn webhook_problems(
    path: &str,
    webhook: &WebhookReceiver,
    problem: &mut impl FnMut(String, String),
) {
    match (&webhook.url, &webhook.url_secret) {
        (Some(url), None) => {
            let rest = url
                .strip_prefix("https://")
                .or_else(|| url.strip_prefix("http://"));
            let authority = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or_default());
            match authority {
                None | Some("") => problem(
                    format!("{path}.url"),
                    format!(
                        "`{url}` is not an http(s) URL, such as `https://hooks.acme.example/alerts`"
                    ),
                ),
                Some(authority) if authority.contains('@') => problem(
                    format!("{path}.url"),
                    "carries credentials (`user:password@`), and Harmony never writes secrets \
                     into what it renders: store the URL in a Secret in the tenant namespace and \
                     write `urlSecret: {name: NAME, key: KEY}` instead of `url`"
                        .into(),
                ),
                Some(_) => {}
            }
        }
        (None, Some(secret)) => secret_problems(&format!("{path}.urlSecret"), secret, problem),
        _ => problem(
            path.into(),
            "needs exactly one of `url` and `urlSecret: {name: NAME, key: KEY}`".into(),
        ),
    }
}

fn secret_problems(path: &str, secret: &SecretRef, problem: &mut impl FnMut(String, String)) {
    if !is_dns_subdomain(&secret.name) {
        problem(
            format!("{path}.name"),
            format!(
                "`{}` is not a Secret name: use lowercase letters, digits, `-` and `.`",
                secret.name
            ),
        );
    }
    let key_ok = !secret.key.is_empty()
        && secret.key.len() <= 253
        && secret
            .key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b));
    if !key_ok {
        problem(
            format!("{path}.key"),
            format!(
                "`{}` is not a Secret key: use letters, digits, `-`, `_` and `.`, such as `url`",
                secret.key
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use harmony::Documents;

    use crate::{ClusterFacts, TenantScore, load_tenants};

    /// The problems of a tenant file whose `spec.monitoring` is `monitoring` (indented YAML).
    fn refused(monitoring: &str) -> Vec<String> {
        let text = format!(
            "apiVersion: harmony.nationtech.io/v1alpha1\nkind: Tenant\nmetadata: {{name: acme}}\n\
             spec:\n  monitoring:\n{monitoring}"
        );
        let documents = Documents::parse("t.yaml", &text).unwrap();
        match load_tenants(&documents, &ClusterFacts::kubernetes()) {
            Ok(_) => Vec::new(),
            Err(problems) => problems.0.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn a_tenant_file_without_monitoring_has_it_on_and_writes_it_back_without_it() {
        let score = TenantScore::new("acme");
        assert!(score.monitoring.enabled);
        let json = serde_json::to_value(&score).unwrap();
        assert!(json["spec"].get("monitoring").is_none(), "{json}");
        let ok = refused(
            "    receivers:\n    - name: ops\n      email: {to: ops@acme.example, smarthost: 'smtp.acme.example:587', authUsername: ops, authPassword: {name: smtp, key: password}}\n    - name: chat\n      webhook: {urlSecret: {name: chat, key: url}}\n    - name: pager\n      webhook: {url: 'https://pager.acme.example/hook'}\n    thresholds: {quotaUsedPercent: 90}\n",
        );
        assert!(ok.is_empty(), "{ok:#?}");
    }

    #[test]
    fn inline_secrets_are_refused_where_they_are_written_with_the_fix() {
        let shown = refused(
            "    receivers:\n    - name: ops\n      email: {to: ops@acme.example, authPassword: hunter2}\n",
        );
        assert_eq!(shown.len(), 1, "{shown:#?}");
        assert!(
            shown[0].starts_with(
                "t.yaml:8:51: spec.monitoring.receivers[0].email.authPassword: is an inline secret"
            ),
            "{shown:#?}"
        );
        assert!(
            shown[0].contains("write `{name: NAME, key: KEY}`"),
            "{shown:#?}"
        );
        let shown = refused(
            "    receivers:\n    - name: chat\n      webhook: {urlSecret: 'https://hooks.example/T0/B0/XYZ'}\n",
        );
        assert!(
            shown.iter().any(|s| s.starts_with(
                "t.yaml:8:28: spec.monitoring.receivers[0].webhook.urlSecret: is an inline secret"
            )),
            "{shown:#?}"
        );
        let shown = refused(
            "    receivers:\n    - name: chat\n      webhook: {url: 'https://bot:s3cret@hooks.acme.example/alerts'}\n",
        );
        assert_eq!(shown.len(), 1, "{shown:#?}");
        assert!(
            shown[0].starts_with("t.yaml:8:")
                && shown[0].contains("webhook.url: carries credentials"),
            "{shown:#?}"
        );
        assert!(
            shown[0].contains("urlSecret: {name: NAME, key: KEY}"),
            "{shown:#?}"
        );
    }

    #[test]
    fn bad_receivers_and_thresholds_are_refused_each_by_field() {
        let shown = refused(
            "    receivers:\n\
             \x20   - name: Ops\n      email: {to: not-an-address, smarthost: smtp}\n\
             \x20   - name: both\n      email: {to: a@acme.example}\n      webhook: {url: 'https://h.acme.example'}\n\
             \x20   - name: none\n\
             \x20   - name: hook\n      webhook: {url: 'ftp://h.acme.example'}\n\
             \x20   - name: hook\n      webhook: {url: 'https://h.acme.example', urlSecret: {name: Bad_Name, key: 'a/b'}}\n\
             \x20   thresholds: {quotaUsedPercent: 0, volumeUsedPercent: 100}\n",
        );
        let paths: Vec<&str> = shown
            .iter()
            .map(|s| s.split(": ").nth(1).unwrap_or_default())
            .collect();
        assert_eq!(
            paths,
            [
                "spec.monitoring.receivers[0].name",
                "spec.monitoring.receivers[0].email.to",
                "spec.monitoring.receivers[0].email.smarthost",
                "spec.monitoring.receivers[1]",
                "spec.monitoring.receivers[2]",
                "spec.monitoring.receivers[3].webhook.url",
                "spec.monitoring.receivers[4].name",
                "spec.monitoring.receivers[4].webhook",
                "spec.monitoring.thresholds.quotaUsedPercent",
                "spec.monitoring.thresholds.volumeUsedPercent",
            ],
            "{shown:#?}"
        );
        assert!(
            shown[8].contains("0 is not a percentage from 1 to 99"),
            "{shown:#?}"
        );
        assert!(shown[6].contains("`hook` is used twice"), "{shown:#?}");
        let off = refused(
            "    enabled: false\n    receivers:\n    - name: ops\n      email: {to: a@acme.example}\n",
        );
        assert_eq!(off.len(), 1, "{off:#?}");
        assert!(
            off[0].contains("spec.monitoring.receivers: are not used while monitoring is disabled")
        );
    }
}
