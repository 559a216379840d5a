//! C2SP checkpoints (`tlog-checkpoint.md`) carried in C2SP signed notes (`signed-note.md`).
//!
//! A note is its text (lines ending in `\n`), a blank line, then signature lines
//! `— <name> <base64(key hash || signature)>\n`. For Ed25519 the key hash is the first 4 bytes of
//! `SHA-256(name || 0x0A || 0x01 || public key)` and the signature is over the text. A verifier key is
//! `<name>+<key hash as 8 hex digits>+<base64(0x01 || public key)>`. A checkpoint's text is the origin,
//! the tree size in decimal and the base64 root hash, one per line, then optional extension lines.

use aws_lc_rs::digest;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::hash::Hash;

/// At most this many signature lines are read from a note; more are refused.
pub const MAX_SIGNATURES: usize = 100;

const ED25519_ALG: u8 = 0x01;
pub(crate) const SIG_PREFIX: &str = "\u{2014} ";

/// Why a note, checkpoint or key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("key name `{0}` is empty or holds whitespace or `+`")]
    KeyName(String),
    #[error("verifier key is malformed")]
    VerifierKey,
    #[error("note is malformed")]
    Note,
    #[error("note has more than {MAX_SIGNATURES} signatures")]
    TooManySignatures,
    #[error("note carries no signature by the verifier key")]
    UnknownKey,
    #[error("note signature does not verify")]
    Signature,
    #[error("checkpoint body is malformed")]
    Body,
}

/// A tree head as the log publishes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's identity, conventionally a schema-less URL such as `warden.example.com/ledger`.
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

/// An Ed25519 note signer: a key name and its key pair.
#[derive(Debug)]
pub struct NoteSigner {
    name: String,
    key_hash: [u8; 4],
    pair: Ed25519KeyPair,
}

pub(crate) fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+')
}

fn key_hash(name: &str, public: &[u8]) -> [u8; 4] {
    key_id(name, ED25519_ALG, public)
}

/// The first 4 bytes of `SHA-256(name || 0x0A || algorithm || public key)`: how a signature line names
/// its key (signed-note.md; tlog-cosignature.md with algorithm `0x04`).
pub(crate) fn key_id(name: &str, algorithm: u8, public: &[u8]) -> [u8; 4] {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(name.as_bytes());
    ctx.update(&[b'\n', algorithm]);
    ctx.update(public);
    let digest = ctx.finish();
    let mut out = [0u8; 4];
    out.copy_from_slice(&digest.as_ref()[..4]);
    out
}

/// Note text holds no control characters but newlines (signed-note.md, as Go's `note` package checks).
pub(crate) fn plain_text(text: &str) -> bool {
    !text.chars().any(|c| c < ' ' && c != '\n')
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl NoteSigner {
    pub fn new(name: &str, pair: Ed25519KeyPair) -> Result<Self, CheckpointError> {
        if !valid_name(name) {
            return Err(CheckpointError::KeyName(name.to_owned()));
        }
        let key_hash = key_hash(name, pair.public_key().as_ref());
        Ok(NoteSigner {
            name: name.to_owned(),
            key_hash,
            pair,
        })
    }

    /// `name+hash+base64(0x01 || public key)`, what `GET /v1/ledger/verifier-key` returns.
    pub fn verifier_key(&self) -> String {
        let mut key = vec![ED25519_ALG];
        key.extend_from_slice(self.pair.public_key().as_ref());
        format!("{}+{}+{}", self.name, hex(&self.key_hash), STANDARD.encode(key))
    }

    /// Signs `text` into a note. The text must be non-empty, end in `\n` but not in a blank line, and hold
    /// no control characters but newlines.
    pub fn sign_note(&self, text: &str) -> Result<String, CheckpointError> {
        if !text.ends_with('\n') || text.ends_with("\n\n") || text.len() == 1 || !plain_text(text) {
            return Err(CheckpointError::Note);
        }
        let mut blob = self.key_hash.to_vec();
        blob.extend_from_slice(self.pair.sign(text.as_bytes()).as_ref());
        Ok(format!("{text}\n{SIG_PREFIX}{} {}\n", self.name, STANDARD.encode(blob)))
    }
}

struct Verifier {
    name: String,
    key_hash: [u8; 4],
    key: ed25519_dalek::VerifyingKey,
}

fn parse_verifier(text: &str) -> Result<Verifier, CheckpointError> {
    // Names and hashes hold no `+`; the base64 key may.
    let mut parts = text.splitn(3, '+');
    let (Some(name), Some(hash), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(CheckpointError::VerifierKey);
    };
    let key = STANDARD.decode(key).map_err(|_| CheckpointError::VerifierKey)?;
    let Some((&ED25519_ALG, public)) = key.split_first() else {
        return Err(CheckpointError::VerifierKey);
    };
    let public: [u8; 32] = public.try_into().map_err(|_| CheckpointError::VerifierKey)?;
    let key_hash = key_hash(name, &public);
    if !valid_name(name) || hash != hex(&key_hash) {
        return Err(CheckpointError::VerifierKey);
    }
    let key = ed25519_dalek::VerifyingKey::from_bytes(&public).map_err(|_| CheckpointError::VerifierKey)?;
    Ok(Verifier {
        name: name.to_owned(),
        key_hash,
        key,
    })
}

/// Checks that a note verifier key is well formed (Ed25519, its key hash right) and returns the name it
/// gives its signer — for a log, its origin.
pub fn verifier_key_name(verifier_key: &str) -> Result<&str, CheckpointError> {
    parse_verifier(verifier_key)?;
    Ok(verifier_key.split('+').next().unwrap_or_default())
}

/// Checks a signed note against a verifier key and returns its text. Every signature line must be
/// well formed; lines by other keys (witness cosignatures, say) are skipped; at least one line must be by
/// this key, and every line by it must verify (Ed25519 `verify_strict`).
pub fn verify_note<'a>(note: &'a str, verifier_key: &str) -> Result<&'a str, CheckpointError> {
    let verifier = parse_verifier(verifier_key)?;
    let split = note.rfind("\n\n").ok_or(CheckpointError::Note)?;
    let (text, signatures) = (&note[..split + 1], &note[split + 2..]);
    if text.len() <= 1 || !plain_text(text) || !signatures.ends_with('\n') {
        return Err(CheckpointError::Note);
    }
    let lines: Vec<&str> = signatures[..signatures.len() - 1].split('\n').collect();
    if lines.len() > MAX_SIGNATURES {
        return Err(CheckpointError::TooManySignatures);
    }
    let mut verified = false;
    for line in lines {
        let rest = line.strip_prefix(SIG_PREFIX).ok_or(CheckpointError::Note)?;
        let (name, blob) = rest.split_once(' ').ok_or(CheckpointError::Note)?;
        let blob = STANDARD.decode(blob).map_err(|_| CheckpointError::Note)?;
        if !valid_name(name) || blob.len() < 5 {
            return Err(CheckpointError::Note);
        }
        if name != verifier.name || blob[..4] != verifier.key_hash {
            continue;
        }
        let signature: [u8; 64] = blob[4..].try_into().map_err(|_| CheckpointError::Signature)?;
        verifier
            .key
            .verify_strict(text.as_bytes(), &ed25519_dalek::Signature::from_bytes(&signature))
            .map_err(|_| CheckpointError::Signature)?;
        verified = true;
    }
    if verified {
        Ok(text)
    } else {
        Err(CheckpointError::UnknownKey)
    }
}

