//! `digitoll-conformance`: where do Toll and our simulator differ?
//!
//! [`run`] takes a user's own Maskinporten client (client id and signer) and
//! a target (Toll TEST by default), and:
//!
//! 1. finds the Toll scopes the client holds (one token request each) unless
//!    they are given;
//! 2. runs a safe scripted scenario for those scopes against the target
//!    (see [`scenario`]): Maskinporten tokens, Maskinporten probes (extra
//!    `nbf`/`sub` claims, the same `jti` twice), the Toll token exchange,
//!    test-auth, a harmless query, a transport Toll must reject, a transport,
//!    master and house polled to MRN, status with descendants, an update,
//!    entry status, a routing page, a presentation, a tiny document upload,
//!    and the deletes of what it created;
//! 3. runs the same scenario, with the same messages, against the
//!    simulator started in-process with a matching organisation and client
//!    (a fresh key under the same client id and scopes);
//! 4. compares every answer step by step ([`compare`]): status codes, field
//!    names and JSON types, error wording; checks local validation's
//!    findings against Toll's answers (which rules Toll confirmed or
//!    contradicted); probes documented alternative paths for an endpoint
//!    Toll does not have where we expect it; and suggests a
//!    [`ContractProfile`] that makes the simulator match.
//!
//! Every exchange goes through a recording reverse proxy ([`proxy`]) and ends
//! up, secrets redacted, in [`Report::transcript`], which the CLI writes as
//! JSON lines (see `digitoll_sim::replay` to replay it).
//!
//! Nothing here reads files or the environment, and nothing prints.

pub mod compare;
mod probes;
mod proxy;
pub mod redact;
pub mod scenario;

use std::sync::Arc;
use std::time::Duration;

use digitoll_client::{PollConfig, RetryConfig, TollEnvironment, TollTokenProvider};
use digitoll_model::profile::{ContractProfile, endpoints};
use digitoll_model::rules::{self, Severity};
use digitoll_model::{MessageKind, PlaygroundFixtures, ValidationContext};
use digitoll_sim::{ClientRegistration, Exchange, Remote, RsaPrivateKey, Simulator};
use maskinporten::{Environment, OrgNumber, RsaKey, RsaSigner, Signer, TokenRequest};
use secrecy::ExposeSecret as _;
use serde::Serialize;
use serde_json::Value;
use url::Url;

pub use compare::{Difference, DifferenceKind};
pub use scenario::{StepOutcome, StepResult};

use crate::proxy::{Log, Proxy};
use crate::scenario::{Documents, Side};

/// Toll's and Maskinporten's production hosts: never used without
/// [`Config::allow_production`].
const PRODUCTION_HOSTS: &[&str] = &["api.toll.no", "maskinporten.no"];

/// Why the conformance run could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A production host without the explicit production flag.
    #[error(
        "{0} is production: conformance runs only against test environments unless production is named explicitly (--toll prod --i-know-this-is-production)"
    )]
    Production(String),
    /// Local set-up failed (proxy, simulator, clients).
    #[error("{0}")]
    Setup(String),
}

/// Where to run the scenario.
#[derive(Debug, Clone)]
pub struct Target {
    /// The Maskinporten environment; its issuer is the grants' `aud`.
    pub maskinporten: Environment,
    /// Where Maskinporten's token endpoint lives (its base URL; `token` is
    /// appended). Usually the issuer.
    pub maskinporten_url: Url,
    /// Toll's base URL (`https://api-test.toll.no`).
    pub toll_url: Url,
}

impl Target {
    /// Maskinporten TEST and `https://api-test.toll.no`.
    pub fn test() -> Self {
        Self::from_parts(Environment::Test, TollEnvironment::Test.base_url())
    }

    /// Maskinporten and Toll production.
    pub fn prod() -> Self {
        Self::from_parts(Environment::Prod, TollEnvironment::Prod.base_url())
    }

