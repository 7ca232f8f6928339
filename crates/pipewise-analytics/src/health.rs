//! Pipeline health (SPEC C5, seed 002): flags and healthy signals per deal, rep, team and the
//! organisation, each a code with the numbers behind it ([`Flag`]), and the next-lever
//! recommendation with its numbers ([`LeverAdvice`]). This crate states facts only: the edges
//! word them (pipewise-web's message catalogs, `health.reason.<code>` and
//! `health.lever.<lever>`), with the numbers as their arguments.
//!
//! # Deal flags (open deals as of the day `d`; thresholds in [`HealthThresholds`])
//! Follow-up flags apply to every open deal, including a non-counting stage 1 (those deals
//! still get follow-up reminders); pipeline flags only to open deals in counting stages.
//! - `stale` (follow-up): days in the current stage `d − entered` exceed the stage's rotting age.
//! - `untouched` (follow-up): days since the last activity (or creation, if none) exceed
//!   `untouched_days`.
//! - `going_dark` (follow-up): days since the last *inbound* activity (or creation) exceed
//!   `going_dark_days` (default 21, clamped to 14–42).
//! - `past_close_date` (follow-up): the close date is before `d`.
//! - `close_date_pushed` (pipeline): the close date moved later at least `pushed_min` times.
//! - `overdue_tasks` (follow-up): tasks or close-plan items past due (input count) > 0.
//! - `single_threaded` (pipeline): contacts engaged ≤ `single_threaded_max_contacts`.
//! - `no_amount` (pipeline): no amount, or zero.
//! - `late_updates` (follow-up): an activity was logged more than `late_update_days` after it
//!   happened (input: the deal's largest `logged_at − occurred_at`).
//!
//! Healthy deal signals (open counting deals): `moving` (stage changed within `moving_days`),
//! `well_touched` (≥ `touchpoints_healthy` touchpoints in 30 days), `multi_threaded`
//! (≥ `multi_threaded_min_contacts` contacts).
//!
//! # Group flags (a rep, a team, the organisation; over its open counting deals)
//! - `too_many_late_stage` (rep): more than `rep_late_stage_max` (default 50) deals in late
//!   stages at once; a late stage is an open stage whose win probability is at least
//!   `late_stage_min_win_bp` (proposal / negotiation / approval-like stages).
//! - `bottleneck`: with at least `bottleneck_min_deals` open deals, a stage holds more of them
//!   than it usually does. A stage's *usual share* is its average share of the organisation's
//!   open counting deals (of the scope's pipeline, if it names one) at the end of each of the 13
//!   weeks before the as-of day ([`usual_stage_shares`], in basis points), over the weeks with
//!   at least `bottleneck_min_deals` open deals; with at least 4 such weeks and
//!   `bottleneck_excess_pts` > 0, a stage's limit is its usual share plus `bottleneck_excess_pts`
//!   percentage points, and never below an even split over the counting stages of the pipelines
//!   holding the group's open deals; the group's stage furthest over its limit is the bottleneck
//!   (the limit shown in whole percent, rounded down). A funnel that is always front-loaded is
//!   then no bottleneck, nor is a stage holding no more than its even part. Otherwise (the rule
//!   set to 0, or too little history) the seed's fixed rule: one stage holds more than
//!   `bottleneck_share_pct` % of them (the largest such stage is named).
//! - `parked_in_late_stages`: with at least `bottleneck_min_deals` open deals, more than
//!   `late_stage_share_max_pct` % sit in late stages.
//! - `thin_pipeline`: a quota is known and coverage is below `coverage_target_pct`.
//! - `no_new_opportunities`: the group has deals in play but none created in the last
//!   `no_new_days`; its value, the days since the newest creation, is a lower bound when
//!   that lies before the query's horizon (older creations are not looked at).
//! - **Stalling, rep vs team.** A rep *stalls* at stage `s` when they have at least
//!   `stall_min_deals` open deals in `s` and at least `stall_share_pct` % of them are stale.
//!   A team stalls at `s` (`team_stalling`, a process problem) when among its reps with at
//!   least `stall_min_deals` open deals in `s`, at least `team_stall_min_reps` stall and they
//!   are at least `team_stall_reps_pct` % of those reps. Those reps' stalls at `s` are then
//!   part of the team's flag. Every other stalling rep gets `rep_stalling` (a coaching matter).
//!
//! Healthy group signals: `value_spread` (value in at least `min(3, open counting stages)`
//! stages and no stage above `spread_max_share_pct` % of it), `deals_moving` (at least
//! `moving_share_pct` % of open deals changed stage within `moving_days`), `many_touchpoints`
//! (average touchpoints in 30 days per open deal ≥ `touchpoints_healthy`), `front_loaded` (at
//! least `front_loaded_share_pct` % of open deals in the first half of the pipeline's open
//! counting stages: rank `r` of `k` with `2r < k`).
//!
//! # Next lever
//! From coverage `C` (open pipeline closing in the period ÷ remaining quota) and the trailing
//! win rate by value `W`:
//! 1. No remaining quota (or none given): no advice.
//! 2. If `W` is known and `C × W ≥ 1` (the pipeline, converting as usual, covers what remains):
//!    **convert what you have**.
//! 3. Else if `C` is below the coverage target: **fill the top of the funnel**.
//! 4. Else (enough pipeline by the target, but usual conversion falls short): **convert what
//!    you have**.

use crate::dashboard::DashboardQuery;
use crate::metrics::View;
use crate::projection::{ActivityFacts, DealState, NO_AMOUNT, NO_INDEX, Projection};
use crate::{Day, NO_DAY, Ratio, Scope, fold_deals};

