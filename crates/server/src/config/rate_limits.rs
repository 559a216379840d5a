//! The `rate_limits:` section: raw as written, then [`RateLimits`], which cannot be wrong (every rate
//! parsed, every rule applicable where it says, names unique). The admit step ([`crate::admit`]) only
//! reads these types.

use std::fmt;
use std::time::Duration;

use ipnet::IpNet;
use serde::Deserialize;
use warden_core::{Seconds, Secret};

use super::{ConfigError, invalid};
use crate::admit::gcra::{Limit, Rate, RateError};

/// Seed 002's `ddos_config` thresholds, the default ceiling per client IP over every route.
pub const DEFAULT_DDOS_PER_SECOND: u64 = 1000;
pub const DEFAULT_DDOS_PER_MINUTE: u64 = 10_000;
pub const DEFAULT_KEY_PREFIX: &str = "warden:rl:";
pub const DEFAULT_REDIS_TIMEOUT_MS: u64 = 250;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRateLimits {
    /// `memory` (this process) or `redis` (budgets shared by every replica).
    pub backend: Option<String>,
    /// `WARDEN_REDIS_URL` wins over it (keep a password there rather than in the file).
    pub redis_url: Option<Secret>,
    pub key_prefix: Option<String>,
    pub redis_timeout_ms: Option<u64>,
    /// `deny` (default), `local_and_alert` or `allow_and_alert`.
    pub on_backend_error: Option<String>,
    /// Peers (addresses or CIDRs) whose `X-Forwarded-For` names the client; nobody's by default.
    pub trusted_proxies: Option<Vec<String>>,
    #[serde(alias = "ddos_config")]
    pub ddos: Option<RawDdos>,
    pub rules: Option<Vec<RawRule>>,
}

/// Seed 002's `ddos_config`, as it writes it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDdos {
    pub threshold_requests_per_second: Option<u64>,
    pub threshold_requests_per_minute: Option<u64>,
    pub challenge_mode: Option<String>,
    pub block_duration_seconds: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    pub name: Option<String>,
    /// `agent`, `api_key`, `ip` or `global`.
    pub per: String,
    /// `100/minute` (seed 002's slowapi `limit` is accepted as the key's name).
    #[serde(alias = "limit")]
    pub rate: String,
    pub burst: Option<u64>,
    pub routes: Option<Vec<String>>,
    pub actions: Option<Vec<String>>,
    /// Once the rule refuses a key, refuse it for this long (every refusal restarts the block).
    pub block_for: Option<Seconds>,
}

/// Whose budget a request spends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Per {
    /// The authenticated agent (access token, passport or client certificate).
    Agent,
    /// The API key of an API-key login.
    ApiKey,
    /// The client address (an IPv6 client's /64).
    Ip,
    /// One budget for everybody: a ceiling on the whole service.
    Global,
}

impl Per {
    pub const fn as_str(self) -> &'static str {
        match self {
            Per::Agent => "agent",
            Per::ApiKey => "api_key",
            Per::Ip => "ip",
            Per::Global => "global",
        }
    }
}

/// `METHOD /path`, `/path`, `/prefix/*` or `*`. A pattern matches the route's template
/// (`/v1/secrets/{name}`) or the request's own path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutePattern {
    pub method: Option<String>,
    pub path: String,
    /// A trailing `*`: `path` is a prefix.
    pub prefix: bool,
}

impl RoutePattern {
    pub fn matches(&self, method: &str, template: Option<&str>, path: &str) -> bool {
        if self.method.as_deref().is_some_and(|m| m != method) {
            return false;
        }
        let hit = |candidate: &str| {
            if self.prefix {
                candidate.starts_with(&self.path)
            } else {
                candidate == self.path
            }
        };
        template.is_some_and(hit) || hit(path)
    }
}

impl fmt::Display for RoutePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(method) = &self.method {
            write!(f, "{method} ")?;
        }
        write!(f, "{}{}", self.path, if self.prefix { "*" } else { "" })
    }
}

/// A policy action (`secret:read`) or a prefix of one (`secret:*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionPattern {
    pub action: String,
    pub prefix: bool,
}

impl ActionPattern {
    pub fn matches(&self, action: &str) -> bool {
        if self.prefix {
            action.starts_with(&self.action)
        } else {
            action == self.action
        }
    }
}

/// Where a rule counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Requests to these routes (every route when empty), counted by the admit middleware.
    Routes(Vec<RoutePattern>),
    /// Policy decisions on these actions (`/v1/authorize`, the vault's secret actions).
    Actions(Vec<ActionPattern>),
    /// API-key logins.
    ApiKeyLogins,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub name: String,
    pub per: Per,
    pub limit: Limit,
    pub scope: Scope,
    /// Zero: refuse only what exceeds the rate.
    pub block: Duration,
}

/// Where budgets live.
#[derive(Debug, Clone)]
pub enum Backend {
    Memory,
    Redis(RedisSettings),
}