    /// A Maskinporten environment (token endpoint under its issuer) and a Toll base URL.
    pub fn from_parts(maskinporten: Environment, toll_url: Url) -> Self {
        let maskinporten_url = Url::parse(maskinporten.issuer()).unwrap_or_else(|_| {
            Url::parse("http://invalid.invalid/").unwrap_or_else(|_| unreachable!())
        });
        Self {
            maskinporten,
            maskinporten_url,
            toll_url,
        }
    }

    fn production_host(&self) -> Option<String> {
        [&self.maskinporten_url, &self.toll_url]
            .into_iter()
            .filter_map(|u| u.host_str())
            .find(|h| PRODUCTION_HOSTS.contains(h))
            .map(str::to_owned)
    }
}

/// Everything a run needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where.
    pub target: Target,
    /// The Maskinporten client id (integration id).
    pub client_id: String,
    /// Signs the grants (registered key or business certificate).
    pub signer: Arc<dyn Signer>,
    /// The scopes to exercise; empty: every Toll scope the client is granted.
    pub scopes: Vec<String>,
    /// The organisation of the client, for the simulator's registration;
    /// default: from the Maskinporten token's `consumer` claim.
    pub org_no: Option<OrgNumber>,
    /// Must be true for a production host.
    pub allow_production: bool,
    /// Makes the run's document numbers unique (default: a timestamp).
    pub run_tag: Option<String>,
    /// How long to wait for Toll's validation result per message.
    pub wait_timeout: Duration,
    /// Per-request timeout.
    pub request_timeout: Duration,
    /// The contract profile the clients and the simulator both follow
    /// (default: the built-in contract). With a suggested profile, a run
    /// checks that the profile matches Toll.
    pub profile: Arc<ContractProfile>,
}

impl Config {
    /// Defaults: Toll TEST, every held scope, 60 s per validation, 30 s per request.
    pub fn new(client_id: impl Into<String>, signer: Arc<dyn Signer>) -> Self {
        Self {
            target: Target::test(),
            client_id: client_id.into(),
            signer,
            scopes: Vec::new(),
            org_no: None,
            allow_production: false,
            run_tag: None,
            wait_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(30),
            profile: Arc::new(ContractProfile::default()),
        }
    }
}

/// What Toll confirmed or contradicted of a local rule.
#[derive(Debug, Clone, Serialize)]
pub struct RuleVerdict {
    /// The rule id (empty when the finding carries none yet).
    pub rule: String,
    /// Where the rule comes from (`D page`, `C repo path`, `I why`).
    pub sources: Vec<String>,
    /// The step that sent the message.
    pub step_id: String,
    /// `confirmed`, `contradicted` or `unknown_at_toll`.
    pub verdict: &'static str,
    /// Our wording.
    pub ours: Option<String>,
    /// Toll's wording.
    pub toll: Option<String>,
}

/// What the Maskinporten probes showed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MaskinportenFindings {
    /// `expires_in` of the tokens Maskinporten issued.
    pub token_lifetimes: Vec<u64>,
    /// Whether a grant with an extra `nbf` got a token.
    pub accepts_nbf: Option<bool>,
    /// Whether a grant with an extra `sub` got a token.
    pub accepts_sub: Option<bool>,
    /// Whether the second use of one `jti` got a token.
    pub accepts_replayed_jti: Option<bool>,
    /// The answer to the replayed grant.
    pub replay_answer: Option<String>,
}

/// The result of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The Toll base URL.
    pub toll_url: String,
    /// The Maskinporten issuer.
    pub maskinporten_issuer: String,
    /// The scopes exercised.
    pub scopes: Vec<String>,
    /// The steps against the target.
    pub steps: Vec<StepOutcome>,
    /// The steps against the simulator.
    pub simulator_steps: Vec<StepOutcome>,
    /// Every difference, in step order.
    pub differences: Vec<Difference>,
    /// Local rules checked against Toll's answers.
    pub rules: Vec<RuleVerdict>,
    /// Maskinporten's observed behaviour.
    pub maskinporten: MaskinportenFindings,
    /// A profile that makes the simulator match (TOML), empty when nothing differs.
    pub suggested_profile: String,
    /// Why the run stopped early, if it did.
    pub aborted: Option<String>,
    /// The run's tag (in its document numbers): pass it again
    /// ([`Config::run_tag`]) to replay the run's transcript.
    pub run_tag: String,
    /// Every exchange with the target, secrets redacted.
    #[serde(skip)]
    pub transcript: Vec<Exchange>,
}

