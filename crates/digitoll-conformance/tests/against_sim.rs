//! The conformance runner with the simulator as the target: everything must
//! match; the transcript carries no secret; a replay of the transcript
//! answers the same scenario.

use std::sync::Arc;
use std::time::Duration;

use digitoll_conformance::{Config, Report, StepResult, Target, run};
use digitoll_sim::{
    DEMO_CERT_CLIENT_ID, DEMO_CLIENT_ID, DEMO_KID, DEMO_P12_PASSWORD, RsaPrivateKey,
    RunningSimulator, Simulator, parse_transcript,
};
use maskinporten::{Environment, RsaKey, RsaSigner, Signer};
use secrecy::{ExposeSecret as _, SecretString};

async fn target_sim(key: &RsaPrivateKey, dir: &std::path::Path) -> RunningSimulator {
    Simulator::builder()
        .demo_key(key.clone())
        .processing_delay(Duration::from_millis(300))
        .write_demo_credentials(dir)
        .start()
        .await
        .unwrap()
}

fn target_of(sim: &RunningSimulator) -> Target {
    Target::from_parts(Environment::custom(sim.issuer()), sim.base_url())
}

fn config(sim: &RunningSimulator, client_id: &str, signer: Arc<dyn Signer>) -> Config {
    let mut c = Config::new(client_id, signer);
    c.target = target_of(sim);
    c.run_tag = Some("T1".into());
    c.wait_timeout = Duration::from_secs(10);
    c.request_timeout = Duration::from_secs(10);
    c
}

