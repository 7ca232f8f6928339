//! Deals: the list (`/opportunities`), the deal page with its edit form, history timeline,
//! "as of" view, activities, handoffs and shares (whom it is shared with, sharing it with a
//! colleague and ending a share), and moving a deal to another stage.

use pipewise_app as app;
use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use pipewise_app::{OpportunityFilter, StoredOverride, TaskFilter};
use pipewise_core::error::{Problem, RecordRef};
use pipewise_core::gates::MoveCheck;
use pipewise_core::history::HistoryEvent;
use pipewise_core::opportunity::{OppField, Opportunity, OpportunityPatch, Status};
use pipewise_core::pipeline::{ForecastCategory, StageKind};
use pipewise_core::time::parse_date;
use pipewise_core::user::Locale;
use pipewise_core::*;
use serde::Serialize;
use serde_json::json;

use super::board::BoardDeals;
use super::data::{OrgData, can_change, end_of_day, label, today_in};
use super::gates::{self, GateView, RefusalView};
use super::list::{Cell, Choice, Column, Filter, List, Row, SortKey};
use super::workspace::{self, WorkspaceView};
use super::{Params, SignedIn, render, respond, see_other, wants_json};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, blocking};
use crate::i18n::{self, t};

// ---------------------------------------------------------------------------------------------
// The list.

pub async fn list(State(state): State<AppState>, SignedIn(viewer): SignedIn, RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query.as_deref());
    let reader = viewer.clone();
    let result = blocking(move || deal_list(&state, &reader, &params)?.respond(&reader, &params)).await;
    respond(&viewer, result)
}

fn deal_list(state: &AppState, viewer: &Viewer, params: &Params) -> Result<List, AppError> {
    let locale = viewer.user.locale;
    let now = state.now();
    let zone = viewer.user.time_zone.as_str();
    let mut tx = state.db.read()?;
    let data = OrgData::load(&mut tx, viewer.org, now)?;
    // A dashboard drill-down (`?figure=…`): the deals behind that figure, whose owner and
    // pipeline filters name the figure's subject as of its date (not today's owner).
    let drill = super::dashboard::drill(state, viewer, &mut tx, &data, params)?;
    let status = match params.get("status") {
        Some("all") => None,
        Some(other) => Status::parse(other).ok().or(Some(Status::Open)),
        None if drill.is_some() => None,
        None => Some(Status::Open),
    };
    let filter = OpportunityFilter {
        owner_id: params.id("owner").map(UserId).filter(|_| drill.is_none()),
        pipeline_id: params.id("pipeline").map(PipelineId).filter(|_| drill.is_none()),
        status,
        // A drill-down reads the deals behind its figure only (still through the viewer's
        // visibility), not every deal of the organisation.
        ids: drill.as_ref().map(|drill| drill.ids.iter().copied().collect()),
        ..OpportunityFilter::default()
    };
    let mut deals = app::deals::opportunities_for(&mut tx, viewer.org, &viewer.access, &filter)?;
    if let Some(stage) = params.id("stage") {
        deals.retain(|deal| deal.stage_id.0 == stage);
    }
    if let Some(query) = params.get("q").map(str::to_lowercase) {
        deals.retain(|deal| {
            deal.name.to_lowercase().contains(&query)
                || data.account_name(deal.account_id).is_some_and(|name| name.to_lowercase().contains(&query))
        });
    }
    // The latest activity of each deal listed: by the deals for a short list, else in one scan.
    let ids: Vec<OpportunityId> = deals.iter().map(|deal| deal.id).collect();
    let only = (ids.len() <= 20_000).then_some(ids.as_slice());
    let last_activity: HashMap<OpportunityId, Timestamp> =
        app::activities::last_activity_at(&mut tx, viewer.org, only)?.into_iter().collect();
    let today = today_in(now, zone);
    let columns = vec![
        Column::new(locale, "name", "field.name"),
        Column::new(locale, "account", "field.account_id"),
        Column::new(locale, "pipeline", "field.pipeline_id"),
        Column::new(locale, "stage", "field.stage_id"),
        Column::new(locale, "amount", "field.amount").numeric(),
        Column::new(locale, "close_date", "field.close_date"),
        Column::new(locale, "forecast", "field.forecast_category"),
        Column::new(locale, "owner", "field.owner_id"),
        Column::new(locale, "last_activity", "field.last_activity"),
        Column::new(locale, "status", "field.status"),
    ];
    let rows =
        deals
            .iter()
            .map(|deal| {
                let stage = data.stage(deal.stage_id);
                let overdue = deal.status == Status::Open && deal.close_date.is_some_and(|date| date < today);
                let amount_sort = deal.amount.map_or(SortKey::Missing, |amount| {
                    SortKey::Number(data.converted(amount).map_or(amount.amount(), |converted| converted.amount()))
                });
                let mut close_date = Cell::text(deal.close_date.map(|date| i18n::date(locale, date)).unwrap_or_default()).sort(
                    deal.close_date.map_or(SortKey::Missing, |date| {
                        SortKey::Time(i64::from(date.since(Date::constant(1900, 1, 1)).map_or(0, |span| span.get_days())))
                    }),
                );
                if overdue {
                    close_date = close_date.class("overdue");
                }
                let account = match (deal.account_id, data.account_name(deal.account_id)) {
                    (Some(id), Some(name)) => Cell::link(name, format!("/accounts/{id}")),
                    _ => Cell::text(""),
                };
                let activity = last_activity.get(&deal.id);
                Row {
                    cells: vec![
                        Cell::link(deal.name.clone(), format!("/opportunities/{}", deal.id)),
                        account,
                        Cell::text(data.pipeline(deal.pipeline_id).map(|pipeline| pipeline.name.clone()).unwrap_or_default()),
                        Cell::text(data.stage_name(locale, deal.stage_id)).sort(stage.map_or(SortKey::Missing, |stage| {
                            SortKey::Number((i64::from(stage.position) + deal.pipeline_id.0 * 1000).into())
                        })),
                        Cell::text(deal.amount.map(|amount| i18n::money(locale, amount)).unwrap_or_default()).sort(amount_sort),
                        close_date,
                        Cell::text(label(locale, "forecast", deal.forecast_category.as_str())),
                        Cell::text(data.user_name(deal.owner_id)),
                        Cell::text(activity.map(|at| i18n::relative(locale, *at, now)).unwrap_or_default())
                            .sort(activity.map_or(SortKey::Missing, |at| SortKey::Time(-at.as_micros())))
                            .title(activity.map(|at| i18n::timestamp(locale, *at, zone)).unwrap_or_default()),
                        Cell::text(label(locale, "status", deal.status.as_str())),
                    ],
                    class: None,
                }
            })
            .collect();
    let pipeline_choices =
        data.pipelines.iter().map(|pipeline| Choice { value: pipeline.id.to_string(), label: pipeline.name.clone() }).collect();
    let stage_choices = data
        .pipelines
        .iter()
        .filter(|pipeline| params.id("pipeline").is_none_or(|id| id == pipeline.id.0))
        .flat_map(|pipeline| {
            pipeline.stages.iter().map(move |stage| Choice {
                value: stage.id.to_string(),
                label: format!("{} · {}", pipeline.name, i18n::stage_name(locale, stage)),
            })
        })
        .collect();
    let owner_choices =
        data.visible_owners(viewer).into_iter().map(|user| Choice { value: user.id.to_string(), label: user.name.clone() }).collect();
    let status_value = match status {
        None => "all".to_owned(),
        Some(status) => status.as_str().to_owned(),
    };
    let status_choices = ["open", "won", "lost", "all"]
        .into_iter()
        .map(|value| Choice { value: value.to_owned(), label: label(locale, "status", value) })
        .collect();
    Ok(List {
        title: t(locale, "deals.title").to_owned(),
        nav: "deals",
        path: "/opportunities",
        columns,
        rows,
        filters: vec![
            Filter::text("q", t(locale, "list.search").to_owned(), params),
            Filter::select(
                locale,
                "pipeline",
                t(locale, "field.pipeline_id").to_owned(),
                params.raw("pipeline").trim().to_owned(),
                pipeline_choices,
            ),
            Filter::select(locale, "stage", t(locale, "field.stage_id").to_owned(), params.raw("stage").trim().to_owned(), stage_choices),
            Filter::select(locale, "owner", t(locale, "field.owner_id").to_owned(), params.raw("owner").trim().to_owned(), owner_choices),
            Filter::select_exact("status", t(locale, "field.status").to_owned(), status_value, status_choices),
        ]
        .into_iter()
        .chain(drill.as_ref().map_or_else(Vec::new, |drill| super::dashboard::drill_filters(drill, params)))
        .collect(),
        default_sort: ("close_date", false),
        cursor_pager: None,
        csv_name: "deals",
        note: drill.map(|drill| drill.note),
    })
}

