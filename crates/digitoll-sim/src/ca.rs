//! The simulator's certificate authorities and business-certificate checks.
//!
//! Maskinporten trusts the business-certificate (virksomhetssertifikat) CAs of its own
//! environment only: TEST rejects production certificates and PROD rejects test
//! certificates (MP-120). The simulator therefore keeps two independent CA
//! hierarchies, a Test CA and a Prod CA, each a root plus an issuing intermediate,
//! and trusts the one matching its [`CertEnvironment`].

use std::fmt;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, DnValue, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use x509_parser::prelude::{FromDer, X509Certificate};
use zeroize::Zeroizing;

use crate::SimError;
use crate::keys::{RsaPrivateKey, pem_encode};

const OID_SERIAL_NUMBER: &[u64] = &[2, 5, 4, 5];
const OID_ORGANIZATION_IDENTIFIER: &[u64] = &[2, 5, 4, 97];

/// Which Maskinporten environment a certificate (or the simulator) belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum CertEnvironment {
    /// The TEST environment (`test.maskinporten.no`); the simulator's default.
    #[default]
    Test,
    /// The production environment (`maskinporten.no`).
    Prod,
}

impl CertEnvironment {
    /// The other environment (whose certificates this one rejects with MP-120).
    pub fn other(self) -> Self {
        match self {
            Self::Test => Self::Prod,
            Self::Prod => Self::Test,
        }
    }
}

/// Options for [`TestCa::issue_business_certificate`].
#[derive(Debug, Clone)]
pub struct CertOptions {
    /// Which CA signs the certificate.
    pub environment: CertEnvironment,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity (set it in the past to get an expired certificate).
    pub not_after: OffsetDateTime,
    /// Put `NTRNO-<orgno>` in organizationIdentifier (2.5.4.97) instead of the org
    /// number in serialNumber (2.5.4.5), like newer SEID-2 certificates.
    pub use_organization_identifier: bool,
}

impl Default for CertOptions {
    /// A Test-CA certificate valid from a day ago for a year, org number in serialNumber.
    fn default() -> Self {
        let now = OffsetDateTime::now_utc();
        Self {
            environment: CertEnvironment::Test,
            not_before: now - Duration::days(1),
            not_after: now + Duration::days(365),
            use_organization_identifier: false,
        }
    }
}

/// A business certificate chain and its private key, as a certificate client holds them.
#[derive(Clone)]
pub struct BusinessCertificate {
    /// DER certificates, leaf first, then the intermediate (the root is not included).
    pub chain_der: Vec<Vec<u8>>,
    /// The leaf's RSA private key as PKCS#8 DER, zeroed on drop.
    pub key_pkcs8_der: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for BusinessCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BusinessCertificate")
            .field("chain_len", &self.chain_der.len())
            .field("key_pkcs8_der", &"[REDACTED]")
            .finish()
    }
}

impl BusinessCertificate {
    /// The chain as concatenated `CERTIFICATE` PEM blocks, leaf first.
    pub fn chain_pem(&self) -> String {
        self.chain_der
            .iter()
            .map(|der| pem_encode("CERTIFICATE", der))
            .collect()
    }

    /// The private key as a PKCS#8 `PRIVATE KEY` PEM.
    pub fn key_pem(&self) -> SecretString {
        SecretString::from(pem_encode("PRIVATE KEY", &self.key_pkcs8_der))
    }

    /// The chain as a JWS `x5c` header value (standard base64 DER, leaf first).
    pub fn x5c(&self) -> Vec<String> {
        use base64::Engine as _;
        self.chain_der
            .iter()
            .map(|der| base64::engine::general_purpose::STANDARD.encode(der))
            .collect()
    }

