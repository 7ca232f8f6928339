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
use pipewise_app::visibility::Subject;
use pipewise_core::OpportunityId;
use pipewise_core::money::{Decimal, Money};
use serde::Serialize;

use super::context::Context;
use crate::AppState;
use crate::auth::Viewer;
use crate::error::AppError;
use crate::i18n::{self, t, tf};
use crate::pages::data::OrgData;
use crate::pages::{Params, SignedIn, answer, render, url_with};

/// Deals named in "what moves the number".
const MOVERS: usize = 10;
/// People whose symptoms the page lists at most.
const MAX_SYMPTOM_ROWS: usize = 40;
/// Closed quarters the ledger scores.
const LEDGER_QUARTERS: usize = 4;
/// Points of the chart at most.
const MAX_POINTS: i32 = 14;

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
struct Point {
    date: String,
    low: String,
    median: String,
    high: String,
    won: String,
}

#[derive(Serialize)]
struct Chart {
    /// SVG path data.
    band: String,
    median: String,
    won: String,
    quota_y: Option<f64>,
    /// Horizontal grid lines: (y, amount).
    ticks: Vec<(f64, String)>,
    width: u32,
    height: u32,
    first: String,
    last: String,
    top: String,
    points: Vec<Point>,
}

/// A person's latest call, as the roll-up lists it.
#[derive(Serialize)]
struct ReportRow {
    name: String,
    commit: String,
    best_case: String,
    when: String,
    note: String,
    missing: bool,
}

#[derive(Serialize)]
struct HistoryRow {
    when: String,
    commit: String,
    best_case: String,
    note: String,
    adjustment: String,
}

/// The viewer's own call for the period: the form, what they see, their reports' calls and
/// their history.
#[derive(Serialize)]
struct CallsView {
    can_call: bool,
    open: bool,
    commit: String,
    best_case: String,
    note: String,
    problems: Vec<String>,
    notice: String,
    covers: String,
    system: Vec<Figure>,
    reports: Vec<ReportRow>,
    rollup: String,
    history: Vec<HistoryRow>,
}

/// What a refused call form sends back to the page.
pub(crate) struct CallForm {
    pub commit: String,
    pub best_case: String,
    pub note: String,
    pub problems: Vec<String>,
}

#[derive(Serialize)]
struct CallerRow {
    name: String,
    periods: usize,
    raw: String,
    shrunk: String,
    label: String,
    label_class: &'static str,
}

#[derive(Serialize)]
struct ScoredRow {
    period: String,
    name: String,
    commit: String,
    actual: String,
    error: String,
    model: String,
    model_error: String,
}

/// The accuracy ledger: every opening call of the last closed quarters scored, the model beside
/// it, and each caller's bias after shrinkage.
#[derive(Serialize)]
struct LedgerView {
    summary: String,
    callers: Vec<CallerRow>,
    scored: Vec<ScoredRow>,
}

/// `+12%` or `−8%`.
pub(crate) fn signed_percent(fraction: f64) -> String {
    let percent = (fraction * 100.0).round();
    if percent < 0.0 { format!("−{}%", -percent) } else { format!("+{percent}%") }
}

/// A caller's bias label: its words and its pill's class.
pub(crate) fn bias_label(locale: pipewise_core::user::Locale, label: app::forecast::ledger::Label) -> (String, &'static str) {
    use app::forecast::ledger::Label;
    let (key, class) = match label {
        Label::HappyEars => ("fc.label.happy_ears", "status-lost"),
        Label::Sandbagging => ("fc.label.sandbagging", "status-lost"),
        Label::Calibrated => ("fc.label.calibrated", "status-won"),
        Label::TooFewPeriods => ("fc.label.too_few", ""),
    };
    (t(locale, key).to_owned(), class)
}

/// One symptom's last closed quarter, its change from the quarter before, and so far this one.
#[derive(Serialize)]
struct SymptomCell {
    value: String,
    change: String,
    /// Worse than the quarter before.
    worse: bool,
}

#[derive(Serialize)]
struct SymptomRow {
    name: String,
    cells: Vec<SymptomCell>,
}

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

