//! Validated, authorised and audited operations, written once over [`Tx`] for every engine.
//!
//! Each write:
//! 1. works out what the actor may do ([`access_for`]: `ctx.actor_id = None` is the system);
//! 2. checks its input, reporting every problem with record and field, and that referenced
//!    records exist in the same organisation;
//! 3. writes, appending the opportunity history and an audit entry (before → after, as JSON)
//!    in the same transaction.
//!
//! Reads that edges serve to users go through the `*_for` functions here, which apply row
//! visibility: a deal the reader may not see is reported exactly like one that does not exist.

mod designer;
mod gates;
mod handoffs;
mod settings;
mod workspace;

pub use designer::*;
pub use gates::*;
pub use handoffs::*;
pub use settings::*;
pub use workspace::*;

use std::collections::HashMap;

use pipewise_core::access::{Access, Actor, SharedKind};
use pipewise_core::error::{Problem, RecordRef};
use pipewise_core::history::{self, HistoryEvent};
use pipewise_core::opportunity::{self, NewOpportunity, OppField, Opportunity, OpportunityPatch};
use pipewise_core::pipeline::{NewPipeline, Pipeline};
use pipewise_core::records::*;
use pipewise_core::user::{self, NewUser, User};
use pipewise_core::*;
use serde_json::{Value, json};

use crate::{AuditEntry, OpportunityFilter, Organisation, Result, StoreError, Tx, WriteCtx};

pub fn create_organisation(tx: &mut dyn Tx, name: &str, reporting_currency: Currency, at: Timestamp) -> Result<Organisation> {
    let record = RecordRef::new_record(OrgId::LABEL);
    let name = text::required(name, 200).map_err(|problem| FieldError { record, field: "name", problem })?;
    let id = tx.insert_organisation(&name, reporting_currency, at)?;
    Ok(Organisation { id, name, reporting_currency, created_at: at })
}

/// What `user` may do in `org`; `None` is the system. An unknown or deactivated user may do
/// nothing at all.
pub fn access_for(tx: &mut dyn Tx, org: OrgId, user: Option<UserId>) -> Result<Access> {
    let Some(user_id) = user else { return Ok(Access::System) };
    let user = tx
        .user(org, user_id)?
        .filter(|user| user.active)
        .ok_or_else(|| StoreError::Forbidden(format!("user {user_id} cannot act here")))?;
    let users = if user.role == user::Role::Manager { tx.users(org)? } else { Vec::new() };
    Ok(Access::User(Actor::new(&user, &users)))
}

/// Starts a write: takes the organisation's write lock, then works out what the actor may do.
///
/// Every write of an organisation takes the same lock first (the history counter row, see
/// [`Tx::lock_history`]), so on PostgreSQL concurrent writers of one organisation are serialised
/// exactly as SQLite's single writer serialises them: no lost update, no hierarchy loop from two
/// concurrent manager changes, and one lock order, so no deadlock.
fn writer_access(tx: &mut dyn Tx, ctx: &WriteCtx) -> Result<Access> {
    tx.lock_history(ctx.org)?;
    access_for(tx, ctx.org, ctx.actor_id)
}

fn require(allowed: bool, what: impl FnOnce() -> String) -> Result<()> {
    if allowed { Ok(()) } else { Err(StoreError::Forbidden(what())) }
}

fn audit(
    tx: &mut dyn Tx,
    ctx: &WriteCtx,
    kind: &'static str,
    id: i64,
    action: &'static str,
    before: Option<Value>,
    after: Option<Value>,
) -> Result<()> {
    let entry = AuditEntry {
        at: ctx.at,
        actor_id: ctx.actor_id,
        source: ctx.source,
        record_kind: kind,
        record_id: id,
        action,
        before: before.map(|value| value.to_string()),
        after: after.map(|value| value.to_string()),
    };
    tx.append_audit(ctx.org, &entry)
}

pub fn create_user(tx: &mut dyn Tx, ctx: &WriteCtx, new: NewUser) -> Result<User> {
    let access = writer_access(tx, ctx)?;
    require(access.can_write(SharedKind::User), || "only an admin manages users".into())?;
    let new = new.validated()?;
    let record = RecordRef::new_record(UserId::LABEL);
    let mut errors = ValidationErrors::default();
    if let Some(manager) = new.manager_id {
        exists(tx.user(ctx.org, manager)?.is_some(), &mut errors, &record, "manager_id", UserId::LABEL, manager.0);
    }
    if let Some(team) = new.team_id {
        exists(tx.team(ctx.org, team)?.is_some(), &mut errors, &record, "team_id", TeamId::LABEL, team.0);
    }
    errors.into_result(())?;
    if tx.user_by_email(ctx.org, &new.email)?.is_some() {
        return Err(StoreError::Conflict(format!("new user: email: {} already belongs to another user", new.email)));
    }
    let id = tx.insert_user(ctx.org, &new, ctx.at)?;
    let user = tx.user(ctx.org, id)?.ok_or(StoreError::NotFound { kind: UserId::LABEL, id: id.0 })?;
    audit(tx, ctx, UserId::LABEL, id.0, "create", None, Some(user_json(&user)))?;
    Ok(user)
}

