//! The tenant's NetworkPolicies: deny everything, then allow the namespace itself, DNS, the
//! internet (public unicast outside every cluster network), extra CIDRs and the allowed platform
//! sources.

use std::collections::{BTreeMap, BTreeSet};

use ipnet::IpNet;
use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer,
    NetworkPolicyPort, NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::namespaced;
use crate::facts::{ClusterFacts, PlatformPeer};
use crate::nonpublic::{is_ipv4_mapped, non_public_networks};
use crate::plan::{TENANT_LABEL, TenantObject};
use crate::score::{InternetEgress, PlatformSource, TenantScore};

/// The name of the policy letting a tenant's namespaces reach each other.
pub const SAME_TENANT: &str = "allow-same-tenant";

/// "Everywhere", per address family.
const EVERYWHERE: [&str; 2] = ["0.0.0.0/0", "::/0"];

/// Which directions a policy governs.
#[derive(Clone, Copy)]
enum Direction {
    Ingress,
    Egress,
    Both,
}

impl Direction {
    fn policy_types(self) -> Vec<String> {
        let types: &[&str] = match self {
            Self::Ingress => &["Ingress"],
            Self::Egress => &["Egress"],
            Self::Both => &["Ingress", "Egress"],
        };
        types.iter().map(|t| t.to_string()).collect()
    }
}

/// Name of the NetworkPolicy denying all traffic both ways, that the others open up.
pub const DEFAULT_DENY_POLICY: &str = "default-deny";

/// Every NetworkPolicy of `score`.
pub(super) fn policies(score: &TenantScore, facts: &ClusterFacts) -> Vec<TenantObject> {
    let isolation = &score.network_isolation;
    let mut policies = vec![
        policy(score, DEFAULT_DENY_POLICY, Direction::Both, vec![], vec![]),
        policy(
            score,
            "allow-same-namespace",
            Direction::Both,
            vec![from(vec![same_namespace()])],
            vec![to(vec![same_namespace()], None)],
        ),
    ];
    // An empty port list would open every port: without DNS ports there is no DNS policy.
    let dns_ports = dns_ports(facts);
    if !dns_ports.is_empty() {
        policies.push(policy(
            score,
            "allow-dns",
            Direction::Egress,
            vec![],
            vec![to(vec![platform(&facts.dns.peer)], Some(dns_ports))],
        ));
    }
    let cluster: Vec<IpNet> = facts.cluster_networks().copied().collect();
    if isolation.internet_egress == InternetEgress::Allow {
        let mut not_internet = cluster.clone();
        not_internet.extend(non_public_networks().into_iter().map(|n| n.net));
        let blocks = EVERYWHERE
            .iter()
            .filter_map(|net| ip_block(parse(net), &not_internet))
            .collect();
        policies.push(policy(
            score,
            "allow-internet-egress",
            Direction::Egress,
            vec![],
            vec![to(blocks, None)],
        ));
    }
    let private = isolation.allow_private_egress_to.iter().map(|p| &p.cidr);
    let extra: BTreeSet<IpNet> = isolation
        .allow_egress_to
        .iter()
        .chain(private)
        .map(|cidr| {
            cidr.parse::<IpNet>()
                .expect("a validated score has CIDRs in allowEgressTo and allowPrivateEgressTo")
                .trunc()
        })
        .collect();
    let blocks: Vec<NetworkPolicyPeer> = extra
        .into_iter()
        .filter_map(|net| ip_block(net, &cluster))
        .collect();
    if !blocks.is_empty() {
        policies.push(policy(
            score,
            "allow-egress-extra",
            Direction::Egress,
            vec![],
            vec![to(blocks, None)],
        ));
    }
    let sources: BTreeSet<PlatformSource> = isolation.allowed_sources().into_iter().collect();
    for source in sources {
        let peer = match source {
            PlatformSource::Ingress => &facts.ingress,
            PlatformSource::Monitoring => &facts.monitoring,
        };
        policies.push(policy(
            score,
            &format!("allow-from-{}", source.as_str()),
            Direction::Ingress,
            vec![from(vec![platform(peer)])],
            vec![],
        ));
    }
    policies
}

