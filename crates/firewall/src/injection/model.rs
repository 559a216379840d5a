//! The statistical half of injection detection: logistic regression over hashed n-grams of the
//! normalized text. Rules catch known phrasings exactly; the model catches paraphrases and the
//! long jailbreak templates whose wording changes from copy to copy.
//!
//! Features (the trainer in `examples/train_injection.rs` calls the same [`for_each_feature`], so training
//! and inference cannot drift apart):
//! - every 4-byte window of the normalized text, read as a little-endian `u32`, salted with 0;
//! - every word (a maximal run of bytes that are ASCII alphanumeric or non-ASCII), hashed with FNV-1a 32
//!   and salted with `0x9E37_79B9`;
//! - every pair of adjacent words, FNV-1a 32 over `first ' ' second`, salted with `0x7F4A_7C15`.
//!
//! A feature's bucket is `fmix32(key ^ salt) >> (32 - bits)` (MurmurHash3's finalizer). The score is
//! `sigmoid(bias + scale * sum(weights[bucket]) / sqrt(feature count))`: every occurrence counts once and
//! the sum is length-normalized, so long benign documents do not drift toward either class.
//!
//! Weights file (`models/injection-v<N>.bin`, little-endian): magic `WFIM`, format version `u8` = 1,
//! `bits: u8`, two reserved zero bytes, `scale: f32`, `bias: f32`, then `2^bits` weights as `i8`.

use super::InjectionError;

/// The weights shipped with Warden; `scripts`-free: rebuilt by `cargo run --release --example train_injection`.
pub(super) const BUILTIN_MODEL: &[u8] = include_bytes!("../../models/injection-v1.bin");

const MAGIC: &[u8; 4] = b"WFIM";
const HEADER: usize = 16;
const CHAR_SALT: u32 = 0;
const WORD_SALT: u32 = 0x9E37_79B9;
const PAIR_SALT: u32 = 0x7F4A_7C15;
/// Fewer bits make collisions dominate; more make the file and the cache footprint grow.
pub const MIN_BITS: u8 = 10;
pub const MAX_BITS: u8 = 22;

/// A loaded linear model.
#[derive(Clone)]
pub struct Model {
    bits: u8,
    scale: f32,
    bias: f32,
    weights: Vec<i8>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("bits", &self.bits)
            .field("bias", &self.bias)
            .finish_non_exhaustive()
    }
}

impl Model {
    /// Parses a weights file (format in the module documentation).
    pub fn parse(bytes: &[u8]) -> Result<Self, InjectionError> {
        let bad = |why: &str| InjectionError::Model(why.to_owned());
        let header = bytes.get(..HEADER).ok_or_else(|| bad("shorter than its header"))?;
        if &header[..4] != MAGIC || header[4] != 1 {
            return Err(bad("not a version 1 `WFIM` weights file"));
        }
        let bits = header[5];
        if !(MIN_BITS..=MAX_BITS).contains(&bits) {
            return Err(bad("hash width out of range"));
        }
        let float = |at: usize| f32::from_le_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]]);
        let (scale, bias) = (float(8), float(12));
        if !scale.is_finite() || !bias.is_finite() {
            return Err(bad("scale or bias is not finite"));
        }
        let body = &bytes[HEADER..];
        if body.len() != 1usize << bits {
            return Err(bad("weight count does not match the hash width"));
        }
        let weights = body.iter().map(|&b| i8::from_le_bytes([b])).collect();
        Ok(Self {
            bits,
            scale,
            bias,
            weights,
        })
    }

    /// Serializes weights in the file format; the trainer's output.
    pub fn encode(bits: u8, scale: f32, bias: f32, weights: &[i8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER + weights.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&[1, bits, 0, 0]);
        out.extend_from_slice(&scale.to_le_bytes());
        out.extend_from_slice(&bias.to_le_bytes());
        out.extend(weights.iter().map(|w| w.to_le_bytes()[0]));
        out
    }

    pub fn bits(&self) -> u8 {
        self.bits
    }

    /// The probability that `normalized` (a primary or decoded view) is an injection.
    pub fn probability(&self, normalized: &str) -> f32 {
        let bytes = normalized.as_bytes();
        let (sum, words) = match <&[i8; 1 << 16]>::try_from(self.weights.as_slice()) {
            // The shipped width: with a constant shift the bucket provably fits the fixed-size table, so
            // the hot loop has no bounds check (and the finalizer's last step folds away).
            Ok(table) => feature_sum(bytes, 16, |bucket| table[bucket as usize]),
            Err(_) => feature_sum(bytes, self.bits, |bucket| {
                self.weights.get(bucket as usize).copied().unwrap_or(0)
            }),
        };
        // One feature per 4-byte window, per word and per adjacent pair (truncated like a `u32` counter).
        let count = (bytes.len().saturating_sub(3) + (2 * words).saturating_sub(1)) as u32;
        if count == 0 {
            return sigmoid(self.bias);
        }
        sigmoid(self.bias + self.scale * sum as f32 / (count as f32).sqrt())
    }
}

