//! [`SimControl`] methods and the admin API under `/sim/toll/` for the Toll part.
//!
//! | Method and path | Body / answer |
//! |---|---|
//! | `GET /sim/toll/messages` | stored messages (kind, mrn, org, state, document, body, …) |
//! | `GET /sim/toll/submissions` | `{"count":n,"submissions":[{request_id,kind,operation,org,mrn,status,received_at}]}` |
//! | `POST /sim/toll/arrivals` | `{"mrn":"26NO…","customs_office":"NO371001"}`: simulated border crossing (presentation, routing signals, entry); 204, 404 unknown transport, 400 bad office |
//! | `GET /sim/toll/presentations` | presentations (API and simulated) |
//! | `GET /sim/toll/routing-signals` | every routing signal (`feed`, `orgs`, MRNs, `signal`) |
//! | `POST /sim/toll/routing-signals` | `{"document_number","routing","routing_control_location"?}`: re-issue the newest signal of a house with a new routing; 201 `{"id"}` |
//! | `GET`, `PUT`, `DELETE /sim/toll/routing-overrides` | `{"document_number":"HWB-1","routing":"TO_CONTROL","routing_control_location":"AFTER_ENTRY"}`: routing for future crossings |
//! | `GET /sim/toll/documents` | metadata of uploaded documents |
//! | `GET /sim/toll/processing-delay`, `PUT /sim/toll/processing-delay` | `{"millis":1000}` |
//! | `PUT /sim/toll/token-lifetime` | `{"secs":970}`: `expires_in` of new Toll tokens |
//! | `PUT /sim/toll/playground` | `{"enabled":true}`: validate against the playground fixtures |
//!
//! Reads first process ready submissions and apply auto-cancellation, like the
//! Toll API itself.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use digitoll_model::TransportMode;

use super::{
    BorderCrossing, PresentationInfo, RoutingChoice, RoutingSignalInfo, TollMessageInfo,
    TollMessageKind, TollSubmissionInfo, UploadedDocument,
};
use crate::state::SimState;
use crate::{SimControl, SimError};

impl SimControl {
    /// Every stored Toll message (any state), oldest first. Ready submissions are
    /// processed and auto-cancellation applied first.
    pub fn toll_messages(&self) -> Vec<TollMessageInfo> {
        self.state
            .toll
            .store_at(self.state.clock.now())
            .message_infos()
    }

    /// One stored message by MRN (any state).
    pub fn toll_message(&self, mrn: &str) -> Option<TollMessageInfo> {
        self.toll_messages().into_iter().find(|m| m.mrn == mrn)
    }

    /// Every submission that got a requestId (POST, PUT, DELETE), oldest first.
    pub fn toll_submissions(&self) -> Vec<TollSubmissionInfo> {
        self.state
            .toll
            .store_at(self.state.clock.now())
            .submission_infos()
    }

    /// How many submissions got a requestId (400-rejected ones are not counted).
    pub fn toll_submission_count(&self) -> usize {
        self.toll_submissions().len()
    }

    /// Sets how long after receipt (on the sim clock) submissions are processed;
    /// applies to submissions received from now on. Zero makes results visible to
    /// the next call.
    pub fn set_processing_delay(&self, delay: StdDuration) {
        self.state
            .toll
            .update_config(|c| c.processing_delay = delay);
    }

    /// The current processing delay.
    pub fn processing_delay(&self) -> StdDuration {
        self.state.toll.config().processing_delay
    }

    /// Sets `expires_in` of Toll tokens issued from now on (default 970 s).
    pub fn set_toll_token_lifetime(&self, lifetime: StdDuration) {
        self.state
            .toll
            .update_config(|c| c.token_lifetime = lifetime);
    }

    /// Switches the playground fixture checks (TVINN, VOEC, NCTS) on or off.
    pub fn set_playground(&self, enabled: bool) {
        self.state.toll.update_config(|c| c.playground = enabled);
    }

    /// Simulates the border crossing of transport `transport_mrn` at
    /// `customs_office` now (sim clock): Toll presents every linked master and
    /// house, issues one routing signal per linked house and one for the
    /// transport, and grants entry (`validEntry` with `timeOfEntry` = now; the
    /// transport is no longer auto-cancelled).
    ///
    /// # Panics
    /// If the MRN names no active transport or the office is not in CL141.
    pub fn simulate_arrival(&self, transport_mrn: &str, customs_office: &str) -> BorderCrossing {
        match self.try_simulate_arrival(transport_mrn, customs_office) {
            Ok(crossing) => crossing,
            Err(e) => panic!("digitoll-sim: {e}"),
        }
    }

