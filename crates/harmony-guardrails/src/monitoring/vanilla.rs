//! Vanilla prometheus-operator: the shape of OKD's user-workload monitoring, rebuilt.
//!
//! - one shared Prometheus (`harmony`) with the namespace label enforced, namespace selectors
//!   ignored and honor-labels overridden, selecting monitors and rules only in tenant
//!   namespaces (the tenant label exists);
//! - one Alertmanager (`harmony`) merging tenants' AlertmanagerConfigs, each confined to its
//!   namespace (`OnNamespace`), over a base configuration that drops everything else;
//! - the read path (see [`super::read_path`]) as a Deployment and Service `harmony-query`;
//! - NetworkPolicies: only the query port is reachable from outside the namespace, so no
//!   tenant reaches Prometheus or Alertmanager directly;
//! - the four tenant ClusterRoles ([`super::roles`]), and pod metrics aggregated into `view`,
//!   `edit` and `admin`, the permission the read path checks.

use std::collections::BTreeMap;

use harmony_tenant::TENANT_LABEL;
use k8s_openapi::ByteString;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMap, ConfigMapVolumeSource, Container, ContainerPort, Namespace,
    PodSecurityContext, PodSpec, PodTemplateSpec, ResourceRequirements, SeccompProfile, Secret,
    SecurityContext, Service, ServiceAccount, ServicePort, ServiceSpec, Volume, VolumeMount,
};
use k8s_openapi::api::networking::v1::{
    NetworkPolicy, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort,
    NetworkPolicySpec,
};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector, LabelSelectorRequirement, ObjectMeta,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::crd::{
    Alerting, AlertmanagerEndpoint, AlertmanagerSpec, MatcherStrategy, PrometheusSpec,
};
use super::plan::{MonitoringObject, harmony_meta};
use super::read_path::{ALLOWED_PATHS, KubeRbacProxyConfig, LABEL_PROXY_PORT, TENANCY_PORT};
use super::roles::tenant_roles;
use super::{Alertmanager, ClusterMonitoring, Prometheus};

/// The name of the Prometheus and Alertmanager objects.
pub const INSTANCE: &str = "harmony";
/// The read path's Deployment, Service and ServiceAccount.
pub const QUERY: &str = "harmony-query";
/// The Secret holding the Alertmanager base configuration.
pub const ALERTMANAGER_CONFIG_SECRET: &str = "harmony-alertmanager-config";
/// The key of the base configuration in that Secret.
pub const ALERTMANAGER_CONFIG_KEY: &str = "alertmanager.yaml";
/// The ConfigMap holding kube-rbac-proxy's configuration.
pub const QUERY_CONFIG: &str = "harmony-query-kube-rbac-proxy";
/// The label the shared Prometheus enforces.
pub const NAMESPACE_LABEL: &str = "namespace";

/// The Alertmanager base configuration: alerts no tenant route takes go nowhere; grouping and
/// inhibition never cross a namespace.
pub const ALERTMANAGER_BASE: &str = "\
# Tenant routes come from AlertmanagerConfigs, each confined to its namespace (OnNamespace).
route:
  receiver: 'null'
  group_by: [namespace, alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 12h
inhibit_rules:
  - source_matchers: [severity = critical]
    target_matchers: [severity = warning]
    equal: [namespace, alertname]
receivers:
  - name: 'null'
";

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Namespaces of tenants: the tenant label exists.
fn tenant_namespaces() -> LabelSelector {
    LabelSelector {
        match_expressions: Some(vec![LabelSelectorRequirement {
            key: TENANT_LABEL.into(),
            operator: "Exists".into(),
            values: None,
        }]),
        match_labels: None,
    }
}

/// Non-root, no privilege escalation, the runtime's seccomp profile.
fn pod_security() -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(65534),
        fs_group: Some(65534),
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".into(),
            ..SeccompProfile::default()
        }),
        ..PodSecurityContext::default()
    }
}

