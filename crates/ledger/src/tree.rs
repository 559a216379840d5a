//! The log's tree in memory: every leaf hash and every complete, aligned subtree above them, so the root
//! of any prefix and any proof cost O(log n) hashes instead of rehashing the log.

use crate::hash::{Hash, leaf_hash, node_hash, root_hash, split_point};
use crate::proof::ProofError;

/// An append-only RFC 9162 Merkle tree.
///
/// `levels[0]` holds the leaf hashes; `levels[j][i]` is the hash of the complete subtree of `2^j` leaves
/// starting at leaf `i * 2^j`.
// INVARIANT: levels is never empty, and levels[j + 1].len() == levels[j].len() / 2 for every j.
#[derive(Debug, Clone, Default)]
pub struct MerkleTree {
    levels: Vec<Vec<Hash>>,
}

impl MerkleTree {
    /// An empty tree.
    pub fn new() -> Self {
        MerkleTree {
            levels: vec![Vec::new()],
        }
    }

    /// A tree over leaf hashes already computed (for example, read back from storage).
    pub fn from_leaf_hashes(leaf_hashes: Vec<Hash>) -> Self {
        let mut levels = vec![leaf_hashes];
        while let Some(below) = levels.last().filter(|level| level.len() >= 2) {
            let above = below
                .chunks_exact(2)
                .map(|pair| node_hash(&pair[0], &pair[1]))
                .collect();
            levels.push(above);
        }
        MerkleTree { levels }
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.leaves().len() as u64
    }

    /// The leaf hashes, in order.
    pub fn leaves(&self) -> &[Hash] {
        self.levels.first().map_or(&[], Vec::as_slice)
    }

    /// Appends the leaf hash of `bytes` and returns its index.
    pub fn append(&mut self, bytes: &[u8]) -> u64 {
        self.append_leaf_hash(leaf_hash(bytes))
    }

    /// Appends a leaf hash and returns its index.
    pub fn append_leaf_hash(&mut self, hash: Hash) -> u64 {
        let index = self.size();
        let mut carry = hash;
        let mut level = 0;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let row = &mut self.levels[level];
            row.push(carry);
            if !row.len().is_multiple_of(2) {
                break;
            }
            carry = node_hash(&row[row.len() - 2], &row[row.len() - 1]);
            level += 1;
        }
        index
    }

    /// The root of the whole tree.
    pub fn root(&self) -> Hash {
        self.subtree(0, self.leaves().len())
    }

    /// The root of the first `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Hash, ProofError> {
        let size = self.checked_size(size)?;
        Ok(self.subtree(0, size))
    }

    /// The inclusion proof (audit path) of leaf `index` in the tree of the first `size` leaves, RFC 9162
    /// §2.1.3.1, ordered from the leaf up.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, ProofError> {
        let size = self.checked_size(size)?;
        let index = usize::try_from(index).map_err(|_| ProofError::IndexOutOfRange)?;
        if index >= size {
            return Err(ProofError::IndexOutOfRange);
        }
        let mut proof = Vec::new();
        self.path(index, 0, size, &mut proof);
        Ok(proof)
    }

    /// The consistency proof between the trees of the first `old_size` and `new_size` leaves, RFC 9162
    /// §2.1.4.1. Empty when the sizes are equal; an empty old tree has no proof.
    pub fn consistency_proof(&self, old_size: u64, new_size: u64) -> Result<Vec<Hash>, ProofError> {
        let new_size = self.checked_size(new_size)?;
        let old_size = usize::try_from(old_size).map_err(|_| ProofError::SizesOutOfOrder)?;
        if old_size > new_size {
            return Err(ProofError::SizesOutOfOrder);
        }
        if old_size == 0 {
            return Err(ProofError::EmptyTree);
        }
        let mut proof = Vec::new();
        self.subproof(old_size, 0, new_size, true, &mut proof);
        Ok(proof)
    }

    fn checked_size(&self, size: u64) -> Result<usize, ProofError> {
        usize::try_from(size)
            .ok()
            .filter(|&size| size <= self.leaves().len())
            .ok_or(ProofError::SizeBeyondTree)
    }

    /// PATH(m, D[start..start + n]), pushed leaf first.
    fn path(&self, m: usize, start: usize, n: usize, out: &mut Vec<Hash>) {
        if n <= 1 {
            return;
        }
        let k = split_point(n);
        if m < k {
            self.path(m, start, k, out);
            out.push(self.subtree(start + k, n - k));
        } else {
            self.path(m - k, start + k, n - k, out);
            out.push(self.subtree(start, k));
        }
    }

    /// SUBPROOF(m, D[start..start + n], b).
    fn subproof(&self, m: usize, start: usize, n: usize, whole: bool, out: &mut Vec<Hash>) {
        if m == n {
            if !whole {
                out.push(self.subtree(start, n));
            }
            return;
        }
        let k = split_point(n);
        if m <= k {
            self.subproof(m, start, k, whole, out);
            out.push(self.subtree(start + k, n - k));
        } else {
            self.subproof(m - k, start + k, n - k, false, out);
            out.push(self.subtree(start, k));
        }
    }

    /// MTH(D[start..start + n]) for a range inside the tree; complete aligned subtrees are looked up.
    fn subtree(&self, start: usize, n: usize) -> Hash {
        if n == 0 {
            return root_hash(&[]);
        }
        if n.is_power_of_two() && start.is_multiple_of(n) {
            let level = n.trailing_zeros() as usize;
            if let Some(hash) = self.levels.get(level).and_then(|row| row.get(start >> level)) {
                return *hash;
            }
        }
        if n == 1 {
            // Unreachable for ranges inside the tree (level 0 holds every leaf); hash what is there.
            return root_hash(self.leaves().get(start..start + 1).unwrap_or_default());
        }
        let k = split_point(n);
        node_hash(&self.subtree(start, k), &self.subtree(start + k, n - k))
    }
}

#[cfg(test)]
mod tests;
