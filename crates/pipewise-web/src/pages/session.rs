//! Signing in and out, and the reader's own account: password and API tokens.

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use pipewise_app as app;
use pipewise_core::history::Source;
use pipewise_core::user::Locale;
use serde::Serialize;

use super::form::{Refusal, error_message, refusal};
use super::render::{self, Chrome};
use super::{Params, SignedIn, answer, is_local_path, request_locale, respond, see_other};
use crate::auth::{self, Viewer};
use crate::error::{AppError, blocking};
use crate::i18n::{self, t};
use crate::{AppState, ClientAddress};

#[derive(Serialize)]
struct LoginView {
    email: String,
    next: String,
    error: Option<String>,
    notice: Option<String>,
}

fn login_page(locale: Locale, status: StatusCode, view: &LoginView) -> Response {
    let chrome = Chrome::new(None, locale, "login", t(locale, "login.title").to_owned());
    match render::render("login.html", locale, &chrome, view) {
        Ok(body) => render::html(status, body),
        Err(error) => render::error_page(None, locale, error),
    }
}

fn safe_next(next: Option<&str>) -> String {
    next.filter(|next| is_local_path(next)).unwrap_or("/today").to_owned()
}

/// The sign-in form, in the browser's language; a signed-in reader goes straight on.
pub async fn login_form(State(state): State<AppState>, RawQuery(query): RawQuery, request: Request) -> Response {
    let params = Params::parse(query.as_deref());
    let (mut parts, _) = request.into_parts();
    if Viewer::from_request_parts(&mut parts, &state).await.is_ok() {
        return see_other(&safe_next(params.get("next")));
    }
    let locale = request_locale(&parts.headers);
    let notice = params.get("signed_out").map(|_| t(locale, "login.signed_out").to_owned());
    let view = LoginView { email: String::new(), next: safe_next(params.get("next")), error: None, notice };
    login_page(locale, StatusCode::OK, &view)
}