    /// Simulates a border crossing, or says why it cannot.
    pub fn try_simulate_arrival(
        &self,
        transport_mrn: &str,
        customs_office: &str,
    ) -> Result<BorderCrossing, SimError> {
        digitoll_model::CustomsOffice::parse(customs_office)
            .map_err(|e| SimError::InvalidInput(format!("customs_office: {e}")))?;
        let now = self.state.clock.now();
        let mut store = self.state.toll.store_at(now);
        store
            .cross_border(transport_mrn, customs_office, now, now)
            .map_err(|e| SimError::NotFound(format!("mrn: {e}")))
    }

    /// Chooses the routing for a house document number (or, for the
    /// transport-level signal, a transport MRN) in future border crossings.
    pub fn set_routing(&self, document_number: &str, routing: RoutingChoice) {
        self.state
            .toll
            .store_at(self.state.clock.now())
            .routing_overrides
            .insert(document_number.to_owned(), routing);
    }

    /// Forgets every routing override.
    pub fn clear_routing(&self) {
        self.state
            .toll
            .store_at(self.state.clock.now())
            .routing_overrides
            .clear();
    }

    /// The routing overrides by document number.
    pub fn routing_overrides(&self) -> Vec<(String, RoutingChoice)> {
        let store = self.state.toll.store_at(self.state.clock.now());
        let mut list: Vec<(String, RoutingChoice)> = store
            .routing_overrides
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        list.sort_by(|a, b| a.0.cmp(&b.0));
        list
    }

    /// Issues a new house signal for `document_number` with `routing`, a copy
    /// of its newest signal with a fresh id ("the last signal wins"); returns
    /// the new signal's id.
    pub fn send_routing_signal(
        &self,
        document_number: &str,
        routing: RoutingChoice,
    ) -> Result<uuid::Uuid, SimError> {
        let now = self.state.clock.now();
        self.state
            .toll
            .store_at(now)
            .resend_signal(document_number, &routing, now)
            .ok_or_else(|| {
                SimError::NotFound(format!(
                    "document_number: no routing signal yet for {document_number}; simulate an arrival first"
                ))
            })
    }

    /// Every routing signal issued, oldest first, both feeds.
    pub fn routing_signals(&self) -> Vec<RoutingSignalInfo> {
        self.state
            .toll
            .store_at(self.state.clock.now())
            .signal_infos()
    }

    /// Every presentation (API and simulated), oldest first.
    pub fn presentations(&self) -> Vec<PresentationInfo> {
        self.state
            .toll
            .store_at(self.state.clock.now())
            .presentation_infos()
    }

    /// Metadata of every uploaded document, oldest first.
    pub fn uploaded_documents(&self) -> Vec<UploadedDocument> {
        self.state
            .toll
            .documents
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Stores a movement message directly, as if submitted through `mode`'s
    /// API by `org` and processed successfully (no HTTP, no processing
    /// delay): for tests that need many messages quickly. The body is
    /// validated like a POST; any sync or business error is returned.
    pub fn insert_toll_message(
        &self,
        mode: TransportMode,
        kind: TollMessageKind,
        org: &str,
        body: &str,
    ) -> Result<String, SimError> {
        let now = self.state.clock.now();
        let ctx = digitoll_model::ValidationContext::new(now)
            .with_rule_overrides(self.state.profile.rules.clone());
        let (message, report) =
            digitoll_model::validate_json_for(mode, kind.model_kind(), body, &ctx)
                .map_err(|e| SimError::InvalidInput(format!("body: {e}")))?;
        let incomplete = match report.outcome() {
            digitoll_model::Outcome::Accepted { incomplete } => incomplete,
            _ => return Err(SimError::InvalidInput(format!("body: {report}"))),
        };
        let value: serde_json::Value =
            serde_json::from_str(body).map_err(|e| SimError::InvalidInput(format!("body: {e}")))?;
        let mut store = self.state.toll.store_at(now);
        store
            .insert_direct(mode, kind, org, message, value, incomplete, now)
            .map_err(|e| SimError::InvalidInput(format!("body: {e}")))
    }
}

pub(super) fn routes() -> Router<Arc<SimState>> {
    Router::new()
        .route("/sim/toll/messages", get(messages))
        .route("/sim/toll/submissions", get(submissions))
        .route("/sim/toll/arrivals", post(arrival))
        .route("/sim/toll/presentations", get(presentations))
        .route(
            "/sim/toll/routing-signals",
            get(routing_signals).post(send_signal),
        )
        .route(
            "/sim/toll/routing-overrides",
            get(get_overrides).put(put_override).delete(clear_overrides),
        )
        .route("/sim/toll/documents", get(documents))
        .route("/sim/toll/processing-delay", get(get_delay).put(set_delay))
        .route("/sim/toll/token-lifetime", put(set_token_lifetime))
        .route("/sim/toll/playground", put(set_playground))
}

fn control(state: Arc<SimState>) -> SimControl {
    SimControl { state }
}

fn error(status: StatusCode, message: String) -> Response {
    let error = if status == StatusCode::NOT_FOUND {
        "not_found"
    } else {
        "invalid_input"
    };
    (status, Json(json!({"error": error, "message": message}))).into_response()
}

fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, Box<Response>> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        Box::new(error(
            StatusCode::BAD_REQUEST,
            format!("request body at {}: {}", e.path(), e.inner()),
        ))
    })
}

