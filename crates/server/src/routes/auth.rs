//! The authentication routes: every way an agent proves who it is, and what it gets for it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use warden_core::{AuditEvent, AuditOutcome, AuthMethod, Seconds, Secret};
use warden_identity::password::{expired, is_locked};
use warden_identity::repo::{AgentRepository, CredentialRepository, SpendOutcome, TokenRepository};
use warden_identity::token::{Claims, TokenError, TokenKind};
use warden_identity::{Agent, api_key, passport, public_key};

use crate::authn::{LoginResponse, caller_from_certificate, issue_instant, issue_pair, live_agent, refuse, verify_any};
use crate::error::ApiError;
use crate::extract::{AdminOrCaller, ApiJson, Caller, PeerCertificate, RequestId};
use crate::state::AppState;

const BAD_CREDENTIALS: &str = "invalid credentials";

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The agent's name (seed 004's `identity`).
    pub identity: Option<String>,
    #[schema(value_type = Option<String>)]
    pub secret: Option<Secret>,
    #[schema(value_type = Option<String>)]
    pub api_key: Option<Secret>,
    /// `password`, `api_key` or `certificate`; inferred from the other fields when absent.
    pub provider: Option<String>,
    /// Seed 004 clients send these; they are recorded in the audit event.
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
}

#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401), (status = 423)))]
pub async fn login(
    State(state): State<AppState>,
    request_id: RequestId,
    certificate: Option<Extension<PeerCertificate>>,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let rid = request_id.0.as_str();
    match (body.provider.as_deref(), &body.identity, &body.secret, &body.api_key) {
        (None | Some("password"), Some(identity), Some(secret), None) => {
            password_login(&state, identity, secret, rid).await.map(Json)
        }
        (None | Some("api_key"), None, None, Some(key)) => api_key_login(&state, key, rid).await.map(Json),
        (None | Some("certificate"), None, None, None) => {
            let Some(Extension(cert)) = certificate else {
                return Err(ApiError::bad_request(
                    "send `identity` and `secret`, or `api_key`, or log in over mTLS with a client certificate",
                ));
            };
            let caller = caller_from_certificate(&state, &cert.0).await?;
            issue_pair(&state, &caller.agent, AuthMethod::Certificate, None, rid)
                .await
                .map(Json)
        }
        _ => Err(ApiError::bad_request(
            "send exactly one of: `identity` with `secret`, or `api_key` (optionally with a matching `provider`)",
        )),
    }
}

async fn password_login(
    state: &AppState,
    identity: &str,
    secret: &Secret,
    rid: &str,
) -> Result<LoginResponse, ApiError> {
    let now = state.now();
    let found = state.store.agent_by_name(identity).await?;
    let record = match &found {
        Some(agent) => state.store.password(&agent.id).await?,
        None => None,
    };
    let (Some(agent), Some(record)) = (found, record) else {
        // Same cost as a real check, so response time does not reveal which identities exist.
        state.dummy_password_check(secret).await?;
        return Err(refuse(
            state,
            "auth.login",
            "anonymous",
            "unknown identity",
            rid,
            ApiError::unauthorized(BAD_CREDENTIALS),
        )
        .await);
    };
    let lockout = &state.config.auth.lockout;
    if let Some(until) = is_locked(&record, now) {
        let error = ApiError::Locked {
            retry_after: now.seconds_until(until).max(1),
        };
        return Err(refuse(state, "auth.login", &agent.id, "locked", rid, error).await);
    }
    if record.locked_until.is_some_and(|until| until <= now) {
        // The lock ran out: the next mistake starts a fresh count instead of re-locking at once.
        state.store.clear_failed_attempts(&agent.id).await?;
    }
    if !state.verify_password(secret, &record.hash).await? {
        let attempts = state.store.add_failed_attempt(&agent.id).await?;
        if let Some(until) = lockout.lock_after(attempts, now) {
            state.store.lock_until(&agent.id, until).await?;
            state
                .audit(
                    AuditEvent::new(now, "auth.lockout", &agent.id, AuditOutcome::Denied)
                        .resource(format!("agent:{}", agent.id))
                        .detail("failed_attempts", attempts)
                        .detail("locked_until", until.rfc3339())
                        .request_id(Some(rid)),
                )
                .await?;
        }
        return Err(refuse(
            state,
            "auth.login",
            &agent.id,
            "wrong password",
            rid,
            ApiError::unauthorized(BAD_CREDENTIALS),
        )
        .await);
    }
    if agent.ensure_active().is_err() {
        return Err(refuse(
            state,
            "auth.login",
            &agent.id,
            agent.status.as_str(),
            rid,
            ApiError::Forbidden(format!("the agent is {}", agent.status.as_str())),
        )
        .await);
    }
    if record.failed_attempts > 0 {
        state.store.clear_failed_attempts(&agent.id).await?;
    }
    record_login(state, &agent, AuthMethod::Password, rid).await?;
    let mut response = issue_pair(state, &agent, AuthMethod::Password, None, rid).await?;
    response.password_expired = expired(&record, &state.config.auth.password_policy, now);
    Ok(response)
}

