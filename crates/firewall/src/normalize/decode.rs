//! Finds encoded segments (base64, hex, percent-encoding) in the original text and decodes the ones that
//! turn out to be readable text, so instructions hidden in them are scanned too. Bounded: at most
//! [`MAX_SEGMENTS`] segments and [`MAX_DECODED_BYTES`] decoded bytes per text, one level deep.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use super::Encoding;

/// At most this many decoded segments per text.
pub(super) const MAX_SEGMENTS: usize = 8;
/// At most this many decoded bytes per text, all segments together.
pub(super) const MAX_DECODED_BYTES: usize = 16 * 1024;
/// Shorter runs are words or identifiers, not smuggled instructions (16 base64 characters hold 12 bytes).
const MIN_RUN: usize = 16;

const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);

/// One decoded segment: the decoded text and the byte range of the encoded form in the original.
#[derive(Debug)]
pub(super) struct Segment {
    pub encoding: Encoding,
    pub text: String,
    pub start: usize,
    pub end: usize,
}

/// Decodes the readable encoded segments of `text`, within the bounds above.
pub(super) fn segments(text: &str) -> Vec<Segment> {
    let mut found = Vec::new();
    let mut budget = MAX_DECODED_BYTES;
    let bytes = text.as_bytes();
    for (start, end) in long_runs(bytes) {
        if found.len() >= MAX_SEGMENTS || budget == 0 {
            break;
        }
        let run = &bytes[start..end];
        if run.len() / 2 > budget {
            continue;
        }
        if let Some((encoding, decoded)) = decode_run(run) {
            budget = budget.saturating_sub(decoded.len());
            found.push(Segment {
                encoding,
                text: decoded,
                start,
                end,
            });
        }
    }
    found
}

/// The maximal runs of candidate bytes at least [`MIN_RUN`] long, in text order, as byte ranges.
pub(super) fn long_runs(bytes: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    // INVARIANT: `i == 0` or `bytes[i - 1]` is not a run byte, so no run straddles `i`.
    let mut i = 0;
    std::iter::from_fn(move || {
        loop {
            // A long enough run starting at or after `i` covers `probe`: when that byte is not a run byte,
            // none does, and the scan skips `MIN_RUN` bytes having looked at one (prose is short words).
            let probe = i + MIN_RUN - 1;
            let &b = bytes.get(probe)?;
            if !is_run_byte(b) {
                i = probe + 1;
                continue;
            }
            let before = bytes.get(i..probe).unwrap_or_default();
            let start = before.iter().rposition(|&b| !is_run_byte(b)).map_or(i, |p| i + p + 1);
            let after = bytes.get(probe..).unwrap_or_default();
            let end = after
                .iter()
                .position(|&b| !is_run_byte(b))
                .map_or(bytes.len(), |p| probe + p);
            i = end + 1;
            if end - start >= MIN_RUN {
                return Some((start, end));
            }
        }
    })
}

/// Bytes of a candidate run: the base64 alphabets (which include hex digits) and `%` for percent-encoding.
pub(super) fn is_run_byte(b: u8) -> bool {
    RUN_BYTE[usize::from(b)]
}

const RUN_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=' | b'-' | b'_' | b'%' | b'.');
        b += 1;
    }
    table
};

fn decode_run(run: &[u8]) -> Option<(Encoding, String)> {
    if run.iter().filter(|&&b| b == b'%').count() >= 3 {
        return percent_decode(run).and_then(readable).map(|s| (Encoding::Percent, s));
    }
    let run = trim_run(run);
    if run.len() < MIN_RUN {
        return None;
    }
    if run.len().is_multiple_of(2) && run.iter().all(u8::is_ascii_hexdigit) {
        return hex_decode(run).and_then(readable).map(|s| (Encoding::Hex, s));
    }
    let url_safe = run.iter().any(|&b| b == b'-' || b == b'_');
    let engine = if url_safe { &URL_SAFE } else { &STANDARD };
    // A lone trailing character cannot be base64 (6 bits); drop it rather than give up.
    let usable = if run.len() % 4 == 1 { &run[..run.len() - 1] } else { run };
    engine
        .decode(usable)
        .ok()
        .and_then(readable)
        .map(|s| (Encoding::Base64, s))
}

/// Strips sentence punctuation and separators that are not part of an encoded payload.
fn trim_run(run: &[u8]) -> &[u8] {
    let end = run
        .iter()
        .rposition(|&b| b.is_ascii_alphanumeric() || b == b'=')
        .map_or(0, |p| p + 1);
    let run = &run[..end];
    if run.contains(&b'.') {
        // Dotted runs are host names, versions or sentences, not base64.
        return &[];
    }
    run
}

fn hex_decode(run: &[u8]) -> Option<Vec<u8>> {
    run.chunks_exact(2)
        .map(|pair| Some(hex_value(pair[0])? << 4 | hex_value(pair[1])?))
        .collect()
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn percent_decode(run: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(run.len());
    let mut i = 0;
    while i < run.len() {
        let b = run[i];
        if b == b'%'
            && let (Some(hi), Some(lo)) = (
                run.get(i + 1).and_then(|&h| hex_value(h)),
                run.get(i + 2).and_then(|&l| hex_value(l)),
            )
        {
            out.push(hi << 4 | lo);
            i += 3;
            continue;
        }
        out.push(if b == b'+' { b' ' } else { b });
        i += 1;
    }
    Some(out)
}

/// Keeps decoded bytes only when they read as text: valid UTF-8, mostly letters and spaces, and not
/// control characters. Random bytes (hashes, keys, compressed data) fail this and are not scanned.
fn readable(bytes: Vec<u8>) -> Option<String> {
    let text = String::from_utf8(bytes).ok()?;
    let (mut total, mut letters, mut bad) = (0usize, 0usize, 0usize);
    for c in text.chars() {
        total += 1;
        if c.is_alphabetic() || c == ' ' {
            letters += 1;
        } else if c.is_control() && !c.is_whitespace() {
            bad += 1;
        }
    }
    (total >= 4 && bad == 0 && letters * 10 >= total * 7).then_some(text)
}
