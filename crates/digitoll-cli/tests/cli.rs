//! End-to-end tests of the `digitoll` binary against the in-process simulator.
//!
//! Each test runs the real binary (`CARGO_BIN_EXE_digitoll`) as a user would,
//! with no network: the simulator listens on 127.0.0.1 with a random port.

use std::path::Path;
use std::process::{Command, Output};

use digitoll_sim::{CertEnvironment, CertOptions, RunningSimulator, Simulator};
use secrecy::ExposeSecret as _;
use serde_json::Value;
use time::{Duration, OffsetDateTime};

fn digitoll(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_digitoll"))
        .args(args)
        .env_remove("DIGITOLL_CREDENTIALS")
        .env_remove("DIGITOLL_CLIENT_ID")
        .env_remove("DIGITOLL_P12_PASSWORD")
        .output()
        .expect("run digitoll")
}

/// Runs the binary on a blocking thread so the in-process simulator keeps serving.
async fn digitoll_async(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        digitoll(&args)
    })
    .await
    .expect("join")
}

fn stdout_json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

async fn sim_with_demo(dir: &Path) -> RunningSimulator {
    Simulator::builder()
        .write_demo_credentials(dir)
        .start()
        .await
        .expect("start simulator")
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn keys_generate_writes_owner_only_key_and_public_jwk() {
    let dir = tempfile::tempdir().unwrap();
    let out = digitoll(&[
        "keys",
        "generate",
        "--out",
        &s(dir.path()),
        "--name",
        "acme",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = stdout_json(&out);
    let kid = summary["kid"].as_str().unwrap();

    let key_path = dir.path().join("acme.key.pem");
    let key = std::fs::read_to_string(&key_path).unwrap();
    assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key_path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let jwk: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("acme.jwk.json")).unwrap())
            .unwrap();
    assert_eq!(jwk["kty"], "RSA");
    assert_eq!(jwk["use"], "sig");
    assert_eq!(jwk["alg"], "RS256");
    assert_eq!(jwk["kid"], kid);
    assert!(
        jwk.get("d").is_none(),
        "public JWK must not carry the private exponent"
    );
    // The JSON summary never carries the private key.
    assert!(!String::from_utf8_lossy(&out.stdout).contains("PRIVATE KEY"));

    // A second run refuses to overwrite.
    let again = digitoll(&[
        "keys",
        "generate",
        "--out",
        &s(dir.path()),
        "--name",
        "acme",
    ]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
}

#[test]
fn keys_generate_rejects_unsupported_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let out = digitoll(&[
        "keys",
        "generate",
        "--out",
        &s(dir.path()),
        "--bits",
        "1024",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("2048, 3072 or 4096"));
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "nothing written"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cert_inspect_reads_pem_and_p12_and_flags_expired_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let sim = Simulator::builder().demo(false).start().await.unwrap();
    let ctl = sim.control();
    let ca = ctl.ca();
    let cert = ca.issue_business_certificate("310000000", "Kunde AS", CertOptions::default());
    let chain = dir.path().join("chain.pem");
    std::fs::write(&chain, cert.chain_pem()).unwrap();

    let out = digitoll_async(vec![
        "cert".into(),
        "inspect".into(),
        s(&chain),
        "--json".into(),
    ])
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info = stdout_json(&out);
    assert_eq!(info["organisation_number"], "310000000");
    assert_eq!(info["valid_now"], true);
    assert_eq!(info["chain"].as_array().unwrap().len(), 2);

    // The same chain and key as a .p12 made by OpenSSL (default format).
    let key = dir.path().join("key.pem");
    std::fs::write(&key, cert.key_pem().expose_secret()).unwrap();
    let p12 = dir.path().join("cert.p12");
    let status = digitoll_testkit::openssl()
        .args(["pkcs12", "-export", "-inkey", &s(&key), "-in", &s(&chain)])
        .args(["-out", &s(&p12), "-passout", "pass:hemmelig"])
        .status()
        .expect("run openssl");
    assert!(status.success());
    let out = digitoll_async(vec![
        "cert".into(),
        "inspect".into(),
        s(&p12),
        "--password".into(),
        "hemmelig".into(),
        "--json".into(),
    ])
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout_json(&out)["organisation_number"], "310000000");

    // A wrong password is a clear error that does not echo the password.
    let out = digitoll_async(vec![
        "cert".into(),
        "inspect".into(),
        s(&p12),
        "--password".into(),
        "feil-passord".into(),
    ])
    .await;
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("wrong password"), "{err}");
    assert!(!err.contains("feil-passord"));

    // An expired certificate: shown, and exit code 1.
    let now = OffsetDateTime::now_utc();
    let expired = ca.issue_business_certificate(
        "310000000",
        "Kunde AS",
        CertOptions {
            environment: CertEnvironment::Test,
            not_before: now - Duration::days(400),
            not_after: now - Duration::days(1),
            use_organization_identifier: true,
        },
    );
    let old = dir.path().join("old.pem");
    std::fs::write(&old, expired.chain_pem()).unwrap();
    let out = digitoll_async(vec!["cert".into(), "inspect".into(), s(&old)]).await;
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("NOT VALID NOW"), "{text}");
    assert!(
        text.contains("310000000"),
        "organizationIdentifier is read: {text}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn token_with_demo_credentials_shows_claims_but_not_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let sim = sim_with_demo(dir.path()).await;
    let creds = s(&dir.path().join("demo-client.json"));

    let out = digitoll_async(vec![
        "token".into(),
        "--credentials".into(),
        creds.clone(),
        "--scope".into(),
        "toll:movement/road/v2 toll:movement/entry".into(),
        "--json".into(),
    ])
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = stdout_json(&out);
    assert_eq!(v["issuer"], sim.issuer());
    assert_eq!(v["client_id"], digitoll_sim::DEMO_CLIENT_ID);
    assert_eq!(
        v["scopes"],
        serde_json::json!(["toll:movement/entry", "toll:movement/road/v2"])
    );
    assert_eq!(v["claims"]["client_amr"], "private_key_jwt");
    assert_eq!(
        v["claims"]["consumer"]["ID"],
        format!("0192:{}", digitoll_sim::DEMO_ORG_NO)
    );
    assert!(v.get("access_token").is_none());

    // --raw prints exactly the token, which the simulator issued as a JWT.
    let out = digitoll_async(vec![
        "token".into(),
        "--credentials".into(),
        creds,
        "-s".into(),
        "toll:movement/air".into(),
        "--raw".into(),
    ])
    .await;
    assert!(out.status.success());
    let raw = String::from_utf8(out.stdout).unwrap();
    assert_eq!(raw.trim().split('.').count(), 3);

    let token_posts = sim
        .control()
        .requests()
        .iter()
        .filter(|r| r.path == "/token")
        .count();
    assert_eq!(token_posts, 2);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn token_with_certificate_sends_x5c_and_explains_mp_errors() {
    let dir = tempfile::tempdir().unwrap();
    let sim = sim_with_demo(dir.path()).await;
    let d = |f: &str| s(&dir.path().join(f));

    // Certificate client: key + chain, no kid.
    let out = digitoll_async(vec![
        "token".into(),
        "--issuer".into(),
        sim.issuer().trim_end_matches('/').to_owned(),
        "--client-id".into(),
        format!("  {}  ", digitoll_sim::DEMO_CERT_CLIENT_ID),
        "--key".into(),
        d("demo-key.pem"),
        "--cert-chain".into(),
        d("demo-cert-chain.pem"),
        "-s".into(),
        "toll:movement/road/v2".into(),
        "--json".into(),
    ])
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout_json(&out)["claims"]["client_amr"],
        "virksomhetssertifikat"
    );

    // A scope the client does not have: exit 1, MP-200 with its hint.
    let out = digitoll_async(vec![
        "token".into(),
        "--credentials".into(),
        d("demo-client.json"),
        "-s".into(),
        "toll:declaration.feed".into(),
        "--json".into(),
    ])
    .await;
    assert_eq!(out.status.code(), Some(1));
    let v = stdout_json(&out);
    assert_eq!(v["mp_code"], "MP-200");
    assert!(v["hint"].as_str().unwrap().contains("Samarbeidsportalen"));

    // No key at all: a usage error that says what to pass.
    let out = digitoll_async(vec![
        "token".into(),
        "--env".into(),
        "test".into(),
        "--client-id".into(),
        "abc".into(),
        "-s".into(),
        "toll:movement/air".into(),
    ])
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--key FILE"));
    sim.shutdown().await;
}

