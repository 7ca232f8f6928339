//! Stage gates, the workspace and the pipeline designer through the API: the refusal body, the
//! override, checks, the workspace round trip, and who may design pipelines.

use axum::http::Method;
use serde_json::{Value, json};

use crate::harness::Shared;

/// A B2B pipeline with its criteria (made by ops) and a rep's deal in its stage 1; returns the
/// pipeline's JSON and the deal's id.
async fn b2b_deal(app: &Shared) -> (Value, i64) {
    let pipeline = app.post("/api/v1/pipelines/from-template", "ops", json!({ "template": "b2b_the_model" })).await.expect(201).body;
    let deal = app
        .post(
            "/api/v1/opportunities",
            "rep",
            json!({ "name": "Hanbit Logistics", "owner_id": app.org.rep.id.0, "pipeline_id": pipeline["id"], "close_date": "2026-12-15" }),
        )
        .await
        .expect(201);
    (pipeline, deal.id())
}

fn stage(pipeline: &Value, number: usize) -> i64 {
    pipeline["stages"][number - 1]["id"].as_i64().unwrap()
}

pub async fn a_refused_move_lists_what_is_missing_and_a_manager_overrides(app: Shared) {
    let (pipeline, id) = b2b_deal(&app).await;
    let path = format!("/api/v1/opportunities/{id}");
    let refused = app.patch(&path, "rep", json!({ "stage_id": stage(&pipeline, 3) })).await.expect(409);
    assert_eq!(refused.content_type, "application/problem+json");
    assert_eq!(refused.body["code"], "gate_refused");
    assert_eq!(
        (refused.body["from_stage_id"].as_i64(), refused.body["to_stage_id"].as_i64()),
        (Some(stage(&pipeline, 1)), Some(stage(&pipeline, 3)))
    );
    let missing: Vec<(i64, Vec<String>)> = refused.body["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|stage| {
            let labels = stage["unmet"].as_array().unwrap().iter().map(|unmet| unmet["label_en"].as_str().unwrap().to_owned()).collect();
            (stage["stage_id"].as_i64().unwrap(), labels)
        })
        .collect();
    assert_eq!(
        missing,
        [
            (
                stage(&pipeline, 1),
                vec![
                    "A business issue our product or service can solve exists".to_owned(),
                    "A decision is needed within the team's average sales cycle".to_owned()
                ]
            ),
            (
                stage(&pipeline, 2),
                vec![
                    "BANT captured: budget, authority, need and timeframe".to_owned(),
                    "Detailed requirements confirmed".to_owned(),
                    "Verification by demo or prototype started".to_owned(),
                    "Comparison with competitors' products started".to_owned()
                ]
            ),
        ]
    );
    let first = &refused.body["missing"][0]["unmet"][0];
    assert_eq!(first["reason_en"], "the four-box business issue is empty; the four-box solution is empty");
    assert!(first["label_ko"].as_str().unwrap().contains("비즈니스 과제"));
    // A rep cannot override; a manager in the owner's line can, and the override shows.
    let reason = "Customer's CEO asked for a fast track";
    let forward = json!({ "stage_id": stage(&pipeline, 2), "gate_override_reason": reason });
    let forbidden = app.patch(&path, "rep", forward.clone()).await.expect(403);
    assert_eq!(forbidden.body["code"], "forbidden");
    let moved = app.patch(&path, "manager", forward).await.expect(200);
    assert_eq!(moved.body["stage_id"].as_i64(), Some(stage(&pipeline, 2)));
    let gates = app.get(&format!("{path}/gates"), "rep").await.expect(200).body;
    assert_eq!(gates["overrides"][0]["reason"], reason);
    assert_eq!(gates["overrides"][0]["by"].as_i64(), Some(app.org.manager.id.0));
    assert_eq!(gates["overrides"][0]["unmet"].as_array().unwrap().len(), 2);
    assert!(gates["sql_at"].is_string(), "passing gate 1 marks the deal SQL: {gates}");
    let history = app.get(&format!("{path}/history"), "rep").await.expect(200).body;
    let marker = history["data"].as_array().unwrap().iter().find(|event| event["field"] == "gate_override").expect("a marker");
    assert_eq!(marker["new"], reason);
    // Moving back is allowed.
    app.patch(&path, "rep", json!({ "stage_id": stage(&pipeline, 1) })).await.expect(200);
    // An unknown override field is still refused like any unknown field.
    app.patch(&path, "rep", json!({ "stage_id": stage(&pipeline, 2), "override": "please" })).await.expect(422);
}

