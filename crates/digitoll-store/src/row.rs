//! One row decoder for both backends.
//!
//! The backends differ in how a few column types are stored (SQLite keeps
//! times as unix milliseconds and integers as `i64`; PostgreSQL has
//! `timestamptz` and `int4`). [`DecodeRow`] hides that behind a handful of
//! typed getters, so each row mapper (`tenant`, `message`, `job`, …) and
//! each column list is written once and used by both backends. Text columns
//! holding an enum are parsed here: an unknown value is a typed
//! [`Error::Database`] naming the column, never a panic.

use std::str::FromStr;

use serde::de::DeserializeOwned;
use sqlx::Row as _;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::types::Json;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::types::*;

/// Typed column access, implemented for each backend's row type.
pub(crate) trait DecodeRow {
    /// The backend's name, for error messages.
    const BACKEND: &'static str;

    /// Any column sqlx decodes the same way on both backends (text, uuid,
    /// bool, bigint and their `Option`s).
    fn col<T>(&self, col: &str) -> Result<T>
    where
        T: for<'r> sqlx::Decode<'r, sqlx::Sqlite>
            + sqlx::Type<sqlx::Sqlite>
            + for<'r> sqlx::Decode<'r, sqlx::Postgres>
            + sqlx::Type<sqlx::Postgres>;

    /// A point in time.
    fn ts(&self, col: &str) -> Result<OffsetDateTime>;

    /// A nullable point in time.
    fn ts_opt(&self, col: &str) -> Result<Option<OffsetDateTime>>;

    /// A nullable small integer (`int4` on PostgreSQL).
    fn int_opt(&self, col: &str) -> Result<Option<i64>>;

    /// A small integer (`int4` on PostgreSQL).
    fn int(&self, col: &str) -> Result<i64> {
        self.int_opt(col)?
            .ok_or_else(|| Error::corrupt(Self::BACKEND, format!("column {col} is null")))
    }

    /// A JSON column.
    fn json<T: DeserializeOwned>(&self, col: &str) -> Result<T>;

    /// A nullable JSON column.
    fn json_opt<T: DeserializeOwned>(&self, col: &str) -> Result<Option<T>>;

    /// A text column holding one of the store's enums.
    fn parse<T: FromStr<Err = Error>>(&self, col: &str) -> Result<T> {
        self.col::<String>(col)?
            .parse()
            .map_err(|e: Error| Error::corrupt(Self::BACKEND, format!("column {col}: {e}")))
    }

    /// A count or attempt number as `u32`; a negative or huge value is corrupt.
    fn count(&self, col: &str) -> Result<u32> {
        let n = self.int(col)?;
        u32::try_from(n).map_err(|_| Error::corrupt(Self::BACKEND, format!("column {col}: {n}")))
    }
}

fn sqlite_ts(ms: i64) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map_err(|e| Error::corrupt("sqlite", format!("timestamp {ms}: {e}")))
}

impl DecodeRow for SqliteRow {
    const BACKEND: &'static str = "sqlite";

    fn col<T>(&self, col: &str) -> Result<T>
    where
        T: for<'r> sqlx::Decode<'r, sqlx::Sqlite>
            + sqlx::Type<sqlx::Sqlite>
            + for<'r> sqlx::Decode<'r, sqlx::Postgres>
            + sqlx::Type<sqlx::Postgres>,
    {
        self.try_get(col)
            .map_err(|e| Error::from_sqlx(Self::BACKEND, e))
    }

    fn ts(&self, col: &str) -> Result<OffsetDateTime> {
        sqlite_ts(self.col::<i64>(col)?)
    }

    fn ts_opt(&self, col: &str) -> Result<Option<OffsetDateTime>> {
        self.col::<Option<i64>>(col)?.map(sqlite_ts).transpose()
    }

    fn int_opt(&self, col: &str) -> Result<Option<i64>> {
        self.col(col)
    }

    fn json<T: DeserializeOwned>(&self, col: &str) -> Result<T> {
        self.try_get::<Json<T>, _>(col)
            .map(|j| j.0)
            .map_err(|e| Error::from_sqlx(Self::BACKEND, e))
    }

    fn json_opt<T: DeserializeOwned>(&self, col: &str) -> Result<Option<T>> {
        self.try_get::<Option<Json<T>>, _>(col)
            .map(|j| j.map(|j| j.0))
            .map_err(|e| Error::from_sqlx(Self::BACKEND, e))
    }
}

impl DecodeRow for PgRow {
    const BACKEND: &'static str = "postgres";

