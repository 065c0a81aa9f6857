//! How tenant members reach the cluster: the VPN gateway file (`kind: VpnGateway`), its
//! validation into a [`Gateway`], the gateway's [`AddressPool`] and WireGuard [`PublicKey`]s.
//!
//! This is the gateway's model only: issuing peers and rendering WireGuard configs is the
//! adapter's (the `harmony-vpn` crate).

mod key;
mod pool;

use std::net::IpAddr;

use harmony::{DocumentKind, Documents, Problem, Problems, identity_problems};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde::{Deserialize, Serialize};

pub use key::{KeyError, PublicKey, decode_key};
pub use pool::{AddressPool, PeerAddress};

use crate::names::is_dns_label;
use crate::score::API_VERSION;

/// The `kind` of gateway files.
pub const GATEWAY_KIND: &str = "VpnGateway";
/// Ports reachable through the tunnel when an entry lists none: the API server and the console.
pub const DEFAULT_PORTS: [u16; 2] = [6443, 443];
/// Keepalive (seconds) when the file sets none: keeps NAT mappings of clients open.
pub const DEFAULT_KEEPALIVE: u16 = 25;
/// Narrowest IPv4 prefix a reachable entry may have: list VIPs, not the cluster network.
pub const MIN_REACHABLE_PREFIX_V4: u8 = 24;
/// Narrowest IPv6 prefix a reachable entry may have.
pub const MIN_REACHABLE_PREFIX_V6: u8 = 120;

/// A VPN gateway as written in its file. Field values stay text until [`Self::validate`] so that
/// every problem is reported with its field path, not only the first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VpnGatewayConfig {
    /// Must be [`API_VERSION`].
    pub api_version: String,
    /// Must be [`GATEWAY_KIND`].
    pub kind: String,
    /// The gateway's name.
    pub metadata: GatewayMetadata,
    /// What the gateway is.
    pub spec: GatewaySpec,
}

/// Name of a gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GatewayMetadata {
    /// A DNS-1123 label.
    pub name: String,
}

/// The gateway proper.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GatewaySpec {
    /// Where clients connect: `host:port` (`[v6]:port` for an IPv6 literal).
    pub endpoint: String,
    /// The server's public key; when unset Harmony generates the key pair once in its state dir.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_public_key: Option<String>,
    /// The server's WireGuard interface (default `wg0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface_name: Option<String>,
    /// UDP port the server listens on (default: the endpoint's port).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listen_port: Option<u16>,
    /// Tunnel addresses handed to peers.
    pub address_pool: AddressPoolSpec,
    /// What peers may reach through the tunnel: API server and console/ingress VIPs.
    pub reachable: Vec<ReachableSpec>,
    /// DNS servers for clients; each must be reachable (port 53).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns: Vec<String>,
    /// Client keepalive in seconds; 0 turns it off (default 25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistent_keepalive: Option<u16>,
    /// Tunnel MTU (default: wg-quick's choice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u16>,
}

/// Tunnel address ranges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddressPoolSpec {
    /// IPv4 range such as `10.99.0.0/24`.
    pub ipv4: String,
    /// Optional IPv6 range such as `fd99::/64`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6: Option<String>,
}

/// One destination peers may reach.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReachableSpec {
    /// An address (`192.0.2.10`) or a small range (`192.0.2.8/29`).
    pub address: String,
    /// TCP/UDP ports (default 6443 and 443).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<Vec<u16>>,
}

/// A validated gateway: what the renderers and the registry work with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gateway {
    /// The gateway's name.
    pub name: String,
    /// `host:port` clients connect to.
    pub endpoint: String,
    /// The server public key given in the file, if any.
    pub server_public_key: Option<PublicKey>,
    /// The server's interface name.
    pub interface_name: String,
    /// The server's UDP port.
    pub listen_port: u16,
    /// Tunnel addresses.
    pub pool: AddressPool,
    /// Destinations peers may reach.
    pub reachable: Vec<Reachable>,
    /// DNS servers for clients.
    pub dns: Vec<IpAddr>,
    /// Client keepalive in seconds (0: off).
    pub persistent_keepalive: u16,
    /// Tunnel MTU.
    pub mtu: Option<u16>,
}

