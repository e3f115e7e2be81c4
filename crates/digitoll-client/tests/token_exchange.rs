//! Toll token exchange: form, caching, renewal, single flight, 401 handling,
//! scope choice, secrecy. Maskinporten is the digitoll simulator with the
//! real `MaskinportenClient`; Toll is wiremock.

mod common;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use common::*;
use digitoll_client::{
    AuthStage, Error, MovementClient, TollEnvironment, TollTokenProvider, TransportMode,
};
use maskinporten::{Clock, ManualClock, TokenRequest};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, ResponseTemplate};

fn road_request() -> TokenRequest {
    TokenRequest::for_scopes(["toll:movement/road/v2"]).unwrap()
}

async fn mount_test_auth(s: &Setup) {
    Mock::given(method("GET"))
        .and(path(format!("{ROAD}/test-auth")))
        .respond_with(ResponseTemplate::new(200))
        .mount(&s.toll)
        .await;
}

fn jwt_claims(token: &str) -> serde_json::Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn exchange_sends_the_documented_form_and_caches_the_token() {
    let s = setup().await;
    mount_test_auth(&s).await;

    s.road.test_auth().await.unwrap();
    s.road.test_auth().await.unwrap();

    assert_eq!(
        s.exchange.calls(),
        1,
        "second call must use the cached Toll token"
    );
    let ex = received(&s.toll, "POST", EXCHANGE_PATH).await;
    let f = form(&ex[0]);
    assert_eq!(f[0], ("grant_type".into(), "token-exchange".into()));
    assert_eq!(f[1], ("subject_token_type".into(), "access_token".into()));
    assert_eq!(f[2].0, "subject_token");
    // The subject token is the Maskinporten JWT from the simulator, for the road scope.
    let claims = jwt_claims(&f[2].1);
    assert_eq!(claims["scope"], "toll:movement/road/v2");
    assert_eq!(claims["client_id"], digitoll_sim::DEMO_CLIENT_ID);
    assert_eq!(
        ex[0].headers.get("content-type").unwrap(),
        "application/x-www-form-urlencoded"
    );
    for r in received(&s.toll, "GET", &format!("{ROAD}/test-auth")).await {
        assert_eq!(auth_header(&r), "Bearer toll-1");
    }
    s.sim.shutdown().await;
}

#[tokio::test]
async fn token_is_renewed_ahead_of_expiry() {
    let sim = maskinporten_sim().await;
    let toll = wiremock::MockServer::start().await;
    let exchange = Arc::new(Exchange::new(120));
    Mock::given(method("POST"))
        .and(path(EXCHANGE_PATH))
        .respond_with(SharedExchange(exchange.clone()))
        .mount(&toll)
        .await;
    let clock = Arc::new(ManualClock::new());
    let tokens = TollTokenProvider::builder(
        mp_client(&sim),
        TollEnvironment::custom(&toll.uri()).unwrap(),
    )
    .clock(clock.clone())
    .build();
    let req = road_request();

    let t1 = tokens.token(&req).await.unwrap();
    assert_eq!(t1.secret(), "toll-1");
    assert_eq!(t1.lifetime(), Duration::from_secs(120));
    // 120 s lifetime: renewed 30 s early (a quarter), not 60 s.
    assert_eq!(t1.expires_at() - t1.renew_at(), Duration::from_secs(30));

    clock.advance(Duration::from_secs(89));
    assert!(tokens.token(&req).await.unwrap().same_token(&t1));
    assert_eq!(exchange.calls(), 1);

    clock.advance(Duration::from_secs(2)); // 91 s: inside the renewal window
    let t2 = tokens.token(&req).await.unwrap();
    assert_eq!(t2.secret(), "toll-2");
    assert_eq!(exchange.calls(), 2);
    assert!(clock.now() < t2.renew_at());
    sim.shutdown().await;
}

