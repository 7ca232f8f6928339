//! Opportunities: list, get (now or `as_of` a past time), history, create, patch.

use axum::extract::RawQuery;
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use pipewise_app as app;
use pipewise_app::OpportunityFilter;
use pipewise_core::opportunity::{Opportunity, Status};
use pipewise_core::*;

use super::db::Api;
use super::openapi::{Field, Resource};
use super::support::{
    IdPath, JsonBody, Key, Listing, Query, SortField, created, list_params, not_found, optional_text_key, sort_names, text_key,
};
use super::views::{HistoryEventView, OpportunityView, Page};
use super::{Param, Reply, Route, Ty};
use crate::error::AppError;
use pipewise_app::input;

const TAG: &str = "opportunities";

fn sorts() -> Vec<SortField<Opportunity>> {
    vec![
        SortField { name: "id", key: |deal| Key::Int(deal.id.0) },
        SortField { name: "name", key: |deal| text_key(&deal.name) },
        SortField { name: "amount", key: |deal| deal.amount.map_or(Key::Null, |money| Key::Decimal(money.amount())) },
        SortField { name: "close_date", key: |deal| optional_text_key(deal.close_date.map(|date| date.to_string()).as_deref()) },
        SortField { name: "created_at", key: |deal| Key::Int(deal.created_at.as_micros()) },
    ]
}

fn status_values() -> Vec<&'static str> {
    Status::ALL.iter().map(|status| status.as_str()).collect()
}

fn list_query() -> Vec<Param> {
    let mut params = vec![
        Param::id("owner_id", "Only deals owned by this user."),
        Param::id("pipeline_id", "Only deals in this pipeline."),
        Param::id("stage_id", "Only deals in this stage."),
        Param::id("account_id", "Only deals of this account."),
        Param::new("status", Ty::Enum(status_values()), "Only deals with this status."),
    ];
    params.extend(list_params(sort_names(&sorts())));
    params
}

fn id_param() -> Param {
    Param::id("id", "The opportunity's id.")
}

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::GET, "/api/v1/opportunities", "list_opportunities", list_opportunities)
            .summary(TAG, "List the deals the viewer may see.")
            .query(list_query())
            .reply(Reply::List("Opportunity")),
        Route::new(Method::POST, "/api/v1/opportunities", "create_opportunity", create_opportunity)
            .summary(TAG, "Create a deal; its history starts with every set field.")
            .body("OpportunityCreate")
            .reply(Reply::Json(201, "Opportunity")),
        Route::new(Method::GET, "/api/v1/opportunities/{id}", "get_opportunity", get_opportunity)
            .summary(TAG, "One deal, now or as it was known at `as_of` (404 if it did not exist yet).")
            .path_param(id_param())
            .query(vec![Param::new("as_of", Ty::Time, "An RFC 3339 time: the deal as it was known then, replayed from its history.")])
            .reply(Reply::Json(200, "Opportunity")),
        Route::new(Method::PATCH, "/api/v1/opportunities/{id}", "update_opportunity", update_opportunity)
            .summary(TAG, "Change some fields of a deal; every change is appended to its history.")
            .path_param(id_param())
            .body("OpportunityPatch")
            .reply(Reply::Json(200, "Opportunity")),
        Route::new(Method::GET, "/api/v1/opportunities/{id}/history", "list_opportunity_history", list_opportunity_history)
            .summary(TAG, "A deal's history, one event per changed field, in sequence order.")
            .path_param(id_param())
            .query(vec![
                Param::range("limit", 1, 200, "Rows per page, 1 to 200 (default 50)."),
                Param::text("cursor", "The `next_cursor` of the previous page."),
            ])
            .reply(Reply::List("HistoryEvent")),
    ]
}

pub fn resources() -> Vec<Resource> {
    let opportunity = Resource::of::<OpportunityView>()
        .required(&["name", "owner_id", "pipeline_id"])
        .writable(&["account_id", "stage_id", "amount", "close_date", "forecast_category", "next_step", "close_reason"])
        .input(Field::read("gate_override_reason", Ty::Text).patch_only().doc(
            "Pushes a stage move past unmet exit criteria, with this reason: a manager in the owner's line, ops or an admin \
             only. Recorded in the deal's history, its overrides and the audit log. Without it such a move is 409 `gate_refused`.",
        ));
    vec![opportunity, Resource::of::<HistoryEventView>()]
}

