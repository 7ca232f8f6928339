//! The deal page (`/opportunities/{id}`), built from parts. [`DealCtx::load`] reads the deal the
//! viewer may see (now, or "as of" a past day) and what every part reads with it; each part
//! loads and shapes its piece of the page and handles its own forms:
//!
//! - [`summary`]: the path through the stages and the facts list;
//! - [`edit`]: the edit form and saving it;
//! - [`history`]: the history timeline and the "as of" view;
//! - [`activities`]: recent activities and open tasks;
//! - [`gate`]: the current stage's gate as a checklist, ticking and unticking its items;
//! - [`workspace`]: the deal workspace and saving one of its parts;
//! - [`handoffs`] and [`shares`]: handing the deal over, sharing it and ending a share;
//! - [`health`]: an open deal's health flags;
//! - [`win`]: an open deal's win probability with its reasons;
//! - [`moving`]: the form that moves a deal to another stage (its own page).
//!
//! A refused form comes back on the deal page ([`deal_page`] with [`Extras`]) with its
//! problems beside it and what was typed kept.

mod activities;
mod edit;
mod gate;
mod handoffs;
mod health;
mod history;
mod moving;
mod shares;
mod splits;
mod summary;
mod win;
mod workspace;

use std::collections::HashMap;

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use pipewise_app as app;
use pipewise_app::Tx;
use pipewise_core::history::HistoryEvent;
use pipewise_core::opportunity::Opportunity;
use pipewise_core::pipeline::Pipeline;
use pipewise_core::user::Locale;
use pipewise_core::{Date, OpportunityId, Timestamp};
use serde::Serialize;

use super::data::{OrgData, can_change, label};
use super::gates::{GateView, RefusalView};
use super::list::Choice;
use super::workspace::{FieldErrors, PARTS, WorkspaceView};
use super::{Params, SignedIn, answer, path_id, render};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::AppError;
use crate::i18n::{self, t};

pub use edit::update;
pub use gate::{check_criterion, uncheck_criterion};
pub use handoffs::hand_off;
pub use moving::{move_form, move_stage};
pub use shares::{share, unshare};
pub use splits::{set as set_splits, set_billing};
pub use workspace::update_workspace;

/// The template context of the deal page (`deal.html`).
#[derive(Serialize)]
struct DealView {
    id: i64,
    name: String,
    status: &'static str,
    status_label: String,
    stage_name: String,
    pipeline_name: String,
    amount: Option<String>,
    steps: Vec<summary::StepView>,
    fields: Vec<summary::FieldView>,
    can_edit: bool,
    read_only: Option<String>,
    form: edit::DealForm,
    errors: HashMap<&'static str, String>,
    error_banner: Option<String>,
    notice: Option<String>,
    accounts: Vec<Choice>,
    owners: Vec<Choice>,
    owner_picker: bool,
    /// The account select holds only the deal's account; a search box finds the others.
    account_picker: bool,
    stages: Vec<Choice>,
    categories: Vec<Choice>,
    history: Vec<history::HistoryView>,
    /// "The latest 50 of 2,177 changes · show all" when the timeline is cut.
    history_more: Option<history::HistoryMore>,
    activities: Vec<activities::ActivityView>,
    /// Inbound and outbound counted apart (the buyer's interest beside the rep's work).
    touches: activities::Touches,
    tasks: Vec<activities::TaskView>,
    as_of: Option<history::AsOfView>,
    as_of_value: String,
    board_url: String,
    gate: Option<GateView>,
    gate_notice: Option<String>,
    check_form: Option<gate::CheckForm>,
    refusal: Option<RefusalView>,
    override_reason: String,
    loss_item: Option<gate::LossItemView>,
    workspace: Option<WorkspaceView>,
    handoff: Option<handoffs::HandoffPanel>,
    shares: Option<shares::SharePanel>,
    splits: Option<splits::SplitPanel>,
    /// The open deal's health flags today with their reasons (none as of a past day).
    health: Vec<super::dashboard::Badge>,
    /// The open deal's win probability today with its reasons (none as of a past day).
    win: Option<win::WinPanel>,
}

pub async fn show(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    deal_get(state, viewer, id, query, |state, reader, id, params| {
        deal_page(state, reader, id, params.get("as_of"), Extras::notices(reader.user.locale, params))
    })
    .await
}

