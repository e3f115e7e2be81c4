//! The store's data types: ids, tenants, messages, jobs, signals, webhooks.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use secrecy::{SecretSlice, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::Error;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

uuid_id!(
    /// A customer organisation's id (uuid v4).
    TenantId
);
uuid_id!(
    /// A stored message's id (uuid v7, so new rows land at the end of the index).
    MessageId
);
uuid_id!(
    /// An API key's id (not the key itself).
    ApiKeyId
);
uuid_id!(
    /// A webhook subscription's id.
    WebhookId
);
uuid_id!(
    /// A webhook delivery's id.
    DeliveryId
);

/// An outbox job's id (a database sequence).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(pub i64);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Declares a text-backed enum with `as_str`/`FromStr`, as stored in the DB.
macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// The lower-case text stored in the database.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(Error::invalid(stringify!($name), format!("unknown value '{other}'"))),
                }
            }
        }
    };
}

text_enum!(
    /// Which Maskinporten/Toll environment a tenant talks to.
    Environment {
        /// Production.
        Prod = "prod",
        /// Toll's and Digdir's test environment.
        Test = "test",
        /// The digitoll simulator (needs `issuer_url`).
        Sim = "sim",
    }
);

text_enum!(
    /// How the gateway treats its own (local) validation for a tenant.
    ValidationMode {
        /// Local validation refuses what it rejects (422, nothing stored or
        /// sent). The default.
        Strict = "strict",
        /// Local findings are stored with the message and shown as warnings;
        /// the message is sent and Toll judges.
        Advisory = "advisory",
        /// No local rule checks (a body that is not JSON, or not the kind it
        /// claims, is still refused).
        Off = "off",
    }
);

// `text_enum!` derives a fixed list without `Default`, so it is written out.
#[allow(clippy::derivable_impls)]
impl Default for ValidationMode {
    fn default() -> Self {
        Self::Strict
    }
}

impl ValidationMode {
    /// Every mode, in the order they are offered.
    pub const ALL: [ValidationMode; 3] = [Self::Strict, Self::Advisory, Self::Off];
}

text_enum!(
    /// How the tenant signs Maskinporten grants.
    KeyKind {
        /// A vendor-generated key pair registered with Maskinporten; grants carry `kid`.
        Kid = "kid",
        /// The customer's business certificate (.p12); grants carry `x5c`.
        Certificate = "certificate",
    }
);

text_enum!(
    /// A message's life cycle. `accepted` and `rejected` are final.
    MessageState {
        /// Stored, not yet queued (only seen transiently).
        Received = "received",
        /// Waiting in the outbox for a worker.
        Queued = "queued",
        /// A worker is sending it to Toll (an ambiguous failure here needs reconciliation).
        Sending = "sending",
        /// Toll returned a requestId; waiting for the validation result.
        Submitted = "submitted",
        /// Toll accepted it; `mrn` is set.
        Accepted = "accepted",
        /// Toll needs more information.
        Incomplete = "incomplete",
        /// Toll rejected it; `validation_errors` is set.
        Rejected = "rejected",
        /// Sending failed; may be retried.
        Failed = "failed",
        /// Retries exhausted (dead-lettered); an operator may re-queue it.
        Dead = "dead",
    }
);

impl MessageState {
    /// Whether no further state change is allowed.
    pub fn is_final(self) -> bool {
        matches!(self, MessageState::Accepted | MessageState::Rejected)
    }
}

text_enum!(
    /// What a message asks Toll to do with the declaration.
    Operation {
        /// A new declaration.
        Create = "create",
        /// A change to an earlier declaration.
        Update = "update",
        /// A cancellation.
        Delete = "delete",
    }
);

text_enum!(
    /// An outbox job's state.
    JobState {
        /// Waiting for `run_at`.
        Ready = "ready",
        /// Claimed by `lease_owner` until `lease_expires_at`.
        Leased = "leased",
        /// Finished.
        Done = "done",
        /// Failed fatally or too often (dead-lettered).
        Dead = "dead",
        /// Cancelled by an operator.
        Cancelled = "cancelled",
    }
);

