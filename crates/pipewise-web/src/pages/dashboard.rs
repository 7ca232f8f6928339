//! Dashboards (SPEC C5, C6; issue 6): the organisation, a team or a rep, as of any day.
//!
//! - `/dashboard` shows the organisation to admin, ops and viewers; a manager lands on the team
//!   they lead (or, leading none, on their reporting tree); a rep on themselves.
//!   `?team=ID` and `?owner=ID` choose another subject; `pipeline`, `period` (a quarter,
//!   `2026-Q2`; the as-of day's quarter by default), `as_of` (a date, today by default) and the
//!   quota inputs (`quota` for the subject, `rep_quota` per rep) filter and complete it.
//! - **Row visibility.** A subject is a set of deal owners: the viewer's
//!   `access.deal_scope()` narrowed by the team or owner asked for. Asking for a team or an
//!   owner outside what the viewer may see is the same 404 as one that does not exist, so a
//!   rep only ever sees their own figures and no id they may not see appears on the page.
//!   Figures are attributed to owners (`pipewise_insights` explains why shared deals stay with
//!   their owner).
//! - Every figure comes from `pipewise_analytics::dashboard` (one pass) on the organisation's
//!   projection, read through [`with_projection`], the one place that says where the projection
//!   comes from; trends from `metrics::pipeline_and_outcomes_trend`; health from `health` with reasons in the
//!   viewer's language, as of a past day with the activity facts known then
//!   ([`with_projection_as_of`]).
//! - **Drill-downs.** Every number links to `/opportunities?figure=…` with the same subject,
//!   pipeline, period and as-of day; [`drill`] picks the deals behind the figure by the
//!   analytics' own rules (the waterfall's buckets, win-rate outcomes, flags), so the list has
//!   exactly as many rows as the figure counts deals (less any deal the viewer can no longer
//!   open today).
//! - **Charts** are drawn by `assets/dashboard.js` with the vendored uPlot from a
//!   `<script type="application/json">` block (data, not code, so the strict CSP holds);
//!   every chart has a data table that works without JavaScript.

use pipewise_app as app;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use pipewise_analytics::health::{Flag, HealthReport, Subject as HealthSubject, deal_health};
use pipewise_analytics::metrics::{self, Waterfall, days_every};
use pipewise_analytics::projection::{DealState, Projection};
use pipewise_analytics::{
    ActivityFacts, Dashboard, DashboardQuery, Day, Figure, FlagCode, HealthThresholds, Lever, Membership, Period, Ratio, Scope,
    date_of_day, day_of_date,
};
use pipewise_app::Tx;
use pipewise_app::visibility::{self, Fallback, Resolved, Subject};
use pipewise_core::money::Decimal;
use pipewise_core::records::Team;
use pipewise_core::time::parse_date;
use pipewise_core::user::{Locale, Role};
use pipewise_core::*;
use serde::Serialize;
use serde_json::json;

use super::data::{OrgData, today_in};
use super::list::Choice;
use super::{Params, SignedIn, asset_url, render, respond, see_other, url_with};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, blocking};
use crate::i18n::{self, t, tf};

/// Trend points by default (weeks), and at most.
const TREND_WEEKS: i32 = 12;
const MAX_TREND_WEEKS: i32 = 52;
/// Flagged deals listed on the page (the largest first).
const FLAGGED_DEALS: usize = 15;
/// Quarters offered in the period filter, ending with the as-of day's.
const PERIOD_CHOICES: i32 = 6;

// ---------------------------------------------------------------------------------------------
// Where the projection comes from.

/// Runs `f` on the organisation's analytics projection, current as of this request.
///
/// The one place pages get the projection: the app's registry of followed projections
/// ([`AppState::insights_for`], refreshed from the history log first so a reader sees their
/// own writes), or, without a registry (tests, tools), one loaded for this request.
pub fn with_projection<R>(state: &AppState, org: OrgId, f: impl FnOnce(&Projection) -> R) -> Result<R, AppError> {
    let insights = state.insights_for(org)?;
    Ok(insights.with(f))
}

/// [`with_projection`] with the activity facts as of the end of `as_of`, laid out for that
/// projection: `None` on or after `today`, the viewer's local date, where the projection's own
/// (current) facts are right, even when the viewer's today is still yesterday in UTC. Health as
/// of a past day must read these (`pipewise_insights` has the rule: only what was known then).
pub fn with_projection_as_of<R>(
    state: &AppState,
    org: OrgId,
    as_of: Day,
    today: Day,
    f: impl FnOnce(&Projection, Option<Arc<ActivityFacts>>) -> R,
) -> Result<R, AppError> {
    let insights = state.insights_for(org)?;
    if as_of >= today {
        return Ok(insights.with(|projection| f(projection, None)));
    }
    Ok(insights.with_as_of(as_of, f)?)
}

// ---------------------------------------------------------------------------------------------
// Whose figures: the subject and what the viewer may see.

/// The subject `params` ask for (`owner` before `team`), or the viewer's own ground, by the one
/// rule of `pipewise_app::visibility`: a team or owner the viewer may not see is not found.
pub fn resolve(viewer: &Viewer, data: &OrgData, teams: &[Team], params: &Params) -> Result<Resolved, AppError> {
    let (owner, team) = (params.id("owner").map(UserId), params.id("team").map(TeamId));
    Ok(visibility::resolve_subject(&viewer.access, &viewer.user, &data.users, teams, owner, team, Fallback::Home)?)
}

/// Everything a dashboard or a drill-down is computed for, parsed once from the query string.
#[derive(Clone, Debug)]
pub struct Context {
    pub resolved: Resolved,
    pub as_of: Date,
    pub today: Date,
    pub period: Period,
    pub period_key: String,
    pub pipeline: Option<PipelineId>,
    /// The subject's quota for the period, in reporting minor units.
    pub quota: Option<i64>,
    pub rep_quota: Option<i64>,
    /// Who `rep_quota` applies to: the reps of the subject.
    pub quota_reps: BTreeSet<UserId>,
    /// Whether `quota` was derived from `rep_quota` × reps.
    pub quota_derived: bool,
    pub weeks: i32,
    /// The organisation's health thresholds (`OrgData::health_thresholds`).
    pub thresholds: HealthThresholds,
    /// Problems with the inputs, shown above the figures.
    pub notes: Vec<String>,
}

fn quarter_key(period: Period) -> String {
    let first = date_of_day(period.first);
    format!("{}-Q{}", first.year(), (first.month() - 1) / 3 + 1)
}

