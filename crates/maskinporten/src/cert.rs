//! Business certificates (virksomhetssertifikat / eSeal): what a certificate says
//! about the organisation and when it may be used.

use std::fmt;

use ::time::OffsetDateTime;
use sha2::{Digest, Sha256};
use x509_parser::prelude::{X509Name, parse_x509_certificate};

use crate::orgno::OrgNumber;

/// OID of the X.520 `organizationIdentifier` attribute (e.g. `NTRNO-123456789`).
const OID_ORGANIZATION_IDENTIFIER: &str = "2.5.4.97";
/// OID of the X.520 `serialNumber` attribute, where older Norwegian business
/// certificates keep the organisation number.
const OID_SERIAL_NUMBER: &str = "2.5.4.5";

/// Which Maskinporten environment a certificate appears to belong to.
///
/// Maskinporten rejects production certificates in TEST and test certificates
/// in PROD (MP-120), so the CLI warns early. This is a heuristic on issuer names
/// (Buypass and Commfides put "TEST" in their test CA names), not a trust decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertEnvironmentHint {
    /// An issuer in the chain has "test" in its name.
    Test,
    /// Issued by a known Norwegian business-certificate CA without "test" in its name.
    Prod,
    /// Neither pattern matched (e.g. a private or simulator CA).
    Unknown,
}

/// One certificate of a chain, summarised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainEntry {
    /// Subject distinguished name (RFC 4514 style).
    pub subject: String,
    /// Issuer distinguished name.
    pub issuer: String,
    /// End of the validity period.
    pub not_after: OffsetDateTime,
}

/// What a business certificate (and its chain) says, for diagnostics and for
/// the pre-flight validity check done before any grant is signed.
#[derive(Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    /// Subject distinguished name of the leaf certificate.
    pub subject: String,
    /// Issuer distinguished name of the leaf certificate.
    pub issuer: String,
    /// Organisation number from the subject's `serialNumber` (2.5.4.5) or
    /// `organizationIdentifier` (2.5.4.97, `NTRNO-<orgno>`), if one is present.
    pub org_number: Option<OrgNumber>,
    /// The certificate serial number as upper-case hex.
    pub serial: String,
    /// Start of the validity period.
    pub not_before: OffsetDateTime,
    /// End of the validity period.
    pub not_after: OffsetDateTime,
    /// SHA-256 of the leaf certificate's DER as lower-case hex; used as the
    /// key identity in the token cache key for `x5c` clients.
    pub sha256_thumbprint: String,
    /// The whole chain as given, leaf first.
    pub chain: Vec<ChainEntry>,
    /// Test/production guess from issuer names.
    pub environment_hint: CertEnvironmentHint,
}

impl fmt::Debug for CertificateInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateInfo")
            .field("subject", &self.subject)
            .field("issuer", &self.issuer)
            .field("org_number", &self.org_number)
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .field("chain_len", &self.chain.len())
            .field("environment_hint", &self.environment_hint)
            .finish_non_exhaustive()
    }
}

/// Why a certificate could not be read or used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateError {
    /// The DER bytes are not an X.509 certificate.
    #[error("certificate #{index} in the chain is not valid X.509 DER: {reason}")]
    Parse {
        /// Position in the chain (0 = leaf).
        index: usize,
        /// Parser message.
        reason: String,
    },
    /// The chain is empty.
    #[error("no certificate found")]
    Empty,
    /// The leaf certificate is outside its validity period.
    #[error(
        "certificate '{subject}' is not valid at {at}: valid from {not_before} until {not_after}"
    )]
    NotValid {
        /// Leaf subject.
        subject: String,
        /// The time checked.
        at: OffsetDateTime,
        /// Start of validity.
        not_before: OffsetDateTime,
        /// End of validity.
        not_after: OffsetDateTime,
    },
}

