//! Recording of the requests the simulator received, for test assertions.
//!
//! Every request outside the admin API (`/sim/`) is recorded before faults are
//! applied, so a request whose connection a fault dropped still shows up (with the
//! fault named in [`RecordedRequest::faults`]). Bodies are decoded: form bodies into
//! fields, JSON into a value, other text as text, binary as its length.
//! `Authorization` header values are redacted to their scheme, and the token
//! exchange's `subject_token` form field to `[REDACTED]`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Form fields whose values are bearer credentials and are recorded as
/// `[REDACTED]`: the Maskinporten token sent to the Toll token exchange.
const REDACTED_FORM_FIELDS: &[&str] = &["subject_token"];

/// How many requests are kept; older ones are dropped first.
const MAX_RECORDED: usize = 10_000;

/// One request as the simulator received it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// Sequence number (1, 2, …) in arrival order.
    pub id: u64,
    /// HTTP method, e.g. `POST`.
    pub method: String,
    /// Path without the query, e.g. `/token`.
    pub path: String,
    /// The raw query string, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// Request headers (lower-case names; `authorization` redacted to its scheme).
    pub headers: Vec<(String, String)>,
    /// The decoded body.
    pub body: RecordedBody,
    /// When it arrived, on the sim clock.
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// Labels of the faults that fired on it (empty if none).
    #[serde(default)]
    pub faults: Vec<String>,
}

impl RecordedRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A decoded request body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum RecordedBody {
    /// No body.
    Empty,
    /// `application/x-www-form-urlencoded` fields in order.
    Form(Vec<(String, String)>),
    /// A JSON body.
    Json(serde_json::Value),
    /// Other UTF-8 text.
    Text(String),
    /// Anything else: its content type and length.
    Binary {
        /// The `Content-Type`, if given.
        content_type: Option<String>,
        /// Length in bytes.
        len: usize,
    },
}

impl RecordedBody {
    /// The first value of form field `name`, if this is a form body.
    pub fn form_value(&self, name: &str) -> Option<&str> {
        match self {
            Self::Form(fields) => fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str()),
            _ => None,
        }
    }

    /// The JSON value, if this is a JSON body.
    pub fn json(&self) -> Option<&serde_json::Value> {
        match self {
            Self::Json(v) => Some(v),
            _ => None,
        }
    }

    /// Decodes `bytes` according to `content_type`.
    pub fn decode(content_type: Option<&str>, bytes: &[u8]) -> Self {
        if bytes.is_empty() {
            return Self::Empty;
        }
        let mime = content_type
            .and_then(|c| c.split(';').next())
            .map(|c| c.trim().to_ascii_lowercase());
        match mime.as_deref() {
            Some("application/x-www-form-urlencoded") => Self::Form(
                url::form_urlencoded::parse(bytes)
                    .into_owned()
                    .map(|(k, v)| {
                        if REDACTED_FORM_FIELDS.contains(&k.as_str()) {
                            (k, "[REDACTED]".to_owned())
                        } else {
                            (k, v)
                        }
                    })
                    .collect(),
            ),
            Some(m) if m == "application/json" || m.ends_with("+json") => {
                match serde_json::from_slice(bytes) {
                    Ok(v) => Self::Json(v),
                    Err(_) => Self::text_or_binary(content_type, bytes),
                }
            }
            _ => Self::text_or_binary(content_type, bytes),
        }
    }

    fn text_or_binary(content_type: Option<&str>, bytes: &[u8]) -> Self {
        let textual = content_type.is_none_or(|c| {
            let c = c.to_ascii_lowercase();
            c.starts_with("text/") || c.contains("xml") || c.contains("json")
        });
        match std::str::from_utf8(bytes) {
            Ok(s) if textual => Self::Text(s.to_owned()),
            _ => Self::Binary {
                content_type: content_type.map(str::to_owned),
                len: bytes.len(),
            },
        }
    }
}

/// The request log.
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    next_id: AtomicU64,
    requests: Mutex<Vec<RecordedRequest>>,
}

impl Recorder {
    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub(crate) fn push(&self, request: RecordedRequest) {
        let mut requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        if requests.len() >= MAX_RECORDED {
            requests.remove(0);
        }
        requests.push(request);
    }

    pub(crate) fn all(&self) -> Vec<RecordedRequest> {
        self.requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn clear(&self) {
        self.requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

/// Redacts an `Authorization` value to its scheme (`Bearer [REDACTED]`).
pub(crate) fn redact_authorization(value: &str) -> String {
    match value.split_once(' ') {
        Some((scheme, _)) => format!("{scheme} [REDACTED]"),
        None => "[REDACTED]".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_bodies() {
        let form = RecordedBody::decode(Some("application/x-www-form-urlencoded"), b"a=1&b=x+y");
        assert_eq!(form.form_value("b"), Some("x y"));
        let json = RecordedBody::decode(Some("application/json; charset=utf-8"), br#"{"k":1}"#);
        assert_eq!(json.json().and_then(|v| v["k"].as_i64()), Some(1));
        assert_eq!(RecordedBody::decode(None, b""), RecordedBody::Empty);
        assert!(matches!(
            RecordedBody::decode(Some("application/octet-stream"), &[0, 159]),
            RecordedBody::Binary { len: 2, .. }
        ));
        assert_eq!(redact_authorization("Bearer abc"), "Bearer [REDACTED]");
        let exchange = RecordedBody::decode(
            Some("application/x-www-form-urlencoded"),
            b"grant_type=token-exchange&subject_token=eyJsecret",
        );
        assert_eq!(exchange.form_value("subject_token"), Some("[REDACTED]"));
        assert_eq!(exchange.form_value("grant_type"), Some("token-exchange"));
    }
}
