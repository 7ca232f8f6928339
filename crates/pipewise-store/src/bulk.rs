//! Bulk loading ([`BulkTx`]): many deals, history events or activities per call, and the
//! database's size on disk.

use pipewise_core::history::{Change, Source};
use pipewise_core::opportunity::Opportunity;
use pipewise_core::records::NewActivity;
use pipewise_core::*;

use crate::Result;

/// One history event for [`Tx::bulk_append_history`](BulkTx::bulk_append_history): a field's change
/// to a deal, when, by whom and through which edge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryAppend {
    pub opportunity_id: OpportunityId,
    pub change: Change,
    pub at: Timestamp,
    pub actor_id: Option<UserId>,
    pub source: Source,
}

/// A transaction's bulk writes, for the scale data set and large imports.
pub trait BulkTx {
    // Bulk loading, for the scale data set (`pipewise demo --scale`) and large imports: many
    // rows per call, written the fastest way each engine knows. Like every `Tx` write these
    // validate nothing and audit nothing; the caller checks its input and appends one audit
    // entry per batch. Ids and sequence numbers come from the same sources as single writes.

    /// Inserts the deals in slice order (each `opportunity.id` is ignored) and returns their new
    /// ids in the same order, ascending.
    fn bulk_insert_opportunities(&mut self, org: OrgId, opportunities: &[Opportunity]) -> Result<Vec<OpportunityId>>;
    /// Appends the events in slice order with consecutive sequence numbers taken from the
    /// organisation's counter, exactly as [`Tx::append_history`](crate::DealsTx::append_history)
    /// does (so sequence order is still commit order, without gaps), and returns the sequence
    /// numbers used (empty for no events). Each deal's events must be in time order; the store does
    /// not re-stamp them.
    fn bulk_append_history(&mut self, org: OrgId, events: &[HistoryAppend]) -> Result<std::ops::Range<i64>>;
    /// Inserts `(activity, logged_at)` pairs in slice order with their contact links and returns
    /// the new ids in the same order, ascending. A contact listed twice is linked once.
    fn bulk_insert_activities(&mut self, org: OrgId, activities: &[(NewActivity, Timestamp)]) -> Result<Vec<ActivityId>>;
    /// Bytes the whole database takes on disk (SQLite: the main file's pages; PostgreSQL:
    /// `pg_database_size`), for reports after loading.
    fn database_size(&mut self) -> Result<u64>;
}
