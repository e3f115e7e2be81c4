//! The second-stage exchange: a Maskinporten token becomes a Toll token at
//! `POST {base}/api/access/external/oauth/token`, cached per Maskinporten
//! identity and scope.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use maskinporten::{AccessToken, Clock, SystemClock, TokenProvider, TokenRequest};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::config::RetryConfig;
use crate::env::TollEnvironment;
use crate::error::{AuthStage, Error, OAuthErrorBody};
use crate::http::{SendFailure, send_once};
use digitoll_model::ContractProfile;

/// A Toll access token. Cheap to clone; `Debug` is redacted and there is no
/// `Display`, so it cannot reach a log by accident.
#[derive(Clone)]
pub struct TollToken(Arc<TollTokenInner>);

struct TollTokenInner {
    secret: SecretString,
    token_type: String,
    lifetime: Duration,
    expires_at: Instant,
    renew_at: Instant,
}

impl TollToken {
    /// The bearer token text. Send it in an `Authorization` header, never log it.
    pub fn secret(&self) -> &str {
        self.0.secret.expose_secret()
    }

    /// `token_type` as received (normally `Bearer`).
    pub fn token_type(&self) -> &str {
        &self.0.token_type
    }

    /// `expires_in` as received.
    pub fn lifetime(&self) -> Duration {
        self.0.lifetime
    }

    /// Monotonic expiry (request start + `expires_in`).
    pub fn expires_at(&self) -> Instant {
        self.0.expires_at
    }

    /// When the cache stops handing this token out and exchanges a new one
    /// (see [`renew_margin`]).
    pub fn renew_at(&self) -> Instant {
        self.0.renew_at
    }

    /// Whether two handles are the same exchange result.
    pub fn same_token(&self, other: &TollToken) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl fmt::Debug for TollToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TollToken")
            .field("secret", &"[REDACTED]")
            .field("lifetime", &self.0.lifetime)
            .finish_non_exhaustive()
    }
}

/// How long before expiry a cached Toll token is renewed: 60 s, as Toll
/// recommends ("re-exchange about 1 minute before expiry", S21), but at most
/// a quarter of the lifetime, so short-lived tokens (tests, the simulator)
/// are still used for three quarters of their life instead of never.
pub fn renew_margin(lifetime: Duration) -> Duration {
    Duration::from_secs(60).min(lifetime / 4)
}

/// Hands out Toll tokens: exchanges Maskinporten tokens from any
/// [`TokenProvider`] and caches the result.
///
/// * **Cache key**: [`TokenRequest::cache_key`], which covers the scopes,
///   `consumer_org`, system user and `resource`, in a cache of this
///   provider's own (clones share it): one Toll token per Maskinporten
///   identity and scope. Renewal reads take no async lock and allocate
///   nothing.
/// * **Renewal**: a token is used until [`renew_margin`] before its expiry; the
///   next caller then exchanges a fresh one while the others wait for it.
///   If that exchange fails and the old token still has more than 5 s to
///   live, the old token is returned.
/// * **Single flight**: one exchange per key, however many callers wait.
/// * **401 at the exchange**: the Maskinporten token used is invalidated and
///   the exchange is retried once with a fresh one.
#[derive(Clone)]
pub struct TollTokenProvider {
    inner: Arc<Inner>,
}

struct Inner {
    maskinporten: Arc<dyn TokenProvider>,
    env: TollEnvironment,
    profile: Arc<ContractProfile>,
    endpoint: Url,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
    retry: RetryConfig,
    namespace: String,
    timeout: Duration,
    /// One slot per distinct request (scopes etc.): a handful per provider.
    /// A plain map, read without allocating: this lookup is on every call.
    slots: std::sync::RwLock<std::collections::HashMap<String, Arc<Slot>>>,
    capacity: usize,
}

/// One cached token. Readers take a copy of `current` under a short
/// synchronous lock (no await, no queueing behind a refresh); `refresh` is
/// held only by the one caller that exchanges a new token (single flight),
/// and is the only writer of `current`.
#[derive(Default)]
struct Slot {
    current: std::sync::RwLock<Option<TollToken>>,
    refresh: tokio::sync::Mutex<()>,
}

