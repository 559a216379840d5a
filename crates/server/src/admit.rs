//! The admit step: rate limits, before anything else a request costs.
//!
//! Every rule of `rate_limits:` ([`RateLimits`]) gives each key (an agent, an API key, a client IP, or
//! everybody) a GCRA budget ([`gcra`]). Three places spend budgets:
//! - [`middleware`], on every routed request, for rules scoped by route (seed 002's DDoS thresholds
//!   among them). It identifies an agent only when a per-agent rule applies to the route, by verifying
//!   the bearer token (which authentication then does not verify again, see [`verified_claims`]) or by
//!   looking up the client certificate.
//! - [`Admit::action`], where a policy action is known (`/v1/authorize`, the vault's secret actions).
//! - [`Admit::api_key_login`], for an API-key login, once the key is known to be real (so nobody can
//!   spend another's budget by sending its key id with a wrong secret).
//!
//! A refusal is 429 problem+json with `Retry-After` (whole seconds, rounded up) and counts in
//! `warden_rate_limited_total`. Budgets live in this process (governor) or in Redis (a Lua script);
//! when Redis cannot answer in time, `on_backend_error` decides: 503 by default. Refusals are not
//! audited one by one (a flood of them would become a flood of audit writes); the counter shows them.
//!
//! This module does not decide anything else about a request: revoked or quarantined agents are
//! refused by authentication, which runs next.

pub mod client;
pub mod gcra;
mod memory;
mod redis;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ipnet::IpNet;
use warden_core::Secret;
use warden_identity::repo::CredentialRepository;
use warden_identity::token::{Claims, TokenKind};

use crate::config::rate_limits::{OnBackendError, Per, RateLimits, Rule, Scope};
use crate::error::ApiError;
use crate::extract::PeerCertificate;
use crate::state::AppState;

pub use self::redis::{BackendError, Redis};
pub use memory::{Memory, Ticks};

/// One backend's answer for one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Allow,
    Deny { retry_after: Duration },
}

/// The rules and their budgets. Built once with the state; cheap to share.
#[derive(Debug)]
pub struct Admit {
    rules: Vec<Rule>,
    on_backend_error: OnBackendError,
    trusted_proxies: Vec<IpNet>,
    /// The budgets with `backend: memory`, and the fallback of `on_backend_error: local_and_alert`.
    local: Memory,
    shared: Option<Redis>,
    ticks: Ticks,
    /// When the last backend alert was logged (seconds of `ticks`), to log one every 10 s at most.
    last_alert: AtomicU64,
}

/// A bearer token the admit step verified, so that authentication takes its claims instead of
/// verifying it a second time.
#[derive(Clone)]
pub struct VerifiedBearer {
    token: Secret,
    claims: Claims,
}

impl std::fmt::Debug for VerifiedBearer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedBearer")
            .field("sub", &self.claims.sub)
            .finish_non_exhaustive()
    }
}

/// The claims of `token` if the admit step verified exactly this token for this request.
pub fn verified_claims(parts: &Parts, token: &str) -> Option<Claims> {
    parts
        .extensions
        .get::<VerifiedBearer>()
        .filter(|v| v.token.expose() == token)
        .map(|v| v.claims.clone())
}

impl Admit {
    pub fn new(config: &RateLimits) -> Admit {
        Admit::with_ticks(config, Ticks::monotonic())
    }

    /// [`Admit::new`] with the in-process budgets timed by `ticks` (tests move a manual clock).
    pub fn with_ticks(config: &RateLimits, ticks: Ticks) -> Admit {
        let local = Memory::new(config.rules.iter().map(|r| (r.limit, r.block)), ticks.clone());
        let shared = match &config.backend {
            crate::config::rate_limits::Backend::Memory => None,
            crate::config::rate_limits::Backend::Redis(settings) => Some(Redis::new(settings)),
        };
        Admit {
            rules: config.rules.clone(),
            on_backend_error: config.on_backend_error,
            trusted_proxies: config.trusted_proxies.clone(),
            local,
            shared,
            ticks,
            last_alert: AtomicU64::new(0),
        }
    }

    /// The rules scoped by route, spent for one request. Agents are identified only when a per-agent
    /// rule applies; a request with no verifiable agent is not counted by those rules (it fails
    /// authentication next, and the per-IP rules counted it already).
    pub async fn request(&self, state: &AppState, parts: &mut Parts) -> Result<(), ApiError> {
        let method = parts.method.as_str().to_owned();
        let template = parts.extensions.get::<MatchedPath>().map(|p| p.as_str().to_owned());
        let path = parts.uri.path().to_owned();
        let mut ip = None;
        let mut agent: Option<Option<String>> = None;
        for (index, rule) in self.rules.iter().enumerate() {
            let Scope::Routes(routes) = &rule.scope else {
                continue;
            };
            if !routes.is_empty() && !routes.iter().any(|r| r.matches(&method, template.as_deref(), &path)) {
                continue;
            }
            let key = match rule.per {
                Per::Ip => ip.get_or_insert_with(|| self.ip_key(parts)).clone(),
                Per::Global => "*".to_owned(),
                Per::Agent => {
                    if agent.is_none() {
                        agent = Some(agent_of(state, parts).await);
                    }
                    match agent.clone().flatten() {
                        Some(id) => id,
                        None => continue,
                    }
                }
                Per::ApiKey => continue,
            };
            self.spend(index, &key).await?;
        }
        Ok(())
    }

