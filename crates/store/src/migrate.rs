//! Versioned schema migrations: one list per backend (the DDL differs), applied in order, each in its
//! own transaction, recorded in `warden_migrations`.
//!
//! Several replicas may start at once: on PostgreSQL an advisory lock held until commit, on SQLite
//! the write lock of `BEGIN IMMEDIATE`, lets one migrate while the others wait and then find nothing
//! left to do.

use sqlx::{Any, Transaction};
use warden_core::{Clock, StoreError, SystemClock};

use crate::{Backend, Store, error};

struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
}

// INVARIANT: versions are consecutive from 1, the same in both lists, and a released migration is
// never edited: a change is a new migration.
const SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("../migrations/sqlite/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "policy",
        sql: include_str!("../migrations/sqlite/0002_policy.sql"),
    },
    Migration {
        version: 3,
        name: "vault",
        sql: include_str!("../migrations/sqlite/0003_vault.sql"),
    },
    Migration {
        version: 4,
        name: "ledger",
        sql: include_str!("../migrations/sqlite/0004_ledger.sql"),
    },
    Migration {
        version: 5,
        name: "witness",
        sql: include_str!("../migrations/sqlite/0005_witness.sql"),
    },
    Migration {
        version: 6,
        name: "firewall tokens",
        sql: include_str!("../migrations/sqlite/0006_firewall_tokens.sql"),
    },
];

const POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("../migrations/postgres/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "policy",
        sql: include_str!("../migrations/postgres/0002_policy.sql"),
    },
    Migration {
        version: 3,
        name: "vault",
        sql: include_str!("../migrations/postgres/0003_vault.sql"),
    },
    Migration {
        version: 4,
        name: "ledger",
        sql: include_str!("../migrations/postgres/0004_ledger.sql"),
    },
    Migration {
        version: 5,
        name: "witness",
        sql: include_str!("../migrations/postgres/0005_witness.sql"),
    },
    Migration {
        version: 6,
        name: "firewall tokens",
        sql: include_str!("../migrations/postgres/0006_firewall_tokens.sql"),
    },
];

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS warden_migrations (
    version BIGINT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at BIGINT NOT NULL
)";

/// Serializes migrators on PostgreSQL; released when the transaction ends. The key is arbitrary but
/// fixed (ASCII `wardenmg`).
const POSTGRES_LOCK: &str = "SELECT pg_advisory_xact_lock(8602282538778389863)";

impl Store {
    /// Applies every migration the database lacks; a no-op when it is up to date. Refuses a database
    /// whose schema is newer than this binary knows, rather than run against it.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let migrations = match self.backend() {
            Backend::Sqlite => SQLITE,
            Backend::Postgres => POSTGRES,
        };
        let known = migrations.last().map_or(0, |m| m.version);
        while self.apply_next(migrations, known).await? {}
        let moved = self.import_legacy_audit_events().await?;
        if moved > 0 {
            tracing::info!(events = moved, "moved audit events written before the ledger into it");
        }
        Ok(())
    }

    /// The schema version the database is at (0 before the first migration).
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        let mut tx = self.begin_migration().await?;
        let version = current_version(&mut tx).await?;
        tx.commit().await.map_err(error::during("migrate"))?;
        Ok(version)
    }

    /// A write transaction that holds the migration lock.
    async fn begin_migration(&self) -> Result<Transaction<'static, Any>, StoreError> {
        let mut tx = self.begin_write("migrate").await?;
        if self.backend() == Backend::Postgres {
            sqlx::query(POSTGRES_LOCK)
                .execute(&mut *tx)
                .await
                .map_err(error::during("migrate"))?;
        }
        Ok(tx)
    }

    /// Applies the first missing migration; `false` when there was none.
    async fn apply_next(&self, migrations: &[Migration], known: i64) -> Result<bool, StoreError> {
        let mut tx = self.begin_migration().await?;
        let current = current_version(&mut tx).await?;
        if current > known {
            return Err(StoreError::Unavailable(format!(
                "the database schema is at version {current} but this Warden knows only up to \
                 {known}: run a newer Warden, or restore a backup made for this one"
            )));
        }
        let Some(next) = migrations.iter().find(|m| m.version > current) else {
            tx.commit().await.map_err(error::during("migrate"))?;
            return Ok(false);
        };
        sqlx::raw_sql(next.sql)
            .execute(&mut *tx)
            .await
            .map_err(error::during("migrate"))?;
        sqlx::query("INSERT INTO warden_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
            .bind(next.version)
            .bind(next.name)
            .bind(SystemClock.now().unix())
            .execute(&mut *tx)
            .await
            .map_err(error::during("migrate"))?;
        tx.commit().await.map_err(error::during("migrate"))?;
        tracing::info!(version = next.version, name = next.name, "applied store migration");
        Ok(true)
    }
}

async fn current_version(tx: &mut Transaction<'static, Any>) -> Result<i64, StoreError> {
    sqlx::query(CREATE_TABLE)
        .execute(&mut **tx)
        .await
        .map_err(error::during("migrate"))?;
    let version: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM warden_migrations")
        .fetch_one(&mut **tx)
        .await
        .map_err(error::during("migrate"))?;
    Ok(version.unwrap_or(0))
}
