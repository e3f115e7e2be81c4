//! The Toll part of the simulator: token exchange, the movement submission and
//! query APIs for road v2, air, rail and maritime (one implementation, see the
//! `movement` and `query` modules), presentation and arrival (the `entry` module),
//! routing (the `routing` module) and document upload (the `documents` module), served on the same
//! server as Maskinporten.
//!
//! It follows `shared/docs/digitoll-api.md` and the HTTP contract shared with
//! `digitoll-client`. Where Toll's documentation is silent, the choices are ours;
//! they are marked **\[I\]** below and in the code.
//!
//! # Routes
//!
//! The paths below are the defaults: every route is mounted at its endpoint's
//! template in the contract profile (`digitoll_model::endpoints()`, the
//! `paths` module), so a profile's `[endpoints]` moves them.
//!
//! | Method and path | What |
//! |---|---|
//! | `POST /api/access/external/oauth/token` | Token exchange: `grant_type=token-exchange&subject_token_type=access_token&subject_token=<Maskinporten token>` → `{"issued_token_type":"access_token","access_token","token_type":"Bearer","expires_in"}` (see the `exchange` module) |
//! | `GET /api/movement/road/v2/test-auth` | 200 with a valid road token |
//! | `POST /api/movement/road/v2/{transport,master-consignment,house-consignment}` | 202 `{"requestId"}` or 400 `{"validationErrors":[{field,error}]}` |
//! | `PUT /api/movement/road/v2/{kind}/{mrn}` | full replacement; 202/400, 404 for an unknown (or invisible) MRN |
//! | `DELETE /api/movement/road/v2/{kind}/{mrn}` | body `{"documentIssueDate","representative"?}`; 202/400/404 |
//! | `POST /api/movement/road/v2/relation`, `DELETE /api/movement/road/v2/relation/{mrn}` | link / unlink two messages by MRN \[I: path\] |
//! | `GET /api/movement/road/status/v2/{kind}/validation-status/{requestId}` | 404 until processed, then the result: 202 for FAILURE (as Toll documents in `asynkrone-valideringsfeil-EN.html`), 200 for SUCCESS (profile `[simulator]`) |
//! | `GET …/status/v2/transport/{mrn}/status-with-descendants` | weights and the master/house tree |
//! | `GET …/status/v2/transport/{mrn}/master-consignment/transport-document/status` | masters on the transport (`received` flag) |
//! | `GET …/status/v2/transport/{mrn}/house-consignment/transport-document/status` | houses on the transport |
//! | `GET …/status/v2/master-consignment/{mrn}/status-with-descendants` | the same tree rooted at one master |
//! | `GET …/status/v2/master-consignment/{mrn}/transport-document/status` | houses under the master |
//! | `GET …/status/v2/master-consignment/transport-document/status?documentNumber=&type=&carrierId=` | lookup, answers one document status with `mrn` |
//! | `GET …/status/v2/house-consignment/{mrn}/transport-document/status` | one house |
//! | `GET …/status/v2/house-consignment/transport-document/status?documentNumber=&type=&carrierId=` | lookup, with `mrn` |
//! | `GET …/status/v2/house-consignment/postal-receptacle/{id}/transport-document/status` | houses in the receptacle (an array \[I\]) |
//! | `GET …/status/v2/entry/status/{mrn}` | `{"validEntry","customsOfficeOfEntry","timeOfEntry","mrn"}` |
//! | the same set under `/api/movement/{air,rail,maritime}/v1` and `…/status/v1` | per-mode scope and rules (`digitoll_model::TransportMode::rules`) |
//! | `POST /api/movement/presentation/v1/{kind}`, `GET …/validation-status?requestId=` and `GET …/validation-status/{requestId}` | presentation with a client-supplied requestId (the `entry` module); both status forms (Toll writes no `{requestId}` segment, S19) |
//! | `GET /api/movement/routing/v1/{house-consignment,transport}?marker=` | routing feeds (the `routing` module) |
//! | `POST /api/movement/arrival/v1/arrival`, `GET …/validation-status/{requestId}` | arrival → border crossing (the `entry` module) |
//! | `GET /api/movement/arrival/v1/entry/status/{mrn}` | entry status of a transport of any mode, any movement scope (S7: the arrival API is "designed for all modes") |
//! | `POST /api/goodsdeclaration/document/v2/declaration-id/{id}/document` | document upload (the `documents` module) |
//!
//! # Authentication and visibility
//!
//! Every API call needs `Authorization: Bearer <Toll token>`: 401
//! `{"error":"invalid_token"}` when it is missing, unknown or expired on the sim
//! clock; 403 `{"error":"insufficient_scope","error_description":"requires scope
//! toll:movement/road/v2"}` when the token lacks the road scope (the foreign
//! variant `toll:eu/movement/road/v2` is accepted too). The other APIs check
//! their own scopes the same way (`toll:movement/air`, `…/rail`, `…/maritime`,
//! `toll:movement/entry`, `toll:goodsdeclaration/document.write`; arrival uses
//! the road scope \[I\]).
//!
//! A party (the consumer organisation of the Maskinporten token behind the Toll
//! token) sees a message, its validation status, and may PUT or DELETE it, only if
//! it submitted it or is named as `representative.identificationNumber` in it
//! (relations: the `representative` string). Others get 404. The tree queries
//! (`status-with-descendants`, the transport's and master's document lists) need
//! only the root to be visible and then show every linked descendant.
//!
//! # Processing \[I\]
//!
//! Synchronous validation is `digitoll_model::validate_json` with a
//! `ValidationContext` built from the sim clock (`first_submission` for POST,
//! `false` for PUT) and, in playground mode (the default), the playground
//! fixtures. Sync errors answer 400. Otherwise the request gets a requestId and
//! becomes *ready* at `received_at + processing delay` **on the sim clock**
//! (default 1 s, [`crate::SimulatorBuilder::processing_delay`]). Processing is
//! lazy: every Toll call and every `SimControl`/admin read first processes the
//! ready requests in arrival order (then runs auto-cancellation), so a delay of 0
//! makes results visible to the very next call, and moving the sim clock forward
//! completes pending requests. Business-rule errors from the model become FAILURE;
//! processing adds the checks that need stored state: immutable keys on PUT,
//! duplicates of an active master (document + carrier) or house (document) on
//! POST \[I, S34\], and the existence, type and visibility of relation ends.
//!
//! # Linking
//!
//! Computed at query time from active messages, so updates and deletes take
//! effect at once: transport → master by master document number + type with equal
//! carrier id; transport → house for direct consignments (document number + type,
//! `directConsignment: true`, `tranportLevel.carrierIdentificationNumber` equal to
//! the transport's carrier when given); house → master by
//! `consignmentMasterLevel.carrierIdentificationNumber` + master document; house →
//! master by postal receptacle id; and active relations.
//!
//! # Auto-cancellation (lazy, on the sim clock)
//!
//! Before every Toll call and `SimControl` read: an active transport without a
//! registered arrival is cancelled 72 h after its estimated arrival; an active
//! master or house not linked to an active transport is cancelled 30 days after
//! its last update. Cancelled and deleted messages answer 404 everywhere.
//!
//! # Test control
//!
//! [`crate::SimControl`] has `toll_messages`, `toll_message`, `toll_submissions`,
//! `toll_submission_count`, `set_processing_delay`, `set_toll_token_lifetime`,
//! `set_playground` and `simulate_arrival` (entry becomes valid with
//! `timeOfEntry` = now on the sim clock). The admin API mirrors them:
//!
//! ```text
//! curl -s localhost:4100/sim/toll/messages
//! curl -s localhost:4100/sim/toll/submissions
//! curl -s -XPOST localhost:4100/sim/toll/arrivals -d '{"mrn":"26NOABCDEFGHIJ1234","customs_office":"NO371001"}'
//! curl -s -XGET  localhost:4100/sim/toll/processing-delay
//! curl -s -XPUT  localhost:4100/sim/toll/processing-delay -d '{"millis":0}'
//! curl -s -XPUT  localhost:4100/sim/toll/token-lifetime -d '{"secs":970}'
//! curl -s -XPUT  localhost:4100/sim/toll/playground -d '{"enabled":false}'
//! ```

