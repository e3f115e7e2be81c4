//! The self-service API client and zero-downtime key rotation against the
//! in-process simulator's `/api/v1/clients`.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use common::shared_key;
use digitoll_sim::{RunningSimulator, Simulator};
use maskinporten::selfservice::{
    ExpiryStatus, Jwk, NewClient, RotationConfig, SelfServiceClient, SelfServiceEnvironment,
    SelfServiceError, key_expiry, rotate_key,
};
use maskinporten::{
    Algorithm, Environment, MaskinportenClient, MpCode, RetryPolicy, RotatingSigner, RsaKey,
    RsaSigner, Signer, TokenRequest,
};

const ORG: &str = "974760673";
const OTHER_ORG: &str = "923609016";
const SCOPE: &str = "toll:movement/road/v2";

fn jwk(key: &RsaKey, kid: &str) -> Jwk {
    key.public_jwk(Algorithm::RS256, kid).try_into().unwrap()
}

fn mp_client(
    sim: &RunningSimulator,
    client_id: &str,
    signer: Arc<dyn Signer>,
) -> MaskinportenClient {
    MaskinportenClient::builder(Environment::custom(sim.issuer()), client_id, signer)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
}

/// A simulator with an admin client for ORG and the self-service client for it.
async fn setup() -> (RunningSimulator, SelfServiceClient) {
    let sim = Simulator::builder().demo(false).start().await.unwrap();
    let ctl = sim.control();
    ctl.register_organisation(ORG, "Speditør AS");
    ctl.grant_scope(ORG, SCOPE);
    let key = shared_key().clone();
    ctl.register_admin_client(
        "admin",
        ORG,
        vec![key.public_jwk(Algorithm::RS256, "admin-key")],
    );
    let admin = mp_client(
        &sim,
        "admin",
        Arc::new(RsaSigner::with_kid(key, "admin-key")),
    );
    let env = SelfServiceEnvironment::for_maskinporten(&Environment::custom(sim.issuer())).unwrap();
    let api = SelfServiceClient::new(env, Arc::new(admin)).unwrap();
    (sim, api)
}

async fn new_client(api: &SelfServiceClient) -> String {
    api.create_maskinporten_client(&NewClient::new("Test", "test client", [SCOPE]))
        .await
        .unwrap()
        .client_id
}

#[tokio::test]
async fn create_list_get_and_change_scopes() {
    let (sim, api) = setup().await;
    let created = api
        .create_maskinporten_client(&NewClient::new("Digitoll", "road", [SCOPE]))
        .await
        .unwrap();
    assert!(uuid::Uuid::parse_str(&created.client_id).is_ok());
    assert_eq!(created.integration_type.as_deref(), Some("maskinporten"));
    assert_eq!(
        created.token_endpoint_auth_method.as_deref(),
        Some("private_key_jwt")
    );
    assert_eq!(
        created.grant_types,
        ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    );
    assert_eq!(created.client_name.as_deref(), Some("Digitoll"));

    let list = api.list_clients().await.unwrap();
    let ids: Vec<&str> = list.iter().map(|c| c.client_id.as_str()).collect();
    assert!(ids.contains(&created.client_id.as_str()) && ids.contains(&"admin"));

    let added = api
        .add_scopes(&created.client_id, &["toll:movement/air", SCOPE])
        .await
        .unwrap();
    assert_eq!(added.scopes, [SCOPE, "toll:movement/air"]);
    assert_eq!(
        added.client_name.as_deref(),
        Some("Digitoll"),
        "PUT keeps the other fields"
    );
    let removed = api
        .remove_scopes(&created.client_id, &[SCOPE])
        .await
        .unwrap();
    assert_eq!(removed.scopes, ["toll:movement/air"]);
    assert_eq!(
        api.get_client(&created.client_id).await.unwrap().scopes,
        ["toll:movement/air"]
    );

    // Another organisation's client is invisible.
    sim.control()
        .register_client(digitoll_sim::ClientRegistration::with_keys(
            "foreign-client",
            OTHER_ORG,
            [SCOPE],
            vec![],
        ));
    assert!(matches!(
        api.get_client("foreign-client").await,
        Err(SelfServiceError::NotFound { .. })
    ));
    sim.shutdown().await;
}

