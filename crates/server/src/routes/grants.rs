//! Just-in-time grants: an administrator allows one action on one resource to one agent until the
//! grant expires by itself; the holder of a delegable grant may hand it on one hop, never wider and
//! never longer.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use warden_core::{AuditEvent, AuditOutcome, Seconds};
use warden_store::GrantRecord;

use super::agents::find_by_id_or_name;
use super::authorize::grant_of;
use crate::error::ApiError;
use crate::extract::{Admin, ApiJson, ApiPath, ApiQuery, Caller, RequestId};
use crate::state::AppState;

/// The longest a grant may live: just-in-time means hours or days, not a standing permission.
pub const MAX_GRANT_TTL: Seconds = Seconds::days(30);

const MAX_FIELD: usize = 512;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGrant {
    /// The agent's id or name.
    pub agent_id: String,
    /// One exact action; grants take no patterns.
    pub action: String,
    /// One exact resource.
    pub resource: String,
    /// How long the grant holds: `300`, `"15m"`, `"4h"`, at most 30 days.
    #[schema(value_type = String)]
    pub ttl: Seconds,
    /// Why: kept in the grant and the audit trail.
    pub reason: String,
    /// Whether the holder may hand it on, one hop.
    #[serde(default)]
    pub delegable: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DelegateGrant {
    /// The receiving agent's id or name.
    pub agent_id: String,
    /// At most the parent's remaining time; omitted, the parent's.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub ttl: Option<Seconds>,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(default)]
    pub agent_id: Option<String>,
    /// Also list revoked and expired grants (kept for 30 days).
    #[serde(default)]
    pub include_inactive: bool,
    #[serde(default)]
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GrantView {
    pub id: String,
    pub agent_id: String,
    pub action: String,
    pub resource: String,
    pub reason: String,
    pub delegable: bool,
    pub parent_id: Option<String>,
    pub delegated_from: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub expires_at: String,
    pub revoked_at: Option<String>,
    /// `active`, `expired` or `revoked`.
    pub status: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GrantList {
    pub grants: Vec<GrantView>,
}

#[utoipa::path(post, path = "/v1/grants", tag = "policy", request_body = CreateGrant,
    responses((status = 201, body = GrantView), (status = 400), (status = 404)))]
pub async fn create(
    State(state): State<AppState>,
    _: Admin,
    request_id: RequestId,
    ApiJson(body): ApiJson<CreateGrant>,
) -> Result<(StatusCode, Json<GrantView>), ApiError> {
    exact("action", &body.action)?;
    exact("resource", &body.resource)?;
    if body.reason.trim().is_empty() || body.reason.len() > MAX_FIELD {
        return Err(ApiError::bad_request(format!(
            "reason: say why the grant is needed (1 to {MAX_FIELD} characters)"
        )));
    }
    let ttl = ttl_within(body.ttl, MAX_GRANT_TTL.get(), "ttl")?;
    let agent = find_by_id_or_name(&state, &body.agent_id).await?;
    agent.ensure_active()?;
    let now = state.now();
    let record = GrantRecord {
        id: format!("grt_{}", state.random_id()),
        agent_id: agent.id.clone(),
        action: body.action,
        resource: body.resource,
        reason: body.reason,
        delegable: body.delegable,
        parent_id: None,
        delegated_from: None,
        created_by: "admin".into(),
        created_at: now,
        expires_at: now.plus(ttl),
        revoked_at: None,
    };
    state.store.insert_grant(&record).await?;
    audit(&state, "grant.created", "admin", &record, &request_id).await?;
    Ok((StatusCode::CREATED, Json(view(&state, &record))))
}

#[utoipa::path(get, path = "/v1/grants", tag = "policy",
    params(("agent_id" = Option<String>, Query), ("include_inactive" = Option<bool>, Query), ("limit" = Option<u32>, Query)),
    responses((status = 200, body = GrantList)))]
pub async fn list(
    State(state): State<AppState>,
    _: Admin,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<GrantList>, ApiError> {
    let agent_id = match &query.agent_id {
        Some(id) => Some(find_by_id_or_name(&state, id).await?.id),
        None => None,
    };
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let records = state
        .store
        .grants(agent_id.as_deref(), query.include_inactive, state.now(), limit)
        .await?;
    Ok(Json(GrantList {
        grants: records.iter().map(|r| view(&state, r)).collect(),
    }))
}

#[utoipa::path(delete, path = "/v1/grants/{id}", tag = "policy",
    responses((status = 204, description = "revoked, with every grant delegated from it"), (status = 404)))]
pub async fn revoke(
    State(state): State<AppState>,
    _: Admin,
    request_id: RequestId,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let record = state
        .store
        .grant(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no grant `{id}`")))?;
    let now = state.now();
    let revoked = state.store.revoke_grant(&record.id, now).await?;
    let event = AuditEvent::new(now, "grant.revoked", "admin", AuditOutcome::Success)
        .resource(record.resource.as_str())
        .detail("grant_id", record.id.as_str())
        .detail("agent_id", record.agent_id.as_str())
        .detail("revoked", revoked)
        .request_id(Some(&request_id.0));
    state.audit(event).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/grants/{id}/delegate", tag = "policy", request_body = DelegateGrant,
    responses((status = 201, body = GrantView), (status = 403), (status = 404)))]
