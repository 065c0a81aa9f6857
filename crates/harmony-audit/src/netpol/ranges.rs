//! Exact reachability of address ranges. The CIDRs the policies name cut the address space into
//! intervals on each of which every ipBlock matches all addresses or none, so the verdict for one
//! address of an interval is the verdict for all of it: no sampling.

use std::collections::BTreeSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Bound::{Excluded, Unbounded};

use ipnet::{IpNet, Ipv4Subnets, Ipv6Subnets};

use super::classes::Endpoint;
use super::eval::{Network, Verdict};

/// An address as (is IPv6, number): one order over both families.
type Point = (bool, u128);

/// An inclusive range of addresses of one family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddrRange {
    /// Whether it is IPv6.
    v6: bool,
    first: u128,
    last: u128,
}

impl AddrRange {
    /// Every address of `net`.
    pub fn of(net: &IpNet) -> Self {
        let n = |ip: IpAddr| match ip {
            IpAddr::V4(a) => u128::from(u32::from(a)),
            IpAddr::V6(a) => u128::from(a),
        };
        Self {
            v6: matches!(net, IpNet::V6(_)),
            first: n(net.network()),
            last: n(net.broadcast()),
        }
    }

    /// Whether it shares an address with `other`.
    pub fn overlaps(&self, other: &AddrRange) -> bool {
        self.v6 == other.v6 && self.first <= other.last && other.first <= self.last
    }

    fn contains(&self, (v6, n): Point) -> bool {
        self.v6 == v6 && self.first <= n && n <= self.last
    }

    /// The fewest CIDRs covering exactly this range.
    pub fn cidrs(&self) -> Vec<IpNet> {
        if self.v6 {
            let (a, b) = (Ipv6Addr::from(self.first), Ipv6Addr::from(self.last));
            Ipv6Subnets::new(a, b, 0).map(IpNet::V6).collect()
        } else {
            let v4 = |n: u128| Ipv4Addr::from(u32::try_from(n).expect("an IPv4 address"));
            Ipv4Subnets::new(v4(self.first), v4(self.last), 0)
                .map(IpNet::V4)
                .collect()
        }
    }

    fn first_addr(&self) -> IpAddr {
        if self.v6 {
            IpAddr::V6(Ipv6Addr::from(self.first))
        } else {
            IpAddr::V4(Ipv4Addr::from(
                u32::try_from(self.first).expect("an IPv4 address"),
            ))
        }
    }
}

impl fmt::Display for AddrRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cidrs: Vec<String> = self.cidrs().iter().map(IpNet::to_string).collect();
        f.write_str(&cidrs.join(", "))
    }
}

impl Network {
    /// The addresses in `within` but in none of `except` that pod class `class` may open some
    /// connection to, as maximal ranges, each with the verdict (and evidence) for all of it.
    pub fn reachable_addresses(
        &self,
        class: usize,
        within: &[IpNet],
        except: &[IpNet],
    ) -> Vec<(AddrRange, Verdict)> {
        let except: Vec<AddrRange> = except.iter().map(AddrRange::of).collect();
        let cuts: BTreeSet<Point> = self
            .egress_blocks(class)
            .chain(within)
            .map(AddrRange::of)
            .chain(except.iter().copied())
            .flat_map(|r| [Some(r.first), r.last.checked_add(1)].map(|n| n.map(|n| (r.v6, n))))
            .flatten()
            .collect();
        let mut out: Vec<(AddrRange, Verdict)> = Vec::new();
        for net in IpNet::aggregate(&within.to_vec()) {
            let whole = AddrRange::of(&net);
            let mut first = whole.first;
            loop {
                let last = cuts
                    .range((Excluded((whole.v6, first)), Unbounded))
                    .next()
                    .filter(|&&(v6, n)| v6 == whole.v6 && n <= whole.last)
                    .map_or(whole.last, |&(_, n)| n - 1);
                let part = AddrRange {
                    first,
                    last,
                    ..whole
                };
                if !except.iter().any(|e| e.contains((part.v6, part.first))) {
                    let v = self.explain(Endpoint::Class(class), Endpoint::Ip(part.first_addr()));
                    if !v.conn.is_empty() {
                        match out.last_mut() {
                            Some((r, seen))
                                if *seen == v && r.v6 == part.v6 && r.last + 1 == part.first =>
                            {
                                r.last = part.last
                            }
                            _ => out.push((part, v)),
                        }
                    }
                }
                if last == whole.last {
                    break;
                }
                first = last + 1;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    #[test]
    fn ranges_print_as_their_fewest_cidrs() {
        let r = AddrRange {
            v6: false,
            first: u128::from(u32::from(Ipv4Addr::new(10, 0, 0, 0))),
            last: u128::from(u32::from(Ipv4Addr::new(10, 0, 2, 255))),
        };
        assert_eq!(r.to_string(), "10.0.0.0/23, 10.0.2.0/24");
        assert_eq!(AddrRange::of(&net("::/0")).to_string(), "::/0");
        assert!(AddrRange::of(&net("10.0.0.0/8")).overlaps(&AddrRange::of(&net("10.1.0.0/16"))));
        assert!(!AddrRange::of(&net("10.0.0.0/8")).overlaps(&AddrRange::of(&net("::/0"))));
    }
}