/// Changes who `user` reports to, refusing a loop in the hierarchy.
pub fn set_manager(tx: &mut dyn Tx, ctx: &WriteCtx, user_id: UserId, manager: Option<UserId>) -> Result<User> {
    let access = writer_access(tx, ctx)?;
    require(access.can_write(SharedKind::User), || "only an admin manages users".into())?;
    let record = RecordRef::new(UserId::LABEL, user_id.0);
    let users = tx.users(ctx.org)?;
    let before = users.iter().find(|user| user.id == user_id).ok_or(StoreError::NotFound { kind: UserId::LABEL, id: user_id.0 })?.clone();
    if let Some(manager) = manager {
        if !users.iter().any(|user| user.id == manager) {
            let problem = Problem::UnknownReference { kind: UserId::LABEL, id: manager.0 };
            return Err(FieldError { record, field: "manager_id", problem }.into());
        }
        let manager_of: HashMap<UserId, UserId> = users.iter().filter_map(|user| Some((user.id, user.manager_id?))).collect();
        user::check_manager(user_id, manager, |id| manager_of.get(&id).copied()).map_err(|problem| FieldError {
            record,
            field: "manager_id",
            problem,
        })?;
    }
    tx.set_user_manager(ctx.org, user_id, manager)?;
    let after = tx.user(ctx.org, user_id)?.ok_or(StoreError::NotFound { kind: UserId::LABEL, id: user_id.0 })?;
    audit(tx, ctx, UserId::LABEL, user_id.0, "update", Some(user_json(&before)), Some(user_json(&after)))?;
    Ok(after)
}

/// Stores a new password hash for `user` (an argon2id PHC string made by the edge) and ends
/// the user's other sessions. Users change their own password; admins anyone's.
pub fn set_password_hash(tx: &mut dyn Tx, ctx: &WriteCtx, user_id: UserId, hash: &str, keep_session: Option<&str>) -> Result<()> {
    let access = writer_access(tx, ctx)?;
    require(access.user_id().is_none_or(|actor| actor == user_id) || access.can_write(SharedKind::User), || {
        "only an admin changes another user's password".into()
    })?;
    tx.user(ctx.org, user_id)?.ok_or(StoreError::NotFound { kind: UserId::LABEL, id: user_id.0 })?;
    tx.set_password_hash(ctx.org, user_id, hash)?;
    tx.delete_user_sessions(ctx.org, user_id, keep_session)?;
    // The hash itself is a secret and stays out of the audit log.
    audit(tx, ctx, UserId::LABEL, user_id.0, "set_password", None, None)
}

pub fn create_team(tx: &mut dyn Tx, ctx: &WriteCtx, new: NewTeam) -> Result<Team> {
    let access = writer_access(tx, ctx)?;
    require(access.can_write(SharedKind::Team), || "only ops and admins manage teams".into())?;
    let new = new.validated()?;
    if let Some(manager) = new.manager_id {
        let mut errors = ValidationErrors::default();
        exists(
            tx.user(ctx.org, manager)?.is_some(),
            &mut errors,
            &RecordRef::new_record(TeamId::LABEL),
            "manager_id",
            UserId::LABEL,
            manager.0,
        );
        errors.into_result(())?;
    }
    let id = tx.insert_team(ctx.org, &new)?;
    let team = Team { id, name: new.name, manager_id: new.manager_id };
    audit(tx, ctx, TeamId::LABEL, id.0, "create", None, Some(json!({ "name": team.name, "manager_id": team.manager_id.map(|id| id.0) })))?;
    Ok(team)
}

pub fn create_account(tx: &mut dyn Tx, ctx: &WriteCtx, new: NewAccount) -> Result<Account> {
    let access = writer_access(tx, ctx)?;
    require(access.can_write(SharedKind::Account), || "a viewer cannot create accounts".into())?;
    let new = new.validated()?;
    if let Some(owner) = new.owner_id {
        let mut errors = ValidationErrors::default();
        exists(
            tx.user(ctx.org, owner)?.is_some(),
            &mut errors,
            &RecordRef::new_record(AccountId::LABEL),
            "owner_id",
            UserId::LABEL,
            owner.0,
        );
        errors.into_result(())?;
    }
    let id = tx.insert_account(ctx.org, &new, ctx.at)?;
    let account = tx.account(ctx.org, id)?.ok_or(StoreError::NotFound { kind: AccountId::LABEL, id: id.0 })?;
    audit(tx, ctx, AccountId::LABEL, id.0, "create", None, Some(account_json(&account)))?;
    Ok(account)
}

pub fn create_contact(tx: &mut dyn Tx, ctx: &WriteCtx, new: NewContact) -> Result<Contact> {
    let access = writer_access(tx, ctx)?;
    require(access.can_write(SharedKind::Contact), || "a viewer cannot create contacts".into())?;
    let new = new.validated()?;
    if let Some(account) = new.account_id {
        let mut errors = ValidationErrors::default();
        exists(
            tx.account(ctx.org, account)?.is_some(),
            &mut errors,
            &RecordRef::new_record(ContactId::LABEL),
            "account_id",
            AccountId::LABEL,
            account.0,
        );
        errors.into_result(())?;
    }
    let id = tx.insert_contact(ctx.org, &new, ctx.at)?;
    let contact = tx.contact(ctx.org, id)?.ok_or(StoreError::NotFound { kind: ContactId::LABEL, id: id.0 })?;
    let after = json!({ "name": contact.name, "emails": contact.emails, "phone": contact.phone, "title": contact.title, "account_id": contact.account_id.map(|id| id.0) });
    audit(tx, ctx, ContactId::LABEL, id.0, "create", None, Some(after))?;
    Ok(contact)
}

pub fn create_pipeline(tx: &mut dyn Tx, ctx: &WriteCtx, new: NewPipeline) -> Result<Pipeline> {
    let access = writer_access(tx, ctx)?;
    require(access.can_write(SharedKind::Pipeline), || "only ops and admins design pipelines".into())?;
    let new = new.validated()?;
    let id = tx.insert_pipeline(ctx.org, &new)?;
    let pipeline = tx.pipeline(ctx.org, id)?.ok_or(StoreError::NotFound { kind: PipelineId::LABEL, id: id.0 })?;
    let stages: Vec<Value> =
        pipeline.stages.iter().map(|stage| json!({ "id": stage.id.0, "name_en": stage.name_en, "kind": stage.kind.as_str() })).collect();
    audit(tx, ctx, PipelineId::LABEL, id.0, "create", None, Some(json!({ "name": pipeline.name, "stages": stages })))?;
    Ok(pipeline)
}

