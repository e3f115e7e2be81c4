//! API key authentication with a short-lived in-memory cache.
//!
//! Keys are looked up in the store by hash (`Store::authenticate_api_key`);
//! the result is cached for a short TTL under the SHA-256 of the presented
//! key, so a warm request costs one hash and one map lookup, not a database
//! read. Revoking a key or disabling a tenant through this process clears the
//! cache at once; another process's change takes effect within the TTL.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, header};
use digitoll_model::{ContractProfile, ProfileError};
use digitoll_store::{ApiKeyId, ApiKeyScope, Store, TenantId};
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::ttl::TtlMap;
use crate::validation::{TenantValidation, effective_rules_for};

/// Who a request speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal {
    /// The operator (admin key).
    Admin {
        /// The key used.
        key: ApiKeyId,
    },
    /// One tenant's integration.
    Tenant {
        /// The tenant.
        tenant: TenantId,
        /// The key used.
        key: ApiKeyId,
    },
}

impl Principal {
    /// The tenant, or 403 for an admin key on a tenant route.
    ///
    /// # Errors
    /// [`ApiError::Forbidden`] for an admin key.
    pub fn tenant(&self) -> Result<TenantId, ApiError> {
        match self {
            Principal::Tenant { tenant, .. } => Ok(*tenant),
            Principal::Admin { .. } => Err(ApiError::Forbidden(
                "an admin key acts for no tenant; use a tenant API key".into(),
            )),
        }
    }

    /// Ok for an admin key, 403 otherwise.
    ///
    /// # Errors
    /// [`ApiError::Forbidden`] for a tenant key.
    pub fn admin(&self) -> Result<(), ApiError> {
        match self {
            Principal::Admin { .. } => Ok(()),
            Principal::Tenant { .. } => Err(ApiError::Forbidden(
                "this route needs an admin API key".into(),
            )),
        }
    }

    /// A label for the audit log (the key id, never the key).
    pub fn actor(&self) -> String {
        match self {
            Principal::Admin { key } => format!("admin-key:{key}"),
            Principal::Tenant { key, .. } => format!("api-key:{key}"),
        }
    }
}

/// Authenticates bearer API keys, with a cache.
#[derive(Debug, Clone)]
pub struct Authenticator {
    store: Store,
    cache: Arc<TtlMap<[u8; 32], Principal>>,
    tenants: Arc<TtlMap<TenantId, TenantFacts>>,
    profile: Arc<ContractProfile>,
}

/// What requests need to know of a tenant, cached like keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantFacts {
    /// Whether the gateway serves it.
    pub enabled: bool,
    /// TEST and simulator tenants validate against Toll's playground fixtures.
    pub playground: bool,
    /// Its validation mode and effective rule severities (the instance's
    /// profile with the tenant's over it); an error when the stored tenant
    /// profile no longer parses.
    pub validation: Result<TenantValidation, ProfileError>,
}

impl TenantFacts {
    /// The tenant's validation settings.
    ///
    /// # Errors
    /// 503 naming the problem when the stored tenant profile is unusable.
    pub fn validation(&self) -> Result<&TenantValidation, ApiError> {
        self.validation.as_ref().map_err(|e| {
            ApiError::Unavailable(format!(
                "the tenant's stored contract profile is unusable ({e}); an operator must correct it"
            ))
        })
    }
}

impl Authenticator {
    /// An authenticator caching results for `ttl`; `profile` is the
    /// instance's contract profile (tenants' profiles are laid over it).
    pub fn new(store: Store, ttl: Duration, profile: ContractProfile) -> Self {
        Self {
            store,
            cache: Arc::new(TtlMap::new(ttl, 100_000)),
            tenants: Arc::new(TtlMap::new(ttl, 100_000)),
            profile: Arc::new(profile),
        }
    }

    /// The principal behind the request's `Authorization: Bearer dtk_…`.
    ///
    /// # Errors
    /// [`ApiError::Unauthorized`] for a missing, malformed, unknown or revoked
    /// key; [`ApiError::Forbidden`] when the key's tenant is disabled.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Principal, ApiError> {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or(ApiError::Unauthorized)?;
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let principal = match self.cache.get(&digest) {
            Some(p) => p,
            None => {
                let info = match self.store.authenticate_api_key(presented).await {
                    Ok(info) => info,
                    Err(digitoll_store::Error::NotFound { .. }) => {
                        return Err(ApiError::Unauthorized);
                    }
                    Err(e) => return Err(e.into()),
                };
                let p = match info.scope {
                    ApiKeyScope::Admin => Principal::Admin { key: info.id },
                    ApiKeyScope::Tenant(t) => Principal::Tenant {
                        tenant: t,
                        key: info.id,
                    },
                };
                self.cache.insert(digest, p);
                p
            }
        };
        if let Principal::Tenant { tenant, .. } = principal
            && !self.tenant(tenant).await?.enabled
        {
            return Err(ApiError::Forbidden("the tenant is disabled".into()));
        }
        Ok(principal)
    }

    /// A tenant's cached facts (read from the store at most once per TTL).
    ///
    /// # Errors
    /// [`ApiError::NotFound`] for an unknown tenant, or the store's error.
    pub async fn tenant(&self, tenant: TenantId) -> Result<TenantFacts, ApiError> {
        if let Some(f) = self.tenants.get(&tenant) {
            return Ok(f);
        }
        let t = self.store.tenant(tenant).await?;
        let playground = matches!(
            t.environment,
            digitoll_store::Environment::Test | digitoll_store::Environment::Sim
        );
        let validation =
            effective_rules_for(&self.profile, t.contract_profile.as_deref()).map(|rules| {
                TenantValidation {
                    mode: t.validation_mode,
                    rules,
                    playground,
                }
            });
        if let Err(e) = &validation {
            tracing::warn!(tenant = %tenant, error = %e, "stored contract profile is unusable");
        }
        let facts = TenantFacts {
            enabled: t.enabled,
            playground,
            validation,
        };
        self.tenants.insert(tenant, facts.clone());
        Ok(facts)
    }

    /// Forgets every cached key and tenant status (after a revocation, a
    /// tenant being disabled or removed).
    pub fn clear(&self) {
        self.cache.clear();
        self.tenants.clear();
    }
}
