//! Reading the whole ledger back, for full verification: on a SQLite database in a file, large pages
//! through a `rusqlite` connection of their own on a blocking thread, so a million entries do not pay
//! the pool driver's per-row cost; elsewhere, [`Store::ledger_entries`].

use std::sync::Arc;

use rusqlite::{Connection, OpenFlags};
use warden_core::{StoreError, Timestamp};

use super::sqlite_file::SqliteFile;
use crate::{LedgerEntry, Store, columns};

const ENTRIES: &str =
    "SELECT idx, timestamp, leaf, leaf_hash FROM ledger_entries WHERE idx >= ?1 AND idx < ?2 ORDER BY idx";

impl Store {
    /// The ledger entries with `start <= index < end`, oldest first, exactly as
    /// [`Store::ledger_entries`] returns them; meant for reading the whole log in large pages.
    pub async fn ledger_entries_bulk(&self, start: u64, end: u64) -> Result<Vec<LedgerEntry>, StoreError> {
        let Some(file) = self.sqlite_file.clone() else {
            return self.ledger_entries(start, end).await;
        };
        tokio::task::spawn_blocking(move || read(&file, start, end))
            .await
            .map_err(|_| StoreError::Unavailable("read ledger entries: the reading thread failed".into()))?
    }
}

fn read(file: &Arc<SqliteFile>, start: u64, end: u64) -> Result<Vec<LedgerEntry>, StoreError> {
    let fail = |e: rusqlite::Error| StoreError::Unavailable(super::sqlite_file::describe("read ledger entries", &e));
    // Read-write like the pool (a WAL reader may need to set up the shared-memory index), unless the
    // store was opened read only; this connection only ever runs the SELECT below.
    let access = if file.read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
    };
    let conn = Connection::open_with_flags(&file.path, access | OpenFlags::SQLITE_OPEN_NO_MUTEX).map_err(fail)?;
    conn.busy_timeout(super::sqlite_file::BUSY_TIMEOUT).map_err(fail)?;
    let bound = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let mut statement = conn.prepare(ENTRIES).map_err(fail)?;
    let mut rows = statement.query([bound(start), bound(end)]).map_err(fail)?;
    let capacity = usize::try_from(end.saturating_sub(start).min(1 << 16)).unwrap_or(0);
    let mut entries = Vec::with_capacity(capacity);
    while let Some(row) = rows.next().map_err(fail)? {
        let index: i64 = row.get(0).map_err(|_| corrupt("idx", "is not an integer"))?;
        let timestamp: i64 = row.get(1).map_err(|_| corrupt("timestamp", "is not an integer"))?;
        let leaf: Option<Vec<u8>> = row.get(2).map_err(|_| corrupt("leaf", "is not a blob"))?;
        let leaf_hash = row
            .get_ref(3)
            .ok()
            .and_then(|value| value.as_blob().ok())
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .ok_or_else(|| corrupt("leaf_hash", "is not 32 bytes long"))?;
        entries.push(LedgerEntry {
            index: columns::count(index, "a ledger index")?,
            timestamp: Timestamp::from_unix(timestamp),
            leaf,
            leaf_hash,
        });
    }
    Ok(entries)
}

fn corrupt(column: &str, what: &str) -> StoreError {
    StoreError::Corrupt(format!("read ledger entries: column `{column}` {what}"))
}
