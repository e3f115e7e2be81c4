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

// -- tolerance: what Toll may legitimately vary -----------------------------

#[test]
fn weights_sums_and_received_flags_sent_as_strings() {
    // The shape of the public client's DTOs, which declare every one of
    // these as a String (SystemaAS/syjservicestn-expft,
    // expressfortolling2/dto/MasterConsignments.java).
    let tree: StatusWithDescendants = serde_json::from_value(json!({
        "sumOfWeightForMasterConsignments": "1250.5",
        "sumOfWeightForHouseConsignments": " 1200 ",
        "masterConsignments": [{
            "documentNumber": "MAWB-1",
            "type": "N741",
            "weight": "1250.5",
            "sumOfWeightForHouseConsignments": "1200",
            "received": "true",
            "houseConsignments": [
                {"documentNumber": "HWB-1", "type": "N714", "weight": "700", "received": "FALSE"},
                {"documentNumber": "HWB-2", "type": "N714", "weight": 500, "received": 1},
                {"documentNumber": "HWB-3", "type": "N714", "weight": "", "received": null}
            ]
        }],
        "houseConsignments": null
    }))
    .unwrap();
    assert_eq!(
        tree.sum_of_weight_for_master_consignments
            .as_ref()
            .unwrap()
            .to_string(),
        "1250.5"
    );
    assert_eq!(
        tree.sum_of_weight_for_house_consignments
            .as_ref()
            .unwrap()
            .to_string(),
        "1200"
    );
    let m = &tree.master_consignments[0];
    assert_eq!(m.weight.as_ref().unwrap().as_f64(), Some(1250.5));
    assert_eq!(m.received, Some(true));
    let h = &m.house_consignments;
    assert_eq!(
        (h[0].received, h[0].weight.as_ref().map(ToString::to_string)),
        (Some(false), Some("700".into()))
    );
    assert_eq!(
        (h[1].received, h[1].weight.as_ref().map(ToString::to_string)),
        (Some(true), Some("500".into()))
    );
    assert_eq!((h[2].received, h[2].weight.clone()), (None, None));
    assert!(tree.house_consignments.is_empty());
    // Written back as numbers and booleans.
    let back = serde_json::to_value(&tree).unwrap();
    assert_eq!(
        back["masterConsignments"][0]["houseConsignments"][0]["weight"],
        json!(700)
    );
    assert_eq!(back["masterConsignments"][0]["received"], json!(true));

    let docs: Vec<DocumentStatus> = serde_json::from_value(json!([
        {"documentNumber": "MAWB-1", "type": "N741", "received": "false"},
        {"documentNumber": "MAWB-2", "type": "N741", "documentStatus": "PARTIALLY_RECEIVED",
         "incompleteDocumentationReasonList": null}
    ]))
    .unwrap();
    assert_eq!(docs[0].received, Some(false));
    assert_eq!(
        docs[1].document_status,
        Some(DocumentStatusCode::Other("PARTIALLY_RECEIVED".into()))
    );
    assert!(docs[1].incomplete_documentation_reason_list.is_empty());

    // What is not a number or a boolean is still an error, with its path.
    let e = serde_json::from_value::<DocumentStatus>(
        json!({"documentNumber": "X", "type": "N741", "received": "maybe"}),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("expected a boolean"), "{e}");
    let e = serde_json::from_value::<StatusWithDescendants>(
        json!({"sumOfWeightForHouseConsignments": "12,5"}),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("expected a number"), "{e}");
}

#[test]
fn response_instants_with_fractions_offsets_or_no_zone() {
    let status = |date: &str| -> ValidationStatus {
        serde_json::from_value(json!({
            "status": "SUCCESS",
            "requestId": "fa90bb2d-4b5e-4a53-9a43-5f0c4d3c2e1a",
            "mrn": "22NO4TU2HUD59UCBT8",
            "notificationDate": date,
            "validationErrorList": null
        }))
        .unwrap()
    };
    for (sent, read) in [
        ("2024-05-02T08:15:30Z", "2024-05-02T08:15:30Z"),
        ("2024-05-02T08:15:30.123Z", "2024-05-02T08:15:30Z"),
        ("2024-05-02T10:15:30.123456+02:00", "2024-05-02T08:15:30Z"),
        ("2024-05-02T08:15:30.5", "2024-05-02T08:15:30Z"),
        ("2024-05-02T08:15:30", "2024-05-02T08:15:30Z"),
    ] {
        let s = status(sent);
        assert_eq!(s.notification_date.unwrap().to_string(), read, "{sent}");
        assert!(s.validation_error_list.is_empty());
    }
    // Requests keep Toll's exact form.
    assert!(digitoll_model::TollInstant::parse("2024-05-02T08:15:30.123Z").is_err());
    assert!(
        serde_json::from_value::<digitoll_model::road::DeleteBody>(
            json!({"documentIssueDate": "2024-05-02T10:15:30+02:00"})
        )
        .is_err()
    );
}

