//! The capture page (`/capture`, issue 15 point 1): any writer sends one file a request; the
//! check says what would be logged and lists every refusal with its place and reason, and
//! writes nothing; logging writes once; viewers are refused. Then the same in a real browser.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use pipewise_app as app;
use pipewise_app::ActivityFilter;
use pipewise_core::user::{Locale, Role};
use pipewise_test_support::browser::{Browser, screenshot_dir};

use crate::support::{App, Session, app, body_text, browser_sign_in, serve};

const MBOX: &str = "From buyer@pages-customer.com Mon Jun  1 01:00:00 2026\n\
From: Buyer <buyer@sales.pages-customer.com>\nTo: rep@pages.test\nDate: Mon, 1 Jun 2026 10:00:00 +0900\n\
Message-ID: <q1@pages-customer.com>\nSubject: =?UTF-8?B?6rCA6rKpIOusuOydmA==?=\n\nCould you send the price list?\n\n\
From x Mon Jun  1 02:00:00 2026\nFrom: stranger@elsewhere.example\nTo: rep@pages.test\nDate: Mon, 1 Jun 2026 11:00:00 +0900\nSubject: hi\n\nhello\n";

async fn run(app: &App, session: &Session, query: &str, file: &str, csrf: bool) -> (StatusCode, String) {
    let mut request = Request::post(format!("/capture/run?{query}")).header(header::COOKIE, &session.cookie);
    if csrf {
        request = request.header("x-csrf-token", &session.csrf);
    }
    let response = app.send(request.body(Body::from(file.to_owned())).unwrap()).await;
    let status = response.status();
    (status, body_text(response).await)
}

fn subjects(app: &App) -> Vec<String> {
    let mut tx = app::Tx::new(app.store.read().unwrap());
    tx.activities(app.org.org(), &ActivityFilter::default()).unwrap().into_iter().map(|activity| activity.subject).collect()
}

