//! `Network`: the reachability evaluator.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use super::classes::{self, Endpoint, PodClass};
use super::compile::{self, Policy, Rule};
use super::conn::Conn;
use crate::labels::selector_keys;
use crate::snapshot::{ClusterSnapshot, RuleAction};

/// A connection verdict: what is allowed, and which policies decided it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// The allowed connections (empty: blocked).
    pub conn: Conn,
    /// Which policy rules allowed, denied or passed it, per direction.
    pub evidence: Vec<String>,
    /// The same evidence, one structured step per line of `evidence`.
    #[serde(skip)]
    pub steps: Vec<Step>,
}

/// What one step of an evaluation found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Effect {
    /// A rule allows (part of) the connection.
    Allow,
    /// An admin rule denies it.
    Deny,
    /// An admin rule passes it to the NetworkPolicies.
    Pass,
    /// NetworkPolicies isolate the pod in this direction and no rule of theirs allows the peer.
    Block,
    /// No NetworkPolicy selects the pod in this direction.
    NotIsolated,
}

/// One step of an evaluation, as evidence: a direction of one pod, and the policy rule (or
/// policies) that decided it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// `ingress` (of the destination) or `egress` (of the source).
    pub direction: &'static str,
    /// The pod this direction belongs to.
    pub pod: String,
    /// What the step found.
    pub effect: Effect,
    /// The policies: the one whose rule decided, or every isolating one for `block`.
    pub policies: Vec<String>,
    /// The index of the deciding rule in the policy's ingress or egress list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<usize>,
    /// The connections the rule decides (`allow`, `deny`, `pass`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connections: Option<Conn>,
}

#[derive(Clone, Copy, PartialEq)]
enum Dir {
    Ingress,
    Egress,
}

impl Dir {
    fn name(self) -> &'static str {
        match self {
            Self::Ingress => "ingress",
            Self::Egress => "egress",
        }
    }

    fn rules(self, p: &Policy) -> Option<&Vec<Rule>> {
        match self {
            Self::Ingress => p.ingress.as_ref(),
            Self::Egress => p.egress.as_ref(),
        }
    }
}

/// Reachability over a snapshot's pods, NetworkPolicies and admin policies.
pub struct Network {
    classes: Vec<PodClass>,
    by_pod: HashMap<(String, String), usize>,
    by_namespace: HashMap<String, Vec<usize>>,
    policies: Vec<Policy>,
    admin: Vec<Policy>,
    baseline: Vec<Policy>,
    selecting: [Vec<Vec<usize>>; 2],
    /// Classes no NetworkPolicy isolates for ingress, and per class the classes whose ingress
    /// rules (or admin allow rules) name it: the only sources that could reach them.
    ingress_open: Vec<usize>,
    admitted_by: Vec<Vec<usize>>,
}

fn pod_keys(s: &ClusterSnapshot) -> BTreeSet<&str> {
    let mut keys = BTreeSet::new();
    for np in &s.network_policies {
        let Some(spec) = &np.spec else { continue };
        keys.extend(spec.pod_selector.iter().flat_map(selector_keys));
        let ingress = spec
            .ingress
            .iter()
            .flatten()
            .flat_map(|r| r.from.iter().flatten());
        let egress = spec
            .egress
            .iter()
            .flatten()
            .flat_map(|r| r.to.iter().flatten());
        keys.extend(
            ingress
                .chain(egress)
                .flat_map(|p| p.pod_selector.iter().flat_map(selector_keys)),
        );
    }
    let admin_subjects = s
        .admin_network_policies
        .iter()
        .map(|a| &a.spec.subject)
        .chain(
            s.baseline_admin_network_policies
                .iter()
                .map(|b| &b.spec.subject),
        );
    keys.extend(
        admin_subjects.flat_map(|sub| sub.pods.iter().flat_map(|p| selector_keys(&p.pod_selector))),
    );
    let admin_rules = s
        .admin_network_policies
        .iter()
        .flat_map(|a| a.spec.ingress.iter().chain(&a.spec.egress))
        .chain(
            s.baseline_admin_network_policies
                .iter()
                .flat_map(|b| b.spec.ingress.iter().chain(&b.spec.egress)),
        );
    let admin_peers =
        admin_rules.flat_map(|r| r.from.iter().flatten().chain(r.to.iter().flatten()));
    keys.extend(
        admin_peers.flat_map(|p| p.pods.iter().flat_map(|p| selector_keys(&p.pod_selector))),
    );
    keys
}

