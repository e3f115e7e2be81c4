//! `GET <base>/v3/api-docs`: the simulator serves our model's OpenAPI document
//! for every API base, and it has no difference with the model's.

mod support;

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
