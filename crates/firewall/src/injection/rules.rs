//! Injection rules as data: the YAML rule file (built-in or the user's), merging a user file over the
//! built-in one, and compiling every pattern into one multi-pattern automaton so a view is scanned in a single pass.

use regex::bytes::{Regex, RegexBuilder};
use serde::Deserialize;

use super::InjectionError;
use crate::Severity;
use crate::normalize::Evasion;
use crate::pattern_set::MultiPattern;

/// The built-in rule file, compiled in.
pub(super) const BUILTIN_RULES: &str = include_str!("../../rules/injection.yaml");

/// Room for the lazy DFA of the whole set: patterns with bounded gaps have many states, and a cache that
/// is cleared too often makes the engine fall back to a slower one.
const DFA_CACHE_BYTES: usize = 16 << 20;
const COMPILED_SIZE_LIMIT: usize = 32 << 20;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRuleFile {
    pub version: u32,
    #[serde(default)]
    pub model: Option<RawModel>,
    #[serde(default)]
    pub rules: Vec<RawRule>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawModel {
    pub enabled: Option<bool>,
    pub threshold: Option<f32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRule {
    pub id: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub severity: Option<RawSeverity>,
    #[serde(default)]
    pub score: Option<f32>,
    #[serde(default)]
    pub patterns: Option<Vec<String>>,
    #[serde(default)]
    pub evasion: Option<Vec<EvasionKind>>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawSeverity {
    Low,
    Medium,
    High,
    Critical,
}

impl From<RawSeverity> for Severity {
    fn from(raw: RawSeverity) -> Self {
        match raw {
            RawSeverity::Low => Severity::Low,
            RawSeverity::Medium => Severity::Medium,
            RawSeverity::High => Severity::High,
            RawSeverity::Critical => Severity::Critical,
        }
    }
}

/// An evasion trick an `evasion` rule fires on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvasionKind {
    TagChars,
    Bidi,
    Homoglyphs,
    Invisible,
}

impl EvasionKind {
    fn present(self, evasion: &Evasion) -> bool {
        match self {
            Self::TagChars => evasion.tag_chars > 0,
            Self::Bidi => evasion.bidi > 0,
            Self::Homoglyphs => evasion.homoglyphs > 0,
            Self::Invisible => evasion.invisible > 0,
        }
    }
}

pub(super) fn parse(text: &str) -> Result<RawRuleFile, InjectionError> {
    let file: RawRuleFile = serde_saphyr::from_str(text).map_err(|e| InjectionError::Syntax(e.to_string()))?;
    if file.version != 1 {
        return Err(InjectionError::Version(file.version));
    }
    Ok(file)
}

/// Merges `overlay` over `base` by rule id, field by field; new ids are appended.
pub(super) fn merge(base: &mut RawRuleFile, overlay: RawRuleFile) {
    if let Some(model) = overlay.model {
        let current = base.model.get_or_insert(RawModel {
            enabled: None,
            threshold: None,
        });
        current.enabled = model.enabled.or(current.enabled);
        current.threshold = model.threshold.or(current.threshold);
    }
    for rule in overlay.rules {
        match base.rules.iter_mut().find(|r| r.id == rule.id) {
            Some(existing) => {
                existing.description = rule.description.or(existing.description.take());
                existing.enabled = rule.enabled.or(existing.enabled);
                existing.severity = rule.severity.or(existing.severity);
                existing.score = rule.score.or(existing.score);
                existing.patterns = rule.patterns.or(existing.patterns.take());
                existing.evasion = rule.evasion.or(existing.evasion.take());
            }
            None => base.rules.push(rule),
        }
    }
}

/// One enabled rule, ready to report.
#[derive(Debug)]
pub(super) struct CompiledRule {
    pub id: String,
    pub severity: Severity,
    pub score: f32,
    /// The rule's patterns, each compiled alone to find the span once the set says it matched.
    pub patterns: Vec<Regex>,
    pub evasion: Vec<EvasionKind>,
}

impl CompiledRule {
    pub fn evades(&self, evasion: &Evasion) -> bool {
        self.evasion.iter().any(|kind| kind.present(evasion))
    }
}

/// Every enabled rule and one set of all their patterns. Byte regexes without Unicode classes: the
/// normalized text is lowercase and mostly ASCII, and Unicode-aware gaps such as `[^.]{0,30}` multiply
/// the automaton's size (and the scan time) many times over. Non-ASCII literals still match their UTF-8.
#[derive(Debug)]
pub(super) struct CompiledRules {
    pub rules: Vec<CompiledRule>,
    /// All patterns as one automaton (`None` without patterns).
    pub set: Option<MultiPattern>,
    /// For each pattern of the set: (rule index, pattern index within the rule).
    pub owners: Vec<(usize, usize)>,
}

pub(super) fn compile(raw: &[RawRule]) -> Result<CompiledRules, InjectionError> {
    let mut rules = Vec::new();
    let mut sources = Vec::new();
    let mut owners = Vec::new();
    for rule in raw.iter().filter(|r| r.enabled.unwrap_or(true)) {
        let score = rule.score.unwrap_or(0.8);
        if !(0.0..=1.0).contains(&score) {
            return Err(InjectionError::Score {
                rule: rule.id.clone(),
                score,
            });
        }
        let patterns = rule.patterns.as_deref().unwrap_or_default();
        let evasion = rule.evasion.clone().unwrap_or_default();
        if patterns.is_empty() && evasion.is_empty() {
            return Err(InjectionError::Empty(rule.id.clone()));
        }
        let index = rules.len();
        let mut compiled = Vec::with_capacity(patterns.len());
        for (p, pattern) in patterns.iter().enumerate() {
            let source = ascii_boundaries(pattern);
            let regex = RegexBuilder::new(&source)
                .unicode(false)
                .size_limit(COMPILED_SIZE_LIMIT)
                .dfa_size_limit(DFA_CACHE_BYTES)
                .build()
                .map_err(|e| InjectionError::Pattern {
                    rule: rule.id.clone(),
                    message: e.to_string(),
                })?;
            compiled.push(regex);
            sources.push(source);
            owners.push((index, p));
        }
        let severity = rule.severity.map_or(Severity::Medium, Severity::from);
        rules.push(CompiledRule {
            id: rule.id.clone(),
            severity,
            score,
            patterns: compiled,
            evasion,
        });
    }
    let set = if sources.is_empty() {
        None
    } else {
        let set =
            MultiPattern::new(&sources, COMPILED_SIZE_LIMIT.saturating_mul(4), DFA_CACHE_BYTES).map_err(|message| {
                InjectionError::Pattern {
                    rule: "(set)".to_owned(),
                    message,
                }
            })?;
        Some(set)
    };
    Ok(CompiledRules { rules, set, owners })
}

/// Rewrites every `\b` of a pattern to the ASCII word boundary `(?-u:\b)`: the normalized text is mostly
/// ASCII, and a Unicode boundary would push the regex engine off its fast path on non-ASCII input.
fn ascii_boundaries(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('b') => out.push_str("(?-u:\\b)"),
            Some(next) => {
                out.push('\\');
                out.push(next);
            }
            None => out.push('\\'),
        }
    }
    out
}
