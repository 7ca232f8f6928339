//! The organisation's settings in the API: its time zone, and its health thresholds (SPEC C5
//! "configurable thresholds"), which every health flag, signal and figure of the analytics
//! endpoints uses.
//!
//! - `GET /api/v1/settings/organisation`: the name, reporting currency and time zone (every
//!   day, period, as-of bound and "today" is the zone's). `PUT` changes the time zone (ops and
//!   admins; audited); figures are counted again in the new zone.
//! - `GET /api/v1/settings/health`: every threshold as the organisation has it, the defaults,
//!   and who last changed them when. Anyone signed in to the organisation may read them.
//! - `PUT /api/v1/settings/health`: replaces them, ops and admins only. The body names the
//!   thresholds to set; one left out (or `null`) takes its default, so `{}` resets them all.
//!   Every bad field is a 422 problem naming it; the reply is the new settings. Audited.
//!
//! The thresholds, their ranges and meanings come from `app::settings::HEALTH_THRESHOLDS`,
//! so the schema below cannot drift from what the store accepts.

use app::settings::{HEALTH_THRESHOLDS, HealthSettings, ThresholdUnit, health_thresholds_json};
use axum::http::Method;
use pipewise_app as app;
use serde_json::{Map, Value, json};

use super::db::Api;
use super::support::JsonBody;
use super::{Reply, Route};
use crate::error::AppError;
use pipewise_app::input;

const TAG: &str = "settings";

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::GET, "/api/v1/settings/organisation", "get_organisation_settings", get_organisation_settings)
            .summary(TAG, "The organisation's name, reporting currency and time zone.")
            .reply(Reply::Json(200, "OrganisationSettings")),
        Route::new(Method::PUT, "/api/v1/settings/organisation", "set_organisation_settings", set_organisation_settings)
            .summary(TAG, "Set the organisation's time zone, in which its days, periods and figures are counted, and the month its fiscal years start in (ops and admins).")
            .body("OrganisationSettingsUpdate")
            .reply(Reply::Json(200, "OrganisationSettings")),
        Route::new(Method::GET, "/api/v1/settings/health", "get_health_settings", get_health_settings)
            .summary(TAG, "The organisation's health thresholds, with the defaults and their last change.")
            .reply(Reply::Json(200, "HealthSettings")),
        Route::new(Method::PUT, "/api/v1/settings/health", "set_health_settings", set_health_settings)
            .summary(TAG, "Replace the health thresholds (ops and admins); a threshold left out takes its default, `{}` resets all.")
            .body("HealthThresholdsUpdate")
            .reply(Reply::Json(200, "HealthSettings")),
    ]
}

fn settings_json(settings: &HealthSettings) -> Value {
    json!({
        "thresholds": health_thresholds_json(&settings.thresholds),
        "defaults": health_thresholds_json(&Default::default()),
        "updated_at": settings.updated_at.map(|at| at.to_string()),
        "updated_by": settings.updated_by.map(|id| id.0),
    })
}

fn organisation_json(organisation: &app::Organisation) -> Value {
    json!({
        "name": organisation.name,
        "reporting_currency": organisation.reporting_currency.code(),
        "time_zone": organisation.time_zone.name(),
        "fiscal_year_start_month": organisation.fiscal.start_month(),
    })
}

async fn get_organisation_settings(api: Api) -> Result<axum::Json<Value>, AppError> {
    let org = api.viewer.org;
    let organisation = api
        .read(move |tx, _| app::users::organisation(tx, org)?.ok_or(AppError::NotFound { kind: "organisation", id: org.to_string() }))
        .await?;
    Ok(axum::Json(organisation_json(&organisation)))
}

async fn set_organisation_settings(api: Api, JsonBody(body): JsonBody) -> Result<axum::Json<Value>, AppError> {
    let settings = input::organisation_settings(api.viewer.org, &body)?;
    let organisation = api
        .write(move |tx, ctx| {
            let mut organisation = None;
            if let Some(zone) = &settings.time_zone {
                organisation = Some(app::settings::set_time_zone(tx, ctx, zone)?);
            }
            if let Some(month) = settings.fiscal_year_start_month {
                organisation = Some(app::quotas::set_fiscal_year_start(tx, ctx, month)?);
            }
            Ok(organisation.expect("the body names a field"))
        })
        .await?;
    // This instance counts in the new zone from the next read; others see it at their next refresh.
    api.state.forget_insights(api.viewer.org);
    Ok(axum::Json(organisation_json(&organisation)))
}

