//! The Maskinporten client: grants, the token endpoint, retries, server-clock
//! correction and the cache.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use futures::FutureExt;
use secrecy::SecretString;
use time::OffsetDateTime;
use tracing::Instrument;
use url::Url;

use crate::cache::{Lookup, TokenCache, refresh_margin};
use crate::clock::{Clock, SystemClock};
use crate::env::{Environment, discover};
use crate::error::{Error, MaskinportenError, RawBody};
use crate::grant::{GrantBuilder, MAX_GRANT_LIFETIME};
use crate::request::TokenRequest;
use crate::signer::Signer;
use crate::token::{AccessToken, TokenInner};

/// The RFC 7523 grant type.
pub const JWT_BEARER_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Names of the `metrics` counters this crate emits.
pub mod metric_names {
    /// Lookups answered from the cache (including stale-while-refreshing).
    pub const CACHE_HITS: &str = "maskinporten_token_cache_hits_total";
    /// Lookups that had to wait for a fetch.
    pub const CACHE_MISSES: &str = "maskinporten_token_cache_misses_total";
    /// HTTP requests sent to the token endpoint (one per attempt).
    pub const FETCHES: &str = "maskinporten_token_cache_fetches_total";
    /// Failed attempts, labelled `code` (MP code, `network`, `http_503`, …).
    pub const ERRORS: &str = "maskinporten_token_cache_errors_total";
}

/// Retry policy for transient failures (network errors, 5xx, 429, 503).
/// Every attempt uses a new grant with a new `jti`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, including the first (default 4).
    pub max_attempts: u32,
    /// Backoff base (default 200 ms); attempt n waits a random time in `0..base*2^(n-1)` ("full jitter").
    pub initial_backoff: Duration,
    /// Cap on a single backoff (default 5 s).
    pub max_backoff: Duration,
    /// Give up when the next wait would pass this total (default 30 s).
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            max_elapsed: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        crate::backoff(self.initial_backoff, self.max_backoff, attempt)
    }
}

/// A cheap snapshot of the client's counters, for `digitoll doctor` and the like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Lookups served from the cache.
    pub hits: u64,
    /// Of those, hits served while a refresh was due.
    pub stale_hits: u64,
    /// Lookups that waited for a fetch.
    pub misses: u64,
    /// HTTP attempts sent to the token endpoint.
    pub fetches: u64,
    /// Failed attempts.
    pub errors: u64,
    /// Background refreshes started.
    pub refreshes: u64,
    /// Background refreshes that failed (the old token was kept).
    pub refresh_failures: u64,
    /// Keys in the cache.
    pub entries: usize,
    /// Estimated server clock minus local clock, in milliseconds, once known.
    pub clock_offset_ms: Option<i64>,
}

#[derive(Default)]
struct Counters {
    hits: AtomicU64,
    stale_hits: AtomicU64,
    misses: AtomicU64,
    fetches: AtomicU64,
    errors: AtomicU64,
    refreshes: AtomicU64,
    refresh_failures: AtomicU64,
}

struct MetricHandles {
    hits: metrics::Counter,
    misses: metrics::Counter,
    fetches: metrics::Counter,
}

/// Offset between Maskinporten's clock and ours, learned from `Date` headers.
#[derive(Default)]
struct ClockOffset {
    known: AtomicBool,
    offset_ms: AtomicI64,
}

/// Offsets at or below this are left alone: Maskinporten accepts ±10 s and the
/// `Date` header only has one-second resolution.
pub const CLOCK_CORRECTION_THRESHOLD: Duration = Duration::from_secs(5);

impl ClockOffset {
    fn get(&self) -> Option<i64> {
        self.known
            .load(Ordering::Acquire)
            .then(|| self.offset_ms.load(Ordering::Relaxed))
    }
    fn correction_ms(&self) -> i64 {
        match self.get() {
            Some(ms) if ms.unsigned_abs() > CLOCK_CORRECTION_THRESHOLD.as_millis() as u64 => ms,
            _ => 0,
        }
    }
    fn set(&self, ms: i64) {
        self.offset_ms.store(ms, Ordering::Relaxed);
        self.known.store(true, Ordering::Release);
    }
}

