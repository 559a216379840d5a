//! The migration runner: idempotent, and refusing a schema from the future.

use sqlx::Connection;
use warden_core::StoreError;
use warden_identity::repo::AgentRepository;
use warden_store::Store;

use super::{T0, TestDb, race, with_agent};

pub(super) async fn migrate_twice_is_a_no_op(store: &Store) {
    with_agent(store, "ag-1").await;
    assert_eq!(store.schema_version().await.unwrap(), 6);
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    assert_eq!(store.schema_version().await.unwrap(), 6);
    assert_eq!(store.count_agents().await.unwrap(), 1, "data survives");
}

pub(super) async fn newer_schema_is_refused(db: &TestDb) {
    let mut conn = sqlx::AnyConnection::connect(&db.url).await.unwrap();
    sqlx::query("INSERT INTO warden_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
        .bind(999_i64)
        .bind("from the future")
        .bind(T0.unix())
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    match db.store.migrate().await {
        Err(StoreError::Unavailable(message)) => {
            assert!(message.contains("999"), "the error names the version: {message}");
        }
        other => panic!("a newer schema must be refused, got {other:?}"),
    }
}

/// Replicas starting together against an empty database: all of them succeed, the schema is built
/// once.
pub(super) async fn concurrent_first_migrations_agree(db: &TestDb) {
    assert_eq!(db.store.schema_version().await.unwrap(), 0);
    let outcomes = race(&db.store, 4, |_, _| {
        let url = db.url.clone();
        async move {
            let replica = Store::connect(&url).await.unwrap();
            let outcome = replica.migrate().await;
            replica.close().await;
            outcome
        }
    })
    .await;
    for outcome in outcomes {
        outcome.unwrap();
    }
    assert_eq!(db.store.schema_version().await.unwrap(), 6);
    with_agent(&db.store, "ag-1").await;
}
