//! One deal's life, planned before anything is written: its creation, then every later edit
//! in time order (stage moves, sometimes back one stage, amount changes, close dates pushed,
//! next steps, forecast calls, a change of owner), and how it ends.
//!
//! A plan is a pure function of its [`DealInput`] and the deal's own [`Rng`] stream, so the
//! activity phase can plan the same deal again instead of keeping every plan in memory.

use pipewise_core::fx::RateTable;
use pipewise_core::money::{Currency, Decimal, Money};
use pipewise_core::pipeline::ForecastCategory;
use pipewise_core::{Date, Timestamp};

use pipewise_core::user::Locale;

use crate::clock::{self, date_of_day, day_of, days_between, plus_days};
use crate::data::Region;
use crate::org::{AccountPlan, OrgPlan};
use crate::phrases::{self, Phrase, say};
use crate::rng::{Rng, WeightedIndex};

/// Where a deal is: an open stage by its level (0 = the pipeline's first open stage), or closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StageRef {
    Open(usize),
    Won,
    Lost,
}

/// How the deal stands at the demo's "now".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Open,
    Won,
    Lost,
    /// Lost at B2B stage 1 with one of seed 003's drop reasons: not a loss for win rate.
    Dropped,
}

/// One later edit. Unset fields are left alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub at: Timestamp,
    pub stage: Option<StageRef>,
    pub amount: Option<Money>,
    pub close_date: Option<Date>,
    pub next_step: Option<String>,
    pub forecast_category: Option<ForecastCategory>,
    pub close_reason: Option<String>,
    /// Hand the deal to another rep of the team: which one is this number modulo the team.
    pub reassign: Option<u32>,
}

impl Step {
    /// A step at `at` that changes nothing yet.
    pub(crate) fn at(at: Timestamp) -> Step {
        Step {
            at,
            stage: None,
            amount: None,
            close_date: None,
            next_step: None,
            forecast_category: None,
            close_reason: None,
            reassign: None,
        }
    }

    fn is_empty(&self) -> bool {
        *self == Step::at(self.at)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DealPlan {
    pub created_at: Timestamp,
    pub name: String,
    pub amount: Option<Money>,
    pub close_date: Date,
    pub next_step: Option<String>,
    /// In time order, none after `now`.
    pub steps: Vec<Step>,
    pub outcome: Outcome,
    /// When the deal closed, or `now` while open.
    pub end: Timestamp,
    /// From this instant the buyer stopped answering (deals lost or stalled).
    pub dark_from: Option<Timestamp>,
}

impl DealPlan {
    /// The stage the deal was in at `at` (its first stage before any move).
    pub fn stage_at(&self, at: Timestamp) -> StageRef {
        let mut stage = StageRef::Open(0);
        for step in self.steps.iter().take_while(|step| step.at <= at) {
            if let Some(next) = step.stage {
                stage = next;
            }
        }
        stage
    }

    /// The furthest open level the deal reached.
    #[cfg(test)]
    pub fn highest_level(&self) -> usize {
        self.steps
            .iter()
            .filter_map(|step| match step.stage {
                Some(StageRef::Open(level)) => Some(level),
                _ => None,
            })
            .max()
            .unwrap_or(0)
    }

    /// Days from creation to the end (close, or now).
    pub fn life_days(&self) -> f64 {
        days_between(self.created_at, self.end)
    }
}

/// Everything a deal's plan depends on besides its random stream.
#[derive(Clone, Copy, Debug)]
pub struct DealInput<'a> {
    pub created_at: Timestamp,
    pub now: Timestamp,
    /// The B2B (The Model) pipeline, with the stage-1 drop; otherwise Simple.
    pub b2b: bool,
    /// How many open stages the pipeline has.
    pub open_stages: usize,
    pub account_name: &'a str,
    /// Texts in Korean.
    pub korean: bool,
    pub currency: Currency,
    /// What the deal is worth, in US dollars, before the customer's currency and rounding.
    pub value_usd: f64,
    /// Chance that a deal which passes stage 1 is won.
    pub win_probability: f64,
    /// Multiplies time spent in each stage.
    pub pace: f64,
    /// The owner's offset from UTC, for office hours.
    pub utc_offset_hours: i64,
    pub pricing: Pricing<'a>,
}

/// Mean days in each open stage (B2B levels 0–4; the Simple pipeline uses the first four).
const B2B_DWELL_DAYS: [f64; 5] = [9.0, 20.0, 24.0, 16.0, 11.0];
const SIMPLE_DWELL_DAYS: [f64; 4] = [12.0, 18.0, 20.0, 14.0];

/// How a deal's story goes, decided at creation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fate {
    /// B2B stage 1 only.
    Drop,
    /// Stops moving at this level and is never updated again: its close date slips into the past.
    Stall(usize),
    Win,
    Lose(usize),
}

