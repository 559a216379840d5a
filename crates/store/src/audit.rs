//! The audit log is the ledger: every event becomes a leaf (`warden_ledger::leaf_bytes`) stored with its
//! RFC 9162 leaf hash in `ledger_entries`. `record` returns the leaf index once the insert has committed,
//! which on SQLite (`synchronous = FULL`) and PostgreSQL (`synchronous_commit` on, its default) means
//! durable.
//!
//! Events are written by one task per store with group commit: every event that arrives while a
//! commit is in flight goes into the next transaction together, so a burst costs one durable commit
//! per batch instead of one per event, and each caller still hears back only after the commit that
//! holds its event.
//!
//! On a SQLite database in a file the writer is an OS thread with its own `rusqlite` connection
//! ([`sqlite_file`]); in memory and on PostgreSQL it is a task on the sqlx pool ([`spawn_writer`]).

use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::{Any, AnyPool, Transaction};
use tokio::sync::{mpsc, oneshot};
use warden_core::{AuditError, AuditEvent, AuditSink, StoreError};
use warden_ledger::{Hash, leaf_bytes, leaf_hash, parse_leaf};

use crate::columns::{self, get};
use crate::{Backend, Store, error};

mod sqlite_file;
mod sqlite_read;

pub(crate) use sqlite_file::{SqliteFile, spawn_file_writer, sqlite_file};

/// Most events in one transaction: bounds how long the first waiter of a batch waits for the rest.
const MAX_BATCH: usize = 256;
/// Events waiting for the writer before `record` callers wait for room (back-pressure).
const QUEUE: usize = 4096;
/// Rows per INSERT statement (four parameters each, well under both databases' limits).
const ROWS_PER_INSERT: usize = 128;
/// The PostgreSQL advisory lock key that serializes appends across replicas ("wardenlg").
pub(crate) const LEDGER_APPEND_LOCK: i64 = 0x7761_7264_656e_6c67;

/// An event on its way to the writer, and where its id (or the failure) goes.
#[derive(Debug)]
pub(crate) struct Pending {
    event: AuditEvent,
    done: oneshot::Sender<Result<u64, String>>,
}

/// Starts the writer task for `pool`; it ends when every sender is gone.
pub(crate) fn spawn_writer(pool: AnyPool, backend: Backend) -> mpsc::Sender<Pending> {
    let (sender, mut queue) = mpsc::channel::<Pending>(QUEUE);
    tokio::spawn(async move {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
            let result = write_batch(&pool, backend, &batch).await;
            answer(&mut batch, result);
        }
    });
    sender
}

/// Tells every caller of the batch its leaf index, or why the batch was not written; empties `batch`.
fn answer(batch: &mut Vec<Pending>, result: Result<Vec<u64>, String>) {
    match result {
        Ok(ids) => {
            for (pending, id) in batch.drain(..).zip(ids) {
                let _ = pending.done.send(Ok(id));
            }
        }
        Err(reason) => {
            for pending in batch.drain(..) {
                let _ = pending.done.send(Err(reason.clone()));
            }
        }
    }
}

/// Appends the batch to the ledger in one transaction; every leaf index, or why none was written.
///
/// Indices are dense from 0: the next one is read under the write lock (SQLite's `BEGIN IMMEDIATE`, a
/// transaction-scoped advisory lock on PostgreSQL, where several replicas append to one log), so a
/// batch that rolls back leaves no gap and the order of indices is the order of commits.
async fn write_batch(pool: &AnyPool, backend: Backend, batch: &[Pending]) -> Result<Vec<u64>, String> {
    let fail = |e: sqlx::Error| error::map("record audit event", e).to_string();
    let begin = match backend {
        Backend::Sqlite => "BEGIN IMMEDIATE",
        Backend::Postgres => "BEGIN",
    };
    let mut transaction: Transaction<'static, Any> = pool.begin_with(begin).await.map_err(fail)?;
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(LEDGER_APPEND_LOCK)
            .execute(&mut *transaction)
            .await
            .map_err(fail)?;
    }
    let next: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(idx) + 1, 0) FROM ledger_entries")
        .fetch_one(&mut *transaction)
        .await
        .map_err(fail)?;
    let first = columns::count(next, "the ledger size").map_err(|e| e.to_string())?;
    let indices: Vec<u64> = (first..).take(batch.len()).collect();
    let leaves: Vec<(i64, Vec<u8>, Hash)> = batch
        .iter()
        .zip(&indices)
        .map(|(pending, &index)| {
            let leaf = leaf_bytes(index, &pending.event);
            let hash = leaf_hash(&leaf);
            (pending.event.timestamp.unix(), leaf, hash)
        })
        .collect();
    // One multi-row INSERT per chunk: a statement per event costs more than the fsync being shared.
    for (chunk_number, chunk) in leaves.chunks(ROWS_PER_INSERT).enumerate() {
        let placeholders: Vec<String> = (0..chunk.len())
            .map(|row| {
                let n = row * 4;
                format!("(${}, ${}, ${}, ${})", n + 1, n + 2, n + 3, n + 4)
            })
            .collect();
        let sql = format!(
            "INSERT INTO ledger_entries (idx, timestamp, leaf, leaf_hash) VALUES {}",
            placeholders.join(", ")
        );
        // Only placeholders are formatted into the statement; every value is bound.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (offset, (timestamp, leaf, hash)) in chunk.iter().enumerate() {
            let index = next + i64::try_from(chunk_number * ROWS_PER_INSERT + offset).unwrap_or(i64::MAX);
            query = query
                .bind(index)
                .bind(*timestamp)
                .bind(leaf.as_slice())
                .bind(hash.as_slice());
        }
        query.execute(&mut *transaction).await.map_err(fail)?;
    }
    transaction.commit().await.map_err(fail)?;
    Ok(indices)
}

#[async_trait]
impl AuditSink for Store {
    async fn record(&self, event: AuditEvent) -> Result<u64, AuditError> {
        let stopped = || AuditError::Unavailable("the audit writer has stopped".into());
        let (done, answer) = oneshot::channel();
        self.audit.send(Pending { event, done }).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?.map_err(AuditError::Unavailable)
    }
}

impl Store {
    /// Audit events from leaf index `start` on, oldest first, at most `limit` of them. Events whose
    /// payload retention has dropped are skipped (their leaf hashes stay in the ledger).
    pub async fn audit_events(&self, start: u64, limit: u32) -> Result<Vec<(u64, AuditEvent)>, StoreError> {
        let rows = sqlx::query(
            "SELECT idx, leaf FROM ledger_entries WHERE idx >= $1 AND leaf IS NOT NULL ORDER BY idx LIMIT $2",
        )
        .bind(i64::try_from(start).unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(error::during("read audit events"))?;
        rows.iter().map(event_from_row).collect()
    }

    /// How many audit events the ledger holds (its tree size).
    pub async fn audit_count(&self) -> Result<u64, StoreError> {
        self.ledger_size().await
    }
}

fn event_from_row(row: &AnyRow) -> Result<(u64, AuditEvent), StoreError> {
    let index = columns::count(get(row, "idx")?, "a ledger index")?;
    let leaf: Vec<u8> = get(row, "leaf")?;
    let (stated, event) = parse_leaf(&leaf).map_err(|e| StoreError::Corrupt(format!("ledger entry {index}: {e}")))?;
    if stated != index {
        return Err(StoreError::Corrupt(format!(
            "ledger entry {index} names index {stated}"
        )));
    }
    Ok((index, event))
}