text_enum!(
    /// A webhook delivery's state.
    DeliveryStatus {
        /// Not yet delivered.
        Pending = "pending",
        /// The receiver answered 2xx.
        Delivered = "delivered",
        /// Given up.
        Failed = "failed",
    }
);

/// Key material given when creating a tenant or rotating its key.
///
/// Secrets are sealed before they reach the database and are never returned by
/// any read except [`crate::Store::tenant_key`].
#[derive(Debug)]
pub enum TenantKey {
    /// A key pair registered with Maskinporten under `kid`.
    KeyPair {
        /// The key id Maskinporten knows the public key by.
        kid: String,
        /// The private key (PKCS#8 PEM or DER, stored as given).
        private_key: SecretSlice<u8>,
        /// The public JWK, stored in clear for display and registration.
        public_jwk: Value,
    },
    /// The customer's business certificate as a PKCS#12 file.
    Certificate {
        /// The .p12/.pfx bytes.
        p12: SecretSlice<u8>,
        /// Its password.
        password: SecretString,
    },
}

/// Unsealed key material, as the Maskinporten signer needs it.
#[derive(Debug)]
pub enum TenantKeyMaterial {
    /// See [`TenantKey::KeyPair`].
    KeyPair {
        /// The key id.
        kid: String,
        /// The private key as stored.
        private_key: SecretSlice<u8>,
    },
    /// See [`TenantKey::Certificate`].
    Certificate {
        /// The .p12 bytes.
        p12: SecretSlice<u8>,
        /// Its password.
        password: SecretString,
    },
}

/// A tenant to create.
#[derive(Debug)]
pub struct NewTenant {
    /// The Norwegian organisation number (9 digits).
    pub org_number: String,
    /// Display name.
    pub name: String,
    /// The environment it talks to.
    pub environment: Environment,
    /// A custom Maskinporten issuer (required for `sim`, optional otherwise).
    pub issuer_url: Option<String>,
    /// Its Maskinporten client id.
    pub client_id: String,
    /// Its key.
    pub key: TenantKey,
    /// The Maskinporten scopes it holds.
    pub scopes: Vec<String>,
}

/// A stored tenant, without secrets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tenant {
    /// Its id.
    pub id: TenantId,
    /// Organisation number.
    pub org_number: String,
    /// Display name.
    pub name: String,
    /// Environment.
    pub environment: Environment,
    /// Custom issuer URL, if any.
    pub issuer_url: Option<String>,
    /// Maskinporten client id.
    pub client_id: String,
    /// Which kind of key it has.
    pub key_kind: KeyKind,
    /// The key id (kid mode).
    pub kid: Option<String>,
    /// The public JWK (kid mode).
    pub public_jwk: Option<Value>,
    /// Scopes.
    pub scopes: Vec<String>,
    /// Whether the gateway serves it.
    pub enabled: bool,
    /// How the gateway treats its local validation for this tenant.
    pub validation_mode: ValidationMode,
    /// The tenant's contract profile (TOML text), checked by the gateway
    /// when set; combined with the instance's profile there.
    pub contract_profile: Option<String>,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A partial update of a tenant's non-secret fields; `None` leaves a field as is.
#[derive(Debug, Default, Clone)]
pub struct TenantUpdate {
    /// New name.
    pub name: Option<String>,
    /// New client id.
    pub client_id: Option<String>,
    /// New scopes.
    pub scopes: Option<Vec<String>>,
    /// Enable or disable.
    pub enabled: Option<bool>,
    /// New issuer URL (`Some(None)` clears it).
    pub issuer_url: Option<Option<String>>,
    /// New validation mode.
    pub validation_mode: Option<ValidationMode>,
    /// New contract profile TOML (`Some(None)` clears it). The store keeps
    /// the text as given; the gateway parses it before storing.
    pub contract_profile: Option<Option<String>>,
}

