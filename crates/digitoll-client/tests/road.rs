//! Road v2 client against a wiremock Toll: submissions, local validation,
//! validation polling, typed errors, retries, reconciliation of lost POST
//! responses, and every query endpoint.

mod common;

use std::time::{Duration, Instant};

use common::*;
use digitoll_client::{
    Confirmation, DocumentKey, DocumentKind, Error, Origin, PollConfig, RetryConfig, Submission,
};
use digitoll_model::codes::{DocumentStatusCode, IncompleteDocumentationReason};
use digitoll_model::road::{DeleteBody, HouseConsignment, MasterConsignment, Relation, Transport};
use digitoll_model::{MessageKind, Mrn, RequestId};
use serde_json::json;
use wiremock::matchers::{body_json, method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

fn mrn(s: &str) -> Mrn {
    Mrn::parse(s).unwrap()
}

fn rid() -> RequestId {
    RequestId::parse(RID).unwrap()
}

fn accepted() -> ResponseTemplate {
    ResponseTemplate::new(202).set_body_json(json!({ "requestId": RID }))
}

async fn mount_post(s: &Setup, kind: &str, response: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path(format!("{ROAD}/{kind}")))
        .respond_with(response)
        .mount(&s.toll)
        .await;
}

async fn mount_status(s: &Setup, kind: &str, response: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path(format!("{QUERY}/{kind}/validation-status/{RID}")))
        .respond_with(response)
        .mount(&s.toll)
        .await;
}

fn success(mrn: &str) -> serde_json::Value {
    json!({"status": "SUCCESS", "requestId": RID, "notificationDate": "2026-12-01T08:00:02Z", "mrn": mrn})
}

// ------------------------------------------------------------- submissions

#[tokio::test]
async fn submit_and_wait_polls_through_404s_to_the_mrn() {
    let s = setup().await;
    mount_post(&s, "master-consignment", accepted()).await;
    Mock::given(method("GET"))
        .and(path(format!(
            "{QUERY}/master-consignment/validation-status/{RID}"
        )))
        .respond_with(ResponseTemplate::new(404))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&s.toll)
        .await;
    mount_status(
        &s,
        "master-consignment",
        ResponseTemplate::new(200).set_body_json(success(MRN_M)),
    )
    .await;

    let master: MasterConsignment = json(VALID_MASTER);
    let done = s.road.submit_and_wait_master(&master).await.unwrap();
    assert_eq!(done.mrn, mrn(MRN_M));
    assert_eq!(done.request_id, Some(rid()));
    assert_eq!(done.confirmation, Confirmation::Validated);
    assert!(!done.is_incomplete());
    assert_eq!(
        received(
            &s.toll,
            "GET",
            &format!("{QUERY}/master-consignment/validation-status/{RID}")
        )
        .await
        .len(),
        3
    );
    // The body sent is the message, camelCase, as typed.
    let posts = received(&s.toll, "POST", &format!("{ROAD}/master-consignment")).await;
    assert_eq!(posts.len(), 1);
    let sent: serde_json::Value = serde_json::from_slice(&posts[0].body).unwrap();
    assert_eq!(sent, json::<serde_json::Value>(VALID_MASTER));
    assert_eq!(
        posts[0].headers.get("content-type").unwrap(),
        "application/json"
    );
    assert_eq!(auth_header(&posts[0]), "Bearer toll-1");
    s.sim.shutdown().await;
}

