//! Warden's audit ledger logic: the append-only Merkle log every security event goes into, the proofs
//! that an event is in it and that it was never rewritten, and the signed checkpoints that publish it.
//!
//! The public interface is:
//! - [`leaf_hash`], [`node_hash`] and [`root_hash`]: RFC 6962/9162 hashing (SHA-256, leaf prefix `0x00`,
//!   node prefix `0x01`, the Merkle tree hash of RFC 9162 §2.1.1). [`Hash`](type@Hash) is a 32-byte digest.
//! - [`MerkleTree`]: the leaf hashes plus every complete subtree, so roots of any prefix
//!   ([`MerkleTree::root_at`]), inclusion proofs ([`MerkleTree::inclusion_proof`], RFC 9162 §2.1.3.1) and
//!   consistency proofs ([`MerkleTree::consistency_proof`], §2.1.4.1) take O(log n) hashes each.
//! - [`verify_inclusion`] and [`verify_consistency`]: the iterative verifiers of RFC 9162 §2.1.3.2 and
//!   §2.1.4.2, and [`decode_proof`] for proofs received as bytes. [`ProofError`] names every refusal.
//! - [`Checkpoint`]: the C2SP `tlog-checkpoint` body (origin, size, root), signed as a C2SP signed note
//!   by a [`NoteSigner`] (Ed25519) and checked by [`Checkpoint::parse_and_verify`] against a verifier key
//!   (`name+hash+base64`, [`NoteSigner::verifier_key`]); [`verify_note`] checks any signed note.
//!   [`CheckpointError`] names every refusal.
//! - [`leaf_bytes`]: the canonical serialization of an audit event as a leaf, and [`parse_leaf`] to read
//!   one back (canonical bytes only); [`leaf`] documents the format
//!   and offers its canonical JSON writer, [`leaf::write_canonical_json`].
//!
//! - [`LogVerifier`]: whole-log verification (every entry in order, then every checkpoint), naming the
//!   first bad index or checkpoint as a [`VerifyError`].
//!
//! This crate does no I/O: it stores no leaves, reads no key file or clock, anchors nothing and decides
//! nothing about retention; the server keeps the tree durable and publishes what this crate computes.
//! Nothing here panics on any input: every failure is an error value.

mod checkpoint;
mod hash;
pub mod leaf;
mod proof;
mod tree;
mod verify;

pub use checkpoint::{
    ANCHOR_MAGIC, Checkpoint, CheckpointError, MAX_SIGNATURES, NoteSigner, anchor_payload, verify_note,
};
pub use hash::{HASH_LEN, Hash, leaf_hash, node_hash, root_hash};
pub use leaf::{LeafError, leaf_bytes, parse_leaf};
pub use proof::{MAX_PROOF_LEN, ProofError, decode_proof, verify_consistency, verify_inclusion};
pub use tree::MerkleTree;
pub use verify::{LogVerifier, VerifyError, VerifySummary};
