//! The audit writer for a SQLite database in a file: a dedicated OS thread with its own `rusqlite`
//! connection to the same file.
//!
//! sqlx's `Any` driver costs more per batch and per row than the durable commit itself (every
//! statement crosses to a worker thread and back, every row is converted twice). This writer does
//! the same group commit directly: block for the first event, take whatever else is waiting (up to
//! [`MAX_BATCH`]), `BEGIN IMMEDIATE`, read the next index under the write lock, one cached prepared
//! INSERT per row, `COMMIT`, then answer every caller of the batch.
//!
//! INVARIANT: a caller hears `Ok(index)` only after the `COMMIT` holding its leaf has returned, with
//! `synchronous = FULL` (the pool's pragmas, [`SQLITE_PRAGMAS`]), so an acknowledged event is durable.
//! A failed batch rolls back whole and every caller in it hears why; the indices stay dense because
//! the next one is read inside the transaction that takes the write lock.
//!
//! In-memory databases (one connection for the whole pool) and PostgreSQL keep the sqlx writer.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior, params};
use tokio::sync::mpsc;
use warden_ledger::{leaf_bytes, leaf_hash};

use super::{MAX_BATCH, Pending, QUEUE, answer};
use crate::columns;
use crate::connect::SQLITE_PRAGMAS;

/// How long `BEGIN IMMEDIATE` waits for the pool's writers to release the write lock. The pool's
/// connections wait as long for this one (`PRAGMA busy_timeout` in [`SQLITE_PRAGMAS`]).
pub(super) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const NEXT_INDEX: &str = "SELECT COALESCE(MAX(idx) + 1, 0) FROM ledger_entries";
const INSERT: &str = "INSERT INTO ledger_entries (idx, timestamp, leaf, leaf_hash) VALUES (?1, ?2, ?3, ?4)";

/// Where the writer's connection goes, and whether the store was opened read only (`mode=ro`), in
/// which case this connection is read only too and every append fails as it would through the pool.
/// The connection lives here rather than on the writer thread so that [`SqliteFile::close`] can close
/// it: SQLite folds the write-ahead log back into the database only when its last connection closes.
#[derive(Debug)]
pub(crate) struct SqliteFile {
    pub(crate) path: PathBuf,
    pub(crate) read_only: bool,
    /// Opened on the first event; held (locked) by the writer for the whole of each batch.
    connection: Mutex<Option<Connection>>,
    closed: AtomicBool,
}

impl SqliteFile {
    /// Closes the writer's connection once the batch in progress (if any) is answered; appends after
    /// this fail. Called by `Store::close` before the pool closes.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        let mut connection = self.connection.lock().unwrap_or_else(|p| p.into_inner());
        drop(connection.take());
    }
}

/// Starts the writer thread for the database file; it ends when every sender is gone. If the thread
/// cannot start, or stops, the queue closes and `record` answers that the writer has stopped: callers
/// get an error, never a hang.
pub(crate) fn spawn_file_writer(file: Arc<SqliteFile>) -> mpsc::Sender<Pending> {
    let (sender, queue) = mpsc::channel::<Pending>(QUEUE);
    let spawned = std::thread::Builder::new()
        .name("warden-audit-writer".into())
        .spawn(move || run(&file, queue));
    if let Err(e) = spawned {
        // The closure, and with it the receiver, is gone: every `record` fails.
        tracing::error!(error = %e, "the audit writer thread could not start");
    }
    sender
}

fn run(file: &SqliteFile, mut queue: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = queue.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(pending) => batch.push(pending),
                Err(_) => break,
            }
        }
        let result = write(file, &batch);
        answer(&mut batch, result);
    }
}

/// The connection is opened on the first event, so a store that only reads (`warden ledger verify
/// --data-dir`) never holds a writing connection; it is dropped after a failure and opened again for
/// the next batch.
fn write(file: &SqliteFile, batch: &[Pending]) -> Result<Vec<u64>, String> {
    let mut connection = file.connection.lock().unwrap_or_else(|p| p.into_inner());
    if file.closed.load(Ordering::SeqCst) {
        return Err("record audit event: the store is closed".into());
    }
    let mut conn = match connection.take() {
        Some(conn) => conn,
        None => open(file).map_err(|e| describe("open the audit writer's connection", &e))?,
    };
    let result = append(&mut conn, batch);
    // Whatever failed (a trigger, a full disk, a lock held too long), the next batch starts on a fresh
    // connection rather than on one in an unknown state.
    if result.is_ok() {
        *connection = Some(conn);
    }
    result
}

fn open(file: &SqliteFile) -> Result<Connection, rusqlite::Error> {
    let access = if file.read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
    };
    let conn = Connection::open_with_flags(&file.path, access | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    for pragma in SQLITE_PRAGMAS {
        conn.execute_batch(pragma)?;
    }
    Ok(conn)
}

/// Appends the batch in one transaction; every leaf index, or why none was written.
fn append(conn: &mut Connection, batch: &[Pending]) -> Result<Vec<u64>, String> {
    let fail = |e: rusqlite::Error| describe("record audit event", &e);
    // Dropping the transaction without committing rolls it back.
    let transaction = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(fail)?;
    let next: i64 = transaction.query_row(NEXT_INDEX, [], |row| row.get(0)).map_err(fail)?;
    let first = columns::count(next, "the ledger size").map_err(|e| e.to_string())?;
    let mut indices = Vec::with_capacity(batch.len());
    {
        let mut insert = transaction.prepare_cached(INSERT).map_err(fail)?;
        for (index, pending) in (first..).zip(batch) {
            let leaf = leaf_bytes(index, &pending.event);
            let hash = leaf_hash(&leaf);
            let stored =
                i64::try_from(index).map_err(|_| format!("record audit event: leaf index {index} too large"))?;
            insert
                .execute(params![stored, pending.event.timestamp.unix(), leaf, hash.as_slice()])
                .map_err(fail)?;
            indices.push(index);
        }
    }
    transaction.commit().map_err(fail)?;
    Ok(indices)
}

/// The failure as callers hear it. SQLite's own messages name tables, columns and conditions (or a
/// trigger's `RAISE` text), never bound values; other errors are described without their payload.
pub(super) fn describe(operation: &str, error: &rusqlite::Error) -> String {
    match error {
        rusqlite::Error::SqliteFailure(code, Some(message)) => {
            format!("{operation}: database error {}: {message}", code.extended_code)
        }
        rusqlite::Error::SqliteFailure(code, None) => format!("{operation}: database error: {code}"),
        _ => format!("{operation}: the database connection failed"),
    }
}

/// The file a `sqlite:` URL names, as sqlx reads it (`sqlite://PATH?mode=rwc`, `sqlite:PATH`).
pub(crate) fn sqlite_file(url: &str) -> Result<SqliteFile, sqlx::Error> {
    use std::str::FromStr;
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)?;
    let query = url.split_once('?').map_or("", |(_, query)| query);
    let read_only = query.split('&').any(|pair| pair == "mode=ro");
    Ok(SqliteFile {
        path: options.get_filename().to_path_buf(),
        read_only,
        connection: Mutex::new(None),
        closed: AtomicBool::new(false),
    })
}

#[cfg(test)]
mod tests;
