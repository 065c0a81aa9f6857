//! `harmony operator run`: the controller, its caches and the auditor, until shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use harmony::InterpretError;
use harmony_k8s::{ApplyOptions, FactsSource, InventoryReader, K8sTopology, facts};
use harmony_kube::{Cluster, cluster_from_config};
use harmony_tenant::ExternalAccess;
use kube::api::ListParams;
use kube::runtime::controller::{self, Controller};
use kube::runtime::events::Reporter;
use kube::runtime::{Predicate, WatchStreamExt, predicates, reflector, watcher};
use kube::{Api, Client, ResourceExt};
use tokio::sync::{Notify, watch};

use crate::auditor::Auditor;
use crate::connections::Peers;
use crate::echoes::Echoes;
use crate::events::Events;
use crate::lease::{Elector, LeaseError, LeaseSettings};
use crate::metrics::{Metrics, bind, serve};
use crate::namespace_request::NamespaceRequest;
use crate::owned::{Owned, owner};
use crate::quota_use::stale_use;
use crate::reconcile::{Context, error_policy, reconcile};
use crate::resource::{GROUP, PLURAL, Tenant};
use crate::self_service::{refuse_strays, request_owner, stray_error_policy, watch_requests};
use crate::validated::Validated;
use crate::written::Written;

/// Why the operator could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// No cluster to talk to, or the facts could not be discovered.
    #[error(transparent)]
    Cluster(#[from] InterpretError),
    /// The kube client could not be built.
    #[error("cannot build a client: {0}")]
    Client(#[source] kube::Error),
    /// The metrics and probes address could not be bound.
    #[error("cannot listen on {address} for metrics and probes: {source}")]
    Listen {
        /// The address.
        address: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The lease could not be taken or was lost: another replica leads now.
    #[error(transparent)]
    Lease(#[from] LeaseError),
    /// The Tenant CRD is not installed, or the operator may not list Tenants.
    #[error(
        "cannot list {PLURAL}.{GROUP}: {0}; install the CRD first (`harmony operator install --out DIR`, then `kubectl apply -f DIR`)"
    )]
    NoCrd(#[source] kube::Error),
}

/// How often the operator asks discovery whether the cluster serves the prometheus-operator API
/// (`monitoring.coreos.com`) and Velero (`velero.io`), so that installing or removing either
/// needs no restart.
pub const REDISCOVERY: Duration = Duration::from_secs(10);

/// How many Tenants are reconciled at once unless told otherwise. A reconcile waits on the API
/// server far more than it computes, and a Tenant's own writes queue one more (no-op) reconcile
/// of it: 500 Tenants from empty took 22.7 s at 8, 16.0 s at 16 and 14.1 s at 32.
pub const DEFAULT_CONCURRENCY: u16 = 32;

/// How the controller runs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// What the operator says about the cluster beside what discovery finds.
    pub facts: FactsSource,
    /// At most this many Tenants are reconciled at once.
    pub concurrency: u16,
    /// The name Events are published under, with this instance (the pod name, say).
    pub instance: Option<String>,
    /// Reconcile only while holding this lease (several replicas, one active).
    pub lease: Option<LeaseSettings>,
    /// Serve `/metrics`, `/healthz` and `/readyz` here.
    pub listen: Option<SocketAddr>,
    /// Access to tenants held outside the cluster (such as VPN peers), revoked before the
    /// RoleBindings of a deleted Tenant.
    pub outside: Option<Arc<dyn ExternalAccess>>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            facts: FactsSource::default(),
            concurrency: DEFAULT_CONCURRENCY,
            instance: None,
            lease: None,
            listen: None,
            outside: None,
        }
    }
}

