//! Integration tests of the Toll part (token exchange, road v2 submission and
//! query APIs) over real HTTP on 127.0.0.1:0.

use crate::support;

use std::time::Duration;

use digitoll_model::{
    MessageKind, Mrn, Outcome, PlaygroundFixtures, ValidationContext, validate_json,
};
use digitoll_sim::{
    Fault, MessageState, ROAD_SCOPE, Simulator, SubmissionOperation, SubmissionStatus,
    TollMessageKind,
};
use reqwest::Method;
use serde_json::{Value, json};
use support::toll::*;
use support::*;
use time::macros::datetime;

const T: &str = "transport";
const M: &str = "master-consignment";
const H: &str = "house-consignment";

fn kind_path(name: &str) -> &'static str {
    if name.contains("transport") {
        T
    } else if name.contains("master") {
        M
    } else {
        H
    }
}

fn model_kind(path: &str) -> MessageKind {
    match path {
        T => MessageKind::Transport,
        M => MessageKind::MasterConsignment,
        _ => MessageKind::HouseConsignment,
    }
}

/// Submits every valid example (transport, both masters, all houses) as `api`;
/// returns their MRNs by example name.
async fn submit_valid_examples(api: &Api<'_>) -> Vec<(String, String)> {
    let mut mrns = Vec::new();
    for name in [
        "valid-transport",
        "valid-master",
        "valid-master-postal",
        "valid-house-import-cude",
        "valid-house-transit-n820",
        "valid-house-voec",
        "valid-house-postal-receptacle",
        "valid-house-direct-consignment",
    ] {
        let mrn = api.create(kind_path(name), &example(name)).await;
        mrns.push((name.to_owned(), mrn));
    }
    mrns
}

fn mrn_of<'a>(mrns: &'a [(String, String)], name: &str) -> &'a str {
    &mrns.iter().find(|(n, _)| n == name).expect("submitted").1
}

// ---------------------------------------------------------------- exchange

