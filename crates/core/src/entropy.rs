//! Randomness as a value that is passed in, so key, token and nonce generation can be tested.

use std::fmt;

/// A source of cryptographically secure random bytes.
pub trait Entropy: Send + Sync + fmt::Debug {
    fn fill(&self, buf: &mut [u8]);
}

/// The operating system's CSPRNG, through aws-lc-rs.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemEntropy;

impl Entropy for SystemEntropy {
    fn fill(&self, buf: &mut [u8]) {
        // INVARIANT: the OS RNG does not fail on Linux once the process runs; if it ever did, handing
        // out predictable key material would be worse than stopping.
        #[expect(clippy::panic, reason = "a broken system RNG must never yield predictable keys")]
        if aws_lc_rs::rand::fill(buf).is_err() {
            panic!("the system random number generator failed");
        }
    }
}

/// Fills `N` bytes from any entropy source, including a `&dyn Entropy`.
pub fn random_bytes<const N: usize>(entropy: &dyn Entropy) -> [u8; N] {
    let mut out = [0u8; N];
    entropy.fill(&mut out);
    out
}
