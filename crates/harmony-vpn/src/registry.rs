//! The peer registry in memory: who holds which key and address, issued and revoked by whom.
//!
//! Revoked peers stay in the registry (their keys are never accepted again). Preshared keys are
//! kept apart from [`PeerRecord`] so that records can be shown without leaking them.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::VpnError;
use crate::keys::{PresharedKey, PublicKey};
use crate::pool::{AddressPool, Allocator, PeerAddress};

/// Registry format version written by this crate.
pub const REGISTRY_VERSION: u32 = 1;

/// One issued peer. Holds no secret: safe to print, log and serialize for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PeerRecord {
    /// The tenant.
    pub tenant: String,
    /// The member of the tenant.
    pub member: String,
    /// The peer's public key.
    pub public_key: PublicKey,
    /// Its tunnel addresses.
    pub address: PeerAddress,
    /// When it was issued.
    pub issued_at: Timestamp,
    /// Who issued it.
    pub issued_by: String,
    /// Set once revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked: Option<Revocation>,
}

impl PeerRecord {
    /// True until revoked.
    pub fn is_active(&self) -> bool {
        self.revoked.is_none()
    }
}

/// When, by whom and why a peer was revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Revocation {
    /// When.
    pub at: Timestamp,
    /// Who.
    pub by: String,
    /// Why: `revoked`, `rotated`, `member removed`, ...
    pub reason: String,
}

/// What the audit log records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditAction {
    /// A peer was issued.
    Issue,
    /// A peer was revoked.
    Revoke,
    /// A peer's key was replaced (the old key is revoked, the address kept).
    Rotate,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    /// When.
    pub at: Timestamp,
    /// What.
    pub action: AuditAction,
    /// The tenant.
    pub tenant: String,
    /// The member.
    pub member: String,
    /// The peer's (new) public key.
    pub public_key: PublicKey,
    /// The key replaced by a rotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_public_key: Option<PublicKey>,
    /// The peer's addresses.
    pub address: PeerAddress,
    /// Who.
    pub by: String,
    /// Why, for revocations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Audit events as JSON lines, each ending with a newline.
pub(crate) fn audit_lines(events: &[AuditEvent]) -> Vec<u8> {
    let mut lines = Vec::new();
    for event in events {
        serde_json::to_writer(&mut lines, event)
            .unwrap_or_else(|_| unreachable!("an audit event always serializes"));
        lines.push(b'\n');
    }
    lines
}

/// A request to issue (or re-key) a peer.
#[derive(Debug, Clone)]
pub struct NewPeer {
    /// The tenant.
    pub tenant: String,
    /// The member.
    pub member: String,
    /// The peer's public key.
    pub public_key: PublicKey,
    /// Its preshared key, if any.
    pub preshared_key: Option<PresharedKey>,
    /// Who asks.
    pub by: String,
}

/// The registry file's content.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct RegistryDocument {
    version: u32,
    peers: Vec<PeerRecord>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    preshared_keys: BTreeMap<PublicKey, PresharedKey>,
}

impl Default for RegistryDocument {
    fn default() -> Self {
        Self {
            version: REGISTRY_VERSION,
            peers: Vec::new(),
            preshared_keys: BTreeMap::new(),
        }
    }
}

/// All peers, indexed by key and by member, with the address allocator of a pool.
#[derive(Debug, Clone)]
pub struct Registry {
    document: RegistryDocument,
    pool: AddressPool,
    by_key: HashMap<PublicKey, usize>,
    active: HashMap<(String, String), usize>,
    allocator: Allocator,
}

impl Registry {
    /// An empty registry for `pool`.
    pub fn empty(pool: AddressPool) -> Self {
        Self::from_document(RegistryDocument::default(), pool)
            .unwrap_or_else(|_| unreachable!("an empty registry is consistent"))
    }

    /// Indexes a document; `Err` says why it is inconsistent.
    pub(crate) fn from_document(
        document: RegistryDocument,
        pool: AddressPool,
    ) -> Result<Self, String> {
        if document.version != REGISTRY_VERSION {
            return Err(format!(
                "version {} is not {REGISTRY_VERSION}",
                document.version
            ));
        }
        let mut by_key = HashMap::with_capacity(document.peers.len());
        let mut active = HashMap::new();
        let mut addresses = HashMap::new();
        for (i, peer) in document.peers.iter().enumerate() {
            if by_key.insert(peer.public_key, i).is_some() {
                return Err(format!("public key {} appears twice", peer.public_key));
            }
            if peer.is_active() {
                let who = (peer.tenant.clone(), peer.member.clone());
                if active.insert(who, i).is_some() {
                    return Err(format!(
                        "{}/{} has two active peers",
                        peer.tenant, peer.member
                    ));
                }
                if addresses.insert(peer.address.ipv4, i).is_some() {
                    return Err(format!(
                        "address {} is held by two active peers",
                        peer.address.ipv4
                    ));
                }
            }
        }
        if let Some(orphan) = document
            .preshared_keys
            .keys()
            .find(|k| !by_key.contains_key(*k))
        {
            return Err(format!("preshared key for unknown peer {orphan}"));
        }
        let slots = |active: bool| {
            document
                .peers
                .iter()
                .filter(move |p| p.is_active() == active)
                .filter_map(|p| pool.slot(p.address.ipv4))
                .collect::<Vec<_>>()
        };
        let allocator = Allocator::new(pool.capacity(), slots(true), slots(false));
        Ok(Self {
            pool,
            by_key,
            active,
            allocator,
            document,
        })
    }

