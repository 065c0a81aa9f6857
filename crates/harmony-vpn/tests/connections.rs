//! The gateway's `wg show dump` mapped to tenants and members, and its samples turned into a
//! session log that survives restarts and crashes.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::{GATEWAY, gateway};
use harmony_vpn::connections::{Dump, KeyState, connections};
use harmony_vpn::keys::{PrivateKey, PublicKey};
use harmony_vpn::sessions::{Counters, SessionLine, SessionLog, SessionLogError, SessionTracker};
use harmony_vpn::{NewPeer, Registry};
use jiff::{SignedDuration, Timestamp};

const NOW: i64 = 1_800_000_000;

fn at(second: i64) -> Timestamp {
    Timestamp::from_second(second).unwrap()
}

fn key() -> PublicKey {
    PrivateKey::generate().public_key()
}

/// A registry with acme/alice and globex/dan active and acme/bob revoked.
fn registry(alice: PublicKey, bob: PublicKey, dan: PublicKey) -> Registry {
    let mut registry = Registry::empty(gateway(GATEWAY).pool);
    for (tenant, member, public_key) in [
        ("acme", "alice", alice),
        ("acme", "bob", bob),
        ("globex", "dan", dan),
    ] {
        let peer = NewPeer {
            tenant: tenant.into(),
            member: member.into(),
            public_key,
            preshared_key: None,
            by: "ops".into(),
        };
        registry.issue(peer, at(NOW - 3600)).unwrap();
    }
    registry
        .revoke("acme", "bob", "ops", "revoked", at(NOW - 60))
        .unwrap();
    registry
}

/// A peer line of `wg show <interface> dump`.
fn line(key: PublicKey, endpoint: &str, handshake: i64, rx: u64, tx: u64) -> String {
    format!("{key}\t(none)\t{endpoint}\t10.99.0.2/32\t{handshake}\t{rx}\t{tx}\t25\n")
}

/// The interface line: a private key, which nothing may quote.
fn interface_line(private: &str) -> String {
    format!("{private}\t{}\t51820\toff\n", key())
}