#[tokio::test]
async fn any_2xx_with_a_body_is_the_result_and_failure_is_typed() {
    let s = setup().await;
    mount_post(&s, "house-consignment", accepted()).await;
    // Toll's prose: 202 for FAILURE.
    mount_status(
        &s,
        "house-consignment",
        ResponseTemplate::new(202).set_body_json(json!({
            "status": "FAILURE", "requestId": RID, "notificationDate": "2026-12-01T08:00:02Z",
            "validationErrorList": [{"description": "Country is invalid",
                "pointer": {"messageElementPath": "consignmentHouseLevel.consignor.address.country"}}],
            "someNewField": true
        })),
    )
    .await;
    let house: HouseConsignment = json(VALID_HOUSE);
    let err = s.road.submit_and_wait_house(&house).await.unwrap_err();
    match err {
        Error::Failed {
            origin,
            kind,
            request_id,
            errors,
        } => {
            assert_eq!(origin, Origin::Toll);
            assert_eq!(kind, MessageKind::HouseConsignment);
            assert_eq!(request_id, Some(rid()));
            assert_eq!(errors.len(), 1);
            assert_eq!(
                errors[0].pointer.message_element_path,
                "consignmentHouseLevel.consignor.address.country"
            );
            assert_eq!(errors[0].description, "Country is invalid");
        }
        other => panic!("expected Failed, got {other:?}"),
    }
    s.sim.shutdown().await;
}

#[tokio::test]
async fn incomplete_documentation_is_part_of_the_success() {
    let s = setup().await;
    mount_post(&s, "house-consignment", accepted()).await;
    let mut body = success(MRN_H);
    body["incompleteDocumentationReasonList"] = json!(["INCOMPLETE_CUDE_DOCUMENTATION"]);
    mount_status(
        &s,
        "house-consignment",
        ResponseTemplate::new(200).set_body_json(body),
    )
    .await;
    let house: HouseConsignment = json(VALID_HOUSE);
    let done = s.road.submit_and_wait_house(&house).await.unwrap();
    assert_eq!(done.mrn, mrn(MRN_H));
    assert!(done.is_incomplete());
    assert_eq!(
        done.incomplete,
        vec![IncompleteDocumentationReason::IncompleteCudeDocumentation]
    );
    s.sim.shutdown().await;
}

#[tokio::test]
async fn polling_stops_at_the_deadline_with_the_request_id() {
    let s = setup_with(Exchange::new(900), |b| {
        b.poll(PollConfig {
            first_delay: Duration::from_millis(10),
            interval: Duration::from_millis(10),
            max_interval: Duration::from_millis(40),
            deadline: Duration::from_millis(250),
        })
    })
    .await;
    mount_status(&s, "transport", ResponseTemplate::new(404)).await;
    let started = Instant::now();
    let err = s
        .road
        .wait_for_validation(DocumentKind::Transport, &rid())
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.pending_request_id(), Some(&rid()));
    assert!(matches!(
        err,
        Error::ValidationPending {
            kind: MessageKind::Transport,
            ..
        }
    ));
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_secs(3),
        "{took:?}"
    );
    let polls = received(
        &s.toll,
        "GET",
        &format!("{QUERY}/transport/validation-status/{RID}"),
    )
    .await
    .len();
    // 10 ms, then 10, 20, 40, 40, … until 250 ms: several polls, but backed off.
    assert!((4..=12).contains(&polls), "{polls} polls");
    s.sim.shutdown().await;
}

