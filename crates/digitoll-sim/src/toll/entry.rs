//! The presentation API (`/api/movement/presentation/v1`, scope
//! `toll:movement/entry`), the arrival API (`/api/movement/arrival/v1`, scope
//! `toll:movement/road/v2` \[I\]) and the simulated border crossing.
//!
//! # Presentation
//! `POST /{house-consignment,master-consignment,container,receptacle,entry-summary-declaration}`
//! with a **client-supplied** `requestId`. Sync errors from
//! `digitoll_model::validate_presentation_json` answer 400; a `requestId` used
//! before (by anyone) answers 400 `{"validationErrors":[{"field":"requestId",
//! "error":"requestId already used"}]}`; otherwise 202 `{"requestId"}` (echo).
//! `GET /validation-status/{requestId}` answers 404 until processed (the
//! processing delay on the sim clock), then `{"status","requestId",
//! "notificationDate","validationErrorList"}`. Processing matches the presented
//! identifier against active messages of any mode: house / master by document
//! number (and type), container by `transportEquipment` container ids, receptacle
//! by postal receptacle ids; ENS MRNs against the playground fixtures
//! `23NO00000000000001`–`05`. No match (or an unknown `transportMRN`) is FAILURE
//! `Document not found` \[I\]. A successful presentation makes the routing
//! signals of what it matched visible to the presenter.
//!
//! # Arrival
//! `POST /arrival` `{"transportMRN","timeOfArrival","customsOfficeOfArrival"}` →
//! 202 `{"requestId"}` (issued by the simulator); `GET /validation-status/{id}`
//! as for presentation. When processed, the transport (any mode) must be active
//! and visible to the caller (else FAILURE `Document not found`); it then crosses
//! the border as in [`crate::SimControl::simulate_arrival`], with entry at
//! `timeOfArrival`.
//!
//! # Border crossing
//! Presents every master and house linked to the transport (presentation
//! records with source `simulated`), issues one house routing signal per linked
//! house and one transport signal (see [`super::routing`]), and grants entry.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use digitoll_model::entry::{ENTRY_SCOPE, ENTRY_SCOPE_EU};
use digitoll_model::profile::ContractProfile;
use digitoll_model::responses::AsyncValidationError;
use digitoll_model::routing::{RoutingDocument, RoutingTransportMeans};
use digitoll_model::validate::messages as msg;
use digitoll_model::{
    ArrivalRequest, Outcome, Presentation, PresentationKind, RoutingResult, RoutingSignal,
    TollInstant, TransportMode, ValidationContext, validate_arrival_json,
    validate_presentation_json,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use super::auth::{authenticate, authenticate_mode};
use super::paths::{Params, mount};
use super::routing::{RoutingChoice, RoutingFeed, RoutingSignalInfo};
use super::store::{Arrival, HouseSlot, MasterSlot};
use super::{MessageState, Store, SubmissionStatus, TollMessageKind, not_found};
use crate::state::SimState;

/// ICS2 ENS MRNs the playground knows \[D S13\].
const ENS_FIXTURES: [&str; 5] = [
    "23NO00000000000001",
    "23NO00000000000002",
    "23NO00000000000003",
    "23NO00000000000004",
    "23NO00000000000005",
];

/// Which entry API a request came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "api", content = "kind")]
pub enum EntryApi {
    /// A presentation of this kind.
    Presentation(PresentationKind),
    /// An arrival.
    Arrival,
}

/// Where a presentation came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PresentationSource {
    /// `POST /api/movement/presentation/v1/...`.
    Api,
    /// Toll's automatic presentation at a simulated border crossing.
    Simulated,
}

/// A presentation as [`crate::SimControl::presentations`] lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PresentationInfo {
    /// The client-supplied requestId (simulated ones get a fresh UUID).
    pub request_id: String,
    /// House, master, container, receptacle or ENS.
    pub kind: PresentationKind,
    /// API call or simulated border crossing.
    pub source: PresentationSource,
    /// Presenting organisation (empty for simulated presentations).
    pub org: String,
    /// The presented document number, container/receptacle id or ENS MRN.
    pub identifier: Option<String>,
    /// `customsOfficeOfPresentation`.
    pub customs_office: Option<String>,
    /// `transportMRN`, if given.
    pub transport_mrn: Option<String>,
    /// MRNs of the messages it matched.
    pub matched_mrns: Vec<String>,
    /// Pending, SUCCESS or FAILURE.
    pub status: SubmissionStatus,
    /// When it was received (sim clock).
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub(crate) enum EntryBody {
    Presentation(Presentation),
    Arrival(ArrivalRequest),
}

