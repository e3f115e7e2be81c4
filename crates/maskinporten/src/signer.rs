//! Grant signing: the object-safe [`Signer`] trait and the built-in RSA signer
//! with its key loaders (PEM, JWK, PKCS#12) and key generation.

use std::fmt;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPairComponents, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{self, KeyPair as _, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::cert::{CertificateError, CertificateInfo};
use crate::pem;

/// JWS signature algorithms Maskinporten accepts for grants (RS256 is the default).
///
/// ES256, PS256 and EdDSA are neither documented nor listed in the metadata,
/// so they are deliberately absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[allow(clippy::upper_case_acronyms)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    #[default]
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
}

impl Algorithm {
    /// The JOSE name (`"RS256"` …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::RS384 => "RS384",
            Self::RS512 => "RS512",
        }
    }

    /// Parses a JOSE name; only the three RSA algorithms are accepted.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "RS256" => Some(Self::RS256),
            "RS384" => Some(Self::RS384),
            "RS512" => Some(Self::RS512),
            _ => None,
        }
    }

    fn encoding(self) -> &'static signature::RsaSignatureEncoding {
        match self {
            Self::RS256 => &signature::RSA_PKCS1_SHA256,
            Self::RS384 => &signature::RSA_PKCS1_SHA384,
            Self::RS512 => &signature::RSA_PKCS1_SHA512,
        }
    }
}

/// How Maskinporten finds the public key for a grant: a registered key id or a
/// business-certificate chain.
#[derive(Clone, PartialEq, Eq)]
pub enum KeyBinding {
    /// `kid` header: a key registered on the client in Samarbeidsportalen.
    Kid(String),
    /// `x5c` header: the certificate chain as standard-base64 DER, leaf first.
    /// Always sent as a JSON array (a plain string gives MP-123).
    X5c(Vec<String>),
}

impl fmt::Debug for KeyBinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Kid(kid) => f.debug_tuple("Kid").field(kid).finish(),
            Self::X5c(chain) => write!(f, "X5c({} certificates)", chain.len()),
        }
    }
}

/// A boxed signing future, so [`Signer`] stays object-safe without extra crates.
pub type SignFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<u8>, SignError>> + Send + 'a>>;

/// Signing failed (local key error, or a remote KMS/HSM reported an error).
#[derive(Debug, Clone, thiserror::Error)]
#[error("signing failed: {0}")]
pub struct SignError(pub String);

/// Signs grants. Implement it to keep the private key in a cloud KMS or HSM;
/// the client only needs the algorithm, the key binding and signatures.
///
/// The trait is object-safe and used as `Arc<dyn Signer>`.
///
/// ```
/// use maskinporten::{Algorithm, KeyBinding, SignFuture, Signer};
///
/// /// A signer that asks a remote service for signatures.
/// #[derive(Debug)]
/// struct RemoteSigner { binding: KeyBinding }
///
/// impl Signer for RemoteSigner {
///     fn algorithm(&self) -> Algorithm { Algorithm::RS256 }
///     fn key_binding(&self) -> &KeyBinding { &self.binding }
///     fn sign<'a>(&'a self, message: &'a [u8]) -> SignFuture<'a> {
///         Box::pin(async move {
///             // e.g. call AWS KMS `Sign` with RSASSA_PKCS1_V1_5_SHA_256 here.
///             let _ = message;
///             Err(maskinporten::SignError("not wired up in this example".into()))
///         })
///     }
/// }
/// let signer: std::sync::Arc<dyn Signer> =
///     std::sync::Arc::new(RemoteSigner { binding: KeyBinding::Kid("kms-key-1".into()) });
/// assert_eq!(signer.algorithm().as_str(), "RS256");
/// ```
pub trait Signer: Send + Sync + fmt::Debug {
    /// The JWS algorithm the signatures use.
    fn algorithm(&self) -> Algorithm;

