//! API keys: `dtk_` + 43 base64url characters (256 random bits).
//!
//! Only a SHA-256 hash of the whole key is stored. A slow password hash
//! (argon2, bcrypt) exists to protect low-entropy human passwords from
//! offline guessing; a 256-bit random key cannot be guessed from its hash
//! whatever the hash speed, so a fast hash keeps per-request authentication
//! at a few microseconds without weakening anything. The stored `prefix`
//! (`dtk_` + 8 characters = 48 bits) lets operators tell keys apart and still
//! leaves 208 secret bits.

use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::crypto::fill_random;

/// The fixed start of every key, so secret scanners can spot leaked keys.
pub const API_KEY_PREFIX: &str = "dtk_";
const DISPLAY_CHARS: usize = 8;
const RANDOM_BYTES: usize = 32;

/// A freshly generated API key, shown to the operator once.
///
/// `Debug` is redacted and there is no `Display`; call
/// [`ApiKeySecret::expose`] to hand it out.
pub struct ApiKeySecret(SecretString);

impl std::fmt::Debug for ApiKeySecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKeySecret([redacted])")
    }
}

impl ApiKeySecret {
    /// The key text, to show once.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

pub(crate) struct Generated {
    pub(crate) secret: ApiKeySecret,
    pub(crate) prefix: String,
    pub(crate) hash: [u8; 32],
}

pub(crate) fn generate() -> Generated {
    let mut raw = zeroize::Zeroizing::new([0u8; RANDOM_BYTES]);
    fill_random(&mut raw[..]);
    let text = format!(
        "{API_KEY_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&raw[..])
    );
    let prefix = display_prefix(&text);
    let hash = hash(&text);
    Generated {
        secret: ApiKeySecret(SecretString::from(text)),
        prefix,
        hash,
    }
}

pub(crate) fn display_prefix(key: &str) -> String {
    key.chars()
        .take(API_KEY_PREFIX.len() + DISPLAY_CHARS)
        .collect()
}

pub(crate) fn hash(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// Whether `presented` has the shape of a key (cheap check before hashing).
pub(crate) fn well_formed(presented: &str) -> bool {
    presented.len() == API_KEY_PREFIX.len() + 43
        && presented.starts_with(API_KEY_PREFIX)
        && presented[API_KEY_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Constant-time equality of two hashes.
pub(crate) fn hashes_equal(a: &[u8], b: &[u8]) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a, b).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_prefix_and_hash() {
        let g = generate();
        let k = g.secret.expose();
        assert!(well_formed(k), "{}", k.len());
        assert_eq!(g.prefix.len(), 12);
        assert!(k.starts_with(&g.prefix));
        assert_eq!(hash(k), g.hash);
        assert!(hashes_equal(&hash(k), &g.hash));
        assert!(!hashes_equal(&hash("dtk_other"), &g.hash));
        assert_eq!(format!("{:?}", g.secret), "ApiKeySecret([redacted])");
        assert!(!well_formed("dtk_short"));
        assert_ne!(generate().secret.expose(), k);
    }
}
