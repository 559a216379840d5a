//! Rules as data: the YAML shape of a rule, user overrides, and compilation to byte regexes. Patterns
//! are matched against decoded, lowercased bytes with Unicode off, so `\b`, `\w` and `\s` are ASCII
//! (a Unicode `\b` costs hundreds of times more on non-ASCII text) and invalid UTF-8 cannot fail a scan.

use regex::bytes::{Regex, RegexBuilder};
use regex_automata::util::syntax;
use regex_automata::{Input, MatchKind, meta};
use serde::Deserialize;

use super::decode::LINE_BREAK;
use super::precheck::Precheck;
use super::{WafConfig, WafError, severity_finding};
use crate::finding::{Finding, Severity};

/// A family of attacks; the second segment of a rule id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WafCategory {
    Sqli,
    Xss,
    Traversal,
    Lfi,
    Cmdi,
    Ssrf,
    Ssti,
    Nosqli,
    Ldapi,
    Xxe,
    Crlf,
    Ssi,
    Jndi,
    Code,
    /// Attack tools' signatures and out-of-band callback domains.
    Recon,
}

impl WafCategory {
    const ALL: [(Self, &'static str); 15] = [
        (Self::Sqli, "sqli"),
        (Self::Xss, "xss"),
        (Self::Traversal, "traversal"),
        (Self::Lfi, "lfi"),
        (Self::Cmdi, "cmdi"),
        (Self::Ssrf, "ssrf"),
        (Self::Ssti, "ssti"),
        (Self::Nosqli, "nosqli"),
        (Self::Ldapi, "ldapi"),
        (Self::Xxe, "xxe"),
        (Self::Crlf, "crlf"),
        (Self::Ssi, "ssi"),
        (Self::Jndi, "jndi"),
        (Self::Code, "code"),
        (Self::Recon, "recon"),
    ];

    /// The category named in a rule id.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().find(|(_, n)| *n == name).map(|(c, _)| *c)
    }

    #[must_use]
    pub fn name(self) -> &'static str {
        Self::ALL.iter().find(|(c, _)| *c == self).map_or("unknown", |(_, n)| n)
    }
}

/// Which form of the text a rule reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum View {
    /// Decoded and lowercased; `+` stays `+` (it is arithmetic in templates and a space only in forms).
    #[default]
    Decoded,
    /// Decoded, lowercased, `+` as a space, SQL comments replaced by a space (`un/**/ion` stays broken, `union/**/select`
    /// becomes `union select`, MySQL's `/*!50000select*/` keeps its body).
    Sql,
    /// Decoded, lowercased, `+` as a space, without the quotes and backslashes shells discard (`c'a't`, `/et\c/pa"ss"wd`)
    /// and with `$IFS` spelled as a space.
    Shell,
}

/// Severity as rule files spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeverityName {
    Low,
    Medium,
    High,
    Critical,
}

impl From<SeverityName> for Severity {
    fn from(s: SeverityName) -> Self {
        match s {
            SeverityName::Low => Severity::Low,
            SeverityName::Medium => Severity::Medium,
            SeverityName::High => Severity::High,
            SeverityName::Critical => Severity::Critical,
        }
    }
}

/// One rule as written in `rules/waf.yaml` or a user's configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// `waf.<category>.<name>`.
    pub id: String,
    /// A regex over the decoded, lowercased text (write it in lowercase).
    pub pattern: String,
    /// Lowercase literals; the regex runs only if one occurs. Empty: always run.
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub view: View,
    pub severity: SeverityName,
    /// Confidence in [0, 1].
    #[serde(default = "default_score")]
    pub score: f32,
    /// Why the rule exists; documentation only.
    #[serde(default)]
    pub why: Option<String>,
    /// When the rule was woken only by single-byte keywords (`;`, `=`), search only this many bytes
    /// around each of them (widened to whitespace) instead of the whole text: such bytes are common in
    /// benign text and the rule's regex is the expensive part of a scan.
    #[serde(default)]
    pub window: Option<usize>,
    /// `false` searches the whole text without the regex's literal prefilter. For patterns that start with
    /// words common in prose (`is`, `system`, `script`) the prefilter stops and the search restarts over
    /// and over, which costs more than the automaton alone; results are the same either way (a prefilter
    /// only skips ahead to where a match can start).
    #[serde(default = "default_prefilter")]
    pub prefilter: bool,
}

fn default_prefilter() -> bool {
    true
}

