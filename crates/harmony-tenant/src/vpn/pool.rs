//! The VPN address pool of a gateway, and the peer addresses it numbers by *slot*.
//!
//! A pool `10.99.0.0/24` gives the gateway `10.99.0.1` and peers `10.99.0.2` to `10.99.0.254`
//! (the network and broadcast addresses are skipped): slot 0 is the first peer address. With an
//! IPv6 pool, a peer gets the same slot in it, so both addresses of a peer always go together.

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
    /// A pool over `ipv4` (and `ipv6`); [`super::VpnGatewayConfig::validate`] checks the sizes.
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
}
