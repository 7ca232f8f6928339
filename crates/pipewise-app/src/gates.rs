//! Stage gates in storage (SPEC C2): exit criteria per stage, the checklist log, enforcement of
//! every stage move, recorded overrides, and what passing or failing a gate stamps on a deal.
//!
//! - **Criteria** belong to a stage and are archived, never deleted; a stage's gate is its
//!   unarchived criteria in id order. Ops and admins add and archive them; a loss review adds one
//!   ([`criterion_from_loss`]), by ops, an admin or a manager of the deal's owner.
//! - **Checks** are an append-only log per deal: a tick (who, when, evidence) or an uncheck. The
//!   latest row of a criterion counts. Whoever may change the deal may tick its checklist items.
//! - **Enforcement.** [`crate::deals::update_opportunity`] (which the board, the deal form, the API, the
//!   CLI and imports all call) runs [`gates::check_move`] whenever the stage changes, and
//!   [`crate::deals::create_opportunity`] when a deal is created past its pipeline's entry stage. The
//!   deal is judged as the patch leaves it (an amount set in the same edit counts), with its
//!   workspace, its checks, today (`ctx.at`'s UTC date) and the average sales cycle of the
//!   owner's team ([`team_cycle_days`]). A refused forward move is
//!   [`StoreError::GateRefused`] listing every unmet criterion of every gate on the way. Moving
//!   into another pipeline checks the gates of the new pipeline from its entry stage.
//! - **Overrides.** With `OpportunityPatch::gate_override_reason`, a manager in the owner's line,
//!   ops or an admin ([`gates::may_override`]) pushes the move through; a rep or a viewer is
//!   [`StoreError::Refused`] (forbidden, the reason a fact). The override is stored
//!   (`gate_override`, with the unmet list), appended to the deal's history as an
//!   [`OppField::GateOverride`] marker (new value: the reason; replay ignores it), and audited
//!   (`gate_override`). A reason on a move that needs no override is ignored.
//!   Creation past unmet gates cannot be overridden: create the deal at the entry stage, then move
//!   it with a reason.
//! - **Stage 1 of The Model.** Leaving a stage left out of metrics for one that counts stamps
//!   `sql_at` once ([`gates::qualifies_as_sql`]). Closing a deal as lost from such a stage marks it
//!   *dropped* (`dropped_at`, and `drop_reason` when the close reason is one of
//!   [`gates::STAGE_1_DROP_REASONS`], by code or by its English or Korean words): it keeps the lost
//!   status and stage, but analytics leave it out of losses and win rate
//!   ([`gates::counts_as_loss`]). Reopening clears the mark. Both marks can be rebuilt from the stage
//!   history; [`OpportunityMarks`] keeps them at hand. No new `Status` was added, so history replay,
//!   analytics and the board see a dropped deal as what it is in the data: lost, from stage 1.

use pipewise_core::access::{Access, SharedKind};
use pipewise_core::error::{Problem, RecordRef};
use pipewise_core::gates::{
    self, CriterionCheck, CriterionOrigin, CriterionStatus, DealFacts, ExitCriterion, GateContext, GateOverride, MoveCheck,
    NewExitCriterion,
};
use pipewise_core::history::Change;
use pipewise_core::opportunity::{OppField, Opportunity, Status};
use pipewise_core::pipeline::{Pipeline, StageKind};
use pipewise_core::user::Role;
use pipewise_core::workspace::Workspace;
use pipewise_core::*;
use serde_json::json;

use crate::*;

/// What the audit log calls a criterion.
pub(crate) const CRITERION: &str = gates::CRITERION_LABEL;

pub(crate) fn criterion_json(criterion: &ExitCriterion) -> serde_json::Value {
    let (origin, origin_opportunity) = crate::codec::origin_parts(criterion.origin);
    json!({
        "stage_id": criterion.stage_id.0, "label_en": criterion.label_en, "label_ko": criterion.label_ko,
        "kind": criterion.kind.kind_str(), "argument": criterion.kind.argument(), "origin": origin,
        "origin_opportunity_id": origin_opportunity.map(|id| id.0),
    })
}

