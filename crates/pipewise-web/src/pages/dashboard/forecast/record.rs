//! The forecast page's record of people: the call panel, the track record (accuracy ledger) and
//! the hygiene table.

use pipewise_app as app;
use pipewise_app::forecast::Forecast;
use pipewise_core::money::Decimal;
use serde::Serialize;

use crate::i18n::{self, t, tf};
use crate::pages::data::OrgData;

use super::{Figure, percent};
use crate::auth::Viewer;

/// A person's latest call, as the roll-up lists it.
#[derive(Serialize)]
pub(super) struct ReportRow {
    name: String,
    commit: String,
    best_case: String,
    when: String,
    note: String,
    missing: bool,
}

#[derive(Serialize)]
pub(super) struct HistoryRow {
    when: String,
    commit: String,
    best_case: String,
    note: String,
    adjustment: String,
}

/// The viewer's own call for the period: the form, what they see, their reports' calls and
/// their history.
#[derive(Serialize)]
pub(super) struct CallsView {
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
pub(super) struct CallerRow {
    name: String,
    periods: usize,
    raw: String,
    shrunk: String,
    label: String,
    label_class: &'static str,
}

#[derive(Serialize)]
pub(super) struct ScoredRow {
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
pub(super) struct LedgerView {
    summary: String,
    /// The model's own recorded forecasts scored, when any.
    model: Option<String>,
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
pub(super) struct SymptomCell {
    value: String,
    change: String,
    /// Worse than the quarter before.
    worse: bool,
}

#[derive(Serialize)]
pub(super) struct SymptomRow {
    name: String,
    cells: Vec<SymptomCell>,
}

pub(super) struct CallsInput<'a> {
    pub(super) viewer: &'a Viewer,
    pub(super) data: &'a OrgData,
    pub(super) book: &'a app::forecast::CallBook,
    pub(super) reports: &'a [pipewise_core::UserId],
    pub(super) mine: &'a app::forecast::Categories,
    pub(super) model: &'a Forecast,
    pub(super) open: bool,
    pub(super) notice: bool,
    pub(super) refused: Option<CallForm>,
    pub(super) money: &'a dyn Fn(i64) -> String,
}

/// The call panel: the viewer's form (kept as typed when refused, else their latest call, else
/// what their deals' categories say), what they see, their reports' latest calls and their own
/// history of calls.
pub(super) fn calls_view(input: CallsInput) -> CallsView {
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

pub(super) fn ledger_view(
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
    let model = match ledger.model_record() {
        (0, _, _) => None,
        (n, error, coverage) => Some(tf(
            locale,
            "fc.ledger_model",
            &[
                ("forecasts", &n.to_string()),
                ("error", &error.map_or_else(|| "—".to_owned(), percent)),
                ("coverage", &coverage.map_or_else(|| "—".to_owned(), percent)),
            ],
        )),
    };
    LedgerView { summary, model, callers, scored }
}

/// Each person's five symptoms: the last closed quarter, its change from the one before (in
/// points), and the running quarter so far where it is measured (stale deals, missing calls).
pub(super) fn symptom_rows(data: &OrgData, people: &[app::forecast::PersonSymptoms]) -> Vec<SymptomRow> {
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
