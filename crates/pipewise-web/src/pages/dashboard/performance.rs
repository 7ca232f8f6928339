//! The performance page (`/performance`, SPEC C8, issue 12 point 2): how a team's number is
//! made in a fiscal period — attainment beside the share of its reps at quota (the seed's "team
//! at 99% while 48% of reps hit quota"), how much the top performer and the top fifth carry,
//! attainment had the top performer not been there — then the reps side by side (quota,
//! bookings, attainment, pipeline due, win rate, cycle) with outliers flagged both ways, and the
//! spread of the reps' stage win rates (how differently they read the stages).
//!
//! The subject, period and as-of day are the dashboard's ([`Context`]: `team`, `owner`, `period`,
//! `as_of`), so are the quotas (stored) and every figure's rules (`pipewise_analytics`); every
//! rep's bookings link to the deals behind them.

use std::collections::BTreeMap;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use pipewise_analytics::metrics::conversion;
use pipewise_analytics::projection::Projection;
use pipewise_analytics::{LeaderboardRow, Ratio, day_of_date, leaderboard};
use pipewise_app as app;
use pipewise_comp::{Direction, RepResult, TeamAttainment, outliers, spread, team_attainment};
use pipewise_core::UserId;
use pipewise_core::money::{Decimal, Money};
use pipewise_core::user::{Locale, Role};
use serde::Serialize;

use super::context::{Context, QuotaSource};
use super::with_projection_as_of;
use crate::AppState;
use crate::auth::Viewer;
use crate::error::AppError;
use crate::i18n::{self, t, tf};
use crate::pages::data::OrgData;
use crate::pages::{Params, SignedIn, answer, render, url_with};

/// Reps beyond which the stage spread is not computed (one pass over the deals a rep).
const SPREAD_MAX_REPS: usize = 60;

#[derive(Serialize)]
struct Figure {
    label: String,
    value: String,
    note: String,
}

#[derive(Serialize)]
struct Flag {
    direction: &'static str,
    label: String,
}

#[derive(Serialize)]
struct RepRow {
    name: String,
    href: String,
    quota: String,
    bookings: String,
    bookings_href: String,
    attainment: String,
    at_quota: bool,
    pipeline: String,
    pipeline_href: String,
    win_rate: String,
    cycle: String,
    won: String,
    bias: String,
    bias_label: String,
    bias_class: &'static str,
    flags: Vec<Flag>,
}

#[derive(Serialize)]
struct SpreadRow {
    stage: String,
    reps: usize,
    min: String,
    lower: String,
    median: String,
    upper: String,
    max: String,
}

#[derive(Serialize)]
struct PerformanceView {
    heading: String,
    subtitle: String,
    figures: Vec<Figure>,
    summary: String,
    reps: Vec<RepRow>,
    spread: Vec<SpreadRow>,
    spread_note: String,
    #[serde(flatten)]
    filters: super::SubjectFilters,
}

pub async fn performance(State(state): State<AppState>, SignedIn(viewer): SignedIn, RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query.as_deref());
    answer(viewer, move |reader| render_performance(&state, reader, &params)).await
}

/// `87%` (the same in both languages), or a dash when undefined.
fn percent(fraction: Option<Decimal>) -> String {
    fraction.map_or_else(|| "—".to_owned(), |fraction| format!("{}%", (fraction * Decimal::ONE_HUNDRED).round_dp(0).normalize()))
}

