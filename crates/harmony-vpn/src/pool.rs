//! Deterministic, conflict-free allocation of peer addresses in a gateway's [`AddressPool`] (the
//! pool and its slots are the domain's, [`harmony_tenant::vpn`]).

use std::collections::BTreeSet;

pub use harmony_tenant::vpn::{AddressPool, PeerAddress};

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
