//! The period's waterfall, the weekly trend and the charts' data.

use pipewise_analytics::metrics::{self, Bucket, Waterfall, days_every};
use pipewise_analytics::{Ratio, date_of_day};
use serde_json::json;

use super::build::Parts;
use super::view::{TrendRow, WaterfallRow, chart_amount, count_text, percent_text, stage_label};
use crate::i18n::{self, t, tf};

/// A trend point's values: open pipeline, its weighted amount and the win rate by count.
type TrendValue = (i128, i128, Option<Ratio>);

/// The waterfall table: its rows, its span and whether it reconciles.
pub(super) struct WaterfallTable {
    pub(super) rows: Vec<WaterfallRow>,
    pub(super) span: String,
    pub(super) reconciles: String,
    pub(super) reconciled: bool,
}

// ---------------------------------------------------------------------------------------------
// Waterfall.

/// The period's waterfall: the start, each movement and the end, linked to their deals.
pub(super) fn waterfall_table(parts: &Parts) -> WaterfallTable {
    let Parts { locale, context, board, .. } = *parts;
    let waterfall: &Waterfall = &board.waterfall;
    let mut waterfall_rows = vec![total_row(parts, "start", &waterfall.start)];
    for (name, bucket) in waterfall.movements() {
        let name = name.as_str();
        waterfall_rows.push(WaterfallRow {
            key: name,
            label: t(locale, &format!("dash.wf.{name}")).to_owned(),
            count: count_text(bucket.count.abs()),
            amount: parts.money(bucket.amount),
            kind: movement_kind(bucket.amount),
            href: context.drill_href(&format!("wf_{name}"), &[]),
        });
    }
    waterfall_rows.push(total_row(parts, "end", &waterfall.end));
    let movement_sum: i128 = waterfall.movements().iter().map(|(_, bucket)| bucket.amount).sum();
    let reconciled = waterfall.reconciles();
    let reconciles = tf(
        locale,
        if reconciled { "dash.wf.reconciles" } else { "dash.wf.does_not_reconcile" },
        &[
            ("start", &parts.money(waterfall.start.amount)),
            ("moves", &parts.money(movement_sum)),
            ("end", &parts.money(waterfall.end.amount)),
        ],
    );
    let waterfall_span = tf(
        locale,
        "dash.wf.span",
        &[
            ("period", &context.period_label(locale)),
            ("from", &i18n::date(locale, date_of_day(waterfall.from))),
            ("to", &i18n::date(locale, date_of_day(waterfall.to))),
        ],
    );
    WaterfallTable { rows: waterfall_rows, span: waterfall_span, reconciles, reconciled }
}

/// The waterfall's start or end row (`key`), linked to the deals it counts.
fn total_row(parts: &Parts, key: &'static str, total: &Bucket) -> WaterfallRow {
    let Parts { locale, context, .. } = *parts;
    WaterfallRow {
        key,
        label: t(locale, &format!("dash.wf.{key}")).to_owned(),
        count: count_text(total.count),
        amount: parts.money(total.amount),
        kind: "total",
        href: context.drill_href(&format!("wf_{key}"), &[]),
    }
}

/// Which way a movement of `amount` goes: `up`, `down` or `flat`.
fn movement_kind(amount: i128) -> &'static str {
    match amount.signum() {
        1 => "up",
        -1 => "down",
        _ => "flat",
    }
}

// ---------------------------------------------------------------------------------------------
// Trends.