#[tokio::test]
async fn toll_400_is_a_typed_rejection() {
    let s = setup_with(Exchange::new(900), |b| b.validate_before_send(false)).await;
    mount_post(
        &s,
        "transport",
        ResponseTemplate::new(400).set_body_json(json!({"validationErrors": [
            {"field": "carrier", "error": "must not be null"},
            {"field": "activeBorderTransportMeans.identificationNumber", "error": "must not be blank"}
        ]})),
    )
    .await;
    let t: Transport = json(INVALID_TRANSPORT_SYNC);
    let err = s.road.submit_transport(&t).await.unwrap_err();
    match &err {
        Error::Rejected {
            origin,
            kind,
            errors,
        } => {
            assert_eq!(*origin, Origin::Toll);
            assert_eq!(*kind, MessageKind::Transport);
            assert_eq!(errors.len(), 2);
            assert_eq!(errors[0].field, "carrier");
            assert_eq!(errors[1].error, "must not be blank");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert!(
        err.to_string().contains("carrier: must not be null"),
        "{err}"
    );
    s.sim.shutdown().await;
}

#[tokio::test]
async fn invalid_messages_are_refused_locally_and_nothing_is_sent() {
    let s = setup().await;
    let t: Transport = json(INVALID_TRANSPORT_SYNC);
    let err = s.road.submit_transport(&t).await.unwrap_err();
    match &err {
        Error::Rejected { origin, errors, .. } => {
            assert_eq!(*origin, Origin::Local);
            assert!(
                errors
                    .iter()
                    .any(|e| e.field == "carrier" && e.error == "must not be null"),
                "{errors:?}"
            );
        }
        other => panic!("expected a local Rejected, got {other:?}"),
    }
    let t: Transport = json(INVALID_TRANSPORT_BUSINESS);
    let err = s.road.submit_and_wait_transport(&t).await.unwrap_err();
    match &err {
        Error::Failed {
            origin,
            request_id,
            errors,
            ..
        } => {
            assert_eq!(*origin, Origin::Local);
            assert_eq!(*request_id, None);
            assert!(
                errors
                    .iter()
                    .any(|e| e.description == "Must be a valid customs office"),
                "{errors:?}"
            );
        }
        other => panic!("expected a local Failed, got {other:?}"),
    }
    // Raw JSON: not an object at all.
    let err = s
        .road
        .submit_raw(DocumentKind::HouseConsignment, &json!([1, 2]))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Rejected { origin: Origin::Local, errors, .. } if errors[0].field == "requestBody"),
        "{err:?}"
    );
    // Raw JSON with a wrong type.
    let mut raw: serde_json::Value = json(VALID_MASTER);
    raw["consignmentMasterLevel"]["grossMass"] = json!("heavy");
    let err = s
        .road
        .submit_raw(DocumentKind::MasterConsignment, &raw)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Rejected { origin: Origin::Local, errors, .. } if errors.iter().any(|e| e.field == "consignmentMasterLevel.grossMass")),
        "{err:?}"
    );

    assert!(
        s.toll.received_requests().await.unwrap().is_empty(),
        "no request (not even the token exchange) may reach Toll"
    );
    s.sim.shutdown().await;
}

#[tokio::test]
async fn update_delete_and_relations_use_the_documented_paths() {
    let s = setup().await;
    for (m, p) in [
        ("PUT", format!("{ROAD}/transport/{MRN_T}")),
        ("PUT", format!("{ROAD}/master-consignment/{MRN_M}")),
        ("PUT", format!("{ROAD}/house-consignment/{MRN_H}")),
        ("DELETE", format!("{ROAD}/house-consignment/{MRN_H}")),
        ("POST", format!("{ROAD}/relation")),
        ("DELETE", format!("{ROAD}/relation/{MRN_M}")),
    ] {
        Mock::given(method(m))
            .and(path(p))
            .respond_with(accepted())
            .mount(&s.toll)
            .await;
    }
    let t: Transport = json(VALID_TRANSPORT);
    let m: MasterConsignment = json(VALID_MASTER);
    let h: HouseConsignment = json(VALID_HOUSE);
    assert_eq!(
        s.road.update_transport(&mrn(MRN_T), &t).await.unwrap(),
        rid()
    );
    assert_eq!(s.road.update_master(&mrn(MRN_M), &m).await.unwrap(), rid());
    assert_eq!(s.road.update_house(&mrn(MRN_H), &h).await.unwrap(), rid());
    let del: DeleteBody = json(r#"{"documentIssueDate":"2026-12-01T09:00:00Z"}"#);
    assert_eq!(
        s.road
            .delete(DocumentKind::HouseConsignment, &mrn(MRN_H), &del)
            .await
            .unwrap(),
        rid()
    );
    let rel: Relation = json(include_str!("../../../examples/road/valid-relation.json"));
    assert_eq!(s.road.create_relation(&rel).await.unwrap(), Some(rid()));
    assert_eq!(
        s.road.delete_relation(&mrn(MRN_M), &del).await.unwrap(),
        Some(rid())
    );

    let dels = received(
        &s.toll,
        "DELETE",
        &format!("{ROAD}/house-consignment/{MRN_H}"),
    )
    .await;
    let body: serde_json::Value = serde_json::from_slice(&dels[0].body).unwrap();
    assert_eq!(body, json!({"documentIssueDate": "2026-12-01T09:00:00Z"}));

    // A local check on DELETE bodies too: documentIssueDate is required.
    let err = s
        .road
        .delete(DocumentKind::Transport, &mrn(MRN_T), &DeleteBody::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Rejected {
                origin: Origin::Local,
                kind: MessageKind::Delete,
                ..
            }
        ),
        "{err:?}"
    );
    s.sim.shutdown().await;
}

