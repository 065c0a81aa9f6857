//! Self-service namespaces in operator mode: tenant admins' `NamespaceRequest`s, decided by the
//! library against the Tenant's `spec.maxNamespaces` ([`TenantScore::with_self_service`]),
//! rendered by the Tenant's own reconcile (the same plan and isolate-before-grant apply as any
//! namespace of the tenant), and released, under the data guard, once their request is gone.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::StreamExt;
use harmony_kube::Kind;
use harmony_tenant::{
    ClusterFacts, DeleteError, GrantedNamespaces, NamespaceAsk, Refusal, TENANT_LABEL, TenantScore,
};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{ListParams, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, Resource, ResourceExt};
use serde_json::json;

use crate::namespace_request::{ACCEPTED, NamespaceRequest, NamespaceRequestStatus};
use crate::owned::{Changes, Owned};
use crate::reconcile::{Context, Error, STATUS_MANAGER};
use crate::resource::Tenant;

/// How long releasing a namespace waits for it to finish terminating before trying again later.
const RELEASE_TIMEOUT: Duration = Duration::from_secs(60);

/// The requests for namespaces, as last seen (empty when the cluster does not serve them).
#[derive(Clone)]
pub(crate) struct Requests {
    /// Whether the cluster serves `namespacerequests`.
    pub(crate) served: bool,
    /// The cached requests.
    store: Store<NamespaceRequest>,
    /// Names granted in this process, by tenant: two tenants asking for one name at once get it
    /// once, even before its namespace exists.
    claimed: Arc<Mutex<HashMap<String, String>>>,
    /// Each tenant's score with its self-service namespaces, as last applied, for the auditor.
    effective: Arc<Mutex<HashMap<String, Arc<TenantScore>>>>,
}

/// The requests' cache and the stream that fills it; when the cluster does not serve
/// `namespacerequests` (the CRD of an older `harmony operator install`), both stay empty and
/// self-service is off.
pub(crate) async fn watch_requests(client: &Client) -> (Requests, Changes<NamespaceRequest>) {
    let api: Api<NamespaceRequest> = Api::all(client.clone());
    let (store, writer) = reflector::store();
    let served = api.list(&ListParams::default().limit(1)).await;
    let requests = Requests {
        served: served.is_ok(),
        store,
        claimed: Arc::default(),
        effective: Arc::default(),
    };
    if let Err(error) = served {
        tracing::warn!(
            "self-service namespaces off: cannot list namespacerequests ({error}); apply the CRD \
             of `harmony operator install --out DIR`"
        );
        return (requests, futures::stream::empty().boxed());
    }
    let changes = watcher(api, watcher::Config::default())
        .default_backoff()
        .modify(|request| request.managed_fields_mut().clear())
        .reflect(writer)
        .touched_objects()
        .boxed();
    (requests, changes)
}

/// The tenant of the namespace a request is in, by the namespace's tenant label.
pub(crate) fn tenant_of(owned: &Owned, request: &NamespaceRequest) -> Option<String> {
    let namespace = owned.namespace(&request.namespace()?)?;
    namespace.labels().get(TENANT_LABEL).cloned()
}

/// What a Tenant's requests make of it.
pub(crate) struct SelfService {
    /// The tenant with its granted (and held) namespaces, and the decision on each ask.
    pub(crate) granted: GrantedNamespaces,
    /// The requests decided, by `namespace/name`.
    requests: HashMap<String, Arc<NamespaceRequest>>,
    /// Namespaces whose request is gone and which PersistentVolumeClaims keep: their claims.
    pub(crate) held: Vec<(String, Vec<String>)>,
}

impl Requests {
    /// The score of `tenant` the auditor holds its live state to: with its self-service
    /// namespaces, as last applied.
    pub(crate) fn effective(&self, tenant: &Tenant) -> TenantScore {
        let effective = self
            .effective
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match effective.get(tenant.name()) {
            Some(score) => (**score).clone(),
            None => tenant.score(),
        }
    }

    /// Records the score of a tenant as applied.
    pub(crate) fn applied(&self, score: &TenantScore) {
        self.effective
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(score.name().into(), Arc::new(score.clone()));
    }

