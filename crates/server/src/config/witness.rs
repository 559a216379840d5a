//! The `witness:` section: Warden cosigning other logs' checkpoints (C2SP `tlog-witness`). Absent, Warden
//! is no witness and `/v1/witness/*` answers 404.
//!
//! ```yaml
//! witness:
//!   name: witness.example.com/warden      # the cosigner name in its verifier key and signature lines
//!   logs:
//!     - origin: other.example.com/ledger  # optional: the verifier key's name by default
//!       verifier_key: "other.example.com/ledger+1a2b3c4d+AQ…"   # as GET /v1/ledger/verifier-key prints it
//! ```

use serde::Deserialize;
use warden_ledger::verifier_key_name;

use super::{ConfigError, invalid};

/// `witness:` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWitness {
    pub name: String,
    #[serde(default)]
    pub logs: Vec<RawWitnessedLog>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWitnessedLog {
    pub origin: Option<String>,
    pub verifier_key: String,
}

/// Warden's witness: its cosigner name and the logs it cosigns for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessConfig {
    pub name: String,
    pub logs: Vec<WitnessedLog>,
}

/// A log Warden witnesses: its origin line and the C2SP note verifier key its checkpoints are signed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessedLog {
    pub origin: String,
    pub verifier_key: String,
}

impl WitnessConfig {
    /// The log whose checkpoints carry `origin`.
    pub fn log(&self, origin: &str) -> Option<&WitnessedLog> {
        self.logs.iter().find(|log| log.origin == origin)
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+')
}

pub fn resolve_witness(raw: RawWitness) -> Result<WitnessConfig, ConfigError> {
    if !valid_name(&raw.name) {
        return Err(invalid("witness.name", "must be non-empty, without whitespace or `+`"));
    }
    let mut logs: Vec<WitnessedLog> = Vec::new();
    for (i, log) in raw.logs.into_iter().enumerate() {
        let field = format!("witness.logs[{i}]");
        let key = log.verifier_key.trim().to_owned();
        let Ok(name) = verifier_key_name(&key) else {
            return Err(invalid(
                &format!("{field}.verifier_key"),
                "must be a note verifier key `name+hash+base64` (Ed25519), as GET /v1/ledger/verifier-key prints it",
            ));
        };
        let origin = log.origin.unwrap_or_else(|| name.to_owned());
        if origin.is_empty() || origin.contains(['\n', '\r']) {
            return Err(invalid(&format!("{field}.origin"), "must be one non-empty line"));
        }
        if logs.iter().any(|l| l.origin == origin) {
            return Err(invalid(
                &format!("{field}.origin"),
                format!("`{origin}` is listed twice"),
            ));
        }
        logs.push(WitnessedLog {
            origin,
            verifier_key: key,
        });
    }
    Ok(WitnessConfig { name: raw.name, logs })
}

#[cfg(test)]
mod tests;
