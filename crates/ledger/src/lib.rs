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
//! - [`Cosigner`] and [`CosignatureVerifier`]: witness cosignatures (C2SP `tlog-cosignature`, the
//!   Ed25519 `cosignature/v1` type) and witness verifier keys (`name+keyid+base64(0x04 || key)`);
//!   [`CosignatureError`] names every refusal.
//! - [`witness`]: the C2SP `tlog-witness` protocol without HTTP: the `add-checkpoint` body
//!   ([`AddCheckpoint`]), the witness's decision ([`check_update`], a [`Refusal`] with its status code)
//!   and the answer bodies.
//!
//! - [`LogVerifier`]: whole-log verification (every entry in order, then every checkpoint), naming the
//!   first bad index or checkpoint as a [`VerifyError`].
//!
//! This crate does no I/O: it stores no leaves, reads no key file or clock, anchors nothing, sends no
//! checkpoint to a witness, keeps no witness state and decides nothing about retention; the server keeps
//! the tree and the witness state durable and publishes what this crate computes.
//! Nothing here panics on any input: every failure is an error value.

mod checkpoint;
mod cosignature;
mod hash;
pub mod leaf;
mod proof;
mod tree;
mod verify;
pub mod witness;

pub use checkpoint::{
    ANCHOR_MAGIC, Checkpoint, CheckpointError, MAX_SIGNATURES, NoteSigner, anchor_payload, verifier_key_name,
    verify_note,
};
pub use cosignature::{
    COSIGNATURE_ALG, Cosignature, CosignatureError, CosignatureVerifier, Cosigner, MAX_TIMESTAMP, SignatureLine,
    cosigned_message, parse_signature_line,
};
pub use hash::{HASH_LEN, Hash, leaf_hash, node_hash, root_hash};
pub use leaf::{LeafError, leaf_bytes, parse_leaf};
pub use proof::{MAX_PROOF_LEN, ProofError, decode_proof, verify_consistency, verify_inclusion};
pub use tree::MerkleTree;
pub use verify::{LogVerifier, VerifyError, VerifySummary};
pub use witness::{AddCheckpoint, Refusal, Witnessed, check_update};
