//! Policies compiled against the pod classes: every selector becomes a set of classes.

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::IpAddr;
use std::rc::Rc;

use ipnet::IpNet;
use k8s_openapi::api::networking::v1::{NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::classes::{Endpoint, PodClass};
use super::conn::Conn;
use super::set::ClassSet;
use crate::labels::selects;
use crate::snapshot::{AdminPeer, AdminPort, AdminRule, AdminSubject, RuleAction};

/// Which pods or addresses a rule names.
#[derive(Debug, Clone)]
pub(super) enum Peer {
    /// Pod classes.
    Classes(ClassSet),
    /// Addresses in `cidr` but in none of `except`, and the pod classes whose known IPs lie
    /// there.
    Block {
        cidr: IpNet,
        except: Vec<IpNet>,
        pods: ClassSet,
    },
}

impl Peer {
    /// The pod classes it selects.
    pub(super) fn classes(&self) -> &ClassSet {
        match self {
            Self::Classes(set) | Self::Block { pods: set, .. } => set,
        }
    }

    pub(super) fn matches(&self, e: Endpoint) -> bool {
        match (self, e) {
            (Self::Classes(set), Endpoint::Class(c)) => set.contains(c),
            (Self::Block { cidr, except, .. }, Endpoint::Ip(ip)) => in_block(cidr, except, ip),
            (Self::Block { pods, .. }, Endpoint::Class(c)) => pods.contains(c),
            _ => false,
        }
    }
}

fn in_block(cidr: &IpNet, except: &[IpNet], ip: IpAddr) -> bool {
    contains(cidr, ip) && !except.iter().any(|x| contains(x, ip))
}

/// Whether `net` holds `ip`, an IPv4-mapped IPv6 address being the IPv4 one (as the kernel sends
/// it and Kubernetes parses it).
fn contains(net: &IpNet, ip: IpAddr) -> bool {
    net.contains(&ip.to_canonical())
}

/// One port clause.
#[derive(Debug, Clone)]
pub(super) struct PortSpec {
    protocol: String,
    port: Option<IntOrString>,
    end_port: Option<i32>,
}

/// A rule: peers (`None` = everyone) and ports (`None` = all).
#[derive(Debug, Clone)]
pub(super) struct Rule {
    pub name: String,
    /// Index of the rule in its policy's ingress or egress list.
    pub index: usize,
    pub action: RuleAction,
    pub peers: Option<Vec<Peer>>,
    pub ports: Option<Vec<PortSpec>>,
}

impl Rule {
    pub(super) fn matches(&self, peer: Endpoint) -> bool {
        self.peers
            .as_ref()
            .is_none_or(|ps| ps.iter().any(|p| p.matches(peer)))
    }

    /// The connections the rule's ports allow to `dst` (named ports resolve on `dst`'s class).
    pub(super) fn conn(&self, dst: Option<&PodClass>) -> Conn {
        let Some(ports) = &self.ports else {
            return Conn::all();
        };
        ports
            .iter()
            .fold(Conn::none(), |acc, p| acc.union(&p.conn(dst)))
    }
}

impl PortSpec {
    fn conn(&self, dst: Option<&PodClass>) -> Conn {
        let range = match &self.port {
            None => Some((1, 65535)),
            Some(IntOrString::Int(n)) => {
                let first = u16::try_from(*n).ok();
                let last = self.end_port.map_or(first, |e| u16::try_from(e).ok());
                first.zip(last)
            }
            Some(IntOrString::String(name)) => dst
                .into_iter()
                .flat_map(|c| &c.named_ports)
                .find(|(n, proto, _)| n == name && *proto == self.protocol)
                .map(|(_, _, n)| (*n, *n)),
        };
        range
            .and_then(|(a, b)| Conn::ports(&self.protocol, a, b))
            .unwrap_or_default()
    }
}

/// A NetworkPolicy or admin policy, compiled.
#[derive(Debug, Clone)]
pub(super) struct Policy {
    /// `NetworkPolicy ns/name`, `AdminNetworkPolicy name`...
    pub id: String,
    /// Admin priority (0 for NetworkPolicies and the baseline).
    pub priority: i32,
    /// The classes it applies to.
    pub subject: ClassSet,
    /// Ingress rules, `None` when the policy does not affect ingress.
    pub ingress: Option<Vec<Rule>>,
    /// Egress rules, `None` when the policy does not affect egress.
    pub egress: Option<Vec<Rule>>,
}

/// The classes by namespace, and the namespaces each distinct namespace selector picks
/// (memoised: every tenant's DNS rule names the same namespaces).
pub(super) struct Index<'a> {
    classes: &'a [PodClass],
    namespaces: Vec<(&'a str, &'a crate::labels::Labels)>,
    by_namespace: HashMap<&'a str, Vec<u32>>,
    memo: RefCell<HashMap<String, Rc<Vec<usize>>>>,
}

