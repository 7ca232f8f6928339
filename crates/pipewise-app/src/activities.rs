//! Activities and tasks: logged and updated on deals the writer may change, read within the
//! reader's visibility, and the tasks as they stood at any past instant ([`tasks_as_of`]).

use pipewise_core::access::{Access, SharedKind};
use pipewise_core::error::RecordRef;
use pipewise_core::records::*;
use pipewise_core::*;
use serde_json::{Value, json};
use std::collections::HashMap;

use crate::*;

pub fn create_activity(tx: &mut Tx, ctx: &WriteCtx, new: NewActivity) -> Result<ActivityId> {
    let access = writer_access(tx, ctx)?;
    require(access.can_write(SharedKind::Contact), || "a viewer cannot log activities".into())?;
    let new = new.validated()?;
    if let Some(user) = new.user_id {
        require(access.can_assign_deal_to(user), || format!("you cannot log an activity as user {user}"))?;
    }
    let record = RecordRef::new_record(ActivityId::LABEL);
    let mut errors = ValidationErrors::default();
    if let Some(id) = new.user_id {
        exists(tx.0.user(ctx.org, id)?.is_some(), &mut errors, &record, "user_id", UserId::LABEL, id.0);
    }
    check_links(tx, ctx, &access, &record, &mut errors, new.account_id, new.opportunity_id)?;
    for id in &new.contact_ids {
        exists(tx.0.contact(ctx.org, *id)?.is_some(), &mut errors, &record, "contact_ids", ContactId::LABEL, id.0);
    }
    errors.into_result(())?;
    let id = tx.0.insert_activity(ctx.org, &new, ctx.at)?;
    let after = json!({
        "kind": new.kind.as_str(), "direction": new.direction.as_str(), "occurred_at": new.occurred_at.to_string(), "subject": new.subject,
        "opportunity_id": new.opportunity_id.map(|id| id.0), "account_id": new.account_id.map(|id| id.0),
    });
    audit(tx, ctx, ActivityId::LABEL, id.0, "create", None, Some(after))?;
    Ok(id)
}

pub fn create_task(tx: &mut Tx, ctx: &WriteCtx, new: NewTask) -> Result<Task> {
    let access = writer_access(tx, ctx)?;
    require(access.can_write(SharedKind::Contact), || "a viewer cannot create tasks".into())?;
    let new = new.validated()?;
    require(access.can_assign_deal_to(new.owner_id), || format!("you cannot give a task to user {}", new.owner_id))?;
    let record = RecordRef::new_record(TaskId::LABEL);
    let mut errors = ValidationErrors::default();
    exists(tx.0.user(ctx.org, new.owner_id)?.is_some(), &mut errors, &record, "owner_id", UserId::LABEL, new.owner_id.0);
    check_links(tx, ctx, &access, &record, &mut errors, new.account_id, new.opportunity_id)?;
    if let Some(id) = new.lead_id {
        exists(tx.0.lead(ctx.org, id)?.is_some(), &mut errors, &record, "lead_id", LeadId::LABEL, id.0);
    }
    errors.into_result(())?;
    let id = tx.0.insert_task(ctx.org, &new, ctx.at)?;
    let task = tx.0.task(ctx.org, id)?.ok_or(StoreError::NotFound { kind: TaskId::LABEL, id: id.0 })?;
    let after = json!({ "title": task.title, "owner_id": task.owner_id.0, "due_on": task.due_on.map(|date| date.to_string()), "opportunity_id": task.opportunity_id.map(|id| id.0) });
    audit(tx, ctx, TaskId::LABEL, id.0, "create", None, Some(after))?;
    Ok(task)
}

/// Notes in `errors` (of `record`) an account or a deal a new activity or task names that does
/// not exist; a deal the writer may not change refuses the write.
fn check_links(
    tx: &mut Tx,
    ctx: &WriteCtx,
    access: &Access,
    record: &RecordRef,
    errors: &mut ValidationErrors,
    account: Option<AccountId>,
    deal: Option<OpportunityId>,
) -> Result<()> {
    if let Some(id) = account {
        exists(tx.0.account(ctx.org, id)?.is_some(), errors, record, "account_id", AccountId::LABEL, id.0);
    }
    if let Some(id) = deal {
        let deal = writable_deal(tx, ctx, access, id, false);
        exists(!matches!(deal, Err(StoreError::NotFound { .. })), errors, record, "opportunity_id", OpportunityId::LABEL, id.0);
        if let Err(error @ StoreError::Forbidden(_)) = deal {
            return Err(error);
        }
    }
    Ok(())
}