/// `allow-same-tenant`: traffic to and from every namespace labelled with the tenant, for a tenant
/// with several namespaces (the label guardrail keeps other tenants from wearing the label).
pub(super) fn same_tenant(score: &TenantScore) -> TenantObject {
    let tenant = tenant_namespaces(score.name());
    policy(
        score,
        SAME_TENANT,
        Direction::Both,
        vec![from(vec![tenant.clone()])],
        vec![to(vec![tenant], None)],
    )
}

/// The NetworkPolicies of the two-sided connections (`facts.connections`) `score` is part of:
/// `connection-to-<callee>` (egress to the callee's selected pods, in namespaces with its tenant
/// label) where it calls, `connection-from-<caller>` (ingress to its selected pods from the
/// caller's namespaces) where it is called; each on the connection's ports only.
pub(super) fn connections(score: &TenantScore, facts: &ClusterFacts) -> Vec<TenantObject> {
    let mut policies = Vec::new();
    for connection in &facts.connections {
        let ports = Some(
            connection
                .ports
                .iter()
                .map(|p| NetworkPolicyPort {
                    port: Some(IntOrString::Int(i32::from(p.port))),
                    protocol: Some(p.protocol.as_str().into()),
                    end_port: None,
                })
                .collect(),
        );
        let pods = LabelSelector {
            match_labels: Some(connection.pod_selector.match_labels.clone()),
            ..LabelSelector::default()
        };
        if connection.caller == score.name() {
            let callee = NetworkPolicyPeer {
                pod_selector: Some(pods.clone()),
                ..tenant_namespaces(&connection.callee)
            };
            policies.push(policy(
                score,
                &connection.egress_policy_name(),
                Direction::Egress,
                vec![],
                vec![to(vec![callee], ports.clone())],
            ));
        }
        if connection.callee == score.name() {
            let mut called = policy(
                score,
                &connection.ingress_policy_name(),
                Direction::Ingress,
                vec![NetworkPolicyIngressRule {
                    from: Some(vec![tenant_namespaces(&connection.caller)]),
                    ports,
                }],
                vec![],
            );
            if let TenantObject::NetworkPolicy(p) = &mut called {
                p.spec.as_mut().expect("set by policy").pod_selector = Some(pods);
            }
            policies.push(called);
        }
    }
    policies
}

/// Every namespace labelled with `tenant` (the label guardrail keeps other tenants from wearing
/// the label).
fn tenant_namespaces(tenant: &str) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        namespace_selector: Some(LabelSelector {
            match_labels: Some(BTreeMap::from([(
                TENANT_LABEL.to_string(),
                tenant.to_string(),
            )])),
            ..LabelSelector::default()
        }),
        ..NetworkPolicyPeer::default()
    }
}

/// A policy selecting every pod of the namespace.
fn policy(
    score: &TenantScore,
    name: &str,
    direction: Direction,
    ingress: Vec<NetworkPolicyIngressRule>,
    egress: Vec<NetworkPolicyEgressRule>,
) -> TenantObject {
    TenantObject::NetworkPolicy(NetworkPolicy {
        metadata: namespaced(score, name),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector::default()),
            policy_types: Some(direction.policy_types()),
            ingress: non_empty(ingress),
            egress: non_empty(egress),
        }),
    })
}

/// `None` for no rules, so that the field is left out.
fn non_empty<T>(rules: Vec<T>) -> Option<Vec<T>> {
    (!rules.is_empty()).then_some(rules)
}

/// An ingress rule from `peers`, on every port.
fn from(peers: Vec<NetworkPolicyPeer>) -> NetworkPolicyIngressRule {
    NetworkPolicyIngressRule {
        from: Some(peers),
        ports: None,
    }
}

/// An egress rule to `peers`.
fn to(
    peers: Vec<NetworkPolicyPeer>,
    ports: Option<Vec<NetworkPolicyPort>>,
) -> NetworkPolicyEgressRule {
    NetworkPolicyEgressRule {
        to: Some(peers),
        ports,
    }
}

/// Every pod of the tenant's own namespace.
fn same_namespace() -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        pod_selector: Some(LabelSelector::default()),
        ..NetworkPolicyPeer::default()
    }
}

