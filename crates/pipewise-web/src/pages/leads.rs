//! Leads in the web app: the list (`/leads`: search, status and owner filters, sortable, CSV as
//! filtered) and a lead's page (`/leads/{id}`) with its one-step conversion into an account, a
//! contact and, when asked, a deal (`POST /leads/{id}/convert` through `app::leads::convert`).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use pipewise_app as app;
use pipewise_app::leads::{Conversion, DealOfLead};
use pipewise_core::history::Source;
use pipewise_core::money::Decimal;
use pipewise_core::money::Money;
use pipewise_core::records::{Lead, LeadStatus};
use pipewise_core::user::Locale;
use pipewise_core::*;
use pipewise_leads::cadence::Step;
use serde::Serialize;

use super::data::OrgData;
use super::list::{Cell, Choice, Column, Filter, List, Row, SortKey, list_page};
use super::{Params, SignedIn, answer, path_id, render, see_other};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::AppError;
use crate::i18n::{self, t, tf};

fn status_label(locale: Locale, status: LeadStatus) -> &'static str {
    match status {
        LeadStatus::New => t(locale, "lead_status.new"),
        LeadStatus::Working => t(locale, "lead_status.working"),
        LeadStatus::Qualified => t(locale, "lead_status.qualified"),
        LeadStatus::Disqualified => t(locale, "lead_status.disqualified"),
        LeadStatus::Converted => t(locale, "lead_status.converted"),
    }
}

pub async fn leads(State(state): State<AppState>, SignedIn(viewer): SignedIn, RawQuery(query): RawQuery) -> Response {
    list_page(state, viewer, query, lead_list).await
}

fn lead_list(state: &AppState, viewer: &Viewer, params: &Params) -> Result<List, AppError> {
    let locale = viewer.user.locale;
    let now = state.now();
    let mut tx = state.db.read()?;
    let data = OrgData::load_without_accounts(&mut tx, viewer.org, now)?;
    let mut leads = app::records::leads(&mut tx, viewer.org)?;
    let fits = app::routing::fit_scores(&mut tx, viewer.org)?;
    let policy = state.cadence.get(&mut tx, viewer.org, now)?;
    let steps = app::cadence::steps(&mut tx, viewer.org, &leads, &policy, now)?;
    let query = params.get("q").map(str::to_lowercase);
    let status = params.get("status").and_then(|raw| LeadStatus::parse(raw).ok());
    let unowned = params.get("owner") == Some("none");
    let owner = params.id("owner").map(UserId);
    leads.retain(|lead| {
        query.as_ref().is_none_or(|query| {
            lead.name.to_lowercase().contains(query)
                || lead.company.as_ref().is_some_and(|company| company.to_lowercase().contains(query))
                || lead.email.as_ref().is_some_and(|email| email.contains(query.as_str()))
        }) && status.is_none_or(|status| lead.status == status)
            && owner.is_none_or(|owner| lead.owner_id == Some(owner))
            && (!unowned || lead.owner_id.is_none())
    });
    let columns = vec![
        Column::new(locale, "name", "field.name"),
        Column::new(locale, "company", "leads.company"),
        Column::new(locale, "email", "field.email"),
        Column::new(locale, "status", "field.status"),
        Column::new(locale, "owner", "field.owner_id"),
        Column::new(locale, "source", "field.source"),
        Column::new(locale, "fit", "leads.fit"),
        Column::new(locale, "created", "field.created_at"),
        Column::new(locale, "attention", "leads.attention"),
    ];
    let rows = leads
        .iter()
        .map(|lead| Row {
            cells: vec![
                Cell::link(lead.name.clone(), format!("/leads/{}", lead.id)),
                Cell::text(lead.company.clone().unwrap_or_default()),
                Cell::text(lead.email.clone().unwrap_or_default()),
                Cell::text(status_label(locale, lead.status)),
                Cell::text(lead.owner_id.map(|owner| data.user_name(owner)).unwrap_or_default()),
                Cell::text(lead.source.clone().unwrap_or_default()),
                match fits.get(&lead.id) {
                    Some(fit) => Cell::text(fit.to_string()).sort(SortKey::Number(Decimal::from(*fit))),
                    None => Cell::text(String::new()).sort(SortKey::Missing),
                },
                Cell::text(i18n::relative(locale, lead.created_at, now)).sort(SortKey::Time(lead.created_at.as_micros())),
                Cell::text(attention(locale, lead, now, steps.get(&lead.id))),
            ],
            class: None,
        })
        .collect();
    let statuses = LeadStatus::ALL
        .iter()
        .map(|status| Choice { value: status.as_str().to_owned(), label: status_label(locale, *status).to_owned() })
        .collect();
    let owners =
        data.users.iter().filter(|user| user.active).map(|user| Choice { value: user.id.to_string(), label: user.name.clone() }).collect();
    Ok(List {
        title: t(locale, "leads.title").to_owned(),
        nav: "leads",
        path: "/leads",
        columns,
        rows,
        filters: vec![
            Filter::text("q", t(locale, "list.search").to_owned(), params),
            Filter::select(locale, "status", t(locale, "field.status").to_owned(), params.raw("status").trim().to_owned(), statuses),
            Filter::select(locale, "owner", t(locale, "field.owner_id").to_owned(), params.raw("owner").trim().to_owned(), owners),
        ],
        default_sort: ("created", true),
        cursor_pager: None,
        presorted: None,
        csv_name: "leads",
        note: None,
        link: (viewer.user.role != pipewise_core::user::Role::Rep).then(|| (t(locale, "routing.title").to_owned(), "/leads/routing")),
    })
}

