//! Warden-driven rotation of `database` secrets against a real PostgreSQL (`WARDEN_TEST_POSTGRES_URL`):
//! the new version logs in with the generated password and has the group's privileges, the previous
//! one keeps logging in for the grace and is refused after it; a store that fails after the database
//! step undoes it. Also the refusals (wrong type, feature off, bad data) and a failing database step
//! (nothing stored, `secret.rotation_failed` audited, no password anywhere), which need no PostgreSQL.
//!
//! PostgreSQL only checks passwords where `pg_hba.conf` says so; the machine's rules are `trust`.
//! `scripts/test.sh` adds one rule, `host all +warden_password_login 127.0.0.1/32 scram-sha-256`, so the
//! roles these tests make (all members of `warden_password_login`) must log in with their password.
//! Without that rule the login checks are skipped, loudly, and the catalog checks still run.

use std::str::FromStr;
use std::sync::{Arc, Mutex};

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{AssertSqlSafe, Connection};
use warden_core::{Seconds, SystemEntropy, Timestamp, random_bytes};
use warden_server::config::Config;
use warden_server::database_rotation::{AdminUrl, DatabaseRotation};
use warden_store::testing;
use warden_vault::PasswordLength;

use super::support::{ADMIN, TestApp, json_request, send_on, skipped};

/// The role `scripts/test.sh` makes PostgreSQL check passwords for.
const PASSWORD_CHECKED: &str = "warden_password_login";

fn configure(url: &str, grace: Seconds) -> impl FnOnce(&mut Config) {
    let admin_url = AdminUrl::parse(url).unwrap_or_else(|e| unreachable!("admin url: {e}"));
    move |config: &mut Config| {
        config.vault.database_rotation = Some(DatabaseRotation {
            admin_url,
            grace,
            password_length: PasswordLength::default(),
        });
    }
}

/// A group role with SELECT on a table of its own schema, and a first login role in it with a known
/// password; every name starts with `wdn_rot_<random>`. [`Roles::drop_all`] removes them (and a
/// `Drop` does, best effort, if a test fails first).
struct Roles {
    base_url: String,
    group: String,
    login: String,
    password: String,
    /// A role with CREATEROLE and a password, as an operator would set up for Warden.
    admin_role: String,
    admin_password: String,
    dropped: bool,
}

impl Roles {
    async fn create(base_url: &str) -> Roles {
        let hex: String = random_bytes::<6>(&SystemEntropy)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let group = format!("wdn_rot_{hex}");
        let roles = Roles {
            base_url: base_url.to_owned(),
            login: format!("{group}_app"),
            password: format!("Initial-Password-{hex}"),
            admin_role: format!("{group}_rotator"),
            admin_password: format!("Rotator-Password-{hex}"),
            group,
            dropped: false,
        };
        let (group, login, password) = (&roles.group, &roles.login, &roles.password);
        let (admin_role, admin_password) = (&roles.admin_role, &roles.admin_password);
        roles
            .admin(&format!(
                "DO $$ BEGIN CREATE ROLE {PASSWORD_CHECKED} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
                 CREATE ROLE {group} NOLOGIN IN ROLE {PASSWORD_CHECKED};
                 CREATE ROLE {login} LOGIN PASSWORD '{password}' IN ROLE {group};
                 CREATE ROLE {admin_role} LOGIN CREATEROLE PASSWORD '{admin_password}' IN ROLE {PASSWORD_CHECKED};
                 CREATE SCHEMA {group};
                 CREATE TABLE {group}.orders (id int);
                 INSERT INTO {group}.orders VALUES (42);
                 GRANT USAGE ON SCHEMA {group} TO {group};
                 GRANT SELECT ON {group}.orders TO {group};"
            ))
            .await;
        roles
    }

    async fn admin(&self, statements: &str) {
        let run = async {
            let mut conn = PgConnection::connect(&self.base_url).await?;
            sqlx::raw_sql(AssertSqlSafe(statements.to_owned()))
                .execute(&mut conn)
                .await?;
            conn.close().await
        };
        if let Err(e) = run.await {
            unreachable!("admin statements failed: {e}\n{statements}");
        }
    }

