//! The pipeline designer for ops and admins (`/admin/pipelines`): create a pipeline from a
//! template, rename it, set its entry stage, add, edit, reorder and archive stages (never delete
//! them), and manage each stage's exit criteria, including derived ones written in the predicate
//! text form (`gates::Predicate::parse`). Everyone else gets the 403 page.
//!
//! Every form posts and comes back with `303` on success; a refused form shows the page again
//! with each problem beside its field and what was typed kept.

use pipewise_app as app;
use std::collections::HashMap;

use app::designer::PipelineTemplate;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use pipewise_app::OpportunityFilter;
use pipewise_core::error::Problem;
use pipewise_core::gates::{CriterionKind, CriterionOrigin, ExitCriterion, NewExitCriterion, Predicate};
use pipewise_core::money::Decimal;
use pipewise_core::opportunity::{OppField, Opportunity};
use pipewise_core::pipeline::{ForecastCategory, NewStage, Pipeline, PipelinePatch, StageKind, StagePatch};
use pipewise_core::user::{Locale, Role};
use pipewise_core::*;
use serde::Serialize;

use super::data::label;
use super::form::{Refusal, by_field, refusal};
use super::list::Choice;
use super::{Params, SignedIn, render, respond, see_other};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, blocking};
use crate::i18n::{self, t};

fn designer_only(viewer: &Viewer) -> Result<(), AppError> {
    if matches!(viewer.user.role, Role::Admin | Role::Ops) {
        Ok(())
    } else {
        Err(AppError::Forbidden(t(viewer.user.locale, "error.ops_only").to_owned()))
    }
}

#[derive(Serialize)]
struct PipelineRow {
    id: i64,
    name: String,
    stages: String,
    criteria: String,
    entry: String,
}

#[derive(Serialize)]
struct ListView {
    pipelines: Vec<PipelineRow>,
    templates: Vec<Choice>,
    errors: HashMap<String, String>,
    name: String,
    template: String,
    notice: Option<String>,
}

