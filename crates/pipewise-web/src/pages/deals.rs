//! The list of deals (`/opportunities`), with its filters, a dashboard figure's drill-down and
//! CSV export. The deal page and its forms are in [`super::deal`].

use pipewise_app as app;
use std::collections::HashMap;

use axum::extract::{RawQuery, State};
use axum::response::Response;
use pipewise_app::OpportunityFilter;
use pipewise_core::opportunity::{Opportunity, Status};
use pipewise_core::user::Locale;
use pipewise_core::*;

use super::dashboard::Drill;
use super::data::{OrgData, label};
use super::list::{Cell, Choice, Column, Filter, List, Row, SortKey, csv, csv_rows, list_page, sort_of};
use super::{Params, SignedIn, answer, download};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::AppError;
use crate::i18n::{self, t};

pub async fn list(State(state): State<AppState>, SignedIn(viewer): SignedIn, RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query.as_deref());
    let (sort_key, _) = sort_of(&columns(viewer.user.locale), DEFAULT_SORT, &params);
    // With the projection at hand, a CSV in an order it keeps is streamed as it is read.
    if params.get("format") == Some("csv") && state.insights.is_some() && super::deals_quick::sorts_by(sort_key) {
        return answer(viewer, move |reader| deal_csv(&state, reader, &params)).await;
    }
    list_page(state, viewer, query, deal_list).await
}

/// What the list's query keeps: the filters, a drill-down's deals, the search.
struct DealQuery {
    status: Option<Status>,
    filter: OpportunityFilter,
    drill: Option<Drill>,
    search: Option<String>,
}

impl DealQuery {
    fn of(state: &AppState, viewer: &Viewer, tx: &mut app::Tx, data: &OrgData, params: &Params) -> Result<DealQuery, AppError> {
        // A dashboard drill-down (`?figure=…`): the deals behind that figure, whose owner and
        // pipeline filters name the figure's subject as of its date (not today's owner).
        let drill = super::dashboard::drill(state, viewer, tx, data, params)?;
        let status = match params.get("status") {
            Some("all") => None,
            Some(other) => Status::parse(other).ok().or(Some(Status::Open)),
            None if drill.is_some() => None,
            None => Some(Status::Open),
        };
        let filter = OpportunityFilter {
            owner_id: params.id("owner").map(UserId).filter(|_| drill.is_none()),
            pipeline_id: params.id("pipeline").map(PipelineId).filter(|_| drill.is_none()),
            stage_id: params.id("stage").map(StageId),
            status,
            // A drill-down reads the deals behind its figure only (still through the viewer's
            // visibility), not every deal of the organisation.
            ids: drill.as_ref().map(|drill| drill.ids.iter().copied().collect()),
            ..OpportunityFilter::default()
        };
        Ok(DealQuery { status, filter, drill, search: search_of(params) })
    }
}

