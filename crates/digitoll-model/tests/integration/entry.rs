//! Presentation and arrival bodies, and routing signal types.

use std::path::PathBuf;

use digitoll_model::entry::{ENTRY_SCOPE, PRESENTATION_BASE};
use digitoll_model::road::DocumentRef;
use digitoll_model::routing::{MAX_ROUTING_PAGE, latest_per_document};
use digitoll_model::{
    ArrivalRequest, Outcome, Presentation, PresentationKind, Routing, RoutingControlLocation,
    RoutingSignal, ValidationContext, validate_arrival_json, validate_presentation,
    validate_presentation_json,
};
use serde_json::{Value, json};
use time::macros::datetime;

fn ctx() -> ValidationContext {
    ValidationContext::new(datetime!(2026-12-01 08:00 UTC))
}

fn example(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/presentation")
        .join(format!("{name}.json"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn sync_fields(r: &digitoll_model::ValidationReport) -> Vec<(String, String)> {
    r.sync_errors()
        .iter()
        .map(|e| (e.field.clone(), e.error.clone()))
        .collect()
}

#[test]
fn every_presentation_example_is_valid_and_round_trips() {
    for kind in PresentationKind::ALL {
        let text = example(kind.path_segment());
        let (body, report) = validate_presentation_json(kind, &text, &ctx()).unwrap();
        assert!(report.is_valid(), "{kind:?}: {report}");
        assert!(body.identifier(kind).is_some(), "{kind:?}");
        let back = serde_json::to_value(&body).unwrap();
        let original: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, original, "{kind:?}");
        assert_eq!(
            PresentationKind::from_path_segment(kind.path_segment()),
            Some(kind)
        );
    }
    assert_eq!(PRESENTATION_BASE, "/api/movement/presentation/v1");
    assert_eq!(ENTRY_SCOPE, "toll:movement/entry");
}

#[test]
fn presentation_request_id_must_be_a_uuid() {
    let body = Presentation::container("not-a-uuid", "NO371001", "MSKU1234565");
    let r = validate_presentation(PresentationKind::Container, &body, &ctx());
    assert_eq!(
        sync_fields(&r),
        vec![("requestId".into(), "must be a valid UUID".into())]
    );
    let mut missing = body.clone();
    missing.request_id = None;
    let r = validate_presentation(PresentationKind::Container, &missing, &ctx());
    assert_eq!(
        sync_fields(&r),
        vec![("requestId".into(), "must not be blank".into())]
    );
}

#[test]
fn presentation_office_must_be_in_cl141() {
    let id = "6f1d3f0e-8b7a-4c53-9d2e-0c1b2a3d4e5f";
    let r = validate_presentation(
        PresentationKind::Receptacle,
        &Presentation::receptacle(id, "NO999999", "R1"),
        &ctx(),
    );
    assert!(r.sync_errors().is_empty());
    assert!(matches!(r.outcome(), Outcome::Failed(ref e)
        if e[0].pointer.message_element_path == "customsOfficeOfPresentation"
        && e[0].description == "Must be a valid customs office"));
    let r = validate_presentation(
        PresentationKind::Receptacle,
        &Presentation::receptacle(id, "NO1", "R1"),
        &ctx(),
    );
    assert_eq!(
        sync_fields(&r),
        vec![(
            "customsOfficeOfPresentation".into(),
            "size must be between 8 and 8".into()
        )]
    );
}

#[test]
fn presentation_document_references_per_kind() {
    let id = "6f1d3f0e-8b7a-4c53-9d2e-0c1b2a3d4e5f";
    // House without document.
    let r = validate_presentation_json(
        PresentationKind::HouseConsignment,
        &json!({"requestId": id, "customsOfficeOfPresentation": "NO371001",
                "consignmentHouseLevel": {}})
        .to_string(),
        &ctx(),
    )
    .unwrap()
    .1;
    assert_eq!(
        sync_fields(&r),
        vec![(
            "consignmentHouseLevel.transportDocumentHouseLevel".into(),
            "must not be null".into()
        )]
    );
    // Master with an unknown document type: FAILURE on the code list.
    let body = Presentation::master(id, "NO351001", DocumentRef::new("MAWB-1", "X999"));
    let r = validate_presentation(PresentationKind::MasterConsignment, &body, &ctx());
    assert!(r.business_errors().iter().any(|e| {
        e.pointer.message_element_path == "consignmentMasterLevel.transportDocumentMasterLevel.type"
            && e.description
                .starts_with("Invalid code. Expected codes are one of [")
    }));
    // Container and receptacle ids are required.
    for kind in [PresentationKind::Container, PresentationKind::Receptacle] {
        let body = json!({"requestId": id, "customsOfficeOfPresentation": "NO371001"});
        let r = validate_presentation_json(kind, &body.to_string(), &ctx())
            .unwrap()
            .1;
        let field = if kind == PresentationKind::Container {
            "containerIdentificationNumber"
        } else {
            "receptacleIdentificationNumber"
        };
        assert_eq!(
            sync_fields(&r),
            vec![(field.into(), "must not be blank".into())]
        );
    }
    // ENS: MRN required and of MRN shape; transportMRN shape checked too.
    let r = validate_presentation(
        PresentationKind::EntrySummaryDeclaration,
        &Presentation::entry_summary_declaration(id, "NO351001", "23no00000000000001"),
        &ctx(),
    );
    assert!(
        r.business_errors()
            .iter()
            .any(|e| e.pointer.message_element_path == "mrn"
                && e.description == "Invalid MRN format")
    );
    let r = validate_presentation(
        PresentationKind::Container,
        &Presentation::container(id, "NO364002", "MSKU1").with_transport_mrn("26NO"),
        &ctx(),
    );
    assert_eq!(
        sync_fields(&r),
        vec![(
            "transportMRN".into(),
            "size must be between 18 and 18".into()
        )]
    );
}

#[test]
fn presentation_type_errors_are_reported_at_their_path() {
    let r = validate_presentation_json(
        PresentationKind::Container,
        r#"{"requestId": 17, "customsOfficeOfPresentation": "NO371001", "containerIdentificationNumber": "C1"}"#,
        &ctx(),
    )
    .unwrap()
    .1;
    assert_eq!(r.sync_errors().len(), 1, "{r}");
    assert_eq!(r.sync_errors()[0].field, "requestId");
    assert!(validate_presentation_json(PresentationKind::Container, "[1]", &ctx()).is_err());
}

#[test]
fn arrival_body_rules() {
    let (body, r) = validate_arrival_json(&example("arrival"), &ctx()).unwrap();
    assert!(r.is_valid(), "{r}");
    assert_eq!(body.transport_mrn.as_deref(), Some("26NOABCDEFGHIJ1234"));
    let r = validate_arrival_json(
        r#"{"transportMRN":"26NOABCDEFGHIJ1234","timeOfArrival":"2026-12-02 06:41","customsOfficeOfArrival":"NO000000"}"#,
        &ctx(),
    )
    .unwrap()
    .1;
    assert_eq!(
        sync_fields(&r),
        vec![(
            "timeOfArrival".into(),
            "invalid ISO-8601 instant in UTC (yyyy-MM-ddTHH:mm:ssZ)".into()
        )]
    );
    assert!(
        r.business_errors()
            .iter()
            .any(|e| e.pointer.message_element_path == "customsOfficeOfArrival")
    );
    let r = digitoll_model::validate_arrival(&ArrivalRequest::default(), &ctx());
    let fields: Vec<String> = r.sync_errors().iter().map(|e| e.field.clone()).collect();
    assert_eq!(
        fields,
        ["transportMRN", "timeOfArrival", "customsOfficeOfArrival"]
    );
}

fn signal(id: u128, doc: &str, routing: &str) -> Value {
    json!({
        "routingResult": {"id": uuid::Uuid::from_u128(id), "routing": routing,
                          "documentIssueDate": "2026-12-02T06:41:00Z"},
        "transportDocumentHouseLevel": {"referenceNumber": doc, "type": "N730"},
        "activeBorderTransportMeans": {"identificationNumber": "ABC123", "typeOfIdentification": "30"},
        "estimatedTimeOfArrival": "2026-12-02T06:30:00Z",
        "scheduledTimeOfArrival": "2026-12-02T06:30:00Z",
        "someFutureField": true
    })
}

#[test]
fn routing_signals_parse_tolerantly_and_the_last_one_wins() {
    let page: Vec<RoutingSignal> = serde_json::from_value(json!([
        signal(1, "A", "TO_CONTROL"),
        signal(2, "B", "TO_ENTRY"),
        signal(3, "A", "TO_ENTRY"),
        signal(4, "C", "SOMETHING_NEW"),
    ]))
    .unwrap();
    assert_eq!(page[0].routing_result.routing, Routing::ToControl);
    assert_eq!(page[3].routing_result.routing.as_str(), "SOMETHING_NEW");
    assert!(!page[3].routing_result.routing.is_known());
    let latest = latest_per_document(&page);
    let summary: Vec<(String, String)> = latest
        .iter()
        .map(|s| {
            (
                s.document_key().unwrap(),
                s.routing_result.routing.to_string(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("B/N730".to_owned(), "TO_ENTRY".to_owned()),
            ("A/N730".to_owned(), "TO_ENTRY".to_owned()),
            ("C/N730".to_owned(), "SOMETHING_NEW".to_owned()),
        ]
    );
    let transport: RoutingSignal = serde_json::from_value(json!({
        "routingResult": {"id": uuid::Uuid::from_u128(9), "routing": "TO_CONTROL",
                          "routingControlLocation": "AFTER_ENTRY"},
        "transportMRN": "26NOABCDEFGHIJ1234"
    }))
    .unwrap();
    assert_eq!(
        transport.routing_result.routing_control_location,
        Some(RoutingControlLocation::AfterEntry)
    );
    assert_eq!(
        transport.document_key().as_deref(),
        Some("26NOABCDEFGHIJ1234")
    );
    let out = serde_json::to_value(&transport).unwrap();
    assert_eq!(out["transportMRN"], "26NOABCDEFGHIJ1234");
    assert_eq!(
        out["routingResult"]["routingControlLocation"],
        "AFTER_ENTRY"
    );
    assert!(out.get("houseMRN").is_none());
    assert_eq!(MAX_ROUTING_PAGE, 1000);
}

#[test]
fn presentation_and_arrival_findings_carry_their_rules() {
    use digitoll_model::{PresentationKind, validate_arrival_json, validate_presentation_json};
    let ctx = ValidationContext::new(time::macros::datetime!(2026-12-01 08:00 UTC));
    let body = r#"{"requestId": "not-a-uuid", "customsOfficeOfPresentation": "NO999999",
        "transportMRN": "22no4tu2hud59ucbt8", "containerIdentificationNumber": "MSCU1234567"}"#;
    let (_, r) = validate_presentation_json(PresentationKind::Container, body, &ctx).unwrap();
    let rules: Vec<(String, String)> = r.findings().into_iter().map(|f| (f.rule, f.path)).collect();
    let pair = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    assert_eq!(
        rules,
        vec![
            pair("presentation.request-id.uuid", "requestId"),
            pair("codelist.cl141", "customsOfficeOfPresentation"),
            pair("mrn.format", "transportMRN"),
        ]
    );
    let (_, r) = validate_arrival_json(r#"{"transportMRN": "22NO4TU2HUD59UCBT8"}"#, &ctx).unwrap();
    assert_eq!(r.sync_rules(), ["field.required", "field.not-blank"], "{r}");
}