/// Builder for [`MaskinportenClient`].
pub struct ClientBuilder {
    env: Environment,
    client_id: String,
    signer: Arc<dyn Signer>,
    token_endpoint: Option<Url>,
    http: Option<reqwest::Client>,
    clock: Arc<dyn Clock>,
    grant_lifetime: Duration,
    retry: RetryPolicy,
    cache_capacity: usize,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("env", &self.env)
            .field("client_id", &self.client_id)
            .field("signer", &self.signer)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// Overrides the token endpoint (default: issuer + `token`, or the discovered one).
    #[must_use]
    pub fn token_endpoint(mut self, url: Url) -> Self {
        self.token_endpoint = Some(url);
        self
    }

    /// Uses your own reqwest client (proxies, TLS roots, timeouts). The default
    /// follows no redirects and times out after 10 s.
    #[must_use]
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Injects a clock (tests).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Grant lifetime `exp - iat`; clamped to 1..=120 s (default 60 s).
    #[must_use]
    pub fn grant_lifetime(mut self, lifetime: Duration) -> Self {
        self.grant_lifetime = lifetime.clamp(Duration::from_secs(1), MAX_GRANT_LIFETIME);
        self
    }

    /// Retry policy for transient failures.
    #[must_use]
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Maximum number of cached keys (default 10 000); expired, then least
    /// recently used keys are evicted.
    #[must_use]
    pub fn cache_capacity(mut self, capacity: usize) -> Self {
        self.cache_capacity = capacity.max(1);
        self
    }

    /// Builds the client without network access.
    ///
    /// # Errors
    /// [`Error::Config`] for an invalid issuer or HTTP client setup, or an empty client id.
    pub fn build(self) -> Result<MaskinportenClient, Error> {
        let endpoint = match self.token_endpoint.clone() {
            Some(u) => u,
            None => self.env.token_endpoint()?,
        };
        self.finish(endpoint)
    }

    /// Builds the client after fetching the metadata and checking its `issuer`;
    /// the token endpoint comes from the metadata unless overridden.
    ///
    /// # Errors
    /// [`Error::Discovery`] when the metadata cannot be fetched or does not match.
    pub async fn build_with_discovery(self) -> Result<MaskinportenClient, Error> {
        let http = self.http_or_default()?;
        let meta = discover(&http, &self.env).await?;
        let alg = self.signer.algorithm().as_str();
        if !meta.signing_algs.is_empty() && !meta.signing_algs.iter().any(|a| a == alg) {
            return Err(Error::Discovery {
                url: self.env.metadata_url()?.to_string(),
                reason: format!(
                    "the server does not accept {alg} grants (supported: {:?})",
                    meta.signing_algs
                ),
            });
        }
        let endpoint = self.token_endpoint.clone().unwrap_or(meta.token_endpoint);
        Self {
            http: Some(http),
            ..self
        }
        .finish(endpoint)
    }

    fn http_or_default(&self) -> Result<reqwest::Client, Error> {
        match &self.http {
            Some(h) => Ok(h.clone()),
            None => reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(Duration::from_secs(5))
                .timeout(Duration::from_secs(10))
                .build()
                .map_err(|e| Error::Config(format!("HTTP client: {}", error_chain(&e)))),
        }
    }

