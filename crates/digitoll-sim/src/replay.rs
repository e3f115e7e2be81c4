//! Replaying a recorded transcript: the simulator answers recorded requests
//! as the recorded server (Toll, Maskinporten) did.
//!
//! A transcript is a JSON-lines file of [`Exchange`]s, as written by
//! `digitoll conformance --transcript FILE` (crate `digitoll-conformance`).
//! With [`crate::SimulatorBuilder::replay`] the simulator serves only the
//! transcript (plus the admin API under `/sim/`):
//!
//! - a request is matched by method, path and query against the recorded
//!   requests not yet answered, in recorded order, so repeated polls of one
//!   validation status get the recorded 404s first and then the recorded 200;
//!   when several unanswered recordings match, one whose JSON body equals the
//!   request's is preferred (bodies carry fresh dates, so they are not
//!   required to match);
//! - once every matching recording has been answered, the last one is
//!   answered again (a client that polls once more than recorded);
//! - the recorded status, headers (minus hop-by-hop and length headers) and
//!   body are sent as they were: MRNs and requestIds stay as recorded;
//! - an unrecorded request gets status 599 with a JSON body
//!   `{"error":"not_recorded","request":…,"closest":…}` naming the closest
//!   recorded request (same method first, then the longest common path).
//!
//! Secrets were redacted when the transcript was written, so a replayed token
//! response carries `"[REDACTED]"` as its token: clients treat tokens as
//! opaque, and the replay does not check `Authorization`.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::record::RecordedBody;

/// Which remote an exchange went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Remote {
    /// Maskinporten (token endpoint, metadata).
    Maskinporten,
    /// A Toll API (token exchange and the Digitoll APIs).
    Toll,
}

impl Remote {
    /// `maskinporten` or `toll`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Maskinporten => "maskinporten",
            Self::Toll => "toll",
        }
    }
}

/// One request and its response, as recorded on the wire (secrets redacted).
/// One line of a transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    /// 1, 2, … in the order the requests were sent.
    pub seq: u64,
    /// The scenario step that sent it, e.g. `road.house.create`.
    pub step: String,
    /// Maskinporten or Toll.
    pub remote: Remote,
    /// HTTP method.
    pub method: String,
    /// The full URL at the remote (not the local recording proxy's).
    pub url: String,
    /// Request headers, lower-case names, secrets redacted.
    pub request_headers: Vec<(String, String)>,
    /// The request body, decoded, secrets redacted.
    pub request_body: RecordedBody,
    /// The response status; `None` when no response came (see `error`).
    #[serde(default)]
    pub status: Option<u16>,
    /// Response headers, lower-case names.
    #[serde(default)]
    pub response_headers: Vec<(String, String)>,
    /// The response body, decoded, secrets redacted.
    pub response_body: RecordedBody,
    /// Why there is no response (connection refused, timeout, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// When the request was sent.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// From sending the request to the end of the response body.
    pub duration_ms: u64,
}

impl Exchange {
    /// The URL's path (`/api/movement/road/v2/test-auth`).
    pub fn path(&self) -> String {
        url::Url::parse(&self.url)
            .map(|u| u.path().to_owned())
            .unwrap_or_default()
    }

    /// The URL's query, if any.
    pub fn query(&self) -> Option<String> {
        url::Url::parse(&self.url)
            .ok()
            .and_then(|u| u.query().map(str::to_owned))
    }

    /// The first response header `name` (case-insensitive).
    pub fn response_header(&self, name: &str) -> Option<&str> {
        self.response_headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A transcript line that cannot be read: where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}:{line}:{column}: {message}")]
pub struct TranscriptError {
    /// The file name as given by the caller.
    pub origin: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

/// Parses a JSON-lines transcript (blank lines are skipped). `origin` names
/// the file in errors.
///
/// # Errors
/// The first line that is not an [`Exchange`], with its line and column.
pub fn parse_transcript(text: &str, origin: &str) -> Result<Vec<Exchange>, TranscriptError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let exchange: Exchange = serde_json::from_str(line).map_err(|e| TranscriptError {
            origin: origin.to_owned(),
            line: i + 1,
            column: e.column(),
            message: e.to_string(),
        })?;
        out.push(exchange);
    }
    if out.is_empty() {
        return Err(TranscriptError {
            origin: origin.to_owned(),
            line: 1,
            column: 1,
            message: "the transcript has no exchanges".into(),
        });
    }
    Ok(out)
}

/// The replay state: the transcript and which entries were answered.
#[derive(Debug)]
pub(crate) struct Replay {
    entries: Vec<Exchange>,
    answered: Mutex<Vec<bool>>,
}

impl Replay {
    pub(crate) fn new(entries: Vec<Exchange>) -> Self {
        let n = entries.len();
        Self {
            entries,
            answered: Mutex::new(vec![false; n]),
        }
    }

