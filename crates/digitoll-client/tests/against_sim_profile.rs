//! The client and the simulator reading the same contract profile: a profile
//! that moves paths (a submission, a validation status, the presentation
//! validation status, the token exchange) works end to end because both sides
//! take their paths from it; the client alone with a moved path reaches
//! nothing.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use digitoll_client::{
    Error, MovementClient, PollConfig, PresentationClient, TollEnvironment, TollTokenProvider,
    TransportMode,
};
use digitoll_model::ContractProfile;
use digitoll_model::entry::{Presentation, PresentationKind};
use digitoll_model::road::{DocumentRef, Transport};
use digitoll_sim::{RunningSimulator, Simulator};

const PROFILE: &str = r#"
name = "moved paths"

[endpoints]
"token-exchange" = "/auth/exchange"
"road.transport.create" = "/v9/road/transports"
"road.transport.validation-status" = "/v9/road/status?requestId={requestId}"
"presentation.validation-status" = "/api/movement/presentation/v1/validation-status/{requestId}"
"#;

fn profile() -> Arc<ContractProfile> {
    Arc::new(ContractProfile::from_toml(PROFILE, "moved.toml").unwrap())
}

async fn sim(profile: Option<&ContractProfile>) -> RunningSimulator {
    let mut b = Simulator::builder()
        .demo_key(demo_key().clone())
        .processing_delay(Duration::from_millis(50));
    if let Some(p) = profile {
        b = b.profile(p.clone());
    }
    b.start().await.unwrap()
}

fn tokens(sim: &RunningSimulator, profile: Arc<ContractProfile>) -> TollTokenProvider {
    TollTokenProvider::builder(mp_client(sim), TollEnvironment::Custom(sim.base_url()))
        .retry(fast_retry())
        .profile(profile)
        .build()
}

fn poll() -> PollConfig {
    PollConfig {
        first_delay: Duration::from_millis(60),
        interval: Duration::from_millis(50),
        max_interval: Duration::from_millis(200),
        deadline: Duration::from_secs(5),
    }
}

fn paths(sim: &RunningSimulator, method: &str) -> Vec<String> {
    sim.control()
        .requests()
        .into_iter()
        .filter(|r| r.method == method)
        .map(|r| r.path)
        .collect()
}

#[tokio::test]
async fn client_and_simulator_with_the_same_profile_move_paths_together() {
    let profile = profile();
    let sim = sim(Some(&profile)).await;
    let tokens = tokens(&sim, profile.clone());
    assert_eq!(tokens.endpoint().path(), "/auth/exchange");
    let road = MovementClient::builder(TransportMode::Road, tokens.clone())
        .retry(fast_retry())
        .playground_rules(true)
        .poll(poll())
        .build()
        .unwrap();
    let t: Transport = json(VALID_TRANSPORT);
    let done = road.submit_and_wait_transport(&t).await.unwrap();
    assert_eq!(
        sim.control().toll_message(done.mrn.as_str()).unwrap().mrn,
        done.mrn.as_str()
    );
    let posts = paths(&sim, "POST");
    assert!(posts.contains(&"/auth/exchange".to_owned()), "{posts:?}");
    assert!(
        posts.contains(&"/v9/road/transports".to_owned()),
        "{posts:?}"
    );
    assert!(paths(&sim, "GET").contains(&"/v9/road/status".to_owned()));

    // Presentation with the path form of the validation status.
    let presentation = PresentationClient::builder(tokens)
        .retry(fast_retry())
        .poll(poll())
        .playground_rules(true)
        .build()
        .unwrap();
    let doc: DocumentRef =
        serde_json::from_value(serde_json::json!({"documentNumber": "NOPE-1", "type": "N703"}))
            .unwrap();
    let body = Presentation::house(
        &PresentationClient::new_request_id().to_string(),
        "NO371001",
        doc,
    );
    let rid = body.request_id.clone().unwrap();
    // Nobody submitted the house: a FAILURE, read through the moved path.
    match presentation
        .present_and_wait(PresentationKind::HouseConsignment, &body)
        .await
        .unwrap_err()
    {
        Error::RequestFailed { errors, .. } => {
            assert_eq!(errors[0].description, "Document not found")
        }
        other => panic!("{other:?}"),
    }
    let status_path = format!("/api/movement/presentation/v1/validation-status/{rid}");
    assert!(paths(&sim, "GET").contains(&status_path));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_client_whose_profile_moves_a_path_the_simulator_does_not_know_gets_404() {
    let sim = sim(None).await;
    let mut moved = ContractProfile::default();
    moved
        .set_endpoint("road.transport.create", "/v9/road/transports")
        .unwrap();
    // The default exchange path, so the token chain works.
    let road = MovementClient::builder(
        TransportMode::Road,
        tokens(&sim, Arc::new(ContractProfile::default())),
    )
    .retry(fast_retry())
    .playground_rules(true)
    .profile(Arc::new(moved))
    .build()
    .unwrap();
    let t: Transport = json(VALID_TRANSPORT);
    let err = road.submit_transport(&t).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::NotFound { .. } | Error::UnexpectedStatus { status: 404, .. }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("/v9/road/transports"), "{err}");
    assert!(paths(&sim, "POST").contains(&"/v9/road/transports".to_owned()));
    sim.shutdown().await;
}

#[tokio::test]
async fn local_validation_follows_the_profiles_rule_overrides() {
    let text =
        include_str!("../../../examples/road/invalid-transport-unknown-office-and-country.json");
    let t: Transport = json(text);
    let sim = sim(None).await;
    let strict = MovementClient::builder(
        TransportMode::Road,
        tokens(&sim, Arc::new(ContractProfile::default())),
    )
    .retry(fast_retry())
    .playground_rules(true)
    .build()
    .unwrap();
    // Refused locally: nothing reaches the simulator.
    let err = strict.submit_transport(&t).await.unwrap_err();
    assert!(
        err.to_string().contains("Must be a valid customs office"),
        "{err}"
    );
    assert!(!paths(&sim, "POST").contains(&"/api/movement/road/v2/transport".to_owned()));

    let relaxed = ContractProfile::from_toml(
        "[rules]\n\"codelist.cl141\" = \"warning\"\n\"codelist.country\" = \"warning\"\n",
        "relaxed.toml",
    )
    .unwrap();
    let client = MovementClient::builder(TransportMode::Road, tokens(&sim, Arc::new(relaxed)))
        .retry(fast_retry())
        .playground_rules(true)
        .build()
        .unwrap();
    client.submit_transport(&t).await.unwrap();
    assert!(paths(&sim, "POST").contains(&"/api/movement/road/v2/transport".to_owned()));
    sim.shutdown().await;
}
