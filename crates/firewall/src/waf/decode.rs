//! Undoing the encodings attackers wrap payloads in, before any rule looks at them: percent-encoding
//! (repeated, bounded: `%252e` is `.` after two rounds), `%uXXXX`, `+` as space, HTML character references,
//! JavaScript `\uXXXX`/`\xHH` escapes, overlong UTF-8 (`%c0%ae`), fullwidth and circled letters, zero-width
//! characters and NULs, and ASCII case. Each output byte remembers where its source began, so a finding's
//! span points into the text the caller sent.
//!
//! Line breaks that were in the text as sent become [`LINE_BREAK`], which no rule reads as whitespace or as
//! a line break: in a multi-line text (an email, a YAML tool output, a document) they are structure, and
//! reading them as the `\r\n` of a header injection, the newline of a chained shell command or the
//! whitespace inside a SQL expression is how a `location:` line, an `I'd` at the start of a paragraph or a
//! YAML list of quoted strings looked like attacks. Line breaks smuggled in through an encoding (`%0d%0a`,
//! `\n`, `&#10;`) are what those attacks need, and they decode to real `\r` and `\n`.

/// How many decoding rounds at most: enough for double and triple encoding, bounded so a crafted input
/// cannot make the scan loop.
const MAX_ROUNDS: usize = 4;

/// What a line break of the text as sent becomes (ASCII's record separator): not `\s`, not `[\r\n]`.
pub(crate) const LINE_BREAK: u8 = 0x1e;

/// The bytes of the text as sent with its line breaks marked, when it has any.
fn mark_line_breaks(raw: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if !raw.iter().any(|&b| matches!(b, b'\r' | b'\n')) {
        return std::borrow::Cow::Borrowed(raw);
    }
    let marked = raw
        .iter()
        .map(|&b| if matches!(b, b'\r' | b'\n') { LINE_BREAK } else { b })
        .collect();
    std::borrow::Cow::Owned(marked)
}

/// The decoded, lowercased text and, when decoding changed anything, the source offset of each byte.
#[derive(Debug, Clone)]
pub(crate) struct Decoded {
    pub bytes: Vec<u8>,
    /// `map[i]` is the offset in the original text where output byte `i` came from; empty means identity.
    map: Vec<u32>,
    source_len: usize,
}

impl Decoded {
    pub fn new(text: &str) -> Self {
        // The text as sent is valid UTF-8; a later round's input is checked once, not per character.
        if !needs_round(text.as_bytes(), true) {
            // Nothing to decode: lowercase and mark line breaks in one copy.
            let bytes = text
                .as_bytes()
                .iter()
                .map(|&b| match b {
                    b'\r' | b'\n' => LINE_BREAK,
                    b => b.to_ascii_lowercase(),
                })
                .collect();
            return Self {
                bytes,
                map: Vec::new(),
                source_len: text.len(),
            };
        }
        let marked = mark_line_breaks(text.as_bytes());
        let raw: &[u8] = &marked;
        let (mut bytes, mut map) = decode_round(raw, true);
        for _ in 1..MAX_ROUNDS {
            let utf8 = std::str::from_utf8(&bytes).is_ok();
            if !needs_round(&bytes, utf8) {
                break;
            }
            let (next, next_map) = decode_round(&bytes, utf8);
            map = next_map
                .iter()
                .map(|&i| map.get(i as usize).copied().unwrap_or(offset(raw.len())))
                .collect();
            bytes = next;
        }
        bytes.make_ascii_lowercase();
        Self {
            bytes,
            map,
            source_len: raw.len(),
        }
    }

    /// The source byte range of decoded bytes `start..end`.
    pub fn source_span(&self, start: usize, end: usize) -> (usize, usize) {
        if self.map.is_empty() {
            return (start, end);
        }
        let at = |i: usize| self.map.get(i).map_or(self.source_len, |&o| o as usize);
        let s = at(start);
        // The end is where the next decoded byte's source starts, or the end of the text.
        let e = (end..self.map.len())
            .map(at)
            .find(|&o| o > s)
            .unwrap_or(self.source_len);
        (s, e.max(s))
    }
}