impl Network {
    /// Compiles the snapshot's policies against its pods.
    pub fn new(s: &ClusterSnapshot) -> Self {
        let classes = classes::build(s, &pod_keys(s), &compile::network_policy_blocks(s));
        let by_pod = classes
            .iter()
            .enumerate()
            .flat_map(|(i, c)| {
                c.pods
                    .iter()
                    .map(move |p| ((c.namespace.clone(), p.clone()), i))
            })
            .collect();
        let ix = compile::Index::new(&classes);
        let policies: Vec<Policy> = s
            .network_policies
            .iter()
            .map(|np| compile::network_policy(&ix, np))
            .collect();
        let mut admin: Vec<Policy> = s
            .admin_network_policies
            .iter()
            .map(|a| {
                let id = format!(
                    "AdminNetworkPolicy {}",
                    a.metadata.name.as_deref().unwrap_or_default()
                );
                compile::admin_policy(
                    &ix,
                    id,
                    a.spec.priority,
                    &a.spec.subject,
                    &a.spec.ingress,
                    &a.spec.egress,
                )
            })
            .collect();
        admin.sort_by_key(|p| p.priority);
        let baseline = s
            .baseline_admin_network_policies
            .iter()
            .map(|b| {
                let id = format!(
                    "BaselineAdminNetworkPolicy {}",
                    b.metadata.name.as_deref().unwrap_or_default()
                );
                compile::admin_policy(&ix, id, 0, &b.spec.subject, &b.spec.ingress, &b.spec.egress)
            })
            .collect();
        let selecting = [Dir::Ingress, Dir::Egress].map(|dir| {
            let mut by_class = vec![Vec::new(); classes.len()];
            for (p, policy) in policies.iter().enumerate() {
                if dir.rules(policy).is_some() {
                    policy.subject.iter().for_each(|c| by_class[c].push(p));
                }
            }
            by_class
        });
        let by_namespace = classes
            .iter()
            .map(|c| {
                let ids = ix.classes_in(&c.namespace).iter().map(|&i| i as usize);
                (c.namespace.clone(), ids.collect())
            })
            .collect();
        drop(ix);
        let mut net = Self {
            classes,
            by_pod,
            by_namespace,
            policies,
            admin,
            baseline,
            selecting,
            ingress_open: Vec::new(),
            admitted_by: Vec::new(),
        };
        net.admitted_by = vec![Vec::new(); net.classes.len()];
        for dst in 0..net.classes.len() {
            match net.allowed_peers(Dir::Ingress, dst) {
                None => net.ingress_open.push(dst),
                Some(sources) => sources.iter().for_each(|&s| net.admitted_by[s].push(dst)),
            }
        }
        net
    }

    /// The classes the rules that could allow `class`'s traffic in `dir` name: its isolating
    /// NetworkPolicies' rules and the admin allow rules it is a subject of. `None` when any class
    /// may do: not isolated that way, or a rule without peers.
    fn allowed_peers(&self, dir: Dir, class: usize) -> Option<Vec<usize>> {
        let isolating = &self.selecting[usize::from(dir == Dir::Egress)][class];
        if isolating.is_empty() {
            return None;
        }
        let np_rules = isolating
            .iter()
            .flat_map(|&p| dir.rules(&self.policies[p]).into_iter().flatten());
        let admin_rules = self
            .admin
            .iter()
            .filter(|p| p.subject.contains(class))
            .flat_map(|p| dir.rules(p).into_iter().flatten())
            .filter(|r| r.action == RuleAction::Allow);
        let mut peers = Vec::new();
        for rule in np_rules.chain(admin_rules) {
            for peer in rule.peers.as_ref()? {
                peers.extend(peer.classes().iter());
            }
        }
        peers.sort_unstable();
        peers.dedup();
        Some(peers)
    }

    /// Every class `src` may open some connection to (itself included), with what, in class
    /// order. Only pairs some rule could open are evaluated, so the cost grows with the paths
    /// the policies name, not with the square of the classes.
    pub fn reachable_from(&self, src: usize) -> Vec<(usize, Conn)> {
        let candidates: Vec<usize> = match self.allowed_peers(Dir::Egress, src) {
            Some(dsts) => dsts
                .into_iter()
                .filter(|&d| {
                    self.ingress_open.binary_search(&d).is_ok()
                        || self.admitted_by[src].binary_search(&d).is_ok()
                })
                .collect(),
            None => {
                let mut all = [self.ingress_open.as_slice(), &self.admitted_by[src]].concat();
                all.sort_unstable();
                all.dedup();
                all
            }
        };
        candidates
            .into_iter()
            .filter_map(|d| {
                let c = self.conn(Endpoint::Class(src), Endpoint::Class(d));
                (!c.is_empty()).then_some((d, c))
            })
            .collect()
    }

