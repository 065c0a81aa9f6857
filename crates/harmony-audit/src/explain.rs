//! `harmony audit explain SRC DST [PORT]`: which policies allow or block a path.

use std::collections::BTreeSet;
use std::fmt;
use std::net::IpAddr;

use serde::Serialize;

use harmony_tenant::connections::MatchedConnection;

use crate::checks::INTERNET_SAMPLES;
use crate::declared::covering;
use crate::netpol::{Conn, Endpoint, Network, Step};
use crate::snapshot::{ClusterSnapshot, is_synthesized};

/// One pair of endpoints and its verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathVerdict {
    /// The source: a pod (`ns/pod`, with `(+N alike)` when it stands for its equivalence
    /// class) or an address.
    pub src: String,
    /// The destination, likewise.
    pub dst: String,
    /// Whether the path is open (on the port, when one was given).
    pub allowed: bool,
    /// What may be opened, such as `TCP 80,443` or `all connections`.
    pub connections: Conn,
    /// Whether source and destination are the same pod: a pod cannot block access to itself.
    #[serde(rename = "samePod")]
    pub same_pod: bool,
    /// The policy rules that allowed, denied, passed or blocked it, per direction.
    pub evidence: Vec<Step>,
    /// The connection both tenants declare that covers this path between two tenants' pods,
    /// and where each declared it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declared: Option<String>,
    #[serde(skip)]
    lines: Vec<String>,
}

/// The port asked about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Port {
    /// `TCP`, `UDP` or `SCTP`.
    pub protocol: String,
    /// The number.
    pub number: u16,
}

/// The verdict for every pod (class) pair between two endpoints.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// The source as asked.
    pub src: String,
    /// The destination as asked.
    pub dst: String,
    /// The port asked about.
    pub port: Option<Port>,
    /// Whether some pair is allowed.
    pub allowed: bool,
    /// One verdict per pair.
    pub pairs: Vec<PathVerdict>,
}

impl Explanation {
    /// Whether some pair is allowed (on the port, when one was given).
    pub fn allowed(&self) -> bool {
        self.allowed
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for pair in &self.pairs {
            let on_port = match &self.port {
                Some(Port { protocol, number }) => format!(
                    " — {protocol} {number}: {}",
                    if pair.allowed { "ALLOWED" } else { "BLOCKED" }
                ),
                None => String::new(),
            };
            writeln!(
                f,
                "{} → {}: {}{on_port}",
                pair.src, pair.dst, pair.connections
            )?;
            for e in &pair.lines {
                writeln!(f, "    {e}")?;
            }
            if let Some(declared) = &pair.declared {
                writeln!(f, "    connection {declared}")?;
            }
        }
        Ok(())
    }
}

/// One end asked about: its endpoints, each with the name it is shown by and, for a named
/// pod, that pod's name.
struct End {
    endpoint: Endpoint,
    label: String,
    pod: Option<String>,
}

