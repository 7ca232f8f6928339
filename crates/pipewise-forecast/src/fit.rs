//! Learning a window's win chances from weekly snapshots of the past (see the crate doc).

use pipewise_analytics::metrics::View;
use pipewise_analytics::projection::{DealState, Projection};
use pipewise_analytics::{Day, Scope, fold_deals};

use crate::{Basis, CELLS_PER_STAGE, CloseFlag, FLOOR_EXITS, FLOOR_WON, MIN_SNAPSHOTS, SHRINK, Window, age_bucket, cell_in_stage};

/// What the model learnt from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Evidence {
    /// Weekly snapshots taken, the oldest on `since`.
    pub snapshots: u32,
    pub since: Day,
    /// Distinct deals open at a snapshot and won, or gone without a win, by the as-of day.
    pub won: u32,
    pub exits: u32,
}

/// A fitted forecast for one window: every cell's chance of a win inside it, and the deals born
/// and won inside past windows (the run-rate's facts). Fit once per window; forecast any scope.
#[derive(Clone, Debug)]
pub struct Model {
    pub window: Window,
    pub basis: Basis,
    pub evidence: Evidence,
    /// `stage × CELLS_PER_STAGE + cell`.
    probability: Vec<f64>,
    /// By stage: what a win brought per unit of the amount the deal had while open (discounts
    /// at signing below 1, upsells above), from the history's wins.
    value_ratio: Vec<f64>,
    pub(crate) born: Vec<Born>,
    /// Past windows fully observed by the as-of day (the run-rate's denominator).
    pub(crate) born_windows: u32,
    /// By owner × pipeline: deals created in the fully observed past windows (after their
    /// snapshot, by its window's end; a deal counts once per window it was created in), and
    /// deals created in the span of that length that ends on the as-of day. Their ratio is how
    /// much more (or less) new business comes in now than it did then: the run-rate's trend.
    pub(crate) created_windows: Vec<u64>,
    pub(crate) created_recent: Vec<u64>,
    pub(crate) n_pipelines: usize,
    pub calibration: Calibration,
}

/// What the fully observed past windows say beyond the cells (see the crate doc).
#[derive(Clone, Debug, PartialEq)]
pub struct Calibration {
    /// Each owner's factor on the odds of a win (1 when the owners do not differ beyond chance),
    /// by owner index.
    pub owner_factor: Vec<f64>,
    /// The variance between owners' win ratios beyond chance (τ²; 0: none).
    pub owner_variance: f64,
    /// The variance of a whole window's win ratio beyond chance (σ²; 0: none): how much a
    /// period as a whole runs above or below the cells' chances.
    pub window_variance: f64,
}

/// A deal created after a snapshot and won inside that snapshot's window.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Born {
    /// The snapshot whose window it was born and won in (its index among the snapshots).
    pub snapshot: u16,
    pub owner: u32,
    pub stage: u16,
    pub amount: i64,
}

/// Per cell and week: wins, exits, and deals censored after that many full weeks, each weighed
/// by its amount (see [`weight`]); integers, so the sums never depend on the order deals are met.
#[derive(Clone)]
struct Counts {
    weeks: usize,
    won: Vec<u128>,
    exit: Vec<u128>,
    censored: Vec<u128>,
    won_deals: u32,
    exit_deals: u32,
    born: Vec<Born>,
    /// By stage, over the wins counted: their number, the weights they had open, and what they
    /// were won for.
    stage_wins: Vec<u64>,
    stage_win_weight: Vec<u128>,
    stage_win_value: Vec<u128>,
    /// Over the fully observed snapshots: deals open per owner × cell and per snapshot × cell,
    /// and their wins inside the snapshot's window per owner and per snapshot.
    owner_open: Vec<u128>,
    owner_wins: Vec<u128>,
    snapshot_open: Vec<u128>,
    snapshot_wins: Vec<u128>,
    /// The squares of the weights open per owner × cell and per snapshot × cell (for chance's
    /// variance of a weighed sum).
    owner_open_squares: Vec<u128>,
    snapshot_open_squares: Vec<u128>,
    /// Deal-snapshots counted there, and the distinct deals among them.
    deal_snapshots: u64,
    observed_deals: u64,
    /// See [`Model::created_windows`].
    created_windows: Vec<u64>,
    created_recent: Vec<u64>,
}

