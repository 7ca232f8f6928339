//! Stage gates, the deal workspace and the pipeline designer (SPEC C2, C3) in the API.
//!
//! - Exit criteria: `GET|POST /api/v1/pipelines/{id}/criteria`, `DELETE /api/v1/criteria/{id}`
//!   (archives; the criterion leaves its gate, its ticks stay in the log).
//! - A deal's gates: `GET /api/v1/opportunities/{id}/gates` (every open stage's checklist with
//!   each criterion's state, the next move and what it misses, overrides, SQL and drop marks);
//!   `POST /api/v1/opportunities/{id}/checks` ticks (`checked: true`, with `evidence`) or
//!   unticks a checklist item and answers the gates after the change.
//! - A refused stage move (`PATCH /api/v1/opportunities/{id}` with a `stage_id` past unmet
//!   criteria) is **409** problem+json with `code: "gate_refused"` and `missing`: the unmet
//!   criteria grouped by stage in pipeline order, each with its labels and the reason in English
//!   and Korean. 409 and not 422: the request is well formed, the deal's state stands in the
//!   way, and the same request succeeds once the criteria are met or with `gate_override_reason`
//!   from a manager in the owner's line, ops or an admin (a rep's override is 403).
//! - Loss review: `POST /api/v1/opportunities/{id}/loss-review` adds a checklist item to the gate
//!   the lost deal was lost from (or `stage_id`).
//! - Workspace: `GET|PUT /api/v1/opportunities/{id}/workspace` (`?as_of=` for a past state; PUT
//!   takes any subset of the parts), `GET|PUT /api/v1/opportunities/{id}/workspace/{part}`, and
//!   `GET /api/v1/opportunities/{id}/workspace/flags` (`?today=`, default the server's date).
//!   Bodies and replies use one JSON shape, `pipewise_app::workspace_codec`.
//! - Designer (ops and admins): `POST /api/v1/pipelines/from-template`,
//!   `PATCH /api/v1/pipelines/{id}`, `POST /api/v1/pipelines/{id}/stages`,
//!   `PUT /api/v1/pipelines/{id}/stage-order`, `PATCH /api/v1/stages/{id}`,
//!   `POST /api/v1/stages/{id}/archive`, `PUT /api/v1/teams/{id}/average-cycle`.

use app::gates::DealGates;
use axum::extract::{RawQuery, State};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use pipewise_app as app;
use pipewise_app::{Tx, WriteCtx, workspace_codec};
use pipewise_core::error::RecordRef;
use pipewise_core::gates::{ExitCriterion, MoveCheck, MoveKind};
use pipewise_core::history::Source;
use pipewise_core::workspace::{Figure, Flag, Workspace, WorkspacePart, WorkspacePartName};
use pipewise_core::*;
use serde::Serialize;
use serde_json::{Value, json};

use super::openapi::{Create, Field, Resource};
use super::support::{IdPath, JsonBody, Query, created, not_found};
use super::views::{Page, PipelineView, StageView};
use super::{Param, Reply, Route, Ty};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, blocking};
use pipewise_app::input;

const TAG: &str = "gates";
const WORKSPACE_TAG: &str = "workspace";
const DESIGN_TAG: &str = "pipeline designer";

fn deal_param() -> Param {
    Param::id("id", "The opportunity's id.")
}

fn part_param() -> Param {
    let parts = WorkspacePartName::ALL.iter().map(|part| part.as_str()).collect();
    Param::new("part", Ty::Enum(parts), "The part of the workspace.")
}

