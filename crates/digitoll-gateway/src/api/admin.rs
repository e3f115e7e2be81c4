//! `/v1/admin/...`: tenants, their keys and API keys, and the queue. Admin
//! API keys only. Secrets go in (a `.p12` and its password) but never come out.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use base64::Engine as _;
use digitoll_store::{
    ApiKeyId, ApiKeyInfo, ApiKeyScope, AuditEntry, Environment, Job, JobId, NewAuditEntry,
    NewTenant, QueueStats, Tenant, TenantId, TenantUpdate, ValidationMode,
};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::{JsonBody, admin_of, parse_id};
use crate::auth::Principal;
use crate::error::{ApiError, ErrorBody};
use crate::keys::{self, PreparedKey};
use crate::state::GatewayState;

pub(crate) fn router() -> Router<GatewayState> {
    Router::new()
        .route("/tenants", get(list_tenants).post(create_tenant))
        .route(
            "/tenants/{id}",
            get(get_tenant).patch(update_tenant).delete(remove_tenant),
        )
        .route("/tenants/{id}/rotate-key", post(rotate_key))
        .route(
            "/tenants/{id}/api-keys",
            get(list_api_keys).post(create_api_key),
        )
        .route("/tenants/{id}/api-keys/{key_id}", delete(revoke_api_key))
        .route("/queue", get(queue))
        .route("/dead-jobs", get(dead_jobs))
        .route("/jobs/{id}/retry", post(retry_job))
        .route("/jobs/{id}/cancel", post(cancel_job))
        .route("/audit", get(audit))
}

/// How a tenant signs Maskinporten grants.
#[derive(Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum KeySpec {
    /// The gateway generates an RSA key pair; upload the returned public JWK
    /// to the Maskinporten client (grants carry `kid`).
    Generate,
    /// The customer's business certificate (grants carry `x5c`).
    Pkcs12 {
        /// The .p12/.pfx file, base64.
        p12_base64: String,
        /// Its password.
        #[schema(value_type = String)]
        password: SecretString,
    },
}

impl std::fmt::Debug for KeySpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySpec::Generate => f.write_str("Generate"),
            KeySpec::Pkcs12 { .. } => f.write_str("Pkcs12([redacted])"),
        }
    }
}

fn prepare(spec: KeySpec, org: &str) -> Result<PreparedKey, ApiError> {
    match spec {
        KeySpec::Generate => {
            keys::generate_key_pair().map_err(|e| ApiError::Internal(e.to_string()))
        }
        KeySpec::Pkcs12 {
            p12_base64,
            password,
        } => {
            let p12 = base64::engine::general_purpose::STANDARD
                .decode(p12_base64.trim())
                .map_err(|e| {
                    ApiError::bad_request(
                        "invalid_value",
                        format!("key.p12_base64: not base64: {e}"),
                        Some("key.p12_base64".into()),
                    )
                })?;
            keys::import_pkcs12(p12, password, Some(org)).map_err(|e| {
                ApiError::bad_request("invalid_key", e.to_string(), Some("key".into()))
            })
        }
    }
}

/// `POST /v1/admin/tenants`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTenant {
    /// Organisation number (9 digits).
    pub org_number: String,
    /// Display name.
    pub name: String,
    /// prod, test or sim.
    #[schema(value_type = String)]
    pub environment: Environment,
    /// The Maskinporten client id.
    pub client_id: String,
    /// The Maskinporten scopes the client holds.
    pub scopes: Vec<String>,
    /// Custom issuer (required for sim unless the gateway runs with `--sim`).
    pub issuer_url: Option<String>,
    /// The key.
    pub key: KeySpec,
}

/// A tenant as created or rotated: what to upload, never the secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantCreated {
    /// The tenant (no secrets).
    #[schema(value_type = Object)]
    pub tenant: Tenant,
    /// The public JWK to upload to the Maskinporten client (generated keys).
    #[schema(value_type = Option<Object>)]
    pub public_jwk: Option<Value>,
    /// The certificate's subject, org number and validity (imported certificates).
    #[schema(value_type = Option<Object>)]
    pub certificate: Option<Value>,
}

async fn audit_log(
    state: &GatewayState,
    p: &Principal,
    tenant: Option<TenantId>,
    action: &str,
    detail: Value,
) {
    if let Err(e) = state
        .store()
        .audit(NewAuditEntry {
            tenant_id: tenant,
            actor: p.actor(),
            action: action.into(),
            detail,
        })
        .await
    {
        tracing::warn!(error = %e, action, "cannot write the audit log");
    }
}

