//! The message store: accepted messages, submissions awaiting processing and
//! their results, and the link rules between messages.
//!
//! Links are not stored (except relations, which are messages themselves); they
//! are computed from the active messages whenever a query needs them, so PUT,
//! DELETE and cancellation change the tree immediately.

use std::collections::HashMap;

use digitoll_model::codes::IncompleteDocumentationReason;
use digitoll_model::responses::AsyncValidationError;
use digitoll_model::{Message, TransportMode};
use serde_json::{Number, Value};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{
    MessageState, SubmissionOperation, SubmissionStatus, TollMessageInfo, TollMessageKind,
    TollSubmissionInfo,
};

/// A transport document reference (number + CL754 type).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct DocKey {
    pub(crate) number: String,
    pub(crate) doc_type: String,
}

impl DocKey {
    fn from_ref(r: Option<&digitoll_model::road::DocumentRef>) -> Option<Self> {
        let r = r?;
        Some(Self {
            number: r.document_number.clone()?,
            doc_type: r.doc_type.clone()?,
        })
    }
}

/// The fields of a transport that linking, cancellation and PUT checks need.
#[derive(Debug, Clone, Default)]
pub(crate) struct TransportSummary {
    pub(crate) plate: Option<String>,
    pub(crate) plate_type: Option<String>,
    pub(crate) conveyance: Option<String>,
    pub(crate) mode: Option<String>,
    pub(crate) scheduled: Option<OffsetDateTime>,
    pub(crate) estimated: Option<OffsetDateTime>,
    pub(crate) carrier: Option<String>,
    pub(crate) masters: Vec<DocKey>,
    pub(crate) houses: Vec<DocKey>,
}

/// The fields of a master that linking needs.
#[derive(Debug, Clone, Default)]
pub(crate) struct MasterSummary {
    pub(crate) doc: Option<DocKey>,
    pub(crate) carrier: Option<String>,
    pub(crate) gross_mass: Option<Number>,
    pub(crate) receptacles: Vec<String>,
    pub(crate) containers: Vec<String>,
}

/// The fields of a house that linking needs.
#[derive(Debug, Clone, Default)]
pub(crate) struct HouseSummary {
    pub(crate) doc: Option<DocKey>,
    pub(crate) master_carrier: Option<String>,
    pub(crate) master_doc: Option<DocKey>,
    pub(crate) direct: bool,
    pub(crate) transport_carrier: Option<String>,
    pub(crate) receptacle: Option<String>,
    pub(crate) gross_mass: Option<Number>,
    pub(crate) containers: Vec<String>,
}

/// A relation: parent and child MRNs with their object types.
#[derive(Debug, Clone, Default)]
pub(crate) struct RelationSummary {
    pub(crate) parent_type: String,
    pub(crate) parent: String,
    pub(crate) child_type: String,
    pub(crate) child: String,
}

/// Per-kind summary of a stored message.
#[derive(Debug, Clone)]
pub(crate) enum Summary {
    Transport(TransportSummary),
    Master(MasterSummary),
    House(HouseSummary),
    Relation(RelationSummary),
}

