//! Statements: what one person earns in one period under one plan, line by line.
//!
//! [`compute`] is a pure function of the plan and the period's input: the same input gives the
//! same statement. A statement, once locked by the application, is never computed again; a late
//! change (a clawback, a corrected split) is posted in the open period as [`adjustments`] that
//! reference the locked lines they correct, or as a [`reclaim`] of what a deal paid.

use pipewise_core::{Currency, Date, OpportunityId, UserId};
use rust_decimal::Decimal;

use crate::credit::{Credit, FxUsed, SplitKind};
use crate::plan::{AttainmentOf, Component, Counting, Plan, TieRule, TierBasis, TierMode, TierTable, Timing};
use crate::quota::Attainment;
use crate::{CompError, add, mul};

/// One person's period: the credits that may fall in it and what earlier periods carried over.
#[derive(Clone, Debug)]
pub struct PeriodInput<'a> {
    pub payee: UserId,
    pub first: Date,
    pub last: Date,
    /// The person's quota for the period, already prorated and ramped; `None` without one.
    pub quota: Option<Decimal>,
    /// The team's bookings and quota, for team-attainment parts and bonuses.
    pub team: Option<Attainment>,
    /// The person's credits; those whose payable date (by the plan's timing) is outside the
    /// period are left out, those still without one are counted as held.
    pub credits: &'a [Credit],
    /// Excess over the cap carried in from the period before (plans that carry it forward).
    pub cap_carried_in: Decimal,
    /// What the person still owes on a recoverable draw.
    pub draw_owed_in: Decimal,
}

/// What a line is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LineKind {
    /// A credit's slice at a tier's rate.
    Commission,
    /// Crossing into a retroactive tier pays the rate difference on the credit before it.
    RetroactiveUplift,
    Bonus,
    /// One part of a target incentive: target × weight × attainment.
    Incentive,
    Spiff,
    /// Attainment below the plan's gate withholds the attainment-driven lines.
    Gate,
    /// What the cap takes off.
    Cap,
    /// Excess carried in from the period before, paid as the cap allows.
    CapCarriedIn,
    /// A draw bringing the period's pay up to the guarantee.
    DrawTopUp,
    /// Paying back a recoverable draw from earnings above it.
    DrawRecovery,
    /// A correction of a locked period, posted in the open one.
    Adjustment,
    /// Taking back what a clawed-back deal paid, attainment kept.
    Reclaim,
}

/// A locked statement's line that a later line corrects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineRef {
    /// The first day of the corrected statement's period.
    pub period_first: Date,
    pub index: usize,
}

/// The credit a line was earned on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreditFacts {
    pub kind: SplitKind,
    pub share: Decimal,
    pub amount: Decimal,
    pub fx: Option<FxUsed>,
    pub booked_on: Date,
    /// The day the deal was reversed, when it was and still pays (after the clawback window).
    pub reversed_on: Option<Date>,
}

/// One line of a statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub rule: String,
    pub version: u32,
    pub kind: LineKind,
    pub deal: Option<OpportunityId>,
    pub credit: Option<CreditFacts>,
    /// The tier's index in its table, for commission lines.
    pub tier: Option<usize>,
    /// What the rate applies to: a credit slice, a prior total, or an attainment fraction.
    pub base: Decimal,
    pub rate: Option<Decimal>,
    pub unrounded: Decimal,
    /// `unrounded` rounded once to the plan currency's minor unit.
    pub amount: Decimal,
    pub corrects: Option<LineRef>,
}

impl Line {
    /// Names the credit (and tier) the line was earned on.
    fn on(&mut self, credit: &Credit, tier: Option<usize>) {
        self.deal = Some(credit.deal);
        self.tier = tier;
        self.credit = Some(CreditFacts {
            kind: credit.kind,
            share: credit.share,
            amount: credit.amount,
            fx: credit.fx,
            booked_on: credit.booked_on,
            reversed_on: credit.reversed_on,
        });
    }

