//! The client against the in-process digitoll simulator, which judges grants
//! the way Maskinporten documents it.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use digitoll_sim::{CertOptions, ClientRegistration, Fault, RunningSimulator, Simulator};
use maskinporten::{
    Environment, MaskinportenClient, MpCode, OrgNumber, RetryPolicy, RsaKey, RsaSigner, Signer,
    TokenRequest,
};
use secrecy::{ExposeSecret, SecretString};

const ORG: &str = "974760673";
const CUSTOMER: &str = "923609016";
const SCOPE: &str = "toll:movement/road/v2";

async fn sim() -> RunningSimulator {
    let sim = Simulator::builder().demo(false).start().await.unwrap();
    let ctl = sim.control();
    ctl.register_organisation(ORG, "Speditør AS");
    ctl.register_organisation(CUSTOMER, "Kunde AS");
    ctl.grant_scope(ORG, SCOPE);
    sim
}

fn client(sim: &RunningSimulator, client_id: &str, signer: Arc<dyn Signer>) -> MaskinportenClient {
    MaskinportenClient::builder(Environment::custom(sim.issuer()), client_id, signer)
        .retry_policy(RetryPolicy {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(100),
            max_elapsed: Duration::from_secs(10),
        })
        .build()
        .unwrap()
}

fn kid_client(sim: &RunningSimulator) -> MaskinportenClient {
    let key = shared_key().clone();
    sim.control().register_client(ClientRegistration::with_keys(
        "kid-client",
        ORG,
        [SCOPE],
        vec![key.public_jwk(maskinporten::Algorithm::RS256, "k1")],
    ));
    client(sim, "kid-client", Arc::new(RsaSigner::with_kid(key, "k1")))
}

fn scope_req() -> TokenRequest {
    TokenRequest::for_scopes([SCOPE]).unwrap()
}

fn token_posts(sim: &RunningSimulator) -> Vec<digitoll_sim::RecordedRequest> {
    sim.control()
        .requests()
        .into_iter()
        .filter(|r| r.path == "/token")
        .collect()
}

