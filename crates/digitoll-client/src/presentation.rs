//! The presentation API (`/api/movement/presentation/v1`, scope
//! `toll:movement/entry`): presenting goods to customs on arrival, for
//! parties Toll does not present for automatically (e.g. ground handlers).
//!
//! Presentation is the one Digitoll write with a **client-supplied**
//! `requestId`, and Toll refuses a second request with the same id (400
//! `requestId already used`). That makes it idempotent, so unlike the
//! movement POSTs a presentation whose response was lost is simply sent again
//! with the same id; see [`PresentationClient::present`].

use std::fmt;
use std::sync::Arc;

use digitoll_model::entry::{Presentation, PresentationKind};
use digitoll_model::responses::{RequestIdResponse, ValidationStatus};
use digitoll_model::{RequestId, validate_presentation};
use reqwest::Method;
use url::Url;

use crate::core::{Body, Core, Failure};
use crate::env::Service;
use crate::error::{Error, Operation};
use crate::service::{
    ApiClientBuilder, BuildClient, Parts, Sealed, check_local, require_success, status_error,
    sync_errors, validation_status, wait_for_validation,
};
use crate::token::TollTokenProvider;

/// How a presentation was confirmed.
#[derive(Debug, Clone, PartialEq)]
pub enum PresentationConfirmation {
    /// `202 {"requestId"}` to the first POST.
    Accepted,
    /// The response to an earlier POST was lost; a re-send with the same
    /// `requestId` was answered 202 (Toll had not received the first one).
    AcceptedOnResend,
    /// Toll answered 400 `requestId already used`: an earlier POST with this
    /// id (whose response was lost, or from an earlier run of the caller)
    /// had arrived. Its validation status, polled to confirm, is here.
    AlreadyPresented(ValidationStatus),
}

/// A presentation Toll has received.
#[derive(Debug, Clone, PartialEq)]
pub struct Presented {
    /// The request id sent (the caller's, or one the client generated).
    /// Poll `validation-status/{request_id}` with it.
    pub request_id: RequestId,
    /// POSTs sent (more than 1 when responses were lost).
    pub attempts: u32,
    /// How Toll's receipt was established.
    pub confirmation: PresentationConfirmation,
}

/// A processed presentation (`status: SUCCESS`).
#[derive(Debug, Clone, PartialEq)]
pub struct PresentationOutcome {
    /// The request id.
    pub request_id: RequestId,
    /// POSTs sent.
    pub attempts: u32,
    /// True when Toll already had the request id (see
    /// [`PresentationConfirmation::AlreadyPresented`]).
    pub already_presented: bool,
    /// Toll's validation result.
    pub validation: ValidationStatus,
}

/// A client of the presentation API. Cheap to clone.
///
/// Every call gets a Toll token with scope `toll:movement/entry`
/// (`toll:eu/movement/entry` for foreign businesses); 401 → one re-exchange,
/// GETs retried as in [`crate::MovementClient`].
#[derive(Clone)]
pub struct PresentationClient {
    parts: Arc<Parts>,
}

impl fmt::Debug for PresentationClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PresentationClient")
            .field("base", &self.parts.base.as_str())
            .field("token_request", &self.parts.core.token_request)
            .finish_non_exhaustive()
    }
}

impl Sealed for PresentationClient {}

impl BuildClient for PresentationClient {
    const SERVICE: Service = Service::Presentation;
    fn from_parts(parts: Parts) -> Self {
        Self {
            parts: Arc::new(parts),
        }
    }
}

impl PresentationClient {
    /// Starts a builder; the host comes from the token provider's environment.
    pub fn builder(tokens: TollTokenProvider) -> ApiClientBuilder<Self> {
        ApiClientBuilder::new(tokens)
    }

    /// A client with defaults.
    ///
    /// # Errors
    /// As [`ApiClientBuilder::build`].
    pub fn new(tokens: TollTokenProvider) -> Result<Self, Error> {
        Self::builder(tokens).build()
    }

    /// The API base URL (`{host}/api/movement/presentation/v1`).
    pub fn base_url(&self) -> &Url {
        &self.parts.base
    }

    /// A fresh request id (UUID v4) for a presentation body.
    pub fn new_request_id() -> RequestId {
        RequestId::from_uuid(uuid::Uuid::new_v4())
    }