impl Summary {
    /// Summarises a parsed message (DELETE bodies have no summary).
    pub(crate) fn of(message: &Message) -> Option<Self> {
        Some(match message {
            Message::Transport(t) => {
                let means = t.active_border_transport_means.as_ref();
                let mut masters = Vec::new();
                let mut houses = Vec::new();
                for entry in t.consignment_master_level.iter().flatten() {
                    if let Some(doc) =
                        DocKey::from_ref(entry.transport_document_master_level.as_ref())
                    {
                        masters.push(doc);
                    }
                    for house in entry.consignment_house_level.iter().flatten() {
                        if let Some(doc) =
                            DocKey::from_ref(house.transport_document_house_level.as_ref())
                        {
                            houses.push(doc);
                        }
                    }
                }
                Self::Transport(TransportSummary {
                    plate: means.and_then(|m| m.identification_number.clone()),
                    plate_type: means.and_then(|m| m.type_of_identification.clone()),
                    conveyance: means.and_then(|m| m.conveyance_reference_number.clone()),
                    mode: means.and_then(|m| m.mode_of_transport_code.clone()),
                    scheduled: t
                        .scheduled_date_and_time_of_arrival
                        .map(|i| i.to_offset_date_time()),
                    estimated: t
                        .estimated_date_and_time_of_arrival
                        .map(|i| i.to_offset_date_time()),
                    carrier: t
                        .carrier
                        .as_ref()
                        .and_then(|c| c.identification_number.clone()),
                    masters,
                    houses,
                })
            }
            Message::MasterConsignment(m) => {
                let level = m.consignment_master_level.as_ref();
                Self::Master(MasterSummary {
                    doc: DocKey::from_ref(
                        level.and_then(|l| l.transport_document_master_level.as_ref()),
                    ),
                    carrier: level
                        .and_then(|l| l.carrier.as_ref())
                        .and_then(|c| c.identification_number.clone()),
                    gross_mass: level.and_then(|l| l.gross_mass.clone()),
                    receptacles: level
                        .and_then(|l| l.consignment_house_level.as_ref())
                        .and_then(|h| h.receptacle.as_ref())
                        .into_iter()
                        .flatten()
                        .flat_map(|r| r.receptacle_identification_number.iter().flatten())
                        .cloned()
                        .collect(),
                    containers: containers(level.and_then(|l| l.transport_equipment.as_ref())),
                })
            }
            Message::HouseConsignment(h) => {
                let level = h.consignment_house_level.as_ref();
                let master = level.and_then(|l| l.consignment_master_level.as_ref());
                Self::House(HouseSummary {
                    doc: DocKey::from_ref(
                        level.and_then(|l| l.transport_document_house_level.as_ref()),
                    ),
                    master_carrier: master.and_then(|m| m.carrier_identification_number.clone()),
                    master_doc: DocKey::from_ref(
                        master.and_then(|m| m.transport_document_master_level.as_ref()),
                    ),
                    direct: level.and_then(|l| l.direct_consignment).unwrap_or(false),
                    transport_carrier: level
                        .and_then(|l| l.transport_level.as_ref())
                        .and_then(|t| t.carrier_identification_number.clone()),
                    receptacle: level.and_then(|l| l.receptacle_identification_number.clone()),
                    gross_mass: level.and_then(|l| l.total_gross_mass.clone()),
                    containers: containers(level.and_then(|l| l.transport_equipment.as_ref())),
                })
            }
            Message::Relation(r) => Self::Relation(RelationSummary {
                parent_type: r
                    .parent_object_type
                    .as_ref()
                    .map(|t| t.as_str().to_owned())
                    .unwrap_or_default(),
                parent: r.parent_object_reference.clone().unwrap_or_default(),
                child_type: r
                    .child_object_type
                    .as_ref()
                    .map(|t| t.as_str().to_owned())
                    .unwrap_or_default(),
                child: r.child_object_reference.clone().unwrap_or_default(),
            }),
            Message::Delete(_) => return None,
        })
    }
}

fn containers(list: Option<&Vec<digitoll_model::road::TransportEquipment>>) -> Vec<String> {
    list.into_iter()
        .flatten()
        .filter_map(|e| e.container_identification_number.clone())
        .collect()
}

/// The representative org named in a message (relations: the plain string).
pub(crate) fn representative_of(message: &Message) -> Option<String> {
    match message {
        Message::Transport(t) => t.representative.as_ref()?.identification_number.clone(),
        Message::MasterConsignment(m) => m.representative.as_ref()?.identification_number.clone(),
        Message::HouseConsignment(h) => h.representative.as_ref()?.identification_number.clone(),
        Message::Relation(r) => r.representative.clone(),
        Message::Delete(_) => None,
    }
}

/// A registered arrival of a transport.
#[derive(Debug, Clone)]
pub(crate) struct Arrival {
    pub(crate) office: String,
    pub(crate) at: OffsetDateTime,
}

/// An accepted message.
#[derive(Debug, Clone)]
pub(crate) struct StoredMessage {
    pub(crate) mrn: String,
    /// The movement API it was submitted through.
    pub(crate) mode: TransportMode,
    pub(crate) kind: TollMessageKind,
    pub(crate) org: String,
    pub(crate) state: MessageState,
    pub(crate) representative: Option<String>,
    pub(crate) body: Value,
    pub(crate) summary: Summary,
    pub(crate) incomplete: Vec<IncompleteDocumentationReason>,
    pub(crate) created_at: OffsetDateTime,
    pub(crate) updated_at: OffsetDateTime,
    pub(crate) arrival: Option<Arrival>,
}

