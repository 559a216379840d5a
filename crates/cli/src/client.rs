//! A small client for Warden's HTTP API: `WARDEN_ADDR` (default `http://127.0.0.1:7070`) and a bearer
//! token from `WARDEN_TOKEN`, or for admin commands the data directory's `admin.token`.

use std::path::PathBuf;

use std::fmt;

use anyhow::Context;
use serde_json::Value;

#[derive(Debug)]
pub struct Client {
    base: String,
    token: Option<String>,
    http: reqwest::Client,
}

/// Warden answered with an error status: the status and the problem's `detail` (or the whole body).
/// Callers that must tell a refusal from other failures downcast to it.
#[derive(Debug)]
pub struct Refusal {
    pub status: reqwest::StatusCode,
    pub detail: String,
}

impl Refusal {
    pub fn is_forbidden(&self) -> bool {
        self.status == reqwest::StatusCode::FORBIDDEN
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let reason = self.status.canonical_reason().unwrap_or("");
        write!(f, "{} {reason}: {}", self.status.as_u16(), self.detail)
    }
}

impl std::error::Error for Refusal {}

/// Percent-encodes one path segment (or one query value).
pub fn segment(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

impl Client {
    fn new(token: Option<String>) -> anyhow::Result<Self> {
        let base = std::env::var("WARDEN_ADDR").unwrap_or_else(|_| "http://127.0.0.1:7070".to_owned());
        let http = reqwest::Client::builder().build().context("building the HTTP client")?;
        Ok(Client {
            base: base.trim_end_matches('/').to_owned(),
            token,
            http,
        })
    }

    pub fn anonymous_from_env() -> anyhow::Result<Self> {
        Self::new(None)
    }

    /// An agent's client: `WARDEN_TOKEN` must hold an access token.
    pub fn from_env() -> anyhow::Result<Self> {
        let token = std::env::var("WARDEN_TOKEN").context("set WARDEN_TOKEN to an access token")?;
        Self::new(Some(token))
    }

    /// An administrator's client: `WARDEN_TOKEN`, else `<WARDEN_DATA_DIR or ./warden-data>/admin.token`.
    pub fn admin_from_env() -> anyhow::Result<Self> {
        if let Ok(token) = std::env::var("WARDEN_TOKEN") {
            return Self::new(Some(token));
        }
        let dir = std::env::var_os("WARDEN_DATA_DIR").map_or_else(|| PathBuf::from("warden-data"), PathBuf::from);
        let path = dir.join("admin.token");
        let token = std::fs::read_to_string(&path)
            .with_context(|| format!("set WARDEN_TOKEN or run where {} exists", path.display()))?;
        Self::new(Some(token.trim().to_owned()))
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.send(self.http.get(format!("{}{path}", self.base))).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        self.send(self.http.post(format!("{}{path}", self.base)).json(body))
            .await
    }

    pub async fn put(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        self.send(self.http.put(format!("{}{path}", self.base)).json(body))
            .await
    }

    /// `DELETE`; a 204 answers `Value::Null`.
    pub async fn delete(&self, path: &str) -> anyhow::Result<Value> {
        self.send(self.http.delete(format!("{}{path}", self.base))).await
    }

    async fn send(&self, mut request: reqwest::RequestBuilder) -> anyhow::Result<Value> {
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("cannot reach Warden at {}", self.base))?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let value: Value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        if !status.is_success() {
            let detail = value
                .get("detail")
                .and_then(Value::as_str)
                .map_or_else(|| value.to_string(), str::to_owned);
            return Err(Refusal { status, detail }.into());
        }
        Ok(value)
    }
}
