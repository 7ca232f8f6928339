//! The pipeline figures of SPEC C6, each computed as of a day over a [`Scope`].
//!
//! Every figure is one tight loop over the deal columns (each deal read through
//! [`Projection::state_at`], so as of any day), with no allocation per deal and no hashing.
//! Amounts are reporting-currency minor units; sums are `i128`; ratios are exact [`Ratio`]s.
//!
//! # Definitions
//! A deal is **in scope** as of `d` when its owner as of `d` is in the scope and, if the scope
//! names a pipeline, its stage as of `d` belongs to that pipeline.
//! **Open pipeline** as of `d`: deals in scope whose stage as of `d` is open and counts in
//! metrics (stage 1 of the B2B template does not); a deal without an amount counts as a deal
//! with amount 0.
//!
//! - **Pipeline by stage**: per open counting stage, the count, the amount `Σ a`, and the
//!   weighted amount `round(Σ a × p)` where `p` is the stage's default win probability, rounded
//!   half to even once per stage line; totals are the sums of the lines.
//! - **Won / lost in a window**: deals in scope that as of `d` are in a won (lost) stage and
//!   whose closed day lies in the window. A lost deal whose stage before closing does not count
//!   in metrics (dropped at stage 1) is *not a loss*: it is left out of everything below.
//! - **Win rate** by count `won / (won + lost)`; by value `won amount / (won + lost amount)`.
//! - **Average sales cycle**: `Σ (closed day − created day) / won` over the won deals, in days.
//! - **Average deal size**: `won amount / won`.
//! - **Sales velocity** (value per day) = open deals × win rate (by count) × average deal size
//!   ÷ average cycle = `n_open × won_amount × won / ((won + lost) × Σ cycle days)`, rounded half
//!   to even to the minor unit. Undefined without wins or with a zero total cycle.
//! - **Coverage** for a period = open pipeline whose close date lies in the period ÷ remaining
//!   quota, where remaining quota = `max(quota − won amount with closed day in the period, 0)`.
//!   Undefined (`None`) when nothing remains to be won.
//! - **Conversion** (per pipeline): the cohort is the deals resolved (won or lost, as above) in
//!   the window. A deal *reached* an open counting stage `s` if it was ever, as of `d`, in an
//!   open stage at or after `s`'s position, or it was won (a won deal passed every gate).
//!   Stage → next = reached(next counting open stage, or won for the last) ÷ reached(s);
//!   to won = won ÷ reached(s); by count and by value (amounts as of `d`).
//! - **Time in stage**: per stage, the average length in days of completed stays (entered on
//!   day `a`, left on day `b`, `b` in the window) `Σ (b − a) / stays`, from history; and the
//!   average age of the deals sitting there as of `d`.
//! - **Waterfall** `from → to` for the pipeline bound to a period `P`: see [`Waterfall`].
//! - **Trend**: any figure evaluated at a series of as-of days ([`trend`]).

use crate::figures::WaterfallBucket;
use crate::projection::{DealState, FORECAST_CATEGORIES, Field, NO_STAGE, Projection};
use crate::{Day, NO_DAY, Period, Ratio, Scope, div_round_half_even, fold_deals};

/// [`crate::projection::forecast_index`] of Omitted.
pub const OMITTED: u8 = FORECAST_CATEGORIES.len() as u8 - 1;

/// The per-stage facts the loops read, compact and `Copy`.
#[derive(Clone, Copy, Debug)]
pub struct StageLite {
    pub open: bool,
    pub won: bool,
    pub lost: bool,
    pub counts: bool,
    pub pipeline: u16,
    pub position: i32,
    pub win_bp: i64,
}

/// A projection read through one scope, with the stage table at hand.
pub struct View<'a> {
    pub projection: &'a Projection,
    pub stages: Vec<StageLite>,
    pub scope: &'a Scope,
}