#[tokio::test]
async fn a_rep_checks_then_logs_a_mailbox_once() {
    let app = app();
    let rep = app.sign_in("rep@pages.test").await;
    let (status, page) = app.get("/capture", Some(&rep)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("data-capture") && page.contains("aria-current=\"page\">Capture</a>"), "{page}");
    let (status, _) = run(&app, &rep, "step=log&name=inbox.mbox", MBOX, false).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no CSRF header, nothing runs");

    let (status, checked) = run(&app, &rep, "step=check&name=inbox.mbox", MBOX, true).await;
    assert_eq!(status, StatusCode::OK, "{checked}");
    assert!(checked.contains("<h2>inbox.mbox</h2>"), "{checked}");
    assert!(checked.contains("Messages and events: 2 · e-mails to log: 1 · meetings to log: 0 · on an account: 1"), "{checked}");
    assert!(checked.contains("it matches no contact or account (stranger@elsewhere.example)"), "{checked}");
    assert!(checked.contains("<td class=\"num\">2</td><td class=\"num\">11</td>"), "the second message, at line 11: {checked}");
    assert!(subjects(&app).is_empty(), "a check writes nothing");

    let (status, logged) = run(&app, &rep, "step=log&name=inbox.mbox", MBOX, true).await;
    assert_eq!(status, StatusCode::OK, "{logged}");
    assert!(logged.contains("e-mails logged: 1"), "{logged}");
    assert_eq!(subjects(&app), ["가격 문의"]);
    let (_, again) = run(&app, &rep, "step=log&name=inbox.mbox", MBOX, true).await;
    assert!(again.contains("e-mails logged: 0") && again.contains("already logged: 1"), "{again}");
    let (_, kept) = run(&app, &rep, "step=log&name=inbox.mbox&keep_unmatched=1", MBOX, true).await;
    assert!(kept.contains("e-mails logged: 1") && kept.contains("refused: 0"), "{kept}");
    assert_eq!(subjects(&app).len(), 2);

    let viewer = app.create_user("viewer@pages.test", "Vera Viewer", Role::Viewer, None, Locale::Ko);
    let session = app.sign_in(&viewer.email).await;
    let (status, _) = run(&app, &session, "step=log&name=inbox.mbox", MBOX, true).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, page) = app.get("/capture", Some(&session)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!page.contains("href=\"/capture\""), "viewers are not offered the page");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_capture_page_in_a_real_browser() {
    let app = app().with_secret_key(&"ab".repeat(32));
    let deal = app.create_deal("Pages renewal", app.org.rep.id);
    let base = serve(app.router.clone()).await;
    let dir = pipewise_test_support::TempDir::new("capture-page");
    let mbox = dir.path().join("inbox.mbox");
    std::fs::write(&mbox, MBOX).unwrap();
    let ics = dir.path().join("invite.ics");
    std::fs::write(
        &ics,
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:demo@pages.test\r\nDTSTART:20260603T020000Z\r\nSUMMARY:Product demo\r\n\
         ORGANIZER:mailto:rep@pages.test\r\nATTENDEE:mailto:buyer@pages-customer.com\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:No start\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    )
    .unwrap();
    let angry = dir.path().join("angry.eml");
    std::fs::write(&angry, ANGRY).unwrap();
    let deal_id = deal.id.0;
    tokio::task::spawn_blocking(move || {
        let Some(browser) = Browser::start() else { return };
        browser.set_window_size(1440, 1100).unwrap();
        browser_sign_in(&browser, &base, "rep@pages.test").unwrap();
        browser.goto(&format!("{base}/capture")).unwrap();
        let files = format!("{}\n{}", mbox.to_str().unwrap(), ics.to_str().unwrap());
        browser.find("#capture-files").unwrap().send_keys(&files).unwrap();
        browser.find("[data-capture-step=check]").unwrap().click().unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < deadline && browser.find_all(".capture-file").unwrap().len() < 2 {
            std::thread::sleep(Duration::from_millis(100));
        }
        let sections = browser.find_all(".capture-file").unwrap();
        assert_eq!(sections.len(), 2);
        let text = browser.find("#capture-result").unwrap().text().unwrap();
        assert!(text.contains("inbox.mbox") && text.contains("invite.ics"), "{text}");
        assert!(text.contains("the event has no start (DTSTART)"), "{text}");
        browser.screenshot(screenshot_dir().join("capture-check.png")).unwrap();

        // An angry reply, logged: the day warns, and the deal shows the score to rate.
        browser.find("#capture-files").unwrap().clear().unwrap();
        browser.find("#capture-files").unwrap().send_keys(angry.to_str().unwrap()).unwrap();
        browser.find("[data-capture-step=log]").unwrap().click().unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < deadline && browser.find_all(".capture-file").unwrap().is_empty() {
            std::thread::sleep(Duration::from_millis(100));
        }
        let text = browser.find("#capture-result").unwrap().text().unwrap();
        assert!(text.contains("e-mails logged: 1"), "{text}");
        browser.goto(&format!("{base}/today")).unwrap();
        let warnings = browser.find("#today-warnings").unwrap().text().unwrap();
        assert!(warnings.contains("Very disappointed"), "{warnings}");
        browser.screenshot(screenshot_dir().join("capture-today-warning.png")).unwrap();
        browser.goto(&format!("{base}/opportunities/{deal_id}#activities")).unwrap();
        browser.find("#activities .rate-form button[value=\"-1\"]").unwrap().click().unwrap();
        browser.wait_for("#activities .rate.chosen", Duration::from_secs(10)).unwrap();
        browser.screenshot(screenshot_dir().join("capture-deal-rated.png")).unwrap();
        browser.goto(&format!("{base}/capture#mailboxes")).unwrap();
        browser.find("#mailbox-host").unwrap().send_keys("127.0.0.1").unwrap();
        browser.find("#mailbox-username").unwrap().send_keys("rep").unwrap();
        browser.find("#mailbox-password").unwrap().send_keys("app-password").unwrap();
        browser.find("#mailbox-form button[type=submit]").unwrap().click().unwrap();
        browser.wait_for("#mailbox-list", Duration::from_secs(10)).unwrap();
        browser.screenshot(screenshot_dir().join("capture-mailbox.png")).unwrap();
        eprintln!("screenshots in {}", screenshot_dir().display());
    })
    .await
    .unwrap();
}

const ANGRY: &str = "From: Buyer <buyer@pages-customer.com>\nTo: rep@pages.test\nDate: Sat, 13 Jun 2026 10:00:00 +0000\n\
Subject: Very disappointed\n\nThis is unacceptable. The delays are a serious problem and we are cancelling.\n";

