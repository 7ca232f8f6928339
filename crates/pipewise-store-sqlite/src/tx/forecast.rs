//! [`ForecastTx`] for SQLite.

use pipewise_core::fiscal::PeriodKind;
use pipewise_core::*;
use pipewise_store::{ForecastTx, Result, StoredCall, sql};
use rusqlite::params;

use crate::rows::read;

use super::SqliteTx;

impl ForecastTx for SqliteTx<'_> {
    fn insert_call(&mut self, org: OrgId, call: &StoredCall) -> Result<i64> {
        let (rollup_commit, rollup_best_case) = call.rollup.unzip();
        let [expected, p10, p90] = call.model.map_or([None; 3], |model| model.map(Some));
        self.returned_id(
            sql::INSERT_CALL,
            params![
                org.0,
                call.user.0,
                call.kind.code(),
                call.first.to_string(),
                call.last.to_string(),
                call.currency.code(),
                call.commit,
                call.best_case,
                call.note,
                rollup_commit,
                rollup_best_case,
                call.closed,
                call.system_commit,
                call.system_best_case,
                call.pipeline,
                expected,
                p10,
                p90,
                call.submitted_at.as_micros(),
            ],
        )
    }

    fn calls(&mut self, org: OrgId, kind: PeriodKind, first: Date, user: Option<UserId>) -> Result<Vec<StoredCall>> {
        self.collect(sql::SELECT_CALLS, params![org.0, kind.code(), first.to_string(), user.map(|user| user.0)], read)
    }
}