#[tokio::test]
async fn put_to_an_unknown_mrn_is_not_found() {
    let s = setup().await;
    Mock::given(method("PUT"))
        .and(path(format!("{ROAD}/transport/{MRN_T}")))
        .respond_with(ResponseTemplate::new(404))
        .mount(&s.toll)
        .await;
    let t: Transport = json(VALID_TRANSPORT);
    let err = s.road.update_transport(&mrn(MRN_T), &t).await.unwrap_err();
    assert!(
        matches!(err, Error::NotFound { ref url } if url.ends_with(MRN_T)),
        "{err:?}"
    );
    s.sim.shutdown().await;
}

// ----------------------------------------------------------------- retries

#[tokio::test]
async fn gets_are_retried_on_503_and_on_429_with_retry_after() {
    let s = setup().await;
    let p = format!("{QUERY}/entry/status/{MRN_T}");
    Mock::given(method("GET"))
        .and(path(&p))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&s.toll)
        .await;
    Mock::given(method("GET"))
        .and(path(&p))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "validEntry": true, "customsOfficeOfEntry": "NO371001",
            "timeOfEntry": "2026-12-02T06:41:00Z", "mrn": MRN_T})))
        .mount(&s.toll)
        .await;
    let entry = s.road.entry_status(&mrn(MRN_T)).await.unwrap();
    assert!(entry.valid_entry);
    assert_eq!(received(&s.toll, "GET", &p).await.len(), 3);

    let p2 = format!("{QUERY}/house-consignment/{MRN_H}/transport-document/status");
    Mock::given(method("GET"))
        .and(path(&p2))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&s.toll)
        .await;
    Mock::given(method("GET"))
        .and(path(&p2))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "documentNumber": "HWB-2026-0001", "type": "N703", "documentStatus": "SUCCESS"})))
        .mount(&s.toll)
        .await;
    let started = Instant::now();
    let st = s.road.house_document_status(&mrn(MRN_H)).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "Retry-After honoured"
    );
    assert_eq!(st.document_status, Some(DocumentStatusCode::Success));
    assert_eq!(received(&s.toll, "GET", &p2).await.len(), 2);
    s.sim.shutdown().await;
}

#[tokio::test]
async fn gets_give_up_after_the_attempt_budget() {
    let s = setup_with(Exchange::new(900), |b| {
        b.retry(RetryConfig {
            max_attempts: 3,
            ..fast_retry()
        })
    })
    .await;
    let p = format!("{QUERY}/transport/{MRN_T}/status-with-descendants");
    Mock::given(method("GET"))
        .and(path(&p))
        .respond_with(ResponseTemplate::new(500).set_body_string("boom"))
        .mount(&s.toll)
        .await;
    let err = s
        .road
        .transport_status_with_descendants(&mrn(MRN_T))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::UnexpectedStatus { status: 500, body, .. } if body == "boom"),
        "{err:?}"
    );
    assert_eq!(received(&s.toll, "GET", &p).await.len(), 3);
    s.sim.shutdown().await;
}

#[tokio::test]
async fn posts_are_not_retried_on_503() {
    let s = setup().await;
    mount_post(
        &s,
        "master-consignment",
        ResponseTemplate::new(503).insert_header("retry-after", "7"),
    )
    .await;
    let m: MasterConsignment = json(VALID_MASTER);
    let err = s.road.submit_master(&m).await.unwrap_err();
    assert!(
        matches!(err, Error::UnexpectedStatus { status: 503, retry_after: Some(d), .. } if d == Duration::from_secs(7)),
        "{err:?}"
    );
    assert_eq!(
        received(&s.toll, "POST", &format!("{ROAD}/master-consignment"))
            .await
            .len(),
        1
    );
    s.sim.shutdown().await;
}

