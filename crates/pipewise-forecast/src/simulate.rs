//! A scope's forecast from a fitted [`Model`]: the open deals' chances, the run-rate, what is
//! already won, and the seeded Monte Carlo (see the crate doc).

use pipewise_analytics::metrics::View;
use pipewise_analytics::projection::{DealState, Projection};
use pipewise_analytics::{Scope, fold_deals};
use pipewise_core::OpportunityId;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;
use rand_distr::{Binomial, Distribution, Gamma, Normal, Poisson, StandardUniform, Uniform};

use crate::fit::Born;
use crate::{Basis, CloseFlag, EXACT_CELL, Evidence, Model, Window};

/// A deal that moves the number: its chance of a win in the window and what it adds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mover {
    pub opportunity: OpportunityId,
    pub amount: i64,
    pub probability: f64,
    /// `amount × probability`, rounded.
    pub expected: i64,
}

/// Deals not yet created, won inside the window.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RunRate {
    /// Past windows it was measured over.
    pub windows: u32,
    pub deals_per_window: f64,
    /// The variance of the count across those windows beyond a Poisson's (0 when none): the
    /// trials draw each window's mean from a gamma of this extra variance, so a scope whose
    /// new business comes in bursts gets the wider range it has earned.
    pub extra_variance: f64,
    pub expected: i64,
    /// The trend the counts were scaled by: deals created in the scope over the span of a
    /// window that ends on the as-of day, over the mean created in the past windows (each
    /// shrunk by [`TREND_SHRINK`] deals toward 1).
    pub trend: f64,
}

/// Deals both sides of the run-rate's trend borrow at 1, so a scope with few deals keeps its
/// past rate.
pub const TREND_SHRINK: f64 = 10.0;

/// A period's forecast for a scope. Amounts are reporting-currency minor units.
#[derive(Clone, Debug, PartialEq)]
pub struct Forecast {
    pub window: Window,
    pub basis: Basis,
    pub evidence: Evidence,
    /// Won in the period on or before the as-of day.
    pub won: i64,
    pub won_deals: u64,
    /// The open pipeline as of the as-of day (counting stages, not Omitted).
    pub open_deals: u64,
    pub open_amount: i64,
    /// Open deals whose close date lies in the window, and their amount.
    pub due_deals: u64,
    pub due_amount: i64,
    /// `won` + each due deal × its stage's default probability.
    pub stage_weighted: i64,
    /// The basis's expected total (exact): `won` + `Σ amount × value ratio × chance` + the
    /// run-rate's.
    pub expected: i64,
    /// P10, P50, P90 of the simulated totals ([`Basis::Statistical`] only).
    pub range: Option<[i64; 3]>,
    pub run_rate: RunRate,
    /// The open deals whose outcome swings the total most (`amount × √(p(1−p))`), largest first.
    pub movers: Vec<Mover>,
    pub trials: u32,
    pub seed: u64,
}

/// One open deal in scope.
#[derive(Clone, Copy, Debug)]
struct Open {
    /// [`GROUPS`] × the deal's chance, rounded: deals of one group are drawn together.
    group: u32,
    chance: f64,
    /// The deals are ordered by id, not by their place in the projection (which a rebuild may
    /// change), so a forecast never depends on how the projection was built.
    opportunity: OpportunityId,
    amount: i64,
    /// What a win would bring: the amount times its stage's value ratio.
    value: i64,
    due: bool,
    stage_bp: i64,
}

#[derive(Default)]
struct Gathered {
    open: Vec<Open>,
    won: i64,
    won_deals: u64,
}