impl Counts {
    fn new(cells: usize, weeks: usize, owners: usize, snapshots: usize, pipelines: usize) -> Counts {
        let n = cells * (weeks + 1);
        Counts {
            weeks,
            won: vec![0; n],
            exit: vec![0; n],
            censored: vec![0; n],
            won_deals: 0,
            exit_deals: 0,
            born: Vec::new(),
            stage_wins: vec![0; cells / CELLS_PER_STAGE],
            stage_win_weight: vec![0; cells / CELLS_PER_STAGE],
            stage_win_value: vec![0; cells / CELLS_PER_STAGE],
            owner_open: vec![0; owners * cells],
            owner_wins: vec![0; owners],
            snapshot_open: vec![0; snapshots * cells],
            snapshot_wins: vec![0; snapshots],
            owner_open_squares: vec![0; owners * cells],
            snapshot_open_squares: vec![0; snapshots * cells],
            deal_snapshots: 0,
            observed_deals: 0,
            created_windows: vec![0; owners * pipelines],
            created_recent: vec![0; owners * pipelines],
        }
    }

    fn merge(&mut self, other: Counts) {
        for (mine, theirs) in [
            (&mut self.won, &other.won),
            (&mut self.exit, &other.exit),
            (&mut self.censored, &other.censored),
            (&mut self.owner_open, &other.owner_open),
            (&mut self.owner_wins, &other.owner_wins),
            (&mut self.snapshot_open, &other.snapshot_open),
            (&mut self.snapshot_wins, &other.snapshot_wins),
            (&mut self.owner_open_squares, &other.owner_open_squares),
            (&mut self.snapshot_open_squares, &other.snapshot_open_squares),
        ] {
            mine.iter_mut().zip(theirs).for_each(|(a, b)| *a += b);
        }
        self.won_deals += other.won_deals;
        self.stage_wins.iter_mut().zip(&other.stage_wins).for_each(|(a, b)| *a += b);
        for (mine, theirs) in [(&mut self.stage_win_weight, &other.stage_win_weight), (&mut self.stage_win_value, &other.stage_win_value)] {
            mine.iter_mut().zip(theirs).for_each(|(a, b)| *a += b);
        }
        self.exit_deals += other.exit_deals;
        self.born.extend(other.born);
        self.deal_snapshots += other.deal_snapshots;
        self.observed_deals += other.observed_deals;
        for (mine, theirs) in [(&mut self.created_windows, &other.created_windows), (&mut self.created_recent, &other.created_recent)] {
            mine.iter_mut().zip(theirs).for_each(|(a, b)| *a += b);
        }
    }

    /// Sums of `cells`' counts for week `k`: (won, exit, at risk).
    fn week(&self, cells: impl Iterator<Item = usize> + Clone, k: usize) -> (f64, f64, f64) {
        let stride = self.weeks + 1;
        let (mut won, mut exit, mut at_risk) = (0u128, 0u128, 0u128);
        for cell in cells {
            let base = cell * stride;
            won += self.won[base + k];
            exit += self.exit[base + k];
            for j in k..=self.weeks {
                at_risk += self.won[base + j] + self.exit[base + j] + self.censored[base + j];
            }
        }
        (won as f64, exit as f64, at_risk as f64)
    }
}

/// The snapshot days, newest first: every 7 days back from `as_of`, enough for a year and for
/// the window's weeks to be fully observed from half of them.
fn snapshots(window: Window) -> Vec<Day> {
    let count = MIN_SNAPSHOTS.max(2 * window.weeks() + 26);
    (1..=count as i32).map(|k| window.as_of - 7 * k).collect()
}

