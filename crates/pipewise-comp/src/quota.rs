//! Quotas and attainment: a period's quota prorated for a mid-period start or leave, ramped for a
//! new rep's first months, and attainment as an exact fraction.

use pipewise_core::Date;
use rust_decimal::Decimal;

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
    fn a_ramp_scales_the_first_months_and_attainment_needs_a_quota() {
        let steps = [d("0.25"), d("0.5"), d("0.75")];
        assert_eq!(ramp(d("40000"), &steps, 2), d("20000"));
        assert_eq!(ramp(d("40000"), &steps, 4), d("40000"));
        assert_eq!(attainment(d("99000"), d("100000")).fraction(), Some(d("0.99")));
        assert!(attainment(d("100000"), d("100000")).at_quota());
        assert_eq!(attainment(d("5"), d("0")).fraction(), None);
    }
}
