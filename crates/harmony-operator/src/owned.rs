//! The objects tenants own, watched: each kind of a tenant plan is listed and watched once (by the
//! managed-by label), kept in a cache, and any change to one of them triggers its tenant (but a
//! ResourceQuota's status, [`crate::quota_use`]). The
//! monitoring kinds are watched only while the cluster serves them: their watches start when the
//! prometheus-operator API appears and stop (their caches emptied) when it goes; Velero's
//! Schedules likewise, in Velero's namespace only ([`crate::schedules`]).

use std::collections::{HashMap, HashSet};
use std::fmt::Debug;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use futures::{Stream, StreamExt};
use harmony_kube::Kind;
use harmony_kube::kinds::Scope;
use harmony_tenant::backup::crd::Schedule;
use harmony_tenant::monitoring::crd::{AlertmanagerConfig, PrometheusRule};
use harmony_tenant::{
    MANAGED_BY_LABEL, MANAGED_BY_VALUE, REQUEST_ANNOTATION, SELF_SERVICE_LABEL, TENANT_LABEL,
};
use k8s_openapi::api::core::v1::{ConfigMap, LimitRange, Namespace, ResourceQuota, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::watch;

use crate::quota_use;
use crate::resource::{QuotaUsage, Tenant};
use crate::schedules::{Velero, watch_schedules};

/// A stream of owned objects that changed or went away.
pub(crate) type Changes<K> =
    std::pin::Pin<Box<dyn Stream<Item = Result<K, watcher::Error>> + Send>>;

/// How many owned kinds every cluster serves.
const KINDS: usize = 8;
/// How many owned kinds only a cluster with the prometheus-operator API serves.
const MONITORING_KINDS: usize = 2;

/// Counts the caches that hold their first full list, and says when all `expected` do.
struct Filled {
    count: AtomicUsize,
    expected: usize,
    all: watch::Sender<bool>,
}

/// Which objects of one kind each tenant holds, by their tenant label, kept from the same watch
/// events as the cache (a relist is swapped in whole once complete, as the cache does).
pub(crate) struct TenantIndex<K: Resource<DynamicType = ()>> {
    by_tenant: HashMap<String, HashSet<ObjectRef<K>>>,
    tenant_of: HashMap<ObjectRef<K>, String>,
    relist: Option<Vec<(ObjectRef<K>, String)>>,
}

impl<K: Resource<DynamicType = ()>> Default for TenantIndex<K> {
    fn default() -> Self {
        Self {
            by_tenant: HashMap::new(),
            tenant_of: HashMap::new(),
            relist: None,
        }
    }
}

impl<K: Resource<DynamicType = ()>> TenantIndex<K> {
    pub(crate) fn apply(&mut self, event: &watcher::Event<K>) {
        match event {
            watcher::Event::Apply(object) => {
                self.remove(&ObjectRef::from_obj(object));
                if let Some(tenant) = object.labels().get(TENANT_LABEL) {
                    self.insert(ObjectRef::from_obj(object), tenant.clone());
                }
            }
            watcher::Event::Delete(object) => self.remove(&ObjectRef::from_obj(object)),
            watcher::Event::Init => self.relist = Some(Vec::new()),
            watcher::Event::InitApply(object) => {
                if let (Some(relist), Some(tenant)) =
                    (&mut self.relist, object.labels().get(TENANT_LABEL))
                {
                    relist.push((ObjectRef::from_obj(object), tenant.clone()));
                }
            }
            watcher::Event::InitDone => {
                self.by_tenant.clear();
                self.tenant_of.clear();
                for (object, tenant) in self.relist.take().unwrap_or_default() {
                    self.insert(object, tenant);
                }
            }
        }
    }

    fn insert(&mut self, object: ObjectRef<K>, tenant: String) {
        self.by_tenant
            .entry(tenant.clone())
            .or_default()
            .insert(object.clone());
        self.tenant_of.insert(object, tenant);
    }

    fn remove(&mut self, object: &ObjectRef<K>) {
        let Some(tenant) = self.tenant_of.remove(object) else {
            return;
        };
        if let Some(objects) = self.by_tenant.get_mut(&tenant) {
            objects.remove(object);
            if objects.is_empty() {
                self.by_tenant.remove(&tenant);
            }
        }
    }
}

/// The cache of one owned kind, with the objects of each tenant indexed.
pub(crate) struct Cache<K: Resource<DynamicType = ()> + 'static> {
    pub(crate) store: Store<K>,
    pub(crate) index: Arc<Mutex<TenantIndex<K>>>,
}

