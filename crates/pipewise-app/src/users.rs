//! Organisations, users (roles, the reporting hierarchy, who is active) and teams.

use pipewise_core::access::SharedKind;
use pipewise_core::error::{Problem, RecordRef};
use pipewise_core::records::*;
use pipewise_core::user::{self, NewUser, User};
use pipewise_core::*;
use serde_json::{Value, json};
use std::collections::HashMap;

use crate::*;

pub fn create_organisation(tx: &mut Tx, name: &str, reporting_currency: Currency, at: Timestamp) -> Result<Organisation> {
    let record = RecordRef::new_record(OrgId::LABEL);
    let name = text::required(name, 200).map_err(|problem| FieldError { record, field: "name", problem })?;
    let id = tx.0.insert_organisation(&name, reporting_currency, at)?;
    Ok(Organisation { id, name, reporting_currency, time_zone: Zone::utc(), fiscal: fiscal::FiscalCalendar::CALENDAR_YEAR, created_at: at })
}

pub fn create_user(tx: &mut Tx, ctx: &WriteCtx, new: NewUser) -> Result<User> {
    let access = writer_access(tx, ctx)?;
    require(access.can_write(SharedKind::User), || "only an admin manages users".into())?;
    let new = new.validated()?;
    let record = RecordRef::new_record(UserId::LABEL);
    let mut errors = ValidationErrors::default();
    if let Some(manager) = new.manager_id {
        exists(tx.0.user(ctx.org, manager)?.is_some(), &mut errors, &record, "manager_id", UserId::LABEL, manager.0);
    }
    if let Some(team) = new.team_id {
        exists(tx.0.team(ctx.org, team)?.is_some(), &mut errors, &record, "team_id", TeamId::LABEL, team.0);
    }
    errors.into_result(())?;
    if tx.0.user_by_email(ctx.org, &new.email)?.is_some() {
        return Err(StoreError::Conflict(format!("new user: email: {} already belongs to another user", new.email)));
    }
    let id = tx.0.insert_user(ctx.org, &new, ctx.at)?;
    let user = tx.0.user(ctx.org, id)?.ok_or(StoreError::NotFound { kind: UserId::LABEL, id: id.0 })?;
    record_membership(tx, ctx, id, user.team_id)?;
    audit(tx, ctx, UserId::LABEL, id.0, "create", None, Some(user_json(&user)))?;
    Ok(user)
}

/// Changes who `user` reports to, refusing a loop in the hierarchy.
pub fn set_manager(tx: &mut Tx, ctx: &WriteCtx, user_id: UserId, manager: Option<UserId>) -> Result<User> {
    let access = writer_access(tx, ctx)?;
    require(access.can_write(SharedKind::User), || "only an admin manages users".into())?;
    let record = RecordRef::new(UserId::LABEL, user_id.0);
    let users = tx.0.users(ctx.org)?;
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
    tx.0.set_user_manager(ctx.org, user_id, manager)?;
    let after = tx.0.user(ctx.org, user_id)?.ok_or(StoreError::NotFound { kind: UserId::LABEL, id: user_id.0 })?;
    audit(tx, ctx, UserId::LABEL, user_id.0, "update", Some(user_json(&before)), Some(user_json(&after)))?;
    Ok(after)
}

pub fn create_team(tx: &mut Tx, ctx: &WriteCtx, new: NewTeam) -> Result<Team> {
    let access = writer_access(tx, ctx)?;
    require(access.can_write(SharedKind::Team), || "only ops and admins manage teams".into())?;
    let new = new.validated()?;
    if let Some(manager) = new.manager_id {
        let mut errors = ValidationErrors::default();
        exists(
            tx.0.user(ctx.org, manager)?.is_some(),
            &mut errors,
            &RecordRef::new_record(TeamId::LABEL),
            "manager_id",
            UserId::LABEL,
            manager.0,
        );
        errors.into_result(())?;
    }
    let id = tx.0.insert_team(ctx.org, &new)?;
    let team = Team { id, name: new.name, manager_id: new.manager_id };
    audit(tx, ctx, TeamId::LABEL, id.0, "create", None, Some(json!({ "name": team.name, "manager_id": team.manager_id.map(|id| id.0) })))?;
    Ok(team)
}

pub(crate) fn user_json(user: &User) -> Value {
    json!({
        "email": user.email, "name": user.name, "role": user.role.as_str(), "manager_id": user.manager_id.map(|id| id.0),
        "team_id": user.team_id.map(|id| id.0), "time_zone": user.time_zone, "locale": user.locale.as_str(), "active": user.active,
    })
}

