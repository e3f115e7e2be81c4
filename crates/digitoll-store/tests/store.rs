//! Integration tests: every case runs on SQLite (a file in a temp dir) and on
//! PostgreSQL (a fresh database per test, created from the server at
//! `DIGITOLL_TEST_POSTGRES_URL`; `bash scripts/test.sh` starts one).
//!
//! The cases are plain async functions below; `on_both_backends!` at the end
//! generates `sqlite::<case>` and `postgres::<case>` tests for each.

use std::collections::HashSet;
use std::time::Duration;

use digitoll_store::*;
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use serde_json::json;
use sha2::Digest;
use time::OffsetDateTime;
use uuid::Uuid;

fn master() -> MasterKey {
    MasterKey::from_bytes([7u8; 32])
}

enum Raw {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// A store on a fresh database plus raw SQL access to check what is stored.
struct Harness {
    store: Store,
    url: String,
    raw: Raw,
    _dir: Option<tempfile::TempDir>,
}

impl Harness {
    async fn sqlite() -> Self {
        Self::sqlite_with(StoreOptions::new(master())).await
    }

    async fn sqlite_with(options: StoreOptions) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("store.db").display()
        );
        let store = Store::connect(&url, options)
            .await
            .expect("open sqlite store");
        let raw = sqlx::SqlitePool::connect(&url)
            .await
            .expect("raw sqlite pool");
        Self {
            store,
            url,
            raw: Raw::Sqlite(raw),
            _dir: Some(dir),
        }
    }

    async fn postgres() -> Self {
        Self::postgres_with(StoreOptions::new(master())).await
    }

    async fn postgres_with(options: StoreOptions) -> Self {
        let url = digitoll_testkit::fresh_postgres_database().await;
        let store = Store::connect(&url, options)
            .await
            .expect("open postgres store");
        let raw = sqlx::PgPool::connect(&url)
            .await
            .expect("raw postgres pool");
        Self {
            store,
            url,
            raw: Raw::Postgres(raw),
            _dir: None,
        }
    }

    /// A second store on the same database (another gateway instance, or
    /// another master key).
    async fn reopen(&self, options: StoreOptions) -> Store {
        Store::connect(&self.url, options)
            .await
            .expect("reopen store")
    }

    async fn exec(&self, sql: &str) {
        match &self.raw {
            Raw::Sqlite(p) => sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(p)
                .await
                .map(|_| ()),
            Raw::Postgres(p) => sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(p)
                .await
                .map(|_| ()),
        }
        .unwrap_or_else(|e| panic!("raw sql failed: {e}\n{sql}"));
    }

    async fn count(&self, table: &str) -> i64 {
        let sql = format!("select count(*) from {table}");
        match &self.raw {
            Raw::Sqlite(p) => {
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .fetch_one(p)
                    .await
            }
            Raw::Postgres(p) => {
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .fetch_one(p)
                    .await
            }
        }
        .expect("count")
    }

    async fn bytes(&self, sql: &str, id: Uuid) -> Vec<u8> {
        match &self.raw {
            Raw::Sqlite(p) => {
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
                    .bind(id)
                    .fetch_one(p)
                    .await
            }
            Raw::Postgres(p) => {
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
                    .bind(id)
                    .fetch_one(p)
                    .await
            }
        }
        .expect("raw bytes")
    }

    async fn set_bytes(&self, sql: &str, value: &[u8], id: Uuid) {
        match &self.raw {
            Raw::Sqlite(p) => sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
                .bind(value)
                .bind(id)
                .execute(p)
                .await
                .map(|_| ()),
            Raw::Postgres(p) => sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
                .bind(value)
                .bind(id)
                .execute(p)
                .await
                .map(|_| ()),
        }
        .expect("raw update")
    }

    fn is_pg(&self) -> bool {
        matches!(self.raw, Raw::Postgres(_))
    }

    /// Makes inserts into `table` fail (to prove transactions roll back).
    async fn break_inserts(&self, table: &str) {
        if self.is_pg() {
            self.exec(&format!(
                "create function fail_{table}() returns trigger language plpgsql as \
                 $$ begin raise exception 'injected failure on {table}'; end $$; \
                 create trigger fail_{table} before insert or update on {table} \
                 for each row execute function fail_{table}();"
            ))
            .await;
        } else {
            self.exec(&format!(
                "create trigger fail_{table}_i before insert on {table} \
                 begin select raise(abort, 'injected failure on {table}'); end; \
                 create trigger fail_{table}_u before update on {table} \
                 begin select raise(abort, 'injected failure on {table}'); end;"
            ))
            .await;
        }
    }

    async fn repair_inserts(&self, table: &str) {
        if self.is_pg() {
            self.exec(&format!("drop trigger fail_{table} on {table}"))
                .await;
        } else {
            self.exec(&format!(
                "drop trigger fail_{table}_i; drop trigger fail_{table}_u;"
            ))
            .await;
        }
    }
}

const PRIVATE_KEY: &[u8] =
    b"-----BEGIN PRIVATE KEY-----\nTESTKEYMATERIAL-abcdef\n-----END PRIVATE KEY-----\n";
const P12: &[u8] = b"\x30\x82p12-bytes-for-test";
const P12_PASSWORD: &str = "correct horse battery staple";

fn kid_tenant(org: &str) -> NewTenant {
    NewTenant {
        org_number: org.into(),
        name: format!("Org {org}"),
        environment: Environment::Test,
        issuer_url: None,
        client_id: format!("client-{org}"),
        key: TenantKey::KeyPair {
            kid: format!("kid-{org}"),
            private_key: SecretSlice::from(PRIVATE_KEY.to_vec()),
            public_jwk: json!({"kty": "RSA", "n": "abc", "e": "AQAB"}),
        },
        scopes: vec!["toll:movement/road".into()],
    }
}

fn cert_tenant(org: &str) -> NewTenant {
    NewTenant {
        org_number: org.into(),
        name: format!("Cert {org}"),
        environment: Environment::Prod,
        issuer_url: None,
        client_id: format!("cert-client-{org}"),
        key: TenantKey::Certificate {
            p12: SecretSlice::from(P12.to_vec()),
            password: SecretString::from(P12_PASSWORD),
        },
        scopes: vec!["toll:movement/road".into(), "toll:movement/air".into()],
    }
}

