//! Ed25519 signing keys: generation, sealing at rest, rotation on a randomized schedule (seed 002's
//! "chaotic rotation"), grace periods, and the JWKS that publishes what verifies.
//!
//! The keyring itself is a value: the server loads it from [`SigningKeyRecord`]s, swaps in a new one
//! after a rotation, and asks it which key signs and which keys verify at a given instant.

use std::fmt;

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::EncodingKey;
use serde::Deserialize;
use serde_json::{Value, json};
use warden_core::{Entropy, MasterKey, Sealed, Seconds, Timestamp, random_bytes};
use zeroize::Zeroizing;

use crate::IdentityError;
use crate::repo::SigningKeyRecord;

pub const ALGORITHM: &str = "EdDSA";

/// When keys rotate: at a random instant between `min` and `max` after the last rotation, and how
/// long a retired key keeps verifying.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotationPolicy {
    pub min: Seconds,
    pub max: Seconds,
    pub grace: Seconds,
}

impl Default for RotationPolicy {
    fn default() -> Self {
        RotationPolicy {
            min: Seconds::hours(24),
            max: Seconds::hours(168),
            grace: Seconds::hours(24),
        }
    }
}

impl RotationPolicy {
    /// Picks the next rotation instant uniformly in `[now + min, now + max]`, so an observer cannot
    /// predict it.
    pub fn next_rotation(&self, now: Timestamp, entropy: &dyn Entropy) -> Timestamp {
        let (low, high) = (self.min.get(), self.max.get().max(self.min.get()));
        let span = high - low;
        let offset = if span == 0 {
            0
        } else {
            // Rejection sampling keeps the choice uniform (no modulo bias).
            let zone = u64::MAX - (u64::MAX % (span + 1));
            loop {
                let draw = u64::from_le_bytes(random_bytes::<8>(entropy));
                if draw < zone {
                    break draw % (span + 1);
                }
            }
        };
        now.plus(low + offset)
    }
}

/// A key that signs. The private half never leaves this value except sealed.
pub struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    public: [u8; 32],
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub(crate) fn encoding_key(&self) -> &EncodingKey {
        &self.encoding
    }
}

/// A key that verifies, until `verify_until` if it has been retired.
pub struct VerifyingKey {
    kid: String,
    public: [u8; 32],
    /// Parsed once at load: verification is on the hot path of every request.
    dalek: ed25519_dalek::VerifyingKey,
    verify_until: Option<Timestamp>,
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("kid", &self.kid)
            .field("verify_until", &self.verify_until)
            .finish_non_exhaustive()
    }
}

impl VerifyingKey {
    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub(crate) fn ed25519(&self) -> &ed25519_dalek::VerifyingKey {
        &self.dalek
    }

    pub fn verifies_at(&self, now: Timestamp) -> bool {
        self.verify_until.is_none_or(|until| now < until)
    }

    fn jwk(&self) -> Value {
        json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": URL_SAFE_NO_PAD.encode(self.public),
            "kid": self.kid,
            "alg": ALGORITHM,
            "use": "sig",
        })
    }
}

/// The current signing key and every key that still verifies.
#[derive(Debug)]
pub struct Keyring {
    current: SigningKey,
    verifiers: Vec<VerifyingKey>,
}

fn seal_context(kid: &str) -> String {
    format!("signing-key:{kid}")
}

/// The record with its private key re-sealed under `new`; `None` when `new` already opens it.
pub fn reseal_key(
    record: &SigningKeyRecord,
    old: &MasterKey,
    new: &MasterKey,
    entropy: &dyn Entropy,
) -> Result<Option<SigningKeyRecord>, IdentityError> {
    let sealed = Sealed(record.sealed_private_key.clone());
    Ok(
        MasterKey::reseal(old, new, &seal_context(&record.kid), &sealed, entropy)?.map(|sealed| SigningKeyRecord {
            sealed_private_key: sealed.0,
            ..record.clone()
        }),
    )
}

