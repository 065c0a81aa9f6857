//! The ends of a path: which parts of a party are constants and which are variables.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::vars::Slot;
use super::{Party, Symbolic};
use crate::labels::Labels;
use crate::snapshot::NamedPort;

/// One end of a question, resolved.
pub(super) struct End<'a> {
    pub(super) ns: &'a str,
    /// The namespace's labels; `None`: free.
    pub(super) ns_labels: Option<&'a Labels>,
    /// Its `kubernetes.io/metadata.name` when no object fixes it or its labels are free.
    pub(super) ns_name: Option<&'a str>,
    pub(super) ns_slot: Slot,
    pub(super) pod: EndPod<'a>,
    pub(super) slot: Slot,
}

/// The pod at an end.
pub(super) enum EndPod<'a> {
    Free,
    Const {
        labels: &'a Labels,
        ports: &'a [NamedPort],
        ips: &'a [IpAddr],
    },
    Addr(IpAddr),
}

impl<'a> Symbolic<'a> {
    /// `p` resolved as the source (or destination) of a path.
    pub(super) fn end(&self, p: Party<'a>, src: bool) -> End<'a> {
        let (slot, ns_slot) = if src {
            (Slot::SrcPod, Slot::SrcNs)
        } else {
            (Slot::DstPod, Slot::DstNs)
        };
        let (ns, pod) = match p {
            Party::Free(ns) => (ns, EndPod::Free),
            Party::Pod(pod) => (
                pod.metadata.namespace.as_deref().unwrap_or_default(),
                EndPod::Const {
                    labels: pod.metadata.labels.as_ref().unwrap_or(empty()),
                    ports: pod.named_ports(),
                    ips: &pod.ips,
                },
            ),
            Party::Addr(ip) => ("", EndPod::Addr(ip)),
        };
        let free = self.free.contains(ns);
        End {
            ns,
            ns_labels: (!free).then(|| self.labels_of(ns)),
            ns_name: (free || !self.ns_labels.contains_key(ns)).then_some(ns),
            ns_slot,
            pod,
            slot,
        }
    }

    /// The two ends of a path; a namespace's labels are the same variables at both ends.
    pub(super) fn ends(&self, src: Party<'a>, dst: Party<'a>) -> (End<'a>, End<'a>) {
        let (s, mut d) = (self.end(src, true), self.end(dst, false));
        if d.ns == s.ns {
            d.ns_slot = s.ns_slot;
        }
        (s, d)
    }

    pub(super) fn labels_of(&self, ns: &str) -> &'a Labels {
        self.ns_labels.get(ns).copied().unwrap_or(empty())
    }
}

fn empty() -> &'static Labels {
    static EMPTY: Labels = BTreeMap::new();
    &EMPTY
}
