//! Who is connected through the gateway: `wg show <interface> dump` read, and each peer key mapped
//! to its tenant and member through the registry. A key the registry does not know, or a revoked
//! key still configured on the gateway, is an alarm.
//!
//! A dump's interface line holds the gateway's private key: it is checked for shape and dropped,
//! and no problem report quotes it.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::Command;

use ipnet::IpNet;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::keys::PublicKey;
use crate::registry::{PeerRecord, Registry};

/// How long after its latest handshake a peer's session keys are still accepted: WireGuard's
/// `REJECT_AFTER_TIME`. A peer whose handshake is younger is connected.
pub const REJECT_AFTER: SignedDuration = SignedDuration::from_secs(180);

/// One peer line of a dump: what the gateway knows of a peer. Preshared keys are not kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpPeer {
    /// The interface, when the dump is `wg show all dump`.
    pub interface: Option<String>,
    /// The peer's public key.
    pub public_key: PublicKey,
    /// Where its packets last came from.
    pub endpoint: Option<SocketAddr>,
    /// Its allowed IPs on the gateway.
    pub allowed_ips: Vec<IpNet>,
    /// Its latest handshake, if any.
    pub latest_handshake: Option<Timestamp>,
    /// Bytes received from it.
    pub rx_bytes: u64,
    /// Bytes sent to it.
    pub tx_bytes: u64,
}

/// A dump line that could not be read; the rest of the dump still counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpProblem {
    /// Its line number, from 1.
    pub line: usize,
    /// What is wrong with it.
    pub message: String,
}

impl std::fmt::Display for DumpProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// A parsed dump: its peers, and the lines skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dump {
    /// The peers, in the dump's order.
    pub peers: Vec<DumpPeer>,
    /// Lines that were skipped, and why.
    pub problems: Vec<DumpProblem>,
}

impl Dump {
    /// Reads the output of `wg show <interface> dump` (or `wg show all dump`): tab-separated, an
    /// interface line of 4 fields (5 with the interface name first) and peer lines of 8 (9).
    pub fn parse(text: &str) -> Self {
        let mut dump = Self::default();
        for (index, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split('\t').collect();
            let peer = match fields.len() {
                4 | 5 => continue,
                8 => peer(None, &fields),
                9 => peer(Some(fields[0]), &fields[1..]),
                n => Err(format!(
                    "{n} tab-separated fields; a peer line has 8 (9 in `wg show all dump`), the \
                     interface line 4 (5): give the output of `wg show <interface> dump`"
                )),
            };
            match peer {
                Ok(peer) => dump.peers.push(peer),
                Err(message) => dump.problems.push(DumpProblem {
                    line: index + 1,
                    message,
                }),
            }
        }
        dump
    }
}

/// A peer from its 8 fields: public key, preshared key, endpoint, allowed IPs, latest handshake
/// (Unix seconds, 0 for never), bytes received, bytes sent, persistent keepalive.
fn peer(interface: Option<&str>, fields: &[&str]) -> Result<DumpPeer, String> {
    let public_key = fields[0]
        .parse::<PublicKey>()
        .map_err(|e| format!("public key `{}`: {e}", fields[0]))?;
    let endpoint = match fields[2] {
        "(none)" => None,
        text => Some(
            text.parse::<SocketAddr>()
                .map_err(|_| format!("endpoint `{text}`: not an address:port"))?,
        ),
    };
    let allowed_ips = match fields[3] {
        "(none)" => Vec::new(),
        text => text
            .split(',')
            .map(|net| {
                net.trim()
                    .parse::<IpNet>()
                    .map_err(|_| format!("allowed IPs `{text}`: `{net}` is not a network"))
            })
            .collect::<Result<_, _>>()?,
    };
    let seconds: i64 = number(fields[4], "latest handshake")?;
    let latest_handshake = match seconds {
        0 => None,
        s => Some(
            Timestamp::from_second(s).map_err(|_| format!("latest handshake `{s}`: not a time"))?,
        ),
    };
    Ok(DumpPeer {
        interface: interface.map(str::to_owned),
        public_key,
        endpoint,
        allowed_ips,
        latest_handshake,
        rx_bytes: number(fields[5], "bytes received")?,
        tx_bytes: number(fields[6], "bytes sent")?,
    })
}

fn number<T: std::str::FromStr>(text: &str, field: &str) -> Result<T, String> {
    text.parse()
        .map_err(|_| format!("{field} `{text}`: not a whole number"))
}

/// Where a dump comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DumpSource {
    /// `wg show <interface> dump`, run here (on the gateway).
    Interface(String),
    /// A file holding a dump, read afresh each time.
    File(PathBuf),
}