/// The list as CSV, every matching deal in the list's order, streamed as it is read: the query
/// is checked first (a drill-down's figure too, so a wrong one is answered as such), the header
/// line is sent at once, then the order is found in the projection's columns and the deals are
/// read, checked against the reader's visibility again and worded a few hundred at a time.
fn deal_csv(state: &AppState, viewer: &Viewer, params: &Params) -> Result<Response, AppError> {
    const CHUNK: usize = 500;
    let locale = viewer.user.locale;
    let now = state.now();
    let columns = columns(locale);
    let (sort_key, descending) = sort_of(&columns, DEFAULT_SORT, params);
    let sort_key = sort_key.to_owned();
    let DealQuery { filter, search, .. } = {
        let mut tx = state.db.read()?;
        let data = OrgData::load_without_accounts(&mut tx, viewer.org, now)?;
        DealQuery::of(state, viewer, &mut tx, &data, params)?
    };
    let (state, viewer) = (state.clone(), viewer.clone());
    let failed = |error: AppError| std::io::Error::other(format!("{error:?}"));
    let file = format!("deals-{}.csv", viewer.today(now));
    Ok(download::csv(file, "the deal list's CSV".to_owned(), move |out| {
        use std::io::Write;
        out.write_all(csv(&columns, &[]).as_bytes())?;
        out.flush()?;
        // The projection brought up to the log before a transaction is taken: a request holds
        // one connection at a time.
        let insights = state.insights_for(viewer.org).map_err(|error| failed(error.into()))?;
        let (ids, mut data) = {
            let mut tx = state.db.read().map_err(|error| failed(error.into()))?;
            let data = OrgData::load_without_accounts(&mut tx, viewer.org, now).map_err(failed)?;
            let ids = super::deals_quick::ordered(&insights, &viewer, &mut tx, &filter, search.as_deref(), (&data, &sort_key, descending))
                .map_err(failed)?;
            (ids, data)
        };
        let zone = viewer.user.time_zone.clone();
        for chunk in ids.chunks(CHUNK) {
            // A short transaction per chunk: a client reading slowly holds no connection while
            // the chunk waits to be sent.
            let rows: Vec<Row> = {
                let mut tx = state.db.read().map_err(|error| failed(error.into()))?;
                let asked = OpportunityFilter { ids: Some(chunk.to_vec()), ..OpportunityFilter::default() };
                let mut deals =
                    app::deals::opportunities_for(&mut tx, viewer.org, &viewer.access, &asked).map_err(|error| failed(error.into()))?;
                let position: HashMap<OpportunityId, usize> = chunk.iter().enumerate().map(|(position, id)| (*id, position)).collect();
                deals.sort_by_key(|deal| position.get(&deal.id).copied());
                let last_activity: HashMap<OpportunityId, Timestamp> = app::activities::last_activity_at(&mut tx, viewer.org, Some(chunk))
                    .map_err(|error| failed(error.into()))?
                    .into_iter()
                    .collect();
                // Only the accounts this chunk names: memory stays that of one chunk.
                data.accounts.clear();
                data.load_accounts(&mut tx, deals.iter().filter_map(|deal| deal.account_id)).map_err(failed)?;
                let row_ctx = RowCtx { data: &data, last_activity: &last_activity, locale, zone: &zone, now, today: viewer.today(now) };
                deals.iter().map(|deal| row_ctx.row(deal)).collect()
            };
            out.write_all(csv_rows(&rows).as_bytes())?;
        }
        Ok(())
    }))
}

/// What each row reads besides its deal.
struct RowCtx<'a> {
    data: &'a OrgData,
    last_activity: &'a HashMap<OpportunityId, Timestamp>,
    locale: Locale,
    zone: &'a str,
    now: Timestamp,
    today: Date,
}

