//! Which deals count in a figure: the one vocabulary and the one rule of membership that the
//! figures themselves, the drill-downs (API and pages) and the pages' links share.
//!
//! - [`WaterfallBucket`] names the waterfall's buckets; [`View::waterfall_moves`] is the rule of
//!   what one deal adds to them, and [`crate::metrics::Waterfall`] is the sum of it.
//! - [`Figure`] names a figure of the dashboard a drill-down can open; [`Membership::behind`]
//!   says whether a deal is behind it, by the same rules the figures count with (the open
//!   pipeline, real outcomes, the waterfall).

use crate::dashboard::DashboardQuery;
use crate::metrics::View;
use crate::projection::{DealState, Projection};
use crate::{Day, Period, Scope};

/// A bucket of the waterfall (see [`crate::metrics::Waterfall`] for the definitions).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WaterfallBucket {
    Start,
    New,
    Increased,
    Decreased,
    PulledIn,
    PushedOut,
    Won,
    Lost,
    Removed,
    TransferredIn,
    TransferredOut,
    End,
}

impl WaterfallBucket {
    /// Every bucket in display order.
    pub const ALL: [WaterfallBucket; 12] = [
        WaterfallBucket::Start,
        WaterfallBucket::New,
        WaterfallBucket::Increased,
        WaterfallBucket::Decreased,
        WaterfallBucket::PulledIn,
        WaterfallBucket::PushedOut,
        WaterfallBucket::Won,
        WaterfallBucket::Lost,
        WaterfallBucket::Removed,
        WaterfallBucket::TransferredIn,
        WaterfallBucket::TransferredOut,
        WaterfallBucket::End,
    ];

    /// The buckets between start and end, in display order: [`WaterfallBucket::ALL`] but its first
    /// and last.
    pub const MOVEMENTS: [WaterfallBucket; 10] =
        *WaterfallBucket::ALL.split_at(1).1.first_chunk().expect("ten buckets between start and end");

    /// The stable name (API fields, URLs, catalog keys).
    pub fn as_str(self) -> &'static str {
        match self {
            WaterfallBucket::Start => "start",
            WaterfallBucket::New => "new",
            WaterfallBucket::Increased => "increased",
            WaterfallBucket::Decreased => "decreased",
            WaterfallBucket::PulledIn => "pulled_in",
            WaterfallBucket::PushedOut => "pushed_out",
            WaterfallBucket::Won => "won",
            WaterfallBucket::Lost => "lost",
            WaterfallBucket::Removed => "removed",
            WaterfallBucket::TransferredIn => "transferred_in",
            WaterfallBucket::TransferredOut => "transferred_out",
            WaterfallBucket::End => "end",
        }
    }

    pub fn parse(name: &str) -> Option<WaterfallBucket> {
        WaterfallBucket::ALL.into_iter().find(|bucket| bucket.as_str() == name)
    }

    /// Whether the bucket counts deals that move money without entering or leaving
    /// (increased, decreased): its count is left out when counts reconcile.
    pub fn is_change(self) -> bool {
        matches!(self, WaterfallBucket::Increased | WaterfallBucket::Decreased)
    }
}

/// What one deal adds to the waterfall: at most five `(bucket, count, amount)` moves (a start
/// and a transfer out, a transfer in or an entry, a change, an exit or an end).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DealMoves {
    moves: [(WaterfallBucket, i64, i128); 5],
    len: u8,
}

impl DealMoves {
    const NONE: DealMoves = DealMoves { moves: [(WaterfallBucket::Start, 0, 0); 5], len: 0 };

    #[inline(always)]
    fn push(&mut self, bucket: WaterfallBucket, count: i64, amount: i128) {
        self.moves[self.len as usize] = (bucket, count, amount);
        self.len += 1;
    }

    /// The moves, in the order the rule finds them.
    #[inline(always)]
    pub fn iter(&self) -> impl Iterator<Item = (WaterfallBucket, i64, i128)> + '_ {
        self.moves[..self.len as usize].iter().copied()
    }

    pub fn contains(&self, bucket: WaterfallBucket) -> bool {
        self.iter().any(|(moved, _, _)| moved == bucket)
    }
}

