//! Lead routing in the web app (`/leads/routing`): the fairness report of the last 30 days
//! (each rep's share of the leads' quality and count against their share of capacity, flagged a
//! quarter over or under) for managers (their tree), ops and admins; and, for ops and admins,
//! the rules: the ideal customer profile, the pool with each rep's capacity, and territories.
//! Saving posts them all at once (`POST /leads/routing`, CSRF-checked) through
//! `app::routing::set_rules` (authorised, every bad part named, audited).

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use pipewise_app as app;
use pipewise_core::history::Source;
use pipewise_core::user::Role;
use pipewise_core::*;
use pipewise_leads::fairness::Verdict;
use pipewise_leads::fit::Profile;
use pipewise_leads::routing::{Member, Rules, Territory};
use serde::Serialize;

use super::data::OrgData;
use super::form::{Refusal, refusal};
use super::{Params, SignedIn, render, respond, see_other};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, blocking};
use crate::i18n::{self, t, tf};

/// Blank territory rows offered for new ones.
const BLANK_TERRITORIES: usize = 2;

#[derive(Serialize)]
struct RoutingPage {
    editable: bool,
    on: bool,
    window_days: i64,
    summary: String,
    shares: Vec<ShareView>,
    profile: ProfileView,
    pool: Vec<PoolRow>,
    territories: Vec<TerritoryRow>,
    notice: Option<String>,
    problems: Vec<String>,
    forms: Vec<FormView>,
    sources: Vec<SourceView>,
}

#[derive(Serialize)]
struct SourceView {
    source: String,
    leads: usize,
    qualified: usize,
    flagged: bool,
}

#[derive(Serialize)]
struct FormView {
    id: i64,
    name: String,
    source: String,
    url: String,
    active: bool,
    outcomes: String,
    snippet: String,
}

#[derive(Serialize)]
struct ShareView {
    name: String,
    capacity: u32,
    leads: u32,
    fair_leads: String,
    quality: String,
    mean_fit: String,
    converted: u32,
    verdict: &'static str,
    label: &'static str,
}

#[derive(Serialize)]
struct ProfileView {
    industries: String,
    regions: String,
    min_employees: String,
    max_employees: String,
    titles: String,
}

#[derive(Serialize)]
struct PoolRow {
    id: i64,
    name: String,
    role: &'static str,
    capacity: u32,
}

#[derive(Serialize)]
struct TerritoryRow {
    index: usize,
    name: String,
    regions: String,
    industries: String,
    min_employees: String,
    max_employees: String,
    members: Vec<MemberChoice>,
}

#[derive(Serialize)]
struct MemberChoice {
    id: i64,
    name: String,
    selected: bool,
}

fn may_read(viewer: &Viewer) -> Result<(), AppError> {
    if matches!(viewer.user.role, Role::Admin | Role::Ops | Role::Manager | Role::Viewer) {
        Ok(())
    } else {
        Err(AppError::Forbidden(t(viewer.user.locale, "routing.reps_not").to_owned()))
    }
}

fn may_edit(viewer: &Viewer) -> bool {
    matches!(viewer.user.role, Role::Admin | Role::Ops)
}

fn verdict_key(verdict: Verdict) -> (&'static str, &'static str) {
    match verdict {
        Verdict::Fair => ("fair", "routing.verdict.fair"),
        Verdict::Over => ("over", "routing.verdict.over"),
        Verdict::Under => ("under", "routing.verdict.under"),
        Verdict::TooFew => ("few", "routing.verdict.few"),
        Verdict::OutOfPool => ("out", "routing.verdict.out"),
    }
}

/// The HTML to paste into a web page: the form's fields, and the hidden field bots fill.
fn snippet(path: &str) -> String {
    let fields = ["name", "email", "company", "title", "phone", "employee_count", "region"]
        .iter()
        .map(|name| {
            format!("  <label>{name} <input name=\"{name}\"{}></label>\n", if *name == "email" { " type=\"email\" required" } else { "" })
        })
        .collect::<String>();
    format!(
        "<form method=\"post\" action=\"https://YOUR-PIPEWISE{path}\">\n{fields}  <input name=\"{}\" tabindex=\"-1\" autocomplete=\"off\" style=\"display:none\">\n  <button>Send</button>\n</form>",
        app::forms::HONEYPOT
    )
}

