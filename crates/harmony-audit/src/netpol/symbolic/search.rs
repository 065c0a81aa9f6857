//! Three-valued evaluation under a partial assignment, and the search that completes one.

use std::cell::Cell;
use std::net::IpAddr;

use ipnet::IpNet;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::ends::{End, EndPod};
use super::points::{Target, in_block};
use super::tri::Tri;
use super::vars::{Key, Slot, Val, Var};
use crate::labels::Labels;
use crate::snapshot::NAMESPACE_NAME_LABEL;

/// A question's variables and a (partial) assignment.
pub(super) struct Eval<'q, 'a> {
    vars: &'q [Var<'a>],
    assign: &'q [Option<usize>],
    unknown: Cell<Option<usize>>,
    named_ports: bool,
}

impl<'a> Eval<'_, 'a> {
    /// The value of a variable (`None`: no such variable); `Err` when unassigned, noting the
    /// first such variable for the search to branch on.
    fn lookup(&self, slot: Slot, key: Key<'a>) -> Result<Option<Val<'a>>, ()> {
        let Some(i) = self
            .vars
            .iter()
            .position(|v| v.slot == slot && v.key == key)
        else {
            return Ok(None);
        };
        match self.assign[i] {
            Some(d) => Ok(Some(self.vars[i].domain[d])),
            None => {
                if self.unknown.get().is_none() {
                    self.unknown.set(Some(i));
                }
                Err(())
            }
        }
    }

    /// The value of `key` on labels `konst`, or on the variables of `slot`; `name` is the fixed
    /// `kubernetes.io/metadata.name` of a namespace.
    fn label(
        &self,
        konst: Option<&'a Labels>,
        slot: Slot,
        name: Option<&'a str>,
        key: &'a str,
    ) -> Result<Option<&'a str>, ()> {
        if let Some(n) = name.filter(|_| key == NAMESPACE_NAME_LABEL) {
            return Ok(Some(n));
        }
        match konst {
            Some(l) => Ok(l.get(key).map(String::as_str)),
            None => Ok(match self.lookup(slot, Key::Label(key))? {
                Some(Val::Label(v)) => v,
                _ => None,
            }),
        }
    }

    /// Whether `sel` selects labels `konst`, or the variables of `slot`.
    fn selector(
        &self,
        sel: &'a LabelSelector,
        konst: Option<&'a Labels>,
        slot: Slot,
        name: Option<&'a str>,
    ) -> Tri {
        let mut out = Tri::T;
        for (k, v) in sel.match_labels.iter().flatten() {
            out = out.and(|| match self.label(konst, slot, name, k) {
                Ok(x) => Tri::of(x == Some(v.as_str())),
                Err(()) => Tri::U,
            });
            if out == Tri::F {
                return out;
            }
        }
        for e in sel.match_expressions.iter().flatten() {
            let values = e.values.as_deref().unwrap_or_default();
            out = out.and(|| match self.label(konst, slot, name, &e.key) {
                Ok(x) => Tri::of(match e.operator.as_str() {
                    "In" => x.is_some_and(|v| values.iter().any(|w| w == v)),
                    "NotIn" => x.is_none_or(|v| !values.iter().any(|w| w == v)),
                    "Exists" => x.is_some(),
                    "DoesNotExist" => x.is_none(),
                    _ => false,
                }),
                Err(()) => Tri::U,
            });
            if out == Tri::F {
                return out;
            }
        }
        out
    }

    /// Whether namespace selector `sel` selects `e`'s namespace.
    pub(super) fn ns_selector(&self, sel: &'a LabelSelector, e: &End<'a>) -> Tri {
        match e.pod {
            EndPod::Addr(_) => Tri::F,
            _ => self.selector(sel, e.ns_labels, e.ns_slot, e.ns_name),
        }
    }

    /// Whether pod selector `sel` selects `e`'s pod.
    pub(super) fn pod_selector(&self, sel: &'a LabelSelector, e: &End<'a>) -> Tri {
        match &e.pod {
            EndPod::Addr(_) => Tri::F,
            EndPod::Const { labels, .. } => self.selector(sel, Some(labels), e.slot, None),
            EndPod::Free => self.selector(sel, None, e.slot, None),
        }
    }

    /// Whether ipBlock `cidr` minus `except` holds `e`'s address.
    pub(super) fn block(&self, cidr: &IpNet, except: &[IpNet], e: &End<'a>) -> Tri {
        let inside = |ip: IpAddr| in_block(cidr, except, ip);
        match &e.pod {
            EndPod::Addr(ip) => Tri::of(inside(*ip)),
            EndPod::Const { ips, .. } => Tri::of(ips.iter().any(|&ip| inside(ip))),
            EndPod::Free => match self.lookup(e.slot, Key::Ip) {
                Ok(Some(Val::Ip(ip))) => Tri::of(inside(ip)),
                Ok(_) => Tri::F,
                Err(()) => Tri::U,
            },
        }
    }

    /// Whether `dst` has named port `name` as `target`.
    pub(super) fn named(
        &self,
        name: &'a str,
        protocol: &str,
        dst: &End<'a>,
        target: Target,
    ) -> Tri {
        if protocol != target.0 {
            return Tri::F;
        }
        match &dst.pod {
            EndPod::Addr(_) => Tri::F,
            EndPod::Const { ports, .. } => Tri::of(
                ports
                    .iter()
                    .any(|(n, p, num)| n == name && p == protocol && *num == target.1),
            ),
            EndPod::Free if !self.named_ports => Tri::F,
            EndPod::Free => match self.lookup(dst.slot, Key::Port(name)) {
                Ok(Some(Val::Flag(b))) => Tri::of(b),
                Ok(_) => Tri::F,
                Err(()) => Tri::U,
            },
        }
    }
}

/// Depth-first search for an assignment making `f` true, branching only on a variable `f`
/// found unknown.
pub(super) fn search<'a>(
    vars: &[Var<'a>],
    named_ports: bool,
    f: impl Fn(&Eval<'_, 'a>) -> Tri,
) -> Option<Vec<Option<usize>>> {
    let mut stack = vec![vec![None; vars.len()]];
    while let Some(a) = stack.pop() {
        let ev = Eval {
            vars,
            assign: &a,
            unknown: Cell::new(None),
            named_ports,
        };
        match f(&ev) {
            Tri::T => return Some(a),
            Tri::F => {}
            Tri::U => {
                let Some(i) = ev.unknown.get() else { continue };
                for d in (0..vars[i].domain.len()).rev() {
                    let mut b = a.clone();
                    b[i] = Some(d);
                    stack.push(b);
                }
            }
        }
    }
    None
}
