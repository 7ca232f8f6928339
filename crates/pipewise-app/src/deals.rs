//! Deals and their history: created and changed through the rules of `pipewise_core::opportunity`
//! and the stage gates, with the history appended in the same transaction; shared and unshared;
//! read within the reader's visibility, now or as of any instant.

use pipewise_core::access::Access;
use pipewise_core::error::{Problem, RecordRef};
use pipewise_core::history::{self, HistoryEvent};
use pipewise_core::opportunity::{self, NewOpportunity, OppField, Opportunity, OpportunityPatch};
use pipewise_core::*;
use serde_json::{Value, json};

use crate::*;

/// Creates a deal and records every set field in its history. A rep creates deals for
/// themself; a manager for anyone in their tree.
pub fn create_opportunity(tx: &mut Tx, ctx: &WriteCtx, new: &NewOpportunity) -> Result<Opportunity> {
    let access = writer_access(tx, ctx)?;
    require(access.can_write_deal(new.owner_id, false), || format!("you cannot create a deal owned by user {}", new.owner_id))?;
    let record = RecordRef::new_record(OpportunityId::LABEL);
    let mut errors = ValidationErrors::default();
    exists(tx.0.user(ctx.org, new.owner_id)?.is_some(), &mut errors, &record, "owner_id", UserId::LABEL, new.owner_id.0);
    if let Some(account) = new.account_id {
        exists(tx.0.account(ctx.org, account)?.is_some(), &mut errors, &record, "account_id", AccountId::LABEL, account.0);
    }
    let pipeline = tx.0.pipeline(ctx.org, new.pipeline_id)?;
    exists(pipeline.is_some(), &mut errors, &record, "pipeline_id", PipelineId::LABEL, new.pipeline_id.0);
    errors.into_result(())?;
    let pipeline = pipeline.expect("checked above");
    let mut created = opportunity::create(OpportunityId(0), new, &pipeline, ctx.at)?;
    crate::gates::gate_move(tx, ctx, &access, None, &created, &pipeline, None, ctx.at)?;
    created.id = tx.0.insert_opportunity(ctx.org, &created)?;
    tx.0.append_history(ctx.org, created.id, &history::diff(None, &created), ctx.at, ctx.actor_id, ctx.source)?;
    crate::gates::stamp_marks(tx, ctx.org, None, &created, &pipeline, ctx.at)?;
    audit(tx, ctx, OpportunityId::LABEL, created.id.0, "create", None, Some(opportunity_json(&created)))?;
    Ok(created)
}

