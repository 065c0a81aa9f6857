//! The cluster side of per-tenant monitoring (`harmony cluster monitoring render|apply`).
//!
//! A [`ClusterMonitoring`] (defaults, or a `kind: ClusterMonitoring` file) compiles purely, with
//! [`compile_monitoring`], to a [`MonitoringPlan`]:
//! - OKD: user-workload monitoring turned on ([`okd`]); OKD ships the rest;
//! - vanilla prometheus-operator: the same shape rebuilt ([`vanilla`]): a shared
//!   namespace-enforcing Prometheus and Alertmanager, the read path kube-rbac-proxy →
//!   prom-label-proxy ([`read_path`]) and the tenant ClusterRoles ([`roles`]).
//!
//! Tenant plans bind the ClusterRoles per namespace; nothing here grants a tenant anything.
//! [`MonitoringScore`] ensures the plan on any topology with the [`MonitoringManager`]
//! capability.

pub mod crd;
pub mod okd;
mod plan;
pub mod read_path;
pub mod roles;
mod score;
mod spec;
pub mod vanilla;

pub use crd::{Alertmanager, Prometheus};
pub use plan::{MonitoringObject, MonitoringPlan, PART_OF, PART_OF_LABEL};
pub use score::{MonitoringManager, MonitoringScore};
pub use spec::{
    ClusterMonitoring, DEFAULT_KUBE_RBAC_PROXY_IMAGE, DEFAULT_MONITORING_NAMESPACE,
    DEFAULT_PROM_LABEL_PROXY_IMAGE, DEFAULT_RETENTION, MONITORING_KIND, OkdAlertmanager,
};

use harmony_tenant::ClusterFlavor;

/// The objects of `monitoring` on a cluster of `flavor`, in apply order.
pub fn compile_monitoring(monitoring: &ClusterMonitoring, flavor: ClusterFlavor) -> MonitoringPlan {
    let objects = match flavor {
        ClusterFlavor::Okd => okd::okd_objects(monitoring),
        ClusterFlavor::Kubernetes => vanilla::vanilla_objects(monitoring),
    };
    MonitoringPlan::new(&monitoring.name, objects)
}

#[cfg(test)]
mod tests {
    use super::*;
    use harmony_tenant::PlanObject;
    use harmony_tenant::{MANAGED_BY_LABEL, MANAGED_BY_VALUE, TENANT_LABEL};
    use serde_json::json;

    fn names(plan: &MonitoringPlan) -> Vec<String> {
        plan.objects()
            .iter()
            .map(|o| {
                format!(
                    "{} {}{}",
                    o.kind(),
                    o.namespace().map(|n| format!("{n}/")).unwrap_or_default(),
                    o.name()
                )
            })
            .collect()
    }

    fn find(plan: &MonitoringPlan, kind: &str, name: &str) -> serde_json::Value {
        plan.objects()
            .iter()
            .find(|o| o.kind() == kind && o.name() == name)
            .unwrap_or_else(|| panic!("{kind} {name}"))
            .to_json()
    }

    #[test]
    fn vanilla_renders_every_object_in_apply_order() {
        let plan = compile_monitoring(&ClusterMonitoring::default(), ClusterFlavor::Kubernetes);
        assert_eq!(
            names(&plan),
            [
                "Namespace harmony-monitoring",
                "ServiceAccount harmony-monitoring/harmony-alertmanager",
                "ServiceAccount harmony-monitoring/harmony-prometheus",
                "ServiceAccount harmony-monitoring/harmony-query",
                "ClusterRole alert-routing-edit",
                "ClusterRole harmony-monitoring-metrics-reader",
                "ClusterRole harmony-monitoring-prometheus",
                "ClusterRole harmony-monitoring-query",
                "ClusterRole monitoring-edit",
                "ClusterRole monitoring-rules-edit",
                "ClusterRole monitoring-rules-view",
                "ClusterRoleBinding harmony-monitoring-prometheus",
                "ClusterRoleBinding harmony-monitoring-query",
                "NetworkPolicy harmony-monitoring/harmony-monitoring-same-namespace",
                "NetworkPolicy harmony-monitoring/harmony-query-tenancy",
                "ConfigMap harmony-monitoring/harmony-query-kube-rbac-proxy",
                "Secret harmony-monitoring/harmony-alertmanager-config",
                "Prometheus harmony-monitoring/harmony",
                "Alertmanager harmony-monitoring/harmony",
                "Deployment harmony-monitoring/harmony-query",
                "Service harmony-monitoring/harmony-query",
            ]
        );
        for object in plan.objects() {
            let labels = object.metadata().labels.as_ref().unwrap();
            assert_eq!(
                labels[MANAGED_BY_LABEL],
                MANAGED_BY_VALUE,
                "{}",
                object.name()
            );
        }
    }

