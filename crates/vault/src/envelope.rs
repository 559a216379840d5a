//! Envelope encryption: a fresh data key per secret version, the data key wrapped under the master key.
//!
//! Sealing one version of a secret:
//! 1. draw a random 256-bit data key and a random 96-bit nonce from the injected [`Entropy`];
//! 2. encrypt the plaintext with AES-256-GCM under the data key (`cipher.rs`);
//! 3. wrap the data key with [`MasterKey::seal`] (AES-256-GCM, its own fresh nonce);
//! 4. stamp the record with the master key's [`KeyId`], so a half-finished master-key rotation knows which
//!    key opens it.
//!
//! Both layers bind the secret's type, version and name and the envelope format as associated data, and
//! the key layer binds the [`KeyId`] as well: a ciphertext or wrapped key moved to another record, or a
//! record whose key id was edited, fails to open. Rotating the master key ([`rewrap`]) unwraps and
//! rewraps the data key only; the ciphertext is not touched and the plaintext is never seen.
//!
//! Data keys and plaintext live in [`Zeroizing`] buffers and are wiped when dropped.

use std::fmt;

use aws_lc_rs::hmac;
use warden_core::{Entropy, MasterKey, Sealed, SealingError, random_bytes};
use zeroize::Zeroizing;

use crate::cipher::{self, KEY_LEN, NONCE_LEN, TAG_LEN};
use crate::{SecretKind, SecretName, SecretVersion, VaultError};

/// The envelope format: written as the record's format byte and bound into both layers' associated data.
pub const FORMAT_VERSION: u8 = 1;

/// The largest plaintext sealed, in bytes: the serialized `data` limit ([`crate::MAX_DATA_LEN`]).
pub const MAX_PLAINTEXT_LEN: usize = crate::MAX_DATA_LEN;

/// A wrapped data key as `MasterKey::seal` lays it out: format byte, nonce, the 32 key bytes, tag.
pub(crate) const WRAPPED_KEY_LEN: usize = 1 + NONCE_LEN + KEY_LEN + TAG_LEN;

const KEY_ID_LEN: usize = 8;
const KEY_ID_LABEL: &[u8] = b"warden-vault master key id v1";

/// Which secret version a record belongs to; all three parts are bound into its encryption.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecretRef {
    pub name: SecretName,
    pub version: SecretVersion,
    pub kind: SecretKind,
}

/// Names a master key without revealing it: the first 8 bytes of HMAC-SHA256(master key, a fixed label),
/// shown as 16 hex digits. Two different keys share an id with probability 2⁻⁶⁴.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId([u8; KEY_ID_LEN]);

/// One secret version sealed under a master key: what the store keeps (see [`SealedSecret::encode`]).
/// None of it is secret; the plaintext is reachable only through [`open`] with the right master key.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedSecret {
    pub(crate) key_id: KeyId,
    pub(crate) wrapped_key: Sealed,
    pub(crate) nonce: [u8; NONCE_LEN],
    pub(crate) ciphertext: Vec<u8>,
}

impl KeyId {
    pub fn of(master: &MasterKey) -> Self {
        // The id is a PRF output under the key, so it says nothing about the key beyond telling keys
        // apart; this is the one use of the raw bytes besides writing the key file.
        let key = hmac::Key::new(hmac::HMAC_SHA256, master.expose_bytes());
        let tag = hmac::sign(&key, KEY_ID_LABEL);
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&tag.as_ref()[..KEY_ID_LEN]);
        KeyId(id)
    }

    pub const fn from_bytes(bytes: [u8; KEY_ID_LEN]) -> Self {
        KeyId(bytes)
    }

    pub const fn as_bytes(&self) -> &[u8; KEY_ID_LEN] {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

impl SealedSecret {
    /// The master key that wrapped this record's data key.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The data key sealed under the master key (`MasterKey::seal`'s layout).
    pub fn wrapped_key(&self) -> &[u8] {
        &self.wrapped_key.0
    }

    pub fn nonce(&self) -> &[u8; NONCE_LEN] {
        &self.nonce
    }

    /// The encrypted plaintext followed by its 16-byte tag.
    pub fn ciphertext(&self) -> &[u8] {
        &self.ciphertext
    }
}

impl fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedSecret")
            .field("key_id", &self.key_id)
            .field("ciphertext_len", &self.ciphertext.len())
            .finish_non_exhaustive()
    }
}