/// Register a tenant (key generated, or a business certificate imported).
#[utoipa::path(post, path = "/v1/admin/tenants", tag = "admin", request_body = CreateTenant,
    responses((status = 201, body = TenantCreated), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("api_key" = [])))]
pub(crate) async fn create_tenant(
    State(state): State<GatewayState>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<CreateTenant>,
) -> Result<Response, ApiError> {
    let p = admin_of(&state, &headers).await?;
    let issuer_url = match (
        req.environment,
        req.issuer_url,
        &state.config().runtime.sim_base_url,
    ) {
        (Environment::Sim, None, Some(sim)) => Some(sim.to_string()),
        (_, u, _) => u,
    };
    let prepared = prepare(req.key, &req.org_number)?;
    let tenant = state
        .store()
        .create_tenant(NewTenant {
            org_number: req.org_number,
            name: req.name,
            environment: req.environment,
            issuer_url,
            client_id: req.client_id,
            key: prepared.key,
            scopes: req.scopes,
        })
        .await?;
    audit_log(
        &state,
        &p,
        Some(tenant.id),
        "tenant.create",
        json!({"key_kind": tenant.key_kind}),
    )
    .await;
    Ok((
        StatusCode::CREATED,
        Json(TenantCreated {
            tenant,
            public_jwk: prepared.public_jwk,
            certificate: prepared.certificate,
        }),
    )
        .into_response())
}

/// All tenants.
#[utoipa::path(get, path = "/v1/admin/tenants", tag = "admin",
    responses((status = 200, body = Vec<Object>)), security(("api_key" = [])))]
pub(crate) async fn list_tenants(
    State(state): State<GatewayState>,
    headers: HeaderMap,
) -> Result<Json<Vec<Tenant>>, ApiError> {
    admin_of(&state, &headers).await?;
    Ok(Json(state.store().tenants().await?))
}

/// One tenant.
#[utoipa::path(get, path = "/v1/admin/tenants/{id}", tag = "admin", params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)), security(("api_key" = [])))]
pub(crate) async fn get_tenant(
    State(state): State<GatewayState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Tenant>, ApiError> {
    admin_of(&state, &headers).await?;
    let id: TenantId = parse_id("tenant", &id)?;
    Ok(Json(state.store().tenant(id).await?))
}

/// `PATCH /v1/admin/tenants/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTenant {
    /// New name.
    pub name: Option<String>,
    /// New Maskinporten client id.
    pub client_id: Option<String>,
    /// New scopes.
    pub scopes: Option<Vec<String>>,
    /// Enable or disable (disabled tenants' keys answer 403; their jobs fail).
    pub enabled: Option<bool>,
    /// `strict` (local validation refuses, 422), `advisory` (local findings
    /// are stored and shown, the message is sent and Toll judges) or `off`
    /// (no local rule checks).
    #[schema(value_type = Option<String>)]
    pub validation_mode: Option<ValidationMode>,
    /// The tenant's contract profile as TOML text (`[rules]`: rule id →
    /// error|warning|off), laid over the instance's profile rule by rule;
    /// `null` removes it. Checked before it is stored: a bad profile is 400
    /// with `contract_profile:<line>:<column>: …`.
    #[serde(default, deserialize_with = "present")]
    pub contract_profile: Option<Option<String>>,
}

/// A field that may be absent (`None`), `null` (`Some(None)`) or a value.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// Checks a tenant contract profile text: 400 at `field` with the line and
/// column of the first problem.
pub(crate) fn check_tenant_profile(text: &str, field: &str) -> Result<(), ApiError> {
    crate::validation::parse_tenant_profile(text)
        .map(|_| ())
        .map_err(|e| ApiError::bad_request("invalid_profile", e.to_string(), Some(field.into())))
}

/// Change a tenant's name, client id, scopes, enabled flag, validation mode
/// or contract profile.
#[utoipa::path(patch, path = "/v1/admin/tenants/{id}", tag = "admin", params(("id" = String, Path)),
    request_body = UpdateTenant,
    responses((status = 200, body = Object),
        (status = 400, description = "A bad contract profile (`invalid_profile`, message `contract_profile:<line>:<column>: …`) or value", body = ErrorBody),
        (status = 404, body = ErrorBody)), security(("api_key" = [])))]