fn default_score() -> f32 {
    0.9
}

/// A change to an existing rule's weight.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleTune {
    #[serde(default)]
    pub severity: Option<SeverityName>,
    #[serde(default)]
    pub score: Option<f32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    rules: Vec<RuleSpec>,
}

pub(super) fn parse_rules(yaml: &str) -> Result<Vec<RuleSpec>, WafError> {
    let file: RuleFile = serde_saphyr::from_str(yaml).map_err(|e| WafError::Syntax(e.to_string()))?;
    Ok(file.rules)
}

/// Applies disable, replace-or-add and tune, in that order; unknown ids are errors so a typo in a
/// `disable` list cannot leave a rule on unnoticed.
pub(super) fn apply_config(specs: &mut Vec<RuleSpec>, config: &WafConfig) -> Result<(), WafError> {
    for id in &config.disable {
        let before = specs.len();
        specs.retain(|s| &s.id != id);
        if specs.len() == before && id != super::ssrf::RULE_ID {
            return Err(WafError::UnknownRule(id.clone()));
        }
    }
    for added in &config.rules {
        match specs.iter_mut().find(|s| s.id == added.id) {
            Some(existing) => *existing = added.clone(),
            None => specs.push(added.clone()),
        }
    }
    for (id, tune) in &config.tune {
        if id == super::ssrf::RULE_ID {
            continue;
        }
        let Some(spec) = specs.iter_mut().find(|s| &s.id == id) else {
            return Err(WafError::UnknownRule(id.clone()));
        };
        if let Some(severity) = tune.severity {
            spec.severity = severity;
        }
        if let Some(score) = tune.score {
            spec.score = score.clamp(0.0, 1.0);
        }
    }
    let mut ids: Vec<&str> = specs.iter().map(|s| s.id.as_str()).collect();
    ids.sort_unstable();
    if let Some(pair) = ids.windows(2).find(|w| w[0] == w[1]) {
        return Err(WafError::Duplicate(pair[0].to_owned()));
    }
    Ok(())
}

/// `pattern` compiled as `RegexBuilder` does below, minus the literal prefilter: the same matches
/// (a prefilter only skips ahead to where a match can start), found by the lazy DFA alone.
fn unfiltered_regex(pattern: &str) -> Result<meta::Regex, String> {
    let config = meta::Config::new()
        .match_kind(MatchKind::LeftmostFirst)
        .utf8_empty(false)
        .nfa_size_limit(Some(1 << 22))
        .hybrid_cache_capacity(1 << 22)
        .auto_prefilter(false);
    meta::Builder::new()
        .configure(config)
        .syntax(syntax::Config::new().unicode(false).utf8(false))
        .build(pattern)
        .map_err(|e| e.to_string())
}

/// A rule ready to run.
#[derive(Debug, Clone)]
pub(super) struct CompiledRule {
    pub id: String,
    pub regex: Regex,
    /// For rules with `prefilter: false`, `regex` without its prefilter, for whole-text searches.
    pub unfiltered: Option<meta::Regex>,
    pub keywords: Vec<String>,
    pub view: View,
    pub severity: Severity,
    pub score: f32,
    pub window: Option<usize>,
    /// The single-byte keywords, whose positions windows are centred on, as a byte table.
    pub window_bytes: [bool; 256],
    /// An exact shortcut for where a match can start, for the built-in patterns that have one.
    pub precheck: Option<Precheck>,
}

impl CompiledRule {
    pub fn compile(spec: RuleSpec) -> Result<Self, WafError> {
        let category = spec
            .id
            .strip_prefix("waf.")
            .and_then(|rest| rest.split_once('.'))
            .map(|(c, _)| c);
        if category.and_then(WafCategory::from_name).is_none() {
            return Err(WafError::Id(spec.id));
        }
        let regex = RegexBuilder::new(&spec.pattern)
            .unicode(false)
            .size_limit(1 << 22)
            .dfa_size_limit(1 << 22)
            .build()
            .map_err(|e| WafError::Pattern {
                id: spec.id.clone(),
                reason: e.to_string(),
            })?;
        let unfiltered = if spec.prefilter {
            None
        } else {
            let unfiltered = unfiltered_regex(&spec.pattern).map_err(|reason| WafError::Pattern {
                id: spec.id.clone(),
                reason,
            })?;
            Some(unfiltered)
        };
        let keywords: Vec<String> = spec.keywords.iter().map(|k| k.to_ascii_lowercase()).collect();
        let mut window_bytes = [false; 256];
        for k in &keywords {
            if let [b] = k.as_bytes() {
                window_bytes[usize::from(*b)] = true;
            }
        }
        let precheck = Precheck::for_pattern(&spec.pattern);
        Ok(Self {
            id: spec.id,
            regex,
            unfiltered,
            keywords,
            view: spec.view,
            severity: spec.severity.into(),
            score: spec.score.clamp(0.0, 1.0),
            window: spec.window,
            window_bytes,
            precheck,
        })
    }

