//! The leaderboard and the org-wide dashboard: every figure of the page in one call.
//!
//! [`dashboard`] makes one pass over the deal columns, split over [`Projection::threads`]
//! threads, feeding every figure's sums at once: the pipeline by stage; the per-rep sums of the
//! leaderboard (which also give the organisation's outcomes, coverage and, with the open count,
//! velocity); the waterfall of the period from the day before it starts to the as-of day (or
//! the period's last day, if earlier); and the health sums. Each figure is also available
//! alone (`metrics::*`, [`leaderboard`], `health::health`) with identical results.
//!
//! # Leaderboard
//! One row per rep in scope with deals *in play* ([`DashboardQuery::play_horizon`]: open, or
//! created or closed since the start of the window or the period, whichever is earlier; a rep
//! whose deals all closed before that is not listed): won amount and count with a closed day in the period,
//! attainment = won amount ÷ quota (when a quota is given), open pipeline (all open counting
//! deals, any close date), the part of it closing in the period, and the window's outcomes
//! (win rate, average cycle). Sorted by won amount, then open pipeline, both descending, then
//! by user id.

use pipewise_core::UserId;

use crate::health::{Checker, GroupSums, HealthOverview, HealthThresholds, StageRules, health_add, health_finish};
use crate::metrics::{Coverage, Outcomes, PipelineByStage, StageSums, Velocity, View, Waterfall, coverage_from, velocity_from};
use crate::projection::{ActivityFacts, DealState, Projection};
use crate::{Day, Period, Ratio, Scope, fold_deals};

/// What the dashboard (and [`health`]) computes, and for whom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DashboardQuery {
    /// Everything is as of the end of this day.
    pub as_of: Day,
    pub scope: Scope,
    /// The period of coverage, the waterfall and the leaderboard's won amount (a quarter).
    pub period: Period,
    /// The trailing window of win rate, cycle and deal size.
    pub window: Period,
    /// The scope's quota for the period, in reporting minor units.
    pub quota: Option<i64>,
    /// Quotas by owner index.
    pub rep_quotas: Vec<Option<i64>>,
    pub thresholds: HealthThresholds,
    /// The activity facts as of `as_of` when it is not today (activities are not in the history
    /// log, so the projection's own facts are today's); `None` reads the projection's.
    pub facts: Option<std::sync::Arc<ActivityFacts>>,
}

impl DashboardQuery {
    /// The organisation as of `as_of`: the calendar quarter holding it, a 365-day window.
    pub fn new(as_of: Day) -> DashboardQuery {
        DashboardQuery {
            as_of,
            scope: Scope::org(),
            period: Period::quarter_of(as_of),
            window: Period::trailing(as_of, 365),
            quota: None,
            rep_quotas: Vec::new(),
            thresholds: HealthThresholds::default(),
            facts: None,
        }
    }

    /// The first day of the deals *in play*: the earlier of the window's and the period's first
    /// days. A deal is in play when it is open, or was created or closed on or after it; the
    /// leaderboard lists, and health reports on, the reps with deals in play.
    pub fn play_horizon(&self) -> Day {
        self.window.first.min(self.period.first)
    }

    /// The first day that matters to the query's figures: the earliest of the play horizon, the
    /// day after the waterfall's start, the day after the as-of day and the first day of the
    /// "no new opportunities" look-back. A deal closed before it and not changed since adds
    /// nothing to any figure of the query, so figures skip such deals
    /// ([`Projection::candidates`]).
    pub fn horizon(&self) -> Day {
        let (from, _) = self.waterfall_span();
        self.play_horizon()
            .min(from.saturating_add(1))
            .min(self.as_of.saturating_add(1))
            .min(self.as_of.saturating_sub(self.thresholds.no_new_days.max(0)))
    }

    /// The activity facts the health checks read: the query's own, or the projection's.
    pub fn facts<'a>(&'a self, projection: &'a Projection) -> &'a ActivityFacts {
        self.facts.as_deref().unwrap_or(&projection.activity)
    }

