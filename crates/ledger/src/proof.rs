//! Verifying inclusion and consistency proofs: the iterative algorithms of RFC 9162 §2.1.3.2 and
//! §2.1.4.2, step by step, on values received from anyone.

use subtle::ConstantTimeEq;

use crate::hash::{HASH_LEN, Hash, node_hash};

/// The longest proof any tree of up to 2^64 leaves can need: one hash per level, plus the old root a
/// consistency proof may start from.
pub const MAX_PROOF_LEN: usize = 65;

/// Why a proof was refused or could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("leaf index is not below the tree size")]
    IndexOutOfRange,
    #[error("tree size is beyond the tree")]
    SizeBeyondTree,
    #[error("the old tree size is larger than the new one")]
    SizesOutOfOrder,
    #[error("an empty tree has no proof")]
    EmptyTree,
    #[error("proof bytes are not a whole number of 32-byte hashes, or there are more than 65")]
    Malformed,
    #[error("proof has the wrong number of hashes")]
    WrongLength,
    #[error("proof does not lead to the expected root")]
    Mismatch,
}

/// Splits proof bytes (hashes back to back, as in RFC 9162's `inclusion_path`) into hashes.
pub fn decode_proof(bytes: &[u8]) -> Result<Vec<Hash>, ProofError> {
    if !bytes.len().is_multiple_of(HASH_LEN) || bytes.len() / HASH_LEN > MAX_PROOF_LEN {
        return Err(ProofError::Malformed);
    }
    Ok(bytes
        .chunks_exact(HASH_LEN)
        .map(|chunk| {
            let mut hash = [0u8; HASH_LEN];
            hash.copy_from_slice(chunk);
            hash
        })
        .collect())
}

fn same(a: &Hash, b: &Hash) -> bool {
    a.ct_eq(b).into()
}

/// Checks that `leaf_hash` is leaf `index` of the tree of `size` leaves whose root is `root`
/// (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange);
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf_hash;
    for p in proof {
        if snode == 0 {
            return Err(ProofError::WrongLength);
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(ProofError::WrongLength);
    }
    if same(&r, root) {
        Ok(())
    } else {
        Err(ProofError::Mismatch)
    }
}

/// Checks that the tree of `new_size` leaves with root `new_root` extends the tree of `old_size` leaves
/// with root `old_root` (RFC 9162 §2.1.4.2). Equal sizes need an empty proof and equal roots; an empty
/// old tree is refused (there is nothing to be consistent with).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old_size > new_size {
        return Err(ProofError::SizesOutOfOrder);
    }
    if old_size == 0 {
        return Err(ProofError::EmptyTree);
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength);
        }
        return if same(old_root, new_root) {
            Ok(())
        } else {
            Err(ProofError::Mismatch)
        };
    }
    // Step 1: an empty path fails.
    let Some((first, rest)) = proof.split_first() else {
        return Err(ProofError::WrongLength);
    };
    // Step 2: a power-of-two old tree is a node of the new one; its root starts the path.
    let (start, rest) = if old_size.is_power_of_two() {
        (old_root, proof)
    } else {
        (first, rest)
    };
    let (mut fnode, mut snode) = (old_size - 1, new_size - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (*start, *start);
    for c in rest {
        if snode == 0 {
            return Err(ProofError::WrongLength);
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(ProofError::WrongLength);
    }
    if same(&fr, old_root) && same(&sr, new_root) {
        Ok(())
    } else {
        Err(ProofError::Mismatch)
    }
}
