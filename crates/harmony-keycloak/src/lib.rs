//! The Keycloak adapter of harmony's identity sync: Keycloak's admin REST API and OpenID Connect
//! token endpoint over one ureq agent that trusts the identity provider's CA.
//!
//! [`Http`] carries every request (JSON or form bodies, bearer tokens, counts by method) and turns
//! transport failures into errors that name the fix; [`oidc`] gets tokens; [`Admin`] is the admin
//! API as one administrator (credentials from the environment or a 0600 file); [`KeycloakSync`]
//! plans and applies `harmony identity sync` ([`sync`]); [`AuditLog`] records every change.

pub mod admin;
pub mod audit_log;
pub mod client;
mod error;
mod http;
pub mod oidc;
pub mod sync;

pub use admin::{Admin, AdminCredentials};
pub use audit_log::AuditLog;
pub use error::KeycloakError;
pub use http::{Body, Http, Method, Response};
pub use sync::{KeycloakSync, Plan, Step, SyncError};
