//! WAF rules for tool arguments and proxied requests: SQL injection, XSS, path traversal and file
//! inclusion, command injection, SSRF targets, template injection, and the cheap neighbours (NoSQL, LDAP,
//! XXE, CRLF, SSI, JNDI). Every text is decoded first ([`decode`]: percent, HTML entities, JS escapes,
//! overlong UTF-8, fullwidth forms, case), SQL rules also see it with `/* */` comments removed, then an
//! Aho-Corasick pass over the rules' keywords decides which regexes run at all, so benign text costs
//! one decode and one automaton scan. SSRF is code, not a regex: URLs are parsed and their hosts
//! classified like the egress allowlist does. Rules are data (`rules/waf.yaml`); users add, disable and
//! tune them through [`WafConfig`]. What this does not do: parse SQL or HTML (it matches attack
//! shapes, not grammars), or decide (a finding feeds the policy engine).

mod decode;
mod precheck;
mod rules;
mod ssrf;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use serde::Deserialize;
use std::collections::BTreeMap;

use crate::finding::{Finding, FindingKind, Severity};
use crate::pattern_set::MultiPattern;
use decode::Decoded;
use rules::{CompiledRule, RuleSpec, View};

pub use rules::{RuleTune, WafCategory};

/// The built-in rules, compiled into the binary.
const BUILTIN_RULES: &str = include_str!("../rules/waf.yaml");

/// Why rules could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WafError {
    #[error("waf rules do not parse: {0}")]
    Syntax(String),
    #[error("waf rule `{id}` has an invalid pattern: {reason}")]
    Pattern { id: String, reason: String },
    #[error("waf rule `{0}` is defined twice")]
    Duplicate(String),
    #[error("waf configuration names unknown rule `{0}`")]
    UnknownRule(String),
    #[error("waf rule id `{0}` must look like `waf.<category>.<name>`")]
    Id(String),
    #[error("waf keyword automaton: {0}")]
    Keywords(String),
}

/// User changes to the built-in rules: add (or replace by id), disable, tune severity and score.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WafConfig {
    /// Rule ids to switch off, e.g. `waf.xss.dangerous_tag`; `waf.ssrf.internal_url` switches off SSRF.
    #[serde(default)]
    pub disable: Vec<String>,
    /// New rules, or replacements for built-in rules with the same id.
    #[serde(default)]
    pub rules: Vec<RuleSpec>,
    /// Severity and score changes by rule id.
    #[serde(default)]
    pub tune: BTreeMap<String, RuleTune>,
}

/// A compiled rule set; build once, share, scan many times.
#[derive(Debug, Clone)]
pub struct WafRules {
    rules: Vec<CompiledRule>,
    keywords: AhoCorasick,
    /// For each keyword pattern id, the rules it wakes up.
    keyword_rules: Vec<Vec<usize>>,
    /// Single-byte keywords (`;`, `<`, `'`) are checked with a byte-presence table instead of the
    /// automaton: they occur everywhere, and reporting each occurrence would dominate the scan.
    byte_rules: Vec<(u8, Vec<usize>)>,
    /// Rules without keywords: they run on every text.
    unconditional: Vec<usize>,
    /// Per view, every rule's pattern in one set: when several rules would each search a whole view, one
    /// pass of the set tells which can match at all.
    view_sets: Vec<ViewSet>,
    ssrf: Option<ssrf::SsrfRule>,
}

impl WafRules {
    /// The built-in rules.
    pub fn builtin() -> Result<Self, WafError> {
        Self::with_config(&WafConfig::default())
    }

    /// The built-in rules with a user's changes applied.
    pub fn with_config(config: &WafConfig) -> Result<Self, WafError> {
        let mut specs = rules::parse_rules(BUILTIN_RULES)?;
        rules::apply_config(&mut specs, config)?;
        let ssrf_id = ssrf::RULE_ID;
        let ssrf =
            (!config.disable.iter().any(|d| d == ssrf_id)).then(|| ssrf::SsrfRule::new(config.tune.get(ssrf_id)));
        Self::compile(specs, ssrf)
    }

