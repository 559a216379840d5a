//! What to do with what was found, per entity: allow, mask, redact, tokenize or block. The policy is
//! configuration (`deny_unknown_fields`, so a misspelt entity is an error and not a silent default);
//! applying it is a pure function of the text, the findings and, for tokens, a vault.

use serde::{Deserialize, Serialize};

use super::token::{self, TokenVault};
use super::{DlpError, Entity};
use crate::Finding;

/// One action. Ordered by strength: when findings overlap, the strongest action among them applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DlpAction {
    /// Leave the text as it is (the finding is still reported).
    Allow,
    /// Keep the last four characters, star the rest (`************1111`).
    Mask,
    /// Replace with a label, `[REDACTED:card_number]`.
    Redact,
    /// Replace with a reversible token, `tok_card_number_…`, whose original the vault keeps.
    Tokenize,
    /// Refuse the whole text.
    Block,
}

/// The action for each entity. Defaults fail closed: credentials block, all PII is redacted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DlpPolicy {
    pub card_number: DlpAction,
    pub ssn: DlpAction,
    pub email: DlpAction,
    pub phone: DlpAction,
    pub iban: DlpAction,
    pub ip_address: DlpAction,
    pub secret: DlpAction,
}

impl Default for DlpPolicy {
    fn default() -> Self {
        DlpPolicy {
            card_number: DlpAction::Redact,
            ssn: DlpAction::Redact,
            email: DlpAction::Redact,
            phone: DlpAction::Redact,
            iban: DlpAction::Redact,
            ip_address: DlpAction::Redact,
            secret: DlpAction::Block,
        }
    }
}

/// The result of applying a policy.
#[derive(Debug, Clone, PartialEq)]
pub enum DlpOutcome {
    /// The text must not pass; the rules of the findings whose action is `block`.
    Block { rules: Vec<String> },
    /// The text to pass on, with masks, labels and tokens in place (unchanged if nothing applied).
    Pass { text: String },
}

/// How [`redact`] writes over a span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mask {
    /// `[REDACTED:<entity>]`.
    Label,
    /// Every letter and digit but the last four replaced by `*`, separators kept.
    LastFour,
}

impl DlpPolicy {
    pub fn action(&self, entity: Entity) -> DlpAction {
        match entity {
            Entity::CardNumber => self.card_number,
            Entity::Ssn => self.ssn,
            Entity::Email => self.email,
            Entity::Phone => self.phone,
            Entity::Iban => self.iban,
            Entity::IpAddress => self.ip_address,
            Entity::Secret => self.secret,
        }
    }

    /// Applies the policy to `text` given its DLP findings (other findings are ignored). Overlapping
    /// findings are merged and get the strongest action among them; any `block` blocks the text.
    pub fn apply(&self, text: &str, findings: &[Finding], vault: &mut dyn TokenVault) -> Result<DlpOutcome, DlpError> {
        let spans = merge(text, findings, |entity| self.action(entity));
        let blocked: Vec<String> = findings
            .iter()
            .filter(|f| Entity::of(f).is_some_and(|e| self.action(e) == DlpAction::Block))
            .map(|f| f.rule.clone())
            .collect();
        if !blocked.is_empty() {
            return Ok(DlpOutcome::Block { rules: blocked });
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for span in spans {
            out.push_str(&text[at..span.start]);
            let original = &text[span.start..span.end];
            match span.action {
                DlpAction::Allow | DlpAction::Block => out.push_str(original),
                DlpAction::Mask => last_four(original, &mut out),
                DlpAction::Redact => label(span.entity, &mut out),
                DlpAction::Tokenize => out.push_str(token::issue(vault, span.entity, original)?.as_str()),
            }
            at = span.end;
        }
        out.push_str(&text[at..]);
        Ok(DlpOutcome::Pass { text: out })
    }
}

/// Writes `mask` over every DLP finding's span; overlapping findings become one masked span.
pub fn redact(text: &str, findings: &[Finding], mask: Mask) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for span in merge(text, findings, |_| DlpAction::Redact) {
        out.push_str(&text[at..span.start]);
        match mask {
            Mask::Label => label(span.entity, &mut out),
            Mask::LastFour => last_four(&text[span.start..span.end], &mut out),
        }
        at = span.end;
    }
    out.push_str(&text[at..]);
    out
}

/// A merged span: the union of overlapping findings, the entity of the one with the strongest action.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Span {
    pub start: usize,
    pub end: usize,
    pub entity: Entity,
    pub action: DlpAction,
}

/// Sorts and merges the DLP findings into disjoint spans; findings whose span is not a valid range of
/// `text` are skipped rather than trusted.
pub(crate) fn merge(text: &str, findings: &[Finding], action: impl Fn(Entity) -> DlpAction) -> Vec<Span> {
    let mut spans: Vec<Span> = findings
        .iter()
        .filter(|f| f.start < f.end && text.get(f.start..f.end).is_some())
        .filter_map(|f| {
            Entity::of(f).map(|entity| Span {
                start: f.start,
                end: f.end,
                entity,
                action: action(entity),
            })
        })
        .collect();
    spans.sort_by_key(|s| (s.start, std::cmp::Reverse(s.end)));
    let mut merged: Vec<Span> = Vec::with_capacity(spans.len());
    for span in spans {
        match merged.last_mut() {
            Some(last) if span.start < last.end => {
                last.end = last.end.max(span.end);
                if span.action > last.action {
                    last.action = span.action;
                    last.entity = span.entity;
                }
            }
            _ => merged.push(span),
        }
    }
    merged
}

fn label(entity: Entity, out: &mut String) {
    out.push_str("[REDACTED:");
    out.push_str(entity.name());
    out.push(']');
}

fn last_four(original: &str, out: &mut String) {
    let alnum = original.chars().filter(|c| c.is_alphanumeric()).count();
    let mut seen = 0;
    for c in original.chars() {
        if c.is_alphanumeric() {
            seen += 1;
            out.push(if seen + 4 > alnum { c } else { '*' });
        } else {
            out.push(c);
        }
    }
}