impl<K: Resource<DynamicType = ()> + 'static> Clone for Cache<K> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            index: Arc::clone(&self.index),
        }
    }
}

impl<K> Cache<K>
where
    K: Resource<DynamicType = ()> + Clone + 'static,
{
    /// The cached objects of `tenant`.
    fn of(&self, tenant: &str) -> Vec<Arc<K>> {
        let index = self.index.lock().unwrap_or_else(PoisonError::into_inner);
        index
            .by_tenant
            .get(tenant)
            .into_iter()
            .flatten()
            .filter_map(|object| self.store.get(object))
            .collect()
    }
}

/// The cache of one owned kind, and the stream that fills it (and counts it in `filled` once it
/// holds its first full list).
fn watch<K>(client: &Client, filled: &Arc<Filled>) -> (Cache<K>, Changes<K>)
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    let (reader, writer) = reflector::store();
    let index = Arc::new(Mutex::new(TenantIndex::default()));
    let config = owned_config();
    let filled = Arc::clone(filled);
    let counted = AtomicBool::new(false);
    let indexed = Arc::clone(&index);
    let changes = watcher(Api::<K>::all(client.clone()), config)
        .default_backoff()
        .reflect(writer)
        .inspect(move |event| {
            if let Ok(event) = event {
                indexed
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .apply(event);
            }
            if matches!(event, Ok(watcher::Event::InitDone))
                && !counted.swap(true, Ordering::SeqCst)
            {
                let count = filled.count.fetch_add(1, Ordering::SeqCst) + 1;
                if count == filled.expected {
                    filled.all.send_replace(true);
                }
            }
        })
        .touched_objects()
        .boxed();
    (
        Cache {
            store: reader,
            index,
        },
        changes,
    )
}

/// Whether the monitoring kinds are watched, as reconciles see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Monitoring {
    /// The cluster does not serve them: nothing is watched and their caches are empty.
    NotServed,
    /// Served, and their caches are filling: a plan applied now would not see what they hold
    /// (and would prune the monitoring RoleBindings), so reconciles wait.
    Starting,
    /// Served and cached.
    Watched,
}

/// Which monitoring caches hold their first full list since their watch started, and the
/// [`Monitoring`] state that makes with whether the cluster serves them.
struct MonitoringGate {
    served: watch::Receiver<bool>,
    filled: Mutex<[bool; MONITORING_KINDS]>,
    state: watch::Sender<Monitoring>,
}

impl MonitoringGate {
    /// Records whether the cache in `slot` is filled, and publishes the state if it changed.
    fn set(&self, slot: usize, filled: bool) {
        let mut all = self.filled.lock().unwrap_or_else(PoisonError::into_inner);
        all[slot] = filled;
        let state = if !*self.served.borrow() {
            Monitoring::NotServed
        } else if all.iter().all(|f| *f) {
            Monitoring::Watched
        } else {
            Monitoring::Starting
        };
        self.state.send_if_modified(|current| {
            let changed = *current != state;
            *current = state;
            changed
        });
    }
}

/// Every value `values` takes, starting with the current one; a quick succession of changes may
/// yield only the last.
pub(crate) fn values<T: Clone + Send + Sync + 'static>(
    values: watch::Receiver<T>,
) -> impl Stream<Item = T> + Send + 'static {
    futures::stream::unfold((values, true), |(mut values, first)| async move {
        if !first && values.changed().await.is_err() {
            return None;
        }
        let value = values.borrow_and_update().clone();
        Some((value, (values, false)))
    })
}

/// An empty cache of `K`, and what records a watch event in it (its store and its tenant index).
pub(crate) fn recorded_cache<K>() -> (
    Cache<K>,
    impl Fn(&watcher::Event<K>) + Clone + Send + Sync + 'static,
)
where
    K: Resource<DynamicType = ()> + Clone + Send + Sync + 'static,
{
    let (reader, writer) = reflector::store();
    let writer = Arc::new(Mutex::new(writer));
    let index = Arc::new(Mutex::new(TenantIndex::default()));
    let cache = Cache {
        store: reader,
        index: Arc::clone(&index),
    };
    let record = move |event: &watcher::Event<K>| {
        writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .apply_watcher_event(event);
        index
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .apply(event);
    };
    (cache, record)
}

