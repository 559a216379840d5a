//! A secret as the API takes it ([`NewSecret`]) and as the vault describes it ([`SecretMetadata`]),
//! with its [`Tags`] and the [`Deadline`]s that put it on the expiring list.
//!
//! Tags: at most [`MAX_TAGS`] per secret, each 1 to [`MAX_TAG_LEN`] characters with no whitespace or
//! control character; duplicates collapse and the set is kept sorted.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use warden_core::Timestamp;

use crate::name::shown;
use crate::rotation::{RotationDays, RotationPolicy};
use crate::{SecretData, SecretKind, SecretName, SecretRef, SecretVersion, VaultError};

pub const MAX_TAGS: usize = 32;
pub const MAX_TAG_LEN: usize = 64;

/// A secret's labels, for filtering lists (`?tag=`) and, as `resource.tags`, for policy conditions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Tags(Vec<String>);

impl Tags {
    pub fn new<I, S>(tags: I) -> Result<Self, VaultError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut tags: Vec<String> = tags.into_iter().map(Into::into).collect();
        for tag in &tags {
            let valid = !tag.is_empty()
                && tag.chars().count() <= MAX_TAG_LEN
                && tag.chars().all(|c| !c.is_whitespace() && !c.is_control());
            if !valid {
                return Err(VaultError::InvalidTag {
                    tag: shown(tag),
                    reason: "a tag is 1 to 64 characters without whitespace or control characters",
                });
            }
        }
        tags.sort_unstable();
        tags.dedup();
        if tags.len() > MAX_TAGS {
            return Err(VaultError::TooManyTags {
                count: tags.len(),
                max: MAX_TAGS,
            });
        }
        Ok(Tags(tags))
    }

    pub fn contains(&self, tag: &str) -> bool {
        self.0.binary_search_by(|t| t.as_str().cmp(tag)).is_ok()
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Tags {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Tags::new(Vec::<String>::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

/// The body of `PUT /v1/secrets/{name}`: `{type, data{}, tags[]?, rotation_days?, expires_at?}`. Every
/// field is parsed into its checked type, so a `NewSecret` that exists is valid; `Debug` never shows
/// `data`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSecret {
    #[serde(rename = "type")]
    pub kind: SecretKind,
    pub data: SecretData,
    #[serde(default)]
    pub tags: Tags,
    /// Overrides the configured interval for this secret.
    #[serde(default)]
    pub rotation_days: Option<RotationDays>,
    /// RFC 3339; after it the secret is expired whatever its rotation says.
    #[serde(default, deserialize_with = "rfc3339")]
    pub expires_at: Option<Timestamp>,
}

fn rfc3339<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Timestamp>, D::Error> {
    let Some(text) = Option::<String>::deserialize(deserializer)? else {
        return Ok(None);
    };
    Timestamp::parse_rfc3339(&text).map(Some).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "`{}` is not an RFC 3339 time such as 2027-01-31T00:00:00Z",
            shown(&text)
        ))
    })
}

/// What the vault says about a secret without opening it: the list view, the expiring list, stats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretMetadata {
    pub name: SecretName,
    pub kind: SecretKind,
    /// The current version.
    pub version: SecretVersion,
    /// The agent (or admin) that stored the secret.
    pub owner: String,
    pub tags: Tags,
    /// When the first version was stored.
    pub created_at: Timestamp,
    /// When the current version was stored; rotation intervals count from here.
    pub version_created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub rotation_days: Option<RotationDays>,
}

/// Something that must happen to a secret by a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    pub at: Timestamp,
    pub reason: DeadlineReason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadlineReason {
    /// The rotation interval runs out: rotate.
    Rotation,
    /// The secret's own `expires_at`: replace or delete it.
    Expiry,
}

impl DeadlineReason {
    pub const fn as_str(self) -> &'static str {
        match self {
            DeadlineReason::Rotation => "rotation",
            DeadlineReason::Expiry => "expiry",
        }
    }
}

impl fmt::Display for DeadlineReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl SecretMetadata {
    /// The address of the current version, for [`crate::seal`] and [`crate::open`].
    pub fn current(&self) -> SecretRef {
        SecretRef {
            name: self.name.clone(),
            version: self.version,
            kind: self.kind,
        }
    }

    /// When the current version is due for rotation under `policy`, if ever.
    pub fn rotation_due_at(&self, policy: &RotationPolicy) -> Option<Timestamp> {
        policy.due_at(self.version_created_at, self.kind, self.rotation_days)
    }

    /// The earlier of the rotation deadline and the expiry; a tie is reported as expiry, the harder one.
    pub fn next_deadline(&self, policy: &RotationPolicy) -> Option<Deadline> {
        let rotation = self.rotation_due_at(policy).map(|at| Deadline {
            at,
            reason: DeadlineReason::Rotation,
        });
        let expiry = self.expires_at.map(|at| Deadline {
            at,
            reason: DeadlineReason::Expiry,
        });
        match (rotation, expiry) {
            (Some(r), Some(e)) => Some(if r.at < e.at { r } else { e }),
            (r, e) => r.or(e),
        }
    }

    /// The deadline that puts this secret on `GET /v1/secrets-expiring?days=N`: one within `days` of
    /// `now`, or already past.
    pub fn expiring_within(&self, policy: &RotationPolicy, now: Timestamp, days: u32) -> Option<Deadline> {
        self.next_deadline(policy)
            .filter(|deadline| crate::rotation::expiring_within(Some(deadline.at), now, days))
    }
}

#[cfg(test)]
mod tests;