#[tokio::test]
async fn concurrent_callers_share_one_exchange_per_key() {
    let s = setup().await;
    let req = road_request();
    let other = TokenRequest::for_scopes(["toll:movement/air"]).unwrap();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let tokens = s.tokens.clone();
        let r = if i % 2 == 0 {
            req.clone()
        } else {
            other.clone()
        };
        tasks.push(tokio::spawn(async move { tokens.token(&r).await.unwrap() }));
    }
    let mut secrets = Vec::new();
    for t in tasks {
        secrets.push(t.await.unwrap().secret().to_owned());
    }
    assert_eq!(s.exchange.calls(), 2, "one exchange per scope");
    secrets.sort();
    secrets.dedup();
    assert_eq!(secrets.len(), 2);
    s.sim.shutdown().await;
}

#[tokio::test]
async fn api_401_invalidates_the_toll_token_and_retries_once() {
    let s = setup().await;
    Mock::given(method("GET"))
        .and(path(format!("{ROAD}/test-auth")))
        .and(header("authorization", "Bearer toll-1"))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            serde_json::json!({"error":"invalid_token","error_description":"expired"}),
        ))
        .mount(&s.toll)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{ROAD}/test-auth")))
        .and(header("authorization", "Bearer toll-2"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&s.toll)
        .await;

    s.road.test_auth().await.unwrap();
    assert_eq!(s.exchange.calls(), 2);
    assert_eq!(
        received(&s.toll, "GET", &format!("{ROAD}/test-auth"))
            .await
            .len(),
        2
    );
    s.sim.shutdown().await;
}

#[tokio::test]
async fn persistent_api_401_is_an_error_after_one_retry() {
    let s = setup().await;
    Mock::given(method("GET"))
        .and(path(format!("{ROAD}/test-auth")))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            serde_json::json!({"error":"invalid_token","error_description":"signature"}),
        ))
        .mount(&s.toll)
        .await;
    let err = s.road.test_auth().await.unwrap_err();
    match &err {
        Error::Unauthorized { stage, body, .. } => {
            assert_eq!(*stage, AuthStage::Api);
            assert_eq!(body.as_ref().unwrap().error, "invalid_token");
        }
        other => panic!("expected Unauthorized, got {other:?}"),
    }
    assert!(err.is_auth());
    assert_eq!(
        received(&s.toll, "GET", &format!("{ROAD}/test-auth"))
            .await
            .len(),
        2
    );
    assert_eq!(s.exchange.calls(), 2);
    s.sim.shutdown().await;
}

#[tokio::test]
async fn exchange_401_fetches_a_fresh_maskinporten_token_once() {
    let s = setup_with(
        Exchange {
            unauthorized: 1,
            ..Exchange::new(900)
        },
        |b| b,
    )
    .await;
    mount_test_auth(&s).await;
    s.road.test_auth().await.unwrap();
    assert_eq!(s.exchange.calls(), 2);
    let mp_posts = s
        .sim
        .control()
        .requests()
        .into_iter()
        .filter(|r| r.path == "/token")
        .count();
    assert_eq!(
        mp_posts, 2,
        "the rejected Maskinporten token was invalidated"
    );
    let ex = received(&s.toll, "POST", EXCHANGE_PATH).await;
    assert_ne!(form(&ex[0])[2].1, form(&ex[1])[2].1);
    s.sim.shutdown().await;
}

#[tokio::test]
async fn exchange_401_twice_is_unauthorized_at_the_exchange() {
    let s = setup_with(
        Exchange {
            unauthorized: 5,
            ..Exchange::new(900)
        },
        |b| b,
    )
    .await;
    let err = s.road.test_auth().await.unwrap_err();
    assert!(
        matches!(&err, Error::Unauthorized { stage: AuthStage::Exchange, body: Some(b), .. } if b.error == "invalid_token"),
        "{err:?}"
    );
    assert_eq!(s.exchange.calls(), 2);
    assert!(
        received(&s.toll, "GET", &format!("{ROAD}/test-auth"))
            .await
            .is_empty()
    );
    s.sim.shutdown().await;
}