impl Report {
    /// 0 when everything matched, 1 on differences, 2 when the run could not complete.
    pub fn exit_code(&self) -> u8 {
        if self.aborted.is_some() {
            2
        } else if self.differences.is_empty()
            && !self.rules.iter().any(|r| r.verdict != "confirmed")
        {
            0
        } else {
            1
        }
    }

    /// The transcript as JSON lines (one [`Exchange`] per line).
    pub fn transcript_jsonl(&self) -> String {
        transcript_jsonl(&self.transcript)
    }
}

/// Exchanges as JSON lines.
pub fn transcript_jsonl(exchanges: &[Exchange]) -> String {
    let mut out = String::new();
    for e in exchanges {
        if let Ok(line) = serde_json::to_string(e) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

/// Step id of the scope discovery (not compared: the simulator's client is
/// registered with exactly the scopes found).
pub const SCOPE_DISCOVERY_STEP: &str = "scopes.discover";
/// Step id of the probes of alternative endpoint paths.
pub const ALTERNATIVES_STEP: &str = "endpoints.alternatives";

/// The Toll scopes tried when none are given.
pub const TOLL_SCOPES: &[&str] = digitoll_sim::TOLL_SCOPES;

/// Runs the scenario against the target and the simulator and compares them.
///
/// # Errors
/// [`Error::Production`] for a production host without
/// [`Config::allow_production`]; [`Error::Setup`] when the proxies or the
/// simulator cannot start. Failures after that are in [`Report::aborted`],
/// with the transcript so far.
pub async fn run(config: Config) -> Result<Report, Error> {
    if let Some(host) = config.target.production_host()
        && !config.allow_production
    {
        return Err(Error::Production(host));
    }
    let now = time::OffsetDateTime::now_utc();
    let tag = config.run_tag.clone().unwrap_or_else(|| {
        format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}",
            now.year(),
            u8::from(now.month()),
            now.day(),
            now.hour(),
            now.minute(),
            now.second()
        )
    });
    let docs = Documents::new(&tag, now)?;

    // The target, behind its recording proxies.
    let log = Log::default();
    let mp_proxy = Proxy::start(
        Remote::Maskinporten,
        config.target.maskinporten_url.clone(),
        log.clone(),
        config.request_timeout,
    )
    .await?;
    let toll_proxy = Proxy::start(
        Remote::Toll,
        config.target.toll_url.clone(),
        log.clone(),
        config.request_timeout,
    )
    .await?;
    let target = Side {
        env: config.target.maskinporten.clone(),
        maskinporten_proxy: mp_proxy.base_url().clone(),
        toll_proxy: toll_proxy.base_url().clone(),
        client_id: config.client_id.clone(),
        signer: config.signer.clone(),
        poll: PollConfig {
            first_delay: Duration::from_millis(500),
            interval: Duration::from_secs(1),
            max_interval: Duration::from_secs(5),
            deadline: config.wait_timeout,
        },
        timeout: config.request_timeout,
        profile: config.profile.clone(),
    };
    let mut report = Report {
        toll_url: config.target.toll_url.to_string(),
        maskinporten_issuer: config.target.maskinporten.issuer().to_owned(),
        scopes: Vec::new(),
        steps: Vec::new(),
        simulator_steps: Vec::new(),
        differences: Vec::new(),
        rules: Vec::new(),
        maskinporten: MaskinportenFindings::default(),
        suggested_profile: String::new(),
        aborted: None,
        run_tag: tag.clone(),
        transcript: Vec::new(),
    };

    // 1. Which scopes the client holds, and its organisation.
    log.set_step(SCOPE_DISCOVERY_STEP);
    let mp = scenario::maskinporten_client(&target)?;
    let candidates: Vec<String> = if config.scopes.is_empty() {
        TOLL_SCOPES.iter().map(|s| (*s).to_owned()).collect()
    } else {
        config.scopes.clone()
    };
    let mut held = Vec::new();
    let mut org_no = config.org_no.clone();
    let mut first_error = None;
    for scope in &candidates {
        let Ok(request) = TokenRequest::for_scopes([scope.as_str()]) else {
            continue;
        };
        match mp.token(&request).await {
            Ok(token) => {
                held.push(scope.clone());
                if org_no.is_none() {
                    org_no = consumer_org(token.secret());
                }
            }
            Err(e) => {
                first_error.get_or_insert_with(|| format!("{scope}: {e}"));
            }
        }
    }
    report.scopes = held.clone();
    if held.is_empty() {
        report.aborted = Some(format!(
            "Maskinporten gave no token for any Toll scope ({}): {}",
            candidates.join(", "),
            first_error.unwrap_or_default()
        ));
        report.transcript = log.exchanges();
        return Ok(report);
    }

    // 2. The scenario against the target.
    report.steps = match scenario::run(&target, &log, &docs, &held).await {
        Ok(steps) => unproxied(steps, &target, &config.target),
        Err(e) => {
            report.aborted = Some(e.to_string());
            report.transcript = log.exchanges();
            return Ok(report);
        }
    };

    // 3. The same against the simulator, with a matching organisation and client.
    let sim_log = Log::default();
    let org = org_no.map_or_else(|| digitoll_sim::DEMO_ORG_NO.to_owned(), |o| o.to_string());
    let (sim, sim_side, _sim_proxies) =
        start_simulator(&config, &org, &held, &sim_log, &target).await?;
    report.simulator_steps = match scenario::run(&sim_side, &sim_log, &docs, &held).await {
        Ok(steps) => steps,
        Err(e) => {
            report.aborted = Some(format!("simulator: {e}"));
            report.transcript = log.exchanges();
            sim.shutdown().await;
            return Ok(report);
        }
    };
    sim.shutdown().await;

    // 4. Compare.
    let target_exchanges = log.exchanges();
    let sim_exchanges = sim_log.exchanges();
    let pairs = compare::pair(&report.steps, &target_exchanges, &sim_exchanges, &tag);
    report.differences = compare::differences(&pairs);
    report.rules = rule_verdicts(
        &report.steps,
        &target_exchanges,
        &docs,
        now,
        &config.profile,
    );
    report.maskinporten = maskinporten_findings(&target_exchanges);

    // The suggestion: the profile in use plus what Toll showed.
    let mut profile = (*config.profile).clone();
    for (ours, theirs) in compare::renames(&report.differences) {
        profile.response_fields.insert(ours, theirs);
    }
    for verdict in &report.rules {
        if verdict.rule.is_empty() || rules::find(&verdict.rule).is_none() {
            continue;
        }
        match (verdict.verdict, &verdict.toll) {
            ("confirmed", Some(text)) if Some(text) != verdict.ours.as_ref() => {
                let _ = profile.set_rule_text(&verdict.rule, text);
            }
            ("contradicted", _) => {
                let _ = profile.rules.set(&verdict.rule, Severity::Warning);
            }
            _ => {}
        }
    }
    if report.maskinporten.accepts_nbf == Some(true) {
        profile.maskinporten.accept_claims.insert("nbf".into());
    }
    if report.maskinporten.accepts_sub == Some(true) {
        profile.maskinporten.accept_claims.insert("sub".into());
    }
    for d in &report.differences {
        if d.kind == DifferenceKind::Status
            && d.request.contains("/validation-status/")
            && let Some(Ok(status)) = d.toll.as_deref().map(str::parse::<u16>)
            && (200..300).contains(&status)
        {
            let failure = report
                .steps
                .iter()
                .any(|s| s.id == d.step_id && matches!(&s.result, StepResult::Error { error } if error.starts_with("FAILURE")));
            if failure {
                profile.simulator.failure_status = status;
            } else {
                profile.simulator.success_status = status;
            }
        }
    }

    // 5. Endpoints Toll does not have where we expect them: try the documented alternatives.
    log.set_step(ALTERNATIVES_STEP);
    let tokens = TollTokenProvider::builder(
        Arc::new(mp),
        TollEnvironment::custom(target.toll_proxy.as_str())
            .map_err(|e| Error::Setup(format!("Toll URL: {e}")))?,
    )
    .profile(config.profile.clone())
    .retry(RetryConfig::none())
    .build();
    let moved = find_moved_endpoints(&report.differences, &pairs, &tokens, &target, &held).await;
    for (id, template, line) in moved {
        if profile.set_endpoint(id, &template).is_ok() {
            report.differences.push(Difference {
                step: 0,
                step_id: ALTERNATIVES_STEP.into(),
                kind: DifferenceKind::Status,
                request: template.clone(),
                field: None,
                toll: Some(template.clone()),
                simulator: None,
                message: line,
                also_in_steps: Vec::new(),
            });
        }
    }

    if profile != *config.profile {
        profile.name = Some(format!(
            "suggested by digitoll conformance against {}",
            config.target.toll_url
        ));
        report.suggested_profile = profile.to_toml();
    }
    report.transcript = log.exchanges();
    Ok(report)
}

