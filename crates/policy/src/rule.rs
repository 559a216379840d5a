//! The one internal rule model every accepted file format is translated into.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Condition, Pattern};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Effect {
    Allow,
    Deny,
}

impl Effect {
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "allow",
            Effect::Deny => "deny",
        }
    }
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which accepted format a rule was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// `rules:` — Warden's own format.
    Warden,
    /// `policies: {policies: [...]}` — the zta-agent file (seed 004).
    ZtaAgent,
    /// `policies: [...]` — the 371OS policy (seed 000).
    Os371,
    /// `roles:` — a role table (seeds 001 and 002).
    RoleTable,
}

/// Where a rule was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Origin {
    pub file: String,
    pub line: Option<u64>,
    pub format: Format,
}

/// A rule: when `actions`, `resources`, the required capabilities and `condition` all hold, the rule
/// matches and its effect applies (at its priority) with its obligations.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Unique within a policy set.
    pub name: String,
    pub description: Option<String>,
    pub origin: Origin,
    pub effect: Effect,
    pub priority: i64,
    /// The rule applies when any pattern matches the action.
    pub actions: Vec<Pattern>,
    /// The rule applies when any pattern matches the resource.
    pub resources: Vec<Pattern>,
    /// Allow rules only: every one must be among the principal's capabilities.
    pub require_capabilities: Vec<String>,
    pub condition: Option<Condition>,
    pub obligations: Map<String, Value>,
}

impl Rule {
    pub(crate) fn applies_to(&self, action: &str, resource: &str) -> (bool, bool) {
        (
            self.actions.iter().any(|p| p.matches(action)),
            self.resources.iter().any(|p| p.matches(resource)),
        )
    }
}