    fn compile(specs: Vec<RuleSpec>, ssrf: Option<ssrf::SsrfRule>) -> Result<Self, WafError> {
        let rules = specs
            .into_iter()
            .map(CompiledRule::compile)
            .collect::<Result<Vec<_>, _>>()?;
        let mut words: Vec<String> = Vec::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        let mut unconditional = Vec::new();
        let mut byte_rules: Vec<(u8, Vec<usize>)> = Vec::new();
        for (index, rule) in rules.iter().enumerate() {
            if rule.keywords.is_empty() {
                unconditional.push(index);
            }
            for word in &rule.keywords {
                if let [byte] = word.as_bytes() {
                    match byte_rules.iter_mut().find(|(b, _)| b == byte) {
                        Some((_, list)) => list.push(index),
                        None => byte_rules.push((*byte, vec![index])),
                    }
                    continue;
                }
                let slot = match words.iter().position(|w| w == word) {
                    Some(slot) => slot,
                    None => {
                        words.push(word.clone());
                        keyword_rules.push(Vec::new());
                        words.len() - 1
                    }
                };
                keyword_rules[slot].push(index);
            }
        }
        for list in &mut keyword_rules {
            list.sort_unstable();
            list.dedup();
        }
        let view_sets = [View::Decoded, View::Sql, View::Shell]
            .into_iter()
            .filter_map(|view| ViewSet::new(view, &rules))
            .collect();
        // Every occurrence, overlapping ones included: a non-overlapping search lets one keyword hide
        // another that shares bytes with it (`{$` hid the `${` of `{${phpinfo()}}`, `/private/` the `/var/`
        // of `/private/var/log`), and the rule only that one wakes never ran.
        let keywords = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&words)
            .map_err(|e| WafError::Keywords(e.to_string()))?;
        Ok(Self {
            rules,
            keywords,
            keyword_rules,
            byte_rules,
            unconditional,
            view_sets,
            ssrf,
        })
    }

    /// The number of regex rules (SSRF not counted).
    #[must_use]
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.ssrf.is_none()
    }

    /// Scans one text (a tool argument, a query string, a request body). At most one finding per rule,
    /// at its first match; spans are byte offsets into `text`.
    #[must_use]
    pub fn scan(&self, text: &str) -> Vec<Finding> {
        let decoded = Decoded::new(text);
        // Per rule: woken at all, and woken by a multi-byte keyword (or always), so searched in full.
        let mut wanted = vec![false; self.rules.len()];
        let mut full = vec![false; self.rules.len()];
        for &index in &self.unconditional {
            wanted[index] = true;
            full[index] = true;
        }
        let mut present = [false; 256];
        for &b in &decoded.bytes {
            present[usize::from(b)] = true;
        }
        for (byte, list) in &self.byte_rules {
            if present[usize::from(*byte)] {
                for &index in list {
                    wanted[index] = true;
                }
            }
        }
        for hit in self.keywords.find_overlapping_iter(&decoded.bytes) {
            for &index in &self.keyword_rules[hit.pattern().as_usize()] {
                wanted[index] = true;
                full[index] = true;
            }
        }
        let saw_scheme =
            self.ssrf.is_some() && present[usize::from(b':')] && memchr::memmem::find(&decoded.bytes, b"://").is_some();
        let wants = |view: View| wanted.iter().zip(&self.rules).any(|(w, r)| *w && r.view == view);
        let sql_view = wants(View::Sql).then(|| rules::strip_sql_comments(&decoded.bytes));
        let shell_view = wants(View::Shell).then(|| rules::shell_words(&decoded.bytes));
        let haystack_of = |view: View| match view {
            View::Sql => sql_view.as_ref().map(|(bytes, _)| bytes.as_slice()),
            View::Shell => shell_view.as_ref().map(|(bytes, _)| bytes.as_slice()),
            View::Decoded => Some(decoded.bytes.as_slice()),
        };
        // A rule searches the whole view when a multi-byte keyword woke it or it has no window.
        let whole = |index: usize| full[index] || self.rules[index].window.is_none();
        let mut ruled_out = vec![false; self.rules.len()];
        for set in &self.view_sets {
            let Some(haystack) = haystack_of(set.view) else {
                continue;
            };
            set.rule_out(haystack, |index| wanted[index] && whole(index), &mut ruled_out);
        }
        let mut findings = Vec::new();
        for ((rule, _), full) in self
            .rules
            .iter()
            .zip(&wanted)
            .zip(&full)
            .zip(&ruled_out)
            .filter(|(((_, w), _), out)| **w && !**out)
            .map(|(pair, _)| pair)
        {
            let derived = match rule.view {
                View::Sql => sql_view.as_ref(),
                View::Shell => shell_view.as_ref(),
                View::Decoded => None,
            };
            let haystack = derived.map_or(decoded.bytes.as_slice(), |(bytes, _)| bytes.as_slice());
            let Some((m_start, m_end)) = rule.find(haystack, !full) else {
                continue;
            };
            let (start, end) = match derived {
                Some((_, map)) => (map.input_offset(m_start), map.input_offset(m_end)),
                None => (m_start, m_end),
            };
            let (start, end) = decoded.source_span(start, end);
            findings.push(rule.finding(start, end));
        }
        if let (Some(ssrf), true) = (&self.ssrf, saw_scheme) {
            findings.extend(ssrf.scan(&decoded.bytes).map(|(f, s, e)| {
                let (start, end) = decoded.source_span(s, e);
                Finding { start, end, ..f }
            }));
        }
        findings
    }
}

