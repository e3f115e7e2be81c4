//! The air, rail and maritime movement APIs: the road implementation with the
//! per-mode rules of `digitoll_model::TransportMode::rules`.

use crate::support;

use digitoll_model::TransportMode;
use digitoll_sim::{ROAD_SCOPE, TollMessageKind};
use reqwest::Method;
use serde_json::{Value, json};
use support::toll::*;

const MODES: [TransportMode; 3] = [
    TransportMode::Air,
    TransportMode::Rail,
    TransportMode::Maritime,
];

fn submit_path(mode: TransportMode, kind: &str) -> String {
    format!("{}/{kind}", mode.submission_base().trim_start_matches('/'))
}

fn status_path(mode: TransportMode, kind: &str) -> String {
    format!(
        "{}/{kind}/validation-status",
        mode.query_base().trim_start_matches('/')
    )
}

fn edit(body: &str, f: impl FnOnce(&mut Value)) -> String {
    let mut v: Value = serde_json::from_str(body).unwrap();
    f(&mut v);
    v.to_string()
}

async fn create(api: &Api<'_>, mode: TransportMode, kind: &str, body: &str) -> String {
    let result = api
        .submit_at(&submit_path(mode, kind), &status_path(mode, kind), body)
        .await;
    assert_eq!(result["status"], "SUCCESS", "{mode} {kind}: {result}");
    result["mrn"].as_str().expect("mrn").to_owned()
}

#[tokio::test]
async fn each_mode_accepts_its_transport_and_answers_its_queries() {
    let s = start_all_apis().await;
    let api = api_all(&s, ALL_A).await;
    for mode in MODES {
        let base = mode.submission_base();
        let (status, _) = api
            .get(&format!("{}/test-auth", base.trim_start_matches('/')))
            .await;
        assert_eq!(status, 200, "{mode} test-auth");
        let mrn = create(
            &api,
            mode,
            "transport",
            &example_in(mode.path_segment(), "valid-transport"),
        )
        .await;
        let info = s.ctl.toll_message(&mrn).expect("stored");
        assert_eq!(info.mode, mode);
        assert_eq!(info.kind, TollMessageKind::Transport);
        let query = mode.query_base();
        let q = query.trim_start_matches('/');
        let (status, tree) = api
            .get(&format!("{q}/transport/{mrn}/status-with-descendants"))
            .await;
        assert_eq!(status, 200, "{tree}");
        let masters = tree["masterConsignments"].as_array().unwrap();
        assert_eq!(masters.len(), 1);
        assert_eq!(masters[0]["received"], false);
        let (status, entry) = api.get(&format!("{q}/entry/status/{mrn}")).await;
        assert_eq!(status, 200);
        assert_eq!(entry["validEntry"], false);
        // A message belongs to its mode's API: the road query does not see it.
        let (status, _) = api
            .get(&format!(
                "api/movement/road/status/v2/transport/{mrn}/status-with-descendants"
            ))
            .await;
        assert_eq!(status, 404, "{mode} MRN visible on the road API");
        let (status, _) = api
            .send(
                Method::PUT,
                &format!("api/movement/road/v2/transport/{mrn}"),
                Some(&example("valid-transport")),
            )
            .await;
        assert_eq!(status, 404);
    }
    let subs = s.ctl.toll_submissions();
    assert_eq!(subs.len(), 3);
    assert_eq!(
        subs.iter().map(|x| x.mode).collect::<Vec<_>>(),
        MODES.to_vec()
    );
}