/// Parses `ns`, `ns/pod`, `internet` or an IP address into endpoints.
fn endpoints(net: &Network, spec: &str) -> Result<Vec<End>, String> {
    let ip_end = |ip: IpAddr| End {
        endpoint: Endpoint::Ip(ip),
        label: ip.to_string(),
        pod: None,
    };
    if spec == "internet" {
        let ip = INTERNET_SAMPLES[0].parse().expect("valid sample address");
        return Ok(vec![ip_end(ip)]);
    }
    if let Ok(ip) = spec.parse::<IpAddr>() {
        return Ok(vec![ip_end(ip)]);
    }
    let found: Vec<End> = match spec.split_once('/') {
        Some((ns, pod)) => net
            .class_of(ns, pod)
            .map(|c| End {
                endpoint: Endpoint::Class(c),
                label: spec.to_string(),
                pod: Some(spec.to_string()),
            })
            .into_iter()
            .collect(),
        None => net
            .classes_in(spec)
            .map(|c| End {
                endpoint: Endpoint::Class(c),
                label: net.describe(Endpoint::Class(c)),
                pod: None,
            })
            .collect(),
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
/// `port` (`80`, `53/UDP`). Every pair is answered: two pods of the same equivalence class are
/// judged by the policies like any pair; a pod and itself is always allowed (a pod cannot block
/// access to itself); a namespace and itself covers every pair of its classes. A path between two
/// tenants that one of `connections` covers names that declaration.
pub fn explain(
    snapshot: &ClusterSnapshot,
    (src, dst): (&str, &str),
    port_spec: Option<&str>,
    connections: &[MatchedConnection],
) -> Result<Explanation, String> {
    let net = Network::new(snapshot);
    let port = port_spec.map(port).transpose()?;
    let (srcs, dsts) = (endpoints(&net, src)?, endpoints(&net, dst)?);
    let synthesized: BTreeSet<(String, String)> = snapshot
        .pods
        .iter()
        .filter(|p| is_synthesized(p))
        .filter_map(|p| {
            let m = &p.metadata;
            Some((m.namespace.clone()?, m.name.clone()?))
        })
        .collect();
    let mut pairs = Vec::new();
    for s in &srcs {
        for d in &dsts {
            let mut verdict = pair(&net, &synthesized, (s, d), port.as_ref());
            if let (Endpoint::Class(a), Endpoint::Class(b)) = (s.endpoint, d.endpoint) {
                verdict.declared = covering(connections, &net, (a, b), &verdict.connections)
                    .filter(|_| !verdict.connections.is_empty() && a != b)
                    .map(MatchedConnection::describe);
            }
            pairs.push(verdict);
        }
    }
    let port = port.map(|(protocol, number)| Port { protocol, number });
    Ok(Explanation {
        src: src.into(),
        dst: dst.into(),
        allowed: pairs.iter().any(|p| p.allowed),
        port,
        pairs,
    })
}

fn pair(
    net: &Network,
    synthesized: &BTreeSet<(String, String)>,
    (s, d): (&End, &End),
    port: Option<&(String, u16)>,
) -> PathVerdict {
    let class = match (s.endpoint, d.endpoint) {
        (Endpoint::Class(a), Endpoint::Class(b)) if a == b => Some(&net.classes()[a]),
        _ => None,
    };
    let named_same = s.pod.is_some() && s.pod == d.pod;
    // A class of one pod on both sides is that pod and itself, unless the pod is a placeholder
    // the audit added to a pod-less namespace: it stands for any pod to come, so two of them.
    let lone_same = class.is_some_and(|c| {
        c.pods.len() == 1 && !synthesized.contains(&(c.namespace.clone(), c.pods[0].clone()))
    });
    let (mut src_label, mut dst_label) = (s.label.clone(), d.label.clone());
    let (connections, evidence, lines, same_pod) = if named_same || lone_same {
        let line = "a pod cannot block access to itself: always allowed".to_string();
        (Conn::all(), vec![], vec![line], true)
    } else {
        if let Some(c) = class.filter(|c| s.pod.is_none() && d.pod.is_none() && c.pods.len() > 1) {
            // Two pods of the same class: the first and another one.
            src_label = format!("{}/{}", c.namespace, c.pods[0]);
            let more = if c.pods.len() > 2 {
                format!(" (+{} alike)", c.pods.len() - 2)
            } else {
                String::new()
            };
            dst_label = format!("{}/{}{more}", c.namespace, c.pods[1]);
        } else if let Some(c) = class.filter(|_| s.pod.is_none() && d.pod.is_none()) {
            // A placeholder and another pod of its namespace.
            dst_label = format!("another pod of {}", c.namespace);
        }
        let v = net.explain(s.endpoint, d.endpoint);
        (v.conn, v.steps, v.evidence, false)
    };
    let allowed = match port {
        Some((proto, n)) => connections.allows(proto, *n),
        None => !connections.is_empty(),
    };
    PathVerdict {
        src: src_label,
        dst: dst_label,
        allowed,
        connections,
        same_pod,
        evidence,
        declared: None,
        lines,
    }
}
