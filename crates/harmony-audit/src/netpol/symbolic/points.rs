//! One representative per region: a port per interval the rules' ranges cut each protocol
//! into, an address per region the ipBlocks cut the pod networks into.

use std::collections::BTreeSet;
use std::net::IpAddr;

use ipnet::IpNet;
use k8s_openapi::api::networking::v1::NetworkPolicyPeer;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::Symbolic;
use super::ends::End;
pub(super) use crate::netpol::compile::parse_net;
use crate::netpol::conn::{Conn, PROTOCOLS};

/// A protocol and port.
pub(super) type Target = (&'static str, u16);

/// Whether `target` is `protocol` port `first..=last`.
pub(super) fn in_range(target: Target, protocol: &str, first: i32, last: i32) -> bool {
    protocol == target.0 && first <= i32::from(target.1) && i32::from(target.1) <= last
}

/// Whether `ip` is in `cidr` but none of `except`.
pub(super) fn in_block(cidr: &IpNet, except: &[IpNet], ip: IpAddr) -> bool {
    let ip = ip.to_canonical();
    cidr.contains(&ip) && !except.iter().any(|x| x.contains(&ip))
}

/// A peer's ipBlock, parsed.
pub(super) fn block_of(p: &NetworkPolicyPeer) -> Option<(IpNet, Vec<IpNet>)> {
    let b = p.ip_block.as_ref()?;
    let except = b
        .except
        .iter()
        .flatten()
        .filter_map(|e| parse_net(e))
        .collect();
    Some((parse_net(&b.cidr)?, except))
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
pub(super) fn ip_points(pod_networks: &[IpNet], blocks: &[(IpNet, Vec<IpNet>)]) -> Vec<IpAddr> {
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

impl<'a> Symbolic<'a> {
    /// One port per interval the rules' port ranges (and `skip`) cut each protocol into.
    pub(super) fn points(&self, a: &End<'a>, b: &End<'a>, skip: &Conn) -> Vec<Target> {
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
    pub(super) fn overlaps_pods(&self, b: &(IpNet, Vec<IpNet>)) -> bool {
        let bs = std::slice::from_ref(b);
        ip_points(&self.pod_networks, bs)
            .into_iter()
            .any(|ip| in_block(&b.0, &b.1, ip))
    }
}
