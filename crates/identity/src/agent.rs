//! The agent registry's rules: what a valid agent is, and which status changes are allowed.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use warden_core::{AuthMethod, Principal, Timestamp};

use crate::IdentityError;

/// Longest name, role, capability, scope or tier accepted.
pub const MAX_LABEL_LEN: usize = 128;
/// Most roles, capabilities or scopes one agent may carry.
pub const MAX_LABELS: usize = 64;
/// Largest `attributes` object, serialized.
pub const MAX_ATTRIBUTES_BYTES: usize = 16 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentStatus {
    Active,
    Suspended,
    Quarantined,
    Revoked,
}

impl AgentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AgentStatus::Active => "active",
            AgentStatus::Suspended => "suspended",
            AgentStatus::Quarantined => "quarantined",
            AgentStatus::Revoked => "revoked",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "active" => Some(AgentStatus::Active),
            "suspended" => Some(AgentStatus::Suspended),
            "quarantined" => Some(AgentStatus::Quarantined),
            "revoked" => Some(AgentStatus::Revoked),
            _ => None,
        }
    }
}

/// A registered agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Agent {
    pub id: String,
    pub name: String,
    pub roles: Vec<String>,
    pub capabilities: Vec<String>,
    /// The most a passport of this agent may ever carry.
    pub scopes: Vec<String>,
    pub tier: Option<String>,
    pub attributes: Map<String, Value>,
    pub status: AgentStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Tokens issued before this instant are dead: quarantine and revocation move it forward.
    pub tokens_valid_after: Timestamp,
}

/// What an administrator asks for when registering an agent, before validation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewAgent {
    pub name: String,
    pub roles: Vec<String>,
    pub capabilities: Vec<String>,
    pub scopes: Vec<String>,
    pub tier: Option<String>,
    pub attributes: Map<String, Value>,
}

/// A change to an agent's grants; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentPatch {
    pub roles: Option<Vec<String>>,
    pub capabilities: Option<Vec<String>>,
    pub scopes: Option<Vec<String>>,
    pub tier: Option<Option<String>>,
    pub attributes: Option<Map<String, Value>>,
}

/// What an administrator can do to an agent's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusChange {
    Suspend,
    Quarantine,
    Release,
    Revoke,
}

impl StatusChange {
    pub fn as_str(self) -> &'static str {
        match self {
            StatusChange::Suspend => "suspend",
            StatusChange::Quarantine => "quarantine",
            StatusChange::Release => "release",
            StatusChange::Revoke => "revoke",
        }
    }
}

impl Agent {
    /// Builds a valid agent from a request, or says which field is wrong.
    pub fn register(id: String, request: NewAgent, now: Timestamp) -> Result<Agent, IdentityError> {
        validate_name(&request.name)?;
        let roles = validate_labels("roles", request.roles)?;
        let capabilities = validate_labels("capabilities", request.capabilities)?;
        let scopes = validate_labels("scopes", request.scopes)?;
        let tier = request.tier.map(|t| validate_label("tier", t)).transpose()?;
        validate_attributes(&request.attributes)?;
        Ok(Agent {
            id,
            name: request.name,
            roles,
            capabilities,
            scopes,
            tier,
            attributes: request.attributes,
            status: AgentStatus::Active,
            created_at: now,
            updated_at: now,
            tokens_valid_after: Timestamp::EPOCH,
        })
    }

    pub fn apply(&mut self, patch: AgentPatch, now: Timestamp) -> Result<(), IdentityError> {
        if let Some(roles) = patch.roles {
            self.roles = validate_labels("roles", roles)?;
        }
        if let Some(capabilities) = patch.capabilities {
            self.capabilities = validate_labels("capabilities", capabilities)?;
        }
        if let Some(scopes) = patch.scopes {
            self.scopes = validate_labels("scopes", scopes)?;
        }
        if let Some(tier) = patch.tier {
            self.tier = tier.map(|t| validate_label("tier", t)).transpose()?;
        }
        if let Some(attributes) = patch.attributes {
            validate_attributes(&attributes)?;
            self.attributes = attributes;
        }
        self.updated_at = now;
        Ok(())
    }

