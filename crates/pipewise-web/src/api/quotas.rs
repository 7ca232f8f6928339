//! Quotas in the API (SPEC C8, issue 12): one amount in the reporting currency per person or
//! team per fiscal period of the organisation's calendar (`2027`, `2027-Q1`, `2027-M03`,
//! `2027-W05`).
//!
//! - `GET /api/v1/quotas?period=2027`: the quotas overlapping the period (the current fiscal year
//!   by default) that the viewer may read: their own and their reports', and those of the teams
//!   these people are in; everyone's for ops, admins and viewers.
//! - `PUT`/`DELETE /api/v1/quotas/users/{id}/{period}` and `/api/v1/quotas/teams/{id}/{period}`:
//!   set (`{"amount": "120000"}`, replacing any) or remove one quota. Ops and admins; audited.
//! - `POST /api/v1/quotas/seasonal`: spreads a year's amount over its quarters or months by
//!   seasonality weights, exact to the minor unit.
//! - `GET /api/v1/quotas/export` and `POST /api/v1/quotas/import`: the same quotas as a CSV file
//!   (`subject,who,name,period,first_day,last_day,amount,currency`); an import is all or nothing,
//!   every bad line named with its column, and an empty amount removes a quota.

use axum::body::Bytes;
use axum::extract::RawQuery;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pipewise_app::{self as app, QuotaSubject, input};
use pipewise_core::fiscal::{FiscalPeriod, PeriodKind};
use pipewise_core::{TeamId, UserId};
use serde_json::{Value, json};

use super::db::Api;
use super::support::{IdAndSegment, JsonBody, Query};
use super::{Param, Reply, Route, Ty};
use crate::error::AppError;

const TAG: &str = "quotas";

pub fn routes() -> Vec<Route> {
    let period_query =
        || vec![Param::new("period", Ty::Period, "A fiscal period such as 2027 or 2027-Q1. Default: the current fiscal year.")];
    let subject_path = |route: Route| {
        route.path_param(Param::id("id", "The user or team.")).path_param(Param::new(
            "period",
            Ty::Period,
            "A fiscal period: 2027, 2027-Q1, 2027-M03 or 2027-W05.",
        ))
    };
    vec![
        Route::new(Method::GET, "/api/v1/quotas", "list_quotas", list_quotas)
            .summary(TAG, "The quotas overlapping a fiscal period that the viewer may read.")
            .query(period_query())
            .reply(Reply::Json(200, "QuotaList")),
        Route::new(Method::GET, "/api/v1/quotas/export", "export_quotas", export_quotas)
            .summary(TAG, "The same quotas as a CSV file: subject, who, name, period, first_day, last_day, amount, currency.")
            .query(period_query())
            .reply(Reply::Csv),
        Route::new(Method::POST, "/api/v1/quotas/import", "import_quotas", import_quotas)
            .summary(TAG, "Set or remove quotas from a CSV file (subject, who, period, amount), all or nothing (ops and admins).")
            .csv_body()
            .reply(Reply::Json(200, "QuotaImport")),
        Route::new(Method::POST, "/api/v1/quotas/seasonal", "spread_quotas", spread_quotas)
            .summary(TAG, "Spread a fiscal year's amount over its quarters or months by seasonality weights (ops and admins).")
            .body("SeasonalQuotas")
            .reply(Reply::Json(200, "QuotaList")),
        subject_path(Route::new(Method::PUT, "/api/v1/quotas/users/{id}/{period}", "set_user_quota", set_user_quota))
            .summary(TAG, "Set a person's quota for a fiscal period, replacing any (ops and admins).")
            .body("QuotaAmount")
            .reply(Reply::Json(200, "Quota")),
        subject_path(Route::new(Method::DELETE, "/api/v1/quotas/users/{id}/{period}", "remove_user_quota", remove_user_quota))
            .summary(TAG, "Remove a person's quota for a fiscal period (ops and admins)."),
        subject_path(Route::new(Method::PUT, "/api/v1/quotas/teams/{id}/{period}", "set_team_quota", set_team_quota))
            .summary(TAG, "Set a team's quota for a fiscal period, replacing any (ops and admins).")
            .body("QuotaAmount")
            .reply(Reply::Json(200, "Quota")),
        subject_path(Route::new(Method::DELETE, "/api/v1/quotas/teams/{id}/{period}", "remove_team_quota", remove_team_quota))
            .summary(TAG, "Remove a team's quota for a fiscal period (ops and admins)."),
    ]
}