/// The forecast of `scope` under `model` (fitted on the same projection), with `trials` seeded
/// by `seed`, naming the `movers` deals that swing it most.
pub fn forecast(model: &Model, projection: &Projection, scope: &Scope, trials: u32, seed: u64, movers: usize) -> Forecast {
    let window = model.window;
    let view = View::new(projection, scope);
    let as_of = window.as_of;
    let period = window.period;
    let gathered = fold_deals(
        &projection.candidates(period.first.min(as_of.saturating_add(1))),
        projection.threads(),
        Gathered::default,
        |acc, deal| {
            let mut state = DealState::EMPTY;
            if !projection.state_into(deal as u32, as_of, &mut state) || !view.admits(&state) {
                return;
            }
            if view.in_open_pipeline(&state) {
                let flag = window.close_flag(as_of, state.close_day);
                let chance = model.probability(&state);
                acc.open.push(Open {
                    group: (chance * f64::from(GROUPS)).round() as u32,
                    chance,
                    opportunity: projection.deals().id[deal],
                    amount: state.amount_or_zero(),
                    value: (state.amount_or_zero() as f64 * model.value_ratio(state.stage)).round() as i64,
                    due: flag == CloseFlag::In,
                    stage_bp: view.stage(state.stage).win_bp,
                });
            } else if view.outcome(&state) == Some(true) && period.contains(state.closed_day) && state.closed_day <= as_of {
                acc.won += state.amount_or_zero();
                acc.won_deals += 1;
            }
        },
        |acc, other| {
            acc.open.extend(other.open);
            acc.won += other.won;
            acc.won_deals += other.won_deals;
        },
    );
    let mut open = gathered.open;
    open.sort_unstable_by_key(|deal| (deal.group, deal.opportunity));
    let chance = |deal: &Open| deal.chance;
    let due: Vec<&Open> = open.iter().filter(|deal| deal.due).collect();
    let due_amount: i64 = due.iter().map(|deal| deal.amount).sum();
    let stage_weighted_open: f64 = due.iter().map(|deal| deal.amount as f64 * deal.stage_bp as f64 / 10_000.0).sum();
    let stage_weighted = gathered.won + stage_weighted_open.round() as i64;
    let born: Vec<&Born> = model.born.iter().filter(|born| admits(&view, born)).collect();
    let mut pool: Vec<i64> = born.iter().map(|born| born.amount).collect();
    pool.sort_unstable();
    let run_rate = run_rate(model, &view, &born);
    let open_expected: f64 = open.iter().map(|deal| deal.value as f64 * chance(deal)).sum();
    let mut forecast = Forecast {
        window,
        basis: model.basis,
        evidence: model.evidence,
        won: gathered.won,
        won_deals: gathered.won_deals,
        open_deals: open.len() as u64,
        open_amount: open.iter().map(|deal| deal.amount).sum(),
        due_deals: due.len() as u64,
        due_amount,
        stage_weighted,
        expected: stage_weighted,
        range: None,
        run_rate,
        movers: Vec::new(),
        trials,
        seed,
    };
    if model.basis == Basis::StageWeighted {
        return forecast;
    }
    forecast.expected = gathered.won + open_expected.round() as i64 + run_rate.expected;
    let mut ranked: Vec<Mover> = open
        .iter()
        .map(|deal| {
            let p = chance(deal);
            Mover { opportunity: deal.opportunity, amount: deal.amount, probability: p, expected: (deal.value as f64 * p).round() as i64 }
        })
        .filter(|mover| mover.expected > 0)
        .collect();
    let swing = |mover: &Mover| mover.amount as f64 * (mover.probability * (1.0 - mover.probability)).sqrt();
    ranked.sort_by(|x, y| swing(y).total_cmp(&swing(x)).then(x.opportunity.cmp(&y.opportunity)));
    ranked.truncate(movers);
    forecast.movers = ranked;
    if trials > 0 {
        let totals = simulate(&open, &pool, run_rate, model.calibration.window_variance, gathered.won, trials, seed);
        forecast.range = Some([percentile(&totals, 10), percentile(&totals, 50), percentile(&totals, 90)]);
    }
    forecast
}

