//! Crash test of the gateway: the real `digitoll serve` binary as child
//! processes, killed with SIGKILL (`std::process::Child::kill`) in the middle
//! of a load of a few thousand submissions, then restarted on the same
//! database.
//!
//! The simulator (Maskinporten + Toll) runs in this test process; the tenant is
//! registered with environment `sim` and the simulator's URL as its issuer.
//! Load tasks submit masters and houses with unique document numbers, each
//! with its document number as `Idempotency-Key`, and retry a request whose
//! answer was lost to the crash until the gateway answers 202. At the end:
//!
//! * every message the gateway accepted (202) is `accepted` with an MRN, and
//!   the MRNs are distinct (none lost, none stuck, none rejected as a duplicate);
//! * the simulator holds exactly one message per document number, with the
//!   MRN the gateway recorded (none sent twice);
//! * one gateway message per document number (the idempotency key held
//!   across the crash).
//!
//! Runs on SQLite (one instance, killed and restarted) and on PostgreSQL with
//! two instances sharing the database (one killed mid-load and restarted while
//! the other keeps working). The PostgreSQL case needs
//! `DIGITOLL_TEST_POSTGRES_URL` (set by `bash scripts/test.sh`).

use std::collections::{HashMap, HashSet};
use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use digitoll_sim::{ClientRegistration, RunningSimulator, Simulator};
use serde_json::{Value, json};

const ROAD: &str = "toll:movement/road/v2";
const MASTER: &str = include_str!("../../../examples/road/valid-master.json");
const HOUSE: &str = include_str!("../../../examples/road/valid-house-import-cude.json");
/// A fixed master key for the test databases (base64 of 32 bytes of 7).
const MASTER_KEY: &str = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";
/// Messages per run: half masters, half houses.
const MESSAGES: usize = 2_000;
/// Concurrent submitting tasks.
const SUBMITTERS: usize = 8;

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

