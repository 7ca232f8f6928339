//! Bulk loading, for the scale data set (`pipewise demo --scale`) and, later, large imports:
//! many rows per call, written the fastest way each engine knows.
//!
//! These move rows only. The caller has already evolved every deal through
//! `pipewise_core::opportunity` (so its history replays exactly) and appends one audit entry per
//! batch ([`append_audit`]); ids and sequence numbers come from the same sources as single
//! writes. Nothing here is reachable from a request: only trusted loaders call it.

use std::ops::Range;

use pipewise_core::money::{Currency, Decimal};
use pipewise_core::opportunity::Opportunity;
use pipewise_core::records::NewActivity;
use pipewise_core::*;

use crate::*;

/// Inserts the deals in slice order and returns their new ids, ascending.
pub fn insert_opportunities(tx: &mut Tx, org: OrgId, opportunities: &[Opportunity]) -> Result<Vec<OpportunityId>> {
    tx.0.bulk_insert_opportunities(org, opportunities)
}

/// Appends the events with consecutive sequence numbers and returns the numbers used.
pub fn append_history(tx: &mut Tx, org: OrgId, events: &[HistoryAppend]) -> Result<Range<i64>> {
    tx.0.bulk_append_history(org, events)
}

/// Inserts `(activity, logged_at)` pairs with their contact links and returns their ids.
pub fn insert_activities(tx: &mut Tx, org: OrgId, activities: &[(NewActivity, Timestamp)]) -> Result<Vec<ActivityId>> {
    tx.0.bulk_insert_activities(org, activities)
}

/// The one audit entry of a batch.
pub fn append_audit(tx: &mut Tx, org: OrgId, entry: &AuditEntry) -> Result<()> {
    tx.0.append_audit(org, entry)
}

/// Stores dated rates of `base` (a published series such as the ECB's).
pub fn put_rates(tx: &mut Tx, org: OrgId, base: Currency, rates: &[(Currency, Date, Decimal)]) -> Result<()> {
    tx.0.put_rates(org, base, rates)
}

/// How many records of a kind the organisation holds.
pub fn count(tx: &mut Tx, org: OrgId, kind: RecordKind) -> Result<i64> {
    tx.0.count(org, kind)
}

/// Bytes the whole database takes on disk, for reports after loading.
pub fn database_size(tx: &mut Tx) -> Result<u64> {
    tx.0.database_size()
}
