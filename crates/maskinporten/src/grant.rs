//! Building and signing the JWT grant (RFC 7523) as a JWS compact
//! serialisation: `base64url(header).base64url(claims).base64url(signature)`.
//!
//! The header never changes for a signer, so it is serialised and encoded
//! once; the claims are assembled from pre-escaped fragments. Building a
//! grant therefore costs little more than the RSA signature itself.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::error::Error;
use crate::request::TokenRequest;
use crate::signer::{KeyBinding, Signer};

/// The longest grant lifetime Maskinporten documents (`exp - iat`).
pub const MAX_GRANT_LIFETIME: Duration = Duration::from_secs(120);

/// A signed grant (the `assertion` form parameter). Secret: redacted `Debug`,
/// no `Display`, zeroized on drop.
pub struct Assertion {
    jws: Zeroizing<String>,
    /// The grant's `jti`, for correlating logs (not secret).
    pub jti: uuid::Uuid,
    /// `iat` as sent.
    pub issued_at: i64,
    /// `exp` as sent.
    pub expires_at: i64,
}

impl Assertion {
    /// The compact JWS. Don't log it: it is a credential until it expires.
    pub fn secret(&self) -> &str {
        &self.jws
    }
}

impl fmt::Debug for Assertion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Assertion")
            .field("jws", &"[REDACTED]")
            .field("jti", &self.jti)
            .field("iat", &self.issued_at)
            .field("exp", &self.expires_at)
            .finish()
    }
}

/// Builds grants for one client (audience, client id, signer).
///
/// ```
/// use std::sync::Arc;
/// use maskinporten::{GrantBuilder, RsaKey, RsaSigner, TokenRequest};
/// # futures::executor::block_on(async {
/// let signer = Arc::new(RsaSigner::with_kid(RsaKey::generate(2048)?, "my-kid"));
/// let grants = GrantBuilder::new(signer, "https://test.maskinporten.no/", "my-client-id");
/// let req = TokenRequest::for_scopes(["toll:movement/road/v2"])?;
/// let grant = grants.build(&req, time::OffsetDateTime::now_utc(), std::time::Duration::from_secs(60)).await?;
/// assert_eq!(grant.secret().split('.').count(), 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct GrantBuilder {
    signer: Arc<dyn Signer>,
    header_b64: Arc<str>,
    /// `{"aud":…,"iss":…` pre-escaped.
    claims_prefix: Arc<str>,
}

impl fmt::Debug for GrantBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GrantBuilder")
            .field("signer", &self.signer)
            .field("claims_prefix", &self.claims_prefix)
            .finish_non_exhaustive()
    }
}

impl GrantBuilder {
    /// `audience` must be the issuer exactly (e.g. `https://maskinporten.no/`).
    pub fn new(signer: Arc<dyn Signer>, audience: &str, client_id: &str) -> Self {
        let claims_prefix = format!(
            "{{\"aud\":{},\"iss\":{}",
            serde_json::Value::String(audience.to_owned()),
            serde_json::Value::String(client_id.to_owned())
        );
        Self {
            header_b64: header_b64(signer.as_ref()).into(),
            claims_prefix: claims_prefix.into(),
            signer,
        }
    }

    /// The signer.
    pub fn signer(&self) -> &Arc<dyn Signer> {
        &self.signer
    }

    /// Builds and signs a grant with a fresh random `jti`. `lifetime` is
    /// clamped to 1..=120 s. A business certificate outside its validity
    /// period at `issued_at` is an error before anything is signed.
    ///
    /// # Errors
    /// [`Error::Certificate`] or [`Error::Sign`].
    pub async fn build(
        &self,
        request: &TokenRequest,
        issued_at: OffsetDateTime,
        lifetime: Duration,
    ) -> Result<Assertion, Error> {
        // A rotating signer: one snapshot gives header and signature.
        let snapshot = self.signer.current();
        let (signer, header): (&dyn Signer, std::borrow::Cow<'_, str>) = match &snapshot {
            Some(s) => (s.as_ref(), header_b64(s.as_ref()).into()),
            None => (self.signer.as_ref(), self.header_b64.as_ref().into()),
        };
        if let Some(cert) = signer.certificate() {
            cert.check_valid_at(issued_at)?;
        }
        let iat = issued_at.unix_timestamp();
        let life = lifetime
            .clamp(Duration::from_secs(1), MAX_GRANT_LIFETIME)
            .as_secs() as i64;
        let exp = iat + life;
        let jti = uuid::Uuid::new_v4();
        let mut claims =
            String::with_capacity(self.claims_prefix.len() + request.0.claims_tail.len() + 96);
        claims.push_str(&self.claims_prefix);
        {
            use std::fmt::Write;
            let _ = write!(claims, ",\"iat\":{iat},\"exp\":{exp},\"jti\":\"{jti}\"");
        }
        claims.push_str(&request.0.claims_tail);
        claims.push('}');

        let b64_len = |n: usize| n.div_ceil(3) * 4;
        let mut jws = Zeroizing::new(String::with_capacity(
            header.len() + b64_len(claims.len()) + 700,
        ));
        jws.push_str(&header);
        jws.push('.');
        URL_SAFE_NO_PAD.encode_string(claims.as_bytes(), &mut jws);
        let signature = signer.sign(jws.as_bytes()).await?;
        jws.push('.');
        URL_SAFE_NO_PAD.encode_string(&signature, &mut jws);
        Ok(Assertion {
            jws,
            jti,
            issued_at: iat,
            expires_at: exp,
        })
    }
}

/// The base64url-encoded JOSE header for `signer`: `alg` and `kid` or `x5c`.
fn header_b64(signer: &dyn Signer) -> String {
    let mut header = serde_json::Map::new();
    header.insert("alg".into(), signer.algorithm().as_str().into());
    match signer.key_binding() {
        KeyBinding::Kid(kid) => {
            header.insert("kid".into(), kid.as_str().into());
        }
        KeyBinding::X5c(chain) => {
            header.insert("x5c".into(), serde_json::json!(chain));
        }
    }
    URL_SAFE_NO_PAD.encode(serde_json::Value::Object(header).to_string())
}