pub(crate) fn pipeline_of_stage(tx: &mut Tx, org: OrgId, stage: StageId) -> Result<Option<Pipeline>> {
    Ok(tx.0.pipelines(org)?.into_iter().find(|pipeline| pipeline.stage(stage).is_some()))
}

pub(crate) fn pipeline_or_not_found(tx: &mut Tx, org: OrgId, id: PipelineId) -> Result<Pipeline> {
    tx.0.pipeline(org, id)?.ok_or(StoreError::NotFound { kind: PipelineId::LABEL, id: id.0 })
}

/// The pipeline's gates as `access` may read them: every unarchived criterion of its stages, in
/// id order. Pipelines and their criteria are visible to everyone in the organisation; a
/// loss-review item names the lost deal it came from only to those who may see that deal
/// (`withhold_unseen_deals`).
pub fn exit_criteria_for(tx: &mut Tx, org: OrgId, access: &Access, pipeline_id: PipelineId) -> Result<Vec<ExitCriterion>> {
    pipeline_or_not_found(tx, org, pipeline_id)?;
    let mut criteria = tx.0.exit_criteria(org, pipeline_id)?;
    withhold_unseen_deals(tx, org, access, criteria.iter_mut())?;
    Ok(criteria)
}

/// Takes out of `criteria` the lost deals of loss-review items that `access` may not see
/// ([`opportunity_for`], the rule of every deal read): such an item stays a loss-review item,
/// of no deal (`CriterionOrigin::LossReview { opportunity_id: None }`). A deal a reader may not
/// see is never named, not even as where a lesson came from.
pub(crate) fn withhold_unseen_deals<'a>(
    tx: &mut Tx,
    org: OrgId,
    access: &Access,
    criteria: impl IntoIterator<Item = &'a mut ExitCriterion>,
) -> Result<()> {
    let mut seen: std::collections::BTreeMap<OpportunityId, bool> = std::collections::BTreeMap::new();
    for criterion in criteria {
        let CriterionOrigin::LossReview { opportunity_id: Some(deal) } = criterion.origin else { continue };
        let visible = match seen.get(&deal) {
            Some(visible) => *visible,
            None => {
                let visible = opportunity_for(tx, org, access, deal)?.is_some();
                seen.insert(deal, visible);
                visible
            }
        };
        if !visible {
            criterion.origin = CriterionOrigin::LossReview { opportunity_id: None };
        }
    }
    Ok(())
}

/// Adds a criterion to an open, unarchived stage. Ops and admins only.
pub fn add_exit_criterion(tx: &mut Tx, ctx: &WriteCtx, new: NewExitCriterion) -> Result<ExitCriterion> {
    let access = access_for(tx, ctx.org, ctx.actor_id)?;
    require(access.can_write(SharedKind::Pipeline), || "only ops and admins design stage gates".into())?;
    insert_criterion(tx, ctx, new)
}

pub(crate) fn insert_criterion(tx: &mut Tx, ctx: &WriteCtx, new: NewExitCriterion) -> Result<ExitCriterion> {
    let record = RecordRef::new_record(CRITERION);
    let Some(pipeline) = pipeline_of_stage(tx, ctx.org, new.stage_id)? else {
        let problem = Problem::UnknownReference { kind: StageId::LABEL, id: new.stage_id.0 };
        return Err(FieldError { record, field: "stage_id", problem }.into());
    };
    let new = new.validated(&pipeline)?;
    if pipeline.stage(new.stage_id).is_some_and(|stage| stage.is_archived()) {
        let problem = Problem::Fact(Message::new("rule.archived_stage_criteria").text("stage", new.stage_id));
        return Err(FieldError { record, field: "stage_id", problem }.into());
    }
    if let CriterionOrigin::LossReview { opportunity_id } = new.origin {
        let mut errors = ValidationErrors::default();
        match opportunity_id {
            Some(opportunity_id) => {
                let found = tx.0.opportunity(ctx.org, opportunity_id, false)?.is_some();
                exists(found, &mut errors, &record, "origin", OpportunityId::LABEL, opportunity_id.0);
            }
            // A lesson names the deal it was taught by.
            None => errors.push(&record, "origin", Problem::Required),
        }
        errors.into_result(())?;
    }
    let id = tx.0.insert_exit_criterion(ctx.org, &new, ctx.at)?;
    let criterion = new.with_id(id);
    audit(tx, ctx, CRITERION, id, "create", None, Some(criterion_json(&criterion)))?;
    Ok(criterion)
}