/// Every threshold of the module documentation, with the defaults from SPEC C5 and seed 002.
/// Each organisation may change them (`pipewise_store::ops::set_health_thresholds`, which names
/// each field's allowed range); edges put the organisation's in [`DashboardQuery::thresholds`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HealthThresholds {
    pub untouched_days: i32,
    /// Clamped to 14–42 (2–6 weeks).
    pub going_dark_days: i32,
    pub pushed_min: u16,
    pub single_threaded_max_contacts: u16,
    pub late_update_days: i32,
    pub moving_days: i32,
    pub touchpoints_healthy: u32,
    pub multi_threaded_min_contacts: u16,
    /// Win probability (basis points of one) from which an open stage is "late".
    pub late_stage_min_win_bp: i64,
    pub rep_late_stage_max: u32,
    pub bottleneck_share_pct: u32,
    pub bottleneck_min_deals: u32,
    /// Percentage points above a stage's usual share of the organisation's open deals from
    /// which it is a bottleneck (see the module doc); 0 uses `bottleneck_share_pct` alone.
    pub bottleneck_excess_pts: u32,
    pub late_stage_share_max_pct: u32,
    /// Coverage target in percent: 300 means 3×.
    pub coverage_target_pct: u32,
    pub no_new_days: i32,
    pub stall_share_pct: u32,
    pub stall_min_deals: u32,
    pub team_stall_reps_pct: u32,
    pub team_stall_min_reps: u32,
    pub spread_max_share_pct: u32,
    pub moving_share_pct: u32,
    pub front_loaded_share_pct: u32,
}

impl Default for HealthThresholds {
    fn default() -> HealthThresholds {
        HealthThresholds {
            untouched_days: 14,
            going_dark_days: 21,
            pushed_min: 2,
            single_threaded_max_contacts: 1,
            late_update_days: 7,
            moving_days: 14,
            touchpoints_healthy: 6,
            multi_threaded_min_contacts: 3,
            late_stage_min_win_bp: 5_000,
            rep_late_stage_max: 50,
            bottleneck_share_pct: 40,
            bottleneck_min_deals: 10,
            bottleneck_excess_pts: 15,
            late_stage_share_max_pct: 50,
            coverage_target_pct: 300,
            no_new_days: 30,
            stall_share_pct: 50,
            stall_min_deals: 3,
            team_stall_reps_pct: 50,
            team_stall_min_reps: 2,
            spread_max_share_pct: 50,
            moving_share_pct: 30,
            front_loaded_share_pct: 50,
        }
    }
}

impl HealthThresholds {
    pub fn going_dark(&self) -> i32 {
        self.going_dark_days.clamp(14, 42)
    }
}

/// Stable flag and signal codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FlagCode {
    Stale,
    Untouched,
    GoingDark,
    PastCloseDate,
    CloseDatePushed,
    OverdueTasks,
    SingleThreaded,
    NoAmount,
    LateUpdates,
    Moving,
    WellTouched,
    MultiThreaded,
    TooManyLateStage,
    ThinPipeline,
    NoNewOpportunities,
    RepStalling,
    TeamStalling,
    Bottleneck,
    ParkedInLateStages,
    ValueSpread,
    DealsMoving,
    ManyTouchpoints,
    FrontLoaded,
}

/// Number of per-deal codes (flags and signals), which are the first codes.
pub const N_DEAL_CODES: usize = 12;

/// Number of codes.
pub const N_CODES: usize = 23;

impl FlagCode {
    /// Every code: the per-deal ones ([`FlagCode::DEAL`]) first, then the group ones.
    pub const ALL: [FlagCode; N_CODES] = [
        FlagCode::Stale,
        FlagCode::Untouched,
        FlagCode::GoingDark,
        FlagCode::PastCloseDate,
        FlagCode::CloseDatePushed,
        FlagCode::OverdueTasks,
        FlagCode::SingleThreaded,
        FlagCode::NoAmount,
        FlagCode::LateUpdates,
        FlagCode::Moving,
        FlagCode::WellTouched,
        FlagCode::MultiThreaded,
        FlagCode::TooManyLateStage,
        FlagCode::ThinPipeline,
        FlagCode::NoNewOpportunities,
        FlagCode::RepStalling,
        FlagCode::TeamStalling,
        FlagCode::Bottleneck,
        FlagCode::ParkedInLateStages,
        FlagCode::ValueSpread,
        FlagCode::DealsMoving,
        FlagCode::ManyTouchpoints,
        FlagCode::FrontLoaded,
    ];

    /// The per-deal codes in bit order: the first of [`FlagCode::ALL`].
    pub const DEAL: [FlagCode; N_DEAL_CODES] = *FlagCode::ALL.first_chunk().expect("the per-deal codes come first");

    pub fn as_str(self) -> &'static str {
        match self {
            FlagCode::Stale => "stale",
            FlagCode::Untouched => "untouched",
            FlagCode::GoingDark => "going_dark",
            FlagCode::PastCloseDate => "past_close_date",
            FlagCode::CloseDatePushed => "close_date_pushed",
            FlagCode::OverdueTasks => "overdue_tasks",
            FlagCode::SingleThreaded => "single_threaded",
            FlagCode::NoAmount => "no_amount",
            FlagCode::LateUpdates => "late_updates",
            FlagCode::Moving => "moving",
            FlagCode::WellTouched => "well_touched",
            FlagCode::MultiThreaded => "multi_threaded",
            FlagCode::TooManyLateStage => "too_many_late_stage",
            FlagCode::ThinPipeline => "thin_pipeline",
            FlagCode::NoNewOpportunities => "no_new_opportunities",
            FlagCode::RepStalling => "rep_stalling",
            FlagCode::TeamStalling => "team_stalling",
            FlagCode::Bottleneck => "bottleneck",
            FlagCode::ParkedInLateStages => "parked_in_late_stages",
            FlagCode::ValueSpread => "value_spread",
            FlagCode::DealsMoving => "deals_moving",
            FlagCode::ManyTouchpoints => "many_touchpoints",
            FlagCode::FrontLoaded => "front_loaded",
        }
    }

    /// A healthy signal rather than a problem.
    pub fn is_healthy(self) -> bool {
        matches!(
            self,
            FlagCode::Moving
                | FlagCode::WellTouched
                | FlagCode::MultiThreaded
                | FlagCode::ValueSpread
                | FlagCode::DealsMoving
                | FlagCode::ManyTouchpoints
                | FlagCode::FrontLoaded
        )
    }

    #[inline(always)]
    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// One flag or signal with the numbers behind it, which an edge words (with the name of the
