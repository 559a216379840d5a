//! Normalization before matching: rules and the classifier see text as a reader would, not as the bytes
//! an attacker chose. The primary view folds compatibility forms (fullwidth, mathematical alphanumerics,
//! ligatures, accents), drops invisible and bidirectional-control characters, decodes tag-character
//! smuggling, folds homoglyphs in mixed-script words, lowercases, joins spaced-out letters and collapses
//! whitespace. Extra views hold the leetspeak reading, the ROT13 reading (only when the text hints at it)
//! and decoded base64 / hex / percent-encoded segments.
//!
//! Every byte of the primary view maps back to a byte offset of the original, so findings can point at
//! what the caller sent. Linear time, no panics, and the extra views are bounded (see `decode`).
//! This module does not judge: it only reports how much evasion it undid ([`Evasion`]).

mod decode;
mod fold;

/// Counts of the evasion tricks undone while normalizing; a scanner may treat some as findings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Evasion {
    /// Zero-width characters, soft hyphens, BOMs, variation selectors and fillers dropped.
    pub invisible: u32,
    /// Bidirectional controls (embeddings, overrides, isolates, marks) dropped.
    pub bidi: u32,
    /// Unicode tag characters decoded to the ASCII they mirror (outside emoji flags).
    pub tag_chars: u32,
    /// Words that mixed Latin letters with look-alikes from other scripts.
    pub homoglyphs: u32,
    /// Characters changed by compatibility decomposition or accent removal.
    pub folded: u32,
    /// Runs of spaced-out letters joined into words.
    pub spaced_runs: u32,
    /// Letters of another script (Greek, Cyrillic, Armenian, Hebrew, Arabic) that are no look-alike,
    /// dropped from between two Latin letters ("ignΞore").
    pub mixed_script: u32,
}

/// How a decoded view was encoded in the original.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Base64,
    Hex,
    Percent,
}

/// A decoded segment, normalized like the primary view. Matches in it point at the whole encoded segment.
#[derive(Debug, Clone)]
pub struct DecodedView {
    pub encoding: Encoding,
    /// The decoded text, normalized.
    pub text: String,
    /// Byte range of the encoded segment in the original text.
    pub start: usize,
    pub end: usize,
}

/// A text and its views, ready for matching.
#[derive(Debug, Clone)]
pub struct Normalized {
    text: String,
    /// INVARIANT: `starts.len() == text.len()`; `starts[i]` is the original offset of the character that
    /// produced byte `i`, and offsets never decrease.
    starts: Vec<u32>,
    original_len: usize,
    leet: Option<String>,
    rot13: Option<String>,
    decoded: Vec<DecodedView>,
    evasion: Evasion,
}

/// Lowercased ROT13 forms of trigger words, and mentions of ROT13 itself: only texts holding one get a
/// ROT13 view, so ordinary text pays nothing for it.
const ROT13_HINTS: [&[u8]; 9] = [
    b"rot13",
    b"rot-13",
    b"rot 13",
    b"vtaber",
    b"qvfertneq",
    b"vafgehpgvba",
    b"flfgrz",
    b"cebzcg",
    b"cnffjbeq",
];

/// The shortest hint: the search slides a window of this many bytes.
const HINT_WINDOW: usize = 5;

/// How far the window may slide when its last two bytes are a pair (indexed by [`hint_pair`]): the
/// least distance from the pair's place in a hint's first [`HINT_WINDOW`] bytes to their end, and
/// `HINT_WINDOW - 1` for pairs in no hint (Wu-Manber; pairs sharing an index take the least shift).
const HINT_SHIFT: [u8; 4096] = {
    let mut table = [(HINT_WINDOW - 1) as u8; 4096];
    let mut h = 0;
    while h < ROT13_HINTS.len() {
        let hint = ROT13_HINTS[h];
        let mut j = 1;
        while j < HINT_WINDOW {
            let slot = hint_pair(hint[j - 1], hint[j]);
            let shift = (HINT_WINDOW - 1 - j) as u8;
            if shift < table[slot] {
                table[slot] = shift;
            }
            j += 1;
        }
        h += 1;
    }
    table
};

