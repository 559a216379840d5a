//! Sending the ledger's checkpoints to witnesses (C2SP `tlog-witness`) and keeping what they cosign.
//!
//! For each configured witness, the newest stored checkpoint that witness has not cosigned yet is posted
//! to `<url>/add-checkpoint` with `old` = the size that witness last cosigned (0 until it is known; a 409
//! answer says it) and the consistency proof from there. The answer's cosignature by the configured key
//! is verified before it is stored with the checkpoint (`ledger_checkpoints.cosignatures`), so
//! `GET /v1/ledger/checkpoint` serves only cosignatures that verify. Nothing here is on the append path.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use warden_core::{AuditEvent, AuditOutcome};
use warden_ledger::AddCheckpoint;
use warden_ledger::witness::{TLOG_SIZE_TYPE, parse_cosignature_lines, parse_size};

use crate::config::ledger::LedgerWitness;
use crate::state::AppState;

/// The first retry after a failed submission; doubled per failure up to the checkpoint interval.
const WITNESS_RETRY: Duration = Duration::from_secs(5);
/// How long one witness may take to answer.
const WITNESS_TIMEOUT: Duration = Duration::from_secs(15);
/// Most bytes of a witness's answer read.
const MAX_ANSWER: usize = 64 * 1024;

/// What one submission did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submitted {
    /// Nothing to send: no checkpoint yet, an empty log, or the newest one already cosigned.
    Nothing,
    /// The witness cosigned the checkpoint of this size; its line is stored.
    Cosigned(u64),
}

/// The HTTP client for witnesses.
pub fn witness_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(WITNESS_TIMEOUT)
        .build()
        .map_err(|e| e.to_string())
}

/// Sends the newest checkpoint to `witness` unless it cosigned it already. `known` is the size the
/// witness last cosigned as far as this replica knows; it is updated from the witness's answers.
pub async fn submit_once(
    state: &AppState,
    client: &reqwest::Client,
    witness: &LedgerWitness,
    known: &mut u64,
) -> Result<Submitted, String> {
    let Some(latest) = state.store.latest_checkpoint().await.map_err(|e| e.to_string())? else {
        return Ok(Submitted::Nothing);
    };
    if latest.size == 0 || latest.cosignatures.iter().any(|line| witness.verifier.names(line)) {
        return Ok(Submitted::Nothing);
    }
    let text = latest
        .note
        .rfind("\n\n")
        .map(|split| &latest.note[..split + 1])
        .ok_or("the stored checkpoint is not a signed note")?;
    // One retry: the first 409 tells us the witness's size when we did not know it.
    for _ in 0..2 {
        if *known > latest.size {
            return Err(format!(
                "the witness has cosigned size {known}, above the newest checkpoint ({})",
                latest.size
            ));
        }
        let proof = if *known == 0 || *known == latest.size {
            Vec::new()
        } else {
            let tree = state.ledger.synced(&state.store).await.map_err(|e| e.to_string())?;
            tree.consistency_proof(*known, latest.size).map_err(|e| e.to_string())?
        };
        let body = AddCheckpoint {
            old_size: *known,
            proof,
            note: latest.note.clone(),
        }
        .encode();
        let url = format!("{}/add-checkpoint", witness.url);
        let response = client
            .post(&url)
            .body(body)
            .send()
            .await
            .map_err(|e| format!("the witness could not be reached: {}", e.without_url()))?;
        let status = response.status();
        let is_size = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with(TLOG_SIZE_TYPE));
        let answer = read_answer(response).await?;
        match status {
            StatusCode::OK => {
                let line = verified_line(witness, text, &answer)?;
                let stored = state
                    .store
                    .add_checkpoint_cosignature(latest.size, &line)
                    .await
                    .map_err(|e| e.to_string())?;
                if !stored {
                    return Err(format!("checkpoint {} vanished from the store", latest.size));
                }
                *known = latest.size;
                return Ok(Submitted::Cosigned(latest.size));
            }
            StatusCode::CONFLICT if is_size => {
                *known = parse_size(&answer).ok_or("the witness's 409 does not carry a size")?;
            }
            other => {
                let first_line: String = answer.lines().next().unwrap_or_default().chars().take(200).collect();
                return Err(format!("the witness answered {other}: {first_line}"));
            }
        }
    }
    Err(format!(
        "the witness keeps answering 409 (it last cosigned size {known})"
    ))
}

async fn read_answer(response: reqwest::Response) -> Result<String, String> {
    let bytes = response
        .bytes()
        .await
        .map_err(|e| format!("reading the witness's answer: {}", e.without_url()))?;
    if bytes.len() > MAX_ANSWER {
        return Err("the witness's answer is too large".into());
    }
    String::from_utf8(bytes.to_vec()).map_err(|_| "the witness's answer is not UTF-8".into())
}

/// The first line of a 200 answer that is a valid cosignature by the configured key over `text`. Lines
/// by other keys are ignored (the protocol says so); a line that names the key but does not verify is an
/// error.
fn verified_line(witness: &LedgerWitness, text: &str, answer: &str) -> Result<String, String> {
    let lines = parse_cosignature_lines(answer).ok_or("the witness's answer is not signature lines")?;
    let mut found = None;
    for line in lines.into_iter().filter(|line| witness.verifier.names(line)) {
        witness
            .verifier
            .verify(text, line)
            .map_err(|e| format!("the witness's cosignature is refused: {e}"))?;
        found.get_or_insert_with(|| line.to_owned());
    }
    found.ok_or_else(|| "the witness answered without a cosignature by its configured key".into())
}

/// Submits to one witness for as long as the server runs, with backoff after failures, each of which
/// raises a `ledger.witness_failed` event.
pub async fn witness_loop(state: AppState, client: reqwest::Client, witness: LedgerWitness) {
    let interval = state.config.ledger.checkpoint_interval.as_std();
    let mut known = 0u64;
    let mut failures: u32 = 0;
    loop {
        let wait = match submit_once(&state, &client, &witness, &mut known).await {
            Ok(submitted) => {
                if let Submitted::Cosigned(size) = submitted {
                    tracing::debug!(witness = witness.verifier.name(), size, "ledger checkpoint cosigned");
                }
                failures = 0;
                interval
            }
            Err(reason) => {
                failures = failures.saturating_add(1);
                record_failure(&state, &witness, reason, failures).await;
                WITNESS_RETRY
                    .saturating_mul(2u32.saturating_pow(failures.min(16) - 1))
                    .min(interval.max(WITNESS_RETRY))
            }
        };
        tokio::time::sleep(wait).await;
    }
}

/// Logs and audits a failed submission (`ledger.witness_failed`).
pub async fn record_failure(state: &AppState, witness: &LedgerWitness, reason: String, failures: u32) {
    tracing::warn!(
        witness = witness.verifier.name(),
        reason = reason.as_str(),
        failures,
        "sending a ledger checkpoint to a witness failed"
    );
    let event = AuditEvent::new(state.now(), "ledger.witness_failed", "system", AuditOutcome::Failure)
        .detail("witness", witness.verifier.name())
        .detail("reason", reason)
        .detail("consecutive_failures", failures);
    let _ = state.audit(event).await;
}
