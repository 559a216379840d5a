//! PII in one pass: a single regex finds every candidate (email, IBAN, IPv6, or a number-like span),
//! and code validates it. One alternation instead of one regex per entity keeps the text read once;
//! the patterns use ASCII classes only, so non-ASCII text costs no Unicode word-boundary checks.

use regex::Regex;

use super::{Entity, checks, numeric};
use crate::Finding;

/// Candidates, most specific first: at a given start the first alternative that matches wins.
const CANDIDATES: &str = concat!(
    // Email: local part, domain labels, an alphabetic top-level domain.
    r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,24}",
    // IBAN, electronic (no spaces) or printed in groups of four.
    r"|(?-u:\b)[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?",
    // IPv6: at least two colons; an embedded IPv4 tail allowed.
    r"|(?:(?-u:\b)[0-9A-Fa-f]{1,4})?(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.[0-9]{1,3}){0,3}",
    // Number-like spans: digit groups joined by one space, dash, dot or parenthesis, an optional
    // leading `+` or `(`, an optional phone extension. A span never starts inside a word.
    r"|\+?\(?(?-u:\b)[0-9]+(?:(?:\)[ .\-]?|[ .\-]\(?|\()[0-9]+)*(?: ?(?:x|ext\.?) ?[0-9]{1,6})?",
);

/// Finds and validates PII entities.
#[derive(Debug, Clone)]
pub(crate) struct PiiScanner {
    candidates: Regex,
}

/// Letters, digits and `_`: a candidate touching one of these is part of a longer token.
fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

impl PiiScanner {
    pub(crate) fn new() -> Result<Self, regex::Error> {
        Ok(PiiScanner { candidates: Regex::new(CANDIDATES)? })
    }

    pub(crate) fn scan(&self, text: &str, out: &mut Vec<Finding>) {
        let bytes = text.as_bytes();
        let mut hits = Vec::new();
        for m in self.candidates.find_iter(text) {
            let (start, end) = (m.start(), m.end());
            let candidate = &bytes[start..end];
            let prev_ok = start == 0 || !is_word(bytes[start - 1]);
            let next_ok = end == bytes.len() || !is_word(bytes[end]);
            if candidate.contains(&b'@') {
                if next_ok && checks::email(m.as_str()) {
                    out.push(Entity::Email.finding(start, end, 0.95));
                }
            } else if candidate.contains(&b':') {
                if prev_ok && next_ok && checks::ipv6(m.as_str()) {
                    out.push(Entity::IpAddress.finding(start, end, 0.9));
                }
            } else if candidate[0].is_ascii_uppercase() {
                if prev_ok {
                    if let Some((end, score)) = iban(bytes, start, end, next_ok) {
                        out.push(Entity::Iban.finding(start, end, score));
                    }
                }
            } else if prev_ok && next_ok {
                hits.clear();
                numeric::classify(text, start, end, &mut hits);
                out.extend(hits.iter().map(|h| h.entity.finding(h.start, h.end, h.score)));
            }
        }
    }
}

/// An IBAN starting at `start`: the country's registered length is tried first, then the whole
/// candidate (some generators and old formats differ from the registry); the mod-97 check decides.
/// Returns where the IBAN ends and a score.
fn iban(bytes: &[u8], start: usize, end: usize, next_ok: bool) -> Option<(usize, f32)> {
    let expected = checks::iban_length(&bytes[start..start + 2])?;
    let mut chars = Vec::with_capacity(36);
    let mut ends = Vec::with_capacity(36);
    for (i, &b) in bytes[start..end].iter().enumerate() {
        if b != b' ' {
            chars.push(b);
            ends.push(start + i + 1);
        }
    }
    for (len, score) in [(expected, 1.0), (chars.len(), 0.8)] {
        let Some(&stop) = ends.get(len.wrapping_sub(1)) else {
            continue;
        };
        let at_group_end = if stop == end { next_ok } else { bytes[stop] == b' ' };
        if len >= 15 && at_group_end && checks::iban_checksum(&chars[..len]) {
            return Some((stop, score));
        }
    }
    None
}
