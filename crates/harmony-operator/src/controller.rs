//! `harmony operator run`: the controller, its caches and the auditor, until shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use harmony::InterpretError;
use harmony_k8s::{FactsSource, InventoryReader, facts};
use harmony_kube::cluster_from_config;
use kube::api::ListParams;
use kube::runtime::controller::{self, Controller};
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube::{Api, Client};
use tokio::sync::Notify;

use crate::auditor::Auditor;
use crate::owned::{Owned, owner};
use crate::reconcile::{Context, error_policy, reconcile};
use crate::resource::{GROUP, PLURAL, Tenant};

/// Why the operator could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// No cluster to talk to, or the facts could not be discovered.
    #[error(transparent)]
    Cluster(#[from] InterpretError),
    /// The kube client could not be built.
    #[error("cannot build a client: {0}")]
    Client(#[source] kube::Error),
    /// The Tenant CRD is not installed, or the operator may not list Tenants.
    #[error(
        "cannot list {PLURAL}.{GROUP}: {0}; install the CRD first (`harmony operator install --out DIR`, then `kubectl apply -f DIR`)"
    )]
    NoCrd(#[source] kube::Error),
}

/// How the controller runs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// What the operator says about the cluster beside what discovery finds.
    pub facts: FactsSource,
    /// At most this many Tenants are reconciled at once.
    pub concurrency: u16,
    /// The name Events are published under, with this instance (the pod name, say).
    pub instance: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            facts: FactsSource::default(),
            concurrency: 8,
            instance: None,
        }
    }
}

/// Runs the controller on the cluster `config` reaches until `shutdown` completes; reconciles in
/// flight then finish.
pub async fn run(
    config: kube::Config,
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) -> Result<(), RunError> {
    let client = Client::try_from(config.clone()).map_err(RunError::Client)?;
    let cluster = cluster_from_config(config.clone())?;
    let facts = facts::discover(&cluster, &settings.facts).await?;
    let tenants: Api<Tenant> = Api::all(client.clone());
    tenants
        .list(&ListParams::default().limit(1))
        .await
        .map_err(RunError::NoCrd)?;

    let (store, writer) = reflector::store();
    let tenant_stream = watcher(tenants.clone(), watcher::Config::default())
        .default_backoff()
        .reflect(writer)
        .applied_objects();
    let (owned, triggers) = Owned::new(&client);
    let audit = Arc::new(Notify::new());
    let auditor = Auditor {
        reader: InventoryReader::new(config)?,
        facts: facts.clone(),
        tenants: tenants.clone(),
        store: store.clone(),
        wanted: Arc::clone(&audit),
    };
    let auditor = tokio::spawn(auditor.run());
    let reporter = Reporter {
        controller: "harmony-operator".into(),
        instance: settings.instance.clone(),
    };
    let context = Arc::new(Context {
        cluster,
        tenants,
        store: store.clone(),
        owned,
        facts,
        recorder: Recorder::new(client, reporter),
        audit,
    });
    let config = controller::Config::default()
        .concurrency(settings.concurrency)
        .debounce(Duration::from_millis(200));
    Controller::for_stream(tenant_stream, store)
        .with_config(config)
        .watches_stream(triggers.namespaces, owner)
        .watches_stream(triggers.quotas, owner)
        .watches_stream(triggers.limits, owner)
        .watches_stream(triggers.config_maps, owner)
        .watches_stream(triggers.policies, owner)
        .watches_stream(triggers.roles, owner)
        .watches_stream(triggers.accounts, owner)
        .watches_stream(triggers.bindings, owner)
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, context)
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!("{error}");
            }
        })
        .await;
    auditor.abort();
    Ok(())
}
