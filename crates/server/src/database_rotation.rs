//! Warden-driven rotation of `database` secrets on PostgreSQL: the statements, run over the configured
//! admin connection (`vault.database_rotation`).
//!
//! One rotation is one transaction: read the previous login role's `VALID UNTIL`, create the new
//! version's login role as a member of the group role, give the previous role `VALID UNTIL now +
//! grace` (never later than it already had). Either all of it happens or none. If storing the new
//! version fails afterwards, [`undo`] drops the new role and puts the old deadline back.
//!
//! The password itself never reaches PostgreSQL: the role is created with its SCRAM-SHA-256 verifier
//! ([`warden_vault::scram_sha256_verifier`]). `ALTER ROLE … PASSWORD` takes no bind parameters, so the
//! verifier is a quoted literal in the statement text; that text is therefore never logged (sqlx's
//! statement logging is off on this connection) and no error repeats it: every database error is
//! mapped to a message of ours, with the server's message only when it does not contain the verifier.
//!
//! This module does not decide anything (the route does) and keeps no connection open between
//! rotations.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection};
use warden_core::{Seconds, Secret};
use warden_vault::{PasswordLength, RoleName, RotationStep};

/// How long connecting to the admin connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// `vault.database_rotation`, validated.
#[derive(Debug, Clone)]
pub struct DatabaseRotation {
    pub admin_url: AdminUrl,
    /// How long the previous version's login role keeps working after a rotation.
    pub grace: Seconds,
    pub password_length: PasswordLength,
}

/// The longest grace accepted.
pub const MAX_GRACE: Seconds = Seconds::days(365);

/// A PostgreSQL URL for a role with `CREATEROLE`. It carries a password, so `Debug` and
/// [`AdminUrl::redacted`] never show it.
#[derive(Clone)]
pub struct AdminUrl(Secret);

impl AdminUrl {
    /// Checks the URL parses as a PostgreSQL connection URL (no connection is made). The error never
    /// repeats the URL.
    pub fn parse(url: &str) -> Result<AdminUrl, String> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err("must be a postgres:// or postgresql:// URL".into());
        }
        PgConnectOptions::from_str(url).map_err(|_| "is not a PostgreSQL URL that parses".to_owned())?;
        Ok(AdminUrl(Secret::new(url)))
    }

    /// `scheme://user:***@host:port/db`: the password masked and any query string (which may carry
    /// `password=`) left out. What error messages and the log show.
    pub fn redacted(&self) -> String {
        let url = self.0.expose();
        let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
        let rest = rest.split_once('?').map_or(rest, |(before, _)| before);
        // The last `@` ends the user part: a raw `@` in a password cannot hide the host behind it.
        let shown = match rest.rsplit_once('@') {
            Some((userinfo, host)) => match userinfo.split_once(':') {
                Some((user, _)) => format!("{user}:***@{host}"),
                None => format!("{userinfo}@{host}"),
            },
            None => rest.to_owned(),
        };
        let query = if url.contains('?') { "?…" } else { "" };
        format!("{scheme}://{shown}{query}")
    }

    fn options(&self) -> Result<PgConnectOptions, RotationError> {
        let options = PgConnectOptions::from_str(self.0.expose()).map_err(|_| RotationError::Unreachable {
            target: self.redacted(),
            reason: "the URL does not parse".into(),
        })?;
        // INVARIANT: statements on this connection carry a password verifier; sqlx must not log them.
        Ok(options.application_name("warden-rotation").disable_statement_logging())
    }
}

impl fmt::Debug for AdminUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AdminUrl({})", self.redacted())
    }
}

