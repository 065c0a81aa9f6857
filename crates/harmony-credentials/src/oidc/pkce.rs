//! PKCE (RFC 7636, S256): a random verifier and its challenge, for the authorization code grant
//! and for the device grant of providers that require it (Keycloak does when the client sets
//! `pkce.code.challenge.method`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom, SystemRandom};

/// A verifier and its S256 challenge.
pub(super) struct Pkce {
    /// Sent with the token request.
    pub verifier: String,
    /// Sent with the authorization request.
    pub challenge: String,
}

impl Pkce {
    /// A fresh pair.
    pub fn new() -> Self {
        let verifier = random();
        let challenge = pkce_challenge(&verifier);
        Self {
            verifier,
            challenge,
        }
    }
}

/// The S256 challenge of `verifier`: `BASE64URL(SHA256(verifier))`.
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        verifier.as_bytes(),
    ))
}

/// 32 random bytes, base64url: a PKCE verifier (43 characters) or a state.
pub(super) fn random() -> String {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system random source works");
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_is_the_base64url_sha256_of_the_verifier() {
        // Computed apart: base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()), unpadded.
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mJ92IXo7ZcqUjdBh0X6r9W8w8HJHwE"),
            "87MhGIOLWxX2TtnOlDF4-8ADge4QmXi14lAf4WpytNc"
        );
        let verifier = random();
        assert_eq!(verifier.len(), 43);
        assert_ne!(verifier, random());
    }
}
