//! The OpenAPI schemas of the analytics replies, written by hand: one function a schema or part.

use pipewise_analytics::WaterfallBucket;
use serde_json::{Value, json};

use super::TREND_METRICS;

pub fn schemas() -> Vec<(&'static str, Value)> {
    vec![
        ("AnalyticsDashboard", analytics_dashboard()),
        ("AnalyticsPipeline", with_header(json!({ "pipeline": pipeline() }), &["pipeline"])),
        ("AnalyticsWaterfall", with_header(json!({ "waterfall": waterfall() }), &["waterfall"])),
        ("AnalyticsHealth", analytics_health()),
        ("AnalyticsTrend", analytics_trend()),
        ("AnalyticsLeaderboard", with_header(json!({ "leaderboard": { "type": "array", "items": leader() } }), &["leaderboard"])),
        ("DealHealth", deal_health()),
        ("AnalyticsForecast", with_header(json!({ "forecast": forecast() }), &["forecast"])),
    ]
}

fn money() -> Value {
    json!({ "type": "string", "description": "Reporting-currency amount, e.g. `USD 1234.50`." })
}

fn ratio() -> Value {
    json!({ "type": ["string", "null"], "description": "A decimal ratio to 4 places; null when undefined." })
}

fn ids() -> Value {
    json!({ "type": "array", "items": { "type": "integer" }, "description": "Up to `limit` ids of the deals behind the figure." })
}

/// The properties every reply starts with (`render::header`).
fn header() -> Value {
    json!({
        "as_of": { "type": "string", "format": "date" },
        "currency": { "type": "string" },
        "period": {
            "type": "object",
            "properties": {
                "start": { "type": "string" }, "end": { "type": "string" },
                "key": { "type": ["string", "null"], "description": "The fiscal period (2027-Q1), unless period_start and period_end gave the days." },
            },
        },
        "window": { "type": "object", "properties": { "start": { "type": "string" }, "end": { "type": "string" } } },
        "filters": { "type": "object" },
    })
}

/// A reply: the [`header`]'s properties, then `more`, all of the header and `required` required.
fn with_header(more: Value, required: &[&str]) -> Value {
    let header = header();
    let mut properties = header.as_object().expect("an object").clone();
    properties.extend(more.as_object().expect("an object").clone());
    let mut all = vec!["as_of", "currency", "period", "window", "filters"];
    all.extend(required);
    json!({ "type": "object", "properties": properties, "required": all })
}

fn stage_line() -> Value {
    json!({
        "type": "object",
        "properties": {
            "stage_id": { "type": "integer" }, "pipeline_id": { "type": "integer" }, "stage_name": { "type": "string" },
            "count": { "type": "integer" }, "amount": money(), "weighted_amount": money(),
            "deals": { "type": "string", "description": "The opportunity list filtered to this stage (current state)." },
            "deal_ids": ids(),
        },
        "required": ["stage_id", "pipeline_id", "stage_name", "count", "amount", "weighted_amount", "deals"],
    })
}

fn pipeline() -> Value {
    json!({
        "type": "object",
        "properties": {
            "lines": { "type": "array", "items": stage_line() },
            "count": { "type": "integer" },
            "amount": money(),
            "weighted_amount": money(),
            "omitted": {
                "type": "object",
                "description": "Open deals of counting stages forecast as Omitted: left out of the pipeline, coverage and velocity.",
                "properties": { "count": { "type": "integer" }, "amount": money() },
                "required": ["count", "amount"],
            },
        },
        "required": ["lines", "count", "amount", "weighted_amount", "omitted"],
    })
}

fn bucket() -> Value {
    json!({
        "type": "object",
        "properties": {
            "bucket": { "type": "string", "enum": WaterfallBucket::ALL.map(WaterfallBucket::as_str) },
            "count": { "type": "integer" }, "amount": money(), "deal_ids": ids(),
        },
        "required": ["bucket", "count", "amount"],
    })
}

fn waterfall() -> Value {
    json!({
        "type": "object",
        "properties": {
            "from": { "type": "string" }, "to": { "type": "string" }, "period": { "type": ["object", "null"] },
            "buckets": { "type": "array", "items": bucket() },
            "reconciles": { "type": "boolean", "description": "start + movements = end, to the cent and in count." },
        },
        "required": ["from", "to", "period", "buckets", "reconciles"],
    })
}

fn flag() -> Value {
    json!({
        "type": "object",
        "properties": {
            "code": { "type": "string" }, "stage_id": { "type": ["integer", "null"] }, "value": { "type": "integer" },
            "limit": { "type": "integer" }, "total": { "type": "integer" }, "reason": { "type": "string" },
        },
        "required": ["code", "stage_id", "value", "limit", "total", "reason"],
    })
}

fn lever() -> Value {
    json!({
        "type": ["object", "null"],
        "properties": {
            "lever": { "type": "string", "enum": ["fill_the_funnel", "convert_what_you_have"] },
            "coverage": ratio(), "win_rate_by_value": ratio(), "reason": { "type": "string" },
        },
    })
}

