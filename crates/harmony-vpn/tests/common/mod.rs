//! Fixtures shared by the integration tests.
#![allow(dead_code)] // each test binary uses part of it

use std::path::Path;

use harmony_vpn::{
    Gateway, KnownMembers, PeerRequest, PresharedKeyChoice, RegistryBackend, RegistryStore,
    VpnGatewayConfig, WireGuardGateway,
};

pub const GATEWAY: &str = "\
apiVersion: harmony.nationtech.io/v1alpha1
kind: VpnGateway
metadata:
  name: prod
spec:
  endpoint: 127.0.0.1:51820
  addressPool:
    ipv4: 10.99.0.0/24
    ipv6: fd99::/64
  reachable:
    - address: 192.0.2.10
    - address: 192.0.2.11
      ports: [443]
  mtu: 1420
";

pub fn gateway(yaml: &str) -> Gateway {
    VpnGatewayConfig::parse("test.yaml", yaml).unwrap()
}

pub fn open(state: &Path) -> WireGuardGateway {
    WireGuardGateway::open(gateway(GATEWAY), state).unwrap()
}

/// The file registry of a gateway opened with [`open`].
pub fn file_store(vpn: &WireGuardGateway) -> &RegistryStore {
    match vpn.backend() {
        RegistryBackend::File(store) => store,
        other => panic!("expected a file registry, got {other:?}"),
    }
}

pub fn members() -> KnownMembers {
    KnownMembers::from_pairs([
        ("acme", "alice"),
        ("acme", "bob"),
        ("acme", "carol"),
        ("globex", "dan"),
    ])
}

pub fn request(tenant: &str, member: &str) -> PeerRequest {
    PeerRequest {
        tenant: tenant.into(),
        member: member.into(),
        public_key: None,
        preshared_key: PresharedKeyChoice::None,
        by: "ops".into(),
    }
}

/// Every file under `dir` as (name, bytes).
pub fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().path())
                .filter(|p| p.is_file())
                .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}
