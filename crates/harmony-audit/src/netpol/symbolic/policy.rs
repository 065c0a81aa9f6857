//! The snapshot's policies as the evaluation reads them, and which of them may apply where.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use k8s_openapi::api::networking::v1::{NetworkPolicyPeer, NetworkPolicyPort};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::Symbolic;
use super::ends::End;
use crate::labels::selects;
use crate::snapshot::{AdminRule, AdminSubject, ClusterSnapshot, NAMESPACE_NAME_LABEL};

/// A direction of traffic, from the subject pod's side.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Dir {
    Ingress,
    Egress,
}

/// A NetworkPolicy as the evaluation needs it.
pub(super) struct Np<'a> {
    pub(super) selector: &'a LabelSelector,
    /// Ingress rules (peers, ports), `None` when the policy does not isolate ingress.
    pub(super) ingress: Option<Vec<NpRule<'a>>>,
    pub(super) egress: Option<Vec<NpRule<'a>>>,
}

type NpRule<'a> = (
    Option<&'a [NetworkPolicyPeer]>,
    Option<&'a [NetworkPolicyPort]>,
);

impl<'a> Np<'a> {
    /// The rules of `dir`, `None` when the policy does not isolate it.
    pub(super) fn rules(&self, dir: Dir) -> Option<&[NpRule<'a>]> {
        match dir {
            Dir::Ingress => self.ingress.as_deref(),
            Dir::Egress => self.egress.as_deref(),
        }
    }
}

/// An admin or baseline policy.
pub(super) struct Admin<'a> {
    pub(super) subject: &'a AdminSubject,
    pub(super) ingress: &'a [AdminRule],
    pub(super) egress: &'a [AdminRule],
}

impl<'a> Admin<'a> {
    /// The rules of `dir`.
    pub(super) fn rules(&self, dir: Dir) -> &'a [AdminRule] {
        match dir {
            Dir::Ingress => self.ingress,
            Dir::Egress => self.egress,
        }
    }
}

/// The snapshot's NetworkPolicies, per namespace.
pub(super) fn network_policies(s: &ClusterSnapshot) -> HashMap<&str, Vec<Np<'_>>> {
    let mut nps: HashMap<&str, Vec<Np>> = HashMap::new();
    static ALL: LabelSelector = LabelSelector {
        match_expressions: None,
        match_labels: None,
    };
    for np in &s.network_policies {
        let Some(spec) = &np.spec else { continue };
        let ns = np.metadata.namespace.as_deref().unwrap_or("default");
        let has_egress = spec.egress.as_ref().is_some_and(|e| !e.is_empty());
        let has = |t: &str| match spec.policy_types.as_ref().filter(|t| !t.is_empty()) {
            Some(types) => types.iter().any(|x| x == t),
            None => t == "Ingress" || has_egress,
        };
        nps.entry(ns).or_default().push(Np {
            selector: spec.pod_selector.as_ref().unwrap_or(&ALL),
            ingress: has("Ingress").then(|| {
                spec.ingress
                    .iter()
                    .flatten()
                    .map(|r| (r.from.as_deref(), r.ports.as_deref()))
                    .collect()
            }),
            egress: has("Egress").then(|| {
                spec.egress
                    .iter()
                    .flatten()
                    .map(|r| (r.to.as_deref(), r.ports.as_deref()))
                    .collect()
            }),
        });
    }
    nps
}

/// The admin tier with each policy's priority, by priority.
pub(super) fn admin_tier(s: &ClusterSnapshot) -> Vec<(Admin<'_>, i32)> {
    let mut admin: Vec<(Admin, i32)> = s
        .admin_network_policies
        .iter()
        .map(|a| {
            let p = Admin {
                subject: &a.spec.subject,
                ingress: &a.spec.ingress,
                egress: &a.spec.egress,
            };
            (p, a.spec.priority)
        })
        .collect();
    admin.sort_by_key(|(_, p)| *p);
    admin
}

