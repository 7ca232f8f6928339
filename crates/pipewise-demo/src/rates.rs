//! The exchange rates stored with the demo: the vendored ECB reference rates (base EUR) for the
//! currencies deals use.
//!
//! The vendored rates end on a fixed date, while the demo's "today" is whatever the caller
//! says. When the demo's period is not inside the vendored one, the whole series is moved by
//! the fewest whole weeks that make it cover the period, so weekends stay weekends and every
//! number is a real ECB fixing, only on a different date. The shift is reported in the summary.

use pipewise_core::fx::RateTable;
use pipewise_core::money::{Currency, Decimal};
use pipewise_core::{Date, Timestamp};

use crate::clock::{date_of_day, day_of, day_of_date};
use crate::data;

/// Rates start this many days before the period, so its first days have a recent fixing.
const LEAD_IN_DAYS: i64 = 14;

pub struct DemoRates {
    /// `(currency, date, units per euro)`, oldest first, as stored.
    pub rows: Vec<(Currency, Date, Decimal)>,
    /// The same rates, for pricing deals.
    pub table: RateTable,
    /// Days the series was moved by: 0 when the vendored dates cover the period.
    pub shifted_days: i64,
}

/// Rates for the period from `start` to `now`.
pub fn demo_rates(start: Timestamp, now: Timestamp) -> DemoRates {
    let days = data::ecb_rates();
    let (first, last) = match (days.first(), days.last()) {
        (Some(first), Some(last)) => (day_of_date(first.date), day_of_date(last.date)),
        _ => return DemoRates { rows: Vec::new(), table: RateTable::new(Currency::EUR), shifted_days: 0 },
    };
    let shifted_days = week_shift(day_of(start) - LEAD_IN_DAYS, day_of(now), first, last);
    let from = day_of(start) - LEAD_IN_DAYS;
    let to = day_of(now);
    let mut rows = Vec::new();
    let mut table = RateTable::new(Currency::EUR);
    for day in &days {
        let shifted = day_of_date(day.date) + shifted_days;
        if shifted < from || shifted > to {
            continue;
        }
        let date = if shifted_days == 0 { day.date } else { date_of_day(shifted) };
        for &(currency, rate) in &day.rates {
            rows.push((currency, date, rate));
            table.insert(currency, date, rate);
        }
    }
    DemoRates { rows, table, shifted_days }
}

/// The shift, in whole weeks, that makes `[first, last]` cover `[from, to]`: none when it does
/// already; covering `to` matters more when the period is longer than the data.
fn week_shift(from: i64, to: i64, first: i64, last: i64) -> i64 {
    if to > last {
        7 * weeks_up(to - last)
    } else if from < first {
        let back = 7 * weeks_up(first - from);
        // Do not move the end of the data before `to`.
        if last - back >= to { -back } else { -(7 * ((last - to) / 7)) }
    } else {
        0
    }
}

/// Whole weeks covering `days > 0`.
fn weeks_up(days: i64) -> i64 {
    (days + 6) / 7
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn inside_the_data_nothing_moves() {
        let rates = demo_rates(at("2025-03-01T00:00:00Z"), at("2026-09-01T00:00:00Z"));
        assert_eq!(rates.shifted_days, 0);
        assert_eq!(rates.table.rate(Currency::USD, "2026-08-31".parse().unwrap()).unwrap().to_string(), "1.1596");
        assert!(rates.rows.iter().all(|(_, date, _)| date.to_string().as_str() >= "2025-02-15"));
        assert_eq!(rates.rows.len() % 4, 0);
    }

    #[test]
    fn a_later_today_moves_the_series_by_whole_weeks() {
        let now = at("2026-11-22T12:00:00Z");
        let rates = demo_rates(at("2025-05-22T00:00:00Z"), now);
        // The data ends on Friday 2026-10-30; 23 days later needs four weeks.
        assert_eq!(rates.shifted_days, 28);
        let last = rates.rows.last().unwrap().1;
        // Friday 2026-10-23 + 28 days; the fixing of 2026-10-30 lands after today and is left out.
        assert_eq!(last.to_string(), "2026-11-20");
        assert_eq!(crate::clock::weekday(day_of_date(last)), 4, "still a Friday");
        // Every day of the period converts.
        for day in day_of(at("2025-05-22T00:00:00Z"))..=day_of(now) {
            assert!(rates.table.rate(Currency::KRW, date_of_day(day)).is_ok(), "{}", date_of_day(day));
        }
        let far = demo_rates(at("2029-01-01T00:00:00Z"), at("2030-06-01T00:00:00Z"));
        assert!(far.rows.len() > 1000 && far.shifted_days % 7 == 0);
        let early = demo_rates(at("2022-01-01T00:00:00Z"), at("2023-06-01T00:00:00Z"));
        assert!(early.shifted_days < 0 && early.shifted_days % 7 == 0);
        assert!(early.table.rate(Currency::USD, "2022-01-03".parse().unwrap()).is_ok());
    }

    #[test]
    fn week_shift_prefers_covering_today() {
        assert_eq!(week_shift(10, 20, 0, 30), 0);
        assert_eq!(week_shift(10, 32, 0, 30), 7);
        assert_eq!(week_shift(-5, 20, 0, 30), -7);
        // Longer than the data: cover the end.
        assert_eq!(week_shift(-100, 20, 0, 30), -7);
    }
}
