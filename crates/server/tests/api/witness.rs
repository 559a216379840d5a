//! Witness cosigning (C2SP `tlog-witness`, `tlog-cosignature`) between real Wardens: B witnesses A over
//! HTTP, A's checkpoints end up served with B's cosignature and it verifies; B refuses what the protocol
//! says it must (an unknown log 404, a signature by another key 403, a bad proof 422, a rollback or a
//! fork 409 with its size, garbage 400); and a witness that is down makes A record
//! `ledger.witness_failed` while decisions go on.

use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::signature::Ed25519KeyPair;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::json;
use tower::ServiceExt;
use warden_core::{ManualClock, MasterKey, Seconds, SystemEntropy, Timestamp};
use warden_ledger::{Checkpoint, CosignatureVerifier, MerkleTree, NoteSigner, leaf_hash, parse_leaf};
use warden_server::config::Config;
use warden_server::config::ledger::LedgerWitness;
use warden_server::config::witness::{WitnessConfig, WitnessedLog};
use warden_server::serve::{build_state_with, serve_on};

use crate::policy::{authorize, with_policy};
use crate::support::{ADMIN, Reply, START, TestApp, test_config};

const LOG: &str = "log.test/a";

fn witness_of(logs: Vec<WitnessedLog>) -> impl Fn(&mut Config) {
    move |config: &mut Config| {
        config.witness = Some(WitnessConfig {
            name: "witness.test/b".into(),
            logs: logs.clone(),
        });
    }
}

fn signer(name: &str, seed: u8) -> NoteSigner {
    let pair = Ed25519KeyPair::from_seed_unchecked(&[seed; 32]).unwrap_or_else(|e| unreachable!("{e}"));
    NoteSigner::new(name, pair).unwrap_or_else(|e| unreachable!("{e}"))
}

fn tree(size: u64) -> MerkleTree {
    let mut tree = MerkleTree::new();
    for i in 0..size {
        tree.append_leaf_hash(leaf_hash(&i.to_be_bytes()));
    }
    tree
}

fn note(signer: &NoteSigner, origin: &str, size: u64, root: [u8; 32]) -> String {
    let checkpoint = Checkpoint {
        origin: origin.into(),
        size,
        root,
    };
    checkpoint.sign(signer).unwrap_or_else(|e| unreachable!("{e}"))
}

fn body(old: u64, proof: &[[u8; 32]], note: &str) -> String {
    warden_ledger::AddCheckpoint {
        old_size: old,
        proof: proof.to_vec(),
        note: note.to_owned(),
    }
    .encode()
}

/// An answer read as text (a 409's `5\n` would otherwise read as the JSON number 5).
struct Answer {
    status: StatusCode,
    content_type: String,
    text: String,
}

