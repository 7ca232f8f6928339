//! Accounts, contacts, users, teams, pipelines (read and create only), leads, activities and
//! tasks: list, get, create, patch, written once for every kind of [`Record`].
//!
//! A kind says only what is particular to it: its row and view, its sorts and filters, and which
//! `app` functions read and write it. The kinds live beside the `app` module that serves them:
//! `api::records` (accounts, contacts, pipelines, leads), `api::users` (users, teams) and
//! `api::activities` (activities, tasks). This module holds the handlers, the routes [`crud`]
//! registers for a kind, and the order in which the API lists routes and schemas.
//!
//! Accounts, contacts, users, teams, pipelines and leads are visible to everyone in the
//! organisation; tasks and activities follow the deals (a rep sees those of deals they may see,
//! plus their own). Lists are read whole from the store, then filtered, sorted and cut into
//! pages here.
//! FIXME: push sorting and keyset paging into SQL for these lists when they grow past a few
//! thousand rows per organisation (opportunities already page in SQL in id order).

use axum::Json;
use axum::extract::RawQuery;
use axum::http::Method;
use axum::response::Response;
use pipewise_app::{self as app, Tx, WriteCtx};
use pipewise_core::ValidationErrors;
use serde::Serialize;
use serde_json::Value;

use super::activities::{Activities, Tasks};
use super::db::Api;
use super::describe::Described;
use super::openapi::Resource;
use super::records::{Accounts, Contacts, Leads, Pipelines};
use super::support::{IdPath, JsonBody, Listing, Query, SortField, created, list_params, not_found, sort_names};
use super::users::{Teams, Users};
use super::views::Page;
use super::{Param, Reply, Route};
use crate::auth::Viewer;
use crate::error::AppError;

/// A kind of record that the API lists, gets and creates.
///
/// Reads go through the visibility-checked `app` functions that [`Record::list`] and
/// [`Record::get`] call, writes through the `app` function [`Record::create`] calls, with the
/// viewer's context.
pub trait Record: 'static {
    /// The record as the `app` functions read and write it.
    type Row: Send + 'static;
    /// What the API answers for one; its schema names the routes' schemas.
    type View: Serialize + Described + From<Self::Row>;
    /// Its typed id.
    type Id: Send + 'static;
    /// What a list's filters ask for, parsed from the query string.
    type Filter: Send + 'static;
    /// A new record, parsed from a request body.
    type New: Send + 'static;

    /// The path segment and the tag: `accounts`.
    const PLURAL: &'static str;
    /// What one is called, in a 404 and in operation ids (`get_account`): the id type's `LABEL`.
    const LABEL: &'static str;
    /// The id type's constructor.
    const ID: fn(i64) -> Self::Id;

    /// The schemas of the kind: its view's, with what bodies accept.
    fn resources() -> Vec<Resource>;
    /// A row's id, for cursors and `Location`.
    fn id(row: &Self::Row) -> i64;
    /// The fields a list sorts by; the first is the default.
    fn sorts() -> Vec<SortField<Self::Row>>;
    /// The filters a list takes: the query parameters before `limit`, `cursor` and `sort`.
    fn filters() -> Vec<Param>;
    /// Reads [`Record::filters`] from a query; a bad value is a 400.
    fn filter(query: &Query) -> Result<Self::Filter, AppError>;
    /// The rows the viewer may see, as far as the store filters them.
    fn list(tx: &mut Tx, viewer: &Viewer, filter: &Self::Filter) -> app::Result<Vec<Self::Row>>;
    /// Whether a row [`Record::list`] read passes the filters the store does not apply.
    fn keep(_filter: &Self::Filter, _row: &Self::Row) -> bool {
        true
    }
    /// One row, if it exists and the viewer may see it.
    fn get(tx: &mut Tx, viewer: &Viewer, id: Self::Id) -> app::Result<Option<Self::Row>>;
    /// Parses a create body.
    fn parse_new(body: &Value, viewer: &Viewer) -> Result<Self::New, ValidationErrors>;
    /// Creates one.
    fn create(tx: &mut Tx, ctx: &WriteCtx, new: Self::New) -> app::Result<Self::Row>;
}

/// A kind of [`Record`] that the API also patches.
pub trait Patchable: Record {
    /// A change to some fields, parsed from a request body.
    type Patch: Send + 'static;

    /// Parses a patch body.
    fn parse_patch(id: Self::Id, body: &Value) -> Result<Self::Patch, ValidationErrors>;
    /// Changes one.
    fn update(tx: &mut Tx, ctx: &WriteCtx, id: Self::Id, patch: &Self::Patch) -> app::Result<Self::Row>;
}

