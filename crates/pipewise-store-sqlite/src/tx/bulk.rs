//! [`BulkTx`] for SQLite: the bulk loaders (single-row statements prepared once, run in a loop) and
//! the database size.

use pipewise_core::opportunity::Opportunity;
use pipewise_core::records::*;
use pipewise_core::*;
use pipewise_store::rows::Columns;
use pipewise_store::{BulkTx, HistoryAppend, Result};
use rusqlite::params;

use crate::rows::Fields;

use super::activities::{INSERT_ACTIVITY_CONTACT, activity_params};
use super::deals::{INSERT_HISTORY, INSERT_OPPORTUNITY, history_params, opportunity_params};
use super::{SqliteTx, db_err};

/// One activity, its id taken from the row id: [`pipewise_store::sql::INSERT_ACTIVITY`] without
/// its `RETURNING`, which costs a loader that inserts millions of rows one at a time.
const INSERT_ACTIVITY_ROW: &str =
    "INSERT INTO activity (organisation_id, kind, direction, occurred_at, logged_at, subject, body, source, user_id, account_id,
                           opportunity_id)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";

impl BulkTx for SqliteTx<'_> {
    // Bulk loading: the single-row statements, prepared once and run in a loop inside the
    // caller's transaction, which is what makes SQLite fast (no per-row commit).

    fn bulk_insert_opportunities(&mut self, org: OrgId, opportunities: &[Opportunity]) -> Result<Vec<OpportunityId>> {
        let mut statement = self.db().prepare_cached(INSERT_OPPORTUNITY).map_err(db_err)?;
        opportunities
            .iter()
            .map(|opportunity| statement.insert(opportunity_params(org, opportunity)).map(OpportunityId).map_err(db_err))
            .collect()
    }

    fn bulk_append_history(&mut self, org: OrgId, events: &[HistoryAppend]) -> Result<std::ops::Range<i64>> {
        if events.is_empty() {
            return Ok(0..0);
        }
        let seqs = self.reserve_history_seq(org, events.len() as i64)?;
        let mut statement = self.db().prepare_cached(INSERT_HISTORY).map_err(db_err)?;
        for (seq, event) in seqs.clone().zip(events) {
            statement
                .execute(history_params(org, seq, event.opportunity_id, &event.change, event.at, event.actor_id, event.source))
                .map_err(db_err)?;
        }
        Ok(seqs)
    }

    fn bulk_insert_activities(&mut self, org: OrgId, activities: &[(NewActivity, Timestamp)]) -> Result<Vec<ActivityId>> {
        let mut insert = self.db().prepare_cached(INSERT_ACTIVITY_ROW).map_err(db_err)?;
        let mut link = self.db().prepare_cached(INSERT_ACTIVITY_CONTACT).map_err(db_err)?;
        let mut ids = Vec::with_capacity(activities.len());
        let mut contacts = Vec::new();
        for (activity, logged_at) in activities {
            let id = insert.insert(activity_params(org, activity, *logged_at)).map_err(db_err)?;
            contacts.clear();
            contacts.extend(activity.contact_ids.iter().map(|contact| contact.0));
            contacts.sort_unstable();
            contacts.dedup();
            for contact in &contacts {
                link.execute(params![id, contact]).map_err(db_err)?;
            }
            ids.push(ActivityId(id));
        }
        Ok(ids)
    }

    fn database_size(&mut self) -> Result<u64> {
        let bytes = self.one("SELECT page_count * page_size AS bytes FROM pragma_page_count(), pragma_page_size()", [], |row| {
            Fields::new(row, "pragma_page_count").get::<i64>("bytes")
        })?;
        Ok(bytes.unwrap_or(0).max(0) as u64)
    }
}