/// The as-of days of the chart: the period's eve, then every week (or a longer step, so that
/// there are at most [`MAX_POINTS`]), and the as-of day itself.
fn chart_days(first: Day, last: Day, as_of: Day) -> Vec<Day> {
    let start = first - 1;
    let end = as_of.min(last);
    let span = (end - start).max(0);
    let step = (span as u32).div_ceil((MAX_POINTS - 1) as u32).max(7) as Day;
    let mut days: Vec<Day> = (0..).map(|k| start + k * step).take_while(|day| *day < end).collect();
    days.push(end);
    days
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
    let as_of_text = context.as_of.to_string();
    let period_key = context.period_key.clone();
    let drill = |figure: &str| {
        let mut pairs = context_pairs(&context);
        pairs.extend([
            ("figure", figure.to_owned()),
            ("period", period_key.clone()),
            ("as_of", as_of_text.clone()),
            ("status", "all".to_owned()),
        ]);
        url_with("/opportunities", &pairs)
    };
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
        href: drill("won_period"),
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
        href: drill("closing"),
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
    let chart = chart(&history, context.quota, period.first - 1, period.last, &money, &compact, locale);

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

/// The subject's query pairs for links (team or owner).
fn context_pairs(context: &Context) -> Vec<(&'static str, String)> {
    match &context.resolved.subject {
        Subject::Team(team) => vec![("team", team.to_string())],
        Subject::Rep(user) => vec![("owner", user.to_string())],
        Subject::Organisation | Subject::Reports => Vec::new(),
    }
}

/// The band over time: x from the period's eve to its last day, y from 0 to the highest of the
/// P90s, the quota and what was won.
fn chart(
    history: &[(Day, std::sync::Arc<Forecast>)],
    quota: Option<i64>,
    first: Day,
    last: Day,
    money: &dyn Fn(i64) -> String,
    compact: &dyn Fn(i64) -> String,
    locale: pipewise_core::user::Locale,
) -> Chart {
    const WIDTH: u32 = 720;
    const HEIGHT: u32 = 240;
    const PAD: f64 = 8.0;
    let high = |forecast: &Forecast| forecast.range.map_or(forecast.expected, |range| range[2]);
    let low = |forecast: &Forecast| forecast.range.map_or(forecast.expected, |range| range[0]);
    let median = |forecast: &Forecast| forecast.range.map_or(forecast.expected, |range| range[1]);
    let top = history.iter().map(|(_, forecast)| high(forecast).max(forecast.won)).chain(quota).max().unwrap_or(0).max(1);
    let top = top as f64 * 1.08;
    let x = |day: Day| PAD + (f64::from(day - first) / f64::from((last - first).max(1))) * (f64::from(WIDTH) - 2.0 * PAD);
    let y = |amount: i64| f64::from(HEIGHT) - PAD - (amount as f64 / top) * (f64::from(HEIGHT) - 2.0 * PAD);
    let line = |pick: &dyn Fn(&Forecast) -> i64| {
        history
            .iter()
            .enumerate()
            .map(|(k, (day, forecast))| format!("{}{:.1},{:.1}", if k == 0 { "M" } else { "L" }, x(*day), y(pick(forecast))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let band = if history.iter().all(|(_, forecast)| forecast.range.is_some()) && !history.is_empty() {
        let upper = history.iter().map(|(day, forecast)| format!("{:.1},{:.1}", x(*day), y(high(forecast))));
        let lower = history.iter().rev().map(|(day, forecast)| format!("{:.1},{:.1}", x(*day), y(low(forecast))));
        format!("M{} Z", upper.chain(lower).collect::<Vec<_>>().join(" L"))
    } else {
        String::new()
    };
    Chart {
        band,
        median: line(&median),
        won: line(&|forecast: &Forecast| forecast.won),
        quota_y: quota.map(|quota| (y(quota) * 10.0).round() / 10.0),
        ticks: (1..=3)
            .map(|k| {
                let amount = (top * f64::from(k) / 4.0) as i64;
                ((y(amount) * 10.0).round() / 10.0, compact(amount))
            })
            .collect(),
        width: WIDTH,
        height: HEIGHT,
        first: i18n::date(locale, date_of_day(first + 1)),
        last: i18n::date(locale, date_of_day(last)),
        top: money(top as i64),
        points: history
            .iter()
            .map(|(day, forecast)| Point {
                date: i18n::date(locale, date_of_day(*day)),
                low: money(low(forecast)),
                median: money(median(forecast)),
                high: money(high(forecast)),
                won: money(forecast.won),
            })
            .collect(),
    }
}

struct CallsInput<'a> {
    viewer: &'a Viewer,
    data: &'a OrgData,
    book: &'a app::forecast::CallBook,
    reports: &'a [pipewise_core::UserId],
    mine: &'a app::forecast::Categories,
    model: &'a Forecast,
    open: bool,
    notice: bool,
    refused: Option<CallForm>,
    money: &'a dyn Fn(i64) -> String,
}

/// The call panel: the viewer's form (kept as typed when refused, else their latest call, else
/// what their deals' categories say), what they see, their reports' latest calls and their own
/// history of calls.
fn calls_view(input: CallsInput) -> CallsView {
    let CallsInput { viewer, data, book, reports, mine, model, open, notice, refused, money } = input;
    let locale = viewer.user.locale;
    let me = viewer.user.id;
    let zone = viewer.user.time_zone.as_str();
    let scale = u32::from(data.organisation.reporting_currency.minor_units());
    let plain = |minor: i64| Decimal::new(minor, scale).to_string();
    let when = |call: &pipewise_app::StoredCall| i18n::timestamp(locale, call.submitted_at, zone);
    let latest = book.latest(me);
    let (commit, best_case, note, problems) = match refused {
        Some(form) => (form.commit, form.best_case, form.note, form.problems),
        None => match latest {
            Some(call) => (plain(call.commit), plain(call.best_case), String::new(), Vec::new()),
            None => (plain(mine.commit_total()), plain(mine.best_case_total()), String::new(), Vec::new()),
        },
    };
    let mut system = vec![
        Figure { label: t(locale, "fc.closed").to_owned(), value: money(mine.closed), note: String::new(), href: String::new() },
        Figure {
            label: t(locale, "fc.commit").to_owned(),
            value: money(mine.commit_total()),
            note: t(locale, "fc.commit_note").to_owned(),
            href: String::new(),
        },
        Figure {
            label: t(locale, "fc.best_case").to_owned(),
            value: money(mine.best_case_total()),
            note: t(locale, "fc.best_case_note").to_owned(),
            href: String::new(),
        },
    ];
    if let Some([p10, _, p90]) = model.range {
        system.push(Figure {
            label: t(locale, "fc.model").to_owned(),
            value: money(model.expected),
            note: tf(locale, "fc.range", &[("p10", &money(p10)), ("p90", &money(p90))]),
            href: String::new(),
        });
    }
    let report_rows: Vec<ReportRow> = reports
        .iter()
        .map(|person| match book.latest(*person) {
            Some(call) => ReportRow {
                name: data.user_name(*person),
                commit: money(call.commit),
                best_case: money(call.best_case),
                when: when(call),
                note: call.note.clone(),
                missing: false,
            },
            None => ReportRow {
                name: data.user_name(*person),
                commit: "—".to_owned(),
                best_case: "—".to_owned(),
                when: t(locale, "fc.no_call").to_owned(),
                note: String::new(),
                missing: true,
            },
        })
        .collect();
    let rollup = match book.rollup(reports) {
        Some((commit, best_case)) => tf(
            locale,
            "fc.rollup",
            &[
                ("commit", &money(commit)),
                ("best_case", &money(best_case)),
                ("missing", &report_rows.iter().filter(|row| row.missing).count().to_string()),
            ],
        ),
        None if reports.is_empty() => String::new(),
        None => t(locale, "fc.rollup_none").to_owned(),
    };
    let history = book
        .history(me)
        .into_iter()
        .map(|call| HistoryRow {
            when: when(call),
            commit: money(call.commit),
            best_case: money(call.best_case),
            note: call.note.clone(),
            adjustment: call.rollup.map_or_else(String::new, |(commit, _)| {
                let difference = call.commit.saturating_sub(commit);
                let sign = if difference < 0 { "−" } else { "+" };
                tf(locale, "fc.adjustment", &[("amount", &format!("{sign}{}", money(difference.saturating_abs())))])
            }),
        })
        .collect();
    let covers = match viewer.user.role {
        pipewise_core::user::Role::Rep => t(locale, "fc.covers_rep"),
        pipewise_core::user::Role::Manager => t(locale, "fc.covers_manager"),
        _ => t(locale, "fc.covers_all"),
    }
    .to_owned();
    CallsView {
        can_call: viewer.user.role != pipewise_core::user::Role::Viewer,
        open,
        commit,
        best_case,
        note,
        problems,
        notice: if notice { t(locale, "fc.called").to_owned() } else { String::new() },
        covers,
        system,
        reports: report_rows,
        rollup,
        history,
    }
}

fn ledger_view(
    locale: pipewise_core::user::Locale,
    data: &OrgData,
    ledger: &app::forecast::Ledger,
    calendar: pipewise_core::fiscal::FiscalCalendar,
    money: &dyn Fn(i64) -> String,
) -> LedgerView {
    let (n, call_error, model_error, coverage) = ledger.record();
    let summary = match (call_error, model_error, coverage) {
        (Some(call_error), Some(model_error), Some(coverage)) => tf(
            locale,
            "fc.ledger_summary",
            &[
                ("calls", &n.to_string()),
                ("quarters", &ledger.quarters.len().to_string()),
                ("call_error", &percent(call_error)),
                ("model_error", &percent(model_error)),
                ("coverage", &percent(coverage)),
            ],
        ),
        _ if n > 0 => tf(locale, "fc.ledger_calls_only", &[("calls", &n.to_string()), ("quarters", &ledger.quarters.len().to_string())]),
        _ => t(locale, "fc.ledger_empty").to_owned(),
    };
    let mut callers: Vec<CallerRow> = ledger
        .biases
        .iter()
        .map(|bias| {
            let (label, label_class) = bias_label(locale, bias.label);
            CallerRow {
                name: data.user_name(bias.person),
                periods: bias.periods,
                raw: signed_percent(bias.raw),
                shrunk: signed_percent(bias.shrunk),
                label,
                label_class,
            }
        })
        .collect();
    callers.sort_by_key(|row| row.name.to_lowercase());
    let scored = ledger
        .scored
        .iter()
        .map(|row| ScoredRow {
            period: i18n::period_label(locale, calendar, &row.period),
            name: data.user_name(row.call.user),
            commit: money(row.call.commit),
            actual: money(row.actual),
            error: signed_percent(row.error),
            model: row.call.model.map_or_else(|| "—".to_owned(), |[expected, _, _]| money(expected)),
            model_error: row.model_error.map_or_else(|| "—".to_owned(), signed_percent),
        })
        .collect();
    LedgerView { summary, callers, scored }
}

/// Each person's five symptoms: the last closed quarter, its change from the one before (in
/// points), and the running quarter so far where it is measured (stale deals, missing calls).
fn symptom_rows(data: &OrgData, people: &[app::forecast::PersonSymptoms]) -> Vec<SymptomRow> {
    type Pick = fn(&app::forecast::QuarterSymptoms) -> Option<f64>;
    let measures: [Pick; 5] = [|q| q.late, |q| q.stale, |q| q.scramble, |q| q.missing, |q| q.error];
    people
        .iter()
        .map(|person| {
            let closed: Vec<&app::forecast::QuarterSymptoms> = person.quarters.iter().filter(|quarter| !quarter.running).collect();
            let running = person.quarters.iter().find(|quarter| quarter.running);
            let cells = measures
                .iter()
                .map(|pick| {
                    let last = closed.last().and_then(|quarter| pick(quarter));
                    let before = closed.len().checked_sub(2).and_then(|k| pick(closed[k]));
                    let now = running.and_then(pick);
                    let value = match (last, now) {
                        (Some(last), _) => percent(last),
                        (None, Some(now)) => percent(now),
                        (None, None) => "—".to_owned(),
                    };
                    let (change, worse) = match (last, before) {
                        (Some(last), Some(before)) => {
                            let points = ((last - before) * 100.0).round();
                            let change = if points > 0.0 {
                                format!("▲ {points}")
                            } else if points < 0.0 {
                                format!("▼ {}", -points)
                            } else {
                                "=".to_owned()
                            };
                            (change, points > 0.0)
                        }
                        _ => (String::new(), false),
                    };
                    SymptomCell { value, change, worse }
                })
                .collect();
            SymptomRow { name: data.user_name(person.user), cells }
        })
        .collect()
}
