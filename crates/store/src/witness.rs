//! Warden as a witness (C2SP `tlog-witness`): its sealed cosigning key, and the latest checkpoint it
//! cosigned per log, moved forward only by compare-and-set. Also how a cosignature a witness returned is
//! added to one of the ledger's own checkpoints.

use sqlx::any::AnyRow;
use warden_core::{StoreError, Timestamp};
use warden_ledger::Hash;

use crate::columns::{self, get, hash32, timestamp};
use crate::{Backend, Store, error};

/// The witness's cosigning key: its Ed25519 seed sealed under the master key, and its public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessKeyRecord {
    pub sealed_seed: Vec<u8>,
    pub public_key: Vec<u8>,
    pub created_at: Timestamp,
}

/// The latest checkpoint the witness cosigned for one log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessedCheckpoint {
    pub origin: String,
    pub size: u64,
    pub root_hash: Hash,
    /// The signed note as it was submitted.
    pub note: String,
    pub updated_at: Timestamp,
}

fn db_size(size: u64) -> i64 {
    i64::try_from(size).unwrap_or(i64::MAX)
}

fn witnessed_from_row(row: &AnyRow) -> Result<WitnessedCheckpoint, StoreError> {
    Ok(WitnessedCheckpoint {
        origin: get(row, "origin")?,
        size: columns::count(get(row, "size")?, "a witnessed size")?,
        root_hash: hash32(row, "root_hash")?,
        note: get(row, "note")?,
        updated_at: timestamp(row, "updated_at")?,
    })
}

impl Store {
    pub async fn witness_key(&self) -> Result<Option<WitnessKeyRecord>, StoreError> {
        let row = sqlx::query("SELECT * FROM witness_keys WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(error::during("read the witness key"))?;
        row.as_ref()
            .map(|row| {
                Ok(WitnessKeyRecord {
                    sealed_seed: get(row, "sealed_seed")?,
                    public_key: get(row, "public_key")?,
                    created_at: timestamp(row, "created_at")?,
                })
            })
            .transpose()
    }

    /// Stores the witness key unless a replica stored its own first; the key in force either way.
    pub async fn insert_witness_key_if_absent(
        &self,
        record: &WitnessKeyRecord,
    ) -> Result<WitnessKeyRecord, StoreError> {
        sqlx::query(
            "INSERT INTO witness_keys (id, sealed_seed, public_key, created_at) VALUES (1, $1, $2, $3) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(record.sealed_seed.as_slice())
        .bind(record.public_key.as_slice())
        .bind(record.created_at.unix())
        .execute(&self.pool)
        .await
        .map_err(error::during("store the witness key"))?;
        self.witness_key()
            .await?
            .ok_or_else(|| StoreError::Corrupt("the witness key vanished after being stored".into()))
    }

    /// Master-key rotation: the witness key sealed anew.
    pub async fn replace_witness_key_seal(&self, sealed_seed: &[u8]) -> Result<u64, StoreError> {
        let result = sqlx::query("UPDATE witness_keys SET sealed_seed = $1 WHERE id = 1")
            .bind(sealed_seed)
            .execute(&self.pool)
            .await
            .map_err(error::during("re-seal the witness key"))?;
        Ok(columns::affected(&result))
    }

    /// The latest checkpoint cosigned for `origin`, if any.
    pub async fn witnessed_checkpoint(&self, origin: &str) -> Result<Option<WitnessedCheckpoint>, StoreError> {
        let row = sqlx::query("SELECT * FROM witness_checkpoints WHERE origin = $1")
            .bind(origin)
            .fetch_optional(&self.pool)
            .await
            .map_err(error::during("read a witnessed checkpoint"))?;
        row.as_ref().map(witnessed_from_row).transpose()
    }

    /// Records `next` as the latest checkpoint cosigned for its origin if and only if the stored one is
    /// still `expected` (`None`: nothing stored yet) — size and root, in one statement. `false` when
    /// another request moved it first: the caller must not cosign.
    pub async fn advance_witnessed_checkpoint(
        &self,
        expected: Option<(u64, &Hash)>,
        next: &WitnessedCheckpoint,
    ) -> Result<bool, StoreError> {
        let result = match expected {
            None => {
                sqlx::query(
                    "INSERT INTO witness_checkpoints (origin, size, root_hash, note, updated_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (origin) DO NOTHING",
                )
                .bind(next.origin.as_str())
                .bind(db_size(next.size))
                .bind(next.root_hash.as_slice())
                .bind(next.note.as_str())
                .bind(next.updated_at.unix())
                .execute(&self.pool)
                .await
            }
            Some((size, root)) => {
                sqlx::query(
                    "UPDATE witness_checkpoints SET size = $2, root_hash = $3, note = $4, updated_at = $5 \
                 WHERE origin = $1 AND size = $6 AND root_hash = $7",
                )
                .bind(next.origin.as_str())
                .bind(db_size(next.size))
                .bind(next.root_hash.as_slice())
                .bind(next.note.as_str())
                .bind(next.updated_at.unix())
                .bind(db_size(size))
                .bind(root.as_slice())
                .execute(&self.pool)
                .await
            }
        };
        let result = result.map_err(error::during("record a witnessed checkpoint"))?;
        Ok(columns::affected(&result) == 1)
    }

    /// Adds a witness's cosignature line to the ledger checkpoint of `size` (unless the same line is
    /// there already), read and written in one transaction so two witnesses answering at once both stay.
    /// `false` when no checkpoint of that size is stored.
    pub async fn add_checkpoint_cosignature(&self, size: u64, line: &str) -> Result<bool, StoreError> {
        const DOING: &str = "record a witness cosignature";
        let mut tx = self.begin_write(DOING).await?;
        let select = match self.backend() {
            Backend::Postgres => "SELECT cosignatures FROM ledger_checkpoints WHERE size = $1 FOR UPDATE",
            Backend::Sqlite => "SELECT cosignatures FROM ledger_checkpoints WHERE size = $1",
        };
        let row = sqlx::query(select)
            .bind(db_size(size))
            .fetch_optional(&mut *tx)
            .await
            .map_err(error::during(DOING))?;
        let Some(row) = row else {
            tx.commit().await.map_err(error::during(DOING))?;
            return Ok(false);
        };
        let mut lines = columns::string_list(&row, "cosignatures")?;
        if !lines.iter().any(|l| l == line) {
            lines.push(line.to_owned());
            sqlx::query("UPDATE ledger_checkpoints SET cosignatures = $2 WHERE size = $1")
                .bind(db_size(size))
                .bind(columns::list_text(&lines))
                .execute(&mut *tx)
                .await
                .map_err(error::during(DOING))?;
        }
        tx.commit().await.map_err(error::during(DOING))?;
        Ok(true)
    }
}
