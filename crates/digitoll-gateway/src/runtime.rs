//! Per-tenant Maskinporten and Toll clients, built lazily from the store and
//! kept in memory so the hot path (token broker, workers) never reads the
//! database or unseals a key once a tenant is warm.

use std::collections::HashMap;
use std::sync::Arc;

use digitoll_client::{
    MovementClient, ReconcileConfig, RetryConfig, TollEnvironment, TollTokenProvider, TransportMode,
};
use digitoll_model::{ContractProfile, RuleOverrides};
use digitoll_store::{Environment, Store, Tenant, TenantId, TenantKeyMaterial, ValidationMode};
use maskinporten::{MaskinportenClient, RsaKey, RsaSigner, TokenProvider};
use secrecy::ExposeSecret;
use url::Url;

use crate::error::ApiError;

/// Everything needed to act for one tenant.
#[derive(Debug)]
pub struct TenantRuntime {
    /// The tenant as read when the runtime was built.
    pub tenant: Tenant,
    /// Its Maskinporten client (token cache inside).
    pub maskinporten: MaskinportenClient,
    /// Its Toll token provider (cache inside), over `maskinporten`.
    pub toll: TollTokenProvider,
    /// Whether local validation uses the playground fixtures (test and sim).
    pub playground: bool,
    /// The rule severities its checking clients use (instance profile with
    /// the tenant's over it, as read when the runtime was built).
    pub rules: RuleOverrides,
    clients: HashMap<TransportMode, MovementClient>,
    unchecked: HashMap<TransportMode, MovementClient>,
}

impl TenantRuntime {
    /// The movement client for `mode`; it validates before sending, with the
    /// tenant's effective rule severities (instance profile, tenant profile
    /// over it).
    pub fn client(&self, mode: TransportMode) -> &MovementClient {
        // Every mode is built in `build`, so the lookup cannot miss.
        self.clients
            .get(&mode)
            .unwrap_or_else(|| unreachable!("all modes are built"))
    }

    /// The client for a message accepted under `validation`: strict
    /// messages go through [`TenantRuntime::client`]'s local check again;
    /// advisory and off messages are sent without the client's rule checks
    /// (`validate_before_send(false)`), so Toll judges them.
    pub fn client_for(&self, mode: TransportMode, validation: ValidationMode) -> &MovementClient {
        match validation {
            ValidationMode::Strict => self.client(mode),
            ValidationMode::Advisory | ValidationMode::Off => self
                .unchecked
                .get(&mode)
                .unwrap_or_else(|| unreachable!("all modes are built")),
        }
    }
}

/// How runtimes are built: environment overrides and client settings.
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// When set, tenants with environment `sim` use this simulator (issuer
    /// and Toll base) instead of their stored issuer URL (`serve --sim`).
    pub sim_base_url: Option<Url>,
    /// Timeout of one Toll request.
    pub toll_timeout: std::time::Duration,
    /// Reconciliation of lost POST responses.
    pub reconcile: ReconcileConfig,
    /// Retries of safe Toll requests.
    pub retry: RetryConfig,
    /// Maskinporten retry policy (None: the crate's default).
    pub maskinporten_retry: Option<maskinporten::RetryPolicy>,
    /// How long a built runtime is kept before it is rebuilt from the store
    /// (picks up keys rotated by another process).
    pub ttl: std::time::Duration,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        Self {
            sim_base_url: None,
            toll_timeout: std::time::Duration::from_secs(30),
            reconcile: ReconcileConfig::default(),
            retry: RetryConfig::default(),
            maskinporten_retry: None,
            ttl: std::time::Duration::from_secs(600),
        }
    }
}

/// Why a tenant's clients could not be built.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The store failed or the tenant does not exist.
    #[error(transparent)]
    Store(#[from] digitoll_store::Error),
    /// The tenant is disabled.
    #[error("tenant {0} is disabled")]
    Disabled(TenantId),
    /// The key material or settings are unusable (message names what).
    #[error("tenant {tenant}: {message}")]
    Config {
        /// The tenant.
        tenant: TenantId,
        /// What is wrong (never key material).
        message: String,
    },
}

impl From<RuntimeError> for ApiError {
    fn from(e: RuntimeError) -> Self {
        match e {
            RuntimeError::Store(s) => s.into(),
            RuntimeError::Disabled(_) => ApiError::Forbidden("the tenant is disabled".into()),
            RuntimeError::Config { message, .. } => ApiError::Upstream(format!(
                "the tenant's Maskinporten setup is unusable: {message}"
            )),
        }
    }
}

/// The map of built runtimes.
#[derive(Debug, Clone)]
pub struct Runtimes {
    store: Store,
    options: RuntimeOptions,
    http: reqwest::Client,
    cache: moka::future::Cache<TenantId, Arc<TenantRuntime>>,
    profile: Arc<ContractProfile>,
}

impl Runtimes {
    /// An empty map over `store`.
    pub fn new(store: Store, options: RuntimeOptions, http: reqwest::Client) -> Self {
        let cache = moka::future::Cache::builder()
            .max_capacity(100_000)
            .time_to_live(options.ttl)
            .build();
        Self {
            store,
            options,
            http,
            cache,
            profile: Arc::new(ContractProfile::default()),
        }
    }

