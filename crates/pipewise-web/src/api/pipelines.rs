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
use super::views::{Page, PipelineView};
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
    vec![stage_resource(), pipeline_resource()]
}

fn stage_resource() -> Resource {
    Resource {
        name: "Stage",
        description: "A stage of a pipeline. Patch with `PATCH /api/v1/stages/{id}`; kind and position have their own operations.",
        create: true,
        patch: true,
        fields: vec![
            Field::read("id", Ty::Id),
            Field::read("position", Ty::Integer),
            Field::read("name_en", Ty::Text).required(),
            Field::read("name_ko", Ty::Text).writable().doc("Defaults to the English name."),
            Field::read("kind", Ty::Enum(vec!["open", "won", "lost"])).create_only(Create::Optional),
            Field::read("win_probability", Ty::Decimal).writable().doc("Percent, 0 to 100."),
            Field::read("forecast_category", Ty::Enum(vec!["pipeline", "best_case", "commit", "closed", "omitted"])).writable(),
            Field::read("counts_in_metrics", Ty::Boolean).writable(),
            Field::read("rotting_days", Ty::Integer).nullable().writable(),
            Field::read("position", Ty::Integer)
                .create_only(Create::Optional)
                .input_only()
                .doc("With `POST /api/v1/pipelines/{id}/stages`: where to insert (0-based); after the last open stage by default."),
            Field::read("archived_at", Ty::Time).nullable().doc("Set when archived: the stage keeps its deals but takes no new ones."),
        ],
    }
}

fn pipeline_resource() -> Resource {
    Resource {
        name: "Pipeline",
        description: "A pipeline with its stages in order.",
        create: true,
        patch: true,
        fields: vec![
            Field::read("id", Ty::Id),
            Field::read("name", Ty::Text).required(),
            Field::read("entry_stage_id", Ty::Id).patch_only().doc("On patch: an open, unarchived stage of the pipeline."),
            Field::read("entry_stage", Ty::Integer)
                .create_only(Create::Optional)
                .input_only()
                .doc("Index into `stages` of the entry stage; 0 by default."),
            Field::read("stages", Ty::RefList("Stage")).create_only(Create::Required).doc("On create: `StageCreate` objects."),
        ],
    }
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
