//! What a request asks for ([`Ask`]): its parameters, the subject it may see, and the query
//! it makes of the organisation's projection.

use pipewise_app as app;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use pipewise_analytics::{
    ActivityFacts, DashboardQuery, Day, HealthThresholds, Period, Projection, date_of_day, day_of_date, day_of_timestamp,
};
use pipewise_app::insights::Insights;
use pipewise_app::visibility::{self, Fallback, OpenableDeals};
use pipewise_core::fiscal::{FiscalCalendar, PeriodKind};
use pipewise_core::money::{Decimal, Money};
use pipewise_core::user::{Locale, Role};
use pipewise_core::{PipelineId, TeamId, UserId};

use serde_json::Value;

use super::render::{Render, header, merge};
use super::{lang_param, limit_param, scope_params, with};
use crate::AppState;
use crate::api::support::Query;
use crate::auth::Viewer;
use crate::error::{AppError, blocking};

const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 1_000;

/// Everything a request asks for, before the projection is at hand.
pub(super) struct Ask {
    pub(super) as_of: Day,
    pub(super) pipeline: Option<PipelineId>,
    pub(super) team: Option<TeamId>,
    pub(super) owner: Option<UserId>,
    /// The owners the figures cover (`None`: the organisation), resolved by the one visibility
    /// rule: an owner or team the viewer may not see is not found.
    pub(super) owners: Option<BTreeSet<UserId>>,
    /// The period asked for (`period`, or `period_start` and `period_end`); else the fiscal
    /// quarter holding `as_of` in the organisation's calendar.
    pub(super) period: Period,
    /// The fiscal period key, when the period is one (`2027-Q1`).
    pub(super) period_key: Option<String>,
    /// The `period` parameter, read once the organisation's calendar is known.
    period_asked: Option<String>,
    /// Whether `period_start` and `period_end` gave the period.
    period_given: bool,
    /// Whether the request named its period (either way).
    pub(super) period_explicit: bool,
    /// The organisation's fiscal calendar.
    pub(super) calendar: FiscalCalendar,
    pub(super) quota: Option<Money>,
    /// The stored quotas of the period: each rep's, and the subject's (its own, else the sum of
    /// its reps'), in the reporting currency.
    pub(super) stored: StoredQuotas,
    pub(super) limit: usize,
    /// The language of reasons: `lang` (`en`, `ko`), else the viewer's.
    pub(super) locale: Locale,
    /// The organisation's health thresholds, which every health figure is computed with.
    pub(super) thresholds: HealthThresholds,
    /// The deals the viewer may open: the only ones a list of deals behind a figure names.
    pub(super) openable: OpenableDeals,
}

/// Stored quotas of the asked period.
#[derive(Clone, Debug, Default)]
pub(super) struct StoredQuotas {
    pub(super) reps: BTreeMap<UserId, Decimal>,
    pub(super) subject: Option<Decimal>,
}

/// The request's [`Ask`], with the organisation's health thresholds, fiscal calendar and quotas
/// read from the store, the subject resolved within what the viewer may see, and the deals they
/// may open.
pub(super) async fn parse_ask(state: &AppState, viewer: &Viewer, query: &Query) -> Result<Ask, AppError> {
    parse_ask_reading(state, viewer, query, Quotas::Read).await
}

/// Whether a figure reads the period's stored quotas (coverage, attainment, the gap to quota).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Quotas {
    Read,
    /// The figure reads none (the pipeline by stage, the waterfall): the quota book, one of the
    /// dearer reads of a request at scale, is left unread.
    Skip,
}

