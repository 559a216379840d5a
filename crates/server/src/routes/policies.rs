//! The policy set as an administrator sees it: read it, replace it atomically, check a candidate, and
//! dry-run requests under a candidate to see which decisions would change.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use warden_core::{AuthMethod, Timestamp};
use warden_policy::{PolicySet, Subject};
use warden_store::PolicyFile;

use super::agents::find_by_id_or_name;
use super::authorize::{basis_of, effect_name, engine_request, evaluate, grant_of, status_of};
use crate::error::{ApiError, policy_errors};
use crate::extract::{Admin, ApiJson, ApiQuery, RequestId};
use crate::policy::{self, ActivateError, ActivePolicy, SOURCE_API};
use crate::state::AppState;

/// Most requests one simulation runs.
pub const MAX_SIMULATED: usize = 1_000;

const MAX_FILE_NAME: usize = 255;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileView {
    pub name: String,
    /// The file's YAML, exactly as it was activated.
    pub text: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleView {
    pub name: String,
    pub effect: String,
    pub priority: i64,
    pub file: String,
    pub line: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyView {
    pub hash: String,
    /// The store's version number of this set; `null` before any set was activated.
    pub version: Option<i64>,
    /// `files` (the data directory's `policies/`) or `api` (`PUT /v1/policies`).
    pub source: String,
    pub activated_by: String,
    pub activated_at: Option<String>,
    pub rules: Vec<RuleView>,
    pub roles: Vec<String>,
    pub files: Vec<FileView>,
}

/// A candidate set in a JSON body: either one YAML document (`policy`) or several named files.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CandidateJson {
    #[serde(default)]
    pub policy: Option<String>,
    #[serde(default)]
    pub files: Option<Vec<FileView>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutQuery {
    /// The file name a raw YAML body is kept under.
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ValidateView {
    pub valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rules: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<usize>,
    /// `{file, line, rule, message}` for every problem.
    #[schema(value_type = Vec<Object>)]
    pub errors: Value,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulateBody {
    /// The candidate as one YAML document…
    #[serde(default)]
    pub policy: Option<String>,
    /// …or as named files.
    #[serde(default)]
    pub files: Option<Vec<FileView>>,
    pub requests: Vec<SimulatedRequest>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulatedRequest {
    /// The agent's id or name; its registry facts and live grants are used.
    pub agent: String,
    pub action: String,
    pub resource: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub context: Map<String, Value>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub resource_attributes: Map<String, Value>,
    /// Ask as a passport carrying these scopes (omitted: as an access token, no scope bound).
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// The instant to judge at (RFC 3339); now when omitted.
    #[serde(default)]
    pub now: Option<String>,
    /// How the agent would have authenticated (`context.auth_method`): `password`, `api_key`,
    /// `public_key`, `certificate` or `passport`. Omitted: `passport` with `scopes`, else `password`.
    #[serde(default)]
    pub auth_method: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Verdict {
    pub decision: String,
    pub deciding_rule: Option<String>,
    pub basis: String,
    pub reasons: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SimulatedResult {
    pub agent: String,
    pub action: String,
    pub resource: String,
    pub active: Verdict,
    pub candidate: Verdict,
    /// Whether the decision (allow/deny) differs.
    pub changed: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SimulateView {
    pub active_policy: String,
    pub candidate_policy: String,
    /// How many requests would be decided differently.
    pub changed: usize,
    pub results: Vec<SimulatedResult>,
}

#[utoipa::path(get, path = "/v1/policies", tag = "policy", responses((status = 200, body = PolicyView)))]
pub async fn read(State(state): State<AppState>, _: Admin) -> Json<PolicyView> {
    Json(view(&state.policy()))
}

#[utoipa::path(put, path = "/v1/policies", tag = "policy",
    params(("name" = Option<String>, Query, description = "file name for a raw YAML body")),
    request_body(content = String, description = "YAML (any content type but JSON), or JSON `{policy}` / `{files: [{name, text}]}`"),
    responses((status = 200, body = PolicyView), (status = 400, description = "the candidate does not load; `errors` lists every problem")))]
pub async fn replace(
    State(state): State<AppState>,
    _: Admin,
    request_id: RequestId,
    ApiQuery(query): ApiQuery<PutQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<PolicyView>, ApiError> {
    let files = candidate_from_body(&headers, query.name, &body)?;
    match policy::activate(&state, files, SOURCE_API, "admin", Some(&request_id.0)).await {
        Ok(active) => Ok(Json(view(&active))),
        Err(ActivateError::Invalid(error)) => {
            policy::audit_rejection(&state, SOURCE_API, "admin", &error, Some(&request_id.0)).await?;
            Err(ApiError::InvalidPolicy(error))
        }
        Err(ActivateError::Api(error)) => Err(error),
    }
}

#[utoipa::path(post, path = "/v1/policies/validate", tag = "policy",
    request_body(content = String, description = "as for PUT /v1/policies"),
    responses((status = 200, body = ValidateView)))]
pub async fn validate(
    _: Admin,
    ApiQuery(query): ApiQuery<PutQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ValidateView>, ApiError> {
    let files = candidate_from_body(&headers, query.name, &body)?;
    Ok(Json(match policy::compile(&files) {
        Ok(set) => ValidateView {
            valid: true,
            hash: Some(set.hash().as_str().to_owned()),
            rules: Some(set.rules().len()),
            roles: Some(set.roles().roles().count()),
            errors: Value::Array(Vec::new()),
        },
        Err(error) => ValidateView {
            valid: false,
            hash: None,
            rules: None,
            roles: None,
            errors: policy_errors(&error),
        },
    }))
}

#[utoipa::path(post, path = "/v1/policies/simulate", tag = "policy", request_body = SimulateBody,
    responses((status = 200, body = SimulateView), (status = 400)))]
pub async fn simulate(
    State(state): State<AppState>,
    _: Admin,
    ApiJson(body): ApiJson<SimulateBody>,
) -> Result<Json<SimulateView>, ApiError> {
    let files = candidate_files(body.policy, body.files, None)?;
    let candidate = policy::compile(&files).map_err(ApiError::InvalidPolicy)?;
    if body.requests.is_empty() {
        return Err(ApiError::bad_request("requests: give at least one request"));
    }
    if body.requests.len() > MAX_SIMULATED {
        return Err(ApiError::bad_request(format!(
            "requests: at most {MAX_SIMULATED} per simulation, got {}",
            body.requests.len()
        )));
    }
    let active = state.policy();
    let mut results = Vec::with_capacity(body.requests.len());
    for (i, request) in body.requests.into_iter().enumerate() {
        results.push(
            simulate_one(&state, &active.set, &candidate, request)
                .await
                .map_err(|e| match e {
                    ApiError::BadRequest(m) => ApiError::BadRequest(format!("requests[{i}].{m}")),
                    other => other,
                })?,
        );
    }
    Ok(Json(SimulateView {
        active_policy: active.set.hash().as_str().to_owned(),
        candidate_policy: candidate.hash().as_str().to_owned(),
        changed: results.iter().filter(|r| r.changed).count(),
        results,
    }))
}

async fn simulate_one(
    state: &AppState,
    active: &PolicySet,
    candidate: &PolicySet,
    request: SimulatedRequest,
) -> Result<SimulatedResult, ApiError> {
    if request.action.trim().is_empty() {
        return Err(ApiError::bad_request("action: must not be empty"));
    }
    if request.resource.trim().is_empty() {
        return Err(ApiError::bad_request("resource: must not be empty"));
    }
    let now = match &request.now {
        Some(text) => Timestamp::parse_rfc3339(text)
            .ok_or_else(|| ApiError::bad_request(format!("now: `{text}` is not an RFC 3339 time")))?,
        None => state.now(),
    };
    let agent = find_by_id_or_name(state, &request.agent).await.map_err(|e| match e {
        ApiError::NotFound(message) => ApiError::BadRequest(format!("agent: {message}")),
        other => other,
    })?;
    let subject = Subject {
        agent_id: agent.id.clone(),
        name: agent.name.clone(),
        roles: agent.roles.clone(),
        capabilities: agent.capabilities.clone(),
        scopes: request.scopes,
        tier: agent.tier.clone(),
        status: status_of(agent.status),
        attributes: agent.attributes.clone(),
    };
    let auth_method = match request.auth_method.as_deref() {
        Some(text) => AuthMethod::parse(text)
            .filter(|m| *m != AuthMethod::AdminToken)
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "auth_method: `{text}` is not one of password, api_key, public_key, certificate, passport"
                ))
            })?
            .as_str(),
        None if subject.scopes.is_some() => "passport",
        None => "password",
    };
    let grants: Vec<_> = state
        .store
        .live_grants(&agent.id, now)
        .await?
        .iter()
        .map(grant_of)
        .collect();
    let engine = engine_request(
        &subject,
        request.action.clone(),
        request.resource.clone(),
        request.context,
        request.resource_attributes,
        Some(auth_method),
        now,
    );
    let before = evaluate(active, &engine, &grants, false);
    let after = evaluate(candidate, &engine, &grants, false);
    Ok(SimulatedResult {
        agent: agent.name,
        action: request.action,
        resource: request.resource,
        changed: before.decision != after.decision,
        active: verdict(before),
        candidate: verdict(after),
    })
}

