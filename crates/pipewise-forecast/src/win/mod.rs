//! The win-probability model (issue 13 point 3): each open deal's chance of being won, with the
//! reasons behind it, learnt from the organisation's closed deals over seed 004's four data
//! families: activity dynamics, opportunity attributes, the buying team and the company.
//!
//! # How it learns
//! - **Examples.** Each deal with an outcome (won, or lost from a counting stage) by the as-of day
//!   is looked at once, on a day drawn from its open life (a hash of its id chooses the day, so
//!   the same history gives the same examples), as it stood at the end of that day: its stage,
//!   time in stage, age, amount, close date and pushes, its owner's record before that day, the
//!   activities that had happened *and been logged* by then, the contacts those named and their
//!   seniority, and its company's size and industry. At most [`MAX_EXAMPLES`] deals are used (the
//!   lowest hashes).
//! - **Split** by a hash of the deal's id: 80% fit the model, 20% are held out and only scored.
//! - **Fit**: an L2-regularised logistic regression (smartcore's L-BFGS) over standardised
//!   columns; the strength is chosen from [`ALPHAS`] by the out-of-fold log loss of a 5-fold
//!   cross-validation over the fitting deals.
//! - **Directions**: a factor whose direction is known (a senior contact engaged and the
//!   owner's record help; the buyer's silence hurts) never counts the other way: a column
//!   fitted against its direction is left out and the rest refitted.
//! - **Calibration**: Platt scaling of the chosen strength's out-of-fold log-odds
//!   (`σ(a·z + b)`), folded into the coefficients of the model fitted on all the fitting deals,
//!   so the score stays a sum.
//! - **Held out**: the Brier score of the model beside that of each stage's default probability
//!   (what the pipeline's weighting assumes) and of each stage's own win rate, and a
//!   reliability table.
//!
//! # Reasons that add up
//! A score's log-odds are the base (an average deal: every column at its mean) plus one
//! contribution per column; a factor's contribution is the sum of its columns'. In probability
//! points each contribution is scaled by the same slope, `(p − base) / (z − z_base)` (the
//! logistic curve's secant), so the reasons add up exactly to the score minus the base.
//!
//! **Data floor**: with fewer than [`FLOOR_OUTCOMES`] won and as many lost examples the model
//! refuses to score.

mod features;

use std::collections::HashMap;

use pipewise_analytics::metrics::View;
use pipewise_analytics::projection::{DealState, Projection};
use pipewise_analytics::{Day, NO_DAY, Scope};
use pipewise_core::OpportunityId;
use smartcore::linalg::basic::arrays::Array;
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::linear::logistic_regression::{LogisticRegression, LogisticRegressionParameters};

pub use features::{Company, DealFacts, Factor, Family, SILENCE_CAP_DAYS, Seniority, Shown, Touch, seniority};
use features::{Context, Layout};

/// Closed deals the model learns from, at most.
pub const MAX_EXAMPLES: usize = 20_000;
/// Won examples the model needs, and as many lost ones, before it scores.
pub const FLOOR_OUTCOMES: u32 = 40;
/// Regularisation strengths tried.
pub const ALPHAS: [f64; 4] = [0.3, 3.0, 30.0, 300.0];
/// Folds of the cross-validation that chooses the strength and calibrates.
const CV_FOLDS: u64 = 5;
/// An industry gets a column of its own with this many examples.
const INDUSTRY_EXAMPLES: usize = 20;
/// At most this many industries get a column.
const INDUSTRY_COLUMNS: usize = 12;
/// Reliability table bins (tenths of probability).
const BINS: usize = 10;

/// One closed deal the model learns from: looked at on `day`, won or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Example {
    pub deal: u32,
    pub id: OpportunityId,
    pub day: Day,
    pub won: bool,
}

