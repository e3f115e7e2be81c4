//! Asynchronous processing of accepted submissions (the part after `202`).
//!
//! A request is processed once the sim clock passes its `ready_at`
//! (`received_at` + processing delay); see [`super::Store::advance`]. The
//! model's business-rule errors make the result FAILURE; otherwise the checks
//! that need stored state run here:
//!
//! - POST master/house: no active duplicate (master: document + carrier id;
//!   house: document, "unique among active houses" per S34) \[I\];
//! - PUT: the target is still active and the immutable keys are unchanged
//!   (transport: plate `identificationNumber` + `typeOfIdentification`,
//!   `scheduledDateAndTimeOfArrival`, and `conveyanceReferenceNumber` for
//!   flights; master: document number + type and carrier id; house: document
//!   number + type) \[D S4\];
//! - DELETE: the target is still active;
//! - relation POST: both MRNs name active messages of the stated types, the
//!   pair is TRANSPORT→MASTER_CONSIGNMENT, TRANSPORT→HOUSE_CONSIGNMENT or
//!   MASTER_CONSIGNMENT→HOUSE_CONSIGNMENT, and the submitter can see at least one
//!   end \[I\].
//!
//! Failure texts for these are ours (\[I\]); Toll documents none.

use digitoll_model::TollInstant;
use digitoll_model::responses::AsyncValidationError;
use rand::Rng as _;
use serde_json::json;
use time::OffsetDateTime;

use super::store::{StoredMessage, Summary, Verdict, Work, representative_of};
use super::{MessageState, Store, SubmissionOperation, SubmissionStatus, TollMessageKind};

const MRN_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// A fresh MRN: `YY` (sim year) + `NO` + 14 uppercase alphanumerics, unique in `store`.
pub(crate) fn new_mrn(store: &Store, now: OffsetDateTime) -> String {
    let mut rng = rand::rng();
    loop {
        let tail: String = (0..14)
            .map(|_| char::from(MRN_ALPHABET[rng.random_range(0..MRN_ALPHABET.len())]))
            .collect();
        let mrn = format!("{:02}NO{tail}", now.year().rem_euclid(100));
        if !store.mrn_taken(&mrn) {
            return mrn;
        }
    }
}

fn failure(path: &str, description: String) -> Vec<AsyncValidationError> {
    vec![AsyncValidationError::new(path, description)]
}

impl Store {
    /// Processes request `i` at its `ready_at` and stores its result.
    pub(crate) fn process(&mut self, i: usize) {
        let Some(work) = self.requests[i].work.take() else {
            return;
        };
        let at = self.requests[i].ready_at;
        let outcome = self.apply(i, work, at);
        let request = &mut self.requests[i];
        let mut result = json!({
            "requestId": request.request_id.hyphenated().to_string(),
            "notificationDate": TollInstant::from(at).to_string(),
        });
        match outcome {
            Ok((mrn, incomplete)) => {
                request.status = SubmissionStatus::Success;
                result["status"] = json!("SUCCESS");
                result["mrn"] = json!(mrn);
                result["validationErrorList"] = json!([]);
                result["incompleteDocumentationReasonList"] = json!(incomplete);
                request.mrn = Some(mrn);
            }
            Err(errors) => {
                request.status = SubmissionStatus::Failure;
                result["status"] = json!("FAILURE");
                if let Some(mrn) = &request.mrn {
                    result["mrn"] = json!(mrn);
                }
                result["validationErrorList"] = json!(errors);
                result["incompleteDocumentationReasonList"] = json!([]);
            }
        }
        request.result = Some(result);
    }

