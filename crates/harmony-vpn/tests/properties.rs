//! Property tests: address allocation and crash safety of the registry.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{open, request};
use harmony_vpn::{Allocator, KnownMembers, VpnGateway};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Issue,
    /// Revoke the n-th active slot (modulo the active count).
    Revoke(usize),
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(
        prop_oneof![3 => Just(Op::Issue), 1 => any::<usize>().prop_map(Op::Revoke)],
        0..120,
    )
}

/// The rule, stated naively: lowest never-used slot, else lowest free slot.
fn reference(capacity: u32, active: &BTreeSet<u32>, ever: &BTreeSet<u32>) -> Option<u32> {
    (0..capacity)
        .find(|s| !ever.contains(s))
        .or_else(|| (0..capacity).find(|s| !active.contains(s)))
}

proptest! {
    #[test]
    fn allocation_is_in_the_pool_never_overlaps_and_follows_the_rule(
        capacity in 1u32..40,
        ops in ops(),
    ) {
        let mut allocator = Allocator::new(capacity, [], []);
        let (mut active, mut ever) = (BTreeSet::new(), BTreeSet::new());
        for op in ops {
            match op {
                Op::Issue => {
                    let expected = reference(capacity, &active, &ever);
                    let got = allocator.allocate();
                    prop_assert_eq!(got, expected);
                    if let Some(slot) = got {
                        prop_assert!(slot < capacity);
                        prop_assert!(active.insert(slot), "slot {} handed out twice", slot);
                        ever.insert(slot);
                    }
                }
                Op::Revoke(n) if !active.is_empty() => {
                    let slot = *active.iter().nth(n % active.len()).unwrap();
                    active.remove(&slot);
                    allocator.release(slot);
                }
                Op::Revoke(_) => {}
            }
            prop_assert_eq!(allocator.active_count(), active.len());
            // Stable across runs: an allocator rebuilt from the state allocates the same next slot.
            let retired: Vec<u32> = ever.difference(&active).copied().collect();
            let mut rebuilt = Allocator::new(capacity, active.iter().copied(), retired);
            prop_assert_eq!(rebuilt.allocate(), allocator.clone().allocate());
        }
    }
}

fn crash_members() -> KnownMembers {
    KnownMembers::from_pairs((0..10_000).map(|i| ("acme", format!("m{i}"))))
}

/// Child mode of the crash test: issues peers until killed, printing each one once issued.
#[test]
fn crash_child_issues_until_killed() {
    let Ok(state) = std::env::var("HARMONY_VPN_CRASH_STATE") else {
        return; // only runs as the child of `registry_survives_being_killed_mid_write`
    };
    let vpn = open(state.as_ref());
    let known = crash_members();
    let start = vpn.peers().unwrap().len();
    for i in start..10_000 {
        let issued = vpn
            .issue_peer(&known, request("acme", &format!("m{i}")))
            .unwrap();
        println!("{}", issued.record.public_key);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]
    /// Kills a writer (SIGKILL) at random points, several times in a row: the registry always
    /// loads, and every peer the writer reported as issued is in it.
    #[test]
    fn registry_survives_being_killed_mid_write(delays in prop::collection::vec(20u64..150, 3)) {
        let dir = tempfile::tempdir().unwrap();
        let mut reported = BTreeSet::new();
        for delay in delays {
            let mut child = Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "crash_child_issues_until_killed", "--nocapture", "--test-threads=1"])
                .env("HARMONY_VPN_CRASH_STATE", dir.path())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let stdout = child.stdout.take().unwrap();
            let (lines, received) = std::sync::mpsc::channel();
            let reader = std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    let _ = lines.send(line);
                }
            });
            // The delay counts from the writer's first issued peer, not from its start, so a
            // loaded machine still kills it in the middle of its writes.
            let mut early = Vec::new();
            while let Ok(line) = received.recv_timeout(Duration::from_secs(60)) {
                let issued = line.len() == 44;
                early.push(line);
                if issued {
                    break;
                }
            }
            std::thread::sleep(Duration::from_millis(delay));
            child.kill().unwrap();
            child.wait().unwrap();
            reader.join().unwrap();
            reported.extend(early.into_iter().chain(received.try_iter()).filter(|l| l.len() == 44));
            let peers = open(dir.path()).peers().unwrap();
            let stored: BTreeSet<String> = peers.iter().map(|p| p.public_key.to_string()).collect();
            for key in &reported {
                prop_assert!(stored.contains(key), "issued peer {} lost", key);
            }
            let addresses: BTreeSet<_> = peers.iter().map(|p| p.address).collect();
            prop_assert_eq!(addresses.len(), peers.len());
        }
        prop_assert!(!reported.is_empty(), "the writer never got to issue: the test proved nothing");
    }
}