    async fn valid_until(&self, role: &str) -> Option<String> {
        let mut conn = PgConnection::connect(&self.base_url)
            .await
            .unwrap_or_else(|e| unreachable!("{e}"));
        let row: Option<(Option<String>,)> = sqlx::query_as(
            "SELECT to_char(rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') \
             FROM pg_roles WHERE rolname = $1",
        )
        .bind(role)
        .fetch_optional(&mut conn)
        .await
        .unwrap_or_else(|e| unreachable!("{e}"));
        row.and_then(|(until,)| until)
    }

    /// Logs in as `role` with `password` and reads the group's table: the privileges a version has.
    async fn login_reads(&self, role: &str, password: &str) -> Result<i32, String> {
        let options = PgConnectOptions::from_str(&self.base_url)
            .map_err(|e| e.to_string())?
            .username(role)
            .password(password);
        let mut conn = PgConnection::connect_with(&options).await.map_err(|e| e.to_string())?;
        let (id,): (i32,) = sqlx::query_as(AssertSqlSafe(format!("SELECT id FROM {}.orders", self.group)))
            .fetch_one(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
        let _ = conn.close().await;
        Ok(id)
    }

    /// Whether this server checks the test roles' passwords (the `pg_hba.conf` rule is there).
    async fn passwords_checked(&self) -> bool {
        self.login_reads(&self.login, "not-the-password").await.is_err()
    }

    /// The test server's URL with the rotator's credentials instead of its own.
    fn rotator_url(&self) -> String {
        let (scheme, rest) = self.base_url.split_once("://").unwrap_or(("postgres", &self.base_url));
        let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
        format!("{scheme}://{}:{}@{host}", self.admin_role, self.admin_password)
    }

    async fn drop_all(mut self) {
        self.dropped = true;
        self.admin(&drop_statements(&self.group)).await;
    }
}

/// Drops the schema and every role named `<group>…`, members before the group.
fn drop_statements(group: &str) -> String {
    format!(
        "DROP SCHEMA IF EXISTS {group} CASCADE;
         DO $$ DECLARE r record; BEGIN
           FOR r IN SELECT rolname FROM pg_roles WHERE rolname LIKE '{group}%' ORDER BY rolname = '{group}', rolname LOOP
             EXECUTE format('DROP ROLE %I', r.rolname);
           END LOOP;
         END $$;"
    )
}

impl Drop for Roles {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        let (url, statements) = (self.base_url.clone(), drop_statements(&self.group));
        let cleanup = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            runtime.block_on(async {
                if let Ok(mut conn) = PgConnection::connect(&url).await {
                    let _ = sqlx::raw_sql(AssertSqlSafe(statements)).execute(&mut conn).await;
                }
            });
        });
        let _ = cleanup.join();
    }
}

/// Stores the `database` secret `db/orders` for `roles`, shared with a new agent; returns its token.
async fn store_and_share(app: &TestApp, data: Value) -> String {
    app.call(
        Method::PUT,
        "/v1/secrets/db%2Forders",
        Some(ADMIN),
        Some(json!({"type": "database", "data": data})),
    )
    .await
    .ok(StatusCode::CREATED);
    app.agent("reporter", &[]).await;
    app.post(
        "/v1/secrets/db%2Forders/grants",
        Some(ADMIN),
        json!({"agent_id": "reporter"}),
    )
    .await
    .ok(StatusCode::CREATED);
    app.login("reporter").await.0
}

async fn rotate(app: &TestApp, body: Value) -> super::support::Reply {
    app.post("/v1/secrets/db%2Forders/rotate", Some(ADMIN), body).await
}

fn real_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}

