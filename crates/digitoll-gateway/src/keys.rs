//! Turning an operator's choice of key into the store's sealed `TenantKey`:
//! a gateway-generated key pair (grants carry `kid`) or an imported business
//! certificate (grants carry `x5c`). Shared by the admin API and the CLI.

use digitoll_store::TenantKey;
use maskinporten::{Algorithm, RsaSigner, inspect_pkcs12};
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use serde_json::Value;

/// Why key material could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum KeyPrepError {
    /// Key generation failed.
    #[error("generating the key pair: {0}")]
    Generate(String),
    /// The `.p12` could not be opened (wrong password, unsupported format).
    #[error("the business certificate (.p12) cannot be used: {0}")]
    Pkcs12(String),
    /// The certificate belongs to another organisation.
    #[error("the business certificate belongs to organisation {cert}, but the tenant is {tenant}")]
    OrgMismatch {
        /// The certificate's org number.
        cert: String,
        /// The tenant's org number.
        tenant: String,
    },
}

/// Key material ready for the store, with what may be shown to the operator.
#[derive(Debug)]
pub struct PreparedKey {
    /// For `Store::create_tenant` / `set_tenant_key` (secret parts sealed there).
    pub key: TenantKey,
    /// The public JWK to upload to the Maskinporten client (kid mode).
    pub public_jwk: Option<Value>,
    /// A summary of the certificate (certificate mode): subject, org, validity.
    pub certificate: Option<Value>,
}

/// Generates an RSA key pair (2048 bits, RS256) whose public JWK the customer
/// uploads to its Maskinporten client; the `kid` is the key's thumbprint.
///
/// # Errors
/// [`KeyPrepError::Generate`].
pub fn generate_key_pair() -> Result<PreparedKey, KeyPrepError> {
    let pair = maskinporten::generate_key_pair(2048, Algorithm::RS256)
        .map_err(|e| KeyPrepError::Generate(e.to_string()))?;
    Ok(PreparedKey {
        key: TenantKey::KeyPair {
            kid: pair.kid.clone(),
            private_key: SecretSlice::from(pair.private_pem.expose_secret().as_bytes().to_vec()),
            public_jwk: pair.public_jwk.clone(),
        },
        public_jwk: Some(pair.public_jwk),
        certificate: None,
    })
}

/// An existing private key (PEM) registered under `kid`, e.g. the simulator's
/// demo key. The public JWK is derived from it.
///
/// # Errors
/// [`KeyPrepError::Generate`] when the PEM is not an RSA private key.
pub fn import_private_key(pem: SecretString, kid: &str) -> Result<PreparedKey, KeyPrepError> {
    let key = maskinporten::RsaKey::from_pem(pem.expose_secret().as_bytes(), None)
        .map_err(|e| KeyPrepError::Generate(format!("private key: {e}")))?;
    let jwk = key.public_jwk(Algorithm::RS256, kid);
    Ok(PreparedKey {
        key: TenantKey::KeyPair {
            kid: kid.to_owned(),
            private_key: SecretSlice::from(pem.expose_secret().as_bytes().to_vec()),
            public_jwk: jwk.clone(),
        },
        public_jwk: Some(jwk),
        certificate: None,
    })
}

/// Checks a business certificate (.p12 + password) before it is stored: it
/// opens, holds an RSA key, and (when `org_number` is given) belongs to that
/// organisation.
///
/// # Errors
/// [`KeyPrepError::Pkcs12`], [`KeyPrepError::OrgMismatch`].
pub fn import_pkcs12(
    p12: Vec<u8>,
    password: SecretString,
    org_number: Option<&str>,
) -> Result<PreparedKey, KeyPrepError> {
    RsaSigner::from_pkcs12(&p12, &password).map_err(|e| KeyPrepError::Pkcs12(e.to_string()))?;
    let info = inspect_pkcs12(&p12, &password).map_err(|e| KeyPrepError::Pkcs12(e.to_string()))?;
    if let (Some(want), Some(have)) = (org_number, info.org_number.as_ref())
        && have.to_string() != want
    {
        return Err(KeyPrepError::OrgMismatch {
            cert: have.to_string(),
            tenant: want.to_owned(),
        });
    }
    let summary = serde_json::json!({
        "subject": info.subject,
        "issuer": info.issuer,
        "org_number": info.org_number.as_ref().map(ToString::to_string),
        "not_before": info.not_before.format(&time::format_description::well_known::Rfc3339).ok(),
        "not_after": info.not_after.format(&time::format_description::well_known::Rfc3339).ok(),
        "sha256_thumbprint": info.sha256_thumbprint,
    });
    Ok(PreparedKey {
        key: TenantKey::Certificate {
            p12: SecretSlice::from(p12),
            password,
        },
        public_jwk: None,
        certificate: Some(summary),
    })
}
