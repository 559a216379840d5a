//! Digit runs: one pattern finds every number-like span (digits joined by spaces, dashes, dots and
//! parentheses), and this module decides what it is. A span is cut into chunks at spaces; the longest
//! run of whole chunks that validates as a card number, SSN, IPv4 address or phone number wins, so
//! `4111 1111 1111 1111` is one card while `2019 555-123-4567` is a year and a phone number.

use super::Entity;
use super::checks;
use super::context;

/// The most chunks one entity spans (`+33 1 23 45 67 89` has six, a 19-digit card in fours has five).
const MAX_CHUNKS: usize = 7;
/// The most digit groups and digits in one entity (with room to spare).
const MAX_GROUPS: usize = 12;
const MAX_DIGITS: usize = 24;

/// A run of digits inside the span, with the separator text that precedes it.
#[derive(Debug, Clone, Copy)]
struct Group {
    start: usize,
    end: usize,
    /// Separator bytes between the previous group and this one (empty for the first).
    sep_start: usize,
}

/// One validated entity inside a number span, as absolute byte offsets of the scanned text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Hit {
    pub entity: Entity,
    pub start: usize,
    pub end: usize,
    pub score: f32,
}

/// Classifies the number-like span `text[start..end]` and reports every entity in it.
pub(crate) fn classify(text: &str, start: usize, end: usize, out: &mut Vec<Hit>) {
    let bytes = text.as_bytes();
    let (groups, ext_start) = split(bytes, start, end);
    let breaks = |g: &Group| bytes[g.sep_start..g.start].contains(&b' ');
    let mut i = 0;
    while i < groups.len() {
        // Candidate ends: the end of each chunk, up to MAX_CHUNKS chunks from `i`.
        let mut ends = [0usize; MAX_CHUNKS];
        let mut count = 0;
        let mut j = i;
        while j < groups.len() && count < MAX_CHUNKS {
            if j + 1 == groups.len() || breaks(&groups[j + 1]) {
                ends[count] = j;
                count += 1;
            }
            j += 1;
        }
        let found = ends[..count].iter().rev().find_map(|&j| {
            interpret(text, &groups[i..=j], i == 0, j + 1 == groups.len(), start, ext_start).map(|hit| (hit, j))
        });
        i = match found {
            Some((hit, last)) => {
                out.push(hit);
                last + 1
            }
            None if count > 0 => ends[0] + 1,
            None => groups.len(),
        };
    }
}

/// Cuts the span into digit groups; returns them and where a trailing phone extension begins, if any.
fn split(bytes: &[u8], start: usize, end: usize) -> (Vec<Group>, Option<usize>) {
    let mut groups = Vec::new();
    let mut i = start;
    let mut sep_start = start;
    while i < end {
        if bytes[i].is_ascii_digit() {
            let s = i;
            while i < end && bytes[i].is_ascii_digit() {
                i += 1;
            }
            groups.push(Group {
                start: s,
                end: i,
                sep_start,
            });
            sep_start = i;
        } else if matches!(bytes[i], b'x' | b'e') {
            // The extension (`x123`, `ext. 123`) is the last thing the pattern admits.
            return (groups, Some(sep_start));
        } else {
            i += 1;
        }
    }
    (groups, None)
}

/// What the groups `run` are, if anything. `first`/`last` say whether the run begins or ends the span.
fn interpret(text: &str, run: &[Group], first: bool, last: bool, span_start: usize, ext: Option<usize>) -> Option<Hit> {
    let bytes = text.as_bytes();
    let (head, tail) = (run.first()?, run.last()?);
    let lead = &bytes[if first { span_start } else { head.sep_start }..head.start];
    let plus = lead.contains(&b'+');
    let open_paren = lead.ends_with(b"(");
    let start = if first && plus {
        span_start
    } else if open_paren {
        head.start - 1
    } else {
        head.start
    };
    // Nothing DLP finds has more than 12 groups or 24 digits; longer runs are not looked into.
    if run.len() > MAX_GROUPS {
        return None;
    }
    let mut digit_buf = [0u8; MAX_DIGITS];
    let mut len_buf = [0usize; MAX_GROUPS];
    let mut sep_buf: [&[u8]; MAX_GROUPS] = [&[]; MAX_GROUPS];
    let mut count = 0;
    for (k, g) in run.iter().enumerate() {
        let group = &bytes[g.start..g.end];
        digit_buf.get_mut(count..count + group.len())?.copy_from_slice(group);
        count += group.len();
        len_buf[k] = group.len();
        sep_buf[k] = &bytes[g.sep_start..g.start];
    }
    let (digits, lens, seps) = (&digit_buf[..count], &len_buf[..run.len()], &sep_buf[1..run.len()]);
    let shape = Shape {
        digits,
        lens,
        seps,
        plus,
        open_paren,
    };
    let end = tail.end;
    // Cards, SSNs and addresses start at their first digit: a `(` before them is punctuation.
    let bare = |entity, score| {
        Some(Hit {
            entity,
            start: head.start,
            end,
            score,
        })
    };
    if !plus && same_sep(seps, b".") && checks::ipv4(&groups_of(bytes, run)) {
        return bare(Entity::IpAddress, 0.9);
    }
    if !plus && card_layout(lens, seps) && checks::card_number(digits) {
        return bare(Entity::CardNumber, 1.0);
    }
    if !plus && let Some(score) = ssn(text, &shape, head.start, end) {
        return bare(Entity::Ssn, score);
    }
    let phone_end = match ext {
        Some(e) if last => phone_extension_end(bytes, e).unwrap_or(end),
        _ => end,
    };
    phone(text, &shape, start, phone_end).map(|score| Hit {
        entity: Entity::Phone,
        start,
        end: phone_end,
        score,
    })
}

