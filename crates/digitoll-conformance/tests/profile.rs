//! The conformance runner against a simulator run with a contract profile
//! that moves a path, renames a response field and rewords an error: the
//! report names each difference and the suggested profile undoes them.

use std::sync::Arc;
use std::time::Duration;

use digitoll_conformance::{Config, DifferenceKind, Target, run};
use digitoll_model::profile::ContractProfile;
use digitoll_sim::{DEMO_CLIENT_ID, DEMO_KID, RsaPrivateKey, Simulator};
use maskinporten::{Environment, RsaKey, RsaSigner};

/// The rule behind the scenario's deliberately invalid transport.
const RULE: &str = "transport.arrival.estimated-equals-scheduled";
const TEXT: &str = "Estimated time of arrival must equal scheduled time of arrival";
const OLD_TEST_AUTH: &str = "/api/movement/road/v1/test-auth";

#[tokio::test]
async fn a_profiled_simulator_differs_in_path_field_and_text_and_the_suggestion_undoes_it() {
    let mut profile = ContractProfile::default();
    profile
        .set_endpoint("road.test-auth", OLD_TEST_AUTH)
        .unwrap();
    profile
        .response_fields
        .insert("notificationDate".into(), "notificationDateTime".into());
    profile.set_rule_text(RULE, TEXT).unwrap();
    // The simulator's validation takes its wording from the rule overrides.
    profile.rules.set_text(RULE, TEXT).unwrap();

    let key = RsaPrivateKey::generate().unwrap();
    let sim = Simulator::builder()
        .demo_key(key.clone())
        .processing_delay(Duration::from_millis(100))
        .profile(profile)
        .start()
        .await
        .unwrap();
    let rsa = RsaKey::from_pkcs8_der(key.pkcs8_der()).unwrap();
    let mut config = Config::new(DEMO_CLIENT_ID, Arc::new(RsaSigner::with_kid(rsa, DEMO_KID)));
    config.target = Target::from_parts(Environment::custom(sim.issuer()), sim.base_url());
    config.wait_timeout = Duration::from_secs(10);
    let report = run(config).await.unwrap();
    assert!(report.aborted.is_none(), "{:?}", report.aborted);
    assert_eq!(report.exit_code(), 1);
    let lines: Vec<&str> = report
        .differences
        .iter()
        .map(|d| d.message.as_str())
        .collect();

    // The path: Toll (here: the profiled simulator) has no road test-auth
    // where we expect it, and answers at the v1 path.
    assert!(
        lines
            .iter()
            .any(|l| l
                .contains("(road.test-auth): Toll answered 404 where our simulator answers 200")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("`road.test-auth` is not at") && l.contains(OLD_TEST_AUTH)),
        "{lines:#?}"
    );
    // The field.
    assert!(
        lines
            .iter()
            .any(|l| l.contains("field `notificationDateTime` missing in our simulator")),
        "{lines:#?}"
    );
    // The text.
    let text = report
        .differences
        .iter()
        .find(|d| d.kind == DifferenceKind::ErrorText && d.step_id == "road.transport.invalid")
        .unwrap_or_else(|| panic!("{lines:#?}"));
    assert_eq!(text.toll.as_deref(), Some(TEXT));
    let verdict = report.rules.iter().find(|r| r.rule == RULE).unwrap();
    assert_eq!(verdict.verdict, "confirmed");
    assert_eq!(verdict.toll.as_deref(), Some(TEXT));

    // The suggestion holds all three, and parses.
    let suggested = ContractProfile::from_toml(&report.suggested_profile, "suggested.toml")
        .unwrap_or_else(|e| panic!("{e}\n{}", report.suggested_profile));
    assert_eq!(suggested.template("road.test-auth"), Some(OLD_TEST_AUTH));
    assert_eq!(
        suggested
            .response_fields
            .get("notificationDate")
            .map(String::as_str),
        Some("notificationDateTime")
    );
    assert_eq!(suggested.rule_text(RULE), Some(TEXT));

    // With the suggested profile, the client and our simulator match it.
    let rsa = RsaKey::from_pkcs8_der(key.pkcs8_der()).unwrap();
    let mut config = Config::new(DEMO_CLIENT_ID, Arc::new(RsaSigner::with_kid(rsa, DEMO_KID)));
    config.target = Target::from_parts(Environment::custom(sim.issuer()), sim.base_url());
    config.wait_timeout = Duration::from_secs(10);
    config.profile = Arc::new(suggested);
    let matched = run(config).await.unwrap();
    let lines: Vec<&str> = matched
        .differences
        .iter()
        .map(|d| d.message.as_str())
        .collect();
    assert!(lines.is_empty(), "{lines:#?}");
    assert_eq!(matched.exit_code(), 0, "{:#?}", matched.rules);
    sim.shutdown().await;
}
