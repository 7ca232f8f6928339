//! Quotas as ops would set them for the demo organisation: every rep has one for each quarter of
//! this fiscal year and the last, from their own record — their average quarter over the demo's
//! history plus 10%, never below half their team's average, rounded up to a round figure — and
//! each team a quota 5% under the sum of its reps' (managers over-assign). Top performers carry
//! quotas they beat; strugglers carry ones their record says they cannot reach, which is what
//! the realism check and the share of reps at quota are for.

use std::collections::BTreeMap;
use std::sync::Arc;

use pipewise_app::{self as app, Db, QuotaSubject, Result, WriteCtx};
use pipewise_core::fiscal::PeriodKind;
use pipewise_core::history::Source;
use pipewise_core::money::Decimal;
use pipewise_core::user::{Role, User};
use pipewise_core::{Date, OrgId, TeamId, Timestamp, UserId};

/// Quotas are multiples of this, in the reporting currency.
const ROUND_TO: i64 = 5_000;

/// What setting quotas and pay reads first: the projection as of `now`, the organisation, its
/// people and the ops user who sets them.
struct Setting {
    insights: app::insights::Insights,
    organisation: app::Organisation,
    users: Vec<User>,
    ops: UserId,
}

/// The [`Setting`], or `None` without an ops user (nothing is set).
fn load(store: &Db, org: OrgId, now: Timestamp) -> Result<Option<Setting>> {
    let insights = store.load_insights(org, Arc::new(move || now))?;
    let mut tx = store.read()?;
    let organisation = app::users::organisation(&mut tx, org)?.ok_or(app::StoreError::NotFound { kind: "organisation", id: org.0 })?;
    let users = app::users::users(&mut tx, org)?;
    let ops = users.iter().find(|user| user.role == Role::Ops).map(|user| user.id);
    Ok(ops.map(|ops| Setting { insights, organisation, users, ops }))
}

/// Sets the quotas; returns how many were set.
pub(crate) fn set_quotas(store: &Db, org: OrgId, first_day: Date, now: Timestamp) -> Result<u64> {
    let Some(Setting { insights, organisation, users, ops }) = load(store, org, now)? else { return Ok(0) };
    let calendar = organisation.fiscal;
    let today = organisation.time_zone.date_of(now);
    let this_year = calendar.period_of(PeriodKind::Year, today);
    let quarters: Vec<_> =
        [calendar.previous(&this_year), this_year].iter().flat_map(|year| calendar.periods_in(PeriodKind::Quarter, year)).collect();

    // Each rep's won amount over the demo's history, in reporting units, and its quarters.
    let days = first_day.until(today).map_or(0, |span| span.get_days());
    let n_quarters = Decimal::from((days / 91).max(1));
    let won = insights.with(|projection| app::performance::bookings(projection, first_day, today, today));
    let reps: Vec<_> = users.iter().filter(|user| user.role == Role::Rep).collect();
    let mut by_team: BTreeMap<Option<TeamId>, Vec<Decimal>> = BTreeMap::new();
    for rep in &reps {
        by_team.entry(rep.team_id).or_default().push(won.get(&rep.id).copied().unwrap_or_default() / n_quarters);
    }
    let team_average: BTreeMap<Option<TeamId>, Decimal> =
        by_team.iter().map(|(team, averages)| (*team, averages.iter().sum::<Decimal>() / Decimal::from(averages.len()))).collect();
    let round_up = |amount: Decimal| {
        let step = Decimal::from(ROUND_TO);
        ((amount / step).ceil() * step).max(step)
    };
    let mut quota_of: BTreeMap<UserId, Decimal> = BTreeMap::new();
    for rep in &reps {
        let average = won.get(&rep.id).copied().unwrap_or_default() / n_quarters;
        let floor = team_average.get(&rep.team_id).copied().unwrap_or_default() / Decimal::TWO;
        quota_of.insert(rep.id, round_up((average * Decimal::new(11, 1)).max(floor)));
    }
    let mut team_quota: BTreeMap<TeamId, Decimal> = BTreeMap::new();
    for rep in &reps {
        if let Some(team) = rep.team_id {
            *team_quota.entry(team).or_default() += quota_of[&rep.id];
        }
    }

    let ctx = WriteCtx { org, actor_id: Some(ops), source: Source::Demo, at: now };
    let mut tx = store.write()?;
    let mut set = 0;
    for quarter in &quarters {
        let key = quarter.key();
        for (user, quota) in &quota_of {
            app::quotas::set_quota(&mut tx, &ctx, QuotaSubject::User(*user), &key, &quota.to_string())?;
            set += 1;
        }
        for (team, quota) in &team_quota {
            let quota = round_up(*quota * Decimal::new(95, 2));
            app::quotas::set_quota(&mut tx, &ctx, QuotaSubject::Team(*team), &key, &quota.to_string())?;
            set += 1;
        }
    }
    tx.commit()?;
    Ok(set)
}

