//! The object store: JSON objects keyed by resource, namespace and name, with a global
//! `resourceVersion` counter.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::managed::ManagerEntry;
use super::registry::{Gvr, ResourceInfo};

/// Where an object lives.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObjectKey {
    /// Its resource.
    pub gvr: Gvr,
    /// Its namespace; empty for cluster-scoped objects.
    pub namespace: String,
    /// Its name.
    pub name: String,
}

/// A stored object and its field managers (rendered into `metadata.managedFields` on read).
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    /// The object, without `metadata.managedFields`.
    pub object: Value,
    /// Field ownership.
    pub managers: Vec<ManagerEntry>,
}

impl Stored {
    /// The object as clients see it, `metadata.managedFields` included.
    pub fn render(&self) -> Value {
        let mut object = self.object.clone();
        if !self.managers.is_empty() {
            object["metadata"]["managedFields"] =
                Value::Array(self.managers.iter().map(ManagerEntry::to_json).collect());
        }
        object
    }
}

/// All objects, and the counters the server stamps them with.
#[derive(Debug, Default)]
pub struct Store {
    objects: BTreeMap<ObjectKey, Stored>,
    resource_version: u64,
    uids: u64,
}

/// Metadata only the server sets: a replacement keeps the live values.
const SERVER_METADATA: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "managedFields",
];

impl Store {
    /// The object at `key`.
    pub fn get(&self, key: &ObjectKey) -> Option<&Stored> {
        self.objects.get(key)
    }

    /// Objects of a resource, in one namespace or all, ordered by namespace then name.
    pub fn list<'a>(
        &'a self,
        gvr: &'a Gvr,
        namespace: Option<&'a str>,
    ) -> impl Iterator<Item = (&'a ObjectKey, &'a Stored)> {
        self.objects
            .iter()
            .filter(move |(k, _)| k.gvr == *gvr && namespace.is_none_or(|ns| k.namespace == ns))
    }

    /// Keys of every object in a namespace, of any resource.
    pub fn keys_in_namespace(&self, namespace: &str) -> Vec<ObjectKey> {
        self.objects
            .keys()
            .filter(|k| k.namespace == namespace)
            .cloned()
            .collect()
    }

    /// The current `resourceVersion` (of the last write).
    pub fn resource_version(&self) -> String {
        self.resource_version.to_string()
    }

    /// Stores a new object, stamping `uid`, `creationTimestamp`, `resourceVersion`, `generation`,
    /// `apiVersion` and `kind`. With `dry_run` the store is untouched but the result is the same.
    pub fn create(
        &mut self,
        info: &ResourceInfo,
        key: ObjectKey,
        mut stored: Stored,
        now: &str,
        dry_run: bool,
    ) -> Value {
        let uid = format!("00000000-0000-4000-8000-{:012x}", self.uids + 1);
        let rv = (self.resource_version + 1).to_string();
        stored.object["apiVersion"] = json!(info.gvr.api_version());
        stored.object["kind"] = json!(info.kind);
        let meta = &mut stored.object["metadata"];
        meta["name"] = json!(key.name);
        if info.namespaced {
            meta["namespace"] = json!(key.namespace);
        }
        meta["uid"] = json!(uid);
        meta["creationTimestamp"] = json!(now);
        meta["resourceVersion"] = json!(rv);
        meta["generation"] = json!(1);
        if let Some(meta) = meta.as_object_mut() {
            meta.remove("managedFields");
        }
        let rendered = stored.render();
        if !dry_run {
            self.uids += 1;
            self.resource_version += 1;
            self.objects.insert(key, stored);
        }
        rendered
    }

    /// Replaces an existing object. A write that changes neither the object nor its field sets keeps
    /// the stored version (no `resourceVersion` bump); a change outside `metadata` and `status`
    /// bumps `generation`.
    pub fn replace(&mut self, key: &ObjectKey, mut stored: Stored, dry_run: bool) -> Value {
        let Some(live) = self.objects.get(key) else {
            return stored.render();
        };
        stored.object["apiVersion"] = live.object["apiVersion"].clone();
        stored.object["kind"] = live.object["kind"].clone();
        if let (Some(meta), Some(live_meta)) = (
            stored.object["metadata"].as_object_mut(),
            live.object["metadata"].as_object(),
        ) {
            for field in SERVER_METADATA {
                match live_meta.get(*field) {
                    Some(value) => meta.insert((*field).into(), value.clone()),
                    None => meta.remove(*field),
                };
            }
        }
        let same_fields = live.managers.len() == stored.managers.len()
            && live.managers.iter().zip(&stored.managers).all(|(a, b)| {
                a.manager == b.manager
                    && a.operation == b.operation
                    && a.subresource == b.subresource
                    && a.fields == b.fields
            });
        if stored.object == live.object && same_fields {
            return live.render();
        }
        if spec_of(&stored.object) != spec_of(&live.object) {
            let generation = live.object["metadata"]["generation"].as_u64().unwrap_or(1);
            stored.object["metadata"]["generation"] = json!(generation + 1);
        }
        stored.object["metadata"]["resourceVersion"] =
            json!((self.resource_version + 1).to_string());
        let rendered = stored.render();
        if !dry_run {
            self.resource_version += 1;
            self.objects.insert(key.clone(), stored);
        }
        rendered
    }

    /// Marks a namespace `Terminating`: `deletionTimestamp` (kept if already set) and `status.phase`.
    pub fn terminate_namespace(
        &mut self,
        key: &ObjectKey,
        now: &str,
        dry_run: bool,
    ) -> Option<Value> {
        let mut stored = self.objects.get(key)?.clone();
        let meta = &mut stored.object["metadata"];
        if meta["deletionTimestamp"].is_null() {
            meta["deletionTimestamp"] = json!(now);
            meta["deletionGracePeriodSeconds"] = json!(0);
        }
        meta["resourceVersion"] = json!((self.resource_version + 1).to_string());
        stored.object["status"] = json!({ "phase": "Terminating" });
        let rendered = stored.render();
        if !dry_run {
            self.resource_version += 1;
            self.objects.insert(key.clone(), stored);
        }
        Some(rendered)
    }

    /// Removes an object, returning it.
    pub fn remove(&mut self, key: &ObjectKey, dry_run: bool) -> Option<Stored> {
        if dry_run {
            return self.objects.get(key).cloned();
        }
        let removed = self.objects.remove(key)?;
        self.resource_version += 1;
        Some(removed)
    }
}

/// Everything but `metadata` and `status`: what `generation` tracks.
fn spec_of(object: &Value) -> Value {
    let mut spec = object.clone();
    if let Some(map) = spec.as_object_mut() {
        map.remove("metadata");
        map.remove("status");
    }
    spec
}
