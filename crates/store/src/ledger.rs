//! The ledger's other tables: leaf hashes and entries read back for the tree and its proofs, signed
//! checkpoints with their anchors and witness cosignatures, the sealed ledger keys, retention, and the
//! one-time move of audit events written before the ledger existed. Appends live in [`crate::audit`].

use sqlx::any::AnyRow;
use warden_core::{AuditEvent, AuditOutcome, StoreError, Timestamp};
use warden_ledger::{Hash, leaf_bytes, leaf_hash};

use crate::audit::LEDGER_APPEND_LOCK;
use crate::columns::{self, get, hash32, json_value, timestamp};
use crate::{Backend, Store, error};

/// One leaf as stored: its position, when its event happened, the exact bytes that were hashed (gone
/// once retention dropped them) and its RFC 9162 leaf hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    pub index: u64,
    pub timestamp: Timestamp,
    pub leaf: Option<Vec<u8>>,
    pub leaf_hash: Hash,
}

/// A signed tree head as stored, with what has been learned about it since it was signed.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckpointRecord {
    pub size: u64,
    pub root_hash: Hash,
    /// The C2SP signed note, exactly as published.
    pub note: String,
    pub created_at: Timestamp,
    /// Where the root was anchored (JSON), once it was.
    pub anchor: Option<serde_json::Value>,
    /// Witness signature lines over this checkpoint.
    pub cosignatures: Vec<String>,
}

/// The ledger's keys, sealed under the master key, and the verifier key they publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerKeysRecord {
    pub sealed_keys: Vec<u8>,
    pub verifier_key: String,
    pub created_at: Timestamp,
}

fn db_index(index: u64) -> i64 {
    i64::try_from(index).unwrap_or(i64::MAX)
}

