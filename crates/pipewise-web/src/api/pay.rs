//! Pay in the API (SPEC C9, issue 12 point 5): plans by version, assignments, statements whose
//! every line traces to its deal, credit, rule and version, locking, the what-if, and disputes.
//!
//! - `GET /api/v1/pay/plans`, `POST /api/v1/pay/plans` (ops, admins: a new version).
//! - `POST /api/v1/pay/assignments` (ops, admins).
//! - `GET /api/v1/pay/statements?user_id=` (the statements the viewer may read: their own, their
//!   reporting line's, everyone's for ops and admins), `POST /api/v1/pay/statements` (compute one,
//!   ops and admins; a locked one comes back unchanged), `GET /api/v1/pay/statements/{id}` (with
//!   its lines and disputes), `POST /api/v1/pay/statements/{id}/lock`.
//! - `GET /api/v1/pay/what-if?user_id=&period=&amount=`: what a deal of `amount` booked today adds.
//! - `POST /api/v1/pay/statements/{id}/disputes`, `POST /api/v1/pay/disputes/{id}/status`.

use axum::extract::RawQuery;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use pipewise_app::{self as app, input};
use pipewise_core::UserId;
use pipewise_core::history::Source;
use pipewise_core::money::Decimal;
use serde_json::{Value, json};

use super::db::Api;
use super::support::{IdPath, JsonBody, Query};
use super::{Param, Reply, Route, Ty};
use crate::error::{AppError, blocking};

const TAG: &str = "pay";

pub fn routes() -> Vec<Route> {
    let id = || Param::id("id", "The statement.");
    vec![
        Route::new(Method::GET, "/api/v1/pay/plans", "list_plans", list_plans)
            .summary(TAG, "Every version of every commission plan.")
            .reply(Reply::Json(200, "PlanList")),
        Route::new(Method::POST, "/api/v1/pay/plans", "save_plan", save_plan)
            .summary(TAG, "Save a plan's definition as its next version (ops and admins).")
            .body("PlanSave")
            .reply(Reply::Json(201, "PlanVersion")),
        Route::new(Method::POST, "/api/v1/pay/assignments", "assign_plan", assign_plan)
            .summary(TAG, "Pay a person under a plan from a day (ops and admins).")
            .body("PlanAssignment")
            .reply(Reply::Json(200, "PlanAssignment")),
        Route::new(Method::GET, "/api/v1/pay/statements", "list_statements", list_statements)
            .summary(TAG, "The statements the viewer may read, by period.")
            .query(vec![Param::id("user_id", "Only this person's.")])
            .reply(Reply::Json(200, "StatementList")),
        Route::new(Method::POST, "/api/v1/pay/statements", "compute_statement", compute_statement)
            .summary(TAG, "Compute a person's statement for a fiscal period (ops and admins); a locked one is returned unchanged.")
            .body("StatementRequest")
            .reply(Reply::Json(200, "Statement")),
        Route::new(Method::GET, "/api/v1/pay/statements/{id}", "get_statement", get_statement)
            .summary(TAG, "One statement with every line's trace and its disputes.")
            .path_param(id())
            .reply(Reply::Json(200, "Statement")),
        Route::new(Method::POST, "/api/v1/pay/statements/{id}/lock", "lock_statement", lock_statement)
            .summary(TAG, "Lock a statement: it is never computed again (ops and admins).")
            .path_param(id())
            .reply(Reply::Json(200, "Statement")),
        Route::new(Method::POST, "/api/v1/pay/statements/{id}/disputes", "open_dispute", open_dispute)
            .summary(TAG, "Dispute a statement or one of its lines (the payee or ops).")
            .path_param(id())
            .body("DisputeOpen")
            .reply(Reply::Json(201, "Dispute")),
        Route::new(Method::POST, "/api/v1/pay/disputes/{id}/status", "move_dispute", move_dispute)
            .summary(TAG, "Move a dispute one step: in_review, resolved (with a resolution), closed.")
            .path_param(Param::id("id", "The dispute."))
            .body("DisputeStep")
            .reply(Reply::Json(200, "Dispute")),
        Route::new(Method::GET, "/api/v1/opportunities/{id}/splits", "get_deal_splits", get_splits)
            .summary(TAG, "Who is credited with a deal: revenue shares adding up to it, overlay on top (none: its owner, all of it).")
            .path_param(Param::id("id", "The opportunity."))
            .reply(Reply::Json(200, "DealSplits")),
        Route::new(Method::PUT, "/api/v1/opportunities/{id}/splits", "set_deal_splits", set_splits)
            .summary(TAG, "Replace a deal's splits (ops, admins and the owner's managers); an empty list credits the owner with all of it.")
            .path_param(Param::id("id", "The opportunity."))
            .body("DealSplits")
            .reply(Reply::Json(200, "DealSplits")),
        Route::new(Method::GET, "/api/v1/opportunities/{id}/billing", "get_deal_billing", get_billing)
            .summary(
                TAG,
                "When a deal was invoiced and its cash received: a plan paid on invoice or cash counts its credit in that date's period.",
            )
            .path_param(Param::id("id", "The opportunity."))
            .reply(Reply::Json(200, "DealBilling")),
        Route::new(Method::PUT, "/api/v1/opportunities/{id}/billing", "set_deal_billing", set_billing)
            .summary(TAG, "Set a deal's invoice and cash dates (ops and admins); null or absent clears one.")
            .path_param(Param::id("id", "The opportunity."))
            .body("DealBillingSet")
            .reply(Reply::Json(200, "DealBilling")),
        Route::new(Method::GET, "/api/v1/pay/what-if", "pay_what_if", what_if)
            .summary(TAG, "What a deal of `amount` booked today would add to a person's pay for a period.")
            .query(vec![
                Param::id("user_id", "The person (one whose pay the viewer may read).").required(),
                Param::new("period", Ty::Period, "A fiscal period such as 2027-Q1.").required(),
                Param::new("amount", Ty::Decimal, "The deal's amount in the reporting currency, e.g. 20000.").required(),
            ])
            .names_records()
            .refusable()
            .reply(Reply::Json(200, "WhatIf")),
    ]
}