pub fn create_lead(tx: &mut dyn Tx, ctx: &WriteCtx, new: NewLead) -> Result<Lead> {
    let access = writer_access(tx, ctx)?;
    require(access.can_write(SharedKind::Account), || "a viewer cannot create leads".into())?;
    let new = new.validated()?;
    if let Some(owner) = new.owner_id {
        let mut errors = ValidationErrors::default();
        exists(tx.user(ctx.org, owner)?.is_some(), &mut errors, &RecordRef::new_record(LeadId::LABEL), "owner_id", UserId::LABEL, owner.0);
        errors.into_result(())?;
    }
    let id = tx.insert_lead(ctx.org, &new, ctx.at)?;
    let lead = tx.lead(ctx.org, id)?.ok_or(StoreError::NotFound { kind: LeadId::LABEL, id: id.0 })?;
    let after = json!({ "name": lead.name, "company": lead.company, "email": lead.email, "status": lead.status.as_str(), "owner_id": lead.owner_id.map(|id| id.0) });
    audit(tx, ctx, LeadId::LABEL, id.0, "create", None, Some(after))?;
    Ok(lead)
}

pub fn create_activity(tx: &mut dyn Tx, ctx: &WriteCtx, new: NewActivity) -> Result<ActivityId> {
    let access = writer_access(tx, ctx)?;
    require(access.can_write(SharedKind::Contact), || "a viewer cannot log activities".into())?;
    let new = new.validated()?;
    if let Some(user) = new.user_id {
        require(access.can_assign_deal_to(user), || format!("you cannot log an activity as user {user}"))?;
    }
    let record = RecordRef::new_record(ActivityId::LABEL);
    let mut errors = ValidationErrors::default();
    if let Some(id) = new.user_id {
        exists(tx.user(ctx.org, id)?.is_some(), &mut errors, &record, "user_id", UserId::LABEL, id.0);
    }
    if let Some(id) = new.account_id {
        exists(tx.account(ctx.org, id)?.is_some(), &mut errors, &record, "account_id", AccountId::LABEL, id.0);
    }
    if let Some(id) = new.opportunity_id {
        let deal = writable_deal(tx, ctx, &access, id, false);
        exists(!matches!(deal, Err(StoreError::NotFound { .. })), &mut errors, &record, "opportunity_id", OpportunityId::LABEL, id.0);
        if let Err(error @ StoreError::Forbidden(_)) = deal {
            return Err(error);
        }
    }
    for id in &new.contact_ids {
        exists(tx.contact(ctx.org, *id)?.is_some(), &mut errors, &record, "contact_ids", ContactId::LABEL, id.0);
    }
    errors.into_result(())?;
    let id = tx.insert_activity(ctx.org, &new, ctx.at)?;
    let after = json!({
        "kind": new.kind.as_str(), "direction": new.direction.as_str(), "occurred_at": new.occurred_at.to_string(), "subject": new.subject,
        "opportunity_id": new.opportunity_id.map(|id| id.0), "account_id": new.account_id.map(|id| id.0),
    });
    audit(tx, ctx, ActivityId::LABEL, id.0, "create", None, Some(after))?;
    Ok(id)
}

pub fn create_task(tx: &mut dyn Tx, ctx: &WriteCtx, new: NewTask) -> Result<Task> {
    let access = writer_access(tx, ctx)?;
    require(access.can_write(SharedKind::Contact), || "a viewer cannot create tasks".into())?;
    let new = new.validated()?;
    require(access.can_assign_deal_to(new.owner_id), || format!("you cannot give a task to user {}", new.owner_id))?;
    let record = RecordRef::new_record(TaskId::LABEL);
    let mut errors = ValidationErrors::default();
    exists(tx.user(ctx.org, new.owner_id)?.is_some(), &mut errors, &record, "owner_id", UserId::LABEL, new.owner_id.0);
    if let Some(id) = new.account_id {
        exists(tx.account(ctx.org, id)?.is_some(), &mut errors, &record, "account_id", AccountId::LABEL, id.0);
    }
    if let Some(id) = new.opportunity_id {
        let deal = writable_deal(tx, ctx, &access, id, false);
        exists(!matches!(deal, Err(StoreError::NotFound { .. })), &mut errors, &record, "opportunity_id", OpportunityId::LABEL, id.0);
        if let Err(error @ StoreError::Forbidden(_)) = deal {
            return Err(error);
        }
    }
    if let Some(id) = new.lead_id {
        exists(tx.lead(ctx.org, id)?.is_some(), &mut errors, &record, "lead_id", LeadId::LABEL, id.0);
    }
    errors.into_result(())?;
    let id = tx.insert_task(ctx.org, &new, ctx.at)?;
    let task = tx.task(ctx.org, id)?.ok_or(StoreError::NotFound { kind: TaskId::LABEL, id: id.0 })?;
    let after = json!({ "title": task.title, "owner_id": task.owner_id.0, "due_on": task.due_on.map(|date| date.to_string()), "opportunity_id": task.opportunity_id.map(|id| id.0) });
    audit(tx, ctx, TaskId::LABEL, id.0, "create", None, Some(after))?;
    Ok(task)
}

