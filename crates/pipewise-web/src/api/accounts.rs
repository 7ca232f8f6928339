//! Accounts (customer companies), visible to everyone in the organisation: list, get, create,
//! patch.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use pipewise_app as app;
use pipewise_app::input;
use pipewise_core::records::Account;
use pipewise_core::{AccountId, UserId};

use super::db::{read, write};
use super::openapi::Resource;
use super::records::{crud, list_query};
use super::support::{IdPath, JsonBody, Key, Listing, Query, SortField, created, not_found, text_key};
use super::views::{AccountView, Page};
use super::{Param, Route};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::AppError;

pub fn routes() -> Vec<Route> {
    crud(
        "accounts",
        "Account",
        account_query(),
        ["list_accounts", "create_account", "get_account", "update_account"],
        list_accounts,
        create_account,
        get_account,
        Some(update_account),
    )
}

pub fn resources() -> Vec<Resource> {
    vec![Resource::of::<AccountView>().required(&["name"]).writable(&["domains", "industry", "employee_count", "region", "owner_id"])]
}

fn account_sorts() -> Vec<SortField<Account>> {
    vec![
        SortField { name: "id", key: |row| Key::Int(row.id.0) },
        SortField { name: "name", key: |row| text_key(&row.name) },
        SortField { name: "employee_count", key: |row| row.employee_count.map_or(Key::Null, Key::Int) },
        SortField { name: "created_at", key: |row| Key::Int(row.created_at.as_micros()) },
    ]
}

fn account_query() -> Vec<Param> {
    list_query(vec![Param::id("owner_id", "Only accounts owned by this user.")], &account_sorts())
}

async fn list_accounts(
    State(state): State<AppState>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Result<Json<Page<AccountView>>, AppError> {
    let query = Query::parse(raw.as_deref(), &account_query())?;
    let sorts = account_sorts();
    let listing = Listing::parse(&query, &sorts)?;
    let owner = query.id("owner_id")?.map(UserId);
    let mut rows = read(&state, move |tx| Ok(app::records::accounts(tx, viewer.org)?)).await?;
    rows.retain(|row| owner.is_none_or(|owner| row.owner_id == Some(owner)));
    Ok(Json(listing.page(rows, &sorts, |row| row.id.0, AccountView::from)))
}

async fn get_account(State(state): State<AppState>, viewer: Viewer, IdPath(id): IdPath) -> Result<Json<AccountView>, AppError> {
    let row = read(&state, move |tx| app::records::account(tx, viewer.org, AccountId(id))?.ok_or_else(|| not_found(AccountId::LABEL, id)))
        .await?;
    Ok(Json(row.into()))
}

async fn create_account(State(state): State<AppState>, viewer: Viewer, JsonBody(body): JsonBody) -> Result<Response, AppError> {
    let new = input::new_account(&body)?;
    let row = write(&state, &viewer, move |tx, ctx| app::records::create_account(tx, ctx, new)).await?;
    Ok(created(format!("/api/v1/accounts/{}", row.id), AccountView::from(row)))
}

async fn update_account(
    State(state): State<AppState>,
    viewer: Viewer,
    IdPath(id): IdPath,
    JsonBody(body): JsonBody,
) -> Result<Json<AccountView>, AppError> {
    let patch = input::account_patch(AccountId(id), &body)?;
    let row = write(&state, &viewer, move |tx, ctx| app::records::update_account(tx, ctx, AccountId(id), &patch)).await?;
    Ok(Json(row.into()))
}
