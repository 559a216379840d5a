//! Warden's HTTP application: configuration, the data directory, wiring of store and keys, the routes
//! of API.md, TLS and mTLS, metrics and the OpenAPI document.
//!
//! The public interface is:
//! - [`config`]: `warden.yaml` and environment overrides, parsed into validated types.
//! - [`init`]: the data directory (configuration, example policy, master key, admin token).
//! - [`serve`]: building the [`state::AppState`] and running the server with graceful shutdown.
//! - [`routes::app`]: the axum `Router`, for tests that call it with `oneshot`.
//! - [`admit`]: the admit step, GCRA rate limits in process or in Redis.
//!
//! Logic lives in the domain crates; this crate only turns HTTP into calls on them and their answers
//! into HTTP. Errors become HTTP in exactly one place, [`error::ApiError`].

pub mod admit;
mod authn;
pub mod config;
pub mod database_rotation;
pub mod error;
mod extract;
pub mod firewall;
pub mod init;
mod keys;
pub mod ledger;
pub mod master_key;
mod metrics;
mod openapi;
mod password_pool;
pub mod policy;
pub mod routes;
pub mod serve;
pub mod state;
mod tls;
mod vault;

pub use openapi::ApiDoc;