fn verdict(decision: warden_policy::Decision) -> Verdict {
    Verdict {
        decision: effect_name(&decision).to_owned(),
        basis: basis_of(&decision.basis).0.to_owned(),
        deciding_rule: decision.deciding_rule,
        reasons: decision.reasons,
    }
}

fn view(active: &ActivePolicy) -> PolicyView {
    PolicyView {
        hash: active.set.hash().as_str().to_owned(),
        version: active.version,
        source: active.source.clone(),
        activated_by: active.activated_by.clone(),
        activated_at: active.activated_at.map(Timestamp::rfc3339),
        rules: active
            .set
            .rules()
            .iter()
            .map(|rule| RuleView {
                name: rule.name.clone(),
                effect: rule.effect.as_str().to_owned(),
                priority: rule.priority,
                file: rule.origin.file.clone(),
                line: rule.origin.line,
            })
            .collect(),
        roles: active.set.roles().roles().map(|r| r.name.clone()).collect(),
        files: active
            .files
            .iter()
            .map(|f| FileView {
                name: f.name.clone(),
                text: f.text.clone(),
            })
            .collect(),
    }
}

/// The candidate in a PUT or validate body: JSON (`{policy}` or `{files}`) when the content type says
/// JSON, otherwise the body is one YAML file named `name` (default `api.yaml`).
fn candidate_from_body(headers: &HeaderMap, name: Option<String>, body: &[u8]) -> Result<Vec<PolicyFile>, ApiError> {
    let is_json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("application/json"));
    if is_json {
        if name.is_some() {
            return Err(ApiError::bad_request(
                "name: only for a raw YAML body; a JSON body names its files",
            ));
        }
        let json: CandidateJson =
            serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("body: {e}")))?;
        return candidate_files(json.policy, json.files, None);
    }
    let text = std::str::from_utf8(body).map_err(|_| ApiError::bad_request("body: the YAML is not valid UTF-8"))?;
    candidate_files(Some(text.to_owned()), None, name)
}

