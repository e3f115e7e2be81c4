//! Air, rail and maritime through the same `MovementClient` as road:
//! base paths, scopes, per-mode local validation (digitoll-model's
//! `validate_json_for` / `validate_transport_for`), polling and entry status.

mod common;

use common::*;
use digitoll_client::{DocumentKind, Error, MovementClient, Origin, TransportMode};
use digitoll_model::road::Transport;
use digitoll_model::{MessageKind, Mrn, ValidationContext, validate_json_for};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

const AIR: &str = include_str!("../../../examples/air/valid-transport.json");
const RAIL: &str = include_str!("../../../examples/rail/valid-transport.json");
const MARITIME: &str = include_str!("../../../examples/maritime/valid-transport.json");
const AIR_NO_FLIGHT: &str =
    include_str!("../../../examples/air/invalid-transport-no-flight-number.json");
const AIR_ROAD_CODES: &str =
    include_str!("../../../examples/air/invalid-transport-road-codes.json");
const RAIL_SHIP_ID: &str =
    include_str!("../../../examples/rail/invalid-transport-ship-identification.json");
const MARITIME_INLAND: &str =
    include_str!("../../../examples/maritime/invalid-transport-inland-waterway.json");

fn example(mode: TransportMode) -> &'static str {
    match mode {
        TransportMode::Air => AIR,
        TransportMode::Rail => RAIL,
        TransportMode::Maritime => MARITIME,
        TransportMode::Road => VALID_TRANSPORT,
    }
}

fn segment(mode: TransportMode) -> &'static str {
    mode.path_segment()
}

fn mode_client(s: &Setup, mode: TransportMode) -> MovementClient {
    MovementClient::builder(mode, s.tokens.clone())
        .retry(fast_retry())
        .poll(fast_poll())
        .build()
        .unwrap()
}

/// What digitoll-model says about `text` for `mode`.
fn model_report(mode: TransportMode, text: &str) -> digitoll_model::ValidationReport {
    let ctx = ValidationContext::new(time::OffsetDateTime::now_utc());
    validate_json_for(mode, MessageKind::Transport, text, &ctx)
        .unwrap()
        .1
}

#[tokio::test]
async fn every_mode_submits_to_its_own_paths_with_its_own_scope() {
    let s = setup().await;
    for mode in [
        TransportMode::Air,
        TransportMode::Rail,
        TransportMode::Maritime,
    ] {
        let m = segment(mode);
        Mock::given(method("POST"))
            .and(path(format!("/api/movement/{m}/v1/transport")))
            .respond_with(ResponseTemplate::new(202).set_body_json(json!({"requestId": RID})))
            .mount(&s.toll)
            .await;
        Mock::given(method("GET"))
            .and(path(format!(
                "/api/movement/{m}/status/v1/transport/validation-status/{RID}"
            )))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "status": "SUCCESS", "requestId": RID, "mrn": MRN_T
            })))
            .mount(&s.toll)
            .await;
        let client = mode_client(&s, mode);
        let transport: Transport = json(example(mode));
        let done = client.submit_and_wait_transport(&transport).await.unwrap();
        assert_eq!(done.mrn, Mrn::parse(MRN_T).unwrap(), "{mode}");

        // The body sent is the message, unchanged.
        let posts = received(&s.toll, "POST", &format!("/api/movement/{m}/v1/transport")).await;
        assert_eq!(posts.len(), 1, "{mode}");
        let sent: serde_json::Value = serde_json::from_slice(&posts[0].body).unwrap();
        let expected: serde_json::Value = json(example(mode));
        assert_eq!(sent, expected, "{mode}");
        assert!(auth_header(&posts[0]).starts_with("Bearer toll-"), "{mode}");
    }
    // One exchange per mode, each for that mode's scope.
    assert_eq!(
        exchanged_scopes(&s.toll).await,
        vec![
            "toll:movement/air",
            "toll:movement/rail",
            "toll:movement/maritime"
        ]
    );
    s.sim.shutdown().await;
}

