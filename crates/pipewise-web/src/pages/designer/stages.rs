//! The stage forms of one pipeline: add a stage, edit one, move it up or down, archive it.

use pipewise_app as app;
use pipewise_app::{Tx, WriteCtx};
use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use pipewise_core::error::Problem;
use pipewise_core::money::Decimal;
use pipewise_core::pipeline::{ForecastCategory, NewStage, Pipeline, StageKind, StagePatch};
use pipewise_core::user::Locale;
use pipewise_core::{PipelineId, StageId};

use super::{designer_write, for_designers, load_pipeline, pipeline_id};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::AppError;
use crate::i18n;
use crate::pages::{Params, SignedIn};

/// Reads the stage form: names, probability, category, metrics flag, rotting days.
fn stage_fields(params: &Params, locale: Locale) -> (StagePatch, HashMap<String, String>) {
    let mut errors = HashMap::new();
    let mut patch = StagePatch {
        name_en: Some(params.raw("name_en").to_owned()),
        name_ko: Some(params.raw("name_ko").to_owned()),
        counts_in_metrics: Some(params.get("counts_in_metrics").is_some()),
        ..StagePatch::default()
    };
    match params.raw("win_probability").trim().parse::<Decimal>() {
        Ok(probability) => patch.win_probability = Some(probability),
        Err(_) => {
            let problem = Problem::Invalid { value: params.raw("win_probability").to_owned(), expected: "a decimal amount" };
            errors.insert("win_probability".to_owned(), i18n::problem(locale, &problem));
        }
    }
    match ForecastCategory::parse(params.raw("forecast_category")) {
        Ok(category) => patch.forecast_category = Some(category),
        Err(problem) => {
            errors.insert("forecast_category".to_owned(), i18n::problem(locale, &problem));
        }
    }
    let rotting = params.raw("rotting_days").trim();
    if rotting.is_empty() {
        patch.rotting_days = Some(None);
    } else {
        match rotting.parse::<i32>() {
            Ok(days) => patch.rotting_days = Some(Some(days)),
            Err(_) => {
                let problem = Problem::Invalid { value: rotting.to_owned(), expected: "a whole number" };
                errors.insert("rotting_days".to_owned(), i18n::problem(locale, &problem));
            }
        }
    }
    (patch, errors)
}

pub async fn add_stage(State(state): State<AppState>, SignedIn(viewer): SignedIn, Path(id): Path<String>, body: Bytes) -> Response {
    let params = Params::from_body(&body);
    for_designers(viewer, move |reader| {
        let id = pipeline_id(&id)?;
        let locale = reader.user.locale;
        let (patch, mut errors) = stage_fields(&params, locale);
        let kind = match StageKind::parse(params.raw("kind")) {
            Ok(kind) => kind,
            Err(problem) => {
                errors.insert("kind".to_owned(), i18n::problem(locale, &problem));
                StageKind::Open
            }
        };
        let new = NewStage {
            name_en: patch.name_en.clone().unwrap_or_default(),
            name_ko: patch.name_ko.clone().unwrap_or_default(),
            kind,
            win_probability: patch.win_probability.unwrap_or_default(),
            forecast_category: patch.forecast_category.unwrap_or(ForecastCategory::Pipeline),
            counts_in_metrics: patch.counts_in_metrics.unwrap_or(true),
            rotting_days: patch.rotting_days.flatten(),
        };
        designer_write(&state, reader, id, "new_stage".into(), &params, errors, |tx, ctx| {
            app::designer::add_stage(tx, ctx, id, new, None).map(|_| ())
        })
    })
    .await
}

/// The stage a stage route names: the pipeline (`id`) and the stage (`stage`) in it.
fn designer_stage(state: &AppState, viewer: &Viewer, id: &str, stage: &str) -> Result<(PipelineId, Pipeline, StageId), AppError> {
    let id = pipeline_id(id)?;
    let pipeline = load_pipeline(&mut state.db.read()?, viewer.org, id)?;
    let stage = stage_in(&pipeline, stage)?;
    Ok((id, pipeline, stage))
}

/// The stage of `pipeline` whose id is `raw`; 404 for any other.
pub(super) fn stage_in(pipeline: &Pipeline, raw: &str) -> Result<StageId, AppError> {
    raw.parse::<i64>()
        .ok()
        .map(StageId)
        .filter(|id| pipeline.stage(*id).is_some())
        .ok_or_else(|| AppError::NotFound { kind: "stage", id: raw.to_owned() })
}

/// A form on one stage (`…/stages/{stage}…`), for designers: finds the pipeline and the stage in
/// it, then `form` reads what was posted into its problems and the write to run (see
/// [`designer_write`]).
async fn stage_form<W>(
    state: AppState,
    viewer: Viewer,
    (id, stage): (String, String),
    body: Bytes,
    form: impl FnOnce(&Params, Locale, &Pipeline, StageId) -> (HashMap<String, String>, W) + Send + 'static,
) -> Response
where
    W: FnOnce(&mut Tx, &WriteCtx) -> pipewise_app::Result<()>,
{
    let params = Params::from_body(&body);
    for_designers(viewer, move |reader| {
        let (id, pipeline, stage) = designer_stage(&state, reader, &id, &stage)?;
        let (errors, write) = form(&params, reader.user.locale, &pipeline, stage);
        designer_write(&state, reader, id, format!("stage-{stage}"), &params, errors, write)
    })
    .await
}

pub async fn update_stage(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    Path(route): Path<(String, String)>,
    body: Bytes,
) -> Response {
    stage_form(state, viewer, route, body, |params, locale, _, stage| {
        let (patch, errors) = stage_fields(params, locale);
        (errors, move |tx: &mut Tx, ctx: &WriteCtx| app::designer::update_stage(tx, ctx, stage, &patch).map(|_| ()))
    })
    .await
}

pub async fn move_stage(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    Path(route): Path<(String, String)>,
    body: Bytes,
) -> Response {
    stage_form(state, viewer, route, body, |params, _, pipeline, stage| {
        let mut order: Vec<StageId> = pipeline.stages.iter().map(|stage| stage.id).collect();
        let index = order.iter().position(|candidate| *candidate == stage).unwrap_or_default();
        match params.get("direction") {
            Some("up") if index > 0 => order.swap(index, index - 1),
            Some("down") if index + 1 < order.len() => order.swap(index, index + 1),
            _ => {}
        }
        let id = pipeline.id;
        (HashMap::new(), move |tx: &mut Tx, ctx: &WriteCtx| app::designer::reorder_stages(tx, ctx, id, &order).map(|_| ()))
    })
    .await
}

pub async fn archive_stage(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    Path(route): Path<(String, String)>,
    body: Bytes,
) -> Response {
    stage_form(state, viewer, route, body, |_, _, _, stage| {
        (HashMap::new(), move |tx: &mut Tx, ctx: &WriteCtx| app::designer::archive_stage(tx, ctx, stage).map(|_| ()))
    })
    .await
}
