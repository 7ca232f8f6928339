//! Forecast calls in the API (SPEC C7, issue 13 point 1). The statistical forecast itself is
//! `GET /api/v1/analytics/forecast`.
//!
//! - `GET /api/v1/forecast/calls?period=2027-Q1`: the period's calls (the current fiscal quarter
//!   by default) that the viewer may read, oldest first: their own and those of the people whose
//!   deals they see; everyone's for ops, admins and viewers. Each call keeps what its caller saw
//!   then: their reports' latest calls summed, their deals by forecast category, the model.
//! - `POST /api/v1/forecast/calls` `{"period", "commit", "best_case", "note"}`: the viewer calls
//!   their number (a rep's deals, a manager's tree, everyone's for ops and admins). Calls are
//!   never changed: a new call is a new one. Everyone but viewers; audited.
//! - `GET /api/v1/forecast/ledger?quarters=4`: the accuracy ledger (`pipewise_app::forecast::ledger`).
//! - `GET /api/v1/forecast/symptoms?quarters=4`: seed 004's five symptoms per rep and manager
//!   (`pipewise_app::forecast::symptoms`).
//! - `GET /api/v1/forecast/model?period=2027-Q1`: the model's forecasts as it made them, one a
//!   day per scope the viewer may read (`pipewise_app::forecast::model_forecasts_in`).
//! - `GET /api/v1/opportunities/{id}/win-probability`: an open deal's chance of a win today with
//!   the reasons that add up to it, and the model's held-out record
//!   (`pipewise_app::forecast::win_score`).

use axum::extract::RawQuery;
use axum::http::Method;
use axum::response::Response;
use pipewise_app::{self as app, input};
use pipewise_core::OpportunityId;
use pipewise_core::fiscal::PeriodKind;
use pipewise_core::user::Locale;
use serde_json::{Value, json};

use super::db::Api;
use super::support::{IdPath, JsonBody, Query, created};
use super::{Param, Reply, Route, Ty};
use crate::error::{AppError, blocking};

const TAG: &str = "forecast";

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::GET, "/api/v1/forecast/calls", "list_forecast_calls", list_calls)
            .summary(TAG, "The forecast calls of a fiscal period that the viewer may read, oldest first, each with what its caller saw.")
            .query(vec![Param::new("period", Ty::Period, "A fiscal period such as 2027-Q1. Default: the current fiscal quarter.")])
            .reply(Reply::Json(200, "ForecastCallList")),
        Route::new(Method::POST, "/api/v1/forecast/calls", "submit_forecast_call", submit_call)
            .summary(TAG, "Call the viewer's number for a fiscal period: commit and best case in the reporting currency, with a note.")
            .body("NewForecastCall")
            .reply(Reply::Json(201, "ForecastCall")),
        Route::new(Method::GET, "/api/v1/forecast/ledger", "get_forecast_ledger", get_ledger)
            .summary(TAG, "The accuracy ledger of the last closed fiscal quarters: each opening call the viewer may read scored against what the caller's number won, beside the model kept with it, and each caller's bias shrunk before a label.")
            .query(vec![Param::range("quarters", 1, 12, "Closed quarters scored, 1 to 12 (default 4).")])
            .reply(Reply::Json(200, "ForecastLedger")),
        Route::new(Method::GET, "/api/v1/forecast/symptoms", "get_forecast_symptoms", get_symptoms)
            .summary(TAG, "Seed 004's five symptoms for every rep and manager the viewer may see, quarter by quarter (the running one last): late updates, stale deals, the quarter-end scramble, calls missing, forecast error.")
            .query(vec![Param::range("quarters", 1, 12, "Closed quarters before the running one, 1 to 12 (default 4).")])
            .reply(Reply::Json(200, "ForecastSymptoms")),
        Route::new(Method::GET, "/api/v1/forecast/model", "list_model_forecasts", list_model_forecasts)
            .summary(TAG, "The statistical forecast of a fiscal quarter as the model made it, recorded once a day (as of the end of the day before) for the organisation, each team and each owner, kept unchanged: those the viewer may read, by day.")
            .query(vec![Param::new("period", Ty::Period, "A fiscal quarter such as 2027-Q1. Default: the current one.")])
            .reply(Reply::Json(200, "ModelForecastList")),
        Route::new(Method::GET, "/api/v1/opportunities/{id}/win-probability", "get_win_probability", get_win_probability)
            .summary(TAG, "An open deal's chance of a win as it stands today, learnt from the organisation's closed deals, with the reasons that add up to it (in probability points from an average deal's) and the model's Brier score on held-out deals beside the stage's default probability. Refused, with the reason, below the model's data floor or for a deal that is not open.")
            .path_param(Param::id("id", "The opportunity's id."))
            .reply(Reply::Json(200, "WinProbability")),
    ]
}

