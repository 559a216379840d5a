//! A Warden application on a temporary SQLite store (or PostgreSQL), driven through `oneshot` with a
//! manual clock, so tests can move time.

#![allow(dead_code)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use serde_json::Value;
use tower::ServiceExt;
use warden_core::{ManualClock, MasterKey, SystemEntropy, Timestamp};
use warden_server::config::{Argon2Cost, Config, Overrides, RawConfig};
use warden_server::routes::app;
use warden_server::serve::build_state_with;
use warden_server::state::AppState;
use warden_store::testing::{self, PostgresSchema};

pub const ADMIN: &str = "wdn_admin_test-token-for-the-suite";
pub const START: i64 = 1_800_000_000;
pub const PASSWORD: &str = "Correct-Horse-42!";

pub struct TestApp {
    pub state: AppState,
    pub router: Router,
    pub clock: ManualClock,
    _dir: tempfile::TempDir,
    /// The PostgreSQL schema the store lives in, dropped by [`TestApp::finish`].
    schema: Option<PostgresSchema>,
}

pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub headers: HeaderMap,
}

impl Reply {
    pub fn str(&self, key: &str) -> String {
        self.body[key].as_str().unwrap_or_default().to_owned()
    }
}

/// A config for tests: cheap argon2, the temp dir as data dir.
pub fn test_config(dir: &std::path::Path, store_url: Option<String>) -> Config {
    let overrides = Overrides {
        store_url,
        ..Overrides::default()
    };
    let mut config = match Config::resolve(RawConfig::default(), overrides, dir) {
        Ok(config) => config,
        Err(e) => unreachable!("default config resolves: {e}"),
    };
    config.auth.argon2 = Argon2Cost {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };
    config
}

