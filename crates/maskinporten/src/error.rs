//! Errors: Maskinporten's own error bodies (typed MP codes with fix hints),
//! transport failures and configuration mistakes.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::cert::CertificateError;
use crate::signer::{KeyError, SignError};

/// Maskinporten's documented error codes (docs.digdir.no "feilsøking"), parsed
/// from `error_uri` (`…/errors/MP-200`) or the description.
///
/// Unknown codes keep their text in [`MpCode::Other`] so new codes don't break parsing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MpCode {
    /// Invalid parameter value in the grant.
    Mp011,
    /// The grant (`jti`) was used before.
    Mp012,
    /// Client authentication failed / client not found.
    Mp100,
    /// Invalid `aud` claim.
    Mp110,
    /// Signed with an invalid certificate.
    Mp120,
    /// Expired key.
    Mp121,
    /// Certificate organisation number does not match the client.
    Mp122,
    /// Invalid `x5c` header.
    Mp123,
    /// Invalid JWT signature.
    Mp124,
    /// JWT is expired (or issued in the future).
    Mp130,
    /// Invalid scopes for the client.
    Mp200,
    /// Scopes not allowed for Maskinporten.
    Mp201,
    /// Consumer has not been granted access to the scope.
    Mp250,
    /// Consumer has not delegated access to the supplier.
    Mp251,
    /// Unknown `authorization_details` type.
    Mp301,
    /// Unknown `authorization_details` fields.
    Mp302,
    /// Invalid `authorization_details` values.
    Mp303,
    /// A code this version does not know, e.g. `"MP-513"`.
    Other(String),
}

impl MpCode {
    /// Parses `"MP-200"` / `"MP_200"`.
    pub fn parse(code: &str) -> Self {
        let norm = code.trim().to_ascii_uppercase().replace('_', "-");
        match norm.as_str() {
            "MP-011" => Self::Mp011,
            "MP-012" => Self::Mp012,
            "MP-100" => Self::Mp100,
            "MP-110" => Self::Mp110,
            "MP-120" => Self::Mp120,
            "MP-121" => Self::Mp121,
            "MP-122" => Self::Mp122,
            "MP-123" => Self::Mp123,
            "MP-124" => Self::Mp124,
            "MP-130" => Self::Mp130,
            "MP-200" => Self::Mp200,
            "MP-201" => Self::Mp201,
            "MP-250" => Self::Mp250,
            "MP-251" => Self::Mp251,
            "MP-301" => Self::Mp301,
            "MP-302" => Self::Mp302,
            "MP-303" => Self::Mp303,
            _ => Self::Other(norm),
        }
    }

    /// Finds the first `MP-nnn`/`MP_nnn` in a text.
    pub fn find_in(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        (0..bytes.len().saturating_sub(5)).find_map(|i| {
            let w = &bytes[i..i + 6];
            let is_code = w[0].eq_ignore_ascii_case(&b'M')
                && w[1].eq_ignore_ascii_case(&b'P')
                && (w[2] == b'-' || w[2] == b'_')
                && w[3..6].iter().all(u8::is_ascii_digit)
                && bytes.get(i + 6).is_none_or(|b| !b.is_ascii_digit());
            is_code.then(|| Self::parse(&text[i..i + 6]))
        })
    }

