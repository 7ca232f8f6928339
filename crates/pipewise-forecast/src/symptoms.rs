//! Seed 004's symptoms of a forecast nobody can make (issue 13, point 9), measured per owner
//! from the projection: late CRM updates, stale information and the quarter-end scramble
//! (missing calls and forecast error come from the calls; the application layer puts the five
//! together).

use pipewise_analytics::projection::{DealState, Field, Projection};
use pipewise_analytics::{Day, Period};

/// Days before a period's end that count as its scramble.
pub const SCRAMBLE_DAYS: i32 = 14;
/// An open deal unchanged for this many days is stale.
pub const STALE_DAYS: i32 = 30;

/// A share: how many of how many.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Share {
    pub part: u64,
    pub whole: u64,
}

impl Share {
    pub fn ratio(self) -> Option<f64> {
        (self.whole > 0).then(|| self.part as f64 / self.whole as f64)
    }

    fn add(&mut self, part: bool) {
        self.whole += 1;
        self.part += u64::from(part);
    }

    /// The sum of `shares`.
    pub fn total<'a>(shares: impl IntoIterator<Item = &'a Share>) -> Share {
        shares.into_iter().fold(Share::default(), |acc, share| Share { part: acc.part + share.part, whole: acc.whole + share.whole })
    }
}

/// By owner index: of the stage and amount changes made in `period` to deals they owned at its
/// end, how many fell in its last [`SCRAMBLE_DAYS`] days (the quarter-end scramble: a healthy
/// pipeline is worked all quarter, not rewritten at its end).
pub fn scramble(projection: &Projection, period: Period) -> Vec<Share> {
    let mut shares = vec![Share::default(); projection.n_owners()];
    let from = period.last - SCRAMBLE_DAYS + 1;
    let mut state = DealState::EMPTY;
    for deal in 0..projection.n_deals() as u32 {
        if projection.deals().last_event_day[deal as usize] < period.first || !projection.state_into(deal, period.last, &mut state) {
            continue;
        }
        let Some(share) = shares.get_mut(state.owner as usize) else { continue };
        for (day, field) in projection.changes(deal) {
            if period.contains(day) && matches!(field, Field::Stage | Field::Amount) {
                share.add(day >= from);
            }
        }
    }
    shares
}

/// By owner index: of their deals open at the end of `day`, how many had not changed for
/// [`STALE_DAYS`] days or more (stale information: the pipeline says what it said a month ago).
pub fn stale(projection: &Projection, day: Day) -> Vec<Share> {
    let mut shares = vec![Share::default(); projection.n_owners()];
    let mut state = DealState::EMPTY;
    for deal in 0..projection.n_deals() as u32 {
        if !projection.state_into(deal, day, &mut state) || !projection.stages[state.stage as usize].is_open() {
            continue;
        }
        let last_change =
            projection.changes(deal).map(|(at, _)| at).filter(|at| *at <= day).max().unwrap_or(state.created_day).max(state.created_day);
        if let Some(share) = shares.get_mut(state.owner as usize) {
            share.add(day - last_change >= STALE_DAYS);
        }
    }
    shares
}

/// By owner index: of the deals won in `period` (as known at its end) by deals they owned then,
/// how many were updated after the fact — moved to won from a stage short of their pipeline's
/// last open one, or created won — so the CRM never showed them progressing.
pub fn late_updates(projection: &Projection, period: Period) -> Vec<Share> {
    let mut shares = vec![Share::default(); projection.n_owners()];
    // The last open counting stage's position of each pipeline.
    let last_open: Vec<i32> = projection
        .pipelines
        .iter()
        .map(|pipeline| {
            pipeline
                .stages
                .iter()
                .map(|stage| &projection.stages[*stage as usize])
                .filter(|stage| stage.is_open() && stage.counts_in_metrics)
                .map(|stage| stage.position)
                .max()
                .unwrap_or(i32::MIN)
        })
        .collect();
    let mut state = DealState::EMPTY;
    for deal in 0..projection.n_deals() as u32 {
        if !projection.state_into(deal, period.last, &mut state) || !period.contains(state.closed_day) {
            continue;
        }
        let stage = &projection.stages[state.stage as usize];
        if stage.kind != pipewise_core::pipeline::StageKind::Won {
            continue;
        }
        let skipped = state.stage_before == pipewise_analytics::projection::NO_STAGE
            || projection.stages[state.stage_before as usize].position < last_open[stage.pipeline as usize];
        if let Some(share) = shares.get_mut(state.owner as usize) {
            share.add(skipped);
        }
    }
    shares
}
