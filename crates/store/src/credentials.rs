//! Passwords with their lockout state, API keys, public keys with their login challenges, client
//! certificates and the CA.

use async_trait::async_trait;
use sqlx::any::AnyRow;
use warden_core::{StoreError, Timestamp};
use warden_identity::repo::{
    ApiKeyRecord, CaRecord, CertificateRecord, ChallengeRecord, CredentialRepository, KeyAlgorithm, PasswordRecord,
    PublicKeyRecord,
};

use crate::columns::{self, get, hash32, list_text, optional_timestamp, string_list, timestamp, unix};
use crate::{Store, error};

#[async_trait]
impl CredentialRepository for Store {
    async fn password(&self, agent_id: &str) -> Result<Option<PasswordRecord>, StoreError> {
        sqlx::query("SELECT * FROM passwords WHERE agent_id = $1")
            .bind(agent_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(error::during("read password"))?
            .map(|row| password_from_row(&row))
            .transpose()
    }

    async fn put_password(&self, record: &PasswordRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO passwords (agent_id, hash, changed_at, history, failed_attempts, locked_until) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (agent_id) DO UPDATE SET hash = excluded.hash, \
             changed_at = excluded.changed_at, history = excluded.history, \
             failed_attempts = excluded.failed_attempts, locked_until = excluded.locked_until",
        )
        .bind(record.agent_id.as_str())
        .bind(record.hash.as_str())
        .bind(record.changed_at.unix())
        .bind(list_text(&record.history))
        .bind(i64::from(record.failed_attempts))
        .bind(unix(record.locked_until))
        .execute(&self.pool)
        .await
        .map_err(error::during("store password"))?;
        Ok(())
    }

