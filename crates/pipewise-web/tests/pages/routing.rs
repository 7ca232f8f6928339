//! Lead routing in the web app (issue 14 point 7): ops set the ideal customer, the pool's
//! capacities and a territory through the form (a bad number or an unknown member comes back
//! with the problem and what was typed); new leads are then routed and scored, and the lead's
//! page says how; the fairness report shows each rep's share; a rep may not see it, a manager
//! may read it but not change the rules. Then the page in a browser, in Korean too.

use axum::http::{StatusCode, header};
use pipewise_app as app;
use pipewise_core::records::{LeadStatus, NewLead};
use pipewise_core::user::{Locale, Role};
use pipewise_test_support::browser::{Browser, screenshot_dir};
use pipewise_test_support::transact;

use crate::support::{App, app, body_text, browser_sign_in, serve};

fn new_lead(name: &str, region: &str, title: &str) -> NewLead {
    NewLead {
        name: name.into(),
        company: Some(format!("{name} Co")),
        email: Some(format!("{}@{}.example", name.to_lowercase().replace(' ', "."), name.to_lowercase().replace(' ', ""))),
        phone: None,
        title: Some(title.into()),
        source: Some("web form".into()),
        industry: Some("Software".into()),
        employee_count: Some(300),
        region: Some(region.into()),
        status: LeadStatus::New,
        owner_id: None,
    }
}

fn leads_come_in(app: &App, names: &[(&str, &str, &str)]) -> Vec<pipewise_core::records::Lead> {
    names
        .iter()
        .map(|(name, region, title)| {
            transact(&*app.store, |tx| app::records::create_lead(tx, &app.ctx(app.admin.id), new_lead(name, region, title))).unwrap()
        })
        .collect()
}

