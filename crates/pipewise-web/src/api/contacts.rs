//! Contacts (people at customers), visible to everyone in the organisation: list, get, create,
//! patch.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use pipewise_app as app;
use pipewise_app::input;
use pipewise_core::records::Contact;
use pipewise_core::{AccountId, ContactId};

use super::db::{read, write};
use super::openapi::Resource;
use super::records::{crud, list_query};
use super::support::{IdPath, JsonBody, Key, Listing, Query, SortField, created, not_found, text_key};
use super::views::{ContactView, Page};
use super::{Param, Route};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::AppError;

pub fn routes() -> Vec<Route> {
    crud(
        "contacts",
        "Contact",
        contact_query(),
        ["list_contacts", "create_contact", "get_contact", "update_contact"],
        list_contacts,
        create_contact,
        get_contact,
        Some(update_contact),
    )
}

pub fn resources() -> Vec<Resource> {
    vec![Resource::of::<ContactView>().required(&["name"]).writable(&["emails", "phone", "title", "account_id"])]
}

fn contact_sorts() -> Vec<SortField<Contact>> {
    vec![
        SortField { name: "id", key: |row| Key::Int(row.id.0) },
        SortField { name: "name", key: |row| text_key(&row.name) },
        SortField { name: "created_at", key: |row| Key::Int(row.created_at.as_micros()) },
    ]
}

fn contact_query() -> Vec<Param> {
    list_query(vec![Param::id("account_id", "Only contacts at this account.")], &contact_sorts())
}

async fn list_contacts(
    State(state): State<AppState>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Result<Json<Page<ContactView>>, AppError> {
    let query = Query::parse(raw.as_deref(), &contact_query())?;
    let sorts = contact_sorts();
    let listing = Listing::parse(&query, &sorts)?;
    let account = query.id("account_id")?.map(AccountId);
    let mut rows = read(&state, move |tx| Ok(app::records::contacts(tx, viewer.org)?)).await?;
    rows.retain(|row| account.is_none_or(|account| row.account_id == Some(account)));
    Ok(Json(listing.page(rows, &sorts, |row| row.id.0, ContactView::from)))
}

async fn get_contact(State(state): State<AppState>, viewer: Viewer, IdPath(id): IdPath) -> Result<Json<ContactView>, AppError> {
    let row = read(&state, move |tx| app::records::contact(tx, viewer.org, ContactId(id))?.ok_or_else(|| not_found(ContactId::LABEL, id)))
        .await?;
    Ok(Json(row.into()))
}

async fn create_contact(State(state): State<AppState>, viewer: Viewer, JsonBody(body): JsonBody) -> Result<Response, AppError> {
    let new = input::new_contact(&body)?;
    let row = write(&state, &viewer, move |tx, ctx| app::records::create_contact(tx, ctx, new)).await?;
    Ok(created(format!("/api/v1/contacts/{}", row.id), ContactView::from(row)))
}

async fn update_contact(
    State(state): State<AppState>,
    viewer: Viewer,
    IdPath(id): IdPath,
    JsonBody(body): JsonBody,
) -> Result<Json<ContactView>, AppError> {
    let patch = input::contact_patch(ContactId(id), &body)?;
    let row = write(&state, &viewer, move |tx, ctx| app::records::update_contact(tx, ctx, ContactId(id), &patch)).await?;
    Ok(Json(row.into()))
}