#[tokio::test]
async fn a_generated_login_works_and_the_previous_one_lasts_the_grace() {
    let Some(base) = testing::postgres_url() else {
        return skipped("the whole test");
    };
    // Everything logged at trace level (sqlx included), from before the first statement: tracing
    // caches per call site whether anyone listens, so a subscriber set later can miss sqlx's events.
    let log = Captured::install();
    let roles = Roles::create(&base).await;
    // Warden connects as a role with CREATEROLE only, not as a superuser.
    let app = TestApp::start_with(configure(&roles.rotator_url(), Seconds::hours(1))).await;
    let reporter = store_and_share(
        &app,
        json!({"username": roles.login, "password": roles.password, "group": roles.group,
            "host": "127.0.0.1", "database": "test"}),
    )
    .await;
    let checked = roles.passwords_checked().await;

    // What Warden logs while it rotates and serves the new version (the test's own statements, which
    // carry the first password, come before).
    let start = log.len();
    let reply = rotate(&app, json!({"generate": true})).await;
    let read = app.get("/v1/secrets/db%2Forders", Some(&reporter)).await;

    let body = reply.ok(StatusCode::OK).clone();
    let new_role = format!("{}_v2", roles.group);
    assert_eq!(body["version"], 2);
    assert_eq!(body["login"]["username"], new_role.as_str());
    assert_eq!(body["login"]["previous_username"], roles.login.as_str());
    let until = body["login"]["previous_valid_until"]
        .as_str()
        .and_then(Timestamp::parse_rfc3339);
    let until = until.unwrap_or_else(|| unreachable!("previous_valid_until: {body}"));
    assert!((until.unix() - (real_now() + 3600)).abs() < 120, "{body}");
    assert_eq!(
        roles.valid_until(&roles.login).await.as_deref(),
        body["login"]["previous_valid_until"].as_str()
    );

    // The agent reads the new version: the new role, a generated password, the other fields kept.
    let data = read.ok(StatusCode::OK)["data"].clone();
    let password = data["password"].as_str().unwrap_or_default().to_owned();
    assert_eq!(data["username"], new_role.as_str());
    assert_eq!(data["group"], roles.group.as_str());
    assert_eq!(
        (data["host"].clone(), data["database"].clone()),
        (json!("127.0.0.1"), json!("test"))
    );
    assert_eq!(password.len(), 32);
    assert!(password.bytes().all(|b| b.is_ascii_alphanumeric()), "{password}");
    assert_eq!(roles.valid_until(&new_role).await, None, "the new login has no end");

    if checked {
        // The new login works and has the group's privileges; the old one still works in the grace.
        assert_eq!(roles.login_reads(&new_role, &password).await, Ok(42));
        assert_eq!(roles.login_reads(&roles.login, &roles.password).await, Ok(42));
        assert!(roles.login_reads(&new_role, &roles.password).await.is_err());
    } else {
        skipped_logins();
    }

    // No password in the log or the audit trail: not the old one, the new one, nor the admin's, and
    // not the SCRAM verifier sent to PostgreSQL.
    let logged = log.text_since(start);
    assert!(
        logged.contains("/v1/secrets/db%2Forders/rotate"),
        "the capture caught nothing:\n{logged}"
    );
    for secret in [
        password.as_str(),
        roles.password.as_str(),
        roles.admin_password.as_str(),
        "SCRAM-SHA-256",
    ] {
        assert!(!logged.contains(secret), "`{secret}` in the log:\n{logged}");
    }
    let events = app.events().await;
    let trail = serde_json::to_string(&events).unwrap_or_default();
    assert!(!trail.contains(&password) && !trail.contains(&roles.password));
    let rotated = events.iter().find(|e| e["kind"] == "secret.rotated");
    let details = rotated.map(|e| e["details"].clone()).unwrap_or_default();
    assert_eq!(details["generated"], true, "{rotated:?}");
    assert_eq!(details["username"], new_role.as_str(), "{rotated:?}");

    // The next rotation moves on from the version-2 role, which now gets the deadline.
    let third = rotate(&app, json!({"generate": true})).await;
    assert_eq!(
        third.ok(StatusCode::OK)["login"]["previous_username"],
        new_role.as_str()
    );
    assert!(roles.valid_until(&new_role).await.is_some());
    let v3 = app.get("/v1/secrets/db%2Forders", Some(&reporter)).await.body["data"].clone();
    if checked {
        let v3_password = v3["password"].as_str().unwrap_or_default();
        assert_eq!(
            roles.login_reads(&format!("{}_v3", roles.group), v3_password).await,
            Ok(42)
        );
        assert_eq!(roles.login_reads(&new_role, &password).await, Ok(42));
    }

    // A role already in the way (made by hand, or a concurrent rotation): 409, nothing stored.
    roles.admin(&format!("CREATE ROLE {}_v4 NOLOGIN", roles.group)).await;
    let blocked = rotate(&app, json!({"generate": true})).await;
    assert!(blocked.problem(StatusCode::CONFLICT).contains("_v4"));
    let current = app.get("/v1/secrets/db%2Forders", Some(&reporter)).await;
    assert_eq!(current.ok(StatusCode::OK)["version"], 3);

    app.finish().await;
    roles.drop_all().await;
}

