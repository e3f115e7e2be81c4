//! Storage and durable outbox for the digitoll gateway, on SQLite or PostgreSQL.
//!
//! This is the only crate in the project that writes SQL. It keeps:
//!
//! - **tenants** (customer organisations) with their Maskinporten key material
//!   sealed under the operator's [`MasterKey`] (AES-256-GCM, the tenant id and
//!   column bound in as associated data), never returned by any read except
//!   [`Store::tenant_key`];
//! - **API keys**, stored as SHA-256 hashes (see [`ApiKeySecret`]);
//! - **messages** with their state history, send attempts, MRN, requestId and
//!   validation errors, and an idempotency key unique per tenant;
//! - an **outbox of jobs** claimed with a lease in one statement
//!   (`for update skip locked` on PostgreSQL), completed under a fence
//!   (`lease_owner` + attempt number), retried with exponential backoff and
//!   full jitter ([`RetryPolicy`]) and dead-lettered after a bound;
//! - **routing signals** with their feed cursor, **webhooks** and their
//!   deliveries, and an **audit log**.
//!
//! Every tenant-owned read and write takes the tenant id, so one tenant cannot
//! see another's rows by construction.
//!
//! ```no_run
//! # async fn demo() -> Result<(), digitoll_store::Error> {
//! use digitoll_store::{MasterKey, Store, StoreOptions};
//! let key = MasterKey::from_base64("…32 bytes of base64 from the operator…")?;
//! let store = Store::connect("sqlite://digitoll.db?mode=rwc", StoreOptions::new(key)).await?;
//! loop {
//!     let jobs = store.claim("worker-1", 16, std::time::Duration::from_secs(60)).await?;
//!     if jobs.is_empty() {
//!         store.wait_for_work(std::time::Duration::from_secs(5)).await;
//!         continue;
//!     }
//!     for job in jobs {
//!         // … do the work, then:
//!         store.complete(&job).await?;
//!     }
//! }
//! # }
//! ```
//!
//! # Backends
//!
//! `Store::connect` takes `sqlite://path?mode=rwc`, `sqlite:path` or a plain
//! file path for SQLite, and `postgres://…` / `postgresql://…` for
//! PostgreSQL, and runs that backend's embedded migrations
//! (`migrations/sqlite`, `migrations/postgres`) before returning.
//!
//! **Durability on SQLite.** The default, [`Durability::Normal`], runs WAL with
//! `synchronous=NORMAL`: a committed transaction survives the process crashing
//! (it is in the WAL file), but the last transactions before a power loss or
//! kernel crash may be lost, because the WAL is fsynced only at checkpoints.
//! [`Durability::Full`] fsyncs the WAL on every commit and survives power loss,
//! at the throughput measured in the README.
//!
//! On PostgreSQL, durability is the server's (`synchronous_commit`), and
//! several gateway instances can share one database: claims never hand the
//! same job to two workers, and `LISTEN/NOTIFY` wakes idle workers.

mod apikey;
mod crypto;
mod error;
mod postgres;
mod retry;
mod row;
mod sqlite;
mod types;

use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use tokio::sync::Notify;
use uuid::Uuid;

pub use apikey::{API_KEY_PREFIX, ApiKeySecret};
pub use crypto::MasterKey;
pub use error::{Error, Result};
pub use retry::RetryPolicy;
pub use types::*;

/// How hard SQLite works to keep a commit through a crash (ignored on PostgreSQL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// WAL + `synchronous=NORMAL`: survives a process crash, not a power loss.
    #[default]
    Normal,
    /// WAL + `synchronous=FULL`: every commit is fsynced; survives power loss.
    Full,
}

/// Settings for [`Store::connect`].
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Seals and opens tenant secrets. Without it, storing or reading key
    /// material and webhook secrets fails with [`Error::Crypto`].
    pub master_key: Option<MasterKey>,
    /// Retry schedule and attempt bound for jobs.
    pub retry: RetryPolicy,
    /// SQLite only: fsync policy.
    pub durability: Durability,
    /// Connections in the pool (PostgreSQL) or the read pool (SQLite; writes
    /// always use a single connection).
    pub max_connections: u32,
    /// How long to wait for a pooled connection.
    pub acquire_timeout: Duration,
    /// SQLite only: how long to wait for another process's write lock.
    pub sqlite_busy_timeout: Duration,
}

