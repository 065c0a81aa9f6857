//! Why no token could be had. Messages name the URL, the flag or the OAuth error and the fix;
//! they never hold a token.

use std::time::Duration;

use harmony::private_file::FileError;

use super::http::OAuthError;

/// The plugin could not get a token; nothing secret is in the message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OidcError {
    /// A bad flag.
    #[error("{field}: {message}")]
    Invalid {
        /// The flag.
        field: String,
        /// What is wrong and what is accepted.
        message: String,
    },
    /// The identity provider did not answer.
    #[error(
        "cannot reach the identity provider at {url} ({reason}): check --issuer-url and that the \
         identity provider is up and reachable from here"
    )]
    Unreachable {
        /// The request URL.
        url: String,
        /// What the transport said.
        reason: String,
    },
    /// Its certificate is not signed by a trusted authority.
    #[error(
        "the identity provider at {url} presented a certificate not signed by an authority \
         harmony trusts: give the CA bundle that signed it with --certificate-authority FILE \
         (or --certificate-authority-data)"
    )]
    Untrusted {
        /// The request URL.
        url: String,
    },
    /// Its certificate is refused for another reason (name, dates).
    #[error(
        "the identity provider at {url} presented a certificate harmony refuses ({reason}): use \
         the host name the certificate is for in --issuer-url, and check it is valid now"
    )]
    BadCertificate {
        /// The request URL.
        url: String,
        /// What rustls said.
        reason: String,
    },
    /// No OpenID discovery document.
    #[error(
        "{url} answered {status}, not an OpenID configuration: check --issuer-url (for Keycloak \
         https://HOST/realms/REALM)"
    )]
    Discovery {
        /// The discovery URL.
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// The provider names another issuer than configured; the API server would refuse its
    /// tokens.
    #[error(
        "the identity provider announces issuer {announced}, not {configured}: use exactly \
         {announced} as --issuer-url (and in the API server's configuration), or fix the \
         provider's host name setting"
    )]
    IssuerMismatch {
        /// The --issuer-url.
        configured: String,
        /// What the discovery document says.
        announced: String,
    },
    /// The provider refused a request with an OAuth error.
    #[error("the identity provider refused at {url}: {error}{}; {fix}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Refused {
        /// The endpoint.
        url: String,
        /// The OAuth error code.
        error: String,
        /// Its description, when given.
        description: Option<String>,
        /// What to do.
        fix: &'static str,
    },
    /// An answer that is not the OAuth protocol.
    #[error("{url} answered {status} with no OAuth answer: is --issuer-url the right issuer?")]
    Unexpected {
        /// The endpoint.
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// The token answer has no ID token.
    #[error(
        "{url} returned no ID token: the client must allow the `openid` scope (the API server \
         authenticates ID tokens)"
    )]
    NoIdToken {
        /// The token endpoint.
        url: String,
    },
    /// The ID token is not a JWT with an `exp` claim.
    #[error("the identity provider's ID token is not a JWT with an `exp` claim: {0}")]
    BadToken(&'static str),
    /// The device grant is not offered.
    #[error(
        "the identity provider offers no device authorization endpoint: enable the device \
         authorization grant on client `{client_id}` (`harmony identity sync` does), or use \
         --grant authcode"
    )]
    NoDeviceGrant {
        /// The client.
        client_id: String,
    },
    /// Nobody completed the login in time.
    #[error("nobody completed the login within {0:?}: run the command again and log in sooner")]
    TimedOut(Duration),
    /// The loopback redirect could not be served.
    #[error(
        "cannot listen on 127.0.0.1 ports {ports} for the login redirect ({reason}): free one of \
         them, or pass --redirect-port with a port the client's redirect URIs allow"
    )]
    Listen {
        /// The ports tried.
        ports: String,
        /// The last error.
        reason: String,
    },
    /// The login redirect came back with an error or a wrong state.
    #[error("the login redirect {0}: log in again")]
    Redirect(String),
    /// The token cache could not be read or written.
    #[error("token cache: {0}")]
    Cache(#[from] FileError),
}

impl OidcError {
    /// The OAuth error `e` from `url`, with the fix for the usual codes.
    pub(super) fn refused(url: &str, e: OAuthError) -> Self {
        let fix = match e.error.as_str() {
            "invalid_client" | "unauthorized_client" => {
                "check --client-id, and that the client is public and allows this grant \
                 (`harmony identity sync` sets it up)"
            }
            "access_denied" => "the login was refused: log in again and approve the request",
            "expired_token" => "the code expired before the login: run the command again",
            "invalid_grant" => "log in again",
            "invalid_scope" => "the client must allow the `openid` scope",
            _ => "check the identity provider's log",
        };
        Self::Refused {
            url: url.to_string(),
            error: e.error,
            description: e.error_description,
            fix,
        }
    }
}
