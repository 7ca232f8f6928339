//! The deals behind a figure: the same membership rules as `pipewise_analytics::metrics`
//! (restated here over its public state), so every number can be opened as a list of deals.
//! Tests check each list's length against the figure it explains.

use pipewise_analytics::projection::{DealState, NO_STAGE, Projection};
use pipewise_analytics::{Day, Period, Scope};
use pipewise_core::OpportunityId;
use pipewise_core::pipeline::StageKind;

fn admits(projection: &Projection, scope: &Scope, state: &DealState) -> bool {
    scope.admits_owner(state.owner) && scope.pipeline.is_none_or(|pipeline| projection.stages[state.stage as usize].pipeline == pipeline)
}

/// Open, counting, in scope.
fn in_open_pipeline(projection: &Projection, scope: &Scope, state: &DealState) -> bool {
    let stage = &projection.stages[state.stage as usize];
    stage.kind == StageKind::Open && stage.counts_in_metrics && admits(projection, scope, state)
}

/// Won (`Some(true)`), lost (`Some(false)`), or neither / a drop from a non-counting stage.
fn outcome(projection: &Projection, state: &DealState) -> Option<bool> {
    let stage = &projection.stages[state.stage as usize];
    if !stage.counts_in_metrics || stage.kind == StageKind::Open {
        return None;
    }
    let lost = stage.kind == StageKind::Lost;
    if lost && state.stage_before != NO_STAGE && !projection.stages[state.stage_before as usize].counts_in_metrics {
        return None;
    }
    Some(!lost)
}

/// Up to `limit` deal ids per stage index of the open pipeline as of `as_of` (optionally
/// closing within `close_within`), in id order within the projection's order.
pub fn deals_by_stage(
    projection: &Projection,
    scope: &Scope,
    as_of: Day,
    close_within: Option<Period>,
    limit: usize,
) -> Vec<Vec<OpportunityId>> {
    let mut lists = vec![Lowest::new(limit); projection.stages.len()];
    let ids = &projection.deals().id;
    visit(projection, as_of.saturating_add(1), |deal| {
        let Some(state) = projection.state_at(deal, as_of) else { return };
        if !in_open_pipeline(projection, scope, &state) || close_within.is_some_and(|period| !period.contains(state.close_day)) {
            return;
        }
        lists[state.stage as usize].push(ids[deal as usize]);
    });
    lists.into_iter().map(Lowest::finish).collect()
}

/// Calls `each` with every deal that can matter to a figure of this `horizon`
/// (`Projection::candidates`: the lists equal the figures' own deals, which skip the same).
fn visit(projection: &Projection, horizon: Day, mut each: impl FnMut(u32)) {
    let candidates = projection.candidates(horizon);
    candidates.for_each_in(0..candidates.len(), &mut each);
}

/// The `limit` lowest deal ids offered, in id order: a drill-down lists the same deals whatever
/// order the projection holds them in (a compaction reorders them).
#[derive(Clone, Debug)]
struct Lowest {
    limit: usize,
    heap: std::collections::BinaryHeap<OpportunityId>,
}

impl Lowest {
    fn new(limit: usize) -> Lowest {
        Lowest { limit, heap: std::collections::BinaryHeap::new() }
    }

    fn push(&mut self, id: OpportunityId) {
        if self.heap.len() < self.limit {
            self.heap.push(id);
        } else if self.heap.peek().is_some_and(|highest| id < *highest) {
            self.heap.pop();
            self.heap.push(id);
        }
    }

    fn finish(self) -> Vec<OpportunityId> {
        self.heap.into_sorted_vec()
    }
}

/// The waterfall's buckets in display order; see `pipewise_analytics::metrics::Waterfall`.
pub const BUCKETS: [&str; 10] = ["start", "new", "increased", "decreased", "pulled_in", "pushed_out", "won", "lost", "removed", "end"];

/// Up to `limit` deal ids per bucket of [`BUCKETS`], by the waterfall's rule.
pub fn waterfall_deals(
    projection: &Projection,
    scope: &Scope,
    period: Period,
    from: Day,
    to: Day,
    limit: usize,
) -> Vec<Vec<OpportunityId>> {
    let mut lists = vec![Lowest::new(limit); BUCKETS.len()];
    let ids = &projection.deals().id;
    visit(projection, period.first.min(from.saturating_add(1)), |deal| {
        let Some(end) = projection.state_at(deal, to) else { return };
        let start = projection.state_at(deal, from);
        for bucket in waterfall_buckets(projection, scope, period, from, start.as_ref(), &end).into_iter().flatten() {
            let index = BUCKETS.iter().position(|name| *name == bucket).expect("a bucket");
            lists[index].push(ids[deal as usize]);
        }
    });
    lists.into_iter().map(Lowest::finish).collect()
}

/// The buckets one deal counts in (at most three: start or entry, a change, an exit or end).
fn waterfall_buckets(
    projection: &Projection,
    scope: &Scope,
    period: Period,
    from: Day,
    start: Option<&DealState>,
    end: &DealState,
) -> [Option<&'static str>; 3] {
    let in_pipeline = |state: &DealState| in_open_pipeline(projection, scope, state) && period.contains(state.close_day);
    let in_start = start.is_some_and(in_pipeline);
    let in_end = in_pipeline(end);
    let (s, e) = (start.map_or(0, DealState::amount_or_zero), end.amount_or_zero());
    let entry = if start.is_some_and(|state| in_open_pipeline(projection, scope, state) && !period.contains(state.close_day)) {
        "pulled_in"
    } else {
        "new"
    };
    let change = match e.cmp(&s) {
        std::cmp::Ordering::Greater => Some("increased"),
        std::cmp::Ordering::Less => Some("decreased"),
        std::cmp::Ordering::Equal => None,
    };
    match (in_start, in_end) {
        (true, true) => [Some("start"), Some("end"), change],
        (true, false) => {
            let exit = match projection.stages[end.stage as usize].kind {
                StageKind::Won => "won",
                StageKind::Lost => "lost",
                _ if in_open_pipeline(projection, scope, end) => "pushed_out",
                _ => "removed",
            };
            [Some("start"), change, Some(exit)]
        }
        (false, true) => [Some("end"), Some(entry), None],
        (false, false) => match outcome(projection, end) {
            Some(won) if end.closed_day > from && period.contains(end.closed_day) && admits(projection, scope, end) => {
                [Some(entry), Some(if won { "won" } else { "lost" }), None]
            }
            _ => [None; 3],
        },
    }
}

/// Up to `limit` deal ids of the deals won (`won`) or lost in `window` as of `as_of`.
pub fn outcome_deals(projection: &Projection, scope: &Scope, as_of: Day, window: Period, won: bool, limit: usize) -> Vec<OpportunityId> {
    let ids = &projection.deals().id;
    let mut list = Lowest::new(limit);
    visit(projection, window.first.min(as_of.saturating_add(1)), |deal| {
        let Some(state) = projection.state_at(deal, as_of) else { return };
        if window.contains(state.closed_day) && admits(projection, scope, &state) && outcome(projection, &state) == Some(won) {
            list.push(ids[deal as usize]);
        }
    });
    list.finish()
}
