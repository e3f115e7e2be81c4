//! `digitoll onboard`, `doctor`, `clients` and `keys rotate` as a user runs
//! them: the real binary against the in-process simulator, and the
//! interactive guide through a pseudo-terminal.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use digitoll_sim::{RunningSimulator, Simulator};
use maskinporten::Algorithm;
use secrecy::ExposeSecret as _;
use serde_json::{Value, json};
use time::OffsetDateTime;

const ORG: &str = "974760673";
const ROAD: &str = "toll:movement/road/v2";

fn command(args: &[String]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_digitoll"));
    c.args(args);
    for v in [
        "DIGITOLL_CREDENTIALS",
        "DIGITOLL_CLIENT_ID",
        "DIGITOLL_P12_PASSWORD",
        "DIGITOLL_ENV",
        "DIGITOLL_ISSUER",
        "DIGITOLL_TOLL",
        "DIGITOLL_SELFSERVICE_URL",
    ] {
        c.env_remove(v);
    }
    c
}

/// Runs the binary on a blocking thread so the in-process simulator keeps serving.
async fn digitoll(args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || command(&args).output().expect("run digitoll"))
        .await
        .expect("join")
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// A simulator where Toll granted ORG the road scope, with an admin client
/// for the self-service API; returns the admin credentials file.
async fn sim_with_admin(dir: &Path) -> (RunningSimulator, String) {
    let sim = Simulator::builder()
        .demo(false)
        .processing_delay(Duration::from_millis(20))
        .start()
        .await
        .unwrap();
    let ctl = sim.control();
    ctl.register_organisation(ORG, "Acme Transport AS");
    ctl.grant_scope(ORG, ROAD);
    let pair = maskinporten::generate_key_pair(2048, Algorithm::RS256).unwrap();
    ctl.register_admin_client("admin-client", ORG, vec![pair.public_jwk.clone()]);
    std::fs::write(dir.join("admin.key.pem"), pair.private_pem.expose_secret()).unwrap();
    let admin = dir.join("admin.json");
    std::fs::write(
        &admin,
        json!({"client_id": "admin-client", "issuer": sim.issuer(), "kid": pair.kid, "key_file": "admin.key.pem"})
            .to_string(),
    )
    .unwrap();
    (sim, s(&admin))
}

/// A road example dated now (the simulator checks arrival times).
fn dated_example(dir: &Path, name: &str) -> String {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/road")
        .join(name);
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(src).unwrap()).unwrap();
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    let now = OffsetDateTime::now_utc();
    let obj = v.as_object_mut().unwrap();
    obj.insert("documentIssueDate".into(), now.format(&fmt).unwrap().into());
    for k in [
        "scheduledDateAndTimeOfArrival",
        "estimatedDateAndTimeOfArrival",
    ] {
        if obj.contains_key(k) {
            obj.insert(
                k.into(),
                (now + time::Duration::hours(2))
                    .format(&fmt)
                    .unwrap()
                    .into(),
            );
        }
    }
    let path = dir.join(name);
    std::fs::write(&path, v.to_string()).unwrap();
    s(&path)
}

