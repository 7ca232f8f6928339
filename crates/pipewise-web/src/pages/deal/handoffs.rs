//! The deal's handoffs and, for those who may hand it over, the "Hand over to…" form.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use pipewise_app as app;
use pipewise_app::Tx;
use pipewise_core::error::Problem;
use pipewise_core::history::Source;
use pipewise_core::opportunity::Status;
use pipewise_core::*;
use serde::Serialize;

use super::{DealCtx, Extras, deal_id, deal_page};
use crate::AppState;
use crate::error::AppError;
use crate::i18n::{self, t};
use crate::pages::form::error_message;
use crate::pages::list::{Choice, picker_choices};
use crate::pages::{Params, SignedIn, answer, see_other};

/// The deal's handoffs and, for those who may hand it over, the "Hand over to…" form.
#[derive(Serialize)]
pub(super) struct HandoffPanel {
    items: Vec<HandoffItem>,
    /// Who the viewer may hand the deal to; empty: no form.
    choices: Vec<Choice>,
    /// The select holds only the one chosen; a search box finds the rest.
    picker: bool,
    selected: String,
    note: String,
    error: Option<String>,
    notice: Option<String>,
}

#[derive(Serialize)]
struct HandoffItem {
    from: String,
    to: String,
    /// Who performed it, when not the one who handed it over.
    by: Option<String>,
    stage: String,
    when: String,
    note: Option<String>,
}

/// The handoffs part (not in a past view); `rejected`: a refused handoff's chosen user, note as
/// typed, and problem.
pub(super) fn panel(
    tx: &mut Tx<'_>,
    ctx: &DealCtx<'_>,
    rejected: Option<(String, String, String)>,
    notice: Option<String>,
) -> Result<Option<HandoffPanel>, AppError> {
    if ctx.as_of.is_some() {
        return Ok(None);
    }
    let (data, locale) = (&ctx.data, ctx.locale);
    let items = app::handoffs::handoffs_for(tx, ctx.viewer.org, &ctx.viewer.access, ctx.id)?
        .unwrap_or_default()
        .into_iter()
        .rev()
        .map(|handoff| HandoffItem {
            from: data.user_name(handoff.from_user_id),
            to: data.user_name(handoff.to_user_id),
            by: handoff.actor_id.filter(|actor| *actor != handoff.from_user_id).map(|actor| data.user_name(actor)),
            stage: data.stage_name(locale, handoff.stage_id),
            when: i18n::timestamp(locale, handoff.at, ctx.zone),
            note: handoff.note,
        })
        .collect();
    let (selected, note, error) = rejected.map_or_else(Default::default, |(to, note, error)| (to, note, Some(error)));
    let (choices, picker) = picker_choices(choices(tx, ctx)?, &[selected.as_str()]);
    Ok(Some(HandoffPanel { items, choices, picker, selected, note, error, notice }))
}

/// Whom the viewer may hand the open deal to, by name; none when they may not hand it over.
fn choices(tx: &mut Tx<'_>, ctx: &DealCtx<'_>) -> Result<Vec<Choice>, AppError> {
    let (viewer, current) = (ctx.viewer, &ctx.current);
    if !(ctx.can_edit && viewer.access.can_write_deal(current.owner_id, false) && current.status == Status::Open) {
        return Ok(Vec::new());
    }
    let inside_sales = app::handoffs::is_inside_sales_case(tx, viewer.org, current)?;
    let mut choices: Vec<Choice> = ctx
        .data
        .users
        .iter()
        .filter(|user| user.active && app::handoffs::may_hand_off_to(&viewer.access, current, inside_sales, user))
        .map(Choice::user)
        .collect();
    choices.sort_by_key(|choice| choice.label.to_lowercase());
    Ok(choices)
}

/// Hands the deal to another user (`to_user_id`, `note`). A refused handoff comes back on the
/// deal page with the problem beside the form; after a handoff the viewer returns to the deal if
/// they may still see it, else to the list of deals.
pub async fn hand_off(State(state): State<AppState>, SignedIn(viewer): SignedIn, Path(id): Path<String>, body: Bytes) -> Response {
    let params = Params::from_body(&body);
    answer(viewer, move |reader| {
        let id = deal_id(&id)?;
        let locale = reader.user.locale;
        let to_raw = params.raw("to_user_id").trim().to_owned();
        let note = params.raw("note").to_owned();
        let rejected = |error: String| Extras { handoff_rejected: Some((to_raw.clone(), note.clone(), error)), ..Extras::default() };
        let Some(to_user) = to_raw.parse::<i64>().ok().filter(|id| *id > 0).map(UserId) else {
            return deal_page(&state, reader, id, None, rejected(i18n::problem(locale, &Problem::Required)));
        };
        let ctx = reader.ctx(Source::Web, state.now());
        match state.db.transact(|tx| app::handoffs::hand_off(tx, &ctx, id, to_user, Some(&note))) {
            Ok(_) => {
                let mut tx = state.db.read()?;
                if app::deals::opportunity_for(&mut tx, reader.org, &reader.access, id)?.is_some() {
                    Ok(see_other(&format!("/opportunities/{id}?handoff=done#handoffs")))
                } else {
                    Ok(see_other("/opportunities"))
                }
            }
            Err(error) => {
                let error = error_message(locale, error, Some(t(locale, "handoff.forbidden")))?;
                deal_page(&state, reader, id, None, rejected(error))
            }
        }
    })
    .await
}
