//! What the presentation, routing, arrival and document clients share: one
//! builder, the token request per [`Service`], validation-status polling and
//! the mapping of Toll's answers to typed errors.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, Instant};

use digitoll_model::codes::ProcessingStatus;
use digitoll_model::responses::{SyncErrorBody, SyncValidationError, ValidationStatus};
use digitoll_model::{
    ContractProfile, Outcome, PlaygroundFixtures, RequestId, TransportMode, ValidationContext,
    ValidationReport,
};
use maskinporten::{OrgNumber, SystemUser, TokenRequest};
use url::Url;

use crate::config::{PollConfig, RetryConfig};
use crate::core::Core;
use crate::env::{Service, TollEnvironment};
use crate::error::{Error, Operation, Origin};
use crate::http::RawResponse;
use crate::token::TollTokenProvider;

/// Builder of the presentation, routing, arrival and document clients
/// (`C` is the client built). Every option has the same meaning as on
/// [`crate::MovementClientBuilder`].
pub struct ApiClientBuilder<C> {
    tokens: TollTokenProvider,
    http: Option<reqwest::Client>,
    timeout: Duration,
    retry: RetryConfig,
    poll: PollConfig,
    consumer_org: Option<OrgNumber>,
    system_user: Option<SystemUser>,
    foreign: bool,
    validate: bool,
    playground: Option<bool>,
    profile: Option<Arc<ContractProfile>>,
    client: PhantomData<fn() -> C>,
}

impl<C> fmt::Debug for ApiClientBuilder<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiClientBuilder")
            .field("tokens", &self.tokens)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field("poll", &self.poll)
            .field("consumer_org", &self.consumer_org)
            .field("foreign", &self.foreign)
            .finish_non_exhaustive()
    }
}

/// The clients an [`ApiClientBuilder`] can build (sealed: implemented by this
/// crate's clients only).
pub trait BuildClient: sealed::Sealed + Sized {
    /// The API the client calls.
    const SERVICE: Service;
    #[doc(hidden)]
    fn from_parts(parts: Parts) -> Self;
}

mod sealed {
    pub trait Sealed {}
}

pub(crate) use sealed::Sealed;

/// The built state handed to a client (not constructible outside this crate).
#[doc(hidden)]
pub struct Parts {
    pub(crate) service: Service,
    pub(crate) core: Core,
    pub(crate) base: Url,
    pub(crate) poll: PollConfig,
    pub(crate) env: TollEnvironment,
    pub(crate) consumer_org: Option<OrgNumber>,
    pub(crate) system_user: Option<SystemUser>,
    pub(crate) foreign: bool,
    pub(crate) validate: bool,
    pub(crate) playground: bool,
    pub(crate) profile: Arc<ContractProfile>,
}

impl fmt::Debug for Parts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Parts")
            .field("service", &self.service)
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

impl Parts {
    /// A token request for `scope` with this client's identity options.
    pub(crate) fn token_request(&self, scope: &str) -> Result<TokenRequest, Error> {
        token_request(scope, self.consumer_org.clone(), self.system_user.clone())
    }

    /// The token request of a movement mode's query API (entry status).
    pub(crate) fn mode_request(&self, mode: TransportMode) -> Result<TokenRequest, Error> {
        self.token_request(crate::env::mode_scope(mode, self.foreign))
    }

    /// The context for local validation: the token provider's clock, and
    /// the playground fixtures when configured.
    pub(crate) fn context(&self) -> ValidationContext {
        let ctx = ValidationContext::new(self.core.tokens.clock().now_utc())
            .with_rule_overrides(self.profile.rules.clone());
        if self.playground {
            ctx.with_playground(PlaygroundFixtures::default())
        } else {
            ctx
        }
    }

    pub(crate) fn label(&self) -> &'static str {
        self.service.as_str()
    }

    /// The URL of endpoint `id` from the client's contract profile.
    pub(crate) fn endpoint(&self, id: &str, params: &[(&str, &str)]) -> Result<Url, Error> {
        self.env.endpoint_url(&self.profile, id, params)
    }
}

fn token_request(
    scope: &str,
    org: Option<OrgNumber>,
    user: Option<SystemUser>,
) -> Result<TokenRequest, Error> {
    let mut req = TokenRequest::builder().scope(scope);
    if let Some(org) = org {
        req = req.consumer_org(org);
    }
    if let Some(u) = user {
        req = req.system_user(u);
    }
    req.build()
        .map_err(|e| Error::Config(format!("token request: {e}")))
}