fn as_of_param() -> Param {
    Param::new("as_of", Ty::Time, "An RFC 3339 time: the workspace as it was then, replayed from its history.")
}

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::GET, "/api/v1/pipelines/{id}/criteria", "list_exit_criteria", list_exit_criteria)
            .summary(TAG, "The exit criteria of every stage of a pipeline, in the order they were added.")
            .path_param(Param::id("id", "The pipeline's id."))
            .reply(Reply::List("ExitCriterion")),
        Route::new(Method::POST, "/api/v1/pipelines/{id}/criteria", "create_exit_criterion", create_exit_criterion)
            .summary(TAG, "Add an exit criterion to an open stage of the pipeline (ops and admins).")
            .path_param(Param::id("id", "The pipeline's id."))
            .body("ExitCriterionCreate")
            .reply(Reply::Json(201, "ExitCriterion")),
        Route::new(Method::DELETE, "/api/v1/criteria/{id}", "archive_exit_criterion", archive_exit_criterion)
            .summary(TAG, "Archive an exit criterion: it leaves its gate; past ticks stay in the log (ops and admins).")
            .path_param(Param::id("id", "The criterion's id."))
            .reply(Reply::NoContent),
        Route::new(Method::GET, "/api/v1/opportunities/{id}/gates", "get_opportunity_gates", get_opportunity_gates)
            .summary(TAG, "A deal's gates: each open stage's checklist, the next move and what it misses, overrides, SQL and drop marks.")
            .path_param(deal_param())
            .query(vec![Param::new("today", Ty::Date, "The day to judge date criteria on; the server's date (UTC) by default.")])
            .reply(Reply::Json(200, "DealGates")),
        Route::new(Method::POST, "/api/v1/opportunities/{id}/checks", "check_criterion", check_criterion)
            .summary(TAG, "Tick (with evidence) or untick a checklist item of the deal's pipeline; answers the gates after the change.")
            .path_param(deal_param())
            .body("CriterionCheckCreate")
            .reply(Reply::Json(200, "DealGates")),
        Route::new(Method::POST, "/api/v1/opportunities/{id}/loss-review", "create_loss_review_criterion", create_loss_review_criterion)
            .summary(
                TAG,
                "Grow a checklist from a loss: add an item to the gate the lost deal was lost from (ops, admins, the owner's managers).",
            )
            .path_param(deal_param())
            .body("LossReviewCreate")
            .reply(Reply::Json(201, "ExitCriterion")),
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
            .query(vec![Param::new("today", Ty::Date, "The day to judge dates on; the server's date (UTC) by default.")])
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
        Route::new(Method::POST, "/api/v1/pipelines/from-template", "create_pipeline_from_template", create_pipeline_from_template)
            .summary(DESIGN_TAG, "Create a pipeline from a shipped template, with its exit criteria (ops and admins).")
            .body("PipelineTemplateCreate")
            .reply(Reply::Json(201, "Pipeline")),
        Route::new(Method::PATCH, "/api/v1/pipelines/{id}", "update_pipeline", update_pipeline)
            .summary(DESIGN_TAG, "Rename a pipeline or change its entry stage (ops and admins).")
            .path_param(Param::id("id", "The pipeline's id."))
            .body("PipelinePatch")
            .reply(Reply::Json(200, "Pipeline")),
        Route::new(Method::POST, "/api/v1/pipelines/{id}/stages", "create_stage", create_stage)
            .summary(DESIGN_TAG, "Add a stage to a pipeline (ops and admins); answers the pipeline.")
            .path_param(Param::id("id", "The pipeline's id."))
            .body("StageCreate")
            .reply(Reply::Json(201, "Pipeline")),
        Route::new(Method::PUT, "/api/v1/pipelines/{id}/stage-order", "reorder_stages", reorder_stages)
            .summary(DESIGN_TAG, "Put a pipeline's stages in a new order, open stages first (ops and admins).")
            .path_param(Param::id("id", "The pipeline's id."))
            .body("StageOrderCreate")
            .reply(Reply::Json(200, "Pipeline")),
        Route::new(Method::PATCH, "/api/v1/stages/{id}", "update_stage", update_stage)
            .summary(DESIGN_TAG, "Change a stage's names, probability, forecast category, metrics flag or rotting age (ops and admins).")
            .path_param(Param::id("id", "The stage's id."))
            .body("StagePatch")
            .reply(Reply::Json(200, "Stage")),
        Route::new(Method::POST, "/api/v1/stages/{id}/archive", "archive_stage", archive_stage)
            .summary(DESIGN_TAG, "Archive a stage: it keeps its deals, takes no new ones, and its gate is skipped (ops and admins).")
            .path_param(Param::id("id", "The stage's id."))
            .reply(Reply::Json(200, "Stage")),
        Route::new(Method::PUT, "/api/v1/teams/{id}/average-cycle", "set_team_average_cycle", set_team_average_cycle)
            .summary(
                DESIGN_TAG,
                "Set a team's own average sales cycle (stage 1's decision window), or null to compute it (ops and admins).",
            )
            .path_param(Param::id("id", "The team's id."))
            .body("TeamCycleCreate")
            .reply(Reply::NoContent),
    ]
}

