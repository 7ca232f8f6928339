//! The whole dashboard view from one projection: [`build_view`] composes the page from its parts.

use std::collections::BTreeSet;
use std::sync::Arc;

use pipewise_analytics::projection::Projection;
use pipewise_analytics::{ActivityFacts, Dashboard, DashboardQuery, date_of_day};
use pipewise_app::visibility::{self, Subject};
use pipewise_core::fiscal::{FiscalPeriod, PeriodKind};
use pipewise_core::records::Team;
use pipewise_core::user::{Locale, Role};
use pipewise_core::*;

use super::context::{Context, QuotaSource, ROWS_SHOWN};
use super::view::{Assets, DashboardView, FilterView, flag_view, money_of};
use super::{headline, health, trends};
use crate::auth::Viewer;
use crate::i18n::{self, t, tf};
use crate::pages::asset_url;
use crate::pages::data::OrgData;
use crate::pages::list::{Choice, picker_choices};

/// Quarters offered in the period filter, ending with the as-of day's.
const PERIOD_CHOICES: i32 = 6;

/// What every part of the page is built from: the viewer, the subject and its filters, one
/// projection and the analytics' answer for it.
#[derive(Clone, Copy)]
pub(super) struct Parts<'a> {
    pub(super) viewer: &'a Viewer,
    pub(super) data: &'a OrgData,
    pub(super) teams: &'a [Team],
    pub(super) context: &'a Context,
    pub(super) projection: &'a Projection,
    pub(super) locale: Locale,
    pub(super) currency: Currency,
    pub(super) query: &'a DashboardQuery,
    pub(super) board: &'a Dashboard,
    /// Whether stage names carry their pipeline's: all pipelines are shown, and there are several.
    pub(super) with_pipeline: bool,
    /// The owners the viewer may see (`None`: everyone).
    pub(super) visible: &'a Option<BTreeSet<UserId>>,
}

impl Parts<'_> {
    /// Reporting minor units, worded in full.
    pub(super) fn money(&self, minor: i128) -> String {
        i18n::money(self.locale, money_of(minor, self.currency))
    }

    /// Reporting minor units, worded short (for tiles).
    pub(super) fn compact(&self, minor: i128) -> String {
        i18n::money_compact(self.locale, money_of(minor, self.currency))
    }

    /// The name of the user behind the projection's owner index.
    pub(super) fn owner_name(&self, owner: u32) -> String {
        self.data.user_name(self.projection.owner_ids[owner as usize])
    }

    /// Whether the viewer may see the user behind the projection's owner index.
    pub(super) fn owner_visible(&self, owner: u32) -> bool {
        self.visible.as_ref().is_none_or(|visible| visible.contains(&self.projection.owner_ids[owner as usize]))
    }

    /// The name of the team behind the projection's team index.
    pub(super) fn team_name(&self, team: u32) -> String {
        let id = self.projection.team_ids[team as usize];
        self.teams.iter().find(|candidate| candidate.id == id).map_or_else(|| format!("#{id}"), |team| team.name.clone())
    }
}

