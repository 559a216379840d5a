//! The tree against an independent, naive model (`naive_*`, written from RFC 9162 §2.1 with recursion on
//! slices and no shared code beyond SHA-256), and the proof verifiers against every proof the tree makes
//! and against single-bit corruptions of each input.

use aws_lc_rs::digest;
use proptest::prelude::*;

use super::MerkleTree;
use crate::hash::{Hash, leaf_hash, node_hash, root_hash};
use crate::proof::{ProofError, decode_proof, verify_consistency, verify_inclusion};

fn sha256(parts: &[&[u8]]) -> Hash {
    let mut ctx = digest::Context::new(&digest::SHA256);
    for part in parts {
        ctx.update(part);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

fn naive_split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

fn naive_mth(leaves: &[Vec<u8>]) -> Hash {
    match leaves.len() {
        0 => sha256(&[]),
        1 => sha256(&[&[0], &leaves[0]]),
        n => {
            let k = naive_split(n);
            sha256(&[&[1], &naive_mth(&leaves[..k]), &naive_mth(&leaves[k..])])
        }
    }
}

fn naive_path(m: usize, leaves: &[Vec<u8>]) -> Vec<Hash> {
    let n = leaves.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = naive_split(n);
    if m < k {
        let mut path = naive_path(m, &leaves[..k]);
        path.push(naive_mth(&leaves[k..]));
        path
    } else {
        let mut path = naive_path(m - k, &leaves[k..]);
        path.push(naive_mth(&leaves[..k]));
        path
    }
}

fn naive_subproof(m: usize, leaves: &[Vec<u8>], whole: bool) -> Vec<Hash> {
    let n = leaves.len();
    if m == n {
        return if whole { Vec::new() } else { vec![naive_mth(leaves)] };
    }
    let k = naive_split(n);
    if m <= k {
        let mut proof = naive_subproof(m, &leaves[..k], whole);
        proof.push(naive_mth(&leaves[k..]));
        proof
    } else {
        let mut proof = naive_subproof(m - k, &leaves[k..], false);
        proof.push(naive_mth(&leaves[..k]));
        proof
    }
}

fn leaves(n: usize) -> Vec<Vec<u8>> {
    (0..n).map(|i| format!("leaf {i}").into_bytes()).collect()
}

fn tree_of(data: &[Vec<u8>]) -> MerkleTree {
    MerkleTree::from_leaf_hashes(data.iter().map(|d| leaf_hash(d)).collect())
}

fn flip(hash: &Hash, bit: usize) -> Hash {
    let mut out = *hash;
    out[(bit / 8) % 32] ^= 1 << (bit % 8);
    out
}

/// The root a checkpoint of `size` would carry: the tree's own for sizes it has, a stranger's beyond.
///
/// A root does not commit to its size (RFC 9162's verifiers see the size only through the proof's
/// shape, and a neighbouring size can share that shape); the signed checkpoint binds the two. So a
/// changed size is judged against the root that size would really have.
fn root_for(tree: &MerkleTree, size: u64) -> Hash {
    tree.root_at(size).unwrap_or_else(|_| leaf_hash(&size.to_be_bytes()))
}

#[test]
fn appending_and_building_agree_with_the_naive_model() {
    let data = leaves(70);
    let mut grown = MerkleTree::new();
    for (i, d) in data.iter().enumerate() {
        assert_eq!(grown.append(d), i as u64);
        assert_eq!(grown.root(), naive_mth(&data[..=i]), "size {}", i + 1);
    }
    let built = tree_of(&data);
    for size in 0..=70 {
        assert_eq!(built.root_at(size as u64), Ok(naive_mth(&data[..size])));
        assert_eq!(grown.root_at(size as u64), Ok(naive_mth(&data[..size])));
    }
    assert_eq!(built.root_at(71), Err(ProofError::SizeBeyondTree));
}

#[test]
fn proofs_match_the_naive_model() {
    let data = leaves(33);
    let tree = tree_of(&data);
    for n in 1..=33 {
        for m in 0..n {
            assert_eq!(tree.inclusion_proof(m as u64, n as u64), Ok(naive_path(m, &data[..n])));
        }
        for m in 1..=n {
            assert_eq!(
                tree.consistency_proof(m as u64, n as u64),
                Ok(naive_subproof(m, &data[..n], true))
            );
        }
    }
}

#[test]
fn bad_arguments_are_errors() {
    let tree = tree_of(&leaves(5));
    assert_eq!(tree.inclusion_proof(5, 5), Err(ProofError::IndexOutOfRange));
    assert_eq!(tree.inclusion_proof(0, 0), Err(ProofError::IndexOutOfRange));
    assert_eq!(tree.inclusion_proof(u64::MAX, 5), Err(ProofError::IndexOutOfRange));
    assert_eq!(tree.inclusion_proof(0, 6), Err(ProofError::SizeBeyondTree));
    assert_eq!(tree.consistency_proof(4, 3), Err(ProofError::SizesOutOfOrder));
    assert_eq!(tree.consistency_proof(0, 3), Err(ProofError::EmptyTree));
    assert_eq!(tree.consistency_proof(3, u64::MAX), Err(ProofError::SizeBeyondTree));
    let root = tree.root();
    let leaf = leaf_hash(b"leaf 0");
    assert_eq!(
        verify_inclusion(&leaf, 5, 5, &[], &root),
        Err(ProofError::IndexOutOfRange)
    );
    assert_eq!(
        verify_inclusion(&leaf, 0, 0, &[], &root),
        Err(ProofError::IndexOutOfRange)
    );
    assert_eq!(
        verify_inclusion(&leaf, 0, 1, &[root], &root),
        Err(ProofError::WrongLength)
    );
    assert_eq!(verify_consistency(0, 5, &root, &root, &[]), Err(ProofError::EmptyTree));
    assert_eq!(
        verify_consistency(6, 5, &root, &root, &[]),
        Err(ProofError::SizesOutOfOrder)
    );
    assert_eq!(
        verify_consistency(5, 5, &root, &root, &[root]),
        Err(ProofError::WrongLength)
    );
    assert_eq!(
        verify_consistency(3, 5, &root, &root, &[]),
        Err(ProofError::WrongLength)
    );
    assert_eq!(
        verify_consistency(u64::MAX - 1, u64::MAX, &root, &root, &[root; 65]),
        Err(ProofError::WrongLength)
    );
    assert_eq!(verify_consistency(5, 5, &root, &root, &[]), Ok(()));
    assert_eq!(verify_consistency(5, 5, &root, &leaf, &[]), Err(ProofError::Mismatch));
}

#[test]
fn decoding_proof_bytes() {
    assert_eq!(decode_proof(&[]), Ok(Vec::new()));
    assert_eq!(decode_proof(&[7; 64]), Ok(vec![[7; 32], [7; 32]]));
    assert_eq!(decode_proof(&[7; 33]), Err(ProofError::Malformed));
    assert_eq!(decode_proof(&[7; 32 * 66]), Err(ProofError::Malformed));
}

#[test]
fn the_empty_root_is_the_hash_of_nothing() {
    assert_eq!(MerkleTree::new().root(), sha256(&[]));
    assert_eq!(root_hash(&[]), sha256(&[]));
    assert_eq!(node_hash(&[1; 32], &[2; 32]), sha256(&[&[1], &[1; 32], &[2; 32]]));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn hashing_matches_the_naive_model(data in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 0..80)) {
        let hashes: Vec<Hash> = data.iter().map(|d| leaf_hash(d)).collect();
        prop_assert_eq!(root_hash(&hashes), naive_mth(&data));
        prop_assert_eq!(MerkleTree::from_leaf_hashes(hashes).root(), naive_mth(&data));
    }

    #[test]
    fn every_inclusion_proof_verifies_and_any_flip_is_refused(size in 1usize..300, seed in any::<u64>()) {
        let tree = tree_of(&leaves(size));
        let root = tree.root();
        let n = size as u64;
        for index in 0..n {
            let leaf = tree.leaves()[index as usize];
            let Ok(proof) = tree.inclusion_proof(index, n) else { unreachable!("index below size") };
            prop_assert_eq!(verify_inclusion(&leaf, index, n, &proof, &root), Ok(()));
        }
        // Single-bit corruptions of one index (chosen by the seed) in every input.
        let index = seed % n;
        let bit = (seed >> 32) as usize % 256;
        let leaf = tree.leaves()[index as usize];
        let Ok(proof) = tree.inclusion_proof(index, n) else { unreachable!("index below size") };
        prop_assert!(verify_inclusion(&flip(&leaf, bit), index, n, &proof, &root).is_err());
        prop_assert!(verify_inclusion(&leaf, index, n, &proof, &flip(&root, bit)).is_err());
        for i in 0..proof.len() {
            let mut bad = proof.clone();
            bad[i] = flip(&bad[i], bit);
            prop_assert!(verify_inclusion(&leaf, index, n, &bad, &root).is_err());
        }
        for b in 0..64 {
            prop_assert!(verify_inclusion(&leaf, index ^ (1 << b), n, &proof, &root).is_err());
            prop_assert!(verify_inclusion(&leaf, index, n ^ (1 << b), &proof, &root_for(&tree, n ^ (1 << b))).is_err());
        }
        let mut short = proof.clone();
        if short.pop().is_some() {
            prop_assert!(verify_inclusion(&leaf, index, n, &short, &root).is_err());
        }
        let mut long = proof;
        long.push(root);
        prop_assert!(verify_inclusion(&leaf, index, n, &long, &root).is_err());
    }

    #[test]
    fn every_consistency_proof_verifies_and_any_flip_is_refused(size in 1usize..300, seed in any::<u64>()) {
        let tree = tree_of(&leaves(size));
        let n = size as u64;
        let new_root = tree.root();
        for m in 1..=n {
            let (Ok(old_root), Ok(proof)) = (tree.root_at(m), tree.consistency_proof(m, n)) else {
                unreachable!("sizes within the tree")
            };
            prop_assert_eq!(verify_consistency(m, n, &old_root, &new_root, &proof), Ok(()));
        }
        let m = 1 + seed % n;
        let bit = (seed >> 32) as usize % 256;
        let (Ok(old_root), Ok(proof)) = (tree.root_at(m), tree.consistency_proof(m, n)) else {
            unreachable!("sizes within the tree")
        };
        prop_assert!(verify_consistency(m, n, &flip(&old_root, bit), &new_root, &proof).is_err());
        prop_assert!(verify_consistency(m, n, &old_root, &flip(&new_root, bit), &proof).is_err());
        for i in 0..proof.len() {
            let mut bad = proof.clone();
            bad[i] = flip(&bad[i], bit);
            prop_assert!(verify_consistency(m, n, &old_root, &new_root, &bad).is_err());
        }
        for b in 0..64 {
            let (m2, n2) = (m ^ (1 << b), n ^ (1 << b));
            prop_assert!(verify_consistency(m2, n, &root_for(&tree, m2), &new_root, &proof).is_err());
            prop_assert!(verify_consistency(m, n2, &old_root, &root_for(&tree, n2), &proof).is_err());
        }
    }
}