/// A presentation or arrival request.
#[derive(Debug, Clone)]
pub(crate) struct EntryRequest {
    pub(crate) request_id: Uuid,
    pub(crate) api: EntryApi,
    pub(crate) source: PresentationSource,
    pub(crate) org: String,
    pub(crate) body: EntryBody,
    /// Business errors found by the model at receipt.
    pub(crate) failed: Option<Vec<AsyncValidationError>>,
    pub(crate) received_at: OffsetDateTime,
    pub(crate) ready_at: OffsetDateTime,
    pub(crate) status: SubmissionStatus,
    pub(crate) matched: Vec<String>,
    pub(crate) result: Option<Value>,
}

impl EntryRequest {
    fn presentation_info(&self) -> Option<PresentationInfo> {
        let (EntryApi::Presentation(kind), EntryBody::Presentation(p)) = (&self.api, &self.body)
        else {
            return None;
        };
        Some(PresentationInfo {
            request_id: self.request_id.hyphenated().to_string(),
            kind: *kind,
            source: self.source,
            org: self.org.clone(),
            identifier: p.identifier(*kind).map(str::to_owned),
            customs_office: p.customs_office_of_presentation.clone(),
            transport_mrn: p.transport_mrn.clone(),
            matched_mrns: self.matched.clone(),
            status: self.status,
            received_at: self.received_at,
        })
    }
}

/// What a border crossing did, for [`crate::SimControl::simulate_arrival`] callers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BorderCrossing {
    /// The transport.
    pub transport_mrn: String,
    /// MRNs of the masters and houses presented.
    pub presented: Vec<String>,
    /// Ids of the house signals issued, one per linked house.
    pub house_signals: Vec<Uuid>,
    /// Id of the transport signal.
    pub transport_signal: Uuid,
}

fn not_found_error(path: &str) -> Vec<AsyncValidationError> {
    vec![AsyncValidationError::new(path, msg::DOCUMENT_NOT_FOUND)]
}

impl Store {
    pub(crate) fn add_entry_request(&mut self, r: EntryRequest) {
        self.entry_index
            .insert(r.request_id, self.entry_requests.len());
        self.entry_requests.push(r);
    }

    /// Processes presentation and arrival requests whose time has come.
    pub(crate) fn process_entry_ready(&mut self, now: OffsetDateTime) {
        let ready: Vec<usize> = self
            .entry_requests
            .iter()
            .enumerate()
            .filter(|(_, r)| r.status == SubmissionStatus::Pending && r.ready_at <= now)
            .map(|(i, _)| i)
            .collect();
        for i in ready {
            let at = self.entry_requests[i].ready_at;
            let outcome = match self.entry_requests[i].failed.clone() {
                Some(errors) => Err(errors),
                None => match self.entry_requests[i].body.clone() {
                    EntryBody::Presentation(p) => {
                        let EntryApi::Presentation(kind) = self.entry_requests[i].api else {
                            continue;
                        };
                        self.match_presentation(kind, &p)
                    }
                    EntryBody::Arrival(a) => {
                        let org = self.entry_requests[i].org.clone();
                        self.process_arrival(&org, &a, at)
                    }
                },
            };
            let r = &mut self.entry_requests[i];
            let mut result = json!({
                "requestId": r.request_id.hyphenated().to_string(),
                "notificationDate": TollInstant::from(at).to_string(),
            });
            match outcome {
                Ok(matched) => {
                    r.status = SubmissionStatus::Success;
                    r.matched = matched;
                    result["status"] = json!("SUCCESS");
                    result["validationErrorList"] = json!([]);
                }
                Err(errors) => {
                    r.status = SubmissionStatus::Failure;
                    result["status"] = json!("FAILURE");
                    result["validationErrorList"] = json!(errors);
                }
            }
            r.result = Some(result);
        }
    }

