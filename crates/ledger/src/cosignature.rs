//! Witness cosignatures: C2SP `tlog-cosignature.md`, the Ed25519 `cosignature/v1` type.
//!
//! A cosignature is a signed-note signature line `— <witness name> base64(payload)` added to a checkpoint
//! by a witness that checked the checkpoint is consistent with everything it saw of that log before.
//! The payload is
//!
//! ```text
//! key id (4 bytes) || timestamp (8 bytes, big-endian, Unix seconds) || Ed25519 signature (64 bytes)
//! ```
//!
//! the key id being the first 4 bytes of `SHA-256(name || 0x0A || 0x04 || public key)`, and the signed
//! message `"cosignature/v1\ntime <timestamp>\n"` followed by the whole checkpoint text (every line up to
//! the blank line, extension lines included). A witness's verifier key is
//! `<name>+<key id as 8 hex digits>+<base64(0x04 || public key)>`.
//!
//! Only the Ed25519 type is built: the ML-DSA-44 type of the same document is not.

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::checkpoint::{SIG_PREFIX, hex, key_id, plain_text, valid_name};

/// The signature type byte of Ed25519 `cosignature/v1` keys.
pub const COSIGNATURE_ALG: u8 = 0x04;
/// The largest timestamp a cosignature may carry (2^63 - 1).
pub const MAX_TIMESTAMP: u64 = i64::MAX as u64;

const PAYLOAD_LEN: usize = 4 + 8 + 64;

/// Why a cosignature, a signature line or a witness key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CosignatureError {
    #[error("witness name `{0}` is empty or holds whitespace or `+`")]
    Name(String),
    #[error("witness verifier key is malformed")]
    VerifierKey,
    #[error("signature line is malformed")]
    Line,
    #[error("the signature line is by another key")]
    OtherKey,
    #[error("cosignature timestamp is above 2^63 - 1")]
    Timestamp,
    #[error("cosignature does not verify")]
    Signature,
    #[error("checkpoint text is malformed")]
    Text,
    #[error("the note carries no cosignature by this witness")]
    Missing,
}

/// The message a `cosignature/v1` signature is over.
pub fn cosigned_message(text: &str, timestamp: u64) -> String {
    format!("cosignature/v1\ntime {timestamp}\n{text}")
}

/// Checkpoint text as cosigned: non-empty, ending in `\n` but not in a blank line, no control characters
/// but newlines, and at least the three checkpoint lines.
fn valid_text(text: &str) -> bool {
    text.ends_with('\n') && !text.contains("\n\n") && plain_text(text) && text.split('\n').count() > 3
}

/// A signature line split into its key name and decoded payload. The line is given without its
/// final newline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureLine<'a> {
    pub name: &'a str,
    pub payload: Vec<u8>,
}

/// Splits `— <name> <base64>` (no trailing newline). Any key type is accepted here; only the key id of
/// the first 4 bytes is read by callers.
pub fn parse_signature_line(line: &str) -> Result<SignatureLine<'_>, CosignatureError> {
    let rest = line.strip_prefix(SIG_PREFIX).ok_or(CosignatureError::Line)?;
    let (name, blob) = rest.split_once(' ').ok_or(CosignatureError::Line)?;
    if !valid_name(name) {
        return Err(CosignatureError::Line);
    }
    let payload = STANDARD.decode(blob).map_err(|_| CosignatureError::Line)?;
    if payload.len() < 5 {
        return Err(CosignatureError::Line);
    }
    Ok(SignatureLine { name, payload })
}

/// A decoded `cosignature/v1` payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cosignature {
    pub key_id: [u8; 4],
    pub timestamp: u64,
    pub signature: [u8; 64],
}

impl Cosignature {
    /// Reads the 76-byte payload of an Ed25519 cosignature.
    pub fn from_payload(payload: &[u8]) -> Result<Self, CosignatureError> {
        if payload.len() != PAYLOAD_LEN {
            return Err(CosignatureError::Line);
        }
        let (key_id, rest) = payload.split_at(4);
        let (timestamp, signature) = rest.split_at(8);
        let timestamp = u64::from_be_bytes(timestamp.try_into().map_err(|_| CosignatureError::Line)?);
        if timestamp > MAX_TIMESTAMP {
            return Err(CosignatureError::Timestamp);
        }
        Ok(Cosignature {
            key_id: key_id.try_into().map_err(|_| CosignatureError::Line)?,
            timestamp,
            signature: signature.try_into().map_err(|_| CosignatureError::Line)?,
        })
    }

    pub fn payload(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(PAYLOAD_LEN);
        out.extend_from_slice(&self.key_id);
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&self.signature);
        out
    }
}

/// A witness's signing key: its name and Ed25519 key pair.
#[derive(Debug)]
pub struct Cosigner {
    name: String,
    key_id: [u8; 4],
    pair: Ed25519KeyPair,
}

