//! A rep's day (`/today`, seed 002's "unstructured day"; issue 14 point 8): one page, the first
//! a rep sees, listing what to do today in the order it matters: tasks overdue and due today,
//! deals that need a touch or a move (close date passed, going dark, untouched, stale: the
//! health flags of the dashboard, with their reasons), then leads waiting for a first answer
//! (new leads past the speed-to-lead window first) and leads being worked. Each line leads to
//! the one click that deals with it. A manager, ops or an admin reads anyone's day in their
//! reach with `?user=`.

use std::collections::HashMap;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use pipewise_app as app;
use pipewise_app::{OpportunityFilter, TaskFilter};
use pipewise_core::access::DealScope;
use pipewise_core::opportunity::Status;
use pipewise_core::records::{ActivityKind, Direction, LeadStatus, NewActivity};
use pipewise_core::*;
use serde::Serialize;

use super::dashboard::badges;
use super::data::OrgData;
use super::{Params, SignedIn, answer, render};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::AppError;
use crate::i18n::{self, t, tf};

/// A new lead unanswered for longer than this is past the speed-to-lead window.
pub const SPEED_TO_LEAD_HOURS: i64 = 24;
/// Lines each section shows at most.
const SHOWN: usize = 50;

/// The health flags that ask for something today, most pressing first.
pub(super) const ACTION_FLAGS: [&str; 5] = ["past_close_date", "going_dark", "overdue_tasks", "untouched", "stale"];

#[derive(Serialize)]
struct Choice {
    value: i64,
    label: String,
    selected: bool,
}

#[derive(Serialize)]
struct TaskLine {
    title: String,
    due: String,
    overdue: bool,
    deal: Option<(i64, String)>,
    /// The lead it is about, by name.
    lead: Option<String>,
}

#[derive(Serialize)]
struct BadgeView {
    code: &'static str,
    label: String,
    reason: String,
}

#[derive(Serialize)]
struct DealLine {
    id: i64,
    name: String,
    account: String,
    amount: String,
    close_date: String,
    badges: Vec<BadgeView>,
}

#[derive(Serialize)]
struct LeadLine {
    id: i64,
    name: String,
    company: String,
    email: Option<String>,
    phone: Option<String>,
    age: String,
    past_sla: bool,
    working: bool,
    /// The cadence's next step, when one is due now.
    next: Option<String>,
}

/// An inbound message that reads badly (capture's early warning).
#[derive(Serialize)]
struct WarningLine {
    subject: String,
    score: String,
    age: String,
    deal: Option<(i64, String)>,
}

#[derive(Serialize)]
struct TodayView {
    whose: String,
    own: bool,
    /// The reader's id when reading someone else's day (kept by the one-click forms).
    user: Option<i64>,
    /// The deal a touch was just logged on.
    logged: Option<String>,
    people: Vec<Choice>,
    date: String,
    tasks: Vec<TaskLine>,
    more_tasks: usize,
    deals: Vec<DealLine>,
    more_deals: usize,
    leads: Vec<LeadLine>,
    more_leads: usize,
    warnings: Vec<WarningLine>,
    summary: String,
}

/// How far back the day looks for inbound mail that reads badly.
const WARNING_DAYS: i64 = 14;

pub async fn today(State(state): State<AppState>, SignedIn(viewer): SignedIn, RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query.as_deref());
    answer(viewer, move |viewer| page(&state, viewer, &params)).await
}

