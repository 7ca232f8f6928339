//! Pipeline analytics and health (SPEC C5, C6) in the API, computed by `pipewise_analytics` on
//! the organisation's projection ([`pipewise_insights`]), refreshed from the history log before
//! each answer so a reader sees its own writes.
//!
//! - `GET /api/v1/analytics/dashboard`: the org-wide page in one call: pipeline by stage,
//!   coverage, outcomes (win rate, cycle, deal size), velocity, the period's waterfall, health
//!   counts and the next lever, the leaderboard.
//! - `GET /api/v1/analytics/pipeline`: pipeline by stage, with the deals of each stage.
//! - `GET /api/v1/analytics/waterfall?from=&to=`: start → movements → end, each bucket with its
//!   deals.
//! - `GET /api/v1/analytics/health`: flags and healthy signals of the organisation (or the
//!   scope), each team and rep, with reasons in the viewer's language (`lang` overrides), the
//!   next lever, and the flagged deals.
//! - `GET /api/v1/analytics/trend?metric=&from=&to=&every=`: one figure as of a series of days.
//! - `GET /api/v1/analytics/leaderboard`.
//! - `GET /api/v1/opportunities/{id}/health`: one deal's flags and signals.
//!
//! **Filters.** `as_of` (a date: every figure uses only what was known at the end of that day,
//! UTC, health included: its activity facts count only the activities and tasks known then, see
//! `pipewise_insights`), `pipeline_id`, `team_id`, `owner_id`, `period_start`/`period_end`
//! (default the calendar quarter holding `as_of`), `quota` (money in the reporting currency;
//! enables coverage and the next lever). **Visibility**: figures cover the deals the viewer may
//! see by owner (a rep their own, a manager their reporting tree, ops, admins and viewers the
//! organisation); `team_id` and `owner_id` narrow that and never widen it (see
//! `pipewise_insights`). **Drill-down**: each stage line and waterfall bucket lists up to
//! `limit` deal ids (default 20) and a `deals` link to the opportunity list with the matching
//! filters. Amounts are strings in the reporting currency (`"USD 1234.50"`); ratios are decimal
//! strings (`"0.6315"`), `null` when undefined.

use pipewise_app as app;
use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::Method;
use pipewise_analytics::health::{DealHealth, Flag, HealthReport, LeverAdvice, Subject, deal_health};
use pipewise_analytics::metrics::{self, Outcomes, PipelineByStage, Waterfall};
use pipewise_analytics::{
    ActivityFacts, DashboardQuery, Day, HealthThresholds, LeaderboardRow, Period, Projection, Ratio, WaterfallBucket, date_of_day,
    day_of_date, day_of_timestamp,
};
use pipewise_app::insights::{Insights, drill};
use pipewise_app::visibility::{self, Fallback};
use pipewise_core::money::{Currency, Decimal, Money};
use pipewise_core::user::Locale;
use pipewise_core::{OpportunityId, PipelineId, TeamId, UserId};
use serde_json::{Value, json};

use super::support::{IdPath, Query};
use super::{Param, Reply, Route, Ty};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, blocking};
use crate::i18n;

const TAG: &str = "analytics";
const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 1_000;
const MAX_TREND_POINTS: usize = 400;

fn scope_params() -> Vec<Param> {
    vec![
        Param::new("as_of", Ty::Date, "Figures as known at the end of this day (UTC); today by default."),
        Param::id("pipeline_id", "Only deals in this pipeline."),
        Param::id(
            "team_id",
            "Only deals owned by members of this team that the viewer may see; a team none of whose members the viewer may see is not found.",
        ),
        Param::id(
            "owner_id",
            "Only deals owned by this user, who must be one the viewer may see (else not found); taken before team_id when both are given.",
        ),
        Param::new(
            "period_start",
            Ty::Date,
            "First day of the period (coverage, waterfall, won amounts); with period_end. Default: the quarter holding as_of.",
        ),
        Param::new("period_end", Ty::Date, "Last day of the period; with period_start."),
        Param::new(
            "quota",
            Ty::Money,
            "The scope's quota for the period, in the reporting currency: enables coverage, thin-pipeline and the next lever.",
        ),
    ]
}

fn limit_param() -> Param {
    Param::integer("limit", "Deal ids listed behind each figure, 0 to 1000 (default 20).")
}

fn lang_param() -> Param {
    Param::new("lang", Ty::Enum(vec!["en", "ko"]), "Language of reasons; the viewer's by default.")
}