/// Body-only schemas: a record with `create` and no reply of its own would still get one; these
/// are small enough to describe by hand.
pub fn schemas() -> Vec<(&'static str, Value)> {
    let unmet = json!({
        "type": "object",
        "properties": {
            "criterion_id": { "type": "integer" }, "label_en": { "type": "string" }, "label_ko": { "type": "string" },
            "reason_en": { "type": "string" }, "reason_ko": { "type": "string" },
        },
        "required": ["criterion_id", "label_en", "label_ko", "reason_en", "reason_ko"],
    });
    let stage_misses = json!({
        "type": "object",
        "description": "The unmet criteria of one stage's gate.",
        "properties": {
            "stage_id": { "type": "integer" }, "position": { "type": "integer" }, "stage_name_en": { "type": "string" },
            "stage_name_ko": { "type": "string" }, "unmet": { "type": "array", "items": unmet },
        },
        "required": ["stage_id", "position", "stage_name_en", "stage_name_ko", "unmet"],
    });
    let move_check = json!({
        "type": "object",
        "description": "Whether a stage move may happen; `missing` lists every unmet criterion, grouped by stage in pipeline order.",
        "properties": {
            "from_stage_id": { "type": "integer" }, "to_stage_id": { "type": "integer" },
            "kind": { "type": "string", "enum": ["unchanged", "backward", "forward", "to_won", "to_lost", "reopen", "not_in_pipeline"] },
            "allowed": { "type": "boolean" }, "gates_checked": { "type": "array", "items": { "type": "integer" } },
            "missing": { "type": "array", "items": { "$ref": "#/components/schemas/StageMisses" } },
        },
        "required": ["from_stage_id", "to_stage_id", "kind", "allowed", "gates_checked", "missing"],
    });
    vec![
        ("StageMisses", stage_misses),
        ("MoveCheck", move_check),
        (
            "WorkspacePartValue",
            json!({
                "description": "One part of the workspace in the shape of the matching property of `Workspace`: an object for bant, four_box, \
                 close_plan and approval, a list for stakeholders and competitors.",
                "type": ["object", "array"],
            }),
        ),
    ]
}

