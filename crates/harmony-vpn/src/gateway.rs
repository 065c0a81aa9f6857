//! The gateway file (`kind: VpnGateway`): its model and validation are the domain's
//! ([`harmony_tenant::vpn`]), shared with the credentials adapter; read one with
//! [`harmony_tenant::vpn::load_gateway`].

pub use harmony_tenant::API_VERSION;
pub use harmony_tenant::vpn::{
    AddressPoolSpec, DEFAULT_KEEPALIVE, DEFAULT_PORTS, GATEWAY_KIND, Gateway, GatewayMetadata,
    GatewaySpec, MIN_REACHABLE_PREFIX_V4, MIN_REACHABLE_PREFIX_V6, Reachable, ReachableSpec,
    VpnGatewayConfig, load_gateway,
};