    /// Applies a status change. Revocation is final; suspension, quarantine and revocation kill every
    /// live token (a release does not bring them back: the agent logs in again).
    pub fn change_status(&mut self, change: StatusChange, now: Timestamp) -> Result<(), IdentityError> {
        if self.status == AgentStatus::Revoked {
            return Err(IdentityError::AgentRevoked);
        }
        self.status = match change {
            StatusChange::Suspend => AgentStatus::Suspended,
            StatusChange::Quarantine => AgentStatus::Quarantined,
            StatusChange::Release => AgentStatus::Active,
            StatusChange::Revoke => AgentStatus::Revoked,
        };
        if matches!(
            change,
            StatusChange::Quarantine | StatusChange::Revoke | StatusChange::Suspend
        ) {
            // Tokens carry whole seconds; anything issued up to and including this second dies.
            self.tokens_valid_after = now.plus(1);
        }
        self.updated_at = now;
        Ok(())
    }

    /// Refuses anything but an active agent, naming its status.
    pub fn ensure_active(&self) -> Result<(), IdentityError> {
        match self.status {
            AgentStatus::Active => Ok(()),
            status => Err(IdentityError::AgentInactive(status)),
        }
    }

    /// Whether a token issued at `issued_at` predates a quarantine or revocation of this agent.
    pub fn token_predates_cutoff(&self, issued_at: Timestamp) -> bool {
        issued_at < self.tokens_valid_after
    }

    pub fn principal(&self, auth_method: AuthMethod, token_id: Option<String>) -> Principal {
        Principal {
            agent_id: self.id.clone(),
            name: self.name.clone(),
            roles: self.roles.clone(),
            capabilities: self.capabilities.clone(),
            scopes: self.scopes.clone(),
            tier: self.tier.clone(),
            auth_method,
            token_id,
        }
    }
}

/// Agent names are login identities: short, printable, path-safe.
pub fn validate_name(name: &str) -> Result<(), IdentityError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_LABEL_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'@'));
    if ok {
        Ok(())
    } else {
        Err(IdentityError::Invalid {
            field: "name",
            reason: format!("must be 1 to {MAX_LABEL_LEN} characters of letters, digits, `_`, `-`, `.` or `@`"),
        })
    }
}

fn validate_label(field: &'static str, label: String) -> Result<String, IdentityError> {
    let ok = !label.is_empty()
        && label.len() <= MAX_LABEL_LEN
        && label.chars().all(|c| !c.is_control() && !c.is_whitespace());
    if ok {
        Ok(label)
    } else {
        Err(IdentityError::Invalid {
            field,
            reason: format!("each entry must be 1 to {MAX_LABEL_LEN} characters without spaces or control characters"),
        })
    }
}

fn validate_labels(field: &'static str, labels: Vec<String>) -> Result<Vec<String>, IdentityError> {
    if labels.len() > MAX_LABELS {
        return Err(IdentityError::Invalid {
            field,
            reason: format!("at most {MAX_LABELS} entries"),
        });
    }
    let mut out = Vec::with_capacity(labels.len());
    for label in labels {
        let label = validate_label(field, label)?;
        if !out.contains(&label) {
            out.push(label);
        }
    }
    Ok(out)
}

fn validate_attributes(attributes: &Map<String, Value>) -> Result<(), IdentityError> {
    let size = serde_json::to_vec(attributes).map(|v| v.len()).unwrap_or(usize::MAX);
    if size > MAX_ATTRIBUTES_BYTES {
        return Err(IdentityError::Invalid {
            field: "attributes",
            reason: format!("at most {MAX_ATTRIBUTES_BYTES} bytes of JSON"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