fn with(mut params: Vec<Param>, more: Vec<Param>) -> Vec<Param> {
    params.extend(more);
    params
}

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::GET, "/api/v1/analytics/dashboard", "get_analytics_dashboard", get_dashboard)
            .summary(TAG, "The dashboard: pipeline by stage, coverage, win rate, cycle, velocity, the period's waterfall, health counts and the leaderboard.")
            .query(with(scope_params(), vec![limit_param(), lang_param()]))
            .names_records()
            .reply(Reply::Json(200, "AnalyticsDashboard")),
        Route::new(Method::GET, "/api/v1/analytics/pipeline", "get_analytics_pipeline", get_pipeline)
            .summary(TAG, "Open pipeline by stage (count, amount, weighted amount), non-counting stages left out, with each stage's deals.")
            .query(with(scope_params(), vec![limit_param(), Param::boolean_like("closing_in_period", "Only deals whose close date lies in the period.")]))
            .names_records()
            .reply(Reply::Json(200, "AnalyticsPipeline")),
        Route::new(Method::GET, "/api/v1/analytics/waterfall", "get_analytics_waterfall", get_waterfall)
            .summary(TAG, "The waterfall of the period's pipeline between two days: start, new, increased, decreased, pulled in, pushed out, won, lost, removed, end.")
            .query(with(
                scope_params(),
                vec![
                    Param::new("from", Ty::Date, "Start: the end of this day. Default: the day before the period."),
                    Param::new("to", Ty::Date, "End: the end of this day. Default: as_of, or the period's last day if earlier."),
                    limit_param(),
                ],
            ))
            .names_records()
            .reply(Reply::Json(200, "AnalyticsWaterfall")),
        Route::new(Method::GET, "/api/v1/analytics/health", "get_analytics_health", get_health)
            .summary(TAG, "Pipeline health of the scope, each team and each rep: flags and healthy signals with reasons, the next lever, and the flagged deals.")
            .query(with(scope_params(), vec![limit_param(), lang_param()]))
            .names_records()
            .reply(Reply::Json(200, "AnalyticsHealth")),
        Route::new(Method::GET, "/api/v1/analytics/trend", "get_analytics_trend", get_trend)
            .summary(TAG, "One figure as of a series of days, from history.")
            .query(with(
                scope_params(),
                vec![
                    Param::new("metric", Ty::Enum(TREND_METRICS.to_vec()), "The figure."),
                    Param::new("from", Ty::Date, "First day. Default: 90 days before to."),
                    Param::new("to", Ty::Date, "Last day (always included). Default: as_of."),
                    Param::integer("every", "Days between points, 1 to 366 (default 7)."),
                ],
            ))
            .names_records()
            .reply(Reply::Json(200, "AnalyticsTrend")),
        Route::new(Method::GET, "/api/v1/analytics/leaderboard", "get_analytics_leaderboard", get_leaderboard)
            .summary(TAG, "Reps by won amount in the period, with pipeline, deals closing in the period, win rate and cycle.")
            .query(with(scope_params(), vec![Param::new("rep_quota", Ty::Money, "Each rep's quota for the period: enables attainment.")]))
            .names_records()
            .reply(Reply::Json(200, "AnalyticsLeaderboard")),
        Route::new(Method::GET, "/api/v1/opportunities/{id}/health", "get_opportunity_health", get_deal_health)
            .summary(TAG, "A deal's health flags and healthy signals as of a day, with reasons.")
            .path_param(Param::id("id", "The opportunity's id."))
            .query(vec![Param::new("as_of", Ty::Date, "Today by default."), lang_param()])
            .names_records()
            .reply(Reply::Json(200, "DealHealth")),
    ]
}

impl Param {
    fn boolean_like(name: &'static str, description: &'static str) -> Param {
        Param::new(name, Ty::Boolean, description)
    }
}

const TREND_METRICS: [&str; 9] = [
    "pipeline_amount",
    "pipeline_count",
    "weighted_amount",
    "win_rate",
    "win_rate_by_value",
    "average_cycle_days",
    "average_deal_size",
    "velocity",
    "coverage",
];

// ---------------------------------------------------------------------------------------------
// Query → DashboardQuery

/// Everything a request asks for, before the projection is at hand.
struct Ask {
    as_of: Day,
    pipeline: Option<PipelineId>,
    team: Option<TeamId>,
    owner: Option<UserId>,
    /// The owners the figures cover (`None`: the organisation), resolved by the one visibility
    /// rule: an owner or team the viewer may not see is not found.
    owners: Option<BTreeSet<UserId>>,
    period: Option<Period>,
    quota: Option<Money>,
    limit: usize,
    /// The language of reasons: `lang` (`en`, `ko`), else the viewer's.
    locale: Locale,
    /// The organisation's health thresholds, which every health figure is computed with.
    thresholds: HealthThresholds,
}

