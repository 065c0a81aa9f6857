//! Field paths of JSON objects: the unit of field ownership in server-side apply.
//!
//! Maps are granular (each key is its own field); lists and scalars are atomic leaves. Associative
//! lists (such as `containers` keyed by `name`) are therefore owned as a whole.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// A path of map keys from the object root, such as `["metadata", "labels", "app"]`.
pub type FieldPath = Vec<String>;
/// A set of owned leaf paths.
pub type FieldSet = BTreeSet<FieldPath>;

/// Metadata fields the server owns; they never appear in a field set.
const SERVER_METADATA: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
];

/// The leaf paths of an object (non-map values and empty maps), skipping `apiVersion`, `kind` and
/// server-owned metadata.
pub fn leaves(object: &Value) -> FieldSet {
    let mut set = FieldSet::new();
    if let Value::Object(map) = object {
        for (key, value) in map {
            if key == "apiVersion" || key == "kind" {
                continue;
            }
            if key == "metadata" {
                if let Value::Object(meta) = value {
                    for (k, v) in meta
                        .iter()
                        .filter(|(k, _)| !SERVER_METADATA.contains(&k.as_str()))
                    {
                        collect(v, vec![key.clone(), k.clone()], &mut set);
                    }
                }
                continue;
            }
            collect(value, vec![key.clone()], &mut set);
        }
    }
    set
}

fn collect(value: &Value, path: FieldPath, set: &mut FieldSet) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                let mut child = path.clone();
                child.push(k.clone());
                collect(v, child, set);
            }
        }
        _ => {
            set.insert(path);
        }
    }
}

/// The value at `path`, if present.
pub fn get<'a>(object: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter()
        .try_fold(object, |v, key| v.as_object()?.get(key))
}

/// Whether one path is a prefix of (or equal to) the other: owning one then touches the other.
pub fn overlaps(a: &[String], b: &[String]) -> bool {
    a.iter().zip(b).all(|(x, y)| x == y)
}

/// Removes the field at `path`, then every parent map left empty unless `keep(parent)` holds.
pub fn remove(object: &mut Value, path: &[String], keep: &dyn Fn(&[String]) -> bool) {
    let Some((last, parent)) = path.split_last() else {
        return;
    };
    let Some(map) = get_mut_map(object, parent) else {
        return;
    };
    map.remove(last);
    if map.is_empty() && !parent.is_empty() && !keep(parent) {
        remove(object, parent, keep);
    }
}

fn get_mut_map<'a>(object: &'a mut Value, path: &[String]) -> Option<&'a mut Map<String, Value>> {
    path.iter()
        .try_fold(object, |v, key| v.as_object_mut()?.get_mut(key))?
        .as_object_mut()
}

/// Merges `patch` into `target`: maps merge key by key, everything else replaces.
pub fn deep_merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                match t.get_mut(k) {
                    Some(existing) if existing.is_object() && v.is_object() => {
                        deep_merge(existing, v)
                    }
                    _ => {
                        t.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

/// `.spec.x`: a path as the API server prints it in conflict messages.
pub fn display(path: &[String]) -> String {
    path.iter().map(|k| format!(".{k}")).collect()
}

/// The `fieldsV1` encoding of a set: nested `f:<key>` maps, `{}` at leaves, `.` marking a leaf that
/// also has owned children.
pub fn to_fields_v1(set: &FieldSet) -> Value {
    let mut root = Map::new();
    for path in set {
        let mut node = &mut root;
        for key in path {
            let entry = node
                .entry(format!("f:{key}"))
                .or_insert_with(|| Value::Object(Map::new()));
            node = entry.as_object_mut().expect("fieldsV1 nodes are maps");
        }
    }
    for path in set {
        mark_inner_leaf(&mut root, path);
    }
    Value::Object(root)
}

/// Marks an owned path that also has owned children with `.`.
fn mark_inner_leaf(root: &mut Map<String, Value>, path: &[String]) {
    let node = path.iter().try_fold(root, |node, key| {
        node.get_mut(&format!("f:{key}"))?.as_object_mut()
    });
    if let Some(node) = node
        && node.keys().any(|k| k != ".")
    {
        node.insert(".".into(), Value::Object(Map::new()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(s: &str) -> FieldPath {
        s.split('.').map(String::from).collect()
    }

    #[test]
    fn leaves_skip_server_fields_and_keep_lists_atomic() {
        let o = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": { "name": "a", "resourceVersion": "3", "labels": { "app": "x" }, "annotations": {} },
            "data": { "k": "v" },
            "spec": { "ports": [1, 2] },
        });
        let expected: FieldSet = [
            p("metadata.labels.app"),
            p("metadata.annotations"),
            p("data.k"),
            p("spec.ports"),
        ]
        .into();
        assert_eq!(leaves(&o), expected);
    }

    #[test]
    fn fields_v1_nests_keys() {
        let set: FieldSet = [p("metadata.labels.app"), p("data.k")].into();
        assert_eq!(
            to_fields_v1(&set),
            json!({ "f:metadata": { "f:labels": { "f:app": {} } }, "f:data": { "f:k": {} } })
        );
        let both: FieldSet = [p("data"), p("data.k")].into();
        assert_eq!(
            to_fields_v1(&both),
            json!({ "f:data": { ".": {}, "f:k": {} } })
        );
    }

    #[test]
    fn remove_prunes_empty_parents() {
        let mut o = json!({ "metadata": { "name": "a" }, "spec": { "x": { "y": 1 } }, "data": { "a": 1, "b": 2 } });
        remove(&mut o, &p("spec.x.y"), &|_| false);
        remove(&mut o, &p("data.a"), &|_| false);
        assert_eq!(
            o,
            json!({ "metadata": { "name": "a" }, "data": { "b": 2 } })
        );
    }

    #[test]
    fn merge_replaces_lists_and_merges_maps() {
        let mut o = json!({ "a": { "b": 1, "c": [1] } });
        deep_merge(&mut o, &json!({ "a": { "c": [2], "d": 3 } }));
        assert_eq!(o, json!({ "a": { "b": 1, "c": [2], "d": 3 } }));
    }
}