impl StoreOptions {
    /// Defaults with the operator's master key.
    pub fn new(master_key: MasterKey) -> Self {
        Self {
            master_key: Some(master_key),
            ..Self::without_master_key()
        }
    }

    /// Defaults without a master key (for tools that only migrate or read
    /// queue statistics).
    pub fn without_master_key() -> Self {
        Self {
            master_key: None,
            retry: RetryPolicy::default(),
            durability: Durability::default(),
            max_connections: 8,
            acquire_timeout: Duration::from_secs(10),
            sqlite_busy_timeout: Duration::from_secs(5),
        }
    }

    /// Sets the retry policy.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets SQLite's durability.
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// Sets the pool size.
    pub fn max_connections(mut self, n: u32) -> Self {
        self.max_connections = n;
        self
    }
}

/// Which database a [`Store`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// A SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// Why [`Store::wait_for_work`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// A job was enqueued (by this process, or on PostgreSQL by any instance).
    Notified,
    /// The timeout passed; poll anyway (covers missed notifications and jobs
    /// whose `run_at` has come).
    Timeout,
}

enum Backend {
    Sqlite(sqlite::SqliteBackend),
    Postgres(postgres::PgBackend),
}

/// The store: one handle, cheap to clone, shared by all gateway tasks.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Backend,
    master_key: Option<MasterKey>,
    retry: RetryPolicy,
    notify: Arc<Notify>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend_kind())
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

macro_rules! dispatch {
    ($self:ident, $b:ident => $e:expr) => {
        match &$self.inner.backend {
            Backend::Sqlite($b) => $e,
            Backend::Postgres($b) => $e,
        }
    };
}

// Rows handed from the backend-agnostic layer to the backends.
pub(crate) struct KeyColumns {
    pub(crate) key_kind: KeyKind,
    pub(crate) kid: Option<String>,
    pub(crate) sealed_private_key: Option<Vec<u8>>,
    pub(crate) sealed_p12: Option<Vec<u8>>,
    pub(crate) sealed_p12_password: Option<Vec<u8>>,
    pub(crate) public_jwk: Option<Value>,
}

pub(crate) struct TenantRow {
    pub(crate) id: TenantId,
    pub(crate) org_number: String,
    pub(crate) name: String,
    pub(crate) environment: Environment,
    pub(crate) issuer_url: Option<String>,
    pub(crate) client_id: String,
    pub(crate) key: KeyColumns,
    pub(crate) scopes: Vec<String>,
}

pub(crate) struct SealedKeyRow {
    pub(crate) key_kind: KeyKind,
    pub(crate) kid: Option<String>,
    pub(crate) sealed_private_key: Option<Vec<u8>>,
    pub(crate) sealed_p12: Option<Vec<u8>>,
    pub(crate) sealed_p12_password: Option<Vec<u8>>,
}

pub(crate) struct JobPlan {
    pub(crate) max_attempts: u32,
}

/// A replay returns the stored message when the body hash matches, else a conflict.
pub(crate) fn message_hash_matches(
    existing: Message,
    stored_hash: &[u8],
    new_hash: &[u8],
    key: &str,
) -> Result<Submission> {
    if apikey::hashes_equal(stored_hash, new_hash) {
        Ok(Submission {
            message: existing,
            job: None,
            replayed: true,
        })
    } else {
        Err(Error::Conflict(format!(
            "idempotency key '{key}' was already used for message {} with a different request",
            existing.id
        )))
    }
}

/// The answer to a stored submission: the message as queued, with its
/// submit job (both backends build it from what they inserted).
pub(crate) fn queued_submission(
    m: &NewMessage,
    id: MessageId,
    at: OffsetDateTime,
    job: JobId,
) -> Submission {
    Submission {
        message: Message {
            id,
            tenant_id: m.tenant_id,
            api: m.api.clone(),
            kind: m.kind.clone(),
            operation: m.operation,
            body: m.body.clone(),
            document_number: m.document_number.clone(),
            document_type: m.document_type.clone(),
            carrier_id: m.carrier_id.clone(),
            idempotency_key: m.idempotency_key.clone(),
            state: MessageState::Queued,
            mrn: None,
            request_id: None,
            validation_errors: None,
            local_findings: m.local_findings.clone(),
            validation_mode: m.validation_mode,
            created_at: at,
            updated_at: at,
        },
        job: Some(job),
        replayed: false,
    }
}

