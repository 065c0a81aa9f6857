//! Identity phase 2 (ADR 011), the domain: tenant members come from an OpenID Connect identity
//! provider. No I/O here.
//!
//! - [`IdentityProvider`]: the `kind: IdentityProvider` file (issuer, CA bundle, kubectl's
//!   client id, the username and groups claims with the prefixes the API server adds, and the
//!   Keycloak adapter's admin endpoint and realm), loaded by [`load_identity_provider`] through
//!   the core's loader, so every problem is located; [`IdentityProvider::facts`] gives the
//!   tenant compiler the names the API server sees.
//! - [`directory`]: the groups and memberships tenants need, what the identity provider holds,
//!   and the [`Change`]s between them.

pub mod directory;
mod provider;

pub use directory::{Change, Conflict, Desired, Observed, desired, diff};

pub use provider::{
    ClaimMapping, IDENTITY_PROVIDER_KIND, IdentityProvider, IdentityProviderSpec, KeycloakSpec,
    load_identity_provider,
};
