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
        // The builder, and one more component added by its button in a real browser.
        browser.find("#build-plan").unwrap().click().unwrap();
        browser.wait_for("#plan-builder", Duration::from_secs(10)).unwrap();
        browser.goto(&format!("{base}/pay/plans/build?plan=Account%20executive")).unwrap();
        browser.wait_for("#component-1", Duration::from_secs(10)).unwrap();
        browser.find("button[name=add][value=spiff]").unwrap().click().unwrap();
        browser.wait_for("#component-2[data-kind=spiff]", Duration::from_secs(10)).unwrap();
        // The bonus shows its steps; choosing a linear curve shows the curve's fields instead.
        assert!(!browser.find("input[name=c1_from]").unwrap().is_displayed().unwrap());
        let script = "var s = document.querySelector('select[name=c1_curve]'); s.value = 'linear'; s.dispatchEvent(new Event('change'));";
        browser.execute(script, &[]).unwrap();
        assert!(browser.find("input[name=c1_from]").unwrap().is_displayed().unwrap());
        assert!(!browser.find("input[name=c1_s0_a]").unwrap().is_displayed().unwrap());
        browser.screenshot(screenshot_dir().join("pay-builder.png")).unwrap();

        // A target incentive added and saved as a browser posts it (its blank part rows too).
        browser.goto(&format!("{base}/pay/plans/build?plan=Account%20executive")).unwrap();
        browser.wait_for("#component-1", Duration::from_secs(10)).unwrap();
        browser.find("button[name=add][value=target_incentive]").unwrap().click().unwrap();
        browser.wait_for("#component-2[data-kind=target_incentive]", Duration::from_secs(10)).unwrap();
        browser.find("input[name=c2_rule]").unwrap().send_keys("Variable").unwrap();
        browser.find("input[name=c2_target]").unwrap().send_keys("1000").unwrap();
        browser.execute("document.querySelector('select[name=c2_p0_a]').value = 'individual';", &[]).unwrap();
        browser.find("input[name=c2_p0_b]").unwrap().send_keys("100").unwrap();
        browser.find("#plan-builder button.primary").unwrap().click().unwrap();
        browser.wait_for("#pay-plans", Duration::from_secs(10)).unwrap();
    })
    .await
    .unwrap();
    let plans = app::pay::plans(&mut app::Tx::new(demo.app.store.read().unwrap()), demo.org).unwrap();
    let latest = plans.iter().filter(|plan| plan.name == "Account executive").max_by_key(|plan| plan.version).unwrap();
    let definition: serde_json::Value = serde_json::from_str(&latest.definition).unwrap();
    assert_eq!(
        definition["components"][2],
        serde_json::json!({ "type": "target_incentive", "rule": "Variable", "target": "1000", "parts": [{ "of": "individual", "weight": "1" }] })
    );
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

    // Ops record when it was invoiced and paid; a bad date comes back named; the rep reads them.
    let path = format!("/opportunities/{deal}/billing");
    let response = app.post_form(&path, Some(&admin), &[("invoiced_on", "2026-13-01"), ("paid_on", "")], true).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = crate::support::body_text(response).await;
    assert!(unescape(&page).contains("Invoiced on: \"2026-13-01\" is not a date"), "the bad date is named");
    let response = app.post_form(&path, Some(&rep), &[("invoiced_on", "2026-10-02")], true).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "a rep may not");
    let response = app.post_form(&path, Some(&admin), &[("invoiced_on", "2026-10-02"), ("paid_on", "2026-10-20")], true).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, page) = app.get(&format!("/opportunities/{deal}?split=billed"), Some(&admin)).await;
    assert!(page.contains("name=\"invoiced_on\" value=\"2026-10-02\"") && page.contains("Invoice and cash dates saved."), "{page}");
    let (_, page) = app.get(&format!("/opportunities/{deal}"), Some(&rep)).await;
    assert!(page.contains("Invoiced on 2026-10-02 · Cash received on 2026-10-20") && !page.contains("id=\"billing-form\""), "read only");
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

