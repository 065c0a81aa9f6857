//! OKD: user-workload monitoring, turned on once. OKD ships the tenant ClusterRoles, the
//! namespace-enforcing Prometheus and the tenancy port of thanos-querier; Harmony sets only:
//!
//! - `openshift-monitoring/cluster-monitoring-config`, `config.yaml`: `enableUserWorkload:
//!   true` (and `alertmanagerMain.enableUserAlertmanagerConfig: true` when tenant alerts go
//!   to the platform Alertmanager);
//! - `openshift-user-workload-monitoring/user-workload-monitoring-config`, `config.yaml`:
//!   the user-workload Prometheus retention and, by default, a user-workload Alertmanager with
//!   AlertmanagerConfig enabled.
//!
//! These ConfigMaps belong to the cluster admin: on a live cluster [`merge_config`] keeps every
//! key of the live `config.yaml` that Harmony does not set.

use k8s_openapi::api::core::v1::ConfigMap;
use serde_json::{Value, json};

use super::plan::{MonitoringObject, harmony_meta};
use super::{ClusterMonitoring, OkdAlertmanager};

/// The platform monitoring namespace.
pub const OKD_MONITORING_NAMESPACE: &str = "openshift-monitoring";
/// The user-workload monitoring namespace.
pub const OKD_USER_WORKLOAD_NAMESPACE: &str = "openshift-user-workload-monitoring";
/// The platform monitoring configuration.
pub const CLUSTER_MONITORING_CONFIG: &str = "cluster-monitoring-config";
/// The user-workload monitoring configuration.
pub const USER_WORKLOAD_CONFIG: &str = "user-workload-monitoring-config";
/// The key holding the configuration document in both.
pub const CONFIG_KEY: &str = "config.yaml";

/// Whether the ConfigMap `namespace/name` is one of OKD's monitoring configurations, whose
/// `config.yaml` is merged rather than replaced.
pub fn is_okd_config(namespace: &str, name: &str) -> bool {
    matches!(
        (namespace, name),
        (OKD_MONITORING_NAMESPACE, CLUSTER_MONITORING_CONFIG)
            | (OKD_USER_WORKLOAD_NAMESPACE, USER_WORKLOAD_CONFIG)
    )
}

/// `value` as YAML, keys sorted at every level, so the same settings give the same bytes.
fn yaml(mut value: Value) -> String {
    value.sort_all_objects();
    serde_saphyr::to_string(&value).expect("JSON values serialize as YAML")
}

fn config_map(namespace: &str, name: &str, config: Value) -> MonitoringObject {
    MonitoringObject::ConfigMap(ConfigMap {
        metadata: harmony_meta(name, Some(namespace)),
        data: Some([(CONFIG_KEY.to_string(), yaml(config))].into()),
        ..ConfigMap::default()
    })
}

/// The two ConfigMaps.
pub(super) fn okd_objects(monitoring: &ClusterMonitoring) -> Vec<MonitoringObject> {
    let mut platform = json!({"enableUserWorkload": true});
    let mut user_workload = json!({"prometheus": {"retention": monitoring.retention}});
    match monitoring.okd_alertmanager {
        OkdAlertmanager::Platform => {
            platform["alertmanagerMain"] = json!({"enableUserAlertmanagerConfig": true});
        }
        OkdAlertmanager::UserWorkload => {
            user_workload["alertmanager"] =
                json!({"enabled": true, "enableAlertmanagerConfig": true});
        }
    }
    vec![
        config_map(
            OKD_MONITORING_NAMESPACE,
            CLUSTER_MONITORING_CONFIG,
            platform,
        ),
        config_map(
            OKD_USER_WORKLOAD_NAMESPACE,
            USER_WORKLOAD_CONFIG,
            user_workload,
        ),
    ]
}

