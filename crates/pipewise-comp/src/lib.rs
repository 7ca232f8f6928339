//! Pay math for SPEC C8 and C9: quotas and attainment, commission plans built from components,
//! deal-split credits, and statements whose every line names its deal, credit, rule, tier, base,
//! rate, unrounded and rounded amount.
//!
//! Architecture invariant: this crate does no I/O, has no async runtime and no SQL, and never
//! reads a clock. Periods, rates and dates are arguments; the application layer feeds it the
//! credits it derives from the stored history and stores the statements it returns.
//!
//! Written-down defaults (each configurable on the [`plan::Plan`]):
//! - a tier covers `[lower, upper)`: reaching exactly 100% earns the tier that starts at 100%
//!   ([`plan::TieRule::LowerTier`] is the option that keeps the tie in the lower tier);
//! - every line is computed unrounded and rounded once, to the plan currency's minor unit,
//!   half away from zero ([`Rounding::HalfEven`] is the option);
//! - lines that balance a total (a cap, a gate, a draw's top-up or recovery) are taken from the
//!   rounded lines they balance, so a capped statement lands exactly on the cap;
//! - revenue split credits sum exactly to the deal (largest remainder); overlay credits are free.

pub mod credit;
pub mod performance;
pub mod plan;
pub mod quota;
pub mod statement;

use pipewise_core::{Currency, OpportunityId};
use rust_decimal::{Decimal, RoundingStrategy};

pub use credit::{Credit, FxUsed, Split, SplitKind, split_deal};
pub use performance::{Direction, RepResult, Spread, TeamAttainment, outliers, spread, team_attainment};
pub use plan::{
    AttainmentOf, BonusCurve, Cap, Clawback, ClawbackMode, Component, Counting, Draw, Payout, Plan, TieRule, Tier, TierBasis, TierMode,
    TierTable, Timing,
};
pub use quota::{
    Attainment, History, QuotaSpan, Realism, Reason, Verdict, attainment, carried, prorate, quota_for, ramp, realism, seasonal,
};
pub use statement::{
    CreditFacts, Line, LineKind, LineRef, PaidOut, PeriodInput, Statement, adjustments, compute, paid_out, payable_on, reclaim, what_if,
};

/// How a line's unrounded amount becomes money.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Rounding {
    /// Half away from zero: 0.005 → 0.01, −0.005 → −0.01.
    #[default]
    HalfUp,
    /// Half to even (banker's rounding): 0.005 → 0.00, 0.015 → 0.02.
    HalfEven,
}

impl Rounding {
    /// `amount` rounded to `currency`'s minor units.
    pub fn round(self, amount: Decimal, currency: Currency) -> Decimal {
        let strategy = match self {
            Rounding::HalfUp => RoundingStrategy::MidpointAwayFromZero,
            Rounding::HalfEven => RoundingStrategy::MidpointNearestEven,
        };
        let mut rounded = amount.round_dp_with_strategy(u32::from(currency.minor_units()), strategy);
        rounded.rescale(u32::from(currency.minor_units()));
        rounded
    }
}

/// What makes a plan, a split or a period unusable, naming the rule, deal or field at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CompError {
    #[error("rule {rule:?}: the tier table is empty")]
    NoTiers { rule: String },
    #[error("rule {rule:?}: the first tier must start at 0, not {lower}")]
    FirstTierNotAtZero { rule: String, lower: Decimal },
    #[error("rule {rule:?}: tier {index} starts at {lower}, not above the tier before it")]
    TiersNotAscending { rule: String, index: usize, lower: Decimal },
    #[error("rule {rule:?}: {field} {value} is negative")]
    Negative { rule: String, field: &'static str, value: Decimal },
    #[error("rule {rule:?}: its tiers are in attainment but the period has no quota")]
    NoQuota { rule: String },
    #[error("rule {rule:?}: the weights add up to {total}, not 1")]
    WeightsDoNotSum { rule: String, total: Decimal },
    #[error("rule {rule:?}: a linear curve needs from < to, not {from} and {to}")]
    EmptyCurve { rule: String, from: Decimal, to: Decimal },
    #[error("opportunity {deal}: the revenue splits add up to {total}, not 100%")]
    SplitsDoNotSum { deal: OpportunityId, total: Decimal },
    #[error("opportunity {deal}: a split share of {share} is outside 0 to 100%")]
    ShareOutOfRange { deal: OpportunityId, share: Decimal },
    #[error("opportunity {deal}: credited in {found}, but the plan pays in {expected}")]
    CurrencyMismatch { deal: OpportunityId, found: &'static str, expected: &'static str },
    #[error("rule {rule:?}: the ramp has {months} months, more than {max}")]
    RampTooLong { rule: String, months: usize, max: usize },
    #[error("rule {rule:?}: the ramp's month {month} carries {fraction}, outside 0 to 1")]
    RampOutOfRange { rule: String, month: usize, fraction: Decimal },
    #[error("rule {rule:?}: {field} is {days} days, more than {max}")]
    TooLong { rule: String, field: &'static str, days: u32, max: u32 },
    #[error("rule {rule:?}: the plan already pays in {currency}; a payout currency is another one")]
    PayoutInOwnCurrency { rule: String, currency: &'static str },
    #[error("{what} is too large to compute exactly")]
    TooLarge { what: &'static str },
}

/// `a × b`, or an error naming `what` when it cannot be carried exactly.
pub(crate) fn mul(a: Decimal, b: Decimal, what: &'static str) -> Result<Decimal, CompError> {
    a.checked_mul(b).ok_or(CompError::TooLarge { what })
}

/// `a + b`, or an error naming `what` when it cannot be carried exactly.
pub(crate) fn add(a: Decimal, b: Decimal, what: &'static str) -> Result<Decimal, CompError> {
    a.checked_add(b).ok_or(CompError::TooLarge { what })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().expect("a decimal")
    }

    #[test]
    fn rounding_is_half_up_by_default_and_half_even_on_request() {
        assert_eq!(Rounding::HalfUp.round(d("0.005"), Currency::USD), d("0.01"));
        assert_eq!(Rounding::HalfUp.round(d("-0.005"), Currency::USD), d("-0.01"));
        assert_eq!(Rounding::HalfEven.round(d("0.005"), Currency::USD), d("0.00"));
        assert_eq!(Rounding::HalfEven.round(d("0.015"), Currency::USD), d("0.02"));
        assert_eq!(Rounding::HalfUp.round(d("1500.5"), Currency::KRW), d("1501"));
        assert_eq!(Rounding::HalfUp.round(d("7"), Currency::USD).to_string(), "7.00");
    }
}
