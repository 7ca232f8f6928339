//! The records `app::activities` serves, each a [`Record`] for `api::crud`: activities (e-mails,
//! meetings, calls, notes, tasks; list, get, create) and tasks (to-dos with an owner and perhaps
//! a due date; list, get, create, patch). Both follow the deals: a rep sees those of deals they
//! may see, plus their own.

use pipewise_app::{self as app, ActivityFilter, StoreError, TaskFilter, Tx, WriteCtx, input};
use pipewise_core::records::{Activity, ActivityKind, NewActivity, NewTask, Task, TaskPatch};
use pipewise_core::{AccountId, ActivityId, OpportunityId, TaskId, UserId, ValidationErrors};
use serde_json::Value;

use super::crud::{Patchable, Record};
use super::openapi::{Create, Resource};
use super::support::{Key, Query, SortField, names, optional_text_key, text_key};
use super::views::{ActivityView, TaskView};
use super::{Param, Ty};
use crate::auth::Viewer;
use crate::error::AppError;

/// Activities: e-mails, meetings, calls, notes, tasks.
pub struct Activities;

impl Record for Activities {
    type Row = Activity;
    type View = ActivityView;
    type Id = ActivityId;
    /// What the store filters (`opportunity_id`, `account_id`, `user_id`), and `kind`.
    type Filter = (ActivityFilter, Option<ActivityKind>);
    type New = NewActivity;

    const PLURAL: &'static str = "activities";
    const LABEL: &'static str = ActivityId::LABEL;
    const ID: fn(i64) -> ActivityId = ActivityId;

    fn resources() -> Vec<Resource> {
        vec![
            Resource::of::<ActivityView>()
                .create_only(Create::Required, &["kind", "direction", "occurred_at", "subject"])
                .create_only(Create::Optional, &["body", "source", "user_id", "account_id", "opportunity_id", "contact_ids"]),
        ]
    }

    fn id(row: &Activity) -> i64 {
        row.id.0
    }

    fn sorts() -> Vec<SortField<Activity>> {
        vec![
            SortField { name: "id", key: |row| Key::Int(row.id.0) },
            SortField { name: "occurred_at", key: |row| Key::Int(row.occurred_at.as_micros()) },
            SortField { name: "logged_at", key: |row| Key::Int(row.logged_at.as_micros()) },
        ]
    }

    fn filters() -> Vec<Param> {
        vec![
            Param::id("opportunity_id", "Only activities of this deal."),
            Param::id("account_id", "Only activities of this account."),
            Param::id("user_id", "Only activities of this user."),
            Param::new("kind", Ty::Enum(names(ActivityKind::ALL, ActivityKind::as_str)), "Only activities of this kind."),
        ]
    }

    fn filter(query: &Query) -> Result<Self::Filter, AppError> {
        let filter = ActivityFilter {
            opportunity_id: query.id("opportunity_id")?.map(OpportunityId),
            account_id: query.id("account_id")?.map(AccountId),
            user_id: query.id("user_id")?.map(UserId),
            ..ActivityFilter::default()
        };
        Ok((filter, query.parsed("kind", ActivityKind::parse)?))
    }

    fn list(tx: &mut Tx, viewer: &Viewer, (filter, _kind): &Self::Filter) -> app::Result<Vec<Activity>> {
        app::activities::activities_for(tx, viewer.org, &viewer.access, filter)
    }

    fn keep((_filter, kind): &Self::Filter, row: &Activity) -> bool {
        kind.is_none_or(|kind| row.kind == kind)
    }

    fn get(tx: &mut Tx, viewer: &Viewer, id: ActivityId) -> app::Result<Option<Activity>> {
        app::activities::activity_for(tx, viewer.org, &viewer.access, id)
    }

    fn parse_new(body: &Value, viewer: &Viewer) -> Result<NewActivity, ValidationErrors> {
        input::new_activity(body, viewer.user.id)
    }

    /// Logs the activity, then reads it back whole.
    fn create(tx: &mut Tx, ctx: &WriteCtx, new: NewActivity) -> app::Result<Activity> {
        let id = app::activities::create_activity(tx, ctx, new)?;
        app::activities::activity(tx, ctx.org, id)?.ok_or(StoreError::NotFound { kind: ActivityId::LABEL, id: id.0 })
    }
}

/// Tasks: to-dos with an owner and perhaps a due date.
pub struct Tasks;

impl Record for Tasks {
    type Row = Task;
    type View = TaskView;
    type Id = TaskId;
    /// What the store filters (`owner_id`, `opportunity_id`, `open=true`), and `open`.
    type Filter = (TaskFilter, Option<bool>);
    type New = NewTask;

    const PLURAL: &'static str = "tasks";
    const LABEL: &'static str = TaskId::LABEL;
    const ID: fn(i64) -> TaskId = TaskId;

    fn resources() -> Vec<Resource> {
        vec![
            Resource::of::<TaskView>()
                .required(&["title"])
                .writable(&["owner_id", "due_on"])
                .patch_only(&["completed"])
                .create_only(Create::Optional, &["account_id", "opportunity_id", "lead_id"]),
        ]
    }

    fn id(row: &Task) -> i64 {
        row.id.0
    }

    fn sorts() -> Vec<SortField<Task>> {
        vec![
            SortField { name: "id", key: |row| Key::Int(row.id.0) },
            SortField { name: "due_on", key: |row| optional_text_key(row.due_on.map(|date| date.to_string()).as_deref()) },
            SortField { name: "created_at", key: |row| Key::Int(row.created_at.as_micros()) },
            SortField { name: "title", key: |row| text_key(&row.title) },
        ]
    }

    fn filters() -> Vec<Param> {
        vec![
            Param::id("owner_id", "Only tasks owned by this user."),
            Param::id("opportunity_id", "Only tasks of this deal."),
            Param::new("open", Ty::Boolean, "`true`: only tasks not completed; `false`: only completed ones."),
        ]
    }

    fn filter(query: &Query) -> Result<Self::Filter, AppError> {
        let open = query.boolean("open")?;
        let filter = TaskFilter {
            owner_id: query.id("owner_id")?.map(UserId),
            opportunity_id: query.id("opportunity_id")?.map(OpportunityId),
            open_only: open == Some(true),
            scope: None,
        };
        Ok((filter, open))
    }

    fn list(tx: &mut Tx, viewer: &Viewer, (filter, _open): &Self::Filter) -> app::Result<Vec<Task>> {
        app::activities::tasks_for(tx, viewer.org, &viewer.access, filter)
    }

    fn keep((_filter, open): &Self::Filter, row: &Task) -> bool {
        *open != Some(false) || row.completed_at.is_some()
    }

    fn get(tx: &mut Tx, viewer: &Viewer, id: TaskId) -> app::Result<Option<Task>> {
        app::activities::task_for(tx, viewer.org, &viewer.access, id)
    }

    fn parse_new(body: &Value, viewer: &Viewer) -> Result<NewTask, ValidationErrors> {
        input::new_task(body, viewer.user.id)
    }

    fn create(tx: &mut Tx, ctx: &WriteCtx, new: NewTask) -> app::Result<Task> {
        app::activities::create_task(tx, ctx, new)
    }
}

impl Patchable for Tasks {
    type Patch = TaskPatch;

    fn parse_patch(id: TaskId, body: &Value) -> Result<TaskPatch, ValidationErrors> {
        input::task_patch(id, body)
    }

    fn update(tx: &mut Tx, ctx: &WriteCtx, id: TaskId, patch: &TaskPatch) -> app::Result<Task> {
        app::activities::update_task(tx, ctx, id, patch)
    }
}