/// What a deal's setup is drawn from: the organisation, its accounts, the time window deals
/// are created in and how many open stages each pipeline has. Shared by the standard demo and
/// the scale data set, which differ only in the random stream they draw with and in how they
/// plan a deal's life.
pub(crate) struct DealSource<'a> {
    pub plan: &'a OrgPlan,
    pub accounts: &'a [AccountPlan],
    account_weights: Option<WeightedIndex>,
    /// The reps of each team, by team index.
    team_reps: Vec<Vec<usize>>,
    pub start: Timestamp,
    pub now: Timestamp,
    rates: &'a RateTable,
    b2b_open_stages: usize,
    simple_open_stages: usize,
}

/// What a deal draws before its plan: its account and owner (by index) and its pipeline.
pub(crate) struct DealSetup {
    pub account: usize,
    pub rep: usize,
    /// The B2B pipeline; otherwise Simple.
    pub b2b: bool,
}

impl<'a> DealSource<'a> {
    pub fn new(
        plan: &'a OrgPlan,
        accounts: &'a [AccountPlan],
        start: Timestamp,
        now: Timestamp,
        rates: &'a RateTable,
        b2b_open_stages: usize,
        simple_open_stages: usize,
    ) -> DealSource<'a> {
        DealSource {
            plan,
            accounts,
            account_weights: WeightedIndex::new(accounts.iter().map(|account| account.weight)),
            team_reps: (0..plan.teams.len()).map(|team| plan.reps_of_team(team).collect()).collect(),
            start,
            now,
            rates,
            b2b_open_stages,
            simple_open_stages,
        }
    }

    /// The reps of the team that covers account `account`.
    pub fn teammates(&self, account: usize) -> &[usize] {
        &self.team_reps[self.accounts[account].team]
    }

    /// A deal drawn from `rng` (see [`draw_deal`]) and planned from the same stream by `planner`.
    pub fn plan(&self, rng: &mut Rng, planner: impl FnOnce(&mut Rng, &DealInput) -> DealPlan) -> (DealSetup, DealPlan) {
        let drawn = draw_deal(rng, self);
        let plan = planner(rng, &drawn.input);
        (DealSetup { account: drawn.account, rep: drawn.rep, b2b: drawn.input.b2b }, plan)
    }
}

/// A deal's drawn setup: its account and rep (by index) and the input to plan it from.
struct DrawnDeal<'a> {
    account: usize,
    rep: usize,
    input: DealInput<'a>,
}

