//! Commission plans built from components.
//!
//! A plan pays in one currency and is a list of [`Component`]s evaluated in order, then a plan-wide
//! [`Gate`](Plan::gate), [`Cap`] and [`Draw`]. Thresholds need no component of their own: a first
//! tier at rate 0 pays nothing below it. Accelerators and decelerators are tiers whose rate rises
//! or falls.

use pipewise_core::{Currency, Date};
use rust_decimal::Decimal;

use crate::credit::{Credit, SplitKind};
use crate::{CompError, Rounding};

/// A plan at one version; statements name both.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub name: String,
    pub version: u32,
    pub currency: Currency,
    pub components: Vec<Component>,
    /// Below this individual attainment (a fraction: 0.5 is 50%), the attainment-driven
    /// components pay nothing; SPIFFs still pay.
    pub gate: Option<Decimal>,
    pub cap: Option<Cap>,
    pub draw: Option<Draw>,
    pub timing: Timing,
    pub ties: TieRule,
    pub rounding: Rounding,
    /// What a won deal's later reversal (reopened or lost) takes back.
    pub clawback: Clawback,
    /// A new person's quota ramp: `ramp[n]` is the fraction of quota carried in month `n + 1`
    /// of tenure (counted from the first day of their first plan), the whole quota after the
    /// last step. Empty: no ramp.
    pub ramp: Vec<Decimal>,
    /// Paid out in another currency than the plan's, at the rate of the payout day.
    pub payout: Option<Payout>,
}

impl Plan {
    /// A plan with no gate, cap or draw, paid on booking, with the written-down defaults.
    pub fn new(name: &str, version: u32, currency: Currency, components: Vec<Component>) -> Plan {
        Plan {
            name: name.to_owned(),
            version,
            currency,
            components,
            gate: None,
            cap: None,
            draw: None,
            timing: Timing::Booking,
            ties: TieRule::UpperTier,
            rounding: Rounding::HalfUp,
            clawback: Clawback::default(),
            ramp: Vec::new(),
            payout: None,
        }
    }

    /// Every problem of the plan's own making, first one found.
    pub fn check(&self) -> Result<(), CompError> {
        let plan_rule = || self.name.clone();
        for component in &self.components {
            component.check()?;
        }
        if let Some(gate) = self.gate
            && gate.is_sign_negative()
        {
            return Err(CompError::Negative { rule: plan_rule(), field: "gate", value: gate });
        }
        if let Some(cap) = &self.cap
            && cap.amount.is_sign_negative()
        {
            return Err(CompError::Negative { rule: plan_rule(), field: "cap", value: cap.amount });
        }
        if let Some(draw) = &self.draw
            && draw.amount.is_sign_negative()
        {
            return Err(CompError::Negative { rule: plan_rule(), field: "draw", value: draw.amount });
        }
        if self.ramp.len() > MAX_RAMP_MONTHS {
            return Err(CompError::RampTooLong { rule: plan_rule(), months: self.ramp.len(), max: MAX_RAMP_MONTHS });
        }
        if let Some((month, fraction)) =
            self.ramp.iter().enumerate().find(|(_, fraction)| fraction.is_sign_negative() || **fraction > Decimal::ONE)
        {
            return Err(CompError::RampOutOfRange { rule: plan_rule(), month: month + 1, fraction: *fraction });
        }
        if let Some(window) = self.clawback.window_days
            && window > MAX_CLAWBACK_DAYS
        {
            return Err(CompError::TooLong { rule: plan_rule(), field: "clawback.window_days", days: window, max: MAX_CLAWBACK_DAYS });
        }
        if let Some(payout) = &self.payout
            && payout.currency == self.currency
        {
            return Err(CompError::PayoutInOwnCurrency { rule: plan_rule(), currency: self.currency.code() });
        }
        if let Some(payout) = &self.payout
            && payout.days_after > MAX_PAYOUT_DAYS
        {
            return Err(CompError::TooLong {
                rule: plan_rule(),
                field: "payout.days_after",
                days: payout.days_after,
                max: MAX_PAYOUT_DAYS,
            });
        }
        Ok(())
    }

    /// The day a statement for the period ending `last` is paid out in the payout currency
    /// (`None` for a plan that pays in its own).
    pub fn payout_day(&self, last: Date) -> Option<Date> {
        let payout = self.payout?;
        pipewise_core::time::plus_days(last, i64::from(payout.days_after))
    }

