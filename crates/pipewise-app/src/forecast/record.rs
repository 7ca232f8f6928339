//! The model's forecasts as made (issue 13 point 4): once a day, the statistical forecast of the
//! running fiscal quarter as of the end of the day before, for the organisation, each team and
//! each owner with something to forecast, stored unchanged, so its track record is scored
//! against what it said then and not against what today's code says of the past.
//!
//! [`forecasts_of_day`] works the figures out from the projection outside any write;
//! [`record_model_forecasts`] stores them (a system write, audited); [`record_due`] does both for
//! a server's follower, at most once a day per instance (another instance recording the same day
//! stores nothing: one row per scope, period and day).

use pipewise_analytics::{Period, Scope, date_of_day, day_of_timestamp};
use pipewise_core::access::Access;
use pipewise_core::fiscal::PeriodKind;
use pipewise_core::*;
use serde_json::json;

use super::TRIALS;
use crate::access::{require, writer_access};
use crate::audit::audit;
use crate::insights::Insights;
use crate::{ForecastScope, Result, StoreError, StoredModelForecast, Tx, WriteCtx};

/// The audit log's name for a day's model forecasts.
pub const MODEL_FORECAST: &str = "model_forecast";

/// The forecasts to record for the day of `now` (the organisation's day): the running fiscal
/// quarter as of the end of the day before, per scope; `None` when that day is recorded already.
pub fn forecasts_of_day(tx: &mut Tx, org: OrgId, insights: &Insights, now: Timestamp) -> Result<Option<Vec<StoredModelForecast>>> {
    let organisation = crate::users::organisation(tx, org)?.ok_or(StoreError::NotFound { kind: "organisation", id: org.0 })?;
    let today = day_of_timestamp(now, insights.zone());
    let as_of = today - 1;
    let quarter = organisation.fiscal.period_of(PeriodKind::Quarter, date_of_day(today));
    let recorded = tx.0.model_forecasts(org, PeriodKind::Quarter, quarter.first)?;
    if recorded.iter().any(|kept| kept.as_of == date_of_day(as_of) && kept.scope == ForecastScope::Organisation) {
        return Ok(None);
    }
    let period = Period::from(&quarter);
    let currency = organisation.reporting_currency;
    let scopes: Vec<(ForecastScope, Scope)> = insights.with(|projection| {
        let mut scopes = vec![(ForecastScope::Organisation, Scope::org())];
        for (index, team) in projection.team_ids.iter().enumerate() {
            scopes.push((ForecastScope::Team(*team), Scope::owners(projection.team_members(index as u32))));
        }
        for (index, user) in projection.owner_ids.iter().enumerate() {
            scopes.push((ForecastScope::User(*user), Scope::owners([index as u32])));
        }
        scopes
    });
    // One scope at a time, so the projection is never held from its follower for long.
    let forecasts = scopes
        .into_iter()
        .filter_map(|(scope, owners)| {
            // Straight from the day's model (kept), not through the kept forecasts: a day's
            // thousands of scopes would push the pages' forecasts out.
            let forecast = insights.with(|projection| {
                let window = pipewise_forecast::Window::new(as_of, period);
                let model = insights.forecast_models().model(projection, window);
                pipewise_forecast::forecast(&model, projection, &owners, TRIALS, super::seed_of(window), 0)
            });
            // A team or an owner with nothing open, won or to come says nothing worth keeping.
            let silent = forecast.expected == 0 && forecast.won == 0 && forecast.stage_weighted == 0;
            (scope == ForecastScope::Organisation || !silent).then(|| StoredModelForecast {
                id: 0,
                scope,
                kind: PeriodKind::Quarter,
                first: quarter.first,
                last: quarter.last,
                as_of: date_of_day(as_of),
                currency,
                statistical: forecast.basis == pipewise_forecast::Basis::Statistical,
                expected: forecast.expected,
                range: forecast.range,
                won: forecast.won,
                stage_weighted: forecast.stage_weighted,
                recorded_at: now,
            })
        })
        .collect();
    Ok(Some(forecasts))
}