/// Draws a deal's account, rep, pipeline, currency, creation time and value from `rng`, in a
/// fixed order, so the same stream always gives the same deal.
fn draw_deal<'a>(rng: &mut Rng, source: &DealSource<'a>) -> DrawnDeal<'a> {
    let account_index = source.account_weights.as_ref().map_or(0, |weights| weights.sample(rng));
    let account = &source.accounts[account_index];
    let teammates = source.teammates(account_index);
    let rep = if teammates.len() <= 1 || rng.chance(0.85) { account.owner } else { *rng.pick(teammates) };
    let profile = &source.plan.reps[rep];
    let person = &source.plan.people[profile.person];
    let b2b = rng.chance(0.85);
    let currency = account.deal_currency(rng);
    // Somewhat more deals lately: a growing business.
    let position = if rng.chance(0.3) { rng.unit().sqrt() } else { rng.unit() };
    let raw = plus_days(source.start, days_between(source.start, source.now) * position);
    let latest = source.now.plus_seconds(-600);
    let created_at = clock::snap_to_working_time(rng, raw, person.utc_offset_hours).min(latest).max(source.start.min(latest));
    let size_adjustment = match account.employees.unwrap_or(1_500) {
        0..500 => 0.04,
        50_000.. => -0.04,
        _ => 0.0,
    };
    let korean = account.korean || person.locale == Locale::Ko || account.region == Region::Korea;
    let input = DealInput {
        created_at,
        now: source.now,
        b2b,
        open_stages: if b2b { source.b2b_open_stages } else { source.simple_open_stages },
        account_name: &account.name,
        korean,
        currency,
        value_usd: (account.typical_deal_usd() * profile.deal_size * rng.log_normal(1.0, 0.6)).clamp(2_000.0, 5_000_000.0),
        win_probability: (0.35 + profile.win_bonus + size_adjustment).clamp(0.05, 0.8),
        pace: account.pace() * profile.pace,
        utc_offset_hours: person.utc_offset_hours,
        pricing: Pricing { rates: source.rates },
    };
    DrawnDeal { account: account_index, rep, input }
}

/// A deal's life walked stage by stage: what is decided at its creation (its fate, the first
/// close date, whether amounts are quoted precisely and whether it starts with one), its value,
/// and the stage it is in. The standard demo ([`plan_deal`]) and the scale set
/// ([`crate::scale`]'s lifecycles) walk deals alike and differ in the edits they add.
pub(crate) struct Walk<'i, 'a> {
    input: &'i DealInput<'a>,
    /// How many open stages the pipeline has (at least one).
    pub levels: usize,
    fate: Fate,
    final_level: usize,
    precise: bool,
    /// The day (see [`day_of`]) of the close date the deal is created with.
    pub first_close_day: i64,
    amount_at_start: bool,
    /// What the deal is worth now, in US dollars.
    pub value_usd: f64,
    /// When the deal first carries an amount: at creation, or on its first move forward.
    pub amount_from: Option<Timestamp>,
    /// The open stage the deal is in.
    pub level: usize,
    bounced: bool,
    /// From this instant the buyer stopped answering.
    pub dark_from: Option<Timestamp>,
}

impl<'i, 'a> Walk<'i, 'a> {
    /// Draws what is decided at creation: fate, precision, first close date, starting amount.
    pub fn start(rng: &mut Rng, input: &'i DealInput<'a>) -> Walk<'i, 'a> {
        let levels = input.open_stages.max(1);
        // Counted stages start at level 1 in B2B (stage 1 is outside pipeline metrics).
        let first_counted = usize::from(input.b2b && levels > 1);
        let fate = if input.b2b && levels > 1 && rng.chance(0.2) {
            Fate::Drop
        } else if rng.chance(0.015) {
            Fate::Stall(rng.between(first_counted as i64, levels as i64 - 1) as usize)
        } else if rng.chance(input.win_probability) {
            Fate::Win
        } else {
            let weights: Vec<f64> =
                (0..levels).map(|level| if level < first_counted { 0.0 } else { [6.0, 6.0, 4.0, 2.5, 1.5][level.min(4)] }).collect();
            Fate::Lose(rng.weighted(&weights))
        };
        let final_level = match fate {
            Fate::Drop => 0,
            Fate::Stall(level) | Fate::Lose(level) => level,
            Fate::Win => levels - 1,
        };
        let precise = rng.chance(0.05);
        let expected_days: f64 = (0..levels).map(|level| dwell_mean(input, level)).sum();
        // Reps are optimistic: the first close date comes before the typical cycle would end.
        let first_close_day = day_of(input.created_at) + (expected_days * (0.5 + 0.4 * rng.unit())) as i64 + 7;
        let amount_at_start = rng.chance(if input.b2b { 0.6 } else { 0.8 });
        Walk {
            input,
            levels,
            fate,
            final_level,
            precise,
            first_close_day,
            amount_at_start,
            value_usd: input.value_usd,
            amount_from: amount_at_start.then_some(input.created_at),
            level: 0,
            bounced: false,
            dark_from: None,
        }
    }