async fn list_opportunities(api: Api, RawQuery(raw): RawQuery) -> Result<axum::Json<Page<OpportunityView>>, AppError> {
    let query = Query::parse(raw.as_deref(), &list_query())?;
    let sorts = sorts();
    let listing = Listing::parse(&query, &sorts)?;
    let mut filter = OpportunityFilter {
        owner_id: query.id("owner_id")?.map(UserId),
        pipeline_id: query.id("pipeline_id")?.map(PipelineId),
        stage_id: query.id("stage_id")?.map(StageId),
        account_id: query.id("account_id")?.map(AccountId),
        status: query.parsed("status", Status::parse)?,
        ..OpportunityFilter::default()
    };
    if listing.by_id_ascending() {
        // The store pages in id order itself: fetch one row more than a page to know if another follows.
        filter.after_id = listing.cursor.as_ref().map(|cursor| OpportunityId(cursor.id));
        filter.limit = Some(listing.limit as u32 + 1);
    }
    let deals = api.read(move |tx, viewer| Ok(app::deals::opportunities_for(tx, viewer.org, &viewer.access, &filter)?)).await?;
    Ok(axum::Json(listing.page(deals, &sorts, |deal| deal.id.0, OpportunityView::from)))
}

async fn get_opportunity(api: Api, IdPath(id): IdPath, RawQuery(raw): RawQuery) -> Result<axum::Json<OpportunityView>, AppError> {
    let query = Query::parse(raw.as_deref(), &[Param::new("as_of", Ty::Time, "")])?;
    let as_of: Option<Timestamp> = query.parsed("as_of", str::parse)?;
    let deal = api
        .read(move |tx, viewer| {
            let deal = match as_of {
                Some(at) => app::deals::opportunity_as_of_for(tx, viewer.org, &viewer.access, OpportunityId(id), at)?,
                None => app::deals::opportunity_for(tx, viewer.org, &viewer.access, OpportunityId(id))?,
            };
            deal.ok_or_else(|| not_found(OpportunityId::LABEL, id))
        })
        .await?;
    Ok(axum::Json(deal.into()))
}

async fn list_opportunity_history(
    api: Api,
    IdPath(id): IdPath,
    RawQuery(raw): RawQuery,
) -> Result<axum::Json<Page<HistoryEventView>>, AppError> {
    let params = [Param::integer("limit", ""), Param::text("cursor", "")];
    let query = Query::parse(raw.as_deref(), &params)?;
    let sorts = vec![SortField { name: "seq", key: |event: &pipewise_core::history::HistoryEvent| Key::Int(event.seq) }];
    let listing = Listing::parse(&query, &sorts)?;
    let events = api
        .read(move |tx, viewer| {
            app::deals::history_for(tx, viewer.org, &viewer.access, OpportunityId(id))?.ok_or_else(|| not_found(OpportunityId::LABEL, id))
        })
        .await?;
    Ok(axum::Json(listing.page(events, &sorts, |event| event.seq, HistoryEventView::from)))
}

async fn create_opportunity(api: Api, JsonBody(body): JsonBody) -> Result<Response, AppError> {
    let new = input::new_opportunity(&body)?;
    let deal = api.write(move |tx, ctx| app::deals::create_opportunity(tx, ctx, &new)).await?;
    Ok(created(format!("/api/v1/opportunities/{}", deal.id), OpportunityView::from(deal)))
}

async fn update_opportunity(api: Api, IdPath(id): IdPath, JsonBody(body): JsonBody) -> Result<Response, AppError> {
    let (patch, parse_errors) = input::opportunity_patch_in_part(OpportunityId(id), &body)?;
    let deal = api
        .write(move |tx, ctx| {
            let updated = app::deals::update_opportunity(tx, ctx, OpportunityId(id), &patch);
            if parse_errors.is_empty() {
                return updated;
            }
            // Some fields did not parse: the rest was checked by the real rules in this
            // transaction, which is never committed, so the reply names every bad field at once.
            let rules = match updated {
                Err(app::StoreError::Invalid(rules)) => Some(rules),
                _ => None,
            };
            Err(app::StoreError::Invalid(input::with_rule_errors(parse_errors, rules)))
        })
        .await?;
    Ok(axum::Json(OpportunityView::from(deal)).into_response())
}
