//! The store conformance suite: every check runs against SQLite (a temporary file) and against
//! PostgreSQL (a throwaway schema) when `WARDEN_TEST_POSTGRES_URL` is set. Unset, the PostgreSQL
//! tests say loudly that they skipped; set but unreachable, they fail.
//!
//! The checks are written once, as functions of a `&Store` (or of the test database when they need
//! to reopen it), and the `conformance!` macro turns each into `sqlite::<check>` and
//! `postgres::<check>` tests. Races run on a multi-threaded runtime so they are real races. The
//! checks live in `conformance/`, one file per repository; this file holds the harness, the shared
//! fixtures and the tests that are not about one backend's data.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use sqlx::Connection;
use tempfile::TempDir;
use tokio::sync::Barrier;
use warden_core::{StoreError, Timestamp};
use warden_identity::repo::{AgentRepository, RefreshRecord};
use warden_identity::{Agent, AgentStatus};
use warden_store::testing::{self, PostgresSchema};
use warden_store::{Backend, Store};

#[path = "conformance/agents.rs"]
mod agents;
#[path = "conformance/audit.rs"]
mod audit;
#[path = "conformance/credentials.rs"]
mod credentials;
#[path = "conformance/firewall.rs"]
mod firewall;
#[path = "conformance/keys.rs"]
mod keys;
#[path = "conformance/ledger.rs"]
mod ledger;
#[path = "conformance/migrations.rs"]
mod migrations;
#[path = "conformance/policy.rs"]
mod policy;
#[path = "conformance/tokens.rs"]
mod tokens;
#[path = "conformance/vault.rs"]
mod vault;
#[path = "conformance/witness.rs"]
mod witness;

const T0: Timestamp = Timestamp::from_unix(1_700_000_000);

// --- harness ------------------------------------------------------------------------------------

/// A store on a database of its own (migrated unless asked otherwise), and what it takes to reopen
/// and clean it up.
struct TestDb {
    store: Store,
    url: String,
    _dir: Option<TempDir>,
    schema: Option<PostgresSchema>,
}

impl TestDb {
    async fn sqlite(migrated: bool) -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let url = testing::sqlite_url(&dir.path().join("warden.db"));
        let store = connect(&url, migrated).await;
        assert_eq!(store.backend(), Backend::Sqlite);
        TestDb {
            store,
            url,
            _dir: Some(dir),
            schema: None,
        }
    }

    async fn postgres(migrated: bool) -> Option<TestDb> {
        let Some(base) = testing::postgres_url() else {
            eprintln!(
                "SKIPPED: PostgreSQL conformance suite ({} unset)",
                testing::POSTGRES_URL_VAR
            );
            return None;
        };
        let schema = PostgresSchema::create(&base)
            .await
            .unwrap_or_else(|e| panic!("{} is set but PostgreSQL is not usable: {e}", testing::POSTGRES_URL_VAR));
        let url = schema.url().to_owned();
        let store = connect(&url, migrated).await;
        assert_eq!(store.backend(), Backend::Postgres);
        Some(TestDb {
            store,
            url,
            _dir: None,
            schema: Some(schema),
        })
    }

    async fn finish(self) {
        self.store.close().await;
        if let Some(schema) = self.schema {
            schema.drop_schema().await.unwrap();
        }
    }
}

async fn open(url: &str) -> Store {
    connect(url, true).await
}

async fn connect(url: &str, migrated: bool) -> Store {
    let store = Store::connect(url).await.unwrap();
    if migrated {
        store.migrate().await.unwrap();
    }
    store.ping().await.unwrap();
    store
}

/// Expands each check into a `sqlite::` and a `postgres::` test. `store` checks get a migrated
/// `&Store`, `db` checks the migrated `&TestDb`, `fresh` checks a `&TestDb` never migrated.
macro_rules! conformance {
    (
        store: [$($module:ident::$check:ident),* $(,)?],
        db: [$($db_module:ident::$db_check:ident),* $(,)?],
        fresh: [$($fresh_module:ident::$fresh_check:ident),* $(,)?] $(,)?
    ) => {
        conformance!(@backend sqlite, |migrated| async move { Some(super::TestDb::sqlite(migrated).await) },
            [$($module::$check),*], [$($db_module::$db_check),*], [$($fresh_module::$fresh_check),*]);
        conformance!(@backend postgres, |migrated| super::TestDb::postgres(migrated),
            [$($module::$check),*], [$($db_module::$db_check),*], [$($fresh_module::$fresh_check),*]);
    };
    (
        @backend $backend:ident, $make:expr,
        [$($module:ident::$check:ident),*],
        [$($db_module:ident::$db_check:ident),*],
        [$($fresh_module:ident::$fresh_check:ident),*]
    ) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $check() {
                    let Some(db) = ($make)(true).await else { return };
                    super::$module::$check(&db.store).await;
                    db.finish().await;
                }
            )*
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $db_check() {
                    let Some(db) = ($make)(true).await else { return };
                    super::$db_module::$db_check(&db).await;
                    db.finish().await;
                }
            )*
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $fresh_check() {
                    let Some(db) = ($make)(false).await else { return };
                    super::$fresh_module::$fresh_check(&db).await;
                    db.finish().await;
                }
            )*
        }
    };
}

