//! The forecast page (`/forecast`, SPEC C7, issue 13 point 7): the period's statistical forecast
//! for the subject — the expected total and its P10–P90 range, what is won, the gap to quota, the
//! stage-weighted pipeline beside it — the forecast as it was made each week of the period drawn
//! as a band, the deals that move the number most, and what the model learnt from.
//!
//! The subject, period and as-of day are the dashboard's ([`Context`]); the forecast is
//! `pipewise_forecast`'s, kept by `pipewise_app::forecast::Models` (a past week's point is
//! computed once). Below the model's data floor the page says so and shows the stage-weighted
//! pipeline without a range.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use pipewise_analytics::{Day, date_of_day, day_of_date};
use pipewise_app as app;
use pipewise_app::forecast::{Basis, CHART_TRIALS, FLOOR_EXITS, FLOOR_WON, Forecast, TRIALS};
use pipewise_core::OpportunityId;
use pipewise_core::money::{Decimal, Money};
use serde::Serialize;

use crate::AppState;
use crate::auth::Viewer;
use crate::error::AppError;
use crate::i18n::{self, t, tf};
use crate::pages::{Params, SignedIn, answer, render, url_with};

mod chart;
mod record;

use chart::{Chart, chart_days, draw};
pub(crate) use record::{CallForm, bias_label, signed_percent};
use record::{CallsInput, CallsView, LedgerView, SymptomRow, calls_view, ledger_view, symptom_rows};

/// Deals named in "what moves the number".
const MOVERS: usize = 10;

/// People whose symptoms the page lists at most.
const MAX_SYMPTOM_ROWS: usize = 40;

/// Closed quarters the ledger scores.
const LEDGER_QUARTERS: usize = 4;

#[derive(Serialize)]
struct Figure {
    label: String,
    value: String,
    note: String,
    href: String,
}

#[derive(Serialize)]
struct MoverRow {
    name: String,
    href: String,
    owner: String,
    stage: String,
    close: String,
    amount: String,
    chance: String,
    adds: String,
}

/// A mover's owner, stage and close date as of the as-of day, worded.
type MoverFacts = (String, String, String);

#[derive(Serialize)]
struct ForecastView {
    heading: String,
    subtitle: String,
    statistical: bool,
    floor: String,
    figures: Vec<Figure>,
    made_of: String,
    chart: Chart,
    movers: Vec<MoverRow>,
    calls: CallsView,
    ledger: LedgerView,
    symptoms: Vec<SymptomRow>,
    symptoms_more: String,
    evidence: String,
    #[serde(flatten)]
    filters: super::SubjectFilters,
}

pub async fn forecast(State(state): State<AppState>, SignedIn(viewer): SignedIn, RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query.as_deref());
    answer(viewer, move |reader| render_forecast(&state, reader, &params, None)).await
}

/// `POST /forecast/call`: the viewer's call for the period the form names; back to the page.
pub async fn call(State(state): State<AppState>, SignedIn(viewer): SignedIn, body: axum::body::Bytes) -> Response {
    let form = Params::from_body(&body);
    answer(viewer, move |reader| {
        let period = form.raw("period").trim().to_owned();
        let input = app::forecast::CallInput {
            period: period.clone(),
            commit: form.raw("commit").trim().replace(',', ""),
            best_case: form.raw("best_case").trim().replace(',', ""),
            note: form.raw("note").to_owned(),
        };
        let insights = state.insights_for(reader.org)?;
        let ctx = reader.ctx(pipewise_core::history::Source::Web, state.now());
        // The fit, if any, outside the write.
        app::forecast::prepare_call(&mut state.db.read()?, reader.org, &reader.access, &insights, ctx.at, &input.period)?;
        match state.db.transact(|tx| app::forecast::submit_call(tx, &ctx, &insights, &input)) {
            Ok(_) => Ok(crate::pages::see_other(&url_with("/forecast", &[("period", period), ("called", "1".to_owned())]))),
            Err(error) => {
                let message =
                    crate::pages::form::error_message(reader.user.locale, error, Some(t(reader.user.locale, "fc.call_forbidden")))?;
                let params = Params::parse(Some(&serde_urlencoded::to_string([("period", period.as_str())]).unwrap_or_default()));
                let refused = CallForm { commit: input.commit, best_case: input.best_case, note: input.note, problems: vec![message] };
                render_forecast(&state, reader, &params, Some(refused))
            }
        }
    })
    .await
}

fn percent(fraction: f64) -> String {
    format!("{:.0}%", fraction * 100.0)
}

