//! Warden's credential vault logic: how a secret is sealed at rest, what a valid secret is, and when it
//! is due for rotation.
//!
//! The public interface is:
//! - [`seal`], [`open`] and [`rewrap`]: envelope encryption of one secret version. A fresh 256-bit data
//!   key and 96-bit nonce per version (AES-256-GCM, aws-lc-rs), the data key wrapped under the
//!   [`warden_core::MasterKey`], the secret's name, version and type bound into both layers; master-key
//!   rotation rewraps data keys without touching ciphertexts. [`SecretRef`] addresses a version,
//!   [`KeyId`] names the master key that wrapped a record, [`SealedSecret`] is the result.
//! - [`SealedSecret::encode`] and [`SealedSecret::decode`]: the strict, versioned record format.
//! - [`SecretName`], [`SecretVersion`], [`SecretKind`], [`SecretData`] (with the [`MAX_DATA_LEN`] limit),
//!   [`Tags`], [`NewSecret`] (the `PUT /v1/secrets/{name}` body) and [`SecretMetadata`]: the secret
//!   model, parsed into types that cannot be invalid.
//! - [`RotationPolicy`] (seed 001's `credential_rotation`, via [`RawRotationConfig`]), [`RotationDays`],
//!   [`rotation::is_due`], [`rotation::expiring_within`] and [`Deadline`]: when a secret must be
//!   rotated or replaced.
//! - [`database`]: the pure half of Warden-driven rotation of `database` secrets ([`DatabaseLogin`],
//!   [`RotationStep`], [`generate_password`], [`scram_sha256_verifier`]); the server runs the SQL.
//! - [`VaultError`]: every refusal; no variant carries a secret value.
//!
//! This crate does no I/O: it stores nothing, reads no key file, clock or OS randomness (the master key,
//! `now` and the [`warden_core::Entropy`] are passed in), decides no access (the policy engine and the
//! secret's grants do that in the server) and records no audit events. Only [`open`] yields plaintext.

mod cipher;
mod data;
pub mod database;
mod envelope;
mod error;
mod kind;
mod name;
mod record;
pub mod rotation;
mod secret;

pub use data::{MAX_DATA_LEN, SecretData};
pub use database::{
    DatabaseLogin, PasswordLength, RoleName, RotationStep, generate_password, scram_sha256_verifier, with_login,
};
pub use envelope::{FORMAT_VERSION, KeyId, MAX_PLAINTEXT_LEN, SealedSecret, SecretRef, open, rewrap, seal};
pub use error::VaultError;
pub use kind::SecretKind;
pub use name::{MAX_NAME_LEN, SecretName, SecretVersion};
pub use record::{MAX_RECORD_LEN, MIN_RECORD_LEN};
pub use rotation::{MAX_ROTATION_DAYS, RawRotationConfig, RawRotationException, RotationDays, RotationPolicy};
pub use secret::{Deadline, DeadlineReason, MAX_TAG_LEN, MAX_TAGS, NewSecret, SecretMetadata, Tags};
