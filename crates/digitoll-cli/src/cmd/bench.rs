//! `digitoll bench`: a load tool for the gateway.
//!
//! It drives a gateway over loopback HTTP from many connections (one hyper
//! HTTP/1.1 connection per concurrent client, like `wrk`) and prints one JSON
//! report: requests per second, accept latency percentiles (HDR histogram),
//! time from POST to MRN (from a local webhook receiver), and the gateway's
//! resident memory idle and under load.
//!
//! The gateway is either a running one (`--url` + `--key`, `--pid` for its
//! memory) or started in this process with the built-in simulator
//! (`--in-process`, the default without `--url`) on `--database sqlite`
//! (a temp file), a `sqlite://` URL or a `postgres://` URL, with
//! `--instances N` gateways sharing that database.
//!
//! Scenarios: `submit` (POST /v1/messages, masters with unique document
//! numbers, followed to their MRN), `tokens` (cached POST /v1/tokens), and
//! `baseline` (the same client against a trivial axum handler in this process:
//! what loopback HTTP on this machine allows).
//!
//! Every run is bounded by `--requests` and `--duration`, and the MRN wait by
//! `--drain-timeout`; the tool always stops by itself.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use axum::Json;
use bytes::Bytes;
use clap::{Args, ValueEnum};
use digitoll_gateway::{GatewayConfig, GatewayState, RuntimeOptions, WorkerConfig, app};
use digitoll_sim::{ClientRegistration, RunningSimulator, Simulator};
use digitoll_store::{
    ApiKeyScope, Durability, Environment, MasterKey, NewTenant, Store, StoreOptions,
};
use hdrhistogram::Histogram;
use http_body_util::{BodyExt as _, Full};
use hyper::Request;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::output::json as print_json;

const ROAD: &str = "toll:movement/road/v2";
const MASTER: &str = include_str!("../../../../examples/road/valid-master.json");
const DOC_PLACEHOLDER: &str = "@@DOCUMENT@@";

/// What `digitoll bench` measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Scenario {
    /// POST /v1/messages (masters with unique document numbers), accepted
    /// per second, accept latency, and time from POST to MRN.
    Submit,
    /// Cached POST /v1/tokens: requests per second and latency.
    Tokens,
    /// The same client against a trivial axum handler in this process.
    Baseline,
}

