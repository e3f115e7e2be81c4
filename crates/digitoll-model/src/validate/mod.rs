//! Local validation that reproduces Toll's synchronous (400) and documented
//! asynchronous (FAILURE / INCOMPLETE) rules for road v2 messages.
//!
//! # Design
//! * One pass over the typed message collects **every** problem, each with a
//!   Toll-style dotted path (`consignmentHouseLevel.goodsItem[0].value`).
//! * [`validate_json`] first turns JSON *type* errors (a number where a string
//!   belongs, a malformed date) into path errors: it deserialises with
//!   `serde_path_to_error`, records the failing path, nulls that value and
//!   retries, so one bad field never hides the others.
//! * Everything is pure and deterministic: time and environment come in
//!   through [`ValidationContext`], never from the clock. The simulator decides
//!   400 vs FAILURE vs INCOMPLETE from [`ValidationReport::outcome`], so the
//!   client-side check and the fake server agree by construction.
//!
//! Three outcomes, as at Toll:
//! * [`ValidationReport::sync_errors`]: would be `400 {"validationErrors"}`.
//! * [`ValidationReport::business_errors`]: accepted (202), then
//!   `status: FAILURE` with `validationErrorList`.
//! * [`ValidationReport::incomplete_reasons`]: `status: SUCCESS` with an MRN,
//!   but `documentStatus: INCOMPLETE` and the listed reasons (S1 procedure
//!   tables: missing documentation is not a rejection, it must be completed
//!   before the border crossing).
//!
//! Every finding is recorded under a rule id of [`crate::rules`] (with its
//! sources there and in `docs/contract-sources.md`) and goes through the
//! rule's effective severity ([`ValidationContext::rules`]): errors as above,
//! warnings into [`ValidationReport::warnings`], `off` dropped.

mod entry;
pub mod messages;
pub mod shapes;

pub use entry::{
    validate_arrival, validate_arrival_json, validate_presentation, validate_presentation_json,
};

use std::collections::HashSet;
use std::fmt;

use serde_json::{Number, Value};
use time::OffsetDateTime;
use time::macros::datetime;

use crate::codes::{
    CodeList, ImportProcedure, IncompleteDocumentationReason, OutgoingProcedure, TypeOfExport,
    previous_document_types,
};
use crate::mode::{ModeRules, Requirement, TransportMode};
use crate::newtypes::Mrn;
use crate::responses::{AsyncValidationError, SyncErrorBody, SyncValidationError};
use crate::road::{
    ActiveBorderTransportMeans, Address, Communication, DeleteBody, DocumentRef, GoodsItem,
    HouseConsignment, MasterConsignment, Party, Place, Relation, Transport, TransportEquipment,
};
use crate::rules::{RuleOverrides, Severity};
use messages as m;
use serde::{Deserialize, Serialize};
use shapes::{
    AMOUNT_DIGITS, CARRIER_LINK, CITY, COMM_ID, COMM_TYPE, CONTAINER_ID, CONVEYANCE, COUNT_DIGITS,
    COUNTRY, DECLARANT, DOC_NUMBER, DOC_TYPE, FISCAL_ROLE, FieldShape, GOODS_DESCRIPTION,
    HOUSE_NUMBER, HS, LOCATION, MASS_DIGITS, MEANS_ID, MEANS_TYPE, MODE, MRN_LEN, NAME,
    NumberShape, OFFICE, PARTY_ID, POSTCODE, PREV_REF, PREV_TYPE, PROCEDURE, RECEPTACLE, SEQUENCE,
    STREET, SUB_DIVISION, TYPE_OF_ID, UNLOCODE, VAT,
};

/// Playground (api-test.toll.no) fixtures, embedded from
/// `digitoll-playground-fixtures.json` (S13): the playground has no TVINN or
/// NCTS link and checks references against these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaygroundFixtures {
    /// Known TVINN declarations as (declarantNumber, declarationDate, sequenceNumber).
    pub tvinn_declarations: Vec<(String, String, String)>,
    /// VOEC numbers with a permit.
    pub voec_numbers: Vec<String>,
}

impl Default for PlaygroundFixtures {
    fn default() -> Self {
        Self {
            tvinn_declarations: (1..=10)
                .map(|i| {
                    (
                        "123456789".to_owned(),
                        "2022-08-10".to_owned(),
                        i.to_string(),
                    )
                })
                .collect(),
            voec_numbers: vec!["2056550".to_owned()],
        }
    }
}

impl PlaygroundFixtures {
    /// NCTS rule in the playground: 18 alphanumerics, and not containing `INVALID`.
    pub fn ncts_reference_ok(reference: &str) -> bool {
        reference.len() == 18
            && reference.bytes().all(|b| b.is_ascii_alphanumeric())
            && !reference.contains("INVALID")
    }
}

/// Everything validation needs from outside the message.
#[derive(Debug, Clone)]
pub struct ValidationContext {
    /// "Now" for date-dependent rules (e.g. the GONU deadline).
    pub now: OffsetDateTime,
    /// Whether this is the first POST of the message (not a PUT): the
    /// estimated arrival must then equal the scheduled one \[D S27\].
    pub first_submission: bool,
    /// When set, references are checked against the playground fixtures as
    /// api-test.toll.no does (VOEC numbers, NCTS references, TVINN ids).
    pub playground: Option<PlaygroundFixtures>,
    /// Severity overrides (from a contract profile); empty = every rule at
    /// its default severity (see [`crate::rules`]).
    pub rules: RuleOverrides,
}

impl ValidationContext {
    /// A context for a first POST at `now`, without playground fixture checks.
    pub fn new(now: OffsetDateTime) -> Self {
        Self {
            now,
            first_submission: true,
            playground: None,
            rules: RuleOverrides::new(),
        }
    }

    /// Sets whether this is the first submission (POST) or an update (PUT).
    pub fn with_first_submission(mut self, first: bool) -> Self {
        self.first_submission = first;
        self
    }

    /// Applies severity overrides (a contract profile's `[rules]`).
    pub fn with_rule_overrides(mut self, rules: RuleOverrides) -> Self {
        self.rules = rules;
        self
    }

    /// Enables the playground fixture checks.
    pub fn with_playground(mut self, fixtures: PlaygroundFixtures) -> Self {
        self.playground = Some(fixtures);
        self
    }
}

/// Which body a JSON document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// `POST /transport`, `PUT /transport/{MRN}`.
    Transport,
    /// `POST /master-consignment`, `PUT ...`.
    MasterConsignment,
    /// `POST /house-consignment`, `PUT ...`.
    HouseConsignment,
    /// Relation create.
    Relation,
    /// Any DELETE body.
    Delete,
}

impl MessageKind {
    /// Every kind, in the order Toll's documentation lists them.
    pub const ALL: [MessageKind; 5] = [
        Self::Transport,
        Self::MasterConsignment,
        Self::HouseConsignment,
        Self::Relation,
        Self::Delete,
    ];

    /// Guesses the kind from the top-level fields of a message, for tools that
    /// take a file without being told what it is. Returns `None` when the
    /// object fits no kind (or is not an object).
    ///
    /// ```
    /// use digitoll_model::MessageKind;
    /// let v = serde_json::json!({"documentIssueDate": "2026-12-01T08:00:00Z",
    ///                            "activeBorderTransportMeans": {}});
    /// assert_eq!(MessageKind::detect(&v), Some(MessageKind::Transport));
    /// ```
    pub fn detect(json: &serde_json::Value) -> Option<Self> {
        let obj = json.as_object()?;
        let has = |k: &str| obj.contains_key(k);
        if has("activeBorderTransportMeans") || has("customsOfficeOfFirstEntry") {
            Some(Self::Transport)
        } else if has("parentObjectType") || has("childObjectType") {
            Some(Self::Relation)
        } else if has("consignmentHouseLevel") {
            Some(Self::HouseConsignment)
        } else if has("consignmentMasterLevel") {
            Some(Self::MasterConsignment)
        } else if has("documentIssueDate")
            && obj
                .keys()
                .all(|k| k == "documentIssueDate" || k == "representative")
        {
            Some(Self::Delete)
        } else {
            None
        }
    }

    /// The path segment Toll uses for this kind (`transport`, `master-consignment`, …).
    pub fn path_segment(self) -> &'static str {
        match self {
            Self::Transport => "transport",
            Self::MasterConsignment => "master-consignment",
            Self::HouseConsignment => "house-consignment",
            Self::Relation => "relation",
            Self::Delete => "delete",
        }
    }
}

/// A parsed message of any kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// Transport.
    Transport(Box<Transport>),
    /// Master consignment.
    MasterConsignment(Box<MasterConsignment>),
    /// House consignment.
    HouseConsignment(Box<HouseConsignment>),
    /// Relation.
    Relation(Relation),
    /// DELETE body.
    Delete(DeleteBody),
}

impl Message {
    /// The kind of this message.
    pub fn kind(&self) -> MessageKind {
        match self {
            Self::Transport(_) => MessageKind::Transport,
            Self::MasterConsignment(_) => MessageKind::MasterConsignment,
            Self::HouseConsignment(_) => MessageKind::HouseConsignment,
            Self::Relation(_) => MessageKind::Relation,
            Self::Delete(_) => MessageKind::Delete,
        }
    }
}