/// [`parse_ask`], reading the stored quotas only when the figure needs them.
pub(super) async fn parse_ask_reading(state: &AppState, viewer: &Viewer, query: &Query, quotas: Quotas) -> Result<Ask, AppError> {
    let mut ask = ask_from(state, viewer, query)?;
    let store = state.db.clone();
    let reader = viewer.clone();
    let (owner, team) = (ask.owner, ask.team);
    // `period_start` and `period_end` give the period's days; else `period` names a fiscal period.
    let (as_of, asked, mut period) = (ask.as_of, ask.period_asked.take(), ask.period_given.then_some(ask.period));
    ask.period_explicit = asked.is_some() || ask.period_given;
    let (thresholds, resolved, openable, period, key, stored, calendar) = blocking(move || {
        let mut tx = store.read()?;
        let thresholds = app::settings::health_thresholds(&mut tx, reader.org)?;
        let organisation = app::users::organisation(&mut tx, reader.org)?
            .ok_or(AppError::NotFound { kind: "organisation", id: reader.org.to_string() })?;
        let calendar = organisation.fiscal;
        let mut key = None;
        if let Some(raw) = asked {
            let fiscal = calendar.parse_key(&raw).map_err(|problem| AppError::BadRequest(format!("query parameter period: {problem}")))?;
            if fiscal.first > date_of_day(as_of) {
                return Err(AppError::BadRequest("query parameter period: it starts after as_of".into()));
            }
            key = Some(fiscal.key());
            period = Some(Period::from(&fiscal));
        }
        let period = period.unwrap_or_else(|| {
            let fiscal = calendar.period_of(PeriodKind::Quarter, date_of_day(as_of));
            key = Some(fiscal.key());
            Period::from(&fiscal)
        });
        let users = app::users::users(&mut tx, reader.org)?;
        // With no subject asked for, everything the viewer may see needs no team.
        let teams = match (owner, team) {
            (None, None) => Vec::new(),
            _ => app::users::teams(&mut tx, reader.org)?,
        };
        let history = match team {
            Some(_) => app::users::team_history(&mut tx, reader.org)?,
            None => pipewise_core::user::TeamHistory::current(&users),
        };
        let roster = visibility::Roster { users: &users, teams: &teams, history: &history, on: date_of_day(as_of) };
        let resolved = visibility::resolve_subject(&reader.access, &reader.user, roster, owner, team, Fallback::Everything)?;
        let openable = OpenableDeals::load(&mut tx, reader.org, &reader.access)?;
        let book = match quotas {
            Quotas::Read => {
                app::quotas::quota_book(&mut tx, reader.org, &reader.access, date_of_day(period.first), date_of_day(period.last))?
            }
            Quotas::Skip => app::quotas::QuotaBook::default(),
        };
        let covered = |user: &UserId| resolved.owners.as_ref().is_none_or(|owners| owners.contains(user));
        let reps: BTreeMap<UserId, Decimal> = users
            .iter()
            .filter(|user| (user.role == Role::Rep || owner == Some(user.id)) && covered(&user.id))
            .filter_map(|user| Some((user.id, *book.users.get(&user.id)?)))
            .collect();
        let own = match (owner, team) {
            (Some(owner), _) => book.users.get(&owner).copied(),
            (None, Some(team)) => book.teams.get(&team).copied(),
            (None, None) => None,
        };
        let subject =
            own.or_else(|| (!reps.is_empty()).then(|| reps.values().fold(Decimal::ZERO, |sum, quota| sum.saturating_add(*quota))));
        Ok((thresholds, resolved, openable, period, key, StoredQuotas { reps, subject }, calendar))
    })
    .await?;
    ask.thresholds = thresholds;
    ask.owners = resolved.owners;
    ask.openable = openable;
    ask.period = period;
    ask.period_key = key;
    ask.stored = stored;
    ask.calendar = calendar;
    Ok(ask)
}

/// The request's own parameters; [`parse_ask`] adds what the store knows.
fn ask_from(state: &AppState, viewer: &Viewer, query: &Query) -> Result<Ask, AppError> {
    let date = |name: &str| query.parsed(name, pipewise_core::time::parse_date);
    let as_of = date("as_of")?.map_or_else(|| day_of_timestamp(state.now(), &viewer.zone), day_of_date);
    let period = match (date("period_start")?, date("period_end")?) {
        (None, None) => None,
        (Some(first), Some(_)) if day_of_date(first) > as_of => {
            return Err(AppError::BadRequest("query parameter period_start: it is after as_of".into()));
        }
        (Some(first), Some(last)) if first <= last => Some(Period::new(day_of_date(first), day_of_date(last))),
        (Some(_), Some(_)) => return Err(AppError::BadRequest("query parameter period_end: it is before period_start".into())),
        _ => return Err(AppError::BadRequest("query parameters period_start and period_end go together".into())),
    };
    let period_asked = query.text("period").map(str::to_owned);
    if period_asked.is_some() && period.is_some() {
        return Err(AppError::BadRequest("query parameter period: give it or period_start and period_end, not both".into()));
    }
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
        period: period.unwrap_or(Period::new(as_of, as_of)),
        period_key: None,
        period_asked,
        period_given: period.is_some(),
        period_explicit: false,
        calendar: FiscalCalendar::CALENDAR_YEAR,
        quota: query.parsed("quota", |raw| raw.parse::<Money>())?,
        limit,
        locale,
        thresholds: HealthThresholds::default(),
        openable: OpenableDeals::nothing(),
        stored: StoredQuotas::default(),
    })
}

