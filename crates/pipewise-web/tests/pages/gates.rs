//! Stage gates, the deal workspace and the pipeline designer through the web app: refusals
//! grouped by stage, overrides by role, checklist ticks with evidence, each workspace form with
//! its flag, escaped quadrant labels, the designer's rights, and a loss growing a checklist.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use pipewise_app as app;
use pipewise_core::access::Access;
use pipewise_core::gates::{CriterionKind, CriterionOrigin, NewExitCriterion};
use pipewise_core::opportunity::Opportunity;
use pipewise_core::records::NewContact;
use pipewise_core::user::{Locale, Role};
use pipewise_test_support::transact;

use crate::support::{App, Session, app, body_text, location, unescape};

/// Adds a checklist item to stage `position` of the fixture's simple pipeline.
pub fn add_checklist(app: &App, position: usize, label: &str) -> i64 {
    let new = NewExitCriterion {
        stage_id: app.org.simple.stages[position].id,
        label_en: label.to_owned(),
        label_ko: format!("{label} (ko)"),
        kind: CriterionKind::Checklist,
        origin: CriterionOrigin::Ops,
    };
    transact(&*app.store, |tx| app::gates::add_exit_criterion(tx, &app.org.ctx, new)).expect("a criterion").id
}

async fn move_json(app: &App, session: &Session, deal: &Opportunity, stage: i64, extra: &str) -> (StatusCode, serde_json::Value) {
    let request = Request::post(format!("/opportunities/{}/stage", deal.id))
        .header(header::COOKIE, &session.cookie)
        .header("X-CSRF-Token", &session.csrf)
        .header(header::ACCEPT, "application/json")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("stage_id={stage}{extra}")))
        .unwrap();
    let response = app.send(request).await;
    let status = response.status();
    (status, serde_json::from_str(&body_text(response).await).unwrap())
}

