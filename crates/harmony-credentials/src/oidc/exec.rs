//! The client-go exec credential (`client.authentication.k8s.io/v1` `ExecCredential`) and the
//! ID token's expiry.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::OidcError;

/// What the plugin prints for client-go: the ID token and when it expires. It holds a secret:
/// `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecCredential {
    /// `client.authentication.k8s.io/v1`.
    pub api_version: String,
    /// `ExecCredential`.
    pub kind: String,
    /// The credential.
    pub status: ExecStatus,
}

/// `ExecCredential.status`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecStatus {
    /// The bearer token (an ID token).
    pub token: String,
    /// When client-go must call the plugin again.
    pub expiration_timestamp: Timestamp,
}

impl ExecCredential {
    /// The credential for `token`, valid until `expiry`.
    pub fn new(token: &str, expiry: Timestamp) -> Self {
        Self {
            api_version: "client.authentication.k8s.io/v1".into(),
            kind: "ExecCredential".into(),
            status: ExecStatus {
                token: token.to_string(),
                expiration_timestamp: expiry,
            },
        }
    }

    /// The JSON client-go reads on standard output.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("ExecCredential serializes")
    }
}

impl std::fmt::Debug for ExecCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ExecCredential(<redacted>, expires {})",
            self.status.expiration_timestamp
        )
    }
}

/// The `exp` claim of the JWT `token` (its signature is the API server's to check).
pub fn token_expiry(token: &str) -> Result<Timestamp, OidcError> {
    #[derive(Deserialize)]
    struct Claims {
        exp: i64,
    }
    let payload = token
        .split('.')
        .nth(1)
        .ok_or(OidcError::BadToken("it has no payload part"))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| OidcError::BadToken("its payload is not base64url"))?;
    let claims: Claims = serde_json::from_slice(&bytes)
        .map_err(|_| OidcError::BadToken("its payload has no numeric `exp`"))?;
    Timestamp::from_second(claims.exp).map_err(|_| OidcError::BadToken("its `exp` is out of range"))
}

#[cfg(test)]
pub(crate) fn jwt(exp: i64) -> String {
    let part = |json: &str| URL_SAFE_NO_PAD.encode(json);
    format!(
        "{}.{}.c2ln",
        part(r#"{"alg":"RS256"}"#),
        part(&format!(r#"{{"exp":{exp},"sub":"alice"}}"#))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_expiry_and_prints_the_v1_exec_credential() {
        let token = jwt(1_900_000_000);
        let expiry = token_expiry(&token).unwrap();
        assert_eq!(expiry.as_second(), 1_900_000_000);
        let credential = ExecCredential::new(&token, expiry);
        let json: serde_json::Value = serde_json::from_str(&credential.to_json()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "apiVersion": "client.authentication.k8s.io/v1",
                "kind": "ExecCredential",
                "status": {"token": token, "expirationTimestamp": "2030-03-17T17:46:40Z"},
            })
        );
        assert!(!format!("{credential:?}").contains(&token));
    }

    #[test]
    fn refuses_what_is_not_a_jwt_without_showing_it() {
        for bad in ["opaque", "a.!!!.c", "a.e30.c"] {
            let error = token_expiry(bad).unwrap_err().to_string();
            assert!(error.contains("not a JWT"), "{error}");
            assert!(!error.contains(bad), "{error}");
        }
    }
}
