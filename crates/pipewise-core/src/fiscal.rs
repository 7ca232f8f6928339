//! The organisation's fiscal calendar: years, quarters, months and weeks counted from a
//! configurable first month, over the organisation's own days (see [`crate::time::Zone`]).
//!
//! Conventions, written down:
//! - a fiscal year is named by the calendar year it ends in: with a February start, FY2027 runs
//!   from 1 February 2026 to 31 January 2027 (with a January start it is the calendar year);
//! - quarters and months are numbered from the fiscal year's first month (Q1, M1);
//! - weeks run Monday to Sunday and belong to the fiscal year holding their Thursday, so week 1
//!   is the week of the fiscal year's first Thursday (ISO 8601's rule, from the fiscal start).
//!
//! Period keys, used in addresses and files: `2027`, `2027-Q1`, `2027-M03`, `2027-W05`.

use std::fmt;

use jiff::ToSpan;

use crate::error::Problem;
use crate::time::Date;

/// Which kind of period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PeriodKind {
    Year,
    Quarter,
    Month,
    Week,
}

impl PeriodKind {
    pub const ALL: [PeriodKind; 4] = [PeriodKind::Year, PeriodKind::Quarter, PeriodKind::Month, PeriodKind::Week];

    pub fn code(self) -> &'static str {
        match self {
            PeriodKind::Year => "year",
            PeriodKind::Quarter => "quarter",
            PeriodKind::Month => "month",
            PeriodKind::Week => "week",
        }
    }

    pub fn from_code(code: &str) -> Result<PeriodKind, Problem> {
        PeriodKind::ALL
            .into_iter()
            .find(|kind| kind.code() == code)
            .ok_or_else(|| Problem::Invalid { value: code.to_owned(), expected: "year, quarter, month or week" })
    }
}

/// One fiscal period: its kind, fiscal year, number inside the year and its first and last day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FiscalPeriod {
    pub kind: PeriodKind,
    pub year: i16,
    /// 1-based: the quarter, month or week of the fiscal year; 1 for the year itself.
    pub number: u8,
    pub first: Date,
    pub last: Date,
}

impl FiscalPeriod {
    pub fn contains(&self, date: Date) -> bool {
        date >= self.first && date <= self.last
    }

    /// The period's days, both ends included.
    pub fn days(&self) -> i32 {
        self.first.until(self.last).map_or(0, |span| span.get_days()) + 1
    }

    /// `2027`, `2027-Q1`, `2027-M03` or `2027-W05`.
    pub fn key(&self) -> String {
        match self.kind {
            PeriodKind::Year => format!("{}", self.year),
            PeriodKind::Quarter => format!("{}-Q{}", self.year, self.number),
            PeriodKind::Month => format!("{}-M{:02}", self.year, self.number),
            PeriodKind::Week => format!("{}-W{:02}", self.year, self.number),
        }
    }
}

impl fmt::Display for FiscalPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

/// A fiscal calendar: the month its years start in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FiscalCalendar {
    start_month: i8,
}

impl Default for FiscalCalendar {
    fn default() -> FiscalCalendar {
        FiscalCalendar::CALENDAR_YEAR
    }
}

/// Years a fiscal period may fall in, like dates elsewhere in the product.
const YEARS: std::ops::RangeInclusive<i16> = 1900..=2200;

impl FiscalCalendar {
    /// Years from January: fiscal quarters are calendar quarters.
    pub const CALENDAR_YEAR: FiscalCalendar = FiscalCalendar { start_month: 1 };

    /// A calendar whose years start in `start_month` (1 is January).
    pub fn new(start_month: u8) -> Result<FiscalCalendar, Problem> {
        if !(1..=12).contains(&start_month) {
            return Err(Problem::OutOfRange { value: start_month.to_string(), range: "1 to 12" });
        }
        Ok(FiscalCalendar { start_month: start_month as i8 })
    }

    pub fn start_month(self) -> u8 {
        self.start_month as u8
    }

    /// The fiscal year `date` falls in.
    pub fn year_of(self, date: Date) -> i16 {
        if self.start_month > 1 && date.month() >= self.start_month { date.year() + 1 } else { date.year() }
    }

    /// The first day of fiscal year `year`.
    fn year_start(self, year: i16) -> Date {
        let calendar_year = if self.start_month > 1 { year - 1 } else { year };
        Date::new(calendar_year, self.start_month, 1).unwrap_or(Date::MIN)
    }