pub fn resources() -> Vec<Resource> {
    let kinds = vec!["checklist", "required_field", "derived"];
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
        Resource {
            name: "ExitCriterion",
            description: "One exit criterion of one stage: a checklist item a person ticks, a required field, or a predicate derived from data.",
            create: true,
            patch: false,
            fields: vec![
                Field::read("id", Ty::Id),
                Field::read("stage_id", Ty::Id).create_only(Create::Required).doc("An open stage of the pipeline."),
                Field::read("label_en", Ty::Text).create_only(Create::Required),
                Field::read("label_ko", Ty::Text).create_only(Create::Optional).doc("Defaults to the English label."),
                Field::read("kind", Ty::Enum(kinds)).create_only(Create::Required),
                Field::read("argument", Ty::Text).nullable().create_only(Create::Optional).doc(
                    "For `required_field` the field's name; for `derived` the predicate, e.g. \
                     `all(bant(budget, partial|confirmed), stakeholder(4, executive), decision_within(team))`.",
                ),
                Field::read("origin", Ty::Enum(vec!["template", "ops", "loss_review"])),
                Field::read("origin_opportunity_id", Ty::Id).nullable().doc("The lost deal a loss-review item came from."),
            ],
        },
        Resource {
            name: "CriterionCheck",
            description: "A tick or an untick of a checklist item.",
            create: true,
            patch: false,
            fields: vec![
                Field::read("criterion_id", Ty::Id).create_only(Create::Required),
                Field::read("checked", Ty::Boolean).create_only(Create::Optional).doc("`true` (the default) ticks, `false` unticks."),
                Field::read("evidence", Ty::Text).create_only(Create::Optional).doc("Required for a tick: what shows it is true."),
            ],
        },
        Resource {
            name: "LossReview",
            description: "A lesson from a lost deal, as a new checklist item.",
            create: true,
            patch: false,
            fields: vec![
                Field::read("stage_id", Ty::Id).create_only(Create::Optional).doc("By default the stage the deal was lost from."),
                Field::read("label_en", Ty::Text).create_only(Create::Required),
                Field::read("label_ko", Ty::Text).create_only(Create::Optional),
            ],
        },
        Resource {
            name: "DealGates",
            description: "A deal's gates as of a day.",
            create: false,
            patch: false,
            fields: vec![
                Field::read("opportunity_id", Ty::Id),
                Field::read("stage_id", Ty::Id),
                Field::read("next_stage_id", Ty::Id).nullable().doc("Where a forward move goes next; null for a closed deal."),
                Field::read("next_move", Ty::Ref("MoveCheck")).nullable(),
                Field::read("stages", Ty::RefList("StageGate")),
                Field::read("overrides", Ty::RefList("GateOverride")),
                Field::read("sql_at", Ty::Time).nullable().doc("When the deal passed gate 1 and became a sales-qualified lead."),
                Field::read("dropped_at", Ty::Time).nullable().doc("When a stage-1 deal was dropped: lost, but not a loss."),
                Field::read("drop_reason", Ty::Text).nullable().doc("The stage-1 drop reason's code, when the close reason is one."),
            ],
        },
        Resource {
            name: "StageGate",
            description: "One open stage's gate as a checklist.",
            create: false,
            patch: false,
            fields: vec![
                Field::read("stage_id", Ty::Id),
                Field::read("stage_name_en", Ty::Text),
                Field::read("stage_name_ko", Ty::Text),
                Field::read("met", Ty::Integer),
                Field::read("total", Ty::Integer),
                Field::read("criteria", Ty::RefList("CriterionState")),
            ],
        },
        Resource {
            name: "CriterionState",
            description: "One criterion and whether it holds, with the reason in English and Korean.",
            create: false,
            patch: false,
            fields: vec![
                Field::read("criterion", Ty::Ref("ExitCriterion")),
                Field::read("met", Ty::Boolean),
                Field::read("reason_en", Ty::Text),
                Field::read("reason_ko", Ty::Text),
                Field::read("checked_by", Ty::Id).nullable(),
                Field::read("checked_at", Ty::Time).nullable(),
                Field::read("evidence", Ty::Text).nullable(),
            ],
        },
        Resource {
            name: "GateOverride",
            description: "A stage move pushed past unmet criteria: who, when, why, and what was unmet.",
            create: false,
            patch: false,
            fields: vec![
                Field::read("id", Ty::Id),
                Field::read("by", Ty::Id).nullable(),
                Field::read("at", Ty::Time),
                Field::read("reason", Ty::Text),
                Field::read("from_stage_id", Ty::Id),
                Field::read("to_stage_id", Ty::Id),
                Field::read("unmet", Ty::Json),
                Field::read("source", Ty::Text),
            ],
        },
        Resource {
            name: "Workspace",
            description: "A deal's workspace (SPEC C3). On PUT, any subset of the parts.",
            create: true,
            patch: false,
            fields: parts(Create::Optional),
        },
        Resource {
            name: "WorkspaceFlag",
            description: "A warning about one part of the workspace: a stable code, messages, and the figures behind them.",
            create: false,
            patch: false,
            fields: vec![
                Field::read("code", Ty::Text).doc("Stable and dotted: `close_plan.late_item`."),
                Field::read("severity", Ty::Enum(vec!["info", "warning"])),
                Field::read("message_en", Ty::Text),
                Field::read("message_ko", Ty::Text),
                Field::read("figures", Ty::Object).doc("The numbers behind the message, by name, as text."),
            ],
        },
        Resource {
            name: "PipelineTemplate",
            description: "Which shipped template to create a pipeline from.",
            create: true,
            patch: false,
            fields: vec![Field::read("template", Ty::Enum(vec!["b2b_the_model", "simple"])).create_only(Create::Required)],
        },
        Resource {
            name: "StageOrder",
            description: "Every stage of the pipeline once, in the new order.",
            create: true,
            patch: false,
            fields: vec![Field::read("stage_ids", Ty::IdList).create_only(Create::Required)],
        },
        Resource {
            name: "TeamCycle",
            description: "A team's own average sales cycle in days (1 to 3650), or null to compute it from the team's won deals.",
            create: true,
            patch: false,
            fields: vec![Field::read("average_cycle_days", Ty::Integer).nullable().create_only(Create::Required)],
        },
    ]
}

// ---------------------------------------------------------------------------------------------
// Views

#[derive(Serialize)]
pub struct ExitCriterionView {
    pub id: i64,
    pub stage_id: i64,
    pub label_en: String,
    pub label_ko: String,
    pub kind: &'static str,
    pub argument: Option<String>,
    pub origin: &'static str,
    pub origin_opportunity_id: Option<i64>,
}

