//! Activities (e-mails, meetings, calls, notes, tasks), which follow the deals: a rep sees those
//! of deals they may see, plus their own. List, get, create.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use pipewise_app as app;
use pipewise_app::{ActivityFilter, input};
use pipewise_core::records::{Activity, ActivityKind};
use pipewise_core::{AccountId, ActivityId, OpportunityId, UserId};

use super::db::{read, write};
use super::openapi::{Create, Resource};
use super::records::{crud, list_query, names};
use super::support::{IdPath, JsonBody, Key, Listing, Query, SortField, created, not_found};
use super::views::{ActivityView, Page};
use super::{Param, Route, Ty};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::AppError;

pub fn routes() -> Vec<Route> {
    crud(
        "activities",
        "Activity",
        activity_query(),
        ["list_activities", "create_activity", "get_activity", ""],
        list_activities,
        create_activity,
        get_activity,
        None::<fn() -> std::future::Ready<Response>>,
    )
}

pub fn resources() -> Vec<Resource> {
    vec![
        Resource::of::<ActivityView>()
            .create_only(Create::Required, &["kind", "direction", "occurred_at", "subject"])
            .create_only(Create::Optional, &["body", "source", "user_id", "account_id", "opportunity_id", "contact_ids"]),
    ]
}

fn activity_sorts() -> Vec<SortField<Activity>> {
    vec![
        SortField { name: "id", key: |row| Key::Int(row.id.0) },
        SortField { name: "occurred_at", key: |row| Key::Int(row.occurred_at.as_micros()) },
        SortField { name: "logged_at", key: |row| Key::Int(row.logged_at.as_micros()) },
    ]
}

fn activity_query() -> Vec<Param> {
    list_query(
        vec![
            Param::id("opportunity_id", "Only activities of this deal."),
            Param::id("account_id", "Only activities of this account."),
            Param::id("user_id", "Only activities of this user."),
            Param::new("kind", Ty::Enum(names(ActivityKind::ALL, ActivityKind::as_str)), "Only activities of this kind."),
        ],
        &activity_sorts(),
    )
}

async fn list_activities(
    State(state): State<AppState>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Result<Json<Page<ActivityView>>, AppError> {
    let query = Query::parse(raw.as_deref(), &activity_query())?;
    let sorts = activity_sorts();
    let listing = Listing::parse(&query, &sorts)?;
    let filter = ActivityFilter {
        opportunity_id: query.id("opportunity_id")?.map(OpportunityId),
        account_id: query.id("account_id")?.map(AccountId),
        user_id: query.id("user_id")?.map(UserId),
        scope: None,
    };
    let kind = query.parsed("kind", ActivityKind::parse)?;
    let mut rows = read(&state, move |tx| Ok(app::activities::activities_for(tx, viewer.org, &viewer.access, &filter)?)).await?;
    rows.retain(|row| kind.is_none_or(|kind| row.kind == kind));
    Ok(Json(listing.page(rows, &sorts, |row| row.id.0, ActivityView::from)))
}

async fn get_activity(State(state): State<AppState>, viewer: Viewer, IdPath(id): IdPath) -> Result<Json<ActivityView>, AppError> {
    let row = read(&state, move |tx| {
        app::activities::activity_for(tx, viewer.org, &viewer.access, ActivityId(id))?.ok_or_else(|| not_found(ActivityId::LABEL, id))
    })
    .await?;
    Ok(Json(row.into()))
}

async fn create_activity(State(state): State<AppState>, viewer: Viewer, JsonBody(body): JsonBody) -> Result<Response, AppError> {
    let new = input::new_activity(&body, viewer.user.id)?;
    let org = viewer.org;
    let row = write(&state, &viewer, move |tx, ctx| {
        let id = app::activities::create_activity(tx, ctx, new)?;
        app::activities::activity(tx, org, id)?.ok_or(pipewise_app::StoreError::NotFound { kind: ActivityId::LABEL, id: id.0 })
    })
    .await?;
    Ok(created(format!("/api/v1/activities/{}", row.id), ActivityView::from(row)))
}