pub(crate) mod admin;
mod auth;
pub(crate) mod documents;
pub(crate) mod entry;
pub(crate) mod exchange;
mod movement;
pub(crate) mod paths;
mod processing;
mod query;
mod rename;
pub(crate) mod routing;
mod store;

use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration as StdDuration;

use axum::Router;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::state::SimState;
use digitoll_model::profile::ContractProfile;

pub(crate) use auth::TokenStore;
pub use documents::UploadedDocument;
pub use entry::{BorderCrossing, EntryApi, PresentationInfo, PresentationSource};
pub use routing::{RoutingChoice, RoutingFeed, RoutingSignalInfo};
pub(crate) use store::Store;

/// The road v2 API scope (Norwegian organisations).
pub const ROAD_SCOPE: &str = "toll:movement/road/v2";
/// The road v2 API scope for foreign organisations (eSeal); accepted like [`ROAD_SCOPE`].
pub const ROAD_SCOPE_EU: &str = "toll:eu/movement/road/v2";

/// Kind of a stored Toll message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TollMessageKind {
    /// A transport (vehicle) message.
    Transport,
    /// A master consignment message.
    MasterConsignment,
    /// A house consignment message.
    HouseConsignment,
    /// A relation between two messages.
    Relation,
}

impl TollMessageKind {
    /// The path segment Toll uses (`transport`, `master-consignment`, …),
    /// from the model, where these names live.
    pub fn path_segment(self) -> &'static str {
        self.model_kind().path_segment()
    }

    /// The kind's name in endpoint ids (`road.master.create`).
    pub(crate) fn endpoint_name(self) -> &'static str {
        match self {
            Self::Transport => "transport",
            Self::MasterConsignment => "master",
            Self::HouseConsignment => "house",
            Self::Relation => "relation",
        }
    }

    /// The relation object type (`TRANSPORT`, …) of this kind.
    pub(crate) fn object_type(self) -> &'static str {
        match self {
            Self::Transport => "TRANSPORT",
            Self::MasterConsignment => "MASTER_CONSIGNMENT",
            Self::HouseConsignment => "HOUSE_CONSIGNMENT",
            Self::Relation => "RELATION",
        }
    }

    pub(crate) fn model_kind(self) -> digitoll_model::MessageKind {
        match self {
            Self::Transport => digitoll_model::MessageKind::Transport,
            Self::MasterConsignment => digitoll_model::MessageKind::MasterConsignment,
            Self::HouseConsignment => digitoll_model::MessageKind::HouseConsignment,
            Self::Relation => digitoll_model::MessageKind::Relation,
        }
    }
}

