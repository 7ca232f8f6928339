//! [`AuditTx`] for PostgreSQL: the audit log.

use pipewise_core::*;
use pipewise_store::{AuditEntry, AuditEvent, AuditFilter, AuditTx, Result, sql};
use postgres::types::ToSql;

use crate::fields::read;

use super::PgTx;

impl AuditTx for PgTx<'_> {
    fn append_audit(&mut self, org: OrgId, entry: &AuditEntry) -> Result<()> {
        self.execute(
            sql::INSERT_AUDIT_EVENT,
            &[
                &org.0,
                &entry.at.to_jiff(),
                &entry.actor_id.map(|id| id.0),
                &entry.source.as_str(),
                &entry.record_kind,
                &entry.record_id,
                &entry.action,
                &entry.before,
                &entry.after,
            ],
        )?;
        Ok(())
    }

    fn audit_events(&mut self, org: OrgId, filter: &AuditFilter) -> Result<Vec<AuditEvent>> {
        let actor = filter.actor_id.map(|id| id.0);
        let limit = i64::from(filter.limit);
        let mut sql = format!("SELECT {} FROM audit_event WHERE organisation_id = $1", sql::AUDIT_EVENT_COLUMNS);
        let mut conditions: Vec<(&str, &(dyn ToSql + Sync))> = Vec::new();
        if let Some(actor) = &actor {
            conditions.push(("actor_id =", actor));
        }
        if let Some(kind) = &filter.record_kind {
            conditions.push(("record_kind =", kind));
        }
        if let Some(record_id) = &filter.record_id {
            conditions.push(("record_id =", record_id));
        }
        if let Some(before) = &filter.before_id {
            conditions.push(("audit_event_id <", before));
        }
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&org.0];
        for (condition, value) in conditions {
            params.push(value);
            sql.push_str(&format!(" AND {condition} ${}", params.len()));
        }
        params.push(&limit);
        sql.push_str(&format!(" ORDER BY audit_event_id DESC LIMIT ${}", params.len()));
        self.collect(&sql, &params, read)
    }
}
