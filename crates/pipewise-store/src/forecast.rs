//! Forecast calls ([`ForecastTx`]): what each person calls for a fiscal period, append-only.

use pipewise_core::fiscal::PeriodKind;
use pipewise_core::money::Currency;
use pipewise_core::*;

use crate::Result;

/// One call as submitted, never changed: the caller's commit and best case, their note, and
/// what they saw when they called (their reports' calls summed, the forecast categories of their
/// deals, the model's forecast), so the call can be scored against all of it later. Amounts are
/// minor units of `currency`, the organisation's reporting currency then.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredCall {
    /// 0 until stored.
    pub id: i64,
    pub user: UserId,
    pub kind: PeriodKind,
    pub first: Date,
    pub last: Date,
    pub currency: Currency,
    pub commit: i64,
    pub best_case: i64,
    pub note: String,
    /// The latest calls of the caller's direct reports, summed (commit, best case), when any.
    pub rollup: Option<(i64, i64)>,
    /// The caller's deals by forecast category then: won in the period, won plus open Commit due
    /// in it, that plus open Best case, and open Pipeline due in it.
    pub closed: i64,
    pub system_commit: i64,
    pub system_best_case: i64,
    pub pipeline: i64,
    /// The statistical forecast then (expected, P10, P90), when above its data floor.
    pub model: Option<[i64; 3]>,
    pub submitted_at: Timestamp,
}

/// Whose forecast a [`StoredModelForecast`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ForecastScope {
    Organisation,
    Team(TeamId),
    User(UserId),
}

impl ForecastScope {
    /// `(scope_kind, scope_id)` as stored.
    pub fn columns(self) -> (&'static str, i64) {
        match self {
            ForecastScope::Organisation => ("organisation", 0),
            ForecastScope::Team(team) => ("team", team.0),
            ForecastScope::User(user) => ("user", user.0),
        }
    }

    pub fn from_columns(kind: &str, id: i64) -> Option<ForecastScope> {
        match kind {
            "organisation" => Some(ForecastScope::Organisation),
            "team" => Some(ForecastScope::Team(TeamId(id))),
            "user" => Some(ForecastScope::User(UserId(id))),
            _ => None,
        }
    }
}

/// The statistical forecast of one scope for a fiscal period as the model made it at the end of
/// `as_of`, kept unchanged. Amounts are minor units of `currency`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredModelForecast {
    /// 0 until stored.
    pub id: i64,
    pub scope: ForecastScope,
    pub kind: PeriodKind,
    pub first: Date,
    pub last: Date,
    pub as_of: Date,
    pub currency: Currency,
    /// Learnt from the history; `false`: below the data floor, the stage-weighted pipeline.
    pub statistical: bool,
    pub expected: i64,
    /// P10, P50, P90 (none below the data floor).
    pub range: Option<[i64; 3]>,
    pub won: i64,
    pub stage_weighted: i64,
    pub recorded_at: Timestamp,
}

/// A transaction's reads and writes of forecast calls.
pub trait ForecastTx {
    /// Stores a call; returns its id. Calls are never updated nor deleted.
    fn insert_call(&mut self, org: OrgId, call: &StoredCall) -> Result<i64>;
    /// The calls for the period of `kind` starting on `first`, everyone's or `user`'s, oldest first.
    fn calls(&mut self, org: OrgId, kind: PeriodKind, first: Date, user: Option<UserId>) -> Result<Vec<StoredCall>>;
    /// Stores the model's forecasts; one already stored for the same scope, period and day is
    /// kept and the new one dropped. Returns how many were stored.
    fn insert_model_forecasts(&mut self, org: OrgId, forecasts: &[StoredModelForecast]) -> Result<u64>;
    /// The model's forecasts for the period of `kind` starting on `first`, by day, then scope.
    fn model_forecasts(&mut self, org: OrgId, kind: PeriodKind, first: Date) -> Result<Vec<StoredModelForecast>>;
}