/// Creates a deal and records every set field in its history. A rep creates deals for
/// themself; a manager for anyone in their tree.
pub fn create_opportunity(tx: &mut dyn Tx, ctx: &WriteCtx, new: &NewOpportunity) -> Result<Opportunity> {
    let access = writer_access(tx, ctx)?;
    require(access.can_write_deal(new.owner_id, false), || format!("you cannot create a deal owned by user {}", new.owner_id))?;
    let record = RecordRef::new_record(OpportunityId::LABEL);
    let mut errors = ValidationErrors::default();
    exists(tx.user(ctx.org, new.owner_id)?.is_some(), &mut errors, &record, "owner_id", UserId::LABEL, new.owner_id.0);
    if let Some(account) = new.account_id {
        exists(tx.account(ctx.org, account)?.is_some(), &mut errors, &record, "account_id", AccountId::LABEL, account.0);
    }
    let pipeline = tx.pipeline(ctx.org, new.pipeline_id)?;
    exists(pipeline.is_some(), &mut errors, &record, "pipeline_id", PipelineId::LABEL, new.pipeline_id.0);
    errors.into_result(())?;
    let pipeline = pipeline.expect("checked above");
    let mut created = opportunity::create(OpportunityId(0), new, &pipeline, ctx.at)?;
    gates::gate_move(tx, ctx, &access, None, &created, &pipeline, None, ctx.at)?;
    created.id = tx.insert_opportunity(ctx.org, &created)?;
    tx.append_history(ctx.org, created.id, &history::diff(None, &created), ctx.at, ctx.actor_id, ctx.source)?;
    gates::stamp_marks(tx, ctx.org, None, &created, &pipeline, ctx.at)?;
    audit(tx, ctx, OpportunityId::LABEL, created.id.0, "create", None, Some(opportunity_json(&created)))?;
    Ok(created)
}

/// The deal `id` if the actor may change it: `NotFound` if they may not even see it,
/// `Forbidden` if they may only look.
fn writable_deal(tx: &mut dyn Tx, ctx: &WriteCtx, access: &Access, id: OpportunityId, lock: bool) -> Result<Opportunity> {
    let not_found = StoreError::NotFound { kind: OpportunityId::LABEL, id: id.0 };
    let deal = tx.opportunity(ctx.org, id, lock)?.ok_or(not_found)?;
    let shared = match access.user_id() {
        Some(user) if !access.can_read_deal(deal.owner_id, false) => tx.is_opportunity_shared_with(ctx.org, id, user)?,
        _ => false,
    };
    if !access.can_read_deal(deal.owner_id, shared) {
        return Err(StoreError::NotFound { kind: OpportunityId::LABEL, id: id.0 });
    }
    require(access.can_write_deal(deal.owner_id, shared), || format!("you may view opportunity {id} but not change it"))?;
    Ok(deal)
}

/// Applies `patch` to deal `id` and records each changed field. An empty change writes nothing.
/// The change is stamped no earlier than the deal's last change (see [`history`]'s replay rule).
///
/// A stage change passes the stage gates first (see [`gates`](self::gates) for the rules and for
/// `patch.gate_override_reason`): a refused move is [`StoreError::GateRefused`].
pub fn update_opportunity(tx: &mut dyn Tx, ctx: &WriteCtx, id: OpportunityId, patch: &OpportunityPatch) -> Result<Opportunity> {
    update_opportunity_with(tx, ctx, id, patch, false)
}

/// [`update_opportunity`]; with `owner_change_authorised`, the caller ([`hand_off`]) has already
/// decided the actor may give the deal to `patch.owner_id`.
fn update_opportunity_with(
    tx: &mut dyn Tx,
    ctx: &WriteCtx,
    id: OpportunityId,
    patch: &OpportunityPatch,
    owner_change_authorised: bool,
) -> Result<Opportunity> {
    let access = writer_access(tx, ctx)?;
    let current = writable_deal(tx, ctx, &access, id, true)?;
    let record = RecordRef::new(OpportunityId::LABEL, id.0);
    let mut errors = ValidationErrors::default();
    let owner = patch.owner_id.filter(|owner| *owner != current.owner_id);
    let account = patch.account_id.flatten().filter(|account| Some(*account) != current.account_id);
    if let Some(owner) = owner {
        exists(tx.user(ctx.org, owner)?.is_some(), &mut errors, &record, "owner_id", UserId::LABEL, owner.0);
        // Handing a deal over needs a right of one's own over it: a deal shared with a rep can be
        // worked on by that rep, not taken.
        let assignable = owner_change_authorised || access.can_assign_deal_to(owner);
        require(access.can_write_deal(current.owner_id, false) && assignable, || {
            format!("you cannot hand opportunity {id} to user {owner}")
        })?;
    }
    if let Some(account) = account {
        exists(tx.account(ctx.org, account)?.is_some(), &mut errors, &record, "account_id", AccountId::LABEL, account.0);
    }
    let pipeline_id = patch.pipeline_id.unwrap_or(current.pipeline_id);
    let pipeline = tx.pipeline(ctx.org, pipeline_id)?;
    exists(pipeline.is_some(), &mut errors, &record, "pipeline_id", PipelineId::LABEL, pipeline_id.0);
    errors.into_result(())?;
    let at = match tx.last_history_at(ctx.org, id)? {
        Some(last) if last > ctx.at => last,
        _ => ctx.at,
    };
    let pipeline = pipeline.expect("checked above");
    let next = opportunity::apply(&current, patch, &pipeline, at)?;
    let gate_override = gates::gate_move(tx, ctx, &access, Some(&current), &next, &pipeline, patch.gate_override_reason.as_deref(), at)?;
    let mut changes = history::diff(Some(&current), &next);
    if !changes.is_empty() {
        tx.update_opportunity(ctx.org, &next)?;
        let before: serde_json::Map<String, Value> =
            changes.iter().map(|change| (change.field.as_str().to_owned(), json!(change.old))).collect();
        let after: serde_json::Map<String, Value> =
            changes.iter().map(|change| (change.field.as_str().to_owned(), json!(change.new))).collect();
        audit(tx, &WriteCtx { at, ..*ctx }, OpportunityId::LABEL, id.0, "update", Some(Value::Object(before)), Some(Value::Object(after)))?;
        if let Some(record) = &gate_override {
            gates::record_override(tx, ctx, id, record, &mut changes)?;
        }
        tx.append_history(ctx.org, id, &changes, at, ctx.actor_id, ctx.source)?;
        gates::stamp_marks(tx, ctx.org, Some(&current), &next, &pipeline, at)?;
    }
    Ok(next)
}