pub async fn checklist_items_are_ticked_and_unticked(app: Shared) {
    let (pipeline, id) = b2b_deal(&app).await;
    let criteria = app.get(&format!("/api/v1/pipelines/{}/criteria", pipeline["id"]), "viewer").await.expect(200).body;
    let criteria = criteria["data"].as_array().unwrap();
    assert_eq!(criteria.len(), 16);
    let requirements = criteria.iter().find(|criterion| criterion["label_en"] == "Detailed requirements confirmed").unwrap();
    assert_eq!((requirements["kind"].clone(), requirements["origin"].clone()), (json!("checklist"), json!("template")));
    let checks = format!("/api/v1/opportunities/{id}/checks");
    let tick = json!({ "criterion_id": requirements["id"], "evidence": "RFP reviewed with IT on 3 March" });
    app.post(&checks, "viewer", tick.clone()).await.expect(403);
    app.post(&checks, "outsider", tick.clone()).await.expect(404);
    let missing_evidence = app.post(&checks, "rep", json!({ "criterion_id": requirements["id"] })).await.expect(422);
    assert_eq!(missing_evidence.body["errors"][0]["field"], "evidence");
    let gates = app.post(&checks, "rep", tick).await.expect(200).body;
    let stage_2 = gates["stages"].as_array().unwrap().iter().find(|gate| gate["stage_id"].as_i64() == Some(stage(&pipeline, 2))).unwrap();
    let item = stage_2["criteria"].as_array().unwrap().iter().find(|item| item["criterion"]["id"] == requirements["id"]).unwrap();
    assert_eq!((item["met"].clone(), item["evidence"].clone()), (json!(true), json!("RFP reviewed with IT on 3 March")));
    assert_eq!((stage_2["met"].as_i64(), stage_2["total"].as_i64()), (Some(1), Some(4)));
    let gates = app.post(&checks, "rep", json!({ "criterion_id": requirements["id"], "checked": false })).await.expect(200).body;
    let stage_2 = gates["stages"].as_array().unwrap().iter().find(|gate| gate["stage_id"].as_i64() == Some(stage(&pipeline, 2))).unwrap();
    assert_eq!(stage_2["met"].as_i64(), Some(0));
    // Growing the checklist from a loss: ops add an item to the gate the deal was lost from.
    let path = format!("/api/v1/opportunities/{id}");
    app.patch(&path, "rep", json!({ "stage_id": stage(&pipeline, 7), "close_reason": "Chose a competitor" })).await.expect(200);
    let lesson = json!({ "label_en": "Champion confirmed in writing", "label_ko": "챔피언 서면 확인" });
    app.post(&format!("{path}/loss-review"), "rep", lesson.clone()).await.expect(403);
    let added = app.post(&format!("{path}/loss-review"), "ops", lesson).await.expect(201).body;
    assert_eq!((added["stage_id"].as_i64(), added["origin"].clone()), (Some(stage(&pipeline, 1)), json!("loss_review")));
    assert_eq!(added["origin_opportunity_id"].as_i64(), Some(id));
    // Archiving a criterion takes it off its gate.
    let archived = format!("/api/v1/criteria/{}", added["id"]);
    app.call(Method::DELETE, &archived, "manager", None).await.expect(403);
    app.call(Method::DELETE, &archived, "ops", None).await.expect(204);
    app.call(Method::DELETE, &archived, "ops", None).await.expect(404);
}