impl Slot {
    fn get(&self) -> Option<TollToken> {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn set(&self, token: Option<TollToken>) {
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = token;
    }
}

impl fmt::Debug for TollTokenProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TollTokenProvider")
            .field("endpoint", &self.inner.endpoint.as_str())
            .field("maskinporten", &self.inner.maskinporten)
            .field("namespace", &self.inner.namespace)
            .finish_non_exhaustive()
    }
}

/// Builder for [`TollTokenProvider`].
#[derive(Debug)]
pub struct TollTokenProviderBuilder {
    maskinporten: Arc<dyn TokenProvider>,
    env: TollEnvironment,
    http: Option<reqwest::Client>,
    clock: Arc<dyn Clock>,
    retry: RetryConfig,
    namespace: String,
    timeout: Duration,
    capacity: u64,
    profile: Arc<ContractProfile>,
}

impl TollTokenProviderBuilder {
    /// The contract profile whose endpoint paths every client built on
    /// this provider uses (default: the built-in reading of Toll's docs);
    /// the exchange itself is its `token-exchange` endpoint. A client
    /// builder's own `profile` overrides it for that client.
    #[must_use]
    pub fn profile(mut self, profile: Arc<ContractProfile>) -> Self {
        self.profile = profile;
        self
    }

    /// The HTTP client (default: a new `reqwest::Client`).
    #[must_use]
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// The clock that decides expiry (default: the system clock).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Retries of the exchange on network errors, 5xx and 429 (the exchange
    /// has no side effect, so this is safe).
    #[must_use]
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// A label for this provider's cache, e.g.
    /// `MaskinportenClient::cache_namespace()`, shown in its `Debug` output
    /// (each provider has a cache of its own, so it does not change keys).
    #[must_use]
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// Timeout of one exchange request (default 20 s).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Most identities cached at once (default 10 000).
    #[must_use]
    pub fn capacity(mut self, capacity: u64) -> Self {
        self.capacity = capacity;
        self
    }

    /// Builds the provider.
    pub fn build(self) -> TollTokenProvider {
        TollTokenProvider {
            inner: Arc::new(Inner {
                maskinporten: self.maskinporten,
                // The exchange has no placeholders, so rendering cannot fail.
                endpoint: self
                    .env
                    .endpoint_url(&self.profile, "token-exchange", &[])
                    .unwrap_or_else(|_| self.env.token_exchange_url()),
                env: self.env,
                profile: self.profile,
                http: self.http.unwrap_or_default(),
                clock: self.clock,
                retry: self.retry,
                namespace: self.namespace,
                timeout: self.timeout,
                slots: std::sync::RwLock::new(std::collections::HashMap::new()),
                capacity: usize::try_from(self.capacity).unwrap_or(usize::MAX).max(1),
            }),
        }
    }
}

#[derive(serde::Deserialize)]
struct ExchangeResponse {
    access_token: String,
    #[serde(default = "bearer")]
    token_type: String,
    expires_in: u64,
}

fn bearer() -> String {
    "Bearer".into()
}

impl TollTokenProvider {
    /// A provider with defaults for `env`.
    pub fn new(maskinporten: Arc<dyn TokenProvider>, env: TollEnvironment) -> Self {
        Self::builder(maskinporten, env).build()
    }

    /// Starts a builder.
    pub fn builder(
        maskinporten: Arc<dyn TokenProvider>,
        env: TollEnvironment,
    ) -> TollTokenProviderBuilder {
        TollTokenProviderBuilder {
            maskinporten,
            env,
            http: None,
            clock: Arc::new(SystemClock),
            retry: RetryConfig::default(),
            namespace: String::new(),
            timeout: Duration::from_secs(20),
            capacity: 10_000,
            profile: Arc::new(ContractProfile::default()),
        }
    }

    /// The Toll environment this provider exchanges tokens with.
    pub fn environment(&self) -> &TollEnvironment {
        &self.inner.env
    }

    /// The contract profile clients built on this provider use by default.
    pub fn profile(&self) -> &Arc<ContractProfile> {
        &self.inner.profile
    }