    /// `value_usd` as an amount in the deal's currency on the day of `at`.
    pub fn price(&self, value_usd: f64, at: Timestamp) -> Money {
        self.input.pricing.price(value_usd, self.input.currency, date_of_day(day_of(at)), self.precise)
    }

    /// How many days the deal stays in its stage, entered at `t`, and when it leaves it.
    pub fn stay(&self, rng: &mut Rng, t: Timestamp) -> (f64, Timestamp) {
        let dwell = rng.log_normal(dwell_mean(self.input, self.level), 0.55).clamp(0.5, 240.0);
        (dwell, office_hours(rng, plus_days(t, dwell), self.input.utc_offset_hours).max(t))
    }

    /// Whether the deal stalls in its stage: nobody moves it on again.
    pub fn stalls_here(&self) -> bool {
        matches!(self.fate, Fate::Stall(level) if level == self.level)
    }

    /// Whether the deal closes when it leaves its stage.
    pub fn closes_here(&self) -> bool {
        self.level == self.final_level && !matches!(self.fate, Fate::Stall(_))
    }

    /// The step that closes the deal at `at`, as its fate has it (a loss also sets when the
    /// buyer went dark).
    pub fn close(&mut self, rng: &mut Rng, at: Timestamp) -> Step {
        let mut step = Step { close_date: Some(date_of_day(day_of(at))), ..Step::at(at) };
        match self.fate {
            Fate::Drop => {
                step.stage = Some(StageRef::Lost);
                step.close_reason = Some((*rng.pick(phrases::DROP_REASONS)).to_owned());
            }
            Fate::Win => {
                if self.amount_from.is_some() && rng.chance(0.3) {
                    // A last discount before signing.
                    self.value_usd *= 0.85 + 0.1 * rng.unit();
                    step.amount = Some(self.price(self.value_usd, at));
                }
                step.stage = Some(StageRef::Won);
                step.close_reason = rng.chance(0.7).then(|| (*rng.pick(phrases::WIN_REASONS)).to_owned());
            }
            Fate::Lose(_) | Fate::Stall(_) => {
                step.stage = Some(StageRef::Lost);
                let reasons: Vec<f64> = phrases::LOSS_REASONS.iter().map(|(_, weight)| *weight).collect();
                step.close_reason = Some(phrases::LOSS_REASONS[rng.weighted(&reasons)].0.to_owned());
                self.dark_from = Some(plus_days(at, -(14.0 + 28.0 * rng.unit())).max(self.input.created_at));
            }
        }
        step
    }

    /// The step that leaves the stage at `at`: on to the next one, or now and then back one
    /// stage first. Moving on past the first stage gives the deal an amount if it has none.
    pub fn move_on(&mut self, rng: &mut Rng, at: Timestamp) -> Step {
        let mut step = Step::at(at);
        if self.level >= 2 && !self.bounced && rng.chance(0.08) {
            self.bounced = true;
            self.level -= 1;
        } else {
            self.level += 1;
            if self.amount_from.is_none() && self.level >= 1 {
                self.amount_from = Some(at);
                step.amount = Some(self.price(self.value_usd, at));
            }
            if self.level >= 2 && rng.chance(0.2) {
                step.forecast_category = Some(upgraded_category(self.level, self.levels));
            }
        }
        step.stage = Some(StageRef::Open(self.level));
        step
    }

    /// The plan of the walked deal: created with `name` and `next_step`, then `steps` up to
    /// now, closed at `end` when it closed by now.
    pub fn plan(self, name: String, next_step: Option<String>, steps: Vec<Step>, end: Option<Timestamp>) -> DealPlan {
        let input = self.input;
        let mut plan = DealPlan {
            created_at: input.created_at,
            name,
            amount: self.amount_at_start.then(|| self.price(input.value_usd, input.created_at)),
            close_date: date_of_day(self.first_close_day),
            next_step,
            steps,
            outcome: Outcome::Open,
            end: input.now,
            dark_from: self.dark_from,
        };
        plan.steps.retain(|step| step.at <= input.now && step.at >= input.created_at);
        plan.dark_from = plan.dark_from.filter(|at| *at <= input.now);
        match (plan.steps.last().and_then(|step| step.stage), end) {
            (Some(StageRef::Won), Some(at)) if at <= input.now => {
                plan.outcome = Outcome::Won;
                plan.end = at;
            }
            (Some(StageRef::Lost), Some(at)) if at <= input.now => {
                plan.outcome = if self.fate == Fate::Drop { Outcome::Dropped } else { Outcome::Lost };
                plan.end = at;
            }
            _ => {}
        }
        plan
    }
}