    /// The first match in `haystack`, searching only windows around `window_bytes` when `windowed`.
    pub fn find(&self, haystack: &[u8], windowed: bool) -> Option<(usize, usize)> {
        let Some(radius) = self.window.filter(|_| windowed) else {
            // No match starts before `from`, so the leftmost match from there is the leftmost one.
            let from = match self.precheck {
                Some(precheck) => precheck.first_start(haystack)?,
                None => 0,
            };
            return match &self.unfiltered {
                Some(unfiltered) => unfiltered
                    .find(Input::new(haystack).range(from..))
                    .map(|m| (m.start(), m.end())),
                None => self.regex.find_at(haystack, from).map(|m| (m.start(), m.end())),
            };
        };
        let mut covered = 0;
        for (at, _) in haystack
            .iter()
            .enumerate()
            .filter(|(_, b)| self.window_bytes[usize::from(**b)])
        {
            if at < covered {
                continue;
            }
            // Widen to whitespace so `^`, `$` and `\b` at a window's edge mean what they mean in the text.
            let mut start = at.saturating_sub(radius).max(covered);
            while start > covered && !is_gap(haystack[start - 1]) {
                start -= 1;
            }
            let mut end = (at + radius).min(haystack.len());
            while end < haystack.len() && !is_gap(haystack[end]) {
                end += 1;
            }
            if let Some(m) = self.regex.find(&haystack[start..end]) {
                return Some((start + m.start(), start + m.end()));
            }
            covered = end;
        }
        None
    }

    pub fn finding(&self, start: usize, end: usize) -> Finding {
        severity_finding(&self.id, self.severity, self.score, start, end)
    }
}

/// Whitespace or a line break of the text as sent: where a search window may end.
fn is_gap(b: u8) -> bool {
    b.is_ascii_whitespace() || b == LINE_BREAK
}

/// Where a derived view's bytes came from: the view is built for most texts but mapped back only for
/// a finding, so instead of an offset per byte it keeps runs of bytes copied from consecutive input
/// bytes, as `(output offset, input offset)` where each run starts.
#[derive(Debug, Default)]
pub(super) struct ViewMap {
    runs: Vec<(u32, u32)>,
    len: usize,
}

impl ViewMap {
    /// Records output bytes `len..len + count` as copies of input bytes from `from` on.
    fn push_run(&mut self, from: usize, count: usize) {
        if count == 0 {
            return;
        }
        let from = offset(from);
        let contiguous = self
            .runs
            .last()
            .is_some_and(|&(out, input)| u64::from(input) + (self.len as u64 - u64::from(out)) == u64::from(from));
        if !contiguous {
            self.runs.push((offset(self.len), from));
        }
        self.len += count;
    }

    /// The input offset of output byte `i`; past the end, one past the last byte's input offset (0 for
    /// an empty view).
    pub(super) fn input_offset(&self, i: usize) -> usize {
        if i >= self.len {
            return match self.len {
                0 => 0,
                len => self.input_offset(len - 1) + 1,
            };
        }
        let run = self
            .runs
            .partition_point(|&(out, _)| out as usize <= i)
            .saturating_sub(1);
        self.runs
            .get(run)
            .map_or(0, |&(out, input)| input as usize + (i - out as usize))
    }
}