impl Scenario {
    fn as_str(self) -> &'static str {
        match self {
            Self::Submit => "submit",
            Self::Tokens => "tokens",
            Self::Baseline => "baseline",
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// What to measure.
    #[arg(long, value_enum, default_value = "submit")]
    pub(crate) scenario: Scenario,
    /// Base URL of a running gateway (loopback only), e.g. http://127.0.0.1:8080.
    /// Without it the gateway runs in this process (--in-process).
    #[arg(long, conflicts_with = "in_process")]
    pub(crate) url: Option<url::Url>,
    /// A tenant API key of the gateway at --url (prefer the environment variable).
    #[arg(long, env = "DIGITOLL_BENCH_KEY", hide_env_values = true)]
    pub(crate) key: Option<String>,
    /// Process id of the gateway at --url, to report its resident memory.
    #[arg(long)]
    pub(crate) pid: Option<u32>,
    /// Start the gateway in this process with the built-in simulator (the
    /// default without --url).
    #[arg(long)]
    pub(crate) in_process: bool,
    /// Database of the in-process gateway: `sqlite` (a temporary file), a
    /// `sqlite://` URL, or a `postgres://` URL.
    #[arg(long, default_value = "sqlite")]
    pub(crate) database: String,
    /// SQLite with `synchronous=FULL` (every commit fsynced).
    #[arg(long)]
    pub(crate) durable: bool,
    /// In-process gateway instances sharing the database (PostgreSQL for more than one).
    #[arg(long, default_value_t = 1)]
    pub(crate) instances: usize,
    /// Outbox workers per in-process instance.
    #[arg(long, default_value_t = 4)]
    pub(crate) workers: usize,
    /// Connections, each with one request in flight.
    #[arg(long, default_value_t = 16)]
    pub(crate) concurrency: usize,
    /// A fixed rate in requests per second (open loop: latency counts from
    /// each request's scheduled time). Without it: as fast as answers come.
    #[arg(long)]
    pub(crate) rate: Option<u32>,
    /// Stop after this many requests.
    #[arg(long, default_value_t = 20_000)]
    pub(crate) requests: u64,
    /// Stop after this many seconds of load.
    #[arg(long, default_value_t = 10)]
    pub(crate) duration: u64,
    /// Requests before measuring (connections, caches, the tenant's clients).
    #[arg(long, default_value_t = 200)]
    pub(crate) warmup: u64,
    /// After the load (submit): wait at most this many seconds for the MRNs.
    #[arg(long, default_value_t = 60)]
    pub(crate) drain_timeout: u64,
    /// The simulator's processing delay in milliseconds (in-process).
    #[arg(long, default_value_t = 0)]
    pub(crate) sim_processing_ms: u64,
    /// Also measure the baseline scenario (a trivial axum handler, same
    /// connections and bounds) in this run, and report the ratio to it.
    #[arg(long)]
    pub(crate) compare_baseline: bool,
    /// The scope asked for in the tokens scenario.
    #[arg(long, default_value = ROAD)]
    pub(crate) scope: String,
}

/// The gateway under test.
struct Target {
    addrs: Vec<SocketAddr>,
    key: String,
    pid: Option<u32>,
    kind: &'static str,
    database: String,
    /// Keeps the in-process gateway (and its simulator) alive.
    _guard: Option<InProcess>,
}

struct InProcess {
    stop: watch::Sender<bool>,
    workers: Vec<tokio::task::JoinHandle<()>>,
    stores: Vec<Store>,
    sim: Option<RunningSimulator>,
    _dir: Option<tempfile::TempDir>,
}

impl InProcess {
    async fn shutdown(self) {
        let _ = self.stop.send(true);
        // Workers finish the jobs they hold before the stores close.
        for w in self.workers {
            let _ = tokio::time::timeout(Duration::from_secs(30), w).await;
        }
        for s in &self.stores {
            s.close().await;
        }
        if let Some(sim) = self.sim {
            sim.shutdown().await;
        }
    }
}

pub(crate) async fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    if args.concurrency == 0 || args.requests == 0 || args.duration == 0 {
        bail!("--concurrency, --requests and --duration must be at least 1");
    }
    if args.rate == Some(0) {
        bail!("--rate must be at least 1");
    }
    let baseline = if args.compare_baseline && args.scenario != Scenario::Baseline {
        let t = baseline_target().await?;
        let load = Load::new(&args, &t, Scenario::Baseline)?;
        load.run(args.warmup.max(1), Duration::from_secs(30), None, None)
            .await?;
        let r = load
            .run(
                args.requests,
                Duration::from_secs(args.duration),
                args.rate,
                None,
            )
            .await?;
        if let Some(g) = t._guard {
            g.shutdown().await;
        }
        Some(r)
    } else {
        None
    };
    let mut target = match (&args.url, args.scenario) {
        (_, Scenario::Baseline) => baseline_target().await?,
        (Some(url), _) => external_target(url, &args)?,
        (None, _) => in_process_target(&args).await?,
    };
    let hooks = if args.scenario == Scenario::Submit {
        Some(Receiver::start(&target).await?)
    } else {
        None
    };
    let load = Load::new(&args, &target, args.scenario)?;
    // Warm-up: connections, the API-key cache, the tenant's clients and tokens.
    if args.warmup > 0 {
        let warm = load
            .run(args.warmup, Duration::from_secs(30), None, None)
            .await?;
        if warm.ok == 0 {
            bail!(
                "no request succeeded during warm-up; first error: {}",
                warm.first_error.unwrap_or_default()
            );
        }
    }
    if let Some(h) = &hooks {
        h.reset();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rss_idle = target.pid.and_then(rss_kib);
    let rss_peak = Arc::new(AtomicU64::new(0));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = target.pid.map(|pid| {
        let (peak, on) = (rss_peak.clone(), sampling.clone());
        tokio::spawn(async move {
            while on.load(Ordering::Relaxed) {
                if let Some(kib) = rss_kib(pid) {
                    peak.fetch_max(kib, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    });
    let sent = hooks.as_ref().map(|_| Arc::new(Mutex::new(HashMap::new())));
    let result = load
        .run(
            args.requests,
            Duration::from_secs(args.duration),
            args.rate,
            sent.clone(),
        )
        .await?;
    sampling.store(false, Ordering::Relaxed);
    if let Some(s) = sampler {
        let _ = s.await;
    }
    let mut report = json!({
        "scenario": args.scenario.as_str(),
        "gateway": target.kind,
        "database": target.database,
        "instances": target.addrs.len(),
        "connections": args.concurrency,
        "rate_per_second": args.rate,
        "requests": result.ok + result.failed,
        "ok": result.ok,
        "failed": result.failed,
        "first_error": result.first_error,
        "seconds": round(result.elapsed.as_secs_f64()),
        "ok_per_second": round(result.ok as f64 / result.elapsed.as_secs_f64().max(1e-9)),
        "latency_ms": percentiles(&result.latency),
        "latency_counted_from": if args.rate.is_some() { "scheduled send time (open loop)" } else { "send time" },
        "gateway_rss_kib": {
            "idle": rss_idle,
            "under_load_peak": target.pid.map(|_| rss_peak.load(Ordering::Relaxed)),
            "note": match target.kind {
                "in-process" => "the whole bench process: gateway, simulator and load generator",
                "external" => "the gateway process (--pid)",
                _ => "the whole bench process: the trivial server and the load generator",
            },
        },
    });
    if let Some(b) = &baseline {
        let per_s = b.ok as f64 / b.elapsed.as_secs_f64().max(1e-9);
        let ours = result.ok as f64 / result.elapsed.as_secs_f64().max(1e-9);
        report["baseline"] = json!({
            "what": "the same client and bounds against a trivial axum handler in this process",
            "ok": b.ok,
            "failed": b.failed,
            "ok_per_second": round(per_s),
            "latency_ms": percentiles(&b.latency),
        });
        report["ratio_to_baseline"] = json!(round(ours / per_s.max(1e-9)));
    }
    if let (Some(h), Some(sent)) = (&hooks, &sent) {
        let sent = std::mem::take(&mut *sent.lock().unwrap_or_else(|e| e.into_inner()));
        let mrn = h.wait(&sent, Duration::from_secs(args.drain_timeout)).await;
        report["time_to_mrn_ms"] = mrn;
        report["accepted_per_second"] = report["ok_per_second"].clone();
        h.remove(&target).await;
    }
    print_json(&report)?;
    if let Some(g) = target._guard.take() {
        g.shutdown().await;
    }
    Ok(ExitCode::SUCCESS)
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn percentiles(h: &Histogram<u64>) -> Value {
    let ms = |us: u64| round(us as f64 / 1000.0);
    if h.is_empty() {
        return Value::Null;
    }
    json!({
        "p50": ms(h.value_at_quantile(0.50)),
        "p90": ms(h.value_at_quantile(0.90)),
        "p99": ms(h.value_at_quantile(0.99)),
        "max": ms(h.max()),
        "count": h.len(),
    })
}

fn histogram() -> Histogram<u64> {
    // 1 µs to 10 minutes, 3 significant digits.
    Histogram::new_with_bounds(1, 600_000_000, 3)
        .unwrap_or_else(|_| Histogram::new(3).unwrap_or_else(|_| unreachable!("3 digits is valid")))
}

/// Resident memory of a process in KiB, from `/proc/<pid>/status`.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

fn external_target(url: &url::Url, args: &BenchArgs) -> anyhow::Result<Target> {
    let key = args
        .key
        .clone()
        .ok_or_else(|| anyhow!("--url needs a tenant API key: --key or DIGITOLL_BENCH_KEY"))?;
    if url.scheme() != "http" {
        bail!("--url must be http:// on loopback (the bench speaks plain HTTP/1.1)");
    }
    let addrs: Vec<SocketAddr> = url
        .socket_addrs(|| Some(80))
        .with_context(|| format!("cannot resolve {url}"))?;
    let addr = addrs
        .into_iter()
        .find(|a| a.ip().is_loopback())
        .ok_or_else(|| {
            anyhow!("{url} is not a loopback address; the bench only drives local gateways")
        })?;
    Ok(Target {
        addrs: vec![addr],
        key,
        pid: args.pid,
        kind: "external",
        database: "(the gateway's)".into(),
        _guard: None,
    })
}

/// A trivial axum handler answering a small JSON body, like the token broker.
async fn baseline_target() -> anyhow::Result<Target> {
    let router = axum::Router::new().route(
        "/v1/tokens",
        axum::routing::post(|body: Bytes| async move {
            Json(json!({"access_token": "baseline", "token_type": "Bearer", "expires_in": 900, "received": body.len()}))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, mut stopped) = watch::channel(false);
    tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stopped.wait_for(|s| *s).await;
            })
            .await;
    });
    Ok(Target {
        addrs: vec![addr],
        key: "baseline".into(),
        pid: Some(std::process::id()),
        kind: "baseline axum handler (in-process)",
        database: "none".into(),
        _guard: Some(InProcess {
            stop,
            workers: Vec::new(),
            stores: Vec::new(),
            sim: None,
            _dir: None,
        }),
    })
}

async fn in_process_target(args: &BenchArgs) -> anyhow::Result<Target> {
    let postgres =
        args.database.starts_with("postgres://") || args.database.starts_with("postgresql://");
    if args.instances == 0 {
        bail!("--instances must be at least 1");
    }
    if args.instances > 1 && !postgres {
        bail!(
            "--instances {} needs a postgres:// --database (SQLite has one writer per file)",
            args.instances
        );
    }
    let (url, dir) = if args.database == "sqlite" {
        let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("bench.db").display()
        );
        (url, Some(dir))
    } else {
        (args.database.clone(), None)
    };
    let sim = Simulator::builder()
        .processing_delay(Duration::from_millis(args.sim_processing_ms))
        .start()
        .await
        .context("cannot start the simulator")?;
    let mut raw = [0u8; 32];
    aws_lc_rs::rand::fill(&mut raw).map_err(|_| anyhow!("no system randomness"))?;
    let master = raw;
    let options = || {
        StoreOptions::new(MasterKey::from_bytes(master))
            .max_connections(8)
            .durability(if args.durable {
                Durability::Full
            } else {
                Durability::Normal
            })
    };
    let mut stores = Vec::new();
    for _ in 0..args.instances {
        stores.push(
            Store::connect(&url, options()).await.with_context(|| {
                format!("cannot open {}", crate::cmd::tenants::redact_url(&url))
            })?,
        );
    }
    // The tenant: a generated key registered at the simulator.
    let run = uuid::Uuid::new_v4().simple().to_string();
    let client_id = format!("bench-{}", &run[..12]);
    let org = "310000000";
    let prepared = digitoll_gateway::keys::generate_key_pair()?;
    let jwk = prepared
        .public_jwk
        .clone()
        .ok_or_else(|| anyhow!("generated key without a public JWK"))?;
    let tenant = stores[0]
        .create_tenant(NewTenant {
            org_number: org.into(),
            name: "Bench AS".into(),
            environment: Environment::Sim,
            issuer_url: Some(sim.base_url().to_string()),
            client_id: client_id.clone(),
            key: prepared.key,
            scopes: vec![ROAD.into()],
        })
        .await?;
    let ctl = sim.control();
    if !ctl.organisations().iter().any(|o| o.org_no == org) {
        ctl.register_organisation(org, "Bench AS");
    }
    ctl.register_client(ClientRegistration::with_keys(
        client_id,
        org,
        [ROAD],
        vec![jwk],
    ));
    ctl.grant_scope(org, ROAD);
    let (_, key) = stores[0]
        .create_api_key(ApiKeyScope::Tenant(tenant.id), "bench")
        .await?;
    let (stop, stopped) = watch::channel(false);
    let mut addrs = Vec::new();
    let mut workers = Vec::new();
    let big = NonZeroU32::new(10_000_000).unwrap_or(NonZeroU32::MAX);
    for (i, store) in stores.iter().enumerate() {
        let config = GatewayConfig {
            rate_limit_per_second: big,
            rate_limit_burst: big,
            runtime: RuntimeOptions {
                sim_base_url: Some(sim.base_url()),
                ..RuntimeOptions::default()
            },
            workers: WorkerConfig {
                workers: args.workers,
                name: format!("bench-{}-{i}", &run[..8]),
                ..WorkerConfig::default()
            },
            ..GatewayConfig::default()
        };
        let state = GatewayState::new(store.clone(), config, Some(digitoll_gateway::prometheus()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        addrs.push(listener.local_addr()?);
        let mut server_stop = stopped.clone();
        let router = app(state.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = server_stop.wait_for(|s| *s).await;
                })
                .await;
        });
        if args.workers > 0 {
            workers.push(tokio::spawn(digitoll_gateway::run_workers(
                state,
                stopped.clone(),
            )));
        }
    }
    let backend = if postgres { "postgres" } else { "sqlite" };
    Ok(Target {
        addrs,
        key: key.expose().to_owned(),
        pid: Some(std::process::id()),
        kind: "in-process",
        database: format!(
            "{backend}{}",
            if !postgres && args.durable {
                " (synchronous=FULL)"
            } else if !postgres {
                " (synchronous=NORMAL)"
            } else {
                ""
            }
        ),
        _guard: Some(InProcess {
            stop,
            workers,
            stores,
            sim: Some(sim),
            _dir: dir,
        }),
    })
}

/// One measured run's outcome.
struct RunResult {
    ok: u64,
    failed: u64,
    first_error: Option<String>,
    elapsed: Duration,
    latency: Histogram<u64>,
}

/// The request mix and where it goes.
struct Load {
    scenario: Scenario,
    addrs: Vec<SocketAddr>,
    auth: Arc<str>,
    body_template: Arc<str>,
    run_id: String,
    counter: Arc<AtomicU64>,
    concurrency: usize,
}

impl Load {
    fn new(args: &BenchArgs, target: &Target, scenario: Scenario) -> anyhow::Result<Self> {
        let body_template: String = match scenario {
            Scenario::Submit => {
                let mut master: Value = serde_json::from_str(MASTER)?;
                date_now(&mut master);
                if let Some(Value::String(s)) = master.pointer_mut(
                    "/consignmentMasterLevel/transportDocumentMasterLevel/documentNumber",
                ) {
                    *s = DOC_PLACEHOLDER.into();
                }
                json!({"mode": "road", "kind": "master", "body": master}).to_string()
            }
            Scenario::Tokens | Scenario::Baseline => json!({"scope": args.scope}).to_string(),
        };
        Ok(Self {
            scenario,
            addrs: target.addrs.clone(),
            auth: format!("Bearer {}", target.key).into(),
            body_template: body_template.into(),
            run_id: uuid::Uuid::new_v4().simple().to_string()[..10].to_uppercase(),
            counter: Arc::new(AtomicU64::new(0)),
            concurrency: args.concurrency,
        })
    }

    fn path(&self) -> &'static str {
        match self.scenario {
            Scenario::Submit => "/v1/messages",
            Scenario::Tokens | Scenario::Baseline => "/v1/tokens",
        }
    }

    /// Sends up to `requests` requests within `duration` over the connections.
    async fn run(
        &self,
        requests: u64,
        duration: Duration,
        rate: Option<u32>,
        sent: Option<Arc<Mutex<HashMap<String, Instant>>>>,
    ) -> anyhow::Result<RunResult> {
        let next = Arc::new(AtomicU64::new(0));
        let start = Instant::now() + Duration::from_millis(5);
        let end = start + duration;
        let mut tasks = Vec::with_capacity(self.concurrency);
        for c in 0..self.concurrency {
            let addr = self.addrs[c % self.addrs.len()];
            let next = next.clone();
            let sent = sent.clone();
            let auth = self.auth.clone();
            let path = self.path();
            let scenario = self.scenario;
            let me = LoadHandle {
                template: self.body_template.clone(),
                counter: self.counter.clone(),
                run_id: self.run_id.clone(),
                scenario,
            };
            tasks.push(tokio::spawn(async move {
                let mut h = histogram();
                let (mut ok, mut failed, mut first_error) = (0u64, 0u64, None::<String>);
                let mut conn: Option<SendRequest<Full<Bytes>>> = None;
                let mut last = start;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= requests {
                        break;
                    }
                    let scheduled = match rate {
                        Some(r) => start + Duration::from_secs_f64(i as f64 / f64::from(r)),
                        None => Instant::now(),
                    };
                    if scheduled >= end || Instant::now() >= end {
                        break;
                    }
                    if rate.is_some() {
                        tokio::time::sleep_until(scheduled.into()).await;
                    }
                    if conn.as_ref().is_none_or(|c| c.is_closed()) {
                        conn = match connect(addr).await {
                            Ok(c) => Some(c),
                            Err(e) => {
                                failed += 1;
                                first_error.get_or_insert_with(|| format!("connect {addr}: {e}"));
                                tokio::time::sleep(Duration::from_millis(20)).await;
                                continue;
                            }
                        };
                    }
                    let Some(sender) = conn.as_mut() else {
                        continue;
                    };
                    let body = me.body();
                    let req = Request::post(path)
                        .header("host", addr.to_string())
                        .header("authorization", &*auth)
                        .header("content-type", "application/json")
                        .body(Full::new(body));
                    let req = match req {
                        Ok(r) => r,
                        Err(e) => return Err(anyhow!("building a request: {e}")),
                    };
                    let sent_at = Instant::now();
                    let outcome = async {
                        sender.ready().await?;
                        let resp = sender.send_request(req).await?;
                        let status = resp.status().as_u16();
                        let body = resp.into_body().collect().await?.to_bytes();
                        Ok::<_, hyper::Error>((status, body))
                    }
                    .await;
                    let done = Instant::now();
                    last = last.max(done);
                    match outcome {
                        Ok((status, body)) if (200..300).contains(&status) => {
                            ok += 1;
                            let from = if rate.is_some() { scheduled } else { sent_at };
                            let _ = h.record(
                                done.saturating_duration_since(from).as_micros().max(1) as u64,
                            );
                            if let Some(sent) = &sent
                                && let Ok(v) = serde_json::from_slice::<IdOnly>(&body)
                            {
                                sent.lock()
                                    .unwrap_or_else(|e| e.into_inner())
                                    .insert(v.id, sent_at);
                            }
                        }
                        Ok((status, body)) => {
                            failed += 1;
                            first_error.get_or_insert_with(|| {
                                format!(
                                    "HTTP {status}: {}",
                                    String::from_utf8_lossy(&body)
                                        .chars()
                                        .take(300)
                                        .collect::<String>()
                                )
                            });
                        }
                        Err(e) => {
                            failed += 1;
                            first_error.get_or_insert_with(|| format!("request: {e}"));
                            conn = None;
                        }
                    }
                }
                Ok((h, ok, failed, first_error, last))
            }));
        }
        let mut total = histogram();
        let (mut ok, mut failed, mut first_error, mut last) = (0, 0, None, start);
        for t in tasks {
            let (h, o, f, e, l) = t.await.context("load task")??;
            total
                .add(&h)
                .map_err(|e| anyhow!("merging histograms: {e}"))?;
            ok += o;
            failed += f;
            if first_error.is_none() {
                first_error = e;
            }
            last = last.max(l);
        }
        Ok(RunResult {
            ok,
            failed,
            first_error,
            elapsed: last.saturating_duration_since(start),
            latency: total,
        })
    }
}

/// What a load task needs to make bodies.
struct LoadHandle {
    template: Arc<str>,
    counter: Arc<AtomicU64>,
    run_id: String,
    scenario: Scenario,
}

impl LoadHandle {
    fn body(&self) -> Bytes {
        match self.scenario {
            Scenario::Submit => {
                let n = self.counter.fetch_add(1, Ordering::Relaxed);
                Bytes::from(
                    self.template
                        .replace(DOC_PLACEHOLDER, &format!("BENCH-{}-{n:08}", self.run_id)),
                )
            }
            _ => Bytes::copy_from_slice(self.template.as_bytes()),
        }
    }
}

#[derive(serde::Deserialize)]
struct IdOnly {
    id: String,
}

async fn connect(addr: SocketAddr) -> anyhow::Result<SendRequest<Full<Bytes>>> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// Sets the example's dates to now (the example carries fixed dates).
fn date_now(v: &mut Value) {
    let now = time::OffsetDateTime::now_utc();
    let fmt = |t: time::OffsetDateTime| {
        t.format(&time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))
        .unwrap_or_default()
    };
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
}

