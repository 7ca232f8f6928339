//! [`ImportTx`] for PostgreSQL: one round trip a batch, with arrays.

use std::collections::HashMap;

use pipewise_core::*;
use pipewise_store::rows::Columns;
use pipewise_store::{ImportTx, Result};

use crate::fields::Fields;

use super::PgTx;

// A join with the unnested ids, not `= ANY($4)`: the array would be searched once per stored
// key, which grows quadratically through a large import.
const SELECT_IMPORT_KEYS: &str = concat!(
    "SELECT key.external_id, key.record_id FROM unnest($4::text[]) AS wanted (external_id) ",
    "JOIN import_key AS key ON key.organisation_id = $1 AND key.record_kind = $2 AND key.system = $3 ",
    "AND key.external_id = wanted.external_id"
);
const PUT_IMPORT_KEYS: &str = concat!(
    "INSERT INTO import_key (organisation_id, record_kind, system, external_id, record_id) ",
    "SELECT $1, $2, $3, key.external_id, key.record_id FROM UNNEST($4::text[], $5::bigint[]) AS key (external_id, record_id) ",
    "ON CONFLICT (organisation_id, record_kind, system, external_id) DO UPDATE SET record_id = excluded.record_id"
);

impl ImportTx for PgTx<'_> {
    fn import_keys(&mut self, org: OrgId, kind: &'static str, system: &str, external_ids: &[&str]) -> Result<Vec<Option<i64>>> {
        let found: HashMap<String, i64> = self
            .collect(SELECT_IMPORT_KEYS, &[&org.0, &kind, &system, &external_ids], |row| {
                let fields = Fields::new(row, "import_key");
                Ok((fields.get::<String>("external_id")?, fields.get::<i64>("record_id")?))
            })?
            .into_iter()
            .collect();
        Ok(external_ids.iter().map(|external_id| found.get(*external_id).copied()).collect())
    }

    fn put_import_keys(&mut self, org: OrgId, kind: &'static str, system: &str, keys: &[(&str, i64)]) -> Result<()> {
        let (external_ids, record_ids): (Vec<&str>, Vec<i64>) = keys.iter().copied().unzip();
        self.execute(PUT_IMPORT_KEYS, &[&org.0, &kind, &system, &external_ids, &record_ids])?;
        Ok(())
    }
}
