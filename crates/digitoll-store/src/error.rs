//! The store's one error type.

use crate::types::JobId;

/// Everything a store operation can fail with.
///
/// Messages name the table, column or row that is wrong and never carry
/// secrets: sealed values, API keys and master keys are not formatted into
/// errors anywhere in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The row does not exist, or it belongs to another tenant (the two are
    /// indistinguishable on purpose, so a tenant cannot probe for others' ids).
    #[error("{what} not found")]
    NotFound {
        /// What was looked up, e.g. `"message 0192…"`.
        what: String,
    },
    /// A uniqueness rule or a state rule refused the write: an idempotency key
    /// reused with a different body, a duplicate, a forbidden state change, or
    /// a row still referenced by others.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The job's lease is no longer held by this worker: it expired and was
    /// reclaimed, or the job was already completed, failed or cancelled.
    /// The caller must drop its result; the new owner will do the work.
    #[error("lease lost on job {job}: it was reclaimed by another worker or is no longer leased")]
    LeaseLost {
        /// The job whose completion was refused.
        job: JobId,
    },
    /// Sealing or unsealing a secret failed (wrong master key, ciphertext moved
    /// to another tenant or column, corrupted value, or no master key given).
    #[error("crypto: {0}")]
    Crypto(String),
    /// The caller passed something the store cannot accept.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The field or argument at fault.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The database failed; the text is the backend's own message.
    #[error("database ({backend}): {message}")]
    Database {
        /// `sqlite` or `postgres`.
        backend: &'static str,
        /// The backend's message (bind values are never included by sqlx).
        message: String,
    },
    /// Running the embedded migrations failed at start.
    #[error("migrations ({backend}): {message}")]
    Migration {
        /// `sqlite` or `postgres`.
        backend: &'static str,
        /// What went wrong.
        message: String,
    },
}

/// Shorthand used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn not_found(what: impl Into<String>) -> Self {
        Error::NotFound { what: what.into() }
    }

    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Error::Invalid {
            field,
            reason: reason.into(),
        }
    }

    /// Maps a sqlx error: unique and foreign-key violations become
    /// [`Error::Conflict`] (naming the constraint), the rest [`Error::Database`].
    pub(crate) fn from_sqlx(backend: &'static str, err: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &err {
            use sqlx::error::ErrorKind;
            let constraint = db.constraint().unwrap_or("").to_owned();
            match db.kind() {
                ErrorKind::UniqueViolation => {
                    return Error::Conflict(format!(
                        "unique constraint {constraint} violated: {}",
                        db.message()
                    ));
                }
                ErrorKind::ForeignKeyViolation => {
                    return Error::Conflict(format!(
                        "row is referenced by or refers to another row ({constraint}): {}",
                        db.message()
                    ));
                }
                _ => {}
            }
        }
        Error::Database {
            backend,
            message: err.to_string(),
        }
    }

    pub(crate) fn corrupt(backend: &'static str, what: impl std::fmt::Display) -> Self {
        Error::Database {
            backend,
            message: format!("unexpected stored value: {what}"),
        }
    }
}
