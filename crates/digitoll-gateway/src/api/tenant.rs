//! Tenant routes beside messages: the token broker, webhooks, routing signals.

use axum::Json;
use axum::extract::{FromRequest as _, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use digitoll_store::{RoutingSignal, Webhook, WebhookDelivery, WebhookId};
use maskinporten::TokenRequest;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{JsonBody, parse_id, tenant_of};
use crate::error::{ApiError, ErrorBody};
use crate::state::GatewayState;
use crate::webhook::EVENTS;

/// Which token the broker hands out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    /// A Toll token (Maskinporten token exchanged at Toll).
    Toll,
    /// The Maskinporten access token itself.
    Maskinporten,
}

/// `POST /v1/tokens`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenBrokerRequest {
    /// One of the tenant's scopes, e.g. `toll:movement/road/v2`.
    pub scope: String,
    /// `toll` (default) or `maskinporten`.
    #[serde(default = "default_kind")]
    pub kind: TokenKind,
}

fn default_kind() -> TokenKind {
    TokenKind::Toll
}

/// A ready token for the tenant's own systems.
#[derive(Serialize, ToSchema)]
pub struct TokenBrokerResponse {
    /// The bearer token.
    pub access_token: String,
    /// `Bearer`.
    pub token_type: String,
    /// Seconds until it expires.
    pub expires_in: u64,
    /// The scope it carries.
    pub scope: String,
    /// toll or maskinporten.
    pub kind: TokenKind,
}

impl std::fmt::Debug for TokenBrokerResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenBrokerResponse")
            .field("access_token", &"[redacted]")
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// A ready Toll or Maskinporten token for one of the tenant's scopes, from
/// the same cache the gateway's workers use.
#[utoipa::path(
    post, path = "/v1/tokens", tag = "tokens",
    request_body = TokenBrokerRequest,
    responses((status = 200, body = TokenBrokerResponse),
              (status = 403, description = "Not one of the tenant's scopes", body = ErrorBody),
              (status = 502, description = "Maskinporten or Toll failed", body = ErrorBody)),
    security(("api_key" = []))
)]
pub(crate) async fn token(
    State(state): State<GatewayState>,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    // The hot path of the broker: the request's own headers are read in
    // place (a `HeaderMap` extractor would copy them).
    let (parts, body) = request.into_parts();
    let tenant = tenant_of(&state, &parts.headers).await?;
    let request = axum::extract::Request::from_parts(parts, body);
    let JsonBody(req) = JsonBody::<TokenBrokerRequest>::from_request(request, &state).await?;
    let rt = state.runtimes().get(tenant).await?;
    if !rt.tenant.scopes.iter().any(|s| s == &req.scope) {
        return Err(ApiError::Forbidden(format!(
            "scope '{}' is not one of the tenant's scopes",
            req.scope
        )));
    }
    let request = TokenRequest::for_scopes([req.scope.as_str()])
        .map_err(|e| ApiError::bad_request("invalid_value", e.to_string(), Some("scope".into())))?;
    let started = std::time::Instant::now();
    let body = match req.kind {
        TokenKind::Maskinporten => {
            let t = rt.maskinporten.token(&request).await.map_err(|e| {
                ApiError::Upstream(format!(
                    "Maskinporten: {}{}",
                    e.metric_code(),
                    e.mp_code()
                        .and_then(|c| c.hint())
                        .map(|h| format!(" ({h})"))
                        .unwrap_or_default()
                ))
            })?;
            let remaining = (t.expires_at() - time::OffsetDateTime::now_utc()).whole_seconds();
            TokenBrokerResponse {
                access_token: t.secret().to_owned(),
                token_type: t.token_type().to_owned(),
                expires_in: remaining.max(0) as u64,
                scope: req.scope.clone(),
                kind: req.kind,
            }
        }
        TokenKind::Toll => {
            let t = rt.toll.token(&request).await.map_err(|e| {
                ApiError::Upstream(match e.mp_code() {
                    Some(code) => format!(
                        "Maskinporten {}{}",
                        code.as_str(),
                        code.hint().map(|h| format!(": {h}")).unwrap_or_default()
                    ),
                    None => format!("Toll token exchange: {}", e.label()),
                })
            })?;
            let remaining = t
                .expires_at()
                .saturating_duration_since(std::time::Instant::now())
                .as_secs();
            TokenBrokerResponse {
                access_token: t.secret().to_owned(),
                token_type: t.token_type().to_owned(),
                expires_in: remaining,
                scope: req.scope.clone(),
                kind: req.kind,
            }
        }
    };
    metrics::histogram!("digitoll_gateway_token_broker_seconds", "kind" => match req.kind { TokenKind::Toll => "toll", TokenKind::Maskinporten => "maskinporten" })
        .record(started.elapsed().as_secs_f64());
    let mut resp = Json(body).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// `POST /v1/webhooks`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// Where to POST events (http or https).
    pub url: String,
    /// Events to receive; empty or `*` for all. Known: message.accepted,
    /// message.rejected, message.failed, message.dead, message.needs_attention.
    #[serde(default)]
    pub events: Vec<String>,
}

