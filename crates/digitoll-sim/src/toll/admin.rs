//! [`SimControl`] methods and the admin API under `/sim/toll/` for the Toll part.
//!
//! | Method and path | Body / answer |
//! |---|---|
//! | `GET /sim/toll/messages` | stored messages (kind, mrn, org, state, document, body, …) |
//! | `GET /sim/toll/submissions` | `{"count":n,"submissions":[{request_id,kind,operation,org,mrn,status,received_at}]}` |
//! | `POST /sim/toll/arrivals` | `{"mrn":"26NO…","customs_office":"NO371001"}`: registers an arrival (entry becomes valid); 204, 404 unknown transport, 400 bad office |
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

use super::store::Arrival;
use super::{MessageState, TollMessageInfo, TollMessageKind, TollSubmissionInfo};
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

    /// Registers the arrival of transport `transport_mrn` at `customs_office` now
    /// (sim clock): entry status becomes valid with `timeOfEntry` = now, and the
    /// transport is no longer auto-cancelled.
    ///
    /// # Panics
    /// If the MRN names no active transport or the office is not in CL141.
    pub fn simulate_arrival(&self, transport_mrn: &str, customs_office: &str) {
        if let Err(e) = self.try_simulate_arrival(transport_mrn, customs_office) {
            panic!("digitoll-sim: {e}");
        }
    }

    /// Registers an arrival, or says why it cannot be registered.
    pub fn try_simulate_arrival(
        &self,
        transport_mrn: &str,
        customs_office: &str,
    ) -> Result<(), SimError> {
        digitoll_model::CustomsOffice::parse(customs_office)
            .map_err(|e| SimError::InvalidInput(format!("customs_office: {e}")))?;
        let now = self.state.clock.now();
        let mut store = self.state.toll.store_at(now);
        let Some(transport) = store
            .get_mut(transport_mrn)
            .filter(|m| m.kind == TollMessageKind::Transport && m.state == MessageState::Active)
        else {
            return Err(SimError::NotFound(format!(
                "mrn: no active transport with MRN {transport_mrn}"
            )));
        };
        transport.arrival = Some(Arrival {
            office: customs_office.to_owned(),
            at: now,
        });
        Ok(())
    }
}

pub(super) fn routes() -> Router<Arc<SimState>> {
    Router::new()
        .route("/sim/toll/messages", get(messages))
        .route("/sim/toll/submissions", get(submissions))
        .route("/sim/toll/arrivals", post(arrival))
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
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
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