/// Step texts with the recording proxies' addresses replaced by the remotes'.
fn unproxied(mut steps: Vec<StepOutcome>, side: &Side, target: &Target) -> Vec<StepOutcome> {
    let pairs = [
        (side.toll_proxy.as_str(), target.toll_url.as_str()),
        (
            side.maskinporten_proxy.as_str(),
            target.maskinporten_url.as_str(),
        ),
    ];
    let fix = |text: &mut String| {
        for (proxy, real) in pairs {
            let (proxy, real) = (proxy.trim_end_matches('/'), real.trim_end_matches('/'));
            if text.contains(proxy) {
                *text = text.replace(proxy, real);
            }
        }
    };
    for s in &mut steps {
        match &mut s.result {
            StepResult::Ok { detail } => fix(detail),
            StepResult::Error { error } => fix(error),
            StepResult::Skipped { reason } => fix(reason),
        }
    }
    steps
}

/// Starts the simulator with the user's client id and scopes under `org`
/// (a fresh key: the simulator cannot know the user's), behind its own proxies.
async fn start_simulator(
    config: &Config,
    org: &str,
    scopes: &[String],
    log: &Log,
    target: &Side,
) -> Result<(digitoll_sim::RunningSimulator, Side, (Proxy, Proxy)), Error> {
    let mut builder = Simulator::builder()
        .demo(false)
        .processing_delay(Duration::ZERO);
    builder = builder.profile((*config.profile).clone());
    let sim = builder
        .start()
        .await
        .map_err(|e| Error::Setup(format!("cannot start the simulator: {e}")))?;
    let key = tokio::task::spawn_blocking(RsaPrivateKey::generate)
        .await
        .map_err(|e| Error::Setup(format!("key generation: {e}")))?
        .map_err(|e| Error::Setup(format!("key generation: {e}")))?;
    let ctl = sim.control();
    ctl.try_register_organisation(org, "conformance organisation")
        .map_err(|e| Error::Setup(format!("simulator organisation {org}: {e}")))?;
    ctl.try_register_client(ClientRegistration::with_keys(
        config.client_id.clone(),
        org,
        scopes.iter().map(String::as_str),
        vec![key.public_jwk("conformance")],
    ))
    .map_err(|e| Error::Setup(format!("simulator client: {e}")))?;
    for scope in scopes {
        ctl.try_grant_scope(org, scope)
            .map_err(|e| Error::Setup(format!("simulator scope {scope}: {e}")))?;
    }
    let rsa = RsaKey::from_pem(key.pkcs8_pem().expose_secret().as_bytes(), None)
        .map_err(|e| Error::Setup(format!("simulator key: {e}")))?;
    let signer: Arc<dyn Signer> = Arc::new(RsaSigner::with_kid(rsa, "conformance"));
    let mp_proxy = Proxy::start(
        Remote::Maskinporten,
        sim.base_url(),
        log.clone(),
        config.request_timeout,
    )
    .await?;
    let toll_proxy = Proxy::start(
        Remote::Toll,
        sim.base_url(),
        log.clone(),
        config.request_timeout,
    )
    .await?;
    let side = Side {
        env: Environment::custom(sim.issuer()),
        maskinporten_proxy: mp_proxy.base_url().clone(),
        toll_proxy: toll_proxy.base_url().clone(),
        client_id: config.client_id.clone(),
        signer,
        poll: PollConfig {
            first_delay: Duration::from_millis(20),
            interval: Duration::from_millis(50),
            max_interval: Duration::from_millis(200),
            deadline: Duration::from_secs(10),
        },
        timeout: target.timeout,
        profile: config.profile.clone(),
    };
    Ok((sim, side, (mp_proxy, toll_proxy)))
}