/// Life-cycle state of a stored message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageState {
    /// Accepted and current.
    Active,
    /// Deleted by a DELETE request.
    Deleted,
    /// Cancelled automatically (72 h after arrival time, or 30 days unlinked).
    Cancelled,
}

/// A stored message as [`crate::SimControl::toll_messages`] and `GET /sim/toll/messages` list it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TollMessageInfo {
    /// The movement API it was submitted through (road, air, rail, maritime).
    pub mode: digitoll_model::TransportMode,
    /// Transport, master, house or relation.
    pub kind: TollMessageKind,
    /// The MRN Toll issued.
    pub mrn: String,
    /// Organisation that submitted it (consumer org of the token).
    pub org: String,
    /// Active, deleted or cancelled.
    pub state: MessageState,
    /// Master/house document number (`None` for transports and relations).
    pub document_number: Option<String>,
    /// Master/house document type (CL754).
    pub document_type: Option<String>,
    /// `representative.identificationNumber` (relations: `representative`).
    pub representative: Option<String>,
    /// Incomplete-documentation reasons of the current version.
    pub incomplete_documentation_reasons: Vec<String>,
    /// Whether an arrival was registered (transports only).
    pub arrived: bool,
    /// When it was first accepted (sim clock).
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last accepted change, deletion or cancellation (sim clock).
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// The current body as submitted.
    pub body: serde_json::Value,
}

