//! The win-probability model (issue 13 point 3) served from an organisation's projection: the
//! model is fitted as of the end of yesterday (what was closed and logged by then), kept while
//! that past stays unchanged, and scores any open deal the viewer may see as it stands today.
//!
//! The projection knows each deal's history; the store supplies what the model reads besides
//! ([`pipewise_store::ActivitiesTx::deal_touches`] and `deal_companies`): activities with the
//! contacts they name and those contacts' titles, and the company's size and industry.

use std::collections::HashMap;
use std::sync::Arc;

use pipewise_analytics::{Day, day_of_timestamp};
use pipewise_core::access::Access;
use pipewise_core::{OpportunityId, OrgId, Timestamp, Zone};
use pipewise_forecast::win::{self, Company, DealFacts, Example, Touch};
pub use pipewise_forecast::win::{FLOOR_OUTCOMES, Factor, Family, Reason, Refusal, Score, Shown, WinBasis, WinModel};

use super::{Stamp, keep, lookup, stamp_as_of};
use crate::insights::Insights;
use crate::{DealCompany, DealTouch, Result, Tx};

/// Win models kept per organisation.
pub(super) const WINS_KEPT: usize = 4;
/// Deals whose facts are read in one statement.
const FACTS_CHUNK: usize = 2_000;

/// The facts of `deals` (projection indices with their ids), read from the store, by deal index.
fn facts_of(tx: &mut Tx, org: OrgId, zone: &Zone, deals: &[(u32, OpportunityId)]) -> Result<HashMap<u32, DealFacts>> {
    let mut facts: HashMap<u32, DealFacts> = HashMap::with_capacity(deals.len());
    for chunk in deals.chunks(FACTS_CHUNK) {
        let index: HashMap<OpportunityId, u32> = chunk.iter().map(|(deal, id)| (*id, *deal)).collect();
        let ids: Vec<OpportunityId> = chunk.iter().map(|(_, id)| *id).collect();
        for touch in tx.0.deal_touches(org, &ids)? {
            let DealTouch { opportunity_id, occurred_at, logged_at, direction, contacts, .. } = touch;
            let Some(deal) = index.get(&opportunity_id) else { continue };
            facts.entry(*deal).or_default().touches.push(Touch {
                occurred: day_of_timestamp(occurred_at, zone),
                logged: day_of_timestamp(logged_at, zone),
                direction,
                contacts: contacts.into_iter().map(|(contact, title)| (contact.0, win::seniority(title.as_deref()))).collect(),
            });
        }
        for DealCompany { opportunity_id, employee_count, industry } in tx.0.deal_companies(org, &ids)? {
            let Some(deal) = index.get(&opportunity_id) else { continue };
            facts.entry(*deal).or_default().company = Company { employees: employee_count, industry };
        }
    }
    Ok(facts)
}

/// The model fitted as of the end of `as_of`, kept while what was known then stays unchanged.
pub fn win_model(tx: &mut Tx, org: OrgId, insights: &Insights, as_of: Day) -> Result<Arc<WinModel>> {
    let models = insights.forecast_models();
    let (at, examples): (Stamp, Vec<Example>) = {
        let at = insights.with(|projection| stamp_as_of(projection, as_of));
        if let Some(model) = lookup(&mut models.wins.lock().expect("wins lock"), &as_of, at) {
            return Ok(model);
        }
        (at, insights.with(|projection| win::examples(projection, as_of)))
    };
    let deals: Vec<(u32, OpportunityId)> = examples.iter().map(|example| (example.deal, example.id)).collect();
    let facts = facts_of(tx, org, insights.zone(), &deals)?;
    let model = insights.with(|projection| {
        // The deals are the projection's own: a deal is never removed, so its index holds.
        Arc::new(win::fit_win(projection, as_of, &examples, &facts))
    });
    keep(&mut models.wins.lock().expect("wins lock"), as_of, at, model.clone(), WINS_KEPT);
    Ok(model)
}

/// A deal's win probability today with the model behind it.
#[derive(Clone, Debug)]
pub struct WinAnswer {
    pub model: Arc<WinModel>,
    /// Today, the day scored.
    pub day: Day,
    pub score: std::result::Result<Score, Refusal>,
}

/// The win probability of deal `id` as it stands today (the organisation's day at `now`, to its
/// end), by the model fitted as of the end of the day before. `None` when the viewer may not see
/// the deal.
pub fn win_score(
    tx: &mut Tx,
    org: OrgId,
    access: &Access,
    insights: &Insights,
    id: OpportunityId,
    now: Timestamp,
) -> Result<Option<WinAnswer>> {
    if crate::deals::opportunity_for(tx, org, access, id)?.is_none() {
        return Ok(None);
    }
    score_seen(tx, org, insights, id, now).map(Some)
}

