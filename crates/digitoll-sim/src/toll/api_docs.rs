//! `GET <base>/v3/api-docs` for every API base: our model's OpenAPI document
//! ([`digitoll_model::spec::openapi_document_for`] with the simulator's contract profile), where Toll's springdoc serves
//! its own (\[I\]: springdoc's default path; Toll's Swagger UI is the only
//! published source of its detailed models, `api/mo/sentrale-dataelementer-EN.html`).
//! Served without authentication, like a Swagger UI \[I\].

use std::sync::Arc;

use axum::routing::get;
use axum::{Json, Router};
use digitoll_model::ContractProfile;
use digitoll_model::spec::{API_DOCS_PATH, SpecApi, openapi_document_for};

use crate::state::SimState;

/// The documents follow `profile` (its `[endpoints]` paths), as the routes do.
pub(super) fn routes(profile: &ContractProfile) -> Router<Arc<SimState>> {
    let mut router = Router::new();
    for api in SpecApi::ALL {
        // Rendered once per API at start-up; the document is pure.
        let doc = Arc::new(openapi_document_for(api, profile));
        for base in api.bases() {
            let doc = Arc::clone(&doc);
            router = router.route(
                &format!("{base}{API_DOCS_PATH}"),
                get(move || {
                    let doc = Arc::clone(&doc);
                    async move { Json((*doc).clone()) }
                }),
            );
        }
    }
    router
}