/// The cache of monitoring kind `K` (slot `slot` of `gate`), and the stream that watches it while
/// the cluster serves it and empties it when it stops serving it.
fn watch_while_served<K>(
    client: &Client,
    gate: &Arc<MonitoringGate>,
    slot: usize,
) -> (Cache<K>, Changes<K>)
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    let (cache, record) = recorded_cache();
    let api = Api::<K>::all(client.clone());
    let gate = Arc::clone(gate);
    let changes = values(gate.served.clone())
        .map(move |served| {
            if !served {
                // Emptied before the state says so: a reconcile then sees none of these objects.
                record(&watcher::Event::Init);
                record(&watcher::Event::InitDone);
                gate.set(slot, false);
                return futures::stream::empty().boxed();
            }
            gate.set(slot, false);
            let mut served = gate.served.clone();
            let stopped = async move {
                let _ = served.wait_for(|served| !*served).await;
            };
            let (record, gate) = (record.clone(), Arc::clone(&gate));
            watcher(api.clone(), owned_config())
                .default_backoff()
                .take_until(stopped)
                .inspect(move |event| {
                    if let Ok(event) = event {
                        record(event);
                        if matches!(event, watcher::Event::InitDone) {
                            gate.set(slot, true);
                        }
                    }
                })
                .touched_objects()
                .boxed()
        })
        .flatten()
        .boxed();
    (cache, changes)
}

/// Watches only Harmony's objects.
pub(crate) fn owned_config() -> watcher::Config {
    watcher::Config::default().labels(&format!("{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}"))
}

/// The tenant an owned object belongs to, by its tenant label.
pub(crate) fn owner<K: Resource>(object: K) -> Option<ObjectRef<Tenant>> {
    object
        .labels()
        .get(TENANT_LABEL)
        .map(|tenant| ObjectRef::new(tenant))
}

/// The caches of every kind a tenant plan holds.
#[derive(Clone)]
pub(crate) struct Owned {
    namespaces: Cache<Namespace>,
    quotas: Cache<ResourceQuota>,
    limits: Cache<LimitRange>,
    config_maps: Cache<ConfigMap>,
    policies: Cache<NetworkPolicy>,
    roles: Cache<Role>,
    accounts: Cache<ServiceAccount>,
    bindings: Cache<RoleBinding>,
    rules: Cache<PrometheusRule>,
    routing: Cache<AlertmanagerConfig>,
    schedules: Cache<Schedule>,
    monitoring: watch::Receiver<Monitoring>,
    velero: watch::Receiver<Velero>,
}

/// The change streams of [`Owned`], handed to the controller as triggers.
pub(crate) struct Triggers {
    pub namespaces: Changes<Namespace>,
    pub quotas: Changes<ResourceQuota>,
    pub limits: Changes<LimitRange>,
    pub config_maps: Changes<ConfigMap>,
    pub policies: Changes<NetworkPolicy>,
    pub roles: Changes<Role>,
    pub accounts: Changes<ServiceAccount>,
    pub bindings: Changes<RoleBinding>,
    pub rules: Changes<PrometheusRule>,
    pub routing: Changes<AlertmanagerConfig>,
    pub schedules: Changes<Schedule>,
}

fn items<K>(cache: &Cache<K>, tenant: &str, out: &mut Vec<(Kind, Value)>)
where
    K: Resource<DynamicType = ()> + k8s_openapi::Resource + Clone + Serialize + 'static,
    <K as k8s_openapi::Resource>::Scope: Scope,
{
    let kind = Kind::of::<K>();
    for object in cache.of(tenant) {
        let value = serde_json::to_value(&*object).expect("objects read from JSON serialize back");
        out.push((kind, value));
    }
}