impl<'a> View<'a> {
    pub fn new(projection: &'a Projection, scope: &'a Scope) -> View<'a> {
        use pipewise_core::pipeline::StageKind;
        let stages = projection
            .stages
            .iter()
            .map(|stage| StageLite {
                open: stage.kind == StageKind::Open,
                won: stage.kind == StageKind::Won,
                lost: stage.kind == StageKind::Lost,
                counts: stage.counts_in_metrics,
                pipeline: stage.pipeline,
                position: stage.position,
                win_bp: stage.win_bp,
            })
            .collect();
        View { projection, stages, scope }
    }

    /// [`View::new`] with each stage's probability and metrics flag as they were at the end of
    /// `day` ([`Projection::stage_settings_on`]): a past day's figures keep the settings of
    /// that day.
    pub fn as_of(projection: &'a Projection, scope: &'a Scope, day: Day) -> View<'a> {
        let mut view = View::new(projection, scope);
        for (stage, lite) in view.stages.iter_mut().enumerate() {
            if let Some((win_bp, counts)) = projection.stage_settings_on(stage as u16, day) {
                lite.win_bp = win_bp;
                lite.counts = counts;
            }
        }
        view
    }

    #[inline(always)]
    pub fn stage(&self, stage: u16) -> StageLite {
        self.stages[stage as usize]
    }

    /// The open stages of `pipeline` that count in metrics, in pipeline order.
    pub fn counting_stages(&self, pipeline: u16) -> Vec<u16> {
        let stages = &self.projection.pipelines[pipeline as usize].stages;
        stages.iter().copied().filter(|stage| self.stage(*stage).open && self.stage(*stage).counts).collect()
    }

    #[inline(always)]
    pub fn admits(&self, state: &DealState) -> bool {
        self.scope.admits_owner(state.owner) && self.in_scope_pipeline(state)
    }

    /// In the scope's pipeline (any, when the scope names none), whoever owns the deal.
    #[inline(always)]
    pub fn in_scope_pipeline(&self, state: &DealState) -> bool {
        self.scope.pipeline.is_none_or(|pipeline| self.stage(state.stage).pipeline == pipeline)
    }

    /// Open, counting, not forecast as Omitted, in the scope's pipeline: in the open pipeline
    /// whoever owns it.
    #[inline(always)]
    pub fn in_pipeline_any_owner(&self, state: &DealState) -> bool {
        let stage = self.stage(state.stage);
        stage.open && stage.counts && state.forecast != OMITTED && self.in_scope_pipeline(state)
    }

    /// Open, counting, not forecast as Omitted (Salesforce and Clari leave those out of the
    /// pipeline, coverage and velocity alike), in scope.
    #[inline(always)]
    pub fn in_open_pipeline(&self, state: &DealState) -> bool {
        self.in_pipeline_any_owner(state) && self.scope.admits_owner(state.owner)
    }

    /// In scope, open and in a stage that counts in metrics: the deals health counts, flags and
    /// lists (whatever their forecast category).
    #[inline(always)]
    pub fn in_health(&self, state: &DealState) -> bool {
        let stage = self.stage(state.stage);
        stage.open && stage.counts && self.admits(state)
    }

    /// Open and counting, in scope, but forecast as Omitted: what the figures say they left out.
    #[inline(always)]
    pub fn omitted(&self, state: &DealState) -> bool {
        let stage = self.stage(state.stage);
        stage.open && stage.counts && state.forecast == OMITTED && self.admits(state)
    }

    /// Whether a deal counts as *in play* for a query whose horizon is `horizon`: open, or
    /// created or closed on or after the horizon (see [`crate::DashboardQuery::play_horizon`]).
    #[inline(always)]
    pub fn in_play(&self, state: &DealState, horizon: Day) -> bool {
        self.stage(state.stage).open || state.closed_day >= horizon || state.created_day >= horizon
    }

    /// Won or lost and a real outcome: not a drop from a non-counting stage.
    #[inline(always)]
    pub fn outcome(&self, state: &DealState) -> Option<bool> {
        let stage = self.stage(state.stage);
        if !stage.counts || !(stage.won || stage.lost) {
            return None;
        }
        if stage.lost && state.stage_before != NO_STAGE && !self.stage(state.stage_before).counts {
            return None;
        }
        Some(stage.won)
    }

    pub fn threads(&self) -> usize {
        self.projection.threads()
    }
}

/// One stage's line of the open pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StageLine {
    pub stage: u16,
    pub count: u64,
    pub amount: i128,
    pub weighted: i128,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PipelineByStage {
    /// Every open counting stage of the scope's pipelines, in pipeline then position order.
    pub lines: Vec<StageLine>,
    pub count: u64,
    pub amount: i128,
    pub weighted: i128,
    /// Open deals of counting stages in scope left out because their forecast category is
    /// Omitted, and their amount.
    pub omitted_count: u64,
    pub omitted_amount: i128,
}

/// Per-stage sums of the open pipeline, indexed by stage.
#[derive(Clone, Debug)]
pub(crate) struct StageSums {
    counts: Vec<u64>,
    amounts: Vec<i128>,
    /// `Σ amount × win probability in basis points`.
    weighted: Vec<i128>,
    omitted_count: u64,
    omitted_amount: i128,
}

impl StageSums {
    pub fn new(n_stages: usize) -> StageSums {
        StageSums {
            counts: vec![0; n_stages],
            amounts: vec![0; n_stages],
            weighted: vec![0; n_stages],
            omitted_count: 0,
            omitted_amount: 0,
        }
    }

    /// Adds a deal if it is in the open pipeline.
    #[inline(always)]
    pub fn add(&mut self, view: &View, state: &DealState) {
        if !view.in_open_pipeline(state) {
            if view.omitted(state) {
                self.omitted_count += 1;
                self.omitted_amount += i128::from(state.amount_or_zero());
            }
            return;
        }
        let stage = state.stage as usize;
        let amount = i128::from(state.amount_or_zero());
        self.counts[stage] += 1;
        self.amounts[stage] += amount;
        self.weighted[stage] += amount * i128::from(view.stages[stage].win_bp);
    }