    /// `POST /house-consignment`. See [`PresentationClient::present`].
    ///
    /// # Errors
    /// As [`PresentationClient::present`].
    pub async fn present_house(&self, body: &Presentation) -> Result<Presented, Error> {
        self.present(PresentationKind::HouseConsignment, body).await
    }

    /// `POST /master-consignment`. See [`PresentationClient::present`].
    ///
    /// # Errors
    /// As [`PresentationClient::present`].
    pub async fn present_master(&self, body: &Presentation) -> Result<Presented, Error> {
        self.present(PresentationKind::MasterConsignment, body)
            .await
    }

    /// `POST /container`. See [`PresentationClient::present`].
    ///
    /// # Errors
    /// As [`PresentationClient::present`].
    pub async fn present_container(&self, body: &Presentation) -> Result<Presented, Error> {
        self.present(PresentationKind::Container, body).await
    }

    /// `POST /receptacle`. See [`PresentationClient::present`].
    ///
    /// # Errors
    /// As [`PresentationClient::present`].
    pub async fn present_receptacle(&self, body: &Presentation) -> Result<Presented, Error> {
        self.present(PresentationKind::Receptacle, body).await
    }

    /// `POST /entry-summary-declaration` (ICS2 ENS MRN; Toll recommends the
    /// master-consignment endpoint instead, this one will be removed).
    /// See [`PresentationClient::present`].
    ///
    /// # Errors
    /// As [`PresentationClient::present`].
    pub async fn present_entry_summary_declaration(
        &self,
        body: &Presentation,
    ) -> Result<Presented, Error> {
        self.present(PresentationKind::EntrySummaryDeclaration, body)
            .await
    }

