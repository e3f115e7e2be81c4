//! Typed model of Norway's Digitoll APIs (Tolletaten's movement APIs for
//! road v2, air, rail and maritime, presentation, routing, arrival and
//! document upload), with local validation that reproduces Toll's documented
//! rules.
//!
//! * [`road`]: request bodies (transport, master, house, relation, delete),
//!   shared by all modes of transport.
//! * [`mode`]: [`TransportMode`] (CL018 code, path, scope) and the per-mode
//!   rules table used by [`validate_json_for`].
//! * [`entry`]: presentation and arrival bodies.
//! * [`routing`]: routing signals ([`RoutingSignal`], [`Routing`], …).
//! * [`documents`]: document upload ([`DeclarationId`], [`DocumentType`],
//!   [`FileKind`], [`detect_file_kind`], [`check_upload`]).
//! * [`responses`]: `{"requestId"}`, validation status, document status,
//!   status-with-descendants, entry status, the synchronous 400 body.
//! * [`newtypes`]: validated identifiers ([`Mrn`], [`RequestId`],
//!   [`OrgNumber`], [`CustomsOffice`], [`CountryCode`], [`TransportDocument`],
//!   [`TollInstant`]).
//! * [`codes`]: Toll's code lists, embedded, and open enums.
//! * [`rules`]: the rule catalogue (stable ids, channel, default severity,
//!   sources) and per-run [`RuleOverrides`] (severity and text).
//! * [`sources`]: the rules, code lists and field shapes rendered as Markdown
//!   (`docs/contract-sources.md`).
//! * [`validate`]: the single source of truth for "would Toll answer 400,
//!   FAILURE, or SUCCESS/INCOMPLETE?", shared by the client and the simulator.
//!
//! No I/O, no async, no clock: callers pass "now" in a [`ValidationContext`].
//!
//! # Example
//! ```
//! use digitoll_model::{validate_json, MessageKind, Outcome, ValidationContext};
//! use time::macros::datetime;
//!
//! let body = r#"{
//!   "documentIssueDate": "2026-12-01T08:00:00Z",
//!   "consignmentHouseLevel": { "containerIndicator": 0 }
//! }"#;
//! let ctx = ValidationContext::new(datetime!(2026-12-01 08:00 UTC));
//! let (_msg, report) = validate_json(MessageKind::HouseConsignment, body, &ctx).unwrap();
//! assert!(!report.is_valid());
//! assert!(report
//!     .sync_errors()
//!     .iter()
//!     .any(|e| e.field == "consignmentHouseLevel.totalGrossMass" && e.error == "must not be null"));
//! match report.outcome() {
//!     Outcome::Rejected(body) => assert!(!body.validation_errors.is_empty()),
//!     other => panic!("expected a 400, got {other:?}"),
//! }
//! ```

pub mod codes;
pub mod documents;
pub mod entry;
pub mod mode;
pub mod newtypes;
pub mod profile;
pub mod responses;
pub mod road;
pub mod routing;
pub mod rules;
pub mod sources;
pub mod validate;

pub use codes::CodeList;
pub use documents::{
    DeclarationId, DocumentType, FileKind, MAX_DOCUMENT_BYTES, UploadError, check_upload,
    detect_file_kind,
};
pub use entry::{ArrivalRequest, Presentation, PresentationKind};
pub use mode::{ModeRules, ProcedureVariants, Requirement, TransportMode};
pub use newtypes::{
    CountryCode, CustomsOffice, Mrn, OrgNumber, ParseError, RequestId, TollInstant,
    TransportDocument,
};
pub use profile::{ContractProfile, EndpointError, EndpointInfo, ProfileError, endpoints};
pub use routing::{Routing, RoutingControlLocation, RoutingResult, RoutingSignal};
pub use rules::{RuleInfo, RuleOverrides, Severity};
pub use validate::{
    Channel, Finding, MalformedJson, Message, MessageKind, Outcome, PlaygroundFixtures,
    ValidationContext, ValidationReport, validate_arrival, validate_arrival_json, validate_delete,
    validate_house, validate_house_for, validate_json, validate_json_for, validate_master,
    validate_message, validate_message_for, validate_presentation, validate_presentation_json,
    validate_relation, validate_transport, validate_transport_for,
};
