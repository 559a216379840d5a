//! Time as a value that is passed in: `Clock` is the only way domain logic learns what time it is.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Seconds since the Unix epoch, UTC.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const EPOCH: Timestamp = Timestamp(0);

    pub const fn from_unix(seconds: i64) -> Self {
        Timestamp(seconds)
    }

    pub const fn unix(self) -> i64 {
        self.0
    }

    /// This instant moved by `seconds` (saturating, so absurd inputs cannot wrap into the past).
    pub const fn plus(self, seconds: u64) -> Self {
        let delta = if seconds > i64::MAX as u64 {
            i64::MAX
        } else {
            seconds as i64
        };
        Timestamp(self.0.saturating_add(delta))
    }

    pub const fn minus(self, seconds: u64) -> Self {
        let delta = if seconds > i64::MAX as u64 {
            i64::MAX
        } else {
            seconds as i64
        };
        Timestamp(self.0.saturating_sub(delta))
    }

    /// Seconds from `self` until `later`, zero if `later` is not after `self`.
    pub fn seconds_until(self, later: Timestamp) -> u64 {
        u64::try_from(later.0.saturating_sub(self.0)).unwrap_or(0)
    }

    /// RFC 3339 in UTC, as the API writes every time.
    pub fn rfc3339(self) -> String {
        OffsetDateTime::from_unix_timestamp(self.0)
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok())
            .unwrap_or_else(|| self.0.to_string())
    }

    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        OffsetDateTime::parse(text, &Rfc3339)
            .ok()
            .map(|t| Timestamp(t.unix_timestamp()))
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.rfc3339())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rfc3339())
    }
}

/// The source of the current time.
pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> Timestamp;
}

/// The operating system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp(OffsetDateTime::now_utc().unix_timestamp())
    }
}

/// A clock that only moves when told to: tests of expiry, rotation and grace periods use it, and the
/// server accepts it so end-to-end tests can drive time too.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    pub fn at(start: Timestamp) -> Self {
        ManualClock(Arc::new(AtomicI64::new(start.unix())))
    }

    pub fn advance(&self, seconds: u64) {
        let delta = i64::try_from(seconds).unwrap_or(i64::MAX);
        self.0.fetch_add(delta, Ordering::SeqCst);
    }

    pub fn set(&self, to: Timestamp) {
        self.0.store(to.unix(), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips() {
        let t = Timestamp::from_unix(1_700_000_000);
        assert_eq!(t.rfc3339(), "2023-11-14T22:13:20Z");
        assert_eq!(Timestamp::parse_rfc3339(&t.rfc3339()), Some(t));
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::at(Timestamp::from_unix(100));
        assert_eq!(clock.now().unix(), 100);
        clock.advance(50);
        assert_eq!(clock.now().unix(), 150);
    }

    #[test]
    fn arithmetic_saturates() {
        assert_eq!(Timestamp::from_unix(i64::MAX - 1).plus(u64::MAX).unix(), i64::MAX);
        assert_eq!(Timestamp::from_unix(10).seconds_until(Timestamp::from_unix(5)), 0);
    }
}
