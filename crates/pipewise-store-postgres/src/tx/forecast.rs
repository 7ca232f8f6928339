//! [`ForecastTx`] for PostgreSQL.

use pipewise_core::fiscal::PeriodKind;
use pipewise_core::*;
use pipewise_store::{ForecastTx, Result, StoredCall, sql};

use crate::fields::read;

use super::PgTx;

impl ForecastTx for PgTx<'_> {
    fn insert_call(&mut self, org: OrgId, call: &StoredCall) -> Result<i64> {
        let (rollup_commit, rollup_best_case) = call.rollup.unzip();
        let [expected, p10, p90] = call.model.map_or([None; 3], |model| model.map(Some));
        self.returned_id(
            "forecast_call",
            sql::INSERT_CALL,
            &[
                &org.0,
                &call.user.0,
                &call.kind.code(),
                &call.first,
                &call.last,
                &call.currency.code(),
                &call.commit,
                &call.best_case,
                &call.note,
                &rollup_commit,
                &rollup_best_case,
                &call.closed,
                &call.system_commit,
                &call.system_best_case,
                &call.pipeline,
                &expected,
                &p10,
                &p90,
                &call.submitted_at.to_jiff(),
            ],
        )
    }

    fn calls(&mut self, org: OrgId, kind: PeriodKind, first: Date, user: Option<UserId>) -> Result<Vec<StoredCall>> {
        self.collect(sql::SELECT_CALLS, &[&org.0, &kind.code(), &first, &user.map(|user| user.0)], read)
    }
}
