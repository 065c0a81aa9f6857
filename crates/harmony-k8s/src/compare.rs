//! Does a live object already hold what Harmony wants? Only the fields Harmony sets are compared.
//!
//! A desired field matches when the live object has the same value (quantities compare by amount,
//! list items may carry server defaults). A field Harmony applied before but no longer sets also
//! counts as a difference: applying would remove it.

use harmony_tenant::quantity::Amount;
use serde_json::{Map, Value};

use harmony_kube::FIELD_MANAGER;

/// One field that differs: its path and its live and desired values (`None`: absent).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FieldDiff {
    /// The field, such as `spec.hard.cpu`.
    pub path: String,
    /// The live value.
    pub live: Option<Value>,
    /// The desired value.
    pub desired: Option<Value>,
}

impl std::fmt::Display for FieldDiff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.live, &self.desired) {
            (None, Some(d)) => write!(f, "+ {}: {}", self.path, d),
            (Some(l), None) => write!(f, "- {}: {}", self.path, l),
            (Some(l), Some(d)) => write!(f, "~ {}: {} -> {}", self.path, l, d),
            (None, None) => write!(f, "~ {}", self.path),
        }
    }
}

/// The fields of `desired` that `live` lacks or holds differently, and the fields Harmony owns in
/// `live` that `desired` no longer sets. Empty when applying would change nothing.
pub fn differences(desired: &Value, live: &Value) -> Vec<FieldDiff> {
    let mut diffs = Vec::new();
    if let Value::Object(map) = desired {
        for (key, value) in map {
            match key.as_str() {
                "apiVersion" | "kind" => {}
                "metadata" => {
                    let mut meta = value.as_object().cloned().unwrap_or_default();
                    meta.remove("name");
                    meta.remove("namespace");
                    subset(
                        &Value::Object(meta),
                        &live["metadata"],
                        "metadata",
                        &mut diffs,
                    );
                }
                _ => subset(value, &live[key.as_str()], key, &mut diffs),
            }
        }
    }
    match owned_paths(live) {
        Some(owned) => {
            for path in owned {
                if lookup(desired, &path).is_none() {
                    diffs.push(FieldDiff {
                        path: path.join("."),
                        live: lookup(live, &path).cloned(),
                        desired: None,
                    });
                }
            }
        }
        None => diffs.push(FieldDiff {
            path: "metadata.managedFields".into(),
            live: None,
            desired: Some(Value::String(format!("fields owned by {FIELD_MANAGER}"))),
        }),
    }
    diffs
}

/// Every field of `desired` as `+ path: value` lines, for objects to be created.
pub fn creation(desired: &Value) -> Vec<FieldDiff> {
    differences(desired, &Value::Null)
        .into_iter()
        .filter(|d| d.path != "metadata.managedFields")
        .collect()
}

fn subset(desired: &Value, live: &Value, path: &str, diffs: &mut Vec<FieldDiff>) {
    match desired {
        Value::Object(map) if !map.is_empty() => {
            for (key, value) in map {
                subset(value, &live[key.as_str()], &format!("{path}.{key}"), diffs);
            }
        }
        _ if matches(desired, live) => {}
        _ => diffs.push(FieldDiff {
            path: path.to_string(),
            live: (!live.is_null()).then(|| live.clone()),
            desired: Some(desired.clone()),
        }),
    }
}

/// Whether `live` holds `desired`: equal scalars or quantities, maps holding every desired key,
/// lists of the same length whose items hold the desired items.
fn matches(desired: &Value, live: &Value) -> bool {
    match (desired, live) {
        (Value::Object(d), Value::Object(l)) => d
            .iter()
            .all(|(k, v)| matches(v, l.get(k).unwrap_or(&Value::Null))),
        (Value::Array(d), Value::Array(l)) => {
            d.len() == l.len() && d.iter().zip(l).all(|(d, l)| matches(d, l))
        }
        (Value::String(d), Value::String(l)) => d == l || same_quantity(d, l),
        (Value::Array(d), Value::Null) => d.is_empty(),
        _ => desired == live,
    }
}

fn same_quantity(a: &str, b: &str) -> bool {
    matches!((Amount::parse(a), Amount::parse(b)), (Ok(x), Ok(y)) if x == y)
}

