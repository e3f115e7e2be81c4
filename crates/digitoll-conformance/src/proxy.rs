//! The recording reverse proxy.
//!
//! Why a proxy rather than a hook in the clients: the transcript must show
//! what is really on the wire, including what the clients add on their own
//! (retries, polls, the token exchange, headers), and the clients must stay
//! unchanged (no recording code paths in production clients). So each remote
//! (Maskinporten, Toll) gets a small HTTP server on `127.0.0.1:0`; the clients
//! are pointed at it, and it forwards every request to the real base URL with
//! reqwest (TLS to the remote, no redirects followed), then records the
//! exchange with the current step's name, secrets redacted (see
//! [`crate::redact`]) before anything is stored.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use digitoll_sim::{Exchange, RecordedBody, Remote};
use time::OffsetDateTime;
use tokio::net::TcpListener;
use url::Url;

use crate::redact;

/// The log shared by the proxies of one side: the current step and every exchange.
#[derive(Debug, Clone, Default)]
pub(crate) struct Log {
    inner: Arc<LogInner>,
}

#[derive(Debug, Default)]
struct LogInner {
    step: Mutex<String>,
    seq: AtomicU64,
    exchanges: Mutex<Vec<Exchange>>,
}

impl Log {
    pub(crate) fn set_step(&self, step: &str) {
        *self.inner.step.lock().unwrap_or_else(|e| e.into_inner()) = step.to_owned();
    }

    fn step(&self) -> String {
        self.inner
            .step
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn push(&self, mut e: Exchange) {
        e.seq = self.inner.seq.fetch_add(1, Ordering::Relaxed) + 1;
        self.inner
            .exchanges
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(e);
    }

    pub(crate) fn exchanges(&self) -> Vec<Exchange> {
        let mut all = self
            .inner
            .exchanges
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        all.sort_by_key(|e| e.seq);
        all
    }
}

struct ProxyState {
    remote: Remote,
    upstream: Url,
    http: reqwest::Client,
    log: Log,
}

/// A running proxy for one remote.
#[derive(Debug)]
pub(crate) struct Proxy {
    base_url: Url,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Starts a proxy on `127.0.0.1:0` forwarding to `upstream`.
    pub(crate) async fn start(
        remote: Remote,
        upstream: Url,
        log: Log,
        timeout: Duration,
    ) -> Result<Self, crate::Error> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .build()
            .map_err(|e| crate::Error::Setup(format!("HTTP client: {e}")))?;
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| crate::Error::Setup(format!("binding the recording proxy: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| crate::Error::Setup(format!("recording proxy address: {e}")))?;
        let state = Arc::new(ProxyState {
            remote,
            upstream,
            http,
            log,
        });
        let app = Router::new().fallback(forward).with_state(state);
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::debug!(error = %e, "recording proxy stopped");
            }
        });
        let base_url = Url::parse(&format!("http://{addr}/"))
            .map_err(|e| crate::Error::Setup(format!("proxy URL: {e}")))?;
        Ok(Self { base_url, task })
    }

    /// `http://127.0.0.1:PORT/`.
    pub(crate) fn base_url(&self) -> &Url {
        &self.base_url
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Headers that belong to one connection, not to the message.
const HOP_BY_HOP: &[&str] = &[
    "host",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "proxy-connection",
    "upgrade",
    "te",
];

fn upstream_url(base: &Url, path_and_query: &str) -> Url {
    let mut url = base.clone();
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_and_query, None),
    };
    let joined = format!("{}{}", base.path().trim_end_matches('/'), path);
    url.set_path(&joined);
    url.set_query(query);
    url
}

async fn forward(State(state): State<Arc<ProxyState>>, request: Request) -> Response {
    let step = state.log.step();
    let (parts, body) = request.into_parts();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let url = upstream_url(&state.upstream, &path_and_query);
    let bytes = axum::body::to_bytes(body, 32 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let content_type = parts
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let request_headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .filter(|(k, _)| !HOP_BY_HOP.contains(&k.as_str()))
        .map(|(k, v)| {
            let v = String::from_utf8_lossy(v.as_bytes());
            (k.as_str().to_owned(), redact::header(k.as_str(), &v))
        })
        .collect();
    let mut exchange = Exchange {
        seq: 0,
        step,
        remote: state.remote,
        method: parts.method.to_string(),
        url: url.to_string(),
        request_headers,
        request_body: redact::body(RecordedBody::decode(content_type.as_deref(), &bytes)),
        status: None,
        response_headers: Vec::new(),
        response_body: RecordedBody::Empty,
        error: None,
        started_at: OffsetDateTime::now_utc(),
        duration_ms: 0,
    };
    let started = Instant::now();
    let mut upstream = state.http.request(parts.method.clone(), url.clone());
    for (k, v) in &parts.headers {
        if !HOP_BY_HOP.contains(&k.as_str()) {
            upstream = upstream.header(k, v);
        }
    }
    let result = upstream.body(bytes.clone()).send().await;
    let response = match result {
        Ok(resp) => {
            let status = resp.status();
            let headers = resp.headers().clone();
            match resp.bytes().await {
                Ok(body) => {
                    let ct = headers
                        .get("content-type")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    exchange.status = Some(status.as_u16());
                    exchange.response_headers = headers
                        .iter()
                        .filter(|(k, _)| !HOP_BY_HOP.contains(&k.as_str()))
                        .map(|(k, v)| {
                            let v = String::from_utf8_lossy(v.as_bytes());
                            (k.as_str().to_owned(), redact::header(k.as_str(), &v))
                        })
                        .collect();
                    exchange.response_body =
                        redact::body(RecordedBody::decode(ct.as_deref(), &body));
                    let mut out = Response::new(Body::from(body));
                    *out.status_mut() =
                        StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
                    for (k, v) in &headers {
                        if HOP_BY_HOP.contains(&k.as_str()) {
                            continue;
                        }
                        if let (Ok(n), Ok(v)) = (
                            HeaderName::from_bytes(k.as_str().as_bytes()),
                            HeaderValue::from_bytes(v.as_bytes()),
                        ) {
                            out.headers_mut().append(n, v);
                        }
                    }
                    out
                }
                Err(e) => {
                    exchange.status = Some(status.as_u16());
                    exchange.error = Some(format!("reading the response body: {e}"));
                    (
                        StatusCode::BAD_GATEWAY,
                        "recording proxy: response body lost",
                    )
                        .into_response()
                }
            }
        }
        Err(e) => {
            exchange.error = Some(redact::text(&error_chain(&e)));
            (
                StatusCode::BAD_GATEWAY,
                format!("recording proxy: {}", redact::text(&error_chain(&e))),
            )
                .into_response()
        }
    };
    exchange.duration_ms = started.elapsed().as_millis() as u64;
    state.log.push(exchange);
    response
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_keeps_the_base_path_and_the_query() {
        let base = Url::parse("https://api-test.toll.no/").unwrap();
        assert_eq!(
            upstream_url(&base, "/api/x?a=1").as_str(),
            "https://api-test.toll.no/api/x?a=1"
        );
        let prefixed = Url::parse("http://127.0.0.1:9/prefix/").unwrap();
        assert_eq!(
            upstream_url(&prefixed, "/token").as_str(),
            "http://127.0.0.1:9/prefix/token"
        );
    }
}
