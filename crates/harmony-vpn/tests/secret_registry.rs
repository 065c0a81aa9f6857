//! The registry in a Secret, against the fake API server: round trip, concurrent writers (409
//! retry), corrupted content refused, audit archives under the size limit.

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::{GATEWAY, gateway, members, request};
use harmony_testkit::{FakeApiServer, FakeOptions, Gvr};
use harmony_vpn::cluster::{
    ARCHIVES_ANNOTATION, AUDIT_KEY, REGISTRY_KEY, REGISTRY_NAMESPACE, REGISTRY_SECRET,
};
use harmony_vpn::keys::PrivateKey;
use harmony_vpn::{
    NewPeer, PresharedKeyChoice, RegistryBackend, SecretStore, VpnError, VpnGateway,
    WireGuardGateway,
};
use serde_json::{Value, json};

fn fake() -> FakeApiServer {
    FakeApiServer::start(FakeOptions::default()).unwrap()
}

fn cluster_gateway(server: &FakeApiServer, key_dir: &std::path::Path) -> WireGuardGateway {
    let store = SecretStore::new(server.config());
    WireGuardGateway::with_backend(
        gateway(GATEWAY),
        RegistryBackend::Cluster(Box::new(store)),
        key_dir,
    )
    .unwrap()
}

fn secret(server: &FakeApiServer, name: &str) -> Option<Value> {
    server.object(&Gvr::core("secrets"), Some(REGISTRY_NAMESPACE), name)
}

/// A data key of a Secret, decoded.
fn data(secret: &Value, key: &str) -> String {
    let encoded = secret["data"][key].as_str().unwrap_or_default();
    String::from_utf8(STANDARD.decode(encoded).unwrap()).unwrap()
}

fn write_count(server: &FakeApiServer) -> usize {
    server.requests().iter().filter(|r| r.is_write()).count()
}

#[test]
fn issue_list_revoke_round_trip_in_a_managed_secret_without_private_keys() {
    let server = fake();
    let keys = tempfile::tempdir().unwrap();
    let vpn = cluster_gateway(&server, keys.path());
    let mut with_psk = request("acme", "alice");
    with_psk.preshared_key = PresharedKeyChoice::Generate;
    let alice = vpn.issue_peer(&members(), with_psk).unwrap();
    let bob = vpn.issue_peer(&members(), request("acme", "bob")).unwrap();
    let revoked = vpn.revoke_peer("acme", "bob", "ops").unwrap();
    assert_eq!(revoked.public_key, bob.record.public_key);

    // A second gateway (another harmony process) reads the same registry.
    let other = cluster_gateway(&server, keys.path());
    let peers = other.peers().unwrap();
    assert_eq!(peers.len(), 2);
    assert!(peers[0].is_active() && !peers[1].is_active());
    assert_eq!(peers[1].revoked.as_ref().unwrap().by, "ops");
    assert_eq!(peers[0].address, alice.record.address);

    let namespace = server
        .object(&Gvr::core("namespaces"), None, REGISTRY_NAMESPACE)
        .expect("harmony-system is created");
    assert_eq!(
        namespace["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "harmony"
    );
    let stored = secret(&server, REGISTRY_SECRET).expect("the registry Secret exists");
    assert_eq!(
        stored["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "harmony"
    );
    let audit = data(&stored, AUDIT_KEY);
    let actions: Vec<String> = audit
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["action"]
                .as_str()
                .unwrap()
                .into()
        })
        .collect();
    assert_eq!(actions, ["issue", "issue", "revoke"]);

    // No private key anywhere in the Secret, raw or decoded: neither the members' (generated
    // here, shown once in the client configs) nor the server's.
    let client_keys = [&alice, &bob].map(|p| private_key_of(p.client_config.expose()));
    let server_key = std::fs::read_to_string(keys.path().join(harmony_vpn::SERVER_KEY_FILE))
        .unwrap()
        .trim()
        .to_string();
    let everything = format!(
        "{stored}{}{}",
        data(&stored, REGISTRY_KEY),
        data(&stored, AUDIT_KEY)
    );
    for key in client_keys.iter().chain([&server_key]) {
        assert!(
            !everything.contains(key.as_str()),
            "a private key is in the Secret"
        );
    }
    // The preshared key must be there: the gateway's config needs it.
    assert!(data(&stored, REGISTRY_KEY).contains("presharedKeys"));
}

fn private_key_of(config: &str) -> String {
    let line = config
        .lines()
        .find(|l| l.starts_with("PrivateKey"))
        .expect("a generated key pair's config holds the private key");
    let key = line.split_once('=').unwrap().1.trim().to_string();
    PrivateKey::from_base64(&key).expect("a real key");
    key
}

#[test]
fn a_writer_that_loses_the_race_gets_409_reloads_and_lands_without_losing_a_peer() {
    let server = fake();
    let keys = tempfile::tempdir().unwrap();
    let winner = cluster_gateway(&server, keys.path());
    winner
        .issue_peer(&members(), request("acme", "alice"))
        .unwrap();
    let pool = winner.gateway().pool;
    let store = SecretStore::new(server.config());
    let mut runs = 0;
    let key = PrivateKey::generate().public_key();
    store
        .update(pool, |registry, now| {
            runs += 1;
            if runs == 1 {
                // Between this writer's read and its write, another writer lands.
                winner
                    .issue_peer(&members(), request("acme", "bob"))
                    .unwrap();
            }
            let peer = NewPeer {
                tenant: "globex".into(),
                member: "dan".into(),
                public_key: key,
                preshared_key: None,
                by: "ops".into(),
            };
            Ok(((), vec![registry.issue(peer, now)?]))
        })
        .unwrap();
    assert_eq!(runs, 2, "the change ran again on the reloaded registry");
    let conflicts: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.resource == "secrets" && r.verb == "update" && r.status == Some(409))
        .collect();
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    let peers = winner.peers().unwrap();
    let names: Vec<&str> = peers.iter().map(|p| p.member.as_str()).collect();
    assert_eq!(names, ["alice", "bob", "dan"]);
    let addresses: std::collections::BTreeSet<_> = peers.iter().map(|p| p.address.ipv4).collect();
    assert_eq!(addresses.len(), 3, "no address handed out twice");
}