#[derive(Debug, Clone)]
pub struct RedisSettings {
    /// May carry a password, hence [`Secret`].
    pub url: Secret,
    pub key_prefix: String,
    /// Longest wait for one answer (or a connection) before the request counts as a backend error.
    pub timeout: Duration,
}

/// What to do when the shared backend cannot answer in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnBackendError {
    /// Refuse with 503: nothing passes unmetered (the default).
    Deny,
    /// Fall back to this process's own budgets (each replica allows the full rate), log an error.
    LocalAndAlert,
    /// Let requests through unmetered, log an error. The weakest choice, named to say so.
    AllowAndAlert,
}

/// The admit step's settings, valid by construction.
#[derive(Debug, Clone)]
pub struct RateLimits {
    pub backend: Backend,
    pub on_backend_error: OnBackendError,
    pub trusted_proxies: Vec<IpNet>,
    pub rules: Vec<Rule>,
}

const SECTION: &str = "rate_limits";

/// Validates the section; `env_redis_url` (`WARDEN_REDIS_URL`) wins over the file's `redis_url`.
pub fn resolve(raw: RawRateLimits, env_redis_url: Option<Secret>) -> Result<RateLimits, ConfigError> {
    let backend = match raw.backend.as_deref() {
        None | Some("memory") => Backend::Memory,
        Some("redis") => {
            let url = env_redis_url.or(raw.redis_url).ok_or_else(|| {
                invalid(
                    "rate_limits.redis_url",
                    "is required with `backend: redis` (here or in WARDEN_REDIS_URL)",
                )
            })?;
            // Parsing only: no connection is made here. The error says nothing of the URL (a password).
            if !(url.expose().starts_with("redis://") || url.expose().starts_with("redis+unix://"))
                || redis::Client::open(url.expose()).is_err()
            {
                return Err(invalid(
                    "rate_limits.redis_url",
                    "must be a Redis URL such as redis://127.0.0.1:6379 (rediss:// is not supported)",
                ));
            }
            let key_prefix = raw.key_prefix.unwrap_or_else(|| DEFAULT_KEY_PREFIX.to_owned());
            if key_prefix.is_empty() || key_prefix.len() > 128 || key_prefix.chars().any(char::is_whitespace) {
                return Err(invalid(
                    "rate_limits.key_prefix",
                    "must be 1 to 128 characters without spaces",
                ));
            }
            let timeout_ms = raw.redis_timeout_ms.unwrap_or(DEFAULT_REDIS_TIMEOUT_MS);
            if !(1..=10_000).contains(&timeout_ms) {
                return Err(invalid("rate_limits.redis_timeout_ms", "must be 1 to 10000"));
            }
            Backend::Redis(RedisSettings {
                url,
                key_prefix,
                timeout: Duration::from_millis(timeout_ms),
            })
        }
        Some(other) => {
            return Err(invalid(
                "rate_limits.backend",
                format!("`{other}` is not `memory` or `redis`"),
            ));
        }
    };
    let on_backend_error = match raw.on_backend_error.as_deref() {
        None | Some("deny") => OnBackendError::Deny,
        Some("local_and_alert") => OnBackendError::LocalAndAlert,
        Some("allow_and_alert") => OnBackendError::AllowAndAlert,
        Some(other) => {
            return Err(invalid(
                "rate_limits.on_backend_error",
                format!("`{other}` is not `deny`, `local_and_alert` or `allow_and_alert`"),
            ));
        }
    };
    let trusted_proxies = raw
        .trusted_proxies
        .unwrap_or_default()
        .iter()
        .map(|text| proxy(text))
        .collect::<Result<Vec<_>, _>>()?;
    let mut rules = ddos(raw.ddos.unwrap_or_default())?;
    for (i, raw_rule) in raw.rules.unwrap_or_default().into_iter().enumerate() {
        rules.push(rule(i, raw_rule)?);
    }
    for (i, rule) in rules.iter().enumerate() {
        if rules[..i].iter().any(|earlier| earlier.name == rule.name) {
            return Err(invalid(
                &format!("{SECTION}.rules"),
                format!("the name `{}` is used twice", rule.name),
            ));
        }
    }
    Ok(RateLimits {
        backend,
        on_backend_error,
        trusted_proxies,
        rules,
    })
}

fn proxy(text: &str) -> Result<IpNet, ConfigError> {
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| {
            invalid(
                "rate_limits.trusted_proxies",
                format!("`{text}` is not an address or a CIDR"),
            )
        })
}

