//! Symbolic reachability: verdicts for every pod a tenant could create.
//!
//! A *free* pod stands for every pod of its namespace: its labels, named container ports and IP
//! (within the pod network) are variables; a namespace's labels are variables too when it is
//! declared free (all but `kubernetes.io/metadata.name`). Each label key ranges over a finite
//! domain — absent, each value some selector mentions for it, one fresh value — which makes
//! selector satisfiability exact; an IP ranges over one address per region the ipBlocks cut the pod
//! network into, and a named port is a yes/no per name ("declared with the port asked about").
//! Ports are judged exactly on TCP, UDP and SCTP: one port per interval the rules' ranges cut.
//! A backtracking search assigns only the variables a three-valued (Kleene) evaluation of the
//! policies finds unknown, and prunes as soon as the verdict is known.
//!
//! The evaluation reads the snapshot's raw NetworkPolicies and admin tiers, with the semantics of
//! [`super::Network`] (admin tier first match, then NetworkPolicies or, for pods no policy
//! isolates, the baseline tier).

mod ends;
mod points;
mod policy;
mod reach;
mod search;
mod tri;
mod vars;
mod verdict;
mod witness;

#[cfg(test)]
mod tests;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::rc::Rc;

use ipnet::IpNet;

use super::conn::Conn;
use crate::labels::Labels;
use crate::snapshot::{ClusterSnapshot, Pod};
use policy::{Admin, Dir, Np};
use search::search;
use tri::{Tri, any};

/// One end of a path.
#[derive(Debug, Clone, Copy)]
pub enum Party<'a> {
    /// Any pod the tenant of this namespace could create.
    Free(&'a str),
    /// A pod as it is today.
    Pod(&'a Pod),
    /// An address outside the cluster.
    Addr(IpAddr),
}

/// Labels, named ports and IP chosen for a free pod.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Instance {
    /// Its labels.
    pub labels: Labels,
    /// Named container ports: name, protocol, number.
    pub named_ports: Vec<(String, String, u16)>,
    /// Its IP, when an ipBlock must (or must not) select it.
    pub ip: Option<IpAddr>,
}

/// An assignment of the free variables that makes a question true.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Witness {
    /// The source, when free.
    pub src: Option<Instance>,
    /// The destination, when free.
    pub dst: Option<Instance>,
    /// Namespaces whose labels must change, and their new labels.
    pub namespaces: BTreeMap<String, Labels>,
    /// The protocol and port of an open path (`None`: every port is closed).
    pub port: Option<(&'static str, u16)>,
}

/// Which namespaces' pods a direction of a namespace's pods could reach (or be reached by).
#[derive(Debug, Clone, PartialEq)]
pub enum Reach {
    /// Every namespace.
    All,
    /// These namespaces.
    Some(BTreeSet<String>),
}

impl Reach {
    /// Whether `ns` is in.
    pub fn contains(&self, ns: &str) -> bool {
        match self {
            Self::All => true,
            Self::Some(s) => s.contains(ns),
        }
    }
}

/// Symbolic evaluation over a snapshot's policies.
pub struct Symbolic<'a> {
    ns_labels: HashMap<&'a str, &'a Labels>,
    namespaces: Vec<&'a str>,
    free: BTreeSet<&'a str>,
    pod_networks: Vec<IpNet>,
    nps: HashMap<&'a str, Vec<Np<'a>>>,
    admin: Vec<(Admin<'a>, i32)>,
    baseline: Vec<Admin<'a>>,
    /// Admin policies whose subject may hold pods of a namespace, per namespace.
    admin_of: RefCell<HashMap<&'a str, Rc<Vec<usize>>>>,
    baseline_of: RefCell<HashMap<&'a str, Rc<Vec<usize>>>>,
    /// Namespaces a namespace selector may select, per selector.
    ns_sel: RefCell<HashMap<String, Rc<Vec<&'a str>>>>,
}

impl<'a> Symbolic<'a> {
    /// Reads `s`'s policies; pods' IPs are free within `pod_networks`; the labels of the
    /// namespaces `free` are variables (all but `kubernetes.io/metadata.name`).
    pub fn new(s: &'a ClusterSnapshot, pod_networks: &[IpNet], free: BTreeSet<&'a str>) -> Self {
        let ns_labels: HashMap<&str, &Labels> = s
            .namespaces
            .iter()
            .filter_map(|n| Some((n.metadata.name.as_deref()?, n.metadata.labels.as_ref()?)))
            .collect();
        let mut namespaces: BTreeSet<&str> = s
            .namespaces
            .iter()
            .filter_map(|n| n.metadata.name.as_deref())
            .collect();
        namespaces.extend(
            s.pods
                .iter()
                .filter_map(|p| p.metadata.namespace.as_deref()),
        );
        Self {
            ns_labels,
            namespaces: namespaces.into_iter().collect(),
            free,
            pod_networks: pod_networks.to_vec(),
            nps: policy::network_policies(s),
            admin: policy::admin_tier(s),
            baseline: policy::baseline_tier(s),
            admin_of: RefCell::default(),
            baseline_of: RefCell::default(),
            ns_sel: RefCell::default(),
        }
    }

    /// Some pod of `ns` that no NetworkPolicy isolates for ingress (or egress), if one exists.
    pub fn unisolated(&self, ns: &'a str, ingress: bool) -> Option<Witness> {
        let (dir, src) = if ingress {
            (Dir::Ingress, false)
        } else {
            (Dir::Egress, true)
        };
        let end = self.end(Party::Free(ns), src);
        let vars = self.vars(&end, &end, false);
        let nps: Vec<&Np> = self
            .nps_in(ns)
            .iter()
            .filter(|p| p.rules(dir).is_some())
            .collect();
        let a = search(&vars, false, |ev| {
            any(&nps, |p| ev.pod_selector(p.selector, &end)).not()
        })?;
        Some(self.witness([&end, &end], &vars, &a, None))
    }

    /// Labels (and named ports) of the free ends for which `src` may open to `dst` a connection
    /// on a TCP, UDP or SCTP port outside `skip`.
    pub fn open(&self, src: Party<'a>, dst: Party<'a>, skip: &Conn) -> Option<Witness> {
        let (s, d) = self.ends(src, dst);
        let vars = self.vars(&s, &d, true);
        for t in self.points(&s, &d, skip) {
            if skip.allows(t.0, t.1) {
                continue;
            }
            if let Some(a) = search(&vars, true, |ev| self.open_at(ev, &s, &d, t)) {
                return Some(self.witness([&s, &d], &vars, &a, Some(t)));
            }
        }
        None
    }

    /// Labels of the free ends for which `src` may open no TCP, UDP or SCTP connection to `dst`
    /// (the destination declaring no named port).
    pub fn closed(&self, src: Party<'a>, dst: Party<'a>) -> Option<Witness> {
        let (s, d) = self.ends(src, dst);
        let vars = self.vars(&s, &d, false);
        let points = self.points(&s, &d, &Conn::none());
        let a = search(&vars, false, |ev| {
            let mut out = Tri::T;
            for &t in &points {
                out = out.and(|| self.open_at(ev, &s, &d, t).not());
                if out == Tri::F {
                    break;
                }
            }
            out
        })?;
        Some(self.witness([&s, &d], &vars, &a, None))
    }
}
