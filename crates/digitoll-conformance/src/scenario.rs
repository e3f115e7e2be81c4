//! The scripted scenario, run once against the target (Toll) and once
//! against the in-process simulator, through the recording proxies.
//!
//! Every step is harmless in Toll's test environment: messages are built
//! from the example messages (`examples/road/`), dated now, with document
//! numbers unique to the run, and use the playground fixtures (the TVINN
//! declaration `123456789` / `2022-08-10` / `1` of
//! `digitoll-playground-fixtures.json`, \[D toll.github.io
//! `api/mo/mo-eksempler-EN.html`\]); whatever the scenario creates, it
//! deletes at the end. Local validation is off on both sides: the point is
//! to see what the remote answers; local findings are compared separately.

use std::sync::Arc;
use std::time::Duration;

use digitoll_client::{
    DocumentClient, DocumentKey, DocumentKind, MovementClient, PollConfig, PresentationClient,
    RetryConfig, RoutingClient, RoutingFeed, Submission, TollEnvironment, TollTokenProvider,
    TransportMode, UploadFile,
};
use digitoll_model::documents::DocumentType;
use digitoll_model::entry::{Presentation, PresentationKind};
use digitoll_model::responses::ValidationStatus;
use digitoll_model::road::DocumentRef;
use digitoll_model::{Mrn, TollInstant};
use maskinporten::{Environment, MaskinportenClient, Signer, TokenRequest};
use serde::Serialize;
use serde_json::{Value, json};
use url::Url;

use crate::probes;
use crate::proxy::Log;

const TRANSPORT: &str = include_str!("../../../examples/road/valid-transport.json");
const MASTER: &str = include_str!("../../../examples/road/valid-master.json");
const HOUSE: &str = include_str!("../../../examples/road/valid-house-import-cude.json");

/// Scope of the road v2 APIs \[D `digitoll-api.md` §scopes\].
pub const ROAD_SCOPE: &str = "toll:movement/road/v2";
/// Scope of presentation, routing and arrival \[D `digitoll-api.md` §scopes\].
pub const ENTRY_SCOPE: &str = "toll:movement/entry";
/// Scope of the document API \[D `digitoll-api.md` §scopes\].
pub const DOCUMENT_SCOPE: &str = "toll:goodsdeclaration/document.write";
/// Svinesund, the example truck's office of first entry (CL141).
const OFFICE: &str = "NO371001";
/// A TVINN declaration known to the playground \[D `mo-eksempler-EN.html`\].
const DECLARATION: &str = "123456789-10082022-1";
/// The example messages' carrier (its organisation number).
const CARRIER: &str = "912345688";

/// One step's result on one side.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum StepResult {
    /// The client got what it asked for.
    Ok {
        /// A short summary (`MRN 26NO…`).
        detail: String,
    },
    /// The client reported an error (also expected ones, such as the
    /// deliberately invalid transport being rejected).
    Error {
        /// The client's error text.
        error: String,
    },
    /// Not run, and why.
    Skipped {
        /// E.g. `needs scope toll:movement/entry`.
        reason: String,
    },
}

/// One step of the scenario.
#[derive(Debug, Clone, Serialize)]
pub struct StepOutcome {
    /// Stable id, e.g. `road.house.create`.
    pub id: String,
    /// Position in the scenario (1-based).
    pub number: usize,
    /// What the step does.
    pub label: String,
    /// What happened.
    #[serde(flatten)]
    pub result: StepResult,
}

/// The messages both sides get: built once per run, so both sides see the
/// same document numbers.
#[derive(Debug, Clone)]
pub(crate) struct Documents {
    pub(crate) tag: String,
    pub(crate) transport: Value,
    pub(crate) master: Value,
    pub(crate) house: Value,
    /// A transport whose estimated arrival differs from the scheduled one on
    /// a first POST: Toll rejects it \[D S27 in `digitoll-api.md`\].
    pub(crate) invalid_transport: Value,
    pub(crate) updated_transport: Value,
}

