//! Quotas against results (SPEC C8, issue 12): what each rep's own record says about a quota —
//! the realism check the seeds ask for, since an impossible target breaks a team.
//!
//! Figures come from the organisation's projection (`insights`), by the analytics' own rules:
//! a rep's bookings in a period are their won amount with a closed day in it
//! (`pipewise_analytics::leaderboard`), in the reporting currency.

use std::collections::BTreeMap;

use pipewise_analytics::{DashboardQuery, Period, Projection, Scope, day_of_date, leaderboard};
use pipewise_comp::{History, Realism, realism};
use pipewise_core::fiscal::{FiscalCalendar, FiscalPeriod};
use pipewise_core::money::Decimal;
use pipewise_core::{Date, UserId};

/// How many earlier periods of the quota's kind a rep's record is read over.
pub const HISTORY_PERIODS: usize = 4;

/// Each rep's [`History`] before `period` (in `scope`), as of `today`: bookings in each of the
/// [`HISTORY_PERIODS`] periods of its kind before it in which the rep had deals in play, their
/// win rate by value and average cycle over those periods, and their open pipeline due to close
/// in `period`.
pub fn histories(
    projection: &Projection,
    scope: &Scope,
    calendar: FiscalCalendar,
    period: &FiscalPeriod,
    today: Date,
) -> BTreeMap<UserId, History> {
    let minor = u32::from(projection.reporting_currency().minor_units());
    let money = |amount: i128| Decimal::try_from_i128_with_scale(amount, minor).unwrap_or(Decimal::MAX);
    let mut past = Vec::with_capacity(HISTORY_PERIODS);
    let mut earlier = calendar.previous(period);
    for _ in 0..HISTORY_PERIODS {
        past.push(earlier);
        earlier = calendar.previous(&earlier);
    }
    past.reverse();

    #[derive(Default)]
    struct Record {
        bookings: Vec<Decimal>,
        won: i128,
        lost: i128,
        won_count: u64,
        cycle_days: i64,
    }
    let mut records: BTreeMap<UserId, Record> = BTreeMap::new();
    for earlier in past.iter().filter(|earlier| earlier.first <= today) {
        let days = Period::from(earlier);
        let mut query = DashboardQuery::new(day_of_date(today.min(earlier.last)));
        query.scope = scope.clone();
        query.period = days;
        query.window = days;
        for row in leaderboard(projection, &query) {
            let record = records.entry(row.user_id).or_default();
            record.bookings.push(money(row.won_amount));
            record.won += row.outcomes.won_amount;
            record.lost += row.outcomes.lost_amount;
            record.won_count += row.outcomes.won;
            record.cycle_days += row.outcomes.won_cycle_days;
        }
    }
    let mut current = DashboardQuery::new(day_of_date(today.min(period.last)));
    current.scope = scope.clone();
    current.period = Period::from(period);
    let open: BTreeMap<UserId, i128> =
        leaderboard(projection, &current).into_iter().map(|row| (row.user_id, row.open_closing_in_period)).collect();
    let days_left = if today < period.first { period.days() } else { day_of_date(period.last) - day_of_date(today) }.max(0);

    let mut users: Vec<UserId> = records.keys().chain(open.keys()).copied().collect();
    users.sort_unstable();
    users.dedup();
    users
        .into_iter()
        .map(|user| {
            let record = records.remove(&user).unwrap_or_default();
            let closed = record.won + record.lost;
            let history = History {
                bookings: record.bookings,
                win_rate: (closed > 0).then(|| money(record.won) / money(closed)),
                open_pipeline: money(open.get(&user).copied().unwrap_or(0)),
                cycle_days: (record.won_count > 0)
                    .then(|| (Decimal::from(record.cycle_days) / Decimal::from(record.won_count)).round_dp(1)),
                period_days: period.days(),
                days_left,
            };
            (user, history)
        })
        .collect()
}

/// The realism check of each quota in `quotas` against the rep's [`histories`]; a rep with no
/// record at all has no history.
pub fn realism_of(quotas: &BTreeMap<UserId, Decimal>, histories: &BTreeMap<UserId, History>) -> BTreeMap<UserId, Realism> {
    quotas
        .iter()
        .map(|(user, quota)| {
            let verdict = match histories.get(user) {
                Some(history) => realism(*quota, history),
                None => realism(
                    *quota,
                    &History {
                        bookings: Vec::new(),
                        win_rate: None,
                        open_pipeline: Decimal::ZERO,
                        cycle_days: None,
                        period_days: 0,
                        days_left: 0,
                    },
                ),
            };
            (*user, verdict)
        })
        .collect()
}

/// Every owner's bookings (won amount, reporting currency) with a closed day in `first..=last`,
/// as of the end of `as_of`, over the whole organisation.
pub fn bookings(projection: &Projection, first: Date, last: Date, as_of: Date) -> BTreeMap<UserId, Decimal> {
    let minor = u32::from(projection.reporting_currency().minor_units());
    let days = Period::new(day_of_date(first), day_of_date(last));
    let mut query = DashboardQuery::new(day_of_date(as_of));
    query.period = days;
    query.window = days;
    leaderboard(projection, &query)
        .into_iter()
        .map(|row| (row.user_id, Decimal::try_from_i128_with_scale(row.won_amount, minor).unwrap_or(Decimal::MAX)))
        .collect()
}