/// Fits the model for `window` over the whole organisation's history as known at its as-of day.
pub fn fit(projection: &Projection, window: Window) -> Model {
    let scope = Scope::org();
    let view = View::new(projection, &scope);
    let n_stages = projection.stages.len();
    let cells = n_stages * CELLS_PER_STAGE;
    let weeks = window.weeks();
    let as_of = window.as_of;
    let days = snapshots(window);
    let since = *days.last().expect("at least one snapshot");
    let (a, b) = window.offsets();
    let owners = projection.n_owners();
    let pipelines = projection.pipelines.len();
    let counts = fold_deals(
        &projection.candidates(since),
        projection.threads(),
        || Counts::new(cells, weeks, owners, days.len(), pipelines),
        |counts, deal| {
            let Some(last) = projection.state_at(deal as u32, as_of) else { return };
            if weeks > 0 && last.created_day > since && (last.owner as usize) < owners {
                let slot = last.owner as usize * pipelines + view.stage(last.stage).pipeline as usize;
                counts.created_windows[slot] += windows_created_in(&days, as_of, b, last.created_day);
                counts.created_recent[slot] += u64::from(last.created_day > as_of - b);
            }
            let closed = !view.stage(last.stage).open;
            let won = closed && view.outcome(&last) == Some(true);
            let mut seen = false;
            let mut observed_here = false;
            // What a win brought, as known at the as-of day.
            let won_value = weight(&last);
            projection.states_at_days(deal as u32, &days, |k, state| {
                if !view.in_pipeline_any_owner(state) {
                    return;
                }
                let day = days[k];
                // Weighed by the amount the deal had then: what the forecast multiplies a chance by.
                let weight = weight(state);
                let cell = state.stage as usize * CELLS_PER_STAGE + cell_of(window, day, state);
                let stride = weeks + 1;
                let observed = ((as_of - day) / 7) as usize;
                // `closed_day <= as_of` holds: the state is the one known at the as-of day.
                let closed_after = closed && last.closed_day > day;
                seen |= closed_after;
                let week = if closed_after { ((last.closed_day - day + 6) / 7) as usize } else { usize::MAX };
                // Only weeks fully observed by the as-of day count an event; a deal closed later
                // in a partly observed week is censored like an open one.
                if week <= observed {
                    if week > weeks {
                        counts.censored[cell * stride + weeks] += weight;
                    } else if won {
                        counts.won[cell * stride + week] += weight;
                        // The value ratio reads wins that had an amount while open: one entered
                        // only at signing says nothing about discounts.
                        if state.amount_or_zero() > 0 {
                            counts.stage_wins[state.stage as usize] += 1;
                            counts.stage_win_weight[state.stage as usize] += weight - 1;
                            counts.stage_win_value[state.stage as usize] += won_value - 1;
                        }
                    } else {
                        counts.exit[cell * stride + week] += weight;
                    }
                } else {
                    counts.censored[cell * stride + observed.min(weeks)] += weight;
                }
                if weeks > 0 && day + b <= as_of && (state.owner as usize) < owners {
                    observed_here = true;
                    counts.deal_snapshots += 1;
                    counts.owner_open[state.owner as usize * cells + cell] += weight;
                    counts.snapshot_open[k * cells + cell] += weight;
                    counts.owner_open_squares[state.owner as usize * cells + cell] += weight * weight;
                    counts.snapshot_open_squares[k * cells + cell] += weight * weight;
                    if won && (day + a..=day + b).contains(&last.closed_day) {
                        counts.owner_wins[state.owner as usize] += weight;
                        counts.snapshot_wins[k] += weight;
                    }
                }
            });
            counts.observed_deals += u64::from(observed_here);
            if seen {
                if won { counts.won_deals += 1 } else { counts.exit_deals += 1 }
            }
            if won && last.closed_day >= since {
                for (snapshot, &day) in days.iter().enumerate() {
                    let fully_observed = day + b <= as_of;
                    if fully_observed
                        && last.created_day > day
                        && last.created_day <= day + b
                        && (day + a..=day + b).contains(&last.closed_day)
                    {
                        counts.born.push(Born {
                            snapshot: snapshot as u16,
                            owner: last.owner,
                            stage: last.stage,
                            amount: last.amount_or_zero(),
                        });
                    }
                }
            }
        },
        Counts::merge,
    );
    let born_windows = days.iter().filter(|day| **day + b <= as_of).count() as u32;
    let evidence = Evidence { snapshots: days.len() as u32, since, won: counts.won_deals, exits: counts.exit_deals };
    let basis = if evidence.won >= FLOOR_WON && evidence.exits >= FLOOR_EXITS { Basis::Statistical } else { Basis::StageWeighted };
    let probability = probabilities(projection, &view, window, &counts);
    let calibration = calibrate(&counts, &probability, &projection.owner_ids[..owners], days.len());
    let value_ratio = value_ratios(projection, &counts);
    let mut born = counts.born;
    born.sort_by_key(|born| (born.snapshot, born.owner, born.stage, born.amount));
    Model {
        window,
        basis,
        evidence,
        probability,
        value_ratio,
        born,
        born_windows,
        created_windows: counts.created_windows,
        created_recent: counts.created_recent,
        n_pipelines: pipelines,
        calibration,
    }
}

