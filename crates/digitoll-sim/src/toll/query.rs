//! The movement query APIs: road v2 under `/api/movement/road/status/v2` and
//! air, rail and maritime under `/api/movement/{mode}/status/v1`, one
//! implementation for all modes. A query only sees messages submitted through
//! its own mode's API (others answer 404).
//!
//! Response shapes follow digitoll-api.md §1.1/§1.2; additions we made are
//! marked \[I\] and are all extra fields a tolerant client ignores:
//!
//! - the document-status object is `{"documentNumber","type","documentStatus",
//!   "incompleteDocumentationReasonList","mrn"}` (`mrn` \[I\], so a lost POST
//!   response can be reconciled by a lookup);
//! - tree nodes carry `mrn` and `received` \[I on houses\]; a transport's direct
//!   consignments are listed in a top-level `houseConsignments` array \[I\];
//!   houses that name a master the transport references are shown under that
//!   master even before the master itself is received;
//! - the receptacle query answers an array of document statuses \[I\].
//!
//! Every query answers 404 when nothing visible matches; a validation status is
//! visible only to the organisation that submitted the request, and it answers
//! 404 until the request is processed. Relation requests can be polled under any
//! kind's `validation-status` path \[I\] (Toll documents no relation query).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use digitoll_model::TollInstant;
use serde_json::{Value, json};

use digitoll_model::TransportMode;
use digitoll_model::profile::ContractProfile;

use super::paths::{Params, mount};

use super::auth::{Caller, authenticate_mode};
use super::store::{HouseSlot, MasterSlot, StoredMessage, Weight};
use super::{Store, SubmissionStatus, TollMessageKind, not_found};
use crate::state::SimState;

pub(super) fn routes(profile: &ContractProfile) -> Router<Arc<SimState>> {
    let mut router = Router::new();
    for mode in TransportMode::ALL {
        router = mode_routes(router, profile, mode);
    }
    // Entry status on the arrival API, "designed for all modes" (S7): any
    // movement scope, any mode's transport [I: the arrival scope is undocumented].
    mount(
        router,
        profile,
        "arrival.entry-status",
        |State(s): State<Arc<SimState>>, p: Params, headers: HeaderMap| async move {
            arrival_entry_status(&s, &headers, &p.get("mrn"))
        },
    )
}

/// The query API of one mode (same endpoints for every mode, §1.5), at the
/// profile's paths.
fn mode_routes(
    mut router: Router<Arc<SimState>>,
    profile: &ContractProfile,
    mode: TransportMode,
) -> Router<Arc<SimState>> {
    let m = mode.path_segment();
    for kind in [
        TollMessageKind::Transport,
        TollMessageKind::MasterConsignment,
        TollMessageKind::HouseConsignment,
        TollMessageKind::Relation,
    ] {
        router = mount(
            router,
            profile,
            &format!("{m}.{}.validation-status", kind.endpoint_name()),
            move |State(s): State<Arc<SimState>>, p: Params, headers: HeaderMap| async move {
                let id = p.get("requestId");
                match with_store_value(&s, &headers, mode, |store, caller| {
                    validation_status(store, caller, kind, &id)
                }) {
                    Ok(value) => ready_response(&s, value),
                    Err(response) => *response,
                }
            },
        );
    }
    let by_mrn_routes: [(&str, &str, QueryFn); 7] = [
        ("transport.status-with-descendants", "mrn", transport_tree),
        ("transport.master-documents", "mrn", transport_masters),
        ("transport.house-documents", "mrn", transport_houses),
        ("master.status-with-descendants", "mrn", master_tree),
        ("master.house-documents", "mrn", master_houses),
        ("house.status", "mrn", house_status),
        ("house.postal-receptacle", "receptacleId", receptacle_houses),
    ];
    for (id, name, f) in by_mrn_routes {
        router = mount(
            router,
            profile,
            &format!("{m}.{id}"),
            by_param(mode, name, f),
        );
    }
    router = mount(
        router,
        profile,
        &format!("{m}.entry-status"),
        by_param(mode, "mrn", entry_status),
    );
    router = mount(
        router,
        profile,
        &format!("{m}.master.lookup"),
        lookup(mode, TollMessageKind::MasterConsignment),
    );
    mount(
        router,
        profile,
        &format!("{m}.house.lookup"),
        lookup(mode, TollMessageKind::HouseConsignment),
    )
}

type QueryFn = fn(&Store, &Caller, &str) -> QueryResult;