/// What Toll would do with a message.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// `400` with this body.
    Rejected(SyncErrorBody),
    /// `202`, then `status: FAILURE` with these errors.
    Failed(Vec<AsyncValidationError>),
    /// `202`, then `status: SUCCESS`; INCOMPLETE when reasons are listed.
    Accepted {
        /// Missing-documentation reasons (empty = complete).
        incomplete: Vec<IncompleteDocumentationReason>,
    },
}

/// All findings of one validation run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ValidationReport {
    sync: Vec<SyncValidationError>,
    /// The rule id of each entry of `sync` (same index).
    sync_rules: Vec<&'static str>,
    business: Vec<AsyncValidationError>,
    /// The rule id of each entry of `business` (same index).
    business_rules: Vec<&'static str>,
    incomplete: Vec<IncompleteDocumentationReason>,
    /// The rule id of each entry of `incomplete` (same index).
    incomplete_rules: Vec<&'static str>,
    warnings: Vec<Finding>,
}

/// One finding of local validation, with the rule that made it.
///
/// [`ValidationReport::warnings`] holds the findings of rules whose effective
/// severity is [`Severity::Warning`] (they do not fail the message);
/// [`ValidationReport::findings`] lists every finding, errors included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The rule's id in [`crate::rules`].
    pub rule: String,
    /// Toll-style dotted path (`consignmentHouseLevel.typeOfExport`).
    pub path: String,
    /// The text Toll would use (or ours, for inferred rules).
    pub message: String,
    /// The rule's effective severity in this run (never `Off`).
    pub severity: Severity,
    /// How Toll would report it.
    pub channel: Channel,
}

/// How Toll reports a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// Synchronous `400 {"validationErrors"}`.
    Sync,
    /// `202`, then `status: FAILURE` with `validationErrorList`.
    Business,
    /// `status: SUCCESS`, `documentStatus: INCOMPLETE` with a reason.
    Incomplete,
}

impl ValidationReport {
    /// Errors Toll reports synchronously (HTTP 400).
    pub fn sync_errors(&self) -> &[SyncValidationError] {
        &self.sync
    }

    /// Errors Toll reports asynchronously (`status: FAILURE`).
    pub fn business_errors(&self) -> &[AsyncValidationError] {
        &self.business
    }

    /// Findings of rules downgraded to warnings (by default or by a profile).
    pub fn warnings(&self) -> &[Finding] {
        &self.warnings
    }

    /// Every finding (errors, incomplete reasons and warnings) with its rule
    /// id, severity and channel: sync errors, business errors, incomplete
    /// reasons (path empty, the reason code as message), then warnings.
    pub fn findings(&self) -> Vec<Finding> {
        let mut out: Vec<Finding> = self
            .sync
            .iter()
            .zip(&self.sync_rules)
            .map(|(e, rule)| Finding {
                rule: (*rule).to_owned(),
                path: e.field.clone(),
                message: e.error.clone(),
                severity: Severity::Error,
                channel: Channel::Sync,
            })
            .collect();
        out.extend(
            self.business
                .iter()
                .zip(&self.business_rules)
                .map(|(e, rule)| Finding {
                    rule: (*rule).to_owned(),
                    path: e.pointer.message_element_path.clone(),
                    message: e.description.clone(),
                    severity: Severity::Error,
                    channel: Channel::Business,
                }),
        );
        out.extend(
            self.incomplete
                .iter()
                .zip(&self.incomplete_rules)
                .map(|(r, rule)| Finding {
                    rule: (*rule).to_owned(),
                    path: String::new(),
                    message: r.as_str().to_owned(),
                    severity: Severity::Error,
                    channel: Channel::Incomplete,
                }),
        );
        out.extend(self.warnings.iter().cloned());
        out
    }

    /// The rule id of each sync error, in the order of [`Self::sync_errors`].
    pub fn sync_rules(&self) -> &[&'static str] {
        &self.sync_rules
    }

    /// The rule id of each business error, in the order of
    /// [`Self::business_errors`].
    pub fn business_rules(&self) -> &[&'static str] {
        &self.business_rules
    }

    /// Reasons the accepted message would be INCOMPLETE.
    pub fn incomplete_reasons(&self) -> &[IncompleteDocumentationReason] {
        &self.incomplete
    }

    /// No sync and no business errors (INCOMPLETE still counts as valid:
    /// Toll accepts it and issues an MRN).
    pub fn is_valid(&self) -> bool {
        self.sync.is_empty() && self.business.is_empty()
    }

    /// The 400 body, when there are sync errors.
    pub fn sync_error_body(&self) -> Option<SyncErrorBody> {
        (!self.sync.is_empty()).then(|| SyncErrorBody {
            validation_errors: self.sync.clone(),
        })
    }

    /// Decides 400 vs FAILURE vs SUCCESS the way Toll's pipeline does: sync
    /// errors stop processing, so business errors only matter without them.
    pub fn outcome(&self) -> Outcome {
        if let Some(body) = self.sync_error_body() {
            Outcome::Rejected(body)
        } else if !self.business.is_empty() {
            Outcome::Failed(self.business.clone())
        } else {
            Outcome::Accepted {
                incomplete: self.incomplete.clone(),
            }
        }
    }
}

impl fmt::Display for ValidationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.sync.is_empty()
            && self.business.is_empty()
            && self.incomplete.is_empty()
            && self.warnings.is_empty()
        {
            return f.write_str("valid");
        }
        for e in &self.sync {
            writeln!(f, "400 {}: {}", e.field, e.error)?;
        }
        for e in &self.business {
            writeln!(
                f,
                "FAILURE {}: {}",
                e.pointer.message_element_path, e.description
            )?;
        }
        for r in &self.incomplete {
            writeln!(f, "INCOMPLETE {r}")?;
        }
        for w in &self.warnings {
            writeln!(f, "WARNING [{}] {}: {}", w.rule, w.path, w.message)?;
        }
        Ok(())
    }
}

/// The body was not JSON at all (or not an object), so no field paths exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("request body is not a JSON object (line {line}, column {column}): {message}")]
pub struct MalformedJson {
    /// 1-based line of the syntax error (0 when not a syntax error).
    pub line: usize,
    /// 1-based column of the syntax error.
    pub column: usize,
    /// The parser's explanation.
    pub message: String,
}

impl MalformedJson {
    /// The 400 body to answer with. Toll's text for unreadable bodies is not
    /// documented; we use the field `requestBody` (\[I\]).
    pub fn to_sync_body(&self) -> SyncErrorBody {
        SyncErrorBody {
            validation_errors: vec![SyncValidationError::new("requestBody", self.to_string())],
        }
    }
}

/// Validates a transport message.
pub fn validate_transport(t: &Transport, ctx: &ValidationContext) -> ValidationReport {
    let mut v = V::new(ctx);
    v.transport(t);
    v.finish()
}

/// Validates a master consignment message.
pub fn validate_master(mc: &MasterConsignment, ctx: &ValidationContext) -> ValidationReport {
    let mut v = V::new(ctx);
    v.master(mc);
    v.finish()
}

/// Validates a road house consignment message.
pub fn validate_house(h: &HouseConsignment, ctx: &ValidationContext) -> ValidationReport {
    validate_house_for(TransportMode::Road, h, ctx)
}

/// Validates a relation create body.
pub fn validate_relation(r: &Relation, ctx: &ValidationContext) -> ValidationReport {
    let mut v = V::new(ctx);
    v.relation(r);
    v.finish()
}

/// Validates a DELETE body.
pub fn validate_delete(d: &DeleteBody, ctx: &ValidationContext) -> ValidationReport {
    let mut v = V::new(ctx);
    v.delete(d);
    v.finish()
}

/// Validates any message.
pub fn validate_message(msg: &Message, ctx: &ValidationContext) -> ValidationReport {
    validate_message_for(TransportMode::Road, msg, ctx)
}

/// Validates a transport message of `mode`: the road v2 rules plus the mode's
/// entry in the [`TransportMode::rules`] table.
pub fn validate_transport_for(
    mode: TransportMode,
    t: &Transport,
    ctx: &ValidationContext,
) -> ValidationReport {
    let mut v = V::with_mode(ctx, mode);
    v.transport(t);
    v.finish()
}

/// Validates a house consignment of `mode`: the road v2 rules plus the
/// mode's procedure table (import and outgoing procedures, export types,
/// GONU) from [`TransportMode::rules`].
pub fn validate_house_for(
    mode: TransportMode,
    h: &HouseConsignment,
    ctx: &ValidationContext,
) -> ValidationReport {
    let mut v = V::with_mode(ctx, mode);
    v.house(h);
    v.finish()
}

/// Validates any message of `mode`. Transports carry mode-specific data
/// (`activeBorderTransportMeans`) and houses the mode's procedure table;
/// masters, relations and DELETE bodies are validated as for road
/// (digitoll-api.md §1.5).
pub fn validate_message_for(
    mode: TransportMode,
    msg: &Message,
    ctx: &ValidationContext,
) -> ValidationReport {
    match msg {
        Message::Transport(t) => validate_transport_for(mode, t, ctx),
        Message::MasterConsignment(mc) => validate_master(mc, ctx),
        Message::HouseConsignment(h) => validate_house_for(mode, h, ctx),
        Message::Relation(r) => validate_relation(r, ctx),
        Message::Delete(d) => validate_delete(d, ctx),
    }
}

