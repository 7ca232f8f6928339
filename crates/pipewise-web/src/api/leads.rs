//! Leads in qualification, visible to everyone in the organisation: list, get, create, patch.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use pipewise_app as app;
use pipewise_app::input;
use pipewise_core::records::{Lead, LeadStatus};
use pipewise_core::{LeadId, UserId};

use super::db::{read, write};
use super::openapi::Resource;
use super::records::{crud, list_query, names};
use super::support::{IdPath, JsonBody, Key, Listing, Query, SortField, created, not_found, text_key};
use super::views::{LeadView, Page};
use super::{Param, Route, Ty};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::AppError;

pub fn routes() -> Vec<Route> {
    crud(
        "leads",
        "Lead",
        lead_query(),
        ["list_leads", "create_lead", "get_lead", "update_lead"],
        list_leads,
        create_lead,
        get_lead,
        Some(update_lead),
    )
}

pub fn resources() -> Vec<Resource> {
    vec![Resource::of::<LeadView>().required(&["name"]).writable(&["company", "email", "phone", "title", "source", "status", "owner_id"])]
}

fn lead_sorts() -> Vec<SortField<Lead>> {
    vec![
        SortField { name: "id", key: |row| Key::Int(row.id.0) },
        SortField { name: "name", key: |row| text_key(&row.name) },
        SortField { name: "status", key: |row| text_key(row.status.as_str()) },
        SortField { name: "created_at", key: |row| Key::Int(row.created_at.as_micros()) },
    ]
}

fn lead_query() -> Vec<Param> {
    list_query(
        vec![
            Param::new("status", Ty::Enum(names(LeadStatus::ALL, LeadStatus::as_str)), "Only leads with this status."),
            Param::id("owner_id", "Only leads owned by this user."),
        ],
        &lead_sorts(),
    )
}

async fn list_leads(State(state): State<AppState>, viewer: Viewer, RawQuery(raw): RawQuery) -> Result<Json<Page<LeadView>>, AppError> {
    let query = Query::parse(raw.as_deref(), &lead_query())?;
    let sorts = lead_sorts();
    let listing = Listing::parse(&query, &sorts)?;
    let status = query.parsed("status", LeadStatus::parse)?;
    let owner = query.id("owner_id")?.map(UserId);
    let mut rows = read(&state, move |tx| Ok(app::records::leads(tx, viewer.org)?)).await?;
    rows.retain(|row| status.is_none_or(|status| row.status == status) && owner.is_none_or(|owner| row.owner_id == Some(owner)));
    Ok(Json(listing.page(rows, &sorts, |row| row.id.0, LeadView::from)))
}

async fn get_lead(State(state): State<AppState>, viewer: Viewer, IdPath(id): IdPath) -> Result<Json<LeadView>, AppError> {
    let row = read(&state, move |tx| app::records::lead(tx, viewer.org, LeadId(id))?.ok_or_else(|| not_found(LeadId::LABEL, id))).await?;
    Ok(Json(row.into()))
}

async fn create_lead(State(state): State<AppState>, viewer: Viewer, JsonBody(body): JsonBody) -> Result<Response, AppError> {
    let new = input::new_lead(&body)?;
    let row = write(&state, &viewer, move |tx, ctx| app::records::create_lead(tx, ctx, new)).await?;
    Ok(created(format!("/api/v1/leads/{}", row.id), LeadView::from(row)))
}

async fn update_lead(
    State(state): State<AppState>,
    viewer: Viewer,
    IdPath(id): IdPath,
    JsonBody(body): JsonBody,
) -> Result<Json<LeadView>, AppError> {
    let patch = input::lead_patch(LeadId(id), &body)?;
    let row = write(&state, &viewer, move |tx, ctx| app::records::update_lead(tx, ctx, LeadId(id), &patch)).await?;
    Ok(Json(row.into()))
}
