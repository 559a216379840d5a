//! How sqlx failures become [`StoreError`]s.
//!
//! INVARIANT: no message built here contains a bound parameter or a stored value (they may be
//! password hashes or key material). Driver messages are used only where they name tables,
//! constraints and conditions, never values: PostgreSQL keeps row values in its `DETAIL` field, which
//! is never read, and decoding errors are reported by column name alone.

use sqlx::error::ErrorKind;
use warden_core::StoreError;

/// Maps a failed database call made while doing `operation` (a fixed phrase such as `insert agent`).
pub(crate) fn map(operation: &'static str, error: sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::Database(db) => match db.kind() {
            ErrorKind::UniqueViolation => {
                StoreError::Conflict(format!("{operation}: already exists ({})", db.message()))
            }
            ErrorKind::ForeignKeyViolation => StoreError::Conflict(format!(
                "{operation}: refers to a record that does not exist ({})",
                db.message()
            )),
            _ => {
                let code = db.code().map(|code| format!(" {code}")).unwrap_or_default();
                StoreError::Unavailable(format!("{operation}: database error{code}: {}", db.message()))
            }
        },
        sqlx::Error::ColumnDecode { index, .. } => {
            StoreError::Corrupt(format!("{operation}: column `{index}` could not be decoded"))
        }
        sqlx::Error::ColumnNotFound(column) => {
            StoreError::Corrupt(format!("{operation}: column `{column}` is missing"))
        }
        sqlx::Error::Decode(_) | sqlx::Error::TypeNotFound { .. } | sqlx::Error::ColumnIndexOutOfBounds { .. } => {
            StoreError::Corrupt(format!("{operation}: a stored value could not be decoded"))
        }
        sqlx::Error::Encode(_) | sqlx::Error::AnyDriverError(_) => {
            StoreError::Unavailable(format!("{operation}: a parameter could not be passed to the database"))
        }
        sqlx::Error::PoolTimedOut => {
            StoreError::Unavailable(format!("{operation}: no database connection became available in time"))
        }
        // Transport failures (I/O, TLS, protocol, a closed pool, a bad URL): their messages describe
        // the connection, not the data.
        other => StoreError::Unavailable(format!("{operation}: {other}")),
    }
}

/// A closure for `map_err` that maps failures of `operation`.
pub(crate) fn during(operation: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |error| map(operation, error)
}