#[tokio::test]
async fn after_the_grace_the_previous_login_is_refused() {
    let Some(base) = testing::postgres_url() else {
        return skipped("the whole test");
    };
    let roles = Roles::create(&base).await;
    let app = TestApp::start_with(configure(&base, Seconds::new(1))).await;
    // No group: the original login role becomes it, and the new version is its member.
    let reporter = store_and_share(&app, json!({"username": roles.login, "password": roles.password})).await;
    let checked = roles.passwords_checked().await;

    rotate(&app, json!({"generate": true})).await.ok(StatusCode::OK);
    let data = app.get("/v1/secrets/db%2Forders", Some(&reporter)).await.body["data"].clone();
    let new_role = format!("{}_v2", roles.login);
    assert_eq!(data["username"], new_role.as_str());
    assert_eq!(data["group"], roles.login.as_str());
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;

    let until = roles
        .valid_until(&roles.login)
        .await
        .and_then(|t| Timestamp::parse_rfc3339(&t));
    assert!(until.is_some_and(|t| t.unix() <= real_now()), "{until:?}");
    if checked {
        let refused = roles.login_reads(&roles.login, &roles.password).await;
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.contains("password authentication failed")),
            "{refused:?}"
        );
        let password = data["password"].as_str().unwrap_or_default();
        assert_eq!(
            roles.login_reads(&new_role, password).await,
            Ok(42),
            "privileges come from the old role"
        );
    } else {
        skipped_logins();
    }

    // A secret naming a role the server does not have: 502, nothing stored.
    app.call(
        Method::PUT,
        "/v1/secrets/db%2Fghost",
        Some(ADMIN),
        Some(json!({"type": "database", "data": {"username": format!("{}_ghost", roles.group), "password": "x"}})),
    )
    .await
    .ok(StatusCode::CREATED);
    let ghost = app
        .post("/v1/secrets/db%2Fghost/rotate", Some(ADMIN), json!({"generate": true}))
        .await;
    assert!(ghost.problem(StatusCode::BAD_GATEWAY).contains("has no role"));

    app.finish().await;
    roles.drop_all().await;
}

