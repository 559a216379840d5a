//! The pure half of Warden-driven rotation of `database` secrets: what a rotatable secret's `data`
//! holds, which login role the next version gets, the generated password, and the SCRAM-SHA-256
//! verifier PostgreSQL stores for it.
//!
//! PostgreSQL keeps one password per role, so "the old password stays valid for a grace period" is
//! built from two roles: every version gets a login role of its own (`<base>_v<version>`), a member
//! of the group role that holds the privileges, and the previous version's role is given a
//! `VALID UNTIL`. [`DatabaseLogin`] reads the roles out of a secret's data, [`DatabaseLogin::next`]
//! plans the next step ([`RotationStep`]), [`generate_password`] draws the password and
//! [`scram_sha256_verifier`] turns it into what `CREATE ROLE … PASSWORD` is given, so the plaintext
//! never reaches the database server, its logs or its statistics.
//!
//! Nothing here talks to a database: the server runs the statements.

use std::fmt;
use std::num::NonZeroU32;

use aws_lc_rs::{digest, hmac, pbkdf2};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use warden_core::{Entropy, random_bytes};
use zeroize::Zeroizing;

use crate::name::shown;
use crate::{SecretData, SecretVersion, VaultError};

/// PostgreSQL's limit on identifiers, in bytes (`NAMEDATALEN - 1`).
pub const MAX_ROLE_NAME_LEN: usize = 63;

/// 22 characters of a 62-symbol alphabet carry 130.9 bits: the shortest password Warden generates.
pub const MIN_PASSWORD_LEN: u32 = 22;
pub const MAX_PASSWORD_LEN: u32 = 256;
pub const DEFAULT_PASSWORD_LEN: u32 = 32;

/// The iteration count PostgreSQL itself uses for SCRAM-SHA-256 verifiers (`scram_iterations`).
pub const SCRAM_ITERATIONS: u32 = 4096;

const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A PostgreSQL role name Warden will put in a statement: an ASCII letter or `_`, then letters,
/// digits and `_`, at most [`MAX_ROLE_NAME_LEN`] bytes, not starting with the reserved `pg_`. The
/// name is used exactly (quoted), so `App` and `app` are different roles, as in `pg_roles.rolname`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleName(String);

