//! The `VpnGateway` capability and its WireGuard adapter over a registry backend.

use std::path::Path;

use crate::VpnError;
use crate::backend::RegistryBackend;
use crate::gateway::Gateway;
use crate::keys::{PresharedKey, PrivateKey, PublicKey};
use crate::members::KnownMembers;
use crate::pool::AddressPool;
use crate::registry::{AuditEvent, NewPeer, PeerRecord, Registry};
use crate::render::{self, ConfigText};
use crate::revoker::{MEMBER_REMOVED, TENANT_REMOVED};
use crate::server_key::ServerKey;
use crate::store::RegistryStore;

/// Whether a peer gets a preshared key.
#[derive(Debug, Clone, Default)]
pub enum PresharedKeyChoice {
    /// No preshared key.
    #[default]
    None,
    /// Harmony generates one.
    Generate,
    /// This one.
    Given(PresharedKey),
}

/// A request for a member's peer.
#[derive(Debug, Clone)]
pub struct PeerRequest {
    /// The tenant.
    pub tenant: String,
    /// The member.
    pub member: String,
    /// The member's own public key (preferred: the private key never leaves their machine);
    /// `None` to have Harmony generate the key pair.
    pub public_key: Option<PublicKey>,
    /// Preshared key.
    pub preshared_key: PresharedKeyChoice,
    /// Who asks (for the registry and the audit log).
    pub by: String,
}

/// A freshly issued peer and its client config. The config holds the private key only when
/// Harmony generated it; it is not stored anywhere, so write it now or lose it.
#[derive(Debug, Clone)]
pub struct IssuedPeer {
    /// The registry entry.
    pub record: PeerRecord,
    /// The client `wg-quick` config.
    pub client_config: ConfigText,
}

/// VPN access for tenant members: issue, rotate, revoke and list peers.
pub trait VpnGateway {
    /// Issues peers for several members at once; all or none (one registry write).
    fn issue_peers(
        &self,
        members: &KnownMembers,
        requests: Vec<PeerRequest>,
    ) -> Result<Vec<IssuedPeer>, VpnError>;

    /// Issues a peer for a member that has none.
    fn issue_peer(
        &self,
        members: &KnownMembers,
        request: PeerRequest,
    ) -> Result<IssuedPeer, VpnError> {
        let mut issued = self.issue_peers(members, vec![request])?;
        Ok(issued.remove(0))
    }

    /// Gives a member's peer a new key (and preshared key); the address is kept.
    fn rotate_peer(
        &self,
        members: &KnownMembers,
        request: PeerRequest,
    ) -> Result<IssuedPeer, VpnError>;

    /// Revokes a member's active peer.
    fn revoke_peer(&self, tenant: &str, member: &str, by: &str) -> Result<PeerRecord, VpnError>;

    /// Revokes every active peer `select` picks, for `reason`, in one registry write.
    fn revoke_matching(
        &self,
        select: &(dyn Fn(&PeerRecord) -> bool + Sync),
        by: &str,
        reason: &str,
    ) -> Result<Vec<PeerRecord>, VpnError>;

    /// Revokes every active peer whose tenant or member is no longer known.
    fn revoke_missing(
        &self,
        members: &KnownMembers,
        by: &str,
    ) -> Result<Vec<PeerRecord>, VpnError> {
        self.revoke_matching(
            &|p| !members.contains(&p.tenant, &p.member),
            by,
            MEMBER_REMOVED,
        )
    }

    /// Revokes every active peer of a tenant (before the tenant is removed).
    fn revoke_tenant(&self, tenant: &str, by: &str) -> Result<Vec<PeerRecord>, VpnError> {
        self.revoke_matching(&|p| p.tenant == tenant, by, TENANT_REMOVED)
    }

    /// Every peer ever issued, revoked ones included.
    fn peers(&self) -> Result<Vec<PeerRecord>, VpnError>;
}

