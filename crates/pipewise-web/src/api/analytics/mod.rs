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
//! - `GET /api/v1/analytics/forecast`: the statistical forecast of the period (`pipewise_forecast`):
//!   learnt from the organisation's history as known at `as_of`, so a past day's forecast is the
//!   one that could have been made then; below the data floor it says so and gives the
//!   stage-weighted pipeline.
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
//! filters. Those lists, and health's flagged deals, name only deals the viewer may open
//! (`pipewise_app::visibility::OpenableDeals`): a deal counted by its owner on the figure's day
//! but handed out of the viewer's sight since is counted, never named. Amounts are strings in
//! the reporting currency (`"USD 1234.50"`); ratios are decimal strings (`"0.6315"`), `null`
//! when undefined.

mod ask;
mod drill_downs;
mod figures;
mod forecast;
mod health;
mod render;
mod schemas;

use axum::http::Method;

use super::{Param, Reply, Route, Ty};
use drill_downs::{get_pipeline, get_waterfall};
use figures::{get_dashboard, get_leaderboard, get_trend};
use forecast::get_forecast;
use health::{get_deal_health, get_health};
pub use schemas::schemas;

const TAG: &str = "analytics";

fn scope_params() -> Vec<Param> {
    vec![
        Param::new("as_of", Ty::Date, "Figures as known at the end of this day in the organisation's time zone; today there by default."),
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
            "period",
            Ty::Text,
            "The period of coverage, the waterfall and won amounts: a fiscal period of the organisation's calendar, 2027-Q1, 2027-M03, 2027-W05 or 2027. Default: the fiscal quarter holding as_of.",
        ),
        Param::new("period_start", Ty::Date, "First day of a period of any days, in place of period; with period_end."),
        Param::new("period_end", Ty::Date, "Last day of the period; with period_start."),
        Param::new(
            "quota",
            Ty::Money,
            "The scope's quota for the period, in the reporting currency, in place of the stored one (its own, else the sum of its reps'): enables coverage, thin-pipeline and the next lever.",
        ),
    ]
}

fn limit_param() -> Param {
    Param::range("limit", 0, 1000, "Deal ids listed behind each figure, 0 to 1000 (default 20).")
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
                    Param::new("metric", Ty::Enum(TREND_METRICS.to_vec()), "The figure.").required(),
                    Param::new("from", Ty::Date, "First day. Default: 90 days before to."),
                    Param::new("to", Ty::Date, "Last day (always included). Default: as_of."),
                    Param::range("every", 1, 366, "Days between points, 1 to 366 (default 7)."),
                ],
            ))
            .names_records()
            .reply(Reply::Json(200, "AnalyticsTrend")),
        Route::new(Method::GET, "/api/v1/analytics/leaderboard", "get_analytics_leaderboard", get_leaderboard)
            .summary(TAG, "Reps by won amount in the period, with pipeline, deals closing in the period, win rate and cycle.")
            .query(with(scope_params(), vec![Param::new("rep_quota", Ty::Money, "Each rep's quota for the period, in place of the stored ones: enables attainment.")]))
            .names_records()
            .reply(Reply::Json(200, "AnalyticsLeaderboard")),
        Route::new(Method::GET, "/api/v1/analytics/forecast", "get_analytics_forecast", get_forecast)
            .summary(TAG, "The period's statistical forecast for the scope: expected total, P10/P50/P90 from 10,000 seeded trials, what is won, the run-rate of deals not yet created, the stage-weighted pipeline, the gap to quota and the deals that move the number most.")
            .query(with(scope_params(), vec![limit_param(), lang_param()]))
            .names_records()
            .reply(Reply::Json(200, "AnalyticsForecast")),
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