    pub fn merge(&mut self, other: StageSums) {
        for stage in 0..self.counts.len() {
            self.counts[stage] += other.counts[stage];
            self.amounts[stage] += other.amounts[stage];
            self.weighted[stage] += other.weighted[stage];
        }
        self.omitted_count += other.omitted_count;
        self.omitted_amount += other.omitted_amount;
    }

    pub fn finish(&self, view: &View) -> PipelineByStage {
        let mut result = PipelineByStage {
            lines: Vec::new(),
            count: 0,
            amount: 0,
            weighted: 0,
            omitted_count: self.omitted_count,
            omitted_amount: self.omitted_amount,
        };
        for (pipeline_index, pipeline) in view.projection.pipelines.iter().enumerate() {
            if view.scope.pipeline.is_some_and(|only| usize::from(only) != pipeline_index) {
                continue;
            }
            for &stage in &pipeline.stages {
                let lite = view.stage(stage);
                if !(lite.open && lite.counts) {
                    continue;
                }
                let index = stage as usize;
                let line = StageLine {
                    stage,
                    count: self.counts[index],
                    amount: self.amounts[index],
                    weighted: div_round_half_even(self.weighted[index], 10_000),
                };
                result.count += line.count;
                result.amount += line.amount;
                result.weighted += line.weighted;
                result.lines.push(line);
            }
        }
        result
    }
}

/// Open pipeline by stage as of `as_of`; with `close_within`, only deals whose close date lies
/// in that period.
pub fn pipeline_by_stage(projection: &Projection, scope: &Scope, as_of: Day, close_within: Option<Period>) -> PipelineByStage {
    let view = View::as_of(projection, scope, as_of);
    let sums = fold_deals(
        &projection.candidates(as_of.saturating_add(1)),
        view.threads(),
        || StageSums::new(view.stages.len()),
        |sums, deal| {
            let mut state = DealState::EMPTY;
            if !projection.state_into(deal as u32, as_of, &mut state) {
                return;
            }
            if close_within.is_none_or(|period| period.contains(state.close_day)) {
                sums.add(&view, &state);
            }
        },
        StageSums::merge,
    );
    sums.finish(&view)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Coverage {
    pub period: Period,
    /// Open pipeline with a close date in the period.
    pub open_closing_in_period: i128,
    pub open_deals_closing_in_period: u64,
    pub won_in_period: i128,
    pub quota: i64,
    pub remaining_quota: i128,
    /// `open_closing_in_period / remaining_quota`; `None` when nothing remains.
    pub ratio: Option<Ratio>,
}

/// Coverage of the remaining `quota` for `period`, as of `as_of`.
pub fn coverage(projection: &Projection, scope: &Scope, as_of: Day, period: Period, quota: i64) -> Coverage {
    let view = View::as_of(projection, scope, as_of);
    let (open, open_deals, won) = fold_deals(
        &projection.candidates(period.first.min(as_of.saturating_add(1))),
        view.threads(),
        || (0i128, 0u64, 0i128),
        |(open, open_deals, won), deal| {
            let mut state = DealState::EMPTY;
            if !projection.state_into(deal as u32, as_of, &mut state) {
                return;
            }
            if !period.contains(state.close_day) && !period.contains(state.closed_day) {
                return;
            }
            if view.in_open_pipeline(&state) && period.contains(state.close_day) {
                *open += i128::from(state.amount_or_zero());
                *open_deals += 1;
            } else if view.admits(&state) && view.outcome(&state) == Some(true) && period.contains(state.closed_day) {
                *won += i128::from(state.amount_or_zero());
            }
        },
        |acc, more| {
            acc.0 += more.0;
            acc.1 += more.1;
            acc.2 += more.2;
        },
    );
    coverage_from(period, open, open_deals, won, quota)
}

pub(crate) fn coverage_from(period: Period, open: i128, open_deals: u64, won: i128, quota: i64) -> Coverage {
    let remaining_quota = (i128::from(quota) - won).max(0);
    Coverage {
        period,
        open_closing_in_period: open,
        open_deals_closing_in_period: open_deals,
        won_in_period: won,
        quota,
        remaining_quota,
        ratio: Ratio::new(open, remaining_quota),
    }
}

/// Won and lost deals closed in a window (see the module definitions).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcomes {
    pub won: u64,
    pub lost: u64,
    pub won_amount: i128,
    pub lost_amount: i128,
    /// `Σ (closed day − created day)` over the won deals.
    pub won_cycle_days: i64,
    /// Deals dropped from a non-counting stage in the window: not losses.
    pub dropped: u64,
}