/// A log sink for the test's subscriber.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// The process's global subscriber, at trace level, writing here. (nextest runs each test in a
    /// process of its own; under `cargo test` the first caller wins and the others share it.)
    fn install() -> Captured {
        static SINK: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
        SINK.get_or_init(|| {
            let sink = Captured::default();
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_ansi(false)
                .with_writer(sink.clone())
                .finish();
            let _ = tracing::subscriber::set_global_default(subscriber);
            sink
        })
        .clone()
    }

    fn len(&self) -> usize {
        self.0.lock().map(|bytes| bytes.len()).unwrap_or_default()
    }

    fn text_since(&self, start: usize) -> String {
        self.0
            .lock()
            .map(|bytes| String::from_utf8_lossy(bytes.get(start..).unwrap_or_default()).into_owned())
            .unwrap_or_default()
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut bytes) = self.0.lock() {
            bytes.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

/// Storing fails after the database committed (another writer stored the version first): Warden
/// undoes the database change. The test holds a lock on the previous role so that the rotation waits
/// inside its transaction while the other version is stored. (Two worker threads: if an assertion
/// fails, the cleanup in `Drop` blocks one while the rotation still needs to finish on the other.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_store_after_the_database_step_undoes_it() {
    let Some(base) = testing::postgres_url() else {
        return skipped("the whole test");
    };
    let roles = Roles::create(&base).await;
    let app = TestApp::start_with(configure(&base, Seconds::hours(1))).await;
    let reporter = store_and_share(
        &app,
        json!({"username": roles.login, "password": roles.password, "group": roles.group}),
    )
    .await;

    let mut blocker = PgConnection::connect(&base)
        .await
        .unwrap_or_else(|e| unreachable!("{e}"));
    sqlx::raw_sql(AssertSqlSafe(format!(
        "BEGIN; ALTER ROLE {} CONNECTION LIMIT -1",
        roles.login
    )))
    .execute(&mut blocker)
    .await
    .unwrap_or_else(|e| unreachable!("{e}"));
    let generate = tokio::spawn(send_on(
        app.router.clone(),
        json_request(
            Method::POST,
            "/v1/secrets/db%2Forders/rotate",
            Some(ADMIN),
            &json!({"generate": true}),
        ),
    ));
    // Wait until the rotation waits for the lock, inside its transaction. (Asked on a connection of its
    // own: inside the blocker's transaction, pg_stat_activity would keep showing its first snapshot.)
    let mut watcher = PgConnection::connect(&base)
        .await
        .unwrap_or_else(|e| unreachable!("{e}"));
    let mut waiting = false;
    for _ in 0..100 {
        let (count,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'warden-rotation' AND wait_event_type = 'Lock'",
        )
        .fetch_one(&mut watcher)
        .await
        .unwrap_or_else(|e| unreachable!("{e}"));
        if count > 0 {
            waiting = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let _ = watcher.close().await;
    assert!(waiting, "the rotation never waited for the lock");
    // Meanwhile someone stores version 2 by hand.
    rotate(&app, json!({"data": {"username": roles.login, "password": "by-hand"}}))
        .await
        .ok(StatusCode::OK);
    sqlx::raw_sql("ROLLBACK")
        .execute(&mut blocker)
        .await
        .unwrap_or_else(|e| unreachable!("{e}"));
    let _ = blocker.close().await;

    let reply = generate.await.unwrap_or_else(|e| unreachable!("{e}"));
    reply.problem(StatusCode::CONFLICT);
    let new_role = format!("{}_v2", roles.group);
    let mut conn = PgConnection::connect(&base)
        .await
        .unwrap_or_else(|e| unreachable!("{e}"));
    let (exists, unlimited): (bool, bool) = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1), \
                (SELECT rolvaliduntil IS NULL OR rolvaliduntil = 'infinity' FROM pg_roles WHERE rolname = $2)",
    )
    .bind(&new_role)
    .bind(&roles.login)
    .fetch_one(&mut conn)
    .await
    .unwrap_or_else(|e| unreachable!("{e}"));
    let _ = conn.close().await;
    assert!(!exists, "the new role was dropped again");
    assert!(unlimited, "the previous role has no deadline again");

    let current = app.get("/v1/secrets/db%2Forders", Some(&reporter)).await;
    assert_eq!(current.ok(StatusCode::OK)["data"]["password"], "by-hand");
    let events = app.events().await;
    let failed = events.iter().find(|e| e["kind"] == "secret.rotation_failed");
    let reason = failed.and_then(|e| e["details"]["reason"].as_str()).unwrap_or_default();
    assert!(reason.contains("the database change was undone"), "{failed:?}");

    app.finish().await;
    roles.drop_all().await;
}

fn skipped_logins() {
    use std::io::Write as _;
    let line = format!(
        "SKIPPED: the password logins of `{}` (PostgreSQL does not check passwords for members of \
         `{PASSWORD_CHECKED}`: add `host all +{PASSWORD_CHECKED} 127.0.0.1/32 scram-sha-256` first in \
         pg_hba.conf, as scripts/test.sh does)\n",
        std::thread::current().name().unwrap_or("this test")
    );
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| unreachable!("{e}"));
    listener.local_addr().map(|a| a.port()).unwrap_or(1)
}

