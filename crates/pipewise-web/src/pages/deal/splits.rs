//! Who is credited with the deal (SPEC C9): its revenue and overlay splits, and, for ops, admins
//! and the owner's managers, a form to set them (`pipewise_app::pay::set_splits`); when it was
//! invoiced and its cash received, which plans paid on invoice or cash count by, set by ops and
//! admins (`pipewise_app::pay::set_billing`).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use pipewise_app as app;
use pipewise_app::Tx;
use pipewise_comp::SplitKind;
use pipewise_core::access::Access;
use pipewise_core::history::Source;
use pipewise_core::money::Decimal;
use pipewise_core::user::Role;
use pipewise_core::*;
use serde::Serialize;

use super::{DealCtx, Extras, deal_id, deal_page};
use crate::AppState;
use crate::i18n::{self, t};
use crate::pages::form::{Refusal, error_message, named_problems, refusal};
use crate::pages::list::{Choice, picker_choices};
use crate::pages::{Params, SignedIn, answer, see_other};

/// Rows the form offers at least (one more than the deal has), and reads at most.
const ROWS: usize = 4;
const MAX_ROWS: usize = 50;

#[derive(Serialize)]
pub(super) struct SplitPanel {
    items: Vec<SplitItem>,
    can_split: bool,
    rows: Vec<SplitRow>,
    people: Vec<Choice>,
    /// Each person select holds only the one chosen; a search box finds the rest.
    picker: bool,
    error: Option<String>,
    notice: Option<String>,
    /// The invoice and cash dates as the form shows them (`YYYY-MM-DD`, empty when unset).
    invoiced_on: String,
    paid_on: String,
    can_bill: bool,
}

#[derive(Serialize)]
struct SplitItem {
    name: String,
    kind: String,
    share: String,
}

#[derive(Serialize)]
struct SplitRow {
    user: String,
    kind: &'static str,
    share: String,
}

fn percent(share: Decimal) -> String {
    (share * Decimal::ONE_HUNDRED).normalize().to_string()
}

/// The splits part (not in a past view); `rejected`: a refused form's problem.
pub(super) fn panel(
    tx: &mut Tx<'_>,
    ctx: &DealCtx<'_>,
    rejected: Option<String>,
    notice: Option<String>,
) -> Result<Option<SplitPanel>, crate::error::AppError> {
    if ctx.as_of.is_some() {
        return Ok(None);
    }
    let (data, locale, current) = (&ctx.data, ctx.locale, &ctx.current);
    let splits = app::pay::splits_of(tx, ctx.viewer.org, &ctx.viewer.access, ctx.id)?.unwrap_or_default();
    let can_split = match &ctx.viewer.access {
        Access::System => true,
        Access::User(actor) => {
            matches!(actor.role, Role::Admin | Role::Ops)
                || (actor.role == Role::Manager && actor.tree.contains(&current.owner_id) && actor.user_id != current.owner_id)
        }
    };
    let kind_label = |overlay: bool| t(locale, if overlay { "pay.split.overlay" } else { "pay.split.revenue" }).to_owned();
    let items = splits
        .iter()
        .map(|split| SplitItem {
            name: data.user_name(split.user),
            kind: kind_label(split.overlay),
            share: format!("{}%", percent(split.share)),
        })
        .collect();
    let mut rows: Vec<SplitRow> = splits
        .iter()
        .map(|split| SplitRow {
            user: split.user.to_string(),
            kind: if split.overlay { "overlay" } else { "revenue" },
            share: percent(split.share),
        })
        .collect();
    if rows.is_empty() {
        rows.push(SplitRow { user: current.owner_id.to_string(), kind: "revenue", share: "100".into() });
    }
    while rows.len() < ROWS {
        rows.push(SplitRow { user: String::new(), kind: "revenue", share: String::new() });
    }
    let mut people: Vec<Choice> =
        if can_split { data.users.iter().filter(|user| user.active).map(Choice::user).collect() } else { Vec::new() };
    people.sort_by_key(|choice| choice.label.to_lowercase());
    let chosen: Vec<&str> = rows.iter().map(|row| row.user.as_str()).collect();
    let (people, picker) = picker_choices(people, &chosen);
    let billing = app::pay::billing_of(tx, ctx.viewer.org, &ctx.viewer.access, ctx.id)?;
    let day = |day: Option<Date>| day.map(|day| day.to_string()).unwrap_or_default();
    let (invoiced_on, paid_on) = billing.map_or_else(Default::default, |billing| (day(billing.invoiced_on), day(billing.paid_on)));
    let can_bill = match &ctx.viewer.access {
        Access::System => true,
        Access::User(actor) => matches!(actor.role, Role::Admin | Role::Ops),
    };
    Ok(Some(SplitPanel { items, can_split, rows, people, picker, error: rejected, notice, invoiced_on, paid_on, can_bill }))
}

