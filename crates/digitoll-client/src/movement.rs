//! The movement client: submissions, validation polling and queries for one
//! [`TransportMode`] (road, air, rail, maritime). Mode-specific facts (base paths,
//! scope, labels, the validation rule set) come from [`TransportMode`] only.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use digitoll_model::codes::ProcessingStatus;
use digitoll_model::responses::{
    DocumentStatus, EntryStatus, RequestIdResponse, StatusWithDescendants, SyncErrorBody,
    ValidationStatus,
};
use digitoll_model::road::{DeleteBody, HouseConsignment, MasterConsignment, Relation, Transport};
use digitoll_model::{
    ContractProfile, MessageKind, Mrn, Outcome, PlaygroundFixtures, RequestId, RuleOverrides,
    TransportMode, ValidationContext, ValidationReport, validate_delete, validate_house_for,
    validate_json_for, validate_master, validate_relation, validate_transport_for,
};
use maskinporten::{Clock, OrgNumber, SystemUser, TokenRequest};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use crate::config::{PollConfig, ReconcileConfig, RetryConfig};
use crate::core::{Body, Core, Failure, method_str};
use crate::env::{TollEnvironment, mode_scope, query_label};
use crate::error::{AmbiguousContext, DocumentKey, Error, Origin};
use crate::http::RawResponse;
use crate::token::TollTokenProvider;
use crate::types::{
    Completed, Confirmation, DocumentKind, DocumentLookup, LookupWire, OneOrMany, Submission,
};

/// The road v2 client: a [`MovementClient`] built with [`TransportMode::Road`].
pub type RoadClient = MovementClient;

/// A client for one movement API family (submission + query API).
///
/// Every call gets a Toll token from the [`TollTokenProvider`] (scope from
/// [`mode_scope`]); a 401 invalidates that token and the call is repeated
/// once with a fresh one. GETs are retried on network errors, 5xx and 429
/// (honouring `Retry-After`); POST/PUT/DELETE only when the connection could
/// not be opened. See [`MovementClient::submit_master`] for what happens when
/// a POST's response is lost.
#[derive(Clone)]
pub struct MovementClient {
    inner: Arc<Inner>,
}

struct Inner {
    mode: TransportMode,
    core: Core,
    submission_base: Url,
    query_base: Url,
    poll: PollConfig,
    reconcile: ReconcileConfig,
    clock: Arc<dyn Clock>,
    validate: bool,
    playground: bool,
    env: TollEnvironment,
    profile: Arc<ContractProfile>,
    /// The rule overrides local validation uses: the builder's
    /// `rule_overrides` when given, else the profile's.
    rules: RuleOverrides,
}

impl fmt::Debug for MovementClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MovementClient")
            .field("mode", &self.inner.mode)
            .field("submission_base", &self.inner.submission_base.as_str())
            .field("query_base", &self.inner.query_base.as_str())
            .field("token_request", &self.inner.core.token_request)
            .field("validate", &self.inner.validate)
            .finish_non_exhaustive()
    }
}

/// Builder for [`MovementClient`].
#[derive(Debug)]
pub struct MovementClientBuilder {
    mode: TransportMode,
    tokens: TollTokenProvider,
    http: Option<reqwest::Client>,
    timeout: Duration,
    retry: RetryConfig,
    poll: PollConfig,
    reconcile: ReconcileConfig,
    clock: Option<Arc<dyn Clock>>,
    validate: bool,
    playground: Option<bool>,
    rules: Option<RuleOverrides>,
    consumer_org: Option<OrgNumber>,
    system_user: Option<SystemUser>,
    foreign: bool,
    profile: Option<Arc<ContractProfile>>,
}

impl MovementClientBuilder {
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

    /// Timeout of one request (default 30 s). A POST that times out is
    /// ambiguous: see [`MovementClient::submit_master`].
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Retries of safe requests.
    #[must_use]
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// Validation-status polling.
    #[must_use]
    pub fn poll(mut self, poll: PollConfig) -> Self {
        self.poll = poll;
        self
    }

    /// Reconciliation after a lost POST response.
    #[must_use]
    pub fn reconcile(mut self, reconcile: ReconcileConfig) -> Self {
        self.reconcile = reconcile;
        self
    }

    /// The clock whose wall time is "now" for local validation (default:
    /// the token provider's clock).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Whether messages are validated locally and refused when Toll would
    /// reject them (default true; every mode, with digitoll-model's rules for
    /// the mode). Turn off to observe Toll's own answers.
    #[must_use]
    pub fn validate_before_send(mut self, validate: bool) -> Self {
        self.validate = validate;
        self
    }

    /// Rule severity overrides for local validation, replacing the contract
    /// profile's `[rules]` (default: the profile's). A
    /// rule set to `warning` or `off` no longer stops a send. To send
    /// without any local rule check, use
    /// [`MovementClientBuilder::validate_before_send`]`(false)`.
    #[must_use]
    pub fn rule_overrides(mut self, rules: RuleOverrides) -> Self {
        self.rules = Some(rules);
        self
    }