/// stage `stage` indexes in [`Projection::stages`]). What they mean depends on the code:
///
/// | code | `value` | `limit` | `total` | `stage` |
/// |------|---------|---------|---------|---------|
/// | `stale` | days in the current stage | the stage's rotting age (days) | 0 | the deal's |
/// | `untouched` | days since the last activity (or creation) | `untouched_days` | 0 | the deal's |
/// | `going_dark` | days since the last inbound activity (or creation) | `going_dark()` | 0 | the deal's |
/// | `past_close_date` | days since the close date | 0 | 0 | the deal's |
/// | `close_date_pushed` | times the close date moved later | `pushed_min` | 0 | the deal's |
/// | `overdue_tasks` | overdue tasks and close-plan items | 0 | 0 | the deal's |
/// | `single_threaded` | contacts engaged | `single_threaded_max_contacts` | 0 | the deal's |
/// | `no_amount` | 0 | 0 | 0 | the deal's |
/// | `late_updates` | the largest lag from happening to logging (days) | `late_update_days` | 0 | the deal's |
/// | `moving` | days since the stage changed | `moving_days` | 0 | the deal's |
/// | `well_touched` | touchpoints in the last 30 days | `touchpoints_healthy` | 0 | the deal's |
/// | `multi_threaded` | contacts engaged | `multi_threaded_min_contacts` | 0 | the deal's |
/// | `too_many_late_stage` | open deals in late stages | `rep_late_stage_max` | 0 | none |
/// | `thin_pipeline` | coverage in percent (57: 0.57×) | `coverage_target_pct` | 0 | none |
/// | `no_new_opportunities` | days since the newest creation (a lower bound) | `no_new_days` | 0 | none |
/// | `rep_stalling` | the rep's stale open deals in the stage | `stall_share_pct` | the rep's open deals in the stage | the stage |
/// | `team_stalling` | reps who stall at the stage | `team_stall_reps_pct` | reps judged at the stage | the stage |
/// | `bottleneck` | open deals in the stage | `bottleneck_share_pct` | open deals | the stage |
/// | `parked_in_late_stages` | open deals in late stages | `late_stage_share_max_pct` | open deals | none |
/// | `value_spread` | the largest stage's share of the open value (%) | `spread_max_share_pct` | stages holding value | none |
/// | `deals_moving` | open deals that changed stage within `moving_days` | `moving_days` | open deals | none |
/// | `many_touchpoints` | touchpoints in the last 30 days over the open deals | `touchpoints_healthy` | open deals | none |
/// | `front_loaded` | open deals in early stages | `front_loaded_share_pct` | open deals | none |
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flag {
    pub code: FlagCode,
    pub stage: Option<u16>,
    pub value: i64,
    pub limit: i64,
    pub total: i64,
}

impl Flag {
    fn new(code: FlagCode, value: i64, limit: i64) -> Flag {
        Flag { code, stage: None, value, limit, total: 0 }
    }
}

pub(crate) struct StageRules {
    pub late: Vec<bool>,
    pub early: Vec<bool>,
    pub rotting: Vec<i32>,
}

impl StageRules {
    pub fn new(projection: &Projection, view: &View, thresholds: &HealthThresholds) -> StageRules {
        let n = view.stages.len();
        let mut early = vec![false; n];
        for pipeline in 0..projection.pipelines.len() as u16 {
            let counting = view.counting_stages(pipeline);
            for (rank, stage) in counting.iter().enumerate() {
                early[*stage as usize] = 2 * rank < counting.len();
            }
        }
        StageRules {
            late: view.stages.iter().map(|stage| stage.open && stage.win_bp >= thresholds.late_stage_min_win_bp).collect(),
            early,
            rotting: projection.stages.iter().map(|stage| stage.rotting_days.unwrap_or(i32::MAX)).collect(),
        }
    }
}

/// Everything a deal's check reads besides the deal.
pub(crate) struct Checker<'a> {
    pub view: &'a View<'a>,
    pub rules: &'a StageRules,
    pub thresholds: &'a HealthThresholds,
    pub as_of: Day,
    /// The activity facts as of `as_of`.
    pub facts: &'a ActivityFacts,
}

/// Raises every per-deal flag and signal of the deal through `raise(code, value, limit)`.
#[inline(always)]
pub(crate) fn check_deal(checker: &Checker, deal: u32, state: &DealState, mut raise: impl FnMut(FlagCode, i64, i64)) {
    let Checker { view, rules, thresholds, as_of, facts, .. } = *checker;
    let stage = view.stage(state.stage);
    if !stage.open {
        return;
    }
    let index = deal as usize;
    let since = |day: Day| if day == NO_DAY { as_of - state.created_day } else { (as_of - day).max(0) };
    let in_stage = as_of - state.stage_entered_day;
    let rotting = rules.rotting[state.stage as usize];
    if in_stage > rotting {
        raise(FlagCode::Stale, in_stage.into(), rotting.into());
    }
    let untouched = since(facts.last_activity_day[index]);
    if untouched > thresholds.untouched_days {
        raise(FlagCode::Untouched, untouched.into(), thresholds.untouched_days.into());
    }
    let dark = since(facts.last_inbound_day[index]);
    if dark > thresholds.going_dark() {
        raise(FlagCode::GoingDark, dark.into(), thresholds.going_dark().into());
    }
    if state.close_day != NO_DAY && state.close_day < as_of {
        raise(FlagCode::PastCloseDate, (as_of - state.close_day).into(), 0);
    }
    let overdue = facts.overdue_tasks[index];
    if overdue > 0 {
        raise(FlagCode::OverdueTasks, overdue.into(), 0);
    }
    let lag = facts.max_log_lag_days[index];
    if lag > thresholds.late_update_days {
        raise(FlagCode::LateUpdates, lag.into(), thresholds.late_update_days.into());
    }
    if !stage.counts {
        return;
    }
    if state.push_count >= thresholds.pushed_min {
        raise(FlagCode::CloseDatePushed, state.push_count.into(), thresholds.pushed_min.into());
    }
    let contacts = facts.contacts_engaged[index];
    if contacts <= thresholds.single_threaded_max_contacts {
        raise(FlagCode::SingleThreaded, contacts.into(), thresholds.single_threaded_max_contacts.into());
    }
    if state.amount == NO_AMOUNT || state.amount == 0 {
        raise(FlagCode::NoAmount, 0, 0);
    }
    if in_stage <= thresholds.moving_days && state.stage_entered_day > state.created_day {
        raise(FlagCode::Moving, in_stage.into(), thresholds.moving_days.into());
    }
    let touchpoints = facts.touchpoints_30d[index];
    if touchpoints >= thresholds.touchpoints_healthy {
        raise(FlagCode::WellTouched, touchpoints.into(), thresholds.touchpoints_healthy.into());
    }
    if contacts >= thresholds.multi_threaded_min_contacts {
        raise(FlagCode::MultiThreaded, contacts.into(), thresholds.multi_threaded_min_contacts.into());
    }
}