impl Owned {
    /// Starts nothing: the caches fill once the controller polls the returned triggers; the
    /// receiver turns `true` once every cache of the kinds every cluster serves holds its first
    /// full list. The monitoring kinds are watched while `served` says the cluster serves them,
    /// Velero's Schedules while `velero` names Velero's namespace (and only in it).
    pub fn new(
        client: &Client,
        served: watch::Receiver<bool>,
        velero: watch::Receiver<Option<String>>,
    ) -> (Self, Triggers, watch::Receiver<bool>) {
        let (all, filled_rx) = watch::channel(false);
        let filled = Arc::new(Filled {
            count: AtomicUsize::new(0),
            expected: KINDS,
            all,
        });
        let initial = if *served.borrow() {
            Monitoring::Starting
        } else {
            Monitoring::NotServed
        };
        let (state, monitoring) = watch::channel(initial);
        let gate = Arc::new(MonitoringGate {
            served,
            filled: Mutex::new([false; MONITORING_KINDS]),
            state,
        });
        let (namespaces, t_namespaces) = watch(client, &filled);
        let (quotas, t_quotas) = watch(client, &filled);
        let t_quotas = quota_use::applied_changes(t_quotas, quotas.store.clone());
        let (limits, t_limits) = watch(client, &filled);
        let (config_maps, t_config_maps) = watch(client, &filled);
        let (policies, t_policies) = watch(client, &filled);
        let (roles, t_roles) = watch(client, &filled);
        let (accounts, t_accounts) = watch(client, &filled);
        let (bindings, t_bindings) = watch(client, &filled);
        let (rules, t_rules) = watch_while_served(client, &gate, 0);
        let (routing, t_routing) = watch_while_served(client, &gate, 1);
        let (schedules, t_schedules, velero) = watch_schedules(client, velero);
        (
            Self {
                namespaces,
                quotas,
                limits,
                config_maps,
                policies,
                roles,
                accounts,
                bindings,
                rules,
                routing,
                schedules,
                monitoring,
                velero,
            },
            Triggers {
                namespaces: t_namespaces,
                quotas: t_quotas,
                limits: t_limits,
                config_maps: t_config_maps,
                policies: t_policies,
                roles: t_roles,
                accounts: t_accounts,
                bindings: t_bindings,
                rules: t_rules,
                routing: t_routing,
                schedules: t_schedules,
            },
            filled_rx,
        )
    }

    /// Whether the monitoring kinds are watched now.
    pub fn monitoring(&self) -> Monitoring {
        *self.monitoring.borrow()
    }

    /// Whether Velero's Schedules are watched now, and where.
    pub fn velero(&self) -> Velero {
        self.velero.borrow().clone()
    }

