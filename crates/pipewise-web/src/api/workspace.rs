//! The deal workspace (SPEC C3) in the API: `GET|PUT /api/v1/opportunities/{id}/workspace`
//! (`?as_of=` for a past state; PUT takes any subset of the parts),
//! `GET|PUT /api/v1/opportunities/{id}/workspace/{part}`, and
//! `GET /api/v1/opportunities/{id}/workspace/flags` (`?today=`, default the server's date).
//! Bodies and replies use one JSON shape, `pipewise_app::workspace_codec`.

use axum::extract::RawQuery;
use axum::http::Method;
use pipewise_app as app;
use pipewise_app::workspace_codec;
use pipewise_core::error::RecordRef;
use pipewise_core::workspace::{Figure, Flag, Workspace, WorkspacePart, WorkspacePartName};
use pipewise_core::*;
use serde_json::{Value, json};

use super::db::Api;
use super::gates::{deal_param, today};
use super::openapi::{Create, Field, Resource};
use super::support::{IdAndSegment, IdPath, JsonBody, Query, not_found};
use super::views::Page;
use super::{Param, Reply, Route, Ty};
use crate::error::AppError;
use crate::i18n::{self, Locale};

const WORKSPACE_TAG: &str = "workspace";

fn part_param() -> Param {
    let parts = WorkspacePartName::ALL.iter().map(|part| part.as_str()).collect();
    Param::new("part", Ty::Enum(parts), "The part of the workspace.")
}

fn as_of_param() -> Param {
    Param::new("as_of", Ty::Time, "An RFC 3339 time: the workspace as it was then, replayed from its history.")
}

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::GET, "/api/v1/opportunities/{id}/workspace", "get_workspace", get_workspace)
            .summary(
                WORKSPACE_TAG,
                "A deal's workspace (BANT, four-box, stakeholders, competitors, close plan, approval), now or as of a time.",
            )
            .path_param(deal_param())
            .query(vec![as_of_param()])
            .reply(Reply::Json(200, "Workspace")),
        Route::new(Method::PUT, "/api/v1/opportunities/{id}/workspace", "update_workspace", update_workspace)
            .summary(WORKSPACE_TAG, "Replace the parts given (any subset); each changed part is one tracked edit.")
            .path_param(deal_param())
            .body("WorkspaceCreate")
            .reply(Reply::Json(200, "Workspace")),
        Route::new(Method::GET, "/api/v1/opportunities/{id}/workspace/flags", "list_workspace_flags", list_workspace_flags)
            .summary(WORKSPACE_TAG, "Every warning the deal's workspace raises, part by part.")
            .path_param(deal_param())
            .query(vec![Param::new("today", Ty::Date, "The day to judge dates on; today in the organisation's time zone by default.")])
            .reply(Reply::List("WorkspaceFlag")),
        Route::new(Method::GET, "/api/v1/opportunities/{id}/workspace/{part}", "get_workspace_part", get_workspace_part)
            .summary(WORKSPACE_TAG, "One part of a deal's workspace, now or as of a time.")
            .path_param(deal_param())
            .path_param(part_param())
            .query(vec![as_of_param()])
            .reply(Reply::Json(200, "WorkspacePartValue")),
        Route::new(Method::PUT, "/api/v1/opportunities/{id}/workspace/{part}", "update_workspace_part", update_workspace_part)
            .summary(WORKSPACE_TAG, "Replace one part of a deal's workspace; answers the whole workspace.")
            .path_param(deal_param())
            .path_param(part_param())
            .body("WorkspacePartValue")
            .reply(Reply::Json(200, "Workspace")),
    ]
}

/// Body-only schemas described by hand.
pub fn schemas() -> Vec<(&'static str, Value)> {
    vec![(
        "WorkspacePartValue",
        json!({
            "description": "One part of the workspace in the shape of the matching property of `Workspace`: an object for bant, four_box, \
             close_plan and approval, a list for stakeholders and competitors.",
            "type": ["object", "array"],
        }),
    )]
}

pub fn resources() -> Vec<Resource> {
    let parts = |create: Create| -> Vec<Field> {
        WorkspacePartName::ALL
            .iter()
            .map(|part| {
                let ty = match part {
                    WorkspacePartName::Stakeholders | WorkspacePartName::Competitors => Ty::Json,
                    _ => Ty::Object,
                };
                let mut field = Field::read(part.as_str(), ty).create_only(create);
                field.description = "See `pipewise_app::workspace_codec` for the shape.";
                field
            })
            .collect()
    };
    vec![
        Resource::new("Workspace", "A deal's workspace (SPEC C3). On PUT, any subset of the parts.", parts(Create::Optional)),
        Resource::new(
            "WorkspaceFlag",
            "A warning about one part of the workspace: a stable code, messages, and the figures behind them.",
            vec![
                Field::read("code", Ty::Text).doc("Stable and dotted: `close_plan.late_item`."),
                Field::read("severity", Ty::Enum(vec!["info", "warning"])),
                Field::read("message_en", Ty::Text),
                Field::read("message_ko", Ty::Text),
                Field::read("figures", Ty::Object).doc("The numbers behind the message, by name, as text."),
            ],
        ),
    ]
}