/// The bits ([`FlagCode::bit`]) of the flags and signals [`check_deal`] raises for the deal,
/// computed without branches (the hot loop of [`health`] and the dashboard; `check_deal` gives
/// the numbers behind each, for one deal's reasons). The two must agree: a test checks.
#[inline(always)]
pub(crate) fn deal_mask(checker: &Checker, deal: u32, state: &DealState) -> u16 {
    let Checker { view, rules, thresholds, as_of, facts } = *checker;
    let stage = view.stage(state.stage);
    if !stage.open {
        return 0;
    }
    let index = deal as usize;
    let since = |day: Day| if day == NO_DAY { as_of - state.created_day } else { (as_of - day).max(0) };
    let in_stage = as_of - state.stage_entered_day;
    let contacts = facts.contacts_engaged[index];
    let bit = |raised: bool, code: FlagCode| u16::from(raised) << (code as u16);
    let any = bit(in_stage > rules.rotting[state.stage as usize], FlagCode::Stale)
        | bit(since(facts.last_activity_day[index]) > thresholds.untouched_days, FlagCode::Untouched)
        | bit(since(facts.last_inbound_day[index]) > thresholds.going_dark(), FlagCode::GoingDark)
        | bit((state.close_day != NO_DAY) & (state.close_day < as_of), FlagCode::PastCloseDate)
        | bit(facts.overdue_tasks[index] > 0, FlagCode::OverdueTasks)
        | bit(facts.max_log_lag_days[index] > thresholds.late_update_days, FlagCode::LateUpdates);
    let counting = bit(state.push_count >= thresholds.pushed_min, FlagCode::CloseDatePushed)
        | bit(contacts <= thresholds.single_threaded_max_contacts, FlagCode::SingleThreaded)
        | bit((state.amount == NO_AMOUNT) | (state.amount == 0), FlagCode::NoAmount)
        | bit((in_stage <= thresholds.moving_days) & (state.stage_entered_day > state.created_day), FlagCode::Moving)
        | bit(facts.touchpoints_30d[index] >= thresholds.touchpoints_healthy, FlagCode::WellTouched)
        | bit(contacts >= thresholds.multi_threaded_min_contacts, FlagCode::MultiThreaded);
    any | counting & (u16::from(stage.counts).wrapping_neg())
}

/// One deal's flags and signals as of a day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DealHealth {
    pub flags: Vec<Flag>,
    pub signals: Vec<Flag>,
}

/// Flags and signals of one deal, as of `as_of` with the activity `facts` of that day (the
/// projection's own for today); `None` if it did not exist then.
pub fn deal_health(
    projection: &Projection,
    facts: &ActivityFacts,
    deal: u32,
    as_of: Day,
    thresholds: &HealthThresholds,
) -> Option<DealHealth> {
    let state = projection.state_at(deal, as_of)?;
    let scope = crate::Scope::org();
    let view = View::as_of(projection, &scope, as_of);
    let rules = StageRules::new(projection, &view, thresholds);
    let checker = Checker { view: &view, rules: &rules, thresholds, as_of, facts };
    let mut raised = Vec::new();
    check_deal(&checker, deal, &state, |code, value, limit| raised.push(Flag { code, stage: Some(state.stage), value, limit, total: 0 }));
    let (signals, flags) = raised.into_iter().partition(|flag| flag.code.is_healthy());
    Some(DealHealth { flags, signals })
}

/// Whose health a report is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    Organisation,
    Team(u32),
    Rep(u32),
}

/// Which way to push.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lever {
    FillTheFunnel,
    ConvertWhatYouHave,
}

impl Lever {
    pub fn as_str(self) -> &'static str {
        match self {
            Lever::FillTheFunnel => "fill_the_funnel",
            Lever::ConvertWhatYouHave => "convert_what_you_have",
        }
    }
}

/// The recommendation with the numbers behind it, which an edge words: the coverage against
/// its target and, when the win rate is known, the share of the remaining quota the pipeline
/// closes at that rate ([`LeverAdvice::expected`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeverAdvice {
    pub lever: Lever,
    pub coverage: Ratio,
    pub win_rate_by_value: Option<Ratio>,
    pub coverage_target_pct: u32,
}

impl LeverAdvice {
    /// The share of the remaining quota the pipeline closes at the usual win rate, `C × W`.
    pub fn expected(&self) -> Option<Ratio> {
        let win_rate = self.win_rate_by_value?;
        Ratio::new(self.coverage.numerator * win_rate.numerator, self.coverage.denominator * win_rate.denominator)
    }
}

/// The rule in the module documentation.
pub fn next_lever(coverage: Option<Ratio>, win_rate_by_value: Option<Ratio>, coverage_target_pct: u32) -> Option<LeverAdvice> {
    let coverage = coverage?;
    let advice = LeverAdvice { lever: Lever::ConvertWhatYouHave, coverage, win_rate_by_value, coverage_target_pct };
    if advice.expected().is_some_and(|expected| expected.at_least(1, 1)) {
        return Some(advice);
    }
    if !coverage.at_least(i128::from(coverage_target_pct), 100) {
        return Some(LeverAdvice { lever: Lever::FillTheFunnel, ..advice });
    }
    Some(advice)
}

