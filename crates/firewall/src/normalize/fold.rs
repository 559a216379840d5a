//! Character folding: the per-character first pass (compatibility decomposition, invisible and format
//! characters, tag-character smuggling, case) and the per-word second pass (homoglyphs, spaced-out letters,
//! whitespace runs). Each folded character remembers the byte offset of the original character it came from.

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

use super::Evasion;
use spaced::{fold_ascii_spaced, has_spaced_letters, join_spaced_letters};

mod spaced;

/// Marks a character dropped by the second pass. Pass one never emits NUL (it drops C0 controls), so the
/// marker cannot collide with text.
const DROPPED: char = '\0';

/// The waving black flag that starts an emoji tag sequence (subdivision flags such as England's); tag
/// characters after it are part of an emoji, not hidden text.
const BLACK_FLAG: char = '\u{1F3F4}';

/// Pass one: folds every character of `text` into `out` as `(folded char, original byte offset)`.
/// `base` is added to every offset so that a segment of a larger text keeps its position.
pub(super) fn fold_chars(text: &str, base: u32, out: &mut Vec<(char, u32)>, evasion: &mut Evasion) {
    let mut in_flag = false;
    for (index, c) in text.char_indices() {
        let at = base.saturating_add(u32::try_from(index).unwrap_or(u32::MAX));
        fold_char(c, at, &mut in_flag, out, evasion);
    }
}

/// Pass one for the character `c` at offset `at`. `in_flag` tells whether `c` follows a waving black
/// flag (and tag characters since), and is updated.
#[inline]
fn fold_char(c: char, at: u32, in_flag: &mut bool, out: &mut Vec<(char, u32)>, evasion: &mut Evasion) {
    if c.is_ascii() {
        *in_flag = false;
        fold_ascii(c, at, out);
        return;
    }
    if matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{AC00}'..='\u{D7A3}') {
        // CJK ideographs and Hangul syllables are no tag, control, invisible, space or compatibility
        // form, and have no case: they stay as they are, without the lookups below.
        *in_flag = false;
        out.push((c, at));
        return;
    }
    if let Some(hidden) = tag_ascii(c) {
        // Tag characters render as nothing: decode them so the hidden text is scanned like visible
        // text (ASCII smuggling), unless they spell an emoji flag.
        if *in_flag {
            return;
        }
        if let Some(ascii) = hidden {
            evasion.tag_chars += 1;
            fold_ascii(ascii, at, out);
        }
        return;
    }
    *in_flag = c == BLACK_FLAG;
    if is_arabic_mark(c) {
        // Arabic vowel marks are optional in writing (most text has none): read as without them.
        evasion.folded += 1;
        return;
    }
    if is_bidi_control(c) {
        evasion.bidi += 1;
        return;
    }
    if is_invisible(c) {
        evasion.invisible += 1;
        return;
    }
    if c.is_whitespace() {
        out.push((' ', at));
        return;
    }
    if !folds_by_decomposition(c) {
        // Other scripts keep their marks: Devanagari vowel signs and kana voicing marks are letters
        // of the word, not decoration, and dropping them would garble the text rules match.
        out.extend(c.to_lowercase().map(|lower| (lower, at)));
        return;
    }
    let before = out.len();
    decompose_compatible(c, |d| {
        if is_combining_mark(d) && is_diacritic(d) {
            return;
        }
        for lower in d.to_lowercase() {
            out.push((lower, at));
        }
    });
    if out.len() != before + 1 || out.last().is_some_and(|&(f, _)| f != c) {
        evasion.folded += 1;
    }
}

/// Characters whose compatibility decomposition is what a reader sees: accented Latin, Greek and Cyrillic
/// letters, and the compatibility blocks used for evasion (fullwidth and halfwidth forms, mathematical
/// alphanumerics, letterlike and enclosed forms, ligatures, superscripts).
fn folds_by_decomposition(c: char) -> bool {
    matches!(
        c,
        '\u{00A0}'..='\u{04FF}'
            | '\u{1D00}'..='\u{1EFF}'
            | '\u{2000}'..='\u{24FF}'
            | '\u{3000}'
            | '\u{FB00}'..='\u{FB4F}'
            | '\u{FF00}'..='\u{FFEF}'
            | '\u{1D400}'..='\u{1D7FF}'
            | '\u{1F100}'..='\u{1F1FF}'
    )
}

