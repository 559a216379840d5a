//! Credentials found by gitleaks-format rules. The rules are data: gitleaks' default file is compiled
//! in (`rules/gitleaks.toml`, MIT, its source commit beside it) and users can pass their own. A rule's
//! regex runs only when one of its keywords occurs in the text, found by one Aho-Corasick pass over
//! every keyword; that gate is what keeps a scan of ordinary prose from running two hundred regexes.

mod allowlist;
mod keywords;
mod translate;

use regex::bytes::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};
use serde::Deserialize;

use self::allowlist::{Allowlist, Candidate, RawAllowlist};
use self::keywords::KeywordGate;
use super::{DlpError, Entity, checks};
use crate::Finding;

/// Gitleaks' default rules, as published.
pub const GITLEAKS_DEFAULT_RULES: &str = include_str!("../../rules/gitleaks.toml");

/// Warden's additions in the same format (passwords in configuration, Telegram bot tokens anywhere,
/// unquoted AWS secret keys), loaded after gitleaks' rules by [`super::DlpDetector::new`].
pub const WARDEN_SECRET_RULES: &str = include_str!("../../rules/warden-secrets.toml");

/// The lead-in of gitleaks' generated rules: up to 50 identifier bytes before the keyword.
const LEAD_IN: &str = r"(?i)[\w.-]{0,50}?";
const LEAD_IN_MAX: usize = 50;

/// Compiled regexes are bounded so a hostile rule file cannot make construction take unbounded memory.
const REGEX_SIZE_LIMIT: usize = 32 << 20;

/// How far after a keyword a lead-in rule's match can end: the generated rules allow 20 bytes of
/// identifier, an operator, 5 bytes of quoting and a secret of at most 150 bytes.
const WINDOW: usize = 512;

/// A gitleaks configuration as the TOML spells it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    min_version: Option<String>,
    #[serde(default)]
    allowlist: Option<RawAllowlist>,
    #[serde(default)]
    allowlists: Vec<RawAllowlist>,
    #[serde(default)]
    rules: Vec<RawRule>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawRule {
    id: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    regex: Option<String>,
    #[serde(default)]
    secret_group: Option<usize>,
    #[serde(default)]
    entropy: Option<f64>,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    allowlist: Option<RawAllowlist>,
    #[serde(default)]
    allowlists: Vec<RawAllowlist>,
    #[serde(default)]
    skip_report: bool,
}

/// What loading a rule file did: how many rules run, which were skipped because they only make sense
/// for files (gitleaks `path` rules), and which failed to compile and why. Nothing is dropped silently.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleReport {
    pub loaded: usize,
    pub path_only: Vec<String>,
    pub failed: Vec<RuleFailure>,
}

/// A rule that could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleFailure {
    pub rule: String,
    pub reason: String,
}

#[derive(Debug, Clone)]
struct Rule {
    /// `secret.<gitleaks id>`.
    finding_rule: String,
    regex: Regex,
    /// The rule began with gitleaks' `[\w.-]{0,50}?` lead-in, compiled without it (a leading bounded
    /// repetition makes the automaton slow on every word); the match start is widened by hand.
    lead_in: bool,
    /// The rule can be searched in a window after each keyword (see [`windowed`]).
    windowed: bool,
    has_groups: bool,
    secret_group: Option<usize>,
    entropy: Option<f64>,
    allowlists: Vec<Allowlist>,
}

/// The compiled rule set.
#[derive(Debug, Clone)]
pub(crate) struct SecretRules {
    rules: Vec<Rule>,
    gate: KeywordGate,
    global: Vec<Allowlist>,
    report: RuleReport,
}

/// Compiles one gitleaks regex (RE2 syntax) for byte-wise, ASCII matching.
pub(crate) fn compile(pattern: &str) -> Result<Regex, String> {
    let translated = translate::go_to_rust(pattern);
    let ascii = RegexBuilder::new(&translated)
        .unicode(false)
        .size_limit(REGEX_SIZE_LIMIT)
        .build();
    // A pattern using Unicode classes (`\p{L}`) needs Unicode mode; RE2 would accept it.
    ascii
        .or_else(|_| RegexBuilder::new(&translated).size_limit(REGEX_SIZE_LIMIT).build())
        .map_err(|e| e.to_string())
}

pub(crate) fn compile_set(patterns: &[String]) -> Result<RegexSet, String> {
    let translated: Vec<String> = patterns.iter().map(|p| translate::go_to_rust(p)).collect();
    RegexSetBuilder::new(&translated)
        .unicode(false)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .or_else(|_| RegexSetBuilder::new(&translated).size_limit(REGEX_SIZE_LIMIT).build())
        .map_err(|e| e.to_string())
}

