//! The arrival API (`/api/movement/arrival/v1`): reporting a transport's
//! arrival at an unmanned border crossing (needs a permit from Toll), and
//! the entry status that follows, for any mode.

use std::fmt;
use std::sync::Arc;

use digitoll_model::entry::ArrivalRequest;
use digitoll_model::responses::{EntryStatus, RequestIdResponse, ValidationStatus};
use digitoll_model::{Mrn, RequestId, TransportMode, validate_arrival};
use reqwest::Method;
use url::Url;

use crate::core::{Body, Core, Failure};
use crate::env::Service;
use crate::error::{Error, Operation};
use crate::service::{
    ApiClientBuilder, BuildClient, Parts, Sealed, check_local, poll_until, require_success,
    status_error, validation_status, wait_for_validation,
};
use crate::token::TollTokenProvider;

/// A client of the arrival API, with entry status for every mode. Cheap to clone.
///
/// Toll does not document the arrival API's scope; the client requests the
/// road scope `toll:movement/road/v2` \[I\]. Entry status is on each mode's
/// query API (`/api/movement/{mode}/status/…/entry/status/{mrn}`) and uses
/// that mode's scope ([`crate::mode_scope`]).
#[derive(Clone)]
pub struct ArrivalClient {
    parts: Arc<Parts>,
}

impl fmt::Debug for ArrivalClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArrivalClient")
            .field("base", &self.parts.base.as_str())
            .field("token_request", &self.parts.core.token_request)
            .finish_non_exhaustive()
    }
}

impl Sealed for ArrivalClient {}

impl BuildClient for ArrivalClient {
    const SERVICE: Service = Service::Arrival;
    fn from_parts(parts: Parts) -> Self {
        Self {
            parts: Arc::new(parts),
        }
    }
}

impl ArrivalClient {
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

    /// The API base URL (`{host}/api/movement/arrival/v1`).
    pub fn base_url(&self) -> &Url {
        &self.parts.base
    }

    /// `POST /arrival` with `{"transportMRN","timeOfArrival","customsOfficeOfArrival"}`,
    /// validated locally first (digitoll-model's `validate_arrival`: MRN
    /// format, time present, CL141 office; unless
    /// [`ApiClientBuilder::validate_before_send`] is off). Returns Toll's
    /// request id.
    ///
    /// An arrival has no client-supplied id and no documented lookup, so a
    /// lost response is not re-sent: [`Error::OutcomeUnknown`]. Check
    /// [`ArrivalClient::entry_status`] of the transport to see whether it was
    /// processed.
    ///
    /// # Errors
    /// [`Error::RequestRejected`] (origin Local: nothing sent, also for
    /// errors Toll would report as FAILURE, e.g. an unknown office; origin
    /// Toll: 400), [`Error::OutcomeUnknown`], auth and transport errors.
    pub async fn submit(&self, arrival: &ArrivalRequest) -> Result<RequestId, Error> {
        if self.parts.validate {
            check_local(
                Operation::Arrival,
                &validate_arrival(arrival, &self.parts.context()),
            )?;
        }
        let bytes = serde_json::to_vec(arrival).map_err(|e| Error::InvalidInput {
            field: "arrival".into(),
            reason: e.to_string(),
        })?;
        let url = self.parts.endpoint("arrival.create", &[])?;
        match self
            .parts
            .core
            .execute(self.parts.label(), Method::POST, &url, Body::Json(&bytes))
            .await
        {
            Ok(r) if r.status.is_success() => {
                Ok(Core::parse::<RequestIdResponse>(&url, &r)?.request_id)
            }
            Ok(r) => Err(status_error(
                &self.parts,
                Operation::Arrival,
                "POST",
                &url,
                r,
            )),
            Err(Failure::Error(e)) => Err(e),
            Err(Failure::Ambiguous(cause)) => Err(Error::OutcomeUnknown {
                operation: Operation::Arrival,
                method: "POST",
                path: url.path().to_owned(),
                cause: format!(
                    "{cause}; not re-sent (check the transport's entry status to see whether it was processed)"
                ),
                request_id: None,
            }),
        }
    }