impl RoleName {
    /// `field` names where the name came from, for the error.
    pub fn new(field: &str, name: &str) -> Result<Self, VaultError> {
        let invalid = |reason: &str| VaultError::InvalidField {
            field: field.to_owned(),
            reason: format!("`{}` {reason}", shown(name)),
        };
        let mut chars = name.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(invalid(
                "is not a role name Warden rotates: an ASCII letter or `_`, then letters, digits and `_`",
            ));
        }
        if name.len() > MAX_ROLE_NAME_LEN {
            return Err(invalid(&format!("is longer than {MAX_ROLE_NAME_LEN} bytes")));
        }
        if name.get(..3).is_some_and(|prefix| prefix.eq_ignore_ascii_case("pg_")) {
            return Err(invalid("starts with `pg_`, which PostgreSQL reserves"));
        }
        Ok(RoleName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RoleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How many characters a generated password has: [`MIN_PASSWORD_LEN`] to [`MAX_PASSWORD_LEN`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordLength(u32);

impl PasswordLength {
    pub fn new(len: u32) -> Result<Self, VaultError> {
        if (MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&len) {
            Ok(PasswordLength(len))
        } else {
            Err(VaultError::InvalidField {
                field: "password_length".into(),
                reason: format!(
                    "{len} is outside {MIN_PASSWORD_LEN} to {MAX_PASSWORD_LEN} (at least 128 bits of 62 symbols)"
                ),
            })
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl Default for PasswordLength {
    fn default() -> Self {
        PasswordLength(DEFAULT_PASSWORD_LEN)
    }
}

/// The roles a rotatable `database` secret names: `username`, the login role of the current version,
/// and optionally `group`, the role that holds the privileges. Other fields (`password`, `host`,
/// `database`, …) are not read here and are carried over as they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseLogin {
    pub username: RoleName,
    pub group: Option<RoleName>,
}

/// One rotation: create `new_role` (a member of `group`), then let `previous` expire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationStep {
    pub previous: RoleName,
    pub group: RoleName,
    pub new_role: RoleName,
}

impl DatabaseLogin {
    /// Reads `username` (required) and `group` (optional) from a secret's data.
    pub fn from_data(data: &SecretData) -> Result<Self, VaultError> {
        let value = data.to_value()?;
        let field = |key: &str| -> Result<Option<RoleName>, VaultError> {
            match value.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(text)) => RoleName::new(&format!("data.{key}"), text).map(Some),
                Some(_) => Err(VaultError::InvalidField {
                    field: format!("data.{key}"),
                    reason: "must be a string (a PostgreSQL role name)".into(),
                }),
            }
        };
        let username = field("username")?.ok_or_else(|| VaultError::InvalidField {
            field: "data.username".into(),
            reason: "is missing: Warden-driven rotation needs the login role of the current version".into(),
        })?;
        Ok(DatabaseLogin {
            username,
            group: field("group")?,
        })
    }

    /// The step to `version`. The new role is named after the group (`<group>_v<version>`); a secret
    /// without a group has its login role take that place, so the first rotation makes the original
    /// role the group and every later version a member of it.
    pub fn next(&self, version: SecretVersion) -> Result<RotationStep, VaultError> {
        let group = self.group.clone().unwrap_or_else(|| self.username.clone());
        let new_role = RoleName::new("data.group", &format!("{group}_v{}", version.get())).map_err(|_| {
            VaultError::InvalidField {
                field: if self.group.is_some() { "data.group" } else { "data.username" }.into(),
                reason: format!(
                    "`{group}` is too long to name versioned roles after (`{group}_v{}` exceeds {MAX_ROLE_NAME_LEN} bytes)",
                    version.get()
                ),
            }
        })?;
        if new_role == self.username {
            return Err(VaultError::InvalidField {
                field: "data.username".into(),
                reason: format!("is already `{new_role}`, the role version {} would get", version.get()),
            });
        }
        Ok(RotationStep {
            previous: self.username.clone(),
            group,
            new_role,
        })
    }
}

/// `data` with `username`, `password` and `group` replaced by the new login; every other field kept.
pub fn with_login(
    data: &SecretData,
    username: &RoleName,
    password: &str,
    group: &RoleName,
) -> Result<SecretData, VaultError> {
    let mut value = data.to_value()?;
    if let Value::Object(map) = &mut value {
        map.insert("username".into(), Value::from(username.as_str()));
        map.insert("password".into(), Value::from(password));
        map.insert("group".into(), Value::from(group.as_str()));
    }
    // `from_value` wipes the strings of the value it consumes, the old and new password included.
    SecretData::from_value(value)
}

/// A password of `len` characters drawn uniformly from `[A-Za-z0-9]` (rejection sampling, so no
/// character is likelier than another): `len × log2(62)` bits, at least 130 at the shortest.
pub fn generate_password(entropy: &dyn Entropy, len: PasswordLength) -> Zeroizing<String> {
    let want = usize::try_from(len.get()).unwrap_or(usize::MAX);
    let mut out = Zeroizing::new(String::with_capacity(want));
    while out.len() < want {
        let batch = Zeroizing::new(random_bytes::<64>(entropy));
        // 248 = 4 × 62: bytes at or above it would favour the first symbols, so they are dropped.
        for byte in batch.iter().filter(|b| **b < 248) {
            if out.len() == want {
                break;
            }
            out.push(char::from(ALPHABET[usize::from(*byte) % ALPHABET.len()]));
        }
    }
    out
}

/// The SCRAM-SHA-256 verifier of `password` with `salt` (RFC 5802, RFC 7677), in the text form
/// PostgreSQL stores in `pg_authid.rolpassword` and accepts in `CREATE ROLE … PASSWORD`:
/// `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, base64. PostgreSQL applies SASLprep
/// to passwords, which leaves the ASCII letters and digits of [`generate_password`] unchanged.
///
/// The verifier does not let anyone log in, but it allows an offline guessing attack on the password
/// (hopeless against 130 random bits); it is still kept out of logs and errors.
pub fn scram_sha256_verifier(password: &str, salt: &[u8; 16]) -> Zeroizing<String> {
    let iterations = NonZeroU32::new(SCRAM_ITERATIONS).unwrap_or(NonZeroU32::MIN);
    let mut salted = Zeroizing::new([0u8; 32]);
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA256,
        iterations,
        salt,
        password.as_bytes(),
        salted.as_mut_slice(),
    );
    let key = hmac::Key::new(hmac::HMAC_SHA256, salted.as_slice());
    let client_key = hmac::sign(&key, b"Client Key");
    let stored_key = digest::digest(&digest::SHA256, client_key.as_ref());
    let server_key = hmac::sign(&key, b"Server Key");
    Zeroizing::new(format!(
        "SCRAM-SHA-256${}:{}${}:{}",
        iterations.get(),
        STANDARD.encode(salt),
        STANDARD.encode(stored_key.as_ref()),
        STANDARD.encode(server_key.as_ref()),
    ))
}

#[cfg(test)]
mod tests;
