//! `harmony audit explain SRC DST [PORT]`: which policies allow or block a path.

use std::fmt;
use std::net::IpAddr;

use crate::checks::INTERNET_SAMPLES;
use crate::netpol::{Endpoint, Network, Verdict};
use crate::snapshot::ClusterSnapshot;

/// The verdict for every pod class pair between two endpoints.
#[derive(Debug, Clone)]
pub struct Explanation {
    /// The port asked about, as (protocol, number).
    pub port: Option<(String, u16)>,
    /// (source, destination, verdict) per class pair.
    pub pairs: Vec<(String, String, Verdict)>,
}

impl Explanation {
    /// Whether some pair is allowed (on the port, when one was given).
    pub fn allowed(&self) -> bool {
        self.pairs.iter().any(|(_, _, v)| match &self.port {
            Some((proto, n)) => v.conn.allows(proto, *n),
            None => !v.conn.is_empty(),
        })
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (src, dst, v) in &self.pairs {
            let on_port = match &self.port {
                Some((proto, n)) => format!(
                    " — {proto} {n}: {}",
                    if v.conn.allows(proto, *n) {
                        "ALLOWED"
                    } else {
                        "BLOCKED"
                    }
                ),
                None => String::new(),
            };
            writeln!(f, "{src} → {dst}: {}{on_port}", v.conn)?;
            for e in &v.evidence {
                writeln!(f, "    {e}")?;
            }
        }
        Ok(())
    }
}

/// Parses `ns`, `ns/pod`, `internet` or an IP address into endpoints.
fn endpoints(net: &Network, spec: &str) -> Result<Vec<Endpoint>, String> {
    if spec == "internet" {
        let ip = INTERNET_SAMPLES[0].parse().expect("valid sample address");
        return Ok(vec![Endpoint::Ip(ip)]);
    }
    if let Ok(ip) = spec.parse::<IpAddr>() {
        return Ok(vec![Endpoint::Ip(ip)]);
    }
    let found: Vec<Endpoint> = match spec.split_once('/') {
        Some((ns, pod)) => net
            .class_of(ns, pod)
            .map(Endpoint::Class)
            .into_iter()
            .collect(),
        None => net.classes_in(spec).map(Endpoint::Class).collect(),
    };
    if found.is_empty() {
        return Err(format!(
            "endpoint `{spec}` matches no pod: give `namespace`, `namespace/pod`, `internet` or an IP address"
        ));
    }
    Ok(found)
}

/// Parses `80`, `80/TCP`, `53/udp`.
fn port(spec: &str) -> Result<(String, u16), String> {
    let (n, proto) = spec.split_once('/').unwrap_or((spec, "TCP"));
    let proto = proto.to_ascii_uppercase();
    let n: u16 = n.parse().map_err(|_| {
        format!("port `{spec}` is not a number 1-65535 (optionally /TCP, /UDP or /SCTP)")
    })?;
    if !crate::netpol::PROTOCOLS.contains(&proto.as_str()) || n == 0 {
        return Err(format!(
            "port `{spec}`: use a number 1-65535 and TCP, UDP or SCTP"
        ));
    }
    Ok((proto, n))
}

/// Explains the path from `src` to `dst` (each `ns`, `ns/pod`, `internet` or an IP), optionally on
/// `port` (`80`, `53/UDP`).
pub fn explain(
    snapshot: &ClusterSnapshot,
    src: &str,
    dst: &str,
    port_spec: Option<&str>,
) -> Result<Explanation, String> {
    let net = Network::new(snapshot);
    let port = port_spec.map(port).transpose()?;
    let (srcs, dsts) = (endpoints(&net, src)?, endpoints(&net, dst)?);
    let mut pairs = Vec::new();
    for &s in &srcs {
        for &d in dsts.iter().filter(|&&d| d != s) {
            pairs.push((net.describe(s), net.describe(d), net.explain(s, d)));
        }
    }
    Ok(Explanation { port, pairs })
}