/// The answer when a routing cursor is no longer where the page was read.
pub(crate) fn cursor_moved(feed: &str) -> Error {
    Error::Conflict(format!(
        "the routing cursor of feed '{feed}' moved since this page was read (another instance stored it)"
    ))
}

/// The state rules: final states stay final, nothing returns to `received`,
/// and an optimistic `expected_from` must match.
pub(crate) fn check_transition(id: MessageId, current: MessageState, t: &Transition) -> Result<()> {
    if let Some(expected) = t.expected_from
        && expected != current
    {
        return Err(Error::Conflict(format!(
            "message {id} is {current}, not {expected}"
        )));
    }
    if current.is_final() {
        return Err(Error::Conflict(format!(
            "message {id} is {current}, which is final"
        )));
    }
    if t.to == MessageState::Received {
        return Err(Error::Conflict(format!(
            "message {id} cannot go back to received"
        )));
    }
    Ok(())
}

fn body_hash(m: &NewMessage) -> Result<[u8; 32]> {
    let mut h = Sha256::new();
    for part in [m.api.as_str(), m.kind.as_str(), m.operation.as_str()] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    let body = serde_json::to_vec(&m.body).map_err(|e| Error::invalid("body", e.to_string()))?;
    h.update(&body);
    Ok(h.finalize().into())
}

fn clamp_limit(limit: Option<u32>) -> u32 {
    limit.unwrap_or(100).clamp(1, 1000)
}

pub(crate) fn wake_all(notify: &Notify) {
    // Wake every waiting worker, and leave one permit so a worker that is
    // between an empty claim and its wait does not miss this enqueue.
    notify.notify_waiters();
    notify.notify_one();
}