/// A 64-bit mix of `value` (splitmix64's finaliser).
fn mix(value: u64) -> u64 {
    let mut z = value.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Which part of the data a deal falls in: 0 held out, else fitting.
fn fold(id: OpportunityId) -> u64 {
    mix(id.0 as u64 ^ 0x5eed_f01d) % 5
}

/// The closed deals (known as such at the end of `as_of`) the model learns from, in id order:
/// each on a day of its open life in a counting stage. The store's facts are needed for these
/// deals only.
pub fn examples(projection: &Projection, as_of: Day) -> Vec<Example> {
    let scope = Scope::org();
    let view = View::new(projection, &scope);
    let deals = projection.deals();
    let mut found: Vec<(u64, Example)> = Vec::new();
    for deal in 0..projection.n_deals() as u32 {
        let Some(now) = projection.state_at(deal, as_of) else { continue };
        let Some(won) = view.outcome(&now) else { continue };
        let id = deals.id[deal as usize];
        let life = now.closed_day - now.created_day;
        if now.closed_day == NO_DAY || now.created_day == NO_DAY || life < 1 {
            continue;
        }
        let hash = mix(id.0 as u64);
        // A few draws over its life; the first that finds it open in a counting stage.
        let day = (0..8u64).map(|draw| now.created_day + (mix(hash ^ draw) % life as u64) as Day).find(|day| {
            projection.state_at(deal, *day).is_some_and(|state| {
                let stage = view.stage(state.stage);
                stage.open && stage.counts
            })
        });
        if let Some(day) = day {
            found.push((hash, Example { deal, id, day, won }));
        }
    }
    if found.len() > MAX_EXAMPLES {
        found.select_nth_unstable_by_key(MAX_EXAMPLES, |(hash, example)| (*hash, example.id));
        found.truncate(MAX_EXAMPLES);
    }
    let mut examples: Vec<Example> = found.into_iter().map(|(_, example)| example).collect();
    examples.sort_unstable_by_key(|example| example.id);
    examples
}

/// Whether the model speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WinBasis {
    Fitted,
    /// Fewer than [`FLOOR_OUTCOMES`] won or lost examples: no scores.
    BelowFloor,
}

/// How the held-out deals were scored.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HeldOut {
    pub deals: u32,
    pub won: u32,
    /// Mean squared error of the model's probability.
    pub brier: f64,
    /// The same for each stage's default probability.
    pub brier_stage_default: f64,
    /// The same for each stage's own win rate among the fitting deals.
    pub brier_stage_rate: f64,
    pub log_loss: f64,
    /// By tenth of predicted probability: deals, their mean prediction, the share won.
    pub reliability: Vec<Bin>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Bin {
    pub deals: u32,
    pub predicted: f64,
    pub observed: f64,
}

/// A fitted win-probability model: learnt as of `as_of`, over every organisation's deal the
/// projection holds; scores any open deal.
#[derive(Clone, Debug)]
pub struct WinModel {
    pub as_of: Day,
    pub basis: WinBasis,
    pub examples: u32,
    pub won: u32,
    pub lost: u32,
    /// The regularisation strength chosen, and Platt's `(a, b)`.
    pub alpha: f64,
    pub platt: (f64, f64),
    pub held_out: HeldOut,
    /// Each factor's weight: the mean absolute contribution to the log-odds over the fitting
    /// deals, largest first.
    pub weights: Vec<(Factor, f64)>,
    layout: Layout,
    mean: Vec<f64>,
    scale: Vec<f64>,
    /// Over the standardised columns, calibrated.
    coefficients: Vec<f64>,
    intercept: f64,
    closed_by_owner: Vec<Closed>,
    closed_all: Closed,
}

/// One reason behind a score.
#[derive(Clone, Debug, PartialEq)]
pub struct Reason {
    pub factor: Factor,
    /// What it adds to the log-odds of the base.
    pub log_odds: f64,
    /// What it adds to the base probability; the reasons' points sum to `probability − base`.
    pub points: f64,
    pub shown: Shown,
}

/// A deal's score.
#[derive(Clone, Debug, PartialEq)]
pub struct Score {
    pub probability: f64,
    /// An average deal's probability.
    pub base: f64,
    /// The stage's default probability.
    pub stage_default: f64,
    /// Largest effect first.
    pub reasons: Vec<Reason>,
}

