//! Just-in-time grants as values: one action on one resource for one agent, until an instant. Storing
//! and listing them is the edge's job; here they are only judged.
//!
//! A grant counts as an allow rule at the lowest possible priority: it decides only when no rule
//! matched, and any matching deny rule beats it. Passport scopes bound it like any other allow.
//! Delegation goes one hop: a delegable grant can be handed to one other agent for the same action and
//! resource, expiring no later, and the delegated grant cannot be delegated again.

use serde::{Deserialize, Serialize};
use warden_core::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    /// The grant's own id, named in the decision that uses it.
    pub id: String,
    pub agent_id: String,
    /// Exact action name; grants never take patterns.
    pub action: String,
    /// Exact resource name.
    pub resource: String,
    /// The grant holds while `now < expires_at`.
    pub expires_at: Timestamp,
    #[serde(default)]
    pub delegable: bool,
    /// The agent the grant was delegated from, if it was.
    #[serde(default)]
    pub delegated_from: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    #[error("grant `{0}` is not delegable")]
    NotDelegable(String),
    #[error("grant `{0}` was itself delegated; delegation goes one hop only")]
    AlreadyDelegated(String),
    #[error("grant `{0}` has expired")]
    Expired(String),
    #[error("a grant cannot be delegated to the agent that holds it")]
    SelfDelegation,
}

impl Grant {
    /// Whether this grant allows `action` on `resource` to `agent_id` at `now`.
    pub fn covers(&self, agent_id: &str, action: &str, resource: &str, now: Timestamp) -> bool {
        self.agent_id == agent_id && self.action == action && self.resource == resource && now < self.expires_at
    }

    /// Hands the grant one hop on: same action and resource, expiring at the earlier of `expires_at`
    /// and the parent's expiry, never delegable again.
    pub fn delegate(
        &self,
        id: String,
        to_agent: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<Grant, GrantError> {
        if !self.delegable {
            return Err(GrantError::NotDelegable(self.id.clone()));
        }
        if self.delegated_from.is_some() {
            return Err(GrantError::AlreadyDelegated(self.id.clone()));
        }
        if now >= self.expires_at {
            return Err(GrantError::Expired(self.id.clone()));
        }
        if to_agent == self.agent_id {
            return Err(GrantError::SelfDelegation);
        }
        Ok(Grant {
            id,
            agent_id: to_agent.to_owned(),
            action: self.action.clone(),
            resource: self.resource.clone(),
            expires_at: expires_at.min(self.expires_at),
            delegable: false,
            delegated_from: Some(self.agent_id.clone()),
        })
    }
}
