//! Secret names and versions: the two halves of a secret's address.
//!
//! A name is path-safe by construction, so it can sit in a URL path, a policy resource
//! (`secret:<name>`), a log line or a file name without escaping:
//! - 1 to [`MAX_NAME_LEN`] bytes of ASCII letters, digits, `.`, `_`, `-` and `/`;
//! - `/` separates segments: no leading or trailing `/`, no empty segment (`//`);
//! - no segment is `.` or `..`.
//!
//! `prod/openai`, `team-a/db/primary.password` and `stripe_live` are names; `/prod`, `prod/`, `a//b`,
//! `a/../b`, `a b` and `prod:db` are not.

use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::VaultError;

/// The longest name accepted, in bytes.
pub const MAX_NAME_LEN: usize = 200;

/// How much of a refused input an error message repeats.
const SHOWN_LEN: usize = 64;

/// A validated secret name; see the module documentation for the rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SecretName(String);

/// A secret's version: 1 for the first value, one more for every rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SecretVersion(NonZeroU32);

/// Refused input as an error message repeats it: at most [`SHOWN_LEN`] characters, control characters
/// escaped, so a hostile name cannot flood or forge a log line.
pub(crate) fn shown(text: &str) -> String {
    let mut out: String = text.chars().take(SHOWN_LEN).flat_map(char::escape_debug).collect();
    if text.chars().nth(SHOWN_LEN).is_some() {
        out.push('…');
    }
    out
}

impl SecretName {
    pub fn new(name: impl Into<String>) -> Result<Self, VaultError> {
        let name = name.into();
        match refusal(&name) {
            None => Ok(SecretName(name)),
            Some(reason) => Err(VaultError::InvalidName {
                name: shown(&name),
                reason,
            }),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why `name` breaks the rule, or `None` if it keeps it.
fn refusal(name: &str) -> Option<&'static str> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Some("a name is 1 to 200 characters");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/'))
    {
        return Some("use only letters, digits, `.`, `_`, `-` and `/`");
    }
    if name.starts_with('/') || name.ends_with('/') {
        return Some("a name neither starts nor ends with `/`");
    }
    for segment in name.split('/') {
        match segment {
            "" => return Some("a name has no empty segment (`//`)"),
            "." | ".." => return Some("no segment of a name is `.` or `..`"),
            _ => {}
        }
    }
    None
}

impl FromStr for SecretName {
    type Err = VaultError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        SecretName::new(text)
    }
}

impl TryFrom<String> for SecretName {
    type Error = VaultError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        SecretName::new(text)
    }
}

impl fmt::Display for SecretName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for SecretName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SecretName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        SecretName::new(String::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

impl SecretVersion {
    pub const FIRST: SecretVersion = SecretVersion(NonZeroU32::MIN);

    /// `None` for 0, which is never a version.
    pub const fn new(version: u32) -> Option<Self> {
        match NonZeroU32::new(version) {
            Some(v) => Some(SecretVersion(v)),
            None => None,
        }
    }

    pub const fn get(self) -> u32 {
        self.0.get()
    }

    /// The version a rotation creates; `None` after `u32::MAX` rotations.
    pub const fn next(self) -> Option<Self> {
        match self.0.checked_add(1) {
            Some(v) => Some(SecretVersion(v)),
            None => None,
        }
    }
}

impl FromStr for SecretVersion {
    type Err = VaultError;

    /// Decimal digits only (`?version=3`): no sign, no spaces, not 0.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || VaultError::InvalidVersion { version: shown(text) };
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        text.parse::<u32>()
            .ok()
            .and_then(SecretVersion::new)
            .ok_or_else(invalid)
    }
}

impl fmt::Display for SecretVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for SecretVersion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u32(self.get())
    }
}

impl<'de> Deserialize<'de> for SecretVersion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let version = u32::deserialize(deserializer)?;
        SecretVersion::new(version).ok_or_else(|| serde::de::Error::custom("versions count up from 1"))
    }
}

#[cfg(test)]
mod tests;