impl SecretRules {
    /// Parses and compiles a gitleaks-format TOML file. A file that does not parse is an error; a rule
    /// that does not compile is recorded in the report and the others still load.
    pub(crate) fn parse(toml_text: &str) -> Result<SecretRules, DlpError> {
        let raw: RawConfig = toml::from_str(toml_text).map_err(|e| DlpError::Rules(e.to_string()))?;
        let _ = (raw.title, raw.description, raw.min_version);
        let mut report = RuleReport::default();
        let mut global = Vec::new();
        for list in raw.allowlist.into_iter().chain(raw.allowlists) {
            match Allowlist::compile(list) {
                Ok(compiled) => global.extend(compiled),
                Err(reason) => return Err(DlpError::Rules(format!("global allowlist: {reason}"))),
            }
        }
        let mut rules = Vec::new();
        let mut keywords: Vec<String> = Vec::new();
        let mut gated: Vec<Vec<usize>> = Vec::new();
        let mut ungated = Vec::new();
        for raw_rule in raw.rules {
            let id = raw_rule.id.clone();
            if raw_rule.path.is_some() || raw_rule.skip_report {
                report.path_only.push(id);
                continue;
            }
            let rule_keywords: Vec<String> = raw_rule.keywords.iter().map(|k| k.to_ascii_lowercase()).collect();
            match compile_rule(raw_rule) {
                Ok(rule) => {
                    let index = rules.len();
                    rules.push(rule);
                    if rule_keywords.is_empty() {
                        ungated.push(index);
                    }
                    for keyword in rule_keywords {
                        match keywords.iter().position(|k| *k == keyword) {
                            Some(at) => gated[at].push(index),
                            None => {
                                keywords.push(keyword);
                                gated.push(vec![index]);
                            }
                        }
                    }
                }
                Err(reason) => report.failed.push(RuleFailure { rule: id, reason }),
            }
        }
        report.loaded = rules.len();
        let mut gate = KeywordGate::new(keywords, gated, ungated)
            .map_err(|_| DlpError::Rules("too many distinct keyword prefixes".to_owned()))?;
        gate.track_positions(|r| rules.get(r).is_some_and(|rule| rule.windowed));
        Ok(SecretRules {
            rules,
            gate,
            global,
            report,
        })
    }

    pub(crate) fn report(&self) -> &RuleReport {
        &self.report
    }

    /// Appends a finding for every secret in `text`.
    pub(crate) fn scan(&self, text: &str, out: &mut Vec<Finding>) {
        let bytes = text.as_bytes();
        let mut run = vec![false; self.rules.len()];
        let mut found = Vec::new();
        self.gate.mark(bytes, &mut run, &mut found);
        // Rules with the lead-in match at one of their keywords: search only a window after each.
        let mut windows: Vec<Vec<usize>> = vec![Vec::new(); self.rules.len()];
        for &(at, k) in &found {
            for &r in self.gate.rules_of(k) {
                if self.rules[r].windowed {
                    windows[r].push(at);
                }
            }
        }
        for (i, rule) in self.rules.iter().enumerate().filter(|(i, _)| run[*i]) {
            if rule.windowed && !windows[i].is_empty() {
                windows[i].sort_unstable();
                self.scan_windows(rule, text, &windows[i], out);
            } else {
                self.scan_rule(rule, text, 0, bytes.len(), out);
            }
        }
    }

    /// Searches `[keyword − 16, keyword + WINDOW)` around each keyword occurrence, windows merged. A
    /// match that reaches a window's end could be cut short there, so that window is searched again
    /// to the end of the text.
    fn scan_windows(&self, rule: &Rule, text: &str, starts: &[usize], out: &mut Vec<Finding>) {
        let len = text.len();
        let mut i = 0;
        while i < starts.len() {
            let from = starts[i].saturating_sub(16);
            let mut to = (starts[i] + WINDOW).min(len);
            i += 1;
            while i < starts.len() && starts[i].saturating_sub(16) <= to {
                to = (starts[i] + WINDOW).min(len);
                i += 1;
            }
            if let Some(cut) = self.scan_rule(rule, text, from, to, out) {
                self.scan_rule(rule, text, cut, len, out);
            }
        }
    }