#[test]
fn sim_command_serves_metadata_and_writes_demo_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_digitoll"))
        .args([
            "sim",
            "--listen",
            "127.0.0.1:0",
            "--demo-dir",
            &s(dir.path()),
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut first).unwrap();
    let url = first.trim().rsplit(' ').next().unwrap().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{first}");

    let creds: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("demo-client.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(creds["issuer"], url.as_str());
    let out = digitoll(&[
        "token",
        "--credentials",
        &s(&dir.path().join("demo-client.json")),
        "-s",
        "toll:movement/rail",
        "--json",
    ]);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout_json(&out)["scopes"],
        serde_json::json!(["toll:movement/rail"])
    );
}

fn examples() -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/road");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

#[test]
fn validate_accepts_every_valid_example_and_rejects_every_invalid_one_with_paths() {
    let files = examples();
    assert!(files.len() >= 20);
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let out = digitoll(&["validate", &s(&file), "--json"]);
        let report = &stdout_json(&out)[0];
        if name.starts_with("invalid-") {
            assert_eq!(out.status.code(), Some(1), "{name} must be rejected");
            assert_eq!(report["valid"], false, "{name}");
            let errors: Vec<&Value> = report["validationErrors"]
                .as_array()
                .unwrap()
                .iter()
                .chain(report["validationErrorList"].as_array().unwrap())
                .collect();
            assert!(!errors.is_empty(), "{name}: no errors listed");
            for e in errors {
                let path = e["field"]
                    .as_str()
                    .or(e["pointer"]["messageElementPath"].as_str());
                assert!(
                    path.is_some_and(|p| !p.is_empty()),
                    "{name}: error without a path: {e}"
                );
            }
        } else {
            // valid-* and incomplete-* are accepted by Toll (incomplete gets an MRN).
            assert_eq!(out.status.code(), Some(0), "{name}: {report}");
            assert_eq!(report["valid"], true, "{name}");
        }
    }
}