impl View<'_> {
    /// The waterfall's rule for one deal of the pipeline of `period`, between the end of day
    /// `from` (`start`, `None` if the deal did not exist) and the end of day `to` (`end`): calls
    /// `moved(bucket, count, amount)` for each of its (at most five) moves. Inlined, so the
    /// figure's loop adds to its buckets directly.
    ///
    /// Attribution: the deal's start and its transfer out belong to its owner at `from`,
    /// everything else to its owner at `to`, so the waterfalls of a team's reps add up to the
    /// team's bucket by bucket (see [`crate::metrics::Waterfall`]).
    #[inline(always)]
    pub(crate) fn waterfall_rule(
        &self,
        period: Period,
        from: Day,
        start: Option<&DealState>,
        end: &DealState,
        mut moved: impl FnMut(WaterfallBucket, i64, i128),
    ) {
        // Membership of the period's pipeline whoever owns the deal; the owner decides only to
        // whom a move is attributed.
        let open_any_owner = |state: &DealState| self.in_pipeline_any_owner(state);
        let in_pipeline = |state: &DealState| open_any_owner(state) && period.contains(state.close_day);
        let e = i128::from(end.amount_or_zero());
        let s = i128::from(start.map_or(0, DealState::amount_or_zero));
        let ours_at_end = self.scope.admits_owner(end.owner);
        let mut in_start = false;
        if let Some(start) = start
            && in_pipeline(start)
        {
            if start.owner != end.owner {
                if self.scope.admits_owner(start.owner) {
                    moved(WaterfallBucket::Start, 1, s);
                    moved(WaterfallBucket::TransferredOut, -1, -s);
                }
                if ours_at_end {
                    moved(WaterfallBucket::TransferredIn, 1, s);
                }
            } else if ours_at_end {
                moved(WaterfallBucket::Start, 1, s);
            }
            in_start = true;
        }
        if !ours_at_end {
            return;
        }
        let in_end = in_pipeline(end);
        let entry = || {
            if start.is_some_and(|state| open_any_owner(state) && !period.contains(state.close_day)) {
                WaterfallBucket::PulledIn
            } else {
                WaterfallBucket::New
            }
        };
        let change = |moved: &mut dyn FnMut(WaterfallBucket, i64, i128)| match (e - s).signum() {
            1 => moved(WaterfallBucket::Increased, 1, e - s),
            -1 => moved(WaterfallBucket::Decreased, 1, e - s),
            _ => {}
        };
        match (in_start, in_end) {
            (true, true) => {
                moved(WaterfallBucket::End, 1, e);
                change(&mut moved);
            }
            (true, false) => {
                change(&mut moved);
                // Won and lost as the outcomes count them: a loss from a non-counting stage
                // (demoted, then lost) is no loss in the win rate, nor here.
                match self.outcome(end) {
                    Some(true) => moved(WaterfallBucket::Won, -1, -e),
                    Some(false) => moved(WaterfallBucket::Lost, -1, -e),
                    None if open_any_owner(end) => moved(WaterfallBucket::PushedOut, -1, -e),
                    None => moved(WaterfallBucket::Removed, -1, -e),
                }
            }
            (false, true) => {
                moved(WaterfallBucket::End, 1, e);
                moved(entry(), 1, e);
            }
            (false, false) => {
                if end.closed_day > from && period.contains(end.closed_day) && self.in_scope_pipeline(end) {
                    match self.outcome(end) {
                        Some(true) => {
                            moved(entry(), 1, e);
                            moved(WaterfallBucket::Won, -1, -e);
                        }
                        Some(false) => {
                            moved(entry(), 1, e);
                            moved(WaterfallBucket::Lost, -1, -e);
                        }
                        None => {}
                    }
                }
            }
        }
    }

    /// [`View::waterfall_rule`]'s moves, collected.
    pub(crate) fn waterfall_moves(&self, period: Period, from: Day, start: Option<&DealState>, end: &DealState) -> DealMoves {
        let mut moves = DealMoves::NONE;
        self.waterfall_rule(period, from, start, end, |bucket, count, amount| moves.push(bucket, count, amount));
        moves
    }
}

/// A figure of the dashboard whose deals a drill-down lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Figure {
    /// The open pipeline as of the day.
    Open,
    /// The open pipeline in one stage (a stage index of the projection).
    Stage(u16),
    /// The open pipeline closing in the period.
    Closing,
    /// Won in the outcomes window.
    Won,
    /// Lost in the outcomes window (real losses: not drops from a non-counting stage).
    Lost,
    /// Won or lost in the outcomes window.
    Closed,
    /// Won in the period.
    WonInPeriod,
    /// One bucket of the period's waterfall.
    Waterfall(WaterfallBucket),
}

