//! Pipewise's statistical forecast (SPEC C7, issue 13 point 2): how much a scope will win in a
//! period, as of any day, learnt from the organisation's own history. Pure: the projection, the
//! day and the seed are arguments; the same arguments give the same forecast, bit for bit.
//!
//! # The model
//! A forecast made as of day `t` for a period `P` counts what is won on the days `w` of the
//! **window**: `P`'s days after `t` (offsets `a..=b` days after `t`).
//!
//! 1. **Open deals.** Each deal open as of `t` (open counting stage, not Omitted, in scope; the
//!    history it learns from is such deals too)
//!    falls in a *cell*: its stage × its time in that stage ([`AGE_BOUNDS`]) × where its close
//!    date lies against the window ([`CloseFlag`]). A cell's chance of a win inside the window
//!    is learnt from **weekly snapshots** of the past (every 7 days back from `t`, over at least
//!    a year): each deal open at a snapshot `d` is followed, with what was known at `t`, until it
//!    was won, left the pipeline (lost or dropped) or `t` came (then it is *censored*: it counts
//!    as at risk for the weeks observed, never as a loss). From these follow weekly hazards of a
//!    win and of an exit per cell, and the chance of a win in the window is the cumulative
//!    incidence `Σ_k S(k−1)·h_win(k)` over the window's weeks (`S` the chance of still being
//!    open). Sparse cells **shrink** toward their stage and stages toward their pipeline: a
//!    hazard is `(events + m·parent) / (at risk + m)` with `m` = [`SHRINK`].
//!    Deals are **weighed by their amount** then (plus one minor unit, so an organisation that
//!    enters no amounts is counted by deal): a forecast sums amounts, and large deals are often
//!    won less often than small ones. What a win brings per unit of its open amount (discounts
//!    at signing, upsells) is each stage's **value ratio**, from its wins.
//! 2. **Calibration** from the fully observed past windows: each owner's factor on the odds
//!    (what they won against what their cells expected, gamma-shrunk toward 1 by how much owners
//!    differ beyond chance) and the variance of a window as a whole beyond chance.
//! 3. **Deals not yet created.** The *run-rate*: in each fully observed past window of the same
//!    offsets, the deals in scope created after the snapshot and won inside the window; their
//!    count per window is a Poisson mean and their amounts the pool a trial draws from. The
//!    mean follows the **trend** of new business: it is scaled by the deals the scope created
//!    over the span of a window ending on the as-of day against the mean created in those past
//!    windows (each side shrunk by [`TREND_SHRINK`] deals toward 1).
//! 4. **Already won**: deals won in the period on or before `t` count as they are.
//! 5. A **seeded Monte Carlo** (ChaCha8) draws every trial's total: first a window-wide
//!    lognormal multiplier (mean 1, the calibration's variance) on every chance and on the
//!    run-rate, which makes deals move together as whole quarters do; then deals grouped by
//!    chance — a group of at most [`EXACT_CELL`] deals one draw per deal, a larger one a
//!    binomial count and a normal draw for the sum of that many of its values (with the
//!    finite-population correction of drawing them without replacement), and the many large
//!    groups summed into one normal draw with exact moments; then a gamma-Poisson
//!    count of new deals with amounts from the pool. P10, P50 and P90 are nearest-rank
//!    percentiles of the trials; the expected value is exact (no sampling).
//!
//! **Data floor.** With fewer than [`FLOOR_WON`] won or [`FLOOR_EXITS`] lost deals in the
//! training span the model does not guess: the forecast says so ([`Basis::StageWeighted`]) and
//! gives the stage-weighted pipeline (each open deal whose close date lies in the window times its
//! stage's default probability, plus what is already won), without a range.
//!
//! Amounts are reporting-currency minor units, as the projection holds them.

mod backtest;
mod categories;
mod fit;
pub mod ledger;
mod simulate;
pub mod symptoms;
pub mod win;

pub use backtest::{Backtest, Sample, backtest};
pub use categories::{Categories, categories};
pub use fit::{Calibration, Evidence, Model, fit};
pub use simulate::{Forecast, Mover, RunRate, TREND_SHRINK, forecast};

use pipewise_analytics::{Day, Period};

/// Time in stage, in days, that starts each age bucket after the first (`0..14`, `14..30`, …,
/// `120..`).
pub const AGE_BOUNDS: [i32; 4] = [14, 30, 60, 120];
/// Pseudo-observations a cell borrows from its parent (stage, then pipeline).
pub const SHRINK: f64 = 10.0;
/// Won deals the training span must hold before the model speaks.
pub const FLOOR_WON: u32 = 20;
/// Deals that left the pipeline without a win (lost or dropped) the training span must hold.
pub const FLOOR_EXITS: u32 = 20;
/// Cells of at most this many deals draw each deal; larger ones draw a count and a sum.
pub const EXACT_CELL: usize = 16;
/// Weekly snapshots the model learns from, at least (a year).
pub const MIN_SNAPSHOTS: usize = 52;
/// The longest window the model learns, in weeks (a fiscal year and a little).
pub const MAX_WEEKS: usize = 60;

/// Where a deal's close date lies against the window, as seen from a day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CloseFlag {
    /// Inside the window.
    In = 0,
    /// Before the window: overdue or due before it opens.
    Before = 1,
    /// After the window.
    After = 2,
    /// No close date.
    None = 3,
}

const FLAGS: usize = 4;
const AGES: usize = AGE_BOUNDS.len() + 1;
/// Cells per stage.
const CELLS_PER_STAGE: usize = AGES * FLAGS;

/// What a forecast counts: wins on the days `first..=last` that come after `as_of`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub as_of: Day,
    pub period: Period,
}

impl Window {
    pub fn new(as_of: Day, period: Period) -> Window {
        Window { as_of, period }
    }

    /// The window's offsets in days after a reference day: `(a, b)`, empty when `b < a`.
    pub fn offsets(self) -> (i32, i32) {
        let a = (self.period.first - self.as_of).max(1);
        let b = self.period.last - self.as_of;
        (a, b)
    }

    /// Weeks of hazards the window needs (offsets `1..=7` are week 1), at most [`MAX_WEEKS`]: a
    /// longer window is learnt over its first [`MAX_WEEKS`] weeks, so no window, however far it
    /// reaches, costs more than a year's.
    pub fn weeks(self) -> usize {
        let (a, b) = self.offsets();
        if b < a { 0 } else { (((b + 6) / 7) as usize).min(MAX_WEEKS) }
    }

    /// Where `close_day` lies against the window seen from `reference`.
    pub fn close_flag(self, reference: Day, close_day: Day) -> CloseFlag {
        let (a, b) = self.offsets();
        if close_day == pipewise_analytics::NO_DAY {
            CloseFlag::None
        } else if close_day < reference + a {
            CloseFlag::Before
        } else if close_day > reference + b {
            CloseFlag::After
        } else {
            CloseFlag::In
        }
    }
}

/// The age bucket of `days` in stage.
pub fn age_bucket(days: i32) -> usize {
    AGE_BOUNDS.iter().take_while(|bound| days >= **bound).count()
}

/// A cell's index among one stage's cells.
fn cell_in_stage(age: usize, flag: CloseFlag) -> usize {
    age * FLAGS + flag as usize
}

/// How the forecast was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Basis {
    /// Learnt from the history, with a range.
    Statistical,
    /// Below the data floor: the stage-weighted pipeline, without a range.
    StageWeighted,
}