pub async fn delegate(
    State(state): State<AppState>,
    caller: Caller,
    request_id: RequestId,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<DelegateGrant>,
) -> Result<(StatusCode, Json<GrantView>), ApiError> {
    let now = state.now();
    // Someone else's grant is answered as absent: its existence is not the caller's business.
    let parent = state
        .store
        .grant(&id)
        .await?
        .filter(|g| g.agent_id == caller.agent.id)
        .ok_or_else(|| ApiError::NotFound(format!("you hold no grant `{id}`")))?;
    if parent.revoked_at.is_some() {
        return Err(ApiError::Forbidden(format!("grant `{id}` was revoked")));
    }
    if parent.expires_at <= now {
        return Err(ApiError::Forbidden(format!("grant `{id}` has expired")));
    }
    let to = find_by_id_or_name(&state, &body.agent_id).await?;
    to.ensure_active()?;
    let remaining = now.seconds_until(parent.expires_at);
    let ttl = match body.ttl {
        Some(ttl) => ttl_within(ttl, remaining, "ttl")?,
        None => remaining,
    };
    let child = grant_of(&parent)
        .delegate(format!("grt_{}", state.random_id()), &to.id, now.plus(ttl), now)
        .map_err(|e| ApiError::Forbidden(e.to_string()))?;
    let reason = body.reason.unwrap_or_else(|| parent.reason.clone());
    if reason.len() > MAX_FIELD {
        return Err(ApiError::bad_request(format!("reason: at most {MAX_FIELD} characters")));
    }
    let record = GrantRecord {
        id: child.id,
        agent_id: child.agent_id,
        action: child.action,
        resource: child.resource,
        reason,
        delegable: child.delegable,
        parent_id: Some(parent.id.clone()),
        delegated_from: child.delegated_from,
        created_by: caller.agent.id.clone(),
        created_at: now,
        expires_at: child.expires_at,
        revoked_at: None,
    };
    state.store.insert_grant(&record).await?;
    audit(&state, "grant.delegated", &caller.agent.id, &record, &request_id).await?;
    Ok((StatusCode::CREATED, Json(view(&state, &record))))
}

/// Grants name one action and one resource exactly: a pattern would make them standing rules.
fn exact(field: &str, value: &str) -> Result<(), ApiError> {
    if value.trim().is_empty() || value.len() > MAX_FIELD {
        return Err(ApiError::bad_request(format!(
            "{field}: must be 1 to {MAX_FIELD} characters"
        )));
    }
    if value.contains(['*', '?']) {
        return Err(ApiError::bad_request(format!(
            "{field}: a grant names one exact {field}, not a pattern (`{value}`)"
        )));
    }
    Ok(())
}

fn ttl_within(ttl: Seconds, max: u64, field: &str) -> Result<u64, ApiError> {
    match ttl.get() {
        0 => Err(ApiError::bad_request(format!("{field}: must be at least one second"))),
        seconds if seconds > max => Err(ApiError::bad_request(format!(
            "{field}: at most {max} seconds here, got {seconds}"
        ))),
        seconds => Ok(seconds),
    }
}

async fn audit(
    state: &AppState,
    kind: &str,
    actor: &str,
    record: &GrantRecord,
    request_id: &RequestId,
) -> Result<(), ApiError> {
    let event = AuditEvent::new(record.created_at, kind, actor, AuditOutcome::Success)
        .resource(record.resource.as_str())
        .detail("grant_id", record.id.as_str())
        .detail("agent_id", record.agent_id.as_str())
        .detail("action", record.action.as_str())
        .detail("expires_at", record.expires_at.rfc3339())
        .detail("delegable", record.delegable)
        .detail("parent_id", record.parent_id.clone())
        .detail("reason", record.reason.as_str())
        .request_id(Some(&request_id.0));
    state.audit(event).await.map(|_| ())
}

fn view(state: &AppState, record: &GrantRecord) -> GrantView {
    let status = if record.revoked_at.is_some() {
        "revoked"
    } else if record.expires_at <= state.now() {
        "expired"
    } else {
        "active"
    };
    GrantView {
        id: record.id.clone(),
        agent_id: record.agent_id.clone(),
        action: record.action.clone(),
        resource: record.resource.clone(),
        reason: record.reason.clone(),
        delegable: record.delegable,
        parent_id: record.parent_id.clone(),
        delegated_from: record.delegated_from.clone(),
        created_by: record.created_by.clone(),
        created_at: record.created_at.rfc3339(),
        expires_at: record.expires_at.rfc3339(),
        revoked_at: record.revoked_at.map(|t| t.rfc3339()),
        status,
    }
}