fn parse_quarter(key: &str) -> Option<Period> {
    let (year, quarter) = key.split_once("-Q")?;
    let (year, quarter): (i16, i8) = (year.parse().ok()?, quarter.parse().ok()?);
    if !(1..=4).contains(&quarter) {
        return None;
    }
    let first = Date::new(year, (quarter - 1) * 3 + 1, 1).ok()?;
    Some(Period::quarter_of(day_of_date(first)))
}

fn quarter_label(locale: Locale, period: Period) -> String {
    let first = date_of_day(period.first);
    let quarter = ((first.month() - 1) / 3 + 1).to_string();
    tf(locale, "dash.quarter", &[("year", &first.year().to_string()), ("quarter", &quarter)])
}

fn parse_quota(raw: Option<&str>, currency: Currency, locale: Locale, notes: &mut Vec<String>) -> Option<i64> {
    let raw = raw?;
    let cleaned: String = raw.chars().filter(|c| *c != ',' && !c.is_whitespace()).collect();
    match Money::parse_amount(&cleaned, currency) {
        Ok(money) if money.amount() > Decimal::ZERO => i64::try_from(money.amount().mantissa()).ok(),
        _ => {
            notes.push(tf(locale, "dash.bad_quota", &[("value", raw)]));
            None
        }
    }
}

impl Context {
    pub fn parse(viewer: &Viewer, data: &OrgData, teams: &[Team], params: &Params, now: Timestamp) -> Result<Context, AppError> {
        let locale = viewer.user.locale;
        let resolved = resolve(viewer, data, teams, params)?;
        let today = today_in(now, &viewer.user.time_zone);
        let mut notes = Vec::new();
        let as_of = match params.get("as_of") {
            None => today,
            Some(raw) => match parse_date(raw) {
                Ok(date) if date > today => {
                    notes.push(tf(locale, "dash.future_as_of", &[("date", &i18n::date(locale, today))]));
                    today
                }
                Ok(date) => date,
                Err(_) => {
                    notes.push(tf(locale, "dash.bad_date", &[("value", raw)]));
                    today
                }
            },
        };
        let as_of_day = day_of_date(as_of);
        let period = match params.get("period") {
            None => Period::quarter_of(as_of_day),
            Some(key) => parse_quarter(key).unwrap_or_else(|| {
                notes.push(tf(locale, "dash.bad_period", &[("value", key)]));
                Period::quarter_of(as_of_day)
            }),
        };
        let currency = data.organisation.reporting_currency;
        let rep_quota = parse_quota(params.get("rep_quota"), currency, locale, &mut notes);
        let mut quota = parse_quota(params.get("quota"), currency, locale, &mut notes);
        // Quotas per rep go to users with the rep role in the subject; a rep's own dashboard
        // takes either input as their quota.
        let quota_reps: BTreeSet<UserId> = match &resolved.subject {
            Subject::Rep(user) => [*user].into(),
            _ => data
                .users
                .iter()
                .filter(|user| user.role == Role::Rep && resolved.owners.as_ref().is_none_or(|owners| owners.contains(&user.id)))
                .map(|user| user.id)
                .collect(),
        };
        let rep_quota = match &resolved.subject {
            Subject::Rep(_) => rep_quota.or(quota),
            _ => rep_quota,
        };
        let mut quota_derived = false;
        if quota.is_none()
            && let Some(each) = rep_quota
            && !quota_reps.is_empty()
        {
            quota = each.checked_mul(quota_reps.len() as i64);
            quota_derived = !matches!(resolved.subject, Subject::Rep(_));
        }
        let pipeline = params.id("pipeline").map(PipelineId).filter(|id| data.pipeline(*id).is_some());
        let weeks = params.get("weeks").and_then(|raw| raw.parse::<i32>().ok()).unwrap_or(TREND_WEEKS).clamp(2, MAX_TREND_WEEKS);
        Ok(Context {
            resolved,
            as_of,
            today,
            period,
            period_key: quarter_key(period),
            pipeline,
            quota,
            rep_quota,
            quota_reps,
            quota_derived,
            weeks,
            thresholds: data.health_thresholds,
            notes,
        })
    }

    pub fn as_of_day(&self) -> Day {
        day_of_date(self.as_of)
    }

    /// The analytics scope: the subject's owners (as owner indexes) and the pipeline.
    pub fn scope(&self, projection: &Projection) -> Scope {
        let scope = visibility::scope_of(projection, self.resolved.owners.as_ref());
        match self.pipeline.and_then(|id| projection.pipeline_index(id)) {
            Some(index) => scope.in_pipeline(index),
            None => scope,
        }
    }

    /// The dashboard query; `facts` are the activity facts as of the as-of day from
    /// [`with_projection_as_of`] (`None`: the projection's own, today's).
    pub fn query(&self, projection: &Projection, facts: Option<Arc<ActivityFacts>>) -> DashboardQuery {
        let mut query = DashboardQuery::new(self.as_of_day());
        query.thresholds = self.thresholds;
        query.facts = facts;
        query.scope = self.scope(projection);
        query.period = self.period;
        query.quota = self.quota;
        if let Some(each) = self.rep_quota {
            query.rep_quotas = projection
                .owner_ids
                .iter()
                .enumerate()
                .map(|(owner, user)| (query.scope.admits_owner(owner as u32) && self.quota_reps.contains(user)).then_some(each))
                .collect();
        }
        query
    }

