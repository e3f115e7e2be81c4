//! The routing API under `/api/movement/routing/v1` (scope `toll:movement/entry`)
//! and the routing signals the simulated border crossing produces.
//!
//! - `GET /house-consignment?marker=<uuid>` and `GET /transport?marker=<uuid>`:
//!   200 with a JSON array of at most 1000 signals visible to the caller, oldest
//!   first, starting **after** the marker (the first call has none); an empty
//!   array means caught up. A marker that is not the id of a signal of that feed
//!   visible to the caller answers 400 `{"validationErrors":[{"field":"marker",
//!   "error":"unknown marker"}]}` \[I\].
//! - Visibility \[D S8\]: the organisations that submitted the transport, the
//!   master or the house, are named as representative in one of them (fixed when
//!   the signal is issued), or presented the goods (a successful presentation
//!   that matched the house, its master or the transport; checked at read time).
//! - Routing of a house \[I\]: `TO_CONTROL` (at `ON_ENTRY`) when its document
//!   number ends in an odd digit, else `TO_ENTRY`, unless
//!   [`crate::SimControl::set_routing`] chose otherwise for the document number.
//!   The transport-level signal is `TO_CONTROL` when any of its houses is, unless
//!   overridden by the transport MRN.

use std::collections::HashSet;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use digitoll_model::entry::{ENTRY_SCOPE, ENTRY_SCOPE_EU};
use digitoll_model::profile::ContractProfile;

use super::paths::{Params, mount};
use digitoll_model::routing::MAX_ROUTING_PAGE;
use digitoll_model::{Routing, RoutingControlLocation, RoutingSignal, TollInstant};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::Store;
use super::auth::authenticate;
use super::entry::EntryApi;
use crate::state::SimState;

/// Which routing feed a signal belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoutingFeed {
    /// `GET /api/movement/routing/v1/house-consignment`.
    HouseConsignment,
    /// `GET /api/movement/routing/v1/transport`.
    Transport,
}

/// A routing decision chosen with [`crate::SimControl::set_routing`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingChoice {
    /// The decision.
    pub routing: Routing,
    /// Where a control happens (`None`: `ON_ENTRY` for `TO_CONTROL`, else absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing_control_location: Option<RoutingControlLocation>,
}

impl RoutingChoice {
    /// A decision with the default control location.
    pub fn new(routing: Routing) -> Self {
        Self {
            routing,
            routing_control_location: None,
        }
    }

    fn location(&self) -> Option<RoutingControlLocation> {
        self.routing_control_location.clone().or_else(|| {
            (self.routing == Routing::ToControl).then_some(RoutingControlLocation::OnEntry)
        })
    }
}

/// A routing signal as [`crate::SimControl::routing_signals`] lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoutingSignalInfo {
    /// Which feed serves it.
    pub feed: RoutingFeed,
    /// Organisations it is visible to as a party to the messages (presenters
    /// are added at read time).
    pub orgs: Vec<String>,
    /// The house's MRN (house feed).
    pub house_mrn: Option<String>,
    /// The master the house was linked through, if any.
    pub master_mrn: Option<String>,
    /// The transport's MRN.
    pub transport_mrn: Option<String>,
    /// When it was issued (sim clock).
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    /// The item as the feed serves it.
    pub signal: RoutingSignal,
}

/// A stored signal.
#[derive(Debug, Clone)]
pub(crate) struct SignalRecord {
    pub(crate) info: RoutingSignalInfo,
}

/// The default routing of a house by its document number \[I\].
pub(crate) fn default_routing(document_number: &str) -> RoutingChoice {
    let odd = document_number
        .chars()
        .last()
        .and_then(|c| c.to_digit(10))
        .is_some_and(|d| d % 2 == 1);
    RoutingChoice::new(if odd {
        Routing::ToControl
    } else {
        Routing::ToEntry
    })
}

impl Store {
    /// The routing for a document number (override, else the default).
    pub(crate) fn routing_for(&self, document_number: &str) -> RoutingChoice {
        self.routing_overrides
            .get(document_number)
            .cloned()
            .unwrap_or_else(|| default_routing(document_number))
    }

    /// Appends a signal with a fresh id; returns the id.
    pub(crate) fn push_signal(
        &mut self,
        mut info: RoutingSignalInfo,
        choice: &RoutingChoice,
        at: OffsetDateTime,
    ) -> Uuid {
        let id = Uuid::new_v4();
        let result = &mut info.signal.routing_result;
        result.id = id;
        result.routing = choice.routing.clone();
        result.routing_control_location = choice.location();
        result.document_issue_date = Some(TollInstant::from(at).to_string());
        info.issued_at = at;
        self.signal_index.insert(id, self.signals.len());
        self.signals.push(SignalRecord { info });
        id
    }