/// In how many fully observed past windows a deal created on `created` was created: snapshots
/// `day` (newest first, 7 days apart from `as_of`) with `day < created <= day + b` and
/// `day + b <= as_of`.
fn windows_created_in(days: &[Day], as_of: Day, b: i32, created: Day) -> u64 {
    days.iter().filter(|day| **day < created && created <= **day + b && **day + b <= as_of).count() as u64
}

/// The owners' factors and the windows' variance, by the method of moments: a group's wins `W`
/// in the fully observed windows against the cells' expectation `E = Σ n·p`, with chance's
/// variance `V = Σ n·p(1−p)`; the variance beyond chance is `(Σ (W − E)² − Σ V) / Σ E²`
/// (a gamma of mean 1 and that variance is each owner's factor a priori, so an owner's factor
/// is `(k + W) / (k + E)` with `k = 1/τ²`: shrunk toward 1 as their evidence is thin).
/// The same deal is open at several snapshots: owners' counts are divided by how many on
/// average, so a deal is one piece of evidence, not one a week.
fn calibrate(counts: &Counts, probability: &[f64], owner_ids: &[pipewise_core::UserId], snapshots: usize) -> Calibration {
    let owners = owner_ids.len();
    let cells = probability.len();
    // Expected wins Σ w·p and chance's variance Σ w²·p(1−p) of a group's open weights `open`
    // and their squares.
    let expect = |open: &[u128], squares: &[u128]| -> (f64, f64) {
        let mut sums = (0.0, 0.0);
        for ((weight, square), p) in open.iter().zip(squares).zip(probability) {
            sums.0 += *weight as f64 * p;
            sums.1 += *square as f64 * p * (1.0 - p);
        }
        sums
    };
    let beyond_chance = |groups: &[(f64, f64, f64)]| -> f64 {
        let (mut squares, mut chance, mut weight) = (0.0, 0.0, 0.0);
        for (wins, expected, variance) in groups {
            squares += (wins - expected).powi(2);
            chance += variance;
            weight += expected * expected;
        }
        if weight > 0.0 { ((squares - chance) / weight).max(0.0) } else { 0.0 }
    };
    let overlap = if counts.observed_deals > 0 { (counts.deal_snapshots as f64 / counts.observed_deals as f64).max(1.0) } else { 1.0 };
    let by_owner: Vec<(f64, f64, f64)> = (0..owners)
        .map(|owner| {
            let range = owner * cells..(owner + 1) * cells;
            let (expected, variance) = expect(&counts.owner_open[range.clone()], &counts.owner_open_squares[range]);
            (counts.owner_wins[owner] as f64 / overlap, expected / overlap, variance / overlap)
        })
        .collect();
    // Summed in the order of the people's ids, not of their places in the projection (which a
    // rebuild may change), so the sum's last bits never depend on how the projection was built.
    let mut order: Vec<usize> = (0..owners).collect();
    order.sort_by_key(|owner| owner_ids.get(*owner).map(|user| user.0));
    let owner_variance = beyond_chance(&order.iter().map(|owner| by_owner[*owner]).collect::<Vec<_>>());
    let owner_factor = by_owner
        .iter()
        .map(|(wins, expected, _)| {
            // (k + W)/(k + E) with k = 1/τ², written so that a tiny τ² cannot make it ∞/∞.
            if owner_variance > 0.0 { (1.0 + owner_variance * wins) / (1.0 + owner_variance * expected) } else { 1.0 }
        })
        .collect();
    let by_window: Vec<(f64, f64, f64)> = (0..snapshots)
        .filter_map(|snapshot| {
            let range = snapshot * cells..(snapshot + 1) * cells;
            let (expected, variance) = expect(&counts.snapshot_open[range.clone()], &counts.snapshot_open_squares[range]);
            (expected > 0.0).then(|| (counts.snapshot_wins[snapshot] as f64, expected, variance))
        })
        .collect();
    Calibration { owner_factor, owner_variance, window_variance: beyond_chance(&by_window) }
}

