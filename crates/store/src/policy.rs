//! Policy versions (every activated policy set, newest = active on every replica) and just-in-time
//! grants. The store keeps them; the policy engine judges them.

use serde_json::{Value, json};
use sqlx::any::AnyRow;
use warden_core::{StoreError, Timestamp};

use crate::columns::{self, get, optional_timestamp, timestamp};
use crate::{Store, error};

/// One file of a stored policy set, as it was loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyFile {
    pub name: String,
    pub text: String,
}

/// A policy set that was activated, by whom and from where (`files` or `api`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyVersion {
    pub version: i64,
    pub hash: String,
    pub source: String,
    pub files: Vec<PolicyFile>,
    pub activated_by: String,
    pub activated_at: Timestamp,
}

/// A just-in-time grant as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRecord {
    pub id: String,
    pub agent_id: String,
    pub action: String,
    pub resource: String,
    pub reason: String,
    pub delegable: bool,
    /// The grant this one was delegated from.
    pub parent_id: Option<String>,
    /// The agent that delegated it.
    pub delegated_from: Option<String>,
    pub created_by: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

impl Store {
    /// Records `files` as the newest (so active) policy set; returns its version number.
    pub async fn insert_policy_version(
        &self,
        hash: &str,
        source: &str,
        files: &[PolicyFile],
        activated_by: &str,
        at: Timestamp,
    ) -> Result<i64, StoreError> {
        let files = Value::Array(files.iter().map(|f| json!({"name": f.name, "text": f.text})).collect());
        sqlx::query_scalar(
            "INSERT INTO policy_versions (hash, source, files, activated_by, activated_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING version",
        )
        .bind(hash)
        .bind(source)
        .bind(files.to_string())
        .bind(activated_by)
        .bind(at.unix())
        .fetch_one(&self.pool)
        .await
        .map_err(error::during("record policy version"))
    }

    /// The newest policy version, optionally only among those from `source`.
    pub async fn latest_policy_version(&self, source: Option<&str>) -> Result<Option<PolicyVersion>, StoreError> {
        let row = match source {
            Some(source) => {
                sqlx::query("SELECT * FROM policy_versions WHERE source = $1 ORDER BY version DESC LIMIT 1")
                    .bind(source)
                    .fetch_optional(&self.pool)
                    .await
            }
            None => {
                sqlx::query("SELECT * FROM policy_versions ORDER BY version DESC LIMIT 1")
                    .fetch_optional(&self.pool)
                    .await
            }
        }
        .map_err(error::during("read policy version"))?;
        row.map(|row| policy_version_from_row(&row)).transpose()
    }

    /// The newest version number only: what replicas poll to notice another's change.
    pub async fn latest_policy_version_number(&self) -> Result<Option<i64>, StoreError> {
        sqlx::query_scalar("SELECT MAX(version) FROM policy_versions")
            .fetch_one(&self.pool)
            .await
            .map_err(error::during("read policy version"))
    }

    pub async fn insert_grant(&self, grant: &GrantRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO grants (id, agent_id, action, resource, reason, delegable, parent_id, delegated_from, \
             created_by, created_at, expires_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(grant.id.as_str())
        .bind(grant.agent_id.as_str())
        .bind(grant.action.as_str())
        .bind(grant.resource.as_str())
        .bind(grant.reason.as_str())
        .bind(i64::from(grant.delegable))
        .bind(grant.parent_id.as_deref())
        .bind(grant.delegated_from.as_deref())
        .bind(grant.created_by.as_str())
        .bind(grant.created_at.unix())
        .bind(grant.expires_at.unix())
        .bind(columns::unix(grant.revoked_at))
        .execute(&self.pool)
        .await
        .map_err(error::during("store grant"))?;
        Ok(())
    }

    pub async fn grant(&self, id: &str) -> Result<Option<GrantRecord>, StoreError> {
        sqlx::query("SELECT * FROM grants WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(error::during("read grant"))?
            .map(|row| grant_from_row(&row))
            .transpose()
    }

    /// The agent's grants that are neither revoked nor expired at `now`: what a decision may use.
    pub async fn live_grants(&self, agent_id: &str, now: Timestamp) -> Result<Vec<GrantRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM grants WHERE agent_id = $1 AND expires_at > $2 AND revoked_at IS NULL ORDER BY id",
        )
        .bind(agent_id)
        .bind(now.unix())
        .fetch_all(&self.pool)
        .await
        .map_err(error::during("read grants"))?;
        rows.iter().map(grant_from_row).collect()
    }