/// What a submission asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionOperation {
    /// POST.
    Create,
    /// PUT.
    Update,
    /// DELETE.
    Delete,
}

/// Processing state of a submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SubmissionStatus {
    /// Accepted (202) but not yet processed: validation-status answers 404.
    Pending,
    /// Processed with status SUCCESS.
    Success,
    /// Processed with status FAILURE.
    Failure,
}

/// A submission that got a requestId (202), as [`crate::SimControl::toll_submissions`] lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TollSubmissionInfo {
    /// The requestId returned.
    pub request_id: String,
    /// The movement API (road, air, rail, maritime).
    pub mode: digitoll_model::TransportMode,
    /// Which API.
    pub kind: TollMessageKind,
    /// POST, PUT or DELETE.
    pub operation: SubmissionOperation,
    /// Submitting organisation.
    pub org: String,
    /// The MRN: the target of PUT/DELETE, or the one issued by a successful POST.
    pub mrn: Option<String>,
    /// Pending, SUCCESS or FAILURE.
    pub status: SubmissionStatus,
    /// When it was received (sim clock).
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
}

/// Settings of the Toll part, fixed at start or changed through [`crate::SimControl`].
#[derive(Debug, Clone)]
pub(crate) struct TollConfig {
    pub(crate) token_lifetime: StdDuration,
    pub(crate) processing_delay: StdDuration,
    pub(crate) playground: bool,
}

impl Default for TollConfig {
    fn default() -> Self {
        Self {
            token_lifetime: StdDuration::from_secs(970),
            processing_delay: StdDuration::from_secs(1),
            playground: true,
        }
    }
}

/// The Toll part's state inside [`SimState`].
#[derive(Debug)]
pub(crate) struct TollState {
    pub(crate) config: RwLock<TollConfig>,
    pub(crate) tokens: TokenStore,
    store: Mutex<Store>,
    /// Metadata of uploaded documents, oldest first.
    pub(crate) documents: Mutex<Vec<UploadedDocument>>,
}

impl TollState {
    pub(crate) fn new(config: TollConfig) -> Self {
        Self {
            config: RwLock::new(config),
            tokens: TokenStore::default(),
            store: Mutex::new(Store::default()),
            documents: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn config(&self) -> TollConfig {
        self.config
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn update_config(&self, f: impl FnOnce(&mut TollConfig)) {
        f(&mut self.config.write().unwrap_or_else(|e| e.into_inner()));
    }

    /// Locks the store after bringing it up to `now`: ready requests are
    /// processed and auto-cancellation applied.
    pub(crate) fn store_at(&self, now: OffsetDateTime) -> MutexGuard<'_, Store> {
        let mut store = self.store.lock().unwrap_or_else(|e| e.into_inner());
        store.advance(now);
        store
    }
}

/// A 404 in the shape of Toll's Spring stack (`status`, `error`, `message`) \[I\].
pub(crate) fn not_found(message: String) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    (
        axum::http::StatusCode::NOT_FOUND,
        axum::Json(serde_json::json!({
            "status": 404,
            "error": "Not Found",
            "message": message,
        })),
    )
        .into_response()
}

/// Routes of the Toll APIs, at `profile`'s paths, and of the Toll admin API
/// under `/sim/toll/`. The Toll answers pass through the profile's
/// `[response_fields]` renames.
pub(crate) fn routes(profile: &ContractProfile) -> Router<Arc<SimState>> {
    let api = Router::new()
        .merge(exchange::routes(profile))
        .merge(movement::routes(profile))
        .merge(query::routes(profile))
        .merge(entry::routes(profile))
        .merge(routing::routes(profile))
        .merge(documents::routes(profile));
    let api = if profile.response_fields.is_empty() {
        api
    } else {
        let renames = Arc::new(profile.response_fields.clone());
        api.layer(axum::middleware::from_fn(move |request, next| {
            rename::rename_fields(renames.clone(), request, next)
        }))
    };
    api.merge(admin::routes())
}