/// The catalog key naming a part of the rules a problem is about.
fn part_label(field: &str) -> &'static str {
    match field {
        "pool" => "routing.pool",
        "territories" => "routing.territories",
        "industries" => "routing.industries",
        "regions" => "routing.regions",
        "titles" => "routing.titles",
        _ => "routing.profile",
    }
}

fn list(values: &[String]) -> String {
    values.join(", ")
}

fn number(value: Option<i64>) -> String {
    value.map(|value| value.to_string()).unwrap_or_default()
}

fn page(
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    shown: Option<&Rules>,
    notice: Option<String>,
    problems: Vec<String>,
) -> Result<Response, AppError> {
    let locale = viewer.user.locale;
    let now = state.now();
    let mut tx = state.db.read()?;
    let data = OrgData::load_without_accounts(&mut tx, viewer.org, now)?;
    let (stored, report, unowned) = app::routing::fairness_for(&mut tx, viewer.org, &viewer.access, now)?;
    let forms = app::forms::forms_for(&mut tx, viewer.org, &viewer.access, now)?;
    let sources = app::qualification::source_yields(&mut tx, viewer.org, now, 90)?
        .into_iter()
        .map(|found| SourceView {
            source: if found.source.is_empty() { t(locale, "routing.no_source").to_owned() } else { found.source },
            leads: found.leads,
            qualified: found.qualified,
            flagged: found.flagged,
        })
        .collect();
    drop(tx);
    let forms = forms
        .into_iter()
        .map(|state| {
            let path = format!("/f/{}", state.form.key);
            let count = |outcome: &str| state.outcomes.iter().find(|(name, _)| name == outcome).map_or(0, |(_, count)| *count);
            FormView {
                id: state.form.id,
                name: state.form.name,
                source: state.form.source,
                active: state.form.active,
                outcomes: tf(
                    locale,
                    "forms.outcomes",
                    &[
                        ("accepted", &count("accepted").to_string()),
                        ("invalid", &count("invalid").to_string()),
                        ("spam", &(count("spam") + count("limited") + count("duplicate")).to_string()),
                    ],
                ),
                snippet: snippet(&path),
                url: path,
            }
        })
        .collect();
    let rules = shown.unwrap_or(&stored);
    let shares = report
        .shares
        .iter()
        .map(|share| {
            let (verdict, key) = verdict_key(share.verdict);
            ShareView {
                name: data.user_name(share.user),
                capacity: share.capacity,
                leads: share.leads,
                fair_leads: format!("{:.1}", share.fair_leads),
                quality: share.ratio().map(|ratio| format!("{:.0}%", ratio * 100.0)).unwrap_or_else(|| "—".into()),
                mean_fit: share.mean_fit.map(|fit| format!("{fit:.0}")).unwrap_or_else(|| "—".into()),
                converted: share.converted,
                verdict,
                label: t(locale, key),
            }
        })
        .collect();
    let summary = tf(
        locale,
        "routing.summary",
        &[
            ("leads", &report.leads.to_string()),
            ("unowned", &unowned.to_string()),
            ("flagged", &report.flagged.to_string()),
            ("days", &app::routing::WINDOW_DAYS.to_string()),
        ],
    );
    let people: Vec<_> = data.users.iter().filter(|user| user.active && user.role != Role::Viewer).collect();
    let pool = people
        .iter()
        .map(|user| PoolRow {
            id: user.id.0,
            name: user.name.clone(),
            role: t(locale, &format!("role.{}", user.role.as_str())),
            capacity: rules.capacity(user.id),
        })
        .collect();
    let blank = Territory::default();
    let territories = rules
        .territories
        .iter()
        .chain(std::iter::repeat_n(&blank, BLANK_TERRITORIES))
        .enumerate()
        .map(|(index, territory)| TerritoryRow {
            index,
            name: territory.name.clone(),
            regions: list(&territory.regions),
            industries: list(&territory.industries),
            min_employees: number(territory.min_employees),
            max_employees: number(territory.max_employees),
            members: people
                .iter()
                .map(|user| MemberChoice { id: user.id.0, name: user.name.clone(), selected: territory.members.contains(&user.id) })
                .collect(),
        })
        .collect();
    let view = RoutingPage {
        editable: may_edit(viewer),
        on: rules.is_on(),
        window_days: app::routing::WINDOW_DAYS,
        summary,
        shares,
        profile: ProfileView {
            industries: list(&rules.profile.industries),
            regions: list(&rules.profile.regions),
            min_employees: number(rules.profile.min_employees),
            max_employees: number(rules.profile.max_employees),
            titles: list(&rules.profile.titles),
        },
        pool,
        territories,
        notice,
        problems,
        forms,
        sources,
    };
    render::page(viewer, status, "routing.html", "leads", t(locale, "routing.title").to_owned(), &view)
}

