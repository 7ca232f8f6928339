//! `GET /api/v1/analytics/forecast`: the statistical forecast of the scope's period (issue 13).

use axum::extract::{RawQuery, State};
use pipewise_app::forecast::{self, Basis, FLOOR_EXITS, FLOOR_WON, Forecast};
use pipewise_app::visibility::OpenableIn;
use serde_json::{Value, json};

use super::ask::{build_query, parse_ask};
use super::render::{Render, header, merge};
use super::{lang_param, limit_param, scope_params, with};
use crate::AppState;
use crate::api::support::Query;
use crate::auth::Viewer;
use crate::error::{AppError, blocking};

pub(super) async fn get_forecast(
    State(state): State<AppState>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Result<axum::Json<Value>, AppError> {
    let query = Query::parse(raw.as_deref(), &with(scope_params(), vec![limit_param(), lang_param()]))?;
    let ask = parse_ask(&state, &viewer, &query).await?;
    let org = viewer.org;
    let reply = blocking(move || {
        let insights = state.insights_for(org)?;
        insights.with(|projection| {
            let query = build_query(projection, &ask, None)?;
            let render = Render::new(projection, ask.locale);
            // More than asked, so that deals the viewer may not open can be left out.
            let result = insights.forecast_models().forecast(
                projection,
                ask.as_of,
                query.period,
                &query.scope,
                forecast::TRIALS,
                3 * ask.limit + 10,
            );
            let openable = ask.openable.in_projection(projection);
            Ok(merge(header(&render, &query, &ask), json!({ "forecast": render.forecast(&result, query.quota, &openable, ask.limit) })))
        })
    })
    .await?;
    Ok(axum::Json(reply))
}

impl Render<'_> {
    fn forecast(&self, result: &Forecast, quota: Option<i64>, openable: &OpenableIn, limit: usize) -> Value {
        let money = |minor: i64| self.money(i128::from(minor));
        let statistical = result.basis == Basis::Statistical;
        let range = result.range.map_or(Value::Null, |[p10, p50, p90]| json!({ "p10": money(p10), "p50": money(p50), "p90": money(p90) }));
        let movers: Vec<Value> = result
            .movers
            .iter()
            .filter(|mover| self.projection.deal_index(mover.opportunity).is_some_and(|deal| openable.admits(deal)))
            .take(limit)
            .map(|mover| {
                json!({
                    "id": mover.opportunity.0,
                    "amount": money(mover.amount),
                    "probability": format!("{:.4}", mover.probability),
                    "expected": money(mover.expected),
                })
            })
            .collect();
        json!({
            "basis": if statistical { "statistical" } else { "stage_weighted" },
            "expected": money(result.expected),
            "range": range,
            "won": money(result.won),
            "won_deals": result.won_deals,
            "open": { "deals": result.open_deals, "amount": money(result.open_amount) },
            "due": { "deals": result.due_deals, "amount": money(result.due_amount) },
            "stage_weighted": money(result.stage_weighted),
            "run_rate": {
                "windows": result.run_rate.windows,
                "deals_per_window": format!("{:.2}", result.run_rate.deals_per_window),
                "trend": format!("{:.3}", result.run_rate.trend),
                "expected": money(result.run_rate.expected),
            },
            "quota": quota.map(money),
            "gap_to_quota": quota.map(|quota| money(quota - result.expected)),
            "evidence": {
                "since": Render::day(result.evidence.since),
                "snapshots": result.evidence.snapshots,
                "won_deals": result.evidence.won,
                "lost_deals": result.evidence.exits,
                "floor": { "won_deals": FLOOR_WON, "lost_deals": FLOOR_EXITS },
            },
            "movers": movers,
            "trials": result.trials,
            "seed": result.seed.to_string(),
        })
    }
}
