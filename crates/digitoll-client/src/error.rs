//! Typed errors. Each variant says what went wrong and where (URL path,
//! field path or JSON pointer); none carries a token.

use std::fmt;
use std::time::Duration;

use digitoll_model::responses::{AsyncValidationError, SyncValidationError};
use digitoll_model::{MessageKind, Mrn, RequestId};

/// Who found a validation problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// digitoll-model's local rules, before anything was sent.
    Local,
    /// Toll's answer.
    Toll,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Local => "local validation",
            Self::Toll => "Toll",
        })
    }
}

/// Where a 401 came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthStage {
    /// The token exchange rejected the Maskinporten token (after one retry
    /// with a fresh Maskinporten token).
    Exchange,
    /// An API rejected the Toll token (after one re-exchange).
    Api,
}

/// An OAuth-style error body (`{"error","error_description"}`) as Toll's
/// token exchange and APIs send it on 401/403.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct OAuthErrorBody {
    /// E.g. `invalid_token`, `insufficient_scope`.
    pub error: String,
    /// Human-readable explanation.
    #[serde(default)]
    pub error_description: Option<String>,
}

impl OAuthErrorBody {
    pub(crate) fn parse(body: &[u8]) -> Option<Self> {
        serde_json::from_slice(body).ok()
    }
}

/// A document key as Toll's lookup API takes it: waybill number, CL754 type
/// and the carrier's identification number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DocumentKey {
    /// Waybill number (`documentNumber`).
    pub document_number: String,
    /// CL754 type (`type`), e.g. `N730`.
    pub doc_type: String,
    /// Carrier identification number (`carrierId`).
    pub carrier_id: String,
}

impl fmt::Display for DocumentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} (carrier {})",
            self.doc_type, self.document_number, self.carrier_id
        )
    }
}

/// What is known after a submission whose outcome is unknown: the request
/// may or may not have been processed by Toll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmbiguousContext {
    /// Which message.
    pub kind: MessageKind,
    /// `POST`, `PUT` or `DELETE`.
    pub method: &'static str,
    /// The URL path called.
    pub path: String,
    /// The transport failure (timeout, connection closed, gateway error).
    pub cause: String,
    /// The lookup key of a master or house, when the message has one.
    pub document: Option<DocumentKey>,
    /// Transport only: the licence plate (`activeBorderTransportMeans.identificationNumber`).
    pub transport_means: Option<String>,
    /// Transport only: `scheduledDateAndTimeOfArrival` as sent.
    pub scheduled_arrival: Option<String>,
    /// PUT/DELETE: the MRN addressed.
    pub mrn: Option<Mrn>,
    /// Why reconciliation could not decide (e.g. the lookup itself failed),
    /// when it was tried.
    pub reconciliation: Option<String>,
}

