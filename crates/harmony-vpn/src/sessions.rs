//! VPN sessions over time: a [`SessionTracker`] turns successive samples of the gateway's peers
//! into `connected` and `disconnected` lines, and a [`SessionLog`] appends them as JSON lines to
//! a 0600 file, each synced to disk before the next sample. A session ends when its latest
//! handshake is older than [`REJECT_AFTER`] (its keys are refused from then on) or its key leaves
//! the gateway. After a restart the sessions the log left open are taken up again, so no session
//! is lost or written twice.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::net::SocketAddr;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use harmony::private_file::{FileError, PRIVATE_MODE};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::Registry;
use crate::connections::{
    Connection, Dump, DumpError, DumpProblem, DumpSource, REJECT_AFTER, connections, is_connected,
};
use crate::keys::PublicKey;

/// Who a session belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionPeer {
    /// The tenant (none for a key the registry does not know).
    pub tenant: Option<String>,
    /// The member.
    pub member: Option<String>,
    /// The peer's key.
    pub public_key: PublicKey,
    /// Where it connected from.
    pub from: Option<SocketAddr>,
    /// Why the key is an alarm (unknown or revoked), if it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm: Option<String>,
}

/// The gateway's byte counters of a peer (since its interface came up).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Counters {
    /// Bytes received from the peer.
    pub rx: u64,
    /// Bytes sent to the peer.
    pub tx: u64,
}

/// One line of the session log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum SessionLine {
    /// A session began: first seen with a fresh handshake.
    Connected {
        /// Who.
        #[serde(flatten)]
        peer: SessionPeer,
        /// The first handshake seen.
        #[serde(rename = "connectedAt")]
        connected_at: Timestamp,
        /// The gateway's counters when the session began, to count its bytes.
        counters: Counters,
    },
    /// A session ended.
    Disconnected {
        /// Who.
        #[serde(flatten)]
        peer: SessionPeer,
        /// When it began.
        #[serde(rename = "connectedAt")]
        connected_at: Timestamp,
        /// When it ended: its last handshake plus [`REJECT_AFTER`], or when its key left the
        /// gateway, whichever came first.
        until: Timestamp,
        /// Bytes received from the peer during the session.
        #[serde(rename = "rxBytes")]
        rx_bytes: u64,
        /// Bytes sent to the peer during the session.
        #[serde(rename = "txBytes")]
        tx_bytes: u64,
    },
}

/// A session not ended yet.
#[derive(Debug, Clone)]
struct Open {
    peer: SessionPeer,
    connected_at: Timestamp,
    base: Counters,
    last_handshake: Timestamp,
    last: Counters,
}

impl Open {
    fn close(self, now: Timestamp) -> SessionLine {
        let expiry = self.last_handshake.checked_add(REJECT_AFTER).unwrap_or(now);
        SessionLine::Disconnected {
            peer: self.peer,
            connected_at: self.connected_at,
            until: expiry.min(now).max(self.connected_at),
            rx_bytes: self.last.rx.saturating_sub(self.base.rx),
            tx_bytes: self.last.tx.saturating_sub(self.base.tx),
        }
    }
}

/// Turns samples of the gateway's peers into session lines.
#[derive(Debug, Default)]
pub struct SessionTracker {
    open: HashMap<PublicKey, Open>,
    seen: HashMap<PublicKey, Counters>,
}

impl SessionTracker {
    /// Takes up the sessions `lines` (a log, oldest first) left open.
    pub fn resume<'a>(lines: impl IntoIterator<Item = &'a SessionLine>) -> Self {
        let mut tracker = Self::default();
        for line in lines {
            match line {
                SessionLine::Connected {
                    peer,
                    connected_at,
                    counters,
                } => {
                    tracker.open.insert(
                        peer.public_key,
                        Open {
                            peer: peer.clone(),
                            connected_at: *connected_at,
                            base: *counters,
                            last_handshake: *connected_at,
                            last: *counters,
                        },
                    );
                }
                SessionLine::Disconnected { peer, .. } => {
                    tracker.open.remove(&peer.public_key);
                }
            }
        }
        tracker
    }

    /// The sessions open now.
    pub fn open_sessions(&self) -> usize {
        self.open.len()
    }

    /// What changed since the last sample: sessions begun and ended, ended ones first.
    pub fn observe(&mut self, peers: &[Connection], now: Timestamp) -> Vec<SessionLine> {
        let mut ended = Vec::new();
        let mut begun = Vec::new();
        let present: HashMap<PublicKey, &Connection> =
            peers.iter().map(|c| (c.public_key, c)).collect();
        let gone: Vec<PublicKey> = self
            .open
            .keys()
            .filter(|k| !present.contains_key(k))
            .copied()
            .collect();
        for key in gone {
            if let Some(open) = self.open.remove(&key) {
                ended.push(open.close(now));
            }
        }
        for peer in peers {
            let counters = Counters {
                rx: peer.rx_bytes,
                tx: peer.tx_bytes,
            };
            let live = is_connected(peer.latest_handshake, now);
            if let Some(open) = self.open.get_mut(&peer.public_key) {
                if counters.rx < open.last.rx || counters.tx < open.last.tx {
                    // The interface restarted: its counters began again at zero.
                    open.base = Counters::default();
                }
                open.last = counters;
                if let Some(handshake) = peer.latest_handshake {
                    open.last_handshake = open.last_handshake.max(handshake);
                }
                if !live && let Some(open) = self.open.remove(&peer.public_key) {
                    ended.push(open.close(now));
                }
            } else if live && let Some(handshake) = peer.latest_handshake {
                // Bytes count from the previous sample when there was one (the peer was idle
                // then), else from now.
                let base = self
                    .seen
                    .get(&peer.public_key)
                    .copied()
                    .filter(|b| b.rx <= counters.rx && b.tx <= counters.tx)
                    .unwrap_or(counters);
                let session = SessionPeer {
                    tenant: peer.tenant.clone(),
                    member: peer.member.clone(),
                    public_key: peer.public_key,
                    from: peer.endpoint,
                    alarm: peer.alarm.clone(),
                };
                begun.push(SessionLine::Connected {
                    peer: session.clone(),
                    connected_at: handshake,
                    counters: base,
                });
                self.open.insert(
                    peer.public_key,
                    Open {
                        peer: session,
                        connected_at: handshake,
                        base,
                        last_handshake: handshake,
                        last: counters,
                    },
                );
            }
            self.seen.insert(peer.public_key, counters);
        }
        self.seen.retain(|key, _| present.contains_key(key));
        ended.extend(begun);
        ended
    }
}