impl<'a> Index<'a> {
    pub(super) fn new(classes: &'a [PodClass]) -> Self {
        let mut by_namespace: HashMap<&str, Vec<u32>> = HashMap::new();
        let mut namespaces = Vec::new();
        for (i, c) in classes.iter().enumerate() {
            let entry = by_namespace.entry(c.namespace.as_str()).or_default();
            if entry.is_empty() {
                namespaces.push((c.namespace.as_str(), &*c.namespace_labels));
            }
            entry.push(u32::try_from(i).expect("fewer than 2^32 pod classes"));
        }
        Self {
            classes,
            namespaces,
            by_namespace,
            memo: RefCell::default(),
        }
    }

    /// The classes of namespace `ns`.
    pub(super) fn classes_in(&self, ns: &str) -> &[u32] {
        self.by_namespace.get(ns).map_or(&[], Vec::as_slice)
    }

    /// The namespaces (indexes into `namespaces`) `sel` selects.
    fn namespaces_of(&self, sel: &LabelSelector) -> Rc<Vec<usize>> {
        let key = serde_json::to_string(sel).expect("selectors serialize");
        if let Some(hit) = self.memo.borrow().get(&key) {
            return hit.clone();
        }
        let picked: Rc<Vec<usize>> = Rc::new(
            (0..self.namespaces.len())
                .filter(|&n| selects(sel, self.namespaces[n].1))
                .collect(),
        );
        self.memo.borrow_mut().insert(key, picked.clone());
        picked
    }

    /// The classes in the namespaces `ns` selects (`None`: `own_ns` only) whose pods `pods`
    /// selects (`None`: all).
    fn pods_in(
        &self,
        ns: Option<&LabelSelector>,
        pods: Option<&LabelSelector>,
        own_ns: Option<&str>,
    ) -> ClassSet {
        let in_ns = |name: &str| {
            self.classes_in(name)
                .iter()
                .copied()
                .filter(|&c| pods.is_none_or(|sel| selects(sel, &self.classes[c as usize].labels)))
                .collect::<Vec<u32>>()
        };
        let picked = match ns {
            Some(sel) => self
                .namespaces_of(sel)
                .iter()
                .flat_map(|&n| in_ns(self.namespaces[n].0))
                .collect(),
            None => own_ns.map(in_ns).unwrap_or_default(),
        };
        ClassSet::from_unsorted(picked)
    }

    /// The classes with a known IP in `cidr` but not in `except`.
    fn with_ips_in(&self, cidr: &IpNet, except: &[IpNet]) -> ClassSet {
        ClassSet::from_unsorted(
            (0..self.classes.len())
                .filter(|&c| {
                    self.classes[c]
                        .ips
                        .iter()
                        .any(|&ip| in_block(cidr, except, ip))
                })
                .map(|c| c as u32)
                .collect(),
        )
    }
}

/// The cidr of every NetworkPolicy ipBlock of `s`: pods whose IPs they cover are told apart.
pub(super) fn network_policy_blocks(s: &crate::snapshot::ClusterSnapshot) -> Vec<IpNet> {
    let spec = s.network_policies.iter().filter_map(|np| np.spec.as_ref());
    let peers = spec.flat_map(|spec| {
        let from = spec
            .ingress
            .iter()
            .flatten()
            .flat_map(|r| r.from.iter().flatten());
        let to = spec
            .egress
            .iter()
            .flatten()
            .flat_map(|r| r.to.iter().flatten());
        from.chain(to).collect::<Vec<_>>()
    });
    peers
        .filter_map(|p| parse_net(&p.ip_block.as_ref()?.cidr))
        .collect()
}