/// Checks the password, starts a session and goes to `next` (a local path only). A wrong
/// password shows the form again with the e-mail kept; too many failures are refused for a while.
pub async fn sign_in(State(state): State<AppState>, headers: HeaderMap, request: Request) -> Response {
    let locale = request_locale(&headers);
    let client = crate::client_address(&state.trusted_proxies, request.headers(), request.extensions());
    let body = match axum::body::to_bytes(request.into_body(), crate::MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(_) => return render::error_page(None, locale, AppError::BadRequest("the request body is too large".into())),
    };
    let form = Params::from_body(&body);
    let email = form.raw("email").trim().to_owned();
    let password = form.raw("password").to_owned();
    let next = safe_next(form.get("next"));
    // A flood of attempts waits for argon2 in a short queue, not in hundreds of threads.
    let Some(_turn) = SignInTurn::take() else {
        let view = LoginView { email, next, error: Some(t(locale, "login.busy").to_owned()), notice: None };
        let mut response = login_page(locale, StatusCode::SERVICE_UNAVAILABLE, &view);
        response.headers_mut().insert(header::RETRY_AFTER, axum::http::HeaderValue::from_static("1"));
        return response;
    };
    let store = state.db.clone();
    let now = state.now();
    let attempt_email = email.clone();
    let result = blocking(move || auth::sign_in(&store, &attempt_email, &password, &client, now)).await;
    match result {
        Ok(signed_in) => {
            let cookie = auth::session_cookie(&signed_in.secret, state.secure_cookies);
            let mut response = see_other(&next);
            if let Ok(value) = cookie.parse() {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Err(AppError::Forbidden(_)) => {
            let view = LoginView { email, next, error: Some(t(locale, "login.wrong").to_owned()), notice: None };
            login_page(locale, StatusCode::UNAUTHORIZED, &view)
        }
        Err(AppError::Throttled { retry_after_seconds }) => {
            let view = LoginView { email, next, error: Some(throttled(locale, retry_after_seconds)), notice: None };
            let mut response = login_page(locale, StatusCode::TOO_MANY_REQUESTS, &view);
            if let Ok(value) = retry_after_seconds.to_string().parse() {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        Err(error) => render::error_page(None, locale, error),
    }
}

/// A place among the sign-ins being checked: at most [`SignInTurn::MAX`] at once in this process
/// (argon2 itself runs one per core; see `pipewise_app::auth`).
struct SignInTurn;

static SIGN_INS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl SignInTurn {
    const MAX: usize = 16;

    fn take() -> Option<SignInTurn> {
        use std::sync::atomic::Ordering;
        SIGN_INS.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < Self::MAX).then_some(n + 1)).ok().map(|_| SignInTurn)
    }
}

impl Drop for SignInTurn {
    fn drop(&mut self) {
        SIGN_INS.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

/// Ends the session (CSRF-protected like every form) and clears the cookie.
pub async fn sign_out(State(state): State<AppState>, SignedIn(viewer): SignedIn) -> Response {
    let store = state.db.clone();
    let now = state.now();
    let ended = viewer.clone();
    let result = blocking(move || auth::sign_out(&store, &ended, now)).await;
    if let Err(error) = result {
        return respond(&viewer, Err(error));
    }
    let mut response = see_other("/login?signed_out=1");
    if let Ok(value) = auth::clear_session_cookie(state.secure_cookies).parse() {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

#[derive(Serialize, Default)]
struct AccountView {
    name: String,
    email: String,
    role: String,
    time_zone: String,
    notice: Option<String>,
    password_error: Option<String>,
    token_error: Option<String>,
    token_name: String,
    new_token: Option<String>,
    tokens: Vec<TokenView>,
    /// The tokens a password change would revoke, to tick the ones to keep.
    live_tokens: Vec<TokenView>,
    min_password: usize,
    locale_value: String,
    locales: Vec<super::list::Choice>,
    preferences_error: Option<String>,
}

#[derive(Clone, Serialize)]
struct TokenView {
    id: i64,
    name: String,
    prefix: String,
    created_at: String,
    last_used_at: String,
    revoked: bool,
}

fn account_view(state: &AppState, viewer: &Viewer) -> Result<AccountView, AppError> {
    let locale = viewer.user.locale;
    let zone = viewer.user.time_zone.as_str();
    let mut tokens = app::auth::api_tokens(&mut state.db.read()?, viewer.org, viewer.user.id)?;
    tokens.sort_by_key(|token| std::cmp::Reverse(token.created_at));
    let tokens: Vec<TokenView> = tokens
        .into_iter()
        .map(|token| TokenView {
            id: token.id,
            name: token.name,
            prefix: token.prefix,
            created_at: i18n::timestamp(locale, token.created_at, zone),
            last_used_at: token.last_used_at.map_or_else(|| t(locale, "account.never").to_owned(), |at| i18n::timestamp(locale, at, zone)),
            revoked: token.revoked_at.is_some(),
        })
        .collect();
    Ok(AccountView {
        name: viewer.user.name.clone(),
        email: viewer.user.email.clone(),
        role: t(locale, &format!("role.{}", viewer.user.role.as_str())).to_owned(),
        time_zone: viewer.user.time_zone.clone(),
        live_tokens: tokens.iter().filter(|token| !token.revoked).cloned().collect(),
        tokens,
        min_password: auth::MIN_PASSWORD_LENGTH,
        locale_value: viewer.user.locale.as_str().to_owned(),
        locales: [Locale::En, Locale::Ko]
            .into_iter()
            .map(|choice| super::list::Choice {
                value: choice.as_str().to_owned(),
                label: t(locale, &format!("locale.{}", choice.as_str())).to_owned(),
            })
            .collect(),
        ..AccountView::default()
    })
}

fn account_page(viewer: &Viewer, status: StatusCode, view: &AccountView) -> Result<Response, AppError> {
    render::page(viewer, status, "account.html", "account", t(viewer.user.locale, "account.title").to_owned(), view)
}

pub async fn account(State(state): State<AppState>, SignedIn(viewer): SignedIn, RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query.as_deref());
    let locale = viewer.user.locale;
    answer(viewer, move |reader| {
        let mut view = account_view(&state, reader)?;
        view.notice = if params.get("password_changed").is_some() {
            Some(t(locale, "account.password_changed").to_owned())
        } else if params.get("preferences_saved").is_some() {
            Some(t(locale, "account.preferences_saved").to_owned())
        } else if params.get("revoked").is_some() {
            Some(t(locale, "account.token_revoked_done").to_owned())
        } else {
            None
        };
        account_page(reader, StatusCode::OK, &view)
    })
    .await
}

pub async fn change_password(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    ClientAddress(client): ClientAddress,
    body: Bytes,
) -> Response {
    let form = Params::from_body(&body);
    let locale = viewer.user.locale;
    answer(viewer, move |reader| {
        let new = form.raw("new_password");
        let keep_tokens = form.ids("keep_token");
        let change =
            auth::PasswordChange { current: form.raw("current_password"), new, keep_tokens: &keep_tokens, client_address: &client };
        let problem = if new != form.raw("confirm_password") {
            Some(t(locale, "account.password_mismatch").to_owned())
        } else {
            match auth::change_password(&state.db, reader, &change, state.now()) {
                Ok(()) => return Ok(see_other("/account?password_changed=1")),
                Err(AppError::Throttled { retry_after_seconds }) => Some(throttled(locale, retry_after_seconds)),
                Err(error) => match refusal(error)? {
                    Refusal::Forbidden(_) => Some(t(locale, "account.password_wrong").to_owned()),
                    Refusal::Invalid(_) => {
                        Some(i18n::tf(locale, "account.password_short", &[("min", &auth::MIN_PASSWORD_LENGTH.to_string())]))
                    }
                    other => return Err(other.into()),
                },
            }
        };
        let mut view = account_view(&state, reader)?;
        view.password_error = problem;
        account_page(reader, StatusCode::UNPROCESSABLE_ENTITY, &view)
    })
    .await
}

/// "Try again in … seconds", for a throttled password.
fn throttled(locale: Locale, seconds: u64) -> String {
    i18n::tf(locale, "login.throttled", &[("seconds", &seconds.to_string())])
}

/// Creates a token once the password is given again, and shows its secret once, on this
/// response only.
pub async fn create_token(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    ClientAddress(client): ClientAddress,
    body: Bytes,
) -> Response {
    let form = Params::from_body(&body);
    let locale = viewer.user.locale;
    answer(viewer, move |reader| {
        let name = form.raw("name").to_owned();
        let password = form.raw("password");
        let source = pipewise_core::history::Source::Web;
        match auth::create_api_token(&state.db, reader, &name, password, &client, source, state.now()) {
            Ok((_, secret)) => {
                let mut view = account_view(&state, reader)?;
                view.new_token = Some(secret);
                account_page(reader, StatusCode::OK, &view)
            }
            Err(error) => {
                let message = match error {
                    AppError::Throttled { retry_after_seconds } => throttled(locale, retry_after_seconds),
                    AppError::Forbidden(_) => t(locale, "account.password_wrong").to_owned(),
                    // The name is the form's only other field, so its one problem.
                    error => error_message(locale, error, None)?,
                };
                let mut view = account_view(&state, reader)?;
                view.token_error = Some(message);
                view.token_name = name;
                account_page(reader, StatusCode::UNPROCESSABLE_ENTITY, &view)
            }
        }
    })
    .await
}

pub async fn revoke_token(State(state): State<AppState>, SignedIn(viewer): SignedIn, Path(id): Path<i64>) -> Response {
    answer(viewer, move |reader| {
        auth::revoke_api_token(&state.db, reader, id, pipewise_core::history::Source::Web, state.now())?;
        Ok(see_other("/account?revoked=1"))
    })
    .await
}

/// Saves the reader's language and time zone.
pub async fn save_preferences(State(state): State<AppState>, SignedIn(viewer): SignedIn, body: Bytes) -> Response {
    let form = Params::from_body(&body);
    answer(viewer, move |reader| {
        let locale = reader.user.locale;
        let new_locale = Locale::parse(form.raw("locale")).ok();
        let patch = pipewise_core::records::UserPatch {
            locale: new_locale,
            time_zone: Some(form.raw("time_zone").to_owned()),
            ..pipewise_core::records::UserPatch::default()
        };
        let saved = state.db.transact(|tx| app::users::update_user(tx, &reader.ctx(Source::Web, state.now()), reader.user.id, &patch));
        match saved {
            Ok(_) => Ok(see_other("/account?preferences_saved=1")),
            Err(error) => {
                let message = error_message(locale, error, None)?;
                let mut view = account_view(&state, reader)?;
                view.preferences_error = Some(message);
                view.time_zone = form.raw("time_zone").to_owned();
                account_page(reader, StatusCode::UNPROCESSABLE_ENTITY, &view)
            }
        }
    })
    .await
}
