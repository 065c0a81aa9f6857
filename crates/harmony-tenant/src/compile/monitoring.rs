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

/// Whether `score` has monitoring on a cluster with `facts`, and if not, why.
fn status(score: &TenantScore, facts: &ClusterFacts) -> MonitoringStatus {
    if !facts.monitoring_api {
        MonitoringStatus::NotServed
    } else if !score.monitoring.enabled {
        MonitoringStatus::Disabled
    } else {
        MonitoringStatus::On
    }
}

/// Whether `score` has monitoring on a cluster with `facts` (its roles then read pod metrics).
pub(super) fn applies(score: &TenantScore, facts: &ClusterFacts) -> bool {
    status(score, facts) == MonitoringStatus::On
}

/// Whether `score` gets its monitoring objects on a cluster with `facts`, and the objects.
pub(super) fn objects(
    score: &TenantScore,
    facts: &ClusterFacts,
) -> (MonitoringStatus, Vec<TenantObject>) {
    let status = status(score, facts);
    if status != MonitoringStatus::On {
        return (status, Vec::new());
    }
    let mut objects = role_bindings(score, facts);
    objects.push(TenantObject::PrometheusRule(alerts(score)));
    if !score.monitoring.receivers.is_empty() {
        objects.push(TenantObject::AlertmanagerConfig(receivers(score)));
    }
    (MonitoringStatus::On, objects)
}

/// How many RoleBindings the tenant's monitoring adds on a cluster with `facts`.
pub(crate) fn role_binding_count(score: &TenantScore, facts: &ClusterFacts) -> usize {
    let (_, objects) = objects(score, facts);
    objects
        .iter()
        .filter(|o| matches!(o, TenantObject::RoleBinding(_)))
        .count()
}