    /// Every change of [`Self::monitoring`] or [`Self::velero`] to a settled state (not served,
    /// or watched) after the first: each asks for every Tenant to be reconciled.
    pub fn settled(&self) -> impl Stream<Item = ()> + Send + 'static {
        let monitoring = values(self.monitoring.clone())
            .skip(1)
            .filter(|state| std::future::ready(*state != Monitoring::Starting))
            .map(|_| ());
        let velero = values(self.velero.clone())
            .skip(1)
            .filter(|state| std::future::ready(*state != Velero::Starting))
            .map(|_| ());
        futures::stream::select(monitoring, velero)
    }

    /// Every cached object of `tenant`, as JSON with its kind, and Harmony's namespaces among
    /// `namespaces` that another tenant holds (the apply refuses to take those over).
    pub fn objects_of(&self, tenant: &str, namespaces: &[String]) -> Vec<(Kind, Value)> {
        let mut out = Vec::new();
        for held in namespaces.iter().filter_map(|name| self.namespace(name)) {
            if held.labels().get(TENANT_LABEL).is_some_and(|t| t != tenant) {
                let value =
                    serde_json::to_value(&*held).expect("objects read from JSON serialize back");
                out.push((Kind::of::<Namespace>(), value));
            }
        }
        items(&self.namespaces, tenant, &mut out);
        items(&self.quotas, tenant, &mut out);
        items(&self.limits, tenant, &mut out);
        items(&self.config_maps, tenant, &mut out);
        items(&self.policies, tenant, &mut out);
        items(&self.roles, tenant, &mut out);
        items(&self.accounts, tenant, &mut out);
        items(&self.bindings, tenant, &mut out);
        items(&self.rules, tenant, &mut out);
        items(&self.routing, tenant, &mut out);
        items(&self.schedules, tenant, &mut out);
        out
    }

    /// Harmony's namespace `name`, as last seen.
    pub fn namespace(&self, name: &str) -> Option<Arc<Namespace>> {
        self.namespaces.store.get(&ObjectRef::new(name))
    }

    /// The self-service namespaces of `tenant` that exist, each with its request
    /// (`namespace/name`).
    pub fn self_service_namespaces(&self, tenant: &str) -> Vec<(String, String)> {
        self.namespaces
            .of(tenant)
            .into_iter()
            .filter(|ns| ns.labels().get(SELF_SERVICE_LABEL).map(String::as_str) == Some("true"))
            .map(|ns| {
                let request = ns.annotations().get(REQUEST_ANNOTATION).cloned();
                (ns.name_any(), request.unwrap_or_default())
            })
            .collect()
    }

    /// The use of the tenant's quotas, resource by resource, as the quota controller last wrote it.
    pub fn quota_of(&self, tenant: &str) -> Vec<QuotaUsage> {
        let mut lines = Vec::new();
        for quota in self.quotas.of(tenant) {
            let Some(status) = &quota.status else {
                continue;
            };
            for (resource, hard) in status.hard.iter().flatten() {
                let used = status
                    .used
                    .as_ref()
                    .and_then(|u| u.get(resource))
                    .map_or_else(String::new, |q| q.0.clone());
                lines.push(QuotaUsage {
                    resource: resource.clone(),
                    used,
                    hard: hard.0.clone(),
                });
            }
        }
        lines.sort_by(|a, b| a.resource.cmp(&b.resource));
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::api::ObjectMeta;

    fn role(name: &str, tenant: Option<&str>) -> Role {
        Role {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("ns".into()),
                labels: tenant.map(|t| [(TENANT_LABEL.to_string(), t.to_string())].into()),
                ..ObjectMeta::default()
            },
            ..Role::default()
        }
    }

    fn names(index: &TenantIndex<Role>, tenant: &str) -> Vec<String> {
        let mut names: Vec<String> = index
            .by_tenant
            .get(tenant)
            .into_iter()
            .flatten()
            .map(|r| r.name.clone())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn objects_are_indexed_by_their_tenant_label_and_follow_relabels_and_deletions() {
        let mut index = TenantIndex::default();
        index.apply(&watcher::Event::Apply(role("a", Some("acme"))));
        index.apply(&watcher::Event::Apply(role("b", Some("acme"))));
        index.apply(&watcher::Event::Apply(role("c", None)));
        assert_eq!(names(&index, "acme"), ["a", "b"]);
        index.apply(&watcher::Event::Apply(role("b", Some("globex"))));
        assert_eq!(names(&index, "acme"), ["a"]);
        assert_eq!(names(&index, "globex"), ["b"]);
        index.apply(&watcher::Event::Apply(role("a", None)));
        index.apply(&watcher::Event::Delete(role("b", Some("globex"))));
        assert!(index.by_tenant.is_empty() && index.tenant_of.is_empty());
    }

    #[test]
    fn monitoring_is_watched_once_served_and_every_cache_is_filled() {
        let (served_tx, served) = watch::channel(false);
        let (state, monitoring) = watch::channel(Monitoring::NotServed);
        let gate = MonitoringGate {
            served,
            filled: Mutex::new([false; MONITORING_KINDS]),
            state,
        };
        served_tx.send_replace(true);
        gate.set(0, false);
        assert_eq!(*monitoring.borrow(), Monitoring::Starting);
        gate.set(0, true);
        assert_eq!(*monitoring.borrow(), Monitoring::Starting);
        gate.set(1, true);
        assert_eq!(*monitoring.borrow(), Monitoring::Watched);
        served_tx.send_replace(false);
        gate.set(0, false);
        assert_eq!(*monitoring.borrow(), Monitoring::NotServed);
        served_tx.send_replace(true);
        gate.set(0, false);
        assert_eq!(*monitoring.borrow(), Monitoring::Starting);
    }

    #[test]
    fn a_relist_replaces_the_index_only_once_complete() {
        let mut index = TenantIndex::default();
        index.apply(&watcher::Event::Apply(role("old", Some("acme"))));
        index.apply(&watcher::Event::Init);
        index.apply(&watcher::Event::InitApply(role("new", Some("acme"))));
        assert_eq!(names(&index, "acme"), ["old"]);
        index.apply(&watcher::Event::InitDone);
        assert_eq!(names(&index, "acme"), ["new"]);
    }
}
