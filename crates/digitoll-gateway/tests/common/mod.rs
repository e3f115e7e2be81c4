//! The gateway test harness shared by `tests/gateway.rs` and
//! `tests/validation_modes.rs`: a real store (SQLite in a temp dir, or a
//! fresh PostgreSQL database from `digitoll_testkit`), the gateway served on
//! 127.0.0.1:0 with its workers, the in-process simulator as Maskinporten and
//! Toll, a local webhook receiver, and one log buffer per test binary.

// Each test binary uses part of the harness.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use digitoll_client::{ReconcileConfig, RetryConfig};
use digitoll_gateway::{
    GatewayConfig, GatewayState, RuntimeOptions, WorkerConfig, app, run_workers,
};
use digitoll_sim::{ClientRegistration, RunningSimulator, Simulator};
use digitoll_store::{MasterKey, RetryPolicy, Store, StoreOptions};
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub(crate) const ROAD: &str = "toll:movement/road/v2";

// ------------------------------------------------------------------ logging

pub(crate) static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();

#[derive(Clone)]
pub(crate) struct BufWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for BufWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub(crate) fn init_logs() -> Arc<Mutex<Vec<u8>>> {
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = BufWriter(buf.clone());
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("debug"))
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .try_init();
        buf
    })
    .clone()
}

pub(crate) fn logs() -> String {
    String::from_utf8_lossy(&init_logs().lock().unwrap_or_else(|e| e.into_inner())).into_owned()
}

// ------------------------------------------------------------------ harness

#[derive(Clone, Copy)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

pub(crate) struct Env {
    pub(crate) store: Store,
    pub(crate) sim: RunningSimulator,
    pub(crate) state: GatewayState,
    pub(crate) base: String,
    pub(crate) http: reqwest::Client,
    pub(crate) admin_key: String,
    pub(crate) stop: watch::Sender<bool>,
    pub(crate) workers: Option<JoinHandle<()>>,
    pub(crate) _server: JoinHandle<()>,
    pub(crate) _dir: Option<tempfile::TempDir>,
}

pub(crate) async fn store_for(backend: Backend) -> (Store, Option<tempfile::TempDir>) {
    let options = StoreOptions::new(MasterKey::from_bytes([9u8; 32])).retry(RetryPolicy {
        base_delay: Duration::from_millis(50),
        factor: 2.0,
        max_delay: Duration::from_millis(800),
        max_attempts: 40,
    });
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}?mode=rwc", dir.path().join("gw.db").display());
            (
                Store::connect(&url, options).await.expect("sqlite store"),
                Some(dir),
            )
        }
        Backend::Postgres => {
            let url = digitoll_testkit::fresh_postgres_database().await;
            (
                Store::connect(&url, options).await.expect("postgres store"),
                None,
            )
        }
    }
}

pub(crate) fn config(sim: &RunningSimulator) -> GatewayConfig {
    GatewayConfig {
        runtime: RuntimeOptions {
            sim_base_url: Some(sim.base_url()),
            toll_timeout: Duration::from_secs(5),
            reconcile: ReconcileConfig {
                lookups: 2,
                delay: Duration::from_millis(100),
            },
            retry: RetryConfig::default(),
            maskinporten_retry: Some(maskinporten::RetryPolicy::none()),
            ttl: Duration::from_secs(600),
        },
        workers: WorkerConfig {
            workers: 4,
            name: "test".into(),
            lease: Duration::from_secs(30),
            batch: 4,
            idle_wait: Duration::from_millis(100),
            poll_first_delay: Duration::from_millis(50),
            poll_max_interval: Duration::from_millis(300),
            max_polls: 200,
            webhook_timeout: Duration::from_secs(5),
        },
        ..GatewayConfig::default()
    }
}

impl Env {
    pub(crate) async fn start(backend: Backend) -> Self {
        Self::start_with(backend, |c| c).await
    }

    pub(crate) async fn start_with(
        backend: Backend,
        tweak: impl FnOnce(GatewayConfig) -> GatewayConfig,
    ) -> Self {
        Self::start_custom(backend, |s| s, tweak).await
    }