#[test]
fn dump_peers_are_mapped_to_tenants_and_members_with_alarms_first() {
    let (alice, bob, dan, stranger) = (key(), key(), key(), key());
    let private = PrivateKey::generate().expose_base64();
    let text = interface_line(&private)
        + &line(alice, "198.51.100.7:40000", NOW - 10, 1000, 2000)
        + &line(dan, "(none)", 0, 0, 0)
        + &line(bob, "198.51.100.8:40001", NOW - 400, 5, 6)
        + &line(stranger, "[2001:db8::1]:51000", NOW - 1, 7, 8);
    let dump = Dump::parse(&text);
    assert!(dump.problems.is_empty(), "{:?}", dump.problems);
    let found = connections(&dump.peers, &registry(alice, bob, dan), at(NOW));
    let summary: Vec<_> = found
        .iter()
        .map(|c| {
            (
                c.tenant.as_deref(),
                c.member.as_deref(),
                c.state,
                c.connected,
                c.alarm.is_some(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (None, None, KeyState::Unknown, true, true),
            (Some("acme"), Some("bob"), KeyState::Revoked, false, true),
            (Some("acme"), Some("alice"), KeyState::Active, true, false),
            (Some("globex"), Some("dan"), KeyState::Active, false, false),
        ]
    );
    let alice_row = &found[2];
    assert_eq!(
        alice_row.endpoint,
        Some("198.51.100.7:40000".parse().unwrap())
    );
    assert_eq!((alice_row.rx_bytes, alice_row.tx_bytes), (1000, 2000));
    assert_eq!(alice_row.address, Some("10.99.0.2".parse().unwrap()));
    assert!(found[1].alarm.as_ref().unwrap().contains("revoked"));
    assert_eq!(found[3].latest_handshake, None, "0 is never");
    let json = serde_json::to_string(&found).unwrap();
    assert!(!json.contains(&private));
}

#[test]
fn all_interfaces_dumps_carry_the_interface_name() {
    let alice = key();
    let private = PrivateKey::generate().expose_base64();
    let text = format!(
        "wg0\t{}wg0\t{}",
        interface_line(&private),
        line(alice, "(none)", 0, 1, 2)
    );
    let dump = Dump::parse(&text);
    assert!(dump.problems.is_empty(), "{:?}", dump.problems);
    assert_eq!(dump.peers[0].interface.as_deref(), Some("wg0"));
    assert_eq!(dump.peers[0].public_key, alice);
}

#[test]
fn malformed_lines_are_reported_by_number_and_skipped_without_quoting_secrets() {
    let alice = key();
    let private = PrivateKey::generate().expose_base64();
    let text = [
        format!("{private}\t51820\toff\n"),
        line(alice, "(none)", NOW - 5, 1, 2),
        "not-a-key\t(none)\t(none)\t(none)\t0\t0\t0\toff\n".to_string(),
        line(key(), "nowhere", 0, 0, 0),
        line(key(), "(none)", 0, 0, 0).replace("\t0\t0\t0\t", "\t0\tmany\t0\t"),
        "\n".to_string(),
        line(key(), "(none)", 0, 0, 0).replace("10.99.0.2/32", "10.99.0.2/32,bad"),
    ]
    .concat();
    let dump = Dump::parse(&text);
    assert_eq!(dump.peers.len(), 1, "the good line still counts");
    assert_eq!(dump.peers[0].public_key, alice);
    let lines: Vec<usize> = dump.problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, [1, 3, 4, 5, 7]);
    let messages: Vec<String> = dump.problems.iter().map(ToString::to_string).collect();
    assert!(
        messages[0].starts_with("line 1: 3 tab-separated fields"),
        "{messages:?}"
    );
    assert!(
        messages[1].contains("public key `not-a-key`"),
        "{messages:?}"
    );
    assert!(messages[2].contains("endpoint `nowhere`"), "{messages:?}");
    assert!(
        messages[3].contains("bytes received `many`"),
        "{messages:?}"
    );
    assert!(
        messages[4].contains("`bad` is not a network"),
        "{messages:?}"
    );
    assert!(messages.iter().all(|m| !m.contains(&private)));
}

fn sample(
    tracker: &mut SessionTracker,
    registry: &Registry,
    text: &str,
    now: i64,
) -> Vec<SessionLine> {
    let dump = Dump::parse(text);
    tracker.observe(&connections(&dump.peers, registry, at(now)), at(now))
}

#[test]
fn a_session_begins_on_a_fresh_handshake_and_ends_when_it_is_stale_or_removed() {
    let (alice, bob, dan) = (key(), key(), key());
    let registry = registry(alice, bob, dan);
    let mut tracker = SessionTracker::default();
    // Idle: alice has an old handshake and old traffic, dan never connected.
    let idle =
        line(alice, "198.51.100.7:40000", NOW - 1000, 500, 700) + &line(dan, "(none)", 0, 0, 0);
    assert!(sample(&mut tracker, &registry, &idle, NOW).is_empty());
    // Alice and dan connect.
    let busy = line(alice, "198.51.100.7:40000", NOW + 5, 800, 1000)
        + &line(dan, "203.0.113.9:5000", NOW + 8, 40, 60);
    let begun = sample(&mut tracker, &registry, &busy, NOW + 10);
    assert_eq!(begun.len(), 2);
    let SessionLine::Connected {
        peer,
        connected_at,
        counters,
    } = &begun[0]
    else {
        panic!("{begun:?}")
    };
    assert_eq!(peer.member.as_deref(), Some("alice"));
    assert_eq!(peer.from, Some("198.51.100.7:40000".parse().unwrap()));
    assert_eq!(*connected_at, at(NOW + 5));
    assert_eq!(
        *counters,
        Counters { rx: 500, tx: 700 },
        "counted from the idle sample"
    );
    assert_eq!(tracker.open_sessions(), 2);
    // Still going (a rekey handshake two minutes later): nothing new.
    let later = line(alice, "198.51.100.7:40000", NOW + 125, 900, 1100)
        + &line(dan, "203.0.113.9:5000", NOW + 128, 50, 70);
    assert!(sample(&mut tracker, &registry, &later, NOW + 130).is_empty());
    // Dan's peer is removed from the gateway; alice goes quiet past the reject time.
    let quiet = line(alice, "198.51.100.7:40000", NOW + 125, 950, 1150);
    let ended = sample(&mut tracker, &registry, &quiet, NOW + 400);
    assert_eq!(ended.len(), 2, "{ended:?}");
    for line in &ended {
        let SessionLine::Disconnected {
            peer,
            until,
            rx_bytes,
            tx_bytes,
            ..
        } = line
        else {
            panic!("{ended:?}")
        };
        match peer.member.as_deref() {
            Some("alice") => {
                assert_eq!(*until, at(NOW + 125) + SignedDuration::from_secs(180));
                assert_eq!((*rx_bytes, *tx_bytes), (450, 450));
            }
            Some("dan") => {
                assert_eq!(*until, at(NOW + 400).min(at(NOW + 128 + 180)));
                assert_eq!(
                    (*rx_bytes, *tx_bytes),
                    (50, 70),
                    "first seen live: counted from 0"
                );
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(tracker.open_sessions(), 0);
}

#[test]
fn an_unknown_key_is_a_session_with_its_alarm() {
    let (alice, bob, dan, stranger) = (key(), key(), key(), key());
    let registry = registry(alice, bob, dan);
    let mut tracker = SessionTracker::default();
    let begun = sample(
        &mut tracker,
        &registry,
        &line(stranger, "192.0.2.66:1", NOW - 2, 10, 10),
        NOW,
    );
    let SessionLine::Connected { peer, .. } = &begun[0] else {
        panic!("{begun:?}")
    };
    assert_eq!(peer.tenant, None);
    assert!(peer.alarm.as_ref().unwrap().contains("not in the registry"));
}

#[test]
fn the_log_is_private_survives_restarts_and_a_line_cut_by_a_crash() {
    let (alice, bob, dan) = (key(), key(), key());
    let registry = registry(alice, bob, dan);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sessions.jsonl");

    let (mut log, old, problems) = SessionLog::open(&path).unwrap();
    assert!(old.is_empty() && problems.is_empty());
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let mut tracker = SessionTracker::resume(&old);
    let begun = sample(
        &mut tracker,
        &registry,
        &line(alice, "198.51.100.7:40000", NOW - 5, 100, 200),
        NOW,
    );
    log.append(&begun).unwrap();
    drop(log);

    // A crash cut the next line short.
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(b"{\"event\":\"disconn");
    std::fs::write(&path, &bytes).unwrap();

    // Restarted: alice's session is taken up again, the cut line is reported and closed off.
    let (mut log, old, problems) = SessionLog::open(&path).unwrap();
    assert_eq!(old, begun);
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].line, 2);
    let mut tracker = SessionTracker::resume(&old);
    assert_eq!(tracker.open_sessions(), 1);
    let ended = sample(
        &mut tracker,
        &registry,
        &line(alice, "198.51.100.7:40000", NOW - 5, 400, 900),
        NOW + 600,
    );
    log.append(&ended).unwrap();
    let SessionLine::Disconnected {
        rx_bytes, tx_bytes, ..
    } = &ended[0]
    else {
        panic!("{ended:?}")
    };
    assert_eq!(
        (*rx_bytes, *tx_bytes),
        (300, 700),
        "counted from before the restart"
    );
    drop(log);

    let (_, all, problems) = SessionLog::open(&path).unwrap();
    assert_eq!(all, [begun, ended].concat());
    assert_eq!(problems.len(), 1, "only the cut line");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.ends_with('\n'));
    assert_eq!(text.lines().count(), 3);
}

#[test]
fn a_log_others_can_read_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sessions.jsonl");
    std::fs::write(&path, "").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let error = SessionLog::open(&path).unwrap_err();
    assert!(matches!(
        error,
        SessionLogError::NotPrivate { mode: 0o644, .. }
    ));
    assert!(error.to_string().contains("chmod 600"), "{error}");
}
