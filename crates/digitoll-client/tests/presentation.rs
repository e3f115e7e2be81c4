//! Presentation client against a wiremock Toll: one endpoint per kind,
//! client-generated or caller-supplied requestId, idempotent re-send with
//! the same requestId after a lost response, "requestId already used"
//! resolved through validation-status, local validation, error mapping.

mod common;

use std::time::Duration;

use common::*;
use digitoll_client::{
    Error, Operation, Origin, PresentationClient, PresentationConfirmation, RetryConfig,
};
use digitoll_model::RequestId;
use digitoll_model::entry::{Presentation, PresentationKind};
use digitoll_model::road::DocumentRef;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, Request, ResponseTemplate};

const BASE: &str = "/api/movement/presentation/v1";
const HOUSE: &str = include_str!("../../../examples/presentation/house-consignment.json");
const ENS: &str = include_str!("../../../examples/presentation/entry-summary-declaration.json");

fn client(s: &Setup) -> PresentationClient {
    api_client(PresentationClient::builder(s.tokens.clone()))
}

/// A client whose requests time out after 300 ms (to lose responses).
fn impatient(s: &Setup, attempts: u32) -> PresentationClient {
    PresentationClient::builder(s.tokens.clone())
        .retry(RetryConfig {
            max_attempts: attempts,
            ..fast_retry()
        })
        .poll(fast_poll())
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap()
}

fn doc(number: &str, t: &str) -> DocumentRef {
    serde_json::from_value(json!({"documentNumber": number, "type": t})).unwrap()
}

fn body_of(r: &Request) -> Value {
    serde_json::from_slice(&r.body).unwrap()
}

/// 202 echoing the request's requestId.
struct Echo;
impl wiremock::Respond for Echo {
    fn respond(&self, r: &Request) -> ResponseTemplate {
        let b = body_of(r);
        ResponseTemplate::new(202).set_body_json(json!({"requestId": b["requestId"]}))
    }
}

fn already_used() -> ResponseTemplate {
    ResponseTemplate::new(400).set_body_json(json!({
        "validationErrors": [{"field": "requestId", "error": "requestId already used"}]
    }))
}

/// The documented validation status: no `{requestId}` segment (S19,
/// `ics2-forsendelser-EN.html`); the client sends the id as a query parameter.
async fn mount_status(s: &Setup, rid: &str, body: Value) {
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/validation-status")))
        .and(query_param("requestId", rid))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&s.toll)
        .await;
}

#[tokio::test]
async fn every_endpoint_posts_its_body_with_a_generated_request_id() {
    let s = setup().await;
    Mock::given(method("POST"))
        .respond_with(Echo)
        .mount(&s.toll)
        .await;
    let c = client(&s);
    let office = "NO371001";
    let cases = [
        (
            PresentationKind::HouseConsignment,
            Presentation::house("", office, doc("HWB-1", "N703")).with_transport_mrn(MRN_T),
        ),
        (
            PresentationKind::MasterConsignment,
            Presentation::master("", office, doc("MAWB-1", "N741")),
        ),
        (
            PresentationKind::Container,
            Presentation::container("", office, "MSKU1234565"),
        ),
        (
            PresentationKind::Receptacle,
            Presentation::receptacle("", office, "GBASFZMLBKONAUN30001001019999"),
        ),
        (
            PresentationKind::EntrySummaryDeclaration,
            Presentation::entry_summary_declaration("", office, "23NO00000000000001"),
        ),
    ];
    for (kind, mut body) in cases {
        body.request_id = None; // let the client generate one
        let presented = match kind {
            PresentationKind::HouseConsignment => c.present_house(&body).await,
            PresentationKind::MasterConsignment => c.present_master(&body).await,
            PresentationKind::Container => c.present_container(&body).await,
            PresentationKind::Receptacle => c.present_receptacle(&body).await,
            PresentationKind::EntrySummaryDeclaration => {
                c.present_entry_summary_declaration(&body).await
            }
        }
        .unwrap();
        assert_eq!(presented.attempts, 1);
        assert_eq!(presented.confirmation, PresentationConfirmation::Accepted);
        let posts = received(&s.toll, "POST", &format!("{BASE}/{}", kind.path_segment())).await;
        assert_eq!(posts.len(), 1, "{kind:?}");
        let sent = body_of(&posts[0]);
        assert_eq!(
            sent["requestId"],
            presented.request_id.to_string(),
            "{kind:?}"
        );
        assert_eq!(sent["customsOfficeOfPresentation"], office);
        // Everything else is the body given.
        let mut expected = serde_json::to_value(&body).unwrap();
        expected["requestId"] = sent["requestId"].clone();
        assert_eq!(sent, expected, "{kind:?}");
        assert_eq!(
            posts[0].headers.get("content-type").unwrap(),
            "application/json"
        );
        assert_eq!(auth_header(&posts[0]), "Bearer toll-1");
    }
    assert_eq!(exchanged_scopes(&s.toll).await, vec!["toll:movement/entry"]);
    s.sim.shutdown().await;
}