/// Parses and validates a road v2 JSON body of the given kind; the road
/// shortcut of [`validate_json_for`].
///
/// JSON type errors (wrong JSON type, malformed instant) become sync errors
/// at their field path; the offending value is then treated as absent so the
/// rest of the message is still checked, and a "must not be null" for the
/// same field is not reported twice.
///
/// # Errors
/// [`MalformedJson`] when the text is not JSON or its root is not an object.
pub fn validate_json(
    kind: MessageKind,
    json: &str,
    ctx: &ValidationContext,
) -> Result<(Message, ValidationReport), MalformedJson> {
    validate_json_for(TransportMode::Road, kind, json, ctx)
}

/// Parses and validates a JSON body of the given kind for the movement API of
/// `mode` (road, air, rail, maritime): the road v2 rules plus the mode rules
/// of [`TransportMode::rules`]. Road gives exactly [`validate_json`]'s result.
///
/// ```
/// use digitoll_model::{validate_json_for, MessageKind, TransportMode, ValidationContext};
/// use time::macros::datetime;
///
/// let road = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"),
///     "/../../examples/road/valid-transport.json")).unwrap();
/// let ctx = ValidationContext::new(datetime!(2026-12-01 08:00 UTC));
/// // A road transport sent to the air API: no flight number, mode 3, plate type 30.
/// let (_, report) = validate_json_for(TransportMode::Air, MessageKind::Transport, &road, &ctx).unwrap();
/// assert!(report.sync_errors().iter().any(|e|
///     e.field == "activeBorderTransportMeans.conveyanceReferenceNumber"));
/// ```
///
/// # Errors
/// [`MalformedJson`] when the text is not JSON or its root is not an object.
pub fn validate_json_for(
    mode: TransportMode,
    kind: MessageKind,
    json: &str,
    ctx: &ValidationContext,
) -> Result<(Message, ValidationReport), MalformedJson> {
    let (msg, structural) = parse_lenient(json, |value| parse_kind(kind, value))?;
    let report = validate_message_for(mode, &msg, ctx);
    Ok((msg, merge_structural(structural, report, ctx)))
}

/// Puts the structural (JSON type) errors first and drops rule errors at or
/// below their paths, which are consequences of the nulled value.
pub(crate) fn merge_structural(
    structural: Vec<SyncValidationError>,
    mut report: ValidationReport,
    ctx: &ValidationContext,
) -> ValidationReport {
    if structural.is_empty() {
        return report;
    }
    let below = |field: &str| {
        structural.iter().any(|s| {
            field == s.field
                || field.starts_with(&format!("{}.", s.field))
                || field.starts_with(&format!("{}[", s.field))
        })
    };
    let (rules, sync): (Vec<_>, Vec<_>) = std::mem::take(&mut report.sync_rules)
        .into_iter()
        .zip(std::mem::take(&mut report.sync))
        .filter(|(_, e)| !below(&e.field))
        .unzip();
    report
        .warnings
        .retain(|w| w.channel != Channel::Sync || !below(&w.path));
    let mut out = Recorder::new(ctx);
    for s in structural {
        // A malformed instant is the documented S9 rule; anything else is a
        // JSON type error.
        let rule = if s.error == m::INSTANT {
            "field.instant-format"
        } else {
            "json.type"
        };
        out.sync(rule, s.field, s.error);
    }
    out.report.sync.extend(sync);
    out.report.sync_rules.extend(rules);
    out.report.business = std::mem::take(&mut report.business);
    out.report.business_rules = std::mem::take(&mut report.business_rules);
    out.report.incomplete = std::mem::take(&mut report.incomplete);
    out.report.incomplete_rules = std::mem::take(&mut report.incomplete_rules);
    out.report.warnings.append(&mut report.warnings);
    out.report
}

/// Records findings through their rule's effective severity and text.
pub(crate) struct Recorder<'c> {
    rules: &'c RuleOverrides,
    report: ValidationReport,
}

impl<'c> Recorder<'c> {
    fn new(ctx: &'c ValidationContext) -> Self {
        Self {
            rules: &ctx.rules,
            report: ValidationReport::default(),
        }
    }

    /// The effective severity of `rule` and the text to use.
    fn judge(&self, rule: &'static str, text: String) -> (Severity, String) {
        debug_assert!(
            crate::rules::find(rule).is_some(),
            "rule `{rule}` is not in the catalogue"
        );
        let text = self.rules.text(rule).map_or(text, str::to_owned);
        (self.rules.severity(rule), text)
    }

    fn warn(&mut self, rule: &'static str, path: String, message: String, channel: Channel) {
        self.report.warnings.push(Finding {
            rule: rule.to_owned(),
            path,
            message,
            severity: Severity::Warning,
            channel,
        });
    }

    fn sync(&mut self, rule: &'static str, path: String, error: impl Into<String>) {
        match self.judge(rule, error.into()) {
            (Severity::Error, text) => {
                self.report.sync.push(SyncValidationError::new(path, text));
                self.report.sync_rules.push(rule);
            }
            (Severity::Warning, text) => self.warn(rule, path, text, Channel::Sync),
            (Severity::Off, _) => {}
        }
    }

    fn business(&mut self, rule: &'static str, path: String, description: impl Into<String>) {
        match self.judge(rule, description.into()) {
            (Severity::Error, text) => {
                self.report
                    .business
                    .push(AsyncValidationError::new(path, text));
                self.report.business_rules.push(rule);
            }
            (Severity::Warning, text) => self.warn(rule, path, text, Channel::Business),
            (Severity::Off, _) => {}
        }
    }

    /// An incomplete reason; a replacement text replaces the reason code.
    fn incomplete(&mut self, rule: &'static str, reason: IncompleteDocumentationReason) {
        let (severity, code) = self.judge(rule, reason.as_str().to_owned());
        let reason = IncompleteDocumentationReason::from_code(&code);
        match severity {
            Severity::Error => {
                if !self.report.incomplete.contains(&reason) {
                    self.report.incomplete.push(reason);
                    self.report.incomplete_rules.push(rule);
                }
            }
            Severity::Warning => {
                if !self
                    .report
                    .warnings
                    .iter()
                    .any(|w| w.rule == rule && w.message == code)
                {
                    self.warn(rule, String::new(), code, Channel::Incomplete);
                }
            }
            Severity::Off => {}
        }
    }
}

/// Parses `json` into a lenient message type with `parse`, turning each JSON
/// type error into a sync error at its path and retrying with that value
/// nulled, so one bad field never hides the others.
pub(crate) fn parse_lenient<T>(
    json: &str,
    parse: impl Fn(&Value) -> Result<T, PathError>,
) -> Result<(T, Vec<SyncValidationError>), MalformedJson> {
    let mut value: Value = serde_json::from_str(json).map_err(|e| MalformedJson {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    if !value.is_object() {
        return Err(MalformedJson {
            line: 0,
            column: 0,
            message: format!(
                "expected an object, found {}",
                crate::road::json_kind(&value)
            ),
        });
    }
    let mut structural: Vec<SyncValidationError> = Vec::new();
    loop {
        match parse(&value) {
            Ok(msg) => return Ok((msg, structural)),
            Err(e) => {
                let segments: Vec<serde_path_to_error::Segment> =
                    e.path().iter().cloned().collect();
                let inner = e.into_inner().to_string();
                let error = if inner.contains(m::INSTANT) {
                    m::INSTANT.to_owned()
                } else {
                    inner
                };
                let field = render_segments(&segments);
                // A non-optional element that failed is nulled and then
                // fails again as null at the same path: report it once.
                if structural.last().is_none_or(|s| s.field != field) {
                    structural.push(SyncValidationError::new(field, error));
                }
                if !null_out(&mut value, &segments) {
                    // Nothing left to remove (the root itself failed).
                    return Err(MalformedJson {
                        line: 0,
                        column: 0,
                        message: structural
                            .last()
                            .map(|s| s.error.clone())
                            .unwrap_or_default(),
                    });
                }
            }
        }
    }
}

pub(crate) type PathError = serde_path_to_error::Error<serde_json::Error>;

fn parse_kind(kind: MessageKind, value: &Value) -> Result<Message, PathError> {
    Ok(match kind {
        MessageKind::Transport => {
            Message::Transport(Box::new(serde_path_to_error::deserialize(value)?))
        }
        MessageKind::MasterConsignment => {
            Message::MasterConsignment(Box::new(serde_path_to_error::deserialize(value)?))
        }
        MessageKind::HouseConsignment => {
            Message::HouseConsignment(Box::new(serde_path_to_error::deserialize(value)?))
        }
        MessageKind::Relation => Message::Relation(serde_path_to_error::deserialize(value)?),
        MessageKind::Delete => Message::Delete(serde_path_to_error::deserialize(value)?),
    })
}

fn render_segments(segments: &[serde_path_to_error::Segment]) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for s in segments {
        match s {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Enum { variant } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(variant);
            }
            Segment::Unknown => {}
        }
    }
    out
}