/// The demo's commission plan, as ops would write it: 10% of bookings up to quota, 15% above
/// it (tiers on attainment, marginal), capped at 60,000 a quarter, with a quarterly spiff for
/// deals of 100,000 or more.
fn demo_plan(currency: &str) -> serde_json::Value {
    serde_json::json!({
        "currency": currency,
        "timing": "booking",
        "cap": { "amount": "60000", "carry_forward": false },
        "components": [
            { "type": "commission", "rule": "Commission", "measure": "revenue", "mode": "marginal", "basis": "attainment",
              "tiers": [{ "lower": "0", "rate": "0.10" }, { "lower": "1", "rate": "0.15" }] },
            { "type": "bonus", "rule": "Quota club", "of": "individual", "steps": [{ "at": "1", "amount": "2500" }], "linear": null },
        ],
    })
}

/// The demo plan for reps in Seoul: the same rules, paid out in KRW.
const KOREA_PLAN: &str = "Account executive (Korea)";

/// Every rep is paid under the demo plan from the start of last fiscal year; their quarters up
/// to the current one get statements, the closed ones locked. Returns how many statements.
pub(crate) fn set_pay(store: &Db, org: OrgId, now: Timestamp) -> Result<u64> {
    let Some(Setting { insights, organisation, users, ops }) = load(store, org, now)? else { return Ok(0) };
    let ctx = WriteCtx { org, actor_id: Some(ops), source: Source::Demo, at: now };
    let calendar = organisation.fiscal;
    let today = organisation.time_zone.date_of(now);
    let this_year = calendar.period_of(PeriodKind::Year, today);
    let last_year = calendar.previous(&this_year);
    let current = calendar.period_of(PeriodKind::Quarter, today);
    let quarters: Vec<_> = [last_year, this_year]
        .iter()
        .flat_map(|year| calendar.periods_in(PeriodKind::Quarter, year))
        .filter(|quarter| quarter.first <= current.first)
        .collect();
    let mut tx = store.write()?;
    let plan = demo_plan(organisation.reporting_currency.code());
    app::pay::save_plan(&mut tx, &ctx, "Account executive", &plan)?;
    // Reps in Seoul are paid out in won, on the 15th day after each quarter, at that day's rate.
    let mut korea = plan;
    korea["payout"] = serde_json::json!({ "currency": "KRW", "days_after": 15 });
    app::pay::save_plan(&mut tx, &ctx, KOREA_PLAN, &korea)?;
    let reps: Vec<_> = users.iter().filter(|user| user.role == Role::Rep).collect();
    for rep in &reps {
        let plan = if rep.time_zone == "Asia/Seoul" { KOREA_PLAN } else { "Account executive" };
        app::pay::assign_plan(&mut tx, &ctx, rep.id, plan, &last_year.first.to_string(), None)?;
    }
    let mut statements = 0;
    insights.with(|projection| -> Result<()> {
        for quarter in &quarters {
            for computed in app::pay::compute_statements(&mut tx, &ctx, projection, &quarter.key())? {
                if quarter.last < today {
                    app::pay::lock_statement(&mut tx, &ctx, computed.stored.id)?;
                }
                statements += 1;
            }
        }
        Ok(())
    })?;
    tx.commit()?;
    Ok(statements)
}