    /// The key and chain as a PKCS#12 (.p12) file protected by `password`
    /// (PBES2/AES-256, HMAC-SHA256), like the files business-certificate vendors ship.
    pub fn to_pkcs12(&self, password: &str) -> Result<Vec<u8>, SimError> {
        let p12 = |what: &str| {
            let what = what.to_owned();
            move |e: p12_keystore::error::Error| SimError::Crypto(format!("PKCS#12 {what}: {e}"))
        };
        let key = p12_keystore::PrivateKey::from_der(&self.key_pkcs8_der).map_err(p12("key"))?;
        let certs = self
            .chain_der
            .iter()
            .map(|der| p12_keystore::Certificate::from_der(der))
            .collect::<Result<Vec<_>, _>>()
            .map_err(p12("certificate"))?;
        let chain = p12_keystore::PrivateKeyChain::new("1", key, certs);
        let mut store = p12_keystore::KeyStore::new();
        store.add_entry("1", p12_keystore::KeyStoreEntry::PrivateKeyChain(chain));
        store.writer(password).write().map_err(p12("writing"))
    }

    /// The private key as an [`RsaPrivateKey`].
    pub fn private_key(&self) -> Result<RsaPrivateKey, SimError> {
        RsaPrivateKey::from_pkcs8_der(&self.key_pkcs8_der)
    }
}

/// One CA hierarchy: a self-signed root and an intermediate that issues leaves.
struct CaHierarchy {
    root_der: Vec<u8>,
    intermediate_der: Vec<u8>,
    intermediate: Issuer<'static, KeyPair>,
}

impl CaHierarchy {
    fn generate(label: &str) -> Result<Self, SimError> {
        let now = OffsetDateTime::now_utc();
        let root_key = KeyPair::generate().map_err(crypto("generating a CA key"))?;
        let mut root_params = ca_params(&format!("Digitoll Sim {label} Root CA"), now)?;
        root_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let root_cert = root_params
            .self_signed(&root_key)
            .map_err(crypto("self-signing a root CA"))?;
        let root = Issuer::new(root_params, root_key);

        let int_key = KeyPair::generate().map_err(crypto("generating a CA key"))?;
        let mut int_params = ca_params(&format!("Digitoll Sim {label} Business CA"), now)?;
        int_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        let int_cert = int_params
            .signed_by(&int_key, &root)
            .map_err(crypto("signing an intermediate CA"))?;
        Ok(Self {
            root_der: root_cert.der().to_vec(),
            intermediate_der: int_cert.der().to_vec(),
            intermediate: Issuer::new(int_params, int_key),
        })
    }
}

fn ca_params(cn: &str, now: OffsetDateTime) -> Result<CertificateParams, SimError> {
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(crypto("CA params"))?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn.push(DnType::OrganizationName, "Digitoll Simulator");
    dn.push(DnType::CountryName, "NO");
    params.distinguished_name = dn;
    params.not_before = now - Duration::days(365);
    params.not_after = now + Duration::days(365 * 20);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    Ok(params)
}

fn crypto(what: &'static str) -> impl Fn(rcgen::Error) -> SimError {
    move |e| SimError::Crypto(format!("{what}: {e}"))
}

/// The simulator's Test and Prod business-certificate CAs (generated at start, ECDSA P-256).
pub struct TestCa {
    test: CaHierarchy,
    prod: CaHierarchy,
}

impl fmt::Debug for TestCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

impl TestCa {
    /// Generates fresh Test and Prod CA hierarchies.
    pub fn generate() -> Result<Self, SimError> {
        Ok(Self {
            test: CaHierarchy::generate("Test")?,
            prod: CaHierarchy::generate("Prod")?,
        })
    }

    fn hierarchy(&self, env: CertEnvironment) -> &CaHierarchy {
        match env {
            CertEnvironment::Test => &self.test,
            CertEnvironment::Prod => &self.prod,
        }
    }

    /// DER of the root certificate of `env` (for clients that want to pin it).
    pub fn root_certificate_der(&self, env: CertEnvironment) -> &[u8] {
        &self.hierarchy(env).root_der
    }