/// Wins a stage needs before its own value ratio is used (else its pipeline's, else 1).
const RATIO_FLOOR: u64 = 20;

/// Each stage's value ratio: what its wins were won for over the amounts they had open.
fn value_ratios(projection: &Projection, counts: &Counts) -> Vec<f64> {
    let mut ratios = vec![1.0; projection.stages.len()];
    for pipeline in &projection.pipelines {
        let stages = &pipeline.stages;
        let sum = |pick: &dyn Fn(usize) -> u128| stages.iter().map(|stage| pick(*stage as usize)).sum::<u128>();
        let wins: u64 = stages.iter().map(|stage| counts.stage_wins[*stage as usize]).sum();
        let overall = if wins >= RATIO_FLOOR {
            sum(&|stage| counts.stage_win_value[stage]) as f64 / sum(&|stage| counts.stage_win_weight[stage]).max(1) as f64
        } else {
            1.0
        };
        for stage in stages.iter().map(|stage| *stage as usize) {
            ratios[stage] = if counts.stage_wins[stage] >= RATIO_FLOOR {
                counts.stage_win_value[stage] as f64 / counts.stage_win_weight[stage].max(1) as f64
            } else {
                overall
            };
        }
    }
    ratios
}

/// How much a deal weighs in what the model learns: its amount in minor units, plus one, so the
/// model learns chances *by value* — a forecast sums amounts, and large deals are often won less
/// often than small ones — and still by count where no deal has an amount.
fn weight(state: &DealState) -> u128 {
    state.amount_or_zero().max(0) as u128 + 1
}

/// The cell of a deal's `state` seen from `day` (its index among its stage's cells).
fn cell_of(window: Window, day: Day, state: &DealState) -> usize {
    let age = age_bucket(day - state.stage_entered_day);
    cell_in_stage(age, window.close_flag(day, state.close_day))
}