fn rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> PolicyRule {
    PolicyRule {
        api_groups: Some(strings(groups)),
        resources: Some(strings(resources)),
        verbs: strings(verbs),
        ..PolicyRule::default()
    }
}

/// A ClusterRole `name` with `rules`, bound to ServiceAccount `account` of `namespace`.
fn cluster_role(
    name: &str,
    rules: Vec<PolicyRule>,
    namespace: &str,
    account: &str,
) -> [MonitoringObject; 2] {
    [
        MonitoringObject::ClusterRole(ClusterRole {
            metadata: harmony_meta(name, None),
            rules: Some(rules),
            ..ClusterRole::default()
        }),
        MonitoringObject::ClusterRoleBinding(ClusterRoleBinding {
            metadata: harmony_meta(name, None),
            role_ref: RoleRef {
                api_group: "rbac.authorization.k8s.io".into(),
                kind: "ClusterRole".into(),
                name: name.into(),
            },
            subjects: Some(vec![Subject {
                kind: "ServiceAccount".into(),
                name: account.into(),
                namespace: Some(namespace.into()),
                ..Subject::default()
            }]),
        }),
    ]
}

fn prometheus(ns: &str, monitoring: &ClusterMonitoring) -> Prometheus {
    Prometheus {
        metadata: harmony_meta(INSTANCE, Some(ns)),
        spec: PrometheusSpec {
            service_account_name: format!("{INSTANCE}-prometheus"),
            enforced_namespace_label: NAMESPACE_LABEL.into(),
            ignore_namespace_selectors: true,
            override_honor_labels: true,
            service_monitor_selector: LabelSelector::default(),
            service_monitor_namespace_selector: tenant_namespaces(),
            pod_monitor_selector: LabelSelector::default(),
            pod_monitor_namespace_selector: tenant_namespaces(),
            rule_selector: LabelSelector::default(),
            rule_namespace_selector: tenant_namespaces(),
            retention: monitoring.retention.clone(),
            alerting: Alerting {
                alertmanagers: vec![AlertmanagerEndpoint {
                    namespace: ns.into(),
                    name: "alertmanager-operated".into(),
                    port: "web".into(),
                    api_version: "v2".into(),
                }],
            },
            security_context: pod_security(),
        },
    }
}

fn alertmanager(ns: &str) -> Alertmanager {
    Alertmanager {
        metadata: harmony_meta(INSTANCE, Some(ns)),
        spec: AlertmanagerSpec {
            service_account_name: format!("{INSTANCE}-alertmanager"),
            config_secret: ALERTMANAGER_CONFIG_SECRET.into(),
            alertmanager_config_selector: LabelSelector::default(),
            alertmanager_config_namespace_selector: tenant_namespaces(),
            alertmanager_config_matcher_strategy: MatcherStrategy {
                kind: "OnNamespace".into(),
            },
            security_context: pod_security(),
        },
    }
}

/// A hardened container: no privilege escalation, no capabilities, read-only root.
fn container(name: &str, image: &str, args: Vec<String>) -> Container {
    Container {
        name: name.into(),
        image: Some(image.into()),
        args: Some(args),
        resources: Some(ResourceRequirements {
            requests: Some(
                [
                    ("cpu".to_string(), Quantity("10m".into())),
                    ("memory".to_string(), Quantity("20Mi".into())),
                ]
                .into(),
            ),
            ..ResourceRequirements::default()
        }),
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            read_only_root_filesystem: Some(true),
            capabilities: Some(Capabilities {
                drop: Some(strings(&["ALL"])),
                add: None,
            }),
            ..SecurityContext::default()
        }),
        termination_message_policy: Some("FallbackToLogsOnError".into()),
        ..Container::default()
    }
}

