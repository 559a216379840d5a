//! The `audit:` and `ledger:` sections: what goes into audit events, how long their payloads are kept,
//! and how the ledger publishes itself (checkpoints, chain anchoring, witness cosignatures).

use serde::Deserialize;
use warden_core::Seconds;
use warden_ledger::CosignatureVerifier;

use super::{ConfigError, invalid};

/// `audit:` as written (seed 001's shape: `retention_days`, `include_payloads`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAudit {
    pub retention_days: Option<u32>,
    pub include_payloads: Option<bool>,
}

/// `ledger:` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLedger {
    pub origin: Option<String>,
    pub checkpoint_interval: Option<Seconds>,
    pub anchor: Option<RawAnchor>,
    #[serde(default)]
    pub witnesses: Vec<RawLedgerWitness>,
}

/// One witness the ledger's checkpoints are sent to (C2SP `tlog-witness`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLedgerWitness {
    /// The witness's submission prefix: `<url>/add-checkpoint` is posted to.
    pub url: String,
    /// Its cosignature verifier key, `name+keyid+base64(0x04 || key)`.
    pub verifier_key: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAnchor {
    /// An Ethereum JSON-RPC endpoint.
    pub rpc_url: String,
    /// The account the node sends from (it holds the key: `eth_sendTransaction`).
    pub from: String,
    /// Where the transaction goes; the sender itself when absent.
    pub to: Option<String>,
    pub interval: Option<Seconds>,
}

/// What audit events carry and keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditConfig {
    /// Payloads older than this many days are dropped (leaf hashes stay); `None` keeps them forever.
    pub retention_days: Option<u32>,
    /// Whether events carry request bodies (a decision's `context`); identifiers are kept either way.
    pub include_payloads: bool,
}

/// How the ledger publishes itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerConfig {
    /// The checkpoint origin (and signer name) used when the ledger is first created.
    pub origin: String,
    pub checkpoint_interval: Seconds,
    pub anchor: Option<AnchorConfig>,
    /// Witnesses every new checkpoint is sent to for cosigning.
    pub witnesses: Vec<LedgerWitness>,
}

/// A witness of the ledger: where to submit checkpoints and the key its cosignatures must verify with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerWitness {
    /// The submission prefix, without a trailing `/`.
    pub url: String,
    pub verifier: CosignatureVerifier,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnchorConfig {
    pub rpc_url: String,
    pub from: String,
    pub to: String,
    pub interval: Seconds,
}

pub fn resolve_audit(raw: RawAudit) -> Result<AuditConfig, ConfigError> {
    if raw.retention_days == Some(0) {
        return Err(invalid(
            "audit.retention_days",
            "must be at least 1 (leave it out to keep payloads)",
        ));
    }
    Ok(AuditConfig {
        retention_days: raw.retention_days,
        include_payloads: raw.include_payloads.unwrap_or(true),
    })
}

pub fn resolve_ledger(raw: RawLedger) -> Result<LedgerConfig, ConfigError> {
    let origin = raw.origin.unwrap_or_else(|| "warden.local/ledger".to_owned());
    if origin.is_empty() || origin.chars().any(|c| c.is_whitespace() || c == '+') {
        return Err(invalid("ledger.origin", "must be non-empty, without whitespace or `+`"));
    }
    let checkpoint_interval = raw.checkpoint_interval.unwrap_or(Seconds::new(60));
    if checkpoint_interval.get() == 0 {
        return Err(invalid("ledger.checkpoint_interval", "must be at least 1 second"));
    }
    let anchor = raw.anchor.map(anchor).transpose()?;
    let witnesses = raw
        .witnesses
        .into_iter()
        .enumerate()
        .map(|(i, raw)| witness(i, raw))
        .collect::<Result<Vec<_>, _>>()?;
    for (i, w) in witnesses.iter().enumerate() {
        if witnesses[..i].iter().any(|other| other.verifier == w.verifier) {
            return Err(invalid(
                &format!("ledger.witnesses[{i}].verifier_key"),
                "is listed twice",
            ));
        }
    }
    Ok(LedgerConfig {
        origin,
        checkpoint_interval,
        anchor,
        witnesses,
    })
}

fn anchor(raw: RawAnchor) -> Result<AnchorConfig, ConfigError> {
    if !(raw.rpc_url.starts_with("http://") || raw.rpc_url.starts_with("https://")) {
        return Err(invalid("ledger.anchor.rpc_url", "must be an http(s) URL"));
    }
    let address = |field: &str, text: &str| {
        let hex = text.strip_prefix("0x").unwrap_or("");
        if hex.len() == 40 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
            Ok(text.to_ascii_lowercase())
        } else {
            Err(invalid(field, "must be a 0x-prefixed 20-byte hex address"))
        }
    };
    let from = address("ledger.anchor.from", &raw.from)?;
    let to = match raw.to {
        Some(to) => address("ledger.anchor.to", &to)?,
        None => from.clone(),
    };
    let interval = raw.interval.unwrap_or(Seconds::hours(1));
    if interval.get() == 0 {
        return Err(invalid("ledger.anchor.interval", "must be at least 1 second"));
    }
    Ok(AnchorConfig {
        rpc_url: raw.rpc_url,
        from,
        to,
        interval,
    })
}

fn witness(i: usize, raw: RawLedgerWitness) -> Result<LedgerWitness, ConfigError> {
    let url = raw.url.trim_end_matches('/').to_owned();
    if !(url.starts_with("http://") || url.starts_with("https://")) || url.contains(char::is_whitespace) {
        return Err(invalid(&format!("ledger.witnesses[{i}].url"), "must be an http(s) URL"));
    }
    let verifier = CosignatureVerifier::parse(raw.verifier_key.trim()).map_err(|_| {
        invalid(
            &format!("ledger.witnesses[{i}].verifier_key"),
            "must be a witness key `name+keyid+base64(0x04 || key)`, as GET /v1/witness/verifier-key prints it",
        )
    })?;
    Ok(LedgerWitness { url, verifier })
}
