//! Sealing secrets at rest: AES-256-GCM under the operator's master key.
//!
//! Each sealed value is `0x01 || nonce (12 bytes) || ciphertext || tag (16 bytes)`.
//! The nonce is random per value (96 random bits; at the volumes a gateway
//! seals, the birthday bound of 2^48 values is far away). The additional
//! authenticated data names the table, column and owning row (tenant id, and
//! the subscription id for webhook secrets), so a ciphertext copied into
//! another tenant's row or another column fails to open.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine as _;
use secrecy::{SecretSlice, SecretString};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

const VERSION: u8 = 1;

/// The operator's 32-byte key that seals tenant secrets in the database.
///
/// The library never reads it from the environment or a file: the caller (the
/// CLI) loads it and hands it over. Its `Debug` prints `MasterKey([redacted])`
/// and it has no `Display`; the bytes are zeroed on drop.
pub struct MasterKey {
    bytes: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

impl Clone for MasterKey {
    fn clone(&self) -> Self {
        Self {
            bytes: Zeroizing::new(*self.bytes),
        }
    }
}

impl MasterKey {
    /// Wraps 32 raw key bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self {
            bytes: Zeroizing::new(bytes),
        }
    }

    /// Wraps a slice that must be exactly 32 bytes long.
    ///
    /// # Errors
    /// [`Error::Invalid`] when the length is not 32.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        let arr: [u8; 32] = bytes.try_into().map_err(|_| {
            Error::invalid(
                "master key",
                format!("must be 32 bytes, got {}", bytes.len()),
            )
        })?;
        Ok(Self::from_bytes(arr))
    }

    /// Decodes a base64 (standard or URL-safe, padded or not) 32-byte key.
    ///
    /// # Errors
    /// [`Error::Invalid`] when the text is not base64 or not 32 bytes.
    pub fn from_base64(text: &str) -> Result<Self> {
        let text = text.trim();
        let decoded = [
            &base64::engine::general_purpose::STANDARD,
            &base64::engine::general_purpose::STANDARD_NO_PAD,
            &base64::engine::general_purpose::URL_SAFE,
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ]
        .iter()
        .find_map(|e| e.decode(text).ok())
        .map(Zeroizing::new)
        .ok_or_else(|| Error::invalid("master key", "is not base64"))?;
        Self::from_slice(&decoded)
    }

    /// Generates a fresh random key (for `digitoll init`-style setup).
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        fill_random(&mut bytes);
        let key = Self::from_bytes(bytes);
        zeroize::Zeroize::zeroize(&mut bytes);
        key
    }

    /// The key as standard base64, for the operator to store once.
    pub fn to_base64(&self) -> SecretString {
        base64::engine::general_purpose::STANDARD
            .encode(*self.bytes)
            .into()
    }

    fn aead(&self) -> LessSafeKey {
        // AES-256 accepts any 32-byte key, so this cannot fail.
        LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, &self.bytes[..]).expect("AES-256 key is 32 bytes"),
        )
    }

    /// Seals `plaintext` bound to `context` (table/column/row).
    pub(crate) fn seal(&self, context: &str, plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        fill_random(&mut nonce);
        let mut out = Vec::with_capacity(1 + NONCE_LEN + plaintext.len() + 16);
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        let mut body = plaintext.to_vec();
        self.aead()
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut body,
            )
            .expect("AES-GCM sealing of an in-memory buffer");
        out.extend_from_slice(&body);
        zeroize::Zeroize::zeroize(&mut body);
        out
    }

    /// Opens a value sealed with [`MasterKey::seal`] under the same context.
    pub(crate) fn open(&self, context: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        if sealed.len() < 1 + NONCE_LEN + 16 || sealed[0] != VERSION {
            return Err(Error::Crypto(format!(
                "sealed value for {context} is malformed or of an unknown version"
            )));
        }
        let nonce: [u8; NONCE_LEN] = sealed[1..1 + NONCE_LEN].try_into().expect("length");
        let mut buf = Zeroizing::new(sealed[1 + NONCE_LEN..].to_vec());
        let len = self
            .aead()
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut buf,
            )
            .map_err(|_| {
                Error::Crypto(format!(
                    "cannot open {context}: wrong master key, or the value belongs to another row or column"
                ))
            })?
            .len();
        buf.truncate(len);
        Ok(buf)
    }

    pub(crate) fn open_bytes(&self, context: &str, sealed: &[u8]) -> Result<SecretSlice<u8>> {
        let plain = self.open(context, sealed)?;
        Ok(SecretSlice::from(plain.to_vec()))
    }

    pub(crate) fn open_string(&self, context: &str, sealed: &[u8]) -> Result<SecretString> {
        let plain = self.open(context, sealed)?;
        let text = std::str::from_utf8(&plain)
            .map_err(|_| Error::Crypto(format!("{context} is not UTF-8 after opening")))?;
        Ok(SecretString::from(text.to_owned()))
    }
}

pub(crate) fn fill_random(buf: &mut [u8]) {
    SystemRandom::new()
        .fill(buf)
        .expect("the operating system's random source failed");
}

/// The AAD for a tenant column.
pub(crate) fn tenant_context(tenant: uuid::Uuid, column: &str) -> String {
    format!("digitoll:v1:tenants.{column}:{tenant}")
}

/// The AAD for a webhook subscription secret.
pub(crate) fn webhook_context(tenant: uuid::Uuid, subscription: uuid::Uuid) -> String {
    format!("digitoll:v1:webhook_subscriptions.sealed_secret:{tenant}:{subscription}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_context_binding() {
        let key = MasterKey::generate();
        let sealed = key.seal("ctx-a", b"hemmelig");
        assert_ne!(&sealed[1 + NONCE_LEN..], b"hemmelig");
        assert_eq!(&key.open("ctx-a", &sealed).unwrap()[..], b"hemmelig");
        assert!(matches!(key.open("ctx-b", &sealed), Err(Error::Crypto(_))));
        let other = MasterKey::generate();
        assert!(matches!(
            other.open("ctx-a", &sealed),
            Err(Error::Crypto(_))
        ));
        // Two seals of the same value differ (random nonce).
        assert_ne!(key.seal("ctx-a", b"x"), key.seal("ctx-a", b"x"));
    }

    #[test]
    fn base64_forms_and_redaction() {
        let key = MasterKey::generate();
        let b64 = secrecy::ExposeSecret::expose_secret(&key.to_base64()).to_owned();
        let again = MasterKey::from_base64(&b64).unwrap();
        let sealed = key.seal("c", b"v");
        assert_eq!(&again.open("c", &sealed).unwrap()[..], b"v");
        assert_eq!(format!("{key:?}"), "MasterKey([redacted])");
        assert!(MasterKey::from_base64("c2hvcnQ=").is_err());
        assert!(MasterKey::from_slice(&[0u8; 31]).is_err());
    }
}