pub async fn show(State(state): State<AppState>, SignedIn(viewer): SignedIn, RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query.as_deref());
    let reader = viewer.clone();
    let result = blocking(move || {
        may_read(&reader)?;
        let notice = match (params.get("saved"), params.get("form")) {
            (Some(_), _) => Some(t(reader.user.locale, "routing.saved").to_owned()),
            (None, Some(_)) => Some(t(reader.user.locale, "forms.created").to_owned()),
            (None, None) => None,
        };
        page(&state, &reader, StatusCode::OK, None, notice, Vec::new())
    })
    .await;
    respond(&viewer, result)
}

/// Values separated by commas, trimmed, empty ones dropped.
fn values(raw: &str) -> Vec<String> {
    raw.split([',', '\n']).map(str::trim).filter(|value| !value.is_empty()).map(str::to_owned).collect()
}

/// The rules as the form gives them; a number that is not one is kept as a problem.
fn read_form(form: &Params, problems: &mut Vec<String>, locale: pipewise_core::user::Locale) -> Rules {
    let mut number = |name: &str, label: &str| -> Option<i64> {
        let raw = form.raw(name).trim();
        if raw.is_empty() {
            return None;
        }
        match raw.replace(',', "").parse::<i64>() {
            Ok(value) => Some(value),
            Err(_) => {
                problems.push(tf(locale, "routing.not_a_number", &[("field", label), ("value", raw)]));
                None
            }
        }
    };
    let profile = Profile {
        industries: values(form.raw("industries")),
        regions: values(form.raw("regions")),
        min_employees: number("min_employees", t(locale, "routing.min_employees")),
        max_employees: number("max_employees", t(locale, "routing.max_employees")),
        titles: values(form.raw("titles")),
    };
    let pool: Vec<Member> = form
        .0
        .iter()
        .filter_map(|(key, value)| {
            let user = key.strip_prefix("capacity_")?.parse::<i64>().ok()?;
            let capacity = value.trim().parse::<u32>().unwrap_or(0);
            (capacity > 0).then_some(Member { user: UserId(user), capacity })
        })
        .collect();
    let mut territories = Vec::new();
    for index in 0..60 {
        let field = |name: &str| format!("territory_{index}_{name}");
        let name = form.raw(&field("name")).trim().to_owned();
        if name.is_empty() {
            continue;
        }
        let members = form.ids(&field("members")).into_iter().map(UserId).collect();
        territories.push(Territory {
            regions: values(form.raw(&field("regions"))),
            industries: values(form.raw(&field("industries"))),
            min_employees: number(&field("min"), t(locale, "routing.min_employees")),
            max_employees: number(&field("max"), t(locale, "routing.max_employees")),
            members,
            name,
        });
    }
    Rules { profile, pool, territories }
}

pub async fn save(State(state): State<AppState>, SignedIn(viewer): SignedIn, body: Bytes) -> Response {
    let form = Params::from_body(&body);
    let reader = viewer.clone();
    let result = blocking(move || {
        may_read(&reader)?;
        let locale = reader.user.locale;
        if !may_edit(&reader) {
            return Err(AppError::Forbidden(t(locale, "routing.ops_only").to_owned()));
        }
        let mut problems = Vec::new();
        let rules = read_form(&form, &mut problems, locale);
        if !problems.is_empty() {
            return page(&state, &reader, StatusCode::UNPROCESSABLE_ENTITY, Some(&rules), None, problems);
        }
        let ctx = reader.ctx(Source::Web, state.now());
        match state.db.transact(|tx| app::routing::set_rules(tx, &ctx, &rules)) {
            Ok(_) => Ok(see_other("/leads/routing?saved=1")),
            Err(error) => match refusal(error)? {
                Refusal::Invalid(errors) => {
                    let problems = errors
                        .0
                        .iter()
                        .map(|error| format!("{}: {}", t(locale, part_label(error.field)), i18n::problem(locale, &error.problem)))
                        .collect();
                    page(&state, &reader, StatusCode::UNPROCESSABLE_ENTITY, Some(&rules), None, problems)
                }
                other => Err(other.into()),
            },
        }
    })
    .await;
    respond(&viewer, result)
}
