//! WireGuard keys: Curve25519 (X25519) keys as 44-character standard base64 with padding, like
//! `wg genkey` / `wg pubkey`. Secret keys never show in `Debug` and have no `Display`. Public keys
//! are the domain's ([`harmony_tenant::vpn::PublicKey`]): a gateway file may name one.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use harmony_tenant::vpn::decode_key;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use harmony_tenant::vpn::{KeyError, PublicKey};

/// A WireGuard private key, clamped. `Debug` shows `<redacted>`; there is no `Display`:
/// the base64 text is only available through [`PrivateKey::expose_base64`].
#[derive(Clone)]
pub struct PrivateKey(x25519_dalek::StaticSecret);

impl PrivateKey {
    /// A fresh random key from the OS generator, clamped like `wg genkey`.
    pub fn generate() -> Self {
        Self::from_bytes(x25519_dalek::StaticSecret::random().to_bytes())
    }

    /// Parses a base64 private key (as written by `wg genkey`) and clamps it.
    pub fn from_base64(text: &str) -> Result<Self, KeyError> {
        decode_key(text).map(Self::from_bytes)
    }

    fn from_bytes(mut bytes: [u8; 32]) -> Self {
        bytes[0] &= 248;
        bytes[31] &= 127;
        bytes[31] |= 64;
        Self(x25519_dalek::StaticSecret::from(bytes))
    }

    /// The matching public key (what `wg pubkey` prints).
    pub fn public_key(&self) -> PublicKey {
        PublicKey::from_bytes(x25519_dalek::PublicKey::from(&self.0).to_bytes())
    }

    /// The raw clamped bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    /// The base64 text, for writing into a 0600 file. Never log it.
    pub fn expose_base64(&self) -> String {
        STANDARD.encode(self.0.as_bytes())
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateKey(<redacted>)")
    }
}

/// A WireGuard preshared key (32 random bytes). Secret: `Debug` shows `<redacted>`, no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct PresharedKey([u8; 32]);

impl PresharedKey {
    /// A fresh random key from the OS generator (like `wg genpsk`).
    pub fn generate() -> Self {
        Self(x25519_dalek::StaticSecret::random().to_bytes())
    }

    /// Parses a base64 preshared key.
    pub fn from_base64(text: &str) -> Result<Self, KeyError> {
        decode_key(text).map(Self)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The base64 text, for writing into a 0600 file. Never log it.
    pub fn expose_base64(&self) -> String {
        STANDARD.encode(self.0)
    }
}

impl fmt::Debug for PresharedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PresharedKey(<redacted>)")
    }
}

impl Serialize for PresharedKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.expose_base64())
    }
}

impl<'de> Deserialize<'de> for PresharedKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::from_base64(&text).map_err(|e| serde::de::Error::custom(format!("preshared key {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VECTOR_PRIVATE: &str = "AAcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHB0c=";
    const VECTOR_PUBLIC: &str = "E75P6uryBMf9M1j8nAByGIHRdCeBKCJ+xnTzf3/pe20=";

    #[test]
    fn public_key_matches_wg_pubkey_on_the_fixed_vector() {
        let key = PrivateKey::from_base64(VECTOR_PRIVATE).unwrap();
        assert_eq!(key.public_key().to_string(), VECTOR_PUBLIC);
        assert_eq!(
            key.expose_base64(),
            VECTOR_PRIVATE,
            "the vector is already clamped"
        );
    }

    #[test]
    fn generated_keys_are_clamped_and_distinct() {
        for _ in 0..64 {
            let key = PrivateKey::generate();
            let b = key.as_bytes();
            assert_eq!(b[0] & 7, 0);
            assert_eq!(b[31] & 128, 0);
            assert_eq!(b[31] & 64, 64);
            assert_ne!(key.as_bytes(), PrivateKey::generate().as_bytes());
        }
    }

    #[test]
    fn unclamped_input_is_clamped_with_the_same_public_key() {
        let raw = [0xffu8; 32];
        let text = STANDARD.encode(raw);
        let key = PrivateKey::from_base64(&text).unwrap();
        assert_eq!(key.as_bytes()[0], 248);
        assert_eq!(key.as_bytes()[31], 127);
        let unclamped = x25519_dalek::StaticSecret::from(raw);
        assert_eq!(
            key.public_key().as_bytes(),
            x25519_dalek::PublicKey::from(&unclamped).as_bytes()
        );
    }

    #[test]
    fn bad_keys_are_refused_without_echoing_them() {
        let not_b64 = "not a key!".parse::<PublicKey>().unwrap_err();
        assert_eq!(not_b64, KeyError::NotBase64);
        let short = STANDARD.encode([1u8; 31]);
        assert_eq!(
            short.parse::<PublicKey>().unwrap_err(),
            KeyError::WrongLength(31)
        );
        let message = PresharedKey::from_base64(&short).unwrap_err().to_string();
        assert!(!message.contains(&short), "{message}");
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let key = PrivateKey::from_base64(VECTOR_PRIVATE).unwrap();
        let psk = PresharedKey::generate();
        let shown = format!("{key:?} {psk:?}");
        assert!(!shown.contains(VECTOR_PRIVATE), "{shown}");
        assert!(!shown.contains(&psk.expose_base64()), "{shown}");
        assert!(shown.contains("<redacted>"));
    }
}
