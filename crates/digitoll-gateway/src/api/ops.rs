//! Operational routes: health, readiness, metrics, OpenAPI, fallbacks.

use std::any::Any;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::GatewayState;

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, description = "ok")))]
pub(crate) async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the store answers and the gateway is not shutting down.
#[utoipa::path(get, path = "/readyz", tag = "ops",
    responses((status = 200, description = "ready"), (status = 503, description = "store unreachable or draining")))]
pub(crate) async fn readyz(State(state): State<GatewayState>) -> Result<&'static str, ApiError> {
    if state.is_draining() {
        return Err(ApiError::Unavailable("shutting down".into()));
    }
    match tokio::time::timeout(
        std::time::Duration::from_secs(3),
        state.store().queue_stats(None),
    )
    .await
    {
        Ok(Ok(_)) => Ok("ready"),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: store check failed");
            Err(ApiError::Unavailable("the store is unreachable".into()))
        }
        Err(_) => Err(ApiError::Unavailable(
            "the store did not answer in 3 s".into(),
        )),
    }
}

/// Prometheus metrics (text format). Queue gauges are refreshed at each scrape.
#[utoipa::path(get, path = "/metrics", tag = "ops", responses((status = 200, description = "Prometheus text format")))]
pub(crate) async fn metrics(State(state): State<GatewayState>) -> Response {
    let Some(handle) = state.metrics() else {
        return ApiError::NotFound("metrics".into()).into_response();
    };
    if let Ok(stats) = state.store().queue_stats(None).await {
        for (st, n) in [
            ("ready", stats.ready),
            ("due", stats.due),
            ("leased", stats.leased),
            ("done", stats.done),
            ("dead", stats.dead),
            ("cancelled", stats.cancelled),
        ] {
            metrics::gauge!("digitoll_gateway_queue_jobs", "state" => st).set(n as f64);
        }
        metrics::gauge!("digitoll_gateway_queue_oldest_due_seconds")
            .set(stats.oldest_due_age.map_or(0.0, |d| d.as_secs_f64()));
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle.render(),
    )
        .into_response()
}

/// The OpenAPI 3.1 document of this API.
pub(crate) async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::openapi_json(),
    )
        .into_response()
}

pub(crate) async fn not_found() -> ApiError {
    ApiError::NotFound("route".into())
}

pub(crate) fn panic_response(_err: Box<dyn Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(serde_json::json!({"error": {"code": "internal", "message": "internal error"}})),
    )
        .into_response()
}
