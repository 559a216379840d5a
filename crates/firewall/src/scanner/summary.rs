//! The findings as the policy engine reads them, `findings.*`: counts, scores, rule ids and kinds per
//! family, and never a byte of the matched text (the summary goes into decisions and audit events).
//!
//! ```json
//! {"injection": {"score": 0.95, "count": 2, "rules": ["injection.model", "injection.override"]},
//!  "pii": {"count": 1, "kinds": ["card_number"], "severity": "high"},
//!  "secret": {"count": 1, "rules": ["secret.aws-access-token"], "severity": "high"},
//!  "waf": {"count": 1, "categories": ["sqli"], "rules": ["waf.sqli.tautology"], "severity": "high"},
//!  "egress": {"count": 1, "rules": ["egress.host_not_allowed"], "severity": "high"}}
//! ```
//!
//! A family appears only when it has findings, so `findings.pii` with `exists` asks "was any PII
//! found". `injection` is the exception: it is always there, with score 0 and count 0 when nothing was
//! found (or the direction does not look for injection), so `findings.injection.score > 0.8` reads a
//! number rather than a missing attribute (which a deny rule treats as a match, failing closed).
//! `verdict` is the scan's verdict.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::{ScanOutcome, Verdict};
use crate::dlp::Entity;
use crate::waf;
use crate::{Finding, FindingKind, Severity};

impl ScanOutcome {
    /// The summary described in the module documentation, as a JSON object.
    pub fn attributes(&self) -> Value {
        let mut out = Map::new();
        let injection = self.of(FindingKind::Injection);
        let score = injection.iter().map(|f| f.score).fold(0.0_f32, f32::max);
        out.insert(
            "injection".to_owned(),
            json!({"score": rounded(score), "count": injection.len(), "rules": rules(&injection)}),
        );
        let pii = self.of(FindingKind::Pii);
        if !pii.is_empty() {
            let kinds: BTreeSet<&str> = pii.iter().filter_map(|f| Entity::of(f)).map(Entity::name).collect();
            out.insert(
                "pii".to_owned(),
                json!({"count": pii.len(), "kinds": kinds, "severity": severity(&pii)}),
            );
        }
        let secret = self.of(FindingKind::Secret);
        if !secret.is_empty() {
            out.insert(
                "secret".to_owned(),
                json!({"count": secret.len(), "rules": rules(&secret), "severity": severity(&secret)}),
            );
        }
        let attacks = self.of(FindingKind::Waf);
        if !attacks.is_empty() {
            let categories: BTreeSet<&str> = attacks
                .iter()
                .filter_map(|f| waf::category_of(f))
                .map(|c| c.name())
                .collect();
            out.insert(
                "waf".to_owned(),
                json!({"count": attacks.len(), "categories": categories, "rules": rules(&attacks),
                       "severity": severity(&attacks)}),
            );
        }
        let egress = self.of(FindingKind::Egress);
        if !egress.is_empty() {
            out.insert(
                "egress".to_owned(),
                json!({"count": egress.len(), "rules": rules(&egress), "severity": severity(&egress)}),
            );
        }
        out.insert("verdict".to_owned(), json!(self.verdict));
        Value::Object(out)
    }

    /// Whether the text must not pass.
    pub fn is_blocked(&self) -> bool {
        self.verdict == Verdict::Block
    }

    fn of(&self, kind: FindingKind) -> Vec<&Finding> {
        self.findings.iter().filter(|f| f.kind == kind).collect()
    }
}

/// A score with four decimals, so `0.95` reads as 0.95 and not as the nearest `f32`, 0.949999988.
fn rounded(score: f32) -> f64 {
    (f64::from(score) * 10_000.0).round() / 10_000.0
}

/// The distinct rule ids, sorted.
fn rules(findings: &[&Finding]) -> BTreeSet<String> {
    findings.iter().map(|f| f.rule.clone()).collect()
}

/// The highest severity.
fn severity(findings: &[&Finding]) -> Option<Severity> {
    findings.iter().map(|f| f.severity).max()
}