fn page(state: &AppState, viewer: &Viewer, params: &Params) -> Result<Response, AppError> {
    let locale = viewer.user.locale;
    let now = state.now();
    let today = viewer.today(now);
    let reach = match viewer.access.deal_scope() {
        DealScope::All => None,
        DealScope::Owners { owners, .. } => Some(owners),
    };
    let may_see = |user: UserId| reach.as_ref().is_none_or(|owners| owners.contains(&user));
    let who = params.id("user").map(UserId).filter(|user| may_see(*user)).unwrap_or(viewer.user.id);
    let mut tx = state.db.read()?;
    let data = OrgData::load_without_accounts(&mut tx, viewer.org, now)?;

    // Tasks due today or before, oldest first.
    let filter = TaskFilter { owner_id: Some(who), open_only: true, ..TaskFilter::default() };
    let mut tasks = app::activities::tasks_for(&mut tx, viewer.org, &viewer.access, &filter)?;
    tasks.retain(|task| task.due_on.is_some_and(|due| due <= today));
    tasks.sort_by_key(|task| (task.due_on, task.id));

    // Open deals with a flag that asks for action today, most pressing flag first, then larger.
    let filter = OpportunityFilter { owner_id: Some(who), status: Some(Status::Open), ..OpportunityFilter::default() };
    let open = app::deals::opportunities_for(&mut tx, viewer.org, &viewer.access, &filter)?;
    // The accounts of those deals only, not every account of the organisation.
    let account_ids: Vec<AccountId> =
        open.iter().filter_map(|deal| deal.account_id).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    let accounts: HashMap<AccountId, String> =
        app::records::accounts_by_ids(&mut tx, viewer.org, &account_ids)?.into_iter().map(|account| (account.id, account.name)).collect();
    let names: HashMap<OpportunityId, String> = open.iter().map(|deal| (deal.id, deal.name.clone())).collect();
    let ids: Vec<OpportunityId> = open.iter().map(|deal| deal.id).collect();
    let flagged = badges(state, viewer.org, locale, &ids, today, &data.health_thresholds).unwrap_or_else(|error| {
        eprintln!("today: health flags unavailable: {error:?}");
        HashMap::new()
    });
    let mut deals: Vec<(usize, std::cmp::Reverse<Option<pipewise_core::money::Decimal>>, DealLine)> = open
        .iter()
        .filter_map(|deal| {
            let shown: Vec<BadgeView> = flagged
                .get(&deal.id)
                .into_iter()
                .flatten()
                .filter(|badge| ACTION_FLAGS.contains(&badge.code))
                .map(|badge| BadgeView { code: badge.code, label: badge.label.clone(), reason: badge.reason.clone() })
                .collect();
            let rank = shown.iter().filter_map(|badge| ACTION_FLAGS.iter().position(|code| *code == badge.code)).min()?;
            let line = DealLine {
                id: deal.id.0,
                name: deal.name.clone(),
                account: deal.account_id.and_then(|id| accounts.get(&id).cloned()).unwrap_or_default(),
                amount: deal.amount.map(|money| i18n::money(locale, money)).unwrap_or_default(),
                close_date: deal.close_date.map(|date| i18n::date(locale, date)).unwrap_or_default(),
                badges: shown,
            };
            Some((rank, std::cmp::Reverse(deal.amount.map(|money| money.amount())), line))
        })
        .collect();
    deals.sort_by_key(|(rank, larger_first, line)| (*rank, *larger_first, line.id));

    // Leads waiting: new ones past the window first, then new, then those being worked.
    let every_lead = app::records::leads(&mut tx, viewer.org)?;
    let lead_names: HashMap<LeadId, String> = every_lead.iter().map(|lead| (lead.id, lead.name.clone())).collect();
    let mut leads: Vec<_> = every_lead
        .into_iter()
        .filter(|lead| lead.owner_id == Some(who) && matches!(lead.status, LeadStatus::New | LeadStatus::Working))
        .collect();
    let hours = |lead: &pipewise_core::records::Lead| (now.as_micros() - lead.created_at.as_micros()) / 3_600_000_000;
    let policy = state.cadence.get(&mut tx, viewer.org, now)?;
    let steps = app::cadence::steps(&mut tx, viewer.org, &leads, &policy, now)?;
    // A lead whose next attempt, last chance or close-out is due now comes before one waiting.
    let due = |lead: &pipewise_core::records::Lead| steps.get(&lead.id).and_then(|step| super::leads::due_text(locale, step, now));
    leads.sort_by_key(|lead| {
        (lead.status != LeadStatus::New, hours(lead) < SPEED_TO_LEAD_HOURS, due(lead).is_none(), lead.created_at, lead.id)
    });
    let lead_lines: Vec<LeadLine> = leads
        .iter()
        .map(|lead| LeadLine {
            id: lead.id.0,
            name: lead.name.clone(),
            company: lead.company.clone().unwrap_or_default(),
            email: lead.email.clone(),
            phone: lead.phone.clone(),
            age: i18n::relative(locale, lead.created_at, now),
            past_sla: lead.status == LeadStatus::New && hours(lead) >= SPEED_TO_LEAD_HOURS,
            working: lead.status == LeadStatus::Working,
            next: due(lead),
        })
        .collect();

    // Inbound mail of the last two weeks that reads badly, on this person's deals or to them.
    let since = now.plus_seconds(-WARNING_DAYS * 86_400);
    let warnings: Vec<WarningLine> = app::capture::warnings(&mut tx, viewer.org, &viewer.access, since, 50)?
        .into_iter()
        .filter(|alert| alert.user_id == Some(who) || alert.opportunity_id.is_some_and(|deal| names.contains_key(&deal)))
        .take(SHOWN)
        .map(|alert| WarningLine {
            subject: alert.subject,
            score: format!("{:+.2}", f64::from(alert.score) / 1000.0),
            age: i18n::relative(locale, alert.occurred_at, now),
            deal: alert.opportunity_id.and_then(|id| names.get(&id).map(|name| (id.0, name.clone()))),
        })
        .collect();

    let task_lines: Vec<TaskLine> = tasks
        .iter()
        .map(|task| TaskLine {
            title: task.title.clone(),
            due: task.due_on.map(|date| i18n::date(locale, date)).unwrap_or_default(),
            overdue: task.due_on.is_some_and(|date| date < today),
            deal: task.opportunity_id.and_then(|id| names.get(&id).map(|name| (id.0, name.clone()))),
            lead: task.lead_id.and_then(|id| lead_names.get(&id).cloned()),
        })
        .collect();
    let people = match &reach {
        Some(owners) if owners.len() <= 1 => Vec::new(),
        _ => data
            .users
            .iter()
            .filter(|user| user.active && may_see(user.id))
            .map(|user| Choice { value: user.id.0, label: user.name.clone(), selected: user.id == who })
            .collect(),
    };
    let summary = tf(
        locale,
        "today.summary",
        &[
            ("tasks", &task_lines.len().to_string()),
            ("deals", &deals.len().to_string()),
            ("leads", &lead_lines.iter().filter(|lead| lead.past_sla).count().to_string()),
            ("hours", &SPEED_TO_LEAD_HOURS.to_string()),
        ],
    );
    let (more_tasks, more_deals, more_leads) =
        (task_lines.len().saturating_sub(SHOWN), deals.len().saturating_sub(SHOWN), lead_lines.len().saturating_sub(SHOWN));
    let logged = params.id("logged").and_then(|id| names.get(&OpportunityId(id))).map(|name| tf(locale, "today.logged", &[("deal", name)]));
    let view = TodayView {
        whose: data.user_name(who),
        own: who == viewer.user.id,
        user: (who != viewer.user.id).then_some(who.0),
        logged,
        people,
        date: i18n::date(locale, today),
        tasks: task_lines.into_iter().take(SHOWN).collect(),
        more_tasks,
        deals: deals.into_iter().take(SHOWN).map(|(_, _, line)| line).collect(),
        more_deals,
        leads: lead_lines.into_iter().take(SHOWN).collect(),
        more_leads,
        warnings,
        summary,
    };
    render::page(viewer, StatusCode::OK, "today.html", "today", t(locale, "today.title").to_owned(), &view)
}