/// Trends, weekly up to the as-of day: the points (for the chart) and the table's rows. They
/// read history only: no activity-derived figure is drawn as a trend (each day would need its
/// own facts, `with_projection_as_of`).
pub(super) fn trend(parts: &Parts) -> (Vec<metrics::TrendPoint<TrendValue>>, Vec<TrendRow>) {
    let Parts { locale, context, projection, query, .. } = *parts;
    let days = days_every(query.as_of - 7 * (context.weeks - 1), query.as_of, 7);
    // One pass for every week (`metrics::pipeline_and_outcomes_trend`).
    let trend_points: Vec<metrics::TrendPoint<TrendValue>> = metrics::pipeline_and_outcomes_trend(projection, &query.scope, &days, 365)
        .into_iter()
        .map(|point| metrics::TrendPoint {
            day: point.day,
            value: (point.value.0.amount, point.value.0.weighted, point.value.1.win_rate_by_count()),
        })
        .collect();
    let trend_rows: Vec<TrendRow> = trend_points
        .iter()
        .map(|point| TrendRow {
            date: i18n::date(locale, date_of_day(point.day)),
            pipeline: parts.money(point.value.0),
            weighted: parts.money(point.value.1),
            win_rate: percent_text(point.value.2),
        })
        .collect();
    (trend_points, trend_rows)
}

// ---------------------------------------------------------------------------------------------
// Chart data (floats for drawing only; the tables carry the exact figures).

/// The data `assets/dashboard.js` draws the charts from: stages, waterfall and trend, and their
/// words.
pub(super) fn charts(parts: &Parts, trend_points: &[metrics::TrendPoint<TrendValue>]) -> serde_json::Value {
    let Parts { locale, currency, projection, board, .. } = *parts;
    let pipeline = &board.pipeline;
    let chart_labels: Vec<String> = pipeline.lines.iter().map(|line| stage_label(locale, projection, line.stage, false)).collect();
    let waterfall = waterfall_chart(parts);
    json!({
        "locale": locale.as_str(),
        "currency": currency.code(),
        "stages": {
            "labels": chart_labels,
            "amount": pipeline.lines.iter().map(|line| chart_amount(line.amount, currency)).collect::<Vec<_>>(),
            "weighted": pipeline.lines.iter().map(|line| chart_amount(line.weighted, currency)).collect::<Vec<_>>(),
            "count": pipeline.lines.iter().map(|line| line.count).collect::<Vec<_>>(),
        },
        "waterfall": waterfall,
        "trend": {
            "time": trend_points.iter().map(|point| i64::from(point.day) * 86_400).collect::<Vec<_>>(),
            "pipeline": trend_points.iter().map(|point| chart_amount(point.value.0, currency)).collect::<Vec<_>>(),
            "weighted": trend_points.iter().map(|point| chart_amount(point.value.1, currency)).collect::<Vec<_>>(),
            "win_rate": trend_points.iter().map(|point| point.value.2.map(|ratio| ratio.to_f64() * 100.0)).collect::<Vec<_>>(),
        },
        "text": {
            "amount": t(locale, "dash.amount"),
            "weighted": t(locale, "dash.weighted"),
            "deals": t(locale, "dash.deals"),
            "win_rate": t(locale, "dash.win_rate"),
            "pipeline": t(locale, "dash.open_pipeline"),
            "stage": t(locale, "field.stage_id"),
            "week": t(locale, "dash.week_of"),
        },
    })
}

/// The waterfall chart: floating bars from `low` to `high`, one a step.
fn waterfall_chart(parts: &Parts) -> serde_json::Value {
    let Parts { locale, currency, board, .. } = *parts;
    let waterfall: &Waterfall = &board.waterfall;
    let mut running = waterfall.start.amount;
    let mut wf_labels = vec![t(locale, "dash.wf.start").to_owned()];
    let mut wf_low = vec![0.0];
    let mut wf_high = vec![chart_amount(waterfall.start.amount, currency)];
    let mut wf_kind = vec!["total"];
    for (name, bucket) in waterfall.movements() {
        let next = running + bucket.amount;
        wf_labels.push(t(locale, &format!("dash.wf.{}", name.as_str())).to_owned());
        wf_low.push(chart_amount(running.min(next), currency));
        wf_high.push(chart_amount(running.max(next), currency));
        wf_kind.push(movement_kind(bucket.amount));
        running = next;
    }
    wf_labels.push(t(locale, "dash.wf.end").to_owned());
    wf_low.push(0.0);
    wf_high.push(chart_amount(waterfall.end.amount, currency));
    wf_kind.push("total");
    json!({ "labels": wf_labels, "low": wf_low, "high": wf_high, "kind": wf_kind })
}