/// The health of a rep, a team or the organisation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthReport {
    pub subject: Subject,
    pub flags: Vec<Flag>,
    pub signals: Vec<Flag>,
    pub open_deals: u64,
    /// Of those, the deals with at least one (non-healthy) flag.
    pub flagged_deals: u64,
    /// How many of those carry each per-deal code, in [`FlagCode::DEAL`] order.
    pub deal_counts: [u64; N_DEAL_CODES],
    pub lever: Option<LeverAdvice>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthOverview {
    pub organisation: HealthReport,
    pub teams: Vec<HealthReport>,
    /// Reps in scope with at least one deal in play as of the day
    /// ([`DashboardQuery::play_horizon`]).
    pub reps: Vec<HealthReport>,
}

/// Per-owner sums of one pass.
#[derive(Clone)]
pub(crate) struct GroupSums {
    /// Per owner × stage: open counting deals, stale ones, their amount.
    open: Vec<u32>,
    stale: Vec<u32>,
    amount: Vec<i128>,
    /// Per owner.
    deals: Vec<u32>,
    last_created: Vec<Day>,
    touchpoints: Vec<u64>,
    moved: Vec<u32>,
    flagged: Vec<u32>,
    deal_counts: Vec<[u32; N_DEAL_CODES]>,
    open_in_period: Vec<i128>,
    won_in_period: Vec<i128>,
    won_window: Vec<i128>,
    lost_window: Vec<i128>,
}

impl GroupSums {
    pub(crate) fn new(n_owners: usize, n_stages: usize) -> GroupSums {
        GroupSums {
            open: vec![0; n_owners * n_stages],
            stale: vec![0; n_owners * n_stages],
            amount: vec![0; n_owners * n_stages],
            deals: vec![0; n_owners],
            last_created: vec![NO_DAY; n_owners],
            touchpoints: vec![0; n_owners],
            moved: vec![0; n_owners],
            flagged: vec![0; n_owners],
            deal_counts: vec![[0; N_DEAL_CODES]; n_owners],
            open_in_period: vec![0; n_owners],
            won_in_period: vec![0; n_owners],
            won_window: vec![0; n_owners],
            lost_window: vec![0; n_owners],
        }
    }

    pub(crate) fn merge(&mut self, other: GroupSums) {
        fn add<T: Copy + std::ops::AddAssign>(into: &mut [T], from: &[T]) {
            for (a, b) in into.iter_mut().zip(from) {
                *a += *b;
            }
        }
        add(&mut self.open, &other.open);
        add(&mut self.stale, &other.stale);
        add(&mut self.amount, &other.amount);
        add(&mut self.deals, &other.deals);
        add(&mut self.touchpoints, &other.touchpoints);
        add(&mut self.moved, &other.moved);
        add(&mut self.flagged, &other.flagged);
        add(&mut self.open_in_period, &other.open_in_period);
        add(&mut self.won_in_period, &other.won_in_period);
        add(&mut self.won_window, &other.won_window);
        add(&mut self.lost_window, &other.lost_window);
        for (a, b) in self.last_created.iter_mut().zip(&other.last_created) {
            *a = (*a).max(*b);
        }
        for (a, b) in self.deal_counts.iter_mut().zip(&other.deal_counts) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += *y;
            }
        }
    }
}

/// The per-deal health counts of the query's scope alone: what the dashboard's "health counts"
/// show, equal to the `open_deals`, `flagged_deals` and `deal_counts` of [`health`]'s report
/// for the scope, without the per-rep and per-team reports (so it visits only the open deals).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DealFlagCounts {
    /// Open deals in counting stages.
    pub open_deals: u64,
    /// Open deals with at least one (non-healthy) flag.
    pub flagged_deals: u64,
    /// How many open deals carry each per-deal code, in [`FlagCode::DEAL`] order.
    pub deal_counts: [u64; N_DEAL_CODES],
}

/// See [`DealFlagCounts`].
pub fn deal_flag_counts(projection: &Projection, query: &DashboardQuery) -> DealFlagCounts {
    let view = View::as_of(projection, &query.scope, query.as_of);
    let rules = StageRules::new(projection, &view, &query.thresholds);
    let checker = Checker { view: &view, rules: &rules, thresholds: &query.thresholds, as_of: query.as_of, facts: query.facts(projection) };
    fold_deals(
        &projection.candidates(query.as_of.saturating_add(1)),
        view.threads(),
        DealFlagCounts::default,
        |counts, deal| {
            let mut state = DealState::EMPTY;
            if !projection.state_into(deal as u32, query.as_of, &mut state) || !view.admits(&state) {
                return;
            }
            if !view.in_health(&state) {
                return;
            }
            let mask = deal_mask(&checker, deal as u32, &state);
            counts.open_deals += 1;
            counts.flagged_deals += u64::from(mask & PROBLEM_MASK != 0);
            for (code, count) in counts.deal_counts.iter_mut().enumerate() {
                *count += u64::from(mask >> code & 1);
            }
        },
        |counts, more| {
            counts.open_deals += more.open_deals;
            counts.flagged_deals += more.flagged_deals;
            for (count, other) in counts.deal_counts.iter_mut().zip(more.deal_counts) {
                *count += other;
            }
        },
    )
}

/// Health of every rep and team in the query's scope and of the scope as a whole.
pub fn health(projection: &Projection, query: &DashboardQuery) -> HealthOverview {
    let view = View::as_of(projection, &query.scope, query.as_of);
    let rules = StageRules::new(projection, &view, &query.thresholds);
    let checker = Checker { view: &view, rules: &rules, thresholds: &query.thresholds, as_of: query.as_of, facts: query.facts(projection) };
    let horizon = query.horizon();
    let sums = fold_deals(
        &projection.candidates(horizon),
        view.threads(),
        || GroupSums::new(projection.n_owners(), view.stages.len()),
        |sums, deal| {
            let mut state = DealState::EMPTY;
            if projection.state_into(deal as u32, query.as_of, &mut state) && view.admits(&state) {
                health_add(&checker, query, horizon, sums, deal, &state);
            }
        },
        GroupSums::merge,
    );
    health_finish(projection, query, &rules, &sums)
}

/// Weeks of history a stage's usual share is taken over, and the fewest of them it needs.
pub const USUAL_WEEKS: usize = 13;
pub const USUAL_MIN_WEEKS: usize = 4;