    /// Applies the request; `Ok((mrn, incomplete reasons))` or the FAILURE errors.
    fn apply(
        &mut self,
        i: usize,
        work: Work,
        at: OffsetDateTime,
    ) -> Result<(String, Vec<String>), Vec<AsyncValidationError>> {
        let (kind, operation, org, target) = {
            let r = &self.requests[i];
            (r.kind, r.operation, r.org.clone(), r.mrn.clone())
        };
        let incomplete = match &work.verdict {
            Verdict::Failed(errors) => return Err(errors.clone()),
            Verdict::Accepted(reasons) => reasons.clone(),
        };
        let reason_texts: Vec<String> = incomplete.iter().map(|r| r.as_str().to_owned()).collect();
        match operation {
            SubmissionOperation::Create => {
                let Some(summary) = Summary::of(&work.message) else {
                    return Err(failure("", "message has no content".into()));
                };
                match kind {
                    TollMessageKind::Relation => self.check_relation(&summary, &org)?,
                    _ => self.check_duplicate(&summary)?,
                }
                let mrn = new_mrn(self, at);
                let mode = self.requests[i].mode;
                self.insert(StoredMessage {
                    mrn: mrn.clone(),
                    mode,
                    kind,
                    org,
                    state: MessageState::Active,
                    representative: representative_of(&work.message),
                    body: work.body,
                    summary,
                    incomplete,
                    created_at: at,
                    updated_at: at,
                    arrival: None,
                });
                Ok((mrn, reason_texts))
            }
            SubmissionOperation::Update => {
                let mrn = target.unwrap_or_default();
                let Some(summary) = Summary::of(&work.message) else {
                    return Err(failure("", "message has no content".into()));
                };
                let Some(stored) = self.get(&mrn) else {
                    return Err(failure("", format!("Unknown MRN {mrn}")));
                };
                if !stored.is_active() {
                    return Err(failure(
                        "",
                        format!(
                            "Message with MRN {mrn} is {} and cannot be updated",
                            state_word(stored.state)
                        ),
                    ));
                }
                check_immutable(stored.mode, &stored.summary, &summary)?;
                let representative = representative_of(&work.message);
                let stored = self.get_mut(&mrn).expect("checked above");
                stored.summary = summary;
                stored.body = work.body;
                stored.representative = representative;
                stored.incomplete = incomplete;
                stored.updated_at = at;
                Ok((mrn, reason_texts))
            }
            SubmissionOperation::Delete => {
                let mrn = target.unwrap_or_default();
                let Some(stored) = self.get_mut(&mrn) else {
                    return Err(failure("", format!("Unknown MRN {mrn}")));
                };
                if !stored.is_active() {
                    return Err(failure(
                        "",
                        format!(
                            "Message with MRN {mrn} is already {}",
                            state_word(stored.state)
                        ),
                    ));
                }
                stored.state = MessageState::Deleted;
                stored.updated_at = at;
                Ok((mrn, Vec::new()))
            }
        }
    }

