//! The access token as a secret value.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use time::OffsetDateTime;

/// A Maskinporten access token. Cheap to clone (an `Arc`); `Debug` is
/// redacted and there is no `Display`, so it cannot end up in logs by accident.
/// The token text is zeroized when the last clone is dropped.
#[derive(Clone)]
pub struct AccessToken(pub(crate) Arc<TokenInner>);

pub(crate) struct TokenInner {
    pub(crate) secret: SecretString,
    pub(crate) token_type: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) lifetime: Duration,
    /// Monotonic expiry, counted from before the request was sent.
    pub(crate) expires_at: Instant,
    /// When a background refresh should start.
    pub(crate) refresh_at: Instant,
    pub(crate) expires_at_utc: OffsetDateTime,
}

impl AccessToken {
    /// A token obtained elsewhere, valid for `lifetime` from now. For
    /// [`crate::TokenProvider`] implementations other than
    /// [`crate::MaskinportenClient`] (a token service, a test double).
    ///
    /// ```
    /// use std::time::Duration;
    /// let t = maskinporten::AccessToken::new(
    ///     "eyJ...".to_owned().into(), "Bearer", Duration::from_secs(120), vec!["toll:movement/air".into()]);
    /// assert_eq!(t.lifetime(), Duration::from_secs(120));
    /// assert!(!format!("{t:?}").contains("eyJ"));
    /// ```
    pub fn new(
        secret: SecretString,
        token_type: impl Into<String>,
        lifetime: Duration,
        scopes: Vec<String>,
    ) -> Self {
        let now = Instant::now();
        let expires_at = now + lifetime;
        Self(Arc::new(TokenInner {
            secret,
            token_type: token_type.into(),
            scopes,
            lifetime,
            expires_at,
            refresh_at: expires_at - crate::cache::refresh_margin(lifetime),
            expires_at_utc: OffsetDateTime::now_utc() + lifetime,
        }))
    }

    /// The bearer token text. Send it in an `Authorization` header, never log it.
    pub fn secret(&self) -> &str {
        self.0.secret.expose_secret()
    }

    /// Wall-clock expiry estimate (request start + `expires_in`).
    pub fn expires_at(&self) -> OffsetDateTime {
        self.0.expires_at_utc
    }

    /// Monotonic expiry used by the cache.
    pub fn expires_at_instant(&self) -> Instant {
        self.0.expires_at
    }

    /// The scopes Maskinporten reported (informational; Digdir says not to
    /// use them for access control).
    pub fn scopes(&self) -> &[String] {
        &self.0.scopes
    }

    /// `token_type` (normally `Bearer`).
    pub fn token_type(&self) -> &str {
        &self.0.token_type
    }

    /// `expires_in` as received.
    pub fn lifetime(&self) -> Duration {
        self.0.lifetime
    }

    /// Whether two handles are the same token fetch (used to invalidate only
    /// the token that failed).
    pub fn same_token(&self, other: &AccessToken) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("secret", &"[REDACTED]")
            .field("scopes", &self.0.scopes)
            .field("expires_at", &self.0.expires_at_utc)
            .finish()
    }
}
