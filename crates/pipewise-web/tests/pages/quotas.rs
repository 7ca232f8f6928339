//! The quotas page (`/quotas`): the demo's quotas by quarter with each rep's realism check; ops
//! edit the grid all or nothing, each bad cell marked; a rep sees only their own row and no
//! form; a pasted CSV imports; the page looks right in a real browser.

use std::time::Duration;

use axum::http::StatusCode;
use pipewise_app::{self as app, QuotaSubject};
use pipewise_core::fiscal::FiscalCalendar;
use pipewise_test_support::browser::{Browser, screenshot_dir};

use crate::dashboard::{demo, small_demo};
use crate::support::{browser_sign_in, location, serve};

fn stored(demo: &crate::dashboard::Demo, subject: QuotaSubject, key: &str) -> Option<String> {
    let mut tx = app::Tx::new(demo.app.store.read().unwrap());
    let period = FiscalCalendar::CALENDAR_YEAR.parse_key(key).unwrap();
    let quotas = app::quotas::quotas_in(&mut tx, demo.org, &pipewise_core::access::Access::System, &period).unwrap();
    quotas
        .into_iter()
        .find(|quota| quota.subject == subject && quota.first == period.first && quota.last == period.last)
        .map(|quota| quota.amount.amount().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ops_edit_the_grid_and_reps_read_their_own_quota() {
    let demo = demo(small_demo());
    let app = &demo.app;
    let admin = app.sign_in(&demo.admin.email).await;
    let (status, body) = app.get("/quotas", Some(&admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The demo's fiscal year 2026 by quarter, every rep checked against their own record.
    assert!(body.contains("Quotas · <span class=\"quotas-year\">2026</span>"), "the year heading");
    assert!(body.contains("Can it be reached? (Q4 2026)"), "the realism column names the current quarter");
    let verdicts = ["verdict-reachable", "verdict-stretch", "verdict-unrealistic", "verdict-no_history"];
    let checked: usize = verdicts.iter().map(|verdict| body.matches(verdict).count()).sum();
    let reps = demo.users.iter().filter(|user| user.role == pipewise_core::user::Role::Rep).count();
    assert_eq!(checked, reps, "one verdict a rep");
    let rep = QuotaSubject::User(demo.rep.id);
    let field = format!("q.user.{}.2026-Q1", demo.rep.id);
    let before = stored(&demo, rep, "2026-Q1").expect("the demo set the rep's quarter");
    assert!(body.contains(&format!("name=\"{field}\" value=\"{}\"", before.trim_end_matches(".00"))), "the stored amount in its cell");

    // One bad cell: nothing is written, the cell is marked and what was typed is kept.
    let other = format!("q.user.{}.2026-Q2", demo.rep.id);
    let response = app.post_form("/quotas?year=2026&kind=quarter", Some(&admin), &[(&field, "123456"), (&other, "lots")], true).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = String::from_utf8(axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap().to_vec()).unwrap();
    assert!(body.contains("aria-invalid=\"true\"") && body.contains("value=\"lots\""), "the bad cell is marked and kept");
    assert_eq!(stored(&demo, rep, "2026-Q1").as_deref(), Some(before.as_str()), "nothing written");

    // Good cells are written together; a cleared cell removes its quota.
    let response = app.post_form("/quotas?year=2026&kind=quarter", Some(&admin), &[(&field, "123,456"), (&other, "")], true).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/quotas?year=2026&kind=quarter&saved=2");
    assert_eq!(stored(&demo, rep, "2026-Q1").as_deref(), Some("123456.00"));
    assert_eq!(stored(&demo, rep, "2026-Q2"), None);

    // A pasted CSV, all or nothing.
    let csv = format!("subject,who,period,amount\nuser,{},2026-Q2,99000\n", demo.rep.email);
    let response = app.post_form("/quotas/import?year=2026", Some(&admin), &[("csv", &csv)], true).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(stored(&demo, rep, "2026-Q2").as_deref(), Some("99000.00"));
    let bad = "subject,who,period,amount\nuser,nobody@example.test,2026-Q2,5\n";
    let response = app.post_form("/quotas/import?year=2026", Some(&admin), &[("csv", bad)], true).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = String::from_utf8(axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap().to_vec()).unwrap();
    assert!(body.contains("line 2: who:"), "the bad line is named");

    // A rep reads their own row, without a form; writing is refused.
    let rep_session = app.sign_in(&demo.rep.email).await;
    let (status, body) = app.get("/quotas", Some(&rep_session)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!body.contains("<input name=\"q."), "no inputs for a rep");
    assert!(body.contains(&demo.rep.name), "the rep's own row");
    for other in demo.users.iter().filter(|user| user.role == pipewise_core::user::Role::Rep && user.id != demo.rep.id) {
        assert!(!body.contains(&format!(">{}</a>", other.name)), "{} is not shown to another rep", other.name);
    }
    let response = app.post_form("/quotas?year=2026", Some(&rep_session), &[(&field, "1")], true).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quotas_page_in_a_real_browser() {
    let demo = demo(small_demo());
    let base = serve(demo.app.router.clone()).await;
    let admin = demo.admin.email.clone();
    tokio::task::spawn_blocking(move || {
        let Some(browser) = Browser::start() else { return };
        browser.set_window_size(1440, 1400).unwrap();
        browser_sign_in(&browser, &base, &admin).unwrap();
        browser.goto(&format!("{base}/quotas")).unwrap();
        browser.wait_for(".quota-table", Duration::from_secs(10)).unwrap();
        browser.screenshot(screenshot_dir().join("quotas.png")).unwrap();
        browser.goto(&format!("{base}/quotas?kind=month")).unwrap();
        browser.wait_for(".quota-table", Duration::from_secs(10)).unwrap();
        browser.screenshot(screenshot_dir().join("quotas-months.png")).unwrap();
        eprintln!("screenshots in {}", screenshot_dir().display());
    })
    .await
    .unwrap();
}