/// Whose forecast: `{"kind", "id"}`, the id null for the organisation.
fn scope_json(scope: app::ForecastScope) -> Value {
    let (kind, id) = scope.columns();
    json!({ "kind": kind, "id": (scope != app::ForecastScope::Organisation).then_some(id) })
}

/// The `period` parameter, when given (a fiscal period key, or a 400).
fn period_asked(raw: Option<String>) -> Result<Option<String>, AppError> {
    Ok(Query::parse(raw.as_deref(), &[Param::new("period", Ty::Period, "")])?.text("period").map(str::to_owned))
}

/// The fiscal period `asked` names, or the organisation's current quarter.
fn period_key(
    tx: &mut app::Tx<'_>,
    org: pipewise_core::OrgId,
    asked: Option<String>,
    today: pipewise_core::Date,
) -> Result<String, AppError> {
    if let Some(key) = asked {
        return Ok(key);
    }
    let organisation = app::users::organisation(tx, org)?.ok_or(AppError::NotFound { kind: "organisation", id: org.to_string() })?;
    Ok(organisation.fiscal.period_of(PeriodKind::Quarter, today).key())
}

async fn list_model_forecasts(api: Api, RawQuery(raw): RawQuery) -> Result<axum::Json<Value>, AppError> {
    let asked = period_asked(raw)?;
    let today = api.viewer.today(api.state.now());
    let reply = api
        .read(move |tx, viewer| {
            let key = period_key(tx, viewer.org, asked, today)?;
            let book = app::forecast::model_forecasts_in(tx, viewer.org, &viewer.access, &key)?;
            let period = &book.period;
            let data: Vec<Value> = book
                .forecasts
                .iter()
                .map(|forecast| {
                    let money = |minor: i64| forecast.currency.amount_of(minor).to_string();
                    json!({
                        "scope": scope_json(forecast.scope),
                        "as_of": forecast.as_of.to_string(),
                        "currency": forecast.currency.code(),
                        "basis": if forecast.statistical { "statistical" } else { "stage_weighted" },
                        "expected": money(forecast.expected),
                        "range": forecast.range.map(|[p10, p50, p90]| json!({ "p10": money(p10), "p50": money(p50), "p90": money(p90) })),
                        "won": money(forecast.won),
                        "stage_weighted": money(forecast.stage_weighted),
                        "recorded_at": forecast.recorded_at.to_string(),
                    })
                })
                .collect();
            Ok(json!({
                "period": { "key": period.key(), "start": period.first.to_string(), "end": period.last.to_string() },
                "data": data,
            }))
        })
        .await?;
    Ok(axum::Json(reply))
}

async fn get_win_probability(api: Api, IdPath(id): IdPath) -> Result<axum::Json<Value>, AppError> {
    let insights = insights_of(&api).await?;
    let now = api.state.now();
    let reply = api
        .read(move |tx, viewer| {
            let answer = app::forecast::win_score(tx, viewer.org, &viewer.access, &insights, OpportunityId(id), now)?
                .ok_or_else(|| AppError::NotFound { kind: OpportunityId::LABEL, id: id.to_string() })?;
            Ok(insights.with(|projection| win_json(projection, viewer.user.locale, OpportunityId(id), &answer)))
        })
        .await?;
    Ok(axum::Json(reply))
}