/// Each stage's usual share of the organisation's open counting deals (of `pipeline`, if given)
/// in basis points, by stage index, as of `as_of` (see the module doc): the average over the
/// ends of the 13 weeks before it that held at least `min_deals` such deals; empty when fewer
/// than 4 weeks did (too little history: the fixed rule applies).
pub fn usual_stage_shares(projection: &Projection, pipeline: Option<u16>, as_of: Day, min_deals: u32) -> Vec<u32> {
    let scope = Scope { pipeline, ..Scope::org() };
    let days: Vec<Day> = (1..=USUAL_WEEKS as i32).map(|week| as_of.saturating_sub(7 * week)).collect();
    let views: Vec<View> = days.iter().map(|day| View::as_of(projection, &scope, *day)).collect();
    let n_stages = projection.stages.len();
    let horizon = days.last().expect("weeks").saturating_add(1);
    let counts = fold_deals(
        &projection.candidates(horizon),
        views[0].threads(),
        || vec![0u64; days.len() * n_stages],
        |counts, deal| {
            projection.states_at_days(deal as u32, &days, |week, state| {
                if views[week].in_health(state) {
                    counts[week * n_stages + state.stage as usize] += 1;
                }
            });
        },
        |counts, more| {
            for (count, other) in counts.iter_mut().zip(more) {
                *count += other;
            }
        },
    );
    let mut sums = vec![0u64; n_stages];
    let mut weeks = 0u64;
    for week in counts.chunks(n_stages.max(1)) {
        let open: u64 = week.iter().sum();
        if open == 0 || open < u64::from(min_deals) {
            continue;
        }
        weeks += 1;
        for (sum, count) in sums.iter_mut().zip(week) {
            *sum += count * 10_000 / open;
        }
    }
    if (weeks as usize) < USUAL_MIN_WEEKS {
        return Vec::new();
    }
    sums.into_iter().map(|sum| (sum / weeks) as u32).collect()
}

/// Adds one deal in scope, as of the query's day, to the health sums.
#[inline(always)]
pub(crate) fn health_add(checker: &Checker, query: &DashboardQuery, horizon: Day, sums: &mut GroupSums, deal: usize, state: &DealState) {
    let view = checker.view;
    let n_stages = view.stages.len();
    let owner = state.owner as usize;
    sums.deals[owner] += u32::from(view.in_play(state, query.play_horizon()));
    // Every deal created on or after the horizon is visited, whatever the compaction did.
    if state.created_day >= horizon {
        sums.last_created[owner] = sums.last_created[owner].max(state.created_day);
    }
    let stage = view.stage(state.stage);
    if stage.won || stage.lost {
        match view.outcome(state) {
            Some(true) if query.period.contains(state.closed_day) => sums.won_in_period[owner] += i128::from(state.amount_or_zero()),
            _ => {}
        }
        if query.window.contains(state.closed_day) {
            match view.outcome(state) {
                Some(true) => sums.won_window[owner] += i128::from(state.amount_or_zero()),
                Some(false) => sums.lost_window[owner] += i128::from(state.amount_or_zero()),
                None => {}
            }
        }
        return;
    }
    // Health counts, flags and lists the open deals of counting stages, as "open deals" does.
    if !stage.counts {
        return;
    }
    let mask = deal_mask(checker, deal as u32, state);
    debug_assert_eq!(
        mask,
        {
            let mut raised = 0u16;
            check_deal(checker, deal as u32, state, |code, _, _| raised |= code.bit());
            raised
        },
        "deal_mask and check_deal disagree on deal {deal}"
    );
    // Branch-free: one add per code, so the loop does not stall on unpredictable bits.
    for (code, count) in sums.deal_counts[owner].iter_mut().enumerate() {
        *count += u32::from(mask >> code & 1);
    }
    if mask & PROBLEM_MASK != 0 {
        sums.flagged[owner] += 1;
    }
    let cell = owner * n_stages + state.stage as usize;
    sums.open[cell] += 1;
    sums.amount[cell] += i128::from(state.amount_or_zero());
    if mask & FlagCode::Stale.bit() != 0 {
        sums.stale[cell] += 1;
    }
    sums.touchpoints[owner] += u64::from(checker.facts.touchpoints_30d[deal]);
    if mask & FlagCode::Moving.bit() != 0 {
        sums.moved[owner] += 1;
    }
    if query.period.contains(state.close_day) {
        sums.open_in_period[owner] += i128::from(state.amount_or_zero());
    }
}