/// One click from the day: a call, an e-mail or a meeting logged on a deal now, as the reader
/// (`POST /today/touch`, CSRF-checked, through `app::activities::create_activity`).
pub async fn log_touch(State(state): State<AppState>, SignedIn(viewer): SignedIn, body: axum::body::Bytes) -> Response {
    let params = Params::from_body(&body);
    answer(viewer, move |reader| {
        let locale = reader.user.locale;
        let deal = params.id("deal").map(OpportunityId).ok_or_else(|| AppError::BadRequest(t(locale, "today.no_deal").to_owned()))?;
        let (kind, subject) = match params.raw("kind") {
            "email" => (ActivityKind::Email, t(locale, "today.touch.email")),
            "meeting" => (ActivityKind::Meeting, t(locale, "today.touch.meeting")),
            _ => (ActivityKind::Call, t(locale, "today.touch.call")),
        };
        let now = state.now();
        let ctx = reader.ctx(pipewise_core::history::Source::Web, now);
        let touch = NewActivity {
            kind,
            direction: Direction::Outbound,
            occurred_at: now,
            subject: subject.to_owned(),
            body: None,
            source: "manual".to_owned(),
            user_id: Some(reader.user.id),
            account_id: None,
            opportunity_id: Some(deal),
            contact_ids: Vec::new(),
        };
        state.db.transact(|tx| app::activities::create_activity(tx, &ctx, touch))?;
        let back = match params.id("user") {
            Some(user) => format!("/today?user={user}&logged={}#today-deals", deal.0),
            None => format!("/today?logged={}#today-deals", deal.0),
        };
        Ok(super::see_other(&back))
    })
    .await
}