#[test]
fn concurrent_threads_all_land() {
    let server = fake();
    let keys = tempfile::tempdir().unwrap();
    cluster_gateway(&server, keys.path()); // creates the server key once
    let pairs: Vec<(String, String)> = (0..4)
        .flat_map(|t| (0..5).map(move |m| (format!("t{t}"), format!("m{m}"))))
        .collect();
    let known = harmony_vpn::KnownMembers::from_pairs(pairs.clone());
    std::thread::scope(|scope| {
        for t in 0..4 {
            let (server, keys, known) = (&server, keys.path(), &known);
            scope.spawn(move || {
                let vpn = cluster_gateway(server, keys);
                for m in 0..5 {
                    vpn.issue_peer(known, request(&format!("t{t}"), &format!("m{m}")))
                        .unwrap();
                }
            });
        }
    });
    let peers = cluster_gateway(&server, keys.path()).peers().unwrap();
    assert_eq!(peers.len(), 20);
    let audit = data(&secret(&server, REGISTRY_SECRET).unwrap(), AUDIT_KEY);
    assert_eq!(audit.lines().count(), 20);
}

#[test]
fn a_corrupted_secret_is_refused_with_recovery_steps_and_nothing_is_written() {
    let server = fake();
    let keys = tempfile::tempdir().unwrap();
    let vpn = cluster_gateway(&server, keys.path());
    vpn.issue_peer(&members(), request("acme", "alice"))
        .unwrap();
    let mut stored = secret(&server, REGISTRY_SECRET).unwrap();
    stored["data"][REGISTRY_KEY] = json!(STANDARD.encode(b"{\"version\": 1, \"peers\": [tru"));
    server.insert(stored);
    server.clear_requests();
    let error = vpn
        .issue_peer(&members(), request("acme", "bob"))
        .unwrap_err();
    assert!(
        matches!(error, VpnError::CorruptedSecret { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    for needle in [
        "harmony-system/harmony-vpn-registry is corrupted",
        "changed nothing",
        "kubectl get secret -n harmony-system harmony-vpn-registry -o yaml",
        "kubectl replace -f",
    ] {
        assert!(message.contains(needle), "{needle}: {message}");
    }
    assert!(vpn.peers().is_err(), "reads refuse it too");
    assert_eq!(write_count(&server), 0, "{:?}", server.requests());
}

#[test]
fn old_audit_lines_move_to_archive_secrets_and_none_is_lost() {
    let server = fake();
    let keys = tempfile::tempdir().unwrap();
    let vpn = cluster_gateway(&server, keys.path()); // the server key
    let store = SecretStore::new(server.config()).with_size_limit(4096);
    let vpn = WireGuardGateway::with_backend(
        vpn.gateway().clone(),
        RegistryBackend::Cluster(Box::new(store)),
        keys.path(),
    )
    .unwrap();
    for _ in 0..6 {
        vpn.issue_peer(&members(), request("acme", "alice"))
            .unwrap();
        vpn.revoke_peer("acme", "alice", "ops").unwrap();
    }
    let stored = secret(&server, REGISTRY_SECRET).unwrap();
    let archives: u64 = stored["metadata"]["annotations"][ARCHIVES_ANNOTATION]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(archives >= 1, "the audit log outgrew 4096 bytes");
    let mut lines = Vec::new();
    for index in 1..=archives {
        let archive = secret(&server, &SecretStore::archive_name(index)).unwrap();
        assert_eq!(archive["immutable"], true);
        lines.extend(data(&archive, AUDIT_KEY).lines().map(String::from));
    }
    let kept = data(&stored, AUDIT_KEY);
    assert!(data(&stored, REGISTRY_KEY).len() + kept.len() <= 4096);
    lines.extend(kept.lines().map(String::from));
    let actions: Vec<String> = lines
        .iter()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["action"]
                .as_str()
                .unwrap()
                .into()
        })
        .collect();
    assert_eq!(
        actions,
        ["issue", "revoke"].repeat(6),
        "every event, once, in order"
    );
}

#[test]
fn a_registry_too_large_for_a_secret_is_refused_and_nothing_is_written() {
    let server = fake();
    let keys = tempfile::tempdir().unwrap();
    let store = SecretStore::new(server.config()).with_size_limit(100);
    let vpn = WireGuardGateway::with_backend(
        gateway(GATEWAY),
        RegistryBackend::Cluster(Box::new(store)),
        keys.path(),
    )
    .unwrap();
    let error = vpn
        .issue_peer(&members(), request("acme", "alice"))
        .unwrap_err();
    assert!(
        matches!(error, VpnError::RegistryTooLarge { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("--registry file"), "{error}");
    assert_eq!(write_count(&server), 0, "{:?}", server.requests());
    assert!(secret(&server, REGISTRY_SECRET).is_none());
}