impl Cosigner {
    pub fn new(name: &str, pair: Ed25519KeyPair) -> Result<Self, CosignatureError> {
        if !valid_name(name) {
            return Err(CosignatureError::Name(name.to_owned()));
        }
        let key_id = key_id(name, COSIGNATURE_ALG, pair.public_key().as_ref());
        Ok(Cosigner {
            name: name.to_owned(),
            key_id,
            pair,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `name+keyid+base64(0x04 || public key)`.
    pub fn verifier_key(&self) -> String {
        format_verifier_key(&self.name, &self.key_id, self.pair.public_key().as_ref())
    }

    /// The cosignature line (without its final newline) over checkpoint `text` at `timestamp`.
    pub fn cosign(&self, text: &str, timestamp: u64) -> Result<String, CosignatureError> {
        if !valid_text(text) {
            return Err(CosignatureError::Text);
        }
        if timestamp > MAX_TIMESTAMP {
            return Err(CosignatureError::Timestamp);
        }
        let signed = self.pair.sign(cosigned_message(text, timestamp).as_bytes());
        let mut signature = [0u8; 64];
        signature.copy_from_slice(signed.as_ref());
        let cosignature = Cosignature {
            key_id: self.key_id,
            timestamp,
            signature,
        };
        Ok(format!(
            "{SIG_PREFIX}{} {}",
            self.name,
            STANDARD.encode(cosignature.payload())
        ))
    }
}

fn format_verifier_key(name: &str, key_id: &[u8; 4], public: &[u8]) -> String {
    let mut key = vec![COSIGNATURE_ALG];
    key.extend_from_slice(public);
    format!("{name}+{}+{}", hex(key_id), STANDARD.encode(key))
}

/// A witness's public key, as a log or an auditor pins it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignatureVerifier {
    name: String,
    key_id: [u8; 4],
    public: [u8; 32],
}

impl CosignatureVerifier {
    /// Parses `name+keyid+base64(0x04 || public key)`; the key id must be the one the name and key give,
    /// and the key a valid Ed25519 point.
    pub fn parse(text: &str) -> Result<Self, CosignatureError> {
        let mut parts = text.splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(CosignatureError::VerifierKey);
        };
        let key = STANDARD.decode(key).map_err(|_| CosignatureError::VerifierKey)?;
        let Some((&COSIGNATURE_ALG, public)) = key.split_first() else {
            return Err(CosignatureError::VerifierKey);
        };
        let public: [u8; 32] = public.try_into().map_err(|_| CosignatureError::VerifierKey)?;
        let key_id = key_id(name, COSIGNATURE_ALG, &public);
        if !valid_name(name) || id != hex(&key_id) {
            return Err(CosignatureError::VerifierKey);
        }
        ed25519_dalek::VerifyingKey::from_bytes(&public).map_err(|_| CosignatureError::VerifierKey)?;
        Ok(CosignatureVerifier {
            name: name.to_owned(),
            key_id,
            public,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> [u8; 4] {
        self.key_id
    }

    /// The key in its text form again.
    pub fn verifier_key(&self) -> String {
        format_verifier_key(&self.name, &self.key_id, &self.public)
    }

    /// Whether a signature line names this key (its name and key id); says nothing of its signature.
    pub fn names(&self, line: &str) -> bool {
        parse_signature_line(line)
            .is_ok_and(|l| l.name == self.name && l.payload.get(..4) == Some(self.key_id.as_slice()))
    }

    /// Checks one cosignature line (without its final newline) over checkpoint `text`; its timestamp.
    /// Ed25519 `verify_strict`, as signed notes are checked.
    pub fn verify(&self, text: &str, line: &str) -> Result<u64, CosignatureError> {
        let parsed = parse_signature_line(line)?;
        if parsed.name != self.name || parsed.payload.get(..4) != Some(self.key_id.as_slice()) {
            return Err(CosignatureError::OtherKey);
        }
        let cosignature = Cosignature::from_payload(&parsed.payload)?;
        if !valid_text(text) {
            return Err(CosignatureError::Text);
        }
        let key = ed25519_dalek::VerifyingKey::from_bytes(&self.public).map_err(|_| CosignatureError::VerifierKey)?;
        let message = cosigned_message(text, cosignature.timestamp);
        key.verify_strict(
            message.as_bytes(),
            &ed25519_dalek::Signature::from_bytes(&cosignature.signature),
        )
        .map_err(|_| CosignatureError::Signature)?;
        Ok(cosignature.timestamp)
    }

    /// Checks the cosignatures of this witness in a signed note (the checkpoint with every signature
    /// line after the blank line): at least one line must name this key and every line that does must
    /// verify. The newest timestamp. The log's own signature is not checked here.
    pub fn verify_note(&self, note: &str) -> Result<u64, CosignatureError> {
        let split = note.rfind("\n\n").ok_or(CosignatureError::Text)?;
        let (text, lines) = (&note[..split + 1], &note[split + 2..]);
        let lines = lines.strip_suffix('\n').ok_or(CosignatureError::Line)?;
        if lines.split('\n').count() > crate::MAX_SIGNATURES {
            return Err(CosignatureError::Line);
        }
        let mut newest = None;
        for line in lines.split('\n') {
            if self.names(line) {
                let timestamp = self.verify(text, line)?;
                newest = newest.max(Some(timestamp));
            }
        }
        newest.ok_or(CosignatureError::Missing)
    }
}

#[cfg(test)]
mod tests;