/// Changes a user. Admins change anything; users change their own name, time zone and locale.
/// Nobody deactivates themself or takes away their own admin role, so an organisation cannot
/// lock itself out by accident. A new manager is checked against the whole hierarchy.
pub fn update_user(tx: &mut Tx, ctx: &WriteCtx, id: UserId, patch: &UserPatch) -> Result<User> {
    let access = writer_access(tx, ctx)?;
    let current = tx.0.user(ctx.org, id)?.ok_or(StoreError::NotFound { kind: UserId::LABEL, id: id.0 })?;
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
        errors.push(&record, "active", Problem::Fact(Message::new("rule.deactivate_self")));
    }
    if myself && current.role == user::Role::Admin && next.role != user::Role::Admin {
        errors.push(&record, "role", Problem::Fact(Message::new("rule.own_admin_role")));
    }
    if let Some(team) = next.team_id.filter(|team| Some(*team) != current.team_id) {
        exists(tx.0.team(ctx.org, team)?.is_some(), &mut errors, &record, "team_id", TeamId::LABEL, team.0);
    }
    if let Some(manager) = next.manager_id.filter(|manager| Some(*manager) != current.manager_id) {
        let users = tx.0.users(ctx.org)?;
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
    if next.email != current.email && tx.0.user_by_email(ctx.org, &next.email)?.is_some_and(|other| other.id != id) {
        return Err(StoreError::Conflict(format!("user {id}: email: {} already belongs to another user", next.email)));
    }
    if next != current {
        tx.0.update_user(ctx.org, &next)?;
        if next.team_id != current.team_id {
            record_membership(tx, ctx, id, next.team_id)?;
        }
        audit_update(tx, ctx, UserId::LABEL, id.0, user_json(&current), user_json(&next))?;
    }
    Ok(next)
}

/// Keeps `user` on `team` from the organisation's day of the write (the user row's audit entry
/// is the change's record).
fn record_membership(tx: &mut Tx, ctx: &WriteCtx, user: UserId, team: Option<TeamId>) -> Result<()> {
    let from = zone(tx, ctx.org)?.date_of(ctx.at);
    tx.0.record_membership(ctx.org, &user::Membership { user, from, team })?;
    Ok(())
}

/// Who was on which team on which day ([`user::TeamHistory`]).
pub fn team_history(tx: &mut Tx, org: OrgId) -> Result<user::TeamHistory> {
    let users = tx.0.users(org)?;
    Ok(user::TeamHistory::new(&users, tx.0.memberships(org)?))
}

pub fn update_team(tx: &mut Tx, ctx: &WriteCtx, id: TeamId, patch: &TeamPatch) -> Result<Team> {
    let access = writer_access(tx, ctx)?;
    let current = tx.0.team(ctx.org, id)?.ok_or(StoreError::NotFound { kind: TeamId::LABEL, id: id.0 })?;
    require(access.can_write(SharedKind::Team), || "only ops and admins manage teams".into())?;
    let next = patch.apply(&current)?;
    if let Some(manager) = next.manager_id.filter(|manager| Some(*manager) != current.manager_id) {
        let mut errors = ValidationErrors::default();
        exists(
            tx.0.user(ctx.org, manager)?.is_some(),
            &mut errors,
            &RecordRef::new(TeamId::LABEL, id.0),
            "manager_id",
            UserId::LABEL,
            manager.0,
        );
        errors.into_result(())?;
    }
    if next != current {
        tx.0.update_team(ctx.org, &next)?;
        let json = |team: &Team| json!({ "name": team.name, "manager_id": team.manager_id.map(|id| id.0) });
        audit_update(tx, ctx, TeamId::LABEL, id.0, json(&current), json(&next))?;
    }
    Ok(next)
}

// Reads. Everyone in an organisation sees its users and teams.

pub fn organisation(tx: &mut Tx, org: OrgId) -> Result<Option<Organisation>> {
    tx.0.organisation(org)
}

/// The organisation's time zone, whose days its figures, periods and gates count in.
pub fn zone(tx: &mut Tx, org: OrgId) -> Result<Zone> {
    Ok(tx.0.organisation(org)?.map(|organisation| organisation.time_zone).unwrap_or_default())
}

/// Every organisation of the database (for the command line and a server's start).
pub fn organisations(tx: &mut Tx) -> Result<Vec<Organisation>> {
    tx.0.organisations()
}

pub fn user(tx: &mut Tx, org: OrgId, id: UserId) -> Result<Option<User>> {
    tx.0.user(org, id)
}

/// Looks a user up by e-mail address, ignoring case.
pub fn user_by_email(tx: &mut Tx, org: OrgId, email: &str) -> Result<Option<User>> {
    tx.0.user_by_email(org, email)
}

pub fn users(tx: &mut Tx, org: OrgId) -> Result<Vec<User>> {
    tx.0.users(org)
}

pub fn team(tx: &mut Tx, org: OrgId, id: TeamId) -> Result<Option<Team>> {
    tx.0.team(org, id)
}

pub fn teams(tx: &mut Tx, org: OrgId) -> Result<Vec<Team>> {
    tx.0.teams(org)
}
