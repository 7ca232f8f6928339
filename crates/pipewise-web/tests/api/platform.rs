//! Tokens, sessions and CSRF, `/me`, and the audit log through the API.

use axum::body::Body;
use axum::http::{Method, Request, header};
use pipewise_app as app;
use pipewise_core::history::Source;
use pipewise_test_support::transact;
use serde_json::json;

use crate::harness::Shared;

pub async fn tokens_are_shown_once_and_revocation_is_immediate(app: Shared) {
    let hash = pipewise_app::auth::hash_password("correct horse battery").unwrap();
    let rep = app.org.rep.id;
    app.blocking(|| transact(&*app.store, |tx| app::auth::set_password_hash(tx, &app.system(), rep, &hash, None)).unwrap());
    // The password is asked again: missing, it is named; wrong, refused.
    let refused = app.post("/api/v1/tokens", "rep", json!({ "name": "CI export" })).await.expect(422);
    assert_eq!(refused.body["errors"][0]["field"], "password");
    app.post("/api/v1/tokens", "rep", json!({ "name": "CI export", "password": "not it" })).await.expect(403);
    let created = app.post("/api/v1/tokens", "rep", json!({ "name": "CI export", "password": "correct horse battery" })).await.expect(201);
    // API replies are never cached nor sniffed.
    assert_eq!(created.headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(created.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let secret = created.body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("pwt_") && secret.len() == 68, "{secret}");
    assert_eq!(created.body["prefix"], &secret[..12]);
    let id = created.id();
    let bearer = |method: Method, path: &str| {
        Request::builder().method(method).uri(path).header(header::AUTHORIZATION, format!("Bearer {secret}")).body(Body::empty()).unwrap()
    };
    let me = app.send(bearer(Method::GET, "/api/v1/me")).await.expect(200);
    assert_eq!(me.body["user"]["id"], app.org.rep.id.0);
    assert_eq!(me.body["authenticated_by"], "token");
    let listed = app.get("/api/v1/tokens", "rep").await.expect(200);
    let tokens = listed.body["data"].as_array().unwrap();
    assert!(tokens.iter().any(|token| token["id"] == id && token["name"] == "CI export" && token.get("secret").is_none()));
    assert!(tokens.iter().all(|token| token.get("token_hash").is_none()));
    // Another user cannot revoke it; its owner can, and it stops working on the next request.
    app.call(Method::DELETE, &format!("/api/v1/tokens/{id}"), "manager", None).await.expect(404);
    app.send(bearer(Method::DELETE, &format!("/api/v1/tokens/{id}"))).await.expect(204);
    let after = app.send(bearer(Method::GET, "/api/v1/me")).await.expect(401);
    assert_eq!(after.body["code"], "unauthenticated");
    app.call(Method::DELETE, &format!("/api/v1/tokens/{id}"), "rep", None).await.expect(404);
    let refused = app.post("/api/v1/tokens", "rep", json!({ "name": " ", "password": "correct horse battery" })).await.expect(422);
    assert_eq!(refused.body["errors"][0]["field"], "name");
}

pub async fn session_cookies_read_and_need_csrf_to_write(app: Shared) {
    let hash = pipewise_app::auth::hash_password("correct horse battery").unwrap();
    let rep = app.org.rep.id;
    let signed_in = app.blocking(|| {
        transact(&*app.store, |tx| app::auth::set_password_hash(tx, &app.system(), rep, &hash, None)).unwrap();
        pipewise_web::auth::sign_in(
            &pipewise_app::Db::new(app.store.clone()),
            &app.org.rep.email,
            "correct horse battery",
            "127.0.0.1",
            app.now(),
        )
        .unwrap()
    });
    let cookie = format!("{}={}", pipewise_web::auth::SESSION_COOKIE, signed_in.secret);
    let with_cookie = |method: Method, path: &str, csrf: Option<&str>| {
        let mut request =
            Request::builder().method(method).uri(path).header(header::COOKIE, &cookie).header(header::CONTENT_TYPE, "application/json");
        if let Some(csrf) = csrf {
            request = request.header("x-csrf-token", csrf);
        }
        request.body(Body::from(json!({ "name": "Via cookie" }).to_string())).unwrap()
    };
    let me = app.send(with_cookie(Method::GET, "/api/v1/me", None)).await.expect(200);
    assert_eq!(me.body["authenticated_by"], "session");
    app.send(with_cookie(Method::GET, "/api/v1/opportunities", None)).await.expect(200);
    let refused = app.send(with_cookie(Method::POST, "/api/v1/accounts", None)).await.expect(403);
    assert_eq!(refused.body["code"], "csrf_token_invalid");
    app.send(with_cookie(Method::POST, "/api/v1/accounts", Some("wrong"))).await.expect(403);
    let csrf = signed_in.session.csrf_token.clone();
    app.send(with_cookie(Method::POST, "/api/v1/accounts", Some(&csrf))).await.expect(201);
    // A bearer token needs no CSRF token.
    app.post("/api/v1/accounts", "rep", json!({ "name": "Via token" })).await.expect(201);
}

pub async fn the_audit_log_is_for_admins(app: Shared) {
    let path = format!("/api/v1/opportunities/{}", app.deal.0);
    app.patch(&path, "rep", json!({ "next_step": "Demo on Friday" })).await.expect(200);
    for role in ["ops", "manager", "rep", "viewer"] {
        let refused = app.get("/api/v1/audit", role).await.expect(403);
        assert_eq!(refused.body["detail"], "only an admin reads the audit log");
    }
    let rep = app.org.rep.id.0;
    let entries =
        app.get(&format!("/api/v1/audit?record_kind=opportunity&record_id={}&actor_id={rep}", app.deal.0), "admin").await.expect(200);
    let entries = entries.body["data"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert_eq!((entries[0]["action"].as_str(), entries[0]["source"].as_str()), (Some("update"), Some(Source::Api.as_str())));
    assert_eq!(entries[0]["before"], json!({ "next_step": "Send the proposal" }));
    assert_eq!(entries[0]["after"], json!({ "next_step": "Demo on Friday" }));
    assert_eq!(entries[1]["action"], "create");
    // The log pages newest first.
    let mut seen = Vec::new();
    let mut url = "/api/v1/audit?limit=3".to_owned();
    loop {
        let page = app.get(&url, "admin").await.expect(200);
        seen.extend(page.body["data"].as_array().unwrap().iter().map(|entry| entry["id"].as_i64().unwrap()));
        match page.body["next_cursor"].as_str() {
            Some(cursor) => url = format!("/api/v1/audit?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!(seen, sorted, "newest first, each once");
    assert!(seen.len() > 10, "{}", seen.len());
}

/// A session id planted in the browser before sign-in is worthless: signing in always starts a
/// new session, and signing out ends it for good.
pub async fn sign_in_starts_a_new_session_and_sign_out_ends_it(app: Shared) {
    let hash = pipewise_app::auth::hash_password("correct horse battery").unwrap();
    let rep = app.org.rep.id;
    app.blocking(|| transact(&*app.store, |tx| app::auth::set_password_hash(tx, &app.system(), rep, &hash, None)).unwrap());
    let me_with = |secret: &str| {
        Request::builder()
            .uri("/api/v1/me")
            .header(header::COOKIE, format!("{}={secret}", pipewise_web::auth::SESSION_COOKIE))
            .body(Body::empty())
            .unwrap()
    };
    let planted = "pws_0000000000000000000000000000000000000000000000000000000000000000";
    app.send(me_with(planted)).await.expect(401);
    let signed_in = app.blocking(|| {
        pipewise_web::auth::sign_in(
            &pipewise_app::Db::new(app.store.clone()),
            &app.org.rep.email,
            "correct horse battery",
            "10.0.0.9",
            app.now(),
        )
        .unwrap()
    });
    assert_ne!(signed_in.secret, planted);
    assert!(signed_in.secret.starts_with("pws_") && signed_in.secret.len() == 68);
    app.send(me_with(planted)).await.expect(401);
    app.send(me_with(&signed_in.secret)).await.expect(200);
    // The database holds only the secret's hash.
    let stored = app.blocking(|| app.store.read().unwrap().session(&signed_in.secret).unwrap());
    assert!(stored.is_none(), "the raw secret is not a key");
    app.blocking(|| transact(&*app.store, |tx| tx.delete_session(&signed_in.session.token_hash)).unwrap());
    app.send(me_with(&signed_in.secret)).await.expect(401);
}

/// Failures slow an attacker down without locking the owner out (issue 16, point 8): from one
/// client, three failures are free, then each attempt waits 2, 4, 8 … seconds after the last;
/// the owner, signing in from elsewhere, is not slowed; a session lasts 30 days at most.
pub async fn failed_sign_ins_slow_the_attacker_not_the_owner(app: Shared) {
    let hash = pipewise_app::auth::hash_password("correct horse battery").unwrap();
    let rep = app.org.rep.id;
    app.blocking(|| transact(&*app.store, |tx| app::auth::set_password_hash(tx, &app.system(), rep, &hash, None)).unwrap());
    let attempt = |password: &str, client: &str| {
        app.blocking(|| {
            pipewise_web::auth::sign_in(&pipewise_app::Db::new(app.store.clone()), &app.org.rep.email, password, client, app.now())
        })
    };
    let waits = |result: Result<pipewise_web::auth::SignedIn, pipewise_web::error::AppError>| match result {
        Err(pipewise_web::error::AppError::Throttled { retry_after_seconds }) => retry_after_seconds,
        Err(other) => panic!("expected a wait, got {}", other.detail()),
        Ok(_) => panic!("expected a wait, got a session"),
    };
    for _ in 0..pipewise_app::auth::FREE_FAILURES {
        let error = attempt("wrong", "10.0.0.7").err().unwrap();
        assert_eq!(error.detail(), "the e-mail address or password is wrong");
    }
    assert_eq!(waits(attempt("correct horse battery", "10.0.0.7")), 2, "even the right password waits");
    // The owner, elsewhere, signs in at once.
    assert!(attempt("correct horse battery", "192.0.2.44").is_ok());
    // The attacker waits longer after each failure.
    let start = app.now();
    app.set_clock(start.plus_seconds(2));
    assert!(attempt("wrong again", "10.0.0.7").is_err());
    assert_eq!(waits(attempt("wrong", "10.0.0.7")), 4);
    app.set_clock(start.plus_seconds(6));
    assert!(attempt("wrong again", "10.0.0.7").is_err());
    assert_eq!(waits(attempt("wrong", "10.0.0.7")), 8);
    // Once the window has passed, nothing is held against the client.
    app.set_clock(start.plus_seconds(pipewise_web::auth::FAILURE_WINDOW_SECONDS + 7));
    let signed_in = attempt("correct horse battery", "10.0.0.7").unwrap();

    // However active, a session ends 30 days after sign-in.
    let me = |secret: &str| {
        Request::builder()
            .uri("/api/v1/me")
            .header(header::COOKIE, format!("{}={secret}", pipewise_web::auth::SESSION_COOKIE))
            .body(Body::empty())
            .unwrap()
    };
    let signed_at = app.now();
    for day in [10, 20, 29] {
        app.set_clock(signed_at.plus_seconds(day * 86_400));
        app.send(me(&signed_in.secret)).await.expect(200);
    }
    app.set_clock(signed_at.plus_seconds(30 * 86_400 + 1));
    app.send(me(&signed_in.secret)).await.expect(401);
    app.set_clock(start);
}