/// The request's [`Ask`], with the organisation's health thresholds read from the store and the
/// subject resolved within what the viewer may see.
async fn parse_ask(state: &AppState, viewer: &Viewer, query: &Query) -> Result<Ask, AppError> {
    let mut ask = ask_from(state, viewer, query)?;
    let store = state.db.clone();
    let reader = viewer.clone();
    let (owner, team) = (ask.owner, ask.team);
    let (thresholds, resolved) = blocking(move || {
        let mut tx = store.read()?;
        let thresholds = app::settings::health_thresholds(&mut tx, reader.org)?;
        // With no subject asked for, everything the viewer may see needs no user or team.
        let (users, teams) = match (owner, team) {
            (None, None) => (Vec::new(), Vec::new()),
            _ => (app::users::users(&mut tx, reader.org)?, app::users::teams(&mut tx, reader.org)?),
        };
        let resolved = visibility::resolve_subject(&reader.access, &reader.user, &users, &teams, owner, team, Fallback::Everything)?;
        Ok((thresholds, resolved))
    })
    .await?;
    ask.thresholds = thresholds;
    ask.owners = resolved.owners;
    Ok(ask)
}

/// The request's own parameters; [`parse_ask`] adds what the store knows.
fn ask_from(state: &AppState, viewer: &Viewer, query: &Query) -> Result<Ask, AppError> {
    let date = |name: &str| query.parsed(name, pipewise_core::time::parse_date);
    let as_of = date("as_of")?.map_or_else(|| day_of_timestamp(state.now()), day_of_date);
    let period = match (date("period_start")?, date("period_end")?) {
        (None, None) => None,
        (Some(first), Some(last)) if first <= last => Some(Period::new(day_of_date(first), day_of_date(last))),
        (Some(_), Some(_)) => return Err(AppError::BadRequest("query parameter period_end: it is before period_start".into())),
        _ => return Err(AppError::BadRequest("query parameters period_start and period_end go together".into())),
    };
    let limit = match query.text("limit") {
        None => DEFAULT_LIMIT,
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|limit| *limit <= MAX_LIMIT)
            .ok_or_else(|| AppError::BadRequest(format!("query parameter limit: {raw:?} is not a number from 0 to {MAX_LIMIT}")))?,
    };
    let locale = match query.text("lang") {
        Some("en") => Locale::En,
        Some("ko") => Locale::Ko,
        Some(other) => return Err(AppError::BadRequest(format!("query parameter lang: {other:?} is not en or ko"))),
        None => viewer.user.locale,
    };
    Ok(Ask {
        as_of,
        pipeline: query.id("pipeline_id")?.map(PipelineId),
        team: query.id("team_id")?.map(TeamId),
        owner: query.id("owner_id")?.map(UserId),
        owners: None,
        period,
        quota: query.parsed("quota", |raw| raw.parse::<Money>())?,
        limit,
        locale,
        thresholds: HealthThresholds::default(),
    })
}

/// Minor units of the reporting currency, or a 400 naming the parameter.
fn reporting_minor(projection: &Projection, name: &str, money: Money) -> Result<i64, AppError> {
    let reporting = projection.reporting_currency();
    if money.currency() != reporting {
        return Err(AppError::BadRequest(format!("query parameter {name}: give it in the reporting currency, {}", reporting.code())));
    }
    i64::try_from(money.amount().mantissa()).map_err(|_| AppError::BadRequest(format!("query parameter {name}: too large")))
}

/// The query `ask` makes of `projection`. `facts` are the activity facts as of `ask.as_of`
/// from [`on_projection_as_of`] (`None`: today's, the projection's own); only health reads
/// them, so the handlers of figures without health give `None`.
fn build_query(projection: &Projection, ask: &Ask, facts: Option<Arc<ActivityFacts>>) -> Result<DashboardQuery, AppError> {
    let mut query = DashboardQuery::new(ask.as_of);
    query.thresholds = ask.thresholds;
    query.facts = facts;
    if let Some(period) = ask.period {
        query.period = period;
    }
    let mut scope = visibility::scope_of(projection, ask.owners.as_ref());
    if let Some(pipeline) = ask.pipeline {
        let index =
            projection.pipeline_index(pipeline).ok_or(AppError::NotFound { kind: PipelineId::LABEL, id: pipeline.0.to_string() })?;
        scope = scope.in_pipeline(index);
    }
    query.scope = scope;
    query.quota = ask.quota.map(|quota| reporting_minor(projection, "quota", quota)).transpose()?;
    Ok(query)
}

/// Runs `work` on the viewer's organisation's projection, on a blocking thread.
async fn on_projection<T: Send + 'static>(
    state: &AppState,
    viewer: &Viewer,
    work: impl FnOnce(&Projection) -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    let state = state.clone();
    let org = viewer.org;
    blocking(move || {
        let insights: Arc<Insights> = state.insights_for(org)?;
        insights.with(work)
    })
    .await
}