    /// The MRNs a presentation matches, or FAILURE `Document not found`.
    fn match_presentation(
        &self,
        kind: PresentationKind,
        p: &Presentation,
    ) -> Result<Vec<String>, Vec<AsyncValidationError>> {
        if let Some(t) = &p.transport_mrn
            && self
                .get(t)
                .is_none_or(|m| !m.is_active() || m.kind != TollMessageKind::Transport)
        {
            return Err(not_found_error("transportMRN"));
        }
        let id = p.identifier(kind).unwrap_or_default();
        let active = |k: TollMessageKind| {
            self.messages
                .iter()
                .filter(move |m| m.kind == k && m.is_active())
        };
        let (path, matched): (&str, Vec<String>) = match kind {
            PresentationKind::HouseConsignment | PresentationKind::MasterConsignment => {
                let (k, doc, path) = if kind == PresentationKind::HouseConsignment {
                    let d = p
                        .consignment_house_level
                        .as_ref()
                        .and_then(|l| l.transport_document_house_level.as_ref());
                    (
                        TollMessageKind::HouseConsignment,
                        d,
                        "consignmentHouseLevel.transportDocumentHouseLevel.documentNumber",
                    )
                } else {
                    let d = p
                        .consignment_master_level
                        .as_ref()
                        .and_then(|l| l.transport_document_master_level.as_ref());
                    (
                        TollMessageKind::MasterConsignment,
                        d,
                        "consignmentMasterLevel.transportDocumentMasterLevel.documentNumber",
                    )
                };
                let doc_type = doc.and_then(|d| d.doc_type.as_deref());
                let found = active(k)
                    .filter(|m| {
                        m.doc().is_some_and(|d| {
                            d.number == id && doc_type.is_none_or(|t| d.doc_type == t)
                        })
                    })
                    .map(|m| m.mrn.clone())
                    .collect();
                (path, found)
            }
            PresentationKind::Container => (
                "containerIdentificationNumber",
                self.messages
                    .iter()
                    .filter(|m| m.is_active())
                    .filter(|m| {
                        m.master()
                            .is_some_and(|s| s.containers.iter().any(|c| c == id))
                            || m.house()
                                .is_some_and(|s| s.containers.iter().any(|c| c == id))
                    })
                    .map(|m| m.mrn.clone())
                    .collect(),
            ),
            PresentationKind::Receptacle => (
                "receptacleIdentificationNumber",
                self.messages
                    .iter()
                    .filter(|m| m.is_active())
                    .filter(|m| {
                        m.master()
                            .is_some_and(|s| s.receptacles.iter().any(|c| c == id))
                            || m.house()
                                .is_some_and(|s| s.receptacle.as_deref() == Some(id))
                    })
                    .map(|m| m.mrn.clone())
                    .collect(),
            ),
            PresentationKind::EntrySummaryDeclaration => {
                if ENS_FIXTURES.contains(&id) {
                    return Ok(vec![id.to_owned()]);
                }
                ("mrn", Vec::new())
            }
        };
        if matched.is_empty() {
            Err(not_found_error(path))
        } else {
            Ok(matched)
        }
    }

    fn process_arrival(
        &mut self,
        org: &str,
        a: &ArrivalRequest,
        at: OffsetDateTime,
    ) -> Result<Vec<String>, Vec<AsyncValidationError>> {
        let mrn = a.transport_mrn.clone().unwrap_or_default();
        let visible = self.get(&mrn).is_some_and(|m| {
            m.kind == TollMessageKind::Transport && m.is_active() && m.visible_to(org)
        });
        if !visible {
            return Err(not_found_error("transportMRN"));
        }
        let office = a.customs_office_of_arrival.clone().unwrap_or_default();
        let entry_at = a.time_of_arrival.map_or(at, |t| t.to_offset_date_time());
        self.cross_border(&mrn, &office, entry_at, at)
            .map(|_| vec![mrn])
            .map_err(|e| vec![AsyncValidationError::new("transportMRN", e)])
    }

