//! [`AuditTx`] for PostgreSQL: the audit log.

use pipewise_core::history::Source;
use pipewise_core::*;
use pipewise_store::{AuditEntry, AuditEvent, AuditFilter, AuditTx, Result, sql};
use postgres::Row;
use postgres::types::ToSql;

use crate::fields::Fields;

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
        let rows = self.query(&sql, &params)?;
        rows.iter().map(read_audit_event).collect()
    }
}

fn read_audit_event(row: &Row) -> Result<AuditEvent> {
    let mut fields = Fields::new(row, "audit_event");
    Ok(AuditEvent {
        id: fields.key("audit_event_id")?,
        at: fields.timestamp("at")?,
        actor_id: fields.get::<Option<i64>>("actor_id")?.map(UserId),
        source: fields.parsed("source", Source::parse)?,
        record_kind: fields.get("record_kind")?,
        record_id: fields.get("record_id")?,
        action: fields.get("action")?,
        before: fields.get("before_json")?,
        after: fields.get("after_json")?,
    })
}
