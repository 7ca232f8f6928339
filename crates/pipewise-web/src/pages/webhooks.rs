//! Webhooks for admins (`/admin/webhooks`): subscribe a URL to kinds of deal events (the signing
//! secret is shown once, on the page that answers the form), see each webhook's place in the
//! history log, its waiting changes, its health and its latest deliveries, and pause, resume or
//! remove it. Everyone else gets the 403 page. Writes go through `app::webhooks` (authorised and
//! audited); the server's dispatcher delivers.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use pipewise_app as app;
use pipewise_core::history::Source;
use pipewise_core::webhook::EventKind;
use serde::Serialize;

use super::form::{Refusal, refusal};
use super::{Params, SignedIn, render, respond, see_other};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, blocking};
use crate::i18n::{self, t, tf};

/// Attempts listed per webhook.
const LOG: u32 = 10;

#[derive(Serialize)]
struct WebhooksPage {
    /// Whether this server can seal signing secrets (it has `PIPEWISE_SECRET_KEY`).
    ready: bool,
    kinds: Vec<KindView>,
    url: String,
    webhooks: Vec<WebhookView>,
    /// The secret of the webhook just created, shown this once.
    secret: Option<String>,
    notice: Option<String>,
    problems: Vec<String>,
}

#[derive(Serialize)]
struct KindView {
    value: &'static str,
    label: &'static str,
    checked: bool,
}

#[derive(Serialize)]
struct WebhookView {
    id: i64,
    url: String,
    events: String,
    active: bool,
    failing: bool,
    state: String,
    place: String,
    deliveries: Vec<DeliveryView>,
}

#[derive(Serialize)]
struct DeliveryView {
    when: String,
    event: String,
    deal: Option<i64>,
    attempt: i32,
    answer: String,
    ok: bool,
    ms: i32,
}

fn admins_only(viewer: &Viewer) -> Result<(), AppError> {
    if viewer.access.can_manage_webhooks() {
        Ok(())
    } else {
        Err(AppError::Forbidden(t(viewer.user.locale, "webhooks.admins_only").to_owned()))
    }
}

fn kind_label(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Created => "webhooks.kind.created",
        EventKind::Won => "webhooks.kind.won",
        EventKind::Lost => "webhooks.kind.lost",
        EventKind::Reopened => "webhooks.kind.reopened",
        EventKind::StageChanged => "webhooks.kind.stage_changed",
        EventKind::Updated => "webhooks.kind.updated",
    }
}

struct Shown {
    status: StatusCode,
    typed: Option<Params>,
    secret: Option<String>,
    notice: Option<String>,
    problems: Vec<String>,
}