/// A ready validation status, answered with the profile's `[simulator]`
/// status: `failure_status` for FAILURE (202 by default, as Toll documents in
/// `asynkrone-valideringsfeil-EN.html`), `success_status` otherwise.
pub(super) fn ready_response(state: &SimState, value: Value) -> Response {
    let settings = state.profile.simulator;
    let code = if value.get("status").and_then(Value::as_str) == Some("FAILURE") {
        settings.failure_status
    } else {
        settings.success_status
    };
    (
        StatusCode::from_u16(code).unwrap_or(StatusCode::OK),
        Json(value),
    )
        .into_response()
}

type QueryResult = Result<Value, Box<Response>>;

/// Authenticates, brings the store up to now and runs `f` under its lock.
fn with_store(
    state: &SimState,
    headers: &HeaderMap,
    mode: TransportMode,
    f: impl FnOnce(&Store, &Caller) -> QueryResult,
) -> Response {
    match with_store_value(state, headers, mode, f) {
        Ok(value) => Json(value).into_response(),
        Err(response) => *response,
    }
}

/// As [`with_store`], returning the value.
fn with_store_value(
    state: &SimState,
    headers: &HeaderMap,
    mode: TransportMode,
    f: impl FnOnce(&Store, &Caller) -> QueryResult,
) -> QueryResult {
    let now = state.clock.now();
    let caller = authenticate_mode(&state.toll.tokens, headers, now, mode)?;
    let store = state.toll.store_at(now);
    f(&store, &caller)
}

/// `GET /api/movement/arrival/v1/entry/status/{mrn}`: the entry status of a
/// transport of any mode, for a caller with any movement scope.
fn arrival_entry_status(state: &SimState, headers: &HeaderMap, mrn: &str) -> Response {
    let now = state.clock.now();
    let scopes: Vec<&str> = TransportMode::ALL
        .iter()
        .flat_map(|m| [m.scope(), m.eu_scope()])
        .collect();
    let org = match super::auth::authenticate(&state.toll.tokens, headers, now, &scopes) {
        Ok(org) => org,
        Err(response) => return *response,
    };
    let store = state.toll.store_at(now);
    let mode = store
        .visible(TollMessageKind::Transport, mrn, &org)
        .map(|m| m.mode);
    let Some(mode) = mode else {
        return not_found(format!(
            "no transport with MRN {mrn} for organisation {org}"
        ));
    };
    match entry_status(&store, &Caller { org, mode }, mrn) {
        Ok(value) => Json(value).into_response(),
        Err(response) => *response,
    }
}

/// A handler for queries by one placeholder (`mrn`, `receptacleId`).
#[allow(clippy::type_complexity)] // the handler's full type, spelled out once
fn by_param(
    mode: TransportMode,
    name: &'static str,
    f: QueryFn,
) -> impl Fn(State<Arc<SimState>>, Params, HeaderMap) -> std::future::Ready<Response<Body>>
+ Clone
+ Send
+ Sync
+ 'static {
    move |State(s), params: Params, headers| {
        let param = params.get(name);
        std::future::ready(with_store(&s, &headers, mode, |store, caller| {
            f(store, caller, &param)
        }))
    }
}

/// A handler for the lookups by `documentNumber`, `type` and `carrierId`.
#[allow(clippy::type_complexity)] // the handler's full type, spelled out once
fn lookup(
    mode: TransportMode,
    kind: TollMessageKind,
) -> impl Fn(State<Arc<SimState>>, Params, HeaderMap) -> std::future::Ready<Response<Body>>
+ Clone
+ Send
+ Sync
+ 'static {
    move |State(s), params: Params, headers| {
        std::future::ready(with_store(&s, &headers, mode, |store, caller| {
            lookup_document(store, caller, kind, params.map())
        }))
    }
}

fn missing(what: String) -> Box<Response> {
    Box::new(not_found(what))
}

fn validation_status(
    store: &Store,
    caller: &Caller,
    kind: TollMessageKind,
    id: &str,
) -> QueryResult {
    let unknown = || {
        missing(format!(
            "no {} request with requestId {id}",
            kind.path_segment()
        ))
    };
    let uuid = uuid::Uuid::parse_str(id).map_err(|_| unknown())?;
    let request = store
        .request(&uuid)
        .filter(|r| r.org == caller.org && r.mode == caller.mode)
        .filter(|r| r.kind == kind || r.kind == TollMessageKind::Relation)
        .ok_or_else(unknown)?;
    match (&request.status, &request.result) {
        (SubmissionStatus::Pending, _) | (_, None) => Err(missing(format!(
            "request {id} is still being processed; poll again"
        ))),
        (_, Some(result)) => Ok(result.clone()),
    }
}

fn visible<'a>(
    store: &'a Store,
    caller: &Caller,
    kind: TollMessageKind,
    mrn: &str,
) -> Result<&'a StoredMessage, Box<Response>> {
    store
        .visible(kind, mrn, &caller.org)
        .filter(|m| m.mode == caller.mode)
        .ok_or_else(|| {
            missing(format!(
                "no {} with MRN {mrn} for organisation {}",
                kind.path_segment(),
                caller.org
            ))
        })
}

