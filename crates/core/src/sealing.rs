//! Sealing key material at rest under the master key: AES-256-GCM (aws-lc-rs), a fresh random nonce per
//! seal, and a context string bound as associated data so a sealed blob moved to another record fails
//! to open.
//!
//! Layout of a sealed blob: `version (1 byte) || nonce (12 bytes) || ciphertext || tag (16 bytes)`.

use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use zeroize::{Zeroize, Zeroizing};

use crate::{Entropy, random_bytes};

const FORMAT_VERSION: u8 = 1;
pub const MASTER_KEY_LEN: usize = 32;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealingError {
    #[error("the master key must be {MASTER_KEY_LEN} bytes, got {0}")]
    KeyLength(usize),
    #[error("sealed data is malformed")]
    Malformed,
    /// Wrong key, wrong context, or tampered bytes: AES-GCM cannot tell which, and neither do we.
    #[error("sealed data failed authentication (wrong master key, wrong record, or tampered)")]
    Authentication,
}

/// The key that wraps every other key Warden keeps. Zeroized on drop; `Debug` shows nothing.
pub struct MasterKey(Zeroizing<[u8; MASTER_KEY_LEN]>);

/// Bytes sealed under a [`MasterKey`].
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed(pub Vec<u8>);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sealed({} bytes)", self.0.len())
    }
}

impl MasterKey {
    pub fn generate(entropy: &dyn Entropy) -> Self {
        MasterKey(Zeroizing::new(random_bytes::<MASTER_KEY_LEN>(entropy)))
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SealingError> {
        let array: [u8; MASTER_KEY_LEN] = bytes.try_into().map_err(|_| SealingError::KeyLength(bytes.len()))?;
        Ok(MasterKey(Zeroizing::new(array)))
    }

    /// The raw key, for writing the key file; nothing else should need it.
    pub fn expose_bytes(&self) -> &[u8; MASTER_KEY_LEN] {
        &self.0
    }

    fn aead(&self) -> Result<LessSafeKey, SealingError> {
        let unbound = UnboundKey::new(&AES_256_GCM, self.0.as_ref()).map_err(|_| SealingError::KeyLength(0))?;
        Ok(LessSafeKey::new(unbound))
    }

    /// Seals `plaintext`, binding `context` (for example `signing-key:<kid>`) as associated data.
    pub fn seal(&self, context: &str, plaintext: &[u8], entropy: &dyn Entropy) -> Result<Sealed, SealingError> {
        let key = self.aead()?;
        let nonce_bytes = random_bytes::<NONCE_LEN>(entropy);
        let mut buffer = plaintext.to_vec();
        let sealed = key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce_bytes),
            Aad::from(context.as_bytes()),
            &mut buffer,
        );
        if sealed.is_err() {
            buffer.zeroize();
            return Err(SealingError::Malformed);
        }
        let mut out = Vec::with_capacity(1 + NONCE_LEN + buffer.len());
        out.push(FORMAT_VERSION);
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&buffer);
        Ok(Sealed(out))
    }

    /// Moves `sealed` from `old` to `new` (master-key rotation): `None` when `new` already opens it, so
    /// finishing an interrupted rotation is running it again.
    pub fn reseal(
        old: &MasterKey,
        new: &MasterKey,
        context: &str,
        sealed: &Sealed,
        entropy: &dyn Entropy,
    ) -> Result<Option<Sealed>, SealingError> {
        if new.open(context, sealed).is_ok() {
            return Ok(None);
        }
        let plaintext = old.open(context, sealed)?;
        new.seal(context, &plaintext, entropy).map(Some)
    }

    /// Opens what [`MasterKey::seal`] sealed under the same `context`.
    pub fn open(&self, context: &str, sealed: &Sealed) -> Result<Zeroizing<Vec<u8>>, SealingError> {
        let bytes = &sealed.0;
        if bytes.len() < 1 + NONCE_LEN + AES_256_GCM.tag_len() || bytes[0] != FORMAT_VERSION {
            return Err(SealingError::Malformed);
        }
        let nonce: [u8; NONCE_LEN] = bytes[1..1 + NONCE_LEN]
            .try_into()
            .map_err(|_| SealingError::Malformed)?;
        let mut buffer = Zeroizing::new(bytes[1 + NONCE_LEN..].to_vec());
        let key = self.aead()?;
        let plaintext_len = key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut buffer,
            )
            .map_err(|_| SealingError::Authentication)?
            .len();
        buffer.truncate(plaintext_len);
        Ok(buffer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SystemEntropy;

    fn key() -> MasterKey {
        MasterKey::generate(&SystemEntropy)
    }

    #[test]
    fn round_trips_under_the_same_context() {
        let key = key();
        let sealed = key.seal("signing-key:k1", b"private key bytes", &SystemEntropy);
        let sealed = sealed.unwrap_or(Sealed(Vec::new()));
        let opened = key.open("signing-key:k1", &sealed);
        assert_eq!(opened.map(|p| p.to_vec()), Ok(b"private key bytes".to_vec()));
    }

    #[test]
    fn refuses_another_context_another_key_or_a_flipped_bit() {
        let key = key();
        let Ok(sealed) = key.seal("signing-key:k1", b"secret", &SystemEntropy) else {
            unreachable!("sealing with a valid key succeeds")
        };
        assert_eq!(
            key.open("signing-key:k2", &sealed).err(),
            Some(SealingError::Authentication)
        );
        assert_eq!(
            super::MasterKey::generate(&SystemEntropy)
                .open("signing-key:k1", &sealed)
                .err(),
            Some(SealingError::Authentication)
        );
        for i in 0..sealed.0.len() {
            let mut tampered = sealed.clone();
            tampered.0[i] ^= 0x01;
            assert!(
                key.open("signing-key:k1", &tampered).is_err(),
                "flipping byte {i} went unnoticed"
            );
        }
    }

    #[test]
    fn nonces_are_fresh() {
        let key = key();
        let a = key.seal("c", b"same", &SystemEntropy).map(|s| s.0);
        let b = key.seal("c", b"same", &SystemEntropy).map(|s| s.0);
        assert_ne!(a, b);
    }

    #[test]
    fn rejects_wrong_key_length() {
        assert_eq!(
            MasterKey::from_bytes(&[0u8; 16]).err(),
            Some(SealingError::KeyLength(16))
        );
    }
}
