//! Throughput of the store's hot paths, on SQLite and (when
//! `DIGITOLL_BENCH_POSTGRES_URL` or `DIGITOLL_TEST_POSTGRES_URL` is set) PostgreSQL.
//!
//! - `submit`: 64 concurrent `submit_message` calls per iteration (message +
//!   history row + outbox job, one transaction each, committed). On
//!   PostgreSQL the calls alternate between two `Store`s (two instances).
//! - `claim_complete`: claim 16 jobs and complete each (17 statements).
//! - `baseline_commit`: 64 concurrent single-row audit inserts, the cheapest
//!   committed write, to compare the others against.
//!
//! Run: `cargo bench -p digitoll-store` (figures in the README).

use std::sync::OnceLock;
use std::time::Duration;

use digitoll_store::{
    Durability, Environment, MasterKey, NewAuditEntry, NewMessage, NewTenant, Operation, Store,
    StoreOptions, TenantId, TenantKey,
};
use divan::Bencher;
use divan::counter::ItemsCount;
use secrecy::SecretSlice;
use serde_json::json;

const CONCURRENCY: usize = 64;
const CLAIM_BATCH: u32 = 16;

fn main() {
    divan::main();
}

fn rt() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime")
    })
}

struct Fixture {
    stores: Vec<Store>,
    tenant: TenantId,
    _dir: Option<tempfile::TempDir>,
}

fn pg_url() -> Option<String> {
    std::env::var("DIGITOLL_BENCH_POSTGRES_URL")
        .or_else(|_| std::env::var("DIGITOLL_TEST_POSTGRES_URL"))
        .ok()
}

async fn fixture(backend: &str) -> Option<Fixture> {
    let key = MasterKey::from_bytes([1; 32]);
    let (stores, dir) = match backend {
        "sqlite_normal" | "sqlite_full" => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("bench.db").display()
            );
            let durability = if backend == "sqlite_full" {
                Durability::Full
            } else {
                Durability::Normal
            };
            let store = Store::connect(&url, StoreOptions::new(key).durability(durability))
                .await
                .expect("sqlite store");
            (vec![store], Some(dir))
        }
        "postgres" => {
            let admin = pg_url()?;
            let name = format!("digitoll_bench_{}", uuid::Uuid::new_v4().simple());
            let admin_store = sqlx::PgPool::connect(&admin).await.expect("pg admin");
            sqlx::query(sqlx::AssertSqlSafe(format!("create database {name}")))
                .execute(&admin_store)
                .await
                .expect("create bench database");
            let server = admin.rsplit_once('/').map_or(admin.as_str(), |(s, _)| s);
            let url = format!("{server}/{name}");
            let mut stores = Vec::new();
            for _ in 0..2 {
                stores.push(
                    Store::connect(&url, StoreOptions::new(key.clone()).max_connections(16))
                        .await
                        .expect("pg store"),
                );
            }
            (stores, None)
        }
        other => panic!("unknown backend {other}"),
    };
    let tenant = stores[0]
        .create_tenant(NewTenant {
            org_number: "999999999".into(),
            name: "bench".into(),
            environment: Environment::Test,
            issuer_url: None,
            client_id: "bench".into(),
            key: TenantKey::KeyPair {
                kid: "k".into(),
                private_key: SecretSlice::from(b"not a real key".to_vec()),
                public_jwk: json!({}),
            },
            scopes: vec![],
        })
        .await
        .expect("tenant")
        .id;
    Some(Fixture {
        stores,
        tenant,
        _dir: dir,
    })
}