async fn list_plans(api: Api) -> Result<axum::Json<Value>, AppError> {
    let org = api.viewer.org;
    // Plans are pay: viewers, who read no pay, read none.
    if api.viewer.user.role == pipewise_core::user::Role::Viewer {
        return Ok(axum::Json(json!({ "data": [] })));
    }
    let plans = api.read(move |tx, _| Ok(app::pay::plans(tx, org)?)).await?;
    Ok(axum::Json(json!({ "data": plans.iter().map(app::pay::plan_json).collect::<Vec<_>>() })))
}

async fn save_plan(api: Api, JsonBody(body): JsonBody) -> Result<Response, AppError> {
    let (name, definition) = input::plan(&body)?;
    let plan = api.write(move |tx, ctx| app::pay::save_plan(tx, ctx, &name, &definition)).await?;
    Ok((StatusCode::CREATED, axum::Json(app::pay::plan_json(&plan))).into_response())
}

async fn assign_plan(api: Api, JsonBody(body): JsonBody) -> Result<axum::Json<Value>, AppError> {
    let (user, plan, first, last) = input::plan_assignment(&body)?;
    let assignment = api.write(move |tx, ctx| app::pay::assign_plan(tx, ctx, user, &plan, &first, last.as_deref())).await?;
    Ok(axum::Json(app::pay::assignment_json(&assignment)))
}

async fn list_statements(api: Api, RawQuery(raw): RawQuery) -> Result<axum::Json<Value>, AppError> {
    let query = Query::parse(raw.as_deref(), &[Param::id("user_id", "")])?;
    let user = query.id("user_id")?.map(UserId);
    let statements = api.read(move |tx, viewer| Ok(app::pay::statements(tx, viewer.org, &viewer.access, user)?)).await?;
    let data: Vec<Value> = statements
        .into_iter()
        .map(|stored| app::pay::decode_statement(stored).map(|pay| summary(&pay)))
        .collect::<Result<_, _>>()
        .map_err(AppError::from)?;
    Ok(axum::Json(json!({ "data": data })))
}

/// A statement without its lines.
fn summary(pay: &app::pay::PayStatement) -> Value {
    let mut value = app::pay::statement_json(pay);
    if let Some(object) = value.as_object_mut() {
        object.remove("lines");
    }
    value
}

async fn compute_statement(api: Api, JsonBody(body): JsonBody) -> Result<axum::Json<Value>, AppError> {
    let (user, period) = input::statement_request(&body)?;
    let ctx = api.viewer.ctx(Source::Api, api.state.now());
    let state = api.state.clone();
    let pay = blocking(move || {
        let insights = state.insights_for(ctx.org)?;
        insights.with(|projection| Ok(state.db.transact(|tx| app::pay::compute_statement(tx, &ctx, projection, user, &period))?))
    })
    .await?;
    Ok(axum::Json(with_disputes(&pay, &[])))
}