impl StoredMessage {
    /// Whether `org` may see this message (submitter or named representative).
    pub(crate) fn visible_to(&self, org: &str) -> bool {
        self.org == org || self.representative.as_deref() == Some(org)
    }

    pub(crate) fn is_active(&self) -> bool {
        self.state == MessageState::Active
    }

    pub(crate) fn transport(&self) -> Option<&TransportSummary> {
        match &self.summary {
            Summary::Transport(t) => Some(t),
            _ => None,
        }
    }

    pub(crate) fn master(&self) -> Option<&MasterSummary> {
        match &self.summary {
            Summary::Master(m) => Some(m),
            _ => None,
        }
    }

    pub(crate) fn house(&self) -> Option<&HouseSummary> {
        match &self.summary {
            Summary::House(h) => Some(h),
            _ => None,
        }
    }

    /// The master or house document, if this is one.
    pub(crate) fn doc(&self) -> Option<&DocKey> {
        match &self.summary {
            Summary::Master(m) => m.doc.as_ref(),
            Summary::House(h) => h.doc.as_ref(),
            _ => None,
        }
    }

    fn info(&self) -> TollMessageInfo {
        TollMessageInfo {
            mode: self.mode,
            kind: self.kind,
            mrn: self.mrn.clone(),
            org: self.org.clone(),
            state: self.state,
            document_number: self.doc().map(|d| d.number.clone()),
            document_type: self.doc().map(|d| d.doc_type.clone()),
            representative: self.representative.clone(),
            incomplete_documentation_reasons: self
                .incomplete
                .iter()
                .map(|r| r.as_str().to_owned())
                .collect(),
            arrived: self.arrival.is_some(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            body: self.body.clone(),
        }
    }
}

/// What processing should decide from the model's validation report.
#[derive(Debug, Clone)]
pub(crate) enum Verdict {
    /// Business-rule errors: the result is FAILURE.
    Failed(Vec<AsyncValidationError>),
    /// Accepted, with these incomplete-documentation reasons.
    Accepted(Vec<IncompleteDocumentationReason>),
}

/// The work a pending request still has to do.
#[derive(Debug, Clone)]
pub(crate) struct Work {
    pub(crate) message: Message,
    pub(crate) body: Value,
    pub(crate) verdict: Verdict,
}

/// A submission that got a requestId.
#[derive(Debug, Clone)]
pub(crate) struct RequestRecord {
    pub(crate) request_id: Uuid,
    pub(crate) mode: TransportMode,
    pub(crate) kind: TollMessageKind,
    pub(crate) operation: SubmissionOperation,
    pub(crate) org: String,
    /// The target of PUT/DELETE, or the MRN issued on success.
    pub(crate) mrn: Option<String>,
    pub(crate) received_at: OffsetDateTime,
    pub(crate) ready_at: OffsetDateTime,
    pub(crate) status: SubmissionStatus,
    /// `None` once processed.
    pub(crate) work: Option<Work>,
    /// The validation-status body once processed.
    pub(crate) result: Option<Value>,
}

/// Everything the Toll APIs store.
#[derive(Debug, Default)]
pub(crate) struct Store {
    pub(crate) messages: Vec<StoredMessage>,
    by_mrn: HashMap<String, usize>,
    pub(crate) requests: Vec<RequestRecord>,
    request_index: HashMap<Uuid, usize>,
    /// Presentation and arrival requests (and simulated presentations).
    pub(crate) entry_requests: Vec<super::entry::EntryRequest>,
    pub(crate) entry_index: HashMap<Uuid, usize>,
    /// Routing signals, oldest first, and their index by id.
    pub(crate) signals: Vec<super::routing::SignalRecord>,
    pub(crate) signal_index: HashMap<Uuid, usize>,
    /// `SimControl::set_routing` overrides by document number (or transport MRN).
    pub(crate) routing_overrides: HashMap<String, super::routing::RoutingChoice>,
}

/// How long after its estimated arrival an unarrived transport is cancelled (S4).
pub(crate) const TRANSPORT_CANCEL_AFTER: Duration = Duration::hours(72);
/// How long after its last update an unlinked master or house is cancelled (S4).
pub(crate) const UNLINKED_CANCEL_AFTER: Duration = Duration::days(30);

impl Store {
    /// Processes ready requests, then applies auto-cancellation at `now`.
    pub(crate) fn advance(&mut self, now: OffsetDateTime) {
        self.process_ready(now);
        self.process_entry_ready(now);
        self.sweep(now);
    }

