//! The vault over HTTP: store, read, list, share, rotate and delete secrets. Values are sealed before
//! they reach the store and opened only for an agent the policy engine (with the secret's grants)
//! allows; every operation, refused reads included, is an audit event naming the secret and the agent,
//! never the value.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;
use warden_core::{AuditEvent, AuditOutcome, Seconds, Timestamp};
use warden_store::{SecretGrantRecord, SecretRecord, SecretUpdate, SecretVersionRecord};
use warden_vault::{
    KeyId, NewSecret, RotationDays, SealedSecret, SecretData, SecretKind, SecretMetadata, SecretName, SecretRef,
    SecretVersion, Tags,
};

use super::agents::find_by_id_or_name;
use crate::error::ApiError;
use crate::extract::{Admin, AdminOrCaller, ApiJson, ApiPath, ApiQuery, RequestId};
use crate::state::AppState;

mod access;
mod generate;

use access::{DELETE, READ, ROTATE, SHARE, Target, WRITE, actor_id, audit, decide, decision_details, managed, refuse};

/// The longest a secret grant may last when it has a `ttl` (omitted: until revoked).
pub const MAX_SECRET_GRANT_TTL: Seconds = Seconds::days(365);

#[derive(Debug, Serialize, ToSchema)]
pub struct SecretWritten {
    pub name: String,
    pub version: u32,
    #[serde(rename = "type")]
    pub kind: String,
    pub created_at: String,
    /// Only after a rotation with `"generate": true`: the new login and when the previous one stops.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login: Option<GeneratedLogin>,
}

