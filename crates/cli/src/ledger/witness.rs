//! `warden ledger verify --witness KEY`: each named witness must have cosigned the latest checkpoint, or
//! an earlier one — which the rest of `verify` has proven the latest extends — and every cosignature line
//! by a named witness must verify. A witness only cosigns a checkpoint consistent with everything it
//! cosigned before, so a log showing a fork to someone would have to fool every named witness too.

use anyhow::{Context, bail};
use serde_json::Value;
use warden_ledger::CosignatureVerifier;

/// Parses the `--witness` keys (`name+keyid+base64(0x04 || key)`).
pub fn parse_keys(keys: &[String]) -> anyhow::Result<Vec<CosignatureVerifier>> {
    keys.iter()
        .map(|key| {
            CosignatureVerifier::parse(key.trim())
                .with_context(|| format!("--witness `{key}` is not a witness key `name+keyid+base64`"))
        })
        .collect()
}

/// The checkpoint text of a stored note: everything up to the blank line.
fn text(note: &str) -> Option<&str> {
    note.rfind("\n\n").map(|split| &note[..split + 1])
}

/// Checks every named witness against the stored checkpoints (smallest first, each already verified
/// under the log's key and consistent with the next). The size each witness last cosigned, by witness.
pub fn check(witnesses: &[CosignatureVerifier], checkpoints: &[Value]) -> anyhow::Result<Vec<(String, u64)>> {
    let Some(latest) = checkpoints.last() else {
        bail!("the ledger has no checkpoint for witnesses to have cosigned");
    };
    let latest_size = latest["size"].as_u64().unwrap_or_default();
    let mut found = Vec::new();
    for witness in witnesses {
        let mut newest = None;
        for checkpoint in checkpoints.iter().rev() {
            let size = checkpoint["size"].as_u64().unwrap_or_default();
            let note = checkpoint["note"].as_str().unwrap_or_default();
            let lines = checkpoint["cosignatures"].as_array().cloned().unwrap_or_default();
            for line in lines.iter().filter_map(Value::as_str).filter(|l| witness.names(l)) {
                let text = text(note).context("a stored checkpoint is not a signed note")?;
                witness.verify(text, line).with_context(|| {
                    format!(
                        "the cosignature of witness `{}` on the checkpoint at size {size} does not verify",
                        witness.name()
                    )
                })?;
                newest = newest.max(Some(size));
            }
        }
        let Some(size) = newest else {
            bail!(
                "witness `{}` has not cosigned any checkpoint of this ledger (latest size {latest_size})",
                witness.name()
            );
        };
        found.push((witness.name().to_owned(), size));
    }
    Ok(found)
}

#[cfg(test)]
mod tests;
