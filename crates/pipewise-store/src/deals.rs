//! Deals ([`DealsTx`]): opportunities, their history log, their shares with other users and the
//! marks the stage gates stamp on them.

use pipewise_core::history::{Change, HistoryEvent, Source};
use pipewise_core::opportunity::{Opportunity, Status};
use pipewise_core::*;

use crate::Result;

/// Filters for listing opportunities; all set filters must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpportunityFilter {
    /// Whose deals the reader may see; [`DealScope::All`] by default.
    pub scope: Option<pipewise_core::access::DealScope>,
    pub owner_id: Option<UserId>,
    pub pipeline_id: Option<PipelineId>,
    pub account_id: Option<AccountId>,
    pub status: Option<Status>,
    /// Only ids greater than this (cursor pagination in id order).
    pub after_id: Option<OpportunityId>,
    pub stage_id: Option<StageId>,
    /// Only these deals (a dashboard's drill-down names the deals behind a figure).
    pub ids: Option<Vec<OpportunityId>>,
    pub limit: Option<u32>,
}

/// A value an [`OpportunityFilter`] condition compares a column with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterValue {
    Id(i64),
    Text(&'static str),
}

impl OpportunityFilter {
    /// The set filters that compare one column with one value, in the order both engines bind
    /// them: the column with its operator (`owner_id =`), and the value. The scope, the ids and
    /// the limit are each engine's own.
    pub fn conditions(&self) -> Vec<(&'static str, FilterValue)> {
        [
            ("owner_id =", self.owner_id.map(|id| FilterValue::Id(id.0))),
            ("pipeline_id =", self.pipeline_id.map(|id| FilterValue::Id(id.0))),
            ("account_id =", self.account_id.map(|id| FilterValue::Id(id.0))),
            ("status =", self.status.map(|status| FilterValue::Text(status.as_str()))),
            ("opportunity_id >", self.after_id.map(|id| FilterValue::Id(id.0))),
            ("stage_id =", self.stage_id.map(|id| FilterValue::Id(id.0))),
        ]
        .into_iter()
        .filter_map(|(condition, value)| Some((condition, value?)))
        .collect()
    }
}

/// A deal shared with a user who would not otherwise see it (`pipewise-app` keeps the rules of sharing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpportunityShare {
    pub opportunity_id: OpportunityId,
    pub user_id: UserId,
    /// Who shared it; `None` for the system.
    pub shared_by: Option<UserId>,
    pub shared_at: Timestamp,
}

/// What the stage gates have stamped on a deal, beside its history-tracked fields.
///
/// Both are derivable from the stage history (and [`pipewise_core::gates::qualifies_as_sql`] /
/// [`pipewise_core::gates::counts_as_loss`]); the columns keep them at hand for lists and
/// metrics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpportunityMarks {
    /// When the deal first passed gate 1 (left a stage that does not count in metrics for one
    /// that does): it became a sales-qualified lead.
    pub sql_at: Option<Timestamp>,
    /// When the deal was dropped: closed as lost from a stage left out of metrics (stage 1 of The
    /// Model). A dropped deal is not a loss and never enters win rate. Cleared on reopening.
    pub dropped_at: Option<Timestamp>,
    /// The code of the stage-1 drop reason (`gates::STAGE_1_DROP_REASONS`) the close reason
    /// matched, if any.
    pub drop_reason: Option<String>,
}

/// A transaction's reads and writes of deals: opportunities, their history (the append-only log
/// with one sequence per organisation), shares and gate marks.
pub trait DealsTx {
    /// Inserts the row and returns its new id; `opportunity.id` is ignored.
    fn insert_opportunity(&mut self, org: OrgId, opportunity: &Opportunity) -> Result<OpportunityId>;
    fn update_opportunity(&mut self, org: OrgId, opportunity: &Opportunity) -> Result<()>;
    /// With `lock`, other writers of this deal wait until this transaction ends.
    fn opportunity(&mut self, org: OrgId, id: OpportunityId, lock: bool) -> Result<Option<Opportunity>>;
    fn opportunities(&mut self, org: OrgId, filter: &OpportunityFilter) -> Result<Vec<Opportunity>>;

    /// Takes the organisation's history lock (its sequence counter row) until the transaction
    /// ends. Writers call it before locking any deal, so all writers of one organisation take
    /// locks in the same order and cannot deadlock.
    fn lock_history(&mut self, org: OrgId) -> Result<()>;
    /// Appends `changes` with consecutive sequence numbers from the organisation's counter,
    /// which serialises writers so sequence order is commit order.
    fn append_history(
        &mut self,
        org: OrgId,
        id: OpportunityId,
        changes: &[Change],
        at: Timestamp,
        actor_id: Option<UserId>,
        source: Source,
    ) -> Result<()>;
    /// One deal's events in sequence order.
    fn history(&mut self, org: OrgId, id: OpportunityId) -> Result<Vec<HistoryEvent>>;
    /// Events with `seq > after_seq` in sequence order, at most `limit`.
    fn history_since(&mut self, org: OrgId, after_seq: i64, limit: u32) -> Result<Vec<HistoryEvent>>;
    /// Every event with `at <= t`, in sequence order.
    fn history_until(&mut self, org: OrgId, t: Timestamp) -> Result<Vec<HistoryEvent>>;
    /// The time of the deal's latest event.
    fn last_history_at(&mut self, org: OrgId, id: OpportunityId) -> Result<Option<Timestamp>>;

    fn share_opportunity(&mut self, org: OrgId, id: OpportunityId, user: UserId, shared_by: Option<UserId>, at: Timestamp) -> Result<()>;
    fn is_opportunity_shared_with(&mut self, org: OrgId, id: OpportunityId, user: UserId) -> Result<bool>;
    /// Whom deal `id` is shared with, in user id order.
    fn opportunity_shares(&mut self, org: OrgId, id: OpportunityId) -> Result<Vec<OpportunityShare>>;
    /// Every deal shared with `user`, in deal id order.
    fn shares_with(&mut self, org: OrgId, user: UserId) -> Result<Vec<OpportunityShare>>;
    /// Ends the share of deal `id` with `user`; `false` when it was not shared with them.
    fn unshare_opportunity(&mut self, org: OrgId, id: OpportunityId, user: UserId) -> Result<bool>;

    fn opportunity_marks(&mut self, org: OrgId, opportunity: OpportunityId) -> Result<OpportunityMarks>;
    fn set_opportunity_marks(&mut self, org: OrgId, opportunity: OpportunityId, marks: &OpportunityMarks) -> Result<()>;
}
