//! Seed 004's five symptoms per person (issue 13, point 9), quarter by quarter so each has its
//! trend: late CRM updates (deals won that jumped straight to won: the CRM was updated after
//! the fact), stale information (open deals unchanged for 30 days), the quarter-end scramble
//! (the share of a quarter's stage and amount changes made in its last two weeks), forecasts a
//! manager cannot make (their reports', and their own, missing calls) and forecast error (the
//! opening call against what was won, from the ledger). A person's number is the deals they see
//! as an owner set (a rep's own, a manager's tree). The current quarter is measured so far:
//! stale deals and missing calls today; the scramble and the error once it closes.

use std::collections::BTreeMap;
use std::sync::Arc;

use pipewise_analytics::{Period, day_of_date};
use pipewise_core::access::Access;
use pipewise_core::fiscal::{FiscalPeriod, PeriodKind};
use pipewise_core::*;
use pipewise_forecast::symptoms::{Share, late_updates, scramble, stale};

use super::calls::calls_in;
use super::ledger::Ledger;
use crate::insights::Insights;
use crate::{Result, StoreError, Tx};

/// One quarter's symptoms of one person: shares between 0 and 1, `None` where nothing counts.
#[derive(Clone, Debug, PartialEq)]
pub struct QuarterSymptoms {
    pub period: FiscalPeriod,
    /// Whether the quarter is still running (measured so far).
    pub running: bool,
    pub late: Option<f64>,
    pub stale: Option<f64>,
    pub scramble: Option<f64>,
    pub missing: Option<f64>,
    /// The opening call's error, as a magnitude.
    pub error: Option<f64>,
}

/// A person's symptoms, oldest quarter first, the running one last.
#[derive(Clone, Debug, PartialEq)]
pub struct PersonSymptoms {
    pub user: UserId,
    pub quarters: Vec<QuarterSymptoms>,
}

/// One quarter's shares by owner index: late updates, stale deals and (once closed) the scramble.
type QuarterShares = (Arc<Vec<Share>>, Arc<Vec<Share>>, Option<Arc<Vec<Share>>>);

fn sum(shares: &[Share], owners: Option<&[u32]>) -> Option<f64> {
    match owners {
        None => Share::total(shares),
        Some(owners) => Share::total(owners.iter().filter_map(|owner| shares.get(*owner as usize))),
    }
    .ratio()
}

/// What [`symptoms`] measures: whom, up to which day, over how many closed quarters (and the
/// running one), with the ledger of the same quarters for the error.
#[derive(Clone, Copy, Debug)]
pub struct SymptomsQuery<'a> {
    pub people: &'a [UserId],
    pub today: Date,
    pub quarters: usize,
    pub ledger: &'a Ledger,
}

/// The symptoms of the query's people whom `access` may see (the others are left out).
pub fn symptoms(tx: &mut Tx, org: OrgId, access: &Access, insights: &Insights, query: SymptomsQuery) -> Result<Vec<PersonSymptoms>> {
    let SymptomsQuery { people, today, quarters, ledger } = query;
    let organisation = crate::users::organisation(tx, org)?.ok_or(StoreError::NotFound { kind: "organisation", id: org.0 })?;
    let calendar = organisation.fiscal;
    let visible = crate::visibility::visible_owners(access);
    let people: Vec<UserId> =
        people.iter().copied().filter(|person| visible.as_ref().is_none_or(|owners| owners.contains(person))).collect();
    let running = calendar.period_of(PeriodKind::Quarter, today);
    let mut periods = vec![running];
    for _ in 0..quarters {
        let previous = calendar.previous(periods.last().expect("a quarter"));
        periods.push(previous);
    }
    periods.reverse();
    // Each person's number and direct reports, from one read of the people; each quarter's calls.
    let users = tx.0.users(org)?;
    let owners = super::calls::numbers_of(&users, people.iter().copied());
    let reports: BTreeMap<UserId, Vec<UserId>> = people
        .iter()
        .map(|person| (*person, users.iter().filter(|user| user.active && user.manager_id == Some(*person)).map(|user| user.id).collect()))
        .collect();
    // Who called each quarter: the ledger has scored everyone who called a quarter it covers
    // (one opening call each); only the others are read.
    let mut called: Vec<std::collections::BTreeSet<UserId>> = Vec::new();
    for period in &periods {
        called.push(if ledger.quarters.iter().any(|quarter| quarter.first == period.first) {
            ledger.scored.iter().filter(|row| row.period.first == period.first).map(|row| row.call.user).collect()
        } else {
            calls_in(tx, org, &Access::System, &period.key())?.calls.iter().map(|call| call.user).collect()
        });
    }
    let errors: BTreeMap<(UserId, Date), f64> =
        ledger.scored.iter().map(|row| ((row.call.user, row.period.first), row.error.abs())).collect();
    let today_day = day_of_date(today);
    // Each quarter's measures by owner, kept once computed (a closed quarter's never change).
    let models = insights.forecast_models();
    let shares: Vec<QuarterShares> = insights.with(|projection| {
        periods
            .iter()
            .map(|period| {
                let last = day_of_date(period.last).min(today_day);
                let window = Period::new(day_of_date(period.first), last);
                let closed = day_of_date(period.last) < today_day;
                (
                    models.measure(projection, "late_updates", window, |projection| late_updates(projection, window)),
                    models.measure(projection, "stale", Period::new(last, last), |projection| stale(projection, last)),
                    closed.then(|| models.measure(projection, "scramble", window, |projection| scramble(projection, window))),
                )
            })
            .collect()
    });
    let owner_indexes: BTreeMap<UserId, Option<Vec<u32>>> = insights.with(|projection| {
        owners
            .iter()
            .map(|(person, seen)| {
                (*person, seen.as_ref().map(|seen| seen.iter().filter_map(|owner| projection.owner_index(*owner)).collect()))
            })
            .collect()
    });
    Ok(people
        .iter()
        .map(|person| {
            let indexes = owner_indexes[person].as_deref();
            let expected: Vec<UserId> = std::iter::once(*person).chain(reports[person].iter().copied()).collect();
            let quarters = periods
                .iter()
                .enumerate()
                .map(|(k, period)| {
                    let (late, stale, scramble) = &shares[k];
                    let missing = expected.iter().filter(|who| !called[k].contains(who)).count();
                    QuarterSymptoms {
                        period: *period,
                        running: period.first == running.first,
                        late: sum(late, indexes),
                        stale: sum(stale, indexes),
                        scramble: scramble.as_ref().and_then(|shares| sum(shares, indexes)),
                        missing: Some(missing as f64 / expected.len() as f64),
                        error: errors.get(&(*person, period.first)).copied(),
                    }
                })
                .collect();
            PersonSymptoms { user: *person, quarters }
        })
        .collect())
}