/// Replaces the value at `segments` with null. If it already is null (a
/// non-optional element failed), nulls the parent instead. Returns false when
/// only the root is left.
fn null_out(root: &mut Value, segments: &[serde_path_to_error::Segment]) -> bool {
    let mut len = segments.len();
    while len > 0 {
        if let Some(target) = value_at(root, &segments[..len])
            && !target.is_null()
        {
            *target = Value::Null;
            return true;
        }
        len -= 1;
    }
    false
}

fn value_at<'v>(
    cur: &'v mut Value,
    segments: &[serde_path_to_error::Segment],
) -> Option<&'v mut Value> {
    use serde_path_to_error::Segment;
    let Some((first, rest)) = segments.split_first() else {
        return Some(cur);
    };
    let next = match (first, cur) {
        (Segment::Map { key }, Value::Object(map)) => map.get_mut(key.as_str())?,
        (Segment::Seq { index }, Value::Array(items)) => items.get_mut(*index)?,
        _ => return None,
    };
    value_at(next, rest)
}

// ---------------------------------------------------------------------------
// Paths: built without allocation, rendered only when an error is recorded.

#[derive(Clone, Copy)]
enum Seg<'a> {
    Root,
    Field(&'a str),
    Index(usize),
}

#[derive(Clone, Copy)]
struct P<'a> {
    parent: Option<&'a P<'a>>,
    seg: Seg<'a>,
}

const ROOT: P<'static> = P {
    parent: None,
    seg: Seg::Root,
};

impl<'a> P<'a> {
    fn f(&'a self, name: &'a str) -> P<'a> {
        P {
            parent: Some(self),
            seg: Seg::Field(name),
        }
    }
    fn i(&'a self, index: usize) -> P<'a> {
        P {
            parent: Some(self),
            seg: Seg::Index(index),
        }
    }
    fn render(&self) -> String {
        let mut segs = Vec::new();
        let mut cur = Some(self);
        while let Some(p) = cur {
            segs.push(p.seg);
            cur = p.parent;
        }
        let mut out = String::new();
        for s in segs.iter().rev() {
            match s {
                Seg::Root => {}
                Seg::Field(n) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(n);
                }
                Seg::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        out
    }
}

// ---------------------------------------------------------------------------
// Field limits: the table in `shapes.rs`, also rendered into docs/contract-sources.md.

/// VOEC per-item limit in NOK \[D S10\].
const VOEC_LIMIT_NOK: f64 = 3000.0;

/// End of the GONU transitional arrangement \[D S1\].
const GONU_DEADLINE: OffsetDateTime = datetime!(2027-03-01 00:00 UTC);

pub(crate) struct V<'c> {
    ctx: &'c ValidationContext,
    mode: TransportMode,
    rules: ModeRules,
    out: Recorder<'c>,
}

impl<'c> V<'c> {
    fn new(ctx: &'c ValidationContext) -> Self {
        Self::with_mode(ctx, TransportMode::Road)
    }

    fn with_mode(ctx: &'c ValidationContext, mode: TransportMode) -> Self {
        Self {
            ctx,
            mode,
            rules: mode.rules(),
            out: Recorder::new(ctx),
        }
    }

    fn finish(self) -> ValidationReport {
        self.out.report
    }

    /// A sync (400) finding of `rule`.
    fn sync_err(&mut self, rule: &'static str, p: &P<'_>, error: impl Into<String>) {
        self.out.sync(rule, p.render(), error);
    }

    /// A business (FAILURE) finding of `rule`.
    fn biz(&mut self, rule: &'static str, p: &P<'_>, description: impl Into<String>) {
        self.out.business(rule, p.render(), description);
    }

    /// An INCOMPLETE reason found by `rule`.
    fn incomplete(&mut self, rule: &'static str, r: IncompleteDocumentationReason) {
        self.out.incomplete(rule, r);
    }

    // -- generic field checks (sync, [D S9]) --------------------------------

    /// Required object/number/list: `must not be null` (rule `field.required`).
    fn req<'x, T>(&mut self, p: &P<'_>, v: &'x Option<T>) -> Option<&'x T> {
        self.req_as("field.required", p, v)
    }