    /// The canonical `MP-nnn` form.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Mp011 => "MP-011",
            Self::Mp012 => "MP-012",
            Self::Mp100 => "MP-100",
            Self::Mp110 => "MP-110",
            Self::Mp120 => "MP-120",
            Self::Mp121 => "MP-121",
            Self::Mp122 => "MP-122",
            Self::Mp123 => "MP-123",
            Self::Mp124 => "MP-124",
            Self::Mp130 => "MP-130",
            Self::Mp200 => "MP-200",
            Self::Mp201 => "MP-201",
            Self::Mp250 => "MP-250",
            Self::Mp251 => "MP-251",
            Self::Mp301 => "MP-301",
            Self::Mp302 => "MP-302",
            Self::Mp303 => "MP-303",
            Self::Other(s) => s,
        }
    }

    /// What usually causes this code and how to fix it.
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            Self::Mp011 => {
                "The grant has an invalid parameter value: look for stray line breaks or typos in claims (client id, scope, resource)."
            }
            Self::Mp012 => {
                "The grant was used before: every token request needs a fresh `jti` (this client never reuses one; check for a proxy replaying requests)."
            }
            Self::Mp100 => {
                "Client authentication failed or client not found: check the client id and that it exists in this environment (TEST vs PROD issuer)."
            }
            Self::Mp110 => {
                "Invalid `aud`: it must be exactly the issuer of the environment, trailing slash included (e.g. https://test.maskinporten.no/)."
            }
            Self::Mp120 => {
                "Signed with an invalid certificate: a production certificate used in TEST, or a test certificate in PROD."
            }
            Self::Mp121 => {
                "The registered key has expired (keys live 1 year after upload): upload the key again or rotate to a new one."
            }
            Self::Mp122 => {
                "The certificate's organisation number does not match the client's organisation: use the business certificate of the organisation that owns the client."
            }
            Self::Mp123 => {
                "Invalid `x5c` header: it must be a JSON array of base64 DER certificates, leaf first."
            }
            Self::Mp124 => {
                "Invalid signature: the certificate may be expired, for the wrong environment, or the key does not match the registered key (`kid`)."
            }
            Self::Mp130 => {
                "The grant is expired or issued in the future: check the machine's clock (NTP) and keep the grant lifetime at 120 s or less."
            }
            Self::Mp200 => {
                "The client is not registered for (one of) the requested scopes: add the scope to the client in Samarbeidsportalen or the self-service API."
            }
            Self::Mp201 => {
                "The scope is not allowed for Maskinporten clients (wrong integration_type on the client or scope)."
            }
            Self::Mp250 => {
                "The API owner has not granted your organisation access to the scope: ask the API owner (e.g. Toll) to grant it."
            }
            Self::Mp251 => {
                "The consumer has not delegated the scope to you in Altinn: the customer must delegate it to your organisation number (TEST delegations are made in Altinn TT02)."
            }
            Self::Mp301 => {
                "Unknown `authorization_details` type: check `authorization_details_types_supported` in the metadata."
            }
            Self::Mp302 => {
                "Unknown or invalid `authorization_details` fields (e.g. a bad externalRef: ≤255 chars of a-z, A-Z, 0-9, æøå, _ and -)."
            }
            Self::Mp303 => {
                "Invalid `authorization_details` values: check the system user's organisation number and that the system user is approved."
            }
            Self::Other(_) => return None,
        })
    }
}

impl fmt::Display for MpCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A response body kept for diagnostics. Bodies of successful responses may
/// contain an access token, so they are redacted in `Debug`; error bodies are shown.
#[derive(Clone)]
pub struct RawBody {
    text: Arc<str>,
    sensitive: bool,
}

impl RawBody {
    pub(crate) fn new(bytes: &[u8], sensitive: bool) -> Self {
        Self {
            text: String::from_utf8_lossy(bytes).into(),
            sensitive,
        }
    }

    /// The body text (it may contain a token when the status was 2xx).
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl fmt::Debug for RawBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.sensitive {
            write!(f, "RawBody([REDACTED] {} bytes)", self.text.len())
        } else {
            const MAX: usize = 2000;
            let t: String = self.text.chars().take(MAX).collect();
            write!(f, "RawBody({t:?})")
        }
    }
}

/// Maskinporten's OAuth error body, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaskinportenError {
    /// HTTP status.
    pub status: u16,
    /// OAuth error code, e.g. `invalid_grant`, `invalid_scope`.
    pub error: String,
    /// `error_description` as sent.
    pub description: Option<String>,
    /// `error_uri`, which carries the MP code.
    pub error_uri: Option<String>,
    /// The MP code from `error_uri` or the description.
    pub code: Option<MpCode>,
    /// `trace_id` from the description; quote it to Digdir support.
    pub trace_id: Option<String>,
}

impl MaskinportenError {
    /// Parses an error body. Returns `None` if it is not an OAuth error JSON.
    pub fn from_body(status: u16, body: &[u8]) -> Option<Self> {
        #[derive(serde::Deserialize)]
        struct Body {
            error: String,
            error_description: Option<String>,
            error_uri: Option<String>,
        }
        let b: Body = serde_json::from_slice(body).ok()?;
        let code = b
            .error_uri
            .as_deref()
            .and_then(MpCode::find_in)
            .or_else(|| b.error_description.as_deref().and_then(MpCode::find_in));
        let trace_id = b.error_description.as_deref().and_then(find_trace_id);
        Some(Self {
            status,
            error: b.error,
            description: b.error_description,
            error_uri: b.error_uri,
            code,
            trace_id,
        })
    }

