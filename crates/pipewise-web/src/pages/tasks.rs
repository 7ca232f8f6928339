//! Tasks: the reader's own by default, open ones first by due date, overdue ones highlighted.
//! Managers can switch to anyone in their team (and ops/admins to anyone); reps see only their
//! own.

use pipewise_app as app;
use std::collections::{BTreeSet, HashMap};

use axum::extract::{RawQuery, State};
use axum::response::Response;
use pipewise_app::{OpportunityFilter, TaskFilter};
use pipewise_core::access::DealScope;
use pipewise_core::records::Task;
use pipewise_core::user::Locale;
use pipewise_core::*;

use super::data::OrgData;
use super::list::{Cell, Choice, Column, Filter, List, Row, SortKey, list_page};
use super::{Params, SignedIn};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::AppError;
use crate::i18n::{self, t};

pub async fn tasks(State(state): State<AppState>, SignedIn(viewer): SignedIn, RawQuery(query): RawQuery) -> Response {
    list_page(state, viewer, query, task_list).await
}

fn days(date: Date) -> i64 {
    i64::from(date.since(Date::constant(1900, 1, 1)).map_or(0, |span| span.get_days()))
}

fn task_list(state: &AppState, viewer: &Viewer, params: &Params) -> Result<List, AppError> {
    let locale = viewer.user.locale;
    let now = state.now();
    let mut tx = state.db.read()?;
    let mut data = OrgData::load_without_accounts(&mut tx, viewer.org, now)?;
    let allowed = Allowed::of(viewer);
    let owner = allowed.owner(viewer, params);
    let status = params.get("status").unwrap_or("open");
    let filter = TaskFilter { owner_id: owner, open_only: status == "open", ..TaskFilter::default() };
    let mut tasks = app::activities::tasks_for(&mut tx, viewer.org, &viewer.access, &filter)?;
    tasks.retain(|task| allowed.may_see(task.owner_id) && (status != "done" || task.completed_at.is_some()));
    // The names of the deals and accounts the tasks name, not of every deal and account.
    let deal_ids: Vec<OpportunityId> =
        tasks.iter().filter_map(|task| task.opportunity_id).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    let filter = OpportunityFilter { ids: Some(deal_ids), ..OpportunityFilter::default() };
    let deals: HashMap<OpportunityId, String> =
        app::deals::opportunities_for(&mut tx, viewer.org, &viewer.access, &filter)?.into_iter().map(|deal| (deal.id, deal.name)).collect();
    data.load_accounts(&mut tx, tasks.iter().filter_map(|task| task.account_id))?;
    let row_ctx = RowCtx { data: &data, deals: &deals, locale, zone: &viewer.user.time_zone, today: viewer.today(now) };
    Ok(List {
        title: t(locale, "tasks.title").to_owned(),
        nav: "tasks",
        path: "/tasks",
        columns: columns(locale),
        rows: tasks.iter().map(|task| row_ctx.row(task)).collect(),
        filters: filters(viewer, &data, &allowed, owner, status),
        default_sort: ("due", false),
        cursor_pager: None,
        presorted: None,
        csv_name: "tasks",
        note: None,
        link: None,
    })
}

/// Whose tasks the reader may look at: anyone's, or only those of these owners.
struct Allowed(Option<BTreeSet<UserId>>);

impl Allowed {
    fn of(viewer: &Viewer) -> Allowed {
        Allowed(match viewer.access.deal_scope() {
            DealScope::All => None,
            DealScope::Owners { owners, .. } => Some(owners),
        })
    }

    fn may_see(&self, user: UserId) -> bool {
        self.0.as_ref().is_none_or(|owners| owners.contains(&user))
    }

    /// Whose tasks `?owner=` asks for: everyone's (`all`, as far as the reader may see), or one
    /// owner's, the reader's own when not given or not allowed.
    fn owner(&self, viewer: &Viewer, params: &Params) -> Option<UserId> {
        match params.get("owner").unwrap_or_default() {
            "all" => None,
            raw => Some(raw.parse::<i64>().ok().map(UserId).filter(|id| self.may_see(*id)).unwrap_or(viewer.user.id)),
        }
    }
}