fn flag_json(flag: &Flag) -> Value {
    let figures: serde_json::Map<String, Value> = flag
        .figures
        .iter()
        .map(|(name, figure)| {
            let value = match figure {
                Figure::Count(count) | Figure::Days(count) => json!(count),
                other => json!(other.to_string()),
            };
            ((*name).to_owned(), value)
        })
        .collect();
    json!({ "code": flag.code, "severity": flag.severity.as_str(), "message_en": i18n::message(Locale::En, &flag.message), "message_ko": i18n::message(Locale::Ko, &flag.message), "figures": figures })
}

fn workspace_query(raw: Option<&str>) -> Result<Option<Timestamp>, AppError> {
    let query = Query::parse(raw, &[Param::new("as_of", Ty::Time, "")])?;
    query.parsed("as_of", str::parse)
}

async fn load_workspace(api: &Api, id: i64, as_of: Option<Timestamp>) -> Result<Workspace, AppError> {
    api.read(move |tx, viewer| {
        let workspace = match as_of {
            Some(at) => app::workspace::workspace_as_of_for(tx, viewer.org, &viewer.access, OpportunityId(id), at)?,
            None => app::workspace::workspace_for(tx, viewer.org, &viewer.access, OpportunityId(id))?,
        };
        workspace.ok_or_else(|| not_found(OpportunityId::LABEL, id))
    })
    .await
}

async fn get_workspace(api: Api, IdPath(id): IdPath, RawQuery(raw): RawQuery) -> Result<axum::Json<Value>, AppError> {
    let as_of = workspace_query(raw.as_deref())?;
    let workspace = load_workspace(&api, id, as_of).await?;
    Ok(axum::Json(workspace_codec::to_json(&workspace)))
}

async fn update_workspace(api: Api, IdPath(id): IdPath, JsonBody(body): JsonBody) -> Result<axum::Json<Value>, AppError> {
    let record = RecordRef::new(OpportunityId::LABEL, id);
    let Some(object) = body.as_object() else {
        return Err(AppError::Invalid(
            FieldError { record, field: "(body)", problem: Problem::Invalid { value: body.to_string(), expected: "a JSON object" } }.into(),
        ));
    };
    let mut errors = ValidationErrors::default();
    for key in object.keys() {
        if WorkspacePartName::parse(key).is_err() {
            errors.push(&record, "(body)", Problem::Fact(Message::new("rule.unknown_field").text("field", format!("{key:?}"))));
        }
    }
    let mut parts = Vec::new();
    for name in WorkspacePartName::ALL {
        if let Some(value) = object.get(name.as_str()) {
            match workspace_codec::part_from_json(&record, *name, value) {
                Ok(part) => parts.push(part),
                Err(problems) => errors.0.extend(problems.0),
            }
        }
    }
    errors.into_result(())?;
    let workspace = api
        .write(move |tx, ctx| {
            let mut workspace = None;
            for part in parts {
                workspace = Some(app::workspace::update_workspace(tx, ctx, OpportunityId(id), part)?);
            }
            match workspace {
                Some(workspace) => Ok(workspace),
                None => {
                    let access = app::access::access_for(tx, ctx.org, ctx.actor_id)?;
                    app::workspace::workspace_for(tx, ctx.org, &access, OpportunityId(id))?
                        .ok_or(pipewise_app::StoreError::NotFound { kind: OpportunityId::LABEL, id })
                }
            }
        })
        .await?;
    Ok(axum::Json(workspace_codec::to_json(&workspace)))
}

/// The `{id}` and `{part}` of a workspace part's path.
struct PartPath(i64, WorkspacePartName);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for PartPath {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<PartPath, AppError> {
        let IdAndSegment(id, raw_part) = IdAndSegment::from_request_parts(parts, state).await?;
        let part =
            WorkspacePartName::parse(&raw_part).map_err(|problem| AppError::BadRequest(format!("path parameter part: {problem}")))?;
        Ok(PartPath(id, part))
    }
}

async fn get_workspace_part(api: Api, PartPath(id, part): PartPath, RawQuery(raw): RawQuery) -> Result<axum::Json<Value>, AppError> {
    let as_of = workspace_query(raw.as_deref())?;
    let workspace = load_workspace(&api, id, as_of).await?;
    Ok(axum::Json(workspace_codec::part_to_json(&WorkspacePart::of(&workspace, part))))
}

async fn update_workspace_part(api: Api, PartPath(id, name): PartPath, JsonBody(body): JsonBody) -> Result<axum::Json<Value>, AppError> {
    let part = workspace_codec::part_from_json(&RecordRef::new(OpportunityId::LABEL, id), name, &body)?;
    let workspace = api.write(move |tx, ctx| app::workspace::update_workspace(tx, ctx, OpportunityId(id), part)).await?;
    Ok(axum::Json(workspace_codec::to_json(&workspace)))
}

async fn list_workspace_flags(api: Api, IdPath(id): IdPath, RawQuery(raw): RawQuery) -> Result<axum::Json<Page<Value>>, AppError> {
    let query = Query::parse(raw.as_deref(), &[Param::new("today", Ty::Date, "")])?;
    let today = today(&api, &query)?;
    let flags = api
        .read(move |tx, viewer| {
            app::workspace::workspace_flags_for(tx, viewer.org, &viewer.access, OpportunityId(id), today)?
                .ok_or_else(|| not_found(OpportunityId::LABEL, id))
        })
        .await?;
    Ok(axum::Json(Page { data: flags.iter().map(flag_json).collect(), next_cursor: None }))
}