/// Shares deal `id` with `user`, who may then see and change it. Whoever may change the deal
/// on a right of their own (not a user it is merely shared with) may share it, with any user of
/// the organisation but its owner. Sharing it again keeps the first share, which it answers.
pub fn share_opportunity(tx: &mut dyn Tx, ctx: &WriteCtx, id: OpportunityId, user_id: UserId) -> Result<crate::OpportunityShare> {
    let access = writer_access(tx, ctx)?;
    let deal = writable_deal(tx, ctx, &access, id, false)?;
    require(access.can_write_deal(deal.owner_id, false), || format!("only those responsible for opportunity {id} may share it"))?;
    let record = RecordRef::new(OpportunityId::LABEL, id.0);
    let mut errors = ValidationErrors::default();
    exists(tx.user(ctx.org, user_id)?.is_some(), &mut errors, &record, "user_id", UserId::LABEL, user_id.0);
    if user_id == deal.owner_id {
        errors.push(&record, "user_id", Problem::Rule(format!("user {user_id} owns opportunity {id}")));
    }
    errors.into_result(())?;
    tx.share_opportunity(ctx.org, id, user_id, ctx.actor_id, ctx.at)?;
    audit(tx, ctx, OpportunityId::LABEL, id.0, "share", None, Some(json!({ "shared_with": user_id.0 })))?;
    let share = tx.opportunity_shares(ctx.org, id)?.into_iter().find(|share| share.user_id == user_id);
    share.ok_or_else(|| StoreError::Corrupt {
        table: "opportunity_share",
        detail: format!("the share of opportunity {id} with user {user_id} was not stored"),
    })
}

/// Ends the share of deal `id` with `user`, who then sees and changes it only on a right of
/// their own. The same people may do it as may share it ([`share_opportunity`]); `user` must
/// exist. Unsharing a deal not shared with `user` writes nothing and answers `false`; an
/// ended share is audited (`unshare`).
pub fn unshare_opportunity(tx: &mut dyn Tx, ctx: &WriteCtx, id: OpportunityId, user_id: UserId) -> Result<bool> {
    let access = writer_access(tx, ctx)?;
    let deal = writable_deal(tx, ctx, &access, id, false)?;
    require(access.can_write_deal(deal.owner_id, false), || format!("only those responsible for opportunity {id} may unshare it"))?;
    let mut errors = ValidationErrors::default();
    exists(
        tx.user(ctx.org, user_id)?.is_some(),
        &mut errors,
        &RecordRef::new(OpportunityId::LABEL, id.0),
        "user_id",
        UserId::LABEL,
        user_id.0,
    );
    errors.into_result(())?;
    if !tx.unshare_opportunity(ctx.org, id, user_id)? {
        return Ok(false);
    }
    audit(tx, ctx, OpportunityId::LABEL, id.0, "unshare", Some(json!({ "shared_with": user_id.0 })), None)?;
    Ok(true)
}

/// Whom deal `id` is shared with (in user id order), if `access` may see the deal; `None`
/// exactly as if it did not exist.
pub fn opportunity_shares_for(
    tx: &mut dyn Tx,
    org: OrgId,
    access: &Access,
    id: OpportunityId,
) -> Result<Option<Vec<crate::OpportunityShare>>> {
    if opportunity_for(tx, org, access, id)?.is_none() {
        return Ok(None);
    }
    Ok(Some(tx.opportunity_shares(org, id)?))
}

/// The deal if `access` may see it; `None` exactly as if it did not exist.
pub fn opportunity_for(tx: &mut dyn Tx, org: OrgId, access: &Access, id: OpportunityId) -> Result<Option<Opportunity>> {
    let Some(deal) = tx.opportunity(org, id, false)? else { return Ok(None) };
    if visible(tx, org, access, &deal)? { Ok(Some(deal)) } else { Ok(None) }
}

/// Deals matching `filter` that `access` may see.
pub fn opportunities_for(tx: &mut dyn Tx, org: OrgId, access: &Access, filter: &OpportunityFilter) -> Result<Vec<Opportunity>> {
    let filter = OpportunityFilter { scope: Some(access.deal_scope()), ..filter.clone() };
    tx.opportunities(org, &filter)
}

/// The deal's history if `access` may see the deal (as it is now); `None` otherwise.
pub fn history_for(tx: &mut dyn Tx, org: OrgId, access: &Access, id: OpportunityId) -> Result<Option<Vec<HistoryEvent>>> {
    if opportunity_for(tx, org, access, id)?.is_none() {
        return Ok(None);
    }
    Ok(Some(tx.history(org, id)?))
}

/// The deal as it was known at `t`, if `access` may see the deal now; `Ok(None)` if it may
/// not or the deal did not exist yet.
pub fn opportunity_as_of_for(tx: &mut dyn Tx, org: OrgId, access: &Access, id: OpportunityId, t: Timestamp) -> Result<Option<Opportunity>> {
    match history_for(tx, org, access, id)? {
        Some(events) => Ok(history::as_of(&events, t)?),
        None => Ok(None),
    }
}

