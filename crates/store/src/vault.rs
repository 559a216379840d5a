//! The vault's records: secret metadata, sealed versions and per-secret grants. The store never sees
//! a plaintext or a key: a version is opaque sealed bytes plus the id of the master key that wrapped
//! its data key (so a master-key rotation interrupted half-way knows which key opens which record).

use sqlx::any::AnyRow;
use warden_core::{StoreError, Timestamp};

use crate::columns::{self, get, list_text, optional_timestamp, string_list, timestamp};
use crate::{Store, error};

/// A secret's metadata; never its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRecord {
    pub name: String,
    /// `api_key`, `database`, `password`, `certificate`, `payment` or `generic` (checked by the vault).
    pub kind: String,
    /// The agent id that owns it, or `admin`.
    pub owner: String,
    pub tags: Vec<String>,
    pub current_version: i64,
    /// Rotate every this many days (overrides the configured default for the kind).
    pub rotation_days: Option<i64>,
    pub expires_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The version for which "rotation due" was already raised, so it is raised once.
    pub rotation_noted_version: Option<i64>,
}

/// One sealed version of a secret.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretVersionRecord {
    pub name: String,
    pub version: i64,
    /// The envelope (wrapped data key, nonce, ciphertext) as the vault encoded it.
    pub sealed: Vec<u8>,
    pub master_key_id: String,
    pub created_by: String,
    pub created_at: Timestamp,
}

impl std::fmt::Debug for SecretVersionRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretVersionRecord")
            .field("name", &self.name)
            .field("version", &self.version)
            .field("sealed", &format_args!("[{} bytes]", self.sealed.len()))
            .field("master_key_id", &self.master_key_id)
            .finish_non_exhaustive()
    }
}

/// An agent a secret is shared with, until `expires_at` if set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretGrantRecord {
    pub name: String,
    pub agent_id: String,
    pub granted_by: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
}

/// Counts for `/v1/vault/stats`, per kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretKindCount {
    pub kind: String,
    pub secrets: u64,
    pub versions: u64,
}

