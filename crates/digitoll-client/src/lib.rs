//! A typed client for Tolletaten's Digitoll APIs: the movement APIs of every
//! mode, presentation, routing, arrival and document upload.
//!
//! * [`TollTokenProvider`] exchanges Maskinporten tokens (from any
//!   [`maskinporten::TokenProvider`]) for Toll tokens at
//!   `/api/access/external/oauth/token`, caches them per Maskinporten identity
//!   and scope, renews them ahead of expiry ([`renew_margin`]) with one
//!   exchange per key, and retries a rejected exchange once with a fresh
//!   Maskinporten token.
//! * [`MovementClient`] (alias [`RoadClient`]) submits transport, master and
//!   house messages (typed or raw JSON) to the road, air, rail or maritime
//!   API, validates them locally with digitoll-model's rules for that mode
//!   first, polls validation status, and wraps every query endpoint. The
//!   mode-specific parts (base paths, scope, rule set) live in [`TransportMode`] (the model's).
//! * [`PresentationClient`] presents goods (house, master, container,
//!   receptacle, ENS) with a client-supplied `requestId`, re-sending with the
//!   same id when a response is lost ([`PresentationClient::present`]).
//! * [`RoutingClient`] reads the routing feeds; [`RoutingFollower`] follows
//!   one from a persisted cursor ([`CursorStore`]: [`MemoryCursorStore`],
//!   [`FileCursorStore`]) with at-least-once delivery; [`LatestSignals`]
//!   keeps the newest signal per document.
//! * [`ArrivalClient`] reports arrivals at unmanned crossings and reads entry
//!   status for any mode.
//! * [`DocumentClient`] uploads documents to a TVINN declaration after
//!   checking id, size and content type, streaming the file with progress.
//! * Retries only where safe: GETs on network errors, 5xx and 429; writes only
//!   when the connection could not be opened (and presentations, which are
//!   idempotent by `requestId`). A movement POST whose response is lost is
//!   reconciled by a lookup instead of being re-posted (see
//!   [`MovementClient::submit_master`]); other lost writes give
//!   [`Error::Ambiguous`] / [`Error::OutcomeUnknown`].
//! * Every request has a `toll_request` tracing span (api, method, path,
//!   status, duration) and the metrics `toll_requests_total{api,status}` and
//!   `toll_request_duration_seconds{api}`. Tokens and bodies are never logged.
//!
//! The library keeps no state of its own beyond the token cache: the only
//! storage it offers is the routing cursor, through [`CursorStore`].
//!
//! ```no_run
//! use std::sync::Arc;
//! use digitoll_client::{DocumentKind, RoadClient, TollEnvironment, TollTokenProvider};
//! use maskinporten::{Environment, MaskinportenClient, RsaKey, RsaSigner};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let key = RsaKey::from_pem_file("key.pem", None)?;
//! let maskinporten = MaskinportenClient::builder(
//!     Environment::Test,
//!     "my-client-id",
//!     Arc::new(RsaSigner::with_kid(key, "my-kid")),
//! )
//! .build_with_discovery()
//! .await?;
//! let tokens = TollTokenProvider::new(Arc::new(maskinporten), TollEnvironment::Test);
//! let road = RoadClient::road(tokens)?;
//! road.test_auth().await?;
//!
//! let master: serde_json::Value = serde_json::from_str(&std::fs::read_to_string("master.json")?)?;
//! match road.submit_and_wait_raw(DocumentKind::MasterConsignment, &master).await {
//!     Ok(done) => println!("MRN {} (incomplete: {:?})", done.mrn, done.incomplete),
//!     Err(digitoll_client::Error::Rejected { errors, origin, .. }) => {
//!         for e in errors {
//!             eprintln!("{origin}: {}: {}", e.field, e.error);
//!         }
//!     }
//!     Err(e) => return Err(e.into()),
//! }
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod arrival;
mod config;
mod core;
mod documents;
mod env;
mod error;
mod http;
mod movement;
mod presentation;
mod routing;
mod service;
mod token;
mod types;

pub use arrival::ArrivalClient;
pub use config::{PollConfig, ReconcileConfig, RetryConfig};
pub use digitoll_model::TransportMode;
pub use documents::{DocumentClient, Progress, UploadFile, UploadedDocument};
pub use env::{Service, TollEnvironment, mode_scope};
pub use error::{
    AmbiguousContext, AuthStage, DocumentKey, Error, OAuthErrorBody, Operation, Origin, UploadError,
};
pub use http::metric_names;
pub use movement::{MovementClient, MovementClientBuilder, RoadClient};
pub use presentation::{
    PresentationClient, PresentationConfirmation, PresentationOutcome, Presented,
};
pub use routing::{
    CursorStore, FileCursorStore, FollowError, FollowSummary, LatestSignals, MemoryCursorStore,
    RoutingClient, RoutingFeed, RoutingFollower, StoreFuture,
};
pub use service::{ApiClientBuilder, BuildClient};
pub use token::{TollToken, TollTokenProvider, TollTokenProviderBuilder, renew_margin};
pub use types::{Completed, Confirmation, DocumentKind, DocumentLookup, Submission};