/// Puts every leaf of `ours` into `theirs`, keeping the keys only `theirs` has.
fn overlay(theirs: &mut Value, ours: &Value) {
    match (theirs, ours) {
        (Value::Object(theirs), Value::Object(ours)) => {
            for (key, value) in ours {
                match theirs.get_mut(key) {
                    Some(existing) if existing.is_object() && value.is_object() => {
                        overlay(existing, value)
                    }
                    _ => {
                        theirs.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (theirs, ours) => *theirs = ours.clone(),
    }
}

/// The `config.yaml` to write over the live one: Harmony's settings (`ours`, as rendered) over
/// every other key of `live`, keys sorted. Refused, naming the fix, when `live` is not a YAML
/// mapping: Harmony does not overwrite a document it cannot read.
pub fn merge_config(live: &str, ours: &str) -> Result<String, String> {
    let refuse = |why: String| {
        format!(
            "its {CONFIG_KEY} is not a YAML mapping ({why}): fix it or delete the ConfigMap, then apply again; nothing was written"
        )
    };
    let mut merged = if live.trim().is_empty() {
        json!({})
    } else {
        serde_saphyr::from_str::<Value>(live).map_err(|e| refuse(e.to_string()))?
    };
    if merged.is_null() {
        merged = json!({});
    }
    if !merged.is_object() {
        return Err(refuse("the document is not a mapping".into()));
    }
    let ours: Value = serde_saphyr::from_str(ours).expect("Harmony's own configuration parses");
    overlay(&mut merged, &ours);
    Ok(yaml(merged))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(object: &MonitoringObject) -> &str {
        let MonitoringObject::ConfigMap(map) = object else {
            panic!("a ConfigMap")
        };
        &map.data.as_ref().unwrap()[CONFIG_KEY]
    }

    #[test]
    fn user_workload_alertmanager_by_default_platform_on_request() {
        let objects = okd_objects(&ClusterMonitoring::default());
        assert_eq!(objects[0].namespace(), Some(OKD_MONITORING_NAMESPACE));
        assert_eq!(data(&objects[0]), "enableUserWorkload: true\n");
        assert_eq!(
            data(&objects[1]),
            "alertmanager:\n  enableAlertmanagerConfig: true\n  enabled: true\nprometheus:\n  retention: 15d\n"
        );
        let platform = okd_objects(&ClusterMonitoring {
            okd_alertmanager: OkdAlertmanager::Platform,
            ..ClusterMonitoring::default()
        });
        assert_eq!(
            data(&platform[0]),
            "alertmanagerMain:\n  enableUserAlertmanagerConfig: true\nenableUserWorkload: true\n"
        );
        assert_eq!(data(&platform[1]), "prometheus:\n  retention: 15d\n");
        assert!(is_okd_config(
            OKD_USER_WORKLOAD_NAMESPACE,
            USER_WORKLOAD_CONFIG
        ));
        assert!(!is_okd_config(
            OKD_USER_WORKLOAD_NAMESPACE,
            CLUSTER_MONITORING_CONFIG
        ));
    }

    #[test]
    fn merging_keeps_the_admins_keys_and_sets_ours() {
        let live = "prometheusK8s:\n  retention: 30d\nalertmanagerMain:\n  enabled: true\nenableUserWorkload: false\n";
        let ours =
            "alertmanagerMain:\n  enableUserAlertmanagerConfig: true\nenableUserWorkload: true\n";
        assert_eq!(
            merge_config(live, ours).unwrap(),
            "alertmanagerMain:\n  enableUserAlertmanagerConfig: true\n  enabled: true\nenableUserWorkload: true\nprometheusK8s:\n  retention: 30d\n"
        );
        // Merging what merging gave changes nothing; an empty document takes ours.
        let once = merge_config(live, ours).unwrap();
        assert_eq!(merge_config(&once, ours).unwrap(), once);
        assert_eq!(
            merge_config("", ours).unwrap(),
            merge_config("{}", ours).unwrap()
        );
    }

    #[test]
    fn refuses_a_live_document_it_cannot_read() {
        for bad in ["- a\n- b\n", "key: [unclosed\n", "just text\n"] {
            let error = merge_config(bad, "enableUserWorkload: true\n").unwrap_err();
            assert!(error.contains("is not a YAML mapping"), "{bad}: {error}");
            assert!(error.ends_with("nothing was written"), "{error}");
        }
    }
}
