//! Errors become HTTP here and nowhere else: one exhaustive `match`, RFC 9457 problem+json, and
//! nothing internal leaks to the client.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use warden_core::{AuditError, StoreError};
use warden_identity::IdentityError;
use warden_identity::passport::PassportError;
use warden_identity::token::TokenError;

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed or invalid input; the message names the field.
    #[error("{0}")]
    BadRequest(String),
    /// A candidate policy set that does not load; every error is listed, located.
    #[error("{0}")]
    InvalidPolicy(warden_policy::PolicyError),
    /// No credentials, or credentials that do not prove anything.
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    Conflict(String),
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Account lockout after repeated failures.
    #[error("the account is locked for {retry_after} more seconds after repeated failed logins")]
    Locked { retry_after: u64 },
    /// A rate limit of the admit step; `limit` names the rule and its rate, never the caller's key.
    #[error("rate limit exceeded: {limit}; retry after {retry_after} s")]
    TooManyRequests { retry_after: u64, limit: String },
    /// A dependency (store, audit log) is down: nothing is granted.
    #[error("{0}")]
    Unavailable(String),
    /// A system Warden acts on for the caller (the database of a credential rotation) refused or could
    /// not be reached. The message says which and why, and never carries a secret.
    #[error("{0}")]
    Upstream(String),
    /// Stored data failed its integrity check (a secret that does not decrypt): nothing is returned,
    /// and the event is recorded at alert level.
    #[error("{0}")]
    Integrity(String),
    /// A bug or an impossible state; the detail is logged, never sent.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) | ApiError::InvalidPolicy(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Locked { .. } => StatusCode::LOCKED,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Upstream(_) => StatusCode::BAD_GATEWAY,
            ApiError::Integrity(_) | ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn slug(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad-request",
            ApiError::InvalidPolicy(_) => "invalid-policy",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not-found",
            ApiError::MethodNotAllowed(_) => "method-not-allowed",
            ApiError::Conflict(_) => "conflict",
            ApiError::PayloadTooLarge(_) => "payload-too-large",
            ApiError::UnsupportedMediaType(_) => "unsupported-media-type",
            ApiError::Locked { .. } => "locked",
            ApiError::TooManyRequests { .. } => "rate-limited",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Upstream(_) => "upstream",
            ApiError::Integrity(_) => "integrity",
            ApiError::Internal(_) => "internal",
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::BadRequest(message.into())
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        ApiError::Unauthorized(message.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let detail = match &self {
            ApiError::Internal(reason) => {
                tracing::error!(%reason, "internal error");
                "Warden failed to handle the request; the server log has the details".to_owned()
            }
            ApiError::Unavailable(reason) => {
                tracing::warn!(%reason, "dependency unavailable");
                "a dependency of Warden is unavailable; nothing was granted".to_owned()
            }
            other => other.to_string(),
        };
        let mut body = json!({
            "type": format!("https://warden.dev/problems/{}", self.slug()),
            "title": status.canonical_reason().unwrap_or("error"),
            "status": status.as_u16(),
            "detail": detail,
        });
        if let ApiError::InvalidPolicy(error) = &self {
            body["errors"] = policy_errors(error);
        }
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        match self {
            ApiError::Locked { retry_after } | ApiError::TooManyRequests { retry_after, .. } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            }
            ApiError::Unauthorized(_) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"warden\""),
                );
            }
            _ => {}
        }
        response
    }
}

/// Each load error as `{file, line, rule, message}`.
pub fn policy_errors(error: &warden_policy::PolicyError) -> serde_json::Value {
    error
        .errors
        .iter()
        .map(|e| json!({"file": e.file, "line": e.line, "rule": e.rule, "message": e.message}))
        .collect()
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(reason) => ApiError::Unavailable(format!("store: {reason}")),
            StoreError::Conflict(what) => ApiError::Conflict(what),
            StoreError::Corrupt(reason) => ApiError::Internal(format!("store data corrupt: {reason}")),
        }
    }
}

impl From<AuditError> for ApiError {
    fn from(error: AuditError) -> Self {
        ApiError::Unavailable(error.to_string())
    }
}

impl From<TokenError> for ApiError {
    fn from(error: TokenError) -> Self {
        match error {
            TokenError::NoKey => ApiError::Unavailable("no signing key is loaded".into()),
            other => ApiError::Unauthorized(other.to_string()),
        }
    }
}

impl From<PassportError> for ApiError {
    fn from(error: PassportError) -> Self {
        match error {
            PassportError::ScopeNotHeld(_) | PassportError::ChainTooLong(_) => ApiError::Forbidden(error.to_string()),
            PassportError::NotAPassport => ApiError::Unauthorized(error.to_string()),
            PassportError::Ttl(_) | PassportError::Audience => ApiError::BadRequest(error.to_string()),
        }
    }
}

impl From<warden_vault::VaultError> for ApiError {
    fn from(error: warden_vault::VaultError) -> Self {
        use warden_vault::VaultError;
        match error {
            VaultError::UnknownKind { .. }
            | VaultError::InvalidName { .. }
            | VaultError::InvalidVersion { .. }
            | VaultError::DataTooLarge { .. }
            | VaultError::DataNotObject { .. }
            | VaultError::InvalidTag { .. }
            | VaultError::TooManyTags { .. }
            | VaultError::InvalidField { .. } => ApiError::BadRequest(error.to_string()),
            VaultError::WrongMasterKey { .. } | VaultError::Decryption | VaultError::MalformedRecord(_) => {
                ApiError::Integrity(format!("the secret cannot be opened: {error}; nothing was returned"))
            }
            VaultError::Encryption => ApiError::Internal(error.to_string()),
        }
    }
}

impl From<IdentityError> for ApiError {
    fn from(error: IdentityError) -> Self {
        match error {
            IdentityError::Invalid { .. }
            | IdentityError::WeakPassword(_)
            | IdentityError::PasswordReused(_)
            | IdentityError::BadKey(..) => ApiError::BadRequest(error.to_string()),
            IdentityError::AgentInactive(_) | IdentityError::AgentRevoked => ApiError::Forbidden(error.to_string()),
            IdentityError::Certificate(reason) => ApiError::BadRequest(format!("certificate: {reason}")),
            IdentityError::Hashing | IdentityError::Sealing(_) => ApiError::Internal(error.to_string()),
        }
    }
}

impl From<crate::ledger::LedgerError> for ApiError {
    fn from(error: crate::ledger::LedgerError) -> Self {
        match error {
            crate::ledger::LedgerError::Store(e) => e.into(),
            other => ApiError::Unavailable(format!("ledger: {other}")),
        }
    }
}