    fn finish(self, token_endpoint: Url) -> Result<MaskinportenClient, Error> {
        if self.client_id.trim().is_empty() {
            return Err(Error::Config("client_id is empty".into()));
        }
        let http = self.http_or_default()?;
        let issuer = self.env.issuer().to_owned();
        let grants = GrantBuilder::new(self.signer.clone(), &issuer, &self.client_id);
        let key_identity = self.signer.key_identity();
        let epoch = self.clock.now();
        Ok(MaskinportenClient {
            inner: Arc::new(Inner {
                cache: TokenCache::new(self.cache_capacity, epoch),
                cache_capacity: self.cache_capacity,
                key_identity,
                issuer,
                client_id: self.client_id,
                token_endpoint,
                http,
                grants,
                clock: self.clock,
                grant_lifetime: self.grant_lifetime,
                retry: self.retry,
                offset: ClockOffset::default(),
                counters: Counters::default(),
                metrics: MetricHandles {
                    hits: metrics::counter!(metric_names::CACHE_HITS),
                    misses: metrics::counter!(metric_names::CACHE_MISSES),
                    fetches: metrics::counter!(metric_names::FETCHES),
                },
            }),
        })
    }
}

/// A Maskinporten client with a token cache. Cheap to clone; share one per
/// client id (and key).
///
/// Needs a Tokio runtime: fetches run as tasks so that a caller giving up
/// does not cancel the fetch other callers are waiting for.
///
/// ```no_run
/// use std::sync::Arc;
/// use maskinporten::{Environment, MaskinportenClient, RsaKey, RsaSigner, TokenRequest};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let key = RsaKey::from_pem_file("maskinporten-key.pem", None)?;
/// let signer = Arc::new(RsaSigner::with_kid(key, "my-kid"));
/// let client = MaskinportenClient::builder(Environment::Test, "my-client-id", signer).build()?;
/// let request = TokenRequest::for_scopes(["toll:movement/road/v2"])?;
/// let token = client.token(&request).await?;
/// let _header = format!("Bearer {}", token.secret());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct MaskinportenClient {
    inner: Arc<Inner>,
}

struct Inner {
    issuer: String,
    client_id: String,
    key_identity: String,
    token_endpoint: Url,
    http: reqwest::Client,
    grants: GrantBuilder,
    clock: Arc<dyn Clock>,
    grant_lifetime: Duration,
    retry: RetryPolicy,
    cache: TokenCache,
    cache_capacity: usize,
    offset: ClockOffset,
    counters: Counters,
    metrics: MetricHandles,
}

impl fmt::Debug for MaskinportenClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MaskinportenClient")
            .field("issuer", &self.inner.issuer)
            .field("client_id", &self.inner.client_id)
            .field("key", &self.inner.key_identity)
            .field("token_endpoint", &self.inner.token_endpoint.as_str())
            .finish_non_exhaustive()
    }
}

/// A failed attempt, with what the retry loop needs to know.
struct AttemptError {
    error: Error,
    retry_after: Option<Duration>,
}

#[derive(serde::Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default = "bearer")]
    token_type: String,
    expires_in: u64,
    #[serde(default)]
    scope: Option<String>,
}

fn bearer() -> String {
    "Bearer".into()
}

impl MaskinportenClient {
    /// Starts a builder. `signer` decides between `kid` and `x5c`.
    pub fn builder(
        env: Environment,
        client_id: impl Into<String>,
        signer: Arc<dyn Signer>,
    ) -> ClientBuilder {
        ClientBuilder {
            env,
            client_id: client_id.into(),
            signer,
            token_endpoint: None,
            http: None,
            clock: Arc::new(SystemClock),
            grant_lifetime: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            cache_capacity: 10_000,
        }
    }

