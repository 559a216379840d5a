//! Authentication: turning a token or a client certificate into a [`Caller`], and issuing the
//! access/refresh pair every login ends with. Every refusal says which check failed, never the token.

use serde::Serialize;
use warden_core::{AuditEvent, AuditOutcome, AuthMethod, Timestamp};
use warden_identity::Agent;
use warden_identity::ca::fingerprint;
use warden_identity::repo::{AgentRepository, CredentialRepository, RefreshRecord, TokenRepository};
use warden_identity::token::{self, Audience, Claims, TokenError, TokenKind};

use crate::error::ApiError;
use crate::extract::Caller;
use crate::state::AppState;

/// Verifies `token` as one of `kinds`, checks revocation and the agent's status, and yields the
/// caller. Passports are verified through the cache; other tokens are verified in full each time,
/// unless the admit step verified this very token for this request (`admitted`, its claims).
pub async fn caller_from_token(
    state: &AppState,
    token: &str,
    admitted: Option<Claims>,
    kinds: &[TokenKind],
) -> Result<Caller, ApiError> {
    let claims = match admitted {
        Some(claims) if kinds.contains(&claims.typ) => claims,
        _ => verify_any(state, token, kinds)?,
    };
    if state.with_revocations(|r| r.is_revoked(&claims)) {
        return Err(TokenError::Revoked.into());
    }
    let agent = live_agent(state, &claims.sub).await?;
    if agent.token_predates_cutoff(claims.issued_at()) {
        return Err(TokenError::Revoked.into());
    }
    let method = match claims.typ {
        TokenKind::Passport => AuthMethod::Passport,
        _ => claims
            .amr
            .as_deref()
            .and_then(AuthMethod::parse)
            .unwrap_or(AuthMethod::Password),
    };
    let mut principal = agent.principal(method, Some(claims.jti.clone()));
    if claims.typ == TokenKind::Passport {
        // A passport speaks for exactly what it carries, which may be narrower than the agent.
        principal.scopes = claims.scopes.clone().unwrap_or_default();
    }
    Ok(Caller {
        principal,
        agent,
        claims: Some(claims),
    })
}

/// Verifies a token that may be any of `kinds`, naming the mismatch when it is none of them.
pub fn verify_any(state: &AppState, token: &str, kinds: &[TokenKind]) -> Result<Claims, TokenError> {
    let keyring = state.keyring();
    let now = state.now();
    let mut first_mismatch = None;
    for &kind in kinds {
        let result = if kind == TokenKind::Passport {
            state.cache.verify(token, kind, &keyring, &state.expect, now)
        } else {
            token::verify(token, kind, &keyring, &state.expect, now)
        };
        match result {
            Ok(claims) => return Ok(claims),
            Err(mismatch @ TokenError::WrongType { .. }) => {
                first_mismatch.get_or_insert(mismatch);
            }
            Err(other) => return Err(other),
        }
    }
    Err(first_mismatch.unwrap_or(TokenError::Malformed))
}

/// The agent, if it exists and is active.
pub async fn live_agent(state: &AppState, agent_id: &str) -> Result<Agent, ApiError> {
    let agent = state
        .store
        .agent(agent_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("the token's agent no longer exists"))?;
    agent.ensure_active()?;
    Ok(agent)
}

/// The agent a verified client certificate was issued to.
pub async fn caller_from_certificate(state: &AppState, der: &[u8]) -> Result<Caller, ApiError> {
    let record = state
        .store
        .certificate(&fingerprint(der))
        .await?
        .ok_or_else(|| ApiError::unauthorized("the client certificate was not issued to any agent"))?;
    if record.revoked_at.is_some() || record.not_after <= state.now() {
        return Err(ApiError::unauthorized("the client certificate is revoked or expired"));
    }
    let agent = live_agent(state, &record.agent_id).await?;
    if agent.token_predates_cutoff(record.created_at) {
        return Err(ApiError::unauthorized(
            "the client certificate predates the agent's revocation",
        ));
    }
    let principal = agent.principal(AuthMethod::Certificate, None);
    Ok(Caller {
        principal,
        agent,
        claims: None,
    })
}

/// When a token for `agent` counts as issued: now, but never before the agent's token cutoff. Tokens
/// carry whole seconds, so a quarantine moves the cutoff one second ahead; a login right after a
/// release in that same second must still produce a token that lives.
pub fn issue_instant(state: &AppState, agent: &Agent) -> Timestamp {
    state.now().max(agent.tokens_valid_after)
}

/// The answer to every successful login and refresh.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    /// The agent's name: the identity it logs in with.
    pub identity: String,
    pub agent_id: String,
    pub provider: &'static str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub password_expired: bool,
}

/// Issues an access/refresh pair in `family` (a new login session when `None`) and records it.
pub async fn issue_pair(
    state: &AppState,
    agent: &Agent,
    method: AuthMethod,
    family: Option<String>,
    request_id: &str,
) -> Result<LoginResponse, ApiError> {
    let now = issue_instant(state, agent);
    let family = family.unwrap_or_else(|| state.random_id());
    let auth = &state.config.auth;
    let audience = Audience::One(auth.audience.clone());

    let mut access = Claims::new(
        TokenKind::Access,
        &auth.issuer,
        audience.clone(),
        &agent.id,
        state.random_id(),
        now,
        auth.access_ttl.get(),
    );
    access.sid = Some(family.clone());
    access.amr = Some(method.as_str().to_owned());
    access.name = Some(agent.name.clone());
    let mut refresh = Claims::new(
        TokenKind::Refresh,
        &auth.issuer,
        audience,
        &agent.id,
        state.random_id(),
        now,
        auth.refresh_ttl.get(),
    );
    refresh.sid = Some(family.clone());
    refresh.amr = Some(method.as_str().to_owned());

    let keyring = state.keyring();
    let access_token = token::sign(&access, &keyring)?;
    let refresh_token = token::sign(&refresh, &keyring)?;
    state
        .store
        .insert_refresh(&RefreshRecord {
            jti: refresh.jti.clone(),
            family_id: family.clone(),
            agent_id: agent.id.clone(),
            issued_at: now,
            expires_at: Timestamp::from_unix(refresh.exp),
            spent_at: None,
        })
        .await?;
    state
        .audit(
            AuditEvent::new(now, "token.issued", &agent.id, AuditOutcome::Success)
                .resource(format!("agent:{}", agent.id))
                .detail("provider", method.as_str())
                .detail("access_jti", access.jti.as_str())
                .detail("refresh_jti", refresh.jti.as_str())
                .detail("session", family.as_str())
                .detail("kid", keyring.current().kid())
                .request_id(Some(request_id)),
        )
        .await?;
    Ok(LoginResponse {
        access_token,
        refresh_token,
        token_type: "bearer",
        expires_in: auth.access_ttl.get(),
        identity: agent.name.clone(),
        agent_id: agent.id.clone(),
        provider: method.as_str(),
        password_expired: false,
    })
}

/// Records a refused authentication and returns the error to answer with.
pub async fn refuse(
    state: &AppState,
    kind: &str,
    actor: &str,
    reason: &str,
    request_id: &str,
    error: ApiError,
) -> ApiError {
    let event = AuditEvent::new(state.now(), kind, actor, AuditOutcome::Failure)
        .detail("reason", reason)
        .request_id(Some(request_id));
    match state.audit(event).await {
        Ok(_) => error,
        Err(audit_error) => audit_error,
    }
}