/// Mean days in open stage `level` of the deal's pipeline, at the deal's pace.
fn dwell_mean(input: &DealInput, level: usize) -> f64 {
    let dwell_means: &[f64] = if input.b2b { &B2B_DWELL_DAYS } else { &SIMPLE_DWELL_DAYS };
    dwell_means[level.min(dwell_means.len() - 1)] * input.pace
}

pub fn plan_deal(rng: &mut Rng, input: &DealInput) -> DealPlan {
    let mut walk = Walk::start(rng, input);
    let mut close_day = walk.first_close_day;
    let mut steps = Vec::new();
    let mut t = input.created_at;
    let mut end = None;
    loop {
        let (dwell, stage_end) = walk.stay(rng, t);
        let level = walk.level;
        if walk.stalls_here() {
            // One last touch soon after arriving, then silence.
            if rng.chance(0.6) {
                let after = plus_days(t, rng.unit() * 10.0);
                let at = office_hours(rng, after, input.utc_offset_hours).max(t);
                steps.push(Step { next_step: Some(next_step(rng, input, level)), ..Step::at(at) });
            }
            walk.dark_from = Some(t);
            break;
        }
        let closing_here = walk.closes_here();
        // Minor edits while in the stage, in time order.
        let n_minor = rng.weighted(&[3.0, 4.0, 2.0, 1.0]);
        let mut minor_times: Vec<Timestamp> = (0..n_minor)
            .map(|_| {
                let raw = plus_days(t, dwell * rng.unit());
                office_hours(rng, raw, input.utc_offset_hours).clamp(t, stage_end)
            })
            .collect();
        minor_times.sort();
        for at in minor_times {
            let mut step = Step::at(at);
            match rng.weighted(&[45.0, 20.0, 15.0, 10.0, 2.0]) {
                1 if walk.amount_from.is_some() => {
                    walk.value_usd *= rng.log_normal(1.0, 0.15).clamp(0.6, 1.6);
                    step.amount = Some(walk.price(walk.value_usd, at));
                }
                2 => {
                    close_day = close_day.max(day_of(at)) + rng.between(7, 30);
                    step.close_date = Some(date_of_day(close_day));
                }
                3 if level >= 1 => step.forecast_category = Some(upgraded_category(level, walk.levels)),
                4 => step.reassign = Some(rng.next_u64() as u32),
                _ => step.next_step = Some(next_step(rng, input, level)),
            }
            steps.push(step);
        }
        // The rep pushes the close date when it comes due and the deal is not closing then.
        let end_day = day_of(stage_end);
        while !closing_here && close_day < end_day + 3 {
            let push_day = (close_day - rng.between(0, 5)).max(day_of(t));
            let at = clock::working_time(rng, push_day, input.utc_offset_hours).clamp(t, stage_end);
            close_day = close_day.max(day_of(at)) + rng.between(14, 50);
            steps.push(Step { close_date: Some(date_of_day(close_day)), ..Step::at(at) });
        }
        steps.sort_by_key(|step| step.at);
        t = stage_end;
        if closing_here {
            let won = walk.fate == Fate::Win;
            let mut step = walk.close(rng, t);
            if won {
                step.next_step = Some(say(("Hand over to onboarding", "온보딩팀 인계"), input.korean).to_owned());
            }
            end = Some(t);
            steps.push(step);
            break;
        }
        let mut step = walk.move_on(rng, t);
        step.next_step = Some(next_step(rng, input, walk.level));
        steps.push(step);
    }

    let name = deal_name(rng, input);
    let next_step = Some(next_step(rng, input, 0));
    let mut plan = walk.plan(name, next_step, steps, end);
    // A few open deals nobody has put a number on yet.
    if plan.outcome == Outcome::Open && plan.stage_at(input.now) != StageRef::Open(0) && rng.chance(0.05) {
        plan.amount = None;
        for step in &mut plan.steps {
            step.amount = None;
        }
        plan.steps.retain(|step| !step.is_empty());
    }
    plan
}