/// Sets the deal's splits from the form's rows (`user_N`, `kind_N`, `share_N` in percent; a row
/// without a person is left out). A refusal comes back on the deal page with the problem.
pub async fn set(State(state): State<AppState>, SignedIn(viewer): SignedIn, Path(id): Path<String>, body: Bytes) -> Response {
    let params = Params::from_body(&body);
    answer(viewer, move |reader| {
        let id = deal_id(&id)?;
        let locale = reader.user.locale;
        let mut splits = Vec::new();
        for row in 0..MAX_ROWS {
            let Some(user) = params.id(&format!("user_{row}")) else { continue };
            let kind = if params.get(&format!("kind_{row}")) == Some("overlay") { SplitKind::Overlay } else { SplitKind::Revenue };
            let raw = params.raw(&format!("share_{row}")).trim().trim_end_matches('%').to_owned();
            let Ok(percent) = raw.parse::<Decimal>() else {
                let error = i18n::tf(locale, "split.bad_share", &[("value", &raw)]);
                return deal_page(&state, reader, id, None, Extras { split_rejected: Some(error), ..Extras::default() });
            };
            splits.push((UserId(user), kind, percent / Decimal::ONE_HUNDRED));
        }
        let ctx = reader.ctx(Source::Web, state.now());
        match state.db.transact(|tx| app::pay::set_splits(tx, &ctx, id, &splits)) {
            Ok(_) => Ok(see_other(&format!("/opportunities/{id}?split=saved#splits"))),
            Err(error) => {
                let error = error_message(locale, error, Some(t(locale, "split.forbidden")))?;
                deal_page(&state, reader, id, None, Extras { split_rejected: Some(error), ..Extras::default() })
            }
        }
    })
    .await
}

/// Sets the deal's invoice and cash dates from the form (`invoiced_on`, `paid_on`; empty clears
/// one). A refusal comes back on the deal page with the problem.
pub async fn set_billing(State(state): State<AppState>, SignedIn(viewer): SignedIn, Path(id): Path<String>, body: Bytes) -> Response {
    let params = Params::from_body(&body);
    answer(viewer, move |reader| {
        let id = deal_id(&id)?;
        let locale = reader.user.locale;
        let ctx = reader.ctx(Source::Web, state.now());
        let (invoiced_on, paid_on) = (params.get("invoiced_on"), params.get("paid_on"));
        match state.db.transact(|tx| app::pay::set_billing(tx, &ctx, id, invoiced_on, paid_on)) {
            Ok(_) => Ok(see_other(&format!("/opportunities/{id}?split=billed#splits"))),
            Err(error) => {
                let error = match refusal(error)? {
                    Refusal::Invalid(errors) => named_problems(locale, &errors, |field| {
                        t(locale, if field == "paid_on" { "billing.paid_on" } else { "billing.invoiced_on" }).to_owned()
                    }),
                    Refusal::Forbidden(_) => t(locale, "billing.forbidden").to_owned(),
                    other => return Err(other.into()),
                };
                deal_page(&state, reader, id, None, Extras { split_rejected: Some(error), ..Extras::default() })
            }
        }
    })
    .await
}
