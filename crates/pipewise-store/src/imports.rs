//! Imports ([`ImportTx`]): which record an import made of a row with an external id.

use pipewise_core::*;

use crate::Result;

/// A transaction's operations on the keys of imported records. `kind` is a record kind label
/// (`account`, `opportunity`); `system` names where the external ids come from.
pub trait ImportTx {
    /// For each external id in `external_ids`, the record an earlier import made of it, if any,
    /// in the same order.
    fn import_keys(&mut self, org: OrgId, kind: &'static str, system: &str, external_ids: &[&str]) -> Result<Vec<Option<i64>>>;
    /// Records that each external id made the record beside it (replacing an earlier record).
    fn put_import_keys(&mut self, org: OrgId, kind: &'static str, system: &str, keys: &[(&str, i64)]) -> Result<()>;
}
