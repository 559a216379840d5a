//! The agent registry: one row per agent, lists and attributes as JSON text.

use async_trait::async_trait;
use sqlx::any::AnyRow;
use warden_core::StoreError;
use warden_identity::repo::AgentRepository;
use warden_identity::{Agent, AgentStatus};

use crate::columns::{self, get, json_object, list_text, object_text, string_list, timestamp};
use crate::{Store, error};

#[async_trait]
impl AgentRepository for Store {
    async fn insert_agent(&self, agent: &Agent) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO agents (id, name, roles, capabilities, scopes, tier, attributes, status, \
             created_at, updated_at, tokens_valid_after) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(agent.id.as_str())
        .bind(agent.name.as_str())
        .bind(list_text(&agent.roles))
        .bind(list_text(&agent.capabilities))
        .bind(list_text(&agent.scopes))
        .bind(agent.tier.as_deref())
        .bind(object_text(&agent.attributes))
        .bind(agent.status.as_str())
        .bind(agent.created_at.unix())
        .bind(agent.updated_at.unix())
        .bind(agent.tokens_valid_after.unix())
        .execute(&self.pool)
        .await
        .map_err(error::during("insert agent"))?;
        Ok(())
    }

    async fn agent(&self, id: &str) -> Result<Option<Agent>, StoreError> {
        sqlx::query("SELECT * FROM agents WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(error::during("read agent"))?
            .map(|row| agent_from_row(&row))
            .transpose()
    }

    async fn agent_by_name(&self, name: &str) -> Result<Option<Agent>, StoreError> {
        sqlx::query("SELECT * FROM agents WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(error::during("read agent by name"))?
            .map(|row| agent_from_row(&row))
            .transpose()
    }

    async fn list_agents(&self, after: Option<&str>, limit: u32) -> Result<Vec<Agent>, StoreError> {
        let query = match after {
            Some(after) => sqlx::query("SELECT * FROM agents WHERE id > $1 ORDER BY id LIMIT $2").bind(after),
            None => sqlx::query("SELECT * FROM agents ORDER BY id LIMIT $1"),
        };
        let rows = query
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(error::during("list agents"))?;
        rows.iter().map(agent_from_row).collect()
    }

    async fn update_agent(&self, agent: &Agent) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE agents SET name = $2, roles = $3, capabilities = $4, scopes = $5, tier = $6, \
             attributes = $7, status = $8, created_at = $9, updated_at = $10, \
             tokens_valid_after = $11 \
             WHERE id = $1",
        )
        .bind(agent.id.as_str())
        .bind(agent.name.as_str())
        .bind(list_text(&agent.roles))
        .bind(list_text(&agent.capabilities))
        .bind(list_text(&agent.scopes))
        .bind(agent.tier.as_deref())
        .bind(object_text(&agent.attributes))
        .bind(agent.status.as_str())
        .bind(agent.created_at.unix())
        .bind(agent.updated_at.unix())
        .bind(agent.tokens_valid_after.unix())
        .execute(&self.pool)
        .await
        .map_err(error::during("update agent"))?;
        Ok(columns::affected(&result) == 1)
    }

    async fn count_agents(&self) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM agents")
            .fetch_one(&self.pool)
            .await
            .map_err(error::during("count agents"))?;
        columns::count(count, "the agent count")
    }
}

fn agent_from_row(row: &AnyRow) -> Result<Agent, StoreError> {
    let status: String = get(row, "status")?;
    Ok(Agent {
        id: get(row, "id")?,
        name: get(row, "name")?,
        roles: string_list(row, "roles")?,
        capabilities: string_list(row, "capabilities")?,
        scopes: string_list(row, "scopes")?,
        tier: get(row, "tier")?,
        attributes: json_object(row, "attributes")?,
        status: AgentStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt("column `status` is not a known agent status".into()))?,
        created_at: timestamp(row, "created_at")?,
        updated_at: timestamp(row, "updated_at")?,
        tokens_valid_after: timestamp(row, "tokens_valid_after")?,
    })
}
