//! The HTTP API through the real router (`oneshot`), on a temporary SQLite store with a manual clock.

#[path = "api/support.rs"]
mod support;

#[path = "api/flow.rs"]
mod flow;

#[path = "api/auth.rs"]
mod auth;

#[path = "api/credentials.rs"]
mod credentials;

#[path = "api/tokens.rs"]
mod tokens;

#[path = "api/passports.rs"]
mod passports;

#[path = "api/hostile.rs"]
mod hostile;

#[path = "api/forgery.rs"]
mod forgery;

#[path = "api/ops.rs"]
mod ops;

#[path = "api/postgres.rs"]
mod postgres;

#[path = "api/outage.rs"]
mod outage;

#[path = "api/policy.rs"]
mod policy;

#[path = "api/vault.rs"]
mod vault;

#[path = "api/master_key.rs"]
mod master_key;

#[path = "api/database_rotation.rs"]
mod database_rotation;

#[path = "api/grants.rs"]
mod grants;

#[path = "api/rate_limits.rs"]
mod rate_limits;

#[path = "api/ledger.rs"]
mod ledger;

#[path = "api/firewall.rs"]
mod firewall;

#[path = "api/witness.rs"]
mod witness;
