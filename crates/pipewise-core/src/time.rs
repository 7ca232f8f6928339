//! Time is stored and compared in UTC with microsecond precision (what both storage engines
//! keep exactly). Display converts to the user's IANA time zone; days, periods and as-of
//! bounds are taken in the organisation's ([`Zone`]).

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

/// An organisation's time zone (an IANA name such as `Asia/Seoul`): the calendar its days,
/// periods, as-of bounds, close-date comparisons and cycle lengths are taken in. A Seoul team's
/// quarter ends at midnight in Seoul, not at 09:00 there. The zone database is built in.
#[derive(Clone, Debug)]
pub struct Zone {
    name: String,
    tz: jiff::tz::TimeZone,
    /// UTC takes the arithmetic path: most organisations, and every figure before zones.
    utc: bool,
}

impl Zone {
    /// The longest zone name kept.
    pub const NAME_MAX: usize = 64;

    pub fn utc() -> Zone {
        Zone { name: "UTC".to_owned(), tz: jiff::tz::TimeZone::UTC, utc: true }
    }

    /// The zone named `raw` (an IANA name; `UTC` and `Etc/UTC` included).
    pub fn parse(raw: &str) -> Result<Zone, Problem> {
        let name = raw.trim();
        let invalid = || Problem::Invalid { value: raw.to_owned(), expected: "an IANA time zone such as Asia/Seoul" };
        if name.is_empty() || name.len() > Zone::NAME_MAX {
            return Err(invalid());
        }
        let tz = jiff::tz::TimeZone::get(name).map_err(|_| invalid())?;
        let utc = name == "UTC" || tz.iana_name() == Some("UTC") || tz.iana_name() == Some("Etc/UTC");
        Ok(Zone { name: name.to_owned(), tz, utc })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn is_utc(&self) -> bool {
        self.utc
    }

    /// The calendar date in this zone at instant `at`.
    pub fn date_of(&self, at: Timestamp) -> Date {
        if self.utc {
            return at.date_utc();
        }
        at.to_jiff().to_zoned(self.tz.clone()).date()
    }

    /// The first instant of `date` in this zone (where a shift skips midnight, the first instant
    /// the day has).
    /// `at` as this zone's wall clock, `YYYY-MM-DD HH:MM:SS` (what exports write and imports read).
    pub fn local_time(&self, at: Timestamp) -> String {
        at.to_jiff().to_zoned(self.tz.clone()).strftime("%Y-%m-%d %H:%M:%S").to_string()
    }

    pub fn start_of(&self, date: Date) -> Timestamp {
        if self.utc {
            return Timestamp::start_of_day(date);
        }
        match date.to_zoned(self.tz.clone()) {
            Ok(zoned) => Timestamp::from_jiff(zoned.timestamp()),
            Err(_) => Timestamp::start_of_day(date),
        }
    }

    /// The last microsecond of `date` in this zone: "as of `date`" means up to here.
    pub fn end_of(&self, date: Date) -> Timestamp {
        match date.tomorrow() {
            Ok(next) => Timestamp::from_micros(self.start_of(next).as_micros() - 1),
            Err(_) => Timestamp::from_micros(i64::MAX),
        }
    }
}

impl Default for Zone {
    fn default() -> Zone {
        Zone::utc()
    }
}

/// Zones are the same when their names are.
impl PartialEq for Zone {
    fn eq(&self, other: &Zone) -> bool {
        self.name == other.name
    }
}

impl Eq for Zone {}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
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

/// `date` plus `days` (negative: before), or `None` past the calendar's ends.
pub fn plus_days(date: Date, days: i64) -> Option<Date> {
    use jiff::ToSpan;
    date.checked_add(days.days()).ok()
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
    #[test]
    fn an_organisations_days_are_taken_in_its_zone() {
        let at = |raw: &str| raw.parse::<Timestamp>().unwrap();
        let date = |raw: &str| raw.parse::<Date>().unwrap();
        // Seoul (UTC+9): 08:30 on 1 July there is still 30 June in UTC, and is 1 July.
        let seoul = Zone::parse("Asia/Seoul").unwrap();
        assert_eq!(seoul.date_of(at("2026-06-30T23:30:00Z")), date("2026-07-01"));
        assert_eq!(seoul.date_of(at("2026-06-30T14:59:59.999999Z")), date("2026-06-30"));
        assert_eq!(seoul.start_of(date("2026-07-01")).to_string(), "2026-06-30T15:00:00Z");
        assert_eq!(seoul.end_of(date("2026-06-30")).to_string(), "2026-06-30T14:59:59.999999Z");
        // Los Angeles (UTC−8 in winter, −7 in summer): 21:00 on 31 December there is already
        // 1 January in UTC, and is still 31 December.
        let la = Zone::parse("America/Los_Angeles").unwrap();
        assert_eq!(la.date_of(at("2027-01-01T05:00:00Z")), date("2026-12-31"));
        assert_eq!(la.date_of(at("2027-01-01T08:00:00Z")), date("2027-01-01"));
        assert_eq!(la.start_of(date("2027-01-01")).to_string(), "2027-01-01T08:00:00Z");
        assert_eq!(la.start_of(date("2026-07-01")).to_string(), "2026-07-01T07:00:00Z");
        // The day clocks go forward is 23 hours long, and ends where the next begins.
        let spring = date("2026-03-08");
        let length = la.start_of(spring.tomorrow().unwrap()).as_micros() - la.start_of(spring).as_micros();
        assert_eq!(length, 23 * 3_600_000_000);
        assert_eq!(la.end_of(spring).as_micros() + 1, la.start_of(date("2026-03-09")).as_micros());
        // UTC, by name or by default.
        assert!(Zone::utc().is_utc() && Zone::parse(" UTC ").unwrap().is_utc() && Zone::default().is_utc());
        assert_eq!(Zone::utc().date_of(at("2026-06-30T23:30:00Z")), date("2026-06-30"));
        assert_eq!(Zone::parse("Asia/Seoul").unwrap(), seoul);
        for bad in ["", "Mars/Olympus", "KST+9", &"A".repeat(80)] {
            assert!(Zone::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Zone::parse("Seoul").unwrap_err().to_string(), "\"Seoul\" is not an IANA time zone such as Asia/Seoul");
    }
}
