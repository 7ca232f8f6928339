//! Pipewise's analytics core (SPEC C5, C6): pure arithmetic over a columnar projection of the
//! deals and their history.
//!
//! - [`projection`] owns the [`Projection`]: the deals' current state as struct-of-arrays columns
//!   plus per-deal compact event arrays, built from and kept current by
//!   [`pipewise_core::history::HistoryEvent`]s, and the rule that turns it into any past day
//!   ([`Projection::state_at`]).
//! - [`metrics`] owns the pipeline figures of C6: pipeline by stage, coverage, outcomes (win
//!   rate, cycle, deal size), velocity, conversion, time in stage, the waterfall and trends.
//! - [`health`] owns the flags and healthy signals of C5, their thresholds and the numbers
//!   behind each, and the next-lever recommendation.
//! - [`dashboard`] owns the leaderboard and the one-call org-wide page.
//!
//! Architecture invariant: no I/O, no clock, no randomness, no float for money, no words: a
//! figure, flag or recommendation leaves as a code with its numbers, and the edges word it in
//! the reader's language.
//! Time is an argument: every figure is computed "as of" a [`Day`] given by the caller and uses
//! only events stamped on or before the end of that day (UTC).
//! Money is in minor units of the reporting currency, in `i64` per deal and `i128` in sums.
//! Ratios are exact fractions ([`Ratio`]) and are rounded only when shown.

pub mod dashboard;
pub mod figures;
pub mod health;
pub mod listing;
pub mod metrics;
pub mod projection;

pub use dashboard::{Dashboard, DashboardQuery, LeaderboardRow, dashboard, leaderboard};
pub use figures::{Figure, Membership, WaterfallBucket};
pub use health::{FlagCode, HealthThresholds, Lever};
pub use listing::{DealGroup, ListFilter, TextFilter, Visible};
pub use projection::{ActivityFacts, Candidates, DealActivity, DealState, Projection, ProjectionError, SnapshotError};

use pipewise_core::fiscal::{FiscalCalendar, FiscalPeriod, PeriodKind};
use pipewise_core::{Date, Timestamp, Zone};
use rust_decimal::Decimal;

/// A calendar day of the organisation's time zone ([`Zone`]), counted from 1970-01-01 (day 0).
///
/// "As of day `d`" means at the end of that day there: every event with `at` on or before `d`
/// in the organisation's zone. Dates (close dates) are days as they are; instants (events,
/// activities, closing) fall on the day of their zone ([`day_of_timestamp`]).
pub type Day = i32;

/// The absent day (no close date, not closed, no activity).
pub const NO_DAY: Day = i32::MIN;

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// The day an instant falls on in `zone`.
pub fn day_of_timestamp(at: Timestamp, zone: &Zone) -> Day {
    if zone.is_utc() {
        return at.as_micros().div_euclid(MICROS_PER_DAY) as Day;
    }
    day_of_date(zone.date_of(at))
}

/// The last instant of `day` in `zone`: "as of `day`" reads everything up to here.
pub fn end_of_day(day: Day, zone: &Zone) -> Timestamp {
    zone.end_of(date_of_day(day))
}

/// The day number of a calendar date.
pub fn day_of_date(date: Date) -> Day {
    Timestamp::start_of_day(date).as_micros().div_euclid(MICROS_PER_DAY) as Day
}

/// The calendar date of a day number.
pub fn date_of_day(day: Day) -> Date {
    Timestamp::from_micros(i64::from(day) * MICROS_PER_DAY).date_utc()
}

/// Parses `YYYY-MM-DD` into a day; for tests and examples.
pub fn day(text: &str) -> Day {
    day_of_date(text.parse().expect("an ISO date"))
}

/// An inclusive range of days: a month, a quarter, a trailing window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub first: Day,
    pub last: Day,
}

impl Period {
    pub fn new(first: Day, last: Day) -> Period {
        Period { first, last }
    }

    #[inline(always)]
    pub fn contains(self, day: Day) -> bool {
        day >= self.first && day <= self.last
    }

    /// The calendar quarter that holds `day`: the fiscal quarter of a year that starts in
    /// January. The edges take the organisation's own calendar ([`Period::fiscal`]).
    pub fn quarter_of(day: Day) -> Period {
        Period::fiscal(FiscalCalendar::CALENDAR_YEAR, PeriodKind::Quarter, day)
    }

    /// The period of `kind` in `calendar` that holds `day`.
    pub fn fiscal(calendar: FiscalCalendar, kind: PeriodKind, day: Day) -> Period {
        Period::from(&calendar.period_of(kind, date_of_day(day)))
    }

    /// The `days` days that end with `last`, inclusive.
    pub fn trailing(last: Day, days: i32) -> Period {
        Period { first: last - days + 1, last }
    }
}

impl From<&FiscalPeriod> for Period {
    fn from(period: &FiscalPeriod) -> Period {
        Period { first: day_of_date(period.first), last: day_of_date(period.last) }
    }
}

/// An exact fraction `numerator / denominator`, denominator positive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ratio {
    pub numerator: i128,
    pub denominator: i128,
}

impl Ratio {
    /// `None` when the denominator is zero (the figure is undefined, not zero).
    pub fn new(numerator: i128, denominator: i128) -> Option<Ratio> {
        match denominator {
            0 => None,
            d if d < 0 => Some(Ratio { numerator: -numerator, denominator: -d }),
            _ => Some(Ratio { numerator, denominator }),
        }
    }

    /// The value rounded half to even to `places` decimal places.
    pub fn round(self, places: u32) -> Decimal {
        let scaled = div_round_half_even(self.numerator * 10_i128.pow(places), self.denominator);
        Decimal::from_i128_with_scale(scaled, places)
    }