fn with_disputes(pay: &app::pay::PayStatement, disputes: &[app::StoredDispute]) -> Value {
    let mut value = app::pay::statement_json(pay);
    value["disputes"] = Value::Array(disputes.iter().map(app::pay::dispute_json).collect());
    value
}

async fn get_statement(api: Api, IdPath(id): IdPath) -> Result<axum::Json<Value>, AppError> {
    let reply = api
        .read(move |tx, viewer| {
            let pay = app::pay::statement(tx, viewer.org, &viewer.access, id)?
                .ok_or(AppError::NotFound { kind: "statement", id: id.to_string() })?;
            let disputes = app::pay::disputes(tx, viewer.org, &viewer.access, id)?;
            Ok(with_disputes(&pay, &disputes))
        })
        .await?;
    Ok(axum::Json(reply))
}

async fn lock_statement(api: Api, IdPath(id): IdPath) -> Result<axum::Json<Value>, AppError> {
    let stored = api.write(move |tx, ctx| app::pay::lock_statement(tx, ctx, id)).await?;
    let pay = app::pay::decode_statement(stored)?;
    Ok(axum::Json(with_disputes(&pay, &[])))
}

async fn open_dispute(api: Api, IdPath(id): IdPath, JsonBody(body): JsonBody) -> Result<Response, AppError> {
    let (line, note) = input::dispute(&body)?;
    let dispute = api.write(move |tx, ctx| app::pay::open_dispute(tx, ctx, id, line, &note)).await?;
    Ok((StatusCode::CREATED, axum::Json(app::pay::dispute_json(&dispute))).into_response())
}

async fn move_dispute(api: Api, IdPath(id): IdPath, JsonBody(body): JsonBody) -> Result<axum::Json<Value>, AppError> {
    let (status, resolution) = input::dispute_step(id, &body)?;
    let dispute = api.write(move |tx, ctx| app::pay::move_dispute(tx, ctx, id, status, resolution.as_deref())).await?;
    Ok(axum::Json(app::pay::dispute_json(&dispute)))
}

async fn get_splits(api: Api, IdPath(id): IdPath) -> Result<axum::Json<Value>, AppError> {
    let deal = pipewise_core::OpportunityId(id);
    let splits = api
        .read(move |tx, viewer| {
            app::pay::splits_of(tx, viewer.org, &viewer.access, deal)?.ok_or(AppError::NotFound { kind: "opportunity", id: id.to_string() })
        })
        .await?;
    Ok(axum::Json(json!({ "splits": splits.iter().map(app::pay::split_json).collect::<Vec<_>>() })))
}

async fn set_splits(api: Api, IdPath(id): IdPath, JsonBody(body): JsonBody) -> Result<axum::Json<Value>, AppError> {
    let deal = pipewise_core::OpportunityId(id);
    let splits = input::deal_splits(deal, &body)?;
    let stored = api.write(move |tx, ctx| app::pay::set_splits(tx, ctx, deal, &splits)).await?;
    Ok(axum::Json(json!({ "splits": stored.iter().map(app::pay::split_json).collect::<Vec<_>>() })))
}

async fn get_billing(api: Api, IdPath(id): IdPath) -> Result<axum::Json<Value>, AppError> {
    let deal = pipewise_core::OpportunityId(id);
    let billing = api
        .read(move |tx, viewer| {
            app::pay::billing_of(tx, viewer.org, &viewer.access, deal)?
                .ok_or(AppError::NotFound { kind: "opportunity", id: id.to_string() })
        })
        .await?;
    Ok(axum::Json(app::pay::billing_json(&billing)))
}

async fn set_billing(api: Api, IdPath(id): IdPath, JsonBody(body): JsonBody) -> Result<axum::Json<Value>, AppError> {
    let deal = pipewise_core::OpportunityId(id);
    let (invoiced_on, paid_on) = input::deal_billing(deal, &body)?;
    let stored = api.write(move |tx, ctx| app::pay::set_billing(tx, ctx, deal, invoiced_on.as_deref(), paid_on.as_deref())).await?;
    Ok(axum::Json(app::pay::billing_json(&stored)))
}

