//! `POST /v1/witness/add-checkpoint` bodies come from anyone: whatever the bytes, parsing the request,
//! the witness's decision and the cosignature checks must answer `Ok` or `Err` and never panic, and a
//! request that parses must encode back to the same bytes (the format has one spelling).
//!
//! Input: the request body as sent. The first byte also picks the witness's remembered size (0 to 15,
//! of a 16-leaf tree whose leaf i hashes `i` as 8 big-endian bytes).
//!
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run witness_request -- -max_total_time=300` from `fuzz/`'s parent.

#![no_main]

use libfuzzer_sys::fuzz_target;
use warden_ledger::witness::{parse_cosignature_lines, parse_size};
use warden_ledger::{AddCheckpoint, Checkpoint, CosignatureVerifier, MerkleTree, Witnessed, check_update, leaf_hash};

// A fixed witness key (name `fuzz.example/witness`, seed [0x43; 32]).
const WITNESS_KEY: &str = "fuzz.example/witness+64ec5e3b+BCL8KXeS8Lb/wL/P237bDAqhTgJaNl7A40Lobjgpy3S2";

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = AddCheckpoint::parse(data) {
        assert_eq!(
            request.encode().as_bytes(),
            data,
            "a parsed request encodes back to its bytes"
        );
        let tree = MerkleTree::from_leaf_hashes((0..16u64).map(|i| leaf_hash(&i.to_be_bytes())).collect());
        let size = u64::from(data.first().copied().unwrap_or_default() % 16);
        let latest = Witnessed {
            size,
            root: tree.root_at(size).unwrap_or([0; 32]),
        };
        let checkpoint = Checkpoint {
            origin: request.origin().unwrap_or("o").to_owned(),
            size: request.old_size.saturating_add(u64::from(data.len() as u8)),
            root: tree.root(),
        };
        let _ = check_update(&request, &checkpoint, Some(&latest));
        let _ = check_update(&request, &checkpoint, None);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_size(text);
        let _ = parse_cosignature_lines(text);
        if let Ok(verifier) = CosignatureVerifier::parse(WITNESS_KEY) {
            let _ = verifier.verify_note(text);
            if let Some((body, line)) = text.rsplit_once("\n\n") {
                let _ = verifier.verify(&format!("{body}\n"), line.trim_end_matches('\n'));
            }
        }
        let _ = CosignatureVerifier::parse(text);
    }
});