    #[test]
    fn the_shared_prometheus_enforces_the_namespace_and_selects_tenants_only() {
        let monitoring = ClusterMonitoring {
            namespace: "obs".into(),
            retention: "30d".into(),
            ..ClusterMonitoring::default()
        };
        let plan = compile_monitoring(&monitoring, ClusterFlavor::Kubernetes);
        let tenants = json!({"matchExpressions": [{"key": TENANT_LABEL, "operator": "Exists"}]});
        let spec = &find(&plan, "Prometheus", "harmony")["spec"];
        assert_eq!(spec["enforcedNamespaceLabel"], "namespace");
        assert_eq!(spec["ignoreNamespaceSelectors"], true);
        assert_eq!(spec["overrideHonorLabels"], true);
        assert_eq!(spec["retention"], "30d");
        assert_eq!(spec["serviceAccountName"], "harmony-prometheus");
        for selector in ["serviceMonitor", "podMonitor", "rule"] {
            assert_eq!(spec[format!("{selector}NamespaceSelector")], tenants);
            assert_eq!(spec[format!("{selector}Selector")], json!({}));
        }
        assert_eq!(
            spec["alerting"]["alertmanagers"],
            json!([{"namespace": "obs", "name": "alertmanager-operated", "port": "web", "apiVersion": "v2"}])
        );
        let am = &find(&plan, "Alertmanager", "harmony")["spec"];
        assert_eq!(
            am["alertmanagerConfigMatcherStrategy"],
            json!({"type": "OnNamespace"})
        );
        assert_eq!(am["alertmanagerConfigNamespaceSelector"], tenants);
        assert_eq!(am["alertmanagerConfigSelector"], json!({}));
        assert_eq!(am["configSecret"], vanilla::ALERTMANAGER_CONFIG_SECRET);
        let binding = find(&plan, "ClusterRoleBinding", "obs-query");
        assert_eq!(
            binding["subjects"],
            json!([{"kind": "ServiceAccount", "name": "harmony-query", "namespace": "obs"}])
        );
    }

    #[test]
    fn the_read_path_chains_kube_rbac_proxy_to_prom_label_proxy_to_prometheus() {
        let plan = compile_monitoring(&ClusterMonitoring::default(), ClusterFlavor::Kubernetes);
        let pod = &find(&plan, "Deployment", vanilla::QUERY)["spec"]["template"]["spec"];
        let rbac = &pod["containers"][0];
        assert_eq!(rbac["image"], DEFAULT_KUBE_RBAC_PROXY_IMAGE);
        assert_eq!(
            rbac["args"],
            json!([
                "--secure-listen-address=0.0.0.0:9092",
                "--upstream=http://127.0.0.1:9095/",
                "--config-file=/etc/kube-rbac-proxy/config.yaml",
                "--allow-paths=/api/v1/query,/api/v1/query_range,/api/v1/labels,/api/v1/label/*/values,/api/v1/series"
            ])
        );
        let label = &pod["containers"][1];
        assert_eq!(label["image"], DEFAULT_PROM_LABEL_PROXY_IMAGE);
        assert_eq!(
            label["args"],
            json!([
                "--insecure-listen-address=127.0.0.1:9095",
                "--upstream=http://prometheus-operated.harmony-monitoring.svc:9090",
                "--label=namespace",
                "--enable-label-apis",
                "--error-on-replace"
            ])
        );
        assert_eq!(pod["serviceAccountName"], vanilla::QUERY);
        let config = find(&plan, "ConfigMap", vanilla::QUERY_CONFIG);
        let parsed: read_path::KubeRbacProxyConfig =
            serde_saphyr::from_str(config["data"]["config.yaml"].as_str().unwrap()).unwrap();
        assert_eq!(parsed, read_path::KubeRbacProxyConfig::tenancy());
        let role = find(&plan, "ClusterRole", "harmony-monitoring-query");
        assert_eq!(
            role["rules"],
            json!([
                {"apiGroups": ["authentication.k8s.io"], "resources": ["tokenreviews"], "verbs": ["create"]},
                {"apiGroups": ["authorization.k8s.io"], "resources": ["subjectaccessreviews"], "verbs": ["create"]},
            ])
        );
        // Who may view a namespace may read its pod metrics, the permission the proxy checks.
        let reader = find(&plan, "ClusterRole", "harmony-monitoring-metrics-reader");
        assert_eq!(
            reader["rules"],
            json!([{"apiGroups": ["metrics.k8s.io"], "resources": ["pods"], "verbs": ["get", "list", "watch"]}])
        );
        for role in ["admin", "edit", "view"] {
            let label = format!("rbac.authorization.k8s.io/aggregate-to-{role}");
            assert_eq!(reader["metadata"]["labels"][label], "true");
        }
        // Only the query port is open beyond the namespace.
        let open = find(&plan, "NetworkPolicy", "harmony-query-tenancy");
        assert_eq!(
            open["spec"]["ingress"],
            json!([{"ports": [{"port": "tenancy", "protocol": "TCP"}]}])
        );
    }

    #[test]
    fn no_tenant_role_reaches_beyond_monitoring_objects() {
        let plan = compile_monitoring(&ClusterMonitoring::default(), ClusterFlavor::Kubernetes);
        for name in roles::TENANT_ROLES {
            let role = find(&plan, "ClusterRole", name);
            for rule in role["rules"].as_array().unwrap() {
                assert_eq!(
                    rule["apiGroups"],
                    json!(["monitoring.coreos.com"]),
                    "{name}"
                );
                assert!(rule.get("nonResourceURLs").is_none(), "{name}");
            }
        }
    }

    #[test]
    fn okd_renders_the_two_config_maps_only() {
        let plan = compile_monitoring(&ClusterMonitoring::default(), ClusterFlavor::Okd);
        assert_eq!(
            names(&plan),
            [
                "ConfigMap openshift-monitoring/cluster-monitoring-config",
                "ConfigMap openshift-user-workload-monitoring/user-workload-monitoring-config",
            ]
        );
    }

    #[test]
    fn the_same_input_gives_the_same_bytes() {
        for flavor in [ClusterFlavor::Kubernetes, ClusterFlavor::Okd] {
            let render = || {
                let plan = compile_monitoring(&ClusterMonitoring::default(), flavor);
                plan.objects()
                    .iter()
                    .map(|o| serde_saphyr::to_string(o).unwrap())
                    .collect::<String>()
            };
            assert_eq!(render(), render());
        }
    }
}
