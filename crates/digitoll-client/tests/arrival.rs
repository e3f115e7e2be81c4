//! Arrival client against a wiremock Toll: POST /arrival, polling, FAILURE,
//! local validation, lost responses, and entry status for every mode.

mod common;

use std::time::Duration;

use common::*;
use digitoll_client::{ArrivalClient, Error, Operation, Origin, PollConfig, TransportMode};
use digitoll_model::entry::ArrivalRequest;
use digitoll_model::{Mrn, RequestId};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

const BASE: &str = "/api/movement/arrival/v1";
const ARRIVAL: &str = include_str!("../../../examples/presentation/arrival.json");

fn client(s: &Setup) -> ArrivalClient {
    api_client(ArrivalClient::builder(s.tokens.clone()))
}

#[tokio::test]
async fn submit_and_wait_posts_the_arrival_and_polls_its_status() {
    let s = setup().await;
    Mock::given(method("POST"))
        .and(path(format!("{BASE}/arrival")))
        .respond_with(ResponseTemplate::new(202).set_body_json(json!({"requestId": RID})))
        .mount(&s.toll)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/validation-status/{RID}")))
        .respond_with(ResponseTemplate::new(404))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&s.toll)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/validation-status/{RID}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": "SUCCESS", "requestId": RID, "notificationDate": "2026-12-02T06:41:02Z"
        })))
        .mount(&s.toll)
        .await;
    let arrival: ArrivalRequest = json(ARRIVAL);
    let status = client(&s).submit_and_wait(&arrival).await.unwrap();
    assert_eq!(status.request_id, RequestId::parse(RID).unwrap());
    let posts = received(&s.toll, "POST", &format!("{BASE}/arrival")).await;
    assert_eq!(posts.len(), 1);
    let sent: Value = serde_json::from_slice(&posts[0].body).unwrap();
    let expected: Value = json(ARRIVAL);
    assert_eq!(sent, expected);
    assert_eq!(
        received(&s.toll, "GET", &format!("{BASE}/validation-status/{RID}"))
            .await
            .len(),
        2
    );
    // The arrival API's scope is not documented: the road scope [I].
    assert_eq!(
        exchanged_scopes(&s.toll).await,
        vec!["toll:movement/road/v2"]
    );
    s.sim.shutdown().await;
}

#[tokio::test]
async fn failure_and_pending_are_typed() {
    let s = setup().await;
    Mock::given(method("POST"))
        .and(path(format!("{BASE}/arrival")))
        .respond_with(ResponseTemplate::new(202).set_body_json(json!({"requestId": RID})))
        .mount(&s.toll)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/validation-status/{RID}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": "FAILURE", "requestId": RID, "validationErrorList": [
                {"description": "Transport not found", "pointer": {"messageElementPath": "transportMRN"}}
            ]
        })))
        .mount(&s.toll)
        .await;
    let arrival: ArrivalRequest = json(ARRIVAL);
    match client(&s).submit_and_wait(&arrival).await.unwrap_err() {
        Error::RequestFailed {
            operation: Operation::Arrival,
            errors,
            ..
        } => assert_eq!(errors[0].pointer.message_element_path, "transportMRN"),
        other => panic!("{other:?}"),
    }
    // Never processed: pending with the request id to keep polling with.
    let other_rid = "0b5c1f7e-9d7a-4f39-8f0c-7e1a2b3c4d5e";
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/validation-status/{other_rid}")))
        .respond_with(ResponseTemplate::new(404))
        .mount(&s.toll)
        .await;
    let err = client(&s)
        .wait_for_validation(&RequestId::parse(other_rid).unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.pending_request_id().unwrap().to_string(), other_rid);
    s.sim.shutdown().await;
}

#[tokio::test]
async fn invalid_arrivals_are_refused_locally() {
    let s = setup().await;
    let mut bad: ArrivalRequest = json(ARRIVAL);
    bad.transport_mrn = Some("not-an-mrn".into());
    bad.time_of_arrival = None;
    match client(&s).submit(&bad).await.unwrap_err() {
        Error::RequestRejected {
            origin: Origin::Local,
            operation: Operation::Arrival,
            errors,
        } => {
            let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
            assert!(fields.contains(&"transportMRN"), "{fields:?}");
            assert!(fields.contains(&"timeOfArrival"), "{fields:?}");
        }
        other => panic!("{other:?}"),
    }
    assert!(s.toll.received_requests().await.unwrap().is_empty());
    s.sim.shutdown().await;
}