#[tokio::test]
async fn a_failing_database_step_stores_nothing_and_is_audited() {
    const ADMIN_PASSWORD: &str = "Admin-Connection-Pw-77";
    const DB_PASSWORD: &str = "Current-Db-Password-88";
    let url = format!("postgres://rotator:{ADMIN_PASSWORD}@127.0.0.1:{}/app", closed_port());
    let app = TestApp::start_with(configure(&url, Seconds::hours(1))).await;
    let reporter = store_and_share(
        &app,
        json!({"username": "app", "password": DB_PASSWORD, "group": "app_rw"}),
    )
    .await;

    let reply = rotate(&app, json!({"generate": true})).await;
    let detail = reply.problem(StatusCode::BAD_GATEWAY);
    assert!(
        detail.contains("cannot reach PostgreSQL at postgres://rotator:***@127.0.0.1:"),
        "{detail}"
    );
    assert!(detail.contains("nothing was changed or stored"), "{detail}");
    let answer = reply.body.to_string();
    assert!(
        !answer.contains(ADMIN_PASSWORD) && !answer.contains(DB_PASSWORD),
        "{answer}"
    );

    let current = app.get("/v1/secrets/db%2Forders", Some(&reporter)).await;
    let current = current.ok(StatusCode::OK);
    assert_eq!(
        (current["version"].clone(), current["data"]["password"].clone()),
        (json!(1), json!(DB_PASSWORD))
    );

    let events = app.events().await;
    let failed: Vec<&Value> = events
        .iter()
        .filter(|e| e["kind"] == "secret.rotation_failed")
        .collect();
    assert_eq!(failed.len(), 1, "{events:?}");
    assert_eq!(failed[0]["outcome"], "failure");
    assert_eq!(failed[0]["resource"], "secret:db/orders");
    assert_eq!(failed[0]["details"]["username"], "app_rw_v2");
    assert!(
        failed[0]["details"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("cannot reach"))
    );
    assert!(!events.iter().any(|e| e["kind"] == "secret.rotated"));
    let trail = serde_json::to_string(&events).unwrap_or_default();
    assert!(!trail.contains(ADMIN_PASSWORD) && !trail.contains(DB_PASSWORD));
    app.finish().await;
}

#[tokio::test]
async fn generate_is_refused_where_it_does_not_apply() {
    let url = format!("postgres://rotator@127.0.0.1:{}/app", closed_port());
    let app = TestApp::start_with(configure(&url, Seconds::hours(1))).await;
    app.call(
        Method::PUT,
        "/v1/secrets/openai",
        Some(ADMIN),
        Some(json!({"type": "api_key", "data": {"api_key": "sk-1"}})),
    )
    .await
    .ok(StatusCode::CREATED);
    let empty = app.post("/v1/secrets/openai/rotate", Some(ADMIN), json!({})).await;
    let detail = empty.problem(StatusCode::BAD_REQUEST);
    assert!(detail.contains("`data`") && detail.contains("generate"), "{detail}");
    let wrong_type = app
        .post("/v1/secrets/openai/rotate", Some(ADMIN), json!({"generate": true}))
        .await;
    let detail = wrong_type.problem(StatusCode::BAD_REQUEST);
    assert!(detail.contains("`database`") && detail.contains("api_key"), "{detail}");
    let both = app
        .post(
            "/v1/secrets/openai/rotate",
            Some(ADMIN),
            json!({"generate": true, "data": {"k": 1}}),
        )
        .await;
    assert!(both.problem(StatusCode::BAD_REQUEST).contains("not both"));

    // Data Warden cannot rotate: no username, or a name it will not put in a statement.
    for (name, data, field) in [
        ("db%2Fnouser", json!({"password": "p"}), "data.username"),
        (
            "db%2Fhostile",
            json!({"username": "app\"; DROP ROLE x; --", "password": "p"}),
            "data.username",
        ),
        (
            "db%2Fgroup",
            json!({"username": "app", "group": "pg_read_all_data"}),
            "data.group",
        ),
    ] {
        app.call(
            Method::PUT,
            &format!("/v1/secrets/{name}"),
            Some(ADMIN),
            Some(json!({"type": "database", "data": data})),
        )
        .await
        .ok(StatusCode::CREATED);
        let refused = app
            .post(
                &format!("/v1/secrets/{name}/rotate"),
                Some(ADMIN),
                json!({"generate": true}),
            )
            .await;
        let detail = refused.problem(StatusCode::BAD_REQUEST);
        assert!(detail.contains(field), "{name}: {detail}");
    }
    app.finish().await;

    // The feature off: a clear 409, and `{data}` rotation still works.
    let off = TestApp::start().await;
    let reporter = store_and_share(&off, json!({"username": "app", "password": "one"})).await;
    let refused = rotate(&off, json!({"generate": true})).await;
    assert!(refused.problem(StatusCode::CONFLICT).contains("not configured"));
    rotate(&off, json!({"data": {"username": "app", "password": "two"}}))
        .await
        .ok(StatusCode::OK);
    let read = off.get("/v1/secrets/db%2Forders", Some(&reporter)).await;
    assert_eq!(read.ok(StatusCode::OK)["data"]["password"], "two");
    off.finish().await;
}
