//! The quotas page (`/quotas`, SPEC C8, issue 12): a fiscal year's quotas, quarter by quarter or
//! month by month, for each team and each rep the reader may see, with what each rep's own
//! record says about their quota for the current period (the realism check: pipeline, win rate,
//! cycle — can it be reached?).
//!
//! - `?year=2027` (the current fiscal year by default) and `?kind=quarter|month` choose the grid.
//! - Ops and admins edit: the grid posts every cell (`POST /quotas`); changed cells are set, a
//!   cleared cell removes its quota, all in one transaction; a refused form comes back with 422,
//!   everything typed kept and each bad cell marked. They also set the month the fiscal year
//!   starts in (`POST /quotas/fiscal-year`), spread a year's amount by seasonality weights
//!   (`POST /quotas/seasonal`) and import a CSV file pasted in (`POST /quotas/import`, all or
//!   nothing, every bad line named); the CSV export is the API's (`/api/v1/quotas/export`).
//! - Everyone else reads the same page without the forms.
//!
//! Every write goes through `app::quotas` (authorised and audited) and carries the CSRF token.

use std::collections::{BTreeMap, BTreeSet};

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use pipewise_analytics::Scope;
use pipewise_app::{self as app, QuotaSubject, StoredQuota};
use pipewise_comp::{Realism, Reason, Verdict};
use pipewise_core::error::ValidationErrors;
use pipewise_core::fiscal::{FiscalCalendar, FiscalPeriod, PeriodKind};
use pipewise_core::history::Source;
use pipewise_core::money::{Decimal, Money};
use pipewise_core::user::{Locale, Role};
use pipewise_core::{Currency, TeamId, UserId};
use serde::Serialize;

use super::dashboard::with_projection;
use super::form::{Refusal, refusal};
use super::{Params, SignedIn, render, respond, see_other, url_with};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, blocking};
use crate::i18n::{self, t, tf};

#[derive(Serialize)]
struct Column {
    key: String,
    label: String,
}

#[derive(Serialize)]
struct Cell {
    /// The form field: `q.user.3.2027-Q1`.
    name: String,
    value: String,
    error: Option<String>,
}

#[derive(Serialize)]
struct RealismView {
    verdict: &'static str,
    label: String,
    expected: String,
    reasons: Vec<String>,
}

#[derive(Serialize)]
struct Row {
    team_row: bool,
    name: String,
    team: String,
    cells: Vec<Cell>,
    year: Cell,
    sum: String,
    realism: Option<RealismView>,
    /// The rep's dashboard for the period.
    href: String,
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
}

#[derive(Serialize)]
struct QuotasView {
    heading: String,
    year: String,
    kind: &'static str,
    editable: bool,
    previous_href: String,
    next_href: String,
    quarters_href: String,
    months_href: String,
    columns: Vec<Column>,
    rows: Vec<Row>,
    currency_hint: String,
    realism_heading: String,
    amount_label: String,
    notice: Option<String>,
    problems: Vec<String>,
    months: Vec<Choice>,
    fiscal_start: String,
    subjects: Vec<Choice>,
    export_href: String,
    csv: String,
    failed: bool,
}

/// What a refused form brings back to the page.
#[derive(Default)]
struct Refused {
    typed: Option<Params>,
    cells: BTreeMap<String, String>,
    problems: Vec<String>,
    csv: String,
}

/// The year and kind a request asks for.
struct Grid {
    year: FiscalPeriod,
    kind: PeriodKind,
}

impl Grid {
    fn parse(calendar: FiscalCalendar, today: pipewise_core::Date, params: &Params) -> Grid {
        let year = params
            .get("year")
            .and_then(|raw| calendar.parse_key(raw).ok())
            .filter(|period| period.kind == PeriodKind::Year)
            .unwrap_or_else(|| calendar.period_of(PeriodKind::Year, today));
        let kind = if params.get("kind") == Some("month") { PeriodKind::Month } else { PeriodKind::Quarter };
        Grid { year, kind }
    }

    fn href(&self, year: &FiscalPeriod, kind: PeriodKind) -> String {
        url_with("/quotas", &[("year", year.key()), ("kind", kind.code().to_owned())])
    }

    fn here(&self) -> String {
        self.href(&self.year, self.kind)
    }
}

fn cell_name(subject: QuotaSubject, key: &str) -> String {
    match subject {
        QuotaSubject::User(user) => format!("q.user.{user}.{key}"),
        QuotaSubject::Team(team) => format!("q.team.{team}.{key}"),
    }
}