#[tokio::test]
async fn a_caller_supplied_request_id_is_sent_and_returned() {
    let s = setup().await;
    Mock::given(method("POST"))
        .and(path(format!("{BASE}/house-consignment")))
        .respond_with(Echo)
        .mount(&s.toll)
        .await;
    let body: Presentation = json(HOUSE);
    let p = client(&s).present_house(&body).await.unwrap();
    assert_eq!(
        p.request_id.to_string(),
        "6f1d3f0e-8b7a-4c53-9d2e-0c1b2a3d4e5f"
    );
    let posts = received(&s.toll, "POST", &format!("{BASE}/house-consignment")).await;
    let expected: Value = json(HOUSE);
    assert_eq!(body_of(&posts[0]), expected);
    s.sim.shutdown().await;
}

#[tokio::test]
async fn lost_response_is_resent_with_the_same_request_id() {
    let s = setup().await;
    Mock::given(method("POST"))
        .and(path(format!("{BASE}/master-consignment")))
        .respond_with(DelayedEcho)
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&s.toll)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{BASE}/master-consignment")))
        .respond_with(Echo)
        .mount(&s.toll)
        .await;
    let mut body = Presentation::master("", "NO371001", doc("MAWB-2", "N741"));
    body.request_id = None;
    let p = impatient(&s, 3).present_master(&body).await.unwrap();
    assert_eq!(p.attempts, 2);
    assert_eq!(p.confirmation, PresentationConfirmation::AcceptedOnResend);
    let posts = received(&s.toll, "POST", &format!("{BASE}/master-consignment")).await;
    assert_eq!(posts.len(), 2);
    assert_eq!(
        body_of(&posts[0]),
        body_of(&posts[1]),
        "same body, same requestId"
    );
    assert_eq!(body_of(&posts[1])["requestId"], p.request_id.to_string());
    s.sim.shutdown().await;
}

#[tokio::test]
async fn already_used_after_a_lost_response_is_confirmed_by_validation_status() {
    let s = setup().await;
    // The first POST is processed but its response never arrives; the
    // re-send is refused as a duplicate.
    Mock::given(method("POST"))
        .and(path(format!("{BASE}/house-consignment")))
        .respond_with(DelayedEcho)
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&s.toll)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{BASE}/house-consignment")))
        .respond_with(already_used())
        .mount(&s.toll)
        .await;
    let mut body: Presentation = json(HOUSE);
    body.request_id = None;
    let c = impatient(&s, 3);
    // The id is generated: the status mocks match any id and echo it.
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/validation-status")))
        .respond_with(ResponseTemplate::new(404))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&s.toll)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/validation-status")))
        .respond_with(StatusFromQuery)
        .mount(&s.toll)
        .await;
    let outcome = c
        .present_and_wait(PresentationKind::HouseConsignment, &body)
        .await
        .unwrap();
    assert!(outcome.already_presented);
    assert_eq!(outcome.attempts, 2);
    assert_eq!(outcome.validation.request_id, outcome.request_id);
    let posts = received(&s.toll, "POST", &format!("{BASE}/house-consignment")).await;
    assert_eq!(posts.len(), 2);
    assert_eq!(
        body_of(&posts[0])["requestId"],
        body_of(&posts[1])["requestId"]
    );
    let rid = outcome.request_id.to_string();
    let polls: Vec<_> = received(&s.toll, "GET", &format!("{BASE}/validation-status"))
        .await
        .into_iter()
        .filter(|r| r.url.query() == Some(format!("requestId={rid}").as_str()))
        .collect();
    assert_eq!(polls.len(), 2, "404, then the result");
    s.sim.shutdown().await;
}

/// SUCCESS for the `requestId` query parameter.
struct StatusFromQuery;
impl wiremock::Respond for StatusFromQuery {
    fn respond(&self, r: &Request) -> ResponseTemplate {
        let rid = r
            .url
            .query_pairs()
            .find(|(k, _)| k == "requestId")
            .map(|(_, v)| v.into_owned())
            .unwrap();
        ResponseTemplate::new(200).set_body_json(json!({
            "status": "SUCCESS", "requestId": rid, "notificationDate": "2026-12-02T06:41:02Z"
        }))
    }
}

/// Echo, but after 2 s: the client (300 ms timeout) never sees it.
struct DelayedEcho;
impl wiremock::Respond for DelayedEcho {
    fn respond(&self, r: &Request) -> ResponseTemplate {
        Echo.respond(r).set_delay(Duration::from_secs(2))
    }
}

#[tokio::test]
async fn a_caller_supplied_id_already_used_on_the_first_post_is_resolved_too() {
    let s = setup().await;
    let body: Presentation = json(ENS);
    let rid = body.request_id.clone().unwrap();
    Mock::given(method("POST"))
        .and(path(format!("{BASE}/entry-summary-declaration")))
        .respond_with(already_used())
        .mount(&s.toll)
        .await;
    mount_status(
        &s,
        &rid,
        json!({"status": "SUCCESS", "requestId": rid, "notificationDate": "2026-12-02T06:41:02Z"}),
    )
    .await;
    let p = client(&s)
        .present_entry_summary_declaration(&body)
        .await
        .unwrap();
    assert_eq!(p.attempts, 1);
    match p.confirmation {
        PresentationConfirmation::AlreadyPresented(st) => {
            assert_eq!(st.request_id, RequestId::parse(&rid).unwrap())
        }
        other => panic!("{other:?}"),
    }
    s.sim.shutdown().await;
}

