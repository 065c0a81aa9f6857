//! VPN-only API access: WireGuard peers for tenant members.