async fn what_if(api: Api, RawQuery(raw): RawQuery) -> Result<axum::Json<Value>, AppError> {
    let declared = [Param::id("user_id", ""), Param::new("period", Ty::Period, ""), Param::new("amount", Ty::Text, "")];
    let query = Query::parse(raw.as_deref(), &declared)?;
    let user = query.id("user_id")?.map(UserId).ok_or_else(|| AppError::BadRequest("query parameter user_id is required".into()))?;
    let period =
        query.text("period").map(str::to_owned).ok_or_else(|| AppError::BadRequest("query parameter period is required".into()))?;
    let amount = query
        .text("amount")
        .and_then(|raw| raw.parse::<Decimal>().ok())
        .filter(|amount| *amount > Decimal::ZERO && *amount < Decimal::from(1_000_000_000_000_i64))
        .ok_or_else(|| AppError::BadRequest("query parameter amount: a positive decimal is required".into()))?;
    let state = api.state.clone();
    let viewer = api.viewer.clone();
    let today = viewer.today(state.now());
    let added = blocking(move || {
        let insights = state.insights_for(viewer.org)?;
        let mut tx = state.db.read()?;
        Ok(insights.with(|projection| app::pay::what_if(&mut tx, viewer.org, &viewer.access, projection, user, &period, amount, today))?)
    })
    .await?;
    match added {
        Some(added) => Ok(axum::Json(
            json!({ "user_id": user.0, "period": query.text("period"), "amount": amount.to_string(), "added": added.to_string() }),
        )),
        None => Err(AppError::NotFound { kind: "plan for the period", id: user.to_string() }),
    }
}