    /// Reports the rule's matches from `from` on, searching `text[..to]`. A match ending exactly at
    /// `to < text.len()` may have been cut short: its start is returned for the caller to search on.
    fn scan_rule(&self, rule: &Rule, text: &str, from: usize, to: usize, out: &mut Vec<Finding>) -> Option<usize> {
        let full = text.as_bytes();
        let bytes = &full[..to];
        let mut locs = rule.regex.capture_locations();
        let mut at = from;
        while at <= bytes.len() {
            let Some(whole) = rule.regex.captures_read_at(&mut locs, bytes, at) else {
                break;
            };
            if whole.end() == to && to < full.len() {
                return Some(whole.start());
            }
            at = if whole.end() > whole.start() {
                whole.end()
            } else {
                whole.end() + 1
            };
            let (start, end) = secret_span(rule, &locs, whole.start(), whole.end());
            let secret = &bytes[start..end];
            if secret.is_empty() || rule.entropy.is_some_and(|min| checks::shannon_entropy(secret) <= min) {
                continue;
            }
            // Leftmost-first: with the lead-in, the match would have started as far left as it reaches.
            let mut whole_start = whole.start();
            if rule.lead_in {
                let floor = whole_start.saturating_sub(LEAD_IN_MAX);
                while whole_start > floor
                    && matches!(bytes[whole_start - 1], b'0'..=b'9' | b'A'..=b'Z' | b'a'..=b'z' | b'_' | b'.' | b'-')
                {
                    whole_start -= 1;
                }
            }
            let line_start = bytes[..whole_start]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |p| p + 1);
            let line_end = full[whole.end()..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(full.len(), |p| whole.end() + p);
            let candidate = Candidate {
                secret,
                whole: &bytes[whole_start..whole.end()],
                line: &full[line_start..line_end],
            };
            let rule_id = rule.finding_rule.trim_start_matches("secret.");
            let global = self
                .global
                .iter()
                .filter(|a| a.target_rules.is_empty() || a.target_rules.iter().any(|r| r == rule_id));
            if rule.allowlists.iter().chain(global).any(|a| a.allows(&candidate)) {
                continue;
            }
            let (start, end) = (floor_char_boundary(text, start), ceil_char_boundary(text, end));
            let mut finding = Entity::Secret.finding(start, end, 1.0);
            finding.rule.clone_from(&rule.finding_rule);
            out.push(finding);
        }
        None
    }
}

fn compile_rule(raw: RawRule) -> Result<Rule, String> {
    let _ = (raw.description, raw.tags);
    let pattern = raw.regex.ok_or_else(|| "no regex".to_owned())?;
    let stripped = pattern.strip_prefix(LEAD_IN).map(|rest| format!("(?i){rest}"));
    let regex = compile(stripped.as_deref().unwrap_or(&pattern))?;
    let mut allowlists = Vec::new();
    for list in raw.allowlist.into_iter().chain(raw.allowlists) {
        allowlists.extend(Allowlist::compile(list)?);
    }
    let groups = regex.captures_len() - 1;
    if let Some(group) = raw.secret_group.filter(|&g| g > groups) {
        return Err(format!("secretGroup {group} but the regex has {groups} groups"));
    }
    Ok(Rule {
        finding_rule: format!("secret.{}", raw.id),
        has_groups: groups > 0,
        lead_in: stripped.is_some(),
        windowed: stripped.as_deref().is_some_and(windowed),
        regex,
        secret_group: raw.secret_group.filter(|&g| g > 0),
        entropy: raw.entropy.filter(|&e| e > 0.0),
        allowlists,
    })
}

/// Whether a lead-in rule can be searched in a window after each keyword instead of the whole text:
/// its match starts at the keyword, and it ends in gitleaks' terminator `(?:[\x60'"\s;]|\\[nr]|$)`,
/// so a window that cuts a match short still yields a match ending at the cut (which is then searched
/// again without the window), as long as no counted repetition needs more bytes than the window has.
fn windowed(stripped: &str) -> bool {
    let terminated = stripped.ends_with(r#"(?:[\x60'"\s;]|\\[nr]|$)"#);
    let counts = stripped
        .split(['{', ',', '}'])
        .filter_map(|part| part.parse::<usize>().ok());
    terminated && counts.into_iter().all(|n| n <= WINDOW / 2)
}

/// Where the secret is in a match: the `secretGroup` if set, else the first group that matched
/// something (gitleaks' rule), else the whole match.
fn secret_span(rule: &Rule, locs: &regex::bytes::CaptureLocations, start: usize, end: usize) -> (usize, usize) {
    if !rule.has_groups {
        return (start, end);
    }
    if let Some(group) = rule.secret_group {
        return locs.get(group).unwrap_or((start, end));
    }
    (1..locs.len())
        .filter_map(|g| locs.get(g))
        .find(|(s, e)| e > s)
        .unwrap_or((start, end))
}

/// Byte patterns can end inside a multi-byte character; findings are widened to whole characters so
/// a caller can slice and redact with them.
fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char_boundary(text: &str, mut i: usize) -> usize {
    while i < text.len() && !text.is_char_boundary(i) {
        i += 1;
    }
    i
}
