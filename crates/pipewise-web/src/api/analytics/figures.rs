//! The dashboard and the figures over time: the trend and the leaderboard.

use axum::extract::{RawQuery, State};
use pipewise_analytics::metrics;
use pipewise_analytics::{Day, Period, day_of_date};
use pipewise_app::insights::drill;
use pipewise_core::fiscal::PeriodKind;
use pipewise_core::money::Money;
use serde_json::{Value, json};

use super::ask::{Ask, build_query, on_projection, parse_ask, reporting_minor, scope_reply};
use super::render::{Render, header, link_filters, merge};
use super::{TREND_METRICS, scope_params, with};
use crate::AppState;
use crate::api::support::Query;
use crate::api::{Param, Ty};
use crate::auth::Viewer;
use crate::error::AppError;

const MAX_TREND_POINTS: usize = 400;

pub(super) async fn get_dashboard(
    State(state): State<AppState>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Result<axum::Json<Value>, AppError> {
    scope_reply(&state, &viewer, raw, |render, query, ask| {
        let projection = render.projection;
        let board = pipewise_analytics::dashboard(projection, query);
        let stage_deals =
            (ask.limit > 0).then(|| drill::deals_by_stage(projection, &query.scope, &ask.openable, query.as_of, None, ask.limit));
        Ok(json!({
            "pipeline": render.pipeline(&board.pipeline, stage_deals.as_deref(), &link_filters(ask)),
            "coverage": board.coverage.map_or(Value::Null, |coverage| json!({
                "open_closing_in_period": render.money(coverage.open_closing_in_period),
                "open_deals_closing_in_period": coverage.open_deals_closing_in_period,
                "won_in_period": render.money(coverage.won_in_period),
                "quota": render.money(i128::from(coverage.quota)),
                "remaining_quota": render.money(coverage.remaining_quota),
                "ratio": Render::ratio(coverage.ratio),
            })),
            "outcomes": render.outcomes(&board.outcomes),
            "velocity": board.velocity.map_or(Value::Null, |velocity| json!({
                "open_deals": velocity.open_deals,
                "win_rate": Render::ratio(Some(velocity.win_rate)),
                "average_deal_size": render.money(pipewise_analytics::div_round_half_even(velocity.average_deal_size.numerator, velocity.average_deal_size.denominator)),
                "average_cycle_days": Render::ratio(Some(velocity.average_cycle_days)),
                "per_day": render.money(velocity.per_day),
            })),
            "waterfall": render.waterfall(&board.waterfall, None),
            "health": {
                "summary": render.report(&board.health.organisation),
                "teams_flagged": board.health.teams.iter().filter(|team| !team.flags.is_empty()).count(),
                "reps_flagged": board.health.reps.iter().filter(|rep| !rep.flags.is_empty()).count(),
            },
            "leaderboard": render.leaderboard(&board.leaderboard),
        }))
    })
    .await
}

pub(super) async fn get_trend(
    State(state): State<AppState>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Result<axum::Json<Value>, AppError> {
    let declared = with(
        scope_params(),
        vec![
            Param::new("metric", Ty::Enum(TREND_METRICS.to_vec()), ""),
            Param::new("from", Ty::Date, ""),
            Param::new("to", Ty::Date, ""),
            Param::integer("every", ""),
        ],
    );
    let query = Query::parse(raw.as_deref(), &declared)?;
    let ask = parse_ask(&state, &viewer, &query).await?;
    let (metric, every, days) = trend_days(&query, &ask)?;
    let reply = on_projection(&state.clone(), &viewer.clone(), move |projection| {
        let base = build_query(projection, &ask, None)?;
        let render = Render::new(projection, ask.locale);
        let scope = &base.scope;
        let points: Vec<Value> = if metric == "coverage" {
            metrics::trend(days, |day| match base.quota {
                Some(quota) => Render::ratio(
                    metrics::coverage(projection, scope, day, Period::fiscal(ask.calendar, PeriodKind::Quarter, day), quota).ratio,
                ),
                None => Value::Null,
            })
        } else {
            // Every other metric reads the pipeline and the trailing year's outcomes: one pass
            // for all the days.
            metrics::pipeline_and_outcomes_trend(projection, scope, &days, 365)
                .into_iter()
                .map(|point| {
                    let (pipeline, outcomes) = &point.value;
                    let value = match metric.as_str() {
                        "pipeline_amount" => render.money(pipeline.amount),
                        "pipeline_count" => json!(pipeline.count),
                        "weighted_amount" => render.money(pipeline.weighted),
                        "win_rate" => Render::ratio(outcomes.win_rate_by_count()),
                        "win_rate_by_value" => Render::ratio(outcomes.win_rate_by_value()),
                        "average_cycle_days" => Render::ratio(outcomes.average_cycle_days()),
                        "average_deal_size" => outcomes.average_deal_size().map_or(Value::Null, |size| render.money(size)),
                        _ => {
                            metrics::velocity_from(pipeline.count, outcomes).map_or(Value::Null, |velocity| render.money(velocity.per_day))
                        }
                    };
                    metrics::TrendPoint { day: point.day, value }
                })
                .collect()
        }
        .into_iter()
        .map(|point| json!({ "day": Render::day(point.day), "value": point.value }))
        .collect();
        Ok(merge(header(&render, &base, &ask), json!({ "metric": metric, "every": every, "points": points })))
    })
    .await?;
    Ok(axum::Json(reply))
}

/// The trend's metric, the days between its points and its days, checked: `to` defaults to
/// `ask.as_of`, `from` to 90 days before `to`, `every` to 7.
fn trend_days(query: &Query, ask: &Ask) -> Result<(String, i32, Vec<Day>), AppError> {
    let metric = match query.text("metric") {
        Some(metric) if TREND_METRICS.contains(&metric) => metric.to_owned(),
        Some(other) => {
            return Err(AppError::BadRequest(format!("query parameter metric: {other:?} is not one of {}", TREND_METRICS.join(", "))));
        }
        None => return Err(AppError::BadRequest("query parameter metric is required".into())),
    };
    let to = query.parsed("to", pipewise_core::time::parse_date)?.map_or(ask.as_of, day_of_date);
    let from = query.parsed("from", pipewise_core::time::parse_date)?.map_or(to - 90, day_of_date);
    let every = match query.text("every") {
        None => 7,
        Some(raw) => raw
            .parse::<i32>()
            .ok()
            .filter(|every| (1..=366).contains(every))
            .ok_or_else(|| AppError::BadRequest(format!("query parameter every: {raw:?} is not a number of days from 1 to 366")))?,
    };
    if from > to {
        return Err(AppError::BadRequest("query parameter to: it is before from".into()));
    }
    let days = metrics::days_every(from, to, every);
    if days.len() > MAX_TREND_POINTS {
        return Err(AppError::BadRequest(format!("the trend has {} points; at most {MAX_TREND_POINTS}: widen every", days.len())));
    }
    Ok((metric, every, days))
}

pub(super) async fn get_leaderboard(
    State(state): State<AppState>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Result<axum::Json<Value>, AppError> {
    let query = Query::parse(raw.as_deref(), &with(scope_params(), vec![Param::new("rep_quota", Ty::Money, "")]))?;
    let ask = parse_ask(&state, &viewer, &query).await?;
    let rep_quota = query.parsed("rep_quota", |raw| raw.parse::<Money>())?;
    let reply = on_projection(&state.clone(), &viewer.clone(), move |projection| {
        let mut query = build_query(projection, &ask, None)?;
        if let Some(quota) = rep_quota {
            let minor = reporting_minor(projection, "rep_quota", quota)?;
            query.rep_quotas = vec![Some(minor); projection.n_owners()];
        }
        let rows = pipewise_analytics::leaderboard(projection, &query);
        let render = Render::new(projection, ask.locale);
        Ok(merge(header(&render, &query, &ask), json!({ "leaderboard": render.leaderboard(&rows) })))
    })
    .await?;
    Ok(axum::Json(reply))
}