/// Why a deal gets no score.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The model is below its data floor.
    BelowFloor { won: u32, lost: u32 },
    /// The deal is not open in a counting stage on that day.
    NotOpen,
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// Outcomes by closed day: `(closed day, won)`.
type Closed = Vec<(Day, bool)>;

/// Each owner's outcomes and everyone's, by closed day, as known at the end of `as_of`.
fn closed_records(projection: &Projection, as_of: Day) -> (Vec<Closed>, Closed) {
    let scope = Scope::org();
    let view = View::new(projection, &scope);
    let mut by_owner = vec![Vec::new(); projection.n_owners()];
    let mut all = Vec::new();
    for deal in 0..projection.n_deals() as u32 {
        let Some(state) = projection.state_at(deal, as_of) else { continue };
        let Some(won) = view.outcome(&state) else { continue };
        if let Some(owned) = by_owner.get_mut(state.owner as usize) {
            owned.push((state.closed_day, won));
        }
        all.push((state.closed_day, won));
    }
    for owned in &mut by_owner {
        owned.sort_unstable();
    }
    all.sort_unstable();
    (by_owner, all)
}

fn fit_logistic(rows: &[f64], width: usize, labels: &[i32], alpha: f64) -> Option<(Vec<f64>, f64)> {
    let n = labels.len();
    let matrix = DenseMatrix::new(n, width, rows.to_vec(), false).ok()?;
    let y = labels.to_vec();
    let model = LogisticRegression::fit(&matrix, &y, LogisticRegressionParameters::default().with_alpha(alpha)).ok()?;
    let coefficients = (0..width).map(|column| *model.coefficients().get((0, column))).collect();
    let intercept = *model.intercept().get((0, 0));
    Some((coefficients, intercept))
}

/// [`fit_logistic`] with each column of a factor whose direction is known
/// ([`Factor::direction`]) kept to that direction: a column fitted the other way (noise, or a
/// proxy for another factor) is left out and the rest fitted again, so no reason reads
/// "a senior contact engaged: −1 pt". Starts from the columns `kept`; returns the coefficients
/// (0 for a column left out), the intercept and the columns kept.
fn fit_directed(
    rows: &[f64],
    width: usize,
    labels: &[i32],
    alpha: f64,
    factors: &[Factor],
    mut kept: Vec<usize>,
) -> Option<(Vec<f64>, f64, Vec<usize>)> {
    for _ in 0..=width {
        let narrow: Vec<f64> = rows.chunks(width).flat_map(|row| kept.iter().map(|column| row[*column])).collect();
        let (fitted, intercept) = fit_logistic(&narrow, kept.len(), labels, alpha)?;
        let wrong: Vec<usize> = kept
            .iter()
            .zip(&fitted)
            .filter(|(column, w)| factors[**column].direction().is_some_and(|sign| **w * sign < 0.0))
            .map(|(column, _)| *column)
            .collect();
        if wrong.is_empty() {
            let mut coefficients = vec![0.0; width];
            for (column, w) in kept.iter().zip(fitted) {
                coefficients[*column] = w;
            }
            return Some((coefficients, intercept, kept));
        }
        kept.retain(|column| !wrong.contains(column));
    }
    None
}

fn log_odds(row: &[f64], coefficients: &[f64], intercept: f64) -> f64 {
    intercept + row.iter().zip(coefficients).map(|(x, w)| x * w).sum::<f64>()
}

fn log_loss(p: f64, won: bool) -> f64 {
    let p = p.clamp(1e-9, 1.0 - 1e-9);
    if won { -p.ln() } else { -(1.0 - p).ln() }
}

