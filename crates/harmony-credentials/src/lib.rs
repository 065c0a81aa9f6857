//! Member credentials (issue 6, ADR 011 phase 1 automated): a kubeconfig per tenant member, scoped
//! to the member's role in the tenant namespace, short-lived and revocable.
//!
//! - [`TenantCredentialScore`] says *which* credential: tenant, member, lifetime, API endpoint and
//!   where the kubeconfig goes. It is built from a [`harmony_tenant::TenantScore`], so an unknown
//!   member, a `group:` member (their identity provider issues credentials) or a lifetime above
//!   the maximum are refused before anything is contacted or written.
//! - [`CredentialIssuer`] is the capability (issue, revoke, list) a topology implements;
//!   [`KubeCredentialIssuer`] implements it with kube-rs: `serviceAccount: true` members get a
//!   bound token from the TokenRequest API, `user:` members an X.509 client certificate through a
//!   CertificateSigningRequest (`kubernetes.io/kube-apiserver-client`) whose key never leaves
//!   this machine.
//! - [`CredentialLog`] is the append-only JSON-lines log of every issue and revocation (who,
//!   member, expiry; never a token or a key).
//!
//! - [`LoginKubeconfig`]: identity provider members (`oidc.user`, `oidc.group`) get a kubeconfig
//!   whose user runs the login plugin; nothing is issued at the cluster.
//! - [`oidc`] is `harmony auth oidc-token`, the exec credential plugin of members who log in at
//!   the identity provider (device grant or authorization code with PKCE, a 0600 token cache,
//!   refresh).
//!
//! Secrets (tokens, private keys, kubeconfigs) are held in [`Kubeconfig`], whose `Debug` output is
//! redacted; files holding them are written with mode 0600 from creation.

mod capability;
mod connect;
mod endpoint;
mod error;
mod issuer;
mod kubeconfig;
mod listing;
mod log;
mod login;
pub mod oidc;
mod output;
mod score;
mod ttl;

pub use capability::{
    ClusterCredential, ClusterCredentialState, CredentialIssuer, CredentialKind, CredentialRequest,
    Holder, IssuedCredential, Revocation, RevokeRequest,
};
pub use connect::{Connection, connect};
pub use endpoint::{Endpoint, api_server_from_gateway};
pub use error::CredentialError;
pub use issuer::{CSR_SIGNER, KubeCredentialIssuer, MEMBER_LABEL};
pub use kubeconfig::Kubeconfig;
pub use listing::{CredentialState, ListedCredential, merge};
pub use log::{CredentialLog, LogAction, LogEntry};
pub use login::LoginKubeconfig;
pub use output::Output;
pub use score::{IssueOptions, TenantCredentialScore};
pub use ttl::{DEFAULT_MAX_TTL, DEFAULT_TTL, MIN_TTL, Ttl};