impl Store {
    /// Opens the database at `url` and runs its migrations.
    ///
    /// `url` is `postgres://…`/`postgresql://…`, or for SQLite
    /// `sqlite://path?mode=rwc`, `sqlite:path` or a plain file path (created
    /// if missing). In-memory SQLite is not supported: the store keeps a
    /// separate writer connection, which would see a different database.
    ///
    /// # Errors
    /// [`Error::Database`] when the database cannot be opened,
    /// [`Error::Migration`] when a migration fails.
    pub async fn connect(url: &str, options: StoreOptions) -> Result<Self> {
        let notify = Arc::new(Notify::new());
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres(postgres::PgBackend::connect(url, &options, notify.clone()).await?)
        } else {
            if url.contains(":memory:") || url.contains("mode=memory") {
                return Err(Error::invalid(
                    "url",
                    "in-memory SQLite is not supported; give a file path",
                ));
            }
            Backend::Sqlite(sqlite::SqliteBackend::connect(url, &options, notify.clone()).await?)
        };
        Ok(Self {
            inner: Arc::new(Inner {
                backend,
                master_key: options.master_key,
                retry: options.retry,
                notify,
            }),
        })
    }

    /// Which database this store runs on.
    pub fn backend_kind(&self) -> BackendKind {
        match self.inner.backend {
            Backend::Sqlite(_) => BackendKind::Sqlite,
            Backend::Postgres(_) => BackendKind::Postgres,
        }
    }

    /// The retry policy in force.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.inner.retry
    }

    /// Closes the pools (and the PostgreSQL listener). Later calls fail.
    pub async fn close(&self) {
        dispatch!(self, b => b.close().await)
    }

    fn key(&self) -> Result<&MasterKey> {
        self.inner
            .master_key
            .as_ref()
            .ok_or_else(|| Error::Crypto("no master key was given to the store".into()))
    }

    // ---------------------------------------------------------------- tenants

    fn seal_key(&self, tenant: TenantId, key: &TenantKey) -> Result<KeyColumns> {
        let mk = self.key()?;
        let ctx = |col| crypto::tenant_context(tenant.0, col);
        Ok(match key {
            TenantKey::KeyPair {
                kid,
                private_key,
                public_jwk,
            } => {
                if kid.trim().is_empty() {
                    return Err(Error::invalid("kid", "is empty"));
                }
                KeyColumns {
                    key_kind: KeyKind::Kid,
                    kid: Some(kid.clone()),
                    sealed_private_key: Some(
                        mk.seal(&ctx("sealed_private_key"), private_key.expose_secret()),
                    ),
                    sealed_p12: None,
                    sealed_p12_password: None,
                    public_jwk: Some(public_jwk.clone()),
                }
            }
            TenantKey::Certificate { p12, password } => KeyColumns {
                key_kind: KeyKind::Certificate,
                kid: None,
                sealed_private_key: None,
                sealed_p12: Some(mk.seal(&ctx("sealed_p12"), p12.expose_secret())),
                sealed_p12_password: Some(mk.seal(
                    &ctx("sealed_p12_password"),
                    password.expose_secret().as_bytes(),
                )),
                public_jwk: None,
            },
        })
    }

    /// Creates a tenant, sealing its key material.
    ///
    /// # Errors
    /// [`Error::Invalid`] for an org number that is not 9 digits with a valid
    /// mod-11 check digit, an empty name or client id, or a
    /// `sim` tenant without `issuer_url`; [`Error::Crypto`] without a master key.
    pub async fn create_tenant(&self, t: NewTenant) -> Result<Tenant> {
        // Tenants are our own configuration, so the organisation number gets
        // the register's mod-11 check (the model's `OrgNumber`), not just a
        // shape check.
        if let Err(e) = digitoll_model::OrgNumber::parse(&t.org_number) {
            return Err(Error::invalid("org_number", e.to_string()));
        }
        for (field, value) in [("name", &t.name), ("client_id", &t.client_id)] {
            if value.trim().is_empty() {
                return Err(Error::invalid(field, "is empty"));
            }
        }
        if t.environment == Environment::Sim && t.issuer_url.is_none() {
            return Err(Error::invalid(
                "issuer_url",
                "is required for a sim tenant (the simulator's address)",
            ));
        }
        let id = TenantId(Uuid::new_v4());
        let key = self.seal_key(id, &t.key)?;
        let row = TenantRow {
            id,
            org_number: t.org_number,
            name: t.name,
            environment: t.environment,
            issuer_url: t.issuer_url,
            client_id: t.client_id,
            key,
            scopes: t.scopes,
        };
        dispatch!(self, b => b.insert_tenant(&row).await)
    }

    /// Reads a tenant (without secrets).
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub async fn tenant(&self, id: TenantId) -> Result<Tenant> {
        dispatch!(self, b => b.get_tenant(id).await)
    }

    /// All tenants, by name.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn tenants(&self) -> Result<Vec<Tenant>> {
        dispatch!(self, b => b.list_tenants().await)
    }

    /// Changes a tenant's non-secret fields.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub async fn update_tenant(&self, id: TenantId, update: TenantUpdate) -> Result<Tenant> {
        dispatch!(self, b => b.update_tenant(id, &update).await)
    }

    /// Replaces a tenant's key material (key rotation or a new certificate).
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::Crypto`] without a master key.
    pub async fn set_tenant_key(&self, id: TenantId, key: TenantKey) -> Result<Tenant> {
        let cols = self.seal_key(id, &key)?;
        dispatch!(self, b => b.set_tenant_key(id, &cols).await)
    }

    /// Deletes a tenant that has no messages, jobs or other rows left.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::Conflict`] while rows still refer to it.
    pub async fn delete_tenant(&self, id: TenantId) -> Result<()> {
        dispatch!(self, b => b.delete_tenant(id).await)
    }

    /// Opens the tenant's key material for signing grants.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::Crypto`] with a wrong master key or a
    /// ciphertext that was moved from another tenant or column.
    pub async fn tenant_key(&self, id: TenantId) -> Result<TenantKeyMaterial> {
        let row = dispatch!(self, b => b.tenant_sealed(id).await)?;
        let mk = self.key()?;
        let ctx = |col| crypto::tenant_context(id.0, col);
        let missing = |col: &str| Error::Crypto(format!("tenant {id} has no {col}"));
        Ok(match row.key_kind {
            KeyKind::Kid => TenantKeyMaterial::KeyPair {
                kid: row.kid.ok_or_else(|| missing("kid"))?,
                private_key: mk.open_bytes(
                    &ctx("sealed_private_key"),
                    &row.sealed_private_key
                        .ok_or_else(|| missing("sealed_private_key"))?,
                )?,
            },
            KeyKind::Certificate => TenantKeyMaterial::Certificate {
                p12: mk.open_bytes(
                    &ctx("sealed_p12"),
                    &row.sealed_p12.ok_or_else(|| missing("sealed_p12"))?,
                )?,
                password: mk.open_string(
                    &ctx("sealed_p12_password"),
                    &row.sealed_p12_password
                        .ok_or_else(|| missing("sealed_p12_password"))?,
                )?,
            },
        })
    }

    // --------------------------------------------------------------- api keys

    /// Creates an API key and returns it once; only its hash is stored.
    ///
    /// # Errors
    /// [`Error::Conflict`] when the tenant does not exist.
    pub async fn create_api_key(
        &self,
        scope: ApiKeyScope,
        label: &str,
    ) -> Result<(ApiKeyInfo, ApiKeySecret)> {
        let g = apikey::generate();
        let id = ApiKeyId(Uuid::new_v4());
        let info =
            dispatch!(self, b => b.insert_api_key(id, scope, &g.prefix, &g.hash, label).await)?;
        Ok((info, g.secret))
    }

    /// Looks up the key a client presented. Unknown, malformed and revoked
    /// keys all give [`Error::NotFound`], so callers answer 401 alike.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub async fn authenticate_api_key(&self, presented: &str) -> Result<ApiKeyInfo> {
        let unknown = || Error::not_found("api key");
        if !apikey::well_formed(presented) {
            return Err(unknown());
        }
        let hash = apikey::hash(presented);
        let (info, stored) =
            dispatch!(self, b => b.find_api_key(&hash).await)?.ok_or_else(unknown)?;
        if !apikey::hashes_equal(&stored, &hash) || info.revoked_at.is_some() {
            return Err(unknown());
        }
        Ok(info)
    }

    /// Keys of the operator ([`ApiKeyScope::Admin`]) or of one tenant.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn api_keys(&self, scope: ApiKeyScope) -> Result<Vec<ApiKeyInfo>> {
        dispatch!(self, b => b.list_api_keys(scope).await)
    }

    /// Revokes a key of `scope`.
    ///
    /// # Errors
    /// [`Error::NotFound`] when no active key of that scope has this id.
    pub async fn revoke_api_key(&self, scope: ApiKeyScope, id: ApiKeyId) -> Result<()> {
        dispatch!(self, b => b.revoke_api_key(scope, id).await)
    }

    // --------------------------------------------------------------- messages

    /// Stores a message, its first history row and its `submit` job in one
    /// transaction. With an idempotency key already used by this tenant, the
    /// original message is returned (`replayed: true`, no new job) if the
    /// request is the same, and [`Error::Conflict`] if it differs.
    ///
    /// # Errors
    /// [`Error::Conflict`] (idempotency, unknown tenant), [`Error::Database`].
    pub async fn submit_message(&self, m: NewMessage) -> Result<Submission> {
        if let Some(key) = &m.idempotency_key
            && (key.is_empty() || key.len() > 255)
        {
            return Err(Error::invalid(
                "idempotency_key",
                "must be 1 to 255 characters",
            ));
        }
        let hash = body_hash(&m)?;
        let id = MessageId(Uuid::now_v7());
        let plan = JobPlan {
            max_attempts: self.inner.retry.max_attempts,
        };
        dispatch!(self, b => b.submit_message(&m, id, &hash, &plan).await)
    }

    /// Reads one of the tenant's messages.
    ///
    /// # Errors
    /// [`Error::NotFound`] (also for another tenant's message).
    pub async fn message(&self, tenant: TenantId, id: MessageId) -> Result<Message> {
        dispatch!(self, b => b.get_message(tenant, id).await)
    }

    /// The tenant's messages, newest first.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn messages(&self, tenant: TenantId, filter: MessageFilter) -> Result<Vec<Message>> {
        let limit = clamp_limit(filter.limit);
        dispatch!(self, b => b.list_messages(tenant, &filter, limit).await)
    }

    /// The tenant's messages with this document number (for reconciling an
    /// ambiguous send before any resend).
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn messages_by_document(
        &self,
        tenant: TenantId,
        document_number: &str,
    ) -> Result<Vec<Message>> {
        let filter = MessageFilter {
            document_number: Some(document_number.to_owned()),
            ..MessageFilter::default()
        };
        self.messages(tenant, filter).await
    }

    /// The tenant's messages with this MRN, newest first (the original
    /// declaration and any update or cancellation sent by that MRN).
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn messages_by_mrn(&self, tenant: TenantId, mrn: &str) -> Result<Vec<Message>> {
        dispatch!(self, b => b.messages_by_mrn(tenant, mrn).await)
    }

    /// Changes a message's state and writes the history row in one transaction.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::Conflict`] from a final state, back to
    /// `received`, or when `expected_from` does not match.
    pub async fn transition(
        &self,
        tenant: TenantId,
        id: MessageId,
        t: Transition,
    ) -> Result<Message> {
        dispatch!(self, b => b.transition(tenant, id, &t).await)
    }

    /// A message's state history, oldest first.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn history(&self, tenant: TenantId, id: MessageId) -> Result<Vec<StateChange>> {
        dispatch!(self, b => b.history(tenant, id).await)
    }

    /// Records the start of a send attempt and returns its number (1, 2, …).
    ///
    /// # Errors
    /// [`Error::NotFound`] for another tenant's or an unknown message.
    pub async fn begin_attempt(
        &self,
        tenant: TenantId,
        message: MessageId,
        job: Option<JobId>,
    ) -> Result<u32> {
        dispatch!(self, b => b.begin_attempt(tenant, message, job).await)
    }

    /// Records how a send attempt ended.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub async fn finish_attempt(
        &self,
        tenant: TenantId,
        message: MessageId,
        attempt_no: u32,
        result: AttemptResult,
    ) -> Result<()> {
        dispatch!(self, b => b.finish_attempt(tenant, message, attempt_no, &result).await)
    }

    /// A message's send attempts, in order.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn attempts(&self, tenant: TenantId, message: MessageId) -> Result<Vec<Attempt>> {
        dispatch!(self, b => b.attempts(tenant, message).await)
    }

    // ------------------------------------------------------------------- jobs

    /// Enqueues a job (submit jobs come with [`Store::submit_message`]).
    ///
    /// # Errors
    /// [`Error::NotFound`] when `message_id` is not one of the tenant's.
    pub async fn enqueue(&self, job: NewJob) -> Result<JobId> {
        let max = job
            .max_attempts
            .unwrap_or(self.inner.retry.max_attempts)
            .max(1);
        dispatch!(self, b => b.enqueue(&job, max).await)
    }

    /// Claims up to `limit` due jobs for `worker` for `lease`, in one statement:
    /// ready jobs whose `run_at` has come and leased jobs whose lease expired.
    /// Each claim adds one to `attempts`, which then fences this lease.
    /// Expired leases on a job's last allowed attempt are dead-lettered here.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn claim(&self, worker: &str, limit: u32, lease: Duration) -> Result<Vec<Job>> {
        if worker.is_empty() {
            return Err(Error::invalid("worker", "is empty"));
        }
        let limit = limit.clamp(1, 1000);
        dispatch!(self, b => b.claim(worker, limit, lease).await)
    }

    /// Marks a claimed job done.
    ///
    /// # Errors
    /// [`Error::LeaseLost`] when the lease is no longer this claim's.
    pub async fn complete(&self, job: &Job) -> Result<()> {
        dispatch!(self, b => b.complete(job).await)
    }

    /// Records a failed attempt: fatal failures and the last allowed attempt
    /// dead-letter the job; retryable ones reschedule it with the policy's
    /// backoff (never sooner than `retry_after`).
    ///
    /// # Errors
    /// [`Error::LeaseLost`] when the lease is no longer this claim's.
    pub async fn fail(&self, job: &Job, failure: Failure) -> Result<FailOutcome> {
        match failure {
            Failure::Fatal { error } => {
                dispatch!(self, b => b.dead_letter(job, &format!("fatal: {error}")).await)?;
                Ok(FailOutcome::Dead)
            }
            Failure::Retryable { error, .. } if job.attempts >= job.max_attempts => {
                let text = format!("gave up after {} attempts: {error}", job.attempts);
                dispatch!(self, b => b.dead_letter(job, &text).await)?;
                Ok(FailOutcome::Dead)
            }
            Failure::Retryable { error, retry_after } => {
                let delay = self.inner.retry.delay(job.attempts, retry_after);
                let run_at = dispatch!(self, b => b.reschedule(job, delay, &error).await)?;
                Ok(FailOutcome::Retrying { run_at, delay })
            }
        }
    }

    /// Extends a claimed job's lease to `lease` from now; returns the new end.
    ///
    /// # Errors
    /// [`Error::LeaseLost`].
    pub async fn extend_lease(&self, job: &Job, lease: Duration) -> Result<OffsetDateTime> {
        dispatch!(self, b => b.extend_lease(job, lease).await)
    }

    /// Reads a job; `tenant: None` is the operator's view of all tenants.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub async fn job(&self, tenant: Option<TenantId>, id: JobId) -> Result<Job> {
        dispatch!(self, b => b.get_job(tenant, id).await)
    }

    /// Dead-lettered jobs, most recent first (`tenant: None` for all).
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn dead_jobs(&self, tenant: Option<TenantId>, limit: u32) -> Result<Vec<Job>> {
        let limit = clamp_limit(Some(limit));
        dispatch!(self, b => b.jobs_in_state(tenant, JobState::Dead, limit).await)
    }

    /// Puts a dead or cancelled job back in the queue with a fresh attempt count.
    ///
    /// # Errors
    /// [`Error::NotFound`] when no such dead/cancelled job is visible.
    pub async fn retry_job(&self, tenant: Option<TenantId>, id: JobId) -> Result<()> {
        dispatch!(self, b => b.requeue(tenant, id).await)
    }

    /// Cancels a ready or dead job (leased jobs belong to their worker).
    ///
    /// # Errors
    /// [`Error::NotFound`] when no such ready/dead job is visible.
    pub async fn cancel_job(&self, tenant: Option<TenantId>, id: JobId) -> Result<()> {
        dispatch!(self, b => b.cancel(tenant, id).await)
    }

    /// Queue depth by state and the lag of the oldest due job.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn queue_stats(&self, tenant: Option<TenantId>) -> Result<QueueStats> {
        dispatch!(self, b => b.queue_stats(tenant).await)
    }

    /// Deletes done jobs last changed more than `older_than` ago; returns how many.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn purge_done_jobs(&self, older_than: Duration) -> Result<u64> {
        dispatch!(self, b => b.purge_done(older_than).await)
    }

    /// Waits until a job is enqueued or `timeout` passes. On PostgreSQL the
    /// wake-up comes from `LISTEN/NOTIFY` (any instance); on SQLite from this
    /// process. Workers must still poll after a timeout: notifications can be
    /// missed (a reconnect) and delayed jobs become due without one.
    pub async fn wait_for_work(&self, timeout: Duration) -> Wake {
        match tokio::time::timeout(timeout, self.inner.notify.notified()).await {
            Ok(()) => Wake::Notified,
            Err(_) => Wake::Timeout,
        }
    }

    // ---------------------------------------------------------------- routing

    /// Stores routing signals and moves the feed's cursor from `expected`
    /// (the marker the page was read after; `None` for a feed never read) to
    /// `marker` in one transaction, so a crash never skips or half-applies a
    /// page. The move is a compare-and-set: when the cursor is no longer at
    /// `expected` (another gateway instance stored this page first), nothing
    /// is stored and the answer is [`Error::Conflict`], so several instances
    /// can follow one feed and each signal is stored once.
    ///
    /// # Errors
    /// [`Error::Conflict`] when the cursor moved or the tenant is unknown,
    /// [`Error::Database`].
    pub async fn record_routing_signals(
        &self,
        tenant: TenantId,
        feed: &str,
        signals: &[NewRoutingSignal],
        expected: Option<&str>,
        marker: &str,
    ) -> Result<()> {
        dispatch!(self, b => b.record_routing(tenant, feed, signals, expected, marker).await)
    }

    /// The feed's stored marker, if it was ever read.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn routing_cursor(&self, tenant: TenantId, feed: &str) -> Result<Option<String>> {
        dispatch!(self, b => b.routing_cursor(tenant, feed).await)
    }

    /// The tenant's routing signals, newest first, optionally for one reference.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn routing_signals(
        &self,
        tenant: TenantId,
        reference: Option<&str>,
        limit: u32,
    ) -> Result<Vec<RoutingSignal>> {
        let limit = clamp_limit(Some(limit));
        dispatch!(self, b => b.routing_signals(tenant, reference, limit).await)
    }

    // --------------------------------------------------------------- webhooks

    /// Subscribes `url` to `events`; returns the signing secret once (it is
    /// stored sealed, and [`Store::webhook_secret`] opens it for the sender).
    ///
    /// # Errors
    /// [`Error::Crypto`] without a master key, [`Error::Conflict`] for an unknown tenant.
    pub async fn create_webhook(
        &self,
        tenant: TenantId,
        url: &str,
        events: &[String],
    ) -> Result<(Webhook, SecretString)> {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(Error::invalid(
                "url",
                format!("'{url}' is not an http(s) URL"),
            ));
        }
        let mk = self.key()?;
        let id = WebhookId(Uuid::new_v4());
        let mut raw = zeroize::Zeroizing::new([0u8; 32]);
        crypto::fill_random(&mut raw[..]);
        let secret = SecretString::from(format!(
            "whsec_{}",
            base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &raw[..])
        ));
        let sealed = mk.seal(
            &crypto::webhook_context(tenant.0, id.0),
            secret.expose_secret().as_bytes(),
        );
        let hook = dispatch!(self, b => b.insert_webhook(id, tenant, url, &sealed, events).await)?;
        Ok((hook, secret))
    }

    /// The tenant's webhook subscriptions.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn webhooks(&self, tenant: TenantId) -> Result<Vec<Webhook>> {
        dispatch!(self, b => b.list_webhooks(tenant).await)
    }

    /// Opens a subscription's signing secret.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::Crypto`].
    pub async fn webhook_secret(&self, tenant: TenantId, id: WebhookId) -> Result<SecretString> {
        let sealed = dispatch!(self, b => b.webhook_sealed_secret(tenant, id).await)?;
        self.key()?
            .open_string(&crypto::webhook_context(tenant.0, id.0), &sealed)
    }

    /// Deletes a subscription and its deliveries.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub async fn delete_webhook(&self, tenant: TenantId, id: WebhookId) -> Result<()> {
        dispatch!(self, b => b.delete_webhook(tenant, id).await)
    }

    /// Records a delivery to make and enqueues its `webhook_delivery` job
    /// (payload `{"delivery_id": …}`) in one transaction.
    ///
    /// # Errors
    /// [`Error::NotFound`] for another tenant's or an unknown subscription.
    pub async fn create_webhook_delivery(
        &self,
        tenant: TenantId,
        subscription: WebhookId,
        message: Option<MessageId>,
        event: &str,
        payload: &Value,
    ) -> Result<(WebhookDelivery, JobId)> {
        let id = DeliveryId(Uuid::now_v7());
        let plan = JobPlan {
            max_attempts: self.inner.retry.max_attempts,
        };
        dispatch!(self, b => b.create_delivery(tenant, id, subscription, message, event, payload, &plan).await)
    }

    /// Records one delivery attempt's result.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub async fn record_webhook_delivery(
        &self,
        tenant: TenantId,
        id: DeliveryId,
        status: DeliveryStatus,
        http_status: Option<u16>,
        response: Option<&str>,
    ) -> Result<WebhookDelivery> {
        dispatch!(self, b => b.record_delivery(tenant, id, status, http_status, response).await)
    }

    /// A subscription's deliveries, newest first.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn webhook_deliveries(
        &self,
        tenant: TenantId,
        subscription: WebhookId,
        limit: u32,
    ) -> Result<Vec<WebhookDelivery>> {
        let limit = clamp_limit(Some(limit));
        dispatch!(self, b => b.deliveries(tenant, subscription, limit).await)
    }

    /// One delivery by id (the webhook worker reads the delivery its job names).
    /// Another tenant's delivery is `NotFound`.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::Database`].
    pub async fn webhook_delivery(
        &self,
        tenant: TenantId,
        id: DeliveryId,
    ) -> Result<WebhookDelivery> {
        dispatch!(self, b => b.delivery_by_id(tenant, id).await)
    }

    // ------------------------------------------------------------------ audit

    /// Appends to the audit log.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn audit(&self, entry: NewAuditEntry) -> Result<()> {
        dispatch!(self, b => b.audit(&entry).await)
    }

    /// The audit log, newest first (`tenant: None` for all).
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn audit_log(&self, tenant: Option<TenantId>, limit: u32) -> Result<Vec<AuditEntry>> {
        let limit = clamp_limit(Some(limit));
        dispatch!(self, b => b.audit_log(tenant, limit).await)
    }
}