fn parse_cell_name(name: &str) -> Option<(QuotaSubject, &str)> {
    let rest = name.strip_prefix("q.")?;
    let (kind, rest) = rest.split_once('.')?;
    let (id, key) = rest.split_once('.')?;
    let id: i64 = id.parse().ok().filter(|id| *id > 0)?;
    match kind {
        "user" => Some((QuotaSubject::User(UserId(id)), key)),
        "team" => Some((QuotaSubject::Team(TeamId(id)), key)),
        _ => None,
    }
}

fn amount_text(money: Money) -> String {
    money.amount().normalize().to_string()
}

/// The verdict and its reasons in the reader's language.
fn realism_view(locale: Locale, currency: Currency, realism: &Realism) -> RealismView {
    let money = |amount: Decimal| {
        Money::new(amount.round_dp(u32::from(currency.minor_units())), currency).map(|money| i18n::money(locale, money)).unwrap_or_default()
    };
    let verdict = match realism.verdict {
        Verdict::Reachable => "reachable",
        Verdict::Stretch => "stretch",
        Verdict::Unrealistic => "unrealistic",
        Verdict::NoHistory => "no_history",
    };
    let reasons = realism
        .reasons
        .iter()
        .map(|reason| match reason {
            Reason::AboveAverage { average, ratio } => {
                tf(locale, "quotas.reason.above_average", &[("average", &money(*average)), ("ratio", &ratio.normalize().to_string())])
            }
            Reason::AboveBest { best } => tf(locale, "quotas.reason.above_best", &[("best", &money(*best))]),
            Reason::PipelineShort { needed, open } => {
                tf(locale, "quotas.reason.pipeline_short", &[("needed", &money(*needed)), ("open", &money(*open))])
            }
            Reason::CycleLongerThanPeriodLeft { cycle, days_left } => {
                tf(locale, "quotas.reason.cycle_longer", &[("cycle", &cycle.round_dp(0).to_string()), ("days", &days_left.to_string())])
            }
        })
        .collect();
    RealismView {
        verdict,
        label: t(locale, &format!("quotas.verdict.{verdict}")).to_owned(),
        expected: if realism.verdict == Verdict::NoHistory {
            String::new()
        } else {
            tf(locale, "quotas.expected", &[("amount", &money(realism.expected))])
        },
        reasons,
    }
}