    fn col<T>(&self, col: &str) -> Result<T>
    where
        T: for<'r> sqlx::Decode<'r, sqlx::Sqlite>
            + sqlx::Type<sqlx::Sqlite>
            + for<'r> sqlx::Decode<'r, sqlx::Postgres>
            + sqlx::Type<sqlx::Postgres>,
    {
        self.try_get(col)
            .map_err(|e| Error::from_sqlx(Self::BACKEND, e))
    }

    fn ts(&self, col: &str) -> Result<OffsetDateTime> {
        self.try_get(col)
            .map_err(|e| Error::from_sqlx(Self::BACKEND, e))
    }

    fn ts_opt(&self, col: &str) -> Result<Option<OffsetDateTime>> {
        self.try_get(col)
            .map_err(|e| Error::from_sqlx(Self::BACKEND, e))
    }

    fn int_opt(&self, col: &str) -> Result<Option<i64>> {
        self.try_get::<Option<i32>, _>(col)
            .map(|n| n.map(i64::from))
            .map_err(|e| Error::from_sqlx(Self::BACKEND, e))
    }

    fn json<T: DeserializeOwned>(&self, col: &str) -> Result<T> {
        self.try_get::<Json<T>, _>(col)
            .map(|j| j.0)
            .map_err(|e| Error::from_sqlx(Self::BACKEND, e))
    }

    fn json_opt<T: DeserializeOwned>(&self, col: &str) -> Result<Option<T>> {
        self.try_get::<Option<Json<T>>, _>(col)
            .map(|j| j.map(|j| j.0))
            .map_err(|e| Error::from_sqlx(Self::BACKEND, e))
    }
}

pub(crate) const TENANT_COLS: &str = "id, org_number, name, environment, issuer_url, client_id, key_kind, kid, public_jwk, scopes, enabled, validation_mode, contract_profile, created_at, updated_at";

pub(crate) fn tenant(row: &impl DecodeRow) -> Result<Tenant> {
    Ok(Tenant {
        id: TenantId(row.col("id")?),
        org_number: row.col("org_number")?,
        name: row.col("name")?,
        environment: row.parse("environment")?,
        issuer_url: row.col("issuer_url")?,
        client_id: row.col("client_id")?,
        key_kind: row.parse("key_kind")?,
        kid: row.col("kid")?,
        public_jwk: row.json_opt("public_jwk")?,
        scopes: row.json("scopes")?,
        enabled: row.col("enabled")?,
        validation_mode: row.parse("validation_mode")?,
        contract_profile: row.col("contract_profile")?,
        created_at: row.ts("created_at")?,
        updated_at: row.ts("updated_at")?,
    })
}

pub(crate) const API_KEY_COLS: &str =
    "id, tenant_id, prefix, key_hash, label, created_at, revoked_at";

pub(crate) fn api_key(row: &impl DecodeRow) -> Result<ApiKeyInfo> {
    let tenant: Option<Uuid> = row.col("tenant_id")?;
    Ok(ApiKeyInfo {
        id: ApiKeyId(row.col("id")?),
        scope: tenant.map_or(ApiKeyScope::Admin, |t| ApiKeyScope::Tenant(TenantId(t))),
        prefix: row.col("prefix")?,
        label: row.col("label")?,
        created_at: row.ts("created_at")?,
        revoked_at: row.ts_opt("revoked_at")?,
    })
}

pub(crate) const MESSAGE_COLS: &str = "id, tenant_id, api, kind, operation, body, body_sha256, document_number, document_type, carrier_id, idempotency_key, state, mrn, request_id, validation_errors, local_findings, validation_mode, created_at, updated_at";

pub(crate) fn message(row: &impl DecodeRow) -> Result<Message> {
    Ok(Message {
        id: MessageId(row.col("id")?),
        tenant_id: TenantId(row.col("tenant_id")?),
        api: row.col("api")?,
        kind: row.col("kind")?,
        operation: row.parse("operation")?,
        body: row.json("body")?,
        document_number: row.col("document_number")?,
        document_type: row.col("document_type")?,
        carrier_id: row.col("carrier_id")?,
        idempotency_key: row.col("idempotency_key")?,
        state: row.parse("state")?,
        mrn: row.col("mrn")?,
        request_id: row.col("request_id")?,
        validation_errors: row.json_opt("validation_errors")?,
        local_findings: row.json_opt("local_findings")?,
        validation_mode: row.parse("validation_mode")?,
        created_at: row.ts("created_at")?,
        updated_at: row.ts("updated_at")?,
    })
}

pub(crate) const JOB_COLS: &str = "id, tenant_id, message_id, kind, payload, state, run_at, attempts, max_attempts, lease_owner, lease_expires_at, last_error, created_at, updated_at";

