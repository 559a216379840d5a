//! Warden's shared vocabulary: the values every other crate speaks in.
//!
//! The public interface is:
//! - [`Timestamp`], [`Clock`] and [`ManualClock`]: time is injected, never read ambiently by domain logic.
//! - [`Entropy`]: randomness is injected the same way, so key and token generation is testable.
//! - [`Seconds`]: durations as users write them (`300`, `"300s"`, `"5m"`, `"4h"`, `"7d"`).
//! - [`Secret`]: a string that never shows itself in `Debug`, logs or errors, and is zeroized on drop.
//! - [`MasterKey`] and [`Sealed`]: AES-256-GCM sealing of key material at rest, bound to a context.
//! - [`Principal`]: who is asking, once authentication is done.
//! - [`AuditEvent`] and [`AuditSink`]: the one door every security event goes through.
//! - [`StoreError`]: how every repository trait reports failure.
//!
//! This crate does no I/O and owns no async runtime; it deliberately knows nothing about HTTP, SQL or
//! policy.

mod audit;
mod clock;
mod duration;
mod entropy;
mod principal;
mod sealing;
mod secret;
mod store;

pub use audit::{AuditError, AuditEvent, AuditOutcome, AuditSink};
pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use duration::{DurationError, Seconds};
pub use entropy::{Entropy, SystemEntropy, random_bytes};
pub use principal::{AuthMethod, Principal};
pub use sealing::{MasterKey, Sealed, SealingError};
pub use secret::Secret;
pub use store::StoreError;
