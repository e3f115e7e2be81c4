//! The HTTP API: router, extractors and the shared helpers of the handlers.

pub(crate) mod admin;
pub(crate) mod documents;
pub(crate) mod entry;
pub(crate) mod lookup;
pub(crate) mod messages;
pub(crate) mod ops;
pub(crate) mod tenant;

use std::iter::once;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequest, Request};
use axum::http::{HeaderMap, header};
use axum::routing::{get, post};
use bytes::Bytes;
use digitoll_store::TenantId;
use governor::clock::{Clock as _, DefaultClock};
use serde::de::DeserializeOwned;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::TraceLayer;

use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::GatewayState;

/// The gateway's router: `/v1/...`, `/healthz`, `/readyz`, `/metrics`.
pub fn app(state: GatewayState) -> Router {
    let limit = state.config().max_body_bytes;
    let v1 = Router::new()
        .route("/messages", post(messages::submit).get(messages::list))
        .route(
            "/messages/{id}",
            get(messages::get_one)
                .put(messages::update)
                .delete(messages::delete),
        )
        .route("/messages/{id}/tree", get(messages::tree))
        .route("/messages/by-mrn/{mrn}", get(lookup::by_mrn))
        .route("/routing-signals", get(tenant::routing_signals))
        .route(
            "/documents/{declaration_id}",
            post(documents::upload).layer(DefaultBodyLimit::max(documents::MAX_UPLOAD_BODY)),
        )
        .route("/presentations/{kind}", post(entry::present))
        .route(
            "/presentations/validation-status/{request_id}",
            get(entry::presentation_status),
        )
        .route("/arrivals", post(entry::submit_arrival))
        .route(
            "/arrivals/validation-status/{request_id}",
            get(entry::arrival_status),
        )
        .route("/entry-status/{mrn}", get(entry::entry_status))
        .route("/tokens", post(tenant::token))
        .route(
            "/webhooks",
            post(tenant::create_webhook).get(tenant::list_webhooks),
        )
        .route(
            "/webhooks/{id}",
            get(tenant::get_webhook).delete(tenant::delete_webhook),
        )
        .route("/webhooks/{id}/deliveries", get(tenant::webhook_deliveries))
        .route("/openapi.json", get(ops::openapi))
        .nest("/admin", admin::router());
    Router::new()
        .nest("/v1", v1)
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .merge(crate::web::router())
        .fallback(ops::not_found)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::Extension(BodyLimit(limit)))
        .layer(CatchPanicLayer::custom(ops::panic_response))
        .layer(TraceLayer::new_for_http())
        .layer(SetSensitiveRequestHeadersLayer::new(once(
            header::AUTHORIZATION,
        )))
        .with_state(state)
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyLimit(pub(crate) usize);

/// A JSON body parsed with the failing JSON path in errors; any rejection is
/// an [`ApiError`] with the gateway's JSON error body.
#[derive(Debug)]
pub(crate) struct JsonBody<T>(pub(crate) T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| {
                let ct = ct.trim().to_ascii_lowercase();
                ct.starts_with("application/json")
                    || (ct.starts_with("application/") && ct.contains("+json"))
            });
        if !json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let limit = req
            .extensions()
            .get::<BodyLimit>()
            .map_or(2 * 1024 * 1024, |l| l.0);
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge { limit }
            } else {
                ApiError::bad_request("invalid_body", format!("cannot read the body: {e}"), None)
            }
        })?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Parses JSON, naming the path of a type error and the line/column of a syntax error.
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // The common case, a valid body, is parsed once, straight from the text.
    if let Ok(v) = serde_json::from_slice::<T>(bytes) {
        return Ok(v);
    }
    // Explaining an error: syntax first, then types from the parsed value
    // (serde_json reports a wrong type for an enum as a syntax error when
    // reading text directly), with the JSON path of the failing field.
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(
            "invalid_json",
            format!("the body is not valid JSON: {e}"),
            None,
        )
    })?;
    serde_path_to_error::deserialize::<_, T>(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let field = (path != ".").then_some(path);
        let message = match &field {
            Some(f) => format!("{f}: {inner}"),
            None => inner.to_string(),
        };
        ApiError::bad_request("invalid_value", message, field)
    })
}

/// Authenticates the request.
pub(crate) async fn principal(
    state: &GatewayState,
    headers: &HeaderMap,
) -> Result<Principal, ApiError> {
    state.auth().authenticate(headers).await
}

/// Authenticates a tenant key and takes one token of its rate limit.
pub(crate) async fn tenant_of(
    state: &GatewayState,
    headers: &HeaderMap,
) -> Result<TenantId, ApiError> {
    let tenant = principal(state, headers).await?.tenant()?;
    if let Err(not_until) = state.limiter().check_key(&tenant) {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        metrics::counter!("digitoll_gateway_rate_limited_total").increment(1);
        return Err(ApiError::RateLimited(wait));
    }
    Ok(tenant)
}

/// Authenticates an admin key.
pub(crate) async fn admin_of(
    state: &GatewayState,
    headers: &HeaderMap,
) -> Result<Principal, ApiError> {
    let p = principal(state, headers).await?;
    p.admin()?;
    Ok(p)
}

/// Parses a path id; a malformed id is answered like a missing one.
pub(crate) fn parse_id<T: std::str::FromStr>(what: &str, s: &str) -> Result<T, ApiError> {
    s.parse().map_err(|_| ApiError::NotFound(what.to_owned()))
}