fn assert_all_steps_ran(report: &Report) {
    assert!(report.aborted.is_none(), "{:?}", report.aborted);
    let ids: Vec<&str> = report.steps.iter().map(|s| s.id.as_str()).collect();
    for id in [
        "maskinporten.probe.nbf",
        "toll.token-exchange",
        "road.test-auth",
        "road.house.create",
        "road.status-with-descendants",
        "road.transport.update",
        "road.entry-status",
        "routing.page",
        "presentation.house",
        "documents.upload",
        "road.transport.delete",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    let ok = |id: &str| {
        matches!(
            report.steps.iter().find(|s| s.id == id).map(|s| &s.result),
            Some(StepResult::Ok { .. })
        )
    };
    for id in [
        "road.house.create",
        "road.transport.update",
        "presentation.house",
        "documents.upload",
        "road.house.delete",
        "road.transport.delete",
    ] {
        assert!(ok(id), "{id}: {:#?}", report.steps);
    }
    // The deliberately invalid transport is rejected on both sides.
    assert!(matches!(
        report
            .steps
            .iter()
            .find(|s| s.id == "road.transport.invalid")
            .map(|s| &s.result),
        Some(StepResult::Error { .. })
    ));
}

#[tokio::test]
async fn against_the_simulator_everything_matches_and_the_transcript_has_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let key = RsaPrivateKey::generate().unwrap();
    let sim = target_sim(&key, dir.path()).await;
    // The certificate client: its grants carry the business certificate
    // chain (x5c) from the .p12, whose password must not leak either.
    let p12 = std::fs::read(dir.path().join("demo-cert.p12")).unwrap();
    let signer = RsaSigner::from_pkcs12(&p12, &SecretString::from(DEMO_P12_PASSWORD)).unwrap();
    let report = run(config(&sim, DEMO_CERT_CLIENT_ID, Arc::new(signer)))
        .await
        .unwrap();
    assert_all_steps_ran(&report);
    let lines: Vec<&str> = report
        .differences
        .iter()
        .map(|d| d.message.as_str())
        .collect();
    assert!(lines.is_empty(), "{lines:#?}");
    assert_eq!(report.exit_code(), 0, "{:#?}", report.rules);
    assert!(
        report.suggested_profile.is_empty(),
        "{}",
        report.suggested_profile
    );
    assert_eq!(report.maskinporten.accepts_nbf, Some(false));
    assert_eq!(report.maskinporten.accepts_replayed_jti, Some(false));
    assert_eq!(report.maskinporten.token_lifetimes, vec![120]);

    // The transcript: every exchange, no secret.
    let text = report.transcript_jsonl();
    let exchanges = parse_transcript(&text, "t.jsonl").unwrap();
    assert!(exchanges.iter().any(|e| e.step == "road.house.create"));
    let ctl = sim.control();
    let sent = ctl.requests();
    assert_eq!(
        sent.len(),
        exchanges.len(),
        "one exchange per request the target got"
    );
    // Secrets as the simulator saw them: the Maskinporten tokens it issued,
    // the grants, the key, the password.
    let mut secrets: Vec<String> = vec![
        key.pkcs8_pem().expose_secret().to_owned(),
        DEMO_P12_PASSWORD.to_owned(),
    ];
    let pem_body: String = key
        .pkcs8_pem()
        .expose_secret()
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    secrets.push(pem_body[..60].to_owned());
    // The grants and tokens, as a fresh token request through the real
    // client sees them (same key, same shapes).
    let rsa = RsaKey::from_pkcs8_der(key.pkcs8_der()).unwrap();
    let kid_client = maskinporten::MaskinportenClient::builder(
        Environment::custom(sim.issuer()),
        DEMO_CLIENT_ID,
        Arc::new(RsaSigner::with_kid(rsa, DEMO_KID)),
    )
    .build()
    .unwrap();
    let token = kid_client
        .token(&maskinporten::TokenRequest::for_scopes(["toll:movement/road/v2"]).unwrap())
        .await
        .unwrap();
    assert!(!text.contains(token.secret()));
    for e in &exchanges {
        if let Some(a) = e.request_body.form_value("assertion") {
            assert_eq!(a, "[REDACTED]", "grant in {}", e.url);
        }
        if let Some(v) = e.response_body.json().and_then(|v| v.get("access_token")) {
            assert_eq!(v, "[REDACTED]", "token in {}", e.url);
        }
        for (k, v) in &e.request_headers {
            if k == "authorization" {
                assert_eq!(v, "Bearer [REDACTED]");
            }
        }
    }
    assert!(!text.contains("eyJ"), "a JWT in the transcript");
    for s in &secrets {
        assert!(
            !text.contains(s.as_str()),
            "secret {:.12}… in the transcript",
            s
        );
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn a_replayed_transcript_answers_the_scenario_as_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let key = RsaPrivateKey::generate().unwrap();
    let sim = target_sim(&key, dir.path()).await;
    let signer = || -> Arc<dyn Signer> {
        let rsa = RsaKey::from_pkcs8_der(key.pkcs8_der()).unwrap();
        Arc::new(RsaSigner::with_kid(rsa, DEMO_KID))
    };
    let recorded = run(config(&sim, DEMO_CLIENT_ID, signer())).await.unwrap();
    assert_all_steps_ran(&recorded);
    let transcript = parse_transcript(&recorded.transcript_jsonl(), "t.jsonl").unwrap();
    let issuer = sim.issuer();
    sim.shutdown().await;

    // The replay plays the recorded server: the grants keep the recorded
    // issuer as `aud`, both remotes are the replay's address.
    let replay = Simulator::builder()
        .demo(false)
        .replay(transcript.clone())
        .start()
        .await
        .unwrap();
    let mut c = config(&replay, DEMO_CLIENT_ID, signer());
    c.target = Target::from_parts(Environment::custom(issuer), replay.base_url());
    c.target.maskinporten_url = replay.base_url();
    let again = run(c).await.unwrap();
    assert_all_steps_ran(&again);
    // Same MRNs as recorded.
    let mrn = |r: &Report| {
        r.steps
            .iter()
            .find(|s| s.id == "road.transport.create")
            .map(|s| format!("{:?}", s.result))
    };
    assert_eq!(mrn(&again), mrn(&recorded));
    // Nothing unrecorded was asked for.
    assert!(
        again.transcript.iter().all(|e| e.status != Some(599)),
        "{:#?}",
        again
            .transcript
            .iter()
            .filter(|e| e.status == Some(599))
            .map(|e| (&e.step, &e.url, &e.response_body))
            .collect::<Vec<_>>()
    );

    // An unrecorded request: 599 naming the closest recorded one.
    let resp = reqwest::Client::new()
        .get(replay.url("api/movement/road/v2/test-auth-nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 599);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "not_recorded");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("/api/movement/road/v2/test-auth"),
        "{body}"
    );
    replay.shutdown().await;
}
