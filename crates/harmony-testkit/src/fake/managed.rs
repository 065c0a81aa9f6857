//! Field managers: who owns which fields, server-side apply merging, conflicts and removal.

use serde_json::{Value, json};

use super::fields::{self, FieldPath, FieldSet};

/// How a manager last wrote its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Server-side apply.
    Apply,
    /// Create, update or a non-apply patch.
    Update,
}

/// One `metadata.managedFields` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct ManagerEntry {
    /// The `fieldManager` name.
    pub manager: String,
    /// Apply or Update.
    pub operation: Operation,
    /// `status` for writes through that subresource, `None` for the main resource.
    pub subresource: Option<String>,
    /// The `apiVersion` the fields were written with.
    pub api_version: String,
    /// RFC 3339 time of the last change to this entry.
    pub time: String,
    /// Owned leaf paths.
    pub fields: FieldSet,
}

impl ManagerEntry {
    fn is(&self, manager: &str, operation: Operation, subresource: Option<&str>) -> bool {
        self.manager == manager
            && self.operation == operation
            && self.subresource.as_deref() == subresource
    }

    /// The entry as JSON, in `fieldsV1` form.
    pub fn to_json(&self) -> Value {
        let mut entry = json!({
            "manager": self.manager,
            "operation": match self.operation { Operation::Apply => "Apply", Operation::Update => "Update" },
            "apiVersion": self.api_version,
            "time": self.time,
            "fieldsType": "FieldsV1",
            "fieldsV1": fields::to_fields_v1(&self.fields),
        });
        if let Some(sub) = &self.subresource {
            entry["subresource"] = json!(sub);
        }
        entry
    }
}

/// Who is writing: manager name, subresource, `apiVersion` and the time to stamp.
#[derive(Debug, Clone)]
pub struct Writer<'a> {
    /// The `fieldManager`.
    pub manager: &'a str,
    /// The subresource written through, if any.
    pub subresource: Option<&'a str>,
    /// The `apiVersion` of the resource.
    pub api_version: String,
    /// Current time, RFC 3339.
    pub now: &'a str,
}

impl Writer<'_> {
    fn entry(&self, operation: Operation, fields: FieldSet) -> ManagerEntry {
        ManagerEntry {
            manager: self.manager.into(),
            operation,
            subresource: self.subresource.map(String::from),
            api_version: self.api_version.clone(),
            time: self.now.into(),
            fields,
        }
    }
}

/// A field another manager owns with a different value: `(manager, ".spec.x")`.
pub type Conflict = (String, String);

/// Server-side apply of `applied` over `live` (`None` creates). Returns the merged object and the
/// new manager entries, or the conflicts when `force` is false.
pub fn apply(
    live: Option<(&Value, &[ManagerEntry])>,
    applied: &Value,
    writer: &Writer<'_>,
    force: bool,
) -> Result<(Value, Vec<ManagerEntry>), Vec<Conflict>> {
    let new_set = fields::leaves(applied);
    let Some((live, entries)) = live else {
        return Ok((
            applied.clone(),
            vec![writer.entry(Operation::Apply, new_set)],
        ));
    };
    let mine = |e: &ManagerEntry| e.is(writer.manager, Operation::Apply, writer.subresource);
    let mut entries: Vec<ManagerEntry> = entries.to_vec();

    let mut merged = live.clone();
    fields::deep_merge(&mut merged, applied);
    // A conflict is a field another manager owns whose value the merge would change.
    let mut conflicts: Vec<Conflict> = Vec::new();
    let mut taken: Vec<(usize, FieldPath)> = Vec::new();
    for (i, other) in entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e.manager != writer.manager)
    {
        for owned in &other.fields {
            for path in new_set.iter().filter(|p| fields::overlaps(p, owned)) {
                let deeper = if path.len() >= owned.len() {
                    path
                } else {
                    owned
                };
                if fields::get(live, deeper) != fields::get(&merged, deeper) {
                    conflicts.push((other.manager.clone(), fields::display(owned)));
                    taken.push((i, owned.clone()));
                    break;
                }
            }
        }
    }
    if !conflicts.is_empty() && !force {
        conflicts.dedup();
        return Err(conflicts);
    }
    for (i, path) in taken {
        entries[i].fields.remove(&path);
    }

    let previous = entries
        .iter()
        .find(|e| mine(e))
        .map(|e| e.fields.clone())
        .unwrap_or_default();
    let owned_elsewhere = |p: &[String]| {
        entries
            .iter()
            .filter(|e| !mine(e))
            .any(|e| e.fields.iter().any(|q| fields::overlaps(p, q)))
    };
    for dropped in previous.difference(&new_set) {
        if !owned_elsewhere(dropped) && !new_set.iter().any(|p| fields::overlaps(p, dropped)) {
            fields::remove(&mut merged, dropped, &|parent| {
                owned_elsewhere(parent) || new_set.contains(parent)
            });
        }
    }

    let changed = merged != *live || previous != new_set;
    match entries.iter_mut().find(|e| mine(e)) {
        Some(entry) if changed => {
            entry.fields = new_set;
            entry.time = writer.now.into();
        }
        Some(_) => {}
        None => entries.push(writer.entry(Operation::Apply, new_set)),
    }
    entries.retain(|e| !e.fields.is_empty());
    Ok((merged, entries))
}