fn new_message(tenant: TenantId, doc: &str, key: Option<&str>) -> NewMessage {
    NewMessage {
        tenant_id: tenant,
        api: "road".into(),
        kind: "house".into(),
        operation: Operation::Create,
        body: json!({"documentNumber": doc, "lines": [1, 2, 3]}),
        document_number: Some(doc.into()),
        document_type: Some("N740".into()),
        carrier_id: Some("NO123456789".into()),
        idempotency_key: key.map(str::to_owned),
        local_findings: None,
        validation_mode: ValidationMode::Strict,
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Claims until something comes back or two seconds pass.
async fn claim_one(store: &Store, worker: &str, lease: Duration) -> Job {
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    loop {
        let mut jobs = store.claim(worker, 1, lease).await.expect("claim");
        if let Some(job) = jobs.pop() {
            return job;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no job became claimable"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

// ------------------------------------------------------------------- cases

async fn migrations_run_once_and_again(h: Harness) {
    for table in [
        "tenants",
        "api_keys",
        "messages",
        "message_states",
        "attempts",
        "jobs",
        "routing_signals",
        "routing_cursors",
        "webhook_subscriptions",
        "webhook_deliveries",
        "audit_log",
    ] {
        assert_eq!(h.count(table).await, 0, "{table} exists and is empty");
    }
    // 0001_init, 0002_messages_mrn, 0003_job_priority and 0004_validation_mode.
    assert_eq!(h.count("_sqlx_migrations").await, 4);
    // Opening again re-runs the migrator, which must be a no-op.
    let again = h.reopen(StoreOptions::without_master_key()).await;
    assert_eq!(h.count("_sqlx_migrations").await, 4);
    assert!(again.tenants().await.unwrap().is_empty());
    assert_eq!(
        again.backend_kind(),
        if h.is_pg() {
            BackendKind::Postgres
        } else {
            BackendKind::Sqlite
        }
    );
}

async fn tenant_crud_and_sealed_secrets(h: Harness) {
    let s = &h.store;
    let a = s.create_tenant(kid_tenant("111111111")).await.unwrap();
    let b = s.create_tenant(cert_tenant("222222222")).await.unwrap();
    assert_eq!(a.key_kind, KeyKind::Kid);
    assert_eq!(a.kid.as_deref(), Some("kid-111111111"));
    assert_eq!(b.key_kind, KeyKind::Certificate);
    assert_eq!(s.tenant(a.id).await.unwrap(), a);
    assert_eq!(s.tenants().await.unwrap().len(), 2);

    // Ciphertext in the database is not the plaintext, nor contains it.
    let sealed_a = h
        .bytes(
            "select sealed_private_key from tenants where id = $1",
            a.id.0,
        )
        .await;
    assert!(!contains(&sealed_a, b"TESTKEYMATERIAL"));
    assert!(sealed_a.len() >= PRIVATE_KEY.len() + 28);
    let sealed_pw = h
        .bytes(
            "select sealed_p12_password from tenants where id = $1",
            b.id.0,
        )
        .await;
    assert!(!contains(&sealed_pw, P12_PASSWORD.as_bytes()));

    // Opening with the right key gives the secrets back.
    match s.tenant_key(a.id).await.unwrap() {
        TenantKeyMaterial::KeyPair { kid, private_key } => {
            assert_eq!(kid, "kid-111111111");
            assert_eq!(private_key.expose_secret(), PRIVATE_KEY);
        }
        other => panic!("expected a key pair, got {other:?}"),
    }
    let material = s.tenant_key(b.id).await.unwrap();
    let debug = format!("{material:?}");
    assert!(
        !debug.contains(P12_PASSWORD),
        "secrets leak in Debug: {debug}"
    );
    match material {
        TenantKeyMaterial::Certificate { p12, password } => {
            assert_eq!(p12.expose_secret(), P12);
            assert_eq!(password.expose_secret(), P12_PASSWORD);
        }
        other => panic!("expected a certificate, got {other:?}"),
    }

    // A wrong master key cannot open them.
    let wrong = h
        .reopen(StoreOptions::new(MasterKey::from_bytes([8u8; 32])))
        .await;
    assert!(matches!(
        wrong.tenant_key(a.id).await,
        Err(Error::Crypto(_))
    ));
    assert!(matches!(
        wrong.tenant_key(b.id).await,
        Err(Error::Crypto(_))
    ));
    // No master key at all: reads without secrets still work.
    let none = h.reopen(StoreOptions::without_master_key()).await;
    assert_eq!(none.tenant(a.id).await.unwrap().name, a.name);
    assert!(matches!(none.tenant_key(a.id).await, Err(Error::Crypto(_))));

    // A ciphertext moved to another tenant, or to another column, fails.
    let c = s.create_tenant(kid_tenant("333333333")).await.unwrap();
    h.set_bytes(
        "update tenants set sealed_private_key = $1 where id = $2",
        &sealed_a,
        c.id.0,
    )
    .await;
    assert!(matches!(s.tenant_key(c.id).await, Err(Error::Crypto(_))));
    let sealed_p12 = h
        .bytes("select sealed_p12 from tenants where id = $1", b.id.0)
        .await;
    h.set_bytes(
        "update tenants set sealed_p12_password = $1 where id = $2",
        &sealed_p12,
        b.id.0,
    )
    .await;
    assert!(matches!(s.tenant_key(b.id).await, Err(Error::Crypto(_))));

    // Key rotation re-seals; update changes plain fields only.
    let c = s
        .set_tenant_key(c.id, cert_tenant("333333333").key)
        .await
        .unwrap();
    assert_eq!(c.key_kind, KeyKind::Certificate);
    assert!(c.kid.is_none());
    assert!(matches!(
        s.tenant_key(c.id).await.unwrap(),
        TenantKeyMaterial::Certificate { .. }
    ));
    let updated = s
        .update_tenant(
            a.id,
            TenantUpdate {
                name: Some("Renamed".into()),
                enabled: Some(false),
                scopes: Some(vec!["a".into(), "b".into()]),
                issuer_url: Some(Some("http://127.0.0.1:1/".into())),
                ..TenantUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.name, "Renamed");
    assert!(!updated.enabled);
    assert_eq!(updated.scopes, vec!["a", "b"]);
    assert_eq!(updated.client_id, a.client_id);
    assert_eq!(updated.issuer_url.as_deref(), Some("http://127.0.0.1:1/"));

    // Validation.
    assert!(matches!(
        s.create_tenant(kid_tenant("12345")).await,
        Err(Error::Invalid {
            field: "org_number",
            ..
        })
    ));
    // Nine digits, but the mod-11 check digit is wrong (310000000 is valid).
    match s.create_tenant(kid_tenant("310000001")).await {
        Err(Error::Invalid {
            field: "org_number",
            reason,
        }) => assert!(reason.contains("mod-11"), "{reason}"),
        other => panic!("expected an org_number error, got {other:?}"),
    }
    let mut sim = kid_tenant("444444444");
    sim.environment = Environment::Sim;
    assert!(matches!(
        s.create_tenant(sim).await,
        Err(Error::Invalid {
            field: "issuer_url",
            ..
        })
    ));

    // Delete: refused while messages refer to it, then allowed.
    s.submit_message(new_message(a.id, "D1", None))
        .await
        .unwrap();
    assert!(matches!(
        s.delete_tenant(a.id).await,
        Err(Error::Conflict(_))
    ));
    s.delete_tenant(c.id).await.unwrap();
    assert!(matches!(s.tenant(c.id).await, Err(Error::NotFound { .. })));
    assert!(matches!(
        s.delete_tenant(c.id).await,
        Err(Error::NotFound { .. })
    ));
}

async fn api_keys_are_hashed(h: Harness) {
    let s = &h.store;
    let t = s.create_tenant(kid_tenant("111111111")).await.unwrap();
    let u = s.create_tenant(kid_tenant("222222222")).await.unwrap();
    let (info, key) = s
        .create_api_key(ApiKeyScope::Tenant(t.id), "ci")
        .await
        .unwrap();
    let (admin, admin_key) = s.create_api_key(ApiKeyScope::Admin, "ops").await.unwrap();
    assert!(key.expose().starts_with(API_KEY_PREFIX));
    assert!(key.expose().starts_with(&info.prefix));
    assert_eq!(info.prefix.len(), 12);
    assert_eq!(format!("{key:?}"), "ApiKeySecret([redacted])");

    // Only the SHA-256 of the key is stored.
    let stored = h
        .bytes("select key_hash from api_keys where id = $1", info.id.0)
        .await;
    assert_eq!(
        stored,
        sha2::Sha256::digest(key.expose().as_bytes()).to_vec()
    );
    let all_text = h
        .bytes(
            if h.is_pg() {
                "select convert_to(string_agg(prefix || label, ','), 'UTF8') from api_keys where id <> $1"
            } else {
                "select cast(group_concat(prefix || label) as blob) from api_keys where id <> $1"
            },
            Uuid::nil(),
        )
        .await;
    assert!(!contains(&all_text, key.expose().as_bytes()));

    assert_eq!(s.authenticate_api_key(key.expose()).await.unwrap(), info);
    assert_eq!(
        s.authenticate_api_key(admin_key.expose())
            .await
            .unwrap()
            .scope,
        ApiKeyScope::Admin
    );
    let mut forged = key.expose().to_owned();
    forged.pop();
    forged.push(if key.expose().ends_with('A') {
        'B'
    } else {
        'A'
    });
    for bad in [
        forged.as_str(),
        "dtk_",
        "",
        "Bearer x",
        info.prefix.as_str(),
    ] {
        assert!(
            matches!(
                s.authenticate_api_key(bad).await,
                Err(Error::NotFound { .. })
            ),
            "{bad}"
        );
    }

    assert_eq!(
        s.api_keys(ApiKeyScope::Tenant(t.id)).await.unwrap(),
        vec![info.clone()]
    );
    assert_eq!(
        s.api_keys(ApiKeyScope::Admin).await.unwrap(),
        vec![admin.clone()]
    );
    assert!(
        s.api_keys(ApiKeyScope::Tenant(u.id))
            .await
            .unwrap()
            .is_empty()
    );
    // Another tenant (or the admin scope) cannot revoke it.
    assert!(matches!(
        s.revoke_api_key(ApiKeyScope::Tenant(u.id), info.id).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        s.revoke_api_key(ApiKeyScope::Admin, info.id).await,
        Err(Error::NotFound { .. })
    ));
    s.revoke_api_key(ApiKeyScope::Tenant(t.id), info.id)
        .await
        .unwrap();
    assert!(matches!(
        s.authenticate_api_key(key.expose()).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        s.revoke_api_key(ApiKeyScope::Tenant(t.id), info.id).await,
        Err(Error::NotFound { .. })
    ));
    s.revoke_api_key(ApiKeyScope::Admin, admin.id)
        .await
        .unwrap();
}

async fn tenants_are_isolated(h: Harness) {
    let s = &h.store;
    let a = s.create_tenant(kid_tenant("111111111")).await.unwrap().id;
    let b = s.create_tenant(kid_tenant("222222222")).await.unwrap().id;
    let sub = s
        .submit_message(new_message(a, "DOC-A", Some("k1")))
        .await
        .unwrap();
    let m = sub.message.id;
    let job = sub.job.unwrap();
    s.transition(a, m, Transition::to(MessageState::Sending))
        .await
        .unwrap();
    let attempt = s.begin_attempt(a, m, Some(job)).await.unwrap();
    let (hook, _) = s
        .create_webhook(
            a,
            "https://example.invalid/hook",
            &["message.accepted".into()],
        )
        .await
        .unwrap();
    let (delivery, _) = s
        .create_webhook_delivery(a, hook.id, Some(m), "message.accepted", &json!({}))
        .await
        .unwrap();
    s.record_routing_signals(
        a,
        "entry",
        &[NewRoutingSignal {
            reference: "HOUSE-1".into(),
            signal: "release".into(),
            control_location: None,
            received_at: OffsetDateTime::now_utc(),
            raw: json!({}),
        }],
        None,
        "m1",
    )
    .await
    .unwrap();
    s.audit(NewAuditEntry {
        tenant_id: Some(a),
        actor: "test".into(),
        action: "message.submit".into(),
        detail: json!({}),
    })
    .await
    .unwrap();

    let nf = |r: Result<_, Error>| matches!(r, Err(Error::NotFound { .. }));
    assert!(nf(s.message(b, m).await.map(|_| ())));
    assert!(
        s.messages(b, MessageFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(s.messages_by_document(b, "DOC-A").await.unwrap().is_empty());
    assert!(s.history(b, m).await.unwrap().is_empty());
    assert!(s.attempts(b, m).await.unwrap().is_empty());
    assert!(nf(s.begin_attempt(b, m, None).await.map(|_| ())));
    assert!(nf(s
        .finish_attempt(b, m, attempt, AttemptResult::default())
        .await));
    assert!(nf(s
        .transition(b, m, Transition::to(MessageState::Failed))
        .await
        .map(|_| ())));
    assert!(nf(s
        .enqueue(NewJob {
            tenant_id: b,
            message_id: Some(m),
            kind: JobKind::PollStatus,
            payload: None,
            delay: None,
            max_attempts: None,
        })
        .await
        .map(|_| ())));
    assert!(nf(s.job(Some(b), job).await.map(|_| ())));
    assert!(nf(s.cancel_job(Some(b), job).await));
    assert!(nf(s.retry_job(Some(b), job).await));
    assert!(s.dead_jobs(Some(b), 10).await.unwrap().is_empty());
    assert_eq!(s.queue_stats(Some(b)).await.unwrap(), QueueStats::default());
    assert!(s.routing_signals(b, None, 10).await.unwrap().is_empty());
    assert!(s.routing_cursor(b, "entry").await.unwrap().is_none());
    assert!(s.webhooks(b).await.unwrap().is_empty());
    assert!(nf(s.webhook_secret(b, hook.id).await.map(|_| ())));
    assert!(nf(s.delete_webhook(b, hook.id).await));
    assert!(
        s.webhook_deliveries(b, hook.id, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(nf(s
        .create_webhook_delivery(b, hook.id, None, "x", &json!({}))
        .await
        .map(|_| ())));
    assert!(nf(s
        .record_webhook_delivery(b, delivery.id, DeliveryStatus::Delivered, Some(200), None)
        .await
        .map(|_| ())));
    assert!(s.audit_log(Some(b), 10).await.unwrap().is_empty());
    // The same idempotency key is free for the other tenant.
    let other = s
        .submit_message(new_message(b, "DOC-A", Some("k1")))
        .await
        .unwrap();
    assert!(!other.replayed);
    assert_ne!(other.message.id, m);

    // The owner sees everything.
    assert_eq!(s.message(a, m).await.unwrap().state, MessageState::Sending);
    assert_eq!(s.messages_by_document(a, "DOC-A").await.unwrap().len(), 1);
    assert_eq!(s.job(Some(a), job).await.unwrap().message_id, Some(m));
    assert_eq!(s.job(None, job).await.unwrap().tenant_id, a);
    assert_eq!(s.routing_signals(a, None, 10).await.unwrap().len(), 1);
    assert_eq!(s.webhooks(a).await.unwrap().len(), 1);
    assert_eq!(s.audit_log(Some(a), 10).await.unwrap().len(), 1);
    assert_eq!(s.audit_log(None, 10).await.unwrap().len(), 1);
}

async fn message_and_job_commit_together(h: Harness) {
    let s = &h.store;
    let t = s.create_tenant(kid_tenant("111111111")).await.unwrap().id;
    h.break_inserts("jobs").await;
    let err = s
        .submit_message(new_message(t, "D1", Some("k")))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("injected failure"),
        "unexpected error: {err}"
    );
    assert_eq!(h.count("messages").await, 0, "message rolled back");
    assert_eq!(h.count("message_states").await, 0, "history rolled back");
    assert_eq!(h.count("jobs").await, 0);
    h.repair_inserts("jobs").await;

    // The same idempotency key works now: the failed attempt left nothing.
    let sub = s
        .submit_message(new_message(t, "D1", Some("k")))
        .await
        .unwrap();
    assert!(!sub.replayed);
    let job = s.job(Some(t), sub.job.unwrap()).await.unwrap();
    assert_eq!(job.message_id, Some(sub.message.id));
    assert_eq!(job.kind, JobKind::Submit);
    assert_eq!(job.state, JobState::Ready);
    assert_eq!(job.max_attempts, RetryPolicy::default().max_attempts);
    assert_eq!(
        s.message(t, sub.message.id).await.unwrap(),
        sub.message,
        "the returned message is what was stored"
    );

    // Unknown tenant: refused, nothing stored.
    let ghost = TenantId(Uuid::new_v4());
    assert!(matches!(
        s.submit_message(new_message(ghost, "D2", None)).await,
        Err(Error::Conflict(_))
    ));
    assert_eq!(h.count("messages").await, 1);
    assert_eq!(h.count("jobs").await, 1);

    // One bad submission among concurrent ones (which SQLite commits as one
    // group) fails alone; the others are stored with their jobs.
    let mut tasks = Vec::new();
    for i in 0..16 {
        let s = s.clone();
        let tenant = if i == 7 { ghost } else { t };
        tasks.push(tokio::spawn(async move {
            s.submit_message(new_message(
                tenant,
                &format!("G{i}"),
                Some(&format!("g{i}")),
            ))
            .await
        }));
    }
    let mut failed = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(sub) => assert!(sub.job.is_some()),
            Err(Error::Conflict(_)) => failed += 1,
            Err(e) => panic!("unexpected error {e}"),
        }
    }
    assert_eq!(failed, 1);
    assert_eq!(h.count("messages").await, 16);
    assert_eq!(h.count("jobs").await, 16);
    assert_eq!(h.count("message_states").await, 16);
}

/// Writes of different kinds issued together (which SQLite commits as one
/// group) succeed or fail each on its own: a completion with a lost lease
/// fails alone, the others are stored.
async fn mixed_concurrent_writes_fail_alone(h: Harness) {
    let s = &h.store;
    let t = s.create_tenant(kid_tenant("111111111")).await.unwrap().id;
    let mut msgs = Vec::new();
    for i in 0..3 {
        msgs.push(
            s.submit_message(new_message(t, &format!("M{i}"), None))
                .await
                .unwrap()
                .message
                .id,
        );
    }
    let mut jobs = Vec::new();
    for _ in 0..3 {
        jobs.push(claim_one(s, "w", Duration::from_secs(60)).await);
    }
    let good = jobs[0].clone();
    let mut stale = jobs[1].clone();
    stale.attempts += 1;
    let moving = msgs[2];

    let mut tasks = tokio::task::JoinSet::new();
    {
        let s = s.clone();
        tasks.spawn(async move { ("complete", s.complete(&good).await.map(|_| ())) });
    }
    {
        let s = s.clone();
        tasks.spawn(async move { ("stale", s.complete(&stale).await.map(|_| ())) });
    }
    {
        let s = s.clone();
        tasks.spawn(async move {
            let r = s
                .transition(
                    t,
                    moving,
                    Transition::to(MessageState::Sending).detail("go"),
                )
                .await
                .map(|_| ());
            ("transition", r)
        });
    }
    for i in 0..8 {
        let s = s.clone();
        tasks.spawn(async move {
            let r = s
                .submit_message(new_message(t, &format!("N{i}"), None))
                .await
                .map(|_| ());
            ("submit", r)
        });
    }
    while let Some(done) = tasks.join_next().await {
        let (what, result) = done.unwrap();
        match what {
            "stale" => assert!(
                matches!(result, Err(Error::LeaseLost { .. })),
                "the stale completion must fail: {result:?}"
            ),
            _ => assert!(result.is_ok(), "{what} failed: {result:?}"),
        }
    }
    assert_eq!(
        s.job(Some(t), jobs[0].id).await.unwrap().state,
        JobState::Done
    );
    assert_eq!(
        s.job(Some(t), jobs[1].id).await.unwrap().state,
        JobState::Leased
    );
    assert_eq!(
        s.message(t, moving).await.unwrap().state,
        MessageState::Sending
    );
    assert_eq!(h.count("messages").await, 11);
    assert_eq!(h.count("message_states").await, 12, "11 queued + 1 sending");
}

/// Under a backlog, due status polls (and webhook deliveries) are claimed
/// before older new submissions, so messages already sent finish first.
async fn due_polls_are_claimed_before_older_submissions(h: Harness) {
    let s = &h.store;
    let t = s.create_tenant(kid_tenant("111111111")).await.unwrap().id;
    let mut first = None;
    for i in 0..5 {
        let sub = s
            .submit_message(new_message(t, &format!("B{i}"), None))
            .await
            .unwrap();
        first.get_or_insert(sub.message.id);
    }
    let poll = s
        .enqueue(NewJob {
            tenant_id: t,
            message_id: first,
            kind: JobKind::PollStatus,
            payload: None,
            delay: None,
            max_attempts: None,
        })
        .await
        .unwrap();
    let claimed = s.claim("w", 2, Duration::from_secs(60)).await.unwrap();
    let kinds: Vec<&str> = claimed.iter().map(|j| j.kind.as_str()).collect();
    assert!(
        claimed.iter().any(|j| j.id == poll),
        "the due poll is claimed first: {kinds:?}"
    );
    assert_eq!(claimed.len(), 2);
    let rest = s.claim("w", 10, Duration::from_secs(60)).await.unwrap();
    assert_eq!(rest.len(), 4, "the other submissions follow");
    assert!(rest.iter().all(|j| j.kind == JobKind::Submit));
}

async fn idempotency_replay_and_conflict(h: Harness) {
    let s = &h.store;
    let t = s.create_tenant(kid_tenant("111111111")).await.unwrap().id;
    let first = s
        .submit_message(new_message(t, "D1", Some("idem-1")))
        .await
        .unwrap();
    assert!(!first.replayed);
    let replay = s
        .submit_message(new_message(t, "D1", Some("idem-1")))
        .await
        .unwrap();
    assert!(replay.replayed);
    assert_eq!(replay.job, None);
    assert_eq!(replay.message.id, first.message.id);
    assert_eq!(h.count("jobs").await, 1, "a replay enqueues nothing");

    let err = s
        .submit_message(new_message(t, "D-other", Some("idem-1")))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Conflict(m) if m.contains("idem-1")),
        "{err}"
    );
    let mut other_op = new_message(t, "D1", Some("idem-1"));
    other_op.operation = Operation::Update;
    assert!(matches!(
        s.submit_message(other_op).await,
        Err(Error::Conflict(_))
    ));

    // Without a key every submit is new.
    let a = s.submit_message(new_message(t, "D1", None)).await.unwrap();
    let b = s.submit_message(new_message(t, "D1", None)).await.unwrap();
    assert_ne!(a.message.id, b.message.id);

    // Concurrent first uses of one key: exactly one message is created.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.submit_message(new_message(t, "RACE", Some("race-key")))
                .await
                .unwrap()
        }));
    }
    let mut ids = HashSet::new();
    let mut fresh = 0;
    for task in tasks {
        let sub = task.await.unwrap();
        ids.insert(sub.message.id);
        fresh += usize::from(!sub.replayed);
    }
    assert_eq!(ids.len(), 1);
    assert_eq!(fresh, 1);
    assert!(matches!(
        s.submit_message(new_message(t, "x", Some(""))).await,
        Err(Error::Invalid { .. })
    ));
}

async fn concurrent_claimers_never_share_a_job(h: Harness) {
    let s = &h.store;
    let t = s.create_tenant(kid_tenant("111111111")).await.unwrap().id;
    const JOBS: usize = 120;
    for i in 0..JOBS {
        s.submit_message(new_message(t, &format!("D{i}"), None))
            .await
            .unwrap();
    }
    // A second store = a second gateway instance with its own pool.
    let other = h.reopen(StoreOptions::new(master())).await;
    let mut tasks = Vec::new();
    for w in 0..8 {
        let store = if w % 2 == 0 { s.clone() } else { other.clone() };
        tasks.push(tokio::spawn(async move {
            let worker = format!("worker-{w}");
            let mut mine = Vec::new();
            loop {
                let jobs = store
                    .claim(&worker, 3, Duration::from_secs(60))
                    .await
                    .unwrap();
                if jobs.is_empty() {
                    break;
                }
                for job in jobs {
                    assert_eq!(job.lease_owner.as_deref(), Some(worker.as_str()));
                    assert_eq!(job.state, JobState::Leased);
                    assert_eq!(job.attempts, 1);
                    store.complete(&job).await.unwrap();
                    mine.push(job.id);
                }
                tokio::task::yield_now().await;
            }
            mine
        }));
    }
    let mut seen = HashSet::new();
    let mut workers_with_work = 0;
    for task in tasks {
        let mine = task.await.unwrap();
        workers_with_work += usize::from(!mine.is_empty());
        for id in mine {
            assert!(seen.insert(id), "job {id} was claimed twice");
        }
    }
    assert_eq!(seen.len(), JOBS);
    assert!(workers_with_work >= 2, "the work was shared");
    let stats = s.queue_stats(None).await.unwrap();
    assert_eq!(stats.done, JOBS as u64);
    assert_eq!(stats.ready + stats.leased, 0);
}

async fn expired_leases_are_reclaimed_and_fenced(h: Harness) {
    let s = &h.store;
    let t = s.create_tenant(kid_tenant("111111111")).await.unwrap().id;
    s.submit_message(new_message(t, "D1", None)).await.unwrap();
    let first = claim_one(s, "w1", Duration::from_millis(300)).await;
    assert_eq!(first.attempts, 1);
    assert!(
        s.claim("w2", 10, Duration::from_secs(60))
            .await
            .unwrap()
            .is_empty()
    );
    // Extending works while the lease is held.
    let until = s
        .extend_lease(&first, Duration::from_millis(300))
        .await
        .unwrap();
    assert!(until > first.lease_expires_at.unwrap() - time::Duration::milliseconds(1));
    tokio::time::sleep(Duration::from_millis(450)).await;
    let second = claim_one(s, "w2", Duration::from_secs(60)).await;
    assert_eq!(second.id, first.id);
    assert_eq!(second.attempts, 2);
    assert_eq!(second.lease_owner.as_deref(), Some("w2"));

    // The stale owner is fenced off from every outcome.
    let lost = |r: Result<(), Error>| matches!(r, Err(Error::LeaseLost { job }) if job == first.id);
    assert!(lost(s.complete(&first).await));
    assert!(lost(
        s.extend_lease(&first, Duration::from_secs(5))
            .await
            .map(|_| ())
    ));
    assert!(lost(
        s.fail(&first, Failure::Fatal { error: "x".into() })
            .await
            .map(|_| ())
    ));
    // Same worker name, older claim: still fenced by the attempt number.
    let mut same_name = first.clone();
    same_name.lease_owner = Some("w2".into());
    assert!(lost(s.complete(&same_name).await));

    s.complete(&second).await.unwrap();
    assert!(matches!(
        s.complete(&second).await,
        Err(Error::LeaseLost { .. })
    ));
    assert_eq!(s.job(None, second.id).await.unwrap().state, JobState::Done);

    // A job whose last allowed attempt's lease expires is dead-lettered.
    s.enqueue(NewJob {
        tenant_id: t,
        message_id: None,
        kind: JobKind::Reconcile,
        payload: Some(json!({"n": 1})),
        delay: None,
        max_attempts: Some(1),
    })
    .await
    .unwrap();
    let once = claim_one(s, "w3", Duration::from_millis(100)).await;
    assert_eq!(once.payload, Some(json!({"n": 1})));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        s.claim("w4", 10, Duration::from_secs(1))
            .await
            .unwrap()
            .is_empty()
    );
    let dead = s.job(Some(t), once.id).await.unwrap();
    assert_eq!(dead.state, JobState::Dead);
    assert!(dead.last_error.unwrap().contains("lease expired"));
}

