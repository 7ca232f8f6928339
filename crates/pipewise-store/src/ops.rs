//! Validated writes and history reads, written once over [`Tx`] for every engine.
//!
//! Each function checks its input (reporting every problem with record and field), checks that
//! referenced records exist in the same organisation, and for opportunities appends the history
//! of the change in the same transaction.

use std::collections::HashMap;

use pipewise_core::error::{Problem, RecordRef};
use pipewise_core::history::{self, HistoryEvent};
use pipewise_core::opportunity::{self, NewOpportunity, Opportunity, OpportunityPatch};
use pipewise_core::pipeline::{NewPipeline, Pipeline};
use pipewise_core::records::*;
use pipewise_core::user::{self, NewUser, User};
use pipewise_core::*;

use crate::{Organisation, Result, StoreError, Tx, WriteCtx};

pub fn create_organisation(tx: &mut dyn Tx, name: &str, reporting_currency: Currency, at: Timestamp) -> Result<Organisation> {
    let record = RecordRef::new_record(OrgId::LABEL);
    let name = text::required(name, 200).map_err(|problem| FieldError { record, field: "name", problem })?;
    let id = tx.insert_organisation(&name, reporting_currency, at)?;
    Ok(Organisation { id, name, reporting_currency, created_at: at })
}

pub fn create_user(tx: &mut dyn Tx, ctx: &WriteCtx, new: NewUser) -> Result<User> {
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
    tx.user(ctx.org, id)?.ok_or(StoreError::NotFound { kind: UserId::LABEL, id: id.0 })
}

/// Changes who `user` reports to, refusing a loop in the hierarchy.
pub fn set_manager(tx: &mut dyn Tx, ctx: &WriteCtx, user_id: UserId, manager: Option<UserId>) -> Result<User> {
    let record = RecordRef::new(UserId::LABEL, user_id.0);
    let users = tx.users(ctx.org)?;
    if !users.iter().any(|user| user.id == user_id) {
        return Err(StoreError::NotFound { kind: UserId::LABEL, id: user_id.0 });
    }
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
    tx.user(ctx.org, user_id)?.ok_or(StoreError::NotFound { kind: UserId::LABEL, id: user_id.0 })
}

pub fn create_team(tx: &mut dyn Tx, ctx: &WriteCtx, new: NewTeam) -> Result<Team> {
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
    Ok(Team { id, name: new.name, manager_id: new.manager_id })
}

pub fn create_account(tx: &mut dyn Tx, ctx: &WriteCtx, new: NewAccount) -> Result<Account> {
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
    tx.account(ctx.org, id)?.ok_or(StoreError::NotFound { kind: AccountId::LABEL, id: id.0 })
}

pub fn create_contact(tx: &mut dyn Tx, ctx: &WriteCtx, new: NewContact) -> Result<Contact> {
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
    tx.contact(ctx.org, id)?.ok_or(StoreError::NotFound { kind: ContactId::LABEL, id: id.0 })
}

pub fn create_pipeline(tx: &mut dyn Tx, ctx: &WriteCtx, new: NewPipeline) -> Result<Pipeline> {
    let new = new.validated()?;
    let id = tx.insert_pipeline(ctx.org, &new)?;
    tx.pipeline(ctx.org, id)?.ok_or(StoreError::NotFound { kind: PipelineId::LABEL, id: id.0 })
}

pub fn create_lead(tx: &mut dyn Tx, ctx: &WriteCtx, new: NewLead) -> Result<Lead> {
    let new = new.validated()?;
    if let Some(owner) = new.owner_id {
        let mut errors = ValidationErrors::default();
        exists(tx.user(ctx.org, owner)?.is_some(), &mut errors, &RecordRef::new_record(LeadId::LABEL), "owner_id", UserId::LABEL, owner.0);
        errors.into_result(())?;
    }
    let id = tx.insert_lead(ctx.org, &new, ctx.at)?;
    tx.lead(ctx.org, id)?.ok_or(StoreError::NotFound { kind: LeadId::LABEL, id: id.0 })
}

pub fn create_activity(tx: &mut dyn Tx, ctx: &WriteCtx, new: NewActivity) -> Result<ActivityId> {
    let new = new.validated()?;
    let record = RecordRef::new_record(ActivityId::LABEL);
    let mut errors = ValidationErrors::default();
    if let Some(id) = new.user_id {
        exists(tx.user(ctx.org, id)?.is_some(), &mut errors, &record, "user_id", UserId::LABEL, id.0);
    }
    if let Some(id) = new.account_id {
        exists(tx.account(ctx.org, id)?.is_some(), &mut errors, &record, "account_id", AccountId::LABEL, id.0);
    }
    if let Some(id) = new.opportunity_id {
        exists(tx.opportunity(ctx.org, id, false)?.is_some(), &mut errors, &record, "opportunity_id", OpportunityId::LABEL, id.0);
    }
    for id in &new.contact_ids {
        exists(tx.contact(ctx.org, *id)?.is_some(), &mut errors, &record, "contact_ids", ContactId::LABEL, id.0);
    }
    errors.into_result(())?;
    tx.insert_activity(ctx.org, &new, ctx.at)
}

