//! The deal workspace in storage (SPEC C3): one JSON document per deal holding its current
//! state ([`crate::workspace_codec`]), and an append-only history of edits, one row per edited
//! part with the part's JSON before and after.
//!
//! Every edit replaces one part ([`WorkspacePart`]), is checked by [`Workspace::validated`] (and
//! every contact it names must exist in the organisation), is stamped no earlier than the deal's
//! previous workspace edit, and is audited (`workspace_<part>`). An edit that changes nothing
//! writes nothing. Whoever may change the deal may edit its workspace.
//!
//! As of `t`, the workspace is what applying, in order, the edits stamped at or before `t` to an
//! empty workspace gives.

use std::collections::{BTreeMap, BTreeSet};

use pipewise_core::access::Access;
use pipewise_core::error::{Problem, RecordRef};
use pipewise_core::gates;
use pipewise_core::records::ActivityKind;
use pipewise_core::workspace::{self, Flag, FlagInputs, Workspace, WorkspacePart, WorkspacePartName};
use pipewise_core::*;
use serde_json::json;

use crate::gates::load_workspace;
use crate::workspace_codec::{decode_part, part_to_json};
use crate::*;

/// The deal's workspace now (empty parts when never written), if `access` may see the deal.
pub fn workspace_for(tx: &mut Tx, org: OrgId, access: &Access, opportunity_id: OpportunityId) -> Result<Option<Workspace>> {
    if opportunity_for(tx, org, access, opportunity_id)?.is_none() {
        return Ok(None);
    }
    Ok(Some(load_workspace(tx, org, opportunity_id)?))
}

/// The workspace as it was at `t`, replayed from its history, if `access` may see the deal now.
pub fn workspace_as_of_for(
    tx: &mut Tx,
    org: OrgId,
    access: &Access,
    opportunity_id: OpportunityId,
    t: Timestamp,
) -> Result<Option<Workspace>> {
    let Some(changes) = workspace_history_for(tx, org, access, opportunity_id)? else { return Ok(None) };
    Ok(Some(replay(&changes, t)?))
}

/// Applies the edits stamped at or before `t`, in order, to an empty workspace.
pub fn replay(changes: &[WorkspaceChange], t: Timestamp) -> Result<Workspace> {
    let mut workspace = Workspace::default();
    for change in changes.iter().filter(|change| change.at <= t) {
        let corrupt = |detail: String| StoreError::Corrupt { table: "workspace_history", detail: format!("row {}: {detail}", change.id) };
        let name = WorkspacePartName::parse(&change.part).map_err(|problem| corrupt(problem.to_string()))?;
        decode_part(name, &change.new_json).map_err(corrupt)?.apply_to(&mut workspace);
    }
    Ok(workspace)
}

/// Every edit of the deal's workspace, oldest first, if `access` may see the deal.
pub fn workspace_history_for(
    tx: &mut Tx,
    org: OrgId,
    access: &Access,
    opportunity_id: OpportunityId,
) -> Result<Option<Vec<WorkspaceChange>>> {
    if opportunity_for(tx, org, access, opportunity_id)?.is_none() {
        return Ok(None);
    }
    Ok(Some(tx.0.workspace_changes(org, opportunity_id)?))
}

/// Replaces one part of the deal's workspace and returns the whole workspace after the edit.
pub fn update_workspace(tx: &mut Tx, ctx: &WriteCtx, opportunity_id: OpportunityId, part: WorkspacePart) -> Result<Workspace> {
    let access = access_for(tx, ctx.org, ctx.actor_id)?;
    writable_deal(tx, ctx, &access, opportunity_id, true)?;
    let current = load_workspace(tx, ctx.org, opportunity_id)?;
    let name = part.name();
    let mut next = current.clone();
    part.apply_to(&mut next);
    let next = next.validated(opportunity_id)?;
    check_contacts(tx, ctx.org, opportunity_id, &next, name)?;
    if next == current {
        return Ok(next);
    }
    let changes = tx.0.workspace_changes(ctx.org, opportunity_id)?;
    let at = changes.iter().map(|change| change.at).max().filter(|last| *last > ctx.at).unwrap_or(ctx.at);
    let had_document = tx.0.workspace_document(ctx.org, opportunity_id)?.is_some();
    let old = had_document.then(|| part_to_json(&WorkspacePart::of(&current, name)));
    let new = part_to_json(&WorkspacePart::of(&next, name));
    tx.0.put_workspace_document(ctx.org, opportunity_id, &crate::workspace_codec::to_json(&next).to_string(), at)?;
    let change = WorkspaceChange {
        id: 0,
        opportunity_id,
        part: name.as_str().to_owned(),
        old_json: old.as_ref().map(|value| value.to_string()),
        new_json: new.to_string(),
        at,
        actor_id: ctx.actor_id,
        source: ctx.source,
    };
    tx.0.append_workspace_change(ctx.org, &change)?;
    let action = match name {
        WorkspacePartName::Bant => "workspace_bant",
        WorkspacePartName::FourBox => "workspace_four_box",
        WorkspacePartName::Stakeholders => "workspace_stakeholders",
        WorkspacePartName::Competitors => "workspace_competitors",
        WorkspacePartName::ClosePlan => "workspace_close_plan",
        WorkspacePartName::Approval => "workspace_approval",
    };
    audit(
        tx,
        &WriteCtx { at, ..*ctx },
        OpportunityId::LABEL,
        opportunity_id.0,
        action,
        old.map(|old| json!({ name.as_str(): old })),
        Some(json!({ name.as_str(): new })),
    )?;
    Ok(next)
}

