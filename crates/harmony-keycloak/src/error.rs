//! Why a call to Keycloak failed, naming the URL and the fix. Never carries a secret: request
//! bodies and tokens stay out of every message.

use thiserror::Error;

/// Why a call to Keycloak failed.
#[derive(Debug, Error)]
pub enum KeycloakError {
    /// The URL is not `https://host...` (or `http://`).
    #[error(
        "`{0}` is not a Keycloak URL: write https://HOST[:PORT][/PATH], such as https://sso.example.com"
    )]
    BadUrl(String),
    /// The CA bundle holds no certificate.
    #[error(
        "the certificate authority bundle holds no PEM certificate: give a file with `-----BEGIN CERTIFICATE-----` blocks"
    )]
    BadCa,
    /// Nothing answered.
    #[error(
        "cannot reach Keycloak at {url}: {reason}; check the URL and that Keycloak listens there"
    )]
    Unreachable {
        /// The request URL.
        url: String,
        /// What the transport said.
        reason: String,
    },
    /// The server's certificate is not signed by a trusted authority.
    #[error(
        "Keycloak at {url} presented a certificate not signed by the certificate authority harmony was given: set the IdentityProvider's `spec.caFile` to the PEM bundle that signed it"
    )]
    Untrusted {
        /// The request URL.
        url: String,
    },
    /// The server's certificate is refused for another reason (expired, wrong name, ...).
    #[error(
        "Keycloak at {url} presented an unusable certificate ({reason}): fix its certificate or the URL's host name"
    )]
    BadCertificate {
        /// The request URL.
        url: String,
        /// Why rustls refused it.
        reason: String,
    },
    /// A password grant was refused (wrong user, password or client).
    #[error(
        "Keycloak refused the credentials of `{username}` for client `{client_id}` at {url} ({reason}): check the user name and password{hint}"
    )]
    BadCredentials {
        /// The token endpoint.
        url: String,
        /// The client the grant was for.
        client_id: String,
        /// The user.
        username: String,
        /// Keycloak's `error_description`.
        reason: String,
        /// What to check besides the password.
        hint: &'static str,
    },
    /// Any other answer than the expected one.
    #[error("Keycloak answered {method} {url} with HTTP {status}: {body}")]
    Unexpected {
        /// The request method.
        method: &'static str,
        /// The request URL.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The start of the answer's body.
        body: String,
    },
}
