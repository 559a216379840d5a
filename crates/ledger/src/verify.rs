//! Whole-log verification, for `warden ledger verify` and the tests: feed every stored entry in order,
//! then every stored checkpoint, and learn the first thing that is wrong.
//!
//! What each check catches:
//! - an index that is not the next one: a deleted entry ([`VerifyError::Missing`]) or entries out of
//!   order ([`VerifyError::OutOfOrder`]);
//! - leaf bytes whose stated index is not their position: an event moved to another place
//!   ([`VerifyError::Moved`]);
//! - leaf bytes that do not hash to the stored leaf hash, or are not a canonical leaf: an event edited
//!   in place ([`VerifyError::Tampered`]);
//! - a checkpoint whose signature does not verify ([`VerifyError::Checkpoint`]), that is larger than the
//!   log ([`VerifyError::RolledBack`]: the log lost entries it had published), or whose root differs from
//!   the recomputed one ([`VerifyError::Rewritten`]: leaves and their hashes were both rewritten, somewhere
//!   below that checkpoint's size and at or above the previous good checkpoint's).

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::hash::{Hash, leaf_hash};
use crate::leaf::parse_leaf;
use crate::tree::MerkleTree;

/// The first inconsistency found, naming the index or checkpoint it is at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("entry {0} is missing")]
    Missing(u64),
    #[error("entry {found} comes where entry {expected} should")]
    OutOfOrder { expected: u64, found: u64 },
    #[error("entry {index} says it is entry {stated}: it was moved")]
    Moved { index: u64, stated: u64 },
    #[error("entry {index} does not match its leaf hash: {why}")]
    Tampered { index: u64, why: String },
    #[error("a checkpoint does not verify: {0}")]
    Checkpoint(CheckpointError),
    #[error("checkpoint at size {size} is for origin `{found}`, not `{expected}`")]
    Origin { size: u64, expected: String, found: String },
    #[error("the log has {log_size} entries but a checkpoint was signed at size {size}: it was rolled back")]
    RolledBack { size: u64, log_size: u64 },
    #[error("the log does not match the checkpoint at size {size}: entries from {from} to {} were rewritten", size - 1)]
    Rewritten { size: u64, from: u64 },
}

/// Rebuilds the tree from stored entries and holds it up against signed checkpoints.
#[derive(Debug, Default)]
pub struct LogVerifier {
    tree: MerkleTree,
    /// The largest checkpoint size that matched so far: a rewrite found later lies at or above it.
    good_size: u64,
    checkpoints: u64,
    pruned: u64,
}

impl LogVerifier {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the entry at `index`: its leaf bytes if retention kept them, and the stored leaf hash.
    pub fn push(&mut self, index: u64, leaf: Option<&[u8]>, stored_hash: &Hash) -> Result<(), VerifyError> {
        let expected = self.tree.size();
        if index > expected {
            return Err(VerifyError::Missing(expected));
        }
        if index < expected {
            return Err(VerifyError::OutOfOrder { expected, found: index });
        }
        match leaf {
            Some(bytes) => {
                if leaf_hash(bytes) != *stored_hash {
                    return Err(VerifyError::Tampered {
                        index,
                        why: "the leaf bytes hash to something else".into(),
                    });
                }
                let (stated, _) = parse_leaf(bytes).map_err(|e| VerifyError::Tampered {
                    index,
                    why: e.to_string(),
                })?;
                if stated != index {
                    return Err(VerifyError::Moved { index, stated });
                }
            }
            None => self.pruned += 1,
        }
        self.tree.append_leaf_hash(*stored_hash);
        Ok(())
    }

    /// Checks one signed checkpoint against the rebuilt tree; checkpoints must come smallest first.
    pub fn check_checkpoint(
        &mut self,
        note: &str,
        verifier_key: &str,
        origin: Option<&str>,
    ) -> Result<Checkpoint, VerifyError> {
        let checkpoint = Checkpoint::parse_and_verify(note, verifier_key).map_err(VerifyError::Checkpoint)?;
        if let Some(expected) = origin
            && checkpoint.origin != expected
        {
            return Err(VerifyError::Origin {
                size: checkpoint.size,
                expected: expected.to_owned(),
                found: checkpoint.origin,
            });
        }
        let log_size = self.tree.size();
        if checkpoint.size > log_size {
            return Err(VerifyError::RolledBack {
                size: checkpoint.size,
                log_size,
            });
        }
        let root = self
            .tree
            .root_at(checkpoint.size)
            .map_err(|_| VerifyError::RolledBack {
                size: checkpoint.size,
                log_size,
            })?;
        if root != checkpoint.root {
            return Err(VerifyError::Rewritten {
                size: checkpoint.size,
                from: self.good_size,
            });
        }
        self.good_size = self.good_size.max(checkpoint.size);
        self.checkpoints += 1;
        Ok(checkpoint)
    }

    /// The rebuilt tree, for proofs against it.
    pub fn tree(&self) -> &MerkleTree {
        &self.tree
    }

    /// Entries seen, checkpoints that matched, and entries whose payload retention had dropped.
    pub fn summary(&self) -> VerifySummary {
        VerifySummary {
            size: self.tree.size(),
            root: self.tree.root(),
            checkpoints: self.checkpoints,
            pruned: self.pruned,
        }
    }
}

/// What a successful verification covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifySummary {
    pub size: u64,
    pub root: Hash,
    pub checkpoints: u64,
    pub pruned: u64,
}

#[cfg(test)]
mod tests;