/// The routes of every record, in the order the API lists them.
pub fn routes() -> Vec<Route> {
    [
        crud::<Accounts>(),
        crud::<Contacts>(),
        crud::<Users>(),
        crud::<Teams>(),
        list_create_get::<Pipelines>(),
        crud::<Leads>(),
        list_create_get::<Activities>(),
        crud::<Tasks>(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The schemas of every record, in the order the API lists them (stages come with pipelines).
pub fn resources() -> Vec<Resource> {
    [
        Accounts::resources(),
        Contacts::resources(),
        Users::resources(),
        Teams::resources(),
        Pipelines::resources(),
        Leads::resources(),
        Activities::resources(),
        Tasks::resources(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// A list's query parameters: its filters, then `limit`, `cursor` and `sort`.
fn list_query<R: Record>() -> Vec<Param> {
    let mut params = R::filters();
    params.extend(list_params(sort_names(&R::sorts())));
    params
}

fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

fn id_param() -> Param {
    Param::id("id", "The record's id.")
}

/// The routes of a kind that is listed, created and read here (not patched): list, create, get.
fn list_create_get<R: Record>() -> Vec<Route> {
    let (plural, one, schema) = (R::PLURAL, R::LABEL, R::View::resource().name);
    let collection = leak(format!("/api/v1/{plural}"));
    let item = leak(format!("/api/v1/{plural}/{{id}}"));
    vec![
        Route::new(Method::GET, collection, leak(format!("list_{plural}")), list_records::<R>)
            .summary(plural, "List, filter, sort and page.")
            .query(list_query::<R>())
            .reply(Reply::List(schema)),
        Route::new(Method::POST, collection, leak(format!("create_{one}")), create_record::<R>)
            .summary(plural, "Create one.")
            .body(leak(format!("{schema}Create")))
            .reply(Reply::Json(201, schema)),
        Route::new(Method::GET, item, leak(format!("get_{one}")), get_record::<R>)
            .summary(plural, "Get one by id.")
            .path_param(id_param())
            .reply(Reply::Json(200, schema)),
    ]
}

/// The four routes of a kind: list, create, get, patch.
fn crud<R: Patchable>() -> Vec<Route> {
    let (plural, one, schema) = (R::PLURAL, R::LABEL, R::View::resource().name);
    let item = leak(format!("/api/v1/{plural}/{{id}}"));
    let mut routes = list_create_get::<R>();
    routes.push(
        Route::new(Method::PATCH, item, leak(format!("update_{one}")), update_record::<R>)
            .summary(plural, "Change some fields: absent fields stay, `null` clears a nullable field.")
            .path_param(id_param())
            .body(leak(format!("{schema}Patch")))
            .reply(Reply::Json(200, schema)),
    );
    routes
}

async fn list_records<R: Record>(api: Api, RawQuery(raw): RawQuery) -> Result<Json<Page<R::View>>, AppError> {
    let query = Query::parse(raw.as_deref(), &list_query::<R>())?;
    let sorts = R::sorts();
    let listing = Listing::parse(&query, &sorts)?;
    let filter = R::filter(&query)?;
    let rows = api
        .read(move |tx, viewer| {
            let mut rows = R::list(tx, viewer, &filter)?;
            rows.retain(|row| R::keep(&filter, row));
            Ok(rows)
        })
        .await?;
    Ok(Json(listing.page(rows, &sorts, R::id, R::View::from)))
}

async fn get_record<R: Record>(api: Api, IdPath(id): IdPath) -> Result<Json<R::View>, AppError> {
    let row = api.read(move |tx, viewer| R::get(tx, viewer, (R::ID)(id))?.ok_or_else(|| not_found(R::LABEL, id))).await?;
    Ok(Json(row.into()))
}

async fn create_record<R: Record>(api: Api, JsonBody(body): JsonBody) -> Result<Response, AppError> {
    let new = R::parse_new(&body, &api.viewer)?;
    let row = api.write(move |tx, ctx| R::create(tx, ctx, new)).await?;
    Ok(created(format!("/api/v1/{}/{}", R::PLURAL, R::id(&row)), R::View::from(row)))
}

async fn update_record<R: Patchable>(api: Api, IdPath(id): IdPath, JsonBody(body): JsonBody) -> Result<Json<R::View>, AppError> {
    let patch = R::parse_patch((R::ID)(id), &body)?;
    let row = api.write(move |tx, ctx| R::update(tx, ctx, (R::ID)(id), &patch)).await?;
    Ok(Json(row.into()))
}
