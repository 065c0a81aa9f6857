//! Addresses that are never "internet": every block of the IANA IPv4 and IPv6 Special-Purpose
//! Address Registries that is not globally reachable, plus multicast and the reserved 240/4.
//!
//! Internet egress excepts them whatever the cluster profile says, `allowEgressTo` refuses them
//! (`allowPrivateEgressTo` opts in, with a reason) but for the documentation blocks, which route
//! nowhere and which examples use, and the audit proves no tenant reaches them unless its file
//! says so. Left out as globally reachable: AS112 (192.31.196.0/24,
//! 192.175.48.0/24), AMT (192.52.193.0/24), the deprecated 6to4 relay anycast (192.88.99.0/24),
//! 6to4 (2002::/16), NAT64's well-known prefix (64:ff9b::/96, which RFC 6052 forbids for private
//! IPv4) and 2001::/23, whose sub-blocks are mostly globally reachable (its benchmarking block
//! 2001:2::/48 is in). 192.0.0.0/24 is in whole: its two anycast addresses (PCP, TURN) are of no
//! use to a tenant.

use ipnet::IpNet;

/// A network that is never "internet", and what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NonPublicNetwork {
    /// The block.
    pub net: IpNet,
    /// What it is, with its RFC, such as `private (RFC 1918)`.
    pub name: &'static str,
}

impl NonPublicNetwork {
    /// Whether it is reserved for documentation: it routes nowhere, so `allowEgressTo` may name
    /// it (examples do) without opening anything.
    pub fn is_documentation(&self) -> bool {
        self.name.starts_with("documentation")
    }
}

const NON_PUBLIC: [(&str, &str); 26] = [
    ("0.0.0.0/8", "\"this network\" (RFC 791)"),
    ("10.0.0.0/8", "private (RFC 1918)"),
    ("100.64.0.0/10", "shared address space, CGNAT (RFC 6598)"),
    ("127.0.0.0/8", "loopback (RFC 1122)"),
    (
        "169.254.0.0/16",
        "link-local, cloud metadata 169.254.169.254 (RFC 3927)",
    ),
    ("172.16.0.0/12", "private (RFC 1918)"),
    ("192.0.0.0/24", "IETF protocol assignments (RFC 6890)"),
    ("192.0.2.0/24", "documentation TEST-NET-1 (RFC 5737)"),
    ("192.168.0.0/16", "private (RFC 1918)"),
    ("198.18.0.0/15", "benchmarking (RFC 2544)"),
    ("198.51.100.0/24", "documentation TEST-NET-2 (RFC 5737)"),
    ("203.0.113.0/24", "documentation TEST-NET-3 (RFC 5737)"),
    ("224.0.0.0/4", "multicast (RFC 5771)"),
    (
        "240.0.0.0/4",
        "reserved, limited broadcast (RFC 1112, RFC 919)",
    ),
    ("::/128", "unspecified (RFC 4291)"),
    ("::1/128", "loopback (RFC 4291)"),
    (
        "::ffff:0:0/96",
        "IPv4-mapped, write IPv4 addresses as IPv4 (RFC 4291)",
    ),
    ("64:ff9b:1::/48", "local-use NAT64 (RFC 8215)"),
    ("100::/64", "discard-only (RFC 6666)"),
    ("2001:2::/48", "benchmarking (RFC 5180)"),
    ("2001:db8::/32", "documentation (RFC 3849)"),
    ("3fff::/20", "documentation (RFC 9637)"),
    ("5f00::/16", "SRv6 SIDs (RFC 9602)"),
    (
        "fc00::/7",
        "unique local, cloud metadata fd00:ec2::254 (RFC 4193)",
    ),
    ("fe80::/10", "link-local (RFC 4291)"),
    ("ff00::/8", "multicast (RFC 4291)"),
];

/// Every non-public network, IPv4 then IPv6, in address order.
pub fn non_public_networks() -> Vec<NonPublicNetwork> {
    NON_PUBLIC
        .iter()
        .map(|(cidr, name)| NonPublicNetwork {
            net: cidr.parse().expect("built-in CIDRs are valid"),
            name,
        })
        .collect()
}

/// The non-public networks sharing an address with `net`.
pub fn non_public_overlapping(net: &IpNet) -> Vec<NonPublicNetwork> {
    non_public_networks()
        .into_iter()
        .filter(|n| overlaps(&n.net, net))
        .collect()
}

/// Whether `net` is IPv4-mapped (inside `::ffff:0:0/96`). Kubernetes parses such CIDRs as IPv4
/// and the kernel sends IPv4 packets to such addresses, so an IPv6 ipBlock cannot except them:
/// IPv4 rules cover them.
pub fn is_ipv4_mapped(net: &IpNet) -> bool {
    let mapped: IpNet = "::ffff:0:0/96".parse().expect("a valid CIDR");
    mapped.contains(net)
}

/// Whether two CIDRs share an address (CIDRs are either nested or disjoint).
pub(crate) fn overlaps(a: &IpNet, b: &IpNet) -> bool {
    a.contains(b) || b.contains(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_canonical_sorted_and_disjoint() {
        let all = non_public_networks();
        for pair in all.windows(2) {
            assert!(pair[0].net < pair[1].net, "{pair:?}");
            assert!(!overlaps(&pair[0].net, &pair[1].net), "{pair:?}");
        }
        assert!(all.iter().all(|n| n.net == n.net.trunc()));
    }

    #[test]
    fn metadata_services_and_broadcast_are_non_public() {
        for ip in [
            "169.254.169.254/32",
            "fd00:ec2::254/128",
            "255.255.255.255/32",
            "100.64.0.1/32",
            "::ffff:10.0.0.1/128",
        ] {
            let net: IpNet = ip.parse().unwrap();
            assert_eq!(non_public_overlapping(&net).len(), 1, "{ip}");
        }
        assert!(non_public_overlapping(&"8.8.8.0/24".parse().unwrap()).is_empty());
        let wide = non_public_overlapping(&"192.0.0.0/8".parse().unwrap());
        let names: Vec<String> = wide.iter().map(|n| n.net.to_string()).collect();
        assert_eq!(names, ["192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16"]);
    }
}