#[tokio::test]
async fn already_used_for_a_fresh_generated_id_is_a_plain_rejection() {
    let s = setup().await;
    Mock::given(method("POST"))
        .and(path(format!("{BASE}/container")))
        .respond_with(already_used())
        .mount(&s.toll)
        .await;
    let mut body = Presentation::container("", "NO371001", "MSKU1234565");
    body.request_id = None;
    match client(&s).present_container(&body).await.unwrap_err() {
        Error::RequestRejected {
            origin: Origin::Toll,
            operation: Operation::Presentation(PresentationKind::Container),
            errors,
        } => assert_eq!(errors[0].field, "requestId"),
        other => panic!("{other:?}"),
    }
    let gets = s.toll.received_requests().await.unwrap();
    assert!(
        gets.iter().all(|r| r.method.as_str() != "GET"),
        "no status poll"
    );
    s.sim.shutdown().await;
}

#[tokio::test]
async fn every_attempt_lost_is_outcome_unknown_with_the_request_id() {
    let s = setup().await;
    Mock::given(method("POST"))
        .and(path(format!("{BASE}/receptacle")))
        .respond_with(DelayedEcho)
        .mount(&s.toll)
        .await;
    let mut body = Presentation::receptacle("", "NO371001", "GBASFZMLBKONAUN30001001019999");
    body.request_id = None;
    let err = impatient(&s, 3)
        .present_receptacle(&body)
        .await
        .unwrap_err();
    let posts = received(&s.toll, "POST", &format!("{BASE}/receptacle")).await;
    assert_eq!(posts.len(), 3, "max_attempts POSTs");
    match err {
        Error::OutcomeUnknown {
            operation: Operation::Presentation(PresentationKind::Receptacle),
            request_id: Some(rid),
            cause,
            ..
        } => {
            assert_eq!(body_of(&posts[2])["requestId"], rid.to_string());
            assert!(cause.contains("3 POST"), "{cause}");
        }
        other => panic!("{other:?}"),
    }
    s.sim.shutdown().await;
}

#[tokio::test]
async fn failure_is_a_typed_error_with_the_paths() {
    let s = setup().await;
    Mock::given(method("POST"))
        .and(path(format!("{BASE}/house-consignment")))
        .respond_with(Echo)
        .mount(&s.toll)
        .await;
    let body: Presentation = json(HOUSE);
    let rid = body.request_id.clone().unwrap();
    mount_status(
        &s,
        &rid,
        json!({"status": "FAILURE", "requestId": rid, "validationErrorList": [
            {"description": "Document not found",
             "pointer": {"messageElementPath": "consignmentHouseLevel.transportDocumentHouseLevel"}}
        ]}),
    )
    .await;
    match client(&s)
        .present_and_wait(PresentationKind::HouseConsignment, &body)
        .await
        .unwrap_err()
    {
        Error::RequestFailed {
            operation,
            request_id,
            errors,
        } => {
            assert_eq!(
                operation,
                Operation::Presentation(PresentationKind::HouseConsignment)
            );
            assert_eq!(request_id.to_string(), rid);
            assert_eq!(errors[0].description, "Document not found");
        }
        other => panic!("{other:?}"),
    }
    s.sim.shutdown().await;
}

#[tokio::test]
async fn local_validation_and_bad_ids_send_nothing() {
    let s = setup().await;
    let c = client(&s);
    let mut no_office: Presentation = json(HOUSE);
    no_office.customs_office_of_presentation = None;
    match c.present_house(&no_office).await.unwrap_err() {
        Error::RequestRejected {
            origin: Origin::Local,
            errors,
            ..
        } => assert!(
            errors
                .iter()
                .any(|e| e.field == "customsOfficeOfPresentation"),
            "{errors:?}"
        ),
        other => panic!("{other:?}"),
    }
    let mut bad_id: Presentation = json(HOUSE);
    bad_id.request_id = Some("not-a-uuid".into());
    match c.present_house(&bad_id).await.unwrap_err() {
        Error::InvalidInput { field, .. } => assert_eq!(field, "requestId"),
        other => panic!("{other:?}"),
    }
    assert!(s.toll.received_requests().await.unwrap().is_empty());
    s.sim.shutdown().await;
}

#[tokio::test]
async fn forbidden_names_the_entry_scope() {
    let s = setup().await;
    Mock::given(method("POST"))
        .and(path(format!("{BASE}/house-consignment")))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "error": "insufficient_scope", "error_description": "requires scope toll:movement/entry"
        })))
        .mount(&s.toll)
        .await;
    let body: Presentation = json(HOUSE);
    match client(&s).present_house(&body).await.unwrap_err() {
        Error::Forbidden { scope, .. } => assert_eq!(scope, "toll:movement/entry"),
        other => panic!("{other:?}"),
    }
    s.sim.shutdown().await;
}