// ---------------------------------------------------------- reconciliation

fn slow_accept() -> ResponseTemplate {
    accepted().set_delay(Duration::from_secs(2))
}

fn master_key() -> DocumentKey {
    DocumentKey {
        document_number: "CMR-2026-120001".into(),
        doc_type: "N730".into(),
        carrier_id: "912345688".into(),
    }
}

#[tokio::test]
async fn lost_master_response_is_reconciled_by_lookup_without_a_second_post() {
    let s = setup_with(Exchange::new(900), |b| {
        b.timeout(Duration::from_millis(300))
    })
    .await;
    mount_post(&s, "master-consignment", slow_accept()).await;
    let lookup = format!("{QUERY}/master-consignment/transport-document/status");
    Mock::given(method("GET"))
        .and(path(&lookup))
        .and(query_param("documentNumber", "CMR-2026-120001"))
        .and(query_param("type", "N730"))
        .and(query_param("carrierId", "912345688"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "documentNumber": "CMR-2026-120001", "type": "N730",
            "documentStatus": "SUCCESS", "mrn": MRN_M})))
        .mount(&s.toll)
        .await;

    let m: MasterConsignment = json(VALID_MASTER);
    let sub = s.road.submit_master(&m).await.unwrap();
    match &sub {
        Submission::Reconciled(found) => {
            assert_eq!(found.mrn, Some(mrn(MRN_M)));
            assert_eq!(found.status.document_number, "CMR-2026-120001");
        }
        other => panic!("expected Reconciled, got {other:?}"),
    }
    let done = s.road.submit_and_wait_master(&m).await.unwrap();
    assert_eq!(done.mrn, mrn(MRN_M));
    assert_eq!(done.confirmation, Confirmation::Reconciled);
    assert_eq!(done.request_id, None);

    assert_eq!(
        received(&s.toll, "POST", &format!("{ROAD}/master-consignment"))
            .await
            .len(),
        2,
        "one POST per submit call, never a blind re-POST"
    );
    assert_eq!(received(&s.toll, "GET", &lookup).await.len(), 2);
    s.sim.shutdown().await;
}

#[tokio::test]
async fn lookup_404_means_the_message_did_not_arrive_so_it_is_sent_again() {
    let s = setup_with(Exchange::new(900), |b| {
        b.timeout(Duration::from_millis(300))
    })
    .await;
    Mock::given(method("POST"))
        .and(path(format!("{ROAD}/house-consignment")))
        .respond_with(slow_accept())
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&s.toll)
        .await;
    mount_post(&s, "house-consignment", accepted()).await;
    let lookup = format!("{QUERY}/house-consignment/transport-document/status");
    Mock::given(method("GET"))
        .and(path(&lookup))
        .and(query_param("documentNumber", "HWB-2026-0001"))
        .and(query_param("type", "N703"))
        .and(query_param("carrierId", "912345688"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&s.toll)
        .await;

    let h: HouseConsignment = json(VALID_HOUSE);
    let sub = s.road.submit_house(&h).await.unwrap();
    assert_eq!(
        sub,
        Submission::Accepted {
            request_id: rid(),
            resent: true
        }
    );
    assert_eq!(
        received(&s.toll, "GET", &lookup).await.len(),
        2,
        "both lookups answered 404"
    );
    let posts = received(&s.toll, "POST", &format!("{ROAD}/house-consignment")).await;
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0].body, posts[1].body, "the same message is re-sent");
    s.sim.shutdown().await;
}

