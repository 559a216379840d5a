//! Administration of the registry: agents, their status, and the credentials they log in with.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use warden_core::{AuditEvent, AuditOutcome, Secret};
use warden_identity::repo::{AgentRepository, CredentialRepository};
use warden_identity::{Agent, AgentPatch, NewAgent, StatusChange};

use crate::error::ApiError;
use crate::extract::{Admin, ApiJson, ApiPath, ApiQuery, RequestId};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAgent {
    pub name: String,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// The most a passport of this agent may ever carry.
    #[serde(default)]
    pub scopes: Vec<String>,
    pub tier: Option<String>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub attributes: Map<String, Value>,
    /// Optional initial password, checked against the password policy.
    #[schema(value_type = Option<String>)]
    pub password: Option<Secret>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AgentView {
    pub id: String,
    pub name: String,
    pub roles: Vec<String>,
    pub capabilities: Vec<String>,
    pub scopes: Vec<String>,
    pub tier: Option<String>,
    #[schema(value_type = Object)]
    pub attributes: Map<String, Value>,
    pub status: String,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&Agent> for AgentView {
    fn from(agent: &Agent) -> Self {
        AgentView {
            id: agent.id.clone(),
            name: agent.name.clone(),
            roles: agent.roles.clone(),
            capabilities: agent.capabilities.clone(),
            scopes: agent.scopes.clone(),
            tier: agent.tier.clone(),
            attributes: agent.attributes.clone(),
            status: agent.status.as_str().to_owned(),
            created_at: agent.created_at.rfc3339(),
            updated_at: agent.updated_at.rfc3339(),
        }
    }
}

fn event(state: &AppState, kind: &str, agent_id: &str, request_id: &RequestId) -> AuditEvent {
    AuditEvent::new(state.now(), kind, "admin", AuditOutcome::Success)
        .resource(format!("agent:{agent_id}"))
        .request_id(Some(&request_id.0))
}

/// The agent named by `key`: its id, else its name (the login identity).
pub async fn find_by_id_or_name(state: &AppState, key: &str) -> Result<Agent, ApiError> {
    match state.store.agent(key).await? {
        Some(agent) => Ok(agent),
        None => state
            .store
            .agent_by_name(key)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no agent with id or name `{key}`"))),
    }
}

pub async fn find(state: &AppState, id: &str) -> Result<Agent, ApiError> {
    state
        .store
        .agent(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no agent `{id}`")))
}

#[utoipa::path(post, path = "/v1/agents", tag = "agents", request_body = CreateAgent,
    responses((status = 201, body = AgentView), (status = 400), (status = 409)))]
pub async fn create(
    State(state): State<AppState>,
    _: Admin,
    request_id: RequestId,
    ApiJson(body): ApiJson<CreateAgent>,
) -> Result<(StatusCode, Json<AgentView>), ApiError> {
    let now = state.now();
    let request = NewAgent {
        name: body.name,
        roles: body.roles,
        capabilities: body.capabilities,
        scopes: body.scopes,
        tier: body.tier,
        attributes: body.attributes,
    };
    let agent = Agent::register(uuid::Uuid::new_v4().to_string(), request, now)?;
    let password = match &body.password {
        Some(password) => Some(state.password_record(None, password, &agent.id).await?),
        None => None,
    };
    state.store.insert_agent(&agent).await.map_err(|e| match e {
        warden_core::StoreError::Conflict(_) => {
            ApiError::Conflict(format!("an agent named `{}` already exists", agent.name))
        }
        other => other.into(),
    })?;
    if let Some(record) = &password {
        state.store.put_password(record).await?;
    }
    state
        .audit(
            event(&state, "agent.created", &agent.id, &request_id)
                .detail("name", agent.name.as_str())
                .detail("roles", agent.roles.clone())
                .detail("password_set", password.is_some()),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(AgentView::from(&agent))))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// At most this many agents (1–500, default 100).
    pub limit: Option<u32>,
    /// Continue after this agent id (the `next` of the previous page).
    pub after: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AgentPage {
    pub agents: Vec<AgentView>,
    pub next: Option<String>,
}

#[utoipa::path(get, path = "/v1/agents", tag = "agents", params(ListQuery), responses((status = 200, body = AgentPage)))]
pub async fn list(
    State(state): State<AppState>,
    _: Admin,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<AgentPage>, ApiError> {
    let limit = query.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::bad_request("`limit` must be between 1 and 500"));
    }
    let agents = state.store.list_agents(query.after.as_deref(), limit).await?;
    let next = if agents.len() == limit as usize {
        agents.last().map(|a| a.id.clone())
    } else {
        None
    };
    Ok(Json(AgentPage {
        agents: agents.iter().map(AgentView::from).collect(),
        next,
    }))
}

