//! The figures with the deals behind them: pipeline by stage and the waterfall.

use axum::extract::{RawQuery, State};
use pipewise_analytics::metrics;
use pipewise_analytics::{Period, day_of_date};
use pipewise_app::insights::drill;
use pipewise_core::fiscal::PeriodKind;
use serde_json::{Value, json};

use super::ask::{Quotas, build_query, on_projection, parse_ask_reading};
use super::render::{Render, header, link_filters, merge};
use super::{limit_param, scope_params, with};
use crate::AppState;
use crate::api::support::Query;
use crate::api::{Param, Ty};
use crate::auth::Viewer;
use crate::error::AppError;

pub(super) async fn get_pipeline(
    State(state): State<AppState>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Result<axum::Json<Value>, AppError> {
    let declared = with(scope_params(), vec![limit_param(), Param::boolean_like("closing_in_period", "")]);
    let query = Query::parse(raw.as_deref(), &declared)?;
    let ask = parse_ask_reading(&state, &viewer, &query, Quotas::Skip).await?;
    let closing = query.boolean("closing_in_period")?.unwrap_or(false);
    let reply = on_projection(&state.clone(), &viewer.clone(), move |projection| {
        let query = build_query(projection, &ask, None)?;
        let within = closing.then_some(query.period);
        let pipeline = metrics::pipeline_by_stage(projection, &query.scope, query.as_of, within);
        let render = Render::new(projection, ask.locale);
        let deals = drill::deals_by_stage(projection, &query.scope, &ask.openable, query.as_of, within, ask.limit);
        Ok(merge(header(&render, &query, &ask), json!({ "pipeline": render.pipeline(&pipeline, Some(&deals), &link_filters(&ask)) })))
    })
    .await?;
    Ok(axum::Json(reply))
}

pub(super) async fn get_waterfall(
    State(state): State<AppState>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Result<axum::Json<Value>, AppError> {
    let declared = with(scope_params(), vec![Param::new("from", Ty::Date, ""), Param::new("to", Ty::Date, ""), limit_param()]);
    let query = Query::parse(raw.as_deref(), &declared)?;
    let ask = parse_ask_reading(&state, &viewer, &query, Quotas::Skip).await?;
    let from = query.parsed("from", pipewise_core::time::parse_date)?.map(day_of_date);
    let to = query.parsed("to", pipewise_core::time::parse_date)?.map(day_of_date);
    let reply = on_projection(&state.clone(), &viewer.clone(), move |projection| {
        let mut query = build_query(projection, &ask, None)?;
        // Without a period asked for, the waterfall's period is the fiscal quarter holding `to`.
        if !ask.period_explicit
            && let Some(to) = to
        {
            query.period = Period::fiscal(ask.calendar, PeriodKind::Quarter, to);
        }
        let (default_from, default_to) = query.waterfall_span();
        let (from, to) = (from.unwrap_or(default_from), to.unwrap_or(default_to));
        if from > to {
            return Err(AppError::BadRequest("query parameter to: it is before from".into()));
        }
        let waterfall = metrics::waterfall(projection, &query.scope, query.period, from, to);
        let deals = drill::waterfall_deals(projection, &query.scope, &ask.openable, query.period, from, to, ask.limit);
        let render = Render::new(projection, ask.locale);
        Ok(merge(header(&render, &query, &ask), json!({ "waterfall": render.waterfall(&waterfall, Some(&deals)) })))
    })
    .await?;
    Ok(axum::Json(reply))
}
