//! `GET <base>/v3/api-docs`: the simulator serves our model's OpenAPI document
//! for every API base, and it has no difference with the model's.

use crate::support;

use digitoll_model::spec::{API_DOCS_PATH, SpecApi, diff, openapi_document};
use serde_json::Value;
use support::*;

#[tokio::test]
async fn every_api_base_serves_the_models_document() {
    let s = start().await;
    let mut served = 0;
    for api in SpecApi::ALL {
        let ours = openapi_document(api);
        for base in api.bases() {
            let url = s
                .sim
                .url(&format!("{}{API_DOCS_PATH}", base.trim_start_matches('/')));
            let response = s.http.get(url.clone()).send().await.unwrap();
            assert_eq!(response.status(), 200, "{url}");
            let theirs: Value = response.json().await.unwrap();
            assert_eq!(theirs["openapi"], "3.1.0");
            assert_eq!(diff(&ours, &theirs), Vec::new(), "{url}");
            served += 1;
        }
    }
    // Four movement APIs with two bases each, and four single-base APIs.
    assert_eq!(served, 12);
}

#[tokio::test]
async fn the_document_follows_the_profiles_paths() {
    let profile = digitoll_model::ContractProfile::from_toml(
        "[endpoints]\n\"road.transport.create\" = \"/api/movement/road/v2/transports\"\n",
        "test.toml",
    )
    .unwrap();
    let s = start_with(digitoll_sim::Simulator::builder().profile(profile)).await;
    let url = s.sim.url("api/movement/road/v2/v3/api-docs");
    let doc: Value = s.http.get(url).send().await.unwrap().json().await.unwrap();
    assert!(doc["paths"]["/api/movement/road/v2/transports"]["post"].is_object());
    // Against the default document: the path moved, nothing else.
    let differences = diff(
        &openapi_document(SpecApi::Movement(digitoll_model::TransportMode::Road)),
        &doc,
    );
    let lines: Vec<String> = differences.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        vec![
            "paths./api/movement/road/v2/transport: Toll: no such path, model: used",
            "paths./api/movement/road/v2/transports: Toll: documented, model: not used",
        ]
    );
}
