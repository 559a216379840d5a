//! Many byte patterns as one automaton, to learn in one pass which of them match anywhere in a text.
//! The injection rules and the WAF both run one regex per rule to find a span, but on benign text almost
//! none of them match: one pass of the set replaces a pass per pattern, and only the patterns it names are
//! searched again. The set reads patterns exactly as `regex::bytes` with Unicode off does (bytes, not
//! UTF-8; empty matches may split a character), so "the set names pattern i" and "pattern i's own regex
//! matches" are the same statement; the property tests of both users check it.

use regex_automata::{Input, MatchKind, PatternSet, meta, util::syntax};

/// A compiled set of patterns.
#[derive(Debug, Clone)]
pub(crate) struct MultiPattern {
    set: meta::Regex,
}

impl MultiPattern {
    /// Compiles `sources` without a literal prefilter: rule patterns start with words common in prose, so
    /// one finds a candidate every few bytes and verifying each costs more than the automaton's own pass.
    /// `cache_bytes` bounds the lazy DFA's memory: too small and it is cleared and rebuilt during a scan.
    pub fn new(sources: &[impl AsRef<str>], size_limit: usize, cache_bytes: usize) -> Result<Self, String> {
        let config = meta::Config::new()
            .match_kind(MatchKind::All)
            .utf8_empty(false)
            .auto_prefilter(false)
            .nfa_size_limit(Some(size_limit))
            .hybrid_cache_capacity(cache_bytes);
        let set = meta::Builder::new()
            .configure(config)
            .syntax(syntax::Config::new().unicode(false).utf8(false))
            .build_many(sources)
            .map_err(|e| e.to_string())?;
        Ok(Self { set })
    }

    /// The patterns that match somewhere in `haystack`, or `None` when none does. Most texts match none:
    /// `is_match` answers that in one pass that stops at the first match, where the search for every
    /// matching pattern has to run to the end.
    pub fn matching(&self, haystack: &[u8]) -> Option<PatternSet> {
        if !self.set.is_match(haystack) {
            return None;
        }
        let mut matched = PatternSet::new(self.set.pattern_len());
        self.set.which_overlapping_matches(&Input::new(haystack), &mut matched);
        Some(matched)
    }
}