/// The organisation number in a Maskinporten token's `consumer` claim
/// (`{"authority":"iso6523-actorid-upis","ID":"0192:123456789"}`)
/// \[D docs.digdir.no `maskinporten_protocol_token`\]. Not verified: only
/// used to register the same organisation in the simulator.
fn consumer_org(token: &str) -> Option<OrgNumber> {
    use base64::Engine as _;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    let id = claims.pointer("/consumer/ID")?.as_str()?;
    id.rsplit(':').next()?.parse().ok()
}

/// Token lifetimes and the probes' answers, from the target's exchanges.
fn maskinporten_findings(exchanges: &[Exchange]) -> MaskinportenFindings {
    let mut out = MaskinportenFindings::default();
    let got_token = |e: &Exchange| {
        e.status.is_some_and(|s| (200..300).contains(&s))
            && e.response_body
                .json()
                .is_some_and(|v| v.get("access_token").is_some())
    };
    for e in exchanges
        .iter()
        .filter(|e| e.remote == Remote::Maskinporten)
    {
        if let Some(life) = e
            .response_body
            .json()
            .and_then(|v| v.get("expires_in"))
            .and_then(Value::as_u64)
            && !out.token_lifetimes.contains(&life)
        {
            out.token_lifetimes.push(life);
        }
        match e.step.as_str() {
            "maskinporten.probe.nbf" => out.accepts_nbf = Some(got_token(e)),
            "maskinporten.probe.sub" => out.accepts_sub = Some(got_token(e)),
            _ => {}
        }
    }
    let replays: Vec<&Exchange> = exchanges
        .iter()
        .filter(|e| e.step == "maskinporten.probe.replay")
        .collect();
    if let [_, second, ..] = replays.as_slice() {
        out.accepts_replayed_jti = Some(got_token(second));
        out.replay_answer = Some(match second.response_body.json() {
            Some(v) if !got_token(second) => format!(
                "{} {} {}",
                second.status.unwrap_or(0),
                v.get("error").and_then(Value::as_str).unwrap_or(""),
                v.get("error_description")
                    .and_then(Value::as_str)
                    .unwrap_or("")
            )
            .trim()
            .to_owned(),
            _ => format!("{} (a token)", second.status.unwrap_or(0)),
        });
    }
    out
}