    /// The simulated border crossing of an active transport: presentation of
    /// every linked master and house, routing signals, entry at `entry_at`.
    pub(crate) fn cross_border(
        &mut self,
        transport_mrn: &str,
        office: &str,
        entry_at: OffsetDateTime,
        at: OffsetDateTime,
    ) -> Result<BorderCrossing, String> {
        let Some(t) = self
            .get(transport_mrn)
            .filter(|m| m.kind == TollMessageKind::Transport && m.state == MessageState::Active)
        else {
            return Err(format!("no active transport with MRN {transport_mrn}"));
        };
        let ts = t.transport().cloned().unwrap_or_default();
        let transport_orgs = [Some(t.org.clone()), t.representative.clone()];
        // (house, master it came through)
        let mut houses: Vec<(String, Option<String>)> = Vec::new();
        let mut masters: Vec<String> = Vec::new();
        for slot in self.transport_masters(t) {
            let master_mrn = match &slot {
                MasterSlot::Received(m) => {
                    masters.push(m.mrn.clone());
                    Some(m.mrn.clone())
                }
                MasterSlot::Missing { .. } => None,
            };
            for h in self.master_houses(&slot) {
                if !houses.iter().any(|(x, _)| *x == h.mrn) {
                    houses.push((h.mrn.clone(), master_mrn.clone()));
                }
            }
        }
        for slot in self.transport_direct_houses(t) {
            if let HouseSlot::Received(h) = slot
                && !houses.iter().any(|(x, _)| *x == h.mrn)
            {
                houses.push((h.mrn.clone(), None));
            }
        }
        let means = RoutingTransportMeans {
            identification_number: ts.plate.clone(),
            type_of_identification: ts.plate_type.clone(),
        };
        let instant = |t: Option<OffsetDateTime>| t.map(|t| TollInstant::from(t).to_string());
        let template = |house_mrn: Option<String>| RoutingSignal {
            routing_result: RoutingResult {
                id: Uuid::nil(),
                routing: digitoll_model::Routing::ToEntry,
                routing_control_location: None,
                document_issue_date: None,
            },
            transport_document_house_level: None,
            entry_summary_declaration_mrn: None,
            receptacle_id: None,
            active_border_transport_means: Some(means.clone()),
            estimated_time_of_arrival: instant(ts.estimated),
            scheduled_time_of_arrival: instant(ts.scheduled),
            transport_mrn: Some(transport_mrn.to_owned()),
            house_mrn,
        };

        // Presentation by Toll on behalf of the operator [D S14].
        let mut presented = Vec::new();
        let to_present: Vec<(String, PresentationKind)> = masters
            .iter()
            .map(|m| (m.clone(), PresentationKind::MasterConsignment))
            .chain(
                houses
                    .iter()
                    .map(|(h, _)| (h.clone(), PresentationKind::HouseConsignment)),
            )
            .collect();
        for (mrn, kind) in to_present {
            let Some(m) = self.get(&mrn) else { continue };
            let doc = m
                .doc()
                .map(|d| digitoll_model::road::DocumentRef::new(&d.number, &d.doc_type))
                .unwrap_or_default();
            let id = Uuid::new_v4().hyphenated().to_string();
            let body = if kind == PresentationKind::HouseConsignment {
                Presentation::house(&id, office, doc)
            } else {
                Presentation::master(&id, office, doc)
            }
            .with_transport_mrn(transport_mrn);
            self.add_entry_request(EntryRequest {
                request_id: Uuid::parse_str(&id).unwrap_or_else(|_| Uuid::new_v4()),
                api: EntryApi::Presentation(kind),
                source: PresentationSource::Simulated,
                org: String::new(),
                body: EntryBody::Presentation(body),
                failed: None,
                received_at: at,
                ready_at: at,
                status: SubmissionStatus::Success,
                matched: vec![mrn.clone()],
                result: None,
            });
            presented.push(mrn);
        }

        // One house signal per linked house.
        let mut all_orgs: Vec<Option<String>> = transport_orgs.to_vec();
        let mut house_signals = Vec::new();
        let mut any_control = false;
        for (house_mrn, master_mrn) in &houses {
            let Some(h) = self.get(house_mrn).cloned() else {
                continue;
            };
            let master = master_mrn.as_deref().and_then(|m| self.get(m)).cloned();
            let doc = h.doc().cloned();
            let choice = doc
                .as_ref()
                .map(|d| self.routing_for(&d.number))
                .unwrap_or_else(|| RoutingChoice::new(digitoll_model::Routing::ToEntry));
            any_control |= choice.routing == digitoll_model::Routing::ToControl;
            let orgs = Self::dedup_orgs(transport_orgs.iter().cloned().chain([
                Some(h.org.clone()),
                h.representative.clone(),
                master.as_ref().map(|m| m.org.clone()),
                master.as_ref().and_then(|m| m.representative.clone()),
            ]));
            all_orgs.extend(orgs.iter().cloned().map(Some));
            let mut signal = template(Some(house_mrn.clone()));
            signal.transport_document_house_level = doc.as_ref().map(|d| RoutingDocument {
                reference_number: Some(d.number.clone()),
                doc_type: Some(d.doc_type.clone()),
            });
            signal.receptacle_id = h.house().and_then(|s| s.receptacle.clone());
            let info = RoutingSignalInfo {
                feed: RoutingFeed::HouseConsignment,
                orgs,
                house_mrn: Some(house_mrn.clone()),
                master_mrn: master_mrn.clone(),
                transport_mrn: Some(transport_mrn.to_owned()),
                issued_at: at,
                signal,
            };
            house_signals.push(self.push_signal(info, &choice, at));
        }

        // The transport-level signal.
        let choice = self
            .routing_overrides
            .get(transport_mrn)
            .cloned()
            .unwrap_or_else(|| {
                RoutingChoice::new(if any_control {
                    digitoll_model::Routing::ToControl
                } else {
                    digitoll_model::Routing::ToEntry
                })
            });
        let info = RoutingSignalInfo {
            feed: RoutingFeed::Transport,
            orgs: Self::dedup_orgs(all_orgs),
            house_mrn: None,
            master_mrn: None,
            transport_mrn: Some(transport_mrn.to_owned()),
            issued_at: at,
            signal: template(None),
        };
        let transport_signal = self.push_signal(info, &choice, at);

        // Entry.
        if let Some(t) = self.get_mut(transport_mrn) {
            t.arrival = Some(Arrival {
                office: office.to_owned(),
                at: entry_at,
            });
        }
        Ok(BorderCrossing {
            transport_mrn: transport_mrn.to_owned(),
            presented,
            house_signals,
            transport_signal,
        })
    }