/// Archives a criterion: it leaves its gate, and past ticks stay in the log. Ops and admins only.
pub fn archive_exit_criterion(tx: &mut Tx, ctx: &WriteCtx, criterion_id: i64) -> Result<()> {
    let access = access_for(tx, ctx.org, ctx.actor_id)?;
    require(access.can_write(SharedKind::Pipeline), || "only ops and admins design stage gates".into())?;
    let not_found = StoreError::NotFound { kind: CRITERION, id: criterion_id };
    let (criterion, archived_at) = tx.0.exit_criterion(ctx.org, criterion_id)?.ok_or(not_found)?;
    if archived_at.is_some() {
        return Err(StoreError::NotFound { kind: CRITERION, id: criterion_id });
    }
    tx.0.archive_exit_criterion(ctx.org, criterion_id, ctx.at)?;
    audit(tx, ctx, CRITERION, criterion_id, "archive", Some(criterion_json(&criterion)), Some(json!({ "archived_at": ctx.at.to_string() })))
}

/// The open stage a lost deal was lost from: the stage before its last move into a lost stage,
/// from its history. `None` when the deal is not visible, not lost, or was created lost.
pub fn lost_from_stage_for(tx: &mut Tx, org: OrgId, access: &Access, opportunity_id: OpportunityId) -> Result<Option<StageId>> {
    let Some(deal) = opportunity_for(tx, org, access, opportunity_id)? else { return Ok(None) };
    lost_from(tx, org, &deal)
}

/// [`lost_from_stage_for`] without the visibility check, for the gates: where a lost deal
/// resumes when it is reopened (see `pipewise_core::gates::check_move`).
fn lost_from(tx: &mut Tx, org: OrgId, deal: &Opportunity) -> Result<Option<StageId>> {
    if deal.status != Status::Lost || deal.id.0 <= 0 {
        return Ok(None);
    }
    let history = tx.0.history(org, deal.id)?;
    let last_move =
        history.iter().rev().find(|event| event.field == OppField::Stage && event.new.as_deref() == Some(&deal.stage_id.0.to_string()));
    Ok(last_move.and_then(|event| event.old.as_deref()?.parse::<i64>().ok()).map(StageId))
}

/// Grows a checklist from a loss: a new checklist item on the gate of `stage_id` (an open stage
/// of the deal's pipeline, normally the one it was lost from, see [`lost_from_stage_for`]),
/// taught by lost deal `opportunity_id`. Ops, admins and managers of the deal's owner may.
pub fn criterion_from_loss(
    tx: &mut Tx,
    ctx: &WriteCtx,
    opportunity_id: OpportunityId,
    stage_id: StageId,
    label_en: &str,
    label_ko: &str,
) -> Result<ExitCriterion> {
    let access = access_for(tx, ctx.org, ctx.actor_id)?;
    let not_found = || StoreError::NotFound { kind: OpportunityId::LABEL, id: opportunity_id.0 };
    let deal = opportunity_for(tx, ctx.org, &access, opportunity_id)?.ok_or_else(not_found)?;
    let allowed = match &access {
        Access::System => true,
        Access::User(actor) => match actor.role {
            Role::Admin | Role::Ops => true,
            Role::Manager => actor.user_id != deal.owner_id && actor.tree.contains(&deal.owner_id),
            Role::Rep | Role::Viewer => false,
        },
    };
    require(allowed, || "only ops, an admin or a manager of the deal's owner adds a checklist item from a loss review".into())?;
    if deal.status != Status::Lost {
        let record = RecordRef::new(OpportunityId::LABEL, opportunity_id.0);
        let problem =
            Problem::Fact(Message::new("rule.loss_review_needs_lost").term("status", gates::term("status", deal.status.as_str())));
        return Err(FieldError { record, field: "status", problem }.into());
    }
    let pipeline = pipeline_or_not_found(tx, ctx.org, deal.pipeline_id)?;
    let new = gates::criterion_from_loss_review(&pipeline, opportunity_id, stage_id, label_en, label_ko)?;
    insert_criterion(tx, ctx, new)
}

