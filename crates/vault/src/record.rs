//! The byte format of a [`SealedSecret`] at rest: strict, versioned, and canonical (one record, one
//! encoding), so the decoder can be fed anything and either refuses it or returns the record that
//! encodes back to the very same bytes.
//!
//! Format 1, integers big-endian:
//!
//! | bytes | field |
//! | --- | --- |
//! | 4 | magic `WVLT` |
//! | 1 | format, `1` ([`FORMAT_VERSION`]) |
//! | 8 | [`crate::KeyId`] of the master key that wrapped the data key |
//! | 61 | the wrapped data key: `MasterKey::seal`'s format byte, nonce (12), key (32), tag (16) |
//! | 12 | the nonce of the secret's ciphertext |
//! | 4 | `n`, the ciphertext's length: 16 ≤ `n` ≤ [`MAX_PLAINTEXT_LEN`] + 16 |
//! | n | the ciphertext followed by its 16-byte tag |
//!
//! Nothing may follow. The name, version and type are not in the record: the store keeps them beside
//! it, and the encryption is bound to them, so a record read back under another address fails to open.

use crate::VaultError;
use crate::cipher::{NONCE_LEN, TAG_LEN};
use crate::envelope::{FORMAT_VERSION, KeyId, MAX_PLAINTEXT_LEN, SealedSecret, WRAPPED_KEY_LEN};
use warden_core::Sealed;

const MAGIC: &[u8; 4] = b"WVLT";
const KEY_ID_LEN: usize = 8;
const HEADER_LEN: usize = MAGIC.len() + 1 + KEY_ID_LEN + WRAPPED_KEY_LEN + NONCE_LEN + 4;
const MAX_CIPHERTEXT_LEN: usize = MAX_PLAINTEXT_LEN + TAG_LEN;

/// The smallest and largest encoded record, in bytes.
pub const MIN_RECORD_LEN: usize = HEADER_LEN + TAG_LEN;
pub const MAX_RECORD_LEN: usize = HEADER_LEN + MAX_CIPHERTEXT_LEN;

impl SealedSecret {
    /// The record in format 1 (see the module documentation).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + self.ciphertext.len());
        out.extend_from_slice(MAGIC);
        out.push(FORMAT_VERSION);
        out.extend_from_slice(self.key_id.as_bytes());
        out.extend_from_slice(&self.wrapped_key.0);
        out.extend_from_slice(&self.nonce);
        // INVARIANT: the ciphertext is at most MAX_CIPHERTEXT_LEN bytes (seal refuses larger plaintext and
        // decode larger records), which fits a u32.
        let len = u32::try_from(self.ciphertext.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&self.ciphertext);
        out
    }

    /// Reads a record written by [`SealedSecret::encode`]; refuses anything else without panicking.
    pub fn decode(bytes: &[u8]) -> Result<SealedSecret, VaultError> {
        let mut input = Reader(bytes);
        if input.take(MAGIC.len())? != MAGIC {
            return Err(VaultError::MalformedRecord("not a vault record (bad magic)"));
        }
        if input.array::<1>()? != [FORMAT_VERSION] {
            return Err(VaultError::MalformedRecord("unknown record format"));
        }
        let key_id = KeyId::from_bytes(input.array()?);
        let wrapped_key = Sealed(input.take(WRAPPED_KEY_LEN)?.to_vec());
        let nonce = input.array::<NONCE_LEN>()?;
        let len = usize::try_from(u32::from_be_bytes(input.array()?)).unwrap_or(usize::MAX);
        if !(TAG_LEN..=MAX_CIPHERTEXT_LEN).contains(&len) {
            return Err(VaultError::MalformedRecord("ciphertext length out of range"));
        }
        let ciphertext = input.take(len)?.to_vec();
        if !input.0.is_empty() {
            return Err(VaultError::MalformedRecord("trailing bytes after the ciphertext"));
        }
        Ok(SealedSecret {
            key_id,
            wrapped_key,
            nonce,
            ciphertext,
        })
    }
}

/// The unread rest of a record.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], VaultError> {
        let (head, rest) = self
            .0
            .split_at_checked(n)
            .ok_or(VaultError::MalformedRecord("the record is truncated"))?;
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], VaultError> {
        self.take(N)?
            .try_into()
            .map_err(|_| VaultError::MalformedRecord("the record is truncated"))
    }
}

#[cfg(test)]
mod tests;
