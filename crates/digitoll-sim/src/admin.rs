//! The HTTP admin API under `/sim/` (JSON), mirroring [`crate::SimControl`].
//!
//! | Method and path | Body / answer |
//! |---|---|
//! | `GET /sim/organisations` | `[{"org_no","name"}]` |
//! | `POST /sim/organisations` | `{"org_no":"310000000","name":"Kunde AS"}` |
//! | `GET /sim/clients` | registered clients |
//! | `POST /sim/clients` | `{"client_id","org_no","scopes":[..],"keys":[JWK with kid..]}` (`keys` empty or absent = certificate client); replaces a client with the same id |
//! | `DELETE /sim/clients/{client_id}` | 204, or 404 |
//! | `GET /sim/scope-grants`, `POST /sim/scope-grants` | `{"org_no","scope"}` |
//! | `GET /sim/delegations`, `POST /sim/delegations` | `{"consumer_org","supplier_org","scope"}` |
//! | `GET /sim/clock` | `{"now":"RFC 3339","offset_secs":n}` |
//! | `PUT /sim/clock` | `{"offset_secs":n}` or `{"now":"2030-01-01T00:00:00Z"}` |
//! | `GET /sim/faults` | active faults with `id` and remaining `times` |
//! | `POST /sim/faults` | a fault (see below); answers `{"id":n}` |
//! | `DELETE /sim/faults`, `DELETE /sim/faults/{id}` | remove all / one |
//! | `PUT /sim/faults/seed` | `{"seed":42}`: reseed the fault RNG |
//! | `GET /sim/requests`, `DELETE /sim/requests` | recorded requests / clear them |
//! | `PUT /sim/token-lifetime` | `{"secs":600}`: `expires_in` of new access tokens |
//! | `POST /sim/certificates` | `{"org_no","name","environment":"test"\|"prod","not_before"?,"not_after"?,"use_organization_identifier"?}`; answers `{"chain_pem","key_pem","x5c"}` |
//!
//! A fault is `{"path_prefix":"/token","kind":{"type":...},"method"?,"times"?,"probability"?,"until"?}`
//! with `kind.type` one of `latency` (`millis`), `status` (`status`), `outage`
//! (`retry_after_secs`?), `rate_limited` (`retry_after_secs`), `drop_connection`,
//! `drop_response`; `until` is `{"clock":"sim"|"wall","at":"RFC 3339"}`, or give
//! `"for_secs":30` (with `"clock":"sim"|"wall"`, default sim) to end it that long from now.
//!
//! Errors answer 400/404 with `{"error":"...","message":"what is wrong, naming the field"}`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use secrecy::ExposeSecret as _;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use crate::ca::{CertEnvironment, CertOptions};
use crate::faults::{Fault, FaultUntil};
use crate::registry::{ClientRegistration, Delegation, Organisation, ScopeGrant};
use crate::state::SimState;
use crate::{SimControl, SimError};

/// Routes under `/sim/`.
pub(crate) fn routes() -> Router<Arc<SimState>> {
    Router::new()
        .route(
            "/sim/organisations",
            get(list_organisations).post(add_organisation),
        )
        .route("/sim/clients", get(list_clients).post(add_client))
        .route("/sim/clients/{client_id}", delete(remove_client))
        .route("/sim/scope-grants", get(list_grants).post(add_grant))
        .route(
            "/sim/delegations",
            get(list_delegations).post(add_delegation),
        )
        .route("/sim/clock", get(get_clock).put(set_clock))
        .route(
            "/sim/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/sim/faults/seed", put(seed_faults))
        .route("/sim/faults/{id}", delete(remove_fault))
        .route("/sim/requests", get(list_requests).delete(clear_requests))
        .route("/sim/token-lifetime", put(set_token_lifetime))
        .route("/sim/certificates", post(issue_certificate))
}

/// An admin API failure.
#[derive(Debug)]
struct AdminError(StatusCode, String);

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let error = if self.0 == StatusCode::NOT_FOUND {
            "not_found"
        } else {
            "invalid_input"
        };
        (self.0, Json(json!({"error": error, "message": self.1}))).into_response()
    }
}

impl From<SimError> for AdminError {
    fn from(e: SimError) -> Self {
        Self(StatusCode::BAD_REQUEST, e.to_string())
    }
}

type AdminResult = Result<Response, AdminError>;

fn control(state: Arc<SimState>) -> SimControl {
    SimControl { state }
}

/// Parses a JSON body, naming the failing path in the message.
fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, AdminError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        AdminError(
            StatusCode::BAD_REQUEST,
            format!("request body at {path}: {}", e.inner()),
        )
    })
}

fn ok(value: Value) -> AdminResult {
    Ok(Json(value).into_response())
}

fn created() -> AdminResult {
    Ok(StatusCode::CREATED.into_response())
}

async fn list_organisations(State(s): State<Arc<SimState>>) -> AdminResult {
    ok(json!(control(s).organisations()))
}

async fn add_organisation(State(s): State<Arc<SimState>>, body: Bytes) -> AdminResult {
    let org: Organisation = parse(&body)?;
    control(s).try_register_organisation(&org.org_no, &org.name)?;
    created()
}

async fn list_clients(State(s): State<Arc<SimState>>) -> AdminResult {
    ok(json!(control(s).clients()))
}

async fn add_client(State(s): State<Arc<SimState>>, body: Bytes) -> AdminResult {
    let client: ClientRegistration = parse(&body)?;
    control(s).try_register_client(client)?;
    created()
}

async fn remove_client(State(s): State<Arc<SimState>>, Path(id): Path<String>) -> AdminResult {
    if control(s).remove_client(&id) {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(AdminError(
            StatusCode::NOT_FOUND,
            format!("client_id {id:?} is not registered"),
        ))
    }
}