fn render_performance(state: &AppState, viewer: &Viewer, params: &Params) -> Result<Response, AppError> {
    let locale = viewer.user.locale;
    let (data, teams, context) = super::load_subject(state, viewer, params)?;
    let currency = data.organisation.reporting_currency;
    let minor = u32::from(currency.minor_units());
    let money =
        |amount: i128| i18n::money(locale, Money::new(Decimal::from_i128_with_scale(amount, minor), currency).expect("a reporting amount"));
    let decimal = |amount: i128| Decimal::from_i128_with_scale(amount, minor);

    let (rows, spread_rows, spread_note) =
        with_projection_as_of(state, viewer.org, context.as_of_day(), day_of_date(context.today), |projection, facts| {
            let query = context.query(projection, facts);
            let mut rows = leaderboard(projection, &query);
            // Reps with a quota and no deals in play still count: at 0% of it.
            for user in context.rep_quotas.keys() {
                if !rows.iter().any(|row| row.user_id == *user)
                    && let Some(owner) = projection.owner_index(*user)
                {
                    rows.push(LeaderboardRow {
                        owner,
                        user_id: *user,
                        won_amount: 0,
                        won_count: 0,
                        quota: context.rep_quotas.get(user).copied(),
                        attainment: context.rep_quotas.get(user).and_then(|quota| Ratio::new(0, i128::from(*quota))),
                        pipeline_amount: 0,
                        open_deals: 0,
                        open_closing_in_period: 0,
                        open_deals_closing_in_period: 0,
                        outcomes: Default::default(),
                    });
                }
            }
            let (spread_rows, note) = stage_spread(projection, &context, &query, &rows, locale, &data);
            (rows, spread_rows, note)
        })?;
    // Reps only: a manager who owns deals is in the leaderboard, not in the share at quota.
    let role_of: BTreeMap<UserId, Role> = data.users.iter().map(|user| (user.id, user.role)).collect();
    let rows: Vec<LeaderboardRow> = rows
        .into_iter()
        .filter(|row| role_of.get(&row.user_id) == Some(&Role::Rep) || context.rep_quotas.contains_key(&row.user_id))
        .collect();

    // Each rep's forecast bias from the accuracy ledger of the last four closed quarters.
    let insights = state.insights_for(viewer.org)?;
    let ledger = app::forecast::ledger(&mut state.db.read()?, viewer.org, &viewer.access, &insights, context.today, 4)?;

    let results: Vec<RepResult> = rows
        .iter()
        .map(|row| RepResult {
            person: row.user_id,
            bookings: decimal(row.won_amount),
            quota: row.quota.map(|quota| decimal(i128::from(quota))),
        })
        .collect();
    let team_quota = match context.quota_source {
        QuotaSource::Stored | QuotaSource::Typed => context.quota.map(|quota| decimal(i128::from(quota))),
        _ => None,
    };
    let team: TeamAttainment = team_attainment(&results, team_quota);

    // Outliers both ways, measure by measure.
    let ratio = |ratio: Option<Ratio>| ratio.map(|ratio| ratio.round(4));
    let bias_of = |user: UserId| ledger.bias(user).filter(|bias| bias.periods > 0);
    let measures: [(&str, Vec<(UserId, Decimal)>); 5] = [
        ("attainment", rows.iter().filter_map(|row| Some((row.user_id, ratio(row.attainment)?))).collect()),
        ("win_rate", rows.iter().filter_map(|row| Some((row.user_id, ratio(row.win_rate())?))).collect()),
        ("cycle", rows.iter().filter_map(|row| Some((row.user_id, ratio(row.average_cycle_days())?))).collect()),
        ("pipeline", rows.iter().map(|row| (row.user_id, decimal(row.open_closing_in_period))).collect()),
        (
            "bias",
            rows.iter()
                .filter_map(|row| Some((row.user_id, Decimal::from_f64_retain(bias_of(row.user_id)?.shrunk)?.round_dp(4))))
                .collect(),
        ),
    ];
    let mut flags: BTreeMap<UserId, Vec<Flag>> = BTreeMap::new();
    for (measure, values) in &measures {
        for (user, direction) in outliers(values) {
            let direction = match direction {
                Direction::High => "high",
                Direction::Low => "low",
            };
            flags
                .entry(user)
                .or_default()
                .push(Flag { direction, label: t(locale, &format!("perf.outlier.{measure}.{direction}")).to_owned() });
        }
    }

    let period_key = context.period_key.clone();
    let as_of = context.as_of.to_string();
    let mut reps: Vec<RepRow> = rows
        .iter()
        .map(|row| {
            let owner = row.user_id.to_string();
            let drill = |figure: &str| {
                url_with(
                    "/opportunities",
                    &[
                        ("figure", figure.to_owned()),
                        ("owner", owner.clone()),
                        ("period", period_key.clone()),
                        ("as_of", as_of.clone()),
                        ("status", "all".to_owned()),
                    ],
                )
            };
            RepRow {
                name: data.user_name(row.user_id),
                href: url_with("/performance", &[("owner", owner.clone()), ("period", period_key.clone()), ("as_of", as_of.clone())]),
                quota: row.quota.map_or_else(|| "—".to_owned(), |quota| money(i128::from(quota))),
                bookings: money(row.won_amount),
                bookings_href: drill("won_period"),
                attainment: percent(row.attainment.map(|ratio| ratio.round(4))),
                at_quota: row.attainment.is_some_and(|ratio| ratio.at_least(1, 1)),
                pipeline: money(row.open_closing_in_period),
                pipeline_href: drill("closing"),
                win_rate: percent(row.win_rate().map(|ratio| ratio.round(4))),
                cycle: row
                    .average_cycle_days()
                    .map_or_else(|| "—".to_owned(), |days| tf(locale, "perf.days", &[("days", &days.round(0).to_string())])),
                won: i18n::group(row.won_count as i64),
                bias: bias_of(row.user_id).map_or_else(|| "—".to_owned(), |bias| super::forecast::signed_percent(bias.shrunk)),
                bias_label: bias_of(row.user_id).map_or_else(String::new, |bias| super::forecast::bias_label(locale, bias.label).0),
                bias_class: bias_of(row.user_id).map_or("", |bias| super::forecast::bias_label(locale, bias.label).1),
                flags: flags.remove(&row.user_id).unwrap_or_default(),
            }
        })
        .collect();
    reps.sort_by_key(|rep| rep.name.to_lowercase());

    let figures = vec![
        Figure {
            label: t(locale, "perf.attainment").to_owned(),
            value: percent(team.attainment),
            note: tf(
                locale,
                "perf.attainment_note",
                &[("bookings", &money(to_minor(team.bookings, minor))), ("quota", &money(to_minor(team.quota, minor)))],
            ),
        },
        Figure {
            label: t(locale, "perf.share_at_quota").to_owned(),
            value: percent(team.share_at_quota),
            note: tf(locale, "perf.share_note", &[("at", &team.reps_at_quota.to_string()), ("of", &team.reps_with_quota.to_string())]),
        },
        Figure {
            label: t(locale, "perf.top_share").to_owned(),
            value: percent(team.top_share),
            note: team.top.map_or_else(String::new, |top| {
                tf(locale, "perf.top_note", &[("name", &data.user_name(top.person)), ("fifth", &percent(team.top_fifth_share))])
            }),
        },
        Figure {
            label: t(locale, "perf.without_top").to_owned(),
            value: percent(team.without_top),
            note: t(locale, "perf.without_top_note").to_owned(),
        },
    ];
    let summary = match (team.attainment, team.share_at_quota) {
        (Some(attainment), Some(share)) => {
            let subject = context.subject_name(locale, &data, &teams);
            tf(
                locale,
                "perf.summary",
                &[("subject", &subject), ("attainment", &percent(Some(attainment))), ("share", &percent(Some(share)))],
            )
        }
        _ => t(locale, "perf.no_quota").to_owned(),
    };

    let heading = context.subject_name(locale, &data, &teams);
    let view = PerformanceView {
        subtitle: tf(
            locale,
            "perf.subtitle",
            &[("period", &context.period_label(locale)), ("date", &i18n::date(locale, context.as_of)), ("currency", currency.code())],
        ),
        heading,
        figures,
        summary,
        reps,
        spread: spread_rows,
        spread_note,
        filters: super::subject_filters(viewer, &data, &teams, &context),
    };
    let title = format!("{} · {}", t(locale, "perf.title"), view.heading);
    render::page(viewer, StatusCode::OK, "performance.html", "performance", title, &view)
}

