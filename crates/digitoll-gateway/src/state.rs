//! The gateway's shared state and configuration.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use digitoll_model::ContractProfile;
use digitoll_store::{Store, TenantId};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use metrics_exporter_prometheus::PrometheusHandle;

use crate::auth::Authenticator;
use crate::runtime::{RuntimeOptions, Runtimes};
use crate::worker::WorkerConfig;

/// Everything that configures a gateway; the CLI builds it from flags.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Largest request body accepted (default 2 MiB); larger ones get 413.
    pub max_body_bytes: usize,
    /// Sustained requests per second per tenant (default 50).
    pub rate_limit_per_second: NonZeroU32,
    /// Burst per tenant above the sustained rate (default 100).
    pub rate_limit_burst: NonZeroU32,
    /// How long an API key lookup is cached (default 30 s).
    pub auth_cache_ttl: Duration,
    /// How tenant clients are built.
    pub runtime: RuntimeOptions,
    /// Background workers.
    pub workers: WorkerConfig,
    /// How often the routing follower reads each tenant's routing feeds
    /// (tenants with `toll:movement/entry`; default 30 s). `None` switches the
    /// follower off in this process (e.g. all but one of several instances).
    pub routing_interval: Option<Duration>,
    /// The instance's contract profile (`digitoll serve --profile FILE`):
    /// rule severities for every tenant; a tenant's own profile overrides it
    /// rule by rule (see [`crate::validation`]). Default: none.
    pub profile: ContractProfile,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 2 * 1024 * 1024,
            rate_limit_per_second: NonZeroU32::new(50).unwrap_or(NonZeroU32::MIN),
            rate_limit_burst: NonZeroU32::new(100).unwrap_or(NonZeroU32::MIN),
            auth_cache_ttl: Duration::from_secs(30),
            runtime: RuntimeOptions::default(),
            workers: WorkerConfig::default(),
            routing_interval: Some(Duration::from_secs(30)),
            profile: ContractProfile::default(),
        }
    }
}

/// Shared by every request handler and worker; cheap to clone.
#[derive(Clone)]
pub struct GatewayState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    config: GatewayConfig,
    runtimes: Runtimes,
    auth: Authenticator,
    limiter: DefaultKeyedRateLimiter<TenantId>,
    metrics: Option<PrometheusHandle>,
    http: reqwest::Client,
    draining: AtomicBool,
    /// Wakes idle workers when a job this process delayed becomes due.
    due: Arc<tokio::sync::Notify>,
    web: crate::web::WebState,
    routing: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for GatewayState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayState")
            .field("store", &self.inner.store)
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl GatewayState {
    /// State over `store` with `config`; `metrics` is the Prometheus handle
    /// `/metrics` renders (None: `/metrics` answers 404).
    pub fn new(store: Store, config: GatewayConfig, metrics: Option<PrometheusHandle>) -> Self {
        // Webhook receivers and Toll are called without following redirects
        // (a redirect could point a signed payload somewhere else).
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        let quota =
            Quota::per_second(config.rate_limit_per_second).allow_burst(config.rate_limit_burst);
        Self {
            inner: Arc::new(Inner {
                runtimes: Runtimes::new(store.clone(), config.runtime.clone(), http.clone())
                    .with_profile(config.profile.clone()),
                auth: Authenticator::new(
                    store.clone(),
                    config.auth_cache_ttl,
                    config.profile.clone(),
                ),
                limiter: RateLimiter::keyed(quota),
                store,
                config,
                metrics,
                http,
                draining: AtomicBool::new(false),
                due: Arc::new(tokio::sync::Notify::new()),
                web: crate::web::WebState::default(),
                routing: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The configuration.
    pub fn config(&self) -> &GatewayConfig {
        &self.inner.config
    }

    /// Per-tenant clients.
    pub fn runtimes(&self) -> &Runtimes {
        &self.inner.runtimes
    }

    /// API key authentication.
    pub fn auth(&self) -> &Authenticator {
        &self.inner.auth
    }

    pub(crate) fn limiter(&self) -> &DefaultKeyedRateLimiter<TenantId> {
        &self.inner.limiter
    }

    pub(crate) fn metrics(&self) -> Option<&PrometheusHandle> {
        self.inner.metrics.as_ref()
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// The dashboard's sessions and settings (`/ui`).
    pub fn web(&self) -> &crate::web::WebState {
        &self.inner.web
    }

    /// Serialises routing-feed reads in this process.
    pub(crate) fn routing_lock(&self) -> &tokio::sync::Mutex<()> {
        &self.inner.routing
    }

    /// Marks the gateway as shutting down: `/readyz` answers 503 so load
    /// balancers stop sending new requests.
    pub fn start_draining(&self) {
        self.inner.draining.store(true, Ordering::SeqCst);
    }

    /// Wakes this process's idle workers after `delay`, when a job it
    /// scheduled (a status poll, a retry) becomes due. Without it an idle
    /// worker would notice the job only at its next `idle_wait` poll.
    pub(crate) fn wake_workers_after(&self, delay: std::time::Duration) {
        let due = self.inner.due.clone();
        tokio::spawn(async move {
            // A little after the due time, so the claim finds the job due.
            tokio::time::sleep(delay + std::time::Duration::from_millis(5)).await;
            due.notify_waiters();
        });
    }

    /// Resolves when [`GatewayState::wake_workers_after`] fires.
    pub(crate) async fn job_due(&self) {
        self.inner.due.notified().await;
    }

    /// Whether [`GatewayState::start_draining`] was called.
    pub fn is_draining(&self) -> bool {
        self.inner.draining.load(Ordering::SeqCst)
    }
}