    /// Presentations for [`crate::SimControl::presentations`].
    pub(crate) fn presentation_infos(&self) -> Vec<PresentationInfo> {
        self.entry_requests
            .iter()
            .filter_map(EntryRequest::presentation_info)
            .collect()
    }
}

pub(super) fn routes(profile: &ContractProfile) -> Router<Arc<SimState>> {
    let mut router = Router::new();
    for kind in PresentationKind::ALL {
        router = mount(
            router,
            profile,
            &format!("presentation.{}", kind.path_segment()),
            move |State(s): State<Arc<SimState>>, headers: HeaderMap, body: Bytes| async move {
                submit(&s, EntryApi::Presentation(kind), &headers, &body)
            },
        );
    }
    // Both forms of the presentation validation status: the documented one
    // (no `{requestId}` segment, the id as a query parameter [I], S19) and
    // the movement APIs' path form our earlier reading used [I].
    for id in [
        "presentation.validation-status",
        "presentation.validation-status.by-path",
    ] {
        if id.ends_with(".by-path")
            && super::paths::same_route(
                profile,
                "presentation.validation-status",
                "presentation.validation-status.by-path",
            )
        {
            // The profile moved the documented form onto the path form.
            continue;
        }
        router = mount(
            router,
            profile,
            id,
            |State(s): State<Arc<SimState>>, p: Params, headers: HeaderMap| async move {
                status(&s, true, &p.get("requestId"), &headers)
            },
        );
    }
    router = mount(
        router,
        profile,
        "arrival.create",
        |State(s): State<Arc<SimState>>, headers: HeaderMap, body: Bytes| async move {
            submit(&s, EntryApi::Arrival, &headers, &body)
        },
    );
    mount(
        router,
        profile,
        "arrival.validation-status",
        |State(s): State<Arc<SimState>>, p: Params, headers: HeaderMap| async move {
            status(&s, false, &p.get("requestId"), &headers)
        },
    )
}