fn query_deployment(ns: &str, monitoring: &ClusterMonitoring) -> Deployment {
    let labels = map(&[("app.kubernetes.io/name", QUERY)]);
    let mut rbac_proxy = container(
        "kube-rbac-proxy",
        &monitoring.kube_rbac_proxy_image,
        vec![
            format!("--secure-listen-address=0.0.0.0:{TENANCY_PORT}"),
            format!("--upstream=http://127.0.0.1:{LABEL_PROXY_PORT}/"),
            "--config-file=/etc/kube-rbac-proxy/config.yaml".into(),
            format!("--allow-paths={ALLOWED_PATHS}"),
        ],
    );
    rbac_proxy.ports = Some(vec![ContainerPort {
        name: Some("tenancy".into()),
        container_port: TENANCY_PORT,
        ..ContainerPort::default()
    }]);
    rbac_proxy.volume_mounts = Some(vec![VolumeMount {
        name: "config".into(),
        mount_path: "/etc/kube-rbac-proxy".into(),
        read_only: Some(true),
        ..VolumeMount::default()
    }]);
    let label_proxy = container(
        "prom-label-proxy",
        &monitoring.prom_label_proxy_image,
        vec![
            format!("--insecure-listen-address=127.0.0.1:{LABEL_PROXY_PORT}"),
            format!("--upstream=http://prometheus-operated.{ns}.svc:9090"),
            format!("--label={NAMESPACE_LABEL}"),
            "--enable-label-apis".into(),
            "--error-on-replace".into(),
        ],
    );
    Deployment {
        metadata: harmony_meta(QUERY, Some(ns)),
        spec: Some(DeploymentSpec {
            selector: LabelSelector {
                match_labels: Some(labels.clone()),
                match_expressions: None,
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    service_account_name: Some(QUERY.into()),
                    security_context: Some(pod_security()),
                    containers: vec![rbac_proxy, label_proxy],
                    volumes: Some(vec![Volume {
                        name: "config".into(),
                        config_map: Some(ConfigMapVolumeSource {
                            name: QUERY_CONFIG.into(),
                            ..ConfigMapVolumeSource::default()
                        }),
                        ..Volume::default()
                    }]),
                    ..PodSpec::default()
                }),
            },
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    }
}

