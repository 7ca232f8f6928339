//! The deal page: visibility, the edit form, history and "as of".

use axum::http::StatusCode;
use pipewise_app as app;
use pipewise_core::opportunity::OpportunityPatch;
use pipewise_core::user::{Locale, Role};
use pipewise_test_support::transact;

use crate::support::{app, body_text, location, unescape};

#[tokio::test]
async fn another_reps_deal_is_the_same_404_as_a_missing_one() {
    let app = app();
    let other = app.create_user("other@pages.test", "Olga Other", Role::Rep, Some(app.org.manager.id), Locale::En);
    let theirs = app.create_deal("Olga's secret deal", other.id);
    let session = app.sign_in("rep@pages.test").await;
    let (status, hidden) = app.get(&format!("/opportunities/{}", theirs.id), Some(&session)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!hidden.contains("Olga"), "nothing about the deal leaks");
    let (missing_status, missing) = app.get("/opportunities/999999", Some(&session)).await;
    assert_eq!(missing_status, StatusCode::NOT_FOUND);
    assert_eq!(hidden, missing, "a hidden deal looks exactly like a missing one");
    // Writing to it is the same 404.
    let response = app.post_form(&format!("/opportunities/{}", theirs.id), Some(&session), &[("name", "mine now")], true).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = app.post_form(&format!("/opportunities/{}/stage", theirs.id), Some(&session), &[("stage_id", "2")], true).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    // Their manager sees it.
    let manager = app.sign_in("manager@pages.test").await;
    assert_eq!(app.get(&format!("/opportunities/{}", theirs.id), Some(&manager)).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_bad_amount_is_shown_beside_the_field_and_every_other_input_is_kept() {
    let app = app();
    let deal = app.create_deal("Acme renewal", app.org.rep.id);
    let session = app.sign_in("rep@pages.test").await;
    let fields = [
        ("name", "Acme renewal, bigger"),
        ("account_id", &app.org.account.id.to_string()),
        ("owner_id", &app.org.rep.id.to_string()),
        ("stage_id", &app.org.simple.stages[1].id.to_string()),
        ("forecast_category", "best_case"),
        ("currency", "USD"),
        ("amount", "12.345"),
        ("close_date", "2026-11-30"),
        ("next_step", "Call the CFO on Monday"),
        ("close_reason", ""),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(key, value)| (*key, *value)).collect();
    let response = app.post_form(&format!("/opportunities/{}", deal.id), Some(&session), &fields, true).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = unescape(&body_text(response).await);
    assert!(body.contains("Nothing was saved."), "{body}");
    let amount_error = r#"<p class="field-error" id="amount-error">12.345 has 3 decimal places but USD has 2</p>"#;
    assert!(body.contains(amount_error), "the error sits beside the amount: {body}");
    assert!(body.contains(r#"id="amount" name="amount" value="12.345""#));
    for kept in
        [r#"value="Acme renewal, bigger""#, r#"value="2026-11-30""#, r#"value="Call the CFO on Monday""#, r#"value="best_case" selected"#]
    {
        assert!(body.contains(kept), "{kept} is kept");
    }
    assert!(body.contains(&format!(r#"<option value="{}" selected>Qualification</option>"#, app.org.simple.stages[1].id)));
    // Nothing was saved, not even the good fields.
    let stored = app.store.read().unwrap().opportunity(app.org.org(), deal.id, false).unwrap().unwrap();
    assert_eq!(stored, deal);

    // Two problems at once are both shown; the core's own rule (a loss needs a reason) among them.
    let lost = app.org.simple.stages[5].id.to_string();
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(key, value)| {
            (
                *key,
                if *key == "stage_id" {
                    lost.as_str()
                } else if *key == "close_date" {
                    "2026-13-01"
                } else {
                    value
                },
            )
        })
        .collect();
    let body = unescape(&body_text(app.post_form(&format!("/opportunities/{}", deal.id), Some(&session), &fields, true).await).await);
    assert!(body.contains(r#""2026-13-01" is not a date"#), "{body}");
    assert!(body.contains("12.345 has 3 decimal places but USD has 2"));

    // A good form saves and goes back to the page.
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(key, value)| match *key {
            "amount" => (*key, "15,000.50"),
            "close_date" => (*key, "2026-11-30"),
            "stage_id" => (*key, "2"),
            _ => (*key, *value),
        })
        .collect();
    let response = app.post_form(&format!("/opportunities/{}", deal.id), Some(&session), &fields, true).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{}", body_text(response).await);
}

#[tokio::test]
async fn edits_and_moves_land_in_the_history_with_names() {
    let app = app();
    let deal = app.create_deal("Acme renewal", app.org.rep.id);
    let session = app.sign_in("rep@pages.test").await;
    let mut fields = vec![
        ("name", "Acme renewal".to_owned()),
        ("account_id", app.org.account.id.to_string()),
        ("owner_id", app.org.rep.id.to_string()),
        ("stage_id", deal.stage_id.to_string()),
        ("forecast_category", "pipeline".to_owned()),
        ("currency", "USD".to_owned()),
        ("amount", "15000".to_owned()),
        ("close_date", "2026-12-15".to_owned()),
        ("next_step", "Send the proposal".to_owned()),
    ];
    fields.push(("close_reason", String::new()));
    let form: Vec<(&str, &str)> = fields.iter().map(|(key, value)| (*key, value.as_str())).collect();
    let response = app.post_form(&format!("/opportunities/{}", deal.id), Some(&session), &form, true).await;
    assert_eq!(location(&response), format!("/opportunities/{}?saved=1", deal.id));
    let qualification = app.org.simple.stages[1].id.to_string();
    let response = app.post_form(&format!("/opportunities/{}/stage", deal.id), Some(&session), &[("stage_id", &qualification)], true).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (status, body) = app.get(&format!("/opportunities/{}?saved=1", deal.id), Some(&session)).await;
    assert_eq!(status, StatusCode::OK);
    let body = unescape(&body);
    assert!(body.contains("Saved."));
    // Newest first: the changes (one entry: the fixed test clock gives both writes the same
    // time), then the creation; times in Seoul.
    let stage_change =
        body.find(r#"<span class="old">Prospecting</span> <span aria-hidden="true">→</span> <span class="new">Qualification</span>"#);
    let amount_change =
        body.find(r#"<span class="old">USD 12,000.00</span> <span aria-hidden="true">→</span> <span class="new">USD 15,000.00</span>"#);
    let creation = body.find("created the deal");
    assert!(stage_change.is_some() && amount_change.is_some() && creation.is_some(), "{body}");
    assert!(stage_change < creation && amount_change < creation);
    assert!(body.contains("<strong>Ravi Rep</strong> changed"));
    assert!(body.contains("2026-06-15 18:00 KST · via web"), "09:00 UTC is 18:00 in Seoul");
    assert!(body.contains("<strong>Pages Customer</strong>") || body.contains("Pages Customer"));
}

#[tokio::test]
async fn the_deal_as_of_a_past_day_shows_what_was_known_then() {
    let app = app();
    let deal = app.create_deal("Acme renewal", app.org.rep.id);
    let patch = OpportunityPatch { amount: Some(Some("USD 20000".parse().unwrap())), ..OpportunityPatch::default() };
    transact(&*app.store, |tx| app::deals::update_opportunity(tx, &app.ctx(app.org.rep.id), deal.id, &patch)).unwrap();
    // The organisation's days are Seoul's: "as of" a day reads to its end there.
    transact(&*app.store, |tx| app::settings::set_time_zone(tx, &app.org.ctx, "Asia/Seoul")).unwrap();
    let session = app.sign_in("rep@pages.test").await;
    let (_, today) = app.get(&format!("/opportunities/{}", deal.id), Some(&session)).await;
    assert!(today.contains("USD 20,000.00"));
    let (status, then) = app.get(&format!("/opportunities/{}?as_of=2026-03-01", deal.id), Some(&session)).await;
    assert_eq!(status, StatusCode::OK);
    let then = unescape(&then);
    assert!(then.contains("as it was known at the end of 2026-03-01 (Asia/Seoul)"), "{then}");
    assert!(then.contains(r#"<div class="deal-amount">USD 12,000.00</div>"#));
    assert!(!then.contains("USD 20,000.00"), "the later change is not known then");
    assert!(!then.contains(r#"name="csrf_token" value="" "#) && !then.contains("deal-form"), "nothing can be edited as of a past day");
    let (_, before) = app.get(&format!("/opportunities/{}?as_of=2026-01-15", deal.id), Some(&session)).await;
    assert!(unescape(&before).contains("This deal did not exist yet at the end of 2026-01-15."));
    let (status, _) = app.get(&format!("/opportunities/{}?as_of=2026-13-01", deal.id), Some(&session)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn script_in_a_deal_name_renders_as_text() {
    let app = app();
    let evil = "<script>alert(1)</script><img src=x onerror=alert(2)>";
    let deal = app.create_deal(evil, app.org.rep.id);
    let session = app.sign_in("rep@pages.test").await;
    for path in [
        format!("/opportunities/{}", deal.id),
        "/board".to_owned(),
        "/opportunities".to_owned(),
        format!("/accounts/{}", app.org.account.id),
    ] {
        let (status, body) = app.get(&path, Some(&session)).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(!body.contains("<script>alert(1)"), "{path} renders the script");
        assert!(!body.contains("<img src=x"), "{path} renders the image");
        assert!(body.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"), "{path} shows the name as text");
    }
    let (_, page) = app.get("/board", Some(&session)).await;
    assert!(page.contains(r#"data-name="&lt;script&gt;"#), "attributes are escaped too");
}

#[tokio::test]
async fn a_form_post_without_the_csrf_token_is_refused() {
    let app = app();
    let deal = app.create_deal("Acme renewal", app.org.rep.id);
    let session = app.sign_in("rep@pages.test").await;
    for path in [format!("/opportunities/{}", deal.id), format!("/opportunities/{}/stage", deal.id), "/account/tokens".to_owned()] {
        let response = app.post_form(&path, Some(&session), &[("name", "hijacked"), ("stage_id", "2")], false).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let wrong = crate::support::Session { cookie: session.cookie.clone(), csrf: "0".repeat(64) };
    let response = app.post_form(&format!("/opportunities/{}", deal.id), Some(&wrong), &[("name", "hijacked")], true).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let stored = app.store.read().unwrap().opportunity(app.org.org(), deal.id, false).unwrap().unwrap();
    assert_eq!(stored.name, "Acme renewal");
}

#[tokio::test]
async fn a_rep_hands_a_new_case_to_field_sales_and_the_handoff_shows_on_the_deal() {
    let app = app();
    let field = app.create_user("field@pages.test", "Farah Field", Role::Rep, None, Locale::Ko);
    let deal = app.create_deal("Inbound from the webinar", app.org.rep.id);
    let session = app.sign_in("rep@pages.test").await;
    let path = format!("/opportunities/{}", deal.id);
    let (status, page) = app.get(&path, Some(&session)).await;
    assert_eq!(status, StatusCode::OK);
    let page = unescape(&page);
    assert!(page.contains("Hand over to…") && page.contains("Not handed over yet."), "{page}");
    assert!(page.contains(&format!(r#"<option value="{}">Farah Field</option>"#, field.id)), "the field rep is offered: {page}");
    let handoff = format!("{path}/handoff");
    // Without the CSRF token nothing happens; without a user the form comes back with the problem.
    let refused = app.post_form(&handoff, Some(&session), &[("to_user_id", &field.id.to_string())], false).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let empty = app.post_form(&handoff, Some(&session), &[("to_user_id", ""), ("note", "Wants a demo")], true).await;
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = unescape(&body_text(empty).await);
    assert!(body.contains(r#"id="handoff-error""#) && body.contains("Wants a demo</textarea>"), "{body}");
    // Handed over: the rep no longer sees the deal and lands on the list.
    let fields = [("to_user_id", field.id.to_string()), ("note", "Budget approved, wants a demo".to_owned())];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(key, value)| (*key, value.as_str())).collect();
    let done = app.post_form(&handoff, Some(&session), &fields, true).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&done), "/opportunities");
    assert_eq!(app.get(&path, Some(&session)).await.0, StatusCode::NOT_FOUND);
    // The admin sees the handoff with who handed it over, and the owner change in the history.
    let admin = app.sign_in("admin@pages.test").await;
    let (status, page) = app.get(&path, Some(&admin)).await;
    assert_eq!(status, StatusCode::OK);
    let page = unescape(&page);
    assert!(page.contains("Ravi Rep → Farah Field"), "{page}");
    assert!(page.contains("Budget approved, wants a demo"));
    let history = crate::support::between(&page, "History</h2>", "</section>").expect("the history");
    assert!(history.contains("Farah Field"));
    // The new owner reads it in Korean.
    let korean = app.sign_in("field@pages.test").await;
    let (status, page) = app.get(&path, Some(&korean)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(unescape(&page).contains("인계 기록"));
}

/// A deal changed many times shows its latest 50 changes and links to all of them (a deal
/// edited daily for years would otherwise make its page weigh megabytes).
#[tokio::test]
async fn a_long_history_shows_its_latest_changes_and_links_to_all() {
    let app = app();
    let deal = app.create_deal("Busy deal", app.org.rep.id);
    pipewise_test_support::transact(app.store.as_ref(), |tx| {
        for n in 0..60 {
            let when = pipewise_test_support::fixtures::at(&format!("2026-06-{:02}T{:02}:00:00Z", 1 + n / 20, n % 20));
            let patch = pipewise_core::opportunity::OpportunityPatch { next_step: Some(Some(format!("Step {n}"))), ..Default::default() };
            pipewise_app::deals::update_opportunity(tx, &app.org.by_rep(when), deal.id, &patch)?;
        }
        Ok(())
    })
    .unwrap();
    let session = app.sign_in("rep@pages.test").await;
    let (status, body) = app.get(&format!("/opportunities/{}", deal.id), Some(&session)).await;
    assert_eq!(status, StatusCode::OK);
    let timeline = body.split(r#"<ol class="timeline">"#).nth(1).unwrap().split("</ol>").next().unwrap();
    assert_eq!(timeline.matches(r#"<div class="timeline-head">"#).count(), 50, "the latest 50");
    assert!(timeline.contains("Step 59") && !timeline.contains(">Step 5<"), "newest first");
    assert!(body.contains("The latest 50 of 61 changes"), "the creation and 60 edits");
    let (status, all) = app.get(&format!("/opportunities/{}?history=all", deal.id), Some(&session)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("history=all"));
    let timeline = all.split(r#"<ol class="timeline">"#).nth(1).unwrap().split("</ol>").next().unwrap();
    assert_eq!(timeline.matches(r#"<div class="timeline-head">"#).count(), 61);
    assert!(!all.contains("The latest 50"));
}