fn visible(tx: &mut dyn Tx, org: OrgId, access: &Access, deal: &Opportunity) -> Result<bool> {
    if access.can_read_deal(deal.owner_id, false) {
        return Ok(true);
    }
    match access.user_id() {
        Some(user) => tx.is_opportunity_shared_with(org, deal.id, user),
        None => Ok(false),
    }
}

/// The deal as it was known at `t`; `None` if it did not exist yet. No visibility check: for
/// the system and for callers that checked already.
pub fn opportunity_as_of(tx: &mut dyn Tx, org: OrgId, id: OpportunityId, t: Timestamp) -> Result<Option<Opportunity>> {
    let events = tx.history(org, id)?;
    Ok(history::as_of(&events, t)?)
}

/// Every deal as it was known at `t`, in id order. No visibility check.
pub fn book_as_of(tx: &mut dyn Tx, org: OrgId, t: Timestamp) -> Result<Vec<Opportunity>> {
    let events: Vec<HistoryEvent> = tx.history_until(org, t)?;
    Ok(history::book_as_of(&events, t)?.into_values().collect())
}

/// How many audit entries one read of [`tasks_as_of`] takes.
const AUDIT_PAGE: u32 = 10_000;

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
pub fn tasks_as_of(tx: &mut dyn Tx, org: OrgId, t: Timestamp) -> Result<Vec<Task>> {
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

fn exists(found: bool, errors: &mut ValidationErrors, record: &RecordRef, field: &'static str, kind: &'static str, id: i64) {
    if !found {
        errors.push(record, field, Problem::UnknownReference { kind, id });
    }
}

fn opportunity_json(deal: &Opportunity) -> Value {
    Value::Object(OppField::ALL.into_iter().map(|field| (field.as_str().to_owned(), json!(field.encode(deal)))).collect())
}

fn user_json(user: &User) -> Value {
    json!({
        "email": user.email, "name": user.name, "role": user.role.as_str(), "manager_id": user.manager_id.map(|id| id.0),
        "team_id": user.team_id.map(|id| id.0), "time_zone": user.time_zone, "locale": user.locale.as_str(), "active": user.active,
    })
}

fn account_json(account: &Account) -> Value {
    json!({
        "name": account.name, "domains": account.domains, "industry": account.industry, "employee_count": account.employee_count,
        "region": account.region, "owner_id": account.owner_id.map(|id| id.0),
    })
}

// Partial updates and scoped reads, for the JSON API and every other edge.

/// The fields that differ between two JSON objects: `(before, after)` restricted to them, or
/// `None` when nothing changed.
fn changed_fields(before: Value, after: Value) -> Option<(Value, Value)> {
    let (Value::Object(before), Value::Object(after)) = (before, after) else { return None };
    let fields: Vec<String> = after.iter().filter(|(key, value)| before.get(*key) != Some(value)).map(|(key, _)| key.clone()).collect();
    if fields.is_empty() {
        return None;
    }
    let pick = |object: &serde_json::Map<String, Value>| -> Value {
        Value::Object(fields.iter().map(|field| (field.clone(), object.get(field).cloned().unwrap_or(Value::Null))).collect())
    };
    Some((pick(&before), pick(&after)))
}

/// Audits an update from the records' JSON before and after; `false` when nothing changed.
fn audit_update(tx: &mut dyn Tx, ctx: &WriteCtx, kind: &'static str, id: i64, before: Value, after: Value) -> Result<bool> {
    match changed_fields(before, after) {
        Some((before, after)) => {
            audit(tx, ctx, kind, id, "update", Some(before), Some(after))?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Changes a user. Admins change anything; users change their own name, time zone and locale.
/// Nobody deactivates themself or takes away their own admin role, so an organisation cannot
/// lock itself out by accident. A new manager is checked against the whole hierarchy.
pub fn update_user(tx: &mut dyn Tx, ctx: &WriteCtx, id: UserId, patch: &UserPatch) -> Result<User> {
    let access = writer_access(tx, ctx)?;
    let current = tx.user(ctx.org, id)?.ok_or(StoreError::NotFound { kind: UserId::LABEL, id: id.0 })?;
    let myself = access.user_id() == Some(id);
    require(access.can_write(SharedKind::User) || (myself && patch.is_personal()), || {
        if myself {
            "only an admin changes a user's e-mail, role, manager, team or status".into()
        } else {
            "only an admin manages users".into()
        }
    })?;
    let next = patch.apply(&current)?;
    let record = RecordRef::new(UserId::LABEL, id.0);
    let mut errors = ValidationErrors::default();
    if myself && !next.active {
        errors.push(&record, "active", Problem::Rule("you cannot deactivate yourself".into()));
    }
    if myself && current.role == user::Role::Admin && next.role != user::Role::Admin {
        errors.push(&record, "role", Problem::Rule("you cannot take away your own admin role".into()));
    }
    if let Some(team) = next.team_id.filter(|team| Some(*team) != current.team_id) {
        exists(tx.team(ctx.org, team)?.is_some(), &mut errors, &record, "team_id", TeamId::LABEL, team.0);
    }
    if let Some(manager) = next.manager_id.filter(|manager| Some(*manager) != current.manager_id) {
        let users = tx.users(ctx.org)?;
        if users.iter().any(|user| user.id == manager) {
            let manager_of: HashMap<UserId, UserId> = users.iter().filter_map(|user| Some((user.id, user.manager_id?))).collect();
            if let Err(problem) = user::check_manager(id, manager, |id| manager_of.get(&id).copied()) {
                errors.push(&record, "manager_id", problem);
            }
        } else {
            errors.push(&record, "manager_id", Problem::UnknownReference { kind: UserId::LABEL, id: manager.0 });
        }
    }
    errors.into_result(())?;
    if next.email != current.email && tx.user_by_email(ctx.org, &next.email)?.is_some_and(|other| other.id != id) {
        return Err(StoreError::Conflict(format!("user {id}: email: {} already belongs to another user", next.email)));
    }
    if next != current {
        tx.update_user(ctx.org, &next)?;
        audit_update(tx, ctx, UserId::LABEL, id.0, user_json(&current), user_json(&next))?;
    }
    Ok(next)
}

pub fn update_team(tx: &mut dyn Tx, ctx: &WriteCtx, id: TeamId, patch: &TeamPatch) -> Result<Team> {
    let access = writer_access(tx, ctx)?;
    let current = tx.team(ctx.org, id)?.ok_or(StoreError::NotFound { kind: TeamId::LABEL, id: id.0 })?;
    require(access.can_write(SharedKind::Team), || "only ops and admins manage teams".into())?;
    let next = patch.apply(&current)?;
    if let Some(manager) = next.manager_id.filter(|manager| Some(*manager) != current.manager_id) {
        let mut errors = ValidationErrors::default();
        exists(
            tx.user(ctx.org, manager)?.is_some(),
            &mut errors,
            &RecordRef::new(TeamId::LABEL, id.0),
            "manager_id",
            UserId::LABEL,
            manager.0,
        );
        errors.into_result(())?;
    }
    if next != current {
        tx.update_team(ctx.org, &next)?;
        let json = |team: &Team| json!({ "name": team.name, "manager_id": team.manager_id.map(|id| id.0) });
        audit_update(tx, ctx, TeamId::LABEL, id.0, json(&current), json(&next))?;
    }
    Ok(next)
}

pub fn update_account(tx: &mut dyn Tx, ctx: &WriteCtx, id: AccountId, patch: &AccountPatch) -> Result<Account> {
    let access = writer_access(tx, ctx)?;
    let current = tx.account(ctx.org, id)?.ok_or(StoreError::NotFound { kind: AccountId::LABEL, id: id.0 })?;
    require(access.can_write(SharedKind::Account), || "a viewer cannot change accounts".into())?;
    let next = patch.apply(&current)?;
    if let Some(owner) = next.owner_id.filter(|owner| Some(*owner) != current.owner_id) {
        let mut errors = ValidationErrors::default();
        exists(
            tx.user(ctx.org, owner)?.is_some(),
            &mut errors,
            &RecordRef::new(AccountId::LABEL, id.0),
            "owner_id",
            UserId::LABEL,
            owner.0,
        );
        errors.into_result(())?;
    }
    if next != current {
        tx.update_account(ctx.org, &next)?;
        audit_update(tx, ctx, AccountId::LABEL, id.0, account_json(&current), account_json(&next))?;
    }
    Ok(next)
}

fn contact_json(contact: &Contact) -> Value {
    json!({ "name": contact.name, "emails": contact.emails, "phone": contact.phone, "title": contact.title, "account_id": contact.account_id.map(|id| id.0) })
}

pub fn update_contact(tx: &mut dyn Tx, ctx: &WriteCtx, id: ContactId, patch: &ContactPatch) -> Result<Contact> {
    let access = writer_access(tx, ctx)?;
    let current = tx.contact(ctx.org, id)?.ok_or(StoreError::NotFound { kind: ContactId::LABEL, id: id.0 })?;
    require(access.can_write(SharedKind::Contact), || "a viewer cannot change contacts".into())?;
    let next = patch.apply(&current)?;
    if let Some(account) = next.account_id.filter(|account| Some(*account) != current.account_id) {
        let mut errors = ValidationErrors::default();
        let record = RecordRef::new(ContactId::LABEL, id.0);
        exists(tx.account(ctx.org, account)?.is_some(), &mut errors, &record, "account_id", AccountId::LABEL, account.0);
        errors.into_result(())?;
    }
    if next != current {
        tx.update_contact(ctx.org, &next)?;
        audit_update(tx, ctx, ContactId::LABEL, id.0, contact_json(&current), contact_json(&next))?;
    }
    Ok(next)
}

fn lead_json(lead: &Lead) -> Value {
    json!({
        "name": lead.name, "company": lead.company, "email": lead.email, "phone": lead.phone, "title": lead.title,
        "source": lead.source, "status": lead.status.as_str(), "owner_id": lead.owner_id.map(|id| id.0),
    })
}

pub fn update_lead(tx: &mut dyn Tx, ctx: &WriteCtx, id: LeadId, patch: &LeadPatch) -> Result<Lead> {
    let access = writer_access(tx, ctx)?;
    let current = tx.lead(ctx.org, id)?.ok_or(StoreError::NotFound { kind: LeadId::LABEL, id: id.0 })?;
    require(access.can_write(SharedKind::Account), || "a viewer cannot change leads".into())?;
    let next = patch.apply(&current)?;
    if let Some(owner) = next.owner_id.filter(|owner| Some(*owner) != current.owner_id) {
        let mut errors = ValidationErrors::default();
        exists(tx.user(ctx.org, owner)?.is_some(), &mut errors, &RecordRef::new(LeadId::LABEL, id.0), "owner_id", UserId::LABEL, owner.0);
        errors.into_result(())?;
    }
    if next != current {
        tx.update_lead(ctx.org, &next)?;
        audit_update(tx, ctx, LeadId::LABEL, id.0, lead_json(&current), lead_json(&next))?;
    }
    Ok(next)
}

/// Whether `access` may see `task`: its own or its reporting tree's tasks, and tasks of deals it
/// may see.
fn task_visible(tx: &mut dyn Tx, org: OrgId, access: &Access, task: &Task) -> Result<bool> {
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
pub fn update_task(tx: &mut dyn Tx, ctx: &WriteCtx, id: TaskId, patch: &TaskPatch) -> Result<Task> {
    let access = writer_access(tx, ctx)?;
    let not_found = StoreError::NotFound { kind: TaskId::LABEL, id: id.0 };
    let current = tx.task(ctx.org, id)?.ok_or(not_found)?;
    if !task_visible(tx, ctx.org, &access, &current)? {
        return Err(StoreError::NotFound { kind: TaskId::LABEL, id: id.0 });
    }
    require(access.can_write(SharedKind::Contact), || format!("you may view task {id} but not change it"))?;
    let next = patch.apply(&current, ctx.at)?;
    if next.owner_id != current.owner_id {
        let mut errors = ValidationErrors::default();
        let record = RecordRef::new(TaskId::LABEL, id.0);
        exists(tx.user(ctx.org, next.owner_id)?.is_some(), &mut errors, &record, "owner_id", UserId::LABEL, next.owner_id.0);
        errors.into_result(())?;
        require(access.can_assign_deal_to(next.owner_id), || format!("you cannot hand task {id} to user {}", next.owner_id))?;
    }
    if next != current {
        tx.update_task(ctx.org, &next)?;
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
pub fn task_for(tx: &mut dyn Tx, org: OrgId, access: &Access, id: TaskId) -> Result<Option<Task>> {
    let Some(task) = tx.task(org, id)? else { return Ok(None) };
    Ok(task_visible(tx, org, access, &task)?.then_some(task))
}

/// Tasks matching `filter` that `access` may see.
pub fn tasks_for(tx: &mut dyn Tx, org: OrgId, access: &Access, filter: &crate::TaskFilter) -> Result<Vec<Task>> {
    tx.tasks(org, &crate::TaskFilter { scope: Some(access.deal_scope()), ..filter.clone() })
}

/// The activity if `access` may see it: one it (or its reporting tree) logged, or one of a deal
/// it may see. `None` exactly as if it did not exist.
pub fn activity_for(tx: &mut dyn Tx, org: OrgId, access: &Access, id: ActivityId) -> Result<Option<Activity>> {
    let Some(activity) = tx.activity(org, id)? else { return Ok(None) };
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
pub fn activities_for(tx: &mut dyn Tx, org: OrgId, access: &Access, filter: &crate::ActivityFilter) -> Result<Vec<Activity>> {
    tx.activities(org, &crate::ActivityFilter { scope: Some(access.deal_scope()), ..filter.clone() })
}

/// The audit log, newest first, for those who may read it (admins).
pub fn audit_events_for(tx: &mut dyn Tx, org: OrgId, access: &Access, filter: &crate::AuditFilter) -> Result<Vec<crate::AuditEvent>> {
    require(access.can_read_audit(), || "only an admin reads the audit log".into())?;
    tx.audit_events(org, filter)
}

/// A successful sign-in: the attempt, the new session and an audit entry, in one transaction.
/// The session's `token_hash` is the hash of a secret only the browser holds.
pub fn record_sign_in(tx: &mut dyn Tx, session: &crate::Session, email: &str, client_address: &str) -> Result<()> {
    tx.record_login_attempt(email, client_address, session.created_at, true)?;
    tx.insert_session(session)?;
    let ctx =
        WriteCtx { org: session.org, actor_id: Some(session.user_id), source: pipewise_core::history::Source::Web, at: session.created_at };
    audit(tx, &ctx, UserId::LABEL, session.user_id.0, "sign_in", None, None)
}

/// A failed sign-in, counted for throttling. Not audited: it names no user for certain.
pub fn record_failed_sign_in(tx: &mut dyn Tx, email: &str, client_address: &str, at: Timestamp) -> Result<()> {
    tx.record_login_attempt(email, client_address, at, false)
}

/// Ends a session and audits it.
pub fn end_session(tx: &mut dyn Tx, ctx: &WriteCtx, token_hash: &str) -> Result<()> {
    tx.delete_session(token_hash)?;
    let user = ctx.actor_id.map_or(0, |id| id.0);
    audit(tx, ctx, UserId::LABEL, user, "sign_out", None, None)
}

/// Slides a session's expiry; bookkeeping, not audited.
pub fn touch_session(tx: &mut dyn Tx, token_hash: &str, at: Timestamp, expires_at: Timestamp) -> Result<()> {
    tx.touch_session(token_hash, at, expires_at)
}

/// Notes a token's last use; bookkeeping, not audited.
pub fn touch_api_token(tx: &mut dyn Tx, id: i64, at: Timestamp) -> Result<()> {
    tx.touch_api_token(id, at)
}

/// Stores a new API token of the actor (its `user_id` must be the actor's) and audits it.
pub fn create_api_token(tx: &mut dyn Tx, ctx: &WriteCtx, token: &crate::ApiToken) -> Result<i64> {
    let access = writer_access(tx, ctx)?;
    require(access.user_id() == Some(token.user_id), || "a token is created by its owner".into())?;
    let id = tx.insert_api_token(token)?;
    audit(tx, ctx, "api token", id, "create", None, Some(json!({ "name": token.name, "prefix": token.prefix })))?;
    Ok(id)
}

/// Revokes one of the actor's tokens; `NotFound` when there is no such live token.
pub fn revoke_api_token(tx: &mut dyn Tx, ctx: &WriteCtx, id: i64) -> Result<()> {
    let access = writer_access(tx, ctx)?;
    let user = access.user_id().ok_or_else(|| StoreError::Forbidden("a token is revoked by its owner".into()))?;
    if !tx.revoke_api_token(ctx.org, user, id, ctx.at)? {
        return Err(StoreError::NotFound { kind: "api token", id });
    }
    audit(tx, ctx, "api token", id, "revoke", None, None)
}
