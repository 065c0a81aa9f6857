//! Issuing, rotating, revoking and listing peers through the `VpnGateway` capability.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::{file_store, members, open, request, snapshot};
use harmony_vpn::keys::{PresharedKey, PrivateKey};
use harmony_vpn::{AuditEvent, KnownMembers, PresharedKeyChoice, VpnError, VpnGateway};

#[test]
fn issues_lowest_addresses_and_renders_client_and_server() {
    let dir = tempfile::tempdir().unwrap();
    let vpn = open(dir.path());
    let alice = vpn
        .issue_peer(&members(), request("acme", "alice"))
        .unwrap();
    let bob = vpn.issue_peer(&members(), request("acme", "bob")).unwrap();
    assert_eq!(alice.record.address.ipv4.to_string(), "10.99.0.2");
    assert_eq!(bob.record.address.ipv6.unwrap().to_string(), "fd99::3");

    let client = alice.client_config.expose();
    assert!(
        client.contains("Address = 10.99.0.2/32, fd99::2/128\n"),
        "{client}"
    );
    assert!(
        client.contains("AllowedIPs = 192.0.2.10/32, 192.0.2.11/32\n"),
        "{client}"
    );
    assert!(!client.contains("0.0.0.0/0"));
    assert!(client.contains("Endpoint = 127.0.0.1:51820\n"));
    assert!(client.contains("PrivateKey = "));

    let server = vpn.server_config().unwrap();
    let server = server.expose();
    assert!(
        server.contains("Address = 10.99.0.1/24, fd99::1/64\n"),
        "{server}"
    );
    assert!(server.contains(&format!("PublicKey = {}\n", alice.record.public_key)));
    assert!(server.contains("AllowedIPs = 10.99.0.3/32, fd99::3/128\n"));
    let peer_set = vpn.peer_set().unwrap();
    assert!(!peer_set.expose().contains("Address"), "wg(8) syntax only");
    assert_eq!(peer_set.expose().matches("[Peer]").count(), 2);
}

#[test]
fn a_member_key_is_used_as_is_and_no_private_key_is_rendered() {
    let dir = tempfile::tempdir().unwrap();
    let vpn = open(dir.path());
    let own = PrivateKey::generate();
    let mut req = request("acme", "alice");
    req.public_key = Some(own.public_key());
    req.preshared_key = PresharedKeyChoice::Generate;
    let issued = vpn.issue_peer(&members(), req).unwrap();
    assert_eq!(issued.record.public_key, own.public_key());
    let client = issued.client_config.expose();
    assert!(!client.contains("\nPrivateKey"), "{client}");
    assert!(client.contains("PresharedKey = "));
    let registry = std::fs::read_to_string(file_store(&vpn).registry_path()).unwrap();
    assert!(!registry.contains(&own.expose_base64()));
}

#[test]
fn generated_private_keys_are_never_stored() {
    let dir = tempfile::tempdir().unwrap();
    let vpn = open(dir.path());
    let issued = vpn
        .issue_peer(&members(), request("acme", "alice"))
        .unwrap();
    let line = issued
        .client_config
        .expose()
        .lines()
        .find(|l| l.starts_with("PrivateKey = "))
        .unwrap()
        .to_owned();
    let key = line.trim_start_matches("PrivateKey = ");
    for (name, bytes) in snapshot(dir.path()) {
        assert!(!String::from_utf8_lossy(&bytes).contains(key), "{name}");
    }
    assert!(!format!("{issued:?}").contains(key));
}

#[test]
fn state_files_are_0600() {
    let root = tempfile::tempdir().unwrap();
    let state = root.path().join("state");
    let vpn = open(&state);
    let mut req = request("acme", "alice");
    req.preshared_key = PresharedKeyChoice::Generate;
    vpn.issue_peer(&members(), req).unwrap();
    vpn.issue_peer(&members(), request("acme", "bob")).unwrap();
    let files = snapshot(&state);
    assert_eq!(
        files.len(),
        5,
        "registry, backup, audit log, lock, server key"
    );
    for (name, _) in files {
        let mode = std::fs::metadata(&name).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{name}");
    }
    let dir_mode = std::fs::metadata(&state).unwrap().permissions().mode();
    assert_eq!(
        dir_mode & 0o077,
        0,
        "state dir must not be group/world readable"
    );
}

/// Runs `attempt`, asserts it fails with an error matching `expected` and that no state changed.
fn refused(attempt: impl FnOnce() -> Result<(), VpnError>, dir: &std::path::Path, expected: &str) {
    let before = snapshot(dir);
    let error = attempt().unwrap_err().to_string();
    assert!(error.contains(expected), "{error}");
    assert_eq!(snapshot(dir), before, "a refusal changed state: {error}");
}

