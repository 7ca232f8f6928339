//! What a request asks for ([`Ask`]): its parameters, the subject it may see, and the query
//! it makes of the organisation's projection.

use pipewise_app as app;
use std::collections::BTreeSet;
use std::sync::Arc;

use pipewise_analytics::{ActivityFacts, DashboardQuery, Day, HealthThresholds, Period, Projection, day_of_date, day_of_timestamp};
use pipewise_app::insights::Insights;
use pipewise_app::visibility::{self, Fallback, OpenableDeals};
use pipewise_core::money::Money;
use pipewise_core::user::Locale;
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
    pub(super) period: Option<Period>,
    pub(super) quota: Option<Money>,
    pub(super) limit: usize,
    /// The language of reasons: `lang` (`en`, `ko`), else the viewer's.
    pub(super) locale: Locale,
    /// The organisation's health thresholds, which every health figure is computed with.
    pub(super) thresholds: HealthThresholds,
    /// The deals the viewer may open: the only ones a list of deals behind a figure names.
    pub(super) openable: OpenableDeals,
}

/// The request's [`Ask`], with the organisation's health thresholds read from the store, the
/// subject resolved within what the viewer may see, and the deals they may open.
pub(super) async fn parse_ask(state: &AppState, viewer: &Viewer, query: &Query) -> Result<Ask, AppError> {
    let mut ask = ask_from(state, viewer, query)?;
    let store = state.db.clone();
    let reader = viewer.clone();
    let (owner, team) = (ask.owner, ask.team);
    let (thresholds, resolved, openable) = blocking(move || {
        let mut tx = store.read()?;
        let thresholds = app::settings::health_thresholds(&mut tx, reader.org)?;
        // With no subject asked for, everything the viewer may see needs no user or team.
        let (users, teams) = match (owner, team) {
            (None, None) => (Vec::new(), Vec::new()),
            _ => (app::users::users(&mut tx, reader.org)?, app::users::teams(&mut tx, reader.org)?),
        };
        let resolved = visibility::resolve_subject(&reader.access, &reader.user, &users, &teams, owner, team, Fallback::Everything)?;
        let openable = OpenableDeals::load(&mut tx, reader.org, &reader.access)?;
        Ok((thresholds, resolved, openable))
    })
    .await?;
    ask.thresholds = thresholds;
    ask.owners = resolved.owners;
    ask.openable = openable;
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
        openable: OpenableDeals::nothing(),
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

/// The query `ask` makes of `projection`. `facts` are the activity facts as of `ask.as_of`
/// from [`on_projection_as_of`] (`None`: today's, the projection's own); only health reads
/// them, so the handlers of figures without health give `None`.
pub(super) fn build_query(projection: &Projection, ask: &Ask, facts: Option<Arc<ActivityFacts>>) -> Result<DashboardQuery, AppError> {
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