/// What a Warden-driven rotation of a `database` secret did on the database (never the password).
#[derive(Debug, Serialize, ToSchema)]
pub struct GeneratedLogin {
    /// The new version's login role.
    pub username: String,
    /// The previous version's login role, which keeps working until `previous_valid_until`.
    pub previous_username: String,
    pub previous_valid_until: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SecretValue {
    pub name: String,
    pub version: u32,
    #[serde(rename = "type")]
    pub kind: String,
    #[schema(value_type = Object)]
    pub data: Value,
    pub created_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SecretView {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub version: u32,
    pub owner: String,
    pub tags: Vec<String>,
    pub created_at: String,
    /// When the current version was stored.
    pub updated_at: String,
    pub expires_at: Option<String>,
    pub rotation_days: Option<u32>,
    /// When the current version is due for rotation under its own or the configured interval.
    pub rotation_due_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SecretList {
    pub secrets: Vec<SecretView>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadQuery {
    #[serde(default)]
    pub version: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(default)]
    pub tag: Option<String>,
}

/// Either `data`, the new value, or `"generate": true`, for Warden to make the new credential itself
/// (`database` secrets, with `vault.database_rotation` configured; see docs/vault.md).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateBody {
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub data: Option<SecretData>,
    #[serde(default)]
    pub generate: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareBody {
    /// The agent's id or name.
    pub agent_id: String,
    /// How long the agent may read it (`"1h"`, `"7d"`, …, at most 365 days); omitted: until unshared.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub ttl: Option<Seconds>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShareView {
    pub name: String,
    pub agent_id: String,
    pub expires_at: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpiringQuery {
    #[serde(default)]
    pub days: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExpiringView {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub version: u32,
    /// `rotation` (the interval runs out) or `expiry` (the secret's own `expires_at`).
    pub reason: String,
    pub due_at: String,
    /// Already past.
    pub overdue: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExpiringList {
    pub days: u32,
    pub secrets: Vec<ExpiringView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VaultStats {
    pub secrets: u64,
    pub versions: u64,
    #[schema(value_type = Object)]
    pub by_type: Map<String, Value>,
    /// Secrets whose current version is due for rotation now.
    pub rotation_due: u64,
    /// Secrets past their own `expires_at`.
    pub expired: u64,
    /// Reads that failed the integrity check since this process started.
    pub failed_decryptions: u64,
}

/// `PUT /v1/secrets/{name}`: stores the first version, or a new version of an existing secret of the
/// same type. An agent needs `secret:write` on `secret:<name>` (or to own the secret).
#[utoipa::path(put, path = "/v1/secrets/{name}", tag = "vault",
    responses((status = 201, body = SecretWritten), (status = 200, body = SecretWritten), (status = 400), (status = 403), (status = 409)))]
pub async fn put(
    State(state): State<AppState>,
    who: AdminOrCaller,
    request_id: RequestId,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<NewSecret>,
) -> Result<(StatusCode, Json<SecretWritten>), ApiError> {
    let name = SecretName::new(name)?;
    let existing = state.store.secret(name.as_str()).await?;
    let actor = actor_id(&who);
    if let AdminOrCaller::Agent(caller) = &who {
        // A new secret is judged as what it would be: its type and tags, owned by the caller.
        let target = match &existing {
            Some(secret) => Target::Existing(secret),
            None => Target::New {
                kind: body.kind,
                tags: body.tags.as_slice(),
            },
        };
        state.admit.action(&caller.agent.id, WRITE).await?;
        let decision = decide(&state, caller, WRITE, &name, target).await?;
        if !decision.is_allow() {
            return Err(refuse(&state, caller, WRITE, "secret.stored", &name, &decision, &request_id).await);
        }
    }
    // From sealing to storing, a master-key rotation waits (see `AppState::vault_writes`).
    let _writing = state.vault_writes.read().await;
    let now = state.now();
    let (version, status) = match &existing {
        Some(current) => {
            if current.kind != body.kind.as_str() {
                return Err(ApiError::Conflict(format!(
                    "secret `{name}` is of type `{}`; a secret's type cannot change (delete it and store it again)",
                    current.kind
                )));
            }
            let next = version_of(current.current_version)?
                .next()
                .ok_or_else(|| ApiError::Conflict(format!("secret `{name}` has no versions left")))?;
            let record = sealed_version(&state, &name, next, body.kind, &body.data, &actor, now)?;
            let update = SecretUpdate {
                tags: Some(body.tags.as_slice().to_vec()),
                rotation_days: Some(body.rotation_days.map(|d| i64::from(d.get()))),
                expires_at: Some(body.expires_at),
            };
            let keep = state.config.vault.keep_versions;
            state
                .store
                .insert_secret_version(current.current_version, &record, &update, keep)
                .await?;
            (next, StatusCode::OK)
        }
        None => {
            let first = SecretVersion::FIRST;
            let record = sealed_version(&state, &name, first, body.kind, &body.data, &actor, now)?;
            let secret = SecretRecord {
                name: name.as_str().to_owned(),
                kind: body.kind.as_str().to_owned(),
                owner: actor.clone(),
                tags: body.tags.as_slice().to_vec(),
                current_version: i64::from(first.get()),
                rotation_days: body.rotation_days.map(|d| i64::from(d.get())),
                expires_at: body.expires_at,
                created_at: now,
                updated_at: now,
                rotation_noted_version: None,
            };
            state.store.insert_secret(&secret, &record).await?;
            (first, StatusCode::CREATED)
        }
    };
    audit(
        &state,
        "secret.stored",
        &actor,
        &name,
        AuditOutcome::Success,
        &request_id,
        |e| e.detail("version", version.get()).detail("type", body.kind.as_str()),
    )
    .await?;
    Ok((
        status,
        Json(SecretWritten {
            name: name.as_str().to_owned(),
            version: version.get(),
            kind: body.kind.as_str().to_owned(),
            created_at: now.rfc3339(),
            login: None,
        }),
    ))
}

/// `GET /v1/secrets/{name}`: the plaintext `data`, for an agent the policy (with the secret's grants)
/// allows `secret:read` on `secret:<name>`. Refused and missing look alike to an agent that may not read.
#[utoipa::path(get, path = "/v1/secrets/{name}", tag = "vault",
    params(("version" = Option<u32>, Query, description = "a kept version; the current one when omitted")),
    responses((status = 200, body = SecretValue), (status = 403), (status = 404)))]
pub async fn read(
    State(state): State<AppState>,
    who: AdminOrCaller,
    request_id: RequestId,
    ApiPath(name): ApiPath<String>,
    ApiQuery(query): ApiQuery<ReadQuery>,
) -> Result<Json<SecretValue>, ApiError> {
    let AdminOrCaller::Agent(caller) = who else {
        return Err(ApiError::Forbidden(
            "the admin token manages secrets but reads no values: share the secret with an agent".into(),
        ));
    };
    let name = SecretName::new(name)?;
    let secret = state.store.secret(name.as_str()).await?;
    state.admit.action(&caller.agent.id, READ).await?;
    let decision = decide(&state, &caller, READ, &name, Target::of(secret.as_ref())).await?;
    if !decision.is_allow() {
        return Err(refuse(&state, &caller, READ, "secret.read", &name, &decision, &request_id).await);
    }
    let secret = secret.ok_or_else(|| ApiError::NotFound(format!("no secret `{name}`")))?;
    if let Some(expired_at) = secret.expires_at.filter(|at| *at <= state.now()) {
        audit(
            &state,
            "secret.read",
            &caller.agent.id,
            &name,
            AuditOutcome::Denied,
            &request_id,
            |e| e.detail("reason", "expired").detail("expired_at", expired_at.rfc3339()),
        )
        .await?;
        return Err(ApiError::Forbidden(format!(
            "secret `{name}` expired at {}; it must be rotated or stored again with a new `expires_at`",
            expired_at.rfc3339()
        )));
    }
    let version = match query.version {
        Some(v) => SecretVersion::new(v).ok_or_else(|| ApiError::bad_request("version: versions count from 1"))?,
        None => version_of(secret.current_version)?,
    };
    let kind: SecretKind = secret
        .kind
        .parse()
        .map_err(|e: warden_vault::VaultError| ApiError::Internal(e.to_string()))?;
    let (data, created_at) = open_version(&state, &caller.agent.id, &name, kind, version, &request_id).await?;
    let data = data.to_value()?;
    audit(
        &state,
        "secret.read",
        &caller.agent.id,
        &name,
        AuditOutcome::Success,
        &request_id,
        |e| decision_details(e.detail("version", version.get()), &decision),
    )
    .await?;
    Ok(Json(SecretValue {
        name: name.as_str().to_owned(),
        version: version.get(),
        kind: kind.as_str().to_owned(),
        data,
        created_at: created_at.rfc3339(),
    }))
}

/// `GET /v1/secrets`: metadata only. The admin sees every secret; an agent those it owns, holds a grant
/// on, or may read by policy.
#[utoipa::path(get, path = "/v1/secrets", tag = "vault",
    params(("tag" = Option<String>, Query)), responses((status = 200, body = SecretList)))]
pub async fn list(
    State(state): State<AppState>,
    who: AdminOrCaller,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<SecretList>, ApiError> {
    let mut secrets = Vec::new();
    for secret in state.store.secrets().await? {
        if query.tag.as_ref().is_some_and(|tag| !secret.tags.contains(tag)) {
            continue;
        }
        if let AdminOrCaller::Agent(caller) = &who {
            let name = SecretName::new(secret.name.clone())?;
            let visible = secret.owner == caller.agent.id
                || decide(&state, caller, READ, &name, Target::Existing(&secret))
                    .await?
                    .is_allow();
            if !visible {
                continue;
            }
        }
        secrets.push(view(&state, &secret)?);
    }
    Ok(Json(SecretList { secrets }))
}

/// `POST /v1/secrets/{name}/grants` (admin or owner): lets one agent read the secret, until `ttl` runs
/// out or it is unshared. A matching deny rule still wins over it.
#[utoipa::path(post, path = "/v1/secrets/{name}/grants", tag = "vault", request_body = ShareBody,
    responses((status = 201, body = ShareView), (status = 403), (status = 404)))]
