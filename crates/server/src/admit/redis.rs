//! Budgets in Redis, shared by every replica: GCRA as a Lua script (`gcra.lua`), atomic and one round
//! trip, on Redis's clock. The connection is made on first use and remade by redis's connection
//! manager; every call is bounded by the configured timeout, so an unreachable Redis costs a request
//! that long at most before the admit step applies `on_backend_error`.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::OnceCell;

use super::Outcome;
use super::gcra::Limit;
use crate::config::rate_limits::RedisSettings;

const SCRIPT: &str = include_str!("gcra.lua");

/// After a failure Redis is left alone this long: meanwhile every check fails at once, so an outage
/// costs each request nothing rather than a timeout per rule.
const REST_AFTER_FAILURE: Duration = Duration::from_secs(1);

/// Why Redis gave no answer. The messages never carry the URL (it may hold a password).
#[derive(Debug, Clone, thiserror::Error)]
pub enum BackendError {
    #[error("the Redis URL is not usable: {0}")]
    Url(String),
    #[error("Redis did not answer within {0:?}")]
    Timeout(Duration),
    #[error("Redis: {0}")]
    Redis(String),
    #[error("Redis answered the rate-limit script with something unexpected: {0}")]
    Answer(String),
    #[error("Redis failed less than {REST_AFTER_FAILURE:?} ago and is not asked again yet")]
    Resting,
}

pub struct Redis {
    client: Result<redis::Client, BackendError>,
    connection: OnceCell<ConnectionManager>,
    script: redis::Script,
    prefix: String,
    timeout: Duration,
    origin: Instant,
    /// Milliseconds since `origin` before which Redis is not asked (see [`REST_AFTER_FAILURE`]).
    resting_until: AtomicU64,
}

impl fmt::Debug for Redis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redis")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Redis {
    /// Makes no connection yet: Warden starts while Redis is down, and refuses (or falls back) until
    /// it is back.
    pub fn new(settings: &RedisSettings) -> Redis {
        let client =
            redis::Client::open(settings.url.expose()).map_err(|_| BackendError::Url("it does not parse".into()));
        Redis {
            client,
            connection: OnceCell::new(),
            script: redis::Script::new(SCRIPT),
            prefix: settings.key_prefix.clone(),
            timeout: settings.timeout,
            origin: Instant::now(),
            resting_until: AtomicU64::new(0),
        }
    }

    async fn connection(&self) -> Result<ConnectionManager, BackendError> {
        let client = self.client.as_ref().map_err(Clone::clone)?;
        let manager = self
            .connection
            .get_or_try_init(|| async {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(self.timeout))
                    .set_response_timeout(Some(self.timeout))
                    .set_number_of_retries(2)
                    .set_max_delay(Duration::from_secs(1));
                let connect = ConnectionManager::new_with_config(client.clone(), config);
                match tokio::time::timeout(self.timeout, connect).await {
                    Ok(result) => result.map_err(|e| BackendError::Redis(e.to_string())),
                    Err(_) => Err(BackendError::Timeout(self.timeout)),
                }
            })
            .await?;
        Ok(manager.clone())
    }

    /// Spends one request of `key`'s budget under the rule named `rule`.
    pub async fn check(&self, rule: &str, limit: &Limit, block: Duration, key: &str) -> Result<Outcome, BackendError> {
        let now_ms = u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX);
        if now_ms < self.resting_until.load(Ordering::Relaxed) {
            return Err(BackendError::Resting);
        }
        let result = self.ask(rule, limit, block, key).await;
        if result.is_err() {
            let rest = u64::try_from(REST_AFTER_FAILURE.as_millis()).unwrap_or(u64::MAX);
            self.resting_until.store(now_ms.saturating_add(rest), Ordering::Relaxed);
        }
        result
    }

    async fn ask(&self, rule: &str, limit: &Limit, block: Duration, key: &str) -> Result<Outcome, BackendError> {
        let mut connection = self.connection().await?;
        // The hash tag keeps both keys of one budget in one slot of a Redis Cluster.
        let tat_key = format!("{}{{{rule}:{key}}}", self.prefix);
        let block_key = format!("{tat_key}:blocked");
        let interval_us = (limit.interval_nanos() / 1000).max(1);
        let tolerance_us = interval_us.saturating_mul(u64::from(limit.burst.get() - 1));
        let block_ms = u64::try_from(block.as_millis()).unwrap_or(u64::MAX);
        let mut invocation = self.script.key(&tat_key);
        invocation
            .key(&block_key)
            .arg(interval_us)
            .arg(tolerance_us)
            .arg(block_ms);
        let answer = tokio::time::timeout(self.timeout, invocation.invoke_async::<(i64, i64)>(&mut connection)).await;
        match answer {
            Err(_) => Err(BackendError::Timeout(self.timeout)),
            Ok(Err(error)) => Err(BackendError::Redis(error.to_string())),
            Ok(Ok((1, _))) => Ok(Outcome::Allow),
            Ok(Ok((0, wait_us))) if wait_us >= 0 => Ok(Outcome::Deny {
                retry_after: Duration::from_micros(wait_us.unsigned_abs()),
            }),
            Ok(Ok(other)) => Err(BackendError::Answer(format!("{other:?}"))),
        }
    }
}
