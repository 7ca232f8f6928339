//! The deal list's page found in the analytics projection: the deals the filters and the search
//! keep are picked from its columns ([`pipewise_analytics::ListFilter`]), ordered by the same
//! keys the list would give their cells, and only the hundred shown are read from the store. A
//! million deals list in milliseconds instead of being read, worded and sorted whole on every
//! request.
//!
//! The order is the list's own: a column's [`SortKey`] compared as [`compare`] does (missing
//! values last both ways), ties in id order. The projection is brought up to the history log's
//! end first, so readers see their own writes; the deals shown are read from the store (and
//! through the reader's visibility again), so every cell is current. A test checks that every
//! column, direction and filter gives the same rows as the list read whole.

use pipewise_app as app;
use std::collections::HashSet;

use pipewise_analytics::projection::{FORECAST_CATEGORIES, NO_AMOUNT};
use pipewise_analytics::{ListFilter, NO_DAY, Projection, TextFilter, Visible};
use pipewise_app::{OpportunityFilter, Tx};
use pipewise_core::access::DealScope;
use pipewise_core::money::Money;
use pipewise_core::opportunity::{Opportunity, Status};
use pipewise_core::pipeline::StageKind;
use pipewise_core::*;

use super::Params;
use super::data::{OrgData, label};
use super::list::{PAGE_SIZE, SortKey, compare, page_number};
use crate::auth::Viewer;
use crate::error::AppError;
use pipewise_app::insights::Insights;

/// The columns this path orders by; the others (name, account, last activity) need the list
/// read whole.
pub fn sorts_by(column: &str) -> bool {
    matches!(column, "pipeline" | "stage" | "amount" | "close_date" | "forecast" | "owner" | "status")
}

/// One page of the list and how many deals match in all.
pub struct Page {
    pub deals: Vec<Opportunity>,
    pub total: usize,
}

/// The page of deals `filter` and `search` (lower-cased: in deal names, in the projection, and
/// account names, through the store's index) keep, ordered by `column`.
#[allow(clippy::too_many_arguments)]
pub fn page(
    insights: &Insights,
    viewer: &Viewer,
    tx: &mut Tx,
    data: &OrgData,
    filter: &OpportunityFilter,
    search: Option<&str>,
    (column, descending): (&str, bool),
    params: &Params,
) -> Result<Page, AppError> {
    let order = ordered(insights, viewer, tx, filter, search, (data, column, descending))?;
    let total = order.len();
    let start = (page_number(params, total) - 1) * PAGE_SIZE;
    let ids: Vec<OpportunityId> = order.into_iter().skip(start).take(PAGE_SIZE).collect();
    let asked = OpportunityFilter { ids: Some(ids.clone()), ..OpportunityFilter::default() };
    let mut found = app::deals::opportunities_for(tx, viewer.org, &viewer.access, &asked)?;
    // In the page's order (the store answers in id order).
    found.sort_by_key(|deal| ids.iter().position(|id| *id == deal.id));
    Ok(Page { deals: found, total })
}

/// Every deal `filter` and `search` keep (as [`page`] says), in the list's order by `column`.
/// `insights` are the organisation's, brought up to the log's end (`AppState::insights_for`,
/// before `tx` was taken: a request holds one connection at a time).
pub fn ordered(
    insights: &Insights,
    viewer: &Viewer,
    tx: &mut Tx,
    filter: &OpportunityFilter,
    search: Option<&str>,
    (data, column, descending): (&OrgData, &str, bool),
) -> Result<Vec<OpportunityId>, AppError> {
    let visible = visible(tx, viewer)?;
    let text = match search {
        None => None,
        Some(text) => {
            let accounts = app::AccountFilter { name: Some(text.to_owned()), ..app::AccountFilter::default() };
            let found = app::records::account_page(tx, viewer.org, &accounts, app::NameOrder::default())?;
            Some(TextFilter { text: text.to_owned(), accounts: found.ids.into_iter().collect() })
        }
    };
    let list_filter = ListFilter {
        kind: filter.status.map(|status| match status {
            Status::Open => StageKind::Open,
            Status::Won => StageKind::Won,
            Status::Lost => StageKind::Lost,
        }),
        owner: filter.owner_id,
        pipeline: filter.pipeline_id,
        stage: filter.stage_id,
        ids: filter.ids.as_ref().map(|ids| ids.iter().copied().collect::<HashSet<_>>()),
        visible,
        text,
    };
    Ok(insights.with(|projection| {
        let kept = projection.list_matching(&list_filter);
        let keys = sort_keys(projection, data, viewer, column, &kept);
        let deals = projection.deals();
        let mut order: Vec<usize> = (0..kept.len()).collect();
        order.sort_by(|left, right| {
            compare(&keys[*left], &keys[*right], descending).then(deals.id[kept[*left] as usize].cmp(&deals.id[kept[*right] as usize]))
        });
        order.iter().map(|position| deals.id[kept[*position] as usize]).collect()
    }))
}