    /// The exchange endpoint.
    pub fn endpoint(&self) -> &Url {
        &self.inner.endpoint
    }

    /// The clock in use.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    fn slot(&self, request: &TokenRequest) -> Arc<Slot> {
        let key = request.cache_key();
        if let Some(slot) = self
            .inner
            .slots
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(key)
        {
            return slot.clone();
        }
        let mut slots = self
            .inner
            .slots
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if slots.len() >= self.inner.capacity && !slots.contains_key(key) {
            // More distinct requests than the bound: start over (each slot
            // is refilled by one exchange).
            slots.clear();
        }
        slots
            .entry(key.to_owned())
            .or_insert_with(|| Arc::new(Slot::default()))
            .clone()
    }

    /// A Toll token for the Maskinporten `request` (its scopes are the API's
    /// scope): cached, or exchanged now.
    ///
    /// # Errors
    /// [`Error::Maskinporten`] when no Maskinporten token can be had (MP code
    /// and hint inside), [`Error::Unauthorized`] with stage `Exchange` when
    /// Toll rejects a fresh Maskinporten token, [`Error::Transport`] /
    /// [`Error::UnexpectedStatus`] / [`Error::InvalidResponse`] otherwise.
    pub async fn token(&self, request: &TokenRequest) -> Result<TollToken, Error> {
        let slot = self.slot(request);
        if let Some(t) = slot.get()
            && self.inner.clock.now() < t.renew_at()
        {
            return Ok(t);
        }
        let _refreshing = slot.refresh.lock().await;
        // Another caller may have refreshed while this one waited.
        let current = slot.get();
        if let Some(t) = &current
            && self.inner.clock.now() < t.renew_at()
        {
            return Ok(t.clone());
        }
        match self.exchange(request).await {
            Ok(fresh) => {
                slot.set(Some(fresh.clone()));
                Ok(fresh)
            }
            Err(e) => {
                let now = self.inner.clock.now();
                if let Some(old) = current
                    && now + Duration::from_secs(5) < old.expires_at()
                {
                    tracing::warn!(error = %e, "Toll token renewal failed; using the current token until it expires");
                    return Ok(old);
                }
                slot.set(None);
                Err(e)
            }
        }
    }

    /// Forgets `token` if it is still the one cached for `request` (after an
    /// API answered 401 with it). Returns whether it was removed.
    pub async fn invalidate(&self, request: &TokenRequest, token: &TollToken) -> bool {
        let Some(slot) = self
            .inner
            .slots
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(request.cache_key())
            .cloned()
        else {
            return false;
        };
        let _refreshing = slot.refresh.lock().await;
        if slot.get().is_some_and(|t| t.same_token(token)) {
            slot.set(None);
            true
        } else {
            false
        }
    }

    /// Exchanges a Maskinporten token for `request`; on a 401 invalidates it
    /// and tries once more with a fresh one.
    async fn exchange(&self, request: &TokenRequest) -> Result<TollToken, Error> {
        let mp = self
            .inner
            .maskinporten
            .token(request)
            .await
            .map_err(Error::Maskinporten)?;
        match self.exchange_with(&mp).await {
            Err(Error::Unauthorized { .. }) => {
                tracing::info!(
                    "Toll rejected the Maskinporten token (401); fetching a fresh one and retrying once"
                );
                self.inner.maskinporten.invalidate(request, &mp);
                let mp = self
                    .inner
                    .maskinporten
                    .token(request)
                    .await
                    .map_err(Error::Maskinporten)?;
                self.exchange_with(&mp).await
            }
            other => other,
        }
    }

    async fn exchange_with(&self, mp: &AccessToken) -> Result<TollToken, Error> {
        let url = self.inner.endpoint.clone();
        let path = url.path().to_owned();
        let started_at = std::time::Instant::now();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let start = self.inner.clock.now();
            let form = [
                ("grant_type", "token-exchange"),
                ("subject_token_type", "access_token"),
                ("subject_token", mp.secret()),
            ];
            let req = self
                .inner
                .http
                .post(url.clone())
                .timeout(self.inner.timeout)
                .header(reqwest::header::ACCEPT, "application/json")
                .form(&form);
            let result = send_once("token", "POST", &path, req).await;
            let retry_after = match &result {
                Ok(r) if r.status.is_success() => None,
                Ok(r) if r.status.as_u16() == 429 || r.status.is_server_error() => {
                    Some(r.retry_after)
                }
                Ok(_) => None,
                Err(_) => Some(None),
            };
            if let Some(ra) = retry_after
                && let Some(wait) = next_wait(&self.inner.retry, attempt, started_at, ra)
            {
                tokio::time::sleep(wait).await;
                continue;
            }
            let r = match result {
                Ok(r) => r,
                Err(f) => {
                    return Err(Error::Transport {
                        method: "POST",
                        url: url.to_string(),
                        not_sent: matches!(f, SendFailure::NotSent(_)),
                        message: f.message().to_owned(),
                    });
                }
            };
            return match r.status.as_u16() {
                200..=299 => {
                    let parsed: ExchangeResponse =
                        serde_json::from_slice(&r.body).map_err(|e| {
                            Error::InvalidResponse {
                                url: url.to_string(),
                                status: r.status.as_u16(),
                                reason: e.to_string(),
                                // The body may hold a token: never keep it.
                                body: format!("[REDACTED] {} bytes", r.body.len()),
                            }
                        })?;
                    if parsed.access_token.is_empty() {
                        return Err(Error::InvalidResponse {
                            url: url.to_string(),
                            status: r.status.as_u16(),
                            reason: "access_token is empty".into(),
                            body: String::new(),
                        });
                    }
                    let lifetime = Duration::from_secs(parsed.expires_in);
                    let expires_at = start + lifetime;
                    Ok(TollToken(Arc::new(TollTokenInner {
                        secret: SecretString::from(parsed.access_token),
                        token_type: parsed.token_type,
                        lifetime,
                        expires_at,
                        renew_at: expires_at - renew_margin(lifetime),
                    })))
                }
                401 => Err(Error::Unauthorized {
                    stage: AuthStage::Exchange,
                    url: url.to_string(),
                    body: OAuthErrorBody::parse(&r.body),
                }),
                403 => Err(Error::Forbidden {
                    url: url.to_string(),
                    scope: mp.scopes().join(" "),
                    body: OAuthErrorBody::parse(&r.body),
                }),
                status => Err(Error::UnexpectedStatus {
                    method: "POST",
                    url: url.to_string(),
                    status,
                    retry_after: r.retry_after,
                    body: r.text(),
                }),
            };
        }
    }
}

