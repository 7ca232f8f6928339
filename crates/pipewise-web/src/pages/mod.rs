//! The server-rendered web app: sign-in, the pipeline board, deal pages, lists with CSV export,
//! and the admin pages (users, the audit log, pipelines, health thresholds).
//!
//! - Every page finds its reader with [`SignedIn`] (signed-out readers are sent to
//!   `/login?next=…`) and reads through the visibility-checked reads of `pipewise_app::ops`, so
//!   a deal the reader may not see is the same 404 page as a missing one.
//! - Every write goes through `ops` with `viewer.ctx(Source::Web, now)`, so rights and the audit
//!   log apply; forms carry the session's CSRF token, which [`crate::auth::csrf_guard`] checks.
//! - Templates are minijinja with HTML auto-escaping ([`render`]); strings come from
//!   [`crate::i18n`]. Scripts and styles are our own files plus SortableJS, served from
//!   `/assets/` ([`assets`]) under a content-hashed name; the Content-Security-Policy allows
//!   nothing else.

mod admin;
mod assets;
mod board;
mod board_quick;
mod capture;
mod dashboard;
mod data;
mod deal;
mod deals;
mod deals_quick;
mod designer;
mod digest;
mod download;
mod form;
mod forms;
mod gates;
mod import;
mod leads;
mod list;
mod organisation;
mod pay;
mod plan_builder;
mod quadrant;
mod quotas;
mod records;
mod render;
mod routing;
mod session;
mod settings;
mod tasks;
mod today;
mod webhooks;
mod workspace;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use pipewise_core::user::Locale;

use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, blocking};
use crate::i18n;

pub use assets::asset_url;
pub use digest::{Digest, compose as compose_digest};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/today") }))
        .route("/login", get(session::login_form).post(session::sign_in))
        .route("/logout", post(session::sign_out))
        .route("/account", get(session::account))
        .route("/account/password", post(session::change_password))
        .route("/account/preferences", post(session::save_preferences))
        .route("/account/tokens", post(session::create_token))
        .route("/account/tokens/{id}/revoke", post(session::revoke_token))
        .route("/board", get(board::board))
        .route("/dashboard", get(dashboard::dashboard))
        .route("/opportunities", get(deals::list))
        .route("/opportunities/{id}", get(deal::show).post(deal::update))
        .route("/opportunities/{id}/stage", get(deal::move_form).post(deal::move_stage))
        .route("/opportunities/{id}/criteria/{criterion}/check", post(deal::check_criterion))
        .route("/opportunities/{id}/criteria/{criterion}/uncheck", post(deal::uncheck_criterion))
        .route("/opportunities/{id}/workspace/{part}", post(deal::update_workspace))
        .route("/opportunities/{id}/handoff", post(deal::hand_off))
        .route("/opportunities/{id}/shares", post(deal::share))
        .route("/opportunities/{id}/splits", post(deal::set_splits))
        .route("/opportunities/{id}/billing", post(deal::set_billing))
        .route("/opportunities/{id}/shares/{user}/remove", post(deal::unshare))
        .route("/accounts", get(records::accounts))
        .route("/pick/accounts", get(records::pick_accounts))
        .route("/pick/users", get(records::pick_users))
        .route("/accounts/{id}", get(records::account))
        .route("/contacts", get(records::contacts))
        .route("/contacts/{id}", get(records::contact))
        .route("/leads", get(leads::leads))
        .route("/leads/routing", get(routing::show).post(routing::save))
        .route("/leads/forms", post(forms::create))
        .route("/leads/forms/{id}/{action}", post(forms::act))
        .route("/f/{key}", get(forms::show).post(forms::submit))
        .route("/leads/{id}", get(leads::lead))
        .route("/leads/{id}/convert", post(leads::convert))
        .route("/leads/{id}/attempts", post(leads::log_attempt))
        .route("/leads/{id}/close_out", post(leads::close_out))
        .route("/leads/{id}/qualification", post(leads::qualify))
        .route("/tasks", get(tasks::tasks))
        .route("/today", get(today::today))
        .route("/today/touch", post(today::log_touch))
        .route("/capture", get(capture::show))
        .route("/activities/{id}/rating", post(capture::rate))
        .route("/capture/mailbox", post(capture::connect_mailbox))
        .route("/capture/run", post(capture::run).layer(axum::extract::DefaultBodyLimit::max(capture::MAX_FILE_BYTES)))
        .route("/admin/users", get(admin::users))
        .route("/admin/audit", get(admin::audit))
        .route("/admin/pipelines", get(designer::pipelines).post(designer::create))
        .route("/admin/pipelines/{id}", get(designer::pipeline).post(designer::update))
        .route("/admin/pipelines/{id}/stages", post(designer::add_stage))
        .route("/admin/pipelines/{id}/stages/{stage}", post(designer::update_stage))
        .route("/admin/pipelines/{id}/stages/{stage}/move", post(designer::move_stage))
        .route("/admin/pipelines/{id}/stages/{stage}/archive", post(designer::archive_stage))
        .route("/admin/pipelines/{id}/criteria", post(designer::add_criterion))
        .route("/admin/pipelines/{id}/criteria/{criterion}/archive", post(designer::archive_criterion))
        .route("/performance", get(dashboard::performance))
        .route("/forecast", get(dashboard::forecast))
        .route("/forecast/call", post(dashboard::forecast_call))
        .route("/pay", get(pay::show))
        .route("/pay/compute", post(pay::compute))
        .route("/pay/plans", post(pay::save_plan))
        .route("/pay/plans/build", get(plan_builder::show).post(plan_builder::save))
        .route("/pay/assignments", post(pay::assign))
        .route("/pay/statements/{id}", get(pay::print))
        .route("/pay/statements/{id}/csv", get(pay::csv))
        .route("/pay/statements/{id}/lock", post(pay::lock))
        .route("/pay/statements/{id}/disputes", post(pay::dispute))
        .route("/pay/disputes/{id}", post(pay::move_dispute))
        .route("/quotas", get(quotas::show).post(quotas::save))
        .route("/quotas/fiscal-year", post(quotas::fiscal_year))
        .route("/quotas/seasonal", post(quotas::seasonal))
        .route("/quotas/import", post(quotas::import))
        .route("/admin/organisation", get(organisation::show).post(organisation::save))
        .route("/admin/import", get(import::show))
        .route("/admin/export/{file}", get(import::export))
        .route("/admin/import/run", post(import::run).layer(axum::extract::DefaultBodyLimit::max(import::MAX_FILE_BYTES)))
        .route("/admin/webhooks", get(webhooks::show).post(webhooks::create))
        .route("/admin/webhooks/{id}/{action}", post(webhooks::act))
        .route("/admin/health", get(settings::show).post(settings::save))
        .route("/admin/health/reset", post(settings::reset))
        .route("/assets/{file}", get(assets::serve))
        .fallback(not_found)
        .layer(axum::middleware::map_response(security_headers))
}

