//! Pipelines with their stages, visible to everyone in the organisation: list, get, create (the
//! designer's operations, `api::designer`, change them).

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use pipewise_app as app;
use pipewise_app::input;
use pipewise_core::PipelineId;
use pipewise_core::pipeline::Pipeline;

use super::db::{read, write};
use super::openapi::{Create, Field, Resource};
use super::records::{crud, list_query};
use super::support::{IdPath, JsonBody, Key, Listing, Query, SortField, created, not_found, text_key};
use super::views::{Page, PipelineView, StageView};
use super::{Param, Route, Ty};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::AppError;

pub fn routes() -> Vec<Route> {
    crud(
        "pipelines",
        "Pipeline",
        pipeline_query(),
        ["list_pipelines", "create_pipeline", "get_pipeline", ""],
        list_pipelines,
        create_pipeline,
        get_pipeline,
        None::<fn() -> std::future::Ready<Response>>,
    )
}

/// `Stage`, then `Pipeline`.
pub fn resources() -> Vec<Resource> {
    let stage = Resource::of::<StageView>()
        .required(&["name_en"])
        .writable(&["name_ko", "win_probability", "forecast_category", "counts_in_metrics", "rotting_days"])
        .create_only(Create::Optional, &["kind"])
        .input(
            Field::read("position", Ty::Integer)
                .create_only(Create::Optional)
                .doc("With `POST /api/v1/pipelines/{id}/stages`: where to insert (0-based); after the last open stage by default."),
        );
    let pipeline = Resource::of::<PipelineView>()
        .required(&["name"])
        .patch_only(&["entry_stage_id"])
        .create_only(Create::Required, &["stages"])
        .input(
            Field::read("entry_stage", Ty::Integer)
                .create_only(Create::Optional)
                .doc("Index into `stages` of the entry stage; 0 by default."),
        );
    vec![stage, pipeline]
}

fn pipeline_sorts() -> Vec<SortField<Pipeline>> {
    vec![SortField { name: "id", key: |row| Key::Int(row.id.0) }, SortField { name: "name", key: |row| text_key(&row.name) }]
}

fn pipeline_query() -> Vec<Param> {
    list_query(Vec::new(), &pipeline_sorts())
}

async fn list_pipelines(
    State(state): State<AppState>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Result<Json<Page<PipelineView>>, AppError> {
    let query = Query::parse(raw.as_deref(), &pipeline_query())?;
    let sorts = pipeline_sorts();
    let listing = Listing::parse(&query, &sorts)?;
    let rows = read(&state, move |tx| Ok(app::records::pipelines(tx, viewer.org)?)).await?;
    Ok(Json(listing.page(rows, &sorts, |row| row.id.0, PipelineView::from)))
}

async fn get_pipeline(State(state): State<AppState>, viewer: Viewer, IdPath(id): IdPath) -> Result<Json<PipelineView>, AppError> {
    let row =
        read(&state, move |tx| app::records::pipeline(tx, viewer.org, PipelineId(id))?.ok_or_else(|| not_found(PipelineId::LABEL, id)))
            .await?;
    Ok(Json(row.into()))
}

async fn create_pipeline(State(state): State<AppState>, viewer: Viewer, JsonBody(body): JsonBody) -> Result<Response, AppError> {
    let new = input::new_pipeline(&body)?;
    let row = write(&state, &viewer, move |tx, ctx| app::records::create_pipeline(tx, ctx, new)).await?;
    Ok(created(format!("/api/v1/pipelines/{}", row.id), PipelineView::from(row)))
}