async fn messages(State(s): State<Arc<SimState>>) -> Response {
    Json(control(s).toll_messages()).into_response()
}

async fn submissions(State(s): State<Arc<SimState>>) -> Response {
    let list = control(s).toll_submissions();
    Json(json!({"count": list.len(), "submissions": list})).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ArrivalBody {
    mrn: String,
    customs_office: String,
}

async fn arrival(State(s): State<Arc<SimState>>, body: Bytes) -> Response {
    let req: ArrivalBody = match parse(&body) {
        Ok(r) => r,
        Err(response) => return *response,
    };
    match control(s).try_simulate_arrival(&req.mrn, &req.customs_office) {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(SimError::NotFound(m)) => error(StatusCode::NOT_FOUND, m),
        Err(e) => error(StatusCode::BAD_REQUEST, e.to_string()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Delay {
    millis: u64,
}

async fn get_delay(State(s): State<Arc<SimState>>) -> Response {
    let millis = u64::try_from(control(s).processing_delay().as_millis()).unwrap_or(u64::MAX);
    Json(json!({"millis": millis})).into_response()
}

async fn set_delay(State(s): State<Arc<SimState>>, body: Bytes) -> Response {
    match parse::<Delay>(&body) {
        Ok(d) => {
            control(s).set_processing_delay(StdDuration::from_millis(d.millis));
            StatusCode::NO_CONTENT.into_response()
        }
        Err(response) => *response,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Lifetime {
    secs: u64,
}

async fn set_token_lifetime(State(s): State<Arc<SimState>>, body: Bytes) -> Response {
    match parse::<Lifetime>(&body) {
        Ok(l) => {
            control(s).set_toll_token_lifetime(StdDuration::from_secs(l.secs));
            StatusCode::NO_CONTENT.into_response()
        }
        Err(response) => *response,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Playground {
    enabled: bool,
}

async fn set_playground(State(s): State<Arc<SimState>>, body: Bytes) -> Response {
    match parse::<Playground>(&body) {
        Ok(p) => {
            control(s).set_playground(p.enabled);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(response) => *response,
    }
}

async fn presentations(State(s): State<Arc<SimState>>) -> Response {
    Json(control(s).presentations()).into_response()
}

async fn routing_signals(State(s): State<Arc<SimState>>) -> Response {
    Json(control(s).routing_signals()).into_response()
}

async fn documents(State(s): State<Arc<SimState>>) -> Response {
    Json(control(s).uploaded_documents()).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OverrideBody {
    document_number: String,
    routing: digitoll_model::Routing,
    #[serde(default)]
    routing_control_location: Option<digitoll_model::RoutingControlLocation>,
}

impl OverrideBody {
    fn choice(&self) -> RoutingChoice {
        RoutingChoice {
            routing: self.routing.clone(),
            routing_control_location: self.routing_control_location.clone(),
        }
    }
}

async fn get_overrides(State(s): State<Arc<SimState>>) -> Response {
    let list: Vec<serde_json::Value> = control(s)
        .routing_overrides()
        .into_iter()
        .map(|(doc, choice)| {
            json!({
                "document_number": doc,
                "routing": choice.routing,
                "routing_control_location": choice.routing_control_location,
            })
        })
        .collect();
    Json(list).into_response()
}

async fn put_override(State(s): State<Arc<SimState>>, body: Bytes) -> Response {
    match parse::<OverrideBody>(&body) {
        Ok(b) => {
            control(s).set_routing(&b.document_number, b.choice());
            StatusCode::NO_CONTENT.into_response()
        }
        Err(response) => *response,
    }
}

async fn clear_overrides(State(s): State<Arc<SimState>>) -> Response {
    control(s).clear_routing();
    StatusCode::NO_CONTENT.into_response()
}

async fn send_signal(State(s): State<Arc<SimState>>, body: Bytes) -> Response {
    let b = match parse::<OverrideBody>(&body) {
        Ok(b) => b,
        Err(response) => return *response,
    };
    match control(s).send_routing_signal(&b.document_number, b.choice()) {
        Ok(id) => (StatusCode::CREATED, Json(json!({"id": id}))).into_response(),
        Err(SimError::NotFound(m)) => error(StatusCode::NOT_FOUND, m),
        Err(e) => error(StatusCode::BAD_REQUEST, e.to_string()),
    }
}
