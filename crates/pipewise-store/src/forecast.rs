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

/// A transaction's reads and writes of forecast calls.
pub trait ForecastTx {
    /// Stores a call; returns its id. Calls are never updated nor deleted.
    fn insert_call(&mut self, org: OrgId, call: &StoredCall) -> Result<i64>;
    /// The calls for the period of `kind` starting on `first`, everyone's or `user`'s, oldest first.
    fn calls(&mut self, org: OrgId, kind: PeriodKind, first: Date, user: Option<UserId>) -> Result<Vec<StoredCall>>;
}