/// How many audit entries one read of [`tasks_as_of`] takes.
pub(crate) const AUDIT_PAGE: u32 = 10_000;

/// Every task as it was known at `t`, in the store's task order: the tasks created by then,
/// each with the title, owner, due date and completion it had then. No visibility check.
///
/// Tasks are not in the history log, but every change to one goes through [`update_task`],
/// which audits the changed fields before and after: a task changed after `t` gets back, field
/// by field, the *before* value of the earliest later change of that field (audit entries in id
/// order, which is commit order). So a task completed after `t` is open as of `t`, one reopened
/// after `t` keeps the completion it had then, and a due date moved after `t` is the old one.
/// A task's `completed_at` may still lie after `t` (a task stored as done, with its completion
/// time, when it was created): the caller compares it with `t`.
pub fn tasks_as_of(tx: &mut Tx, org: OrgId, t: Timestamp) -> Result<Vec<Task>> {
    stored_tasks_as_of(&mut *tx.0, org, t)
}

/// [`tasks_as_of`] over the store's transaction, for the analytics projection.
pub(crate) fn stored_tasks_as_of(tx: &mut dyn pipewise_store::Tx, org: OrgId, t: Timestamp) -> Result<Vec<Task>> {
    let mut tasks: Vec<Task> = tx.tasks(org, &crate::TaskFilter::default())?.into_iter().filter(|task| task.created_at <= t).collect();
    // Newest first, so an earlier change's before image overwrites a later one's.
    let mut undo: HashMap<i64, serde_json::Map<String, Value>> = HashMap::new();
    let mut before_id = None;
    loop {
        let filter = crate::AuditFilter {
            record_kind: Some(TaskId::LABEL.to_owned()),
            before_id,
            limit: AUDIT_PAGE,
            ..crate::AuditFilter::default()
        };
        let page = tx.audit_events(org, &filter)?;
        for event in &page {
            if event.action != "update" || event.at <= t {
                continue;
            }
            let Some(before) = event.before.as_deref() else { continue };
            let corrupt = |detail: String| StoreError::Corrupt { table: "audit_event", detail: format!("entry {}: {detail}", event.id) };
            let Value::Object(fields) = serde_json::from_str(before).map_err(|error| corrupt(error.to_string()))? else {
                return Err(corrupt("the before image is not an object".into()));
            };
            undo.entry(event.record_id).or_default().extend(fields);
        }
        match page.last() {
            Some(last) if page.len() == AUDIT_PAGE as usize => before_id = Some(last.id),
            _ => break,
        }
    }
    for task in &mut tasks {
        let id = task.id;
        let Some(fields) = undo.get(&id.0) else { continue };
        let corrupt = |field: &str, value: &Value| StoreError::Corrupt {
            table: "audit_event",
            detail: format!("task {id}: {field}: {value} is not a value the task had"),
        };
        for (field, value) in fields {
            match (field.as_str(), value) {
                ("title", Value::String(title)) => task.title = title.clone(),
                ("owner_id", Value::Number(id)) => task.owner_id = UserId(id.as_i64().ok_or_else(|| corrupt(field, value))?),
                ("due_on", Value::Null) => task.due_on = None,
                ("due_on", Value::String(raw)) => task.due_on = Some(time::parse_date(raw).map_err(|_| corrupt(field, value))?),
                ("completed_at", Value::Null) => task.completed_at = None,
                ("completed_at", Value::String(raw)) => task.completed_at = Some(raw.parse().map_err(|_| corrupt(field, value))?),
                _ => return Err(corrupt(field, value)),
            }
        }
    }
    Ok(tasks)
}

/// Whether `access` may see `task`: its own or its reporting tree's tasks, and tasks of deals it
/// may see.
pub(crate) fn task_visible(tx: &mut Tx, org: OrgId, access: &Access, task: &Task) -> Result<bool> {
    if access.can_read_deal(task.owner_id, false) {
        return Ok(true);
    }
    match task.opportunity_id {
        Some(deal) => Ok(opportunity_for(tx, org, access, deal)?.is_some()),
        None => Ok(false),
    }
}

