//! The types of secret the vault keeps. The type is part of a secret's identity: it is bound into the
//! encryption, it picks the rotation interval, and it decides which rotation hooks apply.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::VaultError;

/// A secret's type, written in `snake_case` on the wire (`api_key`, `database`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SecretKind {
    /// A key for a model provider or another HTTP API.
    ApiKey,
    /// Database credentials (rotated by the configured exception for `database`).
    Database,
    Password,
    Certificate,
    /// Payment processor credentials.
    Payment,
    Generic,
}

impl SecretKind {
    /// Every kind, in the order error messages list them.
    pub const ALL: [SecretKind; 6] = [
        SecretKind::ApiKey,
        SecretKind::Database,
        SecretKind::Password,
        SecretKind::Certificate,
        SecretKind::Payment,
        SecretKind::Generic,
    ];

    /// Seed 001's rotation example says `database_password`; it names the same thing as `database`, so
    /// it is accepted on input and written back as `database`.
    const ALIASES: [(&'static str, SecretKind); 1] = [("database_password", SecretKind::Database)];

    /// The wire name.
    // INVARIANT: these strings are bound into every sealed record's associated data; renaming one
    // makes every secret of that kind undecryptable.
    pub const fn as_str(self) -> &'static str {
        match self {
            SecretKind::ApiKey => "api_key",
            SecretKind::Database => "database",
            SecretKind::Password => "password",
            SecretKind::Certificate => "certificate",
            SecretKind::Payment => "payment",
            SecretKind::Generic => "generic",
        }
    }

    /// The accepted names, for error messages: "`api_key`, `database`, … or `generic`".
    pub fn allowed() -> String {
        let names: Vec<String> = Self::ALL.iter().map(|k| format!("`{}`", k.as_str())).collect();
        match names.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
            _ => names.concat(),
        }
    }
}

impl FromStr for SecretKind {
    type Err = VaultError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
            .or_else(|| {
                Self::ALIASES
                    .iter()
                    .find(|(alias, _)| *alias == text)
                    .map(|(_, kind)| *kind)
            })
            .ok_or_else(|| VaultError::UnknownKind {
                given: crate::name::shown(text),
            })
    }
}

impl fmt::Display for SecretKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for SecretKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SecretKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests;