conformance! {
    store: [
        agents::agents_round_trip,
        agents::agent_name_and_id_conflict,
        agents::agents_list_in_pages,
        credentials::passwords_round_trip,
        credentials::failed_attempts_count_atomically,
        credentials::api_keys_round_trip,
        credentials::credentials_need_an_agent,
        credentials::public_keys_round_trip,
        credentials::challenge_is_taken_once_under_race,
        credentials::challenges_purge,
        credentials::certificates_round_trip,
        credentials::ca_insert_if_absent_race_has_one_winner,
        tokens::refresh_spend_outcomes,
        tokens::refresh_spend_race_has_one_winner,
        tokens::revocations_filter_and_purge,
        keys::signing_key_rotation_and_purge,
        keys::concurrent_rotations_leave_one_current_key,
        keys::settings_upsert,
        audit::audit_events_round_trip,
        audit::audit_burst_is_recorded_whole,
        ledger::checkpoints_are_stored_once_per_size,
        ledger::ledger_keys_have_one_winner,
        ledger::retention_keeps_leaf_hashes,
        policy::policy_versions_newest_wins,
        policy::grants_live_revoke_and_purge,
        vault::secrets_round_trip_and_rotate,
        vault::concurrent_rotations_have_one_winner,
        vault::secret_grants_expire_and_go_with_the_secret,
        vault::master_key_rewrap_is_resumable_and_never_clobbers,
        vault::rotation_due_is_noted_once,
        migrations::migrate_twice_is_a_no_op,
        witness::witness_key_has_one_winner_and_reseals,
        witness::witnessed_state_moves_only_by_compare_and_set,
        firewall::firewall_tokens_reissue_erase_and_purge,
    ],
    db: [
        audit::audit_events_survive_reopening,
        ledger::two_writers_share_one_dense_log,
        ledger::pre_ledger_audit_rows_move_in,
        migrations::newer_schema_is_refused,
        witness::racing_replicas_never_both_advance,
        witness::cosignatures_are_added_without_losing_one,
    ],
    fresh: [
        migrations::concurrent_first_migrations_agree,
    ],
}

// --- fixtures ----------------------------------------------------------------------------------

fn agent(id: &str, name: &str) -> Agent {
    let mut attributes = serde_json::Map::new();
    attributes.insert("team".into(), json!("payments"));
    attributes.insert("limits".into(), json!({"rps": 10, "burst": [1, 2.5, null, true]}));
    Agent {
        id: id.into(),
        name: name.into(),
        roles: vec!["reader".into(), "writer".into()],
        capabilities: vec!["db:read".into()],
        scopes: vec!["orders:read".into(), "orders:write".into()],
        tier: Some("gold".into()),
        attributes,
        status: AgentStatus::Active,
        created_at: T0,
        updated_at: T0,
        tokens_valid_after: Timestamp::EPOCH,
    }
}

async fn with_agent(store: &Store, id: &str) {
    store.insert_agent(&agent(id, &format!("name-{id}"))).await.unwrap();
}

fn refresh(jti: &str, agent_id: &str, expires_at: Timestamp) -> RefreshRecord {
    RefreshRecord {
        jti: jti.into(),
        family_id: "family-1".into(),
        agent_id: agent_id.into(),
        issued_at: T0,
        expires_at,
        spent_at: None,
    }
}

/// Runs `call(store, i)` for `i` in `0..n` at the same moment and returns the results in order of
/// `i`. The pool is warmed first and a barrier releases the tasks together, so they really race
/// instead of queueing behind connection setup.
async fn race<T, F, Fut>(store: &Store, n: usize, call: F) -> Vec<T>
where
    F: Fn(Store, usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let warmers: Vec<_> = (0..n)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.ping().await.unwrap() })
        })
        .collect();
    for warmer in warmers {
        warmer.await.unwrap();
    }
    let barrier = Arc::new(Barrier::new(n));
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let barrier = Arc::clone(&barrier);
            let work = call(store.clone(), i);
            tokio::spawn(async move {
                barrier.wait().await;
                work.await
            })
        })
        .collect();
    let mut results = Vec::with_capacity(n);
    for task in tasks {
        results.push(task.await.unwrap());
    }
    results
}

fn is_conflict<T: std::fmt::Debug>(result: Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::Conflict(_)))
}

// --- failures ----------------------------------------------------------------------------------

#[tokio::test]
async fn unreachable_postgres_is_unavailable_quickly() {
    let started = Instant::now();
    let result = match Store::connect("postgres://postgres@127.0.0.1:1/test").await {
        Ok(store) => store.ping().await.map(|()| store),
        Err(error) => Err(error),
    };
    assert!(matches!(result, Err(StoreError::Unavailable(_))), "{result:?}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn unknown_scheme_is_refused() {
    let result = Store::connect("mysql://root:hunter2@127.0.0.1/warden").await;
    match result {
        Err(StoreError::Unavailable(message)) => {
            assert!(message.contains("`mysql`"));
            assert!(!message.contains("hunter2"), "no password in errors");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn debug_names_the_location() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&testing::sqlite_url(&dir.path().join("w.db"))).await;
    assert!(format!("{store:?}").contains("w.db"));
    store.close().await;
}

// --- SQLite specifics --------------------------------------------------------------------------

#[tokio::test]
async fn sqlite_file_is_in_wal_mode() {
    let db = TestDb::sqlite(true).await;
    // The journal mode is stored in the file, so a connection outside the pool sees it.
    let mut conn = sqlx::AnyConnection::connect(&db.url).await.unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    conn.close().await.unwrap();
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_in_memory_keeps_one_database() {
    let store = open("sqlite::memory:").await;
    with_agent(&store, "ag-1").await;
    // Concurrent readers must all see the same in-memory database.
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.count_agents().await.unwrap() })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), 1);
    }
    store.close().await;
}