/// Who an API key speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ApiKeyScope {
    /// The operator: dashboard and tenant administration.
    Admin,
    /// One tenant's integration.
    Tenant(TenantId),
}

/// A stored API key, without the key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiKeyInfo {
    /// Its id.
    pub id: ApiKeyId,
    /// Whom it speaks for.
    pub scope: ApiKeyScope,
    /// The first characters of the key (`dtk_` + 8), safe to display.
    pub prefix: String,
    /// A label the operator chose.
    pub label: String,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it was revoked, if it was.
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

/// A message to store together with its submit job.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// The owning tenant.
    pub tenant_id: TenantId,
    /// The API family: `road`, `air`, `rail`, `maritime`, ….
    pub api: String,
    /// The declaration kind: `transport`, `master`, `house`, `relation`, ….
    pub kind: String,
    /// What to do with it.
    pub operation: Operation,
    /// The declaration as JSON.
    pub body: Value,
    /// Document number (used to reconcile an ambiguous send).
    pub document_number: Option<String>,
    /// Document type.
    pub document_type: Option<String>,
    /// Carrier id.
    pub carrier_id: Option<String>,
    /// The client's `Idempotency-Key`, unique per tenant.
    pub idempotency_key: Option<String>,
    /// Findings of the gateway's local validation kept with the message
    /// (a JSON array), `None` when there were none.
    pub local_findings: Option<Value>,
    /// The tenant's validation mode when the message was accepted.
    pub validation_mode: ValidationMode,
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    /// Its id.
    pub id: MessageId,
    /// The owning tenant.
    pub tenant_id: TenantId,
    /// API family.
    pub api: String,
    /// Declaration kind.
    pub kind: String,
    /// Operation.
    pub operation: Operation,
    /// The declaration.
    pub body: Value,
    /// Document number.
    pub document_number: Option<String>,
    /// Document type.
    pub document_type: Option<String>,
    /// Carrier id.
    pub carrier_id: Option<String>,
    /// Idempotency key.
    pub idempotency_key: Option<String>,
    /// Current state.
    pub state: MessageState,
    /// The MRN once accepted.
    pub mrn: Option<String>,
    /// Toll's requestId once submitted.
    pub request_id: Option<String>,
    /// Toll's validation errors once rejected or incomplete.
    pub validation_errors: Option<Value>,
    /// The gateway's local validation findings (a JSON array), kept next
    /// to Toll's answer.
    pub local_findings: Option<Value>,
    /// The tenant's validation mode when the message was accepted.
    pub validation_mode: ValidationMode,
    /// Created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// The result of [`crate::Store::submit_message`].
#[derive(Debug, Clone, PartialEq)]
pub struct Submission {
    /// The stored message (the original one on a replay).
    pub message: Message,
    /// The submit job created with it; `None` on a replay.
    pub job: Option<JobId>,
    /// Whether an earlier message with the same idempotency key was returned.
    pub replayed: bool,
}

/// A requested state change, with what it brings. Build with
/// [`Transition::to`] and the setters.
#[derive(Debug, Clone)]
pub struct Transition {
    /// The new state.
    pub to: MessageState,
    /// Only change if the message is currently in this state (optimistic check).
    pub expected_from: Option<MessageState>,
    /// Set the requestId.
    pub request_id: Option<String>,
    /// Set the MRN.
    pub mrn: Option<String>,
    /// Set the validation errors.
    pub validation_errors: Option<Value>,
    /// Free text for the history row (no secrets).
    pub detail: Option<String>,
}

impl Transition {
    /// A change to `state` with nothing else.
    pub fn to(state: MessageState) -> Self {
        Self {
            to: state,
            expected_from: None,
            request_id: None,
            mrn: None,
            validation_errors: None,
            detail: None,
        }
    }

    /// Refuse the change (with [`Error::Conflict`]) unless the message is in `state`.
    pub fn expect_from(mut self, state: MessageState) -> Self {
        self.expected_from = Some(state);
        self
    }

