//! API keys: `wdn_<id>_<secret>`, shown once, stored as a hash, compared in constant time.
//!
//! The id (12 lowercase hex characters) is the visible prefix: logs and the admin API can name a key
//! without revealing it, and the server finds the record by it. The secret is 32 random bytes in
//! unpadded base64url; only its SHA-256 is stored. A plain hash is enough here, unlike passwords:
//! 256 random bits cannot be guessed offline, so a slow hash would buy nothing but latency.
//!
//! This module does not look keys up or count failures; the server does, through the repository.

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq;
use warden_core::{Entropy, Secret, Timestamp, random_bytes};
use zeroize::Zeroizing;

use crate::repo::ApiKeyRecord;

/// What every key starts with, so a leaked key is recognisable (secret scanners, log redaction).
pub const KEY_PREFIX: &str = "wdn_";
/// Length of the visible id, in lowercase hex characters (6 random bytes).
pub const ID_LEN: usize = 12;
/// Length of the secret part: 32 bytes in unpadded base64url.
pub const SECRET_LEN: usize = 43;
/// Length of a whole key.
pub const KEY_LEN: usize = KEY_PREFIX.len() + ID_LEN + 1 + SECRET_LEN;

/// Makes a new key for `agent_id`. The full key is returned once, to be shown to the caller; the
/// record holds only what is needed to recognise it later.
///
/// Ids are 48 random bits: a collision is unlikely but possible, and storing the record then fails
/// with a conflict, so the caller should generate again.
pub fn generate(agent_id: &str, now: Timestamp, entropy: &dyn Entropy) -> (Secret, ApiKeyRecord) {
    let id: String = random_bytes::<{ ID_LEN / 2 }>(entropy)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let secret_bytes = Zeroizing::new(random_bytes::<32>(entropy));
    let secret_part = Zeroizing::new(URL_SAFE_NO_PAD.encode(secret_bytes.as_ref()));
    let record = ApiKeyRecord {
        id: id.clone(),
        agent_id: agent_id.to_owned(),
        secret_hash: secret_hash(&secret_part),
        created_at: now,
        revoked_at: None,
    };
    let mut key = String::with_capacity(KEY_LEN);
    key.push_str(KEY_PREFIX);
    key.push_str(&id);
    key.push('_');
    key.push_str(&secret_part);
    (Secret::new(key), record)
}

/// Splits a presented key into `(id, secret part)`, or `None` unless it has exactly the shape
/// [`generate`] produces. The length is checked first, so a huge input costs nothing.
pub fn parse(key: &str) -> Option<(&str, &str)> {
    if key.len() != KEY_LEN {
        return None;
    }
    let rest = key.strip_prefix(KEY_PREFIX)?;
    let (id, rest) = (rest.get(..ID_LEN)?, rest.get(ID_LEN..)?);
    let secret = rest.strip_prefix('_')?;
    let id_ok = id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    // Decoding also rejects a non-canonical last character, so each secret has one spelling.
    let secret_ok = secret.len() == SECRET_LEN
        && URL_SAFE_NO_PAD
            .decode(secret)
            .map(Zeroizing::new)
            .is_ok_and(|bytes| bytes.len() == 32);
    (id_ok && secret_ok).then_some((id, secret))
}

/// Whether `secret_part` is the secret of this key, which must not be revoked. The hashes are
/// compared in constant time, so response timing does not reveal how much of a guess was right.
pub fn matches(record: &ApiKeyRecord, secret_part: &str) -> bool {
    record.revoked_at.is_none() && bool::from(secret_hash(secret_part).ct_eq(&record.secret_hash))
}

/// SHA-256 of the secret part's text, as stored in [`ApiKeyRecord::secret_hash`].
fn secret_hash(secret_part: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, secret_part.as_bytes()).as_ref());
    out
}

#[cfg(test)]
mod tests;
