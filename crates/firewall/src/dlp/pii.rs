//! PII in one pass over the bytes. Every candidate contains a digit, `@` or `:`, so the scanner looks
//! only at those bytes (and a `+` or `(` in front of a digit) and works out the candidate around them:
//! an email around each `@`, an IBAN whose check digits are the digit found, an IPv6 address around
//! a colon, or a number-like span (digit groups joined by one space, dash, dot or parenthesis) that
//! [`numeric`] classifies. A hand-written lexer instead of one big alternation regex: it never looks
//! twice at a letter, which is most of any prompt, and knows nothing of Unicode, so non-ASCII text
//! costs the same as ASCII.

use super::{Entity, checks, numeric};
use crate::Finding;

/// The longest IPv6 candidate looked at (`ffff:…:255.255.255.255` is 45 bytes).
const MAX_IPV6: usize = 64;

/// Finds and validates PII entities.
#[derive(Debug, Clone, Default)]
pub(crate) struct PiiScanner;

/// Letters, digits and `_`: a candidate touching one of these is part of a longer token.
fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn is_upper_alnum(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit()
}

fn is_ipv6_byte(b: u8) -> bool {
    b.is_ascii_hexdigit() || b == b':' || b == b'.'
}

fn is_email_local(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-')
}

/// Bytes that every candidate contains: digits, `:` (IPv6) and `@` (email).
fn is_trigger(b: u8) -> bool {
    b.wrapping_sub(b'0') <= 10 || b == b'@'
}

/// The next trigger byte at or after `i`. Blocks of 32 bytes without one are skipped with a branch-free
/// test the compiler vectorizes: prose is mostly letters, and this is where the time goes.
fn next_trigger(b: &[u8], mut i: usize) -> usize {
    while i + 32 <= b.len() && !b[i..i + 32].iter().fold(false, |any, &x| any | is_trigger(x)) {
        i += 32;
    }
    while i < b.len() && !is_trigger(b[i]) {
        i += 1;
    }
    i
}

/// Whether `i` follows an escaped line break or tab (`\n`, `\r`, `\t` as two characters), as text in
/// JSON-escaped tool arguments has them: `Phone:\n415-555-0132` is a phone number, not a word `n415…`.
fn after_escaped_break(b: &[u8], i: usize) -> bool {
    i >= 2 && b[i - 2] == b'\\' && matches!(b[i - 1], b'n' | b'r' | b't')
}

impl PiiScanner {
    pub(crate) fn scan(&self, text: &str, out: &mut Vec<Finding>) {
        let b = text.as_bytes();
        let n = b.len();
        let mut hits = Vec::new();
        let word_start = |i: usize| i == 0 || !is_word(b[i - 1]) || after_escaped_break(b, i);
        let next_ok = |j: usize| j >= n || !is_word(b[j]);
        let mut i = 0;
        loop {
            i = next_trigger(b, i);
            if i >= n {
                break;
            }
            match b[i] {
                b'@' => i = email_at(text, i, out),
                b':' => i = self.ipv6_around(text, i, out),
                _ => {
                    // A `+` or `(` right before the digit belongs to a phone number.
                    let mut start = i;
                    if start > 0 && b[start - 1] == b'(' {
                        start -= 1;
                    }
                    if start > 0 && b[start - 1] == b'+' {
                        start -= 1;
                    }
                    if !word_start(i) || !word_start(start) {
                        // A digit inside a word: only an IBAN's check digits (`DE89…`) start anything.
                        let iban_start = i.wrapping_sub(2);
                        let shaped = i >= 2 && b[i - 1].is_ascii_uppercase() && b[i - 2].is_ascii_uppercase();
                        if let Some(end) = (shaped && word_start(iban_start))
                            .then(|| iban_candidate_end(b, iban_start))
                            .flatten()
                        {
                            if let Some((end, score)) = iban(b, iban_start, end, next_ok(end)) {
                                out.push(Entity::Iban.finding(iban_start, end, score));
                            }
                            i = end;
                        } else {
                            while i < n && is_word(b[i]) {
                                i += 1;
                            }
                        }
                        continue;
                    }
                    // A digit starting a word: an IPv6 address if colons follow, else a number.
                    let run = b[i..n.min(i + MAX_IPV6 + 1)]
                        .iter()
                        .take_while(|&&x| is_ipv6_byte(x))
                        .count();
                    if start == i && b[i..i + run].iter().filter(|&&x| x == b':').count() >= 2 {
                        i = self.ipv6_around(text, i, out);
                    } else {
                        i = self.number(text, start, &mut hits, out);
                    }
                }
            }
        }
    }

    /// The IPv6 candidate containing position `at`: the run of hex digits, colons and dots around it,
    /// starting a word. Returns where scanning resumes.
    fn ipv6_around(&self, text: &str, at: usize, out: &mut Vec<Finding>) -> usize {
        let b = text.as_bytes();
        let mut start = at;
        while start > 0 && at - start < MAX_IPV6 && is_ipv6_byte(b[start - 1]) && b[start - 1] != b'.' {
            start -= 1;
        }
        let mut end = at;
        while end < b.len() && end - start <= MAX_IPV6 && is_ipv6_byte(b[end]) {
            end += 1;
        }
        while end > at && b[end - 1] == b'.' {
            end -= 1;
        }
        let bounded = (start == 0 || !is_word(b[start - 1])) && (end == b.len() || !is_word(b[end]));
        if bounded && end - start <= MAX_IPV6 && checks::ipv6(&text[start..end]) {
            out.push(Entity::IpAddress.finding(start, end, 0.9));
        }
        end.max(at + 1)
    }

