//! The keyword gate: which rules' keywords occur in the text, case-insensitively. Every keyword is at
//! least two bytes long. A bit table indexed by the low five bits of the text's lowercased byte
//! triples (a two-byte keyword sets the bits of every third byte) says in one lookup whether a keyword
//! can start at a position: byte pairs alone start a keyword at almost every word of prose (`en`, `co`, `in`),
//! triples seldom do. Only then does a table indexed by the byte pair name the few keywords with that
//! prefix, which are compared. One pass, no allocation but the result, and cheaper on prose than an
//! Aho-Corasick automaton over two hundred keywords, whose short ones (`ey`, `sk`, `s.`) match all
//! the time.

/// Keywords (lowercase) and the rules each one gates.
#[derive(Debug, Clone)]
pub(crate) struct KeywordGate {
    /// One bit per byte pair that starts a keyword: 8 KiB, so the per-byte test stays in L1 cache.
    starts: Box<[u64; 1024]>,
    /// Per [`triple_index`], whether a byte triple with that index starts a keyword: 32 KiB of bytes
    /// rather than 4 KiB of bits, so the per-byte test is one load.
    triples: Box<[bool; 1 << 15]>,
    /// For each 64-bit word of `starts`, how many bits the words before it have: a set bit's rank
    /// (its word's base plus the set bits below it in the word) is its bucket's index, so a hit costs
    /// no lookup in a 64 Ki-entry table.
    ranks: Box<[u16; 1024]>,
    /// Keyword indexes by first byte pair.
    buckets: Vec<Vec<usize>>,
    keywords: Vec<Vec<u8>>,
    /// Each keyword's first four bytes (lowercase, little-endian) and the mask of the bytes it has,
    /// compared as one integer before the full comparison.
    heads: Vec<(u32, u32)>,
    rules: Vec<Vec<usize>>,
    /// Keywords whose every occurrence is wanted (they gate a windowed rule); the others are looked
    /// for only until first seen.
    positional: Vec<bool>,
    /// Rules without keywords: gitleaks runs them on every text.
    ungated: Vec<usize>,
}

/// Why the gate could not be built.
#[derive(Debug)]
pub(crate) struct TooManyPrefixes;

/// Up to four bytes, ASCII-lowercased, as a little-endian integer (missing bytes are zero).
fn head(bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .take(4)
        .enumerate()
        .fold(0, |acc, (i, b)| acc | u32::from(b.to_ascii_lowercase()) << (8 * i))
}

fn mask(len: usize) -> u32 {
    if len >= 4 { u32::MAX } else { (1u32 << (8 * len)) - 1 }
}

/// Three bytes' low five bits side by side (15 bits): lowercase letters keep their identity, other
/// bytes share slots with them, which only costs a comparison in [`KeywordGate::hit`].
fn triple_index(a: u8, b: u8, c: u8) -> usize {
    usize::from(a & 31) << 10 | usize::from(b & 31) << 5 | usize::from(c & 31)
}

fn pair(a: u8, b: u8) -> usize {
    usize::from(a.to_ascii_lowercase()) << 8 | usize::from(b.to_ascii_lowercase())
}

impl KeywordGate {
    /// `keywords[i]` gates `rules[i]`; a keyword shorter than two bytes gates its rules always.
    pub(crate) fn new(
        keywords: Vec<String>,
        rules: Vec<Vec<usize>>,
        mut ungated: Vec<usize>,
    ) -> Result<Self, TooManyPrefixes> {
        let mut pairs = vec![0u16; 1 << 16];
        let mut buckets: Vec<Vec<usize>> = Vec::new();
        let mut kept = Vec::new();
        let mut kept_rules = Vec::new();
        for (keyword, rules) in keywords.into_iter().zip(rules) {
            let bytes = keyword.to_ascii_lowercase().into_bytes();
            if bytes.len() < 2 {
                ungated.extend(rules);
                continue;
            }
            let slot = &mut pairs[pair(bytes[0], bytes[1])];
            if *slot == 0 {
                if buckets.len() >= usize::from(u16::MAX) {
                    return Err(TooManyPrefixes);
                }
                buckets.push(Vec::new());
                *slot = u16::try_from(buckets.len()).map_err(|_| TooManyPrefixes)?;
            }
            buckets[usize::from(*slot) - 1].push(kept.len());
            kept.push(bytes);
            kept_rules.push(rules);
        }
        ungated.sort_unstable();
        ungated.dedup();
        let heads = kept.iter().map(|k| (head(k), mask(k.len()))).collect();
        let mut triples = Box::new([false; 1 << 15]);
        for k in &kept {
            match k.get(2) {
                Some(&c) => triples[triple_index(k[0], k[1], c)] = true,
                // Any third byte, and the zero that stands for the end of the text.
                None => (0..32u8).for_each(|c| triples[triple_index(k[0], k[1], c)] = true),
            }
        }
        let mut starts = Box::new([0u64; 1024]);
        for (p, &slot) in pairs.iter().enumerate() {
            if slot != 0 {
                starts[p / 64] |= 1 << (p % 64);
            }
        }
        // Buckets reordered by pair value, so that a pair's rank among the set bits is its bucket.
        let mut ordered = Vec::with_capacity(buckets.len());
        for &slot in pairs.iter().filter(|&&slot| slot != 0) {
            ordered.push(std::mem::take(&mut buckets[usize::from(slot) - 1]));
        }
        let buckets = ordered;
        let mut ranks = Box::new([0u16; 1024]);
        let mut total = 0u32;
        for (word, rank) in starts.iter().zip(ranks.iter_mut()) {
            *rank = u16::try_from(total).map_err(|_| TooManyPrefixes)?;
            total += word.count_ones();
        }
        Ok(KeywordGate {
            starts,
            triples,
            ranks,
            buckets,
            keywords: kept,
            heads,
            positional: vec![true; kept_rules.len()],
            rules: kept_rules,
            ungated,
        })
    }