#[test]
fn bad_requests_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let vpn = open(dir.path());
    let alice = vpn
        .issue_peer(&members(), request("acme", "alice"))
        .unwrap();
    let m = members();
    refused(
        || vpn.issue_peer(&m, request("initech", "alice")).map(drop),
        dir.path(),
        "tenant \"initech\" is not in the tenant files (known: acme, globex)",
    );
    refused(
        || vpn.issue_peer(&m, request("acme", "mallory")).map(drop),
        dir.path(),
        "\"mallory\" is not a member of tenant \"acme\" (members: alice, bob, carol)",
    );
    refused(
        || vpn.issue_peer(&m, request("acme", "alice")).map(drop),
        dir.path(),
        "already has an active peer",
    );
    let mut dup = request("acme", "bob");
    dup.public_key = Some(alice.record.public_key);
    refused(
        || vpn.issue_peer(&m, dup).map(drop),
        dir.path(),
        "is already registered for acme/alice",
    );
    let mut nobody = request("acme", "bob");
    nobody.by = " ".into();
    refused(|| vpn.issue_peer(&m, nobody).map(drop), dir.path(), "--by");
    refused(
        || vpn.revoke_peer("acme", "bob", "ops").map(drop),
        dir.path(),
        "acme/bob has no active peer",
    );
    refused(
        || vpn.rotate_peer(&m, request("acme", "carol")).map(drop),
        dir.path(),
        "acme/carol has no active peer",
    );
    // A batch with one bad request issues nothing.
    refused(
        || {
            vpn.issue_peers(&m, vec![request("acme", "bob"), request("acme", "alice")])
                .map(drop)
        },
        dir.path(),
        "already has an active peer",
    );
}

#[test]
fn a_revoked_key_is_never_accepted_again() {
    let dir = tempfile::tempdir().unwrap();
    let vpn = open(dir.path());
    let alice = vpn
        .issue_peer(&members(), request("acme", "alice"))
        .unwrap();
    vpn.revoke_peer("acme", "alice", "ops").unwrap();
    let mut again = request("acme", "alice");
    again.public_key = Some(alice.record.public_key);
    refused(
        || vpn.issue_peer(&members(), again).map(drop),
        dir.path(),
        "acme/alice (revoked)",
    );
}

#[test]
fn exhausted_pool_is_refused_and_revoked_addresses_come_back_last() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = common::GATEWAY
        .replace("10.99.0.0/24", "10.99.0.0/30")
        .replace("fd99::/64", "fd99::/126");
    let vpn = harmony_vpn::WireGuardGateway::open(common::gateway(&yaml), dir.path()).unwrap();
    assert_eq!(vpn.gateway().pool.capacity(), 1);
    let alice = vpn
        .issue_peer(&members(), request("acme", "alice"))
        .unwrap();
    refused(
        || vpn.issue_peer(&members(), request("acme", "bob")).map(drop),
        dir.path(),
        "all 1 addresses of 10.99.0.0/30 are held by active peers",
    );
    vpn.revoke_peer("acme", "alice", "ops").unwrap();
    let bob = vpn.issue_peer(&members(), request("acme", "bob")).unwrap();
    assert_eq!(
        bob.record.address, alice.record.address,
        "reused once the pool is full"
    );
}

#[test]
fn rotation_keeps_the_address_and_revokes_the_old_key() {
    let dir = tempfile::tempdir().unwrap();
    let vpn = open(dir.path());
    let old = vpn
        .issue_peer(&members(), request("acme", "alice"))
        .unwrap();
    let mut req = request("acme", "alice");
    req.preshared_key = PresharedKeyChoice::Given(PresharedKey::generate());
    let new = vpn.rotate_peer(&members(), req).unwrap();
    assert_eq!(new.record.address, old.record.address);
    assert_ne!(new.record.public_key, old.record.public_key);
    let peers = vpn.peers().unwrap();
    assert_eq!(peers.len(), 2);
    assert_eq!(peers[0].revoked.as_ref().unwrap().reason, "rotated");
    let server = vpn.server_config().unwrap();
    assert!(!server.expose().contains(&old.record.public_key.to_string()));
    assert!(server.expose().contains("PresharedKey = "));
}

#[test]
fn removed_members_and_tenants_are_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let vpn = open(dir.path());
    for (t, m) in [("acme", "alice"), ("acme", "bob"), ("globex", "dan")] {
        vpn.issue_peer(&members(), request(t, m)).unwrap();
    }
    let remaining = KnownMembers::from_pairs([("acme", "alice")]);
    let revoked = vpn.revoke_missing(&remaining, "ops").unwrap();
    let who: Vec<_> = revoked
        .iter()
        .map(|p| format!("{}/{}", p.tenant, p.member))
        .collect();
    assert_eq!(who, ["acme/bob", "globex/dan"]);
    assert!(
        revoked
            .iter()
            .all(|p| p.revoked.as_ref().unwrap().reason == "member removed")
    );
    let nft = vpn.nftables().unwrap();
    assert!(nft.contains("elements = { 10.99.0.2 }"), "{nft}");
    assert!(vpn.revoke_missing(&remaining, "ops").unwrap().is_empty());
}

