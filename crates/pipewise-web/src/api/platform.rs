//! Who am I, API tokens, the audit log, and the OpenAPI document.

use pipewise_app as app;
use std::sync::OnceLock;

use axum::extract::RawQuery;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use pipewise_app::AuditFilter;
use pipewise_core::UserId;
use pipewise_core::history::Source;
use serde_json::Value;

use super::db::Api;
use super::openapi::{Create, Field, Resource};
use super::support::{IdPath, JsonBody, Key, Listing, Query, SortField, created};
use super::views::{AuditEventView, MeView, NewTokenView, Page, TokenView, UserView};
use super::{Param, Reply, Route, Ty};
use crate::ClientAddress;
use crate::auth::{self, Via, Viewer};
use crate::error::{AppError, blocking};
use pipewise_app::input;

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::GET, "/api/openapi.json", "get_openapi", get_openapi)
            .summary("meta", "This OpenAPI 3.1 document.")
            .public()
            .reply(Reply::Document),
        Route::new(Method::GET, "/api/v1/me", "get_me", get_me).summary("platform", "Who is asking.").reply(Reply::Json(200, "Me")),
        Route::new(Method::GET, "/api/v1/tokens", "list_tokens", list_tokens)
            .summary("platform", "The viewer's API tokens (never their secrets).")
            .reply(Reply::List("Token")),
        Route::new(Method::POST, "/api/v1/tokens", "create_token", create_token)
            .summary("platform", "Create an API token; its secret is in this reply only.")
            .body("TokenCreate")
            .throttled()
            .reply(Reply::Json(201, "NewToken")),
        Route::new(Method::DELETE, "/api/v1/tokens/{id}", "revoke_token", revoke_token)
            .summary("platform", "Revoke one of the viewer's tokens; it stops working at once.")
            .path_param(Param::id("id", "The token's id."))
            .reply(Reply::NoContent),
        Route::new(Method::GET, "/api/v1/audit", "list_audit_events", list_audit_events)
            .summary("platform", "The audit log, newest first (admins only).")
            .query(audit_query())
            .reply(Reply::List("AuditEvent")),
    ]
}

fn audit_query() -> Vec<Param> {
    vec![
        Param::id("actor_id", "Only writes by this user."),
        Param::text("record_kind", "Only writes to this kind of record: `opportunity`, `account`, `user`, `api_token`, …"),
        Param::integer("record_id", "Only writes to this record (with `record_kind`)."),
        Param::range("limit", 1, 200, "Rows per page, 1 to 200 (default 50)."),
        Param::text("cursor", "The `next_cursor` of the previous page."),
    ]
}

pub fn resources() -> Vec<Resource> {
    vec![
        Resource::of::<MeView>(),
        Resource::of::<TokenView>().create_only(Create::Required, &["name"]).input(
            Field::read("password", Ty::Text)
                .create_only(Create::Required)
                .input_only()
                .doc("The owner's password, asked again before a token is made (a wrong one counts as a failed sign-in)."),
        ),
        Resource::of::<NewTokenView>(),
        Resource::of::<AuditEventView>(),
    ]
}

/// Built once: the table does not change while the process runs.
pub fn openapi_document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| super::openapi::document(&super::table(), &super::resources()))
}

async fn get_openapi() -> axum::Json<Value> {
    axum::Json(openapi_document().clone())
}

async fn get_me(viewer: Viewer) -> axum::Json<MeView> {
    let authenticated_by = match viewer.via {
        Via::Session { .. } => "session",
        Via::Token { .. } => "token",
    };
    axum::Json(MeView { organisation_id: viewer.org.0, user: UserView::from(viewer.user), authenticated_by })
}

async fn list_tokens(api: Api, RawQuery(raw): RawQuery) -> Result<axum::Json<Page<TokenView>>, AppError> {
    Query::parse(raw.as_deref(), &[])?;
    let tokens = api.read(move |tx, viewer| Ok(app::auth::api_tokens(tx, viewer.org, viewer.user.id)?)).await?;
    Ok(axum::Json(Page { data: tokens.into_iter().map(TokenView::from).collect(), next_cursor: None }))
}

async fn create_token(api: Api, ClientAddress(client): ClientAddress, JsonBody(body): JsonBody) -> Result<Response, AppError> {
    let (name, password) = input::new_token(&body)?;
    let now = api.state.now();
    let store = api.state.db.clone();
    let (token, secret) =
        blocking(move || auth::create_api_token(&store, &api.viewer, &name, &password, &client, Source::Api, now)).await?;
    let id = token.id;
    Ok(created(format!("/api/v1/tokens/{id}"), NewTokenView { token: TokenView::from(token), secret }))
}

async fn revoke_token(api: Api, IdPath(id): IdPath) -> Result<Response, AppError> {
    let now = api.state.now();
    let store = api.state.db.clone();
    blocking(move || auth::revoke_api_token(&store, &api.viewer, id, Source::Api, now)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_audit_events(api: Api, RawQuery(raw): RawQuery) -> Result<axum::Json<Page<AuditEventView>>, AppError> {
    let query = Query::parse(raw.as_deref(), &audit_query())?;
    // Newest first: the cursor is the id of the last row seen.
    let sorts = vec![SortField { name: "newest", key: |event: &pipewise_app::AuditEvent| Key::Int(-event.id) }];
    let listing = Listing::parse(&query, &sorts)?;
    let record_id = query.parsed("record_id", |raw| {
        raw.parse::<i64>().map_err(|_| pipewise_core::Problem::Invalid { value: raw.to_owned(), expected: "a whole number" })
    })?;
    let limit = listing.limit as u32 + 1;
    let filter = AuditFilter {
        actor_id: query.id("actor_id")?.map(UserId),
        record_kind: query.text("record_kind").map(str::to_owned),
        record_id,
        before_id: listing.cursor.as_ref().map(|cursor| cursor.id),
        limit,
    };
    let events = api.read(move |tx, viewer| Ok(app::audit::audit_events_for(tx, viewer.org, &viewer.access, &filter)?)).await?;
    Ok(axum::Json(listing.page(events, &sorts, |event| event.id, AuditEventView::from)))
}