    /// Records occurrences only of keywords gating a rule for which `wants_positions` holds.
    pub(crate) fn track_positions(&mut self, wants_positions: impl Fn(usize) -> bool) {
        self.positional = self
            .rules
            .iter()
            .map(|rules| rules.iter().any(|&r| wants_positions(r)))
            .collect();
    }

    /// The rules keyword `k` gates.
    pub(crate) fn rules_of(&self, k: usize) -> &[usize] {
        &self.rules[k]
    }

    /// Sets `run[rule]` for every rule to run on `text`, and records where each keyword occurs as
    /// `(position, keyword)` in `found`.
    pub(crate) fn mark(&self, text: &[u8], run: &mut [bool], found: &mut Vec<(usize, usize)>) {
        for &rule in &self.ungated {
            run[rule] = true;
        }
        let mut seen = vec![false; self.keywords.len()];
        let lower = text.to_ascii_lowercase();
        // The hot loop: the last three bytes' index kept in one integer and one table load per byte; the
        // rare hit is handled out of line so the loop keeps its few values in registers. Position `i` is
        // tested once byte `i + 2` is in; the last position (a pair) gets a zero for its third byte.
        let triples: &[bool; 1 << 15] = &self.triples;
        if let [first, second, ..] = lower[..] {
            let mut index = triple_index(0, first, second);
            for (i, &b) in lower[2..].iter().enumerate() {
                index = (index << 5 | usize::from(b & 31)) & 0x7fff;
                if triples[index] {
                    self.hit(&lower, i, &mut seen, run, found);
                }
            }
            let last = lower.len() - 2;
            if triples[(index << 5) & 0x7fff] {
                self.hit(&lower, last, &mut seen, run, found);
            }
        }
    }

    #[inline(never)]
    fn hit(&self, lower: &[u8], i: usize, seen: &mut [bool], run: &mut [bool], found: &mut Vec<(usize, usize)>) {
        // The triple's slot is shared with others: the pair decides.
        let p = usize::from(lower[i]) << 8 | usize::from(lower[i + 1]);
        if self.starts[p >> 6] >> (p & 63) & 1 == 0 {
            return;
        }
        let below = self.starts[p >> 6] & ((1u64 << (p & 63)) - 1);
        let bucket = usize::from(self.ranks[p >> 6]) + below.count_ones() as usize;
        // `lower` is already lowercase: four bytes are read as they are, the short tail by `head`.
        let here = match lower.get(i..i + 4) {
            Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]),
            _ => head(&lower[i..lower.len().min(i + 4)]),
        };
        for &k in &self.buckets[bucket] {
            let (kw_head, kw_mask) = self.heads[k];
            if here & kw_mask != kw_head || (seen[k] && !self.positional[k]) {
                continue;
            }
            let keyword = &self.keywords[k];
            if lower.len() - i >= keyword.len() && lower[i..i + keyword.len()] == keyword[..] {
                if self.positional[k] {
                    found.push((i, k));
                }
                if seen[k] {
                    continue;
                }
                seen[k] = true;
                for &rule in &self.rules[k] {
                    run[rule] = true;
                }
            }
        }
    }
}