/// Turns the sums into the reports of every rep, team and the organisation.
pub(crate) fn health_finish(projection: &Projection, query: &DashboardQuery, rules: &StageRules, sums: &GroupSums) -> HealthOverview {
    let thresholds = &query.thresholds;
    let (n_owners, n_stages) = (sums.deals.len(), rules.late.len());
    // The usual shares, when the rule reads them (kept by the projection while its past stands).
    let usual = (thresholds.bottleneck_excess_pts > 0)
        .then(|| projection.usual_shares(query.scope.pipeline, query.as_of, thresholds.bottleneck_min_deals));
    let builder = Builder { projection, query, rules, sums, n_stages, usual };

    // Stalls: per rep, the stages where they stall; per team, the stages where the team does.
    let stalls_at = |owner: usize, stage: usize| {
        let cell = owner * n_stages + stage;
        let open = sums.open[cell];
        open >= thresholds.stall_min_deals && u64::from(sums.stale[cell]) * 100 >= u64::from(thresholds.stall_share_pct) * u64::from(open)
    };
    let n_teams = projection.team_ids.len();
    // Members by team as of the day, once (not a scan of every owner per team and stage).
    let team_of: Vec<u32> = (0..projection.owner_team.len() as u32).map(|owner| projection.team_on(owner, query.as_of)).collect();
    let mut members_of: Vec<Vec<usize>> = vec![Vec::new(); n_teams];
    for (owner, team) in team_of.iter().enumerate() {
        if *team != NO_INDEX {
            members_of[*team as usize].push(owner);
        }
    }
    let mut team_stalls: Vec<Vec<Flag>> = vec![Vec::new(); n_teams];
    for (team, stalls) in team_stalls.iter_mut().enumerate() {
        for stage in 0..n_stages {
            let (mut eligible, mut stalling) = (0i64, 0i64);
            for &owner in &members_of[team] {
                if sums.open[owner * n_stages + stage] >= thresholds.stall_min_deals {
                    eligible += 1;
                    stalling += i64::from(stalls_at(owner, stage));
                }
            }
            if stalling >= i64::from(thresholds.team_stall_min_reps)
                && stalling * 100 >= i64::from(thresholds.team_stall_reps_pct) * eligible
            {
                stalls.push(Flag {
                    code: FlagCode::TeamStalling,
                    stage: Some(stage as u16),
                    value: stalling,
                    limit: thresholds.team_stall_reps_pct.into(),
                    total: eligible,
                });
            }
        }
    }

    let mut reps = Vec::new();
    for owner in 0..n_owners {
        if sums.deals[owner] == 0 || !query.scope.admits_owner(owner as u32) {
            continue;
        }
        let quota = query.rep_quotas.get(owner).copied().flatten();
        let mut report = builder.report(Subject::Rep(owner as u32), &[owner], quota);
        let late: i64 = (0..n_stages).filter(|stage| rules.late[*stage]).map(|stage| i64::from(sums.open[owner * n_stages + stage])).sum();
        if late > i64::from(thresholds.rep_late_stage_max) {
            report.flags.push(Flag::new(FlagCode::TooManyLateStage, late, thresholds.rep_late_stage_max.into()));
        }
        let team = team_of.get(owner).copied().unwrap_or(NO_INDEX);
        for stage in 0..n_stages {
            let covered = team != NO_INDEX && team_stalls[team as usize].iter().any(|flag| flag.stage == Some(stage as u16));
            if stalls_at(owner, stage) && !covered {
                let cell = owner * n_stages + stage;
                report.flags.push(Flag {
                    code: FlagCode::RepStalling,
                    stage: Some(stage as u16),
                    value: sums.stale[cell].into(),
                    limit: thresholds.stall_share_pct.into(),
                    total: sums.open[cell].into(),
                });
            }
        }
        reps.push(report);
    }

    let mut teams = Vec::new();
    for (team, stalls) in team_stalls.into_iter().enumerate() {
        let members: Vec<usize> = members_of[team].iter().copied().filter(|owner| query.scope.admits_owner(*owner as u32)).collect();
        if members.iter().all(|owner| sums.deals[*owner] == 0) {
            continue;
        }
        let quotas: Vec<i64> = members.iter().filter_map(|owner| query.rep_quotas.get(*owner).copied().flatten()).collect();
        let quota = (!quotas.is_empty()).then(|| quotas.iter().sum());
        let mut report = builder.report(Subject::Team(team as u32), &members, quota);
        report.flags.extend(stalls);
        teams.push(report);
    }

    let everyone: Vec<usize> = (0..n_owners).collect();
    let organisation = builder.report(Subject::Organisation, &everyone, query.quota);
    HealthOverview { organisation, teams, reps }
}

const PROBLEM_MASK: u16 = (1 << 9) - 1;

struct Builder<'a> {
    projection: &'a Projection,
    query: &'a DashboardQuery,
    rules: &'a StageRules,
    sums: &'a GroupSums,
    n_stages: usize,
    /// Each stage's usual share ([`usual_stage_shares`]; empty: too little history), when the
    /// rule reads them.
    usual: Option<std::sync::Arc<[u32]>>,
}

