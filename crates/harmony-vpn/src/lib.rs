//! VPN-only API access: WireGuard peers for tenant members.
//!
//! A [`VpnGatewayConfig`] file (`kind: VpnGateway`) describes the gateway (its model is the
//! domain's, [`harmony_tenant::vpn`], re-exported here). The [`VpnGateway`]
//! capability issues, rotates and revokes member peers; [`WireGuardGateway`] implements it over a
//! crash-safe registry ([`RegistryBackend`]: a state dir, [`RegistryStore`], or a Secret of a live
//! cluster, [`SecretStore`]) and renders client and server `wg-quick` configs,
//! a `wg syncconf` peer set and nftables rules ([`render`]). [`PeerRevoker`] is the peers as
//! [`harmony_tenant::ExternalAccess`]: what tenant deletion and member removal revoke before
//! RoleBindings, with the registry alone (no server key). [`connections`] maps the gateway's
//! `wg show dump` to tenants and members; [`sessions`] turns its samples into a session log.
//!
//! ```no_run
//! use harmony::Documents;
//! use harmony_vpn::{KnownMembers, PeerRequest, VpnGateway, WireGuardGateway, load_gateway};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let gateway = load_gateway(&Documents::read(&["vpn-gateway.yaml"])?)?;
//! let vpn = WireGuardGateway::open(gateway, ".harmony/vpn".as_ref())?;
//! let members = KnownMembers::from_pairs([("acme", "alice")]);
//! let issued = vpn.issue_peer(&members, PeerRequest {
//!     tenant: "acme".into(),
//!     member: "alice".into(),
//!     public_key: None,
//!     preshared_key: Default::default(),
//!     by: "ops".into(),
//! })?;
//! println!("{} got {}", issued.record.member, issued.record.address.ipv4);
//! # Ok(()) }
//! ```

mod backend;
mod capability;
pub mod cluster;
pub mod connections;
mod error;
mod gateway;
pub mod keys;
mod members;
mod pool;
mod qr;
mod registry;
pub mod render;
mod revoker;
mod server_key;
pub mod sessions;
mod store;

pub use backend::RegistryBackend;
pub use capability::{IssuedPeer, PeerRequest, PresharedKeyChoice, VpnGateway, WireGuardGateway};
pub use cluster::SecretStore;
pub use error::VpnError;
pub use gateway::{
    API_VERSION, AddressPoolSpec, DEFAULT_KEEPALIVE, DEFAULT_PORTS, GATEWAY_KIND, Gateway,
    GatewayMetadata, GatewaySpec, MIN_REACHABLE_PREFIX_V4, MIN_REACHABLE_PREFIX_V6, Reachable,
    ReachableSpec, VpnGatewayConfig, load_gateway,
};
pub use members::KnownMembers;
pub use pool::{AddressPool, Allocator, PeerAddress};
pub use qr::terminal_qr;
pub use registry::{
    AuditAction, AuditEvent, NewPeer, PeerRecord, REGISTRY_VERSION, Registry, Revocation,
};
pub use revoker::{MEMBER_REMOVED, PeerRevoker, TENANT_REMOVED};
pub use server_key::{SERVER_KEY_FILE, ServerKey};
pub use store::{AUDIT_FILE, REGISTRY_FILE, RegistryStore};
