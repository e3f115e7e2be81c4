//! One HTTP attempt with its tracing span and metrics, and the classification
//! of failures into "certainly not sent" and "ambiguous".

use std::time::{Duration, Instant, SystemTime};

use reqwest::StatusCode;
use tracing::Instrument;

use crate::error::chain;

/// Metric names recorded by this crate.
pub mod metric_names {
    /// Counter, labels `api` (`token`, `road`, `road-query`, …) and `status`
    /// (the HTTP status, or `error` when no response arrived).
    pub const REQUESTS: &str = "toll_requests_total";
    /// Histogram in seconds, label `api`.
    pub const DURATION: &str = "toll_request_duration_seconds";
}

/// A complete response: status, `Retry-After` and the whole body.
#[derive(Debug)]
pub(crate) struct RawResponse {
    pub(crate) status: StatusCode,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) body: Vec<u8>,
}

impl RawResponse {
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Why no complete response arrived.
#[derive(Debug)]
pub(crate) enum SendFailure {
    /// The connection could not be opened: the request did not reach the server.
    NotSent(String),
    /// The request may have reached the server (timeout, connection closed
    /// after sending, body cut off).
    Ambiguous(String),
}

impl SendFailure {
    pub(crate) fn message(&self) -> &str {
        match self {
            Self::NotSent(m) | Self::Ambiguous(m) => m,
        }
    }
}

/// Sends `request` once and reads the whole body. The span carries method,
/// path (never the query, headers or body), status and duration.
pub(crate) async fn send_once(
    api: &'static str,
    method: &'static str,
    path: &str,
    request: reqwest::RequestBuilder,
) -> Result<RawResponse, SendFailure> {
    let span = tracing::info_span!(
        "toll_request",
        api,
        method,
        path,
        status = tracing::field::Empty,
        duration_ms = tracing::field::Empty,
    );
    let started = Instant::now();
    let result: Result<RawResponse, SendFailure> = async {
        let response = request.send().await.map_err(|e| {
            if e.is_connect() {
                SendFailure::NotSent(chain(&e))
            } else {
                SendFailure::Ambiguous(chain(&e))
            }
        })?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let body = response
            .bytes()
            .await
            .map_err(|e| {
                SendFailure::Ambiguous(format!("HTTP {status}, body lost: {}", chain(&e)))
            })?
            .to_vec();
        Ok(RawResponse {
            status,
            retry_after,
            body,
        })
    }
    .instrument(span.clone())
    .await;
    let elapsed = started.elapsed();
    let status_label = match &result {
        Ok(r) => r.status.as_u16().to_string(),
        Err(_) => "error".to_owned(),
    };
    span.record("status", status_label.as_str());
    span.record("duration_ms", elapsed.as_millis() as u64);
    match &result {
        Ok(r) => tracing::debug!(parent: &span, status = r.status.as_u16(), "toll response"),
        Err(e) => tracing::warn!(parent: &span, error = e.message(), "toll request failed"),
    }
    metrics::counter!(metric_names::REQUESTS, "api" => api, "status" => status_label).increment(1);
    metrics::histogram!(metric_names::DURATION, "api" => api).record(elapsed.as_secs_f64());
    result
}

/// `Retry-After`: delta seconds or an HTTP date.
pub(crate) fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT"),
            Some(Duration::ZERO)
        );
        let future = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(120));
        let d = parse_retry_after(&future).unwrap();
        assert!(d > Duration::from_secs(100) && d <= Duration::from_secs(120));
        assert_eq!(parse_retry_after("soon"), None);
    }
}
