//! The objects tenants own, watched: each kind of a tenant plan is listed and watched once (by the
//! managed-by label), kept in a cache, and any change to one of them triggers its tenant.

use std::fmt::Debug;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use futures::{Stream, StreamExt};
use harmony_kube::Kind;
use harmony_kube::kinds::Scope;
use harmony_tenant::{MANAGED_BY_LABEL, MANAGED_BY_VALUE, TENANT_LABEL};
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

use crate::resource::{QuotaUsage, Tenant};

/// A stream of owned objects that changed or went away.
type Changes<K> = std::pin::Pin<Box<dyn Stream<Item = Result<K, watcher::Error>> + Send>>;

/// How many owned kinds are watched.
const KINDS: usize = 8;

/// Counts the caches that hold their first full list, and says when all of them do.
struct Filled {
    count: AtomicUsize,
    all: watch::Sender<bool>,
}

/// The cache of one owned kind, and the stream that fills it (and counts it in `filled` once it
/// holds its first full list).
fn watch<K>(client: &Client, filled: &Arc<Filled>) -> (Store<K>, Changes<K>)
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    let (reader, writer) = reflector::store();
    let config =
        watcher::Config::default().labels(&format!("{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}"));
    let filled = Arc::clone(filled);
    let counted = AtomicBool::new(false);
    let changes = watcher(Api::<K>::all(client.clone()), config)
        .default_backoff()
        .reflect(writer)
        .inspect(move |event| {
            if matches!(event, Ok(watcher::Event::InitDone))
                && !counted.swap(true, Ordering::SeqCst)
            {
                let count = filled.count.fetch_add(1, Ordering::SeqCst) + 1;
                if count == KINDS {
                    filled.all.send_replace(true);
                }
            }
        })
        .touched_objects()
        .boxed();
    (reader, changes)
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
    namespaces: Store<Namespace>,
    quotas: Store<ResourceQuota>,
    limits: Store<LimitRange>,
    config_maps: Store<ConfigMap>,
    policies: Store<NetworkPolicy>,
    roles: Store<Role>,
    accounts: Store<ServiceAccount>,
    bindings: Store<RoleBinding>,
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
}

fn items<K>(store: &Store<K>, tenant: &str, out: &mut Vec<(Kind, Value)>)
where
    K: Resource<DynamicType = ()> + k8s_openapi::Resource + Clone + Serialize + 'static,
    <K as k8s_openapi::Resource>::Scope: Scope,
{
    let kind = Kind::of::<K>();
    for object in store.state() {
        if tenant_of(&*object, tenant) {
            let value =
                serde_json::to_value(&*object).expect("objects read from JSON serialize back");
            out.push((kind, value));
        }
    }
}

fn tenant_of<K: Resource>(object: &K, tenant: &str) -> bool {
    object.labels().get(TENANT_LABEL).map(String::as_str) == Some(tenant)
}

impl Owned {
    /// Starts nothing: the caches fill once the controller polls the returned triggers; the
    /// receiver turns `true` once every cache holds its first full list.
    pub fn new(client: &Client) -> (Self, Triggers, watch::Receiver<bool>) {
        let (all, filled_rx) = watch::channel(false);
        let filled = Arc::new(Filled {
            count: AtomicUsize::new(0),
            all,
        });
        let (namespaces, t_namespaces) = watch(client, &filled);
        let (quotas, t_quotas) = watch(client, &filled);
        let (limits, t_limits) = watch(client, &filled);
        let (config_maps, t_config_maps) = watch(client, &filled);
        let (policies, t_policies) = watch(client, &filled);
        let (roles, t_roles) = watch(client, &filled);
        let (accounts, t_accounts) = watch(client, &filled);
        let (bindings, t_bindings) = watch(client, &filled);
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
            },
            filled_rx,
        )
    }

    /// Every cached object of `tenant`, as JSON with its kind.
    pub fn objects_of(&self, tenant: &str) -> Vec<(Kind, Value)> {
        let mut out = Vec::new();
        items(&self.namespaces, tenant, &mut out);
        items(&self.quotas, tenant, &mut out);
        items(&self.limits, tenant, &mut out);
        items(&self.config_maps, tenant, &mut out);
        items(&self.policies, tenant, &mut out);
        items(&self.roles, tenant, &mut out);
        items(&self.accounts, tenant, &mut out);
        items(&self.bindings, tenant, &mut out);
        out
    }

    /// The use of the tenant's quotas, resource by resource, as the quota controller last wrote it.
    pub fn quota_of(&self, tenant: &str) -> Vec<QuotaUsage> {
        let mut lines = Vec::new();
        for quota in self.quotas.state() {
            if !tenant_of(&*quota, tenant) {
                continue;
            }
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

    /// How many members hold a RoleBinding (`member-*`) of the tenant.
    pub fn members_of(&self, tenant: &str) -> i64 {
        let count = self
            .bindings
            .state()
            .iter()
            .filter(|b| tenant_of(&***b, tenant) && b.name_any().starts_with("member-"))
            .count();
        i64::try_from(count).unwrap_or(i64::MAX)
    }
}