impl CertificateInfo {
    /// Reads a certificate chain given as DER certificates, leaf first.
    ///
    /// # Errors
    /// [`CertificateError::Parse`] names the certificate that could not be parsed.
    pub fn from_der_chain<C: AsRef<[u8]>>(chain: &[C]) -> Result<Self, CertificateError> {
        let leaf_der = chain.first().ok_or(CertificateError::Empty)?.as_ref();
        let mut entries = Vec::with_capacity(chain.len());
        let mut parsed_leaf = None;
        for (index, der) in chain.iter().enumerate() {
            let (_, cert) =
                parse_x509_certificate(der.as_ref()).map_err(|e| CertificateError::Parse {
                    index,
                    reason: e.to_string(),
                })?;
            entries.push(ChainEntry {
                subject: cert.subject().to_string(),
                issuer: cert.issuer().to_string(),
                not_after: cert.validity().not_after.to_datetime(),
            });
            if index == 0 {
                parsed_leaf = Some((
                    org_number_of(cert.subject()),
                    cert.tbs_certificate.raw_serial_as_string(),
                    cert.validity().not_before.to_datetime(),
                    cert.validity().not_after.to_datetime(),
                ));
            }
        }
        let (org_number, serial, not_before, not_after) =
            parsed_leaf.ok_or(CertificateError::Empty)?;
        let environment_hint = environment_hint(&entries);
        Ok(Self {
            subject: entries[0].subject.clone(),
            issuer: entries[0].issuer.clone(),
            org_number,
            serial: serial.replace(':', "").to_uppercase(),
            not_before,
            not_after,
            sha256_thumbprint: hex::encode(Sha256::digest(leaf_der)),
            chain: entries,
            environment_hint,
        })
    }

    /// Whether the leaf certificate is inside its validity period at `at`.
    pub fn is_valid_at(&self, at: OffsetDateTime) -> bool {
        self.not_before <= at && at <= self.not_after
    }

    /// Fails with a clear message when the leaf certificate is expired or not
    /// yet valid at `at`; Maskinporten would otherwise answer with a vague
    /// MP-124 "Invalid JWT signature".
    ///
    /// # Errors
    /// [`CertificateError::NotValid`] with the validity period.
    pub fn check_valid_at(&self, at: OffsetDateTime) -> Result<(), CertificateError> {
        if self.is_valid_at(at) {
            Ok(())
        } else {
            Err(CertificateError::NotValid {
                subject: self.subject.clone(),
                at,
                not_before: self.not_before,
                not_after: self.not_after,
            })
        }
    }
}

fn org_number_of(name: &X509Name<'_>) -> Option<OrgNumber> {
    let mut from_serial = None;
    let mut from_org_id = None;
    for attr in name.iter_attributes() {
        let oid = attr.attr_type().to_id_string();
        let Ok(value) = attr.as_str() else { continue };
        if oid == OID_ORGANIZATION_IDENTIFIER {
            // ETSI EN 319 412-1: "NTRNO-<orgno>" (legal person, Norway).
            let digits = value
                .strip_prefix("NTRNO-")
                .or_else(|| value.strip_prefix("NTRNO:"))
                .unwrap_or(value);
            from_org_id = OrgNumber::parse(digits).ok();
        } else if oid == OID_SERIAL_NUMBER {
            from_serial = OrgNumber::parse(value.trim()).ok();
        }
    }
    from_org_id.or(from_serial)
}

fn environment_hint(chain: &[ChainEntry]) -> CertEnvironmentHint {
    let known_ca = chain.iter().any(|c| {
        let names = format!("{} {}", c.issuer, c.subject).to_lowercase();
        names.contains("buypass") || names.contains("commfides")
    });
    // Only issuer names count for "test": a leaf's own subject may contain anything.
    let test_issuer = chain.iter().any(|c| {
        let issuer = c.issuer.to_lowercase();
        issuer
            .split(|ch: char| !ch.is_ascii_alphanumeric())
            .any(|word| word.starts_with("test"))
    });
    // A CA that calls itself a production CA (e.g. the digitoll simulator's).
    let prod_issuer = chain.iter().any(|c| {
        c.issuer
            .to_lowercase()
            .split(|ch: char| !ch.is_ascii_alphanumeric())
            .any(|word| word == "prod" || word == "production")
    });
    if test_issuer {
        CertEnvironmentHint::Test
    } else if known_ca || prod_issuer {
        CertEnvironmentHint::Prod
    } else {
        CertEnvironmentHint::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(subject: &str, issuer: &str) -> ChainEntry {
        ChainEntry {
            subject: subject.into(),
            issuer: issuer.into(),
            not_after: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn hint_from_issuer_names() {
        assert_eq!(
            environment_hint(&[entry(
                "CN=ACME",
                "CN=Buypass Class 3 Test4 CA 3, O=Buypass AS-983163327"
            )]),
            CertEnvironmentHint::Test
        );
        assert_eq!(
            environment_hint(&[entry(
                "CN=ACME",
                "CN=Commfides CPN Enterprise-Norwegian SHA256 CA - TEST2"
            )]),
            CertEnvironmentHint::Test
        );
        assert_eq!(
            environment_hint(&[entry(
                "CN=ACME",
                "CN=Buypass Class 3 CA 3, O=Buypass AS-983163327"
            )]),
            CertEnvironmentHint::Prod
        );
        assert_eq!(
            environment_hint(&[entry("CN=Contest AS", "CN=Private CA")]),
            CertEnvironmentHint::Unknown
        );
    }
}