/// Combining diacritical marks (accents) that compatibility decomposition splits off Latin, Greek and
/// Cyrillic letters.
fn is_diacritic(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}' | '\u{20D0}'..='\u{20FF}' | '\u{FE20}'..='\u{FE2F}')
}

fn fold_ascii(c: char, at: u32, out: &mut Vec<(char, u32)>) {
    match c {
        '\t' | '\n' | '\r' | '\u{0b}' | '\u{0c}' => out.push((' ', at)),
        c if c.is_ascii_control() => {}
        c => out.push((c.to_ascii_lowercase(), at)),
    }
}

/// `Some(Some(ascii))` for a tag character that mirrors printable ASCII, `Some(None)` for the other tag
/// characters (begin, cancel), `None` outside the tag block.
fn tag_ascii(c: char) -> Option<Option<char>> {
    let code = u32::from(c);
    if !(0xE0000..=0xE007F).contains(&code) {
        return None;
    }
    Some(char::from_u32(code - 0xE0000).filter(|a| a.is_ascii_graphic() || *a == ' '))
}

/// Arabic harakat, tanwin, shadda, sukun and the superscript alef.
fn is_arabic_mark(c: char) -> bool {
    matches!(c, '\u{064B}'..='\u{065F}' | '\u{0670}')
}

/// A letter of Greek, Cyrillic, Armenian, Hebrew or Arabic that is no look-alike of a Latin one: between
/// two Latin letters it is noise inserted to break a word up ("ignΞore"), and is dropped. Other Latin
/// letters (ß, ø, ł) are not, nor are scripts written without such mixing in mind (CJK).
pub(super) fn is_foreign_letter(c: char) -> bool {
    // Of the block's alphanumerics only the Arabic-Indic digits are no letters.
    matches!(c, '\u{0370}'..='\u{06FF}')
        && !matches!(c, '\u{0660}'..='\u{0669}' | '\u{06F0}'..='\u{06F9}')
        && is_alphanumeric(c)
        && homoglyph(c).is_none()
}

/// Bidirectional embedding, override and isolate controls: they reorder what a reader sees
/// (Trojan Source), so they are dropped and counted.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Characters that render as nothing or next to nothing and are used to split trigger words:
/// zero-width space, joiners, word joiner, soft hyphen, BOM, variation selectors, fillers.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200D}'
            | '\u{2060}'..='\u{2064}'
            | '\u{206A}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{E0100}'..='\u{E01EF}'
    )
}

/// The Latin letter a Cyrillic, Greek or other look-alike (already lowercased) is mistaken for.
pub(super) fn homoglyph(c: char) -> Option<char> {
    Some(match c {
        'а' | 'α' | 'ɑ' => 'a',
        'в' | 'β' | 'ь' => 'b',
        'с' | 'ϲ' => 'c',
        'ԁ' => 'd',
        'е' | 'ε' | 'ё' | 'є' => 'e',
        'ɡ' => 'g',
        'н' | 'һ' => 'h',
        'і' | 'ι' | 'ї' | 'ı' => 'i',
        'ј' | 'ϳ' => 'j',
        'к' | 'κ' => 'k',
        'ӏ' | 'ⅼ' => 'l',
        'м' => 'm',
        'п' | 'η' | 'ո' => 'n',
        'о' | 'ο' | 'σ' | 'օ' => 'o',
        'р' | 'ρ' => 'p',
        'ԛ' => 'q',
        'г' => 'r',
        'ѕ' => 's',
        'т' | 'τ' => 't',
        'υ' | 'ս' => 'u',
        'ν' | 'ѵ' => 'v',
        'ԝ' | 'ω' | 'ш' => 'w',
        'х' | 'χ' => 'x',
        'у' | 'γ' | 'ү' => 'y',
        'ᴢ' => 'z',
        _ => return None,
    })
}

/// Pass two, in place: folds homoglyphs in words that mix them with Latin letters (or consist of them
/// only, like "раураl"), and joins spaced-out letters ("i g n o r e", "i.g.n.o.r.e") into words.
pub(super) fn fold_words(chars: &mut [(char, u32)], evasion: &mut Evasion) {
    // Unicode `is_alphanumeric` is a table lookup outside ASCII: look each character up once, for both
    // passes (a homoglyph is a letter and folds to a letter, so the first pass keeps the table true).
    let word: Vec<bool> = chars.iter().map(|&(c, _)| c.is_alphanumeric()).collect();
    fold_homoglyphs(chars, &word, evasion);
    join_spaced_letters(chars, &word, evasion);
}

