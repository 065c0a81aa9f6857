//! The VPN address pool and deterministic, conflict-free allocation of peer addresses.
//!
//! A pool `10.99.0.0/24` gives the gateway `10.99.0.1` and peers `10.99.0.2` to `10.99.0.254`
//! (the network and broadcast addresses are skipped). Peers are numbered by *slot*: slot 0 is the
//! first peer address. With an IPv6 pool, a peer gets the same slot in it, so both addresses of a
//! peer always go together.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::{Ipv4Net, Ipv6Net};
use serde::{Deserialize, Serialize};

/// Addresses before the first peer: the network address and the gateway.
const RESERVED_LOW: u32 = 2;

/// The addresses of one peer inside the tunnel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PeerAddress {
    /// The IPv4 address.
    pub ipv4: Ipv4Addr,
    /// The IPv6 address, when the pool has an IPv6 range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6: Option<Ipv6Addr>,
}

/// The VPN address pool of a gateway (validated: IPv4 prefix at most /30, IPv6 at least as large).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressPool {
    ipv4: Ipv4Net,
    ipv6: Option<Ipv6Net>,
}

impl AddressPool {
    /// A pool over `ipv4` (and `ipv6`); [`crate::VpnGatewayConfig::validate`] checks the sizes.
    pub(crate) fn new(ipv4: Ipv4Net, ipv6: Option<Ipv6Net>) -> Self {
        Self { ipv4, ipv6 }
    }

    /// The IPv4 range.
    pub fn ipv4(&self) -> Ipv4Net {
        self.ipv4
    }

    /// The IPv6 range, if any.
    pub fn ipv6(&self) -> Option<Ipv6Net> {
        self.ipv6
    }

    /// How many peers the pool can hold.
    pub fn capacity(&self) -> u32 {
        let size = 1u64 << (32 - self.ipv4.prefix_len());
        (size - u64::from(RESERVED_LOW) - 1) as u32
    }

    /// The gateway's own addresses (the first host of each range).
    pub fn gateway(&self) -> PeerAddress {
        PeerAddress {
            ipv4: Ipv4Addr::from(u32::from(self.ipv4.network()) + 1),
            ipv6: self
                .ipv6
                .map(|n| Ipv6Addr::from(u128::from(n.network()) + 1)),
        }
    }

    /// The addresses of `slot` (which must be below [`AddressPool::capacity`]).
    pub fn address(&self, slot: u32) -> PeerAddress {
        let offset = RESERVED_LOW + slot;
        PeerAddress {
            ipv4: Ipv4Addr::from(u32::from(self.ipv4.network()) + offset),
            ipv6: self
                .ipv6
                .map(|n| Ipv6Addr::from(u128::from(n.network()) + u128::from(offset))),
        }
    }

    /// The slot of an IPv4 peer address, or `None` when it is not a peer address of this pool.
    pub fn slot(&self, address: Ipv4Addr) -> Option<u32> {
        let offset = u32::from(address).checked_sub(u32::from(self.ipv4.network()))?;
        let slot = offset.checked_sub(RESERVED_LOW)?;
        (slot < self.capacity()).then_some(slot)
    }
}

/// Hands out slots: the lowest never-used slot first, then the lowest slot freed by a revocation.
///
/// Each allocation costs O(log n): the never-used cursor only moves forward and the sets are
/// B-trees, so issuing n peers is O(n log n).
#[derive(Debug, Clone)]
pub struct Allocator {
    capacity: u32,
    active: BTreeSet<u32>,
    ever_used: BTreeSet<u32>,
    reusable: BTreeSet<u32>,
    next_unused: u32,
}

impl Allocator {
    /// An allocator for `capacity` slots, `active` of them held by active peers and `retired` ones
    /// held once by revoked peers. Slots at or above the capacity are ignored.
    pub fn new(
        capacity: u32,
        active: impl IntoIterator<Item = u32>,
        retired: impl IntoIterator<Item = u32>,
    ) -> Self {
        let active: BTreeSet<u32> = active.into_iter().filter(|s| *s < capacity).collect();
        let mut ever_used = active.clone();
        ever_used.extend(retired.into_iter().filter(|s| *s < capacity));
        let reusable = ever_used.difference(&active).copied().collect();
        Self {
            capacity,
            active,
            ever_used,
            reusable,
            next_unused: 0,
        }
    }

    /// Takes the next slot, or `None` when every slot is held by an active peer.
    pub fn allocate(&mut self) -> Option<u32> {
        while self.next_unused < self.capacity && self.ever_used.contains(&self.next_unused) {
            self.next_unused += 1;
        }
        let slot = if self.next_unused < self.capacity {
            self.ever_used.insert(self.next_unused);
            self.next_unused
        } else {
            self.reusable.pop_first()?
        };
        self.active.insert(slot);
        Some(slot)
    }

    /// Gives a slot back (its peer was revoked); it is reused only once the pool is otherwise full.
    pub fn release(&mut self, slot: u32) {
        if self.active.remove(&slot) {
            self.reusable.insert(slot);
        }
    }

    /// How many slots active peers hold.
    pub fn active_count(&self) -> usize {
        self.active.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(v4: &str, v6: Option<&str>) -> AddressPool {
        AddressPool::new(v4.parse().unwrap(), v6.map(|n| n.parse().unwrap()))
    }

    #[test]
    fn skips_network_gateway_and_broadcast() {
        let p = pool("10.99.0.0/24", Some("fd99::/64"));
        assert_eq!(p.capacity(), 253);
        assert_eq!(p.gateway().ipv4, Ipv4Addr::new(10, 99, 0, 1));
        assert_eq!(p.address(0).ipv4, Ipv4Addr::new(10, 99, 0, 2));
        assert_eq!(p.address(0).ipv6, Some("fd99::2".parse().unwrap()));
        assert_eq!(p.address(252).ipv4, Ipv4Addr::new(10, 99, 0, 254));
        assert_eq!(p.slot(Ipv4Addr::new(10, 99, 0, 254)), Some(252));
        assert_eq!(p.slot(Ipv4Addr::new(10, 99, 0, 255)), None);
        assert_eq!(p.slot(Ipv4Addr::new(10, 99, 0, 1)), None);
    }

    #[test]
    fn prefers_never_used_slots_then_the_lowest_revoked() {
        let mut a = Allocator::new(4, [], []);
        assert_eq!(a.allocate(), Some(0));
        assert_eq!(a.allocate(), Some(1));
        a.release(0);
        assert_eq!(a.allocate(), Some(2));
        assert_eq!(a.allocate(), Some(3));
        assert_eq!(
            a.allocate(),
            Some(0),
            "reused only when otherwise exhausted"
        );
        assert_eq!(a.allocate(), None);
        assert_eq!(a.active_count(), 4);
    }
}