    /// The index of the recording that answers this request, if any.
    fn pick(
        &self,
        method: &str,
        path: &str,
        query: Option<&str>,
        body: &RecordedBody,
    ) -> Option<usize> {
        let candidates: Vec<usize> = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                e.method.eq_ignore_ascii_case(method)
                    && e.path() == path
                    && e.query().as_deref() == query
                    && e.status.is_some()
            })
            .map(|(i, _)| i)
            .collect();
        let last = *candidates.last()?;
        let mut answered = self.answered.lock().unwrap_or_else(|e| e.into_inner());
        let open: Vec<usize> = candidates.into_iter().filter(|i| !answered[*i]).collect();
        let chosen = match (body, open.first()) {
            (_, None) => last,
            (RecordedBody::Json(v), Some(first)) => *open
                .iter()
                .find(|i| self.entries[**i].request_body.json() == Some(v))
                .unwrap_or(first),
            (_, Some(first)) => *first,
        };
        answered[chosen] = true;
        Some(chosen)
    }

    /// The closest recorded request: same method first, then the longest
    /// common path prefix, then the earliest.
    fn closest(&self, method: &str, path: &str) -> Option<&Exchange> {
        // `max_by_key` keeps the last of equal keys: search from the end.
        self.entries.iter().rev().max_by_key(|e| {
            let common = e
                .path()
                .chars()
                .zip(path.chars())
                .take_while(|(a, b)| a == b)
                .count();
            (e.method.eq_ignore_ascii_case(method), common)
        })
    }
}

/// The router of a replaying simulator.
pub(crate) fn routes(replay: Arc<Replay>) -> Router {
    Router::new().fallback(answer).with_state(replay)
}

/// Headers not replayed: the connection's own and the body's length, which
/// the server sets for the body it sends.
const SKIPPED_HEADERS: &[&str] = &[
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "date",
    "content-encoding",
];

async fn answer(State(replay): State<Arc<Replay>>, request: Request) -> Response {
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().map(str::to_owned);
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = axum::body::to_bytes(request.into_body(), 16 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let body = RecordedBody::decode(content_type.as_deref(), &bytes);
    match replay.pick(&method, &path, query.as_deref(), &body) {
        Some(i) => recorded_response(&replay.entries[i]),
        None => {
            let closest = replay.closest(&method, &path).map(|e| {
                serde_json::json!({
                    "seq": e.seq,
                    "step": e.step,
                    "method": e.method,
                    "url": e.url,
                })
            });
            let target = match &query {
                Some(q) => format!("{path}?{q}"),
                None => path.clone(),
            };
            let message = match &closest {
                Some(c) => format!(
                    "{method} {target} is not in the transcript; the closest recorded request is {} {} (step {}, #{})",
                    c["method"].as_str().unwrap_or_default(),
                    c["url"].as_str().unwrap_or_default(),
                    c["step"].as_str().unwrap_or_default(),
                    c["seq"]
                ),
                None => format!("{method} {target} is not in the transcript"),
            };
            let status = StatusCode::from_u16(599).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (
                status,
                axum::Json(serde_json::json!({
                    "error": "not_recorded",
                    "message": message,
                    "request": { "method": method, "path": path, "query": query },
                    "closest": closest,
                })),
            )
                .into_response()
        }
    }
}

fn recorded_response(e: &Exchange) -> Response {
    let status = e
        .status
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let (bytes, default_type): (Bytes, Option<&str>) = match &e.response_body {
        RecordedBody::Empty => (Bytes::new(), None),
        RecordedBody::Json(v) => (Bytes::from(v.to_string()), Some("application/json")),
        RecordedBody::Text(t) => (Bytes::from(t.clone()), Some("text/plain")),
        RecordedBody::Form(fields) => (
            Bytes::from(
                url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(fields)
                    .finish(),
            ),
            Some("application/x-www-form-urlencoded"),
        ),
        // Only the length was recorded.
        RecordedBody::Binary { .. } => (Bytes::new(), None),
    };
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    for (name, value) in &e.response_headers {
        if SKIPPED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            continue;
        }
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.append(n, v);
        }
    }
    if let Some(t) = default_type
        && !headers.contains_key(header::CONTENT_TYPE)
    {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(t));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(seq: u64, method: &str, url: &str, status: u16, body: serde_json::Value) -> Exchange {
        Exchange {
            seq,
            step: format!("s{seq}"),
            remote: Remote::Toll,
            method: method.into(),
            url: url.into(),
            request_headers: vec![],
            request_body: RecordedBody::Empty,
            status: Some(status),
            response_headers: vec![],
            response_body: RecordedBody::Json(body),
            error: None,
            started_at: OffsetDateTime::UNIX_EPOCH,
            duration_ms: 1,
        }
    }

    #[test]
    fn repeated_polls_are_answered_in_order_then_the_last_again() {
        let url = "https://api-test.toll.no/api/movement/road/v2/transport/validation-status/r1";
        let replay = Replay::new(vec![
            ex(1, "GET", url, 404, serde_json::json!({})),
            ex(2, "GET", url, 200, serde_json::json!({"mrn": "X"})),
        ]);
        let path = "/api/movement/road/v2/transport/validation-status/r1";
        let order: Vec<usize> = (0..3)
            .filter_map(|_| replay.pick("GET", path, None, &RecordedBody::Empty))
            .collect();
        assert_eq!(order, vec![0, 1, 1]);
        assert_eq!(replay.pick("POST", path, None, &RecordedBody::Empty), None);
        assert_eq!(replay.closest("POST", path).map(|e| e.seq), Some(1));
    }

    #[test]
    fn a_bad_line_names_its_line() {
        let good =
            serde_json::to_string(&ex(1, "GET", "http://x/a", 200, serde_json::json!({}))).unwrap();
        let err = parse_transcript(&format!("{good}\n{{\"seq\":2}}\n"), "t.jsonl").unwrap_err();
        assert_eq!(err.line, 2, "{err}");
        assert!(err.to_string().starts_with("t.jsonl:2:"), "{err}");
    }
}