pub async fn share(
    State(state): State<AppState>,
    who: AdminOrCaller,
    request_id: RequestId,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<ShareBody>,
) -> Result<(StatusCode, Json<ShareView>), ApiError> {
    let (name, _) = managed(&state, &who, name, SHARE, "secret.shared", &request_id).await?;
    let agent = find_by_id_or_name(&state, &body.agent_id).await?;
    agent.ensure_active()?;
    let now = state.now();
    let expires_at = match body.ttl {
        Some(ttl) if ttl.get() == 0 || ttl > MAX_SECRET_GRANT_TTL => {
            return Err(ApiError::bad_request(format!(
                "ttl: 1 second to {} days",
                MAX_SECRET_GRANT_TTL.get() / 86_400
            )));
        }
        Some(ttl) => Some(now.plus(ttl.get())),
        None => None,
    };
    let actor = actor_id(&who);
    state
        .store
        .upsert_secret_grant(&SecretGrantRecord {
            name: name.as_str().to_owned(),
            agent_id: agent.id.clone(),
            granted_by: actor.clone(),
            created_at: now,
            expires_at,
        })
        .await?;
    audit(
        &state,
        "secret.shared",
        &actor,
        &name,
        AuditOutcome::Success,
        &request_id,
        |e| {
            e.detail("agent_id", agent.id.as_str())
                .detail("expires_at", expires_at.map(Timestamp::rfc3339))
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(ShareView {
            name: name.as_str().to_owned(),
            agent_id: agent.id,
            expires_at: expires_at.map(Timestamp::rfc3339),
        }),
    ))
}