// ---------------------------------------------------------------------------------------------
// The deal page.

/// The edit form's fields as typed.
#[derive(Clone, Debug, Default, Serialize)]
struct DealForm {
    name: String,
    account_id: String,
    owner_id: String,
    stage_id: String,
    currency: String,
    amount: String,
    close_date: String,
    forecast_category: String,
    next_step: String,
    close_reason: String,
    gate_override_reason: String,
    add_criterion: bool,
    criterion_label_en: String,
    criterion_label_ko: String,
}

impl DealForm {
    fn from_deal(deal: &Opportunity, reporting: Currency) -> DealForm {
        DealForm {
            name: deal.name.clone(),
            account_id: deal.account_id.map(|id| id.to_string()).unwrap_or_default(),
            owner_id: deal.owner_id.to_string(),
            stage_id: deal.stage_id.to_string(),
            currency: deal.amount.map_or(reporting, Money::currency).code().to_owned(),
            amount: deal.amount.map(|amount| amount.amount().to_string()).unwrap_or_default(),
            close_date: deal.close_date.map(|date| date.to_string()).unwrap_or_default(),
            forecast_category: deal.forecast_category.as_str().to_owned(),
            next_step: deal.next_step.clone().unwrap_or_default(),
            close_reason: deal.close_reason.clone().unwrap_or_default(),
            ..DealForm::default()
        }
    }

    fn from_params(params: &Params) -> DealForm {
        let field = |name: &str| params.raw(name).to_owned();
        DealForm {
            name: field("name"),
            account_id: field("account_id"),
            owner_id: field("owner_id"),
            stage_id: field("stage_id"),
            currency: field("currency"),
            amount: field("amount"),
            close_date: field("close_date"),
            forecast_category: field("forecast_category"),
            next_step: field("next_step"),
            close_reason: field("close_reason"),
            gate_override_reason: field("gate_override_reason"),
            add_criterion: params.get("add_criterion").is_some(),
            criterion_label_en: field("criterion_label_en"),
            criterion_label_ko: field("criterion_label_ko"),
        }
    }

    /// The change the form asks for (only fields that differ from `current`), and every
    /// problem found in reading it.
    fn patch(&self, current: &Opportunity) -> (OpportunityPatch, ValidationErrors) {
        let record = RecordRef::new(OpportunityId::LABEL, current.id.0);
        let mut errors = ValidationErrors::default();
        let mut patch = OpportunityPatch::default();
        let id = |field: &'static str, raw: &str, errors: &mut ValidationErrors| -> Option<Option<i64>> {
            let raw = raw.trim();
            if raw.is_empty() {
                return Some(None);
            }
            match raw.parse::<i64>() {
                Ok(id) if id > 0 => Some(Some(id)),
                _ => {
                    errors.push(&record, field, Problem::Invalid { value: raw.to_owned(), expected: "an id" });
                    None
                }
            }
        };
        if self.name.trim() != current.name {
            patch.name = Some(self.name.clone());
        }
        if let Some(account) = id("account_id", &self.account_id, &mut errors) {
            let account = account.map(AccountId);
            if account != current.account_id {
                patch.account_id = Some(account);
            }
        }
        match id("owner_id", &self.owner_id, &mut errors) {
            Some(Some(owner)) if UserId(owner) != current.owner_id => patch.owner_id = Some(UserId(owner)),
            Some(None) => errors.push(&record, "owner_id", Problem::Required),
            _ => {}
        }
        match id("stage_id", &self.stage_id, &mut errors) {
            Some(Some(stage)) if StageId(stage) != current.stage_id => patch.stage_id = Some(StageId(stage)),
            Some(None) => errors.push(&record, "stage_id", Problem::Required),
            _ => {}
        }
        let amount_text: String = self.amount.chars().filter(|c| !matches!(c, ',' | ' ' | '_')).collect();
        let amount = if amount_text.is_empty() {
            Some(None)
        } else {
            let code = self.currency.trim().to_ascii_uppercase();
            match Currency::from_code(&code).and_then(|currency| Money::parse_amount(&amount_text, currency)) {
                Ok(money) => Some(Some(money)),
                Err(problem) => {
                    errors.push(&record, "amount", problem);
                    None
                }
            }
        };
        if let Some(amount) = amount.filter(|amount| *amount != current.amount) {
            patch.amount = Some(amount);
        }
        let close_date = if self.close_date.trim().is_empty() {
            Some(None)
        } else {
            match parse_date(&self.close_date) {
                Ok(date) => Some(Some(date)),
                Err(problem) => {
                    errors.push(&record, "close_date", problem);
                    None
                }
            }
        };
        if let Some(close_date) = close_date.filter(|date| *date != current.close_date) {
            patch.close_date = Some(close_date);
        }
        match ForecastCategory::parse(&self.forecast_category) {
            Ok(category) if category != current.forecast_category => patch.forecast_category = Some(category),
            Ok(_) => {}
            Err(problem) => errors.push(&record, "forecast_category", problem),
        }
        let optional = |text: &str| Some(text.trim().to_owned()).filter(|text| !text.is_empty());
        if optional(&self.next_step) != current.next_step {
            patch.next_step = Some(optional(&self.next_step));
        }
        if optional(&self.close_reason) != current.close_reason {
            patch.close_reason = Some(optional(&self.close_reason));
        }
        patch.gate_override_reason = optional(&self.gate_override_reason);
        (patch, errors)
    }
}

#[derive(Serialize)]
struct FieldView {
    label: String,
    value: String,
    href: Option<String>,
    class: Option<&'static str>,
    /// Whether the edit form shows this field (so the facts list leaves it out).
    in_form: bool,
}

#[derive(Serialize)]
struct StepView {
    name: String,
    state: &'static str,
}

#[derive(Serialize)]
struct ChangeView {
    field: String,
    old: Option<String>,
    new: Option<String>,
}

#[derive(Serialize)]
struct HistoryView {
    when: String,
    relative: String,
    who: String,
    via: Option<String>,
    created: bool,
    changes: Vec<ChangeView>,
    #[serde(rename = "override")]
    gate_override: Option<OverrideView>,
}

#[derive(Serialize)]
struct OverrideView {
    reason: String,
    from: String,
    to: String,
    unmet: Vec<String>,
}