#[tokio::test]
async fn a_reply_that_reads_badly_warns_on_the_day_and_the_rep_rates_it() {
    let app = app();
    let deal = app.create_deal("Pages renewal", app.org.rep.id);
    let rep = app.sign_in("rep@pages.test").await;
    let (status, logged) = run(&app, &rep, "step=log&name=angry.eml", ANGRY, true).await;
    assert_eq!(status, StatusCode::OK, "{logged}");
    assert!(logged.contains("on a deal: 1"), "{logged}");

    let (_, day) = app.get("/today", Some(&rep)).await;
    assert!(day.contains("id=\"today-warnings\"") && day.contains("Very disappointed"), "{day}");
    assert!(day.contains("class=\"tone tone-negative\">-0."), "{day}");

    let (_, page) = app.get(&format!("/opportunities/{}", deal.id), Some(&rep)).await;
    assert!(page.contains("class=\"tone tone-negative\""), "the deal's activity shows its score: {page}");
    assert!(page.contains("Inbound: 1 · 1 d ago") && page.contains("Outbound: 0"), "two separate indicators: {page}");
    assert!(page.contains("unacceptable"), "and the words behind it: {page}");
    let activity = subjects_and_ids(&app).into_iter().find(|(subject, _)| subject == "Very disappointed").unwrap().1;
    let response = app.post_form(&format!("/activities/{activity}/rating"), Some(&rep), &[("rating", "-1")], true).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[header::LOCATION], format!("/opportunities/{}#activities", deal.id));
    let (_, page) = app.get(&format!("/opportunities/{}", deal.id), Some(&rep)).await;
    assert!(page.contains("class=\"rate chosen\""), "the rep sees their rating: {page}");
    let response = app.post_form(&format!("/activities/{activity}/rating"), Some(&rep), &[("rating", "7")], true).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    // With an answer logged too, the rep's data reaches the top rung.
    let (_, page) = app.get("/capture", Some(&rep)).await;
    assert!(page.contains("<td>Ravi Rep</td><td><span class=\"level level-baseline\">"), "inbound only: {page}");
    let answer = "From: rep@pages.test\nTo: buyer@pages-customer.com\nDate: Sun, 14 Jun 2026 09:00:00 +0000\nSubject: Re: Very disappointed\n\nI am sorry; here is the plan.\n";
    run(&app, &rep, "step=log&name=answer.eml", answer, true).await;
    let (_, page) = app.get("/capture", Some(&rep)).await;
    assert!(page.contains("<td>Ravi Rep</td><td><span class=\"level level-best\">Best</span>"), "{page}");
}

fn subjects_and_ids(app: &App) -> Vec<(String, i64)> {
    let mut tx = app::Tx::new(app.store.read().unwrap());
    tx.activities(app.org.org(), &ActivityFilter::default())
        .unwrap()
        .into_iter()
        .map(|activity| (activity.subject, activity.id.0))
        .collect()
}

#[tokio::test]
async fn a_rep_connects_a_mailbox_whose_password_is_never_shown() {
    let app = app();
    let rep = app.sign_in("rep@pages.test").await;
    let (_, page) = app.get("/capture", Some(&rep)).await;
    assert!(page.contains("Mailbox sync is not set up on this server"), "without the key, no form: {page}");
    assert!(!page.contains("id=\"mailbox-form\""));

    let app = app.with_secret_key(&"ab".repeat(32));
    let (_, page) = app.get("/capture", Some(&rep)).await;
    assert!(page.contains("id=\"mailbox-form\"") && page.contains("No mailbox is connected"), "{page}");
    let fields = [("host", "127.0.0.1"), ("port", "143"), ("username", "rep"), ("password", "s3cret-app-pass"), ("folder", "INBOX")];
    let response = app.post_form("/capture/mailbox", Some(&rep), &fields, false).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "no CSRF token, no mailbox");
    let response = app.post_form("/capture/mailbox", Some(&rep), &fields, true).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, page) = app.get("/capture?connected=1", Some(&rep)).await;
    assert!(page.contains("Mailbox connected.") && page.contains("rep@127.0.0.1:143&#x2f;INBOX"), "{page}");
    assert!(page.contains("waiting for its first sync"), "{page}");
    assert!(!page.contains("s3cret-app-pass"), "the password is never shown again");
    let stored = {
        let mut tx = app::Tx::new(app.store.read().unwrap());
        tx.mailboxes(None).unwrap()
    };
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].secret.contains("s3cret"), "nor stored in the clear");

    let bad = [("host", "imap example"), ("port", "70000"), ("username", "rep"), ("password", "x"), ("folder", "INBOX")];
    let response = app.post_form("/capture/mailbox", Some(&rep), &bad, true).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let said = body_text(response).await;
    assert!(said.contains("host") && said.contains("port"), "every bad field is named: {said}");

    // What sync could not read is listed with its reason, to its owner and to admins.
    {
        let mut tx = app::Tx::new(app.store.write().unwrap());
        let kept = pipewise_store::Quarantined {
            id: 0,
            user_id: app.org.rep.id,
            mailbox_id: Some(stored[0].id),
            place: "127.0.0.1/INBOX UID 4".into(),
            message_id: Some("lost@pages-customer.com".into()),
            reason: pipewise_core::message::Message::new("capture.no_sender"),
            at: app.now,
        };
        tx.put_quarantined(app.org.org(), &[kept]).unwrap();
        tx.commit().unwrap();
    }
    let (_, page) = app.get("/capture", Some(&rep)).await;
    assert!(page.contains("id=\"quarantine\"") && page.contains("neither From nor Sender holds an e-mail address"), "{page}");
    let manager = app.sign_in(&app.org.manager.email).await;
    let (_, page) = app.get("/capture", Some(&manager)).await;
    assert!(!page.contains("lost@pages-customer.com"), "a rep's quarantine is theirs and the admins'");

    let admin = app.sign_in(&app.admin.email).await;
    let (_, page) = app.get("/capture", Some(&admin)).await;
    assert!(page.contains("<td>Ravi Rep</td>"), "an admin sees everyone's mailboxes: {page}");
    assert!(page.contains("lost@pages-customer.com"), "and every quarantined message");
}
