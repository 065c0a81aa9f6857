//! Velero's Schedules of tenants, watched in Velero's namespace only (the operator's right on
//! them is a Role there): the watch starts when discovery finds `velero.io`, follows Velero's
//! namespace, and stops (its cache emptied) when Velero goes.

use std::sync::Arc;

use futures::StreamExt;
use harmony_tenant::backup::crd::Schedule;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use tokio::sync::watch;

use crate::owned::{Cache, Changes, owned_config, recorded_cache, values};

/// Whether Velero's Schedules are watched, as reconciles see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Velero {
    /// The cluster does not serve `velero.io`: nothing is watched and the cache is empty.
    NotServed,
    /// Served, and the cache is filling: a plan applied now would not see the Schedule that
    /// exists, so reconciles wait.
    Starting,
    /// Served, and the Schedules of this namespace (Velero's) are cached.
    Watched(String),
    /// Served, but the watch of this namespace failed before its first list (the operator's
    /// Role there is missing, say): why. The watch retries; plans hold no Schedule meanwhile.
    Denied {
        /// Velero's namespace.
        namespace: String,
        /// What the API server said.
        reason: String,
    },
}

impl Velero {
    /// Velero's namespace, once its Schedules are cached.
    pub(crate) fn namespace(&self) -> Option<&str> {
        match self {
            Self::Watched(namespace) => Some(namespace),
            _ => None,
        }
    }
}

/// The Schedule cache, the stream that fills it while `velero` names Velero's namespace (and
/// empties it when it names none), and the [`Velero`] state.
pub(crate) fn watch_schedules(
    client: &Client,
    velero: watch::Receiver<Option<String>>,
) -> (Cache<Schedule>, Changes<Schedule>, watch::Receiver<Velero>) {
    let (cache, record) = recorded_cache::<Schedule>();
    let initial = if velero.borrow().is_some() {
        Velero::Starting
    } else {
        Velero::NotServed
    };
    let (state, state_rx) = watch::channel(initial);
    let state = Arc::new(state);
    let client = client.clone();
    let changes = values(velero.clone())
        .map(move |namespace| {
            // Emptied before the state says so: a reconcile then sees none of the old ones.
            record(&watcher::Event::Init);
            record(&watcher::Event::InitDone);
            let Some(namespace) = namespace else {
                state.send_replace(Velero::NotServed);
                return futures::stream::empty().boxed();
            };
            state.send_replace(Velero::Starting);
            let mut changed = velero.clone();
            let current = Some(namespace.clone());
            let stopped = async move {
                let _ = changed.wait_for(|now| *now != current).await;
            };
            let (record, state) = (record.clone(), Arc::clone(&state));
            let api = Api::<Schedule>::namespaced(client.clone(), &namespace);
            watcher(api, owned_config())
                .default_backoff()
                .take_until(stopped)
                .inspect(move |event| match event {
                    Ok(event) => {
                        record(event);
                        if matches!(event, watcher::Event::InitDone) {
                            state.send_replace(Velero::Watched(namespace.clone()));
                        }
                    }
                    Err(error) => {
                        let denied = Velero::Denied {
                            namespace: namespace.clone(),
                            reason: error.to_string(),
                        };
                        state.send_if_modified(|now| {
                            let first = *now == Velero::Starting;
                            if first {
                                *now = denied;
                            }
                            first
                        });
                    }
                })
                .touched_objects()
                .boxed()
        })
        .flatten()
        .boxed();
    (cache, changes, state_rx)
}
