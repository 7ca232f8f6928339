//! Tasks (to-dos with an owner and perhaps a due date), which follow the deals: a rep sees those
//! of deals they may see, plus their own. List, get, create, patch.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use pipewise_app as app;
use pipewise_app::{TaskFilter, input};
use pipewise_core::records::Task;
use pipewise_core::{OpportunityId, TaskId, UserId};

use super::db::{read, write};
use super::openapi::{Create, Resource};
use super::records::{crud, list_query};
use super::support::{IdPath, JsonBody, Key, Listing, Query, SortField, created, not_found, optional_text_key, text_key};
use super::views::{Page, TaskView};
use super::{Param, Route, Ty};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::AppError;

pub fn routes() -> Vec<Route> {
    crud(
        "tasks",
        "Task",
        task_query(),
        ["list_tasks", "create_task", "get_task", "update_task"],
        list_tasks,
        create_task,
        get_task,
        Some(update_task),
    )
}

pub fn resources() -> Vec<Resource> {
    vec![
        Resource::of::<TaskView>()
            .required(&["title"])
            .writable(&["owner_id", "due_on"])
            .patch_only(&["completed"])
            .create_only(Create::Optional, &["account_id", "opportunity_id", "lead_id"]),
    ]
}

fn task_sorts() -> Vec<SortField<Task>> {
    vec![
        SortField { name: "id", key: |row| Key::Int(row.id.0) },
        SortField { name: "due_on", key: |row| optional_text_key(row.due_on.map(|date| date.to_string()).as_deref()) },
        SortField { name: "created_at", key: |row| Key::Int(row.created_at.as_micros()) },
        SortField { name: "title", key: |row| text_key(&row.title) },
    ]
}

fn task_query() -> Vec<Param> {
    list_query(
        vec![
            Param::id("owner_id", "Only tasks owned by this user."),
            Param::id("opportunity_id", "Only tasks of this deal."),
            Param::new("open", Ty::Boolean, "`true`: only tasks not completed; `false`: only completed ones."),
        ],
        &task_sorts(),
    )
}

async fn list_tasks(State(state): State<AppState>, viewer: Viewer, RawQuery(raw): RawQuery) -> Result<Json<Page<TaskView>>, AppError> {
    let query = Query::parse(raw.as_deref(), &task_query())?;
    let sorts = task_sorts();
    let listing = Listing::parse(&query, &sorts)?;
    let open = query.boolean("open")?;
    let filter = TaskFilter {
        owner_id: query.id("owner_id")?.map(UserId),
        opportunity_id: query.id("opportunity_id")?.map(OpportunityId),
        open_only: open == Some(true),
        scope: None,
    };
    let mut rows = read(&state, move |tx| Ok(app::activities::tasks_for(tx, viewer.org, &viewer.access, &filter)?)).await?;
    if open == Some(false) {
        rows.retain(|row| row.completed_at.is_some());
    }
    Ok(Json(listing.page(rows, &sorts, |row| row.id.0, TaskView::from)))
}

async fn get_task(State(state): State<AppState>, viewer: Viewer, IdPath(id): IdPath) -> Result<Json<TaskView>, AppError> {
    let row = read(&state, move |tx| {
        app::activities::task_for(tx, viewer.org, &viewer.access, TaskId(id))?.ok_or_else(|| not_found(TaskId::LABEL, id))
    })
    .await?;
    Ok(Json(row.into()))
}

async fn create_task(State(state): State<AppState>, viewer: Viewer, JsonBody(body): JsonBody) -> Result<Response, AppError> {
    let new = input::new_task(&body, viewer.user.id)?;
    let row = write(&state, &viewer, move |tx, ctx| app::activities::create_task(tx, ctx, new)).await?;
    Ok(created(format!("/api/v1/tasks/{}", row.id), TaskView::from(row)))
}

async fn update_task(
    State(state): State<AppState>,
    viewer: Viewer,
    IdPath(id): IdPath,
    JsonBody(body): JsonBody,
) -> Result<Json<TaskView>, AppError> {
    let patch = input::task_patch(TaskId(id), &body)?;
    let row = write(&state, &viewer, move |tx, ctx| app::activities::update_task(tx, ctx, TaskId(id), &patch)).await?;
    Ok(Json(row.into()))
}