    /// Forgets a deleted tenant.
    pub(crate) fn forget(&self, tenant: &str) {
        self.effective
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(tenant);
        self.claimed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|_, owner| owner != tenant);
    }
}

impl Context {
    /// Decides the requests in `score`'s namespaces; first releases the self-service namespaces
    /// whose request is gone (access first, then the namespace), or keeps them, held, while
    /// PersistentVolumeClaims hold data there.
    pub(crate) async fn self_service(
        &self,
        tenant: &Tenant,
        score: &TenantScore,
        facts: &ClusterFacts,
    ) -> Result<SelfService, Error> {
        let name = score.name();
        let requests: HashMap<String, Arc<NamespaceRequest>> = self
            .requests
            .store
            .state()
            .into_iter()
            .filter(|r| tenant_of(&self.owned, r).as_deref() == Some(name))
            .map(|r| (r.ask().request, r))
            .collect();
        let existing = self.owned.self_service_namespaces(name);
        let mut asks: Vec<NamespaceAsk> = requests
            .values()
            .map(|r| {
                let mut ask = r.ask();
                ask.granted = existing.contains(&(ask.name.clone(), ask.request.clone()));
                ask
            })
            .collect();
        let mut held = Vec::new();
        for (namespace, request) in &existing {
            if asks
                .iter()
                .any(|a| &a.name == namespace && &a.request == request)
            {
                continue;
            }
            match self
                .topology
                .release_namespace(name, namespace, RELEASE_TIMEOUT)
                .await
            {
                Ok(revoked) => {
                    let note = format!(
                        "namespace {namespace} released (its request {request} is gone); \
                         revoked {}",
                        revoked.join(", ")
                    );
                    self.event(tenant, EventType::Normal, "Released", "Release", note)
                        .await;
                }
                Err(DeleteError::DataHeld { claims, .. }) => {
                    asks.push(NamespaceAsk {
                        created: String::new(),
                        request: request.clone(),
                        name: namespace.clone(),
                        copy_from: None,
                        granted: true,
                    });
                    held.push((namespace.clone(), claims));
                }
                Err(source) => {
                    return Err(Error::Release {
                        tenant: name.into(),
                        namespace: namespace.clone(),
                        source,
                    });
                }
            }
        }
        let taken = self.taken(name, &asks).await?;
        let granted = score.with_self_service(&asks, &taken, facts);
        let mut claimed = self
            .requests
            .claimed
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        claimed.retain(|_, owner| owner != name);
        for decision in granted.decisions.iter().filter(|d| d.outcome.is_ok()) {
            claimed.insert(decision.ask.name.clone(), name.into());
        }
        drop(claimed);
        Ok(SelfService {
            granted,
            requests,
            held,
        })
    }

    /// Who has each wanted namespace not yet granted: a tenant (its label, its Tenant's spec, or a
    /// grant of this process), the cluster (a namespace without a tenant label), or nobody.
    async fn taken(
        &self,
        tenant: &str,
        asks: &[NamespaceAsk],
    ) -> Result<BTreeMap<String, Option<String>>, Error> {
        let wanted: HashSet<&str> = asks
            .iter()
            .filter(|a| !a.granted)
            .map(|a| a.name.as_str())
            .collect();
        let mut taken = BTreeMap::new();
        if wanted.is_empty() {
            return Ok(taken);
        }
        let listed: HashMap<String, String> = self
            .store
            .state()
            .iter()
            .filter(|t| t.name() != tenant)
            .flat_map(|t| {
                let score = t.score();
                let owner = t.name().to_string();
                score
                    .namespaces()
                    .into_iter()
                    .map(|ns| (ns.to_string(), owner.clone()))
                    .collect::<Vec<_>>()
            })
            .collect();
        let claimed = self
            .requests
            .claimed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        for name in wanted {
            let owner = if let Some(ns) = self.owned.namespace(name) {
                Some(ns.labels().get(TENANT_LABEL).cloned())
            } else if let Some(owner) = listed.get(name).or_else(|| claimed.get(name)) {
                Some(Some(owner.clone()))
            } else {
                self.cluster
                    .get(Kind::of::<Namespace>(), "", name)
                    .await
                    .map_err(|source| Error::Apply {
                        tenant: tenant.into(),
                        source,
                    })?
                    .map(|live| {
                        live["metadata"]["labels"][TENANT_LABEL]
                            .as_str()
                            .map(String::from)
                    })
            };
            if let Some(owner) = owner {
                taken.insert(name.to_string(), owner);
            }
        }
        Ok(taken)
    }

