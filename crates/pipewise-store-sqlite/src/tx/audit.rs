//! [`AuditTx`] for SQLite: the audit log.

use pipewise_core::*;
use pipewise_store::{AuditEntry, AuditEvent, AuditFilter, AuditTx, Result, sql};
use rusqlite::params;
use rusqlite::types::Value;

use crate::rows::read;

use super::SqliteTx;

impl AuditTx for SqliteTx<'_> {
    fn append_audit(&mut self, org: OrgId, entry: &AuditEntry) -> Result<()> {
        self.execute(
            sql::INSERT_AUDIT_EVENT,
            params![
                org.0,
                entry.at.as_micros(),
                entry.actor_id.map(|id| id.0),
                entry.source.as_str(),
                entry.record_kind,
                entry.record_id,
                entry.action,
                entry.before,
                entry.after
            ],
        )?;
        Ok(())
    }

    fn audit_events(&mut self, org: OrgId, filter: &AuditFilter) -> Result<Vec<AuditEvent>> {
        let mut sql = format!("SELECT {} FROM audit_event WHERE organisation_id = ?1", sql::AUDIT_EVENT_COLUMNS);
        let mut values = vec![Value::Integer(org.0)];
        let mut condition = |column: &str, value: Value| {
            values.push(value);
            sql.push_str(&format!(" AND {column} ?{}", values.len()));
        };
        if let Some(actor) = filter.actor_id {
            condition("actor_id =", Value::Integer(actor.0));
        }
        if let Some(kind) = &filter.record_kind {
            condition("record_kind =", Value::Text(kind.clone()));
        }
        if let Some(id) = filter.record_id {
            condition("record_id =", Value::Integer(id));
        }
        if let Some(before) = filter.before_id {
            condition("audit_event_id <", Value::Integer(before));
        }
        sql.push_str(&format!(" ORDER BY audit_event_id DESC LIMIT {}", filter.limit));
        self.collect(&sql, rusqlite::params_from_iter(values), read)
    }
}