impl Store {
    /// How many leaves the ledger holds.
    pub async fn ledger_size(&self) -> Result<u64, StoreError> {
        let next: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(idx) + 1, 0) FROM ledger_entries")
            .fetch_one(&self.pool)
            .await
            .map_err(error::during("read the ledger size"))?;
        columns::count(next, "the ledger size")
    }

    /// Leaf hashes from index `start`, in order, at most `limit`. A gap in the indices (a deleted row) is
    /// reported as corruption rather than closed up, so the tree is never built over a hole.
    pub async fn ledger_leaf_hashes(&self, start: u64, limit: u32) -> Result<Vec<Hash>, StoreError> {
        let rows = sqlx::query("SELECT idx, leaf_hash FROM ledger_entries WHERE idx >= $1 ORDER BY idx LIMIT $2")
            .bind(db_index(start))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(error::during("read ledger leaf hashes"))?;
        let mut hashes = Vec::with_capacity(rows.len());
        for (offset, row) in rows.iter().enumerate() {
            let index: i64 = get(row, "idx")?;
            let expected = start + offset as u64;
            if columns::count(index, "a ledger index")? != expected {
                return Err(StoreError::Corrupt(format!("ledger entry {expected} is missing")));
            }
            hashes.push(hash32(row, "leaf_hash")?);
        }
        Ok(hashes)
    }

    /// Entries with `start <= index < end`, in order (at most `end - start`, which callers bound).
    pub async fn ledger_entries(&self, start: u64, end: u64) -> Result<Vec<LedgerEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT idx, timestamp, leaf, leaf_hash FROM ledger_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
        )
        .bind(db_index(start))
        .bind(db_index(end))
        .fetch_all(&self.pool)
        .await
        .map_err(error::during("read ledger entries"))?;
        rows.iter().map(entry_from_row).collect()
    }

    /// Stores a checkpoint unless one of that size is already stored (replicas may sign the same size);
    /// whether this one was stored.
    pub async fn insert_checkpoint(&self, record: &CheckpointRecord) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "INSERT INTO ledger_checkpoints (size, root_hash, note, created_at, anchor, cosignatures) \
             VALUES ($1, $2, $3, $4, NULL, '[]') ON CONFLICT (size) DO NOTHING",
        )
        .bind(db_index(record.size))
        .bind(record.root_hash.as_slice())
        .bind(record.note.as_str())
        .bind(record.created_at.unix())
        .execute(&self.pool)
        .await
        .map_err(error::during("store a checkpoint"))?;
        Ok(columns::affected(&result) == 1)
    }

    /// The checkpoint of the largest size, if any.
    pub async fn latest_checkpoint(&self) -> Result<Option<CheckpointRecord>, StoreError> {
        let row = sqlx::query("SELECT * FROM ledger_checkpoints ORDER BY size DESC LIMIT 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(error::during("read the latest checkpoint"))?;
        row.as_ref().map(checkpoint_from_row).transpose()
    }

    /// Checkpoints with a size above `after_size`, smallest first, at most `limit`.
    pub async fn checkpoints(&self, after_size: Option<u64>, limit: u32) -> Result<Vec<CheckpointRecord>, StoreError> {
        let rows = sqlx::query("SELECT * FROM ledger_checkpoints WHERE size > $1 ORDER BY size LIMIT $2")
            .bind(after_size.map_or(-1, db_index))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(error::during("read checkpoints"))?;
        rows.iter().map(checkpoint_from_row).collect()
    }

    /// The newest checkpoint that has not been anchored yet.
    pub async fn latest_unanchored_checkpoint(&self) -> Result<Option<CheckpointRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT * FROM ledger_checkpoints WHERE anchor IS NULL AND size > 0 ORDER BY size DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(error::during("read checkpoints"))?;
        row.as_ref().map(checkpoint_from_row).transpose()
    }

    /// Records where a checkpoint's root was anchored.
    pub async fn set_checkpoint_anchor(&self, size: u64, anchor: &serde_json::Value) -> Result<(), StoreError> {
        sqlx::query("UPDATE ledger_checkpoints SET anchor = $2 WHERE size = $1")
            .bind(db_index(size))
            .bind(anchor.to_string())
            .execute(&self.pool)
            .await
            .map_err(error::during("record a checkpoint anchor"))?;
        Ok(())
    }

    /// Replaces the witness cosignatures stored with a checkpoint.
    pub async fn set_checkpoint_cosignatures(&self, size: u64, lines: &[String]) -> Result<(), StoreError> {
        sqlx::query("UPDATE ledger_checkpoints SET cosignatures = $2 WHERE size = $1")
            .bind(db_index(size))
            .bind(columns::list_text(lines))
            .execute(&self.pool)
            .await
            .map_err(error::during("record witness cosignatures"))?;
        Ok(())
    }

    pub async fn ledger_keys(&self) -> Result<Option<LedgerKeysRecord>, StoreError> {
        let row = sqlx::query("SELECT * FROM ledger_keys WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(error::during("read the ledger keys"))?;
        row.as_ref()
            .map(|row| {
                Ok(LedgerKeysRecord {
                    sealed_keys: get(row, "sealed_keys")?,
                    verifier_key: get(row, "verifier_key")?,
                    created_at: timestamp(row, "created_at")?,
                })
            })
            .transpose()
    }

    /// Stores the ledger keys unless a replica stored its own first; the keys in force either way.
    pub async fn insert_ledger_keys_if_absent(
        &self,
        record: &LedgerKeysRecord,
    ) -> Result<LedgerKeysRecord, StoreError> {
        sqlx::query(
            "INSERT INTO ledger_keys (id, sealed_keys, verifier_key, created_at) VALUES (1, $1, $2, $3) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(record.sealed_keys.as_slice())
        .bind(record.verifier_key.as_str())
        .bind(record.created_at.unix())
        .execute(&self.pool)
        .await
        .map_err(error::during("store the ledger keys"))?;
        self.ledger_keys()
            .await?
            .ok_or_else(|| StoreError::Corrupt("the ledger keys vanished after being stored".into()))
    }

    /// Master-key rotation: the ledger keys sealed anew.
    pub async fn replace_ledger_keys_seal(&self, sealed_keys: &[u8]) -> Result<u64, StoreError> {
        let result = sqlx::query("UPDATE ledger_keys SET sealed_keys = $1 WHERE id = 1")
            .bind(sealed_keys)
            .execute(&self.pool)
            .await
            .map_err(error::during("re-seal the ledger keys"))?;
        Ok(columns::affected(&result))
    }

    /// Retention: drops the payload of every event older than `before`, keeping its leaf hash; how many
    /// payloads were dropped.
    pub async fn prune_ledger_payloads(&self, before: Timestamp) -> Result<u64, StoreError> {
        let result = sqlx::query("UPDATE ledger_entries SET leaf = NULL WHERE timestamp < $1 AND leaf IS NOT NULL")
            .bind(before.unix())
            .execute(&self.pool)
            .await
            .map_err(error::during("apply audit retention"))?;
        Ok(columns::affected(&result))
    }

    /// Moves audit events written before the ledger existed (schema 1–3 kept them in `audit_events`)
    /// into the ledger, oldest first, in one transaction; a no-op once done.
    pub(crate) async fn import_legacy_audit_events(&self) -> Result<u64, StoreError> {
        let mut tx = self.begin_write("move audit events into the ledger").await?;
        if self.backend() == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(LEDGER_APPEND_LOCK)
                .execute(&mut *tx)
                .await
                .map_err(error::during("move audit events into the ledger"))?;
        }
        let rows = sqlx::query("SELECT * FROM audit_events ORDER BY id")
            .fetch_all(&mut *tx)
            .await
            .map_err(error::during("move audit events into the ledger"))?;
        if rows.is_empty() {
            tx.commit()
                .await
                .map_err(error::during("move audit events into the ledger"))?;
            return Ok(0);
        }
        let next: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(idx) + 1, 0) FROM ledger_entries")
            .fetch_one(&mut *tx)
            .await
            .map_err(error::during("move audit events into the ledger"))?;
        let first = columns::count(next, "the ledger size")?;
        for (offset, row) in rows.iter().enumerate() {
            let index = first + offset as u64;
            let event = legacy_event(row)?;
            let leaf = leaf_bytes(index, &event);
            sqlx::query("INSERT INTO ledger_entries (idx, timestamp, leaf, leaf_hash) VALUES ($1, $2, $3, $4)")
                .bind(db_index(index))
                .bind(event.timestamp.unix())
                .bind(leaf.as_slice())
                .bind(leaf_hash(&leaf).as_slice())
                .execute(&mut *tx)
                .await
                .map_err(error::during("move audit events into the ledger"))?;
        }
        sqlx::query("DELETE FROM audit_events")
            .execute(&mut *tx)
            .await
            .map_err(error::during("move audit events into the ledger"))?;
        tx.commit()
            .await
            .map_err(error::during("move audit events into the ledger"))?;
        Ok(rows.len() as u64)
    }
}

