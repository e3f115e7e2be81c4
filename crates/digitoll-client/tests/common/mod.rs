//! Shared test set-up: a Maskinporten simulator (digitoll-sim) with the demo
//! client, a wiremock Toll, and fast client timings.
#![allow(dead_code, unreachable_pub)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use digitoll_client::{
    MovementClient, MovementClientBuilder, PollConfig, ReconcileConfig, RetryConfig,
    TollEnvironment, TollTokenProvider, TransportMode,
};
use digitoll_sim::{DEMO_CLIENT_ID, DEMO_KID, RsaPrivateKey, RunningSimulator, Simulator};
use maskinporten::{Environment, MaskinportenClient, RsaKey, RsaSigner, TokenProvider};
use wiremock::{MockServer, Request, Respond, ResponseTemplate};

pub const EXCHANGE_PATH: &str = "/api/access/external/oauth/token";
pub const ROAD: &str = "/api/movement/road/v2";
pub const QUERY: &str = "/api/movement/road/status/v2";
pub const MRN_T: &str = "26NOTRANSPORT00001";
pub const MRN_M: &str = "26NOMASTER00000001";
pub const MRN_H: &str = "26NOHOUSE000000001";
pub const RID: &str = "fa90bb2d-1c2e-4f5a-9b7d-0123456789ab";

pub const VALID_TRANSPORT: &str = include_str!("../../../../examples/road/valid-transport.json");
pub const VALID_MASTER: &str = include_str!("../../../../examples/road/valid-master.json");
pub const VALID_HOUSE: &str =
    include_str!("../../../../examples/road/valid-house-import-cude.json");
pub const INVALID_TRANSPORT_SYNC: &str =
    include_str!("../../../../examples/road/invalid-transport-missing-carrier-and-plate.json");
pub const INVALID_TRANSPORT_BUSINESS: &str =
    include_str!("../../../../examples/road/invalid-transport-unknown-office-and-country.json");

/// One demo key per test binary (RSA generation is the slow part).
pub fn demo_key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| RsaPrivateKey::generate().unwrap())
}

/// A Maskinporten simulator with the demo organisation and clients.
pub async fn maskinporten_sim() -> RunningSimulator {
    Simulator::builder()
        .demo_key(demo_key().clone())
        .start()
        .await
        .unwrap()
}

/// The real Maskinporten client for the sim's demo client.
pub fn mp_client(sim: &RunningSimulator) -> Arc<dyn TokenProvider> {
    let key = RsaKey::from_pkcs8_der(demo_key().pkcs8_der()).unwrap();
    Arc::new(
        MaskinportenClient::builder(
            Environment::custom(sim.issuer()),
            DEMO_CLIENT_ID,
            Arc::new(RsaSigner::with_kid(key, DEMO_KID)),
        )
        .retry_policy(maskinporten::RetryPolicy::none())
        .build()
        .unwrap(),
    )
}

pub fn fast_retry() -> RetryConfig {
    RetryConfig {
        max_attempts: 4,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
        max_elapsed: Duration::from_secs(10),
        max_retry_after: Duration::from_secs(5),
    }
}

pub fn fast_poll() -> PollConfig {
    PollConfig {
        first_delay: Duration::from_millis(20),
        interval: Duration::from_millis(20),
        max_interval: Duration::from_millis(60),
        deadline: Duration::from_millis(600),
    }
}

pub fn tokens(toll: &MockServer, mp: Arc<dyn TokenProvider>) -> TollTokenProvider {
    TollTokenProvider::builder(mp, TollEnvironment::custom(&toll.uri()).unwrap())
        .retry(fast_retry())
        .build()
}

pub fn road_builder(tokens: TollTokenProvider) -> MovementClientBuilder {
    MovementClient::builder(TransportMode::Road, tokens)
        .retry(fast_retry())
        .poll(fast_poll())
        .reconcile(ReconcileConfig {
            lookups: 2,
            delay: Duration::from_millis(20),
        })
        .timeout(Duration::from_secs(5))
}

/// Everything a wiremock test needs.
pub struct Setup {
    pub sim: RunningSimulator,
    pub toll: MockServer,
    pub exchange: Arc<Exchange>,
    pub tokens: TollTokenProvider,
    pub road: MovementClient,
}

/// Sim + wiremock Toll with a counting exchange (`toll-1`, `toll-2`, …).
pub async fn setup() -> Setup {
    setup_with(Exchange::new(900), |b| b).await
}