#[tokio::test]
async fn maskinporten_errors_carry_the_mp_code_and_hint() {
    let sim = maskinporten_sim().await;
    let toll = wiremock::MockServer::start().await;
    let key = maskinporten::RsaKey::from_pkcs8_der(demo_key().pkcs8_der()).unwrap();
    let mp = maskinporten::MaskinportenClient::builder(
        maskinporten::Environment::custom(sim.issuer()),
        "no-such-client",
        Arc::new(maskinporten::RsaSigner::with_kid(key, "digitoll-demo")),
    )
    .retry_policy(maskinporten::RetryPolicy::none())
    .build()
    .unwrap();
    let road = MovementClient::road(tokens(&toll, Arc::new(mp))).unwrap();
    let err = road.test_auth().await.unwrap_err();
    assert!(matches!(err, Error::Maskinporten(_)), "{err:?}");
    assert_eq!(err.mp_code().map(|c| c.as_str()), Some("MP-100"));
    assert!(err.to_string().contains("MP-100"), "{err}");
    assert!(toll.received_requests().await.unwrap().is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn forbidden_names_the_scope() {
    let s = setup().await;
    Mock::given(method("GET"))
        .and(path(format!("{ROAD}/test-auth")))
        .respond_with(ResponseTemplate::new(403).set_body_json(serde_json::json!({
            "error": "insufficient_scope",
            "error_description": "requires scope toll:movement/road/v2"
        })))
        .mount(&s.toll)
        .await;
    let err = s.road.test_auth().await.unwrap_err();
    match &err {
        Error::Forbidden { scope, body, .. } => {
            assert_eq!(scope, "toll:movement/road/v2");
            assert_eq!(body.as_ref().unwrap().error, "insufficient_scope");
        }
        other => panic!("expected Forbidden, got {other:?}"),
    }
    assert_eq!(s.exchange.calls(), 1, "403 does not trigger a re-exchange");
    s.sim.shutdown().await;
}

#[tokio::test]
async fn scope_per_mode_and_for_foreign_businesses() {
    let s = setup().await;
    assert_eq!(s.road.token_request().scope(), "toll:movement/road/v2");
    let eu = MovementClient::builder(TransportMode::Road, s.tokens.clone())
        .foreign_business(true)
        .build()
        .unwrap();
    assert_eq!(eu.token_request().scope(), "toll:eu/movement/road/v2");
    let air = MovementClient::builder(TransportMode::Air, s.tokens.clone())
        .build()
        .unwrap();
    assert_eq!(air.token_request().scope(), "toll:movement/air");
    assert!(
        air.submission_base()
            .as_str()
            .ends_with("/api/movement/air/v1")
    );
    assert!(
        air.query_base()
            .as_str()
            .ends_with("/api/movement/air/status/v1")
    );
    s.sim.shutdown().await;
}

#[tokio::test]
async fn toll_token_debug_is_redacted() {
    let s = setup().await;
    let t = s.tokens.token(&road_request()).await.unwrap();
    let dbg = format!("{t:?} {:?}", s.tokens);
    assert!(!dbg.contains("toll-1"), "{dbg}");
    assert!(dbg.contains("REDACTED"));
    s.sim.shutdown().await;
}

#[tokio::test]
async fn exchange_is_retried_on_503_and_unreachable_hosts_are_not_sent() {
    let s = setup().await;
    // A dedicated provider against a server that answers 503 once.
    let toll = wiremock::MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(EXCHANGE_PATH))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&toll)
        .await;
    Mock::given(method("POST"))
        .and(path(EXCHANGE_PATH))
        .respond_with(SharedExchange(Arc::new(Exchange::new(900))))
        .mount(&toll)
        .await;
    let provider = tokens(&toll, mp_client(&s.sim));
    assert_eq!(
        provider.token(&road_request()).await.unwrap().secret(),
        "toll-1"
    );
    assert_eq!(received(&toll, "POST", EXCHANGE_PATH).await.len(), 2);

    // Nothing listens on this port: a connect error, reported as not sent.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dead = TollTokenProvider::builder(
        mp_client(&s.sim),
        TollEnvironment::custom(&format!("http://127.0.0.1:{port}")).unwrap(),
    )
    .retry(digitoll_client::RetryConfig {
        max_attempts: 2,
        ..fast_retry()
    })
    .build();
    let err = dead.token(&road_request()).await.unwrap_err();
    assert!(
        matches!(err, Error::Transport { not_sent: true, .. }),
        "{err:?}"
    );
    s.sim.shutdown().await;
}