    /// Required object/number/list under a rule of its own (e.g. the per-mode
    /// operator requirement).
    fn req_as<'x, T>(&mut self, rule: &'static str, p: &P<'_>, v: &'x Option<T>) -> Option<&'x T> {
        if v.is_none() {
            self.sync_err(rule, p, m::NOT_NULL);
        }
        v.as_ref()
    }

    /// Required string: `must not be blank` (missing, empty or whitespace,
    /// rule `field.not-blank`), then the size check.
    fn req_str<'x>(
        &mut self,
        p: &P<'_>,
        v: &'x Option<String>,
        shape: FieldShape,
    ) -> Option<&'x str> {
        self.req_str_as("field.not-blank", p, v, shape)
    }

    /// [`Self::req_str`] under a rule of its own.
    fn req_str_as<'x>(
        &mut self,
        rule: &'static str,
        p: &P<'_>,
        v: &'x Option<String>,
        shape: FieldShape,
    ) -> Option<&'x str> {
        match v.as_deref() {
            Some(s) if !s.trim().is_empty() => {
                self.size(p, s, shape);
                Some(s)
            }
            _ => {
                self.sync_err(rule, p, m::NOT_BLANK);
                None
            }
        }
    }

    /// Optional string: only the size check when present.
    fn opt_str<'x>(
        &mut self,
        p: &P<'_>,
        v: &'x Option<String>,
        shape: FieldShape,
    ) -> Option<&'x str> {
        let s = v.as_deref()?;
        self.size(p, s, shape);
        Some(s)
    }

    /// Rule `field.size`.
    fn size(&mut self, p: &P<'_>, s: &str, shape: FieldShape) {
        let n = s.chars().count();
        if n < shape.min || n > shape.max {
            self.sync_err("field.size", p, m::size(shape.min, shape.max));
        }
    }

    /// `@Digits(integer, fraction)` on a JSON number (rule `field.digits`).
    fn digits(&mut self, p: &P<'_>, n: &Number, shape: NumberShape) {
        let (int, frac) = (shape.integer, shape.fraction);
        let s = n.to_string();
        let ok = if s.contains(['e', 'E']) {
            n.as_f64().is_some_and(|f| {
                let t = format!("{f}");
                digits_ok(&t, int, frac)
            })
        } else {
            digits_ok(&s, int, frac)
        };
        if !ok {
            self.sync_err("field.digits", p, m::digits(int, frac));
        }
    }

    // -- code checks (async, [D S10]) ---------------------------------------

    /// A code-list check: rule `codelist.<list>`.
    fn code(&mut self, p: &P<'_>, value: &str, list: CodeList) {
        if !list.contains(value) {
            self.biz(codelist_rule(list), p, m::invalid_code(list.codes()));
        }
    }

    fn country(&mut self, p: &P<'_>, value: &str) {
        // A wrong length is already a sync size error; "Country is invalid"
        // is the async check against ISO 3166 [D S10].
        if value.chars().count() == 2 && !CodeList::Country.contains(value) {
            self.biz("codelist.country", p, m::COUNTRY_INVALID);
        }
    }

    // -- shared structures --------------------------------------------------

    fn address(&mut self, p: &P<'_>, a: &Address, full: bool) {
        // [D S27] since 2024-04 consignor/consignee addresses need country,
        // city, postcode and a street line or PO box; places only need
        // whatever they carry to be well-formed.
        let country = if full {
            self.req_str(&p.f("country"), &a.country, COUNTRY)
        } else {
            self.opt_str(&p.f("country"), &a.country, COUNTRY)
        };
        if let Some(c) = country {
            self.country(&p.f("country"), c);
        }
        if full {
            self.req_str(&p.f("city"), &a.city, CITY);
            self.req_str(&p.f("postcode"), &a.postcode, POSTCODE);
            if a.street_line.is_none() && a.po_box.is_none() {
                // [I] which constraint Toll uses here is not documented; the
                // S9 text for "one of" fits the documented requirement.
                self.sync_err(
                    "address.street-or-po-box",
                    p,
                    m::at_least_one(&["streetLine", "poBox"]),
                );
            }
        } else {
            self.opt_str(&p.f("city"), &a.city, CITY);
            self.opt_str(&p.f("postcode"), &a.postcode, POSTCODE);
        }
        self.opt_str(&p.f("streetLine"), &a.street_line, STREET);
        self.opt_str(
            &p.f("streetAdditionalLine"),
            &a.street_additional_line,
            STREET,
        );
        self.opt_str(&p.f("number"), &a.number, HOUSE_NUMBER);
        self.opt_str(&p.f("poBox"), &a.po_box, STREET);
        self.opt_str(&p.f("subDivision"), &a.sub_division, SUB_DIVISION);
    }

    fn communications(&mut self, p: &P<'_>, list: &Option<Vec<Communication>>) {
        for (i, c) in list.iter().flatten().enumerate() {
            let pi = p.i(i);
            self.req_str(&pi.f("identifier"), &c.identifier, COMM_ID);
            if let Some(t) = self.req_str(&pi.f("type"), &c.kind, COMM_TYPE) {
                self.code(&pi.f("type"), t, CodeList::Cl707);
            }
        }
    }

    /// Party kinds: what is required.
    fn party(&mut self, p: &P<'_>, party: &Party, kind: PartyKind) {
        self.req_str(&p.f("name"), &party.name, NAME);
        match kind {
            PartyKind::Carrier | PartyKind::Representative => {
                self.req_str(
                    &p.f("identificationNumber"),
                    &party.identification_number,
                    PARTY_ID,
                );
            }
            PartyKind::Trader => {
                self.opt_str(
                    &p.f("identificationNumber"),
                    &party.identification_number,
                    PARTY_ID,
                );
            }
        }
        if kind == PartyKind::Trader {
            // [D S27] typeOfPerson required since 2024-04; CL729.
            if let Some(t) = self.req(&p.f("typeOfPerson"), &party.type_of_person)
                && !CodeList::Cl729.contains(&t.to_string())
            {
                self.sync_err(
                    "codelist.cl729",
                    &p.f("typeOfPerson"),
                    m::one_of(CodeList::Cl729.codes()),
                );
            }
            if let Some(a) = self.req(&p.f("address"), &party.address) {
                self.address(&p.f("address"), a, true);
            }
        } else if let Some(a) = &party.address {
            self.address(&p.f("address"), a, false);
        }
        if kind == PartyKind::Representative
            && let Some(s) = &party.status
        {
            self.code(&p.f("status"), s, CodeList::Cl094);
        }
        self.communications(&p.f("communication"), &party.communication);
    }

    fn document(&mut self, p: &P<'_>, d: &DocumentRef) {
        self.req_str(&p.f("documentNumber"), &d.document_number, DOC_NUMBER);
        if let Some(t) = self.req_str(&p.f("type"), &d.doc_type, DOC_TYPE) {
            self.code(&p.f("type"), t, CodeList::Cl754);
        }
    }

    fn place(&mut self, p: &P<'_>, place: &Place) {
        self.opt_str(&p.f("location"), &place.location, LOCATION);
        if let Some(code) = self.opt_str(&p.f("unloCode"), &place.unlo_code, UNLOCODE)
            && !unlocode_ok(code)
        {
            // [D S10] CL144: "Invalid code. Expected valid UNLOCODE". No
            // UN/LOCODE list is embedded, so only the format is checked.
            self.biz(
                "place.unlocode.format",
                &p.f("unloCode"),
                m::UNLOCODE_INVALID,
            );
        }
        if let Some(a) = &place.address {
            self.address(&p.f("address"), a, false);
        }
        // [D S10] without location and address, unloCode is required.
        if place.location.is_none() && place.address.is_none() && place.unlo_code.is_none() {
            self.biz(
                "place.unlocode.required",
                &p.f("unloCode"),
                m::UNLOCODE_REQUIRED,
            );
        }
    }

    fn equipment(&mut self, p: &P<'_>, list: &Option<Vec<TransportEquipment>>) {
        for (i, e) in list.iter().flatten().enumerate() {
            let pi = p.i(i);
            if let Some(c) = &e.container_size_and_type {
                self.code(&pi.f("containerSizeAndType"), c, CodeList::Cl710);
            }
            if let Some(c) = &e.container_packed_status {
                self.code(&pi.f("containerPackedStatus"), c, CodeList::Cl709);
            }
            if let Some(c) = &e.container_supplier_type {
                self.code(&pi.f("containerSupplierType"), c, CodeList::Cl711);
            }
            self.opt_str(
                &pi.f("containerIdentificationNumber"),
                &e.container_identification_number,
                CONTAINER_ID,
            );
        }
    }

    fn container_indicator(&mut self, p: &P<'_>, v: &Option<u8>) {
        // [D S15] required; CL708 0/1 ([I] reported with the S9 "Must be one
        // of" text because the field is an integer enum).
        if let Some(c) = self.req(p, v)
            && !CodeList::Cl708.contains(&c.to_string())
        {
            self.sync_err("codelist.cl708", p, m::one_of(CodeList::Cl708.codes()));
        }
    }

    // -- transport ----------------------------------------------------------

    fn transport(&mut self, t: &Transport) {
        let r = ROOT;
        self.req(&r.f("documentIssueDate"), &t.document_issue_date);
        if let Some(rep) = &t.representative {
            self.party(&r.f("representative"), rep, PartyKind::Representative);
        }
        if let Some(abtm) = self.req(
            &r.f("activeBorderTransportMeans"),
            &t.active_border_transport_means,
        ) {
            self.means(&r.f("activeBorderTransportMeans"), abtm);
        }
        if let Some(c) = self.req(&r.f("carrier"), &t.carrier) {
            self.party(&r.f("carrier"), c, PartyKind::Carrier);
        }
        let office = r.f("customsOfficeOfFirstEntry");
        if let Some(o) = self.req(&office, &t.customs_office_of_first_entry) {
            let p = office.f("referenceNumber");
            if let Some(code) = self.req_str(&p, &o.reference_number, OFFICE) {
                // [D S10] must be a CL141 office.
                if !CodeList::Cl141.contains(code) {
                    self.biz("codelist.cl141", &p, m::CUSTOMS_OFFICE_INVALID);
                }
            }
        }
        // [D S27] both required since 2024-04-01.
        let scheduled = self.req(
            &r.f("scheduledDateAndTimeOfArrival"),
            &t.scheduled_date_and_time_of_arrival,
        );
        let estimated = self.req(
            &r.f("estimatedDateAndTimeOfArrival"),
            &t.estimated_date_and_time_of_arrival,
        );
        // [D S27] estimated must equal scheduled on the first POST.
        if let (Some(s), Some(e)) = (scheduled, estimated)
            && self.ctx.first_submission
            && s != e
        {
            self.biz(
                "transport.arrival.estimated-equals-scheduled",
                &r.f("estimatedDateAndTimeOfArrival"),
                m::ESTIMATED_NOT_SCHEDULED,
            );
        }
        let cml = r.f("consignmentMasterLevel");
        for (i, c) in t.consignment_master_level.iter().flatten().enumerate() {
            let pi = cml.i(i);
            if let Some(d) = &c.transport_document_master_level {
                self.document(&pi.f("transportDocumentMasterLevel"), d);
            }
            let chl = pi.f("consignmentHouseLevel");
            for (j, h) in c.consignment_house_level.iter().flatten().enumerate() {
                let pj = chl.i(j);
                if let Some(d) = self.req(
                    &pj.f("transportDocumentHouseLevel"),
                    &h.transport_document_house_level,
                ) {
                    self.document(&pj.f("transportDocumentHouseLevel"), d);
                }
            }
            if c.transport_document_master_level.is_none() && c.consignment_house_level.is_none() {
                self.sync_err(
                    "transport.master-or-house-document",
                    &pi,
                    m::at_least_one(&["transportDocumentMasterLevel", "consignmentHouseLevel"]),
                );
            }
        }
    }

    /// `activeBorderTransportMeans`: the road v2 checks with the mode's
    /// differences taken from `self.rules` (the [`TransportMode::rules`] table).
    fn means(&mut self, p: &P<'_>, a: &ActiveBorderTransportMeans) {
        let rules = self.rules;
        self.req_str(
            &p.f("identificationNumber"),
            &a.identification_number,
            MEANS_ID,
        );
        if let Some(c) = self.req_str(
            &p.f("typeOfIdentification"),
            &a.type_of_identification,
            TYPE_OF_ID,
        ) {
            match rules.type_of_identification {
                // [D S12 CL750] per mode: air 41, rail 20/21, maritime 10.
                Some(allowed) if !allowed.contains(&c) => {
                    self.biz(
                        "transport.type-of-identification.mode",
                        &p.f("typeOfIdentification"),
                        m::invalid_code(allowed),
                    );
                }
                Some(_) => {}
                None => self.code(&p.f("typeOfIdentification"), c, CodeList::Cl750),
            }
        }
        if let Some(c) = self.req_str(
            &p.f("typeOfMeansOfTransport"),
            &a.type_of_means_of_transport,
            MEANS_TYPE,
        ) {
            self.code(&p.f("typeOfMeansOfTransport"), c, CodeList::Cl751);
        }
        if rules.conveyance_reference_required {
            // [D S4] the flight number is a transport key for air.
            self.req_str_as(
                "transport.conveyance-reference.required",
                &p.f("conveyanceReferenceNumber"),
                &a.conveyance_reference_number,
                CONVEYANCE,
            );
        } else {
            self.opt_str(
                &p.f("conveyanceReferenceNumber"),
                &a.conveyance_reference_number,
                CONVEYANCE,
            );
        }
        if let Some(c) = self.req_str(&p.f("countryCode"), &a.country_code, COUNTRY) {
            self.country(&p.f("countryCode"), c);
        }
        if let Some(c) = self.req_str(&p.f("modeOfTransportCode"), &a.mode_of_transport_code, MODE)
        {
            match rules.mode_of_transport_code {
                // Contract [I]: the mode's own CL018 code only.
                Some(expected) if c != expected => {
                    self.biz(
                        "transport.mode-of-transport.mode",
                        &p.f("modeOfTransportCode"),
                        m::invalid_code(&[expected]),
                    );
                }
                Some(_) => {}
                None => self.code(&p.f("modeOfTransportCode"), c, CodeList::Cl018),
            }
        }
        let op = p.f("operator");
        // [D S15, S27] see `TransportMode::rules` for the per-mode decision.
        let operator = match rules.operator {
            Requirement::Required => self.req_as("transport.operator.required", &op, &a.operator),
            Requirement::Expected => {
                self.req_as("transport.operator.required-maritime", &op, &a.operator)
            }
            Requirement::Optional => a.operator.as_ref(),
        };
        if let Some(o) = operator {
            self.req_str(&op.f("name"), &o.name, NAME);
            if rules.operator_communication_required {
                // [D S27] air: "name and phone".
                self.req_as(
                    "transport.operator.communication-required",
                    &op.f("communication"),
                    &o.communication,
                );
            }
            self.communications(&op.f("communication"), &o.communication);
        }
    }

    // -- master -------------------------------------------------------------

    fn master(&mut self, mc: &MasterConsignment) {
        let r = ROOT;
        self.req(&r.f("documentIssueDate"), &mc.document_issue_date);
        if let Some(rep) = &mc.representative {
            self.party(&r.f("representative"), rep, PartyKind::Representative);
        }
        let p = r.f("consignmentMasterLevel");
        let Some(c) = self.req(&p, &mc.consignment_master_level) else {
            return;
        };
        self.container_indicator(&p.f("containerIndicator"), &c.container_indicator);
        if let Some(n) = self.req(&p.f("grossMass"), &c.gross_mass) {
            self.digits(&p.f("grossMass"), n, MASS_DIGITS);
        }
        if let Some(carrier) = self.req(&p.f("carrier"), &c.carrier) {
            self.party(&p.f("carrier"), carrier, PartyKind::Carrier);
        }
        if let Some(x) = self.req(&p.f("consignor"), &c.consignor) {
            self.party(&p.f("consignor"), x, PartyKind::Trader);
        }
        if let Some(x) = self.req(&p.f("consignee"), &c.consignee) {
            self.party(&p.f("consignee"), x, PartyKind::Trader);
        }
        if let Some(d) = self.req(
            &p.f("transportDocumentMasterLevel"),
            &c.transport_document_master_level,
        ) {
            self.document(&p.f("transportDocumentMasterLevel"), d);
        }
        self.equipment(&p.f("transportEquipment"), &c.transport_equipment);
        if let Some(h) = &c.consignment_house_level {
            let chl = p.f("consignmentHouseLevel");
            let rp = chl.f("receptacle");
            for (i, rec) in h.receptacle.iter().flatten().enumerate() {
                let rpi = rp.i(i);
                let ri = rpi.f("receptacleIdentificationNumber");
                for (j, id) in rec
                    .receptacle_identification_number
                    .iter()
                    .flatten()
                    .enumerate()
                {
                    self.req_str(&ri.i(j), &Some(id.clone()), RECEPTACLE);
                }
            }
        }
        if let Some(pl) = &c.place_of_loading {
            self.place(&p.f("placeOfLoading"), pl);
        }
        if let Some(pl) = &c.place_of_unloading {
            self.place(&p.f("placeOfUnloading"), pl);
        }
    }

    // -- house --------------------------------------------------------------

    fn house(&mut self, h: &HouseConsignment) {
        let r = ROOT;
        self.req(&r.f("documentIssueDate"), &h.document_issue_date);
        if let Some(rep) = &h.representative {
            self.party(&r.f("representative"), rep, PartyKind::Representative);
        }
        let p = r.f("consignmentHouseLevel");
        let Some(c) = self.req(&p, &h.consignment_house_level) else {
            return;
        };
        self.opt_str(
            &p.f("receptacleIdentificationNumber"),
            &c.receptacle_identification_number,
            RECEPTACLE,
        );
        if let Some(t) = &c.transport_level {
            self.opt_str(
                &p.f("tranportLevel").f("carrierIdentificationNumber"),
                &t.carrier_identification_number,
                CARRIER_LINK,
            );
        }
        self.container_indicator(&p.f("containerIndicator"), &c.container_indicator);
        if let Some(n) = self.req(&p.f("totalGrossMass"), &c.total_gross_mass) {
            self.digits(&p.f("totalGrossMass"), n, MASS_DIGITS);
        }
        // [D S26] numberOfPackages and goodsDescription are new required fields in v2.
        if let Some(n) = self.req(&p.f("numberOfPackages"), &c.number_of_packages) {
            self.digits(&p.f("numberOfPackages"), n, COUNT_DIGITS);
        }
        self.req_str(
            &p.f("goodsDescription"),
            &c.goods_description,
            GOODS_DESCRIPTION,
        );
        if let Some(d) = self.req(
            &p.f("transportDocumentHouseLevel"),
            &c.transport_document_house_level,
        ) {
            self.document(&p.f("transportDocumentHouseLevel"), d);
        }
        if let Some(mref) = &c.consignment_master_level {
            let mp = p.f("consignmentMasterLevel");
            self.opt_str(
                &mp.f("carrierIdentificationNumber"),
                &mref.carrier_identification_number,
                CARRIER_LINK,
            );
            if let Some(d) = &mref.transport_document_master_level {
                self.document(&mp.f("transportDocumentMasterLevel"), d);
            }
        }
        if let Some(x) = self.req(&p.f("consignor"), &c.consignor) {
            self.party(&p.f("consignor"), x, PartyKind::Trader);
        }
        if let Some(x) = self.req(&p.f("consignee"), &c.consignee) {
            self.party(&p.f("consignee"), x, PartyKind::Trader);
        }
        if let Some(pl) = &c.place_of_acceptance {
            self.place(&p.f("placeOfAcceptance"), pl);
        }
        if let Some(pl) = &c.place_of_delivery {
            self.place(&p.f("placeOfDelivery"), pl);
        }
        self.equipment(&p.f("transportEquipment"), &c.transport_equipment);
        self.procedure_rules(&p, c);
    }

    #[allow(clippy::too_many_lines)]
    fn procedure_rules(&mut self, p: &P<'_>, c: &crate::road::HouseConsignmentLevel) {
        let block = c.import_procedure.as_ref();
        let ipp = p.f("importProcedure");
        let procedure = match block {
            Some(b) => {
                let pp = ipp.f("importProcedure");
                match &b.import_procedure {
                    None => {
                        // [D S28] importProcedure.importProcedure is required.
                        self.sync_err("field.not-blank", &pp, m::NOT_BLANK);
                        None
                    }
                    Some(ip) if ip.as_str().trim().is_empty() => {
                        self.sync_err("field.not-blank", &pp, m::NOT_BLANK);
                        None
                    }
                    Some(ip) => {
                        self.size(&pp, ip.as_str(), PROCEDURE);
                        if !ip.is_known() {
                            // [D S10] code-list check.
                            self.biz(
                                "codelist.import-procedure",
                                &pp,
                                m::invalid_code(&ImportProcedure::known_codes()),
                            );
                        }
                        Some(ip)
                    }
                }
            }
            None => None,
        };
        let outgoing = block.and_then(|b| b.outgoing_procedure.as_ref());
        if let Some(o) = outgoing {
            self.size(&ipp.f("outgoingProcedure"), o.as_str(), PROCEDURE);
            if !o.is_known() {
                // [D S10] "When field is provided, it has to be one of ...".
                self.biz(
                    "codelist.outgoing-procedure",
                    &ipp.f("outgoingProcedure"),
                    m::outgoing_procedure_codes(&OutgoingProcedure::known_codes()),
                );
            }
        }

        self.mode_procedures(&ipp, procedure, outgoing);

        let docs = c.previous_documents.as_deref().unwrap_or_default();
        let pdp = p.f("previousDocuments");
        // [D S10] previousDocuments need an importProcedure.
        if !docs.is_empty() && procedure.is_none() && block.is_none() {
            self.biz(
                "house.previous-documents.import-procedure",
                &ipp,
                m::IMPORT_PROCEDURE_REQUIRED,
            );
        }
        let cude_allowed = matches!(
            procedure,
            None | Some(
                ImportProcedure::ImmediateReleaseImport
                    | ImportProcedure::CustomsDeclaration
                    | ImportProcedure::WarehouseRelease
            )
        );
        let mut cude_count = 0;
        let mut seen_refs: HashSet<&str> = HashSet::new();
        let mut seen_cudes: HashSet<(&str, &str, &str)> = HashSet::new();
        let mut has_complete_cude = false;
        let has_ref = |t: &str| {
            docs.iter().any(|d| {
                d.type_of_reference.as_deref() == Some(t)
                    && d.reference_number.as_deref().is_some_and(|r| !r.is_empty())
            })
        };
        let has_n820 = has_ref("N820");
        let has_retr = has_ref("RETR");
        let gonu = docs
            .iter()
            .find(|d| d.type_of_reference.as_deref() == Some("GONU"));
        for (i, d) in docs.iter().enumerate() {
            let pi = pdp.i(i);
            let t = self.req_str(&pi.f("typeOfReference"), &d.type_of_reference, PREV_TYPE);
            if let Some(t) = t
                && !crate::codes::is_previous_document_type(t)
            {
                self.biz(
                    "codelist.cl228",
                    &pi.f("typeOfReference"),
                    m::invalid_code(&previous_document_types()),
                );
            }
            let reference = self.opt_str(&pi.f("referenceNumber"), &d.reference_number, PREV_REF);
            let declarant = self.opt_str(&pi.f("declarantNumber"), &d.declarant_number, DECLARANT);
            let seq = self.opt_str(&pi.f("sequenceNumber"), &d.sequence_number, SEQUENCE);
            let date = d.declaration_date.as_deref();
            if let Some(dt) = date
                && !is_iso_date(dt)
            {
                self.sync_err("field.date-format", &pi.f("declarationDate"), m::DATE);
            }
            let is_cude = t == Some("CUDE");
            if is_cude {
                cude_count += 1;
                // [D S10] CUDE needs all three declaration-id fields.
                for (name, val) in [
                    ("declarantNumber", declarant),
                    ("declarationDate", date),
                    ("sequenceNumber", seq),
                ] {
                    if val.is_none_or(str::is_empty) {
                        self.biz("house.cude.fields", &pi.f(name), m::CUDE_FIELD_REQUIRED);
                    }
                }
                if let (Some(a), Some(b), Some(s)) = (declarant, date, seq) {
                    has_complete_cude = true;
                    // [D S10] duplicate CUDE.
                    if !seen_cudes.insert((a, b, s)) {
                        self.biz("house.duplicate-reference", &pi, m::duplicate_cude(a, b, s));
                    }
                    // Playground: TVINN ids come from a static list [D S13].
                    if let Some(fx) = &self.ctx.playground {
                        let known = fx
                            .tvinn_declarations
                            .iter()
                            .any(|(x, y, z)| x == a && y == b && z == s);
                        if !known {
                            self.incomplete(
                                "playground.cude-unverified",
                                IncompleteDocumentationReason::CannotVerifyCudeDocumentation,
                            );
                        }
                    }
                }
            } else if t.is_some() && reference.is_none_or(str::is_empty) {
                // [D S10] non-CUDE references need referenceNumber.
                self.biz(
                    "house.previous-documents.reference-number",
                    &pi.f("referenceNumber"),
                    m::REFERENCE_NUMBER_REQUIRED,
                );
            }
            if !cude_allowed {
                // [D S10] CUDE fields only with a procedure that takes a
                // declaration. S10 names only IMMEDIATE_RELEASE_IMPORT; S1's
                // tables and S13 example 8 also use CUDE with
                // CUSTOMS_DECLARATION and WAREHOUSE_RELEASE, so those pass.
                let name = procedure.map(ImportProcedure::as_str).unwrap_or_default();
                for (field, val) in [
                    ("sequenceNumber", seq),
                    ("declarantNumber", declarant),
                    ("declarationDate", date),
                ] {
                    if val.is_some() {
                        self.biz(
                            "house.cude.procedure",
                            &pi.f(field),
                            m::cude_field_not_allowed(name),
                        );
                    }
                }
            }
            if let Some(rn) = reference.filter(|r| !r.is_empty()) {
                // [D S10] duplicate referenceNumber.
                if !seen_refs.insert(rn) {
                    self.biz(
                        "house.duplicate-reference",
                        &pi.f("referenceNumber"),
                        m::duplicate_reference(rn),
                    );
                }
                if t == Some("N820") {
                    // [D S10] N820 not allowed with outgoing EXP.
                    if outgoing == Some(&OutgoingProcedure::Exp) {
                        self.biz(
                            "house.n820.with-exp",
                            &pi.f("typeOfReference"),
                            m::N820_WITH_EXP,
                        );
                    }
                    // [D S13] playground NCTS rule.
                    if self.ctx.playground.is_some() && !PlaygroundFixtures::ncts_reference_ok(rn) {
                        self.biz(
                            "playground.n820-state",
                            &pi.f("referenceNumber"),
                            m::N820_WRONG_STATE,
                        );
                    }
                }
            } else if t == Some("N820") && outgoing == Some(&OutgoingProcedure::Exp) {
                self.biz(
                    "house.n820.with-exp",
                    &pi.f("typeOfReference"),
                    m::N820_WITH_EXP,
                );
            }
        }
        if cude_count > 1 {
            // [D S10] one CUDE only.
            self.biz("house.cude.one-only", &pdp, m::ONE_CUDE_ONLY);
        }

        // exportFromEU
        let exports = c.export_from_eu.as_deref().unwrap_or_default();
        let ep = p.f("exportFromEU");
        if !exports.is_empty() && outgoing == Some(&OutgoingProcedure::Tra) {
            // [D S10] no exports with outgoing TRA.
            self.biz("house.export.with-tra", &ep, m::EXPORT_WITH_TRA);
        }
        let mut seen_exports: HashSet<&str> = HashSet::new();
        let mut has_export = false;
        for (i, e) in exports.iter().enumerate() {
            let pi = ep.i(i);
            let ty = self.req(&pi.f("typeOfExport"), &e.type_of_export);
            if let Some(ty) = ty
                && ty.is_known()
                && !self.rules.export_types.contains(&ty.as_str())
            {
                // [D S17] the air, sea and rail pages: "must be one of
                // [AES_EXPORT, EUEIR_EXPORT]"; EIDR only on road's (S1).
                self.biz(
                    "house.export.eidr-road-only",
                    &pi.f("typeOfExport"),
                    m::invalid_code(self.rules.export_types),
                );
            }
            if let Some(ty) = ty
                && !ty.is_known()
            {
                self.biz(
                    "codelist.export-type",
                    &pi.f("typeOfExport"),
                    m::invalid_code(&TypeOfExport::known_codes()),
                );
            }
            let id = match e.export_id.as_deref() {
                Some(s) if !s.trim().is_empty() => Some(s),
                _ => {
                    self.sync_err("field.not-blank", &pi.f("exportId"), m::NOT_BLANK);
                    None
                }
            };
            if let (Some(ty), Some(id)) = (ty, id) {
                has_export |= ty.is_known();
                // [D S10, S12 TB_EXPORTTYPE] id format per type.
                if ty.is_known() && !export_id_ok(ty, id) {
                    self.biz(
                        "house.export.id-format",
                        &pi.f("exportId"),
                        m::export_id_format(ty.as_str()),
                    );
                }
                // [D S10] duplicate exportId.
                if !seen_exports.insert(id) {
                    self.biz(
                        "house.duplicate-reference",
                        &pi.f("exportId"),
                        m::duplicate_export(id),
                    );
                }
            }
        }

        // goodsItem (VOEC)
        let items = c.goods_item.as_deref();
        let gp = p.f("goodsItem");
        let is_voec = procedure == Some(&ImportProcedure::ImmediateReleaseVoec);
        if items.is_some_and(|v| !v.is_empty()) && !is_voec {
            // [D S10] goodsItem only with IMMEDIATE_RELEASE_VOEC.
            self.biz("house.goods-item.voec-only", &gp, m::GOODS_ITEM_NOT_VOEC);
        }
        let mut voec_complete = items.is_some_and(|v| !v.is_empty());
        for (i, g) in items.unwrap_or_default().iter().enumerate() {
            voec_complete &= self.goods_item(&gp.i(i), g);
        }

        // GONU variants are only on road's page [D S1, S17].
        if procedure == Some(&ImportProcedure::WarehouseRelease)
            && gonu.is_some()
            && !self.rules.gonu_warehouse
        {
            self.biz(
                "house.gonu.road-only",
                &ipp.f("importProcedure"),
                m::gonu_not_listed(self.mode.path_segment()),
            );
        }

        // GONU deadline [D S1].
        if procedure == Some(&ImportProcedure::WarehouseRelease)
            && gonu.is_some()
            && self.ctx.now >= GONU_DEADLINE
        {
            self.biz(
                "house.gonu.deadline",
                &ipp.f("importProcedure"),
                m::GONU_EXPIRED,
            );
        }

        // Missing documentation -> INCOMPLETE, per S1's procedure tables and
        // the IncompleteDocumentationReason code list [D S1, S12].
        use IncompleteDocumentationReason as R;
        match procedure {
            Some(ImportProcedure::ImmediateReleaseImport | ImportProcedure::CustomsDeclaration)
                if !has_complete_cude =>
            {
                self.incomplete("incomplete.cude", R::IncompleteCudeDocumentation);
            }
            Some(ImportProcedure::WarehouseRelease) => match gonu {
                Some(g) if g.reference_number.as_deref().is_none_or(str::is_empty) => {
                    self.incomplete("incomplete.gonu", R::IncompleteGonuDocumentation);
                }
                Some(_) => {}
                None => {
                    if !has_complete_cude {
                        self.incomplete("incomplete.cude", R::IncompleteCudeDocumentation);
                    }
                }
            },
            Some(ImportProcedure::TransitImport) if !has_n820 => {
                self.incomplete("incomplete.tra", R::IncompleteTraDocumentation);
            }
            Some(ImportProcedure::TransitRelease) if !has_retr => {
                self.incomplete("incomplete.tra", R::IncompleteTraDocumentation);
            }
            Some(ImportProcedure::ImmediateReleaseVoec) if !voec_complete => {
                self.incomplete("incomplete.voec", R::IncompleteVoecDocumentation);
            }
            Some(ImportProcedure::AtaCarnet) if !has_ref("N955") => {
                self.incomplete("incomplete.documentation", R::IncompleteDocumentation);
            }
            Some(ImportProcedure::TirCarnet) if !has_ref("N952") => {
                self.incomplete("incomplete.documentation", R::IncompleteDocumentation);
            }
            Some(ImportProcedure::NatoForm302) if !has_ref("C624") => {
                self.incomplete("incomplete.documentation", R::IncompleteDocumentation);
            }
            _ => {}
        }
        if matches!(
            outgoing,
            Some(OutgoingProcedure::Exp | OutgoingProcedure::Tre)
        ) && !has_export
        {
            self.incomplete("incomplete.exp", R::IncompleteExpDocumentation);
        }
        if matches!(
            outgoing,
            Some(OutgoingProcedure::Tra | OutgoingProcedure::Tre)
        ) && !has_n820
        {
            self.incomplete("incomplete.tra", R::IncompleteTraDocumentation);
        }
    }

    /// The mode's procedure table \[D S1, S17\]: the import procedure is one
    /// the mode's page lists, and the outgoing procedure one of its variants.
    /// Unknown codes are left to the code-list rules.
    fn mode_procedures(
        &mut self,
        ipp: &P<'_>,
        procedure: Option<&ImportProcedure>,
        outgoing: Option<&OutgoingProcedure>,
    ) {
        let Some(ip) = procedure.filter(|ip| ip.is_known()) else {
            return;
        };
        if outgoing.is_some_and(|o| !o.is_known()) {
            return;
        }
        let table = self.rules;
        match table.procedure(ip.as_str()) {
            None => {
                let listed: Vec<&str> = table.procedures.iter().map(|v| v.import).collect();
                self.biz(
                    "house.import-procedure.mode",
                    &ipp.f("importProcedure"),
                    m::invalid_code(&listed),
                );
            }
            Some(variants) => {
                let out = outgoing.map(OutgoingProcedure::as_str);
                if !variants.outgoing.contains(&out) {
                    self.biz(
                        "house.outgoing-procedure.mode",
                        &ipp.f("outgoingProcedure"),
                        m::outgoing_not_listed(
                            self.mode.path_segment(),
                            ip.as_str(),
                            out,
                            variants.outgoing,
                        ),
                    );
                }
            }
        }
    }

    /// Checks one VOEC goods item; returns whether it is complete.
    fn goods_item(&mut self, p: &P<'_>, g: &GoodsItem) -> bool {
        let mut complete = true;
        match &g.item_amount_invoiced_voec {
            Some(a) => {
                let ap = p.f("itemAmountInvoicedVOEC");
                if let Some(v) = self.req(&ap.f("value"), &a.value) {
                    self.digits(&ap.f("value"), v, AMOUNT_DIGITS);
                    // [D S10] VOEC limit: NOK 3000 per item. We compare the
                    // invoiced `value` itself ([I]: whether Toll divides by
                    // numberOfItems is not documented).
                    if v.as_f64().is_some_and(|x| x > VOEC_LIMIT_NOK) {
                        self.biz("house.voec.item-limit", &ap.f("value"), m::VOEC_OVER_LIMIT);
                    }
                }
                match &a.number_of_items {
                    Some(n) => self.digits(&ap.f("numberOfItems"), n, COUNT_DIGITS),
                    None => complete = false,
                }
            }
            None => complete = false,
        }
        match &g.commodity_code_voec {
            Some(cc) => {
                self.req_str(
                    &p.f("commodityCodeVOEC").f("harmonizedSystemSubheadingCode"),
                    &cc.harmonized_system_subheading_code,
                    HS,
                );
            }
            None => complete = false,
        }
        match &g.additional_fiscal_references {
            Some(fr) => {
                let fp = p.f("additionalFiscalReferences");
                if let Some(vat) = self.req_str(
                    &fp.f("vatIdentificationNumber"),
                    &fr.vat_identification_number,
                    VAT,
                ) {
                    // [D S10, S13] only known VOEC numbers (playground list).
                    if let Some(fx) = &self.ctx.playground
                        && !fx.voec_numbers.iter().any(|x| x == vat)
                    {
                        self.biz(
                            "playground.voec-number",
                            &fp.f("vatIdentificationNumber"),
                            m::VOEC_UNKNOWN,
                        );
                    }
                }
                if let Some(role) = self.opt_str(&fp.f("role"), &fr.role, FISCAL_ROLE) {
                    self.code(&fp.f("role"), role, CodeList::Cl756);
                }
            }
            None => complete = false,
        }
        complete
    }

    // -- relation and delete -------------------------------------------------

    fn relation(&mut self, r: &Relation) {
        let root = ROOT;
        self.req_str(&root.f("representative"), &r.representative, PARTY_ID);
        for (tf, rf, ty, reference) in [
            (
                "parentObjectType",
                "parentObjectReference",
                &r.parent_object_type,
                &r.parent_object_reference,
            ),
            (
                "childObjectType",
                "childObjectReference",
                &r.child_object_type,
                &r.child_object_reference,
            ),
        ] {
            if let Some(t) = self.req(&root.f(tf), ty)
                && !t.is_known()
            {
                self.sync_err(
                    "relation.object-type",
                    &root.f(tf),
                    m::one_of(&crate::codes::ObjectType::known_codes()),
                );
            }
            if let Some(mrn) = self.req_str(&root.f(rf), reference, MRN_LEN)
                && mrn.chars().count() == 18
                && Mrn::parse(mrn).is_err()
            {
                // [I] Toll documents no MRN syntax rule or text; an MRN
                // of the wrong shape can never match, so report it with
                // the S10 "Invalid MRN format" wording.
                self.biz("mrn.format", &root.f(rf), m::INVALID_MRN);
            }
        }
    }

    fn delete(&mut self, d: &DeleteBody) {
        let root = ROOT;
        self.req(&root.f("documentIssueDate"), &d.document_issue_date);
        if let Some(rep) = &d.representative {
            self.party(&root.f("representative"), rep, PartyKind::Representative);
        }
    }
}