impl Outcomes {
    #[inline(always)]
    pub(crate) fn add(&mut self, view: &View, state: &DealState, window: Period) {
        if !window.contains(state.closed_day) {
            return;
        }
        let stage = view.stage(state.stage);
        if !(stage.won || stage.lost) || !view.admits(state) {
            return;
        }
        match view.outcome(state) {
            Some(true) => {
                self.won += 1;
                self.won_amount += i128::from(state.amount_or_zero());
                self.won_cycle_days += i64::from(state.closed_day - state.created_day);
            }
            Some(false) => {
                self.lost += 1;
                self.lost_amount += i128::from(state.amount_or_zero());
            }
            None => self.dropped += 1,
        }
    }

    pub(crate) fn merge(&mut self, other: Outcomes) {
        self.won += other.won;
        self.lost += other.lost;
        self.won_amount += other.won_amount;
        self.lost_amount += other.lost_amount;
        self.won_cycle_days += other.won_cycle_days;
        self.dropped += other.dropped;
    }

    pub fn win_rate_by_count(&self) -> Option<Ratio> {
        Ratio::new(i128::from(self.won), i128::from(self.won + self.lost))
    }

    pub fn win_rate_by_value(&self) -> Option<Ratio> {
        Ratio::new(self.won_amount, self.won_amount + self.lost_amount)
    }

    /// Days from creation to won, on average.
    pub fn average_cycle_days(&self) -> Option<Ratio> {
        Ratio::new(i128::from(self.won_cycle_days), i128::from(self.won))
    }

    /// Minor units, rounded half to even.
    pub fn average_deal_size(&self) -> Option<i128> {
        Ratio::new(self.won_amount, i128::from(self.won)).map(|ratio| div_round_half_even(ratio.numerator, ratio.denominator))
    }
}

/// Outcomes of the deals closed in `window`, as known on `as_of`.
pub fn outcomes(projection: &Projection, scope: &Scope, as_of: Day, window: Period) -> Outcomes {
    let view = View::as_of(projection, scope, as_of);
    fold_deals(
        &projection.candidates(window.first.min(as_of.saturating_add(1))),
        view.threads(),
        Outcomes::default,
        |acc, deal| {
            let mut state = DealState::EMPTY;
            if projection.state_into(deal as u32, as_of, &mut state) {
                acc.add(&view, &state, window);
            }
        },
        Outcomes::merge,
    )
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Velocity {
    pub open_deals: u64,
    pub win_rate: Ratio,
    pub average_deal_size: Ratio,
    pub average_cycle_days: Ratio,
    /// Reporting-currency minor units per day.
    pub per_day: i128,
}

/// Sales velocity from the open deal count and the window's outcomes.
pub fn velocity_from(open_deals: u64, outcomes: &Outcomes) -> Option<Velocity> {
    let win_rate = outcomes.win_rate_by_count()?;
    let average_deal_size = Ratio::new(outcomes.won_amount, i128::from(outcomes.won))?;
    let average_cycle_days = outcomes.average_cycle_days().filter(|cycle| cycle.numerator > 0)?;
    let numerator = i128::from(open_deals) * outcomes.won_amount * i128::from(outcomes.won);
    let denominator = i128::from(outcomes.won + outcomes.lost) * i128::from(outcomes.won_cycle_days);
    Some(Velocity { open_deals, win_rate, average_deal_size, average_cycle_days, per_day: div_round_half_even(numerator, denominator) })
}

/// Sales velocity as of `as_of`, from the open pipeline and the outcomes in `window`.
pub fn velocity(projection: &Projection, scope: &Scope, as_of: Day, window: Period) -> Option<Velocity> {
    let view = View::as_of(projection, scope, as_of);
    let (open_deals, window_outcomes) = fold_deals(
        &projection.candidates(window.first.min(as_of.saturating_add(1))),
        view.threads(),
        || (0u64, Outcomes::default()),
        |(open_deals, acc), deal| {
            let mut state = DealState::EMPTY;
            if projection.state_into(deal as u32, as_of, &mut state) {
                *open_deals += u64::from(view.in_open_pipeline(&state));
                acc.add(&view, &state, window);
            }
        },
        |acc, more| {
            acc.0 += more.0;
            acc.1.merge(more.1);
        },
    );
    velocity_from(open_deals, &window_outcomes)
}

/// One open counting stage's conversion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConversionLine {
    pub stage: u16,
    /// The next open counting stage, `None` for the last (whose next step is won).
    pub next_stage: Option<u16>,
    pub reached: u64,
    pub reached_amount: i128,
    pub advanced: u64,
    pub advanced_amount: i128,
    pub won: u64,
    pub won_amount: i128,
}

