//! Budgets in this process: one governor keyed limiter (GCRA over a concurrent map) per rule, and for
//! rules that block, the instant each blocked key is released.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use super::Outcome;
use super::gcra::Limit;

/// The limiters' time source: the monotonic clock, or a hand-moved one in tests. Readings are the time
/// since the source was made.
#[derive(Clone, Debug)]
pub enum Ticks {
    Monotonic(Instant),
    Manual(Arc<AtomicU64>),
}

impl Ticks {
    pub fn monotonic() -> Ticks {
        Ticks::Monotonic(Instant::now())
    }

    /// A clock that stands still until [`Ticks::advance`] moves it.
    pub fn manual() -> Ticks {
        Ticks::Manual(Arc::new(AtomicU64::new(0)))
    }

    pub fn advance(&self, by: Duration) {
        if let Ticks::Manual(nanos) = self {
            nanos.fetch_add(u64::try_from(by.as_nanos()).unwrap_or(u64::MAX), Ordering::SeqCst);
        }
    }

    pub fn elapsed(&self) -> Duration {
        match self {
            Ticks::Monotonic(origin) => origin.elapsed(),
            Ticks::Manual(nanos) => Duration::from_nanos(nanos.load(Ordering::SeqCst)),
        }
    }
}

impl Clock for Ticks {
    type Instant = Duration;

    fn now(&self) -> Duration {
        self.elapsed()
    }
}

type Keyed = RateLimiter<String, DefaultKeyedStateStore<String>, Ticks, NoOpMiddleware<Duration>>;

/// How many checks of one rule between sweeps of keys whose budget is whole again (they are then
/// indistinguishable from keys never seen, so forgetting them changes no answer and bounds memory).
const SWEEP_EVERY: u64 = 4096;

struct RuleState {
    limiter: Keyed,
    /// Zero for a rule that does not block.
    block: Duration,
    /// Blocked keys and when each is released.
    blocked: Mutex<HashMap<String, Duration>>,
    checks: AtomicU64,
}

/// One limiter per rule, in the order of the rules.
pub struct Memory {
    ticks: Ticks,
    rules: Vec<RuleState>,
}

impl fmt::Debug for Memory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Memory").field("rules", &self.rules.len()).finish()
    }
}

impl Memory {
    /// Limiters for `rules` (limit and block), timed by `ticks`.
    pub fn new(rules: impl IntoIterator<Item = (Limit, Duration)>, ticks: Ticks) -> Memory {
        let rules = rules
            .into_iter()
            .map(|(limit, block)| RuleState {
                limiter: RateLimiter::dashmap_with_clock(quota(&limit), ticks.clone()),
                block,
                blocked: Mutex::new(HashMap::new()),
                checks: AtomicU64::new(0),
            })
            .collect();
        Memory { ticks, rules }
    }

    /// Spends one request of `key`'s budget under rule `rule`, if there is one left.
    pub fn check(&self, rule: usize, key: &str) -> Outcome {
        let Some(state) = self.rules.get(rule) else {
            // INVARIANT: the admit step asks only about rules it built this backend with.
            return Outcome::Allow;
        };
        let now = self.ticks.now();
        if state.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            sweep(state, now);
        }
        if !state.block.is_zero() {
            let mut blocked = state.blocked.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(until) = blocked.get_mut(key)
                && *until > now
            {
                // Hammering during a block restarts it: only a client that waits it out gets back in.
                *until = now + state.block;
                return Outcome::Deny {
                    retry_after: state.block,
                };
            }
        }
        match state.limiter.check_key(&key.to_owned()) {
            Ok(()) => Outcome::Allow,
            Err(not_until) if state.block.is_zero() => Outcome::Deny {
                retry_after: not_until.wait_time_from(now),
            },
            Err(_) => {
                let mut blocked = state.blocked.lock().unwrap_or_else(|p| p.into_inner());
                blocked.insert(key.to_owned(), now + state.block);
                Outcome::Deny {
                    retry_after: state.block,
                }
            }
        }
    }

    /// Keys held in memory across all rules (limiter state and blocks).
    pub fn keys_held(&self) -> usize {
        self.rules
            .iter()
            .map(|s| s.limiter.len() + s.blocked.lock().unwrap_or_else(|p| p.into_inner()).len())
            .sum()
    }

    /// Forgets every key whose budget is whole again and every block that has ended.
    pub fn sweep_all(&self) {
        let now = self.ticks.now();
        for state in &self.rules {
            sweep(state, now);
        }
    }
}

fn sweep(state: &RuleState, now: Duration) {
    state.limiter.retain_recent();
    state.limiter.shrink_to_fit();
    if !state.block.is_zero() {
        let mut blocked = state.blocked.lock().unwrap_or_else(|p| p.into_inner());
        blocked.retain(|_, until| *until > now);
        blocked.shrink_to_fit();
    }
}

/// The governor quota of a limit: the same emission interval and burst as [`super::gcra::decide`].
fn quota(limit: &Limit) -> Quota {
    Quota::with_period(limit.interval())
        .unwrap_or_else(|| Quota::per_second(limit.rate.count))
        .allow_burst(limit.burst)
}