/// Completes once `stop` says so; never when nobody can say so any more.
async fn stopped(mut stop: watch::Receiver<bool>) {
    if stop.wait_for(|stopped| *stopped).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Runs the controller on the cluster `config` reaches until `shutdown` completes; reconciles in
/// flight then finish and the lease, if any, is given back. With a lease, waits to hold it first,
/// and returns [`RunError::Lease`] when it is lost.
pub async fn run(
    config: kube::Config,
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), RunError> {
    let (stop, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop.send(true);
    });
    let metrics = Arc::new(Metrics::default());
    let server = match settings.listen {
        Some(address) => {
            let listener = bind(address)
                .await
                .map_err(|source| RunError::Listen { address, source })?;
            Some(tokio::spawn(serve(listener, Arc::clone(&metrics))))
        }
        None => None,
    };
    let client = Client::try_from(config.clone()).map_err(RunError::Client)?;
    metrics.set_ready(true);
    if let Some(lease) = &settings.lease {
        let mut elector = Elector::new(client.clone(), lease.clone());
        tokio::select! {
            acquired = elector.acquire() => acquired?,
            () = stopped(stop_rx.clone()) => return Ok(()),
        }
        tracing::info!(identity = %lease.identity, "holding lease {}/{}", lease.namespace, lease.name);
    }
    metrics.set_leader(true);
    metrics.set_ready(false);
    let (lost_tx, lost_rx) = watch::channel(false);
    let holder = settings.lease.clone().map(|lease| {
        let mut elector = Elector::new(client.clone(), lease);
        tokio::spawn(async move {
            let error = elector.hold().await;
            let _ = lost_tx.send(true);
            error
        })
    });
    let result = lead(config, client.clone(), &settings, &metrics, async move {
        tokio::select! {
            () = stopped(stop_rx) => {}
            () = stopped(lost_rx) => {}
        }
    })
    .await;
    metrics.set_leader(false);
    if let Some(server) = server {
        server.abort();
    }
    result?;
    if let (Some(holder), Some(lease)) = (holder, settings.lease) {
        if holder.is_finished() {
            if let Ok(error) = holder.await {
                return Err(RunError::Lease(error));
            }
        } else {
            holder.abort();
            Elector::new(client, lease).release().await?;
        }
    }
    Ok(())
}

/// The controller itself, until `stop` completes.
async fn lead(
    config: kube::Config,
    client: Client,
    settings: &Settings,
    metrics: &Arc<Metrics>,
    stop: impl Future<Output = ()> + Send + Sync + 'static,
) -> Result<(), RunError> {
    let cluster = cluster_from_config(config.clone())?;
    let facts = facts::discover(&cluster, &settings.facts).await?;
    let tenants: Api<Tenant> = Api::all(client.clone());
    tenants
        .list(&ListParams::default().limit(1))
        .await
        .map_err(RunError::NoCrd)?;

    let (store, writer) = reflector::store();
    let (peers, requeued) = Peers::new();
    let written = Arc::new(Written::new(store.clone()));
    let seen = Arc::clone(&written);
    // A Tenant is reconciled when its generation (spec or deletion) or its finalizers change; the
    // status the reconciler and the auditor write does not trigger it again. Who manages which
    // field of a Tenant is never read, so it is not kept. A Tenant's new generation also requeues
    // the Tenants it names in its connections, so both sides follow a change of either.
    let tenant_stream = watcher(tenants.clone(), watcher::Config::default())
        .default_backoff()
        .modify(|tenant| tenant.managed_fields_mut().clear())
        .reflect(writer)
        .inspect(move |event| {
            if let Ok(event) = event {
                peers.observe(event);
                if let watcher::Event::Apply(tenant) | watcher::Event::InitApply(tenant) = event {
                    seen.observe(tenant);
                }
            }
        })
        .applied_objects()
        .predicate_filter(
            predicates::generation.combine(predicates::finalizers),
            Default::default(),
        );
    metrics.count_tenants(store.clone());
    let (served, served_rx) = watch::channel(facts.monitoring_api);
    let (velero, velero_rx) = watch::channel(facts.velero_namespace.clone());
    let named = settings
        .facts
        .profile
        .as_ref()
        .and_then(|p| p.velero_namespace.clone());
    let found = Served {
        monitoring: served,
        velero,
        named,
    };
    let rediscovery = tokio::spawn(rediscover(cluster.clone(), found));
    let (owned, triggers, synced) = Owned::new(&client, served_rx, velero_rx);
    let echoes = Arc::new(Echoes::default());
    let (requests, request_changes) = watch_requests(&client).await;
    let request_tenant = request_owner(&owned);
    let settled = owned.settled();
    let audit = Arc::new(Notify::new());
    let auditor = Auditor {
        reader: InventoryReader::new(config)?,
        facts: facts.clone(),
        tenants: tenants.clone(),
        store: store.clone(),
        wanted: Arc::clone(&audit),
        metrics: Arc::clone(metrics),
        requests: requests.clone(),
    };
    let auditor = tokio::spawn(auditor.run());
    let readiness = {
        let (mut filled, metrics) = (synced.clone(), Arc::clone(metrics));
        tokio::spawn(async move {
            if filled.wait_for(|filled| *filled).await.is_ok() {
                metrics.set_ready(true);
            }
        })
    };
    let reporter = Reporter {
        controller: "harmony-operator".into(),
        instance: settings.instance.clone(),
    };
    let context = Arc::new(Context {
        topology: K8sTopology::new(
            cluster.clone(),
            settings.facts.clone(),
            ApplyOptions::default(),
        ),
        outside: settings.outside.clone(),
        cluster,
        tenants,
        store: store.clone(),
        owned,
        requests,
        facts,
        events: Events::new(client.clone(), reporter),
        audit,
        synced,
        valid: Validated::default(),
        status_written: Default::default(),
        written,
        stored: Default::default(),
        echoes: Arc::clone(&echoes),
    });
    let config = controller::Config::default()
        .concurrency(settings.concurrency)
        .debounce(Duration::from_millis(200));
    let strays = context.requests.served.then(|| {
        let requests = Controller::new(
            Api::<NamespaceRequest>::all(client),
            watcher::Config::default(),
        )
        .run(refuse_strays, stray_error_policy, Arc::clone(&context))
        .for_each(|_| async {});
        tokio::spawn(requests)
    });
    let timed = Arc::clone(metrics);
    let stale = stale_use(store.clone(), context.owned.clone());
    Controller::for_stream(tenant_stream, store)
        .with_config(config)
        .watches_stream(echoes.filter(triggers.namespaces), owner)
        .watches_stream(echoes.filter(triggers.quotas), owner)
        .watches_stream(echoes.filter(triggers.limits), owner)
        .watches_stream(echoes.filter(triggers.config_maps), owner)
        .watches_stream(echoes.filter(triggers.policies), owner)
        .watches_stream(echoes.filter(triggers.roles), owner)
        .watches_stream(echoes.filter(triggers.accounts), owner)
        .watches_stream(echoes.filter(triggers.bindings), owner)
        .watches_stream(echoes.filter(triggers.rules), owner)
        .watches_stream(echoes.filter(triggers.routing), owner)
        .watches_stream(echoes.filter(triggers.schedules), owner)
        .watches_stream(request_changes, request_tenant)
        .reconcile_on(requeued)
        .reconcile_on(stale)
        .reconcile_all_on(settled)
        .graceful_shutdown_on(stop)
        .run(
            move |tenant, context| {
                let timed = Arc::clone(&timed);
                async move {
                    let started = Instant::now();
                    let result = reconcile(tenant, context).await;
                    timed.reconciled(started.elapsed(), result.is_err());
                    result
                }
            },
            error_policy,
            context,
        )
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!("{error}");
            }
        })
        .await;
    auditor.abort();
    readiness.abort();
    if let Some(strays) = strays {
        strays.abort();
    }
    rediscovery.abort();
    Ok(())
}