/// One view's rules as a [`MultiPattern`]; pattern `p` of the set is rule `rules[p]`.
#[derive(Debug, Clone)]
struct ViewSet {
    view: View,
    set: MultiPattern,
    rules: Vec<usize>,
}

/// Memory for a view set's lazy DFA: a union of many patterns visits more states than one pattern.
const VIEW_SET_CACHE_BYTES: usize = 16 << 20;
const VIEW_SET_SIZE_LIMIT: usize = 16 << 20;

impl ViewSet {
    /// The set of `view`'s rules, or `None` when fewer than two rules read it (a set of one saves nothing)
    /// or their union is too large to compile (user rules can make it so): every rule compiled alone,
    /// so without the set the scan finds the same, only slower.
    fn new(view: View, rules: &[CompiledRule]) -> Option<Self> {
        let members: Vec<usize> = (0..rules.len()).filter(|&i| rules[i].view == view).collect();
        if members.len() < 2 {
            return None;
        }
        let sources: Vec<&str> = members.iter().map(|&i| rules[i].regex.as_str()).collect();
        let set = MultiPattern::new(&sources, VIEW_SET_SIZE_LIMIT, VIEW_SET_CACHE_BYTES).ok()?;
        Some(Self {
            view,
            set,
            rules: members,
        })
    }

    /// Marks in `ruled_out` the rules `candidate` names whose pattern matches nowhere in `haystack`, when
    /// there are at least two: one pass of the set then replaces two or more whole-view searches (for one,
    /// the rule's own search is no slower and stops at its match).
    fn rule_out(&self, haystack: &[u8], candidate: impl Fn(usize) -> bool, ruled_out: &mut [bool]) {
        if self.rules.iter().filter(|&&i| candidate(i)).count() < 2 {
            return;
        }
        let mut matches = vec![false; self.rules.len()];
        if let Some(matched) = self.set.matching(haystack) {
            for pattern in matched.iter() {
                if let Some(slot) = matches.get_mut(pattern.as_usize()) {
                    *slot = true;
                }
            }
        }
        for (&index, matches) in self.rules.iter().zip(&matches) {
            if candidate(index)
                && !matches
                && let Some(out) = ruled_out.get_mut(index)
            {
                *out = true;
            }
        }
    }
}

/// The first position at or after `i` whose byte `flag` marks (returns 1), or `None`. Blocks of 32 bytes
/// are tested whole with `flag`'s branch-free comparisons, which the compiler vectorizes: most of a text
/// holds none of the few bytes the WAF's passes stop at.
#[inline(always)]
fn next_flagged(bytes: &[u8], mut i: usize, flag: impl Fn(u8) -> u8) -> Option<usize> {
    while let Some(block) = bytes.get(i..i + 32) {
        if block.iter().fold(0u8, |any, &b| any | flag(b)) != 0 {
            break;
        }
        i += 32;
    }
    bytes.get(i..)?.iter().position(|&b| flag(b) != 0).map(|p| i + p)
}

/// The category of a WAF finding, from its rule id (`waf.<category>.<name>`).
#[must_use]
pub fn category_of(finding: &Finding) -> Option<WafCategory> {
    if finding.kind != FindingKind::Waf {
        return None;
    }
    finding.rule.split('.').nth(1).and_then(WafCategory::from_name)
}

fn severity_finding(rule: &str, severity: Severity, score: f32, start: usize, end: usize) -> Finding {
    Finding {
        kind: FindingKind::Waf,
        rule: rule.to_owned(),
        severity,
        score,
        start,
        end,
    }
}

#[cfg(test)]
mod tests;
