//! Quotas and attainment: a period's quota prorated for a mid-period start or leave, ramped for a
//! new rep's first months, and attainment as an exact fraction.

use pipewise_core::Date;
use pipewise_core::fiscal::PeriodKind;
use rust_decimal::Decimal;

/// A quota as set: the kind and days of its period and its amount.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuotaSpan {
    pub kind: PeriodKind,
    pub first: Date,
    pub last: Date,
    pub amount: Decimal,
}

/// The quota for exactly the days `first..=last`: the one set for those days, else the sum of
/// the quotas of one finer kind that tile them without a gap (a quarter from its three months,
/// a year from its quarters), trying the longest kind first; else `None`. A quota is never
/// guessed by prorating a longer one: a month of a yearly quota is a question of seasonality
/// that only the person who set it can answer.
pub fn quota_for(first: Date, last: Date, quotas: &[QuotaSpan]) -> Option<Decimal> {
    PeriodKind::ALL.into_iter().find_map(|kind| {
        let mut inside: Vec<&QuotaSpan> =
            quotas.iter().filter(|quota| quota.kind == kind && quota.first >= first && quota.last <= last).collect();
        inside.sort_by_key(|quota| quota.first);
        let mut next = first;
        let mut sum = Decimal::ZERO;
        for quota in inside {
            if quota.first != next {
                return None;
            }
            sum = sum.checked_add(quota.amount)?;
            next = quota.last.tomorrow().ok()?;
        }
        (next.yesterday().ok()? == last).then_some(sum)
    })
}

/// Credited bookings against a quota.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attainment {
    pub bookings: Decimal,
    pub quota: Decimal,
}

impl Attainment {
    /// The fraction reached (1.0 is 100%), or `None` without a positive quota: attainment against
    /// no quota is undefined, not zero and not infinite.
    pub fn fraction(self) -> Option<Decimal> {
        if self.quota <= Decimal::ZERO { None } else { self.bookings.checked_div(self.quota) }
    }

    pub fn at_quota(self) -> bool {
        self.fraction().is_some_and(|fraction| fraction >= Decimal::ONE)
    }
}

/// Attainment of `bookings` against `quota`.
pub fn attainment(bookings: Decimal, quota: Decimal) -> Attainment {
    Attainment { bookings, quota }
}

/// `quota` for the days of `first..=last` that the person was active (`active_from..=active_to`,
/// either end open): a rep who starts on day 31 of a 90-day quarter carries 60/90 of it.
pub fn prorate(quota: Decimal, first: Date, last: Date, active_from: Option<Date>, active_to: Option<Date>) -> Decimal {
    let period_days = days_between(first, last);
    let from = active_from.map_or(first, |day| day.max(first));
    let to = active_to.map_or(last, |day| day.min(last));
    if period_days <= 0 || to < from {
        return Decimal::ZERO;
    }
    let active_days = days_between(from, to);
    if active_days == period_days {
        return quota;
    }
    quota * Decimal::from(active_days) / Decimal::from(period_days)
}

/// `quota` scaled by a ramp: `steps[n]` is the fraction carried in the rep's month `n + 1` of
/// tenure, full quota after the last step.
pub fn ramp(quota: Decimal, steps: &[Decimal], tenure_month: u32) -> Decimal {
    match tenure_month.checked_sub(1).and_then(|index| steps.get(index as usize)) {
        Some(fraction) => quota * *fraction,
        None => quota,
    }
}

