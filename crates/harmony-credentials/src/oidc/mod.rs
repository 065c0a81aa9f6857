//! `harmony auth oidc-token`: a client-go exec credential plugin for members who log in at the
//! identity provider (OIDC single sign-on).
//!
//! [`OidcLogin::token`] returns an ID token for the kubectl client, in this order:
//! 1. the cached one, while it is valid for at least another minute;
//! 2. a new one from the cached refresh token (`grant_type=refresh_token`);
//! 3. a new login: the device authorization grant (RFC 8628) by default, or the authorization
//!    code grant with PKCE (RFC 7636, S256) on a loopback redirect.
//!
//! The cache ([`TokenCache`]) is a 0600 file per issuer and client under the user's cache
//! folder. Tokens are printed only inside the [`ExecCredential`] on standard output: never in
//! errors, prompts or `Debug` output.

mod authcode;
mod cache;
mod device;
mod error;
mod exec;
mod http;
mod pkce;

use std::io::Write;
use std::path::PathBuf;

pub use authcode::DEFAULT_REDIRECT_PORTS;
pub use cache::{CachedTokens, TokenCache, default_cache_dir};
pub use error::OidcError;
pub use exec::{ExecCredential, token_expiry};
use http::IdpClient;
pub use pkce::pkce_challenge;

/// How a new login is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Grant {
    /// The device authorization grant: open a URL anywhere, enter the code shown.
    #[default]
    DeviceCode,
    /// The authorization code grant with PKCE: a browser on this machine, redirected to a
    /// loopback port.
    AuthCode,
}

/// What the plugin logs in to.
#[derive(Clone)]
pub struct OidcLogin {
    /// The issuer URL (`https://.../realms/tenants`).
    pub issuer: String,
    /// The public kubectl client.
    pub client_id: String,
    /// PEM certificates to trust for the issuer instead of the system roots.
    pub certificate_authority: Option<String>,
    /// How to log in when neither the cache nor a refresh gives a token.
    pub grant: Grant,
    /// Authorization code grant: the loopback ports to try, in order (the client's redirect
    /// URIs must list `http://localhost:PORT` for them).
    pub redirect_ports: Vec<u16>,
    /// Where the token cache lives.
    pub cache_dir: PathBuf,
}

impl std::fmt::Debug for OidcLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcLogin")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("grant", &self.grant)
            .finish_non_exhaustive()
    }
}

/// Where a token came from, for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    /// The cache.
    Cache,
    /// A refresh-token grant.
    Refresh,
    /// A new login.
    Login,
}

/// When a cached ID token is considered expired: this long before its `exp`.
const EXPIRY_MARGIN: jiff::SignedDuration = jiff::SignedDuration::from_secs(60);

impl OidcLogin {
    /// An ID token for the kubectl client (see the module documentation); login instructions
    /// go to `prompt`. The new tokens are cached before returning.
    pub fn token(
        &self,
        prompt: &mut dyn Write,
    ) -> Result<(ExecCredential, TokenSource), OidcError> {
        let cache = TokenCache::new(&self.cache_dir, &self.issuer, &self.client_id);
        let cached = cache.load()?;
        let now = jiff::Timestamp::now();
        if let Some(tokens) = &cached
            && tokens.expiry > now + EXPIRY_MARGIN
        {
            return Ok((tokens.exec_credential(), TokenSource::Cache));
        }
        let client = IdpClient::new(&self.issuer, self.certificate_authority.as_deref())?;
        let endpoints = client.discover()?;
        let refreshed = match cached.and_then(|c| c.refresh_token) {
            Some(refresh) => client.refresh(&endpoints, &self.client_id, &refresh)?,
            None => None,
        };
        let (tokens, source) = match refreshed {
            Some(tokens) => (tokens, TokenSource::Refresh),
            None => {
                let tokens = match self.grant {
                    Grant::DeviceCode => {
                        device::login(&client, &endpoints, &self.client_id, prompt)?
                    }
                    Grant::AuthCode => authcode::login(
                        &client,
                        &endpoints,
                        &self.client_id,
                        &self.redirect_ports,
                        prompt,
                    )?,
                };
                (tokens, TokenSource::Login)
            }
        };
        cache.store(&tokens)?;
        Ok((tokens.exec_credential(), source))
    }
}

/// The command line an identity provider member's kubeconfig runs: `COMMAND auth oidc-token
/// --issuer-url=.. --client-id=.. --grant=.. [--certificate-authority-data=..]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginCommand {
    /// The harmony binary (`harmony` on the member's PATH).
    pub command: String,
    /// The issuer URL.
    pub issuer: String,
    /// The public kubectl client.
    pub client_id: String,
    /// The issuer's CA bundle (PEM), carried base64-encoded in the arguments.
    pub certificate_authority: Option<String>,
    /// How the member logs in.
    pub grant: Grant,
}

impl LoginCommand {
    /// The plugin's arguments.
    pub fn args(&self) -> Vec<String> {
        use base64::Engine;
        let grant = match self.grant {
            Grant::DeviceCode => "device-code",
            Grant::AuthCode => "authcode",
        };
        let mut args = vec![
            "auth".to_string(),
            "oidc-token".into(),
            format!("--issuer-url={}", self.issuer),
            format!("--client-id={}", self.client_id),
            format!("--grant={grant}"),
        ];
        args.extend(self.certificate_authority.as_ref().map(|pem| {
            let data = base64::engine::general_purpose::STANDARD.encode(pem);
            format!("--certificate-authority-data={data}")
        }));
        args
    }
}
