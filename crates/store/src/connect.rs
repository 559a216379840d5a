//! Opening a store: which backend a URL names, the connection pool, and the settings every SQLite
//! connection gets.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::AnyPool;
use sqlx::any::{Any, AnyConnectOptions, AnyPoolOptions};
use sqlx::{ConnectOptions, Connection, Executor, Transaction};
use warden_core::StoreError;

use crate::error;

/// How long opening a connection, or waiting for a free one, may take before the store counts as
/// down. Callers are refused quickly rather than left hanging.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a readiness probe may take in all.
const PING_TIMEOUT: Duration = Duration::from_secs(5);

/// Run on every new SQLite connection, `busy_timeout` first so the others wait for locks instead of
/// failing. `synchronous = FULL` makes every commit, audit events included, durable before it
/// returns, also in WAL mode.
/// `secure_delete` overwrites freed pages, so a deleted or pruned secret version (ciphertext, but
/// still) does not linger in the file.
pub(crate) const SQLITE_PRAGMAS: [&str; 5] = [
    "PRAGMA busy_timeout = 5000",
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA secure_delete = ON",
];

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a store URL names by its scheme.
    pub fn from_url(url: &str) -> Result<Backend, StoreError> {
        let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => Ok(Backend::Sqlite),
            "postgres" | "postgresql" => Ok(Backend::Postgres),
            _ => Err(StoreError::Unavailable(format!(
                "unsupported store URL scheme `{scheme}`: expected `sqlite:` or `postgres://`"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The database behind every repository trait. Cloning is cheap: clones share one pool.
#[derive(Clone)]
pub struct Store {
    pub(crate) pool: AnyPool,
    /// The audit writer's queue (see [`crate::audit`]).
    pub(crate) audit: tokio::sync::mpsc::Sender<crate::audit::Pending>,
    /// The database file, when the store is SQLite on disk: the audit writer and bulk reads open their
    /// own connections to it.
    pub(crate) sqlite_file: Option<Arc<crate::audit::SqliteFile>>,
    backend: Backend,
    /// The URL without password or query string, for `Debug` and logs.
    location: Arc<str>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens a pool on `sqlite://PATH?mode=rwc`, `sqlite:PATH` or `postgres://…` and checks that one
    /// connection works. Fails with [`StoreError::Unavailable`] within about five seconds when the
    /// database cannot be reached. Does not migrate: call [`Store::migrate`] next.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        let backend = Backend::from_url(url)?;
        sqlx::any::install_default_drivers();
        let options = AnyConnectOptions::from_str(url).map_err(error::during("connect"))?;
        probe(&options).await?;
        let pool = pool_options(backend, url)
            .connect_with(options)
            .await
            .map_err(error::during("connect"))?;
        let location: Arc<str> = redact(url).into();
        tracing::debug!(backend = backend.as_str(), %location, "store connected");
        // A database file gets its own writer thread and connection; an in-memory database exists
        // only inside the pool's one connection, so its writer has to use the pool.
        let sqlite_file = match backend {
            Backend::Sqlite if !is_sqlite_memory(url) => Some(Arc::new(
                crate::audit::sqlite_file(url).map_err(error::during("connect"))?,
            )),
            _ => None,
        };
        let audit = match &sqlite_file {
            Some(file) => crate::audit::spawn_file_writer(Arc::clone(file)),
            None => crate::audit::spawn_writer(pool.clone(), backend),
        };
        Ok(Store {
            pool,
            audit,
            sqlite_file,
            backend,
            location,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Readiness: one round trip to the database, bounded in time.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let probe = sqlx::query("SELECT 1").execute(&self.pool);
        match tokio::time::timeout(PING_TIMEOUT, probe).await {
            Ok(result) => result.map(drop).map_err(error::during("ping")),
            Err(_) => Err(StoreError::Unavailable(
                "ping: the database did not answer in time".into(),
            )),
        }
    }

    /// Closes every connection, waiting for the ones in use to come back. Later calls fail.
    pub async fn close(&self) {
        if let Some(file) = &self.sqlite_file {
            let file = Arc::clone(file);
            // Waits for the batch in progress; off the async workers, as it may block for a commit.
            let _ = tokio::task::spawn_blocking(move || file.close()).await;
        }
        self.pool.close().await;
    }

    /// Starts a transaction that is going to write. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so a transaction never has to upgrade a read lock, which SQLite can only
    /// refuse with `SQLITE_BUSY` instead of waiting.
    pub(crate) async fn begin_write(&self, operation: &'static str) -> Result<Transaction<'static, Any>, StoreError> {
        let begin = match self.backend {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        };
        self.pool.begin_with(begin).await.map_err(error::during(operation))
    }
}

/// Opens and closes one connection outside the pool. A pool retries a refused connection until its
/// timeout and then reports only that it timed out; this reports why (refused, unknown host,
/// authentication failed, no such file) and does not wait.
async fn probe(options: &AnyConnectOptions) -> Result<(), StoreError> {
    match tokio::time::timeout(ACQUIRE_TIMEOUT, options.connect()).await {
        Ok(Ok(conn)) => conn.close().await.map_err(error::during("connect")),
        Ok(Err(e)) => Err(error::map("connect", e)),
        Err(_) => Err(StoreError::Unavailable(
            "connect: the database did not answer in time".into(),
        )),
    }
}

fn pool_options(backend: Backend, url: &str) -> AnyPoolOptions {
    let options = AnyPoolOptions::new().acquire_timeout(ACQUIRE_TIMEOUT);
    match backend {
        Backend::Postgres => options.max_connections(16),
        // An in-memory SQLite database lives and dies with its one connection: keep exactly one,
        // forever, or each connection would see a different, empty database.
        Backend::Sqlite if is_sqlite_memory(url) => options
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .after_connect(|conn, _| Box::pin(apply_sqlite_pragmas(conn))),
        // SQLite serializes writers anyway; a few connections let readers proceed beside one writer.
        Backend::Sqlite => options
            .max_connections(8)
            .after_connect(|conn, _| Box::pin(apply_sqlite_pragmas(conn))),
    }
}

async fn apply_sqlite_pragmas(conn: &mut sqlx::AnyConnection) -> Result<(), sqlx::Error> {
    for pragma in SQLITE_PRAGMAS {
        conn.execute(pragma).await?;
    }
    Ok(())
}

fn is_sqlite_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

/// The URL as it may be shown: no password, no query string (which may carry `password=`).
fn redact(url: &str) -> String {
    let without_query = url.split_once('?').map_or(url, |(base, _)| base);
    let Some((scheme, rest)) = without_query.split_once("://") else {
        return without_query.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            format!("{scheme}://{user}@{host}{path}")
        }
        None => without_query.to_owned(),
    }
}

#[cfg(test)]
mod tests;