/// What a lead still waiting needs: an owner, or (new past the speed-to-lead window) an answer.
fn attention(locale: Locale, lead: &Lead, now: Timestamp, step: Option<&Step>) -> String {
    if !matches!(lead.status, LeadStatus::New | LeadStatus::Working) {
        return String::new();
    }
    let hours = (now.as_micros() - lead.created_at.as_micros()) / 3_600_000_000;
    let mut flags = Vec::new();
    if lead.owner_id.is_none() {
        flags.push(t(locale, "leads.unowned").to_owned());
    }
    if lead.status == LeadStatus::New && hours >= super::today::SPEED_TO_LEAD_HOURS {
        flags.push(t(locale, "leads.past_window").to_owned());
    }
    // The cadence's step when it asks for something now (a first touch is said above).
    flags.extend(step.and_then(|step| due_text(locale, step, now)));
    flags.join(" · ")
}

/// What a worked lead's cadence asks for now, in a few words; none when nothing is due (a
/// first touch is the speed-to-lead flag's).
pub(super) fn due_text(locale: Locale, step: &Step, now: Timestamp) -> Option<String> {
    match step {
        Step::Attempt { number, due } if *due <= now => Some(tf(locale, "leads.due_attempt", &[("number", &number.to_string())])),
        Step::LastChance => Some(t(locale, "leads.due_last_chance").to_owned()),
        Step::CloseOut => Some(t(locale, "leads.due_close_out").to_owned()),
        _ => None,
    }
}

#[derive(Serialize)]
struct Field {
    label: &'static str,
    value: String,
}

#[derive(Serialize)]
struct AttemptView {
    when: String,
    kind: &'static str,
    by: String,
    reached: bool,
}

#[derive(Serialize)]
struct CadenceView {
    attempts: Vec<AttemptView>,
    next: String,
    late: bool,
    close_out: bool,
    worked: bool,
    speed: String,
    basis: String,
}

#[derive(Serialize)]
struct QuestionView {
    key: &'static str,
    label: &'static str,
    answer: &'static str,
}

#[derive(Serialize)]
struct QualificationView {
    questions: Vec<QuestionView>,
    answers: Vec<(&'static str, &'static str)>,
    summary: String,
    verdict: &'static str,
}

#[derive(Serialize)]
struct LeadView {
    id: i64,
    name: String,
    fields: Vec<Field>,
    cadence: CadenceView,
    qualification: QualificationView,
    convertible: bool,
    accounts: Vec<Choice>,
    /// The account select holds only the one typed; a search box finds the others.
    account_picker: bool,
    problems: Vec<String>,
    typed: Typed,
}

/// What the conversion form keeps after a refusal.
#[derive(Default, Serialize)]
struct Typed {
    account: String,
    deal: bool,
    deal_name: String,
    amount: String,
    close_date: String,
}