/// The deal `id` if the actor may change it: `NotFound` if they may not even see it,
/// `Forbidden` if they may only look.
pub(crate) fn writable_deal(tx: &mut Tx, ctx: &WriteCtx, access: &Access, id: OpportunityId, lock: bool) -> Result<Opportunity> {
    let not_found = StoreError::NotFound { kind: OpportunityId::LABEL, id: id.0 };
    let deal = tx.0.opportunity(ctx.org, id, lock)?.ok_or(not_found)?;
    let shared = match access.user_id() {
        Some(user) if !access.can_read_deal(deal.owner_id, false) => tx.0.is_opportunity_shared_with(ctx.org, id, user)?,
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
pub fn update_opportunity(tx: &mut Tx, ctx: &WriteCtx, id: OpportunityId, patch: &OpportunityPatch) -> Result<Opportunity> {
    update_opportunity_with(tx, ctx, id, patch, false)
}

/// [`update_opportunity`]; with `owner_change_authorised`, the caller ([`hand_off`]) has already
/// decided the actor may give the deal to `patch.owner_id`.
pub(crate) fn update_opportunity_with(
    tx: &mut Tx,
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
        exists(tx.0.user(ctx.org, owner)?.is_some(), &mut errors, &record, "owner_id", UserId::LABEL, owner.0);
        // Handing a deal over needs a right of one's own over it: a deal shared with a rep can be
        // worked on by that rep, not taken.
        let assignable = owner_change_authorised || access.can_assign_deal_to(owner);
        require(access.can_write_deal(current.owner_id, false) && assignable, || {
            format!("you cannot hand opportunity {id} to user {owner}")
        })?;
    }
    if let Some(account) = account {
        exists(tx.0.account(ctx.org, account)?.is_some(), &mut errors, &record, "account_id", AccountId::LABEL, account.0);
    }
    let pipeline_id = patch.pipeline_id.unwrap_or(current.pipeline_id);
    let pipeline = tx.0.pipeline(ctx.org, pipeline_id)?;
    exists(pipeline.is_some(), &mut errors, &record, "pipeline_id", PipelineId::LABEL, pipeline_id.0);
    errors.into_result(())?;
    let at = match tx.0.last_history_at(ctx.org, id)? {
        Some(last) if last > ctx.at => last,
        _ => ctx.at,
    };
    let pipeline = pipeline.expect("checked above");
    let next = opportunity::apply(&current, patch, &pipeline, at)?;
    let gate_override =
        crate::gates::gate_move(tx, ctx, &access, Some(&current), &next, &pipeline, patch.gate_override_reason.as_deref(), at)?;
    let mut changes = history::diff(Some(&current), &next);
    if !changes.is_empty() {
        tx.0.update_opportunity(ctx.org, &next)?;
        let before: serde_json::Map<String, Value> =
            changes.iter().map(|change| (change.field.as_str().to_owned(), json!(change.old))).collect();
        let after: serde_json::Map<String, Value> =
            changes.iter().map(|change| (change.field.as_str().to_owned(), json!(change.new))).collect();
        audit(tx, &WriteCtx { at, ..*ctx }, OpportunityId::LABEL, id.0, "update", Some(Value::Object(before)), Some(Value::Object(after)))?;
        if let Some(record) = &gate_override {
            crate::gates::record_override(tx, ctx, id, record, &mut changes)?;
        }
        tx.0.append_history(ctx.org, id, &changes, at, ctx.actor_id, ctx.source)?;
        crate::gates::stamp_marks(tx, ctx.org, Some(&current), &next, &pipeline, at)?;
    }
    Ok(next)
}

/// Shares deal `id` with `user`, who may then see and change it. Whoever may change the deal
/// on a right of their own (not a user it is merely shared with) may share it, with any user of
/// the organisation but its owner. Sharing it again keeps the first share, which it answers.
pub fn share_opportunity(tx: &mut Tx, ctx: &WriteCtx, id: OpportunityId, user_id: UserId) -> Result<crate::OpportunityShare> {
    let access = writer_access(tx, ctx)?;
    let deal = writable_deal(tx, ctx, &access, id, false)?;
    require(access.can_write_deal(deal.owner_id, false), || format!("only those responsible for opportunity {id} may share it"))?;
    let record = RecordRef::new(OpportunityId::LABEL, id.0);
    let mut errors = ValidationErrors::default();
    exists(tx.0.user(ctx.org, user_id)?.is_some(), &mut errors, &record, "user_id", UserId::LABEL, user_id.0);
    if user_id == deal.owner_id {
        errors.push(&record, "user_id", Problem::Fact(Message::new("rule.share_with_owner").text("user", user_id).text("opportunity", id)));
    }
    errors.into_result(())?;
    tx.0.share_opportunity(ctx.org, id, user_id, ctx.actor_id, ctx.at)?;
    audit(tx, ctx, OpportunityId::LABEL, id.0, "share", None, Some(json!({ "shared_with": user_id.0 })))?;
    let share = tx.0.opportunity_shares(ctx.org, id)?.into_iter().find(|share| share.user_id == user_id);
    share.ok_or_else(|| StoreError::Corrupt {
        table: "opportunity_share",
        detail: format!("the share of opportunity {id} with user {user_id} was not stored"),
    })
}

/// Ends the share of deal `id` with `user`, who then sees and changes it only on a right of
/// their own. The same people may do it as may share it ([`share_opportunity`]); `user` must
/// exist. Unsharing a deal not shared with `user` writes nothing and answers `false`; an
/// ended share is audited (`unshare`).
pub fn unshare_opportunity(tx: &mut Tx, ctx: &WriteCtx, id: OpportunityId, user_id: UserId) -> Result<bool> {
    let access = writer_access(tx, ctx)?;
    let deal = writable_deal(tx, ctx, &access, id, false)?;
    require(access.can_write_deal(deal.owner_id, false), || format!("only those responsible for opportunity {id} may unshare it"))?;
    let mut errors = ValidationErrors::default();
    exists(
        tx.0.user(ctx.org, user_id)?.is_some(),
        &mut errors,
        &RecordRef::new(OpportunityId::LABEL, id.0),
        "user_id",
        UserId::LABEL,
        user_id.0,
    );
    errors.into_result(())?;
    if !tx.0.unshare_opportunity(ctx.org, id, user_id)? {
        return Ok(false);
    }
    audit(tx, ctx, OpportunityId::LABEL, id.0, "unshare", Some(json!({ "shared_with": user_id.0 })), None)?;
    Ok(true)
}

/// Whom deal `id` is shared with (in user id order), if `access` may see the deal; `None`
/// exactly as if it did not exist.
pub fn opportunity_shares_for(tx: &mut Tx, org: OrgId, access: &Access, id: OpportunityId) -> Result<Option<Vec<crate::OpportunityShare>>> {
    if opportunity_for(tx, org, access, id)?.is_none() {
        return Ok(None);
    }
    Ok(Some(tx.0.opportunity_shares(org, id)?))
}

/// The deal if `access` may see it; `None` exactly as if it did not exist.
pub fn opportunity_for(tx: &mut Tx, org: OrgId, access: &Access, id: OpportunityId) -> Result<Option<Opportunity>> {
    let Some(deal) = tx.0.opportunity(org, id, false)? else { return Ok(None) };
    if visible(tx, org, access, &deal)? { Ok(Some(deal)) } else { Ok(None) }
}

/// Deals matching `filter` that `access` may see.
pub fn opportunities_for(tx: &mut Tx, org: OrgId, access: &Access, filter: &OpportunityFilter) -> Result<Vec<Opportunity>> {
    let filter = OpportunityFilter { scope: Some(access.deal_scope()), ..filter.clone() };
    tx.0.opportunities(org, &filter)
}

/// The deals shared with `user`, beyond those they see by ownership.
pub fn shared_with(tx: &mut Tx, org: OrgId, user: UserId) -> Result<Vec<OpportunityId>> {
    Ok(tx.0.shares_with(org, user)?.into_iter().map(|share| share.opportunity_id).collect())
}

/// The deal's history if `access` may see the deal (as it is now); `None` otherwise.
pub fn history_for(tx: &mut Tx, org: OrgId, access: &Access, id: OpportunityId) -> Result<Option<Vec<HistoryEvent>>> {
    if opportunity_for(tx, org, access, id)?.is_none() {
        return Ok(None);
    }
    Ok(Some(tx.0.history(org, id)?))
}

/// The deal as it was known at `t`, if `access` may see the deal now; `Ok(None)` if it may
/// not or the deal did not exist yet.
pub fn opportunity_as_of_for(tx: &mut Tx, org: OrgId, access: &Access, id: OpportunityId, t: Timestamp) -> Result<Option<Opportunity>> {
    match history_for(tx, org, access, id)? {
        Some(events) => Ok(history::as_of(&events, t)?),
        None => Ok(None),
    }
}

pub(crate) fn visible(tx: &mut Tx, org: OrgId, access: &Access, deal: &Opportunity) -> Result<bool> {
    if access.can_read_deal(deal.owner_id, false) {
        return Ok(true);
    }
    match access.user_id() {
        Some(user) => tx.0.is_opportunity_shared_with(org, deal.id, user),
        None => Ok(false),
    }
}

/// The deal as it was known at `t`; `None` if it did not exist yet. No visibility check: for
/// the system and for callers that checked already.
pub fn opportunity_as_of(tx: &mut Tx, org: OrgId, id: OpportunityId, t: Timestamp) -> Result<Option<Opportunity>> {
    let events = tx.0.history(org, id)?;
    Ok(history::as_of(&events, t)?)
}

/// Every deal as it was known at `t`, in id order. No visibility check.
pub fn book_as_of(tx: &mut Tx, org: OrgId, t: Timestamp) -> Result<Vec<Opportunity>> {
    let events: Vec<HistoryEvent> = tx.0.history_until(org, t)?;
    Ok(history::book_as_of(&events, t)?.into_values().collect())
}

pub(crate) fn opportunity_json(deal: &Opportunity) -> Value {
    Value::Object(OppField::ALL.into_iter().map(|field| (field.as_str().to_owned(), json!(field.encode(deal)))).collect())
}