/// Why the database step of a rotation failed. No variant carries a password or a verifier.
#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    #[error("cannot reach PostgreSQL at {target}: {reason}")]
    Unreachable { target: String, reason: String },
    /// The connection was made but broke down (not an answer of the server's).
    #[error("the connection to PostgreSQL failed while {step}: {reason}")]
    Broken { step: String, reason: String },
    #[error("PostgreSQL has no role `{role}` (the secret's `username`)")]
    NoSuchRole { role: String },
    #[error("PostgreSQL already has a role `{role}` (a concurrent rotation, or a role made by hand)")]
    RoleExists { role: String },
    #[error("PostgreSQL refused {step}: {message} (SQLSTATE {code}){hint}")]
    Refused {
        step: String,
        code: String,
        message: String,
        hint: &'static str,
    },
}

/// What a rotation changed on the database, to report and, if need be, to undo.
#[derive(Debug, Clone)]
pub struct Applied {
    pub new_role: RoleName,
    pub previous: RoleName,
    /// The previous role's new `VALID UNTIL`, RFC 3339 (UTC, whole seconds).
    pub previous_valid_until: String,
    /// What it was before (`None`: no limit), as PostgreSQL writes it, to put back.
    prior_valid_until: Option<String>,
}

/// Creates `step.new_role` with the password behind `verifier`, a member of `step.group`, and lets
/// `step.previous` log in for `grace` more (by the database's clock, which is the one that enforces
/// it). All or nothing.
pub async fn apply(config: &DatabaseRotation, step: &RotationStep, verifier: &str) -> Result<Applied, RotationError> {
    let mut conn = connect(&config.admin_url).await?;
    let result = apply_on(&mut conn, config.grace, step, verifier).await;
    let _ = conn.close().await;
    result
}

async fn apply_on(
    conn: &mut PgConnection,
    grace: Seconds,
    step: &RotationStep,
    verifier: &str,
) -> Result<Applied, RotationError> {
    let mut tx = conn
        .begin()
        .await
        .map_err(|e| refused("starting a transaction", e, verifier))?;
    sqlx::raw_sql("SET LOCAL lock_timeout = '10s'; SET LOCAL statement_timeout = '30s'")
        .execute(&mut *tx)
        .await
        .map_err(|e| refused("setting timeouts", e, verifier))?;
    let grace_secs = i64::try_from(grace.get()).unwrap_or(i64::MAX);
    let deadline: Option<(Option<String>, String, String)> = sqlx::query_as(
        "SELECT rolvaliduntil::text, until::text, \
                to_char(until AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') \
         FROM pg_roles, LATERAL (SELECT LEAST(rolvaliduntil, now() + make_interval(secs => $2::bigint)) AS until) d \
         WHERE rolname = $1",
    )
    .bind(step.previous.as_str())
    .bind(grace_secs)
    .fetch_optional(&mut *tx)
    .await
    .map_err(|e| refused(&format!("reading role `{}`", step.previous), e, verifier))?;
    let Some((prior_valid_until, until, until_rfc3339)) = deadline else {
        return Err(RotationError::NoSuchRole {
            role: step.previous.to_string(),
        });
    };

    let create = format!(
        "CREATE ROLE {} WITH LOGIN INHERIT PASSWORD {} IN ROLE {}",
        quote_ident(&step.new_role),
        quote_literal(verifier),
        quote_ident(&step.group),
    );
    sqlx::raw_sql(AssertSqlSafe(create))
        .execute(&mut *tx)
        .await
        .map_err(|e| match e {
            sqlx::Error::Database(db) if db.code().as_deref() == Some("42710") => RotationError::RoleExists {
                role: step.new_role.to_string(),
            },
            other => refused(
                &format!("creating role `{}` in role `{}`", step.new_role, step.group),
                other,
                verifier,
            ),
        })?;

    let expire = format!(
        "ALTER ROLE {} VALID UNTIL {}",
        quote_ident(&step.previous),
        quote_literal(&until)
    );
    sqlx::raw_sql(AssertSqlSafe(expire))
        .execute(&mut *tx)
        .await
        .map_err(|e| refused(&format!("setting VALID UNTIL on role `{}`", step.previous), e, verifier))?;
    tx.commit().await.map_err(|e| refused("committing", e, verifier))?;
    Ok(Applied {
        new_role: step.new_role.clone(),
        previous: step.previous.clone(),
        previous_valid_until: until_rfc3339,
        prior_valid_until,
    })
}