fn query_service(ns: &str) -> Service {
    Service {
        metadata: harmony_meta(QUERY, Some(ns)),
        spec: Some(ServiceSpec {
            selector: Some(map(&[("app.kubernetes.io/name", QUERY)])),
            ports: Some(vec![ServicePort {
                name: Some("tenancy".into()),
                port: TENANCY_PORT,
                target_port: Some(IntOrString::String("tenancy".into())),
                protocol: Some("TCP".into()),
                ..ServicePort::default()
            }]),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

/// Only pods of the monitoring namespace reach its pods, except the query port.
fn network_policies(ns: &str) -> [MonitoringObject; 2] {
    let policy = |name: &str, pods: LabelSelector, rule: NetworkPolicyIngressRule| {
        MonitoringObject::NetworkPolicy(NetworkPolicy {
            metadata: harmony_meta(name, Some(ns)),
            spec: Some(NetworkPolicySpec {
                pod_selector: Some(pods),
                policy_types: Some(strings(&["Ingress"])),
                ingress: Some(vec![rule]),
                ..NetworkPolicySpec::default()
            }),
        })
    };
    [
        policy(
            "harmony-monitoring-same-namespace",
            LabelSelector::default(),
            NetworkPolicyIngressRule {
                from: Some(vec![NetworkPolicyPeer {
                    pod_selector: Some(LabelSelector::default()),
                    ..NetworkPolicyPeer::default()
                }]),
                ports: None,
            },
        ),
        policy(
            "harmony-query-tenancy",
            LabelSelector {
                match_labels: Some(map(&[("app.kubernetes.io/name", QUERY)])),
                match_expressions: None,
            },
            NetworkPolicyIngressRule {
                from: None,
                ports: Some(vec![NetworkPolicyPort {
                    port: Some(IntOrString::String("tenancy".into())),
                    protocol: Some("TCP".into()),
                    end_port: None,
                }]),
            },
        ),
    ]
}

/// Reading pod metrics (`metrics.k8s.io` pods), aggregated into `view`, `edit` and `admin`: the
/// permission the read path checks in the namespace queried, so that, as on OKD (whose
/// cluster-monitoring-operator ships `system:aggregated-metrics-reader` for it), whoever can
/// view a namespace can read its metrics. metrics-server ships the same role under that name;
/// Harmony's has its own, so that the two never conflict.
fn metrics_reader(ns: &str) -> ClusterRole {
    let mut metadata = harmony_meta(&format!("{ns}-metrics-reader"), None);
    metadata
        .labels
        .get_or_insert_default()
        .extend(["admin", "edit", "view"].map(|role| {
            (
                format!("rbac.authorization.k8s.io/aggregate-to-{role}"),
                "true".to_string(),
            )
        }));
    ClusterRole {
        metadata,
        rules: Some(vec![rule(
            &["metrics.k8s.io"],
            &["pods"],
            &["get", "list", "watch"],
        )]),
        ..ClusterRole::default()
    }
}

/// Every object of the vanilla stack.
pub(super) fn vanilla_objects(monitoring: &ClusterMonitoring) -> Vec<MonitoringObject> {
    let ns = monitoring.namespace.as_str();
    let account = |name: &str| {
        MonitoringObject::ServiceAccount(ServiceAccount {
            metadata: harmony_meta(name, Some(ns)),
            ..ServiceAccount::default()
        })
    };
    let prometheus_account = format!("{INSTANCE}-prometheus");
    let config = serde_saphyr::to_string(&KubeRbacProxyConfig::tenancy())
        .expect("the kube-rbac-proxy configuration serializes");
    let mut objects = vec![
        MonitoringObject::Namespace(Namespace {
            metadata: harmony_meta(ns, None),
            ..Namespace::default()
        }),
        account(&prometheus_account),
        account(&format!("{INSTANCE}-alertmanager")),
        account(QUERY),
        MonitoringObject::ConfigMap(ConfigMap {
            metadata: harmony_meta(QUERY_CONFIG, Some(ns)),
            data: Some([("config.yaml".to_string(), config)].into()),
            ..ConfigMap::default()
        }),
        MonitoringObject::Secret(Secret {
            metadata: harmony_meta(ALERTMANAGER_CONFIG_SECRET, Some(ns)),
            type_: Some("Opaque".into()),
            // `data`, not `stringData`: the API server stores `data`, so a re-apply compares equal.
            data: Some(
                [(
                    ALERTMANAGER_CONFIG_KEY.to_string(),
                    ByteString(ALERTMANAGER_BASE.as_bytes().to_vec()),
                )]
                .into(),
            ),
            ..Secret::default()
        }),
        MonitoringObject::Prometheus(Box::new(prometheus(ns, monitoring))),
        MonitoringObject::Alertmanager(Box::new(alertmanager(ns))),
        MonitoringObject::Deployment(Box::new(query_deployment(ns, monitoring))),
        MonitoringObject::Service(Box::new(query_service(ns))),
    ];
    objects.extend(cluster_role(
        &format!("{ns}-prometheus"),
        vec![
            rule(
                &[""],
                &["services", "endpoints", "pods"],
                &["get", "list", "watch"],
            ),
            rule(
                &["discovery.k8s.io"],
                &["endpointslices"],
                &["get", "list", "watch"],
            ),
            rule(&[""], &["configmaps"], &["get"]),
            PolicyRule {
                non_resource_urls: Some(strings(&["/metrics"])),
                verbs: strings(&["get"]),
                ..PolicyRule::default()
            },
        ],
        ns,
        &prometheus_account,
    ));
    objects.extend(cluster_role(
        &format!("{ns}-query"),
        vec![
            rule(&["authentication.k8s.io"], &["tokenreviews"], &["create"]),
            rule(
                &["authorization.k8s.io"],
                &["subjectaccessreviews"],
                &["create"],
            ),
        ],
        ns,
        QUERY,
    ));
    objects.push(MonitoringObject::ClusterRole(metrics_reader(ns)));
    objects.extend(network_policies(ns));
    objects.extend(
        tenant_roles()
            .into_iter()
            .map(MonitoringObject::ClusterRole),
    );
    objects
}
