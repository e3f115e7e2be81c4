//! The simulator behaving by a contract profile: paths moved by
//! `[endpoints]`, answers renamed by `[response_fields]`, `[simulator]`
//! statuses, `[maskinporten] accept_claims`; and the default profile's
//! fidelity (FAILURE 202, entry status on the arrival base, both forms of
//! the presentation validation status).

use crate::support;

use std::time::Duration;

use digitoll_model::{ContractProfile, TransportMode};
use digitoll_sim::Simulator;
use serde_json::{Value, json};
use support::toll::*;
use support::{Grant, keys, now, start_with, token_request};

const PRESENT: &str = "api/movement/presentation/v1";

fn profile(text: &str) -> ContractProfile {
    ContractProfile::from_toml(text, "test.toml").expect("profile parses")
}

fn builder(text: &str) -> digitoll_sim::SimulatorBuilder {
    Simulator::builder()
        .processing_delay(Duration::ZERO)
        .profile(profile(text))
}

/// A presentation of a house nobody submitted: FAILURE "Document not found".
fn unknown_house(id: &str) -> String {
    json!({
        "requestId": id,
        "customsOfficeOfPresentation": "NO371001",
        "consignmentHouseLevel": {"transportDocumentHouseLevel": {"documentNumber": "NOPE-1", "type": "N703"}}
    })
    .to_string()
}

#[tokio::test]
async fn a_profile_moves_a_path_renames_answer_fields_and_sets_the_failure_status() {
    let s = start_all_apis_with(builder(
        r#"
[endpoints]
"road.transport.create" = "/v9/transports"
"road.transport.validation-status" = "/v9/transports/status?id={requestId}"

[response_fields]
requestId = "reqId"
validationErrorList = "errors"

[simulator]
failure_status = 200
"#,
    ))
    .await;
    let a = api_all(&s, ALL_A).await;
    let transport = example("valid-transport");

    // The documented path is gone, the profile's path serves.
    let (status, _) = a.post_to(&format!("{SUBMIT}/transport"), &transport).await;
    assert_eq!(status, 404);
    let (status, accepted) = a.post_to("v9/transports", &transport).await;
    assert_eq!(status, 202, "{accepted}");
    assert!(accepted.get("requestId").is_none(), "{accepted}");
    let id = accepted["reqId"].as_str().expect("renamed requestId");
    let (status, result) = a.get(&format!("v9/transports/status?id={id}")).await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["status"], "SUCCESS");
    assert_eq!(result["reqId"], json!(id));

    // A FAILURE: renamed error list, and the profile's status (200, not 202).
    let presentation = "00000000-0000-0000-0000-0000000000f1";
    let (status, _) = a
        .post_to(
            &format!("{PRESENT}/house-consignment"),
            &unknown_house(presentation),
        )
        .await;
    assert_eq!(status, 202);
    let (status, result) = a
        .get(&format!(
            "{PRESENT}/validation-status?requestId={presentation}"
        ))
        .await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["status"], "FAILURE");
    assert_eq!(
        result["errors"][0]["description"], "Document not found",
        "{result}"
    );
    assert!(result.get("validationErrorList").is_none(), "{result}");
}

