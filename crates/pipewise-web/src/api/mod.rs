//! The JSON API under `/api/v1`, described by OpenAPI 3.1 at `/api/openapi.json`.
//!
//! [`table`] is the one list of routes: [`routes`] registers exactly those routes, and
//! [`openapi::document`] describes exactly those, with their parameters and the schemas of
//! their bodies and replies. A route cannot exist without its description.
//!
//! Every handler takes an [`auth::Viewer`](crate::auth::Viewer) (session cookie or bearer
//! token), reads through the visibility-checked `ops::*_for` functions and writes through `ops`
//! with `viewer.ctx(Source::Api, now)`, so row visibility, RBAC and the audit log apply. A record
//! the viewer may not see answers 404 exactly like a missing one. Errors are problem+json.

mod activities;
mod analytics;
mod crud;
mod db;
mod describe;
mod designer;
mod forecast;
mod gates;
mod handoffs;
mod leads;
pub mod openapi;
mod opportunities;
mod pay;
mod platform;
mod quotas;
mod records;
mod settings;
mod shares;
pub mod support;
mod users;
pub mod views;
mod workspace;

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter, on};

use crate::AppState;

/// The type of a value, for parameters and schema fields.
#[derive(Clone, Debug)]
pub enum Ty {
    Id,
    Integer,
    /// A whole number from the first to the second, inclusive.
    Range(i64, i64),
    Text,
    Boolean,
    /// `YYYY-MM-DD`, years 1900 to 2200.
    Date,
    /// A fiscal period key: `2027`, `2027-Q1`, `2027-M03`, `2027-W05`.
    Period,
    /// RFC 3339.
    Time,
    /// `"USD 1234.50"`.
    Money,
    /// An exact decimal as a string.
    Decimal,
    Enum(Vec<&'static str>),
    TextList,
    IdList,
    /// A component schema by name.
    Ref(&'static str),
    RefList(&'static str),
    /// Any JSON object.
    Object,
    /// Any JSON value.
    Json,
}

/// A path or query parameter.
#[derive(Clone, Debug)]
pub struct Param {
    pub name: &'static str,
    pub ty: Ty,
    pub description: &'static str,
    /// A query parameter the call cannot do without (path parameters always are).
    pub required: bool,
}

impl Param {
    pub fn new(name: &'static str, ty: Ty, description: &'static str) -> Param {
        Param { name, ty, description, required: false }
    }
    /// A query parameter the call cannot do without.
    pub fn required(mut self) -> Param {
        self.required = true;
        self
    }
    pub fn integer(name: &'static str, description: &'static str) -> Param {
        Param::new(name, Ty::Integer, description)
    }
    /// A whole number from `min` to `max`, inclusive.
    pub fn range(name: &'static str, min: i64, max: i64, description: &'static str) -> Param {
        Param::new(name, Ty::Range(min, max), description)
    }
    pub fn text(name: &'static str, description: &'static str) -> Param {
        Param::new(name, Ty::Text, description)
    }
    pub fn id(name: &'static str, description: &'static str) -> Param {
        Param::new(name, Ty::Id, description)
    }
    /// `sort`: each field ascending, or descending with a leading `-`.
    pub fn sort(fields: Vec<&'static str>) -> Param {
        let values = fields.iter().flat_map(|field| [*field, Box::leak(format!("-{field}").into_boxed_str()) as &'static str]).collect();
        Param::new("sort", Ty::Enum(values), "Sort field; a leading `-` sorts descending. Ties are broken by id.")
    }
}

/// What a successful call answers.
#[derive(Clone, Debug)]
pub enum Reply {
    /// JSON of a component schema with this status.
    Json(u16, &'static str),
    /// A page of a component schema: `{ "data": [...], "next_cursor": ... }`.
    List(&'static str),
    /// 204.
    NoContent,
    /// A CSV file (`text/csv`).
    Csv,
    /// The OpenAPI document itself.
    Document,
}

/// One route: the method, the path (in OpenAPI's `{param}` form, which axum shares), its
/// description and its handler.
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub operation_id: &'static str,
    pub summary: &'static str,
    pub tag: &'static str,
    pub query: Vec<Param>,
    pub path_params: Vec<Param>,
    /// The component schema of the JSON request body.
    pub body: Option<&'static str>,
    /// Whether the request body is a CSV file instead.
    pub csv_body: bool,
    pub reply: Reply,
    /// Whether a signed-in viewer is needed (everything but the document).
    pub authenticated: bool,
    /// Whether a query parameter names a record that must exist and be visible (404 otherwise),
    /// beside the path's own ids.
    pub names_records: bool,
    /// Whether the route checks a password and slows guessing down (429).
    pub throttled: bool,
    /// Whether a read may be refused by the organisation's data (422), as a write may.
    pub refusable: bool,
    router: MethodRouter<AppState>,
}

impl Route {
    pub fn new<H, T>(method: Method, path: &'static str, operation_id: &'static str, handler: H) -> Route
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone()).expect("API routes use standard methods");
        Route {
            method,
            path,
            operation_id,
            summary: "",
            tag: "",
            query: Vec::new(),
            path_params: Vec::new(),
            body: None,
            csv_body: false,
            reply: Reply::NoContent,
            authenticated: true,
            names_records: false,
            throttled: false,
            refusable: false,
            router: on(filter, handler),
        }
    }

    pub fn summary(mut self, tag: &'static str, summary: &'static str) -> Route {
        self.tag = tag;
        self.summary = summary;
        self
    }

    pub fn query(mut self, params: Vec<Param>) -> Route {
        self.query = params;
        self
    }

    pub fn path_param(mut self, param: Param) -> Route {
        self.path_params.push(param);
        self
    }

    pub fn body(mut self, schema: &'static str) -> Route {
        self.body = Some(schema);
        self
    }

    /// The request body is a CSV file (`text/csv`).
    pub fn csv_body(mut self) -> Route {
        self.csv_body = true;
        self
    }

    pub fn reply(mut self, reply: Reply) -> Route {
        self.reply = reply;
        self
    }

    /// A query parameter names a record (a team, an owner, a pipeline) that must exist and be
    /// visible: the route may answer 404.
    pub fn names_records(mut self) -> Route {
        self.names_records = true;
        self
    }

    /// The route checks a password: too many wrong ones answer 429 for a while.
    pub fn throttled(mut self) -> Route {
        self.throttled = true;
        self
    }

    /// A read the organisation's data may make impossible (422 naming why).
    pub fn refusable(mut self) -> Route {
        self.refusable = true;
        self
    }

    pub fn public(mut self) -> Route {
        self.authenticated = false;
        self
    }
}

/// Every API route.
pub fn table() -> Vec<Route> {
    let mut table = Vec::new();
    table.extend(platform::routes());
    table.extend(opportunities::routes());
    table.extend(shares::routes());
    table.extend(crud::routes());
    table.extend(gates::routes());
    table.extend(workspace::routes());
    table.extend(designer::routes());
    table.extend(handoffs::routes());
    table.extend(leads::routes());
    table.extend(analytics::routes());
    table.extend(settings::routes());
    table.extend(quotas::routes());
    table.extend(pay::routes());
    table.extend(forecast::routes());
    table
}

/// Every record schema the routes refer to.
pub fn resources() -> Vec<openapi::Resource> {
    let mut resources = platform::resources();
    resources.extend(opportunities::resources());
    resources.extend(shares::resources());
    resources.extend(crud::resources());
    resources.extend(gates::resources());
    resources.extend(workspace::resources());
    resources.extend(designer::resources());
    resources.extend(handoffs::resources());
    resources.extend(leads::resources());
    resources
}

/// The `missing` of a gate refusal: unmet criteria grouped by stage.
pub fn gate_missing(check: &pipewise_core::gates::MoveCheck) -> serde_json::Value {
    gates::missing_json(check)
}

/// Schemas described by hand (no reply record of their own), by name.
pub fn schemas() -> Vec<(&'static str, serde_json::Value)> {
    let mut schemas = gates::schemas();
    schemas.extend(workspace::schemas());
    schemas.extend(analytics::schemas());
    schemas.extend(settings::schemas());
    schemas.extend(quotas::schemas());
    schemas.extend(pay::schemas());
    schemas.extend(forecast::schemas());
    schemas
}

pub fn routes() -> Router<AppState> {
    table()
        .into_iter()
        .fold(Router::new(), |router, route| router.route(route.path, route.router))
        .layer(axum::middleware::map_response(api_headers))
}

/// What every API reply carries: never cached (replies hold what only their reader may see), and
/// never sniffed for another type than the one declared.
async fn api_headers(mut response: axum::response::Response) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}