fn message(tenant: TenantId, n: usize) -> NewMessage {
    NewMessage {
        tenant_id: tenant,
        api: "road".into(),
        kind: "house".into(),
        operation: Operation::Create,
        // About 1 KB, like a small house consignment.
        body: json!({
            "documentNumber": format!("DOC-{n}"),
            "consignor": {"name": "Avsender AS", "address": "Storgata 1, 0155 Oslo"},
            "consignee": {"name": "Mottaker AB", "address": "Drottninggatan 2, Stockholm"},
            "goods": (0..8).map(|i| json!({"line": i, "hs": "847130", "description": "Laptop computers", "grossMass": 12.5})).collect::<Vec<_>>(),
        }),
        document_number: Some(format!("DOC-{n}")),
        document_type: Some("N740".into()),
        carrier_id: Some("NO999999999".into()),
        idempotency_key: Some(uuid::Uuid::new_v4().to_string()),
        local_findings: None,
        validation_mode: digitoll_store::ValidationMode::Strict,
    }
}

const BACKENDS: &[&str] = &["sqlite_normal", "sqlite_full", "postgres"];

#[divan::bench(args = BACKENDS, sample_count = 20, sample_size = 4)]
fn submit(bencher: Bencher, backend: &str) {
    let Some(f) = rt().block_on(fixture(backend)) else {
        eprintln!("skipping {backend}: no PostgreSQL URL in the environment");
        return;
    };
    let mut n = 0usize;
    bencher
        .counter(ItemsCount::new(CONCURRENCY))
        .bench_local(|| {
            n += 1;
            rt().block_on(async {
                let mut set = tokio::task::JoinSet::new();
                for i in 0..CONCURRENCY {
                    let store = f.stores[i % f.stores.len()].clone();
                    let m = message(f.tenant, n * CONCURRENCY + i);
                    set.spawn(async move { store.submit_message(m).await.expect("submit") });
                }
                while let Some(r) = set.join_next().await {
                    r.expect("task");
                }
            })
        });
}

#[divan::bench(args = BACKENDS, sample_count = 20, sample_size = 4)]
fn baseline_commit(bencher: Bencher, backend: &str) {
    let Some(f) = rt().block_on(fixture(backend)) else {
        eprintln!("skipping {backend}: no PostgreSQL URL in the environment");
        return;
    };
    bencher
        .counter(ItemsCount::new(CONCURRENCY))
        .bench_local(|| {
            rt().block_on(async {
                let mut set = tokio::task::JoinSet::new();
                for i in 0..CONCURRENCY {
                    let store = f.stores[i % f.stores.len()].clone();
                    let tenant = f.tenant;
                    set.spawn(async move {
                        store
                            .audit(NewAuditEntry {
                                tenant_id: Some(tenant),
                                actor: "bench".into(),
                                action: "bench.commit".into(),
                                detail: json!({"i": i}),
                            })
                            .await
                            .expect("audit")
                    });
                }
                while let Some(r) = set.join_next().await {
                    r.expect("task");
                }
            })
        });
}

#[divan::bench(args = BACKENDS, sample_count = 20, sample_size = 4)]
fn claim_complete(bencher: Bencher, backend: &str) {
    let Some(f) = rt().block_on(fixture(backend)) else {
        eprintln!("skipping {backend}: no PostgreSQL URL in the environment");
        return;
    };
    // Enough jobs for every iteration divan may run (20 × 4 plus warm-up).
    rt().block_on(async {
        for chunk in 0..40 {
            let mut set = tokio::task::JoinSet::new();
            for i in 0..CONCURRENCY {
                let store = f.stores[0].clone();
                let m = message(f.tenant, chunk * CONCURRENCY + i);
                set.spawn(async move { store.submit_message(m).await.expect("submit") });
            }
            while set.join_next().await.is_some() {}
        }
    });
    bencher
        .counter(ItemsCount::new(CLAIM_BATCH))
        .bench_local(|| {
            rt().block_on(async {
                let jobs = f.stores[0]
                    .claim("bench", CLAIM_BATCH, Duration::from_secs(60))
                    .await
                    .expect("claim");
                assert_eq!(jobs.len(), CLAIM_BATCH as usize, "queue ran dry");
                for job in &jobs {
                    f.stores[0].complete(job).await.expect("complete");
                }
            })
        });
}