    /// The rules scoped by action, spent for one decision of `agent_id` on `action`.
    pub async fn action(&self, agent_id: &str, action: &str) -> Result<(), ApiError> {
        for (index, rule) in self.rules.iter().enumerate() {
            let Scope::Actions(actions) = &rule.scope else {
                continue;
            };
            if !actions.iter().any(|a| a.matches(action)) {
                continue;
            }
            let key = match rule.per {
                Per::Global => "*",
                _ => agent_id,
            };
            self.spend(index, key).await?;
        }
        Ok(())
    }

    /// The `per: api_key` rules, spent for one login with the real API key `key_id`.
    pub async fn api_key_login(&self, key_id: &str) -> Result<(), ApiError> {
        for (index, rule) in self.rules.iter().enumerate() {
            if rule.scope == Scope::ApiKeyLogins {
                self.spend(index, key_id).await?;
            }
        }
        Ok(())
    }

    fn ip_key(&self, parts: &Parts) -> String {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
        client::ip_key(client::client_ip(peer, &parts.headers, &self.trusted_proxies))
    }

    /// Spends one request of `key`'s budget under rule `index`: 429 when none is left.
    async fn spend(&self, index: usize, key: &str) -> Result<(), ApiError> {
        let Some(rule) = self.rules.get(index) else {
            return Ok(());
        };
        let outcome = match &self.shared {
            None => self.local.check(index, key),
            Some(redis) => match redis.check(&rule.name, &rule.limit, rule.block, key).await {
                Ok(outcome) => outcome,
                Err(error) => self.on_backend_error(index, key, &error)?,
            },
        };
        match outcome {
            Outcome::Allow => Ok(()),
            Outcome::Deny { retry_after } => {
                metrics::counter!("warden_rate_limited_total", "rule" => rule.name.clone(), "per" => rule.per.as_str())
                    .increment(1);
                let retry_after = gcra::retry_after_seconds(u64::try_from(retry_after.as_nanos()).unwrap_or(u64::MAX));
                tracing::debug!(rule = %rule.name, per = rule.per.as_str(), retry_after, "rate limited");
                Err(ApiError::TooManyRequests {
                    retry_after,
                    limit: format!("`{}` allows {} per {}", rule.name, rule.limit, rule.per.as_str()),
                })
            }
        }
    }

    /// Redis gave no answer: refuse (503), fall back to this process's budgets, or let it through.
    fn on_backend_error(&self, index: usize, key: &str, error: &BackendError) -> Result<Outcome, ApiError> {
        let choice = match self.on_backend_error {
            OnBackendError::Deny => "deny",
            OnBackendError::LocalAndAlert => "local_and_alert",
            OnBackendError::AllowAndAlert => "allow_and_alert",
        };
        metrics::counter!("warden_rate_limit_backend_errors_total", "on_backend_error" => choice).increment(1);
        match self.on_backend_error {
            OnBackendError::Deny => Err(ApiError::Unavailable(format!(
                "rate-limit backend: {error}; refusing requests (rate_limits.on_backend_error: deny)"
            ))),
            OnBackendError::LocalAndAlert => {
                self.alert(error, "counting in this process only");
                Ok(self.local.check(index, key))
            }
            OnBackendError::AllowAndAlert => {
                self.alert(error, "ADMITTING REQUESTS UNMETERED");
                Ok(Outcome::Allow)
            }
        }
    }

    fn alert(&self, error: &BackendError, what: &str) {
        let now = self.ticks.elapsed().as_secs() + 10;
        let last = self.last_alert.load(Ordering::Relaxed);
        if now >= last + 10
            && self
                .last_alert
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::error!(%error, "rate-limit backend unavailable: {what} (rate_limits.on_backend_error)");
        }
    }
}

/// The agent a request speaks for, without touching the store when it carries a token: the verified
/// token's subject (its claims kept for authentication), or the owner of a live client certificate.
/// `None` for the admin token, no credentials, or credentials that do not verify.
async fn agent_of(state: &AppState, parts: &mut Parts) -> Option<String> {
    let token = match crate::extract::bearer(parts) {
        Ok(Some(token)) => token.to_owned(),
        Ok(None) => {
            let cert = parts.extensions.get::<PeerCertificate>()?.clone();
            let fingerprint = warden_identity::ca::fingerprint(&cert.0);
            let record = state.store.certificate(&fingerprint).await.ok().flatten()?;
            let live = record.revoked_at.is_none() && record.not_after > state.now();
            return live.then_some(record.agent_id);
        }
        Err(_) => return None,
    };
    if state.is_admin_token(&token) {
        return None;
    }
    let claims = crate::authn::verify_any(state, &token, &[TokenKind::Access, TokenKind::Passport]).ok()?;
    let agent_id = claims.sub.clone();
    parts.extensions.insert(VerifiedBearer {
        token: Secret::new(token),
        claims,
    });
    Some(agent_id)
}

/// The admit step as an axum middleware: the route-scoped rules, before the handler and its
/// extractors run.
pub async fn middleware(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    if let Err(error) = state.admit.request(&state, &mut parts).await {
        return error.into_response();
    }
    next.run(Request::from_parts(parts, body)).await
}

#[cfg(test)]
mod tests;