/// Whose deals the viewer may see, as the projection's filter takes it (`None`: everyone's).
pub fn visible(tx: &mut Tx, viewer: &Viewer) -> Result<Option<Visible>, AppError> {
    Ok(match viewer.access.deal_scope() {
        DealScope::All => None,
        DealScope::Owners { owners, shared_with } => Some(Visible {
            owners: owners.into_iter().collect(),
            shared: app::deals::shared_with(tx, viewer.org, shared_with)?.into_iter().collect(),
        }),
    })
}

/// Each kept deal's key for `column`: the key the list gives that column's cell.
fn sort_keys(projection: &Projection, data: &OrgData, viewer: &Viewer, column: &str, kept: &[u32]) -> Vec<SortKey> {
    let locale = viewer.user.locale;
    let deals = projection.deals();
    let stage_of = |index: u32| &projection.stages[usize::from(deals.stage[index as usize])];
    // Texts compare as their ranks, worked out once per distinct value.
    let ranked = |texts: Vec<String>| -> Vec<SortKey> {
        let keys: Vec<SortKey> = texts.iter().map(|text| SortKey::text(text)).collect();
        let mut sorted: Vec<&SortKey> = keys.iter().filter(|key| **key != SortKey::Missing).collect();
        sorted.sort_by(|left, right| compare(left, right, false));
        sorted.dedup();
        keys.iter()
            .map(|key| match key {
                SortKey::Missing => SortKey::Missing,
                key => SortKey::Number((sorted.binary_search_by(|candidate| compare(candidate, key, false)).unwrap_or(0) as i64).into()),
            })
            .collect()
    };
    match column {
        "pipeline" => {
            let by_pipeline = ranked(
                projection
                    .pipelines
                    .iter()
                    .map(|pipeline| data.pipeline(pipeline.id).map(|stored| stored.name.clone()).unwrap_or_default())
                    .collect(),
            );
            kept.iter().map(|index| by_pipeline[usize::from(stage_of(*index).pipeline)].clone()).collect()
        }
        "stage" => kept
            .iter()
            .map(|index| {
                let info = stage_of(*index);
                let pipeline = projection.pipelines[usize::from(info.pipeline)].id;
                data.stage(info.id)
                    .map_or(SortKey::Missing, |stage| SortKey::Number((i64::from(stage.position) + pipeline.0 * 1000).into()))
            })
            .collect(),
        "amount" => kept
            .iter()
            .map(|index| {
                let native = deals.amount_native[*index as usize];
                if native == NO_AMOUNT {
                    return SortKey::Missing;
                }
                let currency = projection.currencies[usize::from(deals.currency[*index as usize])];
                match Money::new(currency.amount_of(native), currency) {
                    Ok(amount) => SortKey::Number(data.converted(amount).map_or(amount.amount(), |converted| converted.amount())),
                    Err(_) => SortKey::Missing,
                }
            })
            .collect(),
        "close_date" => kept
            .iter()
            .map(|index| match deals.close_day[*index as usize] {
                NO_DAY => SortKey::Missing,
                day => SortKey::Time(i64::from(day)),
            })
            .collect(),
        "forecast" => {
            let by_category = ranked(FORECAST_CATEGORIES.iter().map(|category| label(locale, "forecast", category.as_str())).collect());
            kept.iter().map(|index| by_category[usize::from(deals.forecast[*index as usize])].clone()).collect()
        }
        "owner" => {
            let by_owner = ranked(projection.owner_ids.iter().map(|owner| data.user_name(*owner)).collect());
            kept.iter().map(|index| by_owner.get(deals.owner[*index as usize] as usize).cloned().unwrap_or(SortKey::Missing)).collect()
        }
        "status" => {
            let statuses = [Status::Open, Status::Won, Status::Lost];
            let by_status = ranked(statuses.iter().map(|status| label(locale, "status", status.as_str())).collect());
            kept.iter()
                .map(|index| {
                    let status = match stage_of(*index).kind {
                        StageKind::Open => 0,
                        StageKind::Won => 1,
                        StageKind::Lost => 2,
                    };
                    by_status[status].clone()
                })
                .collect()
        }
        _ => vec![SortKey::Missing; kept.len()],
    }
}