impl From<ExitCriterion> for ExitCriterionView {
    fn from(criterion: ExitCriterion) -> Self {
        let (origin, origin_opportunity) = app::codec::origin_parts(criterion.origin);
        ExitCriterionView {
            id: criterion.id,
            stage_id: criterion.stage_id.0,
            label_en: criterion.label_en,
            label_ko: criterion.label_ko,
            kind: criterion.kind.kind_str(),
            argument: criterion.kind.argument(),
            origin,
            origin_opportunity_id: origin_opportunity.map(|id| id.0),
        }
    }
}

fn move_kind(kind: MoveKind) -> &'static str {
    match kind {
        MoveKind::Unchanged => "unchanged",
        MoveKind::Backward => "backward",
        MoveKind::Forward => "forward",
        MoveKind::ToWon => "to_won",
        MoveKind::ToLost => "to_lost",
        MoveKind::Reopen => "reopen",
        MoveKind::NotInPipeline => "not_in_pipeline",
    }
}

/// The stages a move misses, grouped by stage: the `missing` of a refusal and of a move check.
pub fn missing_json(check: &MoveCheck) -> Value {
    check
        .missing
        .iter()
        .map(|stage| {
            let unmet: Vec<Value> = stage
                .unmet
                .iter()
                .map(|unmet| {
                    json!({
                        "criterion_id": unmet.criterion_id, "label_en": unmet.label_en, "label_ko": unmet.label_ko,
                        "reason_en": unmet.reason_en, "reason_ko": unmet.reason_ko,
                    })
                })
                .collect();
            json!({
                "stage_id": stage.stage_id.0, "position": stage.position, "stage_name_en": stage.stage_name_en,
                "stage_name_ko": stage.stage_name_ko, "unmet": unmet,
            })
        })
        .collect()
}

fn move_json(check: &MoveCheck) -> Value {
    json!({
        "from_stage_id": check.from.0, "to_stage_id": check.to.0, "kind": move_kind(check.kind), "allowed": check.is_allowed(),
        "gates_checked": check.gates_checked.iter().map(|id| id.0).collect::<Vec<_>>(), "missing": missing_json(check),
    })
}

fn gates_json(gates: DealGates) -> Value {
    let stage_name = |id: StageId| gates.pipeline.stage(id).map(|stage| (stage.name_en.clone(), stage.name_ko.clone())).unwrap_or_default();
    let stages: Vec<Value> = gates
        .stages
        .iter()
        .map(|gate| {
            let (name_en, name_ko) = stage_name(gate.stage_id);
            let criteria: Vec<Value> = gate
                .criteria
                .iter()
                .map(|(criterion, status)| {
                    json!({
                        "criterion": ExitCriterionView::from(criterion.clone()), "met": status.met, "reason_en": status.reason_en,
                        "reason_ko": status.reason_ko, "checked_by": status.check.as_ref().map(|check| check.checked_by.0),
                        "checked_at": status.check.as_ref().map(|check| check.checked_at.to_string()),
                        "evidence": status.check.as_ref().map(|check| check.evidence.clone()),
                    })
                })
                .collect();
            let met = gate.criteria.iter().filter(|(_, status)| status.met).count();
            json!({
                "stage_id": gate.stage_id.0, "stage_name_en": name_en, "stage_name_ko": name_ko, "met": met, "total": gate.criteria.len(),
                "criteria": criteria,
            })
        })
        .collect();
    let overrides: Vec<Value> = gates
        .overrides
        .iter()
        .map(|stored| {
            let record = &stored.gate_override;
            json!({
                "id": stored.id, "by": record.by.map(|id| id.0), "at": record.at.to_string(), "reason": record.reason,
                "from_stage_id": record.from_stage_id.0, "to_stage_id": record.to_stage_id.0,
                "unmet": serde_json::from_str::<Value>(&app::codec::unmet_to_json(&record.unmet)).unwrap_or(Value::Null),
                "source": stored.source.as_str(),
            })
        })
        .collect();
    json!({
        "opportunity_id": gates.deal.id.0, "stage_id": gates.deal.stage_id.0, "next_stage_id": gates.next_stage_id.map(|id| id.0),
        "next_move": gates.next_move.as_ref().map(move_json), "stages": stages, "overrides": overrides,
        "sql_at": gates.marks.sql_at.map(|at| at.to_string()), "dropped_at": gates.marks.dropped_at.map(|at| at.to_string()),
        "drop_reason": gates.marks.drop_reason,
    })
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
    json!({ "code": flag.code, "severity": flag.severity.as_str(), "message_en": flag.message_en, "message_ko": flag.message_ko, "figures": figures })
}