#[tokio::test(flavor = "multi_thread")]
async fn scripted_onboarding_from_an_empty_folder_to_an_accepted_road_message() {
    let tmp = tempfile::tempdir().unwrap();
    let (sim, admin) = sim_with_admin(tmp.path()).await;
    let out_dir = tmp.path().join("acme");
    assert!(!out_dir.exists());

    let out = digitoll(&[
        "onboard",
        "--non-interactive",
        "--issuer",
        &sim.issuer(),
        "--org-no",
        ORG,
        "--org-name",
        "Acme Transport AS",
        "--mode",
        "road",
        "--admin-credentials",
        &admin,
        "--out",
        &s(&out_dir),
    ])
    .await;
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(t.contains("toll:movement/road/v2"), "{t}");
    assert!(t.contains("nb: Innsending og henting"), "{t}");
    assert!(t.contains("en: Submitting and retrieving road"), "{t}");
    assert!(t.contains("Created Maskinporten client"), "{t}");
    assert!(t.contains("all good"), "the doctor ran and passed: {t}");

    // The credentials file has the shape `--credentials` reads.
    let creds_path = out_dir.join("credentials.json");
    let creds: Value =
        serde_json::from_str(&std::fs::read_to_string(&creds_path).unwrap()).unwrap();
    let client_id = creds["client_id"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(client_id).is_ok());
    assert_eq!(creds["issuer"], sim.issuer());
    assert_eq!(creds["scopes"], json!([ROAD]));
    assert_eq!(creds["key_file"], "maskinporten.key.pem");
    // The self-service API told when the key expires; the doctor reads it.
    let exp = OffsetDateTime::parse(
        creds["key_expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!((exp - OffsetDateTime::now_utc()).whole_days(), 364);
    assert!(t.contains("Registered key not expired"), "{t}");
    assert!(t.contains("(364 days left)"), "{t}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(out_dir.join("maskinporten.key.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // The client exists in "Samarbeidsportalen" with the key and scope.
    let registered = sim
        .control()
        .clients()
        .into_iter()
        .find(|c| c.client_id == client_id)
        .unwrap();
    assert_eq!(registered.scopes, [ROAD]);
    assert_eq!(registered.keys[0]["kid"], creds["kid"]);

    // And it works: a road message is accepted.
    let master = dated_example(tmp.path(), "valid-master.json");
    let out = digitoll(&[
        "road",
        "submit",
        "--credentials",
        &s(&creds_path),
        &master,
        "--json",
    ])
    .await;
    assert!(out.status.success(), "{}", text(&out));
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["kind"], "master-consignment");
    assert_eq!(result["mrn"].as_str().unwrap().len(), 18);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn onboarding_by_hand_saves_answers_and_finishes_with_the_client_id() {
    let tmp = tempfile::tempdir().unwrap();
    let (sim, _) = sim_with_admin(tmp.path()).await;
    let out_dir = tmp.path().join("by-hand");
    // Without a client id: the steps, the JWK and the saved answers.
    let out = digitoll(&[
        "onboard",
        "--non-interactive",
        "--issuer",
        &sim.issuer(),
        "--org-no",
        ORG,
        "--mode",
        "road,air",
        "--presentation",
        "--documents",
        "--out",
        &s(&out_dir),
    ])
    .await;
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    for needle in [
        "Selvbetjening av integrasjoner i ID-porten/Maskinporten",
        "sjolvbetjening.test.samarbeid.digdir.no",
        "sjolvbetjening.samarbeid.digdir.no",
        "Toll's Digitoll registration form",
        "toll:movement/air",
        "toll:movement/entry",
        "toll:goodsdeclaration/document.write",
        "Egne offentlige nøkler",
        "--client-id <CLIENT-ID>",
    ] {
        assert!(t.contains(needle), "missing {needle:?} in {t}");
    }
    assert!(!out_dir.join("credentials.json").exists());
    let answers = out_dir.join("onboarding.json");
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&answers).unwrap()).unwrap();
    assert_eq!(saved["modes"], json!(["road", "air"]));

    // The user registers the client by hand (here: in the simulator) …
    let jwk: Value = serde_json::from_str(
        &std::fs::read_to_string(out_dir.join("maskinporten.jwk.json")).unwrap(),
    )
    .unwrap();
    let client_id = "3f0e8a52-6c1d-4b7e-9a2f-5d8c1e0b7a64";
    let scopes = [
        ROAD,
        "toll:movement/air",
        "toll:movement/entry",
        "toll:goodsdeclaration/document.write",
    ];
    sim.control()
        .register_client(digitoll_sim::ClientRegistration::with_keys(
            client_id,
            ORG,
            scopes,
            vec![jwk],
        ));
    for scope in &scopes[1..] {
        sim.control().grant_scope(ORG, scope);
    }
    // … and finishes with the id pasted with stray whitespace and capitals.
    let pasted = format!("  {}\t", client_id.to_uppercase());
    let out = digitoll(&[
        "onboard",
        "--non-interactive",
        "--answers",
        &s(&answers),
        "--out",
        &s(&out_dir),
        "--client-id",
        &pasted,
    ])
    .await;
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    let creds: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("credentials.json")).unwrap())
            .unwrap();
    assert_eq!(creds["client_id"], client_id);
    assert!(t.contains("all good"), "{t}");

    // A client id that is not a UUID is refused.
    let out = digitoll(&[
        "onboard",
        "--non-interactive",
        "--answers",
        &s(&answers),
        "--out",
        &s(&out_dir),
        "--client-id",
        "my-client",
    ])
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("is not a client id"), "{}", text(&out));
    // Non-interactive without the needed answers names the flag.
    let out = digitoll(&[
        "onboard",
        "--non-interactive",
        "--issuer",
        &sim.issuer(),
        "--out",
        &s(&tmp.path().join("x")),
    ])
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("--org-no"), "{}", text(&out));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn vendor_onboarding_writes_the_tenant_record_and_command() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("customer");
    let out = digitoll(&[
        "onboard",
        "--non-interactive",
        "--vendor",
        "--env",
        "test",
        "--org-no",
        ORG,
        "--org-name",
        "Kunde AS",
        "--mode",
        "maritime",
        "--client-id",
        "3f0e8a52-6c1d-4b7e-9a2f-5d8c1e0b7a64",
        "--out",
        &s(&out_dir),
    ])
    .await;
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    let tenant: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("tenant.json")).unwrap())
            .unwrap();
    assert_eq!(tenant["org"], ORG);
    assert_eq!(tenant["environment"], "test");
    assert_eq!(tenant["scopes"], json!(["toll:movement/maritime"]));
    assert!(
        tenant["key_pem_file"]
            .as_str()
            .unwrap()
            .ends_with("maskinporten.key.pem")
    );
    assert!(t.contains("digitoll tenants add --org 974760673 --name 'Kunde AS' --env test --client-id 3f0e8a52-6c1d-4b7e-9a2f-5d8c1e0b7a64 --scope toll:movement/maritime --key-pem"), "{t}");
    assert!(!out_dir.join("credentials.json").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_command_renders_text_and_json_with_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let (sim, admin) = sim_with_admin(tmp.path()).await;
    // The admin client has no Toll scope: the doctor names the missing grant.
    let out = digitoll(&[
        "doctor",
        "--credentials",
        &admin,
        "--scope",
        "idporten:dcr.read",
        "--scope",
        ROAD,
        "--json",
    ])
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "fail");
    let checks = v["checks"].as_array().unwrap();
    let by_id = |id: &str| checks.iter().find(|c| c["id"] == id).unwrap().clone();
    assert_eq!(by_id("token:idporten:dcr.read")["status"], "pass");
    assert_eq!(by_id("token:toll:movement/road/v2")["mp_code"], "MP-200");

    // Text: one line per check and the fix under a failure.
    let out = digitoll(&[
        "doctor",
        "--credentials",
        &admin,
        "--scope",
        "idporten:dcr.read",
        "--scope",
        ROAD,
    ])
    .await;
    let t = text(&out);
    assert!(t.contains("✓ Configuration readable"), "{t}");
    assert!(
        t.contains("✗ Maskinporten token for toll:movement/road/v2"),
        "{t}"
    );
    assert!(t.contains("fix: MP-200"), "{t}");
    // Only the admin scope: exit 0.
    let out = digitoll(&[
        "doctor",
        "--credentials",
        &admin,
        "--scope",
        "idporten:dcr.read",
    ])
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // A credentials file that does not parse is the first failure.
    let bad = tmp.path().join("bad.json");
    std::fs::write(&bad, "{\"client_id\": 5}").unwrap();
    let out = digitoll(&["doctor", "--credentials", &s(&bad), "--json"]).await;
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["checks"][0]["id"], "config");
    assert_eq!(v["checks"][0]["status"], "fail");
    assert!(
        v["checks"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("client_id")
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn clients_commands_and_key_rotation_through_the_self_service_api() {
    let tmp = tempfile::tempdir().unwrap();
    let (sim, admin) = sim_with_admin(tmp.path()).await;
    let a = |args: &[&str]| {
        let mut v: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
        v.extend([
            "--credentials".to_owned(),
            admin.clone(),
            "--json".to_owned(),
        ]);
        v
    };
    let run = |v: Vec<String>| async move {
        let refs: Vec<&str> = v.iter().map(String::as_str).collect();
        digitoll(&refs).await
    };
    let out = run(a(&["clients", "create", "--name", "Road", "--scope", ROAD])).await;
    assert!(out.status.success(), "{}", text(&out));
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = created["client_id"].as_str().unwrap().to_owned();

    let out = run(a(&[
        "clients",
        "scopes",
        "add",
        &id,
        "--scope",
        "toll:movement/air",
    ]))
    .await;
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["scopes"], json!([ROAD, "toll:movement/air"]));
    let out = run(a(&[
        "clients",
        "scopes",
        "remove",
        &id,
        "--scope",
        "toll:movement/air",
    ]))
    .await;
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["scopes"], json!([ROAD]));

    // Upload a generated key; a private JWK would be refused.
    let out = digitoll(&[
        "keys",
        "generate",
        "--out",
        &s(tmp.path()),
        "--name",
        "road",
        "--json",
    ])
    .await;
    let kid = serde_json::from_slice::<Value>(&out.stdout).unwrap()["kid"]
        .as_str()
        .unwrap()
        .to_owned();
    let jwk = s(&tmp.path().join("road.jwk.json"));
    let out = run(a(&["clients", "keys", "upload", &id, &jwk])).await;
    assert!(out.status.success(), "{}", text(&out));
    let out = run(a(&["clients", "keys", "list", &id])).await;
    assert!(out.status.success(), "{}", text(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["expiry"][0]["kid"], kid.as_str());
    assert_eq!(v["expiry"][0]["days_left"], 364);
    let out = run(a(&["clients", "list"])).await;
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|c| c["client_id"] == id.as_str())
    );

    // A credentials file for the client, then rotation with a propagation delay.
    let creds = tmp.path().join("road.json");
    std::fs::write(
        &creds,
        json!({"client_id": id, "issuer": sim.issuer(), "kid": kid, "key_file": "road.key.pem", "scopes": [ROAD]})
            .to_string(),
    )
    .unwrap();
    sim.control()
        .set_key_propagation_delay(Duration::from_millis(500));
    let out = digitoll(&[
        "keys",
        "rotate",
        "--credentials",
        &s(&creds),
        "--admin-credentials",
        &admin,
        "--grace",
        "0",
        "--poll",
        "1",
        "--timeout",
        "20",
        "--json",
    ])
    .await;
    assert!(out.status.success(), "{}", text(&out));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["old_kid"], kid.as_str());
    assert_eq!(r["old_removed"], true);
    assert!(r["propagation_ms"].as_u64().unwrap() >= 400, "{r}");
    let new_kid = r["new_kid"].as_str().unwrap();
    let updated: Value = serde_json::from_str(&std::fs::read_to_string(&creds).unwrap()).unwrap();
    assert_eq!(updated["kid"], new_kid);
    assert_ne!(updated["key_file"], "road.key.pem");
    assert!(updated["key_expires_at"].is_string());
    // Once the removal has propagated, the rotated file still works.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let keys: Vec<String> = sim
        .control()
        .clients()
        .into_iter()
        .find(|c| c.client_id == id)
        .unwrap()
        .keys
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(keys, [new_kid]);
    let out = digitoll(&["token", "--credentials", &s(&creds), "-s", ROAD, "--json"]).await;
    assert!(out.status.success(), "{}", text(&out));
    sim.shutdown().await;
}

