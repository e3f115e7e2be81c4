//! `digitoll conformance` and `digitoll sim --replay`, run as a user would,
//! against the in-process simulator.

use std::process::{Command, Stdio};
use std::time::Duration;

use digitoll_sim::{DEMO_P12_PASSWORD, Simulator};

fn digitoll(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_digitoll"))
        .args(args)
        .env_remove("DIGITOLL_CREDENTIALS")
        .env_remove("DIGITOLL_TOLL")
        .output()
        .unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread")]
async fn conformance_matches_the_simulator_and_its_transcript_replays() {
    let dir = tempfile::tempdir().unwrap();
    let sim = Simulator::builder()
        .processing_delay(Duration::from_millis(200))
        .write_demo_credentials(dir.path())
        .start()
        .await
        .unwrap();
    let creds = dir.path().join("demo-client.json");
    let transcript = dir.path().join("run.jsonl");
    let creds_s = creds.to_str().unwrap();
    let transcript_s = transcript.to_str().unwrap();

    let out = digitoll(&[
        "conformance",
        "--credentials",
        creds_s,
        "--transcript",
        transcript_s,
        "--run-tag",
        "CLI1",
        "--wait-timeout",
        "10",
        "--json",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["differences"], serde_json::json!([]));
    assert_eq!(report["run_tag"], "CLI1");
    assert!(report["steps"].as_array().unwrap().len() > 20, "{report}");

    // The transcript: no key, no password, no token, no grant.
    let text = std::fs::read_to_string(&transcript).unwrap();
    let key_pem = std::fs::read_to_string(dir.path().join("demo-key.pem")).unwrap();
    let key_line = key_pem.lines().nth(1).unwrap();
    assert!(
        !text.contains(key_line),
        "the private key is in the transcript"
    );
    assert!(
        !text.contains(DEMO_P12_PASSWORD),
        "the .p12 password is in the transcript"
    );
    assert!(
        !text.contains("eyJ"),
        "a JWT (token or grant) is in the transcript"
    );
    assert!(
        text.contains("\"assertion\",\"[REDACTED]\""),
        "the grant field is kept, redacted"
    );

    // The transcript replayed by `digitoll sim --replay`: the same scenario
    // (same run tag) gets the recorded answers, with nothing unrecorded.
    let port = free_port();
    let replay_url = format!("http://127.0.0.1:{port}/");
    let mut replay = Command::new(env!("CARGO_BIN_EXE_digitoll"))
        .args([
            "sim",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--demo-dir",
            dir.path().join("replay-demo").to_str().unwrap(),
            "--replay",
            transcript_s,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    let mut up = false;
    for _ in 0..100 {
        if http
            .get(format!("{replay_url}sim/clock"))
            .send()
            .await
            .is_ok()
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "the replaying simulator did not start");
    let replayed = dir.path().join("replayed.jsonl");
    let out = digitoll(&[
        "conformance",
        "--credentials",
        creds_s,
        "--toll",
        &replay_url,
        "--maskinporten-url",
        &replay_url,
        "--transcript",
        replayed.to_str().unwrap(),
        "--run-tag",
        "CLI1",
        "--wait-timeout",
        "10",
        "--json",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let again: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
    let mrn = |r: &serde_json::Value| {
        r["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == "road.transport.create")
            .map(|s| s["detail"].clone())
    };
    assert_eq!(mrn(&again), mrn(&report), "the recorded MRN");
    let replayed_text = std::fs::read_to_string(&replayed).unwrap();
    assert!(!replayed_text.contains("\"status\":599"), "{replayed_text}");
    assert_eq!(out.status.code(), Some(0), "{stdout}");

    // An unrecorded request names the closest recorded one.
    let resp = http
        .get(format!("{replay_url}api/movement/road/v2/test-auth2"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 599);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("test-auth"),
        "{body}"
    );
    replay.kill().unwrap();
    let _ = replay.wait();
    sim.shutdown().await;
}

#[test]
fn production_needs_the_explicit_flag() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k.pem");
    let out = digitoll(&[
        "keys",
        "generate",
        "--out",
        dir.path().to_str().unwrap(),
        "--name",
        "k",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::rename(dir.path().join("k.key.pem"), &key).unwrap();
    let out = digitoll(&[
        "conformance",
        "--env",
        "prod",
        "--client-id",
        "c",
        "--key",
        key.to_str().unwrap(),
        "--kid",
        "k",
        "--toll",
        "prod",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--i-know-this-is-production"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_without_any_scope_cannot_run_and_exits_2_with_its_transcript() {
    let dir = tempfile::tempdir().unwrap();
    let sim = Simulator::builder()
        .write_demo_credentials(dir.path())
        .start()
        .await
        .unwrap();
    let creds = dir.path().join("demo-client.json");
    let transcript = dir.path().join("none.jsonl");
    let out = digitoll(&[
        "conformance",
        "--credentials",
        creds.to_str().unwrap(),
        "--client-id",
        "not-registered",
        "--transcript",
        transcript.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains("Could not complete: Maskinporten gave no token"),
        "{stdout}"
    );
    // Every refused token request is in the transcript.
    let text = std::fs::read_to_string(&transcript).unwrap();
    assert_eq!(
        text.lines().count(),
        digitoll_sim::TOLL_SCOPES.len(),
        "{text}"
    );
    assert!(text.contains("scopes.discover"));
    sim.shutdown().await;
}