/// The run-rate of the scope's `born` deals: the mean count per past window, the variance of
/// the counts beyond the mean (method of moments), and the mean amount per window.
fn run_rate(model: &Model, view: &View, born: &[&Born]) -> RunRate {
    let windows = model.born_windows;
    if windows == 0 {
        return RunRate { windows: 0, deals_per_window: 0.0, extra_variance: 0.0, expected: 0, trend: 1.0 };
    }
    let n = f64::from(windows);
    let mut counts = vec![0u32; model.evidence.snapshots as usize];
    for deal in born {
        counts[deal.snapshot as usize] += 1;
    }
    // Only the fully observed windows hold born deals; the others count nothing and are left out.
    let observed = &counts[counts.len() - windows as usize..];
    let mean = born.len() as f64 / n;
    let variance = if windows > 1 { observed.iter().map(|count| (f64::from(*count) - mean).powi(2)).sum::<f64>() / (n - 1.0) } else { 0.0 };
    let total: i64 = born.iter().map(|deal| deal.amount).sum();
    // A business that grows (or shrinks) brings more (fewer) new deals now than its past year's
    // average: scale by how many deals the scope created lately against then.
    let (mut past, mut recent) = (0u64, 0u64);
    for (slot, (created, lately)) in model.created_windows.iter().zip(&model.created_recent).enumerate() {
        let (owner, pipeline) = ((slot / model.n_pipelines) as u32, (slot % model.n_pipelines) as u16);
        if view.scope.admits_owner(owner) && view.scope.pipeline.is_none_or(|wanted| wanted == pipeline) {
            past += created;
            recent += lately;
        }
    }
    let trend = (recent as f64 + TREND_SHRINK) / (past as f64 / n + TREND_SHRINK);
    RunRate {
        windows,
        deals_per_window: mean * trend,
        extra_variance: ((variance - mean) * trend * trend).max(0.0),
        expected: (total as f64 / n * trend).round() as i64,
        trend,
    }
}

fn admits(view: &View, born: &Born) -> bool {
    view.scope.admits_owner(born.owner) && view.scope.pipeline.is_none_or(|pipeline| view.stage(born.stage).pipeline == pipeline)
}

/// Chances are grouped in steps of half a percent: a group of many deals is drawn as one
/// binomial count at its mean chance.
const GROUPS: u32 = 200;

/// A group whose expected wins and losses both reach this many is summed with the other such
/// groups into one normal draw a trial (the sum of many deals is as normal as makes no
/// difference, and its mean and variance are exact for any multiplier).
const LUMP_AT: f64 = 10.0;

/// A group of many deals summed into the trial's normal draw.
struct Lump {
    n: f64,
    chance: f64,
    mean: f64,
    /// σ² + μ² of the group's amounts.
    second_moment: f64,
}

/// The deals of one group, as the trials draw them.
enum Draw {
    /// Each deal on its own: (chance, amount).
    Each(Vec<(f64, f64)>),
    /// A binomial count of wins at the group's mean chance, and a normal draw for the sum of that
    /// many of the group's values (their moments with the finite-population correction).
    Pooled { deals: u64, chance: f64, n: f64, mean: f64, variance: f64 },
}

