//! The tenant's monitoring objects: RoleBindings of the cluster's monitoring ClusterRoles, the
//! PrometheusRule `tenant-alerts` with the standard alerts, and the AlertmanagerConfig
//! `tenant-receivers` routing the namespace's alerts to the tenant's receivers.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::SecretKeySelector;
use k8s_openapi::api::rbac::v1::{RoleBinding, RoleRef};

use super::namespaced;
use super::rbac::{RBAC_GROUP, subject};
use crate::facts::ClusterFacts;
use crate::monitoring::crd::{
    AlertReceiverConfig, AlertRoute, AlertRule, AlertmanagerConfig, AlertmanagerConfigSpec,
    EmailConfig, PrometheusRule, PrometheusRuleSpec, RuleGroup, WebhookConfig,
};
use crate::monitoring::{AlertReceiver, MONITORING_ROLES, SecretRef};
use crate::plan::{MonitoringStatus, TenantObject};
use crate::score::TenantScore;

/// Name of the tenant's PrometheusRule.
pub const ALERTS_NAME: &str = "tenant-alerts";
/// Name of the tenant's AlertmanagerConfig.
pub const RECEIVERS_NAME: &str = "tenant-receivers";

/// Whether `score` gets its monitoring objects on a cluster with `facts`, and the objects.
pub(super) fn objects(
    score: &TenantScore,
    facts: &ClusterFacts,
) -> (MonitoringStatus, Vec<TenantObject>) {
    if !facts.monitoring_api {
        return (MonitoringStatus::NotServed, Vec::new());
    }
    if !score.monitoring.enabled {
        return (MonitoringStatus::Disabled, Vec::new());
    }
    let mut objects = role_bindings(score);
    objects.push(TenantObject::PrometheusRule(alerts(score)));
    if !score.monitoring.receivers.is_empty() {
        objects.push(TenantObject::AlertmanagerConfig(receivers(score)));
    }
    (MonitoringStatus::On, objects)
}

/// One RoleBinding per monitoring ClusterRole that some member's role gets, named as the
/// ClusterRole, with the members' subjects as their `member-<name>` bindings name them.
fn role_bindings(score: &TenantScore) -> Vec<TenantObject> {
    MONITORING_ROLES
        .iter()
        .filter_map(|(cluster_role, roles)| {
            let subjects: Vec<_> = score
                .rbac_config
                .members
                .iter()
                .filter(|m| roles.contains(&m.role))
                .map(|m| subject(score, m))
                .collect();
            (!subjects.is_empty()).then(|| {
                TenantObject::RoleBinding(RoleBinding {
                    metadata: namespaced(score, cluster_role),
                    role_ref: RoleRef {
                        api_group: RBAC_GROUP.into(),
                        kind: "ClusterRole".into(),
                        name: (*cluster_role).into(),
                    },
                    subjects: Some(subjects),
                })
            })
        })
        .collect()
}

fn text_map<const N: usize>(pairs: [(&str, String); N]) -> BTreeMap<String, String> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// An alert of the tenant's namespace: `severity: warning`, a summary and a description.
fn alert(name: &str, expr: String, for_: &str, summary: String, description: &str) -> AlertRule {
    AlertRule {
        alert: name.into(),
        expr,
        for_: Some(for_.into()),
        labels: text_map([("severity", "warning".into())]),
        annotations: text_map([("summary", summary), ("description", description.into())]),
    }
}