impl Checkpoint {
    /// The checkpoint body: origin, size and base64 root, each ending in `\n`.
    pub fn body(&self) -> String {
        format!("{}\n{}\n{}\n", self.origin, self.size, STANDARD.encode(self.root))
    }

    /// The signed note for this checkpoint. Fails only on an origin that is empty or holds a newline.
    pub fn sign(&self, signer: &NoteSigner) -> Result<String, CheckpointError> {
        if self.origin.is_empty() || self.origin.contains(['\n', '\r']) {
            return Err(CheckpointError::Body);
        }
        signer.sign_note(&self.body())
    }

    /// Verifies a signed checkpoint note and parses its body strictly: a non-empty origin, a decimal
    /// size without sign or leading zeros that fits u64, a canonical base64 root of exactly 32 bytes.
    /// Extension lines after the root are allowed (C2SP) and ignored.
    pub fn parse_and_verify(note: &str, verifier_key: &str) -> Result<Checkpoint, CheckpointError> {
        let text = verify_note(note, verifier_key)?;
        Self::parse_body(text)
    }

    fn parse_body(text: &str) -> Result<Checkpoint, CheckpointError> {
        let mut lines = text.strip_suffix('\n').ok_or(CheckpointError::Body)?.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next()) else {
            return Err(CheckpointError::Body);
        };
        if origin.is_empty() || lines.any(str::is_empty) {
            return Err(CheckpointError::Body);
        }
        let canonical_size =
            !size.is_empty() && size.bytes().all(|b| b.is_ascii_digit()) && (size == "0" || !size.starts_with('0'));
        if !canonical_size {
            return Err(CheckpointError::Body);
        }
        let size: u64 = size.parse().map_err(|_| CheckpointError::Body)?;
        let bytes = STANDARD.decode(root).map_err(|_| CheckpointError::Body)?;
        let root_hash: Hash = bytes.as_slice().try_into().map_err(|_| CheckpointError::Body)?;
        // The base64 engine accepts non-zero trailing bits only when told to; re-encoding makes sure.
        if STANDARD.encode(root_hash) != root {
            return Err(CheckpointError::Body);
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root: root_hash,
        })
    }
}

#[cfg(test)]
mod tests;

/// The first bytes of a chain transaction that anchors a checkpoint.
pub const ANCHOR_MAGIC: &[u8; 4] = b"WLDG";

/// What an anchor transaction carries: `"WLDG" || size (8 bytes, big-endian) || root (32 bytes)`. The
/// server sends it and `warden ledger verify --chain-rpc` compares the chain's copy with it.
pub fn anchor_payload(size: u64, root: &Hash) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(44);
    bytes.extend_from_slice(ANCHOR_MAGIC);
    bytes.extend_from_slice(&size.to_be_bytes());
    bytes.extend_from_slice(root);
    bytes
}