/// A page of one deal for a GET (`/opportunities/{id}…`): `page` answers for the deal the path
/// names, with the query's parameters.
async fn deal_get(
    state: AppState,
    viewer: Viewer,
    id: String,
    query: Option<String>,
    page: fn(&AppState, &Viewer, OpportunityId, &Params) -> Result<Response, AppError>,
) -> Response {
    let params = Params::parse(query.as_deref());
    answer(viewer, move |reader| page(&state, reader, deal_id(&id)?, &params)).await
}

fn deal_id(raw: &str) -> Result<OpportunityId, AppError> {
    path_id(raw, "opportunity").map(OpportunityId)
}

/// What a deal page shows besides the deal: a refused form, a notice, a failed tick, a refused
/// or saved workspace part.
#[derive(Default)]
struct Extras {
    /// `?history=all`: every entry of the timeline, not the latest ones.
    history_all: bool,
    rejected: Option<edit::Rejected>,
    notice: Option<String>,
    gate_notice: Option<String>,
    check_form: Option<gate::CheckForm>,
    workspace_rejected: Option<(String, Params, FieldErrors)>,
    saved_part: Option<String>,
    /// A refused handoff: the chosen user, the note as typed, and what is wrong.
    handoff_rejected: Option<(String, String, String)>,
    handoff_notice: Option<String>,
    /// A refused share: the chosen user and what is wrong.
    share_rejected: Option<(String, String)>,
    share_notice: Option<String>,
    /// A refused split form: what is wrong.
    split_rejected: Option<String>,
    split_notice: Option<String>,
}

impl Extras {
    /// The notices a redirect after a successful form asks for (`?saved=1`, `?gate=checked`…).
    fn notices(locale: Locale, params: &Params) -> Extras {
        Extras {
            notice: params.get("saved").map(|_| t(locale, "deal.saved").to_owned()),
            gate_notice: match params.get("gate") {
                Some("checked") => Some(t(locale, "gate.checked").to_owned()),
                Some("unchecked") => Some(t(locale, "gate.unchecked").to_owned()),
                _ => None,
            },
            saved_part: params.get("workspace").filter(|part| PARTS.contains(part)).map(str::to_owned),
            handoff_notice: params.get("handoff").map(|_| t(locale, "handoff.done").to_owned()),
            share_notice: match params.get("share") {
                Some("added") => Some(t(locale, "share.added").to_owned()),
                Some("removed") => Some(t(locale, "share.removed").to_owned()),
                _ => None,
            },
            split_notice: match params.get("split") {
                Some("billed") => Some(t(locale, "billing.saved").to_owned()),
                Some(_) => Some(t(locale, "split.saved").to_owned()),
                None => None,
            },
            history_all: params.get("history") == Some("all"),
            ..Extras::default()
        }
    }

    /// Whether a form other than the edit form was refused (the page answers 422).
    fn other_form_rejected(&self) -> bool {
        self.workspace_rejected.is_some()
            || self.check_form.is_some()
            || self.handoff_rejected.is_some()
            || self.share_rejected.is_some()
            || self.split_rejected.is_some()
    }
}

/// The deal a page shows and what every part reads with it.
struct DealCtx<'a> {
    viewer: &'a Viewer,
    locale: Locale,
    zone: &'a str,
    now: Timestamp,
    /// Today in the reader's time zone.
    today: Date,
    id: OpportunityId,
    /// The deal now.
    current: Opportunity,
    /// The deal as shown: now, or as of the end of the chosen day.
    deal: Opportunity,
    data: OrgData,
    /// The shown deal's pipeline.
    pipeline: Pipeline,
    /// The end of the chosen day, for a past view.
    as_of: Option<Timestamp>,
    /// Whether the viewer may change the deal (never in a past view).
    can_edit: bool,
}