/// [`on_projection`] with the activity facts as of the end of `as_of`, laid out for that
/// projection (`None` for today or later: the projection's own are right), so health as of a
/// past day uses only the activities and tasks known then (`Insights::with_as_of`).
async fn on_projection_as_of<T: Send + 'static>(
    state: &AppState,
    viewer: &Viewer,
    as_of: Day,
    work: impl FnOnce(&Projection, Option<Arc<ActivityFacts>>) -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    let state = state.clone();
    let org = viewer.org;
    // The API's days are UTC days (`as_of` defaults to today in UTC), as `with_as_of` reads them.
    blocking(move || {
        let insights: Arc<Insights> = state.insights_for(org)?;
        insights.with_as_of(as_of, work)?
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Rendering

struct Render<'a> {
    projection: &'a Projection,
    currency: Currency,
    locale: Locale,
}

impl Render<'_> {
    fn money(&self, minor: i128) -> Value {
        let scale = u32::from(self.currency.minor_units());
        json!(format!("{} {}", self.currency.code(), Decimal::from_i128_with_scale(minor, scale)))
    }

    fn ratio(ratio: Option<Ratio>) -> Value {
        ratio.map_or(Value::Null, |ratio| json!(ratio.round(4).to_string()))
    }

    fn day(day: Day) -> Value {
        if day == pipewise_analytics::NO_DAY { Value::Null } else { json!(date_of_day(day).to_string()) }
    }

    fn period(period: Period) -> Value {
        json!({ "start": Self::day(period.first), "end": Self::day(period.last) })
    }

    fn stage_name(&self, stage: u16) -> String {
        i18n::projection_stage_name(self.locale, &self.projection.stages[stage as usize]).to_owned()
    }

    fn ids(ids: &[OpportunityId]) -> Value {
        json!(ids.iter().map(|id| id.0).collect::<Vec<_>>())
    }

    fn pipeline(&self, pipeline: &PipelineByStage, deals: Option<&[Vec<OpportunityId>]>, link_filters: &str) -> Value {
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
        })
    }

    fn outcomes(&self, outcomes: &Outcomes) -> Value {
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

    fn waterfall(&self, waterfall: &Waterfall, deals: Option<&[Vec<OpportunityId>]>) -> Value {
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

    fn report(&self, report: &HealthReport) -> Value {
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

    fn leaderboard(&self, rows: &[LeaderboardRow]) -> Value {
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

    fn deal_health(&self, health: &DealHealth) -> Value {
        json!({
            "flags": health.flags.iter().map(|flag| self.flag(flag)).collect::<Vec<_>>(),
            "signals": health.signals.iter().map(|flag| self.flag(flag)).collect::<Vec<_>>(),
        })
    }
}

/// The opportunity-list filters that match a scope (for `deals` links).
fn link_filters(ask: &Ask) -> String {
    let mut filters = String::new();
    if let Some(owner) = ask.owner {
        filters.push_str(&format!("&owner_id={}", owner.0));
    }
    if let Some(pipeline) = ask.pipeline {
        filters.push_str(&format!("&pipeline_id={}", pipeline.0));
    }
    filters
}

fn header(render: &Render, query: &DashboardQuery, ask: &Ask) -> Value {
    json!({
        "as_of": Render::day(query.as_of),
        "currency": render.currency.code(),
        "period": Render::period(query.period),
        "window": Render::period(query.window),
        "filters": {
            "pipeline_id": ask.pipeline.map(|id| id.0),
            "team_id": ask.team.map(|id| id.0),
            "owner_id": ask.owner.map(|id| id.0),
        },
    })
}

fn merge(mut base: Value, more: Value) -> Value {
    if let (Some(base), Value::Object(more)) = (base.as_object_mut(), more) {
        base.extend(more);
    }
    base
}

// ---------------------------------------------------------------------------------------------
// Handlers

async fn get_dashboard(State(state): State<AppState>, viewer: Viewer, RawQuery(raw): RawQuery) -> Result<axum::Json<Value>, AppError> {
    let query = Query::parse(raw.as_deref(), &with(scope_params(), vec![limit_param(), lang_param()]))?;
    let ask = parse_ask(&state, &viewer, &query).await?;
    let reply = on_projection_as_of(&state.clone(), &viewer.clone(), ask.as_of, move |projection, facts| {
        let query = build_query(projection, &ask, facts)?;
        let board = pipewise_analytics::dashboard(projection, &query);
        let render = Render { projection, currency: projection.reporting_currency(), locale: ask.locale };
        let stage_deals = (ask.limit > 0).then(|| drill::deals_by_stage(projection, &query.scope, query.as_of, None, ask.limit));
        let body = json!({
            "pipeline": render.pipeline(&board.pipeline, stage_deals.as_deref(), &link_filters(&ask)),
            "coverage": board.coverage.map_or(Value::Null, |coverage| json!({
                "open_closing_in_period": render.money(coverage.open_closing_in_period),
                "open_deals_closing_in_period": coverage.open_deals_closing_in_period,
                "won_in_period": render.money(coverage.won_in_period),
                "quota": render.money(i128::from(coverage.quota)),
                "remaining_quota": render.money(coverage.remaining_quota),
                "ratio": Render::ratio(coverage.ratio),
            })),
            "outcomes": render.outcomes(&board.outcomes),
            "velocity": board.velocity.map_or(Value::Null, |velocity| json!({
                "open_deals": velocity.open_deals,
                "win_rate": Render::ratio(Some(velocity.win_rate)),
                "average_deal_size": render.money(pipewise_analytics::div_round_half_even(velocity.average_deal_size.numerator, velocity.average_deal_size.denominator)),
                "average_cycle_days": Render::ratio(Some(velocity.average_cycle_days)),
                "per_day": render.money(velocity.per_day),
            })),
            "waterfall": render.waterfall(&board.waterfall, None),
            "health": {
                "summary": render.report(&board.health.organisation),
                "teams_flagged": board.health.teams.iter().filter(|team| !team.flags.is_empty()).count(),
                "reps_flagged": board.health.reps.iter().filter(|rep| !rep.flags.is_empty()).count(),
            },
            "leaderboard": render.leaderboard(&board.leaderboard),
        });
        Ok(merge(header(&render, &query, &ask), body))
    })
    .await?;
    Ok(axum::Json(reply))
}

async fn get_pipeline(State(state): State<AppState>, viewer: Viewer, RawQuery(raw): RawQuery) -> Result<axum::Json<Value>, AppError> {
    let declared = with(scope_params(), vec![limit_param(), Param::boolean_like("closing_in_period", "")]);
    let query = Query::parse(raw.as_deref(), &declared)?;
    let ask = parse_ask(&state, &viewer, &query).await?;
    let closing = query.boolean("closing_in_period")?.unwrap_or(false);
    let reply = on_projection(&state.clone(), &viewer.clone(), move |projection| {
        let query = build_query(projection, &ask, None)?;
        let within = closing.then_some(query.period);
        let pipeline = metrics::pipeline_by_stage(projection, &query.scope, query.as_of, within);
        let render = Render { projection, currency: projection.reporting_currency(), locale: ask.locale };
        let deals = drill::deals_by_stage(projection, &query.scope, query.as_of, within, ask.limit);
        Ok(merge(header(&render, &query, &ask), json!({ "pipeline": render.pipeline(&pipeline, Some(&deals), &link_filters(&ask)) })))
    })
    .await?;
    Ok(axum::Json(reply))
}

async fn get_waterfall(State(state): State<AppState>, viewer: Viewer, RawQuery(raw): RawQuery) -> Result<axum::Json<Value>, AppError> {
    let declared = with(scope_params(), vec![Param::new("from", Ty::Date, ""), Param::new("to", Ty::Date, ""), limit_param()]);
    let query = Query::parse(raw.as_deref(), &declared)?;
    let ask = parse_ask(&state, &viewer, &query).await?;
    let from = query.parsed("from", pipewise_core::time::parse_date)?.map(day_of_date);
    let to = query.parsed("to", pipewise_core::time::parse_date)?.map(day_of_date);
    let reply = on_projection(&state.clone(), &viewer.clone(), move |projection| {
        let mut query = build_query(projection, &ask, None)?;
        if ask.period.is_none()
            && let Some(to) = to
        {
            query.period = Period::quarter_of(to);
        }
        let (default_from, default_to) = query.waterfall_span();
        let (from, to) = (from.unwrap_or(default_from), to.unwrap_or(default_to));
        if from > to {
            return Err(AppError::BadRequest("query parameter to: it is before from".into()));
        }
        let waterfall = metrics::waterfall(projection, &query.scope, query.period, from, to);
        let deals = drill::waterfall_deals(projection, &query.scope, query.period, from, to, ask.limit);
        let render = Render { projection, currency: projection.reporting_currency(), locale: ask.locale };
        Ok(merge(header(&render, &query, &ask), json!({ "waterfall": render.waterfall(&waterfall, Some(&deals)) })))
    })
    .await?;
    Ok(axum::Json(reply))
}

async fn get_health(State(state): State<AppState>, viewer: Viewer, RawQuery(raw): RawQuery) -> Result<axum::Json<Value>, AppError> {
    let query = Query::parse(raw.as_deref(), &with(scope_params(), vec![limit_param(), lang_param()]))?;
    let ask = parse_ask(&state, &viewer, &query).await?;
    let reply = on_projection_as_of(&state.clone(), &viewer.clone(), ask.as_of, move |projection, facts| {
        let query = build_query(projection, &ask, facts)?;
        let overview = pipewise_analytics::health::health(projection, &query);
        let render = Render { projection, currency: projection.reporting_currency(), locale: ask.locale };
        // The flagged deals, the first `limit` of them by deal id, each with its flags.
        let ids = &projection.deals().id;
        let candidates = projection.candidates(query.as_of.saturating_add(1));
        let mut open: Vec<u32> = Vec::new();
        candidates.for_each_in(0..candidates.len(), |deal| {
            let keep = projection.state_at(deal, query.as_of).is_some_and(|state| {
                projection.stages[state.stage as usize].is_open()
                    && query.scope.admits_owner(state.owner)
                    && query.scope.pipeline.is_none_or(|pipeline| projection.stages[state.stage as usize].pipeline == pipeline)
            });
            if keep {
                open.push(deal);
            }
        });
        open.sort_by_key(|deal| ids[*deal as usize]);
        let mut deals = Vec::new();
        for deal in open {
            if deals.len() >= ask.limit {
                break;
            }
            if let Some(health) = deal_health(projection, query.facts(projection), deal, query.as_of, &query.thresholds)
                && !health.flags.is_empty()
            {
                let mut value = render.deal_health(&health);
                value["opportunity_id"] = json!(projection.deals().id[deal as usize].0);
                deals.push(value);
            }
        }
        Ok(merge(
            header(&render, &query, &ask),
            json!({
                "summary": render.report(&overview.organisation),
                "teams": overview.teams.iter().map(|report| render.report(report)).collect::<Vec<_>>(),
                "reps": overview.reps.iter().map(|report| render.report(report)).collect::<Vec<_>>(),
                "flagged_deals": deals,
            }),
        ))
    })
    .await?;
    Ok(axum::Json(reply))
}

async fn get_trend(State(state): State<AppState>, viewer: Viewer, RawQuery(raw): RawQuery) -> Result<axum::Json<Value>, AppError> {
    let declared = with(
        scope_params(),
        vec![
            Param::new("metric", Ty::Enum(TREND_METRICS.to_vec()), ""),
            Param::new("from", Ty::Date, ""),
            Param::new("to", Ty::Date, ""),
            Param::integer("every", ""),
        ],
    );
    let query = Query::parse(raw.as_deref(), &declared)?;
    let ask = parse_ask(&state, &viewer, &query).await?;
    let metric = match query.text("metric") {
        Some(metric) if TREND_METRICS.contains(&metric) => metric.to_owned(),
        Some(other) => {
            return Err(AppError::BadRequest(format!("query parameter metric: {other:?} is not one of {}", TREND_METRICS.join(", "))));
        }
        None => return Err(AppError::BadRequest("query parameter metric is required".into())),
    };
    let to = query.parsed("to", pipewise_core::time::parse_date)?.map_or(ask.as_of, day_of_date);
    let from = query.parsed("from", pipewise_core::time::parse_date)?.map_or(to - 90, day_of_date);
    let every = match query.text("every") {
        None => 7,
        Some(raw) => raw
            .parse::<i32>()
            .ok()
            .filter(|every| (1..=366).contains(every))
            .ok_or_else(|| AppError::BadRequest(format!("query parameter every: {raw:?} is not a number of days from 1 to 366")))?,
    };
    if from > to {
        return Err(AppError::BadRequest("query parameter to: it is before from".into()));
    }
    let days = metrics::days_every(from, to, every);
    if days.len() > MAX_TREND_POINTS {
        return Err(AppError::BadRequest(format!("the trend has {} points; at most {MAX_TREND_POINTS}: widen every", days.len())));
    }
    let reply = on_projection(&state.clone(), &viewer.clone(), move |projection| {
        let base = build_query(projection, &ask, None)?;
        let render = Render { projection, currency: projection.reporting_currency(), locale: ask.locale };
        let scope = &base.scope;
        let points: Vec<Value> = if metric == "coverage" {
            metrics::trend(days, |day| match base.quota {
                Some(quota) => Render::ratio(metrics::coverage(projection, scope, day, Period::quarter_of(day), quota).ratio),
                None => Value::Null,
            })
        } else {
            // Every other metric reads the pipeline and the trailing year's outcomes: one pass
            // for all the days.
            metrics::pipeline_and_outcomes_trend(projection, scope, &days, 365)
                .into_iter()
                .map(|point| {
                    let (pipeline, outcomes) = &point.value;
                    let value = match metric.as_str() {
                        "pipeline_amount" => render.money(pipeline.amount),
                        "pipeline_count" => json!(pipeline.count),
                        "weighted_amount" => render.money(pipeline.weighted),
                        "win_rate" => Render::ratio(outcomes.win_rate_by_count()),
                        "win_rate_by_value" => Render::ratio(outcomes.win_rate_by_value()),
                        "average_cycle_days" => Render::ratio(outcomes.average_cycle_days()),
                        "average_deal_size" => outcomes.average_deal_size().map_or(Value::Null, |size| render.money(size)),
                        _ => {
                            metrics::velocity_from(pipeline.count, outcomes).map_or(Value::Null, |velocity| render.money(velocity.per_day))
                        }
                    };
                    metrics::TrendPoint { day: point.day, value }
                })
                .collect()
        }
        .into_iter()
        .map(|point| json!({ "day": Render::day(point.day), "value": point.value }))
        .collect();
        Ok(merge(header(&render, &base, &ask), json!({ "metric": metric, "every": every, "points": points })))
    })
    .await?;
    Ok(axum::Json(reply))
}

async fn get_leaderboard(State(state): State<AppState>, viewer: Viewer, RawQuery(raw): RawQuery) -> Result<axum::Json<Value>, AppError> {
    let query = Query::parse(raw.as_deref(), &with(scope_params(), vec![Param::new("rep_quota", Ty::Money, "")]))?;
    let ask = parse_ask(&state, &viewer, &query).await?;
    let rep_quota = query.parsed("rep_quota", |raw| raw.parse::<Money>())?;
    let reply = on_projection(&state.clone(), &viewer.clone(), move |projection| {
        let mut query = build_query(projection, &ask, None)?;
        if let Some(quota) = rep_quota {
            let minor = reporting_minor(projection, "rep_quota", quota)?;
            query.rep_quotas = vec![Some(minor); projection.n_owners()];
        }
        let rows = pipewise_analytics::leaderboard(projection, &query);
        let render = Render { projection, currency: projection.reporting_currency(), locale: ask.locale };
        Ok(merge(header(&render, &query, &ask), json!({ "leaderboard": render.leaderboard(&rows) })))
    })
    .await?;
    Ok(axum::Json(reply))
}

async fn get_deal_health(
    State(state): State<AppState>,
    viewer: Viewer,
    IdPath(id): IdPath,
    RawQuery(raw): RawQuery,
) -> Result<axum::Json<Value>, AppError> {
    let query = Query::parse(raw.as_deref(), &[Param::new("as_of", Ty::Date, ""), lang_param()])?;
    let ask = parse_ask(&state, &viewer, &query).await?;
    // Visibility first, through the checked read: a deal the viewer may not see is 404.
    let store = state.db.clone();
    let (org, access) = (viewer.org, viewer.access.clone());
    let visible = blocking(move || {
        let mut tx = store.read()?;
        Ok(app::deals::opportunity_for(&mut tx, org, &access, OpportunityId(id))?.is_some())
    })
    .await?;
    if !visible {
        return Err(AppError::NotFound { kind: OpportunityId::LABEL, id: id.to_string() });
    }
    let reply = on_projection_as_of(&state.clone(), &viewer.clone(), ask.as_of, move |projection, facts| {
        let not_found = || AppError::NotFound { kind: OpportunityId::LABEL, id: id.to_string() };
        let deal = projection.deal_index(OpportunityId(id)).ok_or_else(not_found)?;
        let facts = facts.as_deref().unwrap_or(&projection.activity);
        let health = deal_health(projection, facts, deal, ask.as_of, &ask.thresholds).ok_or_else(not_found)?;
        let render = Render { projection, currency: projection.reporting_currency(), locale: ask.locale };
        let mut value = render.deal_health(&health);
        value["opportunity_id"] = json!(id);
        value["as_of"] = Render::day(ask.as_of);
        Ok(value)
    })
    .await?;
    Ok(axum::Json(reply))
}

// ---------------------------------------------------------------------------------------------
// Schemas

pub fn schemas() -> Vec<(&'static str, Value)> {
    let money = json!({ "type": "string", "description": "Reporting-currency amount, e.g. `USD 1234.50`." });
    let ratio = json!({ "type": ["string", "null"], "description": "A decimal ratio to 4 places; null when undefined." });
    let ids =
        json!({ "type": "array", "items": { "type": "integer" }, "description": "Up to `limit` ids of the deals behind the figure." });
    let header = json!({
        "as_of": { "type": "string", "format": "date" },
        "currency": { "type": "string" },
        "period": { "type": "object", "properties": { "start": { "type": "string" }, "end": { "type": "string" } } },
        "window": { "type": "object", "properties": { "start": { "type": "string" }, "end": { "type": "string" } } },
        "filters": { "type": "object" },
    });
    let with_header = |more: Value, required: &[&str]| {
        let mut properties = header.as_object().expect("an object").clone();
        properties.extend(more.as_object().expect("an object").clone());
        let mut all = vec!["as_of", "currency", "period", "window", "filters"];
        all.extend(required);
        json!({ "type": "object", "properties": properties, "required": all })
    };
    let stage_line = json!({
        "type": "object",
        "properties": {
            "stage_id": { "type": "integer" }, "pipeline_id": { "type": "integer" }, "stage_name": { "type": "string" },
            "count": { "type": "integer" }, "amount": money, "weighted_amount": money,
            "deals": { "type": "string", "description": "The opportunity list filtered to this stage (current state)." },
            "deal_ids": ids,
        },
        "required": ["stage_id", "pipeline_id", "stage_name", "count", "amount", "weighted_amount", "deals"],
    });
    let pipeline = json!({
        "type": "object",
        "properties": { "lines": { "type": "array", "items": stage_line }, "count": { "type": "integer" }, "amount": money, "weighted_amount": money },
        "required": ["lines", "count", "amount", "weighted_amount"],
    });
    let bucket = json!({
        "type": "object",
        "properties": {
            "bucket": { "type": "string", "enum": WaterfallBucket::ALL.map(WaterfallBucket::as_str) },
            "count": { "type": "integer" }, "amount": money, "deal_ids": ids,
        },
        "required": ["bucket", "count", "amount"],
    });
    let waterfall = json!({
        "type": "object",
        "properties": {
            "from": { "type": "string" }, "to": { "type": "string" }, "period": { "type": ["object", "null"] },
            "buckets": { "type": "array", "items": bucket },
            "reconciles": { "type": "boolean", "description": "start + movements = end, to the cent and in count." },
        },
        "required": ["from", "to", "period", "buckets", "reconciles"],
    });
    let flag = json!({
        "type": "object",
        "properties": {
            "code": { "type": "string" }, "stage_id": { "type": ["integer", "null"] }, "value": { "type": "integer" },
            "limit": { "type": "integer" }, "total": { "type": "integer" }, "reason": { "type": "string" },
        },
        "required": ["code", "stage_id", "value", "limit", "total", "reason"],
    });
    let lever = json!({
        "type": ["object", "null"],
        "properties": {
            "lever": { "type": "string", "enum": ["fill_the_funnel", "convert_what_you_have"] },
            "coverage": ratio, "win_rate_by_value": ratio, "reason": { "type": "string" },
        },
    });
    let report = json!({
        "type": "object",
        "properties": {
            "subject": { "type": "string", "enum": ["organisation", "team", "rep"] }, "id": { "type": ["integer", "null"] },
            "open_deals": { "type": "integer" }, "flagged_deals": { "type": "integer" },
            "deal_counts": { "type": "object", "description": "Open deals carrying each per-deal flag or signal." },
            "flags": { "type": "array", "items": flag }, "signals": { "type": "array", "items": flag }, "lever": lever,
        },
        "required": ["subject", "id", "open_deals", "flagged_deals", "deal_counts", "flags", "signals", "lever"],
    });
    let deal_health = json!({
        "type": "object",
        "properties": { "opportunity_id": { "type": "integer" }, "flags": { "type": "array", "items": flag }, "signals": { "type": "array", "items": flag } },
        "required": ["opportunity_id", "flags", "signals"],
    });
    let leader = json!({
        "type": "object",
        "properties": {
            "user_id": { "type": "integer" }, "won_amount": money, "won_count": { "type": "integer" }, "quota": { "type": ["string", "null"] },
            "attainment": ratio, "pipeline_amount": money, "open_deals": { "type": "integer" }, "open_closing_in_period": money,
            "open_deals_closing_in_period": { "type": "integer" }, "win_rate": ratio, "average_cycle_days": ratio,
            "deals": { "type": "string" },
        },
        "required": ["user_id", "won_amount", "won_count", "pipeline_amount", "open_deals", "win_rate", "average_cycle_days", "deals"],
    });
    let outcomes = json!({
        "type": "object",
        "properties": {
            "won": { "type": "integer" }, "lost": { "type": "integer" }, "won_amount": money, "lost_amount": money,
            "dropped": { "type": "integer" }, "win_rate": ratio, "win_rate_by_value": ratio, "average_cycle_days": ratio,
            "average_deal_size": { "type": ["string", "null"] },
        },
    });
    vec![
        (
            "AnalyticsDashboard",
            with_header(
                json!({
                    "pipeline": pipeline, "coverage": { "type": ["object", "null"] }, "outcomes": outcomes,
                    "velocity": { "type": ["object", "null"] }, "waterfall": waterfall,
                    "health": { "type": "object", "properties": { "summary": report, "teams_flagged": { "type": "integer" }, "reps_flagged": { "type": "integer" } } },
                    "leaderboard": { "type": "array", "items": leader },
                }),
                &["pipeline", "coverage", "outcomes", "velocity", "waterfall", "health", "leaderboard"],
            ),
        ),
        ("AnalyticsPipeline", with_header(json!({ "pipeline": pipeline }), &["pipeline"])),
        ("AnalyticsWaterfall", with_header(json!({ "waterfall": waterfall }), &["waterfall"])),
        (
            "AnalyticsHealth",
            with_header(
                json!({
                    "summary": report, "teams": { "type": "array", "items": report }, "reps": { "type": "array", "items": report },
                    "flagged_deals": { "type": "array", "items": deal_health },
                }),
                &["summary", "teams", "reps", "flagged_deals"],
            ),
        ),
        (
            "AnalyticsTrend",
            with_header(
                json!({
                    "metric": { "type": "string", "enum": TREND_METRICS }, "every": { "type": "integer" },
                    "points": { "type": "array", "items": { "type": "object", "properties": { "day": { "type": "string" }, "value": {} }, "required": ["day", "value"] } },
                }),
                &["metric", "every", "points"],
            ),
        ),
        ("AnalyticsLeaderboard", with_header(json!({ "leaderboard": { "type": "array", "items": leader } }), &["leaderboard"])),
        ("DealHealth", deal_health),
    ]
}
