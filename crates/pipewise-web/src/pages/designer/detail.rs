//! The page of one pipeline: its stages in order with their deal counts and exit criteria, and
//! the forms to change them.

use pipewise_app as app;
use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use pipewise_app::OpportunityFilter;
use pipewise_core::PipelineId;
use pipewise_core::gates::{CriterionKind, CriterionOrigin, ExitCriterion};
use pipewise_core::opportunity::{OppField, Opportunity};
use pipewise_core::pipeline::{Pipeline, StageKind};
use pipewise_core::user::Locale;
use serde::Serialize;

use super::{for_designers, load_pipeline, pipeline_id};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::AppError;
use crate::i18n::{self, t};
use crate::pages::data::label;
use crate::pages::gates::form_input;
use crate::pages::list::Choice;
use crate::pages::{Params, SignedIn, render};

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
pub(super) struct Failed {
    pub(super) form: String,
    pub(super) errors: HashMap<String, String>,
    pub(super) values: HashMap<String, String>,
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
    for_designers(viewer, move |reader| {
        let id = pipeline_id(&id)?;
        let locale = reader.user.locale;
        let notice = match (params.get("created"), params.get("saved")) {
            (Some(_), _) => Some(t(locale, "designer.created").to_owned()),
            (_, Some(_)) => Some(t(locale, "designer.saved").to_owned()),
            _ => None,
        };
        detail_page(&state, reader, id, Failed::default(), notice)
    })
    .await
}

/// The page of pipeline `id`; `422` when `failed` names a refused form.
pub(super) fn detail_page(
    state: &AppState,
    viewer: &Viewer,
    id: PipelineId,
    failed: Failed,
    notice: Option<String>,
) -> Result<Response, AppError> {
    let locale = viewer.user.locale;
    let mut tx = state.db.read()?;
    let pipeline = load_pipeline(&mut tx, viewer.org, id)?;
    let criteria = app::gates::exit_criteria_for(&mut tx, viewer.org, &viewer.access, id)?;
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
            .map(|stage| Choice::stage(locale, stage))
            .collect(),
        categories: Choice::forecast_categories(locale),
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
        fields: field_choices(locale),
        failed,
        notice,
    };
    let status = if view.failed.form.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render::page(viewer, status, "pipeline.html", "pipelines", view.name.clone(), &view)
}

/// The deal fields a required-field criterion may name.
fn field_choices(locale: Locale) -> Vec<Choice> {
    OppField::ALL
        .iter()
        .filter(|field| form_input(**field).is_some() && !matches!(field, OppField::Name | OppField::Owner | OppField::Stage))
        .map(|field| Choice { value: field.as_str().to_owned(), label: label(locale, "field", form_input(*field).unwrap_or_default()) })
        .collect()
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
            CriterionKind::RequiredField(field) => Some(label(locale, "field", form_input(*field).unwrap_or(field.as_str()))),
            CriterionKind::Derived(predicate) => Some(predicate.encode()),
        },
        from_loss: matches!(criterion.origin, CriterionOrigin::LossReview { .. }),
    }
}