fn page(
    state: &AppState,
    viewer: &Viewer,
    params: &Params,
    status: StatusCode,
    refused: Refused,
    notice: Option<String>,
) -> Result<Response, AppError> {
    let locale = viewer.user.locale;
    let now = state.now();
    let today = viewer.today(now);
    let mut tx = state.db.read()?;
    let organisation =
        app::users::organisation(&mut tx, viewer.org)?.ok_or(AppError::NotFound { kind: "organisation", id: viewer.org.to_string() })?;
    let calendar = organisation.fiscal;
    let currency = organisation.reporting_currency;
    let grid = Grid::parse(calendar, today, params);
    let editable = matches!(viewer.user.role, Role::Admin | Role::Ops);
    let periods = calendar.periods_in(grid.kind, &grid.year);
    let stored: Vec<StoredQuota> = app::quotas::quotas_in(&mut tx, viewer.org, &viewer.access, &grid.year)?;
    let mut users = app::users::users(&mut tx, viewer.org)?;
    users.sort_by_key(|user| user.name.to_lowercase());
    let teams = app::users::teams(&mut tx, viewer.org)?;
    let visible = app::visibility::visible_owners(&viewer.access);
    let sees = |user: UserId| visible.as_ref().is_none_or(|owners| owners.contains(&user));
    let with_quota: BTreeSet<QuotaSubject> = stored.iter().map(|quota| quota.subject).collect();
    let people: Vec<_> = users
        .iter()
        .filter(|user| sees(user.id) && (user.role == Role::Rep || with_quota.contains(&QuotaSubject::User(user.id))))
        .collect();
    let team_ids: BTreeSet<TeamId> = people.iter().filter_map(|user| user.team_id).collect();

    // The current period of the grid's kind (its first, for a year not begun or over): the realism check's.
    let current = if grid.year.contains(today) { calendar.period_of(grid.kind, today) } else { periods[0] };
    let book = app::quotas::quota_book(&mut tx, viewer.org, &viewer.access, current.first, current.last)?;
    drop(tx);
    let histories =
        with_projection(state, viewer.org, |projection| app::performance::histories(projection, &Scope::org(), calendar, &current, today))?;
    let realism = app::performance::realism_of(&book.users, &histories);

    let value_of = |subject: QuotaSubject, period: &FiscalPeriod| {
        stored
            .iter()
            .find(|quota| quota.subject == subject && quota.kind == period.kind && quota.first == period.first && quota.last == period.last)
            .map(|quota| quota.amount)
    };
    let cell = |subject: QuotaSubject, period: &FiscalPeriod| {
        let name = cell_name(subject, &period.key());
        let value = match &refused.typed {
            Some(typed) => typed.raw(&name).to_owned(),
            None => value_of(subject, period).map(amount_text).unwrap_or_default(),
        };
        Cell { error: refused.cells.get(&name).cloned(), name, value }
    };
    let sum = |subject: QuotaSubject| {
        let total: Decimal = periods
            .iter()
            .filter_map(|period| value_of(subject, period))
            .fold(Decimal::ZERO, |sum, money| sum.saturating_add(money.amount()));
        if total.is_zero() {
            String::new()
        } else {
            Money::new(total, currency).map(|money| i18n::money(locale, money)).unwrap_or_default()
        }
    };
    let team_name = |team: Option<TeamId>| {
        team.and_then(|id| teams.iter().find(|team| team.id == id)).map(|team| team.name.clone()).unwrap_or_default()
    };
    let mut rows = Vec::new();
    for team in teams.iter().filter(|team| team_ids.contains(&team.id)) {
        let subject = QuotaSubject::Team(team.id);
        rows.push(Row {
            team_row: true,
            name: team.name.clone(),
            team: String::new(),
            cells: periods.iter().map(|period| cell(subject, period)).collect(),
            year: cell(subject, &grid.year),
            sum: sum(subject),
            realism: None,
            href: url_with("/dashboard", &[("team", team.id.to_string()), ("period", current.key())]),
        });
        for user in people.iter().filter(|user| user.team_id == Some(team.id)) {
            rows.push(person_row(user, &team.name, &periods, &grid, &cell, &sum, &realism, locale, currency, &current));
        }
    }
    for user in people.iter().filter(|user| user.team_id.is_none_or(|team| !team_ids.contains(&team))) {
        rows.push(person_row(user, &team_name(user.team_id), &periods, &grid, &cell, &sum, &realism, locale, currency, &current));
    }

    let subjects = teams
        .iter()
        .filter(|team| team_ids.contains(&team.id))
        .map(|team| Choice { value: format!("team:{}", team.id), label: tf(locale, "quotas.team_row", &[("name", &team.name)]) })
        .chain(people.iter().map(|user| Choice { value: format!("user:{}", user.id), label: user.name.clone() }))
        .collect();
    let view = QuotasView {
        heading: i18n::period_label(locale, calendar, &grid.year),
        year: grid.year.key(),
        kind: grid.kind.code(),
        editable,
        previous_href: grid.href(&calendar.previous(&grid.year), grid.kind),
        next_href: grid.href(&calendar.next(&grid.year), grid.kind),
        quarters_href: grid.href(&grid.year, PeriodKind::Quarter),
        months_href: grid.href(&grid.year, PeriodKind::Month),
        columns: periods.iter().map(|period| Column { key: period.key(), label: i18n::period_label(locale, calendar, period) }).collect(),
        rows,
        currency_hint: tf(locale, "quotas.currency_hint", &[("currency", currency.code())]),
        realism_heading: tf(locale, "quotas.realism", &[("period", &i18n::period_label(locale, calendar, &current))]),
        amount_label: tf(locale, "quotas.seasonal.amount", &[("currency", currency.code())]),
        notice,
        failed: !refused.cells.is_empty() || !refused.problems.is_empty(),
        problems: refused.problems,
        months: (1..=12)
            .map(|month: u8| Choice { value: month.to_string(), label: t(locale, &format!("month.{month}")).to_owned() })
            .collect(),
        fiscal_start: calendar.start_month().to_string(),
        subjects,
        export_href: url_with("/api/v1/quotas/export", &[("period", grid.year.key())]),
        csv: refused.csv,
    };
    let title = format!("{} · {}", t(locale, "quotas.title"), view.heading);
    render::page(viewer, status, "quotas.html", "quotas", title, &view)
}