fn to_minor(amount: Decimal, minor: u32) -> i128 {
    let mut amount = amount.round_dp(minor);
    amount.rescale(minor);
    amount.mantissa()
}

/// Per counting stage of the first pipeline in scope: the spread of the reps' win rates from
/// that stage (stage → won, by count, over the trailing window).
fn stage_spread(
    projection: &Projection,
    context: &Context,
    query: &pipewise_analytics::DashboardQuery,
    rows: &[LeaderboardRow],
    locale: Locale,
    data: &OrgData,
) -> (Vec<SpreadRow>, String) {
    if rows.len() > SPREAD_MAX_REPS {
        return (Vec::new(), tf(locale, "perf.spread_too_many", &[("max", &SPREAD_MAX_REPS.to_string())]));
    }
    let pipeline = match context.pipeline.and_then(|id| projection.pipeline_index(id)) {
        Some(index) => index,
        // The pipeline with the most stages: the one whose stages most need reading alike.
        None => (0..projection.pipelines.len() as u16).max_by_key(|index| projection.pipelines[*index as usize].stages.len()).unwrap_or(0),
    };
    let mut by_stage: BTreeMap<u16, Vec<Decimal>> = BTreeMap::new();
    let mut stages: Vec<u16> = Vec::new();
    for row in rows {
        let scope = pipewise_analytics::Scope::owners([row.owner]);
        let lines = conversion(projection, &scope, pipeline, query.as_of, query.window);
        if stages.is_empty() {
            stages = lines.iter().map(|line| line.stage).collect();
        }
        for line in lines {
            if line.reached >= 3
                && let Some(rate) = line.to_won_by_count()
            {
                by_stage.entry(line.stage).or_default().push(rate.round(4));
            }
        }
    }
    let percent = |value: Decimal| percent(Some(value));
    let rows = stages
        .into_iter()
        .filter_map(|stage| {
            let values = by_stage.remove(&stage)?;
            let reps = values.len();
            let spread = spread(values)?;
            Some(SpreadRow {
                stage: i18n::projection_stage_name(locale, &projection.stages[stage as usize]).to_owned(),
                reps,
                min: percent(spread.min),
                lower: percent(spread.lower_quartile),
                median: percent(spread.median),
                upper: percent(spread.upper_quartile),
                max: percent(spread.max),
            })
        })
        .collect();
    let name =
        data.pipelines.iter().find(|candidate| Some(candidate.id) == projection.pipelines.get(pipeline as usize).map(|info| info.id));
    (rows, tf(locale, "perf.spread_note", &[("pipeline", &name.map(|pipeline| pipeline.name.clone()).unwrap_or_default())]))
}