fn report() -> Value {
    json!({
        "type": "object",
        "properties": {
            "subject": { "type": "string", "enum": ["organisation", "team", "rep"] }, "id": { "type": ["integer", "null"] },
            "open_deals": { "type": "integer" }, "flagged_deals": { "type": "integer" },
            "deal_counts": { "type": "object", "description": "Open deals carrying each per-deal flag or signal." },
            "flags": { "type": "array", "items": flag() }, "signals": { "type": "array", "items": flag() }, "lever": lever(),
        },
        "required": ["subject", "id", "open_deals", "flagged_deals", "deal_counts", "flags", "signals", "lever"],
    })
}

fn deal_health() -> Value {
    json!({
        "type": "object",
        "properties": { "opportunity_id": { "type": "integer" }, "flags": { "type": "array", "items": flag() }, "signals": { "type": "array", "items": flag() } },
        "required": ["opportunity_id", "flags", "signals"],
    })
}

fn leader() -> Value {
    json!({
        "type": "object",
        "properties": {
            "user_id": { "type": "integer" }, "won_amount": money(), "won_count": { "type": "integer" }, "quota": { "type": ["string", "null"] },
            "attainment": ratio(), "pipeline_amount": money(), "open_deals": { "type": "integer" }, "open_closing_in_period": money(),
            "open_deals_closing_in_period": { "type": "integer" }, "win_rate": ratio(), "average_cycle_days": ratio(),
            "deals": { "type": "string" },
        },
        "required": ["user_id", "won_amount", "won_count", "pipeline_amount", "open_deals", "win_rate", "average_cycle_days", "deals"],
    })
}

fn outcomes() -> Value {
    json!({
        "type": "object",
        "properties": {
            "won": { "type": "integer" }, "lost": { "type": "integer" }, "won_amount": money(), "lost_amount": money(),
            "dropped": { "type": "integer" }, "win_rate": ratio(), "win_rate_by_value": ratio(), "average_cycle_days": ratio(),
            "average_deal_size": { "type": ["string", "null"] },
        },
    })
}

fn analytics_dashboard() -> Value {
    with_header(
        json!({
            "pipeline": pipeline(), "coverage": { "type": ["object", "null"] }, "outcomes": outcomes(),
            "velocity": { "type": ["object", "null"] }, "waterfall": waterfall(),
            "health": { "type": "object", "properties": { "summary": report(), "teams_flagged": { "type": "integer" }, "reps_flagged": { "type": "integer" } } },
            "leaderboard": { "type": "array", "items": leader() },
        }),
        &["pipeline", "coverage", "outcomes", "velocity", "waterfall", "health", "leaderboard"],
    )
}

fn analytics_health() -> Value {
    with_header(
        json!({
            "summary": report(), "teams": { "type": "array", "items": report() }, "reps": { "type": "array", "items": report() },
            "flagged_deals": { "type": "array", "items": deal_health() },
        }),
        &["summary", "teams", "reps", "flagged_deals"],
    )
}

fn analytics_trend() -> Value {
    with_header(
        json!({
            "metric": { "type": "string", "enum": TREND_METRICS }, "every": { "type": "integer" },
            "points": { "type": "array", "items": { "type": "object", "properties": { "day": { "type": "string" }, "value": {} }, "required": ["day", "value"] } },
        }),
        &["metric", "every", "points"],
    )
}

fn forecast() -> Value {
    let count_and_amount = || json!({ "type": "object", "properties": { "deals": { "type": "integer" }, "amount": money() }, "required": ["deals", "amount"] });
    json!({
        "type": "object",
        "properties": {
            "basis": { "type": "string", "enum": ["statistical", "stage_weighted"], "description": "stage_weighted: below the data floor, the stage-weighted pipeline and no range." },
            "expected": money(),
            "range": {
                "type": ["object", "null"],
                "properties": { "p10": money(), "p50": money(), "p90": money() },
                "required": ["p10", "p50", "p90"],
            },
            "won": money(),
            "won_deals": { "type": "integer" },
            "open": count_and_amount(),
            "due": count_and_amount(),
            "stage_weighted": money(),
            "run_rate": {
                "type": "object",
                "properties": {
                    "windows": { "type": "integer" },
                    "deals_per_window": { "type": "string" },
                    "trend": { "type": "string", "description": "What the past windows' rate was scaled by: deals the scope created lately over then." },
                    "expected": money(),
                },
                "required": ["windows", "deals_per_window", "trend", "expected"],
            },
            "quota": { "type": ["string", "null"] },
            "gap_to_quota": { "type": ["string", "null"], "description": "Quota minus the expected total." },
            "evidence": {
                "type": "object",
                "properties": {
                    "since": { "type": ["string", "null"], "format": "date" },
                    "snapshots": { "type": "integer" },
                    "won_deals": { "type": "integer" },
                    "lost_deals": { "type": "integer" },
                    "floor": { "type": "object" },
                },
                "required": ["since", "snapshots", "won_deals", "lost_deals", "floor"],
            },
            "movers": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": { "id": { "type": "integer" }, "amount": money(), "probability": { "type": "string" }, "expected": money() },
                    "required": ["id", "amount", "probability", "expected"],
                },
            },
            "trials": { "type": "integer" },
            "seed": { "type": "string" },
        },
        "required": ["basis", "expected", "range", "won", "won_deals", "open", "due", "stage_weighted", "run_rate", "quota", "gap_to_quota", "evidence", "movers", "trials", "seed"],
    })
}
