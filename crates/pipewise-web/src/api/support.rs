//! What every API handler shares: query strings with only the declared parameters, sorting and
//! opaque cursors, JSON bodies (a body over the limit is 413 problem+json), and replies.
//!
//! Lists sort by one field (`?sort=name`, `?sort=-amount` for descending), ties broken by id,
//! unset values first when ascending. A cursor remembers the sort, the last row's sort value and
//! its id, so the next page starts right after it even when rows are added meanwhile.

use std::collections::HashMap;
use std::str::FromStr;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pipewise_core::Problem;
use pipewise_core::money::Decimal;
use serde_json::{Value, json};

use super::views::Page;
use super::{Param, Ty};
use crate::error::AppError;

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 200;

/// A sort value.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Key {
    Null,
    Int(i64),
    Decimal(Decimal),
    Text(String),
}

impl Key {
    fn to_json(&self) -> Value {
        match self {
            Key::Null => json!(["n"]),
            Key::Int(value) => json!(["i", value]),
            Key::Decimal(value) => json!(["d", value.to_string()]),
            Key::Text(value) => json!(["t", value]),
        }
    }

    fn from_json(value: &Value) -> Option<Key> {
        let items = value.as_array()?;
        match (items.first()?.as_str()?, items.get(1)) {
            ("n", None) => Some(Key::Null),
            ("i", Some(value)) => value.as_i64().map(Key::Int),
            ("d", Some(value)) => Decimal::from_str(value.as_str()?).ok().map(Key::Decimal),
            ("t", Some(value)) => value.as_str().map(|text| Key::Text(text.to_owned())),
            _ => None,
        }
    }
}

/// A field a list can be sorted by, and how to read it from a row.
pub struct SortField<T> {
    pub name: &'static str,
    pub key: fn(&T) -> Key,
}

pub fn sort_names<T>(sorts: &[SortField<T>]) -> Vec<&'static str> {
    sorts.iter().map(|sort| sort.name).collect()
}

/// Where the previous page ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub sort: String,
    pub key: Key,
    pub id: i64,
}

impl Cursor {
    /// Hex of a small JSON array: opaque to clients, easy to check here.
    pub fn encode(&self) -> String {
        let text = json!([self.sort, self.key.to_json(), self.id]).to_string();
        text.bytes().map(|byte| format!("{byte:02x}")).collect()
    }

    pub fn decode(raw: &str) -> Option<Cursor> {
        if !raw.len().is_multiple_of(2) || raw.len() > 2048 {
            return None;
        }
        let bytes: Option<Vec<u8>> = (0..raw.len()).step_by(2).map(|at| u8::from_str_radix(raw.get(at..at + 2)?, 16).ok()).collect();
        let value: Value = serde_json::from_slice(&bytes?).ok()?;
        let items = value.as_array()?;
        Some(Cursor { sort: items.first()?.as_str()?.to_owned(), key: Key::from_json(items.get(1)?)?, id: items.get(2)?.as_i64()? })
    }
}

/// Checks a parameter whose type says more than "text" (a range, a fiscal period) as the
/// document declares it: a 400 naming `what` otherwise.
pub fn check_typed(what: &str, ty: Option<&Ty>, raw: &str) -> Result<(), AppError> {
    match ty {
        Some(Ty::Range(min, max)) => match raw.parse::<i64>() {
            Ok(value) if (*min..=*max).contains(&value) => Ok(()),
            _ => Err(AppError::BadRequest(format!("{what}: {raw:?} is not a whole number from {min} to {max}"))),
        },
        Some(Ty::Period) => pipewise_core::fiscal::FiscalCalendar::CALENDAR_YEAR
            .parse_key(raw)
            .map(|_| ())
            .map_err(|problem| AppError::BadRequest(format!("{what}: {problem}"))),
        _ => Ok(()),
    }
}

/// A parsed query string: only declared parameters, each at most once.
pub struct Query {
    values: HashMap<String, String>,
}