    /// `POST /{kind}` with `body`.
    ///
    /// * **requestId**: the body's `requestId` when set (it must be a UUID),
    ///   otherwise a fresh UUID v4; either way [`Presented::request_id`]
    ///   returns it. Keep it to poll, and to re-send after a crash.
    /// * **Lost response** (timeout after sending, connection closed, 502/504):
    ///   the *same* body with the *same* requestId is sent again, up to
    ///   [`crate::RetryConfig::max_attempts`] POSTs with backoff. This is safe
    ///   because Toll refuses a reused requestId.
    /// * **400 `requestId already used`** after such a re-send, or on the first
    ///   POST when the caller supplied the id (a re-run after a crash), means
    ///   Toll already has this presentation: the client polls
    ///   `validation-status/{requestId}` ([`crate::PollConfig`]) and returns
    ///   [`PresentationConfirmation::AlreadyPresented`] with the result. A
    ///   caller that reuses an id for a *different* presentation gets the
    ///   earlier one's status: use a new id per presentation.
    ///
    /// The body is validated locally first (digitoll-model's
    /// `validate_presentation`: office, MRNs, the kind's document
    /// reference), unless [`ApiClientBuilder::validate_before_send`] is off.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a `requestId` that is not a UUID (nothing
    /// sent); [`Error::RequestRejected`] (origin Local: nothing sent; origin
    /// Toll: 400);
    /// [`Error::OutcomeUnknown`] with the request id when every attempt lost
    /// its response; [`Error::RequestPending`] when the already-used id's
    /// status stayed 404 until the poll deadline; auth and transport errors.
    pub async fn present(
        &self,
        kind: PresentationKind,
        body: &Presentation,
    ) -> Result<Presented, Error> {
        let operation = Operation::Presentation(kind);
        let (request_id, caller_supplied) = match body.request_id.as_deref() {
            Some(text) => (
                RequestId::parse(text).map_err(|e| Error::InvalidInput {
                    field: "requestId".into(),
                    reason: format!("{text:?} is not a UUID: {e}"),
                })?,
                true,
            ),
            None => (Self::new_request_id(), false),
        };
        let mut sent = body.clone();
        sent.request_id = Some(request_id.to_string());
        if self.parts.validate {
            check_local(
                operation,
                &validate_presentation(kind, &sent, &self.parts.context()),
            )?;
        }
        let bytes = serde_json::to_vec(&sent).map_err(|e| Error::InvalidInput {
            field: "presentation".into(),
            reason: e.to_string(),
        })?;
        let url = self
            .parts
            .endpoint(&format!("presentation.{}", kind.path_segment()), &[])?;
        let core = &self.parts.core;
        let max_attempts = core.retry.max_attempts.max(1);
        let started = std::time::Instant::now();
        let mut attempt = 0u32;
        let mut lost: Vec<String> = Vec::new();
        loop {
            attempt += 1;
            match core
                .execute(self.parts.label(), Method::POST, &url, Body::Json(&bytes))
                .await
            {
                Ok(r) if r.status.is_success() => {
                    if let Ok(echo) = Core::parse::<RequestIdResponse>(&url, &r)
                        && echo.request_id != request_id
                    {
                        tracing::warn!(sent = %request_id, echoed = %echo.request_id,
                            "presentation: Toll echoed another requestId; keeping the one sent");
                    }
                    return Ok(Presented {
                        request_id,
                        attempts: attempt,
                        confirmation: if lost.is_empty() {
                            PresentationConfirmation::Accepted
                        } else {
                            PresentationConfirmation::AcceptedOnResend
                        },
                    });
                }
                Ok(r)
                    if r.status.as_u16() == 400
                        && (caller_supplied || !lost.is_empty())
                        && sync_errors(&r.body).is_some_and(|e| is_request_id_used(&e)) =>
                {
                    tracing::info!(request_id = %request_id, attempt,
                        "presentation: requestId already used; confirming by validation status");
                    let status = wait_for_validation(&self.parts, operation, &request_id).await?;
                    return Ok(Presented {
                        request_id,
                        attempts: attempt,
                        confirmation: PresentationConfirmation::AlreadyPresented(status),
                    });
                }
                Ok(r) => return Err(status_error(&self.parts, operation, "POST", &url, r)),
                Err(Failure::Error(e)) => return Err(e),
                Err(Failure::Ambiguous(cause)) => {
                    tracing::warn!(request_id = %request_id, attempt, cause,
                        "presentation response lost; re-sending with the same requestId");
                    lost.push(cause);
                    let wait = core.retry.backoff(attempt);
                    if attempt >= max_attempts || started.elapsed() + wait > core.retry.max_elapsed
                    {
                        return Err(Error::OutcomeUnknown {
                            operation,
                            method: "POST",
                            path: url.path().to_owned(),
                            cause: format!(
                                "{attempt} POST(s) with the same requestId lost their response: {}",
                                lost.join("; ")
                            ),
                            request_id: Some(request_id),
                        });
                    }
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// One poll of `GET /validation-status/{requestId}`: `None` while Toll
    /// answers 404 (not processed yet).
    ///
    /// # Errors
    /// Auth errors, [`Error::Transport`], [`Error::InvalidResponse`], …
    pub async fn validation_status(
        &self,
        request_id: &RequestId,
    ) -> Result<Option<ValidationStatus>, Error> {
        validation_status(&self.parts, request_id).await
    }

    /// Polls validation status until processed (as
    /// [`crate::MovementClient::wait_for_validation`]); a FAILURE result is
    /// returned, not an error.
    ///
    /// # Errors
    /// [`Error::RequestPending`] at the deadline; the errors of
    /// [`PresentationClient::validation_status`].
    pub async fn wait_for_validation(
        &self,
        kind: PresentationKind,
        request_id: &RequestId,
    ) -> Result<ValidationStatus, Error> {
        wait_for_validation(&self.parts, Operation::Presentation(kind), request_id).await
    }

    /// Presents and waits for the result: [`PresentationClient::present`],
    /// then polling unless the status is already known.
    ///
    /// # Errors
    /// As [`PresentationClient::present`]; `FAILURE` (e.g. `Document not
    /// found`) gives [`Error::RequestFailed`].
    pub async fn present_and_wait(
        &self,
        kind: PresentationKind,
        body: &Presentation,
    ) -> Result<PresentationOutcome, Error> {
        let presented = self.present(kind, body).await?;
        let operation = Operation::Presentation(kind);
        let (status, already) = match presented.confirmation {
            PresentationConfirmation::AlreadyPresented(s) => (s, true),
            _ => (
                self.wait_for_validation(kind, &presented.request_id)
                    .await?,
                false,
            ),
        };
        let validation = require_success(operation, status)?;
        Ok(PresentationOutcome {
            request_id: presented.request_id,
            attempts: presented.attempts,
            already_presented: already,
            validation,
        })
    }
}

/// Whether Toll's 400 says the requestId was used before.
fn is_request_id_used(errors: &[digitoll_model::responses::SyncValidationError]) -> bool {
    errors
        .iter()
        .any(|e| e.field == "requestId" && e.error.to_ascii_lowercase().contains("already used"))
}
