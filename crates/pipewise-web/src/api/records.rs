//! Accounts, contacts, users, teams, pipelines (read and create only), leads, activities and
//! tasks: list, get, create, patch. Each has its own module (`api::accounts`, …); this one holds
//! what they share, [`crud`] and the list helpers, and lists their routes and schemas in order.
//!
//! Accounts, contacts, users, teams, pipelines and leads are visible to everyone in the
//! organisation; tasks and activities follow the deals (a rep sees those of deals they may see,
//! plus their own). Lists are read whole from the store, then filtered, sorted and cut into
//! pages here.
//! FIXME: push sorting and keyset paging into SQL for these lists when they grow past a few
//! thousand rows per organisation (opportunities already page in SQL in id order).

use axum::http::Method;

use super::openapi::Resource;
use super::support::{SortField, list_params, sort_names};
use super::{Param, Reply, Route};
use super::{accounts, activities, contacts, leads, pipelines, tasks, teams, users};
use crate::AppState;

/// A list's query parameters: its filters, then `limit`, `cursor` and `sort`.
pub fn list_query<T>(filters: Vec<Param>, sorts: &[SortField<T>]) -> Vec<Param> {
    let mut params = filters;
    params.extend(list_params(sort_names(sorts)));
    params
}

fn id_param(what: &'static str) -> Param {
    Param::id("id", what)
}

/// The names of every value of an enum, for a schema's or a parameter's `enum`.
pub fn names<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|value| name(*value)).collect()
}

/// The five routes of a record: list, create, get, patch (when `patch`).
#[allow(clippy::too_many_arguments)]
pub fn crud<L, LT, C, CT, G, GT, P, PT>(
    plural: &'static str,
    schema: &'static str,
    query: Vec<Param>,
    ids: [&'static str; 4],
    list: L,
    create: C,
    get: G,
    patch: Option<P>,
) -> Vec<Route>
where
    L: axum::handler::Handler<LT, AppState>,
    C: axum::handler::Handler<CT, AppState>,
    G: axum::handler::Handler<GT, AppState>,
    P: axum::handler::Handler<PT, AppState>,
    LT: 'static,
    CT: 'static,
    GT: 'static,
    PT: 'static,
{
    let collection: &'static str = Box::leak(format!("/api/v1/{plural}").into_boxed_str());
    let item: &'static str = Box::leak(format!("/api/v1/{plural}/{{id}}").into_boxed_str());
    let create_schema: &'static str = Box::leak(format!("{schema}Create").into_boxed_str());
    let patch_schema: &'static str = Box::leak(format!("{schema}Patch").into_boxed_str());
    let mut routes = vec![
        Route::new(Method::GET, collection, ids[0], list)
            .summary(plural, "List, filter, sort and page.")
            .query(query)
            .reply(Reply::List(schema)),
        Route::new(Method::POST, collection, ids[1], create)
            .summary(plural, "Create one.")
            .body(create_schema)
            .reply(Reply::Json(201, schema)),
        Route::new(Method::GET, item, ids[2], get)
            .summary(plural, "Get one by id.")
            .path_param(id_param("The record's id."))
            .reply(Reply::Json(200, schema)),
    ];
    if let Some(patch) = patch {
        routes.push(
            Route::new(Method::PATCH, item, ids[3], patch)
                .summary(plural, "Change some fields: absent fields stay, `null` clears a nullable field.")
                .path_param(id_param("The record's id."))
                .body(patch_schema)
                .reply(Reply::Json(200, schema)),
        );
    }
    routes
}

/// The routes of every record, in the order the API lists them.
pub fn routes() -> Vec<Route> {
    let mut routes = accounts::routes();
    routes.extend(contacts::routes());
    routes.extend(users::routes());
    routes.extend(teams::routes());
    routes.extend(pipelines::routes());
    routes.extend(leads::routes());
    routes.extend(activities::routes());
    routes.extend(tasks::routes());
    routes
}

/// The schemas of every record, in the order the API lists them (stages come with pipelines).
pub fn resources() -> Vec<Resource> {
    let mut resources = accounts::resources();
    resources.extend(contacts::resources());
    resources.extend(users::resources());
    resources.extend(teams::resources());
    resources.extend(pipelines::resources());
    resources.extend(leads::resources());
    resources.extend(activities::resources());
    resources.extend(tasks::resources());
    resources
}