async fn get_health_settings(api: Api) -> Result<axum::Json<Value>, AppError> {
    let org = api.viewer.org;
    let settings = api.read(move |tx, _| Ok(app::settings::health_settings(tx, org)?)).await?;
    Ok(axum::Json(settings_json(&settings)))
}

async fn set_health_settings(api: Api, JsonBody(body): JsonBody) -> Result<axum::Json<Value>, AppError> {
    let thresholds = input::health_thresholds(api.viewer.org, &body)?;
    let settings = api.write(move |tx, ctx| app::settings::set_health_thresholds(tx, ctx, &thresholds)).await?;
    Ok(axum::Json(settings_json(&settings)))
}

/// The schemas, one property per threshold with its range and meaning.
pub fn schemas() -> Vec<(&'static str, Value)> {
    let property = |setting: &app::settings::ThresholdSetting| {
        let unit = match setting.unit {
            ThresholdUnit::Days => "days",
            ThresholdUnit::Count => "count",
            ThresholdUnit::Percent => "percent",
            ThresholdUnit::BasisPoints => "basis points",
        };
        json!({
            "type": "integer",
            "minimum": setting.min,
            "maximum": setting.max,
            "default": setting.default_value(),
            "description": format!("{} Unit: {unit}.", setting.description),
        })
    };
    let properties: Map<String, Value> = HEALTH_THRESHOLDS.iter().map(|setting| (setting.name.to_owned(), property(setting))).collect();
    let nullable: Map<String, Value> = HEALTH_THRESHOLDS
        .iter()
        .map(|setting| {
            let mut schema = property(setting);
            schema["type"] = json!(["integer", "null"]);
            (setting.name.to_owned(), schema)
        })
        .collect();
    let names: Vec<&str> = HEALTH_THRESHOLDS.iter().map(|setting| setting.name).collect();
    let thresholds = json!({
        "type": "object",
        "description": "Every health threshold (SPEC C5), by name.",
        "properties": properties,
        "required": names,
        "additionalProperties": false,
    });
    vec![
        (
            "OrganisationSettings",
            json!({
                "type": "object",
                "description": "The organisation: its name, the currency figures are converted into, and the time zone its days are counted in.",
                "properties": {
                    "name": { "type": "string" },
                    "reporting_currency": { "type": "string", "description": "ISO 4217 code." },
                    "time_zone": { "type": "string", "description": "IANA time zone, e.g. Asia/Seoul; UTC until set." },
                    "fiscal_year_start_month": { "type": "integer", "minimum": 1, "maximum": 12, "description": "The month fiscal years start in (1 is January); a fiscal year is named by the calendar year it ends in." },
                },
                "required": ["name", "reporting_currency", "time_zone", "fiscal_year_start_month"],
                "additionalProperties": false,
            }),
        ),
        (
            "OrganisationSettingsUpdate",
            json!({
                "type": "object",
                "description": "The organisation's new time zone, fiscal year start, or both. Unknown fields are refused.",
                "properties": {
                    "time_zone": { "type": "string", "minLength": 1, "maxLength": 64, "description": "An IANA time zone such as Asia/Seoul or America/Los_Angeles." },
                    "fiscal_year_start_month": { "type": "integer", "minimum": 1, "maximum": 12, "description": "The month fiscal years start in (1 is January)." },
                },
                "minProperties": 1,
                "additionalProperties": false,
            }),
        ),
        ("HealthThresholds", thresholds),
        (
            "HealthThresholdsUpdate",
            json!({
                "type": "object",
                "description": "The health thresholds to set. One left out, or null, takes its default: `{}` resets them all. \
                    `multi_threaded_min_contacts` must exceed `single_threaded_max_contacts`. Unknown fields are refused.",
                "properties": nullable,
                "additionalProperties": false,
            }),
        ),
        (
            "HealthSettings",
            json!({
                "type": "object",
                "description": "The organisation's health thresholds, which every health flag, signal and figure uses.",
                "properties": {
                    "thresholds": { "$ref": "#/components/schemas/HealthThresholds" },
                    "defaults": { "$ref": "#/components/schemas/HealthThresholds" },
                    "updated_at": { "type": ["string", "null"], "format": "date-time", "description": "The last change; null while the defaults were never changed." },
                    "updated_by": { "type": ["integer", "null"], "description": "Who made the last change (null: the system, or never changed)." },
                },
                "required": ["thresholds", "defaults", "updated_at", "updated_by"],
                "additionalProperties": false,
            }),
        ),
    ]
}
