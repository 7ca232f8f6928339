//! The forecast categories of a scope's deals for a period (issue 13, point 1): what a call is
//! made against.

use pipewise_analytics::metrics::View;
use pipewise_analytics::projection::{DealState, Projection, forecast_index};
use pipewise_analytics::{Day, Period, Scope, fold_deals};
use pipewise_core::pipeline::ForecastCategory;

/// Amounts in reporting-currency minor units. The open amounts are of deals due in the period
/// (close date in it), by their forecast category as of the day; an open deal marked Closed
/// counts as Commit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Categories {
    /// Won in the period by the day.
    pub closed: i64,
    pub commit: i64,
    pub best_case: i64,
    pub pipeline: i64,
    pub omitted: i64,
}

impl Categories {
    /// Closed plus Commit: what the scope is sure of.
    pub fn commit_total(&self) -> i64 {
        self.closed + self.commit
    }

    /// Closed, Commit and Best case: what it could reach.
    pub fn best_case_total(&self) -> i64 {
        self.commit_total() + self.best_case
    }

    fn merge(&mut self, other: Categories) {
        self.closed += other.closed;
        self.commit += other.commit;
        self.best_case += other.best_case;
        self.pipeline += other.pipeline;
        self.omitted += other.omitted;
    }
}

/// The categories of `scope`'s deals for `period` as of the end of `as_of`.
pub fn categories(projection: &Projection, scope: &Scope, as_of: Day, period: Period) -> Categories {
    let view = View::as_of(projection, scope, as_of);
    let [pipeline, best_case, commit, closed] =
        [ForecastCategory::Pipeline, ForecastCategory::BestCase, ForecastCategory::Commit, ForecastCategory::Closed].map(forecast_index);
    fold_deals(
        &projection.candidates(period.first.min(as_of.saturating_add(1))),
        projection.threads(),
        Categories::default,
        |acc, deal| {
            let mut state = DealState::EMPTY;
            if !projection.state_into(deal as u32, as_of, &mut state) || !view.admits(&state) {
                return;
            }
            let amount = state.amount_or_zero();
            if view.omitted(&state) {
                if period.contains(state.close_day) {
                    acc.omitted += amount;
                }
            } else if view.in_open_pipeline(&state) {
                if period.contains(state.close_day) {
                    match state.forecast {
                        category if category == commit || category == closed => acc.commit += amount,
                        category if category == best_case => acc.best_case += amount,
                        category if category == pipeline => acc.pipeline += amount,
                        _ => {}
                    }
                }
            } else if view.outcome(&state) == Some(true) && period.contains(state.closed_day) && state.closed_day <= as_of {
                acc.closed += amount;
            }
        },
        |acc, other| acc.merge(other),
    )
}