/// The reply of `get_win_probability`.
fn win_json(projection: &pipewise_analytics::Projection, locale: Locale, id: OpportunityId, answer: &app::forecast::WinAnswer) -> Value {
    use pipewise_app::forecast::win::{Refusal, Shown, WinBasis};
    let ratio = |value: f64| format!("{value:.4}");
    let currency = projection.reporting_currency();
    let model = &answer.model;
    let held = &model.held_out;
    let fitted = model.basis == WinBasis::Fitted;
    let record = json!({
        "as_of": pipewise_analytics::date_of_day(model.as_of).to_string(),
        "basis": if fitted { "fitted" } else { "below_floor" },
        "examples": model.examples,
        "won": model.won,
        "lost": model.lost,
        "floor": pipewise_app::forecast::win::FLOOR_OUTCOMES,
        "held_out": fitted.then(|| json!({
            "deals": held.deals,
            "brier": ratio(held.brier),
            "brier_stage_default": ratio(held.brier_stage_default),
            "brier_stage_rate": ratio(held.brier_stage_rate),
        })),
    });
    let (score, refused) = match &answer.score {
        Ok(score) => (Some(score), Value::Null),
        Err(Refusal::BelowFloor { .. }) => (None, json!("below_floor")),
        Err(Refusal::NotOpen) => (None, json!("not_open")),
    };
    let reasons: Vec<Value> = score
        .map(|score| {
            score
                .reasons
                .iter()
                .map(|reason| {
                    let (unit, value) = match &reason.shown {
                        Shown::Stage(stage) => {
                            let info = &projection.stages[*stage as usize];
                            ("stage", json!(if locale == Locale::Ko { &info.name_ko } else { &info.name_en }))
                        }
                        Shown::Days(days) => ("days", json!(days)),
                        Shown::Amount(minor) => ("amount", json!(currency.amount_of(*minor).to_string())),
                        Shown::Count(count) => ("count", json!(count)),
                        Shown::Rate(rate) => ("rate", json!(ratio(*rate))),
                        Shown::Yes(yes) => ("yes_no", json!(yes)),
                        Shown::Text(text) => ("text", json!(text)),
                        Shown::Unknown => ("unknown", Value::Null),
                    };
                    json!({
                        "factor": reason.factor.key(),
                        "family": family_key(reason.factor.family()),
                        "points": ratio(reason.points),
                        "log_odds": ratio(reason.log_odds),
                        "unit": unit,
                        "value": value,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    json!({
        "opportunity_id": id.0,
        "as_of": pipewise_analytics::date_of_day(answer.day).to_string(),
        "refused": refused,
        "probability": score.map(|score| ratio(score.probability)),
        "base": score.map(|score| ratio(score.base)),
        "stage_default": score.map(|score| ratio(score.stage_default)),
        "reasons": reasons,
        "model": record,
    })
}

/// A data family's name in the API.
pub(crate) fn family_key(family: pipewise_app::forecast::win::Family) -> &'static str {
    use pipewise_app::forecast::win::Family;
    match family {
        Family::Activity => "activity",
        Family::Opportunity => "opportunity",
        Family::BuyingTeam => "buying_team",
        Family::Company => "company",
    }
}

async fn list_calls(api: Api, RawQuery(raw): RawQuery) -> Result<axum::Json<Value>, AppError> {
    let asked = period_asked(raw)?;
    let today = api.viewer.today(api.state.now());
    let reply = api
        .read(move |tx, viewer| {
            let key = period_key(tx, viewer.org, asked, today)?;
            let book = app::forecast::calls_in(tx, viewer.org, &viewer.access, &key)?;
            let period = &book.period;
            Ok(json!({
                "period": { "key": period.key(), "start": period.first.to_string(), "end": period.last.to_string() },
                "data": book.calls.iter().map(app::forecast::call_json).collect::<Vec<_>>(),
            }))
        })
        .await?;
    Ok(axum::Json(reply))
}

/// The viewer's organisation's projection, brought up to date (off the async runtime).
async fn insights_of(api: &Api) -> Result<std::sync::Arc<pipewise_app::insights::Insights>, AppError> {
    let (state, org) = (api.state.clone(), api.viewer.org);
    blocking(move || Ok(state.insights_for(org)?)).await
}

/// The `quarters` parameter: 1 to 12, 4 by default.
fn quarters_param(raw: Option<String>) -> Result<usize, AppError> {
    let query = Query::parse(raw.as_deref(), &[Param::integer("quarters", "")])?;
    match query.text("quarters") {
        None => Ok(4),
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|quarters| (1..=12).contains(quarters))
            .ok_or_else(|| AppError::BadRequest(format!("query parameter quarters: {raw:?} is not a number from 1 to 12"))),
    }
}

async fn get_symptoms(api: Api, RawQuery(raw): RawQuery) -> Result<axum::Json<Value>, AppError> {
    let quarters = quarters_param(raw)?;
    let today = api.viewer.today(api.state.now());
    let insights = insights_of(&api).await?;
    let reply = api
        .read(move |tx, viewer| {
            let people: Vec<pipewise_core::UserId> = app::users::users(tx, viewer.org)?
                .into_iter()
                .filter(|user| user.active && matches!(user.role, pipewise_core::user::Role::Rep | pipewise_core::user::Role::Manager))
                .map(|user| user.id)
                .collect();
            let ledger = app::forecast::ledger(tx, viewer.org, &viewer.access, &insights, today, quarters)?;
            let query = app::forecast::SymptomsQuery { people: &people, today, quarters, ledger: &ledger };
            let found = app::forecast::symptoms(tx, viewer.org, &viewer.access, &insights, query)?;
            let ratio = |value: Option<f64>| value.map(|value| format!("{value:.4}"));
            Ok(json!({
                "data": found.iter().map(|person| json!({
                    "user_id": person.user.0,
                    "quarters": person.quarters.iter().map(|quarter| json!({
                        "period": quarter.period.key(),
                        "running": quarter.running,
                        "late_updates": ratio(quarter.late),
                        "stale_deals": ratio(quarter.stale),
                        "quarter_end_scramble": ratio(quarter.scramble),
                        "calls_missing": ratio(quarter.missing),
                        "forecast_error": ratio(quarter.error),
                    })).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            }))
        })
        .await?;
    Ok(axum::Json(reply))
}

async fn get_ledger(api: Api, RawQuery(raw): RawQuery) -> Result<axum::Json<Value>, AppError> {
    let quarters = quarters_param(raw)?;
    let today = api.viewer.today(api.state.now());
    let insights = insights_of(&api).await?;
    let reply = api
        .read(move |tx, viewer| {
            let ledger = app::forecast::ledger(tx, viewer.org, &viewer.access, &insights, today, quarters)?;
            let ratio = |value: f64| format!("{value:.4}");
            let (calls, call_wape, model_wape, coverage) = ledger.record();
            let model_record = {
                let (forecasts, error, coverage) = ledger.model_record();
                json!({ "forecasts": forecasts, "error": error.map(ratio), "coverage": coverage.map(ratio) })
            };
            let label = |label: app::forecast::ledger::Label| match label {
                app::forecast::ledger::Label::HappyEars => "happy_ears",
                app::forecast::ledger::Label::Sandbagging => "sandbagging",
                app::forecast::ledger::Label::Calibrated => "calibrated",
                app::forecast::ledger::Label::TooFewPeriods => "too_few_periods",
            };
            Ok(json!({
                "quarters": ledger.quarters.iter().map(|quarter| quarter.key()).collect::<Vec<_>>(),
                "record": {
                    "calls": calls,
                    "call_error": call_wape.map(ratio),
                    "model_error": model_wape.map(ratio),
                    "model_coverage": coverage.map(ratio),
                },
                "scored": ledger.scored.iter().map(|row| {
                    let money = |minor: i64| row.call.currency.amount_of(minor).to_string();
                    json!({
                        "period": row.period.key(),
                        "user_id": row.call.user.0,
                        "call_id": row.call.id,
                        "commit": money(row.call.commit),
                        "actual": money(row.actual),
                        "error": ratio(row.error),
                        "model_error": row.model_error.map(ratio),
                        "model_band_held": row.inside,
                    })
                }).collect::<Vec<_>>(),
                "model_record": model_record,
                "model_scored": ledger.model.iter().map(|row| {
                    let money = |minor: i64| row.forecast.currency.amount_of(minor).to_string();
                    json!({
                        "period": row.period.key(),
                        "scope": scope_json(row.forecast.scope),
                        "as_of": row.forecast.as_of.to_string(),
                        "expected": money(row.forecast.expected),
                        "actual": money(row.actual),
                        "error": ratio(row.error),
                        "band_held": row.inside,
                    })
                }).collect::<Vec<_>>(),
                "callers": ledger.biases.iter().map(|bias| json!({
                    "user_id": bias.person.0,
                    "periods": bias.periods,
                    "mean_error": ratio(bias.raw),
                    "bias": ratio(bias.shrunk),
                    "label": label(bias.label),
                })).collect::<Vec<_>>(),
            }))
        })
        .await?;
    Ok(axum::Json(reply))
}

async fn submit_call(api: Api, JsonBody(body): JsonBody) -> Result<Response, AppError> {
    let call = input::forecast_call(&body)?;
    let insights = insights_of(&api).await?;
    // The fit, if any, outside the write.
    let (prepared, key_asked, at) = (insights.clone(), call.period.clone(), api.state.now());
    api.read(move |tx, viewer| Ok(app::forecast::prepare_call(tx, viewer.org, &viewer.access, &prepared, at, &key_asked)?)).await?;
    let (stored, key) = api
        .write(move |tx, ctx| {
            let stored = app::forecast::submit_call(tx, ctx, &insights, &call)?;
            let calendar = app::users::organisation(tx, ctx.org)?.map(|organisation| organisation.fiscal).unwrap_or_default();
            Ok((stored.clone(), calendar.period_of(stored.kind, stored.first).key()))
        })
        .await?;
    Ok(created(format!("/api/v1/forecast/calls?period={key}"), app::forecast::call_json(&stored)))
}

pub fn schemas() -> Vec<(&'static str, Value)> {
    let money = || json!({ "type": "string", "description": "A decimal in the reporting currency." });
    let amount = || json!({ "oneOf": [{ "type": "string", "maxLength": 40 }, { "type": "number" }], "description": "A non-negative decimal in the reporting currency." });
    let pair = || json!({ "type": ["object", "null"], "properties": { "commit": money(), "best_case": money() } });
    let call = json!({
        "type": "object",
        "description": "One call, kept as it was made, with what its caller saw then.",
        "properties": {
            "id": { "type": "integer" },
            "user_id": { "type": "integer" },
            "period": { "type": "object", "properties": { "kind": { "type": "string" }, "start": { "type": "string", "format": "date" }, "end": { "type": "string", "format": "date" } } },
            "currency": { "type": "string" },
            "commit": money(),
            "best_case": money(),
            "note": { "type": "string" },
            "rollup": pair(),
            "categories": { "type": "object", "properties": { "closed": money(), "commit": money(), "best_case": money(), "pipeline": money() } },
            "model": { "type": ["object", "null"], "properties": { "expected": money(), "p10": money(), "p90": money() } },
            "submitted_at": { "type": "string", "format": "date-time" },
        },
        "required": ["id", "user_id", "period", "currency", "commit", "best_case", "note", "rollup", "categories", "model", "submitted_at"],
    });
    let ratio = || json!({ "type": ["string", "null"], "description": "A decimal to 4 places; null when undefined." });
    let ledger = json!({
        "type": "object",
        "properties": {
            "quarters": { "type": "array", "items": { "type": "string" } },
            "record": {
                "type": "object",
                "description": "Over the scored calls that kept a model forecast: the calls' and the model's weighted absolute error, and how often the model's P10–P90 held the actual.",
                "properties": { "calls": { "type": "integer" }, "call_error": ratio(), "model_error": ratio(), "model_coverage": ratio() },
            },
            "scored": { "type": "array", "items": { "type": "object", "properties": {
                "period": { "type": "string" }, "user_id": { "type": "integer" }, "call_id": { "type": "integer" },
                "commit": money(), "actual": money(), "error": { "type": "string" }, "model_error": ratio(),
                "model_band_held": { "type": ["boolean", "null"] },
            } } },
            "model_record": {
                "type": "object",
                "description": "The model's own recorded forecasts (each scope's opening one of each quarter, as made): how many, their weighted absolute error, how often P10–P90 held the actual.",
                "properties": { "forecasts": { "type": "integer" }, "error": ratio(), "coverage": ratio() },
            },
            "model_scored": { "type": "array", "items": { "type": "object", "properties": {
                "period": { "type": "string" },
                "scope": { "type": "object", "properties": { "kind": { "type": "string", "enum": ["organisation", "team", "user"] }, "id": { "type": ["integer", "null"] } } },
                "as_of": { "type": "string", "format": "date" },
                "expected": money(), "actual": money(), "error": { "type": "string" },
                "band_held": { "type": ["boolean", "null"] },
            } } },
            "callers": { "type": "array", "items": { "type": "object", "properties": {
                "user_id": { "type": "integer" }, "periods": { "type": "integer" }, "mean_error": { "type": "string" },
                "bias": { "type": "string", "description": "The mean error shrunk toward 0 by how much callers differ beyond chance." },
                "label": { "type": "string", "enum": ["happy_ears", "sandbagging", "calibrated", "too_few_periods"] },
            } } },
        },
        "required": ["quarters", "record", "scored", "model_record", "model_scored", "callers"],
    });
    let symptoms = json!({
        "type": "object",
        "properties": {
            "data": { "type": "array", "items": { "type": "object", "properties": {
                "user_id": { "type": "integer" },
                "quarters": { "type": "array", "items": { "type": "object", "properties": {
                    "period": { "type": "string" },
                    "running": { "type": "boolean" },
                    "late_updates": ratio(), "stale_deals": ratio(), "quarter_end_scramble": ratio(),
                    "calls_missing": ratio(), "forecast_error": ratio(),
                } } },
            } } },
        },
        "required": ["data"],
    });
    let win = json!({
        "type": "object",
        "description": "An open deal's chance of a win today. `probability` = `base` + the sum of the reasons' `points` (to rounding); null, with `refused` saying why, below the model's data floor or for a deal that is not open.",
        "properties": {
            "opportunity_id": { "type": "integer" },
            "as_of": { "type": "string", "format": "date" },
            "refused": { "type": ["string", "null"], "enum": ["below_floor", "not_open", null] },
            "probability": ratio(),
            "base": { "type": ["string", "null"], "description": "An average deal's probability." },
            "stage_default": { "type": ["string", "null"], "description": "The stage's default probability." },
            "reasons": { "type": "array", "items": { "type": "object", "properties": {
                "factor": { "type": "string", "enum": ["stage", "time_in_stage", "deal_age", "amount", "close_date", "owner_record", "recent_touches", "buyer_silence", "touch_trend", "contacts", "senior_contact", "company_size", "industry"] },
                "family": { "type": "string", "enum": ["activity", "opportunity", "buying_team", "company"] },
                "points": { "type": "string", "description": "What the factor adds to the base probability." },
                "log_odds": { "type": "string" },
                "unit": { "type": "string", "enum": ["stage", "days", "amount", "count", "rate", "yes_no", "text", "unknown"] },
                "value": { "description": "What the factor showed for the deal, in `unit`." },
            } } },
            "model": { "type": "object", "properties": {
                "as_of": { "type": "string", "format": "date" },
                "basis": { "type": "string", "enum": ["fitted", "below_floor"] },
                "examples": { "type": "integer" }, "won": { "type": "integer" }, "lost": { "type": "integer" },
                "floor": { "type": "integer", "description": "Won examples needed, and as many lost." },
                "held_out": { "type": ["object", "null"], "properties": {
                    "deals": { "type": "integer" }, "brier": { "type": "string" },
                    "brier_stage_default": { "type": "string" }, "brier_stage_rate": { "type": "string" },
                } },
            } },
        },
        "required": ["opportunity_id", "as_of", "refused", "probability", "base", "stage_default", "reasons", "model"],
    });
    let model_forecast = json!({
        "type": "object",
        "description": "The model's forecast of one scope for the period as of the end of a day, as it was made.",
        "properties": {
            "scope": { "type": "object", "properties": {
                "kind": { "type": "string", "enum": ["organisation", "team", "user"] },
                "id": { "type": ["integer", "null"], "description": "The team or user; null for the organisation." },
            }, "required": ["kind", "id"] },
            "as_of": { "type": "string", "format": "date" },
            "currency": { "type": "string" },
            "basis": { "type": "string", "enum": ["statistical", "stage_weighted"] },
            "expected": money(),
            "range": { "type": ["object", "null"], "properties": { "p10": money(), "p50": money(), "p90": money() } },
            "won": money(),
            "stage_weighted": money(),
            "recorded_at": { "type": "string", "format": "date-time" },
        },
        "required": ["scope", "as_of", "currency", "basis", "expected", "range", "won", "stage_weighted", "recorded_at"],
    });
    let model_forecasts = json!({
        "type": "object",
        "properties": {
            "period": { "type": "object", "properties": { "key": { "type": "string" }, "start": { "type": "string" }, "end": { "type": "string" } } },
            "data": { "type": "array", "items": { "$ref": "#/components/schemas/ModelForecast" } },
        },
        "required": ["period", "data"],
    });
    vec![
        ("ModelForecast", model_forecast),
        ("ModelForecastList", model_forecasts),
        ("WinProbability", win),
        ("ForecastSymptoms", symptoms),
        ("ForecastLedger", ledger),
        ("ForecastCall", call),
        (
            "ForecastCallList",
            json!({
                "type": "object",
                "properties": {
                    "period": { "type": "object", "properties": { "key": { "type": "string" }, "start": { "type": "string" }, "end": { "type": "string" } } },
                    "data": { "type": "array", "items": { "$ref": "#/components/schemas/ForecastCall" } },
                },
                "required": ["period", "data"],
            }),
        ),
        (
            "NewForecastCall",
            json!({
                "type": "object",
                "properties": {
                    "period": { "type": "string", "maxLength": 16, "description": "A fiscal period such as 2027-Q1 that has not ended." },
                    "commit": amount(),
                    "best_case": amount(),
                    "note": { "type": "string", "maxLength": 2000 },
                },
                "required": ["period", "commit", "best_case"],
                "additionalProperties": false,
            }),
        ),
    ]
}
