//! SQLite backend: one writer connection, a small pool of readers, WAL.
//!
//! SQLite lets one connection write at a time. Instead of letting several
//! pooled connections race for the write lock (SQLite's busy handler then
//! sleeps in steps of up to 100 ms), every write goes through a pool of
//! exactly one connection, so writers queue in-process in FIFO order and the
//! lock is never contended by this process. Reads use their own pool and
//! never block or wait for the writer (WAL). Other processes on the same file
//! still work, through `busy_timeout`, and every multi-statement write starts
//! with `begin immediate` so it takes the write lock before reading.
//!
//! Times are stored as integer unix milliseconds taken from this process's
//! clock (the only clock that touches the file).

use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::types::Json;
use sqlx::{ConnectOptions as _, Row, Sqlite};
use time::OffsetDateTime;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::error::{Error, Result};
use crate::row::{
    API_KEY_COLS, DELIVERY_COLS, JOB_COLS, MESSAGE_COLS, TENANT_COLS, WEBHOOK_COLS, api_key,
    delivery, job, message, tenant, webhook,
};
use crate::types::*;
use crate::{
    Durability, JobPlan, KeyColumns, SealedKeyRow, StoreOptions, TenantRow, message_hash_matches,
};

const B: &str = "sqlite";

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

pub(crate) struct SqliteBackend {
    writer: SqlitePool,
    reader: SqlitePool,
    notify: Arc<Notify>,
    writes: mpsc::Sender<WriteOp>,
    batcher: JoinHandle<()>,
    checkpoints: JoinHandle<()>,
}

impl Drop for SqliteBackend {
    fn drop(&mut self) {
        self.batcher.abort();
        self.checkpoints.abort();
    }
}

fn db(e: sqlx::Error) -> Error {
    Error::from_sqlx(B, e)
}

fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

fn ts(ms: i64) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .map_err(|e| Error::corrupt(B, format!("timestamp {ms}: {e}")))
}

fn dur_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2)
}

fn get<'r, T>(row: &'r SqliteRow, col: &str) -> Result<T>
where
    T: sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite>,
{
    row.try_get(col).map_err(db)
}

fn parse<T: FromStr<Err = Error>>(row: &SqliteRow, col: &str) -> Result<T> {
    get::<String>(row, col)?
        .parse()
        .map_err(|e: Error| Error::corrupt(B, format!("column {col}: {e}")))
}

/// Stores a submission: the message, its first history row and its submit
/// job; an already used idempotency key answers the stored message (or a
/// conflict when the body differs).
async fn insert_submission(
    tx: &mut SqliteConnection,
    m: NewMessage,
    id: MessageId,
    hash: Vec<u8>,
    max_attempts: u32,
) -> Result<Submission> {
    let now = now_ms();
    let at = ts(now)?;
    {
        let m = &m;
        let inserted = sqlx::query(
            "insert into messages (id, tenant_id, api, kind, operation, body, body_sha256, document_number, \
             document_type, carrier_id, idempotency_key, state, created_at, updated_at, local_findings, validation_mode) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'queued', $12, $12, $13, $14) \
             on conflict (tenant_id, idempotency_key) where idempotency_key is not null do nothing",
        )
        .bind(id.0)
        .bind(m.tenant_id.0)
        .bind(&m.api)
        .bind(&m.kind)
        .bind(m.operation.as_str())
        .bind(Json(&m.body))
        .bind(&hash)
        .bind(&m.document_number)
        .bind(&m.document_type)
        .bind(&m.carrier_id)
        .bind(&m.idempotency_key)
        .bind(now)
        .bind(m.local_findings.as_ref().map(Json))
        .bind(m.validation_mode.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db)?
        .rows_affected();
        if inserted == 0 {
            let key = m.idempotency_key.as_deref().unwrap_or_default();
            let sql = format!(
                "select {MESSAGE_COLS} from messages where tenant_id = $1 and idempotency_key = $2"
            );
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(m.tenant_id.0)
                .bind(key)
                .fetch_one(&mut *tx)
                .await
                .map_err(db)?;
            let stored: Vec<u8> = get(&row, "body_sha256")?;
            return message_hash_matches(message(&row)?, &stored, &hash, key);
        }
        sqlx::query(
            "insert into message_states (message_id, tenant_id, from_state, to_state, detail, at) \
             values ($1, $2, 'received', 'queued', 'stored with its submit job', $3)",
        )
        .bind(id.0)
        .bind(m.tenant_id.0)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        let job_id: i64 = sqlx::query_scalar(
            "insert into jobs (tenant_id, message_id, kind, payload, state, run_at, attempts, max_attempts, created_at, updated_at, priority) \
             values ($1, $2, $3, null, 'ready', $4, 0, $5, $4, $4, 1) returning id",
        )
        .bind(m.tenant_id.0)
        .bind(id.0)
        .bind(JobKind::Submit.as_str())
        .bind(now)
        .bind(i64::from(max_attempts))
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        Ok(crate::queued_submission(m, id, at, JobId(job_id)))
    }
}