impl ConversionLine {
    pub fn to_next_by_count(&self) -> Option<Ratio> {
        Ratio::new(i128::from(self.advanced), i128::from(self.reached))
    }
    pub fn to_next_by_value(&self) -> Option<Ratio> {
        Ratio::new(self.advanced_amount, self.reached_amount)
    }
    pub fn to_won_by_count(&self) -> Option<Ratio> {
        Ratio::new(i128::from(self.won), i128::from(self.reached))
    }
    pub fn to_won_by_value(&self) -> Option<Ratio> {
        Ratio::new(self.won_amount, self.reached_amount)
    }
}

/// Stage → stage and stage → won conversion in one pipeline, for deals resolved in `window`.
pub fn conversion(projection: &Projection, scope: &Scope, pipeline: u16, as_of: Day, window: Period) -> Vec<ConversionLine> {
    let scope = scope.clone().in_pipeline(pipeline);
    let view = View::as_of(projection, &scope, as_of);
    let stages = view.counting_stages(pipeline);
    let n = stages.len();
    // Per stage: reached count, reached amount; plus won count and amount.
    let (reached, reached_amount, won, won_amount) = fold_deals(
        &projection.candidates(window.first.min(as_of.saturating_add(1))),
        view.threads(),
        || (vec![0u64; n], vec![0i128; n], 0u64, 0i128),
        |(reached, reached_amount, won, won_amount), deal| {
            let mut state = DealState::EMPTY;
            if !projection.state_into(deal as u32, as_of, &mut state) {
                return;
            }
            if !window.contains(state.closed_day) || !view.admits(&state) {
                return;
            }
            let Some(is_won) = view.outcome(&state) else { return };
            let amount = i128::from(state.amount_or_zero());
            let max_position = if is_won { i16::MAX } else { projection.max_open_position_at(deal as u32, as_of, &state) };
            for (line, stage) in stages.iter().enumerate() {
                if view.stage(*stage).position as i16 <= max_position {
                    reached[line] += 1;
                    reached_amount[line] += amount;
                }
            }
            if is_won {
                *won += 1;
                *won_amount += amount;
            }
        },
        |acc, more| {
            for line in 0..n {
                acc.0[line] += more.0[line];
                acc.1[line] += more.1[line];
            }
            acc.2 += more.2;
            acc.3 += more.3;
        },
    );
    (0..n)
        .map(|line| {
            let (advanced, advanced_amount) = if line + 1 < n { (reached[line + 1], reached_amount[line + 1]) } else { (won, won_amount) };
            ConversionLine {
                stage: stages[line],
                next_stage: stages.get(line + 1).copied(),
                reached: reached[line],
                reached_amount: reached_amount[line],
                advanced,
                advanced_amount,
                won,
                won_amount,
            }
        })
        .collect()
}

/// Time spent in one stage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StageTime {
    pub stage: u16,
    /// Stays that ended in the window, and their total length in days.
    pub completed_stays: u64,
    pub completed_days: i64,
    /// Deals in the stage as of the day, and their total age in it.
    pub current_deals: u64,
    pub current_days: i64,
}

impl StageTime {
    pub fn average_completed_days(&self) -> Option<Ratio> {
        Ratio::new(i128::from(self.completed_days), i128::from(self.completed_stays))
    }
    pub fn average_current_days(&self) -> Option<Ratio> {
        Ratio::new(i128::from(self.current_days), i128::from(self.current_deals))
    }
}

/// Time in stage from history, for every stage (indexed by stage index).
pub fn time_in_stage(projection: &Projection, scope: &Scope, as_of: Day, window: Period) -> Vec<StageTime> {
    let view = View::as_of(projection, scope, as_of);
    let n_stages = view.stages.len();
    let mut times = fold_deals(
        &projection.candidates(window.first.min(as_of.saturating_add(1))),
        view.threads(),
        || vec![StageTime::default(); n_stages],
        |times, deal| {
            let mut state = DealState::EMPTY;
            if !projection.state_into(deal as u32, as_of, &mut state) {
                return;
            }
            if !view.admits(&state) {
                return;
            }
            let mut entered = state.created_day;
            for (left_day, left_stage) in projection.stage_changes(deal as u32) {
                if left_day > as_of {
                    break;
                }
                if window.contains(left_day) && left_stage != NO_STAGE {
                    let time = &mut times[left_stage as usize];
                    time.completed_stays += 1;
                    time.completed_days += i64::from(left_day - entered);
                }
                entered = left_day;
            }
            if view.stage(state.stage).open {
                let time = &mut times[state.stage as usize];
                time.current_deals += 1;
                time.current_days += i64::from(as_of - entered);
            }
        },
        |times, more| {
            for (time, other) in times.iter_mut().zip(more) {
                time.completed_stays += other.completed_stays;
                time.completed_days += other.completed_days;
                time.current_deals += other.current_deals;
                time.current_days += other.current_days;
            }
        },
    );
    for (stage, time) in times.iter_mut().enumerate() {
        time.stage = stage as u16;
    }
    times
}

/// A waterfall bucket: how many deals moved and by how much (signed: outflows negative).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bucket {
    pub count: i64,
    pub amount: i128,
}

