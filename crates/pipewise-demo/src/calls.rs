//! Forecast calls as the demo's people made them: three weeks into each of the last four
//! closed fiscal quarters and the current one, every rep calls their number and then every
//! manager theirs, adjusting their reports' calls. Each person has a habit — a couple call high
//! ("happy ears"), a couple low ("sandbagging"), most close to the truth — plus a quarter's
//! luck, so the accuracy ledger has something to find and something it must not blame on anyone.
//! Deterministic: the habits and the luck are hashes of the person and the quarter.
//! The model's own forecasts are recorded too, as a server records them each day, on the first
//! day of each of those quarters (as of its eve) and today.

use std::sync::Arc;

use pipewise_analytics::metrics::outcomes;
use pipewise_analytics::{Period, date_of_day, day_of_date};
use pipewise_app::forecast::CallInput;
use pipewise_app::{self as app, Db, Result, WriteCtx};
use pipewise_core::access::Access;
use pipewise_core::fiscal::PeriodKind;
use pipewise_core::history::Source;
use pipewise_core::user::Role;
use pipewise_core::{Date, OrgId, Timestamp, UserId};

/// The habits a person may have: how far above (below) the truth they call.
const HABITS: [f64; 6] = [0.0, 0.25, -0.2, 0.05, -0.05, 0.0];
/// How far a quarter's luck moves a call, either way.
const LUCK: f64 = 0.12;

const REP_NOTES: [&str; 5] = [
    "Two renewals carry the commit.",
    "Waiting on procurement at the largest deal.",
    "Commit is signed paper and verbal yes only.",
    "Best case needs both evaluations to close this quarter.",
    "Pipeline is thin for the last month.",
];
const MANAGER_NOTES: [&str; 3] =
    ["Rolled up as called.", "Haircut on the two most optimistic calls.", "Added the expansion the team left out."];

/// SplitMix64: the demo's habits and luck, from numbers.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A number in -1..=1 from `x`.
fn signed(x: u64) -> f64 {
    (x % 2_001) as f64 / 1_000.0 - 1.0
}

/// Makes the calls; returns how many.
pub(crate) fn make_calls(store: &Db, org: OrgId, now: Timestamp) -> Result<u64> {
    let insights = store.load_insights(org, Arc::new(move || now))?;
    let mut tx = store.write()?;
    let organisation = app::users::organisation(&mut tx, org)?.ok_or(app::StoreError::NotFound { kind: "organisation", id: org.0 })?;
    let users: Vec<_> = app::users::users(&mut tx, org)?.into_iter().filter(|user| user.active).collect();
    let calendar = organisation.fiscal;
    let today = organisation.time_zone.date_of(now);
    let current = calendar.period_of(PeriodKind::Quarter, today);
    let mut quarters = vec![current];
    for _ in 0..4 {
        let previous = calendar.previous(quarters.last().expect("one quarter"));
        quarters.push(previous);
    }
    quarters.reverse();
    // Reps first, then managers from the bottom of the tree up, so each sees their reports' calls.
    let depth = |user: UserId| {
        let mut depth = 0;
        let mut at = users.iter().find(|candidate| candidate.id == user).and_then(|user| user.manager_id);
        while let Some(manager) = at {
            depth += 1;
            at = users.iter().find(|candidate| candidate.id == manager).and_then(|user| user.manager_id);
        }
        depth
    };
    let mut callers: Vec<_> = users.iter().filter(|user| matches!(user.role, Role::Rep | Role::Manager)).collect();
    callers.sort_by_key(|user| (user.role == Role::Manager, std::cmp::Reverse(depth(user.id)), user.id));
    let scale = u32::from(organisation.reporting_currency.minor_units());
    let unit = 10f64.powi(scale as i32);
    let mut made = 0;
    for quarter in &quarters {
        let call_day = date_of_day(day_of_date(quarter.first) + 20);
        if call_day > today {
            continue;
        }
        let at = Timestamp::from_micros(organisation.time_zone.start_of(call_day).as_micros() + 9 * 3_600_000_000);
        let window = Period::new(day_of_date(quarter.first), day_of_date(quarter.last));
        let closed = quarter.last < today;
        for caller in &callers {
            let access = app::access::access_for(&mut tx, org, Some(caller.id))?;
            let owners = app::visibility::visible_owners(&access);
            // What the number came to (or, for the quarter still running, what the model expects).
            let truth = insights.with(|projection| {
                let scope = app::visibility::scope_of(projection, owners.as_ref());
                if closed {
                    outcomes(projection, &scope, window.last, window).won_amount as i64
                } else {
                    insights.forecast_models().forecast(projection, day_of_date(today), window, &scope, 2_000, 0).expected
                }
            });
            let habit = HABITS[(mix(caller.id.0 as u64) % HABITS.len() as u64) as usize];
            let luck = LUCK * signed(mix((caller.id.0 as u64) << 32 ^ day_of_date(quarter.first) as u64));
            let base = if caller.role == Role::Manager {
                let reports = app::forecast::direct_reports(&mut tx, org, caller.id)?;
                let book = app::forecast::calls_in(&mut tx, org, &Access::System, &quarter.key())?;
                book.rollup(&reports).map_or(truth, |(commit, _)| commit)
            } else {
                truth
            };
            let factor = if caller.role == Role::Manager { 1.0 + habit / 2.0 } else { 1.0 + habit + luck };
            let round = |minor: f64| ((minor / unit / 1_000.0).round().max(0.0) * 1_000.0) as i64;
            let commit = round(base as f64 * factor);
            let best_case = round(base as f64 * factor * 1.3).max(commit);
            let note = if caller.role == Role::Manager {
                MANAGER_NOTES[(mix(caller.id.0 as u64 ^ 7) % MANAGER_NOTES.len() as u64) as usize]
            } else {
                REP_NOTES[(mix(caller.id.0 as u64 ^ day_of_date(quarter.first) as u64) % REP_NOTES.len() as u64) as usize]
            };
            let ctx = WriteCtx { org, actor_id: Some(caller.id), source: Source::Demo, at };
            let input =
                CallInput { period: quarter.key(), commit: commit.to_string(), best_case: best_case.to_string(), note: note.to_owned() };
            app::forecast::submit_call(&mut tx, &ctx, &insights, &input)?;
            made += 1;
        }
    }
    tx.commit()?;
    // The model's own forecasts, recorded as a server would have on the first day of each of
    // these quarters (as of its eve) and today, so its track record is there from the start.
    let mut days: Vec<Date> = quarters.iter().map(|quarter| quarter.first).filter(|first| *first <= today).collect();
    days.push(today);
    days.dedup();
    for day in days {
        let at = Timestamp::from_micros(organisation.time_zone.start_of(day).as_micros() + 3_600_000_000);
        let Some(forecasts) = app::forecast::forecasts_of_day(&mut store.read()?, org, &insights, at)? else { continue };
        let ctx = WriteCtx { org, actor_id: None, source: Source::Demo, at };
        store.transact(|tx| app::forecast::record_model_forecasts(tx, &ctx, &forecasts))?;
    }
    Ok(made)
}
