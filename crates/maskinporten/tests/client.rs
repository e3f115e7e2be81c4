//! The client against a wiremock token endpoint on 127.0.0.1.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::*;
use maskinporten::{
    AuthorizedClient, Environment, Error, ManualClock, MaskinportenClient, MpCode, RetryPolicy,
    RsaSigner, TokenProvider, TokenRequest,
};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
        max_elapsed: Duration::from_secs(10),
    }
}

fn builder(server: &MockServer) -> maskinporten::ClientBuilder {
    MaskinportenClient::builder(
        Environment::custom(format!("{}/", server.uri())),
        "client-1",
        Arc::new(RsaSigner::with_kid(shared_key().clone(), "kid-1")),
    )
    .retry_policy(fast_retries())
}

fn req() -> TokenRequest {
    TokenRequest::for_scopes(["toll:test"]).unwrap()
}

/// Responds with `f(n, request)` where n counts calls from 0.
struct Seq<F>(AtomicUsize, F);
impl<F: Fn(usize, &Request) -> ResponseTemplate + Send + Sync> Respond for Seq<F> {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let n = self.0.fetch_add(1, Ordering::SeqCst);
        (self.1)(n, request)
    }
}
fn seq<F: Fn(usize, &Request) -> ResponseTemplate + Send + Sync>(f: F) -> Seq<F> {
    Seq(AtomicUsize::new(0), f)
}

async fn token_requests(server: &MockServer) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == "/token")
        .collect()
}