/// `quota` for the days of `first..=last` a person carried it: the days inside their plan
/// spans (`(from, to)`, an open end as `None`; no spans at all: every day), each day weighted by
/// `ramp`'s fraction for the month of tenure it falls in (tenure counted from `started`; month
/// one is `started` up to the same day of the next month, the whole quota after the last step).
/// Days are weighed first and divided once, so spans that tile the period with no ramp give the
/// quota exactly. A quarter quota of 90,000 (90 days) for a rep who started on its first day under
/// a ramp of 25% / 50% / 75%, months of 31, 28 and 31 days: 90,000 × (31×0.25 + 28×0.5 +
/// 31×0.75) / 90 = 45,000.
pub fn carried(
    quota: Decimal,
    first: Date,
    last: Date,
    spans: &[(Date, Option<Date>)],
    ramp: &[Decimal],
    started: Option<Date>,
) -> Decimal {
    let period_days = days_between(first, last);
    if period_days <= 0 {
        return Decimal::ZERO;
    }
    // The spans clipped to the period and merged, so a day two spans cover counts once.
    let mut clipped: Vec<(Date, Date)> = if spans.is_empty() {
        vec![(first, last)]
    } else {
        spans.iter().map(|(from, to)| ((*from).max(first), to.map_or(last, |to| to.min(last)))).filter(|(from, to)| from <= to).collect()
    };
    clipped.sort();
    let mut merged: Vec<(Date, Date)> = Vec::with_capacity(clipped.len());
    for (from, to) in clipped {
        match merged.last_mut() {
            Some((_, end)) if from <= end.tomorrow().unwrap_or(*end) => *end = (*end).max(to),
            _ => merged.push((from, to)),
        }
    }
    let mut weighed = Decimal::ZERO;
    for (from, to) in merged {
        let mut day = from;
        while day <= to {
            let (fraction, segment_last) = ramp_step(day, ramp, started);
            let end = segment_last.map_or(to, |segment_last| segment_last.min(to));
            weighed += fraction * Decimal::from(days_between(day, end));
            match end.tomorrow() {
                Ok(next) => day = next,
                Err(_) => break,
            }
        }
    }
    if weighed == Decimal::from(period_days) { quota } else { quota * weighed / Decimal::from(period_days) }
}

/// The ramp's fraction on `day` and the last day it holds (`None`: from then on).
fn ramp_step(day: Date, ramp: &[Decimal], started: Option<Date>) -> (Decimal, Option<Date>) {
    let Some(started) = started.filter(|started| !ramp.is_empty() && day >= *started) else { return (Decimal::ONE, None) };
    // Month `k` (from 0) of tenure runs from `started` + k months to the day before + k + 1.
    let mut month = 0;
    while month < ramp.len() {
        let Some(next) = months_after(started, month + 1) else { return (Decimal::ONE, None) };
        if day < next {
            return (ramp[month], next.yesterday().ok());
        }
        month += 1;
    }
    (Decimal::ONE, None)
}

/// `date` plus `months`, the day clamped to the month's length (31 January + 1 month is 28 or 29
/// February).
fn months_after(date: Date, months: usize) -> Option<Date> {
    let index = i64::from(date.year()) * 12 + i64::from(date.month()) - 1 + i64::try_from(months).ok()?;
    let year = i16::try_from(index.div_euclid(12)).ok()?;
    let month = i8::try_from(index.rem_euclid(12) + 1).ok()?;
    let first = Date::new(year, month, 1).ok()?;
    Date::new(year, month, date.day().min(first.days_in_month())).ok()
}

