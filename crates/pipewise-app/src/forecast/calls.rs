//! Forecast calls (issue 13, point 1): each person calls their number for a fiscal period — a
//! commit and a best case, with a note — and every call is kept, never changed (a new call is a
//! new row), so the history shows how a number moved and the ledger can score it.
//!
//! A person's number is the deals they may see as an owner set: a rep's own, a manager's
//! reporting tree, everyone's for ops and admins (`visibility::visible_owners`). With the call
//! the store keeps what the caller saw: their direct reports' latest calls summed (the roll-up a
//! manager adjusts, the difference being the adjustment their note explains), their deals by
//! forecast category, and the statistical forecast. Everyone but a viewer may call; a call is
//! audited. Calls are read within visibility: one's own and those of the people whose deals one
//! may see.

use std::collections::BTreeSet;

use pipewise_analytics::{Period, day_of_date, day_of_timestamp};
use pipewise_core::access::Access;
use pipewise_core::error::{Problem, RecordRef, ValidationErrors};
use pipewise_core::fiscal::FiscalPeriod;
use pipewise_core::message::Message;
use pipewise_core::money::Money;
use pipewise_core::user::Role;
use pipewise_core::*;
use serde_json::{Value, json};

use crate::access::{require, writer_access};
use crate::audit::audit;
use crate::insights::Insights;
use crate::{Result, StoreError, StoredCall, Tx, WriteCtx};

pub(crate) const CALL: &str = "forecast_call";
/// How far ahead a called period may start, in days (a year and a quarter's margin).
pub const MAX_DAYS_AHEAD: i32 = 456;
/// Calls a person may make for one period in 24 hours.
pub const MAX_CALLS_A_DAY: usize = 10;
/// The longest note a call keeps.
pub const MAX_NOTE: usize = 2_000;

/// A call as submitted: the period's key (`2027-Q1`), the amounts as decimals in the reporting
/// currency (`"120000.50"`), the note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallInput {
    pub period: String,
    pub commit: String,
    pub best_case: String,
    pub note: String,
}

/// A period's calls as one viewer may read them.
#[derive(Clone, Debug)]
pub struct CallBook {
    pub period: FiscalPeriod,
    /// Oldest first.
    pub calls: Vec<StoredCall>,
}

impl CallBook {
    /// `user`'s latest call.
    pub fn latest(&self, user: UserId) -> Option<&StoredCall> {
        self.calls.iter().rev().find(|call| call.user == user)
    }

    /// `user`'s calls, newest first.
    pub fn history(&self, user: UserId) -> Vec<&StoredCall> {
        self.calls.iter().rev().filter(|call| call.user == user).collect()
    }

    /// The latest calls of `people` summed (commit, best case), or `None` if none of them called.
    pub fn rollup(&self, people: &[UserId]) -> Option<(i64, i64)> {
        let latest: Vec<&StoredCall> = people.iter().filter_map(|person| self.latest(*person)).collect();
        (!latest.is_empty()).then(|| {
            latest
                .iter()
                .fold((0i64, 0i64), |(commit, best), call| (commit.saturating_add(call.commit), best.saturating_add(call.best_case)))
        })
    }
}

/// Whose calls `access` may read: everyone's (`None`) or those of the owners it sees.
fn readable(access: &Access) -> Option<BTreeSet<UserId>> {
    crate::visibility::visible_owners(access)
}

/// Each of `people`'s number: the owners they see (`None`: everyone), worked out from one read
/// of the organisation's `users` — their own deals for a rep, their tree for a manager, and
/// just their own for anyone no longer active.
pub(crate) fn numbers_of(
    users: &[pipewise_core::user::User],
    people: impl IntoIterator<Item = UserId>,
) -> std::collections::BTreeMap<UserId, Option<BTreeSet<UserId>>> {
    people
        .into_iter()
        .map(|person| {
            let seen = match users.iter().find(|user| user.id == person && user.active) {
                Some(user) => crate::visibility::visible_owners(&Access::User(pipewise_core::access::Actor::new(user, users))),
                None => Some([person].into()),
            };
            (person, seen)
        })
        .collect()
}