/// What each layer binds as associated data. Names contain no `:` and kinds are fixed words, so the
/// string cannot be read two ways.
fn ciphertext_binding(secret: &SecretRef) -> String {
    format!(
        "warden-vault:secret:v{FORMAT_VERSION}:{}:{}:{}",
        secret.kind.as_str(),
        secret.version,
        secret.name
    )
}

fn key_binding(key_id: KeyId, secret: &SecretRef) -> String {
    format!(
        "warden-vault:data-key:v{FORMAT_VERSION}:{key_id}:{}:{}:{}",
        secret.kind.as_str(),
        secret.version,
        secret.name
    )
}

/// Seals one version of a secret under `master`: a fresh data key and nonce every call.
pub fn seal(
    master: &MasterKey,
    entropy: &dyn Entropy,
    secret: &SecretRef,
    plaintext: &[u8],
) -> Result<SealedSecret, VaultError> {
    if plaintext.len() > MAX_PLAINTEXT_LEN {
        return Err(VaultError::DataTooLarge {
            len: plaintext.len(),
            max: MAX_PLAINTEXT_LEN,
        });
    }
    let mut data_key = Zeroizing::new([0u8; KEY_LEN]);
    entropy.fill(data_key.as_mut());
    let nonce = random_bytes::<NONCE_LEN>(entropy);
    let ciphertext = cipher::encrypt(&data_key, nonce, ciphertext_binding(secret).as_bytes(), plaintext)?;
    let key_id = KeyId::of(master);
    let wrapped_key = wrap(master, key_id, entropy, secret, &data_key)?;
    Ok(SealedSecret {
        key_id,
        wrapped_key,
        nonce,
        ciphertext,
    })
}

/// The plaintext of `sealed`, if `master` wrapped it and it belongs to `secret`; nothing otherwise.
pub fn open(master: &MasterKey, secret: &SecretRef, sealed: &SealedSecret) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    let data_key = unwrap(master, secret, sealed)?;
    cipher::decrypt(
        &data_key,
        sealed.nonce,
        ciphertext_binding(secret).as_bytes(),
        &sealed.ciphertext,
    )
}

/// Moves `sealed` from `old` to `new` by rewrapping its data key; the ciphertext is kept as it is.
///
/// A record already wrapped by `new` comes back unchanged, so finishing an interrupted rotation is a
/// matter of running it again over every record.
pub fn rewrap(
    old: &MasterKey,
    new: &MasterKey,
    entropy: &dyn Entropy,
    secret: &SecretRef,
    sealed: &SealedSecret,
) -> Result<SealedSecret, VaultError> {
    let new_id = KeyId::of(new);
    if sealed.key_id == new_id {
        return Ok(sealed.clone());
    }
    let data_key = unwrap(old, secret, sealed)?;
    let wrapped_key = wrap(new, new_id, entropy, secret, &data_key)?;
    Ok(SealedSecret {
        key_id: new_id,
        wrapped_key,
        nonce: sealed.nonce,
        ciphertext: sealed.ciphertext.clone(),
    })
}

fn wrap(
    master: &MasterKey,
    key_id: KeyId,
    entropy: &dyn Entropy,
    secret: &SecretRef,
    data_key: &[u8; KEY_LEN],
) -> Result<Sealed, VaultError> {
    master
        .seal(&key_binding(key_id, secret), data_key, entropy)
        .map_err(|_| VaultError::Encryption)
}

fn unwrap(
    master: &MasterKey,
    secret: &SecretRef,
    sealed: &SealedSecret,
) -> Result<Zeroizing<[u8; KEY_LEN]>, VaultError> {
    let opened = master.open(&key_binding(sealed.key_id, secret), &sealed.wrapped_key);
    match opened {
        Ok(bytes) => {
            let mut data_key = Zeroizing::new([0u8; KEY_LEN]);
            if bytes.len() != KEY_LEN {
                return Err(VaultError::MalformedRecord("the wrapped data key has the wrong length"));
            }
            data_key.copy_from_slice(&bytes);
            Ok(data_key)
        }
        // Only now is the id worth computing: it turns "failed" into "this is the other key".
        Err(SealingError::Authentication) => {
            let offered = KeyId::of(master);
            if offered == sealed.key_id {
                Err(VaultError::Decryption)
            } else {
                Err(VaultError::WrongMasterKey {
                    record: sealed.key_id,
                    offered,
                })
            }
        }
        Err(SealingError::Malformed | SealingError::KeyLength(_)) => {
            Err(VaultError::MalformedRecord("the wrapped data key is malformed"))
        }
    }
}

#[cfg(test)]
mod tests;