/// A CIDR or address as Kubernetes (Go) parses it: an IPv4-mapped IPv6 one is IPv4
/// (`::ffff:10.0.0.0/104` is `10.0.0.0/8`).
pub(super) fn parse_net(s: &str) -> Option<IpNet> {
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

fn np_peer(ix: &Index, p: &NetworkPolicyPeer, ns: &str) -> Peer {
    match &p.ip_block {
        Some(b) => match parse_net(&b.cidr) {
            Some(cidr) => {
                let except: Vec<IpNet> = b
                    .except
                    .iter()
                    .flatten()
                    .filter_map(|e| parse_net(e))
                    .collect();
                // Pods whose IPs are known are selected by the ipBlocks that cover them.
                let pods = ix.with_ips_in(&cidr, &except);
                Peer::Block { cidr, except, pods }
            }
            None => Peer::Classes(ClassSet::default()),
        },
        None if p.namespace_selector.is_none() && p.pod_selector.is_none() => {
            Peer::Classes(ClassSet::default())
        }
        None => Peer::Classes(ix.pods_in(
            p.namespace_selector.as_ref(),
            p.pod_selector.as_ref(),
            Some(ns),
        )),
    }
}

fn np_ports(ports: Option<&Vec<NetworkPolicyPort>>) -> Option<Vec<PortSpec>> {
    let ports = ports.filter(|p| !p.is_empty())?;
    Some(
        ports
            .iter()
            .map(|p| PortSpec {
                protocol: p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                port: p.port.clone(),
                end_port: p.end_port,
            })
            .collect(),
    )
}

fn np_rule(
    ix: &Index,
    ns: &str,
    i: usize,
    peers: Option<&Vec<NetworkPolicyPeer>>,
    ports: Option<&Vec<NetworkPolicyPort>>,
) -> Rule {
    Rule {
        name: format!("rule #{i}"),
        index: i,
        action: RuleAction::Allow,
        peers: peers
            .filter(|p| !p.is_empty())
            .map(|ps| ps.iter().map(|p| np_peer(ix, p, ns)).collect()),
        ports: np_ports(ports),
    }
}

/// Compiles a NetworkPolicy; `policyTypes` defaults to Ingress, plus Egress when egress rules
/// exist.
pub(super) fn network_policy(ix: &Index, np: &NetworkPolicy) -> Policy {
    let ns = np.metadata.namespace.as_deref().unwrap_or("default");
    let spec = np.spec.clone().unwrap_or_default();
    let types = spec
        .policy_types
        .clone()
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| {
            let mut t = vec!["Ingress".to_string()];
            if spec.egress.as_ref().is_some_and(|e| !e.is_empty()) {
                t.push("Egress".into());
            }
            t
        });
    let has = |t: &str| types.iter().any(|x| x == t);
    Policy {
        id: format!(
            "NetworkPolicy {ns}/{}",
            np.metadata.name.as_deref().unwrap_or_default()
        ),
        priority: 0,
        subject: ix.pods_in(
            None,
            spec.pod_selector
                .as_ref()
                .or(Some(&LabelSelector::default())),
            Some(ns),
        ),
        ingress: has("Ingress").then(|| {
            spec.ingress
                .iter()
                .flatten()
                .enumerate()
                .map(|(i, r)| np_rule(ix, ns, i, r.from.as_ref(), r.ports.as_ref()))
                .collect()
        }),
        egress: has("Egress").then(|| {
            spec.egress
                .iter()
                .flatten()
                .enumerate()
                .map(|(i, r)| np_rule(ix, ns, i, r.to.as_ref(), r.ports.as_ref()))
                .collect()
        }),
    }
}

fn admin_selector(
    ix: &Index,
    namespaces: Option<&LabelSelector>,
    pods: Option<&crate::snapshot::PodPeer>,
) -> ClassSet {
    match (namespaces, pods) {
        (Some(ns), _) => ix.pods_in(Some(ns), None, None),
        (None, Some(p)) => ix.pods_in(Some(&p.namespace_selector), Some(&p.pod_selector), None),
        (None, None) => ClassSet::default(),
    }
}

fn admin_peer(ix: &Index, p: &AdminPeer) -> Vec<Peer> {
    let mut peers = Vec::new();
    if p.namespaces.is_some() || p.pods.is_some() {
        peers.push(Peer::Classes(admin_selector(
            ix,
            p.namespaces.as_ref(),
            p.pods.as_ref(),
        )));
    }
    peers.extend(
        p.networks
            .iter()
            .flatten()
            .filter_map(|n| parse_net(n))
            // Admin networks stand for entities outside the cluster: they select no pod.
            .map(|cidr| Peer::Block {
                cidr,
                except: vec![],
                pods: ClassSet::default(),
            }),
    );
    peers
}

fn admin_port(p: &AdminPort) -> PortSpec {
    let proto = |p: &Option<String>| p.clone().unwrap_or_else(|| "TCP".into());
    match (&p.port_number, &p.named_port, &p.port_range) {
        (Some(n), _, _) => PortSpec {
            protocol: proto(&n.protocol),
            port: Some(IntOrString::Int(n.port)),
            end_port: None,
        },
        (_, Some(name), _) => PortSpec {
            protocol: "TCP".into(),
            port: Some(IntOrString::String(name.clone())),
            end_port: None,
        },
        (_, _, Some(r)) => PortSpec {
            protocol: proto(&r.protocol),
            port: Some(IntOrString::Int(r.start)),
            end_port: Some(r.end),
        },
        _ => PortSpec {
            protocol: String::new(),
            port: None,
            end_port: None,
        },
    }
}

fn admin_rules(ix: &Index, rules: &[AdminRule], ingress: bool) -> Vec<Rule> {
    rules
        .iter()
        .enumerate()
        .map(|(index, r)| {
            let peers = if ingress { &r.from } else { &r.to };
            Rule {
                name: format!("rule `{}`", r.name),
                index,
                action: r.action,
                peers: Some(
                    peers
                        .iter()
                        .flatten()
                        .flat_map(|p| admin_peer(ix, p))
                        .collect(),
                ),
                ports: r
                    .ports
                    .as_ref()
                    .map(|ps| ps.iter().map(admin_port).collect()),
            }
        })
        .collect()
}

/// Compiles an admin or baseline policy.
pub(super) fn admin_policy(
    ix: &Index,
    id: String,
    priority: i32,
    subject: &AdminSubject,
    ingress: &[AdminRule],
    egress: &[AdminRule],
) -> Policy {
    Policy {
        id,
        priority,
        subject: admin_selector(ix, subject.namespaces.as_ref(), subject.pods.as_ref()),
        ingress: Some(admin_rules(ix, ingress, true)),
        egress: Some(admin_rules(ix, egress, false)),
    }
}
