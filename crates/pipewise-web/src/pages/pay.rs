//! Pay pages (SPEC C9, issue 12 points 5 and 7): a person's statements, every line traced to its
//! deal, credit (split, share, FX rate and date), rule and version, tier, base, rate, unrounded
//! and rounded amount; pay to date; what one more deal would earn; disputes; and, for ops, the
//! plans, their assignment, computing and locking.
//!
//! - `/pay?owner=ID&period=2026-Q3`: the person (the reader by default; a manager picks one of
//!   their reporting line, ops and admins anyone) and a period's statement (the current quarter by
//!   default). `what_if=20000` shows what a deal of that size booked today would add.
//! - `/pay/statements/{id}`: one statement, laid out to print (no PDF needed); `.../csv`: its lines.
//! - Writes (all `POST`, CSRF-checked, through `app::pay`, authorised and audited):
//!   `/pay/compute`, `/pay/statements/{id}/lock`, `/pay/statements/{id}/disputes`,
//!   `/pay/disputes/{id}`, `/pay/plans`, `/pay/assignments`; the form that builds a plan is
//!   `plan_builder`'s.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use pipewise_app::pay::{self as pay, PayStatement};
use pipewise_app::{self as app, DisputeStatus, StatementStatus, StoredDispute, StoredStatement};
use pipewise_comp::{Line, SplitKind};
use pipewise_core::fiscal::PeriodKind;
use pipewise_core::history::Source;
use pipewise_core::money::{Decimal, Money};
use pipewise_core::user::{Locale, Role};
use pipewise_core::{Currency, UserId};
use serde::Serialize;

use super::dashboard::with_projection;
use super::data::OrgData;
use super::form::{Refusal, refusal};
use super::list::csv_field;
use super::{Params, SignedIn, render, respond, see_other, url_with};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, blocking};
use crate::i18n::{self, t, tf};

#[derive(Serialize)]
struct LineView {
    index: usize,
    rule: String,
    kind: String,
    deal: Option<String>,
    deal_href: Option<String>,
    credit: String,
    tier: String,
    calculation: String,
    unrounded: String,
    amount: String,
    corrects: String,
    negative: bool,
}

