//! The multi-tenant Digitoll gateway.
//!
//! One process serves many customer organisations (tenants). Each has its own
//! Maskinporten client and key (a gateway-generated key pair or an imported
//! business certificate, sealed in the store), its own API keys, messages,
//! webhooks and rate limit. The crate offers:
//!
//! * [`app`]: the axum router (`/v1/...`, `/healthz`, `/readyz`, `/metrics`);
//! * [`run_workers`]: the outbox workers (submit, validation-status polling,
//!   webhook delivery), stopped gracefully through a `watch` channel;
//! * [`keys`]: key preparation shared by the admin API and the CLI;
//! * [`webhook::sign`] / [`webhook::verify`]: the webhook signature scheme;
//! * [`openapi_json`]: the OpenAPI 3.1 document (committed as `openapi.json`).
//!
//! ```no_run
//! # async fn demo(store: digitoll_store::Store) -> std::io::Result<()> {
//! use digitoll_gateway::{GatewayConfig, GatewayState, app, run_workers};
//! let state = GatewayState::new(store, GatewayConfig::default(), None);
//! let (stop, stopped) = tokio::sync::watch::channel(false);
//! let workers = tokio::spawn(run_workers(state.clone(), stopped));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app(state))
//!     .with_graceful_shutdown(async { let _ = tokio::signal::ctrl_c().await; })
//!     .await?;
//! let _ = stop.send(true);
//! let _ = workers.await;
//! # Ok(()) }
//! ```
//!
//! The library reads no environment variables and prints nothing; the CLI
//! (`digitoll serve`) turns flags into a [`GatewayConfig`].

#![warn(missing_docs)]

mod api;
mod auth;
mod error;
pub mod keys;
mod message;
mod routing_worker;
mod runtime;
mod state;
mod ttl;
pub mod validation;
pub mod web;
pub mod webhook;
mod worker;

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use utoipa::OpenApi;

pub use api::admin::{
    CreateApiKey, CreateTenant, CreatedApiKey, KeySpec, RotateKey, TenantCreated, UpdateTenant,
};
pub use api::app;
pub use api::documents::{UploadMetadata, UploadedDocumentView};
pub use api::entry::EntryRequestView;
pub use api::messages::{IDEMPOTENCY_HEADER, MessagePage, MessageView, SubmitRequest};
pub use api::tenant::{
    CreateWebhook, CreatedWebhook, TokenBrokerRequest, TokenBrokerResponse, TokenKind,
};
pub use auth::{Authenticator, Principal, TenantFacts};
pub use error::{ApiError, ErrorBody, ErrorDetail};
pub use message::{ApiKind, ApiMode};
pub use runtime::{RuntimeError, RuntimeOptions, Runtimes, TenantRuntime};
pub use state::{GatewayConfig, GatewayState};
pub use worker::{WorkerConfig, run_workers};

/// Installs the process-wide Prometheus recorder once and returns its handle
/// (later calls return the same handle). Metrics recorded by this crate, the
/// client (`toll_requests_total`, `toll_request_duration_seconds`) and the
/// Maskinporten client (`maskinporten_token_cache_*`) all land there.
pub fn prometheus() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed; /metrics will be empty");
            }
            handle
        })
        .clone()
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "digitoll gateway",
        description = "Multi-tenant gateway to Tolletaten's Digitoll APIs: submit messages, follow them to an MRN, get tokens, receive signed webhooks.",
        license(name = "MIT OR Apache-2.0")
    ),
    paths(
        api::messages::submit, api::messages::list, api::messages::get_one,
        api::messages::update, api::messages::delete, api::messages::tree,
        api::lookup::by_mrn,
        api::tenant::token, api::tenant::routing_signals,
        api::documents::upload,
        api::entry::present, api::entry::presentation_status,
        api::entry::submit_arrival, api::entry::arrival_status, api::entry::entry_status,
        api::tenant::create_webhook, api::tenant::list_webhooks, api::tenant::get_webhook,
        api::tenant::delete_webhook, api::tenant::webhook_deliveries,
        api::admin::create_tenant, api::admin::list_tenants, api::admin::get_tenant,
        api::admin::update_tenant, api::admin::remove_tenant, api::admin::rotate_key,
        api::admin::create_api_key, api::admin::list_api_keys, api::admin::revoke_api_key,
        api::admin::queue, api::admin::dead_jobs, api::admin::retry_job, api::admin::cancel_job,
        api::admin::audit,
        api::ops::healthz, api::ops::readyz, api::ops::metrics,
    ),
    components(schemas(
        ErrorBody, ErrorDetail, SubmitRequest, MessageView, MessagePage, ApiMode, ApiKind,
        TokenBrokerRequest, TokenBrokerResponse, TokenKind,
        api::tenant::CreateWebhook, api::tenant::CreatedWebhook,
        api::documents::UploadMetadata, api::documents::UploadedDocumentView,
        api::entry::EntryRequestView,
        api::admin::CreateTenant, api::admin::KeySpec, api::admin::TenantCreated,
        api::admin::UpdateTenant, api::admin::RotateKey, api::admin::CreateApiKey,
        api::admin::CreatedApiKey,
    )),
    modifiers(&SecurityAddon),
    tags(
        (name = "messages", description = "Submit Toll messages and follow them to an MRN"),
        (name = "tokens", description = "Token broker"),
        (name = "webhooks", description = "Signed event delivery"),
        (name = "routing", description = "Routing signals"),
        (name = "documents", description = "Document upload to a goods declaration"),
        (name = "entry", description = "Goods presentation, arrival and entry status at the border"),
        (name = "admin", description = "Operator API (admin keys)"),
        (name = "ops", description = "Health and metrics"),
    )
)]
struct ApiDoc;

struct SecurityAddon;

impl utoipa::Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("dtk_…")
                    .description(Some("A tenant API key (or an admin key for /v1/admin)"))
                    .build(),
            ),
        );
    }
}

/// The OpenAPI 3.1 document, pretty-printed with a trailing newline, as
/// served at `/v1/openapi.json` and committed as `openapi.json`.
pub fn openapi_json() -> String {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    let mut s = doc
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}