#[tokio::test]
async fn a_refused_move_lists_what_is_missing_by_stage_and_a_rep_is_offered_no_override() {
    let app = app();
    add_checklist(&app, 0, "Fits our ideal customer profile");
    add_checklist(&app, 1, "Expectations match what we offer");
    add_checklist(&app, 1, "Worth our resources");
    let deal = app.create_deal("Acme renewal", app.org.rep.id);
    let rep = app.sign_in("rep@pages.test").await;
    let connecting = app.org.simple.stages[2].id.0;
    let (status, answer) = move_json(&app, &rep, &deal, connecting, "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer["ok"], false);
    let gate = &answer["gate"];
    assert_eq!(gate["heading"], "Not moved: 3 exit criteria are not met");
    assert_eq!(gate["can_override"], false);
    let stages: Vec<&str> = gate["stages"].as_array().unwrap().iter().map(|stage| stage["stage"].as_str().unwrap()).collect();
    assert_eq!(stages, ["Prospecting", "Qualification"]);
    assert_eq!(gate["stages"][1]["items"][1]["label"], "Worth our resources");
    assert_eq!(gate["stages"][1]["items"][1]["reason"], "not checked yet");
    // Without JavaScript: the move page lists the same, and offers a rep no override.
    let response =
        app.post_form(&format!("/opportunities/{}/stage", deal.id), Some(&rep), &[("stage_id", &connecting.to_string())], true).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = unescape(&body_text(response).await);
    assert!(
        page.contains(r#"<h3 class="refusal-stage">Prospecting</h3>"#) && page.contains(r#"<h3 class="refusal-stage">Qualification</h3>"#)
    );
    assert!(!page.contains("override_reason"), "a rep is not offered an override");
    assert!(page.contains("Only a manager above the deal's owner"));
    // A rep who sends an override anyway is refused by the server.
    let (status, _) = move_json(&app, &rep, &deal, connecting, "&override_reason=trust+me").await;
    assert_ne!(status, StatusCode::OK);
    let stored = app.store.read().unwrap().opportunity(app.org.org(), deal.id, false).unwrap().unwrap();
    assert_eq!(stored.stage_id, app.org.simple.stages[0].id);
    // In Korean, the list is in Korean.
    app.create_user("kim@pages.test", "김민준", Role::Manager, None, Locale::Ko);
}

#[tokio::test]
async fn a_managers_override_persists_and_shows_on_the_timeline() {
    let app = app();
    add_checklist(&app, 0, "Fits our ideal customer profile");
    let deal = app.create_deal("Acme renewal", app.org.rep.id);
    let manager = app.sign_in("manager@pages.test").await;
    let qualification = app.org.simple.stages[1].id.0;
    let (_, refused) = move_json(&app, &manager, &deal, qualification, "").await;
    assert_eq!(refused["gate"]["can_override"], true, "the owner's manager is offered the override");
    let (status, answer) = move_json(&app, &manager, &deal, qualification, "&override_reason=CFO+confirmed+on+the+phone").await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let stored = app.store.read().unwrap().opportunity(app.org.org(), deal.id, false).unwrap().unwrap();
    assert_eq!(stored.stage_id.0, qualification);
    let (_, page) = app.get(&format!("/opportunities/{}", deal.id), Some(&manager)).await;
    let page = unescape(&page);
    let timeline = &page[page.find(r#"<ol class="timeline">"#).expect("a timeline")..];
    assert!(timeline.contains("Gate override"), "{timeline}");
    assert!(timeline.contains("Prospecting → Qualification"));
    assert!(timeline.contains("CFO confirmed on the phone"));
    assert!(timeline.contains("Fits our ideal customer profile: not checked yet"), "what was unmet is shown");
    assert!(timeline.contains("Mina Manager"));
}

#[tokio::test]
async fn a_checklist_item_is_checked_with_evidence_who_and_when() {
    let app = app();
    let criterion = add_checklist(&app, 0, "Fits our ideal customer profile");
    let deal = app.create_deal("Acme renewal", app.org.rep.id);
    let rep = app.sign_in("rep@pages.test").await;
    let (_, page) = app.get(&format!("/opportunities/{}", deal.id), Some(&rep)).await;
    assert!(unescape(&page).contains("Exit criteria of Prospecting") && page.contains("0 of 1 met"));
    let path = format!("/opportunities/{}/criteria/{criterion}/check", deal.id);
    let response = app.post_form(&path, Some(&rep), &[("evidence", "  ")], true).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = body_text(response).await;
    assert!(page.contains(&format!(r#"id="evidence-{criterion}-error">is required</p>"#)), "the problem is beside the item");
    let response = app.post_form(&path, Some(&rep), &[("evidence", "ICP review 3 March, notes in the drive")], true).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, page) = app.get(&location(&response), Some(&rep)).await;
    let page = unescape(&page);
    assert!(page.contains("1 of 1 met"));
    assert!(page.contains("Checked by Ravi Rep, 2026-06-15"), "{page}");
    assert!(page.contains("ICP review 3 March, notes in the drive"));
    // The move now passes.
    let (status, _) = move_json(&app, &rep, &deal, app.org.simple.stages[1].id.0, "").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn each_workspace_form_round_trips_and_shows_its_flag() {
    let app = app();
    let deal = app.create_deal("Acme renewal", app.org.rep.id);
    let contact = transact(&*app.store, |tx| {
        app::records::create_contact(
            tx,
            &app.org.ctx,
            NewContact { name: "Kim Staff".into(), emails: vec![], phone: None, title: None, account_id: Some(app.org.account.id) },
        )
    })
    .unwrap();
    let rep = app.sign_in("rep@pages.test").await;
    let post = |part: &'static str, fields: Vec<(&'static str, String)>| {
        let app = &app;
        let rep = &rep;
        let deal = &deal;
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(key, value)| (*key, value.as_str())).collect();
            app.post_form(&format!("/opportunities/{}/workspace/{part}", deal.id), Some(rep), &fields, true).await
        }
    };
    let s = String::from;
    // Four-box: a problem without a business issue is flagged.
    let response = post("four_box", vec![("business_issue", s("")), ("problem", s("No battle cards")), ("solution", s("Alerts"))]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, page) = app.get(&location(&response), Some(&rep)).await;
    let page = unescape(&page);
    assert!(page.contains(">No battle cards</textarea>"));
    assert!(page.contains("the story has a problem or solution but no business issue"), "the flag is shown");
    // BANT: not a fit is flagged.
    let bant = vec![
        ("budget_status", s("not_a_fit")),
        ("budget_note", s("frozen until 2027")),
        ("authority_status", s("partial")),
        ("need_status", s("confirmed")),
        ("timeframe_status", s("unknown")),
    ];
    let response = post("bant", bant).await;
    let (_, page) = app.get(&location(&response), Some(&rep)).await;
    assert!(unescape(&page).contains("BANT budget is not a fit (frozen until 2027)"));
    // Stakeholders: a bad rank is shown beside it and every other input is kept; then saved.
    let bad = vec![
        ("s0_contact", contact.id.to_string()),
        ("s0_role", s("champion")),
        ("s0_level", s("staff")),
        ("s0_rank", s("9")),
        ("s0_influence", s("2")),
        ("s0_evidence", s("easy to meet")),
    ];
    let response = post("stakeholders", bad).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = unescape(&body_text(response).await);
    assert!(page.contains(r#"id="s0_rank-error">9 is out of range (1 to 5)</p>"#), "{page}");
    assert!(page.contains(r#"value="easy to meet""#), "other inputs are kept");
    let good = vec![
        ("s0_contact", contact.id.to_string()),
        ("s0_role", s("champion")),
        ("s0_level", s("staff")),
        ("s0_rank", s("1")),
        ("s0_influence", s("2")),
        ("s0_evidence", s("easy to meet")),
    ];
    let response = post("stakeholders", good).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, page) = app.get(&location(&response), Some(&rep)).await;
    assert!(page.contains(r#"<svg viewBox="0 0 360 280" role="img""#), "the quadrant is drawn");
    assert!(unescape(&page).contains("Kim Staff: rank 1, influence 2"));
    // Competition: no differentiator is flagged; an upper-right criterion is proposed.
    let competitors = vec![
        ("c0_name", s("Rival")),
        ("c0_key_person", s("CIO")),
        ("c0_k0_label", s("Price")),
        ("c0_k0_importance", s("5")),
        ("c0_k0_ours", s("2")),
        ("c0_k0_theirs", s("4")),
    ];
    let response = post("competitors", competitors).await;
    let (_, page) = app.get(&location(&response), Some(&rep)).await;
    assert!(unescape(&page).contains("against Rival, none of the 1 criteria is both important"));
    // Close plan: a vague and a late item are flagged.
    let plan = vec![
        ("p0_title", s("Decision")),
        ("p0_side", s("customer")),
        ("p0_owner", s("CFO")),
        ("p0_target", s("2026-06-01")),
        ("p0_step", s("signing")),
    ];
    let response = post("close_plan", plan).await;
    let (_, page) = app.get(&location(&response), Some(&rep)).await;
    let page = unescape(&page);
    assert!(page.contains("close-plan item 1 \"Decision\" says nothing concrete"), "{page}");
    assert!(page.contains("was due 2026-06-01 and is 14 days late"));
    // Approval: a missed deadline slips the approval.
    let approval = vec![
        ("real_approver", s("Park CFO")),
        ("meeting_needed", s("yes")),
        ("meeting_body", s("board")),
        ("meeting_date", s("2026-06-20")),
        ("submission_deadline", s("2026-06-10")),
        ("drafter_passed", s("no")),
    ];
    let response = post("approval", approval).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, page) = app.get(&location(&response), Some(&rep)).await;
    let page = unescape(&page);
    assert!(page.contains("the submission deadline 2026-06-10 for the board meeting on 2026-06-20 was missed"), "{page}");
    assert!(page.contains("has never passed an approval of this amount"));
    assert!(page.contains(r#"value="Park CFO""#));
}

#[tokio::test]
async fn the_approval_form_keeps_a_meeting_calendar_and_a_missed_deadline_slips_along_it() {
    let app = app();
    // Today is 2026-06-15; the deal closes 2026-12-15.
    let deal = app.create_deal("Acme board deal", app.org.rep.id);
    let rep = app.sign_in("rep@pages.test").await;
    let path = format!("/opportunities/{}/workspace/approval", deal.id);
    let planned =
        [("meeting_needed", "yes"), ("meeting_body", "board"), ("meeting_date", "2026-06-20"), ("submission_deadline", "2026-06-10")];
    // A bad calendar date is shown beside its row; every other input is kept.
    let mut bad = planned.to_vec();
    bad.extend([("real_approver", "Park CFO"), ("m0_date", "2026-12-18"), ("m1_date", "2027-01-40")]);
    let response = app.post_form(&path, Some(&rep), &bad, true).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = unescape(&body_text(response).await);
    assert!(page.contains(r#"id="m1_date-error""#), "{page}");
    assert!(page.contains(r#"value="2027-01-40""#) && page.contains(r#"value="2026-12-18""#) && page.contains(r#"value="Park CFO""#));
    // Two meetings saved (out of order): June's deadline is missed, so the approval slips to the
    // next stored meeting, December 18 (papers due ten days before), after the close date.
    let mut good = planned.to_vec();
    good.extend([("m0_date", "2027-01-20"), ("m1_date", "2026-12-18"), ("m2_date", "")]);
    let response = app.post_form(&path, Some(&rep), &good, true).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, page) = app.get(&location(&response), Some(&rep)).await;
    let page = unescape(&page);
    assert!(page.contains("approval slips to the next board meeting on 2026-12-18 (papers due 2026-12-08)"), "the slip is flagged: {page}");
    assert!(page.contains("the close date 2026-12-15 is 3 days before the earliest board meeting that can approve the deal (2026-12-18)"));
    // The calendar comes back sorted, with each meeting's papers-due day.
    let first = page.find(r#"name="m0_date" value="2026-12-18""#).expect("December first");
    let second = page.find(r#"name="m1_date" value="2027-01-20""#).expect("January second");
    assert!(first < second);
    assert!(page.contains("<td>2026-12-08</td>") && page.contains("<td>2027-01-10</td>"));
    let stored = transact(&*app.store, |tx| {
        let access = app::access::access_for(tx, app.org.ctx.org, Some(app.org.rep.id))?;
        app::workspace::workspace_for(tx, app.org.ctx.org, &access, deal.id)
    })
    .unwrap()
    .expect("the deal");
    assert_eq!(stored.approval.meeting_calendar, ["2026-12-18".parse().unwrap(), "2027-01-20".parse::<pipewise_core::Date>().unwrap()]);
}

#[tokio::test]
async fn quadrant_labels_are_escaped() {
    let app = app();
    let deal = app.create_deal("Acme renewal", app.org.rep.id);
    let rep = app.sign_in("rep@pages.test").await;
    let fields = [
        ("c0_name", "<b>Rival</b>"),
        ("c0_k0_label", "<script>alert(1)</script>"),
        ("c0_k0_importance", "5"),
        ("c0_k0_ours", "5"),
        ("c0_k0_theirs", "1"),
    ];
    let response = app.post_form(&format!("/opportunities/{}/workspace/competitors", deal.id), Some(&rep), &fields, true).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, page) = app.get(&location(&response), Some(&rep)).await;
    assert!(!page.contains("<script>alert(1)</script>") && !page.contains("<b>Rival</b>"), "nothing is injected");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"));
    assert!(page.contains(r#"<g class="q-point q-upper_right">"#), "the point is drawn in its cell");
    assert!(unescape(&page).contains("Propose these as the selection criteria"));
}

#[tokio::test]
async fn only_ops_and_admins_design_pipelines() {
    let app = app();
    let ops_user = app.create_user("ops@pages.test", "Oscar Ops", Role::Ops, None, Locale::En);
    let _ = ops_user;
    for (email, allowed) in [("rep@pages.test", false), ("manager@pages.test", false), ("ops@pages.test", true), ("admin@pages.test", true)]
    {
        let session = app.sign_in(email).await;
        let (status, _) = app.get("/admin/pipelines", Some(&session)).await;
        assert_eq!(status == StatusCode::OK, allowed, "{email} GET /admin/pipelines: {status}");
        let (status, _) = app.get(&format!("/admin/pipelines/{}", app.org.simple.id), Some(&session)).await;
        assert_eq!(status == StatusCode::OK, allowed, "{email} GET the pipeline: {status}");
        let response =
            app.post_form("/admin/pipelines", Some(&session), &[("template", "b2b_the_model"), ("name", "Enterprise")], true).await;
        if allowed {
            assert_eq!(response.status(), StatusCode::SEE_OTHER, "{email} creates");
        } else {
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{email} may not create");
        }
    }
    let ops = app.sign_in("ops@pages.test").await;
    let pipelines = app.store.read().unwrap().pipelines(app.org.org()).unwrap();
    let enterprise = pipelines.iter().find(|pipeline| pipeline.name == "Enterprise").expect("created from the template");
    let (_, page) = app.get(&format!("/admin/pipelines/{}", enterprise.id), Some(&ops)).await;
    let page = unescape(&page);
    assert!(page.contains("BANT captured: budget, authority, need and timeframe"), "the template's criteria are listed");
    // A derived criterion with a broken predicate shows the parse error beside it, text kept.
    let stage = enterprise.stages[1].id.to_string();
    let fields = [("stage_id", stage.as_str()), ("label_en", "Executive met"), ("kind", "derived"), ("predicate", "stakeholder(4, boss)")];
    let response = app.post_form(&format!("/admin/pipelines/{}/criteria", enterprise.id), Some(&ops), &fields, true).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = unescape(&body_text(response).await);
    assert!(page.contains(r#"id="predicate-error">"boss" is not one of executive, department_head, staff</p>"#), "{page}");
    assert!(page.contains(r#"value="stakeholder(4, boss)""#));
    let fields =
        [("stage_id", stage.as_str()), ("label_en", "Executive met"), ("kind", "derived"), ("predicate", "stakeholder(4, executive)")];
    let response = app.post_form(&format!("/admin/pipelines/{}/criteria", enterprise.id), Some(&ops), &fields, true).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, page) = app.get(&format!("/admin/pipelines/{}", enterprise.id), Some(&ops)).await;
    assert!(page.contains("stakeholder(4, executive)"));
}

#[tokio::test]
async fn a_loss_grows_the_checklist_of_the_stage_it_was_lost_from() {
    let app = app();
    let deal = app.create_deal("Acme renewal", app.org.rep.id);
    let rep = app.sign_in("rep@pages.test").await;
    let (_, board) = app.get(&format!("/board?pipeline={}", app.org.simple.id), Some(&rep)).await;
    assert!(board.contains(r#"data-can-grow="""#), "a rep is not offered to grow the checklist");
    let manager = app.sign_in("manager@pages.test").await;
    let (_, board) = app.get(&format!("/board?pipeline={}", app.org.simple.id), Some(&manager)).await;
    assert!(board.contains(r#"data-can-grow="1""#));
    let lost = app.org.simple.stages[5].id.0;
    let (status, answer) = move_json(
        &app,
        &manager,
        &deal,
        lost,
        "&close_reason=No+budget&add_criterion=1&criterion_label_en=Budget+owner+confirmed&criterion_label_ko=%EC%98%88%EC%82%B0",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(answer["message"].as_str().unwrap().contains("The checklist item was added to the gate of Prospecting."));
    let criteria =
        app::gates::exit_criteria_for(&mut app::Tx::new(app.store.read().unwrap()), app.org.org(), &Access::System, app.org.simple.id)
            .unwrap();
    let grown = criteria.iter().find(|criterion| criterion.label_en == "Budget owner confirmed").expect("the item was added");
    assert_eq!(grown.stage_id, app.org.simple.stages[0].id);
    assert_eq!(grown.origin, CriterionOrigin::LossReview { opportunity_id: Some(deal.id) });
    // The next deal's gate shows it.
    let next = app.create_deal("Globex", app.org.rep.id);
    let (_, page) = app.get(&format!("/opportunities/{}", next.id), Some(&rep)).await;
    let page = unescape(&page);
    assert!(page.contains("Budget owner confirmed") && page.contains("from a loss review"));
}