#[tokio::test]
async fn exchange_turns_a_maskinporten_token_into_a_toll_token() {
    let s = start_toll().await;
    let mp = mp_token(&s, ROAD_A, ROAD_SCOPE).await;
    let (status, body) = exchange(&s, &mp).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["issued_token_type"], "access_token");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 970);
    let token = body["access_token"].as_str().unwrap();
    assert!(token.len() >= 40 && token != mp);
    let response = s
        .http
        .get(s.sim.url(&format!("{SUBMIT}/test-auth")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // The exchange is recorded; the Toll token is redacted in the recorded header.
    let recorded = s.ctl.requests();
    let test_auth = recorded
        .iter()
        .find(|r| r.path.ends_with("/test-auth"))
        .unwrap();
    assert_eq!(test_auth.header("authorization"), Some("Bearer [REDACTED]"));
    let recorded_exchange = recorded
        .iter()
        .find(|r| r.path == "/api/access/external/oauth/token")
        .unwrap();
    assert_eq!(
        recorded_exchange.body.form_value("subject_token"),
        Some("[REDACTED]")
    );
    assert_eq!(
        recorded_exchange.body.form_value("subject_token_type"),
        Some("access_token")
    );
}

#[tokio::test]
async fn toll_token_lifetime_is_configurable() {
    let s = start_toll_with(
        Simulator::builder()
            .processing_delay(Duration::ZERO)
            .toll_token_lifetime(Duration::from_secs(300)),
    )
    .await;
    let mp = mp_token(&s, ROAD_A, ROAD_SCOPE).await;
    assert_eq!(exchange(&s, &mp).await.1["expires_in"], 300);
    s.ctl.set_toll_token_lifetime(Duration::from_secs(60));
    let mp = mp_token(&s, ROAD_A, ROAD_SCOPE).await;
    assert_eq!(exchange(&s, &mp).await.1["expires_in"], 60);
}

#[track_caller]
fn assert_invalid_token(got: &(u16, Value), text: &str) {
    assert_eq!(got.0, 401, "{}", got.1);
    assert_eq!(got.1["error"], "invalid_token", "{}", got.1);
    let description = got.1["error_description"].as_str().unwrap_or_default();
    assert!(
        description.contains(text),
        "{description:?} should contain {text:?}"
    );
}

#[tokio::test]
async fn exchange_rejects_expired_foreign_and_forged_tokens() {
    let s = start_toll().await;
    let now = s.ctl.now().unix_timestamp();
    let sim_kid = s.ctl.token_signing_kid();
    let claims = |iss: &str, exp: i64| {
        json!({"iss": iss, "client_id": ROAD_A, "scope": ROAD_SCOPE, "iat": now, "exp": exp,
               "consumer": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{ORG}")},
               "token_type": "Bearer", "jti": "x"})
    };
    let sign = |claims: &Value, key: &digitoll_sim::RsaPrivateKey| {
        let mut grant = Grant::at("", "", 0).header("kid", json!(sim_kid));
        grant.claims = claims.as_object().unwrap().clone();
        grant.sign(key)
    };
    // Sanity: a hand-made token with the sim's key and issuer is accepted.
    let good = sign(&claims(&s.sim.issuer(), now + 60), &keys().signing);
    assert_eq!(exchange(&s, &good).await.0, 200);

    // A foreign issuer, even with a valid signature.
    let foreign = sign(
        &claims("https://test.maskinporten.no/", now + 60),
        &keys().signing,
    );
    assert_invalid_token(&exchange(&s, &foreign).await, "issuer");
    // Signed by another key under the sim's kid.
    let forged = sign(&claims(&s.sim.issuer(), now + 60), &keys().other);
    assert_invalid_token(&exchange(&s, &forged).await, "signature");
    // An unknown kid.
    let mut other_kid = Grant::at("", "", 0).header("kid", json!("someone-else"));
    other_kid.claims = claims(&s.sim.issuer(), now + 60)
        .as_object()
        .unwrap()
        .clone();
    assert_invalid_token(&exchange(&s, &other_kid.sign(&keys().signing)).await, "kid");
    // Not a JWT at all.
    assert_invalid_token(&exchange(&s, "not-a-token").await, "not a signed JWT");

    // A real Maskinporten token that expired on the sim clock (lifetime 120 s).
    let mp = mp_token(&s, ROAD_A, ROAD_SCOPE).await;
    s.ctl.advance_clock(time::Duration::seconds(121));
    assert_invalid_token(&exchange(&s, &mp).await, "expired");

    // Malformed forms.
    let got = exchange_form(
        &s,
        &[
            ("grant_type", "client_credentials"),
            ("subject_token_type", "access_token"),
            ("subject_token", "x"),
        ],
    )
    .await;
    assert_eq!(
        (got.0, got.1["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let got = exchange_form(
        &s,
        &[
            ("grant_type", "token-exchange"),
            ("subject_token_type", "access_token"),
        ],
    )
    .await;
    assert_eq!(
        (got.0, got.1["error"].as_str()),
        (400, Some("invalid_request"))
    );
    assert!(
        got.1["error_description"]
            .as_str()
            .unwrap()
            .contains("subject_token")
    );
}

#[tokio::test]
async fn api_calls_need_a_current_toll_token_with_the_road_scope() {
    let s = start_toll().await;
    let url = s.sim.url(&format!(
        "{QUERY}/transport/26NOAAAAAAAAAAAAAA/status-with-descendants"
    ));
    // No token.
    let response = s.http.get(url.clone()).send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.headers().get("www-authenticate").is_some());
    // A Maskinporten token is not a Toll token.
    let mp = mp_token(&s, ROAD_A, ROAD_SCOPE).await;
    let response = s
        .http
        .get(url.clone())
        .bearer_auth(&mp)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "invalid_token"
    );
    // Basic auth is not accepted.
    let response = s
        .http
        .get(url.clone())
        .basic_auth("a", Some("b"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);

    // A token without the road scope: 403 on every Toll API.
    let air = mp_token(&s, AIR_ONLY, SCOPE).await;
    let (_, body) = exchange(&s, &air).await;
    let air_api = Api {
        s: &s,
        token: body["access_token"].as_str().unwrap().to_owned(),
    };
    for (status, body) in [
        air_api.get(&format!("{SUBMIT}/test-auth")).await,
        air_api.post(M, &example("valid-master")).await,
        air_api
            .get(&format!("{QUERY}/entry/status/26NOAAAAAAAAAAAAAA"))
            .await,
    ] {
        assert_eq!(status, 403, "{body}");
        assert_eq!(
            body,
            json!({"error": "insufficient_scope", "error_description": "requires scope toll:movement/road/v2"})
        );
    }
    assert_eq!(s.ctl.toll_submission_count(), 0);

    // A road token works until it expires on the sim clock (970 s).
    let road = api(&s, ROAD_A).await;
    assert_eq!(road.get(&format!("{SUBMIT}/test-auth")).await.0, 200);
    s.ctl.advance_clock(time::Duration::seconds(971));
    let (status, body) = road.get(&format!("{SUBMIT}/test-auth")).await;
    assert_eq!(status, 401);
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
}

// ---------------------------------------------------------------- submissions

#[tokio::test]
async fn valid_examples_get_mrns_and_form_one_tree() {
    let s = start_toll().await;
    let a = api(&s, ROAD_A).await;
    let mrns = submit_valid_examples(&a).await;
    let mut seen = std::collections::HashSet::new();
    for (name, mrn) in &mrns {
        let parsed = Mrn::parse(mrn).unwrap_or_else(|e| panic!("{name}: MRN {mrn}: {e}"));
        assert_eq!(parsed.country(), "NO");
        assert_eq!(parsed.year(), 26);
        assert!(seen.insert(mrn.clone()), "MRNs are unique");
    }
    let transport = mrn_of(&mrns, "valid-transport");

    let (status, tree) = a
        .get(&format!(
            "{QUERY}/transport/{transport}/status-with-descendants"
        ))
        .await;
    assert_eq!(status, 200, "{tree}");
    assert_eq!(tree["sumOfWeightForMasterConsignments"], json!(12850.5));
    // 103.142 + 2400 + 1.25 (CMR master) + 0.4 (postal) + 5400 (direct)
    assert_eq!(tree["sumOfWeightForHouseConsignments"], json!(7904.792));
    let masters = tree["masterConsignments"].as_array().unwrap();
    assert_eq!(masters.len(), 2);
    let cmr = &masters[0];
    assert_eq!(cmr["documentNumber"], "CMR-2026-120001");
    assert_eq!(cmr["type"], "N730");
    assert_eq!(cmr["received"], true);
    assert_eq!(cmr["weight"], json!(12000));
    assert_eq!(cmr["mrn"], json!(mrn_of(&mrns, "valid-master")));
    assert_eq!(cmr["sumOfWeightForHouseConsignments"], json!(2504.392));
    let houses: Vec<&str> = cmr["houseConsignments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["documentNumber"].as_str().unwrap())
        .collect();
    assert_eq!(houses, ["HWB-2026-0001", "HWB-2026-0002", "HWB-2026-0003"]);
    assert!(
        cmr["houseConsignments"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["status"] == "SUCCESS")
    );
    let postal = &masters[1];
    assert_eq!(postal["documentNumber"], "SE-POST-2026-4410");
    assert_eq!(postal["weight"], json!(850.5));
    assert_eq!(
        postal["houseConsignments"][0]["documentNumber"],
        "RR123456785SE"
    );
    assert_eq!(
        postal["houseConsignments"][0]["mrn"],
        json!(mrn_of(&mrns, "valid-house-postal-receptacle"))
    );
    let direct = tree["houseConsignments"].as_array().unwrap();
    assert_eq!(direct.len(), 1);
    assert_eq!(direct[0]["documentNumber"], "CMR-2026-120099");
    assert_eq!(direct[0]["weight"], json!(5400));
    assert_eq!(
        direct[0]["mrn"],
        json!(mrn_of(&mrns, "valid-house-direct-consignment"))
    );

    // The transport's masters and houses.
    let (status, list) = a
        .get(&format!(
            "{QUERY}/transport/{transport}/master-consignment/transport-document/status"
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        list,
        json!([
            {"documentNumber": "CMR-2026-120001", "type": "N730", "documentStatus": "SUCCESS",
             "incompleteDocumentationReasonList": [], "mrn": mrn_of(&mrns, "valid-master"), "received": true},
            {"documentNumber": "SE-POST-2026-4410", "type": "N750", "documentStatus": "SUCCESS",
             "incompleteDocumentationReasonList": [], "mrn": mrn_of(&mrns, "valid-master-postal"), "received": true},
        ])
    );
    let (status, list) = a
        .get(&format!(
            "{QUERY}/transport/{transport}/house-consignment/transport-document/status"
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 5, "{list}");

    // The master's tree and houses.
    let master = mrn_of(&mrns, "valid-master");
    let (status, tree) = a
        .get(&format!(
            "{QUERY}/master-consignment/{master}/status-with-descendants"
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(tree["sumOfWeightForMasterConsignments"], json!(12000));
    assert_eq!(tree["sumOfWeightForHouseConsignments"], json!(2504.392));
    assert_eq!(
        tree["masterConsignments"][0]["houseConsignments"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let (status, list) = a
        .get(&format!(
            "{QUERY}/master-consignment/{master}/transport-document/status"
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 3);

    // One house, and the lookups.
    let house = mrn_of(&mrns, "valid-house-voec");
    let (status, doc) = a
        .get(&format!(
            "{QUERY}/house-consignment/{house}/transport-document/status"
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        doc,
        json!({"documentNumber": "HWB-2026-0003", "type": "N703", "documentStatus": "SUCCESS",
               "incompleteDocumentationReasonList": [], "mrn": house})
    );
    let (status, doc) = a
        .get(&format!("{QUERY}/house-consignment/transport-document/status?documentNumber=HWB-2026-0003&type=N703&carrierId=912345688"))
        .await;
    assert_eq!((status, &doc["mrn"]), (200, &json!(house)));
    let (status, doc) = a
        .get(&format!("{QUERY}/master-consignment/transport-document/status?documentNumber=CMR-2026-120001&type=N730&carrierId=912345688"))
        .await;
    assert_eq!((status, &doc["mrn"]), (200, &json!(master)));
    let (status, _) = a
        .get(&format!("{QUERY}/master-consignment/transport-document/status?documentNumber=CMR-2026-120001&type=N730&carrierId=999999999"))
        .await;
    assert_eq!(status, 404);
    let (status, body) = a
        .get(&format!(
            "{QUERY}/master-consignment/transport-document/status?type=N730"
        ))
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, list) = a
        .get(&format!("{QUERY}/house-consignment/postal-receptacle/SEMMAENOOSLAAUN30001001019999/transport-document/status"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        list[0]["mrn"],
        json!(mrn_of(&mrns, "valid-house-postal-receptacle"))
    );
    let (status, _) = a
        .get(&format!(
            "{QUERY}/house-consignment/postal-receptacle/NOPE/transport-document/status"
        ))
        .await;
    assert_eq!(status, 404);

    // SimControl and the admin API list the same messages.
    let messages = s.ctl.toll_messages();
    assert_eq!(messages.len(), 8);
    assert!(
        messages
            .iter()
            .all(|m| m.org == ORG && m.state == MessageState::Active)
    );
    let admin: Value = s
        .http
        .get(s.sim.url("sim/toll/messages"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(admin.as_array().unwrap().len(), 8);
    assert_eq!(admin[1]["document_number"], "CMR-2026-120001");
    assert_eq!(admin[1]["kind"], "master_consignment");
    let submissions: Value = s
        .http
        .get(s.sim.url("sim/toll/submissions"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(submissions["count"], 8);
    assert_eq!(s.ctl.toll_submission_count(), 8);
    assert!(s.ctl.toll_submissions().iter().all(
        |x| x.status == SubmissionStatus::Success && x.operation == SubmissionOperation::Create
    ));
}

#[tokio::test]
async fn other_examples_are_rejected_exactly_as_the_model_reports() {
    let s = start_toll().await;
    let a = api(&s, ROAD_A).await;
    let mut names: Vec<String> = std::fs::read_dir(examples_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("valid-"))
        .collect();
    names.sort();
    assert!(names.len() >= 10);
    let (mut rejected, mut failed, mut incomplete) = (0, 0, 0);
    for name in &names {
        let kind = kind_path(name);
        let text = example(name);
        let ctx =
            ValidationContext::new(s.ctl.now()).with_playground(PlaygroundFixtures::default());
        let (_, report) = validate_json(model_kind(kind), &text, &ctx).unwrap();
        let (status, body) = a.post(kind, &text).await;
        match report.outcome() {
            Outcome::Rejected(expected) => {
                rejected += 1;
                assert_eq!(status, 400, "{name}: {body}");
                assert_eq!(body, serde_json::to_value(&expected).unwrap(), "{name}");
            }
            Outcome::Failed(errors) => {
                failed += 1;
                assert_eq!(status, 202, "{name}: {body}");
                let (status, result) = a.status(kind, body["requestId"].as_str().unwrap()).await;
                // A ready FAILURE answers 202 (asynkrone-valideringsfeil-EN.html).
                assert_eq!(status, 202);
                assert_eq!(result["status"], "FAILURE", "{name}: {result}");
                assert_eq!(
                    result["validationErrorList"],
                    serde_json::to_value(&errors).unwrap(),
                    "{name}"
                );
                assert!(result.get("mrn").is_none(), "{name}: no MRN on FAILURE");
            }
            Outcome::Accepted {
                incomplete: reasons,
            } => {
                incomplete += 1;
                assert!(!reasons.is_empty(), "{name} is not a valid example");
                assert_eq!(status, 202, "{name}: {body}");
                let (_, result) = a.status(kind, body["requestId"].as_str().unwrap()).await;
                assert_eq!(result["status"], "SUCCESS", "{name}: {result}");
                assert_eq!(
                    result["incompleteDocumentationReasonList"],
                    serde_json::to_value(&reasons).unwrap()
                );
                let mrn = result["mrn"].as_str().unwrap();
                let (_, doc) = a
                    .get(&format!("{QUERY}/{kind}/{mrn}/transport-document/status"))
                    .await;
                assert_eq!(doc["documentStatus"], "INCOMPLETE", "{name}: {doc}");
                assert_eq!(
                    doc["incompleteDocumentationReasonList"],
                    serde_json::to_value(&reasons).unwrap()
                );
            }
        }
    }
    assert!(
        rejected >= 3 && failed >= 8 && incomplete >= 1,
        "{rejected}/{failed}/{incomplete}"
    );
    // Only the incomplete ones were stored; 400s did not get a requestId.
    assert_eq!(s.ctl.toll_messages().len(), incomplete);
    assert_eq!(s.ctl.toll_submission_count(), failed + incomplete);

    // Bodies that are not JSON, and other media types.
    let (status, body) = a.post(T, "{not json").await;
    assert_eq!(status, 400);
    assert_eq!(body["validationErrors"][0]["field"], "requestBody");
    let response = s
        .http
        .post(s.sim.url(&format!("{SUBMIT}/{T}")))
        .bearer_auth(&a.token)
        .header("content-type", "text/plain")
        .body(example("valid-transport"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
}

#[tokio::test]
async fn processing_is_asynchronous_on_the_sim_clock() {
    let s = start_toll_with(Simulator::builder()).await; // default delay: 1 s
    assert_eq!(s.ctl.processing_delay(), Duration::from_secs(1));
    let a = api(&s, ROAD_A).await;
    s.ctl.set_processing_delay(Duration::from_secs(30));
    let (status, body) = a.post(M, &example("valid-master")).await;
    assert_eq!(status, 202);
    let id = body["requestId"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok());
    let (status, _) = a.status(M, id).await;
    assert_eq!(status, 404, "not processed yet");
    assert_eq!(
        s.ctl.toll_submissions()[0].status,
        SubmissionStatus::Pending
    );
    let (status, _) = a
        .get(&format!("{QUERY}/master-consignment/transport-document/status?documentNumber=CMR-2026-120001&type=N730"))
        .await;
    assert_eq!(status, 404, "no message before processing");
    // The result is for this kind only.
    assert_eq!(a.status(T, id).await.0, 404);
    s.ctl.advance_clock(time::Duration::seconds(31));
    let (status, result) = a.status(M, id).await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["status"], "SUCCESS");
    let date = result["notificationDate"].as_str().unwrap();
    assert!(
        date.starts_with("2026-12-01T08:00:3") && date.ends_with('Z'),
        "{date}"
    );

    // Admin API: delay in milliseconds.
    let response = s
        .http
        .put(s.sim.url("sim/toll/processing-delay"))
        .json(&json!({"millis": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let got: Value = s
        .http
        .get(s.sim.url("sim/toll/processing-delay"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got, json!({"millis": 0}));
    let result = a
        .submit(
            Method::POST,
            &format!("{SUBMIT}/{T}"),
            T,
            &example("valid-transport"),
        )
        .await;
    assert_eq!(result["status"], "SUCCESS");
}

#[tokio::test]
async fn put_replaces_a_message_but_not_its_keys() {
    let s = start_toll().await;
    let a = api(&s, ROAD_A).await;
    let transport = a.create(T, &example("valid-transport")).await;

    // The estimated arrival may change on PUT (estimated != scheduled is fine now).
    let mut body = example_json("valid-transport");
    body["estimatedDateAndTimeOfArrival"] = json!("2026-12-02T09:00:00Z");
    let result = a.update(T, &transport, &body.to_string()).await;
    assert_eq!(result["status"], "SUCCESS", "{result}");
    assert_eq!(result["mrn"], json!(transport));
    let stored = s.ctl.toll_message(&transport).unwrap();
    assert_eq!(
        stored.body["estimatedDateAndTimeOfArrival"],
        "2026-12-02T09:00:00Z"
    );

    // Keys may not.
    for (pointer, value, path) in [
        (
            "/activeBorderTransportMeans/identificationNumber",
            json!("XYZ999"),
            "activeBorderTransportMeans.identificationNumber",
        ),
        (
            "/activeBorderTransportMeans/typeOfIdentification",
            json!("31"),
            "activeBorderTransportMeans.typeOfIdentification",
        ),
        (
            "/scheduledDateAndTimeOfArrival",
            json!("2026-12-03T06:30:00Z"),
            "scheduledDateAndTimeOfArrival",
        ),
    ] {
        let mut changed = body.clone();
        *changed.pointer_mut(pointer).unwrap() = value;
        let result = a.update(T, &transport, &changed.to_string()).await;
        assert_eq!(result["status"], "FAILURE", "{path}: {result}");
        let error = &result["validationErrorList"][0];
        assert_eq!(error["pointer"]["messageElementPath"], path);
        assert!(
            error["description"]
                .as_str()
                .unwrap()
                .contains("cannot be changed"),
            "{error}"
        );
    }
    assert_eq!(
        s.ctl.toll_message(&transport).unwrap().body["activeBorderTransportMeans"]["identificationNumber"],
        "ABC123"
    );

    let master = a.create(M, &example("valid-master")).await;
    let mut changed = example_json("valid-master");
    changed["consignmentMasterLevel"]["carrier"]["identificationNumber"] = json!("912345670");
    let result = a.update(M, &master, &changed.to_string()).await;
    assert_eq!(result["status"], "FAILURE");
    assert_eq!(
        result["validationErrorList"][0]["pointer"]["messageElementPath"],
        "consignmentMasterLevel.carrier.identificationNumber"
    );
    let mut changed = example_json("valid-master");
    changed["consignmentMasterLevel"]["grossMass"] = json!(13000);
    assert_eq!(
        a.update(M, &master, &changed.to_string()).await["status"],
        "SUCCESS"
    );

    let house = a.create(H, &example("valid-house-voec")).await;
    let mut changed = example_json("valid-house-voec");
    changed["consignmentHouseLevel"]["transportDocumentHouseLevel"]["documentNumber"] =
        json!("HWB-OTHER");
    let result = a.update(H, &house, &changed.to_string()).await;
    assert_eq!(result["status"], "FAILURE");
    assert_eq!(
        result["validationErrorList"][0]["pointer"]["messageElementPath"],
        "consignmentHouseLevel.transportDocumentHouseLevel.documentNumber"
    );

    // Unknown MRN, wrong kind, and a sync-invalid body.
    let (status, _) = a
        .put(T, "26NOZZZZZZZZZZZZZZ", &example("valid-transport"))
        .await;
    assert_eq!(status, 404);
    let (status, _) = a.put(M, &transport, &example("valid-master")).await;
    assert_eq!(status, 404);
    let (status, body) = a
        .put(
            T,
            &transport,
            &example("invalid-transport-missing-carrier-and-plate"),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let updates = s
        .ctl
        .toll_submissions()
        .iter()
        .filter(|x| x.operation == SubmissionOperation::Update)
        .count();
    assert_eq!(updates, 7);
}

#[tokio::test]
async fn delete_removes_a_message_from_every_query() {
    let s = start_toll().await;
    let a = api(&s, ROAD_A).await;
    let mrns = submit_valid_examples(&a).await;
    let master = mrn_of(&mrns, "valid-master");
    let transport = mrn_of(&mrns, "valid-transport");

    let (status, body) = a.delete(M, master, "{}").await;
    assert_eq!(status, 400);
    assert_eq!(body["validationErrors"][0]["field"], "documentIssueDate");

    let result = a.remove(M, master, &example("valid-delete")).await;
    assert_eq!(result["status"], "SUCCESS", "{result}");
    assert_eq!(result["mrn"], json!(master));
    assert_eq!(
        s.ctl.toll_message(master).unwrap().state,
        MessageState::Deleted
    );
    let (status, _) = a
        .get(&format!(
            "{QUERY}/master-consignment/{master}/status-with-descendants"
        ))
        .await;
    assert_eq!(status, 404);
    let (status, _) = a
        .get(&format!("{QUERY}/master-consignment/transport-document/status?documentNumber=CMR-2026-120001&type=N730"))
        .await;
    assert_eq!(status, 404);
    // The transport still references it: it shows as not received, its houses stay.
    let (_, tree) = a
        .get(&format!(
            "{QUERY}/transport/{transport}/status-with-descendants"
        ))
        .await;
    assert_eq!(tree["masterConsignments"][0]["received"], false);
    assert_eq!(
        tree["masterConsignments"][0]["houseConsignments"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(tree["sumOfWeightForMasterConsignments"], json!(850.5));
    // Gone for PUT and DELETE too.
    assert_eq!(a.delete(M, master, &example("valid-delete")).await.0, 404);
    assert_eq!(a.put(M, master, &example("valid-master")).await.0, 404);
    // A new master with the same keys may now be submitted (no active duplicate).
    let again = a.create(M, &example("valid-master")).await;
    assert_ne!(again, master);

    // Deleting a transport.
    assert_eq!(
        a.remove(T, transport, &example("valid-delete")).await["status"],
        "SUCCESS"
    );
    assert_eq!(
        a.get(&format!("{QUERY}/entry/status/{transport}")).await.0,
        404
    );
}

#[tokio::test]
async fn duplicates_of_active_masters_and_houses_fail() {
    let s = start_toll().await;
    let a = api(&s, ROAD_A).await;
    a.create(M, &example("valid-master")).await;
    let result = a
        .submit(
            Method::POST,
            &format!("{SUBMIT}/{M}"),
            M,
            &example("valid-master"),
        )
        .await;
    assert_eq!(result["status"], "FAILURE");
    assert!(
        result["validationErrorList"][0]["description"]
            .as_str()
            .unwrap()
            .contains("Duplicate")
    );
    // Same document under another carrier is another master.
    let mut other = example_json("valid-master");
    other["consignmentMasterLevel"]["carrier"]["identificationNumber"] = json!("912345670");
    a.create(M, &other.to_string()).await;
    a.create(H, &example("valid-house-voec")).await;
    let result = a
        .submit(
            Method::POST,
            &format!("{SUBMIT}/{H}"),
            H,
            &example("valid-house-voec"),
        )
        .await;
    assert_eq!(result["status"], "FAILURE");
}

// ---------------------------------------------------------------- relations

#[tokio::test]
async fn relations_link_and_unlink_messages_by_mrn() {
    let s = start_toll().await;
    let a = api(&s, ROAD_A).await;
    let transport = a.create(T, &example("valid-transport")).await;
    let mut master = example_json("valid-master");
    master["consignmentMasterLevel"]["transportDocumentMasterLevel"]["documentNumber"] =
        json!("REL-2026-1");
    let master = a.create(M, &master.to_string()).await;
    let tree_masters = |tree: &Value| -> Vec<String> {
        tree["masterConsignments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["documentNumber"].as_str().unwrap().to_owned())
            .collect()
    };
    let tree_path = format!("{QUERY}/transport/{transport}/status-with-descendants");
    assert!(!tree_masters(&a.get(&tree_path).await.1).contains(&"REL-2026-1".to_owned()));

    // The example relation names MRNs that do not exist here.
    let result = a
        .submit(
            Method::POST,
            &format!("{SUBMIT}/relation"),
            "relation",
            &example("valid-relation"),
        )
        .await;
    assert_eq!(result["status"], "FAILURE");
    assert_eq!(
        result["validationErrorList"].as_array().unwrap().len(),
        2,
        "{result}"
    );

    let mut relation = example_json("valid-relation");
    relation["parentObjectReference"] = json!(transport);
    relation["childObjectReference"] = json!(master);
    let result = a
        .submit(
            Method::POST,
            &format!("{SUBMIT}/relation"),
            "relation",
            &relation.to_string(),
        )
        .await;
    assert_eq!(result["status"], "SUCCESS", "{result}");
    let relation_mrn = result["mrn"].as_str().unwrap().to_owned();
    assert!(Mrn::parse(&relation_mrn).is_ok());
    let (_, tree) = a.get(&tree_path).await;
    assert!(
        tree_masters(&tree).contains(&"REL-2026-1".to_owned()),
        "{tree}"
    );
    let linked = tree["masterConsignments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["documentNumber"] == "REL-2026-1")
        .unwrap();
    assert_eq!(linked["received"], true);
    assert_eq!(linked["mrn"], json!(master));

    // Wrong types fail.
    let mut wrong = relation.clone();
    wrong["childObjectType"] = json!("HOUSE_CONSIGNMENT");
    let result = a
        .submit(
            Method::POST,
            &format!("{SUBMIT}/relation"),
            "relation",
            &wrong.to_string(),
        )
        .await;
    assert_eq!(result["status"], "FAILURE");

    // Unlink.
    let (status, body) = a.delete("relation", &relation_mrn, "{}").await;
    assert_eq!(status, 400, "{body}");
    let result = a
        .remove(
            "relation",
            &relation_mrn,
            &json!({"documentIssueDate": "2026-12-01T09:00:00Z"}).to_string(),
        )
        .await;
    assert_eq!(result["status"], "SUCCESS");
    assert!(!tree_masters(&a.get(&tree_path).await.1).contains(&"REL-2026-1".to_owned()));
    // Relations have no PUT.
    assert_eq!(a.put("relation", &relation_mrn, "{}").await.0, 405);
}

// ---------------------------------------------------------------- visibility

#[tokio::test]
async fn organisations_only_see_their_own_or_represented_messages() {
    let s = start_toll().await;
    let a = api(&s, ROAD_A).await;
    let b = api(&s, ROAD_B).await;
    let rep = api(&s, ROAD_REP).await;
    let mrns = submit_valid_examples(&a).await;
    let master = mrn_of(&mrns, "valid-master").to_owned();
    let request_id = s
        .ctl
        .toll_submissions()
        .into_iter()
        .find(|x| x.mrn.as_deref() == Some(master.as_str()))
        .unwrap()
        .request_id;
    let transport = mrn_of(&mrns, "valid-transport");
    let postal_house = mrn_of(&mrns, "valid-house-postal-receptacle");

    // B sees nothing of A's.
    for path in [
        format!("{QUERY}/{M}/validation-status/{request_id}"),
        format!("{QUERY}/transport/{transport}/status-with-descendants"),
        format!("{QUERY}/transport/{transport}/master-consignment/transport-document/status"),
        format!("{QUERY}/master-consignment/{master}/status-with-descendants"),
        format!("{QUERY}/house-consignment/{postal_house}/transport-document/status"),
        format!(
            "{QUERY}/master-consignment/transport-document/status?documentNumber=CMR-2026-120001&type=N730"
        ),
        format!(
            "{QUERY}/house-consignment/postal-receptacle/SEMMAENOOSLAAUN30001001019999/transport-document/status"
        ),
        format!("{QUERY}/entry/status/{transport}"),
    ] {
        let (status, body) = b.get(&path).await;
        assert_eq!(status, 404, "{path}: {body}");
    }
    // ... and cannot change it.
    assert_eq!(b.put(M, &master, &example("valid-master")).await.0, 404);
    assert_eq!(b.delete(M, &master, &example("valid-delete")).await.0, 404);
    assert_eq!(
        b.delete(T, transport, &example("valid-delete")).await.0,
        404
    );
    // ... nor relate A's messages.
    let mut relation = example_json("valid-relation");
    relation["representative"] = json!(OTHER_ORG);
    relation["parentObjectReference"] = json!(transport);
    relation["childObjectReference"] = json!(master);
    let result = b
        .submit(
            Method::POST,
            &format!("{SUBMIT}/relation"),
            "relation",
            &relation.to_string(),
        )
        .await;
    assert_eq!(result["status"], "FAILURE", "{result}");
    assert!(
        s.ctl
            .toll_messages()
            .iter()
            .all(|m| m.state == MessageState::Active)
    );

    // The representative named in the messages (987654325) sees them ...
    let (status, _) = rep
        .get(&format!(
            "{QUERY}/master-consignment/{master}/status-with-descendants"
        ))
        .await;
    assert_eq!(status, 200);
    let (status, tree) = rep
        .get(&format!(
            "{QUERY}/transport/{transport}/status-with-descendants"
        ))
        .await;
    assert_eq!(status, 200);
    // ... and the whole tree under a visible root, including the postal items it is not named in.
    assert_eq!(
        tree["masterConsignments"][1]["houseConsignments"][0]["mrn"],
        json!(postal_house)
    );
    // The postal house names no representative: not visible on its own.
    let (status, _) = rep
        .get(&format!(
            "{QUERY}/house-consignment/{postal_house}/transport-document/status"
        ))
        .await;
    assert_eq!(status, 404);
    // But the validation status belongs to the submitter only.
    assert_eq!(rep.status(M, &request_id).await.0, 404);
    // The representative may update a message it is named in.
    let mut update = example_json("valid-master");
    update["consignmentMasterLevel"]["grossMass"] = json!(11000);
    assert_eq!(
        rep.update(M, &master, &update.to_string()).await["status"],
        "SUCCESS"
    );
}

// ---------------------------------------------------------------- trees, entry, cancellation

#[tokio::test]
async fn status_with_descendants_shows_masters_not_yet_received() {
    let s = start_toll().await;
    let a = api(&s, ROAD_A).await;
    let transport = a.create(T, &example("valid-transport")).await;
    // A house naming the master arrives before the master.
    a.create(H, &example("valid-house-import-cude")).await;
    let path = format!("{QUERY}/transport/{transport}/status-with-descendants");
    let (status, tree) = a.get(&path).await;
    assert_eq!(status, 200);
    let masters = tree["masterConsignments"].as_array().unwrap();
    assert_eq!(masters.len(), 2);
    assert_eq!(masters[0]["documentNumber"], "CMR-2026-120001");
    assert_eq!(masters[0]["received"], false);
    assert!(masters[0].get("mrn").is_none());
    assert_eq!(
        masters[0]["houseConsignments"][0]["documentNumber"],
        "HWB-2026-0001"
    );
    assert_eq!(masters[1]["received"], false);
    assert_eq!(tree["houseConsignments"][0]["received"], false);
    assert_eq!(tree["sumOfWeightForMasterConsignments"], json!(0));
    assert_eq!(tree["sumOfWeightForHouseConsignments"], json!(103.142));
    let (_, list) = a
        .get(&format!(
            "{QUERY}/transport/{transport}/master-consignment/transport-document/status"
        ))
        .await;
    assert_eq!(
        list[0],
        json!({"documentNumber": "CMR-2026-120001", "type": "N730", "received": false})
    );

    // A master with another carrier id does not link.
    let mut foreign = example_json("valid-master");
    foreign["consignmentMasterLevel"]["carrier"]["identificationNumber"] = json!("912345670");
    a.create(M, &foreign.to_string()).await;
    assert_eq!(
        a.get(&path).await.1["masterConsignments"][0]["received"],
        false
    );

    let master = a.create(M, &example("valid-master")).await;
    let (_, tree) = a.get(&path).await;
    assert_eq!(tree["masterConsignments"][0]["received"], true);
    assert_eq!(tree["masterConsignments"][0]["mrn"], json!(master));
    assert_eq!(tree["sumOfWeightForMasterConsignments"], json!(12000));
}

#[tokio::test]
async fn entry_becomes_valid_after_a_simulated_arrival() {
    let s = start_toll().await;
    let a = api(&s, ROAD_A).await;
    let transport = a.create(T, &example("valid-transport")).await;
    let path = format!("{QUERY}/entry/status/{transport}");
    let (status, entry) = a.get(&path).await;
    assert_eq!(status, 200);
    assert_eq!(entry, json!({"validEntry": false, "mrn": transport}));

    s.ctl.set_now(datetime!(2026-12-02 06:25:10 UTC));
    s.ctl.simulate_arrival(&transport, "NO371001");
    // The clock jumped past the Toll token's lifetime: exchange again.
    let a = api(&s, ROAD_A).await;
    let (_, entry) = a.get(&path).await;
    assert_eq!(entry["validEntry"], true);
    assert_eq!(entry["customsOfficeOfEntry"], "NO371001");
    assert_eq!(entry["mrn"], json!(transport));
    let time = entry["timeOfEntry"].as_str().unwrap();
    assert!(
        time.starts_with("2026-12-02T06:25:1") && time.ends_with('Z'),
        "{time}"
    );
    assert!(s.ctl.toll_message(&transport).unwrap().arrived);

    // Errors, in Rust and over the admin API.
    assert!(
        s.ctl
            .try_simulate_arrival("26NOZZZZZZZZZZZZZZ", "NO371001")
            .is_err()
    );
    assert!(s.ctl.try_simulate_arrival(&transport, "NO999999").is_err());
    let response = s
        .http
        .post(s.sim.url("sim/toll/arrivals"))
        .json(&json!({"mrn": "26NOZZZZZZZZZZZZZZ", "customs_office": "NO371001"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let other = {
        let mut t = example_json("valid-transport");
        t["activeBorderTransportMeans"]["identificationNumber"] = json!("DEF456");
        a.create(T, &t.to_string()).await
    };
    let response = s
        .http
        .post(s.sim.url("sim/toll/arrivals"))
        .json(&json!({"mrn": other, "customs_office": "NO372001"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let (_, entry) = a.get(&format!("{QUERY}/entry/status/{other}")).await;
    assert_eq!(entry["customsOfficeOfEntry"], "NO372001");
}

#[tokio::test]
async fn unarrived_transports_and_unlinked_consignments_are_cancelled() {
    let s = start_toll().await;
    let a = api(&s, ROAD_A).await;
    // Estimated arrival 2026-12-02T06:30:00Z.
    let transport = a.create(T, &example("valid-transport")).await;
    let mut arrived = example_json("valid-transport");
    arrived["activeBorderTransportMeans"]["identificationNumber"] = json!("DEF456");
    arrived["consignmentMasterLevel"] =
        json!([{"transportDocumentMasterLevel": {"documentNumber": "LINKED-1", "type": "N730"}}]);
    let arrived = a.create(T, &arrived.to_string()).await;
    s.ctl.simulate_arrival(&arrived, "NO371001");
    let mut unlinked = example_json("valid-master");
    unlinked["consignmentMasterLevel"]["transportDocumentMasterLevel"]["documentNumber"] =
        json!("LONELY-1");
    let unlinked = a.create(M, &unlinked.to_string()).await;
    let mut linked = example_json("valid-master");
    linked["consignmentMasterLevel"]["transportDocumentMasterLevel"]["documentNumber"] =
        json!("LINKED-1");
    let linked = a.create(M, &linked.to_string()).await;
    let entry = |mrn: &str| format!("{QUERY}/entry/status/{mrn}");

    s.ctl.set_now(datetime!(2026-12-05 06:29:00 UTC));
    let a = api(&s, ROAD_A).await;
    assert_eq!(a.get(&entry(&transport)).await.0, 200);
    s.ctl.set_now(datetime!(2026-12-05 06:31:00 UTC));
    let a = api(&s, ROAD_A).await;
    assert_eq!(a.get(&entry(&transport)).await.0, 404);
    let stored = s.ctl.toll_message(&transport).unwrap();
    assert_eq!(stored.state, MessageState::Cancelled);
    assert_eq!(stored.updated_at, datetime!(2026-12-05 06:30:00 UTC));
    // The arrived transport stays.
    assert_eq!(a.get(&entry(&arrived)).await.0, 200);

    let master_path =
        |mrn: &str| format!("{QUERY}/master-consignment/{mrn}/status-with-descendants");
    s.ctl.set_now(datetime!(2026-12-31 07:59:00 UTC));
    let a = api(&s, ROAD_A).await;
    assert_eq!(a.get(&master_path(&unlinked)).await.0, 200);
    s.ctl.set_now(datetime!(2026-12-31 08:01:00 UTC));
    let a = api(&s, ROAD_A).await;
    assert_eq!(a.get(&master_path(&unlinked)).await.0, 404);
    assert_eq!(
        s.ctl.toll_message(&unlinked).unwrap().state,
        MessageState::Cancelled
    );
    // Linked to an active transport: kept.
    assert_eq!(a.get(&master_path(&linked)).await.0, 200);
    assert_eq!(
        s.ctl.toll_message(&linked).unwrap().state,
        MessageState::Active
    );
}

// ---------------------------------------------------------------- faults

#[tokio::test]
async fn a_lost_post_response_still_stores_exactly_one_message() {
    let s = start_toll().await;
    let a = api(&s, ROAD_A).await;
    s.ctl.add_fault(
        Fault::drop_response(format!("/{SUBMIT}/{M}"))
            .method("POST")
            .times(1),
    );
    let sent = s
        .http
        .post(s.sim.url(&format!("{SUBMIT}/{M}")))
        .bearer_auth(&a.token)
        .header("content-type", "application/json")
        .body(example("valid-master"))
        .send()
        .await;
    assert!(sent.is_err(), "the response was dropped: {sent:?}");
    // The request was handled: a lookup finds the message.
    let (status, doc) = a
        .get(&format!("{QUERY}/master-consignment/transport-document/status?documentNumber=CMR-2026-120001&type=N730&carrierId=912345688"))
        .await;
    assert_eq!(status, 200, "{doc}");
    let mrn = doc["mrn"].as_str().unwrap();
    assert_eq!(s.ctl.toll_submission_count(), 1);
    let masters: Vec<_> = s
        .ctl
        .toll_messages()
        .into_iter()
        .filter(|m| m.kind == TollMessageKind::MasterConsignment)
        .collect();
    assert_eq!(masters.len(), 1);
    assert_eq!(masters[0].mrn, mrn);
    let recorded = s.ctl.requests();
    let post = recorded
        .iter()
        .find(|r| r.method == "POST" && r.path.ends_with("/master-consignment"))
        .unwrap();
    assert_eq!(post.faults.len(), 1);
    assert_eq!(
        post.body.json().unwrap()["consignmentMasterLevel"]["grossMass"],
        12000
    );
}

#[tokio::test]
async fn other_faults_apply_to_toll_routes() {
    let s = start_toll().await;
    let a = api(&s, ROAD_A).await;
    s.ctl
        .add_fault(Fault::status(format!("/{QUERY}"), 502).times(1));
    s.ctl.add_fault(Fault::outage("/api/access").times(1));
    assert_eq!(
        a.get(&format!("{QUERY}/entry/status/26NOZZZZZZZZZZZZZZ"))
            .await
            .0,
        502
    );
    assert_eq!(
        a.get(&format!("{QUERY}/entry/status/26NOZZZZZZZZZZZZZZ"))
            .await
            .0,
        404
    );
    let mp = mp_token(&s, ROAD_A, ROAD_SCOPE).await;
    assert_eq!(exchange(&s, &mp).await.0, 503);
    assert_eq!(exchange(&s, &mp).await.0, 200);
    // A dropped connection on POST stores nothing.
    s.ctl
        .add_fault(Fault::drop_connection(format!("/{SUBMIT}")).times(1));
    assert!(
        s.http
            .post(s.sim.url(&format!("{SUBMIT}/{M}")))
            .bearer_auth(&a.token)
            .body(example("valid-master"))
            .send()
            .await
            .is_err()
    );
    assert_eq!(s.ctl.toll_submission_count(), 0);
    // The Date header follows the sim clock on Toll routes too.
    let response = s
        .http
        .get(s.sim.url(&format!("{SUBMIT}/test-auth")))
        .bearer_auth(&a.token)
        .send()
        .await
        .unwrap();
    let date = response.headers()["date"].to_str().unwrap().to_owned();
    assert!(date.contains("01 Dec 2026"), "{date}");
}