async fn list_grants(State(s): State<Arc<SimState>>) -> AdminResult {
    ok(json!(control(s).scope_grants()))
}

async fn add_grant(State(s): State<Arc<SimState>>, body: Bytes) -> AdminResult {
    let grant: ScopeGrant = parse(&body)?;
    control(s).try_grant_scope(&grant.org_no, &grant.scope)?;
    created()
}

async fn list_delegations(State(s): State<Arc<SimState>>) -> AdminResult {
    ok(json!(control(s).delegations()))
}

async fn add_delegation(State(s): State<Arc<SimState>>, body: Bytes) -> AdminResult {
    let d: Delegation = parse(&body)?;
    control(s).try_add_delegation(&d.consumer_org, &d.supplier_org, &d.scope)?;
    created()
}

fn clock_json(c: &SimControl) -> Value {
    let now = c.now();
    json!({
        "now": now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        "offset_secs": c.clock_offset().as_seconds_f64(),
    })
}

async fn get_clock(State(s): State<Arc<SimState>>) -> AdminResult {
    ok(clock_json(&control(s)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetClock {
    offset_secs: Option<f64>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    now: Option<OffsetDateTime>,
}

async fn set_clock(State(s): State<Arc<SimState>>, body: Bytes) -> AdminResult {
    let req: SetClock = parse(&body)?;
    let c = control(s);
    match (req.offset_secs, req.now) {
        (Some(secs), None) if secs.is_finite() => c.set_clock_offset(Duration::seconds_f64(secs)),
        (None, Some(now)) => c.set_now(now),
        _ => {
            return Err(AdminError(
                StatusCode::BAD_REQUEST,
                "request body: give exactly one of offset_secs (a number) or now (RFC 3339)".into(),
            ));
        }
    }
    ok(clock_json(&c))
}

async fn list_faults(State(s): State<Arc<SimState>>) -> AdminResult {
    ok(json!(control(s).faults()))
}

#[derive(Deserialize, Clone, Copy, Default)]
#[serde(rename_all = "lowercase")]
enum ClockKind {
    #[default]
    Sim,
    Wall,
}

#[derive(Deserialize)]
struct AddFault {
    #[serde(flatten)]
    fault: Fault,
    for_secs: Option<f64>,
    #[serde(default)]
    clock: ClockKind,
}

async fn add_fault(State(s): State<Arc<SimState>>, body: Bytes) -> AdminResult {
    let req: AddFault = parse(&body)?;
    let c = control(s);
    let mut fault = req.fault;
    if let Some(secs) = req.for_secs {
        if !(secs.is_finite() && secs >= 0.0) {
            return Err(AdminError(
                StatusCode::BAD_REQUEST,
                format!("for_secs: {secs} is not a duration"),
            ));
        }
        let d = Duration::seconds_f64(secs);
        fault.until = Some(match req.clock {
            ClockKind::Sim => FaultUntil::Sim { at: c.now() + d },
            ClockKind::Wall => FaultUntil::Wall {
                at: OffsetDateTime::now_utc() + d,
            },
        });
    }
    let id = c.try_add_fault(fault)?;
    Ok((StatusCode::CREATED, Json(json!({"id": id}))).into_response())
}

async fn clear_faults(State(s): State<Arc<SimState>>) -> AdminResult {
    control(s).clear_faults();
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn remove_fault(State(s): State<Arc<SimState>>, Path(id): Path<u64>) -> AdminResult {
    if control(s).remove_fault(id) {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(AdminError(
            StatusCode::NOT_FOUND,
            format!("fault {id} does not exist"),
        ))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Seed {
    seed: u64,
}

async fn seed_faults(State(s): State<Arc<SimState>>, body: Bytes) -> AdminResult {
    let req: Seed = parse(&body)?;
    control(s).seed_faults(req.seed);
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_requests(State(s): State<Arc<SimState>>) -> AdminResult {
    ok(json!(control(s).requests()))
}

async fn clear_requests(State(s): State<Arc<SimState>>) -> AdminResult {
    control(s).clear_requests();
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenLifetime {
    secs: u64,
}

async fn set_token_lifetime(State(s): State<Arc<SimState>>, body: Bytes) -> AdminResult {
    let req: TokenLifetime = parse(&body)?;
    control(s).set_token_lifetime(std::time::Duration::from_secs(req.secs));
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IssueCertificate {
    org_no: String,
    name: String,
    #[serde(default)]
    environment: CertEnvironment,
    #[serde(default, with = "time::serde::rfc3339::option")]
    not_before: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    not_after: Option<OffsetDateTime>,
    #[serde(default)]
    use_organization_identifier: bool,
}

async fn issue_certificate(State(s): State<Arc<SimState>>, body: Bytes) -> AdminResult {
    let req: IssueCertificate = parse(&body)?;
    let defaults = CertOptions::default();
    let opts = CertOptions {
        environment: req.environment,
        not_before: req.not_before.unwrap_or(defaults.not_before),
        not_after: req.not_after.unwrap_or(defaults.not_after),
        use_organization_identifier: req.use_organization_identifier,
    };
    let cert = tokio::task::spawn_blocking(move || {
        s.ca.try_issue_business_certificate(&req.org_no, &req.name, opts, None)
    })
    .await
    .map_err(|e| {
        AdminError(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("certificate task: {e}"),
        )
    })??;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "chain_pem": cert.chain_pem(),
            "key_pem": cert.key_pem().expose_secret(),
            "x5c": cert.x5c(),
        })),
    )
        .into_response())
}