#[tokio::test]
async fn a_lost_arrival_response_is_not_resent() {
    let s = setup().await;
    Mock::given(method("POST"))
        .and(path(format!("{BASE}/arrival")))
        .respond_with(
            ResponseTemplate::new(202)
                .set_body_json(json!({"requestId": RID}))
                .set_delay(Duration::from_secs(2)),
        )
        .mount(&s.toll)
        .await;
    let c = ArrivalClient::builder(s.tokens.clone())
        .retry(fast_retry())
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let arrival: ArrivalRequest = json(ARRIVAL);
    match c.submit(&arrival).await.unwrap_err() {
        Error::OutcomeUnknown {
            operation: Operation::Arrival,
            cause,
            request_id: None,
            ..
        } => assert!(cause.contains("entry status"), "{cause}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        received(&s.toll, "POST", &format!("{BASE}/arrival"))
            .await
            .len(),
        1
    );
    s.sim.shutdown().await;
}

#[tokio::test]
async fn entry_status_uses_the_arrival_api_with_each_modes_scope() {
    let s = setup().await;
    let c = client(&s);
    let mrn = Mrn::parse(MRN_T).unwrap();
    // Documented on the arrival API, "designed for all modes"
    // (beskrivelse-av-ankomst-api-EN.html).
    Mock::given(method("GET"))
        .and(path(format!(
            "/api/movement/arrival/v1/entry/status/{MRN_T}"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "validEntry": true, "customsOfficeOfEntry": "NO371001",
            "timeOfEntry": "2026-12-02T06:45:00Z", "mrn": MRN_T
        })))
        .mount(&s.toll)
        .await;
    for mode in TransportMode::ALL {
        let st = c.entry_status(mode, &mrn).await.unwrap();
        assert!(st.valid_entry, "{mode}");
    }
    assert_eq!(
        exchanged_scopes(&s.toll).await,
        vec![
            "toll:movement/road/v2",
            "toll:movement/air",
            "toll:movement/rail",
            "toll:movement/maritime"
        ]
    );
    s.sim.shutdown().await;
}

#[tokio::test]
async fn wait_for_entry_polls_through_404_and_false_until_valid() {
    let s = setup().await;
    let p = format!("/api/movement/arrival/v1/entry/status/{MRN_T}");
    Mock::given(method("GET"))
        .and(path(p.clone()))
        .respond_with(ResponseTemplate::new(404))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&s.toll)
        .await;
    Mock::given(method("GET"))
        .and(path(p.clone()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"validEntry": false})))
        .up_to_n_times(1)
        .with_priority(2)
        .mount(&s.toll)
        .await;
    Mock::given(method("GET"))
        .and(path(p.clone()))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"validEntry": true, "mrn": MRN_T})),
        )
        .with_priority(3)
        .mount(&s.toll)
        .await;
    let st = client(&s)
        .wait_for_entry(TransportMode::Road, &Mrn::parse(MRN_T).unwrap())
        .await
        .unwrap();
    assert!(st.valid_entry);
    assert_eq!(received(&s.toll, "GET", &p).await.len(), 3);

    // Never granted: the last status (validEntry=false) at the deadline.
    let q = "/api/movement/arrival/v1/entry/status/26NOTRANSPORT00002";
    Mock::given(method("GET"))
        .and(path(q))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"validEntry": false})))
        .mount(&s.toll)
        .await;
    let c = ArrivalClient::builder(s.tokens.clone())
        .retry(fast_retry())
        .poll(PollConfig {
            deadline: Duration::from_millis(150),
            ..fast_poll()
        })
        .build()
        .unwrap();
    let st = c
        .wait_for_entry(
            TransportMode::Air,
            &Mrn::parse("26NOTRANSPORT00002").unwrap(),
        )
        .await
        .unwrap();
    assert!(!st.valid_entry);
    s.sim.shutdown().await;
}