impl Bucket {
    #[inline(always)]
    fn add(&mut self, count: i64, amount: i128) {
        self.count += count;
        self.amount += amount;
    }
    fn merge(&mut self, other: Bucket) {
        self.count += other.count;
        self.amount += other.amount;
    }
}

/// The pipeline of a period `P` at the end of day `from`, its movements, and the pipeline at
/// the end of day `to`.
///
/// The **pipeline of `P` as of `d`** is the open pipeline (open, counting, in the scope's
/// pipeline) whose close date as of `d` lies in `P`. Call `S` a deal's state as of `from` and
/// `E` as of `to`, `s` and `e` its amounts then (no amount = 0), "in" membership of that
/// pipeline, whoever owns the deal.
///
/// **Attribution.** A deal's moves belong to its owner at `to`, except its start and its
/// transfer out, which belong to its owner at `from`; a scope counts the moves of the owners it
/// admits. So a deal in at `from` whose owner changed adds `+s` to start and `−s` to
/// **transferred out** for the old owner, and `+s` to **transferred in** for the new one, who
/// then takes the rest of its movement as if it had been theirs at `from`. The waterfalls of
/// any partition of owners (the reps of a team) add up to the whole's bucket by bucket; a
/// transfer between two reps of one team shows in the team's waterfall as equal amounts in and
/// out.
///
/// For the owner at `to`, each deal moves exactly one way, checked in this order, with outflows
/// negative:
///
/// - in at both: `e − s` to **increased** (if positive) or **decreased** (if negative).
/// - in at `from` only: first `e − s` to increased/decreased (the value changed while it
///   left), then `−e` to exactly one of **won** (`E` won), **lost** (`E` lost, as a real
///   outcome: see [`Outcomes`]), **pushed out** (`E` still open and counting, in the scope's
///   pipeline, but its close date moved out of `P`, usually later), or **removed** (anything
///   else: moved back to a non-counting stage, lost from one, moved to a pipeline out of
///   scope).
/// - in at `to` only: `+e` to **pulled in** when `S` was open, counting and in the scope's
///   pipeline with a close date outside `P` (or none) — its close date moved into `P`, usually
///   from after — and otherwise to **new** (created after `from`, promoted from a non-counting
///   stage, reopened, or moved into the scope's pipeline).
/// - in at neither, but closed as of `to` with a closed day after `from` and in `P`, as a real
///   outcome (see [`Outcomes`]) and in scope: the deal entered and left within the interval:
///   `+e` to new (or pulled in, by the rule above) and `−e` to won or lost.
///
/// Hence, exactly and to the minor unit:
/// `end = start + new + increased + decreased + pulled_in + pushed_out + won + lost + removed +
/// transferred_in + transferred_out`, and the counts reconcile the same way (increased and
/// decreased count deals but move none).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Waterfall {
    pub from: Day,
    pub to: Day,
    pub period: Option<Period>,
    pub start: Bucket,
    pub new: Bucket,
    pub increased: Bucket,
    pub decreased: Bucket,
    pub pulled_in: Bucket,
    pub pushed_out: Bucket,
    pub won: Bucket,
    pub lost: Bucket,
    pub removed: Bucket,
    pub transferred_in: Bucket,
    pub transferred_out: Bucket,
    pub end: Bucket,
}

impl Waterfall {
    /// The movements in display order.
    pub fn movements(&self) -> [(WaterfallBucket, Bucket); 10] {
        WaterfallBucket::MOVEMENTS.map(|bucket| (bucket, self.bucket(bucket)))
    }

    /// One bucket's deals and amount.
    pub fn bucket(&self, bucket: WaterfallBucket) -> Bucket {
        match bucket {
            WaterfallBucket::Start => self.start,
            WaterfallBucket::New => self.new,
            WaterfallBucket::Increased => self.increased,
            WaterfallBucket::Decreased => self.decreased,
            WaterfallBucket::PulledIn => self.pulled_in,
            WaterfallBucket::PushedOut => self.pushed_out,
            WaterfallBucket::Won => self.won,
            WaterfallBucket::Lost => self.lost,
            WaterfallBucket::Removed => self.removed,
            WaterfallBucket::TransferredIn => self.transferred_in,
            WaterfallBucket::TransferredOut => self.transferred_out,
            WaterfallBucket::End => self.end,
        }
    }

    #[inline(always)]
    fn bucket_mut(&mut self, bucket: WaterfallBucket) -> &mut Bucket {
        match bucket {
            WaterfallBucket::Start => &mut self.start,
            WaterfallBucket::New => &mut self.new,
            WaterfallBucket::Increased => &mut self.increased,
            WaterfallBucket::Decreased => &mut self.decreased,
            WaterfallBucket::PulledIn => &mut self.pulled_in,
            WaterfallBucket::PushedOut => &mut self.pushed_out,
            WaterfallBucket::Won => &mut self.won,
            WaterfallBucket::Lost => &mut self.lost,
            WaterfallBucket::Removed => &mut self.removed,
            WaterfallBucket::TransferredIn => &mut self.transferred_in,
            WaterfallBucket::TransferredOut => &mut self.transferred_out,
            WaterfallBucket::End => &mut self.end,
        }
    }