    /// `kid` or `x5c` for the grant header.
    fn key_binding(&self) -> &KeyBinding;

    /// Signs `message` (the JWS signing input) and returns the raw signature.
    fn sign<'a>(&'a self, message: &'a [u8]) -> SignFuture<'a>;

    /// The business certificate behind an `x5c` binding, for the validity
    /// check done before each grant. `None` for `kid` keys.
    fn certificate(&self) -> Option<&CertificateInfo> {
        None
    }

    /// For signers whose key can change while they are in use (see
    /// [`crate::RotatingSigner`]): the signer to use for one grant. The grant
    /// builder takes one snapshot per grant and builds the header (`kid`/`x5c`,
    /// `alg`) and the signature from it, so a key swap between the two cannot
    /// produce a header naming one key and a signature made with another.
    /// `None` (the default) means "this signer itself".
    fn current(&self) -> Option<Arc<dyn Signer>> {
        None
    }

    /// A stable identity for the cache key: the `kid`, or the SHA-256
    /// thumbprint of the leaf certificate.
    fn key_identity(&self) -> String {
        match self.key_binding() {
            KeyBinding::Kid(kid) => format!("kid:{kid}"),
            KeyBinding::X5c(chain) => {
                let der = chain
                    .first()
                    .and_then(|c| STANDARD.decode(c).ok())
                    .unwrap_or_default();
                format!("x5t#S256:{}", hex::encode(Sha256::digest(der)))
            }
        }
    }
}

/// A key or certificate file could not be loaded.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Reading a file failed.
    #[error("cannot read {path}: {reason}")]
    Io {
        /// The file.
        path: String,
        /// OS message.
        reason: String,
    },
    /// The PEM text is malformed or holds no usable block.
    #[error("PEM: {0}")]
    Pem(String),
    /// An encrypted key was given without a passphrase, or the passphrase is wrong.
    #[error("encrypted private key: {0}")]
    Decrypt(String),
    /// The key bytes are not an acceptable RSA private key.
    #[error("RSA key ({format}): {reason}")]
    InvalidKey {
        /// PKCS#8, PKCS#1 or JWK.
        format: &'static str,
        /// What was rejected.
        reason: String,
    },
    /// A JWK is malformed; `field` names the member.
    #[error("JWK member '{field}': {reason}")]
    Jwk {
        /// The JWK member, e.g. `n` or `kty`.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The PKCS#12 file could not be opened.
    #[error("PKCS#12: {0}")]
    Pkcs12(String),
    /// The certificate is unreadable, or outside its validity period.
    #[error(transparent)]
    Certificate(#[from] CertificateError),
    /// The certificate's public key does not belong to the private key.
    #[error("the leaf certificate '{subject}' does not match the private key")]
    KeyMismatch {
        /// Leaf subject.
        subject: String,
    },
}

/// An RSA private key, parsed once and kept inside aws-lc (which clears the
/// private components when it frees them). It has a redacted `Debug` and no
/// `Display`; the only way out is [`RsaKey::to_pkcs8_pem`], which returns a
/// secret string.
#[derive(Clone)]
pub struct RsaKey {
    pair: Arc<RsaKeyPair>,
}

impl fmt::Debug for RsaKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RsaKey({} bits, [REDACTED])",
            self.pair.public_modulus_len() * 8
        )
    }
}

fn b64url_field(
    obj: &serde_json::Value,
    field: &'static str,
) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let s = obj
        .get(field)
        .and_then(|v| v.as_str())
        .ok_or(KeyError::Jwk {
            field,
            reason: "missing or not a string".into(),
        })?;
    URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map(Zeroizing::new)
        .map_err(|e| KeyError::Jwk {
            field,
            reason: format!("not base64url: {e}"),
        })
}