impl<'a> DealCtx<'a> {
    /// Reads the deal (404 when the viewer may not see it), the organisation's data and the
    /// deal's history, "as of" the end of the day `as_of` names when given.
    fn load(
        state: &AppState,
        viewer: &'a Viewer,
        tx: &mut Tx<'_>,
        id: OpportunityId,
        as_of: Option<&str>,
    ) -> Result<(DealCtx<'a>, Vec<HistoryEvent>, Option<history::AsOfView>), AppError> {
        let zone = viewer.user.time_zone.as_str();
        let now = state.now();
        let not_found = || AppError::NotFound { kind: "opportunity", id: id.to_string() };
        let current = app::deals::opportunity_for(tx, viewer.org, &viewer.access, id)?.ok_or_else(not_found)?;
        let mut data = OrgData::load_without_accounts(tx, viewer.org, now)?;
        let mut events = app::deals::history_for(tx, viewer.org, &viewer.access, id)?.ok_or_else(not_found)?;
        let (deal, as_of) = history::as_of(tx, viewer, id, &current, &mut events, as_of)?;
        // The accounts the page names: the deal's, now and as of the day shown, and those its
        // history moved it between.
        let in_history = events
            .iter()
            .filter(|event| event.field == pipewise_core::opportunity::OppField::Account)
            .flat_map(|event| [event.old.as_deref(), event.new.as_deref()])
            .filter_map(|raw| raw?.parse().ok().map(pipewise_core::AccountId));
        data.load_accounts(tx, current.account_id.into_iter().chain(deal.account_id).chain(in_history))?;
        data.load_accounts_for_select(tx)?;
        let pipeline = data.pipeline(deal.pipeline_id).cloned().ok_or_else(not_found)?;
        let can_edit = as_of.is_none() && can_change(viewer, &current);
        let (at, as_of_view) = as_of.map_or((None, None), |(at, view)| (Some(at), Some(view)));
        let today = viewer.today(now);
        let ctx = DealCtx { viewer, locale: viewer.user.locale, zone, now, today, id, current, deal, data, pipeline, as_of: at, can_edit };
        Ok((ctx, events, as_of_view))
    }
}

/// The deal page: each part loads its piece, and the page puts them together.
fn deal_page(state: &AppState, viewer: &Viewer, id: OpportunityId, as_of: Option<&str>, extras: Extras) -> Result<Response, AppError> {
    let mut tx = state.db.read()?;
    let (mut ctx, events, as_of_view) = DealCtx::load(state, viewer, &mut tx, id, as_of)?;
    // A refused edit shows the account it chose, which need not be among those loaded.
    if let Some(account) = extras.rejected.as_ref().and_then(edit::Rejected::chosen_account) {
        ctx.data.load_accounts(&mut tx, [account])?;
    }
    let locale = ctx.locale;
    let (history, history_total) = history::history(&mut tx, &ctx, &events, extras.history_all)?;
    let history_more = if extras.history_all { None } else { history::cut(history_total, locale, id, as_of) };
    let (activities, touches) = activities::activities(&mut tx, &ctx)?;
    let tasks = activities::tasks(&mut tx, &ctx)?;
    let other_form_rejected = extras.other_form_rejected();
    let edit = edit::part(&ctx, extras.rejected, other_form_rejected);
    let gate = gate::checklist(&mut tx, &ctx)?;
    let workspace = workspace::part(&mut tx, &ctx, extras.workspace_rejected.as_ref(), extras.saved_part.as_deref())?;
    let handoff = handoffs::panel(&mut tx, &ctx, extras.handoff_rejected, extras.handoff_notice)?;
    let shares = shares::panel(&mut tx, &ctx, extras.share_rejected, extras.share_notice)?;
    let splits = splits::panel(&mut tx, &ctx, extras.split_rejected, extras.split_notice)?;
    let health = health::badges(state, &ctx);
    let win = win::panel(state, &mut tx, &ctx);
    let deal = &ctx.deal;
    let view = DealView {
        id: id.0,
        name: deal.name.clone(),
        status: deal.status.as_str(),
        status_label: label(locale, "status", deal.status.as_str()),
        stage_name: ctx.data.stage_name(locale, deal.stage_id),
        pipeline_name: ctx.pipeline.name.clone(),
        amount: deal.amount.map(|amount| i18n::money(locale, amount)),
        steps: summary::steps(&ctx),
        fields: summary::fields(&ctx),
        can_edit: ctx.can_edit,
        read_only: (as_of_view.is_none() && !ctx.can_edit).then(|| t(locale, "deal.read_only").to_owned()),
        form: edit.form,
        errors: edit.errors,
        error_banner: edit.error_banner,
        notice: extras.notice,
        accounts: edit.accounts,
        owners: edit.owners,
        owner_picker: edit.owner_picker,
        account_picker: !ctx.data.every_account,
        stages: edit.stages,
        categories: edit.categories,
        history,
        history_more,
        activities,
        touches,
        tasks,
        as_of_value: as_of_view.as_ref().map(|view| view.value.clone()).unwrap_or_default(),
        as_of: as_of_view,
        board_url: format!("/board?pipeline={}", ctx.pipeline.id),
        gate,
        gate_notice: extras.gate_notice,
        check_form: extras.check_form,
        refusal: edit.refusal,
        override_reason: edit.override_reason,
        loss_item: edit.loss_item,
        workspace: Some(workspace),
        handoff,
        shares,
        splits,
        health,
        win,
    };
    render::page(viewer, edit.status, "deal.html", "deals", deal.name.clone(), &view)
}