#[tokio::test]
async fn failing_lookup_leaves_the_outcome_ambiguous() {
    let s = setup_with(Exchange::new(900), |b| {
        b.timeout(Duration::from_millis(300)).retry(RetryConfig {
            max_attempts: 1,
            ..fast_retry()
        })
    })
    .await;
    mount_post(&s, "master-consignment", slow_accept()).await;
    Mock::given(method("GET"))
        .and(path(format!(
            "{QUERY}/master-consignment/transport-document/status"
        )))
        .respond_with(ResponseTemplate::new(500))
        .mount(&s.toll)
        .await;
    let m: MasterConsignment = json(VALID_MASTER);
    let err = s.road.submit_master(&m).await.unwrap_err();
    match &err {
        Error::Ambiguous(ctx) => {
            assert_eq!(ctx.document, Some(master_key()));
            assert!(
                ctx.reconciliation.as_deref().unwrap().contains("lookup"),
                "{ctx:?}"
            );
        }
        other => panic!("expected Ambiguous, got {other:?}"),
    }
    assert_eq!(
        received(&s.toll, "POST", &format!("{ROAD}/master-consignment"))
            .await
            .len(),
        1
    );
    s.sim.shutdown().await;
}

#[tokio::test]
async fn lost_transport_response_is_ambiguous_and_not_resent() {
    let s = setup_with(Exchange::new(900), |b| {
        b.timeout(Duration::from_millis(300))
    })
    .await;
    mount_post(&s, "transport", slow_accept()).await;
    let t: Transport = json(VALID_TRANSPORT);
    let err = s.road.submit_transport(&t).await.unwrap_err();
    match &err {
        Error::Ambiguous(ctx) => {
            assert_eq!(ctx.kind, MessageKind::Transport);
            assert_eq!(ctx.method, "POST");
            assert_eq!(ctx.transport_means.as_deref(), Some("ABC123"));
            assert_eq!(
                ctx.scheduled_arrival.as_deref(),
                Some("2026-12-02T06:30:00Z")
            );
            assert!(
                ctx.cause.contains("timed out") || ctx.cause.contains("timeout"),
                "{}",
                ctx.cause
            );
        }
        other => panic!("expected Ambiguous, got {other:?}"),
    }
    assert_eq!(
        received(&s.toll, "POST", &format!("{ROAD}/transport"))
            .await
            .len(),
        1
    );
    assert!(
        err.to_string().contains("/api/movement/road/v2/transport"),
        "{err}"
    );
    s.sim.shutdown().await;
}

#[tokio::test]
async fn lost_put_response_is_ambiguous_and_not_resent() {
    let s = setup_with(Exchange::new(900), |b| {
        b.timeout(Duration::from_millis(300))
    })
    .await;
    Mock::given(method("PUT"))
        .and(path(format!("{ROAD}/master-consignment/{MRN_M}")))
        .respond_with(slow_accept())
        .mount(&s.toll)
        .await;
    let m: MasterConsignment = json(VALID_MASTER);
    let err = s.road.update_master(&mrn(MRN_M), &m).await.unwrap_err();
    assert!(
        matches!(&err, Error::Ambiguous(ctx) if ctx.mrn == Some(mrn(MRN_M)) && ctx.method == "PUT"),
        "{err:?}"
    );
    assert_eq!(
        received(
            &s.toll,
            "PUT",
            &format!("{ROAD}/master-consignment/{MRN_M}")
        )
        .await
        .len(),
        1
    );
    s.sim.shutdown().await;
}

// ----------------------------------------------------------------- queries