/// The WireGuard adapter: a registry, rendered to WireGuard and nftables configs.
#[derive(Debug, Clone)]
pub struct WireGuardGateway {
    gateway: Gateway,
    backend: RegistryBackend,
    server_key: ServerKey,
}

impl WireGuardGateway {
    /// Opens the gateway's state in `state_dir` (registry and server key), generating the server
    /// key there on first use when the gateway file names none.
    pub fn open(gateway: Gateway, state_dir: &Path) -> Result<Self, VpnError> {
        let backend = RegistryBackend::File(RegistryStore::new(state_dir));
        Self::with_backend(gateway, backend, state_dir)
    }

    /// Opens the gateway with its registry in `backend` and its server key in `key_dir`.
    ///
    /// The server private key never goes into a cluster Secret: it is the gateway's identity, needed
    /// only where the gateway config is rendered, and whoever reads Secrets in `harmony-system` (or
    /// an etcd backup) could otherwise impersonate the gateway to every member. Keep it in
    /// `key_dir` (0600), or name only its public key in the gateway file.
    pub fn with_backend(
        gateway: Gateway,
        backend: RegistryBackend,
        key_dir: &Path,
    ) -> Result<Self, VpnError> {
        let server_key = ServerKey::load_or_create(&gateway, key_dir)?;
        Ok(Self {
            gateway,
            backend,
            server_key,
        })
    }

    /// The validated gateway.
    pub fn gateway(&self) -> &Gateway {
        &self.gateway
    }

    /// Where the registry lives.
    pub fn backend(&self) -> &RegistryBackend {
        &self.backend
    }

    /// The server's key.
    pub fn server_key(&self) -> &ServerKey {
        &self.server_key
    }

    /// The current registry (read without excluding writers: every write is atomic).
    pub fn registry(&self) -> Result<Registry, VpnError> {
        self.backend.load(self.gateway.pool)
    }

    /// The server `wg-quick` config (holds the server private key when Harmony manages it).
    pub fn server_config(&self) -> Result<ConfigText, VpnError> {
        Ok(render::server_config(
            &self.gateway,
            &self.server_key,
            &self.registry()?,
        ))
    }

    /// The `wg syncconf` peer set (holds the server private key when Harmony manages it).
    pub fn peer_set(&self) -> Result<ConfigText, VpnError> {
        Ok(render::peer_set(
            &self.gateway,
            &self.server_key,
            &self.registry()?,
        ))
    }

    /// The nftables ruleset.
    pub fn nftables(&self) -> Result<String, VpnError> {
        Ok(render::nftables(&self.gateway, &self.registry()?))
    }

    /// Checks a request and makes its keys: `(new peer, generated private key)`.
    fn prepare(
        members: &KnownMembers,
        request: PeerRequest,
    ) -> Result<(NewPeer, Option<PrivateKey>), VpnError> {
        members.check(&request.tenant, &request.member)?;
        check_by(&request.by)?;
        let private_key = request.public_key.is_none().then(PrivateKey::generate);
        let public_key = match (&request.public_key, &private_key) {
            (Some(key), _) => *key,
            (None, Some(generated)) => generated.public_key(),
            (None, None) => unreachable!("a key is generated when none is given"),
        };
        let preshared_key = match request.preshared_key {
            PresharedKeyChoice::None => None,
            PresharedKeyChoice::Generate => Some(PresharedKey::generate()),
            PresharedKeyChoice::Given(key) => Some(key),
        };
        let peer = NewPeer {
            tenant: request.tenant,
            member: request.member,
            public_key,
            preshared_key,
            by: request.by,
        };
        Ok((peer, private_key))
    }