/// Everything that can go wrong talking to Toll.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Invalid client configuration.
    #[error("invalid configuration: {0}")]
    Config(String),

    /// Synchronous validation errors: Toll's `400 {"validationErrors"}`, or
    /// the same list from local validation (nothing was sent then).
    #[error("{kind:?} rejected by {origin}: {}", fmt_sync(.errors))]
    Rejected {
        /// Local or Toll.
        origin: Origin,
        /// Which message.
        kind: MessageKind,
        /// The errors, each with its field path.
        errors: Vec<SyncValidationError>,
    },

    /// Asynchronous validation failed (`status: FAILURE`), or local
    /// validation found the same business errors (nothing was sent then).
    #[error("{kind:?} failed validation by {origin}{}: {}", fmt_rid(.request_id), fmt_async(.errors))]
    Failed {
        /// Local or Toll.
        origin: Origin,
        /// Which message.
        kind: MessageKind,
        /// The submission's request id (Toll only).
        request_id: Option<RequestId>,
        /// The errors, each with its `messageElementPath`.
        errors: Vec<AsyncValidationError>,
    },

    /// Getting the Maskinporten token failed. The inner error carries the MP
    /// code and a fix hint when Maskinporten sent one.
    #[error("Maskinporten token for the Toll exchange: {0}")]
    Maskinporten(#[source] maskinporten::Error),

    /// 401: the token exchange rejected the Maskinporten token, or an API
    /// rejected the Toll token, also after the one automatic retry.
    #[error("{url} answered 401 ({stage:?}){}", fmt_oauth(.body))]
    Unauthorized {
        /// Exchange or API.
        stage: AuthStage,
        /// The URL called (no query).
        url: String,
        /// The error body, when it was an OAuth error body.
        body: Option<OAuthErrorBody>,
    },

    /// 403: the Toll token lacks the API's scope (Toll grants scopes per
    /// organisation; ask Toll, then Maskinporten, for it).
    #[error("{url} answered 403{}; the token was requested with scope {scope}", fmt_oauth(.body))]
    Forbidden {
        /// The URL called.
        url: String,
        /// The scope the client requested.
        scope: String,
        /// The error body, when it was an OAuth error body.
        body: Option<OAuthErrorBody>,
    },

    /// 404 from an endpoint where that means "no such MRN / document".
    #[error("not found: {url}")]
    NotFound {
        /// The URL called.
        url: String,
    },

    /// Validation was still pending (404) at the polling deadline. Keep
    /// polling with `request_id`.
    #[error("{kind:?} validation of request {request_id} still pending after {waited:?}")]
    ValidationPending {
        /// Which message.
        kind: MessageKind,
        /// Poll `validation-status/{request_id}` with this.
        request_id: RequestId,
        /// How long the client polled.
        waited: Duration,
    },

    /// A submission's outcome is unknown (the response was lost) and could
    /// not be reconciled safely. Nothing was re-sent; the caller decides.
    #[error("outcome of {} {} unknown ({:?}): {}{}", .0.method, .0.path, .0.kind, .0.cause, fmt_recon(&.0.reconciliation))]
    Ambiguous(Box<AmbiguousContext>),

    /// A network failure (connect, TLS, timeout) on a request that is safe to
    /// report as such: a GET after its retries, or a request never sent.
    #[error("{method} {url} failed: {message}")]
    Transport {
        /// HTTP method.
        method: &'static str,
        /// The URL called.
        url: String,
        /// The error and its causes.
        message: String,
        /// True when the request certainly did not reach the server.
        not_sent: bool,
    },

    /// A status the contract does not expect here; the raw body is kept.
    #[error("{method} {url} answered HTTP {status}: {}", truncate(.body))]
    UnexpectedStatus {
        /// HTTP method.
        method: &'static str,
        /// The URL called.
        url: String,
        /// HTTP status.
        status: u16,
        /// `Retry-After`, if sent.
        retry_after: Option<Duration>,
        /// The body as received (Toll error bodies carry no secrets).
        body: String,
    },

    /// A 2xx body that does not parse; the raw body is kept.
    #[error("cannot parse the response of {url} (HTTP {status}): {reason}")]
    InvalidResponse {
        /// The URL called.
        url: String,
        /// HTTP status.
        status: u16,
        /// The parse error with its JSON path.
        reason: String,
        /// The body as received (never a token response: those are not kept).
        body: String,
    },

    /// The input could not be sent at all (e.g. a raw message that is not a
    /// JSON object); `field` names where.
    #[error("invalid input at {field}: {reason}")]
    InvalidInput {
        /// Field or JSON path.
        field: String,
        /// What is wrong.
        reason: String,
    },
}

impl Error {
    /// The MP code, when a Maskinporten error is the cause.
    pub fn mp_code(&self) -> Option<&maskinporten::MpCode> {
        match self {
            Self::Maskinporten(e) => e.mp_code(),
            _ => None,
        }
    }

    /// Whether this is an authentication or authorisation problem (401, 403
    /// or Maskinporten).
    pub fn is_auth(&self) -> bool {
        matches!(
            self,
            Self::Maskinporten(_) | Self::Unauthorized { .. } | Self::Forbidden { .. }
        )
    }

    /// The request id to keep polling with, when validation was still pending.
    pub fn pending_request_id(&self) -> Option<&RequestId> {
        match self {
            Self::ValidationPending { request_id, .. } => Some(request_id),
            _ => None,
        }
    }

    /// A short label for metrics and logs.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Config(_) => "config",
            Self::Rejected { .. } => "rejected",
            Self::Failed { .. } => "failed",
            Self::Maskinporten(_) => "maskinporten",
            Self::Unauthorized { .. } => "unauthorized",
            Self::Forbidden { .. } => "forbidden",
            Self::NotFound { .. } => "not_found",
            Self::ValidationPending { .. } => "pending",
            Self::Ambiguous(_) => "ambiguous",
            Self::Transport { .. } => "transport",
            Self::UnexpectedStatus { .. } => "unexpected_status",
            Self::InvalidResponse { .. } => "invalid_response",
            Self::InvalidInput { .. } => "invalid_input",
        }
    }
}

fn fmt_sync(errors: &[SyncValidationError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.error))
        .collect::<Vec<_>>()
        .join("; ")
}

fn fmt_async(errors: &[AsyncValidationError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.pointer.message_element_path, e.description))
        .collect::<Vec<_>>()
        .join("; ")
}

fn fmt_rid(id: &Option<RequestId>) -> String {
    id.as_ref()
        .map(|r| format!(" (request {r})"))
        .unwrap_or_default()
}

fn fmt_oauth(body: &Option<OAuthErrorBody>) -> String {
    match body {
        Some(b) => match &b.error_description {
            Some(d) => format!(": {} ({d})", b.error),
            None => format!(": {}", b.error),
        },
        None => String::new(),
    }
}

fn fmt_recon(r: &Option<String>) -> String {
    r.as_ref()
        .map(|r| format!("; reconciliation: {r}"))
        .unwrap_or_default()
}

fn truncate(body: &str) -> String {
    const MAX: usize = 500;
    if body.chars().count() > MAX {
        let t: String = body.chars().take(MAX).collect();
        format!("{t}…")
    } else if body.is_empty() {
        "(empty body)".into()
    } else {
        body.to_owned()
    }
}

/// Renders an error and its causes on one line.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}
