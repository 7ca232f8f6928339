//! Pay pages (`/pay`): the demo rep's statements, every line traced to its deal and rule; pay
//! to date; the what-if; a dispute opened by the rep and moved on by ops; ops lock a statement;
//! another rep's pay is not found; the printable statement and its CSV; a real browser.

use std::time::Duration;

use axum::http::StatusCode;
use pipewise_app::{self as app};
use pipewise_core::access::Access;
use pipewise_core::user::Role;
use pipewise_test_support::browser::{Browser, screenshot_dir};

use crate::dashboard::{demo, small_demo};
use crate::support::{between, browser_sign_in, location, serve, unescape};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rep_traces_their_pay_and_disputes_a_line() {
    let demo = demo(small_demo());
    let app = &demo.app;
    // The demo's ops computed every rep's quarters; pick the rep's current one.
    let statements =
        app::pay::statements(&mut app::Tx::new(app.store.read().unwrap()), demo.org, &Access::System, Some(demo.rep.id)).unwrap();
    let current = statements.last().expect("the demo computed the rep's statements").clone();
    assert!(statements.iter().rev().skip(1).all(|stored| stored.status == app::StatementStatus::Locked), "closed quarters are locked");
    let rep = app.sign_in(&demo.rep.email).await;
    let (status, body) = app.get("/pay", Some(&rep)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let body = unescape(&body);
    let total = between(&body, "id=\"statement-total\">", "</strong>").unwrap();
    assert_eq!(total.replace(',', ""), format!("USD {}", current.total.amount()), "the current quarter's total");
    let decoded = app::pay::decode_statement(current.clone()).unwrap();
    // Every commission line names its deal.
    for line in decoded.statement.lines.iter().filter(|line| line.kind == pipewise_comp::LineKind::Commission) {
        let deal = line.deal.unwrap();
        assert!(body.contains(&format!("href=\"/opportunities/{deal}\"")), "line on deal {deal} links to it");
    }
    assert!(body.contains("Pay to date in 2026"), "pay to date");

    // What a deal of 50,000 would add.
    let (_, body) = app.get("/pay?what_if=50000", Some(&rep)).await;
    assert!(body.contains("A deal of USD 50,000.00 booked today would add USD "), "the what-if answer");

    // The rep disputes line 1 of the statement; ops review it.
    let response = app
        .post_form(&format!("/pay/statements/{}/disputes", current.id), Some(&rep), &[("line", "1"), ("note", "Missing a deal")], true)
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{}", location(&response));
    let disputes = app::pay::disputes(&mut app::Tx::new(app.store.read().unwrap()), demo.org, &Access::System, current.id).unwrap();
    assert_eq!(disputes.len(), 1);
    let response = app.post_form(&format!("/pay/disputes/{}", disputes[0].id), Some(&rep), &[("status", "in_review")], true).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let admin = app.sign_in(&demo.admin.email).await;
    let response = app.post_form(&format!("/pay/disputes/{}", disputes[0].id), Some(&admin), &[("status", "in_review")], true).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, body) = app.get(&format!("/pay?owner={}", demo.rep.id), Some(&admin)).await;
    assert!(body.contains("In review") && body.contains("Missing a deal"), "the dispute's state");

    // Ops lock it; the printable view and the CSV show the same lines.
    let response = app.post_form(&format!("/pay/statements/{}/lock", current.id), Some(&admin), &[], true).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (status, print) = app.get(&format!("/pay/statements/{}", current.id), Some(&rep)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(print.contains("data-status=\"locked\""), "locked");
    let (status, csv) = app.get(&format!("/pay/statements/{}/csv", current.id), Some(&rep)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(csv.lines().count(), decoded.statement.lines.len() + 1, "{csv}");

    assert!(csv.lines().next().unwrap().ends_with(",corrects_period,corrects_line,reversed_on"), "{csv}");

    // Another rep's pay is not found.
    let other = demo.users.iter().find(|user| user.role == Role::Rep && user.id != demo.rep.id).unwrap();
    let (status, _) = app.get(&format!("/pay?owner={}", other.id), Some(&rep)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let theirs = app::pay::statements(&mut app::Tx::new(app.store.read().unwrap()), demo.org, &Access::System, Some(other.id)).unwrap();
    let (status, _) = app.get(&format!("/pay/statements/{}", theirs[0].id), Some(&rep)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Ops move another rep to a plan paid out in won from the open quarter; once rates of the 15th
    // day after it are held, the statement converts its total at that day's rate, rounded once
    // to whole won (EUR-based rates: KRW 1,500 and USD 1.25 per EUR make 1,200 won a dollar).
    let open = theirs.last().unwrap().clone();
    assert_eq!(open.status, app::StatementStatus::Open);
    let mut korea: serde_json::Value = serde_json::from_str(&decoded_plan(app, demo.org, &open)).unwrap();
    korea["payout"] = serde_json::json!({ "currency": "KRW", "days_after": 15 });
    let response = app.post_form("/pay/plans", Some(&admin), &[("name", "Paid in won"), ("definition", &korea.to_string())], true).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{}", location(&response));
    let (first, owner) = (open.first.to_string(), other.id.to_string());
    let response =
        app.post_form("/pay/assignments", Some(&admin), &[("owner", &owner), ("plan", "Paid in won"), ("first_day", &first)], true).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{}", location(&response));
    let payout_day = pipewise_core::time::plus_days(open.last, 15).unwrap();
    let rates = [
        (pipewise_core::Currency::KRW, payout_day, "1500".parse().unwrap()),
        (pipewise_core::Currency::USD, payout_day, "1.25".parse().unwrap()),
    ];
    let mut tx = app::Tx::new(app.store.write().unwrap());
    app::bulk::put_rates(&mut tx, demo.org, pipewise_core::Currency::EUR, &rates).unwrap();
    tx.commit().unwrap();
    let period = period_key_of(app, demo.org, &open);
    let response = app.post_form("/pay/compute", Some(&admin), &[("owner", &owner), ("period", &period)], true).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{}", location(&response));
    let read = app::pay::statement(&mut app::Tx::new(app.store.read().unwrap()), demo.org, &Access::System, open.id).unwrap().unwrap();
    let payout = read.statement.payout.expect("paid out in KRW");
    assert_eq!((payout.on, payout.rate), (payout_day, Some("1200".parse().unwrap())));
    let amount = payout.amount.unwrap();
    assert_eq!(
        amount,
        pipewise_comp::Rounding::HalfUp
            .round(read.stored.total.amount() * "1200".parse::<pipewise_core::money::Decimal>().unwrap(), pipewise_core::Currency::KRW)
    );
    let (_, body) = app.get(&format!("/pay/statements/{}", open.id), Some(&admin)).await;
    let money =
        pipewise_web::i18n::money(pipewise_web::i18n::Locale::En, pipewise_core::Money::new(amount, pipewise_core::Currency::KRW).unwrap());
    assert!(unescape(&body).contains(&format!("Paid out as {money} on ")), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pay_page_in_a_real_browser() {
    let demo = demo(small_demo());
    let base = serve(demo.app.router.clone()).await;
    let (rep, admin) = (demo.rep.email.clone(), demo.admin.email.clone());
    tokio::task::spawn_blocking(move || {
        let Some(browser) = Browser::start() else { return };
        browser.set_window_size(1440, 1300).unwrap();
        browser_sign_in(&browser, &base, &rep).unwrap();
        browser.goto(&format!("{base}/pay?what_if=50000")).unwrap();
        browser.wait_for(".pay-lines", Duration::from_secs(10)).unwrap();
        browser.screenshot(screenshot_dir().join("pay-rep.png")).unwrap();
        browser.delete_cookies().unwrap();
        browser_sign_in(&browser, &base, &admin).unwrap();
        browser.goto(&format!("{base}/pay")).unwrap();
        browser.wait_for("#pay-plans", Duration::from_secs(10)).unwrap();
        browser.screenshot(screenshot_dir().join("pay-ops.png")).unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ops_split_a_deal_from_its_page() {
    let demo = demo(small_demo());
    let app = &demo.app;
    let deal = pipewise_app::deals::opportunities_for(
        &mut app::Tx::new(app.store.read().unwrap()),
        demo.org,
        &Access::System,
        &pipewise_app::OpportunityFilter { owner_id: Some(demo.rep.id), ..Default::default() },
    )
    .unwrap()[0]
        .id;
    let other = demo.users.iter().find(|user| user.role == Role::Rep && user.id != demo.rep.id).unwrap();
    let admin = app.sign_in(&demo.admin.email).await;
    let (_, page) = app.get(&format!("/opportunities/{deal}"), Some(&admin)).await;
    assert!(
        page.contains("No splits: the owner is credited with the whole deal.") && page.contains("action=\"/opportunities/"),
        "the form"
    );
    let (rep_id, other_id) = (demo.rep.id.to_string(), other.id.to_string());
    // The rep 60% and the other rep `second`%, both revenue.
    let split = |second: &'static str| {
        [
            ("user_0", rep_id.as_str()),
            ("kind_0", "revenue"),
            ("share_0", "60"),
            ("user_1", other_id.as_str()),
            ("kind_1", "revenue"),
            ("share_1", second),
        ]
    };
    let path = format!("/opportunities/{deal}/splits");
    let response = app.post_form(&path, Some(&admin), &split("30"), true).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "90% is refused");
    let response = app.post_form(&path, Some(&admin), &split("40"), true).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, page) = app.get(&format!("/opportunities/{deal}"), Some(&admin)).await;
    assert!(page.contains(&format!("<strong>{}</strong> <span class=\"muted\">Revenue 40%</span>", other.name)), "the split is listed");
    // The rep sees the splits, without the form.
    let rep = app.sign_in(&demo.rep.email).await;
    let (_, page) = app.get(&format!("/opportunities/{deal}"), Some(&rep)).await;
    assert!(page.contains("Revenue 60%") && !page.contains("name=\"share_0\""), "read only for the rep");
}

/// The JSON definition of the plan `statement` was computed under.
fn decoded_plan(app: &crate::support::App, org: pipewise_core::OrgId, statement: &app::StoredStatement) -> String {
    let plans = app::pay::plans(&mut app::Tx::new(app.store.read().unwrap()), org).unwrap();
    plans.into_iter().find(|plan| plan.name == statement.plan && plan.version == statement.version).unwrap().definition
}

/// The fiscal key of `statement`'s period (`2026-Q4`).
fn period_key_of(app: &crate::support::App, org: pipewise_core::OrgId, statement: &app::StoredStatement) -> String {
    let organisation = app::users::organisation(&mut app::Tx::new(app.store.read().unwrap()), org).unwrap().unwrap();
    organisation.fiscal.period_of(statement.kind, statement.first).key()
}
