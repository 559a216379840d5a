//! The kinds of data DLP finds, and how each is named in findings, policies and tokens.

use serde::{Deserialize, Serialize};

use crate::{Finding, FindingKind, Severity};

/// One kind of sensitive data. Every finding DLP reports maps back to exactly one entity, which is
/// what the per-entity actions in [`DlpPolicy`](super::DlpPolicy) are keyed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    CardNumber,
    Ssn,
    Email,
    Phone,
    Iban,
    IpAddress,
    /// Any credential found by a gitleaks-format rule.
    Secret,
}

impl Entity {
    /// Every entity, in the order policies and reports list them.
    pub const ALL: [Entity; 7] = [
        Entity::CardNumber,
        Entity::Ssn,
        Entity::Email,
        Entity::Phone,
        Entity::Iban,
        Entity::IpAddress,
        Entity::Secret,
    ];

    /// The snake_case name used in rule ids, redaction labels and tokens.
    pub const fn name(self) -> &'static str {
        match self {
            Entity::CardNumber => "card_number",
            Entity::Ssn => "ssn",
            Entity::Email => "email",
            Entity::Phone => "phone",
            Entity::Iban => "iban",
            Entity::IpAddress => "ip_address",
            Entity::Secret => "secret",
        }
    }

    /// The rule id of a PII finding (`pii.card_number`); secrets carry `secret.<gitleaks id>` instead.
    pub const fn rule(self) -> &'static str {
        match self {
            Entity::CardNumber => "pii.card_number",
            Entity::Ssn => "pii.ssn",
            Entity::Email => "pii.email",
            Entity::Phone => "pii.phone",
            Entity::Iban => "pii.iban",
            Entity::IpAddress => "pii.ip_address",
            Entity::Secret => "secret",
        }
    }

    /// The entity named `name` (as [`Entity::name`] spells it).
    pub fn from_name(name: &str) -> Option<Entity> {
        Entity::ALL.into_iter().find(|entity| entity.name() == name)
    }

    /// The entity a finding reports, or `None` for findings that are not DLP's (injection, WAF, egress).
    pub fn of(finding: &Finding) -> Option<Entity> {
        match finding.kind {
            FindingKind::Secret => Some(Entity::Secret),
            FindingKind::Pii => finding.rule.strip_prefix("pii.").and_then(Entity::from_name),
            _ => None,
        }
    }

    /// How bad a leak of this entity is: financial and government identifiers and credentials are
    /// high, contact data medium, network addresses low.
    pub const fn severity(self) -> Severity {
        match self {
            Entity::CardNumber | Entity::Ssn | Entity::Iban | Entity::Secret => Severity::High,
            Entity::Email | Entity::Phone => Severity::Medium,
            Entity::IpAddress => Severity::Low,
        }
    }

    pub(crate) fn finding(self, start: usize, end: usize, score: f32) -> Finding {
        Finding {
            kind: if self == Entity::Secret {
                FindingKind::Secret
            } else {
                FindingKind::Pii
            },
            rule: self.rule().to_owned(),
            severity: self.severity(),
            score,
            start,
            end,
        }
    }
}