/// Every cell's chance of a win in the window, its weekly hazards shrunk toward its stage's and
/// those toward its pipeline's.
fn probabilities(projection: &Projection, view: &View, window: Window, counts: &Counts) -> Vec<f64> {
    let weeks = counts.weeks;
    let (a, b) = window.offsets();
    let n_stages = projection.stages.len();
    let mut probability = vec![0.0; n_stages * CELLS_PER_STAGE];
    if weeks == 0 {
        return probability;
    }
    let rate = |events: f64, at_risk: f64, parent: f64| (events + SHRINK * parent) / (at_risk + SHRINK);
    for pipeline in &projection.pipelines {
        let stages: Vec<usize> =
            pipeline.stages.iter().map(|stage| *stage as usize).filter(|stage| view.stage(*stage as u16).open).collect();
        let pipeline_cells = stages.iter().flat_map(|stage| (0..CELLS_PER_STAGE).map(move |cell| stage * CELLS_PER_STAGE + cell));
        let top: Vec<(f64, f64)> = (1..=weeks)
            .map(|k| {
                let (won, exit, at_risk) = counts.week(pipeline_cells.clone(), k);
                if at_risk == 0.0 { (0.0, 0.0) } else { (won / at_risk, exit / at_risk) }
            })
            .collect();
        for &stage in &stages {
            let stage_cells = (0..CELLS_PER_STAGE).map(|cell| stage * CELLS_PER_STAGE + cell);
            let middle: Vec<(f64, f64)> = (1..=weeks)
                .map(|k| {
                    let (won, exit, at_risk) = counts.week(stage_cells.clone(), k);
                    let (win_parent, exit_parent) = top[k - 1];
                    (rate(won, at_risk, win_parent), rate(exit, at_risk, exit_parent))
                })
                .collect();
            for cell in 0..CELLS_PER_STAGE {
                let global = stage * CELLS_PER_STAGE + cell;
                let mut open = 1.0;
                let mut chance = 0.0;
                for k in 1..=weeks {
                    let (won, exit, at_risk) = counts.week(std::iter::once(global), k);
                    let (win_parent, exit_parent) = middle[k - 1];
                    let win = rate(won, at_risk, win_parent);
                    let exit = rate(exit, at_risk, exit_parent).min(1.0 - win);
                    chance += open * win * share_of_week(k as i32, a, b);
                    open *= 1.0 - win - exit;
                }
                probability[global] = chance.clamp(0.0, 1.0);
            }
        }
    }
    probability
}

/// The share of week `k`'s days (offsets `7k−6..=7k`) inside `a..=b`.
fn share_of_week(k: i32, a: i32, b: i32) -> f64 {
    let (first, last) = (7 * k - 6, 7 * k);
    let inside = (last.min(b) - first.max(a) + 1).max(0);
    f64::from(inside) / 7.0
}

impl Model {
    /// What a win of a deal now in `stage` brings per unit of its amount.
    pub fn value_ratio(&self, stage: u16) -> f64 {
        self.value_ratio.get(stage as usize).copied().unwrap_or(1.0)
    }

    /// The chance that a deal open as of the as-of day in `state` is won inside the window: its
    /// cell's, its odds scaled by its owner's factor.
    pub fn probability(&self, state: &DealState) -> f64 {
        let cell = cell_of(self.window, self.window.as_of, state);
        let chance = self.probability[state.stage as usize * CELLS_PER_STAGE + cell];
        let factor = self.calibration.owner_factor.get(state.owner as usize).copied().unwrap_or(1.0);
        scale_odds(chance, factor)
    }

    /// The chance of a win in the window for a deal of `stage`, `days` in it, its close date as
    /// `flag` says.
    pub fn cell_probability(&self, stage: u16, days: i32, flag: CloseFlag) -> f64 {
        self.probability[stage as usize * CELLS_PER_STAGE + cell_in_stage(age_bucket(days), flag)]
    }
}

/// `p` with its odds multiplied by `factor`.
pub(crate) fn scale_odds(p: f64, factor: f64) -> f64 {
    if p >= 1.0 || factor == 1.0 {
        return p;
    }
    let odds = p / (1.0 - p) * factor;
    odds / (1.0 + odds)
}