// ---------------------------------------------------------------------------------------------
// Handlers

async fn write<T: Send + 'static>(
    state: &AppState,
    viewer: &Viewer,
    work: impl FnOnce(&mut Tx, &WriteCtx) -> pipewise_app::Result<T> + Send + 'static,
) -> Result<T, AppError> {
    let ctx = viewer.ctx(Source::Api, state.now());
    let store = state.db.clone();
    blocking(move || Ok(store.transact(|tx| work(tx, &ctx))?)).await
}

async fn read<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce(&mut Tx) -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    let store = state.db.clone();
    blocking(move || {
        let mut tx = store.read()?;
        work(&mut tx)
    })
    .await
}

fn today(state: &AppState, query: &Query) -> Result<Date, AppError> {
    Ok(query.parsed("today", pipewise_core::time::parse_date)?.unwrap_or_else(|| state.now().date_utc()))
}

async fn list_exit_criteria(
    State(state): State<AppState>,
    viewer: Viewer,
    IdPath(id): IdPath,
) -> Result<axum::Json<Page<ExitCriterionView>>, AppError> {
    let criteria = read(&state, move |tx| Ok(app::gates::exit_criteria(tx, viewer.org, PipelineId(id))?)).await?;
    Ok(axum::Json(Page { data: criteria.into_iter().map(ExitCriterionView::from).collect(), next_cursor: None }))
}

async fn create_exit_criterion(
    State(state): State<AppState>,
    viewer: Viewer,
    IdPath(id): IdPath,
    JsonBody(body): JsonBody,
) -> Result<Response, AppError> {
    let new = input::new_exit_criterion(&body)?;
    let criterion = write(&state, &viewer, move |tx, ctx| {
        let pipeline = app::records::pipeline(tx, ctx.org, PipelineId(id))?
            .ok_or(pipewise_app::StoreError::NotFound { kind: PipelineId::LABEL, id })?;
        if pipeline.stage(new.stage_id).is_none() {
            let problem = Problem::Rule(format!("stage {} is not a stage of pipeline {id}", new.stage_id));
            return Err(
                FieldError { record: RecordRef::new_record(pipewise_core::gates::CRITERION_LABEL), field: "stage_id", problem }.into()
            );
        }
        app::gates::add_exit_criterion(tx, ctx, new)
    })
    .await?;
    Ok(created(format!("/api/v1/pipelines/{id}/criteria"), ExitCriterionView::from(criterion)))
}

async fn archive_exit_criterion(State(state): State<AppState>, viewer: Viewer, IdPath(id): IdPath) -> Result<Response, AppError> {
    write(&state, &viewer, move |tx, ctx| app::gates::archive_exit_criterion(tx, ctx, id)).await?;
    Ok(axum::http::StatusCode::NO_CONTENT.into_response())
}

async fn gates_reply(state: &AppState, viewer: Viewer, id: i64, today: Date) -> Result<axum::Json<Value>, AppError> {
    let gates = read(state, move |tx| {
        app::gates::gate_status_for(tx, viewer.org, &viewer.access, OpportunityId(id), today)?
            .ok_or_else(|| not_found(OpportunityId::LABEL, id))
    })
    .await?;
    Ok(axum::Json(gates_json(gates)))
}

async fn get_opportunity_gates(
    State(state): State<AppState>,
    viewer: Viewer,
    IdPath(id): IdPath,
    RawQuery(raw): RawQuery,
) -> Result<axum::Json<Value>, AppError> {
    let query = Query::parse(raw.as_deref(), &[Param::new("today", Ty::Date, "")])?;
    let today = today(&state, &query)?;
    gates_reply(&state, viewer, id, today).await
}

async fn check_criterion(
    State(state): State<AppState>,
    viewer: Viewer,
    IdPath(id): IdPath,
    JsonBody(body): JsonBody,
) -> Result<axum::Json<Value>, AppError> {
    let check = input::criterion_check(OpportunityId(id), &body)?;
    write(&state, &viewer, move |tx, ctx| {
        if check.checked {
            app::gates::check_criterion(tx, ctx, OpportunityId(id), check.criterion_id, &check.evidence).map(|_| ())
        } else {
            app::gates::uncheck_criterion(tx, ctx, OpportunityId(id), check.criterion_id)
        }
    })
    .await?;
    let today = state.now().date_utc();
    gates_reply(&state, viewer, id, today).await
}