    /// Record Toll's requestId.
    pub fn request_id(mut self, id: impl Into<String>) -> Self {
        self.request_id = Some(id.into());
        self
    }

    /// Record the MRN.
    pub fn mrn(mut self, mrn: impl Into<String>) -> Self {
        self.mrn = Some(mrn.into());
        self
    }

    /// Record validation errors.
    pub fn validation_errors(mut self, errors: Value) -> Self {
        self.validation_errors = Some(errors);
        self
    }

    /// Free text for the history row.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

/// One row of a message's state history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StateChange {
    /// Previous state (`None` for the first row).
    pub from: Option<MessageState>,
    /// New state.
    pub to: MessageState,
    /// Free text.
    pub detail: Option<String>,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// How one send attempt ended.
#[derive(Debug, Clone, Default)]
pub struct AttemptResult {
    /// `ok`, `retryable`, `fatal`, `ambiguous`, … (the caller's vocabulary).
    pub outcome: String,
    /// The HTTP status, if a response came.
    pub http_status: Option<u16>,
    /// The error class (`network`, `http_5xx`, `rate_limited`, `maskinporten`, …).
    pub error_class: Option<String>,
    /// The error text (no secrets).
    pub error_text: Option<String>,
}

/// One send attempt of a message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attempt {
    /// 1, 2, ….
    pub attempt_no: u32,
    /// The job that made it.
    pub job_id: Option<JobId>,
    /// Started.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// Finished (`None` while running or if the worker died).
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
    /// Outcome.
    pub outcome: Option<String>,
    /// HTTP status.
    pub http_status: Option<u16>,
    /// Error class.
    pub error_class: Option<String>,
    /// Error text.
    pub error_text: Option<String>,
}

/// Filters for [`crate::Store::messages`].
#[derive(Debug, Clone, Default)]
pub struct MessageFilter {
    /// Only this state.
    pub state: Option<MessageState>,
    /// Only this document number.
    pub document_number: Option<String>,
    /// At most this many (default 100, max 1000), newest first.
    pub limit: Option<u32>,
}

text_enum!(
    /// What an outbox job does. Stored as text (`jobs.kind`); a row with a
    /// kind not listed here is a decode error ([`Error::Database`]).
    JobKind {
        /// Send a message to Toll.
        Submit = "submit",
        /// Poll Toll for a submitted message's validation status.
        PollStatus = "poll_status",
        /// Deliver a webhook.
        WebhookDelivery = "webhook_delivery",
        /// Look a message up at Toll by document number after an ambiguous send.
        Reconcile = "reconcile",
    }
);

/// A job to enqueue on its own (submit jobs come with [`NewMessage`]).
#[derive(Debug, Clone)]
pub struct NewJob {
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// The message it works on, if any.
    pub message_id: Option<MessageId>,
    /// What it does.
    pub kind: JobKind,
    /// Extra data for the worker.
    pub payload: Option<Value>,
    /// Wait this long before it may run.
    pub delay: Option<Duration>,
    /// Override the store's default bound on attempts.
    pub max_attempts: Option<u32>,
}

/// An outbox job as stored, or as claimed (then `lease_owner` is you).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    /// Its id.
    pub id: JobId,
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// The message it works on.
    pub message_id: Option<MessageId>,
    /// Its kind.
    pub kind: JobKind,
    /// Extra data.
    pub payload: Option<Value>,
    /// State.
    pub state: JobState,
    /// Not before.
    #[serde(with = "time::serde::rfc3339")]
    pub run_at: OffsetDateTime,
    /// Claims so far (this claim included); also the fencing token.
    pub attempts: u32,
    /// Bound on claims before it is dead-lettered.
    pub max_attempts: u32,
    /// Current lease holder.
    pub lease_owner: Option<String>,
    /// Lease end.
    #[serde(with = "time::serde::rfc3339::option")]
    pub lease_expires_at: Option<OffsetDateTime>,
    /// Last failure text.
    pub last_error: Option<String>,
    /// Created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// Why a job failed, as the worker classified it.