fn entry_from_row(row: &AnyRow) -> Result<LedgerEntry, StoreError> {
    Ok(LedgerEntry {
        index: columns::count(get(row, "idx")?, "a ledger index")?,
        timestamp: timestamp(row, "timestamp")?,
        leaf: get(row, "leaf")?,
        leaf_hash: hash32(row, "leaf_hash")?,
    })
}

fn checkpoint_from_row(row: &AnyRow) -> Result<CheckpointRecord, StoreError> {
    let anchor: Option<String> = get(row, "anchor")?;
    let anchor = anchor
        .map(|text| serde_json::from_str(&text))
        .transpose()
        .map_err(|_| StoreError::Corrupt("column `anchor` is not JSON".into()))?;
    Ok(CheckpointRecord {
        size: columns::count(get(row, "size")?, "a checkpoint size")?,
        root_hash: hash32(row, "root_hash")?,
        note: get(row, "note")?,
        created_at: timestamp(row, "created_at")?,
        anchor,
        cosignatures: columns::string_list(row, "cosignatures")?,
    })
}

fn legacy_event(row: &AnyRow) -> Result<AuditEvent, StoreError> {
    let outcome: String = get(row, "outcome")?;
    let outcome = [AuditOutcome::Success, AuditOutcome::Failure, AuditOutcome::Denied]
        .into_iter()
        .find(|o| o.as_str() == outcome)
        .ok_or_else(|| StoreError::Corrupt("column `outcome` is not a known audit outcome".into()))?;
    Ok(AuditEvent {
        timestamp: timestamp(row, "timestamp")?,
        kind: get(row, "kind")?,
        actor: get(row, "actor")?,
        action: get(row, "action")?,
        resource: get(row, "resource")?,
        outcome,
        details: json_value(row, "details")?,
        request_id: get(row, "request_id")?,
    })
}