/// The fiscal period `period` names in the organisation's calendar, or its current fiscal year.
fn period_of(
    tx: &mut app::Tx,
    api_viewer: &crate::auth::Viewer,
    raw: Option<&str>,
    today: pipewise_core::Date,
) -> Result<FiscalPeriod, AppError> {
    let org = api_viewer.org;
    let organisation = app::users::organisation(tx, org)?.ok_or(AppError::NotFound { kind: "organisation", id: org.to_string() })?;
    match raw {
        None => Ok(organisation.fiscal.period_of(PeriodKind::Year, today)),
        Some(raw) => {
            organisation.fiscal.parse_key(raw).map_err(|problem| AppError::BadRequest(format!("query parameter period: {problem}")))
        }
    }
}

fn period_json(period: &FiscalPeriod) -> Value {
    json!({ "key": period.key(), "start": period.first.to_string(), "end": period.last.to_string() })
}

async fn list_quotas(api: Api, RawQuery(raw): RawQuery) -> Result<axum::Json<Value>, AppError> {
    let query = Query::parse(raw.as_deref(), &[Param::new("period", Ty::Period, "")])?;
    let asked = query.text("period").map(str::to_owned);
    let today = api.viewer.today(api.state.now());
    let reply = api
        .read(move |tx, viewer| {
            let period = period_of(tx, viewer, asked.as_deref(), today)?;
            let organisation = app::users::organisation(tx, viewer.org)?.expect("read above");
            let quotas = app::quotas::quotas_in(tx, viewer.org, &viewer.access, &period)?;
            let data: Vec<Value> = quotas.iter().map(|quota| app::quotas::quota_json(quota, &organisation.fiscal)).collect();
            Ok(json!({ "period": period_json(&period), "fiscal_year_start_month": organisation.fiscal.start_month(), "data": data }))
        })
        .await?;
    Ok(axum::Json(reply))
}

async fn export_quotas(api: Api, RawQuery(raw): RawQuery) -> Result<Response, AppError> {
    let query = Query::parse(raw.as_deref(), &[Param::new("period", Ty::Period, "")])?;
    let asked = query.text("period").map(str::to_owned);
    let today = api.viewer.today(api.state.now());
    let (key, csv) = api
        .read(move |tx, viewer| {
            let period = period_of(tx, viewer, asked.as_deref(), today)?;
            Ok((period.key(), app::quotas::export_csv(tx, viewer.org, &viewer.access, &period)?))
        })
        .await?;
    let disposition = format!("attachment; filename=\"quotas-{key}.csv\"");
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, disposition)], csv)
        .into_response())
}

async fn import_quotas(api: Api, body: Bytes) -> Result<axum::Json<Value>, AppError> {
    let text = String::from_utf8(body.to_vec()).map_err(|_| AppError::BadRequest("the request body is not UTF-8 text".into()))?;
    let outcome = api.write(move |tx, ctx| app::quotas::import_csv(tx, ctx, &text)).await?;
    Ok(axum::Json(json!({ "set": outcome.set, "removed": outcome.removed, "unchanged": outcome.unchanged })))
}

async fn spread_quotas(api: Api, JsonBody(body): JsonBody) -> Result<axum::Json<Value>, AppError> {
    let spread = input::seasonal_quotas(&body)?;
    let (quotas, calendar) = api
        .write(move |tx, ctx| {
            let quotas =
                app::quotas::set_seasonal_quotas(tx, ctx, spread.subject, &spread.year, spread.kind, &spread.amount, &spread.weights)?;
            let calendar = app::users::organisation(tx, ctx.org)?.map(|organisation| organisation.fiscal).unwrap_or_default();
            Ok((quotas, calendar))
        })
        .await?;
    let data: Vec<Value> = quotas.iter().map(|quota| app::quotas::quota_json(quota, &calendar)).collect();
    let period = quotas.first().map(|quota| calendar.period_of(PeriodKind::Year, quota.first));
    Ok(axum::Json(json!({
        "period": period.as_ref().map_or(Value::Null, period_json),
        "fiscal_year_start_month": calendar.start_month(),
        "data": data,
    })))
}

async fn set_quota(api: Api, subject: QuotaSubject, period: String, body: Value) -> Result<axum::Json<Value>, AppError> {
    let amount = input::quota_amount(&body)?;
    let (quota, calendar) = api
        .write(move |tx, ctx| {
            let quota = app::quotas::set_quota(tx, ctx, subject, &period, &amount)?;
            let calendar = app::users::organisation(tx, ctx.org)?.map(|organisation| organisation.fiscal).unwrap_or_default();
            Ok((quota, calendar))
        })
        .await?;
    Ok(axum::Json(app::quotas::quota_json(&quota, &calendar)))
}

