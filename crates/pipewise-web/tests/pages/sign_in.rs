//! Signing in and out, and what a signed-out reader sees.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use pipewise_web::AppState;
use pipewise_web::auth::{FAILURE_WINDOW_SECONDS, MAX_FAILURES_PER_CLIENT};
use pipewise_web::proxy::TrustedProxies;

use crate::support::{App, PASSWORD, app, body_text, location};

#[tokio::test]
async fn signing_in_starts_a_session_and_follows_a_local_next() {
    let app = app();
    let next = "/opportunities?status=all";
    let response = app.post_form("/login", None, &[("email", "Rep@Pages.test"), ("password", PASSWORD), ("next", next)], false).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), next);
    let cookie = response.headers().get(header::SET_COOKIE).unwrap().to_str().unwrap();
    assert!(cookie.starts_with("pipewise_session=pws_") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    // Somewhere else is not followed.
    for foreign in ["//evil.example/board", "https://evil.example/"] {
        let response =
            app.post_form("/login", None, &[("email", "rep@pages.test"), ("password", PASSWORD), ("next", foreign)], false).await;
        assert_eq!(location(&response), "/today", "{foreign}");
    }
}

#[tokio::test]
async fn a_wrong_password_shows_the_form_again_with_the_email_kept() {
    let app = app();
    let response = app.post_form("/login", None, &[("email", "rep@pages.test"), ("password", "not it"), ("next", "/tasks")], false).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().get(header::SET_COOKIE).is_none());
    let body = body_text(response).await;
    assert!(body.contains("The e-mail address or password is wrong."), "{body}");
    assert!(body.contains(r#"value="rep@pages.test""#), "the e-mail is kept");
    assert!(body.contains(r#"name="next" value="&#x2f;tasks""#), "next is kept: {body}");
}

#[tokio::test]
async fn repeated_failures_are_slowed_down_not_locked_out() {
    let app = app();
    for attempt in 1..=pipewise_app::auth::FREE_FAILURES {
        let response = app.post_form("/login", None, &[("email", "rep@pages.test"), ("password", "guess")], false).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    // The next attempt, even with the right password, waits two seconds after the last failure
    // (the test clock stands still), not fifteen minutes.
    let response = app.post_form("/login", None, &[("email", "rep@pages.test"), ("password", PASSWORD)], false).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "2");
    let body = body_text(response).await;
    assert!(body.contains("Too many failed sign-ins. Try again in 2 seconds."), "{body}");
}

/// The test app, believing `X-Forwarded-For` from `trusted` (empty: from nobody).
fn app_trusting(trusted: &[&str]) -> App {
    let mut app = app();
    let mut state = AppState::new(pipewise_app::Db::new(app.store.clone()));
    let now = app.now;
    state.clock = Arc::new(move || now);
    state.trusted_proxies = TrustedProxies::new(trusted.iter().map(|range| range.parse().expect("a range")));
    app.router = pipewise_web::router(state);
    app
}

/// A sign-in as it reaches the server over a connection from `peer`, with the
/// `X-Forwarded-For` header `forwarded_for`. Returns the status and the `Set-Cookie` value.
async fn sign_in_from(app: &App, peer: &str, forwarded_for: &str, email: &str, password: &str) -> (StatusCode, Option<String>) {
    let body = serde_urlencoded::to_string([("email", email), ("password", password)]).unwrap();
    let mut request = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("x-forwarded-for", forwarded_for)
        .body(Body::from(body))
        .unwrap();
    request.extensions_mut().insert(ConnectInfo(SocketAddr::new(peer.parse().unwrap(), 50_000)));
    let response = app.send(request).await;
    let cookie = response.headers().get(header::SET_COOKIE).map(|value| value.to_str().unwrap().to_owned());
    (response.status(), cookie)
}

/// Failures and successes recorded under `client_address` in the throttling window.
fn failures_from(app: &App, client_address: &str) -> i64 {
    let since = app.now.plus_seconds(-FAILURE_WINDOW_SECONDS);
    app.store.read().unwrap().failed_logins_since("nobody@pages.test", client_address, since).unwrap().1
}

/// The client address recorded with the session a `Set-Cookie` value starts.
fn session_address(app: &App, set_cookie: &str) -> Option<String> {
    let secret = set_cookie.split(';').next().unwrap().trim_start_matches("pipewise_session=");
    app.store.read().unwrap().session(&pipewise_web::auth::sha256_hex(secret)).unwrap().expect("a session").client_address
}

#[tokio::test]
async fn behind_a_trusted_proxy_failures_are_throttled_per_forwarded_client() {
    let app = app_trusting(&["10.0.0.0/8", "::1"]);
    // One client guesses at many accounts through the proxy (10.0.0.5), which appends its
    // address (198.51.100.7) to whatever the client sent, which varies and is not believed.
    for attempt in 0..MAX_FAILURES_PER_CLIENT {
        let forwarded_for = format!("192.0.2.{attempt}, 198.51.100.7");
        let email = format!("nobody{attempt}@pages.test");
        let (status, _) = sign_in_from(&app, "10.0.0.5", &forwarded_for, &email, "guess").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    assert_eq!(failures_from(&app, "198.51.100.7"), MAX_FAILURES_PER_CLIENT);
    assert_eq!(failures_from(&app, "10.0.0.5"), 0, "nothing is counted against the proxy");
    // That client is throttled now, even with a right password, whichever proxy it comes through
    let (status, _) = sign_in_from(&app, "10.0.0.6", "198.51.100.7", "rep@pages.test", PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let (status, _) = sign_in_from(&app, "::1", "198.51.100.7", "rep@pages.test", PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // Everyone else behind the same proxy signs in, and the session records their address.
    let (status, cookie) = sign_in_from(&app, "10.0.0.5", "203.0.113.9", "rep@pages.test", PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(session_address(&app, &cookie.unwrap()).as_deref(), Some("203.0.113.9"));
    let (status, cookie) = sign_in_from(&app, "::1", "2001:db8::7", "manager@pages.test", PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(session_address(&app, &cookie.unwrap()).as_deref(), Some("2001:db8::7"));
}

#[tokio::test]
async fn x_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy() {
    // Without --trusted-proxy, every user behind a proxy shares its address, whatever the
    // header says: the limit before this change, still the behaviour by default.
    let app = app_trusting(&[]);
    for attempt in 0..MAX_FAILURES_PER_CLIENT {
        let forwarded_for = format!("198.51.100.{attempt}");
        let (status, _) = sign_in_from(&app, "10.0.0.5", &forwarded_for, &format!("nobody{attempt}@pages.test"), "guess").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    assert_eq!(failures_from(&app, "10.0.0.5"), MAX_FAILURES_PER_CLIENT);
    let (status, _) = sign_in_from(&app, "10.0.0.5", "203.0.113.9", "rep@pages.test", PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let (status, cookie) = sign_in_from(&app, "10.0.0.6", "203.0.113.9", "rep@pages.test", PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(session_address(&app, &cookie.unwrap()).as_deref(), Some("10.0.0.6"), "the peer, not the header");

    // With trusted proxies, a client that is not one cannot escape its count by sending the
    // header itself.
    let app = app_trusting(&["10.0.0.0/8"]);
    for attempt in 0..MAX_FAILURES_PER_CLIENT {
        let forwarded_for = format!("198.51.100.{attempt}");
        let (status, _) = sign_in_from(&app, "192.0.2.66", &forwarded_for, &format!("nobody{attempt}@pages.test"), "guess").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    assert_eq!(failures_from(&app, "192.0.2.66"), MAX_FAILURES_PER_CLIENT);
    let (status, _) = sign_in_from(&app, "192.0.2.66", "203.0.113.9", "rep@pages.test", PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn pages_send_signed_out_readers_to_sign_in() {
    let app = app();
    let deal = app.create_deal("Acme renewal", app.org.rep.id);
    let paths = [
        "/board".to_owned(),
        "/board?pipeline=1".to_owned(),
        "/opportunities".to_owned(),
        format!("/opportunities/{}", deal.id),
        "/accounts".to_owned(),
        format!("/accounts/{}", app.org.account.id),
        "/contacts".to_owned(),
        "/tasks".to_owned(),
        "/account".to_owned(),
        "/admin/users".to_owned(),
        "/admin/audit".to_owned(),
    ];
    for path in paths {
        let response = app.send(Request::get(&path).body(Body::empty()).unwrap()).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        let expected = format!("/login?{}", serde_urlencoded::to_string([("next", path.as_str())]).unwrap());
        assert_eq!(location(&response), expected, "{path}");
    }
    let response = app.send(Request::get("/").body(Body::empty()).unwrap()).await;
    assert_eq!(location(&response), "/today");
    // An expired or forged cookie is the same as none.
    let response =
        app.send(Request::get("/board").header(header::COOKIE, "pipewise_session=pws_forged").body(Body::empty()).unwrap()).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_login_page_speaks_the_browsers_language() {
    let app = app();
    let request = Request::get("/login").header(header::ACCEPT_LANGUAGE, "ko-KR,ko;q=0.9,en;q=0.8").body(Body::empty()).unwrap();
    let body = body_text(app.send(request).await).await;
    assert!(body.contains(r#"<html lang="ko">"#));
    assert!(body.contains("로그인") && body.contains("비밀번호"), "{body}");
    let english = body_text(app.send(Request::get("/login").body(Body::empty()).unwrap()).await).await;
    assert!(english.contains("Sign in") && english.contains("Password"));
    // A wrong password in Korean.
    let response = app
        .send(
            Request::post("/login")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ACCEPT_LANGUAGE, "ko")
                .body(Body::from("email=rep%40pages.test&password=nope"))
                .unwrap(),
        )
        .await;
    assert!(body_text(response).await.contains("이메일 주소 또는 비밀번호가 올바르지 않습니다."));
}

#[tokio::test]
async fn signing_out_needs_the_csrf_token_and_ends_the_session() {
    let app = app();
    let session = app.sign_in("rep@pages.test").await;
    let refused = app.post_form("/logout", Some(&session), &[], false).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get("/board", Some(&session)).await.0, StatusCode::OK, "still signed in");
    let response = app.post_form("/logout", Some(&session), &[], true).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login?signed_out=1");
    assert!(response.headers().get(header::SET_COOKIE).unwrap().to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(app.get("/board", Some(&session)).await.0, StatusCode::SEE_OTHER, "the session is gone");
}

#[tokio::test]
async fn the_account_page_changes_the_password_and_shows_a_new_token_once() {
    let app = app();
    let session = app.sign_in("rep@pages.test").await;
    let fields = [("current_password", "wrong"), ("new_password", "a much longer one"), ("confirm_password", "a much longer one")];
    let response = app.post_form("/account/password", Some(&session), &fields, true).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body_text(response).await.contains("The current password is wrong."));
    // A token is made only with the password given again.
    let response = app.post_form("/account/tokens", Some(&session), &[("name", "laptop script"), ("password", "not it")], true).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body_text(response).await.contains("The current password is wrong."));
    let response = app.post_form("/account/tokens", Some(&session), &[("name", "laptop script"), ("password", PASSWORD)], true).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = body_text(response).await;
    let secret = crate::support::between(&body, "<code id=\"new-token\">", "</code>").expect("the secret is shown");
    assert!(secret.starts_with("pwt_"));
    let (_, again) = app.get("/account", Some(&session)).await;
    assert!(!again.contains(secret), "the secret is shown only once");
    assert!(again.contains("laptop script"));
    // The token works on the API's behalf of the rep, and can be revoked from the page.
    let id = crate::support::between(&again, "action=\"/account/tokens/", "/revoke\"").expect("a revoke form");
    let response = app.post_form(&format!("/account/tokens/{id}/revoke"), Some(&session), &[], true).await;
    assert_eq!(location(&response), "/account?revoked=1");
    let (_, after) = app.get("/account?revoked=1", Some(&session)).await;
    assert!(after.contains("The token has been revoked.") && after.contains("Revoked"));
}

/// A password change lists the reader's live tokens and revokes every one not ticked to keep
/// (issue 16, point 9).
#[tokio::test]
async fn a_password_change_revokes_the_tokens_not_kept() {
    let app = app();
    let session = app.sign_in("manager@pages.test").await;
    let mut ids = Vec::new();
    for name in ["kept script", "old laptop"] {
        let response = app.post_form("/account/tokens", Some(&session), &[("name", name), ("password", PASSWORD)], true).await;
        assert_eq!(response.status(), StatusCode::OK);
        let (_, page) = app.get("/account", Some(&session)).await;
        ids.push(crate::support::between(&page, "action=\"/account/tokens/", "/revoke\"").expect("a revoke form").to_owned());
    }
    let (_, page) = app.get("/account", Some(&session)).await;
    let keep = crate::support::between(&page, "id=\"keep-tokens\"", "</fieldset>").expect("the tokens to keep are listed");
    assert!(keep.contains("kept script") && keep.contains("old laptop"), "{keep}");
    let kept = &ids[0];
    let new = "a brand new passphrase";
    let fields = [("current_password", PASSWORD), ("new_password", new), ("confirm_password", new), ("keep_token", kept.as_str())];
    let response = app.post_form("/account/password", Some(&session), &fields, true).await;
    assert_eq!(location(&response), "/account?password_changed=1");
    let live: Vec<i64> = app
        .store
        .read()
        .unwrap()
        .api_tokens(app.org.org(), app.org.manager.id)
        .unwrap()
        .into_iter()
        .filter(|token| token.revoked_at.is_none())
        .map(|token| token.id)
        .collect();
    assert_eq!(live, [kept.parse::<i64>().unwrap()], "only the kept token works");
}

#[tokio::test]
async fn a_reader_switches_to_korean_on_the_account_page() {
    let app = app();
    let session = app.sign_in("rep@pages.test").await;
    let response = app.post_form("/account/preferences", Some(&session), &[("locale", "ko"), ("time_zone", "Mars/Olympus")], true).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body_text(response).await.contains("is not an IANA time zone"));
    let response = app.post_form("/account/preferences", Some(&session), &[("locale", "ko"), ("time_zone", "Europe/Berlin")], true).await;
    assert_eq!(location(&response), "/account?preferences_saved=1");
    let (_, page) = app.get("/account?preferences_saved=1", Some(&session)).await;
    assert!(page.contains(r#"<html lang="ko">"#) && page.contains("이제 선택한 언어와 시간대로 표시됩니다"), "{page}");
    assert!(page.contains(r#"value="Europe&#x2f;Berlin""#));
}

/// An address no route serves gets the app's own not-found page in the reader's language (issue
/// 16, point 7), never an empty 404 the browser draws; under `/api/` a problem+json 404.
#[tokio::test]
async fn an_unknown_address_gets_the_apps_own_not_found_page() {
    let app = app();
    let session = app.sign_in("rep@pages.test").await;
    let (status, body) = app.get("/no/such/page", Some(&session)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("This page does not exist, or you do not have access to it."), "{body}");
    assert!(body.contains("href=\"/board\""), "with the navigation: {body}");
    let korean = Request::get("/nowhere").header(header::ACCEPT_LANGUAGE, "ko-KR,ko;q=0.9").body(Body::empty()).unwrap();
    let response = app.send(korean).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(response.headers().get(header::CONTENT_SECURITY_POLICY).is_some(), "the page carries the pages' headers");
    assert!(body_text(response).await.contains("페이지가 없거나 접근 권한이 없습니다."));
    let api = app.send(Request::get("/api/v1/no-such-thing").body(Body::empty()).unwrap()).await;
    assert_eq!(api.status(), StatusCode::NOT_FOUND);
    assert_eq!(api.headers()[header::CONTENT_TYPE], "application/problem+json");
}
