//! [`ImportTx`] for SQLite.

use pipewise_core::*;
use pipewise_store::rows::Columns;
use pipewise_store::{ImportTx, Result, sql};
use rusqlite::params;

use crate::rows::Fields;

use super::SqliteTx;

impl ImportTx for SqliteTx<'_> {
    fn import_keys(&mut self, org: OrgId, kind: &'static str, system: &str, external_ids: &[&str]) -> Result<Vec<Option<i64>>> {
        external_ids
            .iter()
            .map(|external_id| {
                self.one(sql::SELECT_IMPORT_KEY, params![org.0, kind, system, external_id], |row| {
                    Fields::new(row, "import_key").get::<i64>("record_id")
                })
            })
            .collect()
    }

    fn put_import_keys(&mut self, org: OrgId, kind: &'static str, system: &str, keys: &[(&str, i64)]) -> Result<()> {
        for (external_id, record_id) in keys {
            self.execute(sql::PUT_IMPORT_KEY, params![org.0, kind, system, external_id, record_id])?;
        }
        Ok(())
    }
}
