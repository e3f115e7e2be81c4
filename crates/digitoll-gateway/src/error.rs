//! The gateway's one HTTP error type.
//!
//! Every error answer has the body `{"error":{"code","message","field"?}}`;
//! local validation failures add Toll's own lists (`validationErrors` for
//! synchronous rules, `validationErrorList` for business rules) beside it.
//! Internal failures are logged with their cause and answered with a generic
//! message, so database or key errors never reach a client.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use digitoll_model::responses::{AsyncValidationError, SyncValidationError};
use serde::Serialize;
use utoipa::ToSchema;

/// The error body every endpoint answers with on failure.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
    /// Toll-style synchronous validation errors (422 `validation_failed`).
    #[serde(rename = "validationErrors", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub validation_errors: Option<Vec<SyncValidationError>>,
    /// Toll-style business validation errors (422 `validation_failed`).
    #[serde(
        rename = "validationErrorList",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Vec<Object>>)]
    pub validation_error_list: Option<Vec<AsyncValidationError>>,
}

/// The `error` member of [`ErrorBody`].
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable, machine-readable code, e.g. `not_found`, `invalid_json`.
    pub code: &'static str,
    /// A sentence for humans.
    pub message: String,
    /// The JSON path or parameter at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// Everything a request can fail with. Each variant's doc names its status.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed (bad JSON, wrong type, unknown value).
    #[error("{message}")]
    BadRequest {
        /// Machine-readable code.
        code: &'static str,
        /// Explanation.
        message: String,
        /// JSON path or parameter.
        field: Option<String>,
    },
    /// 401: no API key, or an unknown, revoked or malformed one.
    #[error("missing or invalid API key")]
    Unauthorized,
    /// 403: the key may not do this (a tenant key on an admin route, a
    /// scope the tenant does not hold, a disabled tenant).
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such resource for this key (also another tenant's).
    #[error("{0} not found")]
    NotFound(String),
    /// 409: an idempotency key reused with another body, or a state conflict.
    #[error("{0}")]
    Conflict(String),
    /// 413: the body is larger than the limit.
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// 415: the body is not `application/json`.
    #[error("content type must be application/json")]
    UnsupportedMediaType,
    /// 422: local validation with Toll's rules failed; nothing was stored.
    #[error("the message would be rejected by Toll")]
    Validation {
        /// Synchronous (400-class) errors.
        sync: Vec<SyncValidationError>,
        /// Business (FAILURE) errors.
        business: Vec<AsyncValidationError>,
    },
    /// 429: the tenant's rate limit is exhausted.
    #[error("rate limit exceeded; retry after {0:?}")]
    RateLimited(Duration),
    /// 502: an upstream (Toll or Maskinporten) call failed.
    #[error("{0}")]
    Upstream(String),
    /// 503: the gateway cannot serve right now (store unreachable, shutting down).
    #[error("{0}")]
    Unavailable(String),
    /// 500: an internal failure; the cause is logged, not returned.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// A 400 with a field.
    pub fn bad_request(
        code: &'static str,
        message: impl Into<String>,
        field: Option<String>,
    ) -> Self {
        Self::BadRequest {
            code,
            message: message.into(),
            field,
        }
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Upstream(_) => StatusCode::BAD_GATEWAY,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. } => code,
            Self::Unauthorized => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::Conflict(_) => "conflict",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::Validation { .. } => "validation_failed",
            Self::RateLimited(_) => "rate_limited",
            Self::Upstream(_) => "upstream_error",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }
}

impl From<digitoll_store::Error> for ApiError {
    fn from(e: digitoll_store::Error) -> Self {
        use digitoll_store::Error as E;
        match e {
            E::NotFound { what } => {
                // The store names the row ("message 0192…"); keep only the kind,
                // so an answer never echoes ids the caller did not send.
                let kind = what.split_whitespace().next().unwrap_or("resource");
                ApiError::NotFound(kind.to_owned())
            }
            E::Conflict(m) => ApiError::Conflict(m),
            E::Invalid { field, reason } => ApiError::bad_request(
                "invalid_value",
                format!("{field}: {reason}"),
                Some(field.to_owned()),
            ),
            E::LeaseLost { .. } => ApiError::Conflict("job lease lost".into()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let ApiError::Internal(cause) = &self {
            tracing::error!(error = %cause, "internal error answered with 500");
        }
        let (field, message) = match &self {
            ApiError::BadRequest { field, message, .. } => (field.clone(), message.clone()),
            ApiError::Validation { sync, business } => {
                let n = sync.len() + business.len();
                let first = sync
                    .first()
                    .map(|e| format!("{}: {}", e.field, e.error))
                    .or_else(|| {
                        business.first().map(|e| {
                            format!("{}: {}", e.pointer.message_element_path, e.description)
                        })
                    })
                    .unwrap_or_default();
                (
                    None,
                    format!(
                        "the message would be rejected by Toll ({n} error(s); first: {first}); nothing was stored"
                    ),
                )
            }
            other => (None, other.to_string()),
        };
        let retry_after = match &self {
            ApiError::RateLimited(d) => Some(d.as_secs_f64().ceil().max(1.0) as u64),
            _ => None,
        };
        let code = self.code();
        let (validation_errors, validation_error_list) = match self {
            ApiError::Validation { sync, business } => (
                (!sync.is_empty()).then_some(sync),
                (!business.is_empty()).then_some(business),
            ),
            _ => (None, None),
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code,
                message,
                field,
            },
            validation_errors,
            validation_error_list,
        };
        let mut resp = (status, axum::Json(body)).into_response();
        if let Some(secs) = retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}
