//! The keyword gate: which rules' keywords occur in the text, case-insensitively. Every keyword is at
//! least two bytes long, so a table indexed by the text's lowercased byte pairs says in one lookup
//! whether a keyword can start at a position; only then are the few keywords with that prefix
//! compared. One pass, no allocation but the result, and cheaper on prose than an Aho-Corasick
//! automaton over two hundred keywords, whose short ones (`ey`, `sk`, `s.`) match all the time.

/// Keywords (lowercase) and the rules each one gates.
#[derive(Debug, Clone)]
pub(crate) struct KeywordGate {
    /// One bit per byte pair that starts a keyword: 8 KiB, so the per-byte test stays in L1 cache.
    starts: Box<[u64; 1024]>,
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
        // The hot loop: one bit test per byte; the rare hit is handled out of line so the loop keeps
        // its few values in registers.
        let starts: &[u64; 1024] = &self.starts;
        for i in 0..lower.len().saturating_sub(1) {
            let p = usize::from(lower[i]) << 8 | usize::from(lower[i + 1]);
            if starts[p >> 6] >> (p & 63) & 1 != 0 {
                self.hit(&lower, i, p, &mut seen, run, found);
            }
        }
    }

    #[inline(never)]
    fn hit(
        &self,
        lower: &[u8],
        i: usize,
        p: usize,
        seen: &mut [bool],
        run: &mut [bool],
        found: &mut Vec<(usize, usize)>,
    ) {
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