fn render_forecast(state: &AppState, viewer: &Viewer, params: &Params, refused: Option<CallForm>) -> Result<Response, AppError> {
    let locale = viewer.user.locale;
    let (data, teams, context) = super::load_subject(state, viewer, params)?;
    let currency = data.organisation.reporting_currency;
    let minor = u32::from(currency.minor_units());
    let money = |amount: i64| i18n::money(locale, Money::new(Decimal::new(amount, minor), currency).expect("a reporting amount"));
    let as_of = context.as_of_day();
    let period = context.period;
    let days = chart_days(period.first, period.last, as_of);

    let insights = state.insights_for(viewer.org)?;
    let models = insights.forecast_models();
    let own = app::visibility::visible_owners(&viewer.access);
    let (result, history, movers, mine, my_model) = insights.with(|projection| {
        let scope = context.scope(projection);
        let result = models.forecast(projection, as_of, period, &scope, TRIALS, MOVERS * 3);
        let history: Vec<(Day, std::sync::Arc<Forecast>)> = days
            .iter()
            .map(|day| {
                let point = if *day == as_of { result.clone() } else { models.forecast(projection, *day, period, &scope, CHART_TRIALS, 0) };
                (*day, point)
            })
            .collect();
        // The movers as they stood on the as-of day (stage, close date, owner).
        let movers: Vec<(OpportunityId, Option<MoverFacts>)> = result
            .movers
            .iter()
            .map(|mover| {
                let state = projection.deal_index(mover.opportunity).and_then(|deal| projection.state_at(deal, as_of));
                let facts = state.map(|state| {
                    let stage = &projection.stages[state.stage as usize];
                    let owner = projection.owner_ids.get(state.owner as usize).map(|user| data.user_name(*user)).unwrap_or_default();
                    let close = if state.close_day == pipewise_analytics::NO_DAY {
                        "—".to_owned()
                    } else {
                        i18n::date(locale, date_of_day(state.close_day))
                    };
                    (owner, i18n::projection_stage_name(locale, stage).to_owned(), close)
                });
                (mover.opportunity, facts)
            })
            .collect();
        // The viewer's own number, which their call is about.
        let own_scope = app::visibility::scope_of(projection, own.as_ref());
        let mine = app::forecast::categories(projection, &own_scope, as_of, period);
        let my_model = models.forecast(projection, as_of, period, &own_scope, TRIALS, 0);
        (result, history, movers, mine, my_model)
    });

    // The movers the viewer may open, named as they are today.
    let mut tx = state.db.read()?;
    let book = app::forecast::calls_in(&mut tx, viewer.org, &viewer.access, &context.period_key)?;
    let reports = app::forecast::direct_reports(&mut tx, viewer.org, viewer.user.id)?;
    let ledger = app::forecast::ledger(&mut tx, viewer.org, &viewer.access, &insights, context.today, LEDGER_QUARTERS)?;
    // Whose hygiene: a manager's own and their reports'; a rep's own; everyone else sees the
    // managers (or, with none, the reps), the first [`MAX_SYMPTOM_ROWS`].
    let mut people: Vec<pipewise_core::UserId> = match viewer.user.role {
        pipewise_core::user::Role::Rep => vec![viewer.user.id],
        pipewise_core::user::Role::Manager => std::iter::once(viewer.user.id).chain(reports.iter().copied()).collect(),
        _ => {
            let managers: Vec<_> = data
                .users
                .iter()
                .filter(|user| user.active && user.role == pipewise_core::user::Role::Manager)
                .map(|user| user.id)
                .collect();
            if managers.is_empty() {
                data.users.iter().filter(|user| user.active && user.role == pipewise_core::user::Role::Rep).map(|user| user.id).collect()
            } else {
                managers
            }
        }
    };
    let more = people.len().saturating_sub(MAX_SYMPTOM_ROWS);
    people.truncate(MAX_SYMPTOM_ROWS);
    let query = app::forecast::SymptomsQuery { people: &people, today: context.today, quarters: LEDGER_QUARTERS, ledger: &ledger };
    let symptoms = app::forecast::symptoms(&mut tx, viewer.org, &viewer.access, &insights, query)?;
    let mut mover_rows = Vec::new();
    for (mover, (id, facts)) in result.movers.iter().zip(movers) {
        if mover_rows.len() == MOVERS {
            break;
        }
        let Some(deal) = app::deals::opportunity_for(&mut tx, viewer.org, &viewer.access, id)? else { continue };
        let (owner, stage, close) = facts.unwrap_or_default();
        mover_rows.push(MoverRow {
            name: deal.name.clone(),
            href: format!("/opportunities/{}", id.0),
            owner,
            stage,
            close,
            amount: money(mover.amount),
            chance: percent(mover.probability),
            adds: money(mover.expected),
        });
    }
    drop(tx);

    let statistical = result.basis == Basis::Statistical;
    let mut figures = vec![Figure {
        label: t(locale, "fc.expected").to_owned(),
        value: money(result.expected),
        note: match result.range {
            Some([p10, _, p90]) => tf(locale, "fc.range", &[("p10", &money(p10)), ("p90", &money(p90))]),
            None => t(locale, "fc.no_range").to_owned(),
        },
        href: String::new(),
    }];
    figures.push(Figure {
        label: t(locale, "fc.won").to_owned(),
        value: money(result.won),
        note: tf(locale, "fc.won_note", &[("count", &i18n::group(result.won_deals as i64))]),
        href: context.drill_href("won_period", &[]),
    });
    figures.push(match context.quota {
        Some(quota) => {
            let gap = quota - result.expected;
            Figure {
                label: t(locale, "fc.quota").to_owned(),
                value: money(quota),
                note: if gap > 0 {
                    tf(locale, "fc.gap_short", &[("amount", &money(gap))])
                } else {
                    tf(locale, "fc.gap_ahead", &[("amount", &money(-gap))])
                },
                href: String::new(),
            }
        }
        None => Figure {
            label: t(locale, "fc.quota").to_owned(),
            value: "—".to_owned(),
            note: t(locale, "fc.no_quota").to_owned(),
            href: String::new(),
        },
    });
    figures.push(Figure {
        label: t(locale, "fc.stage_weighted").to_owned(),
        value: money(result.stage_weighted),
        note: tf(locale, "fc.stage_weighted_note", &[("deals", &i18n::group(result.due_deals as i64))]),
        href: context.drill_href("closing", &[]),
    });
    let open_expected = result.expected - result.won - result.run_rate.expected;
    let made_of = if statistical && result.run_rate.expected == 0 {
        tf(
            locale,
            "fc.made_of_open",
            &[("won", &money(result.won)), ("open", &money(open_expected)), ("deals", &i18n::group(result.open_deals as i64))],
        )
    } else if statistical {
        tf(
            locale,
            "fc.made_of",
            &[
                ("won", &money(result.won)),
                ("open", &money(open_expected)),
                ("deals", &i18n::group(result.open_deals as i64)),
                ("new", &money(result.run_rate.expected)),
                (
                    "per",
                    &if result.run_rate.deals_per_window < 1.0 {
                        format!("{:.2}", result.run_rate.deals_per_window)
                    } else {
                        format!("{:.1}", result.run_rate.deals_per_window)
                    },
                ),
            ],
        )
    } else {
        String::new()
    };
    let evidence = &result.evidence;
    let floor = tf(
        locale,
        "fc.floor",
        &[
            ("won", &evidence.won.to_string()),
            ("lost", &evidence.exits.to_string()),
            ("need_won", &FLOOR_WON.to_string()),
            ("need_lost", &FLOOR_EXITS.to_string()),
        ],
    );
    let evidence_text = tf(
        locale,
        "fc.evidence",
        &[
            ("won", &i18n::group(i64::from(evidence.won))),
            ("lost", &i18n::group(i64::from(evidence.exits))),
            ("since", &i18n::date(locale, date_of_day(evidence.since))),
            ("snapshots", &evidence.snapshots.to_string()),
            ("trials", &i18n::group(i64::from(TRIALS))),
        ],
    );
    let compact = |amount: i64| i18n::money_compact(locale, Money::new(Decimal::new(amount, minor), currency).expect("a reporting amount"));
    let chart = draw(&history, context.quota, period.first - 1, period.last, &money, &compact, locale);

    let status = if refused.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let calls = calls_view(CallsInput {
        viewer,
        data: &data,
        book: &book,
        reports: &reports,
        mine: &mine,
        model: &my_model,
        open: period.last >= day_of_date(context.today),
        notice: params.get("called").is_some(),
        refused,
        money: &money,
    });
    let ledger = ledger_view(locale, &data, &ledger, context.calendar, &money);
    let symptoms = symptom_rows(&data, &symptoms);
    let symptoms_more = if more > 0 { tf(locale, "fc.symptoms_more", &[("count", &more.to_string())]) } else { String::new() };
    let view = ForecastView {
        heading: context.subject_name(locale, &data, &teams),
        subtitle: tf(
            locale,
            "fc.subtitle",
            &[("period", &context.period_label(locale)), ("date", &i18n::date(locale, context.as_of)), ("currency", currency.code())],
        ),
        statistical,
        floor,
        figures,
        made_of,
        chart,
        movers: mover_rows,
        calls,
        ledger,
        symptoms,
        symptoms_more,
        evidence: evidence_text,
        filters: super::subject_filters(viewer, &data, &teams, &context),
    };
    let title = format!("{} · {}", t(locale, "fc.title"), view.heading);
    render::page(viewer, status, "forecast.html", "forecast", title, &view)
}
