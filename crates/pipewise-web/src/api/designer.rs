//! The pipeline designer (ops and admins) in the API: `POST /api/v1/pipelines/from-template`,
//! `PATCH /api/v1/pipelines/{id}`, `POST /api/v1/pipelines/{id}/stages`,
//! `PUT /api/v1/pipelines/{id}/stage-order`, `PATCH /api/v1/stages/{id}`,
//! `POST /api/v1/stages/{id}/archive`, `PUT /api/v1/teams/{id}/average-cycle`.

use axum::http::Method;
use axum::response::{IntoResponse, Response};
use pipewise_app as app;
use pipewise_core::*;

use super::db::Api;
use super::openapi::{Create, Field, Resource};
use super::support::{IdPath, JsonBody, created};
use super::views::{PipelineView, StageView};
use super::{Param, Reply, Route, Ty};
use crate::error::AppError;
use pipewise_app::input;

const DESIGN_TAG: &str = "pipeline designer";

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::POST, "/api/v1/pipelines/from-template", "create_pipeline_from_template", create_pipeline_from_template)
            .summary(DESIGN_TAG, "Create a pipeline from a shipped template, with its exit criteria (ops and admins).")
            .body("PipelineTemplateCreate")
            .reply(Reply::Json(201, "Pipeline")),
        Route::new(Method::PATCH, "/api/v1/pipelines/{id}", "update_pipeline", update_pipeline)
            .summary(DESIGN_TAG, "Rename a pipeline or change its entry stage (ops and admins).")
            .path_param(Param::id("id", "The pipeline's id."))
            .body("PipelinePatch")
            .reply(Reply::Json(200, "Pipeline")),
        Route::new(Method::POST, "/api/v1/pipelines/{id}/stages", "create_stage", create_stage)
            .summary(DESIGN_TAG, "Add a stage to a pipeline (ops and admins); answers the pipeline.")
            .path_param(Param::id("id", "The pipeline's id."))
            .body("StageCreate")
            .reply(Reply::Json(201, "Pipeline")),
        Route::new(Method::PUT, "/api/v1/pipelines/{id}/stage-order", "reorder_stages", reorder_stages)
            .summary(DESIGN_TAG, "Put a pipeline's stages in a new order, open stages first (ops and admins).")
            .path_param(Param::id("id", "The pipeline's id."))
            .body("StageOrderCreate")
            .reply(Reply::Json(200, "Pipeline")),
        Route::new(Method::PATCH, "/api/v1/stages/{id}", "update_stage", update_stage)
            .summary(DESIGN_TAG, "Change a stage's names, probability, forecast category, metrics flag or rotting age (ops and admins).")
            .path_param(Param::id("id", "The stage's id."))
            .body("StagePatch")
            .reply(Reply::Json(200, "Stage")),
        Route::new(Method::POST, "/api/v1/stages/{id}/archive", "archive_stage", archive_stage)
            .summary(DESIGN_TAG, "Archive a stage: it keeps its deals, takes no new ones, and its gate is skipped (ops and admins).")
            .path_param(Param::id("id", "The stage's id."))
            .reply(Reply::Json(200, "Stage")),
        Route::new(Method::PUT, "/api/v1/teams/{id}/average-cycle", "set_team_average_cycle", set_team_average_cycle)
            .summary(
                DESIGN_TAG,
                "Set a team's own average sales cycle (stage 1's decision window), or null to compute it (ops and admins).",
            )
            .path_param(Param::id("id", "The team's id."))
            .body("TeamCycleCreate")
            .reply(Reply::NoContent),
    ]
}

pub fn resources() -> Vec<Resource> {
    vec![
        Resource::new(
            "PipelineTemplate",
            "Which shipped template to create a pipeline from.",
            vec![Field::read("template", Ty::Enum(vec!["b2b_the_model", "simple"])).create_only(Create::Required)],
        ),
        Resource::new(
            "StageOrder",
            "Every stage of the pipeline once, in the new order.",
            vec![Field::read("stage_ids", Ty::IdList).create_only(Create::Required)],
        ),
        Resource::new(
            "TeamCycle",
            "A team's own average sales cycle in days (1 to 3650), or null to compute it from the team's won deals.",
            vec![Field::read("average_cycle_days", Ty::Range(1, 3650)).nullable().create_only(Create::Required)],
        ),
    ]
}

async fn create_pipeline_from_template(api: Api, JsonBody(body): JsonBody) -> Result<Response, AppError> {
    let template = input::pipeline_template(&body)?;
    let (pipeline, _) = api.write(move |tx, ctx| app::designer::create_pipeline_from_template(tx, ctx, template)).await?;
    Ok(created(format!("/api/v1/pipelines/{}", pipeline.id), PipelineView::from(pipeline)))
}

async fn update_pipeline(api: Api, IdPath(id): IdPath, JsonBody(body): JsonBody) -> Result<axum::Json<PipelineView>, AppError> {
    let patch = input::pipeline_patch(PipelineId(id), &body)?;
    let pipeline = api.write(move |tx, ctx| app::designer::update_pipeline(tx, ctx, PipelineId(id), &patch)).await?;
    Ok(axum::Json(PipelineView::from(pipeline)))
}

async fn create_stage(api: Api, IdPath(id): IdPath, JsonBody(body): JsonBody) -> Result<Response, AppError> {
    let (stage, position) = input::new_stage(PipelineId(id), &body)?;
    let pipeline = api.write(move |tx, ctx| app::designer::add_stage(tx, ctx, PipelineId(id), stage, position)).await?;
    Ok(created(format!("/api/v1/pipelines/{id}"), PipelineView::from(pipeline)))
}

async fn reorder_stages(api: Api, IdPath(id): IdPath, JsonBody(body): JsonBody) -> Result<axum::Json<PipelineView>, AppError> {
    let order = input::stage_order(PipelineId(id), &body)?;
    let pipeline = api.write(move |tx, ctx| app::designer::reorder_stages(tx, ctx, PipelineId(id), &order)).await?;
    Ok(axum::Json(PipelineView::from(pipeline)))
}

async fn update_stage(api: Api, IdPath(id): IdPath, JsonBody(body): JsonBody) -> Result<axum::Json<StageView>, AppError> {
    let patch = input::stage_patch(StageId(id), &body)?;
    let stage = api.write(move |tx, ctx| app::designer::update_stage(tx, ctx, StageId(id), &patch)).await?;
    Ok(axum::Json(StageView::from(stage)))
}

async fn archive_stage(api: Api, IdPath(id): IdPath) -> Result<axum::Json<StageView>, AppError> {
    let stage = api.write(move |tx, ctx| app::designer::archive_stage(tx, ctx, StageId(id))).await?;
    Ok(axum::Json(StageView::from(stage)))
}

async fn set_team_average_cycle(api: Api, IdPath(id): IdPath, JsonBody(body): JsonBody) -> Result<Response, AppError> {
    let days = input::team_cycle(TeamId(id), &body)?;
    api.write(move |tx, ctx| app::gates::set_team_cycle_days(tx, ctx, TeamId(id), days)).await?;
    Ok(axum::http::StatusCode::NO_CONTENT.into_response())
}
