//! The OpenAPI 3.1 document, built from the route table ([`super::table`]) and the record
//! schemas: each reply's from its serde type ([`super::describe`]), with what bodies accept
//! (parsed by `pipewise_app::input`) stated beside it.

use serde_json::{Map, Value, json};

use super::describe::Described;
use super::{Param, Reply, Route, Ty};

/// One field of a record's schema: whether replies carry it, and whether create and patch
/// bodies accept it.
#[derive(Clone, Debug)]
pub struct Field {
    pub name: &'static str,
    pub ty: Ty,
    pub nullable: bool,
    pub view: bool,
    pub create: Create,
    pub patch: bool,
    pub description: &'static str,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Create {
    No,
    Optional,
    Required,
}

impl Field {
    /// A field replies carry and no body accepts.
    pub fn read(name: &'static str, ty: Ty) -> Field {
        Field { name, ty, nullable: false, view: true, create: Create::No, patch: false, description: "" }
    }
    pub fn nullable(mut self) -> Field {
        self.nullable = true;
        self
    }
    /// Required on create, changeable by patch.
    pub fn required(mut self) -> Field {
        self.create = Create::Required;
        self.patch = true;
        self
    }
    /// Optional on create, changeable by patch.
    pub fn writable(mut self) -> Field {
        self.create = Create::Optional;
        self.patch = true;
        self
    }
    pub fn create_only(mut self, create: Create) -> Field {
        self.create = create;
        self.patch = false;
        self
    }
    pub fn patch_only(mut self) -> Field {
        self.patch = true;
        self.create = Create::No;
        self
    }
    /// Accepted in bodies but not part of replies.
    pub fn input_only(mut self) -> Field {
        self.view = false;
        self
    }
    pub fn doc(mut self, description: &'static str) -> Field {
        self.description = description;
        self
    }
}

/// A record: `Name` (the reply), and `NameCreate`, `NamePatch` when some field is accepted by
/// create or patch bodies.
pub struct Resource {
    pub name: &'static str,
    pub description: &'static str,
    pub fields: Vec<Field>,
}

impl Resource {
    pub fn new(name: &'static str, description: &'static str, fields: Vec<Field>) -> Resource {
        Resource { name, description, fields }
    }

    /// The reply type's schema; the builders below add what bodies accept.
    pub fn of<T: Described>() -> Resource {
        T::resource()
    }

    /// Required on create, changeable by patch.
    pub fn required(self, names: &[&str]) -> Resource {
        self.each(names, Field::required)
    }

    /// Optional on create, changeable by patch.
    pub fn writable(self, names: &[&str]) -> Resource {
        self.each(names, Field::writable)
    }

    pub fn create_only(self, create: Create, names: &[&str]) -> Resource {
        self.each(names, |field| field.create_only(create))
    }

    pub fn patch_only(self, names: &[&str]) -> Resource {
        self.each(names, Field::patch_only)
    }

    /// A field bodies accept that replies do not carry.
    pub fn input(mut self, field: Field) -> Resource {
        self.fields.push(field.input_only());
        self
    }

    /// Applies `change` to the reply fields `names`; a name the reply lacks is a bug.
    fn each(mut self, names: &[&str], change: impl Fn(Field) -> Field) -> Resource {
        for name in names {
            let Some(field) = self.fields.iter_mut().find(|field| field.view && field.name == *name) else {
                panic!("{} has no field {name}", self.name);
            };
            *field = change(field.clone());
        }
        self
    }
}

/// A day in years 1900 to 2200 (what every date the API reads must be).
pub const DATE_PATTERN: &str = "^(19[0-9]{2}|2[01][0-9]{2}|2200)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$";
/// A fiscal period key in years 1900 to 2199: the year, a quarter, a month or one of the 52
/// weeks every fiscal year has.
pub const PERIOD_PATTERN: &str = "^(19[0-9]{2}|2[01][0-9]{2})(-(Q[1-4]|M(0[1-9]|1[0-2])|W(0[1-9]|[1-4][0-9]|5[0-2])))?$";