pub fn schemas() -> Vec<(&'static str, Value)> {
    let decimal = || json!({ "type": "string", "description": "A decimal." });
    let nullable_decimal = || json!({ "type": ["string", "null"] });
    let plan = json!({
        "type": "object",
        "properties": {
            "name": { "type": "string" }, "version": { "type": "integer" },
            "definition": { "type": "object", "description": "currency, timing, ties, rounding, gate, cap, draw, clawback (window_days, mode: recompute or reclaim), ramp (fractions of quota by month of tenure), payout (currency, days_after) and components (commission, bonus, target_incentive, spiff)." },
            "created_at": { "type": "string" }, "created_by": { "type": ["integer", "null"] },
        },
        "required": ["name", "version", "definition", "created_at", "created_by"],
    });
    let line = json!({
        "type": "object",
        "properties": {
            "rule": { "type": "string" }, "version": { "type": "integer" }, "kind": { "type": "string" },
            "deal_id": { "type": ["integer", "null"] },
            "credit": { "type": ["object", "null"], "description": "split, share, amount, booked_on, fx (from, rate, on) and reversed_on (a reversal after the clawback window, kept) of the credit the line was earned on." },
            "tier": { "type": ["integer", "null"] }, "base": decimal(), "rate": nullable_decimal(),
            "unrounded": decimal(), "amount": decimal(),
            "corrects": { "type": ["object", "null"], "description": "The locked line an adjustment corrects: period_first and index." },
        },
        "required": ["rule", "version", "kind", "deal_id", "credit", "tier", "base", "rate", "unrounded", "amount", "corrects"],
    });
    let dispute = json!({
        "type": "object",
        "properties": {
            "id": { "type": "integer" }, "statement_id": { "type": "integer" }, "line": { "type": ["integer", "null"], "description": "0-based; null for the whole statement." },
            "line_label": { "type": ["string", "null"], "description": "What the line said when the dispute was opened." },
            "status": { "type": "string", "enum": ["open", "in_review", "resolved", "closed"] }, "note": { "type": "string" },
            "resolution": { "type": ["string", "null"] }, "opened_by": { "type": "integer" }, "opened_at": { "type": "string" },
            "updated_at": { "type": "string" }, "updated_by": { "type": ["integer", "null"] },
        },
        "required": ["id", "statement_id", "line", "line_label", "status", "note", "resolution", "opened_by", "opened_at", "updated_at", "updated_by"],
    });
    let statement_properties = json!({
        "id": { "type": "integer" }, "user_id": { "type": "integer" }, "kind": { "type": "string" },
        "period_first": { "type": "string" }, "period_last": { "type": "string" }, "plan": { "type": "string" }, "version": { "type": "integer" },
        "total": decimal(), "currency": { "type": "string" }, "status": { "type": "string", "enum": ["open", "locked"] },
        "computed_at": { "type": "string" }, "locked_at": { "type": ["string", "null"] },
        "attainment": { "type": ["object", "null"] }, "held": { "type": "integer" },
    });
    let mut full = statement_properties.clone();
    full["payout"] = json!({
        "type": ["object", "null"],
        "description": "For a plan paid out in another currency: currency, on (the payout day), rate and amount (null until that day's rate is final).",
    });
    full["lines"] = json!({ "type": "array", "items": line });
    full["disputes"] = json!({ "type": "array", "items": { "$ref": "#/components/schemas/Dispute" } });
    vec![
        ("PlanVersion", plan),
        (
            "PlanList",
            json!({ "type": "object", "properties": { "data": { "type": "array", "items": { "$ref": "#/components/schemas/PlanVersion" } } }, "required": ["data"] }),
        ),
        (
            "PlanSave",
            json!({ "type": "object", "properties": { "name": { "type": "string", "minLength": 1, "maxLength": 120 }, "definition": { "type": "object" } }, "required": ["name", "definition"], "additionalProperties": false }),
        ),
        (
            "PlanAssignment",
            json!({
                "type": "object",
                "properties": { "user_id": { "type": "integer", "minimum": 1 }, "plan": { "type": "string" }, "first_day": { "type": "string", "format": "date", "pattern": super::openapi::DATE_PATTERN }, "last_day": { "type": ["string", "null"], "format": "date", "pattern": super::openapi::DATE_PATTERN } },
                "required": ["user_id", "plan", "first_day"],
                "additionalProperties": false,
            }),
        ),
        (
            "StatementRequest",
            json!({ "type": "object", "properties": { "user_id": { "type": "integer", "minimum": 1 }, "period": { "type": "string" } }, "required": ["user_id", "period"], "additionalProperties": false }),
        ),
        (
            "Statement",
            json!({ "type": "object", "properties": full, "required": ["id", "user_id", "period_first", "period_last", "plan", "version", "total", "currency", "status", "lines"] }),
        ),
        (
            "StatementList",
            json!({ "type": "object", "properties": { "data": { "type": "array", "items": { "type": "object", "properties": statement_properties } } }, "required": ["data"] }),
        ),
        ("Dispute", dispute),
        (
            "DisputeOpen",
            json!({ "type": "object", "properties": { "line": { "type": ["integer", "null"], "minimum": 1 }, "note": { "type": "string", "minLength": 1, "maxLength": 4000 } }, "required": ["note"], "additionalProperties": false }),
        ),
        (
            "DisputeStep",
            json!({ "type": "object", "properties": { "status": { "type": "string", "enum": ["in_review", "resolved", "closed"] }, "resolution": { "type": ["string", "null"], "maxLength": 4000 } }, "required": ["status"], "additionalProperties": false }),
        ),
        (
            "DealSplits",
            json!({
                "type": "object",
                "properties": {
                    "splits": {
                        "type": "array",
                        "maxItems": 50,
                        "items": {
                            "type": "object",
                            "properties": {
                                "user_id": { "type": "integer", "minimum": 1 },
                                "kind": { "type": "string", "enum": ["revenue", "overlay"] },
                                "share": { "type": "string", "description": "A fraction: 0.5 is half the deal." },
                            },
                            "required": ["user_id", "kind", "share"],
                            "additionalProperties": false,
                        },
                    },
                },
                "required": ["splits"],
                "additionalProperties": false,
            }),
        ),
        (
            "DealBilling",
            json!({
                "type": "object",
                "properties": {
                    "opportunity_id": { "type": "integer" },
                    "invoiced_on": { "type": ["string", "null"], "format": "date" },
                    "paid_on": { "type": ["string", "null"], "format": "date" },
                },
                "required": ["opportunity_id", "invoiced_on", "paid_on"],
            }),
        ),
        (
            "DealBillingSet",
            json!({
                "type": "object",
                "properties": {
                    "invoiced_on": { "type": ["string", "null"], "format": "date", "pattern": super::openapi::DATE_PATTERN, "description": "YYYY-MM-DD, years 1900 to 2200." },
                    "paid_on": { "type": ["string", "null"], "format": "date", "pattern": super::openapi::DATE_PATTERN, "description": "YYYY-MM-DD, years 1900 to 2200." },
                },
                "additionalProperties": false,
            }),
        ),
        (
            "WhatIf",
            json!({ "type": "object", "properties": { "user_id": { "type": "integer" }, "period": { "type": "string" }, "amount": decimal(), "added": decimal() }, "required": ["user_id", "period", "amount", "added"] }),
        ),
    ]
}