/// A future borrowing the writer connection.
type BoxFut<'c, T> = Pin<Box<dyn Future<Output = T> + Send + 'c>>;

/// Answers a write's caller once its batch's outcome is known: `None` when
/// the batch committed, the commit's error otherwise.
type Reply = Box<dyn FnOnce(Option<&Error>) + Send>;

/// One write: run on the batch's connection (or told why the batch could not
/// start); returns its reply and whether it left the transaction unusable.
type WriteOp = Box<
    dyn for<'c> FnOnce(
            std::result::Result<&'c mut SqliteConnection, &'c Error>,
        ) -> BoxFut<'c, (Reply, bool)>
        + Send,
>;

/// The most writes committed in one transaction.
const MAX_BATCH: usize = 256;

/// Group commit for every hot write (submissions, job claims and
/// completions, state changes, attempts, webhook deliveries, routing
/// signals): the writes queued while the previous batch was committing run
/// in one `begin immediate` transaction, each inside its own savepoint, and
/// share one commit (one fsync under `synchronous=FULL`). A write that fails
/// is rolled back to its savepoint alone, so one bad write (an unknown
/// tenant, a lost lease) cannot fail the others; every caller is answered
/// only after the commit, so nothing is reported stored before it is
/// durable.
async fn group_writer(writer: SqlitePool, mut rx: mpsc::Receiver<WriteOp>) {
    let mut batch: Vec<WriteOp> = Vec::with_capacity(MAX_BATCH);
    let mut replies: Vec<Reply> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        let outcome = run_batch(&writer, &mut batch, &mut replies).await;
        for reply in replies.drain(..) {
            reply(outcome.as_ref().err());
        }
    }
}

async fn run_batch(
    writer: &SqlitePool,
    batch: &mut Vec<WriteOp>,
    replies: &mut Vec<Reply>,
) -> Result<()> {
    let tx = writer.begin_with("begin immediate").await.map_err(db);
    let mut tx = match tx {
        Ok(tx) => tx,
        Err(e) => {
            for op in batch.drain(..) {
                replies.push(op(Err(&e)).await.0);
            }
            return Err(e);
        }
    };
    let mut poisoned = false;
    for op in batch.drain(..) {
        let (reply, broken) = op(Ok(&mut *tx)).await;
        replies.push(reply);
        poisoned |= broken;
    }
    if poisoned {
        let _ = tx.rollback().await;
        return Err(Error::Database {
            backend: B,
            message: "a write left its transaction unusable; the batch was rolled back".into(),
        });
    }
    tx.commit().await.map_err(db)
}

/// Runs one write inside a savepoint. Returns its result and whether the
/// transaction is left unusable (the savepoint could not be released or
/// rolled back).
async fn in_savepoint<T, F>(conn: &mut SqliteConnection, f: F) -> (Result<T>, bool)
where
    F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFut<'c, Result<T>>,
{
    if let Err(e) = sqlx::query("savepoint w").execute(&mut *conn).await {
        return (Err(db(e)), false);
    }
    match f(&mut *conn).await {
        Ok(v) => match sqlx::query("release w").execute(&mut *conn).await {
            Ok(_) => (Ok(v), false),
            Err(e) => (Err(db(e)), true),
        },
        Err(e) => {
            let undone = sqlx::query("rollback to w")
                .execute(&mut *conn)
                .await
                .is_ok()
                && sqlx::query("release w").execute(&mut *conn).await.is_ok();
            (Err(e), !undone)
        }
    }
}

/// How often the background checkpointer copies the WAL into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// Copies committed WAL frames into the database file from a connection of
/// its own (`wal_checkpoint(PASSIVE)`: it waits for no reader or writer).
/// Left to SQLite, the checkpoint runs inside whichever commit crosses the
/// WAL size bound, and that commit (and every write of its group) waits for
/// it: at 500 submissions/s that was the p99 of the accept latency (10.5 ms
/// against 6.2 ms with the checkpoints moved here).
async fn checkpointer(mut conn: SqliteConnection) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        if let Err(e) = sqlx::query("pragma wal_checkpoint(passive)")
            .execute(&mut conn)
            .await
        {
            tracing::debug!(error = %e, "background WAL checkpoint failed; the next one retries");
        }
    }
}

fn closed() -> Error {
    Error::Database {
        backend: B,
        message: "the store is closed".into(),
    }
}