    /// Whether the line counts toward the gate and the cap (SPIFFs and the balancing lines do not).
    fn capped(&self) -> bool {
        matches!(self.kind, LineKind::Commission | LineKind::RetroactiveUplift | LineKind::Bonus | LineKind::Incentive)
    }
}

/// A person's statement for a period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    pub payee: UserId,
    pub first: Date,
    pub last: Date,
    pub plan: String,
    pub version: u32,
    pub currency: Currency,
    /// Revenue credits in the period against the quota; `None` without a quota.
    pub attainment: Option<Attainment>,
    pub lines: Vec<Line>,
    /// The sum of the lines' rounded amounts.
    pub total: Decimal,
    pub cap_carried_out: Decimal,
    pub draw_owed_out: Decimal,
    /// Credits not yet payable: still waiting for their invoice or cash date.
    pub held: usize,
    /// The total in the plan's payout currency, for a plan that pays out in another one.
    pub payout: Option<PaidOut>,
}

/// A statement's total in the payout currency, at the rate of the payout day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PaidOut {
    pub currency: Currency,
    pub on: Date,
    /// Payout-currency units per plan-currency unit; `None` until that day's rate is known.
    pub rate: Option<Decimal>,
    /// The total converted and rounded once to the payout currency's minor unit.
    pub amount: Option<Decimal>,
}

/// The payout of a statement totalling `total` for the period ending `last` under `plan`, at
/// `rate` (payout-currency units per plan-currency unit on [`Plan::payout_day`], `None` while
/// unknown); `None` for a plan that pays out in its own currency.
pub fn paid_out(plan: &Plan, last: Date, total: Decimal, rate: Option<Decimal>) -> Result<Option<PaidOut>, CompError> {
    let (Some(payout), Some(on)) = (plan.payout, plan.payout_day(last)) else { return Ok(None) };
    let amount = match rate {
        Some(rate) => Some(plan.rounding.round(mul(total, rate, "a payout")?, payout.currency)),
        None => None,
    };
    Ok(Some(PaidOut { currency: payout.currency, on, rate, amount }))
}

/// The statement `plan` gives for `input`.
pub fn compute(plan: &Plan, input: &PeriodInput<'_>) -> Result<Statement, CompError> {
    plan.check()?;
    let mut credits = Vec::new();
    let mut held = 0;
    for credit in input.credits {
        if credit.currency != plan.currency {
            return Err(CompError::CurrencyMismatch { deal: credit.deal, found: credit.currency.code(), expected: plan.currency.code() });
        }
        if plan.counting(credit) == Counting::Out {
            continue;
        }
        match payable_on(credit, plan.timing) {
            Some(day) if day >= input.first && day <= input.last => credits.push(credit),
            Some(_) => {}
            None => held += 1,
        }
    }
    credits.sort_by_key(|credit| (payable_on(credit, plan.timing), credit.deal, credit.kind));

    let mut bookings = Decimal::ZERO;
    for credit in credits.iter().filter(|credit| credit.kind == SplitKind::Revenue) {
        bookings = add(bookings, credit.amount, "the period's bookings")?;
    }
    let attainment = input.quota.map(|quota| Attainment { bookings, quota });
    let mut builder = Builder { plan, lines: Vec::new() };
    for component in &plan.components {
        builder.component(component, &credits, input, attainment)?;
    }
    builder.gate(attainment)?;
    let cap_carried_out = builder.cap(input.cap_carried_in);
    let draw_owed_out = builder.draw(input.draw_owed_in);
    let total = builder.lines.iter().map(|line| line.amount).sum();
    Ok(Statement {
        payee: input.payee,
        first: input.first,
        last: input.last,
        plan: plan.name.clone(),
        version: plan.version,
        currency: plan.currency,
        attainment,
        lines: builder.lines,
        total,
        cap_carried_out,
        draw_owed_out,
        held,
        payout: None,
    })
}

