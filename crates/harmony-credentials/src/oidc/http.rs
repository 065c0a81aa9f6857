//! The identity provider's HTTP endpoints: discovery, token and device authorization, over
//! ureq with rustls, trusting the given CA bundle. Errors name the URL and the fix, never a
//! token.

use std::time::Duration;

use harmony_http::Transport;
use serde::Deserialize;
use ureq::Agent;

use super::{CachedTokens, OidcError, token_expiry};

/// Per request, connecting included.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The endpoints `/.well-known/openid-configuration` lists.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct Endpoints {
    pub issuer: String,
    pub token_endpoint: String,
    pub authorization_endpoint: String,
    #[serde(default)]
    pub device_authorization_endpoint: Option<String>,
}

/// A token endpoint's success answer.
#[derive(Deserialize)]
struct TokenAnswer {
    id_token: Option<String>,
    refresh_token: Option<String>,
}

/// An OAuth error answer (RFC 6749 section 5.2).
#[derive(Debug, Clone, Deserialize)]
pub(super) struct OAuthError {
    pub error: String,
    #[serde(default)]
    pub error_description: Option<String>,
}

/// What a token endpoint said.
pub(super) enum TokenReply {
    /// New tokens.
    Tokens(CachedTokens),
    /// An OAuth error.
    Refused(OAuthError),
}

/// HTTP client of one issuer.
pub(super) struct IdpClient {
    issuer: String,
    agent: Agent,
}

impl IdpClient {
    /// A client of `issuer` trusting `ca_pem` (the system roots without it).
    pub fn new(issuer: &str, ca_pem: Option<&str>) -> Result<Self, OidcError> {
        if !issuer.starts_with("https://") {
            return Err(OidcError::Invalid {
                field: "--issuer-url".into(),
                message: format!(
                    "`{issuer}` is not an https:// URL: the API server accepts only https issuers; \
                     write it like https://sso.example.com/realms/tenants"
                ),
            });
        }
        let agent = harmony_http::agent(ca_pem.map(str::as_bytes), TIMEOUT).map_err(|_| {
            OidcError::Invalid {
                field: "--certificate-authority".into(),
                message: "holds no PEM certificate (`-----BEGIN CERTIFICATE-----`): give the \
                          identity provider's CA bundle"
                    .into(),
            }
        })?;
        Ok(Self {
            issuer: issuer.trim_end_matches('/').to_string(),
            agent,
        })
    }

    /// The issuer's endpoints, checking that it names itself as configured.
    pub fn discover(&self) -> Result<Endpoints, OidcError> {
        let url = format!("{}/.well-known/openid-configuration", self.issuer);
        let response = self
            .agent
            .get(&url)
            .call()
            .map_err(|e| transport(&url, e))?;
        let (status, body) = read(&url, response)?;
        let endpoints: Endpoints = (status == 200)
            .then(|| serde_json::from_str(&body).ok())
            .flatten()
            .ok_or_else(|| OidcError::Discovery {
                url: url.clone(),
                status,
            })?;
        if endpoints.issuer.trim_end_matches('/') != self.issuer {
            return Err(OidcError::IssuerMismatch {
                configured: self.issuer.clone(),
                announced: endpoints.issuer,
            });
        }
        Ok(endpoints)
    }

    /// POSTs `form` to the token endpoint.
    pub fn token(
        &self,
        endpoints: &Endpoints,
        form: &[(&str, &str)],
    ) -> Result<TokenReply, OidcError> {
        let (status, body) = self.post(&endpoints.token_endpoint, form)?;
        if status == 200 {
            let answer: TokenAnswer =
                serde_json::from_str(&body).map_err(|_| OidcError::Unexpected {
                    url: endpoints.token_endpoint.clone(),
                    status,
                })?;
            let id_token = answer.id_token.ok_or_else(|| OidcError::NoIdToken {
                url: endpoints.token_endpoint.clone(),
            })?;
            let expiry = token_expiry(&id_token)?;
            return Ok(TokenReply::Tokens(CachedTokens {
                id_token,
                refresh_token: answer.refresh_token,
                expiry,
            }));
        }
        oauth_error(&endpoints.token_endpoint, status, &body).map(TokenReply::Refused)
    }

    /// New tokens from `refresh_token`; `None` when the provider no longer accepts it (expired,
    /// revoked, the member logged out or removed).
    pub fn refresh(
        &self,
        endpoints: &Endpoints,
        client_id: &str,
        refresh_token: &str,
    ) -> Result<Option<CachedTokens>, OidcError> {
        let form = [
            ("grant_type", "refresh_token"),
            ("client_id", client_id),
            ("refresh_token", refresh_token),
            ("scope", "openid"),
        ];
        match self.token(endpoints, &form)? {
            TokenReply::Tokens(tokens) => Ok(Some(tokens)),
            TokenReply::Refused(e) if e.error == "invalid_grant" => Ok(None),
            TokenReply::Refused(e) => Err(OidcError::refused(&endpoints.token_endpoint, e)),
        }
    }

    /// POSTs `form` to `url`: its status and body.
    pub fn post(&self, url: &str, form: &[(&str, &str)]) -> Result<(u16, String), OidcError> {
        let response = self
            .agent
            .post(url)
            .send_form(form.iter().copied())
            .map_err(|e| transport(url, e))?;
        read(url, response)
    }
}

/// The OAuth error in a non-200 answer.
pub(super) fn oauth_error(url: &str, status: u16, body: &str) -> Result<OAuthError, OidcError> {
    serde_json::from_str(body).map_err(|_| OidcError::Unexpected {
        url: url.to_string(),
        status,
    })
}

fn read(url: &str, response: ureq::http::Response<ureq::Body>) -> Result<(u16, String), OidcError> {
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .read_to_string()
        .map_err(|e| transport(url, e))?;
    Ok((status, body))
}

/// Why a request to `url` failed in transport: an untrusted or refused certificate, or
/// unreachable.
fn transport(url: &str, error: ureq::Error) -> OidcError {
    let url = url.to_string();
    match harmony_http::transport(&error) {
        Transport::Untrusted => OidcError::Untrusted { url },
        Transport::BadCertificate(reason) => OidcError::BadCertificate { url, reason },
        Transport::Unreachable(reason) => OidcError::Unreachable { url, reason },
    }
}
