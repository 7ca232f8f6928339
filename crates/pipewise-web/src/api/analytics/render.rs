//! The analytics figures as JSON: amounts in the reporting currency, ratios, days, and the
//! header every reply starts with.

use pipewise_analytics::health::{DealHealth, Flag, HealthReport, LeverAdvice, Subject};
use pipewise_analytics::metrics::{Outcomes, PipelineByStage, Waterfall};
use pipewise_analytics::{DashboardQuery, Day, LeaderboardRow, Period, Projection, Ratio, WaterfallBucket, date_of_day};
use pipewise_core::OpportunityId;
use pipewise_core::money::{Currency, Decimal};
use pipewise_core::user::Locale;
use serde_json::{Value, json};

use super::ask::Ask;
use crate::i18n;

pub(super) struct Render<'a> {
    pub(super) projection: &'a Projection,
    pub(super) currency: Currency,
    pub(super) locale: Locale,
}

impl<'a> Render<'a> {
    /// Amounts in the projection's reporting currency, words in `locale`.
    pub(super) fn new(projection: &'a Projection, locale: Locale) -> Render<'a> {
        Render { projection, currency: projection.reporting_currency(), locale }
    }

    pub(super) fn money(&self, minor: i128) -> Value {
        let scale = u32::from(self.currency.minor_units());
        json!(format!("{} {}", self.currency.code(), Decimal::from_i128_with_scale(minor, scale)))
    }

    pub(super) fn ratio(ratio: Option<Ratio>) -> Value {
        ratio.map_or(Value::Null, |ratio| json!(ratio.round(4).to_string()))
    }

    pub(super) fn day(day: Day) -> Value {
        if day == pipewise_analytics::NO_DAY { Value::Null } else { json!(date_of_day(day).to_string()) }
    }

    pub(super) fn period(period: Period) -> Value {
        json!({ "start": Self::day(period.first), "end": Self::day(period.last) })
    }

    fn stage_name(&self, stage: u16) -> String {
        i18n::projection_stage_name(self.locale, &self.projection.stages[stage as usize]).to_owned()
    }

    fn ids(ids: &[OpportunityId]) -> Value {
        json!(ids.iter().map(|id| id.0).collect::<Vec<_>>())
    }

    pub(super) fn pipeline(&self, pipeline: &PipelineByStage, deals: Option<&[Vec<OpportunityId>]>, link_filters: &str) -> Value {
        let lines: Vec<Value> = pipeline
            .lines
            .iter()
            .map(|line| {
                let info = &self.projection.stages[line.stage as usize];
                let mut value = json!({
                    "stage_id": info.id.0,
                    "pipeline_id": self.projection.pipelines[info.pipeline as usize].id.0,
                    "stage_name": self.stage_name(line.stage),
                    "count": line.count,
                    "amount": self.money(line.amount),
                    "weighted_amount": self.money(line.weighted),
                    "deals": format!("/api/v1/opportunities?status=open&stage_id={}{link_filters}", info.id.0),
                });
                if let Some(deals) = deals {
                    value["deal_ids"] = Self::ids(&deals[line.stage as usize]);
                }
                value
            })
            .collect();
        json!({
            "lines": lines,
            "count": pipeline.count,
            "amount": self.money(pipeline.amount),
            "weighted_amount": self.money(pipeline.weighted),
            "omitted": { "count": pipeline.omitted_count, "amount": self.money(pipeline.omitted_amount) },
        })
    }

    pub(super) fn outcomes(&self, outcomes: &Outcomes) -> Value {
        json!({
            "won": outcomes.won,
            "lost": outcomes.lost,
            "won_amount": self.money(outcomes.won_amount),
            "lost_amount": self.money(outcomes.lost_amount),
            "dropped": outcomes.dropped,
            "win_rate": Self::ratio(outcomes.win_rate_by_count()),
            "win_rate_by_value": Self::ratio(outcomes.win_rate_by_value()),
            "average_cycle_days": Self::ratio(outcomes.average_cycle_days()),
            "average_deal_size": outcomes.average_deal_size().map_or(Value::Null, |size| self.money(size)),
        })
    }

    pub(super) fn waterfall(&self, waterfall: &Waterfall, deals: Option<&[Vec<OpportunityId>]>) -> Value {
        let buckets: Vec<Value> = WaterfallBucket::ALL
            .into_iter()
            .map(|name| {
                let bucket = waterfall.bucket(name);
                let mut value = json!({ "bucket": name.as_str(), "count": bucket.count, "amount": self.money(bucket.amount) });
                if let Some(deals) = deals {
                    value["deal_ids"] = Self::ids(&deals[name as usize]);
                }
                value
            })
            .collect();
        json!({
            "from": Self::day(waterfall.from),
            "to": Self::day(waterfall.to),
            "period": waterfall.period.map_or(Value::Null, Self::period),
            "buckets": buckets,
            "reconciles": waterfall.reconciles(),
        })
    }

    fn flag(&self, flag: &Flag) -> Value {
        json!({
            "code": flag.code.as_str(),
            "stage_id": flag.stage.map(|stage| self.projection.stages[stage as usize].id.0),
            "value": flag.value,
            "limit": flag.limit,
            "total": flag.total,
            "reason": i18n::health_reason(self.locale, self.projection, flag),
        })
    }

    fn lever(&self, lever: Option<LeverAdvice>) -> Value {
        lever.map_or(Value::Null, |advice| {
            json!({
                "lever": advice.lever.as_str(),
                "coverage": Self::ratio(Some(advice.coverage)),
                "win_rate_by_value": Self::ratio(advice.win_rate_by_value),
                "reason": i18n::lever_reason(self.locale, &advice),
            })
        })
    }

    pub(super) fn report(&self, report: &HealthReport) -> Value {
        let (kind, id) = match report.subject {
            Subject::Organisation => ("organisation", Value::Null),
            Subject::Team(team) => ("team", json!(self.projection.team_ids[team as usize].0)),
            Subject::Rep(owner) => ("rep", json!(self.projection.owner_ids[owner as usize].0)),
        };
        let deal_counts: serde_json::Map<String, Value> = pipewise_analytics::health::FlagCode::DEAL
            .iter()
            .zip(report.deal_counts)
            .map(|(code, count)| (code.as_str().to_owned(), json!(count)))
            .collect();
        json!({
            "subject": kind,
            "id": id,
            "open_deals": report.open_deals,
            "flagged_deals": report.flagged_deals,
            "deal_counts": deal_counts,
            "flags": report.flags.iter().map(|flag| self.flag(flag)).collect::<Vec<_>>(),
            "signals": report.signals.iter().map(|flag| self.flag(flag)).collect::<Vec<_>>(),
            "lever": self.lever(report.lever),
        })
    }

    pub(super) fn leaderboard(&self, rows: &[LeaderboardRow]) -> Value {
        json!(
            rows.iter()
                .map(|row| json!({
                    "user_id": row.user_id.0,
                    "won_amount": self.money(row.won_amount),
                    "won_count": row.won_count,
                    "quota": row.quota.map_or(Value::Null, |quota| self.money(i128::from(quota))),
                    "attainment": Self::ratio(row.attainment),
                    "pipeline_amount": self.money(row.pipeline_amount),
                    "open_deals": row.open_deals,
                    "open_closing_in_period": self.money(row.open_closing_in_period),
                    "open_deals_closing_in_period": row.open_deals_closing_in_period,
                    "win_rate": Self::ratio(row.win_rate()),
                    "average_cycle_days": Self::ratio(row.average_cycle_days()),
                    "deals": format!("/api/v1/opportunities?owner_id={}", row.user_id.0),
                }))
                .collect::<Vec<_>>()
        )
    }

    pub(super) fn deal_health(&self, health: &DealHealth) -> Value {
        json!({
            "flags": health.flags.iter().map(|flag| self.flag(flag)).collect::<Vec<_>>(),
            "signals": health.signals.iter().map(|flag| self.flag(flag)).collect::<Vec<_>>(),
        })
    }
}

/// The opportunity-list filters that match a scope (for `deals` links).
pub(super) fn link_filters(ask: &Ask) -> String {
    let mut filters = String::new();
    if let Some(owner) = ask.owner {
        filters.push_str(&format!("&owner_id={}", owner.0));
    }
    if let Some(pipeline) = ask.pipeline {
        filters.push_str(&format!("&pipeline_id={}", pipeline.0));
    }
    filters
}

pub(super) fn header(render: &Render, query: &DashboardQuery, ask: &Ask) -> Value {
    json!({
        "as_of": Render::day(query.as_of),
        "currency": render.currency.code(),
        "period": merge(Render::period(query.period), json!({ "key": ask.period_key })),
        "window": Render::period(query.window),
        "filters": {
            "pipeline_id": ask.pipeline.map(|id| id.0),
            "team_id": ask.team.map(|id| id.0),
            "owner_id": ask.owner.map(|id| id.0),
        },
    })
}

pub(super) fn merge(mut base: Value, more: Value) -> Value {
    if let (Some(base), Value::Object(more)) = (base.as_object_mut(), more) {
        base.extend(more);
    }
    base
}
