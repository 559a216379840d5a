//! Warden's persistence: the repository traits of the domain crates, implemented once for SQLite (the
//! embedded default) and PostgreSQL.
//!
//! The public interface is:
//! - [`Store`]: opened with [`Store::connect`] from a `sqlite:` or `postgres://` URL, brought up to
//!   date with [`Store::migrate`], checked with [`Store::ping`], shut with [`Store::close`]. It
//!   implements
//!   [`AgentRepository`](warden_identity::repo::AgentRepository),
//!   [`CredentialRepository`](warden_identity::repo::CredentialRepository),
//!   [`TokenRepository`](warden_identity::repo::TokenRepository),
//!   [`KeyRepository`](warden_identity::repo::KeyRepository) and
//!   [`AuditSink`](warden_core::AuditSink) by appending every event to the ledger (leaf bytes and
//!   hashes, [`LedgerEntry`]), plus [`Store::audit_events`] and [`Store::audit_count`] to read the
//!   audit log back, the ledger's checkpoints and sealed keys ([`CheckpointRecord`],
//!   [`LedgerKeysRecord`]), and the policy versions and just-in-time grants
//!   ([`PolicyVersion`], [`GrantRecord`]) the decision path reads, and the vault's sealed secrets
//!   ([`SecretRecord`], [`SecretVersionRecord`], [`SecretGrantRecord`]).
//! - [`Backend`]: which database a store talks to.
//! - [`testing`]: throwaway PostgreSQL schemas for other crates' tests.
//!
//! Both backends share one code path through `sqlx::AnyPool`: every statement uses `$N` placeholders
//! and portable types (BIGINT Unix seconds, TEXT, BLOB/BYTEA); only the migrations differ. Races the
//! traits promise to settle (single-use challenges, refresh spending, the CA, failed-attempt counts)
//! are settled by single atomic statements or constraints, never by read-then-write in Rust.
//!
//! This crate decides nothing: apart from computing leaf hashes as it appends, it does not hash, verify, expire or authorize; it stores what the
//! identity logic hands it and reports failures as [`warden_core::StoreError`], with messages that
//! never contain a stored or queried value. It knows nothing about HTTP.

mod agents;
mod audit;
mod columns;
mod connect;
mod credentials;
mod error;
mod firewall;
mod keys;
mod ledger;
mod migrate;
mod policy;
pub mod testing;
mod tokens;
mod vault;
mod witness;

pub use connect::{Backend, Store};
pub use firewall::{FirewallKeysRecord, TokenRecord};
pub use ledger::{CheckpointRecord, LedgerEntry, LedgerKeysRecord};
pub use policy::{GrantRecord, PolicyFile, PolicyVersion};
pub use vault::{SecretGrantRecord, SecretKindCount, SecretRecord, SecretUpdate, SecretVersionRecord};
pub use witness::{WitnessKeyRecord, WitnessedCheckpoint};