#[derive(Serialize)]
struct DisputeView {
    id: i64,
    line: String,
    status: &'static str,
    status_label: String,
    note: String,
    resolution: String,
    opened: String,
    /// The next step the reader may take: `(status, label)`.
    next: Option<(&'static str, String)>,
    needs_resolution: bool,
}

#[derive(Serialize)]
struct StatementView {
    id: i64,
    title: String,
    plan: String,
    status: &'static str,
    status_label: String,
    total: String,
    attainment: String,
    held: String,
    /// Where a plan pays out in another currency: the day, rate and amount, or that it waits.
    payout: String,
    lines: Vec<LineView>,
    disputes: Vec<DisputeView>,
    print_href: String,
    csv_href: String,
    computed: String,
}

#[derive(Serialize)]
struct Row {
    period: String,
    href: String,
    plan: String,
    status_label: String,
    status: &'static str,
    total: String,
    selected: bool,
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
}

#[derive(Serialize)]
struct PlanView {
    name: String,
    version: u32,
    definition: String,
    assigned: usize,
    edit_href: String,
}

#[derive(Serialize)]
struct PayView {
    person: String,
    owner: String,
    period: String,
    period_label: String,
    people: Vec<Choice>,
    periods: Vec<Choice>,
    rows: Vec<Row>,
    to_date: String,
    statement: Option<StatementView>,
    what_if: String,
    what_if_result: Option<String>,
    ops: bool,
    may_dispute: bool,
    plans: Vec<PlanView>,
    plan_names: Vec<String>,
    assignment: String,
    notice: Option<String>,
    problems: Vec<String>,
    plan_draft: String,
    currency: &'static str,
}

fn money(locale: Locale, amount: Decimal, currency: Currency) -> String {
    let rounded = amount.round_dp(u32::from(currency.minor_units()));
    Money::new(rounded, currency).map(|money| i18n::money(locale, money)).unwrap_or_else(|_| amount.to_string())
}

fn line_view(locale: Locale, currency: Currency, index: usize, line: &Line) -> LineView {
    let credit = line.credit.as_ref().map_or_else(String::new, |credit| {
        let split = t(locale, if credit.kind == SplitKind::Revenue { "pay.split.revenue" } else { "pay.split.overlay" });
        let share = format!("{}%", (credit.share * Decimal::ONE_HUNDRED).normalize());
        let mut text = tf(
            locale,
            "pay.credit",
            &[
                ("split", split),
                ("share", &share),
                ("amount", &money(locale, credit.amount, currency)),
                ("date", &i18n::date(locale, credit.booked_on)),
            ],
        );
        if let Some(fx) = credit.fx {
            text.push_str(&tf(
                locale,
                "pay.fx",
                &[("rate", &fx.rate.normalize().to_string()), ("from", fx.from.code()), ("date", &i18n::date(locale, fx.on))],
            ));
        }
        if let Some(reversed_on) = credit.reversed_on {
            text.push_str(&tf(locale, "pay.reversed_after_window", &[("date", &i18n::date(locale, reversed_on))]));
        }
        text
    });
    // A base is an amount or an attainment fraction: six places say either exactly enough.
    let base = line.base.round_dp(6).normalize();
    let calculation = match line.rate {
        Some(rate) => format!("{base} × {}", rate.normalize()),
        None => base.to_string(),
    };
    LineView {
        index: index + 1,
        rule: format!("{} · v{}", line.rule, line.version),
        kind: t(locale, &format!("pay.kind.{}", pay::kind_code(line.kind))).to_owned(),
        deal: line.deal.filter(|id| id.0 > 0).map(|id| format!("#{id}")),
        deal_href: line.deal.filter(|id| id.0 > 0).map(|id| format!("/opportunities/{id}")),
        credit,
        tier: line.tier.map(|tier| (tier + 1).to_string()).unwrap_or_default(),
        calculation,
        unrounded: line.unrounded.normalize().to_string(),
        amount: money(locale, line.amount, currency),
        corrects: line.corrects.map_or_else(String::new, |corrects| {
            tf(locale, "pay.corrects", &[("date", &i18n::date(locale, corrects.period_first)), ("line", &(corrects.index + 1).to_string())])
        }),
        negative: line.amount.is_sign_negative(),
    }
}

fn status_label(locale: Locale, status: StatementStatus) -> String {
    t(locale, if status == StatementStatus::Locked { "pay.status.locked" } else { "pay.status.open" }).to_owned()
}

fn dispute_view(locale: Locale, viewer: &Viewer, statement: &StoredStatement, dispute: &StoredDispute, data: &OrgData) -> DisputeView {
    let ops = matches!(viewer.user.role, Role::Admin | Role::Ops);
    let payee = viewer.user.id == statement.user;
    let next = match dispute.status {
        DisputeStatus::Open if ops => Some(DisputeStatus::InReview),
        DisputeStatus::InReview if ops => Some(DisputeStatus::Resolved),
        DisputeStatus::Resolved if ops || payee => Some(DisputeStatus::Closed),
        _ => None,
    };
    DisputeView {
        id: dispute.id,
        line: dispute.line.map_or_else(
            || t(locale, "pay.whole_statement").to_owned(),
            |line| tf(locale, "pay.line_no", &[("line", &(line + 1).to_string())]),
        ),
        status: dispute.status.code(),
        status_label: t(locale, &format!("pay.dispute.{}", dispute.status.code())).to_owned(),
        note: dispute.note.clone(),
        resolution: dispute.resolution.clone().unwrap_or_default(),
        opened: tf(
            locale,
            "pay.opened_by",
            &[("name", &data.user_name(dispute.opened_by)), ("time", &i18n::timestamp(locale, dispute.opened_at, &viewer.user.time_zone))],
        ),
        needs_resolution: next == Some(DisputeStatus::Resolved),
        next: next.map(|status| (status.code(), t(locale, &format!("pay.move.{}", status.code())).to_owned())),
    }
}

fn statement_view(locale: Locale, viewer: &Viewer, pay: &PayStatement, disputes: &[StoredDispute], data: &OrgData) -> StatementView {
    let calendar = data.organisation.fiscal;
    let currency = pay.stored.total.currency();
    let period = calendar.period_of(pay.stored.kind, pay.stored.first);
    let attainment = pay.statement.attainment.map_or_else(
        || t(locale, "pay.no_quota").to_owned(),
        |attainment| {
            let fraction = attainment
                .fraction()
                .map_or_else(|| "—".to_owned(), |fraction| format!("{}%", (fraction * Decimal::ONE_HUNDRED).round_dp(1).normalize()));
            tf(
                locale,
                "pay.attainment",
                &[
                    ("fraction", &fraction),
                    ("bookings", &money(locale, attainment.bookings, currency)),
                    ("quota", &money(locale, attainment.quota, currency)),
                ],
            )
        },
    );
    StatementView {
        id: pay.stored.id,
        title: tf(
            locale,
            "pay.statement_title",
            &[("name", &data.user_name(pay.stored.user)), ("period", &i18n::period_label(locale, calendar, &period))],
        ),
        plan: format!("{} · v{}", pay.stored.plan, pay.stored.version),
        status: pay.stored.status.code(),
        status_label: status_label(locale, pay.stored.status),
        total: money(locale, pay.stored.total.amount(), currency),
        attainment,
        held: if pay.statement.held > 0 { tf(locale, "pay.held", &[("count", &pay.statement.held.to_string())]) } else { String::new() },
        payout: pay.statement.payout.map_or_else(String::new, |payout| {
            let date = i18n::date(locale, payout.on);
            match (payout.rate, payout.amount) {
                (Some(rate), Some(amount)) => tf(
                    locale,
                    "pay.payout",
                    &[
                        ("amount", &money(locale, amount, payout.currency)),
                        ("date", &date),
                        ("rate", &rate.normalize().to_string()),
                        ("from", currency.code()),
                    ],
                ),
                _ => tf(locale, "pay.payout_waits", &[("currency", payout.currency.code()), ("date", &date)]),
            }
        }),
        lines: pay.statement.lines.iter().enumerate().map(|(index, line)| line_view(locale, currency, index, line)).collect(),
        disputes: disputes.iter().map(|dispute| dispute_view(locale, viewer, &pay.stored, dispute, data)).collect(),
        print_href: format!("/pay/statements/{}", pay.stored.id),
        csv_href: format!("/pay/statements/{}/csv", pay.stored.id),
        computed: tf(locale, "pay.computed", &[("time", &i18n::timestamp(locale, pay.stored.computed_at, &viewer.user.time_zone))]),
    }
}

#[derive(Default)]
struct Outcome {
    notice: Option<String>,
    problems: Vec<String>,
    plan_draft: Option<String>,
}

fn page(state: &AppState, viewer: &Viewer, params: &Params, status: StatusCode, outcome: Outcome) -> Result<Response, AppError> {
    let locale = viewer.user.locale;
    let now = state.now();
    let mut tx = state.db.read()?;
    let data = OrgData::load_without_accounts(&mut tx, viewer.org, now)?;
    let calendar = data.organisation.fiscal;
    let currency = data.organisation.reporting_currency;
    let today = viewer.today(now);
    let readers = pay::pay_readers(&viewer.access);
    let may_read = |user: UserId| readers.as_ref().is_none_or(|people| people.contains(&user));
    let people: Vec<_> = data.users.iter().filter(|user| user.role == Role::Rep && may_read(user.id)).collect();
    let owner = params
        .id("owner")
        .map(UserId)
        .filter(|user| may_read(*user))
        .or_else(|| (viewer.user.role == Role::Rep).then_some(viewer.user.id))
        .or_else(|| people.first().map(|user| user.id));
    if params.id("owner").is_some_and(|id| !may_read(UserId(id))) {
        return Err(AppError::NotFound { kind: "user", id: params.raw("owner").to_owned() });
    }
    let current = calendar.period_of(PeriodKind::Quarter, today);
    let period = params.get("period").and_then(|key| calendar.parse_key(key).ok()).unwrap_or(current);
    let ops = matches!(viewer.user.role, Role::Admin | Role::Ops);

    let statements = match owner {
        Some(owner) => pay::statements(&mut tx, viewer.org, &viewer.access, Some(owner))?,
        None => Vec::new(),
    };
    let selected = statements.iter().find(|stored| stored.kind == period.kind && stored.first == period.first).cloned();
    let year = calendar.period_of(PeriodKind::Year, today);
    let to_date: Decimal = statements
        .iter()
        .filter(|stored| stored.kind == PeriodKind::Quarter && year.contains(stored.first))
        .map(|stored| stored.total.amount())
        .sum();
    let rows = statements
        .iter()
        .rev()
        .map(|stored| {
            let fiscal = calendar.period_of(stored.kind, stored.first);
            Row {
                period: i18n::period_label(locale, calendar, &fiscal),
                href: url_with("/pay", &[("owner", stored.user.to_string()), ("period", fiscal.key())]),
                plan: format!("{} · v{}", stored.plan, stored.version),
                status_label: status_label(locale, stored.status),
                status: stored.status.code(),
                total: money(locale, stored.total.amount(), stored.total.currency()),
                selected: stored.kind == period.kind && stored.first == period.first,
            }
        })
        .collect();
    let statement = match &selected {
        Some(stored) => {
            let decoded = pay::decode_statement(stored.clone())?;
            let disputes = pay::disputes(&mut tx, viewer.org, &viewer.access, stored.id)?;
            Some(statement_view(locale, viewer, &decoded, &disputes, &data))
        }
        None => None,
    };
    let what_if_amount = params
        .get("what_if")
        .and_then(|raw| raw.replace(',', "").parse::<Decimal>().ok())
        .filter(|amount| *amount > Decimal::ZERO && *amount < Decimal::from(1_000_000_000_000_i64));
    let what_if_result = match (owner, what_if_amount) {
        (Some(owner), Some(amount)) => {
            let key = period.key();
            let org = viewer.org;
            let access = viewer.access.clone();
            let added =
                with_projection(state, org, |projection| pay::what_if(&mut tx, org, &access, projection, owner, &key, amount, today))??;
            Some(match added {
                Some(added) => tf(
                    locale,
                    "pay.what_if_result",
                    &[("amount", &money(locale, amount, currency)), ("added", &money(locale, added, currency))],
                ),
                None => t(locale, "pay.what_if_no_plan").to_owned(),
            })
        }
        _ => None,
    };
    let versions = pay::plans(&mut tx, viewer.org)?;
    let assignments = pay::assignments(&mut tx, viewer.org, &viewer.access)?;
    let mut latest: BTreeMap<String, &app::StoredPlan> = BTreeMap::new();
    for version in &versions {
        latest.insert(version.name.clone(), version);
    }
    let plans: Vec<PlanView> = latest
        .values()
        .map(|plan| PlanView {
            name: plan.name.clone(),
            version: plan.version,
            definition: serde_json::from_str::<serde_json::Value>(&plan.definition)
                .ok()
                .and_then(|value| serde_json::to_string_pretty(&value).ok())
                .unwrap_or_default(),
            assigned: assignments.iter().filter(|assignment| assignment.plan == plan.name).count(),
            edit_href: url_with("/pay/plans/build", &[("plan", plan.name.clone())]),
        })
        .collect();
    let assignment = owner
        .and_then(|owner| assignments.iter().filter(|assignment| assignment.user == owner).max_by_key(|assignment| assignment.first))
        .map_or_else(
            || t(locale, "pay.no_assignment").to_owned(),
            |assignment| tf(locale, "pay.assigned", &[("plan", &assignment.plan), ("date", &i18n::date(locale, assignment.first))]),
        );
    let mut periods: Vec<Choice> = Vec::new();
    let mut quarter = current;
    for _ in 0..6 {
        periods.push(Choice { value: quarter.key(), label: i18n::period_label(locale, calendar, &quarter) });
        quarter = calendar.previous(&quarter);
    }
    if !periods.iter().any(|choice| choice.value == period.key()) {
        periods.insert(0, Choice { value: period.key(), label: i18n::period_label(locale, calendar, &period) });
    }
    let view = PayView {
        person: owner.map(|owner| data.user_name(owner)).unwrap_or_default(),
        owner: owner.map(|owner| owner.to_string()).unwrap_or_default(),
        period: period.key(),
        period_label: i18n::period_label(locale, calendar, &period),
        people: people.iter().map(|user| Choice { value: user.id.to_string(), label: user.name.clone() }).collect(),
        periods,
        rows,
        to_date: tf(
            locale,
            "pay.to_date",
            &[("amount", &money(locale, to_date, currency)), ("year", &i18n::period_label(locale, calendar, &year))],
        ),
        may_dispute: selected.as_ref().is_some_and(|stored| stored.user == viewer.user.id || ops),
        statement,
        what_if: params.raw("what_if").to_owned(),
        what_if_result,
        ops,
        plan_names: latest.keys().cloned().collect(),
        plans,
        assignment,
        notice: outcome.notice,
        problems: outcome.problems,
        plan_draft: outcome.plan_draft.unwrap_or_default(),
        currency: currency.code(),
    };
    let title = format!("{} · {}", t(locale, "pay.title"), view.person);
    render::page(viewer, status, "pay.html", "pay", title, &view)
}

pub async fn show(State(state): State<AppState>, SignedIn(viewer): SignedIn, RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query.as_deref());
    let reader = viewer.clone();
    let result = blocking(move || {
        let notice =
            params.get("done").map(|key| t(reader.user.locale, &format!("pay.done.{key}")).to_owned()).filter(|text| !text.is_empty());
        page(&state, &reader, &params, StatusCode::OK, Outcome { notice, ..Outcome::default() })
    })
    .await;
    respond(&viewer, result)
}