    /// Every CIDR (cidr and except) an ipBlock or admin network names in the egress rules that
    /// apply to `class`, in any tier: the only cuts in its view of the address space.
    pub(super) fn egress_blocks(&self, class: usize) -> impl Iterator<Item = &ipnet::IpNet> {
        let isolating = self.selecting[1][class].iter().map(|&p| &self.policies[p]);
        let admin = self
            .admin
            .iter()
            .chain(&self.baseline)
            .filter(move |p| p.subject.contains(class));
        isolating
            .chain(admin)
            .flat_map(|p| p.egress.iter().flatten())
            .flat_map(|r| r.peers.iter().flatten())
            .filter_map(|peer| match peer {
                compile::Peer::Block { cidr, except, .. } => {
                    Some(std::iter::once(cidr).chain(except))
                }
                compile::Peer::Classes(_) => None,
            })
            .flatten()
    }

    /// The pod classes.
    pub fn classes(&self) -> &[PodClass] {
        &self.classes
    }

    /// The class of pod `namespace/name`.
    pub fn class_of(&self, namespace: &str, name: &str) -> Option<usize> {
        self.by_pod
            .get(&(namespace.to_string(), name.to_string()))
            .copied()
    }

    /// The classes of namespace `namespace`.
    pub fn classes_in<'a>(&'a self, namespace: &'a str) -> impl Iterator<Item = usize> + 'a {
        self.by_namespace
            .get(namespace)
            .into_iter()
            .flatten()
            .copied()
    }

    /// The NetworkPolicies that isolate class `class` for ingress (`true`) or egress.
    pub fn isolating(&self, class: usize, ingress: bool) -> Vec<&str> {
        self.selecting[usize::from(!ingress)][class]
            .iter()
            .map(|&p| self.policies[p].id.as_str())
            .collect()
    }

    /// A readable name of an endpoint.
    pub fn describe(&self, e: Endpoint) -> String {
        match e {
            Endpoint::Class(c) => {
                let class = &self.classes[c];
                let more = if class.pods.len() > 1 {
                    format!(" (+{} alike)", class.pods.len() - 1)
                } else {
                    String::new()
                };
                format!("{}/{}{more}", class.namespace, class.pods[0])
            }
            Endpoint::Ip(ip) => ip.to_string(),
        }
    }

    /// What `src` may open to `dst`.
    pub fn conn(&self, src: Endpoint, dst: Endpoint) -> Conn {
        self.evaluate(src, dst, &mut None)
    }

    /// What `src` may open to `dst`, and why.
    pub fn explain(&self, src: Endpoint, dst: Endpoint) -> Verdict {
        let mut evidence = Some(Vec::new());
        let conn = self.evaluate(src, dst, &mut evidence);
        let (evidence, steps) = evidence.unwrap_or_default().into_iter().unzip();
        Verdict {
            conn,
            evidence,
            steps,
        }
    }

    fn evaluate(&self, src: Endpoint, dst: Endpoint, ev: &mut Option<Vec<(String, Step)>>) -> Conn {
        let dst_class = match dst {
            Endpoint::Class(c) => Some(&self.classes[c]),
            Endpoint::Ip(_) => None,
        };
        let egress = match src {
            Endpoint::Class(c) => self.side(Dir::Egress, c, dst, dst_class, ev),
            Endpoint::Ip(_) => Conn::all(),
        };
        if egress.is_empty() {
            return egress;
        }
        let ingress = match dst {
            Endpoint::Class(c) => self.side(Dir::Ingress, c, src, dst_class, ev),
            Endpoint::Ip(_) => Conn::all(),
        };
        egress.intersect(&ingress)
    }

