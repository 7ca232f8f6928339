//! The accuracy ledger (issue 13, point 4): calls scored against what the period brought, and
//! each caller's bias shrunk before anyone is labelled.
//!
//! # Scoring
//! A call's error is `(call − actual) / max(call, actual)`: symmetric, between −1 and 1, and
//! defined when nothing was won (a call of 0 for a period that brought 0 is exact). Positive:
//! called high.
//!
//! # Bias, shrunk
//! A caller's raw bias is the mean of their errors over the periods scored. Part of how it
//! differs from 0 is luck, the more so the fewer the periods: with `n` periods and a
//! within-caller variance `s²` (pooled over the callers) the raw bias carries noise of variance
//! `s²/n`, while callers truly differ by `τ² = max(0, Var(raw) − mean(s²/n))` (method of
//! moments). The shrunk bias is `raw × τ² / (τ² + s²/n)`: toward 0 as evidence is thin, and
//! exactly 0 for everyone when the callers do not differ beyond chance. A caller is labelled
//! only with [`MIN_PERIODS`] periods or more and a shrunk bias beyond ±[`LABEL_AT`]: "happy
//! ears" above (calls too high), "sandbagging" below.

use pipewise_analytics::metrics::View;
use pipewise_analytics::projection::{DealState, Projection};
use pipewise_analytics::{Day, Period, Scope, fold_deals};

/// What each owner (by owner index) won in `period` as known at the end of `as_of`, by the
/// analytics' rule of a win (`metrics::outcomes`): one pass, for scoring many callers at once.
pub fn won_by_owner(projection: &Projection, as_of: Day, period: Period) -> Vec<i64> {
    let scope = Scope::org();
    let view = View::as_of(projection, &scope, as_of);
    fold_deals(
        &projection.candidates(period.first.min(as_of.saturating_add(1))),
        projection.threads(),
        || vec![0i64; projection.n_owners()],
        |won, deal| {
            let mut state = DealState::EMPTY;
            if projection.state_into(deal as u32, as_of, &mut state)
                && period.contains(state.closed_day)
                && view.outcome(&state) == Some(true)
                && let Some(slot) = won.get_mut(state.owner as usize)
            {
                *slot += state.amount_or_zero();
            }
        },
        |won, other| won.iter_mut().zip(other).for_each(|(a, b)| *a += b),
    )
}

/// Periods a caller needs before a label.
pub const MIN_PERIODS: usize = 2;
/// How far from 0 a shrunk bias must be for a label (a share of the number).
pub const LABEL_AT: f64 = 0.10;

/// `(call − actual) / max(call, actual)`, 0 when both are 0.
pub fn error(call: i64, actual: i64) -> f64 {
    let scale = call.max(actual).max(0);
    if scale == 0 { 0.0 } else { (call - actual) as f64 / scale as f64 }
}

/// What a caller's bias says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Label {
    /// Calls too high, beyond what luck explains.
    HappyEars,
    /// Calls too low, beyond what luck explains.
    Sandbagging,
    /// Within what luck explains.
    Calibrated,
    /// Fewer than [`MIN_PERIODS`] periods scored.
    TooFewPeriods,
}

/// One caller's bias.
#[derive(Clone, Debug, PartialEq)]
pub struct Bias<P> {
    pub person: P,
    pub periods: usize,
    /// The mean error.
    pub raw: f64,
    /// The mean error shrunk toward 0 by how much callers differ beyond chance.
    pub shrunk: f64,
    pub label: Label,
}

/// Each caller's bias from their errors, one per period scored: `(person, errors)`.
pub fn biases<P: Clone>(callers: &[(P, Vec<f64>)]) -> Vec<Bias<P>> {
    let scored: Vec<&(P, Vec<f64>)> = callers.iter().filter(|(_, errors)| !errors.is_empty()).collect();
    let mean = |values: &[f64]| values.iter().sum::<f64>() / values.len() as f64;
    // Within-caller variance, pooled over the callers with two periods or more.
    let (mut squares, mut freedom) = (0.0, 0usize);
    for (_, errors) in &scored {
        if errors.len() >= 2 {
            let m = mean(errors);
            squares += errors.iter().map(|error| (error - m).powi(2)).sum::<f64>();
            freedom += errors.len() - 1;
        }
    }
    let within = if freedom > 0 { squares / freedom as f64 } else { 0.0 };
    let raws: Vec<f64> = scored.iter().map(|(_, errors)| mean(errors)).collect();
    let between = if raws.len() >= 2 {
        let grand = mean(&raws);
        let spread = raws.iter().map(|raw| (raw - grand).powi(2)).sum::<f64>() / (raws.len() - 1) as f64;
        let noise = scored.iter().map(|(_, errors)| within / errors.len() as f64).sum::<f64>() / scored.len() as f64;
        (spread - noise).max(0.0)
    } else {
        0.0
    };
    callers
        .iter()
        .map(|(person, errors)| {
            if errors.is_empty() {
                return Bias { person: person.clone(), periods: 0, raw: 0.0, shrunk: 0.0, label: Label::TooFewPeriods };
            }
            let raw = mean(errors);
            let noise = within / errors.len() as f64;
            let shrunk = if between > 0.0 { raw * between / (between + noise) } else { 0.0 };
            let label = if errors.len() < MIN_PERIODS {
                Label::TooFewPeriods
            } else if shrunk > LABEL_AT {
                Label::HappyEars
            } else if shrunk < -LABEL_AT {
                Label::Sandbagging
            } else {
                Label::Calibrated
            };
            Bias { person: person.clone(), periods: errors.len(), raw, shrunk, label }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_symmetric_and_bounded() {
        assert_eq!(error(120, 100), 20.0 / 120.0);
        assert_eq!(error(100, 120), -20.0 / 120.0);
        assert_eq!(error(0, 0), 0.0);
        assert_eq!(error(0, 500), -1.0);
        assert_eq!(error(500, 0), 1.0);
    }

    #[test]
    fn a_consistent_optimist_is_labelled_and_luck_is_not() {
        // Ana calls 30 % high every period; Ben is off either way by luck; Cy has one period.
        let callers = vec![
            ("ana", vec![0.30, 0.28, 0.33, 0.29]),
            ("ben", vec![0.12, -0.10, 0.05, -0.08]),
            ("dee", vec![-0.25, -0.22, -0.27, -0.24]),
            ("cy", vec![0.5]),
        ];
        let biases = biases(&callers);
        let label = |who: &str| biases.iter().find(|bias| bias.person == who).unwrap().label;
        assert_eq!(label("ana"), Label::HappyEars);
        assert_eq!(label("dee"), Label::Sandbagging);
        assert_eq!(label("ben"), Label::Calibrated);
        assert_eq!(label("cy"), Label::TooFewPeriods);
        let ana = biases.iter().find(|bias| bias.person == "ana").unwrap();
        assert!(ana.shrunk < ana.raw && ana.shrunk > 0.2, "{ana:?}");
    }

    #[test]
    fn callers_who_differ_only_by_luck_are_all_shrunk_to_zero() {
        let callers = vec![("a", vec![0.2, -0.2]), ("b", vec![-0.2, 0.2]), ("c", vec![0.1, -0.1])];
        assert!(biases(&callers).iter().all(|bias| bias.shrunk == 0.0 && bias.label == Label::Calibrated));
    }
}