fn weight_of(m: &StoredMessage) -> Option<Weight> {
    m.master()
        .and_then(|s| s.gross_mass.as_ref())
        .or_else(|| m.house().and_then(|s| s.gross_mass.as_ref()))
        .map(Weight::of)
}

fn document_status(m: &StoredMessage) -> String {
    if m.incomplete.is_empty() {
        "SUCCESS".into()
    } else {
        "INCOMPLETE".into()
    }
}

/// The document-status object of a master or house, with its `mrn` \[I\].
fn doc_status(m: &StoredMessage) -> Value {
    let doc = m.doc();
    json!({
        "documentNumber": doc.map(|d| d.number.clone()),
        "type": doc.map(|d| d.doc_type.clone()),
        "documentStatus": document_status(m),
        "incompleteDocumentationReasonList": m.incomplete.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "mrn": m.mrn,
    })
}

fn house_node(h: &StoredMessage) -> Value {
    let doc = h.doc();
    json!({
        "documentNumber": doc.map(|d| d.number.clone()),
        "type": doc.map(|d| d.doc_type.clone()),
        "weight": weight_of(h).map(Weight::to_number),
        "status": document_status(h),
        "incompleteDocumentationReasonList": h.incomplete.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "received": true,
        "mrn": h.mrn,
    })
}

fn missing_doc(doc: &super::store::DocKey) -> Value {
    json!({"documentNumber": doc.number, "type": doc.doc_type, "received": false})
}

/// A master node with its houses; returns the node, the master's own weight
/// (if received) and the sum of its houses' weights.
fn master_node(store: &Store, slot: &MasterSlot<'_>) -> (Value, Option<Weight>, Weight) {
    let houses = store.master_houses(slot);
    let house_sum: Weight = houses.iter().filter_map(|h| weight_of(h)).sum();
    let house_nodes: Vec<Value> = houses.iter().map(|h| house_node(h)).collect();
    match slot {
        MasterSlot::Received(m) => {
            let doc = m.doc();
            let weight = weight_of(m);
            (
                json!({
                    "documentNumber": doc.map(|d| d.number.clone()),
                    "type": doc.map(|d| d.doc_type.clone()),
                    "weight": weight.map(Weight::to_number),
                    "sumOfWeightForHouseConsignments": house_sum.to_number(),
                    "received": true,
                    "mrn": m.mrn,
                    "houseConsignments": house_nodes,
                }),
                weight,
                house_sum,
            )
        }
        MasterSlot::Missing { doc, .. } => (
            json!({
                "documentNumber": doc.number,
                "type": doc.doc_type,
                "sumOfWeightForHouseConsignments": house_sum.to_number(),
                "received": false,
                "houseConsignments": house_nodes,
            }),
            None,
            house_sum,
        ),
    }
}

fn transport_tree(store: &Store, caller: &Caller, mrn: &str) -> QueryResult {
    let t = visible(store, caller, TollMessageKind::Transport, mrn)?;
    let mut masters = Vec::new();
    let mut master_sum = Weight::default();
    let mut house_sum = Weight::default();
    for slot in store.transport_masters(t) {
        let (node, weight, houses) = master_node(store, &slot);
        masters.push(node);
        master_sum = master_sum + weight.unwrap_or_default();
        house_sum = house_sum + houses;
    }
    let mut direct = Vec::new();
    for slot in store.transport_direct_houses(t) {
        match slot {
            HouseSlot::Received(h) => {
                house_sum = house_sum + weight_of(h).unwrap_or_default();
                direct.push(house_node(h));
            }
            HouseSlot::Missing(doc) => direct.push(missing_doc(&doc)),
        }
    }
    Ok(json!({
        "mrn": t.mrn,
        "sumOfWeightForMasterConsignments": master_sum.to_number(),
        "sumOfWeightForHouseConsignments": house_sum.to_number(),
        "masterConsignments": masters,
        "houseConsignments": direct,
    }))
}

fn master_tree(store: &Store, caller: &Caller, mrn: &str) -> QueryResult {
    let m = visible(store, caller, TollMessageKind::MasterConsignment, mrn)?;
    let (node, weight, houses) = master_node(store, &MasterSlot::Received(m));
    Ok(json!({
        "mrn": m.mrn,
        "sumOfWeightForMasterConsignments": weight.unwrap_or_default().to_number(),
        "sumOfWeightForHouseConsignments": houses.to_number(),
        "masterConsignments": [node],
    }))
}