/// Ownership after a non-apply write (create, update, patch) turned `old` into `new`: the writer
/// takes every field it changed, and fields that no longer exist lose their owners.
pub fn update(
    old: Option<&Value>,
    new: &Value,
    entries: &[ManagerEntry],
    writer: &Writer<'_>,
) -> Vec<ManagerEntry> {
    let changed: FieldSet = fields::leaves(new)
        .into_iter()
        .filter(|p| old.and_then(|o| fields::get(o, p)) != fields::get(new, p))
        .collect();
    let mut entries: Vec<ManagerEntry> = entries.to_vec();
    for entry in &mut entries {
        entry.fields.retain(|q| {
            fields::get(new, q).is_some() && !changed.iter().any(|p| fields::overlaps(p, q))
        });
    }
    if !changed.is_empty() {
        match entries
            .iter_mut()
            .find(|e| e.is(writer.manager, Operation::Update, writer.subresource))
        {
            Some(entry) => {
                entry.fields.extend(changed);
                entry.time = writer.now.into();
            }
            None => entries.push(writer.entry(Operation::Update, changed)),
        }
    }
    entries.retain(|e| !e.fields.is_empty());
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer(manager: &str) -> Writer<'_> {
        Writer {
            manager,
            subresource: None,
            api_version: "v1".into(),
            now: "2025-01-01T00:00:00Z",
        }
    }

    fn cm(data: Value) -> Value {
        json!({ "apiVersion": "v1", "kind": "ConfigMap", "metadata": { "name": "c" }, "data": data })
    }

    #[test]
    fn dropped_fields_are_removed_unless_shared() {
        let (live, entries) = apply(
            None,
            &cm(json!({ "a": "1", "b": "2" })),
            &writer("m"),
            false,
        )
        .unwrap();
        let (live2, entries2) = apply(
            Some((&live, &entries)),
            &cm(json!({ "a": "1" })),
            &writer("m"),
            false,
        )
        .unwrap();
        assert_eq!(live2["data"], json!({ "a": "1" }));
        // Another manager sharing "a" with the same value keeps it alive when "m" drops it.
        let (live3, entries3) = apply(
            Some((&live2, &entries2)),
            &cm(json!({ "a": "1" })),
            &writer("n"),
            false,
        )
        .unwrap();
        let (live4, _) = apply(
            Some((&live3, &entries3)),
            &cm(json!({})),
            &writer("m"),
            false,
        )
        .unwrap();
        assert_eq!(live4["data"], json!({ "a": "1" }));
    }

    #[test]
    fn conflicting_values_need_force() {
        let (live, entries) = apply(None, &cm(json!({ "a": "1" })), &writer("m"), false).unwrap();
        let err = apply(
            Some((&live, &entries)),
            &cm(json!({ "a": "2" })),
            &writer("n"),
            false,
        )
        .unwrap_err();
        assert_eq!(err, vec![("m".to_string(), ".data.a".to_string())]);
        let (forced, entries) = apply(
            Some((&live, &entries)),
            &cm(json!({ "a": "2" })),
            &writer("n"),
            true,
        )
        .unwrap();
        assert_eq!(forced["data"]["a"], "2");
        assert_eq!(entries.len(), 1, "m lost its only field: {entries:?}");
        assert_eq!(entries[0].manager, "n");
    }

    #[test]
    fn update_takes_changed_fields_from_appliers() {
        let (live, entries) = apply(
            None,
            &cm(json!({ "a": "1", "b": "1" })),
            &writer("m"),
            false,
        )
        .unwrap();
        let new = cm(json!({ "a": "9", "b": "1" }));
        let entries = update(Some(&live), &new, &entries, &writer("kubectl-edit"));
        let a: FieldPath = vec!["data".into(), "a".into()];
        let owner = |p: &FieldPath| {
            entries
                .iter()
                .filter(|e| e.fields.contains(p))
                .map(|e| e.manager.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(owner(&a), vec!["kubectl-edit"]);
        assert_eq!(owner(&vec!["data".into(), "b".into()]), vec!["m"]);
    }
}