    /// `start + Σ movements == end`, in amount and in deal count.
    pub fn reconciles(&self) -> bool {
        let amount: i128 = self.start.amount + self.movements().iter().map(|(_, bucket)| bucket.amount).sum::<i128>();
        let count: i64 =
            self.start.count + self.movements().iter().filter(|(name, _)| !name.is_change()).map(|(_, bucket)| bucket.count).sum::<i64>();
        amount == self.end.amount && count == self.end.count
    }

    pub(crate) fn merge(&mut self, other: Waterfall) {
        for bucket in WaterfallBucket::ALL {
            self.bucket_mut(bucket).merge(other.bucket(bucket));
        }
    }

    /// Adds one deal (states as of `from` and `to`) by the rule of [`View::waterfall_rule`].
    #[inline(always)]
    pub(crate) fn add(&mut self, view: &View, period: Period, start: Option<&DealState>, end: &DealState) {
        let from = self.from;
        view.waterfall_rule(period, from, start, end, |bucket, count, amount| self.bucket_mut(bucket).add(count, amount));
    }
}

/// The waterfall of the pipeline of `period` from the end of day `from` to the end of day `to`.
pub fn waterfall(projection: &Projection, scope: &Scope, period: Period, from: Day, to: Day) -> Waterfall {
    let view = View::as_of(projection, scope, to);
    let blank = Waterfall { from, to, period: Some(period), ..Waterfall::default() };
    fold_deals(
        &projection.candidates(period.first.min(from.saturating_add(1))),
        view.threads(),
        || blank,
        |waterfall, deal| {
            let (mut start, mut end) = (DealState::EMPTY, DealState::EMPTY);
            if !projection.state_into(deal as u32, to, &mut end) {
                return;
            }
            let start_exists = projection.state_into(deal as u32, from, &mut start);
            waterfall.add(&view, period, start_exists.then_some(&start), &end);
        },
        Waterfall::merge,
    )
}

/// One point of a trend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrendPoint<T> {
    pub day: Day,
    pub value: T,
}

/// Any figure evaluated as of each of `days`: `trend(days, |day| outcomes(p, &scope, day, …))`.
pub fn trend<T>(days: impl IntoIterator<Item = Day>, mut figure: impl FnMut(Day) -> T) -> Vec<TrendPoint<T>> {
    days.into_iter().map(|day| TrendPoint { day, value: figure(day) }).collect()
}

/// The open pipeline by stage and the outcomes of the trailing `window_days` as of each of
/// `days`: equal to [`pipeline_by_stage`]`(…, day, None)` and [`outcomes`]`(…, day,
/// Period::trailing(day, window_days))` for each day, computed in one pass that walks each
/// deal's changes back once for all the days (a dashboard's weekly trend).
pub fn pipeline_and_outcomes_trend(
    projection: &Projection,
    scope: &Scope,
    days: &[Day],
    window_days: i32,
) -> Vec<TrendPoint<(PipelineByStage, Outcomes)>> {
    let view = View::new(projection, scope);
    let mut descending: Vec<Day> = days.to_vec();
    descending.sort_unstable_by(|a, b| b.cmp(a));
    descending.dedup();
    let Some(&earliest) = descending.last() else { return Vec::new() };
    // Each day read with its stages' settings of that day.
    let views: Vec<View> = descending.iter().map(|day| View::as_of(projection, scope, *day)).collect();
    let windows: Vec<Period> = descending.iter().map(|day| Period::trailing(*day, window_days)).collect();
    let horizon = windows.last().expect("a day").first.min(earliest.saturating_add(1));
    let n_stages = view.stages.len();
    let (stage_sums, outcomes) = fold_deals(
        &projection.candidates(horizon),
        view.threads(),
        || (vec![StageSums::new(n_stages); descending.len()], vec![Outcomes::default(); descending.len()]),
        |(stage_sums, outcomes), deal| {
            projection.states_at_days(deal as u32, &descending, |k, state| {
                stage_sums[k].add(&views[k], state);
                outcomes[k].add(&views[k], state, windows[k]);
            });
        },
        |acc, more| {
            for (sums, other) in acc.0.iter_mut().zip(more.0) {
                sums.merge(other);
            }
            for (sums, other) in acc.1.iter_mut().zip(more.1) {
                sums.merge(other);
            }
        },
    );
    let mut points: Vec<TrendPoint<(PipelineByStage, Outcomes)>> = descending
        .iter()
        .zip(stage_sums.iter().zip(outcomes))
        .zip(&views)
        .map(|((day, (sums, outcomes)), view)| TrendPoint { day: *day, value: (sums.finish(view), outcomes) })
        .collect();
    points.reverse();
    points
}

