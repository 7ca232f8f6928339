//! Sales teams, visible to everyone in the organisation: list, get, create, patch.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use pipewise_app as app;
use pipewise_app::input;
use pipewise_core::records::Team;
use pipewise_core::{TeamId, UserId};

use super::db::{read, write};
use super::openapi::Resource;
use super::records::{crud, list_query};
use super::support::{IdPath, JsonBody, Key, Listing, Query, SortField, created, not_found, text_key};
use super::views::{Page, TeamView};
use super::{Param, Route};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::AppError;

pub fn routes() -> Vec<Route> {
    crud(
        "teams",
        "Team",
        team_query(),
        ["list_teams", "create_team", "get_team", "update_team"],
        list_teams,
        create_team,
        get_team,
        Some(update_team),
    )
}

pub fn resources() -> Vec<Resource> {
    vec![Resource::of::<TeamView>().required(&["name"]).writable(&["manager_id"])]
}

fn team_sorts() -> Vec<SortField<Team>> {
    vec![SortField { name: "id", key: |row| Key::Int(row.id.0) }, SortField { name: "name", key: |row| text_key(&row.name) }]
}

fn team_query() -> Vec<Param> {
    list_query(vec![Param::id("manager_id", "Only teams led by this user.")], &team_sorts())
}

async fn list_teams(State(state): State<AppState>, viewer: Viewer, RawQuery(raw): RawQuery) -> Result<Json<Page<TeamView>>, AppError> {
    let query = Query::parse(raw.as_deref(), &team_query())?;
    let sorts = team_sorts();
    let listing = Listing::parse(&query, &sorts)?;
    let manager = query.id("manager_id")?.map(UserId);
    let mut rows = read(&state, move |tx| Ok(app::users::teams(tx, viewer.org)?)).await?;
    rows.retain(|row| manager.is_none_or(|manager| row.manager_id == Some(manager)));
    Ok(Json(listing.page(rows, &sorts, |row| row.id.0, TeamView::from)))
}

async fn get_team(State(state): State<AppState>, viewer: Viewer, IdPath(id): IdPath) -> Result<Json<TeamView>, AppError> {
    let row = read(&state, move |tx| app::users::team(tx, viewer.org, TeamId(id))?.ok_or_else(|| not_found(TeamId::LABEL, id))).await?;
    Ok(Json(row.into()))
}

async fn create_team(State(state): State<AppState>, viewer: Viewer, JsonBody(body): JsonBody) -> Result<Response, AppError> {
    let new = input::new_team(&body)?;
    let row = write(&state, &viewer, move |tx, ctx| app::users::create_team(tx, ctx, new)).await?;
    Ok(created(format!("/api/v1/teams/{}", row.id), TeamView::from(row)))
}

async fn update_team(
    State(state): State<AppState>,
    viewer: Viewer,
    IdPath(id): IdPath,
    JsonBody(body): JsonBody,
) -> Result<Json<TeamView>, AppError> {
    let patch = input::team_patch(TeamId(id), &body)?;
    let row = write(&state, &viewer, move |tx, ctx| app::users::update_team(tx, ctx, TeamId(id), &patch)).await?;
    Ok(Json(row.into()))
}