fn lead_page(
    state: &AppState,
    viewer: &Viewer,
    lead: &Lead,
    status: StatusCode,
    problems: Vec<String>,
    typed: Typed,
) -> Result<Response, AppError> {
    let locale = viewer.user.locale;
    let mut tx = state.db.read()?;
    let mut data = OrgData::load_without_accounts(&mut tx, viewer.org, state.now())?;
    // The account picker offers the one typed before (a refused conversion); the rest come by search.
    data.load_accounts(&mut tx, typed.account.parse().ok().map(AccountId))?;
    data.load_accounts_for_select(&mut tx)?;
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    let fields = vec![
        Field { label: t(locale, "leads.company"), value: text(&lead.company) },
        Field { label: t(locale, "field.title"), value: text(&lead.title) },
        Field { label: t(locale, "field.email"), value: text(&lead.email) },
        Field { label: t(locale, "field.phone"), value: text(&lead.phone) },
        Field { label: t(locale, "field.status"), value: status_label(locale, lead.status).to_owned() },
        Field { label: t(locale, "field.owner_id"), value: lead.owner_id.map(|owner| data.user_name(owner)).unwrap_or_default() },
        Field { label: t(locale, "field.source"), value: text(&lead.source) },
        Field { label: t(locale, "field.industry"), value: text(&lead.industry) },
        Field { label: t(locale, "field.employee_count"), value: lead.employee_count.map(i18n::group).unwrap_or_default() },
        Field { label: t(locale, "field.region"), value: text(&lead.region) },
        Field { label: t(locale, "field.created_at"), value: i18n::timestamp(locale, lead.created_at, &viewer.user.time_zone) },
    ];
    let route = app::routing::route_of(&mut tx, viewer.org, lead.id)?;
    let mut fields = fields;
    if let Some(route) = route {
        fields.push(Field {
            label: t(locale, "leads.fit"),
            value: tf(locale, "leads.fit_value", &[("score", &route.fit_score.to_string())]),
        });
        let routed = match (route.routed_to, route.territory) {
            (Some(owner), Some(territory)) => {
                tf(locale, "leads.routed_territory", &[("name", &data.user_name(owner)), ("territory", &territory)])
            }
            (Some(owner), None) => tf(locale, "leads.routed_pool", &[("name", &data.user_name(owner))]),
            (None, _) => t(locale, "leads.routed_none").to_owned(),
        };
        fields.push(Field { label: t(locale, "leads.routing"), value: routed });
    }
    let now = state.now();
    let policy = state.cadence.get(&mut tx, viewer.org, now)?;
    let cadence = app::cadence::cadence_of(&mut tx, viewer.org, lead, &policy, now)?;
    let cadence = cadence_view(locale, &viewer.zone, &data, &cadence, now);
    let qualification = qualification_view(locale, app::qualification::qualification_of(&mut tx, viewer.org, lead.id)?);
    let mut accounts: Vec<Choice> =
        data.accounts.values().map(|account| Choice { value: account.id.to_string(), label: account.name.clone() }).collect();
    accounts.sort_by_key(|choice| choice.label.to_lowercase());
    let view = LeadView {
        id: lead.id.0,
        name: lead.name.clone(),
        fields,
        cadence,
        qualification,
        convertible: !matches!(lead.status, LeadStatus::Converted | LeadStatus::Disqualified),
        accounts,
        account_picker: !data.every_account,
        problems,
        typed,
    };
    render::page(viewer, status, "lead.html", "leads", lead.name.clone(), &view)
}

fn kind_label(locale: Locale, kind: &str) -> &'static str {
    t(
        locale,
        match kind {
            "call" => "leads.attempt.call",
            "email" => "leads.attempt.email",
            "message" => "leads.attempt.message",
            _ => "leads.attempt.last_chance",
        },
    )
}

/// What a worked lead needs next, in words.
pub(super) fn step_text(locale: Locale, zone: &Zone, step: &Step, limit: u32, now: Timestamp) -> (String, bool) {
    let when = |at: Timestamp| i18n::relative(locale, at, now);
    match step {
        Step::FirstTouch { due, late } => {
            let key = if *late { "leads.step.first_late" } else { "leads.step.first" };
            (tf(locale, key, &[("when", &when(*due))]), *late)
        }
        Step::Attempt { number, due } => {
            let late = *due < now;
            (
                tf(locale, "leads.step.attempt", &[("number", &number.to_string()), ("limit", &limit.to_string()), ("when", &when(*due))]),
                late,
            )
        }
        Step::LastChance => (t(locale, "leads.step.last_chance").to_owned(), true),
        Step::Wait { until } => (tf(locale, "leads.step.wait", &[("date", &i18n::date(locale, zone.date_of(*until)))]), false),
        Step::CloseOut => (t(locale, "leads.step.close_out").to_owned(), true),
        Step::Engaged => (t(locale, "leads.step.engaged").to_owned(), false),
    }
}

