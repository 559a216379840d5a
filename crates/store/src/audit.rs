//! The audit log: an append-only table. `record` returns once the insert has committed, which on
//! SQLite (`synchronous = FULL`) and PostgreSQL (`synchronous_commit` on, its default) means durable.
//!
//! Events are written by one task per store with group commit: every event that arrives while a
//! commit is in flight goes into the next transaction together, so a burst costs one durable commit
//! per batch instead of one per event, and each caller still hears back only after the commit that
//! holds its event.

use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::{Any, AnyPool, Transaction};
use tokio::sync::{mpsc, oneshot};
use warden_core::{AuditError, AuditEvent, AuditOutcome, AuditSink, StoreError};

use crate::columns::{self, get, json_value, timestamp};
use crate::{Backend, Store, error};

/// Most events in one transaction: bounds how long the first waiter of a batch waits for the rest.
const MAX_BATCH: usize = 256;
/// Events waiting for the writer before `record` callers wait for room (back-pressure).
const QUEUE: usize = 4096;

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
            match write_batch(&pool, backend, &batch).await {
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
    });
    sender
}

/// Inserts the batch in one transaction; every id, or why none was written.
async fn write_batch(pool: &AnyPool, backend: Backend, batch: &[Pending]) -> Result<Vec<u64>, String> {
    let fail = |e: sqlx::Error| error::map("record audit event", e).to_string();
    let begin = match backend {
        Backend::Sqlite => "BEGIN IMMEDIATE",
        Backend::Postgres => "BEGIN",
    };
    let mut transaction: Transaction<'static, Any> = pool.begin_with(begin).await.map_err(fail)?;
    let mut ids = Vec::with_capacity(batch.len());
    for pending in batch {
        let event = &pending.event;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO audit_events (timestamp, kind, actor, action, resource, outcome, details, \
             request_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(event.timestamp.unix())
        .bind(event.kind.as_str())
        .bind(event.actor.as_str())
        .bind(event.action.as_str())
        .bind(event.resource.as_str())
        .bind(event.outcome.as_str())
        .bind(event.details.to_string())
        .bind(event.request_id.as_deref())
        .fetch_one(&mut *transaction)
        .await
        .map_err(fail)?;
        ids.push(columns::count(id, "the audit event id").map_err(|e| e.to_string())?);
    }
    transaction.commit().await.map_err(fail)?;
    Ok(ids)
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
    /// Audit events with an id above `after_id`, oldest first, at most `limit` of them.
    ///
    /// On PostgreSQL ids are handed out when an insert starts, so an event may become visible after
    /// one with a higher id: a reader following the log by `after_id` should re-read a short window.
    pub async fn audit_events(&self, after_id: i64, limit: u32) -> Result<Vec<(i64, AuditEvent)>, StoreError> {
        let rows = sqlx::query("SELECT * FROM audit_events WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(after_id)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(error::during("read audit events"))?;
        rows.iter()
            .map(|row| Ok((get(row, "id")?, event_from_row(row)?)))
            .collect()
    }

    /// How many audit events are stored.
    pub async fn audit_count(&self) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_events")
            .fetch_one(&self.pool)
            .await
            .map_err(error::during("count audit events"))?;
        columns::count(count, "the audit event count")
    }
}

fn event_from_row(row: &AnyRow) -> Result<AuditEvent, StoreError> {
    let outcome: String = get(row, "outcome")?;
    Ok(AuditEvent {
        timestamp: timestamp(row, "timestamp")?,
        kind: get(row, "kind")?,
        actor: get(row, "actor")?,
        action: get(row, "action")?,
        resource: get(row, "resource")?,
        outcome: parse_outcome(&outcome)?,
        details: json_value(row, "details")?,
        request_id: get(row, "request_id")?,
    })
}

fn parse_outcome(text: &str) -> Result<AuditOutcome, StoreError> {
    [AuditOutcome::Success, AuditOutcome::Failure, AuditOutcome::Denied]
        .into_iter()
        .find(|outcome| outcome.as_str() == text)
        .ok_or_else(|| StoreError::Corrupt("column `outcome` is not a known audit outcome".into()))
}