fn columns(locale: Locale) -> Vec<Column> {
    vec![
        Column::new(locale, "task", "field.task"),
        Column::new(locale, "due", "field.due_on"),
        Column::new(locale, "related", "field.related"),
        Column::new(locale, "owner", "field.owner_id"),
        Column::new(locale, "completed", "field.completed_at"),
    ]
}

/// What each row reads besides its task.
struct RowCtx<'a> {
    data: &'a OrgData,
    /// The names of the deals the reader may see.
    deals: &'a HashMap<OpportunityId, String>,
    locale: Locale,
    zone: &'a str,
    today: Date,
}

impl RowCtx<'_> {
    /// One task's row, overdue ones marked, each cell with its sort key.
    fn row(&self, task: &Task) -> Row {
        let RowCtx { data, locale, zone, .. } = *self;
        let overdue = task.completed_at.is_none() && task.due_on.is_some_and(|date| date < self.today);
        let mut due = Cell::text(task.due_on.map(|date| i18n::date(locale, date)).unwrap_or_default())
            .sort(task.due_on.map_or(SortKey::Missing, |date| SortKey::Time(days(date))));
        if overdue {
            due = due.class("overdue").title(t(locale, "tasks.overdue").to_owned());
        }
        Row {
            cells: vec![
                Cell::text(task.title.clone()),
                due,
                self.related(task),
                Cell::text(data.user_name(task.owner_id)),
                Cell::text(task.completed_at.map(|at| i18n::timestamp(locale, at, zone)).unwrap_or_default())
                    .sort(task.completed_at.map_or(SortKey::Missing, |at| SortKey::Time(at.as_micros()))),
            ],
            class: overdue.then_some("overdue"),
        }
    }

    /// What the task is about: its deal, else its account, else its lead.
    fn related(&self, task: &Task) -> Cell {
        let RowCtx { data, deals, locale, .. } = *self;
        match (task.opportunity_id.and_then(|id| deals.get(&id).map(|name| (id, name))), task.account_id, task.lead_id) {
            (Some((id, name)), _, _) => Cell::link(name.clone(), format!("/opportunities/{id}")),
            (None, Some(account), _) if data.accounts.contains_key(&account) => {
                Cell::link(data.account_name(Some(account)).unwrap_or_default(), format!("/accounts/{account}"))
            }
            (None, _, Some(lead)) => Cell::text(i18n::tf(locale, "tasks.lead", &[("id", &lead.to_string())])),
            _ => Cell::text(""),
        }
    }
}

/// The owner filter (the reader, then everyone else they may see, then the whole team; only
/// when there is a choice) and the status filter.
fn filters(viewer: &Viewer, data: &OrgData, allowed: &Allowed, owner: Option<UserId>, status: &str) -> Vec<Filter> {
    let locale = viewer.user.locale;
    let mut owner_choices = vec![Choice { value: viewer.user.id.to_string(), label: viewer.user.name.clone() }];
    owner_choices
        .extend(data.users.iter().filter(|user| user.id != viewer.user.id && user.active && allowed.may_see(user.id)).map(Choice::user));
    let mut filters = Vec::new();
    if owner_choices.len() > 1 {
        owner_choices.push(Choice { value: "all".into(), label: t(locale, "tasks.whole_team").to_owned() });
        let value = match owner {
            None => "all".to_owned(),
            Some(id) => id.to_string(),
        };
        filters.push(Filter::select_exact("owner", t(locale, "field.owner_id").to_owned(), value, owner_choices));
    }
    let status_choices = [("open", "tasks.open"), ("done", "tasks.done"), ("all", "tasks.all")]
        .into_iter()
        .map(|(value, key)| Choice { value: value.to_owned(), label: t(locale, key).to_owned() })
        .collect();
    filters.push(Filter::select_exact("status", t(locale, "field.status").to_owned(), status.to_owned(), status_choices));
    filters
}