/// A checklist tick that failed: which item, what was typed, and why.
#[derive(Serialize)]
struct CheckForm {
    id: i64,
    evidence: String,
    error: String,
}

/// The offer to grow a gate's checklist from a loss.
#[derive(Serialize)]
struct LossItemView {
    prompt: String,
    checked: bool,
    label_en: String,
    label_ko: String,
}

#[derive(Serialize)]
struct ActivityView {
    kind: String,
    kind_key: &'static str,
    direction: String,
    subject: String,
    when: String,
    relative: String,
    who: Option<String>,
}

#[derive(Serialize)]
struct TaskView {
    title: String,
    due: Option<String>,
    overdue: bool,
    owner: String,
}

#[derive(Serialize)]
struct AsOfView {
    value: String,
    banner: String,
    missing: Option<String>,
}

#[derive(Serialize)]
struct DealView {
    id: i64,
    name: String,
    status: &'static str,
    status_label: String,
    stage_name: String,
    pipeline_name: String,
    amount: Option<String>,
    steps: Vec<StepView>,
    fields: Vec<FieldView>,
    can_edit: bool,
    read_only: Option<String>,
    form: DealForm,
    errors: HashMap<&'static str, String>,
    error_banner: Option<String>,
    notice: Option<String>,
    accounts: Vec<Choice>,
    owners: Vec<Choice>,
    stages: Vec<Choice>,
    categories: Vec<Choice>,
    history: Vec<HistoryView>,
    activities: Vec<ActivityView>,
    tasks: Vec<TaskView>,
    as_of: Option<AsOfView>,
    as_of_value: String,
    board_url: String,
    gate: Option<GateView>,
    gate_notice: Option<String>,
    check_form: Option<CheckForm>,
    refusal: Option<RefusalView>,
    override_reason: String,
    loss_item: Option<LossItemView>,
    workspace: Option<WorkspaceView>,
    handoff: Option<HandoffPanel>,
    shares: Option<SharePanel>,
    /// The open deal's health flags today with their reasons (none as of a past day).
    health: Vec<super::dashboard::Badge>,
}

/// The deal's handoffs and, for those who may hand it over, the "Hand over to…" form.
#[derive(Serialize)]
struct HandoffPanel {
    items: Vec<HandoffItem>,
    /// Who the viewer may hand the deal to; empty: no form.
    choices: Vec<Choice>,
    selected: String,
    note: String,
    error: Option<String>,
    notice: Option<String>,
}

/// Whom the deal is shared with and, for those who may share it, the form to share it with a
/// colleague and a remove button per person.
#[derive(Serialize)]
struct SharePanel {
    items: Vec<ShareItem>,
    /// Whether the viewer may share the deal and end its shares.
    can_share: bool,
    /// Whom the viewer may still share it with: active users but the owner and those it is
    /// shared with already.
    choices: Vec<Choice>,
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

pub async fn show(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::parse(query.as_deref());
    let reader = viewer.clone();
    let result = blocking(move || {
        let id = deal_id(&id)?;
        let locale = reader.user.locale;
        let extras = Extras {
            notice: params.get("saved").map(|_| t(locale, "deal.saved").to_owned()),
            gate_notice: match params.get("gate") {
                Some("checked") => Some(t(locale, "gate.checked").to_owned()),
                Some("unchecked") => Some(t(locale, "gate.unchecked").to_owned()),
                _ => None,
            },
            saved_part: params.get("workspace").filter(|part| workspace::PARTS.contains(part)).map(str::to_owned),
            handoff_notice: params.get("handoff").map(|_| t(locale, "handoff.done").to_owned()),
            share_notice: match params.get("share") {
                Some("added") => Some(t(locale, "share.added").to_owned()),
                Some("removed") => Some(t(locale, "share.removed").to_owned()),
                _ => None,
            },
            ..Extras::default()
        };
        deal_page(&state, &reader, id, params.get("as_of"), extras)
    })
    .await;
    respond(&viewer, result)
}

fn deal_id(raw: &str) -> Result<OpportunityId, AppError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .map(OpportunityId)
        .ok_or_else(|| AppError::NotFound { kind: "opportunity", id: raw.to_owned() })
}

/// A form that failed: what was typed and what is wrong.
struct Rejected {
    form: DealForm,
    errors: ValidationErrors,
    /// A stage move refused at a gate.
    refusal: Option<MoveCheck>,
}

/// What a deal page shows besides the deal: a refused form, a notice, a failed tick, a refused
/// or saved workspace part.
#[derive(Default)]
struct Extras {
    rejected: Option<Rejected>,
    notice: Option<String>,
    gate_notice: Option<String>,
    check_form: Option<CheckForm>,
    workspace_rejected: Option<(String, Params, workspace::FieldErrors)>,
    saved_part: Option<String>,
    /// A refused handoff: the chosen user, the note as typed, and what is wrong.
    handoff_rejected: Option<(String, String, String)>,
    handoff_notice: Option<String>,
    /// A refused share: the chosen user and what is wrong.
    share_rejected: Option<(String, String)>,
    share_notice: Option<String>,
}

