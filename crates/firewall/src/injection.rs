//! Prompt-injection detection: deterministic rules (data, see `rules/injection.yaml`) plus a small linear
//! classifier (weights in `models/`), both run over every view of the normalized text.
//!
//! Findings carry the rule id (`injection.override`, `injection.model`, ...), the rule's score or the
//! model's probability, and a byte span of the original text: the first match of each rule, the encoded
//! segment for matches in decoded views, the whole text for the model and for evasion rules.
//! What a finding means (block, flag, allow) is the policy's decision, not this module's.

pub mod model;
mod rules;

pub use model::Model;
pub use rules::EvasionKind;

use crate::normalize::{Normalized, normalize};
use crate::{Finding, FindingKind, Severity};
use rules::CompiledRules;

/// Rule id of the classifier's findings.
pub const MODEL_RULE: &str = "injection.model";

/// Why a rule file or weights file was rejected.
#[derive(Debug, thiserror::Error)]
pub enum InjectionError {
    #[error("injection rules are not valid YAML: {0}")]
    Syntax(String),
    #[error("injection rules version `{0}` is not supported (expected 1)")]
    Version(u32),
    #[error("rule `{rule}`: invalid pattern: {message}")]
    Pattern { rule: String, message: String },
    #[error("rule `{rule}`: score `{score}` is outside 0..=1")]
    Score { rule: String, score: f32 },
    #[error("rule `{0}` has neither patterns nor evasion triggers")]
    Empty(String),
    #[error("model threshold `{0}` is outside 0..=1")]
    Threshold(f32),
    #[error("injection model weights are invalid: {0}")]
    Model(String),
}

/// A compiled detector: rules, one regex set over them, and the model with its threshold.
/// Build once, share across threads (it is `Send + Sync`), scan many texts.
#[derive(Debug)]
pub struct InjectionDetector {
    rules: CompiledRules,
    model: Option<Model>,
    threshold: f32,
}

impl Default for InjectionDetector {
    /// The built-in rules and model. Falls back to an empty detector only if the shipped data were
    /// corrupt, which the crate's tests rule out.
    fn default() -> Self {
        Self::from_rules(rules::BUILTIN_RULES).unwrap_or_else(|_| Self::empty())
    }
}

impl InjectionDetector {
    /// A detector with exactly the rules of `text` (a rule file, same format as the built-in one) and
    /// the built-in model.
    pub fn from_rules(text: &str) -> Result<Self, InjectionError> {
        let file = rules::parse(text)?;
        Self::build(file, Model::parse(model::BUILTIN_MODEL)?)
    }

    /// The built-in rules with a user's rule file merged over them: same id replaces fields, `enabled:
    /// false` disables, new ids are added, `model:` tunes the classifier.
    pub fn with_overrides(overrides: &str) -> Result<Self, InjectionError> {
        let mut file = rules::parse(rules::BUILTIN_RULES)?;
        rules::merge(&mut file, rules::parse(overrides)?);
        Self::build(file, Model::parse(model::BUILTIN_MODEL)?)
    }

    /// Replaces the classifier (for example with weights retrained on a user's own data).
    pub fn with_model(mut self, model: Model) -> Self {
        self.model = Some(model);
        self
    }

    fn build(file: rules::RawRuleFile, model: Model) -> Result<Self, InjectionError> {
        let rules = rules::compile(&file.rules)?;
        let enabled = file.model.and_then(|m| m.enabled).unwrap_or(true);
        let threshold = file.model.and_then(|m| m.threshold).unwrap_or(0.5);
        if !(0.0..=1.0).contains(&threshold) {
            return Err(InjectionError::Threshold(threshold));
        }
        Ok(Self {
            rules,
            model: enabled.then_some(model),
            threshold,
        })
    }

    fn empty() -> Self {
        Self {
            rules: CompiledRules {
                rules: Vec::new(),
                set: None,
                owners: Vec::new(),
            },
            model: None,
            threshold: 1.0,
        }
    }