/// What one more credit would add to the period's pay: the statement with it, less the one without.
pub fn what_if(plan: &Plan, input: &PeriodInput<'_>, extra: Credit) -> Result<Decimal, CompError> {
    let without = compute(plan, input)?;
    let mut credits = input.credits.to_vec();
    credits.push(extra);
    let with = compute(plan, &PeriodInput { credits: &credits, ..input.clone() })?;
    Ok(with.total - without.total)
}

/// The lines that bring a locked statement to what `recomputed` says, for posting in the open
/// period: one per rule, kind, deal and tier whose amount changed, each naming the first locked
/// line it corrects. They add up to exactly `recomputed.total - locked.total`.
pub fn adjustments(locked: &Statement, recomputed: &Statement) -> Vec<Line> {
    type Key = (String, LineKind, Option<OpportunityId>, Option<usize>);
    let key = |line: &Line| -> Key { (line.rule.clone(), line.kind, line.deal, line.tier) };
    let mut sums: std::collections::BTreeMap<Key, (Decimal, Decimal, Option<usize>)> = std::collections::BTreeMap::new();
    for (index, line) in locked.lines.iter().enumerate() {
        let entry = sums.entry(key(line)).or_insert((Decimal::ZERO, Decimal::ZERO, Some(index)));
        entry.0 += line.amount;
    }
    for line in &recomputed.lines {
        sums.entry(key(line)).or_insert((Decimal::ZERO, Decimal::ZERO, None)).1 += line.amount;
    }
    sums.into_iter()
        .filter(|(_, (was, is, _))| was != is)
        .map(|((rule, _, deal, tier), (was, is, first_index))| Line {
            rule,
            version: recomputed.version,
            kind: LineKind::Adjustment,
            deal,
            credit: None,
            tier,
            base: was,
            rate: None,
            unrounded: is - was,
            amount: is - was,
            corrects: first_index.map(|index| LineRef { period_first: locked.first, index }),
        })
        .collect()
}

/// Lines taking back what `deal` paid in a locked statement, attainment left as it was.
pub fn reclaim(locked: &Statement, deal: OpportunityId) -> Vec<Line> {
    locked
        .lines
        .iter()
        .enumerate()
        .filter(|(_, line)| {
            line.deal == Some(deal) && matches!(line.kind, LineKind::Commission | LineKind::RetroactiveUplift | LineKind::Spiff)
        })
        .map(|(index, line)| Line {
            kind: LineKind::Reclaim,
            base: line.amount,
            rate: None,
            unrounded: -line.amount,
            amount: -line.amount,
            corrects: Some(LineRef { period_first: locked.first, index }),
            ..line.clone()
        })
        .collect()
}

/// The day a credit becomes payable under `timing`, if known yet: its booking, its invoice or its
/// cash, and never before its booking (an invoice or a prepayment dated before the deal was won
/// is payable the day it was won).
pub fn payable_on(credit: &Credit, timing: Timing) -> Option<Date> {
    let day = match timing {
        Timing::Booking => Some(credit.booked_on),
        Timing::Invoice => credit.invoiced_on,
        Timing::Cash => credit.paid_on,
    };
    day.map(|day| day.max(credit.booked_on))
}

struct Builder<'p> {
    plan: &'p Plan,
    lines: Vec<Line>,
}