fn fold_homoglyphs(chars: &mut [(char, u32)], word: &[bool], evasion: &mut Evasion) {
    // Words made only of look-alikes ("раураl") are folded only in mostly Latin text: in Russian or
    // Greek text such words ("все", "нет") are genuine and must stay as they are.
    let (mut latin_letters, mut other_letters) = (0usize, 0usize);
    for &(c, _) in chars.iter() {
        if c.is_ascii_alphabetic() {
            latin_letters += 1;
        } else if matches!(c, '\u{0370}'..='\u{052F}') {
            other_letters += 1;
        }
    }
    let mostly_latin = latin_letters > other_letters;
    let mut start = 0;
    let alnum = |k: usize| word.get(k).copied().unwrap_or(false);
    while start < chars.len() {
        if !alnum(start) {
            start += 1;
            continue;
        }
        let mut end = start;
        let (mut latin, mut glyphs, mut letters) = (false, 0usize, 0usize);
        while end < chars.len() && alnum(end) {
            let c = chars[end].0;
            latin |= c.is_ascii_alphabetic();
            glyphs += usize::from(homoglyph(c).is_some());
            letters += 1;
            end += 1;
        }
        if glyphs > 0 && (latin || (glyphs == letters && mostly_latin)) {
            if latin {
                evasion.homoglyphs += 1;
            }
            for slot in &mut chars[start..end] {
                if let Some(latin) = homoglyph(slot.0) {
                    slot.0 = latin;
                }
            }
        }
        // After the look-alikes are folded: a foreign letter between two Latin ones is noise.
        for k in start + 1..end.saturating_sub(1) {
            if is_foreign_letter(chars[k].0)
                && chars[k - 1].0.is_ascii_alphabetic()
                && chars[k + 1].0.is_ascii_alphabetic()
            {
                chars[k].0 = DROPPED;
                evasion.mixed_script += 1;
            }
        }
        start = end;
    }
}

/// The primary view of an ASCII text, mostly sixteen bytes at a time (most prompts are ASCII, and the
/// general path costs several passes over a `(char, offset)` vector). Returns `None` when the text is too
/// long for `u32` offsets. Spaced-out letters, rare in prose, send the text down a slower path.
pub(super) fn fold_ascii_text(text: &str, evasion: &mut Evasion) -> Option<(String, Vec<u32>)> {
    let bytes = text.as_bytes();
    // Offsets are `u32`: a longer text takes the general path, which saturates them.
    u32::try_from(bytes.len()).ok()?;
    // The output is never longer than the input: one allocation each, no zeroing.
    let mut out = Vec::with_capacity(bytes.len());
    let mut starts = Vec::with_capacity(bytes.len());
    let mut after_space = true;
    // Whether the byte before `i` is printable and not a space: a whitespace byte after it is kept.
    let mut after_graphic = false;
    let mut i = 0;
    while i < bytes.len() {
        let Some(chunk) = bytes.get(i..i + 16) else {
            fold_ascii_bytes(bytes, i, &mut out, &mut starts, &mut after_space);
            break;
        };
        let x = u128::from_le_bytes(sixteen(chunk));
        let graphic = graphic_bytes(x);
        let space = whitespace_bytes(x);
        let previous_graphic = (graphic << 8) | (u128::from(after_graphic) << 7);
        // The common case: every byte is kept as one byte (printable, or whitespace after a printable one).
        if graphic | (space & previous_graphic) == HIGH {
            out.extend_from_slice(&fold_block(x, space).to_le_bytes());
            starts.extend_from_slice(&block_offsets(i));
            after_space = space >> 127 != 0;
        } else {
            fold_ascii_bytes(&bytes[..i + 16], i, &mut out, &mut starts, &mut after_space);
        }
        after_graphic = graphic >> 127 != 0;
        i += 16;
    }
    if has_spaced_letters(&out) {
        return Some(fold_ascii_spaced(bytes, evasion));
    }
    String::from_utf8(out).ok().map(|text| (text, starts))
}