    /// The waterfall's span: from the end of the day before the period to the as-of day, or the
    /// period's last day if that comes first. A period that starts after the as-of day is not
    /// computed backwards, nor from days the as-of view does not know: its span is the as-of day
    /// alone (the pipeline closing in it as of that day, nothing moved). The edges refuse such a
    /// query or say they clamped it ([`DashboardQuery::period_after_as_of`]).
    pub fn waterfall_span(&self) -> (Day, Day) {
        if self.period_after_as_of() {
            return (self.as_of, self.as_of);
        }
        (self.period.first - 1, self.as_of.min(self.period.last))
    }

    /// Whether the period starts after the as-of day.
    pub fn period_after_as_of(&self) -> bool {
        self.period.first > self.as_of
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaderboardRow {
    pub owner: u32,
    pub user_id: UserId,
    pub won_amount: i128,
    pub won_count: u64,
    pub quota: Option<i64>,
    pub attainment: Option<Ratio>,
    pub pipeline_amount: i128,
    pub open_deals: u64,
    pub open_closing_in_period: i128,
    pub open_deals_closing_in_period: u64,
    /// Outcomes of the window: win rate, cycle.
    pub outcomes: Outcomes,
}

impl LeaderboardRow {
    pub fn win_rate(&self) -> Option<Ratio> {
        self.outcomes.win_rate_by_count()
    }
    pub fn average_cycle_days(&self) -> Option<Ratio> {
        self.outcomes.average_cycle_days()
    }
}

#[derive(Clone, Copy, Default)]
struct RepSums {
    won_amount: i128,
    won_count: u64,
    pipeline_amount: i128,
    open_deals: u64,
    open_closing_in_period: i128,
    open_deals_closing_in_period: u64,
    outcomes: Outcomes,
    deals: u64,
}

impl RepSums {
    #[inline(always)]
    fn add(&mut self, view: &View, query: &DashboardQuery, play: Day, state: &DealState) {
        self.deals += u64::from(view.in_play(state, play));
        let stage = view.stage(state.stage);
        let amount = i128::from(state.amount_or_zero());
        if stage.open {
            // The caller admitted the deal: this is the open pipeline's rule.
            if view.in_open_pipeline(state) {
                self.open_deals += 1;
                self.pipeline_amount += amount;
                if query.period.contains(state.close_day) {
                    self.open_closing_in_period += amount;
                    self.open_deals_closing_in_period += 1;
                }
            }
            return;
        }
        if query.period.contains(state.closed_day) && view.outcome(state) == Some(true) {
            self.won_amount += amount;
            self.won_count += 1;
        }
        self.outcomes.add(view, state, query.window);
    }

    fn merge_all(sums: &mut [RepSums], more: Vec<RepSums>) {
        for (rep, other) in sums.iter_mut().zip(more) {
            rep.won_amount += other.won_amount;
            rep.won_count += other.won_count;
            rep.pipeline_amount += other.pipeline_amount;
            rep.open_deals += other.open_deals;
            rep.open_closing_in_period += other.open_closing_in_period;
            rep.open_deals_closing_in_period += other.open_deals_closing_in_period;
            rep.outcomes.merge(other.outcomes);
            rep.deals += other.deals;
        }
    }
}

/// The leaderboard of the query's scope.
pub fn leaderboard(projection: &Projection, query: &DashboardQuery) -> Vec<LeaderboardRow> {
    let view = View::as_of(projection, &query.scope, query.as_of);
    let play = query.play_horizon();
    let sums = fold_deals(
        &projection.candidates(query.horizon()),
        view.threads(),
        || vec![RepSums::default(); projection.n_owners()],
        |sums, deal| {
            let mut state = DealState::EMPTY;
            if projection.state_into(deal as u32, query.as_of, &mut state) && view.admits(&state) {
                sums[state.owner as usize].add(&view, query, play, &state);
            }
        },
        |sums, more| RepSums::merge_all(sums, more),
    );
    leaderboard_rows(projection, query, &sums)
}

fn leaderboard_rows(projection: &Projection, query: &DashboardQuery, sums: &[RepSums]) -> Vec<LeaderboardRow> {
    let mut rows: Vec<LeaderboardRow> = sums
        .iter()
        .enumerate()
        .filter(|(_, rep)| rep.deals > 0)
        .map(|(owner, rep)| {
            let quota = query.rep_quotas.get(owner).copied().flatten();
            LeaderboardRow {
                owner: owner as u32,
                user_id: projection.owner_ids[owner],
                won_amount: rep.won_amount,
                won_count: rep.won_count,
                quota,
                attainment: quota.and_then(|quota| Ratio::new(rep.won_amount, i128::from(quota))),
                pipeline_amount: rep.pipeline_amount,
                open_deals: rep.open_deals,
                open_closing_in_period: rep.open_closing_in_period,
                open_deals_closing_in_period: rep.open_deals_closing_in_period,
                outcomes: rep.outcomes,
            }
        })
        .collect();
    rows.sort_by(|a, b| b.won_amount.cmp(&a.won_amount).then(b.pipeline_amount.cmp(&a.pipeline_amount)).then(a.user_id.cmp(&b.user_id)));
    rows
}

/// The org-wide page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dashboard {
    pub as_of: Day,
    pub pipeline: PipelineByStage,
    /// `None` without a quota.
    pub coverage: Option<Coverage>,
    pub outcomes: Outcomes,
    pub velocity: Option<Velocity>,
    pub waterfall: Waterfall,
    pub health: HealthOverview,
    pub leaderboard: Vec<LeaderboardRow>,
}

/// Every figure of the page for `query` (see the module documentation), in one pass.
pub fn dashboard(projection: &Projection, query: &DashboardQuery) -> Dashboard {
    struct Sums {
        stages: StageSums,
        reps: Vec<RepSums>,
        waterfall: Waterfall,
        health: GroupSums,
    }
    let view = View::as_of(projection, &query.scope, query.as_of);
    let rules = StageRules::new(projection, &view, &query.thresholds);
    let checker = Checker { view: &view, rules: &rules, thresholds: &query.thresholds, as_of: query.as_of, facts: query.facts(projection) };
    let (from, to) = query.waterfall_span();
    let (horizon, play) = (query.horizon(), query.play_horizon());
    let blank_waterfall = Waterfall { from, to, period: Some(query.period), ..Waterfall::default() };
    let (n_owners, n_stages) = (projection.n_owners(), view.stages.len());
    let sums = fold_deals(
        &projection.candidates(horizon),
        view.threads(),
        || Sums {
            stages: StageSums::new(n_stages),
            reps: vec![RepSums::default(); n_owners],
            waterfall: blank_waterfall,
            health: GroupSums::new(n_owners, n_stages),
        },
        |sums, deal| {
            let mut state = DealState::EMPTY;
            if !projection.state_into(deal as u32, query.as_of, &mut state) {
                return;
            }
            // The waterfall's end is usually the as-of state itself: borrow it, never copy it
            // (a copy of a freshly built state stalls on store forwarding).
            let mut other_end = DealState::EMPTY;
            let end_exists = to == query.as_of || projection.state_into(deal as u32, to, &mut other_end);
            if end_exists {
                let end = if to == query.as_of { &state } else { &other_end };
                let mut start = DealState::EMPTY;
                let start_exists = projection.state_into(deal as u32, from, &mut start);
                sums.waterfall.add(&view, query.period, start_exists.then_some(&start), end);
            }
            if !view.admits(&state) {
                return;
            }
            sums.stages.add(&view, &state);
            sums.reps[state.owner as usize].add(&view, query, play, &state);
            health_add(&checker, query, horizon, &mut sums.health, deal, &state);
        },
        |sums, more| {
            sums.stages.merge(more.stages);
            RepSums::merge_all(&mut sums.reps, more.reps);
            sums.waterfall.merge(more.waterfall);
            sums.health.merge(more.health);
        },
    );
    let pipeline = sums.stages.finish(&view);
    let leaderboard = leaderboard_rows(projection, query, &sums.reps);
    let mut outcomes = Outcomes::default();
    let (mut open_in_period, mut won_in_period, mut open_deals_in_period) = (0i128, 0i128, 0u64);
    for rep in &sums.reps {
        outcomes.merge(rep.outcomes);
        open_in_period += rep.open_closing_in_period;
        won_in_period += rep.won_amount;
        open_deals_in_period += rep.open_deals_closing_in_period;
    }
    let coverage = query.quota.map(|quota| coverage_from(query.period, open_in_period, open_deals_in_period, won_in_period, quota));
    let velocity = velocity_from(pipeline.count, &outcomes);
    let health = health_finish(projection, query, &rules, &sums.health);
    Dashboard { as_of: query.as_of, pipeline, coverage, outcomes, velocity, waterfall: sums.waterfall, health, leaderboard }
}