    /// One poll of `GET /validation-status/{requestId}`: `None` while 404.
    ///
    /// # Errors
    /// Auth errors, [`Error::Transport`], [`Error::InvalidResponse`], …
    pub async fn validation_status(
        &self,
        request_id: &RequestId,
    ) -> Result<Option<ValidationStatus>, Error> {
        validation_status(&self.parts, request_id).await
    }

    /// Polls validation status until processed; a FAILURE result is returned,
    /// not an error.
    ///
    /// # Errors
    /// [`Error::RequestPending`] at the deadline; the errors of
    /// [`ArrivalClient::validation_status`].
    pub async fn wait_for_validation(
        &self,
        request_id: &RequestId,
    ) -> Result<ValidationStatus, Error> {
        wait_for_validation(&self.parts, Operation::Arrival, request_id).await
    }

    /// Submits an arrival and waits until Toll processed it.
    ///
    /// # Errors
    /// As [`ArrivalClient::submit`] and [`ArrivalClient::wait_for_validation`];
    /// `FAILURE` (e.g. an unknown transport) gives [`Error::RequestFailed`].
    pub async fn submit_and_wait(
        &self,
        arrival: &ArrivalRequest,
    ) -> Result<ValidationStatus, Error> {
        let request_id = self.submit(arrival).await?;
        let status = self.wait_for_validation(&request_id).await?;
        require_success(Operation::Arrival, status)
    }

    /// `GET /api/movement/arrival/v1/entry/status/{mrn}` (endpoint
    /// `arrival.entry-status`: the arrival API is "designed for all modes"
    /// and documents entry status, `beskrivelse-av-ankomst-api-EN.html`),
    /// with `mode`'s scope (the arrival scope is undocumented [I]):
    /// `validEntry=true` means the goods may be unloaded; `false` means
    /// contact Toll first.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown MRN; auth and transport errors.
    pub async fn entry_status(&self, mode: TransportMode, mrn: &Mrn) -> Result<EntryStatus, Error> {
        let token_request = self.parts.mode_request(mode)?;
        let url = self.entry_status_url(mrn)?;
        let core = &self.parts.core;
        let r = core
            .get_as(&token_request, crate::env::query_label(mode), &url)
            .await?;
        if r.status.is_success() {
            Core::parse(&url, &r)
        } else {
            Err(core.status_error_as(&token_request, "GET", &url, r))
        }
    }

    /// Polls [`ArrivalClient::entry_status`] (with [`crate::PollConfig`])
    /// until `validEntry` is true, treating 404 as not yet known; returns the
    /// last status seen at the deadline (which may say `validEntry=false`).
    ///
    /// # Errors
    /// As [`ArrivalClient::entry_status`], except 404 before the deadline;
    /// [`Error::NotFound`] if it is still 404 at the deadline.
    pub async fn wait_for_entry(
        &self,
        mode: TransportMode,
        mrn: &Mrn,
    ) -> Result<EntryStatus, Error> {
        let last: std::sync::Mutex<Option<EntryStatus>> = std::sync::Mutex::new(None);
        let done = poll_until(self.parts.poll, || async {
            match self.entry_status(mode, mrn).await {
                Ok(s) if s.valid_entry => Ok(Some(s)),
                Ok(s) => {
                    if let Ok(mut l) = last.lock() {
                        *l = Some(s);
                    }
                    Ok(None)
                }
                Err(Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(e),
            }
        })
        .await?;
        match done {
            Ok(s) => Ok(s),
            Err(_) => last
                .into_inner()
                .ok()
                .flatten()
                .ok_or_else(|| Error::NotFound {
                    url: self
                        .entry_status_url(mrn)
                        .map_or_else(|e| e.to_string(), |u| u.to_string()),
                }),
        }
    }

    fn entry_status_url(&self, mrn: &Mrn) -> Result<Url, Error> {
        self.parts
            .endpoint("arrival.entry-status", &[("mrn", mrn.as_str())])
    }
}
