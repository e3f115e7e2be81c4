//! Validation of presentation and arrival bodies (digitoll-api.md §1.6,
//! §1.8), with the same channels as the movement messages: sync errors (400)
//! for missing or malformed fields, business errors (FAILURE in the
//! validation status) for code-list and identifier checks.

use super::shapes::{CONTAINER_ID, DOC_NUMBER, DOC_TYPE, MRN_LEN, OFFICE, RECEPTACLE, REQUEST_ID};
use super::{
    MalformedJson, P, ROOT, V, ValidationContext, ValidationReport, merge_structural, parse_lenient,
};
use crate::codes::CodeList;
use crate::entry::{ArrivalRequest, Presentation, PresentationKind};
use crate::newtypes::Mrn;
use crate::road::DocumentRef;
use crate::validate::messages as m;

impl V<'_> {
    /// An office code: 400 when missing or not 8 characters, FAILURE when
    /// not in CL141 \[D S10\].
    fn office(&mut self, p: &P<'_>, v: &Option<String>) {
        if let Some(code) = self.req_str(p, v, OFFICE)
            && code.chars().count() == 8
            && !CodeList::Cl141.contains(code)
        {
            self.biz("codelist.cl141", p, m::CUSTOMS_OFFICE_INVALID);
        }
    }

    /// An MRN: size 18 (400), then the MRN shape (FAILURE, \[I\] text as for
    /// relations).
    fn mrn(&mut self, p: &P<'_>, v: &Option<String>, required: bool) {
        let s = if required {
            self.req_str(p, v, MRN_LEN)
        } else {
            self.opt_str(p, v, MRN_LEN)
        };
        if let Some(s) = s
            && s.chars().count() == 18
            && Mrn::parse(s).is_err()
        {
            self.biz("mrn.format", p, m::INVALID_MRN);
        }
    }

    fn presented_document(&mut self, p: &P<'_>, d: &DocumentRef) {
        self.req_str(&p.f("documentNumber"), &d.document_number, DOC_NUMBER);
        if let Some(t) = self.req_str(&p.f("type"), &d.doc_type, DOC_TYPE) {
            self.code(&p.f("type"), t, CodeList::Cl754);
        }
    }

    fn presentation(&mut self, kind: PresentationKind, body: &Presentation) {
        let r = ROOT;
        // [D S19] the client supplies requestId; [I] it must be a UUID, as
        // the ids Toll issues are.
        if let Some(id) = self.req_str(&r.f("requestId"), &body.request_id, REQUEST_ID)
            && uuid::Uuid::try_parse(id).is_err()
        {
            self.sync_err(
                "presentation.request-id.uuid",
                &r.f("requestId"),
                m::NOT_UUID,
            );
        }
        self.office(
            &r.f("customsOfficeOfPresentation"),
            &body.customs_office_of_presentation,
        );
        if kind != PresentationKind::EntrySummaryDeclaration {
            self.mrn(&r.f("transportMRN"), &body.transport_mrn, false);
        }
        match kind {
            PresentationKind::HouseConsignment => {
                let p = r.f("consignmentHouseLevel");
                if let Some(level) = self.req(&p, &body.consignment_house_level) {
                    let dp = p.f("transportDocumentHouseLevel");
                    if let Some(d) = self.req(&dp, &level.transport_document_house_level) {
                        self.presented_document(&dp, d);
                    }
                }
            }
            PresentationKind::MasterConsignment => {
                let p = r.f("consignmentMasterLevel");
                if let Some(level) = self.req(&p, &body.consignment_master_level) {
                    let dp = p.f("transportDocumentMasterLevel");
                    if let Some(d) = self.req(&dp, &level.transport_document_master_level) {
                        self.presented_document(&dp, d);
                    }
                }
            }
            PresentationKind::Container => {
                self.req_str(
                    &r.f("containerIdentificationNumber"),
                    &body.container_identification_number,
                    CONTAINER_ID,
                );
            }
            PresentationKind::Receptacle => {
                self.req_str(
                    &r.f("receptacleIdentificationNumber"),
                    &body.receptacle_identification_number,
                    RECEPTACLE,
                );
            }
            PresentationKind::EntrySummaryDeclaration => {
                self.mrn(&r.f("mrn"), &body.mrn, true);
            }
        }
    }

    fn arrival(&mut self, a: &ArrivalRequest) {
        let r = ROOT;
        self.mrn(&r.f("transportMRN"), &a.transport_mrn, true);
        self.req(&r.f("timeOfArrival"), &a.time_of_arrival);
        self.office(&r.f("customsOfficeOfArrival"), &a.customs_office_of_arrival);
    }
}

/// Validates a presentation body of `kind`: `requestId` (a UUID, 400),
/// `customsOfficeOfPresentation` (400 when missing, FAILURE when not in
/// CL141), `transportMRN` when given, and the kind's document reference
/// (house/master waybill with a CL754 type, container or receptacle id, ENS
/// MRN). Whether the document exists is for the server to decide.
pub fn validate_presentation(
    kind: PresentationKind,
    body: &Presentation,
    ctx: &ValidationContext,
) -> ValidationReport {
    let mut v = V::new(ctx);
    v.presentation(kind, body);
    v.finish()
}

/// Parses and validates a presentation body (JSON type errors become sync
/// errors at their path, as in [`crate::validate_json`]).
///
/// # Errors
/// [`MalformedJson`] when the text is not JSON or its root is not an object.
pub fn validate_presentation_json(
    kind: PresentationKind,
    json: &str,
    ctx: &ValidationContext,
) -> Result<(Presentation, ValidationReport), MalformedJson> {
    let (body, structural) = parse_lenient(json, |v| serde_path_to_error::deserialize(v))?;
    let report = validate_presentation(kind, &body, ctx);
    Ok((body, merge_structural(structural, report, ctx)))
}

/// Validates an arrival body: `transportMRN` (MRN), `timeOfArrival`
/// (required), `customsOfficeOfArrival` (CL141).
pub fn validate_arrival(body: &ArrivalRequest, ctx: &ValidationContext) -> ValidationReport {
    let mut v = V::new(ctx);
    v.arrival(body);
    v.finish()
}

/// Parses and validates an arrival body.
///
/// # Errors
/// [`MalformedJson`] when the text is not JSON or its root is not an object.
pub fn validate_arrival_json(
    json: &str,
    ctx: &ValidationContext,
) -> Result<(ArrivalRequest, ValidationReport), MalformedJson> {
    let (body, structural) = parse_lenient(json, |v| serde_path_to_error::deserialize(v))?;
    let report = validate_arrival(&body, ctx);
    Ok((body, merge_structural(structural, report, ctx)))
}