    /// Stores an already validated message of `mode` as processed now (for
    /// [`crate::SimControl::insert_toll_message`]); runs the duplicate and
    /// relation checks of a POST.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn insert_direct(
        &mut self,
        mode: digitoll_model::TransportMode,
        kind: TollMessageKind,
        org: &str,
        message: digitoll_model::Message,
        body: serde_json::Value,
        incomplete: Vec<digitoll_model::codes::IncompleteDocumentationReason>,
        at: OffsetDateTime,
    ) -> Result<String, String> {
        let summary = Summary::of(&message).ok_or("message has no content")?;
        let checked = match kind {
            TollMessageKind::Relation => self.check_relation(&summary, org),
            _ => self.check_duplicate(&summary),
        };
        checked.map_err(|errors| {
            errors
                .iter()
                .map(|e| format!("{}: {}", e.pointer.message_element_path, e.description))
                .collect::<Vec<_>>()
                .join("; ")
        })?;
        let mrn = new_mrn(self, at);
        self.insert(StoredMessage {
            mrn: mrn.clone(),
            mode,
            kind,
            org: org.to_owned(),
            state: MessageState::Active,
            representative: representative_of(&message),
            body,
            summary,
            incomplete,
            created_at: at,
            updated_at: at,
            arrival: None,
        });
        Ok(mrn)
    }

    fn check_duplicate(&self, summary: &Summary) -> Result<(), Vec<AsyncValidationError>> {
        match summary {
            Summary::Master(m) => {
                if let Some(doc) = &m.doc
                    && self.master_by_key(doc, m.carrier.as_deref()).is_some()
                {
                    return Err(failure(
                        "consignmentMasterLevel.transportDocumentMasterLevel.documentNumber",
                        format!(
                            "Duplicate master consignment: an active message with transport document {} ({}) and carrier {} already exists",
                            doc.number,
                            doc.doc_type,
                            m.carrier.as_deref().unwrap_or("-")
                        ),
                    ));
                }
            }
            Summary::House(h) => {
                if let Some(doc) = &h.doc
                    && self.messages.iter().any(|x| {
                        x.is_active()
                            && x.kind == TollMessageKind::HouseConsignment
                            && x.doc() == Some(doc)
                    })
                {
                    return Err(failure(
                        "consignmentHouseLevel.transportDocumentHouseLevel.documentNumber",
                        format!(
                            "Duplicate house consignment: an active message with transport document {} ({}) already exists",
                            doc.number, doc.doc_type
                        ),
                    ));
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn check_relation(
        &self,
        summary: &Summary,
        org: &str,
    ) -> Result<(), Vec<AsyncValidationError>> {
        let Summary::Relation(r) = summary else {
            return Ok(());
        };
        let allowed = [
            ("TRANSPORT", "MASTER_CONSIGNMENT"),
            ("TRANSPORT", "HOUSE_CONSIGNMENT"),
            ("MASTER_CONSIGNMENT", "HOUSE_CONSIGNMENT"),
        ];
        if !allowed.contains(&(r.parent_type.as_str(), r.child_type.as_str())) {
            return Err(failure(
                "childObjectType",
                format!(
                    "A relation from {} to {} is not supported",
                    r.parent_type, r.child_type
                ),
            ));
        }
        let mut errors = Vec::new();
        let mut visible = false;
        for (path, mrn, object_type) in [
            ("parentObjectReference", &r.parent, &r.parent_type),
            ("childObjectReference", &r.child, &r.child_type),
        ] {
            match self.get(mrn).filter(|m| m.is_active()) {
                Some(m) if m.kind.object_type() == object_type => {
                    visible |= m.visible_to(org);
                }
                Some(_) | None => errors.push(AsyncValidationError::new(
                    path,
                    format!("No active {object_type} with MRN {mrn}"),
                )),
            }
        }
        if errors.is_empty() && !visible {
            errors.push(AsyncValidationError::new(
                "parentObjectReference",
                "The submitter is not a party to either message of the relation".to_owned(),
            ));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        if self.messages.iter().any(|m| {
            m.is_active()
                && matches!(&m.summary, Summary::Relation(x) if x.parent == r.parent && x.child == r.child)
        }) {
            return Err(failure(
                "childObjectReference",
                format!("The relation {} → {} already exists", r.parent, r.child),
            ));
        }
        Ok(())
    }
}

fn state_word(state: MessageState) -> &'static str {
    match state {
        MessageState::Active => "active",
        MessageState::Deleted => "deleted",
        MessageState::Cancelled => "cancelled",
    }
}

fn changed<T: PartialEq + std::fmt::Debug>(
    errors: &mut Vec<AsyncValidationError>,
    path: &str,
    old: &T,
    new: &T,
) {
    if old != new {
        errors.push(AsyncValidationError::new(
            path,
            format!("{path} cannot be changed by an update (stored {old:?}, received {new:?})"),
        ));
    }
}

/// The immutable keys of S4 (digitoll-api.md §2).
fn check_immutable(
    mode: digitoll_model::TransportMode,
    old: &Summary,
    new: &Summary,
) -> Result<(), Vec<AsyncValidationError>> {
    let mut errors = Vec::new();
    match (old, new) {
        (Summary::Transport(o), Summary::Transport(n)) => {
            changed(
                &mut errors,
                "activeBorderTransportMeans.identificationNumber",
                &o.plate,
                &n.plate,
            );
            changed(
                &mut errors,
                "activeBorderTransportMeans.typeOfIdentification",
                &o.plate_type,
                &n.plate_type,
            );
            changed(
                &mut errors,
                "scheduledDateAndTimeOfArrival",
                &o.scheduled.map(|t| TollInstant::from(t).to_string()),
                &n.scheduled.map(|t| TollInstant::from(t).to_string()),
            );
            // Flight number: a key for air only (the mode rules table, and
            // mode-of-transport 4 sent to the road API as before).
            if mode.rules().conveyance_reference_immutable || o.mode.as_deref() == Some("4") {
                changed(
                    &mut errors,
                    "activeBorderTransportMeans.conveyanceReferenceNumber",
                    &o.conveyance,
                    &n.conveyance,
                );
            }
        }
        (Summary::Master(o), Summary::Master(n)) => {
            let number = |m: &super::store::MasterSummary| m.doc.as_ref().map(|d| d.number.clone());
            let doc_type =
                |m: &super::store::MasterSummary| m.doc.as_ref().map(|d| d.doc_type.clone());
            changed(
                &mut errors,
                "consignmentMasterLevel.transportDocumentMasterLevel.documentNumber",
                &number(o),
                &number(n),
            );
            changed(
                &mut errors,
                "consignmentMasterLevel.transportDocumentMasterLevel.type",
                &doc_type(o),
                &doc_type(n),
            );
            changed(
                &mut errors,
                "consignmentMasterLevel.carrier.identificationNumber",
                &o.carrier,
                &n.carrier,
            );
        }
        (Summary::House(o), Summary::House(n)) => {
            let number = |h: &super::store::HouseSummary| h.doc.as_ref().map(|d| d.number.clone());
            let doc_type =
                |h: &super::store::HouseSummary| h.doc.as_ref().map(|d| d.doc_type.clone());
            changed(
                &mut errors,
                "consignmentHouseLevel.transportDocumentHouseLevel.documentNumber",
                &number(o),
                &number(n),
            );
            changed(
                &mut errors,
                "consignmentHouseLevel.transportDocumentHouseLevel.type",
                &doc_type(o),
                &doc_type(n),
            );
        }
        _ => errors.push(AsyncValidationError::new(
            "",
            "the update is not of the stored message's kind".to_owned(),
        )),
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}
