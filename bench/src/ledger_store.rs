//! The ledger with its storage, on the embedded store (SQLite in a temporary directory, `synchronous =
//! FULL`, so every acknowledged append is durable):
//!
//! - durable appends with 64 concurrent writers through `AuditSink::record` (the group-commit writer):
//!   events per second, and p50/p99 from the call to the durable acknowledgement;
//! - bytes per event at rest: the database file (after a WAL checkpoint) over the number of events;
//! - full verification of the stored log, as `warden ledger verify --data-dir` does it: every entry read
//!   back (in pages of 50,000, the next read while one is checked), re-hashed, parsed and put into a
//!   fresh tree, then a signed checkpoint checked against it.
//!
//! `warden-bench ledger-store [EVENTS]` (default 10^6).

use std::time::Instant;

use aws_lc_rs::signature::Ed25519KeyPair;
use warden_core::{AuditEvent, AuditOutcome, AuditSink, Timestamp};
use warden_ledger::{Checkpoint, LogVerifier, NoteSigner};
use warden_store::Store;

use crate::quantile;

const WRITERS: usize = 64;
/// Entries read per page during verification.
const PAGE: u64 = 50_000;

fn event(writer: usize, n: u64) -> AuditEvent {
    AuditEvent::new(
        Timestamp::from_unix(1_800_000_000),
        "authz.decision",
        "agent-0f3a9c",
        AuditOutcome::Success,
    )
    .resource("doc:public/reports/q3")
    .detail("decision_id", format!("dec-{writer:02}-{n:08}"))
    .detail("action", "doc:read")
    .detail("decision", "allow")
    .detail("deciding_rule", "readers")
    .detail("basis", "rule")
    .detail("policy", "sha256:5c1f0b7e9a2d4c6b")
    .request_id(Some("req-7d1e0c9b"))
}

pub fn run(events: u64) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run_async(events))
}

async fn run_async(events: u64) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("warden.db");
    let url = warden_store::testing::sqlite_url(&path);
    let store = Store::connect(&url).await?;
    store.migrate().await?;
    store.close().await;
    let empty_bytes = std::fs::metadata(&path)?.len();
    let store = Store::connect(&url).await?;

    println!("durable appends: {WRITERS} writers, {events} events, SQLite (synchronous = FULL)");
    let started = Instant::now();
    let per_writer = events / WRITERS as u64;
    let mut tasks = Vec::new();
    for writer in 0..WRITERS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(per_writer as usize);
            for n in 0..per_writer {
                let event = event(writer, n);
                let at = Instant::now();
                store.record(event).await?;
                latencies.push(at.elapsed().as_nanos() as u64);
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    let total = latencies.len() as f64;
    println!(
        "  {:.0} events/s over {:.2} s; ack p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        total / elapsed.as_secs_f64(),
        elapsed.as_secs_f64(),
        quantile(&latencies, 0.50) as f64 / 1e6,
        quantile(&latencies, 0.99) as f64 / 1e6,
        latencies.last().copied().unwrap_or(0) as f64 / 1e6,
    );

    // A checkpoint over the stored log, signed as the server signs one.
    let size = store.ledger_size().await?;
    let hashes = store
        .ledger_leaf_hashes(0, u32::try_from(size).unwrap_or(u32::MAX))
        .await?;
    let tree = warden_ledger::MerkleTree::from_leaf_hashes(hashes);
    let pair = Ed25519KeyPair::from_seed_unchecked(&[5; 32]).map_err(|_| anyhow::anyhow!("seed"))?;
    let signer = NoteSigner::new("bench.example/ledger", pair)?;
    let note = Checkpoint {
        origin: "bench.example/ledger".into(),
        size,
        root: tree.root(),
    }
    .sign(&signer)?;
    drop(tree);
    store.close().await;
    let bytes = std::fs::metadata(&path)?.len().saturating_sub(empty_bytes);
    println!(
        "  at rest: {:.0} bytes per event ({} bytes for {size} events)",
        bytes as f64 / size as f64,
        bytes
    );

    let store = Store::connect(&url).await?;
    let started = Instant::now();
    let mut verifier = LogVerifier::new();
    // Large pages in bulk (a connection of its own on SQLite), the next page read while this one is
    // checked, as `warden ledger verify --data-dir` reads them.
    let read = |start: u64| {
        let store = store.clone();
        tokio::spawn(async move { store.ledger_entries_bulk(start, start + PAGE).await })
    };
    let mut next = read(0);
    loop {
        let page = next.await??;
        let Some(last) = page.last().map(|e| e.index) else {
            break;
        };
        next = read(last + 1);
        for entry in &page {
            verifier.push(entry.index, entry.leaf.as_deref(), &entry.leaf_hash)?;
        }
    }
    verifier.check_checkpoint(&note, &signer.verifier_key(), None)?;
    let verify = started.elapsed();
    println!(
        "  full verification of {} events: {:.2} s ({:.2} µs per event)",
        verifier.summary().size,
        verify.as_secs_f64(),
        verify.as_secs_f64() * 1e6 / size as f64
    );
    store.close().await;
    Ok(())
}