/// The groups, their separators and their prefix, as the validators see them.
struct Shape<'a> {
    digits: &'a [u8],
    lens: &'a [usize],
    seps: &'a [&'a [u8]],
    plus: bool,
    open_paren: bool,
}

fn groups_of<'a>(bytes: &'a [u8], run: &[Group]) -> Vec<&'a [u8]> {
    run.iter().map(|g| &bytes[g.start..g.end]).collect()
}

/// Every separator is exactly `sep` (vacuously true for a single group).
fn same_sep(seps: &[&[u8]], sep: &[u8]) -> bool {
    seps.iter().all(|s| *s == sep)
}

/// Card numbers are written bare, in fours (the last group shorter), or as Amex/Diners 4-6-5 and 4-6-4,
/// with one separator used throughout.
fn card_layout(lens: &[usize], seps: &[&[u8]]) -> bool {
    if lens.len() == 1 {
        return true;
    }
    let consistent = same_sep(seps, b" ") || same_sep(seps, b"-");
    let fours = lens.len() >= 3
        && lens[..lens.len() - 1].iter().all(|&l| l == 4)
        && lens.last().is_some_and(|&l| (1..=4).contains(&l));
    let amex_diners = lens.len() == 3 && lens[0] == 4 && lens[1] == 6 && (4..=5).contains(&lens[2]);
    consistent && (fours || amex_diners)
}

/// `123-45-6789` (dashes, spaces or dots, used consistently) anywhere; nine bare digits only next to
/// words that say it is an SSN.
fn ssn(text: &str, shape: &Shape, start: usize, end: usize) -> Option<f32> {
    let d = shape.digits;
    if d.len() != 9 {
        return None;
    }
    let formatted = shape.lens == [3, 2, 4] && [&b"-"[..], b" ", b"."].iter().any(|s| same_sep(shape.seps, s));
    let bare = shape.lens == [9];
    let area = d[..3].iter().fold(0, |a, &b| a * 10 + u32::from(b - b'0'));
    let group = d[3..5].iter().fold(0, |a, &b| a * 10 + u32::from(b - b'0'));
    let serial = d[5..].iter().fold(0, |a, &b| a * 10 + u32::from(b - b'0'));
    if !checks::ssn(area, group, serial) {
        return None;
    }
    let near = || context::near(text, start, end, context::SSN_WORDS);
    if formatted {
        Some(if shape.seps.first() == Some(&&b"-"[..]) || near() {
            0.9
        } else {
            0.7
        })
    } else if bare && near() {
        Some(0.8)
    } else {
        None
    }
}

/// Phone numbers: E.164 with `+` (or `00`), North American numbers in their usual layouts, and
/// national numbers with a trunk `0`. Layouts that any number could have (ten bare digits, `0` +
/// digits) need a word like "call" or "phone" nearby.
fn phone(text: &str, shape: &Shape, start: usize, end: usize) -> Option<f32> {
    let d = shape.digits;
    let n = d.len();
    let lens = shape.lens;
    let near = || context::near(text, start, end, context::PHONE_WORDS);
    if shape.plus {
        let ok = if d[0] == b'1' && n == 11 {
            nanp(&d[1..])
        } else {
            (8..=15).contains(&n) && d[0] != b'0' && lens.iter().all(|&l| l <= 12)
        };
        return ok.then_some(0.9);
    }
    if d.starts_with(b"00") && lens.len() > 1 {
        let ok = if d.starts_with(b"001") && n == 13 {
            nanp(&d[3..])
        } else {
            (10..=17).contains(&n) && near()
        };
        return ok.then_some(0.85);
    }
    let seps_ok = shape
        .seps
        .iter()
        .all(|s| matches!(*s, b"-" | b"." | b" " | b")" | b") " | b")-" | b" ("));
    if !seps_ok {
        return None;
    }
    // Dashes, dots and parentheses in the 3-3-4 layout are a phone number's own notation, so the
    // digits are not held to the numbering plan there; spaces are not, so they are.
    let notation = shape.open_paren || same_sep(shape.seps, b"-") || same_sep(shape.seps, b".");
    match lens {
        [3, 3, 4] if notation || nanp(d) => Some(if notation { 0.9 } else { 0.75 }),
        [1, 3, 3, 4] if d[0] == b'1' && (notation || nanp(&d[1..])) => Some(0.85),
        [10] if nanp(d) && near() => Some(0.7),
        [11] if d[0] == b'1' && nanp(&d[1..]) && near() => Some(0.7),
        [3, 4] if d[0] >= b'2' && !shape.open_paren && same_sep(shape.seps, b"-") && near() => Some(0.6),
        // National numbers with a trunk 0: an area code in parentheses or two-digit pairs
        // (`(0161) 496 0000`, `01 23 45 67 89`) are phone notation; other groupings need context.
        _ if d[0] == b'0' && d.get(1) != Some(&b'0') && (10..=11).contains(&n) => {
            let pairs = lens.len() == 5 && lens.iter().all(|&l| l == 2);
            (shape.open_paren || pairs || near()).then_some(0.7)
        }
        _ => None,
    }
}

/// A ten-digit North American number: neither the area code nor the exchange starts with 0 or 1.
fn nanp(d: &[u8]) -> bool {
    d.len() == 10 && d[0] >= b'2' && d[3] >= b'2'
}

/// The end of `x123` / `ext. 123` / `ext 123` starting at or after `from`.
fn phone_extension_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i < bytes.len() && !bytes[i].is_ascii_digit() {
        i += 1;
    }
    let digits_start = i;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    (i > digits_start).then_some(i)
}