    /// A client with the same issuer, client id, endpoint, HTTP client, clock,
    /// retry policy and learned clock offset, but another signer and an empty
    /// cache. Key rotation uses it to probe whether Maskinporten accepts a new
    /// key before switching to it.
    pub fn with_signer(&self, signer: Arc<dyn Signer>) -> MaskinportenClient {
        let i = &*self.inner;
        let offset = ClockOffset::default();
        if let Some(ms) = i.offset.get() {
            offset.set(ms);
        }
        MaskinportenClient {
            inner: Arc::new(Inner {
                issuer: i.issuer.clone(),
                client_id: i.client_id.clone(),
                key_identity: signer.key_identity(),
                token_endpoint: i.token_endpoint.clone(),
                http: i.http.clone(),
                grants: GrantBuilder::new(signer, &i.issuer, &i.client_id),
                clock: i.clock.clone(),
                grant_lifetime: i.grant_lifetime,
                retry: i.retry,
                cache: TokenCache::new(i.cache_capacity, i.clock.now()),
                cache_capacity: i.cache_capacity,
                offset,
                counters: Counters::default(),
                metrics: MetricHandles {
                    hits: metrics::counter!(metric_names::CACHE_HITS),
                    misses: metrics::counter!(metric_names::CACHE_MISSES),
                    fetches: metrics::counter!(metric_names::FETCHES),
                },
            }),
        }
    }

    /// The HTTP client this client uses (shared with [`crate::selfservice`]).
    pub fn http_client(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// The issuer (= grant `aud`).
    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }
    /// The client id (= grant `iss`).
    pub fn client_id(&self) -> &str {
        &self.inner.client_id
    }
    /// The token endpoint in use.
    pub fn token_endpoint(&self) -> &Url {
        &self.inner.token_endpoint
    }
    /// The grant builder (for printing a grant, as `jwt-grant-generator` does).
    pub fn grant_builder(&self) -> &GrantBuilder {
        &self.inner.grants
    }
    /// The full cache-key prefix of this client: issuer, client id and key identity.
    pub fn cache_namespace(&self) -> String {
        format!(
            "{} {} {}",
            self.inner.issuer, self.inner.client_id, self.inner.key_identity
        )
    }

    /// Estimated server clock minus local clock, from the last `Date` header.
    pub fn clock_offset(&self) -> Option<time::Duration> {
        self.inner.offset.get().map(time::Duration::milliseconds)
    }

    /// A cached token that is not yet due for refresh, without waiting or
    /// allocating. This is the <100 ns path.
    #[inline]
    pub fn cached(&self, request: &TokenRequest) -> Option<AccessToken> {
        let t = self.inner.cache.fresh(request, self.inner.clock.now());
        if t.is_some() {
            self.inner.counters.hits.fetch_add(1, Ordering::Relaxed);
            self.inner.metrics.hits.increment(1);
        }
        t
    }

