//! Stage gates ([`GatesTx`], SPEC C2): exit criteria, their checklist log, gate overrides,
//! handoffs between users, and the sales cycle figures the gates compare against.

use pipewise_core::gates::{ExitCriterion, GateOverride, NewExitCriterion};
use pipewise_core::history::Source;
use pipewise_core::*;

use crate::Result;

/// One row of the append-only checklist log: a tick (with evidence) or its withdrawal. The
/// latest row of a criterion on a deal (by id) says whether it is ticked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckEntry {
    /// Ignored when appending.
    pub id: i64,
    pub opportunity_id: OpportunityId,
    pub criterion_id: i64,
    /// `false` for an "uncheck".
    pub checked: bool,
    /// Set for a tick, `None` for an uncheck.
    pub evidence: Option<String>,
    pub at: Timestamp,
    pub actor_id: Option<UserId>,
    pub source: Source,
}

/// A stored gate override.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredOverride {
    pub id: i64,
    pub opportunity_id: OpportunityId,
    pub source: Source,
    pub gate_override: GateOverride,
}

/// One recorded handoff of a deal from one user to another (SPEC C2: inside sales hands cases to
/// field sales through stage 1). Append-only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handoff {
    /// Ignored when inserting.
    pub id: i64,
    pub opportunity_id: OpportunityId,
    /// Who handed the deal over: its owner before the handoff (the source the report counts by).
    pub from_user_id: UserId,
    /// The deal's owner after the handoff.
    pub to_user_id: UserId,
    /// Who performed the handoff: the owner themself, their manager, ops, an admin (`None`: the
    /// system).
    pub actor_id: Option<UserId>,
    /// The stage the deal was in when it was handed over.
    pub stage_id: StageId,
    pub at: Timestamp,
    pub source: Source,
    pub note: Option<String>,
}

/// A transaction's reads and writes of the stage gates: criteria, checks, overrides, handoffs and
/// team cycle days.
pub trait GatesTx {
    // Stage gates, the deal workspace and the pipeline designer (SPEC C2, C3). Criteria, checks,
    // overrides and workspace history are append-only or archived, never deleted.

    /// Stores a criterion (already validated) and returns its id; ids grow, so id order is the
    /// order criteria were added in.
    fn insert_exit_criterion(&mut self, org: OrgId, criterion: &NewExitCriterion, at: Timestamp) -> Result<i64>;
    /// One criterion, archived or not, with its archiving time.
    fn exit_criterion(&mut self, org: OrgId, id: i64) -> Result<Option<(ExitCriterion, Option<Timestamp>)>>;
    /// The criteria of every stage of `pipeline` that are not archived, in id order.
    fn exit_criteria(&mut self, org: OrgId, pipeline: PipelineId) -> Result<Vec<ExitCriterion>>;
    /// Sets `archived_at`; `NotFound` for a missing criterion.
    fn archive_exit_criterion(&mut self, org: OrgId, id: i64, at: Timestamp) -> Result<()>;

    /// Appends a tick or an uncheck and returns its id.
    fn append_criterion_check(&mut self, org: OrgId, entry: &CheckEntry) -> Result<i64>;
    /// Every tick and uncheck of a deal, in id order.
    fn criterion_checks(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<Vec<CheckEntry>>;

    /// Appends an override and returns its id.
    fn insert_gate_override(&mut self, org: OrgId, opportunity: OpportunityId, source: Source, record: &GateOverride) -> Result<i64>;
    /// A deal's overrides, in id order.
    fn gate_overrides(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<Vec<StoredOverride>>;

    /// Appends a handoff (its `id` is ignored) and returns its id.
    fn insert_handoff(&mut self, org: OrgId, handoff: &Handoff) -> Result<i64>;
    /// A deal's handoffs, in id order.
    fn handoffs_of_opportunity(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<Vec<Handoff>>;
    /// Every handoff of the organisation, in id order.
    fn handoffs(&mut self, org: OrgId) -> Result<Vec<Handoff>>;

    /// The team's own average sales cycle in days, when ops set one.
    fn team_cycle_days(&mut self, org: OrgId, team: TeamId) -> Result<Option<u32>>;
    fn set_team_cycle_days(&mut self, org: OrgId, team: TeamId, days: Option<u32>) -> Result<()>;
    /// Over the won deals owned by the team's members: how many, and the sum of their cycles
    /// (`closed_at − created_at`) in microseconds.
    fn won_cycle_totals(&mut self, org: OrgId, team: TeamId) -> Result<(i64, i64)>;
}