#[tokio::test]
async fn admin_token_needs_the_dcr_scopes() {
    let (sim, _) = setup().await;
    let ctl = sim.control();
    let key = shared_key().clone();
    // A plain client without the admin scopes.
    ctl.register_client(digitoll_sim::ClientRegistration::with_keys(
        "plain",
        ORG,
        [SCOPE],
        vec![key.public_jwk(Algorithm::RS256, "k")],
    ));
    let plain = mp_client(&sim, "plain", Arc::new(RsaSigner::with_kid(key, "k")));
    let env = SelfServiceEnvironment::for_maskinporten(&Environment::custom(sim.issuer())).unwrap();
    let api = SelfServiceClient::new(env.clone(), Arc::new(plain.clone())).unwrap();
    // Maskinporten itself refuses the admin scope for this client (MP-200).
    let err = api.list_clients().await.unwrap_err();
    match &err {
        SelfServiceError::Token(e) => assert_eq!(e.mp_code(), Some(&MpCode::Mp200), "{err}"),
        other => panic!("{other}"),
    }
    // A valid token without a dcr scope is refused by the API with 403 …
    let toll_token = plain
        .token(&TokenRequest::for_scopes([SCOPE]).unwrap())
        .await
        .unwrap();
    let get = |token: String| {
        reqwest::Client::new()
            .get(env.base_url().join("clients").unwrap())
            .bearer_auth(token)
            .send()
    };
    let resp = get(toll_token.secret().to_owned()).await.unwrap();
    assert_eq!(resp.status(), 403);
    assert!(resp.text().await.unwrap().contains("idporten:dcr.read"));
    // … and anything that is not this Maskinporten's token with 401.
    assert_eq!(get("not-a-token".into()).await.unwrap().status(), 401);
    sim.shutdown().await;
}

#[tokio::test]
async fn key_sets_are_replaced_whole_limited_to_five_and_need_use() {
    let (sim, api) = setup().await;
    let id = new_client(&api).await;
    let key = shared_key();
    let before = time::OffsetDateTime::now_utc();

    // add_key merges: k1, then k2 next to it.
    api.add_key(&id, jwk(key, "k1")).await.unwrap();
    let keys = api.add_key(&id, jwk(key, "k2")).await.unwrap();
    assert_eq!(
        keys.iter().map(|k| k.kid.as_str()).collect::<Vec<_>>(),
        ["k1", "k2"]
    );
    // Every key carries exp = upload + 1 year, and the sim remembers the upload.
    let exp = keys[0].expires_at().unwrap();
    assert!((exp - before - time::Duration::days(365)).abs() < time::Duration::minutes(1));
    assert!(sim.control().key_uploaded_at(&id, "k1").is_some());
    let e = key_expiry(
        &keys,
        time::OffsetDateTime::now_utc(),
        time::Duration::days(30),
    );
    assert!(
        e.iter()
            .all(|e| e.status == ExpiryStatus::Ok && e.days_left == Some(364))
    );

    // replace_jwks replaces the whole set.
    let replaced = api.replace_jwks(&id, &[jwk(key, "k3")]).await.unwrap();
    assert_eq!(replaced.len(), 1);
    assert_eq!(api.get_jwks(&id).await.unwrap()[0].kid, "k3");

    // Five keys are fine, a sixth is refused before anything is sent.
    for i in 4..=7 {
        api.add_key(&id, jwk(key, &format!("k{i}"))).await.unwrap();
    }
    assert_eq!(api.get_jwks(&id).await.unwrap().len(), 5);
    let err = api.add_key(&id, jwk(key, "k8")).await.unwrap_err();
    assert!(
        matches!(err, SelfServiceError::TooManyKeys { count: 6, .. }),
        "{err}"
    );
    assert!(matches!(
        api.add_key(&id, jwk(key, "k3")).await,
        Err(SelfServiceError::DuplicateKid { .. })
    ));
    // The server enforces the same rules when a client skips the local checks.
    let url = api.base_url().join(&format!("clients/{id}/jwks")).unwrap();
    let admin_token = admin_token(&sim).await;
    let six: Vec<_> = (0..6)
        .map(|i| key.public_jwk(Algorithm::RS256, &format!("s{i}")))
        .collect();
    let r = raw_post(&url, &admin_token, serde_json::json!({"keys": six})).await;
    assert_eq!(r.0, 400);
    assert!(r.1.contains("at most 5"), "{}", r.1);
    let mut no_use = key.public_jwk(Algorithm::RS256, "nouse");
    no_use.as_object_mut().unwrap().remove("use");
    let r = raw_post(
        &url,
        &admin_token,
        serde_json::json!({"keys": [no_use.clone()]}),
    )
    .await;
    assert_eq!(r.0, 400);
    assert!(r.1.contains("keys[0].use"), "{}", r.1);
    // … and so does the local check.
    let local: Jwk = serde_json::from_value(no_use).unwrap();
    let err = api.replace_jwks(&id, &[local]).await.unwrap_err();
    assert!(err.to_string().contains("keys[0].use: missing"), "{err}");
    // An empty set is refused by the server too: the last key needs DELETE.
    let r = raw_post(&url, &admin_token, serde_json::json!({"keys": []})).await;
    assert_eq!(r.0, 400);
    assert!(r.1.contains("DELETE"), "{}", r.1);
    sim.shutdown().await;
}

