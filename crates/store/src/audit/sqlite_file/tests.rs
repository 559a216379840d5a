#![allow(clippy::unwrap_used, reason = "tests fail by panicking")]

use std::path::Path;

use super::*;

#[test]
fn file_urls_name_their_file() {
    let file = sqlite_file("sqlite:///tmp/w/warden.db?mode=rwc").unwrap();
    assert_eq!(file.path, Path::new("/tmp/w/warden.db"));
    assert!(!file.read_only);
    let file = sqlite_file("sqlite:data/warden.db?mode=ro").unwrap();
    assert_eq!(file.path, Path::new("data/warden.db"));
    assert!(file.read_only);
}

fn event(n: u64) -> warden_core::AuditEvent {
    warden_core::AuditEvent::new(
        warden_core::Timestamp::from_unix(1_800_000_000),
        "authz.decision",
        &format!("ag-{n}"),
        warden_core::AuditOutcome::Success,
    )
}

/// A writer that cannot write (a trigger stands for a full disk) fails every caller of the batch with
/// the reason, writes nothing, and appends again at the next index once the cause is gone; the bulk
/// reader sees the entries the writer committed.
#[tokio::test]
async fn a_refused_batch_fails_every_caller_and_the_writer_recovers() {
    use sqlx::Connection as _;
    use warden_core::AuditSink as _;

    let dir = tempfile::tempdir().unwrap();
    let url = crate::testing::sqlite_url(&dir.path().join("warden.db"));
    let store = crate::Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    assert!(store.sqlite_file.is_some(), "a file database gets the rusqlite writer");
    assert_eq!(store.record(event(0)).await.unwrap(), 0);

    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    sqlx::raw_sql(
        "CREATE TRIGGER ledger_full BEFORE INSERT ON ledger_entries BEGIN SELECT RAISE(ABORT, 'disk full'); END",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let refused = futures_join((1..=8).map(|n| {
        let store = store.clone();
        async move { store.record(event(n)).await }
    }))
    .await;
    for result in refused {
        let error = result.unwrap_err().to_string();
        assert!(error.contains("disk full"), "{error}");
    }
    assert_eq!(
        store.ledger_size().await.unwrap(),
        1,
        "nothing of a refused batch is written"
    );

    sqlx::raw_sql("DROP TRIGGER ledger_full")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    assert_eq!(store.record(event(9)).await.unwrap(), 1, "the next index, no gap");
    let entries = store.ledger_entries_bulk(0, 10).await.unwrap();
    assert_eq!(entries, store.ledger_entries(0, 10).await.unwrap());
    assert_eq!(entries.iter().map(|e| e.index).collect::<Vec<_>>(), [0, 1]);
    store.close().await;
}

/// Runs every future at once on the current runtime, each as its own task.
async fn futures_join<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut outputs = Vec::new();
    for handle in handles {
        outputs.push(handle.await.unwrap());
    }
    outputs
}
