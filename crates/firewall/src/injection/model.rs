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
        let mut sum = 0i32;
        let mut count = 0u32;
        for_each_feature(normalized, self.bits, |bucket| {
            sum += i32::from(self.weights.get(bucket as usize).copied().unwrap_or(0));
            count += 1;
        });
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
    let shift = 32 - u32::from(bits.clamp(MIN_BITS, MAX_BITS));
    let bytes = normalized.as_bytes();
    for window in bytes.windows(4) {
        let key = u32::from_le_bytes([window[0], window[1], window[2], window[3]]);
        emit(fmix32(key ^ CHAR_SALT) >> shift);
    }
    // The previous word's hash is the pair's hash so far: FNV-1a is a running state, so
    // `fnv1a(fnv1a(fnv1a(offset, first), " "), word)` continues from it instead of hashing `first` again.
    let mut previous: Option<u32> = None;
    for word in bytes.split(|&b| !is_word_byte(b)).filter(|w| !w.is_empty()) {
        let hash = fnv1a(FNV_OFFSET, word);
        emit(fmix32(hash ^ WORD_SALT) >> shift);
        if let Some(first) = previous {
            let pair = fnv1a(fnv1a(first, b" "), word);
            emit(fmix32(pair ^ PAIR_SALT) >> shift);
        }
        previous = Some(hash);
    }
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80
}

const FNV_OFFSET: u32 = 0x811C_9DC5;

#[inline]
fn fnv1a(mut hash: u32, bytes: &[u8]) -> u32 {
    for &b in bytes {
        hash ^= u32::from(b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
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
