//! Policies compiled against the pod classes: every selector becomes a set of classes.

use std::net::IpAddr;

use ipnet::IpNet;
use k8s_openapi::api::networking::v1::{NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::classes::{Endpoint, PodClass};
use super::conn::Conn;
use crate::labels::selects;
use crate::snapshot::{AdminPeer, AdminPort, AdminRule, AdminSubject, RuleAction};

/// Which pods or addresses a rule names.
#[derive(Debug, Clone)]
pub(super) enum Peer {
    /// Pod classes (a bit per class).
    Classes(Vec<bool>),
    /// Addresses in `cidr` but in none of `except`, and the pod classes whose known IPs lie
    /// there (a bit per class).
    Block {
        cidr: IpNet,
        except: Vec<IpNet>,
        pods: Vec<bool>,
    },
}

impl Peer {
    pub(super) fn matches(&self, e: Endpoint) -> bool {
        match (self, e) {
            (Self::Classes(set), Endpoint::Class(c)) => set[c],
            (Self::Block { cidr, except, .. }, Endpoint::Ip(ip)) => in_block(cidr, except, ip),
            (Self::Block { pods, .. }, Endpoint::Class(c)) => pods[c],
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
    pub subject: Vec<bool>,
    /// Ingress rules, `None` when the policy does not affect ingress.
    pub ingress: Option<Vec<Rule>>,
    /// Egress rules, `None` when the policy does not affect egress.
    pub egress: Option<Vec<Rule>>,
}

fn class_set(classes: &[PodClass], f: impl Fn(&PodClass) -> bool) -> Vec<bool> {
    classes.iter().map(f).collect()
}

fn pods_in(
    classes: &[PodClass],
    ns: Option<&LabelSelector>,
    pods: Option<&LabelSelector>,
    own_ns: Option<&str>,
) -> Vec<bool> {
    class_set(classes, |c| {
        let ns_ok = match ns {
            Some(sel) => selects(sel, &c.namespace_labels),
            None => own_ns == Some(c.namespace.as_str()),
        };
        ns_ok && pods.is_none_or(|sel| selects(sel, &c.labels))
    })
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

fn np_peer(classes: &[PodClass], p: &NetworkPolicyPeer, ns: &str) -> Peer {
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
                let pods = class_set(classes, |c| {
                    c.ips.iter().any(|&ip| in_block(&cidr, &except, ip))
                });
                Peer::Block { cidr, except, pods }
            }
            None => Peer::Classes(vec![false; classes.len()]),
        },
        None if p.namespace_selector.is_none() && p.pod_selector.is_none() => {
            Peer::Classes(vec![false; classes.len()])
        }
        None => Peer::Classes(pods_in(
            classes,
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
    classes: &[PodClass],
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
            .map(|ps| ps.iter().map(|p| np_peer(classes, p, ns)).collect()),
        ports: np_ports(ports),
    }
}

/// Compiles a NetworkPolicy; `policyTypes` defaults to Ingress, plus Egress when egress rules
/// exist.
pub(super) fn network_policy(classes: &[PodClass], np: &NetworkPolicy) -> Policy {
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
        subject: pods_in(
            classes,
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
                .map(|(i, r)| np_rule(classes, ns, i, r.from.as_ref(), r.ports.as_ref()))
                .collect()
        }),
        egress: has("Egress").then(|| {
            spec.egress
                .iter()
                .flatten()
                .enumerate()
                .map(|(i, r)| np_rule(classes, ns, i, r.to.as_ref(), r.ports.as_ref()))
                .collect()
        }),
    }
}

fn admin_selector(
    classes: &[PodClass],
    namespaces: Option<&LabelSelector>,
    pods: Option<&crate::snapshot::PodPeer>,
) -> Vec<bool> {
    match (namespaces, pods) {
        (Some(ns), _) => pods_in(classes, Some(ns), None, None),
        (None, Some(p)) => pods_in(
            classes,
            Some(&p.namespace_selector),
            Some(&p.pod_selector),
            None,
        ),
        (None, None) => vec![false; classes.len()],
    }
}

fn admin_peer(classes: &[PodClass], p: &AdminPeer) -> Vec<Peer> {
    let mut peers = Vec::new();
    if p.namespaces.is_some() || p.pods.is_some() {
        peers.push(Peer::Classes(admin_selector(
            classes,
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
                pods: vec![false; classes.len()],
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

fn admin_rules(classes: &[PodClass], rules: &[AdminRule], ingress: bool) -> Vec<Rule> {
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
                        .flat_map(|p| admin_peer(classes, p))
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
    classes: &[PodClass],
    id: String,
    priority: i32,
    subject: &AdminSubject,
    ingress: &[AdminRule],
    egress: &[AdminRule],
) -> Policy {
    Policy {
        id,
        priority,
        subject: admin_selector(classes, subject.namespaces.as_ref(), subject.pods.as_ref()),
        ingress: Some(admin_rules(classes, ingress, true)),
        egress: Some(admin_rules(classes, egress, false)),
    }
}