    /// DER of the issuing intermediate of `env`.
    pub fn intermediate_certificate_der(&self, env: CertEnvironment) -> &[u8] {
        &self.hierarchy(env).intermediate_der
    }

    /// Issues a business certificate chain: leaf (subject serialNumber = org_no, or
    /// organizationIdentifier `NTRNO-<org_no>`, O = name, C = NO) signed by the
    /// intermediate of `opts.environment`, for a freshly generated RSA-2048 key.
    ///
    /// # Panics
    /// Panics if key generation or signing fails (a broken crypto backend); use
    /// [`TestCa::try_issue_business_certificate`] to get the error instead.
    pub fn issue_business_certificate(
        &self,
        org_no: &str,
        name: &str,
        opts: CertOptions,
    ) -> BusinessCertificate {
        match self.try_issue_business_certificate(org_no, name, opts, None) {
            Ok(cert) => cert,
            Err(e) => panic!("issuing a business certificate for {org_no}: {e}"),
        }
    }

    /// Like [`TestCa::issue_business_certificate`], but certifies an existing key
    /// (`Some`) instead of generating one, and returns errors.
    pub fn try_issue_business_certificate(
        &self,
        org_no: &str,
        name: &str,
        opts: CertOptions,
        key: Option<&RsaPrivateKey>,
    ) -> Result<BusinessCertificate, SimError> {
        let key = match key {
            Some(k) => k.clone(),
            None => RsaPrivateKey::generate()?,
        };
        let leaf_key = key.rcgen_key_pair()?;
        let mut params =
            CertificateParams::new(Vec::<String>::new()).map_err(crypto("leaf params"))?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CountryName, "NO");
        dn.push(DnType::OrganizationName, name);
        dn.push(DnType::CommonName, name);
        let (oid, value) = if opts.use_organization_identifier {
            (OID_ORGANIZATION_IDENTIFIER, format!("NTRNO-{org_no}"))
        } else {
            (OID_SERIAL_NUMBER, org_no.to_owned())
        };
        let printable = rcgen::string::PrintableString::try_from(value.as_str())
            .map_err(|e| SimError::InvalidInput(format!("org_no {org_no:?}: {e}")))?;
        dn.push(
            DnType::CustomDnType(oid.to_vec()),
            DnValue::PrintableString(printable),
        );
        params.distinguished_name = dn;
        params.not_before = opts.not_before;
        params.not_after = opts.not_after;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::ContentCommitment,
        ];
        let hierarchy = self.hierarchy(opts.environment);
        let leaf = params
            .signed_by(&leaf_key, &hierarchy.intermediate)
            .map_err(crypto("signing a business certificate"))?;
        Ok(BusinessCertificate {
            chain_der: vec![leaf.der().to_vec(), hierarchy.intermediate_der.clone()],
            key_pkcs8_der: Zeroizing::new(key.pkcs8_der().to_vec()),
        })
    }

    /// Checks an `x5c` chain (DER, leaf first) against the CAs of `env` at `now`.
    pub(crate) fn verify_chain(
        &self,
        env: CertEnvironment,
        chain: &[Vec<u8>],
        now: OffsetDateTime,
    ) -> Result<VerifiedLeaf, ChainError> {
        let certs = chain
            .iter()
            .enumerate()
            .map(|(i, der)| {
                X509Certificate::from_der(der).map(|(_, c)| c).map_err(|e| {
                    ChainError::Malformed(format!("x5c[{i}] is not a DER certificate: {e}"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let Some(leaf) = certs.first() else {
            return Err(ChainError::Malformed("x5c is empty".into()));
        };
        for (i, pair) in certs.windows(2).enumerate() {
            let (child, parent) = (&pair[0], &pair[1]);
            if !parent.is_ca() {
                return Err(ChainError::Untrusted(format!(
                    "x5c[{}] is not a CA certificate",
                    i + 1
                )));
            }
            if child.issuer() != parent.subject()
                || child.verify_signature(Some(parent.public_key())).is_err()
            {
                return Err(ChainError::Untrusted(format!(
                    "x5c[{i}] is not signed by x5c[{}]",
                    i + 1
                )));
            }
        }
        let last = certs.last().unwrap_or(leaf);
        if !self.anchored_in(env, last) {
            if self.anchored_in(env.other(), last) {
                return Err(ChainError::OtherEnvironment);
            }
            return Err(ChainError::Untrusted(
                "the chain does not lead to a trusted root".into(),
            ));
        }
        for (i, cert) in certs.iter().enumerate() {
            let validity = cert.validity();
            let (nb, na) = (
                validity.not_before.to_datetime(),
                validity.not_after.to_datetime(),
            );
            if now < nb || now > na {
                return Err(ChainError::Expired(format!(
                    "x5c[{i}] is valid from {nb} to {na}, not at {now}"
                )));
            }
        }
        let org_no = certificate_org_no(leaf);
        let public_key_der = leaf.public_key().subject_public_key.data.to_vec();
        let is_rsa = leaf.public_key().algorithm.algorithm
            == x509_parser::oid_registry::OID_PKCS1_RSAENCRYPTION;
        if !is_rsa {
            return Err(ChainError::Untrusted(
                "the leaf key is not an RSA key".into(),
            ));
        }
        Ok(VerifiedLeaf {
            org_no,
            rsa_public_key_der: public_key_der,
        })
    }

    /// True if `cert` is one of `env`'s CA certificates or is signed by one of them.
    fn anchored_in(&self, env: CertEnvironment, cert: &X509Certificate<'_>) -> bool {
        let h = self.hierarchy(env);
        [&h.root_der, &h.intermediate_der]
            .into_iter()
            .any(|anchor_der| {
                if anchor_der.as_slice() == cert.as_raw() {
                    return true;
                }
                let Ok((_, anchor)) = X509Certificate::from_der(anchor_der) else {
                    return false;
                };
                cert.issuer() == anchor.subject()
                    && cert.verify_signature(Some(anchor.public_key())).is_ok()
            })
    }
}

/// What the simulator learned from a trusted certificate chain.
#[derive(Debug)]
pub(crate) struct VerifiedLeaf {
    /// Org number from organizationIdentifier (`NTRNO-`) or serialNumber, if any.
    pub(crate) org_no: Option<String>,
    /// The leaf's PKCS#1 `RSAPublicKey` DER, for verifying the grant signature.
    pub(crate) rsa_public_key_der: Vec<u8>,
}

/// Why an `x5c` chain was rejected.
#[derive(Debug)]
pub(crate) enum ChainError {
    /// An entry could not be decoded (MP-123).
    Malformed(String),
    /// The chain leads to the other environment's CA (MP-120).
    OtherEnvironment,
    /// The chain is broken or leads nowhere trusted (MP-124).
    Untrusted(String),
    /// A certificate is outside its validity period (MP-124).
    Expired(String),
}

/// The org number a business certificate names: organizationIdentifier
/// `NTRNO-<orgno>` (2.5.4.97) first, else a 9-digit serialNumber (2.5.4.5).
fn certificate_org_no(cert: &X509Certificate<'_>) -> Option<String> {
    let subject = cert.subject();
    let attr = |oid: &[u64]| {
        subject.iter_attributes().find_map(|a| {
            let arcs: Vec<u64> = a.attr_type().iter()?.collect();
            (arcs == oid)
                .then(|| a.as_str().ok().map(str::to_owned))
                .flatten()
        })
    };
    if let Some(v) = attr(OID_ORGANIZATION_IDENTIFIER)
        && let Some(org) = v.strip_prefix("NTRNO-")
    {
        return Some(org.to_owned());
    }
    attr(OID_SERIAL_NUMBER).filter(|v| v.len() == 9 && v.bytes().all(|b| b.is_ascii_digit()))
}