    /// Grants for the admin listing, newest first: live ones only unless `include_inactive`.
    pub async fn grants(
        &self,
        agent_id: Option<&str>,
        include_inactive: bool,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<GrantRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM grants WHERE ($1 IS NULL OR agent_id = $1) \
             AND ($2 = 1 OR (expires_at > $3 AND revoked_at IS NULL)) \
             ORDER BY created_at DESC, id LIMIT $4",
        )
        .bind(agent_id)
        .bind(i64::from(include_inactive))
        .bind(now.unix())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(error::during("list grants"))?;
        rows.iter().map(grant_from_row).collect()
    }

    /// Revokes the grant and every grant delegated from it, in one statement; how many were live.
    pub async fn revoke_grant(&self, id: &str, at: Timestamp) -> Result<u64, StoreError> {
        let result =
            sqlx::query("UPDATE grants SET revoked_at = $2 WHERE (id = $1 OR parent_id = $1) AND revoked_at IS NULL")
                .bind(id)
                .bind(at.unix())
                .execute(&self.pool)
                .await
                .map_err(error::during("revoke grant"))?;
        Ok(columns::affected(&result))
    }

    /// Deletes grants that ended (expired or revoked) before `before`; delegated ones first, since
    /// they reference their parent.
    pub async fn purge_grants(&self, before: Timestamp) -> Result<u64, StoreError> {
        let mut purged = 0;
        for statement in [
            "DELETE FROM grants WHERE parent_id IS NOT NULL AND (expires_at < $1 OR revoked_at < $1)",
            "DELETE FROM grants WHERE (expires_at < $1 OR revoked_at < $1) \
             AND NOT EXISTS (SELECT 1 FROM grants AS child WHERE child.parent_id = grants.id)",
        ] {
            let result = sqlx::query(statement)
                .bind(before.unix())
                .execute(&self.pool)
                .await
                .map_err(error::during("purge grants"))?;
            purged += columns::affected(&result);
        }
        Ok(purged)
    }
}

fn policy_version_from_row(row: &AnyRow) -> Result<PolicyVersion, StoreError> {
    let files: String = get(row, "files")?;
    let corrupt = || StoreError::Corrupt("column `files` is not a list of policy files".into());
    let files: Value = serde_json::from_str(&files).map_err(|_| corrupt())?;
    let files = files
        .as_array()
        .ok_or_else(corrupt)?
        .iter()
        .map(|file| {
            let name = file.get("name").and_then(Value::as_str).ok_or_else(corrupt)?;
            let text = file.get("text").and_then(Value::as_str).ok_or_else(corrupt)?;
            Ok(PolicyFile {
                name: name.to_owned(),
                text: text.to_owned(),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(PolicyVersion {
        version: get(row, "version")?,
        hash: get(row, "hash")?,
        source: get(row, "source")?,
        files,
        activated_by: get(row, "activated_by")?,
        activated_at: timestamp(row, "activated_at")?,
    })
}

fn grant_from_row(row: &AnyRow) -> Result<GrantRecord, StoreError> {
    let delegable: i64 = get(row, "delegable")?;
    Ok(GrantRecord {
        id: get(row, "id")?,
        agent_id: get(row, "agent_id")?,
        action: get(row, "action")?,
        resource: get(row, "resource")?,
        reason: get(row, "reason")?,
        delegable: delegable != 0,
        parent_id: get(row, "parent_id")?,
        delegated_from: get(row, "delegated_from")?,
        created_by: get(row, "created_by")?,
        created_at: timestamp(row, "created_at")?,
        expires_at: timestamp(row, "expires_at")?,
        revoked_at: optional_timestamp(row, "revoked_at")?,
    })
}