/// Runs a short CLI command to completion and returns its stdout.
async fn cli(args: Vec<String>) -> String {
    tokio::task::spawn_blocking(move || {
        let out = bin().args(&args).output().expect("run digitoll");
        assert!(
            out.status.success(),
            "digitoll {args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    })
    .await
    .expect("join")
}

/// One `digitoll serve` child process.
struct Gateway {
    child: Child,
    base: String,
    log: Arc<Mutex<String>>,
}

impl Gateway {
    /// Starts `digitoll serve` on a free loopback port and waits until it
    /// prints its address (after the database is open and migrated).
    fn start(database: &str, name: &str) -> Self {
        let mut child = bin()
            .args([
                "serve",
                "--database",
                database,
                "--listen",
                "127.0.0.1:0",
                "--workers",
                "16",
                "--worker-name",
                name,
                "--rate-limit",
                "1000000",
                "--burst",
                "1000000",
                // A killed instance's jobs come back after this lease.
                "--job-lease-secs",
                "10",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn digitoll serve");
        let stderr = child.stderr.take().expect("stderr pipe");
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("digitoll gateway on http://")
                    && let Some(addr) = rest.split_whitespace().next()
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(format!("http://{addr}"));
                }
                let mut l = sink.lock().unwrap_or_else(|e| e.into_inner());
                l.push_str(&line);
                l.push('\n');
            }
        });
        let base = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| {
                let _ = child.kill();
                panic!(
                    "digitoll serve ({name}) did not start within 60 s:\n{}",
                    log.lock().unwrap_or_else(|e| e.into_inner())
                )
            });
        Self { child, base, log }
    }

    /// SIGKILL: no graceful shutdown, no finishing of in-flight jobs.
    fn kill(mut self) {
        self.child.kill().expect("kill the gateway");
        let _ = self.child.wait();
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An example message dated now, with its document number made unique.
fn message(kind: &str, suffix: &str) -> Value {
    let text = if kind == "master" { MASTER } else { HOUSE };
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("ns");
    let fmt = |t: time::OffsetDateTime| {
        t.format(&time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))
        .expect("format")
    };
    let mut v: Value = serde_json::from_str(text).expect("example");
    if let Some(obj) = v.as_object_mut() {
        for (k, val) in obj.iter_mut() {
            match k.as_str() {
                "documentIssueDate" => *val = Value::String(fmt(now)),
                "scheduledDateAndTimeOfArrival" | "estimatedDateAndTimeOfArrival" => {
                    *val = Value::String(fmt(now + time::Duration::hours(2)))
                }
                _ => {}
            }
        }
    }
    for pointer in [
        "/consignmentMasterLevel/transportDocumentMasterLevel/documentNumber",
        "/consignmentHouseLevel/transportDocumentHouseLevel/documentNumber",
    ] {
        if let Some(Value::String(s)) = v.pointer_mut(pointer) {
            s.push_str(suffix);
        }
    }
    v
}

fn document_number(kind: &str, body: &Value) -> String {
    let pointer = if kind == "master" {
        "/consignmentMasterLevel/transportDocumentMasterLevel/documentNumber"
    } else {
        "/consignmentHouseLevel/transportDocumentHouseLevel/documentNumber"
    };
    body.pointer(pointer)
        .and_then(Value::as_str)
        .expect("document number")
        .to_owned()
}

/// Registers a `sim` tenant with a generated key through the CLI, registers
/// its public JWK at the simulator, and returns a tenant API key.
async fn tenant(database: &str, sim: &RunningSimulator) -> String {
    let (org, client_id) = ("310000000", "crash-client");
    let out = cli([
        "tenants",
        "add",
        "--database",
        database,
        "--org",
        org,
        "--name",
        "Crash AS",
        "--env",
        "sim",
        "--issuer-url",
        sim.base_url().as_str(),
        "--client-id",
        client_id,
        "--scope",
        ROAD,
        "--json",
    ]
    .map(String::from)
    .to_vec())
    .await;
    let created: Value = serde_json::from_str(&out).expect("tenants add --json");
    let id = created["tenant"]["id"]
        .as_str()
        .expect("tenant id")
        .to_owned();
    let ctl = sim.control();
    ctl.register_organisation(org, "Crash AS");
    ctl.register_client(ClientRegistration::with_keys(
        client_id,
        org,
        [ROAD],
        vec![created["public_jwk"].clone()],
    ));
    ctl.grant_scope(org, ROAD);
    let key = cli([
        "api-keys",
        "create",
        "--database",
        database,
        "--tenant",
        &id,
        "--label",
        "crash",
    ]
    .map(String::from)
    .to_vec())
    .await;
    key.trim().to_owned()
}

/// The live gateways' base URLs; submitters spread requests over them.
type Live = Arc<RwLock<Vec<String>>>;

fn pick(live: &Live, n: usize) -> Option<String> {
    let l = live.read().unwrap_or_else(|e| e.into_inner());
    (!l.is_empty()).then(|| l[n % l.len()].clone())
}

/// Submits one message until the gateway answers 202 (a request whose answer
/// is lost to the crash is sent again with the same idempotency key).
/// Returns the gateway's message id.
async fn submit_until_accepted(
    http: &reqwest::Client,
    live: &Live,
    key: &str,
    kind: &str,
    body: &Value,
    doc: &str,
    n: usize,
) -> String {
    let deadline = Instant::now() + Duration::from_secs(120);
    let envelope = json!({"mode": "road", "kind": kind, "body": body}).to_string();
    let mut tries = 0usize;
    loop {
        assert!(
            Instant::now() < deadline,
            "{doc}: no 202 within 120 s of retrying"
        );
        let Some(base) = pick(live, n + tries) else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        tries += 1;
        let sent = http
            .post(format!("{base}/v1/messages"))
            .bearer_auth(key)
            .header("content-type", "application/json")
            .header("idempotency-key", doc)
            .body(envelope.clone())
            .send()
            .await;
        let resp = match sent {
            Ok(r) => r,
            Err(_) => {
                // The gateway died under this request: its outcome is
                // unknown, so send it again (the idempotency key settles it).
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        match status {
            202 => {
                let v: Value = serde_json::from_str(&text).expect("202 body");
                return v["id"].as_str().expect("message id").to_owned();
            }
            // Connection torn down mid-answer or the store briefly unavailable.
            500 | 502 | 503 => tokio::time::sleep(Duration::from_millis(50)).await,
            other => panic!("{doc}: unexpected answer {other}: {text}"),
        }
    }
}

struct Submitted {
    kind: &'static str,
    doc: String,
    id: String,
}

/// Runs the whole load; `crash` is called (once) when `crash_after` messages
/// have been accepted, while the submitters keep going.
async fn load(
    live: Live,
    key: String,
    run: &str,
    crash_after: usize,
    crash: impl AsyncFnOnce(),
) -> Vec<Submitted> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(SUBMITTERS)
        .build()
        .expect("http client");
    let accepted = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for task in 0..SUBMITTERS {
        let (http, live, key, accepted) =
            (http.clone(), live.clone(), key.clone(), accepted.clone());
        let run = run.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            for n in (task..MESSAGES).step_by(SUBMITTERS) {
                let kind = if n % 2 == 0 { "master" } else { "house" };
                let body = message(kind, &format!("-{run}-{n:05}"));
                let doc = document_number(kind, &body);
                let id = submit_until_accepted(&http, &live, &key, kind, &body, &doc, n).await;
                accepted.fetch_add(1, Ordering::Relaxed);
                out.push(Submitted { kind, doc, id });
            }
            out
        }));
    }
    let started = Instant::now();
    while accepted.load(Ordering::Relaxed) < crash_after {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "only {} of {MESSAGES} accepted after 120 s",
            accepted.load(Ordering::Relaxed)
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    eprintln!(
        "{run}: killing a gateway after {} accepted ({:.1} s)",
        accepted.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    );
    crash().await;
    let mut all = Vec::with_capacity(MESSAGES);
    for t in tasks {
        all.extend(t.await.expect("submitter task"));
    }
    eprintln!(
        "{run}: all {MESSAGES} accepted after {:.1} s",
        started.elapsed().as_secs_f64()
    );
    all
}