fn cadence_view(locale: Locale, zone: &Zone, data: &OrgData, cadence: &app::cadence::LeadCadence, now: Timestamp) -> CadenceView {
    let (next, late) =
        cadence.step.as_ref().map_or((String::new(), false), |step| step_text(locale, zone, step, cadence.limit.attempts, now));
    let speed = match cadence.first_touch {
        Some((minutes, inside)) => {
            let took = if minutes < 120 {
                tf(locale, "leads.minutes", &[("n", &minutes.to_string())])
            } else {
                tf(locale, "leads.hours", &[("n", &(minutes / 60).to_string())])
            };
            let key = if inside { "leads.speed_inside" } else { "leads.speed_late" };
            tf(locale, key, &[("took", &took), ("hours", &cadence.first_touch_hours.to_string())])
        }
        None => t(locale, "leads.speed_none").to_owned(),
    };
    let basis = if cadence.limit.basis >= pipewise_leads::cadence::MIN_BASIS {
        tf(
            locale,
            "leads.limit_learnt",
            &[
                ("limit", &cadence.limit.attempts.to_string()),
                ("basis", &cadence.limit.basis.to_string()),
                ("cycle", &cadence.cycle_days.to_string()),
            ],
        )
    } else {
        tf(locale, "leads.limit_default", &[("limit", &cadence.limit.attempts.to_string()), ("cycle", &cadence.cycle_days.to_string())])
    };
    CadenceView {
        attempts: cadence
            .attempts
            .iter()
            .rev()
            .map(|attempt| AttemptView {
                when: i18n::relative(locale, attempt.at, now),
                kind: kind_label(locale, &attempt.kind),
                by: attempt.user_id.map(|user| data.user_name(user)).unwrap_or_default(),
                reached: attempt.reached,
            })
            .collect(),
        next,
        late,
        close_out: cadence.step == Some(Step::CloseOut),
        worked: cadence.step.is_some(),
        speed,
        basis,
    }
}

fn qualification_view(locale: Locale, found: Option<app::qualification::LeadQualification>) -> QualificationView {
    use pipewise_leads::qualification::{Answer, Criterion, Verdict};
    let answer_of = |criterion: Criterion| {
        found
            .as_ref()
            .and_then(|found| found.answers.iter().rev().find(|(asked, _)| *asked == criterion))
            .map_or(Answer::Unknown, |(_, answer)| *answer)
    };
    let questions = Criterion::ALL
        .into_iter()
        .map(|criterion| QuestionView {
            key: criterion.key(),
            label: t(
                locale,
                match criterion {
                    Criterion::Expectations => "leads.q.expectations",
                    Criterion::Success => "leads.q.success",
                    Criterion::Resources => "leads.q.resources",
                    Criterion::Outlook => "leads.q.outlook",
                    Criterion::Threats => "leads.q.threats",
                    Criterion::Worth => "leads.q.worth",
                },
            ),
            answer: answer_of(criterion).key(),
        })
        .collect();
    let answers = [Answer::Unknown, Answer::Yes, Answer::Partly, Answer::No]
        .into_iter()
        .map(|answer| {
            let key = match answer {
                Answer::Yes => "leads.a.yes",
                Answer::Partly => "leads.a.partly",
                Answer::No => "leads.a.no",
                Answer::Unknown => "leads.a.unknown",
            };
            (answer.key(), t(locale, key))
        })
        .collect();
    let (summary, verdict) = match &found {
        None => (t(locale, "leads.q.none").to_owned(), ""),
        Some(found) => {
            let (key, verdict) = match found.judged.verdict {
                Verdict::Qualified => ("leads.q.qualified", "qualified"),
                Verdict::NotAFit => ("leads.q.not_a_fit", "not_a_fit"),
                Verdict::KeepQualifying => ("leads.q.keep", "keep"),
            };
            (tf(locale, key, &[("score", &found.judged.score.to_string()), ("answered", &found.judged.answered.to_string())]), verdict)
        }
    };
    QualificationView { questions, answers, summary, verdict }
}

/// `POST /leads/{id}/qualification`: each question's answer.
pub async fn qualify(State(state): State<AppState>, SignedIn(viewer): SignedIn, Path(raw): Path<String>, body: Bytes) -> Response {
    let params = Params::from_body(&body);
    answer(viewer, move |reader| {
        let lead = find(&state, reader, &raw)?;
        let ctx = reader.ctx(Source::Web, state.now());
        let answers: Vec<(String, String)> = pipewise_leads::qualification::Criterion::ALL
            .into_iter()
            .filter_map(|criterion| params.get(criterion.key()).map(|answer| (criterion.key().to_owned(), answer.to_owned())))
            .collect();
        state.db.transact(|tx| app::qualification::qualify(tx, &ctx, lead.id, &answers))?;
        Ok(see_other(&format!("/leads/{}#lead-qualification", lead.id)))
    })
    .await
}

