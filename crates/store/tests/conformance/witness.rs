//! Warden as a witness: one cosigning key however many replicas start at once, the cosigned state that
//! moves only by compare-and-set (so two replicas never cosign a fork), and cosignatures added to the
//! ledger's checkpoints without losing one to a race.

use warden_ledger::Hash;
use warden_store::{CheckpointRecord, Store, WitnessKeyRecord, WitnessedCheckpoint};

use super::{T0, TestDb, open};

fn state(size: u64, root: u8) -> WitnessedCheckpoint {
    WitnessedCheckpoint {
        origin: "log.example/a".into(),
        size,
        root_hash: [root; 32],
        note: format!("log.example/a\n{size}\n…\n"),
        updated_at: T0.plus(size),
    }
}

pub(super) async fn witness_key_has_one_winner_and_reseals(store: &Store) {
    assert!(store.witness_key().await.unwrap().is_none());
    let mine = WitnessKeyRecord {
        sealed_seed: vec![1; 60],
        public_key: vec![2; 32],
        created_at: T0,
    };
    let theirs = WitnessKeyRecord {
        sealed_seed: vec![3; 60],
        public_key: vec![4; 32],
        created_at: T0,
    };
    assert_eq!(store.insert_witness_key_if_absent(&mine).await.unwrap(), mine);
    assert_eq!(store.insert_witness_key_if_absent(&theirs).await.unwrap(), mine);
    assert_eq!(store.replace_witness_key_seal(&[9; 61]).await.unwrap(), 1);
    let resealed = store.witness_key().await.unwrap().unwrap();
    assert_eq!(resealed.sealed_seed, vec![9; 61]);
    assert_eq!(resealed.public_key, mine.public_key, "the public key never changes");
}

pub(super) async fn witnessed_state_moves_only_by_compare_and_set(store: &Store) {
    assert!(store.witnessed_checkpoint("log.example/a").await.unwrap().is_none());
    // First contact: only one of two inserts wins.
    assert!(store.advance_witnessed_checkpoint(None, &state(5, 1)).await.unwrap());
    assert!(!store.advance_witnessed_checkpoint(None, &state(6, 2)).await.unwrap());
    assert_eq!(
        store.witnessed_checkpoint("log.example/a").await.unwrap(),
        Some(state(5, 1))
    );
    // From the stored size and root only.
    let root1: Hash = [1; 32];
    assert!(
        !store
            .advance_witnessed_checkpoint(Some((4, &root1)), &state(9, 3))
            .await
            .unwrap()
    );
    assert!(
        !store
            .advance_witnessed_checkpoint(Some((5, &[7; 32])), &state(9, 3))
            .await
            .unwrap()
    );
    assert!(
        store
            .advance_witnessed_checkpoint(Some((5, &root1)), &state(9, 3))
            .await
            .unwrap()
    );
    // The same checkpoint again is an update that matches.
    assert!(
        store
            .advance_witnessed_checkpoint(Some((9, &[3; 32])), &state(9, 3))
            .await
            .unwrap()
    );
    assert_eq!(
        store.witnessed_checkpoint("log.example/a").await.unwrap(),
        Some(state(9, 3))
    );
    // Other origins are apart.
    assert!(store.witnessed_checkpoint("log.example/b").await.unwrap().is_none());
}

/// Two replicas (two stores on one database) race to advance the same state to two different
/// checkpoints — a fork — many times over: exactly one wins each round.
pub(super) async fn racing_replicas_never_both_advance(db: &TestDb) {
    let other = open(&db.url).await;
    assert!(db.store.advance_witnessed_checkpoint(None, &state(1, 1)).await.unwrap());
    let mut current = (1u64, [1u8; 32]);
    for round in 0..20u8 {
        let (size, root) = current;
        let next_size = size + 1;
        let (a, b) = (db.store.clone(), other.clone());
        let left = tokio::spawn(async move {
            a.advance_witnessed_checkpoint(Some((size, &root)), &state(next_size, 100 + round))
                .await
                .unwrap()
        });
        let right = tokio::spawn(async move {
            b.advance_witnessed_checkpoint(Some((size, &root)), &state(next_size, 200 - round))
                .await
                .unwrap()
        });
        let (left, right) = (left.await.unwrap(), right.await.unwrap());
        assert!(
            left ^ right,
            "round {round}: exactly one replica advances ({left}, {right})"
        );
        let stored = db.store.witnessed_checkpoint("log.example/a").await.unwrap().unwrap();
        assert_eq!(stored.size, next_size);
        assert_eq!(stored.root_hash, [if left { 100 + round } else { 200 - round }; 32]);
        current = (stored.size, stored.root_hash);
    }
    other.close().await;
}

pub(super) async fn cosignatures_are_added_without_losing_one(db: &TestDb) {
    let record = CheckpointRecord {
        size: 7,
        root_hash: [7; 32],
        note: "note".into(),
        created_at: T0,
        anchor: None,
        cosignatures: Vec::new(),
    };
    assert!(db.store.insert_checkpoint(&record).await.unwrap());
    assert!(
        !db.store
            .add_checkpoint_cosignature(8, "\u{2014} w0 AAAA")
            .await
            .unwrap()
    );
    let other = open(&db.url).await;
    let mut tasks = Vec::new();
    for i in 0..10 {
        let store = if i % 2 == 0 { db.store.clone() } else { other.clone() };
        tasks.push(tokio::spawn(async move {
            store
                .add_checkpoint_cosignature(7, &format!("\u{2014} w{i} AAAA"))
                .await
                .unwrap()
        }));
    }
    for task in tasks {
        assert!(task.await.unwrap());
    }
    // The same line twice is kept once.
    assert!(
        db.store
            .add_checkpoint_cosignature(7, "\u{2014} w3 AAAA")
            .await
            .unwrap()
    );
    let mut lines = db.store.latest_checkpoint().await.unwrap().unwrap().cosignatures;
    lines.sort();
    let mut expected: Vec<String> = (0..10).map(|i| format!("\u{2014} w{i} AAAA")).collect();
    expected.sort();
    assert_eq!(lines, expected);
    other.close().await;
}