    /// Writes each decided request's status, when it says something new. Granted requests are
    /// written only once `applied` (their namespace isolated before any binding).
    pub(crate) async fn write_requests(&self, decided: &SelfService, applied: bool) {
        for decision in &decided.granted.decisions {
            let Some(request) = decided.requests.get(&decision.ask.request) else {
                continue;
            };
            if decision.outcome.is_ok() && !applied {
                continue;
            }
            self.settle_request(request, &decision.outcome).await;
        }
    }

    /// Writes the status of `request` decided as `outcome` when it says something new
    /// (server-side apply, the reconciler's field manager); a failure is logged, and the next
    /// reconcile writes it again.
    async fn settle_request(&self, request: &NamespaceRequest, outcome: &Result<(), Refusal>) {
        let generation = request.metadata.generation.unwrap_or_default();
        let mut status = NamespaceRequestStatus::of(outcome, &request.spec.name, generation);
        let current = request.status.clone().unwrap_or_default();
        let old = current.conditions.iter().find(|c| c.type_ == ACCEPTED);
        if let [new] = status.conditions.as_mut_slice() {
            if current.namespace == status.namespace && old.is_some_and(|old| old.same_as(new)) {
                return;
            }
            new.last_transition_time = match old {
                Some(old) if old.status == new.status => old.last_transition_time.clone(),
                _ => now(),
            };
        }
        let namespace = request.namespace().unwrap_or_default();
        let api: Api<NamespaceRequest> =
            Api::namespaced(self.tenants.clone().into_client(), &namespace);
        let body = json!({
            "apiVersion": NamespaceRequest::api_version(&()),
            "kind": NamespaceRequest::kind(&()),
            "metadata": {"name": request.name_any(), "namespace": namespace},
            "status": status,
        });
        let params = PatchParams::apply(STATUS_MANAGER).force();
        if let Err(error) = api
            .patch_status(&request.name_any(), &params, &Patch::Apply(&body))
            .await
        {
            tracing::warn!(
                request = %format!("{namespace}/{}", request.name_any()),
                "could not write the request's status: {error}"
            );
        }
    }
}

/// Now, to the second, as conditions write it.
fn now() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .unwrap_or_default()
        .to_string()
}

/// Refuses the requests in a namespace of no Tenant: a request there is nobody's to grant.
/// Requests in a Tenant's namespaces are decided by that Tenant's reconcile.
pub(crate) async fn refuse_strays(
    request: Arc<NamespaceRequest>,
    ctx: Arc<Context>,
) -> Result<Action, Error> {
    ctx.synced
        .clone()
        .wait_for(|synced| *synced)
        .await
        .map_err(|_| Error::Caches)?;
    if let Some(tenant) = tenant_of(&ctx.owned, &request)
        && ctx.store.get(&ObjectRef::new(&tenant)).is_some()
    {
        return Ok(Action::await_change());
    }
    let namespace = request.namespace().unwrap_or_default();
    ctx.settle_request(&request, &Err(Refusal::NotInTenantNamespace { namespace }))
        .await;
    Ok(Action::await_change())
}

/// Tries a stray request again a little later.
pub(crate) fn stray_error_policy(
    _: Arc<NamespaceRequest>,
    error: &Error,
    _: Arc<Context>,
) -> Action {
    tracing::warn!("{error}");
    Action::requeue(Duration::from_secs(5))
}

/// The Tenant a request's change triggers.
pub(crate) fn request_owner(
    owned: &Owned,
) -> impl Fn(NamespaceRequest) -> Option<ObjectRef<Tenant>> + Send + Sync + 'static {
    let owned = owned.clone();
    move |request| tenant_of(&owned, &request).map(|t| ObjectRef::new(&t))
}