    fn process_ready(&mut self, now: OffsetDateTime) {
        let ready: Vec<usize> = self
            .requests
            .iter()
            .enumerate()
            .filter(|(_, r)| r.status == SubmissionStatus::Pending && r.ready_at <= now)
            .map(|(i, _)| i)
            .collect();
        for i in ready {
            self.process(i);
        }
    }

    /// Auto-cancellation (S4): unarrived transports 72 h after estimated
    /// arrival; masters and houses not linked to a transport 30 days after
    /// their last update.
    fn sweep(&mut self, now: OffsetDateTime) {
        for m in &mut self.messages {
            if !m.is_active() || m.arrival.is_some() {
                continue;
            }
            let Some(t) = m.transport() else { continue };
            let Some(eta) = t.estimated.or(t.scheduled) else {
                continue;
            };
            let at = eta + TRANSPORT_CANCEL_AFTER;
            if at <= now {
                m.state = MessageState::Cancelled;
                m.updated_at = at;
            }
        }
        let stale: Vec<usize> = self
            .messages
            .iter()
            .enumerate()
            .filter(|(_, m)| {
                m.is_active()
                    && matches!(
                        m.kind,
                        TollMessageKind::MasterConsignment | TollMessageKind::HouseConsignment
                    )
                    && m.updated_at + UNLINKED_CANCEL_AFTER <= now
            })
            .filter(|(_, m)| !self.linked_to_transport(m))
            .map(|(i, _)| i)
            .collect();
        for i in stale {
            let m = &mut self.messages[i];
            m.state = MessageState::Cancelled;
            m.updated_at += UNLINKED_CANCEL_AFTER;
        }
    }

    /// A message by MRN, in any state.
    pub(crate) fn get(&self, mrn: &str) -> Option<&StoredMessage> {
        self.by_mrn.get(mrn).map(|&i| &self.messages[i])
    }

    pub(crate) fn get_mut(&mut self, mrn: &str) -> Option<&mut StoredMessage> {
        self.by_mrn.get(mrn).map(|&i| &mut self.messages[i])
    }

    /// An active message of `kind` that `org` may see.
    pub(crate) fn visible(
        &self,
        kind: TollMessageKind,
        mrn: &str,
        org: &str,
    ) -> Option<&StoredMessage> {
        self.get(mrn)
            .filter(|m| m.kind == kind && m.is_active() && m.visible_to(org))
    }

    pub(crate) fn insert(&mut self, message: StoredMessage) {
        self.by_mrn.insert(message.mrn.clone(), self.messages.len());
        self.messages.push(message);
    }

    pub(crate) fn mrn_taken(&self, mrn: &str) -> bool {
        self.by_mrn.contains_key(mrn)
    }

    pub(crate) fn add_request(&mut self, record: RequestRecord) {
        self.request_index
            .insert(record.request_id, self.requests.len());
        self.requests.push(record);
    }

    pub(crate) fn request(&self, id: &Uuid) -> Option<&RequestRecord> {
        self.request_index.get(id).map(|&i| &self.requests[i])
    }

    fn active(&self, kind: TollMessageKind) -> impl Iterator<Item = &StoredMessage> {
        self.messages
            .iter()
            .filter(move |m| m.kind == kind && m.is_active())
    }

    /// Active relations `parent → child` whose both ends are active.
    fn related_children(&self, parent: &str, child_kind: TollMessageKind) -> Vec<&StoredMessage> {
        self.active(TollMessageKind::Relation)
            .filter_map(|r| match &r.summary {
                Summary::Relation(rel) if rel.parent == parent => self.get(&rel.child),
                _ => None,
            })
            .filter(|c| c.kind == child_kind && c.is_active())
            .collect()
    }

    fn related_parents(&self, child: &str, parent_kind: TollMessageKind) -> Vec<&StoredMessage> {
        self.active(TollMessageKind::Relation)
            .filter_map(|r| match &r.summary {
                Summary::Relation(rel) if rel.child == child => self.get(&rel.parent),
                _ => None,
            })
            .filter(|p| p.kind == parent_kind && p.is_active())
            .collect()
    }

    /// The active master with this document and carrier.
    pub(crate) fn master_by_key(
        &self,
        doc: &DocKey,
        carrier: Option<&str>,
    ) -> Option<&StoredMessage> {
        self.active(TollMessageKind::MasterConsignment).find(|m| {
            m.master()
                .is_some_and(|s| s.doc.as_ref() == Some(doc) && s.carrier.as_deref() == carrier)
        })
    }