/// Local validation's findings for the messages the scenario sent, checked
/// against Toll's answers in the same step.
fn rule_verdicts(
    steps: &[StepOutcome],
    target: &[Exchange],
    docs: &Documents,
    now: time::OffsetDateTime,
    profile: &ContractProfile,
) -> Vec<RuleVerdict> {
    let mut out = Vec::new();
    let messages = [
        (
            "road.transport.invalid",
            MessageKind::Transport,
            &docs.invalid_transport,
        ),
        (
            "road.transport.create",
            MessageKind::Transport,
            &docs.transport,
        ),
        (
            "road.master.create",
            MessageKind::MasterConsignment,
            &docs.master,
        ),
        (
            "road.house.create",
            MessageKind::HouseConsignment,
            &docs.house,
        ),
    ];
    let ctx = ValidationContext::new(now)
        .with_rule_overrides(profile.rules.clone())
        .with_first_submission(true)
        .with_playground(PlaygroundFixtures::default());
    for (step_id, kind, body) in messages {
        let Some(step) = steps.iter().find(|s| s.id == step_id) else {
            continue;
        };
        if matches!(step.result, StepResult::Skipped { .. }) {
            continue;
        }
        let Ok((_, report)) = digitoll_model::validate_json(kind, &body.to_string(), &ctx) else {
            continue;
        };
        let findings: Vec<_> = report
            .findings()
            .into_iter()
            .filter(|f| f.severity == Severity::Error)
            .collect();
        let errors_of = |list: &[Exchange]| -> Vec<(String, String)> {
            list.iter()
                .filter(|e| e.step == step_id && e.remote == Remote::Toll)
                .flat_map(compare::error_messages)
                .collect()
        };
        let toll_errors = errors_of(target);
        let accepted = matches!(step.result, StepResult::Ok { .. });
        let mut used = vec![false; toll_errors.len()];
        for f in &findings {
            let sources = rules::find(&f.rule)
                .map(|r| {
                    r.sources
                        .iter()
                        .map(digitoll_model::profile::source_tag)
                        .collect()
                })
                .unwrap_or_default();
            let matched = toll_errors
                .iter()
                .position(|(path, _)| same_path(path, &f.path))
                .or_else(|| (findings.len() == 1 && toll_errors.len() == 1).then_some(0));
            let (verdict, toll) = match matched {
                Some(i) => {
                    used[i] = true;
                    ("confirmed", Some(toll_errors[i].1.clone()))
                }
                None if accepted => ("contradicted", None),
                None => ("unknown_at_toll", None),
            };
            out.push(RuleVerdict {
                rule: f.rule.clone(),
                sources,
                step_id: step_id.to_owned(),
                verdict,
                ours: Some(f.message.clone()),
                toll,
            });
        }
        for (i, (path, text)) in toll_errors.iter().enumerate() {
            if !used[i] {
                out.push(RuleVerdict {
                    rule: String::new(),
                    sources: Vec::new(),
                    step_id: step_id.to_owned(),
                    verdict: "toll_only",
                    ours: None,
                    toll: Some(format!("{path}: {text}")),
                });
            }
        }
    }
    out
}