fn type_schema(ty: &Ty) -> Value {
    match ty {
        Ty::Id => json!({ "type": "integer", "format": "int64", "minimum": 1, "maximum": i64::MAX }),
        Ty::Integer => json!({ "type": "integer", "format": "int64" }),
        Ty::Range(min, max) => json!({ "type": "integer", "format": "int64", "minimum": min, "maximum": max }),
        Ty::Text => json!({ "type": "string" }),
        Ty::Boolean => json!({ "type": "boolean" }),
        Ty::Date => json!({ "type": "string", "format": "date", "pattern": DATE_PATTERN }),
        Ty::Period => json!({ "type": "string", "pattern": PERIOD_PATTERN, "examples": ["2027-Q1"] }),
        Ty::Time => json!({ "type": "string", "format": "date-time" }),
        Ty::Money => json!({ "type": "string", "pattern": "^[A-Z]{3} -?[0-9]+(\\.[0-9]+)?$", "examples": ["USD 1234.50"] }),
        Ty::Decimal => json!({ "type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$" }),
        Ty::Enum(values) => json!({ "type": "string", "enum": values }),
        Ty::TextList => json!({ "type": "array", "items": { "type": "string" } }),
        Ty::IdList => json!({ "type": "array", "items": { "type": "integer", "format": "int64", "minimum": 1, "maximum": i64::MAX } }),
        Ty::Ref(name) => json!({ "$ref": format!("#/components/schemas/{name}") }),
        Ty::RefList(name) => json!({ "type": "array", "items": { "$ref": format!("#/components/schemas/{name}") } }),
        Ty::Object => json!({ "type": "object" }),
        Ty::Json => json!({}),
    }
}

fn field_schema(field: &Field) -> Value {
    let mut schema = type_schema(&field.ty);
    // A text a record needs may not be blank, on create or patch.
    if field.create == Create::Required && matches!(field.ty, Ty::Text) {
        schema["minLength"] = json!(1);
        schema["pattern"] = json!("\\S");
    }
    if field.nullable {
        schema = match schema.get("type").cloned() {
            Some(Value::String(kind)) => {
                let mut nullable = schema.clone();
                nullable["type"] = json!([kind, "null"]);
                if let Some(values) = nullable.get_mut("enum").and_then(Value::as_array_mut) {
                    values.push(Value::Null);
                }
                nullable
            }
            _ => json!({ "oneOf": [schema, { "type": "null" }] }),
        };
    }
    if !field.description.is_empty() {
        schema["description"] = json!(field.description);
    }
    schema
}

fn object(description: &str, fields: &[&Field], required: &[&str]) -> Value {
    let properties: Map<String, Value> = fields.iter().map(|field| (field.name.to_owned(), field_schema(field))).collect();
    json!({ "type": "object", "description": description, "properties": properties, "required": required, "additionalProperties": false })
}

fn add_resource(schemas: &mut Map<String, Value>, resource: &Resource) {
    let view: Vec<&Field> = resource.fields.iter().filter(|field| field.view).collect();
    let all: Vec<&str> = view.iter().map(|field| field.name).collect();
    schemas.insert(resource.name.to_owned(), object(resource.description, &view, &all));
    let list = json!({
        "type": "object",
        "description": format!("A page of {} rows.", resource.name),
        "properties": {
            "data": { "type": "array", "items": { "$ref": format!("#/components/schemas/{}", resource.name) } },
            "next_cursor": { "type": ["string", "null"], "description": "Pass as `cursor` for the next page; `null` on the last page." },
        },
        "required": ["data", "next_cursor"],
        "additionalProperties": false,
    });
    schemas.insert(format!("{}List", resource.name), list);
    if resource.fields.iter().any(|field| field.create != Create::No) {
        let fields: Vec<&Field> = resource.fields.iter().filter(|field| field.create != Create::No).collect();
        let required: Vec<&str> = fields.iter().filter(|field| field.create == Create::Required).map(|field| field.name).collect();
        let description = format!("A new {}. Unknown fields are refused.", resource.name);
        schemas.insert(format!("{}Create", resource.name), object(&description, &fields, &required));
    }
    if resource.fields.iter().any(|field| field.patch) {
        let fields: Vec<&Field> = resource.fields.iter().filter(|field| field.patch).collect();
        let description = format!(
            "A partial update of a {}: absent fields stay, `null` clears a nullable field. Unknown fields are refused.",
            resource.name
        );
        let schema = object(&description, &fields, &[]);
        schemas.insert(format!("{}Patch", resource.name), schema);
    }
}

