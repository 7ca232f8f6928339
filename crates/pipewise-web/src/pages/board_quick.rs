//! The board found in the analytics projection: each column's count and amounts come from its
//! columns, and only the cards shown (fifty per open stage, five per closed one) are read from
//! the store. The board of a pipeline with a hundred thousand open deals no longer reads them
//! all. A test checks the board is the one read whole.

use pipewise_app as app;
use std::collections::HashMap;

use pipewise_analytics::projection::NO_AMOUNT;
use pipewise_analytics::{ListFilter, NO_DAY};
use pipewise_app::{OpportunityFilter, Tx};
use pipewise_core::money::Money;
use pipewise_core::opportunity::Opportunity;
use pipewise_core::pipeline::StageKind;
use pipewise_core::*;

use super::board::{BoardDeals, card_limit, chosen_pipeline, closed_order, open_order};
use super::data::OrgData;
use crate::auth::Viewer;
use crate::error::AppError;
use pipewise_app::insights::Insights;

pub fn load(
    insights: &Insights,
    tx: &mut Tx,
    viewer: &Viewer,
    data: &OrgData,
    pipeline: Option<PipelineId>,
    owner: Option<UserId>,
    now: Timestamp,
) -> Result<Option<BoardDeals>, AppError> {
    let visible = super::deals_quick::visible(tx, viewer)?;
    let first_day = super::board::first_closed_day(data, now);
    // Per stage: the count, the amounts, and the candidates for cards by their order key.
    let found = insights.with(|projection| {
        let deals = projection.deals();
        let filter = ListFilter { owner, visible, ..ListFilter::default() };
        let kept = projection.list_matching(&filter);
        let mut open_counts: HashMap<PipelineId, usize> = HashMap::new();
        for index in &kept {
            let stage = &projection.stages[usize::from(deals.stage[*index as usize])];
            if stage.kind == StageKind::Open {
                *open_counts.entry(projection.pipelines[usize::from(stage.pipeline)].id).or_default() += 1;
            }
        }
        let chosen = chosen_pipeline(data, pipeline, &open_counts)?;
        let mut columns: HashMap<StageId, Found> = HashMap::new();
        for index in kept {
            let index = index as usize;
            let stage = &projection.stages[usize::from(deals.stage[index])];
            if projection.pipelines[usize::from(stage.pipeline)].id != chosen.id {
                continue;
            }
            // Open deals by close date (undated last); closed ones of the window, latest first.
            let order = if stage.kind == StageKind::Open {
                let close = deals.close_day[index];
                (close == NO_DAY, if close == NO_DAY { 0 } else { close })
            } else if deals.closed_day[index] != NO_DAY && deals.closed_day[index] >= first_day {
                (false, -deals.closed_day[index])
            } else {
                continue;
            };
            let column = columns.entry(stage.id).or_default();
            column.count += 1;
            let native = deals.amount_native[index];
            if native != NO_AMOUNT {
                let currency = projection.currencies[usize::from(deals.currency[index])];
                column.amounts.extend(Money::new(currency.amount_of(native), currency).ok());
            }
            column.order.push((order, deals.id[index]));
        }
        Some((chosen, columns))
    });
    let Some((pipeline, found)) = found else { return Ok(None) };

    // The cards: each column's first deals in the board's order, read from the store. Closed
    // deals are ordered by the instant they closed, which the projection keeps as a day: every
    // deal of the days the last card may fall on is read, and the instant decides.
    let mut wanted: Vec<OpportunityId> = Vec::new();
    for (stage, column) in &found {
        let kind = pipeline.stages.iter().find(|candidate| candidate.id == *stage).map_or(StageKind::Open, |stage| stage.kind);
        let mut order = column.order.clone();
        order.sort_unstable();
        let limit = card_limit(kind);
        if kind == StageKind::Open {
            wanted.extend(order.iter().take(limit).map(|(_, id)| *id));
        } else {
            let last = order.get(limit.saturating_sub(1)).or(order.last()).map(|(key, _)| *key);
            wanted.extend(order.iter().take_while(|(key, _)| Some(*key) <= last).map(|(_, id)| *id));
        }
    }
    let filter = OpportunityFilter { ids: Some(wanted), ..OpportunityFilter::default() };
    let read = app::deals::opportunities_for(tx, viewer.org, &viewer.access, &filter)?;
    let columns = found.into_iter().map(|(stage, column)| {
        let kind = pipeline.stages.iter().find(|candidate| candidate.id == stage).map_or(StageKind::Open, |stage| stage.kind);
        let mut cards: Vec<Opportunity> = read.iter().filter(|deal| deal.stage_id == stage).cloned().collect();
        if kind == StageKind::Open {
            cards.sort_by_key(open_order);
        } else {
            cards.sort_by_key(closed_order);
        }
        cards.truncate(card_limit(kind));
        (stage, column.count, column.amounts, cards)
    });
    let columns: Vec<_> = columns.collect();
    Ok(Some(BoardDeals::from_columns(pipeline, columns)))
}

/// One column as found in the projection.
#[derive(Default)]
struct Found {
    count: usize,
    amounts: Vec<Money>,
    /// The board's order key of each deal, and its id.
    order: Vec<((bool, i32), OpportunityId)>,
}