fn offset(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// Whether a decoding round would change anything: one cheap pass, so plain text (ASCII or not) skips
/// the offset map entirely. `utf8` tells that `bytes` are valid UTF-8.
fn needs_round(bytes: &[u8], utf8: bool) -> bool {
    let mut i = 0;
    while let Some(at) = next_candidate(bytes, i, utf8) {
        i = at;
        let b = bytes[i];
        if b >= 0x80 {
            // A valid character is decoded once: it is unchanged when it does not fold.
            let (unchanged, consumed) = match valid_char(&bytes[i..]) {
                Some((c, len)) => (matches!(fold_char(c), Produced::Char(f) if f == c), len),
                None => {
                    let (produced, consumed) = non_ascii(&bytes[i..]);
                    (
                        matches!(produced, Produced::Byte(x) if consumed == 1 && x == b),
                        consumed,
                    )
                }
            };
            if !unchanged {
                return true;
            }
            i += consumed;
            continue;
        }
        if b == 0 {
            return true;
        }
        let (produced, consumed) = decode_at(bytes, i, i.checked_sub(1).map(|p| bytes[p]));
        if !(consumed == 1 && matches!(produced, Produced::Byte(x) if x == b)) {
            return true;
        }
        i += 1;
    }
    false
}

/// 1 for a byte a decoder starts at, as branch-free comparisons (for `next_flagged`).
fn candidate_flag(b: u8) -> u8 {
    u8::from(b == b'%') | u8::from(b == b'&') | u8::from(b == b'\\') | u8::from(b == 0) | (b >> 7)
}

/// The next byte at or after `i` that a decoder starts at, stepping over valid characters no decoder
/// changes (`utf8`: `bytes` are valid UTF-8 and `i` is a character boundary).
#[inline]
fn next_candidate(bytes: &[u8], mut i: usize, utf8: bool) -> Option<usize> {
    loop {
        let at = if utf8 {
            next_flagged_near(bytes, i, utf8_candidate_flag)
        } else {
            next_flagged_near(bytes, i, candidate_flag)
        }?;
        match bytes.get(at..).and_then(|rest| plain_char(rest, utf8)) {
            Some(len) => i = at + len,
            None => return Some(at),
        }
    }
}

/// `candidate_flag` for valid UTF-8: of the bytes from 0x80 up, only the first bytes of the sequences
/// [`plain_char`] looks at more closely; every other character is plain.
fn utf8_candidate_flag(b: u8) -> u8 {
    u8::from(b == b'%')
        | u8::from(b == b'&')
        | u8::from(b == b'\\')
        | u8::from(b == 0)
        | u8::from(b == 0xc2)
        | u8::from(b == 0xca)
        | u8::from(b == 0xcb)
        | u8::from(b == 0xe2)
        | u8::from(b == 0xe3)
        | u8::from(b == 0xee)
        | u8::from(b == 0xef)
}

/// The next byte at or after `i` that `flag` marks. Candidates come in clusters (an escape, a word of
/// another script), so the next few bytes are looked at one by one before whole blocks are skipped.
#[inline(always)]
fn next_flagged_near(bytes: &[u8], i: usize, flag: impl Fn(u8) -> u8) -> Option<usize> {
    match bytes.get(i..)?.iter().take(9).position(|&b| flag(b) != 0) {
        Some(k) => Some(i + k),
        None => super::next_flagged(bytes, i + 9, flag),
    }
}

/// The length of the valid character at the start of `rest` when no decoder changes it: [`fold_char`]
/// leaves it as it is and it is no overlong form (those are not valid UTF-8). Judged by its first bytes
/// against where the characters `fold_char` maps live (U+00A0 and U+00AD; U+02BC..U+02C3;
/// U+2000..U+207F, U+2200..U+223F and U+2480..U+24FF; U+3000; U+E000 and up), so that the letters
/// of most scripts, CJK punctuation and symbols are copied with the plain ASCII around them instead of
/// being decoded one by one. `None` may also mean "look closer": the decoder then decides. `utf8` tells
/// that `rest` is valid UTF-8 starting at a character, so the first byte gives the length.
fn plain_char(rest: &[u8], utf8: bool) -> Option<usize> {
    let (&lead, second) = (rest.first()?, rest.get(1).copied());
    if lead < 0x80 {
        return None;
    }
    let may_fold = match lead {
        0xc2 => matches!(second, Some(0xa0 | 0xad)),
        0xca | 0xcb | 0xee | 0xef => true,
        0xe2 => matches!(second, Some(0x80 | 0x81 | 0x88 | 0x92 | 0x93)),
        0xe3 => second == Some(0x80) && rest.get(2) == Some(&0x80),
        _ => false,
    };
    match (may_fold, utf8) {
        (true, _) => None,
        (false, true) => utf8_len(lead),
        (false, false) => valid_char(rest).map(|(_, len)| len),
    }
}

/// The length of a UTF-8 sequence of two to four bytes from its first byte; `None` for other bytes.
fn utf8_len(lead: u8) -> Option<usize> {
    match lead {
        0xc2..=0xdf => Some(2),
        0xe0..=0xef => Some(3),
        0xf0..=0xf4 => Some(4),
        _ => None,
    }
}

/// One round over the bytes; returns the output and, per output byte, the input offset it came from.
/// `utf8` tells that `input` is valid UTF-8.
fn decode_round(input: &[u8], utf8: bool) -> (Vec<u8>, Vec<u32>) {
    let mut out = Vec::with_capacity(input.len());
    let mut map = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        // Bytes no decoder starts at are copied as a run: most of a text, even a non-ASCII one.
        let run = next_candidate(input, i, utf8).unwrap_or(input.len()) - i;
        if run > 0 {
            let copied = &input[i..i + run];
            out.extend_from_slice(copied);
            if copied.is_ascii() {
                map.extend(offset(i)..offset(i + run));
            } else {
                // Every byte of a character copied whole maps to where it starts, as when it is decoded.
                let mut start = offset(i);
                map.extend(copied.iter().zip(i..).map(|(&b, at)| {
                    if b & 0xc0 != 0x80 {
                        start = offset(at);
                    }
                    start
                }));
            }
            i += run;
            continue;
        }
        let (produced, consumed) = decode_at(input, i, i.checked_sub(1).map(|p| input[p]));
        let start = offset(i);
        match produced {
            Produced::Byte(b) => {
                out.push(b);
                map.push(start);
            }
            Produced::Char(c) => {
                let mut buf = [0u8; 4];
                for &b in c.encode_utf8(&mut buf).as_bytes() {
                    out.push(b);
                    map.push(start);
                }
            }
            Produced::Nothing => {}
        }
        i += consumed.max(1);
    }
    (out, map)
}