/// Fits the model as of the end of `as_of` from `examples` (see [`examples`]) and each
/// example's facts (`facts` by deal index; a deal without facts has none).
pub fn fit_win(projection: &Projection, as_of: Day, examples: &[Example], facts: &HashMap<u32, DealFacts>) -> WinModel {
    let scope = Scope::org();
    let view = View::new(projection, &scope);
    let (closed_by_owner, closed_all) = closed_records(projection, as_of);
    let won = examples.iter().filter(|example| example.won).count() as u32;
    let lost = examples.len() as u32 - won;
    let states: Vec<DealState> = examples
        .iter()
        .map(|example| projection.state_at(example.deal, example.day).expect("an example's deal is in the projection"))
        .collect();

    // Columns: the stages seen, the industries common enough.
    let mut stages: Vec<u16> = states.iter().map(|state| state.stage).collect();
    stages.sort_unstable();
    stages.dedup();
    let mut industries: HashMap<&str, usize> = HashMap::new();
    for example in examples {
        if let Some(industry) = facts.get(&example.deal).and_then(|facts| facts.company.industry.as_deref()) {
            *industries.entry(industry).or_default() += 1;
        }
    }
    let mut industries: Vec<(&str, usize)> = industries.into_iter().filter(|(_, n)| *n >= INDUSTRY_EXAMPLES).collect();
    industries.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    industries.truncate(INDUSTRY_COLUMNS);
    let mut industries: Vec<String> = industries.into_iter().map(|(name, _)| name.to_owned()).collect();
    industries.sort_unstable();
    let layout = Layout::new(stages, industries);
    let width = layout.width();

    let mut model = WinModel {
        as_of,
        basis: WinBasis::BelowFloor,
        examples: examples.len() as u32,
        won,
        lost,
        alpha: 0.0,
        platt: (1.0, 0.0),
        held_out: HeldOut::default(),
        weights: Vec::new(),
        layout,
        mean: vec![0.0; width],
        scale: vec![1.0; width],
        coefficients: vec![0.0; width],
        intercept: 0.0,
        closed_by_owner,
        closed_all,
    };
    if won < FLOOR_OUTCOMES || lost < FLOOR_OUTCOMES {
        return model;
    }
    let context = Context { view, closed_by_owner: &model.closed_by_owner, closed_all: &model.closed_all };
    let none = DealFacts::default();
    let mut rows = Vec::with_capacity(examples.len() * width);
    for (example, state) in examples.iter().zip(&states) {
        model.layout.row(&context, state, example.day, facts.get(&example.deal).unwrap_or(&none), &mut rows);
    }
    let folds: Vec<u64> = examples.iter().map(|example| fold(example.id)).collect();
    let test: Vec<usize> = (0..examples.len()).filter(|i| folds[*i] == 0).collect();
    let train: Vec<usize> = (0..examples.len()).filter(|i| folds[*i] != 0).collect();
    let both = |set: &[usize]| set.iter().any(|i| examples[*i].won) && set.iter().any(|i| !examples[*i].won);
    if !both(&train) || !both(&test) {
        return model;
    }

    // Standardise with the fitting deals' means and spreads.
    for column in 0..width {
        let values = || train.iter().map(|i| rows[i * width + column]);
        let mean = values().sum::<f64>() / train.len() as f64;
        let variance = values().map(|x| (x - mean) * (x - mean)).sum::<f64>() / train.len() as f64;
        model.mean[column] = mean;
        model.scale[column] = if variance > 1e-12 { variance.sqrt() } else { 1.0 };
    }
    let standard = |i: usize| -> Vec<f64> { (0..width).map(|c| (rows[i * width + c] - model.mean[c]) / model.scale[c]).collect() };
    // Row-major, as `fit_logistic` hands them to smartcore.
    let matrix_of = |set: &[usize]| -> Vec<f64> { set.iter().flat_map(|i| standard(*i)).collect() };
    let labels = |set: &[usize]| -> Vec<i32> { set.iter().map(|i| i32::from(examples[*i].won)).collect() };
    let (train_rows, train_labels) = (matrix_of(&train), labels(&train));

    // Cross-validation over the fitting deals: each strength's out-of-fold log-odds, the
    // strength whose out-of-fold log loss is lowest, and Platt's scaling of its out-of-fold
    // log-odds (a model never judges the deals it was fitted on).
    let cv: Vec<u64> = train.iter().map(|i| mix(examples[*i].id.0 as u64 ^ 0xc0ff_ee00) % CV_FOLDS).collect();
    // The columns kept to their directions, found once on all the fitting deals at a middle
    // strength; the folds and the final fit start from them.
    let factors = &model.layout.factors;
    let Some((_, _, kept)) = fit_directed(&train_rows, width, &train_labels, ALPHAS[1], factors, (0..width).collect()) else {
        return model;
    };
    let mut best: Option<(f64, f64, Vec<f64>)> = None;
    for alpha in ALPHAS {
        let mut out_of_fold = vec![0.0; train.len()];
        for k in 0..CV_FOLDS {
            let inside: Vec<usize> = (0..train.len()).filter(|j| cv[*j] != k).collect();
            let fitted_rows: Vec<f64> = inside.iter().flat_map(|j| train_rows[j * width..(j + 1) * width].iter().copied()).collect();
            let fitted_labels: Vec<i32> = inside.iter().map(|j| train_labels[*j]).collect();
            if !(fitted_labels.contains(&0) && fitted_labels.contains(&1)) {
                continue;
            }
            let Some((coefficients, intercept, _)) = fit_directed(&fitted_rows, width, &fitted_labels, alpha, factors, kept.clone()) else {
                continue;
            };
            for j in (0..train.len()).filter(|j| cv[*j] == k) {
                out_of_fold[j] = log_odds(&train_rows[j * width..(j + 1) * width], &coefficients, intercept);
            }
        }
        let loss: f64 = out_of_fold.iter().zip(&train_labels).map(|(z, y)| log_loss(sigmoid(*z), *y == 1)).sum();
        if best.as_ref().is_none_or(|(_, best_loss, _)| loss < *best_loss) {
            best = Some((alpha, loss, out_of_fold));
        }
    }
    let Some((alpha, _, out_of_fold)) = best else { return model };
    let Some((coefficients, intercept, _)) = fit_directed(&train_rows, width, &train_labels, alpha, factors, kept) else {
        return model;
    };
    let (a, b) = fit_logistic(&out_of_fold, 1, &train_labels, 0.0).map_or((1.0, 0.0), |(w, b)| (w[0].clamp(0.2, 5.0), b));
    model.alpha = alpha;
    model.platt = (a, b);
    model.coefficients = coefficients.iter().map(|w| a * w).collect();
    model.intercept = a * intercept + b;
    model.basis = WinBasis::Fitted;

    // Factor weights over the fitting deals.
    let mut weights: Vec<(Factor, f64)> = Factor::ALL.iter().map(|factor| (*factor, 0.0)).collect();
    for row in train_rows.chunks(width) {
        let mut by_factor = [0.0f64; Factor::ALL.len()];
        for (column, x) in row.iter().enumerate() {
            by_factor[model.layout.factors[column] as usize] += x * model.coefficients[column];
        }
        for (weight, contribution) in weights.iter_mut().zip(by_factor) {
            weight.1 += contribution.abs() / train.len() as f64;
        }
    }
    weights.retain(|(factor, _)| model.layout.factors.contains(factor));
    weights.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    model.weights = weights;

    // The held-out deals.
    let mut stage_rate: HashMap<u16, (f64, f64)> = HashMap::new();
    for i in &train {
        let entry = stage_rate.entry(states[*i].stage).or_default();
        entry.0 += f64::from(u8::from(examples[*i].won));
        entry.1 += 1.0;
    }
    let overall = f64::from(won) / examples.len() as f64;
    let mut held = HeldOut { reliability: vec![Bin::default(); BINS], ..HeldOut::default() };
    for i in &test {
        let example = &examples[*i];
        let actual = f64::from(u8::from(example.won));
        let p = sigmoid(log_odds(&standard(*i), &model.coefficients, model.intercept));
        let stage = states[*i].stage;
        let default = view_stage_default(&context.view, stage);
        let (stage_won, stage_n) = stage_rate.get(&stage).copied().unwrap_or_default();
        let rate = (stage_won + 2.0 * overall) / (stage_n + 2.0);
        held.deals += 1;
        held.won += u32::from(example.won);
        held.brier += (p - actual).powi(2);
        held.brier_stage_default += (default - actual).powi(2);
        held.brier_stage_rate += (rate - actual).powi(2);
        held.log_loss += log_loss(p, example.won);
        let bin = &mut held.reliability[((p * BINS as f64) as usize).min(BINS - 1)];
        bin.deals += 1;
        bin.predicted += p;
        bin.observed += actual;
    }
    let n = f64::from(held.deals);
    held.brier /= n;
    held.brier_stage_default /= n;
    held.brier_stage_rate /= n;
    held.log_loss /= n;
    for bin in &mut held.reliability {
        if bin.deals > 0 {
            bin.predicted /= f64::from(bin.deals);
            bin.observed /= f64::from(bin.deals);
        }
    }
    model.held_out = held;
    model
}