fn same_path(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        s.trim_start_matches('/')
            .replace('/', ".")
            .to_ascii_lowercase()
    };
    !a.is_empty() && norm(a) == norm(b)
}

/// Where an endpoint may live instead of our catalogue's template, with
/// the source of each alternative: templates to try at Toll when it answers
/// 404 where we expect the endpoint.
fn alternatives(id: &str) -> Vec<String> {
    let mut out = Vec::new();
    let catalogue =
        |alt: &str| digitoll_model::profile::endpoint(alt).map(|e| e.template.to_owned());
    // Entry status "is documented on the arrival Swagger" [D
    // api/mo/beskrivelse-av-ankomst-api-EN.html] (reviews.md §1 #5).
    if id.ends_with(".entry-status") && !id.starts_with("arrival.") {
        out.extend(catalogue("arrival.entry-status"));
    }
    // validation-status written without a {requestId} segment [D
    // api/ics2/ics2-forsendelser-EN.html] (reviews.md §1 #6): both forms.
    if id == "presentation.validation-status" {
        out.extend(catalogue("presentation.validation-status.by-path"));
    }
    // test-auth moved from road v1 to v2 in March 2026 [D S26 in
    // digitoll-api.md, toll.github.io history]: an environment that lags
    // behind may still have it under v1.
    if id == "road.test-auth" {
        out.push("/api/movement/road/v1/test-auth".to_owned());
    }
    out
}