async fn api_key_login(state: &AppState, key: &Secret, rid: &str) -> Result<LoginResponse, ApiError> {
    let Some((id, secret_part)) = api_key::parse(key.expose()) else {
        return Err(refuse(
            state,
            "auth.login",
            "anonymous",
            "malformed api key",
            rid,
            ApiError::unauthorized(BAD_CREDENTIALS),
        )
        .await);
    };
    let record = state.store.api_key(id).await?;
    let Some(record) = record.filter(|r| api_key::matches(r, secret_part)) else {
        return Err(refuse(
            state,
            "auth.login",
            "anonymous",
            "unknown or revoked api key",
            rid,
            ApiError::unauthorized(BAD_CREDENTIALS),
        )
        .await);
    };
    state.admit.api_key_login(&record.id).await?;
    let agent = match live_agent(state, &record.agent_id).await {
        Ok(agent) => agent,
        Err(error) => return Err(refuse(state, "auth.login", &record.agent_id, "agent not active", rid, error).await),
    };
    record_login(state, &agent, AuthMethod::ApiKey, rid).await?;
    issue_pair(state, &agent, AuthMethod::ApiKey, None, rid).await
}

async fn record_login(state: &AppState, agent: &Agent, method: AuthMethod, rid: &str) -> Result<(), ApiError> {
    state
        .audit(
            AuditEvent::new(state.now(), "auth.login", &agent.id, AuditOutcome::Success)
                .resource(format!("agent:{}", agent.id))
                .detail("provider", method.as_str())
                .request_id(Some(rid)),
        )
        .await
        .map(|_| ())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChallengeRequest {
    pub agent_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChallengeResponse {
    /// Sign the bytes `warden-key-login-v1:` followed by this nonce.
    pub nonce: String,
    pub expires_in: u64,
}

#[utoipa::path(post, path = "/v1/auth/challenge", tag = "auth", request_body = ChallengeRequest, responses((status = 200, body = ChallengeResponse)))]
pub async fn challenge(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<ChallengeRequest>,
) -> Result<Json<ChallengeResponse>, ApiError> {
    let agent = live_agent(&state, &body.agent_id).await.map_err(|error| match error {
        // A store that is down is not a bad agent id: say so, as everywhere else.
        ApiError::Unavailable(_) | ApiError::Internal(_) => error,
        _ => ApiError::unauthorized("unknown or inactive agent"),
    })?;
    if state.store.public_keys(&agent.id).await?.is_empty() {
        return Err(ApiError::unauthorized("the agent has no registered public key"));
    }
    let ttl = state.config.auth.challenge_ttl;
    let (nonce, record) = public_key::new_challenge(&agent.id, state.now(), ttl, state.entropy.as_ref());
    state.store.insert_challenge(&record).await?;
    Ok(Json(ChallengeResponse {
        nonce,
        expires_in: ttl.get(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyLoginRequest {
    pub agent_id: String,
    pub nonce: String,
    /// Base64 signature; for P-256 either DER or the 64-byte `r||s` form.
    pub signature: String,
}

#[utoipa::path(post, path = "/v1/auth/key-login", tag = "auth", request_body = KeyLoginRequest, responses((status = 200, body = LoginResponse)))]
pub async fn key_login(
    State(state): State<AppState>,
    request_id: RequestId,
    ApiJson(body): ApiJson<KeyLoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let rid = request_id.0.as_str();
    let now = state.now();
    // Taking the challenge spends it, whatever happens next: a nonce is good for one attempt.
    let taken = state.store.take_challenge(&public_key::nonce_hash(&body.nonce)).await?;
    let Some(challenge) = taken.filter(|c| public_key::challenge_valid(c, &body.agent_id, now)) else {
        return Err(refuse(
            &state,
            "auth.key_login",
            &body.agent_id,
            "unknown, used or expired nonce",
            rid,
            ApiError::unauthorized("the nonce is unknown, used or expired"),
        )
        .await);
    };
    let keys = state.store.public_keys(&challenge.agent_id).await?;
    if !keys
        .iter()
        .any(|k| public_key::verify_challenge(k, &body.nonce, &body.signature))
    {
        return Err(refuse(
            &state,
            "auth.key_login",
            &challenge.agent_id,
            "bad signature",
            rid,
            ApiError::unauthorized("the signature does not verify with any registered key"),
        )
        .await);
    }
    let agent = live_agent(&state, &challenge.agent_id).await?;
    record_login(&state, &agent, AuthMethod::PublicKey, rid).await?;
    issue_pair(&state, &agent, AuthMethod::PublicKey, None, rid)
        .await
        .map(Json)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    #[schema(value_type = String)]
    pub refresh_token: Secret,
}

#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth", request_body = RefreshRequest, responses((status = 200, body = LoginResponse)))]
pub async fn refresh(
    State(state): State<AppState>,
    request_id: RequestId,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let rid = request_id.0.as_str();
    let claims = verify_any(&state, body.refresh_token.expose(), &[TokenKind::Refresh])?;
    let now = state.now();
    match state.store.spend_refresh(&claims.jti, now).await? {
        SpendOutcome::Spent(record) => {
            let family_revoked = state.with_revocations(|r| r.is_revoked(&claims));
            let agent = live_agent(&state, &record.agent_id).await?;
            if family_revoked || agent.token_predates_cutoff(claims.issued_at()) {
                return Err(TokenError::Revoked.into());
            }
            let method = claims
                .amr
                .as_deref()
                .and_then(AuthMethod::parse)
                .unwrap_or(AuthMethod::Password);
            issue_pair(&state, &agent, method, Some(record.family_id), rid)
                .await
                .map(Json)
        }
        SpendOutcome::AlreadySpent(record) => {
            // Someone replayed a spent refresh token: assume it was stolen and end the session.
            let until = now.plus(state.config.auth.refresh_ttl.get());
            state.store.revoke_family(&record.family_id, until).await?;
            state.update_revocations(|r| r.revoke_family(&record.family_id, until));
            state
                .audit(
                    AuditEvent::new(now, "auth.refresh_reuse", &record.agent_id, AuditOutcome::Denied)
                        .resource(format!("agent:{}", record.agent_id))
                        .detail("session", record.family_id.as_str())
                        .detail("refresh_jti", record.jti.as_str())
                        .request_id(Some(rid)),
                )
                .await?;
            Err(ApiError::unauthorized(
                "refresh token reuse detected; the whole session was revoked",
            ))
        }
        SpendOutcome::Unknown => Err(ApiError::unauthorized("unknown refresh token")),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    #[schema(value_type = String)]
    pub token: Secret,
}

/// Revokes a token. Whoever holds a token may revoke it; revoking a refresh token ends its session.
#[utoipa::path(post, path = "/v1/auth/revoke", tag = "auth", request_body = RevokeRequest, responses((status = 204)))]
pub async fn revoke(
    State(state): State<AppState>,
    request_id: RequestId,
    caller: Option<AdminOrCaller>,
    ApiJson(body): ApiJson<RevokeRequest>,
) -> Result<StatusCode, ApiError> {
    let claims: Claims = match verify_any(
        &state,
        body.token.expose(),
        &[TokenKind::Access, TokenKind::Refresh, TokenKind::Passport],
    ) {
        Ok(claims) => claims,
        // An expired token is already dead: revoking it succeeds (RFC 7009 §2.2).
        Err(TokenError::Expired) => return Ok(StatusCode::NO_CONTENT),
        Err(error) => return Err(error.into()),
    };
    let until = claims.expires_at();
    state.store.revoke_token(&claims.jti, until).await?;
    state.update_revocations(|r| r.revoke_token(&claims.jti, until));
    if let (TokenKind::Refresh, Some(sid)) = (claims.typ, &claims.sid) {
        state.store.revoke_family(sid, until).await?;
        state.update_revocations(|r| r.revoke_family(sid, until));
    }
    let actor = match caller {
        Some(AdminOrCaller::Admin) => "admin".to_owned(),
        Some(AdminOrCaller::Agent(c)) => c.agent.id,
        None => claims.sub.clone(),
    };
    state
        .audit(
            AuditEvent::new(state.now(), "token.revoked", &actor, AuditOutcome::Success)
                .resource(format!("agent:{}", claims.sub))
                .detail("jti", claims.jti.as_str())
                .detail("typ", claims.typ.as_str())
                .request_id(Some(&request_id.0)),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    #[schema(value_type = String)]
    pub old_password: Secret,
    #[schema(value_type = String)]
    pub new_password: Secret,
}

#[utoipa::path(post, path = "/v1/auth/password", tag = "auth", request_body = ChangePassword, responses((status = 204)))]
pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    request_id: RequestId,
    ApiJson(body): ApiJson<ChangePassword>,
) -> Result<StatusCode, ApiError> {
    let rid = request_id.0.as_str();
    if caller.principal.auth_method == AuthMethod::Passport {
        // A passport is a narrowed, possibly delegated credential: it never manages the account.
        return Err(ApiError::Forbidden(
            "changing the password needs the agent's access token, not a passport".into(),
        ));
    }
    let agent = &caller.agent;
    let Some(current) = state.store.password(&agent.id).await? else {
        return Err(ApiError::bad_request("the agent has no password to change"));
    };
    if !state.verify_password(&body.old_password, &current.hash).await? {
        return Err(refuse(
            &state,
            "credential.password_change",
            &agent.id,
            "wrong old password",
            rid,
            ApiError::unauthorized("`old_password` is wrong"),
        )
        .await);
    }
    let record = state
        .password_record(Some(&current), &body.new_password, &agent.id)
        .await?;
    state.store.put_password(&record).await?;
    state
        .audit(
            AuditEvent::new(
                state.now(),
                "credential.password_changed",
                &agent.id,
                AuditOutcome::Success,
            )
            .resource(format!("agent:{}", agent.id))
            .request_id(Some(rid)),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PassportRequestBody {
    /// A subset of the agent's scopes; all of them when absent.
    pub scopes: Option<Vec<String>>,
    #[schema(value_type = Option<String>, example = "5m")]
    pub ttl: Option<Seconds>,
    /// An extra audience (a service the passport is meant for).
    pub audience: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PassportResponse {
    pub passport: String,
    pub expires_in: u64,
    pub kid: String,
}

#[utoipa::path(post, path = "/v1/auth/passport", tag = "auth", request_body = PassportRequestBody, responses((status = 200, body = PassportResponse)))]
pub async fn issue_passport(
    State(state): State<AppState>,
    caller: Caller,
    request_id: RequestId,
    ApiJson(body): ApiJson<PassportRequestBody>,
) -> Result<Json<PassportResponse>, ApiError> {
    if caller.claims.as_ref().is_some_and(|c| c.typ == TokenKind::Passport) {
        return Err(ApiError::Forbidden(
            "a passport cannot mint passports; use an access token, or token-exchange to narrow it".into(),
        ));
    }
    let now = issue_instant(&state, &caller.agent);
    let request = passport::PassportRequest {
        scopes: body.scopes,
        ttl: body.ttl,
        audience: body.audience,
    };
    let issuance = passport::Issuance {
        issuer: &state.config.auth.issuer,
        audience: &state.config.auth.audience,
        jti: state.random_id(),
        now,
    };
    let sid = caller.claims.as_ref().and_then(|c| c.sid.clone());
    let claims = passport::issue(&caller.agent, request, &state.config.passports, issuance, sid)?;
    sign_passport(&state, claims, &caller.agent.id, "passport.issued", &request_id.0)
        .await
        .map(Json)
}

async fn sign_passport(
    state: &AppState,
    claims: Claims,
    actor: &str,
    kind: &str,
    rid: &str,
) -> Result<PassportResponse, ApiError> {
    let keyring = state.keyring();
    let token = warden_identity::token::sign(&claims, &keyring)?;
    let mut event = AuditEvent::new(state.now(), kind, actor, AuditOutcome::Success)
        .resource(format!("agent:{}", claims.sub))
        .detail("jti", claims.jti.as_str())
        .detail("scopes", claims.scopes.clone().unwrap_or_default())
        .detail("expires_at", claims.expires_at().rfc3339())
        .request_id(Some(rid));
    if let Some(act) = &claims.act {
        event = event.detail("act", serde_json::to_value(act).unwrap_or_default());
    }
    state.audit(event).await?;
    Ok(PassportResponse {
        passport: token,
        expires_in: state.now().seconds_until(claims.expires_at()),
        kid: keyring.current().kid().to_owned(),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenExchangeRequest {
    /// The passport to narrow.
    #[schema(value_type = String)]
    pub subject_token: Secret,
    pub scopes: Option<Vec<String>>,
    #[schema(value_type = Option<String>)]
    pub ttl: Option<Seconds>,
}

#[utoipa::path(post, path = "/v1/auth/token-exchange", tag = "auth", request_body = TokenExchangeRequest, responses((status = 200, body = PassportResponse)))]
pub async fn token_exchange(
    State(state): State<AppState>,
    caller: Caller,
    request_id: RequestId,
    ApiJson(body): ApiJson<TokenExchangeRequest>,
) -> Result<Json<PassportResponse>, ApiError> {
    let subject =
        crate::authn::caller_from_token(&state, body.subject_token.expose(), None, &[TokenKind::Passport]).await?;
    let Some(subject_claims) = subject.claims else {
        return Err(ApiError::unauthorized("the subject token is not a passport"));
    };
    // Never before the subject passport: its iat already respects the agent's token cutoff.
    let now = state.now().max(subject_claims.issued_at());
    let issuance = passport::Issuance {
        issuer: &state.config.auth.issuer,
        audience: &state.config.auth.audience,
        jti: state.random_id(),
        now,
    };
    let claims = passport::exchange(
        &subject_claims,
        &caller.agent.id,
        body.scopes,
        body.ttl,
        &state.config.passports,
        issuance,
    )?;
    sign_passport(&state, claims, &caller.agent.id, "passport.exchanged", &request_id.0)
        .await
        .map(Json)
}
