//! What Harmony manages in the cluster, read once per run: one list per kind across all
//! namespaces (selected by the managed-by label), shared by every tenant of the run.
//!
//! Each kind is listed at most once, however many tenants ask at the same time (the first asks,
//! the others wait for its answer); a failed list is not remembered, so the next tenant retries it.
//! Harmony's own writes during the run are recorded, so the snapshot stays true for the objects
//! Harmony touches; tenants never touch each other's objects.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use harmony_tenant::{MANAGED_BY_LABEL, MANAGED_BY_VALUE, SELF_SERVICE_LABEL, TENANT_LABEL};
use serde_json::Value;
use tokio::sync::OnceCell;

use harmony_kube::{ApiFailure, Cluster, FailureKind, Kind, ObjectRef};

use crate::tenant_kinds::{TENANT_KINDS, optional};
use k8s_openapi::api::core::v1::Namespace;

/// The live objects of one kind, by `(namespace, name)`.
type Index = Mutex<BTreeMap<(String, String), Value>>;

/// Told of each object an apply wrote, as the server stored it.
pub type WriteSink = Arc<dyn Fn(&ObjectRef, &Value) + Send + Sync>;

/// The managed objects of the cluster, per kind, listed lazily.
#[derive(Default)]
pub struct Snapshot {
    kinds: HashMap<Kind, OnceCell<Arc<Index>>>,
    told: Option<WriteSink>,
}

impl Snapshot {
    /// An empty snapshot: nothing listed yet.
    pub fn new() -> Self {
        Self {
            kinds: TENANT_KINDS.iter().map(|k| (*k, OnceCell::new())).collect(),
            told: None,
        }
    }

    /// This snapshot, telling `sink` of each write recorded in it as its response comes (an
    /// operator then knows its own writes when their watch events come back).
    pub fn telling(self, sink: WriteSink) -> Self {
        Self {
            told: Some(sink),
            ..self
        }
    }

    /// A snapshot of objects already read (an operator's watch caches, say): it lists nothing,
    /// and a tenant kind with no object in `objects` holds none.
    pub fn of(objects: impl IntoIterator<Item = (Kind, Value)>) -> Self {
        let mut indexes: HashMap<Kind, BTreeMap<(String, String), Value>> =
            TENANT_KINDS.iter().map(|k| (*k, BTreeMap::new())).collect();
        for (kind, item) in objects {
            if let Some(index) = indexes.get_mut(&kind) {
                let meta = &item["metadata"];
                index.insert((text(&meta["namespace"]), text(&meta["name"])), item);
            }
        }
        Self {
            kinds: indexes
                .into_iter()
                .map(|(kind, index)| (kind, OnceCell::new_with(Some(Arc::new(Mutex::new(index))))))
                .collect(),
            told: None,
        }
    }

    async fn index(&self, cluster: &Cluster, kind: Kind) -> Result<&Arc<Index>, ApiFailure> {
        self.kinds[&kind]
            .get_or_try_init(|| async {
                let selector = format!("{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}");
                let items = match cluster.list(kind, "", &selector).await {
                    Ok(items) => items,
                    // A cluster that does not serve the kind holds none of it.
                    Err(failure) if failure.kind == FailureKind::NotFound && optional(kind) => {
                        Vec::new()
                    }
                    Err(failure) => return Err(failure),
                };
                let index = items
                    .into_iter()
                    .map(|item| {
                        let meta = &item["metadata"];
                        let key = (text(&meta["namespace"]), text(&meta["name"]));
                        (key, item)
                    })
                    .collect();
                Ok(Arc::new(Mutex::new(index)))
            })
            .await
    }

    /// The live object at `target`, if Harmony manages one there.
    pub async fn get(
        &self,
        cluster: &Cluster,
        target: &ObjectRef,
    ) -> Result<Option<Value>, ApiFailure> {
        let index = self.index(cluster, target.kind).await?;
        let key = (target.namespace.clone(), target.name.clone());
        Ok(lock(index).get(&key).cloned())
    }

    /// The live objects of `kind` that belong to `tenant`.
    pub async fn owned_by(
        &self,
        cluster: &Cluster,
        kind: Kind,
        tenant: &str,
    ) -> Result<Vec<ObjectRef>, ApiFailure> {
        let index = self.index(cluster, kind).await?;
        Ok(lock(index)
            .iter()
            .filter(|(_, o)| o["metadata"]["labels"][TENANT_LABEL] == tenant)
            .map(|((namespace, name), _)| ObjectRef {
                kind,
                namespace: namespace.clone(),
                name: name.clone(),
            })
            .collect())
    }

    /// The self-service namespaces of `tenant`: the ones its admins asked for, which only the
    /// operator plans.
    pub async fn self_service_namespaces(
        &self,
        cluster: &Cluster,
        tenant: &str,
    ) -> Result<Vec<String>, ApiFailure> {
        let index = self.index(cluster, Kind::of::<Namespace>()).await?;
        Ok(lock(index)
            .iter()
            .filter(|(_, o)| {
                let labels = &o["metadata"]["labels"];
                labels[TENANT_LABEL] == tenant && labels[SELF_SERVICE_LABEL] == "true"
            })
            .map(|((_, name), _)| name.clone())
            .collect())
    }

    /// Records an object as the server stored it after a write (if it was listed already).
    pub fn stored(&self, target: &ObjectRef, object: Value) {
        if let Some(told) = &self.told {
            told(target, &object);
        }
        if let Some(index) = self.kinds[&target.kind].get() {
            let key = (target.namespace.clone(), target.name.clone());
            lock(index).insert(key, object);
        }
    }

    /// Records the deletion of an object.
    pub fn removed(&self, target: &ObjectRef) {
        if let Some(index) = self.kinds[&target.kind].get() {
            let key = (target.namespace.clone(), target.name.clone());
            lock(index).remove(&key);
        }
    }
}

fn lock(index: &Index) -> std::sync::MutexGuard<'_, BTreeMap<(String, String), Value>> {
    index.lock().unwrap_or_else(PoisonError::into_inner)
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::rbac::v1::RoleBinding;
    use serde_json::json;

    use super::*;

    #[test]
    fn a_telling_snapshot_tells_each_write_as_stored_and_records_it() {
        let told = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&told);
        let snapshot = Snapshot::of([]).telling(Arc::new(move |target, stored| {
            lock_told(&sink).push((target.to_string(), stored.clone()));
        }));
        let target = ObjectRef {
            kind: Kind::of::<RoleBinding>(),
            namespace: "acme".into(),
            name: "member-alice".into(),
        };
        let stored = json!({"metadata": {"namespace": "acme", "name": "member-alice", "resourceVersion": "17"}});
        snapshot.stored(&target, stored.clone());
        assert_eq!(
            *lock_told(&told),
            [("RoleBinding acme/member-alice".to_string(), stored.clone())]
        );
        let kind = &snapshot.kinds[&target.kind];
        let index = kind
            .get()
            .expect("a snapshot of objects read holds every tenant kind");
        assert_eq!(
            lock(index).get(&("acme".into(), "member-alice".into())),
            Some(&stored)
        );
    }

    fn lock_told<T>(told: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
        told.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