pub fn create_task(tx: &mut dyn Tx, ctx: &WriteCtx, new: NewTask) -> Result<Task> {
    let new = new.validated()?;
    let record = RecordRef::new_record(TaskId::LABEL);
    let mut errors = ValidationErrors::default();
    exists(tx.user(ctx.org, new.owner_id)?.is_some(), &mut errors, &record, "owner_id", UserId::LABEL, new.owner_id.0);
    if let Some(id) = new.account_id {
        exists(tx.account(ctx.org, id)?.is_some(), &mut errors, &record, "account_id", AccountId::LABEL, id.0);
    }
    if let Some(id) = new.opportunity_id {
        exists(tx.opportunity(ctx.org, id, false)?.is_some(), &mut errors, &record, "opportunity_id", OpportunityId::LABEL, id.0);
    }
    if let Some(id) = new.lead_id {
        exists(tx.lead(ctx.org, id)?.is_some(), &mut errors, &record, "lead_id", LeadId::LABEL, id.0);
    }
    errors.into_result(())?;
    let id = tx.insert_task(ctx.org, &new, ctx.at)?;
    tx.task(ctx.org, id)?.ok_or(StoreError::NotFound { kind: TaskId::LABEL, id: id.0 })
}

/// Creates a deal and records every set field in its history.
pub fn create_opportunity(tx: &mut dyn Tx, ctx: &WriteCtx, new: &NewOpportunity) -> Result<Opportunity> {
    let record = RecordRef::new_record(OpportunityId::LABEL);
    let mut errors = ValidationErrors::default();
    tx.lock_history(ctx.org)?;
    check_owner_and_account(tx, ctx, &record, new.owner_id, new.account_id, &mut errors)?;
    let pipeline = tx.pipeline(ctx.org, new.pipeline_id)?;
    exists(pipeline.is_some(), &mut errors, &record, "pipeline_id", PipelineId::LABEL, new.pipeline_id.0);
    errors.into_result(())?;
    let pipeline = pipeline.expect("checked above");
    let mut created = opportunity::create(OpportunityId(0), new, &pipeline, ctx.at)?;
    created.id = tx.insert_opportunity(ctx.org, &created)?;
    tx.append_history(ctx.org, created.id, &history::diff(None, &created), ctx.at, ctx.actor_id, ctx.source)?;
    Ok(created)
}

/// Applies `patch` to deal `id` and records each changed field. An empty change writes nothing.
/// The change is stamped no earlier than the deal's last change (see [`history`]'s replay rule).
pub fn update_opportunity(tx: &mut dyn Tx, ctx: &WriteCtx, id: OpportunityId, patch: &OpportunityPatch) -> Result<Opportunity> {
    tx.lock_history(ctx.org)?;
    let current = tx.opportunity(ctx.org, id, true)?.ok_or(StoreError::NotFound { kind: OpportunityId::LABEL, id: id.0 })?;
    let record = RecordRef::new(OpportunityId::LABEL, id.0);
    let mut errors = ValidationErrors::default();
    let owner = patch.owner_id.filter(|owner| *owner != current.owner_id);
    let account = patch.account_id.flatten().filter(|account| Some(*account) != current.account_id);
    if let Some(owner) = owner {
        exists(tx.user(ctx.org, owner)?.is_some(), &mut errors, &record, "owner_id", UserId::LABEL, owner.0);
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
    let next = opportunity::apply(&current, patch, &pipeline.expect("checked above"), at)?;
    let changes = history::diff(Some(&current), &next);
    if !changes.is_empty() {
        tx.update_opportunity(ctx.org, &next)?;
        tx.append_history(ctx.org, id, &changes, at, ctx.actor_id, ctx.source)?;
    }
    Ok(next)
}

/// The deal as it was known at `t`; `None` if it did not exist yet.
pub fn opportunity_as_of(tx: &mut dyn Tx, org: OrgId, id: OpportunityId, t: Timestamp) -> Result<Option<Opportunity>> {
    let events = tx.history(org, id)?;
    Ok(history::as_of(&events, t)?)
}

/// Every deal as it was known at `t`, in id order.
pub fn book_as_of(tx: &mut dyn Tx, org: OrgId, t: Timestamp) -> Result<Vec<Opportunity>> {
    let events: Vec<HistoryEvent> = tx.history_until(org, t)?;
    Ok(history::book_as_of(&events, t)?.into_values().collect())
}

fn check_owner_and_account(
    tx: &mut dyn Tx,
    ctx: &WriteCtx,
    record: &RecordRef,
    owner: UserId,
    account: Option<AccountId>,
    errors: &mut ValidationErrors,
) -> Result<()> {
    exists(tx.user(ctx.org, owner)?.is_some(), errors, record, "owner_id", UserId::LABEL, owner.0);
    if let Some(account) = account {
        exists(tx.account(ctx.org, account)?.is_some(), errors, record, "account_id", AccountId::LABEL, account.0);
    }
    Ok(())
}

fn exists(found: bool, errors: &mut ValidationErrors, record: &RecordRef, field: &'static str, kind: &'static str, id: i64) {
    if !found {
        errors.push(record, field, Problem::UnknownReference { kind, id });
    }
}
