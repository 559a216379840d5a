//! Durations as users write them in configuration and requests: `300`, `"300s"`, `"5m"`, `"4h"`, `"7d"`.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A non-negative number of seconds.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Seconds(u64);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DurationError {
    #[error("`{0}` is not a duration: use a number of seconds or a number with s, m, h or d")]
    Malformed(String),
    #[error("`{0}` is too long")]
    Overflow(String),
}

impl Seconds {
    pub const fn new(seconds: u64) -> Self {
        Seconds(seconds)
    }

    pub const fn minutes(minutes: u64) -> Self {
        Seconds(minutes * 60)
    }

    pub const fn hours(hours: u64) -> Self {
        Seconds(hours * 3600)
    }

    pub const fn days(days: u64) -> Self {
        Seconds(days * 86_400)
    }

    pub const fn get(self) -> u64 {
        self.0
    }

    pub fn as_std(self) -> std::time::Duration {
        std::time::Duration::from_secs(self.0)
    }
}

impl FromStr for Seconds {
    type Err = DurationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim();
        let malformed = || DurationError::Malformed(text.to_owned());
        let (digits, unit) = match trimmed.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
            Some((at, _)) => trimmed.split_at(at),
            None => (trimmed, ""),
        };
        if digits.is_empty() {
            return Err(malformed());
        }
        let value: u64 = digits.parse().map_err(|_| DurationError::Overflow(text.to_owned()))?;
        let factor = match unit {
            "" | "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            _ => return Err(malformed()),
        };
        value
            .checked_mul(factor)
            .map(Seconds)
            .ok_or_else(|| DurationError::Overflow(text.to_owned()))
    }
}

impl fmt::Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}s", self.0)
    }
}

impl Serialize for Seconds {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(self.0)
    }
}

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SecondsVisitor;

        impl Visitor<'_> for SecondsVisitor {
            type Value = Seconds;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as 300, \"300s\", \"5m\", \"4h\" or \"7d\"")
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Seconds, E> {
                Ok(Seconds(v))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Seconds, E> {
                u64::try_from(v)
                    .map(Seconds)
                    .map_err(|_| E::custom("a duration cannot be negative"))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Seconds, E> {
                v.parse().map_err(E::custom)
            }
        }

        deserializer.deserialize_any(SecondsVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_forms() {
        assert_eq!("300".parse(), Ok(Seconds(300)));
        assert_eq!("300s".parse(), Ok(Seconds(300)));
        assert_eq!("5m".parse(), Ok(Seconds(300)));
        assert_eq!("4h".parse(), Ok(Seconds(14_400)));
        assert_eq!("7d".parse(), Ok(Seconds(604_800)));
    }

    #[test]
    fn rejects_everything_else() {
        for bad in ["", "s", "5x", "-5", "5 m", "1.5h", "m5"] {
            assert!(bad.parse::<Seconds>().is_err(), "{bad:?} should be rejected");
        }
        assert!(matches!(
            "99999999999999999999d".parse::<Seconds>(),
            Err(DurationError::Overflow(_))
        ));
        assert!(matches!(
            "999999999999999999d".parse::<Seconds>(),
            Err(DurationError::Overflow(_))
        ));
    }

    #[test]
    fn deserializes_numbers_and_strings() {
        let n: Seconds = serde_json::from_str("60").unwrap_or(Seconds(0));
        let s: Seconds = serde_json::from_str("\"1m\"").unwrap_or(Seconds(0));
        assert_eq!(n, Seconds(60));
        assert_eq!(s, Seconds(60));
        assert!(serde_json::from_str::<Seconds>("-1").is_err());
    }
}
