#![allow(clippy::unwrap_used, reason = "tests fail by panicking")]

use super::*;

#[test]
fn redact_drops_password_and_query() {
    assert_eq!(
        redact("postgres://warden:s3cret@db.example:5432/warden?sslmode=require&password=x"),
        "postgres://warden@db.example:5432/warden"
    );
    assert_eq!(redact("postgres://warden@db/warden"), "postgres://warden@db/warden");
    assert_eq!(
        redact("sqlite:///var/lib/warden/warden.db?mode=rwc"),
        "sqlite:///var/lib/warden/warden.db"
    );
    assert_eq!(redact("sqlite:warden.db"), "sqlite:warden.db");
}

#[test]
fn backend_is_named_by_scheme() {
    assert_eq!(Backend::from_url("sqlite:x.db").ok(), Some(Backend::Sqlite));
    assert_eq!(Backend::from_url("sqlite://x.db?mode=rwc").ok(), Some(Backend::Sqlite));
    assert_eq!(Backend::from_url("postgres://h/db").ok(), Some(Backend::Postgres));
    assert_eq!(Backend::from_url("postgresql://h/db").ok(), Some(Backend::Postgres));
    assert!(matches!(
        Backend::from_url("mysql://h/db"),
        Err(StoreError::Unavailable(_))
    ));
    assert!(matches!(
        Backend::from_url("warden.db"),
        Err(StoreError::Unavailable(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sqlite_connection_gets_the_pragmas() {
    let dir = tempfile::tempdir().unwrap();
    let url = crate::testing::sqlite_url(&dir.path().join("pragmas.db"));
    let store = Store::connect(&url).await.unwrap();
    // Hold several connections at once so the pool has to open new ones.
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(store.pool.acquire().await.unwrap());
    }
    for conn in &mut held {
        let pragma = |name: &'static str| sqlx::query_scalar::<_, i64>(name);
        assert_eq!(
            pragma("PRAGMA synchronous").fetch_one(&mut **conn).await.unwrap(),
            2,
            "FULL"
        );
        assert_eq!(pragma("PRAGMA foreign_keys").fetch_one(&mut **conn).await.unwrap(), 1);
        assert_eq!(
            pragma("PRAGMA busy_timeout").fetch_one(&mut **conn).await.unwrap(),
            5000
        );
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut **conn)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
    }
    drop(held);
    store.close().await;
}