async fn retries_back_off_then_dead_letter(h: Harness) {
    let policy = RetryPolicy {
        base_delay: Duration::from_millis(40),
        factor: 2.0,
        max_delay: Duration::from_millis(150),
        max_attempts: 4,
    };
    let s = h.reopen(StoreOptions::new(master()).retry(policy)).await;
    assert_eq!(s.retry_policy(), policy);
    let t = s.create_tenant(kid_tenant("111111111")).await.unwrap().id;
    let sub = s.submit_message(new_message(t, "D1", None)).await.unwrap();
    let job_id = sub.job.unwrap();
    for n in 1..=4u32 {
        let job = claim_one(&s, "w", Duration::from_secs(30)).await;
        assert_eq!((job.id, job.attempts, job.max_attempts), (job_id, n, 4));
        let before = OffsetDateTime::now_utc();
        let outcome = s
            .fail(
                &job,
                Failure::Retryable {
                    error: format!("HTTP 503 on attempt {n}"),
                    retry_after: None,
                },
            )
            .await
            .unwrap();
        let after = OffsetDateTime::now_utc();
        let stored = s.job(Some(t), job_id).await.unwrap();
        if n < 4 {
            let FailOutcome::Retrying { run_at, delay } = outcome else {
                panic!("attempt {n} should be retried, got {outcome:?}");
            };
            assert!(delay <= policy.ceiling(n), "{delay:?} > ceiling of {n}");
            let slack = time::Duration::milliseconds(50);
            assert!(run_at >= before + delay - slack && run_at <= after + delay + slack);
            assert_eq!(stored.state, JobState::Ready);
            assert_eq!(stored.lease_owner, None);
            assert_eq!(
                stored.last_error.as_deref(),
                Some(&*format!("HTTP 503 on attempt {n}"))
            );
        } else {
            assert_eq!(outcome, FailOutcome::Dead);
            assert_eq!(stored.state, JobState::Dead);
            assert!(
                stored
                    .last_error
                    .unwrap()
                    .contains("gave up after 4 attempts")
            );
        }
    }
    let dead = s.dead_jobs(None, 10).await.unwrap();
    assert_eq!(dead.iter().map(|j| j.id).collect::<Vec<_>>(), vec![job_id]);
    assert_eq!(s.dead_jobs(Some(t), 10).await.unwrap().len(), 1);

    // The dashboard puts it back with a fresh count.
    s.retry_job(Some(t), job_id).await.unwrap();
    let again = claim_one(&s, "w", Duration::from_secs(30)).await;
    assert_eq!((again.id, again.attempts), (job_id, 1));

    // Retry-After is a floor on the delay.
    let outcome = s
        .fail(
            &again,
            Failure::Retryable {
                error: "429".into(),
                retry_after: Some(Duration::from_secs(3600)),
            },
        )
        .await
        .unwrap();
    let FailOutcome::Retrying { run_at, delay } = outcome else {
        panic!("expected a retry")
    };
    assert_eq!(delay, Duration::from_secs(3600));
    assert!(run_at > OffsetDateTime::now_utc() + time::Duration::minutes(59));
    assert!(
        s.claim("w", 10, Duration::from_secs(1))
            .await
            .unwrap()
            .is_empty()
    );
    let stats = s.queue_stats(Some(t)).await.unwrap();
    assert_eq!((stats.ready, stats.due), (1, 0));

    // Cancel a waiting job; a fatal failure dead-letters at once.
    s.cancel_job(None, job_id).await.unwrap();
    assert_eq!(
        s.job(None, job_id).await.unwrap().state,
        JobState::Cancelled
    );
    assert!(matches!(
        s.cancel_job(None, job_id).await,
        Err(Error::NotFound { .. })
    ));
    let sub = s.submit_message(new_message(t, "D2", None)).await.unwrap();
    let job = claim_one(&s, "w", Duration::from_secs(30)).await;
    assert_eq!(Some(job.id), sub.job);
    assert_eq!(
        s.fail(
            &job,
            Failure::Fatal {
                error: "MP: invalid_client".into()
            }
        )
        .await
        .unwrap(),
        FailOutcome::Dead
    );
    let stored = s.job(None, job.id).await.unwrap();
    assert_eq!(stored.state, JobState::Dead);
    assert_eq!(stored.attempts, 1);
    assert!(stored.last_error.unwrap().contains("invalid_client"));
}