fn candidate_files(
    policy: Option<String>,
    files: Option<Vec<FileView>>,
    name: Option<String>,
) -> Result<Vec<PolicyFile>, ApiError> {
    let files = match (policy, files) {
        (Some(text), None) => vec![PolicyFile {
            name: name.unwrap_or_else(|| "api.yaml".to_owned()),
            text,
        }],
        (None, Some(files)) if files.is_empty() => {
            return Err(ApiError::bad_request(
                "files: give at least one file (a file with `rules: []` denies everything on purpose)",
            ));
        }
        (None, Some(files)) => files
            .into_iter()
            .map(|f| PolicyFile {
                name: f.name,
                text: f.text,
            })
            .collect(),
        (Some(_), Some(_)) => return Err(ApiError::bad_request("give either `policy` or `files`, not both")),
        (None, None) => {
            return Err(ApiError::bad_request(
                "policy: give the candidate as `policy` or `files`",
            ));
        }
    };
    let mut names = std::collections::BTreeSet::new();
    for file in &files {
        let ok = !file.name.is_empty()
            && file.name.len() <= MAX_FILE_NAME
            && !file.name.contains(['/', '\\'])
            && !file.name.chars().any(char::is_control);
        if !ok {
            return Err(ApiError::bad_request(format!(
                "files: `{}` is not a file name (1 to {MAX_FILE_NAME} characters, no slashes)",
                file.name.escape_debug()
            )));
        }
        if !names.insert(file.name.as_str()) {
            return Err(ApiError::bad_request(format!("files: `{}` appears twice", file.name)));
        }
    }
    let mut files = files;
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(files)
}