/// The primary view of a block of printable bytes and whitespace bytes (`space`): lowercase, and
/// whitespace turned into spaces.
fn fold_block(x: u128, space: u128) -> u128 {
    let upper = in_range(x, b'A', b'Z');
    let space_bytes = (space >> 7) * 0xFF;
    ((x | (upper >> 2)) & !space_bytes) | (space >> 2)
}

/// The offsets of a block of sixteen bytes at `i` (which fits: the text's length does).
fn block_offsets(i: usize) -> [u32; 16] {
    let at = i as u32;
    std::array::from_fn(|k| at + k as u32)
}

/// The primary view of a text that is not all ASCII, in one pass (and a pass over the view's words when
/// it holds a homoglyph), when the general path would join no spaced-out letters: no single letters
/// (or other alphanumerics) stand one character apart, four in a row. `None` otherwise, or when the
/// text is too long for `u32` offsets. Adds the evasion undone to `evasion` only when it returns the
/// view.
pub(super) fn fold_plain_text(text: &str, evasion: &mut Evasion) -> Option<(String, Vec<u32>)> {
    let bytes = text.as_bytes();
    u32::try_from(bytes.len()).ok()?;
    let mut undone = Evasion::default();
    // The view is built from pushed characters and runs of ASCII bytes, so it needs no UTF-8 validation
    // but that of the ASCII runs (quick): `out` holds the bytes since the last character that is not ASCII.
    let mut view = String::with_capacity(bytes.len());
    let (mut out, mut starts) = (Vec::with_capacity(bytes.len()), Vec::with_capacity(bytes.len()));
    // One byte per output character for the spaced-letter test: ASCII as is, any other character `a`
    // when alphanumeric and a space otherwise.
    let mut shape = Vec::with_capacity(bytes.len());
    let mut folded = Vec::new();
    let (mut in_flag, mut after_graphic, mut glyphs) = (false, false, false);
    let mut i = 0;
    while i < bytes.len() {
        // Printable ASCII blocks go as in `fold_ascii_text`; the characters of other blocks one at a time
        // as in `fold_chars` and `emit`.
        if let Some(chunk) = bytes.get(i..i + 16) {
            let x = u128::from_le_bytes(sixteen(chunk));
            let (graphic, space) = (graphic_bytes(x), whitespace_bytes(x));
            let previous_graphic = (graphic << 8) | (u128::from(after_graphic) << 7);
            if graphic | (space & previous_graphic) == HIGH {
                let block = fold_block(x, space).to_le_bytes();
                out.extend_from_slice(&block);
                shape.extend_from_slice(&block);
                starts.extend_from_slice(&block_offsets(i));
                (in_flag, after_graphic) = (false, graphic >> 127 != 0);
                i += 16;
                continue;
            }
        }
        let block_end = (i + 16).min(bytes.len());
        while i < block_end {
            let Some(c) = text.get(i..).and_then(|rest| rest.chars().next()) else {
                break;
            };
            let at = i as u32;
            i += c.len_utf8();
            after_graphic = matches!(c, '!'..='~');
            if c.is_ascii() {
                // `fold_ascii`, then `emit`.
                in_flag = false;
                let f = ASCII_FOLD[usize::from(c as u8 & 0x7F)];
                if f == 0 || (f == b' ' && out.last().or(view.as_bytes().last()).is_none_or(|&last| last == b' ')) {
                    continue;
                }
                out.push(f);
                shape.push(f);
                starts.push(at);
                continue;
            }
            if matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{AC00}'..='\u{D7A3}') {
                // CJK ideographs and Hangul syllables (three bytes each in UTF-8): what `fold_char` and
                // the loop below do for them, kept as is, alphanumeric, no look-alike.
                in_flag = false;
                shape.push(b'a');
                push_ascii(&mut view, &mut out);
                view.push(c);
                starts.extend_from_slice(&[at; 3]);
                continue;
            }
            folded.clear();
            fold_char(c, at, &mut in_flag, &mut folded, &mut undone);
            for &(f, at) in &folded {
                if f == ' ' && out.last().or(view.as_bytes().last()).is_none_or(|&last| last == b' ') {
                    continue;
                }
                if f.is_ascii() {
                    out.push(f as u8);
                    shape.push(f as u8);
                    starts.push(at);
                    continue;
                }
                // A foreign letter is dropped only after a Latin letter: an ASCII one (the last byte
                // of `out`), or a look-alike, which sets `glyphs` itself.
                glyphs |=
                    homoglyph(f).is_some() || (out.last().is_some_and(u8::is_ascii_alphabetic) && is_foreign_letter(f));
                shape.push(if is_alphanumeric(f) { b'a' } else { b' ' });
                push_ascii(&mut view, &mut out);
                view.push(f);
                starts.extend(std::iter::repeat_n(at, f.len_utf8()));
            }
        }
    }
    if has_spaced_letters(&shape) {
        return None;
    }
    push_ascii(&mut view, &mut out);
    let mut text = view;
    if glyphs {
        (text, starts) = fold_view_homoglyphs(&text, &starts, &mut undone);
    }
    evasion.homoglyphs += undone.homoglyphs;
    evasion.invisible += undone.invisible;
    evasion.bidi += undone.bidi;
    evasion.tag_chars += undone.tag_chars;
    evasion.folded += undone.folded;
    evasion.mixed_script += undone.mixed_script;
    Some((text, starts))
}

