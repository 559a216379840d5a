//! End-to-end tests: the built `warden` binary, started in a temporary directory, driven over real
//! HTTP and HTTPS on 127.0.0.1 (and, for `warden policy`, offline on files). One test binary for all of
//! them; the harness is in `e2e/harness.rs`.

#[path = "e2e/harness.rs"]
mod harness;
#[path = "e2e/pki.rs"]
mod pki;

#[path = "e2e/anchoring.rs"]
mod anchoring;
#[path = "e2e/authorize_cli.rs"]
mod authorize_cli;
#[path = "e2e/durability.rs"]
mod durability;
#[path = "e2e/first_start.rs"]
mod first_start;
#[path = "e2e/ledger_cli.rs"]
mod ledger_cli;
#[path = "e2e/lifecycle.rs"]
mod lifecycle;
#[path = "e2e/master_key_rotation.rs"]
mod master_key_rotation;
#[path = "e2e/mtls.rs"]
mod mtls;
#[path = "e2e/policy_cli.rs"]
mod policy_cli;
#[path = "e2e/scan_cli.rs"]
mod scan_cli;
#[path = "e2e/secret_cli.rs"]
mod secret_cli;
#[path = "e2e/secrets.rs"]
mod secrets;
#[path = "e2e/simulate_cli.rs"]
mod simulate_cli;
#[path = "e2e/vault_durability.rs"]
mod vault_durability;
#[path = "e2e/walkthrough.rs"]
mod walkthrough;
#[path = "e2e/witness_cli.rs"]
mod witness_cli;
