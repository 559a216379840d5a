//! Passwords: the policy a new one must meet, argon2id hashing, reuse history and lockout.
//!
//! Nothing here stores or counts anything. The caller loads a [`PasswordRecord`], asks these
//! functions, and writes back what they return; the failure counter itself is incremented atomically
//! by the store ([`crate::repo::CredentialRepository::add_failed_attempt`]) so racing logins cannot
//! undercount.

use argon2::{ARGON2ID_IDENT, Algorithm, Argon2, Params, PasswordHash, Version};
use argon2::{PasswordHasher as _, PasswordVerifier as _};
use serde::Deserialize;
use warden_core::{Entropy, Seconds, Secret, Timestamp, random_bytes};

use crate::IdentityError;
use crate::repo::PasswordRecord;

/// Longest password accepted, in bytes. Argon2 hashes any length, but an unbounded input lets a
/// caller make every hash as slow as they like.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Salt length in bytes; 16 is what the argon2 RFC (9106) recommends.
const SALT_LEN: usize = 16;

/// What a new password must look like. Keys match the `password_policy` block of the seed
/// configuration; a key left out takes its default.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordPolicy {
    /// In characters (Unicode scalar values), not bytes, so non-ASCII passwords are not penalised.
    pub min_length: usize,
    pub require_uppercase: bool,
    pub require_lowercase: bool,
    pub require_numbers: bool,
    /// Anything that is not a letter or a digit counts as special, spaces included.
    pub require_special: bool,
    /// Days after which a password must be changed; `None` means never.
    pub max_age_days: Option<u32>,
    /// How many previous passwords are remembered and refused, besides the current one.
    pub history_size: u32,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_length: 12,
            require_uppercase: true,
            require_lowercase: true,
            require_numbers: true,
            require_special: true,
            max_age_days: Some(90),
            history_size: 5,
        }
    }
}

impl PasswordPolicy {
    /// Accepts the password or lists every rule it breaks, in words, so the user can fix them all
    /// at once. The messages never quote the password.
    pub fn check(&self, password: &Secret) -> Result<(), IdentityError> {
        let text = password.expose();
        let mut broken = Vec::new();
        // An empty password is refused even by a policy that sets `min_length: 0`.
        let min_length = self.min_length.max(1);
        if text.chars().count() < min_length {
            broken.push(format!("must be at least {min_length} characters long"));
        }
        if text.len() > MAX_PASSWORD_BYTES {
            broken.push(format!("must be at most {MAX_PASSWORD_BYTES} bytes long"));
        }
        let rules = [
            (
                self.require_uppercase,
                text.chars().any(char::is_uppercase),
                "an uppercase letter",
            ),
            (
                self.require_lowercase,
                text.chars().any(char::is_lowercase),
                "a lowercase letter",
            ),
            (self.require_numbers, text.chars().any(|c| c.is_numeric()), "a digit"),
            (
                self.require_special,
                text.chars().any(|c| !c.is_alphanumeric()),
                "a special character (not a letter or digit)",
            ),
        ];
        for (required, present, what) in rules {
            if required && !present {
                broken.push(format!("must contain {what}"));
            }
        }
        if broken.is_empty() {
            Ok(())
        } else {
            Err(IdentityError::WeakPassword(broken))
        }
    }
}

/// Whether the policy says this password is too old and must be changed.
pub fn expired(record: &PasswordRecord, policy: &PasswordPolicy, now: Timestamp) -> bool {
    match policy.max_age_days {
        Some(days) => now >= record.changed_at.plus(u64::from(days) * 86_400),
        None => false,
    }
}

/// How many failed logins lock an account, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Zero is treated as one: lockout cannot be switched off by accident.
    pub max_failed_attempts: u32,
    pub lockout_duration: Seconds,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        LockoutPolicy {
            max_failed_attempts: 5,
            lockout_duration: Seconds::new(300),
        }
    }
}

impl LockoutPolicy {
    /// After `attempts` consecutive failures at `now`: the end of the lock to impose, if any.
    pub fn lock_after(&self, attempts: u32, now: Timestamp) -> Option<Timestamp> {
        (attempts >= self.max_failed_attempts.max(1)).then(|| now.plus(self.lockout_duration.get()))
    }
}

/// The end of the account's lock if it is still locked at `now`. A lock that has run out no longer
/// counts, even before anyone clears it.
pub fn is_locked(record: &PasswordRecord, now: Timestamp) -> Option<Timestamp> {
    record.locked_until.filter(|until| now < *until)
}

/// Argon2id with fixed cost parameters. Hashes carry their parameters (PHC strings), so raising the
/// cost later still verifies every older hash.
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    params: Params,
    /// A well-formed hash with this hasher's parameters that no password matches: verifying
    /// against it costs what a real verification costs.
    dummy_phc: String,
}