fn page(state: &AppState, viewer: &Viewer, shown: Shown) -> Result<Response, AppError> {
    let locale = viewer.user.locale;
    let now = state.now();
    let mut tx = state.db.read()?;
    let states = app::webhooks::webhooks_for(&mut tx, viewer.org, &viewer.access, LOG)?;
    drop(tx);
    let chosen: Vec<&str> = shown
        .typed
        .as_ref()
        .map(|typed| typed.0.iter().filter(|(key, _)| key == "event").map(|(_, value)| value.as_str()).collect())
        .unwrap_or_default();
    let kinds = EventKind::ALL
        .iter()
        .map(|kind| KindView { value: kind.as_str(), label: t(locale, kind_label(*kind)), checked: chosen.contains(&kind.as_str()) })
        .collect();
    let webhooks = states
        .into_iter()
        .map(|found| {
            let webhook = found.webhook;
            let waiting = if found.more { format!("{}+", found.waiting) } else { found.waiting.to_string() };
            let state = match (&webhook.last_error, webhook.active) {
                (_, false) => t(locale, "webhooks.paused").to_owned(),
                (Some(error), true) => {
                    let seconds = webhook.next_attempt_at.map_or(0, |at| (at.as_micros() - now.as_micros()) / 1_000_000);
                    let next = match seconds {
                        ..=0 => t(locale, "webhooks.next_now").to_owned(),
                        1..60 => tf(locale, "webhooks.next_seconds", &[("n", &seconds.to_string())]),
                        _ => tf(locale, "webhooks.next_minutes", &[("n", &((seconds + 59) / 60).to_string())]),
                    };
                    tf(locale, "webhooks.failing", &[("count", &webhook.failures.to_string()), ("error", error), ("next", &next)])
                }
                (None, true) => t(locale, "webhooks.healthy").to_owned(),
            };
            let events = if webhook.events == "*" {
                t(locale, "webhooks.every_kind").to_owned()
            } else {
                webhook
                    .events
                    .split(' ')
                    .filter_map(|kind| EventKind::parse(kind).ok())
                    .map(|kind| t(locale, kind_label(kind)))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            WebhookView {
                id: webhook.id,
                url: webhook.url,
                events,
                active: webhook.active,
                failing: webhook.last_error.is_some(),
                state,
                place: tf(locale, "webhooks.place", &[("seq", &webhook.delivered_seq.to_string()), ("waiting", &waiting)]),
                deliveries: found
                    .deliveries
                    .into_iter()
                    .map(|delivery| {
                        let ok = delivery.error.is_none() && delivery.status.is_some_and(|status| (200..300).contains(&status));
                        let answer = match (delivery.status, &delivery.error) {
                            (Some(status), _) if ok => status.to_string(),
                            (_, Some(error)) => error.clone(),
                            (Some(status), None) => status.to_string(),
                            (None, None) => String::new(),
                        };
                        DeliveryView {
                            when: i18n::relative(locale, delivery.attempted_at, now),
                            event: EventKind::parse(&delivery.event)
                                .map_or(delivery.event.clone(), |kind| t(locale, kind_label(kind)).to_owned()),
                            deal: delivery.opportunity_id.map(|id| id.0),
                            attempt: delivery.attempt,
                            answer,
                            ok,
                            ms: delivery.duration_ms,
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    let view = WebhooksPage {
        ready: state.secret_key.is_some(),
        kinds,
        url: shown.typed.as_ref().map(|typed| typed.raw("url").to_owned()).unwrap_or_default(),
        webhooks,
        secret: shown.secret,
        notice: shown.notice,
        problems: shown.problems,
    };
    render::page(viewer, shown.status, "webhooks.html", "webhooks", t(locale, "webhooks.title").to_owned(), &view)
}

pub async fn show(State(state): State<AppState>, SignedIn(viewer): SignedIn, RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query.as_deref());
    let reader = viewer.clone();
    let result = blocking(move || {
        admins_only(&reader)?;
        let notice = params.get("done").and_then(|done| match done {
            "paused" => Some("webhooks.done_paused"),
            "resumed" => Some("webhooks.done_resumed"),
            "removed" => Some("webhooks.done_removed"),
            _ => None,
        });
        let notice = notice.map(|key| t(reader.user.locale, key).to_owned());
        page(&state, &reader, Shown { status: StatusCode::OK, typed: None, secret: None, notice, problems: Vec::new() })
    })
    .await;
    respond(&viewer, result)
}

/// `POST /admin/webhooks`: the URL and the kinds (none ticked is every kind). The answer is the
/// page itself, with the new secret, since it is never shown again.
pub async fn create(State(state): State<AppState>, SignedIn(viewer): SignedIn, body: Bytes) -> Response {
    let form = Params::from_body(&body);
    let reader = viewer.clone();
    let result = blocking(move || {
        admins_only(&reader)?;
        let locale = reader.user.locale;
        let Some(key) = state.secret_key.clone() else {
            return Err(AppError::BadRequest(t(locale, "webhooks.not_ready").to_owned()));
        };
        let kinds: Vec<&str> = form.0.iter().filter(|(name, _)| name == "event").map(|(_, value)| value.as_str()).collect();
        let events = if kinds.is_empty() { "*".to_owned() } else { kinds.join(" ") };
        let ctx = reader.ctx(Source::Web, state.now());
        match state.db.transact(|tx| app::webhooks::create_webhook(tx, &ctx, &key, form.raw("url"), &events)) {
            Ok(created) => {
                let notice = Some(t(locale, "webhooks.created").to_owned());
                page(
                    &state,
                    &reader,
                    Shown { status: StatusCode::OK, typed: None, secret: Some(created.secret), notice, problems: Vec::new() },
                )
            }
            Err(error) => match refusal(error)? {
                Refusal::Invalid(errors) => {
                    let problems = errors
                        .0
                        .iter()
                        .map(|error| {
                            let field = t(locale, if error.field == "url" { "webhooks.url" } else { "webhooks.kinds" });
                            format!("{field}: {}", i18n::problem(locale, &error.problem))
                        })
                        .collect();
                    let shown = Shown { status: StatusCode::UNPROCESSABLE_ENTITY, typed: Some(form), secret: None, notice: None, problems };
                    page(&state, &reader, shown)
                }
                other => Err(other.into()),
            },
        }
    })
    .await;
    respond(&viewer, result)
}

/// `POST /admin/webhooks/{id}/{pause|resume|remove}`.
pub async fn act(State(state): State<AppState>, SignedIn(viewer): SignedIn, Path((id, action)): Path<(i64, String)>) -> Response {
    let reader = viewer.clone();
    let result = blocking(move || {
        admins_only(&reader)?;
        let ctx = reader.ctx(Source::Web, state.now());
        let done = match action.as_str() {
            "pause" => state.db.transact(|tx| app::webhooks::set_webhook_active(tx, &ctx, id, false)).map(|()| "paused"),
            "resume" => state.db.transact(|tx| app::webhooks::set_webhook_active(tx, &ctx, id, true)).map(|()| "resumed"),
            "remove" => state.db.transact(|tx| app::webhooks::delete_webhook(tx, &ctx, id)).map(|()| "removed"),
            _ => return Err(AppError::NotFound { kind: "page", id: action }),
        }?;
        Ok(see_other(&format!("/admin/webhooks?done={done}")))
    })
    .await;
    respond(&viewer, result)
}
