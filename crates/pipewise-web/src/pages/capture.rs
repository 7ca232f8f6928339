//! Capture in the web app (`/capture`): a rep chooses `.eml`, mbox or `.ics` files, checks
//! what each would log (every message or event refused listed with its place and reason), and
//! logs them. The page sends one file a request (`POST /capture/run?step=check|log&name=…`, the
//! file as the body, CSRF in `X-CSRF-Token`, at most [`MAX_FILE_BYTES`]) and shows each answer
//! as it comes; nothing is kept on the server between requests.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use pipewise_app as app;
use pipewise_app::capture::{CaptureFile, CaptureOptions, CaptureReport};
use pipewise_capture::ladder::Level;
use pipewise_core::history::Source;
use pipewise_core::user::{Locale, Role};
use serde::Serialize;

use super::{Params, SignedIn, render, respond};
use crate::AppState;
use crate::error::{AppError, blocking};
use crate::i18n::{self, t, tf};

/// How far back the ladder looks.
const LADDER_DAYS: i64 = 90;

/// The largest file one request takes.
pub const MAX_FILE_BYTES: usize = 64 << 20;
/// Refusals listed per file; the rest are counted.
const LISTED: usize = 200;

#[derive(Serialize)]
struct CapturePage {
    max_mib: usize,
    /// Whether this server can seal mailbox passwords (it has `PIPEWISE_SECRET_KEY`).
    sync_ready: bool,
    mailboxes: Vec<MailboxView>,
    /// Whose mailboxes are listed: the reader's own, or everyone's (admins).
    everyone: bool,
    /// A mailbox was just connected.
    connected: bool,
    /// Each rep's rung of the ladder over the last 90 days (the reader's own first).
    ladder: Vec<LadderView>,
    /// What would take the reader one rung up.
    next_rung: String,
    /// Messages sync could not read, newest first.
    quarantine: Vec<QuarantineView>,
}

#[derive(Serialize)]
struct QuarantineView {
    owner: String,
    place: String,
    id: String,
    reason: String,
    when: String,
}

#[derive(Serialize)]
struct LadderView {
    name: String,
    level: &'static str,
    label: String,
    inbound: i64,
    outbound: i64,
    captured: i64,
    ratings: i64,
}

#[derive(Serialize)]
struct MailboxView {
    owner: String,
    address: String,
    state: String,
    failing: bool,
}

#[derive(Serialize)]
struct RefusalView {
    place: String,
    line: String,
    id: String,
    reason: String,
}

#[derive(Serialize)]
struct FileView {
    name: String,
    committed: bool,
    summary: String,
    refusals: Vec<RefusalView>,
    more: usize,
    commands: String,
    command_errors: Vec<RefusalView>,
}