async fn wait_for(mut cond: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while !cond().await {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "condition not met in 10 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn fetches_once_then_serves_from_cache() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(token_ok("tok-1", 120))
        .expect(1)
        .mount(&server)
        .await;
    let client = builder(&server).build().unwrap();
    let a = client.token(&req()).await.unwrap();
    let b = client.token(&req()).await.unwrap();
    assert_eq!(a.secret(), "tok-1");
    assert!(a.same_token(&b));
    assert_eq!(a.scopes(), ["toll:test"]);
    assert!(client.cached(&req()).is_some());
    let recorded = token_requests(&server).await;
    assert_eq!(
        grant_type_of(&recorded[0].body),
        "urn:ietf:params:oauth:grant-type:jwt-bearer"
    );
    let assertion = assertion_of(&recorded[0].body);
    let (hdr, claims) = verify_grant(
        &assertion,
        shared_key(),
        jsonwebtoken::Algorithm::RS256,
        client.issuer(),
    );
    assert_eq!(hdr.kid.as_deref(), Some("kid-1"));
    assert_eq!(claims["aud"], format!("{}/", server.uri()));
    assert_eq!(claims["iss"], "client-1");
    let stats = client.stats();
    assert_eq!((stats.fetches, stats.misses, stats.entries), (1, 1, 1));
    assert!(stats.hits >= 2);
    assert!(!format!("{a:?} {client:?}").contains("tok-1"));
}

#[tokio::test]
async fn transient_errors_are_retried_with_a_new_jti_each_time() {
    let server = MockServer::start().await;
    Mock::given(path("/token"))
        .respond_with(seq(|n, _| match n {
            0 => ResponseTemplate::new(503).set_body_string("<html>down</html>"),
            1 => ResponseTemplate::new(500)
                .set_body_json(serde_json::json!({"error": "server_error"})),
            _ => token_ok("tok", 120),
        }))
        .mount(&server)
        .await;
    let client = builder(&server).build().unwrap();
    assert_eq!(client.token(&req()).await.unwrap().secret(), "tok");
    let jtis: std::collections::HashSet<String> = token_requests(&server)
        .await
        .iter()
        .map(|r| {
            grant_claims(&assertion_of(&r.body))["jti"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(jtis.len(), 3, "three attempts, three different jti");
}

#[tokio::test]
async fn network_errors_are_retried_then_reported() {
    // A port with nothing listening: connection refused on every attempt.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let client = MaskinportenClient::builder(
        Environment::custom(format!("http://127.0.0.1:{port}/")),
        "c",
        Arc::new(RsaSigner::with_kid(shared_key().clone(), "k")),
    )
    .retry_policy(fast_retries())
    .build()
    .unwrap();
    let err = client.token(&req()).await.unwrap_err();
    match &err {
        Error::RetriesExhausted { attempts, last, .. } => {
            assert_eq!(*attempts, 4);
            assert!(matches!(**last, Error::Http { .. }));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(client.stats().fetches, 4);
}

#[tokio::test]
async fn configuration_errors_are_not_retried_and_carry_hints() {
    let server = MockServer::start().await;
    Mock::given(path("/token"))
        .respond_with(mp_error(
            400,
            "invalid_grant",
            "Invalid assertion. Client authentication failed.",
            "MP-100",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let client = builder(&server).build().unwrap();
    let err = client.token(&req()).await.unwrap_err();
    assert_eq!(err.mp_code(), Some(&MpCode::Mp100));
    let mp = err.maskinporten().unwrap();
    assert_eq!(mp.trace_id.as_deref(), Some("abc123def"));
    assert!(mp.hint().unwrap().contains("client id"));
    assert!(err.to_string().contains("Hint:"));
    assert_eq!(client.stats().errors, 1);
}

#[tokio::test]
async fn honours_retry_after_on_429() {
    let server = MockServer::start().await;
    Mock::given(path("/token"))
        .respond_with(seq(|n, _| match n {
            0 => ResponseTemplate::new(429).insert_header("Retry-After", "1"),
            _ => token_ok("tok", 120),
        }))
        .mount(&server)
        .await;
    let client = builder(&server).build().unwrap();
    let start = Instant::now();
    client.token(&req()).await.unwrap();
    assert!(
        start.elapsed() >= Duration::from_millis(950),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(token_requests(&server).await.len(), 2);
}

#[tokio::test]
async fn retry_after_beyond_the_time_budget_gives_up() {
    let server = MockServer::start().await;
    Mock::given(path("/token"))
        .respond_with(ResponseTemplate::new(503).insert_header("Retry-After", "3600"))
        .expect(1)
        .mount(&server)
        .await;
    let client = builder(&server).build().unwrap();
    let err = client.token(&req()).await.unwrap_err();
    assert!(
        matches!(err, Error::RetriesExhausted { attempts: 1, .. }),
        "{err:?}"
    );
}

/// A token endpoint that judges `iat` against its own clock (the real one),
/// as Maskinporten does, with ±10 s tolerance.
fn strict_time_endpoint() -> impl Respond {
    seq(|_, r: &Request| {
        let claims = grant_claims(&assertion_of(&r.body));
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let iat = claims["iat"].as_i64().unwrap();
        let date = httpdate::fmt_http_date(std::time::SystemTime::now());
        if (iat - now).abs() > 10 {
            mp_error(
                400,
                "invalid_grant",
                "Invalid assertion. JWT is expired",
                "MP-130",
            )
            .insert_header("Date", date.as_str())
        } else {
            token_ok("tok", 120).insert_header("Date", date.as_str())
        }
    })
}

#[tokio::test]
async fn clock_30_seconds_off_is_corrected_from_the_date_header() {
    for skew in [-30i64, 30] {
        let server = MockServer::start().await;
        Mock::given(path("/token"))
            .respond_with(strict_time_endpoint())
            .mount(&server)
            .await;
        let clock = Arc::new(ManualClock::new());
        clock.set_wall_skew(time::Duration::seconds(skew));
        let client = builder(&server)
            .clock(clock)
            .retry_policy(RetryPolicy::none())
            .build()
            .unwrap();
        // First grant is rejected (MP-130), the response's Date teaches the offset,
        // and the immediate retry with the corrected clock succeeds.
        assert_eq!(client.token(&req()).await.unwrap().secret(), "tok");
        let offset = client.clock_offset().unwrap().whole_seconds();
        assert!(
            (offset + skew).abs() <= 2,
            "offset {offset} for skew {skew}"
        );
        let reqs = token_requests(&server).await;
        assert_eq!(reqs.len(), 2);
        // Later grants are corrected up front.
        client.fetch(&req()).await.unwrap();
        assert_eq!(token_requests(&server).await.len(), 3);
    }
}

#[tokio::test]
async fn time_error_without_new_offset_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(path("/token"))
        .respond_with(mp_error(400, "invalid_grant", "JWT is expired", "MP-130"))
        .expect(1)
        .mount(&server)
        .await;
    let client = builder(&server).build().unwrap();
    let err = client.token(&req()).await.unwrap_err();
    assert_eq!(err.mp_code(), Some(&MpCode::Mp130));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_concurrent_callers_cause_one_fetch() {
    let server = MockServer::start().await;
    Mock::given(path("/token"))
        .respond_with(token_ok("tok", 120).set_delay(Duration::from_millis(300)))
        .expect(1)
        .mount(&server)
        .await;
    let client = builder(&server).build().unwrap();
    let other = TokenRequest::for_scopes(["toll:other"]).unwrap();
    let mut tasks = Vec::new();
    for _ in 0..1000 {
        let c = client.clone();
        tasks.push(tokio::spawn(async move {
            c.token(&req()).await.map(|t| t.secret().to_owned())
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), "tok");
    }
    assert_eq!(token_requests(&server).await.len(), 1);
    assert_eq!(client.stats().fetches, 1);
    // A different key is fetched on its own.
    server.reset().await;
    Mock::given(path("/token"))
        .respond_with(token_ok("other", 120))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(client.token(&other).await.unwrap().secret(), "other");
}

#[tokio::test]
async fn refresh_ahead_serves_old_token_and_refreshes_once() {
    let server = MockServer::start().await;
    Mock::given(path("/token"))
        .respond_with(seq(|n, _| {
            let r = token_ok(&format!("tok-{n}"), 100);
            if n == 0 {
                r
            } else {
                r.set_delay(Duration::from_millis(200))
            }
        }))
        .mount(&server)
        .await;
    let clock = Arc::new(ManualClock::new());
    let client = builder(&server).clock(clock.clone()).build().unwrap();
    assert_eq!(client.token(&req()).await.unwrap().secret(), "tok-0");
    // Lifetime 100 s: refresh margin max(30 s, 20 s) = 30 s, so refresh from 70 s.
    clock.advance(Duration::from_secs(69));
    assert_eq!(client.token(&req()).await.unwrap().secret(), "tok-0");
    assert_eq!(token_requests(&server).await.len(), 1);
    clock.advance(Duration::from_secs(6));
    let mut calls = Vec::new();
    for _ in 0..50 {
        let c = client.clone();
        calls.push(tokio::spawn(async move {
            c.token(&req()).await.unwrap().secret().to_owned()
        }));
    }
    for c in calls {
        assert_eq!(
            c.await.unwrap(),
            "tok-0",
            "the still-valid token is served during the refresh"
        );
    }
    wait_for(async || client.cached(&req()).is_some_and(|t| t.secret() == "tok-1")).await;
    assert_eq!(
        token_requests(&server).await.len(),
        2,
        "exactly one background refresh"
    );
    assert_eq!(client.stats().refreshes, 1);
    assert!(client.stats().stale_hits >= 50);
}

#[tokio::test]
async fn failed_refresh_keeps_serving_the_valid_token() {
    let server = MockServer::start().await;
    Mock::given(path("/token"))
        .respond_with(seq(|n, _| match n {
            0 => token_ok("tok-0", 100),
            _ => ResponseTemplate::new(503),
        }))
        .mount(&server)
        .await;
    let clock = Arc::new(ManualClock::new());
    let client = builder(&server)
        .clock(clock.clone())
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    client.token(&req()).await.unwrap();
    clock.advance(Duration::from_secs(80));
    assert_eq!(client.token(&req()).await.unwrap().secret(), "tok-0");
    wait_for(async || client.stats().refresh_failures == 1).await;
    for _ in 0..10 {
        assert_eq!(client.token(&req()).await.unwrap().secret(), "tok-0");
    }
    // The failed refresh is not retried on every call (it backs off).
    assert_eq!(token_requests(&server).await.len(), 2);
    // Past expiry (100 s minus the 5 s safety) the token is no longer handed out.
    clock.advance(Duration::from_secs(16));
    let err = client.token(&req()).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::RetriesExhausted { .. } | Error::UnexpectedStatus { status: 503, .. }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn unauthorized_invalidates_only_the_failed_token_and_retries_once() {
    let server = MockServer::start().await;
    Mock::given(path("/token"))
        .respond_with(seq(|n, _| token_ok(&format!("tok-{n}"), 120)))
        .mount(&server)
        .await;
    Mock::given(path("/api"))
        .and(header("authorization", "Bearer tok-0"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    Mock::given(path("/api"))
        .and(header("authorization", "Bearer tok-1"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&server)
        .await;
    let client = builder(&server).build().unwrap();
    let provider: Arc<dyn TokenProvider> = Arc::new(client.clone());
    let api = AuthorizedClient::new(reqwest::Client::new(), provider, req());
    let resp = api
        .send(
            api.http()
                .post(format!("{}/api", server.uri()))
                .body("payload"),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(token_requests(&server).await.len(), 2);
    let api_calls: Vec<_> = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == "/api")
        .collect();
    assert_eq!(api_calls.len(), 2);
    assert_eq!(api_calls[1].body, b"payload");

    // An old token no longer in the cache is not invalidated (keeps the newer one).
    let current = client.cached(&req()).unwrap();
    assert_eq!(current.secret(), "tok-1");
    let stale = client.fetch(&req()).await.unwrap();
    assert!(!client.invalidate(&req(), &stale));
    assert!(client.cached(&req()).unwrap().same_token(&current));
    assert!(client.invalidate(&req(), &current));
    assert!(client.cached(&req()).is_none());
}

#[tokio::test]
async fn unauthorized_with_streaming_body_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(path("/token"))
        .respond_with(token_ok("tok", 120))
        .mount(&server)
        .await;
    Mock::given(path("/api"))
        .respond_with(ResponseTemplate::new(401))
        .expect(1)
        .mount(&server)
        .await;
    let client = builder(&server).build().unwrap();
    let api = AuthorizedClient::new(reqwest::Client::new(), Arc::new(client), req());
    let stream = futures::stream::iter(vec![Ok::<_, std::io::Error>(b"chunk".to_vec())]);
    let resp = api
        .send(
            api.http()
                .post(format!("{}/api", server.uri()))
                .body(reqwest::Body::wrap_stream(stream)),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn discovery_checks_the_issuer() {
    let server = MockServer::start().await;
    let issuer = format!("{}/", server.uri());
    Mock::given(path("/.well-known/oauth-authorization-server"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "issuer": issuer,
            "token_endpoint": format!("{}/oauth/token", server.uri()),
            "token_endpoint_auth_signing_alg_values_supported": ["RS256", "RS384", "RS512"],
        })))
        .mount(&server)
        .await;
    Mock::given(path("/oauth/token"))
        .respond_with(token_ok("tok", 120))
        .mount(&server)
        .await;
    let client = builder(&server).build_with_discovery().await.unwrap();
    assert_eq!(client.token_endpoint().path(), "/oauth/token");
    assert_eq!(client.token(&req()).await.unwrap().secret(), "tok");

    let wrong = MaskinportenClient::builder(
        Environment::custom(server.uri()), // no trailing slash: not the announced issuer
        "c",
        Arc::new(RsaSigner::with_kid(shared_key().clone(), "k")),
    )
    .build_with_discovery()
    .await
    .unwrap_err();
    assert!(matches!(wrong, Error::Discovery { .. }), "{wrong:?}");
    assert!(wrong.to_string().contains("does not match"));
}

#[tokio::test]
async fn cache_is_bounded() {
    let server = MockServer::start().await;
    Mock::given(path("/token"))
        .respond_with(token_ok("tok", 120))
        .mount(&server)
        .await;
    let client = builder(&server).cache_capacity(3).build().unwrap();
    for i in 0..10 {
        client
            .token(&TokenRequest::for_scopes([format!("s{i}")]).unwrap())
            .await
            .unwrap();
    }
    assert_eq!(client.stats().entries, 3);
    // The most recent keys survive.
    assert!(
        client
            .cached(&TokenRequest::for_scopes(["s9"]).unwrap())
            .is_some()
    );
    assert!(
        client
            .cached(&TokenRequest::for_scopes(["s0"]).unwrap())
            .is_none()
    );
}

#[tokio::test]
async fn unparsable_success_body_is_kept_but_redacted() {
    let server = MockServer::start().await;
    Mock::given(path("/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(r#"{"access_token":"leak-me","expires_in":"soon"}"#),
        )
        .mount(&server)
        .await;
    let client = builder(&server).build().unwrap();
    let err = client.token(&req()).await.unwrap_err();
    let Error::InvalidResponse { body, reason, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(body.text().contains("leak-me"));
    assert!(reason.contains("expires_in"), "{reason}");
    assert!(!format!("{err:?} {err}").contains("leak-me"));
}