impl<C: BuildClient> ApiClientBuilder<C> {
    pub(crate) fn new(tokens: TollTokenProvider) -> Self {
        Self {
            tokens,
            http: None,
            timeout: Duration::from_secs(30),
            retry: RetryConfig::default(),
            poll: PollConfig::default(),
            consumer_org: None,
            system_user: None,
            foreign: false,
            validate: true,
            playground: None,
            profile: None,
            client: PhantomData,
        }
    }

    /// The contract profile whose endpoint paths and rule overrides this
    /// client uses (default: the token provider's, see
    /// [`crate::TollTokenProviderBuilder::profile`]).
    #[must_use]
    pub fn profile(mut self, profile: Arc<ContractProfile>) -> Self {
        self.profile = Some(profile);
        self
    }

    /// The HTTP client (default: a new `reqwest::Client`).
    #[must_use]
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Timeout of one request (default 30 s; uploads of large files over a
    /// slow line may need more).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Retries of safe requests, and the re-sends of a presentation whose
    /// response was lost (`max_attempts` in total).
    #[must_use]
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// Validation-status polling (presentation, arrival).
    #[must_use]
    pub fn poll(mut self, poll: PollConfig) -> Self {
        self.poll = poll;
        self
    }

    /// Acts for a customer who delegated the scope (Maskinporten `consumer_org`).
    #[must_use]
    pub fn consumer_org(mut self, org: OrgNumber) -> Self {
        self.consumer_org = Some(org);
        self
    }

    /// Acts as an Altinn system user.
    #[must_use]
    pub fn system_user(mut self, user: SystemUser) -> Self {
        self.system_user = Some(user);
        self
    }

    /// Uses the `toll:eu/…` scopes of foreign businesses (eSeal).
    #[must_use]
    pub fn foreign_business(mut self, foreign: bool) -> Self {
        self.foreign = foreign;
        self
    }

    /// Whether presentation and arrival bodies are validated locally with
    /// digitoll-model first (default true). Turn off to observe Toll's own
    /// answers. Document uploads are always checked (size, type, id).
    #[must_use]
    pub fn validate_before_send(mut self, validate: bool) -> Self {
        self.validate = validate;
        self
    }

    /// Whether local validation applies the playground fixture rules
    /// (default: only for [`crate::TollEnvironment::Test`]).
    #[must_use]
    pub fn playground_rules(mut self, playground: bool) -> Self {
        self.playground = Some(playground);
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// [`Error::Config`] when the token request is invalid (e.g. both a
    /// `consumer_org` and a system user).
    pub fn build(self) -> Result<C, Error> {
        let token_request = token_request(
            C::SERVICE.scope(self.foreign),
            self.consumer_org.clone(),
            self.system_user.clone(),
        )?;
        let env = self.tokens.environment().clone();
        let profile = self
            .profile
            .unwrap_or_else(|| self.tokens.profile().clone());
        Ok(C::from_parts(Parts {
            profile,
            service: C::SERVICE,
            base: env.join(C::SERVICE.base_path()),
            core: Core {
                tokens: self.tokens,
                token_request,
                http: self.http.unwrap_or_default(),
                timeout: self.timeout,
                retry: self.retry,
            },
            poll: self.poll,
            consumer_org: self.consumer_org,
            system_user: self.system_user,
            foreign: self.foreign,
            validate: self.validate,
            playground: self.playground.unwrap_or_else(|| env.is_playground()),
            env,
        }))
    }
}

/// Polls `fetch` until it yields a value: the first poll after
/// [`PollConfig::first_delay`], then doubling intervals up to
/// [`PollConfig::max_interval`], a last poll at the deadline. `Ok(Err(waited))`
/// when the deadline passed.
pub(crate) async fn poll_until<T, F, Fut>(
    poll: PollConfig,
    mut fetch: F,
) -> Result<Result<T, Duration>, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, Error>>,
{
    let started = Instant::now();
    tokio::time::sleep(poll.first_delay.min(poll.deadline)).await;
    let mut interval = poll.interval;
    loop {
        if let Some(v) = fetch().await? {
            return Ok(Ok(v));
        }
        let elapsed = started.elapsed();
        if elapsed >= poll.deadline {
            return Ok(Err(elapsed));
        }
        tokio::time::sleep(interval.min(poll.deadline - elapsed)).await;
        interval = interval.saturating_mul(2).min(poll.max_interval);
    }
}

/// `GET {base}/validation-status/{requestId}` of presentation and arrival:
/// `None` while 404 (or an empty 2xx), the result for any 2xx with a body.
pub(crate) async fn validation_status(
    parts: &Parts,
    request_id: &RequestId,
) -> Result<Option<ValidationStatus>, Error> {
    let rid = request_id.to_string();
    let url = parts.endpoint(
        &format!("{}.validation-status", parts.service.as_str()),
        &[("requestId", rid.as_str())],
    )?;
    let r = parts.core.get(parts.service.as_str(), &url).await?;
    match r.status.as_u16() {
        404 => Ok(None),
        200..=299 if r.body.iter().all(u8::is_ascii_whitespace) => Ok(None),
        // As for the movement APIs: a body that does not parse is kept raw
        // in `unparsed`, never an error of the poll.
        200..=299 => Ok(Some(ValidationStatus::from_body(
            *request_id,
            r.status.as_u16(),
            &r.body,
        ))),
        _ => Err(parts.core.status_error("GET", &url, r)),
    }
}

/// Polls validation status until processed or the deadline.
pub(crate) async fn wait_for_validation(
    parts: &Parts,
    operation: Operation,
    request_id: &RequestId,
) -> Result<ValidationStatus, Error> {
    match poll_until(parts.poll, || validation_status(parts, request_id)).await? {
        Ok(s) => Ok(s),
        Err(waited) => Err(Error::RequestPending {
            operation,
            request_id: *request_id,
            waited,
        }),
    }
}

/// SUCCESS → the status; FAILURE → [`Error::RequestFailed`].
pub(crate) fn require_success(
    operation: Operation,
    status: ValidationStatus,
) -> Result<ValidationStatus, Error> {
    match &status.status {
        ProcessingStatus::Success => Ok(status),
        ProcessingStatus::Failure => Err(Error::RequestFailed {
            operation,
            request_id: status.request_id,
            errors: status.validation_error_list,
        }),
        ProcessingStatus::Other(other) => Err(unreadable(&status, &status_problem(other))),
    }
}

/// Why a status that is neither SUCCESS nor FAILURE cannot be used.
pub(crate) fn status_problem(other: &str) -> String {
    if other.is_empty() {
        "no readable status".to_owned()
    } else {
        format!("unknown status {other:?}")
    }
}

/// A validation result the caller cannot act on (no MRN, an unknown or
/// unreadable status), as [`Error::InvalidResponse`] with Toll's raw body
/// and the parse error when the body did not parse.
pub(crate) fn unreadable(status: &ValidationStatus, why: &str) -> Error {
    let url = format!("validation-status/{}", status.request_id);
    match &status.unparsed {
        Some(u) => Error::InvalidResponse {
            url,
            status: u.http_status,
            reason: format!("{why}; the body did not parse: {}", u.error),
            body: u.body.clone(),
        },
        None => Error::InvalidResponse {
            url,
            status: 200,
            reason: why.to_owned(),
            body: serde_json::to_string(status).unwrap_or_default(),
        },
    }
}

/// A non-2xx answer as a typed error; a 400 with `validationErrors` is
/// [`Error::RequestRejected`].
pub(crate) fn status_error(
    parts: &Parts,
    operation: Operation,
    method: &'static str,
    url: &Url,
    r: RawResponse,
) -> Error {
    if r.status.as_u16() == 400
        && let Some(errors) = sync_errors(&r.body)
    {
        return Error::RequestRejected {
            origin: Origin::Toll,
            operation,
            errors,
        };
    }
    parts.core.status_error(method, url, r)
}

/// The `validationErrors` of a 400 body, when there are any.
pub(crate) fn sync_errors(body: &[u8]) -> Option<Vec<SyncValidationError>> {
    serde_json::from_slice::<SyncErrorBody>(body)
        .ok()
        .map(|b| b.validation_errors)
        .filter(|e| !e.is_empty())
}

/// Refuses a request local validation says Toll would reject. Business
/// errors (Toll's FAILURE) are reported as [`Error::RequestRejected`] too,
/// with their `messageElementPath` as the field, since no request id exists.
pub(crate) fn check_local(operation: Operation, report: &ValidationReport) -> Result<(), Error> {
    match report.outcome() {
        Outcome::Rejected(body) => Err(Error::RequestRejected {
            origin: Origin::Local,
            operation,
            errors: body.validation_errors,
        }),
        Outcome::Failed(errors) => Err(Error::RequestRejected {
            origin: Origin::Local,
            operation,
            errors: errors
                .into_iter()
                .map(|e| SyncValidationError::new(e.pointer.message_element_path, e.description))
                .collect(),
        }),
        Outcome::Accepted { .. } => Ok(()),
    }
}