/// Reading a dump failed.
#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    /// `wg` could not be run.
    #[error(
        "running `wg show {interface} dump`: {source}; install wireguard-tools on the gateway, or give a dump with --dump FILE"
    )]
    Spawn {
        /// The interface.
        interface: String,
        /// Why it could not run.
        #[source]
        source: std::io::Error,
    },
    /// `wg` ran and failed.
    #[error("`wg show {interface} dump` failed: {stderr}")]
    Failed {
        /// The interface.
        interface: String,
        /// What it printed on stderr.
        stderr: String,
    },
    /// The file could not be read.
    #[error("reading the dump {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl DumpSource {
    /// Reads the dump (it holds the gateway's private key: parse it and drop it).
    pub fn read(&self) -> Result<String, DumpError> {
        match self {
            Self::File(path) => std::fs::read_to_string(path).map_err(|source| DumpError::Read {
                path: path.clone(),
                source,
            }),
            Self::Interface(interface) => {
                let output = Command::new("wg")
                    .args(["show", interface, "dump"])
                    .output()
                    .map_err(|source| DumpError::Spawn {
                        interface: interface.clone(),
                        source,
                    })?;
                if !output.status.success() {
                    return Err(DumpError::Failed {
                        interface: interface.clone(),
                        stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
                    });
                }
                Ok(String::from_utf8_lossy(&output.stdout).into_owned())
            }
        }
    }
}

/// What the registry says of a key on the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyState {
    /// An issued, active peer.
    Active,
    /// A revoked key, still configured on the gateway: an alarm.
    Revoked,
    /// A key the registry never issued: an alarm.
    Unknown,
}

/// One peer on the gateway, with its tenant and member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    /// The tenant, when the registry knows the key.
    pub tenant: Option<String>,
    /// The member, when the registry knows the key.
    pub member: Option<String>,
    /// The peer's key.
    pub public_key: PublicKey,
    /// Its tunnel address in the registry.
    pub address: Option<Ipv4Addr>,
    /// Where its packets last came from.
    pub endpoint: Option<SocketAddr>,
    /// Its latest handshake.
    pub latest_handshake: Option<Timestamp>,
    /// Whether its latest handshake is younger than [`REJECT_AFTER`].
    pub connected: bool,
    /// Bytes received from it since the interface came up.
    pub rx_bytes: u64,
    /// Bytes sent to it since the interface came up.
    pub tx_bytes: u64,
    /// What the registry says of its key.
    pub state: KeyState,
    /// Why this peer is an alarm, if it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alarm: Option<String>,
}

/// Each dump peer with its tenant and member (alarms first, then by tenant and member), judged at
/// `now`.
pub fn connections(peers: &[DumpPeer], registry: &Registry, now: Timestamp) -> Vec<Connection> {
    // A key's active record wins over revoked ones (a key is never issued twice, but be sure).
    let mut records: HashMap<&PublicKey, &PeerRecord> = HashMap::new();
    for record in registry.peers() {
        let slot = records.entry(&record.public_key).or_insert(record);
        if record.is_active() {
            *slot = record;
        }
    }
    let mut out: Vec<Connection> = peers
        .iter()
        .map(|peer| {
            let record = records.get(&peer.public_key).copied();
            let (state, alarm) = match record {
                None => (
                    KeyState::Unknown,
                    Some("key not in the registry, yet configured on the gateway".to_owned()),
                ),
                Some(r) => match &r.revoked {
                    None => (KeyState::Active, None),
                    Some(revoked) => (
                        KeyState::Revoked,
                        Some(format!(
                            "{} {} by {}, yet still configured on the gateway",
                            revoked.reason, revoked.at, revoked.by
                        )),
                    ),
                },
            };
            Connection {
                tenant: record.map(|r| r.tenant.clone()),
                member: record.map(|r| r.member.clone()),
                public_key: peer.public_key,
                address: record.map(|r| r.address.ipv4),
                endpoint: peer.endpoint,
                latest_handshake: peer.latest_handshake,
                connected: is_connected(peer.latest_handshake, now),
                rx_bytes: peer.rx_bytes,
                tx_bytes: peer.tx_bytes,
                state,
                alarm,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        (a.alarm.is_none(), &a.tenant, &a.member, a.public_key).cmp(&(
            b.alarm.is_none(),
            &b.tenant,
            &b.member,
            b.public_key,
        ))
    });
    out
}

/// Whether a handshake at `handshake` still holds at `now`.
pub fn is_connected(handshake: Option<Timestamp>, now: Timestamp) -> bool {
    // A handshake a little ahead of `now` (clocks apart) is as fresh as one at `now`.
    handshake.is_some_and(|h| now.duration_since(h) < REJECT_AFTER)
}
