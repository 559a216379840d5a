//! The audit log: an append-only table. `record` returns once the insert has committed, which on
//! SQLite (`synchronous = FULL`) and PostgreSQL (`synchronous_commit` on, its default) means durable.

use async_trait::async_trait;
use sqlx::any::AnyRow;
use warden_core::{AuditError, AuditEvent, AuditOutcome, AuditSink, StoreError};

use crate::columns::{self, get, json_value, timestamp};
use crate::{Store, error};

#[async_trait]
impl AuditSink for Store {
    async fn record(&self, event: AuditEvent) -> Result<u64, AuditError> {
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
        .fetch_one(&self.pool)
        .await
        .map_err(|e| AuditError::Unavailable(error::map("record audit event", e).to_string()))?;
        columns::count(id, "the audit event id").map_err(|e| AuditError::Unavailable(e.to_string()))
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
