//! The current stage's gate on the deal page: its checklist, ticking an item with evidence and
//! withdrawing a tick, and the offer to grow a checklist from a loss (also on the move form).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use pipewise_app as app;
use pipewise_app::Tx;
use pipewise_core::history::Source;
use pipewise_core::opportunity::Status;
use pipewise_core::user::Locale;
use pipewise_core::*;
use serde::Serialize;

use super::{DealCtx, Extras, deal_id, deal_page};
use crate::AppState;
use crate::error::AppError;
use crate::i18n;
use crate::pages::form::error_message;
use crate::pages::gates::{self, GateView};
use crate::pages::{Params, SignedIn, answer, see_other};

/// A checklist tick that failed: which item, what was typed, and why.
#[derive(Serialize)]
pub(super) struct CheckForm {
    id: i64,
    evidence: String,
    error: String,
}

/// The offer to grow a gate's checklist from a loss.
#[derive(Serialize)]
pub(super) struct LossItemView {
    prompt: String,
    checked: bool,
    label_en: String,
    label_ko: String,
}

impl LossItemView {
    /// The offer for the gate of `stage`, with the box and the labels as typed.
    pub(super) fn new(locale: Locale, stage: &str, checked: bool, label_en: &str, label_ko: &str) -> LossItemView {
        LossItemView {
            prompt: i18n::tf(locale, "loss.add_item", &[("stage", stage)]),
            checked,
            label_en: label_en.to_owned(),
            label_ko: label_ko.to_owned(),
        }
    }
}

/// The current stage's gate as a checklist (not for a closed deal or a past view).
pub(super) fn checklist(tx: &mut Tx<'_>, ctx: &DealCtx<'_>) -> Result<Option<GateView>, AppError> {
    if ctx.as_of.is_some() || ctx.deal.status != Status::Open {
        return Ok(None);
    }
    let Some(status) = app::gates::gate_status_for(tx, ctx.viewer.org, &ctx.viewer.access, ctx.id, ctx.today)? else {
        return Ok(None);
    };
    let Some(stage_gate) = status.stages.into_iter().find(|gate| gate.stage_id == ctx.deal.stage_id) else {
        return Ok(None);
    };
    let user_name = |user: UserId| ctx.data.user_name(user);
    let stage_name = ctx.data.stage_name(ctx.locale, ctx.deal.stage_id);
    Ok(Some(gates::gate_view(stage_name, &stage_gate.criteria, ctx.locale, ctx.zone, &user_name)))
}

/// Ticks a checklist item of the deal's gate with evidence. Without evidence the deal page
/// comes back with the problem beside the item and the text as typed.
pub async fn check_criterion(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    Path((id, criterion)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let params = Params::from_body(&body);
    answer(viewer, move |reader| {
        let id = deal_id(&id)?;
        let criterion = gates::criterion_id(&criterion)?;
        let evidence = params.raw("evidence").to_owned();
        let ctx = reader.ctx(Source::Web, state.now());
        match state.db.transact(|tx| app::gates::check_criterion(tx, &ctx, id, criterion, &evidence)) {
            Ok(_) => Ok(see_other(&format!("/opportunities/{id}?gate=checked#criterion-{criterion}"))),
            Err(error) => {
                let error = error_message(reader.user.locale, error, None)?;
                let extras = Extras { check_form: Some(CheckForm { id: criterion, evidence, error }), ..Extras::default() };
                deal_page(&state, reader, id, None, extras)
            }
        }
    })
    .await
}

/// Withdraws the tick of a checklist item.
pub async fn uncheck_criterion(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    Path((id, criterion)): Path<(String, String)>,
) -> Response {
    answer(viewer, move |reader| {
        let id = deal_id(&id)?;
        let criterion = gates::criterion_id(&criterion)?;
        let ctx = reader.ctx(Source::Web, state.now());
        state.db.transact(|tx| app::gates::uncheck_criterion(tx, &ctx, id, criterion))?;
        Ok(see_other(&format!("/opportunities/{id}?gate=unchecked#criterion-{criterion}")))
    })
    .await
}
