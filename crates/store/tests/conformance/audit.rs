//! The audit log: ids, round trips, durability across reopening.

use serde_json::json;
use warden_core::{AuditEvent, AuditOutcome, AuditSink};
use warden_store::Store;

use super::{T0, TestDb, open};

fn audit_samples() -> Vec<AuditEvent> {
    vec![
        AuditEvent::new(T0, "auth.login", "ag-1", AuditOutcome::Success)
            .resource("agent:ag-1")
            .detail("method", "password")
            .request_id(Some("req-1")),
        AuditEvent::new(T0.plus(1), "auth.login", "anonymous", AuditOutcome::Failure)
            .detail("attempts", 3)
            .detail("nested", json!({"a": [1, 2, {"b": null}], "ünïcode": "✓"})),
        AuditEvent::new(T0.plus(2), "key.rotated", "system", AuditOutcome::Denied),
    ]
}

async fn record_all(store: &Store, events: &[AuditEvent]) -> Vec<u64> {
    let mut ids = Vec::new();
    for event in events {
        ids.push(store.record(event.clone()).await.unwrap());
    }
    ids
}

pub(super) async fn audit_events_round_trip(store: &Store) {
    assert_eq!(store.audit_count().await.unwrap(), 0);
    let events = audit_samples();
    let ids = record_all(store, &events).await;
    assert_eq!(ids, [0, 1, 2], "leaf indices are dense from 0");
    assert_eq!(store.audit_count().await.unwrap(), 3);

    let read = store.audit_events(0, 100).await.unwrap();
    let expected: Vec<_> = ids.iter().copied().zip(events.iter().cloned()).collect();
    assert_eq!(read, expected);
    assert_eq!(store.audit_events(ids[1], 1).await.unwrap(), expected[1..2]);
    assert!(store.audit_events(ids[2] + 1, 100).await.unwrap().is_empty());
}

pub(super) async fn audit_events_survive_reopening(db: &TestDb) {
    let events = audit_samples();
    let ids = record_all(&db.store, &events).await;
    db.store.close().await;
    assert!(db.store.ping().await.is_err(), "a closed store refuses work");

    let reopened = open(&db.url).await;
    let expected: Vec<_> = ids.into_iter().zip(events).collect();
    assert_eq!(reopened.audit_events(0, 100).await.unwrap(), expected);
    reopened.close().await;
}

/// A burst of concurrent events (group-committed in batches) is recorded whole: every caller gets a
/// distinct id, and reading the log back finds each event under the id its caller was given.
pub(super) async fn audit_burst_is_recorded_whole(store: &Store) {
    let ids = super::race(store, 300, |store, i| async move {
        let event = AuditEvent::new(T0, "authz.decision", &format!("ag-{i}"), AuditOutcome::Success);
        store.record(event).await.unwrap()
    })
    .await;
    let distinct: std::collections::BTreeSet<u64> = ids.iter().copied().collect();
    assert_eq!(
        distinct,
        (0..300).collect(),
        "every event has its own index, with no gap"
    );
    let stored = store.audit_events(0, 1000).await.unwrap();
    assert_eq!(stored.len(), 300);
    for (i, id) in ids.iter().enumerate() {
        let found = stored.iter().find(|(stored_id, _)| *stored_id == *id).unwrap();
        assert_eq!(
            found.1.actor,
            format!("ag-{i}"),
            "id {id} names the event its caller recorded"
        );
    }
}