#[tokio::test]
async fn every_query_endpoint_has_its_path_and_parses() {
    let s = setup().await;
    let tree = json!({
        "sumOfWeightForMasterConsignments": 12000, "sumOfWeightForHouseConsignments": 103.142,
        "masterConsignments": [{"documentNumber": "CMR-2026-120001", "type": "N730", "weight": 12000,
            "sumOfWeightForHouseConsignments": 103.142, "received": true,
            "houseConsignments": [{"documentNumber": "HWB-2026-0001", "type": "N703", "weight": 103.142, "status": "SUCCESS"}]}]
    });
    let docs = json!([{"documentNumber": "CMR-2026-120001", "type": "N730", "received": true},
                      {"documentNumber": "SE-POST-2026-4410", "type": "N750", "received": false}]);
    let incomplete = json!([{"documentNumber": "HWB-2026-0001", "type": "N703", "documentStatus": "INCOMPLETE",
                             "incompleteDocumentationReasonList": ["INCOMPLETE_CUDE_DOCUMENTATION"]}]);
    let routes = [
        (
            format!("{QUERY}/transport/{MRN_T}/status-with-descendants"),
            tree.clone(),
        ),
        (
            format!("{QUERY}/master-consignment/{MRN_M}/status-with-descendants"),
            tree.clone(),
        ),
        (
            format!("{QUERY}/transport/{MRN_T}/master-consignment/transport-document/status"),
            docs.clone(),
        ),
        (
            format!("{QUERY}/transport/{MRN_T}/house-consignment/transport-document/status"),
            incomplete.clone(),
        ),
        (
            format!("{QUERY}/master-consignment/{MRN_M}/transport-document/status"),
            incomplete.clone(),
        ),
        (
            format!("{QUERY}/house-consignment/{MRN_H}/transport-document/status"),
            incomplete[0].clone(),
        ),
        (
            format!(
                "{QUERY}/house-consignment/postal-receptacle/SEMMAENOOSLAAUN30001001019999/transport-document/status"
            ),
            incomplete.clone(),
        ),
        (
            format!("{QUERY}/entry/status/{MRN_T}"),
            json!({"validEntry": false, "customsOfficeOfEntry": "NO371001", "mrn": MRN_T}),
        ),
        (
            format!("{QUERY}/master-consignment/transport-document/status"),
            json!({"documentNumber": "CMR-2026-120001", "type": "N730", "documentStatus": "SUCCESS", "mrn": MRN_M}),
        ),
        (
            format!("{QUERY}/house-consignment/transport-document/status"),
            json!([{"documentNumber": "OTHER", "type": "N703", "mrn": MRN_T},
                   {"documentNumber": "HWB-2026-0001", "type": "N703", "documentStatus": "SUCCESS", "mrn": MRN_H}]),
        ),
    ];
    for (p, body) in &routes {
        Mock::given(method("GET"))
            .and(path(p))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .expect(1)
            .mount(&s.toll)
            .await;
    }
    let r = &s.road;
    let t = r
        .transport_status_with_descendants(&mrn(MRN_T))
        .await
        .unwrap();
    assert_eq!(
        t.master_consignments[0].house_consignments[0].document_number,
        "HWB-2026-0001"
    );
    let m = r.master_status_with_descendants(&mrn(MRN_M)).await.unwrap();
    assert_eq!(m.master_consignments[0].received, Some(true));
    let masters = r.transport_master_documents(&mrn(MRN_T)).await.unwrap();
    assert_eq!(masters.len(), 2);
    assert_eq!(masters[1].received, Some(false));
    let houses = r.transport_house_documents(&mrn(MRN_T)).await.unwrap();
    assert_eq!(
        houses[0].document_status,
        Some(DocumentStatusCode::Incomplete)
    );
    assert_eq!(
        houses[0].incomplete_documentation_reason_list,
        vec![IncompleteDocumentationReason::IncompleteCudeDocumentation]
    );
    assert_eq!(r.master_documents(&mrn(MRN_M)).await.unwrap().len(), 1);
    assert_eq!(
        r.house_document_status(&mrn(MRN_H)).await.unwrap().doc_type,
        "N703"
    );
    assert_eq!(
        r.postal_receptacle_documents("SEMMAENOOSLAAUN30001001019999")
            .await
            .unwrap()
            .len(),
        1
    );
    let entry = r.entry_status(&mrn(MRN_T)).await.unwrap();
    assert!(!entry.valid_entry);
    assert_eq!(entry.customs_office_of_entry.as_deref(), Some("NO371001"));
    let found = r.lookup_master(&master_key()).await.unwrap();
    assert_eq!(found.mrn, Some(mrn(MRN_M)));
    let found = r
        .lookup_house(&DocumentKey {
            document_number: "HWB-2026-0001".into(),
            doc_type: "N703".into(),
            carrier_id: "912345688".into(),
        })
        .await
        .unwrap();
    assert_eq!(
        found.mrn,
        Some(mrn(MRN_H)),
        "the matching entry of a list is picked"
    );

    let lookups = received(
        &s.toll,
        "GET",
        &format!("{QUERY}/master-consignment/transport-document/status"),
    )
    .await;
    assert_eq!(
        lookups[0].url.query(),
        Some("documentNumber=CMR-2026-120001&type=N730&carrierId=912345688")
    );
    // One Toll token (road scope) served the submission and query APIs alike.
    assert_eq!(s.exchange.calls(), 1);
    s.toll.verify().await;
    s.sim.shutdown().await;
}

