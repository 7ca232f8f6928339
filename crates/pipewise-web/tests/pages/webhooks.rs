//! The webhooks page (`/admin/webhooks`, issue 14 point 5): admins only; without the server's key
//! it says how to set one up; a bad address or kind comes back with the problem; a new webhook's
//! secret is shown once; each webhook shows its place in the history, what waits, its health and
//! its latest attempts; pause, resume and remove are CSRF-checked. Then the page in a browser.

use std::time::Duration;

use axum::http::{StatusCode, header};
use pipewise_app as app;
use pipewise_core::user::{Locale, Role};
use pipewise_test_support::browser::{Browser, screenshot_dir};

use crate::support::{app, browser_sign_in, serve};

const KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

#[tokio::test]
async fn an_admin_subscribes_sees_delivery_and_pauses_resumes_and_removes() {
    let app = app();
    let rep = app.sign_in("rep@pages.test").await;
    let (status, _) = app.get("/admin/webhooks", Some(&rep)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let admin = app.sign_in(&app.admin.email).await;
    let (status, page) = app.get("/admin/webhooks", Some(&admin)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Webhooks are not set up on this server") && !page.contains("action=\"/admin/webhooks\""), "{page}");
    assert!(page.contains("aria-current=\"page\">Webhooks</a>"));

    let app = app.with_secret_key(KEY);
    let (_, page) = app.get("/admin/webhooks", Some(&admin)).await;
    assert!(page.contains("No webhook yet") && page.contains("action=\"/admin/webhooks\""), "{page}");
    let fields = [("url", "https://hooks.example.com/pipewise"), ("event", "opportunity.won")];
    let response = app.post_form("/admin/webhooks", Some(&admin), &fields, false).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "no CSRF token, nothing made");
    let bad = [("url", "hooks.example.com"), ("event", "opportunity.exploded")];
    let response = app.post_form("/admin/webhooks", Some(&admin), &bad, true).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = crate::support::body_text(response).await;
    assert!(page.contains("Address: ") && page.contains("Events: ") && page.contains("value=\"hooks.example.com\""), "{page}");

    let response = app.post_form("/admin/webhooks", Some(&admin), &fields, true).await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = crate::support::body_text(response).await;
    let secret = crate::support::between(&page, "<code id=\"new-secret\">", "</code>").expect("the secret, once").to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    let (_, page) = app.get("/admin/webhooks", Some(&admin)).await;
    assert!(!page.contains(&secret), "never shown again");
    assert!(page.contains("https:&#x2f;&#x2f;hooks.example.com&#x2f;pipewise") && page.contains("<td>Deal won</td>"), "{page}");
    assert!(page.contains("delivered through change") && page.contains("; 0 event(s) waiting"), "{page}");

    // A deal changes: it waits; a failed attempt shows in the list and the log.
    let deal = app.create_deal("Hooked deal", app.admin.id);
    let store = app::Db::new(app.store.clone());
    let webhook = app::webhooks::webhooks_to_deliver(&store).unwrap().pop().unwrap();
    let key = app::secrets::SecretKey::from_hex(KEY).unwrap();
    let pending = app::webhooks::pending(&store, &key, &webhook).unwrap().unwrap();
    assert!(pending.requests.is_empty(), "a creation is not a win");
    let (_, page) = app.get("/admin/webhooks", Some(&admin)).await;
    assert!(page.contains("; 0 event(s) waiting"), "a creation is not what it waits for: {page}");
    let request = app::webhooks::Outgoing {
        first_seq: pending.read_through,
        last_seq: pending.read_through,
        event: "opportunity.won".into(),
        opportunity_id: deal.id,
        delivery_id: "x".into(),
        body: "{}".into(),
    };
    let failed = app::webhooks::Attempt { status: Some(502), error: None, duration_ms: 31, at: app.now };
    app::webhooks::record(&store, &webhook, &request, &failed).unwrap();
    let (_, page) = app.get("/admin/webhooks", Some(&admin)).await;
    assert!(page.contains("failing (1 in a row): the receiver answered 502; next try in 10 s"), "{page}");
    assert!(page.contains(&format!("<a href=\"/opportunities/{0}\">#{0}</a>", deal.id.0)), "{page}");

    // Pause, resume, remove.
    let base = format!("/admin/webhooks/{}", webhook.id);
    let response = app.post_form(&format!("{base}/pause"), Some(&admin), &[], false).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = app.post_form(&format!("{base}/pause"), Some(&admin), &[], true).await;
    assert_eq!(response.headers()[header::LOCATION], "/admin/webhooks?done=paused");
    let (_, page) = app.get("/admin/webhooks?done=paused", Some(&admin)).await;
    assert!(page.contains("Webhook paused.") && page.contains("paused: its place is kept") && page.contains(">Resume</button>"), "{page}");
    let response = app.post_form(&format!("{base}/resume"), Some(&admin), &[], true).await;
    assert_eq!(response.headers()[header::LOCATION], "/admin/webhooks?done=resumed");
    let response = app.post_form(&format!("{base}/remove"), Some(&admin), &[], true).await;
    assert_eq!(response.headers()[header::LOCATION], "/admin/webhooks?done=removed");
    let (_, page) = app.get("/admin/webhooks?done=removed", Some(&admin)).await;
    assert!(page.contains("Webhook removed.") && page.contains("No webhook yet"), "{page}");
    let response = app.post_form(&format!("{base}/remove"), Some(&admin), &[], true).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = app.post_form("/admin/webhooks/1/explode", Some(&admin), &[], true).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_webhooks_page_in_korean_and_in_a_browser() {
    let app = app().with_secret_key(KEY);
    let ko = app.create_user("admin-ko@pages.test", "관리자", Role::Admin, None, Locale::Ko);
    let session = app.sign_in(&ko.email).await;
    let (status, page) = app.get("/admin/webhooks", Some(&session)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<h1>웹훅</h1>") && page.contains("딜 성사"), "{page}");

    let store = app::Db::new(app.store.clone());
    let ctx = app::WriteCtx { actor_id: Some(app.admin.id), ..app.ctx(app.admin.id) };
    let key = app::secrets::SecretKey::from_hex(KEY).unwrap();
    store.transact(|tx| app::webhooks::create_webhook(tx, &ctx, &key, "https://crm-sync.example.com/in", "*")).unwrap();
    store
        .transact(|tx| app::webhooks::create_webhook(tx, &ctx, &key, "http://10.0.0.7:8080/pipewise", "opportunity.won opportunity.lost"))
        .unwrap();
    let webhooks = app::webhooks::webhooks_to_deliver(&store).unwrap();
    let deal = app.create_deal("Browser deal", app.admin.id);
    let pending = app::webhooks::pending(&store, &key, &webhooks[0]).unwrap().unwrap();
    let ok = app::webhooks::Attempt { status: Some(200), error: None, duration_ms: 48, at: app.now };
    app::webhooks::record(&store, &webhooks[0], &pending.requests[0], &ok).unwrap();
    let request = app::webhooks::Outgoing { opportunity_id: deal.id, ..pending.requests[0].clone() };
    let refused =
        app::webhooks::Attempt { status: None, error: Some("unreachable: the connection was refused".into()), duration_ms: 2, at: app.now };
    app::webhooks::record(&store, &webhooks[1], &request, &refused).unwrap();
    let admin_email = app.admin.email.clone();
    let base = serve(app.router.clone()).await;
    tokio::task::spawn_blocking(move || {
        let Some(browser) = Browser::start() else { return };
        browser_sign_in(&browser, &base, &admin_email).unwrap();
        browser.goto(&format!("{base}/admin/webhooks")).unwrap();
        browser.wait_for("#webhook-list", Duration::from_secs(10)).unwrap();
        let text = browser.find("#webhook-list").unwrap().text().unwrap();
        assert!(text.contains("crm-sync.example.com") && text.contains("every kind"), "{text}");
        assert!(text.contains("failing (1 in a row): unreachable: the connection was refused"), "{text}");
        browser.screenshot(screenshot_dir().join("webhooks.png")).unwrap();
    })
    .await
    .unwrap();
}