    /// The query pairs that name this subject and its filters (for links).
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let (team, owner) = match &self.resolved.subject {
            Subject::Team(team) => (team.to_string(), String::new()),
            Subject::Rep(user) => (String::new(), user.to_string()),
            Subject::Organisation | Subject::Reports => (String::new(), String::new()),
        };
        vec![
            ("team", team),
            ("owner", owner),
            ("pipeline", self.pipeline.map(|id| id.to_string()).unwrap_or_default()),
            ("period", self.period_key.clone()),
            ("as_of", self.as_of.to_string()),
        ]
    }

    /// The deal list of the deals behind `figure`.
    fn drill_href(&self, figure: &str, extra: &[(&'static str, String)]) -> String {
        let mut pairs = vec![("figure", figure.to_owned())];
        pairs.extend(self.pairs());
        pairs.push(("status", "all".to_owned()));
        pairs.extend(extra.iter().cloned());
        url_with("/opportunities", &pairs)
    }

    /// This dashboard for another subject (the quota inputs carried over).
    fn dashboard_href(&self, subject: &[(&'static str, String)]) -> String {
        let mut pairs: Vec<(&str, String)> = subject.to_vec();
        pairs.extend(self.pairs().into_iter().filter(|(key, _)| !matches!(*key, "team" | "owner")));
        pairs.push(("rep_quota", self.rep_quota.map(|quota| quota.to_string()).unwrap_or_default()));
        url_with("/dashboard", &pairs)
    }

    fn subject_name(&self, locale: Locale, data: &OrgData, teams: &[Team]) -> String {
        match &self.resolved.subject {
            Subject::Organisation => data.organisation.name.clone(),
            Subject::Team(id) => teams.iter().find(|team| team.id == *id).map_or_else(|| format!("#{id}"), |team| team.name.clone()),
            Subject::Rep(id) => data.user_name(*id),
            Subject::Reports => t(locale, "dash.my_reports").to_owned(),
        }
    }
}

fn flag_code(raw: &str) -> Option<FlagCode> {
    FlagCode::DEAL.into_iter().find(|code| code.as_str() == raw)
}

/// The deals behind a figure of the dashboard.
pub struct Drill {
    pub ids: HashSet<OpportunityId>,
    /// What the list shows, in the viewer's language.
    pub note: String,
    /// The subject's team, to keep in the list's links.
    pub team: Option<TeamId>,
}

/// The deals behind `?figure=…` for the subject, filters and as-of day in `params` (see the
/// module documentation); `None` when `params` name no figure.
pub fn drill(state: &AppState, viewer: &Viewer, tx: &mut Tx, data: &OrgData, params: &Params) -> Result<Option<Drill>, AppError> {
    let Some(figure) = params.get("figure") else { return Ok(None) };
    let locale = viewer.user.locale;
    // The analytics' own figures (`Figure`), and the deals with a health flag.
    if figure != "flag" && Figure::parse(figure, None).is_none() {
        return Err(AppError::BadRequest(tf(locale, "dash.bad_figure", &[("value", figure)])));
    }
    let teams = app::users::teams(tx, viewer.org)?;
    let context = Context::parse(viewer, data, &teams, params, state.now())?;
    let flag = match figure {
        "flag" => Some(
            params
                .get("flag")
                .and_then(flag_code)
                .ok_or_else(|| AppError::BadRequest(tf(locale, "dash.bad_figure", &[("value", params.raw("flag"))])))?,
        ),
        _ => None,
    };
    let stage = params.id("at_stage").map(StageId);
    let behind_figure = |projection: &Projection, facts: Option<Arc<ActivityFacts>>| {
        let query = context.query(projection, facts);
        let membership = Membership::new(projection, &query.scope);
        let as_of = query.as_of;
        let stage_index = stage.and_then(|id| projection.stage_index(id));
        // Every figure but a health flag is one of the analytics' own.
        let counted = Figure::parse(figure, stage_index);
        let thresholds = query.thresholds;
        let mut ids = HashSet::new();
        // The deals the dashboard's figures visit (`Projection::candidates` for its horizon).
        let candidates = projection.candidates(query.horizon());
        candidates.for_each_in(0..candidates.len(), |deal| {
            let Some(state) = projection.state_at(deal, as_of) else { return };
            let behind = match (counted, flag) {
                (Some(counted), _) => membership.behind(counted, &query, deal, &state),
                (None, Some(code)) => {
                    membership.admits(&state)
                        && deal_health(projection, query.facts(projection), deal, as_of, &thresholds)
                            .is_some_and(|health| health.flags.iter().chain(&health.signals).any(|raised| raised.code == code))
                }
                (None, None) => false,
            };
            if behind {
                ids.insert(projection.deals().id[deal as usize]);
            }
        });
        ids
    };
    // Only flags read the activity facts: the other figures need not read a past day's.
    let ids = match flag {
        Some(_) => with_projection_as_of(state, viewer.org, context.as_of_day(), day_of_date(context.today), behind_figure)?,
        None => with_projection(state, viewer.org, |projection| behind_figure(projection, None))?,
    };
    let subject = context.subject_name(locale, data, &teams);
    let what = match (figure, flag) {
        (_, Some(code)) => flag_label(locale, code),
        ("stage", _) => {
            let name = stage.map(|id| data.stage_name(locale, id)).unwrap_or_default();
            tf(locale, "dash.figure.stage", &[("stage", &name)])
        }
        _ => t(locale, &format!("dash.figure.{figure}")).to_owned(),
    };
    let note = tf(
        locale,
        "dash.drill_note",
        &[
            ("figure", &what),
            ("subject", &subject),
            ("date", &i18n::date(locale, context.as_of)),
            ("period", &quarter_label(locale, context.period)),
        ],
    );
    let team = match context.resolved.subject {
        Subject::Team(team) => Some(team),
        _ => None,
    };
    Ok(Some(Drill { ids, note, team }))
}

/// The drill-down's own parameters, kept by the deal list's sort links, pager, export and
/// filter form as hidden fields.
pub fn drill_filters(drill: &Drill, params: &Params) -> Vec<super::list::Filter> {
    let hidden =
        |name: &'static str, value: String| super::list::Filter { name, label: String::new(), kind: "hidden", value, choices: Vec::new() };
    let mut filters: Vec<super::list::Filter> = ["figure", "as_of", "period", "at_stage", "flag"]
        .into_iter()
        .map(|name| hidden(name, params.raw(name).trim().to_owned()))
        .collect();
    filters.push(hidden("team", drill.team.map(|team| team.to_string()).unwrap_or_default()));
    filters
}

// ---------------------------------------------------------------------------------------------
// The page.

pub async fn dashboard(State(state): State<AppState>, SignedIn(viewer): SignedIn, RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query.as_deref());
    // The subject picker sends `view=team:3`; answer with the canonical `team=3` address.
    if let Some(view) = params.get("view") {
        let mut pairs: Vec<(&str, String)> = match view.split_once(':') {
            Some(("team", id)) => vec![("team", id.to_owned())],
            Some(("owner", id)) => vec![("owner", id.to_owned())],
            _ => Vec::new(),
        };
        for key in ["pipeline", "period", "as_of", "quota", "rep_quota", "weeks"] {
            if let Some(value) = params.get(key) {
                pairs.push((key, value.to_owned()));
            }
        }
        return see_other(&url_with("/dashboard", &pairs));
    }
    let reader = viewer.clone();
    let result = blocking(move || render_dashboard(&state, &reader, &params)).await;
    respond(&viewer, result)
}

#[derive(Serialize)]
struct Tile {
    key: &'static str,
    label: String,
    value: String,
    detail: String,
    title: String,
    href: Option<String>,
    /// Secondary links: (text, href).
    links: Vec<(String, String)>,
}

#[derive(Serialize)]
struct StageRow {
    name: String,
    count: String,
    amount: String,
    weighted: String,
    share: String,
    href: String,
}

#[derive(Serialize)]
struct WaterfallRow {
    key: &'static str,
    label: String,
    count: String,
    amount: String,
    /// `total`, `up`, `down` or `flat`.
    kind: &'static str,
    href: String,
}

#[derive(Serialize)]
struct TrendRow {
    date: String,
    pipeline: String,
    weighted: String,
    win_rate: String,
}

#[derive(Serialize)]
struct FlagView {
    code: &'static str,
    label: String,
    reason: String,
    healthy: bool,
}

#[derive(Serialize)]
struct CountView {
    code: &'static str,
    label: String,
    count: String,
    healthy: bool,
    href: String,
}

#[derive(Serialize)]
struct GroupView {
    name: String,
    href: Option<String>,
    flags: Vec<FlagView>,
}

#[derive(Serialize)]
struct DealFlags {
    name: String,
    href: String,
    owner: String,
    amount: String,
    flags: Vec<FlagView>,
}

#[derive(Serialize)]
struct LeverView {
    kind: &'static str,
    title: String,
    reason: String,
}

#[derive(Serialize)]
struct LeaderRow {
    rank: usize,
    name: String,
    href: String,
    won: String,
    won_count: String,
    won_href: String,
    attainment: String,
    pipeline: String,
    pipeline_href: String,
    win_rate: String,
    cycle: String,
}

#[derive(Serialize)]
struct Assets {
    uplot_js: String,
    uplot_css: String,
    dashboard_js: String,
    dashboard_css: String,
}

#[derive(Serialize)]
struct FilterView {
    pipelines: Vec<Choice>,
    pipeline: String,
    periods: Vec<Choice>,
    period: String,
    as_of: String,
    today: String,
    quota: String,
    rep_quota: String,
    weeks: String,
    team: String,
    owner: String,
    /// The subject picker: (group label, choices).
    views: Vec<(String, Vec<Choice>)>,
    view: String,
}

#[derive(Serialize)]
struct DashboardView {
    heading: String,
    subtitle: String,
    notes: Vec<String>,
    quota_note: String,
    filters: FilterView,
    tiles: Vec<Tile>,
    lever: Option<LeverView>,
    /// Why there is no lever: no quota given, or nothing left to win.
    lever_missing: String,
    stages: Vec<StageRow>,
    stage_total: StageRow,
    spread: Option<FlagView>,
    waterfall: Vec<WaterfallRow>,
    waterfall_span: String,
    reconciles: String,
    reconciled: bool,
    trend: Vec<TrendRow>,
    trend_caption: String,
    health_title: String,
    health_flags: Vec<FlagView>,
    health_signals: Vec<FlagView>,
    deal_counts: Vec<CountView>,
    team_stalls: Vec<GroupView>,
    rep_stalls: Vec<GroupView>,
    groups: Vec<GroupView>,
    flagged: Vec<DealFlags>,
    leaderboard: Vec<LeaderRow>,
    show_attainment: bool,
    charts: serde_json::Value,
    assets: Assets,
}

/// Reporting minor units as money.
fn money_of(minor: i128, currency: Currency) -> Money {
    let amount = Decimal::try_from_i128_with_scale(minor, u32::from(currency.minor_units())).unwrap_or(Decimal::MAX);
    Money::new(amount, currency).unwrap_or_else(|_| Money::zero(currency))
}

/// Major units as a float, for charts only.
fn chart_amount(minor: i128, currency: Currency) -> f64 {
    minor as f64 / 10f64.powi(i32::from(currency.minor_units()))
}

fn percent_text(ratio: Option<Ratio>) -> String {
    ratio.map_or_else(|| "—".to_owned(), |ratio| format!("{}%", ratio.percent(1)))
}

fn days_text(locale: Locale, ratio: Option<Ratio>) -> String {
    ratio.map_or_else(|| "—".to_owned(), |ratio| tf(locale, "dash.days", &[("days", &ratio.round(1).to_string())]))
}

fn count_text(count: impl ToString) -> String {
    i18n::group(count.to_string().parse::<i64>().unwrap_or(0))
}

pub fn flag_label(locale: Locale, code: FlagCode) -> String {
    t(locale, &format!("health.{}", code.as_str())).to_owned()
}

fn flag_view(locale: Locale, projection: &Projection, flag: &Flag) -> FlagView {
    FlagView {
        code: flag.code.as_str(),
        label: flag_label(locale, flag.code),
        reason: i18n::health_reason(locale, projection, flag),
        healthy: flag.code.is_healthy(),
    }
}

fn stage_label(locale: Locale, projection: &Projection, stage: u16, with_pipeline: bool) -> String {
    let info = &projection.stages[stage as usize];
    let name = match locale {
        Locale::Ko if !info.name_ko.trim().is_empty() => info.name_ko.clone(),
        _ => info.name_en.clone(),
    };
    if with_pipeline { format!("{} · {name}", projection.pipelines[info.pipeline as usize].name) } else { name }
}

fn render_dashboard(state: &AppState, viewer: &Viewer, params: &Params) -> Result<Response, AppError> {
    let locale = viewer.user.locale;
    let now = state.now();
    let mut tx = state.db.read()?;
    let data = OrgData::load_without_accounts(&mut tx, viewer.org, now)?;
    let teams = app::users::teams(&mut tx, viewer.org)?;
    let context = Context::parse(viewer, &data, &teams, params, now)?;
    let (mut view, flagged_ids) =
        with_projection_as_of(state, viewer.org, context.as_of_day(), day_of_date(context.today), |projection, facts| {
            build_view(viewer, &data, &teams, &context, projection, facts)
        })?;
    // Names of the flagged deals, through the visibility-checked read.
    for (row, (id, owner)) in view.flagged.iter_mut().zip(flagged_ids) {
        if let Some(deal) = app::deals::opportunity_for(&mut tx, viewer.org, &viewer.access, id)? {
            row.name = deal.name;
        }
        row.owner = data.user_name(owner);
    }
    view.flagged.retain(|row| !row.name.is_empty());
    let title = format!("{} · {}", t(locale, "dash.title"), view.heading);
    render::page(viewer, StatusCode::OK, "dashboard.html", "dashboard", title, &view)
}

/// The whole page from one projection and the activity facts as of the as-of day (`None`:
/// the projection's own); also returns the flagged deals' ids and owners (their names are read
/// afterwards, through the visibility-checked reads).
fn build_view(
    viewer: &Viewer,
    data: &OrgData,
    teams: &[Team],
    context: &Context,
    projection: &Projection,
    facts: Option<Arc<ActivityFacts>>,
) -> (DashboardView, Vec<(OpportunityId, UserId)>) {
    let locale = viewer.user.locale;
    let currency = projection.reporting_currency();
    let money = |minor: i128| i18n::money(locale, money_of(minor, currency));
    let compact = |minor: i128| i18n::money_compact(locale, money_of(minor, currency));
    let query = context.query(projection, facts);
    let board: Dashboard = pipewise_analytics::dashboard(projection, &query);
    let with_pipeline = query.scope.pipeline.is_none() && projection.pipelines.len() > 1;
    let visible = visibility::visible_owners(&viewer.access);

    // Headline numbers.
    let pipeline = &board.pipeline;
    let outcomes = &board.outcomes;
    let won_in_period: i128 = board.leaderboard.iter().map(|row| row.won_amount).sum();
    let won_count_in_period: u64 = board.leaderboard.iter().map(|row| row.won_count).sum();
    let mut tiles = vec![
        Tile {
            key: "open",
            label: t(locale, "dash.open_pipeline").to_owned(),
            value: compact(pipeline.amount),
            detail: tf(locale, "dash.open_detail", &[("count", &count_text(pipeline.count)), ("weighted", &compact(pipeline.weighted))]),
            title: tf(locale, "dash.open_title", &[("amount", &money(pipeline.amount)), ("weighted", &money(pipeline.weighted))]),
            href: Some(context.drill_href("open", &[])),
            links: Vec::new(),
        },
        match &board.coverage {
            Some(coverage) => Tile {
                key: "coverage",
                label: t(locale, "dash.coverage").to_owned(),
                value: coverage.ratio.map_or_else(
                    || t(locale, "dash.quota_met").to_owned(),
                    |ratio| tf(locale, "dash.times", &[("value", &ratio.round(2).to_string())]),
                ),
                detail: tf(
                    locale,
                    "dash.coverage_detail",
                    &[("open", &compact(coverage.open_closing_in_period)), ("remaining", &compact(coverage.remaining_quota))],
                ),
                title: tf(
                    locale,
                    "dash.coverage_title",
                    &[
                        ("open", &money(coverage.open_closing_in_period)),
                        ("quota", &money(i128::from(coverage.quota))),
                        ("won", &money(coverage.won_in_period)),
                        ("remaining", &money(coverage.remaining_quota)),
                    ],
                ),
                href: Some(context.drill_href("closing", &[])),
                links: Vec::new(),
            },
            None => Tile {
                key: "coverage",
                label: t(locale, "dash.coverage").to_owned(),
                value: "—".to_owned(),
                detail: t(locale, "dash.coverage_needs_quota").to_owned(),
                title: t(locale, "dash.quota_note").to_owned(),
                href: Some(context.drill_href("closing", &[])),
                links: Vec::new(),
            },
        },
        Tile {
            key: "won_period",
            label: t(locale, "dash.won_period").to_owned(),
            value: compact(won_in_period),
            detail: tf(locale, "dash.won_period_detail", &[("count", &count_text(won_count_in_period))]),
            title: money(won_in_period),
            href: Some(context.drill_href("won_period", &[])),
            links: Vec::new(),
        },
        Tile {
            key: "win_rate",
            label: t(locale, "dash.win_rate").to_owned(),
            value: percent_text(outcomes.win_rate_by_count()),
            detail: tf(
                locale,
                "dash.win_rate_detail",
                &[
                    ("won", &count_text(outcomes.won)),
                    ("lost", &count_text(outcomes.lost)),
                    ("value", &percent_text(outcomes.win_rate_by_value())),
                ],
            ),
            title: t(locale, "dash.window_note").to_owned(),
            href: Some(context.drill_href("closed", &[])),
            links: vec![
                (t(locale, "dash.link.won").to_owned(), context.drill_href("won", &[])),
                (t(locale, "dash.link.lost").to_owned(), context.drill_href("lost", &[])),
            ],
        },
        Tile {
            key: "cycle",
            label: t(locale, "dash.cycle").to_owned(),
            value: days_text(locale, outcomes.average_cycle_days()),
            detail: tf(locale, "dash.cycle_detail", &[("size", &outcomes.average_deal_size().map_or_else(|| "—".to_owned(), &compact))]),
            title: t(locale, "dash.window_note").to_owned(),
            href: Some(context.drill_href("won", &[])),
            links: Vec::new(),
        },
        Tile {
            key: "velocity",
            label: t(locale, "dash.velocity").to_owned(),
            value: board
                .velocity
                .map_or_else(|| "—".to_owned(), |velocity| tf(locale, "dash.per_day", &[("amount", &compact(velocity.per_day))])),
            detail: t(locale, "dash.velocity_detail").to_owned(),
            title: board.velocity.map_or_else(String::new, |velocity| {
                tf(
                    locale,
                    "dash.velocity_title",
                    &[
                        ("open", &count_text(velocity.open_deals)),
                        ("rate", &percent_text(Some(velocity.win_rate))),
                        ("size", &money(velocity.average_deal_size.numerator / velocity.average_deal_size.denominator.max(1))),
                        ("cycle", &velocity.average_cycle_days.round(1).to_string()),
                        ("amount", &money(velocity.per_day)),
                    ],
                )
            }),
            href: Some(context.drill_href("open", &[])),
            links: Vec::new(),
        },
    ];
    if board.coverage.is_none() {
        // Coverage needs a quota: keep the tile, but it links to the deals closing in the period.
        tiles[1].links.push((t(locale, "dash.figure.closing").to_owned(), context.drill_href("closing", &[])));
    }

    // Pipeline by stage.
    let stage_rows: Vec<StageRow> = pipeline
        .lines
        .iter()
        .map(|line| StageRow {
            name: stage_label(locale, projection, line.stage, with_pipeline),
            count: count_text(line.count),
            amount: money(line.amount),
            weighted: money(line.weighted),
            share: percent_text(Ratio::new(line.amount, pipeline.amount)),
            href: context.drill_href("stage", &[("at_stage", projection.stages[line.stage as usize].id.to_string())]),
        })
        .collect();
    let stage_total = StageRow {
        name: t(locale, "dash.total").to_owned(),
        count: count_text(pipeline.count),
        amount: money(pipeline.amount),
        weighted: money(pipeline.weighted),
        share: if pipeline.amount > 0 { "100%".to_owned() } else { "—".to_owned() },
        href: context.drill_href("open", &[]),
    };

    // Health of the subject.
    // The subject's own report: a rep's (with their late-stage and stalling flags), else the
    // scope's as a whole (computed with the subject's quota, like coverage and the lever);
    // team stalls are listed on their own below.
    let subject_report: &HealthReport = match &context.resolved.subject {
        Subject::Rep(user) => projection
            .owner_index(*user)
            .and_then(|owner| board.health.reps.iter().find(|report| report.subject == HealthSubject::Rep(owner)))
            .unwrap_or(&board.health.organisation),
        _ => &board.health.organisation,
    };
    let spread = board
        .health
        .organisation
        .signals
        .iter()
        .find(|signal| signal.code == FlagCode::ValueSpread)
        .map(|signal| flag_view(locale, projection, signal))
        .or_else(|| {
            // Not spread: say where the value sits.
            let largest = pipeline.lines.iter().max_by_key(|line| line.amount)?;
            let share = Ratio::new(largest.amount, pipeline.amount)?;
            Some(FlagView {
                code: "value_concentrated",
                label: t(locale, "dash.concentrated").to_owned(),
                reason: tf(
                    locale,
                    "dash.concentrated_reason",
                    &[("stage", &stage_label(locale, projection, largest.stage, with_pipeline)), ("share", &percent_text(Some(share)))],
                ),
                healthy: false,
            })
        });
    let lever = board.health.organisation.lever.map(|advice| LeverView {
        kind: advice.lever.as_str(),
        title: t(
            locale,
            match advice.lever {
                Lever::FillTheFunnel => "dash.lever.fill",
                Lever::ConvertWhatYouHave => "dash.lever.convert",
            },
        )
        .to_owned(),
        reason: i18n::lever_reason(locale, &advice),
    });
    let owner_name = |owner: u32| data.user_name(projection.owner_ids[owner as usize]);
    let owner_visible = |owner: u32| visible.as_ref().is_none_or(|visible| visible.contains(&projection.owner_ids[owner as usize]));
    let team_name = |team: u32| {
        let id = projection.team_ids[team as usize];
        teams.iter().find(|candidate| candidate.id == id).map_or_else(|| format!("#{id}"), |team| team.name.clone())
    };
    let group_of = |report: &HealthReport, only: Option<FlagCode>| -> Option<GroupView> {
        let flags: Vec<FlagView> = report
            .flags
            .iter()
            .filter(|flag| only.is_none_or(|code| flag.code == code))
            .map(|flag| flag_view(locale, projection, flag))
            .collect();
        if flags.is_empty() {
            return None;
        }
        let (name, href) = match report.subject {
            HealthSubject::Rep(owner) if owner_visible(owner) => {
                (owner_name(owner), Some(context.dashboard_href(&[("owner", projection.owner_ids[owner as usize].to_string())])))
            }
            HealthSubject::Team(team) => {
                let id = projection.team_ids[team as usize];
                let href = (visible.is_none()
                    || data.users.iter().any(|user| user.team_id == Some(id) && visible.as_ref().is_some_and(|v| v.contains(&user.id))))
                .then(|| context.dashboard_href(&[("team", id.to_string())]));
                (team_name(team), href)
            }
            HealthSubject::Organisation => (context.subject_name(locale, data, teams), None),
            HealthSubject::Rep(_) => return None,
        };
        Some(GroupView { name, href, flags })
    };
    let team_stalls: Vec<GroupView> =
        board.health.teams.iter().filter_map(|report| group_of(report, Some(FlagCode::TeamStalling))).collect();
    let rep_stalls: Vec<GroupView> = board.health.reps.iter().filter_map(|report| group_of(report, Some(FlagCode::RepStalling))).collect();
    let mut groups: Vec<GroupView> = Vec::new();
    if !matches!(context.resolved.subject, Subject::Rep(_)) {
        groups.extend(board.health.teams.iter().filter_map(|report| {
            let mut group = group_of(report, None)?;
            group.flags.retain(|flag| flag.code != "team_stalling");
            (!group.flags.is_empty()).then_some(group)
        }));
        groups.extend(board.health.reps.iter().filter_map(|report| {
            let mut group = group_of(report, None)?;
            group.flags.retain(|flag| flag.code != "rep_stalling");
            (!group.flags.is_empty()).then_some(group)
        }));
    }
    let deal_counts: Vec<CountView> = FlagCode::DEAL
        .iter()
        .zip(subject_report.deal_counts)
        .map(|(code, count)| CountView {
            code: code.as_str(),
            label: flag_label(locale, *code),
            count: count_text(count),
            healthy: code.is_healthy(),
            href: context.drill_href("flag", &[("flag", code.as_str().to_owned())]),
        })
        .collect();

    // The largest open deals in scope with a problem flag.
    let membership = Membership::new(projection, &query.scope);
    let thresholds = query.thresholds;
    // Only the deals that can be open as of the day (`Projection::candidates`).
    let candidates = projection.candidates(query.as_of.saturating_add(1));
    let mut open: Vec<(i64, u32, DealState)> = Vec::new();
    candidates.for_each_in(0..candidates.len(), |deal| {
        let Some(state) = projection.state_at(deal, query.as_of) else { return };
        if projection.stages[state.stage as usize].is_open() && membership.admits(&state) {
            open.push((state.amount_or_zero(), deal, state));
        }
    });
    // Ties by deal id: the same list whatever order the projection holds the deals in.
    let ids = &projection.deals().id;
    open.sort_by_key(|(amount, deal, _)| (std::cmp::Reverse(*amount), ids[*deal as usize]));
    let mut flagged = Vec::new();
    let mut flagged_ids = Vec::new();
    for (amount, deal, state) in open {
        if flagged.len() == FLAGGED_DEALS {
            break;
        }
        let Some(health) = deal_health(projection, query.facts(projection), deal, query.as_of, &thresholds) else { continue };
        if health.flags.is_empty() {
            continue;
        }
        let id = projection.deals().id[deal as usize];
        flagged.push(DealFlags {
            name: String::new(),
            href: format!("/opportunities/{id}"),
            owner: String::new(),
            amount: money(i128::from(amount)),
            flags: health.flags.iter().map(|flag| flag_view(locale, projection, flag)).collect(),
        });
        flagged_ids.push((id, projection.owner_ids[state.owner as usize]));
    }

    // Waterfall.
    let waterfall: &Waterfall = &board.waterfall;
    let mut waterfall_rows = vec![WaterfallRow {
        key: "start",
        label: t(locale, "dash.wf.start").to_owned(),
        count: count_text(waterfall.start.count),
        amount: money(waterfall.start.amount),
        kind: "total",
        href: context.drill_href("wf_start", &[]),
    }];
    for (name, bucket) in waterfall.movements() {
        let name = name.as_str();
        waterfall_rows.push(WaterfallRow {
            key: name,
            label: t(locale, &format!("dash.wf.{name}")).to_owned(),
            count: count_text(bucket.count.abs()),
            amount: money(bucket.amount),
            kind: match bucket.amount.signum() {
                1 => "up",
                -1 => "down",
                _ => "flat",
            },
            href: context.drill_href(&format!("wf_{name}"), &[]),
        });
    }
    waterfall_rows.push(WaterfallRow {
        key: "end",
        label: t(locale, "dash.wf.end").to_owned(),
        count: count_text(waterfall.end.count),
        amount: money(waterfall.end.amount),
        kind: "total",
        href: context.drill_href("wf_end", &[]),
    });
    let movement_sum: i128 = waterfall.movements().iter().map(|(_, bucket)| bucket.amount).sum();
    let reconciled = waterfall.reconciles();
    let reconciles = tf(
        locale,
        if reconciled { "dash.wf.reconciles" } else { "dash.wf.does_not_reconcile" },
        &[("start", &money(waterfall.start.amount)), ("moves", &money(movement_sum)), ("end", &money(waterfall.end.amount))],
    );
    let waterfall_span = tf(
        locale,
        "dash.wf.span",
        &[
            ("period", &quarter_label(locale, context.period)),
            ("from", &i18n::date(locale, date_of_day(waterfall.from))),
            ("to", &i18n::date(locale, date_of_day(waterfall.to))),
        ],
    );

    // Trends, weekly up to the as-of day. They read history only: no activity-derived figure
    // is drawn as a trend (each day would need its own facts, `with_projection_as_of`).
    let days = days_every(query.as_of - 7 * (context.weeks - 1), query.as_of, 7);
    // One pass for every week (`metrics::pipeline_and_outcomes_trend`).
    let trend_points: Vec<metrics::TrendPoint<(i128, i128, Option<Ratio>)>> =
        metrics::pipeline_and_outcomes_trend(projection, &query.scope, &days, 365)
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
            pipeline: money(point.value.0),
            weighted: money(point.value.1),
            win_rate: percent_text(point.value.2),
        })
        .collect();

    // Leaderboard: reps in scope only (every row is someone the viewer may see).
    let show_attainment = board.leaderboard.iter().any(|row| row.quota.is_some());
    let leaderboard: Vec<LeaderRow> = board
        .leaderboard
        .iter()
        .filter(|row| owner_visible(row.owner))
        .enumerate()
        .map(|(rank, row)| {
            let rep = context.dashboard_href(&[("owner", row.user_id.to_string())]);
            let rep_drill = |figure: &str| {
                let mut pairs = vec![("figure", figure.to_owned()), ("owner", row.user_id.to_string())];
                pairs.extend(context.pairs().into_iter().filter(|(key, _)| !matches!(*key, "team" | "owner")));
                pairs.push(("status", "all".to_owned()));
                url_with("/opportunities", &pairs)
            };
            LeaderRow {
                rank: rank + 1,
                name: data.user_name(row.user_id),
                href: rep,
                won: money(row.won_amount),
                won_count: count_text(row.won_count),
                won_href: rep_drill("won_period"),
                attainment: percent_text(row.attainment),
                pipeline: money(row.pipeline_amount),
                pipeline_href: rep_drill("open"),
                win_rate: percent_text(row.win_rate()),
                cycle: days_text(locale, row.average_cycle_days()),
            }
        })
        .collect();

    // Chart data (floats for drawing only; the tables carry the exact figures).
    let chart_labels: Vec<String> = pipeline.lines.iter().map(|line| stage_label(locale, projection, line.stage, false)).collect();
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
        wf_kind.push(match bucket.amount.signum() {
            1 => "up",
            -1 => "down",
            _ => "flat",
        });
        running = next;
    }
    wf_labels.push(t(locale, "dash.wf.end").to_owned());
    wf_low.push(0.0);
    wf_high.push(chart_amount(waterfall.end.amount, currency));
    wf_kind.push("total");
    let charts = json!({
        "locale": locale.as_str(),
        "currency": currency.code(),
        "stages": {
            "labels": chart_labels,
            "amount": pipeline.lines.iter().map(|line| chart_amount(line.amount, currency)).collect::<Vec<_>>(),
            "weighted": pipeline.lines.iter().map(|line| chart_amount(line.weighted, currency)).collect::<Vec<_>>(),
            "count": pipeline.lines.iter().map(|line| line.count).collect::<Vec<_>>(),
        },
        "waterfall": { "labels": wf_labels, "low": wf_low, "high": wf_high, "kind": wf_kind },
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
    });

    // Filters and the subject picker.
    let as_of_day = query.as_of;
    let mut periods = Vec::new();
    let mut quarter = Period::quarter_of(as_of_day);
    for _ in 0..PERIOD_CHOICES {
        periods.push(Choice { value: quarter_key(quarter), label: quarter_label(locale, quarter) });
        quarter = Period::quarter_of(quarter.first - 1);
    }
    if !periods.iter().any(|choice| choice.value == context.period_key) {
        periods.insert(0, Choice { value: context.period_key.clone(), label: quarter_label(locale, context.period) });
    }
    let mut views = Vec::new();
    if visible.is_none() {
        views.push((
            t(locale, "dash.organisation").to_owned(),
            vec![Choice { value: String::new(), label: data.organisation.name.clone() }],
        ));
    } else if viewer.user.role == Role::Manager {
        views.push((
            t(locale, "dash.default_view").to_owned(),
            vec![Choice { value: String::new(), label: t(locale, "dash.my_view").to_owned() }],
        ));
    }
    let visible_teams: Vec<Choice> = teams
        .iter()
        .filter(|team| {
            visible.is_none()
                || data.users.iter().any(|user| user.team_id == Some(team.id) && visible.as_ref().is_some_and(|v| v.contains(&user.id)))
        })
        .map(|team| Choice { value: format!("team:{}", team.id), label: team.name.clone() })
        .collect();
    if !visible_teams.is_empty() && viewer.user.role != Role::Rep {
        views.push((t(locale, "dash.teams").to_owned(), visible_teams));
    }
    let reps: Vec<Choice> = data
        .visible_owners(viewer)
        .into_iter()
        .filter(|user| matches!(user.role, Role::Rep | Role::Manager))
        .map(|user| Choice { value: format!("owner:{}", user.id), label: user.name.clone() })
        .collect();
    views.push((t(locale, "dash.reps").to_owned(), reps));
    let view_value = match &context.resolved.subject {
        Subject::Team(team) => format!("team:{team}"),
        Subject::Rep(user) => format!("owner:{user}"),
        _ => String::new(),
    };
    let filters = FilterView {
        pipelines: data.pipelines.iter().map(|pipeline| Choice { value: pipeline.id.to_string(), label: pipeline.name.clone() }).collect(),
        pipeline: context.pipeline.map(|id| id.to_string()).unwrap_or_default(),
        periods,
        period: context.period_key.clone(),
        as_of: context.as_of.to_string(),
        today: context.today.to_string(),
        quota: context
            .quota
            .filter(|_| !context.quota_derived)
            .map(|quota| money_of(i128::from(quota), currency).amount().to_string())
            .unwrap_or_default(),
        rep_quota: context.rep_quota.map(|quota| money_of(i128::from(quota), currency).amount().to_string()).unwrap_or_default(),
        weeks: context.weeks.to_string(),
        team: match &context.resolved.subject {
            Subject::Team(team) => team.to_string(),
            _ => String::new(),
        },
        owner: match &context.resolved.subject {
            Subject::Rep(user) => user.to_string(),
            _ => String::new(),
        },
        views,
        view: view_value,
    };
    let heading = context.subject_name(locale, data, teams);
    let subject_kind = match &context.resolved.subject {
        Subject::Organisation => t(locale, "dash.kind.organisation"),
        Subject::Team(_) => t(locale, "dash.kind.team"),
        Subject::Rep(_) => t(locale, "dash.kind.rep"),
        Subject::Reports => t(locale, "dash.kind.reports"),
    };
    let pipeline_name =
        context.pipeline.and_then(|id| data.pipeline(id)).map_or_else(|| t(locale, "dash.all_pipelines").to_owned(), |p| p.name.clone());
    let subtitle = tf(
        locale,
        "dash.subtitle",
        &[
            ("kind", subject_kind),
            ("date", &i18n::date(locale, context.as_of)),
            ("period", &quarter_label(locale, context.period)),
            ("first", &i18n::date(locale, date_of_day(context.period.first))),
            ("last", &i18n::date(locale, date_of_day(context.period.last))),
            ("pipeline", &pipeline_name),
            ("currency", currency.code()),
        ],
    );
    let quota_note = match (context.quota, context.quota_derived) {
        (Some(quota), true) => tf(locale, "dash.quota_derived", &[("quota", &money(i128::from(quota)))]),
        (Some(quota), false) => tf(locale, "dash.quota_given", &[("quota", &money(i128::from(quota)))]),
        (None, _) => t(locale, "dash.quota_note").to_owned(),
    };
    let view = DashboardView {
        heading,
        subtitle,
        notes: context.notes.clone(),
        quota_note,
        filters,
        tiles,
        lever,
        lever_missing: t(locale, if context.quota.is_some() { "dash.lever.met" } else { "dash.lever.needs_quota" }).to_owned(),
        stages: stage_rows,
        stage_total,
        spread,
        waterfall: waterfall_rows,
        waterfall_span,
        reconciles,
        reconciled,
        trend: trend_rows,
        trend_caption: tf(locale, "dash.trend_caption", &[("weeks", &context.weeks.to_string())]),
        health_title: tf(locale, "dash.health_of", &[("subject", &context.subject_name(locale, data, teams))]),
        health_flags: subject_report.flags.iter().map(|flag| flag_view(locale, projection, flag)).collect(),
        health_signals: subject_report.signals.iter().map(|flag| flag_view(locale, projection, flag)).collect(),
        deal_counts,
        team_stalls,
        rep_stalls,
        groups,
        flagged,
        leaderboard,
        show_attainment,
        charts,
        assets: Assets {
            uplot_js: asset_url("uPlot.iife.min.js"),
            uplot_css: asset_url("uPlot.min.css"),
            dashboard_js: asset_url("dashboard.js"),
            dashboard_css: asset_url("dashboard.css"),
        },
    };
    (view, flagged_ids)
}