impl Builder<'_> {
    /// Whether `stage` is open and counts in metrics as of the day.
    fn counting(&self, stage: usize) -> bool {
        let info = &self.projection.stages[stage];
        info.is_open()
            && self.projection.stage_settings_on(stage as u16, self.query.as_of).map_or(info.counts_in_metrics, |(_, counts)| counts)
    }

    /// How many open stages count in metrics as of the day, in the scope's pipeline (or all).
    fn counting_stages(&self) -> usize {
        (0..self.n_stages)
            .filter(|stage| {
                self.counting(*stage)
                    && self.query.scope.pipeline.is_none_or(|pipeline| self.projection.stages[*stage].pipeline == pipeline)
            })
            .count()
    }

    /// How many open counting stages the pipelines holding the group's open deals have (the
    /// parts of an even split).
    fn counting_stages_holding(&self, per_stage_open: &[i64]) -> usize {
        let holding: std::collections::BTreeSet<u16> = per_stage_open
            .iter()
            .enumerate()
            .filter(|(_, count)| **count > 0)
            .map(|(stage, _)| self.projection.stages[stage].pipeline)
            .collect();
        (0..self.n_stages).filter(|stage| self.counting(*stage) && holding.contains(&self.projection.stages[*stage].pipeline)).count()
    }

    /// The bottleneck among `per_stage_open` (`open` in all), by the usual-share rule when the
    /// usual shares are known, else by the fixed share (see the module doc).
    fn bottleneck(&self, per_stage_open: &[i64], open: i64) -> Option<Flag> {
        let thresholds = &self.query.thresholds;
        let usual = self.usual.as_deref().unwrap_or_default();
        if thresholds.bottleneck_excess_pts > 0 && usual.len() == per_stage_open.len() {
            // A stage's limit: its usual share plus the points, and never below an even split
            // over the counting stages (a stage holding no more than its even part is no
            // bottleneck, however empty it usually is). The stage furthest over its limit is
            // named, the earlier on a tie; basis points throughout.
            let even = 10_000 / self.counting_stages_holding(per_stage_open).max(1) as i64;
            let limit_bp = |stage: usize| (i64::from(usual[stage]) + i64::from(thresholds.bottleneck_excess_pts) * 100).max(even);
            let (stage, over) = per_stage_open
                .iter()
                .enumerate()
                .filter(|(_, count)| **count > 0)
                .map(|(stage, count)| (stage, count * 10_000 / open - limit_bp(stage)))
                .max_by_key(|(stage, over)| (*over, std::cmp::Reverse(*stage)))?;
            return (over > 0).then(|| Flag {
                code: FlagCode::Bottleneck,
                stage: Some(stage as u16),
                value: per_stage_open[stage],
                limit: limit_bp(stage) / 100,
                total: open,
            });
        }
        let (stage, largest) =
            per_stage_open.iter().enumerate().max_by_key(|(stage, count)| (**count, std::cmp::Reverse(*stage))).expect("stages exist");
        (*largest * 100 > i64::from(thresholds.bottleneck_share_pct) * open).then(|| Flag {
            code: FlagCode::Bottleneck,
            stage: Some(stage as u16),
            value: *largest,
            limit: thresholds.bottleneck_share_pct.into(),
            total: open,
        })
    }

    /// The group flags and signals of a set of owners.
    fn report(&self, subject: Subject, owners: &[usize], quota: Option<i64>) -> HealthReport {
        let (sums, thresholds, n_stages) = (self.sums, &self.query.thresholds, self.n_stages);
        let mut per_stage_open = vec![0i64; n_stages];
        let mut per_stage_amount = vec![0i128; n_stages];
        let mut deal_counts = [0u64; N_DEAL_CODES];
        let (mut deals, mut flagged, mut touchpoints, mut moved) = (0u64, 0u64, 0u64, 0i64);
        let mut last_created = NO_DAY;
        let (mut open_in_period, mut won_in_period, mut won_window, mut lost_window) = (0i128, 0i128, 0i128, 0i128);
        for &owner in owners {
            for stage in 0..n_stages {
                per_stage_open[stage] += i64::from(sums.open[owner * n_stages + stage]);
                per_stage_amount[stage] += sums.amount[owner * n_stages + stage];
            }
            for (total, count) in deal_counts.iter_mut().zip(&sums.deal_counts[owner]) {
                *total += u64::from(*count);
            }
            deals += u64::from(sums.deals[owner]);
            flagged += u64::from(sums.flagged[owner]);
            touchpoints += sums.touchpoints[owner];
            moved += i64::from(sums.moved[owner]);
            last_created = last_created.max(sums.last_created[owner]);
            open_in_period += sums.open_in_period[owner];
            won_in_period += sums.won_in_period[owner];
            won_window += sums.won_window[owner];
            lost_window += sums.lost_window[owner];
        }
        let open: i64 = per_stage_open.iter().sum();
        let mut flags = Vec::new();
        let mut signals = Vec::new();
        let share_above = |part: i64, whole: i64, pct: u32| part * 100 > i64::from(pct) * whole;
        if open >= i64::from(thresholds.bottleneck_min_deals) {
            if let Some(flag) = self.bottleneck(&per_stage_open, open) {
                flags.push(flag);
            }
            let late: i64 = (0..n_stages).filter(|stage| self.rules.late[*stage]).map(|stage| per_stage_open[stage]).sum();
            if share_above(late, open, thresholds.late_stage_share_max_pct) {
                flags.push(Flag {
                    code: FlagCode::ParkedInLateStages,
                    stage: None,
                    value: late,
                    limit: thresholds.late_stage_share_max_pct.into(),
                    total: open,
                });
            }
        }
        let coverage = quota.map(|quota| crate::metrics::coverage_from(self.query.period, open_in_period, 0, won_in_period, quota));
        let coverage_ratio = coverage.and_then(|coverage| coverage.ratio);
        if let Some(ratio) = coverage_ratio
            && !ratio.at_least(i128::from(thresholds.coverage_target_pct), 100)
        {
            let percent = ratio.percent(0).mantissa() as i64;
            flags.push(Flag::new(FlagCode::ThinPipeline, percent, thresholds.coverage_target_pct.into()));
        }
        // Days since the newest deal in play was created; with none created since the horizon,
        // the days since the horizon (a lower bound: older creations are not looked at).
        let newest = last_created.max(self.query.horizon().saturating_sub(1));
        if deals > 0 && self.query.as_of - newest > thresholds.no_new_days {
            flags.push(Flag::new(FlagCode::NoNewOpportunities, (self.query.as_of - newest).into(), thresholds.no_new_days.into()));
        }
        // Healthy signals.
        let total_value: i128 = per_stage_amount.iter().sum();
        let counting_stages = self.counting_stages();
        let holding = per_stage_amount.iter().filter(|amount| **amount > 0).count();
        if total_value > 0 {
            let largest = *per_stage_amount.iter().max().expect("stages exist");
            let largest_pct = (largest * 100 / total_value) as i64;
            if holding >= counting_stages.min(3) && largest_pct <= i64::from(thresholds.spread_max_share_pct) {
                signals.push(Flag {
                    code: FlagCode::ValueSpread,
                    stage: None,
                    value: largest_pct,
                    limit: thresholds.spread_max_share_pct.into(),
                    total: holding as i64,
                });
            }
        }
        if open > 0 {
            if moved * 100 >= i64::from(thresholds.moving_share_pct) * open {
                signals.push(Flag {
                    code: FlagCode::DealsMoving,
                    stage: None,
                    value: moved,
                    limit: thresholds.moving_days.into(),
                    total: open,
                });
            }
            if touchpoints >= u64::from(thresholds.touchpoints_healthy) * open as u64 {
                signals.push(Flag {
                    code: FlagCode::ManyTouchpoints,
                    stage: None,
                    value: touchpoints as i64,
                    limit: thresholds.touchpoints_healthy.into(),
                    total: open,
                });
            }
            let early: i64 = (0..n_stages).filter(|stage| self.rules.early[*stage]).map(|stage| per_stage_open[stage]).sum();
            if early * 100 >= i64::from(thresholds.front_loaded_share_pct) * open {
                signals.push(Flag {
                    code: FlagCode::FrontLoaded,
                    stage: None,
                    value: early,
                    limit: thresholds.front_loaded_share_pct.into(),
                    total: open,
                });
            }
        }
        let lever = next_lever(coverage_ratio, Ratio::new(won_window, won_window + lost_window), thresholds.coverage_target_pct);
        HealthReport { subject, flags, signals, open_deals: open as u64, flagged_deals: flagged, deal_counts, lever }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_listed_in_bit_order() {
        for (index, code) in FlagCode::ALL.into_iter().enumerate() {
            assert_eq!(code as usize, index, "{code:?}");
        }
        assert_eq!(FlagCode::ALL[..N_DEAL_CODES], FlagCode::DEAL);
    }
}