/// Seed 002's thresholds become two rules per client IP over every route; 0 turns one off.
fn ddos(raw: RawDdos) -> Result<Vec<Rule>, ConfigError> {
    const FIELD: &str = "rate_limits.ddos";
    match raw.challenge_mode.as_deref() {
        None | Some("none") => {}
        Some(other) => {
            return Err(invalid(
                &format!("{FIELD}.challenge_mode"),
                format!(
                    "`{other}` is not available: Warden serves agents, not browsers, and has no challenge page; \
                     use `none` (clients over a threshold get 429 with Retry-After)"
                ),
            ));
        }
    }
    let block = Duration::from_secs(raw.block_duration_seconds.unwrap_or(0));
    let thresholds = [
        (
            "ddos-per-second",
            raw.threshold_requests_per_second.unwrap_or(DEFAULT_DDOS_PER_SECOND),
            "second",
            "threshold_requests_per_second",
        ),
        (
            "ddos-per-minute",
            raw.threshold_requests_per_minute.unwrap_or(DEFAULT_DDOS_PER_MINUTE),
            "minute",
            "threshold_requests_per_minute",
        ),
    ];
    let mut rules = Vec::new();
    for (name, count, per, field) in thresholds {
        if count == 0 {
            continue;
        }
        let limit = format!("{count}/{per}")
            .parse::<Rate>()
            .and_then(|rate| Limit::new(rate, None))
            .map_err(|e| invalid(&format!("{FIELD}.{field}"), e.to_string()))?;
        rules.push(Rule {
            name: name.to_owned(),
            per: Per::Ip,
            limit,
            scope: Scope::Routes(Vec::new()),
            block,
        });
    }
    Ok(rules)
}

fn rule(index: usize, raw: RawRule) -> Result<Rule, ConfigError> {
    let field = |key: &str| format!("{SECTION}.rules[{index}].{key}");
    let name = raw.name.unwrap_or_else(|| format!("rule-{}", index + 1));
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(invalid(&field("name"), "must be 1 to 64 of [A-Za-z0-9._-]"));
    }
    let per = match raw.per.as_str() {
        "agent" => Per::Agent,
        "api_key" => Per::ApiKey,
        "ip" => Per::Ip,
        "global" => Per::Global,
        other => {
            return Err(invalid(
                &field("per"),
                format!("`{other}` is not `agent`, `api_key`, `ip` or `global`"),
            ));
        }
    };
    let rate_error = |e: RateError| invalid(&field("rate"), e.to_string());
    let rate: Rate = raw.rate.parse().map_err(rate_error)?;
    let limit = Limit::new(rate, raw.burst).map_err(|e| invalid(&field("burst"), e.to_string()))?;
    let scope = match (per, raw.routes, raw.actions) {
        (_, Some(_), Some(_)) => {
            return Err(invalid(
                &field("actions"),
                "give `routes` or `actions`, not both (write two rules)",
            ));
        }
        (Per::ApiKey, None, None) => Scope::ApiKeyLogins,
        (Per::ApiKey, _, _) => {
            return Err(invalid(
                &field("per"),
                "`api_key` rules count API-key logins (POST /v1/auth/login with `api_key`) and take no `routes` \
                 or `actions`",
            ));
        }
        (Per::Ip, None, Some(_)) => {
            return Err(invalid(
                &field("per"),
                "an action is known only for an agent's decision: use `per: agent` or `per: global` with `actions`",
            ));
        }
        (_, None, Some(actions)) => {
            if actions.is_empty() {
                return Err(invalid(&field("actions"), "list at least one action"));
            }
            Scope::Actions(
                actions
                    .iter()
                    .map(|a| action(a).map_err(|reason| invalid(&field("actions"), reason)))
                    .collect::<Result<_, _>>()?,
            )
        }
        (_, routes, None) => Scope::Routes(
            routes
                .unwrap_or_default()
                .iter()
                .map(|r| route(r).map_err(|reason| invalid(&field("routes"), reason)))
                .collect::<Result<_, _>>()?,
        ),
    };
    Ok(Rule {
        name,
        per,
        limit,
        scope,
        block: raw.block_for.map_or(Duration::ZERO, Seconds::as_std),
    })
}

fn route(text: &str) -> Result<RoutePattern, String> {
    let text = text.trim();
    let (method, path) = match text.split_once(' ') {
        Some((method, path)) => (Some(method.trim()), path.trim()),
        None => (None, text),
    };
    if let Some(method) = method
        && (method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()))
    {
        return Err(format!(
            "`{text}`: the method must be upper case, as in `POST /v1/auth/login`"
        ));
    }
    let (path, prefix) = match path.strip_suffix('*') {
        Some(stem) => (stem, true),
        None => (path, false),
    };
    if !(path.starts_with('/') || (path.is_empty() && prefix)) || path.contains('*') {
        return Err(format!(
            "`{text}` is not a route: write `/v1/authorize`, `POST /v1/auth/login`, `/v1/secrets/*` or `*`"
        ));
    }
    Ok(RoutePattern {
        method: method.map(str::to_owned),
        path: path.to_owned(),
        prefix,
    })
}

fn action(text: &str) -> Result<ActionPattern, String> {
    let (stem, prefix) = match text.strip_suffix('*') {
        Some(stem) => (stem, true),
        None => (text, false),
    };
    if (stem.is_empty() && !prefix) || stem.contains('*') || stem.chars().any(char::is_whitespace) {
        return Err(format!("`{text}` is not an action: write `secret:read` or `secret:*`"));
    }
    Ok(ActionPattern {
        action: stem.to_owned(),
        prefix,
    })
}

#[cfg(test)]
mod tests;
