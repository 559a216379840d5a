//! Rotation policies: how many days a secret version may live before it is due for rotation.
//!
//! The interval of a secret is, first match wins: its own `rotation_days`; the configured exception for
//! its type; the configured `default_days`; otherwise none (it is never due). The configuration is seed
//! 001's, accepted as written:
//!
//! ```yaml
//! credential_rotation:
//!   default_days: 30
//!   exceptions:
//!     - type: database_password   # seed 001's word for `database`
//!       days: 15
//! ```
//!
//! Days are whole days of 86,400 seconds counted from when the current version was stored, from 1 to
//! [`MAX_ROTATION_DAYS`]. Everything here is a function of its arguments: the caller supplies `now`.

use std::collections::BTreeMap;
use std::fmt;
use std::num::NonZeroU32;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use warden_core::{Seconds, Timestamp};

use crate::{SecretKind, VaultError};

/// The longest interval accepted: a hundred years.
pub const MAX_ROTATION_DAYS: u32 = 36_500;

/// A rotation interval in whole days, 1 to [`MAX_ROTATION_DAYS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RotationDays(NonZeroU32);

/// The configured intervals: a default and per-type exceptions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RotationPolicy {
    default_days: Option<RotationDays>,
    exceptions: BTreeMap<SecretKind, RotationDays>,
}

/// `credential_rotation` as configuration files write it (seed 001).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRotationConfig {
    #[serde(default)]
    pub default_days: Option<u32>,
    #[serde(default)]
    pub exceptions: Vec<RawRotationException>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRotationException {
    #[serde(rename = "type")]
    pub kind: String,
    pub days: u32,
}

impl RotationDays {
    pub fn new(days: u32) -> Result<Self, VaultError> {
        NonZeroU32::new(days)
            .filter(|d| d.get() <= MAX_ROTATION_DAYS)
            .map(RotationDays)
            .ok_or_else(|| VaultError::InvalidField {
                field: "rotation_days".to_owned(),
                reason: format!("`{days}` is not 1 to {MAX_ROTATION_DAYS} days"),
            })
    }

    pub const fn get(self) -> u32 {
        self.0.get()
    }

    pub const fn as_seconds(self) -> Seconds {
        Seconds::days(self.0.get() as u64)
    }
}

impl fmt::Display for RotationDays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} days", self.0)
    }
}

impl Serialize for RotationDays {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u32(self.get())
    }
}

impl<'de> Deserialize<'de> for RotationDays {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        RotationDays::new(u32::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

impl RotationPolicy {
    /// No configured rotation: only secrets with their own `rotation_days` are ever due.
    pub fn none() -> Self {
        RotationPolicy::default()
    }

    pub fn with_default(days: RotationDays) -> Self {
        RotationPolicy {
            default_days: Some(days),
            exceptions: BTreeMap::new(),
        }
    }

    /// The same policy with `kind` rotated every `days` instead.
    pub fn with_exception(mut self, kind: SecretKind, days: RotationDays) -> Self {
        self.exceptions.insert(kind, days);
        self
    }

    pub fn default_days(&self) -> Option<RotationDays> {
        self.default_days
    }

    /// The interval that applies: the secret's own, else its type's exception, else the default.
    pub fn interval(&self, kind: SecretKind, per_secret: Option<RotationDays>) -> Option<RotationDays> {
        per_secret
            .or_else(|| self.exceptions.get(&kind).copied())
            .or(self.default_days)
    }

    /// When a version stored at `created_at` is due for rotation; `None` if no interval applies.
    pub fn due_at(
        &self,
        created_at: Timestamp,
        kind: SecretKind,
        per_secret: Option<RotationDays>,
    ) -> Option<Timestamp> {
        self.interval(kind, per_secret)
            .map(|days| created_at.plus(days.as_seconds().get()))
    }
}

/// Whether a version due at `due_at` must be rotated by `now` (the due instant itself counts).
pub fn is_due(due_at: Option<Timestamp>, now: Timestamp) -> bool {
    due_at.is_some_and(|due| due <= now)
}

/// Whether `due_at` falls within `days` days of `now`, or has already passed: what
/// `GET /v1/secrets-expiring?days=N` lists.
pub fn expiring_within(due_at: Option<Timestamp>, now: Timestamp, days: u32) -> bool {
    let horizon = now.plus(Seconds::days(u64::from(days)).get());
    due_at.is_some_and(|due| due <= horizon)
}

impl TryFrom<RawRotationConfig> for RotationPolicy {
    type Error = VaultError;

    fn try_from(raw: RawRotationConfig) -> Result<Self, Self::Error> {
        let default_days = raw
            .default_days
            .map(RotationDays::new)
            .transpose()
            .map_err(|e| invalid("credential_rotation.default_days".to_owned(), e))?;
        let mut exceptions = BTreeMap::new();
        for (i, exception) in raw.exceptions.into_iter().enumerate() {
            let path = format!("credential_rotation.exceptions[{i}]");
            let kind: SecretKind = exception.kind.parse().map_err(|e| invalid(format!("{path}.type"), e))?;
            let days = RotationDays::new(exception.days).map_err(|e| invalid(format!("{path}.days"), e))?;
            if exceptions.insert(kind, days).is_some() {
                return Err(VaultError::InvalidField {
                    field: format!("{path}.type"),
                    reason: format!("`{kind}` already has an exception"),
                });
            }
        }
        Ok(RotationPolicy {
            default_days,
            exceptions,
        })
    }
}

/// `error` re-addressed to the configuration field it came from.
fn invalid(field: String, error: VaultError) -> VaultError {
    let reason = match error {
        VaultError::InvalidField { reason, .. } => reason,
        other => other.to_string(),
    };
    VaultError::InvalidField { field, reason }
}

impl<'de> Deserialize<'de> for RotationPolicy {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawRotationConfig::deserialize(deserializer)?;
        RotationPolicy::try_from(raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests;