/// Runs one write; success goes back to `back` with a notice, a refusal shows the page again.
fn write(
    state: &AppState,
    viewer: &Viewer,
    back: &Params,
    done: &str,
    plan_draft: Option<String>,
    work: impl FnOnce(&mut app::Tx, &app::WriteCtx) -> app::Result<()>,
) -> Result<Response, AppError> {
    let ctx = viewer.ctx(Source::Web, state.now());
    match state.db.transact(|tx| work(tx, &ctx)) {
        Ok(()) => Ok(see_other(&url_with(
            "/pay",
            &[("owner", back.raw("owner").to_owned()), ("period", back.raw("period").to_owned()), ("done", done.to_owned())],
        ))),
        Err(error) => match refusal(error)? {
            Refusal::Invalid(errors) => {
                let problems = errors
                    .0
                    .iter()
                    .map(|error| format!("{}: {}: {}", error.record, error.field, i18n::problem(viewer.user.locale, &error.problem)))
                    .collect();
                page(state, viewer, back, StatusCode::UNPROCESSABLE_ENTITY, Outcome { problems, plan_draft, ..Outcome::default() })
            }
            other => Err(other.into()),
        },
    }
}

pub async fn compute(State(state): State<AppState>, SignedIn(viewer): SignedIn, body: Bytes) -> Response {
    let form = Params::from_body(&body);
    let reader = viewer.clone();
    let result = blocking(move || {
        let owner = UserId(form.id("owner").unwrap_or(0));
        let period = form.raw("period").to_owned();
        let org = reader.org;
        with_projection(&state, org, |projection| {
            write(&state, &reader, &form, "computed", None, |tx, ctx| pay::compute_statement(tx, ctx, projection, owner, &period).map(drop))
        })?
    })
    .await;
    respond(&viewer, result)
}