pub async fn the_workspace_round_trips_and_is_kept_as_of(app: Shared) {
    let (_, id) = b2b_deal(&app).await;
    let path = format!("/api/v1/opportunities/{id}/workspace");
    let empty = app.get(&path, "rep").await.expect(200).body;
    assert_eq!(empty["bant"]["budget"], json!({ "status": "unknown", "note": "" }));
    assert_eq!(empty["stakeholders"], json!([]));
    let before = app.now();
    let bant = json!({
        "budget": { "status": "confirmed", "note": "KRW 80M in the 2027 plan" },
        "authority": { "status": "partial", "note": "" },
        "need": { "status": "confirmed", "note": "Fleet costs up 20%" },
        "timeframe": { "status": "unknown", "note": "" },
    });
    let written = app.call(Method::PUT, &format!("{path}/bant"), "rep", Some(bant.clone())).await.expect(200).body;
    assert_eq!(written["bant"], bant);
    assert_eq!(app.get(&format!("{path}/bant"), "manager").await.expect(200).body, bant);
    // Several parts at once; bad values are 422 with every field named.
    let plan = json!({
        "items": [{ "side": "customer", "owner": "Kim", "title": "Board approval", "target_date": "2026-11-30", "done_on": null, "step": "signing" }],
        "first_shared_on": "2026-03-02", "agreed_on": null,
    });
    let four_box = json!({ "business_issue": "", "problem": "Routes planned by hand", "solution": "", "benefit_quantitative": "", "benefit_qualitative": "" });
    let both = app.call(Method::PUT, &path, "rep", Some(json!({ "close_plan": plan, "four_box": four_box }))).await.expect(200).body;
    assert_eq!((both["close_plan"].clone(), both["four_box"].clone(), both["bant"].clone()), (plan, four_box, bant.clone()));
    let bad = app
        .call(
            Method::PUT,
            &format!("{path}/stakeholders"),
            "rep",
            Some(json!([{ "contact_id": 1, "name": "Kim", "rank": 7, "influence": "high" }])),
        )
        .await
        .expect(422)
        .body;
    let fields: Vec<&str> = bad["errors"].as_array().unwrap().iter().map(|error| error["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["stakeholders.influence"]);
    app.call(Method::PUT, &format!("{path}/bant"), "viewer", Some(bant.clone())).await.expect(403);
    app.get(&path, "outsider").await.expect(404);
    app.get(&format!("{path}/nonsense"), "rep").await.expect(400);
    // As of before the first edit: empty; the flags see the story without a business issue.
    let then = app.get(&format!("{path}?as_of={}", before), "rep").await.expect(200).body;
    assert_eq!(then, empty);
    let flags = app.get(&format!("{path}/flags?today=2026-03-05"), "rep").await.expect(200).body;
    let codes: Vec<&str> = flags["data"].as_array().unwrap().iter().map(|flag| flag["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"four_box.no_business_issue"), "{codes:?}");
    // The approval part carries the body's meeting calendar; a missed deadline slips along it
    // and a close date (2026-12-15) before the meeting it slips to is flagged.
    let approval = json!({
        "meeting_needed": true,
        "meeting": { "body": "board", "date": "2026-11-17", "submission_deadline": "2026-11-10", "submitted_on": null },
        "meeting_calendar": ["2027-01-19", "2026-12-15", "2026-12-15", "2026-12-22"],
    });
    let written = app.call(Method::PUT, &format!("{path}/approval"), "rep", Some(approval)).await.expect(200).body;
    assert_eq!(written["approval"]["meeting_calendar"], json!(["2026-12-15", "2026-12-22", "2027-01-19"]));
    let flags = app.get(&format!("{path}/flags?today=2026-12-09"), "rep").await.expect(200).body;
    let approval_flags: Vec<&Value> =
        flags["data"].as_array().unwrap().iter().filter(|flag| flag["code"].as_str().unwrap().starts_with("approval.")).collect();
    let codes: Vec<&str> = approval_flags.iter().map(|flag| flag["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["approval.deadline_missed", "approval.close_date_before_meeting"]);
    assert_eq!(approval_flags[0]["figures"]["next_meeting"], "2026-12-22");
    let bad = app
        .call(Method::PUT, &format!("{path}/approval"), "rep", Some(json!({ "meeting_calendar": ["2026-02-30"] })))
        .await
        .expect(422)
        .body;
    assert_eq!(bad["errors"][0]["field"], "approval.meeting_calendar");
}

pub async fn only_ops_and_admins_design_pipelines(app: Shared) {
    for (who, status) in [("admin", 201), ("ops", 201), ("manager", 403), ("rep", 403), ("viewer", 403)] {
        let reply = app.post("/api/v1/pipelines/from-template", who, json!({ "template": "simple" })).await.expect(status);
        if status != 201 {
            continue;
        }
        let pipeline = reply.body;
        assert_eq!(pipeline["name"], "Simple");
        let id = pipeline["id"].as_i64().unwrap();
        let criteria = app.get(&format!("/api/v1/pipelines/{id}/criteria"), "rep").await.expect(200).body;
        assert_eq!(criteria["data"].as_array().unwrap().len(), 10);
    }
    let pipeline = app.post("/api/v1/pipelines/from-template", "ops", json!({ "template": "b2b_the_model" })).await.expect(201).body;
    let id = pipeline["id"].as_i64().unwrap();
    let stage_2 = stage(&pipeline, 2);
    let new_stage = json!({ "name_en": "2b Technical validation", "name_ko": "2b 기술 검증", "win_probability": "25", "forecast_category": "pipeline" });
    let criterion = json!({ "stage_id": stage_2, "label_en": "Security review passed", "kind": "checklist" });
    let derived =
        json!({ "stage_id": stage_2, "label_en": "An executive sponsor", "kind": "derived", "argument": "stakeholder(4, executive)" });
    for who in ["manager", "rep", "viewer"] {
        app.patch(&format!("/api/v1/pipelines/{id}"), who, json!({ "name": "Mine" })).await.expect(403);
        app.post(&format!("/api/v1/pipelines/{id}/stages"), who, new_stage.clone()).await.expect(403);
        app.patch(&format!("/api/v1/stages/{stage_2}"), who, json!({ "rotting_days": 60 })).await.expect(403);
        app.post(&format!("/api/v1/stages/{stage_2}/archive"), who, json!({})).await.expect(403);
        app.post(&format!("/api/v1/pipelines/{id}/criteria"), who, criterion.clone()).await.expect(403);
    }
    let renamed = app.patch(&format!("/api/v1/pipelines/{id}"), "admin", json!({ "name": "B2B Korea" })).await.expect(200).body;
    assert_eq!(renamed["name"], "B2B Korea");
    let with_stage = app.post(&format!("/api/v1/pipelines/{id}/stages"), "ops", new_stage).await.expect(201).body;
    let names: Vec<&str> = with_stage["stages"].as_array().unwrap().iter().map(|stage| stage["name_en"].as_str().unwrap()).collect();
    assert_eq!(names[4..], ["5 Approval", "2b Technical validation", "Closed won", "Closed lost"]);
    let mut order: Vec<i64> = with_stage["stages"].as_array().unwrap().iter().map(|stage| stage["id"].as_i64().unwrap()).collect();
    let added = order.remove(5);
    order.insert(2, added);
    let reordered = app
        .call(Method::PUT, &format!("/api/v1/pipelines/{id}/stage-order"), "ops", Some(json!({ "stage_ids": order })))
        .await
        .expect(200)
        .body;
    assert_eq!(reordered["stages"][2]["name_ko"], "2b 기술 검증");
    let edited = app
        .patch(&format!("/api/v1/stages/{stage_2}"), "ops", json!({ "rotting_days": null, "name_ko": "2 과제 인식" }))
        .await
        .expect(200)
        .body;
    assert_eq!((edited["rotting_days"].clone(), edited["name_ko"].clone()), (json!(null), json!("2 과제 인식")));
    let added = app.post(&format!("/api/v1/pipelines/{id}/criteria"), "ops", criterion).await.expect(201).body;
    assert_eq!((added["label_ko"].clone(), added["origin"].clone()), (json!("Security review passed"), json!("ops")));
    let derived = app.post(&format!("/api/v1/pipelines/{id}/criteria"), "ops", derived).await.expect(201).body;
    assert_eq!(derived["argument"], "stakeholder(4, executive)");
    let bad = app
        .post(
            &format!("/api/v1/pipelines/{id}/criteria"),
            "ops",
            json!({ "stage_id": stage_2, "label_en": "x", "kind": "derived", "argument": "stakeholder(9)" }),
        )
        .await
        .expect(422);
    assert!(bad.body["detail"].as_str().unwrap().contains("influence 9 is out of range"), "{}", bad.body);
    let archived = app.post(&format!("/api/v1/stages/{stage_2}/archive"), "ops", json!({})).await.expect(200).body;
    assert!(archived["archived_at"].is_string());
    app.post(&format!("/api/v1/stages/{}/archive", stage(&pipeline, 1)), "ops", json!({})).await.expect(422);
    // The team's decision window.
    let team = app.post("/api/v1/teams", "admin", json!({ "name": "Field sales" })).await.expect(201).id();
    let cycle = format!("/api/v1/teams/{team}/average-cycle");
    app.call(Method::PUT, &cycle, "manager", Some(json!({ "average_cycle_days": 60 }))).await.expect(403);
    app.call(Method::PUT, &cycle, "ops", Some(json!({ "average_cycle_days": 0 }))).await.expect(422);
    app.call(Method::PUT, &cycle, "ops", Some(json!({ "average_cycle_days": 60 }))).await.expect(204);
    app.call(Method::PUT, &cycle, "ops", Some(json!({ "average_cycle_days": null }))).await.expect(204);
}

/// Issue 16, point 10: a checklist item grown from a loss names the lost deal only to those who
/// may see that deal; to everyone else it is a loss-review item of no deal they can name.
pub async fn a_loss_review_names_its_deal_only_to_those_who_see_it(app: Shared) {
    let (pipeline, id) = b2b_deal(&app).await;
    let path = format!("/api/v1/opportunities/{id}");
    app.patch(&path, "rep", json!({ "stage_id": stage(&pipeline, 7), "close_reason": "Chose a competitor" })).await.expect(200);
    let lesson = json!({ "label_en": "Champion confirmed in writing" });
    let added = app.post(&format!("{path}/loss-review"), "ops", lesson).await.expect(201).body;
    assert_eq!(added["origin_opportunity_id"].as_i64(), Some(id));
    let criteria = format!("/api/v1/pipelines/{}/criteria", pipeline["id"]);
    let listed = |body: &Value| -> Value {
        body["data"].as_array().unwrap().iter().find(|criterion| criterion["id"] == added["id"]).expect("the lesson is listed").clone()
    };
    for who in ["rep", "manager", "ops", "admin", "viewer"] {
        let lesson = listed(&app.get(&criteria, who).await.expect(200).body);
        assert_eq!((lesson["origin"].clone(), lesson["origin_opportunity_id"].as_i64()), (json!("loss_review"), Some(id)), "{who}");
    }
    app.get(&path, "outsider").await.expect(404);
    let lesson = listed(&app.get(&criteria, "outsider").await.expect(200).body);
    assert_eq!((lesson["origin"].clone(), lesson["origin_opportunity_id"].clone()), (json!("loss_review"), json!(null)));
    // The outsider's own deal in the pipeline shows the lesson on its stage-1 gate, nameless too.
    let body = json!({ "name": "Outsider's deal", "owner_id": app.outsider.0, "pipeline_id": pipeline["id"], "close_date": "2026-12-15" });
    let theirs = app.post("/api/v1/opportunities", "outsider", body).await.expect(201).id();
    let gates = app.get(&format!("/api/v1/opportunities/{theirs}/gates"), "outsider").await.expect(200).body;
    let items: Vec<&Value> = gates["stages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|gate| gate["criteria"].as_array().unwrap())
        .map(|item| &item["criterion"])
        .collect();
    let lesson = items.iter().find(|criterion| criterion["id"] == added["id"]).expect("the lesson is on the gate");
    assert_eq!((lesson["origin"].clone(), lesson["origin_opportunity_id"].clone()), (json!("loss_review"), json!(null)));
    let mine = app.get(&format!("/api/v1/opportunities/{theirs}/gates"), "admin").await.expect(200).body;
    let named = mine["stages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|gate| gate["criteria"].as_array().unwrap())
        .any(|item| item["criterion"]["id"] == added["id"] && item["criterion"]["origin_opportunity_id"].as_i64() == Some(id));
    assert!(named, "an admin sees the lost deal: {mine}");
}
