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

pub const ADMIN: &str = "wdn_admin_test-token-for-the-suite";
pub const START: i64 = 1_800_000_000;
pub const PASSWORD: &str = "Correct-Horse-42!";

pub struct TestApp {
    pub state: AppState,
    pub router: Router,
    pub clock: ManualClock,
    _dir: tempfile::TempDir,
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
    let overrides = Overrides { store_url, ..Overrides::default() };
    let mut config = match Config::resolve(RawConfig::default(), overrides, dir) {
        Ok(config) => config,
        Err(e) => unreachable!("default config resolves: {e}"),
    };
    config.auth.argon2 = Argon2Cost { memory_kib: 64, iterations: 1, parallelism: 1 };
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
        TestApp { router: app(state.clone()), state, clock, _dir: dir }
    }

    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        let request = match body {
            Some(body) => builder.header("content-type", "application/json").body(Body::from(body.to_string())),
            None => builder.body(Body::empty()),
        };
        self.send(request.unwrap_or_else(|e| unreachable!("request builds: {e}"))).await
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap_or_else(|e| match e {});
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap_or_default();
        let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Reply { status, body, headers }
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
        let reply = self.post("/v1/auth/login", None, serde_json::json!({"identity": name, "secret": PASSWORD})).await;
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