pub async fn lock(State(state): State<AppState>, SignedIn(viewer): SignedIn, Path(id): Path<i64>, body: Bytes) -> Response {
    let form = Params::from_body(&body);
    let reader = viewer.clone();
    let result =
        blocking(move || write(&state, &reader, &form, "locked", None, |tx, ctx| pay::lock_statement(tx, ctx, id).map(drop))).await;
    respond(&viewer, result)
}

pub async fn dispute(State(state): State<AppState>, SignedIn(viewer): SignedIn, Path(id): Path<i64>, body: Bytes) -> Response {
    let form = Params::from_body(&body);
    let reader = viewer.clone();
    let result = blocking(move || {
        let line = form.get("line").and_then(|raw| raw.parse::<u32>().ok()).and_then(|line| line.checked_sub(1));
        let note = form.raw("note").to_owned();
        write(&state, &reader, &form, "disputed", None, |tx, ctx| pay::open_dispute(tx, ctx, id, line, &note).map(drop))
    })
    .await;
    respond(&viewer, result)
}

pub async fn move_dispute(State(state): State<AppState>, SignedIn(viewer): SignedIn, Path(id): Path<i64>, body: Bytes) -> Response {
    let form = Params::from_body(&body);
    let reader = viewer.clone();
    let result = blocking(move || {
        let to = DisputeStatus::parse(form.raw("status")).map_err(|_| AppError::BadRequest(format!("status {:?}", form.raw("status"))))?;
        let resolution = form.get("resolution").map(str::to_owned);
        write(&state, &reader, &form, "dispute_moved", None, |tx, ctx| pay::move_dispute(tx, ctx, id, to, resolution.as_deref()).map(drop))
    })
    .await;
    respond(&viewer, result)
}

