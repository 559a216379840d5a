//! The answer: a value carrying the effect, why, and (on request) the whole evaluation trace.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::{Effect, PolicyHash, PrincipalStatus};

/// What decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Basis {
    /// The principal is not active; no rule was read.
    Inactive { status: PrincipalStatus },
    /// The deciding rule (highest priority, deny winning ties).
    Rule,
    /// No rule matched and a just-in-time grant allowed.
    Grant { grant_id: String },
    /// No rule matched and no grant applied: default deny.
    NoMatch,
    /// A rule or grant would allow, but the action is outside the passport's scopes.
    OutsideScopes,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub decision: Effect,
    pub basis: Basis,
    /// The rule whose effect was applied, when a rule decided.
    pub deciding_rule: Option<String>,
    /// Every rule that matched, in precedence order (highest priority first, deny before allow,
    /// then by name).
    pub matching_rules: Vec<String>,
    /// Attributes a deny rule needed and the request lacked (those deny rules matched: fail closed).
    pub missing_attributes: Vec<String>,
    /// Evaluation errors; an error in a deny rule makes it match, one in an allow rule stops it matching.
    pub errors: Vec<String>,
    pub reasons: Vec<String>,
    pub obligations: Map<String, Value>,
    pub policy_set_hash: PolicyHash,
    /// Filled by `PolicySet::explain` only.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub trace: Vec<TraceStep>,
}

impl Decision {
    pub fn is_allow(&self) -> bool {
        self.decision == Effect::Allow
    }
}

/// One rule the index offered, and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TraceStep {
    pub rule: String,
    pub effect: Effect,
    pub priority: i64,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum Outcome {
    Matched,
    /// A deny rule matched because its condition needed this missing attribute.
    MatchedOnMissing(String),
    /// A deny rule matched because its condition could not be evaluated.
    MatchedOnError(String),
    ActionDiffers,
    ResourceDiffers,
    MissingCapability(String),
    ConditionFalse,
    /// An allow rule did not match because its condition needed this missing attribute.
    ConditionMissing(String),
    /// An allow rule did not match because its condition could not be evaluated.
    ConditionError(String),
}

impl Outcome {
    pub fn matched(&self) -> bool {
        matches!(
            self,
            Outcome::Matched | Outcome::MatchedOnMissing(_) | Outcome::MatchedOnError(_)
        )
    }
}