pub fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

/// Calls `emit` with the bucket of every feature of `normalized`, in text order (see the module
/// documentation for the exact definition, which the weights file depends on).
pub fn for_each_feature(normalized: &str, bits: u8, mut emit: impl FnMut(u32)) {
    let shift = bucket_shift(bits);
    let bytes = normalized.as_bytes();
    for_each_window(bytes, |key| emit(fmix32(key ^ CHAR_SALT) >> shift));
    for_each_word(bytes, |word, pair| {
        emit(fmix32(word ^ WORD_SALT) >> shift);
        if let Some(pair) = pair {
            emit(fmix32(pair ^ PAIR_SALT) >> shift);
        }
    });
}

/// The sum of the weights of every feature of `bytes` (what [`for_each_feature`] emits, looked up with
/// `weight`), and the number of words.
#[inline(always)]
fn feature_sum(bytes: &[u8], bits: u8, weight: impl Fn(u32) -> i8) -> (i32, usize) {
    let shift = bucket_shift(bits);
    let weight = |key: u32| i32::from(weight(fmix32(key) >> shift));
    let mut sum = 0i32;
    for_each_window(bytes, |key| sum += weight(key ^ CHAR_SALT));
    let words = for_each_word(bytes, |word, pair| {
        sum += weight(word ^ WORD_SALT);
        if let Some(pair) = pair {
            sum += weight(pair ^ PAIR_SALT);
        }
    });
    (sum, words)
}

fn bucket_shift(bits: u8) -> u32 {
    32 - u32::from(bits.clamp(MIN_BITS, MAX_BITS))
}

/// Calls `window` with the key of every 4-byte window (little-endian), in text order.
#[inline(always)]
fn for_each_window(bytes: &[u8], mut window: impl FnMut(u32)) {
    // One 8-byte load serves four windows.
    let mut i = 0;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let mut eight = [0u8; 8];
        eight.copy_from_slice(chunk);
        let w = u64::from_le_bytes(eight);
        window(w as u32);
        window((w >> 8) as u32);
        window((w >> 16) as u32);
        window((w >> 24) as u32);
        i += 4;
    }
    while let Some(chunk) = bytes.get(i..i + 4) {
        window(u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]));
        i += 1;
    }
}

/// Calls `word` with the FNV-1a hash of every word and, from the second word on, the hash of the pair it
/// ends (`previous ' ' word`); returns the number of words.
#[inline(always)]
fn for_each_word(bytes: &[u8], mut word: impl FnMut(u32, Option<u32>)) -> usize {
    // FNV-1a is a running state: the pair's hash continues from the previous word's hash and a space,
    // so both states advance over the word's bytes in one pass instead of hashing the word twice.
    let mut words = 0usize;
    let mut pair_state = 0u32;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if !WORD_BYTE[usize::from(b)] {
            i += 1;
            continue;
        }
        let (mut hash, mut pair) = (FNV_OFFSET, pair_state);
        while let Some(&b) = bytes.get(i) {
            if !WORD_BYTE[usize::from(b)] {
                break;
            }
            hash = fnv1a_step(hash, b);
            pair = fnv1a_step(pair, b);
            i += 1;
        }
        word(hash, (words > 0).then_some(pair));
        words += 1;
        pair_state = fnv1a_step(hash, b' ');
    }
    words
}

/// Word bytes: ASCII alphanumeric or non-ASCII.
const WORD_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (b as u8).is_ascii_alphanumeric() || b >= 0x80;
        b += 1;
    }
    table
};

const FNV_OFFSET: u32 = 0x811C_9DC5;

#[inline(always)]
fn fnv1a_step(hash: u32, b: u8) -> u32 {
    (hash ^ u32::from(b)).wrapping_mul(0x0100_0193)
}

/// MurmurHash3's 32-bit finalizer: spreads FNV's and raw windows' low-entropy bits over the bucket index.
pub fn fmix32(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85EB_CA6B);
    h ^= h >> 13;
    h = h.wrapping_mul(0xC2B2_AE35);
    h ^= h >> 16;
    h
}