/// A validated destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reachable {
    /// The address or range.
    pub net: IpNet,
    /// Allowed ports, sorted and unique.
    pub ports: Vec<u16>,
}

impl VpnGatewayConfig {
    /// Parses and validates gateway YAML; `source` names it in problems.
    pub fn parse(source: &str, yaml: &str) -> Result<Gateway, Problems> {
        load_gateway(&Documents::parse(source, yaml)?)
    }

    /// The validated gateway, or every problem with a field path, in field order.
    pub fn validate(&self) -> Result<Gateway, Vec<Problem>> {
        let mut problems = identity_problems::<Self>(Some(&self.api_version), Some(&self.kind));
        let spec = &self.spec;
        if !is_dns_label(&self.metadata.name, 63) {
            problems.push(problem(
                "metadata.name",
                &self.metadata.name,
                "must be a DNS-1123 label: 1-63 lower-case letters, digits and '-'".into(),
            ));
        }
        let endpoint_port = parse_endpoint(&spec.endpoint)
            .map_err(|fix| problems.push(problem("spec.endpoint", &spec.endpoint, fix)))
            .ok();
        let server_public_key = spec.server_public_key.as_ref().and_then(|k| {
            k.parse::<PublicKey>()
                .map_err(|e| {
                    problems.push(Problem::new(
                        "spec.serverPublicKey",
                        format!("the key {e}; paste the output of `wg pubkey`, or remove the field to let harmony generate the server key"),
                    ))
                })
                .ok()
        });
        let interface_name = spec.interface_name.clone().unwrap_or_else(|| "wg0".into());
        if !is_interface_name(&interface_name) {
            problems.push(problem(
                "spec.interfaceName",
                &interface_name,
                "must be 1-15 letters, digits, '_', '-', '.', such as wg0".into(),
            ));
        }
        if spec.listen_port == Some(0) {
            problems.push(problem(
                "spec.listenPort",
                "0",
                "must be 1-65535, such as 51820".into(),
            ));
        }
        let pool = validate_pool(&spec.address_pool, &mut problems);
        let reachable = validate_reachable(&spec.reachable, pool.as_ref(), &mut problems);
        let dns = validate_dns(&spec.dns, &reachable, &mut problems);
        if let Some(mtu) = spec.mtu.filter(|m| !(1280..=9000).contains(m)) {
            problems.push(problem(
                "spec.mtu",
                &mtu.to_string(),
                "must be 1280-9000, such as 1420".into(),
            ));
        }
        match (problems.is_empty(), endpoint_port, pool) {
            (true, Some(port), Some(pool)) => Ok(Gateway {
                name: self.metadata.name.clone(),
                endpoint: spec.endpoint.clone(),
                server_public_key,
                interface_name,
                listen_port: spec.listen_port.unwrap_or(port),
                pool,
                reachable,
                dns,
                persistent_keepalive: spec.persistent_keepalive.unwrap_or(DEFAULT_KEEPALIVE),
                mtu: spec.mtu,
            }),
            _ => Err(problems),
        }
    }
}

/// A gateway file holds one document of this kind.
impl DocumentKind for VpnGatewayConfig {
    const API_VERSION: &'static str = API_VERSION;
    const KIND: &'static str = GATEWAY_KIND;
    type Context = ();

    fn problems(&self, _: &()) -> Vec<Problem> {
        self.validate().err().unwrap_or_default()
    }
}