/// The direct reports of `user` (active users whose manager they are).
pub fn direct_reports(tx: &mut Tx, org: OrgId, user: UserId) -> Result<Vec<UserId>> {
    Ok(tx
        .0
        .users(org)?
        .into_iter()
        .filter(|candidate| candidate.active && candidate.manager_id == Some(user))
        .map(|user| user.id)
        .collect())
}

/// The calls of the period `key` that `access` may read.
pub fn calls_in(tx: &mut Tx, org: OrgId, access: &Access, key: &str) -> Result<CallBook> {
    let period = super::period_named(tx, org, CALL, key)?;
    let visible = readable(access);
    let calls =
        tx.0.calls(org, period.kind, period.first, None)?
            .into_iter()
            .filter(|call| visible.as_ref().is_none_or(|owners| owners.contains(&call.user)))
            .collect();
    Ok(CallBook { period, calls })
}

/// Works out, outside any write, the statistical forecast a call by `access` for `period_key`
/// as of `at` will keep (fitting the model if it is not kept yet), so that [`submit_call`] finds
/// it ready and holds the organisation's write lock only for moments. A key that does not parse
/// is left to [`submit_call`] to refuse.
pub fn prepare_call(tx: &mut Tx, org: OrgId, access: &Access, insights: &Insights, at: Timestamp, period_key: &str) -> Result<()> {
    let organisation = crate::users::organisation(tx, org)?.ok_or(StoreError::NotFound { kind: "organisation", id: org.0 })?;
    let Ok(period) = organisation.fiscal.parse_key(period_key) else { return Ok(()) };
    let today = day_of_timestamp(at, &organisation.time_zone);
    let window = Period::from(&period);
    if window.last < today || window.first > today + MAX_DAYS_AHEAD {
        return Ok(());
    }
    let owners = crate::visibility::visible_owners(access);
    insights.with(|projection| {
        let scope = crate::visibility::scope_of(projection, owners.as_ref());
        insights.forecast_models().forecast(projection, today.min(window.last), window, &scope, super::TRIALS, 0);
    });
    Ok(())
}

