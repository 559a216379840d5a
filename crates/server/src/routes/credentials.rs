//! Issuing the credentials agents log in with: API keys, public keys, client certificates.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use warden_core::{AuditEvent, AuditOutcome};
use warden_identity::repo::{CredentialRepository, KeyAlgorithm, PublicKeyRecord};
use warden_identity::{api_key, public_key};

use super::agents::find;
use crate::error::ApiError;
use crate::extract::{Admin, ApiJson, ApiPath, RequestId};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyCreated {
    pub id: String,
    /// The key itself: shown once, stored only as a hash.
    pub key: String,
    pub agent_id: String,
    pub created_at: String,
}

#[utoipa::path(post, path = "/v1/agents/{id}/api-keys", tag = "credentials", responses((status = 201, body = ApiKeyCreated)))]
pub async fn create_api_key(
    State(state): State<AppState>,
    _: Admin,
    request_id: RequestId,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<ApiKeyCreated>), ApiError> {
    let agent = find(&state, &id).await?;
    agent.ensure_active()?;
    let now = state.now();
    let (key, record) = api_key::generate(&agent.id, now, state.entropy.as_ref());
    state.store.insert_api_key(&record).await?;
    state
        .audit(
            AuditEvent::new(now, "credential.api_key_created", "admin", AuditOutcome::Success)
                .resource(format!("agent:{}", agent.id))
                .detail("api_key_id", record.id.as_str())
                .request_id(Some(&request_id.0)),
        )
        .await?;
    let created = ApiKeyCreated {
        id: record.id,
        key: key.expose().to_owned(),
        agent_id: agent.id,
        created_at: now.rfc3339(),
    };
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(delete, path = "/v1/api-keys/{id}", tag = "credentials", responses((status = 204), (status = 404)))]
pub async fn revoke_api_key(
    State(state): State<AppState>,
    _: Admin,
    request_id: RequestId,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let now = state.now();
    if !state.store.revoke_api_key(&id, now).await? {
        return Err(ApiError::NotFound(format!("no live API key `{id}`")));
    }
    state
        .audit(
            AuditEvent::new(now, "credential.api_key_revoked", "admin", AuditOutcome::Success)
                .resource(format!("api-key:{id}"))
                .request_id(Some(&request_id.0)),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterPublicKey {
    /// `ed25519` or `p256`.
    pub algorithm: String,
    /// A PEM `PUBLIC KEY`, or the raw key in base64.
    pub public_key: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicKeyView {
    pub id: String,
    pub agent_id: String,
    pub algorithm: &'static str,
    pub created_at: String,
}

#[utoipa::path(post, path = "/v1/agents/{id}/public-keys", tag = "credentials", request_body = RegisterPublicKey,
    responses((status = 201, body = PublicKeyView)))]
pub async fn register_public_key(
    State(state): State<AppState>,
    _: Admin,
    request_id: RequestId,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<RegisterPublicKey>,
) -> Result<(StatusCode, Json<PublicKeyView>), ApiError> {
    let agent = find(&state, &id).await?;
    let algorithm = KeyAlgorithm::parse(&body.algorithm).ok_or_else(|| {
        ApiError::bad_request(format!(
            "`algorithm` must be `ed25519` or `p256`, not `{}`",
            body.algorithm
        ))
    })?;
    let raw = public_key::parse_public_key(algorithm, &body.public_key)?;
    let now = state.now();
    let record = PublicKeyRecord {
        id: state.random_id(),
        agent_id: agent.id.clone(),
        algorithm,
        public_key: raw,
        created_at: now,
    };
    state.store.insert_public_key(&record).await?;
    state
        .audit(
            AuditEvent::new(now, "credential.public_key_registered", "admin", AuditOutcome::Success)
                .resource(format!("agent:{}", agent.id))
                .detail("public_key_id", record.id.as_str())
                .detail("algorithm", algorithm.as_str())
                .request_id(Some(&request_id.0)),
        )
        .await?;
    let view = PublicKeyView {
        id: record.id,
        agent_id: agent.id,
        algorithm: algorithm.as_str(),
        created_at: now.rfc3339(),
    };
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificateRequest {
    /// A PEM certificate signing request; its subject is ignored, the certificate names the agent.
    pub csr: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CertificateIssued {
    pub certificate: String,
    pub ca: String,
    pub fingerprint: String,
    pub serial: String,
    pub not_after: String,
}

#[utoipa::path(post, path = "/v1/agents/{id}/certificate", tag = "credentials", request_body = CertificateRequest,
    responses((status = 201, body = CertificateIssued)))]
pub async fn issue_certificate(
    State(state): State<AppState>,
    _: Admin,
    request_id: RequestId,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<CertificateRequest>,
) -> Result<(StatusCode, Json<CertificateIssued>), ApiError> {
    let agent = find(&state, &id).await?;
    agent.ensure_active()?;
    let now = state.now();
    let days = state.config.certificate_validity_days;
    let (pem, record) = state
        .ca
        .sign_csr(&body.csr, &agent.id, &agent.name, now, days, state.entropy.as_ref())?;
    state.store.insert_certificate(&record).await?;
    state
        .audit(
            AuditEvent::new(now, "credential.certificate_issued", "admin", AuditOutcome::Success)
                .resource(format!("agent:{}", agent.id))
                .detail("fingerprint", record.fingerprint.as_str())
                .detail("serial", record.serial.as_str())
                .request_id(Some(&request_id.0)),
        )
        .await?;
    let issued = CertificateIssued {
        certificate: pem,
        ca: state.ca.certificate_pem().to_owned(),
        fingerprint: record.fingerprint,
        serial: record.serial,
        not_after: record.not_after.rfc3339(),
    };
    Ok((StatusCode::CREATED, Json(issued)))
}
