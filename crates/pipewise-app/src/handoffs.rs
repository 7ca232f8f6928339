//! Inside-sales handoffs (SPEC C2): inside sales hands cases to field sales through stage 1, and
//! every handoff is recorded with who handed it over, so the share of handed cases that become
//! real deals (pass gate 1, `sql_at`) is measurable per source.
//!
//! - **Who may hand a deal over.** Whoever may change the deal on a right of their own (its
//!   owner, a manager in the owner's line, ops, an admin; not a user it is merely shared with)
//!   hands it to a user they may assign deals to ([`Access::can_assign_deal_to`], the rule of
//!   every owner change). One addition, for inside sales: a **rep who owns the deal while it is
//!   open, in its pipeline's entry stage, and has never passed gate 1** (no `sql_at`) may hand it
//!   to any active rep, in any team, without their manager. Past the entry stage, and for a deal
//!   moved back to it after qualifying, the ordinary owner-change rule applies.
//! - The new owner must exist, be active, not be a viewer, and not already own the deal; a closed
//!   deal is not handed over; the note is optional (at most 2000 characters).
//! - **What is written**, in one transaction: the owner change through the same path as every
//!   deal change (history and the `update` audit entry record it, stamped by the replay rule), a
//!   `handoff` row (append-only, refused UPDATE/DELETE by trigger: from = the owner before,
//!   to = the new owner, actor = who performed it, the stage, when, the edge, the note), and an
//!   audit entry `hand_off` on the deal.
//! - **The report** ([`handoff_report_for`]) counts, per handing user (the `from` of each
//!   handoff) with handoffs dated (in the organisation's time zone) in `from ..= to`, the distinct deals handed over, how
//!   many of them became SQL (`sql_at` set), that share, and how many are won. A rep sees their
//!   own row, a manager the rows of their reporting tree, ops, admins and viewers every row.

use std::collections::{BTreeMap, BTreeSet};

use pipewise_core::access::{Access, DealScope};
use pipewise_core::error::{Problem, RecordRef};
use pipewise_core::opportunity::{Opportunity, OpportunityPatch, Status};
use pipewise_core::user::{Role, User};
use pipewise_core::*;
use serde_json::json;

use crate::*;

/// The longest note a handoff keeps.
pub const HANDOFF_NOTE_MAX: usize = 2000;

/// Hands deal `id` to `to_user`, recording the handoff (see the module docs for the rules).
pub fn hand_off(tx: &mut Tx, ctx: &WriteCtx, id: OpportunityId, to_user: UserId, note: Option<&str>) -> Result<Handoff> {
    let access = writer_access(tx, ctx)?;
    let deal = writable_deal(tx, ctx, &access, id, true)?;
    require(access.can_write_deal(deal.owner_id, false), || format!("only those responsible for opportunity {id} may hand it over"))?;
    let record = RecordRef::new(OpportunityId::LABEL, id.0);
    let mut errors = ValidationErrors::default();
    let note = match note.map(|note| text::optional(note, HANDOFF_NOTE_MAX, true)).transpose() {
        Ok(note) => note.flatten(),
        Err(problem) => {
            errors.push(&record, "note", problem);
            None
        }
    };
    let target = tx.0.user(ctx.org, to_user)?;
    match &target {
        None => errors.push(&record, "to_user_id", Problem::UnknownReference { kind: UserId::LABEL, id: to_user.0 }),
        Some(user) if !user.active => {
            errors.push(&record, "to_user_id", Problem::Fact(Message::new("rule.user_inactive").text("user", to_user)))
        }
        Some(user) if user.role == Role::Viewer => {
            errors.push(&record, "to_user_id", Problem::Fact(Message::new("rule.viewer_cannot_own").text("user", to_user)))
        }
        Some(_) if to_user == deal.owner_id => errors.push(
            &record,
            "to_user_id",
            Problem::Fact(Message::new("rule.already_owner").text("user", to_user).text("opportunity", id)),
        ),
        Some(_) => {}
    }
    if deal.status != Status::Open {
        errors.push(&record, "status", Problem::Fact(Message::new("rule.closed_not_handed_over")));
    }
    errors.into_result(())?;
    let target = target.expect("checked above");
    let inside_sales = is_inside_sales_case(tx, ctx.org, &deal)?;
    require(may_hand_off_to(&access, &deal, inside_sales, &target), || format!("you cannot hand opportunity {id} to user {to_user}"))?;
    let patch = OpportunityPatch { owner_id: Some(to_user), ..OpportunityPatch::default() };
    update_opportunity_with(tx, ctx, id, &patch, true)?;
    let at = tx.0.last_history_at(ctx.org, id)?.filter(|last| *last > ctx.at).unwrap_or(ctx.at);
    let mut handoff = Handoff {
        id: 0,
        opportunity_id: id,
        from_user_id: deal.owner_id,
        to_user_id: to_user,
        actor_id: ctx.actor_id,
        stage_id: deal.stage_id,
        at,
        source: ctx.source,
        note,
    };
    handoff.id = tx.0.insert_handoff(ctx.org, &handoff)?;
    let after = json!({
        "handoff_id": handoff.id, "from_user_id": handoff.from_user_id.0, "to_user_id": handoff.to_user_id.0,
        "stage_id": handoff.stage_id.0, "note": handoff.note,
    });
    audit(tx, &WriteCtx { at, ..*ctx }, OpportunityId::LABEL, id.0, "hand_off", Some(json!({ "owner_id": deal.owner_id.0 })), Some(after))?;
    Ok(handoff)
}