/// The gateway of a gateway file's `documents` (exactly one `kind: VpnGateway`), validated:
/// every problem located by line and column.
pub fn load_gateway(documents: &Documents) -> Result<Gateway, Problems> {
    let config = documents.load_one::<VpnGatewayConfig>(&())?;
    // Loading checked the same problems: this builds the gateway.
    config.validate().map_err(Problems)
}

/// A problem with the field at `path` holding `value`: what is wrong and how to fix it.
fn problem(path: &str, value: &str, fix: String) -> Problem {
    Problem::new(path, format!("`{value}` {fix}"))
}

fn is_interface_name(name: &str) -> bool {
    (1..=15).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
}

/// The port of `host:port` / `[v6]:port`, or how to fix the endpoint.
fn parse_endpoint(endpoint: &str) -> Result<u16, String> {
    const FIX: &str = "write host:port, such as vpn.example.com:51820 or [2001:db8::1]:51820";
    let port = match endpoint.strip_prefix('[') {
        Some(rest) => {
            let (host, port) = rest.split_once("]:").ok_or(format!("has no port; {FIX}"))?;
            host.parse::<std::net::Ipv6Addr>()
                .map_err(|_| format!("has an invalid IPv6 address; {FIX}"))?;
            port
        }
        None => {
            let (host, port) = endpoint
                .rsplit_once(':')
                .ok_or(format!("has no port; {FIX}"))?;
            if host.is_empty() || host.contains(':') || host.chars().any(char::is_whitespace) {
                return Err(format!("has an invalid host; {FIX}"));
            }
            port
        }
    };
    match port.parse::<u16>() {
        Ok(p) if p != 0 => Ok(p),
        _ => Err(format!("has an invalid port {port:?}; {FIX}")),
    }
}

fn validate_pool(spec: &AddressPoolSpec, problems: &mut Vec<Problem>) -> Option<AddressPool> {
    let ipv4 = match spec.ipv4.parse::<Ipv4Net>() {
        Ok(net) if net.prefix_len() > 30 => {
            problems.push(problem(
                "spec.addressPool.ipv4",
                &spec.ipv4,
                "is too small: use a prefix of /30 or shorter, such as 10.99.0.0/24".into(),
            ));
            None
        }
        Ok(net) if net.network() != net.addr() => {
            problems.push(problem(
                "spec.addressPool.ipv4",
                &spec.ipv4,
                format!("has host bits set: write {}", net.trunc()),
            ));
            None
        }
        Ok(net) => Some(net),
        Err(_) => {
            problems.push(problem(
                "spec.addressPool.ipv4",
                &spec.ipv4,
                "is not an IPv4 CIDR: write a private range such as 10.99.0.0/24".into(),
            ));
            None
        }
    };
    let ipv6 = spec.ipv6.as_ref().and_then(|text| {
        let fix = match (text.parse::<Ipv6Net>(), ipv4) {
            (Err(_), _) => "is not an IPv6 CIDR: write a ULA range such as fd99::/64".into(),
            (Ok(net), _) if net.network() != net.addr() => {
                format!("has host bits set: write {}", net.trunc())
            }
            (Ok(net), Some(v4)) if 128 - net.prefix_len() < 32 - v4.prefix_len() => format!(
                "is smaller than the IPv4 pool: use /{} or shorter",
                96 + v4.prefix_len()
            ),
            (Ok(net), _) => return Some(net),
        };
        problems.push(problem("spec.addressPool.ipv6", text, fix));
        None
    });
    let valid_v6 = spec.ipv6.is_none() || ipv6.is_some();
    ipv4.filter(|_| valid_v6)
        .map(|v4| AddressPool::new(v4, ipv6))
}

