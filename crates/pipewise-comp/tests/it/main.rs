//! The pay engine's golden cases (arithmetic worked by hand in the comments) and properties.

mod golden;
mod properties;

use pipewise_comp::{Credit, PeriodInput, SplitKind};
use pipewise_core::{Currency, Date, OpportunityId, UserId};
use rust_decimal::Decimal;

pub fn d(text: &str) -> Decimal {
    text.parse().expect("a decimal")
}

pub const Q1_FIRST: Date = Date::constant(2026, 1, 1);
pub const Q1_LAST: Date = Date::constant(2026, 3, 31);

/// A revenue credit of `amount` USD to person 1 for `deal`, booked on `booked_on`.
pub fn credit(deal: i64, amount: &str, booked_on: Date) -> Credit {
    Credit {
        deal: OpportunityId(deal),
        person: UserId(1),
        kind: SplitKind::Revenue,
        share: Decimal::ONE,
        amount: d(amount),
        currency: Currency::USD,
        fx: None,
        booked_on,
        invoiced_on: None,
        paid_on: None,
        reversed_on: None,
    }
}

/// Person 1's first quarter of 2026 with `credits` and an optional quota.
pub fn quarter<'a>(credits: &'a [Credit], quota: Option<&str>) -> PeriodInput<'a> {
    PeriodInput {
        payee: UserId(1),
        first: Q1_FIRST,
        last: Q1_LAST,
        quota: quota.map(d),
        team: None,
        credits,
        cap_carried_in: Decimal::ZERO,
        draw_owed_in: Decimal::ZERO,
    }
}