/// Changes a task: its title, due date, owner, or completes or reopens it. Whoever may see a
/// task may change it, but a viewer; a task is handed only to someone whose deals one may
/// change.
pub fn update_task(tx: &mut Tx, ctx: &WriteCtx, id: TaskId, patch: &TaskPatch) -> Result<Task> {
    let access = writer_access(tx, ctx)?;
    let not_found = StoreError::NotFound { kind: TaskId::LABEL, id: id.0 };
    let current = tx.0.task(ctx.org, id)?.ok_or(not_found)?;
    if !task_visible(tx, ctx.org, &access, &current)? {
        return Err(StoreError::NotFound { kind: TaskId::LABEL, id: id.0 });
    }
    require(access.can_write(SharedKind::Contact), || format!("you may view task {id} but not change it"))?;
    let next = patch.apply(&current, ctx.at)?;
    if next.owner_id != current.owner_id {
        let mut errors = ValidationErrors::default();
        let record = RecordRef::new(TaskId::LABEL, id.0);
        exists(tx.0.user(ctx.org, next.owner_id)?.is_some(), &mut errors, &record, "owner_id", UserId::LABEL, next.owner_id.0);
        errors.into_result(())?;
        require(access.can_assign_deal_to(next.owner_id), || format!("you cannot hand task {id} to user {}", next.owner_id))?;
    }
    if next != current {
        tx.0.update_task(ctx.org, &next)?;
        let json = |task: &Task| {
            json!({
                "title": task.title, "owner_id": task.owner_id.0, "due_on": task.due_on.map(|date| date.to_string()),
                "completed_at": task.completed_at.map(|at| at.to_string()),
            })
        };
        audit_update(tx, ctx, TaskId::LABEL, id.0, json(&current), json(&next))?;
    }
    Ok(next)
}

/// The task if `access` may see it; `None` exactly as if it did not exist.
pub fn task_for(tx: &mut Tx, org: OrgId, access: &Access, id: TaskId) -> Result<Option<Task>> {
    let Some(task) = tx.0.task(org, id)? else { return Ok(None) };
    Ok(task_visible(tx, org, access, &task)?.then_some(task))
}

/// Tasks matching `filter` that `access` may see.
pub fn tasks_for(tx: &mut Tx, org: OrgId, access: &Access, filter: &crate::TaskFilter) -> Result<Vec<Task>> {
    tx.0.tasks(org, &crate::TaskFilter { scope: Some(access.deal_scope()), ..filter.clone() })
}

/// The activity if `access` may see it: one it (or its reporting tree) logged, or one of a deal
/// it may see. `None` exactly as if it did not exist.
pub fn activity_for(tx: &mut Tx, org: OrgId, access: &Access, id: ActivityId) -> Result<Option<Activity>> {
    let Some(activity) = tx.0.activity(org, id)? else { return Ok(None) };
    if access.deal_scope() == pipewise_core::access::DealScope::All
        || activity.user_id.is_some_and(|user| access.can_read_deal(user, false))
    {
        return Ok(Some(activity));
    }
    match activity.opportunity_id {
        Some(deal) if opportunity_for(tx, org, access, deal)?.is_some() => Ok(Some(activity)),
        _ => Ok(None),
    }
}

/// Activities matching `filter` that `access` may see.
pub fn activities_for(tx: &mut Tx, org: OrgId, access: &Access, filter: &crate::ActivityFilter) -> Result<Vec<Activity>> {
    tx.0.activities(org, &crate::ActivityFilter { scope: Some(access.deal_scope()), ..filter.clone() })
}

/// An activity just written, as stored (the writer's own answer).
pub fn activity(tx: &mut Tx, org: OrgId, id: ActivityId) -> Result<Option<Activity>> {
    tx.0.activity(org, id)
}

/// A deal's activities, newest first. The caller has checked that the reader sees the deal.
pub fn activities_of_opportunity(tx: &mut Tx, org: OrgId, id: OpportunityId) -> Result<Vec<Activity>> {
    tx.0.activities_of_opportunity(org, id)
}

/// The time of each deal's latest activity, for deals that have one, in opportunity order; with
/// `deals`, only those deals.
pub fn last_activity_at(tx: &mut Tx, org: OrgId, deals: Option<&[OpportunityId]>) -> Result<Vec<(OpportunityId, Timestamp)>> {
    tx.0.last_activity_at(org, deals)
}
