//! Whom the deal is shared with and, for those who may share it, the form to share it with a
//! colleague and a remove button per person.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use pipewise_app as app;
use pipewise_app::Tx;
use pipewise_core::error::Problem;
use pipewise_core::history::Source;
use pipewise_core::*;
use serde::Serialize;

use super::{DealCtx, Extras, deal_id, deal_page};
use crate::AppState;
use crate::error::AppError;
use crate::i18n::{self, t};
use crate::pages::form::error_message;
use crate::pages::list::{Choice, picker_choices};
use crate::pages::{Params, SignedIn, answer, see_other};

/// Whom the deal is shared with and, for those who may share it, the form to share it with a
/// colleague and a remove button per person.
#[derive(Serialize)]
pub(super) struct SharePanel {
    items: Vec<ShareItem>,
    /// Whether the viewer may share the deal and end its shares.
    can_share: bool,
    /// Whom the viewer may still share it with: active users but the owner and those it is
    /// shared with already.
    choices: Vec<Choice>,
    /// The select holds only the one chosen; a search box finds the rest.
    picker: bool,
    selected: String,
    error: Option<String>,
    notice: Option<String>,
}

#[derive(Serialize)]
struct ShareItem {
    user_id: i64,
    name: String,
    /// When and by whom, in words.
    detail: String,
}

/// The shares part (not in a past view); `rejected`: a refused share's chosen user and problem.
pub(super) fn panel(
    tx: &mut Tx<'_>,
    ctx: &DealCtx<'_>,
    rejected: Option<(String, String)>,
    notice: Option<String>,
) -> Result<Option<SharePanel>, AppError> {
    if ctx.as_of.is_some() {
        return Ok(None);
    }
    let (data, locale, current) = (&ctx.data, ctx.locale, &ctx.current);
    let shares = app::deals::opportunity_shares_for(tx, ctx.viewer.org, &ctx.viewer.access, ctx.id)?.unwrap_or_default();
    let can_share = ctx.can_edit && ctx.viewer.access.can_write_deal(current.owner_id, false);
    let mut choices: Vec<Choice> = if can_share {
        data.users
            .iter()
            .filter(|user| user.active && user.id != current.owner_id && !shares.iter().any(|share| share.user_id == user.id))
            .map(Choice::user)
            .collect()
    } else {
        Vec::new()
    };
    choices.sort_by_key(|choice| choice.label.to_lowercase());
    let mut items: Vec<ShareItem> = shares
        .iter()
        .map(|share| {
            let when = i18n::timestamp(locale, share.shared_at, ctx.zone);
            let who = share.shared_by.map_or_else(|| t(locale, "common.system").to_owned(), |user| data.user_name(user));
            ShareItem {
                user_id: share.user_id.0,
                name: data.user_name(share.user_id),
                detail: i18n::tf(locale, "share.entry", &[("when", &when), ("who", &who)]),
            }
        })
        .collect();
    items.sort_by_key(|item| item.name.to_lowercase());
    let (selected, error) = rejected.map_or_else(Default::default, |(selected, error)| (selected, Some(error)));
    let (choices, picker) = picker_choices(choices, &[selected.as_str()]);
    Ok(Some(SharePanel { items, can_share, choices, picker, selected, error, notice }))
}

/// Shares the deal with a colleague (`user_id`). A refused share comes back on the deal page with
/// the problem beside the form.
pub async fn share(State(state): State<AppState>, SignedIn(viewer): SignedIn, Path(id): Path<String>, body: Bytes) -> Response {
    let params = Params::from_body(&body);
    answer(viewer, move |reader| {
        let id = deal_id(&id)?;
        let locale = reader.user.locale;
        let raw = params.raw("user_id").trim().to_owned();
        let rejected = |error: String| Extras { share_rejected: Some((raw.clone(), error)), ..Extras::default() };
        let Some(user) = raw.parse::<i64>().ok().filter(|id| *id > 0).map(UserId) else {
            return deal_page(&state, reader, id, None, rejected(i18n::problem(locale, &Problem::Required)));
        };
        let ctx = reader.ctx(Source::Web, state.now());
        match state.db.transact(|tx| app::deals::share_opportunity(tx, &ctx, id, user)) {
            Ok(_) => Ok(see_other(&format!("/opportunities/{id}?share=added#shares"))),
            Err(error) => {
                let error = error_message(locale, error, Some(t(locale, "share.forbidden")))?;
                deal_page(&state, reader, id, None, rejected(error))
            }
        }
    })
    .await
}

/// Ends the share of the deal with one user. Ending a share that is gone already is no error:
/// the page shows whom the deal is shared with now.
pub async fn unshare(State(state): State<AppState>, SignedIn(viewer): SignedIn, Path((id, user)): Path<(String, String)>) -> Response {
    answer(viewer, move |reader| {
        let id = deal_id(&id)?;
        let locale = reader.user.locale;
        let user: i64 = user.parse().ok().filter(|user| *user > 0).ok_or_else(|| AppError::NotFound { kind: "user", id: user.clone() })?;
        let ctx = reader.ctx(Source::Web, state.now());
        match state.db.transact(|tx| app::deals::unshare_opportunity(tx, &ctx, id, UserId(user))) {
            Ok(_) => Ok(see_other(&format!("/opportunities/{id}?share=removed#shares"))),
            Err(error) => {
                let error = error_message(locale, error, Some(t(locale, "share.forbidden")))?;
                deal_page(&state, reader, id, None, Extras { share_rejected: Some((String::new(), error)), ..Extras::default() })
            }
        }
    })
    .await
}