/// The ticks that count: for each criterion, its latest log row if that is a tick. The system
/// (no actor) ticks as user 0.
pub fn latest_checks(entries: &[CheckEntry]) -> Vec<CriterionCheck> {
    let mut latest: std::collections::BTreeMap<i64, &CheckEntry> = std::collections::BTreeMap::new();
    for entry in entries {
        match latest.get(&entry.criterion_id) {
            Some(seen) if seen.id > entry.id => {}
            _ => {
                latest.insert(entry.criterion_id, entry);
            }
        }
    }
    latest
        .into_values()
        .filter(|entry| entry.checked)
        .map(|entry| CriterionCheck {
            criterion_id: entry.criterion_id,
            checked_by: entry.actor_id.unwrap_or(UserId(0)),
            checked_at: entry.at,
            evidence: entry.evidence.clone().unwrap_or_default(),
        })
        .collect()
}

/// A criterion of the deal's pipeline that is not archived, or why not.
pub(crate) fn criterion_of_deal(tx: &mut Tx, org: OrgId, deal: &Opportunity, criterion_id: i64) -> Result<ExitCriterion> {
    let record = RecordRef::new(OpportunityId::LABEL, deal.id.0);
    let unknown = || -> StoreError {
        FieldError {
            record: record.clone(),
            field: "criterion_id",
            problem: Problem::UnknownReference { kind: CRITERION, id: criterion_id },
        }
        .into()
    };
    let Some((criterion, archived_at)) = tx.0.exit_criterion(org, criterion_id)? else { return Err(unknown()) };
    let pipeline = pipeline_or_not_found(tx, org, deal.pipeline_id)?;
    if archived_at.is_some() || pipeline.stage(criterion.stage_id).is_none() {
        let problem = Problem::Fact(Message::new("rule.criterion_not_on_gate").text("criterion", criterion_id));
        return Err(FieldError { record, field: "criterion_id", problem }.into());
    }
    Ok(criterion)
}

/// Ticks a checklist item of the deal's pipeline, with evidence. Whoever may change the deal may.
pub fn check_criterion(
    tx: &mut Tx,
    ctx: &WriteCtx,
    opportunity_id: OpportunityId,
    criterion_id: i64,
    evidence: &str,
) -> Result<CriterionCheck> {
    let access = access_for(tx, ctx.org, ctx.actor_id)?;
    let deal = writable_deal(tx, ctx, &access, opportunity_id, true)?;
    let criterion = criterion_of_deal(tx, ctx.org, &deal, criterion_id)?;
    let check = CriterionCheck::new(&criterion, ctx.actor_id.unwrap_or(UserId(0)), ctx.at, evidence)?;
    let entry = CheckEntry {
        id: 0,
        opportunity_id,
        criterion_id,
        checked: true,
        evidence: Some(check.evidence.clone()),
        at: ctx.at,
        actor_id: ctx.actor_id,
        source: ctx.source,
    };
    tx.0.append_criterion_check(ctx.org, &entry)?;
    let after = json!({ "criterion_id": criterion_id, "label_en": criterion.label_en, "evidence": check.evidence });
    audit(tx, ctx, OpportunityId::LABEL, opportunity_id.0, "check", None, Some(after))?;
    Ok(check)
}

