//! The HTTP core every API client shares: a Toll token per call, one
//! re-exchange on 401, retries of safe requests, and the classification of
//! lost responses as ambiguous. The movement, presentation, routing, arrival
//! and document clients differ only in paths, scopes and bodies.

use std::time::{Duration, Instant};

use maskinporten::TokenRequest;
use reqwest::Method;
use serde::de::DeserializeOwned;
use url::Url;

use crate::config::RetryConfig;
use crate::error::{AuthStage, Error, OAuthErrorBody};
use crate::http::{RawResponse, SendFailure, send_once};
use crate::token::{TollTokenProvider, next_wait};

/// A failed execution: a typed error, or an unsafe request whose outcome is unknown.
pub(crate) enum Failure {
    Error(Error),
    Ambiguous(String),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Self::Error(e)
    }
}

/// A request body. Multipart forms cannot be cloned (their parts may be
/// streams), so they are built anew for every attempt.
pub(crate) enum Body<'a> {
    Empty,
    Json(&'a [u8]),
    Multipart(&'a (dyn Fn() -> reqwest::multipart::Form + Send + Sync)),
}

pub(crate) fn method_str(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        _ => "OTHER",
    }
}

/// Shared state of one API client: tokens, HTTP client and timings.
pub(crate) struct Core {
    pub(crate) tokens: TollTokenProvider,
    pub(crate) token_request: TokenRequest,
    pub(crate) http: reqwest::Client,
    pub(crate) timeout: Duration,
    pub(crate) retry: RetryConfig,
}

impl Core {
    /// Runs one logical request with the client's token request.
    pub(crate) async fn execute(
        &self,
        label: &'static str,
        method: Method,
        url: &Url,
        body: Body<'_>,
    ) -> Result<RawResponse, Failure> {
        self.execute_as(&self.token_request, label, method, url, body)
            .await
    }

    /// Runs one logical request: token for `token_request`, send, 401 →
    /// re-exchange once, retries as allowed for the method (GETs on network
    /// errors, 5xx and 429; others only when the connection could not be
    /// opened). A write whose response is lost (timeout after sending,
    /// connection closed, body cut off, 502/504) is [`Failure::Ambiguous`].
    pub(crate) async fn execute_as(
        &self,
        token_request: &TokenRequest,
        label: &'static str,
        method: Method,
        url: &Url,
        body: Body<'_>,
    ) -> Result<RawResponse, Failure> {
        let safe = method == Method::GET;
        let m = method_str(&method);
        let path = url.path().to_owned();
        let started = Instant::now();
        let mut attempt = 0u32;
        let mut auth_retried = false;
        loop {
            attempt += 1;
            let token = self.tokens.token(token_request).await?;
            let mut rb = self
                .http
                .request(method.clone(), url.clone())
                .timeout(self.timeout)
                .bearer_auth(token.secret())
                .header(reqwest::header::ACCEPT, "application/json");
            match &body {
                Body::Empty => {}
                Body::Json(b) => {
                    rb = rb
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .body(b.to_vec());
                }
                Body::Multipart(build) => rb = rb.multipart(build()),
            }
            match send_once(label, m, &path, rb).await {
                Ok(r) if r.status.as_u16() == 401 && !auth_retried => {
                    // The request was rejected before processing: repeating it is safe.
                    auth_retried = true;
                    attempt -= 1;
                    tracing::info!(
                        path,
                        "Toll answered 401; exchanging a new Toll token and retrying once"
                    );
                    self.tokens.invalidate(token_request, &token).await;
                }
                Ok(r) if safe && (r.status.as_u16() == 429 || r.status.is_server_error()) => {
                    match next_wait(&self.retry, attempt, started, r.retry_after) {
                        Some(w) => {
                            tracing::info!(
                                path,
                                status = r.status.as_u16(),
                                wait_ms = w.as_millis() as u64,
                                "retrying GET"
                            );
                            tokio::time::sleep(w).await;
                        }
                        None => return Ok(r),
                    }
                }
                Ok(r) if !safe && matches!(r.status.as_u16(), 502 | 504) => {
                    // A gateway gave up waiting: the server may have processed it.
                    return Err(Failure::Ambiguous(format!(
                        "HTTP {} from a gateway: {}",
                        r.status.as_u16(),
                        r.text().chars().take(200).collect::<String>()
                    )));
                }
                Ok(r) => return Ok(r),
                Err(SendFailure::Ambiguous(msg)) if !safe => {
                    return Err(Failure::Ambiguous(msg));
                }
                Err(f) => {
                    let not_sent = matches!(f, SendFailure::NotSent(_));
                    match next_wait(&self.retry, attempt, started, None) {
                        Some(w) => {
                            tracing::info!(
                                path,
                                error = f.message(),
                                wait_ms = w.as_millis() as u64,
                                "retrying after a network error"
                            );
                            tokio::time::sleep(w).await;
                        }
                        None => {
                            return Err(Failure::Error(Error::Transport {
                                method: m,
                                url: url.to_string(),
                                message: f.message().to_owned(),
                                not_sent,
                            }));
                        }
                    }
                }
            }
        }
    }

    /// A GET whose outcome is never ambiguous.
    pub(crate) async fn get(&self, label: &'static str, url: &Url) -> Result<RawResponse, Error> {
        self.get_as(&self.token_request, label, url).await
    }

    /// A GET with another token request (e.g. another mode's scope).
    pub(crate) async fn get_as(
        &self,
        token_request: &TokenRequest,
        label: &'static str,
        url: &Url,
    ) -> Result<RawResponse, Error> {
        match self
            .execute_as(token_request, label, Method::GET, url, Body::Empty)
            .await
        {
            Ok(r) => Ok(r),
            Err(Failure::Error(e)) => Err(e),
            Err(Failure::Ambiguous(m)) => Err(Error::Transport {
                method: "GET",
                url: url.to_string(),
                message: m,
                not_sent: false,
            }),
        }
    }

    /// Turns a non-success response into its typed error; a 400 whose body
    /// is not mapped by the caller becomes [`Error::UnexpectedStatus`].
    pub(crate) fn status_error(&self, method: &'static str, url: &Url, r: RawResponse) -> Error {
        self.status_error_as(&self.token_request, method, url, r)
    }

    /// As [`Core::status_error`], naming `token_request`'s scope on 403.
    pub(crate) fn status_error_as(
        &self,
        token_request: &TokenRequest,
        method: &'static str,
        url: &Url,
        r: RawResponse,
    ) -> Error {
        let url_s = url.to_string();
        match r.status.as_u16() {
            401 => Error::Unauthorized {
                stage: AuthStage::Api,
                url: url_s,
                body: OAuthErrorBody::parse(&r.body),
            },
            403 => Error::Forbidden {
                url: url_s,
                scope: token_request.scope().to_owned(),
                body: OAuthErrorBody::parse(&r.body),
            },
            404 => Error::NotFound { url: url_s },
            status => Error::UnexpectedStatus {
                method,
                url: url_s,
                status,
                retry_after: r.retry_after,
                body: r.text(),
            },
        }
    }

    /// Parses a 2xx body, keeping the raw body in the error.
    pub(crate) fn parse<T: DeserializeOwned>(url: &Url, r: &RawResponse) -> Result<T, Error> {
        serde_json::from_slice(&r.body).map_err(|e| Error::InvalidResponse {
            url: url.to_string(),
            status: r.status.as_u16(),
            reason: e.to_string(),
            body: r.text(),
        })
    }
}