/// The rule id of a code-list check.
fn codelist_rule(list: CodeList) -> &'static str {
    match list {
        CodeList::Cl018 => "codelist.cl018",
        CodeList::Cl094 => "codelist.cl094",
        CodeList::Cl141 => "codelist.cl141",
        CodeList::Cl707 => "codelist.cl707",
        CodeList::Cl708 => "codelist.cl708",
        CodeList::Cl709 => "codelist.cl709",
        CodeList::Cl710 => "codelist.cl710",
        CodeList::Cl711 => "codelist.cl711",
        CodeList::Cl729 => "codelist.cl729",
        CodeList::Cl750 => "codelist.cl750",
        CodeList::Cl751 => "codelist.cl751",
        CodeList::Cl754 => "codelist.cl754",
        CodeList::Cl756 => "codelist.cl756",
        CodeList::Country => "codelist.country",
        CodeList::ImportProcedure => "codelist.import-procedure",
        CodeList::OutgoingProcedure => "codelist.outgoing-procedure",
        CodeList::ExportType => "codelist.export-type",
        CodeList::Cl228 | CodeList::AdditionalPreviousDocumentType => "codelist.cl228",
        // Lists the validator does not check (CL017, CL704, CL749,
        // IncompleteDocumentationReason) have no rule of their own.
        _ => "codelist.unchecked",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PartyKind {
    Carrier,
    Representative,
    Trader,
}

fn digits_ok(s: &str, int: usize, frac: usize) -> bool {
    let s = s.trim_start_matches('-');
    let (i, f) = s.split_once('.').unwrap_or((s, ""));
    let i = i.trim_start_matches('0');
    let f = f.trim_end_matches('0');
    i.len() <= int && f.len() <= frac
}

/// UN/LOCODE syntax: the 2-letter ISO 3166 country (one that exists) and 3
/// characters of `[A-Z2-9]` (UNECE's UN/LOCODE manual; the digits 0 and 1
/// are not used, to avoid confusion with O and I). A space between country
/// and location, as UNECE prints it, is not accepted: Toll's examples write
/// `NOOSL`.
fn unlocode_ok(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 5
        && code.is_ascii()
        && CodeList::Country.contains(&code[..2])
        && b[2..]
            .iter()
            .all(|c| c.is_ascii_uppercase() || (b'2'..=b'9').contains(c))
}

fn is_iso_date(s: &str) -> bool {
    time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).is_ok()
        && s.len() == 10
}

/// Export id formats per TB_EXPORTTYPE \[D S12\]:
/// AES 18 characters (read as an MRN: `YY` + country + 14 alphanumerics, \[I\]);
/// EUEIR up to 35 characters; EIDR 18 characters, 1–2 digits, 3–4 `SE`,
/// 16–17 `AE`.
fn export_id_ok(ty: &TypeOfExport, id: &str) -> bool {
    match ty {
        TypeOfExport::AesExport => Mrn::parse(id).is_ok(),
        TypeOfExport::EueirExport => (1..=35).contains(&id.chars().count()),
        TypeOfExport::EidrExport => {
            let b = id.as_bytes();
            b.len() == 18
                && b.iter().all(u8::is_ascii_alphanumeric)
                && b[..2].iter().all(u8::is_ascii_digit)
                && &b[2..4] == b"SE"
                && &b[15..17] == b"AE"
        }
        TypeOfExport::Other(_) => false,
    }
}
