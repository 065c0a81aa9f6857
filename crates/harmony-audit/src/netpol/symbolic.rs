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

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::rc::Rc;

use ipnet::IpNet;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::networking::v1::{NetworkPolicyPeer, NetworkPolicyPort};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::conn::{Conn, PROTOCOLS};
use crate::labels::{Labels, selects};
use crate::snapshot::{
    AdminPeer, AdminPort, AdminRule, AdminSubject, ClusterSnapshot, NAMESPACE_NAME_LABEL,
    RuleAction,
};

/// A value no selector mentions (never a valid label value, replaced in witnesses).
const FRESH: &str = "\u{0}";

/// Kleene three-valued truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tri {
    F,
    U,
    T,
}

impl Tri {
    fn of(b: bool) -> Self {
        if b { Self::T } else { Self::F }
    }
    fn and(self, o: impl FnOnce() -> Self) -> Self {
        match self {
            Self::F => Self::F,
            Self::T => o(),
            Self::U => match o() {
                Self::F => Self::F,
                _ => Self::U,
            },
        }
    }
    fn or(self, o: impl FnOnce() -> Self) -> Self {
        match self {
            Self::T => Self::T,
            Self::F => o(),
            Self::U => match o() {
                Self::T => Self::T,
                _ => Self::U,
            },
        }
    }
    fn not(self) -> Self {
        match self {
            Self::F => Self::T,
            Self::T => Self::F,
            Self::U => Self::U,
        }
    }
    /// `if self { a } else { b }`.
    fn ite(self, a: impl FnOnce() -> Self, b: impl FnOnce() -> Self) -> Self {
        match self {
            Self::T => a(),
            Self::F => b(),
            Self::U => {
                let (x, y) = (a(), b());
                if x == y { x } else { Self::U }
            }
        }
    }
}

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

#[derive(Clone, Copy, PartialEq)]
enum Dir {
    Ingress,
    Egress,
}

/// A NetworkPolicy as the evaluation needs it.
struct Np<'a> {
    selector: &'a LabelSelector,
    /// Ingress rules (peers, ports), `None` when the policy does not isolate ingress.
    ingress: Option<Vec<NpRule<'a>>>,
    egress: Option<Vec<NpRule<'a>>>,
}

type NpRule<'a> = (
    Option<&'a [NetworkPolicyPeer]>,
    Option<&'a [NetworkPolicyPort]>,
);

impl<'a> Np<'a> {
    fn rules(&self, dir: Dir) -> Option<&[NpRule<'a>]> {
        match dir {
            Dir::Ingress => self.ingress.as_deref(),
            Dir::Egress => self.egress.as_deref(),
        }
    }
}

/// An admin or baseline policy.
struct Admin<'a> {
    subject: &'a AdminSubject,
    ingress: &'a [AdminRule],
    egress: &'a [AdminRule],
}

impl<'a> Admin<'a> {
    fn rules(&self, dir: Dir) -> &'a [AdminRule] {
        match dir {
            Dir::Ingress => self.ingress,
            Dir::Egress => self.egress,
        }
    }
}

/// What a variable stands for.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Slot {
    SrcPod,
    DstPod,
    SrcNs,
    DstNs,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Val<'a> {
    Label(Option<&'a str>),
    Flag(bool),
    Ip(IpAddr),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Key<'a> {
    Label(&'a str),
    Port(&'a str),
    Ip,
}

struct Var<'a> {
    slot: Slot,
    key: Key<'a>,
    domain: Vec<Val<'a>>,
}

/// One end of a question, resolved.
struct End<'a> {
    ns: &'a str,
    /// The namespace's labels; `None`: free.
    ns_labels: Option<&'a Labels>,
    /// Its `kubernetes.io/metadata.name` when no object fixes it or its labels are free.
    ns_name: Option<&'a str>,
    ns_slot: Slot,
    pod: EndPod<'a>,
    slot: Slot,
}

enum EndPod<'a> {
    Free,
    Const {
        labels: &'a Labels,
        ports: Vec<(String, String, u16)>,
        ips: Vec<IpAddr>,
    },
    Addr(IpAddr),
}