fn problem_schema() -> Value {
    json!({
        "type": "object",
        "description": "An RFC 9457 problem. `code` is stable; `errors` lists every bad field of a 422.",
        "properties": {
            "type": { "type": "string", "format": "uri" },
            "title": { "type": "string" },
            "status": { "type": "integer" },
            "code": { "type": "string", "enum": ["unauthenticated", "forbidden", "csrf_token_invalid", "not_found", "invalid", "bad_request", "conflict", "gate_refused", "too_many_attempts", "internal", "payload_too_large"] },
            "detail": { "type": "string" },
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": { "record": { "type": "string" }, "field": { "type": "string" }, "detail": { "type": "string" } },
                    "required": ["record", "field", "detail"],
                },
            },
            "missing": {
                "type": "array",
                "description": "With `gate_refused` (409): every unmet exit criterion of every gate on the way, grouped by stage in pipeline order.",
                "items": { "$ref": "#/components/schemas/StageMisses" },
            },
            "from_stage_id": { "type": "integer", "description": "With `gate_refused`: the stage the deal is in." },
            "to_stage_id": { "type": "integer", "description": "With `gate_refused`: the stage it was to move to." },
        },
        "required": ["type", "title", "status", "code", "detail"],
    })
}

fn parameter(param: &Param, location: &str) -> Value {
    json!({
        "name": param.name,
        "in": location,
        "required": location == "path" || param.required,
        "description": param.description,
        "schema": type_schema(&param.ty),
    })
}