    /// A token for `request`: from the cache, or fetched (one fetch per key
    /// however many callers wait). A token in its refresh window is returned at
    /// once while one background refresh runs; if that refresh fails the old
    /// token keeps being served until it expires.
    ///
    /// # Errors
    /// The fetch's [`Error`] when there is no usable cached token.
    pub async fn token(&self, request: &TokenRequest) -> Result<AccessToken, Error> {
        if let Some(t) = self.cached(request) {
            return Ok(t);
        }
        let now = self.inner.clock.now();
        match self.inner.cache.lookup(request, now) {
            Lookup::Fresh(t) => {
                self.inner.counters.hits.fetch_add(1, Ordering::Relaxed);
                self.inner.metrics.hits.increment(1);
                Ok(t)
            }
            Lookup::Stale(t, entry) => {
                self.inner.counters.hits.fetch_add(1, Ordering::Relaxed);
                self.inner
                    .counters
                    .stale_hits
                    .fetch_add(1, Ordering::Relaxed);
                self.inner.metrics.hits.increment(1);
                self.start_background_refresh(request, &entry, now);
                Ok(t)
            }
            Lookup::Missing(entry) => {
                self.inner.counters.misses.fetch_add(1, Ordering::Relaxed);
                self.inner.metrics.misses.increment(1);
                let fut = {
                    let mut slot = entry
                        .inflight
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner);
                    // Re-check under the in-flight lock: a fetch that finished
                    // between the lookup and here has already stored its token.
                    if let Some((t, _)) = crate::cache::classify(&entry, self.inner.clock.now()) {
                        return Ok(t);
                    }
                    match &*slot {
                        Some(f) => f.clone(),
                        None => {
                            let f = self.spawn_fetch(request.clone(), entry.clone(), false);
                            *slot = Some(f.clone());
                            f
                        }
                    }
                };
                fut.await
            }
        }
    }

    fn start_background_refresh(
        &self,
        request: &TokenRequest,
        entry: &Arc<crate::cache::Entry>,
        now: Instant,
    ) {
        {
            let nb = entry
                .refresh_not_before
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if nb.is_some_and(|t| now < t) {
                return;
            }
        }
        let mut slot = entry
            .inflight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if slot.is_none() {
            self.inner
                .counters
                .refreshes
                .fetch_add(1, Ordering::Relaxed);
            *slot = Some(self.spawn_fetch(request.clone(), entry.clone(), true));
        }
    }

    /// Spawns the fetch for an entry; the task stores the token and clears the
    /// in-flight slot whatever the outcome.
    fn spawn_fetch(
        &self,
        request: TokenRequest,
        entry: Arc<crate::cache::Entry>,
        background: bool,
    ) -> crate::cache::Inflight {
        let client = self.clone();
        let span = tracing::info_span!(
            "maskinporten.token",
            client_id = %self.inner.client_id,
            scope = %request.scope(),
            background
        );
        let task = tokio::spawn(
            async move {
                let result = client.fetch(&request).await;
                match &result {
                    Ok(token) => {
                        *entry.token.write().unwrap_or_else(PoisonError::into_inner) = Some(token.clone());
                        *entry.refresh_not_before.lock().unwrap_or_else(PoisonError::into_inner) = None;
                    }
                    Err(e) if background => {
                        client.inner.counters.refresh_failures.fetch_add(1, Ordering::Relaxed);
                        // Keep serving the old token; try again a little later
                        // rather than on every call.
                        let wait = client.inner.retry.max_backoff.max(Duration::from_secs(1));
                        *entry.refresh_not_before.lock().unwrap_or_else(PoisonError::into_inner) =
                            Some(client.inner.clock.now() + wait);
                        tracing::warn!(error = %e, "background token refresh failed; serving the cached token until it expires");
                    }
                    Err(_) => {}
                }
                *entry.inflight.lock().unwrap_or_else(PoisonError::into_inner) = None;
                result
            }
            .instrument(span),
        );
        async move {
            task.await
                .unwrap_or_else(|e| Err(Error::Internal(format!("token fetch task failed: {e}"))))
        }
        .boxed()
        .shared()
    }

    /// Drops `token` from the cache if it is still the cached token for
    /// `request` (so a 401 on an old token does not discard a newer one).
    pub fn invalidate(&self, request: &TokenRequest, token: &AccessToken) -> bool {
        self.inner.cache.invalidate(request, token)
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        let c = &self.inner.counters;
        Stats {
            hits: c.hits.load(Ordering::Relaxed),
            stale_hits: c.stale_hits.load(Ordering::Relaxed),
            misses: c.misses.load(Ordering::Relaxed),
            fetches: c.fetches.load(Ordering::Relaxed),
            errors: c.errors.load(Ordering::Relaxed),
            refreshes: c.refreshes.load(Ordering::Relaxed),
            refresh_failures: c.refresh_failures.load(Ordering::Relaxed),
            entries: self.inner.cache.len(),
            clock_offset_ms: self.inner.offset.get(),
        }
    }

    /// Fetches a new token, bypassing (and not filling) the cache, with retries.
    ///
    /// # Errors
    /// The final [`Error`]; transient failures that ran out of attempts are
    /// wrapped in [`Error::RetriesExhausted`].
    pub async fn fetch(&self, request: &TokenRequest) -> Result<AccessToken, Error> {
        let policy = self.inner.retry;
        let started = Instant::now();
        let mut attempt = 0u32;
        let mut time_retry_done = false;
        loop {
            attempt += 1;
            let correction_used = self.inner.offset.correction_ms();
            let span = tracing::debug_span!("maskinporten.attempt", attempt);
            let err = match self.attempt(request, attempt).instrument(span).await {
                Ok(t) => return Ok(t),
                Err(e) => e,
            };
            self.inner.counters.errors.fetch_add(1, Ordering::Relaxed);
            metrics::counter!(metric_names::ERRORS, "code" => err.error.metric_code()).increment(1);
            // A grant rejected for its time claims, when the response taught us
            // a different clock offset: retry once at once with the corrected clock.
            if !time_retry_done
                && err
                    .error
                    .maskinporten()
                    .is_some_and(MaskinportenError::is_time_error)
                && self.inner.offset.correction_ms() != correction_used
            {
                time_retry_done = true;
                tracing::info!(
                    offset_ms = self.inner.offset.correction_ms(),
                    "grant rejected for its time claims; retrying with the server's clock"
                );
                continue;
            }
            if !err.error.is_retryable() {
                return Err(err.error);
            }
            let elapsed = started.elapsed();
            let wait = match err.retry_after {
                Some(ra) => ra,
                None => policy.backoff(attempt),
            };
            if attempt >= policy.max_attempts || elapsed + wait > policy.max_elapsed {
                return Err(Error::RetriesExhausted {
                    attempts: attempt,
                    elapsed,
                    last: Box::new(err.error),
                });
            }
            tracing::debug!(attempt, wait_ms = wait.as_millis() as u64, error = %err.error, "retrying token request");
            tokio::time::sleep(wait).await;
        }
    }

    /// One HTTP attempt with a new grant.
    async fn attempt(
        &self,
        request: &TokenRequest,
        attempt: u32,
    ) -> Result<AccessToken, AttemptError> {
        let inner = &*self.inner;
        let plain = |error: Error| AttemptError {
            error,
            retry_after: None,
        };
        let issued_at =
            inner.clock.now_utc() + time::Duration::milliseconds(inner.offset.correction_ms());
        let grant = inner
            .grants
            .build(request, issued_at, inner.grant_lifetime)
            .await
            .map_err(plain)?;
        tracing::debug!(attempt, jti = %grant.jti, iat = grant.issued_at, "sending grant");
        let body = SecretString::from(format!(
            "grant_type={}&assertion={}",
            url::form_urlencoded::byte_serialize(JWT_BEARER_GRANT_TYPE.as_bytes())
                .collect::<String>(),
            grant.secret()
        ));
        drop(grant);
        let url = inner.token_endpoint.as_str();
        inner.counters.fetches.fetch_add(1, Ordering::Relaxed);
        inner.metrics.fetches.increment(1);
        // Expiry counts from before the request, so latency never extends a token.
        let sent_at = inner.clock.now();
        let sent_at_utc = inner.clock.now_utc();
        let resp = inner
            .http
            .post(inner.token_endpoint.clone())
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(reqwest::header::ACCEPT, "application/json")
            .body(secrecy::ExposeSecret::expose_secret(&body).to_owned())
            .send()
            .await
            .map_err(|e| {
                plain(Error::Http {
                    url: url.to_owned(),
                    message: error_chain(&e),
                })
            })?;
        self.observe_date(resp.headers());
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, inner.clock.now_utc()));
        let bytes = resp.bytes().await.map_err(|e| {
            plain(Error::Http {
                url: url.to_owned(),
                message: error_chain(&e),
            })
        })?;
        if (200..300).contains(&status) {
            let mut de = serde_json::Deserializer::from_slice(&bytes);
            let parsed: TokenResponse = serde_path_to_error::deserialize(&mut de).map_err(|e| {
                plain(Error::InvalidResponse {
                    url: url.to_owned(),
                    status,
                    reason: format!("token response field '{}': {}", e.path(), e.inner()),
                    body: RawBody::new(&bytes, true),
                })
            })?;
            let lifetime = Duration::from_secs(parsed.expires_in);
            if lifetime.is_zero() {
                return Err(plain(Error::InvalidResponse {
                    url: url.to_owned(),
                    status,
                    reason: "expires_in is 0".into(),
                    body: RawBody::new(&bytes, true),
                }));
            }
            let expires_at = sent_at + lifetime;
            let scopes = parsed
                .scope
                .as_deref()
                .map(|s| s.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_else(|| request.scopes().to_vec());
            tracing::debug!(expires_in = parsed.expires_in, "token received");
            return Ok(AccessToken(Arc::new(TokenInner {
                secret: SecretString::from(parsed.access_token),
                token_type: parsed.token_type,
                scopes,
                lifetime,
                expires_at,
                refresh_at: expires_at - refresh_margin(lifetime),
                expires_at_utc: sent_at_utc + lifetime,
            })));
        }
        let error = match MaskinportenError::from_body(status, &bytes) {
            Some(mp) => {
                tracing::warn!(
                    status,
                    error = %mp.error,
                    code = mp.code.as_ref().map(|c| c.as_str()),
                    trace_id = mp.trace_id.as_deref(),
                    description = mp.description.as_deref(),
                    "Maskinporten rejected the token request"
                );
                Error::from(mp)
            }
            None => Error::UnexpectedStatus {
                url: url.to_owned(),
                status,
                retry_after,
                body: RawBody::new(&bytes, false),
            },
        };
        Err(AttemptError { error, retry_after })
    }

    fn observe_date(&self, headers: &reqwest::header::HeaderMap) {
        let Some(date) = headers
            .get(reqwest::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok())
        else {
            return;
        };
        let server = OffsetDateTime::from(date);
        let local = self.inner.clock.now_utc();
        // `Date` is truncated to whole seconds: add half a second to centre the estimate.
        let offset = (server - local).whole_milliseconds() as i64 + 500;
        let previous = self.inner.offset.get();
        self.inner.offset.set(offset);
        if offset.unsigned_abs() > CLOCK_CORRECTION_THRESHOLD.as_millis() as u64
            && previous.is_none_or(|p| (p - offset).abs() > 2000)
        {
            tracing::warn!(
                offset_ms = offset,
                "local clock differs from Maskinporten's; correcting grant iat/exp"
            );
        }
    }
}