/// Waits for `prompt`, keeps what came before it, and answers.
fn step(p: &mut expectrl::session::OsSession, seen: &mut String, prompt: &str, answer: &str) {
    use expectrl::Expect as _;
    let found = p
        .expect(prompt)
        .unwrap_or_else(|e| panic!("waiting for {prompt:?}: {e}\nso far:\n{seen}"));
    seen.push_str(&String::from_utf8_lossy(found.before()));
    seen.push_str(prompt);
    p.send_line(answer).unwrap();
}

/// The interactive guide in a pseudo-terminal: prompts, a wrong answer
/// re-asked, the client id pasted with spaces, the doctor at the end.
#[tokio::test(flavor = "multi_thread")]
async fn interactive_onboarding_in_a_terminal() {
    use expectrl::Expect as _;
    let tmp = tempfile::tempdir().unwrap();
    let (sim, _) = sim_with_admin(tmp.path()).await;
    let out_dir = tmp.path().join("interactive");
    let issuer = sim.issuer();
    let control = sim.control();
    let dir = out_dir.clone();
    let transcript = tokio::task::spawn_blocking(move || {
        let args = vec![
            "onboard".to_owned(),
            "--issuer".into(),
            issuer,
            "--out".into(),
            s(&dir),
        ];
        let mut p = expectrl::Session::spawn(command(&args)).expect("spawn in a pty");
        p.set_expect_timeout(Some(Duration::from_secs(60)));
        let seen = &mut String::new();
        step(&mut p, seen, "eSeal", "n");
        step(&mut p, seen, "Organisation number", "974760674");
        // The wrong check digit is explained and asked again.
        step(&mut p, seen, "Organisation number", ORG);
        step(&mut p, seen, "Organisation name", "Acme Transport AS");
        step(&mut p, seen, "Transport modes", "");
        step(&mut p, seen, "presentation API", "n");
        step(&mut p, seen, "routing API", "n");
        step(&mut p, seen, "supporting documents", "n");
        step(&mut p, seen, "Business certificate (.p12)", "");
        // The key was generated: register the client as Samarbeidsportalen would.
        let found = p.expect("Client id from Samarbeidsportalen").unwrap();
        seen.push_str(&String::from_utf8_lossy(found.before()));
        seen.push_str("Client id from Samarbeidsportalen");
        let jwk: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join("maskinporten.jwk.json")).unwrap(),
        )
        .unwrap();
        control.register_client(digitoll_sim::ClientRegistration::with_keys(
            "9a7b6c5d-4e3f-4a1b-8c2d-1e0f9a8b7c6d",
            ORG,
            [ROAD],
            vec![jwk],
        ));
        p.send_line("not-a-uuid").unwrap();
        step(
            &mut p,
            seen,
            "Client id from Samarbeidsportalen",
            "  9a7b6c5d-4e3f-4a1b-8c2d-1e0f9a8b7c6d  ",
        );
        // Eof matches everything that is left.
        let rest = p.expect(expectrl::Eof).unwrap();
        seen.push_str(&String::from_utf8_lossy(rest.before()));
        for m in rest.matches() {
            seen.push_str(&String::from_utf8_lossy(m));
        }
        std::mem::take(seen)
    })
    .await
    .unwrap();
    for needle in [
        "invalid check digit",
        "Scopes you need / Scopes du trenger",
        "toll:movement/road/v2",
        "Public JWK to upload",
        "is not a client id",
        "Wrote",
        "all good",
    ] {
        assert!(
            transcript.contains(needle),
            "missing {needle:?} in:\n{transcript}"
        );
    }
    let creds: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("credentials.json")).unwrap())
            .unwrap();
    assert_eq!(creds["client_id"], "9a7b6c5d-4e3f-4a1b-8c2d-1e0f9a8b7c6d");
    assert_eq!(creds["org_name"], "Acme Transport AS");
    sim.shutdown().await;
}