    /// Reads a serialized registry; `Err` says why it cannot be trusted.
    pub(crate) fn parse(bytes: &[u8], pool: AddressPool) -> Result<Self, String> {
        let document: RegistryDocument =
            serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        Self::from_document(document, pool)
    }

    /// The registry serialized (pretty JSON with a final newline), as [`Self::parse`] reads it.
    pub(crate) fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(&self.document)
            .unwrap_or_else(|_| unreachable!("a registry document always serializes"));
        bytes.push(b'\n');
        bytes
    }

    /// Every peer ever issued, in issue order.
    pub fn peers(&self) -> &[PeerRecord] {
        &self.document.peers
    }

    /// Active peers, in issue order.
    pub fn active_peers(&self) -> impl Iterator<Item = &PeerRecord> {
        self.document.peers.iter().filter(|p| p.is_active())
    }

    /// The active peer of a member.
    pub fn find_active(&self, tenant: &str, member: &str) -> Option<&PeerRecord> {
        self.active
            .get(&(tenant.to_owned(), member.to_owned()))
            .map(|&i| &self.document.peers[i])
    }

    /// The preshared key of a peer, if it has one.
    pub fn preshared_key(&self, public_key: &PublicKey) -> Option<&PresharedKey> {
        self.document.preshared_keys.get(public_key)
    }

    /// Issues a peer at the next free address.
    pub fn issue(&mut self, peer: NewPeer, now: Timestamp) -> Result<AuditEvent, VpnError> {
        if let Some(active) = self.find_active(&peer.tenant, &peer.member) {
            return Err(VpnError::AlreadyIssued {
                tenant: peer.tenant,
                member: peer.member,
                public_key: active.public_key,
            });
        }
        self.check_new_key(&peer.public_key)?;
        let slot = self.allocator.allocate().ok_or(VpnError::PoolExhausted {
            pool: self.pool.ipv4().to_string(),
            capacity: self.pool.capacity(),
        })?;
        let address = self.pool.address(slot);
        Ok(self.push(peer, address, now, AuditAction::Issue, None))
    }

    /// Revokes a member's active peer and frees its address.
    pub fn revoke(
        &mut self,
        tenant: &str,
        member: &str,
        by: &str,
        reason: &str,
        now: Timestamp,
    ) -> Result<AuditEvent, VpnError> {
        let record = self.take_active(tenant, member, by, reason, now)?;
        if let Some(slot) = self.pool.slot(record.address.ipv4) {
            self.allocator.release(slot);
        }
        Ok(AuditEvent {
            at: now,
            action: AuditAction::Revoke,
            tenant: record.tenant,
            member: record.member,
            public_key: record.public_key,
            previous_public_key: None,
            address: record.address,
            by: by.into(),
            reason: Some(reason.into()),
        })
    }

    /// Replaces a member's key: the old peer is revoked, the new one keeps its address.
    pub fn rotate(&mut self, peer: NewPeer, now: Timestamp) -> Result<AuditEvent, VpnError> {
        self.check_new_key(&peer.public_key)?;
        let old = self.take_active(&peer.tenant, &peer.member, &peer.by, "rotated", now)?;
        Ok(self.push(
            peer,
            old.address,
            now,
            AuditAction::Rotate,
            Some(old.public_key),
        ))
    }

    fn check_new_key(&self, key: &PublicKey) -> Result<(), VpnError> {
        match self.by_key.get(key) {
            None => Ok(()),
            Some(&i) => {
                let p = &self.document.peers[i];
                let state = if p.is_active() { "" } else { " (revoked)" };
                Err(VpnError::DuplicatePublicKey {
                    public_key: *key,
                    owner: format!("{}/{}{state}", p.tenant, p.member),
                })
            }
        }
    }

    fn take_active(
        &mut self,
        tenant: &str,
        member: &str,
        by: &str,
        reason: &str,
        now: Timestamp,
    ) -> Result<PeerRecord, VpnError> {
        let i = self
            .active
            .remove(&(tenant.to_owned(), member.to_owned()))
            .ok_or_else(|| VpnError::NoActivePeer {
                tenant: tenant.into(),
                member: member.into(),
            })?;
        let record = &mut self.document.peers[i];
        self.document.preshared_keys.remove(&record.public_key);
        record.revoked = Some(Revocation {
            at: now,
            by: by.into(),
            reason: reason.into(),
        });
        Ok(record.clone())
    }

    fn push(
        &mut self,
        peer: NewPeer,
        address: PeerAddress,
        now: Timestamp,
        action: AuditAction,
        previous_public_key: Option<PublicKey>,
    ) -> AuditEvent {
        let i = self.document.peers.len();
        self.by_key.insert(peer.public_key, i);
        self.active
            .insert((peer.tenant.clone(), peer.member.clone()), i);
        if let Some(psk) = peer.preshared_key {
            self.document.preshared_keys.insert(peer.public_key, psk);
        }
        let event = AuditEvent {
            at: now,
            action,
            tenant: peer.tenant.clone(),
            member: peer.member.clone(),
            public_key: peer.public_key,
            previous_public_key,
            address,
            by: peer.by.clone(),
            reason: None,
        };
        self.document.peers.push(PeerRecord {
            tenant: peer.tenant,
            member: peer.member,
            public_key: peer.public_key,
            address,
            issued_at: now,
            issued_by: peer.by,
            revoked: None,
        });
        event
    }
}