pub async fn save_plan(State(state): State<AppState>, SignedIn(viewer): SignedIn, body: Bytes) -> Response {
    let form = Params::from_body(&body);
    let reader = viewer.clone();
    let result = blocking(move || {
        let draft = form.raw("definition").to_owned();
        let name = form.raw("name").to_owned();
        let Ok(definition) = serde_json::from_str::<serde_json::Value>(&draft) else {
            let problem = tf(reader.user.locale, "pay.bad_json", &[]);
            return page(
                &state,
                &reader,
                &form,
                StatusCode::UNPROCESSABLE_ENTITY,
                Outcome { problems: vec![problem], plan_draft: Some(draft), ..Outcome::default() },
            );
        };
        write(&state, &reader, &form, "plan_saved", Some(draft.clone()), |tx, ctx| pay::save_plan(tx, ctx, &name, &definition).map(drop))
    })
    .await;
    respond(&viewer, result)
}

pub async fn assign(State(state): State<AppState>, SignedIn(viewer): SignedIn, body: Bytes) -> Response {
    let form = Params::from_body(&body);
    let reader = viewer.clone();
    let result = blocking(move || {
        let owner = UserId(form.id("owner").unwrap_or(0));
        let (plan, first) = (form.raw("plan").to_owned(), form.raw("first_day").to_owned());
        let last = form.get("last_day").map(str::to_owned);
        write(&state, &reader, &form, "assigned", None, |tx, ctx| {
            pay::assign_plan(tx, ctx, owner, &plan, &first, last.as_deref()).map(drop)
        })
    })
    .await;
    respond(&viewer, result)
}

