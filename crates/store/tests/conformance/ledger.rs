//! The ledger's tables: dense indices across two writers (replicas), leaf hashes of the exact leaf bytes,
//! checkpoints stored once per size, retention that keeps hashes, and moving pre-ledger audit rows in.

use sqlx::Connection;
use warden_core::{AuditEvent, AuditOutcome, AuditSink};
use warden_ledger::{leaf_hash, parse_leaf};
use warden_store::{CheckpointRecord, LedgerKeysRecord, Store};

use super::{T0, TestDb, open};

fn event(actor: &str, at: i64) -> AuditEvent {
    AuditEvent::new(T0.plus(at as u64), "authz.decision", actor, AuditOutcome::Success).detail("n", at)
}

/// Two stores on one database (two replicas) append at once: together their indices are 0..n with no
/// gap and no duplicate, and every stored leaf hashes to its stored hash and names its own index.
pub(super) async fn two_writers_share_one_dense_log(db: &TestDb) {
    let other = open(&db.url).await;
    let mut tasks = Vec::new();
    for i in 0..200u32 {
        let store = if i % 2 == 0 { db.store.clone() } else { other.clone() };
        tasks.push(tokio::spawn(async move {
            store.record(event(&format!("ag-{i}"), i64::from(i))).await.unwrap()
        }));
    }
    let mut indices = Vec::new();
    for task in tasks {
        indices.push(task.await.unwrap());
    }
    indices.sort_unstable();
    assert_eq!(indices, (0..200).collect::<Vec<u64>>());
    assert_eq!(db.store.ledger_size().await.unwrap(), 200);
    let entries = db.store.ledger_entries(0, 200).await.unwrap();
    assert_eq!(entries.len(), 200);
    for (position, entry) in entries.iter().enumerate() {
        assert_eq!(entry.index, position as u64);
        let leaf = entry.leaf.as_ref().unwrap();
        assert_eq!(leaf_hash(leaf), entry.leaf_hash);
        assert_eq!(parse_leaf(leaf).unwrap().0, entry.index);
    }
    let hashes = db.store.ledger_leaf_hashes(150, 1000).await.unwrap();
    assert_eq!(hashes, entries[150..].iter().map(|e| e.leaf_hash).collect::<Vec<_>>());
    other.close().await;
}

fn checkpoint(size: u64, note: &str) -> CheckpointRecord {
    CheckpointRecord {
        size,
        root_hash: [size as u8; 32],
        note: note.into(),
        created_at: T0,
        anchor: None,
        cosignatures: Vec::new(),
    }
}

pub(super) async fn checkpoints_are_stored_once_per_size(store: &Store) {
    assert!(store.latest_checkpoint().await.unwrap().is_none());
    assert!(store.insert_checkpoint(&checkpoint(3, "first")).await.unwrap());
    assert!(!store.insert_checkpoint(&checkpoint(3, "second")).await.unwrap());
    assert!(store.insert_checkpoint(&checkpoint(9, "nine")).await.unwrap());
    assert_eq!(store.latest_checkpoint().await.unwrap().unwrap().size, 9);
    let all = store.checkpoints(None, 10).await.unwrap();
    assert_eq!(all.iter().map(|c| c.size).collect::<Vec<_>>(), [3, 9]);
    assert_eq!(
        all[0].note, "first",
        "a second signer of the same size does not replace the first"
    );
    assert_eq!(store.latest_unanchored_checkpoint().await.unwrap().unwrap().size, 9);
    let anchor = serde_json::json!({"tx_hash": "0xab", "block_number": 7});
    store.set_checkpoint_anchor(9, &anchor).await.unwrap();
    store
        .set_checkpoint_cosignatures(9, &["— w1 AAAA".into()])
        .await
        .unwrap();
    let latest = store.latest_checkpoint().await.unwrap().unwrap();
    assert_eq!(latest.anchor, Some(anchor));
    assert_eq!(latest.cosignatures, ["— w1 AAAA"]);
    assert_eq!(store.latest_unanchored_checkpoint().await.unwrap().unwrap().size, 3);
    assert_eq!(store.checkpoints(Some(3), 10).await.unwrap().len(), 1);
}

pub(super) async fn ledger_keys_have_one_winner(store: &Store) {
    assert!(store.ledger_keys().await.unwrap().is_none());
    let mine = LedgerKeysRecord {
        sealed_keys: vec![1; 80],
        verifier_key: "a+01020304+AQ".into(),
        created_at: T0,
    };
    let theirs = LedgerKeysRecord {
        sealed_keys: vec![2; 80],
        verifier_key: "b+01020304+AQ".into(),
        created_at: T0,
    };
    assert_eq!(store.insert_ledger_keys_if_absent(&mine).await.unwrap(), mine);
    assert_eq!(store.insert_ledger_keys_if_absent(&theirs).await.unwrap(), mine);
    assert_eq!(store.replace_ledger_keys_seal(&[3; 80]).await.unwrap(), 1);
    assert_eq!(store.ledger_keys().await.unwrap().unwrap().sealed_keys, vec![3; 80]);
}

/// Retention drops payloads before a time and keeps every leaf hash; readers skip pruned events.
pub(super) async fn retention_keeps_leaf_hashes(store: &Store) {
    for at in 0..6 {
        store.record(event("ag", at * 100)).await.unwrap();
    }
    let before = store.ledger_leaf_hashes(0, 100).await.unwrap();
    assert_eq!(store.prune_ledger_payloads(T0.plus(250)).await.unwrap(), 3);
    assert_eq!(store.prune_ledger_payloads(T0.plus(250)).await.unwrap(), 0);
    assert_eq!(store.ledger_leaf_hashes(0, 100).await.unwrap(), before);
    let entries = store.ledger_entries(0, 6).await.unwrap();
    assert_eq!(entries.iter().filter(|e| e.leaf.is_none()).count(), 3);
    let events = store.audit_events(0, 100).await.unwrap();
    assert_eq!(events.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [3, 4, 5]);
    assert_eq!(store.audit_count().await.unwrap(), 6, "the tree keeps its size");
}

/// Audit rows written before the ledger existed move into it, in order, on the next migrate.
pub(super) async fn pre_ledger_audit_rows_move_in(db: &TestDb) {
    let mut conn = sqlx::AnyConnection::connect(&db.url).await.unwrap();
    for (i, actor) in ["old-1", "old-2"].iter().enumerate() {
        sqlx::query(
            "INSERT INTO audit_events (timestamp, kind, actor, action, resource, outcome, details, request_id) \
             VALUES ($1, 'auth.login', $2, 'auth.login', '', 'success', '{\"k\":1}', NULL)",
        )
        .bind(T0.unix() + i as i64)
        .bind(*actor)
        .execute(&mut conn)
        .await
        .unwrap();
    }
    conn.close().await.unwrap();
    db.store.migrate().await.unwrap();
    let events = db.store.audit_events(0, 10).await.unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!((events[0].0, events[0].1.actor.as_str()), (0, "old-1"));
    assert_eq!((events[1].0, events[1].1.actor.as_str()), (1, "old-2"));
    assert_eq!(events[1].1.details["k"], 1);
    db.store.migrate().await.unwrap();
    assert_eq!(db.store.ledger_size().await.unwrap(), 2, "moving is done once");
    assert_eq!(db.store.record(event("new", 9)).await.unwrap(), 2);
}