impl SqliteBackend {
    pub(crate) async fn connect(
        target: &str,
        options: &StoreOptions,
        notify: Arc<Notify>,
    ) -> Result<Self> {
        let base = if target.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(target).map_err(db)?
        } else {
            SqliteConnectOptions::new().filename(target)
        };
        let synchronous = match options.durability {
            Durability::Normal => SqliteSynchronous::Normal,
            Durability::Full => SqliteSynchronous::Full,
        };
        let base = base
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(synchronous)
            .busy_timeout(options.sqlite_busy_timeout)
            .foreign_keys(true)
            .pragma("temp_store", "memory")
            // Checkpoints run in the background (see `checkpointer`); this
            // is only the bound past which a committing writer does one
            // itself (about 80 MB of WAL).
            .pragma("wal_autocheckpoint", "20000");
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(options.acquire_timeout)
            .connect_with(base.clone().create_if_missing(true))
            .await
            .map_err(db)?;
        MIGRATOR.run(&writer).await.map_err(|e| Error::Migration {
            backend: B,
            message: e.to_string(),
        })?;
        let reader = SqlitePoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(options.acquire_timeout)
            .connect_with(base.clone().read_only(true))
            .await
            .map_err(db)?;
        let checkpoint_conn = base.clone().connect().await.map_err(db)?;
        let checkpoints = tokio::spawn(checkpointer(checkpoint_conn));
        let (writes, rx) = mpsc::channel(4 * MAX_BATCH);
        let batcher = tokio::spawn(group_writer(writer.clone(), rx));
        Ok(Self {
            writer,
            reader,
            notify,
            writes,
            batcher,
            checkpoints,
        })
    }

    /// Runs `f` as one write of the next group commit, inside a savepoint
    /// (so a failure undoes all of `f`'s statements and nothing else), and
    /// answers after that commit.
    async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFut<'c, Result<T>> + Send + 'static,
    {
        self.enqueue_write(f, true).await
    }

    /// Like [`Self::write`] without the savepoint, for a write made of one
    /// modifying statement: SQLite undoes a failed statement by itself and
    /// keeps the transaction, so the two extra round trips are not needed.
    async fn write1<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFut<'c, Result<T>> + Send + 'static,
    {
        self.enqueue_write(f, false).await
    }

    async fn enqueue_write<T, F>(&self, f: F, savepoint: bool) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFut<'c, Result<T>> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Result<T>>();
        let op: WriteOp = Box::new(move |conn| {
            Box::pin(async move {
                let (result, broken) = match conn {
                    Ok(conn) if savepoint => in_savepoint(conn, f).await,
                    // A database error other than a constraint (those are
                    // `Conflict`) may have ended the whole transaction
                    // (SQLITE_FULL, IOERR, …): then the batch must not
                    // commit what ran before it as if nothing happened.
                    Ok(conn) => {
                        let result = f(conn).await;
                        let broken = matches!(result, Err(Error::Database { .. }));
                        (result, broken)
                    }
                    Err(e) => (
                        Err(Error::Database {
                            backend: B,
                            message: e.to_string(),
                        }),
                        false,
                    ),
                };
                let reply: Reply = Box::new(move |commit: Option<&Error>| {
                    let _ = tx.send(match commit {
                        None => result,
                        Some(e) => Err(match e {
                            Error::Database { message, .. } => Error::Database {
                                backend: B,
                                message: message.clone(),
                            },
                            other => Error::Database {
                                backend: B,
                                message: other.to_string(),
                            },
                        }),
                    });
                });
                (reply, broken)
            })
        });
        self.writes.send(op).await.map_err(|_| closed())?;
        rx.await.map_err(|_| closed())?
    }

    pub(crate) async fn close(&self) {
        self.batcher.abort();
        self.checkpoints.abort();
        self.reader.close().await;
        self.writer.close().await;
    }

    // ---------------------------------------------------------------- tenants

    pub(crate) async fn insert_tenant(&self, t: &TenantRow) -> Result<Tenant> {
        let now = now_ms();
        let sql = format!(
            "insert into tenants (id, org_number, name, environment, issuer_url, client_id, key_kind, kid, \
             sealed_private_key, sealed_p12, sealed_p12_password, public_jwk, scopes, enabled, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 1, $14, $14) returning {TENANT_COLS}"
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
            .bind(now)
            .fetch_one(&self.writer)
            .await
            .map_err(db)?;
        tenant(&row)
    }

    pub(crate) async fn get_tenant(&self, id: TenantId) -> Result<Tenant> {
        let sql = format!("select {TENANT_COLS} from tenants where id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .fetch_optional(&self.reader)
            .await
            .map_err(db)?
            .ok_or_else(|| Error::not_found(format!("tenant {id}")))?;
        tenant(&row)
    }

    pub(crate) async fn list_tenants(&self) -> Result<Vec<Tenant>> {
        let sql = format!("select {TENANT_COLS} from tenants order by name, id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.reader)
            .await
            .map_err(db)?;
        rows.iter().map(tenant).collect()
    }

    pub(crate) async fn update_tenant(&self, id: TenantId, u: &TenantUpdate) -> Result<Tenant> {
        let sql = format!(
            "update tenants set name = coalesce($2, name), client_id = coalesce($3, client_id), \
             scopes = coalesce($4, scopes), enabled = coalesce($5, enabled), \
             issuer_url = case when $6 then $7 else issuer_url end, updated_at = $8, \
             validation_mode = coalesce($9, validation_mode), \
             contract_profile = case when $10 then $11 else contract_profile end \
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
            .bind(now_ms())
            .bind(u.validation_mode.map(|m| m.as_str()))
            .bind(u.contract_profile.is_some())
            .bind(u.contract_profile.clone().flatten())
            .fetch_optional(&self.writer)
            .await
            .map_err(db)?
            .ok_or_else(|| Error::not_found(format!("tenant {id}")))?;
        tenant(&row)
    }

    pub(crate) async fn set_tenant_key(&self, id: TenantId, k: &KeyColumns) -> Result<Tenant> {
        let sql = format!(
            "update tenants set key_kind = $2, kid = $3, sealed_private_key = $4, sealed_p12 = $5, \
             sealed_p12_password = $6, public_jwk = $7, updated_at = $8 where id = $1 returning {TENANT_COLS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .bind(k.key_kind.as_str())
            .bind(&k.kid)
            .bind(&k.sealed_private_key)
            .bind(&k.sealed_p12)
            .bind(&k.sealed_p12_password)
            .bind(k.public_jwk.as_ref().map(Json))
            .bind(now_ms())
            .fetch_optional(&self.writer)
            .await
            .map_err(db)?
            .ok_or_else(|| Error::not_found(format!("tenant {id}")))?;
        tenant(&row)
    }

    pub(crate) async fn delete_tenant(&self, id: TenantId) -> Result<()> {
        let done = sqlx::query("delete from tenants where id = $1")
            .bind(id.0)
            .execute(&self.writer)
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
        .fetch_optional(&self.reader)
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
            "insert into api_keys (id, tenant_id, prefix, key_hash, label, created_at) \
             values ($1, $2, $3, $4, $5, $6) returning {API_KEY_COLS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .bind(tenant)
            .bind(prefix)
            .bind(hash)
            .bind(label)
            .bind(now_ms())
            .fetch_one(&self.writer)
            .await
            .map_err(db)?;
        api_key(&row)
    }

    pub(crate) async fn find_api_key(&self, hash: &[u8]) -> Result<Option<(ApiKeyInfo, Vec<u8>)>> {
        let sql = format!("select {API_KEY_COLS} from api_keys where key_hash = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(hash)
            .fetch_optional(&self.reader)
            .await
            .map_err(db)?;
        row.map(|r| Ok((api_key(&r)?, get(&r, "key_hash")?)))
            .transpose()
    }

    pub(crate) async fn list_api_keys(&self, scope: ApiKeyScope) -> Result<Vec<ApiKeyInfo>> {
        let rows = match scope {
            ApiKeyScope::Admin => {
                let sql = format!(
                    "select {API_KEY_COLS} from api_keys where tenant_id is null order by created_at"
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .fetch_all(&self.reader)
                    .await
            }
            ApiKeyScope::Tenant(t) => {
                let sql = format!(
                    "select {API_KEY_COLS} from api_keys where tenant_id = $1 order by created_at"
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(t.0)
                    .fetch_all(&self.reader)
                    .await
            }
        }
        .map_err(db)?;
        rows.iter().map(api_key).collect()
    }

    pub(crate) async fn revoke_api_key(&self, scope: ApiKeyScope, id: ApiKeyId) -> Result<()> {
        let tenant = match scope {
            ApiKeyScope::Admin => None,
            ApiKeyScope::Tenant(t) => Some(t.0),
        };
        let done = sqlx::query(
            "update api_keys set revoked_at = $3 where id = $1 and tenant_id is $2 and revoked_at is null",
        )
        .bind(id.0)
        .bind(tenant)
        .bind(now_ms())
        .execute(&self.writer)
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
        let m = m.clone();
        let hash = body_sha256.to_vec();
        let max_attempts = plan.max_attempts;
        let submission = self
            .write(move |c| Box::pin(insert_submission(c, m, id, hash, max_attempts)))
            .await?;
        if !submission.replayed {
            crate::wake_all(&self.notify);
        }
        Ok(submission)
    }

    pub(crate) async fn get_message(&self, tenant: TenantId, id: MessageId) -> Result<Message> {
        let sql = format!("select {MESSAGE_COLS} from messages where tenant_id = $1 and id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(id.0)
            .fetch_optional(&self.reader)
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
             and ($2 is null or state = $2) and ($3 is null or document_number = $3) \
             order by created_at desc, id desc limit $4"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.0)
            .bind(f.state.map(MessageState::as_str))
            .bind(&f.document_number)
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
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
            .fetch_all(&self.reader)
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
        let t = t.clone();
        self
            .write(move |tx| {
                Box::pin(async move {
                let current: Option<String> =
                    sqlx::query_scalar("select state from messages where tenant_id = $1 and id = $2")
                        .bind(tenant.0)
                        .bind(id.0)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(db)?;
                let current: MessageState = current
                    .ok_or_else(|| Error::not_found(format!("message {id}")))?
                    .parse()?;
                crate::check_transition(id, current, &t)?;
                let now = now_ms();
                let sql = format!(
                    "update messages set state = $3, request_id = coalesce($4, request_id), mrn = coalesce($5, mrn), \
                     validation_errors = coalesce($6, validation_errors), updated_at = $7 \
                     where tenant_id = $1 and id = $2 returning {MESSAGE_COLS}"
                );
                let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(tenant.0)
                    .bind(id.0)
                    .bind(t.to.as_str())
                    .bind(&t.request_id)
                    .bind(&t.mrn)
                    .bind(t.validation_errors.as_ref().map(Json))
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db)?;
                sqlx::query(
                    "insert into message_states (message_id, tenant_id, from_state, to_state, detail, at) \
                     values ($1, $2, $3, $4, $5, $6)",
                )
                .bind(id.0)
                .bind(tenant.0)
                .bind(current.as_str())
                .bind(t.to.as_str())
                .bind(&t.detail)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                message(&row)

                })
            })
            .await
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
        .fetch_all(&self.reader)
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
        self
            .write1(move |tx| {
                Box::pin(async move {
                let no: Option<i64> = sqlx::query_scalar(
                    "insert into attempts (message_id, attempt_no, tenant_id, job_id, started_at) \
                     select $2, coalesce((select max(attempt_no) from attempts where message_id = $2), 0) + 1, $1, $3, $4 \
                     where exists (select 1 from messages where tenant_id = $1 and id = $2) \
                     returning attempt_no",
                )
                .bind(tenant.0)
                .bind(message.0)
                .bind(job.map(|j| j.0))
                .bind(now_ms())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
                no.map(|n| n as u32)
                    .ok_or_else(|| Error::not_found(format!("message {message}")))

                })
            })
            .await
    }

    pub(crate) async fn finish_attempt(
        &self,
        tenant: TenantId,
        message: MessageId,
        attempt_no: u32,
        r: &AttemptResult,
    ) -> Result<()> {
        let r = r.clone();
        self
            .write1(move |tx| {
                Box::pin(async move {
                let done = sqlx::query(
                    "update attempts set finished_at = $4, outcome = $5, http_status = $6, error_class = $7, error_text = $8 \
                     where tenant_id = $1 and message_id = $2 and attempt_no = $3",
                )
                .bind(tenant.0)
                .bind(message.0)
                .bind(i64::from(attempt_no))
                .bind(now_ms())
                .bind(&r.outcome)
                .bind(r.http_status.map(i64::from))
                .bind(&r.error_class)
                .bind(&r.error_text)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                if done.rows_affected() == 0 {
                    return Err(Error::not_found(format!(
                        "attempt {attempt_no} of message {message}"
                    )));
                }
                Ok(())

                })
            })
            .await
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
        .fetch_all(&self.reader)
        .await
        .map_err(db)?;
        rows.iter().map(crate::row::attempt).collect()
    }

    // ------------------------------------------------------------------- jobs

    pub(crate) async fn enqueue(&self, j: &NewJob, max_attempts: u32) -> Result<JobId> {
        let j = j.clone();
        let r = self
            .write1(move |tx| {
                Box::pin(async move {
                let now = now_ms();
                let run_at = now + j.delay.map_or(0, dur_ms);
                let id: Option<i64> = sqlx::query_scalar(
                    "insert into jobs (tenant_id, message_id, kind, payload, state, run_at, attempts, max_attempts, created_at, updated_at, priority) \
                     select $1, $2, $3, $4, 'ready', $5, 0, $6, $7, $7, case when $3 = 'submit' then 1 else 0 end \
                     where $2 is null or exists (select 1 from messages where tenant_id = $1 and id = $2) \
                     returning id",
                )
                .bind(j.tenant_id.0)
                .bind(j.message_id.map(|m| m.0))
                .bind(j.kind.as_str())
                .bind(j.payload.as_ref().map(Json))
                .bind(run_at)
                .bind(i64::from(max_attempts))
                .bind(now)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
                let id = id.ok_or_else(|| {
                    Error::not_found(format!(
                        "message {}",
                        j.message_id.map(|m| m.to_string()).unwrap_or_default()
                    ))
                })?;
                Ok(JobId(id))

                })
            })
            .await;
        if r.is_ok() {
            crate::wake_all(&self.notify);
        }
        r
    }

    pub(crate) async fn claim(
        &self,
        worker: &str,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<Job>> {
        let worker = worker.to_owned();
        self
            .write(move |tx| {
                Box::pin(async move {
                let now = now_ms();
                // Jobs whose last allowed attempt died with its worker are dead-lettered
                // here, since no worker is left to call `fail` for them.
                sqlx::query(
                    "update jobs set state = 'dead', lease_owner = null, lease_expires_at = null, \
                     last_error = 'lease expired on the last allowed attempt', updated_at = $1 \
                     where state = 'leased' and lease_expires_at <= $1 and attempts >= max_attempts",
                )
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                let sql = format!(
                    "update jobs set state = 'leased', lease_owner = $1, lease_expires_at = $2, \
                     attempts = attempts + 1, updated_at = $3 \
                     where id in (select id from jobs \
                         where (state = 'ready' and run_at <= $3) \
                            or (state = 'leased' and lease_expires_at <= $3 and attempts < max_attempts) \
                         order by priority, run_at, id limit $4) \
                     returning {JOB_COLS}"
                );
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(&worker)
                    .bind(now + dur_ms(lease))
                    .bind(now)
                    .bind(i64::from(limit))
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(db)?;
                let mut jobs = rows.iter().map(job).collect::<Result<Vec<_>>>()?;
                jobs.sort_by_key(|j| (j.run_at, j.id));
                Ok(jobs)

                })
            })
            .await
    }

    pub(crate) async fn complete(&self, j: &Job) -> Result<()> {
        let j = j.clone();
        self
            .write1(move |tx| {
                Box::pin(async move {
                let done = sqlx::query(
                    "update jobs set state = 'done', lease_owner = null, lease_expires_at = null, updated_at = $5 \
                     where id = $1 and tenant_id = $2 and state = 'leased' and lease_owner = $3 and attempts = $4",
                )
                .bind(j.id.0)
                .bind(j.tenant_id.0)
                .bind(&j.lease_owner)
                .bind(i64::from(j.attempts))
                .bind(now_ms())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                if done.rows_affected() == 0 {
                    return Err(Error::LeaseLost { job: j.id });
                }
                Ok(())

                })
            })
            .await
    }

    pub(crate) async fn reschedule(
        &self,
        j: &Job,
        delay: Duration,
        error: &str,
    ) -> Result<OffsetDateTime> {
        let j = j.clone();
        let error = error.to_owned();
        self
            .write1(move |tx| {
                Box::pin(async move {
                let now = now_ms();
                let run_at = now + dur_ms(delay);
                let done = sqlx::query(
                    "update jobs set state = 'ready', run_at = $5, lease_owner = null, lease_expires_at = null, \
                     last_error = $6, updated_at = $7 \
                     where id = $1 and tenant_id = $2 and state = 'leased' and lease_owner = $3 and attempts = $4",
                )
                .bind(j.id.0)
                .bind(j.tenant_id.0)
                .bind(&j.lease_owner)
                .bind(i64::from(j.attempts))
                .bind(run_at)
                .bind(error)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                if done.rows_affected() == 0 {
                    return Err(Error::LeaseLost { job: j.id });
                }
                ts(run_at)

                })
            })
            .await
    }

    pub(crate) async fn dead_letter(&self, j: &Job, error: &str) -> Result<()> {
        let j = j.clone();
        let error = error.to_owned();
        self
            .write1(move |tx| {
                Box::pin(async move {
                let done = sqlx::query(
                    "update jobs set state = 'dead', lease_owner = null, lease_expires_at = null, \
                     last_error = $5, updated_at = $6 \
                     where id = $1 and tenant_id = $2 and state = 'leased' and lease_owner = $3 and attempts = $4",
                )
                .bind(j.id.0)
                .bind(j.tenant_id.0)
                .bind(&j.lease_owner)
                .bind(i64::from(j.attempts))
                .bind(error)
                .bind(now_ms())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                if done.rows_affected() == 0 {
                    return Err(Error::LeaseLost { job: j.id });
                }
                Ok(())

                })
            })
            .await
    }

    pub(crate) async fn extend_lease(&self, j: &Job, lease: Duration) -> Result<OffsetDateTime> {
        let j = j.clone();
        self
            .write1(move |tx| {
                Box::pin(async move {
                let until = now_ms() + dur_ms(lease);
                let done = sqlx::query(
                    "update jobs set lease_expires_at = $5, updated_at = $6 \
                     where id = $1 and tenant_id = $2 and state = 'leased' and lease_owner = $3 and attempts = $4",
                )
                .bind(j.id.0)
                .bind(j.tenant_id.0)
                .bind(&j.lease_owner)
                .bind(i64::from(j.attempts))
                .bind(until)
                .bind(now_ms())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                if done.rows_affected() == 0 {
                    return Err(Error::LeaseLost { job: j.id });
                }
                ts(until)

                })
            })
            .await
    }

    pub(crate) async fn get_job(&self, tenant: Option<TenantId>, id: JobId) -> Result<Job> {
        let sql =
            format!("select {JOB_COLS} from jobs where id = $1 and ($2 is null or tenant_id = $2)");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .bind(tenant.map(|t| t.0))
            .fetch_optional(&self.reader)
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
            "select {JOB_COLS} from jobs where state = $1 and ($2 is null or tenant_id = $2) \
             order by updated_at desc, id desc limit $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(state.as_str())
            .bind(tenant.map(|t| t.0))
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await
            .map_err(db)?;
        rows.iter().map(job).collect()
    }

    pub(crate) async fn requeue(&self, tenant: Option<TenantId>, id: JobId) -> Result<()> {
        let now = now_ms();
        let done = sqlx::query(
            "update jobs set state = 'ready', attempts = 0, run_at = $3, last_error = null, updated_at = $3 \
             where id = $1 and ($2 is null or tenant_id = $2) and state in ('dead', 'cancelled')",
        )
        .bind(id.0)
        .bind(tenant.map(|t| t.0))
        .bind(now)
        .execute(&self.writer)
        .await
        .map_err(db)?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found(format!("dead or cancelled job {id}")));
        }
        crate::wake_all(&self.notify);
        Ok(())
    }

    pub(crate) async fn cancel(&self, tenant: Option<TenantId>, id: JobId) -> Result<()> {
        let done = sqlx::query(
            "update jobs set state = 'cancelled', updated_at = $3 \
             where id = $1 and ($2 is null or tenant_id = $2) and state in ('ready', 'dead')",
        )
        .bind(id.0)
        .bind(tenant.map(|t| t.0))
        .bind(now_ms())
        .execute(&self.writer)
        .await
        .map_err(db)?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found(format!("ready or dead job {id}")));
        }
        Ok(())
    }

    pub(crate) async fn queue_stats(&self, tenant: Option<TenantId>) -> Result<QueueStats> {
        let now = now_ms();
        let rows = sqlx::query(
            "select state, count(*) as n from jobs where ($1 is null or tenant_id = $1) group by state",
        )
        .bind(tenant.map(|t| t.0))
        .fetch_all(&self.reader)
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
            "select count(*) as n, min(run_at) as oldest from jobs \
             where state = 'ready' and run_at <= $2 and ($1 is null or tenant_id = $1)",
        )
        .bind(tenant.map(|t| t.0))
        .bind(now)
        .fetch_one(&self.reader)
        .await
        .map_err(db)?;
        s.due = get::<i64>(&row, "n")? as u64;
        s.oldest_due_age = get::<Option<i64>>(&row, "oldest")?
            .map(|o| Duration::from_millis(u64::try_from(now - o).unwrap_or(0)));
        Ok(s)
    }

    pub(crate) async fn purge_done(&self, older_than: Duration) -> Result<u64> {
        let done = sqlx::query("delete from jobs where state = 'done' and updated_at < $1")
            .bind(now_ms() - dur_ms(older_than))
            .execute(&self.writer)
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
        let feed = feed.to_owned();
        let signals = signals.to_vec();
        let expected = expected.map(str::to_owned);
        let marker = marker.to_owned();
        self.write(move |tx| {
            Box::pin(async move {
                let now = now_ms();
                let moved = match &expected {
                    Some(expected) => sqlx::query(
                        "update routing_cursors set marker = $3, updated_at = $5 \
                         where tenant_id = $1 and feed = $2 and marker = $4",
                    )
                    .bind(tenant.0)
                    .bind(&feed)
                    .bind(&marker)
                    .bind(expected)
                    .bind(now),
                    None => sqlx::query(
                        "insert into routing_cursors (tenant_id, feed, marker, created_at, updated_at) \
                         values ($1, $2, $3, $4, $4) on conflict (tenant_id, feed) do nothing",
                    )
                    .bind(tenant.0)
                    .bind(&feed)
                    .bind(&marker)
                    .bind(now),
                }
                .execute(&mut *tx)
                .await
                .map_err(db)?
                .rows_affected();
                if moved != 1 {
                    return Err(crate::cursor_moved(&feed));
                }
                for s in &signals {
                    sqlx::query(
                        "insert into routing_signals (tenant_id, feed, reference, signal, control_location, received_at, raw, created_at) \
                         values ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(tenant.0)
                    .bind(&feed)
                    .bind(&s.reference)
                    .bind(&s.signal)
                    .bind(&s.control_location)
                    .bind((s.received_at.unix_timestamp_nanos() / 1_000_000) as i64)
                    .bind(Json(&s.raw))
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                }
                Ok(())
            })
        })
        .await
    }

    pub(crate) async fn routing_cursor(
        &self,
        tenant: TenantId,
        feed: &str,
    ) -> Result<Option<String>> {
        sqlx::query_scalar("select marker from routing_cursors where tenant_id = $1 and feed = $2")
            .bind(tenant.0)
            .bind(feed)
            .fetch_optional(&self.reader)
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
             where tenant_id = $1 and ($2 is null or reference = $2) order by id desc limit $3",
        )
        .bind(tenant.0)
        .bind(reference)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
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
            "insert into webhook_subscriptions (id, tenant_id, url, sealed_secret, events, enabled, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, 1, $6, $6) returning {WEBHOOK_COLS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .bind(tenant.0)
            .bind(url)
            .bind(sealed_secret)
            .bind(Json(events))
            .bind(now_ms())
            .fetch_one(&self.writer)
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
            .fetch_all(&self.reader)
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
        .fetch_optional(&self.reader)
        .await
        .map_err(db)?
        .ok_or_else(|| Error::not_found(format!("webhook {id}")))
    }

    pub(crate) async fn delete_webhook(&self, tenant: TenantId, id: WebhookId) -> Result<()> {
        let done =
            sqlx::query("delete from webhook_subscriptions where tenant_id = $1 and id = $2")
                .bind(tenant.0)
                .bind(id.0)
                .execute(&self.writer)
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
        let event = event.to_owned();
        let payload = payload.clone();
        let max_attempts = plan.max_attempts;
        let r = self
            .write(move |tx| {
                Box::pin(async move {
                let now = now_ms();
                let sql = format!(
                    "insert into webhook_deliveries (id, tenant_id, subscription_id, message_id, event, payload, status, attempts, created_at, updated_at) \
                     select $1, $2, $3, $4, $5, $6, 'pending', 0, $7, $7 \
                     where exists (select 1 from webhook_subscriptions where tenant_id = $2 and id = $3) \
                     returning {DELIVERY_COLS}"
                );
                let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(id.0)
                    .bind(tenant.0)
                    .bind(subscription.0)
                    .bind(message.map(|m| m.0))
                    .bind(&event)
                    .bind(Json(&payload))
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db)?
                    .ok_or_else(|| Error::not_found(format!("webhook {subscription}")))?;
                let job_id: i64 = sqlx::query_scalar(
                    "insert into jobs (tenant_id, message_id, kind, payload, state, run_at, attempts, max_attempts, created_at, updated_at) \
                     values ($1, $2, $3, $4, 'ready', $5, 0, $6, $5, $5) returning id",
                )
                .bind(tenant.0)
                .bind(message.map(|m| m.0))
                .bind(JobKind::WebhookDelivery.as_str())
                .bind(Json(serde_json::json!({ "delivery_id": id })))
                .bind(now)
                .bind(i64::from(max_attempts))
                .fetch_one(&mut *tx)
                .await
                .map_err(db)?;
                Ok((delivery(&row)?, JobId(job_id)))

                })
            })
            .await;
        if r.is_ok() {
            crate::wake_all(&self.notify);
        }
        r
    }

    pub(crate) async fn record_delivery(
        &self,
        tenant: TenantId,
        id: DeliveryId,
        status: DeliveryStatus,
        http_status: Option<u16>,
        response: Option<&str>,
    ) -> Result<WebhookDelivery> {
        let response = response.map(str::to_owned);
        self
            .write1(move |tx| {
                Box::pin(async move {
                let sql = format!(
                    "update webhook_deliveries set status = $3, attempts = attempts + 1, last_status_code = $4, \
                     last_response = $5, updated_at = $6 where tenant_id = $1 and id = $2 returning {DELIVERY_COLS}"
                );
                let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(tenant.0)
                    .bind(id.0)
                    .bind(status.as_str())
                    .bind(http_status.map(i64::from))
                    .bind(response)
                    .bind(now_ms())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db)?
                    .ok_or_else(|| Error::not_found(format!("webhook delivery {id}")))?;
                delivery(&row)

                })
            })
            .await
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
            .fetch_all(&self.reader)
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
            .fetch_optional(&self.reader)
            .await
            .map_err(db)?
            .ok_or_else(|| Error::not_found(format!("webhook delivery {id}")))?;
        delivery(&row)
    }

    // ------------------------------------------------------------------ audit

    pub(crate) async fn audit(&self, e: &NewAuditEntry) -> Result<()> {
        let e = e.clone();
        self
            .write1(move |tx| {
                Box::pin(async move {
                sqlx::query(
                    "insert into audit_log (tenant_id, actor, action, detail, at) values ($1, $2, $3, $4, $5)",
                )
                .bind(e.tenant_id.map(|t| t.0))
                .bind(&e.actor)
                .bind(&e.action)
                .bind(Json(&e.detail))
                .bind(now_ms())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                Ok(())

                })
            })
            .await
    }

    pub(crate) async fn audit_log(
        &self,
        tenant: Option<TenantId>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "select id, tenant_id, actor, action, detail, at from audit_log \
             where ($1 is null or tenant_id = $1) order by id desc limit $2",
        )
        .bind(tenant.map(|t| t.0))
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await
        .map_err(db)?;
        rows.iter().map(crate::row::audit_entry).collect()
    }
}