impl Figure {
    /// The stable name (`open`, `stage`, `closing`, `won`, `lost`, `closed`, `won_period`,
    /// `wf_<bucket>`), as URLs and catalog keys carry it.
    pub fn name(self) -> String {
        match self {
            Figure::Open => "open".into(),
            Figure::Stage(_) => "stage".into(),
            Figure::Closing => "closing".into(),
            Figure::Won => "won".into(),
            Figure::Lost => "lost".into(),
            Figure::Closed => "closed".into(),
            Figure::WonInPeriod => "won_period".into(),
            Figure::Waterfall(bucket) => format!("wf_{}", bucket.as_str()),
        }
    }

    /// The figure `name` names; `stage` is the stage index a `stage` figure needs (`None`: the
    /// stage is unknown, and the figure is a stage no deal is in).
    pub fn parse(name: &str, stage: Option<u16>) -> Option<Figure> {
        Some(match name {
            "open" => Figure::Open,
            "stage" => Figure::Stage(stage.unwrap_or(u16::MAX)),
            "closing" => Figure::Closing,
            "won" => Figure::Won,
            "lost" => Figure::Lost,
            "closed" => Figure::Closed,
            "won_period" => Figure::WonInPeriod,
            other => Figure::Waterfall(WaterfallBucket::parse(other.strip_prefix("wf_")?)?),
        })
    }
}

/// A projection read through a scope: whether a deal counts in a figure, by the figures' own
/// rules.
pub struct Membership<'a> {
    view: View<'a>,
}

impl<'a> Membership<'a> {
    /// By the stages' settings of the end of `as_of` (the figures' day), as the figures read them.
    pub fn new(projection: &'a Projection, scope: &'a Scope, as_of: Day) -> Membership<'a> {
        Membership { view: View::as_of(projection, scope, as_of) }
    }

    /// In scope: an owner of the scope, in its pipeline if it names one.
    pub fn admits(&self, state: &DealState) -> bool {
        self.view.admits(state)
    }

    /// In scope, open and in a counting stage: the deals health counts and flags.
    pub fn in_health(&self, state: &DealState) -> bool {
        self.view.in_health(state)
    }

    /// Open, counting in metrics, in scope.
    pub fn in_open_pipeline(&self, state: &DealState) -> bool {
        self.view.in_open_pipeline(state)
    }

    /// Won (`Some(true)`) or lost (`Some(false)`) as a real outcome; `None` for an open deal or
    /// a drop from a non-counting stage.
    pub fn outcome(&self, state: &DealState) -> Option<bool> {
        self.view.outcome(state)
    }

    /// What `deal` adds to the waterfall of `period` from the end of `from` to the end of `to`.
    pub fn waterfall_moves(&self, deal: u32, period: Period, from: Day, to: Day) -> DealMoves {
        let Some(end) = self.view.projection.state_at(deal, to) else { return DealMoves::NONE };
        let start = self.view.projection.state_at(deal, from);
        self.view.waterfall_moves(period, from, start.as_ref(), &end)
    }

    /// Whether `deal`, whose state as of `query.as_of` is `state`, is behind `figure` of `query`.
    pub fn behind(&self, figure: Figure, query: &DashboardQuery, deal: u32, state: &DealState) -> bool {
        match figure {
            Figure::Open => self.in_open_pipeline(state),
            Figure::Stage(stage) => self.in_open_pipeline(state) && state.stage == stage,
            Figure::Closing => self.in_open_pipeline(state) && query.period.contains(state.close_day),
            Figure::Won | Figure::Lost | Figure::Closed => {
                query.window.contains(state.closed_day)
                    && self.admits(state)
                    && match (figure, self.outcome(state)) {
                        (_, None) => false,
                        (Figure::Won, Some(won)) => won,
                        (Figure::Lost, Some(won)) => !won,
                        _ => true,
                    }
            }
            Figure::WonInPeriod => self.admits(state) && query.period.contains(state.closed_day) && self.outcome(state) == Some(true),
            Figure::Waterfall(bucket) => {
                let (from, to) = query.waterfall_span();
                self.waterfall_moves(deal, query.period, from, to).contains(bucket)
            }
        }
    }
}
