//! VPN peers as access held outside the cluster ([`ExternalAccess`]): revoked before a tenant's
//! or a member's RoleBindings go. Revoking needs the registry and the gateway's address pool,
//! never the server key.

use harmony_tenant::{ExternalAccess, RevokeError, RevokeMode, RevokedAccess, TenantScore};

use crate::VpnError;
use crate::backend::RegistryBackend;
use crate::capability::{check_by, revoke_matching};
use crate::gateway::Gateway;
use crate::members::KnownMembers;
use crate::registry::PeerRecord;

/// The revocation reason of a deleted tenant's peers.
pub const TENANT_REMOVED: &str = "tenant removed";
/// The revocation reason of the peers of members no longer in their tenant's spec.
pub const MEMBER_REMOVED: &str = "member removed";

/// Revokes the peers of removed tenants and members in a gateway's registry.
#[derive(Debug, Clone)]
pub struct PeerRevoker {
    gateway: Gateway,
    backend: RegistryBackend,
    by: String,
}

impl PeerRevoker {
    /// Revokes peers of `gateway` in the registry `backend` as `by` (who, for the registry and its
    /// audit log); an empty `by` is refused.
    pub fn new(gateway: Gateway, backend: RegistryBackend, by: &str) -> Result<Self, VpnError> {
        check_by(by)?;
        Ok(Self {
            gateway,
            backend,
            by: by.into(),
        })
    }

    /// The gateway.
    pub fn gateway(&self) -> &Gateway {
        &self.gateway
    }

    /// Where the registry lives.
    pub fn backend(&self) -> &RegistryBackend {
        &self.backend
    }

    /// Revokes (or in a dry run, lists) the active peers `select` picks, for `reason`.
    fn revoke(
        &self,
        select: &(dyn Fn(&PeerRecord) -> bool + Sync),
        reason: &str,
        mode: RevokeMode,
    ) -> Result<Vec<RevokedAccess>, VpnError> {
        let peers = match mode {
            RevokeMode::Revoke => {
                revoke_matching(&self.backend, self.gateway.pool, select, &self.by, reason)?
            }
            RevokeMode::DryRun => self
                .backend
                .load(self.gateway.pool)?
                .active_peers()
                .filter(|p| select(p))
                .cloned()
                .collect(),
        };
        let location = self.backend.describe();
        Ok(peers
            .into_iter()
            .map(|p| RevokedAccess {
                kind: "VPN peer".into(),
                detail: format!("{}, {}", p.address.ipv4, p.public_key),
                tenant: p.tenant,
                member: p.member,
                location: location.clone(),
            })
            .collect())
    }

    /// Runs [`Self::revoke`] off the async workers: the registry is a locked file or a Secret
    /// reached through its own runtime, both blocking.
    async fn revoke_blocking(
        &self,
        select: impl Fn(&PeerRecord) -> bool + Send + Sync + 'static,
        reason: &'static str,
        mode: RevokeMode,
    ) -> Result<Vec<RevokedAccess>, RevokeError> {
        let this = self.clone();
        match tokio::task::spawn_blocking(move || this.revoke(&select, reason, mode)).await {
            Ok(revoked) => revoked.map_err(RevokeError::new),
            Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
            Err(join) => Err(RevokeError::new(join)),
        }
    }
}

#[harmony::async_trait]
impl ExternalAccess for PeerRevoker {
    async fn revoke_tenant(&self, tenant: &str) -> Result<Vec<RevokedAccess>, RevokeError> {
        let tenant = tenant.to_owned();
        self.revoke_blocking(
            move |p| p.tenant == tenant,
            TENANT_REMOVED,
            RevokeMode::Revoke,
        )
        .await
    }

    async fn revoke_removed_members(
        &self,
        tenants: &[TenantScore],
        mode: RevokeMode,
    ) -> Result<Vec<RevokedAccess>, RevokeError> {
        let known = KnownMembers::of(tenants);
        self.revoke_blocking(
            move |p| known.has_tenant(&p.tenant) && !known.contains(&p.tenant, &p.member),
            MEMBER_REMOVED,
            mode,
        )
        .await
    }
}