/// `POST /leads/{id}/attempts`: `kind` (call, email, message, last_chance) and `reached`.
pub async fn log_attempt(State(state): State<AppState>, SignedIn(viewer): SignedIn, Path(raw): Path<String>, body: Bytes) -> Response {
    let params = Params::from_body(&body);
    answer(viewer, move |reader| {
        let lead = find(&state, reader, &raw)?;
        let ctx = reader.ctx(Source::Web, state.now());
        let reached = params.get("reached").is_some();
        state.db.transact(|tx| app::cadence::log_attempt(tx, &ctx, lead.id, params.raw("kind"), reached))?;
        Ok(see_other(&format!("/leads/{}#lead-cadence", lead.id)))
    })
    .await
}

/// `POST /leads/{id}/close_out`.
pub async fn close_out(State(state): State<AppState>, SignedIn(viewer): SignedIn, Path(raw): Path<String>) -> Response {
    answer(viewer, move |reader| {
        let lead = find(&state, reader, &raw)?;
        let ctx = reader.ctx(Source::Web, state.now());
        state.db.transact(|tx| app::cadence::close_out(tx, &ctx, lead.id))?;
        Ok(see_other(&format!("/leads/{}", lead.id)))
    })
    .await
}

fn find(state: &AppState, viewer: &Viewer, raw: &str) -> Result<Lead, AppError> {
    let id = LeadId(path_id(raw, LeadId::LABEL)?);
    app::records::lead(&mut state.db.read()?, viewer.org, id)?.ok_or(AppError::NotFound { kind: LeadId::LABEL, id: raw.to_owned() })
}

pub async fn lead(State(state): State<AppState>, SignedIn(viewer): SignedIn, Path(raw): Path<String>) -> Response {
    answer(viewer, move |reader| {
        let lead = find(&state, reader, &raw)?;
        lead_page(&state, reader, &lead, StatusCode::OK, Vec::new(), Typed::default())
    })
    .await
}

/// Converts the lead from its page; a refusal comes back with 422, the problems and what was typed.
pub async fn convert(State(state): State<AppState>, SignedIn(viewer): SignedIn, Path(raw): Path<String>, body: Bytes) -> Response {
    let params = Params::from_body(&body);
    answer(viewer, move |reader| {
        let locale = reader.user.locale;
        let lead = find(&state, reader, &raw)?;
        let typed = Typed {
            account: params.raw("account_id").trim().to_owned(),
            deal: params.get("create_deal").is_some(),
            deal_name: params.raw("deal_name").trim().to_owned(),
            amount: params.raw("amount").trim().to_owned(),
            close_date: params.raw("close_date").trim().to_owned(),
        };
        let mut problems = Vec::new();
        let organisation = app::users::organisation(&mut state.db.read()?, reader.org)?;
        let currency = organisation.map_or(money::Currency::USD, |organisation| organisation.reporting_currency);
        let amount = match typed.amount.as_str() {
            "" => None,
            raw => Money::parse_amount(raw, currency).map_err(|problem| problems.push(i18n::problem(locale, &problem))).ok(),
        };
        let close_date = match typed.close_date.as_str() {
            "" => None,
            raw => pipewise_core::time::parse_date(raw).map_err(|problem| problems.push(i18n::problem(locale, &problem))).ok(),
        };
        if !problems.is_empty() {
            return lead_page(&state, reader, &lead, StatusCode::UNPROCESSABLE_ENTITY, problems, typed);
        }
        let conversion = Conversion {
            account_id: params.id("account_id").map(AccountId),
            deal: typed.deal.then(|| DealOfLead {
                name: (!typed.deal_name.is_empty()).then(|| typed.deal_name.clone()),
                amount,
                close_date,
                pipeline_id: None,
            }),
        };
        let ctx = reader.ctx(Source::Web, state.now());
        match state.db.transact(|tx| app::leads::convert(tx, &ctx, lead.id, &conversion)) {
            Ok(converted) => Ok(see_other(&match converted.opportunity {
                Some(deal) => format!("/opportunities/{}", deal.id),
                None => format!("/accounts/{}", converted.account.id),
            })),
            Err(app::StoreError::Invalid(errors)) => {
                let problems = errors.0.iter().map(|error| i18n::problem(locale, &error.problem)).collect();
                lead_page(&state, reader, &lead, StatusCode::UNPROCESSABLE_ENTITY, problems, typed)
            }
            Err(error) => Err(error.into()),
        }
    })
    .await
}