/// A reasonable working-hours instant on or after `at`.
pub(crate) fn office_hours(rng: &mut Rng, at: Timestamp, utc_offset_hours: i64) -> Timestamp {
    clock::snap_to_working_time(rng, at, utc_offset_hours)
}

/// A rep's call above the stage's default category.
pub(crate) fn upgraded_category(level: usize, levels: usize) -> ForecastCategory {
    if level + 2 >= levels { ForecastCategory::Commit } else { ForecastCategory::BestCase }
}

pub(crate) fn next_step(rng: &mut Rng, input: &DealInput, level: usize) -> String {
    // The Simple pipeline's last open stage ("Closing") reads like B2B's negotiation.
    let list = phrases::NEXT_STEPS[level.min(phrases::NEXT_STEPS.len() - 1)];
    say(*rng.pick(list), input.korean).to_owned()
}

pub(crate) fn deal_name(rng: &mut Rng, input: &DealInput) -> String {
    let offering: Phrase = *rng.pick(phrases::OFFERINGS);
    let department: Phrase = *rng.pick(phrases::DEPARTMENTS);
    let what = if rng.chance(0.3) {
        if input.korean { format!("{} {}", department.1, offering.1) } else { format!("{} ({})", offering.0, department.0) }
    } else {
        say(offering, input.korean).to_owned()
    };
    let name = if input.korean { format!("{} {what}", input.account_name) } else { format!("{} - {what}", input.account_name) };
    name.chars().take(200).collect()
}

/// Turns a dollar value into an amount in the deal's currency, at the ECB rate of the day and
/// rounded the way people quote (KRW to the million, JPY to ten thousand, others to hundreds),
/// unless `precise`.
#[derive(Clone, Copy, Debug)]
pub struct Pricing<'a> {
    pub rates: &'a RateTable,
}

impl Pricing<'_> {
    pub fn price(&self, value_usd: f64, currency: Currency, date: Date, precise: bool) -> Money {
        let cents = (value_usd.clamp(1.0, 1e12) * 100.0).round() as i64;
        let usd = Money::new(Decimal::new(cents, 2), Currency::USD).unwrap_or(Money::zero(Currency::USD));
        let converted =
            self.rates.convert(usd, currency, date).map(Money::amount).unwrap_or_else(|_| usd.amount() * fallback_rate(currency));
        let mut amount = converted;
        if !precise {
            let step = Decimal::from(rounding_step(currency, converted));
            amount = ((converted / step).round() * step).max(step);
        }
        amount = amount.round_dp(u32::from(currency.minor_units()));
        Money::new(amount, currency).unwrap_or(Money::zero(currency))
    }
}

/// Units of `currency` per US dollar, roughly, for dates the vendored rates do not cover.
fn fallback_rate(currency: Currency) -> Decimal {
    match currency.code() {
        "EUR" => Decimal::new(92, 2),
        "GBP" => Decimal::new(79, 2),
        "JPY" => Decimal::from(150),
        "KRW" => Decimal::from(1380),
        _ => Decimal::ONE,
    }
}

