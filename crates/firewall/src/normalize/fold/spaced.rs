//! Spaced-out letters ("i g n o r e", "i.g.n.o.r.e"): pass two joins them into words. Benign text has the
//! shape too ("N/A,N/A", "1.2.3.4"), so an ASCII text that has it takes a short path of its own instead of
//! the general path's per-character folding.

use super::{ASCII_FOLD, DROPPED, ONES, in_range, sixteen};
use crate::normalize::Evasion;

fn is_letter_separator(c: char) -> bool {
    matches!(c, ' ' | '.' | '-' | '_' | '*' | '|' | '+' | '/' | ',')
}

/// Joins runs of at least four single letters separated by one separator each. Two or three spaces
/// inside a run mark a word break and are kept (collapsed to one later).
pub(super) fn join_spaced_letters(chars: &mut [(char, u32)], word: &[bool], evasion: &mut Evasion) {
    let alnum = |k: usize| word.get(k).copied().unwrap_or(false);
    let single = |k: usize| alnum(k) && (k == 0 || !alnum(k - 1)) && !alnum(k + 1);
    let mut i = 0;
    while i < chars.len() {
        if !single(i) {
            i += 1;
            continue;
        }
        let (mut last, mut letters) = (i, 1usize);
        loop {
            let next = last + 1;
            let Some(&(sep, _)) = chars.get(next) else { break };
            if is_letter_separator(sep) && single(next + 1) {
                last = next + 1;
            } else if sep == ' ' {
                let spaces = chars[next..].iter().take(4).take_while(|(c, _)| *c == ' ').count();
                if (2..=3).contains(&spaces) && single(next + spaces) {
                    last = next + spaces;
                } else {
                    break;
                }
            } else {
                break;
            }
            letters += 1;
        }
        if letters >= 4 {
            evasion.spaced_runs += 1;
            for (m, slot) in chars.iter_mut().enumerate().take(last).skip(i + 1) {
                if !alnum(m) && alnum(m - 1) && alnum(m + 1) {
                    slot.0 = DROPPED;
                }
            }
        }
        i = last + 1;
    }
}

/// Whether four single letters follow each other one separator apart ("i g n o"), the shape
/// `join_spaced_letters` looks for: single-letter words starting at `p`, `p + 2`, `p + 4` and `p + 6`.
pub(super) fn has_spaced_letters(bytes: &[u8]) -> bool {
    // Sixteen bytes at a time, one word behind the loads: a byte's right neighbour is in the next word.
    let mut words = bytes
        .chunks(16)
        .map(|chunk| alnum_bytes(u128::from_le_bytes(sixteen(chunk))));
    let (mut previous, mut current) = (0, words.next().unwrap_or(0));
    let mut previous_single = 0u128;
    loop {
        let next = words.next();
        let following = next.unwrap_or(0);
        let left = (current << 8) | (previous >> 120);
        let right = (current >> 8) | (following << 120);
        let single = current & !left & !right;
        // A run starting in the previous word may end in this one.
        if previous_single != 0 {
            let at = |k: u32| (previous_single >> (16 * k)) | (single << (128 - 16 * k));
            if previous_single & at(1) & at(2) & at(3) != 0 {
                return true;
            }
        }
        let Some(next) = next else {
            return single & (single >> 16) & (single >> 32) & (single >> 48) != 0;
        };
        (previous, current, previous_single) = (current, next, single);
    }
}

/// ASCII alphanumeric bytes.
fn alnum_bytes(x: u128) -> u128 {
    // `| 0x20` maps upper- to lowercase and no other byte into `a..=z`.
    in_range(x, b'0', b'9') | in_range(x | (ONES * 0x20), b'a', b'z')
}

/// The primary view of an ASCII text with spaced-out letters: what the general path computes for ASCII
/// (`fold_ascii` per byte; no look-alike is ASCII, so only `join_spaced_letters` of pass two applies; then
/// `emit`), without its per-character Unicode work. `bytes.len()` fits in `u32`.
pub(super) fn fold_ascii_spaced(bytes: &[u8], evasion: &mut Evasion) -> (String, Vec<u32>) {
    let mut chars: Vec<(char, u32)> = bytes
        .iter()
        .zip(0u32..)
        .filter_map(|(&b, at)| {
            let folded = ASCII_FOLD[usize::from(b & 0x7F)];
            (folded != 0).then_some((char::from(folded), at))
        })
        .collect();
    let word: Vec<bool> = chars.iter().map(|(c, _)| c.is_ascii_alphanumeric()).collect();
    join_spaced_letters(&mut chars, &word, evasion);
    // `emit` for ASCII characters: one byte each.
    let (mut text, mut starts) = (Vec::with_capacity(chars.len()), Vec::with_capacity(chars.len()));
    for &(c, at) in &chars {
        let b = c as u8;
        if c == DROPPED || (b == b' ' && text.last().is_none_or(|&last| last == b' ')) {
            continue;
        }
        text.push(b);
        starts.push(at);
    }
    (String::from_utf8(text).unwrap_or_default(), starts)
}