impl Documents {
    /// The example messages with the run's document numbers, dated `now`.
    pub(crate) fn new(tag: &str, now: time::OffsetDateTime) -> Result<Self, crate::Error> {
        let unique = |text: &str| {
            text.replace("CMR-2026-120001", &format!("CMR-DTC-{tag}"))
                .replace("HWB-2026-0001", &format!("HWB-DTC-{tag}"))
                .replace("CMR-2026-120099", &format!("CMR-DTC-{tag}-H"))
                .replace("SE-POST-2026-4410", &format!("SE-DTC-{tag}"))
        };
        let transport = dated(&unique(TRANSPORT), now)?;
        let master = dated(&unique(MASTER), now)?;
        let house = dated(&unique(HOUSE), now)?;
        let mut invalid_transport = transport.clone();
        let later = TollInstant::from_offset_date_time(now + time::Duration::minutes(150));
        invalid_transport["estimatedDateAndTimeOfArrival"] = Value::String(later.to_string());
        let mut updated_transport = transport.clone();
        updated_transport["estimatedDateAndTimeOfArrival"] = Value::String(later.to_string());
        Ok(Self {
            tag: tag.to_owned(),
            transport,
            master,
            house,
            invalid_transport,
            updated_transport,
        })
    }

    /// The presentation's client-chosen requestId: derived from the run tag,
    /// so a replay of the run's transcript sees the same id.
    fn presentation_request_id(&self) -> uuid::Uuid {
        use sha2::Digest as _;
        let digest =
            sha2::Sha256::digest(format!("digitoll-conformance presentation {}", self.tag));
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    fn master_key(&self) -> DocumentKey {
        DocumentKey {
            document_number: format!("CMR-DTC-{}-LOOKUP", self.tag),
            doc_type: "N730".into(),
            carrier_id: CARRIER.into(),
        }
    }

    fn house_ref(&self) -> Result<DocumentRef, crate::Error> {
        serde_json::from_value(
            json!({"documentNumber": format!("HWB-DTC-{}", self.tag), "type": "N703"}),
        )
        .map_err(|e| crate::Error::Setup(format!("house reference: {e}")))
    }
}

fn dated(text: &str, now: time::OffsetDateTime) -> Result<Value, crate::Error> {
    let mut v: Value = serde_json::from_str(text)
        .map_err(|e| crate::Error::Setup(format!("embedded example message: {e}")))?;
    let issued = TollInstant::from_offset_date_time(now).to_string();
    let arrival = TollInstant::from_offset_date_time(now + time::Duration::hours(2)).to_string();
    if let Some(obj) = v.as_object_mut() {
        for (key, value) in obj.iter_mut() {
            match key.as_str() {
                "documentIssueDate" => *value = Value::String(issued.clone()),
                "scheduledDateAndTimeOfArrival" | "estimatedDateAndTimeOfArrival" => {
                    *value = Value::String(arrival.clone());
                }
                _ => {}
            }
        }
    }
    Ok(v)
}

/// Where one side's clients go (the recording proxies) and who they are.
#[derive(Debug, Clone)]
pub(crate) struct Side {
    /// The Maskinporten environment (its issuer is the grants' `aud`).
    pub(crate) env: Environment,
    /// The recording proxy in front of Maskinporten.
    pub(crate) maskinporten_proxy: Url,
    /// The recording proxy in front of Toll.
    pub(crate) toll_proxy: Url,
    pub(crate) client_id: String,
    pub(crate) signer: Arc<dyn Signer>,
    pub(crate) poll: PollConfig,
    pub(crate) timeout: Duration,
    /// The contract profile the clients follow.
    pub(crate) profile: Arc<digitoll_model::ContractProfile>,
}

struct Runner<'a> {
    log: &'a Log,
    outcomes: Vec<StepOutcome>,
}

impl Runner<'_> {
    fn begin(&self, id: &str) {
        self.log.set_step(id);
    }

    fn record(&mut self, id: &str, label: &str, result: StepResult) {
        let number = self.outcomes.len() + 1;
        self.outcomes.push(StepOutcome {
            id: id.to_owned(),
            number,
            label: label.to_owned(),
            result,
        });
    }

    fn skip(&mut self, id: &str, label: &str, scope: &str) {
        self.record(
            id,
            label,
            StepResult::Skipped {
                reason: format!("needs scope {scope}"),
            },
        );
    }
}

fn ok(detail: impl Into<String>) -> StepResult {
    StepResult::Ok {
        detail: detail.into(),
    }
}

fn err(e: impl std::fmt::Display) -> StepResult {
    StepResult::Error {
        error: e.to_string(),
    }
}