    /// Uses `profile` as the instance's contract profile (default: none)
    /// for the clients' local validation.
    #[must_use]
    pub fn with_profile(mut self, profile: ContractProfile) -> Self {
        self.profile = Arc::new(profile);
        self
    }

    /// The tenant's runtime, built on first use (one build per tenant
    /// however many callers wait).
    ///
    /// # Errors
    /// [`RuntimeError`] when the tenant is unknown, disabled or its key is unusable.
    pub async fn get(&self, id: TenantId) -> Result<Arc<TenantRuntime>, RuntimeError> {
        if let Some(rt) = self.cache.get(&id).await {
            return Ok(rt);
        }
        self.cache
            .try_get_with(id, self.build(id))
            .await
            .map_err(|e: Arc<RuntimeError>| match Arc::try_unwrap(e) {
                Ok(e) => e,
                Err(shared) => RuntimeError::Config {
                    tenant: id,
                    message: shared.to_string(),
                },
            })
    }

    /// Forgets a tenant's runtime (after a key rotation, an update or a
    /// Maskinporten configuration error), so the next use rebuilds it.
    pub async fn invalidate(&self, id: TenantId) {
        self.cache.invalidate(&id).await;
    }

    async fn build(&self, id: TenantId) -> Result<Arc<TenantRuntime>, RuntimeError> {
        let tenant = self.store.tenant(id).await?;
        if !tenant.enabled {
            return Err(RuntimeError::Disabled(id));
        }
        let cfg = |message: String| RuntimeError::Config {
            tenant: id,
            message,
        };
        let signer: Arc<dyn maskinporten::Signer> = match self.store.tenant_key(id).await? {
            TenantKeyMaterial::KeyPair { kid, private_key } => {
                let key = RsaKey::from_pem(private_key.expose_secret(), None)
                    .or_else(|_| RsaKey::from_pkcs8_der(private_key.expose_secret()))
                    .map_err(|e| cfg(format!("stored private key: {e}")))?;
                Arc::new(RsaSigner::with_kid(key, kid))
            }
            TenantKeyMaterial::Certificate { p12, password } => Arc::new(
                RsaSigner::from_pkcs12(p12.expose_secret(), &password)
                    .map_err(|e| cfg(format!("stored business certificate: {e}")))?,
            ),
        };
        let (mp_env, toll_env, playground) = match tenant.environment {
            Environment::Prod => (
                maskinporten::Environment::Prod,
                TollEnvironment::Prod,
                false,
            ),
            Environment::Test => (maskinporten::Environment::Test, TollEnvironment::Test, true),
            Environment::Sim => {
                let base = match (&self.options.sim_base_url, &tenant.issuer_url) {
                    (Some(u), _) => u.clone(),
                    (None, Some(issuer)) => Url::parse(issuer)
                        .map_err(|e| cfg(format!("issuer_url {issuer:?}: {e}")))?,
                    (None, None) => return Err(cfg("a sim tenant needs an issuer_url".into())),
                };
                let mut issuer = base.to_string();
                if !issuer.ends_with('/') {
                    issuer.push('/');
                }
                (
                    maskinporten::Environment::custom(issuer),
                    TollEnvironment::custom(base.as_str()).map_err(|e| cfg(e.to_string()))?,
                    true,
                )
            }
        };
        // A test/prod tenant may still name its own issuer (e.g. a proxy).
        let mp_env = match (&tenant.environment, &tenant.issuer_url) {
            (Environment::Sim, _) | (_, None) => mp_env,
            (_, Some(issuer)) => maskinporten::Environment::custom(issuer.clone()),
        };
        let mut builder = MaskinportenClient::builder(mp_env, tenant.client_id.clone(), signer)
            .http_client(self.http.clone());
        if let Some(policy) = self.options.maskinporten_retry {
            builder = builder.retry_policy(policy);
        }
        let mp = builder.build().map_err(|e| cfg(e.to_string()))?;
        let namespace = mp.cache_namespace();
        let provider: Arc<dyn TokenProvider> = Arc::new(mp.clone());
        let profile = crate::validation::effective_profile_for(
            &self.profile,
            tenant.contract_profile.as_deref(),
        )
        .map_err(|e| cfg(format!("stored contract profile: {e}")))?;
        let rules = profile.rules.clone();
        let toll = TollTokenProvider::builder(provider, toll_env)
            .http_client(self.http.clone())
            .namespace(namespace)
            .profile(Arc::new(profile))
            .build();
        let mut clients = HashMap::new();
        let mut unchecked = HashMap::new();
        for mode in TransportMode::ALL {
            let builder = || {
                MovementClient::builder(mode, toll.clone())
                    .http_client(self.http.clone())
                    .timeout(self.options.toll_timeout)
                    .retry(self.options.retry)
                    .reconcile(self.options.reconcile)
                    .playground_rules(playground)
            };
            let client = builder()
                .rule_overrides(rules.clone())
                .build()
                .map_err(|e| cfg(e.to_string()))?;
            clients.insert(mode, client);
            let client = builder()
                .validate_before_send(false)
                .build()
                .map_err(|e| cfg(e.to_string()))?;
            unchecked.insert(mode, client);
        }
        tracing::info!(tenant = %id, environment = %tenant.environment, "tenant clients built");
        Ok(Arc::new(TenantRuntime {
            tenant,
            maskinporten: mp,
            toll,
            playground,
            rules,
            clients,
            unchecked,
        }))
    }
}