    /// The masters a transport carries: referenced by document (received or
    /// not) and linked by relations.
    pub(crate) fn transport_masters<'a>(&'a self, t: &'a StoredMessage) -> Vec<MasterSlot<'a>> {
        let Some(ts) = t.transport() else {
            return Vec::new();
        };
        let mut slots: Vec<MasterSlot<'a>> = ts
            .masters
            .iter()
            .map(|doc| match self.master_by_key(doc, ts.carrier.as_deref()) {
                Some(m) => MasterSlot::Received(m),
                None => MasterSlot::Missing {
                    doc: doc.clone(),
                    carrier: ts.carrier.clone(),
                },
            })
            .collect();
        for m in self.related_children(&t.mrn, TollMessageKind::MasterConsignment) {
            if !slots
                .iter()
                .any(|s| matches!(s, MasterSlot::Received(r) if r.mrn == m.mrn))
            {
                slots.push(MasterSlot::Received(m));
            }
        }
        slots
    }

    /// The direct consignments of a transport: referenced by document
    /// (received or not) and linked by relations.
    pub(crate) fn transport_direct_houses<'a>(
        &'a self,
        t: &'a StoredMessage,
    ) -> Vec<HouseSlot<'a>> {
        let Some(ts) = t.transport() else {
            return Vec::new();
        };
        let mut slots: Vec<HouseSlot<'a>> = ts
            .houses
            .iter()
            .map(|doc| {
                let found = self.active(TollMessageKind::HouseConsignment).find(|h| {
                    h.house().is_some_and(|s| {
                        s.direct
                            && s.doc.as_ref() == Some(doc)
                            && (s.transport_carrier.is_none() || s.transport_carrier == ts.carrier)
                    })
                });
                match found {
                    Some(h) => HouseSlot::Received(h),
                    None => HouseSlot::Missing(doc.clone()),
                }
            })
            .collect();
        for h in self.related_children(&t.mrn, TollMessageKind::HouseConsignment) {
            if !slots
                .iter()
                .any(|s| matches!(s, HouseSlot::Received(r) if r.mrn == h.mrn))
            {
                slots.push(HouseSlot::Received(h));
            }
        }
        slots
    }

    /// Houses under a master slot: by master document + carrier, by postal
    /// receptacle, and by relations.
    pub(crate) fn master_houses<'a>(&'a self, slot: &MasterSlot<'a>) -> Vec<&'a StoredMessage> {
        let (doc, carrier, receptacles, mrn) = match slot {
            MasterSlot::Received(m) => {
                let Some(s) = m.master() else {
                    return Vec::new();
                };
                (
                    s.doc.clone(),
                    s.carrier.clone(),
                    s.receptacles.clone(),
                    Some(m.mrn.as_str()),
                )
            }
            MasterSlot::Missing { doc, carrier } => {
                (Some(doc.clone()), carrier.clone(), Vec::new(), None)
            }
        };
        let mut houses: Vec<&StoredMessage> = self
            .active(TollMessageKind::HouseConsignment)
            .filter(|h| {
                h.house().is_some_and(|s| {
                    let by_doc = doc.is_some()
                        && s.master_doc == doc
                        && s.master_carrier.is_some()
                        && s.master_carrier == carrier;
                    let by_receptacle = s
                        .receptacle
                        .as_ref()
                        .is_some_and(|r| receptacles.contains(r));
                    by_doc || by_receptacle
                })
            })
            .collect();
        if let Some(mrn) = mrn {
            for h in self.related_children(mrn, TollMessageKind::HouseConsignment) {
                if !houses.iter().any(|x| x.mrn == h.mrn) {
                    houses.push(h);
                }
            }
        }
        houses
    }

    /// Whether a master or house is linked (directly or through its master) to an active transport.
    pub(crate) fn linked_to_transport(&self, m: &StoredMessage) -> bool {
        match m.kind {
            TollMessageKind::MasterConsignment => self.master_linked(m),
            TollMessageKind::HouseConsignment => {
                if !self
                    .related_parents(&m.mrn, TollMessageKind::Transport)
                    .is_empty()
                {
                    return true;
                }
                self.active(TollMessageKind::Transport).any(|t| {
                    self.transport_direct_houses(t)
                        .iter()
                        .any(|s| matches!(s, HouseSlot::Received(h) if h.mrn == m.mrn))
                        || self
                            .transport_masters(t)
                            .iter()
                            .any(|slot| self.master_houses(slot).iter().any(|h| h.mrn == m.mrn))
                })
            }
            _ => false,
        }
    }

    fn master_linked(&self, m: &StoredMessage) -> bool {
        self.active(TollMessageKind::Transport).any(|t| {
            self.transport_masters(t)
                .iter()
                .any(|s| matches!(s, MasterSlot::Received(r) if r.mrn == m.mrn))
        })
    }

    /// Messages for [`crate::SimControl::toll_messages`].
    pub(crate) fn message_infos(&self) -> Vec<TollMessageInfo> {
        self.messages.iter().map(StoredMessage::info).collect()
    }

    /// Submissions for [`crate::SimControl::toll_submissions`].
    pub(crate) fn submission_infos(&self) -> Vec<TollSubmissionInfo> {
        self.requests
            .iter()
            .map(|r| TollSubmissionInfo {
                request_id: r.request_id.hyphenated().to_string(),
                mode: r.mode,
                kind: r.kind,
                operation: r.operation,
                org: r.org.clone(),
                mrn: r.mrn.clone(),
                status: r.status,
                received_at: r.received_at,
            })
            .collect()
    }
}