fn readable(state: &AppState, viewer: &Viewer, id: i64) -> Result<(PayStatement, OrgData, Vec<StoredDispute>), AppError> {
    let mut tx = state.db.read()?;
    let statement =
        pay::statement(&mut tx, viewer.org, &viewer.access, id)?.ok_or(AppError::NotFound { kind: "statement", id: id.to_string() })?;
    let data = OrgData::load_without_accounts(&mut tx, viewer.org, state.now())?;
    let disputes = pay::disputes(&mut tx, viewer.org, &viewer.access, id)?;
    Ok((statement, data, disputes))
}

/// One statement laid out to print.
pub async fn print(State(state): State<AppState>, SignedIn(viewer): SignedIn, Path(id): Path<i64>) -> Response {
    let reader = viewer.clone();
    let result = blocking(move || {
        let (statement, data, disputes) = readable(&state, &reader, id)?;
        let view = statement_view(reader.user.locale, &reader, &statement, &disputes, &data);
        let title = view.title.clone();
        render::page(&reader, StatusCode::OK, "pay_statement.html", "pay", title, &view)
    })
    .await;
    respond(&viewer, result)
}

/// One statement's lines as CSV: amounts as plain decimals.
pub async fn csv(State(state): State<AppState>, SignedIn(viewer): SignedIn, Path(id): Path<i64>) -> Response {
    let reader = viewer.clone();
    let result = blocking(move || {
        let (statement, _, _) = readable(&state, &reader, id)?;
        let mut out = String::from("\u{feff}line,rule,version,kind,deal_id,split,share,credit_amount,fx_from,fx_rate,fx_date,booked_on,tier,base,rate,unrounded,amount,currency,corrects_period,corrects_line,reversed_on\r\n");
        let currency = statement.stored.total.currency().code();
        for (index, line) in statement.statement.lines.iter().enumerate() {
            let json = pay::line_json(line);
            let credit = &json["credit"];
            let text = |value: &serde_json::Value| value.as_str().map(str::to_owned).or_else(|| value.as_u64().map(|n| n.to_string())).or_else(|| value.as_i64().map(|n| n.to_string())).unwrap_or_default();
            let fields = [
                (index + 1).to_string(),
                csv_field(&line.rule),
                line.version.to_string(),
                text(&json["kind"]),
                text(&json["deal_id"]),
                text(&credit["split"]),
                text(&credit["share"]),
                text(&credit["amount"]),
                text(&credit["fx"]["from"]),
                text(&credit["fx"]["rate"]),
                text(&credit["fx"]["on"]),
                text(&credit["booked_on"]),
                line.tier.map(|tier| (tier + 1).to_string()).unwrap_or_default(),
                line.base.to_string(),
                line.rate.map(|rate| rate.to_string()).unwrap_or_default(),
                line.unrounded.to_string(),
                line.amount.to_string(),
                currency.to_owned(),
                text(&json["corrects"]["period_first"]),
                json["corrects"]["index"].as_u64().map(|index| (index + 1).to_string()).unwrap_or_default(),
                text(&credit["reversed_on"]),
            ];
            out.push_str(&fields.join(","));
            out.push_str("\r\n");
        }
        let disposition = format!("attachment; filename=\"statement-{id}.csv\"");
        Ok((StatusCode::OK, [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, disposition)], out).into_response())
    })
    .await;
    respond(&viewer, result)
}