/// Minor units of the reporting currency, or a 400 naming the parameter.
pub(super) fn reporting_minor(projection: &Projection, name: &str, money: Money) -> Result<i64, AppError> {
    let reporting = projection.reporting_currency();
    if money.currency() != reporting {
        return Err(AppError::BadRequest(format!("query parameter {name}: give it in the reporting currency, {}", reporting.code())));
    }
    i64::try_from(money.amount().mantissa()).map_err(|_| AppError::BadRequest(format!("query parameter {name}: too large")))
}

/// A stored quota in minor units of the reporting currency (stored quotas are in it).
fn stored_minor(projection: &Projection, quota: Decimal) -> Option<i64> {
    let money = Money::new(quota, projection.reporting_currency()).ok()?;
    i64::try_from(money.amount().mantissa()).ok()
}

/// The query `ask` makes of `projection`. `facts` are the activity facts as of `ask.as_of`
/// from [`on_projection_as_of`] (`None`: today's, the projection's own); only health reads
/// them, so the handlers of figures without health give `None`.
pub(super) fn build_query(projection: &Projection, ask: &Ask, facts: Option<Arc<ActivityFacts>>) -> Result<DashboardQuery, AppError> {
    let mut query = DashboardQuery::new(ask.as_of);
    query.thresholds = ask.thresholds;
    query.facts = facts;
    query.period = ask.period;
    let mut scope = visibility::scope_of(projection, ask.owners.as_ref());
    if let Some(pipeline) = ask.pipeline {
        let index =
            projection.pipeline_index(pipeline).ok_or(AppError::NotFound { kind: PipelineId::LABEL, id: pipeline.0.to_string() })?;
        scope = scope.in_pipeline(index);
    }
    query.scope = scope;
    query.quota = match ask.quota {
        Some(quota) => Some(reporting_minor(projection, "quota", quota)?),
        None => ask.stored.subject.and_then(|quota| stored_minor(projection, quota)),
    };
    if !ask.stored.reps.is_empty() {
        query.rep_quotas =
            projection.owner_ids.iter().map(|user| ask.stored.reps.get(user).and_then(|quota| stored_minor(projection, *quota))).collect();
    }
    Ok(query)
}

/// Runs `work` on the viewer's organisation's projection, on a blocking thread.
pub(super) async fn on_projection<T: Send + 'static>(
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
pub(super) async fn on_projection_as_of<T: Send + 'static>(
    state: &AppState,
    viewer: &Viewer,
    as_of: Day,
    work: impl FnOnce(&Projection, Option<Arc<ActivityFacts>>) -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    let state = state.clone();
    let org = viewer.org;
    // The API's days are the organisation's (`as_of` defaults to today there), as `with_as_of` reads them.
    blocking(move || {
        let insights: Arc<Insights> = state.insights_for(org)?;
        insights.with_as_of(as_of, work)?
    })
    .await
}

/// The reply to a question about the scope, asked with its parameters, `limit` and `lang`, as
/// of its day: the header, then what `answer` gives for the query the ask builds.
pub(super) async fn scope_reply(
    state: &AppState,
    viewer: &Viewer,
    raw: Option<String>,
    answer: impl FnOnce(&Render, &DashboardQuery, &Ask) -> Result<Value, AppError> + Send + 'static,
) -> Result<axum::Json<Value>, AppError> {
    let query = Query::parse(raw.as_deref(), &with(scope_params(), vec![limit_param(), lang_param()]))?;
    let ask = parse_ask(state, viewer, &query).await?;
    let reply = on_projection_as_of(state, viewer, ask.as_of, move |projection, facts| {
        let query = build_query(projection, &ask, facts)?;
        let render = Render::new(projection, ask.locale);
        let body = answer(&render, &query, &ask)?;
        Ok(merge(header(&render, &query, &ask), body))
    })
    .await?;
    Ok(axum::Json(reply))
}