impl Builder<'_> {
    fn push(&mut self, rule: &str, kind: LineKind, base: Decimal, rate: Option<Decimal>, unrounded: Decimal) -> &mut Line {
        let amount = self.plan.rounding.round(unrounded, self.plan.currency);
        self.lines.push(Line {
            rule: rule.to_owned(),
            version: self.plan.version,
            kind,
            deal: None,
            credit: None,
            tier: None,
            base,
            rate,
            unrounded,
            amount,
            corrects: None,
        });
        self.lines.last_mut().expect("a line was just pushed")
    }

    fn component(
        &mut self,
        component: &Component,
        credits: &[&Credit],
        input: &PeriodInput<'_>,
        attainment: Option<Attainment>,
    ) -> Result<(), CompError> {
        let rule = component.rule();
        let fraction_of = |of: AttainmentOf| {
            let measured = match of {
                AttainmentOf::Individual => attainment,
                AttainmentOf::Team => input.team,
            };
            measured.and_then(Attainment::fraction).ok_or_else(|| CompError::NoQuota { rule: rule.to_owned() })
        };
        match component {
            Component::Commission { measure, table, .. } => {
                let bounds = bounds(table, rule, input.quota)?;
                let mut before = Decimal::ZERO;
                for credit in credits.iter().filter(|credit| credit.kind == *measure) {
                    let after = add(before, credit.amount, "a running total of credit")?;
                    // A reclaimed deal still counts toward the tiers, but pays nothing.
                    match table.mode {
                        _ if self.plan.counting(credit) != Counting::Paid => {}
                        TierMode::Marginal => self.marginal(credit, rule, table, &bounds, before, after)?,
                        TierMode::Retroactive => self.retroactive(credit, rule, table, &bounds, before, after)?,
                    }
                    before = after;
                }
            }
            Component::Bonus { of, curve, .. } => {
                let fraction = fraction_of(*of)?;
                self.push(rule, LineKind::Bonus, fraction, None, curve.at(fraction, self.plan.ties));
            }
            Component::TargetIncentive { target, parts, .. } => {
                for (of, weight) in parts {
                    let fraction = fraction_of(*of)?;
                    let unrounded = mul(mul(*target, *weight, "a target incentive")?, fraction, "a target incentive")?;
                    self.push(rule, LineKind::Incentive, fraction, Some(*weight), unrounded);
                }
            }
            Component::Spiff { amount, min_amount, first, last, .. } => {
                let paid = |credit: &&&Credit| credit.kind == SplitKind::Revenue && self.plan.counting(credit) == Counting::Paid;
                for credit in credits.iter().filter(paid) {
                    if credit.booked_on >= *first && credit.booked_on <= *last && credit.amount >= *min_amount {
                        self.push(rule, LineKind::Spiff, credit.amount, None, *amount).on(credit, None);
                    }
                }
            }
        }
        Ok(())
    }

    /// Each slice of `before..after` at its tier's rate (a negative credit takes slices back).
    fn marginal(
        &mut self,
        credit: &Credit,
        rule: &str,
        table: &TierTable,
        bounds: &[Decimal],
        before: Decimal,
        after: Decimal,
    ) -> Result<(), CompError> {
        let (low, high, sign) = if after >= before { (before, after, Decimal::ONE) } else { (after, before, Decimal::NEGATIVE_ONE) };
        for (index, tier) in table.tiers.iter().enumerate() {
            let tier_low = bounds[index];
            let tier_high = bounds.get(index + 1).copied();
            let slice_low = low.max(tier_low);
            let slice_high = tier_high.map_or(high, |upper| high.min(upper));
            if slice_high > slice_low {
                let base = (slice_high - slice_low) * sign;
                let unrounded = mul(base, tier.rate, "a commission line")?;
                self.push(rule, LineKind::Commission, base, Some(tier.rate), unrounded).on(credit, Some(index));
            }
        }
        Ok(())
    }

    /// The credit at the rate of the tier reached, and the rate difference on what came before
    /// when the total crossed a tier.
    fn retroactive(
        &mut self,
        credit: &Credit,
        rule: &str,
        table: &TierTable,
        bounds: &[Decimal],
        before: Decimal,
        after: Decimal,
    ) -> Result<(), CompError> {
        let tier_before = tier_of(bounds, before, self.plan.ties);
        let tier_after = tier_of(bounds, after, self.plan.ties);
        let rate = table.tiers[tier_after].rate;
        self.push(rule, LineKind::Commission, credit.amount, Some(rate), mul(credit.amount, rate, "a commission line")?)
            .on(credit, Some(tier_after));
        if tier_after != tier_before && !before.is_zero() {
            let difference = rate - table.tiers[tier_before].rate;
            self.push(rule, LineKind::RetroactiveUplift, before, Some(difference), mul(before, difference, "a retroactive uplift")?)
                .on(credit, Some(tier_after));
        }
        Ok(())
    }

    fn capped_total(&self) -> Decimal {
        self.lines.iter().filter(|line| line.capped() || line.kind == LineKind::Gate).map(|line| line.amount).sum()
    }

    /// Withholds the attainment-driven lines when attainment is below the plan's gate.
    fn gate(&mut self, attainment: Option<Attainment>) -> Result<(), CompError> {
        let Some(gate) = self.plan.gate else { return Ok(()) };
        let fraction = attainment.and_then(Attainment::fraction).ok_or_else(|| CompError::NoQuota { rule: self.plan.name.clone() })?;
        let below = match self.plan.ties {
            TieRule::UpperTier => fraction < gate,
            TieRule::LowerTier => fraction <= gate,
        };
        let withheld = self.capped_total();
        if below && !withheld.is_zero() {
            let rule = self.plan.name.clone();
            self.push(&rule, LineKind::Gate, fraction, Some(gate), -withheld);
        }
        Ok(())
    }

    /// Takes off what exceeds the cap; pays excess carried in as room allows. Returns the excess
    /// carried out.
    fn cap(&mut self, carried_in: Decimal) -> Decimal {
        let Some(cap) = self.plan.cap.clone() else { return Decimal::ZERO };
        let rule = self.plan.name.clone();
        let earned = self.capped_total();
        let mut carried = if cap.carry_forward { carried_in.max(Decimal::ZERO) } else { Decimal::ZERO };
        if earned > cap.amount {
            self.push(&rule, LineKind::Cap, earned, Some(cap.amount), cap.amount - earned);
            if cap.carry_forward {
                carried += earned - cap.amount;
            }
        } else if !carried.is_zero() {
            let paid = carried.min(cap.amount - earned);
            if !paid.is_zero() {
                self.push(&rule, LineKind::CapCarriedIn, carried, Some(cap.amount), paid);
                carried -= paid;
            }
        }
        carried
    }

    /// Tops pay up to the draw, or recovers what a recoverable draw is owed from pay above it.
    /// Returns what is still owed.
    fn draw(&mut self, owed_in: Decimal) -> Decimal {
        let Some(draw) = self.plan.draw.clone() else { return Decimal::ZERO };
        let rule = self.plan.name.clone();
        let earned: Decimal = self.lines.iter().map(|line| line.amount).sum();
        let mut owed = if draw.recoverable { owed_in.max(Decimal::ZERO) } else { Decimal::ZERO };
        if earned < draw.amount {
            let top_up = draw.amount - earned;
            self.push(&rule, LineKind::DrawTopUp, earned, Some(draw.amount), top_up);
            if draw.recoverable {
                owed += top_up;
            }
        } else if !owed.is_zero() {
            let recovered = owed.min(earned - draw.amount);
            if !recovered.is_zero() {
                self.push(&rule, LineKind::DrawRecovery, owed, Some(draw.amount), -recovered);
                owed -= recovered;
            }
        }
        owed
    }
}

/// The tiers' lower bounds in plan-currency amounts.
fn bounds(table: &TierTable, rule: &str, quota: Option<Decimal>) -> Result<Vec<Decimal>, CompError> {
    match table.basis {
        TierBasis::Amount => Ok(table.tiers.iter().map(|tier| tier.lower).collect()),
        TierBasis::Attainment => {
            let quota = quota.filter(|quota| *quota > Decimal::ZERO).ok_or_else(|| CompError::NoQuota { rule: rule.to_owned() })?;
            table.tiers.iter().map(|tier| mul(tier.lower, quota, "a tier bound")).collect()
        }
    }
}

/// The tier a running total reaches, by the plan's tie rule.
fn tier_of(bounds: &[Decimal], total: Decimal, ties: TieRule) -> usize {
    bounds
        .iter()
        .rposition(|lower| match ties {
            TieRule::UpperTier => total >= *lower,
            TieRule::LowerTier => total > *lower || lower.is_zero(),
        })
        .unwrap_or(0)
}
