//! Reading portable column values back into domain values, and writing domain values as portable
//! columns: BIGINT Unix seconds, TEXT (JSON for lists and maps), BLOB/BYTEA.
//!
//! Anything that does not read back into a valid value is [`StoreError::Corrupt`], named by column
//! and never by its content.

use serde_json::{Map, Value};
use sqlx::any::{Any, AnyRow};
use sqlx::{Decode, Row, Type};
use warden_core::{StoreError, Timestamp};

fn corrupt(column: &str, what: &str) -> StoreError {
    StoreError::Corrupt(format!("column `{column}` {what}"))
}

/// One column of a row, decoded as-is.
pub(crate) fn get<'r, T>(row: &'r AnyRow, column: &'static str) -> Result<T, StoreError>
where
    T: Decode<'r, Any> + Type<Any>,
{
    row.try_get(column).map_err(|_| corrupt(column, "could not be decoded"))
}

pub(crate) fn timestamp(row: &AnyRow, column: &'static str) -> Result<Timestamp, StoreError> {
    get::<i64>(row, column).map(Timestamp::from_unix)
}

pub(crate) fn optional_timestamp(row: &AnyRow, column: &'static str) -> Result<Option<Timestamp>, StoreError> {
    Ok(get::<Option<i64>>(row, column)?.map(Timestamp::from_unix))
}

pub(crate) fn unix(at: Option<Timestamp>) -> Option<i64> {
    at.map(Timestamp::unix)
}

/// A JSON array of strings, as roles, scopes and password history are stored.
pub(crate) fn string_list(row: &AnyRow, column: &'static str) -> Result<Vec<String>, StoreError> {
    let text: String = get(row, column)?;
    serde_json::from_str(&text).map_err(|_| corrupt(column, "is not a JSON array of strings"))
}

/// A JSON object, as agent attributes are stored.
pub(crate) fn json_object(row: &AnyRow, column: &'static str) -> Result<Map<String, Value>, StoreError> {
    let text: String = get(row, column)?;
    serde_json::from_str(&text).map_err(|_| corrupt(column, "is not a JSON object"))
}

/// Any JSON value, as audit details are stored.
pub(crate) fn json_value(row: &AnyRow, column: &'static str) -> Result<Value, StoreError> {
    let text: String = get(row, column)?;
    serde_json::from_str(&text).map_err(|_| corrupt(column, "is not JSON"))
}

/// A SHA-256 digest.
pub(crate) fn hash32(row: &AnyRow, column: &'static str) -> Result<[u8; 32], StoreError> {
    let bytes: Vec<u8> = get(row, column)?;
    <[u8; 32]>::try_from(bytes).map_err(|_| corrupt(column, "is not 32 bytes long"))
}

pub(crate) fn list_text(items: &[String]) -> String {
    Value::from(items.to_vec()).to_string()
}

pub(crate) fn object_text(map: &Map<String, Value>) -> String {
    Value::Object(map.clone()).to_string()
}

/// A row count or counter from the database, which never goes negative.
pub(crate) fn count(value: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("{what} is negative")))
}

/// Rows a statement touched, as the `u64` the traits report.
pub(crate) fn affected(result: &sqlx::any::AnyQueryResult) -> u64 {
    result.rows_affected()
}
