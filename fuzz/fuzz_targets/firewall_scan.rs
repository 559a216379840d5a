//! Every text an agent sends or receives goes through the firewall, so its normalizer and scanner read
//! attacker-chosen bytes: whatever they are (taken as lossy UTF-8), normalizing and scanning in every
//! direction must finish without panicking, every finding's span must be a range of the text on
//! character boundaries, every score must be in 0..=1, and a redaction must come with the `redact`
//! verdict and only with it.
//!
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run firewall_scan -- -max_total_time=180` from `fuzz/`'s parent
//! (or `cargo +nightly fuzz run …`). `crates/firewall/tests/fuzz_corpus.rs` replays the committed corpus.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use warden_firewall::normalize::normalize;
use warden_firewall::{Direction, ScanRequest, Scanner, Verdict};

static SCANNER: LazyLock<Scanner> = LazyLock::new(Scanner::default);

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let normalized = normalize(&text);
    let (start, end) = normalized.original_span(&text, 0, normalized.text().len());
    assert!(start <= end && text.is_char_boundary(start) && text.is_char_boundary(end));
    for view in normalized.decoded() {
        assert!(
            view.start <= view.end && view.end <= text.len(),
            "decoded view out of range"
        );
    }
    for direction in [Direction::Input, Direction::Output, Direction::Egress] {
        let request = ScanRequest {
            text: &text,
            direction,
            destination: Some("https://api.example.com/v1"),
        };
        let Ok(outcome) = SCANNER.scan(&request) else {
            panic!("a text under the size limit was refused")
        };
        for f in &outcome.findings {
            assert!(
                f.start <= f.end && text.get(f.start..f.end).is_some(),
                "{direction:?}: span {}..{} of {} is not a range of the text on character boundaries ({})",
                f.start,
                f.end,
                text.len(),
                f.rule
            );
            assert!((0.0..=1.0).contains(&f.score), "{} scored {}", f.rule, f.score);
        }
        assert_eq!(outcome.redacted.is_some(), outcome.verdict == Verdict::Redact);
        let _ = outcome.attributes();
    }
});