async fn state_history_and_attempts(h: Harness) {
    let s = &h.store;
    let t = s.create_tenant(kid_tenant("111111111")).await.unwrap().id;
    let sub = s.submit_message(new_message(t, "D1", None)).await.unwrap();
    let m = sub.message.id;
    assert_eq!(sub.message.state, MessageState::Queued);

    let no = s.begin_attempt(t, m, sub.job).await.unwrap();
    assert_eq!(no, 1);
    s.transition(
        t,
        m,
        Transition::to(MessageState::Sending).detail("attempt 1"),
    )
    .await
    .unwrap();
    s.finish_attempt(
        t,
        m,
        no,
        AttemptResult {
            outcome: "retryable".into(),
            http_status: Some(503),
            error_class: Some("http_5xx".into()),
            error_text: Some("Service Unavailable".into()),
        },
    )
    .await
    .unwrap();
    let no2 = s.begin_attempt(t, m, sub.job).await.unwrap();
    assert_eq!(no2, 2);
    let submitted = s
        .transition(
            t,
            m,
            Transition::to(MessageState::Submitted)
                .expect_from(MessageState::Sending)
                .request_id("req-42"),
        )
        .await
        .unwrap();
    assert_eq!(submitted.request_id.as_deref(), Some("req-42"));
    // An optimistic check that does not match is refused.
    assert!(matches!(
        s.transition(
            t,
            m,
            Transition::to(MessageState::Accepted).expect_from(MessageState::Sending)
        )
        .await,
        Err(Error::Conflict(_))
    ));
    let accepted = s
        .transition(
            t,
            m,
            Transition::to(MessageState::Accepted)
                .mrn("26NO0000000000001")
                .validation_errors(json!([]))
                .detail("validated"),
        )
        .await
        .unwrap();
    assert_eq!(accepted.mrn.as_deref(), Some("26NO0000000000001"));
    let by_mrn = s.messages_by_mrn(t, "26NO0000000000001").await.unwrap();
    assert_eq!(by_mrn.len(), 1);
    assert_eq!(by_mrn[0].id, m);
    assert!(
        s.messages_by_mrn(t, "26NO0000000000002")
            .await
            .unwrap()
            .is_empty()
    );
    let other = s.create_tenant(kid_tenant("222222222")).await.unwrap().id;
    assert!(
        s.messages_by_mrn(other, "26NO0000000000001")
            .await
            .unwrap()
            .is_empty(),
        "another tenant's MRN is not found"
    );
    assert_eq!(accepted.request_id.as_deref(), Some("req-42"), "kept");
    assert_eq!(accepted.validation_errors, Some(json!([])));
    // Final.
    assert!(matches!(
        s.transition(t, m, Transition::to(MessageState::Failed))
            .await,
        Err(Error::Conflict(_))
    ));

    let history = s.history(t, m).await.unwrap();
    let steps: Vec<_> = history.iter().map(|c| (c.from, c.to)).collect();
    use MessageState::*;
    assert_eq!(
        steps,
        vec![
            (Some(Received), Queued),
            (Some(Queued), Sending),
            (Some(Sending), Submitted),
            (Some(Submitted), Accepted),
        ]
    );
    assert_eq!(history[1].detail.as_deref(), Some("attempt 1"));
    assert!(history.windows(2).all(|w| w[0].at <= w[1].at));

    let attempts = s.attempts(t, m).await.unwrap();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0].http_status, Some(503));
    assert_eq!(attempts[0].error_class.as_deref(), Some("http_5xx"));
    assert!(attempts[0].finished_at.is_some());
    assert_eq!(attempts[0].job_id, sub.job);
    assert!(attempts[1].finished_at.is_none());

    // Filters.
    let listed = s
        .messages(
            t,
            MessageFilter {
                state: Some(Accepted),
                ..MessageFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert!(
        s.messages(
            t,
            MessageFilter {
                state: Some(Rejected),
                ..MessageFilter::default()
            }
        )
        .await
        .unwrap()
        .is_empty()
    );

    // Rejected with errors; dead can be re-queued.
    let m2 = s
        .submit_message(new_message(t, "D2", None))
        .await
        .unwrap()
        .message
        .id;
    let rejected = s
        .transition(
            t,
            m2,
            Transition::to(Rejected).validation_errors(json!([{"path": "/lines/0", "code": "E1"}])),
        )
        .await
        .unwrap();
    assert_eq!(rejected.validation_errors.unwrap()[0]["code"], "E1");
    let m3 = s
        .submit_message(new_message(t, "D3", None))
        .await
        .unwrap()
        .message
        .id;
    s.transition(t, m3, Transition::to(Dead)).await.unwrap();
    s.transition(t, m3, Transition::to(Queued)).await.unwrap();
    assert!(matches!(
        s.transition(t, m3, Transition::to(Received)).await,
        Err(Error::Conflict(_))
    ));
}

async fn routing_signals_move_the_cursor_atomically(h: Harness) {
    let s = &h.store;
    let t = s.create_tenant(kid_tenant("111111111")).await.unwrap().id;
    assert_eq!(s.routing_cursor(t, "entry").await.unwrap(), None);
    let at = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
    let signal = |r: &str, sig: &str| NewRoutingSignal {
        reference: r.into(),
        signal: sig.into(),
        control_location: (sig == "control").then(|| "Svinesund".into()),
        received_at: at,
        raw: json!({"ref": r, "signal": sig}),
    };
    s.record_routing_signals(
        t,
        "entry",
        &[signal("HOUSE-1", "release"), signal("HOUSE-2", "control")],
        None,
        "marker-1",
    )
    .await
    .unwrap();
    assert_eq!(
        s.routing_cursor(t, "entry").await.unwrap().as_deref(),
        Some("marker-1")
    );
    let all = s.routing_signals(t, None, 10).await.unwrap();
    assert_eq!(all.len(), 2);
    let h2 = s.routing_signals(t, Some("HOUSE-2"), 10).await.unwrap();
    assert_eq!(h2.len(), 1);
    assert_eq!(h2[0].control_location.as_deref(), Some("Svinesund"));
    assert_eq!(h2[0].received_at, at);
    assert_eq!(h2[0].raw["signal"], "control");

    // If storing a signal fails, the cursor does not move either.
    h.break_inserts("routing_signals").await;
    assert!(
        s.record_routing_signals(
            t,
            "entry",
            &[signal("HOUSE-3", "release")],
            Some("marker-1"),
            "marker-2"
        )
        .await
        .is_err()
    );
    h.repair_inserts("routing_signals").await;
    assert_eq!(s.routing_signals(t, None, 10).await.unwrap().len(), 2);
    assert_eq!(
        s.routing_cursor(t, "entry").await.unwrap().as_deref(),
        Some("marker-1")
    );
    // A page read after a marker that has moved on (another instance stored
    // it) is refused whole: compare-and-set of the cursor.
    for stale in [None, Some("marker-0")] {
        let err = s
            .record_routing_signals(
                t,
                "entry",
                &[signal("HOUSE-9", "release")],
                stale,
                "marker-x",
            )
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::Conflict(m) if m.contains("moved")),
            "{err}"
        );
    }
    assert_eq!(s.routing_signals(t, None, 10).await.unwrap().len(), 2);
    // Two instances storing the page after the same marker at once: one wins.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..4 {
        let s = s.clone();
        let sig = signal(&format!("RACE-{i}"), "release");
        tasks.spawn(async move {
            s.record_routing_signals(t, "entry", &[sig], Some("marker-1"), "marker-2")
                .await
        });
    }
    let mut won = 0;
    while let Some(r) = tasks.join_next().await {
        match r.unwrap() {
            Ok(()) => won += 1,
            Err(Error::Conflict(_)) => {}
            Err(e) => panic!("unexpected error {e}"),
        }
    }
    assert_eq!(won, 1);
    assert_eq!(s.routing_signals(t, None, 10).await.unwrap().len(), 3);
    // An empty page still moves the cursor; feeds are independent.
    s.record_routing_signals(t, "entry", &[], Some("marker-2"), "marker-3")
        .await
        .unwrap();
    assert_eq!(
        s.routing_cursor(t, "entry").await.unwrap().as_deref(),
        Some("marker-3")
    );
    assert_eq!(s.routing_cursor(t, "exit").await.unwrap(), None);
}