#[tokio::test]
async fn query_errors_are_typed() {
    let s = setup().await;
    Mock::given(method("GET"))
        .and(path(format!("{QUERY}/entry/status/{MRN_T}")))
        .respond_with(ResponseTemplate::new(404))
        .mount(&s.toll)
        .await;
    Mock::given(method("GET"))
        .and(path(format!(
            "{QUERY}/transport/{MRN_T}/status-with-descendants"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"masterConsignments\": 5}"))
        .mount(&s.toll)
        .await;
    let err = s.road.entry_status(&mrn(MRN_T)).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    let err = s
        .road
        .transport_status_with_descendants(&mrn(MRN_T))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidResponse { body, .. } if body.contains("masterConsignments")),
        "{err:?}"
    );
    s.sim.shutdown().await;
}

#[tokio::test]
async fn raw_submission_for_the_cli() {
    let s = setup().await;
    Mock::given(method("POST"))
        .and(path(format!("{ROAD}/transport")))
        .and(body_json(json::<serde_json::Value>(VALID_TRANSPORT)))
        .respond_with(accepted())
        .mount(&s.toll)
        .await;
    mount_status(
        &s,
        "transport",
        ResponseTemplate::new(200).set_body_json(success(MRN_T)),
    )
    .await;
    let raw: serde_json::Value = json(VALID_TRANSPORT);
    let done = s
        .road
        .submit_and_wait_raw(DocumentKind::Transport, &raw)
        .await
        .unwrap();
    assert_eq!(done.mrn, mrn(MRN_T));
    assert_eq!(
        done.validation
            .unwrap()
            .notification_date
            .unwrap()
            .to_string(),
        "2026-12-01T08:00:02Z"
    );
    s.sim.shutdown().await;
}

#[tokio::test]
async fn put_is_validated_as_an_update_and_other_modes_use_their_own_rules() {
    let s = setup().await;
    // Estimated != scheduled arrival is only an error on the first POST.
    let differs: Transport = json(include_str!(
        "../../../examples/road/invalid-transport-estimated-differs.json"
    ));
    let err = s.road.submit_transport(&differs).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Failed {
                origin: Origin::Local,
                ..
            }
        ),
        "{err:?}"
    );
    Mock::given(method("PUT"))
        .and(path(format!("{ROAD}/transport/{MRN_T}")))
        .respond_with(accepted())
        .mount(&s.toll)
        .await;
    assert_eq!(
        s.road
            .update_transport(&mrn(MRN_T), &differs)
            .await
            .unwrap(),
        rid()
    );

    // An air client checks with the air rules (road v2 + the air row of
    // TransportMode::rules) and sends nothing when they fail; with local
    // validation off the message goes to Toll as it is.
    Mock::given(method("POST"))
        .and(path("/api/movement/air/v1/transport"))
        .respond_with(accepted())
        .mount(&s.toll)
        .await;
    let air = digitoll_client::MovementClient::builder(
        digitoll_client::TransportMode::Air,
        s.tokens.clone(),
    )
    .build()
    .unwrap();
    let err = air
        .submit_raw(DocumentKind::Transport, &json!({"flight": "SK123"}))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Rejected {
                origin: Origin::Local,
                ..
            }
        ),
        "{err:?}"
    );
    let unchecked = digitoll_client::MovementClient::builder(
        digitoll_client::TransportMode::Air,
        s.tokens.clone(),
    )
    .validate_before_send(false)
    .build()
    .unwrap();
    let sub = unchecked
        .submit_raw(DocumentKind::Transport, &json!({"flight": "SK123"}))
        .await
        .unwrap();
    assert_eq!(
        sub,
        Submission::Accepted {
            request_id: rid(),
            resent: false
        }
    );
    s.sim.shutdown().await;
}
