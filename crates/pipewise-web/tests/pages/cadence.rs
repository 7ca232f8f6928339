//! Working a lead from its page (issue 14 point 7): the first touch overdue, attempts logged in
//! one click (a new lead becomes working), the last-chance message asked for once the attempts
//! are spent, a wait until past the average sales cycle, and only then the close-out; an answer
//! ends the cadence. The list says what each lead needs.

use axum::http::{StatusCode, header};
use pipewise_app as app;
use pipewise_app::WriteCtx;
use pipewise_core::records::{LeadStatus, NewLead};
use pipewise_test_support::transact;

use crate::support::app;

fn new_lead(name: &str) -> NewLead {
    NewLead {
        name: name.into(),
        company: Some(format!("{name} Co")),
        email: Some(format!("{}@example.org", name.to_lowercase())),
        phone: None,
        title: None,
        source: Some("event".into()),
        industry: None,
        employee_count: None,
        region: None,
        status: LeadStatus::New,
        owner_id: None,
    }
}

#[tokio::test]
async fn a_lead_is_worked_attempt_by_attempt_then_closed_out_only_when_clearly_dead() {
    let app = app();
    let rep = app.org.rep.id;
    let forty_days_ago = WriteCtx { at: app.now.plus_seconds(-40 * 86_400), ..app.ctx(rep) };
    let mut quiet = new_lead("Quiet");
    quiet.owner_id = Some(rep);
    let lead = transact(&*app.store, |tx| app::records::create_lead(tx, &forty_days_ago, quiet)).unwrap();
    let session = app.sign_in("rep@pages.test").await;
    let page_of = |id: pipewise_core::LeadId| format!("/leads/{id}");
    let (_, page) = app.get(&page_of(lead.id), Some(&session)).await;
    assert!(page.contains("First touch overdue") && page.contains("No touch yet"), "{page}");
    assert!(
        page.contains("6 attempts before the close-out (too few converted leads to learn from yet); average sales cycle 30 days"),
        "{page}"
    );

    let attempt = |kind: &'static str| [("kind", kind)];
    let response = app.post_form(&format!("/leads/{}/attempts", lead.id), Some(&session), &attempt("call"), false).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "CSRF");
    for _ in 0..6 {
        let response = app.post_form(&format!("/leads/{}/attempts", lead.id), Some(&session), &attempt("call"), true).await;
        assert_eq!(response.headers()[header::LOCATION], format!("/leads/{}#lead-cadence", lead.id));
    }
    let (_, page) = app.get(&page_of(lead.id), Some(&session)).await;
    assert!(page.contains("send the last-chance message"), "{page}");
    assert!(page.contains("First touch after 960 h (past the 24 h window)"), "{page}");
    let (_, list) = app.get("/leads", Some(&session)).await;
    assert!(list.contains("Last-chance message due"), "{list}");
    let (_, day) = app.get("/today", Some(&session)).await;
    let leads = crate::support::between(&day, "id=\"today-leads\"", "</section>").expect("the day's leads").to_owned();
    assert!(leads.contains("Quiet") && leads.contains("Last-chance message due"), "the rep's day says what the lead needs: {leads}");
    let mut tx = app::Tx::new(app.store.read().unwrap());
    assert_eq!(
        app::records::lead(&mut tx, app.org.org(), lead.id).unwrap().unwrap().status,
        LeadStatus::Working,
        "a first attempt starts the work"
    );
    drop(tx);
    app.post_form(&format!("/leads/{}/attempts", lead.id), Some(&session), &attempt("last_chance"), true).await;
    let (_, page) = app.get(&page_of(lead.id), Some(&session)).await;
    assert!(page.contains("Last chance sent: wait until") && !page.contains("/close_out\""), "{page}");
    let response = app.post_form(&format!("/leads/{}/close_out", lead.id), Some(&session), &[], true).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "not yet");

    // A lead whose last chance went out a week ago and is past the cycle: closed out from its page.
    let old = WriteCtx { at: app.now.plus_seconds(-50 * 86_400), ..app.ctx(rep) };
    let dead = transact(&*app.store, |tx| app::records::create_lead(tx, &old, new_lead("Gone"))).unwrap();
    for days in [45, 44, 42, 39, 34, 27] {
        let ctx = WriteCtx { at: app.now.plus_seconds(-days * 86_400), ..app.ctx(rep) };
        transact(&*app.store, |tx| app::cadence::log_attempt(tx, &ctx, dead.id, "email", false)).unwrap();
    }
    let week_ago = WriteCtx { at: app.now.plus_seconds(-7 * 86_400), ..app.ctx(rep) };
    transact(&*app.store, |tx| app::cadence::log_attempt(tx, &week_ago, dead.id, "last_chance", false)).unwrap();
    let (_, page) = app.get(&page_of(dead.id), Some(&session)).await;
    assert!(page.contains("clearly past your average sales cycle: close it out") && page.contains("/close_out\""), "{page}");
    let response = app.post_form(&format!("/leads/{}/close_out", dead.id), Some(&session), &[], true).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let mut tx = app::Tx::new(app.store.read().unwrap());
    assert_eq!(app::records::lead(&mut tx, app.org.org(), dead.id).unwrap().unwrap().status, LeadStatus::Disqualified);
    drop(tx);

    // An answer ends the cadence.
    let fresh = transact(&*app.store, |tx| app::records::create_lead(tx, &app.ctx(rep), new_lead("Keen"))).unwrap();
    app.post_form(&format!("/leads/{}/attempts", fresh.id), Some(&session), &[("kind", "call"), ("reached", "1")], true).await;
    let (_, page) = app.get(&page_of(fresh.id), Some(&session)).await;
    assert!(page.contains("They answered") && page.contains("First touch after 0 min (inside the 24 h window)"), "{page}");
}