/// The pods of a platform peer (all of them when its pod selector is empty).
fn platform(peer: &PlatformPeer) -> NetworkPolicyPeer {
    let selector = |labels: &BTreeMap<String, String>| LabelSelector {
        match_labels: Some(labels.clone()),
        ..LabelSelector::default()
    };
    NetworkPolicyPeer {
        namespace_selector: Some(selector(&peer.namespace_selector)),
        pod_selector: (!peer.pod_selector.is_empty()).then(|| selector(&peer.pod_selector)),
        ip_block: None,
    }
}

/// Each DNS port, over UDP then TCP.
fn dns_ports(facts: &ClusterFacts) -> Vec<NetworkPolicyPort> {
    let ports: BTreeSet<u16> = facts.dns.ports.iter().copied().collect();
    ports
        .into_iter()
        .flat_map(|port| {
            ["UDP", "TCP"].map(|protocol| NetworkPolicyPort {
                port: Some(IntOrString::Int(i32::from(port))),
                protocol: Some(protocol.into()),
                end_port: None,
            })
        })
        .collect()
}

/// `net` except the parts of `excluded` inside it, so that no allowance reaches another
/// namespace's pods, a service, a node or a non-public address; `None` when nothing is left.
///
/// The except list is minimal and sorted (adjacent blocks merged, none inside another) and each
/// entry is strictly inside `net`, as the API server requires.
fn ip_block(net: IpNet, excluded: &[IpNet]) -> Option<NetworkPolicyPeer> {
    let except = except_list(net, excluded);
    if except.contains(&net) {
        return None;
    }
    Some(NetworkPolicyPeer {
        ip_block: Some(IPBlock {
            cidr: net.to_string(),
            except: (!except.is_empty()).then(|| except.iter().map(IpNet::to_string).collect()),
        }),
        ..NetworkPolicyPeer::default()
    })
}

/// The addresses of `excluded` inside `net`, as the fewest CIDRs, sorted. IPv4-mapped ones are
/// left to the IPv4 block (Kubernetes reads them as IPv4).
fn except_list(net: IpNet, excluded: &[IpNet]) -> Vec<IpNet> {
    let inside: Vec<IpNet> = excluded
        .iter()
        .map(IpNet::trunc)
        .filter(|e| !is_ipv4_mapped(e))
        .filter_map(|e| {
            if net.contains(&e) {
                Some(e)
            } else {
                e.contains(&net).then_some(net)
            }
        })
        .collect();
    IpNet::aggregate(&inside)
}

