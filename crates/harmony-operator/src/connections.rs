//! Declared connections in operator mode: a Tenant is compiled with the connections that it and
//! the Tenants it names declare alike (the library's matching, as `harmony tenant apply`), and a
//! change of a Tenant requeues the Tenants it names before and after the change, so both sides of
//! a connection are rendered, or pruned, together.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, PoisonError};

use futures::channel::mpsc::{UnboundedReceiver, UnboundedSender, unbounded};
use harmony_tenant::connections::{ConnectionsConfig, MatchedConnection, matched_connections};
use harmony_tenant::{ClusterFacts, TenantScore};
use kube::ResourceExt;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;

use crate::resource::Tenant;
use crate::validated::Validated;

/// The tenants `declared` names (`calls` and `accepts`).
fn named(declared: &ConnectionsConfig) -> BTreeSet<String> {
    declared
        .calls
        .iter()
        .chain(&declared.accepts)
        .map(|c| c.tenant.clone())
        .collect()
}

/// The connections `score` is part of, declared alike on both sides: matched against the Tenants
/// it names that are in `store`, valid on their own and not being deleted.
pub(crate) fn matched(
    score: &TenantScore,
    store: &Store<Tenant>,
    valid: &Validated,
    facts: &ClusterFacts,
) -> Vec<MatchedConnection> {
    let peers: Vec<_> = named(&score.connections)
        .into_iter()
        .filter_map(|name| store.get(&ObjectRef::new(&name)))
        .filter(|peer| peer.metadata.deletion_timestamp.is_none())
        .filter_map(|peer| valid.score(&peer, facts))
        .collect();
    matched_connections(std::iter::once(score).chain(peers.iter().map(|p| &**p)))
}

/// What a Tenant said last time its peers were requeued.
#[derive(PartialEq, Eq)]
struct Seen {
    generation: Option<i64>,
    deleting: bool,
    peers: BTreeSet<String>,
}

/// Requeues the Tenants a Tenant names whenever its generation (spec or deletion) changes, or
/// it goes: the names it had and the names it has, since a connection removed on one side must be
/// pruned on the other. Status writes change nothing here, so they requeue nothing.
pub(crate) struct Peers {
    seen: Mutex<HashMap<String, Seen>>,
    requeue: UnboundedSender<ObjectRef<Tenant>>,
}

impl Peers {
    /// The requeuer, and the stream of Tenants to reconcile again (for `Controller::reconcile_on`).
    pub(crate) fn new() -> (Self, UnboundedReceiver<ObjectRef<Tenant>>) {
        let (requeue, requests) = unbounded();
        let peers = Self {
            seen: Mutex::default(),
            requeue,
        };
        (peers, requests)
    }

    /// Notes a watch event of the Tenants and requeues the peers it concerns.
    pub(crate) fn observe(&self, event: &watcher::Event<Tenant>) {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let (old, new) = match event {
            watcher::Event::Apply(tenant) | watcher::Event::InitApply(tenant) => {
                let now = Seen {
                    generation: tenant.metadata.generation,
                    deleting: tenant.metadata.deletion_timestamp.is_some(),
                    peers: named(&tenant.spec.connections),
                };
                match seen.get(tenant.name()) {
                    Some(old) if *old == now => return,
                    _ => {}
                }
                let new = now.peers.clone();
                (seen.insert(tenant.name_any(), now), new)
            }
            watcher::Event::Delete(tenant) => (seen.remove(tenant.name()), BTreeSet::new()),
            watcher::Event::Init | watcher::Event::InitDone => return,
        };
        let old = old.map(|o| o.peers).unwrap_or_default();
        for name in old.union(&new) {
            // The receiver lives as long as the controller; after it, nothing needs requeueing.
            let _ = self.requeue.unbounded_send(ObjectRef::new(name));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use harmony_tenant::connections::Connection;

    fn tenant(name: &str, generation: i64, calls: &[&str]) -> Tenant {
        let mut score = TenantScore::new(name);
        for callee in calls {
            score = score.calls(Connection::tcp(callee, "api", &[8080]));
        }
        let mut tenant = Tenant::from_score(&score);
        tenant.metadata.generation = Some(generation);
        tenant
    }

    fn drained(requests: &mut UnboundedReceiver<ObjectRef<Tenant>>) -> Vec<String> {
        let mut names = Vec::new();
        while let Ok(r) = requests.try_recv() {
            names.push(r.name);
        }
        names
    }

    #[test]
    fn a_tenant_change_requeues_the_tenants_it_named_and_names() {
        let (peers, mut requests) = Peers::new();
        peers.observe(&watcher::Event::InitApply(tenant("acme", 1, &["globex"])));
        assert_eq!(drained(&mut requests), ["globex"]);
        // A status write (same generation) requeues nobody.
        peers.observe(&watcher::Event::Apply(tenant("acme", 1, &["globex"])));
        assert_eq!(drained(&mut requests), Vec::<String>::new());
        // The removed side is requeued with the added one.
        peers.observe(&watcher::Event::Apply(tenant("acme", 2, &["initech"])));
        assert_eq!(drained(&mut requests), ["globex", "initech"]);
        // An edit elsewhere in the spec requeues the peers: their validity may have changed.
        peers.observe(&watcher::Event::Apply(tenant("acme", 3, &["initech"])));
        assert_eq!(drained(&mut requests), ["initech"]);
        let mut deleting = tenant("acme", 4, &["initech"]);
        deleting.metadata.deletion_timestamp =
            Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                k8s_openapi::jiff::Timestamp::UNIX_EPOCH,
            ));
        peers.observe(&watcher::Event::Apply(deleting));
        assert_eq!(drained(&mut requests), ["initech"]);
        peers.observe(&watcher::Event::Delete(tenant("acme", 4, &["initech"])));
        assert_eq!(drained(&mut requests), ["initech"]);
        peers.observe(&watcher::Event::Apply(tenant("initech", 1, &[])));
        assert_eq!(drained(&mut requests), Vec::<String>::new());
        drop(peers);
        assert!(futures::executor::block_on(requests.next()).is_none());
    }
}