#[test]
fn null_and_absent_valid_entry_read_as_not_granted() {
    for body in [
        json!({"validEntry": null, "mrn": "22NO4TU2HUD59UCBT8"}),
        json!({"mrn": "22NO4TU2HUD59UCBT8"}),
        json!({"validEntry": "false"}),
    ] {
        let e: EntryStatus = serde_json::from_value(body.clone()).unwrap();
        assert!(!e.valid_entry, "{body}");
    }
    let e: EntryStatus = serde_json::from_value(json!({"validEntry": "true"})).unwrap();
    assert!(e.valid_entry);
}

#[test]
fn unknown_codes_are_kept() {
    let s = ValidationStatus::from_body(
        "fa90bb2d-4b5e-4a53-9a43-5f0c4d3c2e1a".parse().unwrap(),
        200,
        br#"{"status":"ON_HOLD","requestId":"fa90bb2d-4b5e-4a53-9a43-5f0c4d3c2e1a",
             "incompleteDocumentationReasonList":["INCOMPLETE_SOMETHING_NEW"]}"#,
    );
    assert_eq!(s.status, ProcessingStatus::Other("ON_HOLD".into()));
    assert_eq!(
        s.incomplete_documentation_reason_list,
        vec![IncompleteDocumentationReason::Other(
            "INCOMPLETE_SOMETHING_NEW".into()
        )]
    );
    assert_eq!(s.unparsed, None, "unknown codes are not parse errors");
    let signal: digitoll_model::RoutingSignal = serde_json::from_value(json!({
        "routingResult": {"id": "0b5f2d9e-8c55-4a8e-9d0e-2f4b6b8f1c11", "routing": "TO_QUARANTINE",
                          "routingControlLocation": "AT_TERMINAL"}
    }))
    .unwrap();
    assert_eq!(
        signal.routing_result.routing,
        digitoll_model::Routing::Other("TO_QUARANTINE".into())
    );
    assert!(
        !signal
            .routing_result
            .routing_control_location
            .unwrap()
            .is_known()
    );
}

#[test]
fn a_validation_status_that_does_not_parse_is_kept_raw_and_salvaged() {
    let rid: digitoll_model::RequestId = "fa90bb2d-4b5e-4a53-9a43-5f0c4d3c2e1a".parse().unwrap();
    // A readable status and MRN next to a field of a shape we do not know.
    let body = br#"{"status":"SUCCESS","requestId":"fa90bb2d-4b5e-4a53-9a43-5f0c4d3c2e1a",
        "mrn":"22NO4TU2HUD59UCBT8","notificationDate":"yesterday",
        "validationErrorList":[{"description":"x","pointer":{"messageElementPath":"a"}}, 7]}"#;
    let s = ValidationStatus::from_body(rid, 200, body);
    assert_eq!(s.status, ProcessingStatus::Success);
    assert_eq!(
        s.mrn.as_ref().map(|m| m.as_str()),
        Some("22NO4TU2HUD59UCBT8")
    );
    assert_eq!(s.notification_date, None);
    assert_eq!(s.validation_error_list.len(), 1);
    let u = s.unparsed.as_ref().unwrap();
    assert_eq!(u.http_status, 200);
    assert!(u.error.starts_with("notificationDate: "), "{}", u.error);
    assert_eq!(u.body.as_bytes(), body);

    // Not JSON at all: nothing salvaged but the polled id and the body.
    let s = ValidationStatus::from_body(rid, 202, b"<html>Service Unavailable</html>");
    assert_eq!(s.status, ProcessingStatus::Other(String::new()));
    assert_eq!(s.request_id, rid);
    assert_eq!(s.unparsed.unwrap().body, "<html>Service Unavailable</html>");

    // A good body parses as usual.
    let s = ValidationStatus::from_body(
        rid,
        200,
        br#"{"status":"FAILURE","requestId":"fa90bb2d-4b5e-4a53-9a43-5f0c4d3c2e1a"}"#,
    );
    assert_eq!((s.status, s.unparsed), (ProcessingStatus::Failure, None));
}
