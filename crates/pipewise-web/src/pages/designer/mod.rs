//! The pipeline designer for ops and admins (`/admin/pipelines`): create a pipeline from a
//! template, rename it, set its entry stage, add, edit, reorder and archive stages (never delete
//! them), and manage each stage's exit criteria, including derived ones written in the predicate
//! text form (`gates::Predicate::parse`). Everyone else gets the 403 page.
//!
//! Every form posts and comes back with `303` on success; a refused form shows the page again
//! with each problem beside its field and what was typed kept.
//!
//! This module has the list of pipelines, creating and renaming one, and what every form shares;
//! `detail` the page of one pipeline, `stages` the stage forms and `criteria` the exit criterion
//! forms.

mod criteria;
mod detail;
mod stages;

use pipewise_app as app;
use std::collections::HashMap;

use app::designer::PipelineTemplate;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use pipewise_core::pipeline::{Pipeline, PipelinePatch};
use pipewise_core::user::Role;
use pipewise_core::{OrgId, PipelineId, StageId};
use serde::Serialize;

use super::form::{Refusal, by_field, refusal};
use super::list::Choice;
use super::{Params, SignedIn, answer, path_id, render, see_other};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::AppError;
use crate::i18n::{self, t};

pub use criteria::{add_criterion, archive_criterion};
pub use detail::pipeline;
pub use stages::{add_stage, archive_stage, move_stage, update_stage};

use detail::{Failed, detail_page};

fn designer_only(viewer: &Viewer) -> Result<(), AppError> {
    if matches!(viewer.user.role, Role::Admin | Role::Ops) {
        Ok(())
    } else {
        Err(AppError::Forbidden(t(viewer.user.locale, "error.ops_only").to_owned()))
    }
}

/// [`answer`] for the designer's pages and forms: ops and admins only, anyone else gets the 403
/// page.
async fn for_designers(viewer: Viewer, work: impl FnOnce(&Viewer) -> Result<Response, AppError> + Send + 'static) -> Response {
    answer(viewer, move |reader| {
        designer_only(reader)?;
        work(reader)
    })
    .await
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
    for_designers(viewer, move |reader| {
        let notice = params.get("saved").map(|_| t(reader.user.locale, "designer.saved").to_owned());
        list_page(&state, reader, StatusCode::OK, HashMap::new(), &Params::default(), notice)
    })
    .await
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
        let criteria = app::gates::exit_criteria_for(&mut tx, viewer.org, &viewer.access, pipeline.id)?;
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
    for_designers(viewer, move |reader| {
        let locale = reader.user.locale;
        let template = match PipelineTemplate::parse(params.raw("template")) {
            Ok(template) => template,
            Err(problem) => {
                let errors = HashMap::from([("template".to_owned(), i18n::problem(locale, &problem))]);
                return list_page(&state, reader, StatusCode::UNPROCESSABLE_ENTITY, errors, &params, None);
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
                    list_page(&state, reader, StatusCode::UNPROCESSABLE_ENTITY, errors, &params, None)
                }
                other => Err(other.into()),
            },
        }
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// What the forms of one pipeline share.

fn pipeline_id(raw: &str) -> Result<PipelineId, AppError> {
    path_id(raw, "pipeline").map(PipelineId)
}

fn load_pipeline(tx: &mut pipewise_app::Tx, org: OrgId, id: PipelineId) -> Result<Pipeline, AppError> {
    app::records::pipeline(tx, org, id)?.ok_or_else(|| AppError::NotFound { kind: "pipeline", id: id.to_string() })
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

/// Renames the pipeline and sets its entry stage.
pub async fn update(State(state): State<AppState>, SignedIn(viewer): SignedIn, Path(id): Path<String>, body: Bytes) -> Response {
    let params = Params::from_body(&body);
    for_designers(viewer, move |reader| {
        let id = pipeline_id(&id)?;
        let patch = PipelinePatch { name: Some(params.raw("name").to_owned()), entry_stage_id: params.id("entry_stage_id").map(StageId) };
        designer_write(&state, reader, id, "pipeline".into(), &params, HashMap::new(), |tx, ctx| {
            app::designer::update_pipeline(tx, ctx, id, &patch).map(|_| ())
        })
    })
    .await
}