async fn queue_stats_count_states_and_lag(h: Harness) {
    let s = &h.store;
    let t = s.create_tenant(kid_tenant("111111111")).await.unwrap().id;
    let u = s.create_tenant(kid_tenant("222222222")).await.unwrap().id;
    assert_eq!(s.queue_stats(None).await.unwrap(), QueueStats::default());
    for i in 0..3 {
        s.submit_message(new_message(t, &format!("D{i}"), None))
            .await
            .unwrap();
    }
    s.submit_message(new_message(u, "U1", None)).await.unwrap();
    s.enqueue(NewJob {
        tenant_id: t,
        message_id: None,
        kind: JobKind::PollStatus,
        payload: None,
        delay: Some(Duration::from_secs(600)),
        max_attempts: None,
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(30)).await;
    let stats = s.queue_stats(Some(t)).await.unwrap();
    assert_eq!((stats.ready, stats.due, stats.leased), (4, 3, 0));
    let lag = stats.oldest_due_age.expect("a due job has a lag");
    assert!(
        lag >= Duration::from_millis(20) && lag < Duration::from_secs(30),
        "{lag:?}"
    );

    let jobs = s.claim("w", 2, Duration::from_secs(60)).await.unwrap();
    assert_eq!(jobs.len(), 2);
    s.complete(&jobs[0]).await.unwrap();
    s.fail(
        &jobs[1],
        Failure::Fatal {
            error: "bad".into(),
        },
    )
    .await
    .unwrap();
    let all = s.queue_stats(None).await.unwrap();
    // 3 + 1 submit jobs and 1 delayed poll job; 2 claimed and finished.
    assert_eq!(all.ready + all.leased + all.done + all.dead, 5);
    assert_eq!((all.done, all.dead, all.leased), (1, 1, 0));
    assert_eq!((all.ready, all.due), (3, 2));
    let per_tenant =
        s.queue_stats(Some(u)).await.unwrap().ready + s.queue_stats(Some(t)).await.unwrap().ready;
    assert_eq!(per_tenant, 3);

    // Purging removes done jobs only.
    assert_eq!(
        s.purge_done_jobs(Duration::from_secs(3600)).await.unwrap(),
        0
    );
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(
        s.purge_done_jobs(Duration::from_millis(1)).await.unwrap(),
        1
    );
    assert_eq!(s.queue_stats(None).await.unwrap().done, 0);
}

async fn enqueue_wakes_waiting_workers(h: Harness) {
    let s = &h.store;
    let t = s.create_tenant(kid_tenant("111111111")).await.unwrap().id;
    // Nothing enqueued: the wait times out.
    let started = std::time::Instant::now();
    assert_eq!(
        s.wait_for_work(Duration::from_millis(100)).await,
        Wake::Timeout
    );
    assert!(started.elapsed() >= Duration::from_millis(90));

    // On PostgreSQL the enqueue comes from another instance (its own
    // connection), so only LISTEN/NOTIFY can deliver the wake-up.
    let producer = if h.is_pg() {
        h.reopen(StoreOptions::new(master())).await
    } else {
        s.clone()
    };
    for round in 0..3 {
        let waiter = {
            let s = s.clone();
            tokio::spawn(async move {
                let t0 = std::time::Instant::now();
                (s.wait_for_work(Duration::from_secs(20)).await, t0.elapsed())
            })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        producer
            .submit_message(new_message(t, &format!("W{round}"), None))
            .await
            .unwrap();
        let (wake, waited) = waiter.await.unwrap();
        assert_eq!(wake, Wake::Notified, "round {round}");
        assert!(waited < Duration::from_secs(5), "woke after {waited:?}");
        // Drain any stored permit so the next round waits again.
        while s.wait_for_work(Duration::from_millis(200)).await == Wake::Notified {}
    }
    assert_eq!(
        s.claim("w", 10, Duration::from_secs(5))
            .await
            .unwrap()
            .len(),
        3
    );
}

async fn webhooks_store_sealed_secrets_and_deliveries(h: Harness) {
    let s = &h.store;
    let t = s.create_tenant(kid_tenant("111111111")).await.unwrap().id;
    assert!(matches!(
        s.create_webhook(t, "ftp://x", &[]).await,
        Err(Error::Invalid { field: "url", .. })
    ));
    let events = vec!["message.accepted".to_owned(), "message.rejected".to_owned()];
    let (hook, secret) = s
        .create_webhook(t, "https://hooks.example.invalid/digitoll", &events)
        .await
        .unwrap();
    assert_eq!(hook.events, events);
    assert!(secret.expose_secret().starts_with("whsec_"));
    let sealed = h
        .bytes(
            "select sealed_secret from webhook_subscriptions where id = $1",
            hook.id.0,
        )
        .await;
    assert!(!contains(&sealed, secret.expose_secret().as_bytes()));
    assert_eq!(
        s.webhook_secret(t, hook.id).await.unwrap().expose_secret(),
        secret.expose_secret()
    );
    let wrong = h
        .reopen(StoreOptions::new(MasterKey::from_bytes([9u8; 32])))
        .await;
    assert!(matches!(
        wrong.webhook_secret(t, hook.id).await,
        Err(Error::Crypto(_))
    ));

    let m = s.submit_message(new_message(t, "D1", None)).await.unwrap();
    let (delivery, job) = s
        .create_webhook_delivery(
            t,
            hook.id,
            Some(m.message.id),
            "message.accepted",
            &json!({"mrn": "X"}),
        )
        .await
        .unwrap();
    assert_eq!(delivery.status, DeliveryStatus::Pending);
    let job = s.job(Some(t), job).await.unwrap();
    assert_eq!(job.kind, JobKind::WebhookDelivery);
    assert_eq!(job.payload, Some(json!({"delivery_id": delivery.id})));
    let failed = s
        .record_webhook_delivery(
            t,
            delivery.id,
            DeliveryStatus::Pending,
            Some(500),
            Some("oops"),
        )
        .await
        .unwrap();
    assert_eq!((failed.attempts, failed.last_status_code), (1, Some(500)));
    let ok = s
        .record_webhook_delivery(t, delivery.id, DeliveryStatus::Delivered, Some(204), None)
        .await
        .unwrap();
    assert_eq!((ok.status, ok.attempts), (DeliveryStatus::Delivered, 2));
    assert_eq!(
        s.webhook_deliveries(t, hook.id, 10).await.unwrap(),
        vec![ok]
    );
    s.delete_webhook(t, hook.id).await.unwrap();
    assert!(s.webhooks(t).await.unwrap().is_empty());
    assert_eq!(h.count("webhook_deliveries").await, 0);
}

async fn audit_log_is_append_only_and_newest_first(h: Harness) {
    let s = &h.store;
    let t = s.create_tenant(kid_tenant("111111111")).await.unwrap().id;
    for (tenant, action) in [
        (None, "tenant.create"),
        (Some(t), "api_key.create"),
        (Some(t), "message.submit"),
    ] {
        s.audit(NewAuditEntry {
            tenant_id: tenant,
            actor: "dtk_abcdefgh".into(),
            action: action.into(),
            detail: json!({"action": action}),
        })
        .await
        .unwrap();
    }
    let mine = s.audit_log(Some(t), 10).await.unwrap();
    assert_eq!(
        mine.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        vec!["message.submit", "api_key.create"]
    );
    assert_eq!(mine[0].detail["action"], "message.submit");
    assert_eq!(s.audit_log(None, 10).await.unwrap().len(), 3);
    assert_eq!(s.audit_log(None, 1).await.unwrap().len(), 1);
}

async fn debug_output_has_no_secrets(h: Harness) {
    let key = MasterKey::from_bytes([0x41; 32]);
    assert_eq!(format!("{key:?}"), "MasterKey([redacted])");
    let store_debug = format!("{:?}", h.store);
    assert!(store_debug.contains("Store"), "{store_debug}");
    let t = kid_tenant("111111111");
    let debug = format!("{t:?}");
    assert!(!debug.contains("TESTKEYMATERIAL"), "{debug}");
    let c = cert_tenant("111111111");
    assert!(!format!("{c:?}").contains(P12_PASSWORD));
}

async fn validation_mode_profile_and_local_findings(h: Harness) {
    let s = &h.store;
    let t = s.create_tenant(kid_tenant("333333333")).await.unwrap();
    assert_eq!(t.validation_mode, ValidationMode::Strict, "the default");
    assert_eq!(t.contract_profile, None);
    let profile = "name = \"tenant\"\n[rules]\n";
    let u = s
        .update_tenant(
            t.id,
            TenantUpdate {
                validation_mode: Some(ValidationMode::Advisory),
                contract_profile: Some(Some(profile.to_owned())),
                ..TenantUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(u.validation_mode, ValidationMode::Advisory);
    assert_eq!(u.contract_profile.as_deref(), Some(profile));
    // Another field's update leaves both as they are.
    let u = s
        .update_tenant(
            t.id,
            TenantUpdate {
                name: Some("Renamed AS".into()),
                ..TenantUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(u.validation_mode, ValidationMode::Advisory);
    assert_eq!(u.contract_profile.as_deref(), Some(profile));
    assert_eq!(s.tenant(t.id).await.unwrap(), u, "read back as written");
    let u = s
        .update_tenant(
            t.id,
            TenantUpdate {
                validation_mode: Some(ValidationMode::Off),
                contract_profile: Some(None),
                ..TenantUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (u.validation_mode, u.contract_profile),
        (ValidationMode::Off, None)
    );
    // The column refuses a mode the store does not know.
    // (the only tenant of this database)
    let bad = "update tenants set validation_mode = 'lenient'".to_owned();
    let refused = match &h.raw {
        Raw::Sqlite(p) => sqlx::raw_sql(sqlx::AssertSqlSafe(bad))
            .execute(p)
            .await
            .is_err(),
        Raw::Postgres(p) => sqlx::raw_sql(sqlx::AssertSqlSafe(bad))
            .execute(p)
            .await
            .is_err(),
    };
    assert!(refused, "check constraint on validation_mode");
    assert_eq!(
        s.tenant(t.id).await.unwrap().validation_mode,
        ValidationMode::Off
    );

    // Local findings are kept with the message, also when several
    // submissions are stored together (PostgreSQL's batched insert).
    let findings = json!([{"rule": "r", "path": "a.b", "message": "m", "severity": "error", "channel": "sync"}]);
    let subs = futures::future::join_all((0..8).map(|i| {
        let mut m = new_message(t.id, &format!("LF{i}"), None);
        if i % 2 == 0 {
            m.local_findings = Some(findings.clone());
            m.validation_mode = ValidationMode::Advisory;
        }
        s.submit_message(m)
    }))
    .await;
    for (i, sub) in subs.into_iter().enumerate() {
        let sub = sub.unwrap();
        let want = (i % 2 == 0).then(|| findings.clone());
        assert_eq!(sub.message.local_findings, want, "answer of submission {i}");
        let read = s.message(t.id, sub.message.id).await.unwrap();
        assert_eq!(
            read.local_findings, want,
            "stored findings of submission {i}"
        );
    }
}

/// A stored value the store's types do not know (a job kind written by
/// something else) is a typed decode error naming the column, never a panic.
async fn unknown_stored_values_are_decode_errors(h: Harness) {
    let s = &h.store;
    let t = s.create_tenant(kid_tenant("310000000")).await.unwrap().id;
    let id = s
        .enqueue(NewJob {
            tenant_id: t,
            message_id: None,
            kind: JobKind::Reconcile,
            payload: None,
            delay: None,
            max_attempts: None,
        })
        .await
        .unwrap();
    assert_eq!(s.job(None, id).await.unwrap().kind, JobKind::Reconcile);
    h.exec(&format!(
        "update jobs set kind = 'noop' where id = {}",
        id.0
    ))
    .await;
    match s.job(None, id).await {
        Err(Error::Database { message, .. }) => {
            assert!(
                message.contains("column kind") && message.contains("noop"),
                "{message}"
            );
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
}

macro_rules! on_both_backends {
    ($($case:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(super::Harness::sqlite().await).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(super::Harness::postgres().await).await;
                }
            )+
        }
    };
}

on_both_backends!(
    migrations_run_once_and_again,
    tenant_crud_and_sealed_secrets,
    api_keys_are_hashed,
    tenants_are_isolated,
    message_and_job_commit_together,
    mixed_concurrent_writes_fail_alone,
    due_polls_are_claimed_before_older_submissions,
    idempotency_replay_and_conflict,
    concurrent_claimers_never_share_a_job,
    expired_leases_are_reclaimed_and_fenced,
    retries_back_off_then_dead_letter,
    state_history_and_attempts,
    routing_signals_move_the_cursor_atomically,
    queue_stats_count_states_and_lag,
    enqueue_wakes_waiting_workers,
    webhooks_store_sealed_secrets_and_deliveries,
    audit_log_is_append_only_and_newest_first,
    debug_output_has_no_secrets,
    validation_mode_profile_and_local_findings,
    unknown_stored_values_are_decode_errors,
);

#[test]
fn sqlite_file_paths_and_memory_urls() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plain.db");
        let store = Store::connect(path.to_str().unwrap(), StoreOptions::new(master()))
            .await
            .expect("a plain path opens (and creates) a SQLite file");
        assert_eq!(store.backend_kind(), BackendKind::Sqlite);
        assert!(path.exists());
        assert!(matches!(
            Store::connect("sqlite::memory:", StoreOptions::new(master())).await,
            Err(Error::Invalid { field: "url", .. })
        ));
    });
}

/// SQLite: committed writes reach the database file by a background
/// checkpoint, not inside a later commit (the WAL bound for a committing
/// writer is far above what this test writes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_wal_is_checkpointed_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wal.db");
    let store = Store::connect(path.to_str().unwrap(), StoreOptions::new(master()))
        .await
        .unwrap();
    let t = store
        .create_tenant(kid_tenant("111111111"))
        .await
        .unwrap()
        .id;
    // Let a checkpoint settle the migrations, then measure.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let before = std::fs::metadata(&path).unwrap().len();
    for i in 0..300 {
        store
            .submit_message(new_message(t, &format!("W{i}"), None))
            .await
            .unwrap();
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let after = std::fs::metadata(&path).unwrap().len();
        if after > before + 64 * 1024 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the database file did not grow: {before} → {after} bytes"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