async fn create_loss_review_criterion(
    State(state): State<AppState>,
    viewer: Viewer,
    IdPath(id): IdPath,
    JsonBody(body): JsonBody,
) -> Result<Response, AppError> {
    let (stage_id, label_en, label_ko) = input::loss_review(OpportunityId(id), &body)?;
    let access = viewer.access.clone();
    let criterion = write(&state, &viewer, move |tx, ctx| {
        let stage_id = match stage_id {
            Some(stage_id) => stage_id,
            None => match app::gates::lost_from_stage_for(tx, ctx.org, &access, OpportunityId(id))? {
                Some(stage_id) => stage_id,
                None => {
                    let record = RecordRef::new(OpportunityId::LABEL, id);
                    let problem = Problem::Rule("the stage the deal was lost from is not known; give stage_id".into());
                    return Err(FieldError { record, field: "stage_id", problem }.into());
                }
            },
        };
        app::gates::criterion_from_loss(tx, ctx, OpportunityId(id), stage_id, &label_en, &label_ko)
    })
    .await?;
    Ok(created(format!("/api/v1/pipelines/criteria/{}", criterion.id), ExitCriterionView::from(criterion)))
}

fn workspace_query(raw: Option<&str>) -> Result<Option<Timestamp>, AppError> {
    let query = Query::parse(raw, &[Param::new("as_of", Ty::Time, "")])?;
    query.parsed("as_of", str::parse)
}

async fn load_workspace(state: &AppState, viewer: Viewer, id: i64, as_of: Option<Timestamp>) -> Result<Workspace, AppError> {
    read(state, move |tx| {
        let workspace = match as_of {
            Some(at) => app::workspace::workspace_as_of_for(tx, viewer.org, &viewer.access, OpportunityId(id), at)?,
            None => app::workspace::workspace_for(tx, viewer.org, &viewer.access, OpportunityId(id))?,
        };
        workspace.ok_or_else(|| not_found(OpportunityId::LABEL, id))
    })
    .await
}

async fn get_workspace(
    State(state): State<AppState>,
    viewer: Viewer,
    IdPath(id): IdPath,
    RawQuery(raw): RawQuery,
) -> Result<axum::Json<Value>, AppError> {
    let as_of = workspace_query(raw.as_deref())?;
    let workspace = load_workspace(&state, viewer, id, as_of).await?;
    Ok(axum::Json(workspace_codec::to_json(&workspace)))
}