fn validation_result(status: &ValidationStatus) -> (StepResult, Option<Mrn>) {
    if !status.validation_error_list.is_empty() {
        let errors: Vec<String> = status
            .validation_error_list
            .iter()
            .map(|e| format!("{}: {}", e.pointer.message_element_path, e.description))
            .collect();
        return (err(format!("FAILURE: {}", errors.join("; "))), None);
    }
    match &status.mrn {
        Some(mrn) => (ok(format!("MRN {mrn}")), Some(mrn.clone())),
        None => (ok("accepted, no MRN".to_owned()), None),
    }
}

/// The Maskinporten client of a side (token endpoint = the proxy).
pub(crate) fn maskinporten_client(side: &Side) -> Result<MaskinportenClient, crate::Error> {
    let endpoint = side
        .maskinporten_proxy
        .join("token")
        .map_err(|e| crate::Error::Setup(format!("token endpoint: {e}")))?;
    MaskinportenClient::builder(
        side.env.clone(),
        side.client_id.clone(),
        side.signer.clone(),
    )
    .token_endpoint(endpoint)
    .build()
    .map_err(|e| crate::Error::Setup(format!("Maskinporten client: {e}")))
}

/// Runs the scenario for `scopes` against `side`, every exchange recorded in `log`.
pub(crate) async fn run(
    side: &Side,
    log: &Log,
    docs: &Documents,
    scopes: &[String],
) -> Result<Vec<StepOutcome>, crate::Error> {
    let mut r = Runner {
        log,
        outcomes: Vec::new(),
    };
    let has = |s: &str| scopes.iter().any(|x| x == s);
    let mp = Arc::new(maskinporten_client(side)?);

    // 1. One Maskinporten token per scope (the clients reuse them from the cache).
    for scope in scopes {
        let id = format!("maskinporten.token[{scope}]");
        r.begin(&id);
        let result = match TokenRequest::for_scopes([scope.as_str()]) {
            Ok(req) => match mp.token(&req).await {
                Ok(t) => ok(format!("token for {scope}, {} s", t.lifetime().as_secs())),
                Err(e) => err(e),
            },
            Err(e) => err(e),
        };
        r.record(&id, &format!("Maskinporten token for {scope}"), result);
    }

    // 2. Maskinporten probes with grants that can do no harm.
    if let Some(scope) = scopes.first() {
        for probe in probes::Probe::ALL {
            let id = probe.step_id();
            r.begin(id);
            let result = match probes::send(side, probe, scope).await {
                Ok(summary) => ok(summary),
                Err(e) => err(e),
            };
            r.record(id, probe.label(), result);
        }
    }

    let toll_env = TollEnvironment::custom(side.toll_proxy.as_str())
        .map_err(|e| crate::Error::Setup(format!("Toll URL: {e}")))?;
    let tokens = TollTokenProvider::builder(mp.clone(), toll_env)
        .profile(side.profile.clone())
        .retry(RetryConfig::none())
        .timeout(side.timeout)
        .build();

    // 3. The token exchange, test-auth and a harmless query per movement API.
    for mode in TransportMode::ALL {
        let scope = mode.scope();
        let name = mode.path_segment();
        let held = has(scope);
        if !held {
            if mode == TransportMode::Road {
                for (id, label) in ROAD_STEPS {
                    r.skip(id, label, scope);
                }
            }
            continue;
        }
        let client = MovementClient::builder(mode, tokens.clone())
            .validate_before_send(false)
            .playground_rules(true)
            .retry(RetryConfig::none())
            .timeout(side.timeout)
            .poll(side.poll)
            .build()
            .map_err(|e| crate::Error::Setup(format!("{name} client: {e}")))?;
        if mode == TransportMode::Road {
            let id = "toll.token-exchange";
            r.begin(id);
            let result = match TokenRequest::for_scopes([scope]) {
                Ok(req) => match tokens.token(&req).await {
                    Ok(t) => ok(format!("Toll token, {} s", t.lifetime().as_secs())),
                    Err(e) => err(e),
                },
                Err(e) => err(e),
            };
            r.record(id, "Toll token exchange", result);
        }
        let id = format!("{name}.test-auth");
        r.begin(&id);
        let result = match client.test_auth().await {
            Ok(()) => ok("200"),
            Err(e) => err(e),
        };
        r.record(&id, &format!("{name} test-auth"), result);
        if mode == TransportMode::Road {
            road(&mut r, &client, docs).await;
        }
    }

    // 4. Entry: one routing feed page and a presentation.
    if has(ENTRY_SCOPE) {
        let routing = RoutingClient::builder(tokens.clone())
            .retry(RetryConfig::none())
            .timeout(side.timeout)
            .build()
            .map_err(|e| crate::Error::Setup(format!("routing client: {e}")))?;
        let id = "routing.page";
        r.begin(id);
        let result = match routing.page(RoutingFeed::HouseConsignment, None).await {
            Ok(page) => ok(format!("{} signal(s)", page.len())),
            Err(e) => err(e),
        };
        r.record(id, "one page of the house routing feed", result);

        let presentation = PresentationClient::builder(tokens.clone())
            .validate_before_send(false)
            .playground_rules(true)
            .retry(RetryConfig::none())
            .timeout(side.timeout)
            .poll(side.poll)
            .build()
            .map_err(|e| crate::Error::Setup(format!("presentation client: {e}")))?;
        let id = "presentation.house";
        r.begin(id);
        let body = Presentation::house(
            &docs.presentation_request_id().to_string(),
            OFFICE,
            docs.house_ref()?,
        );
        let result = match presentation
            .present_and_wait(PresentationKind::HouseConsignment, &body)
            .await
        {
            Ok(p) => ok(format!("presented, requestId {}", p.request_id)),
            Err(e) => err(e),
        };
        r.record(id, "presentation of the house", result);
    } else {
        r.skip(
            "routing.page",
            "one page of the house routing feed",
            ENTRY_SCOPE,
        );
        r.skip(
            "presentation.house",
            "presentation of the house",
            ENTRY_SCOPE,
        );
    }

    // 5. A tiny document upload to a playground TVINN declaration.
    if has(DOCUMENT_SCOPE) {
        let documents = DocumentClient::builder(tokens.clone())
            .retry(RetryConfig::none())
            .timeout(side.timeout)
            .build()
            .map_err(|e| crate::Error::Setup(format!("document client: {e}")))?;
        let id = "documents.upload";
        r.begin(id);
        let file = UploadFile::from_bytes(
            format!("digitoll-conformance-{}.txt", docs.tag),
            "digitoll conformance test document\n".as_bytes().to_vec(),
        );
        let result = match documents
            .upload(DECLARATION, DocumentType::Invoice, file)
            .await
        {
            Ok(d) => ok(format!("uploaded, HTTP {}", d.status)),
            Err(e) => err(e),
        };
        r.record(id, "a tiny invoice upload", result);
    } else {
        r.skip("documents.upload", "a tiny invoice upload", DOCUMENT_SCOPE);
    }

    // 6. Deletes last (after the presentation), in reverse order of creation.
    if has(ROAD_SCOPE) {
        let client = MovementClient::builder(TransportMode::Road, tokens.clone())
            .validate_before_send(false)
            .playground_rules(true)
            .retry(RetryConfig::none())
            .timeout(side.timeout)
            .poll(side.poll)
            .build()
            .map_err(|e| crate::Error::Setup(format!("road client: {e}")))?;
        delete_created(&mut r, &client, docs).await;
    }
    Ok(r.outcomes)
}

