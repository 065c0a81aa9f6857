//! A real WireGuard handshake, in memory (defguard_boringtun), between a generated client config
//! and the generated server config, with data packets both ways through the tunnel; and a revoked
//! peer's handshake failing against the regenerated server config.

mod common;

use std::net::{IpAddr, Ipv4Addr};

use common::{members, open, request};
use defguard_boringtun::noise::handshake::parse_handshake_anon;
use defguard_boringtun::noise::{Packet, Tunn, TunnResult};
use defguard_boringtun::x25519::{PublicKey as XPublic, StaticSecret};
use harmony_vpn::keys::{PresharedKey, PrivateKey, PublicKey};
use harmony_vpn::{PresharedKeyChoice, VpnGateway};
use ipnet::IpNet;

/// The `Key = value` lines of each section of a wg-quick config, comments dropped.
fn sections(config: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut out: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for line in config.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('[') {
            out.push((line.to_owned(), Vec::new()));
        } else {
            let (k, v) = line.split_once(" = ").expect("Key = value");
            out.last_mut().unwrap().1.push((k.to_owned(), v.to_owned()));
        }
    }
    out
}

fn get<'a>(section: &'a [(String, String)], key: &str) -> Option<&'a str> {
    section
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn nets(list: &str) -> Vec<IpNet> {
    list.split(", ").map(|n| n.parse().unwrap()).collect()
}

fn secret(text: &str) -> StaticSecret {
    StaticSecret::from(*PrivateKey::from_base64(text).unwrap().as_bytes())
}

fn public(text: &str) -> XPublic {
    XPublic::from(*text.parse::<PublicKey>().unwrap().as_bytes())
}

fn psk(text: Option<&str>) -> Option<[u8; 32]> {
    text.map(|t| *PresharedKey::from_base64(t).unwrap().as_bytes())
}

/// The client side, built only from its config.
struct Client {
    tunn: Tunn,
    address: Ipv4Addr,
    allowed: Vec<IpNet>,
}

fn client(config: &str) -> Client {
    let s = sections(config);
    assert_eq!(s.len(), 2, "one interface, one peer");
    let (iface, peer) = (&s[0].1, &s[1].1);
    let address = nets(get(iface, "Address").unwrap())[0].addr();
    let IpAddr::V4(address) = address else {
        panic!()
    };
    Client {
        tunn: Tunn::new(
            secret(get(iface, "PrivateKey").unwrap()),
            public(get(peer, "PublicKey").unwrap()),
            psk(get(peer, "PresharedKey")),
            None,
            1,
            None,
        ),
        address,
        allowed: nets(get(peer, "AllowedIPs").unwrap()),
    }
}

/// The server as WireGuard runs it from its config: the handshake's static key picks the
/// `[Peer]`; no matching peer, no session.
struct Server {
    private: StaticSecret,
    peers: Vec<(XPublic, Option<[u8; 32]>, Vec<IpNet>)>,
}

fn server(config: &str) -> Server {
    let s = sections(config);
    assert_eq!(s[0].0, "[Interface]");
    Server {
        private: secret(get(&s[0].1, "PrivateKey").unwrap()),
        peers: s[1..]
            .iter()
            .map(|(_, p)| {
                (
                    public(get(p, "PublicKey").unwrap()),
                    psk(get(p, "PresharedKey")),
                    nets(get(p, "AllowedIPs").unwrap()),
                )
            })
            .collect(),
    }
}

impl Server {
    /// Answers a handshake initiation: `(tunnel, response, peer's AllowedIPs)`, or why not.
    fn accept(&self, init: &[u8]) -> Result<(Tunn, Vec<u8>, Vec<IpNet>), String> {
        let Ok(Packet::HandshakeInit(h)) = Tunn::parse_incoming_packet(init) else {
            return Err("not a handshake initiation".into());
        };
        let me = XPublic::from(&self.private);
        let half = parse_handshake_anon(&self.private, &me, &h).map_err(|e| format!("{e:?}"))?;
        let (key, psk, allowed) = self
            .peers
            .iter()
            .find(|(k, _, _)| k.as_bytes() == &half.peer_static_public)
            .ok_or("unknown peer: no [Peer] with this public key")?;
        let mut tunn = Tunn::new(self.private.clone(), *key, *psk, None, 2, None);
        let mut buf = vec![0u8; 2048];
        match tunn.decapsulate(None, init, &mut buf) {
            TunnResult::WriteToNetwork(response) => {
                let response = response.to_vec();
                Ok((tunn, response, allowed.clone()))
            }
            other => Err(format!("{other:?}")),
        }
    }
}