    /// Whether local validation applies the playground fixture rules
    /// (default: only for [`crate::TollEnvironment::Test`]).
    #[must_use]
    pub fn playground_rules(mut self, playground: bool) -> Self {
        self.playground = Some(playground);
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

    /// Uses the `toll:eu/…` scope of foreign businesses (eSeal).
    #[must_use]
    pub fn foreign_business(mut self, foreign: bool) -> Self {
        self.foreign = foreign;
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// [`Error::Config`] when the token request is invalid (e.g. both a
    /// `consumer_org` and a system user).
    pub fn build(self) -> Result<MovementClient, Error> {
        let mut req = TokenRequest::builder().scope(mode_scope(self.mode, self.foreign));
        if let Some(org) = self.consumer_org {
            req = req.consumer_org(org);
        }
        if let Some(u) = self.system_user {
            req = req.system_user(u);
        }
        let token_request = req
            .build()
            .map_err(|e| Error::Config(format!("token request: {e}")))?;
        let env = self.tokens.environment().clone();
        let clock = self.clock.unwrap_or_else(|| self.tokens.clock().clone());
        let profile = self
            .profile
            .unwrap_or_else(|| self.tokens.profile().clone());
        let rules = self.rules.unwrap_or_else(|| profile.rules.clone());
        Ok(MovementClient {
            inner: Arc::new(Inner {
                env: env.clone(),
                profile,
                mode: self.mode,
                submission_base: env.join(&self.mode.submission_base()),
                query_base: env.join(&self.mode.query_base()),
                playground: self.playground.unwrap_or_else(|| env.is_playground()),
                core: Core {
                    tokens: self.tokens,
                    token_request,
                    http: self.http.unwrap_or_default(),
                    timeout: self.timeout,
                    retry: self.retry,
                },
                poll: self.poll,
                reconcile: self.reconcile,
                clock,
                validate: self.validate,
                rules,
            }),
        })
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Api {
    Submission,
    Query,
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

/// The kind's name in endpoint ids (`road.master.create`).
fn kind_name(kind: DocumentKind) -> &'static str {
    match kind {
        DocumentKind::Transport => "transport",
        DocumentKind::MasterConsignment => "master",
        DocumentKind::HouseConsignment => "house",
    }
}

/// The lookup key of a master or house message, when it has one.
pub(crate) fn document_key(kind: DocumentKind, msg: &Value) -> Option<DocumentKey> {
    let (doc, carrier) = match kind {
        DocumentKind::Transport => return None,
        DocumentKind::MasterConsignment => (
            "/consignmentMasterLevel/transportDocumentMasterLevel",
            str_at(msg, "/consignmentMasterLevel/carrier/identificationNumber"),
        ),
        DocumentKind::HouseConsignment => (
            "/consignmentHouseLevel/transportDocumentHouseLevel",
            str_at(
                msg,
                "/consignmentHouseLevel/consignmentMasterLevel/carrierIdentificationNumber",
            )
            .or_else(|| {
                str_at(
                    msg,
                    "/consignmentHouseLevel/tranportLevel/carrierIdentificationNumber",
                )
            })
            .or_else(|| {
                str_at(
                    msg,
                    "/consignmentHouseLevel/transportLevel/carrierIdentificationNumber",
                )
            }),
        ),
    };
    Some(DocumentKey {
        document_number: str_at(msg, &format!("{doc}/documentNumber"))?.to_owned(),
        doc_type: str_at(msg, &format!("{doc}/type"))?.to_owned(),
        carrier_id: carrier?.to_owned(),
    })
}

impl MovementClient {
    /// Starts a builder for `mode`; the host comes from the token provider's environment.
    pub fn builder(mode: TransportMode, tokens: TollTokenProvider) -> MovementClientBuilder {
        MovementClientBuilder {
            mode,
            tokens,
            http: None,
            timeout: Duration::from_secs(30),
            retry: RetryConfig::default(),
            poll: PollConfig::default(),
            reconcile: ReconcileConfig::default(),
            clock: None,
            validate: true,
            playground: None,
            rules: None,
            consumer_org: None,
            system_user: None,
            foreign: false,
            profile: None,
        }
    }

    /// A road v2 client with defaults.
    ///
    /// # Errors
    /// As [`MovementClientBuilder::build`].
    pub fn road(tokens: TollTokenProvider) -> Result<Self, Error> {
        Self::builder(TransportMode::Road, tokens).build()
    }

    /// The API family.
    pub fn mode(&self) -> TransportMode {
        self.inner.mode
    }

    /// The Maskinporten token request used for every call (its scope is the mode's).
    pub fn token_request(&self) -> &TokenRequest {
        &self.inner.core.token_request
    }

    /// The submission API base URL.
    pub fn submission_base(&self) -> &Url {
        &self.inner.submission_base
    }

    /// The query API base URL.
    pub fn query_base(&self) -> &Url {
        &self.inner.query_base
    }

    /// The URL of this mode's endpoint `name` (`transport.create`, …) from
    /// the client's contract profile.
    fn endpoint(&self, name: &str, params: &[(&str, &str)]) -> Result<Url, Error> {
        let id = format!("{}.{name}", self.inner.mode.path_segment());
        self.inner
            .env
            .endpoint_url(&self.inner.profile, &id, params)
    }

    /// The contract profile in use.
    pub fn profile(&self) -> &Arc<ContractProfile> {
        &self.inner.profile
    }

    fn label(&self, api: Api) -> &'static str {
        match api {
            Api::Submission => self.inner.mode.path_segment(),
            Api::Query => query_label(self.inner.mode),
        }
    }

    // ----------------------------------------------------------------- HTTP core

    async fn execute(
        &self,
        api: Api,
        method: Method,
        url: &Url,
        body: Option<&[u8]>,
    ) -> Result<RawResponse, Failure> {
        let body = match body {
            Some(b) => Body::Json(b),
            None => Body::Empty,
        };
        self.inner
            .core
            .execute(self.label(api), method, url, body)
            .await
    }

    /// A GET whose outcome is never ambiguous.
    async fn get(&self, api: Api, url: &Url) -> Result<RawResponse, Error> {
        self.inner.core.get(self.label(api), url).await
    }

    /// Turns a non-success response into its typed error.
    fn status_error(
        &self,
        method: &'static str,
        url: &Url,
        kind: Option<MessageKind>,
        r: RawResponse,
    ) -> Error {
        match r.status.as_u16() {
            400 => {
                if let (Some(kind), Ok(body)) =
                    (kind, serde_json::from_slice::<SyncErrorBody>(&r.body))
                    && !body.validation_errors.is_empty()
                {
                    return Error::Rejected {
                        origin: Origin::Toll,
                        kind,
                        errors: body.validation_errors,
                    };
                }
                Error::UnexpectedStatus {
                    method,
                    url: url.to_string(),
                    status: 400,
                    retry_after: r.retry_after,
                    body: r.text(),
                }
            }
            _ => self.inner.core.status_error(method, url, r),
        }
    }

    fn parse<T: DeserializeOwned>(url: &Url, r: &RawResponse) -> Result<T, Error> {
        Core::parse(url, r)
    }

    /// GET + 2xx → parsed body; otherwise the typed error.
    async fn get_json<T: DeserializeOwned>(&self, url: &Url) -> Result<T, Error> {
        let r = self.get(Api::Query, url).await?;
        if r.status.is_success() {
            Self::parse(url, &r)
        } else {
            Err(self.status_error("GET", url, None, r))
        }
    }

    // ------------------------------------------------------------ validation

    /// Local validation applies digitoll-model's rules for this mode (road
    /// v2 plus the mode's entry in `TransportMode::rules`), for every mode.
    fn validates(&self) -> bool {
        self.inner.validate
    }

    fn context(&self, first_submission: bool) -> ValidationContext {
        let mut ctx = ValidationContext::new(self.inner.clock.now_utc())
            .with_first_submission(first_submission)
            .with_rule_overrides(self.inner.rules.clone());
        if self.inner.playground {
            ctx = ctx.with_playground(PlaygroundFixtures::default());
        }
        ctx
    }

    /// Refuses a message Toll would reject (400 or FAILURE); INCOMPLETE passes.
    fn check(&self, kind: MessageKind, report: &ValidationReport) -> Result<(), Error> {
        match report.outcome() {
            Outcome::Rejected(body) => Err(Error::Rejected {
                origin: Origin::Local,
                kind,
                errors: body.validation_errors,
            }),
            Outcome::Failed(errors) => Err(Error::Failed {
                origin: Origin::Local,
                kind,
                request_id: None,
                errors,
            }),
            Outcome::Accepted { .. } => Ok(()),
        }
    }

    fn check_raw(&self, kind: MessageKind, msg: &Value, first: bool) -> Result<(), Error> {
        if !self.validates() {
            return Ok(());
        }
        let text = msg.to_string();
        match validate_json_for(self.inner.mode, kind, &text, &self.context(first)) {
            Ok((_, report)) => self.check(kind, &report),
            Err(malformed) => Err(Error::Rejected {
                origin: Origin::Local,
                kind,
                errors: malformed.to_sync_body().validation_errors,
            }),
        }
    }

    fn to_value<T: serde::Serialize>(msg: &T) -> Result<Value, Error> {
        serde_json::to_value(msg).map_err(|e| Error::InvalidInput {
            field: "message".into(),
            reason: e.to_string(),
        })
    }

    // ----------------------------------------------------------- submissions

    /// `GET /test-auth`: checks the whole token chain and the scope.
    ///
    /// # Errors
    /// [`Error::Maskinporten`], [`Error::Unauthorized`], [`Error::Forbidden`], …
    pub async fn test_auth(&self) -> Result<(), Error> {
        let url = self.endpoint("test-auth", &[])?;
        let r = self.get(Api::Submission, &url).await?;
        if r.status.is_success() {
            Ok(())
        } else {
            Err(self.status_error("GET", &url, None, r))
        }
    }

    /// `POST /transport`. Validated locally first (unless disabled).
    ///
    /// A transport has no documented lookup (Toll offers none by licence
    /// plate), so a lost response gives [`Error::Ambiguous`] with the plate
    /// and scheduled arrival, and nothing is re-sent: the caller decides
    /// (e.g. check `transport/{mrn}` of earlier submissions, or resend and
    /// accept a possible duplicate).
    ///
    /// # Errors
    /// [`Error::Rejected`] / [`Error::Failed`] with origin `Local` (nothing
    /// sent), [`Error::Rejected`] with origin `Toll` (400), auth errors,
    /// [`Error::Ambiguous`], [`Error::Transport`].
    pub async fn submit_transport(&self, msg: &Transport) -> Result<Submission, Error> {
        if self.validates() {
            self.check(
                MessageKind::Transport,
                &validate_transport_for(self.inner.mode, msg, &self.context(true)),
            )?;
        }
        self.post_message(DocumentKind::Transport, Self::to_value(msg)?)
            .await
    }

    /// `POST /master-consignment`. Validated locally first (unless disabled).
    ///
    /// When the response is lost after sending (timeout, connection closed,
    /// 502/504), the message is **not** blindly re-posted: the client looks
    /// it up by document number + type + carrier id (see
    /// [`ReconcileConfig`]). If Toll has it, [`Submission::Reconciled`] is
    /// returned with its MRN and status; only if every lookup answers 404 is
    /// the message sent again, once ([`Submission::Accepted`] with
    /// `resent: true`). A failing lookup gives [`Error::Ambiguous`].
    ///
    /// # Errors
    /// As [`MovementClient::submit_transport`].
    pub async fn submit_master(&self, msg: &MasterConsignment) -> Result<Submission, Error> {
        if self.validates() {
            self.check(
                MessageKind::MasterConsignment,
                &validate_master(msg, &self.context(true)),
            )?;
        }
        self.post_message(DocumentKind::MasterConsignment, Self::to_value(msg)?)
            .await
    }

    /// `POST /house-consignment`; reconciliation as for
    /// [`MovementClient::submit_master`] (the carrier id is the master link's
    /// `carrierIdentificationNumber`, or the direct consignment's).
    ///
    /// # Errors
    /// As [`MovementClient::submit_transport`].
    pub async fn submit_house(&self, msg: &HouseConsignment) -> Result<Submission, Error> {
        if self.validates() {
            self.check(
                MessageKind::HouseConsignment,
                &validate_house_for(self.inner.mode, msg, &self.context(true)),
            )?;
        }
        self.post_message(DocumentKind::HouseConsignment, Self::to_value(msg)?)
            .await
    }

    /// `POST` of a raw JSON message (for the CLI); validated with
    /// `validate_json` first (unless disabled). Reconciliation as for the typed calls.
    ///
    /// # Errors
    /// As [`MovementClient::submit_transport`].
    pub async fn submit_raw(&self, kind: DocumentKind, msg: &Value) -> Result<Submission, Error> {
        self.check_raw(kind.message_kind(), msg, true)?;
        self.post_message(kind, msg.clone()).await
    }

    async fn post_message(&self, kind: DocumentKind, msg: Value) -> Result<Submission, Error> {
        let url = self.endpoint(&format!("{}.create", kind_name(kind)), &[])?;
        let body = serde_json::to_vec(&msg).map_err(|e| Error::InvalidInput {
            field: "message".into(),
            reason: e.to_string(),
        })?;
        let mk = kind.message_kind();
        match self
            .execute(Api::Submission, Method::POST, &url, Some(&body))
            .await
        {
            Ok(r) => Ok(Submission::Accepted {
                request_id: self.accepted(&url, "POST", mk, r)?,
                resent: false,
            }),
            Err(Failure::Error(e)) => Err(e),
            Err(Failure::Ambiguous(cause)) => self.reconcile(kind, &msg, &url, &body, cause).await,
        }
    }

    fn accepted(
        &self,
        url: &Url,
        method: &'static str,
        kind: MessageKind,
        r: RawResponse,
    ) -> Result<RequestId, Error> {
        if r.status.is_success() {
            Ok(Self::parse::<RequestIdResponse>(url, &r)?.request_id)
        } else {
            Err(self.status_error(method, url, Some(kind), r))
        }
    }

    async fn reconcile(
        &self,
        kind: DocumentKind,
        msg: &Value,
        url: &Url,
        body: &[u8],
        cause: String,
    ) -> Result<Submission, Error> {
        let mut ctx = AmbiguousContext {
            kind: kind.message_kind(),
            method: "POST",
            path: url.path().to_owned(),
            cause,
            document: document_key(kind, msg),
            transport_means: str_at(msg, "/activeBorderTransportMeans/identificationNumber")
                .map(str::to_owned),
            scheduled_arrival: str_at(msg, "/scheduledDateAndTimeOfArrival").map(str::to_owned),
            mrn: None,
            reconciliation: None,
        };
        tracing::warn!(
            path = ctx.path,
            cause = ctx.cause,
            "POST outcome unknown; reconciling"
        );
        let Some(key) = ctx.document.clone() else {
            ctx.reconciliation = Some(match kind {
                DocumentKind::Transport => {
                    "Toll documents no lookup of a transport by licence plate; not re-sent".into()
                }
                _ => "the message has no documentNumber/type/carrier id to look it up by; not re-sent"
                    .into(),
            });
            return Err(Error::Ambiguous(Box::new(ctx)));
        };
        if self.inner.reconcile.lookups == 0 {
            ctx.reconciliation = Some("reconciliation lookups are disabled; not re-sent".into());
            return Err(Error::Ambiguous(Box::new(ctx)));
        }
        for _ in 0..self.inner.reconcile.lookups {
            tokio::time::sleep(self.inner.reconcile.delay).await;
            match self.lookup(kind, &key).await {
                Ok(found) => {
                    tracing::info!(document = %key, mrn = ?found.mrn, "reconciled: Toll has the message; not re-sent");
                    return Ok(Submission::Reconciled(found));
                }
                Err(Error::NotFound { .. }) => {}
                Err(e) => {
                    ctx.reconciliation = Some(format!("lookup of {key} failed: {e}; not re-sent"));
                    return Err(Error::Ambiguous(Box::new(ctx)));
                }
            }
        }
        tracing::info!(document = %key, "lookup answered 404: the message did not arrive; sending it again");
        match self
            .execute(Api::Submission, Method::POST, url, Some(body))
            .await
        {
            Ok(r) => Ok(Submission::Accepted {
                request_id: self.accepted(url, "POST", kind.message_kind(), r)?,
                resent: true,
            }),
            Err(Failure::Error(e)) => Err(e),
            Err(Failure::Ambiguous(cause)) => {
                ctx.cause = cause;
                ctx.reconciliation = Some(
                    "the lookup found nothing, the message was sent once more, and that response was lost too".into(),
                );
                Err(Error::Ambiguous(Box::new(ctx)))
            }
        }
    }

    /// `PUT /{kind}/{mrn}` with a full replacement transport.
    ///
    /// # Errors
    /// As [`MovementClient::submit_transport`]; [`Error::NotFound`] for an
    /// unknown MRN; a lost response gives [`Error::Ambiguous`] (never re-sent).
    pub async fn update_transport(&self, mrn: &Mrn, msg: &Transport) -> Result<RequestId, Error> {
        if self.validates() {
            self.check(
                MessageKind::Transport,
                &validate_transport_for(self.inner.mode, msg, &self.context(false)),
            )?;
        }
        self.send_unsafe(
            Method::PUT,
            DocumentKind::Transport,
            Some(mrn),
            &Self::to_value(msg)?,
        )
        .await
    }

    /// `PUT /master-consignment/{mrn}`.
    ///
    /// # Errors
    /// As [`MovementClient::update_transport`].
    pub async fn update_master(
        &self,
        mrn: &Mrn,
        msg: &MasterConsignment,
    ) -> Result<RequestId, Error> {
        if self.validates() {
            self.check(
                MessageKind::MasterConsignment,
                &validate_master(msg, &self.context(false)),
            )?;
        }
        self.send_unsafe(
            Method::PUT,
            DocumentKind::MasterConsignment,
            Some(mrn),
            &Self::to_value(msg)?,
        )
        .await
    }

    /// `PUT /house-consignment/{mrn}`.
    ///
    /// # Errors
    /// As [`MovementClient::update_transport`].
    pub async fn update_house(
        &self,
        mrn: &Mrn,
        msg: &HouseConsignment,
    ) -> Result<RequestId, Error> {
        if self.validates() {
            self.check(
                MessageKind::HouseConsignment,
                &validate_house_for(self.inner.mode, msg, &self.context(false)),
            )?;
        }
        self.send_unsafe(
            Method::PUT,
            DocumentKind::HouseConsignment,
            Some(mrn),
            &Self::to_value(msg)?,
        )
        .await
    }

    /// `PUT /{kind}/{mrn}` with a raw JSON message.
    ///
    /// # Errors
    /// As [`MovementClient::update_transport`].
    pub async fn update_raw(
        &self,
        kind: DocumentKind,
        mrn: &Mrn,
        msg: &Value,
    ) -> Result<RequestId, Error> {
        self.check_raw(kind.message_kind(), msg, false)?;
        self.send_unsafe(Method::PUT, kind, Some(mrn), msg).await
    }

    /// `DELETE /{kind}/{mrn}` with `{"documentIssueDate", "representative"?}`.
    ///
    /// # Errors
    /// As [`MovementClient::update_transport`].
    pub async fn delete(
        &self,
        kind: DocumentKind,
        mrn: &Mrn,
        body: &DeleteBody,
    ) -> Result<RequestId, Error> {
        if self.validates() {
            self.check(
                MessageKind::Delete,
                &validate_delete(body, &self.context(false)),
            )?;
        }
        self.send_unsafe(Method::DELETE, kind, Some(mrn), &Self::to_value(body)?)
            .await
    }

    /// `DELETE /{kind}/{mrn}` with a raw JSON body.
    ///
    /// # Errors
    /// As [`MovementClient::update_transport`].
    pub async fn delete_raw(
        &self,
        kind: DocumentKind,
        mrn: &Mrn,
        body: &Value,
    ) -> Result<RequestId, Error> {
        self.check_raw(MessageKind::Delete, body, false)?;
        self.send_unsafe(Method::DELETE, kind, Some(mrn), body)
            .await
    }

    async fn send_unsafe(
        &self,
        method: Method,
        kind: DocumentKind,
        mrn: Option<&Mrn>,
        msg: &Value,
    ) -> Result<RequestId, Error> {
        let m = method_str(&method);
        let op = match (&method, mrn) {
            (_, None) => "create",
            (&Method::DELETE, Some(_)) => "delete",
            (_, Some(_)) => "update",
        };
        let params: Vec<(&str, &str)> = mrn.iter().map(|m| ("mrn", m.as_str())).collect();
        let url = self.endpoint(&format!("{}.{op}", kind_name(kind)), &params)?;
        let body = serde_json::to_vec(msg).map_err(|e| Error::InvalidInput {
            field: "message".into(),
            reason: e.to_string(),
        })?;
        let mk = if method == Method::DELETE {
            MessageKind::Delete
        } else {
            kind.message_kind()
        };
        match self
            .execute(Api::Submission, method, &url, Some(&body))
            .await
        {
            Ok(r) => self.accepted(&url, m, mk, r),
            Err(Failure::Error(e)) => Err(e),
            Err(Failure::Ambiguous(cause)) => Err(Error::Ambiguous(Box::new(AmbiguousContext {
                kind: mk,
                method: m,
                path: url.path().to_owned(),
                cause,
                document: document_key(kind, msg),
                transport_means: None,
                scheduled_arrival: None,
                mrn: mrn.cloned(),
                reconciliation: Some(format!("{m} is not re-sent automatically")),
            }))),
        }
    }

    /// `POST /relation` (path inferred, \[I\]): links two messages by MRN.
    /// Returns the request id when Toll sends one.
    ///
    /// # Errors
    /// As [`MovementClient::update_transport`].
    pub async fn create_relation(&self, relation: &Relation) -> Result<Option<RequestId>, Error> {
        if self.validates() {
            self.check(
                MessageKind::Relation,
                &validate_relation(relation, &self.context(true)),
            )?;
        }
        self.relation_call(Method::POST, None, &Self::to_value(relation)?)
            .await
    }

    /// `POST /relation` with a raw JSON body.
    ///
    /// # Errors
    /// As [`MovementClient::update_transport`].
    pub async fn create_relation_raw(&self, relation: &Value) -> Result<Option<RequestId>, Error> {
        self.check_raw(MessageKind::Relation, relation, true)?;
        self.relation_call(Method::POST, None, relation).await
    }

    /// `DELETE /relation/{mrn}` with `{"documentIssueDate"}` (path inferred, \[I\]).
    ///
    /// # Errors
    /// As [`MovementClient::update_transport`].
    pub async fn delete_relation(
        &self,
        mrn: &Mrn,
        body: &DeleteBody,
    ) -> Result<Option<RequestId>, Error> {
        if self.validates() {
            self.check(
                MessageKind::Delete,
                &validate_delete(body, &self.context(false)),
            )?;
        }
        self.relation_call(Method::DELETE, Some(mrn), &Self::to_value(body)?)
            .await
    }

    async fn relation_call(
        &self,
        method: Method,
        mrn: Option<&Mrn>,
        msg: &Value,
    ) -> Result<Option<RequestId>, Error> {
        let m = method_str(&method);
        let url = match mrn {
            Some(mrn) => self.endpoint("relation.delete", &[("mrn", mrn.as_str())])?,
            None => self.endpoint("relation.create", &[])?,
        };
        let body = serde_json::to_vec(msg).map_err(|e| Error::InvalidInput {
            field: "relation".into(),
            reason: e.to_string(),
        })?;
        let kind = if mrn.is_some() {
            MessageKind::Delete
        } else {
            MessageKind::Relation
        };
        match self
            .execute(Api::Submission, method, &url, Some(&body))
            .await
        {
            Ok(r) if r.status.is_success() => {
                Ok(serde_json::from_slice::<RequestIdResponse>(&r.body)
                    .ok()
                    .map(|b| b.request_id))
            }
            Ok(r) => Err(self.status_error(m, &url, Some(kind), r)),
            Err(Failure::Error(e)) => Err(e),
            Err(Failure::Ambiguous(cause)) => Err(Error::Ambiguous(Box::new(AmbiguousContext {
                kind,
                method: m,
                path: url.path().to_owned(),
                cause,
                document: None,
                transport_means: None,
                scheduled_arrival: None,
                mrn: mrn.cloned(),
                reconciliation: Some("relations have no documented lookup; not re-sent".into()),
            }))),
        }
    }

    // --------------------------------------------------------------- polling

    /// One poll of `GET /{kind}/validation-status/{requestId}`: `None` while
    /// Toll answers 404 (not processed yet) or a 2xx without a body; the
    /// result for any 2xx with a body (Toll's prose says 202 for FAILURE,
    /// the v1 Swagger 200).
    ///
    /// # Errors
    /// Auth errors, [`Error::Transport`], [`Error::InvalidResponse`], …
    pub async fn validation_status(
        &self,
        kind: DocumentKind,
        request_id: &RequestId,
    ) -> Result<Option<ValidationStatus>, Error> {
        let rid = request_id.to_string();
        let url = self.endpoint(
            &format!("{}.validation-status", kind_name(kind)),
            &[("requestId", rid.as_str())],
        )?;
        let r = self.get(Api::Query, &url).await?;
        match r.status.as_u16() {
            404 => Ok(None),
            200..=299 if r.body.iter().all(u8::is_ascii_whitespace) => Ok(None),
            // Never an error once Toll has answered: a body that does not
            // parse is kept raw in `unparsed` (with what could be salvaged),
            // so the poll loop ends with "answered, unparsed".
            200..=299 => Ok(Some(ValidationStatus::from_body(
                *request_id,
                r.status.as_u16(),
                &r.body,
            ))),
            _ => Err(self.status_error("GET", &url, None, r)),
        }
    }

    /// Polls until the validation result is ready: the first poll after
    /// [`PollConfig::first_delay`], then with doubling intervals up to
    /// [`PollConfig::max_interval`], a last poll at the deadline.
    ///
    /// # Errors
    /// [`Error::ValidationPending`] (with the request id) at the deadline;
    /// the errors of [`MovementClient::validation_status`].
    pub async fn wait_for_validation(
        &self,
        kind: DocumentKind,
        request_id: &RequestId,
    ) -> Result<ValidationStatus, Error> {
        let poll = self.inner.poll;
        let started = Instant::now();
        tokio::time::sleep(poll.first_delay.min(poll.deadline)).await;
        let mut interval = poll.interval;
        loop {
            if let Some(status) = self.validation_status(kind, request_id).await? {
                return Ok(status);
            }
            let elapsed = started.elapsed();
            if elapsed >= poll.deadline {
                return Err(Error::ValidationPending {
                    kind: kind.message_kind(),
                    request_id: *request_id,
                    waited: elapsed,
                });
            }
            tokio::time::sleep(interval.min(poll.deadline - elapsed)).await;
            interval = interval.saturating_mul(2).min(poll.max_interval);
        }
    }

    /// Turns a validation result into the MRN or the errors.
    fn completed(kind: DocumentKind, status: ValidationStatus) -> Result<Completed, Error> {
        match &status.status {
            ProcessingStatus::Success => match status.mrn.clone() {
                Some(mrn) => Ok(Completed {
                    mrn,
                    request_id: Some(status.request_id),
                    incomplete: status.incomplete_documentation_reason_list.clone(),
                    confirmation: Confirmation::Validated,
                    validation: Some(status),
                }),
                None => Err(crate::service::unreadable(
                    &status,
                    "status SUCCESS without an mrn",
                )),
            },
            ProcessingStatus::Failure => Err(Error::Failed {
                origin: Origin::Toll,
                kind: kind.message_kind(),
                request_id: Some(status.request_id),
                errors: status.validation_error_list,
            }),
            ProcessingStatus::Other(other) => Err(crate::service::unreadable(
                &status,
                &crate::service::status_problem(other),
            )),
        }
    }

    async fn finish(&self, kind: DocumentKind, s: Submission) -> Result<Completed, Error> {
        match s {
            Submission::Accepted { request_id, .. } => {
                let status = self.wait_for_validation(kind, &request_id).await?;
                Self::completed(kind, status)
            }
            Submission::Reconciled(found) => match found.mrn {
                Some(mrn) => Ok(Completed {
                    mrn,
                    request_id: None,
                    incomplete: found.status.incomplete_documentation_reason_list,
                    confirmation: Confirmation::Reconciled,
                    validation: None,
                }),
                None => Err(Error::Ambiguous(Box::new(AmbiguousContext {
                    kind: kind.message_kind(),
                    method: "POST",
                    path: self
                        .endpoint(&format!("{}.create", kind_name(kind)), &[])
                        .map(|u| u.path().to_owned())
                        .unwrap_or_default(),
                    cause: "the POST's response was lost".into(),
                    document: Some(crate::error::DocumentKey {
                        document_number: found.status.document_number,
                        doc_type: found.status.doc_type,
                        carrier_id: String::new(),
                    }),
                    transport_means: None,
                    scheduled_arrival: None,
                    mrn: None,
                    reconciliation: Some(
                        "Toll has the document but its lookup reported no MRN".into(),
                    ),
                }))),
            },
        }
    }

    /// Submits a transport and waits for its MRN.
    ///
    /// # Errors
    /// As [`MovementClient::submit_transport`] and
    /// [`MovementClient::wait_for_validation`]; `FAILURE` gives
    /// [`Error::Failed`] with origin `Toll`.
    pub async fn submit_and_wait_transport(&self, msg: &Transport) -> Result<Completed, Error> {
        let s = self.submit_transport(msg).await?;
        self.finish(DocumentKind::Transport, s).await
    }

    /// Submits a master and waits for its MRN (or its reconciled MRN).
    ///
    /// # Errors
    /// As [`MovementClient::submit_and_wait_transport`].
    pub async fn submit_and_wait_master(
        &self,
        msg: &MasterConsignment,
    ) -> Result<Completed, Error> {
        let s = self.submit_master(msg).await?;
        self.finish(DocumentKind::MasterConsignment, s).await
    }

    /// Submits a house and waits for its MRN (or its reconciled MRN).
    ///
    /// # Errors
    /// As [`MovementClient::submit_and_wait_transport`].
    pub async fn submit_and_wait_house(&self, msg: &HouseConsignment) -> Result<Completed, Error> {
        let s = self.submit_house(msg).await?;
        self.finish(DocumentKind::HouseConsignment, s).await
    }

    /// Submits a raw JSON message and waits for its MRN.
    ///
    /// # Errors
    /// As [`MovementClient::submit_and_wait_transport`].
    pub async fn submit_and_wait_raw(
        &self,
        kind: DocumentKind,
        msg: &Value,
    ) -> Result<Completed, Error> {
        let s = self.submit_raw(kind, msg).await?;
        self.finish(kind, s).await
    }

    // --------------------------------------------------------------- queries

    /// `GET /transport/{mrn}/status-with-descendants`.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown MRN; auth and transport errors.
    pub async fn transport_status_with_descendants(
        &self,
        mrn: &Mrn,
    ) -> Result<StatusWithDescendants, Error> {
        let url = self.endpoint(
            "transport.status-with-descendants",
            &[("mrn", mrn.as_str())],
        )?;
        self.get_json(&url).await
    }

    /// `GET /master-consignment/{mrn}/status-with-descendants`.
    ///
    /// # Errors
    /// As [`MovementClient::transport_status_with_descendants`].
    pub async fn master_status_with_descendants(
        &self,
        mrn: &Mrn,
    ) -> Result<StatusWithDescendants, Error> {
        let url = self.endpoint("master.status-with-descendants", &[("mrn", mrn.as_str())])?;
        self.get_json(&url).await
    }

    /// `GET /transport/{mrn}/master-consignment/transport-document/status`:
    /// the masters on a transport (with `received`).
    ///
    /// # Errors
    /// As [`MovementClient::transport_status_with_descendants`].
    pub async fn transport_master_documents(
        &self,
        mrn: &Mrn,
    ) -> Result<Vec<DocumentStatus>, Error> {
        let url = self.endpoint("transport.master-documents", &[("mrn", mrn.as_str())])?;
        Ok(self
            .get_json::<OneOrMany<DocumentStatus>>(&url)
            .await?
            .into_vec())
    }

    /// `GET /transport/{mrn}/house-consignment/transport-document/status`:
    /// the houses on a transport, with missing documentation.
    ///
    /// # Errors
    /// As [`MovementClient::transport_status_with_descendants`].
    pub async fn transport_house_documents(&self, mrn: &Mrn) -> Result<Vec<DocumentStatus>, Error> {
        let url = self.endpoint("transport.house-documents", &[("mrn", mrn.as_str())])?;
        Ok(self
            .get_json::<OneOrMany<DocumentStatus>>(&url)
            .await?
            .into_vec())
    }

    /// `GET /master-consignment/{mrn}/transport-document/status`: the houses
    /// under a master.
    ///
    /// # Errors
    /// As [`MovementClient::transport_status_with_descendants`].
    pub async fn master_documents(&self, mrn: &Mrn) -> Result<Vec<DocumentStatus>, Error> {
        let url = self.endpoint("master.house-documents", &[("mrn", mrn.as_str())])?;
        Ok(self
            .get_json::<OneOrMany<DocumentStatus>>(&url)
            .await?
            .into_vec())
    }

    /// `GET /house-consignment/{mrn}/transport-document/status`.
    ///
    /// # Errors
    /// As [`MovementClient::transport_status_with_descendants`];
    /// [`Error::InvalidResponse`] for an empty list.
    pub async fn house_document_status(&self, mrn: &Mrn) -> Result<DocumentStatus, Error> {
        let url = self.endpoint("house.status", &[("mrn", mrn.as_str())])?;
        self.get_json::<OneOrMany<DocumentStatus>>(&url)
            .await?
            .into_vec()
            .into_iter()
            .next()
            .ok_or_else(|| Error::InvalidResponse {
                url: url.to_string(),
                status: 200,
                reason: "empty list".into(),
                body: "[]".into(),
            })
    }

    /// `GET /house-consignment/postal-receptacle/{id}/transport-document/status` (UPU post).
    ///
    /// # Errors
    /// As [`MovementClient::transport_status_with_descendants`].
    pub async fn postal_receptacle_documents(
        &self,
        receptacle_id: &str,
    ) -> Result<Vec<DocumentStatus>, Error> {
        let url = self.endpoint(
            "house.postal-receptacle",
            &[("receptacleId", receptacle_id)],
        )?;
        Ok(self
            .get_json::<OneOrMany<DocumentStatus>>(&url)
            .await?
            .into_vec())
    }

    /// `GET /master-consignment/transport-document/status?documentNumber=&type=&carrierId=`.
    ///
    /// # Errors
    /// [`Error::NotFound`] when nothing matches; auth and transport errors.
    pub async fn lookup_master(&self, key: &DocumentKey) -> Result<DocumentLookup, Error> {
        self.lookup(DocumentKind::MasterConsignment, key).await
    }

    /// `GET /house-consignment/transport-document/status?documentNumber=&type=&carrierId=`.
    ///
    /// # Errors
    /// As [`MovementClient::lookup_master`].
    pub async fn lookup_house(&self, key: &DocumentKey) -> Result<DocumentLookup, Error> {
        self.lookup(DocumentKind::HouseConsignment, key).await
    }

    async fn lookup(&self, kind: DocumentKind, key: &DocumentKey) -> Result<DocumentLookup, Error> {
        let url = self.endpoint(
            &format!("{}.lookup", kind_name(kind)),
            &[
                ("documentNumber", &key.document_number),
                ("type", &key.doc_type),
                ("carrierId", &key.carrier_id),
            ],
        )?;
        let all = self
            .get_json::<OneOrMany<LookupWire>>(&url)
            .await?
            .into_vec();
        let pick = all
            .iter()
            .position(|w| {
                w.status.document_number == key.document_number && w.status.doc_type == key.doc_type
            })
            .unwrap_or(0);
        all.into_iter()
            .nth(pick)
            .map(DocumentLookup::from)
            .ok_or(Error::NotFound {
                url: url.to_string(),
            })
    }

    /// `GET /entry/status/{mrn}` for a transport MRN (road query API, road scope).
    ///
    /// # Errors
    /// As [`MovementClient::transport_status_with_descendants`].
    pub async fn entry_status(&self, mrn: &Mrn) -> Result<EntryStatus, Error> {
        let url = self.endpoint("entry-status", &[("mrn", mrn.as_str())])?;
        self.get_json(&url).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_from_messages() {
        let master = serde_json::json!({"consignmentMasterLevel": {
            "carrier": {"identificationNumber": "912345688"},
            "transportDocumentMasterLevel": {"documentNumber": "CMR-1", "type": "N730"}}});
        assert_eq!(
            document_key(DocumentKind::MasterConsignment, &master),
            Some(DocumentKey {
                document_number: "CMR-1".into(),
                doc_type: "N730".into(),
                carrier_id: "912345688".into()
            })
        );
        let direct = serde_json::json!({"consignmentHouseLevel": {
            "tranportLevel": {"carrierIdentificationNumber": "912345688"},
            "transportDocumentHouseLevel": {"documentNumber": "H-1", "type": "N730"}}});
        assert_eq!(
            document_key(DocumentKind::HouseConsignment, &direct).map(|k| k.carrier_id),
            Some("912345688".into())
        );
        let postal = serde_json::json!({"consignmentHouseLevel": {
            "receptacleIdentificationNumber": "R1",
            "transportDocumentHouseLevel": {"documentNumber": "H-2", "type": "N750"}}});
        assert_eq!(document_key(DocumentKind::HouseConsignment, &postal), None);
        assert_eq!(document_key(DocumentKind::Transport, &master), None);
    }
}