fn validate_reachable(
    entries: &[ReachableSpec],
    pool: Option<&AddressPool>,
    problems: &mut Vec<Problem>,
) -> Vec<Reachable> {
    if entries.is_empty() {
        problems.push(Problem::new(
            "spec.reachable",
            "is empty: list the API server and console/ingress VIPs, such as - address: 192.0.2.10",
        ));
    }
    let mut valid = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let field = format!("spec.reachable[{i}].address");
        let net = entry
            .address
            .parse::<IpNet>()
            .or_else(|_| entry.address.parse::<IpAddr>().map(IpNet::from));
        let net = match net {
            Err(_) => {
                problems.push(problem(
                    &field,
                    &entry.address,
                    "is not an IP address or CIDR, such as 192.0.2.10".into(),
                ));
                continue;
            }
            Ok(net) => net,
        };
        let too_wide = match net {
            IpNet::V4(n) => n.prefix_len() < MIN_REACHABLE_PREFIX_V4,
            IpNet::V6(n) => n.prefix_len() < MIN_REACHABLE_PREFIX_V6,
        };
        if too_wide {
            problems.push(problem(
                &field,
                &entry.address,
                format!("is too wide (never the whole cluster network): list VIPs, with a prefix of at least /{MIN_REACHABLE_PREFIX_V4} (IPv6 /{MIN_REACHABLE_PREFIX_V6})"),
            ));
            continue;
        }
        if net.addr() != net.network() {
            problems.push(problem(
                &field,
                &entry.address,
                format!("has host bits set: write {}", net.trunc()),
            ));
            continue;
        }
        let overlaps_pool = pool.is_some_and(|p| match net {
            IpNet::V4(n) => p.ipv4().contains(&n.network()) || n.contains(&p.ipv4().network()),
            IpNet::V6(n) => p
                .ipv6()
                .is_some_and(|v6| v6.contains(&n.network()) || n.contains(&v6.network())),
        });
        if overlaps_pool {
            problems.push(problem(
                &field,
                &entry.address,
                "overlaps spec.addressPool: reachable addresses must be outside the VPN pool"
                    .into(),
            ));
            continue;
        }
        let mut ports = entry
            .ports
            .clone()
            .unwrap_or_else(|| DEFAULT_PORTS.to_vec());
        ports.sort_unstable();
        ports.dedup();
        if ports.is_empty() || ports.contains(&0) {
            problems.push(problem(
                &format!("spec.reachable[{i}].ports"),
                &format!("{:?}", entry.ports.clone().unwrap_or_default()),
                "must list ports 1-65535, or be left out for [6443, 443]".into(),
            ));
            continue;
        }
        valid.push(Reachable { net, ports });
    }
    valid
}

