//! Which tokens are dead before their time: revoked one by one, or with their whole refresh family.

use std::collections::HashMap;

use warden_core::Timestamp;

use super::Claims;
use crate::repo::Revocations;

/// The revocations in force, indexed for a lookup per verification.
#[derive(Debug, Clone, Default)]
pub struct RevocationList {
    tokens: HashMap<String, Timestamp>,
    families: HashMap<String, Timestamp>,
}

impl RevocationList {
    pub fn from_revocations(revocations: Revocations) -> Self {
        RevocationList {
            tokens: revocations.tokens.into_iter().collect(),
            families: revocations.families.into_iter().collect(),
        }
    }

    pub fn revoke_token(&mut self, jti: &str, until: Timestamp) {
        self.tokens.insert(jti.to_owned(), until);
    }

    pub fn revoke_family(&mut self, family_id: &str, until: Timestamp) {
        self.families.insert(family_id.to_owned(), until);
    }

    pub fn is_revoked(&self, claims: &Claims) -> bool {
        self.tokens.contains_key(&claims.jti) || claims.sid.as_ref().is_some_and(|sid| self.families.contains_key(sid))
    }

    /// Forgets entries whose tokens have expired anyway.
    pub fn purge(&mut self, now: Timestamp) {
        self.tokens.retain(|_, until| *until > now);
        self.families.retain(|_, until| *until > now);
    }

    pub fn len(&self) -> usize {
        self.tokens.len() + self.families.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