fn deal_list(state: &AppState, viewer: &Viewer, params: &Params) -> Result<List, AppError> {
    let locale = viewer.user.locale;
    let now = state.now();
    // The projection brought up to the log before the request's transaction is taken.
    let insights = state.insights.as_ref().map(|_| state.insights_for(viewer.org)).transpose()?;
    let mut tx = state.db.read()?;
    let mut data = OrgData::load_without_accounts(&mut tx, viewer.org, now)?;
    let DealQuery { status, filter, drill, search } = DealQuery::of(state, viewer, &mut tx, &data, params)?;
    let columns = columns(locale);
    let (sort_key, descending) = sort_of(&columns, DEFAULT_SORT, params);
    // With the projection at hand, the page is found in its columns and only its deals are
    // read (see `super::deals_quick`); a CSV and the columns it cannot order read every
    // matching deal.
    let quick = insights.as_ref().filter(|_| params.get("format") != Some("csv") && super::deals_quick::sorts_by(sort_key));
    let (deals, presorted) = if let Some(insights) = quick {
        let page = super::deals_quick::page(insights, viewer, &mut tx, &data, &filter, search.as_deref(), (sort_key, descending), params)?;
        (page.deals, Some(page.total))
    } else {
        (every_deal(&mut tx, viewer, &mut data, &filter, search.as_deref())?, None)
    };
    // The latest activity of each deal listed: by the deals for a short list, else in one scan.
    let ids: Vec<OpportunityId> = deals.iter().map(|deal| deal.id).collect();
    let only = (ids.len() <= 20_000).then_some(ids.as_slice());
    let last_activity: HashMap<OpportunityId, Timestamp> =
        app::activities::last_activity_at(&mut tx, viewer.org, only)?.into_iter().collect();
    data.load_accounts(&mut tx, deals.iter().filter_map(|deal| deal.account_id))?;
    let zone = viewer.user.time_zone.as_str();
    let row_ctx = RowCtx { data: &data, last_activity: &last_activity, locale, zone, now, today: viewer.today(now) };
    Ok(List {
        title: t(locale, "deals.title").to_owned(),
        nav: "deals",
        path: "/opportunities",
        columns,
        rows: deals.iter().map(|deal| row_ctx.row(deal)).collect(),
        filters: filters(viewer, &data, params, status, drill.as_ref()),
        default_sort: DEFAULT_SORT,
        cursor_pager: None,
        csv_name: "deals",
        note: drill.map(|drill| drill.note),
        link: None,
        presorted,
    })
}

/// The list's order when the reader picks none: by close date, soonest first.
const DEFAULT_SORT: (&str, bool) = ("close_date", false);

/// The list's search (`?q=`): trimmed, at most [`app::records::MAX_SEARCH_CHARS`] characters,
/// lower-cased; `None` when blank.
fn search_of(params: &Params) -> Option<String> {
    params.get("q").map(|query| query.chars().take(app::records::MAX_SEARCH_CHARS).collect::<String>().to_lowercase())
}

/// Every deal `filter` and the search (lower-cased, in names and account names, ignoring case)
/// keep, for the list to sort and page (or export) itself.
fn every_deal(
    tx: &mut app::Tx,
    viewer: &Viewer,
    data: &mut OrgData,
    filter: &OpportunityFilter,
    search: Option<&str>,
) -> Result<Vec<Opportunity>, AppError> {
    let mut deals = app::deals::opportunities_for(tx, viewer.org, &viewer.access, filter)?;
    if let Some(query) = search {
        data.load_accounts(tx, deals.iter().filter_map(|deal| deal.account_id))?;
        deals.retain(|deal| {
            deal.name.to_lowercase().contains(query)
                || data.account_name(deal.account_id).is_some_and(|name| name.to_lowercase().contains(query))
        });
    }
    Ok(deals)
}

fn columns(locale: Locale) -> Vec<Column> {
    vec![
        Column::new(locale, "name", "field.name"),
        Column::new(locale, "account", "field.account_id"),
        Column::new(locale, "pipeline", "field.pipeline_id"),
        Column::new(locale, "stage", "field.stage_id"),
        Column::new(locale, "amount", "field.amount").numeric(),
        Column::new(locale, "close_date", "field.close_date"),
        Column::new(locale, "forecast", "field.forecast_category"),
        Column::new(locale, "owner", "field.owner_id"),
        Column::new(locale, "last_activity", "field.last_activity"),
        Column::new(locale, "status", "field.status"),
    ]
}