    /// One `UPDATE … RETURNING`, so concurrent failures each count. An agent without a password has
    /// nothing to count: 0.
    async fn add_failed_attempt(&self, agent_id: &str) -> Result<u32, StoreError> {
        let count: Option<i64> = sqlx::query_scalar(
            "UPDATE passwords SET failed_attempts = failed_attempts + 1 WHERE agent_id = $1 \
             RETURNING failed_attempts",
        )
        .bind(agent_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(error::during("count failed attempt"))?;
        failed_attempts(count.unwrap_or(0))
    }

    async fn lock_until(&self, agent_id: &str, until: Timestamp) -> Result<(), StoreError> {
        sqlx::query("UPDATE passwords SET locked_until = $2 WHERE agent_id = $1")
            .bind(agent_id)
            .bind(until.unix())
            .execute(&self.pool)
            .await
            .map_err(error::during("lock password"))?;
        Ok(())
    }

    async fn clear_failed_attempts(&self, agent_id: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE passwords SET failed_attempts = 0, locked_until = NULL WHERE agent_id = $1")
            .bind(agent_id)
            .execute(&self.pool)
            .await
            .map_err(error::during("clear failed attempts"))?;
        Ok(())
    }

    async fn insert_api_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO api_keys (id, agent_id, secret_hash, created_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(key.id.as_str())
        .bind(key.agent_id.as_str())
        .bind(key.secret_hash.as_slice())
        .bind(key.created_at.unix())
        .bind(unix(key.revoked_at))
        .execute(&self.pool)
        .await
        .map_err(error::during("insert api key"))?;
        Ok(())
    }

    async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        let row = sqlx::query("SELECT * FROM api_keys WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(error::during("read api key"))?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(ApiKeyRecord {
            id: get(&row, "id")?,
            agent_id: get(&row, "agent_id")?,
            secret_hash: hash32(&row, "secret_hash")?,
            created_at: timestamp(&row, "created_at")?,
            revoked_at: optional_timestamp(&row, "revoked_at")?,
        }))
    }

    async fn revoke_api_key(&self, id: &str, at: Timestamp) -> Result<bool, StoreError> {
        let result = sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .bind(at.unix())
            .execute(&self.pool)
            .await
            .map_err(error::during("revoke api key"))?;
        Ok(columns::affected(&result) == 1)
    }

    async fn insert_public_key(&self, key: &PublicKeyRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO public_keys (id, agent_id, algorithm, public_key, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(key.id.as_str())
        .bind(key.agent_id.as_str())
        .bind(key.algorithm.as_str())
        .bind(key.public_key.as_slice())
        .bind(key.created_at.unix())
        .execute(&self.pool)
        .await
        .map_err(error::during("insert public key"))?;
        Ok(())
    }

    async fn public_keys(&self, agent_id: &str) -> Result<Vec<PublicKeyRecord>, StoreError> {
        let rows = sqlx::query("SELECT * FROM public_keys WHERE agent_id = $1 ORDER BY created_at, id")
            .bind(agent_id)
            .fetch_all(&self.pool)
            .await
            .map_err(error::during("list public keys"))?;
        rows.iter().map(public_key_from_row).collect()
    }

    async fn insert_challenge(&self, challenge: &ChallengeRecord) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO challenges (nonce_hash, agent_id, expires_at) VALUES ($1, $2, $3)")
            .bind(challenge.nonce_hash.as_slice())
            .bind(challenge.agent_id.as_str())
            .bind(challenge.expires_at.unix())
            .execute(&self.pool)
            .await
            .map_err(error::during("insert challenge"))?;
        Ok(())
    }

    /// `DELETE … RETURNING`: only the caller whose statement deleted the row gets it back.
    async fn take_challenge(&self, nonce_hash: &[u8; 32]) -> Result<Option<ChallengeRecord>, StoreError> {
        let row = sqlx::query(
            "DELETE FROM challenges WHERE nonce_hash = $1 \
             RETURNING nonce_hash, agent_id, expires_at",
        )
        .bind(nonce_hash.as_slice())
        .fetch_optional(&self.pool)
        .await
        .map_err(error::during("take challenge"))?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(ChallengeRecord {
            nonce_hash: hash32(&row, "nonce_hash")?,
            agent_id: get(&row, "agent_id")?,
            expires_at: timestamp(&row, "expires_at")?,
        }))
    }

    async fn purge_challenges(&self, now: Timestamp) -> Result<u64, StoreError> {
        let result = sqlx::query("DELETE FROM challenges WHERE expires_at < $1")
            .bind(now.unix())
            .execute(&self.pool)
            .await
            .map_err(error::during("purge challenges"))?;
        Ok(columns::affected(&result))
    }

    async fn insert_certificate(&self, certificate: &CertificateRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO certificates (fingerprint, serial, agent_id, not_after, created_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(certificate.fingerprint.as_str())
        .bind(certificate.serial.as_str())
        .bind(certificate.agent_id.as_str())
        .bind(certificate.not_after.unix())
        .bind(certificate.created_at.unix())
        .bind(unix(certificate.revoked_at))
        .execute(&self.pool)
        .await
        .map_err(error::during("insert certificate"))?;
        Ok(())
    }

    async fn certificate(&self, fingerprint: &str) -> Result<Option<CertificateRecord>, StoreError> {
        let row = sqlx::query("SELECT * FROM certificates WHERE fingerprint = $1")
            .bind(fingerprint)
            .fetch_optional(&self.pool)
            .await
            .map_err(error::during("read certificate"))?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(CertificateRecord {
            fingerprint: get(&row, "fingerprint")?,
            serial: get(&row, "serial")?,
            agent_id: get(&row, "agent_id")?,
            not_after: timestamp(&row, "not_after")?,
            created_at: timestamp(&row, "created_at")?,
            revoked_at: optional_timestamp(&row, "revoked_at")?,
        }))
    }

    async fn ca(&self) -> Result<Option<CaRecord>, StoreError> {
        let row = sqlx::query("SELECT * FROM certificate_authority WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(error::during("read ca"))?;
        row.map(|row| ca_from_row(&row)).transpose()
    }

    /// The table holds at most one row (`id = 1`): `ON CONFLICT DO NOTHING` lets the first writer win
    /// and the read that follows returns the winner to everyone.
    async fn insert_ca_if_absent(&self, ca: &CaRecord) -> Result<CaRecord, StoreError> {
        sqlx::query(
            "INSERT INTO certificate_authority (id, certificate_pem, sealed_key, created_at) \
             VALUES (1, $1, $2, $3) ON CONFLICT (id) DO NOTHING",
        )
        .bind(ca.certificate_pem.as_str())
        .bind(ca.sealed_key.as_slice())
        .bind(ca.created_at.unix())
        .execute(&self.pool)
        .await
        .map_err(error::during("insert ca"))?;
        self.ca()
            .await?
            .ok_or_else(|| StoreError::Corrupt("insert ca: the certificate authority vanished after insertion".into()))
    }
}

fn failed_attempts(count: i64) -> Result<u32, StoreError> {
    u32::try_from(count).map_err(|_| StoreError::Corrupt("column `failed_attempts` is out of range".into()))
}

fn password_from_row(row: &AnyRow) -> Result<PasswordRecord, StoreError> {
    Ok(PasswordRecord {
        agent_id: get(row, "agent_id")?,
        hash: get(row, "hash")?,
        changed_at: timestamp(row, "changed_at")?,
        history: string_list(row, "history")?,
        failed_attempts: failed_attempts(get(row, "failed_attempts")?)?,
        locked_until: optional_timestamp(row, "locked_until")?,
    })
}

fn public_key_from_row(row: &AnyRow) -> Result<PublicKeyRecord, StoreError> {
    let algorithm: String = get(row, "algorithm")?;
    Ok(PublicKeyRecord {
        id: get(row, "id")?,
        agent_id: get(row, "agent_id")?,
        algorithm: KeyAlgorithm::parse(&algorithm)
            .ok_or_else(|| StoreError::Corrupt("column `algorithm` is not a known key algorithm".into()))?,
        public_key: get(row, "public_key")?,
        created_at: timestamp(row, "created_at")?,
    })
}

fn ca_from_row(row: &AnyRow) -> Result<CaRecord, StoreError> {
    Ok(CaRecord {
        certificate_pem: get(row, "certificate_pem")?,
        sealed_key: get(row, "sealed_key")?,
        created_at: timestamp(row, "created_at")?,
    })
}
