//! Why a vault operation was refused. No variant carries a secret value: names, kinds, lengths and key
//! identifiers only, so an error can be logged or returned without leaking what the vault protects.

use crate::KeyId;

/// Everything the vault's logic can refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    #[error("`{given}` is not a secret type; use one of {allowed}", allowed = crate::SecretKind::allowed())]
    UnknownKind { given: String },
    #[error("`{name}` is not a valid secret name: {reason}")]
    InvalidName { name: String, reason: &'static str },
    #[error("`{version}` is not a secret version: versions count up from 1")]
    InvalidVersion { version: String },
    #[error("the secret's `data` is {len} bytes serialized; the limit is {max} bytes")]
    DataTooLarge { len: usize, max: usize },
    /// The position is given, never the offending text: it could be part of the secret.
    #[error("the secret's `data` must be a JSON object{position}")]
    DataNotObject { position: String },
    #[error("tag `{tag}` is invalid: {reason}")]
    InvalidTag { tag: String, reason: &'static str },
    #[error("a secret has at most {max} tags, got {count}")]
    TooManyTags { count: usize, max: usize },
    #[error("`{field}` is invalid: {reason}")]
    InvalidField { field: String, reason: String },
    /// The record says which master key wrapped it; the key offered is another one.
    #[error("the record was wrapped by master key `{record}`, but the key offered is `{offered}`")]
    WrongMasterKey { record: KeyId, offered: KeyId },
    /// Wrong key, a record moved to another name, version or type, or tampered bytes: AES-GCM cannot tell
    /// which, and nothing is returned in any case.
    #[error("the secret failed authentication (wrong master key, moved record or tampered bytes)")]
    Decryption,
    #[error("the sealed record is malformed: {0}")]
    MalformedRecord(&'static str),
    /// Encryption itself failed; aws-lc-rs only refuses inputs far beyond the sizes the vault allows.
    #[error("encryption failed")]
    Encryption,
}
