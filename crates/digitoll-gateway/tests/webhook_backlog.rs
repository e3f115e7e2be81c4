//! Regression test: a webhook backlog larger than 1,000 deliveries is delivered
//! in full.
//!
//! The webhook worker used to find its delivery by listing the newest 1,000
//! deliveries of each subscription; under load (found by `digitoll bench`) the
//! oldest deliveries of a long backlog were not among them, and their jobs were
//! completed as if the subscription had been deleted, so those events were
//! never sent. The worker now reads the delivery by id.
//!
//! Runs on SQLite (temp dir) and PostgreSQL (`DIGITOLL_TEST_POSTGRES_URL`, a
//! fresh database).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use digitoll_gateway::{GatewayConfig, GatewayState, WorkerConfig, run_workers};
use digitoll_store::{
    DeliveryStatus, Environment, MasterKey, NewTenant, RetryPolicy, Store, StoreOptions,
};
use serde_json::json;

const BACKLOG: usize = 1_100;

async fn sqlite() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("gw.db").display());
    (Store::connect(&url, options()).await.expect("sqlite"), dir)
}

async fn postgres() -> Store {
    let url = digitoll_testkit::fresh_postgres_database().await;
    Store::connect(&url, options()).await.expect("postgres")
}

fn options() -> StoreOptions {
    StoreOptions::new(MasterKey::from_bytes([3u8; 32])).retry(RetryPolicy {
        base_delay: Duration::from_millis(50),
        factor: 2.0,
        max_delay: Duration::from_millis(500),
        max_attempts: 10,
    })
}

async fn backlog_is_delivered_in_full(store: Store) {
    // A receiver that records each delivery id it got.
    let got: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = got.clone();
    let router = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let sink = sink.clone();
            async move {
                if let Some(id) = headers
                    .get(digitoll_gateway::webhook::DELIVERY_HEADER)
                    .and_then(|v| v.to_str().ok())
                {
                    sink.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(id.to_owned());
                }
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });

    let key = digitoll_gateway::keys::generate_key_pair().expect("key");
    let tenant = store
        .create_tenant(NewTenant {
            org_number: "310000000".into(),
            name: "Hooks AS".into(),
            environment: Environment::Sim,
            issuer_url: Some("http://127.0.0.1:9/".into()),
            client_id: "hooks".into(),
            key: key.key,
            scopes: vec!["toll:movement/road/v2".into()],
        })
        .await
        .expect("tenant");
    let (hook, _secret) = store
        .create_webhook(tenant.id, &format!("http://{addr}/hook"), &[])
        .await
        .expect("webhook");
    // The backlog is written before any worker runs.
    let mut ids = Vec::with_capacity(BACKLOG);
    for i in 0..BACKLOG {
        let (d, _) = store
            .create_webhook_delivery(
                tenant.id,
                hook.id,
                None,
                "message.accepted",
                &json!({"event": "message.accepted", "n": i}),
            )
            .await
            .expect("delivery");
        ids.push(d.id);
    }
    let state = GatewayState::new(
        store.clone(),
        GatewayConfig {
            workers: WorkerConfig {
                workers: 4,
                name: "hooks".into(),
                batch: 16,
                idle_wait: Duration::from_millis(100),
                ..WorkerConfig::default()
            },
            ..GatewayConfig::default()
        },
        None,
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let workers = tokio::spawn(run_workers(state, stopped));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let n = got.lock().unwrap_or_else(|e| e.into_inner()).len();
        let queue = store.queue_stats(None).await.expect("stats");
        if queue.ready == 0 && queue.leased == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {n} of {BACKLOG} deliveries arrived within 120 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = stop.send(true);
    let _ = workers.await;
    let received: HashSet<String> = got
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .cloned()
        .collect();
    let missing: Vec<_> = ids
        .iter()
        .filter(|id| !received.contains(&id.to_string()))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {BACKLOG} deliveries were never sent; the oldest missing is {:?}",
        missing.len(),
        missing.first()
    );
    let oldest = store
        .webhook_delivery(tenant.id, ids[0])
        .await
        .expect("oldest delivery");
    assert_eq!(oldest.status, DeliveryStatus::Delivered);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_webhook_backlog_is_delivered_in_full() {
    let (store, _dir) = sqlite().await;
    backlog_is_delivered_in_full(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_webhook_backlog_is_delivered_in_full() {
    backlog_is_delivered_in_full(postgres().await).await;
}