    /// One direction for `subject` against `peer`: admin tier, then NetworkPolicies, then the
    /// baseline tier; what no tier decides is allowed.
    fn side(
        &self,
        dir: Dir,
        subject: usize,
        peer: Endpoint,
        dst: Option<&PodClass>,
        ev: &mut Option<Vec<(String, Step)>>,
    ) -> Conn {
        let who = || self.describe(Endpoint::Class(subject));
        let (mut allowed, undecided) =
            self.tier(&self.admin, dir, subject, peer, dst, Conn::all(), ev);
        let isolating = &self.selecting[usize::from(dir == Dir::Egress)][subject];
        if isolating.is_empty() {
            note(ev, || {
                let line = format!("{} of {}: no NetworkPolicy selects it", dir.name(), who());
                (
                    line,
                    step(dir, who(), Effect::NotIsolated, vec![], None, None),
                )
            });
            let (base, rest) = self.tier(&self.baseline, dir, subject, peer, dst, undecided, ev);
            return allowed.union(&base).union(&rest);
        }
        let mut by_policies = Conn::none();
        for &p in isolating {
            let policy = &self.policies[p];
            for rule in dir
                .rules(policy)
                .into_iter()
                .flatten()
                .filter(|r| r.matches(peer))
            {
                let c = rule.conn(dst);
                note(ev, || {
                    let line = format!(
                        "{} of {} allowed by {} {}: {c}",
                        dir.name(),
                        who(),
                        policy.id,
                        rule.name
                    );
                    let ids = vec![policy.id.clone()];
                    let s = step(dir, who(), Effect::Allow, ids, Some(rule.index), Some(&c));
                    (line, s)
                });
                by_policies = by_policies.union(&c);
            }
        }
        if by_policies.is_empty() {
            note(ev, || {
                let ids: Vec<String> = isolating
                    .iter()
                    .map(|&p| self.policies[p].id.clone())
                    .collect();
                let line = format!(
                    "{} of {} isolated by {}; no rule allows this peer",
                    dir.name(),
                    who(),
                    ids.join(", ")
                );
                (line, step(dir, who(), Effect::Block, ids, None, None))
            });
        }
        allowed = allowed.union(&by_policies.intersect(&undecided));
        allowed
    }

    /// Runs the admin or baseline `tier` over `undecided`; returns (allowed, still undecided,
    /// including what was passed).
    #[allow(clippy::too_many_arguments)]
    fn tier(
        &self,
        tier: &[Policy],
        dir: Dir,
        subject: usize,
        peer: Endpoint,
        dst: Option<&PodClass>,
        mut undecided: Conn,
        ev: &mut Option<Vec<(String, Step)>>,
    ) -> (Conn, Conn) {
        let mut allowed = Conn::none();
        let mut passed = Conn::none();
        for policy in tier.iter().filter(|p| p.subject.contains(subject)) {
            for rule in dir
                .rules(policy)
                .into_iter()
                .flatten()
                .filter(|r| r.matches(peer))
            {
                let c = rule.conn(dst).intersect(&undecided);
                if c.is_empty() {
                    continue;
                }
                note(ev, || {
                    let line = format!(
                        "{} {:?} by {} {}: {c}",
                        dir.name(),
                        rule.action,
                        policy.id,
                        rule.name
                    );
                    let effect = match rule.action {
                        RuleAction::Allow => Effect::Allow,
                        RuleAction::Deny => Effect::Deny,
                        RuleAction::Pass => Effect::Pass,
                    };
                    let who = self.describe(Endpoint::Class(subject));
                    let ids = vec![policy.id.clone()];
                    (
                        line,
                        step(dir, who, effect, ids, Some(rule.index), Some(&c)),
                    )
                });
                match rule.action {
                    RuleAction::Allow => allowed = allowed.union(&c),
                    RuleAction::Deny => {}
                    RuleAction::Pass => passed = passed.union(&c),
                }
                undecided = undecided.subtract(&c);
            }
        }
        (allowed, undecided.union(&passed))
    }

    /// Every pair of distinct namespaces with some connection between their pods (the union over
    /// their pods), as `(source, destination) → connections`.
    pub fn namespace_matrix(&self) -> BTreeMap<(String, String), Conn> {
        let mut m: BTreeMap<(String, String), Conn> = BTreeMap::new();
        for a in 0..self.classes.len() {
            for (b, c) in self.reachable_from(a) {
                let (na, nb) = (&self.classes[a].namespace, &self.classes[b].namespace);
                if na != nb {
                    let e = m.entry((na.clone(), nb.clone())).or_default();
                    *e = e.union(&c);
                }
            }
        }
        m
    }
}

fn step(
    dir: Dir,
    pod: String,
    effect: Effect,
    policies: Vec<String>,
    rule: Option<usize>,
    connections: Option<&Conn>,
) -> Step {
    Step {
        direction: dir.name(),
        pod,
        effect,
        policies,
        rule,
        connections: connections.cloned(),
    }
}

fn note(ev: &mut Option<Vec<(String, Step)>>, line: impl FnOnce() -> (String, Step)) {
    if let Some(ev) = ev {
        ev.push(line());
    }
}
