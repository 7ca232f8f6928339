//! Moving a deal to another stage: the board's drag and drop (our script asks for JSON) and the
//! fallback form for moving without JavaScript, where a failed move explains itself (a lost
//! stage needs a reason; a gate lists what is missing and, for those who may, offers an
//! override).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use pipewise_app as app;
use pipewise_app::StoreError;
use pipewise_core::error::{FieldError, Problem, RecordRef};
use pipewise_core::gates::{MoveCheck, STAGE_1_DROP_REASONS};
use pipewise_core::history::Source;
use pipewise_core::opportunity::{Opportunity, OpportunityPatch, Status};
use pipewise_core::pipeline::StageKind;
use pipewise_core::user::Locale;
use pipewise_core::*;
use serde::Serialize;
use serde_json::json;

use super::gate::LossItemView;
use super::{deal_get, deal_id};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, blocking};
use crate::i18n::{self, t};
use crate::pages::board::BoardDeals;
use crate::pages::data::{OrgData, label};
use crate::pages::form::{named_problems, refusal};
use crate::pages::gates::{self, RefusalView};
use crate::pages::list::Choice;
use crate::pages::{Params, SignedIn, render, respond, see_other, url_with, wants_json};

#[derive(Serialize)]
struct MoveView {
    id: i64,
    name: String,
    stages: Vec<Choice>,
    stage_id: String,
    close_reason: String,
    owner: String,
    error: Option<String>,
    back_url: String,
    refusal: Option<RefusalView>,
    override_reason: String,
    loss_item: Option<LossItemView>,
    drop_reasons: Vec<String>,
}

/// The fallback form for moving a deal without JavaScript.
pub async fn move_form(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    deal_get(state, viewer, id, query, |state, reader, id, params| move_page(state, reader, id, params, None, None)).await
}

/// The move form, with what was typed in `params`, a refusal's status and message, or what a
/// gate is missing.
fn move_page(
    state: &AppState,
    viewer: &Viewer,
    id: OpportunityId,
    params: &Params,
    error: Option<(StatusCode, String)>,
    refusal: Option<&MoveCheck>,
) -> Result<Response, AppError> {
    let locale = viewer.user.locale;
    let mut tx = state.db.read()?;
    let deal = app::deals::opportunity_for(&mut tx, viewer.org, &viewer.access, id)?
        .ok_or_else(|| AppError::NotFound { kind: "opportunity", id: id.to_string() })?;
    let pipeline = app::records::pipeline(&mut tx, viewer.org, deal.pipeline_id)?
        .ok_or_else(|| AppError::NotFound { kind: "pipeline", id: deal.pipeline_id.to_string() })?;
    let owner = params.get("owner").unwrap_or_default().to_owned();
    let back_url = url_with("/board", &[("pipeline", pipeline.id.to_string()), ("owner", owner.clone())]);
    let (status, error) = match (error, refusal) {
        (Some((status, message)), _) => (status, Some(message)),
        (None, Some(_)) => (StatusCode::UNPROCESSABLE_ENTITY, None),
        (None, None) => (StatusCode::OK, None),
    };
    let current_stage = pipeline.stage(deal.stage_id);
    let stage_name = current_stage.map_or_else(String::new, |stage| i18n::stage_name(locale, stage).to_owned());
    let view = MoveView {
        id: id.0,
        name: deal.name.clone(),
        stages: pipeline
            .stages
            .iter()
            .filter(|stage| !stage.is_archived() || stage.id == deal.stage_id)
            .map(|stage| Choice::stage(locale, stage))
            .collect(),
        stage_id: params.get("stage_id").map_or_else(|| deal.stage_id.to_string(), str::to_owned),
        close_reason: params.raw("close_reason").to_owned(),
        owner,
        error,
        back_url,
        refusal: refusal.map(|check| gates::refusal(check, locale, gates::can_override(&viewer.access, deal.owner_id))),
        override_reason: params.raw("override_reason").to_owned(),
        loss_item: (deal.status == Status::Open && gates::can_grow_checklist(&viewer.access, deal.owner_id)).then(|| {
            let checked = params.get("add_criterion").is_some();
            LossItemView::new(locale, &stage_name, checked, params.raw("criterion_label_en"), params.raw("criterion_label_ko"))
        }),
        drop_reasons: if current_stage.is_some_and(|stage| stage.kind == StageKind::Open && !stage.counts_in_metrics) {
            STAGE_1_DROP_REASONS
                .iter()
                .map(|reason| match locale {
                    Locale::En => reason.en.to_owned(),
                    Locale::Ko => reason.ko.to_owned(),
                })
                .collect()
        } else {
            Vec::new()
        },
    };
    render::page(viewer, status, "move.html", "board", i18n::tf(locale, "move.title", &[("name", &deal.name)]), &view)
}

/// Moves a deal to `stage_id` (with `close_reason` for a loss, `override_reason` to push past
/// unmet gates, and `add_criterion` with its labels to grow the left stage's checklist from a
/// loss). Our script asks for JSON and gets the new column totals, or what a gate is missing; a
/// plain form post goes back to the board, or to the move form with the problem.
pub async fn move_stage(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = Params::from_body(&body);
    let json = wants_json(&headers);
    let reader = viewer.clone();
    let result = blocking(move || {
        let id = deal_id(&id)?;
        let now = state.now();
        let moved = move_deal(&state, &reader, id, &params, now);
        moved_reply(&state, &reader, id, &params, json, now, moved)
    })
    .await;
    match result {
        Err(error) if json => {
            let message = move_error_message(viewer.user.locale, &error);
            (error.status(), Json(json!({ "ok": false, "message": message, "needs_reason": false }))).into_response()
        }
        other => respond(&viewer, other),
    }
}