pub async fn setup_with(
    exchange: Exchange,
    f: impl FnOnce(MovementClientBuilder) -> MovementClientBuilder,
) -> Setup {
    let sim = maskinporten_sim().await;
    let toll = MockServer::start().await;
    let exchange = Arc::new(exchange);
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .and(wiremock::matchers::path(EXCHANGE_PATH))
        .respond_with(SharedExchange(exchange.clone()))
        .mount(&toll)
        .await;
    let tokens = tokens(&toll, mp_client(&sim));
    let road = f(road_builder(tokens.clone())).build().unwrap();
    Setup {
        sim,
        toll,
        exchange,
        tokens,
        road,
    }
}

/// A token-exchange responder: answers 401 for the first `unauthorized`
/// calls, then `toll-<n>` tokens with `expires_in`.
pub struct Exchange {
    pub calls: AtomicUsize,
    pub issued: AtomicUsize,
    pub expires_in: u64,
    pub unauthorized: usize,
}

impl Exchange {
    pub fn new(expires_in: u64) -> Self {
        Self {
            calls: AtomicUsize::new(0),
            issued: AtomicUsize::new(0),
            expires_in,
            unauthorized: 0,
        }
    }
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

pub struct SharedExchange(pub Arc<Exchange>);

impl Respond for SharedExchange {
    fn respond(&self, _req: &Request) -> ResponseTemplate {
        let n = self.0.calls.fetch_add(1, Ordering::SeqCst);
        if n < self.0.unauthorized {
            return ResponseTemplate::new(401).set_body_json(serde_json::json!({
                "error": "invalid_token", "error_description": "token expired"
            }));
        }
        let i = self.0.issued.fetch_add(1, Ordering::SeqCst) + 1;
        ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "issued_token_type": "access_token",
            "access_token": format!("toll-{i}"),
            "token_type": "Bearer",
            "expires_in": self.0.expires_in,
        }))
    }
}

/// Requests the wiremock server received on `method path`.
pub async fn received(server: &MockServer, method: &str, path: &str) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.method.as_str() == method && r.url.path() == path)
        .collect()
}

pub fn auth_header(r: &Request) -> String {
    r.headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

pub fn form(r: &Request) -> Vec<(String, String)> {
    url::form_urlencoded::parse(&r.body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub fn json<T: serde::de::DeserializeOwned>(text: &str) -> T {
    serde_json::from_str(text).unwrap()
}

/// Fast timings for the presentation, routing, arrival and document clients.
pub fn api_client<C: digitoll_client::BuildClient>(b: digitoll_client::ApiClientBuilder<C>) -> C {
    b.retry(fast_retry())
        .poll(fast_poll())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// The claims of a JWT (no verification).
pub fn jwt_claims(token: &str) -> serde_json::Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// The Maskinporten scope of every token exchange the server received, in order.
pub async fn exchanged_scopes(server: &MockServer) -> Vec<String> {
    received(server, "POST", EXCHANGE_PATH)
        .await
        .iter()
        .map(|r| {
            let f = form(r);
            let subject = f
                .iter()
                .find(|(k, _)| k == "subject_token")
                .map(|(_, v)| v.clone())
                .unwrap();
            jwt_claims(&subject)["scope"].as_str().unwrap().to_owned()
        })
        .collect()
}

/// A minimal ZIP local file header + name (enough for content detection).
fn zip_entry(name: &str) -> Vec<u8> {
    let mut v = b"PK\x03\x04".to_vec();
    v.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    v.extend_from_slice(&[0; 12]);
    v.extend_from_slice(&u16::try_from(name.len()).unwrap().to_le_bytes());
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(name.as_bytes());
    v
}

/// A small file of each accepted type, by extension (pdf, jpg, png, txt, docx, xlsx).
pub fn sample_file(ext: &str) -> Vec<u8> {
    match ext {
        "pdf" => b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n".to_vec(),
        "jpg" => [&[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10][..], b"JFIF\0rest"].concat(),
        "png" => [&b"\x89PNG\r\n\x1a\n"[..], &[0, 0, 0, 13], b"IHDR"].concat(),
        "txt" => "Faktura nr. 17\nBeløp: 1200 NOK\n".as_bytes().to_vec(),
        "docx" => [
            zip_entry("[Content_Types].xml"),
            zip_entry("word/document.xml"),
        ]
        .concat(),
        "xlsx" => [
            zip_entry("[Content_Types].xml"),
            zip_entry("xl/workbook.xml"),
        ]
        .concat(),
        other => panic!("no sample for {other}"),
    }
}

/// Every accepted extension.
pub const SAMPLE_EXTENSIONS: [&str; 6] = ["pdf", "jpg", "png", "txt", "docx", "xlsx"];