    /// How a credit counts under the plan's clawback rule: a deal reversed within the window
    /// (days from its booking to its reversal, both ends counted as days apart) is taken out of
    /// the period, or under [`ClawbackMode::Reclaim`] keeps counting toward attainment and tiers
    /// but pays nothing; reversed after the window, it stays as it was won.
    pub fn counting(&self, credit: &Credit) -> Counting {
        let Some(reversed_on) = credit.reversed_on else { return Counting::Paid };
        let age = credit.booked_on.until(reversed_on).map_or(0, |span| span.get_days()).max(0);
        let within = self.clawback.window_days.is_none_or(|window| age.unsigned_abs() <= window);
        match (within, self.clawback.mode) {
            (false, _) => Counting::Paid,
            (true, ClawbackMode::Recompute) => Counting::Out,
            (true, ClawbackMode::Reclaim) => Counting::AttainmentOnly,
        }
    }
}

/// The longest ramp, in months of tenure.
pub const MAX_RAMP_MONTHS: usize = 36;
/// The longest clawback window, in days (ten years).
pub const MAX_CLAWBACK_DAYS: u32 = 3_653;
/// The latest payout day, in days after the period's last day.
pub const MAX_PAYOUT_DAYS: u32 = 366;

/// How a credit counts in its period under the plan's clawback rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counting {
    /// Counts toward attainment and pays.
    Paid,
    /// Counts toward attainment and tiers, pays nothing (reclaimed).
    AttainmentOnly,
    /// Not in the period at all (clawed back: the period is recomputed without it).
    Out,
}

/// What a won deal's reversal takes back.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Clawback {
    /// Days after the booking within which a reversal is clawed back; `None`: whenever it comes.
    pub window_days: Option<u32>,
    pub mode: ClawbackMode,
}

/// How a reversal inside the window is taken back.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClawbackMode {
    /// The deal leaves attainment and its period is recomputed; a locked period's difference is
    /// posted in the open one.
    #[default]
    Recompute,
    /// What the deal paid is taken back and attainment is kept.
    Reclaim,
}

/// A statement paid out in another currency, converted at the rate of the payout day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Payout {
    pub currency: Currency,
    /// The payout day: this many days after the period's last day.
    pub days_after: u32,
}

/// When a credit becomes payable: on the deal's booking, its invoice, or the cash received.
/// Under invoice or cash timing a credit counts, for pay and attainment, in the period of that date;
/// until the date is known it is held.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Timing {
    #[default]
    Booking,
    Invoice,
    Cash,
}

/// Which tier a total sitting exactly on a boundary earns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TieRule {
    /// Tiers are `[lower, upper)`: 100% earns the tier that starts at 100%.
    #[default]
    UpperTier,
    /// Tiers are `(lower, upper]`: 100% stays in the tier that ends at 100%.
    LowerTier,
}

/// One part of a plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Component {
    /// A rate on credited amounts, from a tier table.
    Commission { rule: String, measure: SplitKind, table: TierTable },
    /// A fixed amount by attainment reached at the period's end: steps or a linear curve.
    Bonus { rule: String, of: AttainmentOf, curve: BonusCurve },
    /// Target variable pay shared between measures, each part paid `target × weight × attainment`
    /// (e.g. 75% on individual attainment, 25% on the team's).
    TargetIncentive { rule: String, target: Decimal, parts: Vec<(AttainmentOf, Decimal)> },
    /// A fixed amount for each revenue credit booked inside a window and at least `min_amount`;
    /// outside attainment, gates and caps.
    Spiff { rule: String, amount: Decimal, min_amount: Decimal, first: Date, last: Date },
}

impl Component {
    pub fn rule(&self) -> &str {
        match self {
            Component::Commission { rule, .. }
            | Component::Bonus { rule, .. }
            | Component::TargetIncentive { rule, .. }
            | Component::Spiff { rule, .. } => rule,
        }
    }

    fn check(&self) -> Result<(), CompError> {
        let rule = || self.rule().to_owned();
        match self {
            Component::Commission { table, .. } => table.check(self.rule()),
            Component::Bonus { curve, .. } => curve.check(self.rule()),
            Component::TargetIncentive { target, parts, .. } => {
                if target.is_sign_negative() {
                    return Err(CompError::Negative { rule: rule(), field: "target", value: *target });
                }
                let total: Decimal = parts.iter().map(|(_, weight)| *weight).sum();
                if total != Decimal::ONE || parts.iter().any(|(_, weight)| weight.is_sign_negative()) {
                    return Err(CompError::WeightsDoNotSum { rule: rule(), total });
                }
                Ok(())
            }
            Component::Spiff { amount, min_amount, .. } => {
                if amount.is_sign_negative() {
                    return Err(CompError::Negative { rule: rule(), field: "amount", value: *amount });
                }
                if min_amount.is_sign_negative() {
                    return Err(CompError::Negative { rule: rule(), field: "min_amount", value: *min_amount });
                }
                Ok(())
            }
        }
    }
}

