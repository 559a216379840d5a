//! Gitleaks allowlists: what turns a match back into a non-finding. Paths and commits do not exist for
//! text scanned in memory, so they never match: an `OR` allowlist works through its regexes and
//! stopwords alone, and an `AND` allowlist that names paths or commits can never apply.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder};
use regex::bytes::RegexSet;
use serde::Deserialize;

use super::compile_set;

/// An allowlist as the TOML spells it (`[allowlist]`, `[[allowlists]]`, `[[rules.allowlists]]`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct RawAllowlist {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    condition: Option<String>,
    #[serde(default)]
    commits: Vec<String>,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    regex_target: Option<String>,
    #[serde(default)]
    regexes: Vec<String>,
    #[serde(default)]
    stopwords: Vec<String>,
    /// Only in `[[allowlists]]` at the top level: the rules it applies to (all if empty).
    #[serde(default)]
    target_rules: Vec<String>,
}

/// What an allowlist's regexes are matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// The secret (the rule's secret group, or the whole match).
    Secret,
    /// The whole match of the rule's regex.
    Match,
    /// The line the match is on.
    Line,
}

/// One compiled allowlist.
#[derive(Debug, Clone)]
pub(crate) struct Allowlist {
    target: Target,
    regexes: Option<RegexSet>,
    stopwords: Option<AhoCorasick>,
    /// `AND`: the regexes and the stopwords must both match (each only if given).
    all: bool,
    pub(crate) target_rules: Vec<String>,
}

/// What a finding looks like to an allowlist.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Candidate<'a> {
    pub secret: &'a [u8],
    pub whole: &'a [u8],
    pub line: &'a [u8],
}

impl Allowlist {
    /// Compiles the allowlist; `Ok(None)` if it can never apply to in-memory text.
    pub(crate) fn compile(raw: RawAllowlist) -> Result<Option<Allowlist>, String> {
        let all = match raw.condition.as_deref().map(str::to_ascii_uppercase).as_deref() {
            None | Some("OR") => false,
            Some("AND") => true,
            Some(other) => return Err(format!("allowlist condition `{other}` is neither OR nor AND")),
        };
        let target = match raw.regex_target.as_deref() {
            None | Some("secret") => Target::Secret,
            Some("match") => Target::Match,
            Some("line") => Target::Line,
            Some(other) => return Err(format!("allowlist regexTarget `{other}` is not secret, match or line")),
        };
        let _ = raw.description;
        if all && (!raw.paths.is_empty() || !raw.commits.is_empty()) {
            return Ok(None);
        }
        let regexes = if raw.regexes.is_empty() {
            None
        } else {
            Some(compile_set(&raw.regexes)?)
        };
        let stopwords = if raw.stopwords.is_empty() {
            None
        } else {
            let words = raw.stopwords.iter().map(|w| w.to_ascii_lowercase());
            let ac = AhoCorasickBuilder::new().ascii_case_insensitive(true).build(words);
            Some(ac.map_err(|e| format!("allowlist stopwords: {e}"))?)
        };
        if regexes.is_none() && stopwords.is_none() {
            return Ok(None);
        }
        Ok(Some(Allowlist {
            target,
            regexes,
            stopwords,
            all,
            target_rules: raw.target_rules,
        }))
    }

    /// Whether this allowlist lets the candidate through as a non-finding.
    pub(crate) fn allows(&self, candidate: &Candidate) -> bool {
        let subject = match self.target {
            Target::Secret => candidate.secret,
            Target::Match => candidate.whole,
            Target::Line => candidate.line,
        };
        let by_regex = self.regexes.as_ref().map(|set| set.is_match(subject));
        // Stopwords are always looked for in the secret, whatever the regex target.
        let by_stopword = self.stopwords.as_ref().map(|ac| ac.is_match(candidate.secret));
        match (by_regex, by_stopword) {
            (Some(r), Some(s)) if self.all => r && s,
            (Some(r), Some(s)) => r || s,
            (Some(r), None) => r,
            (None, Some(s)) => s,
            (None, None) => false,
        }
    }
}
