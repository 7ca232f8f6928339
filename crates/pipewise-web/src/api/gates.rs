//! Stage gates (SPEC C2) in the API.
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
//!
//! The deal workspace is in [`super::workspace`], the pipeline designer in [`super::designer`].

use app::gates::DealGates;
use axum::extract::RawQuery;
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use pipewise_app as app;
use pipewise_core::error::RecordRef;
use pipewise_core::gates::{ExitCriterion, MoveCheck, MoveKind};
use pipewise_core::*;
use serde_json::{Value, json};

use super::db::Api;
use super::describe::view;
use super::openapi::{Create, Field, Resource};
use super::support::{IdPath, JsonBody, Query, created, not_found};
use super::views::Page;
use super::{Param, Reply, Route, Ty};
use crate::error::AppError;
use crate::i18n::{self, Locale};
use pipewise_app::input;

const TAG: &str = "gates";

/// The `{id}` of a deal's path.
pub(super) fn deal_param() -> Param {
    Param::id("id", "The opportunity's id.")
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
            .query(vec![Param::new(
                "today",
                Ty::Date,
                "The day to judge date criteria on; today in the organisation's time zone by default.",
            )])
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
    vec![("StageMisses", stage_misses), ("MoveCheck", move_check)]
}

pub fn resources() -> Vec<Resource> {
    vec![
        Resource::of::<ExitCriterionView>()
            .create_only(Create::Required, &["stage_id", "label_en", "kind"])
            .create_only(Create::Optional, &["label_ko", "argument"]),
        Resource::new(
            "CriterionCheck",
            "A tick or an untick of a checklist item.",
            vec![
                Field::read("criterion_id", Ty::Id).create_only(Create::Required),
                Field::read("checked", Ty::Boolean).create_only(Create::Optional).doc("`true` (the default) ticks, `false` unticks."),
                Field::read("evidence", Ty::Text).create_only(Create::Optional).doc("Required for a tick: what shows it is true."),
            ],
        ),
        Resource::new(
            "LossReview",
            "A lesson from a lost deal, as a new checklist item.",
            vec![
                Field::read("stage_id", Ty::Id).create_only(Create::Optional).doc("By default the stage the deal was lost from."),
                Field::read("label_en", Ty::Text).create_only(Create::Required),
                Field::read("label_ko", Ty::Text).create_only(Create::Optional),
            ],
        ),
        Resource::new(
            "DealGates",
            "A deal's gates as of a day.",
            vec![
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
        ),
        Resource::new(
            "StageGate",
            "One open stage's gate as a checklist.",
            vec![
                Field::read("stage_id", Ty::Id),
                Field::read("stage_name_en", Ty::Text),
                Field::read("stage_name_ko", Ty::Text),
                Field::read("met", Ty::Integer),
                Field::read("total", Ty::Integer),
                Field::read("criteria", Ty::RefList("CriterionState")),
            ],
        ),
        Resource::new(
            "CriterionState",
            "One criterion and whether it holds, with the reason in English and Korean.",
            vec![
                Field::read("criterion", Ty::Ref("ExitCriterion")),
                Field::read("met", Ty::Boolean),
                Field::read("reason_en", Ty::Text),
                Field::read("reason_ko", Ty::Text),
                Field::read("checked_by", Ty::Id).nullable(),
                Field::read("checked_at", Ty::Time).nullable(),
                Field::read("evidence", Ty::Text).nullable(),
            ],
        ),
        Resource::new(
            "GateOverride",
            "A stage move pushed past unmet criteria: who, when, why, and what was unmet.",
            vec![
                Field::read("id", Ty::Id),
                Field::read("by", Ty::Id).nullable(),
                Field::read("at", Ty::Time),
                Field::read("reason", Ty::Text),
                Field::read("from_stage_id", Ty::Id),
                Field::read("to_stage_id", Ty::Id),
                Field::read("unmet", Ty::Json),
                Field::read("source", Ty::Text),
            ],
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// Views

view! {
    /// One exit criterion of one stage: a checklist item a person ticks, a required field, or a predicate derived from data.
    pub struct ExitCriterionView as "ExitCriterion" {
        id: i64 => Ty::Id,
        /// An open stage of the pipeline.
        stage_id: i64 => Ty::Id,
        label_en: String => Ty::Text,
        /// Defaults to the English label.
        label_ko: String => Ty::Text,
        kind: &'static str => Ty::Enum(vec!["checklist", "required_field", "derived"]),
        /// For `required_field` the field's name; for `derived` the predicate, e.g.
        /// `all(bant(budget, partial|confirmed), stakeholder(4, executive), decision_within(team))`.
        argument: Option<String> => Ty::Text,
        origin: &'static str => Ty::Enum(vec!["template", "ops", "loss_review"]),
        /// The lost deal a loss-review item came from.
        origin_opportunity_id: Option<i64> => Ty::Id,
    }
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
                        "reason_en": i18n::message(Locale::En, &unmet.reason), "reason_ko": i18n::message(Locale::Ko, &unmet.reason),
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
                        "criterion": ExitCriterionView::from(criterion.clone()), "met": status.met,
                        "reason_en": i18n::message(Locale::En, &status.reason), "reason_ko": i18n::message(Locale::Ko, &status.reason), "checked_by": status.check.as_ref().map(|check| check.checked_by.0),
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

// ---------------------------------------------------------------------------------------------
// Handlers

/// The day to judge criteria on: `?today=`, else today in the organisation's time zone.
pub(super) fn today(api: &Api, query: &Query) -> Result<Date, AppError> {
    Ok(query.parsed("today", pipewise_core::time::parse_date)?.unwrap_or_else(|| api.viewer.today(api.state.now())))
}

async fn list_exit_criteria(api: Api, IdPath(id): IdPath) -> Result<axum::Json<Page<ExitCriterionView>>, AppError> {
    let criteria = api.read(move |tx, viewer| Ok(app::gates::exit_criteria_for(tx, viewer.org, &viewer.access, PipelineId(id))?)).await?;
    Ok(axum::Json(Page { data: criteria.into_iter().map(ExitCriterionView::from).collect(), next_cursor: None }))
}

async fn create_exit_criterion(api: Api, IdPath(id): IdPath, JsonBody(body): JsonBody) -> Result<Response, AppError> {
    let new = input::new_exit_criterion(&body)?;
    let criterion = api
        .write(move |tx, ctx| {
            let pipeline = app::records::pipeline(tx, ctx.org, PipelineId(id))?
                .ok_or(pipewise_app::StoreError::NotFound { kind: PipelineId::LABEL, id })?;
            if pipeline.stage(new.stage_id).is_none() {
                let problem = Problem::Fact(Message::new("rule.stage_not_in_pipeline_id").text("stage", new.stage_id).text("pipeline", id));
                return Err(FieldError {
                    record: RecordRef::new_record(pipewise_core::gates::CRITERION_LABEL),
                    field: "stage_id",
                    problem,
                }
                .into());
            }
            app::gates::add_exit_criterion(tx, ctx, new)
        })
        .await?;
    Ok(created(format!("/api/v1/pipelines/{id}/criteria"), ExitCriterionView::from(criterion)))
}

async fn archive_exit_criterion(api: Api, IdPath(id): IdPath) -> Result<Response, AppError> {
    api.write(move |tx, ctx| app::gates::archive_exit_criterion(tx, ctx, id)).await?;
    Ok(axum::http::StatusCode::NO_CONTENT.into_response())
}

async fn gates_reply(api: &Api, id: i64, today: Date) -> Result<axum::Json<Value>, AppError> {
    let gates = api
        .read(move |tx, viewer| {
            app::gates::gate_status_for(tx, viewer.org, &viewer.access, OpportunityId(id), today)?
                .ok_or_else(|| not_found(OpportunityId::LABEL, id))
        })
        .await?;
    Ok(axum::Json(gates_json(gates)))
}

async fn get_opportunity_gates(api: Api, IdPath(id): IdPath, RawQuery(raw): RawQuery) -> Result<axum::Json<Value>, AppError> {
    let query = Query::parse(raw.as_deref(), &[Param::new("today", Ty::Date, "")])?;
    let today = today(&api, &query)?;
    gates_reply(&api, id, today).await
}

async fn check_criterion(api: Api, IdPath(id): IdPath, JsonBody(body): JsonBody) -> Result<axum::Json<Value>, AppError> {
    let check = input::criterion_check(OpportunityId(id), &body)?;
    api.write(move |tx, ctx| {
        if check.checked {
            app::gates::check_criterion(tx, ctx, OpportunityId(id), check.criterion_id, &check.evidence).map(|_| ())
        } else {
            app::gates::uncheck_criterion(tx, ctx, OpportunityId(id), check.criterion_id)
        }
    })
    .await?;
    let today = api.viewer.today(api.state.now());
    gates_reply(&api, id, today).await
}

async fn create_loss_review_criterion(api: Api, IdPath(id): IdPath, JsonBody(body): JsonBody) -> Result<Response, AppError> {
    let (stage_id, label_en, label_ko) = input::loss_review(OpportunityId(id), &body)?;
    let access = api.viewer.access.clone();
    let criterion = api
        .write(move |tx, ctx| {
            let stage_id = match stage_id {
                Some(stage_id) => stage_id,
                None => match app::gates::lost_from_stage_for(tx, ctx.org, &access, OpportunityId(id))? {
                    Some(stage_id) => stage_id,
                    None => {
                        let record = RecordRef::new(OpportunityId::LABEL, id);
                        let problem = Problem::Fact(Message::new("rule.lost_from_unknown"));
                        return Err(FieldError { record, field: "stage_id", problem }.into());
                    }
                },
            };
            app::gates::criterion_from_loss(tx, ctx, OpportunityId(id), stage_id, &label_en, &label_ko)
        })
        .await?;
    Ok(created(format!("/api/v1/pipelines/criteria/{}", criterion.id), ExitCriterionView::from(criterion)))
}