/// Any address no route serves: the app's own not-found page, in the reader's language (with
/// the navigation when they are signed in), or a problem+json 404 under `/api/`.
async fn not_found(state: axum::extract::State<AppState>, request: axum::extract::Request) -> Response {
    let (mut parts, _) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let error = AppError::NotFound { kind: "page", id: path.clone() };
    if path.starts_with("/api/") {
        return error.into_response();
    }
    let viewer = Viewer::from_request_parts(&mut parts, &state).await.ok();
    let locale = viewer.as_ref().map_or_else(|| request_locale(&parts.headers), |viewer| viewer.user.locale);
    render::error_page(viewer.as_ref(), locale, error)
}

/// What every page response carries: a strict Content-Security-Policy (our own scripts and
/// styles only, no inline code), no framing, no MIME sniffing, and no caching of pages.
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
        ),
    );
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// A signed-in reader of a page. Without a valid session the request is sent to the sign-in
/// page, which comes back here afterwards; a script asking for JSON gets 401 instead.
pub struct SignedIn(pub Viewer);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<SignedIn, Response> {
        match Viewer::from_request_parts(parts, state).await {
            Ok(viewer) => Ok(SignedIn(viewer)),
            Err(AppError::Unauthenticated) if wants_json(&parts.headers) => Err(AppError::Unauthenticated.into_response()),
            Err(AppError::Unauthenticated) => {
                let target = parts.uri.path_and_query().map_or("/board", |value| value.as_str());
                let query = serde_urlencoded::to_string([("next", target)]).unwrap_or_default();
                Err(Redirect::to(&format!("/login?{query}")).into_response())
            }
            Err(error) => Err(render::error_page(None, request_locale(&parts.headers), error)),
        }
    }
}

