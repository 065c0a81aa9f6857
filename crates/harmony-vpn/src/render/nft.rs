//! nftables rules: each active peer's address may reach only the reachable addresses and ports;
//! anything else arriving from the tunnel (a revoked or unknown source) is dropped.

use std::fmt::Write;

use ipnet::IpNet;

use super::joined;
use crate::gateway::Gateway;
use crate::registry::Registry;

/// A complete ruleset for `nft -f`: it replaces its own table atomically and touches nothing else.
pub fn nftables(gateway: &Gateway, registry: &Registry) -> String {
    let table = format!("harmony_vpn_{}", gateway.name.replace('-', "_"));
    let v4 = registry.active_peers().map(|p| p.address.ipv4);
    let v6 = registry.active_peers().filter_map(|p| p.address.ipv6);
    let mut out = format!(
        "# Harmony VPN gateway {}: what VPN peers may reach. Generated; load with `nft -f`.\n\
         table inet {table}\ndelete table inet {table}\ntable inet {table} {{\n",
        gateway.name
    );
    write_set(&mut out, "peers_v4", "ipv4_addr", joined(v4));
    write_set(&mut out, "peers_v6", "ipv6_addr", joined(v6));
    out.push_str("\tchain from_vpn {\n");
    for reach in &gateway.reachable {
        let (family, set) = match reach.net {
            IpNet::V4(_) => ("ip", "peers_v4"),
            IpNet::V6(_) => ("ip6", "peers_v6"),
        };
        let _ = writeln!(
            out,
            "\t\t{family} saddr @{set} {family} daddr {} meta l4proto {{ tcp, udp }} th dport {{ {} }} accept",
            reach.net,
            joined(&reach.ports)
        );
    }
    out.push_str("\t\tcounter drop\n\t}\n");
    for hook in ["input", "forward"] {
        let _ = writeln!(
            out,
            "\tchain {hook} {{\n\t\ttype filter hook {hook} priority filter; policy accept;\n\t\tiifname \"{}\" jump from_vpn\n\t}}",
            gateway.interface_name
        );
    }
    out.push_str("}\n");
    out
}

fn write_set(out: &mut String, name: &str, kind: &str, elements: String) {
    let _ = write!(out, "\tset {name} {{\n\t\ttype {kind}\n");
    if !elements.is_empty() {
        let _ = writeln!(out, "\t\telements = {{ {elements} }}");
    }
    out.push_str("\t}\n");
}