/// The move in one transaction: the deal after it, and the stage whose checklist grew from the
/// loss, if any.
fn move_deal(
    state: &AppState,
    viewer: &Viewer,
    id: OpportunityId,
    params: &Params,
    now: Timestamp,
) -> Result<(Opportunity, Option<StageId>), StoreError> {
    let patch = OpportunityPatch {
        stage_id: params.id("stage_id").map(StageId),
        close_reason: params.get("close_reason").map(|reason| Some(reason.to_owned())),
        gate_override_reason: params.get("override_reason").map(str::to_owned),
        ..OpportunityPatch::default()
    };
    let ctx = viewer.ctx(Source::Web, now);
    let grow = params.get("add_criterion").is_some();
    let label_en = params.get("criterion_label_en").unwrap_or_default().to_owned();
    let label_ko = params.get("criterion_label_ko").unwrap_or_default().to_owned();
    let mut grown = None;
    let deal = state.db.transact(|tx| {
        let before = app::deals::opportunity_for(tx, viewer.org, &viewer.access, id)?;
        let deal = app::deals::update_opportunity(tx, &ctx, id, &patch)?;
        if let Some(before) = before.filter(|before| grow && before.status == Status::Open && deal.status == Status::Lost) {
            if label_en.trim().is_empty() {
                let record = RecordRef::new(OpportunityId::LABEL, id.0);
                return Err(StoreError::Invalid(ValidationErrors(vec![FieldError {
                    record,
                    field: "criterion_label_en",
                    problem: Problem::Required,
                }])));
            }
            app::gates::criterion_from_loss(tx, &ctx, id, before.stage_id, &label_en, &label_ko)?;
            grown = Some(before.stage_id);
        }
        Ok(deal)
    })?;
    Ok((deal, grown))
}

/// The answer to a move: JSON for our script, else a redirect to the board or the move form
/// with the problem.
fn moved_reply(
    state: &AppState,
    viewer: &Viewer,
    id: OpportunityId,
    params: &Params,
    json: bool,
    now: Timestamp,
    moved: Result<(Opportunity, Option<StageId>), StoreError>,
) -> Result<Response, AppError> {
    let locale = viewer.user.locale;
    let owner = params.id("owner").map(UserId);
    match moved {
        Ok((deal, grown)) if json => moved_json(state, viewer, &deal, grown, owner, now),
        Ok((deal, _)) => {
            let url = url_with(
                "/board",
                &[("pipeline", deal.pipeline_id.to_string()), ("owner", owner.map(|id| id.to_string()).unwrap_or_default())],
            );
            Ok(see_other(&format!("{url}#deal-{id}")))
        }
        Err(StoreError::GateRefused(check)) => {
            let owner_id = {
                let mut tx = state.db.read()?;
                app::deals::opportunity_for(&mut tx, viewer.org, &viewer.access, id)?.map(|deal| deal.owner_id)
            };
            let can_override = owner_id.is_some_and(|owner| gates::can_override(&viewer.access, owner));
            let refusal = gates::refusal(&check, locale, can_override);
            if json {
                let body = json!({ "ok": false, "message": refusal.heading, "needs_reason": false, "gate": gates::refusal_json(&refusal) });
                return Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response());
            }
            move_page(state, viewer, id, params, None, Some(&check))
        }
        Err(error) => {
            let error = AppError::from(error);
            let needs_reason = matches!(&error, AppError::Invalid(errors) if errors.0.iter().any(|error| error.field == "close_reason"));
            let message = move_error_message(locale, &error);
            if json {
                let body = json!({ "ok": false, "message": message, "needs_reason": needs_reason });
                return Ok((error.status(), Json(body)).into_response());
            }
            let status = error.status();
            // Bad input, a forbidden or a conflicting move comes back on the form (a gate's
            // refusal is answered above); anything else is the error page.
            refusal(error)?;
            move_page(state, viewer, id, params, Some((status, message)), None)
        }
    }
}

/// The moved deal's new stage and the board's new column totals, for our script.
fn moved_json(
    state: &AppState,
    viewer: &Viewer,
    deal: &Opportunity,
    grown: Option<StageId>,
    owner: Option<UserId>,
    now: Timestamp,
) -> Result<Response, AppError> {
    let locale = viewer.user.locale;
    let insights = state.insights.as_ref().map(|_| state.insights_for(viewer.org)).transpose()?;
    let mut tx = state.db.read()?;
    let data = OrgData::load_without_accounts(&mut tx, viewer.org, now)?;
    let board = BoardDeals::load(insights.as_deref(), &mut tx, viewer, &data, Some(deal.pipeline_id), owner, now)?;
    let columns = board.map(|board| board.summaries(&data, locale)).unwrap_or_default();
    let stage_name = data.stage_name(locale, deal.stage_id);
    let mut message = i18n::tf(locale, "board.moved", &[("name", &deal.name), ("stage", &stage_name)]);
    if let Some(stage) = grown {
        message = format!("{message} {}", i18n::tf(locale, "loss.item_added", &[("stage", &data.stage_name(locale, stage))]));
    }
    let body = json!({ "ok": true, "message": message, "stage_id": deal.stage_id.0, "stage_name": stage_name, "columns": columns });
    Ok(Json(body).into_response())
}

/// A refused move in one line, for our script and the move form.
fn move_error_message(locale: Locale, error: &AppError) -> String {
    match error {
        AppError::Invalid(errors) => named_problems(locale, errors, |field| label(locale, "field", field)),
        AppError::NotFound { .. } => t(locale, "error.not_found").to_owned(),
        AppError::Forbidden(_) => t(locale, "deal.read_only").to_owned(),
        AppError::Internal(_) => t(locale, "error.internal").to_owned(),
        other => other.detail(),
    }
}
