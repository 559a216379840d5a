//! Refresh-token bookkeeping and the revocation lists.

use async_trait::async_trait;
use sqlx::any::AnyRow;
use warden_core::{StoreError, Timestamp};
use warden_identity::repo::{RefreshRecord, Revocations, SpendOutcome, TokenRepository};

use crate::columns::{self, get, optional_timestamp, timestamp, unix};
use crate::{Store, error};

#[async_trait]
impl TokenRepository for Store {
    async fn insert_refresh(&self, record: &RefreshRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO refresh_tokens (jti, family_id, agent_id, issued_at, expires_at, spent_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(record.jti.as_str())
        .bind(record.family_id.as_str())
        .bind(record.agent_id.as_str())
        .bind(record.issued_at.unix())
        .bind(record.expires_at.unix())
        .bind(unix(record.spent_at))
        .execute(&self.pool)
        .await
        .map_err(error::during("insert refresh token"))?;
        Ok(())
    }

    /// The conditional `UPDATE … WHERE spent_at IS NULL RETURNING` is the whole decision: of racing
    /// callers exactly one changes the row (PostgreSQL re-checks the condition after waiting for the
    /// row lock; SQLite runs writers one at a time). Everyone else reads the spent row afterwards.
    async fn spend_refresh(&self, jti: &str, at: Timestamp) -> Result<SpendOutcome, StoreError> {
        let spent = sqlx::query(
            "UPDATE refresh_tokens SET spent_at = $2 WHERE jti = $1 AND spent_at IS NULL \
             RETURNING jti, family_id, agent_id, issued_at, expires_at, spent_at",
        )
        .bind(jti)
        .bind(at.unix())
        .fetch_optional(&self.pool)
        .await
        .map_err(error::during("spend refresh token"))?;
        if let Some(row) = spent {
            return Ok(SpendOutcome::Spent(refresh_from_row(&row)?));
        }
        let existing = sqlx::query("SELECT * FROM refresh_tokens WHERE jti = $1")
            .bind(jti)
            .fetch_optional(&self.pool)
            .await
            .map_err(error::during("spend refresh token"))?;
        match existing {
            Some(row) => Ok(SpendOutcome::AlreadySpent(refresh_from_row(&row)?)),
            None => Ok(SpendOutcome::Unknown),
        }
    }

    async fn revoke_family(&self, family_id: &str, until: Timestamp) -> Result<(), StoreError> {
        // Revoking twice keeps the later end, so a revocation is never shortened.
        sqlx::query(
            "INSERT INTO revoked_families (family_id, expires_at) VALUES ($1, $2) \
             ON CONFLICT (family_id) DO UPDATE SET expires_at = CASE \
             WHEN excluded.expires_at > revoked_families.expires_at THEN excluded.expires_at \
             ELSE revoked_families.expires_at END",
        )
        .bind(family_id)
        .bind(until.unix())
        .execute(&self.pool)
        .await
        .map_err(error::during("revoke refresh family"))?;
        Ok(())
    }

    async fn revoke_token(&self, jti: &str, until: Timestamp) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, $2) \
             ON CONFLICT (jti) DO UPDATE SET expires_at = CASE \
             WHEN excluded.expires_at > revoked_tokens.expires_at THEN excluded.expires_at \
             ELSE revoked_tokens.expires_at END",
        )
        .bind(jti)
        .bind(until.unix())
        .execute(&self.pool)
        .await
        .map_err(error::during("revoke token"))?;
        Ok(())
    }

    async fn revocations(&self, now: Timestamp) -> Result<Revocations, StoreError> {
        let tokens = sqlx::query("SELECT jti, expires_at FROM revoked_tokens WHERE expires_at > $1 ORDER BY jti")
            .bind(now.unix())
            .fetch_all(&self.pool)
            .await
            .map_err(error::during("read revocations"))?;
        let families = sqlx::query(
            "SELECT family_id, expires_at FROM revoked_families WHERE expires_at > $1 \
             ORDER BY family_id",
        )
        .bind(now.unix())
        .fetch_all(&self.pool)
        .await
        .map_err(error::during("read revocations"))?;
        Ok(Revocations {
            tokens: tokens
                .iter()
                .map(|row| revocation(row, "jti"))
                .collect::<Result<_, _>>()?,
            families: families
                .iter()
                .map(|row| revocation(row, "family_id"))
                .collect::<Result<_, _>>()?,
        })
    }

    /// Three deletes in one transaction, so the count is of one consistent purge.
    async fn purge_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
        const PURGES: [&str; 3] = [
            "DELETE FROM revoked_tokens WHERE expires_at < $1",
            "DELETE FROM revoked_families WHERE expires_at < $1",
            "DELETE FROM refresh_tokens WHERE expires_at < $1",
        ];
        let mut tx = self.begin_write("purge expired tokens").await?;
        let mut purged = 0;
        for purge in PURGES {
            let result = sqlx::query(purge)
                .bind(now.unix())
                .execute(&mut *tx)
                .await
                .map_err(error::during("purge expired tokens"))?;
            purged += columns::affected(&result);
        }
        tx.commit().await.map_err(error::during("purge expired tokens"))?;
        Ok(purged)
    }
}

fn refresh_from_row(row: &AnyRow) -> Result<RefreshRecord, StoreError> {
    Ok(RefreshRecord {
        jti: get(row, "jti")?,
        family_id: get(row, "family_id")?,
        agent_id: get(row, "agent_id")?,
        issued_at: timestamp(row, "issued_at")?,
        expires_at: timestamp(row, "expires_at")?,
        spent_at: optional_timestamp(row, "spent_at")?,
    })
}

fn revocation(row: &AnyRow, id_column: &'static str) -> Result<(String, Timestamp), StoreError> {
    Ok((get(row, id_column)?, timestamp(row, "expires_at")?))
}