pub(crate) fn job(row: &impl DecodeRow) -> Result<Job> {
    Ok(Job {
        id: JobId(row.col("id")?),
        tenant_id: TenantId(row.col("tenant_id")?),
        message_id: row.col::<Option<Uuid>>("message_id")?.map(MessageId),
        kind: row.parse("kind")?,
        payload: row.json_opt("payload")?,
        state: row.parse("state")?,
        run_at: row.ts("run_at")?,
        attempts: row.count("attempts")?,
        max_attempts: row.count("max_attempts")?,
        lease_owner: row.col("lease_owner")?,
        lease_expires_at: row.ts_opt("lease_expires_at")?,
        last_error: row.col("last_error")?,
        created_at: row.ts("created_at")?,
        updated_at: row.ts("updated_at")?,
    })
}

pub(crate) const WEBHOOK_COLS: &str = "id, tenant_id, url, events, enabled, created_at";

pub(crate) fn webhook(row: &impl DecodeRow) -> Result<Webhook> {
    Ok(Webhook {
        id: WebhookId(row.col("id")?),
        tenant_id: TenantId(row.col("tenant_id")?),
        url: row.col("url")?,
        events: row.json("events")?,
        enabled: row.col("enabled")?,
        created_at: row.ts("created_at")?,
    })
}

pub(crate) const DELIVERY_COLS: &str = "id, subscription_id, message_id, event, payload, status, attempts, last_status_code, last_response, created_at";

pub(crate) fn delivery(row: &impl DecodeRow) -> Result<WebhookDelivery> {
    Ok(WebhookDelivery {
        id: DeliveryId(row.col("id")?),
        subscription_id: WebhookId(row.col("subscription_id")?),
        message_id: row.col::<Option<Uuid>>("message_id")?.map(MessageId),
        event: row.col("event")?,
        payload: row.json("payload")?,
        status: row.parse("status")?,
        attempts: row.count("attempts")?,
        last_status_code: status_code(row, "last_status_code")?,
        last_response: row.col("last_response")?,
        created_at: row.ts("created_at")?,
    })
}

pub(crate) fn sealed_key(row: &impl DecodeRow) -> Result<crate::SealedKeyRow> {
    Ok(crate::SealedKeyRow {
        key_kind: row.parse("key_kind")?,
        kid: row.col("kid")?,
        sealed_private_key: row.col("sealed_private_key")?,
        sealed_p12: row.col("sealed_p12")?,
        sealed_p12_password: row.col("sealed_p12_password")?,
    })
}

pub(crate) fn state_change(row: &impl DecodeRow) -> Result<StateChange> {
    Ok(StateChange {
        from: row
            .col::<Option<String>>("from_state")?
            .map(|s| s.parse())
            .transpose()?,
        to: row.parse("to_state")?,
        detail: row.col("detail")?,
        at: row.ts("at")?,
    })
}

pub(crate) fn attempt<R: DecodeRow>(row: &R) -> Result<Attempt> {
    Ok(Attempt {
        attempt_no: row.count("attempt_no")?,
        job_id: row.col::<Option<i64>>("job_id")?.map(JobId),
        started_at: row.ts("started_at")?,
        finished_at: row.ts_opt("finished_at")?,
        outcome: row.col("outcome")?,
        http_status: status_code(row, "http_status")?,
        error_class: row.col("error_class")?,
        error_text: row.col("error_text")?,
    })
}

pub(crate) fn routing_signal(row: &impl DecodeRow) -> Result<RoutingSignal> {
    Ok(RoutingSignal {
        id: row.col("id")?,
        feed: row.col("feed")?,
        reference: row.col("reference")?,
        signal: row.col("signal")?,
        control_location: row.col("control_location")?,
        received_at: row.ts("received_at")?,
        raw: row.json("raw")?,
    })
}

pub(crate) fn audit_entry(row: &impl DecodeRow) -> Result<AuditEntry> {
    Ok(AuditEntry {
        id: row.col("id")?,
        tenant_id: row.col::<Option<Uuid>>("tenant_id")?.map(TenantId),
        actor: row.col("actor")?,
        action: row.col("action")?,
        detail: row.json("detail")?,
        at: row.ts("at")?,
    })
}

/// A nullable HTTP status column.
fn status_code<R: DecodeRow>(row: &R, col: &str) -> Result<Option<u16>> {
    row.int_opt(col)?
        .map(|c| {
            u16::try_from(c).map_err(|_| Error::corrupt(R::BACKEND, format!("column {col}: {c}")))
        })
        .transpose()
}
