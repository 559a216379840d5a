//! Time windows: a daily time-of-day range and/or a set of weekdays, in a named time zone (UTC unless
//! the rule names one). The tz database is compiled into the binary; nothing is read from the OS.
//!
//! A window whose end is before its start crosses midnight: `22:00`–`06:00` holds from 22:00 until
//! 06:00 the next morning. Its weekdays name the day the window *opens*: with `days: [5]` (Friday) it
//! holds from Friday 22:00 to Saturday 06:00, and not from Thursday-night-into-Friday.

use std::fmt;

use jiff::tz::TimeZone;
use warden_core::Timestamp;

/// Minutes since midnight, `0..1440`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeOfDay(u16);

impl TimeOfDay {
    /// Parses `HH:MM` (24-hour clock) or `HH:MM:SS` with seconds `00`.
    pub fn parse(text: &str) -> Result<TimeOfDay, String> {
        let bad = || format!("`{text}` is not a time of day such as 09:00 or 17:30");
        let mut parts = text.split(':');
        let (Some(h), Some(m)) = (parts.next(), parts.next()) else {
            return Err(bad());
        };
        if let Some(s) = parts.next()
            && s != "00"
        {
            return Err(bad());
        }
        if parts.next().is_some() || h.is_empty() || h.len() > 2 || m.len() != 2 {
            return Err(bad());
        }
        let hours: u16 = h.parse().map_err(|_| bad())?;
        let minutes: u16 = m.parse().map_err(|_| bad())?;
        if hours > 23 || minutes > 59 {
            return Err(bad());
        }
        Ok(TimeOfDay(hours * 60 + minutes))
    }

    pub fn minutes(self) -> u16 {
        self.0
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

/// When a rule applies.
#[derive(Debug, Clone)]
pub struct TimeWindow {
    /// `start <= t < end`, or, when `end < start`, `t >= start || t < end`.
    hours: Option<(TimeOfDay, TimeOfDay)>,
    /// Bit `d` set for ISO weekday `d` (1 = Monday … 7 = Sunday); `None` means every day.
    days: Option<u8>,
    zone_name: String,
    zone: TimeZone,
}

impl TimeWindow {
    pub fn new(hours: Option<(TimeOfDay, TimeOfDay)>, days: Option<&[u8]>, zone: Option<&str>) -> Result<Self, String> {
        if let Some((start, end)) = hours
            && start == end
        {
            return Err(format!(
                "the window {start}–{end} is empty; leave out start and end for all day"
            ));
        }
        let days = match days {
            None => None,
            Some([]) => return Err("`day_of_week` cannot be empty".to_owned()),
            Some(list) => {
                let mut mask = 0u8;
                for day in list {
                    if !(1..=7).contains(day) {
                        return Err(format!("day {day} is not a weekday: 1 is Monday, 7 is Sunday"));
                    }
                    mask |= 1 << day;
                }
                Some(mask)
            }
        };
        if hours.is_none() && days.is_none() {
            return Err("a time window needs start and end, days, or both".to_owned());
        }
        let zone_name = zone.unwrap_or("UTC").to_owned();
        let zone = jiff::tz::db()
            .get(&zone_name)
            .map_err(|_| format!("unknown time zone `{zone_name}` (use an IANA name such as Europe/Paris)"))?;
        Ok(TimeWindow {
            hours,
            days,
            zone_name,
            zone,
        })
    }

    /// Whether `now` falls in the window.
    pub fn contains(&self, now: Timestamp) -> Result<bool, String> {
        let instant =
            jiff::Timestamp::from_second(now.unix()).map_err(|_| format!("time {} is out of range", now.unix()))?;
        let local = instant.to_zoned(self.zone.clone());
        let minute = u16::try_from(i32::from(local.hour()) * 60 + i32::from(local.minute())).unwrap_or(0);
        let weekday = u8::try_from(local.weekday().to_monday_one_offset()).unwrap_or(0);
        let yesterday = if weekday == 1 { 7 } else { weekday.saturating_sub(1) };
        let day_ok = |day: u8| self.days.is_none_or(|mask| mask & (1 << day) != 0);
        Ok(match self.hours {
            None => day_ok(weekday),
            Some((start, end)) if start.minutes() < end.minutes() => {
                day_ok(weekday) && (start.minutes()..end.minutes()).contains(&minute)
            }
            Some((start, end)) => {
                (minute >= start.minutes() && day_ok(weekday)) || (minute < end.minutes() && day_ok(yesterday))
            }
        })
    }
}

impl fmt::Display for TimeWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("time(")?;
        if let Some((start, end)) = self.hours {
            write!(f, "{start}-{end} ")?;
        }
        if let Some(mask) = self.days {
            let days: Vec<String> = (1..=7u8)
                .filter(|d| mask & (1 << d) != 0)
                .map(|d| d.to_string())
                .collect();
            write!(f, "days={} ", days.join(","))?;
        }
        write!(f, "tz={})", self.zone_name)
    }
}

#[cfg(test)]
mod tests;