const ROAD_STEPS: &[(&str, &str)] = &[
    ("toll.token-exchange", "Toll token exchange"),
    ("road.test-auth", "road test-auth"),
    (
        "road.query",
        "harmless query: master lookup by an unknown waybill",
    ),
    ("road.transport.invalid", "a transport Toll must reject"),
    ("road.transport.create", "transport create, polled to MRN"),
    ("road.master.create", "master create, polled to MRN"),
    ("road.house.create", "house create, polled to MRN"),
    (
        "road.status-with-descendants",
        "transport status with descendants",
    ),
    ("road.transport.update", "transport update, polled"),
    ("road.entry-status", "entry status of the transport"),
];

/// The road steps, in order; the MRNs are kept in the runner's outcomes.
async fn road(r: &mut Runner<'_>, client: &MovementClient, docs: &Documents) {
    let (id, label) = ROAD_STEPS[2];
    r.begin(id);
    let result = match client.lookup_master(&docs.master_key()).await {
        Ok(found) => ok(format!("found {:?}", found.mrn.map(|m| m.to_string()))),
        Err(e) => err(e),
    };
    r.record(id, label, result);

    let (id, label) = ROAD_STEPS[3];
    r.begin(id);
    let result = submit_and_poll(client, DocumentKind::Transport, &docs.invalid_transport)
        .await
        .0;
    r.record(id, label, result);

    let mut mrns: Vec<Option<Mrn>> = Vec::new();
    for ((id, label), (kind, body)) in ROAD_STEPS[4..7].iter().zip([
        (DocumentKind::Transport, &docs.transport),
        (DocumentKind::MasterConsignment, &docs.master),
        (DocumentKind::HouseConsignment, &docs.house),
    ]) {
        r.begin(id);
        let (result, mrn) = submit_and_poll(client, kind, body).await;
        r.record(id, label, result);
        mrns.push(mrn);
    }
    let transport = mrns.first().cloned().flatten();

    let (id, label) = ROAD_STEPS[7];
    r.begin(id);
    let result = match &transport {
        Some(mrn) => match client.transport_status_with_descendants(mrn).await {
            Ok(tree) => ok(format!(
                "{} master(s), {} house(s) directly under the transport",
                tree.master_consignments.len(),
                tree.house_consignments.len()
            )),
            Err(e) => err(e),
        },
        None => no_mrn(),
    };
    r.record(id, label, result);

    let (id, label) = ROAD_STEPS[8];
    r.begin(id);
    let result = match &transport {
        Some(mrn) => match client
            .update_raw(DocumentKind::Transport, mrn, &docs.updated_transport)
            .await
        {
            Ok(rid) => match client
                .wait_for_validation(DocumentKind::Transport, &rid)
                .await
            {
                Ok(status) => validation_result(&status).0,
                Err(e) => err(e),
            },
            Err(e) => err(e),
        },
        None => no_mrn(),
    };
    r.record(id, label, result);

    let (id, label) = ROAD_STEPS[9];
    r.begin(id);
    let result = match &transport {
        Some(mrn) => match client.entry_status(mrn).await {
            Ok(e) => ok(format!("validEntry {}", e.valid_entry)),
            Err(e) => err(e),
        },
        None => no_mrn(),
    };
    r.record(id, label, result);
}