fn view_stage_default(view: &View, stage: u16) -> f64 {
    (view.stage(stage).win_bp as f64 / 10_000.0).clamp(0.0, 1.0)
}

impl WinModel {
    /// The score of `deal` as of the end of `day`, with its facts.
    pub fn score(&self, projection: &Projection, deal: u32, day: Day, facts: &DealFacts) -> Result<Score, Refusal> {
        if self.basis == WinBasis::BelowFloor {
            return Err(Refusal::BelowFloor { won: self.won, lost: self.lost });
        }
        let scope = Scope::org();
        let view = View::new(projection, &scope);
        let state = projection.state_at(deal, day).ok_or(Refusal::NotOpen)?;
        let stage = view.stage(state.stage);
        if !(stage.open && stage.counts) {
            return Err(Refusal::NotOpen);
        }
        let context = Context { view, closed_by_owner: &self.closed_by_owner, closed_all: &self.closed_all };
        let mut row = Vec::with_capacity(self.layout.width());
        self.layout.row(&context, &state, day, facts, &mut row);
        let mut by_factor: Vec<(Factor, f64)> = Vec::new();
        for (column, x) in row.iter().enumerate() {
            let contribution = self.coefficients[column] * (x - self.mean[column]) / self.scale[column];
            let factor = self.layout.factors[column];
            match by_factor.iter_mut().find(|(kept, _)| *kept == factor) {
                Some(kept) => kept.1 += contribution,
                None => by_factor.push((factor, contribution)),
            }
        }
        let total: f64 = by_factor.iter().map(|(_, c)| c).sum();
        let base = sigmoid(self.intercept);
        let probability = sigmoid(self.intercept + total);
        // The logistic curve's secant between the base and the score (its slope at the base
        // when they coincide): one scale for every reason, so their points add up.
        let slope = if total.abs() > 1e-12 { (probability - base) / total } else { base * (1.0 - base) };
        let activity = features::activity(facts, day);
        let mut reasons: Vec<Reason> = by_factor
            .into_iter()
            .map(|(factor, log_odds)| Reason {
                factor,
                log_odds,
                points: log_odds * slope,
                shown: self.layout.shown(factor, &context, &state, day, facts, &activity),
            })
            .collect();
        reasons.sort_by(|a, b| b.points.abs().total_cmp(&a.points.abs()).then(a.factor.cmp(&b.factor)));
        Ok(Score { probability, base, stage_default: view_stage_default(&context.view, state.stage), reasons })
    }

    /// The Brier score of the model's probabilities for `examples` (with their facts): a check
    /// on any set of closed deals.
    pub fn brier(&self, projection: &Projection, examples: &[Example], facts: &HashMap<u32, DealFacts>) -> Option<f64> {
        let none = DealFacts::default();
        let scored: Vec<f64> = examples
            .iter()
            .filter_map(|example| {
                let score = self.score(projection, example.deal, example.day, facts.get(&example.deal).unwrap_or(&none)).ok()?;
                Some((score.probability - f64::from(u8::from(example.won))).powi(2))
            })
            .collect();
        (!scored.is_empty()).then(|| scored.iter().sum::<f64>() / scored.len() as f64)
    }
}
