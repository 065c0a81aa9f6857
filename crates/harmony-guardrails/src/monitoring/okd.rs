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
//! These ConfigMaps belong to the cluster admin: they are never deleted, and on a live cluster
//! [`merge_config`] keeps every key of the live `config.yaml` that Harmony does not set. Each
//! carries what Harmony set last ([`HARMONY_CONFIG_ANNOTATION`]), so a key Harmony stops setting
//! is removed, and only that key, and only while it still holds the value Harmony gave it.

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

/// The annotation holding Harmony's own `config.yaml` (what it set), the record of which keys
/// of the merged document are Harmony's.
pub const HARMONY_CONFIG_ANNOTATION: &str = "harmony.nationtech.io/monitoring-config";

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
    let config = yaml(config);
    let mut metadata = harmony_meta(name, Some(namespace));
    metadata.annotations = Some([(HARMONY_CONFIG_ANNOTATION.to_string(), config.clone())].into());
    MonitoringObject::ConfigMap(ConfigMap {
        metadata,
        data: Some([(CONFIG_KEY.to_string(), config)].into()),
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

/// Removes from `live` every leaf of `previous` (what Harmony set last) that `ours` no longer
/// sets and that still holds the value Harmony gave it, and the mappings that leaves empty;
/// pushes the dotted path of each removed key.
fn remove_dropped(
    live: &mut Value,
    previous: &Value,
    ours: &Value,
    path: &str,
    removed: &mut Vec<String>,
) {
    let (Some(live), Some(previous)) = (live.as_object_mut(), previous.as_object()) else {
        return;
    };
    for (key, was) in previous {
        let at = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        let now = ours.get(key).unwrap_or(&Value::Null);
        match live.get_mut(key) {
            Some(current) if current.is_object() && was.is_object() => {
                let before = removed.len();
                remove_dropped(current, was, now, &at, removed);
                if removed.len() > before && current.as_object().is_some_and(|m| m.is_empty()) {
                    live.remove(key);
                }
            }
            Some(current) if now.is_null() && current == was => {
                live.remove(key);
                removed.push(at);
            }
            _ => {}
        }
    }
}

/// A live `config.yaml` merged with Harmony's.
#[derive(Debug, PartialEq)]
pub struct MergedConfig {
    /// The document to write, keys sorted.
    pub config: String,
    /// The keys Harmony had set and no longer sets, removed (dotted paths).
    pub removed: Vec<String>,
}

/// The `config.yaml` to write over the live one: Harmony's settings (`ours`, as rendered) over
/// every other key of `live`, without the keys of `previous` (Harmony's settings of the last
/// apply, from [`HARMONY_CONFIG_ANNOTATION`]) that `ours` no longer sets and the admin has not
/// changed since. Refused, naming the fix, when `live` is not a YAML mapping: Harmony does not
/// overwrite a document it cannot read. A `previous` that does not parse removes nothing.
pub fn merge_config(
    live: &str,
    ours: &str,
    previous: Option<&str>,
) -> Result<MergedConfig, String> {
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
    let previous: Value = previous
        .and_then(|p| serde_saphyr::from_str(p).ok())
        .unwrap_or(Value::Null);
    let mut removed = Vec::new();
    remove_dropped(&mut merged, &previous, &ours, "", &mut removed);
    overlay(&mut merged, &ours);
    Ok(MergedConfig {
        config: yaml(merged),
        removed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use harmony_tenant::PlanObject;

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
            merge_config(live, ours, None).unwrap().config,
            "alertmanagerMain:\n  enableUserAlertmanagerConfig: true\n  enabled: true\nenableUserWorkload: true\nprometheusK8s:\n  retention: 30d\n"
        );
        // Merging what merging gave changes nothing; an empty document takes ours.
        let once = merge_config(live, ours, None).unwrap().config;
        assert_eq!(merge_config(&once, ours, Some(ours)).unwrap().config, once);
        assert_eq!(
            merge_config("", ours, None).unwrap(),
            merge_config("{}", ours, None).unwrap()
        );
    }

    #[test]
    fn refuses_a_live_document_it_cannot_read() {
        for bad in ["- a\n- b\n", "key: [unclosed\n", "just text\n"] {
            let error = merge_config(bad, "enableUserWorkload: true\n", None).unwrap_err();
            assert!(error.contains("is not a YAML mapping"), "{bad}: {error}");
            assert!(error.ends_with("nothing was written"), "{error}");
        }
    }

    #[test]
    fn only_the_keys_harmony_stopped_setting_are_removed_and_only_unchanged() {
        // Harmony had set a user-workload Alertmanager; okdAlertmanager is now platform.
        let previous = "alertmanager:\n  enableAlertmanagerConfig: true\n  enabled: true\nprometheus:\n  retention: 15d\n";
        let ours = "prometheus:\n  retention: 15d\n";
        let live = "alertmanager:\n  enableAlertmanagerConfig: true\n  enabled: true\n  logLevel: debug\nprometheus:\n  retention: 15d\nthanosRuler:\n  logLevel: info\n";
        let merged = merge_config(live, ours, Some(previous)).unwrap();
        assert_eq!(
            merged.config,
            "alertmanager:\n  logLevel: debug\nprometheus:\n  retention: 15d\nthanosRuler:\n  logLevel: info\n"
        );
        assert_eq!(
            merged.removed,
            [
                "alertmanager.enableAlertmanagerConfig",
                "alertmanager.enabled"
            ]
        );
        // A mapping left empty goes too; a key the admin changed since stays theirs.
        let live = "alertmanager:\n  enableAlertmanagerConfig: true\n  enabled: false\nprometheus:\n  retention: 15d\n";
        let merged = merge_config(live, ours, Some(previous)).unwrap();
        assert_eq!(
            merged.config,
            "alertmanager:\n  enabled: false\nprometheus:\n  retention: 15d\n"
        );
        let live = "alertmanager:\n  enableAlertmanagerConfig: true\n  enabled: true\nprometheus:\n  retention: 15d\n";
        assert_eq!(
            merge_config(live, ours, Some(previous)).unwrap().config,
            ours
        );
        // Without a record of what Harmony set (or one that does not parse), nothing is removed.
        for previous in [None, Some("- not: a mapping\n"), Some("key: [unclosed\n")] {
            let merged = merge_config(live, ours, previous).unwrap();
            assert_eq!(merged.config, live);
            assert!(merged.removed.is_empty());
        }
    }

    #[test]
    fn each_config_map_records_what_harmony_set() {
        for object in okd_objects(&ClusterMonitoring::default()) {
            let annotations = object.metadata().annotations.as_ref().unwrap();
            assert_eq!(annotations[HARMONY_CONFIG_ANNOTATION], data(&object));
        }
    }
}