#[tokio::test]
async fn the_default_profile_answers_a_ready_failure_with_202_in_both_presentation_forms() {
    let s = start_all_apis().await;
    let a = api_all(&s, ALL_A).await;
    let id = "00000000-0000-0000-0000-0000000000f2";
    let (status, _) = a
        .post_to(&format!("{PRESENT}/house-consignment"), &unknown_house(id))
        .await;
    assert_eq!(status, 202);
    // The documented form (no segment; the id as a query parameter [I]) and
    // the movement APIs' path form answer the same.
    let (status, by_query) = a
        .get(&format!("{PRESENT}/validation-status?requestId={id}"))
        .await;
    assert_eq!(status, 202, "{by_query}");
    assert_eq!(by_query["status"], "FAILURE");
    let (status, by_path) = a.get(&format!("{PRESENT}/validation-status/{id}")).await;
    assert_eq!(status, 202);
    assert_eq!(by_path, by_query);
    // Without an id: 404 as for an unknown request.
    let (status, _) = a.get(&format!("{PRESENT}/validation-status")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn entry_status_is_served_on_the_arrival_base_for_every_mode() {
    let s = start_all_apis().await;
    let a = api_all(&s, ALL_A).await;
    let b = api_all(&s, ALL_B).await;
    for mode in TransportMode::ALL {
        let submit = mode.submission_base();
        let query = mode.query_base();
        let body = example_in(mode.path_segment(), "valid-transport");
        let result = a
            .submit_at(
                &format!("{}/transport", submit.trim_start_matches('/')),
                &format!(
                    "{}/transport/validation-status",
                    query.trim_start_matches('/')
                ),
                &body,
            )
            .await;
        assert_eq!(result["status"], "SUCCESS", "{mode}: {result}");
        let mrn = result["mrn"].as_str().unwrap().to_owned();
        let arrival = format!("api/movement/arrival/v1/entry/status/{mrn}");
        let (status, entry) = a.get(&arrival).await;
        assert_eq!(status, 200, "{mode}: {entry}");
        assert_eq!(entry["validEntry"], false);
        s.ctl.simulate_arrival(&mrn, "NO371001");
        let (status, entry) = a.get(&arrival).await;
        assert_eq!(status, 200);
        assert_eq!(entry["validEntry"], true, "{mode}: {entry}");
        assert_eq!(entry["mrn"], json!(mrn));
        // Still on the mode's query API, with the same answer.
        let (status, same) = a
            .get(&format!(
                "{}/entry/status/{mrn}",
                query.trim_start_matches('/')
            ))
            .await;
        assert_eq!(status, 200);
        assert_eq!(same, entry);
        // Another organisation does not see it.
        let (status, _) = b.get(&arrival).await;
        assert_eq!(status, 404, "{mode}");
    }
}

#[tokio::test]
async fn a_profile_whose_endpoints_collide_is_refused_at_start() {
    let err = Simulator::builder()
        .profile(profile(
            "[endpoints]\n\"road.master.create\" = \"/api/movement/road/v2/transport\"\n",
        ))
        .start()
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("road.transport.create") && text.contains("road.master.create"),
        "{text}"
    );
}

async fn grant_with_nbf(s: &support::Sim) -> (u16, Value) {
    let t = now();
    let grant = Grant::for_key_client(&s.sim.issuer())
        .claim("nbf", json!(t))
        .sign(&keys().client);
    token_request(s, &grant).await
}

#[tokio::test]
async fn maskinporten_accepts_nbf_only_when_the_profile_says_so() {
    let s = start_with(Simulator::builder()).await;
    let (status, body) = grant_with_nbf(&s).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("undocumented claim(s) nbf"),
        "{body}"
    );
    s.sim.shutdown().await;

    let s = start_with(
        Simulator::builder().profile(profile("[maskinporten]\naccept_claims = [\"nbf\"]\n")),
    )
    .await;
    let (status, body) = grant_with_nbf(&s).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["access_token"].is_string());
    // `sub` is still refused: only the listed claims are tolerated.
    let grant = Grant::for_key_client(&s.sim.issuer())
        .claim("sub", json!("x"))
        .sign(&keys().client);
    let (status, body) = token_request(&s, &grant).await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn every_catalogue_endpoint_is_served() {
    let s = start_with(Simulator::builder()).await;
    let p = ContractProfile::default();
    for e in digitoll_model::endpoints() {
        let params: Vec<(&str, &str)> = e
            .placeholders()
            .into_iter()
            .map(|name| (name, "X1"))
            .collect();
        let path = p.path(e.id, &params).unwrap();
        let method = reqwest::Method::from_bytes(e.method.as_bytes()).unwrap();
        let response = s
            .http
            .request(method, s.sim.url(&path))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let body = response.text().await.unwrap();
        assert!(
            !body.contains("no route for") && status != 405,
            "{} {} {path}: {status} {body}",
            e.id,
            e.method
        );
    }
}

#[tokio::test]
async fn rule_text_and_severity_from_the_profile_shape_the_simulators_answer() {
    let submit = |s: &'static str| async move {
        let sim = if s.is_empty() {
            start_all_apis().await
        } else {
            start_all_apis_with(builder(s)).await
        };
        let a = api_all(&sim, ALL_A).await;
        let result = a
            .submit(
                reqwest::Method::POST,
                &format!("{SUBMIT}/transport"),
                "transport",
                &example("invalid-transport-unknown-office-and-country"),
            )
            .await;
        sim.sim.shutdown().await;
        result
    };
    // Default: Toll's documented wording.
    let result = submit("").await;
    assert_eq!(result["status"], "FAILURE", "{result}");
    let text = result["validationErrorList"].to_string();
    assert!(text.contains("Must be a valid customs office"), "{text}");

    // The profile rewords the finding.
    let result = submit("[rule_text]\n\"codelist.cl141\" = \"Ugyldig tollsted\"\n").await;
    assert_eq!(result["status"], "FAILURE", "{result}");
    let text = result["validationErrorList"].to_string();
    assert!(text.contains("Ugyldig tollsted"), "{text}");
    assert!(!text.contains("Must be a valid customs office"), "{text}");

    // The profile switches the checks off (this example also has a bad
    // country): the transport is accepted.
    let result =
        submit("[rules]\n\"codelist.cl141\" = \"off\"\n\"codelist.country\" = \"off\"\n").await;
    assert_eq!(result["status"], "SUCCESS", "{result}");
}