fn validate_dns(
    dns: &[String],
    reachable: &[Reachable],
    problems: &mut Vec<Problem>,
) -> Vec<IpAddr> {
    let mut valid = Vec::new();
    for (i, text) in dns.iter().enumerate() {
        let field = format!("spec.dns[{i}]");
        match text.parse::<IpAddr>() {
            Err(_) => problems.push(problem(
                &field,
                text,
                "is not an IP address, such as 192.0.2.53".into(),
            )),
            Ok(ip)
                if !reachable
                    .iter()
                    .any(|r| r.net.contains(&ip) && r.ports.contains(&53)) =>
            {
                problems.push(problem(
                    &field,
                    text,
                    format!("is not reachable through the tunnel: add {{address: {ip}, ports: [53]}} to spec.reachable"),
                ))
            }
            Ok(ip) => valid.push(ip),
        }
    }
    valid
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "\
apiVersion: harmony.nationtech.io/v1alpha1
kind: VpnGateway
metadata:
  name: prod
spec:
  endpoint: vpn.example.com:51820
  addressPool:
    ipv4: 10.99.0.0/24
    ipv6: fd99::/64
  reachable:
    - address: 192.0.2.10
    - address: 192.0.2.53
      ports: [53]
  dns: [192.0.2.53]
";

    fn fields(yaml: &str) -> Vec<String> {
        VpnGatewayConfig::parse("test.yaml", yaml)
            .unwrap_err()
            .0
            .into_iter()
            .map(|p| p.path)
            .collect()
    }

    #[test]
    fn a_good_file_gets_defaults() {
        let g = VpnGatewayConfig::parse("t", GOOD).unwrap();
        assert_eq!(g.listen_port, 51820);
        assert_eq!(g.interface_name, "wg0");
        assert_eq!(g.persistent_keepalive, 25);
        assert_eq!(g.reachable[0].ports, [443, 6443]);
        assert_eq!(g.reachable[0].net.to_string(), "192.0.2.10/32");
    }

    #[test]
    fn every_problem_is_reported_with_its_field() {
        let bad = GOOD
            .replace("vpn.example.com:51820", "vpn.example.com")
            .replace("10.99.0.0/24", "10.99.0.1/24")
            .replace("192.0.2.10", "10.0.0.0/8")
            .replace("ports: [53]", "ports: [80]");
        assert_eq!(
            fields(&bad),
            [
                "spec.endpoint",
                "spec.addressPool.ipv4",
                "spec.reachable[0].address",
                "spec.dns[0]"
            ]
        );
        let message = VpnGatewayConfig::parse("test.yaml", &bad)
            .unwrap_err()
            .to_string();
        assert!(
            message.contains(
                "test.yaml:6:13: spec.endpoint: `vpn.example.com` has no port; write host:port"
            ),
            "{message}"
        );
        assert!(
            message.contains(
                "test.yaml:8:11: spec.addressPool.ipv4: `10.99.0.1/24` has host bits set: write \
                 10.99.0.0/24"
            ),
            "{message}"
        );
    }

    #[test]
    fn a_bad_server_key_is_refused_without_echoing_it() {
        let secret = "c2VjcmV0IHByaXZhdGUga2V5IHRoYXQgaXMgdG9vIGxvbmc=";
        let yaml = GOOD.replace(
            "  dns:",
            &format!("  serverPublicKey: \"{secret}\"\n  dns:"),
        );
        let message = VpnGatewayConfig::parse("test.yaml", &yaml)
            .unwrap_err()
            .to_string();
        assert!(
            message
                .starts_with("test.yaml:14:20: spec.serverPublicKey: the key decodes to 35 bytes"),
            "{message}"
        );
        assert!(!message.contains(secret), "{message}");
    }

    #[test]
    fn a_gateway_file_holds_one_gateway() {
        let two = format!("{GOOD}---\n{GOOD}");
        assert_eq!(
            VpnGatewayConfig::parse("test.yaml", &two)
                .unwrap_err()
                .to_string(),
            "test.yaml: holds 2 documents: a VpnGateway file holds exactly one `kind: VpnGateway`\n\
             1 problem found"
        );
    }

    #[test]
    fn endpoints_need_a_port() {
        assert_eq!(parse_endpoint("[2001:db8::1]:51820"), Ok(51820));
        assert_eq!(parse_endpoint("192.0.2.1:1"), Ok(1));
        for bad in [
            "vpn.example.com",
            "2001:db8::1",
            "[2001:db8::1]",
            ":51820",
            "h:0",
            "h:x",
        ] {
            assert!(parse_endpoint(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn refuses_unknown_fields_wide_ranges_and_pool_overlap() {
        assert_eq!(
            fields(&GOOD.replace("  dns:", "  colour: red\n  dns:")),
            ["spec.colour"]
        );
        assert_eq!(
            fields(&GOOD.replace("192.0.2.10", "10.99.0.5")),
            ["spec.reachable[0].address"]
        );
        assert_eq!(
            fields(&GOOD.replace("fd99::/64", "fd99::/121")),
            ["spec.addressPool.ipv6"]
        );
        assert_eq!(
            fields(&GOOD.replace("/24", "/31")),
            ["spec.addressPool.ipv4"]
        );
        assert_eq!(
            fields(&GOOD.replace("kind: VpnGateway", "kind: Tenant")),
            ["kind"]
        );
    }
}