enum Produced {
    Byte(u8),
    Char(char),
    Nothing,
}

fn decode_at(input: &[u8], i: usize, prev: Option<u8>) -> (Produced, usize) {
    let rest = &input[i..];
    match rest[0] {
        b'%' => percent(rest),
        b'&' => entity(rest),
        b'\\' => js_escape(rest, prev),
        0 => (Produced::Nothing, 1),
        b if b >= 0x80 => non_ascii(rest),
        b => (Produced::Byte(b), 1),
    }
}

fn hex(b: u8) -> Option<u32> {
    (b as char).to_digit(16)
}

fn hex_run(bytes: &[u8], len: usize) -> Option<u32> {
    if bytes.len() < len {
        return None;
    }
    bytes[..len].iter().try_fold(0u32, |acc, &b| Some(acc * 16 + hex(b)?))
}

fn percent(rest: &[u8]) -> (Produced, usize) {
    if let Some(v) = hex_run(&rest[1..], 2) {
        return (Produced::Byte(v as u8), 3);
    }
    if matches!(rest.get(1), Some(b'u' | b'U'))
        && let Some(c) = hex_run(&rest[2..], 4).and_then(char::from_u32)
    {
        return (fold_char(c), 6);
    }
    (Produced::Byte(b'%'), 1)
}

/// `prev` is the byte before the backslash: after a name character it is a Windows path separator
/// (`\default\ntuser.dat`), so `\n`, `\r` and `\t` are only read as escapes elsewhere.
fn js_escape(rest: &[u8], prev: Option<u8>) -> (Produced, usize) {
    let in_path = prev.is_some_and(|p| p.is_ascii_alphanumeric() || matches!(p, b':' | b'$' | b'.' | b'_' | b'-'));
    match rest.get(1) {
        Some(b'n' | b'r' | b't') if in_path => (Produced::Byte(b'\\'), 1),
        Some(b'u') if rest.get(2) == Some(&b'{') => {
            let digits = rest[3..].iter().take(7).take_while(|b| b.is_ascii_hexdigit()).count();
            let value = hex_run(&rest[3..], digits).and_then(char::from_u32);
            match value {
                Some(c) if digits > 0 && rest.get(3 + digits) == Some(&b'}') => (fold_char(c), 4 + digits),
                _ => (Produced::Byte(b'\\'), 1),
            }
        }
        Some(b'u') => match hex_run(&rest[2..], 4).and_then(char::from_u32) {
            Some(c) => (fold_char(c), 6),
            None => (Produced::Byte(b'\\'), 1),
        },
        Some(b'n') => (Produced::Byte(b'\n'), 2),
        Some(b'r') => (Produced::Byte(b'\r'), 2),
        Some(b't') => (Produced::Byte(b'\t'), 2),
        // CSS escapes of ASCII (`\0075`); shorter ones would eat Windows paths like `\boot.ini`.
        Some(b'0') if rest.get(2) == Some(&b'0') => match hex_run(&rest[3..], 2) {
            Some(v) => (fold_char(char::from(v as u8)), 5),
            None => (Produced::Byte(b'\\'), 1),
        },
        Some(b'x') => match hex_run(&rest[2..], 2) {
            Some(v) => (fold_char(char::from(v as u8)), 4),
            None => (Produced::Byte(b'\\'), 1),
        },
        _ => (Produced::Byte(b'\\'), 1),
    }
}

