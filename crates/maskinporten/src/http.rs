//! reqwest integration: attach the bearer token, and on a 401 invalidate the
//! token that failed and retry once.

use std::sync::Arc;

use reqwest::header::{AUTHORIZATION, HeaderValue};

use crate::client::error_chain;
use crate::error::Error;
use crate::provider::TokenProvider;
use crate::request::TokenRequest;

/// A reqwest client that authenticates every request with a Maskinporten token.
///
/// On `401 Unauthorized` it invalidates exactly the token it sent (only if the
/// cache still holds that same token, so a newer token fetched meanwhile is
/// kept), fetches a new one and retries once — but only when the request body
/// can be cloned (not a stream), so a body is never sent half-way twice.
///
/// ```no_run
/// # async fn run(provider: std::sync::Arc<dyn maskinporten::TokenProvider>) -> Result<(), maskinporten::Error> {
/// use maskinporten::{AuthorizedClient, TokenRequest};
/// let api = AuthorizedClient::new(
///     reqwest::Client::new(),
///     provider,
///     TokenRequest::for_scopes(["toll:movement/road/v2"])?,
/// );
/// let resp = api.send(api.http().get("https://api-test.toll.no/api/movement/road/v2/")).await?;
/// println!("{}", resp.status());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct AuthorizedClient {
    http: reqwest::Client,
    provider: Arc<dyn TokenProvider>,
    request: TokenRequest,
}

impl AuthorizedClient {
    /// Wraps `http`; every request gets a token for `request`.
    pub fn new(
        http: reqwest::Client,
        provider: Arc<dyn TokenProvider>,
        request: TokenRequest,
    ) -> Self {
        Self {
            http,
            provider,
            request,
        }
    }

    /// The underlying client, for building requests.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The token request used.
    pub fn token_request(&self) -> &TokenRequest {
        &self.request
    }

    /// Builds and sends `builder` with a bearer token.
    ///
    /// # Errors
    /// [`Error::Http`] for transport/build errors, or the token error.
    pub async fn send(&self, builder: reqwest::RequestBuilder) -> Result<reqwest::Response, Error> {
        let req = builder.build().map_err(|e| Error::Http {
            url: e.url().map(|u| u.to_string()).unwrap_or_default(),
            message: error_chain(&e),
        })?;
        self.execute(req).await
    }

    /// Sends `request` with a bearer token (any existing `Authorization` header is replaced).
    ///
    /// # Errors
    /// [`Error::Http`] for transport errors, or the token error.
    pub async fn execute(&self, request: reqwest::Request) -> Result<reqwest::Response, Error> {
        let retry_copy = request.try_clone();
        let token = self.token().await?;
        let resp = self.send_with(request, &token).await?;
        if resp.status() != reqwest::StatusCode::UNAUTHORIZED {
            return Ok(resp);
        }
        let Some(retry) = retry_copy else {
            tracing::debug!("401 with a body that cannot be cloned; not retrying");
            return Ok(resp);
        };
        let removed = self.provider.invalidate(&self.request, &token);
        tracing::info!(
            invalidated = removed,
            "API answered 401; retrying once with a new token"
        );
        let token = self.token().await?;
        self.send_with(retry, &token).await
    }

    async fn token(&self) -> Result<crate::AccessToken, Error> {
        match self.provider.cached(&self.request) {
            Some(t) => Ok(t),
            None => self.provider.token(&self.request).await,
        }
    }

    async fn send_with(
        &self,
        mut request: reqwest::Request,
        token: &crate::AccessToken,
    ) -> Result<reqwest::Response, Error> {
        let url = request.url().to_string();
        let mut value = HeaderValue::from_str(&format!("Bearer {}", token.secret()))
            .map_err(|_| Error::Internal("the access token is not a valid header value".into()))?;
        value.set_sensitive(true);
        request.headers_mut().insert(AUTHORIZATION, value);
        self.http.execute(request).await.map_err(|e| Error::Http {
            url,
            message: error_chain(&e),
        })
    }
}
