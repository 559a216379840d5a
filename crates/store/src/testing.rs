//! Helpers for tests, in this crate and others: where the test PostgreSQL is, and a throwaway schema
//! on it so every test run is isolated.
//!
//! ```no_run
//! # async fn demo() -> Result<(), warden_core::StoreError> {
//! use warden_store::{Store, testing};
//! let Some(base) = testing::postgres_url() else {
//!     eprintln!("SKIPPED: … ({} unset)", testing::POSTGRES_URL_VAR);
//!     return Ok(());
//! };
//! let schema = testing::PostgresSchema::create(&base).await?;
//! let store = Store::connect(schema.url()).await?;
//! store.migrate().await?;
//! // … the test …
//! store.close().await;
//! schema.drop_schema().await?;
//! # Ok(()) }
//! ```

use std::path::Path;
use std::time::Duration;

use sqlx::{AnyConnection, AssertSqlSafe, Connection};
use warden_core::{StoreError, SystemEntropy, random_bytes};

use crate::error;

/// The environment variable naming the PostgreSQL server tests may use, e.g.
/// `postgres://postgres@127.0.0.1:5432/test`.
pub const POSTGRES_URL_VAR: &str = "WARDEN_TEST_POSTGRES_URL";

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The test PostgreSQL URL, if [`POSTGRES_URL_VAR`] is set and not empty.
pub fn postgres_url() -> Option<String> {
    std::env::var(POSTGRES_URL_VAR)
        .ok()
        .filter(|url| !url.trim().is_empty())
}

/// The URL of a SQLite database file at `path`, created if missing.
pub fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

/// A schema named `warden_test_<random hex>`, and a URL whose connections use it as their
/// `search_path`, so tables created through it land there and nowhere else.
///
/// Drop it with [`PostgresSchema::drop_schema`] (close stores using it first). If a test panics
/// before that, dropping the value removes the schema on a helper thread, best effort.
#[derive(Debug)]
pub struct PostgresSchema {
    name: String,
    base_url: String,
    url: String,
    dropped: bool,
}

impl PostgresSchema {
    /// Creates a fresh schema on the server at `base_url`. Fails with
    /// [`StoreError::Unavailable`] within a few seconds if the server cannot be reached.
    /// `base_url` must not carry an `options` parameter of its own.
    pub async fn create(base_url: &str) -> Result<PostgresSchema, StoreError> {
        let name = format!("warden_test_{}", hex(&random_bytes::<8>(&SystemEntropy)));
        run(base_url, format!("CREATE SCHEMA {name}")).await?;
        let separator = if base_url.contains('?') { '&' } else { '?' };
        let url = format!("{base_url}{separator}options=-c%20search_path%3D{name}");
        Ok(PostgresSchema {
            name,
            base_url: base_url.to_owned(),
            url,
            dropped: false,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The URL to hand to [`crate::Store::connect`].
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Drops the schema and everything in it.
    pub async fn drop_schema(mut self) -> Result<(), StoreError> {
        self.dropped = true;
        run(&self.base_url, drop_statement(&self.name)).await
    }
}

impl Drop for PostgresSchema {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        // Drop cannot await, and may run inside a runtime that must not be blocked on itself: use a
        // thread with a runtime of its own.
        let base_url = self.base_url.clone();
        let statement = drop_statement(&self.name);
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
            if let Ok(runtime) = runtime {
                let _ = runtime.block_on(run(&base_url, statement));
            }
        });
        let _ = cleanup.join();
    }
}

fn drop_statement(name: &str) -> String {
    format!("DROP SCHEMA IF EXISTS {name} CASCADE")
}

/// Runs one statement on a connection of its own. `statement` only ever contains a schema name this
/// module generated.
async fn run(base_url: &str, statement: String) -> Result<(), StoreError> {
    sqlx::any::install_default_drivers();
    let work = async {
        let mut conn = AnyConnection::connect(base_url).await?;
        sqlx::raw_sql(AssertSqlSafe(statement)).execute(&mut conn).await?;
        conn.close().await
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, work).await {
        Ok(result) => result.map_err(error::during("prepare test schema")),
        Err(_) => Err(StoreError::Unavailable(
            "prepare test schema: PostgreSQL did not answer in time".into(),
        )),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