/// The whole page from one projection and the activity facts as of the as-of day (`None`:
/// the projection's own); also returns the flagged deals' ids and owners (their names are read
/// afterwards, through the visibility-checked reads).
pub(super) fn build_view(
    viewer: &Viewer,
    data: &OrgData,
    teams: &[Team],
    context: &Context,
    projection: &Projection,
    facts: Option<Arc<ActivityFacts>>,
) -> (DashboardView, Vec<(OpportunityId, UserId)>) {
    let locale = viewer.user.locale;
    let currency = projection.reporting_currency();
    let query = context.query(projection, facts);
    let board: Dashboard = pipewise_analytics::dashboard(projection, &query);
    let with_pipeline = query.scope.pipeline.is_none() && projection.pipelines.len() > 1;
    let visible = visibility::visible_owners(&viewer.access);
    let parts = Parts {
        viewer,
        data,
        teams,
        context,
        projection,
        locale,
        currency,
        query: &query,
        board: &board,
        with_pipeline,
        visible: &visible,
    };

    let tiles = headline::tiles(&parts);
    let (stage_rows, stage_total) = headline::stage_table(&parts);
    let health_view = health::health(&parts);
    let (flagged, flagged_ids) = health::flagged_deals(&parts);
    let waterfall = trends::waterfall_table(&parts);
    let (trend_points, trend_rows) = trends::trend(&parts);
    let (show_attainment, mut leaderboard) = headline::leaderboard(&parts);
    let mut health_view = health_view;
    // Long lists show their first rows and a link to all of them.
    let cut = |total: usize, anchor: &str| {
        (!context.every_row && total > ROWS_SHOWN)
            .then(|| (tf(locale, "dash.show_all", &[("count", &i18n::group(total as i64))]), context.every_row_href(anchor)))
    };
    let more_leaders = cut(leaderboard.len(), "leaders-title");
    let more_stalls = cut(health_view.team_stalls.len() + health_view.rep_stalls.len(), "health-title");
    let more_groups = cut(health_view.groups.len(), "health-title");
    let groups_total = health_view.groups.len();
    if !context.every_row {
        leaderboard.truncate(ROWS_SHOWN);
        health_view.team_stalls.truncate(ROWS_SHOWN);
        health_view.rep_stalls.truncate(ROWS_SHOWN.saturating_sub(health_view.team_stalls.len()));
        health_view.groups.truncate(ROWS_SHOWN);
    }
    let charts = trends::charts(&parts, &trend_points);
    let filters = filters(&parts);
    let heading = context.subject_name(locale, data, teams);
    let subtitle = subtitle(&parts);
    let quota_note = quota_note(&parts);
    let view = DashboardView {
        heading,
        subtitle,
        notes: context.notes.clone(),
        quota_note,
        filters,
        tiles,
        lever: health_view.lever,
        lever_missing: t(locale, if context.quota.is_some() { "dash.lever.met" } else { "dash.lever.needs_quota" }).to_owned(),
        stages: stage_rows,
        stage_total,
        spread: health_view.spread,
        omitted_note: (board.pipeline.omitted_count > 0).then(|| {
            let count = board.pipeline.omitted_count.to_string();
            tf(locale, "dash.omitted_note", &[("count", &count), ("amount", &parts.money(board.pipeline.omitted_amount))])
        }),
        waterfall: waterfall.rows,
        waterfall_span: waterfall.span,
        reconciles: waterfall.reconciles,
        reconciled: waterfall.reconciled,
        trend: trend_rows,
        trend_caption: tf(locale, "dash.trend_caption", &[("weeks", &context.weeks.to_string())]),
        health_title: tf(locale, "dash.health_of", &[("subject", &context.subject_name(locale, data, teams))]),
        health_flags: health_view.subject_report.flags.iter().map(|flag| flag_view(locale, projection, flag)).collect(),
        health_signals: health_view.subject_report.signals.iter().map(|flag| flag_view(locale, projection, flag)).collect(),
        deal_counts: health_view.deal_counts,
        team_stalls: health_view.team_stalls,
        rep_stalls: health_view.rep_stalls,
        groups: health_view.groups,
        flagged,
        leaderboard,
        more_leaders,
        more_stalls,
        more_groups,
        groups_total,
        show_attainment,
        charts,
        assets: assets(),
    };
    (view, flagged_ids)
}

/// The page's scripts and styles: the vendored uPlot and the dashboard's own.
fn assets() -> Assets {
    Assets {
        uplot_js: asset_url("uPlot.iife.min.js"),
        uplot_css: asset_url("uPlot.min.css"),
        dashboard_js: asset_url("dashboard.js"),
        dashboard_css: asset_url("dashboard.css"),
    }
}

// ---------------------------------------------------------------------------------------------
// Filters and the subject picker.

/// The quarters offered in the period filter (and the one shown, when it is older).
fn period_choices(parts: &Parts) -> Vec<Choice> {
    let Parts { context, locale, .. } = *parts;
    let calendar = context.calendar;
    let choice = |period: &FiscalPeriod| Choice { value: period.key(), label: i18n::period_label(locale, calendar, period) };
    let mut periods = Vec::new();
    let mut quarter = calendar.period_of(PeriodKind::Quarter, context.as_of);
    for _ in 0..PERIOD_CHOICES {
        periods.push(choice(&quarter));
        quarter = calendar.previous(&quarter);
    }
    // The fiscal year so far, and the one before.
    let year = calendar.period_of(PeriodKind::Year, context.as_of);
    periods.push(choice(&year));
    periods.push(choice(&calendar.previous(&year)));
    if !periods.iter().any(|choice| choice.value == context.period_key) {
        periods.insert(0, choice(&context.fiscal));
    }
    periods
}