const fn hint_pair(a: u8, b: u8) -> usize {
    ((a as usize & 0x3F) << 6) | (b as usize & 0x3F)
}

/// Whether `text` holds a ROT13 hint. Most windows of prose slide by three or four bytes after one
/// table lookup, where a general multi-pattern automaton steps through every byte.
fn hints_rot13(text: &[u8]) -> bool {
    let mut i = 0;
    while let Some(&[a, b]) = text.get(i + HINT_WINDOW - 2..i + HINT_WINDOW) {
        match HINT_SHIFT[hint_pair(a, b)] {
            0 => {
                let rest = text.get(i..).unwrap_or_default();
                if ROT13_HINTS.iter().any(|hint| rest.starts_with(hint)) {
                    return true;
                }
                i += 1;
            }
            shift => i += usize::from(shift),
        }
    }
    false
}

/// Normalizes `text` into its primary view and the extra views described in the module documentation.
pub fn normalize(text: &str) -> Normalized {
    let mut evasion = Evasion::default();
    let (primary, starts) = fold_text(text, &mut evasion);
    // An ASCII text has an ASCII primary view.
    let leet = fold::leet(&primary, text.is_ascii());
    let rot13 = hints_rot13(primary.as_bytes()).then(|| fold::rot13(&primary));
    let decoded = decode::segments(text)
        .into_iter()
        .map(|segment| {
            let mut inner = Evasion::default();
            let (text, _) = fold_text(&segment.text, &mut inner);
            DecodedView {
                encoding: segment.encoding,
                text,
                start: segment.start,
                end: segment.end,
            }
        })
        .collect();
    Normalized {
        text: primary,
        starts,
        original_len: text.len(),
        leet,
        rot13,
        decoded,
        evasion,
    }
}

/// The primary view of `text` with its offset map.
fn fold_text(text: &str, evasion: &mut Evasion) -> (String, Vec<u32>) {
    let fast = if text.is_ascii() {
        fold::fold_ascii_text(text, evasion)
    } else {
        fold::fold_plain_text(text, evasion)
    };
    if let Some(fast) = fast {
        return fast;
    }
    let mut chars = Vec::with_capacity(text.len());
    fold::fold_chars(text, 0, &mut chars, evasion);
    fold::fold_words(&mut chars, evasion);
    let mut folded = String::with_capacity(text.len());
    let mut starts = Vec::with_capacity(text.len());
    fold::emit(&chars, &mut folded, &mut starts);
    (folded, starts)
}

impl Normalized {
    /// The primary view.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The leetspeak reading of the primary view (same length and offsets), if any token had leet in it.
    pub fn leet(&self) -> Option<&str> {
        self.leet.as_deref()
    }

    /// The ROT13 reading of the primary view (same length and offsets), if the text hinted at ROT13.
    pub fn rot13(&self) -> Option<&str> {
        self.rot13.as_deref()
    }

    /// Decoded base64, hex and percent-encoded segments that read as text.
    pub fn decoded(&self) -> &[DecodedView] {
        &self.decoded
    }

    /// The evasion undone while normalizing.
    pub fn evasion(&self) -> Evasion {
        self.evasion
    }

    /// Maps the byte range `start..end` of the primary view (or of a same-length view) to a byte range of
    /// `original`, the text given to [`normalize`]. Out-of-range input is clamped, never a panic.
    pub fn original_span(&self, original: &str, start: usize, end: usize) -> (usize, usize) {
        if self.starts.is_empty() || original.len() != self.original_len {
            return (0, original.len());
        }
        let last = self.starts.len() - 1;
        let from = self.starts[start.min(last)] as usize;
        let last_byte = self.starts[end.saturating_sub(1).clamp(start.min(last), last)] as usize;
        let to = original
            .get(last_byte..)
            .and_then(|rest| rest.chars().next())
            .map_or(original.len(), |c| last_byte + c.len_utf8());
        (from.min(original.len()), to.min(original.len()))
    }
}

#[cfg(test)]
mod tests;
