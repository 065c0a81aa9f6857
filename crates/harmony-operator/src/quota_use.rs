//! A tenant's quota use. The quota controller's writes to a ResourceQuota's status change the use,
//! not what the tenant's plan applies, so they trigger no reconcile (a new namespace's quota is
//! written by it once or twice, which queued each tenant of a bulk creation again for nothing).
//! The use reaches the Tenants' status by a sweep every [`QUOTA_REFRESH`] instead: each Ready
//! Tenant whose status says another use than the quota caches hold is reconciled.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::ResourceQuota;
use kube::ResourceExt;
use kube::runtime::reflector::{ObjectRef, Store};

use crate::owned::{Changes, Owned};
use crate::reconcile::QUOTA_REFRESH;
use crate::resource::{READY, Tenant};

/// `changes` without the ResourceQuota events that changed only its status. `quotas` is the cache
/// the events were recorded in first: a quota gone from it was deleted, which always triggers.
pub(crate) fn applied_changes(
    changes: Changes<ResourceQuota>,
    quotas: Store<ResourceQuota>,
) -> Changes<ResourceQuota> {
    let mut seen: HashMap<ObjectRef<ResourceQuota>, u64> = HashMap::new();
    changes
        .filter(move |change| {
            let keep = match change {
                Err(_) => true,
                Ok(quota) => {
                    let key = ObjectRef::from_obj(quota);
                    if quotas.get(&key).is_none() {
                        seen.remove(&key);
                        true
                    } else {
                        let applied = applied_fields(quota);
                        seen.insert(key, applied) != Some(applied)
                    }
                }
            };
            std::future::ready(keep)
        })
        .boxed()
}

/// A digest of what a plan applies to a ResourceQuota: its labels, annotations and spec.
fn applied_fields(quota: &ResourceQuota) -> u64 {
    let mut hasher = DefaultHasher::new();
    let fields = (quota.labels(), quota.annotations(), &quota.spec);
    serde_json::to_string(&fields)
        .expect("a ResourceQuota serializes")
        .hash(&mut hasher);
    hasher.finish()
}

/// Every [`QUOTA_REFRESH`], the Ready Tenants whose status says another quota use than `owned`
/// holds.
pub(crate) fn stale_use(
    store: Store<Tenant>,
    owned: Owned,
) -> impl Stream<Item = ObjectRef<Tenant>> {
    futures::stream::unfold((store, owned), |(store, owned)| async move {
        tokio::time::sleep(QUOTA_REFRESH).await;
        let stale: Vec<ObjectRef<Tenant>> = store
            .state()
            .iter()
            .filter(|tenant| stale(tenant, &owned))
            .map(|tenant| ObjectRef::from_obj(&**tenant))
            .collect();
        Some((futures::stream::iter(stale), (store, owned)))
    })
    .flatten()
}

/// Whether `tenant` is Ready and its status says another quota use than `owned` holds.
fn stale(tenant: &Tenant, owned: &Owned) -> bool {
    let ready = tenant
        .condition(READY)
        .is_some_and(|c| c.status == "True" && tenant.metadata.deletion_timestamp.is_none());
    ready && tenant.status.as_ref().map(|s| &s.quota) != Some(&owned.quota_of(&tenant.name_any()))
}

#[cfg(test)]
mod tests {
    use futures::stream;
    use k8s_openapi::api::core::v1::{ResourceQuotaSpec, ResourceQuotaStatus};
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
    use kube::runtime::{reflector, watcher};

    use super::*;

    fn quota(version: &str, hard: &str, used: Option<&str>) -> ResourceQuota {
        let cpu = |q: &str| [("requests.cpu".to_string(), Quantity(q.into()))].into();
        let mut quota = ResourceQuota {
            spec: Some(ResourceQuotaSpec {
                hard: Some(cpu(hard)),
                ..ResourceQuotaSpec::default()
            }),
            status: used.map(|used| ResourceQuotaStatus {
                hard: Some(cpu(hard)),
                used: Some(cpu(used)),
            }),
            ..ResourceQuota::default()
        };
        quota.metadata.namespace = Some("acme".into());
        quota.metadata.name = Some("tenant-quota".into());
        quota.metadata.resource_version = Some(version.into());
        quota
    }

    /// The versions `events` trigger, each recorded in a cache before it is filtered, as the
    /// operator's watch does.
    async fn triggered(events: Vec<watcher::Event<ResourceQuota>>) -> Vec<String> {
        let (reader, mut writer) = reflector::store();
        let mut touched = Vec::new();
        for event in events {
            writer.apply_watcher_event(&event);
            if let watcher::Event::Apply(q) | watcher::Event::Delete(q) = event {
                touched.push(q);
            }
        }
        // Recorded all at once here, so deletions are checked against the final cache.
        let changes = stream::iter(touched.into_iter().map(Ok::<_, watcher::Error>)).boxed();
        applied_changes(changes, reader)
            .map(|q| q.unwrap().resource_version().unwrap_or_default())
            .collect()
            .await
    }

    #[tokio::test]
    async fn status_writes_trigger_nothing_and_spec_edits_do() {
        let versions = triggered(vec![
            watcher::Event::Apply(quota("1", "2", None)),
            // The quota controller fills the use, then updates it.
            watcher::Event::Apply(quota("2", "2", Some("0"))),
            watcher::Event::Apply(quota("3", "2", Some("500m"))),
            // Someone edits the hard limit: drift.
            watcher::Event::Apply(quota("4", "8", Some("500m"))),
        ])
        .await;
        assert_eq!(versions, ["1", "4"]);
    }

    #[tokio::test]
    async fn a_deleted_quota_triggers() {
        let versions = triggered(vec![
            watcher::Event::Apply(quota("1", "2", None)),
            watcher::Event::Delete(quota("5", "2", Some("0"))),
        ])
        .await;
        assert_eq!(versions, ["1", "5"]);
    }
}