/// Withdraws the tick of a checklist item (appends an uncheck). Refused when it is not ticked.
pub fn uncheck_criterion(tx: &mut Tx, ctx: &WriteCtx, opportunity_id: OpportunityId, criterion_id: i64) -> Result<()> {
    let access = access_for(tx, ctx.org, ctx.actor_id)?;
    let deal = writable_deal(tx, ctx, &access, opportunity_id, true)?;
    let criterion = criterion_of_deal(tx, ctx.org, &deal, criterion_id)?;
    let entries = tx.0.criterion_checks(ctx.org, opportunity_id)?;
    let Some(ticked) = latest_checks(&entries).into_iter().find(|check| check.criterion_id == criterion_id) else {
        let record = RecordRef::new(OpportunityId::LABEL, opportunity_id.0);
        let problem = Problem::Fact(Message::new("rule.not_checked").text("label", &criterion.label_en));
        return Err(FieldError { record, field: "criterion_id", problem }.into());
    };
    let entry = CheckEntry {
        id: 0,
        opportunity_id,
        criterion_id,
        checked: false,
        evidence: None,
        at: ctx.at,
        actor_id: ctx.actor_id,
        source: ctx.source,
    };
    tx.0.append_criterion_check(ctx.org, &entry)?;
    let before = json!({ "criterion_id": criterion_id, "label_en": criterion.label_en, "evidence": ticked.evidence });
    audit(tx, ctx, OpportunityId::LABEL, opportunity_id.0, "uncheck", Some(before), None)
}

/// The deal's checklist log (ticks and unchecks, oldest first), if `access` may see the deal.
pub fn criterion_checks_for(tx: &mut Tx, org: OrgId, access: &Access, opportunity_id: OpportunityId) -> Result<Option<Vec<CheckEntry>>> {
    if opportunity_for(tx, org, access, opportunity_id)?.is_none() {
        return Ok(None);
    }
    Ok(Some(tx.0.criterion_checks(org, opportunity_id)?))
}

/// The deal's gate overrides, oldest first, if `access` may see the deal.
pub fn gate_overrides_for(tx: &mut Tx, org: OrgId, access: &Access, opportunity_id: OpportunityId) -> Result<Option<Vec<StoredOverride>>> {
    if opportunity_for(tx, org, access, opportunity_id)?.is_none() {
        return Ok(None);
    }
    Ok(Some(tx.0.gate_overrides(org, opportunity_id)?))
}

/// The deal's SQL and drop marks, if `access` may see the deal.
pub fn opportunity_marks_for(tx: &mut Tx, org: OrgId, access: &Access, opportunity_id: OpportunityId) -> Result<Option<OpportunityMarks>> {
    if opportunity_for(tx, org, access, opportunity_id)?.is_none() {
        return Ok(None);
    }
    Ok(Some(tx.0.opportunity_marks(org, opportunity_id)?))
}

/// The average sales cycle, in days, of the team of `owner`: the team's own setting, else the
/// mean of `closed_at − created_at` over the won deals of its members, rounded to the nearest day
/// (at least 1). `None` when the owner has no team or the team has no won deal: the gates then
/// use [`gates::DEFAULT_DECISION_WINDOW_DAYS`].
pub fn team_cycle_days(tx: &mut Tx, org: OrgId, owner: UserId) -> Result<Option<u32>> {
    let Some(team) = tx.0.user(org, owner)?.and_then(|user| user.team_id) else { return Ok(None) };
    if let Some(days) = tx.0.team_cycle_days(org, team)? {
        return Ok(Some(days));
    }
    let (count, total_micros) = tx.0.won_cycle_totals(org, team)?;
    if count <= 0 {
        return Ok(None);
    }
    const DAY: i128 = 86_400_000_000;
    let average = i128::from(total_micros) / i128::from(count);
    let days = (average + DAY / 2).div_euclid(DAY).max(1);
    Ok(Some(u32::try_from(days).unwrap_or(u32::MAX)))
}

/// Sets (or with `None` clears) a team's own average sales cycle, 1 to 3650 days. Ops and admins.
pub fn set_team_cycle_days(tx: &mut Tx, ctx: &WriteCtx, team: TeamId, days: Option<u32>) -> Result<()> {
    let access = access_for(tx, ctx.org, ctx.actor_id)?;
    require(access.can_write(SharedKind::Team), || "only ops and admins manage teams".into())?;
    tx.0.team(ctx.org, team)?.ok_or(StoreError::NotFound { kind: TeamId::LABEL, id: team.0 })?;
    if let Some(days) = days.filter(|days| !(1..=3650).contains(days)) {
        let record = RecordRef::new(TeamId::LABEL, team.0);
        let problem = Problem::OutOfRange { value: days.to_string(), range: "1 to 3650 days" };
        return Err(FieldError { record, field: "average_cycle_days", problem }.into());
    }
    let before = tx.0.team_cycle_days(ctx.org, team)?;
    if before == days {
        return Ok(());
    }
    tx.0.set_team_cycle_days(ctx.org, team, days)?;
    audit(
        tx,
        ctx,
        TeamId::LABEL,
        team.0,
        "update",
        Some(json!({ "average_cycle_days": before })),
        Some(json!({ "average_cycle_days": days })),
    )
}