/// The leaf paths Harmony's last apply owns, from `metadata.managedFields`; `None` when Harmony
/// never applied this object. List items (`k:`, `v:`, `i:` keys) are owned with their list.
fn owned_paths(live: &Value) -> Option<Vec<Vec<String>>> {
    let entry = live["metadata"]["managedFields"]
        .as_array()?
        .iter()
        .find(|e| {
            e["manager"] == FIELD_MANAGER
                && e["operation"] == "Apply"
                && e.get("subresource").is_none_or(Value::is_null)
        })?;
    let mut paths = Vec::new();
    if let Some(fields) = entry["fieldsV1"].as_object() {
        collect_owned(fields, &mut Vec::new(), &mut paths);
    }
    Some(paths)
}

fn collect_owned(
    fields: &Map<String, Value>,
    prefix: &mut Vec<String>,
    out: &mut Vec<Vec<String>>,
) {
    let children: Vec<(&String, &Value)> =
        fields.iter().filter(|(k, _)| k.starts_with("f:")).collect();
    let list_items = fields
        .keys()
        .any(|k| k.starts_with("k:") || k.starts_with("v:") || k.starts_with("i:"));
    if (children.is_empty() || list_items) && !prefix.is_empty() {
        out.push(prefix.clone());
        return;
    }
    for (key, value) in children {
        prefix.push(key[2..].to_string());
        match value.as_object() {
            Some(inner) => collect_owned(inner, prefix, out),
            None => out.push(prefix.clone()),
        }
        prefix.pop();
    }
}

/// The value at `path`, through maps only.
fn lookup<'a>(object: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter()
        .try_fold(object, |v, key| v.as_object()?.get(key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn live(body: Value, owned: Value) -> Value {
        let mut live = body;
        live["metadata"]["managedFields"] = json!([
            { "manager": "harmony", "operation": "Apply", "fieldsType": "FieldsV1", "fieldsV1": owned }
        ]);
        live
    }

    fn quota(hard: Value) -> Value {
        json!({ "apiVersion": "v1", "kind": "ResourceQuota",
                "metadata": { "name": "q", "namespace": "acme", "labels": { "a": "1" } },
                "spec": { "hard": hard } })
    }

    const OWNED: &str = r#"{ "f:metadata": { "f:labels": { "f:a": {} } }, "f:spec": { "f:hard": { "f:cpu": {} } } }"#;

    #[test]
    fn identical_and_semantically_equal_objects_have_no_differences() {
        let owned: Value = serde_json::from_str(OWNED).unwrap();
        let desired = quota(json!({ "cpu": "1" }));
        let mut stored = live(quota(json!({ "cpu": "1000m" })), owned);
        stored["metadata"]["labels"]["kubernetes.io/metadata.name"] = json!("x");
        stored["status"] = json!({ "used": { "cpu": "0" } });
        assert_eq!(differences(&desired, &stored), vec![]);
    }

    #[test]
    fn changed_values_and_dropped_fields_are_differences() {
        let owned: Value = serde_json::from_str(OWNED).unwrap();
        let stored = live(quota(json!({ "cpu": "1" })), owned);
        let changed = differences(&quota(json!({ "cpu": "2" })), &stored);
        assert_eq!(changed.len(), 1);
        assert_eq!(changed[0].to_string(), r#"~ spec.hard.cpu: "1" -> "2""#);
        let dropped = differences(&quota(json!({ "memory": "1Gi" })), &stored);
        let shown: Vec<String> = dropped.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [r#"+ spec.hard.memory: "1Gi""#, r#"- spec.hard.cpu: "1""#]
        );
    }

    #[test]
    fn list_items_may_carry_server_defaults_but_not_other_values() {
        let desired = json!({ "spec": { "ports": [{ "port": 53 }] } });
        let owned = json!({ "f:spec": { "f:ports": {} } });
        let defaulted = live(
            json!({ "spec": { "ports": [{ "port": 53, "protocol": "TCP" }] } }),
            owned.clone(),
        );
        assert_eq!(differences(&desired, &defaulted), vec![]);
        let other = live(json!({ "spec": { "ports": [{ "port": 54 }] } }), owned);
        assert_eq!(differences(&desired, &other).len(), 1);
    }

    #[test]
    fn objects_harmony_never_applied_are_adopted() {
        let desired = quota(json!({ "cpu": "1" }));
        let diffs = differences(&desired, &quota(json!({ "cpu": "1" })));
        assert_eq!(diffs.len(), 1);
        assert_eq!(diffs[0].path, "metadata.managedFields");
        assert!(creation(&desired).iter().all(|d| d.live.is_none()));
    }
}
