//! What is asked: a principal, an action, a resource, the context and the time, all as plain values.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use warden_core::{AuthMethod, Principal, Timestamp};

/// An agent's standing in the registry. Anything but `Active` is denied before any rule is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalStatus {
    Active,
    Suspended,
    Quarantined,
    Revoked,
}

impl PrincipalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalStatus::Active => "active",
            PrincipalStatus::Suspended => "suspended",
            PrincipalStatus::Quarantined => "quarantined",
            PrincipalStatus::Revoked => "revoked",
        }
    }
}

/// The facts about the caller that policy may read (`principal.*`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subject {
    pub agent_id: String,
    /// The login identity; the seed 004 format calls it `agent_id`.
    pub name: String,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// `Some` when the caller presented a passport: then every allow must fall within these scopes.
    /// `None` (an access token) means no scope bound applies.
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    #[serde(default)]
    pub tier: Option<String>,
    pub status: PrincipalStatus,
    #[serde(default)]
    pub attributes: Map<String, Value>,
}

impl Subject {
    /// The subject for an authenticated principal. A passport's scopes bound what may be allowed; an
    /// access token carries the agent's scope ceiling, which bounds passports, not requests.
    pub fn from_principal(principal: &Principal, status: PrincipalStatus, attributes: Map<String, Value>) -> Subject {
        Subject {
            agent_id: principal.agent_id.clone(),
            name: principal.name.clone(),
            roles: principal.roles.clone(),
            capabilities: principal.capabilities.clone(),
            scopes: (principal.auth_method == AuthMethod::Passport).then(|| principal.scopes.clone()),
            tier: principal.tier.clone(),
            status,
            attributes,
        }
    }
}

/// One authorization question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub principal: Subject,
    pub action: String,
    pub resource: String,
    /// Attributes of the resource (`resource.<key>`); `resource` and `resource.id` are its name.
    #[serde(default)]
    pub resource_attributes: Map<String, Value>,
    /// `context.<key>`: `ip`, `mfa`, `risk_score` and whatever else the caller supplies.
    #[serde(default)]
    pub context: Map<String, Value>,
    /// `findings.<key>`: what the content firewall found in the request's content.
    #[serde(default)]
    pub findings: Map<String, Value>,
    /// The instant the question is asked; time windows are judged against it. Never read from a clock
    /// here.
    pub now: Timestamp,
}