fn deal_page(state: &AppState, viewer: &Viewer, id: OpportunityId, as_of: Option<&str>, extras: Extras) -> Result<Response, AppError> {
    let Extras {
        rejected,
        notice,
        gate_notice,
        check_form,
        workspace_rejected,
        saved_part,
        handoff_rejected,
        handoff_notice,
        share_rejected,
        share_notice,
    } = extras;
    let locale = viewer.user.locale;
    let zone = viewer.user.time_zone.as_str();
    let now = state.now();
    let mut tx = state.db.read()?;
    let not_found = || AppError::NotFound { kind: "opportunity", id: id.to_string() };
    let current = app::deals::opportunity_for(&mut tx, viewer.org, &viewer.access, id)?.ok_or_else(not_found)?;
    let data = OrgData::load(&mut tx, viewer.org, now)?;
    let mut events = app::deals::history_for(&mut tx, viewer.org, &viewer.access, id)?.ok_or_else(not_found)?;
    // "As of" the end of a day in the reader's time zone.
    let as_of = match as_of {
        Some(raw) => {
            let date = parse_date(raw).map_err(|problem| AppError::BadRequest(i18n::problem(locale, &problem)))?;
            Some((date, end_of_day(date, zone)))
        }
        None => None,
    };
    let (deal, as_of_view) = match as_of {
        Some((date, at)) => {
            let then = app::deals::opportunity_as_of_for(&mut tx, viewer.org, &viewer.access, id, at)?;
            events.retain(|event| event.at <= at);
            let shown_date = i18n::date(locale, date);
            let view = AsOfView {
                value: date.to_string(),
                banner: i18n::tf(locale, "deal.as_of_banner", &[("date", &shown_date), ("zone", zone)]),
                missing: then.is_none().then(|| i18n::tf(locale, "deal.as_of_missing", &[("date", &shown_date)])),
            };
            (then.unwrap_or_else(|| current.clone()), Some(view))
        }
        None => (current.clone(), None),
    };
    let pipeline = data.pipeline(deal.pipeline_id).cloned().ok_or_else(not_found)?;
    let stage = pipeline.stage(deal.stage_id);
    let can_edit = as_of_view.is_none() && can_change(viewer, &current);
    let today = today_in(now, zone);
    // The path through the open stages, then the outcome.
    let current_position = stage.map_or(-1, |stage| stage.position);
    let steps = pipeline
        .stages
        .iter()
        .filter(|step| step.kind == StageKind::Open || step.id == deal.stage_id)
        .map(|step| StepView {
            name: i18n::stage_name(locale, step).to_owned(),
            state: match (step.kind, step.id == deal.stage_id) {
                (StageKind::Won, _) => "won",
                (StageKind::Lost, _) => "lost",
                (_, true) => "current",
                _ if deal.status != Status::Open && deal.status == Status::Won => "done",
                _ if step.position < current_position => "done",
                _ => "todo",
            },
        })
        .collect();
    let user_link = |id: UserId| data.user_name(id);
    let mut fields = vec![
        FieldView {
            label: t(locale, "field.account_id").to_owned(),
            value: data.account_name(deal.account_id).map_or_else(|| t(locale, "deal.no_account").to_owned(), str::to_owned),
            href: deal.account_id.filter(|id| data.accounts.contains_key(id)).map(|id| format!("/accounts/{id}")),
            class: None,
            in_form: true,
        },
        FieldView {
            label: t(locale, "field.owner_id").to_owned(),
            value: user_link(deal.owner_id),
            href: None,
            class: None,
            in_form: true,
        },
        FieldView {
            label: t(locale, "field.pipeline_id").to_owned(),
            value: pipeline.name.clone(),
            href: None,
            class: None,
            in_form: false,
        },
        FieldView {
            label: t(locale, "field.stage_id").to_owned(),
            value: data.stage_name(locale, deal.stage_id),
            href: None,
            class: None,
            in_form: true,
        },
        FieldView {
            label: t(locale, "field.amount").to_owned(),
            value: deal.amount.map_or_else(|| t(locale, "deal.no_amount").to_owned(), |amount| i18n::money(locale, amount)),
            href: None,
            class: None,
            in_form: true,
        },
        FieldView {
            label: t(locale, "field.close_date").to_owned(),
            value: deal.close_date.map_or_else(|| t(locale, "common.none").to_owned(), |date| i18n::date(locale, date)),
            href: None,
            class: (deal.status == Status::Open && deal.close_date.is_some_and(|date| date < today)).then_some("overdue"),
            in_form: true,
        },
        FieldView {
            label: t(locale, "field.forecast_category").to_owned(),
            value: label(locale, "forecast", deal.forecast_category.as_str()),
            href: None,
            class: None,
            in_form: true,
        },
        FieldView {
            label: t(locale, "field.next_step").to_owned(),
            value: deal.next_step.clone().unwrap_or_else(|| t(locale, "common.none").to_owned()),
            href: None,
            class: None,
            in_form: true,
        },
        FieldView {
            label: t(locale, "field.created_at").to_owned(),
            value: i18n::timestamp(locale, deal.created_at, zone),
            href: None,
            class: None,
            in_form: false,
        },
    ];
    if deal.status != Status::Open {
        fields.push(FieldView {
            label: t(locale, "field.closed_at").to_owned(),
            value: deal.closed_at.map_or_else(String::new, |at| i18n::timestamp(locale, at, zone)),
            href: None,
            class: None,
            in_form: false,
        });
        fields.push(FieldView {
            label: t(locale, "field.close_reason").to_owned(),
            value: deal.close_reason.clone().unwrap_or_else(|| t(locale, "common.none").to_owned()),
            href: None,
            class: None,
            in_form: true,
        });
    }
    let overrides = if as_of_view.is_none() {
        app::gates::gate_overrides_for(&mut tx, viewer.org, &viewer.access, id)?.unwrap_or_default()
    } else {
        Vec::new()
    };
    let history = history_views(&events, &overrides, &data, locale, zone, now);
    let activities = if as_of_view.is_some() {
        Vec::new()
    } else {
        app::activities::activities_of_opportunity(&mut tx, viewer.org, id)?
            .into_iter()
            .take(12)
            .map(|activity| ActivityView {
                kind: label(locale, "activity", activity.kind.as_str()),
                kind_key: activity.kind.as_str(),
                direction: label(locale, "direction", activity.direction.as_str()),
                subject: activity.subject,
                when: i18n::timestamp(locale, activity.occurred_at, zone),
                relative: i18n::relative(locale, activity.occurred_at, now),
                who: activity.user_id.map(|id| data.user_name(id)),
            })
            .collect()
    };
    let tasks = if as_of_view.is_some() {
        Vec::new()
    } else {
        app::activities::tasks_for(
            &mut tx,
            viewer.org,
            &viewer.access,
            &TaskFilter { opportunity_id: Some(id), open_only: true, ..TaskFilter::default() },
        )?
        .into_iter()
        .map(|task| TaskView {
            overdue: task.due_on.is_some_and(|date| date < today),
            due: task.due_on.map(|date| i18n::date(locale, date)),
            owner: data.user_name(task.owner_id),
            title: task.title,
        })
        .collect()
    };
    let mut refusal_check = None;
    let (form, errors, error_banner, status) = match rejected {
        Some(rejected) => {
            refusal_check = rejected.refusal;
            let mut messages: HashMap<&'static str, String> = HashMap::new();
            for error in &rejected.errors.0 {
                let field = if error.field == "pipeline_id" { "stage_id" } else { error.field };
                let message = i18n::problem(locale, &error.problem);
                messages.entry(field).and_modify(|existing| *existing = format!("{existing}; {message}")).or_insert(message);
            }
            (rejected.form, messages, Some(t(locale, "deal.errors").to_owned()), StatusCode::UNPROCESSABLE_ENTITY)
        }
        None => {
            let status = if workspace_rejected.is_some() || check_form.is_some() || handoff_rejected.is_some() || share_rejected.is_some() {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::OK
            };
            (DealForm::from_deal(&current, data.organisation.reporting_currency), HashMap::new(), None, status)
        }
    };
    let mut accounts: Vec<Choice> =
        data.accounts.values().map(|account| Choice { value: account.id.to_string(), label: account.name.clone() }).collect();
    accounts.sort_by_key(|choice| choice.label.to_lowercase());
    let mut owners: Vec<Choice> =
        data.assignable_owners(viewer).into_iter().map(|user| Choice { value: user.id.to_string(), label: user.name.clone() }).collect();
    if !owners.iter().any(|choice| choice.value == current.owner_id.to_string()) {
        owners.push(Choice { value: current.owner_id.to_string(), label: data.user_name(current.owner_id) });
    }
    // The current stage's gate as a checklist (not for a closed deal or a past view).
    let gate = if as_of_view.is_none() && deal.status == Status::Open {
        app::gates::gate_status_for(&mut tx, viewer.org, &viewer.access, id, today)?.and_then(|gates| {
            let stage_gate = gates.stages.into_iter().find(|gate| gate.stage_id == deal.stage_id)?;
            let user_name = |user: UserId| data.user_name(user);
            Some(gates::gate_view(data.stage_name(locale, deal.stage_id), &stage_gate.criteria, locale, zone, &user_name))
        })
    } else {
        None
    };
    let refusal = refusal_check.as_ref().map(|check| gates::refusal(check, locale, gates::can_override(&viewer.access, current.owner_id)));
    let loss_item =
        (can_edit && gates::can_grow_checklist(&viewer.access, current.owner_id) && deal.status == Status::Open).then(|| LossItemView {
            prompt: i18n::tf(locale, "loss.add_item", &[("stage", &data.stage_name(locale, deal.stage_id))]),
            checked: form.add_criterion,
            label_en: form.criterion_label_en.clone(),
            label_ko: form.criterion_label_ko.clone(),
        });
    let override_reason = form.gate_override_reason.clone();
    // The workspace, now or as of the chosen day.
    let workspace = match &as_of {
        Some((_, at)) => app::workspace::workspace_as_of_for(&mut tx, viewer.org, &viewer.access, id, *at)?,
        None => app::workspace::workspace_for(&mut tx, viewer.org, &viewer.access, id)?,
    }
    .unwrap_or_default();
    let flags = if as_of_view.is_none() {
        app::workspace::workspace_flags_for(&mut tx, viewer.org, &viewer.access, id, today)?.unwrap_or_default()
    } else {
        Vec::new()
    };
    let mut contacts: workspace::ContactNames = app::records::contacts(&mut tx, viewer.org)?
        .into_iter()
        .filter(|contact| contact.account_id.is_some() && contact.account_id == deal.account_id)
        .map(|contact| (contact.id, contact.name))
        .collect();
    for person in &workspace.stakeholders {
        contacts.entry(person.contact_id).or_insert_with(|| person.name.clone());
    }
    let mut activity_by_contact = std::collections::BTreeMap::new();
    if as_of_view.is_none() {
        for activity in app::activities::activities_of_opportunity(&mut tx, viewer.org, id)? {
            for contact in activity.contact_ids {
                *activity_by_contact.entry(contact).or_insert(0u32) += 1;
            }
        }
    }
    let workspace_view = workspace::workspace_view(
        workspace::WorkspaceInput {
            workspace: &workspace,
            flags: &flags,
            contacts: &contacts,
            activity_by_contact: &activity_by_contact,
            can_edit,
            rejected: workspace_rejected.as_ref().map(|(part, params, errors)| (part.as_str(), params, errors.clone())),
            saved: saved_part.as_deref(),
        },
        locale,
    );
    let handoff = if as_of_view.is_none() {
        let items = app::handoffs::handoffs_for(&mut tx, viewer.org, &viewer.access, id)?
            .unwrap_or_default()
            .into_iter()
            .rev()
            .map(|handoff| HandoffItem {
                from: data.user_name(handoff.from_user_id),
                to: data.user_name(handoff.to_user_id),
                by: handoff.actor_id.filter(|actor| *actor != handoff.from_user_id).map(|actor| data.user_name(actor)),
                stage: data.stage_name(locale, handoff.stage_id),
                when: i18n::timestamp(locale, handoff.at, zone),
                note: handoff.note,
            })
            .collect();
        let choices = if can_edit && viewer.access.can_write_deal(current.owner_id, false) && current.status == Status::Open {
            let entry_stage = Some(pipeline.entry_stage_id).filter(|_| pipeline.id == current.pipeline_id);
            let mut choices: Vec<Choice> = data
                .users
                .iter()
                .filter(|user| user.active && app::handoffs::may_hand_off_to(&viewer.access, &current, entry_stage, user))
                .map(|user| Choice { value: user.id.to_string(), label: user.name.clone() })
                .collect();
            choices.sort_by_key(|choice| choice.label.to_lowercase());
            choices
        } else {
            Vec::new()
        };
        let (selected, note, error) = handoff_rejected.map_or_else(Default::default, |(to, note, error)| (to, note, Some(error)));
        Some(HandoffPanel { items, choices, selected, note, error, notice: handoff_notice })
    } else {
        None
    };
    let shares = if as_of_view.is_none() {
        let shares = app::deals::opportunity_shares_for(&mut tx, viewer.org, &viewer.access, id)?.unwrap_or_default();
        let can_share = can_edit && viewer.access.can_write_deal(current.owner_id, false);
        let mut choices: Vec<Choice> = if can_share {
            data.users
                .iter()
                .filter(|user| user.active && user.id != current.owner_id && !shares.iter().any(|share| share.user_id == user.id))
                .map(|user| Choice { value: user.id.to_string(), label: user.name.clone() })
                .collect()
        } else {
            Vec::new()
        };
        choices.sort_by_key(|choice| choice.label.to_lowercase());
        let mut items: Vec<ShareItem> = shares
            .iter()
            .map(|share| {
                let when = i18n::timestamp(locale, share.shared_at, zone);
                let who = share.shared_by.map_or_else(|| t(locale, "common.system").to_owned(), |user| data.user_name(user));
                ShareItem {
                    user_id: share.user_id.0,
                    name: data.user_name(share.user_id),
                    detail: i18n::tf(locale, "share.entry", &[("when", &when), ("who", &who)]),
                }
            })
            .collect();
        items.sort_by_key(|item| item.name.to_lowercase());
        let (selected, error) = share_rejected.map_or_else(Default::default, |(selected, error)| (selected, Some(error)));
        Some(SharePanel { items, can_share, choices, selected, error, notice: share_notice })
    } else {
        None
    };
    // The deal's health today from the analytics projection: its problem flags with their
    // reasons, under the organisation's thresholds. Not for a past day's view (the badges read
    // today's activity facts), nor when the projection cannot be read (the page still works).
    let health = if as_of_view.is_none() && deal.status == Status::Open {
        super::dashboard::badges(state, viewer.org, locale, &[id], today, &data.health_thresholds)
            .map_err(|error| eprintln!("deal page: health unavailable: {error:?}"))
            .ok()
            .and_then(|mut badges| badges.remove(&id))
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let view = DealView {
        id: id.0,
        name: deal.name.clone(),
        status: deal.status.as_str(),
        status_label: label(locale, "status", deal.status.as_str()),
        stage_name: data.stage_name(locale, deal.stage_id),
        pipeline_name: pipeline.name.clone(),
        amount: deal.amount.map(|amount| i18n::money(locale, amount)),
        steps,
        fields,
        can_edit,
        read_only: (as_of_view.is_none() && !can_edit).then(|| t(locale, "deal.read_only").to_owned()),
        form,
        errors,
        error_banner,
        notice,
        accounts,
        owners,
        stages: pipeline
            .stages
            .iter()
            .map(|stage| Choice { value: stage.id.to_string(), label: i18n::stage_name(locale, stage).to_owned() })
            .collect(),
        categories: ForecastCategory::ALL
            .iter()
            .map(|category| Choice { value: category.as_str().to_owned(), label: label(locale, "forecast", category.as_str()) })
            .collect(),
        history,
        activities,
        tasks,
        as_of_value: as_of_view.as_ref().map(|view| view.value.clone()).unwrap_or_default(),
        as_of: as_of_view,
        board_url: format!("/board?pipeline={}", pipeline.id),
        gate,
        gate_notice,
        check_form,
        refusal,
        override_reason,
        loss_item,
        workspace: Some(workspace_view),
        handoff,
        shares,
        health,
    };
    render::page(viewer, status, "deal.html", "deals", deal.name.clone(), &view)
}

/// The history, newest first, one entry per write (events with the same time and author).
fn history_views(
    events: &[HistoryEvent],
    overrides: &[StoredOverride],
    data: &OrgData,
    locale: Locale,
    zone: &str,
    now: Timestamp,
) -> Vec<HistoryView> {
    let mut groups: Vec<Vec<&HistoryEvent>> = Vec::new();
    for event in events {
        match groups.last_mut() {
            Some(group) if group[0].at == event.at && group[0].actor_id == event.actor_id && group[0].source == event.source => {
                group.push(event)
            }
            _ => groups.push(vec![event]),
        }
    }
    groups
        .into_iter()
        .rev()
        .map(|group| {
            let first = group[0];
            let created = group.iter().any(|event| event.field == OppField::Pipeline && event.old.is_none());
            let gate_override = group.iter().find(|event| event.field == OppField::GateOverride).map(|marker| {
                let stored = overrides.iter().map(|stored| &stored.gate_override).find(|record| record.at == marker.at);
                OverrideView {
                    reason: stored.map_or_else(|| marker.new.clone().unwrap_or_default(), |record| record.reason.clone()),
                    from: stored.map_or_else(String::new, |record| data.stage_name(locale, record.from_stage_id)),
                    to: stored.map_or_else(String::new, |record| data.stage_name(locale, record.to_stage_id)),
                    unmet: stored
                        .map(|record| {
                            record
                                .unmet
                                .iter()
                                .map(|unmet| match locale {
                                    Locale::En => format!("{}: {}", unmet.label_en, unmet.reason_en),
                                    Locale::Ko => format!("{}: {}", unmet.label_ko, unmet.reason_ko),
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                }
            });
            let changes = group
                .iter()
                .filter(|event| !event.field.is_marker())
                .filter(|event| !created || (!matches!(event.field, OppField::Status | OppField::Pipeline) && event.new.is_some()))
                .map(|event| ChangeView {
                    field: t(locale, &format!("field.{}", event.field.as_str())).to_owned(),
                    old: if created { None } else { history_value(event.field, event.old.as_deref(), data, locale, zone) },
                    new: history_value(event.field, event.new.as_deref(), data, locale, zone),
                })
                .collect();
            HistoryView {
                when: i18n::timestamp(locale, first.at, zone),
                relative: i18n::relative(locale, first.at, now),
                who: first.actor_id.map_or_else(|| t(locale, "common.system").to_owned(), |id| data.user_name(id)),
                via: Some(i18n::tf(locale, "deal.via", &[("source", &label(locale, "source", first.source.as_str()))])),
                created,
                changes,
                gate_override,
            }
        })
        .collect()
}

/// A history value in words: names instead of ids, money and dates as the reader writes them.
fn history_value(field: OppField, raw: Option<&str>, data: &OrgData, locale: Locale, zone: &str) -> Option<String> {
    let raw = raw?;
    let id = || raw.parse::<i64>().ok();
    Some(match field {
        OppField::Account => {
            id().and_then(|id| data.account_name(Some(AccountId(id))).map(str::to_owned)).unwrap_or_else(|| format!("#{raw}"))
        }
        OppField::Owner => id().map_or_else(|| raw.to_owned(), |id| data.user_name(UserId(id))),
        OppField::Pipeline => {
            id().and_then(|id| data.pipeline(PipelineId(id))).map_or_else(|| format!("#{raw}"), |pipeline| pipeline.name.clone())
        }
        OppField::Stage => id().map_or_else(|| raw.to_owned(), |id| data.stage_name(locale, StageId(id))),
        OppField::Amount => raw.parse::<Money>().map_or_else(|_| raw.to_owned(), |money| i18n::money(locale, money)),
        OppField::CloseDate => raw.parse::<Date>().map_or_else(|_| raw.to_owned(), |date| i18n::date(locale, date)),
        OppField::ForecastCategory => label(locale, "forecast", raw),
        OppField::Status => label(locale, "status", raw),
        OppField::ClosedAt => raw.parse::<Timestamp>().map_or_else(|_| raw.to_owned(), |at| i18n::timestamp(locale, at, zone)),
        OppField::Name | OppField::NextStep | OppField::CloseReason | OppField::GateOverride => raw.to_owned(),
    })
}

/// Saves the edit form. A problem in any field shows the form again with every problem next
/// to its field and every input as typed; nothing is saved.
pub async fn update(State(state): State<AppState>, SignedIn(viewer): SignedIn, Path(id): Path<String>, body: Bytes) -> Response {
    let form = DealForm::from_params(&Params::from_body(&body));
    let reader = viewer.clone();
    let result = blocking(move || {
        let id = deal_id(&id)?;
        let current = {
            let mut tx = state.db.read()?;
            app::deals::opportunity_for(&mut tx, reader.org, &reader.access, id)?
                .ok_or_else(|| AppError::NotFound { kind: "opportunity", id: id.to_string() })?
        };
        let (patch, mut errors) = form.patch(&current);
        if form.add_criterion && form.criterion_label_en.trim().is_empty() {
            errors.push(&RecordRef::new(OpportunityId::LABEL, id.0), "criterion_label_en", Problem::Required);
        }
        let ctx = reader.ctx(pipewise_core::history::Source::Web, state.now());
        let mut tx = state.db.write()?;
        let outcome = app::deals::update_opportunity(&mut tx, &ctx, id, &patch).and_then(|deal| {
            if deal.status == Status::Lost && current.status == Status::Open && form.add_criterion && errors.0.is_empty() {
                app::gates::criterion_from_loss(&mut tx, &ctx, id, current.stage_id, &form.criterion_label_en, &form.criterion_label_ko)
                    .map_err(|error| match error {
                        pipewise_app::StoreError::Invalid(mut found) => {
                            for error in &mut found.0 {
                                error.field = if error.field == "label_ko" { "criterion_label_ko" } else { "criterion_label_en" };
                            }
                            pipewise_app::StoreError::Invalid(found)
                        }
                        other => other,
                    })?;
            }
            Ok(deal)
        });
        let rejected = |errors, refusal| Extras { rejected: Some(Rejected { form: form.clone(), errors, refusal }), ..Extras::default() };
        match outcome {
            Ok(_) if errors.0.is_empty() => {
                tx.commit()?;
                Ok(see_other(&format!("/opportunities/{id}?saved=1")))
            }
            // A problem only this form found: nothing is kept (the transaction is dropped).
            Ok(_) => {
                drop(tx);
                deal_page(&state, &reader, id, None, rejected(errors, None))
            }
            Err(pipewise_app::StoreError::Invalid(found)) => {
                drop(tx);
                errors.0.extend(found.0);
                deal_page(&state, &reader, id, None, rejected(errors, None))
            }
            Err(pipewise_app::StoreError::GateRefused(check)) => {
                drop(tx);
                let message = Problem::Rule(t(reader.user.locale, "gate.refused_intro").to_owned());
                errors.push(&RecordRef::new(OpportunityId::LABEL, id.0), "stage_id", message);
                deal_page(&state, &reader, id, None, rejected(errors, Some(*check)))
            }
            Err(other) => Err(other.into()),
        }
    })
    .await;
    respond(&viewer, result)
}

// ---------------------------------------------------------------------------------------------
// Moving a deal to another stage.

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

/// The fallback form for moving a deal without JavaScript, and where a failed move explains
/// itself (a lost stage needs a reason; a gate lists what is missing and, for those who may,
/// offers an override).
pub async fn move_form(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::parse(query.as_deref());
    let reader = viewer.clone();
    let result = blocking(move || {
        let id = deal_id(&id)?;
        move_page(&state, &reader, id, &params, None, None)
    })
    .await;
    respond(&viewer, result)
}

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
    let back_url = super::url_with("/board", &[("pipeline", pipeline.id.to_string()), ("owner", owner.clone())]);
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
            .map(|stage| Choice { value: stage.id.to_string(), label: i18n::stage_name(locale, stage).to_owned() })
            .collect(),
        stage_id: params.get("stage_id").map_or_else(|| deal.stage_id.to_string(), str::to_owned),
        close_reason: params.raw("close_reason").to_owned(),
        owner,
        error,
        back_url,
        refusal: refusal.map(|check| gates::refusal(check, locale, gates::can_override(&viewer.access, deal.owner_id))),
        override_reason: params.raw("override_reason").to_owned(),
        loss_item: (deal.status == Status::Open && gates::can_grow_checklist(&viewer.access, deal.owner_id)).then(|| LossItemView {
            prompt: i18n::tf(locale, "loss.add_item", &[("stage", &stage_name)]),
            checked: params.get("add_criterion").is_some(),
            label_en: params.raw("criterion_label_en").to_owned(),
            label_ko: params.raw("criterion_label_ko").to_owned(),
        }),
        drop_reasons: if current_stage.is_some_and(|stage| stage.kind == StageKind::Open && !stage.counts_in_metrics) {
            pipewise_core::gates::STAGE_1_DROP_REASONS
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
        let locale = reader.user.locale;
        let id = deal_id(&id)?;
        let stage = params.id("stage_id").map(StageId);
        let patch = OpportunityPatch {
            stage_id: stage,
            close_reason: params.get("close_reason").map(|reason| Some(reason.to_owned())),
            gate_override_reason: params.get("override_reason").map(str::to_owned),
            ..OpportunityPatch::default()
        };
        let now = state.now();
        let ctx = reader.ctx(pipewise_core::history::Source::Web, now);
        let grow = params.get("add_criterion").is_some();
        let label_en = params.get("criterion_label_en").unwrap_or_default().to_owned();
        let label_ko = params.get("criterion_label_ko").unwrap_or_default().to_owned();
        let mut grown = None;
        let moved = state.db.transact(|tx| {
            let before = app::deals::opportunity_for(tx, reader.org, &reader.access, id)?;
            let deal = app::deals::update_opportunity(tx, &ctx, id, &patch)?;
            if let Some(before) = before.filter(|before| grow && before.status == Status::Open && deal.status == Status::Lost) {
                if label_en.trim().is_empty() {
                    let record = RecordRef::new(OpportunityId::LABEL, id.0);
                    return Err(pipewise_app::StoreError::Invalid(ValidationErrors(vec![pipewise_core::error::FieldError {
                        record,
                        field: "criterion_label_en",
                        problem: Problem::Required,
                    }])));
                }
                app::gates::criterion_from_loss(tx, &ctx, id, before.stage_id, &label_en, &label_ko)?;
                grown = Some(before.stage_id);
            }
            Ok(deal)
        });
        let owner = params.id("owner").map(UserId);
        match moved {
            Ok(deal) if json => {
                let mut tx = state.db.read()?;
                let data = OrgData::load(&mut tx, reader.org, now)?;
                let board = BoardDeals::load(&mut tx, &reader, &data, Some(deal.pipeline_id), owner, now)?;
                let columns = board.map(|board| board.summaries(&data, locale)).unwrap_or_default();
                let stage_name = data.stage_name(locale, deal.stage_id);
                let mut message = i18n::tf(locale, "board.moved", &[("name", &deal.name), ("stage", &stage_name)]);
                if let Some(stage) = grown {
                    message = format!("{message} {}", i18n::tf(locale, "loss.item_added", &[("stage", &data.stage_name(locale, stage))]));
                }
                Ok(Json(
                    json!({ "ok": true, "message": message, "stage_id": deal.stage_id.0, "stage_name": stage_name, "columns": columns }),
                )
                .into_response())
            }
            Ok(deal) => {
                let url = super::url_with(
                    "/board",
                    &[("pipeline", deal.pipeline_id.to_string()), ("owner", owner.map(|id| id.to_string()).unwrap_or_default())],
                );
                Ok(see_other(&format!("{url}#deal-{id}")))
            }
            Err(pipewise_app::StoreError::GateRefused(check)) => {
                let owner_id = {
                    let mut tx = state.db.read()?;
                    app::deals::opportunity_for(&mut tx, reader.org, &reader.access, id)?.map(|deal| deal.owner_id)
                };
                let can_override = owner_id.is_some_and(|owner| gates::can_override(&reader.access, owner));
                let refusal = gates::refusal(&check, locale, can_override);
                if json {
                    let body =
                        json!({ "ok": false, "message": refusal.heading, "needs_reason": false, "gate": gates::refusal_json(&refusal) });
                    return Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response());
                }
                move_page(&state, &reader, id, &params, None, Some(&check))
            }
            Err(error) => {
                let error = AppError::from(error);
                let needs_reason =
                    matches!(&error, AppError::Invalid(errors) if errors.0.iter().any(|error| error.field == "close_reason"));
                let message = move_error_message(locale, &error);
                if json {
                    let body = json!({ "ok": false, "message": message, "needs_reason": needs_reason });
                    return Ok((error.status(), Json(body)).into_response());
                }
                match error {
                    AppError::Invalid(_) | AppError::Forbidden(_) | AppError::Conflict(_) => {
                        move_page(&state, &reader, id, &params, Some((error.status(), message)), None)
                    }
                    other => Err(other),
                }
            }
        }
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

fn move_error_message(locale: Locale, error: &AppError) -> String {
    match error {
        AppError::Invalid(errors) => errors
            .0
            .iter()
            .map(|error| format!("{}: {}", label(locale, "field", error.field), i18n::problem(locale, &error.problem)))
            .collect::<Vec<_>>()
            .join("; "),
        AppError::NotFound { .. } => t(locale, "error.not_found").to_owned(),
        AppError::Forbidden(_) => t(locale, "deal.read_only").to_owned(),
        AppError::Internal(_) => t(locale, "error.internal").to_owned(),
        other => other.detail(),
    }
}

// ---------------------------------------------------------------------------------------------
// Gate checklists and the workspace.

/// Ticks a checklist item of the deal's gate with evidence. Without evidence the deal page
/// comes back with the problem beside the item and the text as typed.
pub async fn check_criterion(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    Path((id, criterion)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let params = Params::from_body(&body);
    let reader = viewer.clone();
    let result = blocking(move || {
        let id = deal_id(&id)?;
        let criterion: i64 = criterion.parse().map_err(|_| AppError::NotFound { kind: "exit_criterion", id: criterion.clone() })?;
        let evidence = params.raw("evidence").to_owned();
        let ctx = reader.ctx(pipewise_core::history::Source::Web, state.now());
        match state.db.transact(|tx| app::gates::check_criterion(tx, &ctx, id, criterion, &evidence)) {
            Ok(_) => Ok(see_other(&format!("/opportunities/{id}?gate=checked#criterion-{criterion}"))),
            Err(pipewise_app::StoreError::Invalid(errors)) => {
                let locale = reader.user.locale;
                let error = errors.0.iter().map(|error| i18n::problem(locale, &error.problem)).collect::<Vec<_>>().join("; ");
                let extras = Extras { check_form: Some(CheckForm { id: criterion, evidence, error }), ..Extras::default() };
                deal_page(&state, &reader, id, None, extras)
            }
            Err(other) => Err(other.into()),
        }
    })
    .await;
    respond(&viewer, result)
}

/// Hands the deal to another user (`to_user_id`, `note`). A refused handoff comes back on the
/// deal page with the problem beside the form; after a handoff the viewer returns to the deal if
/// they may still see it, else to the list of deals.
pub async fn hand_off(State(state): State<AppState>, SignedIn(viewer): SignedIn, Path(id): Path<String>, body: Bytes) -> Response {
    let params = Params::from_body(&body);
    let reader = viewer.clone();
    let result = blocking(move || {
        let id = deal_id(&id)?;
        let locale = reader.user.locale;
        let to_raw = params.raw("to_user_id").trim().to_owned();
        let note = params.raw("note").to_owned();
        let rejected = |error: String| Extras { handoff_rejected: Some((to_raw.clone(), note.clone(), error)), ..Extras::default() };
        let Some(to_user) = to_raw.parse::<i64>().ok().filter(|id| *id > 0).map(UserId) else {
            return deal_page(&state, &reader, id, None, rejected(i18n::problem(locale, &Problem::Required)));
        };
        let ctx = reader.ctx(pipewise_core::history::Source::Web, state.now());
        match state.db.transact(|tx| app::handoffs::hand_off(tx, &ctx, id, to_user, Some(&note))) {
            Ok(_) => {
                let mut tx = state.db.read()?;
                if app::deals::opportunity_for(&mut tx, reader.org, &reader.access, id)?.is_some() {
                    Ok(see_other(&format!("/opportunities/{id}?handoff=done#handoffs")))
                } else {
                    Ok(see_other("/opportunities"))
                }
            }
            Err(pipewise_app::StoreError::Invalid(errors)) => {
                let error = errors.0.iter().map(|error| i18n::problem(locale, &error.problem)).collect::<Vec<_>>().join("; ");
                deal_page(&state, &reader, id, None, rejected(error))
            }
            Err(pipewise_app::StoreError::Forbidden(_)) => {
                deal_page(&state, &reader, id, None, rejected(t(locale, "handoff.forbidden").to_owned()))
            }
            Err(other) => Err(other.into()),
        }
    })
    .await;
    respond(&viewer, result)
}

/// Shares the deal with a colleague (`user_id`). A refused share comes back on the deal page with
/// the problem beside the form.
pub async fn share(State(state): State<AppState>, SignedIn(viewer): SignedIn, Path(id): Path<String>, body: Bytes) -> Response {
    let params = Params::from_body(&body);
    let reader = viewer.clone();
    let result = blocking(move || {
        let id = deal_id(&id)?;
        let locale = reader.user.locale;
        let raw = params.raw("user_id").trim().to_owned();
        let rejected = |error: String| Extras { share_rejected: Some((raw.clone(), error)), ..Extras::default() };
        let Some(user) = raw.parse::<i64>().ok().filter(|id| *id > 0).map(UserId) else {
            return deal_page(&state, &reader, id, None, rejected(i18n::problem(locale, &Problem::Required)));
        };
        let ctx = reader.ctx(pipewise_core::history::Source::Web, state.now());
        match state.db.transact(|tx| app::deals::share_opportunity(tx, &ctx, id, user)) {
            Ok(_) => Ok(see_other(&format!("/opportunities/{id}?share=added#shares"))),
            Err(pipewise_app::StoreError::Invalid(errors)) => {
                let error = errors.0.iter().map(|error| i18n::problem(locale, &error.problem)).collect::<Vec<_>>().join("; ");
                deal_page(&state, &reader, id, None, rejected(error))
            }
            Err(pipewise_app::StoreError::Forbidden(_)) => {
                deal_page(&state, &reader, id, None, rejected(t(locale, "share.forbidden").to_owned()))
            }
            Err(other) => Err(other.into()),
        }
    })
    .await;
    respond(&viewer, result)
}

/// Ends the share of the deal with one user. Ending a share that is gone already is no error:
/// the page shows whom the deal is shared with now.
pub async fn unshare(State(state): State<AppState>, SignedIn(viewer): SignedIn, Path((id, user)): Path<(String, String)>) -> Response {
    let reader = viewer.clone();
    let result = blocking(move || {
        let id = deal_id(&id)?;
        let locale = reader.user.locale;
        let user: i64 = user.parse().ok().filter(|user| *user > 0).ok_or_else(|| AppError::NotFound { kind: "user", id: user.clone() })?;
        let ctx = reader.ctx(pipewise_core::history::Source::Web, state.now());
        match state.db.transact(|tx| app::deals::unshare_opportunity(tx, &ctx, id, UserId(user))) {
            Ok(_) => Ok(see_other(&format!("/opportunities/{id}?share=removed#shares"))),
            Err(pipewise_app::StoreError::Invalid(errors)) => {
                let error = errors.0.iter().map(|error| i18n::problem(locale, &error.problem)).collect::<Vec<_>>().join("; ");
                deal_page(&state, &reader, id, None, Extras { share_rejected: Some((String::new(), error)), ..Extras::default() })
            }
            Err(pipewise_app::StoreError::Forbidden(_)) => deal_page(
                &state,
                &reader,
                id,
                None,
                Extras { share_rejected: Some((String::new(), t(locale, "share.forbidden").to_owned())), ..Extras::default() },
            ),
            Err(other) => Err(other.into()),
        }
    })
    .await;
    respond(&viewer, result)
}

/// Withdraws the tick of a checklist item.
pub async fn uncheck_criterion(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    Path((id, criterion)): Path<(String, String)>,
) -> Response {
    let reader = viewer.clone();
    let result = blocking(move || {
        let id = deal_id(&id)?;
        let criterion: i64 = criterion.parse().map_err(|_| AppError::NotFound { kind: "exit_criterion", id: criterion.clone() })?;
        let ctx = reader.ctx(pipewise_core::history::Source::Web, state.now());
        state.db.transact(|tx| app::gates::uncheck_criterion(tx, &ctx, id, criterion))?;
        Ok(see_other(&format!("/opportunities/{id}?gate=unchecked#criterion-{criterion}")))
    })
    .await;
    respond(&viewer, result)
}

/// Saves one part of the workspace. Every bad field is shown beside its input with every
/// other input as typed; nothing is saved.
pub async fn update_workspace(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    Path((id, part)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let params = Params::from_body(&body);
    let reader = viewer.clone();
    let result = blocking(move || {
        let id = deal_id(&id)?;
        let locale = reader.user.locale;
        let part = workspace::PARTS
            .iter()
            .find(|known| **known == part)
            .ok_or_else(|| AppError::NotFound { kind: "workspace part", id: part.clone() })?;
        let (current, contacts) = {
            let mut tx = state.db.read()?;
            let deal = app::deals::opportunity_for(&mut tx, reader.org, &reader.access, id)?
                .ok_or_else(|| AppError::NotFound { kind: "opportunity", id: id.to_string() })?;
            let current = app::workspace::workspace_for(&mut tx, reader.org, &reader.access, id)?.unwrap_or_default();
            let mut contacts: workspace::ContactNames = app::records::contacts(&mut tx, reader.org)?
                .into_iter()
                .filter(|contact| contact.account_id.is_some() && contact.account_id == deal.account_id)
                .map(|contact| (contact.id, contact.name))
                .collect();
            for person in &current.stakeholders {
                contacts.entry(person.contact_id).or_insert_with(|| person.name.clone());
            }
            (current, contacts)
        };
        let rejected = |errors: workspace::FieldErrors| Extras {
            workspace_rejected: Some(((*part).to_owned(), params.clone(), errors)),
            ..Extras::default()
        };
        let value = match workspace::parse(part, &params, &current, &contacts, locale) {
            Ok(value) => value,
            Err(errors) => return deal_page(&state, &reader, id, None, rejected(errors)),
        };
        let ctx = reader.ctx(pipewise_core::history::Source::Web, state.now());
        match state.db.transact(|tx| app::workspace::update_workspace(tx, &ctx, id, value)) {
            Ok(_) => Ok(see_other(&format!("/opportunities/{id}?workspace={part}#ws-panel-{part}"))),
            Err(pipewise_app::StoreError::Invalid(errors)) => {
                deal_page(&state, &reader, id, None, rejected(workspace::domain_errors(&errors, locale)))
            }
            Err(other) => Err(other.into()),
        }
    })
    .await;
    respond(&viewer, result)
}
