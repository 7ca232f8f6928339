//! Leads in the web app: the list with its filters, a lead's page, and its conversion from the
//! page into an account, a contact and a deal; a bad amount comes back with what was typed.

use axum::http::StatusCode;
use pipewise_app as app;
use pipewise_core::records::{LeadStatus, NewLead};
use pipewise_test_support::transact;

use crate::support::{app, location};

#[tokio::test]
async fn a_lead_is_listed_opened_and_converted_from_its_page() {
    let app = app();
    let rep = app.org.rep.id;
    let lead = transact(&*app.store, |tx| {
        let new = NewLead {
            name: "Ana Lima".into(),
            company: Some("Lima Freight".into()),
            email: Some("ana@limafreight.example".into()),
            phone: None,
            title: Some("Head of Ops".into()),
            source: Some("web form".into()),
            industry: None,
            employee_count: None,
            region: None,
            status: LeadStatus::Qualified,
            owner_id: Some(rep),
        };
        app::records::create_lead(tx, &app.ctx(rep), new)
    })
    .unwrap();
    transact(&*app.store, |tx| {
        let waiting = NewLead {
            name: "Cy Gomez".into(),
            company: Some("Gomez Bakery".into()),
            email: None,
            phone: None,
            title: None,
            source: Some("event".into()),
            industry: None,
            employee_count: None,
            region: None,
            status: LeadStatus::New,
            owner_id: None,
        };
        app::records::create_lead(
            tx,
            &pipewise_app::WriteCtx { at: pipewise_test_support::fixtures::at("2026-06-10T09:00:00Z"), ..app.ctx(rep) },
            waiting,
        )
    })
    .unwrap();
    let session = app.sign_in("rep@pages.test").await;
    // Unowned leads, and new ones past the answer window, are flagged.
    let (_, unowned) = app.get("/leads?owner=none", Some(&session)).await;
    assert!(unowned.contains("Gomez Bakery") && !unowned.contains("Lima Freight"), "{unowned}");
    assert!(unowned.contains("Unowned · Past the answer window"), "{unowned}");
    let (status, list) = app.get("/leads?status=qualified", Some(&session)).await;
    assert_eq!(status, StatusCode::OK);
    let link = format!("/leads/{}", lead.id);
    assert!((list.contains(&link) || list.contains(&link.replace('/', "&#x2f;"))) && list.contains("Lima Freight"), "{list}");
    let (_, none) = app.get("/leads?status=new", Some(&session)).await;
    assert!(!none.contains("Lima Freight"));
    let (status, page) = app.get(&format!("/leads/{}", lead.id), Some(&session)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Convert the lead") && page.contains("Head of Ops"), "{page}");

    let path = format!("/leads/{}/convert", lead.id);
    let refused = app.post_form(&path, Some(&session), &[("create_deal", "1"), ("deal_name", "Pilot"), ("amount", "lots")], true).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = crate::support::body_text(refused).await;
    assert!(body.contains("is not a decimal amount") && body.contains("value=\"Pilot\""), "{body}");
    let converted = app.post_form(&path, Some(&session), &[("create_deal", "1"), ("deal_name", "Pilot"), ("amount", "18000")], true).await;
    assert_eq!(converted.status(), StatusCode::SEE_OTHER);
    let deal_path = location(&converted);
    assert!(deal_path.starts_with("/opportunities/"), "{deal_path}");
    let (_, deal) = app.get(&deal_path, Some(&session)).await;
    assert!(deal.contains("Pilot") && deal.contains("Lima Freight"), "{deal}");
    let (_, page) = app.get(&format!("/leads/{}", lead.id), Some(&session)).await;
    assert!(page.contains("cannot be converted again") && page.contains("Converted"), "{page}");
}
