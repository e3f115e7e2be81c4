//! Every doctor check, healthy and failing on purpose, against the in-process
//! simulator (Maskinporten + Toll).

use std::sync::{Arc, OnceLock};

use base64::Engine as _;
use digitoll_client::TollEnvironment;
use digitoll_doctor::{DoctorInput, Report, Status, Subject};
use digitoll_sim::{CertEnvironment, CertOptions, ClientRegistration, RunningSimulator, Simulator};
use maskinporten::{Algorithm, CertEnvironmentHint, Environment, RsaKey, RsaSigner, Signer};
use secrecy::ExposeSecret as _;
use time::{Duration, OffsetDateTime};

const ORG: &str = "974760673";
const ROAD: &str = "toll:movement/road/v2";
const ENTRY: &str = "toll:movement/entry";
const DOCS: &str = "toll:goodsdeclaration/document.write";
const CLIENT: &str = "5d2a9c0e-1f7b-4c3a-8e6d-9b0a1c2d3e4f";

fn key() -> &'static RsaKey {
    static KEY: OnceLock<RsaKey> = OnceLock::new();
    KEY.get_or_init(|| RsaKey::generate(2048).unwrap())
}

/// A simulator (processing at once) with ORG granted road, entry and document upload.
async fn sim() -> RunningSimulator {
    let sim = Simulator::builder()
        .demo(false)
        .processing_delay(std::time::Duration::ZERO)
        .start()
        .await
        .unwrap();
    let ctl = sim.control();
    ctl.register_organisation(ORG, "Speditør AS");
    for s in [ROAD, ENTRY, DOCS] {
        ctl.grant_scope(ORG, s);
    }
    sim
}

fn register_kid_client(sim: &RunningSimulator, scopes: &[&str], jwk: serde_json::Value) {
    sim.control().register_client(ClientRegistration::with_keys(
        CLIENT,
        ORG,
        scopes.iter().copied(),
        vec![jwk],
    ));
}

fn input(
    sim: &RunningSimulator,
    client_id: &str,
    signer: Arc<dyn Signer>,
    scopes: &[&str],
) -> DoctorInput {
    let mut input = DoctorInput::new(
        Ok(Subject {
            source: "test".into(),
            env: Environment::custom(sim.issuer()),
            client_id: client_id.into(),
        }),
        Ok(signer),
    );
    input.scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
    input.toll = Some(TollEnvironment::custom(sim.base_url().as_str()).unwrap());
    input.cert_environment = Some(CertEnvironmentHint::Test);
    input.expect_org = Some(ORG.parse().unwrap());
    input
}

fn kid_signer() -> Arc<dyn Signer> {
    Arc::new(RsaSigner::with_kid(key().clone(), "k1"))
}

fn status(report: &Report, id: &str) -> Status {
    report
        .get(id)
        .unwrap_or_else(|| panic!("no check {id} in {report:#?}"))
        .status
}