/// Whether `deal` is still an inside-sales case: open, in its pipeline's entry stage, and never
/// past gate 1 (a deal moved back to stage 1 after qualifying is not).
pub fn is_inside_sales_case(tx: &mut Tx, org: OrgId, deal: &Opportunity) -> Result<bool> {
    if deal.status != Status::Open {
        return Ok(false);
    }
    let in_entry_stage = tx.0.pipeline(org, deal.pipeline_id)?.is_some_and(|pipeline| pipeline.entry_stage_id == deal.stage_id);
    Ok(in_entry_stage && tx.0.opportunity_marks(org, deal.id)?.sql_at.is_none())
}

/// Whether `access`, which may change `deal` on a right of its own, may hand it to `target`: to
/// anyone it may assign deals to, or, for a rep who owns the deal while it is an inside-sales
/// case (`inside_sales_case`, see [`is_inside_sales_case`]), to any rep. Whether `target` is
/// active is checked apart.
pub fn may_hand_off_to(access: &Access, deal: &Opportunity, inside_sales_case: bool, target: &User) -> bool {
    let inside_sales = match access {
        Access::User(actor) => {
            actor.role == Role::Rep
                && actor.user_id == deal.owner_id
                && deal.status == Status::Open
                && inside_sales_case
                && target.role == Role::Rep
        }
        Access::System => false,
    };
    target.id != deal.owner_id && target.role != Role::Viewer && (inside_sales || access.can_assign_deal_to(target.id))
}

/// The deal's handoffs in order, if `access` may see the deal; `None` exactly as if it did not
/// exist.
pub fn handoffs_for(tx: &mut Tx, org: OrgId, access: &Access, id: OpportunityId) -> Result<Option<Vec<Handoff>>> {
    if opportunity_for(tx, org, access, id)?.is_none() {
        return Ok(None);
    }
    Ok(Some(tx.0.handoffs_of_opportunity(org, id)?))
}

/// One handing user's line of the handoff report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandoffSource {
    /// Who handed the deals over.
    pub user_id: UserId,
    /// Distinct deals handed over in the period.
    pub handed_over: u32,
    /// Of those, the deals that passed gate 1 (`sql_at` set).
    pub became_sql: u32,
    /// Of those, the deals won.
    pub won: u32,
}

impl HandoffSource {
    /// `became_sql / handed_over`, `None` for no handoffs.
    pub fn sql_share(&self) -> Option<f64> {
        (self.handed_over > 0).then(|| f64::from(self.became_sql) / f64::from(self.handed_over))
    }
}

/// Per handing user with handoffs dated (in the organisation's time zone) from `from` to `to` (both included; no end when
/// `None`): deals handed over, how many became SQL, and how many are won, in user id order. A rep
/// sees their own line, a manager their tree's, everyone else in the organisation every line.
pub fn handoff_report_for(tx: &mut Tx, org: OrgId, access: &Access, from: Date, to: Option<Date>) -> Result<Vec<HandoffSource>> {
    let scope = access.deal_scope();
    let zone = crate::users::zone(tx, org)?;
    let mut deals_by_source: BTreeMap<UserId, BTreeSet<OpportunityId>> = BTreeMap::new();
    for handoff in tx.0.handoffs(org)? {
        let day = zone.date_of(handoff.at);
        if day < from || to.is_some_and(|to| day > to) {
            continue;
        }
        let visible = match &scope {
            DealScope::All => true,
            DealScope::Owners { owners, .. } => owners.contains(&handoff.from_user_id),
        };
        if visible {
            deals_by_source.entry(handoff.from_user_id).or_default().insert(handoff.opportunity_id);
        }
    }
    let mut state: BTreeMap<OpportunityId, (bool, bool)> = BTreeMap::new();
    let mut report = Vec::with_capacity(deals_by_source.len());
    for (user_id, deals) in deals_by_source {
        let mut line = HandoffSource { user_id, handed_over: 0, became_sql: 0, won: 0 };
        for deal in deals {
            let (sql, won) = match state.get(&deal) {
                Some(known) => *known,
                None => {
                    let opportunity =
                        tx.0.opportunity(org, deal, false)?.ok_or(StoreError::NotFound { kind: OpportunityId::LABEL, id: deal.0 })?;
                    let known = (tx.0.opportunity_marks(org, deal)?.sql_at.is_some(), opportunity.status == Status::Won);
                    state.insert(deal, known);
                    known
                }
            };
            line.handed_over += 1;
            line.became_sql += u32::from(sql);
            line.won += u32::from(won);
        }
        report.push(line);
    }
    Ok(report)
}
