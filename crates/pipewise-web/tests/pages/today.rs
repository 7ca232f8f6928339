//! A rep's day (`/today`, issue 14 point 8): the first page after signing in; overdue tasks,
//! deals that need a touch or a move with the flags' reasons, leads past the answer window; a
//! manager reads a rep's day, a rep only their own. Then in Chromium, with a screenshot.

use std::time::Duration;

use axum::http::StatusCode;
use pipewise_app as app;
use pipewise_core::records::{LeadStatus, NewLead, NewTask};
use pipewise_core::*;
use pipewise_test_support::browser::{Browser, screenshot_dir};
use pipewise_test_support::fixtures::at;
use pipewise_test_support::transact;

use crate::support::{App, app, browser_sign_in, location, serve};

/// The rep's day as of 2026-06-15: a deal untouched since February, a task overdue since 10
/// June, one due today, one next week, a lead waiting two days and one that came an hour ago.
fn a_busy_rep(app: &App) -> OpportunityId {
    let deal = app.create_deal("Orbit Analytics renewal", app.org.rep.id);
    let rep = app.org.rep.id;
    let ctx = app.ctx(rep);
    transact(&*app.store, |tx| {
        for (title, due) in
            [("Send the MSA redlines", "2026-06-10"), ("Call the CFO", "2026-06-15"), ("Quarterly review deck", "2026-06-22")]
        {
            let task = NewTask {
                title: title.into(),
                owner_id: rep,
                due_on: Some(due.parse().unwrap()),
                completed_at: None,
                account_id: None,
                opportunity_id: Some(deal.id),
                lead_id: None,
            };
            app::activities::create_task(tx, &ctx, task)?;
        }
        for (name, when) in [("Morgan Lee", "2026-06-13T09:00:00Z"), ("Sam Patel", "2026-06-15T08:00:00Z")] {
            let lead = NewLead {
                name: name.into(),
                company: Some("Zenith HVAC".into()),
                email: Some(format!("{}@zenith.example", name.to_lowercase().replace(' ', "."))),
                phone: Some("480-555-0166".into()),
                title: None,
                source: Some("web form".into()),
                industry: None,
                employee_count: None,
                region: None,
                status: LeadStatus::New,
                owner_id: Some(rep),
            };
            app::records::create_lead(tx, &pipewise_app::WriteCtx { at: at(when), ..ctx }, lead)?;
        }
        Ok(())
    })
    .unwrap();
    deal.id
}

#[tokio::test]
async fn the_day_lists_what_to_do_in_the_order_it_matters() {
    let app = app();
    let deal = a_busy_rep(&app);
    let rep = app.sign_in("rep@pages.test").await;
    let response = app.send(axum::http::Request::get("/").body(axum::body::Body::empty()).unwrap()).await;
    assert_eq!(location(&response), "/today");
    let (status, body) = app.get("/today", Some(&rep)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("My day"), "{body}");
    assert!(body.contains("Tasks due: 2 · Deals that need a touch or a move: 1 · New leads past the 24-hour answer window: 1"), "{body}");
    let overdue = body.find("Send the MSA redlines").unwrap();
    let due_today = body.find("Call the CFO").unwrap();
    assert!(overdue < due_today, "the overdue task comes first");
    assert!(!body.contains("Quarterly review deck"), "a task due next week is not today's");
    assert!(body.contains(&format!("href=\"/opportunities/{deal}/stage\"")), "{body}");
    assert!(body.contains("data-code=\"untouched\"") || body.contains("data-code=\"stale\""), "{body}");
    let waiting = body.find("Morgan Lee").unwrap();
    let fresh = body.find("Sam Patel").unwrap();
    assert!(waiting < fresh && body.contains("past the answer window"), "{body}");
    assert!(body.contains("href=\"mailto:morgan.lee@zenith.example\""));

    // One click logs a call on the deal, as the rep, and comes back to the day.
    let response = app.post_form("/today/touch", Some(&rep), &[("deal", &deal.to_string()), ("kind", "call")], true).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), format!("/today?logged={deal}#today-deals"));
    let (_, after) = app.get(&format!("/today?logged={deal}"), Some(&rep)).await;
    assert!(after.contains("Logged on Orbit Analytics renewal."), "{after}");
    let activities = transact(&*app.store, |tx| app::activities::activities_of_opportunity(tx, app.org.org(), deal)).unwrap();
    assert!(activities.iter().any(|activity| activity.subject == "Call (logged from my day)" && activity.user_id == Some(app.org.rep.id)));
    let response = app.post_form("/today/touch", Some(&rep), &[("deal", &deal.to_string()), ("kind", "call")], false).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "not without the CSRF token");

    // The rep reads only their own day; their manager reads the rep's.
    let (_, own) = app.get(&format!("/today?user={}", app.org.manager.id), Some(&rep)).await;
    assert!(own.contains("My day") && own.contains("Send the MSA redlines"));
    let manager = app.sign_in("manager@pages.test").await;
    let (_, theirs) = app.get(&format!("/today?user={}", app.org.rep.id), Some(&manager)).await;
    assert!(theirs.contains("Ravi Rep&#x27;s day") || theirs.contains("Ravi Rep's day"), "{theirs}");
    assert!(theirs.contains("Send the MSA redlines"));
    let (_, mine) = app.get("/today", Some(&manager)).await;
    assert!(mine.contains("No task is due."), "{mine}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_day_in_a_real_browser() {
    let app = app();
    a_busy_rep(&app);
    let base = serve(app.router.clone()).await;
    tokio::task::spawn_blocking(move || {
        let Some(browser) = Browser::start() else { return };
        browser.set_window_size(1280, 900).unwrap();
        browser_sign_in(&browser, &base, "rep@pages.test").unwrap();
        browser.goto(&format!("{base}/")).unwrap();
        browser.wait_for("#today-deals", Duration::from_secs(10)).unwrap();
        assert!(browser.current_url().unwrap().ends_with("/today"));
        browser.screenshot(screenshot_dir().join("today.png")).unwrap();
    })
    .await
    .unwrap();
}