#[test]
fn validate_explains_in_text_and_handles_unreadable_input() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/road");
    let out = digitoll(&[
        "validate",
        &s(&dir.join("invalid-transport-missing-carrier-and-plate.json")),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("HTTP 400"), "{text}");
    assert!(text.contains("carrier: must not be null"), "{text}");

    let tmp = tempfile::tempdir().unwrap();
    let broken = tmp.path().join("broken.json");
    std::fs::write(&broken, "{\"documentIssueDate\": ").unwrap();
    let unknown = tmp.path().join("unknown.json");
    std::fs::write(&unknown, "{\"hello\": 1}").unwrap();
    let out = digitoll(&[
        "validate",
        &s(&broken),
        &s(&unknown),
        &s(&tmp.path().join("missing.json")),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("broken.json: not JSON"), "{text}");
    assert!(text.contains("pass --kind"), "{text}");
    assert!(text.contains("cannot read"), "{text}");

    // --kind overrides detection: a transport checked as a house is all wrong.
    let out = digitoll(&[
        "validate",
        "--kind",
        "house",
        &s(&dir.join("valid-transport.json")),
    ]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn demo_json_prints_three_mrns_the_linked_tree_and_entry() {
    let out = digitoll(&["demo", "--json", "--processing-ms", "50"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = stdout_json(&out);
    assert_eq!(v["ok"], true);
    let mrns = &v["mrns"];
    for kind in ["transport", "master", "house"] {
        let mrn = mrns[kind].as_str().unwrap();
        assert!(mrn.parse::<digitoll_model::Mrn>().is_ok(), "{kind}: {mrn}");
    }
    let masters = v["tree"]["masterConsignments"].as_array().unwrap();
    let linked = masters
        .iter()
        .find(|m| m["mrn"] == mrns["master"])
        .expect("the submitted master is in the tree");
    assert_eq!(linked["houseConsignments"][0]["mrn"], mrns["house"]);
    assert!(
        masters.iter().any(|m| m["received"] == false),
        "a referenced master not sent yet"
    );
    assert_eq!(v["entry"]["validEntry"], true);
    assert_eq!(v["entry"]["mrn"], mrns["transport"]);
    let routing = v["routing"].as_array().unwrap();
    assert_eq!(
        routing.len(),
        1,
        "one signal for the one house sent: {routing:?}"
    );
    assert_eq!(
        routing[0]["transportDocumentHouseLevel"]["referenceNumber"],
        "HWB-2026-0001"
    );
    let signal = routing[0]["routingResult"]["routing"].as_str().unwrap();
    assert!(["TO_ENTRY", "TO_CONTROL"].contains(&signal), "{signal}");
}

/// Example file, dated now like the demo does (so auto-cancellation and
/// arrival rules see a truck due in two hours).
fn dated_example(dir: &Path, name: &str) -> String {
    let road = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/road");
    dated_example_in(&road, dir, name)
}

#[tokio::test(flavor = "multi_thread")]
async fn road_commands_submit_update_tree_entry_and_delete_against_the_simulator() {
    let dir = tempfile::tempdir().unwrap();
    let sim = Simulator::builder()
        .processing_delay(std::time::Duration::from_millis(20))
        .write_demo_credentials(dir.path())
        .start()
        .await
        .unwrap();
    let creds = s(&dir.path().join("demo-client.json"));
    let road = |args: &[&str]| {
        let mut v: Vec<String> = vec![
            "road".into(),
            args[0].into(),
            "--credentials".into(),
            creds.clone(),
        ];
        v.extend(args[1..].iter().map(|a| a.to_string()));
        v
    };

    let out = digitoll_async(road(&["test-auth", "--json"])).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let transport = dated_example(dir.path(), "valid-transport.json");
    let out = digitoll_async(road(&["submit", &transport, "--json"])).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let t = stdout_json(&out);
    assert_eq!(t["kind"], "transport");
    let transport_mrn = t["mrn"].as_str().unwrap().to_owned();

    let master = dated_example(dir.path(), "valid-master.json");
    let out = digitoll_async(road(&["submit", &master, "--json"])).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let master_mrn = stdout_json(&out)["mrn"].as_str().unwrap().to_owned();

    // --no-wait returns the requestId; status follows it to the result.
    let house = dated_example(dir.path(), "valid-house-import-cude.json");
    let out = digitoll_async(road(&["submit", &house, "--no-wait", "--json"])).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rid = stdout_json(&out)["requestId"].as_str().unwrap().to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let out = digitoll_async(road(&["status", &rid, "--kind", "house", "--json"])).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout_json(&out)["status"], "SUCCESS");

    // The tree in text form shows the links and what is missing.
    let out = digitoll_async(road(&["tree", &transport_mrn])).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&master_mrn), "{text}");
    assert!(text.contains("house N703 HWB-2026-0001 MRN"), "{text}");
    assert!(text.contains("not received yet"), "{text}");

    // Update (PUT) the transport with a later estimated arrival.
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&transport).unwrap()).unwrap();
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    v["estimatedDateAndTimeOfArrival"] = (OffsetDateTime::now_utc() + Duration::hours(3))
        .format(&fmt)
        .unwrap()
        .into();
    let updated = dir.path().join("updated.json");
    std::fs::write(&updated, v.to_string()).unwrap();
    let out = digitoll_async(road(&["update", &transport_mrn, &s(&updated), "--json"])).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Entry: not before arrival, granted after.
    let out = digitoll_async(road(&["entry", &transport_mrn, "--json"])).await;
    assert_eq!(stdout_json(&out)["validEntry"], false);
    sim.control().simulate_arrival(&transport_mrn, "NO371001");
    let out = digitoll_async(road(&["entry", &transport_mrn])).await;
    assert!(String::from_utf8_lossy(&out.stdout).contains("entry granted at NO371001"));

    // An invalid message is refused before anything is sent, with paths.
    let posts_before = sim
        .control()
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    let bad = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/road/invalid-transport-missing-carrier-and-plate.json");
    let out = digitoll_async(road(&["submit", &s(&bad)])).await;
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("carrier: must not be null"), "{err}");
    assert!(err.contains("nothing was sent"), "{err}");
    let posts_after = sim
        .control()
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    assert_eq!(
        posts_before, posts_after,
        "no request reached the simulator"
    );

    // Delete the master; the tree then shows it as not received.
    let out = digitoll_async(road(&["delete", &master_mrn, "--kind", "master", "--json"])).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = digitoll_async(road(&["tree", &transport_mrn, "--json"])).await;
    let tree = stdout_json(&out);
    assert!(
        tree["masterConsignments"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["mrn"] != master_mrn.as_str()),
        "{tree}"
    );

    // A malformed MRN is a usage error that says what an MRN looks like.
    let out = digitoll_async(road(&["tree", "not-an-mrn"])).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("18 characters"));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn road_submit_refuses_every_invalid_example_before_sending() {
    let dir = tempfile::tempdir().unwrap();
    let sim = sim_with_demo(dir.path()).await;
    let creds = s(&dir.path().join("demo-client.json"));
    for file in examples() {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("invalid-") || name.contains("delete") || name.contains("relation") {
            continue;
        }
        let out = digitoll_async(vec![
            "road".into(),
            "submit".into(),
            "--credentials".into(),
            creds.clone(),
            s(&file),
            "--json".into(),
        ])
        .await;
        assert_eq!(
            out.status.code(),
            Some(1),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v = stdout_json(&out);
        assert_eq!(v["origin"], "local validation", "{name}: {v}");
        let errors = v["validationErrors"]
            .as_array()
            .or(v["validationErrorList"].as_array())
            .unwrap();
        assert!(!errors.is_empty(), "{name}");
    }
    let posts = sim
        .control()
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/api/movement"))
        .count();
    assert_eq!(posts, 0, "nothing reached Toll");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn border_commands_present_follow_routing_and_upload_documents() {
    let dir = tempfile::tempdir().unwrap();
    let sim = Simulator::builder()
        .processing_delay(std::time::Duration::from_millis(20))
        .write_demo_credentials(dir.path())
        .start()
        .await
        .unwrap();
    let creds = s(&dir.path().join("demo-client.json"));
    let with_creds = |args: &[&str]| {
        let mut v: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        v.extend(["--credentials".to_owned(), creds.clone()]);
        v
    };

    // A transport with a master and a house, then the border crossing.
    let mut mrns = Vec::new();
    for name in [
        "valid-transport.json",
        "valid-master.json",
        "valid-house-import-cude.json",
    ] {
        let file = dated_example(dir.path(), name);
        let out = digitoll_async(with_creds(&["road", "submit", &file, "--json"])).await;
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        mrns.push(stdout_json(&out)["mrn"].as_str().unwrap().to_owned());
    }
    sim.control().simulate_arrival(&mrns[0], "NO371001");

    // routing follow --once prints the signal and saves the cursor; a second
    // run resumes after it and prints nothing new.
    let cursor = s(&dir.path().join("cursor.json"));
    let follow = || with_creds(&["routing", "follow", "--once", "--cursor", &cursor, "--json"]);
    let out = digitoll_async(follow()).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(
        lines[0]["transportDocumentHouseLevel"]["referenceNumber"],
        "HWB-2026-0001"
    );
    let out = digitoll_async(follow()).await;
    assert!(out.status.success());
    assert!(out.stdout.is_empty(), "nothing repeated after a restart");

    // Entry status through the arrival API's query, for the road mode.
    let out = digitoll_async(with_creds(&["arrival", "entry", &mrns[0], "--json"])).await;
    assert_eq!(stdout_json(&out)["validEntry"], true);

    // Presentation with a fixed requestId is idempotent: the second run is
    // recognised as already presented.
    let examples_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/presentation");
    let mut body: Value = serde_json::from_str(
        &std::fs::read_to_string(examples_dir.join("house-consignment.json")).unwrap(),
    )
    .unwrap();
    body["transportMRN"] = mrns[0].clone().into();
    let pres = dir.path().join("present.json");
    std::fs::write(&pres, body.to_string()).unwrap();
    let present = || with_creds(&["present", "house", &s(&pres), "--json"]);
    let out = digitoll_async(present()).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout_json(&out)["alreadyPresented"], false);
    let out = digitoll_async(present()).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout_json(&out)["alreadyPresented"], true);

    // Document upload: a text invoice goes through; a PNG named .pdf, an empty
    // file and an 11 MB file are refused before anything is sent.
    let declaration = "123456789-10082022-1";
    let invoice = dir.path().join("invoice.txt");
    std::fs::write(&invoice, "Faktura 2026-17\nBeløp: 1200 NOK\n").unwrap();
    let out = digitoll_async(with_creds(&[
        "documents",
        "upload",
        declaration,
        &s(&invoice),
        "--type",
        "invoice",
        "--json",
    ]))
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout_json(&out)["documentType"], "faktura");
    assert_eq!(sim.control().uploaded_documents().len(), 1);

    let disguised = dir.path().join("scan.pdf");
    std::fs::write(&disguised, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap();
    let empty = dir.path().join("empty.pdf");
    std::fs::write(&empty, b"").unwrap();
    let big = dir.path().join("big.txt");
    std::fs::write(&big, vec![b'a'; 11 * 1024 * 1024]).unwrap();
    for (file, expect) in [(&disguised, "png"), (&empty, "empty"), (&big, "10")] {
        let out = digitoll_async(with_creds(&[
            "documents",
            "upload",
            declaration,
            &s(file),
            "--type",
            "faktura",
        ]))
        .await;
        assert_eq!(out.status.code(), Some(2), "{}", file.display());
        let err = String::from_utf8_lossy(&out.stderr).to_lowercase();
        assert!(err.contains(expect), "{}: {err}", file.display());
    }
    assert_eq!(
        sim.control().uploaded_documents().len(),
        1,
        "nothing more was sent"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn air_rail_and_maritime_share_the_movement_commands_with_their_own_rules() {
    let dir = tempfile::tempdir().unwrap();
    let sim = Simulator::builder()
        .processing_delay(std::time::Duration::from_millis(20))
        .write_demo_credentials(dir.path())
        .start()
        .await
        .unwrap();
    let creds = s(&dir.path().join("demo-client.json"));
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    for mode in ["air", "rail", "maritime"] {
        let mode_dir = root.join(mode);
        std::fs::create_dir_all(dir.path().join(mode)).unwrap();
        let valid = dated_example_in(&mode_dir, &dir.path().join(mode), "valid-transport.json");
        let out = digitoll_async(vec![
            mode.into(),
            "submit".into(),
            "--credentials".into(),
            creds.clone(),
            valid,
            "--json".into(),
        ])
        .await;
        assert!(
            out.status.success(),
            "{mode}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mrn = stdout_json(&out)["mrn"].as_str().unwrap().to_owned();
        assert!(
            sim.control().toll_message(&mrn).is_some(),
            "{mode}: stored at the simulator"
        );

        // Every invalid example of the mode is refused by `validate --mode`.
        for entry in std::fs::read_dir(&mode_dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let out = digitoll(&["validate", "--mode", mode, &s(&path)]);
            let expected = if name.starts_with("invalid-") { 1 } else { 0 };
            assert_eq!(
                out.status.code(),
                Some(expected),
                "{mode}/{name}: {}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
    }
    sim.shutdown().await;
}

fn dated_example_in(src_dir: &Path, out_dir: &Path, name: &str) -> String {
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string(src_dir.join(name)).unwrap()).unwrap();
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    let now = OffsetDateTime::now_utc();
    let arrival = (now + Duration::hours(2)).format(&fmt).unwrap();
    let obj = v.as_object_mut().unwrap();
    obj.insert("documentIssueDate".into(), now.format(&fmt).unwrap().into());
    for k in [
        "scheduledDateAndTimeOfArrival",
        "estimatedDateAndTimeOfArrival",
    ] {
        if obj.contains_key(k) {
            obj.insert(k.into(), arrival.clone().into());
        }
    }
    let path = out_dir.join(name);
    std::fs::write(&path, v.to_string()).unwrap();
    s(&path)
}

#[test]
fn validate_shows_warnings_with_their_rule_and_passes() {
    // A maritime transport without an operator: only the generic transport
    // table implies it, so the rule is a warning by default.
    let dir = tempfile::tempdir().unwrap();
    let example =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/maritime/valid-transport.json");
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(example).unwrap()).unwrap();
    v["activeBorderTransportMeans"]
        .as_object_mut()
        .unwrap()
        .remove("operator");
    let file = dir.path().join("no-operator.json");
    std::fs::write(&file, v.to_string()).unwrap();
    let out = digitoll(&["validate", "--mode", "maritime", &s(&file)]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("warning [transport.operator.required-maritime] activeBorderTransportMeans.operator: must not be null"),
        "{text}"
    );
    let out = digitoll(&["validate", "--mode", "maritime", "--json", &s(&file)]);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json[0]["warnings"][0]["rule"],
        "transport.operator.required-maritime"
    );
    assert_eq!(json[0]["valid"], true);
}