#[derive(Debug, Clone)]
pub enum Failure {
    /// Worth retrying: network error, 5xx, 429, Maskinporten outage.
    Retryable {
        /// What happened (no secrets).
        error: String,
        /// The server's `Retry-After`, used as a lower bound on the delay.
        retry_after: Option<Duration>,
    },
    /// Retrying cannot help: validation or configuration error.
    Fatal {
        /// What happened (no secrets).
        error: String,
    },
}

/// What [`crate::Store::fail`] did with the job.
#[derive(Debug, Clone, PartialEq)]
pub enum FailOutcome {
    /// Back to `ready`, to run at `run_at` (after `delay`).
    Retrying {
        /// When it may run again.
        run_at: OffsetDateTime,
        /// The delay chosen.
        delay: Duration,
    },
    /// Moved to the dead-letter state.
    Dead,
}

/// Queue depth and lag, for the dashboard and metrics.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct QueueStats {
    /// Jobs waiting (due or not).
    pub ready: u64,
    /// Jobs waiting whose `run_at` has passed.
    pub due: u64,
    /// Jobs held by workers.
    pub leased: u64,
    /// Finished jobs not yet purged.
    pub done: u64,
    /// Dead-lettered jobs.
    pub dead: u64,
    /// Cancelled jobs.
    pub cancelled: u64,
    /// How long the oldest due job has waited past its `run_at`.
    pub oldest_due_age: Option<Duration>,
}

/// A routing signal read from Toll's feed.
#[derive(Debug, Clone)]
pub struct NewRoutingSignal {
    /// The house or transport reference it is about.
    pub reference: String,
    /// The signal (e.g. `release`, `control`).
    pub signal: String,
    /// Where to report for control, if any.
    pub control_location: Option<String>,
    /// When Toll produced it.
    pub received_at: OffsetDateTime,
    /// The entry as received.
    pub raw: Value,
}

/// A stored routing signal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoutingSignal {
    /// Row id.
    pub id: i64,
    /// Feed name.
    pub feed: String,
    /// Reference.
    pub reference: String,
    /// Signal.
    pub signal: String,
    /// Control location.
    pub control_location: Option<String>,
    /// When Toll produced it.
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// Raw entry.
    pub raw: Value,
}

/// A webhook subscription, without its secret.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Webhook {
    /// Its id.
    pub id: WebhookId,
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// Where to POST.
    pub url: String,
    /// Events it wants (e.g. `message.accepted`).
    pub events: Vec<String>,
    /// Active or not.
    pub enabled: bool,
    /// Created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// One webhook delivery.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WebhookDelivery {
    /// Its id.
    pub id: DeliveryId,
    /// Subscription.
    pub subscription_id: WebhookId,
    /// The message it is about.
    pub message_id: Option<MessageId>,
    /// Event name.
    pub event: String,
    /// Body to send.
    pub payload: Value,
    /// Status.
    pub status: DeliveryStatus,
    /// Attempts so far.
    pub attempts: u32,
    /// The receiver's last HTTP status.
    pub last_status_code: Option<u16>,
    /// The receiver's last response (truncated by the caller).
    pub last_response: Option<String>,
    /// Created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// An audit log entry to write.
#[derive(Debug, Clone)]
pub struct NewAuditEntry {
    /// The tenant concerned (`None` for operator-wide actions).
    pub tenant_id: Option<TenantId>,
    /// Who did it (API key prefix, `system`, …).
    pub actor: String,
    /// What (`tenant.create`, `api_key.revoke`, …).
    pub action: String,
    /// Details as JSON (no secrets).
    pub detail: Value,
}

/// A stored audit log entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    /// Row id.
    pub id: i64,
    /// Tenant.
    pub tenant_id: Option<TenantId>,
    /// Actor.
    pub actor: String,
    /// Action.
    pub action: String,
    /// Details.
    pub detail: Value,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}