/// A master on a transport.
#[derive(Debug, Clone)]
pub(crate) enum MasterSlot<'a> {
    /// The master message was received.
    Received(&'a StoredMessage),
    /// Referenced by the transport but not (yet) received.
    Missing {
        doc: DocKey,
        carrier: Option<String>,
    },
}

/// A direct consignment on a transport.
#[derive(Debug, Clone)]
pub(crate) enum HouseSlot<'a> {
    /// The house message was received.
    Received(&'a StoredMessage),
    /// Referenced by the transport but not (yet) received.
    Missing(DocKey),
}

/// Exact decimal sum of weights (kg, up to 6 decimals as Toll allows), so
/// `103.142 + 2400` is `2503.142` and not a binary-float approximation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Weight(i128);

const MICRO: i128 = 1_000_000;

impl Weight {
    /// Reads a JSON number; more than 6 decimals or an exponent go through f64.
    pub(crate) fn of(n: &Number) -> Self {
        let text = n.to_string();
        let (neg, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.as_str()),
        };
        let exact = match digits.split_once('.') {
            None => digits.parse::<i128>().ok().map(|i| i * MICRO),
            Some((int, frac)) if frac.len() <= 6 && frac.bytes().all(|b| b.is_ascii_digit()) => {
                let int = int.parse::<i128>().ok();
                let frac = format!("{frac:0<6}").parse::<i128>().ok();
                int.zip(frac).map(|(i, f)| i * MICRO + f)
            }
            _ => None,
        };
        let value = exact.unwrap_or_else(|| {
            let f = n.as_f64().unwrap_or(0.0).abs() * 1e6;
            f.round() as i128
        });
        Self(if neg { -value } else { value })
    }

    /// The sum as a JSON number without trailing zeros.
    pub(crate) fn to_number(self) -> Number {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.abs();
        let (int, frac) = (abs / MICRO, abs % MICRO);
        let text = if frac == 0 {
            format!("{sign}{int}")
        } else {
            let frac = format!("{frac:06}");
            format!("{sign}{int}.{}", frac.trim_end_matches('0'))
        };
        serde_json::from_str(&text).unwrap_or_else(|_| Number::from(0))
    }
}

impl std::ops::Add for Weight {
    type Output = Self;
    fn add(self, rhs: Self) -> Self {
        Self(self.0 + rhs.0)
    }
}

impl std::iter::Sum for Weight {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::default(), |a, b| a + b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Number {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn weights_add_exactly() {
        let sum: Weight = ["103.142", "2400", "1.25", "0.4"]
            .iter()
            .map(|s| Weight::of(&n(s)))
            .sum();
        assert_eq!(sum.to_number().to_string(), "2504.792");
        assert_eq!(Weight::of(&n("12000")).to_number().to_string(), "12000");
        // serde_json writes small floats in exponent form; the value is exact.
        assert_eq!(
            Weight::of(&n("0.000001")).to_number().as_f64(),
            Some(0.000001)
        );
        assert_eq!(Weight::of(&n("1e-6")), Weight::of(&n("0.000001")));
    }
}
