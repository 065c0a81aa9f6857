//! OpenID Connect tokens from a Keycloak realm's token endpoint.

use serde::Deserialize;

use crate::{Body, Http, KeycloakError, Method};

/// The tokens of a grant. Never printed: `Debug` hides them.
#[derive(Clone, Deserialize)]
pub struct Tokens {
    /// The access token.
    pub access_token: String,
    /// The ID token (requested with the `openid` scope).
    pub id_token: Option<String>,
    /// The refresh token.
    pub refresh_token: Option<String>,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// The token endpoint of `realm`.
pub fn token_path(realm: &str) -> String {
    format!("/realms/{realm}/protocol/openid-connect/token")
}

/// A resource-owner password grant of `username` on `client_id` in `realm`, with the `openid`
/// scope (so an ID token comes back). Keycloak's admin token is this grant on `master`'s
/// `admin-cli`.
pub fn password_grant(
    http: &Http,
    realm: &str,
    client_id: &str,
    username: &str,
    password: &str,
) -> Result<Tokens, KeycloakError> {
    let path = token_path(realm);
    let form = [
        ("grant_type", "password"),
        ("client_id", client_id),
        ("username", username),
        ("password", password),
        ("scope", "openid"),
    ];
    let response = http.send(Method::Post, &path, None, Body::Form(&form))?;
    match response.status {
        200 => serde_json::from_slice(&response.body)
            .map_err(|_| http.unexpected(Method::Post, &path, &response)),
        400 | 401 => {
            let answer = response.json();
            let reason = answer["error_description"]
                .as_str()
                .or(answer["error"].as_str())
                .unwrap_or("refused")
                .to_string();
            Err(KeycloakError::BadCredentials {
                url: format!("{}{path}", http.base()),
                client_id: client_id.to_string(),
                username: username.to_string(),
                reason,
                hint: if realm == "master" {
                    " of Keycloak's admin (HARMONY_IDP_ADMIN_USER and HARMONY_IDP_ADMIN_PASSWORD, or --admin-credentials FILE)"
                } else {
                    ", and that the client allows direct access grants"
                },
            })
        }
        _ => Err(http.unexpected(Method::Post, &path, &response)),
    }
}