impl Default for PasswordHasher {
    /// Argon2's defaults (m = 19456 KiB, t = 2, p = 1), OWASP's first recommendation for argon2id.
    fn default() -> Self {
        PasswordHasher::from_params(Params::DEFAULT)
    }
}

impl PasswordHasher {
    /// A hasher with explicit costs: memory in KiB, iterations, lanes. Tests use tiny values to run
    /// fast; production should keep the default or raise it.
    pub fn new(m_cost_kib: u32, t_cost: u32, p_cost: u32) -> Result<Self, IdentityError> {
        let params = Params::new(m_cost_kib, t_cost, p_cost, None).map_err(|e| IdentityError::Invalid {
            field: "argon2 parameters",
            reason: e.to_string(),
        })?;
        Ok(PasswordHasher::from_params(params))
    }

    fn from_params(params: Params) -> Self {
        // Salt is "saltsaltsaltsalt", output 32 zero bytes: syntactically valid, never a match.
        let dummy_phc = format!(
            "$argon2id$v=19$m={},t={},p={}$c2FsdHNhbHRzYWx0c2FsdA${}",
            params.m_cost(),
            params.t_cost(),
            params.p_cost(),
            "A".repeat(43),
        );
        PasswordHasher { params, dummy_phc }
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// Hashes with a fresh 16-byte salt drawn from `entropy`; returns the PHC string to store.
    pub fn hash(&self, password: &Secret, entropy: &dyn Entropy) -> Result<String, IdentityError> {
        if password.expose().len() > MAX_PASSWORD_BYTES {
            return Err(IdentityError::WeakPassword(vec![format!(
                "must be at most {MAX_PASSWORD_BYTES} bytes long"
            )]));
        }
        let salt = random_bytes::<SALT_LEN>(entropy);
        self.argon2()
            .hash_password_with_salt(password.expose().as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|_| IdentityError::Hashing)
    }

    /// Whether `password` matches the stored PHC string. Anything but a well-formed argon2id hash is
    /// a mismatch, so a corrupted or downgraded record cannot be logged into. Argon2 compares the
    /// outputs in constant time.
    pub fn verify(&self, password: &Secret, phc: &str) -> bool {
        if password.expose().len() > MAX_PASSWORD_BYTES {
            return false;
        }
        let Ok(hash) = PasswordHash::new(phc) else {
            return false;
        };
        hash.algorithm == ARGON2ID_IDENT
            && self
                .argon2()
                .verify_password(password.expose().as_bytes(), &hash)
                .is_ok()
    }

    /// Does the work of [`PasswordHasher::verify`] against a hash nothing matches. Call it when the
    /// identity is unknown, so that answer takes as long as a wrong password and does not reveal
    /// which identities exist.
    pub fn dummy_verify(&self, password: &Secret) {
        let matched = self.verify(password, &self.dummy_phc);
        std::hint::black_box(matched);
    }
}

/// Sets a new password: checks the policy, refuses the current password and the remembered ones,
/// and returns the record to store, with the history updated and failures and lock cleared.
///
/// `record` is the agent's current password record, `None` when it has none yet.
pub fn change(
    record: Option<&PasswordRecord>,
    new: &Secret,
    policy: &PasswordPolicy,
    hasher: &PasswordHasher,
    entropy: &dyn Entropy,
    agent_id: &str,
    now: Timestamp,
) -> Result<PasswordRecord, IdentityError> {
    policy.check(new)?;
    let remembered = usize::try_from(policy.history_size).unwrap_or(usize::MAX);
    let mut history = Vec::new();
    if let Some(record) = record {
        if record.agent_id != agent_id {
            return Err(IdentityError::Invalid {
                field: "agent_id",
                reason: "the password record belongs to another agent".into(),
            });
        }
        let previous = std::iter::once(&record.hash).chain(record.history.iter().take(remembered));
        for phc in previous {
            if hasher.verify(new, phc) {
                // The current password plus `history_size` earlier ones are refused.
                return Err(IdentityError::PasswordReused(policy.history_size.saturating_add(1)));
            }
        }
        // INVARIANT: newest first, at most `history_size` entries.
        history = std::iter::once(record.hash.clone())
            .chain(record.history.iter().cloned())
            .take(remembered)
            .collect();
    }
    Ok(PasswordRecord {
        agent_id: agent_id.to_owned(),
        hash: hasher.hash(new, entropy)?,
        changed_at: now,
        history,
        failed_attempts: 0,
        locked_until: None,
    })
}

#[cfg(test)]
mod tests;