/// Sorted simulated totals. Every trial first draws how the window as a whole runs, a lognormal
/// multiplier of mean 1 and variance `window_variance` on every chance and on the run-rate
/// (what makes deals' outcomes move together), then the deals and the newcomers.
fn simulate(open: &[Open], pool: &[i64], run_rate: RunRate, window_variance: f64, won: i64, trials: u32, seed: u64) -> Vec<i64> {
    let mut draws = Vec::new();
    let mut lumps = Vec::new();
    for group in open.chunk_by(|x, y| x.group == y.group) {
        let group: Vec<&Open> = group.iter().filter(|deal| deal.chance > 0.0).collect();
        if group.is_empty() {
            continue;
        }
        if group.len() <= EXACT_CELL {
            draws.push(Draw::Each(group.iter().map(|deal| (deal.chance, deal.value as f64)).collect()));
        } else {
            let n = group.len() as f64;
            let chance = group.iter().map(|deal| deal.chance).sum::<f64>() / n;
            let mean = group.iter().map(|deal| deal.value as f64).sum::<f64>() / n;
            let variance = group.iter().map(|deal| (deal.value as f64 - mean).powi(2)).sum::<f64>() / n;
            if n * chance >= LUMP_AT && n * (1.0 - chance) >= LUMP_AT {
                lumps.push(Lump { n, chance, mean, second_moment: variance + mean * mean });
            } else {
                draws.push(Draw::Pooled { deals: group.len() as u64, chance, n, mean, variance });
            }
        }
    }
    // ln(1 + σ²) is the variance of the multiplier's logarithm.
    let shock = (window_variance > 0.0).then(|| {
        let sigma = (1.0 + window_variance).ln().sqrt();
        Normal::new(-sigma * sigma / 2.0, sigma).expect("a finite spread")
    });
    let newcomers = (run_rate.deals_per_window > 0.0 && !pool.is_empty()).then(|| {
        let mean = run_rate.deals_per_window;
        // A gamma of that mean and the extra variance: shape mean²/v, scale v/mean.
        let gamma = (run_rate.extra_variance > 0.0).then(|| {
            Gamma::new(mean * mean / run_rate.extra_variance, run_rate.extra_variance / mean).expect("a positive shape and scale")
        });
        (mean, gamma, Uniform::new(0, pool.len()).expect("a pool"))
    });
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut totals = Vec::with_capacity(trials as usize);
    for _ in 0..trials {
        let mut total = 0.0f64;
        let multiplier = shock.as_ref().map_or(1.0, |shock| shock.sample(&mut rng).exp());
        if !lumps.is_empty() {
            // k wins of n at chance q, their amounts drawn without replacement: the sum's mean is
            // n·q·μ and its variance n·q(1−q)(σ² + μ²).
            let (mut mean, mut variance) = (0.0, 0.0);
            for lump in &lumps {
                let q = (lump.chance * multiplier).min(1.0);
                mean += lump.n * q * lump.mean;
                variance += lump.n * q * (1.0 - q) * lump.second_moment;
            }
            total += Normal::new(mean, variance.sqrt()).expect("a finite spread").sample(&mut rng).max(0.0);
        }
        for draw in &draws {
            match draw {
                Draw::Each(deals) => {
                    for (chance, amount) in deals {
                        let u: f64 = StandardUniform.sample(&mut rng);
                        if u < chance * multiplier {
                            total += amount;
                        }
                    }
                }
                Draw::Pooled { deals, chance, n, mean, variance } => {
                    let count = Binomial::new(*deals, (chance * multiplier).min(1.0)).expect("a chance lies in 0..=1");
                    let k = count.sample(&mut rng) as f64;
                    if k > 0.0 {
                        let spread = if *n > 1.0 { (k * variance * (n - k) / (n - 1.0)).max(0.0).sqrt() } else { 0.0 };
                        let sum = Normal::new(k * mean, spread).expect("a finite spread").sample(&mut rng);
                        total += sum.max(0.0);
                    }
                }
            }
        }
        if let Some((mean, gamma, pick)) = &newcomers {
            let mean = gamma.as_ref().map_or(*mean, |gamma| gamma.sample(&mut rng)) * multiplier;
            let k: f64 = if mean > 0.0 { Poisson::new(mean).expect("a positive finite mean").sample(&mut rng) } else { 0.0 };
            for _ in 0..k as u64 {
                total += pool[pick.sample(&mut rng)] as f64;
            }
        }
        totals.push(won + total.round() as i64);
    }
    totals.sort_unstable();
    totals
}

/// The nearest-rank `q`-th percentile of sorted `values`.
fn percentile(values: &[i64], q: u32) -> i64 {
    let rank = (values.len() as u64 * u64::from(q)).div_ceil(100).max(1) as usize;
    values[rank - 1]
}