/// `DELETE /v1/secrets/{name}/grants/{agent_id}` (admin or owner).
#[utoipa::path(delete, path = "/v1/secrets/{name}/grants/{agent_id}", tag = "vault",
    responses((status = 204), (status = 404)))]
pub async fn unshare(
    State(state): State<AppState>,
    who: AdminOrCaller,
    request_id: RequestId,
    ApiPath((name, agent_id)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (name, _) = managed(&state, &who, name, SHARE, "secret.unshared", &request_id).await?;
    let agent = find_by_id_or_name(&state, &agent_id).await?;
    if !state.store.delete_secret_grant(name.as_str(), &agent.id).await? {
        return Err(ApiError::NotFound(format!(
            "secret `{name}` is not shared with `{agent_id}`"
        )));
    }
    audit(
        &state,
        "secret.unshared",
        &actor_id(&who),
        &name,
        AuditOutcome::Success,
        &request_id,
        |e| e.detail("agent_id", agent.id.as_str()),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/secrets/{name}/rotate` (admin or owner): `{data}` becomes the new current version; with
/// `{"generate": true}` Warden makes a new login on the database for a `database` secret and stores it.
#[utoipa::path(post, path = "/v1/secrets/{name}/rotate", tag = "vault", request_body = RotateBody,
    responses((status = 200, body = SecretWritten), (status = 400), (status = 403), (status = 404), (status = 409),
        (status = 502, description = "the database refused or could not be reached; nothing was stored")))]
pub async fn rotate(
    State(state): State<AppState>,
    who: AdminOrCaller,
    request_id: RequestId,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<RotateBody>,
) -> Result<Json<SecretWritten>, ApiError> {
    let (name, secret) = managed(&state, &who, name, ROTATE, "secret.rotated", &request_id).await?;
    let kind: SecretKind = secret
        .kind
        .parse()
        .map_err(|e: warden_vault::VaultError| ApiError::Internal(e.to_string()))?;
    let next = version_of(secret.current_version)?
        .next()
        .ok_or_else(|| ApiError::Conflict(format!("secret `{name}` has no versions left")))?;
    let actor = actor_id(&who);
    let data = match (body.data, body.generate) {
        (Some(data), false) => data,
        (None, true) => {
            return generate::rotate(&state, &actor, &name, &secret, kind, next, &request_id)
                .await
                .map(Json);
        }
        (Some(_), true) => {
            return Err(ApiError::bad_request(
                "give `data` (the new value) or `\"generate\": true`, not both",
            ));
        }
        (None, false) => {
            return Err(ApiError::bad_request(
                "the body needs `data` (the new value), or `\"generate\": true` for Warden to make a new \
                 database credential itself",
            ));
        }
    };
    let _writing = state.vault_writes.read().await;
    let now = state.now();
    let record = sealed_version(&state, &name, next, kind, &data, &actor, now)?;
    let keep = state.config.vault.keep_versions;
    state
        .store
        .insert_secret_version(secret.current_version, &record, &SecretUpdate::default(), keep)
        .await?;
    audit(
        &state,
        "secret.rotated",
        &actor,
        &name,
        AuditOutcome::Success,
        &request_id,
        |e| e.detail("version", next.get()),
    )
    .await?;
    Ok(Json(SecretWritten {
        name: name.as_str().to_owned(),
        version: next.get(),
        kind: kind.as_str().to_owned(),
        created_at: now.rfc3339(),
        login: None,
    }))
}

