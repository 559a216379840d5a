//! The ledger's background work: a checkpoint whenever the log grew and the interval passed, anchoring
//! the newest unanchored checkpoint on its own (slower) schedule with backoff on failure, sending
//! checkpoints to witnesses for cosigning (one loop per witness, see [`super::witness`]), and retention.
//! None of it is on the append path: a chain or a witness that is down delays anchors and cosignatures,
//! never events.

use std::time::Duration;

use warden_core::{AuditEvent, AuditOutcome};

use super::anchor_checkpoint;
use crate::state::AppState;

/// How often retention runs.
const RETENTION_EVERY: Duration = Duration::from_secs(3600);
/// The first retry after a failed anchor; doubled per failure up to the anchor interval.
const ANCHOR_RETRY: Duration = Duration::from_secs(5);

/// Starts the ledger's tasks; they end with the returned handle.
pub fn spawn_ledger_tasks(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        tokio::join!(
            checkpoints(state.clone()),
            anchoring(state.clone()),
            witnessing(state.clone()),
            retention(state)
        );
    })
}

async fn checkpoints(state: AppState) {
    let mut interval = tokio::time::interval(state.config.ledger.checkpoint_interval.as_std());
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        if let Err(error) = checkpoint_if_grown(&state).await {
            tracing::warn!(%error, "could not sign a ledger checkpoint");
        }
    }
}

async fn checkpoint_if_grown(state: &AppState) -> Result<(), super::LedgerError> {
    let size = state.ledger.synced(&state.store).await?.size();
    let latest = state.store.latest_checkpoint().await?.map(|c| c.size);
    if latest.is_none_or(|latest| size > latest) {
        let record = state.ledger.checkpoint(&state.store, state.now()).await?;
        tracing::debug!(size = record.size, "ledger checkpoint signed");
    }
    Ok(())
}

async fn anchoring(state: AppState) {
    let Some(config) = state.config.ledger.anchor.clone() else {
        return;
    };
    let client = match reqwest::Client::builder().timeout(Duration::from_secs(30)).build() {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "cannot build the HTTP client for anchoring; anchoring is off");
            return;
        }
    };
    let mut failures: u32 = 0;
    loop {
        let wait = match anchor_once(&state, &client, &config).await {
            Ok(()) => {
                failures = 0;
                config.interval.as_std()
            }
            Err(reason) => {
                failures = failures.saturating_add(1);
                tracing::warn!(
                    reason = reason.as_str(),
                    failures,
                    "anchoring a ledger checkpoint failed"
                );
                let event = AuditEvent::new(state.now(), "ledger.anchor_failed", "system", AuditOutcome::Failure)
                    .detail("reason", reason)
                    .detail("consecutive_failures", failures);
                let _ = state.audit(event).await;
                let backoff = ANCHOR_RETRY.saturating_mul(2u32.saturating_pow(failures.min(16) - 1));
                backoff.min(config.interval.as_std())
            }
        };
        tokio::time::sleep(wait).await;
    }
}

async fn anchor_once(
    state: &AppState,
    client: &reqwest::Client,
    config: &crate::config::ledger::AnchorConfig,
) -> Result<(), String> {
    // Anchor what exists now: sign a checkpoint first if the log grew since the last one.
    checkpoint_if_grown(state).await.map_err(|e| e.to_string())?;
    let Some(checkpoint) = state
        .store
        .latest_unanchored_checkpoint()
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(());
    };
    let anchor = anchor_checkpoint(client, config, &checkpoint)
        .await
        .map_err(|e| e.to_string())?;
    state
        .store
        .set_checkpoint_anchor(checkpoint.size, &anchor)
        .await
        .map_err(|e| e.to_string())?;
    let event = AuditEvent::new(state.now(), "ledger.anchored", "system", AuditOutcome::Success)
        .detail("size", checkpoint.size)
        .detail("anchor", anchor);
    let _ = state.audit(event).await;
    Ok(())
}

async fn witnessing(state: AppState) {
    if state.config.ledger.witnesses.is_empty() {
        return;
    }
    let client = match super::witness::witness_client() {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "cannot build the HTTP client for witnesses; witnessing is off");
            return;
        }
    };
    // The set aborts every loop when this future is dropped (the server stops).
    let mut loops = tokio::task::JoinSet::new();
    for witness in state.config.ledger.witnesses.clone() {
        loops.spawn(super::witness::witness_loop(state.clone(), client.clone(), witness));
    }
    while loops.join_next().await.is_some() {}
}

async fn retention(state: AppState) {
    let Some(days) = state.config.audit.retention_days else {
        return;
    };
    let mut interval = tokio::time::interval(RETENTION_EVERY);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let before = state.now().minus(u64::from(days) * 86_400);
        match state.store.prune_ledger_payloads(before).await {
            Ok(0) => {}
            Ok(dropped) => {
                tracing::info!(
                    dropped,
                    days,
                    "audit payloads past retention dropped (leaf hashes kept)"
                );
                let event = AuditEvent::new(state.now(), "ledger.retention", "system", AuditOutcome::Success)
                    .detail("payloads_dropped", dropped)
                    .detail("retention_days", days);
                let _ = state.audit(event).await;
            }
            Err(error) => tracing::warn!(%error, "audit retention failed"),
        }
    }
}