/// A built-in CIDR.
fn parse(cidr: &str) -> IpNet {
    cidr.parse().expect("built-in CIDRs are valid")
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::networking::v1::NetworkPolicySpec;

    use super::*;
    use crate::score::PlatformSource;

    fn specs(score: &TenantScore, facts: &ClusterFacts) -> BTreeMap<String, NetworkPolicySpec> {
        policies(score, facts)
            .into_iter()
            .map(|object| match object {
                TenantObject::NetworkPolicy(p) => (p.metadata.name.unwrap(), p.spec.unwrap()),
                other => panic!("expected a NetworkPolicy, got {}", other.kind()),
            })
            .collect()
    }

    fn blocks(spec: &NetworkPolicySpec) -> Vec<IPBlock> {
        spec.egress.as_ref().unwrap()[0]
            .to
            .as_ref()
            .unwrap()
            .iter()
            .map(|peer| peer.ip_block.clone().unwrap())
            .collect()
    }

    #[test]
    fn every_policy_selects_all_pods_with_explicit_types() {
        let all = specs(&TenantScore::new("acme"), &ClusterFacts::kubernetes());
        let names: Vec<&str> = all.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "allow-dns",
                "allow-from-ingress",
                "allow-from-monitoring",
                "allow-internet-egress",
                "allow-same-namespace",
                "default-deny",
            ]
        );
        for (name, spec) in &all {
            assert_eq!(spec.pod_selector, Some(LabelSelector::default()), "{name}");
            let types = spec.policy_types.as_ref().unwrap();
            assert!(!types.is_empty(), "{name}");
            if spec.ingress.is_some() {
                assert!(types.contains(&"Ingress".into()), "{name}");
            }
            if spec.egress.is_some() {
                assert!(types.contains(&"Egress".into()), "{name}");
            }
        }
        let deny = &all["default-deny"];
        assert_eq!(
            deny.policy_types,
            Some(vec!["Ingress".into(), "Egress".into()])
        );
        assert!(deny.ingress.is_none() && deny.egress.is_none());
    }

    #[test]
    fn same_tenant_peers_are_the_namespaces_labelled_with_the_tenant() {
        let TenantObject::NetworkPolicy(p) = same_tenant(&TenantScore::new("acme")) else {
            panic!("expected a NetworkPolicy");
        };
        assert_eq!(p.metadata.name.as_deref(), Some(SAME_TENANT));
        let spec = p.spec.unwrap();
        let selector = LabelSelector {
            match_labels: Some(BTreeMap::from([(TENANT_LABEL.into(), "acme".into())])),
            ..LabelSelector::default()
        };
        let peer = &spec.ingress.as_ref().unwrap()[0].from.as_ref().unwrap()[0];
        assert_eq!(peer.namespace_selector.as_ref(), Some(&selector));
        assert!(peer.pod_selector.is_none() && peer.ip_block.is_none());
        let peer = &spec.egress.as_ref().unwrap()[0].to.as_ref().unwrap()[0];
        assert_eq!(peer.namespace_selector.as_ref(), Some(&selector));
    }

    #[test]
    fn same_namespace_peers_have_no_namespace_selector() {
        let all = specs(&TenantScore::new("acme"), &ClusterFacts::kubernetes());
        let spec = &all["allow-same-namespace"];
        let peer = &spec.ingress.as_ref().unwrap()[0].from.as_ref().unwrap()[0];
        assert_eq!(peer, &same_namespace());
        assert!(peer.namespace_selector.is_none());
        let peer = &spec.egress.as_ref().unwrap()[0].to.as_ref().unwrap()[0];
        assert_eq!(peer, &same_namespace());
    }

    fn nets(cidrs: &[&str]) -> Vec<IpNet> {
        cidrs.iter().map(|c| parse(c)).collect()
    }

    /// Checks the API server's rules and minimality on an ipBlock, and returns its except list.
    fn valid_except(block: &IPBlock) -> Vec<IpNet> {
        let cidr = parse(&block.cidr);
        let except = nets(
            &block
                .except
                .iter()
                .flatten()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        );
        for (i, e) in except.iter().enumerate() {
            assert!(
                cidr.contains(e) && e.prefix_len() > cidr.prefix_len(),
                "{e} not strictly inside {cidr}"
            );
            assert_eq!(e, &e.trunc(), "{e} has host bits");
            for other in &except[i + 1..] {
                assert!(e < other, "{except:?} is not sorted");
                assert!(!e.contains(other) && !other.contains(e), "{e} and {other}");
            }
        }
        assert_eq!(IpNet::aggregate(&except), except, "mergeable entries");
        except
    }

    fn internet_except(facts: &ClusterFacts) -> [Vec<IpNet>; 2] {
        let all = specs(&TenantScore::new("acme"), facts);
        let [v4, v6] = blocks(&all["allow-internet-egress"]).try_into().unwrap();
        assert_eq!((v4.cidr.as_str(), v6.cidr.as_str()), ("0.0.0.0/0", "::/0"));
        [valid_except(&v4), valid_except(&v6)]
    }

    /// A profile that knows its nodes: one small private network.
    fn narrow() -> ClusterFacts {
        ClusterFacts {
            node_networks: nets(&["192.168.10.0/24"]),
            ..ClusterFacts::okd()
        }
    }

    #[test]
    fn internet_egress_is_public_unicast_only_whatever_the_profile() {
        let v4 = [
            "0.0.0.0/8",
            "10.0.0.0/8",
            "100.64.0.0/10",
            "127.0.0.0/8",
            "169.254.0.0/16",
            "172.16.0.0/12",
            "192.0.0.0/24",
            "192.0.2.0/24",
            "192.168.0.0/16",
            "198.18.0.0/15",
            "198.51.100.0/24",
            "203.0.113.0/24",
            "224.0.0.0/3",
        ];
        let v6 = [
            "::/127",
            "64:ff9b:1::/48",
            "100::/64",
            "2001:2::/48",
            "2001:db8::/32",
            "3fff::/20",
            "5f00::/16",
            "fc00::/7",
            "fe80::/10",
            "ff00::/8",
        ];
        for facts in [ClusterFacts::kubernetes(), ClusterFacts::okd(), narrow()] {
            assert_eq!(internet_except(&facts), [nets(&v4), nets(&v6)], "{facts:?}");
        }
    }

    #[test]
    fn every_non_public_and_cluster_network_is_excepted() {
        let public_cluster = ClusterFacts {
            pod_networks: nets(&["10.128.0.0/14", "2600:1f00::/48"]),
            service_networks: nets(&["2600:1f00:1::/112", "2600:1f00:1::/112"]),
            node_networks: nets(&["198.41.0.0/24", "192.0.1.0/24"]),
            ..ClusterFacts::okd()
        };
        for facts in [ClusterFacts::kubernetes(), narrow(), public_cluster.clone()] {
            let [v4, v6] = internet_except(&facts);
            let excepted = |net: &IpNet| {
                let net = match net {
                    IpNet::V6(n) if is_ipv4_mapped(net) => IpNet::new(
                        n.addr().to_ipv4_mapped().unwrap().into(),
                        n.prefix_len() - 96,
                    )
                    .unwrap(),
                    _ => *net,
                };
                v4.iter().chain(&v6).any(|e| e.contains(&net))
            };
            // IPv4-mapped addresses are IPv4 ones: the non-public among them are checked below.
            for n in non_public_networks()
                .iter()
                .filter(|n| !is_ipv4_mapped(&n.net))
            {
                assert!(excepted(&n.net), "{} ({}) not excepted", n.net, n.name);
            }
            for net in facts.cluster_networks() {
                assert!(excepted(net), "cluster network {net} not excepted");
            }
            for ip in [
                "169.254.169.254",
                "fd00:ec2::254",
                "10.20.0.1",
                "100.64.0.1",
                "127.0.0.1",
                "224.0.0.1",
                "255.255.255.255",
                "::1",
                "::",
                "fe80::1",
                "::ffff:10.0.0.1",
            ] {
                assert!(
                    excepted(&parse(&format!(
                        "{ip}/{}",
                        if ip.contains(':') { 128 } else { 32 }
                    ))),
                    "{ip}"
                );
            }
            for ip in ["8.8.8.8/32", "2001:4860:4860::8888/128"] {
                assert!(!excepted(&parse(ip)), "{ip}");
            }
        }
        let [v4, v6] = internet_except(&public_cluster);
        assert!(v4.contains(&parse("198.41.0.0/24")));
        assert!(
            v4.contains(&parse("192.0.0.0/23")),
            "adjacent blocks merge: {v4:?}"
        );
        assert!(!v4.iter().any(|e| e.to_string().contains(':')));
        assert!(v6.contains(&parse("2600:1f00::/48")) && v6.contains(&parse("2600:1f00:1::/112")));
    }

    #[test]
    fn deny_removes_internet_egress_only() {
        let all = specs(
            &TenantScore::new("acme").deny_internet_egress(),
            &ClusterFacts::kubernetes(),
        );
        assert!(!all.contains_key("allow-internet-egress"));
        assert!(all.contains_key("allow-dns"));
        assert!(all.contains_key("default-deny"));
    }

    #[test]
    fn extra_egress_is_canonical_sorted_and_keeps_cluster_networks_out() {
        let score = TenantScore::new("acme")
            .allow_egress_to("203.0.113.7/24")
            .allow_egress_to("198.51.100.0/24")
            .allow_egress_to("203.0.113.0/24")
            .allow_egress_to("10.0.0.0/7")
            .allow_egress_to("10.1.0.0/16");
        let all = specs(&score, &ClusterFacts::kubernetes());
        let blocks = blocks(&all["allow-egress-extra"]);
        let cidrs: Vec<&str> = blocks.iter().map(|b| b.cidr.as_str()).collect();
        // 10.1.0.0/16 is all node network: nothing of it is left to allow.
        assert_eq!(cidrs, ["10.0.0.0/7", "198.51.100.0/24", "203.0.113.0/24"]);
        assert_eq!(valid_except(&blocks[0]), nets(&["10.0.0.0/8"]));
        assert_eq!(blocks[1].except, None);
        assert!(
            !specs(&TenantScore::new("acme"), &ClusterFacts::kubernetes())
                .contains_key("allow-egress-extra")
        );
    }

    #[test]
    fn private_opt_ins_join_the_extra_egress_policy() {
        let score = TenantScore::new("acme")
            .allow_egress_to("198.41.0.0/24")
            .allow_private_egress_to("10.20.0.0/24", "corporate backup server")
            .allow_private_egress_to("fd12:3456::/48", "on-premises registry");
        let all = specs(&score, &narrow());
        let blocks = blocks(&all["allow-egress-extra"]);
        let cidrs: Vec<&str> = blocks.iter().map(|b| b.cidr.as_str()).collect();
        assert_eq!(cidrs, ["10.20.0.0/24", "198.41.0.0/24", "fd12:3456::/48"]);
        assert!(blocks.iter().all(|b| b.except.is_none()));
        // The opt-in opens only the extra policy: internet egress still excepts it.
        let [v4, _] = internet_except(&narrow());
        assert!(v4.iter().any(|e| e.contains(&parse("10.20.0.0/24"))));
    }

    #[test]
    fn dns_ports_follow_the_flavor() {
        let ports = |facts: &ClusterFacts| -> Vec<(i32, String)> {
            let all = specs(&TenantScore::new("acme"), facts);
            all["allow-dns"].egress.as_ref().unwrap()[0]
                .ports
                .as_ref()
                .unwrap()
                .iter()
                .map(|p| match p.port.clone().unwrap() {
                    IntOrString::Int(n) => (n, p.protocol.clone().unwrap()),
                    IntOrString::String(s) => panic!("named port {s}"),
                })
                .collect()
        };
        let vanilla = ports(&ClusterFacts::kubernetes());
        assert_eq!(vanilla, [(53, "UDP".into()), (53, "TCP".into())]);
        let okd = ports(&ClusterFacts::okd());
        assert_eq!(
            okd,
            [
                (53, "UDP".into()),
                (53, "TCP".into()),
                (5353, "UDP".into()),
                (5353, "TCP".into())
            ]
        );
    }

    #[test]
    fn no_dns_ports_means_no_dns_policy_rather_than_every_port() {
        let mut facts = ClusterFacts::kubernetes();
        facts.dns.ports.clear();
        let all = specs(&TenantScore::new("acme"), &facts);
        assert!(!all.contains_key("allow-dns"));
        assert!(all.contains_key("default-deny"));
    }

    #[test]
    fn dns_peer_uses_namespace_and_pod_selectors() {
        let facts = ClusterFacts::kubernetes();
        let all = specs(&TenantScore::new("acme"), &facts);
        let peer = &all["allow-dns"].egress.as_ref().unwrap()[0]
            .to
            .as_ref()
            .unwrap()[0];
        assert_eq!(
            peer.namespace_selector
                .as_ref()
                .unwrap()
                .match_labels
                .as_ref(),
            Some(&facts.dns.peer.namespace_selector)
        );
        assert_eq!(
            peer.pod_selector.as_ref().unwrap().match_labels.as_ref(),
            Some(&facts.dns.peer.pod_selector)
        );
    }

    #[test]
    fn platform_sources_follow_allow_from() {
        let facts = ClusterFacts::okd();
        let all = specs(
            &TenantScore::new("acme").allow_from([PlatformSource::Monitoring]),
            &facts,
        );
        assert!(!all.contains_key("allow-from-ingress"));
        let peer = &all["allow-from-monitoring"].ingress.as_ref().unwrap()[0]
            .from
            .as_ref()
            .unwrap()[0];
        assert_eq!(
            peer.namespace_selector
                .as_ref()
                .unwrap()
                .match_labels
                .as_ref(),
            Some(&facts.monitoring.namespace_selector)
        );
        assert!(peer.pod_selector.is_none());
        let none = specs(&TenantScore::new("acme").allow_from([]), &facts);
        assert!(!none.keys().any(|k| k.starts_with("allow-from-")));
    }
}