/// Waits until every submitted message is `accepted`; fails at once on a
/// message that settled otherwise.
async fn drain(live: &Live, key: &str, submitted: &[Submitted]) -> HashMap<String, String> {
    let http = reqwest::Client::new();
    let mut pending: Vec<&Submitted> = submitted.iter().collect();
    let mut mrns = HashMap::new();
    let mut reconciled = HashSet::new();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(150);
    while !pending.is_empty() {
        assert!(
            Instant::now() < deadline,
            "{} messages still not accepted after the drain timeout, e.g. {}",
            pending.len(),
            pending[0].doc
        );
        let base = pick(live, 0).expect("a live gateway");
        let mut still = Vec::new();
        for chunk in pending.chunks(16) {
            let reads = chunk.iter().map(|s| {
                let http = http.clone();
                let url = format!("{base}/v1/messages/{}", s.id);
                async move {
                    let v: Value = http
                        .get(url)
                        .bearer_auth(key)
                        .send()
                        .await
                        .expect("read message")
                        .json()
                        .await
                        .expect("message JSON");
                    v
                }
            });
            for (s, m) in chunk.iter().zip(futures::future::join_all(reads).await) {
                let history = m["history"].to_string();
                if history.contains("interrupted") {
                    reconciled.insert(s.id.clone());
                }
                match m["state"].as_str().unwrap_or_default() {
                    "accepted" => {
                        mrns.insert(
                            s.doc.clone(),
                            m["mrn"].as_str().expect("accepted has an MRN").to_owned(),
                        );
                    }
                    "received" | "queued" | "sending" | "submitted" => still.push(*s),
                    other => panic!(
                        "{} {} ({}) ended {other}, not accepted: {m}",
                        s.kind, s.doc, s.id
                    ),
                }
            }
        }
        pending = still;
        if !pending.is_empty() {
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
    // Not asserted (it depends on timing), but shows what the crash hit.
    eprintln!(
        "drained in {:.1} s; {} messages were interrupted mid-send and reconciled by lookup",
        started.elapsed().as_secs_f64(),
        reconciled.len()
    );
    mrns
}

fn check(submitted: &[Submitted], mrns: &HashMap<String, String>, sim: &RunningSimulator) {
    // One gateway message per document number.
    let ids: HashSet<&str> = submitted.iter().map(|s| s.id.as_str()).collect();
    let docs: HashSet<&str> = submitted.iter().map(|s| s.doc.as_str()).collect();
    assert_eq!(docs.len(), MESSAGES, "every document was submitted");
    assert_eq!(ids.len(), MESSAGES, "one gateway message per document");
    // Exactly one distinct MRN each.
    assert_eq!(mrns.len(), MESSAGES);
    let distinct: HashSet<&String> = mrns.values().collect();
    assert_eq!(distinct.len(), MESSAGES, "MRNs are distinct");
    // The simulator holds exactly one message per document number.
    let mut at_toll: HashMap<String, Vec<String>> = HashMap::new();
    for m in sim.control().toll_messages() {
        if let Some(doc) = m.document_number {
            at_toll.entry(doc).or_default().push(m.mrn);
        }
    }
    let duplicated: Vec<_> = at_toll.iter().filter(|(_, v)| v.len() > 1).collect();
    assert!(
        duplicated.is_empty(),
        "{} documents are at Toll more than once, e.g. {:?}",
        duplicated.len(),
        duplicated.first()
    );
    assert_eq!(at_toll.len(), MESSAGES, "no extra documents at Toll");
    for (doc, mrn) in mrns {
        assert_eq!(
            at_toll.get(doc).map(Vec::as_slice),
            Some(std::slice::from_ref(mrn)),
            "{doc}: the gateway's MRN is the one Toll issued"
        );
    }
}

async fn simulator() -> RunningSimulator {
    Simulator::builder()
        .processing_delay(Duration::from_millis(100))
        .start()
        .await
        .expect("start simulator")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_sigkill_mid_load_loses_and_duplicates_nothing() {
    // The PostgreSQL case of this binary runs at the same time. Without its
    // server, the harness stops the whole process (one message naming
    // `bash scripts/test.sh`); check here too, before spawning any
    // `digitoll serve`, so that such a stop leaves no child process behind.
    digitoll_testkit::require_postgres();
    let dir = tempfile::tempdir().expect("temp dir");
    let database = format!("sqlite://{}?mode=rwc", dir.path().join("gw.db").display());
    let sim = simulator().await;
    let key = tenant(&database, &sim).await;
    let first = Gateway::start(&database, "a1");
    let live: Live = Arc::new(RwLock::new(vec![first.base.clone()]));
    let restarted: Arc<Mutex<Option<Gateway>>> = Arc::default();
    let submitted = {
        let (live2, restarted2, database2) = (live.clone(), restarted.clone(), database.clone());
        load(
            live.clone(),
            key.clone(),
            "sq",
            MESSAGES * 2 / 5,
            async move || {
                live2.write().unwrap_or_else(|e| e.into_inner()).clear();
                first.kill();
                tokio::time::sleep(Duration::from_millis(300)).await;
                let second = tokio::task::spawn_blocking(move || Gateway::start(&database2, "a2"))
                    .await
                    .expect("join");
                live2
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(second.base.clone());
                *restarted2.lock().unwrap_or_else(|e| e.into_inner()) = Some(second);
            },
        )
        .await
    };
    let mrns = drain(&live, &key, &submitted).await;
    check(&submitted, &mrns, &sim);
    let log = restarted
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
        .map(|g| g.log.lock().unwrap_or_else(|e| e.into_inner()).clone())
        .unwrap_or_default();
    assert!(
        !log.contains("panicked"),
        "the restarted gateway panicked:\n{log}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_instances_one_killed_mid_load_loses_and_duplicates_nothing() {
    let database = digitoll_testkit::fresh_postgres_database().await;
    let sim = simulator().await;
    let key = tenant(&database, &sim).await;
    let a = Gateway::start(&database, "pa1");
    let b = Gateway::start(&database, "pb1");
    let live: Live = Arc::new(RwLock::new(vec![a.base.clone(), b.base.clone()]));
    let restarted: Arc<Mutex<Option<Gateway>>> = Arc::default();
    let submitted = {
        let (live2, restarted2, database2) = (live.clone(), restarted.clone(), database.clone());
        let killed = a.base.clone();
        load(
            live.clone(),
            key.clone(),
            "pg",
            MESSAGES * 2 / 5,
            async move || {
                live2
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .retain(|u| u != &killed);
                a.kill();
                // The other instance carries the load alone for a while.
                tokio::time::sleep(Duration::from_secs(1)).await;
                let again = tokio::task::spawn_blocking(move || Gateway::start(&database2, "pa2"))
                    .await
                    .expect("join");
                live2
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(again.base.clone());
                *restarted2.lock().unwrap_or_else(|e| e.into_inner()) = Some(again);
            },
        )
        .await
    };
    let mrns = drain(&live, &key, &submitted).await;
    check(&submitted, &mrns, &sim);
    for g in [
        Some(b),
        restarted.lock().unwrap_or_else(|e| e.into_inner()).take(),
    ]
    .into_iter()
    .flatten()
    {
        let log = g.log.lock().unwrap_or_else(|e| e.into_inner()).clone();
        assert!(!log.contains("panicked"), "a gateway panicked:\n{log}");
    }
    sim.shutdown().await;
}