/// Days in `first..=last`.
fn days_between(first: Date, last: Date) -> i64 {
    i64::from(first.until(last).map_or(0, |span| span.get_days())) + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().expect("a decimal")
    }

    #[test]
    fn a_ramp_weighs_each_day_by_its_month_of_tenure() {
        let (first, last) = (Date::constant(2026, 1, 1), Date::constant(2026, 3, 31));
        let steps = [d("0.25"), d("0.5"), d("0.75")];
        let started = Some(first);
        let all = [(first, None)];
        // The doc's case: (31×0.25 + 28×0.5 + 31×0.75) / 90 × 90,000 = 7.75 + 14 + 23.25 = 45 days.
        assert_eq!(carried(d("90000"), first, last, &all, &steps, started), d("45000"));
        // No ramp, no spans: the whole quota, exactly.
        assert_eq!(carried(d("90000"), first, last, &[], &[], None), d("90000"));
        // A start on 31 January (the plan's span and tenure): month one runs to 27 February
        // (31 January + 1 month is 28 February, clamped), month two to 30 March.
        let started = Date::constant(2026, 1, 31);
        // Month 1: 31 Jan – 27 Feb (28 days) at 0.25; month 2: 28 Feb – 30 Mar (31 days) at 0.5;
        // month 3 from 31 Mar: 1 day at 0.75. 7 + 15.5 + 0.75 = 23.25 days of 90.
        let spans = [(started, None)];
        assert_eq!(carried(d("90000"), first, last, &spans, &steps, Some(started)), d("23250"));
        // Tenure older than the ramp: the days on the plan alone (a leave on 1 March: 59 days).
        let spans = [(Date::constant(2025, 1, 1), Some(Date::constant(2026, 2, 28)))];
        assert_eq!(carried(d("90000"), first, last, &spans, &steps, Some(Date::constant(2025, 1, 1))), d("59000"));
        // Two spans that tile the period with no ramp: exactly the whole.
        let spans = [(first, Some(Date::constant(2026, 2, 10))), (Date::constant(2026, 2, 11), None)];
        assert_eq!(carried(d("100000"), first, last, &spans, &[], None), d("100000"));
        // Overlapping spans (a new plan from 1 February beside the old open-ended one): each day
        // once, the whole quota, not more.
        let spans = [(Date::constant(2025, 1, 1), None), (Date::constant(2026, 2, 1), None)];
        assert_eq!(carried(d("90000"), first, last, &spans, &[], None), d("90000"));
        // Overlapping with a gap: 1-31 January and 15 January-10 February, then none: 41 days.
        let spans = [(first, Some(Date::constant(2026, 1, 31))), (Date::constant(2026, 1, 15), Some(Date::constant(2026, 2, 10)))];
        assert_eq!(carried(d("90000"), first, last, &spans, &[], None), d("41000"));
        assert_eq!(months_after(Date::constant(2024, 1, 31), 1), Some(Date::constant(2024, 2, 29)));
        assert_eq!(months_after(Date::constant(2025, 11, 15), 3), Some(Date::constant(2026, 2, 15)));
    }

    #[test]
    fn a_mid_quarter_start_carries_the_days_worked() {
        let (first, last) = (Date::constant(2026, 1, 1), Date::constant(2026, 3, 31));
        // Q1 2026 has 90 days; a start on 31 January leaves 1 + 28 + 31 = 60 of them.
        let quota = prorate(d("90000"), first, last, Some(Date::constant(2026, 1, 31)), None);
        assert_eq!(quota, d("60000"));
        assert_eq!(prorate(d("90000"), first, last, None, None), d("90000"));
        assert_eq!(prorate(d("90000"), first, last, Some(Date::constant(2026, 4, 1)), None), d("0"));
        // Left on 9 January: 9 days of 90.
        assert_eq!(prorate(d("90000"), first, last, None, Some(Date::constant(2026, 1, 9))), d("9000"));
    }

    #[test]
    fn a_period_takes_its_own_quota_else_the_finer_ones_that_tile_it() {
        let span = |kind, first: (i16, i8, i8), last: (i16, i8, i8), amount: &str| QuotaSpan {
            kind,
            first: Date::constant(first.0, first.1, first.2),
            last: Date::constant(last.0, last.1, last.2),
            amount: d(amount),
        };
        let months = [
            span(PeriodKind::Month, (2026, 1, 1), (2026, 1, 31), "10000"),
            span(PeriodKind::Month, (2026, 2, 1), (2026, 2, 28), "20000"),
            span(PeriodKind::Month, (2026, 3, 1), (2026, 3, 31), "30000"),
        ];
        let q1 = (Date::constant(2026, 1, 1), Date::constant(2026, 3, 31));
        assert_eq!(quota_for(q1.0, q1.1, &months), Some(d("60000")));
        // A quarter's own quota comes before its months'.
        let mut both = months.to_vec();
        both.push(span(PeriodKind::Quarter, (2026, 1, 1), (2026, 3, 31), "55000"));
        assert_eq!(quota_for(q1.0, q1.1, &both), Some(d("55000")));
        // A gap is no quota, and a year's quota is not prorated into a month.
        assert_eq!(quota_for(q1.0, q1.1, &[months[0], months[2]]), None);
        let year = [span(PeriodKind::Year, (2026, 1, 1), (2026, 12, 31), "400000")];
        assert_eq!(quota_for(Date::constant(2026, 1, 1), Date::constant(2026, 1, 31), &year), None);
        assert_eq!(quota_for(Date::constant(2026, 1, 1), Date::constant(2026, 12, 31), &year), Some(d("400000")));
        assert_eq!(quota_for(q1.0, q1.1, &[]), None);
    }

    #[test]
    fn a_ramp_scales_the_first_months_and_attainment_needs_a_quota() {
        let steps = [d("0.25"), d("0.5"), d("0.75")];
        assert_eq!(ramp(d("40000"), &steps, 2), d("20000"));
        assert_eq!(ramp(d("40000"), &steps, 4), d("40000"));
        assert_eq!(attainment(d("99000"), d("100000")).fraction(), Some(d("0.99")));
        assert!(attainment(d("100000"), d("100000")).at_quota());
        assert_eq!(attainment(d("5"), d("0")).fraction(), None);
    }
}

