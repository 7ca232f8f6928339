//! What every operation works out first: who the actor is and what they may do ([`access_for`]),
//! the organisation's write lock ([`writer_access`]), and the helpers that refuse.

use pipewise_core::access::{Access, Actor};
use pipewise_core::error::{Problem, RecordRef};
use pipewise_core::user::{self};
use pipewise_core::*;

use crate::*;

/// What `user` may do in `org`; `None` is the system. An unknown or deactivated user may do
/// nothing at all.
pub fn access_for(tx: &mut Tx, org: OrgId, user: Option<UserId>) -> Result<Access> {
    let Some(user_id) = user else { return Ok(Access::System) };
    let user =
        tx.0.user(org, user_id)?
            .filter(|user| user.active)
            .ok_or_else(|| StoreError::Forbidden(format!("user {user_id} cannot act here")))?;
    let users = if user.role == user::Role::Manager { tx.0.users(org)? } else { Vec::new() };
    Ok(Access::User(Actor::new(&user, &users)))
}

/// Starts a write: takes the organisation's write lock, then works out what the actor may do.
///
/// Every write of an organisation takes the same lock first (the history counter row, see
/// [`Tx::lock_history`]), so on PostgreSQL concurrent writers of one organisation are serialised
/// exactly as SQLite's single writer serialises them: no lost update, no hierarchy loop from two
/// concurrent manager changes, and one lock order, so no deadlock.
pub(crate) fn writer_access(tx: &mut Tx, ctx: &WriteCtx) -> Result<Access> {
    tx.0.lock_history(ctx.org)?;
    access_for(tx, ctx.org, ctx.actor_id)
}

pub(crate) fn require(allowed: bool, what: impl FnOnce() -> String) -> Result<()> {
    if allowed { Ok(()) } else { Err(StoreError::Forbidden(what())) }
}

pub(crate) fn exists(found: bool, errors: &mut ValidationErrors, record: &RecordRef, field: &'static str, kind: &'static str, id: i64) {
    if !found {
        errors.push(record, field, Problem::UnknownReference { kind, id });
    }
}

/// [`exists`] for a write that checks one reference alone: the error, if any, at once.
pub(crate) fn must_exist(
    found: bool,
    record: &RecordRef,
    field: &'static str,
    kind: &'static str,
    id: i64,
) -> Result<(), ValidationErrors> {
    let mut errors = ValidationErrors::default();
    exists(found, &mut errors, record, field, kind, id);
    errors.into_result(())
}