/// Whose attainment a bonus or an incentive part is paid on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttainmentOf {
    Individual,
    Team,
}

/// How the tiers of a table apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TierMode {
    /// Each slice of the total at its own tier's rate (like income tax).
    Marginal,
    /// The whole total at the rate of the tier it reaches; crossing up pays the difference on
    /// what came before.
    Retroactive,
}

/// What the tiers' lower bounds are written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TierBasis {
    /// Plan-currency amounts of credit in the period.
    Amount,
    /// Fractions of the period's quota: 1.0 is 100%.
    Attainment,
}

/// A tier: from `lower` up to the next tier's `lower`, at `rate` (0.04 is 4%).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tier {
    pub lower: Decimal,
    pub rate: Decimal,
}

/// Contiguous tiers from 0 up, each starting where the one before ends; the last is open-ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TierTable {
    pub mode: TierMode,
    pub basis: TierBasis,
    pub tiers: Vec<Tier>,
}

impl TierTable {
    fn check(&self, rule: &str) -> Result<(), CompError> {
        let Some(first) = self.tiers.first() else {
            return Err(CompError::NoTiers { rule: rule.to_owned() });
        };
        if !first.lower.is_zero() {
            return Err(CompError::FirstTierNotAtZero { rule: rule.to_owned(), lower: first.lower });
        }
        for (index, pair) in self.tiers.windows(2).enumerate() {
            if pair[1].lower <= pair[0].lower {
                return Err(CompError::TiersNotAscending { rule: rule.to_owned(), index: index + 1, lower: pair[1].lower });
            }
        }
        if let Some(tier) = self.tiers.iter().find(|tier| tier.rate.is_sign_negative()) {
            return Err(CompError::Negative { rule: rule.to_owned(), field: "rate", value: tier.rate });
        }
        Ok(())
    }
}

/// A bonus curve over attainment (fractions: 1.0 is 100%).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BonusCurve {
    /// The amount of the highest step reached; steps are not added together.
    Steps(Vec<(Decimal, Decimal)>),
    /// Nothing below `from`, `at_from` at `from` rising in a straight line to `at_to` at `to`,
    /// and `at_to` above.
    Linear { from: Decimal, to: Decimal, at_from: Decimal, at_to: Decimal },
}

impl BonusCurve {
    fn check(&self, rule: &str) -> Result<(), CompError> {
        match self {
            BonusCurve::Steps(steps) => match steps.iter().find(|(_, amount)| amount.is_sign_negative()) {
                Some((_, amount)) => Err(CompError::Negative { rule: rule.to_owned(), field: "amount", value: *amount }),
                None => Ok(()),
            },
            BonusCurve::Linear { from, to, at_from, at_to } => {
                if from >= to {
                    return Err(CompError::EmptyCurve { rule: rule.to_owned(), from: *from, to: *to });
                }
                match [at_from, at_to].into_iter().find(|amount| amount.is_sign_negative()) {
                    Some(amount) => Err(CompError::Negative { rule: rule.to_owned(), field: "amount", value: *amount }),
                    None => Ok(()),
                }
            }
        }
    }

    /// The unrounded bonus at `attainment`.
    pub fn at(&self, attainment: Decimal, ties: TieRule) -> Decimal {
        let reached = |step: Decimal| match ties {
            TieRule::UpperTier => attainment >= step,
            TieRule::LowerTier => attainment > step,
        };
        match self {
            BonusCurve::Steps(steps) => {
                steps.iter().filter(|(step, _)| reached(*step)).max_by_key(|(step, _)| *step).map_or(Decimal::ZERO, |(_, amount)| *amount)
            }
            BonusCurve::Linear { from, to, at_from, at_to } => {
                if attainment < *from {
                    Decimal::ZERO
                } else if attainment >= *to {
                    *at_to
                } else {
                    *at_from + (*at_to - *at_from) * (attainment - *from) / (*to - *from)
                }
            }
        }
    }
}

/// A plan-wide ceiling on what the attainment-driven components pay in a period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cap {
    pub amount: Decimal,
    /// The excess is carried into the next period (paid there as room allows) instead of forfeited.
    pub carry_forward: bool,
}

/// A guaranteed minimum per period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Draw {
    pub amount: Decimal,
    /// A recoverable draw's top-ups are owed back from later earnings above the draw (never
    /// taking a period's pay below the draw); a non-recoverable one's are kept.
    pub recoverable: bool,
}