/// The baseline tier.
pub(super) fn baseline_tier(s: &ClusterSnapshot) -> Vec<Admin<'_>> {
    s.baseline_admin_network_policies
        .iter()
        .map(|b| Admin {
            subject: &b.spec.subject,
            ingress: &b.spec.ingress,
            egress: &b.spec.egress,
        })
        .collect()
}

impl<'a> Symbolic<'a> {
    /// Whether a namespace selector may select `ns` (exact for constant labels; for free ones,
    /// whenever the selector does not rule out its name).
    pub(super) fn may_select_ns(&self, sel: &LabelSelector, ns: &str) -> bool {
        if !self.free.contains(ns) {
            let labels = self.labels_of(ns);
            if labels.contains_key(NAMESPACE_NAME_LABEL) {
                return selects(sel, labels);
            }
            let mut l = labels.clone();
            l.insert(NAMESPACE_NAME_LABEL.into(), ns.into());
            return selects(sel, &l);
        }
        let name = BTreeMap::from([(NAMESPACE_NAME_LABEL.to_string(), ns.to_string())]);
        let only_name = LabelSelector {
            match_labels: sel.match_labels.as_ref().map(|m| {
                m.iter()
                    .filter(|(k, _)| *k == NAMESPACE_NAME_LABEL)
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            }),
            match_expressions: sel.match_expressions.as_ref().map(|e| {
                e.iter()
                    .filter(|e| e.key == NAMESPACE_NAME_LABEL)
                    .cloned()
                    .collect()
            }),
        };
        selects(&only_name, &name)
    }

    /// Whether admin subject `s` may hold pods of `ns`.
    fn subject_may_hold(&self, s: &AdminSubject, ns: &str) -> bool {
        match (&s.namespaces, &s.pods) {
            (Some(sel), _) => self.may_select_ns(sel, ns),
            (None, Some(p)) => self.may_select_ns(&p.namespace_selector, ns),
            (None, None) => false,
        }
    }

    /// The policies of `tier` whose subject may hold pods of `ns`, memoised in `cache`.
    fn tier_of(
        &self,
        ns: &'a str,
        cache: &RefCell<HashMap<&'a str, Rc<Vec<usize>>>>,
        tier: &[&Admin],
    ) -> Rc<Vec<usize>> {
        if let Some(v) = cache.borrow().get(ns) {
            return v.clone();
        }
        let v: Rc<Vec<usize>> = Rc::new(
            (0..tier.len())
                .filter(|&i| self.subject_may_hold(tier[i].subject, ns))
                .collect(),
        );
        cache.borrow_mut().insert(ns, v.clone());
        v
    }

    /// The admin policies whose subject may hold pods of `ns`, by priority.
    pub(super) fn admin_in(&self, ns: &'a str) -> Rc<Vec<usize>> {
        let tier: Vec<&Admin> = self.admin.iter().map(|(a, _)| a).collect();
        self.tier_of(ns, &self.admin_of, &tier)
    }

    /// The baseline policies whose subject may hold pods of `ns`.
    pub(super) fn baseline_in(&self, ns: &'a str) -> Rc<Vec<usize>> {
        let tier: Vec<&Admin> = self.baseline.iter().collect();
        self.tier_of(ns, &self.baseline_of, &tier)
    }

    /// The NetworkPolicies of `ns`.
    pub(super) fn nps_in(&self, ns: &str) -> &[Np<'a>] {
        self.nps.get(ns).map_or(&[], Vec::as_slice)
    }

    /// The policies that may decide a path between pods of `a` and `b`.
    pub(super) fn policies(&self, a: &End<'a>, b: &End<'a>) -> (Vec<&Np<'a>>, Vec<&Admin<'a>>) {
        let mut nss = vec![a.ns];
        if b.ns != a.ns {
            nss.push(b.ns);
        }
        let nps = nss.iter().flat_map(|ns| self.nps_in(ns)).collect();
        let mut admin: Vec<&Admin> = Vec::new();
        for ns in nss.iter().filter(|ns| !ns.is_empty()) {
            admin.extend(self.admin_in(ns).iter().map(|&i| &self.admin[i].0));
            admin.extend(self.baseline_in(ns).iter().map(|&i| &self.baseline[i]));
        }
        (nps, admin)
    }
}
