//! WireGuard public keys: Curve25519 keys as 44-character standard base64 with padding, like
//! `wg pubkey` prints them.

use std::fmt;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a text is not a WireGuard key. Never contains the text itself (it may be a secret).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Not standard base64.
    #[error("is not standard base64 (a WireGuard key is 44 characters ending in '=')")]
    NotBase64,
    /// Base64, but not 32 bytes.
    #[error("decodes to {0} bytes, a WireGuard key is 32 bytes (44 base64 characters)")]
    WrongLength(usize),
}

/// The 32 bytes of a WireGuard key's text (public, private or preshared).
pub fn decode_key(text: &str) -> Result<[u8; 32], KeyError> {
    let bytes = STANDARD
        .decode(text.trim())
        .map_err(|_| KeyError::NotBase64)?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| KeyError::WrongLength(bytes.len()))
}

/// A WireGuard public key. Public: shown, logged and stored freely.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PublicKey([u8; 32]);

impl PublicKey {
    /// The key of these raw 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl FromStr for PublicKey {
    type Err = KeyError;
    fn from_str(text: &str) -> Result<Self, KeyError> {
        decode_key(text).map(Self)
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&STANDARD.encode(self.0))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse()
            .map_err(|e| serde::de::Error::custom(format!("public key {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_the_text_of_wg_pubkey() {
        let text = "E75P6uryBMf9M1j8nAByGIHRdCeBKCJ+xnTzf3/pe20=";
        let key: PublicKey = text.parse().unwrap();
        assert_eq!(key.to_string(), text);
        assert_eq!(PublicKey::from_bytes(*key.as_bytes()), key);
    }

    #[test]
    fn bad_keys_are_refused_without_echoing_them() {
        assert_eq!(
            "not a key!".parse::<PublicKey>().unwrap_err(),
            KeyError::NotBase64
        );
        let short = STANDARD.encode([1u8; 31]);
        let error = short.parse::<PublicKey>().unwrap_err();
        assert_eq!(error, KeyError::WrongLength(31));
        assert!(!error.to_string().contains(&short));
    }
}