impl Store {
    /// Creates a secret with its first version, atomically; `Conflict` when the name is taken.
    pub async fn insert_secret(&self, secret: &SecretRecord, first: &SecretVersionRecord) -> Result<(), StoreError> {
        let mut tx = self.begin_write("store secret").await?;
        let taken: Option<String> = sqlx::query_scalar("SELECT name FROM secrets WHERE name = $1")
            .bind(secret.name.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(error::during("store secret"))?;
        if taken.is_some() {
            return Err(StoreError::Conflict(format!("a secret named `{}` exists", secret.name)));
        }
        sqlx::query(
            "INSERT INTO secrets (name, kind, owner, tags, current_version, rotation_days, expires_at, \
             created_at, updated_at, rotation_noted_version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(secret.name.as_str())
        .bind(secret.kind.as_str())
        .bind(secret.owner.as_str())
        .bind(list_text(&secret.tags))
        .bind(secret.current_version)
        .bind(secret.rotation_days)
        .bind(columns::unix(secret.expires_at))
        .bind(secret.created_at.unix())
        .bind(secret.updated_at.unix())
        .bind(secret.rotation_noted_version)
        .execute(&mut *tx)
        .await
        .map_err(error::during("store secret"))?;
        insert_version(&mut tx, first).await?;
        tx.commit().await.map_err(error::during("store secret"))
    }

    /// Adds `version` as the new current version if the current one is still `expected_current`
    /// (`Conflict` otherwise: someone else rotated first), updating the metadata given, and deletes
    /// versions older than the newest `keep`. Returns how many old versions were deleted.
    pub async fn insert_secret_version(
        &self,
        expected_current: i64,
        version: &SecretVersionRecord,
        update: &SecretUpdate,
        keep: u32,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin_write("rotate secret").await?;
        let result = sqlx::query(
            "UPDATE secrets SET current_version = $3, updated_at = $4, tags = COALESCE($5, tags), \
             rotation_days = CASE WHEN $6 = 1 THEN $7 ELSE rotation_days END, \
             expires_at = CASE WHEN $8 = 1 THEN $9 ELSE expires_at END \
             WHERE name = $1 AND current_version = $2",
        )
        .bind(version.name.as_str())
        .bind(expected_current)
        .bind(version.version)
        .bind(version.created_at.unix())
        .bind(update.tags.as_deref().map(list_text))
        .bind(i64::from(update.rotation_days.is_some()))
        .bind(update.rotation_days.flatten())
        .bind(i64::from(update.expires_at.is_some()))
        .bind(columns::unix(update.expires_at.flatten()))
        .execute(&mut *tx)
        .await
        .map_err(error::during("rotate secret"))?;
        if columns::affected(&result) == 0 {
            return Err(StoreError::Conflict(format!(
                "secret `{}` is missing or changed while this version was written; retry",
                version.name
            )));
        }
        insert_version(&mut tx, version).await?;
        let oldest_kept = version.version - i64::from(keep.max(1)) + 1;
        let pruned = sqlx::query("DELETE FROM secret_versions WHERE name = $1 AND version < $2")
            .bind(version.name.as_str())
            .bind(oldest_kept)
            .execute(&mut *tx)
            .await
            .map_err(error::during("rotate secret"))?;
        tx.commit().await.map_err(error::during("rotate secret"))?;
        Ok(columns::affected(&pruned))
    }

    pub async fn secret(&self, name: &str) -> Result<Option<SecretRecord>, StoreError> {
        sqlx::query("SELECT * FROM secrets WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(error::during("read secret"))?
            .map(|row| secret_from_row(&row))
            .transpose()
    }

    /// Every secret's metadata, by name.
    pub async fn secrets(&self) -> Result<Vec<SecretRecord>, StoreError> {
        let rows = sqlx::query("SELECT * FROM secrets ORDER BY name")
            .fetch_all(&self.pool)
            .await
            .map_err(error::during("list secrets"))?;
        rows.iter().map(secret_from_row).collect()
    }

    pub async fn secret_version(&self, name: &str, version: i64) -> Result<Option<SecretVersionRecord>, StoreError> {
        sqlx::query("SELECT * FROM secret_versions WHERE name = $1 AND version = $2")
            .bind(name)
            .bind(version)
            .fetch_optional(&self.pool)
            .await
            .map_err(error::during("read secret version"))?
            .map(|row| version_from_row(&row))
            .transpose()
    }

    /// The version numbers kept for `name`, oldest first.
    pub async fn secret_version_numbers(&self, name: &str) -> Result<Vec<i64>, StoreError> {
        sqlx::query_scalar("SELECT version FROM secret_versions WHERE name = $1 ORDER BY version")
            .bind(name)
            .fetch_all(&self.pool)
            .await
            .map_err(error::during("read secret versions"))
    }

    /// Deletes the secret, every version and every grant; whether it existed.
    pub async fn delete_secret(&self, name: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin_write("delete secret").await?;
        for statement in [
            "DELETE FROM secret_grants WHERE name = $1",
            "DELETE FROM secret_versions WHERE name = $1",
        ] {
            sqlx::query(statement)
                .bind(name)
                .execute(&mut *tx)
                .await
                .map_err(error::during("delete secret"))?;
        }
        let result = sqlx::query("DELETE FROM secrets WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(error::during("delete secret"))?;
        tx.commit().await.map_err(error::during("delete secret"))?;
        Ok(columns::affected(&result) > 0)
    }

    /// Shares a secret with an agent, replacing an earlier grant to the same agent.
    pub async fn upsert_secret_grant(&self, grant: &SecretGrantRecord) -> Result<(), StoreError> {
        let mut tx = self.begin_write("grant secret").await?;
        sqlx::query("DELETE FROM secret_grants WHERE name = $1 AND agent_id = $2")
            .bind(grant.name.as_str())
            .bind(grant.agent_id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(error::during("grant secret"))?;
        sqlx::query(
            "INSERT INTO secret_grants (name, agent_id, granted_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(grant.name.as_str())
        .bind(grant.agent_id.as_str())
        .bind(grant.granted_by.as_str())
        .bind(grant.created_at.unix())
        .bind(columns::unix(grant.expires_at))
        .execute(&mut *tx)
        .await
        .map_err(error::during("grant secret"))?;
        tx.commit().await.map_err(error::during("grant secret"))
    }

    /// Unshares; whether there was a grant.
    pub async fn delete_secret_grant(&self, name: &str, agent_id: &str) -> Result<bool, StoreError> {
        let result = sqlx::query("DELETE FROM secret_grants WHERE name = $1 AND agent_id = $2")
            .bind(name)
            .bind(agent_id)
            .execute(&self.pool)
            .await
            .map_err(error::during("unshare secret"))?;
        Ok(columns::affected(&result) > 0)
    }

    /// The agent's grant on the secret if it holds one that has not expired at `now`.
    pub async fn live_secret_grant(
        &self,
        name: &str,
        agent_id: &str,
        now: Timestamp,
    ) -> Result<Option<SecretGrantRecord>, StoreError> {
        sqlx::query(
            "SELECT * FROM secret_grants WHERE name = $1 AND agent_id = $2 \
             AND (expires_at IS NULL OR expires_at > $3)",
        )
        .bind(name)
        .bind(agent_id)
        .bind(now.unix())
        .fetch_optional(&self.pool)
        .await
        .map_err(error::during("read secret grant"))?
        .map(|row| grant_from_row(&row))
        .transpose()
    }

    pub async fn secret_grants(&self, name: &str) -> Result<Vec<SecretGrantRecord>, StoreError> {
        let rows = sqlx::query("SELECT * FROM secret_grants WHERE name = $1 ORDER BY agent_id")
            .bind(name)
            .fetch_all(&self.pool)
            .await
            .map_err(error::during("read secret grants"))?;
        rows.iter().map(grant_from_row).collect()
    }

    /// Up to `limit` versions not wrapped by `master_key_id`: what a master-key rotation still has to do.
    pub async fn secret_versions_not_wrapped_by(
        &self,
        master_key_id: &str,
        limit: u32,
    ) -> Result<Vec<SecretVersionRecord>, StoreError> {
        self.secret_versions_not_wrapped_by_after(master_key_id, None, limit)
            .await
    }

    /// The same, in (name, version) order after `after`: a cursor walks the table along its primary
    /// key once instead of rescanning it for every batch.
    pub async fn secret_versions_not_wrapped_by_after(
        &self,
        master_key_id: &str,
        after: Option<(&str, i64)>,
        limit: u32,
    ) -> Result<Vec<SecretVersionRecord>, StoreError> {
        let (name, version) = after.unwrap_or(("", 0));
        let rows = sqlx::query(
            "SELECT * FROM secret_versions WHERE (name > $2 OR (name = $2 AND version > $3)) \
             AND master_key_id <> $1 ORDER BY name, version LIMIT $4",
        )
        .bind(master_key_id)
        .bind(name)
        .bind(version)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(error::during("read secret versions"))?;
        rows.iter().map(version_from_row).collect()
    }

    /// Replaces re-wrapped envelopes, each only if it is still wrapped by the key it was read with,
    /// in one transaction; how many were replaced.
    pub async fn rewrap_secret_versions(&self, rewrapped: &[(SecretVersionRecord, String)]) -> Result<u64, StoreError> {
        let mut tx = self.begin_write("re-wrap secrets").await?;
        let mut replaced = 0;
        for (record, previous_key_id) in rewrapped {
            let result = sqlx::query(
                "UPDATE secret_versions SET sealed = $3, master_key_id = $4 \
                 WHERE name = $1 AND version = $2 AND master_key_id = $5",
            )
            .bind(record.name.as_str())
            .bind(record.version)
            .bind(record.sealed.as_slice())
            .bind(record.master_key_id.as_str())
            .bind(previous_key_id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(error::during("re-wrap secrets"))?;
            replaced += columns::affected(&result);
        }
        tx.commit().await.map_err(error::during("re-wrap secrets"))?;
        Ok(replaced)
    }

    /// Per kind: how many secrets and how many kept versions.
    pub async fn secret_counts(&self) -> Result<Vec<SecretKindCount>, StoreError> {
        let rows = sqlx::query(
            "SELECT s.kind AS kind, COUNT(DISTINCT s.name) AS secrets, COUNT(v.version) AS versions \
             FROM secrets s LEFT JOIN secret_versions v ON v.name = s.name GROUP BY s.kind ORDER BY s.kind",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(error::during("count secrets"))?;
        rows.iter()
            .map(|row| {
                Ok(SecretKindCount {
                    kind: get(row, "kind")?,
                    secrets: columns::count(get(row, "secrets")?, "a secret count")?,
                    versions: columns::count(get(row, "versions")?, "a version count")?,
                })
            })
            .collect()
    }

    /// Records that "rotation due" was raised for `version`; false when it already was (or the
    /// secret moved on), so exactly one caller raises it.
    pub async fn note_rotation_due(&self, name: &str, version: i64) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE secrets SET rotation_noted_version = $2 WHERE name = $1 AND current_version = $2 \
             AND (rotation_noted_version IS NULL OR rotation_noted_version <> $2)",
        )
        .bind(name)
        .bind(version)
        .execute(&self.pool)
        .await
        .map_err(error::during("note rotation due"))?;
        Ok(columns::affected(&result) > 0)
    }
}

/// Metadata a new version may change; `None` keeps the stored value (`Some(None)` clears it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecretUpdate {
    pub tags: Option<Vec<String>>,
    pub rotation_days: Option<Option<i64>>,
    pub expires_at: Option<Option<Timestamp>>,
}

async fn insert_version(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    version: &SecretVersionRecord,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO secret_versions (name, version, sealed, master_key_id, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(version.name.as_str())
    .bind(version.version)
    .bind(version.sealed.as_slice())
    .bind(version.master_key_id.as_str())
    .bind(version.created_by.as_str())
    .bind(version.created_at.unix())
    .execute(&mut **tx)
    .await
    .map_err(error::during("store secret version"))?;
    Ok(())
}

fn secret_from_row(row: &AnyRow) -> Result<SecretRecord, StoreError> {
    Ok(SecretRecord {
        name: get(row, "name")?,
        kind: get(row, "kind")?,
        owner: get(row, "owner")?,
        tags: string_list(row, "tags")?,
        current_version: get(row, "current_version")?,
        rotation_days: get(row, "rotation_days")?,
        expires_at: optional_timestamp(row, "expires_at")?,
        created_at: timestamp(row, "created_at")?,
        updated_at: timestamp(row, "updated_at")?,
        rotation_noted_version: get(row, "rotation_noted_version")?,
    })
}

fn version_from_row(row: &AnyRow) -> Result<SecretVersionRecord, StoreError> {
    Ok(SecretVersionRecord {
        name: get(row, "name")?,
        version: get(row, "version")?,
        sealed: get(row, "sealed")?,
        master_key_id: get(row, "master_key_id")?,
        created_by: get(row, "created_by")?,
        created_at: timestamp(row, "created_at")?,
    })
}

fn grant_from_row(row: &AnyRow) -> Result<SecretGrantRecord, StoreError> {
    Ok(SecretGrantRecord {
        name: get(row, "name")?,
        agent_id: get(row, "agent_id")?,
        granted_by: get(row, "granted_by")?,
        created_at: timestamp(row, "created_at")?,
        expires_at: optional_timestamp(row, "expires_at")?,
    })
}
