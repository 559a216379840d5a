//! Agent passports: short-lived tokens carrying what an agent is and may do, and their narrowing for
//! delegation (RFC 8693-style token exchange). Every function here can only keep or shrink what a
//! passport grants: scopes are a subset of what the agent (or the subject passport) holds, the tier
//! is copied, and the expiry never moves later.

use serde::Deserialize;
use warden_core::{Seconds, Timestamp};

use crate::Agent;
use crate::token::{Actor, Audience, Claims, TokenKind};

/// How long passports live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PassportPolicy {
    pub default_ttl: Seconds,
    pub max_ttl: Seconds,
    /// The longest delegation chain accepted in `act`.
    #[serde(default = "default_max_delegation_depth")]
    pub max_delegation_depth: usize,
}

fn default_max_delegation_depth() -> usize {
    4
}

impl Default for PassportPolicy {
    fn default() -> Self {
        PassportPolicy {
            default_ttl: Seconds::minutes(5),
            max_ttl: Seconds::hours(1),
            max_delegation_depth: default_max_delegation_depth(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PassportError {
    #[error("scope `{0}` is not held; a passport can only carry scopes it is given")]
    ScopeNotHeld(String),
    #[error("`ttl` must be between 1 second and {0} seconds")]
    Ttl(u64),
    #[error("`audience` must be 1 to 256 printable characters")]
    Audience,
    #[error("the subject token is not a passport")]
    NotAPassport,
    #[error("the delegation chain would be longer than {0}")]
    ChainTooLong(usize),
}

/// What an agent asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PassportRequest {
    pub scopes: Option<Vec<String>>,
    pub ttl: Option<Seconds>,
    pub audience: Option<String>,
}

/// Everything fixed about where a passport is valid.
#[derive(Debug, Clone)]
pub struct Issuance<'a> {
    pub issuer: &'a str,
    /// Warden's own audience; every passport carries it so Warden itself accepts the passport.
    pub audience: &'a str,
    pub jti: String,
    pub now: Timestamp,
}

fn ttl(requested: Option<Seconds>, policy: &PassportPolicy) -> Result<u64, PassportError> {
    let ttl = requested.unwrap_or(policy.default_ttl).get();
    if ttl == 0 || ttl > policy.max_ttl.get() {
        return Err(PassportError::Ttl(policy.max_ttl.get()));
    }
    Ok(ttl)
}

fn narrow(requested: Option<Vec<String>>, held: &[String]) -> Result<Vec<String>, PassportError> {
    let Some(requested) = requested else {
        return Ok(held.to_vec());
    };
    let mut out: Vec<String> = Vec::with_capacity(requested.len());
    for scope in requested {
        if !held.contains(&scope) {
            return Err(PassportError::ScopeNotHeld(scope));
        }
        if !out.contains(&scope) {
            out.push(scope);
        }
    }
    Ok(out)
}

fn audience(own: &str, extra: Option<String>) -> Result<Audience, PassportError> {
    match extra {
        None => Ok(Audience::Many(vec![own.to_owned()])),
        Some(extra) if extra.is_empty() || extra.len() > 256 || extra.chars().any(char::is_control) => {
            Err(PassportError::Audience)
        }
        Some(extra) if extra == own => Ok(Audience::Many(vec![own.to_owned()])),
        Some(extra) => Ok(Audience::Many(vec![own.to_owned(), extra])),
    }
}

/// The claims of a new passport for `agent`, from its current registration.
pub fn issue(
    agent: &Agent,
    request: PassportRequest,
    policy: &PassportPolicy,
    at: Issuance<'_>,
    sid: Option<String>,
) -> Result<Claims, PassportError> {
    let scopes = narrow(request.scopes, &agent.scopes)?;
    let ttl = ttl(request.ttl, policy)?;
    let aud = audience(at.audience, request.audience)?;
    let mut claims = Claims::new(TokenKind::Passport, at.issuer, aud, &agent.id, at.jti, at.now, ttl);
    claims.sid = sid;
    claims.name = Some(agent.name.clone());
    claims.agent_id = Some(agent.id.clone());
    claims.roles = Some(agent.roles.clone());
    claims.capabilities = Some(agent.capabilities.clone());
    claims.scopes = Some(scopes);
    claims.tier = agent.tier.clone();
    Ok(claims)
}

/// A narrower passport for the same subject, acted on by `actor`. The result never outlives the
/// subject passport, never holds a scope it lacks, and records the chain in `act`.
pub fn exchange(
    subject: &Claims,
    actor: &str,
    scopes: Option<Vec<String>>,
    requested_ttl: Option<Seconds>,
    policy: &PassportPolicy,
    at: Issuance<'_>,
) -> Result<Claims, PassportError> {
    if subject.typ != TokenKind::Passport {
        return Err(PassportError::NotAPassport);
    }
    let held = subject.scopes.clone().unwrap_or_default();
    let scopes = narrow(scopes, &held)?;
    let ttl = ttl(requested_ttl, policy)?;
    let act = Actor {
        sub: actor.to_owned(),
        act: subject.act.clone().map(Box::new),
    };
    if act.depth() > policy.max_delegation_depth {
        return Err(PassportError::ChainTooLong(policy.max_delegation_depth));
    }
    let mut claims = subject.clone();
    claims.jti = at.jti;
    claims.iss = at.issuer.to_owned();
    claims.iat = at.now.unix();
    claims.nbf = at.now.unix().max(subject.nbf);
    claims.exp = at.now.plus(ttl).unix().min(subject.exp);
    claims.scopes = Some(scopes);
    claims.act = Some(act);
    Ok(claims)
}

#[cfg(test)]
mod tests;