impl Query {
    pub fn parse(raw: Option<&str>, declared: &[Param]) -> Result<Query, AppError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.unwrap_or(""))
            .map_err(|error| AppError::BadRequest(format!("the query string is malformed: {error}")))?;
        let mut values = HashMap::new();
        for (name, value) in pairs {
            if !declared.iter().any(|param| param.name == name) {
                let known: Vec<&str> = declared.iter().map(|param| param.name).collect();
                let known = if known.is_empty() { "none".to_owned() } else { known.join(", ") };
                return Err(AppError::BadRequest(format!("unknown query parameter {name:?}; this endpoint takes: {known}")));
            }
            let ty = declared.iter().find(|param| param.name == name).map(|param| &param.ty);
            check_typed(&format!("query parameter {name}"), ty, &value)?;
            if values.insert(name.clone(), value).is_some() {
                return Err(AppError::BadRequest(format!("query parameter {name:?} is given twice")));
            }
        }
        Ok(Query { values })
    }

    pub fn text(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// A parameter parsed by `parse`; a bad value is a 400 naming the parameter.
    pub fn parsed<T>(&self, name: &str, parse: impl Fn(&str) -> Result<T, Problem>) -> Result<Option<T>, AppError> {
        self.text(name)
            .map(|raw| parse(raw).map_err(|problem| AppError::BadRequest(format!("query parameter {name}: {problem}"))))
            .transpose()
    }

    pub fn id(&self, name: &str) -> Result<Option<i64>, AppError> {
        self.parsed(name, |raw| {
            raw.parse::<i64>().ok().filter(|id| *id > 0).ok_or(Problem::Invalid { value: raw.to_owned(), expected: "an id" })
        })
    }

    pub fn boolean(&self, name: &str) -> Result<Option<bool>, AppError> {
        self.parsed(name, |raw| match raw {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(Problem::Invalid { value: raw.to_owned(), expected: "true or false" }),
        })
    }
}

/// `limit`, `cursor` and `sort` of a list request.
pub struct Listing {
    pub limit: usize,
    pub cursor: Option<Cursor>,
    /// The sort field's name.
    pub sort: &'static str,
    pub descending: bool,
}

/// The query parameters every list takes, besides its filters.
pub fn list_params(sorts: Vec<&'static str>) -> Vec<Param> {
    vec![
        Param::range("limit", 1, 200, "Rows per page, 1 to 200 (default 50)."),
        Param::text("cursor", "The `next_cursor` of the previous page."),
        Param::sort(sorts),
    ]
}

impl Listing {
    pub fn parse<T>(query: &Query, sorts: &[SortField<T>]) -> Result<Listing, AppError> {
        let limit = match query.text("limit") {
            None => DEFAULT_LIMIT,
            Some(raw) => raw.parse::<usize>().ok().filter(|limit| (1..=MAX_LIMIT).contains(limit)).ok_or_else(|| {
                AppError::BadRequest(format!("query parameter limit: {raw:?} is not a whole number from 1 to {MAX_LIMIT}"))
            })?,
        };
        let raw_sort = query.text("sort").unwrap_or(sorts[0].name);
        let (descending, name) = match raw_sort.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, raw_sort),
        };
        let sort = sorts.iter().find(|sort| sort.name == name).ok_or_else(|| {
            AppError::BadRequest(format!("query parameter sort: cannot sort by {name:?}; sort by one of {}", sort_names(sorts).join(", ")))
        })?;
        // An empty cursor is the first page, as no cursor is.
        let cursor = match query.text("cursor").filter(|raw| !raw.is_empty()) {
            None => None,
            Some(raw) => {
                let cursor = Cursor::decode(raw)
                    .ok_or_else(|| AppError::BadRequest("query parameter cursor: is not a cursor this API gave out".into()))?;
                if cursor.sort != raw_sort {
                    return Err(AppError::BadRequest(format!(
                        "query parameter cursor: belongs to a list sorted by {:?}, not {raw_sort:?}",
                        cursor.sort
                    )));
                }
                Some(cursor)
            }
        };
        Ok(Listing { limit, cursor, sort: sort.name, descending })
    }

    fn sort_text(&self) -> String {
        if self.descending { format!("-{}", self.sort) } else { self.sort.to_owned() }
    }

    /// Whether the rows can come from the store already in order: ascending by id.
    pub fn by_id_ascending(&self) -> bool {
        self.sort == "id" && !self.descending
    }

    /// Sorts `rows`, skips to the cursor, and cuts one page.
    pub fn page<T, V>(&self, rows: Vec<T>, sorts: &[SortField<T>], id: fn(&T) -> i64, view: impl Fn(T) -> V) -> Page<V> {
        let key = sorts.iter().find(|sort| sort.name == self.sort).map_or(sorts[0].key, |sort| sort.key);
        let mut keyed: Vec<(Key, i64, T)> = rows.into_iter().map(|row| (key(&row), id(&row), row)).collect();
        keyed.sort_by(|left, right| (&left.0, left.1).cmp(&(&right.0, right.1)));
        if self.descending {
            keyed.reverse();
        }
        if let Some(cursor) = &self.cursor {
            let after = |row: &(Key, i64, T)| {
                let order = (&row.0, row.1).cmp(&(&cursor.key, cursor.id));
                if self.descending { order.is_lt() } else { order.is_gt() }
            };
            keyed.retain(after);
        }
        let more = keyed.len() > self.limit;
        keyed.truncate(self.limit);
        let next_cursor = if more {
            keyed.last().map(|(key, id, _)| Cursor { sort: self.sort_text(), key: key.clone(), id: *id }.encode())
        } else {
            None
        };
        Page { data: keyed.into_iter().map(|(_, _, row)| view(row)).collect(), next_cursor }
    }
}