/// `DELETE /v1/secrets/{name}` (admin or owner): every version and grant.
#[utoipa::path(delete, path = "/v1/secrets/{name}", tag = "vault", responses((status = 204), (status = 404)))]
pub async fn delete(
    State(state): State<AppState>,
    who: AdminOrCaller,
    request_id: RequestId,
    ApiPath(name): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let (name, _) = managed(&state, &who, name, DELETE, "secret.deleted", &request_id).await?;
    if !state.store.delete_secret(name.as_str()).await? {
        return Err(ApiError::NotFound(format!("no secret `{name}`")));
    }
    audit(
        &state,
        "secret.deleted",
        &actor_id(&who),
        &name,
        AuditOutcome::Success,
        &request_id,
        |e| e,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/secrets-expiring?days=N` (admin): secrets whose rotation or expiry falls within N days
/// (default 7), or is past.
#[utoipa::path(get, path = "/v1/secrets-expiring", tag = "vault",
    params(("days" = Option<u32>, Query)), responses((status = 200, body = ExpiringList)))]
pub async fn expiring(
    State(state): State<AppState>,
    _: Admin,
    ApiQuery(query): ApiQuery<ExpiringQuery>,
) -> Result<Json<ExpiringList>, ApiError> {
    let days = query.days.unwrap_or(7);
    if days > warden_vault::MAX_ROTATION_DAYS {
        return Err(ApiError::bad_request(format!(
            "days: at most {}",
            warden_vault::MAX_ROTATION_DAYS
        )));
    }
    let now = state.now();
    let mut secrets = Vec::new();
    for secret in state.store.secrets().await? {
        let meta = metadata(&secret)?;
        if let Some(deadline) = meta.expiring_within(&state.config.vault.rotation, now, days) {
            secrets.push(ExpiringView {
                name: secret.name.clone(),
                kind: secret.kind.clone(),
                version: meta.version.get(),
                reason: deadline.reason.as_str().to_owned(),
                due_at: deadline.at.rfc3339(),
                overdue: deadline.at <= now,
            });
        }
    }
    secrets.sort_by(|a, b| a.due_at.cmp(&b.due_at).then_with(|| a.name.cmp(&b.name)));
    Ok(Json(ExpiringList { days, secrets }))
}

/// `GET /v1/vault/stats` (admin).
#[utoipa::path(get, path = "/v1/vault/stats", tag = "vault", responses((status = 200, body = VaultStats)))]
pub async fn stats(State(state): State<AppState>, _: Admin) -> Result<Json<VaultStats>, ApiError> {
    let counts = state.store.secret_counts().await?;
    let mut by_type = Map::new();
    for count in &counts {
        by_type.insert(
            count.kind.clone(),
            json!({"secrets": count.secrets, "versions": count.versions}),
        );
    }
    let now = state.now();
    let (mut rotation_due, mut expired) = (0, 0);
    for secret in state.store.secrets().await? {
        let meta = metadata(&secret)?;
        if warden_vault::rotation::is_due(meta.rotation_due_at(&state.config.vault.rotation), now) {
            rotation_due += 1;
        }
        if meta.expires_at.is_some_and(|at| at <= now) {
            expired += 1;
        }
    }
    Ok(Json(VaultStats {
        secrets: counts.iter().map(|c| c.secrets).sum(),
        versions: counts.iter().map(|c| c.versions).sum(),
        by_type,
        rotation_due,
        expired,
        failed_decryptions: state.decrypt_failures(),
    }))
}

/// Raises `secret.rotation_due` once for each secret whose current version fell due (background).
pub async fn note_due_rotations(state: &AppState) -> Result<u64, ApiError> {
    let now = state.now();
    let mut raised = 0;
    for secret in state.store.secrets().await? {
        let meta = metadata(&secret)?;
        let due_at = meta.rotation_due_at(&state.config.vault.rotation);
        if warden_vault::rotation::is_due(due_at, now)
            && secret.rotation_noted_version != Some(secret.current_version)
            && state
                .store
                .note_rotation_due(&secret.name, secret.current_version)
                .await?
        {
            let event = AuditEvent::new(now, "secret.rotation_due", "vault", AuditOutcome::Success)
                .resource(format!("secret:{}", secret.name))
                .detail("version", secret.current_version)
                .detail("due_at", due_at.map(Timestamp::rfc3339));
            state.audit(event).await?;
            raised += 1;
        }
    }
    Ok(raised)
}

/// Opens `version` of a stored secret, with when it was stored. A record that fails its integrity
/// check is counted, logged and audited at alert level against `actor`, and nothing is returned.
async fn open_version(
    state: &AppState,
    actor: &str,
    name: &SecretName,
    kind: SecretKind,
    version: SecretVersion,
    request_id: &RequestId,
) -> Result<(SecretData, Timestamp), ApiError> {
    let record = state
        .store
        .secret_version(name.as_str(), i64::from(version.get()))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("secret `{name}` keeps no version {version}")))?;
    let target = SecretRef {
        name: name.clone(),
        version,
        kind,
    };
    let opened = SealedSecret::decode(&record.sealed).and_then(|sealed| {
        // Mid-rotation a record may still be wrapped by the retiring key; the record says which.
        let master = state.master_for(sealed.key_id()).unwrap_or_else(|| state.master());
        warden_vault::open(&master, &target, &sealed)
    });
    match opened {
        Ok(plaintext) => Ok((SecretData::from_plaintext(plaintext)?, record.created_at)),
        Err(error) => {
            state.note_decrypt_failure();
            tracing::error!(secret = %name, version = version.get(), %error, "a stored secret failed its integrity check");
            audit(
                state,
                "secret.integrity_failure",
                actor,
                name,
                AuditOutcome::Failure,
                request_id,
                |e| {
                    e.detail("version", version.get())
                        .detail("severity", "alert")
                        .detail("error", error.to_string())
                },
            )
            .await?;
            Err(error.into())
        }
    }
}

fn sealed_version(
    state: &AppState,
    name: &SecretName,
    version: SecretVersion,
    kind: SecretKind,
    data: &SecretData,
    actor: &str,
    now: Timestamp,
) -> Result<SecretVersionRecord, ApiError> {
    let target = SecretRef {
        name: name.clone(),
        version,
        kind,
    };
    let master = state.master();
    let sealed = warden_vault::seal(&master, state.entropy.as_ref(), &target, data.expose_bytes())?;
    Ok(SecretVersionRecord {
        name: name.as_str().to_owned(),
        version: i64::from(version.get()),
        sealed: sealed.encode(),
        master_key_id: KeyId::of(&master).to_string(),
        created_by: actor.to_owned(),
        created_at: now,
    })
}

fn version_of(stored: i64) -> Result<SecretVersion, ApiError> {
    u32::try_from(stored)
        .ok()
        .and_then(SecretVersion::new)
        .ok_or_else(|| ApiError::Internal(format!("stored secret version {stored} is out of range")))
}

/// The vault's view of a stored secret (the current version was stored at `updated_at`).
fn metadata(secret: &SecretRecord) -> Result<SecretMetadata, ApiError> {
    let corrupt = |what: String| ApiError::Internal(format!("stored secret `{}`: {what}", secret.name));
    Ok(SecretMetadata {
        name: SecretName::new(secret.name.clone()).map_err(|e| corrupt(e.to_string()))?,
        kind: secret
            .kind
            .parse()
            .map_err(|e: warden_vault::VaultError| corrupt(e.to_string()))?,
        version: version_of(secret.current_version)?,
        owner: secret.owner.clone(),
        tags: Tags::new(secret.tags.clone()).map_err(|e| corrupt(e.to_string()))?,
        created_at: secret.created_at,
        version_created_at: secret.updated_at,
        expires_at: secret.expires_at,
        rotation_days: secret
            .rotation_days
            .map(|d| u32::try_from(d).ok().and_then(|d| RotationDays::new(d).ok()))
            .map(|d| d.ok_or_else(|| corrupt("rotation_days out of range".into())))
            .transpose()?,
    })
}

fn view(state: &AppState, secret: &SecretRecord) -> Result<SecretView, ApiError> {
    let meta = metadata(secret)?;
    Ok(SecretView {
        name: secret.name.clone(),
        kind: secret.kind.clone(),
        version: meta.version.get(),
        owner: secret.owner.clone(),
        tags: secret.tags.clone(),
        created_at: secret.created_at.rfc3339(),
        updated_at: secret.updated_at.rfc3339(),
        expires_at: secret.expires_at.map(Timestamp::rfc3339),
        rotation_days: meta.rotation_days.map(RotationDays::get),
        rotation_due_at: meta
            .rotation_due_at(&state.config.vault.rotation)
            .map(Timestamp::rfc3339),
    })
}