fn bad_request(body: impl Serialize) -> Response {
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

fn auth(
    state: &SimState,
    presentation: bool,
    headers: &HeaderMap,
) -> Result<String, Box<Response>> {
    let now = state.clock.now();
    if presentation {
        authenticate(
            &state.toll.tokens,
            headers,
            now,
            &[ENTRY_SCOPE, ENTRY_SCOPE_EU],
        )
    } else {
        // [I] the arrival scope is undocumented; the contract uses road's.
        authenticate_mode(&state.toll.tokens, headers, now, TransportMode::Road).map(|c| c.org)
    }
}

fn submit(state: &SimState, api: EntryApi, headers: &HeaderMap, body: &Bytes) -> Response {
    let presentation = matches!(api, EntryApi::Presentation(_));
    let org = match auth(state, presentation, headers) {
        Ok(org) => org,
        Err(response) => return *response,
    };
    let Ok(text) = std::str::from_utf8(body) else {
        return bad_request(json!({"validationErrors": [
            {"field": "requestBody", "error": "request body is not UTF-8"}
        ]}));
    };
    let now = state.clock.now();
    let ctx = ValidationContext::new(now).with_rule_overrides(state.profile.rules.clone());
    let (body, report, client_id) = match api {
        EntryApi::Presentation(kind) => match validate_presentation_json(kind, text, &ctx) {
            Ok((p, report)) => {
                let id = p.request_id.clone();
                (EntryBody::Presentation(p), report, id)
            }
            Err(malformed) => return bad_request(malformed.to_sync_body()),
        },
        EntryApi::Arrival => match validate_arrival_json(text, &ctx) {
            Ok((a, report)) => (EntryBody::Arrival(a), report, None),
            Err(malformed) => return bad_request(malformed.to_sync_body()),
        },
    };
    let failed = match report.outcome() {
        Outcome::Rejected(body) => return bad_request(body),
        Outcome::Failed(errors) => Some(errors),
        Outcome::Accepted { .. } => None,
    };
    let request_id = match client_id {
        Some(id) => Uuid::parse_str(&id).unwrap_or_else(|_| Uuid::new_v4()),
        None => Uuid::new_v4(),
    };
    let delay = time::Duration::try_from(state.toll.config().processing_delay)
        .unwrap_or(time::Duration::ZERO);
    let mut store = state.toll.store_at(now);
    if store.entry_index.contains_key(&request_id) {
        // [D S19] a reused requestId is a validation error: presentation is idempotent.
        return bad_request(json!({"validationErrors": [
            {"field": "requestId", "error": msg::REQUEST_ID_USED}
        ]}));
    }
    store.add_entry_request(EntryRequest {
        request_id,
        api,
        source: PresentationSource::Api,
        org,
        body,
        failed,
        received_at: now,
        ready_at: now + delay,
        status: SubmissionStatus::Pending,
        matched: Vec::new(),
        result: None,
    });
    (
        StatusCode::ACCEPTED,
        Json(json!({"requestId": request_id.hyphenated().to_string()})),
    )
        .into_response()
}

fn status(state: &SimState, presentation: bool, id: &str, headers: &HeaderMap) -> Response {
    let org = match auth(state, presentation, headers) {
        Ok(org) => org,
        Err(response) => return *response,
    };
    let store = state.toll.store_at(state.clock.now());
    let request = Uuid::parse_str(id)
        .ok()
        .and_then(|u| store.entry_index.get(&u).map(|&i| &store.entry_requests[i]))
        .filter(|r| r.org == org && matches!(r.api, EntryApi::Presentation(_)) == presentation);
    match request.and_then(|r| r.result.clone()) {
        Some(result) => super::query::ready_response(state, result),
        None if request.is_some() => {
            not_found(format!("request {id} is still being processed; poll again"))
        }
        None => not_found(format!(
            "no request with requestId {id} for organisation {org}"
        )),
    }
}