#[tokio::test(flavor = "multi_thread")]
async fn healthy_setup_passes_every_check_and_probes_every_api() {
    let sim = sim().await;
    register_kid_client(
        &sim,
        &[ROAD, ENTRY, DOCS],
        key().public_jwk(Algorithm::RS256, "k1"),
    );
    let mut inp = input(&sim, CLIENT, kid_signer(), &[ROAD, ENTRY, DOCS]);
    inp.key_expires_at = Some(OffsetDateTime::now_utc() + Duration::days(200));
    let report = digitoll_doctor::run(inp).await;
    assert_eq!(report.exit_code(), 0, "{report:#?}");
    let ids: Vec<&str> = report.checks.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "config",
            "key",
            "key_validity",
            "cert_org",
            "cert_env",
            "clock",
            "metadata",
            "token:toll:movement/road/v2",
            "token:toll:movement/entry",
            "token:toll:goodsdeclaration/document.write",
            "toll_exchange",
            "api:road",
            "api:entry",
            "api:documents",
        ]
    );
    for id in [
        "config",
        "key",
        "key_validity",
        "clock",
        "metadata",
        "toll_exchange",
        "api:road",
        "api:entry",
        "api:documents",
    ] {
        assert_eq!(
            status(&report, id),
            Status::Pass,
            "{id}: {:#?}",
            report.get(id)
        );
    }
    assert!(
        report
            .get("api:road")
            .unwrap()
            .detail
            .contains("test-auth OK")
    );
    // A registered key has no organisation or certificate environment.
    assert_eq!(status(&report, "cert_org"), Status::Skip);
    // The API probes really called Toll: test-auth and a read.
    let paths: Vec<String> = sim
        .control()
        .requests()
        .into_iter()
        .map(|r| r.path)
        .collect();
    assert!(
        paths.iter().any(|p| p.ends_with("/road/v2/test-auth")),
        "{paths:?}"
    );
    assert!(
        paths
            .iter()
            .any(|p| p.contains("entry/status/00NODIGITOLLDOCTOR")),
        "{paths:?}"
    );
    assert!(
        paths
            .iter()
            .any(|p| p.starts_with("/api/movement/routing/v1/")),
        "{paths:?}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_registered_key_gives_mp_121() {
    let sim = sim().await;
    let mut jwk = key().public_jwk(Algorithm::RS256, "k1");
    // As the self-service API stores it: expires a year after upload.
    jwk["exp"] =
        serde_json::json!((OffsetDateTime::now_utc() + Duration::days(365)).unix_timestamp());
    register_kid_client(&sim, &[ROAD], jwk);
    sim.control().advance_clock(Duration::days(366));
    let report = digitoll_doctor::run(input(&sim, CLIENT, kid_signer(), &[ROAD])).await;
    let token = report.get("token:toll:movement/road/v2").unwrap();
    assert_eq!(token.status, Status::Fail);
    assert_eq!(token.mp_code.as_deref(), Some("MP-121"));
    assert!(
        token
            .fix
            .as_deref()
            .unwrap()
            .contains("digitoll keys rotate")
    );
    // The clock is a year off too (we moved the simulator's clock).
    assert_eq!(status(&report, "clock"), Status::Fail);
    assert_eq!(status(&report, "toll_exchange"), Status::Skip);
    assert_eq!(report.exit_code(), 2);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn scope_registered_but_not_granted_gives_mp_250_for_that_scope_only() {
    let sim = sim().await;
    // The client lists rail too, but Toll never granted rail to ORG.
    register_kid_client(
        &sim,
        &[ROAD, "toll:movement/rail"],
        key().public_jwk(Algorithm::RS256, "k1"),
    );
    let report = digitoll_doctor::run(input(
        &sim,
        CLIENT,
        kid_signer(),
        &[ROAD, "toll:movement/rail"],
    ))
    .await;
    assert_eq!(status(&report, "token:toll:movement/road/v2"), Status::Pass);
    let rail = report.get("token:toll:movement/rail").unwrap();
    assert_eq!(rail.status, Status::Fail);
    assert_eq!(rail.mp_code.as_deref(), Some("MP-250"));
    let fix = rail.fix.as_deref().unwrap();
    assert!(
        fix.contains("Toll has not granted") && fix.contains("toll:movement/rail"),
        "{fix}"
    );
    assert_eq!(status(&report, "api:road"), Status::Pass);
    assert_eq!(status(&report, "api:rail"), Status::Skip);
    assert_eq!(report.exit_code(), 2);
    sim.shutdown().await;
}

fn cert_signer(
    sim: &RunningSimulator,
    env: CertEnvironment,
    not_after: OffsetDateTime,
) -> Arc<dyn Signer> {
    let now = OffsetDateTime::now_utc();
    let cert = sim.control().ca().issue_business_certificate(
        ORG,
        "Speditør AS",
        CertOptions {
            environment: env,
            not_before: now - Duration::days(1),
            not_after,
            use_organization_identifier: false,
        },
    );
    let key = RsaKey::from_pem(cert.key_pem().expose_secret().as_bytes(), None).unwrap();
    let chain: Vec<Vec<u8>> = cert
        .x5c()
        .iter()
        .map(|c| base64::engine::general_purpose::STANDARD.decode(c).unwrap())
        .collect();
    Arc::new(RsaSigner::with_certificate_chain(key, &chain).unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn production_certificate_in_test_gives_mp_120() {
    let sim = sim().await;
    sim.control()
        .register_client(ClientRegistration::with_certificate(CLIENT, ORG, [ROAD]));
    let signer = cert_signer(
        &sim,
        CertEnvironment::Prod,
        OffsetDateTime::now_utc() + Duration::days(700),
    );
    let report = digitoll_doctor::run(input(&sim, CLIENT, signer, &[ROAD])).await;
    let env = report.get("cert_env").unwrap();
    assert_eq!(env.status, Status::Fail, "{env:#?}");
    assert!(env.detail.contains("production certificate") && env.detail.contains("MP-120"));
    assert_eq!(status(&report, "cert_org"), Status::Pass);
    let token = report.get("token:toll:movement/road/v2").unwrap();
    assert_eq!(token.mp_code.as_deref(), Some("MP-120"));
    assert_eq!(report.exit_code(), 2);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn certificate_checks_warn_before_expiry_and_compare_the_organisation() {
    let sim = sim().await;
    sim.control()
        .register_client(ClientRegistration::with_certificate(CLIENT, ORG, [ROAD]));
    let signer = cert_signer(
        &sim,
        CertEnvironment::Test,
        OffsetDateTime::now_utc() + Duration::days(10),
    );
    let mut inp = input(&sim, CLIENT, signer, &[ROAD]);
    inp.expect_org = Some("923609016".parse().unwrap());
    let report = digitoll_doctor::run(inp).await;
    let validity = report.get("key_validity").unwrap();
    assert_eq!(validity.status, Status::Warn, "{validity:#?}");
    assert!(validity.detail.contains("days left"));
    let org = report.get("cert_org").unwrap();
    assert_eq!(org.status, Status::Fail);
    assert!(org.detail.contains("974760673") && org.detail.contains("923609016"));
    assert_eq!(status(&report, "cert_env"), Status::Pass);
    assert_eq!(status(&report, "token:toll:movement/road/v2"), Status::Pass);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn clock_sixty_seconds_off_fails_the_clock_check_but_digitoll_still_gets_tokens() {
    let sim = sim().await;
    register_kid_client(&sim, &[ROAD], key().public_jwk(Algorithm::RS256, "k1"));
    sim.control().set_clock_offset(Duration::seconds(60));
    let report = digitoll_doctor::run(input(&sim, CLIENT, kid_signer(), &[ROAD])).await;
    let clock = report.get("clock").unwrap();
    assert_eq!(clock.status, Status::Fail, "{clock:#?}");
    assert!(clock.detail.contains("behind"), "{}", clock.detail);
    assert!(clock.fix.as_deref().unwrap().contains("other tools"));
    assert_eq!(status(&report, "token:toll:movement/road/v2"), Status::Pass);
    assert_eq!(status(&report, "api:road"), Status::Pass);
    assert_eq!(report.exit_code(), 2);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_client_id_gives_mp_100() {
    let sim = sim().await;
    register_kid_client(&sim, &[ROAD], key().public_jwk(Algorithm::RS256, "k1"));
    let report = digitoll_doctor::run(input(
        &sim,
        "00000000-0000-4000-8000-000000000000",
        kid_signer(),
        &[ROAD],
    ))
    .await;
    let token = report.get("token:toll:movement/road/v2").unwrap();
    assert_eq!(token.mp_code.as_deref(), Some("MP-100"));
    assert!(token.fix.as_deref().unwrap().contains("client id"));
    assert_eq!(status(&report, "metadata"), Status::Pass);
    assert_eq!(report.exit_code(), 2);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unreadable_configuration_or_key_skip_what_depends_on_them() {
    let report = digitoll_doctor::run(DoctorInput::new(
        Err("cannot read credentials file x.json: No such file".into()),
        Err("not loaded".into()),
    ))
    .await;
    assert_eq!(status(&report, "config"), Status::Fail);
    assert!(report.checks[1..].iter().all(|c| c.status == Status::Skip));
    assert_eq!(report.exit_code(), 2);

    let sim = sim().await;
    let mut inp = input(&sim, CLIENT, kid_signer(), &[ROAD]);
    inp.signer = Err("cannot load key k.pem: PEM: no private key block found".into());
    let report = digitoll_doctor::run(inp).await;
    assert_eq!(status(&report, "key"), Status::Fail);
    assert_eq!(
        status(&report, "metadata"),
        Status::Pass,
        "the server checks still run"
    );
    assert_eq!(status(&report, "token:toll:movement/road/v2"), Status::Skip);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_issuer_fails_the_metadata_check() {
    let sim = sim().await;
    register_kid_client(&sim, &[ROAD], key().public_jwk(Algorithm::RS256, "k1"));
    // Without the trailing slash the configured issuer differs from the metadata's.
    let mut inp = input(&sim, CLIENT, kid_signer(), &[ROAD]);
    let issuer = sim.issuer().trim_end_matches('/').to_owned();
    inp.subject = Ok(Subject {
        source: "test".into(),
        env: Environment::custom(issuer),
        client_id: CLIENT.into(),
    });
    let report = digitoll_doctor::run(inp).await;
    let meta = report.get("metadata").unwrap();
    assert_eq!(meta.status, Status::Fail, "{meta:#?}");
    assert!(meta.fix.as_deref().unwrap().contains("trailing slash"));
    assert_eq!(
        report
            .get("token:toll:movement/road/v2")
            .unwrap()
            .mp_code
            .as_deref(),
        Some("MP-110")
    );
    sim.shutdown().await;
}