pub async fn show(State(state): State<AppState>, SignedIn(viewer): SignedIn, RawQuery(query): RawQuery) -> Response {
    let reader = viewer.clone();
    let params = Params::parse(query.as_deref());
    let result = blocking(move || {
        if reader.user.role == Role::Viewer {
            return Err(AppError::Forbidden(t(reader.user.locale, "capture.writers_only").to_owned()));
        }
        let locale = reader.user.locale;
        let mut tx = state.db.read()?;
        let stored = app::mailboxes::mailboxes_for(&mut tx, reader.org, &reader.access)?;
        let names: std::collections::HashMap<_, _> =
            app::users::users(&mut tx, reader.org)?.into_iter().map(|user| (user.id, user.name)).collect();
        let quarantine = app::mailboxes::quarantine_for(&mut tx, reader.org, &reader.access, 50)?
            .into_iter()
            .map(|kept| QuarantineView {
                owner: names.get(&kept.user_id).cloned().unwrap_or_default(),
                place: kept.place,
                id: kept.message_id.unwrap_or_default(),
                reason: i18n::message(locale, &kept.reason),
                when: i18n::relative(locale, kept.at, state.now()),
            })
            .collect();
        let since = state.now().plus_seconds(-LADDER_DAYS * 86_400);
        let mut mixes = app::capture::ladder(&mut tx, reader.org, &reader.access, since)?;
        drop(tx);
        mixes.sort_by_key(|(user, mix)| (*user != reader.user.id, std::cmp::Reverse(mix.level()), *user));
        let own = mixes.iter().find(|(user, _)| *user == reader.user.id).map_or(Level::None, |(_, mix)| mix.level());
        let next_rung = t(
            locale,
            match own {
                Level::None => "capture.next.none",
                Level::Baseline => "capture.next.baseline",
                Level::Good => "capture.next.good",
                Level::Better => "capture.next.better",
                Level::Best => "capture.next.best",
            },
        )
        .to_owned();
        let ladder = mixes
            .iter()
            .map(|(user, mix)| LadderView {
                name: names.get(user).cloned().unwrap_or_default(),
                level: mix.level().key(),
                label: level_label(locale, mix.level()).to_owned(),
                inbound: mix.inbound,
                outbound: mix.outbound,
                captured: mix.captured,
                ratings: mix.ratings,
            })
            .collect();
        let mailboxes = stored
            .iter()
            .map(|mailbox| MailboxView {
                owner: names.get(&mailbox.user_id).cloned().unwrap_or_default(),
                address: format!("{}@{}:{}/{}", mailbox.username, mailbox.host, mailbox.port, mailbox.folder),
                state: match (&mailbox.last_error, mailbox.synced_at) {
                    (Some(error), _) => {
                        tf(locale, "capture.mailbox_failing", &[("count", &mailbox.failures.to_string()), ("error", error)])
                    }
                    (None, Some(at)) => tf(
                        locale,
                        "capture.mailbox_synced",
                        &[("when", &i18n::relative(locale, at, state.now())), ("uid", &mailbox.last_uid.to_string())],
                    ),
                    (None, None) => t(locale, "capture.mailbox_waiting").to_owned(),
                },
                failing: mailbox.last_error.is_some(),
            })
            .collect();
        let view = CapturePage {
            max_mib: MAX_FILE_BYTES >> 20,
            sync_ready: state.secret_key.is_some(),
            mailboxes,
            everyone: reader.user.role == Role::Admin,
            connected: params.get("connected").is_some(),
            ladder,
            next_rung,
            quarantine,
        };
        render::page(&reader, StatusCode::OK, "capture.html", "capture", t(reader.user.locale, "capture.title").to_owned(), &view)
    })
    .await;
    respond(&viewer, result)
}

/// Checks (`step=check`) or logs (`step=log`) one file; answers its fragment.
pub async fn run(State(state): State<AppState>, SignedIn(viewer): SignedIn, RawQuery(query): RawQuery, body: Bytes) -> Response {
    let params = Params::parse(query.as_deref());
    let reader = viewer.clone();
    let result = blocking(move || {
        let locale = reader.user.locale;
        let dry_run = match params.raw("step") {
            "check" => true,
            "log" => false,
            _ => return Err(AppError::BadRequest("step must be check or log".into())),
        };
        let name: String = params.get("name").unwrap_or("file").chars().filter(|c| !c.is_control()).take(200).collect();
        let options = CaptureOptions { dry_run, keep_unmatched: params.get("keep_unmatched").is_some(), source: None };
        let ctx = app::WriteCtx { org: reader.org, actor_id: Some(reader.user.id), source: Source::Web, at: state.now() };
        let files = [CaptureFile { name: name.clone(), bytes: body.to_vec() }];
        let report = app::capture::capture(&state.db, &ctx, &files, &options)?;
        if report.committed && report.emails + report.meetings > 0 {
            state.forget_insights(reader.org);
        }
        let view = file_view(locale, name, &report);
        let chrome = render::Chrome::new(Some(&reader), locale, "capture", String::new());
        Ok(render::html(StatusCode::OK, render::render("capture_result.html", locale, &chrome, &view)?))
    })
    .await;
    respond(&viewer, result)
}

