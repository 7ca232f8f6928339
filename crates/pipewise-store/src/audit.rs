//! The audit log ([`AuditTx`]): one entry per write, read back newest first.

use pipewise_core::history::Source;
use pipewise_core::*;

use crate::Result;

/// One write, as the audit log records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    pub at: Timestamp,
    pub actor_id: Option<UserId>,
    pub source: Source,
    /// `opportunity`, `account`, `user`, `session`, …
    pub record_kind: &'static str,
    pub record_id: i64,
    /// `create`, `update`, `share`, `sign_in`, `revoke`, …
    pub action: &'static str,
    /// The record's fields before and after, as JSON objects.
    pub before: Option<String>,
    pub after: Option<String>,
}

/// A stored audit entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEvent {
    pub id: i64,
    pub at: Timestamp,
    pub actor_id: Option<UserId>,
    pub source: Source,
    pub record_kind: String,
    pub record_id: i64,
    pub action: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Filters for reading the audit log, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub actor_id: Option<UserId>,
    pub record_kind: Option<String>,
    pub record_id: Option<i64>,
    /// Only entries with a smaller id (cursor pagination backwards in time).
    pub before_id: Option<i64>,
    pub limit: u32,
}

/// A transaction's appends to and reads of the audit log.
pub trait AuditTx {
    fn append_audit(&mut self, org: OrgId, entry: &AuditEntry) -> Result<()>;
    fn audit_events(&mut self, org: OrgId, filter: &AuditFilter) -> Result<Vec<AuditEvent>>;
}