/// A minimal IPv4/UDP packet.
fn ipv4_packet(src: Ipv4Addr, dst: Ipv4Addr, payload: &[u8]) -> Vec<u8> {
    let total = 20 + 8 + payload.len();
    let mut p = vec![0u8; total];
    p[0] = 0x45;
    p[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    p[8] = 64;
    p[9] = 17;
    p[12..16].copy_from_slice(&src.octets());
    p[16..20].copy_from_slice(&dst.octets());
    p[20..22].copy_from_slice(&40000u16.to_be_bytes());
    p[22..24].copy_from_slice(&6443u16.to_be_bytes());
    p[24..26].copy_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    p[28..].copy_from_slice(payload);
    p
}

/// A packet delivered to the tunnel interface, with its source address.
type Delivered = (Vec<u8>, Ipv4Addr);

/// Everything `tunn` wants to send after `datagram` arrives (repeating until `Done`), and the
/// packet it delivered to its tunnel interface, if any.
fn receive(tunn: &mut Tunn, datagram: &[u8]) -> (Vec<Vec<u8>>, Option<Delivered>) {
    let mut sent = Vec::new();
    let mut delivered = None;
    let mut buf = vec![0u8; 2048];
    let mut input = datagram.to_vec();
    loop {
        match tunn.decapsulate(None, &input, &mut buf) {
            TunnResult::WriteToNetwork(p) => sent.push(p.to_vec()),
            TunnResult::WriteToTunnelV4(p, src) => {
                delivered = Some((p.to_vec(), src));
                break;
            }
            TunnResult::Done => break,
            other => panic!("{other:?}"),
        }
        input.clear();
    }
    (sent, delivered)
}

#[test]
fn generated_client_and_server_configs_handshake_and_carry_data() {
    let dir = tempfile::tempdir().unwrap();
    let vpn = open(dir.path());
    let mut req = request("acme", "alice");
    req.preshared_key = PresharedKeyChoice::Generate;
    let issued = vpn.issue_peer(&members(), req).unwrap();
    vpn.issue_peer(&members(), request("acme", "bob")).unwrap();
    let mut alice = client(issued.client_config.expose());
    let server = server(vpn.server_config().unwrap().expose());
    assert_eq!(server.peers.len(), 2);

    // The client sends a packet to the API VIP; it is in its AllowedIPs, so it goes to the tunnel.
    let api = Ipv4Addr::new(192, 0, 2, 10);
    assert!(alice.allowed.iter().any(|n| n.contains(&IpAddr::V4(api))));
    let request_packet = ipv4_packet(alice.address, api, b"GET /version");
    let mut buf = vec![0u8; 2048];
    let TunnResult::WriteToNetwork(init) = alice.tunn.encapsulate(&request_packet, &mut buf) else {
        panic!("expected a handshake initiation");
    };
    let init = init.to_vec();

    let (mut server_tunn, response, allowed) = server.accept(&init).unwrap();
    let (to_server, _) = receive(&mut alice.tunn, &response);
    assert!(
        !to_server.is_empty(),
        "the queued packet follows the handshake"
    );

    let mut delivered = None;
    for datagram in &to_server {
        if let (_, Some(d)) = receive(&mut server_tunn, datagram) {
            delivered = Some(d);
        }
    }
    let (packet, src) = delivered.expect("the data packet came through the tunnel");
    assert_eq!(packet, request_packet);
    assert_eq!(src, alice.address);
    assert!(
        allowed.iter().any(|n| n.contains(&IpAddr::V4(src))),
        "the server's AllowedIPs for alice hold her source address"
    );

    // And back: the server answers through the same session.
    let reply = ipv4_packet(api, alice.address, b"{\"major\":\"1\"}");
    let TunnResult::WriteToNetwork(datagram) = server_tunn.encapsulate(&reply, &mut buf) else {
        panic!("expected an encrypted reply");
    };
    let datagram = datagram.to_vec();
    let (_, back) = receive(&mut alice.tunn, &datagram);
    assert_eq!(back.unwrap().0, reply);
}

#[test]
fn a_revoked_peer_cannot_handshake_with_the_regenerated_server_config() {
    let dir = tempfile::tempdir().unwrap();
    let vpn = open(dir.path());
    let alice = vpn
        .issue_peer(&members(), request("acme", "alice"))
        .unwrap();
    vpn.issue_peer(&members(), request("acme", "bob")).unwrap();
    let mut buf = vec![0u8; 2048];
    let mut init_of = |config: &str| {
        let mut c = client(config);
        match c.tunn.format_handshake_initiation(&mut buf, false) {
            TunnResult::WriteToNetwork(p) => p.to_vec(),
            other => panic!("{other:?}"),
        }
    };
    let init = init_of(alice.client_config.expose());
    assert!(
        server(vpn.server_config().unwrap().expose())
            .accept(&init)
            .is_ok()
    );

    vpn.revoke_peer("acme", "alice", "ops").unwrap();
    let regenerated = server(vpn.server_config().unwrap().expose());
    assert_eq!(regenerated.peers.len(), 1);
    let init = init_of(alice.client_config.expose());
    let Err(error) = regenerated.accept(&init) else {
        panic!("a revoked peer completed a handshake");
    };
    assert!(error.contains("unknown peer"), "{error}");

    // Nor does the handshake complete against the remaining peer's key.
    let (bob_key, bob_psk, _) = &regenerated.peers[0];
    let mut as_bob = Tunn::new(
        regenerated.private.clone(),
        *bob_key,
        *bob_psk,
        None,
        3,
        None,
    );
    assert!(matches!(
        as_bob.decapsulate(None, &init, &mut buf),
        TunnResult::Err(_)
    ));
}