#[tokio::test]
async fn a_lead_is_qualified_beyond_bant_and_a_source_of_poor_leads_is_flagged() {
    let app = app();
    let rep = app.org.rep.id;
    let lead = transact(&*app.store, |tx| app::records::create_lead(tx, &app.ctx(rep), new_lead("Keen"))).unwrap();
    let session = app.sign_in("rep@pages.test").await;
    let (_, page) = app.get(&format!("/leads/{}", lead.id), Some(&session)).await;
    assert!(page.contains("Not qualified yet") && page.contains("What they expect matches what we offer"), "{page}");
    let partial = [("expectations", "yes"), ("success", "yes"), ("resources", "partly"), ("outlook", "unknown")];
    let response = app.post_form(&format!("/leads/{}/qualification", lead.id), Some(&session), &partial, true).await;
    assert_eq!(response.headers()[header::LOCATION], format!("/leads/{}#lead-qualification", lead.id));
    let (_, page) = app.get(&format!("/leads/{}", lead.id), Some(&session)).await;
    assert!(page.contains("Keep qualifying: 42 of 100 with 3 of 6 answered"), "{page}");
    assert!(page.contains("<option value=\"partly\" selected>Partly</option>"), "the answers kept: {page}");
    let full =
        [("expectations", "yes"), ("success", "yes"), ("resources", "partly"), ("outlook", "yes"), ("threats", "yes"), ("worth", "yes")];
    app.post_form(&format!("/leads/{}/qualification", lead.id), Some(&session), &full, true).await;
    let (_, page) = app.get(&format!("/leads/{}", lead.id), Some(&session)).await;
    assert!(page.contains("Qualified: 92 of 100 with 6 of 6 answered"), "{page}");
    let mut tx = app::Tx::new(app.store.read().unwrap());
    assert_eq!(app::records::lead(&mut tx, app.org.org(), lead.id).unwrap().unwrap().status, LeadStatus::Qualified);
    drop(tx);
    let bad = [("worth", "maybe")];
    let response = app.post_form(&format!("/leads/{}/qualification", lead.id), Some(&session), &bad, true).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // A trade show brings 20 leads and none qualifies; referrals bring 5, four qualified.
    for index in 0..20 {
        let mut new = new_lead(&format!("Show{index}"));
        new.source = Some("trade show".into());
        transact(&*app.store, |tx| app::records::create_lead(tx, &app.ctx(rep), new)).unwrap();
    }
    for index in 0..5 {
        let mut new = new_lead(&format!("Ref{index}"));
        new.source = Some("referral".into());
        new.status = if index < 4 { LeadStatus::Qualified } else { LeadStatus::New };
        transact(&*app.store, |tx| app::records::create_lead(tx, &app.ctx(rep), new)).unwrap();
    }
    let manager = app.sign_in("manager@pages.test").await;
    let (_, page) = app.get("/leads/routing", Some(&manager)).await;
    let table = crate::support::between(&page, "id=\"sources-table\"", "</table>").expect("the sources").to_owned();
    assert!(
        table.contains(
            "<td>trade show</td><td class=\"num\">20</td><td class=\"num\">0</td><td><span class=\"pill verdict-over\">Few qualified</span>"
        ),
        "{table}"
    );
    assert!(table.contains("<td>referral</td><td class=\"num\">5</td><td class=\"num\">4</td><td></td>"), "{table}");
}
