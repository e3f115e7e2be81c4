//! Typed errors. Each variant says what went wrong and where (URL path,
//! field path or JSON pointer); none carries a token.

use std::fmt;
use std::time::Duration;

use digitoll_model::entry::PresentationKind;
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

/// Which request of the presentation, routing, arrival or document API an
/// error is about (the movement APIs use [`MessageKind`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// A presentation `POST /{kind}` or its validation status.
    Presentation(PresentationKind),
    /// `POST /arrival` or its validation status.
    Arrival,
    /// A routing feed page.
    Routing(crate::routing::RoutingFeed),
    /// A document upload.
    DocumentUpload,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Presentation(k) => write!(f, "presentation of {}", k.path_segment()),
            Self::Arrival => f.write_str("arrival"),
            Self::Routing(feed) => write!(f, "routing feed {feed}"),
            Self::DocumentUpload => f.write_str("document upload"),
        }
    }
}

/// Why a document was not uploaded: the client's checks before sending, or
/// Toll's 400/413/415 answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UploadError {
    /// The declaration id is not `<declarant 9–11 digits>-<ddmmyyyy>-<sequence 1–6 digits>`.
    #[error("declaration id {value:?} is invalid: {reason}")]
    InvalidDeclarationId {
        /// The text given.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// The file is empty (Toll answers 400 field `file`).
    #[error("file {file_name:?} is empty")]
    EmptyFile {
        /// The file name.
        file_name: String,
    },
    /// The file is larger than Toll's limit; nothing was sent.
    #[error(
        "file {file_name:?} is {size} bytes, over Toll's limit of {limit} bytes (10 MB); Toll asks to split larger documents into several files"
    )]
    TooLarge {
        /// The file name.
        file_name: String,
        /// Its size in bytes (for a reader: at least this many).
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },
    /// The content is none of pdf, jpg, png, txt, docx, xlsx.
    #[error(
        "file {file_name:?} is not an accepted type (pdf, jpg, png, txt, docx, xlsx): {reason}"
    )]
    UnsupportedFileType {
        /// The file name.
        file_name: String,
        /// What the content looks like.
        reason: String,
    },
    /// The content is one accepted type but the name's extension says another.
    #[error(
        "file {file_name:?}: its name says .{extension} but its content is {detected}; rename it or pick the right file"
    )]
    ExtensionMismatch {
        /// The file name.
        file_name: String,
        /// The extension of the name (lower case, empty when there is none).
        extension: String,
        /// The type the content has.
        detected: String,
    },
    /// The file could not be read.
    #[error("cannot read {path}: {message}")]
    Read {
        /// The path or "reader".
        path: String,
        /// The I/O error.
        message: String,
    },
    /// Toll's `400 {"validationErrors"}`.
    #[error("Toll rejected the upload of {file_name:?}: {}", fmt_sync(.errors))]
    Rejected {
        /// The file name.
        file_name: String,
        /// The errors, each with its field.
        errors: Vec<SyncValidationError>,
    },
    /// Toll's 413: the file is over its size limit.
    #[error(
        "Toll answered 413 for {file_name:?} ({size} bytes): the file is over its size limit; split it"
    )]
    PayloadTooLarge {
        /// The file name.
        file_name: String,
        /// The size sent.
        size: u64,
        /// Toll's body.
        body: String,
    },
    /// Toll's 415: the content is not an accepted file type.
    #[error("Toll answered 415 for {file_name:?}: unsupported file type ({})", truncate(.body))]
    UnsupportedMediaType {
        /// The file name.
        file_name: String,
        /// Toll's body.
        body: String,
    },
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

    /// Toll's synchronous `400 {"validationErrors"}` to a presentation,
    /// routing or arrival request, or the client's own check of the same
    /// (`origin: Local`, nothing sent).
    #[error("{operation} rejected by {origin}: {}", fmt_sync(.errors))]
    RequestRejected {
        /// Local or Toll.
        origin: Origin,
        /// Which request.
        operation: Operation,
        /// The errors, each with its field.
        errors: Vec<SyncValidationError>,
    },

    /// A presentation or arrival was processed with `status: FAILURE`.
    #[error("{operation} failed validation by Toll (request {request_id}): {}", fmt_async(.errors))]
    RequestFailed {
        /// Which request.
        operation: Operation,
        /// The request id.
        request_id: RequestId,
        /// The errors, each with its `messageElementPath`.
        errors: Vec<AsyncValidationError>,
    },

    /// A presentation or arrival was still unprocessed (404) at the polling
    /// deadline. Keep polling with `request_id`.
    #[error("{operation} request {request_id} still pending after {waited:?}")]
    RequestPending {
        /// Which request.
        operation: Operation,
        /// Poll `validation-status/{request_id}` with this.
        request_id: RequestId,
        /// How long the client polled.
        waited: Duration,
    },

    /// A presentation, arrival or upload whose outcome is unknown (the
    /// response was lost, also after the retries the API allows).
    #[error("outcome of {operation} ({method} {path}) unknown: {cause}")]
    OutcomeUnknown {
        /// Which request.
        operation: Operation,
        /// HTTP method.
        method: &'static str,
        /// The URL path.
        path: String,
        /// The transport failure, and what the client tried.
        cause: String,
        /// The request id, when the client supplied one (presentation):
        /// re-send with it or poll its validation status.
        request_id: Option<RequestId>,
    },

    /// A document upload failed a check or was refused.
    #[error(transparent)]
    Upload(#[from] UploadError),

    /// The routing cursor store failed to load or save the marker.
    #[error("routing cursor store {store}: {message}")]
    CursorStore {
        /// Which store (e.g. the file path).
        store: String,
        /// What failed.
        message: String,
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
            Self::ValidationPending { request_id, .. }
            | Self::RequestPending { request_id, .. } => Some(request_id),
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
            Self::RequestRejected { .. } => "rejected",
            Self::RequestFailed { .. } => "failed",
            Self::RequestPending { .. } => "pending",
            Self::OutcomeUnknown { .. } => "ambiguous",
            Self::Upload(_) => "upload",
            Self::CursorStore { .. } => "cursor_store",
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