/// `total` shared over periods in proportion to seasonality `weights` (any non-negative numbers,
/// not all zero: `[2, 3, 3, 4]` for a year that builds to Q4), exact to `currency`'s minor unit:
/// the parts add up to `total` by largest remainder, ties to the earlier period.
pub fn seasonal(total: Decimal, weights: &[Decimal], currency: pipewise_core::Currency) -> Result<Vec<Decimal>, crate::CompError> {
    let rule = || String::from("seasonality");
    if let Some(weight) = weights.iter().find(|weight| weight.is_sign_negative()) {
        return Err(crate::CompError::Negative { rule: rule(), field: "weight", value: *weight });
    }
    // Weights too large to add up are refused like weights that add up to nothing.
    let Some(sum) = weights.iter().try_fold(Decimal::ZERO, |sum, weight| sum.checked_add(*weight)) else {
        return Err(crate::CompError::WeightsDoNotSum { rule: rule(), total: Decimal::MAX });
    };
    if sum.is_zero() {
        return Err(crate::CompError::WeightsDoNotSum { rule: rule(), total: sum });
    }
    let scale = u32::from(currency.minor_units());
    let mut spread = crate::credit::apportion(total.abs(), weights, sum, scale)?;
    for part in &mut spread {
        if total.is_sign_negative() {
            *part = -*part;
        }
        part.rescale(scale);
    }
    Ok(spread)
}

/// What a rep's own history says about a quota.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct History {
    /// Bookings in each of the rep's recent periods of the quota's kind, oldest first.
    pub bookings: Vec<Decimal>,
    /// Won amount over won and lost amount, over the same periods; `None` without closed deals.
    pub win_rate: Option<Decimal>,
    /// Open pipeline due to close in the quota's period.
    pub open_pipeline: Decimal,
    /// Average days from creation to won; `None` without won deals.
    pub cycle_days: Option<Decimal>,
    /// Days in the quota's period.
    pub period_days: i32,
    /// Days of the period still ahead.
    pub days_left: i32,
}

/// Can the quota be reached? The verdict and the facts behind it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Within 10% of what the rep's own record and pipeline say.
    Reachable,
    /// Above that, but no higher than the rep's best period.
    Stretch,
    /// Higher than the rep has ever booked and than their pipeline can give.
    Unrealistic,
    /// Too little history to say.
    NoHistory,
}

/// A reason behind a verdict, with its numbers; the edges word it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// The quota is `ratio` times the rep's average period.
    AboveAverage { average: Decimal, ratio: Decimal },
    /// The quota is above the rep's best period.
    AboveBest { best: Decimal },
    /// At the rep's win rate the quota needs `needed` of pipeline; `open` is due in the period.
    PipelineShort { needed: Decimal, open: Decimal },
    /// A new deal takes the rep `cycle` days; only `days_left` remain.
    CycleLongerThanPeriodLeft { cycle: Decimal, days_left: i32 },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Realism {
    pub verdict: Verdict,
    /// The larger of the rep's average period and their due pipeline at their win rate.
    pub expected: Decimal,
    pub reasons: Vec<Reason>,
}

