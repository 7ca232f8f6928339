//! The accuracy ledger (issue 13, point 4): every call of a closed period scored against what
//! the caller's number brought, beside the model's forecast kept with the call, and each
//! caller's bias shrunk before a label (`pipewise_forecast::ledger`).
//!
//! **Which call is scored.** A person may call many times; the one scored for a period is their
//! *opening* call: the one standing when the period began (the last made before its first day),
//! else the first made in it. A late call is easy to get right; the opening one is what the
//! business planned on.
//! **Bias** is worked out over everyone's calls (how much callers differ is the whole
//! organisation's fact), and each reader sees the rows of the people they may see.
//! **Actual.** What the caller's number won in the period, as known at its last day, over the
//! owners the caller sees now (a rep's deals, a manager's tree).

use std::collections::BTreeMap;

use pipewise_analytics::{Period, day_of_date};
use pipewise_core::access::Access;
use pipewise_core::fiscal::{FiscalPeriod, PeriodKind};
use pipewise_core::*;
use pipewise_forecast::ledger::won_by_owner;
pub use pipewise_forecast::ledger::{Bias, LABEL_AT, Label, MIN_PERIODS};

use super::calls::calls_in;
use crate::insights::Insights;
use crate::{Result, StoreError, StoredCall, Tx};

/// One scored call.
#[derive(Clone, Debug, PartialEq)]
pub struct Scored {
    pub period: FiscalPeriod,
    pub call: StoredCall,
    /// Won in the period by the caller's number, reporting minor units.
    pub actual: i64,
    /// The call's commit against the actual (`pipewise_forecast::ledger::error`).
    pub error: f64,
    /// The model's expected value kept with the call, against the actual.
    pub model_error: Option<f64>,
    /// Whether the actual fell within the model's P10–P90 kept with the call.
    pub inside: Option<bool>,
}

/// One recorded model forecast scored: the model's opening forecast of a scope for a closed
/// period (the earliest recorded in it: on its first day, as of its eve), as it was made.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelScored {
    pub period: FiscalPeriod,
    pub forecast: crate::StoredModelForecast,
    /// Won in the period in the scope, reporting minor units.
    pub actual: i64,
    pub error: f64,
    /// Whether the actual fell within its P10–P90 (none below the data floor).
    pub inside: Option<bool>,
}

/// The ledger of the last closed quarters.
#[derive(Clone, Debug, PartialEq)]
pub struct Ledger {
    pub quarters: Vec<FiscalPeriod>,
    /// Newest period first, then by caller.
    pub scored: Vec<Scored>,
    pub biases: Vec<Bias<UserId>>,
    /// The model's own recorded forecasts scored, newest period first, then by scope: its
    /// track record whether or not anyone called.
    pub model: Vec<ModelScored>,
}

impl Ledger {
    /// Over the scored calls that kept a model forecast: how many calls were scored in all, the
    /// calls' and the model's weighted absolute error (`Σ |forecast − actual| / Σ actual`, so a
    /// tiny number missed does not weigh like a large one), and how often the model's P10–P90
    /// held the actual.
    pub fn record(&self) -> (usize, Option<f64>, Option<f64>, Option<f64>) {
        let with_model: Vec<&Scored> = self.scored.iter().filter(|scored| scored.call.model.is_some()).collect();
        let actual: f64 = with_model.iter().map(|scored| scored.actual as f64).sum();
        let wape = |pick: &dyn Fn(&Scored) -> i64| {
            (actual > 0.0).then(|| with_model.iter().map(|scored| (pick(scored) - scored.actual).abs() as f64).sum::<f64>() / actual)
        };
        let inside = with_model.iter().filter(|scored| scored.inside == Some(true)).count();
        (
            self.scored.len(),
            wape(&|scored| scored.call.commit),
            wape(&|scored| scored.call.model.map_or(0, |[expected, _, _]| expected)),
            (!with_model.is_empty()).then(|| inside as f64 / with_model.len() as f64),
        )
    }

    /// Over the model's own recorded forecasts: how many were scored, their weighted absolute
    /// error, and how often their P10–P90 held the actual.
    pub fn model_record(&self) -> (usize, Option<f64>, Option<f64>) {
        let actual: f64 = self.model.iter().map(|row| row.actual as f64).sum();
        let missed: f64 = self.model.iter().map(|row| (row.forecast.expected - row.actual).abs() as f64).sum();
        let banded: Vec<bool> = self.model.iter().filter_map(|row| row.inside).collect();
        (
            self.model.len(),
            (actual > 0.0).then(|| missed / actual),
            (!banded.is_empty()).then(|| banded.iter().filter(|inside| **inside).count() as f64 / banded.len() as f64),
        )
    }

    pub fn bias(&self, user: UserId) -> Option<&Bias<UserId>> {
        self.biases.iter().find(|bias| bias.person == user)
    }
}

/// The opening call of `calls` (one person's, oldest first) for `period`, whose days are `zone`'s.
fn opening<'a>(calls: &[&'a StoredCall], period: &FiscalPeriod, zone: &Zone) -> Option<&'a StoredCall> {
    let first_day = zone.start_of(period.first);
    calls.iter().rev().find(|call| call.submitted_at < first_day).or_else(|| calls.first()).copied()
}

