//! The AES-256-GCM primitive that encrypts every secret's plaintext under its data key (aws-lc-rs).
//!
//! It takes the nonce from the caller so the Wycheproof vectors can drive it (`cipher/tests.rs`);
//! everything outside this module reaches it through [`crate::envelope`], which always draws a fresh
//! random nonce from the injected entropy. The master-key layer is `warden_core::MasterKey`, the same
//! aws-lc-rs AEAD behind a fresh-nonce-only interface.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use zeroize::{Zeroize, Zeroizing};

use crate::VaultError;

pub(crate) const KEY_LEN: usize = 32;
pub(crate) const NONCE_LEN: usize = aws_lc_rs::aead::NONCE_LEN;
pub(crate) const TAG_LEN: usize = 16;

fn aead(key: &[u8; KEY_LEN]) -> Result<LessSafeKey, VaultError> {
    // A 32-byte key always makes an AES-256 key; the error arm only keeps the signature honest.
    let unbound = UnboundKey::new(&AES_256_GCM, key).map_err(|_| VaultError::Encryption)?;
    Ok(LessSafeKey::new(unbound))
}

/// `plaintext` encrypted under `key` with `nonce`, authenticated with `aad`: ciphertext followed by the
/// 16-byte tag.
///
/// The caller guarantees the nonce is never reused with the same key; the vault does so by drawing a fresh
/// key and a fresh nonce for every secret version.
pub(crate) fn encrypt(
    key: &[u8; KEY_LEN],
    nonce: [u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, VaultError> {
    let key = aead(key)?;
    // Room for the tag up front: appending it must not reallocate while the buffer might still hold
    // plaintext.
    let mut buffer = Vec::with_capacity(plaintext.len() + TAG_LEN);
    buffer.extend_from_slice(plaintext);
    match key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut buffer) {
        Ok(()) => Ok(buffer),
        Err(_) => {
            buffer.zeroize();
            Err(VaultError::Encryption)
        }
    }
}

/// The plaintext of `ciphertext_and_tag`, or [`VaultError::Decryption`] if the key, nonce, `aad` or any
/// byte is not the one it was sealed with.
pub(crate) fn decrypt(
    key: &[u8; KEY_LEN],
    nonce: [u8; NONCE_LEN],
    aad: &[u8],
    ciphertext_and_tag: &[u8],
) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    if ciphertext_and_tag.len() < TAG_LEN {
        return Err(VaultError::Decryption);
    }
    let key = aead(key)?;
    let mut buffer = Zeroizing::new(ciphertext_and_tag.to_vec());
    let plaintext_len = key
        .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut buffer)
        .map_err(|_| VaultError::Decryption)?
        .len();
    buffer.truncate(plaintext_len);
    Ok(buffer)
}

#[cfg(test)]
mod tests;