/// Makes a fresh Ed25519 key. The kid reads like seed 002's (`key-2026-11-22-3f9a1c07`): a date for
/// operators and random hex so kids never collide or reveal the schedule.
pub fn generate_key(
    now: Timestamp,
    master: &MasterKey,
    entropy: &dyn Entropy,
) -> Result<SigningKeyRecord, IdentityError> {
    let seed = Zeroizing::new(random_bytes::<32>(entropy));
    let pair = Ed25519KeyPair::from_seed_unchecked(seed.as_ref())
        .map_err(|_| IdentityError::BadKey("signing key", "seed rejected".into()))?;
    let pkcs8 = pair
        .to_pkcs8v1()
        .map_err(|_| IdentityError::BadKey("signing key", "pkcs8 encoding failed".into()))?;
    let date = now.rfc3339().get(..10).unwrap_or("undated").to_owned();
    let suffix: String = random_bytes::<4>(entropy).iter().map(|b| format!("{b:02x}")).collect();
    let kid = format!("key-{date}-{suffix}");
    let sealed = master.seal(&seal_context(&kid), pkcs8.as_ref(), entropy)?;
    Ok(SigningKeyRecord {
        kid,
        algorithm: ALGORITHM.to_owned(),
        sealed_private_key: sealed.0,
        public_key: pair.public_key().as_ref().to_vec(),
        created_at: now,
        retired_at: None,
        verify_until: None,
    })
}

impl Keyring {
    /// Builds the keyring from stored records: the newest unretired key signs; it and every retired
    /// key still inside its grace period verify. `None` when no key is current (first start).
    pub fn load(
        records: &[SigningKeyRecord],
        master: &MasterKey,
        now: Timestamp,
    ) -> Result<Option<Keyring>, IdentityError> {
        let Some(current_record) = records
            .iter()
            .filter(|r| r.retired_at.is_none())
            .max_by_key(|r| r.created_at)
        else {
            return Ok(None);
        };
        let current = open_signing_key(current_record, master)?;
        let mut verifiers = Vec::new();
        for record in records {
            let key = verifying_key(record)?;
            let is_current = record.kid == current_record.kid;
            if is_current || key.verifies_at(now) && record.verify_until.is_some() {
                verifiers.push(VerifyingKey {
                    verify_until: if is_current { None } else { key.verify_until },
                    ..key
                });
            }
        }
        Ok(Some(Keyring { current, verifiers }))
    }

    pub fn current(&self) -> &SigningKey {
        &self.current
    }

    /// The key named `kid` if it verifies at `now`.
    pub fn verifier(&self, kid: &str, now: Timestamp) -> Option<&VerifyingKey> {
        self.verifiers.iter().find(|k| k.kid == kid && k.verifies_at(now))
    }

    /// `{"keys": [...]}` with the current key and every key in its grace period at `now`.
    pub fn jwks(&self, now: Timestamp) -> Value {
        let keys: Vec<Value> = self
            .verifiers
            .iter()
            .filter(|k| k.verifies_at(now))
            .map(VerifyingKey::jwk)
            .collect();
        json!({ "keys": keys })
    }

    /// The raw public key of the current signer (for tests and tools).
    pub fn current_public_key(&self) -> [u8; 32] {
        self.current.public
    }
}

fn open_signing_key(record: &SigningKeyRecord, master: &MasterKey) -> Result<SigningKey, IdentityError> {
    let pkcs8 = master.open(
        &seal_context(&record.kid),
        &warden_core::Sealed(record.sealed_private_key.clone()),
    )?;
    let pair = Ed25519KeyPair::from_pkcs8(&pkcs8).map_err(|_| {
        IdentityError::BadKey(
            "signing key",
            format!("stored key `{}` is not Ed25519 PKCS#8", record.kid),
        )
    })?;
    let public: [u8; 32] = pair
        .public_key()
        .as_ref()
        .try_into()
        .map_err(|_| IdentityError::BadKey("signing key", "public key length".into()))?;
    if public.as_slice() != record.public_key.as_slice() {
        return Err(IdentityError::BadKey(
            "signing key",
            format!("stored key `{}` does not match its public key", record.kid),
        ));
    }
    Ok(SigningKey {
        kid: record.kid.clone(),
        encoding: EncodingKey::from_ed_der(&pkcs8),
        public,
    })
}

fn verifying_key(record: &SigningKeyRecord) -> Result<VerifyingKey, IdentityError> {
    if record.algorithm != ALGORITHM {
        return Err(IdentityError::BadKey(
            "signing key",
            format!("unsupported algorithm `{}`", record.algorithm),
        ));
    }
    let public: [u8; 32] = record
        .public_key
        .as_slice()
        .try_into()
        .map_err(|_| IdentityError::BadKey("signing key", format!("`{}` public key length", record.kid)))?;
    let dalek = ed25519_dalek::VerifyingKey::from_bytes(&public)
        .map_err(|_| IdentityError::BadKey("signing key", format!("`{}` is not an Ed25519 point", record.kid)))?;
    Ok(VerifyingKey {
        kid: record.kid.clone(),
        public,
        dalek,
        verify_until: record.verify_until,
    })
}

#[cfg(test)]
mod tests;