async fn admin_token(sim: &RunningSimulator) -> String {
    let admin = mp_client(
        sim,
        "admin",
        Arc::new(RsaSigner::with_kid(shared_key().clone(), "admin-key")),
    );
    admin
        .token(&TokenRequest::for_scopes(["idporten:dcr.modify"]).unwrap())
        .await
        .unwrap()
        .secret()
        .to_owned()
}

async fn raw_post(url: &url::Url, token: &str, body: serde_json::Value) -> (u16, String) {
    let r = reqwest::Client::new()
        .post(url.clone())
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn removing_the_last_key_uses_delete_and_the_client_stops_working() {
    let (sim, api) = setup().await;
    let id = new_client(&api).await;
    let key = shared_key().clone();
    api.add_key(&id, jwk(&key, "only")).await.unwrap();
    let client = mp_client(&sim, &id, Arc::new(RsaSigner::with_kid(key, "only")));
    let req = TokenRequest::for_scopes([SCOPE]).unwrap();
    client.fetch(&req).await.unwrap();

    assert!(matches!(
        api.replace_jwks(&id, &[]).await,
        Err(SelfServiceError::EmptyKeySet { .. })
    ));
    assert!(api.remove_key(&id, "only").await.unwrap().is_empty());
    let delete_sent = sim
        .control()
        .requests()
        .iter()
        .any(|r| r.method == "DELETE" && r.path == format!("/api/v1/clients/{id}/jwks"));
    assert!(delete_sent, "the last key is removed with DELETE");
    assert!(api.get_jwks(&id).await.unwrap().is_empty());
    // Without keys the client is a certificate client: a kid grant is refused.
    let err = client.fetch(&req).await.unwrap_err();
    assert_eq!(err.mp_code(), Some(&MpCode::Mp100), "{err}");
    assert!(matches!(
        api.remove_key(&id, "only").await,
        Err(SelfServiceError::UnknownKid { .. })
    ));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_key_older_than_a_year_gives_mp_121() {
    let (sim, api) = setup().await;
    let id = new_client(&api).await;
    let key = shared_key().clone();
    api.add_key(&id, jwk(&key, "old")).await.unwrap();
    sim.control().advance_clock(time::Duration::days(366));
    let client = mp_client(&sim, &id, Arc::new(RsaSigner::with_kid(key, "old")));
    let err = client
        .fetch(&TokenRequest::for_scopes([SCOPE]).unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.mp_code(), Some(&MpCode::Mp121), "{err}");
    assert!(err.to_string().contains("Expired key"));
    sim.shutdown().await;
}

/// A steady stream of uncached token requests sees no failure while the key
/// is rotated through the self-service API with a propagation delay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_under_load_loses_no_request() {
    let (sim, api) = setup().await;
    let id = new_client(&api).await;
    let old_key = shared_key().clone();
    api.add_key(&id, jwk(&old_key, "old")).await.unwrap();
    let delay = Duration::from_millis(700);
    sim.control().set_key_propagation_delay(delay);

    let rotating = Arc::new(RotatingSigner::new(Arc::new(RsaSigner::with_kid(
        old_key, "old",
    ))));
    let client = mp_client(&sim, &id, rotating.clone());
    let req = TokenRequest::for_scopes([SCOPE]).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let load = {
        let (client, req, stop, ok) = (client.clone(), req.clone(), stop.clone(), ok.clone());
        tokio::spawn(async move {
            let mut failures = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                match client.fetch(&req).await {
                    Ok(_) => {
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => failures.push(e.to_string()),
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            failures
        })
    };

    let new_key = tokio::task::spawn_blocking(|| RsaKey::generate(2048).unwrap())
        .await
        .unwrap();
    let new_jwk = jwk(&new_key, "new");
    let new_signer: Arc<dyn Signer> = Arc::new(RsaSigner::with_kid(new_key, "new"));
    let mut config = RotationConfig::new(req.clone());
    config.poll_interval = Duration::from_millis(100);
    config.propagation_timeout = Duration::from_secs(10);
    config.grace_period = Duration::from_millis(300);
    let report = rotate_key(&api, &client, &rotating, new_signer, new_jwk, &config)
        .await
        .unwrap();
    assert_eq!(report.old_kid.as_deref(), Some("old"));
    assert_eq!(report.new_kid, "new");
    assert!(
        report.propagation >= delay - Duration::from_millis(100),
        "{report:?}"
    );
    assert!(
        report.probes > 1,
        "the first probes fail until the key propagates"
    );
    assert!(report.old_removed);
    assert_eq!(
        report
            .keys
            .iter()
            .map(|k| k.kid.as_str())
            .collect::<Vec<_>>(),
        ["new"]
    );
    assert_eq!(rotating.generation(), 1);

    // Keep the load running until the removal of the old key has propagated.
    tokio::time::sleep(delay + Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    let failures = load.await.unwrap();
    assert!(
        failures.is_empty(),
        "failed requests during rotation: {failures:?}"
    );
    assert!(ok.load(Ordering::Relaxed) > 10, "the load ran");

    // The old key is gone from /token now; the client signs with the new one.
    let old_only = mp_client(
        &sim,
        &id,
        Arc::new(RsaSigner::with_kid(shared_key().clone(), "old")),
    );
    let err = old_only.fetch(&req).await.unwrap_err();
    assert_eq!(err.mp_code(), Some(&MpCode::Mp100), "{err}");
    client.fetch(&req).await.unwrap();
    sim.shutdown().await;
}

#[tokio::test]
async fn rotation_gives_up_when_the_key_never_propagates() {
    let (sim, api) = setup().await;
    let id = new_client(&api).await;
    let old_key = shared_key().clone();
    api.add_key(&id, jwk(&old_key, "old")).await.unwrap();
    sim.control()
        .set_key_propagation_delay(Duration::from_secs(60));
    let rotating = Arc::new(RotatingSigner::new(Arc::new(RsaSigner::with_kid(
        old_key.clone(),
        "old",
    ))));
    let client = mp_client(&sim, &id, rotating.clone());
    let req = TokenRequest::for_scopes([SCOPE]).unwrap();
    let mut config = RotationConfig::new(req.clone());
    config.poll_interval = Duration::from_millis(50);
    config.propagation_timeout = Duration::from_millis(400);
    // The new key reuses the old material under a new kid: registration is what matters.
    let new_signer: Arc<dyn Signer> = Arc::new(RsaSigner::with_kid(old_key.clone(), "new"));
    let err = rotate_key(
        &api,
        &client,
        &rotating,
        new_signer,
        jwk(&old_key, "new"),
        &config,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, SelfServiceError::Propagation { .. }), "{err}");
    assert!(err.to_string().contains("old key is still in use"));
    assert_eq!(rotating.generation(), 0, "nothing was switched");
    client.fetch(&req).await.unwrap();
    sim.shutdown().await;
}