impl RowCtx<'_> {
    /// One deal's row, each cell with its sort key.
    fn row(&self, deal: &Opportunity) -> Row {
        let (data, locale, now) = (self.data, self.locale, self.now);
        let stage = data.stage(deal.stage_id);
        let overdue = deal.status == Status::Open && deal.close_date.is_some_and(|date| date < self.today);
        let amount_sort = deal.amount.map_or(SortKey::Missing, |amount| {
            SortKey::Number(data.converted(amount).map_or(amount.amount(), |converted| converted.amount()))
        });
        let mut close_date = Cell::text(deal.close_date.map(|date| i18n::date(locale, date)).unwrap_or_default()).sort(
            deal.close_date.map_or(SortKey::Missing, |date| {
                SortKey::Time(i64::from(date.since(Date::constant(1900, 1, 1)).map_or(0, |span| span.get_days())))
            }),
        );
        if overdue {
            close_date = close_date.class("overdue");
        }
        let account = match (deal.account_id, data.account_name(deal.account_id)) {
            (Some(id), Some(name)) => Cell::link(name, format!("/accounts/{id}")),
            _ => Cell::text(""),
        };
        let activity = self.last_activity.get(&deal.id);
        Row {
            cells: vec![
                Cell::link(deal.name.clone(), format!("/opportunities/{}", deal.id)),
                account,
                Cell::text(data.pipeline(deal.pipeline_id).map(|pipeline| pipeline.name.clone()).unwrap_or_default()),
                Cell::text(data.stage_name(locale, deal.stage_id)).sort(
                    stage.map_or(SortKey::Missing, |stage| SortKey::Number((i64::from(stage.position) + deal.pipeline_id.0 * 1000).into())),
                ),
                Cell::text(deal.amount.map(|amount| i18n::money(locale, amount)).unwrap_or_default()).sort(amount_sort),
                close_date,
                Cell::text(label(locale, "forecast", deal.forecast_category.as_str())),
                Cell::text(data.user_name(deal.owner_id)),
                Cell::text(activity.map(|at| i18n::relative(locale, *at, now)).unwrap_or_default())
                    .sort(activity.map_or(SortKey::Missing, |at| SortKey::Time(-at.as_micros())))
                    .title(activity.map(|at| i18n::timestamp(locale, *at, self.zone)).unwrap_or_default()),
                Cell::text(label(locale, "status", deal.status.as_str())),
            ],
            class: None,
        }
    }
}

/// The list's filters: search, pipeline, stage, owner and status, and a drill-down's own.
fn filters(viewer: &Viewer, data: &OrgData, params: &Params, status: Option<Status>, drill: Option<&Drill>) -> Vec<Filter> {
    let locale = viewer.user.locale;
    let pipeline_choices =
        data.pipelines.iter().map(|pipeline| Choice { value: pipeline.id.to_string(), label: pipeline.name.clone() }).collect();
    let stage_choices = data
        .pipelines
        .iter()
        .filter(|pipeline| params.id("pipeline").is_none_or(|id| id == pipeline.id.0))
        .flat_map(|pipeline| {
            pipeline.stages.iter().map(move |stage| Choice {
                value: stage.id.to_string(),
                label: format!("{} · {}", pipeline.name, i18n::stage_name(locale, stage)),
            })
        })
        .collect();
    let owner_choices = data.visible_owners(viewer).into_iter().map(Choice::user).collect();
    let status_value = match status {
        None => "all".to_owned(),
        Some(status) => status.as_str().to_owned(),
    };
    let status_choices = ["open", "won", "lost", "all"]
        .into_iter()
        .map(|value| Choice { value: value.to_owned(), label: label(locale, "status", value) })
        .collect();
    let selected = |name: &str| params.raw(name).trim().to_owned();
    vec![
        Filter::text("q", t(locale, "list.search").to_owned(), params),
        Filter::select(locale, "pipeline", t(locale, "field.pipeline_id").to_owned(), selected("pipeline"), pipeline_choices),
        Filter::select(locale, "stage", t(locale, "field.stage_id").to_owned(), selected("stage"), stage_choices),
        Filter::select(locale, "owner", t(locale, "field.owner_id").to_owned(), selected("owner"), owner_choices),
        Filter::select_exact("status", t(locale, "field.status").to_owned(), status_value, status_choices),
    ]
    .into_iter()
    .chain(drill.map_or_else(Vec::new, |drill| super::dashboard::drill_filters(drill, params)))
    .collect()
}