/// The catalogue endpoint a request went to (method and the profile's
/// path template), with that template.
fn endpoint_of(
    profile: &ContractProfile,
    method: &str,
    path: &str,
) -> Option<(&'static digitoll_model::profile::EndpointInfo, String)> {
    endpoints().iter().find_map(|e| {
        let template = profile.template(e.id).unwrap_or(e.template);
        let t = template.split('?').next().unwrap_or("");
        let ts: Vec<&str> = t.split('/').collect();
        let ps: Vec<&str> = path.split('/').collect();
        let matches = e.method.eq_ignore_ascii_case(method)
            && ts.len() == ps.len()
            && ts
                .iter()
                .zip(&ps)
                .all(|(t, p)| (t.starts_with('{') && t.ends_with('}')) || t == p);
        matches.then(|| (e, template.to_owned()))
    })
}

/// For each GET that Toll answered 404 where the simulator answered 2xx,
/// tries the catalogue's alternatives at Toll; returns (endpoint id, the
/// template that answered, report line).
async fn find_moved_endpoints(
    diffs: &[Difference],
    pairs: &[compare::Pair<'_>],
    tokens: &TollTokenProvider,
    target: &Side,
    scopes: &[String],
) -> Vec<(&'static str, String, String)> {
    let mut out = Vec::new();
    let http = match reqwest::Client::builder().timeout(target.timeout).build() {
        Ok(h) => h,
        Err(_) => return out,
    };
    for d in diffs.iter().filter(|d| d.kind == DifferenceKind::Status) {
        if d.toll.as_deref() != Some("404")
            || !d.simulator.as_deref().is_some_and(|s| s.starts_with('2'))
        {
            continue;
        }
        let Some(p) = pairs
            .iter()
            .find(|p| p.step_id == d.step_id && p.request == d.request)
        else {
            continue;
        };
        let Some(sent) = p.target else { continue };
        if sent.method != "GET" {
            continue;
        }
        let path = sent.path();
        let Some((info, template)) = endpoint_of(&target.profile, &sent.method, &path) else {
            continue;
        };
        // The values of the placeholders, from the path that was sent.
        let template_path = template.split('?').next().unwrap_or("");
        let values: Vec<(String, String)> = template_path
            .split('/')
            .zip(path.split('/'))
            .filter(|(t, _)| t.starts_with('{'))
            .map(|(t, v)| (t.trim_matches(['{', '}']).to_owned(), v.to_owned()))
            .collect();
        let scope = scopes
            .iter()
            .find(|s| s.as_str() == digitoll_sim::ROAD_SCOPE)
            .or_else(|| scopes.first());
        let Some(Ok(request)) = scope.map(|s| TokenRequest::for_scopes([s.as_str()])) else {
            continue;
        };
        let Ok(token) = tokens.token(&request).await else {
            continue;
        };
        for alt in alternatives(info.id) {
            let params: Vec<(&str, &str)> = values
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            // Render the alternative with the catalogue's renderer.
            let mut probe = (*target.profile).clone();
            if probe.set_endpoint(info.id, &alt).is_err() {
                continue;
            }
            let Ok(alt_path) = probe.path(info.id, &params) else {
                continue;
            };
            let Ok(url) = target.toll_proxy.join(alt_path.trim_start_matches('/')) else {
                continue;
            };
            let answered = http
                .get(url)
                .bearer_auth(token.secret())
                .send()
                .await
                .map(|r| r.status().as_u16());
            if let Ok(status) = answered
                && status != 404
                && status < 500
            {
                out.push((
                    info.id,
                    alt.clone(),
                    format!(
                        "step {} ({}): `{}` is not at {} at Toll; it answers {status} at {alt}",
                        d.step, d.step_id, info.id, template
                    ),
                ));
                break;
            }
        }
    }
    out
}