fn offset(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// The next byte at or after `i` that `shell_words` treats specially, or the end.
fn next_shell_special(text: &[u8], i: usize) -> usize {
    super::next_flagged(text, i, |b| {
        u8::from(b == b'\'') | u8::from(b == b'"') | u8::from(b == b'\\') | u8::from(b == b'$') | u8::from(b == b'+')
    })
    .unwrap_or(text.len())
}

/// The text as a shell would see its words, and where its bytes came from. Quotes are dropped as
/// the shell drops them (`c'a't`, `"ls"`), and so is a quote that closes the string a payload lands in
/// (`'; whoami`); only an apostrophe (a lone quote between two letters, as in `I'd` or `don't`) stays, so
/// English does not turn into the command `id`. Runs of ordinary bytes are copied whole.
pub(super) fn shell_words(text: &[u8]) -> (Vec<u8>, ViewMap) {
    let mut out = Vec::with_capacity(text.len());
    let mut map = ViewMap::default();
    let mut i = 0;
    while i < text.len() {
        let run = next_shell_special(text, i) - i;
        copy_run(text, i, i + run, &mut out, &mut map);
        i += run;
        let Some(&b) = text.get(i) else { break };
        let rest = &text[i..];
        let skip = [&b"${ifs}"[..], b"$ifs$9", b"$ifs"]
            .iter()
            .find(|p| rest.starts_with(p))
            .map(|p| p.len());
        if let Some(len) = skip {
            push_at(b' ', i, &mut out, &mut map);
            i += len;
            continue;
        }
        if rest.starts_with(b"$@") {
            i += 2;
            continue;
        }
        match b {
            b'+' => push_at(b' ', i, &mut out, &mut map),
            b'\'' | b'"' if apostrophe(text, i) => push_at(b, i, &mut out, &mut map),
            b'\'' | b'"' | b'\\' => {}
            _ => push_at(b, i, &mut out, &mut map),
        }
        i += 1;
    }
    (out, map)
}

fn push_at(b: u8, at: usize, out: &mut Vec<u8>, map: &mut ViewMap) {
    out.push(b);
    map.push_run(at, 1);
}

/// Appends `text[from..to]` unchanged, each byte mapped to its own offset.
fn copy_run(text: &[u8], from: usize, to: usize, out: &mut Vec<u8>, map: &mut ViewMap) {
    out.extend_from_slice(&text[from..to]);
    map.push_run(from, to - from);
}

/// Whether the quote at `i` is an apostrophe: between two letters, and without a partner of its kind in
/// its word (quotes pair up from the left, so it is the word's last quote of its kind, after an even
/// number of them).
fn apostrophe(text: &[u8], i: usize) -> bool {
    let letter = |k: Option<usize>| k.and_then(|k| text.get(k)).is_some_and(u8::is_ascii_alphabetic);
    if !(letter(i.checked_sub(1)) && letter(Some(i + 1))) {
        return false;
    }
    let quote = text[i];
    let word_start = text[..i].iter().rposition(|&b| is_gap(b)).map_or(0, |p| p + 1);
    let word_end = text[i..].iter().position(|&b| is_gap(b)).map_or(text.len(), |p| i + p);
    let before = text[word_start..i].iter().filter(|&&b| b == quote).count();
    let after = text[i + 1..word_end].contains(&quote);
    before % 2 == 0 && !after
}

/// The next `/`, `*` or `+` at or after `i`, or the end.
fn next_sql_special(text: &[u8], i: usize) -> usize {
    text.get(i..)
        .and_then(|rest| memchr::memchr3(b'/', b'*', b'+', rest))
        .map_or(text.len(), |p| i + p)
}

/// The text with SQL comments replaced by one space each, and where its bytes came from.
/// MySQL executable comments (`/*!` and optional version digits) keep their body.
pub(super) fn strip_sql_comments(text: &[u8]) -> (Vec<u8>, ViewMap) {
    let mut out = Vec::with_capacity(text.len());
    let mut map = ViewMap::default();
    let mut i = 0;
    while i < text.len() {
        let run = next_sql_special(text, i) - i;
        copy_run(text, i, i + run, &mut out, &mut map);
        i += run;
        if i >= text.len() {
            break;
        }
        if text[i] == b'/' && text.get(i + 1) == Some(&b'*') {
            let body = i + 2;
            let close = text[body..].windows(2).position(|w| w == b"*/").map(|p| body + p);
            push_at(b' ', i, &mut out, &mut map);
            if text.get(body) == Some(&b'!') {
                let digits = text[body + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
                i = body + 1 + digits;
            } else {
                i = close.map_or(text.len(), |c| c + 2);
            }
            continue;
        }
        if text[i] == b'*' && text.get(i + 1) == Some(&b'/') {
            // The end of a `/*!` body (or a stray closer): a token boundary.
            push_at(b' ', i, &mut out, &mut map);
            i += 2;
            continue;
        }
        push_at(if text[i] == b'+' { b' ' } else { text[i] }, i, &mut out, &mut map);
        i += 1;
    }
    (out, map)
}
