//! Pipeline health: of the scope, each team and rep with the flagged deals, and of one deal.

use pipewise_app as app;

use axum::extract::{RawQuery, State};
use pipewise_analytics::health::deal_health;
use pipewise_core::OpportunityId;
use serde_json::{Value, json};

use super::ask::{on_projection_as_of, parse_ask, scope_reply};
use super::lang_param;
use super::render::Render;
use crate::AppState;
use crate::api::support::{IdPath, Query};
use crate::api::{Param, Ty};
use crate::auth::Viewer;
use crate::error::{AppError, blocking};

pub(super) async fn get_health(
    State(state): State<AppState>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Result<axum::Json<Value>, AppError> {
    scope_reply(&state, &viewer, raw, |render, query, ask| {
        let projection = render.projection;
        let overview = pipewise_analytics::health::health(projection, query);
        // The flagged deals the viewer may open, the first `limit` of them by deal id, each with
        // its flags.
        let ids = &projection.deals().id;
        let openable = ask.openable.in_projection(projection);
        let candidates = projection.candidates(query.as_of.saturating_add(1));
        let mut open: Vec<u32> = Vec::new();
        candidates.for_each_in(0..candidates.len(), |deal| {
            let keep = projection.state_at(deal, query.as_of).is_some_and(|state| {
                projection.stages[state.stage as usize].is_open()
                    && query.scope.admits_owner(state.owner)
                    && query.scope.pipeline.is_none_or(|pipeline| projection.stages[state.stage as usize].pipeline == pipeline)
            }) && openable.admits(deal);
            if keep {
                open.push(deal);
            }
        });
        open.sort_by_key(|deal| ids[*deal as usize]);
        let mut deals = Vec::new();
        for deal in open {
            if deals.len() >= ask.limit {
                break;
            }
            if let Some(health) = deal_health(projection, query.facts(projection), deal, query.as_of, &query.thresholds)
                && !health.flags.is_empty()
            {
                let mut value = render.deal_health(&health);
                value["opportunity_id"] = json!(projection.deals().id[deal as usize].0);
                deals.push(value);
            }
        }
        Ok(json!({
            "summary": render.report(&overview.organisation),
            "teams": overview.teams.iter().map(|report| render.report(report)).collect::<Vec<_>>(),
            "reps": overview.reps.iter().map(|report| render.report(report)).collect::<Vec<_>>(),
            "flagged_deals": deals,
        }))
    })
    .await
}

pub(super) async fn get_deal_health(
    State(state): State<AppState>,
    viewer: Viewer,
    IdPath(id): IdPath,
    RawQuery(raw): RawQuery,
) -> Result<axum::Json<Value>, AppError> {
    let query = Query::parse(raw.as_deref(), &[Param::new("as_of", Ty::Date, ""), lang_param()])?;
    let ask = parse_ask(&state, &viewer, &query).await?;
    // Visibility first, through the checked read: a deal the viewer may not see is 404.
    let store = state.db.clone();
    let (org, access) = (viewer.org, viewer.access.clone());
    let visible = blocking(move || {
        let mut tx = store.read()?;
        Ok(app::deals::opportunity_for(&mut tx, org, &access, OpportunityId(id))?.is_some())
    })
    .await?;
    if !visible {
        return Err(AppError::NotFound { kind: OpportunityId::LABEL, id: id.to_string() });
    }
    let reply = on_projection_as_of(&state.clone(), &viewer.clone(), ask.as_of, move |projection, facts| {
        let not_found = || AppError::NotFound { kind: OpportunityId::LABEL, id: id.to_string() };
        let deal = projection.deal_index(OpportunityId(id)).ok_or_else(not_found)?;
        let facts = facts.as_deref().unwrap_or(&projection.activity);
        let health = deal_health(projection, facts, deal, ask.as_of, &ask.thresholds).ok_or_else(not_found)?;
        let render = Render::new(projection, ask.locale);
        let mut value = render.deal_health(&health);
        value["opportunity_id"] = json!(id);
        value["as_of"] = Render::day(ask.as_of);
        Ok(value)
    })
    .await?;
    Ok(axum::Json(reply))
}