#[tokio::test]
async fn ops_set_routing_new_leads_follow_it_and_the_report_shows_each_share() {
    let app = app();
    let ops = app.create_user("ops@pages.test", "Olivia Ops", Role::Ops, None, Locale::En);
    let rep = app.org.rep.id;
    let manager = app.org.manager.id;
    let rep_session = app.sign_in("rep@pages.test").await;
    let (status, _) = app.get("/leads/routing", Some(&rep_session)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, list) = app.get("/leads", Some(&rep_session)).await;
    assert!(!list.contains("href=\"/leads/routing\""), "no link for reps");

    let session = app.sign_in(&ops.email).await;
    let (status, page) = app.get("/leads/routing", Some(&session)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Routing is off") && page.contains("No lead has come in"), "{page}");
    let (_, list) = app.get("/leads", Some(&session)).await;
    assert!(list.contains("href=\"&#x2f;leads&#x2f;routing\"") || list.contains("href=\"/leads/routing\""), "{list}");

    // A bad number and a member outside the pool: both said, what was typed kept.
    let rep_capacity = format!("capacity_{}", rep.0);
    let manager_capacity = format!("capacity_{}", manager.0);
    let bad = [
        ("industries", "Software"),
        ("min_employees", "fifty"),
        (rep_capacity.as_str(), "2"),
        ("territory_0_name", "Korea"),
        ("territory_0_regions", "KR"),
        ("territory_0_members", &manager.0.to_string()),
    ];
    let response = app.post_form("/leads/routing", Some(&session), &bad, true).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = body_text(response).await;
    assert!(page.contains("Employees from: &quot;fifty&quot; is not a whole number."), "{page}");
    let bad = [
        ("industries", "Software"),
        (rep_capacity.as_str(), "2"),
        ("territory_0_name", "Korea"),
        ("territory_0_regions", "KR"),
        ("territory_0_members", &manager.0.to_string()),
    ];
    let response = app.post_form("/leads/routing", Some(&session), &bad, true).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = body_text(response).await;
    assert!(page.contains("Territories: ") && page.contains("value=\"Korea\""), "{page}");

    let manager_id = manager.0.to_string();
    let good = [
        ("industries", "Software"),
        ("titles", "head, 팀장"),
        (rep_capacity.as_str(), "2"),
        (manager_capacity.as_str(), "1"),
        ("territory_0_name", "Korea"),
        ("territory_0_regions", "KR"),
        ("territory_0_members", manager_id.as_str()),
    ];
    let response = app.post_form("/leads/routing", Some(&session), &good, false).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "no CSRF token, nothing saved");
    let response = app.post_form("/leads/routing", Some(&session), &good, true).await;
    assert_eq!(response.headers()[header::LOCATION], "/leads/routing?saved=1");

    let leads =
        leads_come_in(&app, &[("Seoul One", "KR", "영업팀장"), ("Austin One", "US", "Head of Sales"), ("Austin Two", "US", "Intern")]);
    assert_eq!(leads.iter().map(|lead| lead.owner_id).collect::<Vec<_>>(), vec![Some(manager), Some(rep), Some(rep)]);
    let (_, page) = app.get(&format!("/leads/{}", leads[0].id), Some(&session)).await;
    assert!(page.contains("100 of 100") && page.contains("to Mina Manager by the Korea territory"), "{page}");
    let (_, page) = app.get(&format!("/leads/{}", leads[2].id), Some(&session)).await;
    assert!(page.contains("80 of 100") && page.contains("from the pool"), "an intern misses the title: {page}");
    let (_, list) = app.get("/leads?sort=fit&dir=desc", Some(&session)).await;
    assert!(list.contains("title=\"Sort by Fit\">Fit"), "{list}");

    let (_, page) = app.get("/leads/routing?saved=1", Some(&session)).await;
    assert!(page.contains("Lead routing saved") && page.contains("Leads in: 3 in the last 30 days"), "{page}");
    assert!(page.contains("Too few to judge"), "{page}");
    assert!(page.contains(&format!("name=\"{rep_capacity}\" type=\"number\" min=\"0\" max=\"10\" value=\"2\"")), "{page}");

    // A manager reads the report, the form disabled, and may not save.
    let manager_session = app.sign_in("manager@pages.test").await;
    let (status, page) = app.get("/leads/routing", Some(&manager_session)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("fairness-table") && page.contains(" disabled") && !page.contains("Save routing"), "{page}");
    let response = app.post_form("/leads/routing", Some(&manager_session), &good, true).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_routing_page_in_a_browser_in_english_and_korean() {
    let app = app();
    let ops = app.create_user("ops@pages.test", "Olivia Ops", Role::Ops, None, Locale::Ko);
    let (rep, manager) = (app.org.rep.id, app.org.manager.id);
    let rules = pipewise_leads::routing::Rules {
        profile: pipewise_leads::fit::Profile { industries: vec!["Software".into()], titles: vec!["head".into()], ..Default::default() },
        pool: vec![
            pipewise_leads::routing::Member { user: rep, capacity: 2 },
            pipewise_leads::routing::Member { user: manager, capacity: 1 },
        ],
        territories: vec![],
    };
    transact(&*app.store, |tx| app::routing::set_rules(tx, &app.ctx(app.admin.id), &rules)).unwrap();
    let names: Vec<(String, &str, &str)> =
        (0..24).map(|index| (format!("Lead {index}"), "US", if index % 3 == 0 { "Intern" } else { "Head of IT" })).collect();
    let borrowed: Vec<(&str, &str, &str)> = names.iter().map(|(name, region, title)| (name.as_str(), *region, *title)).collect();
    leads_come_in(&app, &borrowed);
    let session = app.sign_in(&ops.email).await;
    let (_, page) = app.get("/leads/routing", Some(&session)).await;
    assert!(page.contains("<h1>리드 배정과 공정성</h1>") && page.contains("공정") && page.contains("배정 규칙 저장"), "{page}");
    let admin_email = app.admin.email.clone();
    let base = serve(app.router.clone()).await;
    tokio::task::spawn_blocking(move || {
        let Some(browser) = Browser::start() else { return };
        browser_sign_in(&browser, &base, &admin_email).unwrap();
        browser.goto(&format!("{base}/leads/routing")).unwrap();
        let table = browser.find("#fairness-table").unwrap().text().unwrap();
        assert!(table.contains("Ravi Rep") && table.contains("Fair"), "{table}");
        browser.screenshot(screenshot_dir().join("routing.png")).unwrap();
    })
    .await
    .unwrap();
}