fn transport_masters(store: &Store, caller: &Caller, mrn: &str) -> QueryResult {
    let t = visible(store, caller, TollMessageKind::Transport, mrn)?;
    let list: Vec<Value> = store
        .transport_masters(t)
        .iter()
        .map(|slot| match slot {
            MasterSlot::Received(m) => {
                let mut v = doc_status(m);
                v["received"] = json!(true);
                v
            }
            MasterSlot::Missing { doc, .. } => missing_doc(doc),
        })
        .collect();
    Ok(Value::Array(list))
}

fn transport_houses(store: &Store, caller: &Caller, mrn: &str) -> QueryResult {
    let t = visible(store, caller, TollMessageKind::Transport, mrn)?;
    let mut seen = std::collections::HashSet::new();
    let mut list = Vec::new();
    for slot in store.transport_masters(t) {
        for h in store.master_houses(&slot) {
            if seen.insert(h.mrn.clone()) {
                list.push(doc_status(h));
            }
        }
    }
    for slot in store.transport_direct_houses(t) {
        match slot {
            HouseSlot::Received(h) => {
                if seen.insert(h.mrn.clone()) {
                    list.push(doc_status(h));
                }
            }
            HouseSlot::Missing(doc) => list.push(missing_doc(&doc)),
        }
    }
    Ok(Value::Array(list))
}

fn master_houses(store: &Store, caller: &Caller, mrn: &str) -> QueryResult {
    let m = visible(store, caller, TollMessageKind::MasterConsignment, mrn)?;
    let list = store
        .master_houses(&MasterSlot::Received(m))
        .into_iter()
        .map(doc_status)
        .collect();
    Ok(Value::Array(list))
}

fn house_status(store: &Store, caller: &Caller, mrn: &str) -> QueryResult {
    let h = visible(store, caller, TollMessageKind::HouseConsignment, mrn)?;
    Ok(doc_status(h))
}

fn receptacle_houses(store: &Store, caller: &Caller, receptacle: &str) -> QueryResult {
    let list: Vec<Value> = store
        .messages
        .iter()
        .filter(|m| {
            m.kind == TollMessageKind::HouseConsignment
                && m.mode == caller.mode
                && m.is_active()
                && m.visible_to(&caller.org)
                && m.house()
                    .is_some_and(|h| h.receptacle.as_deref() == Some(receptacle))
        })
        .map(doc_status)
        .collect();
    if list.is_empty() {
        return Err(missing(format!(
            "no house consignment in receptacle {receptacle} for organisation {}",
            caller.org
        )));
    }
    Ok(Value::Array(list))
}

fn entry_status(store: &Store, caller: &Caller, mrn: &str) -> QueryResult {
    let t = visible(store, caller, TollMessageKind::Transport, mrn)?;
    Ok(match &t.arrival {
        Some(arrival) => json!({
            "validEntry": true,
            "customsOfficeOfEntry": arrival.office,
            "timeOfEntry": TollInstant::from(arrival.at).to_string(),
            "mrn": t.mrn,
        }),
        None => json!({"validEntry": false, "mrn": t.mrn}),
    })
}

fn lookup_document(
    store: &Store,
    caller: &Caller,
    kind: TollMessageKind,
    params: &HashMap<String, String>,
) -> QueryResult {
    let param = |name: &str| params.get(name).map(|s| s.trim()).filter(|s| !s.is_empty());
    let Some(number) = param("documentNumber") else {
        return Err(Box::new(
            (
                StatusCode::BAD_REQUEST,
                Json(json!({"validationErrors": [{"field": "documentNumber", "error": "must not be blank"}]})),
            )
                .into_response(),
        ));
    };
    let doc_type = param("type");
    let carrier = param("carrierId");
    store
        .messages
        .iter()
        .filter(|m| {
            m.kind == kind && m.mode == caller.mode && m.is_active() && m.visible_to(&caller.org)
        })
        .filter(|m| {
            m.doc()
                .is_some_and(|d| d.number == number && doc_type.is_none_or(|t| d.doc_type == t))
        })
        .filter(|m| {
            carrier.is_none_or(|c| {
                let carriers = match (m.master(), m.house()) {
                    (Some(s), _) => vec![s.carrier.as_deref()],
                    (_, Some(s)) => {
                        vec![s.master_carrier.as_deref(), s.transport_carrier.as_deref()]
                    }
                    _ => Vec::new(),
                };
                carriers.contains(&Some(c))
            })
        })
        .max_by_key(|m| m.updated_at)
        .map(doc_status)
        .ok_or_else(|| {
            missing(format!(
                "no {} with documentNumber {number}{}{} for organisation {}",
                kind.path_segment(),
                doc_type.map(|t| format!(", type {t}")).unwrap_or_default(),
                carrier
                    .map(|c| format!(", carrierId {c}"))
                    .unwrap_or_default(),
                caller.org
            ))
        })
}
