//! The exit criterion forms of one pipeline: add a criterion to a stage (a checklist item, a
//! required field, or a derived predicate in its text form), archive one.

use pipewise_app as app;
use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use pipewise_core::error::Problem;
use pipewise_core::gates::{CriterionKind, CriterionOrigin, NewExitCriterion, Predicate};
use pipewise_core::opportunity::OppField;
use pipewise_core::user::Locale;

use super::stages::stage_in;
use super::{designer_write, for_designers, load_pipeline, pipeline_id};
use crate::AppState;
use crate::i18n;
use crate::pages::gates::criterion_id;
use crate::pages::{Params, SignedIn};

/// Reads the criterion's kind: the field a required-field criterion names, the predicate of a
/// derived one, else a checklist item. A problem goes into `errors` and leaves a checklist item.
fn criterion_kind(params: &Params, locale: Locale, errors: &mut HashMap<String, String>) -> CriterionKind {
    match params.raw("kind") {
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
    }
}

pub async fn add_criterion(State(state): State<AppState>, SignedIn(viewer): SignedIn, Path(id): Path<String>, body: Bytes) -> Response {
    let params = Params::from_body(&body);
    for_designers(viewer, move |reader| {
        let id = pipeline_id(&id)?;
        let locale = reader.user.locale;
        let pipeline = load_pipeline(&mut state.db.read()?, reader.org, id)?;
        let stage = stage_in(&pipeline, params.raw("stage_id"))?;
        let mut errors = HashMap::new();
        let kind = criterion_kind(&params, locale, &mut errors);
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
        designer_write(&state, reader, id, format!("criterion-{stage}"), &params, errors, |tx, ctx| {
            app::gates::add_exit_criterion(tx, ctx, new).map(|_| ())
        })
    })
    .await
}

pub async fn archive_criterion(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    Path((id, criterion)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let params = Params::from_body(&body);
    for_designers(viewer, move |reader| {
        let id = pipeline_id(&id)?;
        let criterion = criterion_id(&criterion)?;
        designer_write(&state, reader, id, format!("archive-{criterion}"), &params, HashMap::new(), |tx, ctx| {
            app::gates::archive_exit_criterion(tx, ctx, criterion)
        })
    })
    .await
}