/// Ops build a plan in the form: the demo plan's form holds its tiers in percent; a component is
/// added without saving; a bad rate is named with its component and tier and the form comes back
/// as typed; the saved plan is what the form said (10% to quota, 15% above, a 2,500 club bonus,
/// a 90-day clawback window reclaimed, a 50% first month, paid out in KRW 15 days after). A rep
/// may not open the builder.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ops_build_a_plan_in_the_form() {
    let demo = demo(small_demo());
    let app = &demo.app;
    let admin = app.sign_in(&demo.admin.email).await;
    let (status, body) = app.get("/pay/plans/build?plan=Account%20executive", Some(&admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("name=\"c0_t1_a\" value=\"100\"") && body.contains("name=\"c0_t1_b\" value=\"15\""), "tiers in percent");
    let rep = app.sign_in(&demo.rep.email).await;
    let (status, _) = app.get("/pay/plans/build", Some(&rep)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let mut form: Vec<(&str, &str)> = vec![
        ("name", "Builder plan"),
        ("currency", "USD"),
        ("timing", "booking"),
        ("ties", "upper_tier"),
        ("rounding", "half_up"),
        ("clawback_window", "90"),
        ("clawback_mode", "reclaim"),
        ("ramp", "50"),
        ("payout_currency", "KRW"),
        ("payout_days", "15"),
        ("components", "2"),
        ("c0_kind", "commission"),
        ("c0_rule", "Commission"),
        ("c0_measure", "revenue"),
        ("c0_mode", "marginal"),
        ("c0_basis", "attainment"),
        ("c0_t0_a", "0"),
        ("c0_t0_b", "10"),
        ("c0_t1_a", "100"),
        ("c0_t1_b", "fifteen"),
        ("c1_kind", "bonus"),
        ("c1_rule", "Club"),
        ("c1_of", "individual"),
        ("c1_curve", "steps"),
        ("c1_s0_a", "100"),
        ("c1_s0_b", "2500"),
    ];
    // One more component, nothing saved.
    let mut adding = form.clone();
    adding.push(("add", "spiff"));
    let response = app.post_form("/pay/plans/build", Some(&admin), &adding, true).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = crate::support::body_text(response).await;
    assert!(body.contains("name=\"c2_kind\" value=\"spiff\"") && body.contains("value=\"fifteen\""), "{body}");
    // The bad rate named by component and tier; the form as typed.
    let response = app.post_form("/pay/plans/build", Some(&admin), &form, true).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = unescape(&crate::support::body_text(response).await);
    assert!(body.contains("components.tiers.rate: item 1: item 2: \"fifteen\" is not a decimal number"), "{body}");
    assert!(body.contains("value=\"fifteen\"") && body.contains("value=\"Club\""), "the form as typed");
    let plans = || app::pay::plans(&mut app::Tx::new(app.store.read().unwrap()), demo.org).unwrap();
    assert!(plans().iter().all(|plan| plan.name != "Builder plan"), "nothing saved");

    form.retain(|(name, _)| *name != "c0_t1_b");
    form.push(("c0_t1_b", "15"));
    let response = app.post_form("/pay/plans/build", Some(&admin), &form, true).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{}", location(&response));
    let saved = plans().into_iter().find(|plan| plan.name == "Builder plan").expect("saved");
    let definition: serde_json::Value = serde_json::from_str(&saved.definition).unwrap();
    assert_eq!(
        definition["components"][0]["tiers"],
        serde_json::json!([{ "lower": "0", "rate": "0.1" }, { "lower": "1", "rate": "0.15" }])
    );
    assert_eq!(definition["components"][1]["steps"], serde_json::json!([{ "at": "1", "amount": "2500" }]));
    assert_eq!(definition["clawback"], serde_json::json!({ "window_days": 90, "mode": "reclaim" }));
    assert_eq!(definition["ramp"], serde_json::json!(["0.5"]));
    assert_eq!(definition["payout"], serde_json::json!({ "currency": "KRW", "days_after": 15 }));
    assert_eq!((definition["cap"].clone(), definition["gate"].clone()), (serde_json::Value::Null, serde_json::Value::Null));
}