#[allow(clippy::too_many_arguments)]
fn person_row(
    user: &pipewise_core::user::User,
    team: &str,
    periods: &[FiscalPeriod],
    grid: &Grid,
    cell: &dyn Fn(QuotaSubject, &FiscalPeriod) -> Cell,
    sum: &dyn Fn(QuotaSubject) -> String,
    realism: &BTreeMap<UserId, Realism>,
    locale: Locale,
    currency: Currency,
    current: &FiscalPeriod,
) -> Row {
    let subject = QuotaSubject::User(user.id);
    Row {
        team_row: false,
        name: user.name.clone(),
        team: team.to_owned(),
        cells: periods.iter().map(|period| cell(subject, period)).collect(),
        year: cell(subject, &grid.year),
        sum: sum(subject),
        realism: realism.get(&user.id).map(|realism| realism_view(locale, currency, realism)),
        href: url_with("/dashboard", &[("owner", user.id.to_string()), ("period", current.key())]),
    }
}

fn designers_only(viewer: &Viewer) -> Result<(), AppError> {
    if matches!(viewer.user.role, Role::Admin | Role::Ops) {
        Ok(())
    } else {
        Err(AppError::Forbidden(t(viewer.user.locale, "quotas.ops_only").to_owned()))
    }
}

/// Every problem of a refused write, in the reader's language.
fn worded(locale: Locale, errors: &ValidationErrors) -> Vec<String> {
    errors.0.iter().map(|error| format!("{}: {}: {}", error.record, error.field, i18n::problem(locale, &error.problem))).collect()
}

pub async fn show(State(state): State<AppState>, SignedIn(viewer): SignedIn, RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query.as_deref());
    let reader = viewer.clone();
    let result = blocking(move || {
        let locale = reader.user.locale;
        let notice = params.get("saved").map(|count| tf(locale, "quotas.saved", &[("count", count)]));
        page(&state, &reader, &params, StatusCode::OK, Refused::default(), notice)
    })
    .await;
    respond(&viewer, result)
}

/// Saves the grid: every changed cell set, every cleared one removed, in one transaction.
pub async fn save(State(state): State<AppState>, SignedIn(viewer): SignedIn, RawQuery(query): RawQuery, body: Bytes) -> Response {
    let params = Params::parse(query.as_deref());
    let form = Params::from_body(&body);
    let reader = viewer.clone();
    let result = blocking(move || {
        designers_only(&reader)?;
        let locale = reader.user.locale;
        let mut tx = state.db.read()?;
        let organisation = app::users::organisation(&mut tx, reader.org)?
            .ok_or(AppError::NotFound { kind: "organisation", id: reader.org.to_string() })?;
        let grid = Grid::parse(organisation.fiscal, reader.today(state.now()), &params);
        let stored = app::quotas::quotas_in(&mut tx, reader.org, &reader.access, &grid.year)?;
        drop(tx);
        // What changed, each amount checked before anything is written.
        let mut changes: Vec<(QuotaSubject, String, Option<String>)> = Vec::new();
        let mut cells = BTreeMap::new();
        for (name, raw) in &form.0 {
            let Some((subject, key)) = parse_cell_name(name) else { continue };
            let Ok(period) = organisation.fiscal.parse_key(key) else { continue };
            let raw = raw.trim().replace(',', "");
            let current = stored
                .iter()
                .find(|quota| quota.subject == subject && quota.kind == period.kind && quota.first == period.first)
                .map(|quota| quota.amount);
            if raw.is_empty() {
                if current.is_some() {
                    changes.push((subject, key.to_owned(), None));
                }
                continue;
            }
            match Money::parse_amount(&raw, organisation.reporting_currency) {
                Ok(money) if money.is_negative() => {
                    cells.insert(name.clone(), i18n::problem(locale, &pipewise_core::error::Problem::Negative { value: raw.clone() }));
                }
                Ok(money) if current == Some(money) => {}
                Ok(_) => changes.push((subject, key.to_owned(), Some(raw))),
                Err(problem) => {
                    cells.insert(name.clone(), i18n::problem(locale, &problem));
                }
            }
        }
        if cells.is_empty() {
            let ctx = reader.ctx(Source::Web, state.now());
            let count = changes.len();
            let written = state.db.transact(|tx| {
                for (subject, key, amount) in &changes {
                    match amount {
                        Some(amount) => {
                            app::quotas::set_quota(tx, &ctx, *subject, key, amount)?;
                        }
                        None => {
                            app::quotas::remove_quota(tx, &ctx, *subject, key)?;
                        }
                    }
                }
                Ok(())
            });
            match written {
                Ok(()) => return Ok(see_other(&format!("{}&saved={count}", grid.here()))),
                Err(error) => match refusal(error)? {
                    Refusal::Invalid(errors) => {
                        let problems = worded(locale, &errors);
                        return page(
                            &state,
                            &reader,
                            &params,
                            StatusCode::UNPROCESSABLE_ENTITY,
                            Refused { typed: Some(form), problems, ..Refused::default() },
                            None,
                        );
                    }
                    other => return Err(other.into()),
                },
            }
        }
        page(&state, &reader, &params, StatusCode::UNPROCESSABLE_ENTITY, Refused { typed: Some(form), cells, ..Refused::default() }, None)
    })
    .await;
    respond(&viewer, result)
}