/// [`win_score`] of a deal the viewer may see.
fn score_seen(tx: &mut Tx, org: OrgId, insights: &Insights, id: OpportunityId, now: Timestamp) -> Result<WinAnswer> {
    let today = day_of_timestamp(now, insights.zone());
    let model = win_model(tx, org, insights, today - 1)?;
    let Some(deal) = insights.with(|projection| projection.deal_index(id)) else {
        // Not followed into the analytics yet: nothing to score it by.
        return Ok(WinAnswer { model, day: today, score: Err(Refusal::NotOpen) });
    };
    let facts = facts_of(tx, org, insights.zone(), &[(deal, id)])?.remove(&deal).unwrap_or_default();
    let score = insights.with(|projection| model.score(projection, deal, today, &facts));
    Ok(WinAnswer { model, day: today, score })
}

/// An out-of-time check of the model: fitted as of the end of `as_of`, it scores every deal
/// open (in a counting stage) that day whose outcome was known by the end of `through`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WinBacktest {
    pub deals: u32,
    pub won: u32,
    pub brier: f64,
    pub brier_stage_default: f64,
}

/// See [`WinBacktest`]; `None` when the model scored none of those deals.
pub fn win_backtest(tx: &mut Tx, org: OrgId, insights: &Insights, as_of: Day, through: Day) -> Result<Option<WinBacktest>> {
    let model = win_model(tx, org, insights, as_of)?;
    let open: Vec<(Example, f64)> = insights.with(|projection| {
        let scope = pipewise_analytics::Scope::org();
        let view = pipewise_analytics::metrics::View::as_of(projection, &scope, as_of);
        (0..projection.n_deals() as u32)
            .filter_map(|deal| {
                let then = projection.state_at(deal, as_of)?;
                let stage = view.stage(then.stage);
                if !(stage.open && stage.counts) {
                    return None;
                }
                let won = view.outcome(&projection.state_at(deal, through)?)?;
                let id = projection.deals().id[deal as usize];
                Some((Example { deal, id, day: as_of, won }, stage.win_bp as f64 / 10_000.0))
            })
            .collect()
    });
    let deals: Vec<(u32, OpportunityId)> = open.iter().map(|(example, _)| (example.deal, example.id)).collect();
    let facts = facts_of(tx, org, insights.zone(), &deals)?;
    let examples: Vec<Example> = open.iter().map(|(example, _)| *example).collect();
    let Some(brier) = insights.with(|projection| model.brier(projection, &examples, &facts)) else { return Ok(None) };
    let actual = |example: &Example| f64::from(u8::from(example.won));
    let brier_stage_default = open.iter().map(|(example, p)| (p - actual(example)).powi(2)).sum::<f64>() / open.len() as f64;
    Ok(Some(WinBacktest {
        deals: open.len() as u32,
        won: open.iter().filter(|(example, _)| example.won).count() as u32,
        brier,
        brier_stage_default,
    }))
}

/// A deal's score for a page that must not wait for a fit.
#[derive(Clone, Debug)]
pub enum WinScore {
    Ready(WinAnswer),
    /// The model of that day is being fitted in the background; ask again shortly.
    Learning,
}

/// [`win_score`] for a page: when the day's model is not fitted yet, it is fitted on a thread
/// of its own (once, however many ask) and the answer is [`WinScore::Learning`]. `None` when the
/// viewer may not see the deal.
pub fn win_score_if_ready(
    tx: &mut Tx,
    org: OrgId,
    access: &Access,
    insights: &Arc<Insights>,
    id: OpportunityId,
    now: Timestamp,
) -> Result<Option<WinScore>> {
    if crate::deals::opportunity_for(tx, org, access, id)?.is_none() {
        return Ok(None);
    }
    let as_of = day_of_timestamp(now, insights.zone()) - 1;
    let models = insights.forecast_models();
    let at = insights.with(|projection| stamp_as_of(projection, as_of));
    let kept = lookup(&mut models.wins.lock().expect("wins lock"), &as_of, at);
    if kept.is_none() {
        let mut fitting = models.fitting.lock().expect("fitting lock");
        if !fitting.contains(&as_of) {
            fitting.push(as_of);
            let insights = Arc::clone(insights);
            std::thread::spawn(move || {
                // The day is released however the fit ends, a panic included, so a later view
                // tries again instead of saying "learning" all day.
                struct Release(Arc<Insights>, Day);
                impl Drop for Release {
                    fn drop(&mut self) {
                        if let Ok(mut fitting) = self.0.forecast_models().fitting.lock() {
                            fitting.retain(|day| *day != self.1);
                        }
                    }
                }
                let release = Release(Arc::clone(&insights), as_of);
                let fitted = insights.read_tx().and_then(|mut tx| win_model(&mut tx, org, &insights, as_of));
                if let Err(error) = fitted {
                    eprintln!("win-probability model of {org}: not fitted: {error}");
                }
                drop(release);
            });
        }
        return Ok(Some(WinScore::Learning));
    }
    Ok(Some(WinScore::Ready(score_seen(tx, org, insights, id, now)?)))
}