/// One RoleBinding per monitoring ClusterRole that some member's role gets, named as the
/// ClusterRole, with the members' subjects as their `member-<name>` bindings name them.
fn role_bindings(score: &TenantScore, facts: &ClusterFacts) -> Vec<TenantObject> {
    MONITORING_ROLES
        .iter()
        .filter_map(|(cluster_role, roles)| {
            let mut subjects: Vec<_> = Vec::new();
            let members = score.rbac_config.members.iter();
            for member in members.filter(|m| roles.contains(&m.role)) {
                // Identity provider users of one role share its group: bind it once.
                let subject = subject(score, member, facts);
                if !subjects.contains(&subject) {
                    subjects.push(subject);
                }
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::compile;
    use crate::monitoring::{EmailReceiver, WebhookReceiver};
    use crate::plan::PlanObject;
    use crate::score::{Member, TenantRole};

    fn served() -> ClusterFacts {
        ClusterFacts {
            monitoring_api: true,
            ..ClusterFacts::kubernetes()
        }
    }

    fn tenant() -> TenantScore {
        let mut score = TenantScore::new("acme")
            .in_namespace("acme-prod")
            .member(Member::user(
                "alice",
                TenantRole::Admin,
                "alice@acme.example",
            ))
            .member(Member::group("devs", TenantRole::Developer, "acme-devs"))
            .member(Member::service_account("ci", TenantRole::Developer))
            .member(Member::user("vic", TenantRole::Viewer, "vic@acme.example"));
        score.monitoring.receivers = vec![
            AlertReceiver {
                name: "ops".into(),
                email: Some(EmailReceiver {
                    to: "ops@acme.example".into(),
                    from: None,
                    smarthost: None,
                    auth_username: None,
                    auth_password: None,
                }),
                webhook: None,
            },
            AlertReceiver {
                name: "chat".into(),
                email: None,
                webhook: Some(WebhookReceiver {
                    url: None,
                    url_secret: Some(SecretRef {
                        name: "chat-hook".into(),
                        key: "url".into(),
                    }),
                }),
            },
        ];
        score
    }

    fn bindings(objects: &[TenantObject]) -> BTreeMap<&str, &RoleBinding> {
        objects
            .iter()
            .filter_map(|o| match o {
                TenantObject::RoleBinding(b) => Some((b.metadata.name.as_deref()?, b)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn nothing_when_the_cluster_does_not_serve_monitoring_or_the_tenant_opts_out() {
        let (status, none) = objects(&tenant(), &ClusterFacts::kubernetes());
        assert_eq!((status, none.len()), (MonitoringStatus::NotServed, 0));
        let mut off = tenant();
        off.monitoring.enabled = false;
        let (status, none) = objects(&off, &served());
        assert_eq!((status, none.len()), (MonitoringStatus::Disabled, 0));
        assert!(status.describe().contains("enabled: false"));
        let plan = compile(&tenant(), &ClusterFacts::kubernetes());
        assert_eq!(plan.monitoring, MonitoringStatus::NotServed);
        assert!(plan.objects().iter().all(|o| o.kind() != "PrometheusRule"));
    }

    #[test]
    fn bindings_name_the_cluster_roles_with_the_member_subjects() {
        let score = tenant();
        let (status, planned) = objects(&score, &served());
        assert_eq!(status, MonitoringStatus::On);
        let by_name = bindings(&planned);
        let names: Vec<&str> = by_name.keys().copied().collect();
        assert_eq!(
            names,
            [
                "alert-routing-edit",
                "monitoring-edit",
                "monitoring-rules-view"
            ]
        );
        let subjects = |name: &str| -> Vec<(String, String)> {
            let b = by_name[name];
            assert_eq!(b.role_ref.kind, "ClusterRole");
            assert_eq!(b.role_ref.name, name);
            b.subjects
                .iter()
                .flatten()
                .map(|s| (s.kind.clone(), s.name.clone()))
                .collect()
        };
        let pair = |k: &str, n: &str| (k.to_string(), n.to_string());
        assert_eq!(
            subjects("alert-routing-edit"),
            [pair("User", "alice@acme.example")]
        );
        assert_eq!(
            subjects("monitoring-edit"),
            [
                pair("User", "alice@acme.example"),
                pair("Group", "acme-devs"),
                pair("ServiceAccount", "ci")
            ]
        );
        assert_eq!(
            subjects("monitoring-rules-view"),
            [pair("User", "vic@acme.example")]
        );
        // Exactly the subjects of the member bindings.
        let plan = compile(&score, &served());
        let all = bindings(plan.objects());
        for member in &score.rbac_config.members {
            let own = &all[format!("member-{}", member.name).as_str()];
            let own = &own.subjects.as_ref().unwrap()[0];
            let monitoring: Vec<_> = MONITORING_ROLES
                .iter()
                .filter(|(_, roles)| roles.contains(&member.role))
                .collect();
            assert!(!monitoring.is_empty());
            for (role, _) in monitoring {
                assert!(all[role].subjects.as_ref().unwrap().contains(own), "{role}");
            }
        }
    }

    #[test]
    fn no_binding_without_members_of_its_roles() {
        let (_, objects) = objects(&TenantScore::new("acme"), &served());
        let kinds: Vec<&str> = objects.iter().map(TenantObject::kind).collect();
        assert_eq!(kinds, ["PrometheusRule"]);
    }

    #[test]
    fn every_alert_selects_the_tenant_namespace_only() {
        let mut score = tenant();
        score.monitoring.thresholds.quota_used_percent = 75;
        score.monitoring.thresholds.volume_used_percent = 85;
        let rule = alerts(&score);
        assert_eq!(rule.metadata.name.as_deref(), Some(ALERTS_NAME));
        let rules = &rule.spec.groups[0].rules;
        let names: Vec<&str> = rules.iter().map(|r| r.alert.as_str()).collect();
        assert_eq!(
            names,
            [
                "TenantQuotaNearlyFull",
                "TenantPodCrashLooping",
                "TenantVolumeNearlyFull"
            ]
        );
        for r in rules {
            let selectors = r.expr.matches('{').count();
            let scoped = r.expr.matches("namespace=\"acme-prod\"").count();
            assert_eq!(selectors, scoped, "{}", r.expr);
            assert_eq!(r.labels["severity"], "warning");
        }
        assert!(rules[0].expr.ends_with("> 75"), "{}", rules[0].expr);
        assert!(rules[2].expr.ends_with("< 15"), "{}", rules[2].expr);
    }

    #[test]
    fn every_receiver_gets_every_alert_and_secrets_stay_references() {
        let config = receivers(&tenant());
        let route = config.spec.route.as_ref().unwrap();
        assert_eq!(route.receiver, "ops");
        let children: Vec<(&str, bool)> = route
            .routes
            .iter()
            .map(|r| (r.receiver.as_str(), r.continue_))
            .collect();
        assert_eq!(children, [("ops", true), ("chat", true)]);
        let json = serde_json::to_value(&config).unwrap();
        assert_eq!(
            json["spec"]["receivers"][1]["webhookConfigs"][0],
            serde_json::json!({"sendResolved": true, "urlSecret": {"name": "chat-hook", "key": "url"}})
        );
        let mut one = tenant();
        one.monitoring.receivers.truncate(1);
        assert!(receivers(&one).spec.route.unwrap().routes.is_empty());
    }

    #[test]
    fn the_same_tenant_compiles_to_the_same_objects() {
        let a = compile(&tenant(), &served());
        let b = compile(&tenant(), &served());
        let json = |p: &crate::TenantPlan| -> Vec<String> {
            p.objects()
                .iter()
                .map(|o| o.to_json().to_string())
                .collect()
        };
        assert_eq!(json(&a), json(&b));
        let phases: Vec<_> = a
            .objects()
            .iter()
            .filter(|o| matches!(o.kind(), "PrometheusRule" | "AlertmanagerConfig"))
            .map(TenantObject::phase)
            .collect();
        assert_eq!(phases, [crate::Phase::Monitoring; 2]);
        assert!(crate::Phase::Monitoring > crate::Phase::NetworkPolicies);
        assert!(!crate::Phase::Monitoring.grants_access());
    }
}
