//! The arithmetic of rate limits, with no I/O and no clock: rates as users write them (`100/minute`) and
//! the generic cell rate algorithm (GCRA) that decides one request from one stored instant.
//!
//! GCRA keeps a single number per key, the theoretical arrival time (TAT): when the key's budget would
//! be whole again if requests kept arriving at exactly the rate. With an emission interval `T` (the
//! period divided by the count) and a burst of `B`, a request at `now` passes when
//! `now >= TAT - (B - 1)·T`, and then moves the TAT to `max(TAT, now) + T`. This is the arithmetic of
//! governor (the in-process backend) and of the Lua script the Redis backend runs (`gcra.lua`); the
//! tests hold the three to the same answers.
//!
//! Times are nanoseconds on any monotonic scale the caller picks: the functions never read a clock.

use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;
use std::time::Duration;

/// Most requests a rate may allow per second: beyond it the emission interval is under a microsecond,
/// which the Redis backend (microsecond arithmetic in Lua) cannot represent.
pub const MAX_PER_SECOND: u64 = 1_000_000;

/// Largest burst accepted.
pub const MAX_BURST: u32 = 1_000_000;

/// The unit of a rate: `second`, `minute`, `hour` or `day`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Per {
    Second,
    Minute,
    Hour,
    Day,
}

impl Per {
    pub const fn seconds(self) -> u64 {
        match self {
            Per::Second => 1,
            Per::Minute => 60,
            Per::Hour => 3600,
            Per::Day => 86_400,
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Per::Second => "second",
            Per::Minute => "minute",
            Per::Hour => "hour",
            Per::Day => "day",
        }
    }
}

/// `count` requests per `per`, as written (`100/minute`, `100 per minute`, `10/s`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: NonZeroU32,
    pub per: Per,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RateError {
    #[error("`{0}` is not a rate: write it as N/second, N/minute, N/hour or N/day (for example `100/minute`)")]
    Malformed(String),
    #[error("`{0}`: the count must be at least 1")]
    Zero(String),
    #[error("`{0}` is faster than {MAX_PER_SECOND} per second")]
    TooFast(String),
    #[error("a burst must be 1 to {MAX_BURST}, not {0}")]
    Burst(u64),
}

impl FromStr for Rate {
    type Err = RateError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let malformed = || RateError::Malformed(text.to_owned());
        let trimmed = text.trim();
        let (count, unit) = trimmed
            .split_once('/')
            .or_else(|| trimmed.split_once(" per "))
            .ok_or_else(malformed)?;
        let count = count.trim();
        if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
            return Err(malformed());
        }
        let count: u64 = count.parse().map_err(|_| RateError::TooFast(text.to_owned()))?;
        let per = match unit.trim().to_ascii_lowercase().as_str() {
            "s" | "sec" | "second" | "seconds" => Per::Second,
            "m" | "min" | "minute" | "minutes" => Per::Minute,
            "h" | "hr" | "hour" | "hours" => Per::Hour,
            "d" | "day" | "days" => Per::Day,
            _ => return Err(malformed()),
        };
        if count == 0 {
            return Err(RateError::Zero(text.to_owned()));
        }
        // count / per.seconds() > MAX_PER_SECOND, without rounding away a fraction.
        if count > MAX_PER_SECOND.saturating_mul(per.seconds()) {
            return Err(RateError::TooFast(text.to_owned()));
        }
        let count = u32::try_from(count)
            .ok()
            .and_then(NonZeroU32::new)
            .ok_or_else(|| RateError::TooFast(text.to_owned()))?;
        Ok(Rate { count, per })
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.count, self.per.as_str())
    }
}

/// A rate with its burst: what one rule allows one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub rate: Rate,
    pub burst: NonZeroU32,
}

impl Limit {
    /// `rate` with `burst` requests allowed at once; by default the rate's own count (`100/minute` lets
    /// 100 through at once, then one every 600 ms).
    pub fn new(rate: Rate, burst: Option<u64>) -> Result<Limit, RateError> {
        let burst = match burst {
            None => rate.count,
            Some(b) => u32::try_from(b)
                .ok()
                .filter(|b| *b <= MAX_BURST)
                .and_then(NonZeroU32::new)
                .ok_or(RateError::Burst(b))?,
        };
        Ok(Limit { rate, burst })
    }

    /// The emission interval `T`: the period divided by the count, in nanoseconds (at least 1 µs by
    /// [`MAX_PER_SECOND`]).
    pub fn interval_nanos(&self) -> u64 {
        self.rate.per.seconds() * 1_000_000_000 / u64::from(self.rate.count.get())
    }

    pub fn interval(&self) -> Duration {
        Duration::from_nanos(self.interval_nanos())
    }

    /// The burst tolerance `τ = (B - 1)·T`: how far ahead of `now` the TAT may run and still admit.
    pub fn tolerance_nanos(&self) -> u64 {
        self.interval_nanos().saturating_mul(u64::from(self.burst.get() - 1))
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (burst {})", self.rate, self.burst)
    }
}

/// What GCRA decided about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Admitted; store `tat` (until `tat`, after which the key is as good as new and may be forgotten).
    Allow { tat: u64 },
    /// Refused, nothing to store; the next request can pass `retry_after_nanos` from now.
    Deny { retry_after_nanos: u64 },
}

/// Decides a request at `now` for a key whose stored TAT is `tat` (`None`: never seen, or forgotten).
pub fn decide(limit: &Limit, tat: Option<u64>, now: u64) -> Verdict {
    let tat = tat.unwrap_or(now).max(now);
    let earliest = tat.saturating_sub(limit.tolerance_nanos());
    if now < earliest {
        return Verdict::Deny {
            retry_after_nanos: earliest - now,
        };
    }
    Verdict::Allow {
        tat: tat.saturating_add(limit.interval_nanos()),
    }
}

/// Everything a backend keeps for one key of one rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyState {
    pub tat: Option<u64>,
    /// Set while the key is blocked (rules with a block only).
    pub blocked_until: Option<u64>,
}

/// [`decide`] with seed 002's block: once the rule refuses a key, every request of that key is refused
/// for `block_nanos` from its latest refusal. A client that keeps hammering stays blocked; one that
/// waits out `Retry-After` finds its whole burst again (its TAT was not moved while it was blocked).
/// `Ok(())` admits; `Err(nanos)` is the wait before the next request can pass.
pub fn admit(limit: &Limit, block_nanos: u64, state: &mut KeyState, now: u64) -> Result<(), u64> {
    if block_nanos > 0 && state.blocked_until.is_some_and(|until| until > now) {
        state.blocked_until = Some(now.saturating_add(block_nanos));
        return Err(block_nanos);
    }
    match decide(limit, state.tat, now) {
        Verdict::Allow { tat } => {
            state.tat = Some(tat);
            Ok(())
        }
        Verdict::Deny { retry_after_nanos } if block_nanos == 0 => Err(retry_after_nanos),
        Verdict::Deny { .. } => {
            state.blocked_until = Some(now.saturating_add(block_nanos));
            Err(block_nanos)
        }
    }
}

/// `Retry-After` in whole seconds: rounded up, so a client that waits that long is admitted, and at
/// least 1 (0 would invite an immediate retry that fails again).
pub fn retry_after_seconds(nanos: u64) -> u64 {
    nanos.div_ceil(1_000_000_000).max(1)
}

#[cfg(test)]
mod tests;