/// The subject picker: the organisation or the manager's own view, the teams and the reps the
/// viewer may see.
fn subject_views(parts: &Parts) -> Vec<(String, Vec<Choice>)> {
    let Parts { viewer, data, teams, locale, visible, .. } = *parts;
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
    views
}

/// The subject picker's groups, the reps' cut to the one shown past [`PICKER_AT`] reps (a
/// search box finds the others); and whether it was cut.
fn subject_choices(parts: &Parts, view_value: &str) -> (Vec<(String, Vec<Choice>)>, bool) {
    let mut views = subject_views(parts);
    let Some((_, reps)) = views.last_mut() else { return (views, false) };
    let (kept, picker) = picker_choices(std::mem::take(reps), &[view_value]);
    *reps = kept;
    (views, picker)
}

/// The filter form: pipeline, period, as-of day, quotas, trend weeks and the subject picker.
fn filters(parts: &Parts) -> FilterView {
    let Parts { data, context, currency, .. } = *parts;
    let periods = period_choices(parts);
    let view_value = match &context.resolved.subject {
        Subject::Team(team) => format!("team:{team}"),
        Subject::Rep(user) => format!("owner:{user}"),
        _ => String::new(),
    };
    let (views, rep_picker) = subject_choices(parts, &view_value);
    FilterView {
        rep_picker,
        pipelines: data.pipelines.iter().map(|pipeline| Choice { value: pipeline.id.to_string(), label: pipeline.name.clone() }).collect(),
        pipeline: context.pipeline.map(|id| id.to_string()).unwrap_or_default(),
        periods,
        period: context.period_key.clone(),
        as_of: context.as_of.to_string(),
        today: context.today.to_string(),
        quota: context
            .quota
            .filter(|_| context.quota_source == QuotaSource::Typed)
            .map(|quota| money_of(i128::from(quota), currency).amount().to_string())
            .unwrap_or_default(),
        rep_quota: context.typed_rep_quota.map(|quota| money_of(i128::from(quota), currency).amount().to_string()).unwrap_or_default(),
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
    }
}

// ---------------------------------------------------------------------------------------------
// The heading.

/// What the page shows: the kind of subject, the as-of day, the period, the pipeline and the
/// currency.
fn subtitle(parts: &Parts) -> String {
    let Parts { data, context, locale, currency, .. } = *parts;
    let subject_kind = match &context.resolved.subject {
        Subject::Organisation => t(locale, "dash.kind.organisation"),
        Subject::Team(_) => t(locale, "dash.kind.team"),
        Subject::Rep(_) => t(locale, "dash.kind.rep"),
        Subject::Reports => t(locale, "dash.kind.reports"),
    };
    let pipeline_name =
        context.pipeline.and_then(|id| data.pipeline(id)).map_or_else(|| t(locale, "dash.all_pipelines").to_owned(), |p| p.name.clone());
    tf(
        locale,
        "dash.subtitle",
        &[
            ("kind", subject_kind),
            ("date", &i18n::date(locale, context.as_of)),
            ("period", &context.period_label(locale)),
            ("first", &i18n::date(locale, date_of_day(context.period.first))),
            ("last", &i18n::date(locale, date_of_day(context.period.last))),
            ("pipeline", &pipeline_name),
            ("currency", currency.code()),
        ],
    )
}

/// Where the quota comes from: set by ops, the sum of the reps', typed, or missing.
fn quota_note(parts: &Parts) -> String {
    let Parts { context, locale, .. } = *parts;
    let quota = context.quota.map(|quota| parts.money(i128::from(quota))).unwrap_or_default();
    match context.quota_source {
        QuotaSource::Stored => tf(locale, "dash.quota_stored", &[("quota", &quota)]),
        QuotaSource::StoredReps { reps } => tf(locale, "dash.quota_stored_reps", &[("quota", &quota), ("reps", &reps.to_string())]),
        QuotaSource::Typed => tf(locale, "dash.quota_given", &[("quota", &quota)]),
        QuotaSource::TypedReps { reps } => tf(locale, "dash.quota_derived", &[("quota", &quota), ("reps", &reps.to_string())]),
        QuotaSource::Missing => t(locale, "dash.quota_note").to_owned(),
    }
}