/// Reverses [`apply`]: drops the new role and gives the previous one its old `VALID UNTIL` back.
pub async fn undo(config: &DatabaseRotation, applied: &Applied) -> Result<(), RotationError> {
    let mut conn = connect(&config.admin_url).await?;
    let prior = applied.prior_valid_until.as_deref().unwrap_or("infinity");
    let statements = format!(
        "BEGIN; DROP ROLE IF EXISTS {}; ALTER ROLE {} VALID UNTIL {}; COMMIT;",
        quote_ident(&applied.new_role),
        quote_ident(&applied.previous),
        quote_literal(prior),
    );
    let result = sqlx::raw_sql(AssertSqlSafe(statements))
        .execute(&mut conn)
        .await
        .map(|_| ())
        .map_err(|e| refused(&format!("undoing the creation of role `{}`", applied.new_role), e, ""));
    let _ = conn.close().await;
    result
}

async fn connect(url: &AdminUrl) -> Result<PgConnection, RotationError> {
    let options = url.options()?;
    let unreachable = |reason: String| RotationError::Unreachable {
        target: url.redacted(),
        reason,
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, options.connect()).await {
        Err(_) => Err(unreachable(format!(
            "no answer within {} seconds",
            CONNECT_TIMEOUT.as_secs()
        ))),
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(sqlx::Error::Database(db))) => Err(RotationError::Refused {
            step: format!("the admin connection to {}", url.redacted()),
            code: db.code().map(|c| c.into_owned()).unwrap_or_default(),
            message: db.message().to_owned(),
            hint: "",
        }),
        Ok(Err(other)) => Err(unreachable(connection_failure(&other))),
    }
}

/// Our own words for a failed statement. The server's message is kept only when it does not contain
/// `verifier` (it never should: nothing PostgreSQL reports for these statements quotes the literal).
fn refused(step: &str, error: sqlx::Error, verifier: &str) -> RotationError {
    match error {
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            let message = db.message();
            let message = if !verifier.is_empty() && message.contains(verifier) {
                "(the server's message is withheld: it quoted the statement)".to_owned()
            } else {
                message.to_owned()
            };
            let hint = if code == "42501" {
                "; the admin role needs CREATEROLE (on PostgreSQL 16 and later also ADMIN OPTION on the group \
                 and the login roles)"
            } else {
                ""
            };
            RotationError::Refused {
                step: step.to_owned(),
                code,
                message,
                hint,
            }
        }
        other => RotationError::Broken {
            step: step.to_owned(),
            reason: connection_failure(&other),
        },
    }
}

/// A failure that is not the server's answer, described without anything sqlx might have attached.
fn connection_failure(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Io(io) => io.to_string(),
        sqlx::Error::Tls(tls) => format!("TLS: {tls}"),
        sqlx::Error::Protocol(_) => "the server broke the protocol".into(),
        sqlx::Error::Configuration(_) => "the URL's settings are not usable".into(),
        _ => "the connection failed".into(),
    }
}

/// A role name as a quoted identifier. [`RoleName`] only admits `[A-Za-z_][A-Za-z0-9_]*`, so there is
/// nothing to escape; doubling `"` keeps it right even so.
fn quote_ident(role: &RoleName) -> String {
    format!("\"{}\"", role.as_str().replace('"', "\"\""))
}

/// A string literal that means the same whatever `standard_conforming_strings` says: `'` doubled, and
/// with a backslash present the `E''` form with backslashes doubled (what PostgreSQL's own
/// `quote_literal` does).
fn quote_literal(text: &str) -> String {
    let quoted = text.replace('\'', "''");
    if quoted.contains('\\') {
        format!("E'{}'", quoted.replace('\\', "\\\\"))
    } else {
        format!("'{quoted}'")
    }
}

#[cfg(test)]
mod tests;
