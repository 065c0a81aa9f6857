//! The variables of a question and their finite domains.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use ipnet::IpNet;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::Symbolic;
use super::ends::{End, EndPod};
use super::points::{block_of, ip_points};
use crate::snapshot::NAMESPACE_NAME_LABEL;

/// A value no selector mentions (never a valid label value, replaced in witnesses).
pub(super) const FRESH: &str = "\u{0}";

/// What a variable stands for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Slot {
    SrcPod,
    DstPod,
    SrcNs,
    DstNs,
}

/// A value of a variable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Val<'a> {
    Label(Option<&'a str>),
    Flag(bool),
    Ip(IpAddr),
}

/// What of its slot a variable stands for: a label key, a named port, the IP.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Key<'a> {
    Label(&'a str),
    Port(&'a str),
    Ip,
}

/// A variable and its finite domain.
pub(super) struct Var<'a> {
    pub(super) slot: Slot,
    pub(super) key: Key<'a>,
    pub(super) domain: Vec<Val<'a>>,
}

impl<'a> Symbolic<'a> {
    /// The variables of a question between `src` and `dst`.
    pub(super) fn vars(&self, src: &End<'a>, dst: &End<'a>, named_ports: bool) -> Vec<Var<'a>> {
        let (nps, admin) = self.policies(src, dst);
        let mut pod_sels: Vec<&'a LabelSelector> = Vec::new();
        let mut ns_sels: Vec<&'a LabelSelector> = Vec::new();
        let mut names: BTreeSet<&'a str> = BTreeSet::new();
        let mut blocks: Vec<(IpNet, Vec<IpNet>)> = Vec::new();
        for np in &nps {
            pod_sels.push(np.selector);
            let rules = np.ingress.iter().chain(&np.egress).flatten();
            for &(peers, ports) in rules {
                for p in peers.into_iter().flatten() {
                    pod_sels.extend(&p.pod_selector);
                    ns_sels.extend(&p.namespace_selector);
                    blocks.extend(block_of(p));
                }
                for port in ports.into_iter().flatten() {
                    if let Some(IntOrString::String(n)) = &port.port {
                        names.insert(n);
                    }
                }
            }
        }
        for a in &admin {
            let peers = a
                .ingress
                .iter()
                .chain(a.egress)
                .flat_map(|r| r.from.iter().chain(&r.to).flatten());
            let subject = [(a.subject.namespaces.as_ref(), a.subject.pods.as_ref())];
            let all = subject
                .into_iter()
                .chain(peers.map(|p| (p.namespaces.as_ref(), p.pods.as_ref())));
            for (ns, pods) in all {
                ns_sels.extend(ns);
                if let Some(pp) = pods {
                    ns_sels.push(&pp.namespace_selector);
                    pod_sels.push(&pp.pod_selector);
                }
            }
            let ports = a
                .ingress
                .iter()
                .chain(a.egress)
                .flat_map(|r| r.ports.iter().flatten());
            names.extend(ports.filter_map(|p| p.named_port.as_deref()));
        }
        let mut vars = Vec::new();
        let pods = [src, dst]
            .into_iter()
            .filter(|e| matches!(e.pod, EndPod::Free));
        for (i, e) in pods.enumerate() {
            if i == 1 && src.slot == dst.slot {
                break;
            }
            label_vars(&mut vars, e.slot, &pod_sels, None);
            if named_ports && e.slot == Slot::DstPod {
                vars.extend(names.iter().map(|&n| Var {
                    slot: e.slot,
                    key: Key::Port(n),
                    domain: vec![Val::Flag(false), Val::Flag(true)],
                }));
            }
            let relevant: Vec<_> = blocks
                .iter()
                .filter(|b| self.overlaps_pods(b))
                .cloned()
                .collect();
            if !relevant.is_empty() {
                let domain = ip_points(&self.pod_networks, &relevant);
                vars.push(Var {
                    slot: e.slot,
                    key: Key::Ip,
                    domain: domain.into_iter().map(Val::Ip).collect(),
                });
            }
        }
        for e in [src, dst] {
            if e.ns_labels.is_none() && !vars.iter().any(|v| v.slot == e.ns_slot) {
                label_vars(&mut vars, e.ns_slot, &ns_sels, Some(NAMESPACE_NAME_LABEL));
            }
        }
        vars
    }
}

/// One variable per label key `sels` look at (but `skip`): absent, each value they mention, or
/// a fresh one.
fn label_vars<'a>(
    vars: &mut Vec<Var<'a>>,
    slot: Slot,
    sels: &[&'a LabelSelector],
    skip: Option<&str>,
) {
    let mut values: BTreeMap<&'a str, BTreeSet<&'a str>> = BTreeMap::new();
    for sel in sels {
        for (k, v) in sel.match_labels.iter().flatten() {
            values.entry(k).or_default().insert(v);
        }
        for e in sel.match_expressions.iter().flatten() {
            values
                .entry(&e.key)
                .or_default()
                .extend(e.values.iter().flatten().map(String::as_str));
        }
    }
    for (k, vs) in values.into_iter().filter(|(k, _)| Some(*k) != skip) {
        let mut domain = vec![Val::Label(None)];
        domain.extend(vs.into_iter().map(|v| Val::Label(Some(v))));
        domain.push(Val::Label(Some(FRESH)));
        vars.push(Var {
            slot,
            key: Key::Label(k),
            domain,
        });
    }
}