// ---------------------------------------------------------------------------------------------
// Board badges.

/// A deal's health badge on the board: a short label and the plain-language reason.
#[derive(Clone, Debug, Serialize)]
pub struct Badge {
    pub code: &'static str,
    pub label: String,
    pub reason: String,
}

/// The health badges (problem flags only) of each of `deals` as of `today` (the viewer's local
/// date: current facts) under the organisation's `thresholds`, by deal id.
pub fn badges(
    state: &AppState,
    org: OrgId,
    locale: Locale,
    deals: &[OpportunityId],
    today: Date,
    thresholds: &HealthThresholds,
) -> Result<HashMap<OpportunityId, Vec<Badge>>, AppError> {
    let day = day_of_date(today);
    with_projection_as_of(state, org, day, day, |projection, facts| {
        let facts = facts.as_deref().unwrap_or(&projection.activity);
        deals
            .iter()
            .filter_map(|id| {
                let deal = projection.deal_index(*id)?;
                let health = deal_health(projection, facts, deal, day, thresholds)?;
                let badges: Vec<Badge> = health
                    .flags
                    .iter()
                    .map(|flag| Badge {
                        code: flag.code.as_str(),
                        label: match flag.code {
                            FlagCode::CloseDatePushed => tf(locale, "health.badge.pushed", &[("count", &flag.value.to_string())]),
                            code => flag_label(locale, code),
                        },
                        reason: i18n::health_reason(locale, projection, flag),
                    })
                    .collect();
                Some((*id, badges))
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarters_round_trip() {
        let period = parse_quarter("2026-Q2").unwrap();
        assert_eq!(
            (date_of_day(period.first).to_string(), date_of_day(period.last).to_string()),
            ("2026-04-01".into(), "2026-06-30".into())
        );
        assert_eq!(quarter_key(period), "2026-Q2");
        assert_eq!(parse_quarter("2026-Q5"), None);
        assert_eq!(parse_quarter("junk"), None);
        assert_eq!(quarter_label(Locale::Ko, period), "2026년 2분기");
        assert_eq!(quarter_label(Locale::En, period), "Q2 2026");
    }

    #[test]
    fn money_from_minor_units() {
        assert_eq!(i18n::money(Locale::En, money_of(1_234_567, Currency::USD)), "USD 12,345.67");
        assert_eq!(i18n::money(Locale::Ko, money_of(-500, Currency::USD)), "USD -5.00");
        assert_eq!(chart_amount(1_234_567, Currency::USD), 12_345.67);
    }

    #[test]
    fn every_figure_and_flag_has_a_label() {
        // A stage's figure is worded with the stage's name (`dash.figure.stage`).
        let figures = [Figure::Open, Figure::Closing, Figure::Won, Figure::Lost, Figure::Closed, Figure::WonInPeriod]
            .into_iter()
            .chain(pipewise_analytics::WaterfallBucket::ALL.map(Figure::Waterfall));
        for figure in figures {
            let name = figure.name();
            assert_eq!(Figure::parse(&name, None), Some(figure));
            assert!(i18n::has(&format!("dash.figure.{name}")), "{name}");
        }
        for code in FlagCode::DEAL {
            assert!(i18n::has(&format!("health.{}", code.as_str())), "{code:?}");
        }
    }
}