/// What discovery found that can change while the operator runs.
struct Served {
    /// Whether the cluster serves the prometheus-operator API.
    monitoring: watch::Sender<bool>,
    /// Velero's namespace, when the cluster serves `velero.io`.
    velero: watch::Sender<Option<String>>,
    /// Velero's namespace as the cluster profile names it, which wins over the usual one.
    named: Option<String>,
}

/// Says `now` in `sender` when it changed, and logs the change as `what`.
fn publish<T: PartialEq + std::fmt::Debug>(sender: &watch::Sender<T>, now: T, what: &str) {
    let shown = format!("{now:?}");
    if sender.send_if_modified(|was| {
        let changed = *was != now;
        *was = now;
        changed
    }) {
        tracing::info!(
            now = %shown,
            "{what} changed: every Tenant is reconciled once its watches agree"
        );
    }
}

/// Asks discovery every [`REDISCOVERY`] whether the cluster serves the prometheus-operator API
/// and Velero (and in which namespace), and says so in `served` when that changes, until the
/// task is dropped.
#[tracing::instrument(name = "rediscover", skip_all)]
async fn rediscover(cluster: Cluster, served: Served) {
    let mut ticks = tokio::time::interval(REDISCOVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick completes at once; startup discovery has just answered.
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let versions = match cluster.api_group_versions().await {
            Ok(versions) => versions,
            Err(failure) => {
                tracing::warn!("discovery: {failure}");
                continue;
            }
        };
        publish(
            &served.monitoring,
            facts::monitoring_served(&versions),
            "monitoring.coreos.com served",
        );
        let velero =
            facts::velero_namespace(&versions).map(|found| served.named.clone().unwrap_or(found));
        publish(&served.velero, velero, "Velero's namespace (velero.io)");
    }
}