impl RsaKey {
    /// Parses a PKCS#8 `PrivateKeyInfo` (DER).
    ///
    /// # Errors
    /// [`KeyError::InvalidKey`] when the bytes are not an RSA key aws-lc accepts (2048–8192 bits).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        RsaKeyPair::from_pkcs8(der)
            .map(|p| Self { pair: Arc::new(p) })
            .map_err(|e| KeyError::InvalidKey {
                format: "PKCS#8",
                reason: e.to_string(),
            })
    }

    /// Parses a PKCS#1 `RSAPrivateKey` (DER).
    ///
    /// # Errors
    /// [`KeyError::InvalidKey`] when the bytes are not an acceptable RSA key.
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, KeyError> {
        RsaKeyPair::from_der(der)
            .map(|p| Self { pair: Arc::new(p) })
            .map_err(|e| KeyError::InvalidKey {
                format: "PKCS#1",
                reason: e.to_string(),
            })
    }

    /// Parses a PEM private key: `PRIVATE KEY` (PKCS#8), `RSA PRIVATE KEY`
    /// (PKCS#1) or `ENCRYPTED PRIVATE KEY` (PKCS#8 PBES2, needs `passphrase`).
    /// Other blocks (e.g. certificates) in the same file are skipped.
    ///
    /// # Errors
    /// [`KeyError`] says which block was wrong and why.
    pub fn from_pem(pem_text: &[u8], passphrase: Option<&SecretString>) -> Result<Self, KeyError> {
        let blocks = pem::parse_all(pem_text).map_err(KeyError::Pem)?;
        for block in &blocks {
            match block.label.as_str() {
                "PRIVATE KEY" => return Self::from_pkcs8_der(&block.der),
                "RSA PRIVATE KEY" => {
                    if block.has_headers {
                        return Err(KeyError::Decrypt(
                            "legacy OpenSSL-encrypted 'RSA PRIVATE KEY' (Proc-Type header) is not supported; convert it with `openssl pkcs8 -topk8 -v2 aes-256-cbc`".into(),
                        ));
                    }
                    return Self::from_pkcs1_der(&block.der);
                }
                "ENCRYPTED PRIVATE KEY" => {
                    let pass = passphrase.ok_or_else(|| {
                        KeyError::Decrypt("the key is encrypted but no passphrase was given".into())
                    })?;
                    let info = pkcs8::EncryptedPrivateKeyInfoRef::try_from(block.der.as_slice())
                        .map_err(|e| {
                            KeyError::Decrypt(format!("not an EncryptedPrivateKeyInfo: {e}"))
                        })?;
                    let doc = info.decrypt(pass.expose_secret().as_bytes()).map_err(|e| {
                        KeyError::Decrypt(format!("wrong passphrase or unsupported cipher ({e})"))
                    })?;
                    return Self::from_pkcs8_der(doc.as_bytes());
                }
                "EC PRIVATE KEY" => {
                    return Err(KeyError::InvalidKey {
                        format: "PEM",
                        reason: "EC keys are not accepted by Maskinporten (RS256/384/512 only)"
                            .into(),
                    });
                }
                _ => {}
            }
        }
        Err(KeyError::Pem(format!(
            "no private key block found (saw: {})",
            if blocks.is_empty() {
                "nothing".to_owned()
            } else {
                blocks
                    .iter()
                    .map(|b| b.label.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        )))
    }

    /// Reads [`RsaKey::from_pem`] input from a file; errors name the file.
    ///
    /// # Errors
    /// [`KeyError::Io`], or the PEM error prefixed with the path.
    pub fn from_pem_file(
        path: impl AsRef<Path>,
        passphrase: Option<&SecretString>,
    ) -> Result<Self, KeyError> {
        let path = path.as_ref();
        let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| KeyError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?);
        Self::from_pem(&bytes, passphrase).map_err(|e| match e {
            KeyError::Pem(m) => KeyError::Pem(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    /// Parses a private RSA JWK (`kty` `RSA` with `n`, `e`, `d`, `p`, `q`, `dp`, `dq`, `qi`).
    ///
    /// # Errors
    /// [`KeyError::Jwk`] names the missing or malformed member.
    pub fn from_jwk(jwk_json: &str) -> Result<Self, KeyError> {
        Self::from_jwk_value(&parse_jwk(jwk_json)?)
    }

    fn from_jwk_value(v: &serde_json::Value) -> Result<Self, KeyError> {
        match v.get("kty").and_then(|k| k.as_str()) {
            Some("RSA") => {}
            other => {
                return Err(KeyError::Jwk {
                    field: "kty",
                    reason: format!("expected \"RSA\", found {other:?}"),
                });
            }
        }
        let components = KeyPairComponents {
            public_key: PublicKeyComponents {
                n: b64url_field(v, "n")?,
                e: b64url_field(v, "e")?,
            },
            d: b64url_field(v, "d")?,
            p: b64url_field(v, "p")?,
            q: b64url_field(v, "q")?,
            dP: b64url_field(v, "dp")?,
            dQ: b64url_field(v, "dq")?,
            qInv: b64url_field(v, "qi")?,
        };
        RsaKeyPair::from_components(&components)
            .map(|p| Self { pair: Arc::new(p) })
            .map_err(|e| KeyError::InvalidKey {
                format: "JWK",
                reason: e.to_string(),
            })
    }

    /// Generates a new RSA key (2048, 3072 or 4096 bits).
    ///
    /// # Errors
    /// [`KeyError::InvalidKey`] for other sizes or a generation failure.
    pub fn generate(bits: u32) -> Result<Self, KeyError> {
        let size = match bits {
            2048 => KeySize::Rsa2048,
            3072 => KeySize::Rsa3072,
            4096 => KeySize::Rsa4096,
            other => {
                return Err(KeyError::InvalidKey {
                    format: "generate",
                    reason: format!("unsupported size {other} bits; use 2048, 3072 or 4096"),
                });
            }
        };
        RsaKeyPair::generate(size)
            .map(|p| Self { pair: Arc::new(p) })
            .map_err(|e| KeyError::InvalidKey {
                format: "generate",
                reason: e.to_string(),
            })
    }

    /// Key size in bits.
    pub fn bits(&self) -> usize {
        self.pair.public_modulus_len() * 8
    }

    /// The PKCS#8 PEM encoding, as a secret.
    ///
    /// # Errors
    /// [`KeyError::InvalidKey`] if aws-lc cannot serialise the key.
    pub fn to_pkcs8_pem(&self) -> Result<SecretString, KeyError> {
        let der = self.pair.as_der().map_err(|e| KeyError::InvalidKey {
            format: "PKCS#8",
            reason: e.to_string(),
        })?;
        let pem = pem::encode("PRIVATE KEY", der.as_ref());
        Ok(SecretString::from(pem.as_str()))
    }

    fn public_n_e(&self) -> (String, String) {
        let public = self.pair.public_key();
        (
            URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
            URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
        )
    }

    /// The RFC 7638 JWK thumbprint (SHA-256, base64url): a natural `kid`.
    pub fn thumbprint(&self) -> String {
        let (n, e) = self.public_n_e();
        // RFC 7638 §3.2: required members in lexicographic order, no whitespace.
        let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
        URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
    }

    /// The public JWK to register on the client (`kty`, `n`, `e`, `use` = `sig`, `alg`, `kid`).
    pub fn public_jwk(&self, alg: Algorithm, kid: &str) -> serde_json::Value {
        let (n, e) = self.public_n_e();
        serde_json::json!({"kty": "RSA", "n": n, "e": e, "use": "sig", "alg": alg.as_str(), "kid": kid})
    }

    /// The public key as SubjectPublicKeyInfo DER, for comparing with a certificate.
    fn spki_der(&self) -> Option<Vec<u8>> {
        self.pair
            .public_key()
            .as_der()
            .ok()
            .map(|d| d.as_ref().to_vec())
    }

    /// Signs `message` with `alg` (synchronous, a few hundred microseconds).
    ///
    /// # Errors
    /// [`SignError`] if aws-lc fails.
    pub fn sign(&self, alg: Algorithm, message: &[u8]) -> Result<Vec<u8>, SignError> {
        let mut sig = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(
                alg.encoding(),
                &aws_lc_rs::rand::SystemRandom::new(),
                message,
                &mut sig,
            )
            .map_err(|_| SignError("aws-lc RSA signing failed".into()))?;
        Ok(sig)
    }
}

fn parse_jwk(json: &str) -> Result<serde_json::Value, KeyError> {
    serde_json::from_str(json).map_err(|e| KeyError::Jwk {
        field: "(document)",
        reason: format!("not JSON: {e}"),
    })
}

/// The built-in signer: an in-process RSA key with a `kid` or an `x5c` chain.
#[derive(Clone)]
pub struct RsaSigner {
    key: RsaKey,
    alg: Algorithm,
    binding: KeyBinding,
    certificate: Option<CertificateInfo>,
}

impl fmt::Debug for RsaSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RsaSigner")
            .field("key", &self.key)
            .field("alg", &self.alg)
            .field("binding", &self.binding)
            .field("certificate", &self.certificate)
            .finish()
    }
}

impl RsaSigner {
    /// A signer for a key registered on the client under `kid`.
    pub fn with_kid(key: RsaKey, kid: impl Into<String>) -> Self {
        Self {
            key,
            alg: Algorithm::RS256,
            binding: KeyBinding::Kid(kid.into()),
            certificate: None,
        }
    }

    /// A signer for a business certificate: `chain_der` is the chain, leaf
    /// first; all of it goes into `x5c`. Checks that the leaf belongs to the
    /// key. The validity period is checked before each grant, not here, so an
    /// expired certificate can still be inspected.
    ///
    /// # Errors
    /// [`KeyError::Certificate`] for unreadable certificates, [`KeyError::KeyMismatch`]
    /// when the leaf's public key is not the key's.
    pub fn with_certificate_chain<C: AsRef<[u8]>>(
        key: RsaKey,
        chain_der: &[C],
    ) -> Result<Self, KeyError> {
        let info = CertificateInfo::from_der_chain(chain_der)?;
        let leaf = chain_der.first().ok_or(CertificateError::Empty)?.as_ref();
        let (_, cert) =
            x509_parser::parse_x509_certificate(leaf).map_err(|e| CertificateError::Parse {
                index: 0,
                reason: e.to_string(),
            })?;
        if key.spki_der().as_deref() != Some(cert.public_key().raw) {
            return Err(KeyError::KeyMismatch {
                subject: info.subject,
            });
        }
        Ok(Self {
            key,
            alg: Algorithm::RS256,
            binding: KeyBinding::X5c(
                chain_der
                    .iter()
                    .map(|c| STANDARD.encode(c.as_ref()))
                    .collect(),
            ),
            certificate: Some(info),
        })
    }

    /// Loads a private JWK; `kid` comes from the JWK or, if absent, is its
    /// RFC 7638 thumbprint; `alg` from the JWK if present (else RS256).
    ///
    /// # Errors
    /// [`KeyError::Jwk`] for a malformed JWK or an `alg` Maskinporten does not accept.
    pub fn from_jwk(jwk_json: &str) -> Result<Self, KeyError> {
        let v = parse_jwk(jwk_json)?;
        let key = RsaKey::from_jwk_value(&v)?;
        let alg = match v.get("alg").and_then(|a| a.as_str()) {
            None => Algorithm::RS256,
            Some(a) => Algorithm::from_name(a).ok_or(KeyError::Jwk {
                field: "alg",
                reason: format!("'{a}' is not RS256, RS384 or RS512"),
            })?,
        };
        let kid = match v.get("kid").and_then(|k| k.as_str()) {
            Some(k) => k.to_owned(),
            None => key.thumbprint(),
        };
        Ok(Self::with_kid(key, kid).with_algorithm(alg))
    }

    /// Loads a PKCS#12 business certificate (`.p12`/`.pfx`): OpenSSL 3
    /// defaults (PBES2/AES) and `-legacy` files (RC2-40/3DES) both work.
    /// The whole chain found in the file goes into `x5c`, leaf first.
    ///
    /// # Errors
    /// [`KeyError::Pkcs12`] for a wrong password or a file without a key and
    /// certificate; [`KeyError::KeyMismatch`] if they don't belong together.
    pub fn from_pkcs12(p12: &[u8], password: &SecretString) -> Result<Self, KeyError> {
        let (key_der, chain) = read_pkcs12(p12, password)?;
        let key = RsaKey::from_pkcs8_der(&key_der)?;
        Self::with_certificate_chain(key, &chain)
    }

    /// [`RsaSigner::from_pkcs12`] from a file; errors name the file.
    ///
    /// # Errors
    /// As [`RsaSigner::from_pkcs12`], plus [`KeyError::Io`].
    pub fn from_pkcs12_file(
        path: impl AsRef<Path>,
        password: &SecretString,
    ) -> Result<Self, KeyError> {
        let path = path.as_ref();
        let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| KeyError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?);
        Self::from_pkcs12(&bytes, password).map_err(|e| match e {
            KeyError::Pkcs12(m) => KeyError::Pkcs12(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    /// Chooses RS256 (default), RS384 or RS512.
    #[must_use]
    pub fn with_algorithm(mut self, alg: Algorithm) -> Self {
        self.alg = alg;
        self
    }

    /// The private key (for exporting or deriving the public JWK).
    pub fn key(&self) -> &RsaKey {
        &self.key
    }

    /// Signs synchronously; [`Signer::sign`] wraps this.
    ///
    /// # Errors
    /// [`SignError`] if aws-lc fails.
    pub fn sign_now(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        self.key.sign(self.alg, message)
    }
}

impl Signer for RsaSigner {
    fn algorithm(&self) -> Algorithm {
        self.alg
    }
    fn key_binding(&self) -> &KeyBinding {
        &self.binding
    }
    fn sign<'a>(&'a self, message: &'a [u8]) -> SignFuture<'a> {
        // Signing takes ~0.5 ms of CPU: cheaper to do inline than to move to a
        // blocking thread, and it keeps the grant build within 10 % of a bare signature.
        let result = self.sign_now(message);
        Box::pin(std::future::ready(result))
    }
    fn certificate(&self) -> Option<&CertificateInfo> {
        self.certificate.as_ref()
    }
}

/// A PKCS#8 private key (wiped on drop) and its certificate chain, leaf first.
type KeyAndChain = (Zeroizing<Vec<u8>>, Vec<Vec<u8>>);

/// Opens a PKCS#12 file and returns the PKCS#8 key and the chain (leaf first).
fn read_pkcs12(p12: &[u8], password: &SecretString) -> Result<KeyAndChain, KeyError> {
    use p12_keystore::{KeyStore, KeyStoreEntry, Pkcs12ImportPolicy};
    let store = KeyStore::from_pkcs12(p12, password.expose_secret(), Pkcs12ImportPolicy::Relaxed)
        .map_err(|e| {
        KeyError::Pkcs12(format!(
            "cannot open (wrong password or unsupported encryption?): {e}"
        ))
    })?;
    let (_, chain) = store
        .private_key_chain()
        .ok_or_else(|| KeyError::Pkcs12("the file holds no private key".into()))?;
    let key = Zeroizing::new(chain.key().as_der().to_vec());
    let mut certs: Vec<Vec<u8>> = chain.certs().iter().map(|c| c.as_der().to_vec()).collect();
    // Certificates without a local key id (intermediates added with
    // `-certfile`/`-chain`) may be stored as separate entries: append the ones
    // that continue the chain, so x5c carries the full chain.
    let extra: Vec<&p12_keystore::Certificate> = store
        .entries()
        .filter_map(|(_, e)| match e {
            KeyStoreEntry::Certificate(c) => Some(c),
            _ => None,
        })
        .collect();
    while let Some(last) = certs.last() {
        let Ok(last) = p12_keystore::Certificate::from_der(last) else {
            break;
        };
        if last.issuer() == last.subject() {
            break;
        }
        let next = extra.iter().find(|c| {
            c.subject() == last.issuer() && !certs.iter().any(|d| d.as_slice() == c.as_der())
        });
        match next {
            Some(c) => certs.push(c.as_der().to_vec()),
            None => break,
        }
    }
    if certs.is_empty() {
        return Err(KeyError::Pkcs12(
            "the file holds a key but no certificate".into(),
        ));
    }
    Ok((key, certs))
}

/// Reads the certificate information of a PKCS#12 file without checking validity.
///
/// # Errors
/// As [`RsaSigner::from_pkcs12`].
pub fn inspect_pkcs12(p12: &[u8], password: &SecretString) -> Result<CertificateInfo, KeyError> {
    let (_, chain) = read_pkcs12(p12, password)?;
    Ok(CertificateInfo::from_der_chain(&chain)?)
}

/// Reads the certificate chain (`CERTIFICATE` blocks, leaf first) of a PEM file.
///
/// # Errors
/// [`KeyError::Pem`] when there is no certificate, [`KeyError::Certificate`] when one is unreadable.
pub fn inspect_pem_certificates(pem_text: &[u8]) -> Result<CertificateInfo, KeyError> {
    let chain: Vec<Vec<u8>> = pem::parse_all(pem_text)
        .map_err(KeyError::Pem)?
        .into_iter()
        .filter(|b| b.label == "CERTIFICATE")
        .map(|b| b.der.to_vec())
        .collect();
    if chain.is_empty() {
        return Err(KeyError::Pem("no CERTIFICATE block found".into()));
    }
    Ok(CertificateInfo::from_der_chain(&chain)?)
}

/// A freshly generated key pair for `digitoll keys generate`.
pub struct GeneratedKeyPair {
    /// The private key as PKCS#8 PEM (keep it secret, store it with mode 0600).
    pub private_pem: SecretString,
    /// The public JWK to upload: `kty`, `n`, `e`, `use` = `sig`, `alg`, `kid`.
    pub public_jwk: serde_json::Value,
    /// The `kid`: the key's RFC 7638 thumbprint.
    pub kid: String,
}

impl fmt::Debug for GeneratedKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeneratedKeyPair")
            .field("private_pem", &"[REDACTED]")
            .field("public_jwk", &self.public_jwk)
            .field("kid", &self.kid)
            .finish()
    }
}

/// Generates an RSA key pair (2048, 3072 or 4096 bits) for a `kid` client.
///
/// ```
/// let pair = maskinporten::generate_key_pair(2048, maskinporten::Algorithm::RS256)?;
/// assert_eq!(pair.public_jwk["use"], "sig");
/// assert_eq!(pair.public_jwk["kid"], pair.kid.as_str());
/// assert!(!format!("{pair:?}").contains("PRIVATE KEY"));
/// # Ok::<(), maskinporten::KeyError>(())
/// ```
///
/// # Errors
/// [`KeyError::InvalidKey`] for an unsupported size.
pub fn generate_key_pair(bits: u32, alg: Algorithm) -> Result<GeneratedKeyPair, KeyError> {
    let key = RsaKey::generate(bits)?;
    let kid = key.thumbprint();
    Ok(GeneratedKeyPair {
        private_pem: key.to_pkcs8_pem()?,
        public_jwk: key.public_jwk(alg, &kid),
        kid,
    })
}