/// A new subscription with its signing secret (shown once).
#[derive(Serialize, ToSchema)]
pub struct CreatedWebhook {
    /// The subscription.
    #[schema(value_type = Object)]
    pub webhook: Webhook,
    /// The HMAC-SHA256 secret for `Digitoll-Signature`; store it now, it is never shown again.
    pub secret: String,
}

/// Subscribe to message events.
#[utoipa::path(
    post, path = "/v1/webhooks", tag = "webhooks",
    request_body = CreateWebhook,
    responses((status = 201, body = CreatedWebhook), (status = 400, body = ErrorBody)),
    security(("api_key" = []))
)]
pub(crate) async fn create_webhook(
    State(state): State<GatewayState>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<CreateWebhook>,
) -> Result<Response, ApiError> {
    let tenant = tenant_of(&state, &headers).await?;
    if let Some(bad) = req
        .events
        .iter()
        .find(|e| e.as_str() != "*" && !EVENTS.contains(&e.as_str()))
    {
        return Err(ApiError::bad_request(
            "invalid_value",
            format!("unknown event '{bad}'; known: *, {}", EVENTS.join(", ")),
            Some("events".into()),
        ));
    }
    let (webhook, secret) = state
        .store()
        .create_webhook(tenant, &req.url, &req.events)
        .await?;
    let body = CreatedWebhook {
        webhook,
        secret: secret.expose_secret().to_owned(),
    };
    let mut resp = (StatusCode::CREATED, Json(body)).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// The tenant's webhook subscriptions.
#[utoipa::path(
    get, path = "/v1/webhooks", tag = "webhooks",
    responses((status = 200, body = Vec<Object>)),
    security(("api_key" = []))
)]
pub(crate) async fn list_webhooks(
    State(state): State<GatewayState>,
    headers: HeaderMap,
) -> Result<Json<Vec<Webhook>>, ApiError> {
    let tenant = tenant_of(&state, &headers).await?;
    Ok(Json(state.store().webhooks(tenant).await?))
}

async fn find_webhook(
    state: &GatewayState,
    tenant: digitoll_store::TenantId,
    id: &str,
) -> Result<Webhook, ApiError> {
    let id: WebhookId = parse_id("webhook", id)?;
    state
        .store()
        .webhooks(tenant)
        .await?
        .into_iter()
        .find(|w| w.id == id)
        .ok_or_else(|| ApiError::NotFound("webhook".into()))
}

/// One subscription.
#[utoipa::path(
    get, path = "/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)),
    security(("api_key" = []))
)]
pub(crate) async fn get_webhook(
    State(state): State<GatewayState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Webhook>, ApiError> {
    let tenant = tenant_of(&state, &headers).await?;
    Ok(Json(find_webhook(&state, tenant, &id).await?))
}

/// Delete a subscription and its delivery log.
#[utoipa::path(
    delete, path = "/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)),
    security(("api_key" = []))
)]
pub(crate) async fn delete_webhook(
    State(state): State<GatewayState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let tenant = tenant_of(&state, &headers).await?;
    let id: WebhookId = parse_id("webhook", &id)?;
    state.store().delete_webhook(tenant, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A subscription's delivery log, newest first.
#[utoipa::path(
    get, path = "/v1/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = String, Path)),
    responses((status = 200, body = Vec<Object>), (status = 404, body = ErrorBody)),
    security(("api_key" = []))
)]
pub(crate) async fn webhook_deliveries(
    State(state): State<GatewayState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Vec<WebhookDelivery>>, ApiError> {
    let tenant = tenant_of(&state, &headers).await?;
    let hook = find_webhook(&state, tenant, &id).await?;
    Ok(Json(
        state
            .store()
            .webhook_deliveries(tenant, hook.id, 200)
            .await?,
    ))
}

/// Filters of `GET /v1/routing-signals`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SignalQuery {
    /// Only signals about this reference (house or transport).
    pub reference: Option<String>,
    /// At most this many (default 100, max 1000).
    pub limit: Option<u32>,
}

/// Routing signals Toll sent about the tenant's consignments, newest first.
#[utoipa::path(
    get, path = "/v1/routing-signals", tag = "routing",
    params(SignalQuery),
    responses((status = 200, body = Vec<Object>)),
    security(("api_key" = []))
)]
pub(crate) async fn routing_signals(
    State(state): State<GatewayState>,
    headers: HeaderMap,
    Query(q): Query<SignalQuery>,
) -> Result<Json<Vec<RoutingSignal>>, ApiError> {
    let tenant = tenant_of(&state, &headers).await?;
    Ok(Json(
        state
            .store()
            .routing_signals(tenant, q.reference.as_deref(), q.limit.unwrap_or(100))
            .await?,
    ))
}

impl std::fmt::Debug for CreatedWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedWebhook")
            .field("webhook", &self.webhook)
            .field("secret", &"[redacted]")
            .finish()
    }
}
