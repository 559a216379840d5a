//! Checkpoints arrive from other logs, witnesses and auditors' files: whatever the bytes, verifying a
//! note and parsing a checkpoint must answer `Ok` or `Err` and never panic; a checkpoint accepted must
//! come from a note accepted, and its body must be the start of the signed text.
//!
//! The seeds in `corpus/checkpoint_parser` are notes signed by the key below (and broken ones);
//! `crates/ledger/tests/fuzz_corpus.rs` replays them and writes them anew when asked.
//!
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run checkpoint_parser -- -max_total_time=300` from `fuzz/`'s parent.

#![no_main]

use libfuzzer_sys::fuzz_target;
use warden_ledger::{Checkpoint, verify_note};

// The same key as crates/ledger/tests/fuzz_corpus.rs: name `fuzz.example/ledger`, seed [0x42; 32].
const FUZZ_VERIFIER_KEY: &str = "fuzz.example/ledger+239cfca3+ASFS+NGbeR0kRTJC4V8uq2y3z/p7al7TAJeWDgaYgdsS";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The verifier key parser sees untrusted text too (an auditor types it in).
    let _ = verify_note(text, text);
    let checkpoint = Checkpoint::parse_and_verify(text, FUZZ_VERIFIER_KEY);
    let note = verify_note(text, FUZZ_VERIFIER_KEY);
    assert!(
        checkpoint.is_err() || note.is_ok(),
        "a checkpoint was accepted from a note that was not"
    );
    if let (Ok(checkpoint), Ok(body)) = (checkpoint, note) {
        assert!(
            body.starts_with(&checkpoint.body()),
            "the parsed checkpoint is not the signed text"
        );
    }
});
