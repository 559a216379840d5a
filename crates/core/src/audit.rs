//! The audit door: every security event goes through [`AuditSink::record`], and a caller that is told
//! `Ok` may rely on the event being durable.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::Timestamp;

/// How the thing an event describes turned out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditOutcome {
    Success,
    Failure,
    Denied,
}

impl AuditOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditOutcome::Success => "success",
            AuditOutcome::Failure => "failure",
            AuditOutcome::Denied => "denied",
        }
    }
}

/// One security event. `details` must never hold a secret, token, password or hash: callers put
/// identifiers (agent ids, token ids, key ids) there, never credentials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub timestamp: Timestamp,
    /// A dotted name such as `auth.login` or `key.rotated`.
    pub kind: String,
    /// Who caused it: an agent id, `admin`, `system`, or `anonymous`.
    pub actor: String,
    pub action: String,
    pub resource: String,
    pub outcome: AuditOutcome,
    pub details: serde_json::Value,
    pub request_id: Option<String>,
}

impl AuditEvent {
    pub fn new(timestamp: Timestamp, kind: &str, actor: &str, outcome: AuditOutcome) -> Self {
        AuditEvent {
            timestamp,
            kind: kind.to_owned(),
            actor: actor.to_owned(),
            action: kind.to_owned(),
            resource: String::new(),
            outcome,
            details: serde_json::Value::Object(serde_json::Map::new()),
            request_id: None,
        }
    }

    pub fn resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = resource.into();
        self
    }

    pub fn detail(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        if let serde_json::Value::Object(map) = &mut self.details {
            map.insert(key.to_owned(), value.into());
        }
        self
    }

    pub fn request_id(mut self, request_id: Option<&str>) -> Self {
        self.request_id = request_id.map(str::to_owned);
        self
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The event could not be made durable; the action that caused it must be refused.
    #[error("the audit log is unavailable: {0}")]
    Unavailable(String),
}

/// Where audit events go. `record` returns only once the event is durable.
#[async_trait]
pub trait AuditSink: Send + Sync {
    async fn record(&self, event: AuditEvent) -> Result<u64, AuditError>;
}
