//! Signing in and out, and what a signed-out reader sees.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};

use crate::support::{PASSWORD, app, body_text, location};

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
        assert_eq!(location(&response), "/board", "{foreign}");
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
async fn repeated_failures_are_throttled() {
    let app = app();
    for attempt in 1..=5 {
        let response = app.post_form("/login", None, &[("email", "rep@pages.test"), ("password", "guess")], false).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    // Even the right password waits now.
    let response = app.post_form("/login", None, &[("email", "rep@pages.test"), ("password", PASSWORD)], false).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "900");
    let body = body_text(response).await;
    assert!(body.contains("Too many failed sign-ins. Try again in 15 minutes."), "{body}");
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
    assert_eq!(location(&response), "/board");
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
    let response = app.post_form("/account/tokens", Some(&session), &[("name", "laptop script")], true).await;
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