#[tokio::test]
async fn masters_and_houses_link_in_the_air_api() {
    let s = start_all_apis().await;
    let api = api_all(&s, ALL_A).await;
    let mode = TransportMode::Air;
    let transport = create(
        &api,
        mode,
        "transport",
        &example_in("air", "valid-transport"),
    )
    .await;
    let master = edit(&example("valid-master"), |v| {
        v["consignmentMasterLevel"]["transportDocumentMasterLevel"] =
            json!({"documentNumber": "MAWB-117-12345675", "type": "N741"});
    });
    create(&api, mode, "master-consignment", &master).await;
    let house = edit(&example("valid-house-import-cude"), |v| {
        v["consignmentHouseLevel"]["consignmentMasterLevel"]["transportDocumentMasterLevel"] =
            json!({"documentNumber": "MAWB-117-12345675", "type": "N741"});
    });
    create(&api, mode, "house-consignment", &house).await;
    let (status, tree) = api
        .get(&format!(
            "api/movement/air/status/v1/transport/{transport}/status-with-descendants"
        ))
        .await;
    assert_eq!(status, 200);
    let m = &tree["masterConsignments"][0];
    assert_eq!(m["received"], true, "{tree}");
    assert_eq!(m["houseConsignments"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn air_rejects_missing_flight_number_and_operator_synchronously() {
    let s = start_all_apis().await;
    let api = api_all(&s, ALL_A).await;
    let (status, body) = api
        .post_to(
            &submit_path(TransportMode::Air, "transport"),
            &example_in("air", "invalid-transport-no-flight-number"),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let errors = body["validationErrors"].as_array().unwrap();
    assert!(errors.contains(&json!({
        "field": "activeBorderTransportMeans.conveyanceReferenceNumber",
        "error": "must not be blank"
    })));
    assert!(errors.contains(&json!({
        "field": "activeBorderTransportMeans.operator",
        "error": "must not be null"
    })));
    // The road example is fine on the road API, not on the air API.
    let (status, _) = api
        .post_to(
            &submit_path(TransportMode::Air, "transport"),
            &example("valid-transport"),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(s.ctl.toll_submission_count(), 0);
}

#[tokio::test]
async fn wrong_mode_of_transport_code_and_identification_type_fail_asynchronously() {
    let s = start_all_apis().await;
    let api = api_all(&s, ALL_A).await;
    for (mode, file, path, text) in [
        (
            TransportMode::Air,
            "invalid-transport-road-codes",
            "activeBorderTransportMeans.modeOfTransportCode",
            "Invalid code. Expected codes are one of [4]",
        ),
        (
            TransportMode::Rail,
            "invalid-transport-ship-identification",
            "activeBorderTransportMeans.typeOfIdentification",
            "Invalid code. Expected codes are one of [20, 21]",
        ),
        (
            TransportMode::Maritime,
            "invalid-transport-inland-waterway",
            "activeBorderTransportMeans.modeOfTransportCode",
            "Invalid code. Expected codes are one of [1]",
        ),
    ] {
        let result = api
            .submit_at(
                &submit_path(mode, "transport"),
                &status_path(mode, "transport"),
                &example_in(mode.path_segment(), file),
            )
            .await;
        assert_eq!(result["status"], "FAILURE", "{mode}: {result}");
        assert!(
            result["validationErrorList"]
                .as_array()
                .unwrap()
                .contains(&json!({"description": text, "pointer": {"messageElementPath": path}})),
            "{mode}: {result}"
        );
    }
}

#[tokio::test]
async fn the_flight_number_is_immutable_on_put() {
    let s = start_all_apis().await;
    let api = api_all(&s, ALL_A).await;
    let body = example_in("air", "valid-transport");
    let mrn = create(&api, TransportMode::Air, "transport", &body).await;
    let changed = edit(&body, |v| {
        v["activeBorderTransportMeans"]["conveyanceReferenceNumber"] = json!("SK4416");
    });
    let path = format!("{}/{mrn}", submit_path(TransportMode::Air, "transport"));
    let (status, accepted) = api.send(Method::PUT, &path, Some(&changed)).await;
    assert_eq!(status, 202, "{accepted}");
    let (_, result) = api
        .get(&format!(
            "{}/{}",
            status_path(TransportMode::Air, "transport"),
            accepted["requestId"].as_str().unwrap()
        ))
        .await;
    assert_eq!(result["status"], "FAILURE");
    assert_eq!(
        result["validationErrorList"][0]["pointer"]["messageElementPath"],
        "activeBorderTransportMeans.conveyanceReferenceNumber"
    );
    // Other fields may change.
    let ok = edit(&body, |v| {
        v["estimatedDateAndTimeOfArrival"] = json!("2026-12-02T07:10:00Z");
    });
    let (status, accepted) = api.send(Method::PUT, &path, Some(&ok)).await;
    assert_eq!(status, 202);
    let (_, result) = api
        .get(&format!(
            "{}/{}",
            status_path(TransportMode::Air, "transport"),
            accepted["requestId"].as_str().unwrap()
        ))
        .await;
    assert_eq!(result["status"], "SUCCESS", "{result}");
}

#[tokio::test]
async fn each_mode_needs_its_own_scope() {
    let s = start_all_apis().await;
    let road_only = api_with(&s, ALL_A, ROAD_SCOPE).await;
    for mode in MODES {
        let (status, body) = road_only
            .post_to(
                &submit_path(mode, "transport"),
                &example_in(mode.path_segment(), "valid-transport"),
            )
            .await;
        assert_eq!(status, 403, "{mode}");
        assert_eq!(
            body["error_description"],
            format!("requires scope {}", mode.scope())
        );
    }
    let air = api_with(&s, ALL_A, "toll:movement/air").await;
    let (status, _) = air.get("api/movement/rail/v1/test-auth").await;
    assert_eq!(status, 403);
    let (status, _) = air.get("api/movement/air/v1/test-auth").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn rail_needs_an_operator_and_air_refuses_eidr_exports() {
    let s = start_all_apis().await;
    let api = api_all(&s, ALL_A).await;
    let without_operator = |mode: TransportMode| {
        edit(&example_in(mode.path_segment(), "valid-transport"), |v| {
            v["activeBorderTransportMeans"]
                .as_object_mut()
                .unwrap()
                .remove("operator");
        })
    };
    // Rail: "identical to road and train" (mo-obligatorisk-2024-04): 400.
    let (status, body) = api
        .post_to(
            &submit_path(TransportMode::Rail, "transport"),
            &without_operator(TransportMode::Rail),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["validationErrors"],
        json!([{"field": "activeBorderTransportMeans.operator", "error": "must not be null"}])
    );
    // Maritime: only a warning by default, so Toll-like processing goes on.
    create(
        &api,
        TransportMode::Maritime,
        "transport",
        &without_operator(TransportMode::Maritime),
    )
    .await;
    // Air: EIDR_EXPORT is only on road's procedure page: FAILURE.
    let result = api
        .submit_at(
            &submit_path(TransportMode::Air, "house-consignment"),
            &status_path(TransportMode::Air, "house-consignment"),
            &example_in("air", "invalid-house-eidr-export"),
        )
        .await;
    assert_eq!(result["status"], "FAILURE", "{result}");
    assert_eq!(
        result["validationErrorList"][0]["pointer"]["messageElementPath"],
        "consignmentHouseLevel.exportFromEU[0].typeOfExport"
    );
}
