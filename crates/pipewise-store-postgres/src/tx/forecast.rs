//! [`ForecastTx`] for PostgreSQL.

use pipewise_core::fiscal::PeriodKind;
use pipewise_core::*;
use pipewise_store::{ForecastTx, Result, StoredCall, StoredModelForecast, sql};

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

    fn insert_model_forecasts(&mut self, org: OrgId, forecasts: &[StoredModelForecast]) -> Result<u64> {
        let mut stored = 0;
        for forecast in forecasts {
            let (scope_kind, scope_id) = forecast.scope.columns();
            let [p10, p50, p90] = forecast.range.map_or([None; 3], |range| range.map(Some));
            stored += self.execute(
                sql::INSERT_MODEL_FORECAST,
                &[
                    &org.0,
                    &scope_kind,
                    &scope_id,
                    &forecast.kind.code(),
                    &forecast.first,
                    &forecast.last,
                    &forecast.as_of,
                    &forecast.currency.code(),
                    &if forecast.statistical { "statistical" } else { "stage_weighted" },
                    &forecast.expected,
                    &p10,
                    &p50,
                    &p90,
                    &forecast.won,
                    &forecast.stage_weighted,
                    &forecast.recorded_at.to_jiff(),
                ],
            )?;
        }
        Ok(stored)
    }

    fn model_forecasts(&mut self, org: OrgId, kind: PeriodKind, first: Date) -> Result<Vec<StoredModelForecast>> {
        self.collect(sql::SELECT_MODEL_FORECASTS, &[&org.0, &kind.code(), &first], read)
    }
}