/// `Retry-After` as seconds or an HTTP date.
fn parse_retry_after(value: &str, now: OffsetDateTime) -> Option<Duration> {
    if let Ok(secs) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = OffsetDateTime::from(httpdate::parse_http_date(value.trim()).ok()?);
    Some(Duration::try_from(at - now).unwrap_or(Duration::ZERO))
}

/// An error and its causes on one line.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(cause) = src {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        src = cause.source();
    }
    s
}

impl crate::provider::TokenProvider for MaskinportenClient {
    fn token<'a>(&'a self, request: &'a TokenRequest) -> crate::provider::TokenFuture<'a> {
        Box::pin(MaskinportenClient::token(self, request))
    }
    fn cached(&self, request: &TokenRequest) -> Option<AccessToken> {
        MaskinportenClient::cached(self, request)
    }
    fn invalidate(&self, request: &TokenRequest, token: &AccessToken) -> bool {
        MaskinportenClient::invalidate(self, request, token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_bounded() {
        let p = RetryPolicy::default();
        for attempt in 1..30 {
            assert!(p.backoff(attempt) <= p.max_backoff);
        }
    }

    #[test]
    fn retry_after_forms() {
        let now = OffsetDateTime::now_utc();
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date((now + time::Duration::seconds(10)).into());
        let d = parse_retry_after(&later, now).unwrap();
        assert!(
            d <= Duration::from_secs(10) && d >= Duration::from_secs(8),
            "{d:?}"
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