#[test]
fn every_change_is_in_the_audit_log() {
    let dir = tempfile::tempdir().unwrap();
    let vpn = open(dir.path());
    vpn.issue_peer(&members(), request("acme", "alice"))
        .unwrap();
    vpn.rotate_peer(&members(), request("acme", "alice"))
        .unwrap();
    vpn.revoke_peer("acme", "alice", "carol").unwrap();
    let log = std::fs::read_to_string(file_store(&vpn).audit_path()).unwrap();
    let events: Vec<AuditEvent> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let actions: Vec<_> = events
        .iter()
        .map(|e| format!("{:?} by {}", e.action, e.by))
        .collect();
    assert_eq!(
        actions,
        ["Issue by ops", "Rotate by ops", "Revoke by carol"]
    );
    assert_eq!(events[1].previous_public_key, Some(events[0].public_key));
}

#[test]
fn a_corrupted_registry_is_refused_with_recovery_steps() {
    let dir = tempfile::tempdir().unwrap();
    let vpn = open(dir.path());
    vpn.issue_peer(&members(), request("acme", "alice"))
        .unwrap();
    vpn.issue_peer(&members(), request("acme", "bob")).unwrap();
    let path = file_store(&vpn).registry_path();
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, &text[..text.len() / 2]).unwrap();
    refused(
        || {
            vpn.issue_peer(&members(), request("acme", "carol"))
                .map(drop)
        },
        dir.path(),
        "is corrupted",
    );
    let message = vpn.peers().unwrap_err().to_string();
    assert!(
        message.contains("registry.json.bak (the previous version)"),
        "{message}"
    );
    assert!(
        message.contains("restore the file from backup"),
        "{message}"
    );
    // A registry that parses but contradicts itself is refused too.
    let doubled = text.replacen("\"member\": \"bob\"", "\"member\": \"alice\"", 1);
    std::fs::write(&path, doubled).unwrap();
    let message = vpn.peers().unwrap_err().to_string();
    assert!(
        message.contains("acme/alice has two active peers"),
        "{message}"
    );
}

#[test]
fn concurrent_writers_never_share_an_address() {
    let dir = tempfile::tempdir().unwrap();
    let mut pairs = Vec::new();
    for t in 0..4 {
        for m in 0..10 {
            pairs.push((format!("t{t}"), format!("m{m}")));
        }
    }
    let known = KnownMembers::from_pairs(pairs);
    std::thread::scope(|s| {
        for t in 0..4 {
            let (dir, known) = (dir.path(), &known);
            s.spawn(move || {
                // Each thread opens its own gateway, like separate harmony processes.
                let vpn = open(dir);
                for m in 0..10 {
                    vpn.issue_peer(known, request(&format!("t{t}"), &format!("m{m}")))
                        .unwrap();
                }
            });
        }
    });
    let peers = open(dir.path()).peers().unwrap();
    let mut addresses: Vec<_> = peers.iter().map(|p| p.address.ipv4).collect();
    addresses.sort();
    addresses.dedup();
    assert_eq!(addresses.len(), 40);
    let log = std::fs::read_to_string(dir.path().join("audit.log")).unwrap();
    assert_eq!(log.lines().count(), 40);
}

#[test]
fn the_server_key_is_generated_once_and_a_mismatching_file_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let first = open(dir.path()).server_key().public_key();
    assert_eq!(open(dir.path()).server_key().public_key(), first);
    let other = PrivateKey::generate().public_key();
    let yaml = common::GATEWAY.replace(
        "  mtu: 1420",
        &format!("  mtu: 1420\n  serverPublicKey: {other}"),
    );
    let error = harmony_vpn::WireGuardGateway::open(common::gateway(&yaml), dir.path())
        .unwrap_err()
        .to_string();
    assert!(error.contains("spec.serverPublicKey"), "{error}");
    let key_text = std::fs::read_to_string(dir.path().join("server.key")).unwrap();
    assert!(!error.contains(key_text.trim()));
}

#[test]
fn an_external_server_key_is_loaded_by_post_up() {
    let dir = tempfile::tempdir().unwrap();
    let key = PrivateKey::generate().public_key();
    let yaml = common::GATEWAY.replace(
        "  mtu: 1420",
        &format!("  mtu: 1420\n  serverPublicKey: {key}"),
    );
    let vpn = harmony_vpn::WireGuardGateway::open(common::gateway(&yaml), dir.path()).unwrap();
    let issued = vpn
        .issue_peer(&members(), request("acme", "alice"))
        .unwrap();
    assert!(
        issued
            .client_config
            .expose()
            .contains(&format!("PublicKey = {key}"))
    );
    let server = vpn.server_config().unwrap();
    assert!(
        server
            .expose()
            .contains("PostUp = wg set %i private-key /etc/wireguard/%i.key")
    );
    assert!(!dir.path().join("server.key").exists());
}