/// The wait before the next attempt, or `None` when the retry budget is spent.
pub(crate) fn next_wait(
    retry: &RetryConfig,
    attempt: u32,
    started: std::time::Instant,
    retry_after: Option<Duration>,
) -> Option<Duration> {
    if attempt >= retry.max_attempts {
        return None;
    }
    let wait = match retry_after {
        Some(ra) if ra > retry.max_retry_after => return None,
        Some(ra) => ra.max(retry.backoff(attempt) / 2),
        None => retry.backoff(attempt),
    };
    if started.elapsed() + wait > retry.max_elapsed {
        return None;
    }
    Some(wait)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn margins() {
        assert_eq!(
            renew_margin(Duration::from_secs(970)),
            Duration::from_secs(60)
        );
        assert_eq!(
            renew_margin(Duration::from_secs(120)),
            Duration::from_secs(30)
        );
        assert_eq!(renew_margin(Duration::from_secs(4)), Duration::from_secs(1));
        assert_eq!(renew_margin(Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn retry_budget() {
        let r = RetryConfig {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(10),
            max_elapsed: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(2),
        };
        let t = std::time::Instant::now();
        assert!(next_wait(&r, 1, t, None).is_some());
        assert!(next_wait(&r, 3, t, None).is_none());
        assert_eq!(
            next_wait(&r, 1, t, Some(Duration::from_secs(1))),
            Some(Duration::from_secs(1))
        );
        assert!(next_wait(&r, 1, t, Some(Duration::from_secs(3))).is_none());
    }
}
