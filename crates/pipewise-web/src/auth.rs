//! Signing in and knowing who is asking.
//!
//! - Passwords are hashed with argon2id, m = 19 MiB, t = 2, p = 1 (OWASP's recommended minimum),
//!   stored as PHC strings; every attempt runs exactly one verification (a decoy when the
//!   address is unknown), so timing does not reveal which addresses have accounts.
//! - A session is a random 256-bit secret in an HttpOnly, SameSite=Lax cookie; behind TLS
//!   (`pipewise serve --secure-cookies`) it is `Secure` and named `__Host-pipewise_session`, so
//!   no subdomain or plain-HTTP page can set it. The database keeps only its SHA-256. Signing in
//!   always starts a new session, so a session id planted before sign-in is worthless (no
//!   fixation). Sessions slide, 14 days after the last request, and end 30 days after sign-in
//!   whatever happens.
//! - Every state-changing request made with a session cookie must carry the session's CSRF
//!   token (form field `csrf_token` or header `X-CSRF-Token`), and no browser request started
//!   by another site may change anything, sign-in included: see [`csrf_guard`].
//! - API tokens (`Authorization: Bearer pwt_…`) are created only after the password is given
//!   again, are shown once, stored as SHA-256, act with their owner's rights, and stop working
//!   the moment they are revoked. Changing the password revokes them all but those the user
//!   keeps on purpose.
//! - Failed sign-ins slow an attacker down without locking the owner out: the rules are in
//!   [`pipewise_app::auth::sign_in_wait`], and guard a password change and a new token too.
//!   The client address ([`crate::client_address`]) is the TCP peer, or,
//!   when the peer is a trusted reverse proxy (`pipewise serve --trusted-proxy`), the address
//!   it forwarded in `X-Forwarded-For` ([`crate::proxy`] has the rule); sessions record the
//!   same address.
//! - Known limits: without `--trusted-proxy`, users behind a proxy share its address, so their
//!   failures count together and sessions record the proxy; a trusted proxy that forwards no
//!   usable address is counted as the client itself. The `Forwarded` header (RFC 7239) is not
//!   read. A burst of parallel attempts can pass the count before the failures are recorded.

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use pipewise_app as app;
use pipewise_app::{ApiToken, Db, Session, WriteCtx};
use pipewise_core::access::Access;
use pipewise_core::history::Source;
use pipewise_core::user::User;
use pipewise_core::{OrgId, Timestamp, Zone};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::{AppError, blocking};

/// The session cookie's name over plain HTTP.
pub const SESSION_COOKIE: &str = "pipewise_session";
/// Its name behind TLS: browsers accept it only `Secure`, for `/`, from this host alone.
pub const SECURE_SESSION_COOKIE: &str = "__Host-pipewise_session";
/// A session ends this many days after its last request…
pub const SESSION_DAYS: i64 = 14;
/// …and at the latest this many days after sign-in.
pub const SESSION_MAX_DAYS: i64 = 30;
pub use pipewise_app::auth::{FAILURE_WINDOW_SECONDS, MAX_FAILURES_PER_CLIENT, MIN_PASSWORD_LENGTH};
use pipewise_app::auth::{hash_password, verify_password};

/// The session cookie's name: [`SECURE_SESSION_COOKIE`] when cookies are `Secure`.
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure { SECURE_SESSION_COOKIE } else { SESSION_COOKIE }
}

/// A hash to verify against when the e-mail is unknown, so timing does not tell.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("not a real password, only for timing").unwrap_or_default())
}

/// `prefix` followed by 256 random bits in hex.
pub fn new_secret(prefix: &str) -> Result<String, AppError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|error| AppError::Internal(format!("no randomness: {error}")))?;
    Ok(format!("{prefix}{}", hex(&bytes)))
}