fn file_view(locale: Locale, name: String, report: &CaptureReport) -> FileView {
    let count = |value: usize| i18n::group(value as i64);
    let key = if report.committed { "capture.summary.logged" } else { "capture.summary.would_log" };
    let summary = tf(
        locale,
        key,
        &[
            ("items", &count(report.items)),
            ("emails", &count(report.emails)),
            ("meetings", &count(report.meetings)),
            ("accounts", &count(report.with_account)),
            ("deals", &count(report.with_deal)),
            ("duplicates", &count(report.duplicates)),
            ("refused", &count(report.refused_count)),
        ],
    );
    let view = |refusals: &[app::capture::CaptureRefusal]| -> Vec<RefusalView> {
        refusals
            .iter()
            .take(LISTED)
            .map(|refusal| RefusalView {
                place: if refusal.number == 0 { t(locale, "capture.whole_file").to_owned() } else { refusal.number.to_string() },
                line: if refusal.line == 0 { String::new() } else { refusal.line.to_string() },
                id: refusal.id.clone().unwrap_or_default(),
                reason: i18n::message(locale, &refusal.reason),
            })
            .collect()
    };
    let refusals = view(&report.refused);
    let more = report.refused_count.saturating_sub(refusals.len());
    let commands = if report.commands_applied > 0 || !report.command_errors.is_empty() {
        tf(locale, "capture.commands", &[("applied", &count(report.commands_applied)), ("refused", &count(report.command_errors.len()))])
    } else {
        String::new()
    };
    FileView { name, committed: report.committed, summary, refusals, more, commands, command_errors: view(&report.command_errors) }
}

/// A rep's +/− on an activity (`POST /activities/{id}/rating`, `rating=1` or `-1`): it
/// retrains the organisation's vocabulary; back to the deal's activities.
pub async fn rate(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    axum::extract::Path(id): axum::extract::Path<i64>,
    body: Bytes,
) -> Response {
    let params = Params::from_body(&body);
    let reader = viewer.clone();
    let result = blocking(move || {
        let rating: i8 = match params.raw("rating") {
            "1" => 1,
            "-1" => -1,
            _ => return Err(AppError::BadRequest("rating must be 1 or -1".into())),
        };
        let ctx = app::WriteCtx { org: reader.org, actor_id: Some(reader.user.id), source: Source::Web, at: state.now() };
        let activity = pipewise_core::ActivityId(id);
        let deal = state.db.transact(|tx| {
            app::capture::rate_activity(tx, &ctx, activity, rating)?;
            Ok(app::activities::activity_for(tx, reader.org, &reader.access, activity)?.and_then(|activity| activity.opportunity_id))
        })?;
        Ok(match deal {
            Some(deal) => super::see_other(&format!("/opportunities/{}#activities", deal.0)),
            None => super::see_other("/today"),
        })
    })
    .await;
    respond(&viewer, result)
}

/// A rep connects their mailbox (`POST /capture/mailbox`): host, port, username, password,
/// folder; the password is sealed with the server's key and never shown again.
pub async fn connect_mailbox(State(state): State<AppState>, SignedIn(viewer): SignedIn, body: Bytes) -> Response {
    let params = Params::from_body(&body);
    let reader = viewer.clone();
    let result = blocking(move || {
        let locale = reader.user.locale;
        let Some(key) = state.secret_key.clone() else {
            return Err(AppError::BadRequest(t(locale, "capture.sync_not_ready").to_owned()));
        };
        let settings = app::mailboxes::MailboxSettings {
            host: params.raw("host").to_owned(),
            port: params.raw("port").trim().parse().unwrap_or(0),
            username: params.raw("username").to_owned(),
            password: params.raw("password").to_owned(),
            folder: params.get("folder").map(str::to_owned),
            security: params.get("security").map(str::to_owned),
        };
        let ctx = app::WriteCtx { org: reader.org, actor_id: Some(reader.user.id), source: Source::Web, at: state.now() };
        state.db.transact(|tx| app::mailboxes::connect_mailbox(tx, &ctx, &key, &settings))?;
        Ok(super::see_other("/capture?connected=1#mailboxes"))
    })
    .await;
    respond(&viewer, result)
}

/// A rung's name in the reader's language.
fn level_label(locale: Locale, level: Level) -> &'static str {
    t(
        locale,
        match level {
            Level::None => "capture.level.none",
            Level::Baseline => "capture.level.baseline",
            Level::Good => "capture.level.good",
            Level::Better => "capture.level.better",
            Level::Best => "capture.level.best",
        },
    )
}
