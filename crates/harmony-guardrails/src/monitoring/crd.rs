//! Prometheus and Alertmanager (`monitoring.coreos.com/v1`, prometheus-operator CRDs), as serde
//! types holding the fields Harmony sets: k8s-openapi does not ship them. Both implement
//! k8s-openapi's [`Resource`](k8s_openapi::Resource), so the kind table names them by type.

use k8s_openapi::api::core::v1::PodSecurityContext;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde::{Deserialize, Serialize};

/// A Prometheus server the operator runs.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Prometheus {
    /// Name, namespace and labels.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// What it scrapes, evaluates and where it sends alerts.
    pub spec: PrometheusSpec,
}

/// The spec of a [`Prometheus`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrometheusSpec {
    /// The ServiceAccount its pods run as (it reads targets).
    pub service_account_name: String,
    /// The label every series, target and rule gets with the namespace of the object that
    /// declared it.
    pub enforced_namespace_label: String,
    /// Monitors and rules cannot select other namespaces.
    pub ignore_namespace_selectors: bool,
    /// Targets cannot set labels that `honor_labels` would keep (such as `namespace`).
    pub override_honor_labels: bool,
    /// ServiceMonitors selected in the selected namespaces.
    pub service_monitor_selector: LabelSelector,
    /// Namespaces whose ServiceMonitors are selected.
    pub service_monitor_namespace_selector: LabelSelector,
    /// PodMonitors selected in the selected namespaces.
    pub pod_monitor_selector: LabelSelector,
    /// Namespaces whose PodMonitors are selected.
    pub pod_monitor_namespace_selector: LabelSelector,
    /// PrometheusRules selected in the selected namespaces.
    pub rule_selector: LabelSelector,
    /// Namespaces whose PrometheusRules are selected.
    pub rule_namespace_selector: LabelSelector,
    /// How long samples are kept.
    pub retention: String,
    /// Where alerts go.
    pub alerting: Alerting,
    /// The pods' security context.
    pub security_context: PodSecurityContext,
}

/// `spec.alerting` of a [`Prometheus`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Alerting {
    /// The Alertmanagers alerts are sent to.
    pub alertmanagers: Vec<AlertmanagerEndpoint>,
}

/// One Alertmanager Service alerts are sent to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertmanagerEndpoint {
    /// The Service's namespace.
    pub namespace: String,
    /// The Service's name.
    pub name: String,
    /// Its port name.
    pub port: String,
    /// The Alertmanager API version.
    pub api_version: String,
}

/// An Alertmanager the operator runs.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Alertmanager {
    /// Name, namespace and labels.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// Its base configuration and which AlertmanagerConfigs it merges.
    pub spec: AlertmanagerSpec,
}

/// The spec of an [`Alertmanager`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertmanagerSpec {
    /// The ServiceAccount its pods run as.
    pub service_account_name: String,
    /// The Secret holding the base configuration (`alertmanager.yaml`).
    pub config_secret: String,
    /// AlertmanagerConfigs selected in the selected namespaces.
    pub alertmanager_config_selector: LabelSelector,
    /// Namespaces whose AlertmanagerConfigs are selected.
    pub alertmanager_config_namespace_selector: LabelSelector,
    /// How tenant routes are confined.
    pub alertmanager_config_matcher_strategy: MatcherStrategy,
    /// The pods' security context.
    pub security_context: PodSecurityContext,
}

/// `alertmanagerConfigMatcherStrategy`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MatcherStrategy {
    /// `OnNamespace`: every route of an AlertmanagerConfig matches only alerts whose `namespace`
    /// label is the AlertmanagerConfig's namespace.
    #[serde(rename = "type")]
    pub kind: String,
}

harmony_tenant::api_resources!(NamespaceResourceScope, "monitoring.coreos.com" / "v1":
    Prometheus "prometheuses", Alertmanager "alertmanagers");