/// Runs one write of the side forms; a refusal shows the page again with its problems.
fn side_write(
    state: &AppState,
    viewer: &Viewer,
    params: &Params,
    csv: String,
    write: impl FnOnce(&mut app::Tx, &app::WriteCtx) -> app::Result<String>,
) -> Result<Response, AppError> {
    designers_only(viewer)?;
    let ctx = viewer.ctx(Source::Web, state.now());
    match state.db.transact(|tx| write(tx, &ctx)) {
        Ok(notice) => page(state, viewer, params, StatusCode::OK, Refused::default(), Some(notice)),
        Err(error) => match refusal(error)? {
            Refusal::Invalid(errors) => {
                let refused = Refused { problems: worded(viewer.user.locale, &errors), csv, ..Refused::default() };
                page(state, viewer, params, StatusCode::UNPROCESSABLE_ENTITY, refused, None)
            }
            other => Err(other.into()),
        },
    }
}

/// Sets the month the fiscal year starts in.
pub async fn fiscal_year(State(state): State<AppState>, SignedIn(viewer): SignedIn, body: Bytes) -> Response {
    let form = Params::from_body(&body);
    let reader = viewer.clone();
    let result = blocking(move || {
        let month = form.get("start_month").and_then(|raw| raw.parse::<u8>().ok()).unwrap_or(0);
        let locale = reader.user.locale;
        side_write(&state, &reader, &Params::default(), String::new(), |tx, ctx| {
            app::quotas::set_fiscal_year_start(tx, ctx, month)?;
            Ok(t(locale, "quotas.fiscal.saved").to_owned())
        })
    })
    .await;
    respond(&viewer, result)
}

/// Spreads a year's amount over its quarters or months by seasonality weights.
pub async fn seasonal(State(state): State<AppState>, SignedIn(viewer): SignedIn, RawQuery(query): RawQuery, body: Bytes) -> Response {
    let params = Params::parse(query.as_deref());
    let form = Params::from_body(&body);
    let reader = viewer.clone();
    let result = blocking(move || {
        let locale = reader.user.locale;
        let subject = match form.raw("subject").split_once(':') {
            Some(("user", id)) => id.parse().ok().map(|id| QuotaSubject::User(UserId(id))),
            Some(("team", id)) => id.parse().ok().map(|id| QuotaSubject::Team(TeamId(id))),
            _ => None,
        };
        let Some(subject) = subject else { return Err(AppError::BadRequest(t(locale, "quotas.seasonal.no_subject").to_owned())) };
        let weights: Result<Vec<Decimal>, _> =
            form.raw("weights").split([',', ' ', ';']).filter(|part| !part.is_empty()).map(|part| part.parse::<Decimal>()).collect();
        let weights = weights.unwrap_or_default();
        let kind = if form.get("kind") == Some("month") { PeriodKind::Month } else { PeriodKind::Quarter };
        let (year, amount) = (form.raw("year").to_owned(), form.raw("amount").replace(',', ""));
        side_write(&state, &reader, &params, String::new(), |tx, ctx| {
            let set = app::quotas::set_seasonal_quotas(tx, ctx, subject, &year, kind, amount.trim(), &weights)?;
            Ok(tf(locale, "quotas.seasonal.saved", &[("count", &set.len().to_string())]))
        })
    })
    .await;
    respond(&viewer, result)
}

/// Imports a pasted CSV file, all or nothing.
pub async fn import(State(state): State<AppState>, SignedIn(viewer): SignedIn, RawQuery(query): RawQuery, body: Bytes) -> Response {
    let params = Params::parse(query.as_deref());
    let form = Params::from_body(&body);
    let reader = viewer.clone();
    let result = blocking(move || {
        let locale = reader.user.locale;
        let csv = form.raw("csv").to_owned();
        side_write(&state, &reader, &params, csv.clone(), |tx, ctx| {
            let outcome = app::quotas::import_csv(tx, ctx, &csv)?;
            Ok(tf(
                locale,
                "quotas.csv.imported",
                &[
                    ("set", &outcome.set.to_string()),
                    ("removed", &outcome.removed.to_string()),
                    ("unchanged", &outcome.unchanged.to_string()),
                ],
            ))
        })
    })
    .await;
    respond(&viewer, result)
}
