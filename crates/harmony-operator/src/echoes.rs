//! The reconciler's own writes, until their watch events come back. An owned object's event that
//! brings back the version one of the apply's writes got from the server changes nothing the
//! apply did not already know: it does not queue the tenant again (an apply of twenty objects
//! would otherwise queue its tenant for its own writes, and reconcile it again for nothing). Any
//! other version is a change made by someone else (an edit, a deletion, the quota controller) and
//! triggers as before.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use futures::StreamExt;
use harmony_kube::kinds::Scope;
use harmony_kube::{Kind, ObjectRef};
use kube::{Resource, ResourceExt};
use serde_json::Value;

use crate::owned::Changes;

/// The resourceVersion each write of the reconciler got, by object, until its event comes back.
#[derive(Default)]
pub(crate) struct Echoes(Mutex<HashMap<ObjectRef, String>>);

impl Echoes {
    /// Records a write as the server stored it.
    pub(crate) fn wrote(&self, target: &ObjectRef, stored: &Value) {
        if let Some(version) = stored["metadata"]["resourceVersion"].as_str() {
            self.lock().insert(target.clone(), version.to_string());
        }
    }

    /// Whether `object` is a write's own event (then forgotten: it came back).
    fn echoes<K>(&self, object: &K) -> bool
    where
        K: Resource<DynamicType = ()> + k8s_openapi::Resource,
        <K as k8s_openapi::Resource>::Scope: Scope,
    {
        let target = ObjectRef {
            kind: Kind::of::<K>(),
            namespace: object.namespace().unwrap_or_default(),
            name: object.name_any(),
        };
        let mut written = self.lock();
        let echo = written.get(&target).map(String::as_str) == object.resource_version().as_deref();
        if echo {
            written.remove(&target);
        }
        echo
    }

    /// `changes` without the events of the reconciler's own writes (a deletion always has a
    /// version of its own, so it is never taken for one).
    pub(crate) fn filter<K>(self: &Arc<Self>, changes: Changes<K>) -> Changes<K>
    where
        K: Resource<DynamicType = ()> + k8s_openapi::Resource + Send + 'static,
        <K as k8s_openapi::Resource>::Scope: Scope,
    {
        let echoes = Arc::clone(self);
        changes
            .filter(move |change| {
                let echo = change.as_ref().is_ok_and(|object| echoes.echoes(object));
                std::future::ready(!echo)
            })
            .boxed()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ObjectRef, String>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use futures::stream;
    use k8s_openapi::api::core::v1::Namespace;
    use k8s_openapi::api::rbac::v1::RoleBinding;
    use kube::runtime::watcher;
    use serde_json::json;

    use super::*;

    fn binding(name: &str, version: &str) -> RoleBinding {
        let mut binding = RoleBinding::default();
        binding.metadata.namespace = Some("acme".into());
        binding.metadata.name = Some(name.into());
        binding.metadata.resource_version = Some(version.into());
        binding
    }

    fn target(name: &str) -> ObjectRef {
        ObjectRef {
            kind: Kind::of::<RoleBinding>(),
            namespace: "acme".into(),
            name: name.into(),
        }
    }

    fn stored(version: &str) -> Value {
        json!({"metadata": {"resourceVersion": version}})
    }

    /// The names and versions of what `changes` lets through.
    async fn through(echoes: &Arc<Echoes>, changes: Vec<RoleBinding>) -> Vec<(String, String)> {
        let changes = stream::iter(changes.into_iter().map(Ok::<_, watcher::Error>)).boxed();
        echoes
            .filter(changes)
            .map(|c| {
                let c = c.unwrap();
                (c.name_any(), c.resource_version().unwrap_or_default())
            })
            .collect()
            .await
    }

    #[tokio::test]
    async fn a_writes_own_event_is_left_out_once_and_every_other_version_goes_through() {
        let echoes = Arc::new(Echoes::default());
        echoes.wrote(&target("member-alice"), &stored("17"));
        echoes.wrote(&target("member-devs"), &stored("18"));
        let seen = through(
            &echoes,
            vec![
                // The write's own event.
                binding("member-alice", "17"),
                // An edit by someone else after it, then the same version again (a relist).
                binding("member-alice", "21"),
                binding("member-alice", "17"),
                // A version the reconciler never got: the write's event is still to come.
                binding("member-devs", "16"),
                // An object it never wrote.
                binding("old-viewers", "18"),
            ],
        )
        .await;
        assert_eq!(
            seen,
            [
                ("member-alice".into(), "21".into()),
                ("member-alice".into(), "17".into()),
                ("member-devs".into(), "16".into()),
                ("old-viewers".into(), "18".into()),
            ]
        );
        // The one still awaited is left out when it comes.
        assert!(
            through(&echoes, vec![binding("member-devs", "18")])
                .await
                .is_empty()
        );
    }

    #[tokio::test]
    async fn the_same_name_of_another_kind_or_namespace_is_another_object() {
        let echoes = Arc::new(Echoes::default());
        echoes.wrote(&target("acme"), &stored("5"));
        let mut elsewhere = binding("acme", "5");
        elsewhere.metadata.namespace = Some("globex".into());
        assert_eq!(through(&echoes, vec![elsewhere]).await.len(), 1);
        let mut namespace = Namespace::default();
        namespace.metadata.name = Some("acme".into());
        namespace.metadata.resource_version = Some("5".into());
        assert!(!echoes.echoes(&namespace));
        assert_eq!(through(&echoes, vec![binding("acme", "5")]).await, []);
    }

    #[test]
    fn a_write_without_a_version_is_not_awaited() {
        let echoes = Echoes::default();
        echoes.wrote(&target("member-alice"), &json!({"metadata": {}}));
        assert!(echoes.lock().is_empty());
    }
}