    /// The period of `kind` that holds `date`.
    pub fn period_of(self, kind: PeriodKind, date: Date) -> FiscalPeriod {
        let year = self.year_of(date);
        let month_in_year = (date.month() - self.start_month).rem_euclid(12);
        let (number, months) = match kind {
            PeriodKind::Year => (1, 12),
            PeriodKind::Quarter => (month_in_year / 3 + 1, 3),
            PeriodKind::Month => (month_in_year + 1, 1),
            PeriodKind::Week => return self.week_of(date),
        };
        let first_month = match kind {
            PeriodKind::Year => 0,
            PeriodKind::Quarter => (number - 1) * 3,
            _ => month_in_year,
        };
        let first = self.year_start(year).checked_add(i64::from(first_month).months()).unwrap_or(Date::MAX);
        let last = first.checked_add(i64::from(months).months()).and_then(|next| next.yesterday()).unwrap_or(Date::MAX);
        FiscalPeriod { kind, year, number: number as u8, first, last }
    }

    /// Monday to Sunday, in the fiscal year holding its Thursday.
    fn week_of(self, date: Date) -> FiscalPeriod {
        let monday = date.checked_sub(i64::from(date.weekday().to_monday_zero_offset()).days()).unwrap_or(Date::MIN);
        let thursday = monday.checked_add(3.days()).unwrap_or(Date::MAX);
        let year = self.year_of(thursday);
        let start = self.year_start(year);
        // The first Thursday on or after the fiscal year's first day, and its Monday.
        let to_thursday = (3 - i64::from(start.weekday().to_monday_zero_offset())).rem_euclid(7);
        let week_one = start.checked_add(to_thursday.days()).and_then(|day| day.checked_sub(3.days())).unwrap_or(Date::MIN);
        let weeks = week_one.until(monday).map_or(0, |span| span.get_days()) / 7;
        let last = monday.checked_add(6.days()).unwrap_or(Date::MAX);
        FiscalPeriod { kind: PeriodKind::Week, year, number: (weeks + 1) as u8, first: monday, last }
    }

    /// The period after `period`.
    pub fn next(self, period: &FiscalPeriod) -> FiscalPeriod {
        self.period_of(period.kind, period.last.tomorrow().unwrap_or(period.last))
    }

    /// The period before `period`.
    pub fn previous(self, period: &FiscalPeriod) -> FiscalPeriod {
        self.period_of(period.kind, period.first.yesterday().unwrap_or(period.first))
    }

    /// The periods of `kind` inside `outer` (the quarters of a year, the months of a quarter),
    /// in order; weeks are those whose Monday falls inside.
    pub fn periods_in(self, kind: PeriodKind, outer: &FiscalPeriod) -> Vec<FiscalPeriod> {
        let mut periods = Vec::new();
        let mut period = self.period_of(kind, outer.first);
        if period.first < outer.first {
            period = self.next(&period);
        }
        while outer.contains(period.first) {
            periods.push(period);
            period = self.next(&period);
        }
        periods
    }