    /// Whether `org` may see signal `s` \[D S8\].
    fn signal_visible(&self, s: &SignalRecord, org: &str) -> bool {
        if s.info.orgs.iter().any(|o| o == org) {
            return true;
        }
        let keys: Vec<&str> = [
            s.info.house_mrn.as_deref(),
            s.info.master_mrn.as_deref(),
            s.info.transport_mrn.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect();
        self.entry_requests.iter().any(|r| {
            r.org == org
                && matches!(r.api, EntryApi::Presentation(_))
                && r.matched.iter().any(|m| keys.contains(&m.as_str()))
        })
    }

    /// One page of `feed` for `org` after `marker`.
    pub(crate) fn routing_page(
        &self,
        feed: RoutingFeed,
        org: &str,
        marker: Option<Uuid>,
    ) -> Result<Vec<RoutingSignal>, ()> {
        let start = match marker {
            None => 0,
            Some(id) => {
                let i = *self.signal_index.get(&id).ok_or(())?;
                let s = &self.signals[i];
                if s.info.feed != feed || !self.signal_visible(s, org) {
                    return Err(());
                }
                i + 1
            }
        };
        Ok(self.signals[start..]
            .iter()
            .filter(|s| s.info.feed == feed && self.signal_visible(s, org))
            .take(MAX_ROUTING_PAGE)
            .map(|s| s.info.signal.clone())
            .collect())
    }

    /// Signals for [`crate::SimControl::routing_signals`].
    pub(crate) fn signal_infos(&self) -> Vec<RoutingSignalInfo> {
        self.signals.iter().map(|s| s.info.clone()).collect()
    }

    /// Re-issues the newest house signal for `document_number` with `choice`
    /// (a new id, issued at `at`): "the last signal wins".
    pub(crate) fn resend_signal(
        &mut self,
        document_number: &str,
        choice: &RoutingChoice,
        at: OffsetDateTime,
    ) -> Option<Uuid> {
        let last = self
            .signals
            .iter()
            .rev()
            .find(|s| {
                s.info.feed == RoutingFeed::HouseConsignment
                    && s.info
                        .signal
                        .transport_document_house_level
                        .as_ref()
                        .and_then(|d| d.reference_number.as_deref())
                        == Some(document_number)
            })?
            .info
            .clone();
        Some(self.push_signal(last, choice, at))
    }

    /// Distinct organisations in `orgs` (order kept).
    pub(crate) fn dedup_orgs(orgs: impl IntoIterator<Item = Option<String>>) -> Vec<String> {
        let mut seen = HashSet::new();
        orgs.into_iter()
            .flatten()
            .filter(|o| seen.insert(o.clone()))
            .collect()
    }
}

pub(super) fn routes(profile: &ContractProfile) -> Router<Arc<SimState>> {
    let router = mount(
        Router::new(),
        profile,
        "routing.house-consignment",
        |State(s): State<Arc<SimState>>, p: Params, headers: HeaderMap| async move {
            feed(
                &s,
                RoutingFeed::HouseConsignment,
                MarkerQuery::of(&p),
                &headers,
            )
        },
    );
    mount(
        router,
        profile,
        "routing.transport",
        |State(s): State<Arc<SimState>>, p: Params, headers: HeaderMap| async move {
            feed(&s, RoutingFeed::Transport, MarkerQuery::of(&p), &headers)
        },
    )
}

impl MarkerQuery {
    fn of(p: &Params) -> Self {
        Self {
            marker: p.map().get("marker").cloned(),
        }
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct MarkerQuery {
    marker: Option<String>,
}

fn unknown_marker() -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"validationErrors": [{"field": "marker", "error": "unknown marker"}]})),
    )
        .into_response()
}

fn feed(state: &SimState, feed: RoutingFeed, q: MarkerQuery, headers: &HeaderMap) -> Response {
    let now = state.clock.now();
    let org = match authenticate(
        &state.toll.tokens,
        headers,
        now,
        &[ENTRY_SCOPE, ENTRY_SCOPE_EU],
    ) {
        Ok(org) => org,
        Err(response) => return *response,
    };
    let marker = match q.marker.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        None => None,
        Some(m) => match Uuid::try_parse(m) {
            Ok(id) => Some(id),
            Err(_) => return unknown_marker(),
        },
    };
    let store = state.toll.store_at(now);
    match store.routing_page(feed, &org, marker) {
        Ok(page) => Json(page).into_response(),
        Err(()) => unknown_marker(),
    }
}