/// A local webhook receiver subscribed to `message.accepted`: it notes when
/// each message's event arrived, for the time from POST to MRN.
struct Receiver {
    arrived: Arc<Mutex<HashMap<String, Instant>>>,
    webhook_id: String,
    http: reqwest::Client,
    base: String,
    auth: String,
}

impl Receiver {
    async fn start(target: &Target) -> anyhow::Result<Self> {
        let arrived: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
        let sink = arrived.clone();
        let router = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |body: Bytes| {
                let sink = sink.clone();
                async move {
                    let at = Instant::now();
                    if let Ok(v) = serde_json::from_slice::<Value>(&body)
                        && v["event"] == "message.accepted"
                        && let Some(id) = v["data"]["message_id"].as_str()
                    {
                        sink.lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert(id.to_owned(), at);
                    }
                    "ok"
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let hook_addr = listener.local_addr()?;
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        let http = reqwest::Client::new();
        let base = format!("http://{}", target.addrs[0]);
        let auth = format!("Bearer {}", target.key);
        let resp = http
            .post(format!("{base}/v1/webhooks"))
            .header("authorization", &auth)
            .json(
                &json!({"url": format!("http://{hook_addr}/hook"), "events": ["message.accepted"]}),
            )
            .send()
            .await
            .context("cannot subscribe the MRN webhook")?;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("subscribing the MRN webhook answered {status}: {body}");
        }
        let webhook_id = body["webhook"]["id"]
            .as_str()
            .ok_or_else(|| anyhow!("webhook answer without an id: {body}"))?
            .to_owned();
        Ok(Self {
            arrived,
            webhook_id,
            http,
            base,
            auth,
        })
    }

    fn reset(&self) {
        self.arrived
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Waits until every sent message's event arrived (or the timeout), and
    /// returns the percentiles of POST → event.
    async fn wait(&self, sent: &HashMap<String, Instant>, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let got = {
                let a = self.arrived.lock().unwrap_or_else(|e| e.into_inner());
                sent.keys().filter(|id| a.contains_key(*id)).count()
            };
            if got == sent.len() || Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let a = self.arrived.lock().unwrap_or_else(|e| e.into_inner());
        let mut h = histogram();
        let mut last: Option<Instant> = None;
        let first = sent.values().min().copied();
        for (id, at) in sent {
            if let Some(done) = a.get(id) {
                let _ = h.record(done.saturating_duration_since(*at).as_micros().max(1) as u64);
                last = Some(last.map_or(*done, |l| l.max(*done)));
            }
        }
        let mut v = percentiles(&h);
        if v.is_null() {
            v = json!({});
        }
        v["accepted"] = json!(h.len());
        v["not_accepted_within_timeout"] = json!(sent.len() as u64 - h.len());
        if let (Some(f), Some(l)) = (first, last) {
            let secs = l.saturating_duration_since(f).as_secs_f64().max(1e-9);
            v["mrns_per_second"] = json!(round(h.len() as f64 / secs));
        }
        v["measured_to"] = json!("arrival of the message.accepted webhook");
        v
    }

    async fn remove(&self, _target: &Target) {
        let _ = self
            .http
            .delete(format!("{}/v1/webhooks/{}", self.base, self.webhook_id))
            .header("authorization", &self.auth)
            .send()
            .await;
    }
}
