//! Backtests (issue 13, points 5 and 6): forecasts made as of past days, each refitted with only
//! what was known then, scored against what was won.

use pipewise_analytics::metrics::outcomes;
use pipewise_analytics::{Day, Period, Projection, Scope};

use crate::{Basis, Window, fit, forecast};

/// One forecast of one scope's period, and what the period brought.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    pub scope: usize,
    pub window: Window,
    pub basis: Basis,
    pub expected: i64,
    pub range: Option<[i64; 3]>,
    pub stage_weighted: i64,
    /// Won in the period, as known at its last day.
    pub actual: i64,
}

/// The samples of a backtest and their scores.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Backtest {
    pub samples: Vec<Sample>,
}

/// Forecasts every scope of `scopes` for every period of `periods`, as of `lead` days after the
/// day before each period starts (0: on its eve), with `trials` seeded by `seed`; the periods
/// must have ended by the projection's data.
pub fn backtest(projection: &Projection, periods: &[Period], lead: i32, scopes: &[Scope], trials: u32, seed: u64) -> Backtest {
    let mut samples = Vec::new();
    for period in periods {
        let as_of: Day = period.first - 1 + lead;
        let window = Window::new(as_of, *period);
        let model = fit(projection, window);
        for (index, scope) in scopes.iter().enumerate() {
            let result = forecast(&model, projection, scope, trials, seed, 0);
            let actual = outcomes(projection, scope, period.last, *period).won_amount as i64;
            samples.push(Sample {
                scope: index,
                window,
                basis: result.basis,
                expected: result.expected,
                range: result.range,
                stage_weighted: result.stage_weighted,
                actual,
            });
        }
    }
    Backtest { samples }
}

impl Backtest {
    /// The statistical samples (below the data floor a forecast has no range to score).
    fn statistical(&self) -> impl Iterator<Item = &Sample> {
        self.samples.iter().filter(|sample| sample.basis == Basis::Statistical)
    }

    pub fn scored(&self) -> usize {
        self.statistical().count()
    }

    /// The share of statistical samples whose actual lies within P10..=P90 (80 % if calibrated).
    pub fn coverage(&self) -> Option<f64> {
        let n = self.scored();
        let inside =
            self.statistical().filter(|sample| sample.range.is_some_and(|[p10, _, p90]| (p10..=p90).contains(&sample.actual))).count();
        (n > 0).then(|| inside as f64 / n as f64)
    }

    /// How many statistical samples fell below P10 and above P90.
    pub fn misses(&self) -> (usize, usize) {
        let below = self.statistical().filter(|sample| sample.range.is_some_and(|[p10, _, _]| sample.actual < p10)).count();
        let above = self.statistical().filter(|sample| sample.range.is_some_and(|[_, _, p90]| sample.actual > p90)).count();
        (below, above)
    }

    /// Weighted absolute percentage error `Σ |forecast − actual| / Σ actual` of the statistical
    /// samples: the model's expected value, and the stage-weighted pipeline's on the same samples.
    pub fn wape(&self) -> Option<(f64, f64)> {
        let actual: f64 = self.statistical().map(|sample| sample.actual as f64).sum();
        let error = |pick: fn(&Sample) -> i64| self.statistical().map(|sample| (pick(sample) - sample.actual).abs() as f64).sum::<f64>();
        (actual > 0.0).then(|| (error(|sample| sample.expected) / actual, error(|sample| sample.stage_weighted) / actual))
    }
}