/// The PrometheusRule `tenant-alerts`: quota above the threshold per resource, containers
/// crash-looping, volumes nearly full; every selector names the tenant namespace.
fn alerts(score: &TenantScore) -> PrometheusRule {
    let ns = score.namespace();
    let t = score.monitoring.thresholds;
    let quota = t.quota_used_percent;
    let free = 100 - t.volume_used_percent;
    PrometheusRule {
        metadata: namespaced(score, ALERTS_NAME),
        spec: PrometheusRuleSpec {
            groups: vec![RuleGroup {
                name: "harmony-tenant".into(),
                rules: vec![
                    alert(
                        "TenantQuotaNearlyFull",
                        format!(
                            "100 * kube_resourcequota{{namespace=\"{ns}\", type=\"used\"}} / ignoring(type) \
                             (kube_resourcequota{{namespace=\"{ns}\", type=\"hard\"}} > 0) > {quota}"
                        ),
                        "15m",
                        format!(
                            "{{{{ $labels.resource }}}} is above {quota}% of quota {{{{ $labels.resourcequota }}}}"
                        ),
                        "{{ $labels.resource }} uses {{ $value | humanize }}% of its quota in \
                         namespace {{ $labels.namespace }}: free some, or ask the platform team \
                         for a bigger quota.",
                    ),
                    alert(
                        "TenantPodCrashLooping",
                        format!(
                            "max by (namespace, pod, container) \
                             (kube_pod_container_status_waiting_reason{{namespace=\"{ns}\", reason=\"CrashLoopBackOff\"}}) >= 1"
                        ),
                        "15m",
                        "{{ $labels.pod }} ({{ $labels.container }}) is crash-looping".into(),
                        "Container {{ $labels.container }} of pod {{ $labels.pod }} in namespace \
                         {{ $labels.namespace }} keeps restarting (CrashLoopBackOff): read its \
                         logs with `kubectl logs --previous`.",
                    ),
                    alert(
                        "TenantVolumeNearlyFull",
                        format!(
                            "100 * kubelet_volume_stats_available_bytes{{namespace=\"{ns}\"}} / \
                             kubelet_volume_stats_capacity_bytes{{namespace=\"{ns}\"}} < {free}"
                        ),
                        "10m",
                        format!(
                            "volume {{{{ $labels.persistentvolumeclaim }}}} has less than {free}% free"
                        ),
                        "PersistentVolumeClaim {{ $labels.persistentvolumeclaim }} in namespace \
                         {{ $labels.namespace }} has {{ $value | humanize }}% free space left: \
                         delete data or move to a bigger claim.",
                    ),
                ],
            }],
        },
    }
}

fn secret(reference: &SecretRef) -> SecretKeySelector {
    SecretKeySelector {
        name: reference.name.clone(),
        key: reference.key.clone(),
        optional: None,
    }
}

fn receiver(r: &AlertReceiver) -> AlertReceiverConfig {
    AlertReceiverConfig {
        name: r.name.clone(),
        email_configs: r
            .email
            .iter()
            .map(|e| EmailConfig {
                send_resolved: true,
                to: e.to.clone(),
                from: e.from.clone(),
                smarthost: e.smarthost.clone(),
                auth_username: e.auth_username.clone(),
                auth_password: e.auth_password.as_ref().map(secret),
            })
            .collect(),
        webhook_configs: r
            .webhook
            .iter()
            .map(|w| WebhookConfig {
                send_resolved: true,
                url: w.url.clone(),
                url_secret: w.url_secret.as_ref().map(secret),
            })
            .collect(),
    }
}

/// The AlertmanagerConfig `tenant-receivers`: every alert of the namespace goes to every
/// receiver (the operator adds the namespace matcher to the route).
fn receivers(score: &TenantScore) -> AlertmanagerConfig {
    let receivers = &score.monitoring.receivers;
    let routes = if receivers.len() > 1 {
        receivers
            .iter()
            .map(|r| AlertRoute {
                receiver: r.name.clone(),
                continue_: true,
                ..AlertRoute::default()
            })
            .collect()
    } else {
        Vec::new()
    };
    AlertmanagerConfig {
        metadata: namespaced(score, RECEIVERS_NAME),
        spec: AlertmanagerConfigSpec {
            route: Some(AlertRoute {
                receiver: receivers[0].name.clone(),
                group_by: vec!["alertname".into(), "namespace".into()],
                continue_: false,
                routes,
            }),
            receivers: receivers.iter().map(receiver).collect(),
        },
    }
}