/// Stores the actor's call for `input.period`, with what they see now: their reports' latest
/// calls summed, their deals by category and the statistical forecast, from `insights`
/// ([`prepare_call`] first, outside the write, keeps the fit out of the write lock). At most
/// [`MAX_CALLS_A_DAY`] calls a person and period in 24 hours.
pub fn submit_call(tx: &mut Tx, ctx: &WriteCtx, insights: &Insights, input: &CallInput) -> Result<StoredCall> {
    let access = writer_access(tx, ctx)?;
    let Some(user) = ctx.actor_id else { return Err(StoreError::Forbidden("a call is made by a person".into())) };
    let me = tx.0.user(ctx.org, user)?.ok_or(StoreError::NotFound { kind: UserId::LABEL, id: user.0 })?;
    require(me.role != Role::Viewer, || "a viewer does not make forecast calls".into())?;
    let organisation = crate::users::organisation(tx, ctx.org)?.ok_or(StoreError::NotFound { kind: "organisation", id: ctx.org.0 })?;
    let currency = organisation.reporting_currency;
    let record = RecordRef::new_record(CALL);
    let mut errors = ValidationErrors::default();
    let period = errors.check(&record, "period", organisation.fiscal.parse_key(&input.period));
    let today = day_of_timestamp(ctx.at, &organisation.time_zone);
    if let Some(period) = &period
        && day_of_date(period.last) < today
    {
        errors.push(&record, "period", Problem::Fact(Message::new("rule.call_period_over").text("period", period.key())));
    } else if let Some(period) = &period
        && day_of_date(period.first) > today + MAX_DAYS_AHEAD
    {
        errors.push(&record, "period", Problem::Fact(Message::new("rule.call_period_far").text("period", period.key())));
    }
    let minor = |field: &'static str, raw: &str, errors: &mut ValidationErrors| -> Option<i64> {
        let checked = Money::parse_amount(raw, currency).and_then(|money| {
            if money.is_negative() {
                return Err(Problem::Negative { value: raw.trim().to_owned() });
            }
            if money.amount() > pipewise_core::money::Decimal::from(pipewise_core::opportunity::MAX_AMOUNT) {
                return Err(Problem::OutOfRange { value: raw.trim().to_owned(), range: "at most 10^15" });
            }
            i64::try_from(money.amount().mantissa())
                .map_err(|_| Problem::OutOfRange { value: raw.trim().to_owned(), range: "the reporting currency's amounts" })
        });
        errors.check(&record, field, checked)
    };
    let commit = minor("commit", &input.commit, &mut errors);
    let best_case = minor("best_case", &input.best_case, &mut errors);
    if let (Some(commit), Some(best_case)) = (commit, best_case)
        && best_case < commit
    {
        errors.push(&record, "best_case", Problem::Fact(Message::new("rule.best_case_below_commit")));
    }
    let note = input.note.trim();
    if note.chars().count() > MAX_NOTE {
        errors.push(&record, "note", Problem::TooLong { len: note.chars().count(), max: MAX_NOTE });
    } else if note.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        errors.push(&record, "note", Problem::ControlCharacter);
    }
    let (Some(period), Some(commit), Some(best_case)) = (period, commit, best_case) else { return Err(errors.into()) };
    errors.into_result(())?;

    // What the caller sees now.
    let reports = direct_reports(tx, ctx.org, user)?;
    let earlier = tx.0.calls(ctx.org, period.kind, period.first, None)?;
    let day_ago = Timestamp::from_micros(ctx.at.as_micros() - 86_400_000_000);
    if earlier.iter().filter(|call| call.user == user && call.submitted_at > day_ago).count() >= MAX_CALLS_A_DAY {
        let mut errors = ValidationErrors::default();
        errors.push(&record, "period", Problem::Fact(Message::new("rule.call_too_often").text("count", MAX_CALLS_A_DAY.to_string())));
        return Err(errors.into());
    }
    let book = CallBook { period, calls: earlier };
    let rollup = book.rollup(&reports);
    let owners = crate::visibility::visible_owners(&access);
    let window = Period::from(&period);
    let as_of = today.min(window.last);
    let (categories, model) = insights.with(|projection| {
        let scope = crate::visibility::scope_of(projection, owners.as_ref());
        let categories = pipewise_forecast::categories(projection, &scope, as_of, window);
        let forecast = insights.forecast_models().forecast(projection, as_of, window, &scope, super::TRIALS, 0);
        (categories, forecast.range.map(|[p10, _, p90]| [forecast.expected, p10, p90]))
    });
    let mut call = StoredCall {
        id: 0,
        user,
        kind: period.kind,
        first: period.first,
        last: period.last,
        currency,
        commit,
        best_case,
        note: note.to_owned(),
        rollup,
        closed: categories.closed,
        system_commit: categories.commit_total(),
        system_best_case: categories.best_case_total(),
        pipeline: categories.pipeline,
        model,
        submitted_at: ctx.at,
    };
    call.id = tx.0.insert_call(ctx.org, &call)?;
    audit(tx, ctx, CALL, call.id, "create", None, Some(call_json(&call)))?;
    Ok(call)
}

/// A call as the audit log and the API show it (amounts as decimal strings).
pub fn call_json(call: &StoredCall) -> Value {
    let money = |minor: i64| call.currency.amount_of(minor).to_string();
    json!({
        "id": call.id,
        "user_id": call.user.0,
        "period": { "kind": call.kind.code(), "start": call.first.to_string(), "end": call.last.to_string() },
        "currency": call.currency.code(),
        "commit": money(call.commit),
        "best_case": money(call.best_case),
        "note": call.note,
        "rollup": call.rollup.map(|(commit, best_case)| json!({ "commit": money(commit), "best_case": money(best_case) })),
        "categories": {
            "closed": money(call.closed),
            "commit": money(call.system_commit),
            "best_case": money(call.system_best_case),
            "pipeline": money(call.pipeline),
        },
        "model": call.model.map(|[expected, p10, p90]| json!({ "expected": money(expected), "p10": money(p10), "p90": money(p90) })),
        "submitted_at": call.submitted_at.to_string(),
    })
}