/// A question's variables and a (partial) assignment.
struct Eval<'q, 'a> {
    vars: &'q [Var<'a>],
    assign: &'q [Option<usize>],
    unknown: Cell<Option<usize>>,
    named_ports: bool,
}

impl<'a> Eval<'_, 'a> {
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

    fn ns_selector(&self, sel: &'a LabelSelector, e: &End<'a>) -> Tri {
        match e.pod {
            EndPod::Addr(_) => Tri::F,
            _ => self.selector(sel, e.ns_labels, e.ns_slot, e.ns_name),
        }
    }

    fn pod_selector(&self, sel: &'a LabelSelector, e: &End<'a>) -> Tri {
        match &e.pod {
            EndPod::Addr(_) => Tri::F,
            EndPod::Const { labels, .. } => self.selector(sel, Some(labels), e.slot, None),
            EndPod::Free => self.selector(sel, None, e.slot, None),
        }
    }

    /// Whether ipBlock `cidr` minus `except` holds `e`'s address.
    fn block(&self, cidr: &IpNet, except: &[IpNet], e: &End<'a>) -> Tri {
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
    fn named(&self, name: &'a str, protocol: &str, dst: &End<'a>, target: Target) -> Tri {
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

/// A protocol and port.
type Target = (&'static str, u16);

fn in_range(target: Target, protocol: &str, first: i32, last: i32) -> bool {
    protocol == target.0 && first <= i32::from(target.1) && i32::from(target.1) <= last
}

fn in_block(cidr: &IpNet, except: &[IpNet], ip: IpAddr) -> bool {
    let ip = ip.to_canonical();
    cidr.contains(&ip) && !except.iter().any(|x| x.contains(&ip))
}

/// A CIDR or address as Kubernetes parses it (IPv4-mapped IPv6 is IPv4).
fn parse_net(s: &str) -> Option<IpNet> {
    let net = s
        .parse()
        .ok()
        .or_else(|| s.parse::<IpAddr>().ok().map(IpNet::from))?;
    Some(match net {
        IpNet::V6(n) if n.prefix_len() >= 96 => match n.addr().to_ipv4_mapped() {
            Some(v4) => IpNet::new(v4.into(), n.prefix_len() - 96).ok()?,
            None => net,
        },
        _ => net,
    })
}

fn block_of(p: &NetworkPolicyPeer) -> Option<(IpNet, Vec<IpNet>)> {
    let b = p.ip_block.as_ref()?;
    let except = b
        .except
        .iter()
        .flatten()
        .filter_map(|e| parse_net(e))
        .collect();
    Some((parse_net(&b.cidr)?, except))
}

fn named_ports(pod: &Pod) -> Vec<(String, String, u16)> {
    pod.spec
        .iter()
        .flat_map(|s| &s.containers)
        .flat_map(|c| c.ports.iter().flatten())
        .filter_map(|p| {
            let proto = p.protocol.clone().unwrap_or_else(|| "TCP".into());
            Some((
                p.name.clone()?,
                proto,
                u16::try_from(p.container_port).ok()?,
            ))
        })
        .collect()
}

fn pod_ips(pod: &Pod) -> Vec<IpAddr> {
    let Some(status) = &pod.status else {
        return vec![];
    };
    let listed = status.pod_ips.iter().flatten().map(|p| p.ip.as_str());
    listed
        .chain(status.pod_ip.as_deref())
        .filter_map(|ip| ip.parse::<IpAddr>().ok())
        .map(|ip| ip.to_canonical())
        .collect()
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
        let baseline = s
            .baseline_admin_network_policies
            .iter()
            .map(|b| Admin {
                subject: &b.spec.subject,
                ingress: &b.spec.ingress,
                egress: &b.spec.egress,
            })
            .collect();
        Self {
            ns_labels,
            namespaces: namespaces.into_iter().collect(),
            free,
            pod_networks: pod_networks.to_vec(),
            nps,
            admin,
            baseline,
            admin_of: RefCell::default(),
            baseline_of: RefCell::default(),
            ns_sel: RefCell::default(),
        }
    }

    fn end(&self, p: Party<'a>, src: bool) -> End<'a> {
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
                    ports: named_ports(pod),
                    ips: pod_ips(pod),
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
    fn ends(&self, src: Party<'a>, dst: Party<'a>) -> (End<'a>, End<'a>) {
        let (s, mut d) = (self.end(src, true), self.end(dst, false));
        if d.ns == s.ns {
            d.ns_slot = s.ns_slot;
        }
        (s, d)
    }

    fn labels_of(&self, ns: &str) -> &'a Labels {
        self.ns_labels.get(ns).copied().unwrap_or(empty())
    }

    /// Whether a namespace selector may select `ns` (exact for constant labels; for free ones,
    /// whenever the selector does not rule out its name).
    fn may_select_ns(&self, sel: &LabelSelector, ns: &str) -> bool {
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

    /// Whether admin subject `s` may hold pods of `ns`.
    fn subject_may_hold(&self, s: &AdminSubject, ns: &str) -> bool {
        match (&s.namespaces, &s.pods) {
            (Some(sel), _) => self.may_select_ns(sel, ns),
            (None, Some(p)) => self.may_select_ns(&p.namespace_selector, ns),
            (None, None) => false,
        }
    }

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

    fn admin_in(&self, ns: &'a str) -> Rc<Vec<usize>> {
        let tier: Vec<&Admin> = self.admin.iter().map(|(a, _)| a).collect();
        self.tier_of(ns, &self.admin_of, &tier)
    }

    fn baseline_in(&self, ns: &'a str) -> Rc<Vec<usize>> {
        let tier: Vec<&Admin> = self.baseline.iter().collect();
        self.tier_of(ns, &self.baseline_of, &tier)
    }

    fn nps_in(&self, ns: &str) -> &[Np<'a>] {
        self.nps.get(ns).map_or(&[], Vec::as_slice)
    }

    fn subject(&self, ev: &Eval<'_, 'a>, s: &'a AdminSubject, e: &End<'a>) -> Tri {
        match (&s.namespaces, &s.pods) {
            (Some(sel), _) => ev.ns_selector(sel, e),
            (None, Some(p)) => ev
                .ns_selector(&p.namespace_selector, e)
                .and(|| ev.pod_selector(&p.pod_selector, e)),
            (None, None) => Tri::F,
        }
    }

    fn admin_peer(&self, ev: &Eval<'_, 'a>, p: &'a AdminPeer, e: &End<'a>) -> Tri {
        let pods = match (&p.namespaces, &p.pods) {
            (Some(sel), _) => ev.ns_selector(sel, e),
            (None, Some(pp)) => ev
                .ns_selector(&pp.namespace_selector, e)
                .and(|| ev.pod_selector(&pp.pod_selector, e)),
            (None, None) => Tri::F,
        };
        pods.or(|| match e.pod {
            // Admin networks stand for entities outside the cluster: they select no pod.
            EndPod::Addr(ip) => Tri::of(
                p.networks
                    .iter()
                    .flatten()
                    .filter_map(|n| parse_net(n))
                    .any(|n| in_block(&n, &[], ip)),
            ),
            _ => Tri::F,
        })
    }

    fn admin_ports(
        &self,
        ev: &Eval<'_, 'a>,
        ports: Option<&'a [AdminPort]>,
        dst: &End<'a>,
        t: Target,
    ) -> Tri {
        let Some(ports) = ports else {
            return Tri::T;
        };
        let proto = |p: &Option<String>| p.clone().unwrap_or_else(|| "TCP".into());
        any(ports, |p| {
            match (&p.port_number, &p.named_port, &p.port_range) {
                (Some(n), _, _) => Tri::of(in_range(t, &proto(&n.protocol), n.port, n.port)),
                (_, Some(name), _) => ev.named(name, "TCP", dst, t),
                (_, _, Some(r)) => Tri::of(in_range(t, &proto(&r.protocol), r.start, r.end)),
                _ => Tri::F,
            }
        })
    }

    fn np_peer(&self, ev: &Eval<'_, 'a>, p: &'a NetworkPolicyPeer, pns: &str, e: &End<'a>) -> Tri {
        if p.ip_block.is_some() {
            return match block_of(p) {
                Some((cidr, except)) => ev.block(&cidr, &except, e),
                None => Tri::F,
            };
        }
        if matches!(e.pod, EndPod::Addr(_))
            || (p.namespace_selector.is_none() && p.pod_selector.is_none())
        {
            return Tri::F;
        }
        let ns = match &p.namespace_selector {
            Some(sel) => ev.ns_selector(sel, e),
            None => Tri::of(e.ns == pns),
        };
        ns.and(|| match &p.pod_selector {
            Some(sel) => ev.pod_selector(sel, e),
            None => Tri::T,
        })
    }

    fn np_ports(
        &self,
        ev: &Eval<'_, 'a>,
        ports: Option<&'a [NetworkPolicyPort]>,
        dst: &End<'a>,
        t: Target,
    ) -> Tri {
        let Some(ports) = ports.filter(|p| !p.is_empty()) else {
            return Tri::T;
        };
        any(ports, |p| {
            let proto = p.protocol.as_deref().unwrap_or("TCP");
            match &p.port {
                None => Tri::of(proto == t.0),
                Some(IntOrString::Int(n)) => {
                    Tri::of(in_range(t, proto, *n, p.end_port.unwrap_or(*n)))
                }
                Some(IntOrString::String(name)) => ev.named(name, proto, dst, t),
            }
        })
    }

    /// Every namespace's pods a direction of `ns`'s pods could reach (egress) or be reached by
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

    fn open_at(&self, ev: &Eval<'_, 'a>, src: &End<'a>, dst: &End<'a>, t: Target) -> Tri {
        let side = |dir, subject: &End<'a>, peer: &End<'a>| match subject.pod {
            EndPod::Addr(_) => Tri::T,
            _ => {
                let s = Side {
                    dir,
                    subject,
                    peer,
                    dst,
                    t,
                };
                let tier = self.admin_in(subject.ns);
                self.admin_chain(ev, &s, &tier, 0, 0)
            }
        };
        side(Dir::Egress, src, dst).and(|| side(Dir::Ingress, dst, src))
    }

    /// The admin tier from rule `r` of the `i`-th applicable policy on: its first matching rule
    /// decides; past the last, the NetworkPolicies.
    fn admin_chain(
        &self,
        ev: &Eval<'_, 'a>,
        s: &Side<'_, 'a>,
        tier: &[usize],
        i: usize,
        r: usize,
    ) -> Tri {
        let Some(&p) = tier.get(i) else {
            return self.np_tier(ev, s);
        };
        let policy = &self.admin[p].0;
        let Some(rule) = policy.rules(s.dir).get(r) else {
            return self.admin_chain(ev, s, tier, i + 1, 0);
        };
        let cond = self.rule_applies(ev, s, policy.subject, rule);
        cond.ite(
            || match rule.action {
                RuleAction::Allow => Tri::T,
                RuleAction::Deny => Tri::F,
                RuleAction::Pass => self.np_tier(ev, s),
            },
            || self.admin_chain(ev, s, tier, i, r + 1),
        )
    }

    fn rule_applies(
        &self,
        ev: &Eval<'_, 'a>,
        s: &Side<'_, 'a>,
        subject: &'a AdminSubject,
        rule: &'a AdminRule,
    ) -> Tri {
        let peers = if s.dir == Dir::Ingress {
            &rule.from
        } else {
            &rule.to
        };
        self.subject(ev, subject, s.subject)
            .and(|| any(peers.iter().flatten(), |p| self.admin_peer(ev, p, s.peer)))
            .and(|| self.admin_ports(ev, rule.ports.as_deref(), s.dst, s.t))
    }

    /// The NetworkPolicies isolating the subject decide; when none does, the baseline tier.
    fn np_tier(&self, ev: &Eval<'_, 'a>, s: &Side<'_, 'a>) -> Tri {
        let nps: Vec<&Np<'a>> = self
            .nps_in(s.subject.ns)
            .iter()
            .filter(|p| p.rules(s.dir).is_some())
            .collect();
        let isolated = any(&nps, |p| ev.pod_selector(p.selector, s.subject));
        isolated.ite(
            || {
                any(&nps, |p| {
                    ev.pod_selector(p.selector, s.subject).and(|| {
                        any(p.rules(s.dir).into_iter().flatten(), |&(peers, ports)| {
                            let peer = match peers.filter(|p| !p.is_empty()) {
                                None => Tri::T,
                                Some(ps) => any(ps, |p| self.np_peer(ev, p, s.subject.ns, s.peer)),
                            };
                            peer.and(|| self.np_ports(ev, ports, s.dst, s.t))
                        })
                    })
                })
            },
            || self.baseline_chain(ev, s, &self.baseline_in(s.subject.ns), 0, 0),
        )
    }

    fn baseline_chain(
        &self,
        ev: &Eval<'_, 'a>,
        s: &Side<'_, 'a>,
        tier: &[usize],
        i: usize,
        r: usize,
    ) -> Tri {
        let Some(&p) = tier.get(i) else {
            return Tri::T;
        };
        let policy = &self.baseline[p];
        let Some(rule) = policy.rules(s.dir).get(r) else {
            return self.baseline_chain(ev, s, tier, i + 1, 0);
        };
        self.rule_applies(ev, s, policy.subject, rule).ite(
            || Tri::of(rule.action != RuleAction::Deny),
            || self.baseline_chain(ev, s, tier, i, r + 1),
        )
    }

    // ---- variables, ports and witnesses ----

    /// The policies that may decide a path between pods of `a` and `b`.
    fn policies(&self, a: &End<'a>, b: &End<'a>) -> (Vec<&Np<'a>>, Vec<&Admin<'a>>) {
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

    /// The variables of a question between `src` and `dst`.
    fn vars(&self, src: &End<'a>, dst: &End<'a>, named_ports: bool) -> Vec<Var<'a>> {
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

    /// One port per interval the rules' port ranges (and `skip`) cut each protocol into.
    fn points(&self, a: &End<'a>, b: &End<'a>, skip: &Conn) -> Vec<Target> {
        let (nps, admin) = self.policies(a, b);
        let mut cuts: [BTreeSet<u32>; 3] = std::array::from_fn(|_| BTreeSet::from([1]));
        let mut cut = |proto: &str, first: i32, last: i32| {
            if let Some(i) = PROTOCOLS.iter().position(|p| *p == proto) {
                cuts[i].insert(first.clamp(1, 65536) as u32);
                cuts[i].insert((last + 1).clamp(1, 65536) as u32);
            }
        };
        for (proto, ranges) in skip.by_protocol() {
            for &(x, y) in ranges {
                cut(proto, x.into(), y.into());
            }
        }
        for np in &nps {
            for &(_, ports) in np.ingress.iter().chain(&np.egress).flatten() {
                for p in ports.into_iter().flatten() {
                    if let Some(IntOrString::Int(n)) = p.port {
                        cut(
                            p.protocol.as_deref().unwrap_or("TCP"),
                            n,
                            p.end_port.unwrap_or(n),
                        );
                    }
                }
            }
        }
        let ports = admin
            .iter()
            .flat_map(|a| a.ingress.iter().chain(a.egress))
            .flat_map(|r| r.ports.iter().flatten());
        for p in ports {
            if let Some(n) = &p.port_number {
                cut(n.protocol.as_deref().unwrap_or("TCP"), n.port, n.port);
            }
            if let Some(r) = &p.port_range {
                cut(r.protocol.as_deref().unwrap_or("TCP"), r.start, r.end);
            }
        }
        let mut out = Vec::new();
        for (i, set) in cuts.iter().enumerate() {
            out.extend(
                set.iter()
                    .filter_map(|&c| u16::try_from(c).ok())
                    .map(|c| (PROTOCOLS[i], c)),
            );
        }
        out
    }

    /// Whether ipBlock `b` may hold a pod's IP.
    fn overlaps_pods(&self, b: &(IpNet, Vec<IpNet>)) -> bool {
        let bs = std::slice::from_ref(b);
        ip_points(&self.pod_networks, bs)
            .into_iter()
            .any(|ip| in_block(&b.0, &b.1, ip))
    }

    fn witness(
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

/// A direction of a path being judged.
struct Side<'s, 'a> {
    dir: Dir,
    subject: &'s End<'a>,
    peer: &'s End<'a>,
    dst: &'s End<'a>,
    t: Target,
}

fn empty() -> &'static Labels {
    static EMPTY: Labels = BTreeMap::new();
    &EMPTY
}

/// Kleene disjunction over `items`, stopping at the first true one.
fn any<I: IntoIterator>(items: I, f: impl Fn(I::Item) -> Tri) -> Tri {
    let mut out = Tri::F;
    for x in items {
        out = out.or(|| f(x));
        if out == Tri::T {
            break;
        }
    }
    out
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

/// An address as a family and a number.
fn bits(ip: IpAddr) -> (bool, u128) {
    match ip.to_canonical() {
        IpAddr::V4(a) => (false, u128::from(a.to_bits())),
        IpAddr::V6(a) => (true, a.to_bits()),
    }
}

fn addr((v6, n): (bool, u128)) -> IpAddr {
    if v6 {
        IpAddr::V6(n.into())
    } else {
        IpAddr::V4((n as u32).into())
    }
}

/// One address of the pod networks per region `blocks` cut them into, those in no block first.
fn ip_points(pod_networks: &[IpNet], blocks: &[(IpNet, Vec<IpNet>)]) -> Vec<IpAddr> {
    let nets = blocks
        .iter()
        .flat_map(|(c, e)| std::iter::once(c).chain(e))
        .chain(pod_networks);
    let mut cuts: BTreeSet<(bool, u128)> = BTreeSet::new();
    for n in nets {
        let (fam, lo) = bits(n.network());
        cuts.insert((fam, lo));
        let (_, hi) = bits(n.broadcast());
        if let Some(next) = hi.checked_add(1) {
            cuts.insert((fam, next));
        }
    }
    let mut seen = BTreeSet::new();
    let mut out: Vec<(usize, IpAddr)> = Vec::new();
    for c in cuts {
        let ip = addr(c);
        if !pod_networks.iter().any(|n| n.contains(&ip)) {
            continue;
        }
        let sig: Vec<bool> = blocks.iter().map(|(b, e)| in_block(b, e, ip)).collect();
        let inside = sig.iter().filter(|&&x| x).count();
        if seen.insert(sig) {
            out.push((inside, ip));
        }
    }
    out.sort_by_key(|(n, _)| *n);
    out.into_iter().map(|(_, ip)| ip).collect()
}

/// Depth-first search for an assignment making `f` true, branching only on a variable `f`
/// found unknown.
fn search<'a>(
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Namespaces `a` (`team: red`) and `b`, plus `docs` (YAML documents).
    fn snapshot(docs: &str) -> ClusterSnapshot {
        let base = "apiVersion: v1
kind: Namespace
metadata: {name: a, labels: {kubernetes.io/metadata.name: a, team: red}}
---
apiVersion: v1
kind: Namespace
metadata: {name: b, labels: {kubernetes.io/metadata.name: b}}
";
        let mut s = ClusterSnapshot::default();
        s.load_text(&format!("{base}---\n{docs}"), "test").unwrap();
        s
    }

    fn sym<'a>(s: &'a ClusterSnapshot, free: &[&'a str]) -> Symbolic<'a> {
        let pods = ["10.244.0.0/16".parse().unwrap()];
        Symbolic::new(s, &pods, free.iter().copied().collect())
    }

    /// A NetworkPolicy in `ns` isolating `types` of the pods `selector` selects, with `spec`.
    fn np(ns: &str, name: &str, selector: &str, types: &str, spec: &str) -> String {
        format!(
            "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: {name}, namespace: {ns}}}
spec:
  podSelector: {selector}
  policyTypes: [{types}]
{spec}---
"
        )
    }

    fn deny_all(ns: &str) -> String {
        np(ns, "deny", "{}", "Ingress, Egress", "")
    }

    fn free<'a>(ns: &'a str) -> Party<'a> {
        Party::Free(ns)
    }

    fn open<'a>(s: &Symbolic<'a>, a: &'a str, b: &'a str) -> Option<Witness> {
        s.open(free(a), free(b), &Conn::none())
    }

    #[test]
    fn isolation_by_match_labels_leaves_other_labels_out() {
        let s = snapshot(&np("a", "web", "{matchLabels: {app: web}}", "Ingress", ""));
        let w = sym(&s, &[]).unisolated("a", true).unwrap();
        assert_ne!(
            w.dst
                .unwrap_or_default()
                .labels
                .get("app")
                .map(String::as_str),
            Some("web")
        );
        assert!(sym(&s, &[]).unisolated("a", false).is_some());
    }

    #[test]
    fn in_several_values_and_not_in_cover_every_pod() {
        let docs = np(
            "a",
            "in",
            "{matchExpressions: [{key: app, operator: In, values: [x1, x2]}]}",
            "Egress",
            "",
        ) + &np(
            "a",
            "notin",
            "{matchExpressions: [{key: app, operator: NotIn, values: [x1, x2]}]}",
            "Egress",
            "",
        );
        let s = snapshot(&docs);
        assert_eq!(sym(&s, &[]).unisolated("a", false), None);
        // Without the NotIn policy a pod labelled neither x nor y escapes.
        let s = snapshot(&np(
            "a",
            "in",
            "{matchExpressions: [{key: app, operator: In, values: [x1, x2]}]}",
            "Egress",
            "",
        ));
        let w = sym(&s, &[]).unisolated("a", false).unwrap();
        let app = w.src.unwrap_or_default().labels.get("app").cloned();
        assert!(
            app.as_deref().is_none_or(|v| v != "x1" && v != "x2"),
            "{app:?}"
        );
    }

    #[test]
    fn exists_and_does_not_exist_cover_every_pod() {
        let docs = np(
            "a",
            "e",
            "{matchExpressions: [{key: tier, operator: Exists}]}",
            "Ingress",
            "",
        ) + &np(
            "a",
            "d",
            "{matchExpressions: [{key: tier, operator: DoesNotExist}]}",
            "Ingress",
            "",
        );
        assert_eq!(sym(&snapshot(&docs), &[]).unisolated("a", true), None);
    }

    /// `a` may reach the pods of `b` that `selector` selects; `b` lets everyone in.
    fn a_to_b(selector: &str, ports: &str) -> String {
        deny_all("a")
            + &np(
                "a",
                "out",
                "{}",
                "Egress",
                &format!(
                    "  egress:\n  - to: [{{namespaceSelector: {{}}, podSelector: {selector}}}]\n{ports}"
                ),
            )
    }

    #[test]
    fn conflicting_requirements_select_no_pod() {
        let s = snapshot(&a_to_b(
            "{matchLabels: {app: x}, matchExpressions: [{key: app, operator: NotIn, values: [x]}]}",
            "",
        ));
        assert_eq!(open(&sym(&s, &[]), "a", "b"), None);
        let s = snapshot(&a_to_b(
            "{matchLabels: {app: x}, matchExpressions: [{key: tier, operator: NotIn, values: [x]}]}",
            "",
        ));
        let w = open(&sym(&s, &[]), "a", "b").unwrap();
        let dst = w.dst.unwrap();
        assert_eq!(dst.labels.get("app").map(String::as_str), Some("x"));
        assert_ne!(dst.labels.get("tier").map(String::as_str), Some("x"));
    }

    #[test]
    fn a_named_port_is_any_port_the_destination_declares() {
        let s = snapshot(&a_to_b(
            "{}",
            "    ports: [{port: metrics, protocol: UDP}]\n",
        ));
        let w = open(&sym(&s, &[]), "a", "b").unwrap();
        let (proto, port) = w.port.unwrap();
        assert_eq!(proto, "UDP");
        assert_eq!(
            w.dst.unwrap().named_ports,
            vec![("metrics".into(), "UDP".into(), port)]
        );
        // A pod of today without that named port is not reachable.
        let pod = "apiVersion: v1
kind: Pod
metadata: {name: p, namespace: b}
spec: {containers: [{name: c, ports: [{name: metrics, containerPort: 9000}]}]}
";
        let s = snapshot(&(a_to_b("{}", "    ports: [{port: metrics, protocol: UDP}]\n") + pod));
        assert_eq!(
            sym(&s, &[]).open(free("a"), Party::Pod(&s.pods[0]), &Conn::none()),
            None
        );
    }

    fn anp(name: &str, priority: i32, action: &str, ports: &str) -> String {
        format!(
            "apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {{name: {name}}}
spec:
  priority: {priority}
  subject: {{namespaces: {{matchLabels: {{team: red}}}}}}
  egress:
  - {{name: r, action: {action}, to: [{{namespaces: {{}}}}]{ports}}}
---
"
        )
    }

    #[test]
    fn admin_tiers_deny_pass_and_allow() {
        let allow_all = np("a", "all", "{}", "Egress", "  egress: [{}]\n");
        let s =
            snapshot(&(anp("deny", 1, "Deny", "") + &anp("allow", 2, "Allow", "") + &allow_all));
        assert_eq!(open(&sym(&s, &[]), "a", "b"), None);
        // Deny only TCP 80: every other port passes on to the NetworkPolicies.
        let tcp80 = ", ports: [{portNumber: {protocol: TCP, port: 80}}]";
        let s = snapshot(&(anp("deny", 1, "Deny", tcp80) + &allow_all));
        assert!(open(&sym(&s, &[]), "a", "b").unwrap().port != Some(("TCP", 80)));
        // Pass leaves it to the NetworkPolicies, which isolate `a`.
        let s = snapshot(
            &(anp("pass", 1, "Pass", "") + &anp("allow", 2, "Allow", "") + &deny_all("a")),
        );
        assert_eq!(open(&sym(&s, &[]), "a", "b"), None);
        // Allow wins over the NetworkPolicies.
        let s = snapshot(&(anp("allow", 1, "Allow", "") + &deny_all("a")));
        assert!(open(&sym(&s, &[]), "a", "b").is_some());
    }

    #[test]
    fn namespace_labels_are_constants_or_free() {
        let docs = deny_all("b")
            + &np(
                "b",
                "from-blue",
                "{}",
                "Ingress",
                "  ingress: [{from: [{namespaceSelector: {matchLabels: {team: blue}}}]}]\n",
            );
        let s = snapshot(&docs);
        assert_eq!(open(&sym(&s, &[]), "a", "b"), None);
        let w = open(&sym(&s, &["a", "b"]), "a", "b").unwrap();
        assert_eq!(
            w.namespaces["a"].get("team").map(String::as_str),
            Some("blue")
        );
        assert_eq!(w.namespaces["a"]["kubernetes.io/metadata.name"], "a");
        // The name label is fixed, free or not.
        let by_name = deny_all("b")
            + &np(
                "b",
                "from-c",
                "{}",
                "Ingress",
                "  ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: c}}}]}]\n",
            );
        assert_eq!(open(&sym(&snapshot(&by_name), &["a", "b"]), "a", "b"), None);
    }

    #[test]
    fn an_ip_block_over_the_pod_network_may_select_a_pod() {
        let to_block = deny_all("a")
            + &np(
                "a",
                "block",
                "{}",
                "Egress",
                "  egress: [{to: [{ipBlock: {cidr: 10.244.1.0/24, except: [10.244.1.128/25]}}]}]\n",
            );
        let w = open(&sym(&snapshot(&to_block), &[]), "a", "b").unwrap();
        let ip = w.dst.unwrap().ip.unwrap();
        assert!(in_block(&"10.244.1.0/25".parse().unwrap(), &[], ip), "{ip}");
        assert_eq!(sym(&snapshot(&to_block), &[]).reach("a", false), Reach::All);
    }

    #[test]
    fn reach_lists_the_namespaces_rules_may_select() {
        let docs = a_to_b("{}", "").replace(
            "namespaceSelector: {}",
            "namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: b}}",
        );
        let s = snapshot(&docs);
        assert_eq!(
            sym(&s, &[]).reach("a", false),
            Reach::Some(["b".to_string()].into())
        );
        assert_eq!(sym(&s, &[]).reach("b", true), Reach::All);
    }
}