    /// A fix hint for the MP code (or the description when there is no code).
    pub fn hint(&self) -> Option<&'static str> {
        if let Some(h) = self.code.as_ref().and_then(MpCode::hint) {
            return Some(h);
        }
        let d = self.description.as_deref().unwrap_or_default();
        if d.contains("Issue time is after now") || d.contains("in the future") {
            Some(
                "The grant's `iat` is ahead of Maskinporten's clock: this machine's clock runs fast; sync it (NTP).",
            )
        } else if d.contains("consumer_org") {
            Some(
                "`consumer_org` must be a customer that delegated the scope to you, never your own organisation number.",
            )
        } else {
            None
        }
    }

    /// True when Maskinporten rejected the grant's time claims (MP-130,
    /// "Issue time is after now", "JWT is expired"): a corrected clock may help.
    pub fn is_time_error(&self) -> bool {
        if self.code == Some(MpCode::Mp130) {
            return true;
        }
        let d = self
            .description
            .as_deref()
            .unwrap_or_default()
            .to_ascii_lowercase();
        d.contains("issue time")
            || d.contains("is expired")
            || d.contains("has expired")
            || d.contains("in the future")
    }
}

impl fmt::Display for MaskinportenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Maskinporten answered HTTP {} {}",
            self.status, self.error
        )?;
        if let Some(c) = &self.code {
            write!(f, " ({c})")?;
        }
        if let Some(d) = &self.description {
            write!(f, ": {d}")?;
        }
        if let Some(h) = self.hint() {
            write!(f, ". Hint: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for MaskinportenError {}

fn find_trace_id(description: &str) -> Option<String> {
    let idx = description.find("trace_id")?;
    let rest = description[idx + "trace_id".len()..].trim_start_matches([':', '=', ' ', '"']);
    let id: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    (!id.is_empty()).then_some(id)
}

/// Everything that can go wrong getting a token.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The client configuration is invalid (field named in the message).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A token request parameter is invalid.
    #[error("invalid token request: {field}: {reason}")]
    InvalidRequest {
        /// The parameter, e.g. `scope` or `consumer_org`.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A key or certificate could not be loaded.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The business certificate is expired or not yet valid; nothing was sent.
    #[error("{0}; no grant was sent")]
    Certificate(#[from] CertificateError),
    /// The signer failed.
    #[error(transparent)]
    Sign(#[from] SignError),
    /// Maskinporten rejected the request (typed error with MP code and hint).
    #[error(transparent)]
    Maskinporten(Box<MaskinportenError>),
    /// The HTTP request failed before a response (connect, TLS, timeout).
    #[error("HTTP request to {url} failed: {message}")]
    Http {
        /// The URL called.
        url: String,
        /// The transport error, with its causes.
        message: String,
    },
    /// A non-success status without a Maskinporten error body (e.g. a proxy's 503 page).
    #[error("{url} answered HTTP {status} without an OAuth error body")]
    UnexpectedStatus {
        /// The URL called.
        url: String,
        /// HTTP status.
        status: u16,
        /// `Retry-After`, if sent.
        retry_after: Option<Duration>,
        /// The body as received.
        body: RawBody,
    },
    /// A response could not be parsed; the raw body is kept.
    #[error("cannot parse the response from {url} (HTTP {status}): {reason}")]
    InvalidResponse {
        /// The URL called.
        url: String,
        /// HTTP status.
        status: u16,
        /// The parse error, with the JSON path when known.
        reason: String,
        /// The body as received (redacted in `Debug` for 2xx).
        body: RawBody,
    },
    /// Metadata discovery failed or the metadata `issuer` does not match.
    #[error("discovery from {url}: {reason}")]
    Discovery {
        /// The metadata URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// All retry attempts failed; `last` is the final error.
    #[error("gave up after {attempts} attempts in {elapsed:?}: {last}")]
    RetriesExhausted {
        /// Attempts made.
        attempts: u32,
        /// Time spent.
        elapsed: Duration,
        /// The last error.
        last: Box<Error>,
    },
    /// A background task failed unexpectedly.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The Maskinporten error body, also when wrapped in [`Error::RetriesExhausted`].
    pub fn maskinporten(&self) -> Option<&MaskinportenError> {
        match self {
            Self::Maskinporten(e) => Some(e),
            Self::RetriesExhausted { last, .. } => last.maskinporten(),
            _ => None,
        }
    }

    /// The MP code, if Maskinporten sent one.
    pub fn mp_code(&self) -> Option<&MpCode> {
        self.maskinporten().and_then(|e| e.code.as_ref())
    }

    /// Whether retrying with a new grant may succeed: network errors, 5xx,
    /// 429 and 503. Configuration errors (MP-1xx/2xx/3xx, other 4xx) are final.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Http { .. } => true,
            Self::UnexpectedStatus { status, .. } => *status == 429 || *status >= 500,
            Self::Maskinporten(e) => e.code.is_none() && (e.status == 429 || e.status >= 500),
            Self::InvalidResponse { status, .. } => *status >= 500,
            _ => false,
        }
    }

    /// A short label for metrics (`code` label): the MP code, or a category.
    pub fn metric_code(&self) -> String {
        match self {
            Self::Maskinporten(e) => e
                .code
                .as_ref()
                .map(|c| c.as_str().to_owned())
                .unwrap_or_else(|| e.error.clone()),
            Self::RetriesExhausted { last, .. } => last.metric_code(),
            Self::Http { .. } => "network".into(),
            Self::UnexpectedStatus { status, .. } => format!("http_{status}"),
            Self::InvalidResponse { .. } => "invalid_response".into(),
            Self::Certificate(_) => "certificate".into(),
            Self::Sign(_) => "sign".into(),
            Self::Key(_) => "key".into(),
            Self::Config(_) | Self::InvalidRequest { .. } => "config".into(),
            Self::Discovery { .. } => "discovery".into(),
            Self::Internal(_) => "internal".into(),
        }
    }
}

impl From<MaskinportenError> for Error {
    fn from(e: MaskinportenError) -> Self {
        Self::Maskinporten(Box::new(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_documented_body() {
        let body = br#"{"error":"invalid_scope","error_description":"Token request contains invalid scopes for client, toll:foo (trace_id: 3f2a9c1b7d)","error_uri":"https://test.maskinporten.no/errors/MP-200"}"#;
        let e = MaskinportenError::from_body(400, body).unwrap();
        assert_eq!(e.code, Some(MpCode::Mp200));
        assert_eq!(e.trace_id.as_deref(), Some("3f2a9c1b7d"));
        assert!(e.hint().unwrap().contains("not registered"));
        let err = Error::from(e);
        assert!(!err.is_retryable());
        assert!(err.to_string().contains("MP-200"));
    }

    #[test]
    fn code_from_description_and_underscore_form() {
        let e = MaskinportenError::from_body(
            400,
            br#"{"error":"invalid_request","error_description":"MP_302 bad externalRef"}"#,
        )
        .unwrap();
        assert_eq!(e.code, Some(MpCode::Mp302));
        assert_eq!(MpCode::find_in("x MP-5130"), None);
        assert_eq!(
            MpCode::find_in("MP-513"),
            Some(MpCode::Other("MP-513".into()))
        );
        assert_eq!(MpCode::Other("MP-513".into()).hint(), None);
    }

    #[test]
    fn every_known_code_has_a_hint() {
        for c in [
            "MP-011", "MP-012", "MP-100", "MP-110", "MP-120", "MP-121", "MP-122", "MP-123",
            "MP-124", "MP-130", "MP-200", "MP-201", "MP-250", "MP-251", "MP-301", "MP-302",
            "MP-303",
        ] {
            let code = MpCode::parse(c);
            assert_eq!(code.as_str(), c);
            assert!(code.hint().is_some(), "{c}");
        }
    }

    #[test]
    fn time_errors() {
        let e = MaskinportenError::from_body(
            400,
            br#"{"error":"invalid_grant","error_description":"Invalid assertion. Issue time is after now"}"#,
        )
        .unwrap();
        assert!(e.is_time_error());
        assert!(e.hint().unwrap().contains("clock"));
        assert!(MaskinportenError::from_body(502, b"<html>bad gateway</html>").is_none());
    }
}
