//! Response types: Toll's documented shapes parse, unknown fields and codes
//! are tolerated, and values serialise back in Toll's form.

use digitoll_model::codes::{
    CodeList, DocumentStatusCode, ImportProcedure, IncompleteDocumentationReason, ProcessingStatus,
};
use digitoll_model::responses::{
    DocumentStatus, EntryStatus, RequestIdResponse, StatusWithDescendants, SyncErrorBody,
    ValidationStatus,
};
use serde_json::json;

#[test]
fn request_id_response() {
    let r: RequestIdResponse =
        serde_json::from_value(json!({"requestId": "fa90bb2d-4b5e-4a53-9a43-5f0c4d3c2e1a"}))
            .unwrap();
    assert_eq!(
        r.request_id.to_string(),
        "fa90bb2d-4b5e-4a53-9a43-5f0c4d3c2e1a"
    );
    assert!(serde_json::from_value::<RequestIdResponse>(json!({"requestId": "nope"})).is_err());
}

#[test]
fn validation_status_failure_with_unknown_fields() {
    let body = json!({
        "status": "FAILURE",
        "requestId": "fa90bb2d-4b5e-4a53-9a43-5f0c4d3c2e1a",
        "notificationDate": "2022-04-08T11:51:00Z",
        "validationErrorList": [{
            "description": "Country is invalid",
            "pointer": {"messageElementPath": "consignmentHouseLevel.consignee.address.country"}
        }],
        "eoriValidation": {"isValid": true, "message": null}
    });
    let s: ValidationStatus = serde_json::from_value(body).unwrap();
    assert_eq!(s.status, ProcessingStatus::Failure);
    assert_eq!(s.mrn, None);
    assert_eq!(s.validation_error_list[0].description, "Country is invalid");
    let back = serde_json::to_value(&s).unwrap();
    assert_eq!(back["notificationDate"], "2022-04-08T11:51:00Z");
    assert!(back.get("eoriValidation").is_none());
}

#[test]
fn validation_status_success_with_new_codes() {
    let s: ValidationStatus = serde_json::from_value(json!({
        "status": "SUCCESS_WITH_WARNINGS",
        "requestId": "fa90bb2d-4b5e-4a53-9a43-5f0c4d3c2e1a",
        "mrn": "22NO4TU2HUD59UCBT8",
        "incompleteDocumentationReasonList": ["INCOMPLETE_CUDE_DOCUMENTATION", "SOMETHING_NEW"]
    }))
    .unwrap();
    assert_eq!(
        s.status,
        ProcessingStatus::Other("SUCCESS_WITH_WARNINGS".into())
    );
    assert_eq!(
        s.incomplete_documentation_reason_list,
        vec![
            IncompleteDocumentationReason::IncompleteCudeDocumentation,
            IncompleteDocumentationReason::Other("SOMETHING_NEW".into())
        ]
    );
    assert_eq!(
        serde_json::to_value(&s).unwrap()["incompleteDocumentationReasonList"][1],
        "SOMETHING_NEW"
    );
}

#[test]
fn document_status_and_lists() {
    let d: DocumentStatus = serde_json::from_value(json!({
        "documentNumber": "HWB-1", "type": "N730", "documentStatus": "INCOMPLETE",
        "incompleteDocumentationReasonList": ["INCOMPLETE_CUDE_DOCUMENTATION"]
    }))
    .unwrap();
    assert_eq!(d.document_status, Some(DocumentStatusCode::Incomplete));
    let list: Vec<DocumentStatus> =
        serde_json::from_value(json!([{"documentNumber": "M1", "type": "N741", "received": true}]))
            .unwrap();
    assert_eq!(list[0].received, Some(true));
}

#[test]
fn status_with_descendants_and_entry() {
    let s: StatusWithDescendants = serde_json::from_value(json!({
        "sumOfWeightForMasterConsignments": 12000,
        "sumOfWeightForHouseConsignments": 11000.5,
        "masterConsignments": [{
            "documentNumber": "CMR-1", "type": "N730", "weight": 12000,
            "sumOfWeightForHouseConsignments": 11000.5, "received": false,
            "houseConsignments": [{"documentNumber": "H1", "type": "N703", "weight": 11000.5, "status": "SUCCESS"}]
        }]
    }))
    .unwrap();
    assert_eq!(s.master_consignments[0].received, Some(false));
    assert_eq!(
        s.master_consignments[0].house_consignments[0].document_number,
        "H1"
    );
    let e: EntryStatus = serde_json::from_value(json!({
        "validEntry": true, "customsOfficeOfEntry": "NO371001",
        "timeOfEntry": "2026-12-02T06:41:00Z", "mrn": "26NO02091D3HAVFST5", "extra": 1
    }))
    .unwrap();
    assert!(e.valid_entry);
}

#[test]
fn sync_error_body_shape() {
    let b: SyncErrorBody = serde_json::from_value(json!({
        "validationErrors": [{"field": "documentIssueDate", "error": "must not be null"}]
    }))
    .unwrap();
    assert_eq!(
        serde_json::to_value(&b).unwrap(),
        json!({"validationErrors": [{"field": "documentIssueDate", "error": "must not be null"}]})
    );
}

#[test]
fn embedded_code_lists_load() {
    assert_eq!(CodeList::Cl141.codes().len(), 49);
    assert!(CodeList::Cl141.contains("NO371001"));
    // 277 from Toll's page + 12 and T from a real Toll answer (Systema).
    assert_eq!(CodeList::Cl751.codes().len(), 279);
    assert!(CodeList::Cl751.contains("12") && CodeList::Cl751.contains("T"));
    assert_eq!(CodeList::Cl751.additions()[0].codes, ["12", "T"]);
    assert!(CodeList::Cl018.additions().is_empty());
    assert_eq!(CodeList::Country.codes().len(), 249);
    assert!(CodeList::Cl754.title().starts_with("CL754"));
    // Every known import procedure except NATO_FORM_302 (S1 only) is in the list.
    for p in ImportProcedure::KNOWN {
        assert_eq!(
            CodeList::ImportProcedure.contains(p.as_str()),
            *p != ImportProcedure::NatoForm302,
            "{p}"
        );
    }
}

#[test]
fn status_with_descendants_keeps_mrns_and_direct_houses() {
    let body = serde_json::json!({
        "sumOfWeightForMasterConsignments": 12000,
        "masterConsignments": [{
            "documentNumber": "CMR-1", "type": "N730", "received": true, "mrn": "26NO0000000000000A",
            "houseConsignments": [{"documentNumber": "H-1", "type": "N730", "mrn": "26NO0000000000000B"}]
        }, {"documentNumber": "CMR-2", "type": "N730", "received": false}],
        "houseConsignments": [{"documentNumber": "D-1", "type": "N730", "received": false}]
    });
    let tree: digitoll_model::responses::StatusWithDescendants =
        serde_json::from_value(body).unwrap();
    assert_eq!(
        tree.master_consignments[0].mrn.as_deref(),
        Some("26NO0000000000000A")
    );
    assert_eq!(
        tree.master_consignments[0].house_consignments[0]
            .mrn
            .as_deref(),
        Some("26NO0000000000000B")
    );
    assert_eq!(tree.master_consignments[1].received, Some(false));
    assert_eq!(tree.house_consignments[0].document_number, "D-1");
    assert_eq!(tree.house_consignments[0].received, Some(false));
}