async fn add(app: &TestApp, body: String) -> Answer {
    let request = Request::post("/v1/witness/add-checkpoint")
        .header("content-type", "text/plain")
        .body(Body::from(body))
        .unwrap_or_else(|e| unreachable!("{e}"));
    let response = app.router.clone().oneshot(request).await.unwrap_or_else(|e| match e {});
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap_or_default();
    Answer {
        status,
        content_type,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

fn text(reply: &Reply) -> String {
    reply.body.as_str().unwrap_or_default().to_owned()
}

async fn witness_key(app: &TestApp) -> CosignatureVerifier {
    let reply = app.get("/v1/witness/verifier-key", None).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    CosignatureVerifier::parse(text(&reply).trim()).unwrap_or_else(|e| unreachable!("{e}"))
}

#[tokio::test]
async fn the_witness_refuses_what_the_protocol_says() {
    let log = signer(LOG, 1);
    let logs = vec![WitnessedLog {
        origin: LOG.into(),
        verifier_key: log.verifier_key(),
    }];
    let app = TestApp::start_with(witness_of(logs)).await;
    let witness = witness_key(&app).await;
    assert_eq!(witness.name(), "witness.test/b");
    let tree = tree(12);
    let root = |size| tree.root_at(size).unwrap_or_else(|e| unreachable!("{e}"));
    let proof = |old, new| tree.consistency_proof(old, new).unwrap_or_else(|e| unreachable!("{e}"));

    // First contact: old 0, no proof; the answer is a cosignature line by the witness's key.
    let five = note(&log, LOG, 5, root(5));
    let reply = add(&app, body(0, &[], &five)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let cosigned = format!("{five}{}", reply.text);
    assert_eq!(witness.verify_note(&cosigned), Ok(START as u64));

    // An origin the witness does not know: 404.
    let other = signer("other.test/log", 2);
    let reply = add(&app, body(0, &[], &note(&other, "other.test/log", 5, root(5)))).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text);
    // The known origin signed by a key the witness does not trust: 403.
    let impostor = signer(LOG, 3);
    let reply = add(&app, body(5, &proof(5, 8), &note(&impostor, LOG, 8, root(8)))).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);
    // A stale old size: 409 with the witness's size as text/x.tlog.size.
    let eight = note(&log, LOG, 8, root(8));
    let reply = add(&app, body(0, &[], &eight)).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text);
    assert_eq!(reply.content_type, "text/x.tlog.size");
    assert_eq!(reply.text, "5\n");
    // A consistency proof that does not lead from 5 to 8: 422.
    let mut bad = proof(5, 8);
    bad[0][0] ^= 1;
    let reply = add(&app, body(5, &bad, &eight)).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.text);
    // A fork at the cosigned size: 409.
    let fork = note(&log, LOG, 5, [9; 32]);
    let reply = add(&app, body(5, &[], &fork)).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text);
    assert_eq!(reply.text, "5\n");
    // A fork that grew from 5: its root is not reached by any honest proof, 422.
    let grown_fork = note(&log, LOG, 8, [9; 32]);
    let reply = add(&app, body(5, &proof(5, 8), &grown_fork)).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.text);
    // Nothing refused moved the witness.
    let state = app.state.store.witnessed_checkpoint(LOG).await;
    assert_eq!(state.ok().flatten().map(|s| s.size), Some(5));

    // Growth with a good proof is cosigned; then a rollback to 5 is 409 with the new size.
    let reply = add(&app, body(5, &proof(5, 8), &eight)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert!(witness.verify_note(&format!("{eight}{}", reply.text)).is_ok());
    let reply = add(&app, body(5, &[], &five)).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text);
    assert_eq!(reply.text, "8\n");
    // An old size above the checkpoint's, and bodies that are not requests: 400.
    let reply = add(&app, body(8, &[], &five)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    for garbage in ["", "old 8\n", "old 08\n\nx\n", "hello"] {
        let reply = add(&app, garbage.to_owned()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{garbage:?}: {}", reply.text);
    }
    // The same checkpoint again is cosigned again (a retry after a lost answer).
    let reply = add(&app, body(8, &[], &eight)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    app.finish().await;

    // A Warden that is no witness has neither route.
    let plain = TestApp::start().await;
    assert_eq!(add(&plain, body(0, &[], &five)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        plain.get("/v1/witness/verifier-key", None).await.status,
        StatusCode::NOT_FOUND
    );
    plain.finish().await;
}

/// Serves `state` on a loopback port (with its background tasks); the base URL.
async fn serve(app: &TestApp) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| unreachable!("{e}"));
    let address = listener.local_addr().unwrap_or_else(|e| unreachable!("{e}"));
    let state = app.state.clone();
    tokio::spawn(async move {
        let _ = serve_on(listener, state, std::future::pending()).await;
    });
    format!("http://{address}")
}

/// Waits until `check` answers `Some`, for at most 30 seconds.
async fn eventually<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    for _ in 0..300 {
        if let Some(value) = check().await {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    unreachable!("timed out waiting for {what}")
}

/// A's served checkpoint, if it is at least `min` and carries a cosignature by `witness` that verifies.
async fn cosigned(a: &TestApp, key_a: &str, witness: &CosignatureVerifier, min: u64) -> Option<(Checkpoint, String)> {
    let note = text(&a.get("/v1/ledger/checkpoint", None).await);
    let checkpoint = Checkpoint::parse_and_verify(&note, key_a).ok()?;
    (checkpoint.size >= min && witness.verify_note(&note).is_ok()).then_some((checkpoint, note))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wardens_checkpoints_are_cosigned_by_another_warden() {
    // A's ledger key first (it is created with its store), then B witnessing A, then A again on the same
    // store and master key, now sending its checkpoints to B.
    let dir_a = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
    let master_a = MasterKey::generate(&SystemEntropy);
    let mut config_a = test_config(dir_a.path(), None);
    let clock = Arc::new(ManualClock::at(Timestamp::from_unix(START)));
    let first = build_state_with(
        config_a.clone(),
        clock,
        Arc::new(SystemEntropy),
        MasterKey::from_bytes(master_a.expose_bytes()).unwrap_or_else(|e| unreachable!("{e}")),
        ADMIN,
    )
    .await;
    let first = first.unwrap_or_else(|e| unreachable!("{e}"));
    let key_a = first.ledger.verifier_key().to_owned();
    first.store.close().await;
    drop(first);

    let logs = vec![WitnessedLog {
        origin: "warden.local/ledger".into(),
        verifier_key: key_a.clone(),
    }];
    let b = TestApp::start_with(witness_of(logs)).await;
    let url_b = serve(&b).await;
    let witness = witness_key(&b).await;

    config_a.ledger.checkpoint_interval = Seconds::new(1);
    config_a.ledger.witnesses = vec![LedgerWitness {
        // A Warden's submission prefix is /v1/witness.
        url: format!("{url_b}/v1/witness"),
        verifier: witness.clone(),
    }];
    let a = TestApp::from_config(config_a, dir_a, master_a).await;
    serve(&a).await;
    a.post("/v1/ledger/checkpoint", Some(ADMIN), json!({})).await;

    // A's served checkpoint carries B's cosignature, which verifies; the log's signature still does.
    let (checkpoint, note) = eventually("B's cosignature on A's checkpoint", async || {
        cosigned(&a, &key_a, &witness, 1).await
    })
    .await;
    assert_eq!(witness.verify_note(&note), Ok(START as u64));
    let stored = b.state.store.witnessed_checkpoint("warden.local/ledger").await;
    assert_eq!(stored.ok().flatten().map(|s| s.root_hash), Some(checkpoint.root));

    // The log grows; the next checkpoint is cosigned too, from the size B cosigned (a consistency proof).
    for _ in 0..3 {
        a.post("/v1/ledger/checkpoint", Some(ADMIN), json!({})).await;
    }
    let (grown, _) = eventually("B's cosignature on a larger checkpoint", async || {
        cosigned(&a, &key_a, &witness, checkpoint.size + 3).await
    })
    .await;
    let stored = b.state.store.witnessed_checkpoint("warden.local/ledger").await;
    assert!(stored.ok().flatten().is_some_and(|s| s.size >= grown.size));
    // The stored list shows it as well.
    let listed = a.get("/v1/ledger/checkpoints?limit=1000", None).await;
    let lines: Vec<String> = listed
        .body
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["cosignatures"].as_array().cloned().unwrap_or_default())
        .filter_map(|l| l.as_str().map(str::to_owned))
        .collect();
    assert!(lines.len() >= 2 && lines.iter().all(|l| witness.names(l)), "{lines:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_witness_that_is_down_is_recorded_while_decisions_go_on() {
    // A port nobody listens on.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| unreachable!("{e}"));
        listener.local_addr().unwrap_or_else(|e| unreachable!("{e}"))
    };
    let down = Ed25519KeyPair::from_seed_unchecked(&[4; 32]).unwrap_or_else(|e| unreachable!("{e}"));
    let down = warden_ledger::Cosigner::new("down.test/w", down).unwrap_or_else(|e| unreachable!("{e}"));
    let verifier = CosignatureVerifier::parse(&down.verifier_key()).unwrap_or_else(|e| unreachable!("{e}"));
    let app = TestApp::start_with(move |config| {
        config.ledger.checkpoint_interval = Seconds::new(1);
        config.ledger.witnesses = vec![LedgerWitness {
            url: format!("http://{closed}"),
            verifier: verifier.clone(),
        }];
    })
    .await;
    serve(&app).await;
    let (_, access) = with_policy(&app).await;
    let failed = eventually("a ledger.witness_failed event", async || {
        // Decisions are answered all along.
        let decision = authorize(&app, &access, json!({"action": "doc:read", "resource": "doc:public/a"})).await;
        assert!(decision["ledger_index"].is_u64(), "{decision}");
        let size = app.state.store.ledger_size().await.ok()?;
        let entries = app.state.store.ledger_entries(0, size).await.ok()?;
        entries.iter().find_map(|entry| {
            let (_, event) = parse_leaf(entry.leaf.as_deref()?).ok()?;
            (event.kind == "ledger.witness_failed").then_some(event)
        })
    })
    .await;
    assert_eq!(failed.details["witness"], "down.test/w");
    assert!(
        failed.details["reason"]
            .as_str()
            .is_some_and(|r| r.contains("could not be reached")),
        "{failed:?}"
    );
    let checkpoint = app.state.store.latest_checkpoint().await.ok().flatten();
    assert!(checkpoint.is_some_and(|c| c.cosignatures.is_empty()));
}
