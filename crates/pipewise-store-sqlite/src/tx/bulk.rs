//! [`BulkTx`] for SQLite: the bulk loaders (single-row statements prepared once, run in a loop) and
//! the database size.

use pipewise_core::opportunity::Opportunity;
use pipewise_core::records::*;
use pipewise_core::*;
use pipewise_store::{BulkTx, HistoryAppend, Result, StoreError};
use rusqlite::{OptionalExtension, params};

use super::deals::opportunity_params;
use super::{SqliteTx, db_err};

impl BulkTx for SqliteTx<'_> {
    // Bulk loading: the single-row statements, prepared once and run in a loop inside the
    // caller's transaction, which is what makes SQLite fast (no per-row commit).

    fn bulk_insert_opportunities(&mut self, org: OrgId, opportunities: &[Opportunity]) -> Result<Vec<OpportunityId>> {
        let mut statement = self
            .db()
            .prepare_cached(
                "INSERT INTO opportunity (organisation_id, name, account_id, owner_id, pipeline_id, stage_id, amount, currency, close_date,
                                          forecast_category, next_step, status, created_at, closed_at, close_reason)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            )
            .map_err(db_err)?;
        opportunities
            .iter()
            .map(|opportunity| statement.insert(opportunity_params(org, opportunity)).map(OpportunityId).map_err(db_err))
            .collect()
    }

    fn bulk_append_history(&mut self, org: OrgId, events: &[HistoryAppend]) -> Result<std::ops::Range<i64>> {
        if events.is_empty() {
            return Ok(0..0);
        }
        let count = events.len() as i64;
        let last: i64 = self
            .db()
            .prepare_cached("UPDATE organisation SET history_seq = history_seq + ?2 WHERE organisation_id = ?1 RETURNING history_seq")
            .and_then(|mut statement| statement.query_row(params![org.0, count], |row| row.get(0)))
            .optional()
            .map_err(db_err)?
            .ok_or(StoreError::NotFound { kind: OrgId::LABEL, id: org.0 })?;
        let first = last - count + 1;
        let mut statement = self
            .db()
            .prepare_cached(
                "INSERT INTO opportunity_history (organisation_id, seq, opportunity_id, field, old_value, new_value, at, actor_id, source)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .map_err(db_err)?;
        for (offset, event) in events.iter().enumerate() {
            statement
                .execute(params![
                    org.0,
                    first + offset as i64,
                    event.opportunity_id.0,
                    event.change.field.as_str(),
                    event.change.old,
                    event.change.new,
                    event.at.as_micros(),
                    event.actor_id.map(|id| id.0),
                    event.source.as_str()
                ])
                .map_err(db_err)?;
        }
        Ok(first..last + 1)
    }

    fn bulk_insert_activities(&mut self, org: OrgId, activities: &[(NewActivity, Timestamp)]) -> Result<Vec<ActivityId>> {
        let mut insert = self
            .db()
            .prepare_cached(
                "INSERT INTO activity (organisation_id, kind, direction, occurred_at, logged_at, subject, body, source, user_id, account_id, opportunity_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )
            .map_err(db_err)?;
        let mut link =
            self.db().prepare_cached("INSERT INTO activity_contact (activity_id, contact_id) VALUES (?1, ?2)").map_err(db_err)?;
        let mut ids = Vec::with_capacity(activities.len());
        let mut contacts = Vec::new();
        for (activity, logged_at) in activities {
            let id = insert
                .insert(params![
                    org.0,
                    activity.kind.as_str(),
                    activity.direction.as_str(),
                    activity.occurred_at.as_micros(),
                    logged_at.as_micros(),
                    activity.subject,
                    activity.body,
                    activity.source,
                    activity.user_id.map(|id| id.0),
                    activity.account_id.map(|id| id.0),
                    activity.opportunity_id.map(|id| id.0)
                ])
                .map_err(db_err)?;
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
        let bytes: i64 = self
            .db()
            .query_row("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()", [], |row| row.get(0))
            .map_err(db_err)?;
        Ok(bytes.max(0) as u64)
    }
}
