//! Tasks: the reader's own by default, open ones first by due date, overdue ones highlighted.
//! Managers can switch to anyone in their team (and ops/admins to anyone); reps see only their
//! own.

use pipewise_app as app;
use std::collections::{BTreeSet, HashMap};

use axum::extract::{RawQuery, State};
use axum::response::Response;
use pipewise_app::{OpportunityFilter, TaskFilter};
use pipewise_core::access::DealScope;
use pipewise_core::*;

use super::data::{OrgData, today_in};
use super::list::{Cell, Choice, Column, Filter, List, Row, SortKey};
use super::{Params, SignedIn, respond};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, blocking};
use crate::i18n::{self, t};

pub async fn tasks(State(state): State<AppState>, SignedIn(viewer): SignedIn, RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query.as_deref());
    let reader = viewer.clone();
    let result = blocking(move || task_list(&state, &reader, &params)?.respond(&reader, &params)).await;
    respond(&viewer, result)
}

fn days(date: Date) -> i64 {
    i64::from(date.since(Date::constant(1900, 1, 1)).map_or(0, |span| span.get_days()))
}

fn task_list(state: &AppState, viewer: &Viewer, params: &Params) -> Result<List, AppError> {
    let locale = viewer.user.locale;
    let now = state.now();
    let mut tx = state.db.read()?;
    let data = OrgData::load(&mut tx, viewer.org, now)?;
    // Whose tasks the reader may look at.
    let allowed: Option<BTreeSet<UserId>> = match viewer.access.deal_scope() {
        DealScope::All => None,
        DealScope::Owners { owners, .. } => Some(owners),
    };
    let may_see = |user: UserId| allowed.as_ref().is_none_or(|owners| owners.contains(&user));
    let owner_param = params.get("owner").unwrap_or_default();
    let owner: Option<UserId> = match owner_param {
        "all" => None,
        raw => Some(raw.parse::<i64>().ok().map(UserId).filter(|id| may_see(*id)).unwrap_or(viewer.user.id)),
    };
    let status = params.get("status").unwrap_or("open");
    let filter = TaskFilter { owner_id: owner, open_only: status == "open", ..TaskFilter::default() };
    let mut tasks = app::activities::tasks_for(&mut tx, viewer.org, &viewer.access, &filter)?;
    tasks.retain(|task| may_see(task.owner_id) && (status != "done" || task.completed_at.is_some()));
    let deals: HashMap<OpportunityId, String> =
        app::deals::opportunities_for(&mut tx, viewer.org, &viewer.access, &OpportunityFilter::default())?
            .into_iter()
            .map(|deal| (deal.id, deal.name))
            .collect();
    let today = today_in(now, &viewer.user.time_zone);
    let columns = vec![
        Column::new(locale, "task", "field.task"),
        Column::new(locale, "due", "field.due_on"),
        Column::new(locale, "related", "field.related"),
        Column::new(locale, "owner", "field.owner_id"),
        Column::new(locale, "completed", "field.completed_at"),
    ];
    let rows = tasks
        .iter()
        .map(|task| {
            let overdue = task.completed_at.is_none() && task.due_on.is_some_and(|date| date < today);
            let mut due = Cell::text(task.due_on.map(|date| i18n::date(locale, date)).unwrap_or_default())
                .sort(task.due_on.map_or(SortKey::Missing, |date| SortKey::Time(days(date))));
            if overdue {
                due = due.class("overdue").title(t(locale, "tasks.overdue").to_owned());
            }
            let related = match (task.opportunity_id.and_then(|id| deals.get(&id).map(|name| (id, name))), task.account_id, task.lead_id) {
                (Some((id, name)), _, _) => Cell::link(name.clone(), format!("/opportunities/{id}")),
                (None, Some(account), _) if data.accounts.contains_key(&account) => {
                    Cell::link(data.account_name(Some(account)).unwrap_or_default(), format!("/accounts/{account}"))
                }
                (None, _, Some(lead)) => Cell::text(i18n::tf(locale, "tasks.lead", &[("id", &lead.to_string())])),
                _ => Cell::text(""),
            };
            Row {
                cells: vec![
                    Cell::text(task.title.clone()),
                    due,
                    related,
                    Cell::text(data.user_name(task.owner_id)),
                    Cell::text(task.completed_at.map(|at| i18n::timestamp(locale, at, &viewer.user.time_zone)).unwrap_or_default())
                        .sort(task.completed_at.map_or(SortKey::Missing, |at| SortKey::Time(at.as_micros()))),
                ],
                class: overdue.then_some("overdue"),
            }
        })
        .collect();
    let mut owner_choices = vec![Choice { value: viewer.user.id.to_string(), label: viewer.user.name.clone() }];
    owner_choices.extend(
        data.users
            .iter()
            .filter(|user| user.id != viewer.user.id && user.active && may_see(user.id))
            .map(|user| Choice { value: user.id.to_string(), label: user.name.clone() }),
    );
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
    Ok(List {
        title: t(locale, "tasks.title").to_owned(),
        nav: "tasks",
        path: "/tasks",
        columns,
        rows,
        filters,
        default_sort: ("due", false),
        cursor_pager: None,
        csv_name: "tasks",
        note: None,
    })
}
