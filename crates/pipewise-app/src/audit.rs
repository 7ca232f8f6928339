//! The audit log: every write appends who, when, through which edge and the record before →
//! after (as JSON) in its own transaction; [`audit_events_for`] reads it for admins.

use pipewise_core::access::Access;
use pipewise_core::*;
use serde_json::Value;

use crate::*;

pub(crate) fn audit(
    tx: &mut Tx,
    ctx: &WriteCtx,
    kind: &'static str,
    id: i64,
    action: &'static str,
    before: Option<Value>,
    after: Option<Value>,
) -> Result<()> {
    let entry = AuditEntry {
        at: ctx.at,
        actor_id: ctx.actor_id,
        source: ctx.source,
        record_kind: kind,
        record_id: id,
        action,
        before: before.map(|value| value.to_string()),
        after: after.map(|value| value.to_string()),
    };
    tx.0.append_audit(ctx.org, &entry)
}

/// The fields that differ between two JSON objects: `(before, after)` restricted to them, or
/// `None` when nothing changed.
pub(crate) fn changed_fields(before: Value, after: Value) -> Option<(Value, Value)> {
    let (Value::Object(before), Value::Object(after)) = (before, after) else { return None };
    let fields: Vec<String> = after.iter().filter(|(key, value)| before.get(*key) != Some(value)).map(|(key, _)| key.clone()).collect();
    if fields.is_empty() {
        return None;
    }
    let pick = |object: &serde_json::Map<String, Value>| -> Value {
        Value::Object(fields.iter().map(|field| (field.clone(), object.get(field).cloned().unwrap_or(Value::Null))).collect())
    };
    Some((pick(&before), pick(&after)))
}

/// Audits an update from the records' JSON before and after; `false` when nothing changed.
pub(crate) fn audit_update(tx: &mut Tx, ctx: &WriteCtx, kind: &'static str, id: i64, before: Value, after: Value) -> Result<bool> {
    match changed_fields(before, after) {
        Some((before, after)) => {
            audit(tx, ctx, kind, id, "update", Some(before), Some(after))?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// The audit log, newest first, for those who may read it (admins).
pub fn audit_events_for(tx: &mut Tx, org: OrgId, access: &Access, filter: &crate::AuditFilter) -> Result<Vec<crate::AuditEvent>> {
    require(access.can_read_audit(), || "only an admin reads the audit log".into())?;
    tx.0.audit_events(org, filter)
}