/// Named references attackers use to hide syntax; the full HTML table would cost more than it catches.
const NAMED: &[(&[u8], u8)] = &[
    (b"lt", b'<'),
    (b"gt", b'>'),
    (b"quot", b'"'),
    (b"apos", b'\''),
    (b"amp", b'&'),
    (b"colon", b':'),
    (b"lpar", b'('),
    (b"rpar", b')'),
    (b"lsqb", b'['),
    (b"rsqb", b']'),
    (b"lbrack", b'['),
    (b"rbrack", b']'),
    (b"lcub", b'{'),
    (b"rcub", b'}'),
    (b"sol", b'/'),
    (b"bsol", b'\\'),
    (b"equals", b'='),
    (b"num", b'#'),
    (b"period", b'.'),
    (b"comma", b','),
    (b"semi", b';'),
    (b"plus", b'+'),
    (b"excl", b'!'),
    (b"grave", b'`'),
    (b"tab", b'\t'),
    (b"newline", b'\n'),
    (b"nbsp", b' '),
];

fn entity(rest: &[u8]) -> (Produced, usize) {
    if rest.get(1) == Some(&b'#') {
        let (radix, start) = if matches!(rest.get(2), Some(b'x' | b'X')) {
            (16, 3)
        } else {
            (10, 2)
        };
        let digits = rest[start..]
            .iter()
            .take_while(|b| (**b as char).is_digit(radix))
            .count();
        if digits == 0 {
            return (Produced::Byte(b'&'), 1);
        }
        // Leading zeros are legal and a known trick (`&#0000060`), so only the value is bounded.
        let value = rest[start..start + digits].iter().try_fold(0u32, |acc, &b| {
            acc.checked_mul(radix)?.checked_add((b as char).to_digit(radix)?)
        });
        let semi = usize::from(rest.get(start + digits) == Some(&b';'));
        return match value.and_then(char::from_u32) {
            Some(c) => (fold_char(c), start + digits + semi),
            None => (Produced::Byte(b'&'), 1),
        };
    }
    let name_len = rest[1..].iter().take(8).take_while(|b| b.is_ascii_alphabetic()).count();
    let name = &rest[1..1 + name_len];
    for (known, value) in NAMED {
        if name.eq_ignore_ascii_case(known) {
            let semi = usize::from(rest.get(1 + name_len) == Some(&b';'));
            return (Produced::Byte(*value), 1 + name_len + semi);
        }
    }
    (Produced::Byte(b'&'), 1)
}

/// A non-ASCII sequence: overlong UTF-8 for ASCII (`c0 ae` is `.`) becomes that ASCII byte; valid
/// characters go through [`fold_char`]; other invalid bytes pass through for the byte regexes.
fn non_ascii(rest: &[u8]) -> (Produced, usize) {
    let b0 = rest[0];
    if matches!(b0, 0xc0 | 0xc1)
        && let Some(&b1) = rest.get(1).filter(|b| **b & 0xc0 == 0x80)
    {
        return (Produced::Byte(((b0 & 0x1f) << 6) | (b1 & 0x3f)), 2);
    }
    // `%c0%2e`: a lead byte before plain ASCII, which lenient decoders (IIS) drop.
    if matches!(b0, 0xc0 | 0xc1) && rest.get(1).is_some_and(u8::is_ascii_punctuation) {
        return (Produced::Nothing, 1);
    }
    if b0 == 0xe0
        && rest.get(1) == Some(&0x80)
        && let Some(&b2) = rest.get(2).filter(|b| **b & 0xc0 == 0x80)
    {
        return (Produced::Byte(b2 & 0x3f), 3);
    }
    match valid_char(rest) {
        Some((c, len)) => (fold_char(c), len),
        None => (Produced::Byte(b0), 1),
    }
}

/// The valid UTF-8 character of two to four bytes at the start of `rest`, and its length.
fn valid_char(rest: &[u8]) -> Option<(char, usize)> {
    let len = utf8_len(*rest.first()?)?;
    let c = rest
        .get(..len)
        .and_then(|s| std::str::from_utf8(s).ok())
        .and_then(|s| s.chars().next())?;
    Some((c, len))
}