    /// The number-like span starting at `start`; classifies it and returns where it ends.
    fn number(&self, text: &str, start: usize, hits: &mut Vec<numeric::Hit>, out: &mut Vec<Finding>) -> usize {
        let b = text.as_bytes();
        let end = number_end(b, start);
        if end < b.len() && is_word(b[end]) {
            // Glued to a word (`4111…abc`): not a number of its own.
            let mut i = end;
            while i < b.len() && is_word(b[i]) {
                i += 1;
            }
            return i;
        }
        let digits = b[start..end].iter().filter(|d| d.is_ascii_digit()).count();
        // Fewer than 7 digits is at most an IPv4 address, which needs dots.
        if digits >= 7 || (digits >= 4 && b[start..end].contains(&b'.')) {
            hits.clear();
            numeric::classify(text, start, end, hits);
            out.extend(hits.iter().map(|h| h.entity.finding(h.start, h.end, h.score)));
        }
        end
    }
}

/// Where a number-like span starting at `start` ends: an optional `+` and `(`, digit groups joined by
/// `)`, `) `, `)-`, ` `, `-`, `.`, ` (`, `-(` or `(`, and an optional extension (`x12`, ` ext. 12`).
fn number_end(b: &[u8], start: usize) -> usize {
    let n = b.len();
    let digit = |k: usize| k < n && b[k].is_ascii_digit();
    let mut j = start;
    if b[j] == b'+' {
        j += 1;
    }
    if j < n && b[j] == b'(' {
        j += 1;
    }
    while digit(j) {
        j += 1;
    }
    loop {
        let k = match b.get(j) {
            Some(b')') if j + 2 < n && matches!(b[j + 1], b' ' | b'.' | b'-') && digit(j + 2) => j + 2,
            Some(b')') => j + 1,
            Some(b' ' | b'.' | b'-') if b.get(j + 1) == Some(&b'(') && digit(j + 2) => j + 2,
            Some(b' ' | b'.' | b'-') => j + 1,
            Some(b'(') => j + 1,
            _ => break,
        };
        if !digit(k) {
            break;
        }
        j = k;
        while digit(j) {
            j += 1;
        }
    }
    extension_end(b, j).unwrap_or(j)
}

/// The end of a phone extension right after `j` (` ?(x|ext.?) ?[0-9]{1,6}`).
fn extension_end(b: &[u8], j: usize) -> Option<usize> {
    let mut k = j;
    if b.get(k) == Some(&b' ') {
        k += 1;
    }
    if b[k.min(b.len())..].starts_with(b"ext") {
        k += 3;
        if b.get(k) == Some(&b'.') {
            k += 1;
        }
    } else if b.get(k) == Some(&b'x') {
        k += 1;
    } else {
        return None;
    }
    if b.get(k) == Some(&b' ') {
        k += 1;
    }
    let digits = b[k.min(b.len())..]
        .iter()
        .take(6)
        .take_while(|d| d.is_ascii_digit())
        .count();
    (digits > 0).then_some(k + digits)
}

/// The email address around the `@` at `at`, if any: a local part of `[A-Za-z0-9._%+-]`, a domain of
/// labels ending in an alphabetic top-level domain. Returns where scanning resumes.
fn email_at(text: &str, at: usize, out: &mut Vec<Finding>) -> usize {
    let b = text.as_bytes();
    let mut start = at;
    while start > 0 && at - start < 64 && is_email_local(b[start - 1]) {
        start -= 1;
    }
    let mut end = at + 1;
    while end < b.len() && end - at < 256 && (b[end].is_ascii_alphanumeric() || matches!(b[end], b'-' | b'.')) {
        end += 1;
    }
    // The domain ends at its last label that is a plausible top-level domain.
    while end > at + 1 {
        let domain = &b[at + 1..end];
        let tld_start = domain.iter().rposition(|&x| x == b'.').map_or(0, |p| p + 1);
        let tld = &domain[tld_start..];
        if tld_start > 0 && (2..=24).contains(&tld.len()) && tld.iter().all(u8::is_ascii_alphabetic) {
            break;
        }
        end = at + 1 + tld_start.saturating_sub(1);
    }
    let bounded = start < at && end > at + 1 && (end == b.len() || !is_word(b[end]));
    if bounded && checks::email(&text[start..end]) {
        out.push(Entity::Email.finding(start, end, 0.95));
        return end;
    }
    at + 1
}

/// Where an IBAN-shaped candidate starting at `start` ends (two letters, two digits, then two to seven
/// groups of four and a shorter last group, optionally space-separated), if it has that shape.
fn iban_candidate_end(b: &[u8], start: usize) -> Option<usize> {
    let n = b.len();
    if !(start + 4 <= n && b[start + 2].is_ascii_digit() && b[start + 3].is_ascii_digit()) {
        return None;
    }
    let group_at = |k: usize, len: usize| k + len <= n && b[k..k + len].iter().all(|&x| is_upper_alnum(x));
    let mut j = start + 4;
    let mut groups = 0;
    while groups < 7 {
        let k = if b.get(j) == Some(&b' ') { j + 1 } else { j };
        if !group_at(k, 4) {
            break;
        }
        j = k + 4;
        groups += 1;
    }
    if groups < 2 {
        return None;
    }
    let k = if b.get(j) == Some(&b' ') { j + 1 } else { j };
    let tail = (1..=4).rev().find(|&len| group_at(k, len)).unwrap_or(0);
    Some(if tail > 0 { k + tail } else { j })
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