/// Every `step` days from `first` to `last`, always ending with `last`.
pub fn days_every(first: Day, last: Day, step: i32) -> Vec<Day> {
    let step = step.max(1);
    let mut days: Vec<Day> = (0..).map(|k| last - k * step).take_while(|day| *day >= first).collect();
    days.reverse();
    days
}

/// A won deal, as pay credits it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WonDeal {
    pub id: pipewise_core::OpportunityId,
    /// Minor units of the reporting currency, converted at the rate of the day it was set.
    pub amount: i64,
    /// Minor units of `currency`, the deal's own.
    pub amount_native: i64,
    pub currency: pipewise_core::Currency,
    pub closed_day: Day,
    /// The day it was reopened or lost since, or [`NO_DAY`] while it stays won.
    pub reversed_day: Day,
}

/// The deals won with a close in `period` (with an amount), by the owner who won them: one list
/// per owner index, in deal order, for the deals `keep(owner, deal)` admits. One pass over the
/// deals.
///
/// - A deal in a won stage now is listed as it stands now (a corrected amount counts), credited
///   to its owner at the end of its close day: handing a won deal or its account to someone else
///   afterwards (a territory transfer) moves no credit.
/// - With `reversals`, a deal reopened or lost since is listed as it stood the day before its
///   last reversal, when it was won then with a close in `period`, credited to its owner at the
///   end of its close day, with the day of the reversal: the plan's clawback rule decides what
///   that takes back. Its amount is the one it had then; a deal in another currency than the
///   reporting one keeps its own currency's amount as it is now (the projection keeps the
///   reporting amount's past). Without `reversals`, such deals are left out (what a plan without
///   a clawback window takes back anyway), and their changes are not read.
pub fn won_by_owner(
    projection: &Projection,
    period: Period,
    reversals: bool,
    keep: impl Fn(u32, pipewise_core::OpportunityId) -> bool,
) -> Vec<Vec<WonDeal>> {
    let reporting = projection.reporting_currency();
    let deals = projection.deals();
    let won = |stage: u16| {
        stage != crate::projection::NO_STAGE && projection.stages[stage as usize].kind == pipewise_core::pipeline::StageKind::Won
    };
    let mut by_owner = vec![Vec::new(); projection.n_owners()];
    let mut state = crate::projection::DealState::EMPTY;
    for index in 0..deals.id.len() {
        let deal = index as u32;
        let listed = if won(deals.stage[index]) {
            let closed_day = deals.closed_day[index];
            if !period.contains(closed_day) || deals.amount[index] == crate::projection::NO_AMOUNT {
                continue;
            }
            // Its owner at the close: the current one unless the owner changed since (read
            // back only then: most won deals change no owner after their close).
            let mut owner = deals.owner[index];
            if deals.last_event_day[index] > closed_day
                && projection.changes(deal).any(|(day, field)| day > closed_day && field == Field::Owner)
                && projection.state_into(deal, closed_day, &mut state)
            {
                owner = state.owner;
            }
            if !keep(owner, deals.id[index]) {
                continue;
            }
            (owner, deals.amount[index], deals.amount_native[index], closed_day, NO_DAY)
        } else {
            // A reversal comes after the win, so a deal whose last change is before the period
            // cannot have been won in it and reversed since (most of a long history).
            if !reversals || deals.last_event_day[index] < period.first {
                continue;
            }
            // The last time it left a won stage, and how it stood the day before.
            let Some(reversed) = projection.stage_changes(deal).filter(|(_, left)| won(*left)).map(|(day, _)| day).last() else {
                continue;
            };
            if !projection.state_into(deal, reversed - 1, &mut state)
                || !won(state.stage)
                || !period.contains(state.closed_day)
                || state.amount == crate::projection::NO_AMOUNT
            {
                continue;
            }
            let (amount, closed_day) = (state.amount, state.closed_day);
            if !projection.state_into(deal, closed_day, &mut state) || !keep(state.owner, deals.id[index]) {
                continue;
            }
            (state.owner, amount, deals.amount_native[index], closed_day, reversed)
        };
        let (owner, amount, native, closed_day, reversed_day) = listed;
        // Its amount in its own currency: in the reporting one, the amount it had; in another,
        // the one it has now (none: nothing to credit).
        let current = projection.currencies.get(deals.currency[index] as usize).copied();
        let (native, currency) = match current {
            Some(currency) if currency != reporting && native != crate::projection::NO_AMOUNT => (native, currency),
            _ if reversed_day != NO_DAY || current == Some(reporting) => (amount, reporting),
            _ => continue,
        };
        by_owner[owner as usize].push(WonDeal { id: deals.id[index], amount, amount_native: native, currency, closed_day, reversed_day });
    }
    by_owner
}
