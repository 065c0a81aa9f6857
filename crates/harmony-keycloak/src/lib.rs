//! The Keycloak adapter of harmony's identity sync: Keycloak's admin REST API and OpenID Connect
//! token endpoint over one ureq agent that trusts the identity provider's CA.
//!
//! [`Http`] carries every request (JSON or form bodies, bearer tokens, counts by method) and turns
//! transport failures into errors that name the fix; [`oidc`] gets tokens.

mod error;
mod http;
pub mod oidc;

pub use error::KeycloakError;
pub use http::{Body, Http, Method, Response};