/// The workspace of a deal as stored (empty when none was written).
pub(super) fn load_workspace(tx: &mut Tx, org: OrgId, opportunity: OpportunityId) -> Result<Workspace> {
    match tx.0.workspace_document(org, opportunity)? {
        Some(text) => {
            crate::workspace_codec::decode_document(&text).map_err(|detail| StoreError::Corrupt { table: "deal_workspace", detail })
        }
        None => Ok(Workspace::default()),
    }
}

/// Everything a gate decision about `deal` needs from storage.
struct Evidence {
    workspace: Workspace,
    checks: Vec<CriterionCheck>,
    criteria: Vec<ExitCriterion>,
    ctx: GateContext,
}

fn evidence(tx: &mut Tx, org: OrgId, deal: &Opportunity, pipeline: PipelineId, today: Date) -> Result<Evidence> {
    let workspace = load_workspace(tx, org, deal.id)?;
    let entries = if deal.id.0 > 0 { tx.0.criterion_checks(org, deal.id)? } else { Vec::new() };
    let criteria = tx.0.exit_criteria(org, pipeline)?;
    let team_average_cycle_days = team_cycle_days(tx, org, deal.owner_id)?;
    Ok(Evidence { workspace, checks: latest_checks(&entries), criteria, ctx: GateContext { team_average_cycle_days, today } })
}

/// The gates for deals an import creates, as [`gate_move`] checks a creation: a new deal has no
/// workspace and no ticks, so its evidence is its pipeline's criteria and its owner's team cycle,
/// read once for each pipeline and owner however many deals there are.
#[derive(Default)]
pub(crate) struct NewDealGates {
    criteria: std::collections::HashMap<PipelineId, Vec<ExitCriterion>>,
    cycles: std::collections::HashMap<UserId, Option<u32>>,
}

impl NewDealGates {
    /// Checks a new deal moving from `from` to `to` on `today` (`deal` as it stands at `from`;
    /// `lost_from` as [`DealFacts`] has it). `None`: the move passes.
    pub(crate) fn refusal(
        &mut self,
        tx: &mut Tx,
        org: OrgId,
        deal: &Opportunity,
        pipeline: &Pipeline,
        to: StageId,
        today: Date,
    ) -> Result<Option<MoveCheck>> {
        if deal.stage_id == to {
            return Ok(None);
        }
        if let std::collections::hash_map::Entry::Vacant(entry) = self.criteria.entry(pipeline.id) {
            entry.insert(tx.0.exit_criteria(org, pipeline.id)?);
        }
        let criteria = &self.criteria[&pipeline.id];
        if criteria.is_empty() {
            return Ok(None);
        }
        let team_average_cycle_days = match self.cycles.get(&deal.owner_id) {
            Some(days) => *days,
            None => {
                let days = team_cycle_days(tx, org, deal.owner_id)?;
                self.cycles.insert(deal.owner_id, days);
                days
            }
        };
        let workspace = Workspace::default();
        let facts = DealFacts { opportunity: deal, workspace: &workspace, checks: &[], lost_from: None };
        let check = gates::check_move(pipeline, criteria, &facts, &GateContext { team_average_cycle_days, today }, to);
        Ok((!check.is_allowed()).then_some(check))
    }
}