/// Every contact the edited part names must exist in the organisation.
pub(crate) fn check_contacts(
    tx: &mut Tx,
    org: OrgId,
    opportunity_id: OpportunityId,
    workspace: &Workspace,
    part: WorkspacePartName,
) -> Result<()> {
    let record = RecordRef::new(OpportunityId::LABEL, opportunity_id.0);
    let named: Vec<(&'static str, ContactId)> = match part {
        WorkspacePartName::Stakeholders => {
            workspace.stakeholders.iter().map(|person| ("stakeholders.contact_id", person.contact_id)).collect()
        }
        WorkspacePartName::Approval => {
            let approval = &workspace.approval;
            [
                ("approval.named_approver", &approval.named_approver),
                ("approval.real_approver", &approval.real_approver),
                ("approval.po_signer", &approval.po_signer),
                ("approval.drafter", &approval.drafter),
            ]
            .into_iter()
            .filter_map(|(field, person)| Some((field, person.as_ref()?.contact_id?)))
            .collect()
        }
        _ => Vec::new(),
    };
    let mut errors = ValidationErrors::default();
    for (field, contact) in named {
        if tx.0.contact(org, contact)?.is_none() {
            errors.push(&record, field, Problem::UnknownReference { kind: ContactId::LABEL, id: contact.0 });
        }
    }
    Ok(errors.into_result(())?)
}

/// The flags of every part of the deal's workspace as of `today`, if `access` may see the deal.
/// Activity counts per contact and the contacts met come from the deal's activities (a meeting
/// counts as met); a deal is past stage 1 at position 1, stage 2 has ended once the deal reached the stage at position 2, and final
/// negotiation is reached at position 3 ([`gates::has_reached`]; The Model's numbering). The
/// approval flags judge a missed deadline and the close date against the meeting calendar
/// stored on the approval checklist.
pub fn workspace_flags_for(
    tx: &mut Tx,
    org: OrgId,
    access: &Access,
    opportunity_id: OpportunityId,
    today: Date,
) -> Result<Option<Vec<Flag>>> {
    let Some(deal) = opportunity_for(tx, org, access, opportunity_id)? else { return Ok(None) };
    let workspace = load_workspace(tx, org, opportunity_id)?;
    let pipeline = tx.0.pipeline(org, deal.pipeline_id)?.ok_or(StoreError::NotFound { kind: PipelineId::LABEL, id: deal.pipeline_id.0 })?;
    let mut activity_by_contact: BTreeMap<ContactId, u32> = BTreeMap::new();
    let mut contacts_met: BTreeSet<ContactId> = BTreeSet::new();
    for activity in tx.0.activities_of_opportunity(org, opportunity_id)? {
        for contact in &activity.contact_ids {
            *activity_by_contact.entry(*contact).or_default() += 1;
            if activity.kind == ActivityKind::Meeting {
                contacts_met.insert(*contact);
            }
        }
    }
    let inputs = FlagInputs {
        today,
        close_date: deal.close_date,
        activity_by_contact: &activity_by_contact,
        contacts_met: &contacts_met,
        past_stage_1: gates::has_reached(&pipeline, deal.stage_id, 1),
        stage_2_ended: gates::has_reached(&pipeline, deal.stage_id, 2),
        reached_final_negotiation: gates::has_reached(&pipeline, deal.stage_id, 3),
        meeting_calendar: &workspace.approval.meeting_calendar,
    };
    Ok(Some(workspace::workspace_flags(&workspace, &inputs)))
}
