//! The device authorization grant (RFC 8628): ask for a code, show where to enter it, poll the
//! token endpoint at the interval the provider asks until the member has logged in.

use std::io::Write;
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::http::{Endpoints, IdpClient, TokenReply, oauth_error};
use super::pkce::Pkce;
use super::{CachedTokens, OidcError};

/// The device authorization answer.
#[derive(Deserialize)]
struct DeviceAuthorization {
    device_code: String,
    user_code: String,
    verification_uri: String,
    #[serde(default)]
    verification_uri_complete: Option<String>,
    expires_in: u64,
    #[serde(default = "default_interval")]
    interval: u64,
}

fn default_interval() -> u64 {
    5
}

/// Logs in with the device grant; instructions go to `prompt`.
pub(super) fn login(
    client: &IdpClient,
    endpoints: &Endpoints,
    client_id: &str,
    prompt: &mut dyn Write,
) -> Result<CachedTokens, OidcError> {
    let url = endpoints
        .device_authorization_endpoint
        .as_deref()
        .ok_or_else(|| OidcError::NoDeviceGrant {
            client_id: client_id.to_string(),
        })?;
    // RFC 8628 has no PKCE, but Keycloak requires it on the device grant too when the client
    // asks for it; providers that do not know the parameters ignore them.
    let pkce = Pkce::new();
    let (status, body) = client.post(
        url,
        &[
            ("client_id", client_id),
            ("scope", "openid"),
            ("code_challenge", &pkce.challenge),
            ("code_challenge_method", "S256"),
        ],
    )?;
    if status != 200 {
        let error = oauth_error(url, status, &body)?;
        return Err(OidcError::refused(url, error));
    }
    let device: DeviceAuthorization =
        serde_json::from_str(&body).map_err(|_| OidcError::Unexpected {
            url: url.to_string(),
            status,
        })?;
    let open = device
        .verification_uri_complete
        .as_deref()
        .unwrap_or(&device.verification_uri);
    // The prompt is for people; a closed standard error must not stop the login.
    let _ = writeln!(
        prompt,
        "To log in, open {open}\nand check that it shows the code {} (or open {} and enter it).",
        device.user_code, device.verification_uri
    );
    let lifetime = Duration::from_secs(device.expires_in);
    let deadline = Instant::now() + lifetime;
    let mut interval = Duration::from_secs(device.interval.max(1));
    let form = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("client_id", client_id),
        ("device_code", device.device_code.as_str()),
        ("code_verifier", pkce.verifier.as_str()),
    ];
    loop {
        // The provider sets the pace (RFC 8628 section 3.5): wait the interval before each poll.
        std::thread::sleep(interval);
        match client.token(endpoints, &form)? {
            TokenReply::Tokens(tokens) => return Ok(tokens),
            TokenReply::Refused(e) if e.error == "authorization_pending" => {}
            TokenReply::Refused(e) if e.error == "slow_down" => interval += Duration::from_secs(5),
            TokenReply::Refused(e) => {
                return Err(OidcError::refused(&endpoints.token_endpoint, e));
            }
        }
        if Instant::now() >= deadline {
            return Err(OidcError::TimedOut(lifetime));
        }
    }
}
