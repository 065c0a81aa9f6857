//! Which namespaces a namespace's pods could reach, over-approximated, to narrow the questions.

use std::collections::BTreeSet;
use std::rc::Rc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::points::block_of;
use super::policy::Dir;
use super::{Reach, Symbolic};
use crate::snapshot::{NAMESPACE_NAME_LABEL, RuleAction};

impl<'a> Symbolic<'a> {
    /// The namespaces `sel` may select, memoised per selector.
    fn namespaces_of(&self, sel: &LabelSelector) -> Rc<Vec<&'a str>> {
        let key = format!("{sel:?}");
        if let Some(v) = self.ns_sel.borrow().get(&key) {
            return v.clone();
        }
        // A selector naming namespaces by name looks at those only.
        let named: Option<Vec<&str>> = sel
            .match_labels
            .iter()
            .flatten()
            .find(|(k, _)| *k == NAMESPACE_NAME_LABEL)
            .map(|(_, v)| vec![v.as_str()])
            .or_else(|| {
                sel.match_expressions
                    .iter()
                    .flatten()
                    .find(|e| e.key == NAMESPACE_NAME_LABEL && e.operator == "In")
                    .map(|e| e.values.iter().flatten().map(String::as_str).collect())
            });
        let candidates: Vec<&'a str> = match named {
            Some(names) => self
                .namespaces
                .iter()
                .copied()
                .filter(|n| names.contains(n))
                .collect(),
            None => self.namespaces.clone(),
        };
        let out: Rc<Vec<&str>> = Rc::new(
            candidates
                .into_iter()
                .filter(|n| self.may_select_ns(sel, n))
                .collect(),
        );
        self.ns_sel.borrow_mut().insert(key, out.clone());
        out
    }

    /// (ingress), over-approximated: all of them when some pod could escape isolation.
    pub fn reach(&self, ns: &'a str, ingress: bool) -> Reach {
        let dir = if ingress { Dir::Ingress } else { Dir::Egress };
        if self.unisolated(ns, ingress).is_some() {
            return Reach::All;
        }
        let mut out: BTreeSet<String> = BTreeSet::new();
        let mut add = |names: &[&str]| out.extend(names.iter().map(|n| n.to_string()));
        for np in self.nps_in(ns) {
            for (peers, _) in np.rules(dir).into_iter().flatten() {
                let Some(peers) = peers.filter(|p| !p.is_empty()) else {
                    return Reach::All;
                };
                for p in peers {
                    if let Some(b) = block_of(p) {
                        if self.overlaps_pods(&b) {
                            return Reach::All;
                        }
                    } else if let Some(sel) = &p.namespace_selector {
                        add(&self.namespaces_of(sel));
                    } else if p.pod_selector.is_some() {
                        add(&[ns]);
                    }
                }
            }
        }
        for &i in self.admin_in(ns).iter() {
            let rules = self.admin[i].0.rules(dir);
            for rule in rules.iter().filter(|r| r.action == RuleAction::Allow) {
                let peers = if ingress { &rule.from } else { &rule.to };
                for p in peers.iter().flatten() {
                    let sel = match (&p.namespaces, &p.pods) {
                        (Some(sel), _) => sel,
                        (None, Some(pp)) => &pp.namespace_selector,
                        (None, None) => continue,
                    };
                    add(&self.namespaces_of(sel));
                }
            }
        }
        Reach::Some(out)
    }
}
