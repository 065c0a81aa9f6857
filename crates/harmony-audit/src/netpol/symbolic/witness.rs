//! Counterexamples: a satisfying assignment read back as pods and namespace labels.

use super::ends::End;
use super::points::Target;
use super::vars::{FRESH, Key, Slot, Val, Var};
use super::{Instance, Symbolic, Witness};

impl<'a> Symbolic<'a> {
    /// Assignment `a` of `vars` as a witness (unassigned variables take their first value).
    pub(super) fn witness(
        &self,
        ends: [&End<'a>; 2],
        vars: &[Var<'a>],
        a: &[Option<usize>],
        port: Option<Target>,
    ) -> Witness {
        let mut w = Witness {
            port,
            ..Witness::default()
        };
        for (i, v) in vars.iter().enumerate() {
            let val = v.domain[a[i].unwrap_or(0)];
            let text = |x: &str| {
                if x == FRESH {
                    fresh_value(&v.domain)
                } else {
                    x.to_string()
                }
            };
            let inst = match v.slot {
                Slot::SrcPod => w.src.get_or_insert_with(Instance::default),
                Slot::DstPod => w.dst.get_or_insert_with(Instance::default),
                Slot::SrcNs | Slot::DstNs => {
                    let ns = ends[usize::from(v.slot == Slot::DstNs)].ns;
                    let labels = w
                        .namespaces
                        .entry(ns.to_string())
                        .or_insert_with(|| self.labels_of(ns).clone());
                    if let (Key::Label(k), Val::Label(x)) = (v.key, val) {
                        match x {
                            Some(x) => labels.insert(k.into(), text(x)),
                            None => labels.remove(k),
                        };
                    }
                    continue;
                }
            };
            match (v.key, val) {
                (Key::Label(k), Val::Label(Some(x))) => {
                    inst.labels.insert(k.into(), text(x));
                }
                (Key::Port(n), Val::Flag(true)) => {
                    let (proto, num) = port.unwrap_or(("TCP", 0));
                    inst.named_ports.push((n.into(), proto.into(), num));
                }
                (Key::Ip, Val::Ip(ip)) => inst.ip = Some(ip),
                _ => {}
            }
        }
        w.namespaces.retain(|ns, l| l != self.labels_of(ns));
        w
    }
}

/// A label value no selector among `domain` mentions.
fn fresh_value(domain: &[Val]) -> String {
    (0..)
        .map(|i| {
            if i == 0 {
                "other".to_string()
            } else {
                format!("other-{i}")
            }
        })
        .find(|v| !domain.contains(&Val::Label(Some(v))))
        .expect("some fresh value")
}