fn problem_response(description: &str) -> Value {
    json!({ "description": description, "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } })
}

fn operation(route: &Route) -> Value {
    let mut parameters: Vec<Value> = route.path_params.iter().map(|param| parameter(param, "path")).collect();
    parameters.extend(route.query.iter().map(|param| parameter(param, "query")));
    let mut responses = Map::new();
    match &route.reply {
        Reply::Json(status, schema) => {
            let content = json!({ "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } });
            responses.insert(status.to_string(), json!({ "description": "Success.", "content": content }));
        }
        Reply::List(schema) => {
            let content = json!({ "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}List") } } });
            responses.insert("200".into(), json!({ "description": "One page.", "content": content }));
        }
        Reply::NoContent => {
            responses.insert("204".into(), json!({ "description": "Done." }));
        }
        Reply::Csv => {
            let content = json!({ "text/csv": { "schema": { "type": "string" } } });
            responses.insert("200".into(), json!({ "description": "A CSV file with a header line.", "content": content }));
        }
        Reply::Document => {
            responses.insert(
                "200".into(),
                json!({ "description": "This document.", "content": { "application/json": { "schema": { "type": "object" } } } }),
            );
        }
    }
    let has_body = route.body.is_some() || route.csv_body;
    if !route.query.is_empty() || !route.path_params.is_empty() || has_body {
        responses.insert("400".into(), json!({ "$ref": "#/components/responses/BadRequest" }));
    }
    if route.authenticated {
        responses.insert("401".into(), json!({ "$ref": "#/components/responses/Unauthenticated" }));
        responses.insert("403".into(), json!({ "$ref": "#/components/responses/Forbidden" }));
    }
    if !route.path_params.is_empty() || route.names_records {
        responses.insert("404".into(), json!({ "$ref": "#/components/responses/NotFound" }));
    }
    if route.throttled {
        responses.insert("429".into(), json!({ "$ref": "#/components/responses/TooManyAttempts" }));
    }
    if has_body {
        responses.insert("413".into(), json!({ "$ref": "#/components/responses/PayloadTooLarge" }));
    }
    // Any write may be refused by the organisation's rules (a conflict, or what the record
    // would become breaks one), body or none.
    if route.refusable && route.method == axum::http::Method::GET {
        responses.insert("422".into(), json!({ "$ref": "#/components/responses/Invalid" }));
    }
    if has_body || route.method != axum::http::Method::GET {
        responses.insert("409".into(), json!({ "$ref": "#/components/responses/Conflict" }));
        responses.insert("422".into(), json!({ "$ref": "#/components/responses/Invalid" }));
    }
    let mut operation = json!({
        "operationId": route.operation_id,
        "summary": route.summary,
        "tags": [route.tag],
        "parameters": parameters,
        "responses": responses,
    });
    if let Some(body) = route.body {
        operation["requestBody"] = json!({ "required": true, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{body}") } } } });
    }
    if route.csv_body {
        operation["requestBody"] = json!({ "required": true, "content": { "text/csv": { "schema": { "type": "string" } } } });
    }
    if !route.authenticated {
        operation["security"] = json!([]);
    }
    operation
}

/// The whole document for `routes` and `resources`.
pub fn document(routes: &[Route], resources: &[Resource]) -> Value {
    let mut paths = Map::new();
    for route in routes {
        let item = paths.entry(route.path.to_owned()).or_insert_with(|| json!({}));
        item[route.method.as_str().to_lowercase()] = operation(route);
    }
    let mut schemas = Map::new();
    schemas.insert("Problem".into(), problem_schema());
    for resource in resources {
        add_resource(&mut schemas, resource);
    }
    for (name, schema) in super::schemas() {
        schemas.insert(name.to_owned(), schema);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Pipewise API",
            "version": "1",
            "description": "The Pipewise JSON API. Authenticate with `Authorization: Bearer pwt_…` (create a token with `POST /api/v1/tokens`) \
    or a session cookie; cookie-authenticated writes need the `X-CSRF-Token` header. Money is one string, the ISO 4217 code and \
    the exact decimal amount (`\"USD 1234.50\"`); times are RFC 3339 in UTC; dates are `YYYY-MM-DD`. Lists page with `limit` \
    (1 to 200, default 50) and the opaque `cursor` from `next_cursor`. Errors are RFC 9457 problem+json with a stable `code`.",
        },
        "servers": [{ "url": "/" }],
        "security": [{ "bearer": [] }, { "session": [] }],
        "tags": tags(routes),
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "description": "An API token, `pwt_` followed by 64 hex digits." },
                "session": { "type": "apiKey", "in": "cookie", "name": crate::auth::SESSION_COOKIE },
            },
            "responses": {
                "BadRequest": problem_response("The query string or body is not the right shape."),
                "Unauthenticated": problem_response("Not signed in, or the token is not valid."),
                "Forbidden": problem_response("Not allowed, or a cookie-authenticated write without its CSRF token."),
                "NotFound": problem_response("No such record, or one the viewer may not see."),
                "Conflict": problem_response(
                    "A duplicate, such as a domain that belongs to another account; or a stage move refused by its gates (`gate_refused`, with `missing`).",
                ),
                "PayloadTooLarge": problem_response("The body is over 1 MiB."),
                "TooManyAttempts": problem_response("Too many wrong passwords from this address or for this user: try again later."),
                "Invalid": problem_response("Every bad field, each with its record and field."),
            },
        },
    })
}

fn tags(routes: &[Route]) -> Vec<Value> {
    let mut names: Vec<&str> = Vec::new();
    for route in routes {
        if !names.contains(&route.tag) {
            names.push(route.tag);
        }
    }
    names.into_iter().map(|name| json!({ "name": name })).collect()
}
