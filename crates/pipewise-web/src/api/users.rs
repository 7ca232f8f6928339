//! Users of Pipewise (role and place in the reporting hierarchy), visible to everyone in the
//! organisation: list, get, create, patch.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use pipewise_app as app;
use pipewise_app::input;
use pipewise_core::user::{Role, User};
use pipewise_core::{TeamId, UserId};

use super::db::{read, write};
use super::openapi::Resource;
use super::records::{crud, list_query, names};
use super::support::{IdPath, JsonBody, Key, Listing, Query, SortField, created, not_found, text_key};
use super::views::{Page, UserView};
use super::{Param, Route, Ty};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::AppError;

pub fn routes() -> Vec<Route> {
    crud(
        "users",
        "User",
        user_query(),
        ["list_users", "create_user", "get_user", "update_user"],
        list_users,
        create_user,
        get_user,
        Some(update_user),
    )
}

pub fn resources() -> Vec<Resource> {
    vec![
        Resource::of::<UserView>()
            .required(&["email", "name", "role"])
            .writable(&["manager_id", "team_id", "time_zone", "locale"])
            .patch_only(&["active"]),
    ]
}

fn user_sorts() -> Vec<SortField<User>> {
    vec![
        SortField { name: "id", key: |row| Key::Int(row.id.0) },
        SortField { name: "name", key: |row| text_key(&row.name) },
        SortField { name: "email", key: |row| text_key(&row.email) },
        SortField { name: "created_at", key: |row| Key::Int(row.created_at.as_micros()) },
    ]
}

fn user_query() -> Vec<Param> {
    list_query(
        vec![
            Param::new("role", Ty::Enum(names(&Role::ALL, Role::as_str)), "Only users with this role."),
            Param::id("team_id", "Only members of this team."),
            Param::id("manager_id", "Only direct reports of this user."),
            Param::new("active", Ty::Boolean, "Only active (`true`) or deactivated (`false`) users."),
        ],
        &user_sorts(),
    )
}

async fn list_users(State(state): State<AppState>, viewer: Viewer, RawQuery(raw): RawQuery) -> Result<Json<Page<UserView>>, AppError> {
    let query = Query::parse(raw.as_deref(), &user_query())?;
    let sorts = user_sorts();
    let listing = Listing::parse(&query, &sorts)?;
    let role = query.parsed("role", Role::parse)?;
    let team = query.id("team_id")?.map(TeamId);
    let manager = query.id("manager_id")?.map(UserId);
    let active = query.boolean("active")?;
    let mut rows = read(&state, move |tx| Ok(app::users::users(tx, viewer.org)?)).await?;
    rows.retain(|row| {
        role.is_none_or(|role| row.role == role)
            && team.is_none_or(|team| row.team_id == Some(team))
            && manager.is_none_or(|manager| row.manager_id == Some(manager))
            && active.is_none_or(|active| row.active == active)
    });
    Ok(Json(listing.page(rows, &sorts, |row| row.id.0, UserView::from)))
}

async fn get_user(State(state): State<AppState>, viewer: Viewer, IdPath(id): IdPath) -> Result<Json<UserView>, AppError> {
    let row = read(&state, move |tx| app::users::user(tx, viewer.org, UserId(id))?.ok_or_else(|| not_found(UserId::LABEL, id))).await?;
    Ok(Json(row.into()))
}

async fn create_user(State(state): State<AppState>, viewer: Viewer, JsonBody(body): JsonBody) -> Result<Response, AppError> {
    let new = input::new_user(&body)?;
    let row = write(&state, &viewer, move |tx, ctx| app::users::create_user(tx, ctx, new)).await?;
    Ok(created(format!("/api/v1/users/{}", row.id), UserView::from(row)))
}

async fn update_user(
    State(state): State<AppState>,
    viewer: Viewer,
    IdPath(id): IdPath,
    JsonBody(body): JsonBody,
) -> Result<Json<UserView>, AppError> {
    let patch = input::user_patch(UserId(id), &body)?;
    let row = write(&state, &viewer, move |tx, ctx| app::users::update_user(tx, ctx, UserId(id), &patch)).await?;
    Ok(Json(row.into()))
}