    /// The ids of the enabled rules, in file order.
    pub fn rule_ids(&self) -> impl Iterator<Item = &str> {
        self.rules.rules.iter().map(|r| r.id.as_str())
    }

    /// The classifier's probability for `text` (its primary view), whatever the threshold; `None` when
    /// the model is disabled.
    pub fn model_probability(&self, text: &str) -> Option<f32> {
        self.model.as_ref().map(|m| m.probability(normalize(text).text()))
    }

    /// Scans `text`: see [`scan_injection`].
    pub fn scan(&self, text: &str) -> Vec<Finding> {
        self.scan_normalized(text, &normalize(text))
    }

    /// Scans `text` whose normalized form the caller already has (the firewall normalizes once for all
    /// scanners).
    pub fn scan_normalized(&self, text: &str, normalized: &Normalized) -> Vec<Finding> {
        let mut findings = Vec::new();
        let mut reported = vec![false; self.rules.rules.len()];
        let primary_views = [Some(normalized.text()), normalized.leet(), normalized.rot13()];
        for view in primary_views.into_iter().flatten() {
            self.match_view(view, &mut reported, &mut findings, |s, e| {
                normalized.original_span(text, s, e)
            });
        }
        for decoded in normalized.decoded() {
            let span = (decoded.start, decoded.end);
            self.match_view(&decoded.text, &mut reported, &mut findings, |_, _| span);
        }
        let evasion = normalized.evasion();
        for (index, rule) in self.rules.rules.iter().enumerate() {
            if !reported[index] && rule.evades(&evasion) {
                reported[index] = true;
                findings.push(finding(&rule.id, rule.severity, rule.score, (0, text.len())));
            }
        }
        if let Some(model) = &self.model {
            self.classify(model, text, normalized, &mut findings);
        }
        findings
    }

    fn match_view(
        &self,
        view: &str,
        reported: &mut [bool],
        findings: &mut Vec<Finding>,
        span: impl Fn(usize, usize) -> (usize, usize),
    ) {
        let Some(matched) = self.rules.set.as_ref().and_then(|set| set.matching(view.as_bytes())) else {
            return;
        };
        for pattern in matched.iter() {
            let Some(&(index, p)) = self.rules.owners.get(pattern.as_usize()) else {
                continue;
            };
            let (Some(rule), Some(done)) = (self.rules.rules.get(index), reported.get_mut(index)) else {
                continue;
            };
            if *done {
                continue;
            }
            if let Some(m) = rule.patterns.get(p).and_then(|regex| regex.find(view.as_bytes())) {
                *done = true;
                findings.push(finding(&rule.id, rule.severity, rule.score, span(m.start(), m.end())));
            }
        }
    }

    fn classify(&self, model: &Model, text: &str, normalized: &Normalized, findings: &mut Vec<Finding>) {
        let mut best = (model.probability(normalized.text()), (0, text.len()));
        for decoded in normalized.decoded() {
            let p = model.probability(&decoded.text);
            if p > best.0 {
                best = (p, (decoded.start, decoded.end));
            }
        }
        if best.0 >= self.threshold {
            let severity = if best.0 >= 0.9 {
                Severity::High
            } else {
                Severity::Medium
            };
            findings.push(finding(MODEL_RULE, severity, best.0, best.1));
        }
    }
}

fn finding(rule: &str, severity: Severity, score: f32, (start, end): (usize, usize)) -> Finding {
    Finding {
        kind: FindingKind::Injection,
        rule: rule.to_owned(),
        severity,
        score,
        start,
        end,
    }
}

/// Scans `text` for prompt injection with `detector`: every rule that matches any view of the normalized
/// text (first match per rule), evasion rules, and the classifier when its probability reaches the
/// threshold.
pub fn scan_injection(text: &str, detector: &InjectionDetector) -> Vec<Finding> {
    detector.scan(text)
}

#[cfg(test)]
mod tests;
