//! Signing keys (sealed private keys, never plaintext) and the small settings table.

use async_trait::async_trait;
use sqlx::any::AnyRow;
use warden_core::{StoreError, Timestamp};
use warden_identity::repo::{KeyRepository, SigningKeyRecord};

use crate::columns::{self, get, optional_timestamp, timestamp};
use crate::{Store, error};

#[async_trait]
impl KeyRepository for Store {
    async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StoreError> {
        let rows = sqlx::query("SELECT * FROM signing_keys ORDER BY created_at, kid")
            .fetch_all(&self.pool)
            .await
            .map_err(error::during("list signing keys"))?;
        rows.iter().map(signing_key_from_row).collect()
    }

    /// The new key is stored as current whatever its `retired_at` and `verify_until` say. A unique
    /// index allows one current key only, so of two concurrent rotations the second fails with
    /// [`StoreError::Conflict`] instead of leaving two current keys.
    async fn rotate_signing_key(
        &self,
        new_key: &SigningKeyRecord,
        retired_at: Timestamp,
        verify_until: Timestamp,
    ) -> Result<(), StoreError> {
        let operation = "rotate signing key";
        let mut tx = self.begin_write(operation).await?;
        sqlx::query("UPDATE signing_keys SET retired_at = $1, verify_until = $2 WHERE retired_at IS NULL")
            .bind(retired_at.unix())
            .bind(verify_until.unix())
            .execute(&mut *tx)
            .await
            .map_err(error::during(operation))?;
        sqlx::query(
            "INSERT INTO signing_keys (kid, algorithm, sealed_private_key, public_key, created_at, \
             retired_at, verify_until) VALUES ($1, $2, $3, $4, $5, NULL, NULL)",
        )
        .bind(new_key.kid.as_str())
        .bind(new_key.algorithm.as_str())
        .bind(new_key.sealed_private_key.as_slice())
        .bind(new_key.public_key.as_slice())
        .bind(new_key.created_at.unix())
        .execute(&mut *tx)
        .await
        .map_err(error::during(operation))?;
        tx.commit().await.map_err(error::during(operation))?;
        Ok(())
    }

    async fn purge_signing_keys(&self, now: Timestamp) -> Result<u64, StoreError> {
        let result = sqlx::query("DELETE FROM signing_keys WHERE verify_until IS NOT NULL AND verify_until < $1")
            .bind(now.unix())
            .execute(&self.pool)
            .await
            .map_err(error::during("purge signing keys"))?;
        Ok(columns::affected(&result))
    }

    async fn setting(&self, name: &str) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar("SELECT value FROM settings WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(error::during("read setting"))
    }

    async fn put_setting(&self, name: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO settings (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(name)
        .bind(value)
        .execute(&self.pool)
        .await
        .map_err(error::during("store setting"))?;
        Ok(())
    }
}

impl Store {
    /// Master-key rotation: replaces sealed private keys (signing keys by kid, the CA key) in one
    /// transaction; how many rows changed.
    pub async fn replace_key_seals(
        &self,
        signing_keys: &[(String, Vec<u8>)],
        ca: Option<&[u8]>,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin_write("re-seal keys").await?;
        let mut changed = 0;
        for (kid, sealed) in signing_keys {
            let result = sqlx::query("UPDATE signing_keys SET sealed_private_key = $2 WHERE kid = $1")
                .bind(kid.as_str())
                .bind(sealed.as_slice())
                .execute(&mut *tx)
                .await
                .map_err(error::during("re-seal keys"))?;
            changed += crate::columns::affected(&result);
        }
        if let Some(sealed) = ca {
            let result = sqlx::query("UPDATE certificate_authority SET sealed_key = $1 WHERE id = 1")
                .bind(sealed)
                .execute(&mut *tx)
                .await
                .map_err(error::during("re-seal keys"))?;
            changed += crate::columns::affected(&result);
        }
        tx.commit().await.map_err(error::during("re-seal keys"))?;
        Ok(changed)
    }
}

fn signing_key_from_row(row: &AnyRow) -> Result<SigningKeyRecord, StoreError> {
    Ok(SigningKeyRecord {
        kid: get(row, "kid")?,
        algorithm: get(row, "algorithm")?,
        sealed_private_key: get(row, "sealed_private_key")?,
        public_key: get(row, "public_key")?,
        created_at: timestamp(row, "created_at")?,
        retired_at: optional_timestamp(row, "retired_at")?,
        verify_until: optional_timestamp(row, "verify_until")?,
    })
}