    /// As [`Env::start_with`], with the simulator's builder in the caller's
    /// hands (a contract profile, the playground checks off).
    pub(crate) async fn start_custom(
        backend: Backend,
        sim: impl FnOnce(digitoll_sim::SimulatorBuilder) -> digitoll_sim::SimulatorBuilder,
        tweak: impl FnOnce(GatewayConfig) -> GatewayConfig,
    ) -> Self {
        init_logs();
        let sim = sim(Simulator::builder().processing_delay(Duration::ZERO))
            .start()
            .await
            .expect("start simulator");
        let (store, dir) = store_for(backend).await;
        let (_, admin) = store
            .create_api_key(digitoll_store::ApiKeyScope::Admin, "tests")
            .await
            .expect("admin key");
        let state = GatewayState::new(
            store.clone(),
            tweak(config(&sim)),
            Some(digitoll_gateway::prometheus()),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let router = app(state.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, router).await.expect("serve");
        });
        let (stop, stopped) = watch::channel(false);
        let workers = tokio::spawn(run_workers(state.clone(), stopped));
        Self {
            store,
            sim,
            state,
            base: format!("http://{addr}"),
            http: reqwest::Client::new(),
            admin_key: admin.expose().to_owned(),
            stop,
            workers: Some(workers),
            _server: server,
            _dir: dir,
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Registers a tenant through the admin API with a gateway-generated key,
    /// registers its public JWK at the simulator (as the customer would in
    /// Samarbeidsportalen) and gives it an API key.
    pub(crate) async fn tenant(&self, org: &str, client_id: &str) -> Tenant {
        self.tenant_with_scopes(org, client_id, &[ROAD, "toll:movement/entry"])
            .await
    }

    /// As [`Env::tenant`], with these scopes (at the gateway and the sim).
    pub(crate) async fn tenant_with_scopes(
        &self,
        org: &str,
        client_id: &str,
        scopes: &[&str],
    ) -> Tenant {
        let ctl = self.sim.control();
        if !ctl.organisations().iter().any(|o| o.org_no == org) {
            ctl.register_organisation(org, &format!("Org {org}"));
        }
        let (status, body) = self
            .call_admin(
                "POST",
                "/v1/admin/tenants",
                Some(json!({
                    "org_number": org, "name": format!("Tenant {org}"), "environment": "sim",
                    "client_id": client_id, "scopes": scopes,
                    "key": {"type": "generate"}
                })),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let jwk = body["public_jwk"].clone();
        assert!(
            jwk.get("d").is_none(),
            "the public JWK must not carry the private exponent"
        );
        ctl.register_client(ClientRegistration::with_keys(
            client_id,
            org,
            scopes.iter().copied(),
            vec![jwk],
        ));
        for scope in scopes {
            ctl.grant_scope(org, scope);
        }
        let id = body["tenant"]["id"].as_str().expect("tenant id").to_owned();
        let (status, key) = self
            .call_admin(
                "POST",
                &format!("/v1/admin/tenants/{id}/api-keys"),
                Some(json!({"label": "erp"})),
            )
            .await;
        assert_eq!(status, 201, "{key}");
        Tenant {
            id,
            key: key["key"].as_str().expect("api key").to_owned(),
        }
    }

    pub(crate) async fn call_admin(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        self.call(&self.admin_key.clone(), method, path, body).await
    }

    pub(crate) async fn call(
        &self,
        key: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let (status, _, text) = self
            .raw(key, method, path, body.map(|b| b.to_string()), &[])
            .await;
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub(crate) async fn raw(
        &self,
        key: &str,
        method: &str,
        path: &str,
        body: Option<String>,
        headers: &[(&str, &str)],
    ) -> (u16, reqwest::header::HeaderMap, String) {
        let mut req = self
            .http
            .request(method.parse().expect("method"), self.url(path))
            .bearer_auth(key);
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let h = resp.headers().clone();
        (status, h, resp.text().await.expect("body"))
    }

    pub(crate) async fn submit(&self, t: &Tenant, kind: &str, body: &Value) -> Value {
        let (status, resp) = self
            .call(
                &t.key,
                "POST",
                "/v1/messages",
                Some(json!({"mode": "road", "kind": kind, "body": body})),
            )
            .await;
        assert_eq!(status, 202, "{resp}");
        resp
    }

    pub(crate) async fn message(&self, t: &Tenant, id: &str) -> Value {
        let (status, m) = self
            .call(&t.key, "GET", &format!("/v1/messages/{id}"), None)
            .await;
        assert_eq!(status, 200, "{m}");
        m
    }

    /// Waits until the message leaves the in-flight states.
    pub(crate) async fn settled(&self, t: &Tenant, id: &str, within: Duration) -> Value {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let m = self.message(t, id).await;
            let state = m["state"].as_str().unwrap_or_default().to_owned();
            if !matches!(
                state.as_str(),
                "received" | "queued" | "sending" | "submitted"
            ) {
                return m;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "message {id} still {state}: {m}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub(crate) async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(w) = self.workers.take() {
            let _ = tokio::time::timeout(Duration::from_secs(20), w).await;
        }
        self.store.close().await;
        self.sim.shutdown().await;
    }
}

pub(crate) struct Tenant {
    pub(crate) id: String,
    pub(crate) key: String,
}

/// An example message dated now (the examples carry fixed dates), with the
/// master/house document number made unique by `suffix`.
pub(crate) fn dated(text: &str, suffix: &str) -> Value {
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("ns");
    let fmt = |t: time::OffsetDateTime| {
        t.format(&time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))
        .expect("format")
    };
    let issued = fmt(now);
    let arrival = fmt(now + time::Duration::hours(2));
    let mut v: Value = serde_json::from_str(text).expect("example");
    if let Some(obj) = v.as_object_mut() {
        for (k, val) in obj.iter_mut() {
            match k.as_str() {
                "documentIssueDate" => *val = Value::String(issued.clone()),
                "scheduledDateAndTimeOfArrival" | "estimatedDateAndTimeOfArrival" => {
                    *val = Value::String(arrival.clone())
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

/// A local webhook receiver that records (headers, body).
pub(crate) async fn receiver() -> (String, Arc<Mutex<Vec<(axum::http::HeaderMap, String)>>>) {
    let got: Arc<Mutex<Vec<(axum::http::HeaderMap, String)>>> = Arc::default();
    let sink = got.clone();
    let router = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let sink = sink.clone();
            async move {
                sink.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((headers, body));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (format!("http://{addr}/hook"), got)
}
