//! The firewall's reversible PII tokens: the sealed token keys (one row, shared by every replica) and the
//! token → encrypted original map. Sealing and encryption happen in the server; this module stores bytes.

use warden_core::{StoreError, Timestamp};

use crate::columns::{get, timestamp};
use crate::{Store, error};

/// One token as stored. `sealed` is the original, encrypted by the server under the token data key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub token: String,
    /// The entity's name (`card_number`, `email`, …).
    pub entity: String,
    pub sealed: Vec<u8>,
    /// When a scan last issued the token: retention counts from here.
    pub created_at: Timestamp,
    /// The agent (or `admin`) whose scan issued the token last.
    pub created_by: String,
}

/// The token keys, sealed under the master key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirewallKeysRecord {
    pub sealed_keys: Vec<u8>,
    pub created_at: Timestamp,
}

impl Store {
    pub async fn firewall_keys(&self) -> Result<Option<FirewallKeysRecord>, StoreError> {
        let row = sqlx::query("SELECT sealed_keys, created_at FROM firewall_keys WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(error::during("read the firewall keys"))?;
        row.as_ref()
            .map(|row| {
                Ok(FirewallKeysRecord {
                    sealed_keys: get(row, "sealed_keys")?,
                    created_at: timestamp(row, "created_at")?,
                })
            })
            .transpose()
    }

    /// Stores the token keys unless a replica stored its own first; the keys in force either way.
    pub async fn insert_firewall_keys_if_absent(
        &self,
        record: &FirewallKeysRecord,
    ) -> Result<FirewallKeysRecord, StoreError> {
        sqlx::query(
            "INSERT INTO firewall_keys (id, sealed_keys, created_at) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING",
        )
        .bind(record.sealed_keys.as_slice())
        .bind(record.created_at.unix())
        .execute(&self.pool)
        .await
        .map_err(error::during("store the firewall keys"))?;
        self.firewall_keys()
            .await?
            .ok_or_else(|| StoreError::Corrupt("the firewall keys vanished after being stored".into()))
    }

    /// Master-key rotation: the token keys sealed anew; how many rows changed (0 before the first start
    /// that created them).
    pub async fn replace_firewall_keys_seal(&self, sealed_keys: &[u8]) -> Result<u64, StoreError> {
        let result = sqlx::query("UPDATE firewall_keys SET sealed_keys = $1 WHERE id = 1")
            .bind(sealed_keys)
            .execute(&self.pool)
            .await
            .map_err(error::during("re-seal the firewall keys"))?;
        Ok(crate::columns::affected(&result))
    }

    /// Stores `tokens` in one durable transaction. A token already stored keeps its sealed original
    /// (token ids are derived from their originals, so it says the same thing) and takes the new issue
    /// time and issuer: a token shown again is kept as long as a fresh one.
    pub async fn put_tokens(&self, tokens: &[TokenRecord]) -> Result<(), StoreError> {
        if tokens.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write("store firewall tokens").await?;
        for record in tokens {
            sqlx::query(
                "INSERT INTO firewall_tokens (token, entity, sealed, created_at, created_by) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (token) DO UPDATE \
                 SET created_at = excluded.created_at, created_by = excluded.created_by",
            )
            .bind(record.token.as_str())
            .bind(record.entity.as_str())
            .bind(record.sealed.as_slice())
            .bind(record.created_at.unix())
            .bind(record.created_by.as_str())
            .execute(&mut *tx)
            .await
            .map_err(error::during("store firewall tokens"))?;
        }
        tx.commit().await.map_err(error::during("store firewall tokens"))
    }

    /// Erases `token` and its sealed original; whether there was one.
    pub async fn delete_token(&self, token: &str) -> Result<bool, StoreError> {
        let result = sqlx::query("DELETE FROM firewall_tokens WHERE token = $1")
            .bind(token)
            .execute(&self.pool)
            .await
            .map_err(error::during("erase a firewall token"))?;
        Ok(crate::columns::affected(&result) > 0)
    }

    /// Erases every token last issued before `cutoff` (the retention purge); how many.
    pub async fn delete_tokens_issued_before(&self, cutoff: Timestamp) -> Result<u64, StoreError> {
        let result = sqlx::query("DELETE FROM firewall_tokens WHERE created_at < $1")
            .bind(cutoff.unix())
            .execute(&self.pool)
            .await
            .map_err(error::during("purge expired firewall tokens"))?;
        Ok(crate::columns::affected(&result))
    }

    /// The stored record of `token`, if there is one.
    pub async fn token(&self, token: &str) -> Result<Option<TokenRecord>, StoreError> {
        let row = sqlx::query("SELECT * FROM firewall_tokens WHERE token = $1")
            .bind(token)
            .fetch_optional(&self.pool)
            .await
            .map_err(error::during("read a firewall token"))?;
        row.as_ref()
            .map(|row| {
                Ok(TokenRecord {
                    token: get(row, "token")?,
                    entity: get(row, "entity")?,
                    sealed: get(row, "sealed")?,
                    created_at: timestamp(row, "created_at")?,
                    created_by: get(row, "created_by")?,
                })
            })
            .transpose()
    }

    /// How many tokens are stored (`/v1/vault/stats`-style reporting and tests).
    pub async fn token_count(&self) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM firewall_tokens")
            .fetch_one(&self.pool)
            .await
            .map_err(error::during("count firewall tokens"))?;
        Ok(u64::try_from(count).unwrap_or(0))
    }
}
