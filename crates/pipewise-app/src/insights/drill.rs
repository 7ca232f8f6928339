//! The deals behind a figure, by the figures' own rules of membership
//! (`pipewise_analytics::figures`), so every number can be opened as a list of deals.
//! Tests check each list's length against the figure it explains.
//!
//! A list names only the deals the viewer may open ([`OpenableDeals`]): a figure counts a deal
//! by its owner on the figure's day, and a deal handed out of the viewer's sight since still
//! counts but is not listed (its id never reaches the viewer).

use pipewise_analytics::projection::Projection;
use pipewise_analytics::{Day, Membership, Period, Scope, WaterfallBucket};
use pipewise_core::OpportunityId;

use crate::visibility::OpenableDeals;

/// Up to `limit` ids of deals `openable` admits, per stage index of the open pipeline as of
/// `as_of` (optionally closing within `close_within`), in id order.
pub fn deals_by_stage(
    projection: &Projection,
    scope: &Scope,
    openable: &OpenableDeals,
    as_of: Day,
    close_within: Option<Period>,
    limit: usize,
) -> Vec<Vec<OpportunityId>> {
    let membership = Membership::new(projection, scope, as_of);
    let openable = openable.in_projection(projection);
    let mut lists = vec![Lowest::new(limit); projection.stages.len()];
    let ids = &projection.deals().id;
    visit(projection, as_of.saturating_add(1), |deal| {
        let Some(state) = projection.state_at(deal, as_of) else { return };
        if !membership.in_open_pipeline(&state)
            || close_within.is_some_and(|period| !period.contains(state.close_day))
            || !openable.admits(deal)
        {
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

/// Up to `limit` ids of deals `openable` admits per bucket of the waterfall, in the order of
/// [`WaterfallBucket::ALL`], by the waterfall's own rule.
pub fn waterfall_deals(
    projection: &Projection,
    scope: &Scope,
    openable: &OpenableDeals,
    period: Period,
    from: Day,
    to: Day,
    limit: usize,
) -> Vec<Vec<OpportunityId>> {
    let membership = Membership::new(projection, scope, to);
    let openable = openable.in_projection(projection);
    let mut lists = vec![Lowest::new(limit); WaterfallBucket::ALL.len()];
    let ids = &projection.deals().id;
    visit(projection, period.first.min(from.saturating_add(1)), |deal| {
        if !openable.admits(deal) {
            return;
        }
        for (bucket, _, _) in membership.waterfall_moves(deal, period, from, to).iter() {
            lists[bucket as usize].push(ids[deal as usize]);
        }
    });
    lists.into_iter().map(Lowest::finish).collect()
}

/// Up to `limit` ids of deals `openable` admits, of the deals won (`won`) or lost in `window` as
/// of `as_of`.
pub fn outcome_deals(
    projection: &Projection,
    scope: &Scope,
    openable: &OpenableDeals,
    as_of: Day,
    window: Period,
    won: bool,
    limit: usize,
) -> Vec<OpportunityId> {
    let membership = Membership::new(projection, scope, as_of);
    let openable = openable.in_projection(projection);
    let ids = &projection.deals().id;
    let mut list = Lowest::new(limit);
    visit(projection, window.first.min(as_of.saturating_add(1)), |deal| {
        let Some(state) = projection.state_at(deal, as_of) else { return };
        if window.contains(state.closed_day)
            && membership.admits(&state)
            && membership.outcome(&state) == Some(won)
            && openable.admits(deal)
        {
            list.push(ids[deal as usize]);
        }
    });
    list.finish()
}
