//! The movement submission APIs: road v2 under `/api/movement/road/v2` and
//! air, rail and maritime under `/api/movement/{air,rail,maritime}/v1`. One
//! implementation serves all four, parameterised by
//! [`digitoll_model::TransportMode`]; the per-mode differences (scope, CL018
//! code, identification types, flight number) come from the model's
//! [`digitoll_model::TransportMode::rules`] table.
//!
//! POST, PUT and DELETE are validated synchronously with
//! `digitoll_model::validate_json_for` (400 `{"validationErrors"}` on sync errors,
//! also for a body that is not JSON: field `requestBody`), then answered 202
//! `{"requestId"}` and processed later (see [`super::processing`]). PUT and
//! DELETE answer 404 when the MRN does not name an active message of that kind
//! that the caller may see. A `Content-Type` other than JSON gets 415.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use digitoll_model::profile::ContractProfile;
use digitoll_model::{
    MessageKind, Outcome, PlaygroundFixtures, TransportMode, ValidationContext, validate_json_for,
};
use serde_json::{Value, json};

use super::auth::authenticate_mode;
use super::paths::{Params, mount};
use super::store::{RequestRecord, Verdict, Work};
use super::{SubmissionOperation, SubmissionStatus, TollMessageKind, not_found};
use crate::state::SimState;

pub(super) fn routes(profile: &ContractProfile) -> Router<Arc<SimState>> {
    let mut router = Router::new();
    for mode in TransportMode::ALL {
        router = mode_routes(router, profile, mode);
    }
    router
}

/// The submission API of one mode, at the profile's paths.
fn mode_routes(
    mut router: Router<Arc<SimState>>,
    profile: &ContractProfile,
    mode: TransportMode,
) -> Router<Arc<SimState>> {
    let m = mode.path_segment();
    router = mount(
        router,
        profile,
        &format!("{m}.test-auth"),
        move |State(s): State<Arc<SimState>>, headers: HeaderMap| test_auth(s, mode, headers),
    );
    for kind in [
        TollMessageKind::Transport,
        TollMessageKind::MasterConsignment,
        TollMessageKind::HouseConsignment,
        TollMessageKind::Relation,
    ] {
        let k = kind.endpoint_name();
        router = mount(
            router,
            profile,
            &format!("{m}.{k}.create"),
            move |State(s): State<Arc<SimState>>, headers: HeaderMap, body: Bytes| {
                submit(
                    s,
                    mode,
                    kind,
                    SubmissionOperation::Create,
                    None,
                    headers,
                    body,
                )
            },
        );
        router = mount(
            router,
            profile,
            &format!("{m}.{k}.delete"),
            move |State(s): State<Arc<SimState>>, p: Params, headers: HeaderMap, body: Bytes| {
                submit(
                    s,
                    mode,
                    kind,
                    SubmissionOperation::Delete,
                    Some(p.get("mrn")),
                    headers,
                    body,
                )
            },
        );
        // Relations have no PUT: change = DELETE + POST (S6).
        if kind != TollMessageKind::Relation {
            router = mount(
                router,
                profile,
                &format!("{m}.{k}.update"),
                move |State(s): State<Arc<SimState>>,
                      p: Params,
                      headers: HeaderMap,
                      body: Bytes| {
                    submit(
                        s,
                        mode,
                        kind,
                        SubmissionOperation::Update,
                        Some(p.get("mrn")),
                        headers,
                        body,
                    )
                },
            );
        }
    }
    router
}

async fn test_auth(state: Arc<SimState>, mode: TransportMode, headers: HeaderMap) -> Response {
    match authenticate_mode(&state.toll.tokens, &headers, state.clock.now(), mode) {
        Ok(_) => (StatusCode::OK, "OK").into_response(),
        Err(response) => *response,
    }
}

fn sync_error(body: impl serde::Serialize) -> Response {
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

async fn submit(
    state: Arc<SimState>,
    mode: TransportMode,
    kind: TollMessageKind,
    operation: SubmissionOperation,
    mrn: Option<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = state.clock.now();
    let caller = match authenticate_mode(&state.toll.tokens, &headers, now, mode) {
        Ok(caller) => caller,
        Err(response) => return *response,
    };
    if let Some(content_type) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    {
        let mime = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if mime != "application/json" && !mime.ends_with("+json") {
            return (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Json(json!({
                    "status": 415,
                    "error": "Unsupported Media Type",
                    "message": format!("Content-Type {content_type:?} is not supported; send application/json"),
                })),
            )
                .into_response();
        }
    }
    let Ok(text) = std::str::from_utf8(&body) else {
        return sync_error(json!({"validationErrors": [
            {"field": "requestBody", "error": "request body is not UTF-8"}
        ]}));
    };
    let config = state.toll.config();
    let mut ctx = ValidationContext::new(now)
        .with_first_submission(operation == SubmissionOperation::Create)
        .with_rule_overrides(state.profile.rules.clone());
    if config.playground {
        ctx = ctx.with_playground(PlaygroundFixtures::default());
    }
    let model_kind = if operation == SubmissionOperation::Delete {
        MessageKind::Delete
    } else {
        kind.model_kind()
    };
    let (message, report) = match validate_json_for(mode, model_kind, text, &ctx) {
        Ok(parsed) => parsed,
        Err(malformed) => return sync_error(malformed.to_sync_body()),
    };
    let verdict = match report.outcome() {
        Outcome::Rejected(body) => return sync_error(body),
        Outcome::Failed(errors) => Verdict::Failed(errors),
        Outcome::Accepted { incomplete } => Verdict::Accepted(incomplete),
    };
    let body_value: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let mut store = state.toll.store_at(now);
    if let Some(mrn) = &mrn
        && store
            .visible(kind, mrn, &caller.org)
            .is_none_or(|m| m.mode != mode)
    {
        return not_found(format!(
            "no active {} {} with MRN {mrn} for organisation {}",
            mode,
            kind.path_segment(),
            caller.org
        ));
    }
    let delay = time::Duration::try_from(config.processing_delay).unwrap_or(time::Duration::ZERO);
    let request_id = uuid::Uuid::new_v4();
    store.add_request(RequestRecord {
        request_id,
        mode,
        kind,
        operation,
        org: caller.org,
        mrn,
        received_at: now,
        ready_at: now + delay,
        status: SubmissionStatus::Pending,
        work: Some(Work {
            message,
            body: body_value,
            verdict,
        }),
        result: None,
    });
    (
        StatusCode::ACCEPTED,
        Json(json!({"requestId": request_id.hyphenated().to_string()})),
    )
        .into_response()
}