/// Appends the ASCII bytes `ascii` to `view` and clears them.
fn push_ascii(view: &mut String, ascii: &mut Vec<u8>) {
    if ascii.is_empty() {
        return;
    }
    // Only ASCII is ever put in `ascii`: the validation cannot fail, and is quick for ASCII.
    view.push_str(std::str::from_utf8(ascii).unwrap_or_default());
    ascii.clear();
}

/// [`fold_homoglyphs`] on an emitted view and its offsets: collapsing spaces neither joins nor splits
/// words, and drops no letter, so words and letter counts are those of the general path. Only the words
/// around non-ASCII look-alikes and foreign letters are looked at; the rest is copied as is.
fn fold_view_homoglyphs(text: &str, starts: &[u32], evasion: &mut Evasion) -> (String, Vec<u32>) {
    let bytes = text.as_bytes();
    let (mut latin_letters, mut other_letters) = (0usize, 0usize);
    for (k, &b) in bytes.iter().enumerate() {
        if b.is_ascii_alphabetic() {
            latin_letters += 1;
        } else if (0xCD..=0xD4).contains(&b) {
            // The lead bytes of U+0340..=U+053F.
            let c = text.get(k..).and_then(|rest| rest.chars().next());
            other_letters += usize::from(c.is_some_and(|c| matches!(c, '\u{0370}'..='\u{052F}')));
        }
    }
    let mostly_latin = latin_letters > other_letters;
    let (mut out, mut new_starts) = (String::with_capacity(text.len()), Vec::with_capacity(starts.len()));
    let (mut copied, mut i) = (0, 0);
    // A word's characters: (offset in the word, as written, after folding look-alikes).
    let mut folded: Vec<(usize, char, char)> = Vec::new();
    // `i` is a character boundary; the bytes before the next non-ASCII one are ASCII.
    while let Some(offset) = bytes.get(i..).and_then(|rest| rest.iter().position(|&b| b >= 0x80)) {
        let at = i + offset;
        let Some(c) = text.get(at..).and_then(|rest| rest.chars().next()) else {
            break;
        };
        if !(homoglyph(c).is_some() || is_foreign_letter(c)) || !is_alphanumeric(c) {
            i = at + c.len_utf8();
            continue;
        }
        let before = text.get(..at).unwrap_or_default().chars().rev();
        let start = at
            - before
                .take_while(|&d| is_alphanumeric(d))
                .map(char::len_utf8)
                .sum::<usize>();
        let after = text.get(at..).unwrap_or_default().chars();
        let end = at
            + after
                .take_while(|&d| is_alphanumeric(d))
                .map(char::len_utf8)
                .sum::<usize>();
        let word = text.get(start..end).unwrap_or_default();
        let (mut latin, mut glyphs, mut letters) = (false, 0usize, 0usize);
        for d in word.chars() {
            latin |= d.is_ascii_alphabetic();
            glyphs += usize::from(homoglyph(d).is_some());
            letters += 1;
        }
        let fold = glyphs > 0 && (latin || (glyphs == letters && mostly_latin));
        folded.clear();
        folded.extend(
            word.char_indices()
                .map(|(k, d)| (k, d, if fold { homoglyph(d).unwrap_or(d) } else { d })),
        );
        let latin_at = |n: Option<usize>| n.and_then(|n| folded.get(n)).is_some_and(|f| f.2.is_ascii_alphabetic());
        let dropped = |n: usize| is_foreign_letter(folded[n].2) && latin_at(n.checked_sub(1)) && latin_at(Some(n + 1));
        if fold || (0..folded.len()).any(dropped) {
            if fold && latin {
                evasion.homoglyphs += 1;
            }
            out.push_str(text.get(copied..start).unwrap_or_default());
            new_starts.extend_from_slice(starts.get(copied..start).unwrap_or_default());
            for (n, &(k, d, f)) in folded.iter().enumerate() {
                if dropped(n) {
                    evasion.mixed_script += 1;
                    continue;
                }
                let from = starts.get(start + k..start + k + d.len_utf8()).unwrap_or_default();
                out.push(f);
                if f == d {
                    new_starts.extend_from_slice(from);
                } else {
                    new_starts.extend(from.first());
                }
            }
            copied = end;
        }
        i = end;
    }
    out.push_str(text.get(copied..).unwrap_or_default());
    new_starts.extend_from_slice(starts.get(copied..).unwrap_or_default());
    (out, new_starts)
}

