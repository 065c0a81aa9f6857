//! The gateway's `wg-quick` config and its `wg syncconf` peer set.

use std::fmt::Write;

use super::{ConfigText, joined};
use crate::gateway::Gateway;
use crate::registry::Registry;
use crate::server_key::ServerKey;

/// The complete server `wg-quick` config: interface, then one `[Peer]` per active peer.
///
/// With a Harmony-managed key it holds the private key; with a key given in the gateway file it
/// loads the key from `/etc/wireguard/<interface>.key` in `PostUp`.
pub fn server_config(gateway: &Gateway, server_key: &ServerKey, registry: &Registry) -> ConfigText {
    let pool = gateway.pool;
    let gw = pool.gateway();
    let mut addresses = vec![format!("{}/{}", gw.ipv4, pool.ipv4().prefix_len())];
    if let (Some(ip), Some(net)) = (gw.ipv6, pool.ipv6()) {
        addresses.push(format!("{ip}/{}", net.prefix_len()));
    }
    let mut out = format!(
        "# Harmony VPN gateway {}: generated from the peer registry; do not edit.\n[Interface]\nAddress = {}\nListenPort = {}\n",
        gateway.name,
        joined(addresses),
        gateway.listen_port
    );
    match server_key {
        ServerKey::Managed(key) => {
            let _ = writeln!(out, "PrivateKey = {}", key.expose_base64());
        }
        ServerKey::External(_) => {
            out.push_str("PostUp = wg set %i private-key /etc/wireguard/%i.key\n");
        }
    }
    if let Some(mtu) = gateway.mtu {
        let _ = writeln!(out, "MTU = {mtu}");
    }
    write_peers(&mut out, registry);
    ConfigText(out)
}

/// The peer set for `wg syncconf IF FILE` (what `wg-quick strip` gives): private key, listen port
/// and active peers. Peers missing from it (revoked ones) are removed from the live interface.
///
/// `wg syncconf` also removes a private key the file lacks: with a key given in the gateway file,
/// the set says to re-apply it right after.
pub fn peer_set(gateway: &Gateway, server_key: &ServerKey, registry: &Registry) -> ConfigText {
    let mut out = String::from("[Interface]\n");
    match server_key {
        ServerKey::Managed(key) => {
            let _ = writeln!(out, "PrivateKey = {}", key.expose_base64());
        }
        ServerKey::External(_) => {
            let _ = writeln!(
                out,
                "# No private key here: apply with `wg syncconf {0} FILE && wg set {0} private-key /etc/wireguard/{0}.key`",
                gateway.interface_name
            );
        }
    }
    let _ = writeln!(out, "ListenPort = {}", gateway.listen_port);
    write_peers(&mut out, registry);
    ConfigText(out)
}

fn write_peers(out: &mut String, registry: &Registry) {
    for peer in registry.active_peers() {
        let _ = write!(
            out,
            "\n# {}/{}\n[Peer]\nPublicKey = {}\n",
            peer.tenant, peer.member, peer.public_key
        );
        if let Some(psk) = registry.preshared_key(&peer.public_key) {
            let _ = writeln!(out, "PresharedKey = {}", psk.expose_base64());
        }
        let mut allowed = vec![format!("{}/32", peer.address.ipv4)];
        allowed.extend(peer.address.ipv6.map(|a| format!("{a}/128")));
        let _ = writeln!(out, "AllowedIPs = {}", joined(allowed));
    }
}
