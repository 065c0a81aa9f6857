//! The tenant's NetworkPolicies: deny everything, then allow the namespace itself, DNS, the
//! internet (outside every cluster network), extra CIDRs and the allowed platform sources.

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
use crate::plan::TenantObject;
use crate::score::{InternetEgress, PlatformSource, TenantScore};

/// Link-local networks (cloud metadata services live there): never "internet".
const LINK_LOCAL: [&str; 2] = ["169.254.0.0/16", "fe80::/10"];
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

/// Every NetworkPolicy of `score`.
pub(super) fn policies(score: &TenantScore, facts: &ClusterFacts) -> Vec<TenantObject> {
    let isolation = &score.network_isolation;
    let mut policies = vec![
        policy(score, "default-deny", Direction::Both, vec![], vec![]),
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
    if isolation.internet_egress == InternetEgress::Allow {
        let blocks = EVERYWHERE.map(|net| ip_block(parse(net), facts));
        policies.push(policy(
            score,
            "allow-internet-egress",
            Direction::Egress,
            vec![],
            vec![to(blocks.into(), None)],
        ));
    }
    let extra: BTreeSet<IpNet> = isolation
        .allow_egress_to
        .iter()
        .map(|cidr| {
            cidr.parse::<IpNet>()
                .expect("a validated score has CIDRs in allowEgressTo")
                .trunc()
        })
        .collect();
    if !extra.is_empty() {
        let blocks = extra.into_iter().map(|net| ip_block(net, facts)).collect();
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

/// `net`, except every cluster and link-local network strictly inside it, so that no allowance
/// reaches another namespace's pods, a service or a node.
fn ip_block(net: IpNet, facts: &ClusterFacts) -> NetworkPolicyPeer {
    let link_local = LINK_LOCAL.map(parse);
    let except: BTreeSet<IpNet> = facts
        .cluster_networks()
        .chain(&link_local)
        .map(IpNet::trunc)
        .filter(|inner| net.contains(inner) && inner.prefix_len() > net.prefix_len())
        .collect();
    NetworkPolicyPeer {
        ip_block: Some(IPBlock {
            cidr: net.to_string(),
            except: (!except.is_empty()).then(|| except.iter().map(IpNet::to_string).collect()),
        }),
        ..NetworkPolicyPeer::default()
    }
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
    fn same_namespace_peers_have_no_namespace_selector() {
        let all = specs(&TenantScore::new("acme"), &ClusterFacts::kubernetes());
        let spec = &all["allow-same-namespace"];
        let peer = &spec.ingress.as_ref().unwrap()[0].from.as_ref().unwrap()[0];
        assert_eq!(peer, &same_namespace());
        assert!(peer.namespace_selector.is_none());
        let peer = &spec.egress.as_ref().unwrap()[0].to.as_ref().unwrap()[0];
        assert_eq!(peer, &same_namespace());
    }

    #[test]
    fn internet_egress_excepts_cluster_and_link_local_networks() {
        let facts = ClusterFacts::kubernetes();
        let all = specs(&TenantScore::new("acme"), &facts);
        let [v4, v6] = blocks(&all["allow-internet-egress"]).try_into().unwrap();
        assert_eq!(v4.cidr, "0.0.0.0/0");
        assert_eq!(v6.cidr, "::/0");
        let except = v4.except.unwrap();
        for net in facts.cluster_networks() {
            assert!(except.contains(&net.to_string()), "{net} not in {except:?}");
        }
        assert!(except.contains(&"169.254.0.0/16".to_string()));
        let mut sorted = except.clone();
        sorted.sort_by_key(|c| c.parse::<IpNet>().unwrap());
        sorted.dedup();
        assert_eq!(except, sorted);
        assert_eq!(v6.except.unwrap(), ["fe80::/10"]);
    }

    #[test]
    fn ipv6_cluster_networks_go_to_the_ipv6_block_only() {
        let facts = ClusterFacts {
            pod_networks: vec![parse("10.128.0.0/14"), parse("fd01::/48")],
            service_networks: vec![parse("fd02::/112"), parse("fd02::/112")],
            ..ClusterFacts::okd()
        };
        let all = specs(&TenantScore::new("acme"), &facts);
        let [v4, v6] = blocks(&all["allow-internet-egress"]).try_into().unwrap();
        assert!(!v4.except.unwrap().iter().any(|c| c.contains(':')));
        assert_eq!(v6.except.unwrap(), ["fd01::/48", "fd02::/112", "fe80::/10"]);
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
            .allow_egress_to("10.0.0.0/7");
        let all = specs(&score, &ClusterFacts::kubernetes());
        let blocks = blocks(&all["allow-egress-extra"]);
        let cidrs: Vec<&str> = blocks.iter().map(|b| b.cidr.as_str()).collect();
        assert_eq!(cidrs, ["10.0.0.0/7", "198.51.100.0/24", "203.0.113.0/24"]);
        assert_eq!(
            blocks[0].except.as_deref(),
            Some(
                &[
                    "10.0.0.0/8".to_string(),
                    "10.96.0.0/12".into(),
                    "10.244.0.0/16".into()
                ][..]
            )
        );
        assert_eq!(blocks[1].except, None);
        assert!(
            !specs(&TenantScore::new("acme"), &ClusterFacts::kubernetes())
                .contains_key("allow-egress-extra")
        );
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