/// Stores a day's model forecasts: Pipewise's own write (no person makes it), audited once with
/// the day, the period and how many were stored. Returns how many were stored (0 when another
/// instance stored that day first).
pub fn record_model_forecasts(tx: &mut Tx, ctx: &WriteCtx, forecasts: &[StoredModelForecast]) -> Result<u64> {
    let access = writer_access(tx, ctx)?;
    require(matches!(access, Access::System), || "the model's forecasts are recorded by Pipewise itself".into())?;
    let stored = tx.0.insert_model_forecasts(ctx.org, forecasts)?;
    if let Some(first) = forecasts.first()
        && stored > 0
    {
        let organisation = forecasts.iter().find(|forecast| forecast.scope == ForecastScope::Organisation);
        let after = json!({
            "as_of": first.as_of.to_string(),
            "period": { "kind": first.kind.code(), "start": first.first.to_string(), "end": first.last.to_string() },
            "stored": stored,
            "organisation_expected_minor": organisation.map(|forecast| forecast.expected),
        });
        audit(tx, ctx, MODEL_FORECAST, 0, "record", None, Some(after))?;
    }
    Ok(stored)
}

/// After a failed attempt, the next waits this long (the follower runs every fraction of a
/// second; a store that refuses should not be asked ten times a second).
const RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(600);

/// Records the day's model forecasts if this instance has not yet today: for a server's
/// follower, after it brought the projection up to date. After a failure it waits
/// [`RETRY_AFTER`] before trying again.
pub fn record_due(insights: &Insights, now: Timestamp) -> Result<u64> {
    let today = day_of_timestamp(now, insights.zone());
    let models = insights.forecast_models();
    {
        let recorded = models.recorded.lock().expect("recorded lock");
        if recorded.0 == Some(today) || recorded.1.is_some_and(|failed| failed.elapsed() < RETRY_AFTER) {
            return Ok(0);
        }
    }
    let outcome = record_today(insights, now);
    let mut recorded = models.recorded.lock().expect("recorded lock");
    match outcome {
        Ok(stored) => {
            *recorded = (Some(today), None);
            Ok(stored)
        }
        Err(error) => {
            recorded.1 = Some(std::time::Instant::now());
            Err(error)
        }
    }
}

fn record_today(insights: &Insights, now: Timestamp) -> Result<u64> {
    let org = insights.org();
    let Some(forecasts) = forecasts_of_day(&mut insights.read_tx()?, org, insights, now)? else { return Ok(0) };
    let ctx = WriteCtx { org, actor_id: None, source: pipewise_core::history::Source::System, at: now };
    let mut tx = insights.write_tx()?;
    let stored = record_model_forecasts(&mut tx, &ctx, &forecasts)?;
    tx.commit()?;
    Ok(stored)
}

/// A fiscal period's recorded model forecasts that a viewer may read.
#[derive(Clone, Debug)]
pub struct ModelBook {
    pub period: pipewise_core::fiscal::FiscalPeriod,
    /// By day, then scope.
    pub forecasts: Vec<StoredModelForecast>,
}

/// The model's recorded forecasts of the period `key` names that `access` may read: the
/// organisation's for those who see every deal, a team's for those who see all its members'
/// deals, an owner's for those who see that owner's deals.
pub fn model_forecasts_in(tx: &mut Tx, org: OrgId, access: &Access, key: &str) -> Result<ModelBook> {
    let period = super::period_named(tx, org, MODEL_FORECAST, key)?;
    let visible = crate::visibility::visible_owners(access);
    let users = if visible.is_some() { crate::users::users(tx, org)? } else { Vec::new() };
    let readable = |scope: ForecastScope| match (&visible, scope) {
        (None, _) => true,
        (Some(_), ForecastScope::Organisation) => false,
        (Some(owners), ForecastScope::User(user)) => owners.contains(&user),
        (Some(owners), ForecastScope::Team(team)) => {
            let mut members = users.iter().filter(|user| user.team_id == Some(team)).peekable();
            members.peek().is_some() && members.all(|user| owners.contains(&user.id))
        }
    };
    let forecasts = tx.0.model_forecasts(org, period.kind, period.first)?.into_iter().filter(|forecast| readable(forecast.scope)).collect();
    Ok(ModelBook { period, forecasts })
}