async fn remove_quota(api: Api, subject: QuotaSubject, period: String) -> Result<Response, AppError> {
    let key = period.clone();
    let removed = api.write(move |tx, ctx| app::quotas::remove_quota(tx, ctx, subject, &period)).await?;
    if removed { Ok(StatusCode::NO_CONTENT.into_response()) } else { Err(AppError::NotFound { kind: "quota", id: key }) }
}

async fn set_user_quota(api: Api, IdAndSegment(id, period): IdAndSegment, JsonBody(body): JsonBody) -> Result<axum::Json<Value>, AppError> {
    super::support::check_typed("path parameter period", Some(&Ty::Period), &period)?;
    set_quota(api, QuotaSubject::User(UserId(id)), period, body).await
}

async fn set_team_quota(api: Api, IdAndSegment(id, period): IdAndSegment, JsonBody(body): JsonBody) -> Result<axum::Json<Value>, AppError> {
    super::support::check_typed("path parameter period", Some(&Ty::Period), &period)?;
    set_quota(api, QuotaSubject::Team(TeamId(id)), period, body).await
}

async fn remove_user_quota(api: Api, IdAndSegment(id, period): IdAndSegment) -> Result<Response, AppError> {
    super::support::check_typed("path parameter period", Some(&Ty::Period), &period)?;
    remove_quota(api, QuotaSubject::User(UserId(id)), period).await
}

async fn remove_team_quota(api: Api, IdAndSegment(id, period): IdAndSegment) -> Result<Response, AppError> {
    super::support::check_typed("path parameter period", Some(&Ty::Period), &period)?;
    remove_quota(api, QuotaSubject::Team(TeamId(id)), period).await
}

pub fn schemas() -> Vec<(&'static str, Value)> {
    let period = json!({
        "type": "object",
        "properties": { "key": { "type": "string" }, "start": { "type": "string", "format": "date" }, "end": { "type": "string", "format": "date" } },
        "required": ["key", "start", "end"],
    });
    let quota = json!({
        "type": "object",
        "description": "One quota: whose, for which fiscal period, how much in the reporting currency.",
        "properties": {
            "subject": { "type": "string", "enum": ["user", "team"] },
            "id": { "type": "integer" },
            "period": { "type": "string", "description": "The fiscal period's key (2027-Q1); its first day for a quota set under an earlier calendar." },
            "kind": { "type": "string", "enum": ["year", "quarter", "month", "week"] },
            "first_day": { "type": "string", "format": "date" },
            "last_day": { "type": "string", "format": "date" },
            "amount": { "type": "string", "description": "A decimal in the reporting currency." },
            "currency": { "type": "string" },
        },
        "required": ["subject", "id", "period", "kind", "first_day", "last_day", "amount", "currency"],
        "additionalProperties": false,
    });
    let amount = json!({ "oneOf": [{ "type": "string", "maxLength": 40 }, { "type": "number" }], "description": "A non-negative decimal in the reporting currency." });
    vec![
        ("Quota", quota),
        (
            "QuotaList",
            json!({
                "type": "object",
                "properties": {
                    "period": { "oneOf": [period, { "type": "null" }] },
                    "fiscal_year_start_month": { "type": "integer", "minimum": 1, "maximum": 12 },
                    "data": { "type": "array", "items": { "$ref": "#/components/schemas/Quota" } },
                },
                "required": ["period", "fiscal_year_start_month", "data"],
            }),
        ),
        (
            "QuotaAmount",
            json!({ "type": "object", "properties": { "amount": amount }, "required": ["amount"], "additionalProperties": false }),
        ),
        (
            "SeasonalQuotas",
            json!({
                "type": "object",
                "description": "A fiscal year's amount spread over its quarters (4 weights) or months (12 weights).",
                "properties": {
                    "subject": { "type": "string", "enum": ["user", "team"] },
                    "id": { "type": "integer", "minimum": 1 },
                    "year": { "type": "string", "description": "A fiscal year such as 2027." },
                    "kind": { "type": "string", "enum": ["quarter", "month"] },
                    "amount": amount,
                    "weights": { "type": "array", "minItems": 4, "maxItems": 12, "items": { "oneOf": [{ "type": "number", "minimum": 0 }, { "type": "string" }] } },
                },
                "required": ["subject", "id", "year", "kind", "amount", "weights"],
                "additionalProperties": false,
            }),
        ),
        (
            "QuotaImport",
            json!({
                "type": "object",
                "properties": { "set": { "type": "integer" }, "removed": { "type": "integer" }, "unchanged": { "type": "integer" } },
                "required": ["set", "removed", "unchanged"],
                "additionalProperties": false,
            }),
        ),
    ]
}