pub async fn pipelines(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Response {
    let params = Params::parse(query.as_deref());
    let reader = viewer.clone();
    let result = blocking(move || {
        designer_only(&reader)?;
        let notice = params.get("saved").map(|_| t(reader.user.locale, "designer.saved").to_owned());
        list_page(&state, &reader, StatusCode::OK, HashMap::new(), &Params::default(), notice)
    })
    .await;
    respond(&viewer, result)
}

fn list_page(
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    errors: HashMap<String, String>,
    typed: &Params,
    notice: Option<String>,
) -> Result<Response, AppError> {
    let locale = viewer.user.locale;
    let mut tx = state.db.read()?;
    let pipelines = app::records::pipelines(&mut tx, viewer.org)?;
    let mut rows = Vec::new();
    for pipeline in &pipelines {
        let criteria = app::gates::exit_criteria(&mut tx, viewer.org, pipeline.id)?;
        rows.push(PipelineRow {
            id: pipeline.id.0,
            name: pipeline.name.clone(),
            stages: pipeline.stages.iter().map(|stage| i18n::stage_name(locale, stage).to_owned()).collect::<Vec<_>>().join(" → "),
            criteria: i18n::tf(locale, "designer.criteria_count", &[("count", &criteria.len().to_string())]),
            entry: pipeline.stage(pipeline.entry_stage_id).map(|stage| i18n::stage_name(locale, stage).to_owned()).unwrap_or_default(),
        });
    }
    let view = ListView {
        pipelines: rows,
        templates: vec![
            Choice { value: "b2b_the_model".into(), label: t(locale, "designer.template.b2b").to_owned() },
            Choice { value: "simple".into(), label: t(locale, "designer.template.simple").to_owned() },
        ],
        errors,
        name: typed.raw("name").to_owned(),
        template: typed.raw("template").to_owned(),
        notice,
    };
    render::page(viewer, status, "pipelines.html", "pipelines", t(locale, "designer.title").to_owned(), &view)
}

/// Creates a pipeline from a template, named as typed (the template's name when left empty).
pub async fn create(State(state): State<AppState>, SignedIn(viewer): SignedIn, body: Bytes) -> Response {
    let params = Params::from_body(&body);
    let reader = viewer.clone();
    let result = blocking(move || {
        designer_only(&reader)?;
        let locale = reader.user.locale;
        let template = match PipelineTemplate::parse(params.raw("template")) {
            Ok(template) => template,
            Err(problem) => {
                let errors = HashMap::from([("template".to_owned(), i18n::problem(locale, &problem))]);
                return list_page(&state, &reader, StatusCode::UNPROCESSABLE_ENTITY, errors, &params, None);
            }
        };
        let ctx = reader.ctx(pipewise_core::history::Source::Web, state.now());
        let name = params.get("name").map(str::to_owned);
        let created = state.db.transact(|tx| {
            let (pipeline, _) = app::designer::create_pipeline_from_template(tx, &ctx, template)?;
            match name {
                Some(name) => {
                    app::designer::update_pipeline(tx, &ctx, pipeline.id, &PipelinePatch { name: Some(name), entry_stage_id: None })
                }
                None => Ok(pipeline),
            }
        });
        match created {
            Ok(pipeline) => Ok(see_other(&format!("/admin/pipelines/{}?created=1", pipeline.id))),
            Err(error) => match refusal(error)? {
                Refusal::Invalid(errors) => {
                    let errors = by_field(locale, &errors, |field| field.to_owned());
                    list_page(&state, &reader, StatusCode::UNPROCESSABLE_ENTITY, errors, &params, None)
                }
                other => Err(other.into()),
            },
        }
    })
    .await;
    respond(&viewer, result)
}

// ---------------------------------------------------------------------------------------------
// One pipeline.

#[derive(Serialize)]
struct CriterionRow {
    id: i64,
    label: String,
    kind: String,
    detail: Option<String>,
    from_loss: bool,
}

#[derive(Serialize)]
struct StageRow {
    id: i64,
    name: String,
    name_en: String,
    name_ko: String,
    kind: &'static str,
    kind_label: String,
    probability: String,
    category: String,
    counts: bool,
    rotting: String,
    deals: usize,
    archived: bool,
    is_entry: bool,
    first: bool,
    last: bool,
    criteria: Vec<CriterionRow>,
    move_up: String,
    move_down: String,
}

/// A refused form: which one, its problems by field, what was typed.
#[derive(Default, Serialize)]
struct Failed {
    form: String,
    errors: HashMap<String, String>,
    values: HashMap<String, String>,
}

#[derive(Serialize)]
struct DetailView {
    id: i64,
    name: String,
    entry_stage_id: String,
    stages: Vec<StageRow>,
    open_stages: Vec<Choice>,
    categories: Vec<Choice>,
    kinds: Vec<Choice>,
    criterion_kinds: Vec<Choice>,
    fields: Vec<Choice>,
    failed: Failed,
    notice: Option<String>,
}

pub async fn pipeline(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    Path(id): Path<String>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Response {
    let params = Params::parse(query.as_deref());
    let reader = viewer.clone();
    let result = blocking(move || {
        designer_only(&reader)?;
        let id = pipeline_id(&id)?;
        let locale = reader.user.locale;
        let notice = match (params.get("created"), params.get("saved")) {
            (Some(_), _) => Some(t(locale, "designer.created").to_owned()),
            (_, Some(_)) => Some(t(locale, "designer.saved").to_owned()),
            _ => None,
        };
        detail_page(&state, &reader, id, Failed::default(), notice)
    })
    .await;
    respond(&viewer, result)
}

fn pipeline_id(raw: &str) -> Result<PipelineId, AppError> {
    raw.parse::<i64>().ok().filter(|id| *id > 0).map(PipelineId).ok_or_else(|| AppError::NotFound { kind: "pipeline", id: raw.to_owned() })
}

fn load_pipeline(tx: &mut pipewise_app::Tx, org: OrgId, id: PipelineId) -> Result<Pipeline, AppError> {
    app::records::pipeline(tx, org, id)?.ok_or_else(|| AppError::NotFound { kind: "pipeline", id: id.to_string() })
}

fn detail_page(state: &AppState, viewer: &Viewer, id: PipelineId, failed: Failed, notice: Option<String>) -> Result<Response, AppError> {
    let locale = viewer.user.locale;
    let mut tx = state.db.read()?;
    let pipeline = load_pipeline(&mut tx, viewer.org, id)?;
    let criteria = app::gates::exit_criteria(&mut tx, viewer.org, id)?;
    let deals = app::deals::opportunities_for(
        &mut tx,
        viewer.org,
        &viewer.access,
        &OpportunityFilter { pipeline_id: Some(id), status: None, ..OpportunityFilter::default() },
    )?;
    let stages = stage_rows(locale, &pipeline, &criteria, &deals);
    let view = DetailView {
        id: id.0,
        name: pipeline.name.clone(),
        entry_stage_id: pipeline.entry_stage_id.to_string(),
        stages,
        open_stages: pipeline
            .stages
            .iter()
            .filter(|stage| stage.kind == StageKind::Open && !stage.is_archived())
            .map(|stage| Choice { value: stage.id.to_string(), label: i18n::stage_name(locale, stage).to_owned() })
            .collect(),
        categories: ForecastCategory::ALL
            .iter()
            .map(|category| Choice { value: category.as_str().to_owned(), label: label(locale, "forecast", category.as_str()) })
            .collect(),
        kinds: StageKind::ALL
            .iter()
            .map(|kind| Choice {
                value: kind.as_str().to_owned(),
                label: t(locale, &format!("designer.stage_kind.{}", kind.as_str())).to_owned(),
            })
            .collect(),
        criterion_kinds: ["checklist", "required_field", "derived"]
            .iter()
            .map(|kind| Choice { value: (*kind).to_owned(), label: t(locale, &format!("gate.kind.{kind}")).to_owned() })
            .collect(),
        fields: OppField::ALL
            .iter()
            .filter(|field| {
                super::gates::form_input(**field).is_some() && !matches!(field, OppField::Name | OppField::Owner | OppField::Stage)
            })
            .map(|field| Choice {
                value: field.as_str().to_owned(),
                label: label(locale, "field", super::gates::form_input(*field).unwrap_or_default()),
            })
            .collect(),
        failed,
        notice,
    };
    let status = if view.failed.form.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render::page(viewer, status, "pipeline.html", "pipelines", view.name.clone(), &view)
}

/// Each stage of the pipeline with its deal count and exit criteria.
fn stage_rows(locale: Locale, pipeline: &Pipeline, criteria: &[ExitCriterion], deals: &[Opportunity]) -> Vec<StageRow> {
    let count = pipeline.stages.len();
    pipeline
        .stages
        .iter()
        .enumerate()
        .map(|(index, stage)| {
            let name = i18n::stage_name(locale, stage).to_owned();
            StageRow {
                id: stage.id.0,
                name_en: stage.name_en.clone(),
                name_ko: stage.name_ko.clone(),
                kind: stage.kind.as_str(),
                kind_label: t(locale, &format!("designer.stage_kind.{}", stage.kind.as_str())).to_owned(),
                probability: stage.win_probability.normalize().to_string(),
                category: stage.forecast_category.as_str().to_owned(),
                counts: stage.counts_in_metrics,
                rotting: stage.rotting_days.map(|days| days.to_string()).unwrap_or_default(),
                deals: deals.iter().filter(|deal| deal.stage_id == stage.id).count(),
                archived: stage.is_archived(),
                is_entry: stage.id == pipeline.entry_stage_id,
                first: index == 0,
                last: index + 1 == count,
                criteria: criteria
                    .iter()
                    .filter(|criterion| criterion.stage_id == stage.id)
                    .map(|criterion| criterion_row(locale, criterion))
                    .collect(),
                move_up: i18n::tf(locale, "designer.move_up", &[("stage", &name)]),
                move_down: i18n::tf(locale, "designer.move_down", &[("stage", &name)]),
                name,
            }
        })
        .collect()
}

/// One exit criterion in the stage's list.
fn criterion_row(locale: Locale, criterion: &ExitCriterion) -> CriterionRow {
    CriterionRow {
        id: criterion.id,
        label: match locale {
            Locale::En => criterion.label_en.clone(),
            Locale::Ko => criterion.label_ko.clone(),
        },
        kind: t(locale, &format!("gate.kind.{}", criterion.kind.kind_str())).to_owned(),
        detail: match &criterion.kind {
            CriterionKind::Checklist => None,
            CriterionKind::RequiredField(field) => Some(label(locale, "field", super::gates::form_input(*field).unwrap_or(field.as_str()))),
            CriterionKind::Derived(predicate) => Some(predicate.encode()),
        },
        from_loss: matches!(criterion.origin, CriterionOrigin::LossReview { .. }),
    }
}

/// Runs one designer write; on bad input shows the page again with the problems on `form`.
fn designer_write(
    state: &AppState,
    viewer: &Viewer,
    id: PipelineId,
    form: String,
    params: &Params,
    parse_errors: HashMap<String, String>,
    write: impl FnOnce(&mut pipewise_app::Tx, &pipewise_app::WriteCtx) -> pipewise_app::Result<()>,
) -> Result<Response, AppError> {
    let locale = viewer.user.locale;
    let values: HashMap<String, String> = params.0.iter().filter(|(key, _)| key != "csrf_token").cloned().collect();
    if !parse_errors.is_empty() {
        return detail_page(state, viewer, id, Failed { form, errors: parse_errors, values }, None);
    }
    let ctx = viewer.ctx(pipewise_core::history::Source::Web, state.now());
    match state.db.transact(|tx| write(tx, &ctx)) {
        Ok(()) => Ok(see_other(&format!("/admin/pipelines/{id}?saved=1"))),
        Err(error) => {
            let errors = match refusal(error)? {
                Refusal::Invalid(errors) => by_field(locale, &errors, |field| match field {
                    "kind" => "predicate".to_owned(),
                    "stage_id" if form.starts_with("criterion") => "label_en".to_owned(),
                    other => other.to_owned(),
                }),
                Refusal::Conflict(message) | Refusal::Forbidden(message) => HashMap::from([(String::new(), message)]),
                other => return Err(other.into()),
            };
            detail_page(state, viewer, id, Failed { form, errors, values }, None)
        }
    }
}

pub async fn update(State(state): State<AppState>, SignedIn(viewer): SignedIn, Path(id): Path<String>, body: Bytes) -> Response {
    let params = Params::from_body(&body);
    let reader = viewer.clone();
    let result = blocking(move || {
        designer_only(&reader)?;
        let id = pipeline_id(&id)?;
        let patch = PipelinePatch { name: Some(params.raw("name").to_owned()), entry_stage_id: params.id("entry_stage_id").map(StageId) };
        designer_write(&state, &reader, id, "pipeline".into(), &params, HashMap::new(), |tx, ctx| {
            app::designer::update_pipeline(tx, ctx, id, &patch).map(|_| ())
        })
    })
    .await;
    respond(&viewer, result)
}

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
    let reader = viewer.clone();
    let result = blocking(move || {
        designer_only(&reader)?;
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
        designer_write(&state, &reader, id, "new_stage".into(), &params, errors, |tx, ctx| {
            app::designer::add_stage(tx, ctx, id, new, None).map(|_| ())
        })
    })
    .await;
    respond(&viewer, result)
}

/// The stage a stage route names, for a designer: checks the viewer may design, then finds the
/// pipeline (`id`) and the stage (`stage`) in it.
fn designer_stage(state: &AppState, viewer: &Viewer, id: &str, stage: &str) -> Result<(PipelineId, Pipeline, StageId), AppError> {
    designer_only(viewer)?;
    let id = pipeline_id(id)?;
    let pipeline = load_pipeline(&mut state.db.read()?, viewer.org, id)?;
    let stage = stage_in(&pipeline, stage)?;
    Ok((id, pipeline, stage))
}

fn stage_in(pipeline: &Pipeline, raw: &str) -> Result<StageId, AppError> {
    raw.parse::<i64>()
        .ok()
        .map(StageId)
        .filter(|id| pipeline.stage(*id).is_some())
        .ok_or_else(|| AppError::NotFound { kind: "stage", id: raw.to_owned() })
}

pub async fn update_stage(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    Path((id, stage)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let params = Params::from_body(&body);
    let reader = viewer.clone();
    let result = blocking(move || {
        let (id, _, stage) = designer_stage(&state, &reader, &id, &stage)?;
        let (patch, errors) = stage_fields(&params, reader.user.locale);
        designer_write(&state, &reader, id, format!("stage-{stage}"), &params, errors, |tx, ctx| {
            app::designer::update_stage(tx, ctx, stage, &patch).map(|_| ())
        })
    })
    .await;
    respond(&viewer, result)
}

pub async fn move_stage(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    Path((id, stage)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let params = Params::from_body(&body);
    let reader = viewer.clone();
    let result = blocking(move || {
        let (id, pipeline, stage) = designer_stage(&state, &reader, &id, &stage)?;
        let mut order: Vec<StageId> = pipeline.stages.iter().map(|stage| stage.id).collect();
        let index = order.iter().position(|candidate| *candidate == stage).unwrap_or_default();
        match params.get("direction") {
            Some("up") if index > 0 => order.swap(index, index - 1),
            Some("down") if index + 1 < order.len() => order.swap(index, index + 1),
            _ => {}
        }
        designer_write(&state, &reader, id, format!("stage-{stage}"), &params, HashMap::new(), |tx, ctx| {
            app::designer::reorder_stages(tx, ctx, id, &order).map(|_| ())
        })
    })
    .await;
    respond(&viewer, result)
}

pub async fn archive_stage(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    Path((id, stage)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let params = Params::from_body(&body);
    let reader = viewer.clone();
    let result = blocking(move || {
        let (id, _, stage) = designer_stage(&state, &reader, &id, &stage)?;
        designer_write(&state, &reader, id, format!("stage-{stage}"), &params, HashMap::new(), |tx, ctx| {
            app::designer::archive_stage(tx, ctx, stage).map(|_| ())
        })
    })
    .await;
    respond(&viewer, result)
}

pub async fn add_criterion(State(state): State<AppState>, SignedIn(viewer): SignedIn, Path(id): Path<String>, body: Bytes) -> Response {
    let params = Params::from_body(&body);
    let reader = viewer.clone();
    let result = blocking(move || {
        designer_only(&reader)?;
        let id = pipeline_id(&id)?;
        let locale = reader.user.locale;
        let pipeline = load_pipeline(&mut state.db.read()?, reader.org, id)?;
        let stage = stage_in(&pipeline, params.raw("stage_id"))?;
        let mut errors = HashMap::new();
        let kind = match params.raw("kind") {
            "required_field" => match OppField::parse(params.raw("field")) {
                Some(field) => CriterionKind::RequiredField(field),
                None => {
                    errors.insert("field".to_owned(), i18n::problem(locale, &Problem::Required));
                    CriterionKind::Checklist
                }
            },
            "derived" => match Predicate::parse(params.raw("predicate")) {
                Ok(predicate) => CriterionKind::Derived(predicate),
                Err(problem) => {
                    errors.insert("predicate".to_owned(), i18n::problem(locale, &problem));
                    CriterionKind::Checklist
                }
            },
            _ => CriterionKind::Checklist,
        };
        if params.raw("label_en").trim().is_empty() {
            errors.insert("label_en".to_owned(), i18n::problem(locale, &Problem::Required));
        }
        let new = NewExitCriterion {
            stage_id: stage,
            label_en: params.raw("label_en").to_owned(),
            label_ko: params.raw("label_ko").to_owned(),
            kind,
            origin: CriterionOrigin::Ops,
        };
        designer_write(&state, &reader, id, format!("criterion-{stage}"), &params, errors, |tx, ctx| {
            app::gates::add_exit_criterion(tx, ctx, new).map(|_| ())
        })
    })
    .await;
    respond(&viewer, result)
}

pub async fn archive_criterion(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    Path((id, criterion)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let params = Params::from_body(&body);
    let reader = viewer.clone();
    let result = blocking(move || {
        designer_only(&reader)?;
        let id = pipeline_id(&id)?;
        let criterion: i64 = criterion.parse().map_err(|_| AppError::NotFound { kind: "exit_criterion", id: criterion.clone() })?;
        designer_write(&state, &reader, id, format!("archive-{criterion}"), &params, HashMap::new(), |tx, ctx| {
            app::gates::archive_exit_criterion(tx, ctx, criterion)
        })
    })
    .await;
    respond(&viewer, result)
}