/// The names of every value of an enum, for a schema's or a parameter's `enum`.
pub fn names<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|value| name(*value)).collect()
}

pub fn text_key(value: &str) -> Key {
    Key::Text(value.to_owned())
}

pub fn optional_text_key(value: Option<&str>) -> Key {
    value.map_or(Key::Null, text_key)
}

/// A JSON request body. Over [`crate::MAX_BODY_BYTES`]: 413; not JSON: 400; both problem+json.
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<JsonBody, Response> {
        let bytes = Bytes::from_request(request, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                payload_too_large()
            } else {
                AppError::BadRequest(format!("the request body could not be read: {}", rejection.body_text())).into_response()
            }
        })?;
        let value = serde_json::from_slice(&bytes)
            .map_err(|error| AppError::BadRequest(format!("the request body is not valid JSON: {error}")).into_response())?;
        Ok(JsonBody(value))
    }
}

/// 413 in the same problem+json envelope as [`AppError`].
pub fn payload_too_large() -> Response {
    let body = json!({
        "type": "https://pipewise.dev/problems/payload_too_large",
        "title": "Payload Too Large",
        "status": 413,
        "code": "payload_too_large",
        "detail": format!("the request body is larger than {} bytes", crate::MAX_BODY_BYTES),
    });
    let mut response = (StatusCode::PAYLOAD_TOO_LARGE, axum::Json(body)).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    response
}

/// 201 with the new record and its `Location`.
pub fn created<V: serde::Serialize>(location: String, view: V) -> Response {
    let mut response = (StatusCode::CREATED, axum::Json(view)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

pub fn not_found(kind: &'static str, id: i64) -> AppError {
    AppError::NotFound { kind, id: id.to_string() }
}

/// The `{id}` of a path; anything but a positive whole number is a 400 problem.
pub struct IdPath(pub i64);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for IdPath {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<IdPath, AppError> {
        let axum::extract::Path(raw) = axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| AppError::BadRequest(rejection.body_text()))?;
        path_id("id", &raw).map(IdPath)
    }
}

/// A path parameter `name` that must be an id: anything but a positive whole number is a 400.
pub fn path_id(name: &str, raw: &str) -> Result<i64, AppError> {
    raw.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| AppError::BadRequest(format!("path parameter {name}: {raw:?} is not an id")))
}

/// The `{id}` of a path and the segment after it, as text of at most 64 characters (each
/// route parses it further: a period key, a workspace part, another id).
pub struct IdAndSegment(pub i64, pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for IdAndSegment {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<IdAndSegment, AppError> {
        let axum::extract::Path((raw_id, segment)) = axum::extract::Path::<(String, String)>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| AppError::BadRequest(rejection.body_text()))?;
        if segment.chars().count() > 64 {
            return Err(AppError::BadRequest("a path parameter is longer than 64 characters".into()));
        }
        Ok(IdAndSegment(path_id("id", &raw_id)?, segment))
    }
}
