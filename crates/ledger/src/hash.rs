//! RFC 6962 hashing (RFC 9162 §2.1.1): SHA-256 with domain separation between leaves and nodes, so no
//! leaf can pose as an interior node.

use aws_lc_rs::digest;

/// The length of every hash in the log.
pub const HASH_LEN: usize = 32;

/// A SHA-256 digest: a leaf hash, a node hash or a root.
pub type Hash = [u8; HASH_LEN];

const LEAF_PREFIX: u8 = 0x00;
const NODE_PREFIX: u8 = 0x01;

fn finish(ctx: digest::Context) -> Hash {
    let mut out = [0u8; HASH_LEN];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// `SHA-256(0x00 || bytes)`.
pub fn leaf_hash(bytes: &[u8]) -> Hash {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(&[LEAF_PREFIX]);
    ctx.update(bytes);
    finish(ctx)
}

/// `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(&[NODE_PREFIX]);
    ctx.update(left);
    ctx.update(right);
    finish(ctx)
}

/// The Merkle tree hash (MTH) of a list of leaf hashes, RFC 9162 §2.1.1: the hash of the empty string
/// for no leaves, the leaf hash itself for one, and otherwise the node hash of the first `k` leaves and
/// the rest, `k` being the largest power of two smaller than the count.
pub fn root_hash(leaf_hashes: &[Hash]) -> Hash {
    match leaf_hashes {
        [] => finish(digest::Context::new(&digest::SHA256)),
        [one] => *one,
        _ => {
            let (left, right) = leaf_hashes.split_at(split_point(leaf_hashes.len()));
            node_hash(&root_hash(left), &root_hash(right))
        }
    }
}

/// The largest power of two strictly smaller than `n`; `n` must be at least 2.
pub(crate) fn split_point(n: usize) -> usize {
    debug_assert!(n >= 2);
    // INVARIANT: n >= 2, so n - 1 >= 1 and the shift is below usize::BITS.
    1 << (usize::BITS - 1 - (n - 1).leading_zeros())
}