/// `char::is_alphanumeric`, without its table search for the blocks that are letters throughout (CJK
/// ideographs, Hangul syllables, basic Cyrillic) or hold none (CJK punctuation, general punctuation).
pub(super) fn is_alphanumeric(c: char) -> bool {
    match c {
        '\u{4E00}'..='\u{9FFF}' | '\u{AC00}'..='\u{D7A3}' | '\u{0400}'..='\u{0481}' => true,
        '\u{3000}'..='\u{3004}' | '\u{3008}'..='\u{3020}' | '\u{2000}'..='\u{206F}' => false,
        c => c.is_alphanumeric(),
    }
}

/// Folds `bytes[from..]` one byte at a time (the uncommon blocks, and the tail).
#[cold]
fn fold_ascii_bytes(bytes: &[u8], from: usize, out: &mut Vec<u8>, starts: &mut Vec<u32>, after_space: &mut bool) {
    for (index, &b) in bytes.iter().enumerate().skip(from) {
        let folded = ASCII_FOLD[usize::from(b & 0x7f)];
        let space = folded == b' ';
        if folded == 0 || (space && *after_space) {
            continue;
        }
        *after_space = space;
        out.push(folded);
        starts.push(u32::try_from(index).unwrap_or(u32::MAX));
    }
}

/// What each ASCII byte becomes in the primary view: whitespace a space, other controls 0 (dropped),
/// letters lowercase.
const ASCII_FOLD: [u8; 128] = {
    let mut table = [0u8; 128];
    let mut b = 0;
    while b < 128 {
        table[b] = match b as u8 {
            b'\t' | b'\n' | b'\r' | 0x0b | 0x0c | b' ' => b' ',
            0..=0x1f | 0x7f => 0,
            c => c.to_ascii_lowercase(),
        };
        b += 1;
    }
    table
};

// Sixteen bytes at a time in a `u128` ("SWAR"): each test leaves the high bit of every byte that passes.
const HIGH: u128 = 0x8080_8080_8080_8080_8080_8080_8080_8080;
const LOW7: u128 = 0x7F7F_7F7F_7F7F_7F7F_7F7F_7F7F_7F7F_7F7F;
const ONES: u128 = 0x0101_0101_0101_0101_0101_0101_0101_0101;
fn sixteen(chunk: &[u8]) -> [u8; 16] {
    if let Ok(bytes) = <[u8; 16]>::try_from(chunk) {
        return bytes;
    }
    let mut bytes = [0u8; 16];
    let n = chunk.len().min(16);
    bytes[..n].copy_from_slice(&chunk[..n]);
    bytes
}

/// Bytes in `lo..=hi` (both below 0x80); bytes of 0x80 and above never pass.
fn in_range(x: u128, lo: u8, hi: u8) -> u128 {
    let low = x & LOW7;
    // No carry crosses a byte: every byte of `low` is below 0x80, the added constants are at most 0x80.
    let at_least_lo = low + ONES * u128::from(0x80 - lo);
    let above_hi = low + ONES * u128::from(0x7F - hi);
    at_least_lo & !above_hi & !x & HIGH
}

/// Printable ASCII other than space.
fn graphic_bytes(x: u128) -> u128 {
    in_range(x, 0x21, 0x7E)
}