/// The ledger of the `quarters` fiscal quarters closed before `today`, over the calls `access`
/// may read.
pub fn ledger(tx: &mut Tx, org: OrgId, access: &Access, insights: &Insights, today: Date, quarters: usize) -> Result<Ledger> {
    let organisation = crate::users::organisation(tx, org)?.ok_or(StoreError::NotFound { kind: "organisation", id: org.0 })?;
    let calendar = organisation.fiscal;
    let mut periods = Vec::new();
    let mut quarter = calendar.previous(&calendar.period_of(PeriodKind::Quarter, today));
    for _ in 0..quarters {
        periods.push(quarter);
        quarter = calendar.previous(&quarter);
    }
    let mut callers = std::collections::BTreeSet::new();
    let mut picked: Vec<(FiscalPeriod, StoredCall)> = Vec::new();
    for period in &periods {
        let book = calls_in(tx, org, &Access::System, &period.key())?;
        let mut by_user: BTreeMap<UserId, Vec<&StoredCall>> = BTreeMap::new();
        for call in &book.calls {
            by_user.entry(call.user).or_default().push(call);
        }
        for (user, calls) in by_user {
            if let Some(call) = opening(&calls, period, &organisation.time_zone) {
                picked.push((*period, call.clone()));
            }
            callers.insert(user);
        }
    }
    // Each caller's number, from one read of the people.
    let owners = super::calls::numbers_of(&tx.0.users(org)?, callers);
    let scored: Vec<Scored> = insights.with(|projection| {
        // What each owner won in each period: one pass a period, however many callers.
        let mut won: BTreeMap<Date, Vec<i64>> = BTreeMap::new();
        for period in &periods {
            let window = Period::new(day_of_date(period.first), day_of_date(period.last));
            won.insert(period.first, won_by_owner(projection, window.last, window));
        }
        picked
            .into_iter()
            .map(|(period, call)| {
                let by_owner = &won[&period.first];
                let actual = match owners.get(&call.user).and_then(Option::as_ref) {
                    None => by_owner.iter().sum(),
                    Some(owners) => {
                        owners.iter().filter_map(|owner| projection.owner_index(*owner)).map(|owner| by_owner[owner as usize]).sum()
                    }
                };
                let error = pipewise_forecast::ledger::error(call.commit, actual);
                let model_error = call.model.map(|[expected, _, _]| pipewise_forecast::ledger::error(expected, actual));
                let inside = call.model.map(|[_, p10, p90]| (p10..=p90).contains(&actual));
                Scored { period, call, actual, error, model_error, inside }
            })
            .collect()
    });
    // The model's own record: each scope's opening recorded forecast of each period.
    let mut openings: Vec<(FiscalPeriod, crate::StoredModelForecast)> = Vec::new();
    for period in &periods {
        let book = super::record::model_forecasts_in(tx, org, access, &period.key())?;
        let mut first: BTreeMap<crate::ForecastScope, crate::StoredModelForecast> = BTreeMap::new();
        for forecast in book.forecasts {
            first.entry(forecast.scope).or_insert(forecast);
        }
        openings.extend(first.into_values().map(|forecast| (*period, forecast)));
    }
    let model: Vec<ModelScored> = insights.with(|projection| {
        // What each owner won in each period, once a period.
        let mut won: BTreeMap<Date, Vec<i64>> = BTreeMap::new();
        openings
            .into_iter()
            .map(|(period, forecast)| {
                let by_owner = won.entry(period.first).or_insert_with(|| {
                    let window = Period::new(day_of_date(period.first), day_of_date(period.last));
                    won_by_owner(projection, window.last, window)
                });
                let actual = match forecast.scope {
                    crate::ForecastScope::Organisation => by_owner.iter().sum(),
                    crate::ForecastScope::User(user) => projection.owner_index(user).map_or(0, |owner| by_owner[owner as usize]),
                    crate::ForecastScope::Team(team) => projection.team_index(team).map_or(0, |team| {
                        projection.team_members_on(team, day_of_date(period.last)).map(|owner| by_owner[owner as usize]).sum()
                    }),
                };
                let error = pipewise_forecast::ledger::error(forecast.expected, actual);
                let inside = forecast.range.map(|[p10, _, p90]| (p10..=p90).contains(&actual));
                ModelScored { period, forecast, actual, error, inside }
            })
            .collect()
    });
    let mut errors: BTreeMap<UserId, Vec<f64>> = BTreeMap::new();
    for row in &scored {
        errors.entry(row.call.user).or_default().push(row.error);
    }
    let callers: Vec<(UserId, Vec<f64>)> = errors.into_iter().collect();
    let biases = pipewise_forecast::ledger::biases(&callers);
    // What this reader may see.
    let visible = crate::visibility::visible_owners(access);
    let sees = |user: &UserId| visible.as_ref().is_none_or(|owners| owners.contains(user));
    let scored = scored.into_iter().filter(|row| sees(&row.call.user)).collect();
    let biases = biases.into_iter().filter(|bias| sees(&bias.person)).collect();
    Ok(Ledger { quarters: periods, scored, biases, model })
}