fn no_mrn() -> StepResult {
    StepResult::Skipped {
        reason: "no transport MRN (see the create step)".into(),
    }
}

async fn submit_and_poll(
    client: &MovementClient,
    kind: DocumentKind,
    body: &Value,
) -> (StepResult, Option<Mrn>) {
    match client.submit_raw(kind, body).await {
        Ok(Submission::Accepted { request_id, .. }) => {
            match client.wait_for_validation(kind, &request_id).await {
                Ok(status) => validation_result(&status),
                Err(e) => (err(e), None),
            }
        }
        Ok(Submission::Reconciled(found)) => (
            ok(format!(
                "reconciled by lookup: {:?}",
                found.mrn.as_ref().map(ToString::to_string)
            )),
            found.mrn,
        ),
        Err(e) => (err(e), None),
    }
}

/// Deletes what the create steps made (house, master, transport).
async fn delete_created(r: &mut Runner<'_>, client: &MovementClient, docs: &Documents) {
    let mrn_of = |r: &Runner<'_>, step: &str| -> Option<Mrn> {
        r.outcomes
            .iter()
            .find(|o| o.id == step)
            .and_then(|o| match &o.result {
                StepResult::Ok { detail } => {
                    detail.strip_prefix("MRN ").and_then(|m| m.parse().ok())
                }
                _ => None,
            })
    };
    let delete_body = json!({
        "documentIssueDate": docs.transport["documentIssueDate"],
        "representative": docs.transport["representative"],
    });
    for (id, label, kind, created) in [
        (
            "road.house.delete",
            "delete the house",
            DocumentKind::HouseConsignment,
            "road.house.create",
        ),
        (
            "road.master.delete",
            "delete the master",
            DocumentKind::MasterConsignment,
            "road.master.create",
        ),
        (
            "road.transport.delete",
            "delete the transport",
            DocumentKind::Transport,
            "road.transport.create",
        ),
    ] {
        let Some(mrn) = mrn_of(r, created) else {
            r.record(
                id,
                label,
                StepResult::Skipped {
                    reason: format!("nothing to delete: {created} gave no MRN"),
                },
            );
            continue;
        };
        r.begin(id);
        let result = match client.delete_raw(kind, &mrn, &delete_body).await {
            Ok(rid) => match client.wait_for_validation(kind, &rid).await {
                Ok(status) => match validation_result(&status).0 {
                    StepResult::Ok { .. } => ok(format!("deleted {mrn}")),
                    other => other,
                },
                Err(e) => err(e),
            },
            Err(e) => err(e),
        };
        r.record(id, label, result);
    }
}