    /// The value in percent, rounded half to even to `places` decimal places.
    pub fn percent(self, places: u32) -> Decimal {
        Ratio { numerator: self.numerator * 100, denominator: self.denominator }.round(places)
    }

    /// For charts only; never for money.
    pub fn to_f64(self) -> f64 {
        self.numerator as f64 / self.denominator as f64
    }

    /// Whether `self >= numerator / denominator` (denominator positive), exactly.
    pub fn at_least(self, numerator: i128, denominator: i128) -> bool {
        self.numerator * denominator >= numerator * self.denominator
    }
}

/// `numerator / denominator` rounded half to even; `denominator` must be positive.
pub fn div_round_half_even(numerator: i128, denominator: i128) -> i128 {
    debug_assert!(denominator > 0);
    let quotient = numerator.div_euclid(denominator);
    let twice_remainder = 2 * numerator.rem_euclid(denominator);
    match twice_remainder.cmp(&denominator) {
        std::cmp::Ordering::Greater => quotient + 1,
        std::cmp::Ordering::Equal => quotient + (quotient & 1),
        std::cmp::Ordering::Less => quotient,
    }
}

/// Whose deals a figure covers: every owner, or a set of owner indexes (a team, a rep), and
/// optionally one pipeline. Ownership and pipeline are taken as of the figure's day.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scope {
    /// `None` for everyone; otherwise a bit per owner index.
    owners: Option<Vec<u64>>,
    pub pipeline: Option<u16>,
}

impl Scope {
    /// The whole organisation.
    pub fn org() -> Scope {
        Scope::default()
    }

    /// The deals of these owner indexes.
    pub fn owners(owners: impl IntoIterator<Item = u32>) -> Scope {
        let mut bits = Vec::new();
        for owner in owners {
            let word = owner as usize / 64;
            if bits.len() <= word {
                bits.resize(word + 1, 0);
            }
            bits[word] |= 1 << (owner % 64);
        }
        Scope { owners: Some(bits), pipeline: None }
    }

    /// Restricts to one pipeline (its index in the projection).
    pub fn in_pipeline(mut self, pipeline: u16) -> Scope {
        self.pipeline = Some(pipeline);
        self
    }

    #[inline(always)]
    pub fn admits_owner(&self, owner: u32) -> bool {
        match &self.owners {
            None => true,
            Some(bits) => bits.get(owner as usize / 64).is_some_and(|word| word >> (owner % 64) & 1 == 1),
        }
    }
}

/// Positions per stripe of [`fold_deals`].
const STRIPE: usize = 4096;

/// Folds the `candidates` on `threads` threads with `body` (called with each deal index once):
/// the positions are cut into stripes of [`STRIPE`] dealt round-robin to the threads, so the
/// costly open deals at the front are shared evenly, and the partial results are merged in
/// thread order (every figure's sums are exact integers, so the result never depends on
/// scheduling).
pub fn fold_deals<A: Send>(
    candidates: &Candidates,
    threads: usize,
    init: impl Fn() -> A + Sync,
    body: impl Fn(&mut A, usize) + Sync,
    merge: impl Fn(&mut A, A),
) -> A {
    let n = candidates.len();
    let threads = threads.max(1);
    if threads == 1 || n < 20_000 {
        let mut acc = init();
        candidates.for_each_in(0..n, |deal| body(&mut acc, deal as usize));
        return acc;
    }
    let run = |part: usize| {
        let mut acc = init();
        let mut start = part * STRIPE;
        while start < n {
            candidates.for_each_in(start..(start + STRIPE).min(n), |deal| body(&mut acc, deal as usize));
            start += threads * STRIPE;
        }
        acc
    };
    std::thread::scope(|scope| {
        let run = &run;
        let handles: Vec<_> = (1..threads).map(|part| scope.spawn(move || run(part))).collect();
        let mut acc = run(0);
        for handle in handles {
            merge(&mut acc, handle.join().expect("an analytics worker does not panic"));
        }
        acc
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_quarters() {
        assert_eq!(day("1970-01-01"), 0);
        assert_eq!(day("2026-01-01"), 20454);
        assert_eq!(date_of_day(20454).to_string(), "2026-01-01");
        let q = Period::quarter_of(day("2026-05-17"));
        assert_eq!((date_of_day(q.first).to_string(), date_of_day(q.last).to_string()), ("2026-04-01".into(), "2026-06-30".into()));
        let q4 = Period::quarter_of(day("2026-12-31"));
        assert_eq!(date_of_day(q4.last).to_string(), "2026-12-31");
    }

    #[test]
    fn rounding_is_half_to_even() {
        assert_eq!(div_round_half_even(5, 2), 2);
        assert_eq!(div_round_half_even(7, 2), 4);
        assert_eq!(div_round_half_even(-5, 2), -2);
        assert_eq!(div_round_half_even(-7, 2), -4);
        assert_eq!(div_round_half_even(10, 3), 3);
        assert_eq!(Ratio::new(4238, 6711).unwrap().percent(2).to_string(), "63.15");
        assert_eq!(Ratio::new(1, 0), None);
    }

    #[test]
    fn scopes() {
        let scope = Scope::owners([1, 64, 130]);
        assert!(scope.admits_owner(1) && scope.admits_owner(64) && scope.admits_owner(130));
        assert!(!scope.admits_owner(0) && !scope.admits_owner(65) && !scope.admits_owner(10_000));
        assert!(Scope::org().admits_owner(7));
    }
}