/// The language of a page for a reader who is not signed in.
pub fn request_locale(headers: &HeaderMap) -> Locale {
    i18n::locale_from_accept_language(headers.get(header::ACCEPT_LANGUAGE).and_then(|value| value.to_str().ok()))
}

/// Whether the request comes from our script and wants a JSON answer.
pub fn wants_json(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|value| value.to_str().ok()).is_some_and(|accept| accept.starts_with("application/json"))
}

/// A page's answer: the rendered response, or an error shown as an HTML page in the reader's
/// language.
pub fn respond(viewer: &Viewer, result: Result<Response, AppError>) -> Response {
    match result {
        Ok(response) => response,
        Err(error) => render::error_page(Some(viewer), viewer.user.locale, error),
    }
}

/// Runs a page's work as `viewer` off the async runtime and answers with its response, or with
/// its error as a page ([`respond`]).
pub async fn answer(viewer: Viewer, work: impl FnOnce(&Viewer) -> Result<Response, AppError> + Send + 'static) -> Response {
    let reader = viewer.clone();
    let result = blocking(move || work(&reader)).await;
    respond(&viewer, result)
}

/// The positive id a path names; any other text is the 404 of a `kind` that does not exist.
pub fn path_id(raw: &str, kind: &'static str) -> Result<i64, AppError> {
    raw.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| AppError::NotFound { kind, id: raw.to_owned() })
}

/// `303 See Other` to `location`: the answer to a successful form post.
pub fn see_other(location: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, location.to_owned())]).into_response()
}

/// Query string or form fields, in order; the first non-empty value of a name wins.
#[derive(Clone, Debug, Default)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn parse(raw: Option<&str>) -> Params {
        Params(raw.map(|raw| serde_urlencoded::from_str(raw).unwrap_or_default()).unwrap_or_default())
    }

    pub fn from_body(body: &[u8]) -> Params {
        Params(serde_urlencoded::from_bytes(body).unwrap_or_default())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(key, value)| key == name && !value.trim().is_empty()).map(|(_, value)| value.trim())
    }

    /// The raw value as typed, empty when absent.
    pub fn raw(&self, name: &str) -> &str {
        self.0.iter().find(|(key, _)| key == name).map_or("", |(_, value)| value.as_str())
    }

    pub fn id(&self, name: &str) -> Option<i64> {
        self.get(name)?.parse().ok().filter(|id| *id > 0)
    }

    /// Every positive id given under `name` (a group of checkboxes).
    pub fn ids(&self, name: &str) -> Vec<i64> {
        self.0.iter().filter(|(key, _)| key == name).filter_map(|(_, value)| value.trim().parse().ok()).filter(|id| *id > 0).collect()
    }
}

/// `path?query` from pairs, leaving out empty values.
pub fn url_with(path: &str, pairs: &[(&str, String)]) -> String {
    let kept: Vec<(&str, &str)> = pairs.iter().filter(|(_, value)| !value.is_empty()).map(|(key, value)| (*key, value.as_str())).collect();
    if kept.is_empty() { path.to_owned() } else { format!("{path}?{}", serde_urlencoded::to_string(kept).unwrap_or_default()) }
}

/// Whether `next` is a path on this site (not `//evil.example` or `https://…`).
pub fn is_local_path(next: &str) -> bool {
    next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") && !next.chars().any(|c| c.is_control() || c == '\\')
}

/// Two letters for an avatar: `Mina Manager` → `MM`, `김영업` → `김영`.
pub fn initials(name: &str) -> String {
    let words: Vec<&str> = name.split_whitespace().collect();
    match words.as_slice() {
        [] => "?".to_owned(),
        [one] => one.chars().take(2).collect(),
        [first, .., last] => first.chars().take(1).chain(last.chars().take(1)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        for good in ["/board", "/opportunities/5?as_of=2026-01-01", "/"] {
            assert!(is_local_path(good), "{good}");
        }
        for bad in ["//evil.example", "https://evil.example", "/\\evil.example", "board", "", "/x\ny"] {
            assert!(!is_local_path(bad), "{bad:?}");
        }
    }

    #[test]
    fn urls_keep_non_empty_pairs() {
        assert_eq!(url_with("/opportunities", &[("q", "a b&c".into()), ("owner", String::new())]), "/opportunities?q=a+b%26c");
        assert_eq!(url_with("/x", &[]), "/x");
        assert_eq!(initials("Mina Manager"), "MM");
        assert_eq!(initials("김영업"), "김영");
    }
}