pub fn sha256_hex(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Who is asking, and what they may do.
#[derive(Clone, Debug)]
pub struct Viewer {
    pub org: OrgId,
    /// The organisation's time zone: its days, periods and "today".
    pub zone: Zone,
    pub user: User,
    pub access: Access,
    pub via: Via,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Via {
    /// A browser session: its stored hash and CSRF token.
    Session { token_hash: String, csrf_token: String },
    /// An API token, by id.
    Token { id: i64 },
}

impl Viewer {
    /// The write context for something this viewer does through `source`.
    pub fn ctx(&self, source: Source, at: Timestamp) -> WriteCtx {
        WriteCtx { org: self.org, actor_id: Some(self.user.id), source, at }
    }

    /// Today in the organisation's time zone.
    pub fn today(&self, now: Timestamp) -> pipewise_core::Date {
        self.zone.date_of(now)
    }

    pub fn csrf_token(&self) -> Option<&str> {
        match &self.via {
            Via::Session { csrf_token, .. } => Some(csrf_token),
            Via::Token { .. } => None,
        }
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

/// Resolves the viewer of a request from its bearer token or session cookie.
pub async fn viewer_of(state: &AppState, headers: &HeaderMap) -> Result<Viewer, AppError> {
    let now = state.now();
    let store = state.db.clone();
    if let Some(token) = bearer(headers) {
        let token_hash = sha256_hex(token);
        return blocking(move || {
            let mut tx = store.read()?;
            let token =
                app::auth::api_token(&mut tx, &token_hash)?.filter(|token| token.revoked_at.is_none()).ok_or(AppError::Unauthenticated)?;
            let viewer = load_viewer(&mut tx, token.org, token.user_id, Via::Token { id: token.id })?;
            drop(tx);
            // Note the last use at most once a minute, so reads stay reads.
            if token.last_used_at.is_none_or(|last| now.as_micros() - last.as_micros() > 60_000_000) {
                store.transact(|tx| app::auth::touch_api_token(tx, token.id, now))?;
            }
            Ok(viewer)
        })
        .await;
    }
    let secret = cookie(headers, session_cookie_name(state.secure_cookies)).ok_or(AppError::Unauthenticated)?.to_owned();
    let token_hash = sha256_hex(&secret);
    blocking(move || {
        let mut tx = store.read()?;
        let session = app::auth::session(&mut tx, &token_hash)?
            .filter(|session| session.expires_at > now && now < last_moment(session))
            .ok_or(AppError::Unauthenticated)?;
        let via = Via::Session { token_hash: token_hash.clone(), csrf_token: session.csrf_token.clone() };
        let viewer = load_viewer(&mut tx, session.org, session.user_id, via)?;
        drop(tx);
        // Slide the expiry at most once a minute, so reads stay reads.
        if now.as_micros() - session.last_seen_at.as_micros() > 60_000_000 {
            let expires_at =
                Timestamp::from_micros(now.plus_seconds(SESSION_DAYS * 86_400).as_micros().min(last_moment(&session).as_micros()));
            store.transact(|tx| app::auth::touch_session(tx, &token_hash, now, expires_at))?;
        }
        Ok(viewer)
    })
    .await
}

/// The absolute end of a session, however active.
fn last_moment(session: &Session) -> Timestamp {
    session.created_at.plus_seconds(SESSION_MAX_DAYS * 86_400)
}

fn load_viewer(tx: &mut pipewise_app::Tx, org: OrgId, user_id: pipewise_core::UserId, via: Via) -> Result<Viewer, AppError> {
    let user = app::users::user(tx, org, user_id)?.filter(|user| user.active).ok_or(AppError::Unauthenticated)?;
    let access = app::access::access_for(tx, org, Some(user.id))?;
    let zone = app::users::zone(tx, org)?;
    Ok(Viewer { org, zone, user, access, via })
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Viewer, AppError> {
        if let Some(viewer) = parts.extensions.get::<Viewer>() {
            return Ok(viewer.clone());
        }
        let viewer = viewer_of(state, &parts.headers).await?;
        parts.extensions.insert(viewer.clone());
        Ok(viewer)
    }
}

/// A new session for a user who proved their password.
pub struct SignedIn {
    pub session: Session,
    /// The cookie's secret; only its hash is stored.
    pub secret: String,
}

/// Checks the password and starts a new session, throttling failures per account and per
/// client address. Every attempt is recorded; a success is audited.
pub fn sign_in(store: &Db, email: &str, password: &str, client_address: &str, now: Timestamp) -> Result<SignedIn, AppError> {
    let email = email.trim().to_lowercase();
    if let Some(wait) = app::auth::sign_in_wait(&mut store.read()?, &email, client_address, now)? {
        return Err(AppError::Throttled { retry_after_seconds: wait });
    }
    // Exactly one argon2 verification per attempt, whether or not the address is known, so the
    // answer's timing does not tell which addresses have accounts.
    let candidates = app::auth::users_by_email_everywhere(&mut store.read()?, &email)?;
    let mut with_hash = Vec::new();
    for (org, user) in candidates.into_iter().filter(|(_, user)| user.active) {
        if let Some(hash) = app::auth::password_hash(&mut store.read()?, org, user.id)? {
            with_hash.push((org, user, hash));
        }
    }
    let matched = match with_hash.as_slice() {
        [(org, user, hash)] => verify_password(password, hash).then(|| (*org, user.clone())),
        [] => {
            verify_password(password, decoy_hash());
            None
        }
        // The same address in several organisations: the first whose password matches.
        several => several.iter().find(|(_, _, hash)| verify_password(password, hash)).map(|(org, user, _)| (*org, user.clone())),
    };
    let Some((org, user)) = matched else {
        store.transact(|tx| app::auth::record_failed_sign_in(tx, &email, client_address, now))?;
        return Err(AppError::Forbidden("the e-mail address or password is wrong".into()));
    };
    let secret = new_secret("pws_")?;
    let session = Session {
        token_hash: sha256_hex(&secret),
        org,
        user_id: user.id,
        csrf_token: new_secret("")?,
        created_at: now,
        last_seen_at: now,
        expires_at: now.plus_seconds(SESSION_DAYS * 86_400),
        client_address: Some(client_address.to_owned()),
    };
    store.transact(|tx| app::auth::record_sign_in(tx, &session, &email, client_address))?;
    Ok(SignedIn { session, secret })
}

/// Ends the viewer's session (if they came with one) and audits it. An API token is not
/// ended by signing out: revoke it instead.
pub fn sign_out(store: &Db, viewer: &Viewer, now: Timestamp) -> Result<(), AppError> {
    let Via::Session { token_hash, .. } = &viewer.via else { return Ok(()) };
    store.transact(|tx| app::auth::end_session(tx, &viewer.ctx(Source::Web, now), token_hash))?;
    Ok(())
}

/// The `Set-Cookie` value for a new session.
pub fn session_cookie(secret: &str, secure: bool) -> String {
    let name = session_cookie_name(secure);
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}", SESSION_DAYS * 86_400)
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_session_cookie(secure: bool) -> String {
    let name = session_cookie_name(secure);
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}")
}

/// Checks the viewer's password given again (for a password change or a new token), under the
/// sign-in throttle; a wrong one counts as a failed sign-in from `client_address`.
pub fn confirm_password(store: &Db, viewer: &Viewer, password: &str, client_address: &str, now: Timestamp) -> Result<(), AppError> {
    let email = viewer.user.email.trim().to_lowercase();
    if let Some(wait) = app::auth::sign_in_wait(&mut store.read()?, &email, client_address, now)? {
        return Err(AppError::Throttled { retry_after_seconds: wait });
    }
    let stored = app::auth::password_hash(&mut store.read()?, viewer.org, viewer.user.id)?;
    if !stored.as_deref().is_some_and(|hash| verify_password(password, hash)) {
        store.transact(|tx| app::auth::record_failed_sign_in(tx, &email, client_address, now))?;
        return Err(AppError::Forbidden("the current password is wrong".into()));
    }
    Ok(())
}

/// Creates an API token for the viewer once they gave their password again; returns the secret,
/// shown once.
#[allow(clippy::too_many_arguments)]
pub fn create_api_token(
    store: &Db,
    viewer: &Viewer,
    name: &str,
    password: &str,
    client_address: &str,
    source: Source,
    now: Timestamp,
) -> Result<(ApiToken, String), AppError> {
    let name = pipewise_core::text::required(name, 100).map_err(|problem| {
        AppError::Invalid(
            pipewise_core::FieldError { record: pipewise_core::RecordRef::new_record("api token"), field: "name", problem }.into(),
        )
    })?;
    confirm_password(store, viewer, password, client_address, now)?;
    let secret = new_secret("pwt_")?;
    let mut token = ApiToken {
        id: 0,
        org: viewer.org,
        user_id: viewer.user.id,
        name,
        token_hash: sha256_hex(&secret),
        prefix: secret[..12].to_owned(),
        created_at: now,
        last_used_at: None,
        revoked_at: None,
    };
    token.id = store.transact(|tx| app::auth::create_api_token(tx, &viewer.ctx(source, now), &token))?;
    Ok((token, secret))
}

/// Revokes one of the viewer's tokens; it stops working at once.
pub fn revoke_api_token(store: &Db, viewer: &Viewer, id: i64, source: Source, now: Timestamp) -> Result<(), AppError> {
    store.transact(|tx| app::auth::revoke_api_token(tx, &viewer.ctx(source, now), id))?;
    Ok(())
}

/// What a password change keeps besides the password.
pub struct PasswordChange<'a> {
    pub current: &'a str,
    pub new: &'a str,
    /// The user's API tokens to keep working; every other live token is revoked.
    pub keep_tokens: &'a [i64],
    pub client_address: &'a str,
}

/// Changes the viewer's password after checking the current one (under the sign-in throttle),
/// ending their other sessions and revoking their API tokens but those kept on purpose.
pub fn change_password(store: &Db, viewer: &Viewer, change: &PasswordChange, now: Timestamp) -> Result<(), AppError> {
    let new = change.new;
    confirm_password(store, viewer, change.current, change.client_address, now)?;
    if new.chars().count() < MIN_PASSWORD_LENGTH {
        let message = pipewise_core::Message::new("rule.password_too_short").text("min", MIN_PASSWORD_LENGTH);
        let problem = pipewise_core::Problem::Fact(message);
        return Err(AppError::Invalid(
            pipewise_core::FieldError { record: pipewise_core::RecordRef::new("user", viewer.user.id.0), field: "password", problem }
                .into(),
        ));
    }
    let hash = hash_password(new)?;
    let keep = match &viewer.via {
        Via::Session { token_hash, .. } => Some(token_hash.as_str()),
        Via::Token { .. } => None,
    };
    store.transact(|tx| {
        let ctx = viewer.ctx(Source::Web, now);
        app::auth::set_password_hash(tx, &ctx, viewer.user.id, &hash, keep)?;
        app::auth::revoke_api_tokens_except(tx, &ctx, change.keep_tokens)
    })?;
    Ok(())
}

/// Refuses state-changing requests made with a session cookie unless they carry the session's
/// CSRF token, in the `X-CSRF-Token` header or a `csrf_token` form field. It fails closed: only
/// requests that are not signed in (no session, or one that expired or never existed) and
/// requests with a bearer token (which browsers never send on their own) pass without a token.
pub async fn csrf_guard(State(state): State<AppState>, request: Request, next: Next) -> Result<Response, AppError> {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if safe || bearer(request.headers()).is_some() {
        return Ok(next.run(request).await);
    }
    // Public lead forms (`/f/{key}`) are posted from the company's own web site, cross-site by
    // design; their handlers never read a session, so there is nothing to forge.
    if request.uri().path().starts_with("/f/") {
        return Ok(next.run(request).await);
    }
    // A browser says where a request came from: refuse state changes started by another site,
    // including the sign-in form (login CSRF), which has no session to carry a token yet.
    if is_cross_site(request.headers()) {
        if wants_html(request.headers()) {
            return Ok(csrf_refused_page());
        }
        return Err(AppError::Csrf);
    }
    if cookie(request.headers(), session_cookie_name(state.secure_cookies)).is_none() {
        return Ok(next.run(request).await);
    }
    let viewer = match viewer_of(&state, request.headers()).await {
        Ok(viewer) => viewer,
        // An expired or unknown session is not signed in: the handler answers 401 or sends the
        // browser to sign in, and writes nothing.
        Err(AppError::Unauthenticated) => return Ok(next.run(request).await),
        // Anything else (the database did not answer) fails closed.
        Err(error) => return Err(error),
    };
    let expected = viewer.csrf_token().unwrap_or_default().to_owned();
    let header_token = request.headers().get("x-csrf-token").and_then(|value| value.to_str().ok()).map(str::to_owned);
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
    let (mut parts, body) = request.into_parts();
    let (presented, body) = match header_token {
        Some(token) => (Some(token), body),
        None if is_form => {
            let bytes = axum::body::to_bytes(body, crate::MAX_BODY_BYTES)
                .await
                .map_err(|_| AppError::BadRequest("the request body is too large".into()))?;
            let token = form_field(&bytes, "csrf_token");
            (token, Body::from(bytes))
        }
        None => (None, body),
    };
    if !presented.is_some_and(|token| constant_time_eq(token.as_bytes(), expected.as_bytes())) || expected.is_empty() {
        if wants_html(&parts.headers) {
            return Ok(csrf_refused_page());
        }
        return Err(AppError::Csrf);
    }
    parts.extensions.insert(viewer);
    Ok(next.run(Request::from_parts(parts, body)).await)
}

/// Whether the browser reports the request as started by another site (`Sec-Fetch-Site`), or
/// its `Origin` names another host than the one it is sent to.
fn is_cross_site(headers: &HeaderMap) -> bool {
    let fetch_site = headers.get("sec-fetch-site").and_then(|value| value.to_str().ok());
    if fetch_site == Some("cross-site") {
        return true;
    }
    let origin_host =
        headers.get(header::ORIGIN).and_then(|value| value.to_str().ok()).and_then(|origin| origin.split_once("://")).map(|(_, host)| host);
    let host = headers.get(header::HOST).and_then(|value| value.to_str().ok());
    matches!((origin_host, host), (Some(origin), Some(host)) if origin != "null" && origin != host)
}

/// Whether a browser asked for a page rather than the API for JSON.
fn wants_html(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|value| value.to_str().ok()).is_some_and(|accept| accept.contains("text/html"))
}

/// A plain 403 page for a browser form that lost its CSRF token (e.g. an old tab).
fn csrf_refused_page() -> Response {
    let body = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Pipewise: form expired</title></head>\
        <body style=\"font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;line-height:1.5\">\
        <h1>This form has expired</h1><p>The form was missing its security token, or it came from an old page. \
        Nothing was saved. Go back, reload the page and try again.</p>\
        <p lang=\"ko\">양식의 보안 토큰이 없거나 만료되었습니다. 저장된 내용은 없습니다. 페이지를 새로 고친 뒤 다시 시도하세요.</p>\
        <p><a href=\"/\">Pipewise</a></p></body></html>";
    let mut response = (axum::http::StatusCode::FORBIDDEN, axum::response::Html(body)).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    response
}

fn form_field(body: &[u8], name: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
    pairs.into_iter().find(|(key, _)| key == name).map(|(_, value)| value)
}

fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    left.len() == right.len() && left.iter().zip(right).fold(0u8, |difference, (a, b)| difference | (a ^ b)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_hashed() {
        let secret = new_secret("pwt_").unwrap();
        assert_eq!(secret.len(), 4 + 64);
        assert_ne!(secret, new_secret("pwt_").unwrap());
        assert_eq!(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, "theme=dark; pipewise_session=pws_abc; other=1".parse().unwrap());
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("pws_abc"));
        assert_eq!(cookie(&headers, "missing"), None);
        assert_eq!(session_cookie("s", false), "pipewise_session=s; Path=/; HttpOnly; SameSite=Lax; Max-Age=1209600");
        // Behind TLS: Secure, and a __Host- name no subdomain or plain-HTTP page can set.
        assert_eq!(session_cookie("s", true), "__Host-pipewise_session=s; Path=/; HttpOnly; SameSite=Lax; Max-Age=1209600; Secure");
        assert_eq!(clear_session_cookie(true), "__Host-pipewise_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Secure");
    }
}
