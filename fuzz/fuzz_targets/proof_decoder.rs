//! Proofs arrive from the server's public routes and are checked by auditors: whatever the bytes,
//! decoding and verifying must answer `Ok` or `Err` and never panic, and an inclusion proof that
//! verifies against a real root must name the real leaf (soundness, short of a SHA-256 collision).
//!
//! Input layout: tree size byte (1 + b % 64 leaves, leaf i hashing `i` as 8 big-endian bytes), leaf
//! index, tree size, old tree size (one byte each), the 32-byte leaf hash, then the proof's hashes back
//! to back. Sizes beyond the tree are checked against an all-zero root. The seeds in
//! `corpus/proof_decoder` follow it; `crates/ledger/tests/fuzz_corpus.rs` replays them.
//!
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run proof_decoder -- -max_total_time=300` from `fuzz/`'s parent.

#![no_main]

use libfuzzer_sys::fuzz_target;
use warden_ledger::{Hash, MerkleTree, decode_proof, leaf_hash, verify_consistency, verify_inclusion};

fuzz_target!(|data: &[u8]| {
    let [n, index, size, old, rest @ ..] = data else {
        return;
    };
    if rest.len() < 32 {
        return;
    }
    let (leaf, proof) = rest.split_at(32);
    let Ok(leaf): Result<Hash, _> = leaf.try_into() else {
        return;
    };
    let Ok(proof) = decode_proof(proof) else {
        return;
    };
    let tree = MerkleTree::from_leaf_hashes((0..=u64::from(*n % 64)).map(|i| leaf_hash(&i.to_be_bytes())).collect());
    let (index, size, old) = (u64::from(*index), u64::from(*size), u64::from(*old));
    let root = tree.root_at(size).unwrap_or([0; 32]);
    let old_root = tree.root_at(old).unwrap_or([0; 32]);
    if verify_inclusion(&leaf, index, size, &proof, &root).is_ok() && tree.root_at(size).is_ok() {
        assert_eq!(
            tree.leaves().get(index as usize),
            Some(&leaf),
            "a wrong leaf was proven"
        );
    }
    let _ = verify_consistency(old, size, &old_root, &root, &proof);
    // Huge sizes never panic either.
    let _ = verify_inclusion(&leaf, u64::MAX - index, u64::MAX, &proof, &root);
    let _ = verify_consistency(u64::MAX - old, u64::MAX, &old_root, &root, &proof);
});