impl TestApp {
    pub async fn start() -> TestApp {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("tempdir: {e}"));
        let mut config = test_config(dir.path(), None);
        adjust(&mut config);
        Self::from_config(config, dir, MasterKey::generate(&SystemEntropy)).await
    }

    pub async fn from_config(config: Config, dir: tempfile::TempDir, master: MasterKey) -> TestApp {
        let clock = ManualClock::at(Timestamp::from_unix(START));
        let state = build_state_with(config, Arc::new(clock.clone()), Arc::new(SystemEntropy), master, ADMIN).await;
        let state = state.unwrap_or_else(|e| unreachable!("state builds: {e}"));
        TestApp {
            router: app(state.clone()),
            state,
            clock,
            _dir: dir,
            schema: None,
        }
    }

    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        let request = match body {
            Some(body) => builder
                .header("content-type", "application/json")
                .body(Body::from(body.to_string())),
            None => builder.body(Body::empty()),
        };
        self.send(request.unwrap_or_else(|e| unreachable!("request builds: {e}")))
            .await
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        send_on(self.router.clone(), request).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::POST, path, token, Some(body)).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.call(Method::GET, path, token, None).await
    }

    /// Registers an agent with the test password and returns its id.
    pub async fn agent(&self, name: &str, scopes: &[&str]) -> String {
        let reply = self
            .post(
                "/v1/agents",
                Some(ADMIN),
                serde_json::json!({"name": name, "roles": ["researcher"], "capabilities": ["web_search"],
                    "scopes": scopes, "tier": "standard", "password": PASSWORD}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        reply.str("id")
    }

    /// Logs in with the test password; returns (access, refresh).
    pub async fn login(&self, name: &str) -> (String, String) {
        let reply = self
            .post(
                "/v1/auth/login",
                None,
                serde_json::json!({"identity": name, "secret": PASSWORD}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        (reply.str("access_token"), reply.str("refresh_token"))
    }

    pub async fn passport(&self, access: &str, body: Value) -> Reply {
        self.post("/v1/auth/passport", Some(access), body).await
    }

    pub fn advance(&self, seconds: u64) {
        self.clock.advance(seconds);
    }
}

/// Sends one request through `router` and reads the whole answer (JSON when it parses, text otherwise).
pub async fn send_on(router: Router, request: Request<Body>) -> Reply {
    let response = router.oneshot(request).await.unwrap_or_else(|e| match e {});
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap_or_default();
    let body =
        serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    Reply { status, body, headers }
}

/// A JSON request, for [`TestApp::concurrently`].
pub fn json_request(method: Method, path: &str, token: Option<&str>, body: &Value) -> Request<Body> {
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json");
    if let Some(token) = token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    builder
        .body(Body::from(body.to_string()))
        .unwrap_or_else(|e| unreachable!("request builds: {e}"))
}

/// The claims of a compact JWS, decoded without any check (to read `exp`, `kid`, … in assertions).
pub fn unverified_claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap_or_default();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap_or_default();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

/// The protected header of a compact JWS, decoded without any check.
pub fn unverified_header(token: &str) -> Value {
    use base64::Engine;
    let header = token.split('.').next().unwrap_or_default();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .unwrap_or_default();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

impl Reply {
    /// Asserts an RFC 9457 problem with `status` and returns its detail.
    #[track_caller]
    pub fn problem(&self, status: StatusCode) -> String {
        assert_eq!(self.status, status, "{:?}", self.body);
        let content_type = self
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert_eq!(
            content_type, "application/problem+json",
            "status {} body {:?}",
            self.status, self.body
        );
        assert_eq!(self.body["status"], status.as_u16(), "{:?}", self.body);
        for field in ["type", "title", "detail"] {
            assert!(self.body[field].is_string(), "problem lacks `{field}`: {:?}", self.body);
        }
        self.str("detail")
    }

    /// Asserts `status` and returns the body, with the body in the failure message.
    #[track_caller]
    pub fn ok(&self, status: StatusCode) -> &Value {
        assert_eq!(self.status, status, "{:?}", self.body);
        &self.body
    }

    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }
}

impl TestApp {
    /// Like [`TestApp::start_with`], on a fresh schema of the PostgreSQL server named by
    /// `WARDEN_TEST_POSTGRES_URL`; `None` when it is unset.
    pub async fn start_postgres_with(adjust: impl FnOnce(&mut Config)) -> Option<TestApp> {
        let base = testing::postgres_url()?;
        let schema = match PostgresSchema::create(&base).await {
            Ok(schema) => schema,
            Err(e) => unreachable!("{} is set but PostgreSQL is unusable: {e}", testing::POSTGRES_URL_VAR),
        };
        let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("tempdir: {e}"));
        let mut config = test_config(dir.path(), Some(schema.url().to_owned()));
        adjust(&mut config);
        let mut app = Self::from_config(config, dir, MasterKey::generate(&SystemEntropy)).await;
        app.schema = Some(schema);
        Some(app)
    }

    /// Closes the store and drops the PostgreSQL schema, if any.
    pub async fn finish(self) {
        self.state.store.close().await;
        if let Some(schema) = self.schema {
            let dropped = schema.drop_schema().await;
            assert!(dropped.is_ok(), "dropping the test schema: {dropped:?}");
        }
    }

    pub fn backend(&self) -> &'static str {
        self.state.store.backend().as_str()
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Reply {
        self.call(Method::DELETE, path, token, None).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::PATCH, path, token, Some(body)).await
    }

    /// A request with exactly these headers and body bytes.
    pub async fn raw(&self, method: Method, path: &str, headers: &[(&str, &[u8])], body: impl Into<Body>) -> Reply {
        let mut builder = Request::builder().method(method).uri(path);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        self.send(
            builder
                .body(body.into())
                .unwrap_or_else(|e| unreachable!("request builds: {e}")),
        )
        .await
    }

    /// Password login with any identity and secret; the reply as it comes.
    pub async fn login_as(&self, identity: &str, secret: &str) -> Reply {
        self.post(
            "/v1/auth/login",
            None,
            serde_json::json!({"identity": identity, "secret": secret}),
        )
        .await
    }

    /// An admin status change (`suspend`, `quarantine`, `release`, `revoke`).
    pub async fn set_status(&self, id: &str, change: &str) -> Reply {
        self.post(&format!("/v1/agents/{id}/{change}"), Some(ADMIN), serde_json::json!({}))
            .await
    }

    /// A passport for `access`, asserted issued; returns the token.
    pub async fn passport_token(&self, access: &str, body: Value) -> String {
        let reply = self.passport(access, body).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        reply.str("passport")
    }

    pub async fn jwks(&self) -> Value {
        self.get("/.well-known/jwks.json", None).await.body
    }

    /// Every audit event so far (the `event` objects), oldest first.
    pub async fn events(&self) -> Vec<Value> {
        let reply = self.get("/v1/events?limit=1000", Some(ADMIN)).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        reply
            .body
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| e["event"].clone())
            .collect()
    }

    /// The admin's view of ledger entry `index` (`/v1/ledger/entries/{index}`) and its leaf bytes.
    pub async fn ledger_leaf(&self, index: u64) -> (Value, Vec<u8>) {
        use base64::Engine as _;
        let entry = self
            .get(&format!("/v1/ledger/entries/{index}"), Some(ADMIN))
            .await
            .ok(StatusCode::OK)
            .clone();
        let leaf = base64::engine::general_purpose::STANDARD
            .decode(entry["leaf"].as_str().unwrap_or_default())
            .unwrap_or_default();
        (entry, leaf)
    }

    /// Sends every request at once, each on its own task, and returns the replies in order.
    pub async fn concurrently(&self, requests: Vec<Request<Body>>) -> Vec<Reply> {
        let tasks: Vec<_> = requests
            .into_iter()
            .map(|r| tokio::spawn(send_on(self.router.clone(), r)))
            .collect();
        let mut replies = Vec::with_capacity(tasks.len());
        for task in tasks {
            match task.await {
                Ok(reply) => replies.push(reply),
                Err(e) => unreachable!("request task failed: {e}"),
            }
        }
        replies
    }
}

/// Runs `test` on a SQLite app, then on a PostgreSQL one when `WARDEN_TEST_POSTGRES_URL` is set
/// (printing `SKIPPED: …` otherwise). Each run gets a fresh app.
pub async fn on_each_store(test: impl AsyncFn(&TestApp)) {
    on_each_store_with(|_| {}, test).await;
}

/// [`on_each_store`] with the configuration adjusted the same way for both backends.
pub async fn on_each_store_with(adjust: impl Fn(&mut Config), test: impl AsyncFn(&TestApp)) {
    let app = TestApp::start_with(&adjust).await;
    test(&app).await;
    app.finish().await;
    match TestApp::start_postgres_with(&adjust).await {
        Some(app) => {
            test(&app).await;
            app.finish().await;
        }
        None => skipped("the PostgreSQL run"),
    }
}

/// Says on stderr that part of a test did not run, and why. Written to the process's stderr itself,
/// not through `eprintln!`, so the test harness does not swallow it when the test passes.
pub fn skipped(what: &str) {
    use std::io::Write as _;
    let test = std::thread::current().name().unwrap_or("this test").to_owned();
    let line = format!("SKIPPED: {what} of `{test}` ({} is unset)\n", testing::POSTGRES_URL_VAR);
    let _ = std::io::stderr().write_all(line.as_bytes());
}