#[utoipa::path(get, path = "/v1/agents/{id}", tag = "agents", responses((status = 200, body = AgentView), (status = 404)))]
pub async fn read(
    State(state): State<AppState>,
    _: Admin,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<AgentView>, ApiError> {
    Ok(Json(AgentView::from(&find(&state, &id).await?)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchAgent {
    pub roles: Option<Vec<String>>,
    pub capabilities: Option<Vec<String>>,
    pub scopes: Option<Vec<String>>,
    /// A string sets the tier; `null` clears it; absent leaves it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub tier: Option<Option<String>>,
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<Map<String, Value>>,
}

/// Distinguishes `"tier": null` (clear) from a missing `tier` (keep).
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

#[utoipa::path(patch, path = "/v1/agents/{id}", tag = "agents", request_body = PatchAgent, responses((status = 200, body = AgentView)))]
pub async fn patch(
    State(state): State<AppState>,
    _: Admin,
    request_id: RequestId,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<PatchAgent>,
) -> Result<Json<AgentView>, ApiError> {
    let mut agent = find(&state, &id).await?;
    let patch = AgentPatch {
        roles: body.roles,
        capabilities: body.capabilities,
        scopes: body.scopes,
        tier: body.tier,
        attributes: body.attributes,
    };
    agent.apply(patch, state.now())?;
    if !state.store.update_agent(&agent).await? {
        return Err(ApiError::NotFound(format!("no agent `{id}`")));
    }
    state
        .audit(
            event(&state, "agent.updated", &id, &request_id)
                .detail("roles", agent.roles.clone())
                .detail("scopes", agent.scopes.clone()),
        )
        .await?;
    Ok(Json(AgentView::from(&agent)))
}

async fn change_status(
    state: AppState,
    request_id: RequestId,
    id: String,
    change: StatusChange,
) -> Result<Json<AgentView>, ApiError> {
    let mut agent = find(&state, &id).await?;
    agent.change_status(change, state.now())?;
    if !state.store.update_agent(&agent).await? {
        return Err(ApiError::NotFound(format!("no agent `{id}`")));
    }
    state
        .audit(
            event(&state, &format!("agent.{}", change.as_str()), &id, &request_id)
                .detail("status", agent.status.as_str()),
        )
        .await?;
    Ok(Json(AgentView::from(&agent)))
}

#[utoipa::path(post, path = "/v1/agents/{id}/suspend", tag = "agents", responses((status = 200, body = AgentView)))]
pub async fn suspend(
    State(s): State<AppState>,
    _: Admin,
    r: RequestId,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<AgentView>, ApiError> {
    change_status(s, r, id, StatusChange::Suspend).await
}

#[utoipa::path(post, path = "/v1/agents/{id}/quarantine", tag = "agents", responses((status = 200, body = AgentView)))]
pub async fn quarantine(
    State(s): State<AppState>,
    _: Admin,
    r: RequestId,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<AgentView>, ApiError> {
    change_status(s, r, id, StatusChange::Quarantine).await
}

#[utoipa::path(post, path = "/v1/agents/{id}/release", tag = "agents", responses((status = 200, body = AgentView)))]
pub async fn release(
    State(s): State<AppState>,
    _: Admin,
    r: RequestId,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<AgentView>, ApiError> {
    change_status(s, r, id, StatusChange::Release).await
}

#[utoipa::path(post, path = "/v1/agents/{id}/revoke", tag = "agents", responses((status = 200, body = AgentView)))]
pub async fn revoke(
    State(s): State<AppState>,
    _: Admin,
    r: RequestId,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<AgentView>, ApiError> {
    change_status(s, r, id, StatusChange::Revoke).await
}

/// Ends every token and passport the agent holds without changing its status.
#[utoipa::path(post, path = "/v1/agents/{id}/tokens/revoke", tag = "agents", responses((status = 204)))]
pub async fn revoke_tokens(
    State(state): State<AppState>,
    _: Admin,
    request_id: RequestId,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let mut agent = find(&state, &id).await?;
    let now = state.now();
    agent.tokens_valid_after = now.plus(1);
    agent.updated_at = now;
    state.store.update_agent(&agent).await?;
    state
        .audit(event(&state, "token.revoked_all", &id, &request_id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPassword {
    #[schema(value_type = String)]
    pub password: Secret,
}

/// An administrator's password reset: the policy and history still apply.
#[utoipa::path(post, path = "/v1/agents/{id}/password", tag = "agents", request_body = SetPassword, responses((status = 204)))]
pub async fn set_password(
    State(state): State<AppState>,
    _: Admin,
    request_id: RequestId,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<SetPassword>,
) -> Result<StatusCode, ApiError> {
    let agent = find(&state, &id).await?;
    let current = state.store.password(&agent.id).await?;
    let record = state
        .password_record(current.as_ref(), &body.password, &agent.id)
        .await?;
    state.store.put_password(&record).await?;
    state
        .audit(event(&state, "credential.password_set", &id, &request_id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
