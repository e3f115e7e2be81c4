//! Validation polling against a wiremock Toll answering odd bodies: what
//! Toll may legitimately vary is read, and a body that still does not parse
//! ends the poll as "answered, unparsed" (raw body and parse error kept),
//! never as an error that retries or aborts the loop.

mod common;

use common::*;
use digitoll_client::{ArrivalClient, DocumentKind, Error};
use digitoll_model::RequestId;
use digitoll_model::codes::ProcessingStatus;
use digitoll_model::road::MasterConsignment;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

fn rid() -> RequestId {
    RequestId::parse(RID).unwrap()
}

const STATUS: &str = "master-consignment/validation-status";

async fn mount(s: &Setup, response: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path(format!("{ROAD}/master-consignment")))
        .respond_with(ResponseTemplate::new(202).set_body_json(json!({ "requestId": RID })))
        .mount(&s.toll)
        .await;
    // One 404 first: the loop really is polling.
    Mock::given(method("GET"))
        .and(path(format!("{QUERY}/{STATUS}/{RID}")))
        .respond_with(ResponseTemplate::new(404))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&s.toll)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{QUERY}/{STATUS}/{RID}")))
        .respond_with(response)
        .mount(&s.toll)
        .await;
}

async fn polls(s: &Setup) -> usize {
    received(&s.toll, "GET", &format!("{QUERY}/{STATUS}/{RID}"))
        .await
        .len()
}

#[tokio::test]
async fn legitimate_variations_are_read() {
    let s = setup().await;
    mount(
        &s,
        ResponseTemplate::new(200).set_body_json(json!({
            "status": "SUCCESS",
            "requestId": RID,
            "mrn": MRN_M,
            "notificationDate": "2026-12-01T09:00:02.345+01:00",
            "validationErrorList": null,
            "incompleteDocumentationReasonList": ["INCOMPLETE_SOMETHING_NEW"],
            "newField": {"x": 1}
        })),
    )
    .await;
    let master: MasterConsignment = json(VALID_MASTER);
    let done = s.road.submit_and_wait_master(&master).await.unwrap();
    assert_eq!(done.mrn.as_str(), MRN_M);
    let v = done.validation.unwrap();
    assert_eq!(
        v.notification_date.unwrap().to_string(),
        "2026-12-01T08:00:02Z"
    );
    assert_eq!(v.unparsed, None);
    assert!(!done.incomplete[0].is_known());
    assert_eq!(polls(&s).await, 2);
    s.sim.shutdown().await;
}

#[tokio::test]
async fn an_unparsable_body_ends_the_poll_kept_raw_and_what_can_be_read_is_used() {
    let s = setup().await;
    // The status and MRN are readable; notificationDate is a shape we do not know.
    let body = json!({
        "status": "SUCCESS",
        "requestId": RID,
        "mrn": MRN_M,
        "notificationDate": 1764576002
    });
    mount(&s, ResponseTemplate::new(200).set_body_json(body.clone())).await;
    let master: MasterConsignment = json(VALID_MASTER);
    let done = s.road.submit_and_wait_master(&master).await.unwrap();
    assert_eq!(done.mrn.as_str(), MRN_M);
    let unparsed = done.validation.unwrap().unparsed.unwrap();
    assert_eq!(unparsed.http_status, 200);
    assert!(
        unparsed.error.starts_with("notificationDate: "),
        "{}",
        unparsed.error
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&unparsed.body).unwrap(),
        body
    );
    // One 404, one answer: no retry of the odd body.
    assert_eq!(polls(&s).await, 2);
    s.sim.shutdown().await;
}

#[tokio::test]
async fn a_body_that_is_not_json_is_answered_unparsed_and_shown() {
    let s = setup().await;
    mount(
        &s,
        ResponseTemplate::new(200).set_body_string("<html><body>Processing done</body></html>"),
    )
    .await;
    // The loop ends with the raw answer...
    let status = s
        .road
        .wait_for_validation(DocumentKind::MasterConsignment, &rid())
        .await
        .unwrap();
    assert_eq!(status.status, ProcessingStatus::Other(String::new()));
    assert_eq!(status.request_id, rid());
    let unparsed = status.unparsed.clone().unwrap();
    assert_eq!(unparsed.body, "<html><body>Processing done</body></html>");
    assert_eq!(polls(&s).await, 2);

    // ... and a caller that needs the MRN gets the body and the parse error.
    let master: MasterConsignment = json(VALID_MASTER);
    match s.road.submit_and_wait_master(&master).await {
        Err(Error::InvalidResponse {
            status,
            reason,
            body,
            ..
        }) => {
            assert_eq!(status, 200);
            assert!(reason.contains("did not parse"), "{reason}");
            assert_eq!(body, "<html><body>Processing done</body></html>");
        }
        other => panic!("expected InvalidResponse, got {other:?}"),
    }
    s.sim.shutdown().await;
}

#[tokio::test]
async fn arrival_polling_keeps_an_odd_body_too() {
    let s = setup().await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/api/movement/arrival/v1/validation-status/{RID}"
        )))
        .respond_with(ResponseTemplate::new(202).set_body_json(json!({
            "status": "FAILURE",
            "requestId": RID,
            "validationErrorList": "transport not found"
        })))
        .mount(&s.toll)
        .await;
    let arrival = api_client(ArrivalClient::builder(s.tokens.clone()));
    let status = arrival.wait_for_validation(&rid()).await.unwrap();
    assert_eq!(status.status, ProcessingStatus::Failure);
    let unparsed = status.unparsed.unwrap();
    assert_eq!(unparsed.http_status, 202);
    assert!(
        unparsed.error.starts_with("validationErrorList: "),
        "{}",
        unparsed.error
    );
    s.sim.shutdown().await;
}