fn rounding_step(currency: Currency, amount: Decimal) -> i64 {
    let big = |threshold: i64| amount >= Decimal::from(threshold);
    match currency.code() {
        "KRW" if big(100_000_000) => 1_000_000,
        "KRW" => 100_000,
        "JPY" if big(10_000_000) => 100_000,
        "JPY" => 10_000,
        _ if big(100_000) => 1_000,
        _ if big(10_000) => 500,
        _ => 100,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::MICROS_PER_DAY;

    fn rates() -> RateTable {
        let mut table = RateTable::new(Currency::EUR);
        for day in crate::data::ecb_rates() {
            for (currency, rate) in day.rates {
                table.insert(currency, day.date, rate);
            }
        }
        table
    }

    fn input<'a>(rates: &'a RateTable, created: &str, b2b: bool, currency: Currency) -> DealInput<'a> {
        DealInput {
            created_at: created.parse().unwrap(),
            now: "2026-10-30T12:00:00Z".parse().unwrap(),
            b2b,
            open_stages: if b2b { 5 } else { 4 },
            account_name: "Acme Corporation",
            korean: false,
            currency,
            value_usd: 48_000.0,
            win_probability: 0.35,
            pace: 1.0,
            utc_offset_hours: -5,
            pricing: Pricing { rates },
        }
    }

    #[test]
    fn amounts_are_rounded_as_people_quote_and_respect_minor_units() {
        let table = rates();
        let pricing = Pricing { rates: &table };
        let date: Date = "2026-10-30".parse().unwrap();
        // USD 48,000 × 1491.76 / 1.1172 = KRW 64,093,164 → to the hundred thousand.
        assert_eq!(pricing.price(48_000.0, Currency::KRW, date, false).to_string(), "KRW 64100000");
        assert_eq!(pricing.price(48_000.0, Currency::USD, date, false).to_string(), "USD 48000.00");
        // 48,000 / 1.1172 = 42,964.55 EUR → to 500.
        assert_eq!(pricing.price(48_000.0, Currency::EUR, date, false).to_string(), "EUR 43000.00");
        let jpy = Currency::from_code("JPY").unwrap();
        let precise = pricing.price(12_345.67, jpy, date, true);
        assert_eq!(precise.amount().scale(), 0, "{precise}");
        assert_eq!(pricing.price(12_345.678, Currency::USD, date, true).to_string(), "USD 12345.68");
        // Outside the vendored rates a rough fixed rate is used rather than failing.
        let later: Date = "2030-01-01".parse().unwrap();
        assert_eq!(pricing.price(1_000.0, Currency::KRW, later, false).to_string(), "KRW 1400000");
    }

    #[test]
    fn plans_are_ordered_in_time_and_end_as_their_outcome_says() {
        let table = rates();
        let mut outcomes = [0usize; 4];
        for index in 0..2_000u64 {
            let b2b = index % 5 != 0;
            let currency = [Currency::USD, Currency::KRW, Currency::EUR][index as usize % 3];
            let created = if index % 2 == 0 { "2025-06-02T10:00:00Z" } else { "2026-09-01T10:00:00Z" };
            let input = input(&table, created, b2b, currency);
            let mut rng = Rng::stream(7, crate::rng::Stream::Deal, index);
            let plan = plan_deal(&mut rng, &input);
            assert_eq!(plan, plan_deal(&mut Rng::stream(7, crate::rng::Stream::Deal, index), &input), "deterministic");
            let mut last = plan.created_at;
            for step in &plan.steps {
                assert!(step.at >= last && step.at <= input.now, "{plan:#?}");
                assert!(!step.is_empty());
                last = step.at;
                if let Some(amount) = step.amount {
                    assert_eq!(amount.currency(), currency);
                }
                assert_eq!(step.close_reason.is_some() && step.stage == Some(StageRef::Lost), step.stage == Some(StageRef::Lost));
            }
            match plan.outcome {
                Outcome::Open => assert!(matches!(plan.stage_at(input.now), StageRef::Open(_)) && plan.end == input.now),
                Outcome::Won => assert_eq!(plan.stage_at(input.now), StageRef::Won),
                Outcome::Lost | Outcome::Dropped => assert_eq!(plan.stage_at(input.now), StageRef::Lost),
            }
            if plan.outcome == Outcome::Dropped {
                assert!(b2b && plan.highest_level() == 0);
                let reason = plan.steps.last().unwrap().close_reason.as_deref().unwrap();
                assert!(phrases::DROP_REASONS.contains(&reason));
            }
            if plan.outcome != Outcome::Open {
                assert!(plan.end.as_micros() - plan.created_at.as_micros() < 400 * MICROS_PER_DAY, "{plan:#?}");
            }
            outcomes[plan.outcome as usize] += 1;
        }
        let [_, won, lost, dropped] = outcomes;
        eprintln!("{outcomes:?}");
        let win_rate = won as f64 / (won + lost) as f64;
        assert!((0.25..=0.38).contains(&win_rate), "win rate {win_rate} from {outcomes:?}");
        assert!(dropped > 100, "{outcomes:?}");
    }
}