#[tokio::test]
async fn kid_client_gets_a_token_and_caches_it() {
    let sim = sim().await;
    let client = kid_client(&sim);
    let t1 = client.token(&scope_req()).await.unwrap();
    let t2 = client.token(&scope_req()).await.unwrap();
    assert!(t1.same_token(&t2));
    assert!(
        t1.secret().split('.').count() == 3,
        "the sim issues JWT access tokens"
    );
    assert_eq!(token_posts(&sim).len(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn discovery_against_the_simulator() {
    let sim = sim().await;
    let key = shared_key().clone();
    sim.control().register_client(ClientRegistration::with_keys(
        "kid-client",
        ORG,
        [SCOPE],
        vec![key.public_jwk(maskinporten::Algorithm::RS256, "k1")],
    ));
    let client = MaskinportenClient::builder(
        Environment::custom(sim.issuer()),
        "kid-client",
        Arc::new(RsaSigner::with_kid(key, "k1")),
    )
    .build_with_discovery()
    .await
    .unwrap();
    assert_eq!(client.token_endpoint(), &sim.token_endpoint());
    client.token(&scope_req()).await.unwrap();
    sim.shutdown().await;
}

#[tokio::test]
async fn certificate_client_sends_full_chain_from_openssl_p12() {
    let sim = sim().await;
    let ctl = sim.control();
    let cert = ctl
        .ca()
        .issue_business_certificate(ORG, "Speditør AS", CertOptions::default());
    assert!(cert.chain_der.len() >= 2, "leaf + intermediate");
    ctl.register_client(ClientRegistration::with_certificate(
        "cert-client",
        ORG,
        [SCOPE],
    ));

    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("key.pem");
    let leaf_path = dir.path().join("leaf.pem");
    let ca_path = dir.path().join("ca.pem");
    let p12_path = dir.path().join("cert.p12");
    std::fs::write(&key_path, cert.key_pem().expose_secret()).unwrap();
    let pem = cert.chain_pem();
    let split =
        pem.find("-----END CERTIFICATE-----").unwrap() + "-----END CERTIFICATE-----\n".len();
    std::fs::write(&leaf_path, &pem[..split]).unwrap();
    std::fs::write(&ca_path, &pem[split..]).unwrap();
    openssl(&[
        "pkcs12",
        "-export",
        "-inkey",
        key_path.to_str().unwrap(),
        "-in",
        leaf_path.to_str().unwrap(),
        "-certfile",
        ca_path.to_str().unwrap(),
        "-out",
        p12_path.to_str().unwrap(),
        "-passout",
        "pass:pw",
    ]);
    let signer = RsaSigner::from_pkcs12_file(&p12_path, &SecretString::from("pw")).unwrap();
    let info = signer.certificate().unwrap().clone();
    assert_eq!(info.org_number.as_ref().map(OrgNumber::as_str), Some(ORG));
    assert_eq!(info.chain.len(), cert.chain_der.len());

    let client = client(&sim, "cert-client", Arc::new(signer));
    client.token(&scope_req()).await.unwrap();
    let sent = token_posts(&sim);
    let assertion = sent[0].body.form_value("assertion").unwrap().to_owned();
    let header: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            assertion.split('.').next().unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        header["x5c"],
        serde_json::json!(cert.x5c()),
        "full chain, leaf first"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn consumer_org_with_and_without_delegation() {
    let sim = sim().await;
    let ctl = sim.control();
    ctl.add_delegation(CUSTOMER, ORG, SCOPE);
    ctl.grant_scope(CUSTOMER, SCOPE);
    let client = kid_client(&sim);
    let on_behalf = TokenRequest::builder()
        .scope(SCOPE)
        .consumer_org(CUSTOMER.parse().unwrap())
        .build()
        .unwrap();
    let token = client.token(&on_behalf).await.unwrap();
    let claims = grant_claims(token.secret());
    assert_eq!(claims["consumer"]["ID"], format!("0192:{CUSTOMER}"));
    assert_eq!(claims["supplier"]["ID"], format!("0192:{ORG}"));

    // Another customer that never delegated: MP-251, not retried, with a hint.
    let stranger: OrgNumber = "991825827".parse().unwrap();
    ctl.register_organisation(stranger.as_str(), "Fremmed AS");
    let before = token_posts(&sim).len();
    let err = client
        .token(
            &TokenRequest::builder()
                .scope(SCOPE)
                .consumer_org(stranger)
                .build()
                .unwrap(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.mp_code(), Some(&MpCode::Mp251), "{err}");
    assert!(
        err.maskinporten()
            .unwrap()
            .hint()
            .unwrap()
            .contains("delegate")
    );
    assert!(err.maskinporten().unwrap().trace_id.is_some());
    assert_eq!(token_posts(&sim).len(), before + 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn sim_clock_30_seconds_off_is_handled() {
    // Sim clock ahead: our iat looks 30 s old, which Maskinporten still accepts,
    // but the offset is learned and later grants carry the server's time.
    let sim = sim().await;
    sim.control().set_clock_offset(time::Duration::seconds(30));
    let client = kid_client(&sim);
    client.token(&scope_req()).await.unwrap();
    let offset = client.clock_offset().unwrap().whole_seconds();
    assert!((offset - 30).abs() <= 2, "learned offset {offset}");
    client.fetch(&scope_req()).await.unwrap();
    let sent = token_posts(&sim);
    let iat = grant_claims(sent.last().unwrap().body.form_value("assertion").unwrap())["iat"]
        .as_i64()
        .unwrap();
    let sim_now = sim.control().now().unix_timestamp();
    assert!(
        (iat - sim_now).abs() <= 2,
        "corrected iat {iat} vs sim {sim_now}"
    );
    sim.shutdown().await;

    // Sim clock behind: our iat is 30 s in its future and is rejected; the
    // error's Date header gives the offset and the immediate retry succeeds.
    let sim = self::sim().await;
    sim.control().set_clock_offset(time::Duration::seconds(-30));
    let client = kid_client(&sim);
    client.token(&scope_req()).await.unwrap();
    let offset = client.clock_offset().unwrap().whole_seconds();
    assert!((offset + 30).abs() <= 2, "learned offset {offset}");
    assert_eq!(
        token_posts(&sim).len(),
        2,
        "one rejected grant, one corrected retry"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn outage_then_recovery_with_new_jti_per_attempt() {
    let sim = sim().await;
    let client = kid_client(&sim);
    sim.control().add_fault(Fault::outage("/token").times(2));
    client.token(&scope_req()).await.unwrap();
    let sent = token_posts(&sim);
    assert_eq!(sent.len(), 3);
    let jtis: std::collections::HashSet<String> = sent
        .iter()
        .map(|r| {
            grant_claims(r.body.form_value("assertion").unwrap())["jti"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(jtis.len(), 3);
    assert_eq!(client.stats().errors, 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn mp_200_and_mp_250_are_parsed_with_hints() {
    let sim = sim().await;
    let client = kid_client(&sim);
    let err = client
        .token(&TokenRequest::for_scopes(["toll:not-on-client"]).unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.mp_code(), Some(&MpCode::Mp200), "{err}");
    assert!(err.to_string().contains("Hint:"));

    // On the client, but the API owner never granted it to the org.
    let other_scope = "toll:declaration.feed";
    let key = RsaKey::generate(2048).unwrap();
    sim.control().register_client(ClientRegistration::with_keys(
        "c250",
        ORG,
        [other_scope],
        vec![key.public_jwk(maskinporten::Algorithm::RS256, "k250")],
    ));
    let c250 = super_client(&sim, key);
    let err = c250
        .token(&TokenRequest::for_scopes([other_scope]).unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.mp_code(), Some(&MpCode::Mp250), "{err}");
    assert!(
        err.maskinporten()
            .unwrap()
            .hint()
            .unwrap()
            .contains("API owner")
    );
    assert_eq!(
        client.stats().fetches + c250.stats().fetches,
        2,
        "no retries on MP-2xx"
    );
    sim.shutdown().await;
}

fn super_client(sim: &RunningSimulator, key: RsaKey) -> MaskinportenClient {
    client(sim, "c250", Arc::new(RsaSigner::with_kid(key, "k250")))
}
