//! RSA key helpers shared by the simulator and its tests.
//!
//! Maskinporten only accepts RSA signatures (RS256/RS384/RS512), so every key the
//! simulator makes for signing grants or tokens is an RSA-2048 key in PKCS#8 form.

use std::fmt;

use aws_lc_rs::signature::{KeyPair as _, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::SecretString;
use serde_json::json;
use zeroize::Zeroizing;

use crate::SimError;

/// An RSA private key (PKCS#8 DER) whose bytes are zeroed on drop and never printed.
#[derive(Clone)]
pub struct RsaPrivateKey {
    pkcs8_der: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for RsaPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RsaPrivateKey([REDACTED])")
    }
}

impl RsaPrivateKey {
    /// Generates a fresh RSA-2048 key (slow in debug builds: reuse keys in tests).
    pub fn generate() -> Result<Self, SimError> {
        let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256)
            .map_err(|e| SimError::Crypto(format!("generating an RSA key: {e}")))?;
        Ok(Self {
            pkcs8_der: Zeroizing::new(kp.serialize_der()),
        })
    }

    /// Wraps existing PKCS#8 DER bytes after checking that they hold an RSA key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, SimError> {
        RsaKeyPair::from_pkcs8(der).map_err(|e| {
            SimError::Crypto(format!("PKCS#8 bytes are not an RSA private key: {e}"))
        })?;
        Ok(Self {
            pkcs8_der: Zeroizing::new(der.to_vec()),
        })
    }

    /// The PKCS#8 DER bytes.
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8_der
    }

    /// The key as a `-----BEGIN PRIVATE KEY-----` PEM (what
    /// `jsonwebtoken::EncodingKey::from_rsa_pem` accepts).
    pub fn pkcs8_pem(&self) -> SecretString {
        SecretString::from(pem_encode("PRIVATE KEY", &self.pkcs8_der))
    }

    /// The public half as a JWK (`kty`, `use`, `alg`, `kid`, `n`, `e`), ready to register on a client.
    pub fn public_jwk(&self, kid: &str) -> serde_json::Value {
        // The key was validated in the constructors, so parsing cannot fail here.
        let (n, e) = rsa_public_components(&self.pkcs8_der).unwrap_or_default();
        json!({
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": kid,
            "n": URL_SAFE_NO_PAD.encode(n),
            "e": URL_SAFE_NO_PAD.encode(e),
        })
    }

    /// Loads the key into rcgen so certificates can be issued for it.
    pub(crate) fn rcgen_key_pair(&self) -> Result<rcgen::KeyPair, SimError> {
        rcgen::KeyPair::from_pkcs8_der_and_sign_algo(
            &rustls_pki_types::PrivatePkcs8KeyDer::from(self.pkcs8_der.as_slice()),
            &rcgen::PKCS_RSA_SHA256,
        )
        .map_err(|e| SimError::Crypto(format!("loading an RSA key into rcgen: {e}")))
    }
}

/// Modulus and exponent (big-endian, no leading zero) of an RSA PKCS#8 key.
fn rsa_public_components(pkcs8_der: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let kp = RsaKeyPair::from_pkcs8(pkcs8_der).ok()?;
    let public = kp.public_key();
    Some((
        public.modulus().big_endian_without_leading_zero().to_vec(),
        public.exponent().big_endian_without_leading_zero().to_vec(),
    ))
}

/// PEM-encodes DER bytes under `label` with 64-character lines.
pub(crate) fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
