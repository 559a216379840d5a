//! Warden's identity logic: who an agent is and how it proves it.
//!
//! The public interface is:
//! - [`agent`]: the registry's rules ([`Agent`], [`NewAgent`], status changes).
//! - [`password`]: argon2id hashing, the password policy, history and lockout.
//! - [`api_key`]: API keys with a visible prefix, stored as hashes, compared in constant time.
//! - [`public_key`]: Ed25519 and P-256 keys and the challenge-response login they allow.
//! - [`ca`]: the built-in certificate authority that signs agent client certificates.
//! - [`keyring`]: Ed25519 signing keys with `kid`, randomized rotation, grace periods and the JWKS.
//! - [`token`]: access, refresh and passport JWTs: claims, issuing, strict verification, the cache.
//! - [`passport`]: scope narrowing for passports and RFC 8693-style delegation.
//! - [`repo`]: the storage this crate needs, as traits the `store` crate implements.
//!
//! This crate takes values and returns values: it opens no socket or database, reads no clock and no
//! OS randomness except through the [`warden_core::Clock`] and [`warden_core::Entropy`] it is handed,
//! and knows nothing about HTTP.

pub mod agent;
pub mod api_key;
pub mod ca;
mod error;
pub mod keyring;
pub mod passport;
pub mod password;
pub mod public_key;
pub mod repo;
pub mod token;

pub use agent::{Agent, AgentPatch, AgentStatus, NewAgent, StatusChange};
pub use error::IdentityError;