pub(crate) async fn update_tenant(
    State(state): State<GatewayState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<UpdateTenant>,
) -> Result<Json<Tenant>, ApiError> {
    let p = admin_of(&state, &headers).await?;
    let id: TenantId = parse_id("tenant", &id)?;
    if let Some(Some(text)) = &req.contract_profile {
        check_tenant_profile(text, "contract_profile")?;
    }
    let profile_changed = req.contract_profile.is_some();
    let t = state
        .store()
        .update_tenant(
            id,
            TenantUpdate {
                name: req.name,
                client_id: req.client_id,
                scopes: req.scopes,
                enabled: req.enabled,
                issuer_url: None,
                validation_mode: req.validation_mode,
                contract_profile: req.contract_profile,
            },
        )
        .await?;
    state.runtimes().invalidate(id).await;
    state.auth().clear();
    audit_log(
        &state,
        &p,
        Some(id),
        "tenant.update",
        json!({"enabled": t.enabled, "validation_mode": t.validation_mode, "contract_profile_changed": profile_changed}),
    )
    .await;
    Ok(Json(t))
}

/// Remove a tenant that has no messages, jobs or keys left (else 409).
#[utoipa::path(delete, path = "/v1/admin/tenants/{id}", tag = "admin", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)), security(("api_key" = [])))]
pub(crate) async fn remove_tenant(
    State(state): State<GatewayState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let p = admin_of(&state, &headers).await?;
    let id: TenantId = parse_id("tenant", &id)?;
    state.store().delete_tenant(id).await?;
    state.runtimes().invalidate(id).await;
    state.auth().clear();
    audit_log(&state, &p, None, "tenant.remove", json!({"tenant": id})).await;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/admin/tenants/{id}/rotate-key`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateKey {
    /// The new key.
    pub key: KeySpec,
}

/// Replace a tenant's key (a new generated pair, or a renewed certificate).
#[utoipa::path(post, path = "/v1/admin/tenants/{id}/rotate-key", tag = "admin", params(("id" = String, Path)),
    request_body = RotateKey,
    responses((status = 200, body = TenantCreated), (status = 404, body = ErrorBody)), security(("api_key" = [])))]
pub(crate) async fn rotate_key(
    State(state): State<GatewayState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<RotateKey>,
) -> Result<Json<TenantCreated>, ApiError> {
    let p = admin_of(&state, &headers).await?;
    let id: TenantId = parse_id("tenant", &id)?;
    let current = state.store().tenant(id).await?;
    let prepared = prepare(req.key, &current.org_number)?;
    let tenant = state.store().set_tenant_key(id, prepared.key).await?;
    state.runtimes().invalidate(id).await;
    audit_log(
        &state,
        &p,
        Some(id),
        "tenant.rotate_key",
        json!({"key_kind": tenant.key_kind}),
    )
    .await;
    Ok(Json(TenantCreated {
        tenant,
        public_jwk: prepared.public_jwk,
        certificate: prepared.certificate,
    }))
}

/// `POST /v1/admin/tenants/{id}/api-keys`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    /// A label to tell keys apart (e.g. `erp-prod`).
    pub label: String,
}

/// A new API key, shown once.
#[derive(Serialize, ToSchema)]
pub struct CreatedApiKey {
    /// The stored key (prefix, label; no secret).
    #[schema(value_type = Object)]
    pub info: ApiKeyInfo,
    /// The key itself (`dtk_…`); only its hash is stored, so it cannot be shown again.
    pub key: String,
}

/// Create an API key for a tenant.
#[utoipa::path(post, path = "/v1/admin/tenants/{id}/api-keys", tag = "admin", params(("id" = String, Path)),
    request_body = CreateApiKey,
    responses((status = 201, body = CreatedApiKey), (status = 404, body = ErrorBody)), security(("api_key" = [])))]
pub(crate) async fn create_api_key(
    State(state): State<GatewayState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<CreateApiKey>,
) -> Result<Response, ApiError> {
    let p = admin_of(&state, &headers).await?;
    let id: TenantId = parse_id("tenant", &id)?;
    state.store().tenant(id).await?;
    let (info, secret) = state
        .store()
        .create_api_key(ApiKeyScope::Tenant(id), &req.label)
        .await?;
    audit_log(
        &state,
        &p,
        Some(id),
        "api_key.create",
        json!({"key": info.id, "label": info.label}),
    )
    .await;
    Ok((
        StatusCode::CREATED,
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        Json(CreatedApiKey {
            info,
            key: secret.expose().to_owned(),
        }),
    )
        .into_response())
}

/// A tenant's API keys (prefixes and labels only).
#[utoipa::path(get, path = "/v1/admin/tenants/{id}/api-keys", tag = "admin", params(("id" = String, Path)),
    responses((status = 200, body = Vec<Object>)), security(("api_key" = [])))]
pub(crate) async fn list_api_keys(
    State(state): State<GatewayState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Vec<ApiKeyInfo>>, ApiError> {
    admin_of(&state, &headers).await?;
    let id: TenantId = parse_id("tenant", &id)?;
    Ok(Json(state.store().api_keys(ApiKeyScope::Tenant(id)).await?))
}

/// Revoke a tenant's API key; effective at once in this process.
#[utoipa::path(delete, path = "/v1/admin/tenants/{id}/api-keys/{key_id}", tag = "admin",
    params(("id" = String, Path), ("key_id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("api_key" = [])))]
pub(crate) async fn revoke_api_key(
    State(state): State<GatewayState>,
    headers: HeaderMap,
    Path((id, key_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let p = admin_of(&state, &headers).await?;
    let id: TenantId = parse_id("tenant", &id)?;
    let key_id: ApiKeyId = parse_id("api key", &key_id)?;
    state
        .store()
        .revoke_api_key(ApiKeyScope::Tenant(id), key_id)
        .await?;
    state.auth().clear();
    audit_log(
        &state,
        &p,
        Some(id),
        "api_key.revoke",
        json!({"key": key_id}),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Queue depth by state and the age of the oldest due job.
#[utoipa::path(get, path = "/v1/admin/queue", tag = "admin",
    responses((status = 200, body = Object)), security(("api_key" = [])))]
pub(crate) async fn queue(
    State(state): State<GatewayState>,
    headers: HeaderMap,
) -> Result<Json<QueueStats>, ApiError> {
    admin_of(&state, &headers).await?;
    Ok(Json(state.store().queue_stats(None).await?))
}

/// Dead-lettered jobs, newest first.
#[utoipa::path(get, path = "/v1/admin/dead-jobs", tag = "admin",
    responses((status = 200, body = Vec<Object>)), security(("api_key" = [])))]
pub(crate) async fn dead_jobs(
    State(state): State<GatewayState>,
    headers: HeaderMap,
) -> Result<Json<Vec<Job>>, ApiError> {
    admin_of(&state, &headers).await?;
    Ok(Json(state.store().dead_jobs(None, 200).await?))
}

/// Re-queue a dead or cancelled job with a fresh attempt count.
#[utoipa::path(post, path = "/v1/admin/jobs/{id}/retry", tag = "admin", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("api_key" = [])))]
pub(crate) async fn retry_job(
    State(state): State<GatewayState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let p = admin_of(&state, &headers).await?;
    let id = JobId(parse_id("job", &id)?);
    state.store().retry_job(None, id).await?;
    audit_log(&state, &p, None, "job.retry", json!({"job": id})).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Cancel a ready or dead job.
#[utoipa::path(post, path = "/v1/admin/jobs/{id}/cancel", tag = "admin", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("api_key" = [])))]
pub(crate) async fn cancel_job(
    State(state): State<GatewayState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let p = admin_of(&state, &headers).await?;
    let id = JobId(parse_id("job", &id)?);
    state.store().cancel_job(None, id).await?;
    audit_log(&state, &p, None, "job.cancel", json!({"job": id})).await;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/admin/audit` parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuditQuery {
    /// Only this tenant.
    pub tenant: Option<String>,
    /// At most this many (default 100).
    pub limit: Option<u32>,
}

/// The audit log, newest first.
#[utoipa::path(get, path = "/v1/admin/audit", tag = "admin", params(AuditQuery),
    responses((status = 200, body = Vec<Object>)), security(("api_key" = [])))]
pub(crate) async fn audit(
    State(state): State<GatewayState>,
    headers: HeaderMap,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    admin_of(&state, &headers).await?;
    let tenant = q
        .tenant
        .as_deref()
        .map(|t| parse_id::<TenantId>("tenant", t))
        .transpose()?;
    Ok(Json(
        state
            .store()
            .audit_log(tenant, q.limit.unwrap_or(100))
            .await?,
    ))
}

impl std::fmt::Debug for CreatedApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedApiKey")
            .field("info", &self.info)
            .field("key", &"[redacted]")
            .finish()
    }
}
