//! `digitoll serve --sim` as a child process: a `sim` tenant added from
//! another process while the gateway runs (as an operator would with
//! `digitoll tenants add`) is registered at the built-in simulator without a
//! restart, so the tenant gets tokens through the broker.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const ROAD: &str = "toll:movement/road/v2";
/// A fixed master key for the test database (base64 of 32 bytes of 7).
const MASTER_KEY: &str = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_digitoll"));
    c.env("DIGITOLL_MASTER_KEY", MASTER_KEY)
        .env_remove("DIGITOLL_DATABASE_URL")
        .env_remove("DIGITOLL_MASTER_KEY_FILE")
        .env_remove("DIGITOLL_LISTEN")
        .env_remove("DIGITOLL_WORKERS")
        .env("RUST_LOG", "error");
    c
}

fn run(args: &[&str]) -> String {
    let out = bin().args(args).output().expect("run digitoll");
    assert!(
        out.status.success(),
        "digitoll {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `digitoll serve --sim` and returns it with its base URL.
fn serve(database: &str) -> (Serve, String) {
    let mut child = bin()
        .args([
            "serve",
            "--sim",
            "--database",
            database,
            "--listen",
            "127.0.0.1:0",
            "--workers",
            "0",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn digitoll serve");
    let stderr = child.stderr.take().expect("stderr pipe");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("digitoll gateway on http://")
                && let Some(addr) = rest.split_whitespace().next()
                && let Some(tx) = tx.take()
            {
                let _ = tx.send(format!("http://{addr}"));
            }
        }
    });
    let serve = Serve(child);
    let base = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("digitoll serve printed its address");
    (serve, base)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sim_tenant_added_while_serving_gets_tokens_without_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = format!("sqlite://{}?mode=rwc", dir.path().join("gw.db").display());
    let (_serve, base) = serve(&database);

    let out = run(&[
        "tenants",
        "add",
        "--database",
        &database,
        "--org",
        "310000000",
        "--name",
        "Later AS",
        "--env",
        "sim",
        "--client-id",
        "later-client",
        "--scope",
        ROAD,
        "--json",
    ]);
    let created: Value = serde_json::from_str(&out).expect("tenants add --json");
    let tenant = created["tenant"]["id"].as_str().expect("tenant id");
    let key = run(&[
        "api-keys",
        "create",
        "--database",
        &database,
        "--tenant",
        tenant,
        "--label",
        "t",
    ]);
    let key = key.trim();

    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    let (status, body) = loop {
        let res = http
            .post(format!("{base}/v1/tokens"))
            .bearer_auth(key)
            .json(&json!({ "scope": ROAD }))
            .send()
            .await
            .expect("POST /v1/tokens");
        let status = res.status().as_u16();
        let body: Value = res.json().await.expect("JSON body");
        if status == 200 || Instant::now() > deadline {
            break (status, body);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(status, 200, "the broker answers with a token: {body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], ROAD);
    assert!(
        body["access_token"].as_str().is_some_and(|t| t.len() > 10),
        "{body}"
    );
}