    /// The period a key such as `2027-Q1` names, in years 1900 to 2200.
    pub fn parse_key(self, raw: &str) -> Result<FiscalPeriod, Problem> {
        let invalid =
            || Problem::Invalid { value: raw.to_owned(), expected: "a fiscal period such as 2027, 2027-Q1, 2027-M03 or 2027-W05" };
        let key = raw.trim();
        let (year_text, rest) = key.split_once('-').map_or((key, None), |(year, rest)| (year, Some(rest)));
        if year_text.len() != 4 || !year_text.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(invalid());
        }
        let year: i16 = year_text.parse().map_err(|_| invalid())?;
        if !YEARS.contains(&year) {
            return Err(invalid());
        }
        let whole_year = self.period_of(PeriodKind::Year, self.year_start(year));
        let Some(rest) = rest else { return Ok(whole_year) };
        let (kind, count) = match rest.as_bytes().first() {
            Some(b'Q') => (PeriodKind::Quarter, 4),
            Some(b'M') => (PeriodKind::Month, 12),
            Some(b'W') => (PeriodKind::Week, 53),
            _ => return Err(invalid()),
        };
        let digits = &rest[1..];
        if digits.is_empty() || digits.len() > 2 || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(invalid());
        }
        let number: u8 = digits.parse().map_err(|_| invalid())?;
        if number == 0 || number > count {
            return Err(invalid());
        }
        let found = match kind {
            PeriodKind::Week => {
                let first_week = self.week_of(self.year_start(year).checked_add(3.days()).unwrap_or(Date::MAX));
                let first_week = if first_week.year == year { first_week } else { self.next(&first_week) };
                self.week_of(first_week.first.checked_add((i64::from(number) - 1).weeks()).unwrap_or(Date::MAX))
            }
            _ => self.periods_in(kind, &whole_year).get(usize::from(number) - 1).copied().ok_or_else(invalid)?,
        };
        if found.year != year || found.number != number {
            return Err(invalid());
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn date(text: &str) -> Date {
        text.parse().expect("an ISO date")
    }

    fn span(period: FiscalPeriod) -> String {
        format!("{} {}..{}", period.key(), period.first, period.last)
    }

    #[test]
    fn a_february_year_is_named_by_the_year_it_ends_in() {
        let february = FiscalCalendar::new(2).unwrap();
        let day = date("2026-12-06");
        assert_eq!(span(february.period_of(PeriodKind::Year, day)), "2027 2026-02-01..2027-01-31");
        assert_eq!(span(february.period_of(PeriodKind::Quarter, day)), "2027-Q4 2026-11-01..2027-01-31");
        assert_eq!(span(february.period_of(PeriodKind::Month, day)), "2027-M11 2026-12-01..2026-12-31");
        assert_eq!(span(february.period_of(PeriodKind::Quarter, date("2026-01-31"))), "2026-Q4 2025-11-01..2026-01-31");
        // A leap February closes the year's first month on the 29th.
        assert_eq!(span(february.period_of(PeriodKind::Month, date("2028-02-10"))), "2029-M01 2028-02-01..2028-02-29");
    }

    #[test]
    fn the_calendar_year_gives_calendar_quarters_and_iso_weeks() {
        let calendar = FiscalCalendar::CALENDAR_YEAR;
        assert_eq!(span(calendar.period_of(PeriodKind::Quarter, date("2026-07-01"))), "2026-Q3 2026-07-01..2026-09-30");
        // ISO: 2026-01-01 is a Thursday, so week 1 is 29 Dec 2025 to 4 Jan 2026; 2027-01-01 is a
        // Friday, so it belongs to 2026's week 53.
        assert_eq!(span(calendar.period_of(PeriodKind::Week, date("2026-01-01"))), "2026-W01 2025-12-29..2026-01-04");
        assert_eq!(span(calendar.period_of(PeriodKind::Week, date("2027-01-01"))), "2026-W53 2026-12-28..2027-01-03");
        assert_eq!(span(calendar.period_of(PeriodKind::Week, date("2026-12-06"))), "2026-W49 2026-11-30..2026-12-06");
    }

    #[test]
    fn keys_round_trip_and_bad_ones_say_what_is_expected() {
        let april = FiscalCalendar::new(4).unwrap();
        assert_eq!(span(april.parse_key("2027-Q1").unwrap()), "2027-Q1 2026-04-01..2026-06-30");
        assert_eq!(span(april.parse_key("2027").unwrap()), "2027 2026-04-01..2027-03-31");
        assert_eq!(span(april.parse_key("2027-M12").unwrap()), "2027-M12 2027-03-01..2027-03-31");
        for bad in ["27-Q1", "2027-Q5", "2027-Q0", "2027-M13", "2027-W54", "9999-Q1", "2027-X1", "2027-Q", "2027-Q1x"] {
            let error = april.parse_key(bad).unwrap_err();
            assert!(error.to_string().contains("a fiscal period such as 2027"), "{bad}: {error}");
        }
        assert_eq!(FiscalCalendar::new(13).unwrap_err().to_string(), "13 is out of range (1 to 12)");
        let months = april.periods_in(PeriodKind::Month, &april.parse_key("2027-Q2").unwrap());
        assert_eq!(months.iter().map(FiscalPeriod::key).collect::<Vec<_>>(), ["2027-M04", "2027-M05", "2027-M06"]);
    }

    proptest! {
        #[test]
        fn every_day_is_in_exactly_one_period_of_each_kind_and_periods_tile(
            start in 1_u8..=12,
            days in 0_i64..100_000,
            kind in prop_oneof![Just(PeriodKind::Year), Just(PeriodKind::Quarter), Just(PeriodKind::Month), Just(PeriodKind::Week)],
        ) {
            let calendar = FiscalCalendar::new(start).unwrap();
            let day = date("1901-01-01").checked_add(days.days()).unwrap();
            let period = calendar.period_of(kind, day);
            prop_assert!(period.contains(day));
            let next = calendar.next(&period);
            prop_assert_eq!(next.first, period.last.tomorrow().unwrap());
            prop_assert_eq!(calendar.previous(&next), period);
            prop_assert_eq!(calendar.parse_key(&period.key()), Ok(period));
            let year = calendar.period_of(PeriodKind::Year, day);
            if kind == PeriodKind::Quarter || kind == PeriodKind::Month {
                prop_assert!(year.contains(period.first) && year.contains(period.last));
            }
            prop_assert!((1..=53).contains(&period.number));
        }
    }
}
