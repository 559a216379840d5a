//! The ledger's Merkle tree, in process and excluding storage, at 10^6 leaves (`WARDEN_BENCH_SCALE`, a
//! divisor, shrinks it):
//!
//! - `leaf bytes + hash`: canonical JSON of one audit event and its leaf hash.
//! - `build tree`: every complete subtree over 10^6 leaf hashes (what a restart pays), and `root (naive
//!   MTH)`: the RFC 9162 recursion over the leaf hashes with no cached subtrees.
//! - `append`: one leaf into the in-memory tree, amortized.
//! - `inclusion proof` / `verify inclusion`: a random leaf of the full tree, p50/p99.
//! - `consistency proof` / `verify consistency`: a random old size to the full size, p50/p99.

use std::time::Instant;

use warden_core::{AuditEvent, AuditOutcome, Timestamp};
use warden_ledger::{MerkleTree, leaf_bytes, leaf_hash, root_hash, verify_consistency, verify_inclusion};

use crate::quantile;

fn report(name: &str, mut samples: Vec<u64>) {
    samples.sort_unstable();
    println!(
        "{name:<24} n={:<7} p50={:>8.2} µs  p99={:>8.2} µs  max={:>9.2} µs",
        samples.len(),
        quantile(&samples, 0.50) as f64 / 1000.0,
        quantile(&samples, 0.99) as f64 / 1000.0,
        samples.last().copied().unwrap_or(0) as f64 / 1000.0,
    );
}

/// A small deterministic generator (xorshift64*), so runs are comparable.
struct Xorshift(u64);

impl Xorshift {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1)
    }
}

fn timed<T>(op: impl FnOnce() -> T) -> (T, u64) {
    let started = Instant::now();
    let out = op();
    (out, started.elapsed().as_nanos() as u64)
}

pub fn run() -> anyhow::Result<()> {
    let scale = std::env::var("WARDEN_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(1)
        .max(1);
    let leaves = 1_000_000 / scale;
    let runs = 100_000 / scale;
    let event = AuditEvent::new(
        Timestamp::from_unix(1_764_000_000),
        "policy.decision",
        "agent-42",
        AuditOutcome::Success,
    )
    .resource("vault/openai")
    .detail("rule", "allow-openai")
    .request_id(Some("req-0123456789"));

    let mut samples = Vec::with_capacity(runs as usize);
    let mut hashes = Vec::with_capacity(leaves as usize);
    for i in 0..leaves {
        let (hash, ns) = timed(|| leaf_hash(&leaf_bytes(i, &event)));
        hashes.push(hash);
        if i < runs {
            samples.push(ns);
        }
    }
    report("leaf bytes + hash", samples);
    println!("leaf size                {} bytes", leaf_bytes(leaves, &event).len());

    let (tree, ns) = timed(|| MerkleTree::from_leaf_hashes(hashes.clone()));
    println!("build tree ({leaves} leaves)  {:.1} ms", ns as f64 / 1e6);
    let (naive, ns) = timed(|| root_hash(&hashes));
    println!("root (naive MTH)         {:.1} ms", ns as f64 / 1e6);
    anyhow::ensure!(naive == tree.root(), "the tree's root differs from the naive one");
    let (root, ns) = timed(|| tree.root());
    println!("root (cached subtrees)   {:.2} µs", ns as f64 / 1e3);

    let (grown, ns) = timed(|| {
        let mut grown = MerkleTree::new();
        for hash in &hashes {
            grown.append_leaf_hash(*hash);
        }
        grown
    });
    println!(
        "append                   {:.3} µs per leaf (amortized)",
        ns as f64 / leaves as f64 / 1e3
    );
    anyhow::ensure!(grown.root() == root, "the grown tree's root differs");

    let mut rng = Xorshift(0x9e37_79b9_7f4a_7c15);
    let (mut make, mut check) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let index = rng.below(leaves);
        let (proof, ns) = timed(|| tree.inclusion_proof(index, leaves));
        let proof = proof?;
        make.push(ns);
        let leaf = hashes[index as usize];
        let (verdict, ns) = timed(|| verify_inclusion(&leaf, index, leaves, &proof, &root));
        verdict?;
        check.push(ns);
    }
    report("inclusion proof", make);
    report("verify inclusion", check);

    let (mut make, mut check) = (Vec::new(), Vec::new());
    for _ in 0..runs / 10 {
        let old = 1 + rng.below(leaves);
        let old_root = tree.root_at(old)?;
        let (proof, ns) = timed(|| tree.consistency_proof(old, leaves));
        let proof = proof?;
        make.push(ns);
        let (verdict, ns) = timed(|| verify_consistency(old, leaves, &old_root, &root, &proof));
        verdict?;
        check.push(ns);
    }
    report("consistency proof", make);
    report("verify consistency", check);
    Ok(())
}
