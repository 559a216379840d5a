//! A bounded cache of verified tokens keyed by the SHA-256 of the token, so a passport presented many
//! times is verified once. A hit is re-checked against the clock (expiry) and the keyring (the key
//! must still verify), and the caller still checks revocation and the agent's status.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_lc_rs::digest::{SHA256, digest};
use warden_core::Timestamp;

use super::{Claims, Expectations, TokenError, TokenKind, check_claims, verify};
use crate::keyring::Keyring;

#[derive(Debug)]
pub struct VerifiedCache {
    capacity: usize,
    entries: Mutex<HashMap<[u8; 32], Arc<Entry>>>,
}

#[derive(Debug)]
struct Entry {
    kid: String,
    claims: Claims,
}

impl VerifiedCache {
    pub fn new(capacity: usize) -> Self {
        VerifiedCache {
            capacity: capacity.max(1),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Verifies `token`, from the cache when it was verified before.
    pub fn verify(
        &self,
        token: &str,
        kind: TokenKind,
        keyring: &Keyring,
        expect: &Expectations,
        now: Timestamp,
    ) -> Result<Claims, TokenError> {
        if token.len() > super::MAX_TOKEN_BYTES {
            return Err(TokenError::TooLarge);
        }
        let key: [u8; 32] = digest(&SHA256, token.as_bytes())
            .as_ref()
            .try_into()
            .map_err(|_| TokenError::Malformed)?;
        let cached = self.entries.lock().ok().and_then(|map| map.get(&key).cloned());
        if let Some(entry) = cached {
            if keyring.verifier(&entry.kid, now).is_none() {
                self.remove(&key);
                return Err(TokenError::UnknownKey);
            }
            check_claims(&entry.claims, kind, expect, now)?;
            return Ok(entry.claims.clone());
        }
        let claims = verify(token, kind, keyring, expect, now)?;
        let header = token.split('.').next().unwrap_or_default();
        let kid = super::check_header(header).unwrap_or_default();
        self.insert(
            key,
            Entry {
                kid,
                claims: claims.clone(),
            },
            now,
        );
        Ok(claims)
    }

    pub fn len(&self) -> usize {
        self.entries.lock().map(|m| m.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn remove(&self, key: &[u8; 32]) {
        if let Ok(mut map) = self.entries.lock() {
            map.remove(key);
        }
    }

    fn insert(&self, key: [u8; 32], entry: Entry, now: Timestamp) {
        let Ok(mut map) = self.entries.lock() else { return };
        if map.len() >= self.capacity {
            map.retain(|_, e| e.claims.exp > now.unix());
        }
        if map.len() >= self.capacity {
            // Still full of live tokens: drop an arbitrary half rather than grow without bound.
            let keep = self.capacity / 2;
            let mut kept = 0;
            map.retain(|_, _| {
                kept += 1;
                kept <= keep
            });
        }
        map.insert(key, Arc::new(entry));
    }
}
