//! Exact shortcuts for built-in rules whose regexes are slow on prose: a cheap test that every match
//! must pass names the first position where a match can start, and the regex searches from there (or
//! not at all). The regex crate's own prefilter restarts at every apostrophe of an English text; these
//! tests reject almost all of them in a few byte comparisons. A shortcut applies only to the exact
//! pattern it was derived from, so a rule a user replaces, or an edited pattern, runs as written.

/// `waf.sqli.quote_break` as the shortcut below was derived from.
const QUOTE_BREAK: &str = r##"['"`]\s*\)*\s*(?:--|#|/\*|;\s*(?:select|insert|update|delete|drop|exec|execute|declare|waitfor|shutdown|create|alter|truncate|grant|if|begin|sleep|set|--)\b|\b(?:union|select|order\s+by|group\s+by|having|waitfor|procedure|limit|into|rlike|regexp)\b|\b(?:and|or|xor)\b\s*(?:['"][^'"]{0,40}['"]?\s*(?:[=<>!]|\blike\b|\brlike\b|\bregexp\b|\bis\b|--|#|;|$)|['"]\s*$|''|""|\(|not\b|\w+\s*\(|\d+\s*[=<>])|(?:=|\+|-|\*|&|\^|\|\||<>|!=|%)\s*['"]|\|\|\s*\w+\s*\()"##;

/// A rule's shortcut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Precheck {
    /// Every match starts at a quote, followed (after whitespace and `)`) by one of the alternatives' first bytes.
    QuoteBreak,
}

impl Precheck {
    /// The shortcut for a rule, if its pattern is one a shortcut was derived from.
    pub(super) fn for_pattern(pattern: &str) -> Option<Self> {
        (pattern == QUOTE_BREAK).then_some(Self::QuoteBreak)
    }

    /// The first position of `haystack` at which a match can start; `None` if none can.
    pub(super) fn first_start(self, haystack: &[u8]) -> Option<usize> {
        match self {
            Self::QuoteBreak => quote_break_start(haystack),
        }
    }
}

/// Whitespace as the regexes' ASCII `\s` has it (and `\x0b`, which no alternative starts with either).
fn is_space(b: u8) -> bool {
    matches!(b, b'\t'..=b'\r' | b' ')
}

/// Words an alternative of `quote_break` starts with after the quote (`or` also covers `order by`).
const QUOTE_BREAK_WORDS: [&[u8]; 13] = [
    b"union",
    b"select",
    b"or",
    b"group",
    b"having",
    b"waitfor",
    b"procedure",
    b"limit",
    b"into",
    b"rlike",
    b"regexp",
    b"and",
    b"xor",
];

/// `['"`]\s*\)*\s*` and then `--`, `#`, `/*`, `;`, a keyword, an operator or `||`: the byte after the
/// quote's run of whitespace and `)` must be one of those alternatives' first bytes.
fn quote_break_start(h: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(q) = next_quote(h, from) {
        let next = h[q + 1..]
            .iter()
            .position(|&b| !(is_space(b) || b == b')'))
            .map(|k| q + 1 + k);
        if let Some(j) = next {
            let rest = &h[j..];
            let operator = matches!(
                rest[0],
                b'-' | b'#' | b'/' | b';' | b'=' | b'+' | b'*' | b'&' | b'^' | b'|' | b'<' | b'!' | b'%'
            );
            if operator || QUOTE_BREAK_WORDS.iter().any(|w| rest.starts_with(w)) {
                return Some(q);
            }
        }
        from = q + 1;
    }
    None
}

/// The next quote at or after `i`.
fn next_quote(h: &[u8], i: usize) -> Option<usize> {
    memchr::memchr3(b'\'', b'"', b'`', h.get(i..)?).map(|p| i + p)
}