/// Characters that render like ASCII syntax fold to it; invisible ones disappear.
fn fold_char(c: char) -> Produced {
    let code = c as u32;
    let folded = match code {
        0 | 0x200b..=0x200f | 0x2060..=0x2064 | 0xfeff | 0xad => return Produced::Nothing,
        0xff01..=0xff5e => code - 0xfee0,
        0x24b6..=0x24cf => code - 0x24b6 + u32::from(b'a'),
        0x24d0..=0x24e9 => code - 0x24d0 + u32::from(b'a'),
        0x2215 | 0x2044 => u32::from(b'/'),
        0x2216 | 0xfe68 => u32::from(b'\\'),
        0x2024 | 0xfe52 => u32::from(b'.'),
        0x2018 | 0x2019 | 0x02bc | 0x2032 | 0x2035 => u32::from(b'\''),
        0x2010..=0x2015 | 0x2212 => u32::from(b'-'),
        // Private-use code points that IIS's best-fit mapping turns into path separators.
        0xefc8 => u32::from(b'/'),
        0xf025 => u32::from(b'\\'),
        0x201c | 0x201d => u32::from(b'"'),
        0x02c2 | 0x2039 | 0xfe64 => u32::from(b'<'),
        0x02c3 | 0x203a | 0xfe65 => u32::from(b'>'),
        0xa0 | 0x2000..=0x200a | 0x3000 => u32::from(b' '),
        _ => code,
    };
    match char::from_u32(folded) {
        Some(f) if f.is_ascii() => Produced::Byte(f as u8),
        Some(f) => Produced::Char(f),
        None => Produced::Char(c),
    }
}

#[cfg(test)]
mod tests {
    use super::{Decoded, Produced, fold_char, plain_char, utf8_candidate_flag};
    use proptest::prelude::*;

    /// Every character `plain_char` steps over is one the decoder would leave as it is, over all of Unicode.
    #[test]
    fn plain_characters_are_the_ones_no_decoder_changes() {
        let mut stepped_over = 0;
        for c in (0x80..=0x10_FFFF).filter_map(char::from_u32) {
            let mut buf = [0u8; 4];
            let encoded = c.encode_utf8(&mut buf).as_bytes();
            let Some(len) = plain_char(encoded, false) else {
                assert_eq!(plain_char(encoded, true), None, "{c:?}");
                assert_ne!(utf8_candidate_flag(encoded[0]), 0, "{c:?} is skipped but folds");
                continue;
            };
            stepped_over += 1;
            // What the valid-UTF-8 scan never stops at must be plain.
            if utf8_candidate_flag(encoded[0]) == 0 {
                assert!(plain_char(encoded, true).is_some(), "{c:?}");
            }
            assert_eq!(len, c.len_utf8(), "{c:?}");
            assert_eq!(plain_char(encoded, true), Some(len), "{c:?}");
            assert!(matches!(fold_char(c), Produced::Char(f) if f == c), "{c:?} folds");
        }
        // Most of Unicode is stepped over; the test would pass vacuously otherwise.
        assert!(stepped_over > 1_000_000, "{stepped_over}");
    }

    /// Invalid UTF-8 and overlong forms are never stepped over: the decoder reads them.
    #[test]
    fn invalid_and_overlong_bytes_are_decoded() {
        for bytes in [
            &[0xc0, 0xae][..],
            &[0xc1, 0x81],
            &[0xe0, 0x80, 0xae],
            &[0x80],
            &[0xe4, 0xb8],
            &[0xff],
        ] {
            assert_eq!(plain_char(bytes, false), None, "{bytes:x?}");
        }
    }

    proptest! {
        /// Each decoded byte maps to where a character or an escape starts in the text as sent, also when
        /// characters copied whole sit between decoded ones.
        #[test]
        fn decoded_bytes_map_to_character_starts(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec!["a", "Ж", "中", "，", "’", "%41", "&lt;", "\\u0041", "é", "\u{a0}", "\u{ff21}", "😀", "\n", " "]),
                0..40,
            ),
        ) {
            let text = pieces.concat();
            let decoded = Decoded::new(&text);
            for &at in &decoded.map {
                prop_assert!(text.is_char_boundary(at as usize), "{at} in {text:?}");
            }
            for i in 0..decoded.bytes.len() {
                let (start, end) = decoded.source_span(i, i + 1);
                prop_assert!(start <= end && end <= text.len());
            }
        }
    }
}
