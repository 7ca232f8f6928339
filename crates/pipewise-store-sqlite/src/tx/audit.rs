//! [`AuditTx`] for SQLite: the audit log.

use pipewise_core::history::Source;
use pipewise_core::*;
use pipewise_store::{AuditEntry, AuditEvent, AuditFilter, AuditTx, Result};
use rusqlite::params;
use rusqlite::types::Value;

use crate::rows::{parsed, timestamp};

use super::{SqliteTx, db_err};

impl AuditTx for SqliteTx<'_> {
    fn append_audit(&mut self, org: OrgId, entry: &AuditEntry) -> Result<()> {
        self.db()
            .prepare_cached(
                "INSERT INTO audit_event (organisation_id, at, actor_id, source, record_kind, record_id, action, before_json, after_json)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .and_then(|mut statement| {
                statement.execute(params![
                    org.0,
                    entry.at.as_micros(),
                    entry.actor_id.map(|id| id.0),
                    entry.source.as_str(),
                    entry.record_kind,
                    entry.record_id,
                    entry.action,
                    entry.before,
                    entry.after
                ])
            })
            .map_err(db_err)?;
        Ok(())
    }

    fn audit_events(&mut self, org: OrgId, filter: &AuditFilter) -> Result<Vec<AuditEvent>> {
        let mut sql = "SELECT audit_event_id, at, actor_id, source, record_kind, record_id, action, before_json, after_json
                       FROM audit_event WHERE organisation_id = ?1"
            .to_owned();
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
        self.collect(
            &sql,
            rusqlite::params_from_iter(values),
            |row| {
                let event = AuditEvent {
                    id: row.get(0)?,
                    at: timestamp(row.get(1)?),
                    actor_id: row.get::<_, Option<i64>>(2)?.map(UserId),
                    source: Source::System,
                    record_kind: row.get(4)?,
                    record_id: row.get(5)?,
                    action: row.get(6)?,
                    before: row.get(7)?,
                    after: row.get(8)?,
                };
                Ok((event, row.get::<_, String>(3)?))
            },
            |(mut event, source)| {
                event.source = parsed("audit_event", &source, Source::parse)?;
                Ok(event)
            },
        )
    }
}