/// The whitespace bytes the primary view turns into a space.
fn whitespace_bytes(x: u128) -> u128 {
    in_range(x, b'\t', 0x0D) | in_range(x, b' ', b' ')
}

/// Writes the folded characters as text, dropping marked characters and collapsing space runs, and
/// records for every output byte the original offset it came from.
pub(super) fn emit(chars: &[(char, u32)], text: &mut String, starts: &mut Vec<u32>) {
    // Whether the text so far is empty or ends with a space, kept as it changes.
    let mut after_space = text.is_empty() || text.ends_with(' ');
    for &(c, at) in chars {
        if c == DROPPED || (c == ' ' && after_space) {
            continue;
        }
        after_space = c == ' ';
        text.push(c);
        starts.extend(std::iter::repeat_n(at, c.len_utf8()));
    }
}

/// The leetspeak reading of `text` (same length, ASCII substitutions only), or `None` when no token
/// mixes letters with leet digits or symbols.
///
/// `ascii` tells that `text` is ASCII: the view is then a patched copy of its bytes (validating ASCII
/// is quick); otherwise it is built from slices of `text` and letters, which needs no validation. Either
/// way gives the same view, whatever `text` is.
pub(super) fn leet(text: &str, ascii: bool) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out: Option<Vec<u8>> = None;
    // Without `ascii`: the view up to `copied`, after which it is `text`.
    let (mut view, mut copied): (Option<String>, usize) = (None, 0);
    // Only tokens (split on spaces) holding a leet byte matter: find those bytes sixteen at a time, and
    // look at each such token once.
    let mut from = 0;
    while let Some(at) = next_leet_byte(bytes, from) {
        let before = bytes.get(from..at).unwrap_or_default();
        let start = before.iter().rposition(|&b| b == b' ').map_or(from, |p| from + p + 1);
        let after = bytes.get(at..).unwrap_or_default();
        let end = after.iter().position(|&b| b == b' ').map_or(bytes.len(), |p| at + p);
        let token = bytes.get(start..end).unwrap_or_default();
        if token.iter().any(u8::is_ascii_lowercase) {
            if ascii {
                let buf = out.get_or_insert_with(|| bytes.to_vec());
                for (slot, &b) in buf.iter_mut().skip(start).zip(token) {
                    if let Some(letter) = leet_byte(b) {
                        *slot = letter;
                    }
                }
            } else {
                let buf = view.get_or_insert_with(|| String::with_capacity(text.len()));
                for (k, &b) in token.iter().enumerate() {
                    if let Some(letter) = leet_byte(b) {
                        // Leet bytes are ASCII: both ends are character boundaries.
                        buf.push_str(text.get(copied..start + k).unwrap_or_default());
                        buf.push(char::from(letter));
                        copied = start + k + 1;
                    }
                }
            }
        }
        // `bytes[end]` is a space (or the end): the next token starts after it.
        from = end;
    }
    if let Some(mut buf) = view {
        buf.push_str(text.get(copied..).unwrap_or_default());
        return Some(buf);
    }
    out.and_then(|buf| String::from_utf8(buf).ok())
}

/// The first byte at or after `from` that [`leet_byte`] maps.
fn next_leet_byte(bytes: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i < bytes.len() {
        let chunk = bytes.get(i..bytes.len().min(i + 16)).unwrap_or_default();
        let x = u128::from_le_bytes(sixteen(chunk));
        // `0`..=`@` holds the leet digits and `@`; the zero padding of a short chunk never passes.
        let mut candidates = in_range(x, b'0', b'@') | in_range(x, b'$', b'$');
        while candidates != 0 {
            let k = candidates.trailing_zeros() as usize / 8;
            if chunk.get(k).copied().and_then(leet_byte).is_some() {
                return Some(i + k);
            }
            candidates &= candidates - 1;
        }
        i += 16;
    }
    None
}

fn leet_byte(b: u8) -> Option<u8> {
    Some(match b {
        b'0' => b'o',
        b'1' => b'i',
        b'3' => b'e',
        b'4' | b'@' => b'a',
        b'5' | b'$' => b's',
        b'7' => b't',
        b'8' => b'b',
        b'9' => b'g',
        _ => return None,
    })
}

/// The ROT13 reading of `text` (same length).
pub(super) fn rot13(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'a'..='m' => char::from(c as u8 + 13),
            'n'..='z' => char::from(c as u8 - 13),
            c => c,
        })
        .collect()
}
