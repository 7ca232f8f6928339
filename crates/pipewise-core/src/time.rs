//! Time is stored and compared in UTC with microsecond precision (what both storage engines
//! keep exactly). Display converts to the user's IANA time zone.

use std::fmt;
use std::str::FromStr;

pub use jiff::civil::Date;

use crate::error::Problem;

/// An instant in UTC, in whole microseconds since the Unix epoch.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const fn from_micros(micros: i64) -> Timestamp {
        Timestamp(micros)
    }

    pub const fn as_micros(self) -> i64 {
        self.0
    }

    /// Drops anything finer than a microsecond.
    pub fn from_jiff(timestamp: jiff::Timestamp) -> Timestamp {
        Timestamp(timestamp.as_microsecond())
    }

    pub fn to_jiff(self) -> jiff::Timestamp {
        // Every i64 of microseconds that came from a jiff::Timestamp converts back.
        jiff::Timestamp::from_microsecond(self.0).unwrap_or(jiff::Timestamp::MAX)
    }

    /// The start of `date` in UTC.
    pub fn start_of_day(date: Date) -> Timestamp {
        let zoned = date.to_zoned(jiff::tz::TimeZone::UTC).expect("every civil date has a UTC midnight");
        Timestamp::from_jiff(zoned.timestamp())
    }

    /// The UTC calendar date of this instant.
    pub fn date_utc(self) -> Date {
        self.to_jiff().to_zoned(jiff::tz::TimeZone::UTC).date()
    }

    pub fn plus_seconds(self, seconds: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(seconds.saturating_mul(1_000_000)))
    }

    /// Formats for a person in `time_zone` (IANA name, e.g. `Asia/Seoul`), like
    /// `2026-11-23 04:30 KST`. An unknown zone falls back to UTC.
    pub fn display_in(self, time_zone: &str) -> String {
        let zone = jiff::tz::TimeZone::get(time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
        self.to_jiff().to_zoned(zone).strftime("%Y-%m-%d %H:%M %Z").to_string()
    }
}

/// RFC 3339 in UTC, e.g. `2026-11-22T19:30:00Z`.
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.to_jiff().fmt(f)
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Timestamp {
    type Err = Problem;

    /// Parses RFC 3339 with an offset (`2026-11-22T19:30:00+09:00`); the offset is required,
    /// since a time without one is ambiguous.
    fn from_str(raw: &str) -> Result<Timestamp, Problem> {
        let timestamp = jiff::Timestamp::from_str(raw.trim())
            .map_err(|_| Problem::Invalid { value: raw.to_owned(), expected: "an RFC 3339 time with an offset" })?;
        Ok(Timestamp::from_jiff(timestamp))
    }
}

/// Parses an ISO date `YYYY-MM-DD` between the years 1900 and 2200.
pub fn parse_date(raw: &str) -> Result<Date, Problem> {
    let trimmed = raw.trim();
    let shaped = trimmed.len() == 10 && trimmed.as_bytes()[4] == b'-' && trimmed.as_bytes()[7] == b'-';
    let date = shaped.then(|| Date::from_str(trimmed).ok()).flatten();
    let date = date.ok_or_else(|| Problem::Invalid { value: raw.to_owned(), expected: "a date" })?;
    if !(1900..=2200).contains(&date.year()) {
        return Err(Problem::OutOfRange { value: trimmed.to_owned(), range: "years 1900 to 2200" });
    }
    Ok(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(parse_date("2025-02-28").unwrap().to_string(), "2025-02-28");
        assert_eq!(parse_date("2025-13-01").unwrap_err().to_string(), "\"2025-13-01\" is not a date");
        for bad in ["2025-02-30", "25-01-01", "2025/01/01", "", "2025-1-1", "tomorrow"] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
        assert!(matches!(parse_date("1850-01-01"), Err(Problem::OutOfRange { .. })));
    }

    #[test]
    fn timestamps_are_utc_and_display_in_the_users_zone() {
        let at: Timestamp = "2026-11-22T19:30:00Z".parse().unwrap();
        assert_eq!(at.to_string(), "2026-11-22T19:30:00Z");
        assert_eq!(at.display_in("Asia/Seoul"), "2026-11-23 04:30 KST");
        assert_eq!(at.display_in("America/New_York"), "2026-11-22 14:30 EST");
        assert_eq!(at.display_in("Not/AZone"), "2026-11-22 19:30 UTC");
        let offset: Timestamp = "2026-11-23T04:30:00+09:00".parse().unwrap();
        assert_eq!(offset, at);
        assert!("2026-11-22T19:30:00".parse::<Timestamp>().is_err(), "a time without offset is ambiguous");
        let precise: Timestamp = "2026-11-22T19:30:00.123456789Z".parse().unwrap();
        assert_eq!(precise.to_string(), "2026-11-22T19:30:00.123456Z");
        assert_eq!(Timestamp::start_of_day(at.date_utc()).to_string(), "2026-11-22T00:00:00Z");
    }
}