/// Checks the move from `current` to `next` (as `opportunity::apply` built it) against the gates
/// on the way, and authorises an override when one is asked for. `Ok(None)`: the move needs no
/// override. `current = None` is a creation: the gates from the entry stage are checked, and an
/// override is not possible.
// Every argument is one fact of the decision; bundling them would only rename them.
#[allow(clippy::too_many_arguments)]
pub(super) fn gate_move(
    tx: &mut Tx,
    ctx: &WriteCtx,
    access: &Access,
    current: Option<&Opportunity>,
    next: &Opportunity,
    pipeline: &Pipeline,
    reason: Option<&str>,
    at: Timestamp,
) -> Result<Option<GateOverride>> {
    let from = match current {
        Some(current) if current.pipeline_id == next.pipeline_id => current.stage_id,
        _ => pipeline.entry_stage_id,
    };
    if from == next.stage_id {
        return Ok(None);
    }
    let mut subject = next.clone();
    subject.stage_id = from;
    let today = crate::users::zone(tx, ctx.org)?.date_of(at);
    let evidence = evidence(tx, ctx.org, &subject, pipeline.id, today)?;
    if evidence.criteria.is_empty() {
        return Ok(None);
    }
    let lost_from = match current {
        Some(current) if current.pipeline_id == next.pipeline_id => lost_from(tx, ctx.org, current)?,
        _ => None,
    };
    let facts = DealFacts { opportunity: &subject, workspace: &evidence.workspace, checks: &evidence.checks, lost_from };
    let check = gates::check_move(pipeline, &evidence.criteria, &facts, &evidence.ctx, next.stage_id);
    if check.is_allowed() {
        return Ok(None);
    }
    let (Some(current), Some(reason)) = (current, reason) else {
        return Err(StoreError::GateRefused(Box::new(check)));
    };
    // Who may, then what they wrote: a rep is refused whatever the reason.
    gates::may_override(access, current.owner_id).map_err(StoreError::Refused)?;
    let record = RecordRef::new(OpportunityId::LABEL, current.id.0);
    GateOverride::new(access, current.owner_id, &check, reason, at)
        .map(Some)
        .map_err(|problem| FieldError { record, field: "gate_override_reason", problem }.into())
}

/// Writes what the move from `current` (`None`: a creation) to `next` stamps: `sql_at` when it
/// passes gate 1, the drop mark when a stage-1 deal is closed as lost, and clearing that mark on
/// reopening. Both deals are in `pipeline` unless the move changed pipelines.
pub(super) fn stamp_marks(
    tx: &mut Tx,
    org: OrgId,
    current: Option<&Opportunity>,
    next: &Opportunity,
    pipeline: &Pipeline,
    at: Timestamp,
) -> Result<()> {
    let before = match current {
        Some(_) => tx.0.opportunity_marks(org, next.id)?,
        None => OpportunityMarks::default(),
    };
    let mut marks = before.clone();
    let from = match current {
        Some(current) if current.pipeline_id == next.pipeline_id => Some(current.stage_id),
        Some(_) => None,
        None => Some(pipeline.entry_stage_id),
    };
    if marks.sql_at.is_none() && from.is_some_and(|from| gates::qualifies_as_sql(pipeline, from, next.stage_id)) {
        marks.sql_at = Some(at);
    }
    let was_lost = current.is_some_and(|current| current.status == Status::Lost);
    if next.status == Status::Lost && !was_lost {
        let dropped =
            from.and_then(|from| pipeline.stage(from)).is_some_and(|stage| stage.kind == StageKind::Open && !gates::counts_as_loss(stage));
        if dropped {
            marks.dropped_at = Some(at);
            marks.drop_reason = next.close_reason.as_deref().and_then(drop_reason_code).map(str::to_owned);
        }
    } else if next.status != Status::Lost {
        marks.dropped_at = None;
        marks.drop_reason = None;
    }
    if marks != before {
        tx.0.set_opportunity_marks(org, next.id, &marks)?;
    }
    Ok(())
}

/// The code of the stage-1 drop reason `reason` names, by code or by its English or Korean
/// words (ignoring case and surrounding space).
pub fn drop_reason_code(reason: &str) -> Option<&'static str> {
    let reason = reason.trim().to_lowercase();
    gates::STAGE_1_DROP_REASONS
        .iter()
        .find(|drop| [drop.code, drop.en, drop.ko].iter().any(|words| words.to_lowercase() == reason))
        .map(|drop| drop.code)
}

