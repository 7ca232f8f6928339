//! Dashboards (SPEC C5, C6; issue 6): the organisation, a team or a rep, as of any day.
//!
//! - `/dashboard` shows the organisation to admin, ops and viewers; a manager lands on the team
//!   they lead (or, leading none, on their reporting tree); a rep on themselves.
//!   `?team=ID` and `?owner=ID` choose another subject; `pipeline`, `period` (a fiscal period of
//!   the organisation's calendar, `2027-Q1`, `2027-M03`, `2027`; the as-of day's quarter by
//!   default) and `as_of` (a date, today by default) filter it.
//! - **Quotas** are the stored ones (`pipewise_app::quotas::quota_book`): a rep's own, a team's
//!   own else the sum of its reps', the organisation's the sum of its reps'. The quota inputs
//!   (`quota` for the subject, `rep_quota` per rep) try another figure without storing it.
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
//! - **Code map.** `context` parses the subject and filters; `drill` answers drill-downs;
//!   `build` composes the page from `headline`, `health` and `trends` into the `view` types;
//!   `badges` words health flags for the board.

mod badges;
mod build;
mod context;
mod drill;
mod forecast;
mod headline;
mod health;
mod performance;
mod trends;
mod view;

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use pipewise_analytics::projection::Projection;
use pipewise_analytics::{ActivityFacts, Day, day_of_date};
use pipewise_app as app;
use pipewise_app::visibility::{self, Fallback, Resolved};
use pipewise_core::fiscal::PeriodKind;
use pipewise_core::records::Team;
use pipewise_core::user::TeamHistory;
use pipewise_core::*;

pub use badges::{Badge, badges};
pub use context::Context;
pub use drill::{Drill, drill, drill_filters};
pub use forecast::{call as forecast_call, forecast};
pub use performance::performance;
pub use view::flag_label;

use super::data::OrgData;
use super::{Params, SignedIn, answer, render, see_other, url_with};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::AppError;
use crate::i18n::t;

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

/// What every page about a subject reads first: the organisation's data, its teams and the
/// subject's [`Context`] from `params` (the dashboard, performance and forecast pages).
pub(crate) fn load_subject(state: &AppState, viewer: &Viewer, params: &Params) -> Result<(OrgData, Vec<Team>, Context), AppError> {
    let now = state.now();
    let mut tx = state.db.read()?;
    let data = OrgData::load_without_accounts(&mut tx, viewer.org, now)?;
    let teams = app::users::teams(&mut tx, viewer.org)?;
    let context = Context::parse(&mut tx, viewer, &data, &teams, params, now)?;
    Ok((data, teams, context))
}

/// One option of a page's select.
#[derive(serde::Serialize)]
pub(crate) struct Choice {
    pub value: String,
    pub label: String,
}

/// The filters of a subject page as its template reads them (flattened into the page's view):
/// the period and team choices, the chosen ones, the as-of day and the input problems.
#[derive(serde::Serialize)]
pub(crate) struct SubjectFilters {
    pub periods: Vec<Choice>,
    pub period: String,
    pub teams: Vec<Choice>,
    pub team: String,
    pub as_of: String,
    pub notes: Vec<String>,
}

pub(crate) fn subject_filters(viewer: &Viewer, data: &OrgData, teams: &[Team], context: &Context) -> SubjectFilters {
    SubjectFilters {
        periods: period_choices(viewer.user.locale, context),
        period: context.period_key.clone(),
        teams: team_choices(viewer, data, teams),
        team: match &context.resolved.subject {
            visibility::Subject::Team(team) => team.to_string(),
            _ => String::new(),
        },
        as_of: context.as_of.to_string(),
        notes: context.notes.clone(),
    }
}

/// The periods a subject page offers: the as-of day's fiscal quarter and the three before, and
/// its fiscal year; the page's own period first if it is none of them.
fn period_choices(locale: pipewise_core::user::Locale, context: &Context) -> Vec<Choice> {
    let calendar = context.calendar;
    let mut quarter = calendar.period_of(PeriodKind::Quarter, context.as_of);
    let mut periods = Vec::new();
    for _ in 0..4 {
        periods.push(Choice { value: quarter.key(), label: crate::i18n::period_label(locale, calendar, &quarter) });
        quarter = calendar.previous(&quarter);
    }
    let year = calendar.period_of(PeriodKind::Year, context.as_of);
    periods.push(Choice { value: year.key(), label: crate::i18n::period_label(locale, calendar, &year) });
    if !periods.iter().any(|choice| choice.value == context.period_key) {
        periods.insert(0, Choice { value: context.period_key.clone(), label: context.period_label(locale) });
    }
    periods
}

/// The teams a subject page offers: those with a member whose deals the viewer sees.
fn team_choices(viewer: &Viewer, data: &OrgData, teams: &[Team]) -> Vec<Choice> {
    let visible = visibility::visible_owners(&viewer.access);
    teams
        .iter()
        .filter(|team| {
            visible.as_ref().is_none_or(|owners| data.users.iter().any(|user| user.team_id == Some(team.id) && owners.contains(&user.id)))
        })
        .map(|team| Choice { value: team.id.to_string(), label: team.name.clone() })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Whose figures: the subject and what the viewer may see.

/// The subject `params` ask for (`owner` before `team`), or the viewer's own ground, by the one
/// rule of `pipewise_app::visibility`: a team or owner the viewer may not see is not found; a
/// team covers whoever was on it at the end of `on`.
pub fn resolve(
    viewer: &Viewer,
    data: &OrgData,
    teams: &[Team],
    history: &TeamHistory,
    on: Date,
    params: &Params,
) -> Result<Resolved, AppError> {
    let (owner, team) = (params.id("owner").map(UserId), params.id("team").map(TeamId));
    let roster = visibility::Roster { users: &data.users, teams, history, on };
    Ok(visibility::resolve_subject(&viewer.access, &viewer.user, roster, owner, team, Fallback::Home)?)
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
    answer(viewer, move |reader| render_dashboard(&state, reader, &params)).await
}

fn render_dashboard(state: &AppState, viewer: &Viewer, params: &Params) -> Result<Response, AppError> {
    let locale = viewer.user.locale;
    let (data, teams, context) = load_subject(state, viewer, params)?;
    let (mut view, flagged_ids) =
        with_projection_as_of(state, viewer.org, context.as_of_day(), day_of_date(context.today), |projection, facts| {
            build::build_view(viewer, &data, &teams, &context, projection, facts)
        })?;
    // Names of the flagged deals, through the visibility-checked read.
    let mut tx = state.db.read()?;
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
