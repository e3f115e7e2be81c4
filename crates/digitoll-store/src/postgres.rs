//! PostgreSQL backend: one pool, `for update skip locked` claims, `LISTEN/NOTIFY`.
//!
//! Every time that decides who owns a job (`run_at`, `lease_expires_at`) is
//! the server's `now()`, so several gateway instances with slightly different
//! clocks still agree on when a lease has expired.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgListener, PgPool, PgPoolOptions, PgRow};
use sqlx::types::Json;
use sqlx::{Postgres, Row};
use time::OffsetDateTime;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::row::{
    API_KEY_COLS, DELIVERY_COLS, JOB_COLS, MESSAGE_COLS, TENANT_COLS, WEBHOOK_COLS, api_key,
    delivery, job, message, tenant, webhook,
};
use crate::types::*;
use crate::{JobPlan, KeyColumns, SealedKeyRow, StoreOptions, TenantRow, message_hash_matches};

const B: &str = "postgres";

/// The channel enqueues notify and workers listen on.
pub(crate) const CHANNEL: &str = "digitoll_jobs";

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

pub(crate) struct PgBackend {
    pool: PgPool,
    notify: Arc<Notify>,
    /// Tells the notifier task that something was enqueued.
    enqueued: Arc<Notify>,
    listener: JoinHandle<()>,
    notifier: JoinHandle<()>,
    submits: mpsc::Sender<SubmitRequest>,
    batcher: JoinHandle<()>,
}

impl Drop for PgBackend {
    fn drop(&mut self) {
        self.listener.abort();
        self.notifier.abort();
        self.batcher.abort();
    }
}

/// A submission waiting for the batcher.
struct SubmitRequest {
    m: NewMessage,
    id: MessageId,
    hash: Vec<u8>,
    max_attempts: u32,
    reply: oneshot::Sender<Result<Submission>>,
}

/// The most submissions inserted by one statement.
const MAX_BATCH: usize = 256;

/// Batches of one instance being inserted at the same time.
const BATCHES_IN_FLIGHT: usize = 4;

/// Inserts the submissions that arrive while the previous batch is in flight
/// with one statement (one round trip, one commit): `unnest` of one array
/// per column feeds the same data-modifying CTEs as a single submission. If
/// the statement fails (one bad row, e.g. an unknown tenant, fails it all),
/// every submission of the batch is retried on its own, so only the bad one
/// fails. Several instances each run their own batcher; PostgreSQL commits
/// them concurrently.
async fn batcher(
    pool: PgPool,
    notify: Arc<Notify>,
    enqueued: Arc<Notify>,
    mut rx: mpsc::Receiver<SubmitRequest>,
) {
    // Up to this many batches in flight: a submission that arrives while a
    // batch waits for a slow commit (an fsync tail) starts its own batch
    // instead of queueing behind it; PostgreSQL commits them concurrently.
    let in_flight = Arc::new(tokio::sync::Semaphore::new(BATCHES_IN_FLIGHT));
    while let Some(first) = rx.recv().await {
        let Ok(permit) = in_flight.clone().acquire_owned().await else {
            return;
        };
        let mut batch = Vec::with_capacity(MAX_BATCH);
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        let (pool, notify, enqueued) = (pool.clone(), notify.clone(), enqueued.clone());
        tokio::spawn(async move {
            let _permit = permit;
            let results = if batch.len() == 1 {
                vec![insert_one(&pool, &batch[0]).await]
            } else {
                match insert_many(&pool, &batch).await {
                    Ok(results) => results,
                    Err(_) => {
                        futures::future::join_all(batch.iter().map(|r| insert_one(&pool, r))).await
                    }
                }
            };
            if results.iter().any(|r| matches!(r, Ok(s) if !s.replayed)) {
                crate::wake_all(&notify);
                enqueued.notify_one();
            }
            for (req, result) in batch.into_iter().zip(results) {
                let _ = req.reply.send(result);
            }
        });
    }
}

fn queued(req: &SubmitRequest, at: OffsetDateTime, job_id: i64) -> Submission {
    crate::queued_submission(&req.m, req.id, at, JobId(job_id))
}