/// Checks `quota` against the rep's own `history`. Fewer than two past periods is no history.
pub fn realism(quota: Decimal, history: &History) -> Realism {
    let periods = history.bookings.len();
    if periods < 2 {
        return Realism { verdict: Verdict::NoHistory, expected: Decimal::ZERO, reasons: Vec::new() };
    }
    let average = history.bookings.iter().sum::<Decimal>() / Decimal::from(periods);
    let best = history.bookings.iter().copied().max().unwrap_or_default();
    let from_pipeline = history.win_rate.map_or(Decimal::ZERO, |rate| history.open_pipeline * rate);
    let expected = average.max(from_pipeline);
    let mut reasons = Vec::new();
    if average > Decimal::ZERO && quota > average {
        reasons.push(Reason::AboveAverage { average, ratio: (quota / average).round_dp(2) });
    }
    if quota > best {
        reasons.push(Reason::AboveBest { best });
    }
    if let Some(rate) = history.win_rate.filter(|rate| *rate > Decimal::ZERO) {
        let needed = quota / rate;
        if needed > history.open_pipeline {
            reasons.push(Reason::PipelineShort { needed: needed.round_dp(2), open: history.open_pipeline });
        }
    }
    if let Some(cycle) = history.cycle_days
        && cycle > Decimal::from(history.days_left)
    {
        reasons.push(Reason::CycleLongerThanPeriodLeft { cycle, days_left: history.days_left });
    }
    let verdict = if quota <= expected * Decimal::new(11, 1) {
        Verdict::Reachable
    } else if quota <= best {
        Verdict::Stretch
    } else {
        Verdict::Unrealistic
    };
    Realism { verdict, expected, reasons }
}

#[cfg(test)]
mod realism_tests {
    use super::*;
    use pipewise_core::Currency;

    fn d(text: &str) -> Decimal {
        text.parse().expect("a decimal")
    }

    #[test]
    fn a_yearly_quota_spread_by_seasonality_adds_up_to_the_year() {
        // 1,000,000.00 over 2:3:3:4 = 166,666.666…, 250,000, 250,000, 333,333.333…:
        // floors leave 0.01 over; the largest remainder (.666… of Q1) takes it.
        let quarters = seasonal(d("1000000.00"), &["2", "3", "3", "4"].map(d), Currency::USD).unwrap();
        assert_eq!(quarters.iter().map(ToString::to_string).collect::<Vec<_>>(), ["166666.67", "250000.00", "250000.00", "333333.33"]);
        assert_eq!(quarters.iter().sum::<Decimal>(), d("1000000.00"));
        let with_gap = seasonal(d("100"), &["1", "0", "1"].map(d), Currency::KRW).unwrap();
        assert_eq!(with_gap, [d("50"), d("0"), d("50")]);
        assert!(seasonal(d("100"), &["0", "0"].map(d), Currency::KRW).is_err());
        // Weights too large to add up are refused, not a panic.
        assert!(seasonal(d("100"), &[Decimal::MAX, Decimal::MAX], Currency::KRW).is_err());
    }

    #[test]
    fn a_quota_beyond_the_reps_record_and_pipeline_is_called_unrealistic() {
        let history = History {
            bookings: ["80000", "100000", "120000", "100000"].map(d).to_vec(),
            win_rate: Some(d("0.25")),
            open_pipeline: d("400000"),
            cycle_days: Some(d("75")),
            period_days: 91,
            days_left: 60,
        };
        // Average 100,000; best 120,000; pipeline 400,000 x 25% = 100,000: expected 100,000.
        assert_eq!(realism(d("105000"), &history).verdict, Verdict::Reachable);
        assert_eq!(realism(d("120000"), &history).verdict, Verdict::Stretch);
        let unrealistic = realism(d("200000"), &history);
        assert_eq!(unrealistic.verdict, Verdict::Unrealistic);
        assert_eq!(
            unrealistic.reasons,
            [
                Reason::AboveAverage { average: d("100000"), ratio: d("2") },
                Reason::AboveBest { best: d("120000") },
                Reason::PipelineShort { needed: d("800000"), open: d("400000") },
                Reason::CycleLongerThanPeriodLeft { cycle: d("75"), days_left: 60 },
            ]
        );
        assert_eq!(realism(d("1"), &History { bookings: vec![d("5")], ..history }).verdict, Verdict::NoHistory);
    }
}