/// Records an authorised override of the move that `changes` make: the override row, the
/// history marker (appended with the changes, so one write stays one group of events) and the
/// audit entry.
pub(super) fn record_override(
    tx: &mut Tx,
    ctx: &WriteCtx,
    opportunity: OpportunityId,
    record: &GateOverride,
    changes: &mut Vec<Change>,
) -> Result<()> {
    tx.0.insert_gate_override(ctx.org, opportunity, ctx.source, record)?;
    changes.push(Change { field: OppField::GateOverride, old: None, new: Some(record.reason.clone()) });
    let unmet: Vec<serde_json::Value> = record
        .unmet
        .iter()
        .map(|unmet| json!({ "criterion_id": unmet.criterion_id, "stage_id": unmet.stage_id.0, "label_en": unmet.label_en }))
        .collect();
    let after = json!({
        "reason": record.reason, "from_stage_id": record.from_stage_id.0, "to_stage_id": record.to_stage_id.0, "unmet": unmet,
    });
    audit(tx, &WriteCtx { at: record.at, ..*ctx }, OpportunityId::LABEL, opportunity.0, "gate_override", None, Some(after))
}

/// One stage's gate as a checklist: each criterion with its state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageGate {
    pub stage_id: StageId,
    pub criteria: Vec<(ExitCriterion, CriterionStatus)>,
}

/// What the UI shows of a deal's gates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DealGates {
    pub deal: Opportunity,
    pub pipeline: Pipeline,
    /// The stage a forward move would go to next: the next unarchived open stage, else the first
    /// won stage. `None` for a closed deal.
    pub next_stage_id: Option<StageId>,
    /// Whether that move may happen now, and what is missing if not.
    pub next_move: Option<MoveCheck>,
    /// Every open stage's gate, in pipeline order (archived stages included only when the deal
    /// sits in one).
    pub stages: Vec<StageGate>,
    pub overrides: Vec<StoredOverride>,
    pub marks: OpportunityMarks,
}

/// The deal's gates, evaluated as of `today`, if `access` may see the deal. A loss-review item
/// names its lost deal only if `access` may see that deal too (`withhold_unseen_deals`).
pub fn gate_status_for(tx: &mut Tx, org: OrgId, access: &Access, opportunity_id: OpportunityId, today: Date) -> Result<Option<DealGates>> {
    let Some(deal) = opportunity_for(tx, org, access, opportunity_id)? else { return Ok(None) };
    let pipeline = pipeline_or_not_found(tx, org, deal.pipeline_id)?;
    let evidence = evidence(tx, org, &deal, pipeline.id, today)?;
    let lost_from = lost_from(tx, org, &deal)?;
    let facts = DealFacts { opportunity: &deal, workspace: &evidence.workspace, checks: &evidence.checks, lost_from };
    let current = pipeline.stage(deal.stage_id).cloned();
    let next_stage_id = match &current {
        Some(stage) if stage.kind == StageKind::Open => pipeline
            .stages
            .iter()
            .find(|next| next.kind == StageKind::Open && !next.is_archived() && next.position > stage.position)
            .or_else(|| pipeline.stages.iter().find(|next| next.kind == StageKind::Won && !next.is_archived()))
            .map(|next| next.id),
        _ => None,
    };
    let next_move = next_stage_id.map(|to| gates::check_move(&pipeline, &evidence.criteria, &facts, &evidence.ctx, to));
    let mut stages: Vec<StageGate> = pipeline
        .stages
        .iter()
        .filter(|stage| stage.kind == StageKind::Open && (!stage.is_archived() || stage.id == deal.stage_id))
        .map(|stage| StageGate {
            stage_id: stage.id,
            criteria: evidence
                .criteria
                .iter()
                .filter(|criterion| criterion.stage_id == stage.id)
                .map(|criterion| (criterion.clone(), gates::evaluate_criterion(criterion, &facts, &evidence.ctx)))
                .collect(),
        })
        .collect();
    withhold_unseen_deals(tx, org, access, stages.iter_mut().flat_map(|gate| gate.criteria.iter_mut().map(|(criterion, _)| criterion)))?;
    let overrides = tx.0.gate_overrides(org, opportunity_id)?;
    let marks = tx.0.opportunity_marks(org, opportunity_id)?;
    Ok(Some(DealGates { deal, pipeline, next_stage_id, next_move, stages, overrides, marks }))
}