/// The stored message of a reused idempotency key (a replay), or a conflict.
async fn replay(pool: &PgPool, req: &SubmitRequest) -> Result<Submission> {
    let key = req.m.idempotency_key.as_deref().unwrap_or_default();
    let sql = format!(
        "select {MESSAGE_COLS} from messages where tenant_id = $1 and idempotency_key = $2"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(req.m.tenant_id.0)
        .bind(key)
        .fetch_optional(pool)
        .await
        .map_err(db)?
        .ok_or_else(|| Error::Conflict(format!("idempotency key '{key}' is in use")))?;
    let stored: Vec<u8> = get(&row, "body_sha256")?;
    message_hash_matches(message(&row)?, &stored, &req.hash, key)
}

/// One submission, one statement: the message, its first history row and
/// its job are inserted by data-modifying CTEs (foreign keys are checked at
/// the end of the statement). A reused idempotency key makes the message
/// insert a no-op, so nothing is returned and nothing else is inserted; the
/// unique index also settles a race between two first uses of a key (the
/// loser waits for the winner's commit, then finds its row).
async fn insert_one(pool: &PgPool, req: &SubmitRequest) -> Result<Submission> {
    let m = &req.m;
    let row = sqlx::query(
        "with m as ( \
             insert into messages (id, tenant_id, api, kind, operation, body, body_sha256, document_number, \
                 document_type, carrier_id, idempotency_key, state, local_findings, validation_mode) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'queued', $14, $15) \
             on conflict (tenant_id, idempotency_key) where idempotency_key is not null do nothing \
             returning id, tenant_id, created_at), \
         s as ( \
             insert into message_states (message_id, tenant_id, from_state, to_state, detail) \
             select id, tenant_id, 'received', 'queued', 'stored with its submit job' from m), \
         j as ( \
             insert into jobs (tenant_id, message_id, kind, state, max_attempts, priority) \
             select tenant_id, id, $12, 'ready', $13, 1 from m returning id) \
         select m.created_at, j.id as job_id from m, j",
    )
    .bind(req.id.0)
    .bind(m.tenant_id.0)
    .bind(&m.api)
    .bind(&m.kind)
    .bind(m.operation.as_str())
    .bind(Json(&m.body))
    .bind(&req.hash)
    .bind(&m.document_number)
    .bind(&m.document_type)
    .bind(&m.carrier_id)
    .bind(&m.idempotency_key)
    .bind(JobKind::Submit.as_str())
    .bind(clamp_i32(req.max_attempts))
    .bind(m.local_findings.as_ref().map(Json))
    .bind(m.validation_mode.as_str())
    .fetch_optional(pool)
    .await
    .map_err(db)?;
    match row {
        Some(row) => Ok(queued(req, get(&row, "created_at")?, get(&row, "job_id")?)),
        None => replay(pool, req).await,
    }
}

/// A batch in one statement. The outer error fails the whole batch; the
/// inner results are per submission (replays are looked up afterwards).
async fn insert_many(pool: &PgPool, batch: &[SubmitRequest]) -> Result<Vec<Result<Submission>>> {
    let col = |f: fn(&SubmitRequest) -> Option<String>| batch.iter().map(f).collect::<Vec<_>>();
    let rows = sqlx::query(
        "with input as ( \
             select * from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::jsonb[], \
                 $7::bytea[], $8::text[], $9::text[], $10::text[], $11::text[], $12::int4[], $14::jsonb[], \
                 $15::text[]) \
             as t(id, tenant_id, api, kind, operation, body, body_sha256, document_number, document_type, \
                 carrier_id, idempotency_key, max_attempts, local_findings, validation_mode)), \
         m as ( \
             insert into messages (id, tenant_id, api, kind, operation, body, body_sha256, document_number, \
                 document_type, carrier_id, idempotency_key, state, local_findings, validation_mode) \
             select id, tenant_id, api, kind, operation, body, body_sha256, document_number, document_type, \
                 carrier_id, idempotency_key, 'queued', local_findings, validation_mode from input \
             on conflict (tenant_id, idempotency_key) where idempotency_key is not null do nothing \
             returning id, tenant_id, created_at), \
         s as ( \
             insert into message_states (message_id, tenant_id, from_state, to_state, detail) \
             select id, tenant_id, 'received', 'queued', 'stored with its submit job' from m), \
         j as ( \
             insert into jobs (tenant_id, message_id, kind, state, max_attempts, priority) \
             select m.tenant_id, m.id, $13, 'ready', input.max_attempts, 1 from m join input on input.id = m.id \
             returning id, message_id) \
         select m.id, m.created_at, j.id as job_id from m join j on j.message_id = m.id",
    )
    .bind(batch.iter().map(|r| r.id.0).collect::<Vec<Uuid>>())
    .bind(batch.iter().map(|r| r.m.tenant_id.0).collect::<Vec<Uuid>>())
    .bind(batch.iter().map(|r| r.m.api.clone()).collect::<Vec<String>>())
    .bind(batch.iter().map(|r| r.m.kind.clone()).collect::<Vec<String>>())
    .bind(batch.iter().map(|r| r.m.operation.as_str().to_owned()).collect::<Vec<String>>())
    .bind(batch.iter().map(|r| Json(&r.m.body)).collect::<Vec<_>>())
    .bind(batch.iter().map(|r| r.hash.clone()).collect::<Vec<Vec<u8>>>())
    .bind(col(|r| r.m.document_number.clone()))
    .bind(col(|r| r.m.document_type.clone()))
    .bind(col(|r| r.m.carrier_id.clone()))
    .bind(col(|r| r.m.idempotency_key.clone()))
    .bind(batch.iter().map(|r| clamp_i32(r.max_attempts)).collect::<Vec<i32>>())
    .bind(JobKind::Submit.as_str())
    .bind(
        batch
            .iter()
            .map(|r| r.m.local_findings.as_ref().map(Json))
            .collect::<Vec<_>>(),
    )
    .bind(
        batch
            .iter()
            .map(|r| r.m.validation_mode.as_str().to_owned())
            .collect::<Vec<String>>(),
    )
    .fetch_all(pool)
    .await
    .map_err(db)?;
    let mut stored = std::collections::HashMap::with_capacity(rows.len());
    for row in &rows {
        let id: Uuid = get(row, "id")?;
        let at: OffsetDateTime = get(row, "created_at")?;
        let job: i64 = get(row, "job_id")?;
        stored.insert(id, (at, job));
    }
    let mut results = Vec::with_capacity(batch.len());
    for req in batch {
        results.push(match stored.get(&req.id.0) {
            Some(&(at, job)) => Ok(queued(req, at, job)),
            None => replay(pool, req).await,
        });
    }
    Ok(results)
}

fn db(e: sqlx::Error) -> Error {
    Error::from_sqlx(B, e)
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn get<'r, T>(row: &'r PgRow, col: &str) -> Result<T>
where
    T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
{
    row.try_get(col).map_err(db)
}

fn parse<T: std::str::FromStr<Err = Error>>(row: &PgRow, col: &str) -> Result<T> {
    get::<String>(row, col)?
        .parse()
        .map_err(|e: Error| Error::corrupt(B, format!("column {col}: {e}")))
}

fn clamp_i32(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Forwards notifications on [`CHANNEL`] to the in-process `Notify`. After a
/// lost connection (PgListener reconnects by itself) it wakes everyone too,
/// since notifications sent meanwhile are gone.
async fn listen(mut listener: PgListener, notify: Arc<Notify>) {
    loop {
        match listener.recv().await {
            Ok(_) => crate::wake_all(&notify),
            Err(sqlx::Error::PoolClosed) => return,
            Err(e) => {
                tracing::warn!(error = %e, "postgres listener lost its connection; reconnecting");
                crate::wake_all(&notify);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Sends `NOTIFY` for enqueues, outside their transactions and coalesced:
/// a burst of enqueues while one `NOTIFY` is in flight yields one more, not
/// one each. A `NOTIFY` inside the enqueue's transaction would take
/// PostgreSQL's global notify lock at every commit and serialise them; the
/// cost of sending it afterwards is that a crash between commit and notify
/// leaves the other instances to find the job by polling.
async fn notifier(pool: PgPool, enqueued: Arc<Notify>) {
    loop {
        enqueued.notified().await;
        match sqlx::query("select pg_notify($1, '')")
            .bind(CHANNEL)
            .execute(&pool)
            .await
        {
            Ok(_) => {}
            Err(sqlx::Error::PoolClosed) => return,
            Err(e) => tracing::warn!(error = %e, "could not NOTIFY other instances of new jobs"),
        }
    }
}

impl PgBackend {
    /// Wakes this process's workers at once and the other instances' soon.
    fn signal_enqueue(&self) {
        crate::wake_all(&self.notify);
        self.enqueued.notify_one();
    }

    pub(crate) async fn connect(
        url: &str,
        options: &StoreOptions,
        notify: Arc<Notify>,
    ) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(2))
            .acquire_timeout(options.acquire_timeout)
            .connect(url)
            .await
            .map_err(db)?;
        MIGRATOR.run(&pool).await.map_err(|e| Error::Migration {
            backend: B,
            message: e.to_string(),
        })?;
        let mut listener = PgListener::connect_with(&pool).await.map_err(db)?;
        listener.listen(CHANNEL).await.map_err(db)?;
        let listener = tokio::spawn(listen(listener, notify.clone()));
        let enqueued = Arc::new(Notify::new());
        let notifier = tokio::spawn(notifier(pool.clone(), enqueued.clone()));
        let (submits, rx) = mpsc::channel(4 * MAX_BATCH);
        let batcher = tokio::spawn(batcher(pool.clone(), notify.clone(), enqueued.clone(), rx));
        Ok(Self {
            pool,
            notify,
            enqueued,
            listener,
            notifier,
            submits,
            batcher,
        })
    }

    pub(crate) async fn close(&self) {
        self.batcher.abort();
        self.listener.abort();
        self.notifier.abort();
        self.pool.close().await;
    }

    // ---------------------------------------------------------------- tenants

    pub(crate) async fn insert_tenant(&self, t: &TenantRow) -> Result<Tenant> {
        let sql = format!(
            "insert into tenants (id, org_number, name, environment, issuer_url, client_id, key_kind, kid, \
             sealed_private_key, sealed_p12, sealed_p12_password, public_jwk, scopes) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) returning {TENANT_COLS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(t.id.0)
            .bind(&t.org_number)
            .bind(&t.name)
            .bind(t.environment.as_str())
            .bind(&t.issuer_url)
            .bind(&t.client_id)
            .bind(t.key.key_kind.as_str())
            .bind(&t.key.kid)
            .bind(&t.key.sealed_private_key)
            .bind(&t.key.sealed_p12)
            .bind(&t.key.sealed_p12_password)
            .bind(t.key.public_jwk.as_ref().map(Json))
            .bind(Json(&t.scopes))
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        tenant(&row)
    }

    pub(crate) async fn get_tenant(&self, id: TenantId) -> Result<Tenant> {
        let sql = format!("select {TENANT_COLS} from tenants where id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .ok_or_else(|| Error::not_found(format!("tenant {id}")))?;
        tenant(&row)
    }

    pub(crate) async fn list_tenants(&self) -> Result<Vec<Tenant>> {
        let sql = format!("select {TENANT_COLS} from tenants order by name, id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        rows.iter().map(tenant).collect()
    }

    pub(crate) async fn update_tenant(&self, id: TenantId, u: &TenantUpdate) -> Result<Tenant> {
        let sql = format!(
            "update tenants set name = coalesce($2, name), client_id = coalesce($3, client_id), \
             scopes = coalesce($4, scopes), enabled = coalesce($5, enabled), \
             issuer_url = case when $6 then $7 else issuer_url end, updated_at = now(), \
             validation_mode = coalesce($8, validation_mode), \
             contract_profile = case when $9 then $10 else contract_profile end \
             where id = $1 returning {TENANT_COLS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .bind(&u.name)
            .bind(&u.client_id)
            .bind(u.scopes.as_ref().map(Json))
            .bind(u.enabled)
            .bind(u.issuer_url.is_some())
            .bind(u.issuer_url.clone().flatten())
            .bind(u.validation_mode.map(|m| m.as_str()))
            .bind(u.contract_profile.is_some())
            .bind(u.contract_profile.clone().flatten())
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .ok_or_else(|| Error::not_found(format!("tenant {id}")))?;
        tenant(&row)
    }

    pub(crate) async fn set_tenant_key(&self, id: TenantId, k: &KeyColumns) -> Result<Tenant> {
        let sql = format!(
            "update tenants set key_kind = $2, kid = $3, sealed_private_key = $4, sealed_p12 = $5, \
             sealed_p12_password = $6, public_jwk = $7, updated_at = now() where id = $1 returning {TENANT_COLS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .bind(k.key_kind.as_str())
            .bind(&k.kid)
            .bind(&k.sealed_private_key)
            .bind(&k.sealed_p12)
            .bind(&k.sealed_p12_password)
            .bind(k.public_jwk.as_ref().map(Json))
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .ok_or_else(|| Error::not_found(format!("tenant {id}")))?;
        tenant(&row)
    }

    pub(crate) async fn delete_tenant(&self, id: TenantId) -> Result<()> {
        let done = sqlx::query("delete from tenants where id = $1")
            .bind(id.0)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found(format!("tenant {id}")));
        }
        Ok(())
    }

    pub(crate) async fn tenant_sealed(&self, id: TenantId) -> Result<SealedKeyRow> {
        let row = sqlx::query(
            "select key_kind, kid, sealed_private_key, sealed_p12, sealed_p12_password from tenants where id = $1",
        )
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .ok_or_else(|| Error::not_found(format!("tenant {id}")))?;
        crate::row::sealed_key(&row)
    }

    // --------------------------------------------------------------- api keys

    pub(crate) async fn insert_api_key(
        &self,
        id: ApiKeyId,
        scope: ApiKeyScope,
        prefix: &str,
        hash: &[u8],
        label: &str,
    ) -> Result<ApiKeyInfo> {
        let tenant = match scope {
            ApiKeyScope::Admin => None,
            ApiKeyScope::Tenant(t) => Some(t.0),
        };
        let sql = format!(
            "insert into api_keys (id, tenant_id, prefix, key_hash, label) \
             values ($1, $2, $3, $4, $5) returning {API_KEY_COLS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .bind(tenant)
            .bind(prefix)
            .bind(hash)
            .bind(label)
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        api_key(&row)
    }

    pub(crate) async fn find_api_key(&self, hash: &[u8]) -> Result<Option<(ApiKeyInfo, Vec<u8>)>> {
        let sql = format!("select {API_KEY_COLS} from api_keys where key_hash = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        row.map(|r| Ok((api_key(&r)?, get(&r, "key_hash")?)))
            .transpose()
    }

    pub(crate) async fn list_api_keys(&self, scope: ApiKeyScope) -> Result<Vec<ApiKeyInfo>> {
        let tenant = match scope {
            ApiKeyScope::Admin => None,
            ApiKeyScope::Tenant(t) => Some(t.0),
        };
        let sql = format!(
            "select {API_KEY_COLS} from api_keys where tenant_id is not distinct from $1 order by created_at"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant)
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        rows.iter().map(api_key).collect()
    }

    pub(crate) async fn revoke_api_key(&self, scope: ApiKeyScope, id: ApiKeyId) -> Result<()> {
        let tenant = match scope {
            ApiKeyScope::Admin => None,
            ApiKeyScope::Tenant(t) => Some(t.0),
        };
        let done = sqlx::query(
            "update api_keys set revoked_at = now() \
             where id = $1 and tenant_id is not distinct from $2 and revoked_at is null",
        )
        .bind(id.0)
        .bind(tenant)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found(format!("active api key {id}")));
        }
        Ok(())
    }

    // --------------------------------------------------------------- messages

    pub(crate) async fn submit_message(
        &self,
        m: &NewMessage,
        id: MessageId,
        body_sha256: &[u8],
        plan: &JobPlan,
    ) -> Result<Submission> {
        let (reply, answer) = oneshot::channel();
        let request = SubmitRequest {
            m: m.clone(),
            id,
            hash: body_sha256.to_vec(),
            max_attempts: plan.max_attempts,
            reply,
        };
        let closed = || Error::Database {
            backend: B,
            message: "the store is closed".into(),
        };
        self.submits.send(request).await.map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }

    pub(crate) async fn get_message(&self, tenant: TenantId, id: MessageId) -> Result<Message> {
        let sql = format!("select {MESSAGE_COLS} from messages where tenant_id = $1 and id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .ok_or_else(|| Error::not_found(format!("message {id}")))?;
        message(&row)
    }

    pub(crate) async fn list_messages(
        &self,
        tenant: TenantId,
        f: &MessageFilter,
        limit: u32,
    ) -> Result<Vec<Message>> {
        let sql = format!(
            "select {MESSAGE_COLS} from messages where tenant_id = $1 \
             and ($2::text is null or state = $2) and ($3::text is null or document_number = $3) \
             order by created_at desc, id desc limit $4"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(f.state.map(MessageState::as_str))
            .bind(&f.document_number)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        rows.iter().map(message).collect()
    }

    pub(crate) async fn messages_by_mrn(
        &self,
        tenant: TenantId,
        mrn: &str,
    ) -> Result<Vec<Message>> {
        let sql = format!(
            "select {MESSAGE_COLS} from messages where tenant_id = $1 and mrn = $2 \
             order by created_at desc, id desc limit 1000"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(mrn)
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        rows.iter().map(message).collect()
    }

    pub(crate) async fn transition(
        &self,
        tenant: TenantId,
        id: MessageId,
        t: &Transition,
    ) -> Result<Message> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let current: Option<String> = sqlx::query_scalar(
            "select state from messages where tenant_id = $1 and id = $2 for update",
        )
        .bind(tenant.0)
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        let current: MessageState = current
            .ok_or_else(|| Error::not_found(format!("message {id}")))?
            .parse()?;
        crate::check_transition(id, current, t)?;
        let sql = format!(
            "update messages set state = $3, request_id = coalesce($4, request_id), mrn = coalesce($5, mrn), \
             validation_errors = coalesce($6, validation_errors), updated_at = now() \
             where tenant_id = $1 and id = $2 returning {MESSAGE_COLS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(id.0)
            .bind(t.to.as_str())
            .bind(&t.request_id)
            .bind(&t.mrn)
            .bind(t.validation_errors.as_ref().map(Json))
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query(
            "insert into message_states (message_id, tenant_id, from_state, to_state, detail) \
             values ($1, $2, $3, $4, $5)",
        )
        .bind(id.0)
        .bind(tenant.0)
        .bind(current.as_str())
        .bind(t.to.as_str())
        .bind(&t.detail)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        message(&row)
    }

    pub(crate) async fn history(
        &self,
        tenant: TenantId,
        id: MessageId,
    ) -> Result<Vec<StateChange>> {
        let rows = sqlx::query(
            "select from_state, to_state, detail, at from message_states \
             where tenant_id = $1 and message_id = $2 order by id",
        )
        .bind(tenant.0)
        .bind(id.0)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter().map(crate::row::state_change).collect()
    }

    pub(crate) async fn begin_attempt(
        &self,
        tenant: TenantId,
        message: MessageId,
        job: Option<JobId>,
    ) -> Result<u32> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        // Lock the message row so concurrent attempts get distinct numbers.
        let exists: Option<i32> = sqlx::query_scalar(
            "select 1 from messages where tenant_id = $1 and id = $2 for update",
        )
        .bind(tenant.0)
        .bind(message.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        if exists.is_none() {
            return Err(Error::not_found(format!("message {message}")));
        }
        let no: i32 = sqlx::query_scalar(
            "insert into attempts (message_id, attempt_no, tenant_id, job_id) \
             select $2, coalesce((select max(attempt_no) from attempts where message_id = $2), 0) + 1, $1, $3 \
             returning attempt_no",
        )
        .bind(tenant.0)
        .bind(message.0)
        .bind(job.map(|j| j.0))
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(no as u32)
    }

    pub(crate) async fn finish_attempt(
        &self,
        tenant: TenantId,
        message: MessageId,
        attempt_no: u32,
        r: &AttemptResult,
    ) -> Result<()> {
        let done = sqlx::query(
            "update attempts set finished_at = now(), outcome = $4, http_status = $5, error_class = $6, error_text = $7 \
             where tenant_id = $1 and message_id = $2 and attempt_no = $3",
        )
        .bind(tenant.0)
        .bind(message.0)
        .bind(clamp_i32(attempt_no))
        .bind(&r.outcome)
        .bind(r.http_status.map(i32::from))
        .bind(&r.error_class)
        .bind(&r.error_text)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found(format!(
                "attempt {attempt_no} of message {message}"
            )));
        }
        Ok(())
    }

    pub(crate) async fn attempts(
        &self,
        tenant: TenantId,
        message: MessageId,
    ) -> Result<Vec<Attempt>> {
        let rows = sqlx::query(
            "select attempt_no, job_id, started_at, finished_at, outcome, http_status, error_class, error_text \
             from attempts where tenant_id = $1 and message_id = $2 order by attempt_no",
        )
        .bind(tenant.0)
        .bind(message.0)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter().map(crate::row::attempt).collect()
    }

    // ------------------------------------------------------------------- jobs

    pub(crate) async fn enqueue(&self, j: &NewJob, max_attempts: u32) -> Result<JobId> {
        let id: Option<i64> = sqlx::query_scalar(
            "with j as ( \
                 insert into jobs (tenant_id, message_id, kind, payload, state, run_at, max_attempts, priority) \
                 select $1, $2, $3, $4, 'ready', now() + make_interval(secs => $5), $6, \
                     case when $3 = 'submit' then 1 else 0 end \
                 where $2::uuid is null or exists (select 1 from messages where tenant_id = $1 and id = $2) \
                 returning id) \
             select id from j",
        )
        .bind(j.tenant_id.0)
        .bind(j.message_id.map(|m| m.0))
        .bind(j.kind.as_str())
        .bind(j.payload.as_ref().map(Json))
        .bind(j.delay.map_or(0.0, secs))
        .bind(clamp_i32(max_attempts))
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        let id = id.ok_or_else(|| {
            Error::not_found(format!(
                "message {}",
                j.message_id.map(|m| m.to_string()).unwrap_or_default()
            ))
        })?;
        self.signal_enqueue();
        Ok(JobId(id))
    }

    pub(crate) async fn claim(
        &self,
        worker: &str,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<Job>> {
        // Jobs whose last allowed attempt died with its worker are dead-lettered
        // here, since no worker is left to call `fail` for them.
        sqlx::query(
            "update jobs set state = 'dead', lease_owner = null, lease_expires_at = null, \
             last_error = 'lease expired on the last allowed attempt', updated_at = now() \
             where state = 'leased' and lease_expires_at <= now() and attempts >= max_attempts",
        )
        .execute(&self.pool)
        .await
        .map_err(db)?;
        let sql = format!(
            "update jobs set state = 'leased', lease_owner = $1, \
             lease_expires_at = now() + make_interval(secs => $2), \
             attempts = attempts + 1, updated_at = now() \
             where id in (select id from jobs \
                 where (state = 'ready' and run_at <= now()) \
                    or (state = 'leased' and lease_expires_at <= now() and attempts < max_attempts) \
                 order by priority, run_at, id limit $3 \
                 for update skip locked) \
             returning {JOB_COLS}"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(worker)
            .bind(secs(lease))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        let mut jobs = rows.iter().map(job).collect::<Result<Vec<_>>>()?;
        jobs.sort_by_key(|j| (j.run_at, j.id));
        Ok(jobs)
    }

    pub(crate) async fn complete(&self, j: &Job) -> Result<()> {
        let done = sqlx::query(
            "update jobs set state = 'done', lease_owner = null, lease_expires_at = null, updated_at = now() \
             where id = $1 and tenant_id = $2 and state = 'leased' and lease_owner = $3 and attempts = $4",
        )
        .bind(j.id.0)
        .bind(j.tenant_id.0)
        .bind(&j.lease_owner)
        .bind(clamp_i32(j.attempts))
        .execute(&self.pool)
        .await
        .map_err(db)?;
        if done.rows_affected() == 0 {
            return Err(Error::LeaseLost { job: j.id });
        }
        Ok(())
    }

    pub(crate) async fn reschedule(
        &self,
        j: &Job,
        delay: Duration,
        error: &str,
    ) -> Result<OffsetDateTime> {
        let run_at: Option<OffsetDateTime> = sqlx::query_scalar(
            "update jobs set state = 'ready', run_at = now() + make_interval(secs => $5), \
             lease_owner = null, lease_expires_at = null, last_error = $6, updated_at = now() \
             where id = $1 and tenant_id = $2 and state = 'leased' and lease_owner = $3 and attempts = $4 \
             returning run_at",
        )
        .bind(j.id.0)
        .bind(j.tenant_id.0)
        .bind(&j.lease_owner)
        .bind(clamp_i32(j.attempts))
        .bind(secs(delay))
        .bind(error)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        run_at.ok_or(Error::LeaseLost { job: j.id })
    }

    pub(crate) async fn dead_letter(&self, j: &Job, error: &str) -> Result<()> {
        let done = sqlx::query(
            "update jobs set state = 'dead', lease_owner = null, lease_expires_at = null, \
             last_error = $5, updated_at = now() \
             where id = $1 and tenant_id = $2 and state = 'leased' and lease_owner = $3 and attempts = $4",
        )
        .bind(j.id.0)
        .bind(j.tenant_id.0)
        .bind(&j.lease_owner)
        .bind(clamp_i32(j.attempts))
        .bind(error)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        if done.rows_affected() == 0 {
            return Err(Error::LeaseLost { job: j.id });
        }
        Ok(())
    }

    pub(crate) async fn extend_lease(&self, j: &Job, lease: Duration) -> Result<OffsetDateTime> {
        let until: Option<OffsetDateTime> = sqlx::query_scalar(
            "update jobs set lease_expires_at = now() + make_interval(secs => $5), updated_at = now() \
             where id = $1 and tenant_id = $2 and state = 'leased' and lease_owner = $3 and attempts = $4 \
             returning lease_expires_at",
        )
        .bind(j.id.0)
        .bind(j.tenant_id.0)
        .bind(&j.lease_owner)
        .bind(clamp_i32(j.attempts))
        .bind(secs(lease))
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        until.ok_or(Error::LeaseLost { job: j.id })
    }

    pub(crate) async fn get_job(&self, tenant: Option<TenantId>, id: JobId) -> Result<Job> {
        let sql = format!(
            "select {JOB_COLS} from jobs where id = $1 and ($2::uuid is null or tenant_id = $2)"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .bind(tenant.map(|t| t.0))
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .ok_or_else(|| Error::not_found(format!("job {id}")))?;
        job(&row)
    }

    pub(crate) async fn jobs_in_state(
        &self,
        tenant: Option<TenantId>,
        state: JobState,
        limit: u32,
    ) -> Result<Vec<Job>> {
        let sql = format!(
            "select {JOB_COLS} from jobs where state = $1 and ($2::uuid is null or tenant_id = $2) \
             order by updated_at desc, id desc limit $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(state.as_str())
            .bind(tenant.map(|t| t.0))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        rows.iter().map(job).collect()
    }

    pub(crate) async fn requeue(&self, tenant: Option<TenantId>, id: JobId) -> Result<()> {
        let done = sqlx::query(
            "with j as ( \
                 update jobs set state = 'ready', attempts = 0, run_at = now(), last_error = null, updated_at = now() \
                 where id = $1 and ($2::uuid is null or tenant_id = $2) and state in ('dead', 'cancelled') \
                 returning id) \
             select id from j",
        )
        .bind(id.0)
        .bind(tenant.map(|t| t.0))
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        if done.is_none() {
            return Err(Error::not_found(format!("dead or cancelled job {id}")));
        }
        self.signal_enqueue();
        Ok(())
    }

    pub(crate) async fn cancel(&self, tenant: Option<TenantId>, id: JobId) -> Result<()> {
        let done = sqlx::query(
            "update jobs set state = 'cancelled', updated_at = now() \
             where id = $1 and ($2::uuid is null or tenant_id = $2) and state in ('ready', 'dead')",
        )
        .bind(id.0)
        .bind(tenant.map(|t| t.0))
        .execute(&self.pool)
        .await
        .map_err(db)?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found(format!("ready or dead job {id}")));
        }
        Ok(())
    }

    pub(crate) async fn queue_stats(&self, tenant: Option<TenantId>) -> Result<QueueStats> {
        let rows = sqlx::query(
            "select state, count(*) as n from jobs where ($1::uuid is null or tenant_id = $1) group by state",
        )
        .bind(tenant.map(|t| t.0))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        let mut s = QueueStats::default();
        for r in &rows {
            let n = get::<i64>(r, "n")? as u64;
            match parse::<JobState>(r, "state")? {
                JobState::Ready => s.ready = n,
                JobState::Leased => s.leased = n,
                JobState::Done => s.done = n,
                JobState::Dead => s.dead = n,
                JobState::Cancelled => s.cancelled = n,
            }
        }
        let row = sqlx::query(
            "select count(*) as n, extract(epoch from now() - min(run_at))::float8 as lag from jobs \
             where state = 'ready' and run_at <= now() and ($1::uuid is null or tenant_id = $1)",
        )
        .bind(tenant.map(|t| t.0))
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        s.due = get::<i64>(&row, "n")? as u64;
        s.oldest_due_age =
            get::<Option<f64>>(&row, "lag")?.map(|lag| Duration::from_secs_f64(lag.max(0.0)));
        Ok(s)
    }

    pub(crate) async fn purge_done(&self, older_than: Duration) -> Result<u64> {
        let done = sqlx::query(
            "delete from jobs where state = 'done' and updated_at < now() - make_interval(secs => $1)",
        )
        .bind(secs(older_than))
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(done.rows_affected())
    }

    // ---------------------------------------------------------------- routing

    pub(crate) async fn record_routing(
        &self,
        tenant: TenantId,
        feed: &str,
        signals: &[NewRoutingSignal],
        expected: Option<&str>,
        marker: &str,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        // The cursor first: a concurrent instance moving the same cursor
        // waits for this row lock, then finds the marker changed.
        let moved = match expected {
            Some(expected) => sqlx::query(
                "update routing_cursors set marker = $3, updated_at = now() \
                 where tenant_id = $1 and feed = $2 and marker = $4",
            )
            .bind(tenant.0)
            .bind(feed)
            .bind(marker)
            .bind(expected),
            None => sqlx::query(
                "insert into routing_cursors (tenant_id, feed, marker) values ($1, $2, $3) \
                 on conflict (tenant_id, feed) do nothing",
            )
            .bind(tenant.0)
            .bind(feed)
            .bind(marker),
        }
        .execute(&mut *tx)
        .await
        .map_err(db)?
        .rows_affected();
        if moved != 1 {
            return Err(crate::cursor_moved(feed));
        }
        for s in signals {
            sqlx::query(
                "insert into routing_signals (tenant_id, feed, reference, signal, control_location, received_at, raw) \
                 values ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(tenant.0)
            .bind(feed)
            .bind(&s.reference)
            .bind(&s.signal)
            .bind(&s.control_location)
            .bind(s.received_at)
            .bind(Json(&s.raw))
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }

    pub(crate) async fn routing_cursor(
        &self,
        tenant: TenantId,
        feed: &str,
    ) -> Result<Option<String>> {
        sqlx::query_scalar("select marker from routing_cursors where tenant_id = $1 and feed = $2")
            .bind(tenant.0)
            .bind(feed)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)
    }

    pub(crate) async fn routing_signals(
        &self,
        tenant: TenantId,
        reference: Option<&str>,
        limit: u32,
    ) -> Result<Vec<RoutingSignal>> {
        let rows = sqlx::query(
            "select id, feed, reference, signal, control_location, received_at, raw from routing_signals \
             where tenant_id = $1 and ($2::text is null or reference = $2) order by id desc limit $3",
        )
        .bind(tenant.0)
        .bind(reference)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter().map(crate::row::routing_signal).collect()
    }

    // --------------------------------------------------------------- webhooks

    pub(crate) async fn insert_webhook(
        &self,
        id: WebhookId,
        tenant: TenantId,
        url: &str,
        sealed_secret: &[u8],
        events: &[String],
    ) -> Result<Webhook> {
        let sql = format!(
            "insert into webhook_subscriptions (id, tenant_id, url, sealed_secret, events) \
             values ($1, $2, $3, $4, $5) returning {WEBHOOK_COLS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .bind(tenant.0)
            .bind(url)
            .bind(sealed_secret)
            .bind(Json(events))
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        webhook(&row)
    }

    pub(crate) async fn list_webhooks(&self, tenant: TenantId) -> Result<Vec<Webhook>> {
        let sql = format!(
            "select {WEBHOOK_COLS} from webhook_subscriptions where tenant_id = $1 order by created_at, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        rows.iter().map(webhook).collect()
    }

    pub(crate) async fn webhook_sealed_secret(
        &self,
        tenant: TenantId,
        id: WebhookId,
    ) -> Result<Vec<u8>> {
        sqlx::query_scalar(
            "select sealed_secret from webhook_subscriptions where tenant_id = $1 and id = $2",
        )
        .bind(tenant.0)
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .ok_or_else(|| Error::not_found(format!("webhook {id}")))
    }

    pub(crate) async fn delete_webhook(&self, tenant: TenantId, id: WebhookId) -> Result<()> {
        let done =
            sqlx::query("delete from webhook_subscriptions where tenant_id = $1 and id = $2")
                .bind(tenant.0)
                .bind(id.0)
                .execute(&self.pool)
                .await
                .map_err(db)?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found(format!("webhook {id}")));
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn create_delivery(
        &self,
        tenant: TenantId,
        id: DeliveryId,
        subscription: WebhookId,
        message: Option<MessageId>,
        event: &str,
        payload: &serde_json::Value,
        plan: &JobPlan,
    ) -> Result<(WebhookDelivery, JobId)> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let sql = format!(
            "insert into webhook_deliveries (id, tenant_id, subscription_id, message_id, event, payload, status) \
             select $1, $2, $3, $4, $5, $6, 'pending' \
             where exists (select 1 from webhook_subscriptions where tenant_id = $2 and id = $3) \
             returning {DELIVERY_COLS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .bind(tenant.0)
            .bind(subscription.0)
            .bind(message.map(|m| m.0))
            .bind(event)
            .bind(Json(payload))
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?
            .ok_or_else(|| Error::not_found(format!("webhook {subscription}")))?;
        let job_id: i64 = sqlx::query_scalar(
            "insert into jobs (tenant_id, message_id, kind, payload, state, max_attempts) \
             values ($1, $2, $3, $4, 'ready', $5) returning id",
        )
        .bind(tenant.0)
        .bind(message.map(|m| m.0))
        .bind(JobKind::WebhookDelivery.as_str())
        .bind(Json(serde_json::json!({ "delivery_id": id })))
        .bind(clamp_i32(plan.max_attempts))
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        self.signal_enqueue();
        Ok((delivery(&row)?, JobId(job_id)))
    }

    pub(crate) async fn record_delivery(
        &self,
        tenant: TenantId,
        id: DeliveryId,
        status: DeliveryStatus,
        http_status: Option<u16>,
        response: Option<&str>,
    ) -> Result<WebhookDelivery> {
        let sql = format!(
            "update webhook_deliveries set status = $3, attempts = attempts + 1, last_status_code = $4, \
             last_response = $5, updated_at = now() where tenant_id = $1 and id = $2 returning {DELIVERY_COLS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(id.0)
            .bind(status.as_str())
            .bind(http_status.map(i32::from))
            .bind(response)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .ok_or_else(|| Error::not_found(format!("webhook delivery {id}")))?;
        delivery(&row)
    }

    pub(crate) async fn deliveries(
        &self,
        tenant: TenantId,
        subscription: WebhookId,
        limit: u32,
    ) -> Result<Vec<WebhookDelivery>> {
        let sql = format!(
            "select {DELIVERY_COLS} from webhook_deliveries where tenant_id = $1 and subscription_id = $2 \
             order by created_at desc, id limit $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(subscription.0)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        rows.iter().map(delivery).collect()
    }

    pub(crate) async fn delivery_by_id(
        &self,
        tenant: TenantId,
        id: DeliveryId,
    ) -> Result<WebhookDelivery> {
        let sql = format!(
            "select {DELIVERY_COLS} from webhook_deliveries where tenant_id = $1 and id = $2"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .ok_or_else(|| Error::not_found(format!("webhook delivery {id}")))?;
        delivery(&row)
    }

    // ------------------------------------------------------------------ audit

    pub(crate) async fn audit(&self, e: &NewAuditEntry) -> Result<()> {
        sqlx::query(
            "insert into audit_log (tenant_id, actor, action, detail) values ($1, $2, $3, $4)",
        )
        .bind(e.tenant_id.map(|t| t.0))
        .bind(&e.actor)
        .bind(&e.action)
        .bind(Json(&e.detail))
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    pub(crate) async fn audit_log(
        &self,
        tenant: Option<TenantId>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "select id, tenant_id, actor, action, detail, at from audit_log \
             where ($1::uuid is null or tenant_id = $1) order by id desc limit $2",
        )
        .bind(tenant.map(|t| t.0))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter().map(crate::row::audit_entry).collect()
    }
}