/// A line of the log that could not be read (skipped; the others still count).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogProblem {
    /// Its line number, from 1.
    pub line: usize,
    /// What is wrong with it.
    pub message: String,
}

/// The session log: JSON lines appended to a 0600 file.
#[derive(Debug)]
pub struct SessionLog {
    path: PathBuf,
    file: File,
}

/// Opening or writing the session log failed.
#[derive(Debug, thiserror::Error)]
pub enum SessionLogError {
    /// The file could not be opened, read or written.
    #[error(transparent)]
    File(#[from] FileError),
    /// The file is readable by others than its owner.
    #[error("{}: mode {mode:o} lets others read who connected from where; run `chmod 600 {}`", path.display(), path.display())]
    NotPrivate {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
}

impl SessionLog {
    /// Opens (or creates, 0600) the log at `path` and reads the lines already in it. A last line
    /// cut short by a crash is reported and closed with a line break, so the next line starts
    /// clean.
    pub fn open(path: &Path) -> Result<(Self, Vec<SessionLine>, Vec<LogProblem>), SessionLogError> {
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .mode(PRIVATE_MODE)
            .open(path)
            .map_err(FileError::at(path))?;
        let mode = file
            .metadata()
            .map_err(FileError::at(path))?
            .permissions()
            .mode()
            & 0o777;
        if mode & 0o077 != 0 {
            return Err(SessionLogError::NotPrivate {
                path: path.to_path_buf(),
                mode,
            });
        }
        let mut lines = Vec::new();
        let mut problems = Vec::new();
        for (index, line) in BufReader::new(&file).split(b'\n').enumerate() {
            let line = line.map_err(FileError::at(path))?;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<SessionLine>(&line) {
                Ok(parsed) => lines.push(parsed),
                Err(e) => problems.push(LogProblem {
                    line: index + 1,
                    message: format!("not a session line: {e}"),
                }),
            }
        }
        let length = file.seek(SeekFrom::End(0)).map_err(FileError::at(path))?;
        let mut last = [b'\n'];
        if length > 0 {
            file.seek(SeekFrom::End(-1)).map_err(FileError::at(path))?;
            file.read_exact(&mut last).map_err(FileError::at(path))?;
        }
        let ends_cleanly = last[0] == b'\n';
        let mut log = Self {
            path: path.to_path_buf(),
            file,
        };
        if !ends_cleanly {
            log.file
                .write_all(b"\n")
                .and_then(|()| log.file.sync_data())
                .map_err(FileError::at(path))?;
        }
        Ok((log, lines, problems))
    }

    /// Appends `lines` in one write and syncs them to disk.
    pub fn append(&mut self, lines: &[SessionLine]) -> Result<(), SessionLogError> {
        if lines.is_empty() {
            return Ok(());
        }
        let mut bytes = Vec::new();
        for line in lines {
            // A session line always serializes: its fields are strings, numbers and times.
            serde_json::to_writer(&mut bytes, line).expect("a session line serializes");
            bytes.push(b'\n');
        }
        self.file
            .write_all(&bytes)
            .and_then(|()| self.file.sync_data())
            .map_err(FileError::at(&self.path))?;
        Ok(())
    }
}

/// Watching the gateway failed for one sample.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// The dump could not be read.
    #[error(transparent)]
    Dump(#[from] DumpError),
    /// The log could not be written.
    #[error(transparent)]
    Log(#[from] SessionLogError),
}

/// What one sample found.
#[derive(Debug, Default)]
pub struct Sample {
    /// The session lines written.
    pub lines: Vec<SessionLine>,
    /// The dump lines skipped.
    pub problems: Vec<DumpProblem>,
}

/// One sample of a watch: reads the dump, maps its keys through `registry`, and appends the
/// sessions begun and ended to `log` (synced before returning).
pub fn sample(
    source: &DumpSource,
    registry: &Registry,
    tracker: &mut SessionTracker,
    log: &mut SessionLog,
    now: Timestamp,
) -> Result<Sample, WatchError> {
    let dump = Dump::parse(&source.read()?);
    let peers = connections(&dump.peers, registry, now);
    let lines = tracker.observe(&peers, now);
    log.append(&lines)?;
    Ok(Sample {
        lines,
        problems: dump.problems,
    })
}
