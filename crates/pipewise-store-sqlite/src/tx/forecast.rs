//! [`ForecastTx`] for SQLite.

use pipewise_core::fiscal::PeriodKind;
use pipewise_core::*;
use pipewise_store::{ForecastTx, Result, StoredCall, StoredModelForecast, sql};
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

    fn insert_model_forecasts(&mut self, org: OrgId, forecasts: &[StoredModelForecast]) -> Result<u64> {
        let mut stored = 0;
        for forecast in forecasts {
            let (scope_kind, scope_id) = forecast.scope.columns();
            let [p10, p50, p90] = forecast.range.map_or([None; 3], |range| range.map(Some));
            stored += self.execute(
                sql::INSERT_MODEL_FORECAST,
                params![
                    org.0,
                    scope_kind,
                    scope_id,
                    forecast.kind.code(),
                    forecast.first.to_string(),
                    forecast.last.to_string(),
                    forecast.as_of.to_string(),
                    forecast.currency.code(),
                    if forecast.statistical { "statistical" } else { "stage_weighted" },
                    forecast.expected,
                    p10,
                    p50,
                    p90,
                    forecast.won,
                    forecast.stage_weighted,
                    forecast.recorded_at.as_micros(),
                ],
            )? as u64;
        }
        Ok(stored)
    }

    fn model_forecasts(&mut self, org: OrgId, kind: PeriodKind, first: Date) -> Result<Vec<StoredModelForecast>> {
        self.collect(sql::SELECT_MODEL_FORECASTS, params![org.0, kind.code(), first.to_string()], read)
    }
}