async fn update_workspace(
    State(state): State<AppState>,
    viewer: Viewer,
    IdPath(id): IdPath,
    JsonBody(body): JsonBody,
) -> Result<axum::Json<Value>, AppError> {
    let record = RecordRef::new(OpportunityId::LABEL, id);
    let Some(object) = body.as_object() else {
        return Err(AppError::Invalid(
            FieldError { record, field: "(body)", problem: Problem::Invalid { value: body.to_string(), expected: "a JSON object" } }.into(),
        ));
    };
    let mut errors = ValidationErrors::default();
    for key in object.keys() {
        if WorkspacePartName::parse(key).is_err() {
            errors.push(&record, "(body)", Problem::Rule(format!("unknown field {key:?}")));
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
    let workspace = write(&state, &viewer, move |tx, ctx| {
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
        let axum::extract::Path((raw_id, raw_part)) = axum::extract::Path::<(String, String)>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| AppError::BadRequest(rejection.body_text()))?;
        let id = raw_id
            .parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .ok_or_else(|| AppError::BadRequest(format!("path parameter id: {raw_id:?} is not an id")))?;
        let part =
            WorkspacePartName::parse(&raw_part).map_err(|problem| AppError::BadRequest(format!("path parameter part: {problem}")))?;
        Ok(PartPath(id, part))
    }
}

async fn get_workspace_part(
    State(state): State<AppState>,
    viewer: Viewer,
    PartPath(id, part): PartPath,
    RawQuery(raw): RawQuery,
) -> Result<axum::Json<Value>, AppError> {
    let as_of = workspace_query(raw.as_deref())?;
    let workspace = load_workspace(&state, viewer, id, as_of).await?;
    Ok(axum::Json(workspace_codec::part_to_json(&WorkspacePart::of(&workspace, part))))
}

async fn update_workspace_part(
    State(state): State<AppState>,
    viewer: Viewer,
    PartPath(id, name): PartPath,
    JsonBody(body): JsonBody,
) -> Result<axum::Json<Value>, AppError> {
    let part = workspace_codec::part_from_json(&RecordRef::new(OpportunityId::LABEL, id), name, &body)?;
    let workspace = write(&state, &viewer, move |tx, ctx| app::workspace::update_workspace(tx, ctx, OpportunityId(id), part)).await?;
    Ok(axum::Json(workspace_codec::to_json(&workspace)))
}

async fn list_workspace_flags(
    State(state): State<AppState>,
    viewer: Viewer,
    IdPath(id): IdPath,
    RawQuery(raw): RawQuery,
) -> Result<axum::Json<Page<Value>>, AppError> {
    let query = Query::parse(raw.as_deref(), &[Param::new("today", Ty::Date, "")])?;
    let today = today(&state, &query)?;
    let flags = read(&state, move |tx| {
        app::workspace::workspace_flags_for(tx, viewer.org, &viewer.access, OpportunityId(id), today)?
            .ok_or_else(|| not_found(OpportunityId::LABEL, id))
    })
    .await?;
    Ok(axum::Json(Page { data: flags.iter().map(flag_json).collect(), next_cursor: None }))
}

async fn create_pipeline_from_template(
    State(state): State<AppState>,
    viewer: Viewer,
    JsonBody(body): JsonBody,
) -> Result<Response, AppError> {
    let template = input::pipeline_template(&body)?;
    let (pipeline, _) = write(&state, &viewer, move |tx, ctx| app::designer::create_pipeline_from_template(tx, ctx, template)).await?;
    Ok(created(format!("/api/v1/pipelines/{}", pipeline.id), PipelineView::from(pipeline)))
}

async fn update_pipeline(
    State(state): State<AppState>,
    viewer: Viewer,
    IdPath(id): IdPath,
    JsonBody(body): JsonBody,
) -> Result<axum::Json<PipelineView>, AppError> {
    let patch = input::pipeline_patch(PipelineId(id), &body)?;
    let pipeline = write(&state, &viewer, move |tx, ctx| app::designer::update_pipeline(tx, ctx, PipelineId(id), &patch)).await?;
    Ok(axum::Json(PipelineView::from(pipeline)))
}

async fn create_stage(
    State(state): State<AppState>,
    viewer: Viewer,
    IdPath(id): IdPath,
    JsonBody(body): JsonBody,
) -> Result<Response, AppError> {
    let (stage, position) = input::new_stage(PipelineId(id), &body)?;
    let pipeline = write(&state, &viewer, move |tx, ctx| app::designer::add_stage(tx, ctx, PipelineId(id), stage, position)).await?;
    Ok(created(format!("/api/v1/pipelines/{id}"), PipelineView::from(pipeline)))
}

async fn reorder_stages(
    State(state): State<AppState>,
    viewer: Viewer,
    IdPath(id): IdPath,
    JsonBody(body): JsonBody,
) -> Result<axum::Json<PipelineView>, AppError> {
    let order = input::stage_order(PipelineId(id), &body)?;
    let pipeline = write(&state, &viewer, move |tx, ctx| app::designer::reorder_stages(tx, ctx, PipelineId(id), &order)).await?;
    Ok(axum::Json(PipelineView::from(pipeline)))
}

async fn update_stage(
    State(state): State<AppState>,
    viewer: Viewer,
    IdPath(id): IdPath,
    JsonBody(body): JsonBody,
) -> Result<axum::Json<StageView>, AppError> {
    let patch = input::stage_patch(StageId(id), &body)?;
    let stage = write(&state, &viewer, move |tx, ctx| app::designer::update_stage(tx, ctx, StageId(id), &patch)).await?;
    Ok(axum::Json(StageView::from(stage)))
}

async fn archive_stage(State(state): State<AppState>, viewer: Viewer, IdPath(id): IdPath) -> Result<axum::Json<StageView>, AppError> {
    let stage = write(&state, &viewer, move |tx, ctx| app::designer::archive_stage(tx, ctx, StageId(id))).await?;
    Ok(axum::Json(StageView::from(stage)))
}

async fn set_team_average_cycle(
    State(state): State<AppState>,
    viewer: Viewer,
    IdPath(id): IdPath,
    JsonBody(body): JsonBody,
) -> Result<Response, AppError> {
    let days = input::team_cycle(TeamId(id), &body)?;
    write(&state, &viewer, move |tx, ctx| app::gates::set_team_cycle_days(tx, ctx, TeamId(id), days)).await?;
    Ok(axum::http::StatusCode::NO_CONTENT.into_response())
}
