//! Seeded fault injection.

use std::time::Duration;

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

/// One kind of injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer `500 InternalError`; the request is not executed.
    Status500,
    /// Answer `503 ServiceUnavailable`; the request is not executed.
    Status503,
    /// Answer `429 TooManyRequests` with `Retry-After`; the request is not executed.
    TooManyRequests {
        /// Value of the `Retry-After` header, in seconds.
        retry_after_secs: u32,
    },
    /// Close the connection without answering; the request is not executed.
    DropConnection,
    /// Wait, then execute and answer normally.
    Latency(Duration),
}

/// When and how to inject faults. Requests to discovery and `/version` are never faulted.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultPlan {
    /// Seed of the generator: the same seed and request sequence give the same faults.
    pub seed: u64,
    /// Probability in `[0, 1]` that an eligible request is faulted.
    pub rate: f64,
    /// Faults to pick from, uniformly.
    pub kinds: Vec<Fault>,
    /// Only fault writes (create, update, patch, apply, delete), never reads.
    pub only_writes: bool,
}

/// A fault plan with its generator state.
#[derive(Debug)]
pub struct FaultInjector {
    plan: FaultPlan,
    rng: Xoshiro256PlusPlus,
}

impl FaultInjector {
    /// Starts the plan's generator from its seed.
    pub fn new(plan: FaultPlan) -> Self {
        let rng = Xoshiro256PlusPlus::seed_from_u64(plan.seed);
        Self { plan, rng }
    }

    /// Decides the fault for one resource request; the generator advances only for eligible requests.
    pub fn decide(&mut self, is_write: bool) -> Option<Fault> {
        if self.plan.kinds.is_empty() || (self.plan.only_writes && !is_write) {
            return None;
        }
        let roll: f64 = self.rng.random();
        let pick = self.rng.random_range(0..self.plan.kinds.len());
        (roll < self.plan.rate).then(|| self.plan.kinds[pick])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(seed: u64) -> FaultPlan {
        FaultPlan {
            seed,
            rate: 0.5,
            kinds: vec![Fault::Status500, Fault::Status503, Fault::DropConnection],
            only_writes: true,
        }
    }

    fn sequence(seed: u64) -> Vec<Option<Fault>> {
        let mut injector = FaultInjector::new(plan(seed));
        (0..64).map(|_| injector.decide(true)).collect()
    }

    #[test]
    fn same_seed_same_faults() {
        assert_eq!(sequence(7), sequence(7));
        assert_ne!(sequence(7), sequence(8));
        let faulted = sequence(7).iter().filter(|f| f.is_some()).count();
        assert!(
            (10..54).contains(&faulted),
            "rate 0.5 over 64 requests gave {faulted}"
        );
    }

    #[test]
    fn reads_are_spared_when_only_writes() {
        let mut injector = FaultInjector::new(FaultPlan {
            rate: 1.0,
            ..plan(1)
        });
        assert_eq!(injector.decide(false), None);
        assert!(injector.decide(true).is_some());
    }
}