    fn issued(
        &self,
        registry: &Registry,
        event: &AuditEvent,
        key: Option<&PrivateKey>,
    ) -> IssuedPeer {
        let record = registry
            .find_active(&event.tenant, &event.member)
            .cloned()
            .unwrap_or_else(|| unreachable!("the peer was just issued"));
        let client_config = render::client_config(
            &self.gateway,
            &self.server_key.public_key(),
            &record,
            key,
            registry.preshared_key(&record.public_key),
        );
        IssuedPeer {
            record,
            client_config,
        }
    }
}

pub(crate) fn check_by(by: &str) -> Result<(), VpnError> {
    if by.trim().is_empty() {
        return Err(VpnError::InvalidField {
            field: "--by".into(),
            value: by.into(),
            fix: "must name who acts (defaults to $USER)".into(),
        });
    }
    Ok(())
}

impl VpnGateway for WireGuardGateway {
    fn issue_peers(
        &self,
        members: &KnownMembers,
        requests: Vec<PeerRequest>,
    ) -> Result<Vec<IssuedPeer>, VpnError> {
        let prepared = requests
            .into_iter()
            .map(|r| Self::prepare(members, r))
            .collect::<Result<Vec<_>, _>>()?;
        self.backend.update(self.gateway.pool, |registry, now| {
            let mut events = Vec::with_capacity(prepared.len());
            for (peer, _) in &prepared {
                events.push(registry.issue(peer.clone(), now)?);
            }
            let issued = events
                .iter()
                .zip(&prepared)
                .map(|(event, (_, key))| self.issued(registry, event, key.as_ref()))
                .collect();
            Ok((issued, events))
        })
    }

    fn rotate_peer(
        &self,
        members: &KnownMembers,
        request: PeerRequest,
    ) -> Result<IssuedPeer, VpnError> {
        let (peer, key) = Self::prepare(members, request)?;
        self.backend.update(self.gateway.pool, |registry, now| {
            let event = registry.rotate(peer.clone(), now)?;
            Ok((self.issued(registry, &event, key.as_ref()), vec![event]))
        })
    }

    fn revoke_peer(&self, tenant: &str, member: &str, by: &str) -> Result<PeerRecord, VpnError> {
        check_by(by)?;
        self.backend.update(self.gateway.pool, |registry, now| {
            let event = registry.revoke(tenant, member, by, "revoked", now)?;
            let record = revoked_record(registry, &event);
            Ok((record, vec![event]))
        })
    }

    fn revoke_matching(
        &self,
        select: &(dyn Fn(&PeerRecord) -> bool + Sync),
        by: &str,
        reason: &str,
    ) -> Result<Vec<PeerRecord>, VpnError> {
        check_by(by)?;
        revoke_matching(&self.backend, self.gateway.pool, select, by, reason)
    }

    fn peers(&self) -> Result<Vec<PeerRecord>, VpnError> {
        Ok(self.registry()?.peers().to_vec())
    }
}

/// Revokes every active peer `select` picks in the registry of `backend`, in one write.
pub(crate) fn revoke_matching(
    backend: &RegistryBackend,
    pool: AddressPool,
    select: &(dyn Fn(&PeerRecord) -> bool + Sync),
    by: &str,
    reason: &str,
) -> Result<Vec<PeerRecord>, VpnError> {
    backend.update(pool, |registry, now| {
        let selected: Vec<(String, String)> = registry
            .active_peers()
            .filter(|p| select(p))
            .map(|p| (p.tenant.clone(), p.member.clone()))
            .collect();
        let mut events = Vec::with_capacity(selected.len());
        for (tenant, member) in selected {
            events.push(registry.revoke(&tenant, &member, by, reason, now)?);
        }
        let records = events.iter().map(|e| revoked_record(registry, e)).collect();
        Ok((records, events))
    })
}

fn revoked_record(registry: &Registry, event: &AuditEvent) -> PeerRecord {
    registry
        .peers()
        .iter()
        .find(|p| p.public_key == event.public_key)
        .cloned()
        .unwrap_or_else(|| unreachable!("the peer was just revoked"))
}