#[tokio::test]
async fn air_without_flight_number_is_refused_locally_and_nothing_is_sent() {
    let s = setup().await;
    let air = mode_client(&s, TransportMode::Air);
    let t: Transport = json(AIR_NO_FLIGHT);
    match air.submit_transport(&t).await.unwrap_err() {
        Error::Rejected {
            origin: Origin::Local,
            kind: MessageKind::Transport,
            errors,
        } => {
            assert!(
                errors.iter().any(|e| e.field
                    == "activeBorderTransportMeans.conveyanceReferenceNumber"
                    && e.error == "must not be blank"),
                "{errors:?}"
            );
            assert_eq!(
                errors,
                model_report(TransportMode::Air, AIR_NO_FLIGHT).sync_errors(),
                "the client reports exactly the model's errors"
            );
        }
        other => panic!("expected a local 400, got {other:?}"),
    }
    assert!(
        s.toll.received_requests().await.unwrap().is_empty(),
        "not even a token exchange"
    );
    s.sim.shutdown().await;
}

#[tokio::test]
async fn each_mode_refuses_the_others_codes_with_the_models_errors() {
    let s = setup().await;
    for (mode, text) in [
        (TransportMode::Air, AIR_ROAD_CODES),
        (TransportMode::Rail, RAIL_SHIP_ID),
        (TransportMode::Maritime, MARITIME_INLAND),
        // A valid road transport is not a valid rail transport (mode code 3).
        (TransportMode::Rail, VALID_TRANSPORT),
    ] {
        let client = mode_client(&s, mode);
        let raw: serde_json::Value = json(text);
        let report = model_report(mode, text);
        assert!(!report.is_valid(), "{mode}: the example must be invalid");
        let err = client
            .submit_raw(DocumentKind::Transport, &raw)
            .await
            .unwrap_err();
        match err {
            Error::Rejected {
                origin: Origin::Local,
                errors,
                ..
            } => assert_eq!(errors, report.sync_errors(), "{mode}"),
            Error::Failed {
                origin: Origin::Local,
                errors,
                request_id: None,
                ..
            } => {
                assert_eq!(errors, report.business_errors(), "{mode}");
                assert!(!errors.is_empty());
            }
            other => panic!("{mode}: expected a local refusal, got {other:?}"),
        }
    }
    // The mode code rule names the mode's CL018 code.
    let rail = model_report(TransportMode::Rail, VALID_TRANSPORT);
    assert!(
        rail.business_errors()
            .iter()
            .any(|e| e.description.contains("[2]")),
        "{:?}",
        rail.business_errors()
    );
    assert!(s.toll.received_requests().await.unwrap().is_empty());
    s.sim.shutdown().await;
}

#[tokio::test]
async fn validation_can_be_turned_off_to_see_tolls_answer() {
    let s = setup().await;
    Mock::given(method("POST"))
        .and(path("/api/movement/air/v1/transport"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "validationErrors": [{"field": "activeBorderTransportMeans.conveyanceReferenceNumber",
                                  "error": "must not be blank"}]
        })))
        .mount(&s.toll)
        .await;
    let air = MovementClient::builder(TransportMode::Air, s.tokens.clone())
        .retry(fast_retry())
        .validate_before_send(false)
        .build()
        .unwrap();
    let t: Transport = json(AIR_NO_FLIGHT);
    match air.submit_transport(&t).await.unwrap_err() {
        Error::Rejected {
            origin: Origin::Toll,
            errors,
            ..
        } => assert_eq!(errors[0].error, "must not be blank"),
        other => panic!("{other:?}"),
    }
    s.sim.shutdown().await;
}

#[tokio::test]
async fn updates_deletes_and_queries_use_the_mode_paths() {
    let s = setup().await;
    Mock::given(method("PUT"))
        .and(path(format!("/api/movement/maritime/v1/transport/{MRN_T}")))
        .respond_with(ResponseTemplate::new(202).set_body_json(json!({"requestId": RID})))
        .mount(&s.toll)
        .await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/api/movement/maritime/status/v1/entry/status/{MRN_T}"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "validEntry": true, "customsOfficeOfEntry": "NO351001", "mrn": MRN_T
        })))
        .mount(&s.toll)
        .await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/api/movement/maritime/status/v1/transport/{MRN_T}/status-with-descendants"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"masterConsignments": []})))
        .mount(&s.toll)
        .await;
    let sea = mode_client(&s, TransportMode::Maritime);
    let mrn = Mrn::parse(MRN_T).unwrap();
    let t: Transport = json(MARITIME);
    sea.update_transport(&mrn, &t).await.unwrap();
    assert!(sea.entry_status(&mrn).await.unwrap().valid_entry);
    assert!(
        sea.transport_status_with_descendants(&mrn)
            .await
            .unwrap()
            .master_consignments
            .is_empty()
    );
    assert_eq!(
        exchanged_scopes(&s.toll).await,
        vec!["toll:movement/maritime"]
    );
    s.sim.shutdown().await;
}
